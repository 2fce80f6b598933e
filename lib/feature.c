/*
 * feature.c - feature columns: settings, keys, and the input slice of x0
 * (see feature.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "util/alloc.h"
#include "util/number.h"
#include "util/status.h"
#include "util/strtab.h"
#include "embedding.h"
#include "feature.h"
#include "vocab.h"

/* Keras' backend epsilon, the floor of Normalization's standard deviation. */
#define NORM_EPSILON 1e-7

/* Table rows are int32 ids. */
#define ROWS_MAX ((size_t)INT32_MAX)

static const char *const kind_names[] = { "string", "hashed", "numeric", "bucketized" };
static const char *const pool_names[] = { "none", "sum", "mean", "sqrtn" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))



int tfrs__feature_is_single(const tfrs__feature *f)
{
    return f->kind == TFRS_FEATURE_BUCKETIZED ||
           (f->kind != TFRS_FEATURE_NUMERIC && f->pool == TFRS_POOL_NONE);
}

int tfrs__feature_needs_input(const tfrs__feature *f)
{
    return !tfrs__feature_is_single(f);
}

/* ---- settings ------------------------------------------------------------ */

static const tfrs_feature_options feature_defaults = {
    .kind = TFRS_FEATURE_STRING, .embedding_dim = 32, .pooling = TFRS_POOL_NONE,
    .separator = '|', .mean = 0.0, .variance = 1.0,
};

int tfrs_feature_options_init(tfrs_feature_options *opts, unsigned int version)
{
    return tfrs__options_init(opts, &feature_defaults, sizeof(*opts), version,
                              TFRS_FEATURE_OPTIONS_VERSION, "tfrs_feature_options_init");
}

static int check_options(const char *name, const tfrs_feature_options *o, size_t *rows,
                         const char *fn)
{
    int table = o->kind != TFRS_FEATURE_NUMERIC;

    if ((unsigned)o->kind >= COUNT(kind_names))
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': unknown kind %d", fn, name,
                          (int)o->kind);
    if ((unsigned)o->pooling >= COUNT(pool_names))
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': unknown pooling %d", fn, name,
                          (int)o->pooling);
    if (o->pooling != TFRS_POOL_NONE &&
        (o->kind == TFRS_FEATURE_NUMERIC || o->kind == TFRS_FEATURE_BUCKETIZED))
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': a %s feature holds one number per "
                          "row and cannot be pooled", fn, name, kind_names[o->kind]);
    if (o->pooling != TFRS_POOL_NONE && ((unsigned char)o->separator == 0 || (unsigned char)o->separator > 127))
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': a bag needs an ASCII separator "
                          "other than NUL", fn, name);
    if (!(o->l2 >= 0.0f) || !isfinite(o->l2))
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': l2 must be finite and >= 0", fn,
                          name);
    if (table && o->embedding_dim == 0 && !o->bias)
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': embedding_dim must be > 0 (or 0 "
                          "with bias set)", fn, name);
    switch (o->kind) {
    case TFRS_FEATURE_STRING:
        if (o->vocab == NULL)
            return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': a string feature needs a "
                              "vocabulary", fn, name);
        *rows = tfrs_vocab_size(o->vocab);
        break;
    case TFRS_FEATURE_HASHED:
        *rows = o->num_buckets;
        break;
    case TFRS_FEATURE_BUCKETIZED:
        if (o->num_boundaries > 0 && o->boundaries == NULL)
            return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': boundaries is NULL", fn, name);
        for (size_t k = 0; k < o->num_boundaries; k++)
            if (!isfinite(o->boundaries[k]) || (k > 0 && !(o->boundaries[k] >
                                                           o->boundaries[k - 1])))
                return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': boundary %zu is not finite "
                                  "or not above the one before", fn, name, k);
        *rows = o->num_boundaries < ROWS_MAX ? o->num_boundaries + 1 : 0;
        break;
    default:
        if (!isfinite(o->mean) || !isfinite(o->variance) || !(o->variance >= 0.0))
            return tfrs__fail(TFRS_EINVAL, "%s: feature '%s': mean and variance must be "
                              "finite and variance >= 0", fn, name);
        *rows = 0;
        return TFRS_OK;
    }
    if (*rows == 0 || *rows > ROWS_MAX)
        return tfrs__fail(TFRS_EINVAL, "%s: feature '%s' would have a table of %zu rows "
                          "(needs 1 .. 2^31-1)", fn, name, *rows);
    return TFRS_OK;
}

