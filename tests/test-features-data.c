/*
 * test-features-data.c - features derived from datasets: implicit-feedback
 * bags, the numeric adapters (moments, quantiles) and the bag vocabulary.
 * Synthetic data only; every expected value is written out by hand.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tfrsc.h"

#define OK(call) ck_assert_msg((call) == TFRS_OK, "%s: %s", #call, tfrs_last_error())

static void assert_error_has(const char *needle)
{
    const char *msg = tfrs_last_error();

    ck_assert_msg(strstr(msg, needle) != NULL, "\"%s\" not in error \"%s\"", needle, msg);
}

static const char *str_at(const tfrs_dataset *ds, const char *col, size_t row)
{
    const char *s = NULL;

    OK(tfrs_dataset_get_string(ds, col, row, &s));
    return s;
}

static size_t num_strings(const tfrs_dataset *ds, const char *col)
{
    const uint32_t *ids;
    size_t n = 0;

    OK(tfrs_dataset_string_ids(ds, col, &ids, &n));
    return n;
}

/* A dataset of two string columns "user", "item" and a float "rating". */
static tfrs_dataset *ratings(const char *const (*rows)[2], size_t n)
{
    tfrs_dataset *ds = NULL;

    OK(tfrs_dataset_create(&ds));
    OK(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, "item", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, "rating", TFRS_COLUMN_FLOAT));
    for (size_t r = 0; r < n; r++) {
        float v = (float)(r % 5 + 1);
        OK(tfrs_dataset_append(ds, rows[r], &v));
    }
    return ds;
}

static const char *const six[][2] = {
    { "u1", "a" }, { "u2", "b" }, { "u1", "c" }, { "u1", "a" }, { "u3", "b" }, { "u2", "a" },
};

/* ---- implicit-feedback bags ---------------------------------------------- */

START_TEST(bags_same_dataset)
{
    static const char *const by_user[] = { "a|c", "b|a", "a|c", "a|c", "b", "b|a" };
    static const char *const by_item[] = { "u1|u2", "u2|u3", "u1", "u1|u2", "u2|u3", "u1|u2" };
    tfrs_dataset *ds = ratings(six, TU_NELEM(six));
    const char *name;
    tfrs_column_type type;

    OK(tfrs_dataset_add_implicit_bags(ds, "user_items", ds, "user", "item", '|'));
    OK(tfrs_dataset_add_implicit_bags(ds, "item_users", ds, "item", "user", '|'));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 5);
    OK(tfrs_dataset_column_info(ds, 3, &name, &type));
    ck_assert_str_eq(name, "user_items");
    ck_assert_int_eq(type, TFRS_COLUMN_STRING);
    for (size_t r = 0; r < TU_NELEM(six); r++) {
        ck_assert_str_eq(str_at(ds, "user_items", r), by_user[r]);
        ck_assert_str_eq(str_at(ds, "item_users", r), by_item[r]);
    }
    /* One string per distinct bag, in order of first use. */
    ck_assert_uint_eq(num_strings(ds, "user_items"), 3);
    ck_assert_uint_eq(num_strings(ds, "item_users"), 3);
    {
        const char *s;
        OK(tfrs_dataset_string(ds, "user_items", 0, &s));
        ck_assert_str_eq(s, "a|c");
        OK(tfrs_dataset_string(ds, "user_items", 2, &s));
        ck_assert_str_eq(s, "b");
    }
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(bags_other_target)
{
    static const char *const test_rows[][2] = {
        { "u2", "z" }, { "u9", "a" }, { "u1", "b" }, { "u9", "c" },
    };
    tfrs_dataset *train = ratings(six, TU_NELEM(six)), *test = ratings(test_rows, 4);

    OK(tfrs_dataset_add_implicit_bags(test, "history", train, "user", "item", ','));
    ck_assert_str_eq(str_at(test, "history", 0), "b,a");
    ck_assert_str_eq(str_at(test, "history", 1), "");   /* never seen: empty bag */
    ck_assert_str_eq(str_at(test, "history", 2), "a,c");
    ck_assert_str_eq(str_at(test, "history", 3), "");
    ck_assert_uint_eq(num_strings(test, "history"), 3);
    /* The source is unchanged; the test rows' items do not leak into it. */
    ck_assert_uint_eq(tfrs_dataset_num_columns(train), 3);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
}
END_TEST

