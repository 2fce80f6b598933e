/*
 * test-serving.c - rank with an item table: candidates bring their own
 * features (a bag of genres, a bucketized year) from a table registered
 * once; scores equal predict on the joined rows, through the cache, without
 * it, and in the full-forward fallback; the cache follows training and
 * table changes; misuse of the table; two threads ranking at once.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "param.h"
#include "testutil.h"

/* Features, in model order: user (string), history (bag: sum), age
 * (numeric) come from the query; item (string, the candidate, with a
 * bias), genres (bag: mean, with a bias), year (bucketized) from the item
 * table. */
#define NF 6
#define NI 8
static const char *const users[] = { "ann", "bob", "cid" };
static const char *const item_vocab[] = { "i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7" };
static const char *const genre_vocab[] = { "act", "com", "dra", "doc" };
static const double year_bounds[] = { 1980, 1990, 2000 };
/* The item table's rows (i7 has an empty bag). */
static const char *const item_ids[NI] = { "i3", "i0", "i5", "i1", "i7", "i2", "i6", "i4" };
static const char *const item_genres[NI] = { "act|com", "dra", "com", "act|dra|doc", "",
                                             "doc", "com|act", "dra|dra" };
static const int64_t item_years[NI] = { 1975, 1985, 1999, 2004, 1990, 1960, 2010, 1995 };
static const char *const item_titles[NI] = { "t3", "t0", "t5", "t1", "t7", "t2", "t6", "t4" };

typedef enum { LAYERS_DENSE, LAYERS_DROPOUT, LAYERS_CROSS } layers_kind;

static void add(tfrs_model *m, const char *name, tfrs_feature_options *o)
{
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, name, o), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
}

static void scramble(tfrs_model *m, uint64_t z)
{
    const tfrs__params *t = tfrs__model_params(m);

    for (size_t k = 0; k < t->n; k++)
        for (size_t i = 0; i < t->p[k].n; i++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            t->p[k].w[i] = (float)((double)(z >> 40) / (double)(1ull << 24) - 0.5);
        }
    tfrs__model_weights_changed(m);
}

/* The model; item_dim sets the size of the item feature's table (rows of
 * the first layer that the cache holds). */
