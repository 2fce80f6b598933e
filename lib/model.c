/*
 * model.c - the ranking model: configuration, build, forward pass.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Training lives in train.c and inference in predict.c; both use the forward
 * pass defined here.
 */
#include <math.h>
#include <string.h>

#include "util/alloc.h"
#include "util/rng.h"
#include "util/status.h"
#include "dense.h"
#include "embedding.h"
#include "model.h"
#include "optimizer.h"
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
    tfrs__optimizer_free(&m->opt);
    for (size_t i = 0; i < m->nfeat; i++) {
        tfrs_embedding_free(m->feat[i].emb);
        m->feat[i].emb = NULL;
    }
    for (size_t j = 0; j < m->nlayers; j++) {
        tfrs_dense_free(m->layers[j].dense);
        m->layers[j].dense = NULL;
    }
    tfrs__stepper_free(m->stepper);
    m->stepper = NULL;
    tfrs__model_free_caches(m);
    m->built = 0;
    m->weights_gen++;
}

void tfrs_model_free(tfrs_model *m)
{
    if (m == NULL)
        return;
    unbuild(m);
    for (size_t i = 0; i < m->nfeat; i++) {
        tfrs__free(m->feat[i].name);
        tfrs_vocab_free(m->feat[i].vocab);
    }
    tfrs__free(m->feat);
    tfrs__free(m->layers);
    tfrs__free(m->label);
    tfrs__free(m->weight);
    pthread_mutex_destroy(&m->cache_lock);
    tfrs__free(m);
}