START_TEST(bags_empty_source_and_target)
{
    tfrs_dataset *empty = ratings(NULL, 0), *ds = ratings(six, TU_NELEM(six));

    OK(tfrs_dataset_add_implicit_bags(ds, "h", empty, "user", "item", '|'));
    for (size_t r = 0; r < TU_NELEM(six); r++)
        ck_assert_str_eq(str_at(ds, "h", r), "");
    ck_assert_uint_eq(num_strings(ds, "h"), 1);
    /* A target without rows gets the column, and rows can then be appended. */
    OK(tfrs_dataset_add_implicit_bags(empty, "h", ds, "user", "item", '|'));
    ck_assert_uint_eq(tfrs_dataset_num_columns(empty), 4);
    ck_assert_uint_eq(num_strings(empty, "h"), 0);
    {
        const char *strings[] = { "u1", "x", "a|c" };
        float v = 1.0f;
        OK(tfrs_dataset_append(empty, strings, &v));
        ck_assert_str_eq(str_at(empty, "h", 0), "a|c");
    }
    tfrs_dataset_free(ds);
    tfrs_dataset_free(empty);
}
END_TEST

START_TEST(bags_refused_tokens)
{
    static const char *const bad[][2] = { { "u1", "a" }, { "u2", "b|c" } };
    static const char *const empty[][2] = { { "u1", "a" }, { "u2", "" } };
    tfrs_dataset *ds = ratings(bad, 2), *de = ratings(empty, 2);

    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(ds, "h", ds, "user", "item", '|'),
                     TFRS_EINVAL);
    assert_error_has("\"b|c\"");
    assert_error_has("separator");
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 3);
    /* Another separator is fine; the roles swapped too. */
    OK(tfrs_dataset_add_implicit_bags(ds, "h", ds, "user", "item", ';'));
    ck_assert_str_eq(str_at(ds, "h", 1), "b|c");
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(de, "h", de, "user", "item", '|'),
                     TFRS_EINVAL);
    assert_error_has("empty");
    ck_assert_uint_eq(tfrs_dataset_num_columns(de), 3);
    /* Keys may hold the separator: only tokens are checked. */
    OK(tfrs_dataset_add_implicit_bags(ds, "users", ds, "item", "user", ';'));
    /* Separators: NUL and non-ASCII bytes are refused. */
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(ds, "x", ds, "user", "item", '\0'),
                     TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(ds, "x", ds, "user", "item", (char)0xC3),
                     TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(ds, "h", ds, "user", "item", ','),
                     TFRS_EDUPLICATE);
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(ds, "x", ds, "user", "rating", ','),
                     TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(ds, "x", ds, "nope", "item", ','),
                     TFRS_ENOTFOUND);
    tfrs_dataset_free(de);
    tfrs_dataset_free(ds);
}
END_TEST

/* The bag of each row is a function of its key, before and after shuffle
 * and slice; views taken before the column was added stay valid. */
START_TEST(bags_shuffle_slice_views)
{
    char rows_s[400][2][8];
    const char *rows[400][2];
    tfrs_dataset *ds, *part = NULL;
    const uint32_t *uids, *uids2;
    size_t nu, nu2;

    for (size_t r = 0; r < 400; r++) {
        snprintf(rows_s[r][0], 8, "u%zu", (r * 7) % 13);
        snprintf(rows_s[r][1], 8, "i%zu", (r * 11) % 29);
        rows[r][0] = rows_s[r][0];
        rows[r][1] = rows_s[r][1];
    }
    ds = ratings((const char *const (*)[2])rows, 400);
    OK(tfrs_dataset_string_ids(ds, "user", &uids, &nu));
    OK(tfrs_dataset_add_implicit_bags(ds, "h", ds, "user", "item", '|'));
    OK(tfrs_dataset_string_ids(ds, "user", &uids2, &nu2));
    ck_assert_ptr_eq(uids, uids2);
    ck_assert_uint_eq(nu, nu2);
    ck_assert_uint_eq(num_strings(ds, "h"), 13);
    OK(tfrs_dataset_shuffle(ds, 7));
    OK(tfrs_dataset_slice(&part, ds, 100, 150));
    for (size_t r = 0; r < 150; r++) {
        const char *u = str_at(part, "user", r), *h = str_at(part, "h", r);
        /* Same key, same bag, wherever the rows went. */
        for (size_t q = 0; q < 400; q++)
            if (strcmp(str_at(ds, "user", q), u) == 0)
                ck_assert_str_eq(str_at(ds, "h", q), h);
        ck_assert_ptr_nonnull(strstr(h, str_at(part, "item", r)));
    }
    ck_assert_uint_le(num_strings(part, "h"), 13);
    tfrs_dataset_free(part);
    tfrs_dataset_free(ds);
}
END_TEST

