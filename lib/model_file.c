/*
 * model_file.c - the model file schema: a model <-> safetensors tensors and
 * metadata (tfrs_model_save, tfrs_model_load, tfrs_model_load_buffer).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The container (safetensors.c) holds the tensors and a "__metadata__"
 * object of strings: the format name and version, the architecture (a JSON
 * document in a string), the training counters, whether optimizer state is
 * present, and a CRC-32 of the data section.  docs/file-format.md describes
 * every byte and every check.
 *
 * Tensors: per feature i "features.<i>.embedding" [rows, dim] F32 and its
 * vocabulary as "features.<i>.vocab.bytes" (U8, the tokens concatenated) and
 * "features.<i>.vocab.offsets" (I64, ntokens + 1 offsets); per dense layer j
 * "dense.<j>.kernel" [in, units] and "dense.<j>.bias" [units]; per cross
 * layer k "cross.<k>.kernel" [D, D] (or "cross.<k>.u" [D, r] and
 * "cross.<k>.v" [r, D]) and "cross.<k>.bias" [D]; with
 * optimizer state, "optimizer.<param>.<slot>" of each parameter's shape.
 *
 * The loader trusts nothing: the container checks sizes and offsets, and
 * the architecture is cross-checked with the tensor table before the model
 * is built, so a hostile file cannot make the loader allocate much more
 * than a small multiple of the file's own size.
 *
 * Everything that knows where the model keeps its parameters is in the
 * first section ("the parameter layout"); the rest of the file reaches the
 * weights and optimizer slots only through it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/status.h"
#include "util/strtab.h"
#include "json.h"
#include "safetensors.h"
#include "dense.h"
#include "embedding.h"
#include "graph.h"
#include "model.h"
#include "optimizer.h"
#include "param.h"
#include "ranking.h"
#include "vocab.h"
#include "model_file.h"

#define BAD(...) tfrs__fail(TFRS_EFORMAT, "model file: " __VA_ARGS__)

/* The architecture as read from a file, before the model is built. */
typedef struct arch_feature {
    const char          *name, *mask;
    size_t               dim, num_oov, vocab_size, ntokens;
    tfrs_feature_options o;      /* kind and settings; vocab, boundaries unset */
    const tfrs__json    *bounds; /* BUCKETIZED: the array of boundaries      */
    size_t               rows;   /* rows of its table (0: none)              */
} arch_feature;

typedef struct arch_layer {
    tfrs_layer_kind kind;
    size_t          units, in, proj;
    tfrs_activation act;
    float           l2, rate;
} arch_layer;

typedef struct arch {
    size_t                 nfeat, nlayers;
    tfrs_structure         structure;
    arch_feature          *feat;
    arch_layer            *layers;
    tfrs_task_options      task;
    tfrs_optimizer_options opt;
    const char            *label, *weight;
    uint64_t               seed;
} arch;

/* ======================================================================== */
/* The parameter layout                                                     */
/* ======================================================================== */

/* The parameters are the entries of the model's parameter table (param.h),
 * in file order; their names, shapes and owning feature columns come from
 * the graph's plan (tfrs__graph_plan) and nowhere else. */

/* The parameter entries (names and shapes, no storage) that the
 * architecture implies, by the graph's own rule, before anything is
 * allocated from the file's sizes. */
static int arch_plan(const arch *a, tfrs__params *plan)
{
    tfrs__graph g;
    int rc = TFRS_OK;

    memset(&g, 0, sizeof(g));
    for (size_t i = 0; i < a->nfeat && rc == TFRS_OK; i++) {
        tfrs__feature f;
        memset(&f, 0, sizeof(f));
        f.kind = a->feat[i].o.kind;
        f.pool = a->feat[i].o.pooling;
        f.rows = a->feat[i].rows;
        f.dim = a->feat[i].dim;
        f.bias = a->feat[i].o.bias;
        f.l2 = a->feat[i].o.l2;
        rc = tfrs__graph_add_feature(&g, &f);
    }
    for (size_t j = 0; j < a->nlayers && rc == TFRS_OK; j++) {
        const arch_layer *l = &a->layers[j];
        rc = l->kind == TFRS_LAYER_CROSS     ? tfrs__graph_add_cross(&g, l->proj, l->l2)
             : l->kind == TFRS_LAYER_DROPOUT ? tfrs__graph_add_dropout(&g, l->rate)
                                             : tfrs__graph_add_dense(&g, l->units, l->act, l->l2);
    }
    g.structure = a->structure;
    if (rc == TFRS_OK)
        rc = tfrs__graph_plan(&g, plan, "model file: architecture");
    else
        rc = tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    tfrs__graph_free(&g);
    if (rc == TFRS_EINVAL || rc == TFRS_ESTATE) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        rc = BAD("architecture: %s", msg);
    }
    return rc;
}

/* ======================================================================== */
/* Names in the architecture                                                */
/* ======================================================================== */

/* The names of enum values (and metric bits) in the architecture. */
typedef struct named {
    const char *name;
    unsigned    value;
} named;

static const named act_names[] = { { "linear", TFRS_ACT_LINEAR }, { "relu", TFRS_ACT_RELU },
                                   { "sigmoid", TFRS_ACT_SIGMOID } };
static const named loss_names[] = { { "mse", TFRS_LOSS_MSE }, { "bce", TFRS_LOSS_BCE },
                                    { "huber", TFRS_LOSS_HUBER } };
static const named kind_names[] = { { "adagrad", TFRS_OPT_ADAGRAD }, { "sgd", TFRS_OPT_SGD },
                                    { "adam", TFRS_OPT_ADAM } };
static const named kind_names_layer[] = { { "dense", TFRS_LAYER_DENSE },
                                          { "cross", TFRS_LAYER_CROSS },
                                          { "dropout", TFRS_LAYER_DROPOUT } };
static const named structure_names[] = { { "stacked", TFRS_STRUCTURE_STACKED },
                                         { "parallel", TFRS_STRUCTURE_PARALLEL } };
static const named metric_names[] = { { "rmse", TFRS_METRIC_RMSE }, { "mae", TFRS_METRIC_MAE },
                                      { "auc", TFRS_METRIC_AUC } };

static const named schedule_names[] = { { "constant", TFRS_LR_CONSTANT },
                                         { "exponential", TFRS_LR_EXPONENTIAL },
                                         { "cosine", TFRS_LR_COSINE } };
