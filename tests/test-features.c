/*
 * test-features.c - feature columns: hashed, bags (sum, mean, sqrt-n),
 * numeric, bucketized, the bias path and embedding L2.
 *
 * A plain reference scorer written here from the documented formulas is
 * compared with predict; whole-model gradients (every parameter, bias
 * tables and global bias included) with central differences; save and
 * load with bit-identical predictions; the id-only calls refuse models
 * they cannot serve; rank agrees with predict.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "model.h"
#include "param.h"
#include "testutil.h"

/* The rows: user (string), genres (bag: mean), tags (hashed bag: sqrt-n),
 * pals (bag: sum), age (float: numeric), ts (int64: bucketized), label. */
#define NR 10
static const char *const user_col[NR] = { "ann", "bob", "cid", "ann", "dee",
                                          "bob", "zed", "cid", "ann", "bob" };
static const char *const genre_col[NR] = { "act|com", "dra", "", "com|dra|act", "act",
                                           "com", "dra|dra", "act|", "|com", "dra|act" };
static const char *const tag_col[NR] = { "x|y", "y", "z|x|w", "", "w", "x", "y|z", "q", "x",
                                         "w|w" };
static const char *const pal_col[NR] = { "bob", "ann|cid", "", "dee", "ann", "cid|dee|ann",
                                         "bob", "ann", "zed", "" };
static const float age_col[NR] = { 21, 35, 52, 21, 18, 35, 61, 52, 21, 35 };
static const int64_t ts_col[NR] = { 50, 150, 250, 350, 100, 99, 200, 1000, -5, 300 };
static const float label_col[NR] = { 4, 3, 5, 2, 1, 4, 3, 5, 2, 4 };

static const char *const users[] = { "ann", "bob", "cid", "dee", "eve" };
static const char *const genres[] = { "act", "com", "dra" };
static const double ts_bounds[] = { 100, 200, 300 };

static tfrs_dataset *make_data(void)
{
    tfrs_dataset *ds;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "tags", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "pals", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "age", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "label", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "ts", TFRS_COLUMN_INT64), TFRS_OK);
    for (size_t r = 0; r < NR; r++) {
        const char *s[4] = { user_col[r], genre_col[r], tag_col[r], pal_col[r] };
        float f[2] = { age_col[r], label_col[r] };
        ck_assert_int_eq(tfrs_dataset_append_row(ds, s, f, &ts_col[r]), TFRS_OK);
    }
    return ds;
}

/* The model: every kind, two bias tables, L2 on the user embedding. */
static tfrs_model *make_model(uint64_t seed, tfrs_optimizer_kind kind, float lr, float l2)
{
    tfrs_vocab *uv, *gv;
    tfrs_model *m;
    tfrs_feature_options o;
    tfrs_optimizer_options oo;

    ck_assert_int_eq(tfrs_vocab_create(&uv, users, TU_NELEM(users), NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_create(&gv, genres, TU_NELEM(genres), NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, seed), TFRS_OK);

    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = uv;
    o.embedding_dim = 3;
    o.l2 = l2;
    o.bias = 1;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "user", &o), TFRS_OK);

    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = gv;
    o.embedding_dim = 2;
    o.pooling = TFRS_POOL_MEAN;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "genres", &o), TFRS_OK);

    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.kind = TFRS_FEATURE_HASHED;
    o.num_buckets = 5;
    o.embedding_dim = 2;
    o.pooling = TFRS_POOL_SQRTN;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "tags", &o), TFRS_OK);

    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = uv;
    o.embedding_dim = 2;
    o.pooling = TFRS_POOL_SUM;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "pals", &o), TFRS_OK);

    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.kind = TFRS_FEATURE_NUMERIC;
    o.mean = 30.0;
    o.variance = 100.0;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "age", &o), TFRS_OK);

    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.kind = TFRS_FEATURE_BUCKETIZED;
    o.boundaries = ts_bounds;
    o.num_boundaries = TU_NELEM(ts_bounds);
    o.embedding_dim = 2;
    o.bias = 1;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "ts", &o), TFRS_OK);

    ck_assert_int_eq(tfrs_model_add_dense(m, 4, TFRS_ACT_RELU, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION, kind),
                     TFRS_OK);
    oo.learning_rate = lr;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &oo), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    tfrs_vocab_free(uv);
    tfrs_vocab_free(gv);
    return m;
}