/* One key with many items and many keys with one item: linear. */
START_TEST(bags_large)
{
    const size_t n = 200000;
    tfrs_dataset *ds = NULL;
    const char *s;
    size_t len = 0;

    OK(tfrs_dataset_create(&ds));
    OK(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, "item", TFRS_COLUMN_STRING));
    for (size_t r = 0; r < n; r++) {
        char u[16], it[16];
        const char *strings[2] = { u, it };
        snprintf(u, sizeof(u), "%s", r % 2 == 0 ? "big" : "");
        if (r % 2 == 1)
            snprintf(u, sizeof(u), "k%zu", r);
        snprintf(it, sizeof(it), "%zu", r / 2);
        OK(tfrs_dataset_append(ds, strings, NULL));
    }
    OK(tfrs_dataset_add_implicit_bags(ds, "h", ds, "user", "item", '|'));
    OK(tfrs_dataset_add_implicit_bags(ds, "users", ds, "item", "user", '|'));
    OK(tfrs_dataset_get_string(ds, "h", 0, &s));
    for (size_t i = 0; i < n / 2; i++)
        len += (size_t)snprintf(NULL, 0, "%zu", i) + 1;
    ck_assert_uint_eq(strlen(s), len - 1);
    ck_assert_str_eq(str_at(ds, "h", 1), "0");
    ck_assert_str_eq(str_at(ds, "users", 1), "big|k1");
    ck_assert_uint_eq(num_strings(ds, "h"), n / 2 + 1);
    {
        tfrs_vocab *v = NULL;
        OK(tfrs_vocab_adapt_bags(&v, ds, "h", '|', NULL));
        ck_assert_uint_eq(tfrs_vocab_num_tokens(v), n / 2);
        tfrs_vocab_free(v);
    }
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- numeric adapters ------------------------------------------------------ */

static tfrs_dataset *numbers(const float *f, const int64_t *q, size_t n)
{
    tfrs_dataset *ds = NULL;

    OK(tfrs_dataset_create(&ds));
    OK(tfrs_dataset_add_column(ds, "s", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, "f", TFRS_COLUMN_FLOAT));
    OK(tfrs_dataset_add_column(ds, "q", TFRS_COLUMN_INT64));
    for (size_t r = 0; r < n; r++) {
        const char *s = "x";
        OK(tfrs_dataset_append_row(ds, &s, &f[r], &q[r]));
    }
    return ds;
}

START_TEST(moments)
{
    static const float f[] = { 1.0f, 2.0f, 3.0f, 4.0f };
    static const int64_t q[] = { 1000000000000001, 1000000000000003, 1000000000000001,
                                 1000000000000003 };
    static const float big[] = { 1000000.0f, 1000001.0f, 1000002.0f };
    static const int64_t qb[] = { -5, 0, 5 };
    tfrs_dataset *ds = numbers(f, q, 4), *db = numbers(big, qb, 3), *empty = numbers(f, q, 0);
    double m, v;

    OK(tfrs_dataset_column_moments(ds, "f", &m, &v));
    ck_assert_double_eq(m, 2.5);
    ck_assert_double_eq(v, 1.25);                 /* population variance */
    OK(tfrs_dataset_column_moments(ds, "q", &m, &v));
    ck_assert_double_eq(m, 1000000000000002.0);
    ck_assert_double_eq(v, 1.0);
    /* Far from 0: two passes keep the variance exact. */
    OK(tfrs_dataset_column_moments(db, "f", &m, &v));
    ck_assert_double_eq(m, 1000001.0);
    ck_assert_double_eq_tol(v, 2.0 / 3.0, 1e-15);
    OK(tfrs_dataset_column_moments(db, "q", &m, &v));
    ck_assert_double_eq(m, 0.0);
    ck_assert_double_eq_tol(v, 50.0 / 3.0, 1e-13);
    ck_assert_int_eq(tfrs_dataset_column_moments(ds, "s", &m, &v), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_column_moments(ds, "nope", &m, &v), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_column_moments(empty, "f", &m, &v), TFRS_EINVAL);
    assert_error_has("no rows");
    tfrs_dataset_free(empty);
    tfrs_dataset_free(db);
    tfrs_dataset_free(ds);
}
END_TEST

