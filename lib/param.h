/*
 * param.h - the parameter table: every trainable tensor of a model, once.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Building a model fills the table (graph.c); everything else iterates it:
 * the optimizer updates and owns the slots of each entry, the stepper gives
 * each training thread private gradients of the dense entries and sums them,
 * the graph adds the L2 penalty of the entries that have one, and the model
 * file writes and reads the entries by name.  No tensor name or shape is
 * computed anywhere else.
 */
#ifndef TFRS_PARAM_H
#define TFRS_PARAM_H

#include "util/common.h"
#include "embedding.h"

/* Longest tensor name, with its NUL: "features.<i>.embedding" and
 * "dense.<j>.kernel" for any i, j < 2^64 fit. */
#define TFRS__PARAM_NAME_MAX 48

typedef struct tfrs__param {
    char            name[TFRS__PARAM_NAME_MAX]; /* tensor name in the model file */
    size_t          ndim;      /* 1 or 2                                     */
    size_t          shape[2];  /* shape[1] is 0 when ndim == 1               */
    size_t          n;         /* number of values: the product of shape     */
    float          *w;         /* n weights (owned by the layer object)      */
    float          *g;         /* n gradients (owned by the layer object)    */
    tfrs_embedding *emb;       /* sparse entry: only emb's touched rows are
                                  updated; NULL for a dense entry           */
    float          *slot[2];   /* optimizer state, owned by the table:
                                  Adagrad acc; SGD velocity; Adam m, v      */
    float           l2;        /* L2 penalty l2 * sum(w^2); 0 = none         */
    size_t          feature;   /* the feature column whose table this is, or
                                  SIZE_MAX (set by the graph's plan)       */
} tfrs__param;

typedef struct tfrs__params {
    tfrs__param *p;
    size_t       n, cap;
} tfrs__params;

/* Appends an entry named `name` of shape [d0] (d1 == 0) or [d0, d1] over
 * the weights w and gradients g (both d0 * d1 floats, not copied).  emb
 * marks a sparse entry (w and g are emb's).  Names must be unique (the
 * graph makes them so).  Returns TFRS_OK, TFRS_EINVAL (name too long, zero
 * size) or TFRS_ENOMEM. */
int  tfrs__params_add(tfrs__params *t, const char *name, size_t d0, size_t d1, float *w,
                      float *g, tfrs_embedding *emb, float l2);
/* The entry named `name`, or NULL. */
tfrs__param *tfrs__params_find(const tfrs__params *t, const char *name);
/* Total number of values over all entries. */
size_t tfrs__params_count(const tfrs__params *t);
/* Frees the entries' slots and the table; the table becomes empty. */
void tfrs__params_clear(tfrs__params *t);

#endif /* TFRS_PARAM_H */
