/*
 * config_schema.c - reading the model description schema (see
 * config_schema.h): every key, its type and range, and messages that name
 * the file, line and key of a mistake.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * One reader serves configuration files and the model file's architecture
 * record.  It knows every key: an unknown key, a value of the wrong type
 * or out of range is an error naming the key's path (features[2].pooling)
 * and, in a configuration file, the line it is on.  The model file's
 * reader is strict about the keys its writer always writes; a
 * configuration may leave them out and get their defaults.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "json.h"
#include "feature.h"
#include "optimizer.h"
#include "config_schema.h"

/* ---- names ---------------------------------------------------------------- */

typedef struct named {
    const char *name;
    unsigned    value;
} named;

static const named act_names[] = { { "linear", TFRS_ACT_LINEAR }, { "relu", TFRS_ACT_RELU },
                                   { "sigmoid", TFRS_ACT_SIGMOID } };
static const named loss_names[] = { { "mse", TFRS_LOSS_MSE }, { "bce", TFRS_LOSS_BCE },
                                    { "huber", TFRS_LOSS_HUBER } };
static const named opt_names[] = { { "adagrad", TFRS_OPT_ADAGRAD }, { "sgd", TFRS_OPT_SGD },
                                   { "adam", TFRS_OPT_ADAM } };
static const named layer_names[] = { { "dense", TFRS_LAYER_DENSE },
                                     { "cross", TFRS_LAYER_CROSS },
                                     { "dropout", TFRS_LAYER_DROPOUT } };
static const named structure_names[] = { { "stacked", TFRS_STRUCTURE_STACKED },
                                         { "parallel", TFRS_STRUCTURE_PARALLEL } };
static const named metric_names[] = { { "rmse", TFRS_METRIC_RMSE }, { "mae", TFRS_METRIC_MAE },
                                      { "auc", TFRS_METRIC_AUC } };
static const named schedule_names[] = { { "constant", TFRS_LR_CONSTANT },
                                        { "exponential", TFRS_LR_EXPONENTIAL },
                                        { "cosine", TFRS_LR_COSINE } };
static const named monitor_names[] = { { "loss", TFRS_MONITOR_LOSS },
                                       { "total_loss", TFRS_MONITOR_TOTAL_LOSS },
                                       { "rmse", TFRS_MONITOR_RMSE },
                                       { "mae", TFRS_MONITOR_MAE },
                                       { "auc", TFRS_MONITOR_AUC } };
static const named kind_names[] = { { "string", TFRS_FEATURE_STRING },
                                    { "hashed", TFRS_FEATURE_HASHED },
                                    { "numeric", TFRS_FEATURE_NUMERIC },
                                    { "bucketized", TFRS_FEATURE_BUCKETIZED } };
static const named pool_names[] = { { "none", TFRS_POOL_NONE }, { "sum", TFRS_POOL_SUM },
                                    { "mean", TFRS_POOL_MEAN }, { "sqrtn", TFRS_POOL_SQRTN } };

#define NAMES(t) (t), sizeof(t) / sizeof((t)[0])

static const char *name_of(const named *t, size_t n, unsigned v)
{
    for (size_t k = 0; k < n; k++)
        if (t[k].value == v)
            return t[k].name;
    return NULL;
}

/* ---- the reader ----------------------------------------------------------- */

typedef struct rd {
    const tfrs__cfg_source *src;
    const tfrs__json       *root;
    int                     strict;   /* the model file's record          */
} rd;

/* The error `code` (TFRS_EFORMAT in the model file's record) of node
 * (NULL: the document) at `path`. */
static int vfail_at(const rd *r, int code, const tfrs__json *node, const char *path,
                    const char *fmt, va_list ap)
{
    char what[320];

    vsnprintf(what, sizeof(what), fmt, ap);
    if (r->strict)
        return tfrs__fail(TFRS_EFORMAT, "model file: architecture: %s%s%s", path,
                          path[0] != '\0' ? ": " : "", what);
    return tfrs__fail(code, "%s:%zu: %s%s%s", r->src->name,
                      node != NULL ? tfrs__json_line(r->src->text, r->src->len, r->root, node)
                                   : (size_t)1,
                      path, path[0] != '\0' ? ": " : "", what);
}

static int fail_at(const rd *r, int code, const tfrs__json *node, const char *path,
                   const char *fmt, ...) TFRS__PRINTF(5, 6);

static int fail_at(const rd *r, int code, const tfrs__json *node, const char *path,
                   const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(r, code, node, path, fmt, ap);
    va_end(ap);
    return rc;
}

/* A mistake of the document: TFRS_EPARSE. */
static int bad(const rd *r, const tfrs__json *node, const char *path, const char *fmt, ...)
    TFRS__PRINTF(4, 5);

