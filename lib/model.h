/*
 * model.h - the model object: a graph, a task, an optimizer, and the state
 * that training and serving keep between calls.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * model.c configures, builds and frees models; train.c, predict.c, rank.c
 * and model_file.c use them.  The computation itself is the graph's.
 */
#ifndef TFRS_MODEL_H
#define TFRS_MODEL_H

#include <pthread.h>

#include "util/common.h"
#include "graph.h"
#include "graph_serve.h"
#include "items.h"
#include "optimizer.h"
#include "param.h"
#include "step.h"

/* The "training" section of a model's configuration (config.c): fit
 * settings kept with the model so that its file tells how it was trained. */
typedef struct tfrs__training {
    int          present;
    int          epochs;
    size_t       batch_size;
    int          shuffle;
    uint64_t     shuffle_seed;
    int          threads;
    double       validation_fraction;   /* 0: no validation slice        */
    int          early_stopping;
    tfrs_monitor monitor;
    int          patience;
    double       min_delta;
    int          restore_best_weights;
} tfrs__training;

struct tfrs_model {
    uint64_t          seed;
    int               built;
    tfrs__graph       g;           /* features, layers, parameter table  */
    tfrs_task_options task;
    char             *label;       /* label column name                  */
    char             *weight;      /* weight column name or NULL         */
    tfrs__optimizer   opt;         /* options, steps; slots in g.params   */
    uint64_t          epochs_done; /* fit epochs completed (shuffle RNG) */
    tfrs__stepper    *stepper;     /* one-thread step engine, lazily     */
    tfrs__stepper    *pool;        /* fit's engine of pool_threads > 1
                                      threads, kept between fits        */
    int               pool_threads;
    uint64_t          weights_gen; /* bumped whenever the weights change */
    tfrs__training    training;    /* from a configuration, or absent    */
    double            input_reg;   /* embedding L2 of the last training
                                      batch (reported, not saved)        */
    /* Serving cache (rank.c): per feature, its embeddings projected through
     * its rows of the first dense kernel; built by rank under cache_lock. */
    pthread_mutex_t   cache_lock;
    tfrs__proj      **cache;       /* nfeat entries, or NULL             */
    /* The item table of rank (tfrs_model_set_item_table), or NULL; its own
     * cache is built under cache_lock too. */
    tfrs__items      *items;
};

/* TFRS_ESTATE unless built (TFRS_EINVAL if m is NULL); messages start
 * with fn. */
int  tfrs__model_check_built(const tfrs_model *m, const char *fn);
/* The first checks of a public call on a built model: as
 * tfrs__model_check_built, then TFRS_EINVAL with "fn: what" unless args_ok
 * (the call's required arguments are present). */
int  tfrs__model_check_call(const tfrs_model *m, const char *fn, int args_ok, const char *what);
/* TFRS_EINVAL if n examples of the model's features (n * F values) could
 * not be addressed: caller-supplied counts are checked before any product
 * of them is used. */
int  tfrs__model_check_rows(const tfrs_model *m, size_t n, const char *fn);
/* As tfrs__model_check_call for a call on n rows of ids (which must be
 * non-NULL, n > 0), then TFRS_ERANGE unless every id is in its table. */
int  tfrs__model_check_batch(const tfrs_model *m, const char *fn, const int32_t *ids, size_t n,
                             int args_ok, const char *what);
/* Keys of n examples given as strings (values[i * F + f], tfrs_model_predict's
 * layout) into keys ([n, F]) and the side tables enc and in (F each, enc
 * emptied first and grown as needed; free with tfrs__encoded_free).
 * Example numbers in messages count from base; messages start with fn. */
int  tfrs__model_encode_values(const tfrs_model *m, const char *const *values, size_t n,
                               int32_t *keys, tfrs__encoded *enc, tfrs__input *in, size_t base,
                               const char *fn);
/* The keys of every row of ds (ids_out, n_rows * F) from the dataset's
 * columns named like the features and, when in is not NULL, the side
 * tables (enc grown as needed, in: F each).  Messages start with fn. */
int  tfrs__model_bind_keys(const tfrs_model *m, const tfrs_dataset *ds, int32_t *ids_out,
                           tfrs__encoded *enc, tfrs__input *in, const char *fn);
/* The parameter table of a built model (for the model file and white-box
 * tests). */
const tfrs__params *tfrs__model_params(const tfrs_model *m);
/* Call after changing any weight (invalidates derived caches). */
void tfrs__model_weights_changed(tfrs_model *m);

#endif /* TFRS_MODEL_H */