static const tfrs__param *entry(const tfrs_model *m, const char *name)
{
    const tfrs__param *p = tfrs__params_find(tfrs__model_params(m), name);

    ck_assert_msg(p != NULL, "no parameter %s", name);
    return p;
}

/* ---- a reference scorer from the documented formulas ------------------- */

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int user_row(const char *s, size_t n)
{
    for (size_t k = 0; k < TU_NELEM(users); k++)
        if (strlen(users[k]) == n && memcmp(users[k], s, n) == 0)
            return (int)k + 1;
    return 0;    /* the OOV row */
}

static int genre_row(const char *s, size_t n)
{
    for (size_t k = 0; k < TU_NELEM(genres); k++)
        if (strlen(genres[k]) == n && memcmp(genres[k], s, n) == 0)
            return (int)k + 1;
    return 0;
}

/* out[0 .. dim) = pooled rows of table w (dim columns) for the bag s;
 * kind 0: string rows by rowfn, 1: fnv buckets mod 5.  Returns n tokens. */
static size_t pool(const char *s, const float *w, size_t dim, int (*rowfn)(const char *, size_t),
                   tfrs_pooling p, double *out)
{
    size_t n = 0, len = strlen(s);

    for (size_t j = 0; j < dim; j++)
        out[j] = 0.0;
    for (size_t i = 0; i < len;) {
        const char *t = s + i, *e = memchr(t, '|', len - i);
        size_t tl = e != NULL ? (size_t)(e - t) : len - i;
        i += tl + 1;
        if (tl == 0)
            continue;
        size_t row = rowfn != NULL ? (size_t)rowfn(t, tl) : (size_t)(fnv(t, tl) % 5);
        for (size_t j = 0; j < dim; j++)
            out[j] += w[row * dim + j];
        n++;
    }
    if (n > 0 && p != TFRS_POOL_SUM) {
        double d = p == TFRS_POOL_MEAN ? (double)n : sqrt((double)n);
        for (size_t j = 0; j < dim; j++)
            out[j] /= d;
    }
    return n;
}

static int bucket(int64_t t)
{
    int b = 0;

    for (size_t k = 0; k < TU_NELEM(ts_bounds); k++)
        b += (double)t >= ts_bounds[k];
    return b;
}

static double reference_score(const tfrs_model *m, size_t r)
{
    double x[12], h[4], s, tmp[1];
    const float *k0 = entry(m, "dense.0.kernel")->w, *b0 = entry(m, "dense.0.bias")->w;
    const float *k1 = entry(m, "dense.1.kernel")->w, *b1 = entry(m, "dense.1.bias")->w;
    int u = user_row(user_col[r], strlen(user_col[r])), tb = bucket(ts_col[r]);

    for (size_t j = 0; j < 3; j++)
        x[j] = entry(m, "features.0.embedding")->w[u * 3 + j];
    pool(genre_col[r], entry(m, "features.1.embedding")->w, 2, genre_row, TFRS_POOL_MEAN, x + 3);
    pool(tag_col[r], entry(m, "features.2.embedding")->w, 2, NULL, TFRS_POOL_SQRTN, x + 5);
    pool(pal_col[r], entry(m, "features.3.embedding")->w, 2, user_row, TFRS_POOL_SUM, x + 7);
    x[9] = (age_col[r] - 30.0) / 10.0;
    for (size_t j = 0; j < 2; j++)
        x[10 + j] = entry(m, "features.5.embedding")->w[tb * 2 + j];
    for (size_t u2 = 0; u2 < 4; u2++) {
        double a = b0[u2];
        for (size_t i = 0; i < 12; i++)
            a += x[i] * k0[i * 4 + u2];
        h[u2] = a > 0 ? a : 0;
    }
    s = b1[0];
    for (size_t i = 0; i < 4; i++)
        s += h[i] * k1[i];
    s += entry(m, "bias")->w[0] + entry(m, "features.0.bias")->w[u] +
         entry(m, "features.5.bias")->w[tb];
    (void)tmp;
    return s;
}