static int bad(const rd *r, const tfrs__json *node, const char *path, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(r, TFRS_EPARSE, node, path, fmt, ap);
    va_end(ap);
    return rc;
}

/* A call's failure rc (its message the thread's last error), restated at
 * node: TFRS_ENOMEM stays as it is; anything else becomes `code`, or keeps
 * rc when code is 0. */
static int restate(const rd *r, int rc, int code, const tfrs__json *node, const char *path)
{
    char msg[256];

    if (rc == TFRS_ENOMEM || rc == TFRS_OK)
        return rc;
    snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
    return fail_at(r, code != 0 ? code : rc, node, path, "%s", msg);
}

/* Every member of object obj (at path) has one of the n keys. */
static int known_keys(const rd *r, const tfrs__json *obj, const char *path,
                      const char *const *keys, size_t n)
{
    for (const tfrs__json *c = tfrs__json_child(obj); c != NULL; c = tfrs__json_next(c)) {
        size_t k = 0;
        while (k < n && strcmp(keys[k], tfrs__json_key(c)) != 0)
            k++;
        if (k == n)
            return bad(r, c, path, "unknown key \"%.64s\"", tfrs__json_key(c));
    }
    return TFRS_OK;
}

/* Member key of obj, or NULL; with strict reading and `required`, an
 * absent key is an error (*rc). */
static const tfrs__json *member(const rd *r, const tfrs__json *obj, const char *path,
                                const char *key, int required, int *rc)
{
    const tfrs__json *v = tfrs__json_get(obj, key);

    if (v == NULL && required && r->strict && *rc == TFRS_OK)
        *rc = bad(r, obj, path, "\"%s\" is missing", key);
    return v;
}

static int get_size(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                    int required, size_t *out)
{
    int rc = TFRS_OK;
    const tfrs__json *v = member(r, obj, path, key, required, &rc);

    if (rc == TFRS_OK && v != NULL && tfrs__json_size(v, out) < 0)
        rc = bad(r, v, path, "\"%s\" must be a non-negative integer", key);
    return rc;
}

static int get_int(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                   int lo, int hi, int *out)
{
    size_t v = 0;
    int rc = get_size(r, obj, path, key, 0, &v);

    if (rc == TFRS_OK && tfrs__json_get(obj, key) != NULL) {
        if (v < (size_t)lo || v > (size_t)hi)
            return bad(r, tfrs__json_get(obj, key), path, "\"%s\" must be in %d .. %d", key, lo,
                       hi);
        *out = (int)v;
    }
    return rc;
}

/* A 64-bit count: a JSON integer (exact below 2^53) or a decimal string. */
static int get_u64(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                   int required, uint64_t *out)
{
    int rc = TFRS_OK;
    const tfrs__json *v = member(r, obj, path, key, required, &rc);
    size_t z;

    if (rc != TFRS_OK || v == NULL)
        return rc;
    if (r->strict && !tfrs__json_is_string(v))
        return bad(r, v, path, "\"%s\" must be a string of decimal digits", key);
    if (tfrs__json_is_string(v))
        return tfrs__json_get_u64(obj, key, out) == 0
                   ? TFRS_OK : bad(r, v, path, "\"%s\" must be decimal digits", key);
    if (tfrs__json_size(v, &z) < 0)
        return bad(r, v, path, "\"%s\" must be a non-negative integer", key);
    *out = (uint64_t)z;
    return TFRS_OK;
}

static int get_double(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                      int required, double *out)
{
    int rc = TFRS_OK;
    const tfrs__json *v = member(r, obj, path, key, required, &rc);

    if (rc == TFRS_OK && v != NULL && r->strict && !tfrs__json_is_string(v))
        rc = bad(r, v, path, "\"%s\" must be a decimal string (exact)", key);
    if (rc == TFRS_OK && v != NULL && tfrs__json_number(v, out) < 0)
        rc = bad(r, v, path, "\"%s\" must be a finite number", key);
    return rc;
}

/* A float: the double rounded once; finite after rounding. */
static int get_float(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                     int required, float *out)
{
    double d;
    int rc;

    if (tfrs__json_is_string(tfrs__json_get(obj, key))) {   /* exact for the file */
        if (tfrs__json_get_float(obj, key, out) < 0)
            return bad(r, tfrs__json_get(obj, key), path, "\"%s\" must be a finite number",
                       key);
        return TFRS_OK;
    }
    if ((rc = get_double(r, obj, path, key, required, &d)) != TFRS_OK ||
        tfrs__json_get(obj, key) == NULL)
        return rc;
    if (!isfinite((float)d))
        return bad(r, tfrs__json_get(obj, key), path, "\"%s\" is out of float range", key);
    *out = (float)d;
    return TFRS_OK;
}

