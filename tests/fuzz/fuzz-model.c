/*
 * fuzz-model.c - libFuzzer target for the model loader
 * (tfrs_model_load_buffer).  A model that loads, whatever its features
 * (string, hashed, numeric, bucketized, bags) and layers (dense, cross,
 * dropout; stacked or parallel), must also predict, rank, take a test and a
 * training step where it takes ids, and fit and evaluate on a small
 * dataset, without trouble.
 *
 * The data section is covered by a CRC-32, which random mutations of the
 * weights or the vocabulary bytes almost never match.  So an input whose
 * stored CRC is wrong is also tried a second time with the right CRC
 * written into its header, which lets the fuzzer reach the checks behind it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <limits.h>
#include <zlib.h>

#include "fuzz.h"

static const char unknown[] = "fuzz: not a token";
static const char hashed_token[] = "fuzz token";

/* Two examples' values (values[f] and values[F + f]) and, where a feature
 * has one table row per example, their ids (ids[f], ids[F + f]). */
typedef struct examples {
    size_t       F;
    const char **values;
    int32_t     *ids;
    char        *text;      /* owned strings that values point into      */
    int          ids_ok;    /* every feature single-row: id calls work    */
    int          exact;     /* ids are exactly the rows of the values     */
    int          may_miss;  /* a value may be unknown without OOV bucket  */
    size_t       single;    /* first single-row feature, or SIZE_MAX      */
} examples;

/* Row count of a feature's table (0 for numeric). */
static size_t table_rows(const tfrs_feature_options *o)
{
    switch (o->kind) {
    case TFRS_FEATURE_STRING:
        return tfrs_vocab_size(o->vocab);
    case TFRS_FEATURE_HASHED:
        return o->num_buckets;
    case TFRS_FEATURE_BUCKETIZED:
        return o->num_boundaries + 1;
    default:
        return 0;
    }
}

/* The id of a single-token value of feature o, or -1 when the harness
 * cannot tell (it then leaves the comparison out). */
static int32_t id_of(const tfrs_feature_options *o, const char *value)
{
    int32_t id = -1;

    if (o->kind == TFRS_FEATURE_HASHED)
        return (int32_t)(tfrs__fnv1a64(value, strlen(value)) % o->num_buckets);
    if (o->kind == TFRS_FEATURE_BUCKETIZED) {
        double x = strtod(value, NULL);
        for (id = 0; (size_t)id < o->num_boundaries && o->boundaries[id] <= x; id++)
            ;
        return id;
    }
    return tfrs_vocab_lookup(o->vocab, value, &id) == TFRS_OK ? id : -1;
}

/* Fills ex for model m: per kind, a known token or an unknown one for
 * string and hashed features, bags "t|t||" and "" for bags, decimal
 * numbers for numeric and bucketized features. */