#define NAMES(t) (t), sizeof(t) / sizeof((t)[0])

/* The name of value v in the table t of n names, or NULL. */
static const char *name_of(const named *t, size_t n, unsigned v)
{
    for (size_t k = 0; k < n; k++)
        if (t[k].value == v)
            return t[k].name;
    return NULL;
}

/* *v = the value named s in the table t of n names: 0, else -1 (s NULL
 * included). */
static int value_of(const named *t, size_t n, const char *s, unsigned *v)
{
    for (size_t k = 0; k < n && s != NULL; k++)
        if (strcmp(s, t[k].name) == 0) {
            *v = t[k].value;
            return 0;
        }
    return -1;
}


/* ======================================================================== */
/* Saving                                                                   */
/* ======================================================================== */

static const char *vocab_token(const void *vocab, size_t k, size_t *len)
{
    return tfrs__vocab_token_at(vocab, k, len);
}

/* Lists the tensors of m in file order, laid out: *out (tfrs__malloc),
 * *n of them, *data_len bytes of data. */
static int list_tensors(const tfrs_model *m, int with_opt, tfrs__st_tensor **out, size_t *n,
                        size_t *data_len)
{
    int nslots = with_opt ? tfrs__optimizer_num_slots(m->opt.o.kind) : 0;
    const tfrs__params *tab = tfrs__model_params(m);
    size_t np = tab->n, k = 0;
    tfrs__st_tensor *t;

    *out = t = tfrs__calloc(np + 2 * m->g.nfeat + (size_t)nslots * np, sizeof(*t));
    if (t == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");
    for (size_t p = 0, last = SIZE_MAX; p < np; p++) {
        const tfrs__param *e = &tab->p[p];
        size_t f = e->feature;

        tfrs__st_tensor_init(&t[k++], e->name, TFRS__DT_F32, e->ndim, e->shape, e->w);
        /* A vocabulary follows the first tensor of its feature. */
        if (f != SIZE_MAX && f != last && m->g.feat[f].vocab != NULL) {
            const tfrs_vocab *vocab = m->g.feat[f].vocab;
            char bname[64], oname[64];
            snprintf(bname, sizeof(bname), "features.%zu.vocab.bytes", f);
            snprintf(oname, sizeof(oname), "features.%zu.vocab.offsets", f);
            if (tfrs__st_strings(&t[k], bname, oname, tfrs_vocab_num_tokens(vocab),
                                 vocab_token, vocab) < 0)
                goto overflow;
            k += 2;
        }
        last = f;
    }
    /* Slots, in parameter order (the same order as the weights above). */
    for (size_t p = 0; p < np && nslots > 0; p++) {
        const tfrs__param *e = &tab->p[p];
        char sname[160];

        for (int s = 0; s < nslots; s++) {
            if (e->slot[s] == NULL)
                return tfrs__fail(TFRS_ESTATE, "tfrs_model_save: optimizer slot missing");
            snprintf(sname, sizeof(sname), "optimizer.%s.%s", e->name,
                     tfrs__optimizer_slot_name(m->opt.o.kind, s));
            tfrs__st_tensor_init(&t[k++], sname, TFRS__DT_F32, e->ndim, e->shape, e->slot[s]);
        }
    }
    *n = k;
    if (tfrs__st_layout(t, k, data_len) == 0)
        return TFRS_OK;
overflow:
    return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: the model is too large to save");
}

/* j printed (tfrs__malloc'ed), then deleted; NULL if either is NULL. */
static char *to_text(tfrs__json *j, int ok)
{
    char *s = ok ? tfrs__json_print(j) : NULL;

    tfrs__json_delete(j);
    return s;
}

/* The schedule and clipping settings (optimizer options version 2), each
 * only when it differs from its default, so that a model using none of
 * them writes the same bytes as before they existed. */
static void add_schedule(tfrs__json *o, const tfrs_optimizer_options *op, int *ok)
{
    if (op->schedule != TFRS_LR_CONSTANT)
        tfrs__json_add_str(o, "schedule", name_of(NAMES(schedule_names), op->schedule), ok);
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

/* Feature f into the JSON object o.  A string feature without any of the
 * new settings is written exactly as before they existed (name,
 * embedding_dim, num_oov_indices, mask_token, vocab_size); every other key
 * is written only when it differs from its default. */
static void feature_json(const tfrs__feature *f, tfrs__json *o, int *ok)
{
    tfrs__json *arr;

    tfrs__json_add_str(o, "name", f->name, ok);
    if (f->kind != TFRS_FEATURE_STRING)
        tfrs__json_add_str(o, "kind", tfrs__feature_kind_name(f->kind), ok);
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
        tfrs__json_add_str(o, "pooling", tfrs__pooling_name(f->pool), ok);
        tfrs__json_add_str(o, "separator", sep, ok);
    }
    if (f->l2 != 0.0f)
        tfrs__json_add_float(o, "l2", f->l2, ok);
    if (f->bias)
        tfrs__json_add_bool(o, "bias", 1, ok);
}

static char *arch_text(const tfrs_model *m)
{
    tfrs__json *a = tfrs__json_new_object(), *arr, *o;
    const tfrs_optimizer_options *op = &m->opt.o;
    int ok = a != NULL;

    arr = tfrs__json_add_array(a, "features", &ok);
    for (size_t i = 0; i < m->g.nfeat; i++)
        feature_json(&m->g.feat[i], tfrs__json_add_object(arr, NULL, &ok), &ok);
    arr = tfrs__json_add_array(a, "layers", &ok);
    for (size_t j = 0; j < m->g.nlayers; j++) {
        const tfrs__layer *l = &m->g.layers[j];
        o = tfrs__json_add_object(arr, NULL, &ok);
        /* dense layers have no "kind": files of dense-only models are as
         * before cross and dropout layers existed */
        if (l->kind != TFRS_LAYER_DENSE)
            tfrs__json_add_str(o, "kind", name_of(NAMES(kind_names_layer), l->kind), &ok);
        if (l->kind == TFRS_LAYER_DENSE) {
            tfrs__json_add_size(o, "units", l->units, &ok);
            tfrs__json_add_str(o, "activation", name_of(NAMES(act_names), l->act), &ok);
        } else if (l->kind == TFRS_LAYER_CROSS) {
            tfrs__json_add_size(o, "projection_dim", l->proj, &ok);
        } else {
            tfrs__json_add_float(o, "rate", l->rate, &ok);
        }
        if (l->kind != TFRS_LAYER_DROPOUT)
            tfrs__json_add_float(o, "l2", l->l2, &ok);
    }
    if (m->g.structure != TFRS_STRUCTURE_STACKED)   /* absent: stacked */
        tfrs__json_add_str(a, "structure", name_of(NAMES(structure_names), m->g.structure),
                           &ok);
    o = tfrs__json_add_object(a, "task", &ok);
    tfrs__json_add_str(o, "loss", name_of(NAMES(loss_names), m->task.loss), &ok);
    tfrs__json_add_bool(o, "from_logits", m->task.from_logits != 0, &ok);
    tfrs__json_add_float(o, "huber_delta", m->task.huber_delta, &ok);
    arr = tfrs__json_add_array(o, "metrics", &ok);
    for (size_t k = 0; k < sizeof(metric_names) / sizeof(metric_names[0]); k++)
        if (m->task.metrics & metric_names[k].value)
            tfrs__json_add_str(arr, NULL, metric_names[k].name, &ok);
    tfrs__json_add_str(a, "label", m->label, &ok);
    tfrs__json_add_str(a, "weight", m->weight, &ok);
    o = tfrs__json_add_object(a, "optimizer", &ok);
    tfrs__json_add_str(o, "kind", name_of(NAMES(kind_names), op->kind), &ok);
    tfrs__json_add_float(o, "learning_rate", op->learning_rate, &ok);
    tfrs__json_add_float(o, "initial_accumulator", op->initial_accumulator, &ok);
    tfrs__json_add_float(o, "epsilon", op->epsilon, &ok);
    tfrs__json_add_float(o, "momentum", op->momentum, &ok);
    tfrs__json_add_float(o, "beta1", op->beta1, &ok);
    tfrs__json_add_float(o, "beta2", op->beta2, &ok);
    add_schedule(o, op, &ok);
    tfrs__json_add_u64(a, "seed", m->seed, &ok);
    return to_text(a, ok);
}

static char *training_text(const tfrs_model *m)
{
    tfrs__json *t = tfrs__json_new_object();
    int ok = t != NULL;

    tfrs__json_add_u64(t, "steps", m->opt.steps, &ok);
    tfrs__json_add_u64(t, "epochs_done", m->epochs_done, &ok);
    return to_text(t, ok);
}

/* Serialises m into a new buffer: *buf (tfrs__malloc), *len bytes. */
static int serialize(const tfrs_model *m, int with_opt, unsigned char **buf, size_t *len)
{
    tfrs__st_tensor *t = NULL;
    size_t n = 0, data_len = 0;
    char *arch_s = NULL, *train_s = NULL, version[24];
    int rc;

    *buf = NULL;
    if ((rc = list_tensors(m, with_opt, &t, &n, &data_len)) == TFRS_OK) {
        arch_s = arch_text(m);
        train_s = training_text(m);
        if (arch_s == NULL || train_s == NULL)
            rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");
    }
    if (rc == TFRS_OK) {
        const tfrs__st_meta meta[] = {
            { "format", TFRS__FORMAT_NAME }, { "format_version", version },
            { "architecture", arch_s },      { "training", train_s },
            { "optimizer_state", with_opt ? "1" : "0" },
        };
        snprintf(version, sizeof(version), "%d", TFRS__FORMAT_VERSION);
        rc = tfrs__st_write(t, n, data_len, meta, sizeof(meta) / sizeof(meta[0]),
                            "tfrs_model_save", buf, len);
    }
    tfrs__free(arch_s);
    tfrs__free(train_s);
    tfrs__free(t);
    return rc;
}

static int utf8_ok(const char *s)
{
    return s == NULL || tfrs__utf8_valid(s, strlen(s));
}

int tfrs_model_save(const tfrs_model *model, const char *path, unsigned flags)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    if (model == NULL || path == NULL || path[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: model and path are required");
    if (flags & ~TFRS_SAVE_OPTIMIZER)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: unknown flags 0x%x", flags);
    if (!model->built)
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_save: call tfrs_model_build first");
    for (size_t i = 0; i < model->g.nfeat; i++)
        if (!utf8_ok(model->g.feat[i].name) ||
            (model->g.feat[i].vocab != NULL &&
             !utf8_ok(tfrs__vocab_mask_token(model->g.feat[i].vocab))))
            return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: feature %zu: name or mask token "
                              "is not valid UTF-8", i);
    if (!utf8_ok(model->label) || !utf8_ok(model->weight))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: label or weight column name is not "
                          "valid UTF-8");
    if ((rc = serialize(model, (flags & TFRS_SAVE_OPTIMIZER) != 0, &buf, &len)) != TFRS_OK)
        return rc;
    rc = tfrs__write_atomic(path, "tfrs_model_save", buf, len);
    tfrs__free(buf);
    return rc;
}