static void quantiles_are(const tfrs_dataset *ds, const char *col, size_t bins,
                          const double *want, size_t nwant)
{
    double b[64];
    size_t n = 99;

    ck_assert_uint_le(bins, 65);
    OK(tfrs_dataset_column_quantiles(ds, col, bins, b, &n));
    ck_assert_uint_eq(n, nwant);
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(b[i], want[i]);
}

START_TEST(quantiles)
{
    static const float f[] = { 9, 3, 0, 7, 1, 8, 2, 6, 4, 5 };          /* 0..9 shuffled */
    static const int64_t q[] = { 0, 0, 3, 0, 0, 1, 0, 2, 0, 0 };        /* seven zeros */
    static const double quarters[] = { 2, 5, 7 }, all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    static const double thirds[] = { 3, 6 }, q4[] = { 1 }, q10[] = { 1, 2, 3 };
    tfrs_dataset *ds = numbers(f, q, 10), *one = numbers(f, q, 1);
    double b[4];
    size_t n = 99;

    quantiles_are(ds, "f", 4, quarters, 3);   /* ranks 2, 5, 7 */
    quantiles_are(ds, "f", 3, thirds, 2);     /* ranks 3, 6 */
    quantiles_are(ds, "f", 2, (const double[]){ 5 }, 1);
    quantiles_are(ds, "f", 1, NULL, 0);
    quantiles_are(ds, "f", 10, all, 9);
    quantiles_are(ds, "f", 64, all, 9);       /* more bins than rows */
    quantiles_are(ds, "q", 4, q4, 1);         /* 0, 0 dropped: the minimum */
    quantiles_are(ds, "q", 10, q10, 3);
    quantiles_are(one, "f", 4, NULL, 0);      /* one value: one bin */
    OK(tfrs_dataset_column_quantiles(ds, "f", 1, NULL, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(tfrs_dataset_column_quantiles(ds, "f", 0, b, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_column_quantiles(ds, "f", 4, NULL, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_column_quantiles(ds, "s", 4, b, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_column_quantiles(ds, "nope", 4, b, &n), TFRS_ENOTFOUND);
    tfrs_dataset_free(one);
    tfrs_dataset_free(ds);
}
END_TEST

/* Discretization's promise: with distinct values, floor(j n / bins) rows
 * fall below boundary j; and huge num_bins costs nothing. */
START_TEST(quantiles_counts)
{
    const size_t n = 1000, bins = 7;
    float *f = malloc(n * sizeof(*f));
    int64_t *q = malloc(n * sizeof(*q));
    double b[6];
    size_t nb = 0;
    tfrs_dataset *ds;

    for (size_t r = 0; r < n; r++) {
        f[r] = (float)((r * 389) % n) * 0.5f - 100.0f;
        q[r] = 7;
    }
    ds = numbers(f, q, n);
    OK(tfrs_dataset_column_quantiles(ds, "f", bins, b, &nb));
    ck_assert_uint_eq(nb, bins - 1);
    for (size_t j = 1; j < bins; j++) {
        size_t below = 0;
        for (size_t r = 0; r < n; r++)
            below += f[r] < b[j - 1];
        ck_assert_uint_eq(below, j * n / bins);
    }
    OK(tfrs_dataset_column_quantiles(ds, "q", 5, b, &nb));
    ck_assert_uint_eq(nb, 0);   /* a constant column: one bin */
    {
        /* num_bins far beyond the rows: the work is bounded by the rows. */
        double *big = malloc(n * sizeof(*big));
        OK(tfrs_dataset_column_quantiles(ds, "f", n + 1, big, &nb));
        ck_assert_uint_eq(nb, n - 1);
        free(big);
    }
    tfrs_dataset_free(ds);
    free(q);
    free(f);
}
END_TEST

/* ---- bag vocabulary ---------------------------------------------------------- */

START_TEST(vocab_bags)
{
    static const char *const rows[][2] = {
        { "u1", "b|a" }, { "u2", "" }, { "u3", "c||a" }, { "u4", "|d|" }, { "u5", "[UNK]|e" },
        { "u6", "b|a" }, { "u7", "\xc3\xa9|a" },
    };
    static const char *const want[] = { "a", "b", "c", "d", "e", "\xc3\xa9" };
    tfrs_dataset *ds = ratings(rows, TU_NELEM(rows));
    tfrs_vocab *v = NULL;
    tfrs_vocab_options o;
    const char *t;

    OK(tfrs_vocab_adapt_bags(&v, ds, "item", '|', NULL));
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), TU_NELEM(want));
    ck_assert_uint_eq(tfrs_vocab_num_oov(v), 1);
    for (size_t i = 0; i < TU_NELEM(want); i++) {
        OK(tfrs_vocab_token(v, (int32_t)(i + 1), &t));
        ck_assert_str_eq(t, want[i]);
    }
    tfrs_vocab_free(v);
    /* The mask token is left out. */
    OK(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION));
    o.mask_token = "d";
    OK(tfrs_vocab_adapt_bags(&v, ds, "item", '|', &o));
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), TU_NELEM(want) - 1);
    OK(tfrs_vocab_token(v, 0, &t));
    ck_assert_str_eq(t, "d");
    OK(tfrs_vocab_token(v, 5, &t));
    ck_assert_str_eq(t, "e");
    tfrs_vocab_free(v);
    /* Another separator: the bags are single tokens. */
    OK(tfrs_vocab_adapt_bags(&v, ds, "item", ',', NULL));
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 5);   /* 6 distinct bags; "" is no token */
    tfrs_vocab_free(v);
    /* A column of users is a column of one-token bags: adapt_column's vocab. */
    OK(tfrs_vocab_adapt_bags(&v, ds, "user", '|', NULL));
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 7);
    tfrs_vocab_free(v);
    ck_assert_int_eq(tfrs_vocab_adapt_bags(&v, ds, "item", '\0', NULL), TFRS_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(tfrs_vocab_adapt_bags(&v, ds, "item", (char)0xA9, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt_bags(&v, ds, "rating", '|', NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt_bags(&v, ds, "nope", '|', NULL), TFRS_ENOTFOUND);
    tfrs_dataset_free(ds);
}
END_TEST

/* Bags from implicit feedback adapt to the items that occur in them. */
START_TEST(vocab_of_implicit_bags)
{
    static const char *const train[][2] = { { "u1", "x" }, { "u1", "y" }, { "u2", "w" } };
    static const char *const test[][2] = { { "u3", "z" }, { "u1", "q" } };
    tfrs_dataset *tr = ratings(train, 3), *te = ratings(test, 2);
    tfrs_vocab *v = NULL;
    const char *t;

    OK(tfrs_dataset_add_implicit_bags(te, "h", tr, "user", "item", '|'));
    OK(tfrs_vocab_adapt_bags(&v, te, "h", '|', NULL));
    /* Only u1's bag occurs in the test rows: no w, and no test item. */
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 2);
    OK(tfrs_vocab_token(v, 1, &t));
    ck_assert_str_eq(t, "x");
    tfrs_vocab_free(v);
    tfrs_dataset_free(te);
    tfrs_dataset_free(tr);
}
END_TEST


/* ---- MovieLens side features, on invented files ------------------------------ */

/* Four genres would not do: the format has 19 flags.  Names are invented;
 * one is Latin-1 ("Caf\xe9"). */
static char genre_text[1024];
static const char item_text[] =
    "1|First Film (1990)|01-Jan-1990||http://x/1|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"
    "2|Second (1971)|4-Feb-1971||http://x/2|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "3|Third|||http://x/3|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "4|Leap (2000)|29-Feb-2000||http://x/4|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n";
static const char user_text[] =
    "1|23|M|engineer|12345\n"
    "2|52|F|retired|9404A\n"
    "3|17|M|\xe9tudiant|\n"
    "7|56|F|writer|00000\n";
static const char data_text[] =
    "1\t1\t5\t900000001\n"
    "2\t4\t3\t900000301\n"
    "3\t2\t1\t899990001\n"
    "7\t3\t2\t899995001\n"
    "1\t4\t4\t900000101\n";

static void write_side_files(const char *genre, const char *item, const char *user,
                             const char *data)
{
    tu_tmpdir_make();
    tu_tmp_write_text("u.genre", genre);
    tu_tmp_write_text("u.item", item);
    tu_tmp_write_text("u.user", user);
    tu_tmp_write_text("u.data", data);
}

static const char *make_genres(int latin1_at, const char *sep)
{
    size_t o = 0;

    for (int g = 0; g < 19; g++)
        o += (size_t)snprintf(genre_text + o, sizeof(genre_text) - o, "%s%d|%d%s",
                              g == latin1_at ? "Caf\xe9" : "G", g, g, sep);
    return genre_text;
}

static int load_side(tfrs_dataset **ds, unsigned features, tfrs_load_options *lo_out)
{
    tfrs_load_options lo;

    OK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION));
    lo.movielens_features = features;
    {
        int rc = tfrs_dataset_load_movielens(ds, tu_tmpdir, &lo);
        if (lo_out != NULL)
            *lo_out = lo;
        return rc;
    }
}