static void make_examples(const tfrs_model *m, examples *ex)
{
    size_t F = tfrs_model_num_features(m), cap = 0;
    char *p;

    memset(ex, 0, sizeof(*ex));
    ex->F = F;
    ex->ids_ok = ex->exact = 1;
    ex->single = SIZE_MAX;
    ex->values = calloc(2 * F, sizeof(*ex->values));
    ex->ids = calloc(2 * F, sizeof(*ex->ids));
    FUZZ_CHECK(ex->values != NULL && ex->ids != NULL);
    /* Room for every string: a token is at most as long as its vocabulary. */
    for (size_t f = 0; f < F; f++) {
        tfrs_feature_options o;
        const char *t;
        FUZZ_CHECK(tfrs_model_feature_options(m, f, &o) == TFRS_OK);
        cap += 3 * 64 + 8;
        if (o.kind == TFRS_FEATURE_STRING && tfrs_vocab_size(o.vocab) > 0 &&
            tfrs_vocab_token(o.vocab, (int32_t)(tfrs_vocab_size(o.vocab) - 1), &t) == TFRS_OK)
            cap += 2 * strlen(t);
    }
    ex->text = p = malloc(cap);
    FUZZ_CHECK(p != NULL);
    for (size_t f = 0; f < F; f++) {
        tfrs_feature_options o;
        size_t rows;
        const char *tok = hashed_token, *v0, *v1;
        int single;

        FUZZ_CHECK(tfrs_model_feature_options(m, f, &o) == TFRS_OK);
        FUZZ_CHECK(tfrs_model_feature_name(m, f) != NULL);
        rows = table_rows(&o);
        single = o.kind != TFRS_FEATURE_NUMERIC && o.pooling == TFRS_POOL_NONE;
        FUZZ_CHECK(o.kind == TFRS_FEATURE_NUMERIC ? o.embedding_dim == 0 && !o.bias
                                                   : rows > 0 && rows <= INT32_MAX);
        FUZZ_CHECK(o.embedding_dim > 0 || o.bias || o.kind == TFRS_FEATURE_NUMERIC);
        if (o.kind == TFRS_FEATURE_STRING) {
            size_t n = tfrs_vocab_num_tokens(o.vocab);
            int32_t id;
            FUZZ_CHECK(tfrs_vocab_token(o.vocab, (int32_t)(rows - 1), &tok) == TFRS_OK);
            if (n > 0)    /* a stored token looks up to its own index */
                FUZZ_CHECK(tfrs_vocab_lookup(o.vocab, tok, &id) == TFRS_OK &&
                           id == (int32_t)(rows - 1));
            else if (tfrs_vocab_num_oov(o.vocab) == 0)
                ex->may_miss = 1;  /* only a mask: "[UNK]"-like strings are unknown */
        }
        if (o.kind == TFRS_FEATURE_NUMERIC || o.kind == TFRS_FEATURE_BUCKETIZED) {
            v0 = "-2.5";
            if (o.kind == TFRS_FEATURE_BUCKETIZED && o.num_boundaries > 0)
                snprintf(p, 40, "%.17g", o.boundaries[o.num_boundaries - 1]);
            else
                snprintf(p, 40, "1e3");
            v1 = p;
            p += strlen(p) + 1;
        } else if (o.pooling != TFRS_POOL_NONE) {
            /* t|t|| (a token twice, an empty token) and the empty bag */
            v0 = "";
            if (o.kind == TFRS_FEATURE_STRING && tfrs_vocab_num_oov(o.vocab) == 0)
                ex->may_miss |= strchr(tok, o.separator) != NULL;
            sprintf(p, "%s%c%s%c%c", tok, o.separator, tok, o.separator, o.separator);
            v1 = p;
            p += strlen(p) + 1;
        } else {
            v0 = o.kind == TFRS_FEATURE_HASHED || tfrs_vocab_num_oov(o.vocab) > 0 ? unknown
                                                                                 : tok;
            v1 = tok;
        }
        ex->values[f] = v0;
        ex->values[F + f] = v1;
        if (!single) {
            ex->ids_ok = 0;
            continue;
        }
        if (ex->single == SIZE_MAX)
            ex->single = f;
        ex->ids[f] = id_of(&o, v0);
        ex->ids[F + f] = id_of(&o, v1);
        if (ex->ids[f] < 0 || ex->ids[F + f] < 0) {
            ex->exact = 0;
            ex->ids[f] = ex->ids[F + f] = 0;
        }
    }
    FUZZ_CHECK((size_t)(p - ex->text) <= cap);
}

static void free_examples(examples *ex)
{
    free(ex->values);
    free(ex->ids);
    free(ex->text);
}

/* A two-row dataset of the examples' values (string columns for string
 * and hashed features, float columns for numbers) with a label column, or
 * NULL when the feature names cannot be columns. */