/* ======================================================================== */
/* Loading                                                                  */
/* ======================================================================== */

typedef struct reader {
    tfrs__st_reader st;
    int             with_opt;
    uint64_t        steps, epochs_done;
    tfrs__json     *arch_root;
} reader;

/* A failure of a public builder call during load: allocation failures stay
 * TFRS_ENOMEM, anything else means the file describes an invalid model. */
static int rewrap(int rc, const char *what)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
    if (rc == TFRS_ENOMEM)
        return tfrs__fail(TFRS_ENOMEM, "model file: %s: %s", what, msg);
    return tfrs__fail(TFRS_EFORMAT, "model file: %s: %s", what, msg);
}

static int read_version(const reader *r)
{
    const char *fmt = tfrs__st_meta_str(&r->st, "format");
    uint64_t v;

    if (fmt == NULL || strcmp(fmt, TFRS__FORMAT_NAME) != 0)
        return BAD("metadata \"format\" is not \"" TFRS__FORMAT_NAME "\": not a libtfrsc file");
    if (tfrs__json_get_u64(r->st.meta, "format_version", &v) < 0 || v == 0)
        return BAD("metadata \"format_version\" is not a positive integer");
    if (v > TFRS__FORMAT_VERSION)
        return tfrs__fail(TFRS_EVERSION, "model file: format version %llu is newer than the "
                          "supported version %d", (unsigned long long)v, TFRS__FORMAT_VERSION);
    return TFRS_OK;
}