static int64_t i64_at(const tfrs_dataset *ds, const char *col, size_t r)
{
    const int64_t *v;

    OK(tfrs_dataset_int64s(ds, col, &v));
    return v[r];
}

static float f_at(const tfrs_dataset *ds, const char *col, size_t r)
{
    const float *v;

    OK(tfrs_dataset_floats(ds, col, &v));
    return v[r];
}

START_TEST(movielens_side_columns)
{
    static const char *const names[] = {
        "user_id", "movie_id", "movie_title", "user_rating", "timestamp", "raw_user_age",
        "bucketized_user_age", "user_gender", "user_occupation_text", "user_zip_code",
        "movie_genres", "movie_release_date", "movie_release_year",
    };
    static const tfrs_column_type types[] = {
        TFRS_COLUMN_STRING, TFRS_COLUMN_STRING, TFRS_COLUMN_STRING, TFRS_COLUMN_FLOAT,
        TFRS_COLUMN_INT64, TFRS_COLUMN_FLOAT, TFRS_COLUMN_FLOAT, TFRS_COLUMN_STRING,
        TFRS_COLUMN_STRING, TFRS_COLUMN_STRING, TFRS_COLUMN_STRING, TFRS_COLUMN_INT64,
        TFRS_COLUMN_INT64,
    };
    tfrs_dataset *ds = NULL;

    write_side_files(make_genres(5, "\n"), item_text, user_text, data_text);
    OK(load_side(&ds, TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES, NULL));
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 5);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), TU_NELEM(names));
    for (size_t i = 0; i < TU_NELEM(names); i++) {
        const char *n;
        tfrs_column_type t;
        OK(tfrs_dataset_column_info(ds, i, &n, &t));
        ck_assert_str_eq(n, names[i]);
        ck_assert_int_eq(t, types[i]);
    }
    /* Users. */
    ck_assert_float_eq(f_at(ds, "raw_user_age", 0), 23.0f);
    ck_assert_float_eq(f_at(ds, "bucketized_user_age", 0), 18.0f);
    ck_assert_float_eq(f_at(ds, "bucketized_user_age", 1), 50.0f);
    ck_assert_float_eq(f_at(ds, "bucketized_user_age", 2), 1.0f);
    ck_assert_float_eq(f_at(ds, "bucketized_user_age", 3), 56.0f);
    ck_assert_str_eq(str_at(ds, "user_gender", 0), "M");
    ck_assert_str_eq(str_at(ds, "user_gender", 1), "F");
    ck_assert_str_eq(str_at(ds, "user_occupation_text", 2), "\xc3\xa9tudiant");
    ck_assert_str_eq(str_at(ds, "user_zip_code", 1), "9404A");
    ck_assert_str_eq(str_at(ds, "user_zip_code", 2), "");
    ck_assert_str_eq(str_at(ds, "user_zip_code", 4), "12345");
    /* Items: genre names in index order, Latin-1 transcoded; no genre: "". */
    ck_assert_str_eq(str_at(ds, "movie_genres", 0), "G1|G18");
    ck_assert_str_eq(str_at(ds, "movie_genres", 1), "G1|G2");
    ck_assert_str_eq(str_at(ds, "movie_genres", 2), "");
    ck_assert_str_eq(str_at(ds, "movie_genres", 3), "G0");
    ck_assert_uint_eq(num_strings(ds, "movie_genres"), 4);
    ck_assert_int_eq(i64_at(ds, "movie_release_date", 0), 631152000);   /* 1990-01-01 */
    ck_assert_int_eq(i64_at(ds, "movie_release_year", 0), 1990);
    ck_assert_int_eq(i64_at(ds, "movie_release_date", 1), 951782400);   /* 2000-02-29 */
    ck_assert_int_eq(i64_at(ds, "movie_release_date", 2), 34473600);    /* 1971-02-04 */
    ck_assert_int_eq(i64_at(ds, "movie_release_year", 2), 1971);
    ck_assert_int_eq(i64_at(ds, "movie_release_date", 3), 0);           /* no date */
    ck_assert_int_eq(i64_at(ds, "movie_release_year", 3), 1970);
    tfrs_dataset_free(ds);

    /* The Latin-1 genre name, and only one side at a time. */
    write_side_files(make_genres(1, "\r\n"), item_text, user_text, data_text);
    OK(load_side(&ds, TFRS_MOVIELENS_ITEM_FEATURES, NULL));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 8);
    ck_assert_str_eq(str_at(ds, "movie_genres", 0), "Caf\xc3\xa9" "1|G18");
    tfrs_dataset_free(ds);
    OK(load_side(&ds, TFRS_MOVIELENS_USER_FEATURES, NULL));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 10);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

