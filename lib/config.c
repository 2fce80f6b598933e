/*
 * config.c - the model description schema (see config.h): writing it,
 * building models from it, and the public configuration calls.  Reading
 * and checking a document is config_schema.c's.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/status.h"
#include "json.h"
#include "feature.h"
#include "vocab.h"
#include "graph.h"
#include "model.h"
#include "optimizer.h"
#include "config_schema.h"
#include "config.h"

/* A configuration file larger than this is refused before it is read. */
#define CONFIG_MAX_BYTES ((size_t)16 << 20)

/* ---- writing -------------------------------------------------------------- */

/* Feature f into the JSON object o.  A string feature without any of the
 * newer settings is written exactly as before they existed (name,
 * embedding_dim, num_oov_indices, mask_token, vocab_size); every other key
 * is written only when it differs from its default. */
static void write_feature(const tfrs__feature *f, tfrs__json *o, int *ok)
{
    tfrs__json *arr;

    tfrs__json_add_str(o, "name", f->name, ok);
    if (f->kind != TFRS_FEATURE_STRING)
        tfrs__json_add_str(o, "kind", tfrs__config_name(TFRS__CFG_KIND, f->kind), ok);
    if (f->kind != TFRS_FEATURE_NUMERIC)
        tfrs__json_add_size(o, "embedding_dim", f->dim, ok);
    switch (f->kind) {
    case TFRS_FEATURE_STRING:
        tfrs__json_add_size(o, "num_oov_indices", tfrs_vocab_num_oov(f->vocab), ok);
        tfrs__json_add_str(o, "mask_token", tfrs__vocab_mask_token(f->vocab), ok);
        tfrs__json_add_size(o, "vocab_size", tfrs_vocab_size(f->vocab), ok);
        break;
    case TFRS_FEATURE_HASHED:
        tfrs__json_add_size(o, "num_buckets", f->buckets, ok);
        break;
    case TFRS_FEATURE_NUMERIC:
        tfrs__json_add_double(o, "mean", f->mean, ok);
        tfrs__json_add_double(o, "variance", f->var, ok);
        break;
    default:
        arr = tfrs__json_add_array(o, "boundaries", ok);
        for (size_t k = 0; k < f->nbounds; k++)
            tfrs__json_add_double(arr, NULL, f->bounds[k], ok);
        break;
    }
    if (f->pool != TFRS_POOL_NONE) {
        char sep[2] = { f->sep, '\0' };
        tfrs__json_add_str(o, "pooling", tfrs__config_name(TFRS__CFG_POOL, f->pool), ok);
        tfrs__json_add_str(o, "separator", sep, ok);
    }
    if (f->l2 != 0.0f)
        tfrs__json_add_float(o, "l2", f->l2, ok);
    if (f->bias)
        tfrs__json_add_bool(o, "bias", 1, ok);
}

static void write_layer(const tfrs__layer *l, tfrs__json *o, int *ok)
{
    /* dense layers have no "kind": records of dense-only models are as
     * before cross and dropout layers existed */
    if (l->kind != TFRS_LAYER_DENSE)
        tfrs__json_add_str(o, "kind", tfrs__config_name(TFRS__CFG_LAYER, l->kind), ok);
    if (l->kind == TFRS_LAYER_DENSE) {
        tfrs__json_add_size(o, "units", l->units, ok);
        tfrs__json_add_str(o, "activation", tfrs__config_name(TFRS__CFG_ACT, l->act), ok);
    } else if (l->kind == TFRS_LAYER_CROSS) {
        tfrs__json_add_size(o, "projection_dim", l->proj, ok);
    } else {
        tfrs__json_add_float(o, "rate", l->rate, ok);
    }
    if (l->kind != TFRS_LAYER_DROPOUT)
        tfrs__json_add_float(o, "l2", l->l2, ok);
}