static int read_state(reader *r)
{
    const char *opt_s = tfrs__st_meta_str(&r->st, "optimizer_state");
    tfrs__json *t;
    int rc;

    if ((rc = tfrs__st_check_crc(&r->st)) != TFRS_OK)
        return rc;
    if (opt_s == NULL || (strcmp(opt_s, "0") != 0 && strcmp(opt_s, "1") != 0))
        return BAD("metadata \"optimizer_state\" is not \"0\" or \"1\"");
    r->with_opt = opt_s[0] == '1';
    if (tfrs__json_parse_str(tfrs__st_meta_str(&r->st, "training"), &t) == TFRS_ENOMEM ||
        (t != NULL && (rc = tfrs__json_unique_keys(t)) == TFRS_ENOMEM)) {
        tfrs__json_delete(t);
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    }
    if (t == NULL || !tfrs__json_is_object(t) || rc != 0 ||
        tfrs__json_get_u64(t, "steps", &r->steps) < 0 ||
        tfrs__json_get_u64(t, "epochs_done", &r->epochs_done) < 0)
        rc = BAD("metadata \"training\" is not {\"steps\": \"<n>\", \"epochs_done\": \"<n>\"}");
    else if (r->steps > TFRS__STEPS_MAX)
        rc = BAD("metadata \"training\": a step counter of 2^64 - 1 cannot be stepped "
                 "(it would wrap to 0, and Adam would divide 0 by 0)");
    tfrs__json_delete(t);
    return rc;
}

/* ---- architecture ------------------------------------------------------ */

/* The architecture's array `key`, which must be non-empty: a zeroed array
 * of *n items of elem bytes, item i read by fn from element i.  On failure
 * *rc is set, and the array (if any) is still returned, for the caller to
 * free. */
static void *read_array(const tfrs__json *root, const char *key, size_t elem, size_t *n,
                        int (*fn)(const tfrs__json *c, size_t i, void *item), int *rc)
{
    const tfrs__json *arr = tfrs__json_get(root, key), *c;
    unsigned char *items;
    size_t i = 0;

    *n = 0;
    if (tfrs__json_is_array(arr))
        for (c = tfrs__json_child(arr); c != NULL; c = tfrs__json_next(c))
            (*n)++;
    if (*n == 0) {
        *rc = BAD("architecture: \"%s\" must be a non-empty array", key);
        return NULL;
    }
    if ((items = tfrs__calloc(*n, elem)) == NULL)
        *rc = tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (c = tfrs__json_child(arr); c != NULL && *rc == TFRS_OK; c = tfrs__json_next(c), i++)
        *rc = fn(c, i, items + i * elem);
    return items;
}

/* The optional settings of feature i: kind, pooling and separator, l2,
 * bias (absent: the defaults). */
static int read_feature_options(const tfrs__json *c, size_t i, tfrs_feature_options *o)
{
    const tfrs__json *kind = tfrs__json_get(c, "kind"), *pool = tfrs__json_get(c, "pooling");
    const tfrs__json *sep = tfrs__json_get(c, "separator"), *bias = tfrs__json_get(c, "bias");
    const char *sp;

    tfrs_feature_options_init(o, TFRS_FEATURE_OPTIONS_VERSION);
    if (kind != NULL && tfrs__feature_kind_of(tfrs__json_str(kind), &o->kind) < 0)
        return BAD("architecture: feature %zu: unknown \"kind\"", i);
    if (pool != NULL && tfrs__pooling_of(tfrs__json_str(pool), &o->pooling) < 0)
        return BAD("architecture: feature %zu: unknown \"pooling\"", i);
    if (sep != NULL) {
        if ((sp = tfrs__json_str(sep)) == NULL || strlen(sp) != 1)
            return BAD("architecture: feature %zu: \"separator\" must be one byte", i);
        o->separator = sp[0];
    }
    if (tfrs__json_get(c, "l2") != NULL && tfrs__json_get_float(c, "l2", &o->l2) < 0)
        return BAD("architecture: feature %zu: \"l2\" is not a decimal string", i);
    if (bias != NULL && !tfrs__json_is_bool(bias))
        return BAD("architecture: feature %zu: \"bias\" must be true or false", i);
    o->bias = bias != NULL && tfrs__json_is_true(bias);
    return TFRS_OK;
}

/* Feature i of the architecture, from its JSON object c. */
static int read_feature(const tfrs__json *c, size_t i, void *item)
{
    arch_feature *f = item;
    const tfrs__json *mask = tfrs__json_get(c, "mask_token");
    size_t reserved;
    int rc;

    f->name = tfrs__json_get_str(c, "name");
    if (f->name == NULL)
        return BAD("architecture: feature %zu lacks a name", i);
    if ((rc = read_feature_options(c, i, &f->o)) != TFRS_OK)
        return rc;
    if (f->o.kind != TFRS_FEATURE_NUMERIC &&
        tfrs__json_get_size(c, "embedding_dim", &f->o.embedding_dim) < 0)
        return BAD("architecture: feature %zu lacks embedding_dim", i);
    f->dim = f->o.embedding_dim;
    switch (f->o.kind) {
    case TFRS_FEATURE_STRING:
        if (tfrs__json_get_size(c, "num_oov_indices", &f->num_oov) < 0 ||
            tfrs__json_get_size(c, "vocab_size", &f->vocab_size) < 0 ||
            !(tfrs__json_is_null(mask) || tfrs__json_is_string(mask)))
            return BAD("architecture: feature %zu lacks name, embedding_dim, num_oov_indices, "
                       "mask_token or vocab_size", i);
        f->mask = tfrs__json_str(mask);
        reserved = f->num_oov + (f->mask != NULL);
        if (f->num_oov > f->vocab_size || reserved > f->vocab_size)
            return BAD("architecture: feature %zu: vocab_size %zu is smaller than its mask and "
                       "OOV indices", i, f->vocab_size);
        f->ntokens = f->vocab_size - reserved;
        f->rows = f->vocab_size;
        break;
    case TFRS_FEATURE_HASHED:
        if (tfrs__json_get_size(c, "num_buckets", &f->o.num_buckets) < 0)
            return BAD("architecture: feature %zu lacks num_buckets", i);
        f->rows = f->o.num_buckets;
        break;
    case TFRS_FEATURE_NUMERIC:
        if (tfrs__json_get_double(c, "mean", &f->o.mean) < 0 ||
            tfrs__json_get_double(c, "variance", &f->o.variance) < 0)
            return BAD("architecture: feature %zu lacks mean or variance", i);
        f->dim = 1;
        break;
    default:
        f->bounds = tfrs__json_get(c, "boundaries");
        if (!tfrs__json_is_array(f->bounds))
            return BAD("architecture: feature %zu lacks the array \"boundaries\"", i);
        f->o.num_boundaries = tfrs__json_array_size(f->bounds);
        f->rows = f->o.num_boundaries + 1;
        break;
    }
    if (f->o.kind != TFRS_FEATURE_NUMERIC && (f->rows == 0 || f->rows > INT32_MAX))
        return BAD("architecture: feature %zu: a table of %zu rows", i, f->rows);
    if (f->o.kind != TFRS_FEATURE_NUMERIC && f->dim == 0 && !f->o.bias)
        return BAD("architecture: feature %zu: embedding_dim 0 without a bias", i);
    return TFRS_OK;
}