static int get_bool(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                    int required, int *out)
{
    int rc = TFRS_OK;
    const tfrs__json *v = member(r, obj, path, key, required, &rc);

    if (rc != TFRS_OK || v == NULL)
        return rc;
    if (!tfrs__json_is_bool(v))
        return bad(r, v, path, "\"%s\" must be true or false", key);
    *out = tfrs__json_is_true(v);
    return TFRS_OK;
}

/* A string (or null when nullable) member. */
static int get_str(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                   int required, int nullable, const char **out)
{
    int rc = TFRS_OK;
    const tfrs__json *v = member(r, obj, path, key, required, &rc);

    if (rc != TFRS_OK || v == NULL)
        return rc;
    if (nullable && tfrs__json_is_null(v)) {
        *out = NULL;
        return TFRS_OK;
    }
    if (!tfrs__json_is_string(v))
        return bad(r, v, path, "\"%s\" must be a string%s", key, nullable ? " or null" : "");
    *out = tfrs__json_str(v);
    return TFRS_OK;
}

/* One of the names of table t. */
static int get_enum(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                    int required, const named *t, size_t n, unsigned *out)
{
    const char *s = NULL;
    char list[160] = "";
    int rc = get_str(r, obj, path, key, required, 0, &s);

    if (rc != TFRS_OK || s == NULL)
        return rc;
    for (size_t k = 0; k < n; k++)
        if (strcmp(s, t[k].name) == 0) {
            *out = t[k].value;
            return TFRS_OK;
        }
    for (size_t k = 0, len = 0; k < n && len < sizeof(list); k++) {
        int w = snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
                         k == 0 ? "" : k + 1 == n ? " or " : ", ", t[k].name);
        len += w > 0 ? (size_t)w : 0;
    }
    return bad(r, tfrs__json_get(obj, key), path, "\"%s\" is \"%.40s\"; expected %s", key, s,
               list);
}

/* The array member key of obj: *n elements. */
static int get_array(const rd *r, const tfrs__json *obj, const char *path, const char *key,
                     int required, const tfrs__json **arr, size_t *n)
{
    int rc = TFRS_OK;

    *arr = member(r, obj, path, key, required, &rc);
    *n = 0;
    if (rc != TFRS_OK || *arr == NULL)
        return rc;
    if (!tfrs__json_is_array(*arr))
        return bad(r, *arr, path, "\"%s\" must be an array", key);
    *n = tfrs__json_array_size(*arr);
    return TFRS_OK;
}

#define TRY(call)                               \
    do {                                        \
        if ((rc = (call)) != TFRS_OK)           \
            return rc;                          \
    } while (0)

/* ---- sections ------------------------------------------------------------- */