static tfrs_model *make_model(layers_kind lk, uint64_t seed)
{
    tfrs_vocab *uv, *iv, *gv;
    tfrs_model *m;
    tfrs_feature_options o;

    ck_assert_int_eq(tfrs_vocab_create(&uv, users, TU_NELEM(users), NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_create(&iv, item_vocab, TU_NELEM(item_vocab), NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_create(&gv, genre_vocab, TU_NELEM(genre_vocab), NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, seed), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = uv;
    o.embedding_dim = 3;
    add(m, "user", &o);
    o.vocab = iv;
    o.embedding_dim = 2;
    o.pooling = TFRS_POOL_SUM;
    add(m, "history", &o);
    o.kind = TFRS_FEATURE_NUMERIC;
    o.mean = 30;
    o.variance = 100;
    add(m, "age", &o);
    o.vocab = iv;
    o.embedding_dim = 3;
    o.bias = 1;
    add(m, "item", &o);
    o.vocab = gv;
    o.embedding_dim = 2;
    o.pooling = TFRS_POOL_MEAN;
    o.bias = 1;
    add(m, "genres", &o);
    o.kind = TFRS_FEATURE_BUCKETIZED;
    o.boundaries = year_bounds;
    o.num_boundaries = TU_NELEM(year_bounds);
    o.embedding_dim = 2;
    add(m, "year", &o);
    if (lk == LAYERS_CROSS)
        ck_assert_int_eq(tfrs_model_add_cross(m, 0, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 8, TFRS_ACT_RELU, 0.0f), TFRS_OK);
    if (lk == LAYERS_DROPOUT)
        ck_assert_int_eq(tfrs_model_add_dropout(m, 0.5f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    scramble(m, seed);
    tfrs_vocab_free(uv);
    tfrs_vocab_free(iv);
    tfrs_vocab_free(gv);
    return m;
}

/* An item table of the rows [0, n) of the arrays, with a title column that
 * no feature reads. */
static tfrs_dataset *make_items(const char *const *ids, const char *const *genres,
                                const int64_t *years, size_t n)
{
    tfrs_dataset *ds;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "title", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "item", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "year", TFRS_COLUMN_INT64), TFRS_OK);
    for (size_t r = 0; r < n; r++) {
        const char *s[3] = { item_titles[r % NI], ids[r], genres[r] };
        ck_assert_int_eq(tfrs_dataset_append_row(ds, s, NULL, &years[r]), TFRS_OK);
    }
    return ds;
}

static tfrs_dataset *default_items(void)
{
    return make_items(item_ids, item_genres, item_years, NI);
}

static const char *const query[NF] = { "bob", "i1|i4|i4", "41.5", NULL, NULL, NULL };

/* predict of the query joined with rows `rows` of the table (ids, genres,
 * years) into pred. */
static void predict_joined(const tfrs_model *m, const char *const *q, const char *const *ids,
                           const char *const *genres, const int64_t *years, const size_t *rows,
                           size_t n, float *pred)
{
    const char **vals = malloc(n * NF * sizeof(*vals));
    char (*ytxt)[24] = malloc(n * sizeof(*ytxt));

    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        snprintf(ytxt[i], sizeof(ytxt[i]), "%lld", (long long)years[r]);
        memcpy(vals + i * NF, q, NF * sizeof(*vals));
        vals[i * NF + 3] = ids[r];
        vals[i * NF + 4] = genres[r];
        vals[i * NF + 5] = ytxt[i];
    }
    ck_assert_int_eq(tfrs_model_predict(m, vals, n, pred), TFRS_OK);
    free(vals);
    free(ytxt);
}

/* The largest relative difference seen between rank and predict. */
static double max_rel_seen;

/* rank of candidates (rows of the table) equals predict of the joined rows:
 * within rel (0: bit for bit), sorted. */
static void check_rank(const tfrs_model *m, const char *const *q, const char *const *ids,
                       const char *const *genres, const int64_t *years, const size_t *rows,
                       size_t n, double rel)
{
    const char **cands = malloc(n * sizeof(*cands));
    float *pred = malloc(n * sizeof(float));
    tfrs_scored *out = malloc(n * sizeof(*out));
    size_t got = 0;

    for (size_t i = 0; i < n; i++)
        cands[i] = ids[rows[i]];
    predict_joined(m, q, ids, genres, years, rows, n, pred);
    ck_assert_int_eq(tfrs_model_rank(m, q, "item", cands, n, 0, out, &got), TFRS_OK);
    ck_assert_uint_eq(got, n);
    for (size_t i = 0; i < n; i++) {
        double p = pred[out[i].index], d = fabs((double)out[i].score - p) / (1.0 + fabs(p));
        if (rel == 0.0)
            ck_assert_msg(out[i].score == pred[out[i].index], "%.9g vs %.9g",
                          (double)out[i].score, p);
        else
            ck_assert_msg(d <= rel, "%.9g vs %.9g", (double)out[i].score, p);
        max_rel_seen = d > max_rel_seen ? d : max_rel_seen;
        if (i > 0)
            ck_assert_float_le(out[i].score, out[i - 1].score);
    }
    free(cands);
    free(pred);
    free(out);
}

static const size_t all_rows[NI] = { 0, 1, 2, 3, 4, 5, 6, 7 };

START_TEST(rank_equals_predict)
{
    tfrs_model *m = make_model(LAYERS_DENSE, 1);
    tfrs_dataset *items = default_items();
    size_t feats[4] = { 99, 99, 99, 99 }, some[3] = { 6, 0, 4 };
    const char *q2[NF] = { "ann", "", "18", "i0", "not|looked|at", "nor this" };

    ck_assert_uint_eq(tfrs_model_item_features(m, NULL, 0), 0);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    tfrs_dataset_free(items);                           /* the model has a copy */
    ck_assert_uint_eq(tfrs_model_item_features(m, feats, 4), 2);
    ck_assert_uint_eq(feats[0], 4);                     /* genres */
    ck_assert_uint_eq(feats[1], 5);                     /* year; not title, not item */
    ck_assert_uint_eq(feats[2], 99);
    ck_assert_uint_eq(tfrs_model_item_features(m, feats, 1), 2);
    ck_assert_ptr_null(m->items->cache);
    check_rank(m, query, item_ids, item_genres, item_years, all_rows, NI, 1e-5);
    ck_assert_ptr_nonnull(m->items->cache);             /* the table is small: cached */
    /* the query's item-feature values are ignored */
    check_rank(m, q2, item_ids, item_genres, item_years, all_rows, NI, 1e-5);
    check_rank(m, q2, item_ids, item_genres, item_years, some, 3, 1e-5);
    fprintf(stderr, "rank vs predict (cache): largest relative difference %.3g\n", max_rel_seen);
    tfrs_model_free(m);
}
END_TEST

START_TEST(top_k_of_all_items)
{
    tfrs_model *m = make_model(LAYERS_DENSE, 2);
    tfrs_dataset *items = default_items();
    tfrs_scored all[NI], top[3];
    size_t got;

    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", item_ids, NI, 0, all, &got), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", item_ids, NI, 3, top, &got), TFRS_OK);
    ck_assert_uint_eq(got, 3);
    ck_assert_mem_eq(top, all, sizeof(top));
    tfrs_dataset_free(items);
    tfrs_model_free(m);
}
END_TEST

