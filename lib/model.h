/*
 * model.h - the model object.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_MODEL_H
#define TFRS_MODEL_H

#include <pthread.h>
#include "util/common.h"
#include "optimizer.h"

typedef struct tfrs__feature {
    char           *name;
    tfrs_vocab     *vocab;
    size_t          dim;
    tfrs_embedding *emb;      /* NULL before build                        */
} tfrs__feature;

typedef struct tfrs__layer {
    size_t          units;
    tfrs_activation act;
    float           l2;
    tfrs_dense     *dense;    /* NULL before build                        */
} tfrs__layer;

struct tfrs_model {
    uint64_t          seed;
    int               built;
    size_t            nfeat, feat_cap;
    tfrs__feature    *feat;
    size_t            nlayers, layer_cap;
    tfrs__layer      *layers;
    tfrs_task_options task;
    char             *label;       /* label column name                  */
    char             *weight;      /* weight column name or NULL         */
    tfrs__optimizer   opt;         /* params/slots exist after build     */
    size_t            concat_dim;  /* sum of the features' dims          */
    uint64_t          epochs_done; /* fit epochs completed (shuffle RNG) */
    struct tfrs__stepper *stepper; /* one-thread step engine, lazily   */
    uint64_t          weights_gen; /* bumped whenever the weights change */
    /* Serving cache (predict.c): one feature's embeddings projected through
     * its rows of the first dense kernel; built by rank under cache_lock. */
    pthread_mutex_t   cache_lock;
    struct tfrs__proj_cache **cache;  /* nfeat entries, or NULL          */
};

/* Frees the serving caches (predict.c). */
void tfrs__model_free_caches(tfrs_model *m);

/* TFRS_ESTATE unless built. */
int    tfrs__model_check_built(const tfrs_model *m, const char *fn);
/* Floats of workspace for a B-row batch: forward only, or forward and
 * backward (train != 0). */
size_t tfrs__model_ws_floats(const tfrs_model *m, size_t B, int train);
/* TFRS_ERANGE if any of the n * F ids is outside its feature's table. */
int    tfrs__model_check_ids(const tfrs_model *m, const int32_t *ids, size_t n, const char *fn);
/* Forward pass of B rows (ids checked) in workspace ws; returns the B
 * scores; *x0 (may be NULL) gets the concatenated embeddings and ys[j] the
 * output of dense layer j. */
float *tfrs__model_forward(const tfrs_model *m, const int32_t *ids, size_t B, float *ws,
                           float **x0, float **ys);
/* Rows per block when a const call (predict, rank, test_step) processes a
 * large n in pieces with per-call scratch. */
#define TFRS__BLOCK 1024
/* Per-call forward scratch for B rows: *ws (tfrs__model_ws_floats(m, B, 0)
 * floats) and *ys (nlayers pointers); both freed with tfrs__free. */
int    tfrs__scratch_alloc(const tfrs_model *m, size_t B, float **ws, float ***ys);
/* Call after changing any weight (invalidates derived caches). */
void   tfrs__model_weights_changed(tfrs_model *m);
/* sum_j l2_j * sum(W_j^2) */
double tfrs__model_regularization(const tfrs_model *m);

#endif /* TFRS_MODEL_H */