static int read_feature(const rd *r, const tfrs__json *c, size_t i, tfrs__cfg_feature *f)
{
    static const char *const keys[] = {
        "name", "kind", "embedding_dim", "pooling", "separator", "l2", "bias",
        "num_oov_indices", "mask_token", "vocab_size", "num_buckets", "mean", "variance",
        "boundaries", "num_bins",
    };
    char path[48];
    const char *sep = NULL;
    unsigned v;
    int rc, strict_string;

    snprintf(path, sizeof(path), "features[%zu]", i);
    if (!tfrs__json_is_object(c))
        return bad(r, c, path, "must be an object");
    TRY(known_keys(r, c, path, keys, sizeof(keys) / sizeof(keys[0])));
    f->node = c;
    tfrs_feature_options_init(&f->o, TFRS_FEATURE_OPTIONS_VERSION);
    f->num_oov = 1;
    TRY(get_str(r, c, path, "name", 1, 0, &f->name));
    if (f->name == NULL || f->name[0] == '\0')
        return bad(r, c, path, "\"name\" is missing or empty");
    v = TFRS_FEATURE_STRING;
    TRY(get_enum(r, c, path, "kind", 0, NAMES(kind_names), &v));
    f->o.kind = (tfrs_feature_kind)v;
    strict_string = f->o.kind == TFRS_FEATURE_STRING;
    TRY(get_size(r, c, path, "embedding_dim", f->o.kind != TFRS_FEATURE_NUMERIC,
                 &f->o.embedding_dim));
    v = TFRS_POOL_NONE;
    TRY(get_enum(r, c, path, "pooling", 0, NAMES(pool_names), &v));
    f->o.pooling = (tfrs_pooling)v;
    TRY(get_str(r, c, path, "separator", 0, 0, &sep));
    if (sep != NULL) {
        if (strlen(sep) != 1 || (unsigned char)sep[0] > 127)
            return bad(r, tfrs__json_get(c, "separator"), path, "\"separator\" must be one "
                       "ASCII character");
        f->o.separator = sep[0];
    }
    TRY(get_float(r, c, path, "l2", 0, &f->o.l2));
    TRY(get_bool(r, c, path, "bias", 0, &f->o.bias));
    /* the vocabulary of a string feature */
    TRY(get_size(r, c, path, "num_oov_indices", strict_string, &f->num_oov));
    if (strict_string && r->strict && tfrs__json_get(c, "mask_token") == NULL)
        return bad(r, c, path, "\"mask_token\" is missing");
    TRY(get_str(r, c, path, "mask_token", 0, 1, &f->mask));
    TRY(get_size(r, c, path, "vocab_size", strict_string, &f->vocab_size));
    TRY(get_size(r, c, path, "num_buckets", f->o.kind == TFRS_FEATURE_HASHED,
                 &f->o.num_buckets));
    TRY(get_double(r, c, path, "mean", 0, &f->o.mean));
    TRY(get_double(r, c, path, "variance", 0, &f->o.variance));
    f->has_moments = tfrs__json_get(c, "mean") != NULL || tfrs__json_get(c, "variance") != NULL;
    if (f->has_moments && (tfrs__json_get(c, "mean") == NULL ||
                           tfrs__json_get(c, "variance") == NULL))
        return bad(r, c, path, "give both \"mean\" and \"variance\", or neither (to adapt "
                   "them from the data)");
    TRY(get_array(r, c, path, "boundaries", 0, &f->bounds, &f->o.num_boundaries));
    TRY(get_size(r, c, path, "num_bins", 0, &f->num_bins));
    /* what belongs to which kind */
    if (f->o.kind != TFRS_FEATURE_STRING &&
        (tfrs__json_get(c, "num_oov_indices") != NULL || tfrs__json_get(c, "mask_token") ||
         tfrs__json_get(c, "vocab_size") != NULL))
        return bad(r, c, path, "num_oov_indices, mask_token and vocab_size are for string "
                   "features");
    if (f->o.kind != TFRS_FEATURE_HASHED && tfrs__json_get(c, "num_buckets") != NULL)
        return bad(r, tfrs__json_get(c, "num_buckets"), path, "num_buckets is for hashed "
                   "features");
    if (f->o.kind == TFRS_FEATURE_NUMERIC &&
        (tfrs__json_get(c, "embedding_dim") != NULL || tfrs__json_get(c, "pooling") != NULL ||
         tfrs__json_get(c, "l2") != NULL || tfrs__json_get(c, "bias") != NULL))
        return bad(r, c, path, "a numeric feature has no table: embedding_dim, pooling, l2 "
                   "and bias do not apply");
    if (f->o.pooling == TFRS_POOL_NONE && tfrs__json_get(c, "separator") != NULL)
        return bad(r, tfrs__json_get(c, "separator"), path, "\"separator\" is for bags (a "
                   "\"pooling\" other than \"none\")");
    if (f->o.kind == TFRS_FEATURE_BUCKETIZED && f->o.pooling != TFRS_POOL_NONE)
        return bad(r, c, path, "a bucketized feature holds one number per row and cannot be "
                   "pooled");
    if (f->o.kind == TFRS_FEATURE_HASHED && (f->o.num_buckets == 0 ||
                                             f->o.num_buckets > INT32_MAX))
        return bad(r, tfrs__json_get(c, "num_buckets") != NULL ? tfrs__json_get(c, "num_buckets")
                                                               : c,
                   path, "\"num_buckets\" must be in 1 .. 2^31 - 1");
    if (f->has_moments && !(f->o.variance >= 0.0))
        return bad(r, tfrs__json_get(c, "variance"), path, "\"variance\" must be >= 0");
    if (f->o.kind != TFRS_FEATURE_NUMERIC && f->has_moments)
        return bad(r, c, path, "mean and variance are for numeric features");
    if (f->o.kind != TFRS_FEATURE_BUCKETIZED &&
        (f->bounds != NULL || tfrs__json_get(c, "num_bins") != NULL))
        return bad(r, c, path, "boundaries and num_bins are for bucketized features");
    if (f->o.kind == TFRS_FEATURE_NUMERIC && r->strict && !f->has_moments)
        return bad(r, c, path, "\"mean\" and \"variance\" are missing");
    if (f->o.kind == TFRS_FEATURE_BUCKETIZED) {
        if ((f->bounds != NULL) == (tfrs__json_get(c, "num_bins") != NULL) ||
            (r->strict && f->bounds == NULL))
            return bad(r, c, path, "a bucketized feature needs \"boundaries\" or "
                       "\"num_bins\" (to adapt them), not both");
        if (f->bounds == NULL && f->num_bins < 2)
            return bad(r, tfrs__json_get(c, "num_bins"), path, "\"num_bins\" must be >= 2");
    }
    if (f->o.kind == TFRS_FEATURE_STRING && f->vocab_size > 0 &&
        (f->num_oov > f->vocab_size || f->num_oov + (f->mask != NULL) > f->vocab_size))
        return bad(r, c, path, "vocab_size %zu is smaller than its mask and OOV indices",
                   f->vocab_size);
    switch (f->o.kind) {
    case TFRS_FEATURE_STRING:
        f->rows = f->vocab_size;
        break;
    case TFRS_FEATURE_HASHED:
        f->rows = f->o.num_buckets;
        break;
    case TFRS_FEATURE_BUCKETIZED:
        f->rows = f->bounds != NULL ? f->o.num_boundaries + 1 : 0;
        break;
    default:
        f->rows = 0;
        f->o.embedding_dim = 0;
        break;
    }
    if (f->o.kind != TFRS_FEATURE_NUMERIC && f->o.embedding_dim == 0 && !f->o.bias)
        return bad(r, c, path, "\"embedding_dim\" must be > 0 (or 0 with \"bias\": true)");
    if (f->rows > INT32_MAX)
        return bad(r, c, path, "a table of %zu rows (at most 2^31 - 1)", f->rows);
    return TFRS_OK;
}

