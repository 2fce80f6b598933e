/*
 * test-dataset.c - interned columns, shuffle/slice, and the text loaders.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Loader tests write small synthetic files into a fresh temporary
 * directory.  The real MovieLens 100K checks run only when the data is found
 * (TFRSC_DATA, data/ml-100k, ../shared/data/ml-100k) and are skipped
 * otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/rng.h"      /* the documented stream of tfrs_dataset_shuffle */
#include "util/strtab.h"   /* tfrs__utf8_valid */
#include "testutil.h"
#include "tfrsc.h"

/* ---- helpers ------------------------------------------------------------ */

static void assert_error_has(const char *needle)
{
    const char *msg = tfrs_last_error();

    ck_assert_msg(strstr(msg, needle) != NULL, "\"%s\" not in error \"%s\"", needle, msg);
}

static const char *str_at(const tfrs_dataset *ds, const char *col, size_t row)
{
    const char *s = NULL;

    ck_assert_int_eq(tfrs_dataset_get_string(ds, col, row, &s), TFRS_OK);
    return s;
}

static size_t num_strings(const tfrs_dataset *ds, const char *col)
{
    const uint32_t *ids;
    size_t n = 0;

    ck_assert_int_eq(tfrs_dataset_string_ids(ds, col, &ids, &n), TFRS_OK);
    return n;
}

static const float *floats_of(const tfrs_dataset *ds, const char *col)
{
    const float *v = NULL;

    ck_assert_int_eq(tfrs_dataset_floats(ds, col, &v), TFRS_OK);
    return v;
}

static const int64_t *int64s_of(const tfrs_dataset *ds, const char *col)
{
    const int64_t *v = NULL;

    ck_assert_int_eq(tfrs_dataset_int64s(ds, col, &v), TFRS_OK);
    return v;
}

/* Row i of make_rows(): ("k<i>", "g<i % 3>", i). */
static void key_row(size_t i, char (*s)[TU_ROW_CHARS], float *x, void *arg)
{
    (void)arg;
    snprintf(s[0], TU_ROW_CHARS, "k%zu", i);
    snprintf(s[1], TU_ROW_CHARS, "g%zu", i % 3);
    x[0] = (float)i;
}

/* Dataset with columns key (string), x (float), group (string): row i is
 * ("k<i>", "g<i % 3>", i). */
static tfrs_dataset *make_rows(size_t n)
{
    static const tu_column cols[] = {
        { "key", TFRS_COLUMN_STRING },
        { "x", TFRS_COLUMN_FLOAT },
        { "group", TFRS_COLUMN_STRING },
    };
    tfrs_dataset *ds = NULL;

    ck_assert_int_eq(tu_dataset_new(&ds, cols, TU_NELEM(cols), n, key_row, NULL), TFRS_OK);
    return ds;
}

static tu_alloc oom = TU_ALLOC_INIT;

/* Synthetic MovieLens: 3 items (item 2's title has Latin-1 0xE9), 5 ratings. */
#define GENRES "|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0"
static const char ml_item[] =
    "1|Paper Lanterns (1995)|07-Mar-2003||http://x" GENRES "\n"
    "2|Caf\xe9 Noir (1995)|07-Mar-2003||http://y" GENRES "\n"
    "30|Same Title (1990)|||" GENRES "\n"
    "31|Same Title (1990)|||" GENRES "\n";
static const char ml_data[] =
    "301\t2\t3\t900000049\n"
    "7\t1\t5\t0\n"
    "301\t30\t1\t900000050\n"
    "42\t31\t4\t12\n"
    "007\t2\t2\t99\n";

/* ---- dataset basics ----------------------------------------------------- */