/* The optimizer; the version-2 settings each only when not the default. */
static void write_optimizer(const tfrs_optimizer_options *op, tfrs__json *o, int *ok)
{
    tfrs__json_add_str(o, "kind", tfrs__config_name(TFRS__CFG_OPT, op->kind), ok);
    tfrs__json_add_float(o, "learning_rate", op->learning_rate, ok);
    tfrs__json_add_float(o, "initial_accumulator", op->initial_accumulator, ok);
    tfrs__json_add_float(o, "epsilon", op->epsilon, ok);
    tfrs__json_add_float(o, "momentum", op->momentum, ok);
    tfrs__json_add_float(o, "beta1", op->beta1, ok);
    tfrs__json_add_float(o, "beta2", op->beta2, ok);
    if (op->schedule != TFRS_LR_CONSTANT)
        tfrs__json_add_str(o, "schedule", tfrs__config_name(TFRS__CFG_SCHEDULE, op->schedule), ok);
    if (op->decay_steps != 0)
        tfrs__json_add_u64(o, "decay_steps", op->decay_steps, ok);
    if (op->decay_rate != 0.0f)
        tfrs__json_add_float(o, "decay_rate", op->decay_rate, ok);
    if (op->staircase != 0)
        tfrs__json_add_bool(o, "staircase", 1, ok);
    if (op->alpha != 0.0f)
        tfrs__json_add_float(o, "alpha", op->alpha, ok);
    if (op->warmup_steps != 0)
        tfrs__json_add_u64(o, "warmup_steps", op->warmup_steps, ok);
    if (op->warmup_initial_lr != 0.0f)
        tfrs__json_add_float(o, "warmup_initial_lr", op->warmup_initial_lr, ok);
    if (op->global_clipnorm != 0.0f)
        tfrs__json_add_float(o, "global_clipnorm", op->global_clipnorm, ok);
}

static void write_training(const tfrs__training *t, tfrs__json *o, int *ok)
{
    tfrs__json_add_size(o, "epochs", (size_t)t->epochs, ok);
    tfrs__json_add_size(o, "batch_size", t->batch_size, ok);
    tfrs__json_add_bool(o, "shuffle", t->shuffle, ok);
    tfrs__json_add_u64(o, "shuffle_seed", t->shuffle_seed, ok);
    tfrs__json_add_size(o, "threads", (size_t)t->threads, ok);
    tfrs__json_add_double(o, "validation_fraction", t->validation_fraction, ok);
    tfrs__json_add_bool(o, "early_stopping", t->early_stopping, ok);
    tfrs__json_add_str(o, "monitor", tfrs__config_name(TFRS__CFG_MONITOR, t->monitor), ok);
    tfrs__json_add_size(o, "patience", (size_t)t->patience, ok);
    tfrs__json_add_double(o, "min_delta", t->min_delta, ok);
    tfrs__json_add_bool(o, "restore_best_weights", t->restore_best_weights, ok);
}

tfrs__json *tfrs__config_write(const tfrs_model *m)
{
    tfrs__json *a = tfrs__json_new_object(), *arr, *o;
    int ok = a != NULL;

    arr = tfrs__json_add_array(a, "features", &ok);
    for (size_t i = 0; i < m->g.nfeat; i++)
        write_feature(&m->g.feat[i], tfrs__json_add_object(arr, NULL, &ok), &ok);
    arr = tfrs__json_add_array(a, "layers", &ok);
    for (size_t j = 0; j < m->g.nlayers; j++)
        write_layer(&m->g.layers[j], tfrs__json_add_object(arr, NULL, &ok), &ok);
    if (m->g.structure != TFRS_STRUCTURE_STACKED)   /* absent: stacked */
        tfrs__json_add_str(a, "structure", tfrs__config_name(TFRS__CFG_STRUCTURE, m->g.structure),
                           &ok);
    o = tfrs__json_add_object(a, "task", &ok);
    tfrs__json_add_str(o, "loss", tfrs__config_name(TFRS__CFG_LOSS, m->task.loss), &ok);
    tfrs__json_add_bool(o, "from_logits", m->task.from_logits != 0, &ok);
    tfrs__json_add_float(o, "huber_delta", m->task.huber_delta, &ok);
    arr = tfrs__json_add_array(o, "metrics", &ok);
    for (unsigned bit = 1; bit <= TFRS_METRIC_AUC; bit <<= 1)
        if (m->task.metrics & bit)
            tfrs__json_add_str(arr, NULL, tfrs__config_name(TFRS__CFG_METRIC, bit), &ok);
    tfrs__json_add_str(a, "label", m->label, &ok);
    tfrs__json_add_str(a, "weight", m->weight, &ok);
    write_optimizer(&m->opt.o, tfrs__json_add_object(a, "optimizer", &ok), &ok);
    tfrs__json_add_u64(a, "seed", m->seed, &ok);
    if (m->training.present)
        write_training(&m->training, tfrs__json_add_object(a, "training", &ok), &ok);
    if (!ok) {
        tfrs__json_delete(a);
        return NULL;
    }
    return a;
}

/* ---- applying ------------------------------------------------------------- */

/* The path of feature or layer i in messages. */
static const char *item_path(char *buf, size_t size, const char *what, size_t i)
{
    snprintf(buf, size, "%s[%zu]", what, i);
    return buf;
}