/* predict's string layout of row r (F = 6 values). */
static void row_values(size_t r, char num[2][32], const char *v[6])
{
    snprintf(num[0], 32, "%g", (double)age_col[r]);
    snprintf(num[1], 32, "%lld", (long long)ts_col[r]);
    v[0] = user_col[r];
    v[1] = genre_col[r];
    v[2] = tag_col[r];
    v[3] = pal_col[r];
    v[4] = num[0];
    v[5] = num[1];
}

/* Scrambles every parameter (the bias tables and global bias start at 0,
 * the embeddings at +-0.05) so that the reference sees every term. */
static void scramble(tfrs_model *m)
{
    const tfrs__params *t = tfrs__model_params(m);
    uint64_t z = 12345;

    for (size_t k = 0; k < t->n; k++)
        for (size_t i = 0; i < t->p[k].n; i++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            t->p[k].w[i] = (float)((double)(z >> 40) / (double)(1ull << 24) - 0.5);
        }
    tfrs__model_weights_changed(m);
}

START_TEST(table_layout)
{
    tfrs_model *m = make_model(1, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    const tfrs__params *t = tfrs__model_params(m);
    static const char *const names[] = {
        "features.0.embedding", "features.0.bias", "features.1.embedding",
        "features.2.embedding", "features.3.embedding", "features.5.embedding",
        "features.5.bias", "dense.0.kernel", "dense.0.bias", "dense.1.kernel", "dense.1.bias",
        "bias",
    };

    ck_assert_uint_eq(t->n, TU_NELEM(names));
    for (size_t k = 0; k < t->n; k++)
        ck_assert_str_eq(t->p[k].name, names[k]);
    ck_assert_uint_eq(entry(m, "features.0.bias")->shape[0], 6);
    ck_assert_uint_eq(entry(m, "features.2.embedding")->shape[0], 5);   /* buckets */
    ck_assert_uint_eq(entry(m, "features.5.embedding")->shape[0], 4);   /* 3 bounds */
    ck_assert_uint_eq(entry(m, "dense.0.kernel")->shape[0], 3 + 2 + 2 + 2 + 1 + 2);
    ck_assert_float_eq(entry(m, "bias")->w[0], 0.0f);
    tfrs_model_free(m);
}
END_TEST

START_TEST(predict_matches_reference)
{
    tfrs_model *m = make_model(2, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_dataset *ds = make_data();
    const char *vals[NR * 6];
    char num[NR][2][32];
    float got[NR];
    tfrs_metrics met;
    double se = 0.0;

    scramble(m);
    for (size_t r = 0; r < NR; r++)
        row_values(r, num[r], vals + r * 6);
    ck_assert_int_eq(tfrs_model_predict(m, vals, NR, got), TFRS_OK);
    {
        float from_ds[NR];
        ck_assert_int_eq(tfrs_model_predict_dataset(m, ds, from_ds), TFRS_OK);
        ck_assert_mem_eq(from_ds, got, sizeof(got));          /* the same bits */
    }
    for (size_t r = 0; r < NR; r++) {
        double ref = reference_score(m, r);
        ck_assert_msg(fabs(got[r] - ref) <= 1e-5 * (1.0 + fabs(ref)), "row %zu: %g vs %g", r,
                      (double)got[r], ref);
        se += (got[r] - label_col[r]) * (got[r] - label_col[r]);
    }
    /* evaluate binds the dataset's columns to the same keys */
    ck_assert_int_eq(tfrs_model_evaluate(m, ds, 3, &met), TFRS_OK);
    ck_assert_double_eq_tol(met.rmse, sqrt(se / NR), 1e-5);
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
}
END_TEST

/* Central differences of the training objective (task loss + the batch's
 * embedding L2) against the gradient left by one fit step with SGD at a
 * learning rate too small to move a float. */
START_TEST(gradients_every_kind)
{
    tfrs_model *m = make_model(3, TFRS_OPT_SGD, 1e-30f, 0.05f);
    tfrs_dataset *ds = make_data();
    tfrs_fit_options fo;
    tfrs_metrics met;
    size_t checked = 0, nonzero = 0;

    scramble(m);
    /* keep relu pre-activations away from the kink: positive first bias */
    for (size_t u = 0; u < 4; u++)
        entry(m, "dense.0.bias")->w[u] = 1.5f;
    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.batch_size = NR;
    fo.shuffle = 0;
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, NULL), TFRS_OK);
    gc_check(m, ds, 2e-3f, 1, &checked, &nonzero);
    ck_assert_uint_gt(checked, 100);
    ck_assert_uint_gt(nonzero, 80);
    /* the embedding L2 is Keras' activity regularizer: l2 times the mean
     * over the examples of the squared norm of the user embedding */
    {
        const float *e = entry(m, "features.0.embedding")->w;
        double want = 0.0;
        for (size_t r = 0; r < NR; r++) {
            int u = user_row(user_col[r], strlen(user_col[r]));
            for (size_t j = 0; j < 3; j++)
                want += (double)e[u * 3 + j] * e[u * 3 + j];
        }
        want = 0.05 * want / NR;
        ck_assert_int_eq(tfrs_model_evaluate(m, ds, 4, &met), TFRS_OK);
        ck_assert_double_eq_tol(met.regularization_loss, want, 1e-6 * want);
    }
    /* it reaches only the rows the batch uses: row 5 ("eve") of the user
     * table is not in the data, so its gradient is 0 */
    for (size_t j = 0; j < 3; j++)
        ck_assert_float_eq(entry(m, "features.0.embedding")->g[5 * 3 + j], 0.0f);
    ck_assert_float_ne(entry(m, "features.0.embedding")->g[3], 0.0f);
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
}
END_TEST