static tfrs_dataset *examples_dataset(const tfrs_model *m, const examples *ex)
{
    static const char label[] = "fuzz: label";
    size_t F = ex->F, ns = 0, nf = 0;
    const char **strs = calloc(F + 1, sizeof(*strs));
    float *nums = calloc(F + 1, sizeof(*nums));
    tfrs_dataset *ds = NULL;
    int ok;

    FUZZ_CHECK(strs != NULL && nums != NULL);
    ok = tfrs_dataset_create(&ds) == TFRS_OK;
    for (size_t f = 0; f < F && ok; f++) {
        tfrs_feature_options o;
        FUZZ_CHECK(tfrs_model_feature_options(m, f, &o) == TFRS_OK);
        ok = tfrs_dataset_add_column(ds, tfrs_model_feature_name(m, f),
                                     o.kind == TFRS_FEATURE_NUMERIC ||
                                             o.kind == TFRS_FEATURE_BUCKETIZED
                                         ? TFRS_COLUMN_FLOAT : TFRS_COLUMN_STRING) == TFRS_OK;
    }
    ok = ok && tfrs_dataset_add_column(ds, label, TFRS_COLUMN_FLOAT) == TFRS_OK;
    for (size_t i = 0; i < 2 && ok; i++) {
        ns = nf = 0;
        for (size_t f = 0; f < F; f++) {
            tfrs_feature_options o;
            FUZZ_CHECK(tfrs_model_feature_options(m, f, &o) == TFRS_OK);
            if (o.kind == TFRS_FEATURE_NUMERIC || o.kind == TFRS_FEATURE_BUCKETIZED)
                nums[nf++] = (float)strtod(ex->values[i * F + f], NULL);
            else
                strs[ns++] = ex->values[i * F + f];
        }
        nums[nf] = (float)i;
        ok = tfrs_dataset_append(ds, strs, nums) == TFRS_OK;
    }
    free(strs);
    free(nums);
    if (!ok) {
        tfrs_dataset_free(ds);
        return NULL;
    }
    return ds;
}

static void exercise(tfrs_model *m)
{
    size_t F = tfrs_model_num_features(m), nranked = 0;
    examples ex;
    const char *cands[3];
    float scores[2], scores2[2], labels[2] = { 0.0f, 1.0f };
    tfrs_scored ranked[3];
    tfrs_dataset *ds;
    double loss;
    int rc, finite = 1, miss_ok;

    FUZZ_CHECK(F > 0 && tfrs_model_num_layers(m) > 0 && tfrs_model_num_dense(m) > 0 &&
               tfrs_model_num_parameters(m) > 0);
    make_examples(m, &ex);
    miss_ok = ex.may_miss;
    /* A file may hold finite weights so large that scores overflow: then
     * every scoring call says so (TFRS_ENONFINITE), and none reports a
     * non-finite score as a success. */
    rc = tfrs_model_predict_ids(m, ex.ids, 2, scores);
    if (!ex.ids_ok) {
        FUZZ_CHECK(rc == TFRS_EINVAL);
    } else {
        FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE);
        if (rc == TFRS_OK)
            FUZZ_CHECK(isfinite(scores[0]) && isfinite(scores[1]));
        finite = rc == TFRS_OK;
    }
    rc = tfrs_model_predict(m, ex.values, 2, scores2);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE || (miss_ok && rc == TFRS_ENOTFOUND));
    if (rc == TFRS_OK)
        FUZZ_CHECK(isfinite(scores2[0]) && isfinite(scores2[1]));
    if (ex.ids_ok && ex.exact && !miss_ok)
        FUZZ_CHECK((rc == TFRS_OK) == finite);
    if (rc == TFRS_OK && ex.ids_ok && ex.exact && finite)
        FUZZ_CHECK(memcmp(scores, scores2, sizeof(scores)) == 0);

    /* Rank over a single-token feature: the query is example 1, the
     * candidates its value, example 0's value and its value again. */
    if (ex.single == SIZE_MAX) {
        cands[0] = cands[1] = cands[2] = ex.values[F];
        rc = tfrs_model_rank(m, ex.values + F, tfrs_model_feature_name(m, 0), cands, 3, 0,
                             ranked, &nranked);
        FUZZ_CHECK(rc == TFRS_EINVAL && nranked == 0);
    } else {
        size_t c = ex.single;
        cands[0] = ex.values[F + c];
        cands[1] = ex.values[c];
        cands[2] = ex.values[F + c];
        rc = tfrs_model_rank(m, ex.values + F, tfrs_model_feature_name(m, c), cands, 3, 0,
                             ranked, &nranked);
        FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE ||
                   (miss_ok && rc == TFRS_ENOTFOUND));
        if (rc == TFRS_OK) {
            float s[3] = { 0 };
            FUZZ_CHECK(nranked == 3);
            for (size_t k = 0; k < 3; k++) {
                FUZZ_CHECK(ranked[k].index < 3 && isfinite(ranked[k].score));
                FUZZ_CHECK(k == 0 || ranked[k].score <= ranked[k - 1].score);
                s[ranked[k].index] = ranked[k].score;
            }
            /* the same candidate, the same score */
            FUZZ_CHECK(memcmp(&s[0], &s[2], sizeof(float)) == 0);
        } else {
            FUZZ_CHECK(nranked == 0);
        }
    }

    rc = tfrs_model_test_step(m, ex.ids, labels, NULL, 2, &loss, scores2);
    if (!ex.ids_ok)
        FUZZ_CHECK(rc == TFRS_EINVAL);
    else
        FUZZ_CHECK(rc == TFRS_OK || (rc == TFRS_ENONFINITE && !finite));
    rc = tfrs_model_train_step(m, ex.ids, labels, NULL, 2, &loss);
    FUZZ_CHECK(ex.ids_ok ? rc == TFRS_OK || rc == TFRS_ENONFINITE : rc == TFRS_EINVAL);

    /* Every model, bags and numbers too, trains and evaluates on a dataset. */
    if ((ds = examples_dataset(m, &ex)) != NULL) {
        tfrs_fit_options fo;
        tfrs_metrics mt;
        FUZZ_CHECK(tfrs_model_set_label(m, "fuzz: label", NULL) == TFRS_OK);
        FUZZ_CHECK(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION) == TFRS_OK);
        fo.batch_size = 2;
        rc = tfrs_model_fit(m, ds, &fo, NULL);
        FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE || (miss_ok && rc == TFRS_ENOTFOUND));
        rc = tfrs_model_evaluate(m, ds, 0, &mt);
        FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE || (miss_ok && rc == TFRS_ENOTFOUND));
        tfrs_dataset_free(ds);
    }
    free_examples(&ex);
}