/* ratings_file: the ratings from another file (a split), items and users
 * from the directory; a missing or malformed file is named. */
START_TEST(movielens_ratings_file)
{
    tfrs_dataset *all = NULL, *part = NULL;
    tfrs_load_options lo;
    const char *line2 = strchr(data_text, '\n') + 1, *line4;
    char *path, split[256];

    write_side_files(make_genres(5, "\n"), item_text, user_text, data_text);
    OK(load_side(&all, TFRS_MOVIELENS_USER_FEATURES, NULL));
    /* the split holds rows 2 and 3 of u.data */
    line4 = strchr(strchr(line2, '\n') + 1, '\n') + 1;
    snprintf(split, sizeof(split), "%.*s", (int)(line4 - line2), line2);
    tu_tmp_write_text("split.base", split);
    path = tu_tmp_path("split.base");
    OK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION));
    lo.movielens_features = TFRS_MOVIELENS_USER_FEATURES;
    lo.ratings_file = path;
    OK(tfrs_dataset_load_movielens(&part, tu_tmpdir, &lo));
    ck_assert_uint_eq(tfrs_dataset_num_rows(part), 2);
    ck_assert_str_eq(str_at(part, "user_id", 0), str_at(all, "user_id", 1));
    ck_assert_str_eq(str_at(part, "movie_title", 1), str_at(all, "movie_title", 2));
    ck_assert_str_eq(str_at(part, "user_zip_code", 0), str_at(all, "user_zip_code", 1));
    ck_assert_int_eq(i64_at(part, "timestamp", 1), i64_at(all, "timestamp", 2));
    tfrs_dataset_free(part);
    /* a malformed split names its own file and line */
    tu_tmp_write_text("bad.base", "1\t2\t3\t4\n1\tx\t3\t4\n");
    lo.ratings_file = tu_tmp_path("bad.base");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&part, tu_tmpdir, &lo), TFRS_EPARSE);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "bad.base:2"));
    lo.ratings_file = tu_tmp_path("absent.base");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&part, tu_tmpdir, &lo), TFRS_EIO);
    ck_assert_ptr_null(part);
    /* version 2 callers do not have the field: dir/u.data */
    OK(tfrs_load_options_init(&lo, 2));
    OK(tfrs_dataset_load_movielens(&part, tu_tmpdir, &lo));
    ck_assert_uint_eq(tfrs_dataset_num_rows(part), tfrs_dataset_num_rows(all));
    tfrs_dataset_free(part);
    tfrs_dataset_free(all);
    tu_tmpdir_remove();
}
END_TEST