/* Layer i of the architecture, from its JSON object c: "kind" is
 * "cross" or "dropout", or absent for a dense layer. */
static int read_layer(const tfrs__json *c, size_t i, void *item)
{
    arch_layer *l = item;
    const tfrs__json *kind = tfrs__json_get(c, "kind");
    unsigned act, k = TFRS_LAYER_DENSE;

    if (kind != NULL &&
        value_of(NAMES(kind_names_layer), tfrs__json_get_str(c, "kind"), &k) < 0)
        return BAD("architecture: layer %zu: \"kind\" must be \"dense\", \"cross\" or "
                   "\"dropout\"", i);
    l->kind = (tfrs_layer_kind)k;
    if (l->kind == TFRS_LAYER_CROSS) {
        if (tfrs__json_get_size(c, "projection_dim", &l->proj) < 0 ||
            tfrs__json_get_float(c, "l2", &l->l2) < 0)
            return BAD("architecture: layer %zu: a cross layer needs projection_dim and l2", i);
        return TFRS_OK;
    }
    if (l->kind == TFRS_LAYER_DROPOUT) {
        if (tfrs__json_get_float(c, "rate", &l->rate) < 0)
            return BAD("architecture: layer %zu: a dropout layer needs a rate", i);
        return TFRS_OK;
    }
    if (value_of(NAMES(act_names), tfrs__json_get_str(c, "activation"), &act) < 0 ||
        tfrs__json_get_size(c, "units", &l->units) < 0 ||
        tfrs__json_get_float(c, "l2", &l->l2) < 0)
        return BAD("architecture: layer %zu lacks units, a known activation or l2", i);
    l->act = (tfrs_activation)act;
    return TFRS_OK;
}

static int read_task(const tfrs__json *t, tfrs_task_options *o)
{
    const tfrs__json *logits = tfrs__json_get(t, "from_logits");
    const tfrs__json *metrics = tfrs__json_get(t, "metrics"), *c;
    unsigned loss, bit;

    tfrs_task_options_init(o, TFRS_TASK_OPTIONS_VERSION);
    if (value_of(NAMES(loss_names), tfrs__json_get_str(t, "loss"), &loss) < 0 ||
        !tfrs__json_is_bool(logits) || !tfrs__json_is_array(metrics) ||
        tfrs__json_get_float(t, "huber_delta", &o->huber_delta) < 0)
        return BAD("architecture: \"task\" lacks a known loss, from_logits, huber_delta or "
                   "metrics");
    o->loss = (tfrs_loss)loss;
    o->from_logits = tfrs__json_is_true(logits);
    o->metrics = 0;
    for (c = tfrs__json_child(metrics); c != NULL; c = tfrs__json_next(c)) {
        if (value_of(NAMES(metric_names), tfrs__json_str(c), &bit) < 0)
            return BAD("architecture: unknown metric in \"task\"");
        o->metrics |= bit;
    }
    return TFRS_OK;
}

/* The optional version-2 keys of the optimizer record (absent: default). */
static int read_schedule(const tfrs__json *op, tfrs_optimizer_options *o)
{
    static const struct { const char *key; size_t off; } floats[] = {
        { "decay_rate", offsetof(tfrs_optimizer_options, decay_rate) },
        { "alpha", offsetof(tfrs_optimizer_options, alpha) },
        { "warmup_initial_lr", offsetof(tfrs_optimizer_options, warmup_initial_lr) },
        { "global_clipnorm", offsetof(tfrs_optimizer_options, global_clipnorm) },
    };
    const tfrs__json *st = tfrs__json_get(op, "staircase");
    unsigned sched;

    if (tfrs__json_get(op, "schedule") != NULL) {
        if (value_of(NAMES(schedule_names), tfrs__json_get_str(op, "schedule"), &sched) < 0)
            return BAD("architecture: unknown learning-rate schedule");
        o->schedule = (tfrs_lr_schedule)sched;
    }
    if ((tfrs__json_get(op, "decay_steps") != NULL &&
         tfrs__json_get_u64(op, "decay_steps", &o->decay_steps) < 0) ||
        (tfrs__json_get(op, "warmup_steps") != NULL &&
         tfrs__json_get_u64(op, "warmup_steps", &o->warmup_steps) < 0))
        return BAD("architecture: optimizer decay_steps or warmup_steps is not a decimal string");
    for (size_t k = 0; k < sizeof(floats) / sizeof(floats[0]); k++)
        if (tfrs__json_get(op, floats[k].key) != NULL &&
            tfrs__json_get_float(op, floats[k].key, (float *)(void *)((char *)o + floats[k].off))
            < 0)
            return BAD("architecture: optimizer %s is not a decimal string", floats[k].key);
    if (st != NULL) {
        if (!tfrs__json_is_bool(st))
            return BAD("architecture: optimizer staircase is not true or false");
        o->staircase = tfrs__json_is_true(st);
    }
    if (tfrs__optimizer_options_check(o) != TFRS_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        return BAD("architecture: %s", msg);
    }
    return TFRS_OK;
}

