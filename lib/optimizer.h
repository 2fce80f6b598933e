/*
 * optimizer.h - SGD, Adagrad and Adam over parameter blocks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_OPTIMIZER_H
#define TFRS_OPTIMIZER_H

#include "util/common.h"
#include "embedding.h"

/* One trainable block.  Dense blocks (emb == NULL) update all n values;
 * sparse blocks (emb != NULL) update only emb's touched rows. */
typedef struct tfrs__param {
    float          *w;         /* n values                                   */
    float          *g;         /* gradient, n values                         */
    size_t          n;
    tfrs_embedding *emb;       /* sparse block: rows of emb->dim             */
    float          *slot[2];   /* Adagrad: acc; SGD: velocity; Adam: m, v    */
    float           l2;        /* regularizer strength (dense kernels)       */
} tfrs__param;

typedef struct tfrs__optimizer {
    tfrs_optimizer_options o;
    uint64_t               steps;   /* updates applied                      */
    size_t                 nparams;
    tfrs__param           *params;
    float                 *backup;  /* old values of the rows being updated */
    size_t                 backup_cap;
} tfrs__optimizer;

int  tfrs__optimizer_options_check(const tfrs_optimizer_options *o);
/* Allocates and initialises the slots of every param for o->kind. */
int  tfrs__optimizer_init_slots(tfrs__optimizer *opt);
void tfrs__optimizer_free(tfrs__optimizer *opt);
/* Number of slot arrays per param for a kind (0, 1 or 2). */
int  tfrs__optimizer_num_slots(tfrs_optimizer_kind kind);
/* Makes room so that steps touching up to batch_rows rows of each
 * embedding do not allocate. */
int  tfrs__optimizer_reserve(tfrs__optimizer *opt, size_t batch_rows);
/* Applies one update from the gradients.  If any updated value (weight or
 * slot) would be non-finite, changes nothing and returns TFRS_ENONFINITE. */
int  tfrs__optimizer_step(tfrs__optimizer *opt);

#endif /* TFRS_OPTIMIZER_H */