static int read_layer(const rd *r, const tfrs__json *c, size_t i, tfrs__cfg_layer *l)
{
    static const char *const keys[] = { "kind", "units", "activation", "l2", "projection_dim",
                                        "rate" };
    char path[48];
    unsigned v = TFRS_LAYER_DENSE;
    int rc;

    snprintf(path, sizeof(path), "layers[%zu]", i);
    if (!tfrs__json_is_object(c))
        return bad(r, c, path, "must be an object");
    TRY(known_keys(r, c, path, keys, sizeof(keys) / sizeof(keys[0])));
    l->node = c;
    TRY(get_enum(r, c, path, "kind", 0, NAMES(layer_names), &v));
    l->kind = (tfrs_layer_kind)v;
    l->act = TFRS_ACT_LINEAR;
    if (l->kind != TFRS_LAYER_DENSE &&
        (tfrs__json_get(c, "units") != NULL || tfrs__json_get(c, "activation") != NULL))
        return bad(r, c, path, "units and activation are for dense layers");
    if (l->kind != TFRS_LAYER_CROSS && tfrs__json_get(c, "projection_dim") != NULL)
        return bad(r, c, path, "projection_dim is for cross layers");
    if (l->kind != TFRS_LAYER_DROPOUT && tfrs__json_get(c, "rate") != NULL)
        return bad(r, c, path, "rate is for dropout layers");
    if (l->kind == TFRS_LAYER_DROPOUT && tfrs__json_get(c, "l2") != NULL)
        return bad(r, c, path, "a dropout layer has no l2");
    switch (l->kind) {
    case TFRS_LAYER_DENSE:
        v = TFRS_ACT_LINEAR;
        TRY(get_size(r, c, path, "units", 1, &l->units));
        if (l->units == 0 || l->units > INT32_MAX)
            return bad(r, c, path, "\"units\" must be in 1 .. 2^31 - 1");
        TRY(get_enum(r, c, path, "activation", 1, NAMES(act_names), &v));
        l->act = (tfrs_activation)v;
        TRY(get_float(r, c, path, "l2", 1, &l->l2));
        break;
    case TFRS_LAYER_CROSS:
        TRY(get_size(r, c, path, "projection_dim", 1, &l->proj));
        TRY(get_float(r, c, path, "l2", 1, &l->l2));
        break;
    default:
        TRY(get_float(r, c, path, "rate", 1, &l->rate));
        if (tfrs__json_get(c, "rate") == NULL)
            return bad(r, c, path, "a dropout layer needs \"rate\"");
        break;
    }
    return TFRS_OK;
}

static int read_task(const rd *r, const tfrs__json *t, tfrs_task_options *o)
{
    static const char *const keys[] = { "loss", "from_logits", "huber_delta", "metrics" };
    const tfrs__json *metrics;
    size_t n;
    unsigned v = TFRS_LOSS_MSE;
    int rc;

    tfrs_task_options_init(o, TFRS_TASK_OPTIONS_VERSION);
    if (t == NULL) {
        if (r->strict)
            return bad(r, NULL, "", "\"task\" is missing");
        return TFRS_OK;
    }
    if (!tfrs__json_is_object(t))
        return bad(r, t, "task", "must be an object");
    TRY(known_keys(r, t, "task", keys, sizeof(keys) / sizeof(keys[0])));
    TRY(get_enum(r, t, "task", "loss", 1, NAMES(loss_names), &v));
    o->loss = (tfrs_loss)v;
    TRY(get_bool(r, t, "task", "from_logits", 1, &o->from_logits));
    TRY(get_float(r, t, "task", "huber_delta", 1, &o->huber_delta));
    TRY(get_array(r, t, "task", "metrics", 1, &metrics, &n));
    if (metrics != NULL) {
        o->metrics = 0;
        for (const tfrs__json *c = tfrs__json_child(metrics); c != NULL; c = tfrs__json_next(c)) {
            const char *s = tfrs__json_str(c);
            size_t k = 0;
            while (k < sizeof(metric_names) / sizeof(metric_names[0]) &&
                   (s == NULL || strcmp(s, metric_names[k].name) != 0))
                k++;
            if (k == sizeof(metric_names) / sizeof(metric_names[0]))
                return bad(r, c, "task.metrics", "unknown metric; expected \"rmse\", \"mae\" "
                           "or \"auc\"");
            o->metrics |= metric_names[k].value;
        }
    }
    if (!(o->huber_delta > 0.0f))
        return bad(r, t, "task", "\"huber_delta\" must be > 0");
    return TFRS_OK;
}