START_TEST(save_load_bit_identical)
{
    tfrs_model *m = make_model(4, TFRS_OPT_ADAGRAD, 0.1f, 0.01f), *back = NULL;
    tfrs_dataset *ds = make_data();
    tfrs_fit_options fo;
    const char *vals[NR * 6];
    char num[NR][2][32], *path, *path2;
    float a[NR], b[NR];
    tfrs_feature_options o;
    unsigned char *f1, *f2;
    size_t n1, n2;

    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.batch_size = 4;
    fo.epochs = 3;
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, NULL), TFRS_OK);
    for (size_t r = 0; r < NR; r++)
        row_values(r, num[r], vals + r * 6);
    ck_assert_int_eq(tfrs_model_predict(m, vals, NR, a), TFRS_OK);
    tu_tmpdir_make();
    path = tu_tmp_path("features.tfrs");
    path2 = tu_tmp_path("features2.tfrs");
    ck_assert_int_eq(tfrs_model_save(m, path, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&back, path), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict(back, vals, NR, b), TFRS_OK);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* every setting came back */
    ck_assert_int_eq(tfrs_model_feature_options(back, 2, &o), TFRS_OK);
    ck_assert_int_eq(o.kind, TFRS_FEATURE_HASHED);
    ck_assert_uint_eq(o.num_buckets, 5);
    ck_assert_int_eq(o.pooling, TFRS_POOL_SQRTN);
    ck_assert_int_eq(tfrs_model_feature_options(back, 4, &o), TFRS_OK);
    ck_assert_int_eq(o.kind, TFRS_FEATURE_NUMERIC);
    ck_assert_double_eq(o.mean, 30.0);
    ck_assert_double_eq(o.variance, 100.0);
    ck_assert_int_eq(tfrs_model_feature_options(back, 5, &o), TFRS_OK);
    ck_assert_uint_eq(o.num_boundaries, 3);
    ck_assert_mem_eq(o.boundaries, ts_bounds, sizeof(ts_bounds));
    ck_assert_int_eq(o.bias, 1);
    ck_assert_int_eq(tfrs_model_feature_options(back, 0, &o), TFRS_OK);
    ck_assert_float_eq(o.l2, 0.01f);
    /* and a resave is the same file */
    ck_assert_int_eq(tfrs_model_save(back, path2, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    f1 = tu_read_file(path, &n1);
    f2 = tu_read_file(path2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(f1, f2, n1);
    /* training resumes identically */
    fo.epochs = 1;
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(back, ds, &fo, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict(m, vals, NR, a), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict(back, vals, NR, b), TFRS_OK);
    ck_assert_mem_eq(a, b, sizeof(a));
    free(f1);
    free(f2);
    tu_tmpdir_remove();
    tfrs_model_free(back);
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
}
END_TEST

START_TEST(id_calls_refuse_bags_and_numbers)
{
    tfrs_model *m = make_model(5, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_dataset *ds = make_data();
    int32_t ids[6] = { 1, 0, 0, 0, 0, 0 }, q[6] = { 1, 0, 0, 0, 0, 0 }, c[2] = { 0, 1 };
    int32_t *all = calloc(NR * 6, sizeof(int32_t));
    float lab = 1, s;
    double loss;
    tfrs_scored out[2];

    ck_assert_int_eq(tfrs_model_train_step(m, ids, &lab, NULL, 1, &loss), TFRS_EINVAL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "genres"));
    ck_assert_int_eq(tfrs_model_test_step(m, ids, &lab, NULL, 1, &loss, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, 1, &s), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_rank_ids(m, q, 0, c, 2, 0, out, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_lookup_dataset(m, ds, all), TFRS_EINVAL);
    free(all);
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
}
END_TEST

START_TEST(bad_values_name_the_feature)
{
    tfrs_model *m = make_model(6, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    const char *v[6] = { "ann", "act", "x", "bob", "abc", "100" };
    float s;

    ck_assert_int_eq(tfrs_model_predict(m, v, 1, &s), TFRS_EINVAL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "'age'"));
    v[4] = "1e999";                       /* not finite */
    ck_assert_int_eq(tfrs_model_predict(m, v, 1, &s), TFRS_EINVAL);
    v[4] = "0x10";                        /* not a plain decimal */
    ck_assert_int_eq(tfrs_model_predict(m, v, 1, &s), TFRS_EINVAL);
    v[4] = "+4.5e1";
    ck_assert_int_eq(tfrs_model_predict(m, v, 1, &s), TFRS_OK);
    v[5] = "";
    ck_assert_int_eq(tfrs_model_predict(m, v, 1, &s), TFRS_EINVAL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "'ts'"));
    tfrs_model_free(m);
}
END_TEST

START_TEST(missing_or_wrong_columns)
{
    tfrs_model *m = make_model(7, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_dataset *ds;
    tfrs_metrics met;
    const char *s[4] = { "ann", "act", "x", "bob" };
    float f[2] = { 1, 2 };

    /* "ts" as a string column: a number feature needs numbers */
    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "tags", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "ts", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "age", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "label", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_append(ds, s, f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_evaluate(m, ds, 0, &met), TFRS_ENOTFOUND);   /* no pals */
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "pals"));
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
}
END_TEST

START_TEST(rank_matches_predict)
{
    tfrs_model *m = make_model(8, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    const char *query[6] = { NULL, "act|com", "x|z", "bob|cid", "44", "175" };
    const char *cands[5] = { "ann", "bob", "cid", "dee", "nobody" };
    const char *vals[5 * 6];
    float pred[5];
    tfrs_scored out[5];
    size_t got;

    scramble(m);
    for (size_t i = 0; i < 5; i++) {
        memcpy(vals + i * 6, query, sizeof(query));
        vals[i * 6] = cands[i];
    }
    ck_assert_int_eq(tfrs_model_predict(m, vals, 5, pred), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank(m, query, "user", cands, 5, 0, out, &got), TFRS_OK);
    ck_assert_uint_eq(got, 5);
    for (size_t i = 0; i < 5; i++) {
        float p = pred[out[i].index];
        ck_assert_msg(fabsf(out[i].score - p) <= 1e-5f * (1.0f + fabsf(p)), "%g vs %g",
                      (double)out[i].score, (double)p);
        if (i > 0)
            ck_assert_float_le(out[i].score, out[i - 1].score);
    }
    /* candidates of a bag or a number cannot be ranked */
    ck_assert_int_eq(tfrs_model_rank(m, query, "genres", cands, 5, 0, out, &got), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_rank(m, query, "age", cands, 5, 0, out, &got), TFRS_EINVAL);
    /* a bucketized candidate: by its numbers */
    {
        const char *ts[3] = { "0", "150", "999" };
        const char *q2[6] = { "ann", "act", "x", "bob", "44", NULL };
        ck_assert_int_eq(tfrs_model_rank(m, q2, "ts", ts, 3, 1, out, &got), TFRS_OK);
        ck_assert_uint_eq(got, 1);
    }
    tfrs_model_free(m);
}
END_TEST

START_TEST(bias_only_feature_and_training)
{
    tfrs_vocab *uv;
    tfrs_model *m;
    tfrs_feature_options o;
    tfrs_dataset *ds = make_data();
    tfrs_fit_options fo;
    tfrs_optimizer_options oo;
    tfrs_metrics h[30];

    ck_assert_int_eq(tfrs_vocab_create(&uv, users, TU_NELEM(users), NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, 9), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = uv;
    o.embedding_dim = 0;          /* wide only */
    o.bias = 1;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "user", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.kind = TFRS_FEATURE_NUMERIC;
    o.mean = 30;
    o.variance = 100;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "age", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_ADAGRAD), TFRS_OK);
    oo.learning_rate = 0.5f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &oo), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    /* 6 user biases, kernel 1x1 + bias, global bias */
    ck_assert_uint_eq(tfrs_model_num_parameters(m), 6 + 2 + 1);
    ck_assert_ptr_null(tfrs_model_feature_embedding(m, 0));
    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.epochs = 30;
    fo.batch_size = 5;
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, h), TFRS_OK);
    ck_assert_double_lt(h[29].loss, 0.5 * h[0].loss);   /* it learns */
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
    tfrs_vocab_free(uv);
}
END_TEST