START_TEST(cache_follows_training_and_tables)
{
    tfrs_model *m = make_model(LAYERS_DENSE, 3);
    tfrs_dataset *items = default_items(), *train, *items2;
    static const char *const genres2[NI] = { "doc", "doc|doc", "act", "", "com|dra", "act",
                                             "dra", "com" };
    static const int64_t years2[NI] = { 2001, 1950, 1985, 1991, 2020, 1999, 1970, 1982 };
    tfrs_fit_options fo;
    tfrs_scored before[NI], after[NI];

    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    check_rank(m, query, item_ids, item_genres, item_years, all_rows, NI, 1e-5);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", item_ids, NI, 0, before, NULL), TFRS_OK);
    /* train on the table joined with a user, age and label */
    ck_assert_int_eq(tfrs_dataset_create(&train), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "history", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "item", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "age", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "label", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(train, "year", TFRS_COLUMN_INT64), TFRS_OK);
    for (size_t r = 0; r < NI; r++) {
        const char *s[4] = { users[r % 3], "i2", item_ids[r], item_genres[r] };
        float f[2] = { 20.0f + (float)r, (float)(r % 5) };
        ck_assert_int_eq(tfrs_dataset_append_row(train, s, f, &item_years[r]), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.epochs = 2;
    fo.batch_size = 4;
    ck_assert_int_eq(tfrs_model_fit(m, train, &fo, NULL), TFRS_OK);
    check_rank(m, query, item_ids, item_genres, item_years, all_rows, NI, 1e-5);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", item_ids, NI, 0, after, NULL), TFRS_OK);
    ck_assert_int_ne(memcmp(before, after, sizeof(before)), 0);
    /* a new table: new genres and years */
    items2 = make_items(item_ids, genres2, years2, NI);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items2), TFRS_OK);
    check_rank(m, query, item_ids, genres2, years2, all_rows, NI, 1e-5);
    /* no table: the query's values are used again (and needed) */
    ck_assert_int_eq(tfrs_model_set_item_table(m, NULL, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_model_item_features(m, NULL, 0), 0);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", item_ids, NI, 0, after, NULL),
                     TFRS_EINVAL);
    {
        const char *q[NF] = { "bob", "i1|i4|i4", "41.5", NULL, "com", "1993" };
        const char *gq[NI];
        int64_t yq[NI];
        for (size_t r = 0; r < NI; r++) {
            gq[r] = "com";
            yq[r] = 1993;
        }
        check_rank(m, q, item_ids, gq, yq, all_rows, NI, 1e-5);
    }
    tfrs_dataset_free(train);
    tfrs_dataset_free(items);
    tfrs_dataset_free(items2);
    tfrs_model_free(m);
}
END_TEST