static int read_optimizer(const tfrs__json *op, tfrs_optimizer_options *o)
{
    unsigned kind;

    if (value_of(NAMES(kind_names), tfrs__json_get_str(op, "kind"), &kind) < 0)
        return BAD("architecture: unknown optimizer kind");
    tfrs_optimizer_options_init(o, TFRS_OPTIMIZER_OPTIONS_VERSION, (tfrs_optimizer_kind)kind);
    if (tfrs__json_get_float(op, "learning_rate", &o->learning_rate) < 0 ||
        tfrs__json_get_float(op, "initial_accumulator", &o->initial_accumulator) < 0 ||
        tfrs__json_get_float(op, "epsilon", &o->epsilon) < 0 ||
        tfrs__json_get_float(op, "momentum", &o->momentum) < 0 ||
        tfrs__json_get_float(op, "beta1", &o->beta1) < 0 ||
        tfrs__json_get_float(op, "beta2", &o->beta2) < 0)
        return BAD("architecture: optimizer settings missing or not decimal numbers");
    return read_schedule(op, o);
}

static int read_arch(reader *r, arch *a)
{
    const char *s = tfrs__st_meta_str(&r->st, "architecture");
    const tfrs__json *w;
    int rc;

    if (s != NULL && (rc = tfrs__json_check_text(s, strlen(s))) != TFRS__JSON_FINE)
        return rc == TFRS__JSON_NUL ? BAD("a string in the architecture holds a NUL character")
                                    : BAD("the architecture has more than %d JSON values",
                                          TFRS__JSON_VALUES_MAX);
    if (tfrs__json_parse_str(s, &r->arch_root) == TFRS_ENOMEM)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory parsing the architecture");
    if (!tfrs__json_is_object(r->arch_root))
        return BAD("metadata \"architecture\" is not a JSON object");
    if ((rc = tfrs__json_unique_keys(r->arch_root)) != 0)
        return rc == TFRS_ENOMEM ? tfrs__fail(TFRS_ENOMEM, "model file: out of memory")
                                 : BAD("architecture: duplicate key");
    a->feat = read_array(r->arch_root, "features", sizeof(*a->feat), &a->nfeat, read_feature,
                         &rc);
    if (rc == TFRS_OK)
        a->layers = read_array(r->arch_root, "layers", sizeof(*a->layers), &a->nlayers,
                               read_layer, &rc);
    if (rc != TFRS_OK ||
        (rc = read_task(tfrs__json_get(r->arch_root, "task"), &a->task)) != TFRS_OK ||
        (rc = read_optimizer(tfrs__json_get(r->arch_root, "optimizer"), &a->opt)) != TFRS_OK)
        return rc;
    if (tfrs__json_get(r->arch_root, "structure") != NULL) {
        unsigned st;
        if (value_of(NAMES(structure_names), tfrs__json_get_str(r->arch_root, "structure"),
                     &st) < 0)
            return BAD("architecture: \"structure\" must be \"stacked\" or \"parallel\"");
        a->structure = (tfrs_structure)st;
    }
    a->label = tfrs__json_get_str(r->arch_root, "label");
    w = tfrs__json_get(r->arch_root, "weight");
    if (a->label == NULL || !(tfrs__json_is_null(w) || tfrs__json_is_string(w)))
        return BAD("architecture: \"label\" must be a string and \"weight\" a string or null");
    a->weight = tfrs__json_str(w);
    if (tfrs__json_get_u64(r->arch_root, "seed", &a->seed) < 0)
        return BAD("architecture: \"seed\" is not a decimal string");
    return TFRS_OK;
}

/* ---- tensor table against the architecture ---------------------------- */

#define ANY SIZE_MAX

