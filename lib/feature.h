/*
 * feature.h - feature columns: how one input column becomes a slice of the
 * model's input x0 (and, with a bias path, a scalar added to the score).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Kinds (tfrs_feature_kind) and what a row holds:
 *   STRING      a token looked up in a vocabulary (Keras StringLookup)
 *   HASHED      a token hashed into num_buckets rows (Keras Hashing)
 *   NUMERIC     a number, normalized (Keras Normalization): 1 column of x0
 *   BUCKETIZED  a number, bucketized by boundaries (Keras Discretization)
 * STRING and HASHED features may be bags: the row holds several tokens
 * joined by a separator byte, whose rows are pooled (sum, mean, sqrt-n).
 *
 * A batch addresses its rows by keys, one int32 per example and feature
 * ([B, F], row-major), as the id-only API always did:
 *   single-token and bucketized features: the key is the table row;
 *   bags: the key is a bag of the feature's tfrs__input (off, ids);
 *   numeric: the key is a value of the feature's tfrs__input (values).
 * Keys are checked once when they are made (tfrs__feature_encode, bind) or
 * given (tfrs__feature_key_ok); the passes trust them.
 */
#ifndef TFRS_FEATURE_H
#define TFRS_FEATURE_H

#include "util/common.h"
#include "embedding.h"

typedef struct tfrs__feature {
    char             *name;
    tfrs_feature_kind kind;
    tfrs_pooling      pool;     /* NONE: one token per row                 */
    char              sep;      /* bags: the separator byte                */
    tfrs_vocab       *vocab;    /* STRING (owned)                          */
    size_t            buckets;  /* HASHED                                  */
    double           *bounds;   /* BUCKETIZED (owned), strictly increasing */
    size_t            nbounds;
    double            mean, var; /* NUMERIC                                */
    float             scale;    /* NUMERIC: 1 / max(sqrt(var), 1e-7)       */
    size_t            rows;     /* rows of the table (0: NUMERIC)          */
    size_t            dim;      /* columns of x0 (embedding size; 1 for
                                   NUMERIC; 0 for a bias-only feature)     */
    size_t            offset;   /* first column in x0 (after build)        */
    float             l2;       /* embedding L2, on the rows of a batch    */
    int               bias;     /* a scalar bias per row (wide path)       */
    tfrs_embedding   *emb;      /* rows x dim, or NULL (after build)       */
    tfrs_embedding   *bemb;     /* rows x 1 bias table, or NULL            */
} tfrs__feature;

/* The per-call side table of a bag or numeric feature. */
typedef struct tfrs__input {
    const uint32_t *off;     /* bags: bag k is ids[off[k] .. off[k + 1])   */
    const int32_t  *ids;
    size_t          nbags;
    const float    *values;  /* numeric: value k, already normalized      */
    size_t          nvalues;
} tfrs__input;

/* Growable storage behind a tfrs__input. */
typedef struct tfrs__encoded {
    uint32_t *off;
    size_t    noff, off_cap;
    int32_t  *ids;
    size_t    nids, ids_cap;
    float    *values;
    size_t    nvalues, values_cap;
} tfrs__encoded;

/* 1 if the key of f is a table row (a single token or a bucket). */
int  tfrs__feature_is_single(const tfrs__feature *f);
/* 1 if f needs a side table (bags, numeric). */
int  tfrs__feature_needs_input(const tfrs__feature *f);

/* Checks the settings of o for a feature named `name` and fills f (name
 * and vocabulary copied); messages start with fn.  On failure f holds
 * nothing to free. */
int  tfrs__feature_init(tfrs__feature *f, const char *name, const tfrs_feature_options *o,
                        const char *fn);
/* The options that describe f (views into f). */
void tfrs__feature_options_of(const tfrs__feature *f, tfrs_feature_options *o);
/* Frees what f owns (not the tables: see graph.c). */
void tfrs__feature_clear(tfrs__feature *f);

/* ---- keys ---------------------------------------------------------------- */

void tfrs__encoded_free(tfrs__encoded *e);
/* Frees the n encodings of the array enc and the array (NULL allowed). */
void tfrs__encoded_free_array(tfrs__encoded *enc, size_t n);
/* The input that e holds (bags and values). */
tfrs__input tfrs__encoded_input(const tfrs__encoded *e);
/* Appends the value s (len bytes: a token, a bag, or a decimal number, by
 * the kind of f) and sets *key.  TFRS_EINVAL for a number that does not
 * parse, TFRS_ENOTFOUND for an unknown token without OOV buckets,
 * TFRS_ENOMEM; messages start with fn and name the feature and `example`. */
int  tfrs__feature_encode(const tfrs__feature *f, const char *s, size_t len, tfrs__encoded *e,
                          int32_t *key, const char *fn, size_t example);
/* The key of a number x for a NUMERIC or BUCKETIZED feature (appending
 * the normalized value to e for NUMERIC); TFRS_ENOMEM only. */
int  tfrs__feature_encode_number(const tfrs__feature *f, double x, tfrs__encoded *e,
                                 int32_t *key);
/* keys[r * stride] for every row r of ds, from the dataset column named
 * like f (string column for STRING and HASHED, float or int64 for the
 * numbers); each distinct string is encoded once.  Messages start with fn. */
int  tfrs__feature_bind(const tfrs__feature *f, const tfrs_dataset *ds, int32_t *keys,
                        size_t stride, tfrs__encoded *e, const char *fn);
/* 1 if key is valid for f with side table in (NULL allowed for single). */
int  tfrs__feature_key_ok(const tfrs__feature *f, const tfrs__input *in, int32_t key);

/* ---- the passes ---------------------------------------------------------- */

/* x[i * ld + 0 .. dim) = the feature's input of example i, i < B (keys
 * keys[i * stride]).  Bags pool their rows; an empty bag gives zeros. */
void tfrs__feature_gather(const tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                          size_t stride, size_t B, float *x, size_t ld);
/* The embedding gradient of dx (as x above): added to the rows' gradient. */
void tfrs__feature_scatter(tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                           size_t stride, size_t B, const float *dx, size_t ld);
/* out[i] += the (pooled) bias of example i; and its gradient from ds[i]. */
void tfrs__feature_bias_add(const tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                            size_t stride, size_t B, float *out);
void tfrs__feature_bias_scatter(tfrs__feature *f, const tfrs__input *in, const int32_t *keys,
                                size_t stride, size_t B, const float *ds);

#endif /* TFRS_FEATURE_H */