static void load(const uint8_t *data, size_t size)
{
    tfrs_model *m = NULL;
    int rc = tfrs_model_load_buffer(&m, data, size);

    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EFORMAT || rc == TFRS_EVERSION);
    FUZZ_CHECK((rc == TFRS_OK) == (m != NULL));
    if (m != NULL)
        exercise(m);
    tfrs_model_free(m);
}

/* A copy of data with the CRC-32 of its data section written over the 8
 * characters after the first "crc32":" of its header, or NULL if there is
 * no such place or it already holds that CRC. */
static uint8_t *fix_crc(const uint8_t *data, size_t size)
{
    static const char key[] = "\"crc32\":\"";
    const size_t klen = sizeof(key) - 1;
    uint64_t hlen = 0;
    uint8_t *copy;
    char hex[9];

    if (size < 8)
        return NULL;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)data[i] << (8 * i);
    if (hlen > size - 8 || size - 8 - hlen > UINT_MAX)
        return NULL;
    for (size_t i = 8; i + klen + 8 <= 8 + hlen; i++) {
        if (memcmp(data + i, key, klen) != 0)
            continue;
        snprintf(hex, sizeof(hex), "%08lx",
                 crc32(0L, data + 8 + hlen, (uInt)(size - 8 - hlen)));
        if (memcmp(data + i + klen, hex, 8) == 0 || (copy = malloc(size)) == NULL)
            return NULL;
        memcpy(copy, data, size);
        memcpy(copy + i + klen, hex, 8);
        return copy;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed;

    load(data, size);
    if ((fixed = fix_crc(data, size)) != NULL) {
        load(fixed, size);
        free(fixed);
    }
    return 0;
}