int tfrs__feature_init(tfrs__feature *f, const char *name, const tfrs_feature_options *o,
                       const char *fn)
{
    size_t rows = 0;
    int rc;

    memset(f, 0, sizeof(*f));
    if ((rc = check_options(name, o, &rows, fn)) != TFRS_OK)
        return rc;
    f->kind = o->kind;
    f->pool = o->kind == TFRS_FEATURE_STRING || o->kind == TFRS_FEATURE_HASHED
                  ? o->pooling : TFRS_POOL_NONE;
    f->sep = f->pool != TFRS_POOL_NONE ? o->separator : '|';
    f->rows = rows;
    if (o->kind == TFRS_FEATURE_NUMERIC) {
        double sd = sqrt(o->variance);
        f->mean = o->mean;
        f->var = o->variance;
        f->scale = (float)(1.0 / (sd > NORM_EPSILON ? sd : NORM_EPSILON));
        f->dim = 1;
        return (f->name = tfrs__strdup(name)) != NULL
                   ? TFRS_OK : tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    }
    f->dim = o->embedding_dim;
    f->l2 = o->l2;
    f->bias = o->bias != 0;
    f->buckets = o->kind == TFRS_FEATURE_HASHED ? o->num_buckets : 0;
    f->name = tfrs__strdup(name);
    if (f->name == NULL)
        goto nomem;
    if (o->kind == TFRS_FEATURE_STRING && (rc = tfrs__vocab_clone(&f->vocab, o->vocab)) != TFRS_OK)
        goto fail;
    if (o->kind == TFRS_FEATURE_BUCKETIZED && o->num_boundaries > 0) {
        f->bounds = tfrs__malloc(o->num_boundaries * sizeof(double));
        if (f->bounds == NULL)
            goto nomem;
        memcpy(f->bounds, o->boundaries, o->num_boundaries * sizeof(double));
    }
    f->nbounds = o->kind == TFRS_FEATURE_BUCKETIZED ? o->num_boundaries : 0;
    return TFRS_OK;
nomem:
    rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
fail:
    tfrs__feature_clear(f);
    return rc;
}

void tfrs__feature_options_of(const tfrs__feature *f, tfrs_feature_options *o)
{
    tfrs_feature_options_init(o, TFRS_FEATURE_OPTIONS_VERSION);
    o->kind = f->kind;
    o->embedding_dim = f->kind == TFRS_FEATURE_NUMERIC ? 0 : f->dim;
    o->vocab = f->vocab;
    o->num_buckets = f->buckets;
    o->pooling = f->pool;
    o->separator = f->sep;
    o->mean = f->kind == TFRS_FEATURE_NUMERIC ? f->mean : 0.0;
    o->variance = f->kind == TFRS_FEATURE_NUMERIC ? f->var : 1.0;
    o->boundaries = f->bounds;
    o->num_boundaries = f->nbounds;
    o->l2 = f->l2;
    o->bias = f->bias;
}

void tfrs__feature_clear(tfrs__feature *f)
{
    tfrs__free(f->name);
    tfrs_vocab_free(f->vocab);
    tfrs__free(f->bounds);
    memset(f, 0, sizeof(*f));
}


/* ---- keys ---------------------------------------------------------------- */