static int read_optimizer(const rd *r, const tfrs__json *op, tfrs_optimizer_options *o)
{
    static const char *const keys[] = {
        "kind", "learning_rate", "initial_accumulator", "epsilon", "momentum", "beta1",
        "beta2", "schedule", "decay_steps", "decay_rate", "staircase", "alpha",
        "warmup_steps", "warmup_initial_lr", "global_clipnorm",
    };
    static const char *const floats[] = { "learning_rate", "initial_accumulator", "epsilon",
                                          "momentum", "beta1", "beta2" };
    float *const fdst[] = { &o->learning_rate, &o->initial_accumulator, &o->epsilon,
                            &o->momentum, &o->beta1, &o->beta2 };
    unsigned v = TFRS_OPT_ADAGRAD;
    int rc;

    if (op == NULL) {
        tfrs_optimizer_options_init(o, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAGRAD);
        return r->strict ? bad(r, NULL, "", "\"optimizer\" is missing") : TFRS_OK;
    }
    if (!tfrs__json_is_object(op))
        return bad(r, op, "optimizer", "must be an object");
    TRY(known_keys(r, op, "optimizer", keys, sizeof(keys) / sizeof(keys[0])));
    TRY(get_enum(r, op, "optimizer", "kind", 1, NAMES(opt_names), &v));
    tfrs_optimizer_options_init(o, TFRS_OPTIMIZER_OPTIONS_VERSION, (tfrs_optimizer_kind)v);
    for (size_t k = 0; k < sizeof(floats) / sizeof(floats[0]); k++)
        TRY(get_float(r, op, "optimizer", floats[k], 1, fdst[k]));
    v = TFRS_LR_CONSTANT;
    TRY(get_enum(r, op, "optimizer", "schedule", 0, NAMES(schedule_names), &v));
    o->schedule = (tfrs_lr_schedule)v;
    TRY(get_u64(r, op, "optimizer", "decay_steps", 0, &o->decay_steps));
    TRY(get_float(r, op, "optimizer", "decay_rate", 0, &o->decay_rate));
    TRY(get_bool(r, op, "optimizer", "staircase", 0, &o->staircase));
    TRY(get_float(r, op, "optimizer", "alpha", 0, &o->alpha));
    TRY(get_u64(r, op, "optimizer", "warmup_steps", 0, &o->warmup_steps));
    TRY(get_float(r, op, "optimizer", "warmup_initial_lr", 0, &o->warmup_initial_lr));
    TRY(get_float(r, op, "optimizer", "global_clipnorm", 0, &o->global_clipnorm));
    if (tfrs__optimizer_options_check(o) != TFRS_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        return bad(r, op, "optimizer", "%s", msg);
    }
    return TFRS_OK;
}