START_TEST(columns_added_and_found)
{
    tfrs_dataset *ds = NULL;
    const char *name;
    tfrs_column_type type;
    size_t idx = 99;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 0);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "rating", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_FLOAT), TFRS_EDUPLICATE);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "", TFRS_COLUMN_FLOAT), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "z", (tfrs_column_type)7), TFRS_EINVAL);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 2);

    ck_assert_int_eq(tfrs_dataset_column_info(ds, 1, &name, &type), TFRS_OK);
    ck_assert_str_eq(name, "rating");
    ck_assert_int_eq(type, TFRS_COLUMN_FLOAT);
    ck_assert_int_eq(tfrs_dataset_column_info(ds, 0, &name, &type), TFRS_OK);
    ck_assert_str_eq(name, "user");
    ck_assert_int_eq(type, TFRS_COLUMN_STRING);
    ck_assert_int_eq(tfrs_dataset_column_info(ds, 2, &name, &type), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_dataset_find_column(ds, "rating", &idx), TFRS_OK);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(tfrs_dataset_find_column(ds, "ratings", &idx), TFRS_ENOTFOUND);
    assert_error_has("ratings");
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(append_and_get)
{
    const char *r0[] = { "alice", "m1" }, *r1[] = { "bob", "m\xc3\xa9" };
    const float f0[] = { 4.5f, 10.0f }, f1[] = { -1.0f, 0.0f };
    tfrs_dataset *ds = NULL;
    const float *v;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "rating", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "movie", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "ts", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_ptr_nonnull(floats_of(ds, "rating"));   /* a view even with no rows */
    ck_assert_int_eq(tfrs_dataset_append(ds, r0, f0), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_append(ds, r1, f1), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 2);
    ck_assert_str_eq(str_at(ds, "user", 0), "alice");
    ck_assert_str_eq(str_at(ds, "movie", 0), "m1");
    ck_assert_str_eq(str_at(ds, "user", 1), "bob");
    ck_assert_str_eq(str_at(ds, "movie", 1), "m\xc3\xa9");
    v = floats_of(ds, "rating");
    ck_assert_float_eq(v[0], 4.5f);
    ck_assert_float_eq(v[1], -1.0f);
    v = floats_of(ds, "ts");
    ck_assert_float_eq(v[0], 10.0f);
    ck_assert_float_eq(v[1], 0.0f);
    /* Columns may no longer be added. */
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "late", TFRS_COLUMN_FLOAT), TFRS_ESTATE);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(equal_strings_share_an_id)
{
    const char *vals[] = { "b", "a", "b", "", "a", "b" };
    tfrs_dataset *ds = NULL;
    const uint32_t *ids;
    const char *s;
    size_t n;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "s", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "t", TFRS_COLUMN_STRING), TFRS_OK);
    for (int i = 0; i < 6; i++) {
        const char *row[2] = { vals[i], "same" };
        ck_assert_int_eq(tfrs_dataset_append(ds, row, NULL), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "s", &ids, &n), TFRS_OK);
    ck_assert_uint_eq(n, 3);
    /* Pool ids in order of first appearance: b=0, a=1, ""=2. */
    ck_assert_uint_eq(ids[0], 0);
    ck_assert_uint_eq(ids[1], 1);
    ck_assert_uint_eq(ids[2], 0);
    ck_assert_uint_eq(ids[3], 2);
    ck_assert_uint_eq(ids[4], 1);
    ck_assert_uint_eq(ids[5], 0);
    ck_assert_int_eq(tfrs_dataset_string(ds, "s", 1, &s), TFRS_OK);
    ck_assert_str_eq(s, "a");
    ck_assert_int_eq(tfrs_dataset_string(ds, "s", 2, &s), TFRS_OK);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(tfrs_dataset_string(ds, "s", 3, &s), TFRS_ERANGE);
    ck_assert_uint_eq(num_strings(ds, "t"), 1);
    /* Pools are per column. */
    ck_assert_str_eq(str_at(ds, "t", 5), "same");
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(interning_many_strings)
{
    enum { N = 20000 };
    tfrs_dataset *ds = make_rows(N);
    const uint32_t *ids;
    size_t n;

    ck_assert_uint_eq(num_strings(ds, "key"), N);
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "group", &ids, &n), TFRS_OK);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < N; i += 997) {
        char want[32];
        snprintf(want, sizeof(want), "k%zu", i);
        ck_assert_str_eq(str_at(ds, "key", i), want);
        ck_assert_uint_eq(ids[i], i % 3);
    }
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(bad_append_leaves_dataset_unchanged)
{
    const char *nul[] = { "new", NULL }, *bad[] = { "new2", "\xc3(" };
    const char *ok[] = { "k0", "x" };
    float x = 1.0f, nan_x = NAN, inf_x = INFINITY;
    tfrs_dataset *ds = make_rows(4), *empty = NULL;

    ck_assert_int_eq(tfrs_dataset_append(ds, nul, &x), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_append(ds, bad, &x), TFRS_EINVAL);
    assert_error_has("UTF-8");
    ck_assert_int_eq(tfrs_dataset_append(ds, ok, &nan_x), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_append(ds, ok, &inf_x), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_append(ds, NULL, &x), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_append(ds, ok, NULL), TFRS_EINVAL);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 4);
    ck_assert_uint_eq(num_strings(ds, "key"), 4);
    ck_assert_uint_eq(num_strings(ds, "group"), 3);

    ck_assert_int_eq(tfrs_dataset_create(&empty), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_append(empty, NULL, NULL), TFRS_ESTATE);
    tfrs_dataset_free(empty);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(wrong_column_and_range)
{
    tfrs_dataset *ds = make_rows(3);
    const uint32_t *ids;
    const float *v;
    const char *s;
    size_t n;

    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "x", &ids, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string(ds, "x", 0, &s), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "x", 0, &s), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_floats(ds, "key", &v), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "nope", &ids, &n), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_string(ds, "nope", 0, &s), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "nope", 0, &s), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_floats(ds, "nope", &v), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "key", 3, &s), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "key", SIZE_MAX, &s), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_dataset_string(ds, "group", 3, &s), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_dataset_string(ds, "group", UINT32_MAX, &s), TFRS_ERANGE);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- shuffle and slice -------------------------------------------------- */

START_TEST(shuffle_is_seeded_permutation)
{
    enum { N = 1000 };
    tfrs_dataset *a = make_rows(N), *b = make_rows(N), *c = make_rows(N);
    uint32_t perm[N];
    unsigned char seen[N] = { 0 };
    size_t same = 0;
    tfrs__rng r;
    const float *xa, *xb, *xc;

    ck_assert_int_eq(tfrs_dataset_shuffle(a, 42), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_shuffle(b, 42), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_shuffle(c, 43), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(a), N);
    xa = floats_of(a, "x");
    xb = floats_of(b, "x");
    xc = floats_of(c, "x");

    /* Row i of the result is old row perm[i], for the documented stream. */
    tfrs__rng_seed(&r, 42, 0);
    tfrs__rng_permutation(&r, perm, N);
    for (size_t i = 0; i < N; i++) {
        char key[32], group[32];
        size_t old = (size_t)xa[i];
        ck_assert_float_eq(xa[i], (float)perm[i]);
        ck_assert_int_eq(seen[old], 0);
        seen[old] = 1;
        /* All columns moved together. */
        snprintf(key, sizeof(key), "k%zu", old);
        snprintf(group, sizeof(group), "g%zu", old % 3);
        ck_assert_str_eq(str_at(a, "key", i), key);
        ck_assert_str_eq(str_at(a, "group", i), group);
        ck_assert_float_eq(xa[i], xb[i]);
        same += xa[i] == xc[i];
    }
    ck_assert_uint_lt(same, N / 10);
    /* The pools are untouched. */
    ck_assert_uint_eq(num_strings(a, "group"), 3);
    ck_assert_str_eq(str_at(a, "key", 0), str_at(b, "key", 0));
    tfrs_dataset_free(a);
    tfrs_dataset_free(b);
    tfrs_dataset_free(c);
}
END_TEST