START_TEST(table_misuse)
{
    tfrs_model *m = make_model(LAYERS_DENSE, 4);
    tfrs_dataset *items = default_items(), *bad;
    static const char *const dup_ids[3] = { "i1", "i2", "i1" };
    static const char *const g3[3] = { "act", "com", "dra" };
    static const int64_t y3[3] = { 1, 2, 3 };
    const char *cands[3] = { "i3", "i9", "i0" };
    tfrs_scored out[3];
    size_t feats[2];
    size_t got = 5;

    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    /* a candidate not in the table, even one the vocabulary maps to OOV */
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", cands, 3, 0, out, &got), TFRS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "candidate 1 ('i9')"));
    ck_assert_uint_eq(got, 0);
    /* duplicate ids: named; the old table stays */
    bad = make_items(dup_ids, g3, y3, 3);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", bad), TFRS_EDUPLICATE);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "'i1'"));
    tfrs_dataset_free(bad);
    ck_assert_uint_eq(tfrs_model_item_features(m, feats, 2), 2);
    check_rank(m, query, item_ids, item_genres, item_years, all_rows, NI, 1e-5);
    /* no id column; an item column of the wrong type; unknown tokens */
    ck_assert_int_eq(tfrs_dataset_create(&bad), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(bad, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_append(bad, g3, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", bad), TFRS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "'item'"));
    tfrs_dataset_free(bad);
    ck_assert_int_eq(tfrs_dataset_create(&bad), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(bad, "item", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(bad, "year", TFRS_COLUMN_STRING), TFRS_OK);
    {
        const char *row[2] = { "i1", "1999" };
        ck_assert_int_eq(tfrs_dataset_append(bad, row, NULL), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", bad), TFRS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "'year'"));
    tfrs_dataset_free(bad);
    /* an empty table; a candidate feature that is not an id */
    ck_assert_int_eq(tfrs_dataset_create(&bad), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(bad, "item", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", bad), TFRS_EINVAL);
    tfrs_dataset_free(bad);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "genres", items), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "year", items), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "nope", items), TFRS_ENOTFOUND);
    ck_assert_uint_eq(tfrs_model_item_features(m, feats, 2), 2);
    /* ranking by another feature ignores the table */
    {
        const char *q[NF] = { NULL, "i1", "20", "i2", "act", "1999" };
        ck_assert_int_eq(tfrs_model_rank(m, q, "user", users, 3, 0, out, &got), TFRS_OK);
    }
    tfrs_dataset_free(items);
    tfrs_model_free(m);
}
END_TEST

/* A table too large for the cache's share: parts per block, same scores. */
START_TEST(uncached_table)
{
    tfrs_model *m = make_model(LAYERS_DENSE, 5);
    enum { N = 600 };
    const char **ids = malloc(N * sizeof(*ids)), **gen = malloc(N * sizeof(*gen));
    int64_t *years = malloc(N * sizeof(*years));
    size_t *rows = malloc(N * sizeof(*rows));
    char (*txt)[16] = malloc(N * sizeof(*txt));
    tfrs_dataset *items;

    for (size_t r = 0; r < N; r++) {
        snprintf(txt[r], sizeof(txt[r]), "i%zu", (r * 7) % N);    /* OOV past i7 */
        ids[r] = txt[r];
        gen[r] = item_genres[r % NI];
        years[r] = 1950 + (int64_t)(r % 70);
        rows[r] = N - 1 - r;
    }
    items = make_items(ids, gen, years, N);
    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    max_rel_seen = 0;
    check_rank(m, query, ids, gen, years, rows, N, 1e-5);
    ck_assert_ptr_null(m->items->cache);
    fprintf(stderr, "rank vs predict (no cache): largest relative difference %.3g\n",
            max_rel_seen);
    tfrs_dataset_free(items);
    tfrs_model_free(m);
    free(ids);
    free(gen);
    free(years);
    free(rows);
    free(txt);
}
END_TEST

/* A cross layer first: the full forward, bit for bit; dense, dropout,
 * dense: by parts. */
START_TEST(fallback_and_dropout)
{
    tfrs_model *m = make_model(LAYERS_CROSS, 6), *d = make_model(LAYERS_DROPOUT, 7);
    tfrs_dataset *items = default_items();

    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    check_rank(m, query, item_ids, item_genres, item_years, all_rows, NI, 0.0);
    ck_assert_int_eq(tfrs_model_set_item_table(d, "item", items), TFRS_OK);
    check_rank(d, query, item_ids, item_genres, item_years, all_rows, NI, 1e-5);
    ck_assert_int_eq(tfrs_model_set_item_table(d, NULL, NULL), TFRS_OK);
    {
        const char *q[NF] = { "bob", "i1", "41.5", NULL, "com|dra", "1993" };
        const char *gq[NI];
        int64_t yq[NI];
        for (size_t r = 0; r < NI; r++) {
            gq[r] = "com|dra";
            yq[r] = 1993;
        }
        check_rank(d, q, item_ids, gq, yq, all_rows, NI, 1e-5);
    }
    tfrs_dataset_free(items);
    tfrs_model_free(m);
    tfrs_model_free(d);
}
END_TEST

typedef struct job {
    const tfrs_model *m;
    tfrs_scored       out[NI];
    int               rc;
} job;

static void *rank_job(void *p)
{
    job *j = p;

    for (int k = 0; k < 50 && j->rc == TFRS_OK; k++)
        j->rc = tfrs_model_rank(j->m, query, "item", item_ids, NI, 0, j->out, NULL);
    return NULL;
}

START_TEST(two_threads_rank)
{
    tfrs_model *m = make_model(LAYERS_DENSE, 8);
    tfrs_dataset *items = default_items();
    tfrs_scored ref[NI];
    job a = { m, { { 0, 0 } }, TFRS_OK }, b = { m, { { 0, 0 } }, TFRS_OK };
    pthread_t ta, tb;

    ck_assert_int_eq(tfrs_model_set_item_table(m, "item", items), TFRS_OK);
    /* the cache is built by whichever thread gets there first */
    ck_assert_int_eq(pthread_create(&ta, NULL, rank_job, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, rank_job, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.rc, TFRS_OK);
    ck_assert_int_eq(b.rc, TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", item_ids, NI, 0, ref, NULL), TFRS_OK);
    ck_assert_mem_eq(a.out, ref, sizeof(ref));
    ck_assert_mem_eq(b.out, ref, sizeof(ref));
    tfrs_dataset_free(items);
    tfrs_model_free(m);
}
END_TEST

static Suite *serving_suite(void)
{
    Suite *s = suite_create("serving");

    tu_tcase(s, "predict", rank_equals_predict, top_k_of_all_items, uncached_table);
    tu_tcase(s, "cache", cache_follows_training_and_tables);
    tu_tcase(s, "misuse", table_misuse);
    tu_tcase(s, "fallback", fallback_and_dropout);
    tu_tcase(s, "threads", two_threads_rank);
    return s;
}

int main(void)
{
    return tu_run(serving_suite());
}