int tfrs__config_apply(const tfrs__config *c, const tfrs__cfg_source *src, tfrs_model *m,
                       tfrs_vocab *const *vocabs, double *const *bounds)
{
    tfrs_ranking_task *task = NULL;
    char path[48];
    int rc = TFRS_OK;

    for (size_t i = 0; i < c->nfeat && rc == TFRS_OK; i++) {
        tfrs_feature_options o = c->feat[i].o;
        o.vocab = vocabs != NULL ? vocabs[i] : NULL;
        o.boundaries = bounds != NULL ? bounds[i] : NULL;
        rc = tfrs__config_restate(c, src, tfrs_model_add_feature_ex(m, c->feat[i].name, &o), TFRS_EPARSE,
                     c->feat[i].node, item_path(path, sizeof(path), "features", i));
    }
    for (size_t j = 0; j < c->nlayers && rc == TFRS_OK; j++) {
        const tfrs__cfg_layer *l = &c->layers[j];
        rc = l->kind == TFRS_LAYER_CROSS     ? tfrs_model_add_cross(m, l->proj, l->l2)
             : l->kind == TFRS_LAYER_DROPOUT ? tfrs_model_add_dropout(m, l->rate)
                                             : tfrs_model_add_dense(m, l->units, l->act, l->l2);
        rc = tfrs__config_restate(c, src, rc, TFRS_EPARSE, l->node, item_path(path, sizeof(path), "layers", j));
    }
    if (rc == TFRS_OK)
        rc = tfrs_model_set_structure(m, c->structure);
    if (rc == TFRS_OK && (rc = tfrs_ranking_task_create(&task, &c->task)) == TFRS_OK)
        rc = tfrs_model_set_task(m, task);
    tfrs_ranking_task_free(task);
    if (rc == TFRS_OK)
        rc = tfrs_model_set_optimizer(m, &c->opt);
    if (rc == TFRS_OK)
        rc = tfrs_model_set_label(m, c->label, c->weight);
    rc = tfrs__config_restate(c, src, rc, TFRS_EPARSE, c->root, "");
    if (rc == TFRS_OK) {
        m->training = c->training;
        /* the layers do not fit together, or the sizes overflow */
        rc = tfrs__config_restate(c, src, tfrs_model_build(m), TFRS_EPARSE, tfrs__json_get(c->root, "layers"),
                     "layers");
    }
    return rc;
}

/* ---- the public calls ----------------------------------------------------- */

/* The vocabulary, boundaries or moments feature i leaves to the data. */
static int adapt_feature(tfrs__config *c, size_t i, const tfrs_dataset *data,
                         const tfrs__cfg_source *src, tfrs_vocab **vocab, double **bounds)
{
    tfrs__cfg_feature *f = &c->feat[i];
    char path[48];
    int rc = TFRS_OK;

    snprintf(path, sizeof(path), "features[%zu]", i);
    if (f->o.kind == TFRS_FEATURE_BUCKETIZED && f->bounds != NULL)
        return tfrs__config_bounds(c, src, i, bounds);
    if (f->o.kind == TFRS_FEATURE_HASHED || (f->o.kind == TFRS_FEATURE_NUMERIC && f->has_moments))
        return TFRS_OK;
    if (data == NULL)
        return tfrs__config_mistake(c, src, NULL, path, "feature \"%.64s\" adapts its %s from data, and no dataset "
                   "was given", f->name, f->o.kind == TFRS_FEATURE_STRING ? "vocabulary"
                   : f->o.kind == TFRS_FEATURE_NUMERIC ? "mean and variance" : "boundaries");
    if (f->o.kind == TFRS_FEATURE_STRING) {
        tfrs_vocab_options vo;
        tfrs_vocab_options_init(&vo, TFRS_VOCAB_OPTIONS_VERSION);
        vo.num_oov_indices = f->num_oov;
        vo.mask_token = f->mask;
        rc = f->o.pooling != TFRS_POOL_NONE
                 ? tfrs_vocab_adapt_bags(vocab, data, f->name, f->o.separator, &vo)
                 : tfrs_vocab_adapt_column(vocab, data, f->name, &vo);
        if (rc == TFRS_OK && f->vocab_size != 0 && tfrs_vocab_size(*vocab) != f->vocab_size)
            return tfrs__config_mistake(c, src, tfrs__json_get(f->node, "vocab_size"), path, "the data gives a "
                       "vocabulary of %zu indices where \"vocab_size\" is %zu",
                       tfrs_vocab_size(*vocab), f->vocab_size);
    } else if (f->o.kind == TFRS_FEATURE_NUMERIC) {
        rc = tfrs_dataset_column_moments(data, f->name, &f->o.mean, &f->o.variance);
    } else {
        *bounds = tfrs__malloc((f->num_bins - 1) * sizeof(double));
        if (*bounds == NULL)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", src->name);
        rc = tfrs_dataset_column_quantiles(data, f->name, f->num_bins, *bounds,
                                           &f->o.num_boundaries);
    }
    return tfrs__config_restate(c, src, rc, 0, f->node, path);     /* the data's status (no column...) */
}

