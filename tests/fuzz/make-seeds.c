/*
 * make-seeds.c - writes the seed corpus of fuzz-model: small synthetic models
 * built through the public API (every feature kind, bags, bias tables, cross
 * and dropout layers, stacked and parallel), saved with and without
 * optimizer state, and a few damaged copies.  Run once by hand:
 *
 *     build/tests/fuzz/make-seeds tests/fuzz/corpus/model
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"

#define CHECK(call)                                                              \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != TFRS_OK) {                                                    \
            fprintf(stderr, "make-seeds: %s: %s (%s)\n", #call,                  \
                    tfrs_status_str(rc_), tfrs_last_error());                    \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static const char *dir;

static void add_feature(tfrs_model *m, const char *name, const char *const *tokens, size_t n,
                        size_t oov, const char *mask, size_t dim)
{
    tfrs_vocab_options vo;
    tfrs_vocab *v = NULL;

    CHECK(tfrs_vocab_options_init(&vo, TFRS_VOCAB_OPTIONS_VERSION));
    vo.num_oov_indices = oov;
    vo.mask_token = mask;
    CHECK(tfrs_vocab_create(&v, tokens, n, &vo));
    CHECK(tfrs_model_add_feature(m, name, v, dim));
    tfrs_vocab_free(v);
}

static void set_task(tfrs_model *m, tfrs_loss loss, int from_logits, unsigned metrics)
{
    tfrs_task_options to;
    tfrs_ranking_task *t = NULL;

    CHECK(tfrs_task_options_init(&to, TFRS_TASK_OPTIONS_VERSION));
    to.loss = loss;
    to.from_logits = from_logits;
    to.huber_delta = 0.5f;
    to.metrics = metrics;
    CHECK(tfrs_ranking_task_create(&t, &to));
    CHECK(tfrs_model_set_task(m, t));
    tfrs_ranking_task_free(t);
}

static void set_optimizer(tfrs_model *m, tfrs_optimizer_kind kind)
{
    tfrs_optimizer_options oo;

    CHECK(tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION, kind));
    if (kind == TFRS_OPT_SGD)
        oo.momentum = 0.9f;
    oo.learning_rate = 0.05f;
    CHECK(tfrs_model_set_optimizer(m, &oo));
}

/* The number of rows of feature f's table. */
static size_t rows_of(const tfrs_model *m, size_t f)
{
    tfrs_feature_options o;

    CHECK(tfrs_model_feature_options(m, f, &o));
    return o.kind == TFRS_FEATURE_STRING   ? tfrs_vocab_size(o.vocab)
           : o.kind == TFRS_FEATURE_HASHED ? o.num_buckets
                                           : o.num_boundaries + 1;
}

/* A few steps on rows cycling through each feature's indices (single-row
 * features only). */
static void train(tfrs_model *m, int steps)
{
    size_t F = tfrs_model_num_features(m);
    int32_t ids[4 * 8];
    float labels[4] = { 1.0f, 0.0f, 1.0f, 0.0f };

    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < 4; i++)
            for (size_t f = 0; f < F; f++)
                ids[i * F + f] = (int32_t)((i + (size_t)s) % rows_of(m, f));
        CHECK(tfrs_model_train_step(m, ids, labels, NULL, 4, NULL));
    }
}

static void add_ex(tfrs_model *m, const char *name, tfrs_feature_kind kind, size_t dim,
                   tfrs_pooling pool, char sep, float l2, int bias)
{
    tfrs_feature_options o;

    CHECK(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION));
    o.kind = kind;
    o.embedding_dim = dim;
    o.pooling = pool;
    o.separator = sep;
    o.l2 = l2;
    o.bias = bias;
    o.num_buckets = 5;
    o.mean = 3.5;
    o.variance = 2.25;
    CHECK(tfrs_model_add_feature_ex(m, name, &o));
}