void tfrs__encoded_free(tfrs__encoded *e)
{
    tfrs__free(e->off);
    tfrs__free(e->ids);
    tfrs__free(e->values);
    memset(e, 0, sizeof(*e));
}

void tfrs__encoded_free_array(tfrs__encoded *enc, size_t n)
{
    for (size_t f = 0; enc != NULL && f < n; f++)
        tfrs__encoded_free(&enc[f]);
    tfrs__free(enc);
}

tfrs__input tfrs__encoded_input(const tfrs__encoded *e)
{
    tfrs__input in;

    memset(&in, 0, sizeof(in));
    in.off = e->off;
    in.ids = e->ids;
    in.nbags = e->noff > 0 ? e->noff - 1 : 0;
    in.values = e->values;
    in.nvalues = e->nvalues;
    return in;
}

/* The row of a token of len bytes, or -1 (unknown, no OOV bucket). */
static int32_t token_row(const tfrs__feature *f, const char *s, size_t len)
{
    if (f->kind == TFRS_FEATURE_HASHED)
        return (int32_t)(tfrs__fnv1a64(s, len) % f->buckets);
    return tfrs__vocab_lookup_bytes(f->vocab, s, len);
}

/* The bucket of x: the number of boundaries <= x. */
static int32_t bucket_of(const tfrs__feature *f, double x)
{
    size_t lo = 0, hi = f->nbounds;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->bounds[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)lo;
}

int tfrs__feature_encode_number(const tfrs__feature *f, double x, tfrs__encoded *e,
                                int32_t *key)
{
    if (f->kind == TFRS_FEATURE_BUCKETIZED) {
        *key = bucket_of(f, x);
        return TFRS_OK;
    }
    if (e->nvalues >= (size_t)INT32_MAX || TFRS__GROW(e->values, e->values_cap, e->nvalues + 1) < 0)
        return TFRS_ENOMEM;
    e->values[e->nvalues] = (float)((x - f->mean) * (double)f->scale);
    *key = (int32_t)e->nvalues++;
    return TFRS_OK;
}

/* Appends the bag s[0 .. len) to e. */
static int encode_bag(const tfrs__feature *f, const char *s, size_t len, tfrs__encoded *e,
                      int32_t *key, const char *fn, size_t example)
{
    size_t start = e->nids;

    if (e->noff == 0) {
        if (TFRS__GROW(e->off, e->off_cap, 1) < 0)
            goto nomem;
        e->off[e->noff++] = 0;
    }
    if (e->noff > (size_t)INT32_MAX || TFRS__GROW(e->off, e->off_cap, e->noff + 1) < 0)
        goto nomem;
    for (size_t i = 0; i < len;) {
        const char *t = s + i, *end = memchr(t, f->sep, len - i);
        size_t n = end != NULL ? (size_t)(end - t) : len - i;
        int32_t row;

        i += n + 1;
        if (n == 0)
            continue;
        if ((row = token_row(f, t, n)) < 0) {
            e->nids = start;
            return tfrs__fail(TFRS_ENOTFOUND, "%s: example %zu: feature '%s': unknown token "
                              "\"%.*s\" and no OOV bucket", fn, example, f->name,
                              (int)(n < 64 ? n : 64), t);
        }
        if (e->nids >= UINT32_MAX || TFRS__GROW(e->ids, e->ids_cap, e->nids + 1) < 0) {
            e->nids = start;
            goto nomem;
        }
        e->ids[e->nids++] = row;
    }
    e->off[e->noff] = (uint32_t)e->nids;
    *key = (int32_t)(e->noff++ - 1);
    return TFRS_OK;
nomem:
    return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for the bags of feature '%s'", fn,
                      f->name);
}