START_TEST(shuffle_small_datasets)
{
    tfrs_dataset *ds = make_rows(0);

    ck_assert_int_eq(tfrs_dataset_shuffle(ds, 1), TFRS_OK);
    tfrs_dataset_free(ds);
    ds = make_rows(1);
    ck_assert_int_eq(tfrs_dataset_shuffle(ds, 1), TFRS_OK);
    ck_assert_str_eq(str_at(ds, "key", 0), "k0");
    tfrs_dataset_free(ds);
    ck_assert_int_eq(tfrs_dataset_shuffle(NULL, 1), TFRS_EINVAL);
}
END_TEST

START_TEST(slice_copies_rows)
{
    tfrs_dataset *ds = make_rows(10), *s = NULL;
    const uint32_t *ids;
    const float *x;
    const char *name;
    tfrs_column_type type;
    size_t n;

    ck_assert_int_eq(tfrs_dataset_shuffle(ds, 7), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_slice(&s, ds, 2, 5), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(s), 5);
    ck_assert_uint_eq(tfrs_dataset_num_columns(s), 3);
    ck_assert_int_eq(tfrs_dataset_column_info(s, 1, &name, &type), TFRS_OK);
    ck_assert_str_eq(name, "x");
    ck_assert_int_eq(type, TFRS_COLUMN_FLOAT);
    x = floats_of(s, "x");
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(str_at(s, "key", i), str_at(ds, "key", 2 + i));
        ck_assert_str_eq(str_at(s, "group", i), str_at(ds, "group", 2 + i));
        ck_assert_float_eq(x[i], floats_of(ds, "x")[2 + i]);
    }
    /* Compact pools in order of first use. */
    ck_assert_uint_eq(num_strings(s, "key"), 5);
    ck_assert_int_eq(tfrs_dataset_string_ids(s, "group", &ids, &n), TFRS_OK);
    ck_assert_uint_le(n, 3);
    ck_assert_uint_eq(ids[0], 0);
    for (size_t i = 1, top = 0; i < 5; i++) {
        ck_assert_uint_le(ids[i], top + 1);
        if (ids[i] > top)
            top = ids[i];
    }
    /* The source is unchanged. */
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 10);
    ck_assert_uint_eq(num_strings(ds, "key"), 10);
    tfrs_dataset_free(s);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(slice_is_clamped)
{
    tfrs_dataset *ds = make_rows(10), *s = NULL;

    ck_assert_int_eq(tfrs_dataset_slice(&s, ds, 8, 100), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(s), 2);
    ck_assert_str_eq(str_at(s, "key", 1), "k9");
    tfrs_dataset_free(s);
    ck_assert_int_eq(tfrs_dataset_slice(&s, ds, 0, SIZE_MAX), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(s), 10);
    tfrs_dataset_free(s);
    ck_assert_int_eq(tfrs_dataset_slice(&s, ds, 50, 5), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(s), 0);
    ck_assert_uint_eq(tfrs_dataset_num_columns(s), 3);
    ck_assert_uint_eq(num_strings(s, "key"), 0);
    ck_assert_ptr_nonnull(floats_of(s, "x"));
    tfrs_dataset_free(s);
    ck_assert_int_eq(tfrs_dataset_slice(&s, ds, 3, 0), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(s), 0);
    tfrs_dataset_free(s);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- delimited loader --------------------------------------------------- */

START_TEST(delimited_basic)
{
    static const char *fc[] = { "rating" };
    tfrs_delimited_options o;
    tfrs_dataset *ds = NULL;
    const char *path;
    const float *r;

    tu_tmpdir_make();
    path = tu_tmp_write_text("a.csv", "user,rating,title\r\n"
                                   "u1,4.5,Caf\xc3\xa9\r\n"
                                   "u2,-1e2,\r\n"
                                   "u1,+.5,x y\r\n"
                                   "u3,7.,last");
    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = fc;
    o.num_float_columns = 1;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 4);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 3);
    ck_assert_str_eq(str_at(ds, "user", 2), "u1");
    ck_assert_str_eq(str_at(ds, "title", 0), "Caf\xc3\xa9");
    ck_assert_str_eq(str_at(ds, "title", 1), "");
    ck_assert_str_eq(str_at(ds, "title", 3), "last");   /* no final newline */
    ck_assert_uint_eq(num_strings(ds, "user"), 3);
    r = floats_of(ds, "rating");
    ck_assert_float_eq(r[0], 4.5f);
    ck_assert_float_eq(r[1], -100.0f);
    ck_assert_float_eq(r[2], 0.5f);
    ck_assert_float_eq(r[3], 7.0f);
    ck_assert_uint_eq(o.load.bad_lines, 0);
    tfrs_dataset_free(ds);

    /* All strings by default; trailing empty lines are fine. */
    path = tu_tmp_write_text("b.csv", "a,b\n1,2\n\n\r\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 1);
    ck_assert_str_eq(str_at(ds, "b", 0), "2");
    tfrs_dataset_free(ds);

    /* A UTF-8 byte order mark is not part of the first name. */
    path = tu_tmp_write_text("b.csv", "\xef\xbb\xbf" "a,b\n1,2\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_OK);
    ck_assert_str_eq(str_at(ds, "a", 0), "1");
    tfrs_dataset_free(ds);

    /* Tab-separated, header only. */
    path = tu_tmp_write_text("c.tsv", "x\ty\n");
    o.delimiter = '\t';
    o.num_float_columns = 0;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 0);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 2);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(delimited_wrong_field_count)
{
    tfrs_dataset *ds = (tfrs_dataset *)&ds;
    char want[700];
    const char *path;

    tu_tmpdir_make();
    path = tu_tmp_write_text("f.csv", "a,b\n1,2\n1,2,3\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    ck_assert_ptr_null(ds);
    snprintf(want, sizeof(want), "%s:3:", path);
    assert_error_has(want);
    assert_error_has("expected 2 fields, got 3");
    path = tu_tmp_write_text("f.csv", "a,b\n1\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    snprintf(want, sizeof(want), "%s:2:", path);
    assert_error_has(want);
    /* An empty line in the middle is a line with one field. */
    path = tu_tmp_write_text("f.csv", "a,b\n\n1,2\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(delimited_rejects_bad_numbers)
{
    static const char *bad[] = {
        "nan", "NaN", "inf", "-inf", "infinity", "0x1p3", "0X10", "", " 1", "1 ", "1.5x",
        "1e", "1e+", "e5", ".", "+", "--1", "1,5", "1e999", "-1e39", "1..2", "\xc3\xa9",
    };
    static const char *good[] = { "0", "-0", "+1", ".5", "5.", "1e-3", "1E+3", "3.4e38",
                                  "1e-50", "00012" };
    static const char *fc[] = { "v" };
    tfrs_delimited_options o;
    tfrs_dataset *ds = NULL;
    char text[128];
    const char *path;

    tu_tmpdir_make();
    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = fc;
    o.num_float_columns = 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        snprintf(text, sizeof(text), "k,v\na,1\nb,%s\n", bad[i]);
        path = tu_tmp_write_text("n.csv", text);
        ck_assert_msg(tfrs_dataset_load_delimited(&ds, path, &o) == TFRS_EPARSE,
                      "\"%s\" accepted", bad[i]);
        ck_assert_ptr_null(ds);
        assert_error_has("n.csv:3:");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        snprintf(text, sizeof(text), "k,v\nb,%s\n", good[i]);
        path = tu_tmp_write_text("n.csv", text);
        ck_assert_msg(tfrs_dataset_load_delimited(&ds, path, &o) == TFRS_OK,
                      "\"%s\" rejected: %s", good[i], tfrs_last_error());
        ck_assert_float_eq(floats_of(ds, "v")[0], strtof(good[i], NULL));
        tfrs_dataset_free(ds);
    }
    tu_tmpdir_remove();
}
END_TEST

START_TEST(delimited_rejects_bad_text)
{
    static const char *fc[] = { "missing" };
    tfrs_delimited_options o;
    tfrs_dataset *ds = NULL;
    const char *path;

    tu_tmpdir_make();
    path = tu_tmp_write_text("u.csv", "a,b\nok,\xff\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("u.csv:2:");
    assert_error_has("UTF-8");
    path = tu_tmp_write("u.csv", "a,b\nok,x\0y\n", 11);
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("NUL");
    path = tu_tmp_write_text("u.csv", "a,b,a\n1,2,3\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("u.csv:1:");
    assert_error_has("duplicate");
    path = tu_tmp_write_text("u.csv", "a,,c\n1,2,3\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("empty name");
    path = tu_tmp_write_text("u.csv", "");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("u.csv:1:");
    path = tu_tmp_write_text("u.csv", "a,\xc3\n1,2\n");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("u.csv:1:");
    path = tu_tmp_write("u.csv", "a,b\0\n1,2\n", 9);
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, NULL), TFRS_EPARSE);
    assert_error_has("u.csv:1: NUL");
    path = tu_tmp_write_text("u.csv", "a,b\n1,2\n");
    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = fc;
    o.num_float_columns = 1;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_ENOTFOUND);
    assert_error_has("missing");
    ck_assert_ptr_null(ds);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(delimited_skip_bad_lines)
{
    static const char *fc[] = { "v" };
    tfrs_delimited_options o;
    tfrs_dataset *ds = NULL;
    const char *path;

    tu_tmpdir_make();
    path = tu_tmp_write_text("s.csv", "k,v\n"
                                   "a,1\n"
                                   "b,nan\n"        /* bad number   */
                                   "c\n"            /* field count  */
                                   "\xff,2\n"       /* bad UTF-8    */
                                   "d,2\n"
                                   "\n"             /* one field    */
                                   "e,3\n");
    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = fc;
    o.num_float_columns = 1;
    o.load.skip_bad_lines = 1;
    o.load.bad_lines = 1234;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_OK);
    ck_assert_uint_eq(o.load.bad_lines, 4);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 3);
    ck_assert_str_eq(str_at(ds, "k", 0), "a");
    ck_assert_str_eq(str_at(ds, "k", 1), "d");
    ck_assert_str_eq(str_at(ds, "k", 2), "e");
    /* Skipped lines leave nothing in the pools. */
    ck_assert_uint_eq(num_strings(ds, "k"), 3);
    ck_assert_float_eq(floats_of(ds, "v")[2], 3.0f);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(delimited_options_and_io)
{
    static const char *nulls[] = { NULL };
    tfrs_delimited_options o;
    tfrs_load_options lo;
    tfrs_dataset *ds = NULL;
    const char *path;

    ck_assert_int_eq(tfrs_delimited_options_init(NULL, TFRS_DELIMITED_OPTIONS_VERSION),
                     TFRS_EINVAL);
    ck_assert_int_eq(tfrs_delimited_options_init(&o, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_load_options_init(NULL, TFRS_LOAD_OPTIONS_VERSION), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION + 1), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION), TFRS_OK);
    ck_assert_int_eq(lo.skip_bad_lines, 0);
    ck_assert_int_eq(tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION), TFRS_OK);
    ck_assert_int_eq(o.delimiter, ',');
    ck_assert_uint_eq(o.num_float_columns, 0);
    ck_assert_uint_eq(o.load.version, TFRS_LOAD_OPTIONS_VERSION);  /* version 2: the latest */
    ck_assert_int_eq(tfrs_delimited_options_init(&o, 1), TFRS_OK);
    ck_assert_uint_eq(o.load.version, 1);   /* delimited version 1 holds load options v1 */

    tu_tmpdir_make();
    path = tu_tmp_write_text("o.csv", "a\n1\n");
    o.delimiter = '\n';
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_EINVAL);
    o.delimiter = ',';
    o.num_float_columns = 1;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_EINVAL);
    o.float_columns = nulls;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_EINVAL);
    o.num_float_columns = 0;
    o.version = 77;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, path, &o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_load_delimited(NULL, path, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, NULL, NULL), TFRS_EINVAL);

    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, "/nonexistent/x.csv", NULL), TFRS_EIO);
    assert_error_has("/nonexistent/x.csv");
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, tu_tmpdir, NULL), TFRS_EIO);
    ck_assert_ptr_null(ds);
    tu_tmpdir_remove();
}
END_TEST