static void add_vocab_ex(tfrs_model *m, const char *name, const char *const *tokens, size_t n,
                         size_t dim, tfrs_pooling pool, int bias)
{
    tfrs_feature_options o;
    tfrs_vocab *v = NULL;

    CHECK(tfrs_vocab_create(&v, tokens, n, NULL));
    CHECK(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION));
    o.vocab = v;
    o.embedding_dim = dim;
    o.pooling = pool;
    o.bias = bias;
    CHECK(tfrs_model_add_feature_ex(m, name, &o));
    tfrs_vocab_free(v);
}

static void add_buckets(tfrs_model *m, const char *name, const double *b, size_t n, size_t dim)
{
    tfrs_feature_options o;

    CHECK(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION));
    o.kind = TFRS_FEATURE_BUCKETIZED;
    o.embedding_dim = dim;
    o.boundaries = b;
    o.num_boundaries = n;
    CHECK(tfrs_model_add_feature_ex(m, name, &o));
}

/* One epoch on four rows of the wide-and-deep seed's columns. */
static void fit_kinds(tfrs_model *m)
{
    static const char *const rows[4][5] = {
        { "1", "h1", "a|b", "x,y,x", "the quick" },
        { "2", "h2", "", "", "" },
        { "3", "h1", "c", "z", "fox" },
        { "9", "h3", "a||c", ",y", "  jumps " },
    };
    static const float nums[4][3] = {
        { 21.0f, 1985.0f, 1.0f }, { 40.0f, 1990.5f, 0.0f }, { 35.0f, 2003.0f, 1.0f },
        { 18.0f, 1970.0f, 0.0f },
    };
    static const char *const strs[] = { "user", "hashed", "genres", "tags", "words" };
    static const char *const flts[] = { "age", "year", "label" };
    tfrs_dataset *ds = NULL;
    tfrs_fit_options fo;

    CHECK(tfrs_dataset_create(&ds));
    for (size_t k = 0; k < 5; k++)
        CHECK(tfrs_dataset_add_column(ds, strs[k], TFRS_COLUMN_STRING));
    for (size_t k = 0; k < 3; k++)
        CHECK(tfrs_dataset_add_column(ds, flts[k], TFRS_COLUMN_FLOAT));
    for (size_t r = 0; r < 4; r++)
        CHECK(tfrs_dataset_append(ds, rows[r], nums[r]));
    CHECK(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION));
    fo.batch_size = 2;
    CHECK(tfrs_model_fit(m, ds, &fo, NULL));
    tfrs_dataset_free(ds);
}

static char *path_of(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);

    if (p == NULL)
        exit(1);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void save(const tfrs_model *m, const char *name, unsigned flags)
{
    char *p = path_of(name);

    CHECK(tfrs_model_save(m, p, flags));
    free(p);
}

static unsigned char *slurp(const char *name, size_t *len)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "rb");
    unsigned char *buf;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n)) == NULL ||
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "make-seeds: cannot read %s\n", p);
        exit(1);
    }
    fclose(f);
    free(p);
    *len = (size_t)n;
    return buf;
}

static void spill(const char *name, const unsigned char *buf, size_t len)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "wb");

    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "make-seeds: cannot write %s\n", p);
        exit(1);
    }
    free(p);
}

/* Replaces the first `from` in buf by `to` (same length). */
static void patch(unsigned char *buf, size_t len, const char *from, const char *to)
{
    size_t n = strlen(from);

    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            return;
        }
    }
    fprintf(stderr, "make-seeds: '%s' not found\n", from);
    exit(1);
}