int tfrs__feature_encode(const tfrs__feature *f, const char *s, size_t len, tfrs__encoded *e,
                         int32_t *key, const char *fn, size_t example)
{
    if (f->kind == TFRS_FEATURE_NUMERIC || f->kind == TFRS_FEATURE_BUCKETIZED) {
        double x;
        if (!tfrs__decimal_syntax(s, len) || tfrs__decimal_to_double(s, len, &x) < 0)
            return tfrs__fail(TFRS_EINVAL, "%s: example %zu: feature '%s': \"%.*s\" is not a "
                              "finite decimal number", fn, example, f->name,
                              (int)(len < 64 ? len : 64), s);
        return tfrs__feature_encode_number(f, x, e, key) == TFRS_OK
                   ? TFRS_OK : tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    }
    if (f->pool != TFRS_POOL_NONE)
        return encode_bag(f, s, len, e, key, fn, example);
    if ((*key = token_row(f, s, len)) < 0)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: example %zu: feature '%s': unknown token "
                          "\"%.*s\" and no OOV bucket", fn, example, f->name,
                          (int)(len < 64 ? len : 64), s);
    return TFRS_OK;
}

/* Keys of a number column (float or int64). */
static int bind_numbers(const tfrs__feature *f, const tfrs_dataset *ds, int32_t *keys,
                        size_t stride, tfrs__encoded *e, const char *fn)
{
    size_t n = tfrs_dataset_num_rows(ds);
    const float *fv = NULL;
    const int64_t *iv = NULL;

    if (tfrs_dataset_floats(ds, f->name, &fv) != TFRS_OK &&
        tfrs_dataset_int64s(ds, f->name, &iv) != TFRS_OK)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: the dataset has no float or int64 column '%s' "
                          "for %s feature '%s'", fn, f->name, kind_names[f->kind], f->name);
    if (f->kind == TFRS_FEATURE_NUMERIC) {
        e->values = tfrs__malloc((n > 0 ? n : 1) * sizeof(float));
        if (e->values == NULL)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
        e->values_cap = n > 0 ? n : 1;
    }
    for (size_t r = 0; r < n; r++) {
        double x = fv != NULL ? (double)fv[r] : (double)iv[r];
        /* cannot fail: room for n values was made above */
        (void)tfrs__feature_encode_number(f, x, e, &keys[r * stride]);
    }
    return TFRS_OK;
}

int tfrs__feature_bind(const tfrs__feature *f, const tfrs_dataset *ds, int32_t *keys,
                       size_t stride, tfrs__encoded *e, const char *fn)
{
    const uint32_t *col;
    size_t nstr, n = tfrs_dataset_num_rows(ds);
    int32_t *map;
    int rc = TFRS_OK;

    if (f->kind == TFRS_FEATURE_NUMERIC || f->kind == TFRS_FEATURE_BUCKETIZED)
        return bind_numbers(f, ds, keys, stride, e, fn);
    if (tfrs_dataset_string_ids(ds, f->name, &col, &nstr) != TFRS_OK)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: the dataset has no string column '%s' for "
                          "feature '%s'", fn, f->name, f->name);
    map = tfrs__calloc(nstr > 0 ? nstr : 1, sizeof(*map));
    if (map == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    /* Each distinct string once (a bag: its key is its position here). */
    for (size_t k = 0; k < nstr && rc == TFRS_OK; k++) {
        const char *s;
        rc = tfrs_dataset_string(ds, f->name, (uint32_t)k, &s);
        if (rc == TFRS_OK)
            rc = tfrs__feature_encode(f, s, strlen(s), e, &map[k], fn, k);
    }
    for (size_t r = 0; r < n && rc == TFRS_OK; r++)
        keys[r * stride] = map[col[r]];
    tfrs__free(map);
    return rc;
}

int tfrs__feature_key_ok(const tfrs__feature *f, const tfrs__input *in, int32_t key)
{
    if (key < 0)
        return 0;
    if (tfrs__feature_is_single(f))
        return (size_t)key < f->rows;
    if (in == NULL)
        return 0;
    return (size_t)key < (f->kind == TFRS_FEATURE_NUMERIC ? in->nvalues : in->nbags);
}