/* Without the option, nothing changes: u.user and u.genre are not read. */
START_TEST(movielens_side_off)
{
    tfrs_dataset *ds = NULL;
    tfrs_load_options lo;

    write_side_files("junk\n", item_text, "junk\n", data_text);
    OK(load_side(&ds, 0, NULL));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 5);
    tfrs_dataset_free(ds);
    /* A version 1 options struct: the field is not read, and init does not
     * write past the version 1 fields. */
    memset(&lo, 0x5a, sizeof(lo));
    OK(tfrs_load_options_init(&lo, 1));
    ck_assert_uint_eq(lo.movielens_features, 0x5a5a5a5au);
    OK(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &lo));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 5);
    tfrs_dataset_free(ds);
    OK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION));
    ck_assert_uint_eq(lo.movielens_features, 0);
    lo.movielens_features = 4;
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &lo), TFRS_EINVAL);
    ck_assert_ptr_null(ds);
    /* With the option, the junk is an error naming the file and line. */
    ck_assert_int_eq(load_side(&ds, TFRS_MOVIELENS_USER_FEATURES, NULL), TFRS_EPARSE);
    assert_error_has("u.user:1:");
    ck_assert_int_eq(load_side(&ds, TFRS_MOVIELENS_ITEM_FEATURES, NULL), TFRS_EPARSE);
    assert_error_has("u.genre:1:");
    tu_tmpdir_remove();
}
END_TEST

static void side_error(const char *genre, const char *item, const char *user, const char *data,
                       const char *needle)
{
    tfrs_dataset *ds = NULL;
    tfrs_load_options lo;

    write_side_files(genre, item, user, data);
    ck_assert_int_eq(load_side(&ds, TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES,
                               NULL), TFRS_EPARSE);
    ck_assert_ptr_null(ds);
    assert_error_has(needle);
    /* Skipping bad lines skips it (or fails as before when the genres are
     * incomplete, which no line explains). */
    (void)lo;
    tu_tmpdir_remove();
}

