/*
 * example.h - what the example programs share: finding MovieLens, reading
 * the command line, reporting a failed call.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Not part of the library: a few helpers so that each example shows only
 * what it is about.
 */
#ifndef TFRSC_EXAMPLE_H
#define TFRSC_EXAMPLE_H

#include <stdio.h>

#include "tfrsc.h"

/* The MovieLens 100K directory: arg (--data) if given, else $TFRSC_DATA,
 * else data/ml-100k, else ../shared/data/ml-100k if it holds u.data; NULL if
 * none.  An explicit --data or TFRSC_DATA is taken as given. */
const char *ex_find_data(const char *arg);
/* 1 if dir holds a readable u.data. */
int ex_has_movielens(const char *dir);
/* Tells on stderr how to get MovieLens 100K. */
void ex_explain_download(void);
/* Decimal digits only, value <= max: 0, else -1. */
int ex_parse_u64(const char *s, unsigned long long max, unsigned long long *v);
/* argv[*i] is "--name value" or "--name=value": the value (advancing *i
 * past it), else NULL.  A missing value exits with status 2. */
const char *ex_option_value(int argc, char **argv, int *i, const char *name);
/* Reports an invalid option value and exits with status 2. */
void ex_bad_value(const char *prog, const char *name, const char *value);
/* Prints "error: call: status: detail" on stderr; returns 1 (the exit
 * status). */
int ex_fail(const char *call, int status);
/* Runs a library call; if it fails, reports it with ex_fail, sets the
 * caller's `int rc` to 1 and jumps to the caller's `out:` label (where the
 * caller frees what it holds). */
#define EX_CHECK(call)                       \
    do {                                     \
        int st_ = (call);                    \
        if (st_ != TFRS_OK) {                \
            rc = ex_fail(#call, st_);        \
            goto out;                        \
        }                                    \
    } while (0)
/* A configuration shipped with the examples: examples/<name> when run from
 * the top of the source tree, else <name> beside the program (prog is
 * argv[0]; the build copies it there), built in buf. */
const char *ex_find_config(const char *prog, const char *name, char *buf, size_t size);
/* The whole file at path, malloc'ed and NUL-terminated (*len bytes before
 * the NUL), or NULL. */
char *ex_read_text(const char *path, size_t *len);
/* Shortest decimal text that reads back as x (Python's repr). */
void ex_format_double(char *buf, size_t size, double x);
/* The shortest decimal text that reads back as the float x (numpy float32's
 * repr). */
void ex_format_float(char *buf, size_t size, float x);
/* The tutorial examples' Keras-like lines at the end of an epoch:
 *   Epoch 1/3
 *   10/10 - root_mean_squared_error: 1.1234 - loss: 1.2620 - ... - 123ms */
void ex_print_epoch(const tfrs_progress *p);
/* The evaluate dictionary, as the TFRS tutorial prints it. */
void ex_print_metrics(const tfrs_metrics *m);

#endif /* TFRSC_EXAMPLE_H */