/* ---- MovieLens loader --------------------------------------------------- */

START_TEST(movielens_synthetic)
{
    tfrs_dataset *ds = NULL;
    const char *name;
    tfrs_column_type type;
    static const char *names[] = { "user_id", "movie_id", "movie_title", "user_rating",
                                   "timestamp" };
    const float *r;
    const int64_t *ts;

    tu_tmpdir_make();
    tu_tmp_write_text("u.item", ml_item);
    tu_tmp_write_text("u.data", ml_data);
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(tfrs_dataset_column_info(ds, i, &name, &type), TFRS_OK);
        ck_assert_str_eq(name, names[i]);
        ck_assert_int_eq(type, i < 3 ? TFRS_COLUMN_STRING
                               : i == 3 ? TFRS_COLUMN_FLOAT : TFRS_COLUMN_INT64);
    }
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 5);
    ck_assert_str_eq(str_at(ds, "user_id", 0), "301");
    ck_assert_str_eq(str_at(ds, "movie_id", 0), "2");
    ck_assert_str_eq(str_at(ds, "movie_title", 0), "Caf\xc3\xa9 Noir (1995)");
    ck_assert_str_eq(str_at(ds, "movie_title", 1), "Paper Lanterns (1995)");
    ck_assert_str_eq(str_at(ds, "user_id", 4), "7");    /* "007" as decimal text */
    ck_assert_str_eq(str_at(ds, "movie_id", 3), "31");
    ck_assert_uint_eq(num_strings(ds, "user_id"), 3);
    ck_assert_uint_eq(num_strings(ds, "movie_id"), 4);
    ck_assert_uint_eq(num_strings(ds, "movie_title"), 3);   /* 30 and 31 share a title */
    r = floats_of(ds, "user_rating");
    ts = int64s_of(ds, "timestamp");
    ck_assert_float_eq(r[0], 3.0f);
    ck_assert_float_eq(r[1], 5.0f);
    ck_assert_float_eq(r[3], 4.0f);
    ck_assert_int_eq(ts[0], 900000049);      /* a float would hold 900000064 */
    ck_assert_int_eq(ts[1], 0);
    ck_assert_int_eq(ts[4], 99);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(movielens_line_endings)
{
    tfrs_load_options lo;
    tfrs_dataset *ds = NULL;

    tu_tmpdir_make();
    tu_tmp_write_text("u.item", "5|A (1990)|||" GENRES "\r\n6|B|||" GENRES);
    tu_tmp_write_text("u.data", "1\t5\t1\t10\r\n2\t6\t2\t20\r\n\r\n");
    tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION);
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &lo), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 2);
    ck_assert_str_eq(str_at(ds, "movie_title", 0), "A (1990)");
    ck_assert_str_eq(str_at(ds, "movie_title", 1), "B");
    ck_assert_int_eq(int64s_of(ds, "timestamp")[1], 20);
    tfrs_dataset_free(ds);

    /* Final line without newline; dir with a trailing slash. */
    tu_tmp_write_text("u.data", "1\t5\t1\t10\n2\t6\t5\t20");
    {
        char dir[600];
        snprintf(dir, sizeof(dir), "%s/", tu_tmpdir);
        ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, dir, NULL), TFRS_OK);
    }
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 2);
    ck_assert_float_eq(floats_of(ds, "user_rating")[1], 5.0f);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(movielens_strict_parsing)
{
    static const struct {
        const char *data, *why;
        int line;
    } bad[] = {
        { "1\t1\t3\t5\n1\t99\t3\t5\n", "not in u.item", 2 },
        { "1\t1\t6\t5\n", "rating", 1 },
        { "1\t1\t0\t5\n", "rating", 1 },
        { "1\t1\t3.5\t5\n", "rating", 1 },
        { "1\t1\t3\n", "expected 4", 1 },
        { "1\t1\t3\t5\t9\n", "expected 4", 1 },
        { "1 1 3 5\n", "expected 4", 1 },
        { "0\t1\t3\t5\n", "user id", 1 },
        { "-1\t1\t3\t5\n", "user id", 1 },
        { "2147483648\t1\t3\t5\n", "user id", 1 },
        { "+1\t1\t3\t5\n", "user id", 1 },
        { "1\t0\t3\t5\n", "item id", 1 },
        { "1\tx\t3\t5\n", "item id", 1 },
        { "1\t1\t3\t-5\n", "timestamp", 1 },
        { "1\t1\t3\t99999999999999999999\n", "timestamp", 1 },
        { "1\t1\t3\t\n", "timestamp", 1 },
        { "1\t1\t3\t5\n\n1\t1\t3\t5\n", "expected 4", 2 },
        { "1\t99\t9\t5\n", "not in u.item", 1 },       /* item checked before rating */
    };
    tfrs_dataset *ds = (tfrs_dataset *)&ds;
    char want[700];

    tu_tmpdir_make();
    tu_tmp_write_text("u.item", "1|One|||" GENRES "\n2147483647|Max|||" GENRES "\n");
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        tu_tmp_write_text("u.data", bad[i].data);
        ck_assert_msg(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL) == TFRS_EPARSE,
                      "case %zu accepted", i);
        ck_assert_ptr_null(ds);
        snprintf(want, sizeof(want), "%s/u.data:%d: ", tu_tmpdir, bad[i].line);
        assert_error_has(want);
        assert_error_has(bad[i].why);
    }
    tu_tmp_write("u.data", "1\t1\t3\t5\n1\t1\0\t3\t5\n", 17);
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EPARSE);
    assert_error_has("u.data:2: NUL");

    /* The largest id and timestamp are accepted, exactly; one more second
     * is not. */
    tu_tmp_write_text("u.data", "2147483647\t2147483647\t1\t9223372036854775807\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_OK);
    ck_assert(int64s_of(ds, "timestamp")[0] == INT64_MAX);
    ck_assert_str_eq(str_at(ds, "user_id", 0), "2147483647");
    ck_assert_str_eq(str_at(ds, "movie_title", 0), "Max");
    tfrs_dataset_free(ds);
    tu_tmp_write_text("u.data", "2147483647\t2147483647\t1\t9223372036854775808\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EPARSE);
    assert_error_has("bad timestamp");

    /* Errors in u.item. */
    tu_tmp_write_text("u.data", "1\t1\t3\t5\n");
    tu_tmp_write_text("u.item", "1|One|||" GENRES "\n1|Again|||" GENRES "\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EPARSE);
    assert_error_has("u.item:2: duplicate item id 1");
    tu_tmp_write_text("u.item", "1|One|||\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EPARSE);
    assert_error_has("u.item:1: expected 24");
    tu_tmp_write_text("u.item", "x|One|||" GENRES "\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EPARSE);
    assert_error_has("u.item:1: bad item id");
    {
        static const char nul_item[] = "1|One|||" GENRES "\n2|T\0o|||" GENRES "\n";
        tu_tmp_write("u.item", nul_item, sizeof(nul_item) - 1);
    }
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EPARSE);
    assert_error_has("u.item:2: NUL byte");
    tu_tmpdir_remove();
}
END_TEST

START_TEST(movielens_skip_bad_lines)
{
    tfrs_load_options lo;
    tfrs_dataset *ds = NULL;

    tu_tmpdir_make();
    tu_tmp_write_text("u.item", "1|One|||" GENRES "\n"
                             "1|Dup|||" GENRES "\n"
                             "2|Short\n"
                             "3|Three|||" GENRES "\n");
    tu_tmp_write_text("u.data", "1\t1\t3\t5\n"
                             "1\t2\t3\t5\n"       /* item 2 was skipped */
                             "2\t3\t9\t5\n"       /* rating 9           */
                             "3\t3\t4\t6\n"
                             "bad\n");
    tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION);
    lo.skip_bad_lines = 1;
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &lo), TFRS_OK);
    ck_assert_uint_eq(lo.bad_lines, 5);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 2);
    ck_assert_str_eq(str_at(ds, "movie_title", 0), "One");
    ck_assert_str_eq(str_at(ds, "user_id", 1), "3");
    ck_assert_uint_eq(num_strings(ds, "user_id"), 2);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(movielens_missing_files)
{
    tfrs_load_options lo;
    tfrs_dataset *ds = (tfrs_dataset *)&ds;

    tu_tmpdir_make();
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EIO);
    ck_assert_ptr_null(ds);
    assert_error_has("u.item");
    tu_tmp_write_text("u.item", "1|One|||" GENRES "\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_EIO);
    assert_error_has("u.data'");
    ck_assert_int_eq(tfrs_dataset_load_movielens(NULL, tu_tmpdir, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, NULL, NULL), TFRS_EINVAL);
    memset(&lo, 0, sizeof(lo));
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &lo), TFRS_EINVAL);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(movielens_real_data)
{
    const char *dir = tu_movielens_dir();
    tfrs_dataset *ds = NULL;
    const uint32_t *ids;
    const float *r;
    const int64_t *ts;
    size_t n;
    int found = 0;

    if (dir == NULL) {
        fprintf(stderr, "movielens_real_data: skipped, MovieLens 100K not found\n");
        return;
    }
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, dir, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 100000);
    ck_assert_uint_eq(num_strings(ds, "user_id"), 943);
    ck_assert_uint_eq(num_strings(ds, "movie_id"), 1682);
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "movie_title", &ids, &n), TFRS_OK);
    ck_assert_uint_eq(n, 1664);
    r = floats_of(ds, "user_rating");
    ts = int64s_of(ds, "timestamp");
    for (size_t i = 0; i < 100000; i++)
        ck_assert(r[i] >= 1.0f && r[i] <= 5.0f && ts[i] > 0);
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        ck_assert_int_eq(tfrs_dataset_string(ds, "movie_title", i, &s), TFRS_OK);
        ck_assert(tfrs__utf8_valid(s, strlen(s)));
        found |= strcmp(s, "Mis\xc3\xa9rables, Les (1995)") == 0;
    }
    ck_assert_int_eq(found, 1);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- misuse and out of memory ------------------------------------------- */

