/*
 * model.c - the ranking model: configuration, build, accessors.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The computation is the graph's (graph.c); training lives in train.c,
 * inference in predict.c and rank.c.
 */
#include <math.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dense.h"
#include "dropout.h"
#include "graph.h"
#include "model.h"
#include "optimizer.h"
#include "param.h"
#include "step.h"
#include "vocab.h"

#define DEFAULT_LABEL "label"

static int check_unbuilt(const tfrs_model *m, const char *fn)
{
    if (m == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: model is NULL", fn);
    if (m->built)
        return tfrs__fail(TFRS_ESTATE, "%s: the model is already built", fn);
    return TFRS_OK;
}

int tfrs__model_check_built(const tfrs_model *m, const char *fn)
{
    if (m == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: model is NULL", fn);
    if (!m->built)
        return tfrs__fail(TFRS_ESTATE, "%s: call tfrs_model_build first", fn);
    return TFRS_OK;
}

int tfrs_model_create(tfrs_model **out, uint64_t seed)
{
    tfrs_model *m;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_create: out is NULL");
    *out = NULL;
    m = tfrs__calloc(1, sizeof(*m));
    if (m == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_create: out of memory");
    if (pthread_mutex_init(&m->cache_lock, NULL) != 0) {
        tfrs__free(m);
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_create: cannot create a mutex");
    }
    m->seed = seed;
    tfrs_task_options_init(&m->task, TFRS_TASK_OPTIONS_VERSION);
    tfrs_optimizer_options_init(&m->opt.o, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAGRAD);
    m->label = tfrs__strdup(DEFAULT_LABEL);
    if (m->label == NULL) {
        pthread_mutex_destroy(&m->cache_lock);
        tfrs__free(m);
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_create: out of memory");
    }
    *out = m;
    return TFRS_OK;
}

/* Frees the parameters, slots and workspace; the model becomes unbuilt. */
static void unbuild(tfrs_model *m)
{
    tfrs__stepper_free(m->stepper);
    m->stepper = NULL;
    tfrs__stepper_free(m->pool);
    m->pool = NULL;
    m->pool_threads = 0;
    if (m->cache != NULL) {
        for (size_t f = 0; f < m->g.nfeat; f++)
            tfrs__proj_free(m->cache[f]);
        tfrs__free(m->cache);
        m->cache = NULL;
    }
    tfrs__items_free(m->items);
    m->items = NULL;
    tfrs__optimizer_free(&m->opt);
    tfrs__graph_unbuild(&m->g);
    m->built = 0;
    m->weights_gen++;
}

void tfrs_model_free(tfrs_model *m)
{
    if (m == NULL)
        return;
    unbuild(m);
    tfrs__graph_free(&m->g);
    tfrs__free(m->label);
    tfrs__free(m->weight);
    pthread_mutex_destroy(&m->cache_lock);
    tfrs__free(m);
}

/* Adds the feature `name` described by o; messages start with fn. */
static int add_feature(tfrs_model *m, const char *name, const tfrs_feature_options *o,
                       const char *fn)
{
    tfrs__feature f;
    int rc;

    if ((rc = check_unbuilt(m, fn)) != TFRS_OK)
        return rc;
    if (name == NULL || name[0] == '\0' || o == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: a name and options are required", fn);
    if (o->version == 0 || o->version > TFRS_FEATURE_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown options version %u", fn, o->version);
    if (tfrs__graph_find_feature(&m->g, name) != SIZE_MAX)   /* before copying the vocab */
        return tfrs__fail(TFRS_EDUPLICATE, "%s: feature '%s' exists", fn, name);
    if ((rc = tfrs__feature_init(&f, name, o, fn)) != TFRS_OK)
        return rc;
    rc = tfrs__graph_add_feature(&m->g, &f);
    if (rc == TFRS_EDUPLICATE)
        return tfrs__fail(rc, "%s: feature '%s' exists", fn, name);
    if (rc != TFRS_OK)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    return TFRS_OK;
}

int tfrs_model_add_feature(tfrs_model *m, const char *name, const tfrs_vocab *vocab,
                           size_t embedding_dim)
{
    tfrs_feature_options o;

    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    if (vocab == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_feature: name and vocab are required");
    if (embedding_dim == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_feature: embedding_dim must be > 0");
    o.vocab = vocab;
    o.embedding_dim = embedding_dim;
    return add_feature(m, name, &o, "tfrs_model_add_feature");
}

int tfrs_model_add_feature_ex(tfrs_model *m, const char *name, const tfrs_feature_options *opts)
{
    return add_feature(m, name, opts, "tfrs_model_add_feature_ex");
}

int tfrs_model_feature_options(const tfrs_model *m, size_t i, tfrs_feature_options *opts)
{
    if (m == NULL || opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_feature_options: model and opts are "
                          "required");
    if (i >= m->g.nfeat)
        return tfrs__fail(TFRS_ERANGE, "tfrs_model_feature_options: feature %zu of %zu", i,
                          m->g.nfeat);
    tfrs__feature_options_of(&m->g.feat[i], opts);
    return TFRS_OK;
}

int tfrs_model_add_dense(tfrs_model *m, size_t units, tfrs_activation act, float l2)
{
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_add_dense")) != TFRS_OK)
        return rc;
    if (units == 0 || units > INT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dense: units must be in 1 .. 2^31-1");
    if (!tfrs__act_valid((int)act))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dense: unknown activation %d", (int)act);
    if (!(l2 >= 0.0f) || !isfinite(l2))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dense: l2 must be finite and >= 0");
    if (tfrs__graph_add_dense(&m->g, units, act, l2) != TFRS_OK)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_add_dense: out of memory");
    return TFRS_OK;
}

int tfrs_model_add_cross(tfrs_model *m, size_t projection_dim, float l2)
{
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_add_cross")) != TFRS_OK)
        return rc;
    if (projection_dim > INT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_cross: projection_dim must be 0 (full "
                          "rank) or in 1 .. 2^31-1");
    if (!(l2 >= 0.0f) || !isfinite(l2))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_cross: l2 must be finite and >= 0");
    if (tfrs__graph_add_cross(&m->g, projection_dim, l2) != TFRS_OK)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_add_cross: out of memory");
    return TFRS_OK;
}

int tfrs_model_add_dropout(tfrs_model *m, float rate)
{
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_add_dropout")) != TFRS_OK)
        return rc;
    if (!tfrs__dropout_rate_ok(rate))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dropout: rate must be in [0, 1)");
    if (tfrs__graph_add_dropout(&m->g, rate) != TFRS_OK)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_add_dropout: out of memory");
    return TFRS_OK;
}

int tfrs_model_set_structure(tfrs_model *m, tfrs_structure structure)
{
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_set_structure")) != TFRS_OK)
        return rc;
    if (structure != TFRS_STRUCTURE_STACKED && structure != TFRS_STRUCTURE_PARALLEL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_set_structure: unknown structure %d",
                          (int)structure);
    m->g.structure = structure;
    return TFRS_OK;
}

tfrs_structure tfrs_model_structure(const tfrs_model *m)
{
    return m == NULL ? TFRS_STRUCTURE_STACKED : m->g.structure;
}

size_t tfrs_model_num_layers(const tfrs_model *m)
{
    return m == NULL ? 0 : m->g.nlayers;
}

int tfrs_model_layer_kind(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->g.nlayers ? -1 : (int)m->g.layers[i].kind;
}

int tfrs_model_set_task(tfrs_model *m, const tfrs_ranking_task *task)
{
    tfrs_task_options o;
    int rc;

    if (m == NULL || task == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_set_task: model and task are required");
    if ((rc = tfrs_ranking_task_options(task, &o)) != TFRS_OK)
        return rc;
    m->task = o;
    return TFRS_OK;
}

int tfrs_model_set_optimizer(tfrs_model *m, const tfrs_optimizer_options *opts)
{
    tfrs_optimizer_options o;
    int rc;

    if (m == NULL || opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_set_optimizer: model and opts are required");
    if ((rc = tfrs__optimizer_options_read(opts, &o)) != TFRS_OK)
        return rc;
    opts = &o;  /* a version-1 struct is shorter: read only o from here */
    if (!m->built) {
        m->opt.o = *opts;
        return TFRS_OK;
    }
    if (opts->kind != m->opt.o.kind && m->opt.steps > 0)
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_set_optimizer: cannot change the optimizer "
                          "kind after training steps were taken");
    if (m->opt.steps == 0) {
        tfrs_optimizer_options old = m->opt.o;
        m->opt.o = *opts;
        if ((rc = tfrs__optimizer_init_slots(&m->opt, &m->g.params)) != TFRS_OK) {
            m->opt.o = old;
            return rc;
        }
        return TFRS_OK;
    }
    m->opt.o = *opts;  /* same kind: new hyper-parameters, state kept */
    return TFRS_OK;
}

int tfrs_model_set_label(tfrs_model *m, const char *label, const char *weight)
{
    char *l, *w = NULL;

    if (m == NULL || label == NULL || label[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_set_label: model and label are required");
    if (weight != NULL && weight[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_set_label: weight column name is empty");
    l = tfrs__strdup(label);
    if (weight != NULL)
        w = tfrs__strdup(weight);
    if (l == NULL || (weight != NULL && w == NULL)) {
        tfrs__free(l);
        tfrs__free(w);
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_set_label: out of memory");
    }
    tfrs__free(m->label);
    tfrs__free(m->weight);
    m->label = l;
    m->weight = w;
    return TFRS_OK;
}

int tfrs_model_build(tfrs_model *m)
{
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_build")) != TFRS_OK)
        return rc;
    if (m->g.nfeat == 0)
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_build: add at least one feature");
    if ((rc = tfrs__graph_build(&m->g, m->seed, "tfrs_model_build")) != TFRS_OK)
        return rc;
    if ((rc = tfrs__optimizer_init_slots(&m->opt, &m->g.params)) != TFRS_OK) {
        unbuild(m);
        return rc;
    }
    m->built = 1;
    m->epochs_done = 0;
    return TFRS_OK;
}

size_t tfrs_model_num_features(const tfrs_model *m)
{
    return m == NULL ? 0 : m->g.nfeat;
}

const char *tfrs_model_feature_name(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->g.nfeat ? NULL : m->g.feat[i].name;
}

const tfrs_vocab *tfrs_model_feature_vocab(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->g.nfeat ? NULL : m->g.feat[i].vocab;
}

const tfrs_embedding *tfrs_model_feature_embedding(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->g.nfeat ? NULL : m->g.feat[i].emb;
}

size_t tfrs_model_num_dense(const tfrs_model *m)
{
    return m == NULL ? 0 : tfrs__graph_count_kind(&m->g, TFRS_LAYER_DENSE);
}

const tfrs_dense *tfrs_model_dense(const tfrs_model *m, size_t i)
{
    size_t j = m == NULL ? SIZE_MAX : tfrs__graph_kth_layer(&m->g, TFRS_LAYER_DENSE, i);

    return j == SIZE_MAX ? NULL : m->g.layers[j].dense;
}

size_t tfrs_model_num_parameters(const tfrs_model *m)
{
    return m == NULL || !m->built ? 0 : tfrs__params_count(&m->g.params);
}

int tfrs_model_training_state(const tfrs_model *m, uint64_t *steps, uint64_t *epochs_done)
{
    if (m == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_training_state: model is NULL");
    if (steps != NULL)
        *steps = m->opt.steps;
    if (epochs_done != NULL)
        *epochs_done = m->epochs_done;
    return TFRS_OK;
}

int tfrs_model_weights_hash(const tfrs_model *m, uint64_t *hash)
{
    int rc = tfrs__model_check_call(m, "tfrs_model_weights_hash", hash != NULL,
                                    "hash is NULL");
    uint64_t h = TFRS__FNV1A64_INIT;

    if (rc != TFRS_OK)
        return rc;
    for (size_t k = 0; k < m->g.params.n; k++)
        h = tfrs__fnv1a64_add(h, m->g.params.p[k].w, m->g.params.p[k].n * sizeof(float));
    *hash = h;
    return TFRS_OK;
}

int tfrs__model_check_call(const tfrs_model *m, const char *fn, int args_ok, const char *what)
{
    int rc = tfrs__model_check_built(m, fn);

    if (rc == TFRS_OK && !args_ok)
        rc = tfrs__fail(TFRS_EINVAL, "%s: %s", fn, what);
    return rc;
}

int tfrs__model_check_rows(const tfrs_model *m, size_t n, const char *fn)
{
    size_t cells;

    if (tfrs__mul(n, m->g.nfeat, &cells) < 0 || cells > SIZE_MAX / sizeof(int32_t))
        return tfrs__fail(TFRS_EINVAL, "%s: %zu examples of %zu features are more than memory "
                          "can hold", fn, n, m->g.nfeat);
    return TFRS_OK;
}

int tfrs__model_check_batch(const tfrs_model *m, const char *fn, const int32_t *ids, size_t n,
                            int args_ok, const char *what)
{
    int rc = tfrs__model_check_call(m, fn, ids != NULL && n > 0 && args_ok, what);

    if (rc == TFRS_OK)
        rc = tfrs__model_check_rows(m, n, fn);
    return rc != TFRS_OK ? rc : tfrs__graph_check_ids(&m->g, ids, NULL, n, fn);
}

int tfrs__model_bind_keys(const tfrs_model *m, const tfrs_dataset *ds, int32_t *ids_out,
                          tfrs__encoded *enc, tfrs__input *in, const char *fn)
{
    for (size_t f = 0; f < m->g.nfeat; f++) {
        int rc = tfrs__feature_bind(&m->g.feat[f], ds, ids_out + f, m->g.nfeat, &enc[f], fn);
        if (rc != TFRS_OK)
            return rc;
        if (in != NULL)
            in[f] = tfrs__encoded_input(&enc[f]);
    }
    return TFRS_OK;
}

const tfrs__params *tfrs__model_params(const tfrs_model *m)
{
    return &m->g.params;
}

void tfrs__model_weights_changed(tfrs_model *m)
{
    m->weights_gen++;
}