/* ---- the passes ---------------------------------------------------------- */

/* The weight of each row of a bag of n tokens. */
static float pool_weight(tfrs_pooling p, size_t n)
{
    if (n == 0 || p == TFRS_POOL_SUM)
        return 1.0f;
    return p == TFRS_POOL_MEAN ? 1.0f / (float)n : (float)(1.0 / sqrt((double)n));
}

void tfrs__feature_gather(const tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                          size_t stride, size_t B, float *x, size_t ld)
{
    size_t dim = f->dim;

    if (dim == 0)
        return;
    if (f->kind == TFRS_FEATURE_NUMERIC) {
        for (size_t i = 0; i < B; i++)
            x[i * ld] = in->values[keys[i * stride]];
        return;
    }
    if (tfrs__feature_is_single(f)) {
        tfrs__embedding_gather(f->emb, keys, stride, B, x, ld);
        return;
    }
    for (size_t i = 0; i < B; i++) {
        uint32_t k = (uint32_t)keys[i * stride];
        const int32_t *ids = in->ids + in->off[k];
        size_t n = in->off[k + 1] - in->off[k];
        float w = pool_weight(f->pool, n), *out = x + i * ld;

        memset(out, 0, dim * sizeof(float));
        for (size_t t = 0; t < n; t++) {
            const float *row = f->emb->w + (size_t)ids[t] * dim;
            for (size_t j = 0; j < dim; j++)
                out[j] += row[j];
        }
        if (w != 1.0f)
            for (size_t j = 0; j < dim; j++)
                out[j] *= w;
    }
}

/* G[row, :] += w * d[0 .. dim), marking the row touched. */
static void add_row(tfrs_embedding *e, int32_t row, float w, const float *d)
{
    float *g = e->g + (size_t)row * e->dim;

    if (!e->mark[row]) {
        e->mark[row] = 1;
        e->touched[e->ntouched++] = row;
    }
    for (size_t j = 0; j < e->dim; j++)
        g[j] += w * d[j];
}

void tfrs__feature_scatter(tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                           size_t stride, size_t B, const float *dx, size_t ld)
{
    if (f->emb == NULL)
        return;
    if (tfrs__feature_is_single(f)) {
        tfrs__embedding_scatter_add(f->emb, keys, stride, B, dx, ld);
        return;
    }
    for (size_t i = 0; i < B; i++) {
        uint32_t k = (uint32_t)keys[i * stride];
        size_t n = in->off[k + 1] - in->off[k];
        float w = pool_weight(f->pool, n);

        for (size_t t = 0; t < n; t++)
            add_row(f->emb, in->ids[in->off[k] + t], w, dx + i * ld);
    }
}

void tfrs__feature_bias_add(const tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                            size_t stride, size_t B, float *out)
{
    const float *b = f->bemb->w;

    for (size_t i = 0; i < B; i++) {
        int32_t k = keys[i * stride];
        if (tfrs__feature_is_single(f)) {
            out[i] += b[k];
        } else {
            size_t n = in->off[k + 1] - in->off[k];
            float s = 0.0f;
            for (size_t t = 0; t < n; t++)
                s += b[in->ids[in->off[k] + t]];
            out[i] += s * pool_weight(f->pool, n);
        }
    }
}

void tfrs__feature_bias_scatter(tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                                size_t stride, size_t B, const float *ds)
{
    for (size_t i = 0; i < B; i++) {
        int32_t k = keys[i * stride];
        if (tfrs__feature_is_single(f)) {
            add_row(f->bemb, k, 1.0f, ds + i);
        } else {
            size_t n = in->off[k + 1] - in->off[k];
            float w = pool_weight(f->pool, n);
            for (size_t t = 0; t < n; t++)
                add_row(f->bemb, in->ids[in->off[k] + t], w, ds + i);
        }
    }
}