int tfrs_model_from_config(tfrs_model **out, const char *json, size_t len, const char *source,
                           const tfrs_dataset *data)
{
    static const char fn[] = "tfrs_model_from_config";
    tfrs__cfg_source src;
    tfrs__config c;
    tfrs_vocab **vocabs = NULL;
    double **bounds = NULL;
    tfrs_model *m = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || json == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out and json are required", fn);
    src.text = json;
    src.len = len;
    src.name = source != NULL ? source : "configuration";
    if ((rc = tfrs__config_read(&c, &src)) != TFRS_OK)
        return rc;
    vocabs = tfrs__calloc(c.nfeat, sizeof(*vocabs));
    bounds = tfrs__calloc(c.nfeat, sizeof(*bounds));
    if (vocabs == NULL || bounds == NULL)
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < c.nfeat && rc == TFRS_OK; i++)
        rc = adapt_feature(&c, i, data, &src, &vocabs[i], &bounds[i]);
    if (rc == TFRS_OK && (rc = tfrs_model_create(&m, c.seed)) == TFRS_OK)
        rc = tfrs__config_apply(&c, &src, m, vocabs, bounds);
    tfrs__config_free_adapted(c.nfeat, vocabs, bounds);
    tfrs__config_free(&c);
    if (rc != TFRS_OK) {
        tfrs_model_free(m);
        return rc;
    }
    *out = m;
    return TFRS_OK;
}

int tfrs_model_from_config_file(tfrs_model **out, const char *path, const tfrs_dataset *data)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || path == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_from_config_file: out and path are "
                          "required");
    if ((rc = tfrs__read_file(path, "tfrs_model_from_config_file", &buf, &len)) != TFRS_OK)
        return rc;
    if (len > CONFIG_MAX_BYTES)
        rc = tfrs__fail(TFRS_EINVAL, "%s: %zu bytes; a configuration may have at most %zu",
                        path, len, CONFIG_MAX_BYTES);
    else
        rc = tfrs_model_from_config(out, (const char *)buf, len, path, data);
    tfrs__free(buf);
    return rc;
}

int tfrs_config_fit_options(const char *json, size_t len, const char *source,
                            tfrs_fit_options *fit, double *validation_fraction)
{
    tfrs__cfg_source src;
    tfrs__config c;
    int rc;

    if (json == NULL || fit == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_config_fit_options: json and fit are required");
    src.text = json;
    src.len = len;
    src.name = source != NULL ? source : "configuration";
    if ((rc = tfrs__config_read(&c, &src)) != TFRS_OK)
        return rc;
    tfrs_fit_options_init(fit, TFRS_FIT_OPTIONS_VERSION);
    fit->epochs = c.training.epochs;
    fit->batch_size = c.training.batch_size;
    fit->shuffle = c.training.shuffle;
    fit->shuffle_seed = c.training.shuffle_seed;
    fit->threads = c.training.threads;
    fit->early_stopping = c.training.early_stopping;
    fit->monitor = c.training.monitor;
    fit->patience = c.training.patience;
    fit->min_delta = c.training.min_delta;
    fit->restore_best_weights = c.training.restore_best_weights;
    if (validation_fraction != NULL)
        *validation_fraction = c.training.validation_fraction;
    tfrs__config_free(&c);
    return TFRS_OK;
}

int tfrs_model_config(const tfrs_model *m, char *buf, size_t cap, size_t *len)
{
    tfrs__json *j;
    char *s;
    size_t n;

    if (m == NULL || (buf == NULL && cap > 0))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_config: model is NULL or buf is NULL with "
                          "cap > 0");
    if ((j = tfrs__config_write(m)) == NULL || (s = tfrs__json_print(j)) == NULL) {
        tfrs__json_delete(j);
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_config: out of memory");
    }
    tfrs__json_delete(j);
    n = strlen(s);
    if (len != NULL)
        *len = n;
    if (cap > n)
        memcpy(buf, s, n + 1);
    tfrs__free(s);
    if (cap <= n)
        return tfrs__fail(TFRS_ERANGE, "tfrs_model_config: the configuration needs %zu bytes "
                          "and its NUL; the buffer has %zu", n, cap);
    return TFRS_OK;
}
