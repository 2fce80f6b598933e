/*
 * bench.h - helpers shared by the benchmark programs in bench/.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every benchmark prints one JSON object per measurement on stdout:
 *
 *   {"bench":"train","name":"fit","params":{"batch":8192,"threads":1},
 *    "repeats":5,"median":412345.6,"p99":...,"min":...,"max":...,
 *    "unit":"examples/s", ...extra fields}
 *
 * and progress or diagnostics on stderr, so that `bench-x | jq` works.
 */
#ifndef TFRS_BENCH_H
#define TFRS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tfrsc.h"

/* Monotonic wall clock in seconds. */
double bench_now(void);

/* Sorts x[0..n) in place and returns the q-quantile (0 <= q <= 1) by the
 * nearest-rank method: the smallest value with at least q*n values <= it.
 * q = 0.5 is the median: the mean of the two middle values for even n. */
double bench_quantile(double *x, size_t n, double q);

/* Summary of n samples (sorted in place). */
typedef struct bench_stats {
    size_t n;
    double median, p99, min, max, mean;
} bench_stats;
bench_stats bench_summarize(double *x, size_t n);

/* Current resident set size and peak resident set size in bytes (from
 * /proc/self/status VmRSS and getrusage ru_maxrss). 0 if unknown. */
size_t bench_rss_bytes(void);
size_t bench_peak_rss_bytes(void);

/* MovieLens 100K directory as the example finds it: `arg` (--data), then
 * $TFRSC_DATA, then data/ml-100k, then ../shared/data/ml-100k.  NULL if
 * none has a u.data. */
const char *bench_find_data(const char *arg);
/* 1 if dir/u.data can be opened. */
int bench_has_movielens(const char *dir);

/* Dies with a message naming the failed call. */
void bench_check(int status, const char *call, const char *file, int line);
#define BENCH_CHECK(call) bench_check((call), #call, __FILE__, __LINE__)

/* ---- JSON lines ------------------------------------------------------- */

/* A line is built piecewise:
 *   bench_json_begin(&j, "train", "fit");
 *   bench_json_param_int(&j, "batch", 8192); ...
 *   bench_json_stats(&j, &stats, "examples/s");
 *   bench_json_num(&j, "gflops", 81.2);
 *   bench_json_end(&j);
 * Params go into a nested "params" object, which is closed by the first
 * non-param call. */
typedef struct bench_json {
    char   buf[4096];
    size_t len;
    int    in_params;
    int    has_params;
} bench_json;

void bench_json_begin(bench_json *j, const char *bench, const char *name);
void bench_json_param_int(bench_json *j, const char *key, long long v);
void bench_json_param_str(bench_json *j, const char *key, const char *v);
/* repeats, median, min, max and unit; p99 too when with_p99 (latencies). */
void bench_json_stats(bench_json *j, const bench_stats *s, const char *unit, int with_p99);
void bench_json_num(bench_json *j, const char *key, double v);
void bench_json_int(bench_json *j, const char *key, long long v);
void bench_json_str(bench_json *j, const char *key, const char *v);
void bench_json_bool(bench_json *j, const char *key, int v);
/* Prints the line to stdout and flushes. */
void bench_json_end(bench_json *j);

/* ---- the tutorial ----------------------------------------------------- */

/* The tutorial's data: all ratings shuffled with seed 42, the first 80,000
 * rows as train and the next 20,000 as test, and the vocabularies of user
 * ids and movie titles adapted on all ratings. */
typedef struct bench_tutorial {
    tfrs_dataset *ratings, *train, *test;
    tfrs_vocab   *users, *titles;
} bench_tutorial;

#define BENCH_SPLIT_SEED 42
#define BENCH_TRAIN_ROWS 80000
#define BENCH_TEST_ROWS  20000

/* Loads `dir` (dies on failure).  train_rows / test_rows: 0 for the
 * tutorial's 80,000 / 20,000. */
void bench_tutorial_load(bench_tutorial *t, const char *dir, size_t train_rows,
                         size_t test_rows);
void bench_tutorial_free(bench_tutorial *t);

/* The tutorial's model: 32-d embeddings of user_id and movie_title,
 * Dense(256, relu), Dense(64, relu), Dense(1); MSE + RMSE; Adagrad(0.1);
 * label "user_rating".  Built from `seed`. */
tfrs_model *bench_tutorial_model(const tfrs_vocab *users, const tfrs_vocab *titles,
                                 uint64_t seed);

/* FLOPs of the tutorial's dense layers per example: forward
 * 2 (64*256 + 256*64 + 64*1) = 65,664; training adds dX and dW: 3x. */
#define BENCH_FWD_FLOPS   65664.0
#define BENCH_TRAIN_FLOPS 196992.0

/* ---- command line ----------------------------------------------------- */

/* Accepts "--name value" and "--name=value"; returns the value or NULL. */
const char *bench_option(int argc, char **argv, int *i, const char *name);
/* Parses a positive integer (dies with a message otherwise). */
unsigned long long bench_parse_count(const char *prog, const char *name, const char *v);

#endif /* TFRS_BENCH_H */