/* Damaged copies of a valid file. */
static void damage(const char *from)
{
    size_t len;
    unsigned char *buf = slurp(from, &len), *copy = malloc(len);

    if (copy == NULL)
        exit(1);
    spill("bad-truncated-header", buf, 8 + (len - 8) / 4);
    spill("bad-truncated-data", buf, len - 3);
    spill("bad-length-only", buf, 8);
    memcpy(copy, buf, len);
    copy[len - 1] ^= 0x40;                 /* a weight bit: the CRC fails */
    spill("bad-crc", copy, len);
    memcpy(copy, buf, len);
    copy[8] = '[';                         /* the JSON header is not an object */
    spill("bad-json", copy, len);
    memcpy(copy, buf, len);
    copy[0] ^= 0x01;                       /* header length off by one */
    spill("bad-header-length", copy, len);
    memcpy(copy, buf, len);
    patch(copy, len, "\"format_version\":\"1\"", "\"format_version\":\"9\"");
    spill("bad-newer-version", copy, len);
    memcpy(copy, buf, len);
    patch(copy, len, "\\\"units\\\":4,", "\\\"units\\\":5,");  /* widths disagree */
    spill("bad-layer-width", copy, len);
    free(copy);
    free(buf);
}

int main(int argc, char **argv)
{
    static const char *const users[] = { "1", "2", "3", "4", "5" };
    static const char *const titles[] = { "Quiet Harbor (1994)", "Caf\xc3\xa9 of Glass (1996)",
                                          "Night Train, The (1991)" };
    static const char *const abc[] = { "a", "b", "c" };
    static const char *const xy[] = { "x", "y" };
    static const double years[] = { 1980.0, 1990.5, 2000.0 };
    tfrs_model *m = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: make-seeds DIR\n");
        return 2;
    }
    dir = argv[1];

    /* The tutorial's shape, scaled down: two features, 8-4-1 tower. */
    CHECK(tfrs_model_create(&m, 42));
    add_feature(m, "user_id", users, 5, 1, NULL, 4);
    add_feature(m, "movie_title", titles, 3, 1, NULL, 4);
    CHECK(tfrs_model_add_dense(m, 8, TFRS_ACT_RELU, 0.0f));
    CHECK(tfrs_model_add_dense(m, 4, TFRS_ACT_RELU, 0.0f));
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    CHECK(tfrs_model_build(m));
    save(m, "basic", 0);
    train(m, 3);
    save(m, "basic-adagrad-checkpoint", TFRS_SAVE_OPTIMIZER);
    tfrs_model_free(m);

    /* Mask token, two OOV buckets, BCE on probabilities, AUC, Adam. */
    CHECK(tfrs_model_create(&m, 7));
    add_feature(m, "item", abc, 3, 2, "[MASK]", 2);
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_SIGMOID, 0.0f));
    set_task(m, TFRS_LOSS_BCE, 0, TFRS_METRIC_AUC | TFRS_METRIC_RMSE);
    set_optimizer(m, TFRS_OPT_ADAM);
    CHECK(tfrs_model_build(m));
    train(m, 2);
    save(m, "adam-bce-mask-checkpoint", TFRS_SAVE_OPTIMIZER);
    tfrs_model_free(m);

    /* An empty vocabulary, one without OOV, L2, Huber, SGD with momentum. */
    CHECK(tfrs_model_create(&m, 3));
    add_feature(m, "empty", NULL, 0, 1, NULL, 3);
    add_feature(m, "strict", xy, 2, 0, NULL, 1);
    CHECK(tfrs_model_add_dense(m, 2, TFRS_ACT_LINEAR, 0.01f));
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    set_task(m, TFRS_LOSS_HUBER, 1, TFRS_METRIC_MAE);
    set_optimizer(m, TFRS_OPT_SGD);
    CHECK(tfrs_model_build(m));
    train(m, 2);
    save(m, "sgd-huber-checkpoint", TFRS_SAVE_OPTIMIZER);
    save(m, "sgd-huber", 0);
    tfrs_model_free(m);

    /* Every feature kind: a wide-and-deep model with bias tables (so the
     * global "bias" tensor), bags with each pooling, a bias-only feature,
     * numbers; trained by fit (bags and numbers take no ids). */
    CHECK(tfrs_model_create(&m, 11));
    add_vocab_ex(m, "user", users, 5, 3, TFRS_POOL_NONE, 1);
    add_ex(m, "hashed", TFRS_FEATURE_HASHED, 0, TFRS_POOL_NONE, '|', 0.0f, 1);
    add_vocab_ex(m, "genres", abc, 3, 2, TFRS_POOL_MEAN, 1);
    add_ex(m, "tags", TFRS_FEATURE_HASHED, 2, TFRS_POOL_SQRTN, ',', 0.01f, 0);
    add_ex(m, "words", TFRS_FEATURE_HASHED, 2, TFRS_POOL_SUM, ' ', 0.0f, 1);
    add_ex(m, "age", TFRS_FEATURE_NUMERIC, 0, TFRS_POOL_NONE, '|', 0.0f, 0);
    add_buckets(m, "year", years, 3, 2);
    CHECK(tfrs_model_add_dense(m, 4, TFRS_ACT_RELU, 0.0f));
    CHECK(tfrs_model_add_dropout(m, 0.25f));
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    set_optimizer(m, TFRS_OPT_ADAM);
    CHECK(tfrs_model_build(m));
    fit_kinds(m);
    save(m, "kinds-wide-deep", 0);
    save(m, "kinds-wide-deep-checkpoint", TFRS_SAVE_OPTIMIZER);
    tfrs_model_free(m);

    /* DCN-v2, parallel: a full-rank and a low-rank cross tower beside a
     * deep tower with dropout; single-row features (string, hashed,
     * bucketized without boundaries). */
    CHECK(tfrs_model_create(&m, 12));
    add_vocab_ex(m, "item", abc, 3, 2, TFRS_POOL_NONE, 0);
    add_ex(m, "hashed", TFRS_FEATURE_HASHED, 2, TFRS_POOL_NONE, '|', 0.0f, 0);
    add_buckets(m, "year", years, 0, 2);
    CHECK(tfrs_model_add_cross(m, 0, 0.001f));
    CHECK(tfrs_model_add_cross(m, 2, 0.0f));
    CHECK(tfrs_model_add_dense(m, 3, TFRS_ACT_RELU, 0.0f));
    CHECK(tfrs_model_add_dropout(m, 0.5f));
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    CHECK(tfrs_model_set_structure(m, TFRS_STRUCTURE_PARALLEL));
    set_task(m, TFRS_LOSS_BCE, 1, TFRS_METRIC_AUC);
    set_optimizer(m, TFRS_OPT_SGD);
    CHECK(tfrs_model_build(m));
    train(m, 2);
    save(m, "cross-parallel", 0);
    save(m, "cross-parallel-checkpoint", TFRS_SAVE_OPTIMIZER);
    tfrs_model_free(m);

    /* Stacked: dropout first, a cross layer, a dense layer; a bias-only
     * string feature. */
    CHECK(tfrs_model_create(&m, 13));
    add_vocab_ex(m, "user", users, 5, 0, TFRS_POOL_NONE, 1);
    add_buckets(m, "year", years, 3, 3);
    CHECK(tfrs_model_add_dropout(m, 0.1f));
    CHECK(tfrs_model_add_cross(m, 1, 0.0f));
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_SIGMOID, 0.0f));
    CHECK(tfrs_model_build(m));
    train(m, 2);
    save(m, "cross-stacked-checkpoint", TFRS_SAVE_OPTIMIZER);
    tfrs_model_free(m);

    /* Regression (rank by parts ran a cross layer after a dense one as a
     * dense layer): dense, cross, dense, stacked. */
    CHECK(tfrs_model_create(&m, 14));
    add_vocab_ex(m, "item", abc, 3, 2, TFRS_POOL_NONE, 0);
    add_buckets(m, "year", years, 3, 2);
    CHECK(tfrs_model_add_dense(m, 4, TFRS_ACT_LINEAR, 0.0f));
    CHECK(tfrs_model_add_cross(m, 0, 0.0f));
    CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    CHECK(tfrs_model_build(m));
    train(m, 1);
    save(m, "regress-rank-dense-then-cross", 0);
    tfrs_model_free(m);

    damage("basic");
    return 0;
}