START_TEST(misuse_returns_status)
{
    tfrs_dataset *ds = make_rows(2), *s = (tfrs_dataset *)&s;
    const uint32_t *ids;
    const float *v;
    const char *str, *name;
    tfrs_column_type type;
    size_t n;

    ck_assert_int_eq(tfrs_dataset_create(NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_add_column(NULL, "a", TFRS_COLUMN_FLOAT), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, NULL, TFRS_COLUMN_FLOAT), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_append(NULL, NULL, NULL), TFRS_EINVAL);
    ck_assert_uint_eq(tfrs_dataset_num_rows(NULL), 0);
    ck_assert_uint_eq(tfrs_dataset_num_columns(NULL), 0);
    ck_assert_int_eq(tfrs_dataset_column_info(NULL, 0, &name, &type), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_column_info(ds, 0, NULL, &type), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_column_info(ds, 0, &name, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_find_column(NULL, "x", &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_find_column(ds, NULL, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_find_column(ds, "x", NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string_ids(NULL, "key", &ids, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, NULL, &ids, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "key", NULL, &n), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string_ids(ds, "key", &ids, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string(NULL, "key", 0, &str), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_string(ds, "key", 0, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_get_string(NULL, "key", 0, &str), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, NULL, 0, &str), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "key", 0, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_floats(NULL, "x", &v), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_floats(ds, "x", NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_slice(NULL, ds, 0, 1), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dataset_slice(&s, NULL, 0, 1), TFRS_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_str_ne(tfrs_last_error(), "");
    tfrs_dataset_free(NULL);
    tfrs_dataset_free(ds);
}
END_TEST

/* Runs op until it succeeds with allocation k failing, k = 0, 1, 2, ...
 * Each failure must be TFRS_ENOMEM, set *out to NULL and leak nothing. */
static void oom_loop(int (*op)(tfrs_dataset **out, void *arg), void *arg)
{
    for (long k = 0;; k++) {
        tfrs_dataset *out = (tfrs_dataset *)&out;
        int rc;

        tu_oom_begin(&oom, k);
        rc = op(&out, arg);
        if (rc != TFRS_OK) {
            ck_assert_int_eq(rc, TFRS_ENOMEM);
            ck_assert_ptr_null(out);
        }
        tfrs_dataset_free(out);
        tu_oom_end(&oom);
        if (rc == TFRS_OK)
            return;
        ck_assert_int_lt(k, 10000);
    }
}

static int op_build(tfrs_dataset **out, void *arg)
{
    const char *vals[] = { "a", "b", "a", "c", "a", "d", "e", "f", "g", "h" };
    tfrs_dataset *ds = NULL;
    int rc;

    (void)arg;
    *out = NULL;
    rc = tfrs_dataset_create(&ds);
    if (rc == 0)
        rc = tfrs_dataset_add_column(ds, "s", TFRS_COLUMN_STRING);
    if (rc == 0)
        rc = tfrs_dataset_add_column(ds, "f", TFRS_COLUMN_FLOAT);
    for (int i = 0; i < 40 && rc == 0; i++) {
        const char *row[1] = { vals[i % 10] };
        size_t before = tfrs_dataset_num_rows(ds);
        float x = (float)i;
        rc = tfrs_dataset_append(ds, row, &x);
        if (rc != 0)   /* a failed append changes nothing */
            ck_assert_uint_eq(tfrs_dataset_num_rows(ds), before);
    }
    if (rc == 0)
        rc = tfrs_dataset_shuffle(ds, 3);
    if (rc < 0) {
        tfrs_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return TFRS_OK;
}

/* op_build's dataset without its string column; a failed drop leaves
 * both columns. */
static int op_drop(tfrs_dataset **out, void *arg)
{
    tfrs_dataset *ds = NULL;
    int rc = op_build(&ds, arg);

    *out = NULL;
    if (rc != TFRS_OK)
        return rc;
    rc = tfrs_dataset_drop_column(ds, "s");
    if (rc != TFRS_OK) {
        ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 2);
        tfrs_dataset_free(ds);
        return rc;
    }
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 1);
    *out = ds;
    return TFRS_OK;
}

static int op_slice(tfrs_dataset **out, void *arg)
{
    return tfrs_dataset_slice(out, arg, 5, 50);
}

static int op_delimited(tfrs_dataset **out, void *arg)
{
    static const char *fc[] = { "v" };
    tfrs_delimited_options o;

    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = fc;
    o.num_float_columns = 1;
    return tfrs_dataset_load_delimited(out, arg, &o);
}

static int op_movielens(tfrs_dataset **out, void *arg)
{
    return tfrs_dataset_load_movielens(out, arg, NULL);
}

START_TEST(out_of_memory)
{
    tfrs_dataset *ds = make_rows(100);
    const char *path;
    char csv[4096] = "k,v,w\n";

    oom_loop(op_build, NULL);
    oom_loop(op_drop, NULL);
    oom_loop(op_slice, ds);
    tfrs_dataset_free(ds);

    tu_tmpdir_make();
    for (int i = 0; i < 100; i++) {
        char line[64];
        snprintf(line, sizeof(line), "key%d,%d.5,w%d\n", i % 37, i, i % 5);
        strcat(csv, line);
    }
    path = tu_tmp_write_text("m.csv", csv);
    oom_loop(op_delimited, (void *)path);
    tu_tmp_write_text("u.item", ml_item);
    tu_tmp_write_text("u.data", ml_data);
    oom_loop(op_movielens, tu_tmpdir);
    tu_tmpdir_remove();
}
END_TEST

/* Dropping a column frees it and keeps the others, in order, with their
 * values (out of memory: op_drop). */
START_TEST(drop_column_keeps_the_rest)
{
    tfrs_dataset *ds = make_rows(50);
    const float *x;
    float before[50];
    const char *name, *v, *groups[50];
    tfrs_column_type type;
    size_t i;

    ck_assert_int_eq(tfrs_dataset_floats(ds, "x", &x), TFRS_OK);
    memcpy(before, x, sizeof(before));
    for (size_t r = 0; r < 50; r++)
        ck_assert_int_eq(tfrs_dataset_get_string(ds, "group", r, &groups[r]), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_drop_column(ds, "key"), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 2);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 50);
    ck_assert_int_eq(tfrs_dataset_find_column(ds, "key", &i), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_column_info(ds, 0, &name, &type), TFRS_OK);
    ck_assert_str_eq(name, "x");
    ck_assert_int_eq(type, TFRS_COLUMN_FLOAT);
    ck_assert_int_eq(tfrs_dataset_column_info(ds, 1, &name, &type), TFRS_OK);
    ck_assert_str_eq(name, "group");
    ck_assert_int_eq(type, TFRS_COLUMN_STRING);
    ck_assert_int_eq(tfrs_dataset_find_column(ds, "group", &i), TFRS_OK);
    ck_assert_uint_eq(i, 1);
    ck_assert_int_eq(tfrs_dataset_floats(ds, "x", &x), TFRS_OK);
    ck_assert_mem_eq(x, before, sizeof(before));
    for (size_t r = 0; r < 50; r++) {
        ck_assert_int_eq(tfrs_dataset_get_string(ds, "group", r, &v), TFRS_OK);
        ck_assert_str_eq(v, groups[r]);
    }
    /* the dataset works on: shuffle, slice, drop down to nothing */
    ck_assert_int_eq(tfrs_dataset_shuffle(ds, 3), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_drop_column(ds, "x"), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_drop_column(ds, "x"), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_dataset_drop_column(ds, "group"), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 0);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "x", TFRS_COLUMN_FLOAT), TFRS_ESTATE);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- int64 columns ------------------------------------------------------- */

/* Values a float cannot hold (2^24 + 1, a 2026 timestamp, INT64_MIN) stay
 * exact through append, shuffle and slice, aligned with the other columns. */
START_TEST(int64_columns_are_exact)
{
    static const int64_t vals[5] = { 16777217, 1796083261, INT64_MIN, INT64_MAX, -1 };
    tfrs_dataset *ds, *sl;
    const int64_t *q;
    const float *f;
    char key[8];
    const char *sp[1] = { key };

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "t", TFRS_COLUMN_INT64), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "k", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "x", TFRS_COLUMN_FLOAT), TFRS_OK);
    for (int i = 0; i < 5; i++) {
        float x = (float)i;
        snprintf(key, sizeof(key), "r%d", i);
        ck_assert_int_eq(tfrs_dataset_append_row(ds, sp, &x, &vals[i]), TFRS_OK);
    }
    q = int64s_of(ds, "t");
    for (int i = 0; i < 5; i++)
        ck_assert(q[i] == vals[i]);
    ck_assert_int_eq(tfrs_dataset_shuffle(ds, 7), TFRS_OK);
    q = int64s_of(ds, "t");
    f = floats_of(ds, "x");
    for (int r = 0; r < 5; r++) {
        int i = (int)f[r];            /* the row's original position */
        char want[8];
        snprintf(want, sizeof(want), "r%d", i);
        ck_assert(q[r] == vals[i]);
        ck_assert_str_eq(str_at(ds, "k", (size_t)r), want);
    }
    ck_assert_int_eq(tfrs_dataset_slice(&sl, ds, 1, 3), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(sl), 3);
    for (int r = 0; r < 3; r++)
        ck_assert(int64s_of(sl, "t")[r] == q[r + 1]);
    tfrs_dataset_free(sl);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(columns_added_and_found),
        TU_CASE(append_and_get),
        TU_CASE(equal_strings_share_an_id),
        TU_CASE(interning_many_strings),
        TU_CASE(bad_append_leaves_dataset_unchanged),
        TU_CASE(wrong_column_and_range),
        TU_CASE(shuffle_is_seeded_permutation),
        TU_CASE(shuffle_small_datasets),
        TU_CASE(slice_copies_rows),
        TU_CASE(slice_is_clamped),
        TU_CASE(int64_columns_are_exact),
        TU_CASE(drop_column_keeps_the_rest),
        TU_CASE(delimited_basic),
        TU_CASE(delimited_wrong_field_count),
        TU_CASE(delimited_rejects_bad_numbers),
        TU_CASE(delimited_rejects_bad_text),
        TU_CASE(delimited_skip_bad_lines),
        TU_CASE(delimited_options_and_io),
        TU_CASE(movielens_synthetic),
        TU_CASE(movielens_line_endings),
        TU_CASE(movielens_strict_parsing),
        TU_CASE(movielens_skip_bad_lines),
        TU_CASE(movielens_missing_files),
        TU_CASE(movielens_real_data),
        TU_CASE(misuse_returns_status),
        TU_CASE(out_of_memory),
    };

    return tu_run_cases("dataset", cases, TU_NELEM(cases));
}