int tfrs_model_add_feature(tfrs_model *m, const char *name, const tfrs_vocab *vocab,
                           size_t embedding_dim)
{
    tfrs__feature f = { 0 };
    size_t rows;
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_add_feature")) != TFRS_OK)
        return rc;
    if (name == NULL || name[0] == '\0' || vocab == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_feature: name and vocab are required");
    if (embedding_dim == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_feature: embedding_dim must be > 0");
    rows = tfrs_vocab_size(vocab);
    if (rows == 0 || rows > INT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_feature: feature '%s' has a vocabulary "
                          "of %zu indices (needs 1 .. 2^31-1)", name, rows);
    for (size_t i = 0; i < m->nfeat; i++)
        if (strcmp(m->feat[i].name, name) == 0)
            return tfrs__fail(TFRS_EDUPLICATE, "tfrs_model_add_feature: feature '%s' exists", name);
    if (tfrs__grow((void **)&m->feat, &m->feat_cap, m->nfeat + 1, sizeof(*m->feat)) < 0)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_add_feature: out of memory");
    f.name = tfrs__strdup(name);
    if (f.name == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_add_feature: out of memory");
    rc = tfrs__vocab_clone(&f.vocab, vocab);
    if (rc != TFRS_OK) {
        tfrs__free(f.name);
        return rc;
    }
    f.dim = embedding_dim;
    m->feat[m->nfeat++] = f;
    return TFRS_OK;
}

int tfrs_model_add_dense(tfrs_model *m, size_t units, tfrs_activation act, float l2)
{
    tfrs__layer l = { 0 };
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_add_dense")) != TFRS_OK)
        return rc;
    if (units == 0 || units > INT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dense: units must be in 1 .. 2^31-1");
    if (!tfrs__act_valid((int)act))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dense: unknown activation %d", (int)act);
    if (!(l2 >= 0.0f) || !isfinite(l2))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_add_dense: l2 must be finite and >= 0");
    if (tfrs__grow((void **)&m->layers, &m->layer_cap, m->nlayers + 1, sizeof(*m->layers)) < 0)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_add_dense: out of memory");
    l.units = units;
    l.act = act;
    l.l2 = l2;
    m->layers[m->nlayers++] = l;
    return TFRS_OK;
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
    int rc;

    if (m == NULL || opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_set_optimizer: model and opts are required");
    if ((rc = tfrs__optimizer_options_check(opts)) != TFRS_OK)
        return rc;
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
        if ((rc = tfrs__optimizer_init_slots(&m->opt)) != TFRS_OK) {
            m->opt.o = old;
            tfrs__optimizer_init_slots(&m->opt);
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
    size_t np, in, k = 0;
    int rc;

    if ((rc = check_unbuilt(m, "tfrs_model_build")) != TFRS_OK)
        return rc;
    if (m->nfeat == 0)
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_build: add at least one feature");
    if (m->nlayers == 0 || m->layers[m->nlayers - 1].units != 1)
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_build: the last dense layer must have 1 unit");
    np = m->nfeat + 2 * m->nlayers;
    m->opt.params = tfrs__calloc(np, sizeof(*m->opt.params));
    if (m->opt.params == NULL)
        goto nomem;
    m->opt.nparams = np;

    m->concat_dim = 0;
    for (size_t i = 0; i < m->nfeat; i++) {
        tfrs__feature *f = &m->feat[i];
        tfrs__param *p = &m->opt.params[k];
        tfrs__rng r;

        if ((rc = tfrs__embedding_alloc(&f->emb, tfrs_vocab_size(f->vocab), f->dim)) != TFRS_OK)
            goto fail;
        tfrs__rng_seed(&r, m->seed, k++);
        tfrs__embedding_init(f->emb, &r);
        p->w = f->emb->w;
        p->g = f->emb->g;
        p->n = f->emb->rows * f->emb->dim;
        p->emb = f->emb;
        if (tfrs__add(m->concat_dim, f->dim, &m->concat_dim) < 0) {
            rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_build: embedding sizes overflow");
            goto fail;
        }
    }
    in = m->concat_dim;
    for (size_t j = 0; j < m->nlayers; j++) {
        tfrs__layer *l = &m->layers[j];
        tfrs__rng r;

        if ((rc = tfrs__dense_alloc(&l->dense, in, l->units, l->act)) != TFRS_OK)
            goto fail;
        tfrs__rng_seed(&r, m->seed, k);
        tfrs__dense_init(l->dense, &r);
        m->opt.params[k].w = l->dense->w;
        m->opt.params[k].g = l->dense->dw;
        m->opt.params[k].n = in * l->units;
        m->opt.params[k].l2 = l->l2;
        k++;
        m->opt.params[k].w = l->dense->b;
        m->opt.params[k].g = l->dense->db;
        m->opt.params[k].n = l->units;
        k++;
        in = l->units;
    }
    if ((rc = tfrs__optimizer_init_slots(&m->opt)) != TFRS_OK)
        goto fail;
    m->built = 1;
    m->epochs_done = 0;
    return TFRS_OK;
nomem:
    rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_build: out of memory");
fail:
    unbuild(m);
    return rc;
}

size_t tfrs_model_num_features(const tfrs_model *m)
{
    return m == NULL ? 0 : m->nfeat;
}

const char *tfrs_model_feature_name(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->nfeat ? NULL : m->feat[i].name;
}

const tfrs_vocab *tfrs_model_feature_vocab(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->nfeat ? NULL : m->feat[i].vocab;
}

const tfrs_embedding *tfrs_model_feature_embedding(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->nfeat ? NULL : m->feat[i].emb;
}

size_t tfrs_model_num_dense(const tfrs_model *m)
{
    return m == NULL ? 0 : m->nlayers;
}

const tfrs_dense *tfrs_model_dense(const tfrs_model *m, size_t i)
{
    return m == NULL || i >= m->nlayers ? NULL : m->layers[i].dense;
}

size_t tfrs_model_num_parameters(const tfrs_model *m)
{
    size_t n = 0;

    if (m == NULL || !m->built)
        return 0;
    for (size_t i = 0; i < m->opt.nparams; i++)
        n += m->opt.params[i].n;
    return n;
}

/* ---- forward pass ----------------------------------------------------- */

size_t tfrs__model_ws_floats(const tfrs_model *m, size_t B, int train)
{
    size_t per_row = m->concat_dim;

    for (size_t j = 0; j < m->nlayers; j++)
        per_row += m->layers[j].units;
    return B * per_row * (train ? 2 : 1);
}

int tfrs__model_check_ids(const tfrs_model *m, const int32_t *ids, size_t n, const char *fn)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < m->nfeat; f++) {
            int32_t id = ids[i * m->nfeat + f];
            if (id < 0 || (size_t)id >= m->feat[f].emb->rows)
                return tfrs__fail(TFRS_ERANGE, "%s: example %zu: id %ld of feature '%s' is "
                                  "outside 0 .. %zu", fn, i, (long)id, m->feat[f].name,
                                  m->feat[f].emb->rows - 1);
        }
    }
    return TFRS_OK;
}

/* Lays out the forward buffers of a B-row batch in ws:
 *   x0 [B, D] | y_0 [B, u_0] | ... | y_{L-1} [B, 1]
 * and returns the score column (y_{L-1}). ys[j] receives y_j. */
static float *layout(const tfrs_model *m, float *ws, size_t B, float **x0, float **ys)
{
    float *p = ws;

    *x0 = p;
    p += B * m->concat_dim;
    for (size_t j = 0; j < m->nlayers; j++) {
        ys[j] = p;
        p += B * m->layers[j].units;
    }
    return ys[m->nlayers - 1];
}

/* scores = model(ids) for B rows; ids already range-checked.  `ws` holds
 * tfrs__model_ws_floats(m, B, 0) floats; ys (nlayers entries) gets the
 * activations for a backward pass. */
float *tfrs__model_forward(const tfrs_model *m, const int32_t *ids, size_t B, float *ws,
                           float **x0_out, float **ys)
{
    float *x0, *scores, *x;
    size_t off = 0;

    scores = layout(m, ws, B, &x0, ys);
    for (size_t f = 0; f < m->nfeat; f++) {
        tfrs__embedding_gather(m->feat[f].emb, ids + f, m->nfeat, B, x0 + off, m->concat_dim);
        off += m->feat[f].dim;
    }
    x = x0;
    for (size_t j = 0; j < m->nlayers; j++) {
        tfrs__dense_forward(m->layers[j].dense, x, B, ys[j]);
        x = ys[j];
    }
    if (x0_out != NULL)
        *x0_out = x0;
    return scores;
}

void tfrs__model_weights_changed(tfrs_model *m)
{
    m->weights_gen++;
}

double tfrs__model_regularization(const tfrs_model *m)
{
    double reg = 0.0;

    for (size_t j = 0; j < m->nlayers; j++) {
        const tfrs_dense *d = m->layers[j].dense;
        double s = 0.0;
        if (m->layers[j].l2 == 0.0f)
            continue;
        for (size_t i = 0; i < d->in * d->out; i++)
            s += (double)d->w[i] * d->w[i];
        reg += (double)m->layers[j].l2 * s;
    }
    return reg;
}

int tfrs_model_lookup_dataset(const tfrs_model *m, const tfrs_dataset *ds, int32_t *ids_out)
{
    size_t nrows;
    int rc;

    if ((rc = tfrs__model_check_built(m, "tfrs_model_lookup_dataset")) != TFRS_OK)
        return rc;
    if (ds == NULL || ids_out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_lookup_dataset: ds and ids_out are required");
    nrows = tfrs_dataset_num_rows(ds);
    for (size_t f = 0; f < m->nfeat; f++) {
        const uint32_t *col;
        size_t nstr;
        int32_t *map;

        rc = tfrs_dataset_string_ids(ds, m->feat[f].name, &col, &nstr);
        if (rc != TFRS_OK)
            return tfrs__fail(rc, "dataset has no string column '%s' for feature '%s'",
                              m->feat[f].name, m->feat[f].name);
        map = tfrs__calloc(nstr, sizeof(*map));
        if (map == NULL)
            return tfrs__fail(TFRS_ENOMEM, "tfrs_model_lookup_dataset: out of memory");
        /* Look each distinct string up once, then map the rows. */
        for (size_t k = 0; k < nstr; k++) {
            const char *s;
            rc = tfrs_dataset_string(ds, m->feat[f].name, (uint32_t)k, &s);
            if (rc == TFRS_OK)
                rc = tfrs_vocab_lookup(m->feat[f].vocab, s, &map[k]);
            if (rc != TFRS_OK) {
                tfrs__free(map);
                return rc;
            }
        }
        for (size_t r = 0; r < nrows; r++)
            ids_out[r * m->nfeat + f] = map[col[r]];
        tfrs__free(map);
    }
    return TFRS_OK;
}