static int read_training(const rd *r, const tfrs__json *t, tfrs__training *tr)
{
    static const char *const keys[] = {
        "epochs", "batch_size", "shuffle", "shuffle_seed", "threads", "validation_fraction",
        "early_stopping", "monitor", "patience", "min_delta", "restore_best_weights",
    };
    tfrs_fit_options fo;
    unsigned v = TFRS_MONITOR_LOSS;
    int rc;

    tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION);
    memset(tr, 0, sizeof(*tr));
    tr->epochs = fo.epochs;
    tr->batch_size = fo.batch_size;
    tr->shuffle = fo.shuffle;
    tr->shuffle_seed = fo.shuffle_seed;
    tr->threads = fo.threads;
    tr->monitor = fo.monitor;
    tr->patience = fo.patience;
    tr->min_delta = fo.min_delta;
    if (t == NULL)
        return TFRS_OK;
    if (!tfrs__json_is_object(t))
        return bad(r, t, "training", "must be an object");
    tr->present = 1;
    TRY(known_keys(r, t, "training", keys, sizeof(keys) / sizeof(keys[0])));
    TRY(get_int(r, t, "training", "epochs", 0, 1000000, &tr->epochs));
    TRY(get_size(r, t, "training", "batch_size", 0, &tr->batch_size));
    if (tr->batch_size == 0 || tr->batch_size > UINT32_MAX)
        return bad(r, tfrs__json_get(t, "batch_size"), "training", "\"batch_size\" must be in "
                   "1 .. 2^32 - 1");
    TRY(get_bool(r, t, "training", "shuffle", 0, &tr->shuffle));
    TRY(get_u64(r, t, "training", "shuffle_seed", 0, &tr->shuffle_seed));
    TRY(get_int(r, t, "training", "threads", 1, 256, &tr->threads));
    TRY(get_double(r, t, "training", "validation_fraction", 0, &tr->validation_fraction));
    if (!(tr->validation_fraction >= 0.0 && tr->validation_fraction < 1.0))
        return bad(r, tfrs__json_get(t, "validation_fraction"), "training",
                   "\"validation_fraction\" must be in [0, 1)");
    TRY(get_bool(r, t, "training", "early_stopping", 0, &tr->early_stopping));
    TRY(get_enum(r, t, "training", "monitor", 0, NAMES(monitor_names), &v));
    tr->monitor = (tfrs_monitor)v;
    TRY(get_int(r, t, "training", "patience", 0, 1000000, &tr->patience));
    TRY(get_double(r, t, "training", "min_delta", 0, &tr->min_delta));
    if (!(tr->min_delta >= 0.0))
        return bad(r, tfrs__json_get(t, "min_delta"), "training", "\"min_delta\" must be >= 0");
    TRY(get_bool(r, t, "training", "restore_best_weights", 0, &tr->restore_best_weights));
    if ((tr->early_stopping || tr->restore_best_weights) && tr->validation_fraction == 0.0)
        return bad(r, t, "training", "early_stopping and restore_best_weights need a "
                   "\"validation_fraction\" > 0");
    return TFRS_OK;
}

void tfrs__config_free_adapted(size_t n, tfrs_vocab **vocabs, double **bounds)
{
    for (size_t i = 0; i < n; i++) {
        if (vocabs != NULL)
            tfrs_vocab_free(vocabs[i]);
        if (bounds != NULL)
            tfrs__free(bounds[i]);
    }
    tfrs__free(vocabs);
    tfrs__free(bounds);
}

void tfrs__config_free(tfrs__config *c)
{
    tfrs__free(c->feat);
    tfrs__free(c->layers);
    tfrs__json_delete(c->root);
    memset(c, 0, sizeof(*c));
}

static int read_top(const rd *r, tfrs__config *c)
{
    static const char *const keys[] = { "features", "layers", "structure", "task", "label",
                                        "weight", "optimizer", "seed", "training" };
    const tfrs__json *root = r->root, *arr, *e;
    unsigned v = TFRS_STRUCTURE_STACKED, m;
    size_t i;
    int rc;

    TRY(known_keys(r, root, "", keys, sizeof(keys) / sizeof(keys[0])));
    TRY(get_array(r, root, "", "features", 1, &arr, &c->nfeat));
    if (c->nfeat == 0)
        return bad(r, arr != NULL ? arr : root, "", "\"features\" must be a non-empty array");
    if ((c->feat = tfrs__calloc(c->nfeat, sizeof(*c->feat))) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "configuration: out of memory");
    for (e = tfrs__json_child(arr), i = 0; e != NULL; e = tfrs__json_next(e), i++) {
        TRY(read_feature(r, e, i, &c->feat[i]));
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->feat[k].name, c->feat[i].name) == 0)
                return bad(r, e, "features", "two features are named \"%.64s\"",
                           c->feat[i].name);
    }
    TRY(get_array(r, root, "", "layers", 1, &arr, &c->nlayers));
    if (c->nlayers == 0)
        return bad(r, arr != NULL ? arr : root, "", "\"layers\" must be a non-empty array");
    if ((c->layers = tfrs__calloc(c->nlayers, sizeof(*c->layers))) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "configuration: out of memory");
    for (e = tfrs__json_child(arr), i = 0; e != NULL; e = tfrs__json_next(e), i++)
        TRY(read_layer(r, e, i, &c->layers[i]));
    TRY(get_enum(r, root, "", "structure", 0, NAMES(structure_names), &v));
    c->structure = (tfrs_structure)v;
    TRY(read_task(r, tfrs__json_get(root, "task"), &c->task));
    c->label = "label";
    TRY(get_str(r, root, "", "label", 1, 0, &c->label));
    TRY(get_str(r, root, "", "weight", 1, 1, &c->weight));
    if (c->label == NULL || c->label[0] == '\0' || (c->weight != NULL && c->weight[0] == '\0'))
        return bad(r, root, "", "\"label\" and \"weight\" must not be empty");
    TRY(read_optimizer(r, tfrs__json_get(root, "optimizer"), &c->opt));
    TRY(get_u64(r, root, "", "seed", 1, &c->seed));
    TRY(read_training(r, tfrs__json_get(root, "training"), &c->training));
    /* tfrs_model_fit refuses to monitor a metric the task does not compute */
    m = c->training.monitor == TFRS_MONITOR_RMSE  ? TFRS_METRIC_RMSE
        : c->training.monitor == TFRS_MONITOR_MAE ? TFRS_METRIC_MAE
        : c->training.monitor == TFRS_MONITOR_AUC ? TFRS_METRIC_AUC : 0;
    if ((c->task.metrics & m) != m)
        return bad(r, tfrs__json_get(tfrs__json_get(root, "training"), "monitor"), "training",
                   "\"monitor\" is \"%s\", which the task does not compute (add it to "
                   "task.metrics)", name_of(NAMES(monitor_names), c->training.monitor));
    return TFRS_OK;
}