START_TEST(threads_match_in_loss)
{
    tfrs_model *a = make_model(10, TFRS_OPT_ADAGRAD, 0.05f, 0.01f);
    tfrs_model *b = make_model(10, TFRS_OPT_ADAGRAD, 0.05f, 0.01f);
    tfrs_model *c = make_model(10, TFRS_OPT_ADAGRAD, 0.05f, 0.01f);
    tfrs_dataset *ds = make_data();
    tfrs_fit_options fo;
    tfrs_metrics ha[2], hb[2], hc[2];

    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.epochs = 2;
    fo.batch_size = NR;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, ha), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(c, ds, &fo, hc), TFRS_OK);
    fo.threads = 2;
    ck_assert_int_eq(tfrs_model_fit(b, ds, &fo, hb), TFRS_OK);
    ck_assert_mem_eq(ha, hc, sizeof(ha));                   /* same seed: same bits */
    ck_assert_double_eq_tol(ha[1].loss, hb[1].loss, 1e-5);  /* 2 threads: same sums */
    ck_assert_double_gt(ha[1].regularization_loss, 0.0);
    tfrs_dataset_free(ds);
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_model_free(c);
}
END_TEST

static Suite *features_suite(void)
{
    Suite *s = suite_create("features");

    tu_tcase(s, "layout", table_layout);
    tu_tcase(s, "reference", predict_matches_reference);
    tu_tcase(s, "gradients", gradients_every_kind);
    tu_tcase(s, "files", save_load_bit_identical);
    tu_tcase(s, "misuse", id_calls_refuse_bags_and_numbers, bad_values_name_the_feature,
             missing_or_wrong_columns);
    tu_tcase(s, "serving", rank_matches_predict);
    tu_tcase(s, "training", bias_only_feature_and_training, threads_match_in_loss);
    return s;
}

int main(void)
{
    return tu_run(features_suite());
}