START_TEST(movielens_side_errors)
{
    char buf[2048];
    const char *g = make_genres(-1, "\n");
    static char genres[1024];

    snprintf(genres, sizeof(genres), "%s", g);
    /* u.item: a bad date, a bad flag, too few fields. */
    snprintf(buf, sizeof(buf), "%s5|X|31-Feb-1990||u|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
             item_text);
    side_error(genres, buf, user_text, data_text, "u.item:5: bad release date");
    snprintf(buf, sizeof(buf), "%s5|X|01-Foo-1990||u|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
             item_text);
    side_error(genres, buf, user_text, data_text, "u.item:5: bad release date");
    snprintf(buf, sizeof(buf), "%s5|X|29-Feb-1900||u|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
             item_text);
    side_error(genres, buf, user_text, data_text, "u.item:5: bad release date");
    snprintf(buf, sizeof(buf), "%s5|X|||u|0|0|0|0|0|2|0|0|0|0|0|0|0|0|0|0|0|0|0\n", item_text);
    side_error(genres, buf, user_text, data_text, "u.item:5: bad genre flag");
    /* u.user: gender, age, a user of u.data missing, a duplicate. */
    side_error(genres, item_text, "1|24|X|a|b\n2|1|F|a|b\n3|1|F|a|b\n7|1|F|a|b\n", data_text,
               "u.user:1: bad gender");
    side_error(genres, item_text, "1|201|M|a|b\n", data_text, "u.user:1: bad age");
    side_error(genres, item_text, "1|20|M||b\n", data_text, "u.user:1: empty occupation");
    side_error(genres, item_text, "1|20|M|a|b\n1|20|M|a|b\n", data_text,
               "u.user:2: duplicate user id 1");
    side_error(genres, item_text, "1|20|M|a|b\n2|20|M|a|b\n3|20|M|a|b\n", data_text,
               "u.data:4: user id 7 is not in u.user");
    /* u.genre: a missing index, a duplicate name, a bad index, a long name. */
    side_error("a|0\n", item_text, user_text, data_text, "genre 1 is missing");
    snprintf(buf, sizeof(buf), "%sG0|0\n", "G0|1\n");
    side_error(buf, item_text, user_text, data_text, "u.genre:2: duplicate genre name");
    side_error("a|19\n", item_text, user_text, data_text, "u.genre:1: bad genre index");
    memset(buf, 'x', 101);
    snprintf(buf + 101, sizeof(buf) - 101, "|0\n");
    side_error(buf, item_text, user_text, data_text, "u.genre:1: genre name of 101 bytes");
}
END_TEST

/* A byte order mark, skipped lines and the counts of bad lines. */
START_TEST(movielens_side_skip)
{
    char genres[1200], users[256];
    tfrs_dataset *ds = NULL;
    tfrs_load_options lo;

    snprintf(genres, sizeof(genres), "\xEF\xBB\xBF%sjunk\n", make_genres(-1, "\n"));
    snprintf(users, sizeof(users), "\xEF\xBB\xBF%s9|x|M|a|b\n", user_text);
    write_side_files(genres, item_text, users, data_text);
    OK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION));
    lo.movielens_features = TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES;
    lo.skip_bad_lines = 1;
    OK(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &lo));
    ck_assert_uint_eq(lo.bad_lines, 2);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 5);
    ck_assert_float_eq(f_at(ds, "raw_user_age", 0), 23.0f);
    ck_assert_str_eq(str_at(ds, "movie_genres", 3), "G0");
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(bags_same_dataset),  TU_CASE(bags_other_target),
        TU_CASE(bags_empty_source_and_target), TU_CASE(bags_refused_tokens),
        TU_CASE(bags_shuffle_slice_views), TU_CASE(bags_large),
        TU_CASE(moments),            TU_CASE(quantiles),
        TU_CASE(quantiles_counts),   TU_CASE(vocab_bags),
        TU_CASE(vocab_of_implicit_bags), TU_CASE(movielens_side_columns), TU_CASE(movielens_ratings_file),
        TU_CASE(movielens_side_off), TU_CASE(movielens_side_errors),
        TU_CASE(movielens_side_skip),
    };

    return tu_run_cases("features-data", cases, TU_NELEM(cases));
}