static char *dims_str(char *buf, size_t cap, size_t ndim, const size_t *d)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t k = 0; k < ndim && len < cap; k++) {
        int w = d[k] == ANY ? snprintf(buf + len, cap - len, "%sn", k ? ", " : "")
                            : snprintf(buf + len, cap - len, "%s%zu", k ? ", " : "", d[k]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

/* Finds `name` with the given dtype and shape (an extent of ANY matches
 * anything) and marks it used. */
static int expect(reader *r, const char *name, int dtype, size_t ndim, size_t d0, size_t d1)
{
    const size_t want[2] = { d0, d1 };
    char got_s[96], want_s[96];
    tfrs__st_entry *e = tfrs__st_find(&r->st, name);
    int ok;

    if (e == NULL)
        return BAD("tensor \"%s\" is missing", name);
    ok = e->dtype == dtype && e->ndim == ndim;
    for (size_t k = 0; k < ndim && ok; k++)
        ok = want[k] == ANY || e->shape[k] == want[k];
    if (!ok)
        return BAD("tensor \"%s\" is %s [%s] where the architecture implies %s [%s]", name,
                   tfrs__st_dtype_name(e->dtype),
                   dims_str(got_s, sizeof(got_s), e->ndim, e->shape),
                   tfrs__st_dtype_name(dtype), dims_str(want_s, sizeof(want_s), ndim, want));
    e->used = 1;
    return TFRS_OK;
}

/* Parameter entry e and its optimizer slots (if the file has them). */
static int expect_param(reader *r, const arch *a, const tfrs__param *e)
{
    char sname[160];
    int rc, nslots = tfrs__optimizer_num_slots(a->opt.kind);

    if ((rc = expect(r, e->name, TFRS__DT_F32, e->ndim, e->shape[0], e->shape[1])) != TFRS_OK)
        return rc;
    for (int s = 0; s < nslots && r->with_opt; s++) {
        snprintf(sname, sizeof(sname), "optimizer.%s.%s", e->name, tfrs__optimizer_slot_name(a->opt.kind, s));
        if ((rc = expect(r, sname, TFRS__DT_F32, e->ndim, e->shape[0], e->shape[1])) != TFRS_OK)
            return rc;
    }
    return TFRS_OK;
}

/* Every tensor the architecture implies exists with the right shape, and
 * nothing else does.  Done before anything is allocated from the sizes. */
static int check_tensors(reader *r, arch *a)
{
    tfrs__params plan = { 0 };
    char name[128];
    size_t in = 0;
    int rc;

    for (size_t i = 0; i < a->nfeat; i++)
        if (tfrs__add(in, a->feat[i].dim, &in) < 0)
            return BAD("architecture: feature %zu: bad embedding_dim", i);
    for (size_t j = 0; j < a->nlayers; j++) {
        const arch_layer *l = &a->layers[j];
        if (l->kind == TFRS_LAYER_DENSE && l->units == 0)
            return BAD("architecture: layer %zu has 0 units", j);
        if (l->kind == TFRS_LAYER_DROPOUT && !(l->rate >= 0.0f && l->rate < 1.0f))
            return BAD("architecture: layer %zu: dropout rate must be in [0, 1)", j);
        if (l->kind == TFRS_LAYER_CROSS && l->proj > INT32_MAX)
            return BAD("architecture: layer %zu: projection_dim is too large", j);
    }
    if ((rc = arch_plan(a, &plan)) != TFRS_OK)
        goto done;
    for (size_t k = 0, last = SIZE_MAX; k < plan.n; k++) {
        size_t i = plan.p[k].feature;
        if ((rc = expect_param(r, a, &plan.p[k])) != TFRS_OK)
            goto done;
        if (i == SIZE_MAX || i == last || a->feat[i].o.kind != TFRS_FEATURE_STRING)
            continue;
        last = i;
        snprintf(name, sizeof(name), "features.%zu.vocab.bytes", i);
        if ((rc = expect(r, name, TFRS__DT_U8, 1, ANY, 0)) != TFRS_OK)
            goto done;
        snprintf(name, sizeof(name), "features.%zu.vocab.offsets", i);
        if ((rc = expect(r, name, TFRS__DT_I64, 1, a->feat[i].ntokens + 1, 0)) != TFRS_OK)
            goto done;
    }
    for (size_t k = 0; k < r->st.nents; k++)
        if (!r->st.ents[k].used) {
            rc = BAD("unexpected tensor \"%.64s\"", r->st.ents[k].name);
            goto done;
        }
done:
    tfrs__params_clear(&plan);
    return rc;
}

/* ---- rebuilding the model ---------------------------------------------- */

/* Vocabulary of feature i from its bytes and offsets tensors. */
static int read_vocab(const reader *r, const arch_feature *f, size_t i, tfrs_vocab **out)
{
    char name[128];
    const tfrs__st_entry *eb, *eo;
    const unsigned char *bytes, *offs;
    const char **toks = NULL;
    char *text = NULL;
    size_t n = f->ntokens, prev = 0, pos = 0, cap;
    tfrs_vocab_options vo;
    int rc = TFRS_OK;

    *out = NULL;
    snprintf(name, sizeof(name), "features.%zu.vocab.bytes", i);
    eb = tfrs__st_find(&r->st, name);
    snprintf(name, sizeof(name), "features.%zu.vocab.offsets", i);
    eo = tfrs__st_find(&r->st, name);
    bytes = r->st.data + eb->begin;
    offs = r->st.data + eo->begin;
    if (tfrs__get_u64le(offs) != 0)
        return BAD("feature %zu: vocabulary offsets must start at 0", i);
    /* text holds each token followed by a NUL: total bytes + n. */
    if (tfrs__add(eb->shape[0], n, &cap) < 0 || tfrs__add(cap, 1, &cap) < 0)
        return BAD("feature %zu: vocabulary too large", i);
    toks = tfrs__calloc(n == 0 ? 1 : n, sizeof(*toks));
    text = tfrs__malloc(cap);
    if (toks == NULL || text == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "model file: out of memory for a vocabulary");
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t end = tfrs__get_u64le(offs + 8 * (k + 1));
        size_t len;
        if (end < prev || end > eb->shape[0]) {
            rc = BAD("feature %zu: vocabulary offsets must be non-decreasing and within the "
                     "%zu token bytes", i, eb->shape[0]);
            goto done;
        }
        len = (size_t)end - prev;
        if (memchr(bytes + prev, '\0', len) != NULL) {
            rc = BAD("feature %zu: token %zu contains a NUL byte", i, k);
            goto done;
        }
        memcpy(text + pos, bytes + prev, len);
        toks[k] = text + pos;
        pos += len;
        text[pos++] = '\0';
        prev = (size_t)end;
    }
    if (prev != eb->shape[0]) {
        rc = BAD("feature %zu: the last vocabulary offset %zu is not the byte count %zu", i,
                 prev, eb->shape[0]);
        goto done;
    }
    tfrs_vocab_options_init(&vo, TFRS_VOCAB_OPTIONS_VERSION);
    vo.num_oov_indices = f->num_oov;
    vo.mask_token = f->mask;
    snprintf(name, sizeof(name), "feature %zu: vocabulary", i);
    if ((rc = tfrs__vocab_create_stored(out, toks, n, &vo, name)) != TFRS_OK)
        rc = rewrap(rc, name);
    else if (tfrs_vocab_size(*out) != f->vocab_size)
        rc = BAD("feature %zu: vocab_size %zu does not match the vocabulary", i, f->vocab_size);
done:
    if (rc != TFRS_OK) {
        tfrs_vocab_free(*out);
        *out = NULL;
    }
    tfrs__free(toks);
    tfrs__free(text);
    return rc;
}

/* The boundaries of bucketized feature i (tfrs__malloc'ed). */
static int read_bounds(const arch_feature *f, size_t i, double **out)
{
    const tfrs__json *c;
    size_t k = 0;

    *out = tfrs__malloc((f->o.num_boundaries > 0 ? f->o.num_boundaries : 1) * sizeof(double));
    if (*out == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (c = tfrs__json_child(f->bounds); c != NULL; c = tfrs__json_next(c), k++)
        if (tfrs__json_double(c, &(*out)[k]) < 0) {
            tfrs__free(*out);
            *out = NULL;
            return BAD("architecture: feature %zu: boundary %zu is not a decimal string", i, k);
        }
    return TFRS_OK;
}

/* In rebuild: a builder call that must succeed. */
#define REBUILD(call, what)                     \
    do {                                        \
        if ((rc = (call)) != TFRS_OK) {         \
            rc = rewrap(rc, what);              \
            goto fail;                          \
        }                                       \
    } while (0)

static int rebuild(const reader *r, const arch *a, tfrs_model **out)
{
    tfrs_model *m = NULL;
    tfrs_ranking_task *task = NULL;
    int rc;

    *out = NULL;
    if ((rc = tfrs_model_create(&m, a->seed)) != TFRS_OK)
        return rewrap(rc, "creating the model");
    for (size_t i = 0; i < a->nfeat; i++) {
        tfrs_feature_options o = a->feat[i].o;
        tfrs_vocab *v = NULL;
        double *b = NULL;
        if (o.kind == TFRS_FEATURE_STRING && (rc = read_vocab(r, &a->feat[i], i, &v)) != TFRS_OK)
            goto fail;
        if (o.kind == TFRS_FEATURE_BUCKETIZED && (rc = read_bounds(&a->feat[i], i, &b)) != TFRS_OK)
            goto fail;
        o.vocab = v;
        o.boundaries = b;
        rc = tfrs_model_add_feature_ex(m, a->feat[i].name, &o);
        tfrs_vocab_free(v);
        tfrs__free(b);
        REBUILD(rc, "adding a feature");
    }
    for (size_t j = 0; j < a->nlayers; j++) {
        const arch_layer *l = &a->layers[j];
        if (l->kind == TFRS_LAYER_CROSS)
            REBUILD(tfrs_model_add_cross(m, l->proj, l->l2), "adding a cross layer");
        else if (l->kind == TFRS_LAYER_DROPOUT)
            REBUILD(tfrs_model_add_dropout(m, l->rate), "adding a dropout layer");
        else
            REBUILD(tfrs_model_add_dense(m, l->units, l->act, l->l2), "adding a dense layer");
    }
    REBUILD(tfrs_model_set_structure(m, a->structure), "setting the structure");
    REBUILD(tfrs_ranking_task_create(&task, &a->task), "setting the task");
    REBUILD(tfrs_model_set_task(m, task), "setting the task");
    REBUILD(tfrs_model_set_optimizer(m, &a->opt), "setting the optimizer");
    REBUILD(tfrs_model_set_label(m, a->label, a->weight), "setting the label");
    REBUILD(tfrs_model_build(m), "building the model");
    tfrs_ranking_task_free(task);
    *out = m;
    return TFRS_OK;
fail:
    tfrs_ranking_task_free(task);
    tfrs_model_free(m);
    return rc;
}

/* Decodes F32 tensor `name` into dst (n values), as tfrs__st_read_f32. */
static int read_f32(const reader *r, const char *name, float *dst, size_t n, int nonneg)
{
    const tfrs__st_entry *e = tfrs__st_find(&r->st, name);

    if (e == NULL || e->end - e->begin != 4 * n)
        return BAD("tensor \"%s\" does not match the built model", name);
    return tfrs__st_read_f32(&r->st, e, dst, nonneg);
}

static int restore_weights(const reader *r, tfrs_model *m)
{
    char sname[160];
    tfrs_optimizer_kind kind = m->opt.o.kind;
    int nslots = r->with_opt ? tfrs__optimizer_num_slots(kind) : 0, rc;
    const tfrs__params *tab = tfrs__model_params(m);

    for (size_t p = 0; p < tab->n; p++) {
        const tfrs__param *e = &tab->p[p];
        if ((rc = read_f32(r, e->name, e->w, e->n, 0)) != TFRS_OK)
            return rc;
        for (int s = 0; s < nslots; s++) {
            const char *sn = tfrs__optimizer_slot_name(kind, s);
            snprintf(sname, sizeof(sname), "optimizer.%s.%s", e->name, sn);
            /* Adagrad accumulators and Adam second moments are sums of squares. */
            if ((rc = read_f32(r, sname, e->slot[s], e->n,
                               strcmp(sn, "accumulator") == 0 || strcmp(sn, "v") == 0))
                != TFRS_OK)
                return rc;
        }
    }
    m->opt.steps = r->with_opt ? r->steps : 0;
    m->epochs_done = r->epochs_done;
    return TFRS_OK;
}

/* Where tfrs_model_load gets the data section from: the file, read after
 * its header has been checked, into buf (which holds the 8 + N bytes of
 * the length and the header, and grows to the whole file). */
typedef struct file_source {
    tfrs__file    *file;
    unsigned char *buf;
} file_source;

/* Loads the model file of `size` bytes at buf; with src, buf holds only
 * the length and the header, and the data section is read from the file
 * when the header has been checked. */
static int load(tfrs_model **out, const unsigned char *buf, size_t size, file_source *src)
{
    reader r;
    arch a;
    tfrs_model *m = NULL;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(&a, 0, sizeof(a));
    if ((rc = tfrs__st_open(&r.st, buf, size)) == TFRS_OK &&
        (rc = read_version(&r)) == TFRS_OK &&
        (rc = tfrs__st_read_tensors(&r.st)) == TFRS_OK &&
        (src == NULL || (rc = tfrs__st_read_data(&r.st, src->file, &src->buf)) == TFRS_OK) &&
        (rc = read_state(&r)) == TFRS_OK &&
        (rc = read_arch(&r, &a)) == TFRS_OK &&
        (rc = check_tensors(&r, &a)) == TFRS_OK &&
        (rc = rebuild(&r, &a, &m)) == TFRS_OK &&
        (rc = restore_weights(&r, m)) == TFRS_OK) {
        *out = m;
        m = NULL;
    }
    tfrs_model_free(m);
    tfrs__st_close(&r.st);
    tfrs__json_delete(r.arch_root);
    tfrs__free(a.feat);
    tfrs__free(a.layers);
    return rc;
}

int tfrs_model_load_buffer(tfrs_model **out, const void *data, size_t size)
{
    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load_buffer: out is NULL");
    *out = NULL;
    if (data == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load_buffer: data is NULL");
    return load(out, data, size, NULL);
}

/* Reads the length and the header of f, and only once load has checked
 * them the data section: a file that is not a model file costs at most its
 * header, never its size. */
static int load_file(tfrs_model **out, tfrs__file *f)
{
    file_source src = { f, NULL };
    int rc;

    if ((rc = tfrs__st_read_head(f, &src.buf)) == TFRS_OK)
        rc = load(out, src.buf, f->size, &src);
    tfrs__free(src.buf);
    return rc;
}

int tfrs_model_load(tfrs_model **out, const char *path)
{
    tfrs__file f;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load: out is NULL");
    *out = NULL;
    if (path == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load: path is NULL");
    if ((rc = tfrs__file_open(&f, path, "tfrs_model_load")) != TFRS_OK)
        return rc;
    rc = load_file(out, &f);
    tfrs__file_close(&f);
    if (rc != TFRS_OK && rc != TFRS_EIO) {   /* read errors name the path already */
        char msg[384];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        tfrs__fail(rc, "%s: %s", path, msg);
    }
    return rc;
}