int tfrs__config_read(tfrs__config *c, const tfrs__cfg_source *src)
{
    rd r = { src, NULL, src->name == NULL };
    const char *end = NULL;
    unsigned long failed;
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = tfrs__json_check_text(src->text, src->len)) != TFRS__JSON_FINE)
        return bad(&r, NULL, "", rc == TFRS__JSON_NUL ? "a string holds a NUL character"
                                                      : "more than %d JSON values",
                   TFRS__JSON_VALUES_MAX);
    failed = tfrs__alloc_failures();     /* cJSON's NULL may mean out of memory */
    c->root = tfrs__json_parse(src->text, src->len, &end);
    if (c->root == NULL) {
        if (tfrs__alloc_failures() != failed)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory",
                              r.strict ? "model file: architecture" : src->name);
        if (r.strict)
            return tfrs__fail(TFRS_EFORMAT, "model file: architecture: not JSON");
        return tfrs__fail(TFRS_EPARSE, "%s:%zu: not valid JSON here", src->name,
                          end != NULL && end >= src->text && end <= src->text + src->len
                              ? tfrs__json_offset_line(src->text, (size_t)(end - src->text))
                              : (size_t)1);
    }
    r.root = c->root;
    rc = tfrs__json_unique_keys(c->root);
    if (rc == TFRS_ENOMEM)
        rc = tfrs__fail(TFRS_ENOMEM, "configuration: out of memory");
    else if (rc != 0)
        rc = bad(&r, NULL, "", "an object has the same key twice");
    else if (!tfrs__json_is_object(c->root))
        rc = bad(&r, c->root, "", "the document must be a JSON object");
    else
        rc = read_top(&r, c);
    if (rc != TFRS_OK)
        tfrs__config_free(c);
    return rc;
}

int tfrs__config_bounds(const tfrs__config *c, const tfrs__cfg_source *src, size_t f,
                        double **out)
{
    rd r = { src, c->root, src->name == NULL };
    const tfrs__cfg_feature *ft = &c->feat[f];
    const tfrs__json *e;
    size_t k = 0, n = ft->o.num_boundaries;
    char path[48];

    snprintf(path, sizeof(path), "features[%zu].boundaries", f);
    *out = tfrs__malloc((n > 0 ? n : 1) * sizeof(double));
    if (*out == NULL)
        return tfrs__fail(TFRS_ENOMEM, "configuration: out of memory");
    for (e = tfrs__json_child(ft->bounds); e != NULL; e = tfrs__json_next(e), k++)
        if ((r.strict && !tfrs__json_is_string(e)) || tfrs__json_number(e, &(*out)[k]) < 0 || (k > 0 && !((*out)[k] > (*out)[k - 1]))) {
            tfrs__free(*out);
            *out = NULL;
            return bad(&r, e, path, "boundary %zu is not a finite number above the one before",
                       k);
        }
    return TFRS_OK;
}

/* ---- for the writer and the builder calls ---------------------------------- */

const char *tfrs__config_name(tfrs__cfg_table table, unsigned value)
{
    static const struct { const named *t; size_t n; } tables[] = {
        { NAMES(act_names) },      { NAMES(loss_names) },     { NAMES(opt_names) },
        { NAMES(layer_names) },    { NAMES(structure_names) }, { NAMES(metric_names) },
        { NAMES(schedule_names) }, { NAMES(monitor_names) },  { NAMES(kind_names) },
        { NAMES(pool_names) },
    };

    return (unsigned)table < sizeof(tables) / sizeof(tables[0])
               ? name_of(tables[table].t, tables[table].n, value) : NULL;
}

int tfrs__config_mistake(const tfrs__config *c, const tfrs__cfg_source *src,
                         const tfrs__json *node, const char *path, const char *fmt, ...)
{
    rd r = { src, c->root, src->name == NULL };
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(&r, TFRS_EPARSE, node, path, fmt, ap);
    va_end(ap);
    return rc;
}

int tfrs__config_restate(const tfrs__config *c, const tfrs__cfg_source *src, int rc, int code,
                         const tfrs__json *node, const char *path)
{
    rd r = { src, c->root, src->name == NULL };

    return restate(&r, rc, code, node, path);
}
