/*
 * test-misuse.c - API misuse: every public function of tfrsc.h, one test
 * each, named misuse_<function>.
 *
 * Each test passes NULL for each pointer argument, zero and mismatched
 * sizes, unknown enum values and option versions, and calls in the wrong
 * order, and checks the documented status, a non-empty tfrs_last_error(),
 * that nothing was written (constructor outputs become NULL, other outputs
 * keep the value they had) and that the handle still works.  Every
 * *_free(NULL) is a no-op.  tests/check-misuse-coverage.sh fails the build's
 * test run when a public function of the header has no entry in the table
 * at the end of this file.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/status.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

/* Each checked call starts from an empty message, so that the message seen
 * afterwards is the call's own. */
static void clear_error(void)
{
    tfrs__fail(TFRS_OK, "%s", "");
}

#define FAILS(code, call)                                                               \
    do {                                                                                \
        int rc_;                                                                        \
        clear_error();                                                                  \
        rc_ = (call);                                                                   \
        ck_assert_msg(rc_ == (code), "%s returned %d (%s: %s), expected %s", #call, rc_, \
                      tfrs_status_str(rc_), tfrs_last_error(), #code);                  \
        ck_assert_msg(tfrs_last_error()[0] != '\0', "%s: no message", #call);           \
    } while (0)

#define OK(call)                                                                        \
    do {                                                                                \
        int rc_ = (call);                                                               \
        ck_assert_msg(rc_ == TFRS_OK, "%s returned %d: %s", #call, rc_, tfrs_last_error()); \
    } while (0)

/* A non-NULL pointer that no call may keep: constructors must overwrite it
 * with NULL on failure. */
static char junk;
#define JUNK(type) ((type *)(void *)&junk)

/* Small objects shared by the tests, rebuilt for each test. */
static const char *const toks[] = { "a", "b", "c" };
static tfrs_vocab *V;            /* a, b, c with one OOV bucket      */
static tfrs_vocab *V0;           /* a, b, c with no OOV bucket       */
static tfrs_dataset *D;          /* user, item, rating: 4 rows        */
static tfrs_model *M;            /* built on D                        */
static tfrs_model *U;            /* created, configured, not built    */
static tfrs_ranking_task *T;     /* MSE with AUC                      */
static tfrs_embedding *E;        /* 5 x 2                              */
static tfrs_dense *L;            /* 3 -> 2, relu                       */

/* Row r of D: (a, b, 1), (b, c, 2), (c, a, 3), (a, a, 4). */
static void d_row(size_t r, char (*s)[TU_ROW_CHARS], float *f, void *arg)
{
    static const char *rows[4][2] = { { "a", "b" }, { "b", "c" }, { "c", "a" }, { "a", "a" } };

    (void)arg;
    strcpy(s[0], rows[r][0]);
    strcpy(s[1], rows[r][1]);
    f[0] = (float)(r + 1);
}

static void setup(void)
{
    static const tu_column cols[] = {
        { "user", TFRS_COLUMN_STRING },
        { "item", TFRS_COLUMN_STRING },
        { "rating", TFRS_COLUMN_FLOAT },
    };
    tfrs_vocab_options vo;
    tfrs_task_options to;

    OK(tfrs_vocab_create(&V, toks, 3, NULL));
    OK(tfrs_vocab_options_init(&vo, TFRS_VOCAB_OPTIONS_VERSION));
    vo.num_oov_indices = 0;
    OK(tfrs_vocab_create(&V0, toks, 3, &vo));
    OK(tu_dataset_new(&D, cols, TU_NELEM(cols), 4, d_row, NULL));
    {
        tu_model_spec spec = {
            .seed = 1,
            .features = { { "user", V, 2 }, { "item", V, 2 } },
            .dense = { { 3, TFRS_ACT_RELU, 0.0f }, { 1, TFRS_ACT_LINEAR, 0.0f } },
            .label = "rating",
        };
        OK(tu_model_new(&M, &spec));
        spec.no_build = 1;   /* U: configured like M, not built */
        OK(tu_model_new(&U, &spec));
    }
    OK(tfrs_task_options_init(&to, TFRS_TASK_OPTIONS_VERSION));
    to.metrics |= TFRS_METRIC_AUC;
    OK(tfrs_ranking_task_create(&T, &to));
    OK(tfrs_embedding_create(&E, 5, 2, 1));
    OK(tfrs_dense_create(&L, 3, 2, TFRS_ACT_RELU, 1));
    tu_tmpdir_make();
}

static void teardown(void)
{
    tfrs_vocab_free(V);
    tfrs_vocab_free(V0);
    tfrs_dataset_free(D);
    tfrs_model_free(M);
    tfrs_model_free(U);
    tfrs_ranking_task_free(T);
    tfrs_embedding_free(E);
    tfrs_dense_free(L);
    V = V0 = NULL;
    D = NULL;
    M = U = NULL;
    T = NULL;
    E = NULL;
    L = NULL;
    tu_tmpdir_remove();
}

/* ---- versions, status, allocator --------------------------------------------- */

START_TEST(misuse_tfrs_version_number)
{
    ck_assert_uint_eq(tfrs_version_number(), TFRS_VERSION_NUMBER);
}
END_TEST

START_TEST(misuse_tfrs_version_string)
{
    ck_assert_str_eq(tfrs_version_string(), TFRS_VERSION_STRING);
}
END_TEST

START_TEST(misuse_tfrs_status_str)
{
    static const int odd[] = { 1, 14, -14, -100, INT_MIN, INT_MAX };

    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        ck_assert_ptr_nonnull(tfrs_status_str(odd[i]));
        ck_assert_uint_gt(strlen(tfrs_status_str(odd[i])), 0);
    }
}
END_TEST

START_TEST(misuse_tfrs_last_error)
{
    ck_assert_ptr_nonnull(tfrs_last_error());
    FAILS(TFRS_EINVAL, tfrs_vocab_lookup(NULL, "a", NULL));
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "tfrs_vocab_lookup"));
}
END_TEST

static void *no_malloc(size_t n, void *p)
{
    (void)n;
    (void)p;
    return NULL;
}

static void no_free(void *ptr, void *p)
{
    (void)p;
    free(ptr);
}

START_TEST(misuse_tfrs_set_allocator)
{
    tfrs_allocator a = { NULL, NULL, no_free, NULL };
    tfrs_vocab *v = NULL;

    FAILS(TFRS_EINVAL, tfrs_set_allocator(&a));
    a.malloc_fn = no_malloc;
    a.free_fn = NULL;
    FAILS(TFRS_EINVAL, tfrs_set_allocator(&a));
    /* Rejected allocators were not installed: allocation still works. */
    OK(tfrs_vocab_create(&v, toks, 3, NULL));
    tfrs_vocab_free(v);
    OK(tfrs_set_allocator(NULL));
    OK(tfrs_set_allocator(NULL));
}
END_TEST

/* ---- vocabulary ------------------------------------------------------------- */

START_TEST(misuse_tfrs_vocab_options_init)
{
    tfrs_vocab_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_vocab_options_init(NULL, TFRS_VOCAB_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_vocab_options_init(&o, 0));
    FAILS(TFRS_EINVAL, tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION + 1));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

START_TEST(misuse_tfrs_vocab_create)
{
    const char *with_null[] = { "a", NULL };
    const char *dup[] = { "a", "b", "a" };
    const char *bad_utf8[] = { "a", "\xc3(" };
    tfrs_vocab_options o;
    tfrs_vocab *v = JUNK(tfrs_vocab);

    FAILS(TFRS_EINVAL, tfrs_vocab_create(NULL, toks, 3, NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, NULL, 3, NULL));
    ck_assert_ptr_null(v);
    v = JUNK(tfrs_vocab);
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, with_null, 2, NULL));
    ck_assert_ptr_null(v);
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, bad_utf8, 2, NULL));
    FAILS(TFRS_EDUPLICATE, tfrs_vocab_create(&v, dup, 3, NULL));
    ck_assert_ptr_null(v);
    OK(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION));
    o.mask_token = "b";
    FAILS(TFRS_EDUPLICATE, tfrs_vocab_create(&v, toks, 3, &o));
    o.mask_token = "\xff";
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, toks, 3, &o));
    o.mask_token = NULL;
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, toks, 3, &o));
    o.version = TFRS_VOCAB_OPTIONS_VERSION + 1;
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, toks, 3, &o));
    o.version = TFRS_VOCAB_OPTIONS_VERSION;
    o.num_oov_indices = (size_t)INT32_MAX;
    FAILS(TFRS_EINVAL, tfrs_vocab_create(&v, toks, 3, &o));
    ck_assert_ptr_null(v);
    /* n = 0 with no tokens is an empty vocabulary, not an error. */
    OK(tfrs_vocab_create(&v, NULL, 0, NULL));
    ck_assert_uint_eq(tfrs_vocab_size(v), 1);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(misuse_tfrs_vocab_adapt)
{
    const char *with_null[] = { "a", NULL, "b" };
    const char *bad_utf8[] = { "\xed\xa0\x80" };  /* a surrogate */
    tfrs_vocab_options o;
    tfrs_vocab *v = JUNK(tfrs_vocab);

    FAILS(TFRS_EINVAL, tfrs_vocab_adapt(NULL, toks, 3, NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt(&v, NULL, 3, NULL));
    ck_assert_ptr_null(v);
    v = JUNK(tfrs_vocab);
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt(&v, with_null, 3, NULL));
    ck_assert_ptr_null(v);
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt(&v, bad_utf8, 1, NULL));
    OK(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION));
    o.version = 99;
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt(&v, toks, 3, &o));
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(misuse_tfrs_vocab_adapt_column)
{
    tfrs_vocab_options o;
    tfrs_vocab *v = JUNK(tfrs_vocab);

    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_column(NULL, D, "user", NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_column(&v, NULL, "user", NULL));
    ck_assert_ptr_null(v);
    v = JUNK(tfrs_vocab);
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_column(&v, D, NULL, NULL));
    ck_assert_ptr_null(v);
    FAILS(TFRS_ENOTFOUND, tfrs_vocab_adapt_column(&v, D, "nope", NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_column(&v, D, "rating", NULL));
    OK(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION));
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_column(&v, D, "user", &o));
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(misuse_tfrs_vocab_adapt_bags)
{
    tfrs_vocab_options o;
    tfrs_vocab *v = JUNK(tfrs_vocab);

    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(NULL, D, "user", '|', NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(&v, NULL, "user", '|', NULL));
    ck_assert_ptr_null(v);
    v = JUNK(tfrs_vocab);
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(&v, D, NULL, '|', NULL));
    ck_assert_ptr_null(v);
    FAILS(TFRS_ENOTFOUND, tfrs_vocab_adapt_bags(&v, D, "nope", '|', NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(&v, D, "rating", '|', NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(&v, D, "user", '\0', NULL));
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(&v, D, "user", (char)0xFF, NULL));
    OK(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION));
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_vocab_adapt_bags(&v, D, "user", '|', &o));
    ck_assert_ptr_null(v);
    OK(tfrs_vocab_adapt_bags(&v, D, "user", '|', NULL));
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 3);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(misuse_tfrs_vocab_free)
{
    tfrs_vocab_free(NULL);
}
END_TEST

START_TEST(misuse_tfrs_vocab_size)
{
    ck_assert_uint_eq(tfrs_vocab_size(NULL), 0);
    ck_assert_uint_eq(tfrs_vocab_size(V0), 3);
}
END_TEST

START_TEST(misuse_tfrs_vocab_num_tokens)
{
    ck_assert_uint_eq(tfrs_vocab_num_tokens(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_vocab_num_oov)
{
    ck_assert_uint_eq(tfrs_vocab_num_oov(NULL), 0);
    ck_assert_uint_eq(tfrs_vocab_num_oov(V0), 0);
}
END_TEST

START_TEST(misuse_tfrs_vocab_lookup)
{
    int32_t id = -7;

    FAILS(TFRS_EINVAL, tfrs_vocab_lookup(NULL, "a", &id));
    FAILS(TFRS_EINVAL, tfrs_vocab_lookup(V, NULL, &id));
    FAILS(TFRS_EINVAL, tfrs_vocab_lookup(V, "a", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_vocab_lookup(V0, "zz", &id));
    ck_assert_int_eq(id, -7);
}
END_TEST

START_TEST(misuse_tfrs_vocab_lookup_n)
{
    const char *q[] = { "a", NULL, "b" };
    const char *unk[] = { "zz" };
    int32_t ids[3] = { -7, -7, -7 };

    FAILS(TFRS_EINVAL, tfrs_vocab_lookup_n(NULL, toks, 3, ids));
    FAILS(TFRS_EINVAL, tfrs_vocab_lookup_n(V, NULL, 3, ids));
    FAILS(TFRS_EINVAL, tfrs_vocab_lookup_n(V, toks, 3, NULL));
    ck_assert_int_eq(ids[0], -7);
    FAILS(TFRS_EINVAL, tfrs_vocab_lookup_n(V, q, 3, ids));
    FAILS(TFRS_ENOTFOUND, tfrs_vocab_lookup_n(V0, unk, 1, ids));
    /* n = 0 looks nothing up. */
    OK(tfrs_vocab_lookup_n(V, NULL, 0, NULL));
}
END_TEST

START_TEST(misuse_tfrs_vocab_token)
{
    const char *t = "keep";

    FAILS(TFRS_EINVAL, tfrs_vocab_token(NULL, 0, &t));
    FAILS(TFRS_EINVAL, tfrs_vocab_token(V, 0, NULL));
    FAILS(TFRS_ERANGE, tfrs_vocab_token(V, -1, &t));
    FAILS(TFRS_ERANGE, tfrs_vocab_token(V, 4, &t));
    FAILS(TFRS_ERANGE, tfrs_vocab_token(V, INT32_MAX, &t));
    ck_assert_str_eq(t, "keep");
}
END_TEST

/* ---- dataset ------------------------------------------------------------------ */

START_TEST(misuse_tfrs_dataset_create)
{
    FAILS(TFRS_EINVAL, tfrs_dataset_create(NULL));
}
END_TEST

START_TEST(misuse_tfrs_dataset_free)
{
    tfrs_dataset_free(NULL);
}
END_TEST

START_TEST(misuse_tfrs_dataset_drop_column)
{
    tfrs_dataset *ds = NULL;

    OK(tfrs_dataset_create(&ds));
    FAILS(TFRS_EINVAL, tfrs_dataset_drop_column(NULL, "x"));
    FAILS(TFRS_EINVAL, tfrs_dataset_drop_column(ds, NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_drop_column(ds, "x"));
    OK(tfrs_dataset_add_column(ds, "x", TFRS_COLUMN_FLOAT));
    OK(tfrs_dataset_drop_column(ds, "x"));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_drop_column(ds, "x"));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 0);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(misuse_tfrs_dataset_add_column)
{
    tfrs_dataset *ds = NULL;

    OK(tfrs_dataset_create(&ds));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_column(NULL, "x", TFRS_COLUMN_STRING));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_column(ds, NULL, TFRS_COLUMN_STRING));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_column(ds, "", TFRS_COLUMN_STRING));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_column(ds, "x", (tfrs_column_type)0));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_column(ds, "x", (tfrs_column_type)4));
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 0);
    OK(tfrs_dataset_add_column(ds, "x", TFRS_COLUMN_FLOAT));
    FAILS(TFRS_EDUPLICATE, tfrs_dataset_add_column(ds, "x", TFRS_COLUMN_STRING));
    tfrs_dataset_free(ds);
    /* No columns once there are rows. */
    FAILS(TFRS_ESTATE, tfrs_dataset_add_column(D, "late", TFRS_COLUMN_STRING));
    ck_assert_uint_eq(tfrs_dataset_num_columns(D), 3);
}
END_TEST

START_TEST(misuse_tfrs_dataset_append)
{
    const char *s[2] = { "a", "b" }, *sn[2] = { "a", NULL }, *su[2] = { "a", "\x80" };
    float f = 1.0f, inf = INFINITY, nan = NAN;
    tfrs_dataset *ds = NULL;

    OK(tfrs_dataset_create(&ds));
    FAILS(TFRS_ESTATE, tfrs_dataset_append(ds, s, &f));        /* no columns */
    tfrs_dataset_free(ds);
    FAILS(TFRS_EINVAL, tfrs_dataset_append(NULL, s, &f));
    FAILS(TFRS_EINVAL, tfrs_dataset_append(D, NULL, &f));
    FAILS(TFRS_EINVAL, tfrs_dataset_append(D, s, NULL));
    FAILS(TFRS_EINVAL, tfrs_dataset_append(D, sn, &f));
    FAILS(TFRS_EINVAL, tfrs_dataset_append(D, su, &f));
    FAILS(TFRS_EINVAL, tfrs_dataset_append(D, s, &inf));
    FAILS(TFRS_EINVAL, tfrs_dataset_append(D, s, &nan));
    ck_assert_uint_eq(tfrs_dataset_num_rows(D), 4);
}
END_TEST

START_TEST(misuse_tfrs_dataset_append_row)
{
    const char *s[1] = { "a" };
    float f = 1.0f, inf = INFINITY;
    int64_t q = 7;
    tfrs_dataset *ds = NULL;

    OK(tfrs_dataset_create(&ds));
    FAILS(TFRS_ESTATE, tfrs_dataset_append_row(ds, s, &f, &q));   /* no columns */
    OK(tfrs_dataset_add_column(ds, "s", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, "f", TFRS_COLUMN_FLOAT));
    OK(tfrs_dataset_add_column(ds, "t", TFRS_COLUMN_INT64));
    FAILS(TFRS_EINVAL, tfrs_dataset_append_row(NULL, s, &f, &q));
    FAILS(TFRS_EINVAL, tfrs_dataset_append_row(ds, NULL, &f, &q));
    FAILS(TFRS_EINVAL, tfrs_dataset_append_row(ds, s, NULL, &q));
    FAILS(TFRS_EINVAL, tfrs_dataset_append_row(ds, s, &f, NULL));
    FAILS(TFRS_EINVAL, tfrs_dataset_append_row(ds, s, &inf, &q));
    /* tfrs_dataset_append has no place for the int64 values. */
    FAILS(TFRS_EINVAL, tfrs_dataset_append(ds, s, &f));
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 0);
    OK(tfrs_dataset_append_row(ds, s, &f, &q));
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 1);
    tfrs_dataset_free(ds);
    /* Without int64 columns, int64s may be NULL, as in tfrs_dataset_append. */
    FAILS(TFRS_EINVAL, tfrs_dataset_append_row(D, NULL, NULL, NULL));
}
END_TEST

START_TEST(misuse_tfrs_dataset_num_rows)
{
    ck_assert_uint_eq(tfrs_dataset_num_rows(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_dataset_num_columns)
{
    ck_assert_uint_eq(tfrs_dataset_num_columns(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_dataset_column_info)
{
    const char *name = "keep";
    tfrs_column_type type = (tfrs_column_type)77;

    FAILS(TFRS_EINVAL, tfrs_dataset_column_info(NULL, 0, &name, &type));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_info(D, 0, NULL, &type));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_info(D, 0, &name, NULL));
    FAILS(TFRS_ERANGE, tfrs_dataset_column_info(D, 3, &name, &type));
    FAILS(TFRS_ERANGE, tfrs_dataset_column_info(D, SIZE_MAX, &name, &type));
    ck_assert_str_eq(name, "keep");
    ck_assert_int_eq((int)type, 77);
}
END_TEST

START_TEST(misuse_tfrs_dataset_find_column)
{
    size_t i = 99;

    FAILS(TFRS_EINVAL, tfrs_dataset_find_column(NULL, "user", &i));
    FAILS(TFRS_EINVAL, tfrs_dataset_find_column(D, NULL, &i));
    FAILS(TFRS_EINVAL, tfrs_dataset_find_column(D, "user", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_find_column(D, "nope", &i));
    ck_assert_uint_eq(i, 99);
}
END_TEST

START_TEST(misuse_tfrs_dataset_string_ids)
{
    const uint32_t *ids = JUNK(const uint32_t);
    size_t n = 99;

    FAILS(TFRS_EINVAL, tfrs_dataset_string_ids(NULL, "user", &ids, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_string_ids(D, NULL, &ids, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_string_ids(D, "user", NULL, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_string_ids(D, "user", &ids, NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_string_ids(D, "nope", &ids, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_string_ids(D, "rating", &ids, &n));
    ck_assert_ptr_eq(ids, JUNK(const uint32_t));
    ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(misuse_tfrs_dataset_string)
{
    const char *s = "keep";

    FAILS(TFRS_EINVAL, tfrs_dataset_string(NULL, "user", 0, &s));
    FAILS(TFRS_EINVAL, tfrs_dataset_string(D, NULL, 0, &s));
    FAILS(TFRS_EINVAL, tfrs_dataset_string(D, "user", 0, NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_string(D, "nope", 0, &s));
    FAILS(TFRS_EINVAL, tfrs_dataset_string(D, "rating", 0, &s));
    FAILS(TFRS_ERANGE, tfrs_dataset_string(D, "user", 3, &s));
    FAILS(TFRS_ERANGE, tfrs_dataset_string(D, "user", UINT32_MAX, &s));
    ck_assert_str_eq(s, "keep");
}
END_TEST

START_TEST(misuse_tfrs_dataset_get_string)
{
    const char *s = "keep";

    FAILS(TFRS_EINVAL, tfrs_dataset_get_string(NULL, "user", 0, &s));
    FAILS(TFRS_EINVAL, tfrs_dataset_get_string(D, NULL, 0, &s));
    FAILS(TFRS_EINVAL, tfrs_dataset_get_string(D, "user", 0, NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_get_string(D, "nope", 0, &s));
    FAILS(TFRS_EINVAL, tfrs_dataset_get_string(D, "rating", 0, &s));
    FAILS(TFRS_ERANGE, tfrs_dataset_get_string(D, "user", 4, &s));
    FAILS(TFRS_ERANGE, tfrs_dataset_get_string(D, "user", SIZE_MAX, &s));
    ck_assert_str_eq(s, "keep");
}
END_TEST

START_TEST(misuse_tfrs_dataset_floats)
{
    const float *v = JUNK(const float);

    FAILS(TFRS_EINVAL, tfrs_dataset_floats(NULL, "rating", &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_floats(D, NULL, &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_floats(D, "rating", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_floats(D, "nope", &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_floats(D, "user", &v));
    ck_assert_ptr_eq(v, JUNK(const float));
}
END_TEST

START_TEST(misuse_tfrs_dataset_int64s)
{
    const int64_t *v = JUNK(const int64_t);

    FAILS(TFRS_EINVAL, tfrs_dataset_int64s(NULL, "rating", &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_int64s(D, NULL, &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_int64s(D, "rating", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_int64s(D, "nope", &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_int64s(D, "rating", &v));    /* a float column */
    FAILS(TFRS_EINVAL, tfrs_dataset_int64s(D, "user", &v));      /* a string column */
    ck_assert_ptr_eq(v, JUNK(const int64_t));
}
END_TEST

START_TEST(misuse_tfrs_dataset_shuffle)
{
    tfrs_dataset *ds = NULL;

    FAILS(TFRS_EINVAL, tfrs_dataset_shuffle(NULL, 1));
    /* Zero and one row: nothing to do. */
    OK(tfrs_dataset_create(&ds));
    OK(tfrs_dataset_shuffle(ds, 1));
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(misuse_tfrs_dataset_slice)
{
    tfrs_dataset *s = JUNK(tfrs_dataset);

    FAILS(TFRS_EINVAL, tfrs_dataset_slice(NULL, D, 0, 1));
    FAILS(TFRS_EINVAL, tfrs_dataset_slice(&s, NULL, 0, 1));
    ck_assert_ptr_null(s);
    /* Out-of-range bounds clamp to an empty slice, as tf.data does. */
    OK(tfrs_dataset_slice(&s, D, SIZE_MAX, SIZE_MAX));
    ck_assert_uint_eq(tfrs_dataset_num_rows(s), 0);
    ck_assert_uint_eq(tfrs_dataset_num_columns(s), 3);
    tfrs_dataset_free(s);
}
END_TEST

START_TEST(misuse_tfrs_dataset_add_implicit_bags)
{
    tfrs_dataset *t = NULL;

    OK(tfrs_dataset_slice(&t, D, 0, 4));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(NULL, "h", D, "user", "item", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, NULL, D, "user", "item", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", NULL, "user", "item", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", D, NULL, "item", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", D, "user", NULL, '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "", D, "user", "item", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", D, "user", "item", '\0'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", D, "user", "item", (char)0x80));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_add_implicit_bags(t, "h", D, "nope", "item", '|'));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_add_implicit_bags(t, "h", D, "user", "nope", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", D, "user", "rating", '|'));
    FAILS(TFRS_EINVAL, tfrs_dataset_add_implicit_bags(t, "h", D, "rating", "item", '|'));
    FAILS(TFRS_EDUPLICATE, tfrs_dataset_add_implicit_bags(t, "item", D, "user", "item", '|'));
    ck_assert_uint_eq(tfrs_dataset_num_columns(t), 3);
    OK(tfrs_dataset_add_implicit_bags(t, "h", D, "user", "item", '|'));
    ck_assert_uint_eq(tfrs_dataset_num_columns(t), 4);
    ck_assert_uint_eq(tfrs_dataset_num_columns(D), 3);
    tfrs_dataset_free(t);
}
END_TEST

START_TEST(misuse_tfrs_dataset_column_moments)
{
    double m = 7.0, v = 7.0;
    tfrs_dataset *e = NULL;

    FAILS(TFRS_EINVAL, tfrs_dataset_column_moments(NULL, "rating", &m, &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_moments(D, NULL, &m, &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_moments(D, "rating", NULL, &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_moments(D, "rating", &m, NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_column_moments(D, "nope", &m, &v));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_moments(D, "user", &m, &v));
    OK(tfrs_dataset_slice(&e, D, 4, 0));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_moments(e, "rating", &m, &v));
    ck_assert_double_eq(m, 7.0);
    OK(tfrs_dataset_column_moments(D, "rating", &m, &v));
    ck_assert_double_eq(m, 2.5);
    tfrs_dataset_free(e);
}
END_TEST

START_TEST(misuse_tfrs_dataset_column_quantiles)
{
    double b[3];
    size_t n = 9;
    tfrs_dataset *e = NULL;

    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(NULL, "rating", 4, b, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(D, NULL, 4, b, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(D, "rating", 4, NULL, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(D, "rating", 4, b, NULL));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(D, "rating", 0, b, &n));
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_column_quantiles(D, "nope", 4, b, &n));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(D, "user", 4, b, &n));
    OK(tfrs_dataset_slice(&e, D, 4, 0));
    FAILS(TFRS_EINVAL, tfrs_dataset_column_quantiles(e, "rating", 4, b, &n));
    ck_assert_uint_eq(n, 9);
    OK(tfrs_dataset_column_quantiles(D, "rating", 1, NULL, &n));
    ck_assert_uint_eq(n, 0);
    OK(tfrs_dataset_column_quantiles(D, "rating", 4, b, &n));
    ck_assert_uint_eq(n, 3);
    tfrs_dataset_free(e);
}
END_TEST

START_TEST(misuse_tfrs_load_options_init)
{
    tfrs_load_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_load_options_init(NULL, TFRS_LOAD_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_load_options_init(&o, 0));
    FAILS(TFRS_EINVAL, tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION + 1));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

START_TEST(misuse_tfrs_dataset_load_movielens)
{
    tfrs_load_options o;
    tfrs_dataset *ds = JUNK(tfrs_dataset);

    FAILS(TFRS_EINVAL, tfrs_dataset_load_movielens(NULL, tu_tmpdir, NULL));
    FAILS(TFRS_EINVAL, tfrs_dataset_load_movielens(&ds, NULL, NULL));
    ck_assert_ptr_null(ds);
    OK(tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION));
    o.version = 0;
    ds = JUNK(tfrs_dataset);
    FAILS(TFRS_EINVAL, tfrs_dataset_load_movielens(&ds, tu_tmpdir, &o));
    ck_assert_ptr_null(ds);
    ds = JUNK(tfrs_dataset);
    FAILS(TFRS_EIO, tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL));   /* no u.item */
    ck_assert_ptr_null(ds);
    /* A byte range that ends before it begins, refused before any file is
     * opened (there is no u.item). */
    OK(tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION));
    o.range_begin = 10;
    o.range_end = 9;
    ds = JUNK(tfrs_dataset);
    FAILS(TFRS_EINVAL, tfrs_dataset_load_movielens(&ds, tu_tmpdir, &o));
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "range_begin 10 is after range_end 9"));
    ck_assert_ptr_null(ds);
    o.range_begin = UINT64_MAX;
    o.range_end = 0;
    FAILS(TFRS_EINVAL, tfrs_dataset_load_movielens(&ds, tu_tmpdir, &o));
}
END_TEST

START_TEST(misuse_tfrs_delimited_options_init)
{
    tfrs_delimited_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_delimited_options_init(NULL, TFRS_DELIMITED_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_delimited_options_init(&o, 0));
    FAILS(TFRS_EINVAL, tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION + 1));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

START_TEST(misuse_tfrs_dataset_load_delimited)
{
    static const char *const fl[] = { "rating" }, *const fnull[] = { NULL };
    const char *path = tu_tmp_path("d.csv");
    tfrs_delimited_options o;
    tfrs_dataset *ds = JUNK(tfrs_dataset);

    tu_write_text(path, "user,rating\na,1\n");
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(NULL, path, NULL));
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, NULL, NULL));
    ck_assert_ptr_null(ds);
    OK(tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION));
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));
    o.version = TFRS_DELIMITED_OPTIONS_VERSION;
    o.delimiter = '\n';
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));
    o.delimiter = '\0';
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));
    o.delimiter = ',';
    o.num_float_columns = 1;
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));   /* float_columns NULL */
    o.float_columns = fnull;
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));
    o.float_columns = fl;
    o.num_float_columns = 1;
    ds = JUNK(tfrs_dataset);
    FAILS(TFRS_EIO, tfrs_dataset_load_delimited(&ds, tu_tmp_path("missing.csv"), &o));
    ck_assert_ptr_null(ds);
    ds = JUNK(tfrs_dataset);
    tu_write_text(path, "user,score\na,1\n");
    FAILS(TFRS_ENOTFOUND, tfrs_dataset_load_delimited(&ds, path, &o));
    ck_assert_ptr_null(ds);
    /* Byte ranges (version 2): one that ends before it begins, load
     * options of an unknown version. */
    OK(tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION));
    o.load.range_begin = 2;
    o.load.range_end = 1;
    ds = JUNK(tfrs_dataset);
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "range_begin 2 is after range_end 1"));
    ck_assert_ptr_null(ds);
    o.load.range_begin = 0;
    o.load.version = TFRS_LOAD_OPTIONS_VERSION + 1;
    FAILS(TFRS_EINVAL, tfrs_dataset_load_delimited(&ds, path, &o));
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* ---- embedding ---------------------------------------------------------------- */

START_TEST(misuse_tfrs_embedding_create)
{
    tfrs_embedding *e = JUNK(tfrs_embedding);

    FAILS(TFRS_EINVAL, tfrs_embedding_create(NULL, 2, 2, 1));
    FAILS(TFRS_EINVAL, tfrs_embedding_create(&e, 0, 2, 1));
    ck_assert_ptr_null(e);
    e = JUNK(tfrs_embedding);
    FAILS(TFRS_EINVAL, tfrs_embedding_create(&e, 2, 0, 1));
    ck_assert_ptr_null(e);
    FAILS(TFRS_EINVAL, tfrs_embedding_create(&e, (size_t)1 << 31, 1, 1));
    FAILS(TFRS_EINVAL, tfrs_embedding_create(&e, 1000, SIZE_MAX / 8, 1));
    ck_assert_ptr_null(e);
}
END_TEST

START_TEST(misuse_tfrs_embedding_free)
{
    tfrs_embedding_free(NULL);
}
END_TEST

START_TEST(misuse_tfrs_embedding_rows)
{
    ck_assert_uint_eq(tfrs_embedding_rows(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_embedding_dim)
{
    ck_assert_uint_eq(tfrs_embedding_dim(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_embedding_weights)
{
    ck_assert_ptr_null(tfrs_embedding_weights(NULL));
}
END_TEST

START_TEST(misuse_tfrs_embedding_set_weights)
{
    float w[10] = { 0 }, before[10];

    memcpy(before, tfrs_embedding_weights(E), sizeof(before));
    FAILS(TFRS_EINVAL, tfrs_embedding_set_weights(NULL, w, 10));
    FAILS(TFRS_EINVAL, tfrs_embedding_set_weights(E, NULL, 10));
    FAILS(TFRS_ESHAPE, tfrs_embedding_set_weights(E, w, 9));
    FAILS(TFRS_ESHAPE, tfrs_embedding_set_weights(E, w, 0));
    ck_assert_mem_eq(tfrs_embedding_weights(E), before, sizeof(before));
}
END_TEST

START_TEST(misuse_tfrs_embedding_forward)
{
    int32_t ids[2] = { 1, 2 }, bad[2] = { 1, 5 }, neg[1] = { -1 };
    float out[4] = { 7, 7, 7, 7 };

    FAILS(TFRS_EINVAL, tfrs_embedding_forward(NULL, ids, 2, out));
    FAILS(TFRS_EINVAL, tfrs_embedding_forward(E, NULL, 2, out));
    FAILS(TFRS_EINVAL, tfrs_embedding_forward(E, ids, 2, NULL));
    FAILS(TFRS_EINVAL, tfrs_embedding_forward(E, ids, 0, out));
    FAILS(TFRS_ERANGE, tfrs_embedding_forward(E, bad, 2, out));
    FAILS(TFRS_ERANGE, tfrs_embedding_forward(E, neg, 1, out));
    for (int i = 0; i < 4; i++)
        ck_assert(out[i] == 7.0f);
}
END_TEST

START_TEST(misuse_tfrs_embedding_backward)
{
    int32_t ids[2] = { 1, 2 }, bad[2] = { 1, 5 };
    float dout[4] = { 1, 1, 1, 1 };
    const float *g;
    const int32_t *rows;
    size_t n = 99;

    FAILS(TFRS_EINVAL, tfrs_embedding_backward(NULL, ids, 2, dout));
    FAILS(TFRS_EINVAL, tfrs_embedding_backward(E, NULL, 2, dout));
    FAILS(TFRS_EINVAL, tfrs_embedding_backward(E, ids, 2, NULL));
    FAILS(TFRS_EINVAL, tfrs_embedding_backward(E, ids, 0, dout));
    FAILS(TFRS_ERANGE, tfrs_embedding_backward(E, bad, 2, dout));
    OK(tfrs_embedding_grad(E, &g, &rows, &n));
    ck_assert_uint_eq(n, 0);   /* nothing accumulated */
}
END_TEST

START_TEST(misuse_tfrs_embedding_grad)
{
    const float *g = JUNK(const float);
    const int32_t *rows = JUNK(const int32_t);
    size_t n = 99;

    FAILS(TFRS_EINVAL, tfrs_embedding_grad(NULL, &g, &rows, &n));
    FAILS(TFRS_EINVAL, tfrs_embedding_grad(E, NULL, &rows, &n));
    FAILS(TFRS_EINVAL, tfrs_embedding_grad(E, &g, NULL, &n));
    FAILS(TFRS_EINVAL, tfrs_embedding_grad(E, &g, &rows, NULL));
    ck_assert_ptr_eq(g, JUNK(const float));
    ck_assert_ptr_eq(rows, JUNK(const int32_t));
    ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(misuse_tfrs_embedding_zero_grad)
{
    tfrs_embedding_zero_grad(NULL);
}
END_TEST

/* ---- dense -------------------------------------------------------------------- */

START_TEST(misuse_tfrs_dense_create)
{
    tfrs_dense *d = JUNK(tfrs_dense);

    FAILS(TFRS_EINVAL, tfrs_dense_create(NULL, 2, 2, TFRS_ACT_RELU, 1));
    FAILS(TFRS_EINVAL, tfrs_dense_create(&d, 0, 2, TFRS_ACT_RELU, 1));
    ck_assert_ptr_null(d);
    d = JUNK(tfrs_dense);
    FAILS(TFRS_EINVAL, tfrs_dense_create(&d, 2, 0, TFRS_ACT_RELU, 1));
    ck_assert_ptr_null(d);
    d = JUNK(tfrs_dense);
    FAILS(TFRS_EINVAL, tfrs_dense_create(&d, 2, 2, (tfrs_activation)3, 1));
    ck_assert_ptr_null(d);
    FAILS(TFRS_EINVAL, tfrs_dense_create(&d, 2, 2, (tfrs_activation)-1, 1));
    FAILS(TFRS_EINVAL, tfrs_dense_create(&d, (size_t)INT_MAX + 1, 1, TFRS_ACT_RELU, 1));
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(misuse_tfrs_dense_free)
{
    tfrs_dense_free(NULL);
}
END_TEST

START_TEST(misuse_tfrs_dense_in)
{
    ck_assert_uint_eq(tfrs_dense_in(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_dense_units)
{
    ck_assert_uint_eq(tfrs_dense_units(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_dense_activation)
{
    ck_assert_int_eq(tfrs_dense_activation(NULL), TFRS_ACT_LINEAR);
}
END_TEST

START_TEST(misuse_tfrs_dense_kernel)
{
    ck_assert_ptr_null(tfrs_dense_kernel(NULL));
}
END_TEST

START_TEST(misuse_tfrs_dense_bias)
{
    ck_assert_ptr_null(tfrs_dense_bias(NULL));
}
END_TEST

START_TEST(misuse_tfrs_dense_set_weights)
{
    float k[6] = { 0 }, before[6];

    memcpy(before, tfrs_dense_kernel(L), sizeof(before));
    FAILS(TFRS_EINVAL, tfrs_dense_set_weights(NULL, k, NULL));
    /* Both NULL: nothing to change. */
    OK(tfrs_dense_set_weights(L, NULL, NULL));
    ck_assert_mem_eq(tfrs_dense_kernel(L), before, sizeof(before));
}
END_TEST

START_TEST(misuse_tfrs_dense_forward)
{
    float x[3] = { 1, 2, 3 }, y[2] = { 7, 7 };

    FAILS(TFRS_EINVAL, tfrs_dense_forward(NULL, x, 1, y));
    FAILS(TFRS_EINVAL, tfrs_dense_forward(L, NULL, 1, y));
    FAILS(TFRS_EINVAL, tfrs_dense_forward(L, x, 1, NULL));
    FAILS(TFRS_EINVAL, tfrs_dense_forward(L, x, 0, y));
    FAILS(TFRS_EINVAL, tfrs_dense_forward(L, x, (size_t)INT_MAX + 1, y));
    ck_assert(y[0] == 7.0f && y[1] == 7.0f);
}
END_TEST

START_TEST(misuse_tfrs_dense_backward)
{
    float x[3] = { 1, 2, 3 }, y[2] = { 1, 1 }, dy[2] = { 1, 1 }, dx[3] = { 7, 7, 7 };
    const float *dk, *db;

    FAILS(TFRS_EINVAL, tfrs_dense_backward(NULL, x, y, dy, 1, dx));
    FAILS(TFRS_EINVAL, tfrs_dense_backward(L, NULL, y, dy, 1, dx));
    FAILS(TFRS_EINVAL, tfrs_dense_backward(L, x, NULL, dy, 1, dx));
    FAILS(TFRS_EINVAL, tfrs_dense_backward(L, x, y, NULL, 1, dx));
    FAILS(TFRS_EINVAL, tfrs_dense_backward(L, x, y, dy, 0, dx));
    ck_assert(dx[0] == 7.0f && dx[2] == 7.0f);
    OK(tfrs_dense_grad(L, &dk, &db));
    for (int i = 0; i < 6; i++)
        ck_assert(dk[i] == 0.0f);
    /* dx may be NULL (first layer). */
    OK(tfrs_dense_backward(L, x, y, dy, 1, NULL));
}
END_TEST

START_TEST(misuse_tfrs_dense_grad)
{
    const float *dk = JUNK(const float), *db = JUNK(const float);

    FAILS(TFRS_EINVAL, tfrs_dense_grad(NULL, &dk, &db));
    FAILS(TFRS_EINVAL, tfrs_dense_grad(L, NULL, &db));
    FAILS(TFRS_EINVAL, tfrs_dense_grad(L, &dk, NULL));
    ck_assert_ptr_eq(dk, JUNK(const float));
    ck_assert_ptr_eq(db, JUNK(const float));
}
END_TEST

START_TEST(misuse_tfrs_dense_zero_grad)
{
    tfrs_dense_zero_grad(NULL);
}
END_TEST

/* ---- ranking task --------------------------------------------------------------- */

START_TEST(misuse_tfrs_task_options_init)
{
    tfrs_task_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_task_options_init(NULL, TFRS_TASK_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_task_options_init(&o, 0));
    FAILS(TFRS_EINVAL, tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION + 1));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_create)
{
    tfrs_task_options o;
    tfrs_ranking_task *t = JUNK(tfrs_ranking_task);

    FAILS(TFRS_EINVAL, tfrs_ranking_task_create(NULL, NULL));
    OK(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION));
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_ranking_task_create(&t, &o));
    ck_assert_ptr_null(t);
    OK(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION));
    o.loss = (tfrs_loss)3;
    t = JUNK(tfrs_ranking_task);
    FAILS(TFRS_EINVAL, tfrs_ranking_task_create(&t, &o));
    ck_assert_ptr_null(t);
    OK(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION));
    o.metrics = 0x80;
    FAILS(TFRS_EINVAL, tfrs_ranking_task_create(&t, &o));
    OK(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION));
    o.loss = TFRS_LOSS_HUBER;
    o.huber_delta = 0.0f;
    FAILS(TFRS_EINVAL, tfrs_ranking_task_create(&t, &o));
    o.huber_delta = NAN;
    FAILS(TFRS_EINVAL, tfrs_ranking_task_create(&t, &o));
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_free)
{
    tfrs_ranking_task_free(NULL);
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_options)
{
    tfrs_task_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_ranking_task_options(NULL, &o));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_options(T, NULL));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_loss)
{
    float p[2] = { 1, 2 }, y[2] = { 1, 1 }, d[2] = { 7, 7 };
    double loss = -1.0;

    FAILS(TFRS_EINVAL, tfrs_ranking_task_loss(NULL, p, y, NULL, 2, &loss, d));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_loss(T, NULL, y, NULL, 2, &loss, d));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_loss(T, p, NULL, NULL, 2, &loss, d));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_loss(T, p, y, NULL, 2, NULL, d));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_loss(T, p, y, NULL, 0, &loss, d));
    ck_assert(loss == -1.0);
    ck_assert(d[0] == 7.0f && d[1] == 7.0f);
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_update)
{
    float p[2] = { 1, 2 }, y[2] = { 1, 0 }, y3[2] = { 1, 3 };
    tfrs_metrics m;

    FAILS(TFRS_EINVAL, tfrs_ranking_task_update(NULL, p, y, NULL, 2, 0.5));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_update(T, NULL, y, NULL, 2, 0.5));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_update(T, p, NULL, NULL, 2, 0.5));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_update(T, p, y, NULL, 0, 0.5));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_update(T, p, y3, NULL, 2, 0.5));  /* AUC: 0/1 */
    OK(tfrs_ranking_task_result(T, &m));
    ck_assert_uint_eq(m.examples, 0);   /* the pass is unchanged */
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_result)
{
    tfrs_metrics m, before;

    memset(&m, 0x5a, sizeof(m));
    before = m;
    FAILS(TFRS_EINVAL, tfrs_ranking_task_result(NULL, &m));
    FAILS(TFRS_EINVAL, tfrs_ranking_task_result(T, NULL));
    ck_assert_mem_eq(&m, &before, sizeof(m));
}
END_TEST

START_TEST(misuse_tfrs_ranking_task_reset)
{
    tfrs_ranking_task_reset(NULL);
}
END_TEST

/* ---- model: configuration -------------------------------------------------------- */

START_TEST(misuse_tfrs_optimizer_options_init)
{
    tfrs_optimizer_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_optimizer_options_init(NULL, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                   TFRS_OPT_SGD));
    FAILS(TFRS_EINVAL, tfrs_optimizer_options_init(&o, 0, TFRS_OPT_SGD));
    FAILS(TFRS_EINVAL, tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION + 1,
                                                   TFRS_OPT_SGD));
    ck_assert_mem_eq(&o, &before, sizeof(o));
    FAILS(TFRS_EINVAL, tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                   (tfrs_optimizer_kind)9));
}
END_TEST

START_TEST(misuse_tfrs_optimizer_learning_rate)
{
    tfrs_optimizer_options o;
    float lr = 7.0f;

    OK(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_SGD));
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(NULL, 0, &lr));
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, NULL));
    o.version = TFRS_OPTIMIZER_OPTIONS_VERSION + 1;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.version = TFRS_OPTIMIZER_OPTIONS_VERSION;
    o.schedule = (tfrs_lr_schedule)3;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.schedule = TFRS_LR_COSINE;                                       /* decay_steps 0 */
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.decay_steps = 10;
    o.alpha = 1.5f;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.alpha = 0.0f;
    o.global_clipnorm = INFINITY;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.global_clipnorm = -1.0f;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.global_clipnorm = 0.0f;
    o.warmup_initial_lr = NAN;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.warmup_initial_lr = 0.0f;
    o.schedule = TFRS_LR_EXPONENTIAL;                                  /* decay_rate 0 */
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.decay_rate = 1.5f;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    o.decay_rate = 0.5f;
    o.staircase = 2;
    FAILS(TFRS_EINVAL, tfrs_optimizer_learning_rate(&o, 0, &lr));
    ck_assert(lr == 7.0f);
    o.staircase = 1;
    OK(tfrs_optimizer_learning_rate(&o, 25, &lr));                     /* 0.01 * 0.5^2 */
    ck_assert(lr == 0.0025f);
    /* The model refuses the same settings. */
    o.decay_steps = 0;
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(M, &o));
}
END_TEST

START_TEST(misuse_tfrs_model_create)
{
    FAILS(TFRS_EINVAL, tfrs_model_create(NULL, 1));
}
END_TEST

START_TEST(misuse_tfrs_model_free)
{
    tfrs_model_free(NULL);
}
END_TEST

START_TEST(misuse_tfrs_model_add_feature)
{
    tfrs_vocab_options o;
    tfrs_vocab *empty = NULL;

    FAILS(TFRS_EINVAL, tfrs_model_add_feature(NULL, "x", V, 2));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature(U, NULL, V, 2));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature(U, "", V, 2));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature(U, "x", NULL, 2));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature(U, "x", V, 0));
    OK(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION));
    o.num_oov_indices = 0;
    OK(tfrs_vocab_create(&empty, NULL, 0, &o));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature(U, "x", empty, 2));   /* 0 rows */
    tfrs_vocab_free(empty);
    FAILS(TFRS_EDUPLICATE, tfrs_model_add_feature(U, "user", V, 2));
    ck_assert_uint_eq(tfrs_model_num_features(U), 2);
    FAILS(TFRS_ESTATE, tfrs_model_add_feature(M, "x", V, 2));
    ck_assert_uint_eq(tfrs_model_num_features(M), 2);
}
END_TEST

START_TEST(misuse_tfrs_feature_options_init)
{
    tfrs_feature_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_feature_options_init(NULL, TFRS_FEATURE_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_feature_options_init(&o, 0));
    FAILS(TFRS_EINVAL, tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION + 1));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

START_TEST(misuse_tfrs_model_add_feature_ex)
{
    tfrs_feature_options o;
    const double up_down[] = { 1.0, 0.5 }, with_nan[] = { 0.0, NAN };

    OK(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION));
    o.vocab = V;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(NULL, "x", &o));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, NULL, &o));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "", &o));
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", NULL));
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.version = TFRS_FEATURE_OPTIONS_VERSION + 1;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.version = TFRS_FEATURE_OPTIONS_VERSION;
    o.kind = (tfrs_feature_kind)9;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.kind = TFRS_FEATURE_STRING;
    o.pooling = (tfrs_pooling)9;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.pooling = TFRS_POOL_MEAN;
    o.separator = '\0';                                   /* a bag needs one */
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.separator = '|';
    o.pooling = TFRS_POOL_NONE;
    o.vocab = NULL;                                        /* string: vocab */
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.vocab = V;
    o.embedding_dim = 0;                                   /* nothing to feed */
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.embedding_dim = 4;
    o.l2 = -1.0f;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.l2 = NAN;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.l2 = 0.0f;
    o.kind = TFRS_FEATURE_HASHED;
    o.num_buckets = 0;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.num_buckets = (size_t)INT32_MAX + 1;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.kind = TFRS_FEATURE_NUMERIC;
    o.pooling = TFRS_POOL_SUM;                             /* numbers: no bags */
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.pooling = TFRS_POOL_NONE;
    o.variance = -1.0;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.variance = INFINITY;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.variance = 1.0;
    o.mean = NAN;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.mean = 0.0;
    o.kind = TFRS_FEATURE_BUCKETIZED;
    o.boundaries = NULL;
    o.num_boundaries = 2;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.boundaries = up_down;                                /* not increasing */
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.boundaries = with_nan;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.pooling = TFRS_POOL_MEAN;
    o.boundaries = NULL;
    o.num_boundaries = 0;
    FAILS(TFRS_EINVAL, tfrs_model_add_feature_ex(U, "x", &o));
    o.pooling = TFRS_POOL_NONE;
    FAILS(TFRS_EDUPLICATE, tfrs_model_add_feature_ex(U, "user", &o));
    ck_assert_uint_eq(tfrs_model_num_features(U), 2);
    FAILS(TFRS_ESTATE, tfrs_model_add_feature_ex(M, "x", &o));
    ck_assert_uint_eq(tfrs_model_num_features(M), 2);
}
END_TEST

START_TEST(misuse_tfrs_model_feature_options)
{
    tfrs_feature_options o;

    FAILS(TFRS_EINVAL, tfrs_model_feature_options(NULL, 0, &o));
    FAILS(TFRS_EINVAL, tfrs_model_feature_options(M, 0, NULL));
    FAILS(TFRS_ERANGE, tfrs_model_feature_options(M, 2, &o));
    FAILS(TFRS_ERANGE, tfrs_model_feature_options(M, SIZE_MAX, &o));
    OK(tfrs_model_feature_options(M, 1, &o));
    ck_assert_int_eq(o.kind, TFRS_FEATURE_STRING);
    ck_assert_ptr_eq(o.vocab, tfrs_model_feature_vocab(M, 1));
}
END_TEST

START_TEST(misuse_tfrs_model_add_dense)
{
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(NULL, 1, TFRS_ACT_LINEAR, 0.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(U, 0, TFRS_ACT_LINEAR, 0.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(U, (size_t)INT32_MAX + 1, TFRS_ACT_LINEAR, 0.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(U, 1, (tfrs_activation)7, 0.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(U, 1, TFRS_ACT_LINEAR, -1.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(U, 1, TFRS_ACT_LINEAR, NAN));
    FAILS(TFRS_EINVAL, tfrs_model_add_dense(U, 1, TFRS_ACT_LINEAR, INFINITY));
    ck_assert_uint_eq(tfrs_model_num_dense(U), 2);
    FAILS(TFRS_ESTATE, tfrs_model_add_dense(M, 1, TFRS_ACT_LINEAR, 0.0f));
    ck_assert_uint_eq(tfrs_model_num_dense(M), 2);
}
END_TEST

START_TEST(misuse_tfrs_model_add_cross)
{
    FAILS(TFRS_EINVAL, tfrs_model_add_cross(NULL, 0, 0.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_cross(U, (size_t)INT32_MAX + 1, 0.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_cross(U, 0, -1.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_cross(U, 0, NAN));
    FAILS(TFRS_EINVAL, tfrs_model_add_cross(U, 2, INFINITY));
    ck_assert_uint_eq(tfrs_model_num_layers(U), 2);
    FAILS(TFRS_ESTATE, tfrs_model_add_cross(M, 0, 0.0f));
    ck_assert_uint_eq(tfrs_model_num_layers(M), 2);
}
END_TEST

START_TEST(misuse_tfrs_model_add_dropout)
{
    FAILS(TFRS_EINVAL, tfrs_model_add_dropout(NULL, 0.1f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dropout(U, 1.0f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dropout(U, -0.1f));
    FAILS(TFRS_EINVAL, tfrs_model_add_dropout(U, NAN));
    ck_assert_uint_eq(tfrs_model_num_layers(U), 2);
    FAILS(TFRS_ESTATE, tfrs_model_add_dropout(M, 0.1f));
    ck_assert_uint_eq(tfrs_model_num_layers(M), 2);
}
END_TEST

START_TEST(misuse_tfrs_model_set_structure)
{
    FAILS(TFRS_EINVAL, tfrs_model_set_structure(NULL, TFRS_STRUCTURE_PARALLEL));
    FAILS(TFRS_EINVAL, tfrs_model_set_structure(U, (tfrs_structure)2));
    FAILS(TFRS_EINVAL, tfrs_model_set_structure(U, (tfrs_structure)-1));
    ck_assert_int_eq(tfrs_model_structure(U), TFRS_STRUCTURE_STACKED);
    FAILS(TFRS_ESTATE, tfrs_model_set_structure(M, TFRS_STRUCTURE_PARALLEL));
    ck_assert_int_eq(tfrs_model_structure(M), TFRS_STRUCTURE_STACKED);
    /* parallel without a cross layer: refused by build, model unbuilt */
    OK(tfrs_model_set_structure(U, TFRS_STRUCTURE_PARALLEL));
    FAILS(TFRS_ESTATE, tfrs_model_build(U));
    ck_assert_uint_eq(tfrs_model_num_parameters(U), 0);
}
END_TEST

START_TEST(misuse_tfrs_model_structure)
{
    ck_assert_int_eq(tfrs_model_structure(NULL), TFRS_STRUCTURE_STACKED);
}
END_TEST

START_TEST(misuse_tfrs_model_num_layers)
{
    ck_assert_uint_eq(tfrs_model_num_layers(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_model_layer_kind)
{
    ck_assert_int_eq(tfrs_model_layer_kind(NULL, 0), -1);
    ck_assert_int_eq(tfrs_model_layer_kind(M, 2), -1);
    ck_assert_int_eq(tfrs_model_layer_kind(M, SIZE_MAX), -1);
    ck_assert_int_eq(tfrs_model_layer_kind(M, 1), TFRS_LAYER_DENSE);
}
END_TEST

START_TEST(misuse_tfrs_model_set_task)
{
    FAILS(TFRS_EINVAL, tfrs_model_set_task(NULL, T));
    FAILS(TFRS_EINVAL, tfrs_model_set_task(U, NULL));
}
END_TEST

START_TEST(misuse_tfrs_model_set_optimizer)
{
    tfrs_optimizer_options o, adam;
    int32_t ids[2] = { 1, 2 };
    float lab[1] = { 3 };

    OK(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAGRAD));
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(NULL, &o));
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(U, NULL));
    o.learning_rate = 0.0f;
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(U, &o));
    o.learning_rate = NAN;
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(U, &o));
    o.learning_rate = 0.1f;
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(U, &o));
    o.version = TFRS_OPTIMIZER_OPTIONS_VERSION;
    o.kind = (tfrs_optimizer_kind)5;
    FAILS(TFRS_EINVAL, tfrs_model_set_optimizer(U, &o));
    /* A different kind once steps were taken. */
    OK(tfrs_model_train_step(M, ids, lab, NULL, 1, NULL));
    OK(tfrs_optimizer_options_init(&adam, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAM));
    FAILS(TFRS_ESTATE, tfrs_model_set_optimizer(M, &adam));
    OK(tfrs_model_train_step(M, ids, lab, NULL, 1, NULL));
}
END_TEST

START_TEST(misuse_tfrs_model_set_label)
{
    FAILS(TFRS_EINVAL, tfrs_model_set_label(NULL, "y", NULL));
    FAILS(TFRS_EINVAL, tfrs_model_set_label(U, NULL, NULL));
    FAILS(TFRS_EINVAL, tfrs_model_set_label(U, "", NULL));
    FAILS(TFRS_EINVAL, tfrs_model_set_label(U, "y", ""));
}
END_TEST

START_TEST(misuse_tfrs_model_build)
{
    tfrs_model *m = NULL;

    FAILS(TFRS_EINVAL, tfrs_model_build(NULL));
    FAILS(TFRS_ESTATE, tfrs_model_build(M));           /* twice */
    OK(tfrs_model_create(&m, 1));
    FAILS(TFRS_ESTATE, tfrs_model_build(m));           /* no feature */
    OK(tfrs_model_add_feature(m, "user", V, 2));
    FAILS(TFRS_ESTATE, tfrs_model_build(m));           /* no layer */
    OK(tfrs_model_add_dense(m, 2, TFRS_ACT_RELU, 0.0f));
    FAILS(TFRS_ESTATE, tfrs_model_build(m));           /* last layer not 1 unit */
    ck_assert_uint_eq(tfrs_model_num_parameters(m), 0);
    OK(tfrs_model_add_dense(m, 1, TFRS_ACT_RELU, 0.0f));
    OK(tfrs_model_build(m));
    tfrs_model_free(m);
}
END_TEST

START_TEST(misuse_tfrs_model_num_features)
{
    ck_assert_uint_eq(tfrs_model_num_features(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_model_feature_name)
{
    ck_assert_ptr_null(tfrs_model_feature_name(NULL, 0));
    ck_assert_ptr_null(tfrs_model_feature_name(M, 2));
    ck_assert_ptr_null(tfrs_model_feature_name(M, SIZE_MAX));
}
END_TEST

START_TEST(misuse_tfrs_model_feature_vocab)
{
    ck_assert_ptr_null(tfrs_model_feature_vocab(NULL, 0));
    ck_assert_ptr_null(tfrs_model_feature_vocab(M, 2));
}
END_TEST

START_TEST(misuse_tfrs_model_feature_embedding)
{
    ck_assert_ptr_null(tfrs_model_feature_embedding(NULL, 0));
    ck_assert_ptr_null(tfrs_model_feature_embedding(M, 2));
    ck_assert_ptr_null(tfrs_model_feature_embedding(U, 0));   /* not built */
}
END_TEST

START_TEST(misuse_tfrs_model_num_dense)
{
    ck_assert_uint_eq(tfrs_model_num_dense(NULL), 0);
}
END_TEST

START_TEST(misuse_tfrs_model_dense)
{
    ck_assert_ptr_null(tfrs_model_dense(NULL, 0));
    ck_assert_ptr_null(tfrs_model_dense(M, 2));
    ck_assert_ptr_null(tfrs_model_dense(U, 0));               /* not built */
}
END_TEST

START_TEST(misuse_tfrs_model_num_parameters)
{
    ck_assert_uint_eq(tfrs_model_num_parameters(NULL), 0);
    ck_assert_uint_eq(tfrs_model_num_parameters(U), 0);
}
END_TEST

START_TEST(misuse_tfrs_model_training_state)
{
    uint64_t steps = 7, epochs = 7;

    FAILS(TFRS_EINVAL, tfrs_model_training_state(NULL, &steps, &epochs));
    ck_assert(steps == 7 && epochs == 7);
    OK(tfrs_model_training_state(U, &steps, &epochs));        /* not built: zeros */
    ck_assert(steps == 0 && epochs == 0);
    OK(tfrs_model_training_state(M, NULL, NULL));
}
END_TEST

START_TEST(misuse_tfrs_model_weights_hash)
{
    uint64_t h = 7, h2 = 8;

    FAILS(TFRS_EINVAL, tfrs_model_weights_hash(NULL, &h));
    FAILS(TFRS_ESTATE, tfrs_model_weights_hash(U, &h));
    FAILS(TFRS_EINVAL, tfrs_model_weights_hash(M, NULL));
    ck_assert(h == 7);
    OK(tfrs_model_weights_hash(M, &h));
    OK(tfrs_model_weights_hash(M, &h2));
    ck_assert(h == h2);
}
END_TEST

/* ---- model: training --------------------------------------------------------------- */

START_TEST(misuse_tfrs_model_train_step)
{
    int32_t ids[2] = { 1, 2 }, bad[2] = { 1, 4 };
    float lab[1] = { 3 }, s0, s1;
    double loss = -1.0;

    OK(tfrs_model_predict_ids(M, ids, 1, &s0));
    FAILS(TFRS_EINVAL, tfrs_model_train_step(NULL, ids, lab, NULL, 1, &loss));
    FAILS(TFRS_ESTATE, tfrs_model_train_step(U, ids, lab, NULL, 1, &loss));
    FAILS(TFRS_EINVAL, tfrs_model_train_step(M, NULL, lab, NULL, 1, &loss));
    FAILS(TFRS_EINVAL, tfrs_model_train_step(M, ids, NULL, NULL, 1, &loss));
    FAILS(TFRS_EINVAL, tfrs_model_train_step(M, ids, lab, NULL, 0, &loss));
    FAILS(TFRS_ERANGE, tfrs_model_train_step(M, bad, lab, NULL, 1, &loss));
    ck_assert(loss == -1.0);
    OK(tfrs_model_predict_ids(M, ids, 1, &s1));
    ck_assert(s0 == s1);    /* no step was taken */
}
END_TEST

START_TEST(misuse_tfrs_model_test_step)
{
    int32_t ids[2] = { 1, 2 }, bad[2] = { -1, 2 };
    float lab[1] = { 3 }, s = 7.0f;
    double loss = -1.0;

    FAILS(TFRS_EINVAL, tfrs_model_test_step(NULL, ids, lab, NULL, 1, &loss, &s));
    FAILS(TFRS_ESTATE, tfrs_model_test_step(U, ids, lab, NULL, 1, &loss, &s));
    FAILS(TFRS_EINVAL, tfrs_model_test_step(M, NULL, lab, NULL, 1, &loss, &s));
    FAILS(TFRS_EINVAL, tfrs_model_test_step(M, ids, NULL, NULL, 1, &loss, &s));
    FAILS(TFRS_EINVAL, tfrs_model_test_step(M, ids, lab, NULL, 0, &loss, &s));
    FAILS(TFRS_EINVAL, tfrs_model_test_step(M, ids, lab, NULL, 1, NULL, &s));
    FAILS(TFRS_ERANGE, tfrs_model_test_step(M, bad, lab, NULL, 1, &loss, &s));
    ck_assert(loss == -1.0);
    ck_assert(s == 7.0f);
}
END_TEST

START_TEST(misuse_tfrs_model_lookup_dataset)
{
    int32_t ids[8] = { -7, -7, -7, -7, -7, -7, -7, -7 };
    tfrs_dataset *other = NULL;

    FAILS(TFRS_EINVAL, tfrs_model_lookup_dataset(NULL, D, ids));
    FAILS(TFRS_ESTATE, tfrs_model_lookup_dataset(U, D, ids));
    FAILS(TFRS_EINVAL, tfrs_model_lookup_dataset(M, NULL, ids));
    FAILS(TFRS_EINVAL, tfrs_model_lookup_dataset(M, D, NULL));
    ck_assert_int_eq(ids[0], -7);
    OK(tfrs_dataset_create(&other));
    OK(tfrs_dataset_add_column(other, "user", TFRS_COLUMN_STRING));
    FAILS(TFRS_ENOTFOUND, tfrs_model_lookup_dataset(M, other, ids));   /* no "item" */
    tfrs_dataset_free(other);
}
END_TEST

START_TEST(misuse_tfrs_fit_options_init)
{
    tfrs_fit_options o, before;

    memset(&o, 0x5a, sizeof(o));
    before = o;
    FAILS(TFRS_EINVAL, tfrs_fit_options_init(NULL, TFRS_FIT_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_fit_options_init(&o, 0));
    FAILS(TFRS_EINVAL, tfrs_fit_options_init(&o, TFRS_FIT_OPTIONS_VERSION + 1));
    ck_assert_mem_eq(&o, &before, sizeof(o));
}
END_TEST

/* An exchange that refuses every step. */
static int refuse_exchange(tfrs_exchange_grads *g, void *payload)
{
    (void)g;
    (void)payload;
    return TFRS_ERANGE;
}

START_TEST(misuse_tfrs_model_fit)
{
    tfrs_fit_options o;
    tfrs_metrics h[1], before;
    tfrs_dataset *empty = NULL;
    int ran = -7;

    memset(h, 0x5a, sizeof(h));
    before = h[0];
    OK(tfrs_fit_options_init(&o, TFRS_FIT_OPTIONS_VERSION));
    FAILS(TFRS_EINVAL, tfrs_model_fit(NULL, D, &o, h));
    FAILS(TFRS_ESTATE, tfrs_model_fit(U, D, &o, h));
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, NULL, &o, h));
    o.version = 0;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    OK(tfrs_fit_options_init(&o, TFRS_FIT_OPTIONS_VERSION));
    o.epochs = -1;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    OK(tfrs_fit_options_init(&o, TFRS_FIT_OPTIONS_VERSION));
    o.batch_size = 0;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    /* Version 2: validation and early stopping. */
    OK(tfrs_fit_options_init(&o, TFRS_FIT_OPTIONS_VERSION));
    o.epochs_run = &ran;
    o.early_stopping = 1;                                              /* no validation */
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.early_stopping = 0;
    o.restore_best_weights = 1;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.validation = D;
    o.restore_best_weights = 2;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.restore_best_weights = 1;
    o.patience = -1;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.patience = 0;
    o.min_delta = NAN;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.min_delta = -0.5;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.min_delta = 0.0;
    o.monitor = (tfrs_monitor)5;
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    o.monitor = TFRS_MONITOR_MAE;                                      /* not in M's task */
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    ck_assert_int_eq(ran, -7);                                         /* options refused */
    o.monitor = TFRS_MONITOR_LOSS;
    OK(tfrs_dataset_slice(&empty, D, 4, 0));
    o.validation = empty;                                              /* no rows */
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
    ck_assert_int_eq(ran, 0);
    tfrs_dataset_free(empty);
    empty = NULL;
    OK(tfrs_fit_options_init(&o, TFRS_FIT_OPTIONS_VERSION));
    OK(tfrs_dataset_slice(&empty, D, 4, 0));
    FAILS(TFRS_EINVAL, tfrs_model_fit(M, empty, &o, h));              /* no rows */
    tfrs_dataset_free(empty);
    {   /* Version 3: an exchange, refused before any step. */
        tfrs_exchange x = { TFRS_EXCHANGE_VERSION, refuse_exchange, NULL, 4, 0, 0 };
        uint64_t h0, h1;
        OK(tfrs_model_weights_hash(M, &h0));
        o.exchange = &x;
        x.version = 2;
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        x.version = TFRS_EXCHANGE_VERSION;
        x.exchange = NULL;
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        x.exchange = refuse_exchange;
        x.global_rows = 0;
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        x.global_rows = (uint64_t)UINT32_MAX + 1;
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        x.global_rows = 5;
        x.first_row = 2;                                           /* 2 + 4 rows > 5 */
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        x.first_row = 0;
        x.skip_batches = 1;                                        /* one batch of 5 */
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        x.skip_batches = 0;
        o.validation = D;
        FAILS(TFRS_EINVAL, tfrs_model_fit(M, D, &o, h));
        o.validation = NULL;
        FAILS(TFRS_ERANGE, tfrs_model_fit(M, D, &o, h));           /* its own status */
        OK(tfrs_model_weights_hash(M, &h1));
        ck_assert(h0 == h1);                                       /* no update */
        o.exchange = NULL;
    }
    OK(tfrs_model_set_label(M, "nope", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_model_fit(M, D, &o, h));
    OK(tfrs_model_set_label(M, "user", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_model_fit(M, D, &o, h));               /* not a float column */
    OK(tfrs_model_set_label(M, "rating", "nope"));
    FAILS(TFRS_ENOTFOUND, tfrs_model_fit(M, D, &o, h));
    ck_assert_mem_eq(&h[0], &before, sizeof(before));
}
END_TEST

START_TEST(misuse_tfrs_model_evaluate)
{
    tfrs_metrics m, before;

    memset(&m, 0x5a, sizeof(m));
    before = m;
    FAILS(TFRS_EINVAL, tfrs_model_evaluate(NULL, D, 0, &m));
    FAILS(TFRS_ESTATE, tfrs_model_evaluate(U, D, 0, &m));
    FAILS(TFRS_EINVAL, tfrs_model_evaluate(M, NULL, 0, &m));
    FAILS(TFRS_EINVAL, tfrs_model_evaluate(M, D, 0, NULL));
    OK(tfrs_model_set_label(M, "nope", NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_model_evaluate(M, D, 0, &m));
    ck_assert_mem_eq(&m, &before, sizeof(m));
}
END_TEST

/* ---- model: inference -------------------------------------------------------------- */

START_TEST(misuse_tfrs_model_predict)
{
    const char *v[4] = { "a", "b", "c", "a" }, *vn[4] = { "a", "b", NULL, "a" };
    float s[2] = { 7, 7 };

    FAILS(TFRS_EINVAL, tfrs_model_predict(NULL, v, 2, s));
    FAILS(TFRS_ESTATE, tfrs_model_predict(U, v, 2, s));
    FAILS(TFRS_EINVAL, tfrs_model_predict(M, NULL, 2, s));
    FAILS(TFRS_EINVAL, tfrs_model_predict(M, v, 2, NULL));
    FAILS(TFRS_EINVAL, tfrs_model_predict(M, v, 0, s));
    FAILS(TFRS_EINVAL, tfrs_model_predict(M, vn, 2, s));
    ck_assert(s[0] == 7.0f && s[1] == 7.0f);
}
END_TEST

START_TEST(misuse_tfrs_model_predict_ids)
{
    int32_t ids[2] = { 1, 2 }, bad[2] = { 1, 99 };
    float s = 7.0f;

    FAILS(TFRS_EINVAL, tfrs_model_predict_ids(NULL, ids, 1, &s));
    FAILS(TFRS_ESTATE, tfrs_model_predict_ids(U, ids, 1, &s));
    FAILS(TFRS_EINVAL, tfrs_model_predict_ids(M, NULL, 1, &s));
    FAILS(TFRS_EINVAL, tfrs_model_predict_ids(M, ids, 1, NULL));
    FAILS(TFRS_EINVAL, tfrs_model_predict_ids(M, ids, 0, &s));
    FAILS(TFRS_ERANGE, tfrs_model_predict_ids(M, bad, 1, &s));
    ck_assert(s == 7.0f);
}
END_TEST

START_TEST(misuse_tfrs_model_rank)
{
    const char *q[2] = { "a", NULL }, *qn[2] = { NULL, NULL };
    const char *c[3] = { "a", "b", "c" }, *cn[3] = { "a", NULL, "c" };
    tfrs_scored out[3], before[3];
    size_t n = 99;

    memset(out, 0x5a, sizeof(out));
    memcpy(before, out, sizeof(out));
    FAILS(TFRS_EINVAL, tfrs_model_rank(NULL, q, "item", c, 3, 0, out, &n));
    ck_assert_uint_eq(n, 0);
    FAILS(TFRS_ESTATE, tfrs_model_rank(U, q, "item", c, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, NULL, "item", c, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, q, NULL, c, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, q, "item", NULL, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, q, "item", c, 3, 0, NULL, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, q, "item", c, 0, 0, out, &n));
    FAILS(TFRS_ENOTFOUND, tfrs_model_rank(M, q, "nope", c, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, qn, "item", c, 3, 0, out, &n));  /* user NULL */
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, q, "item", cn, 3, 0, out, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_mem_eq(out, before, sizeof(out));
    /* n_out may be NULL; top_k > n gives n. */
    OK(tfrs_model_rank(M, q, "item", c, 3, 10, out, NULL));
}
END_TEST

START_TEST(misuse_tfrs_model_rank_ids)
{
    const int32_t q[2] = { 1, 0 }, qbad[2] = { 99, 0 };
    const int32_t c[3] = { 1, 2, 3 }, cbad[3] = { 1, -1, 3 };
    tfrs_scored out[3], before[3];
    size_t n = 99;

    memset(out, 0x5a, sizeof(out));
    memcpy(before, out, sizeof(out));
    FAILS(TFRS_EINVAL, tfrs_model_rank_ids(NULL, q, 1, c, 3, 0, out, &n));
    ck_assert_uint_eq(n, 0);
    FAILS(TFRS_ESTATE, tfrs_model_rank_ids(U, q, 1, c, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank_ids(M, NULL, 1, c, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank_ids(M, q, 1, NULL, 3, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank_ids(M, q, 1, c, 3, 0, NULL, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank_ids(M, q, 1, c, 0, 0, out, &n));
    FAILS(TFRS_EINVAL, tfrs_model_rank_ids(M, q, 2, c, 3, 0, out, &n));   /* no feature 2 */
    FAILS(TFRS_ERANGE, tfrs_model_rank_ids(M, qbad, 1, c, 3, 0, out, &n));
    FAILS(TFRS_ERANGE, tfrs_model_rank_ids(M, q, 1, cbad, 3, 0, out, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_mem_eq(out, before, sizeof(out));
    OK(tfrs_model_rank_ids(M, q, 1, c, 3, 10, out, NULL));
}
END_TEST

START_TEST(misuse_tfrs_model_set_item_table)
{
    tfrs_dataset *items;
    const char *row[2][2] = { { "c", "a" }, { "a", "b" } };
    const char *q[2] = { NULL, NULL }, *c[2] = { "a", "c" }, *cz[2] = { "a", "z" };
    tfrs_scored out[2];

    FAILS(TFRS_EINVAL, tfrs_model_set_item_table(NULL, "item", D));
    FAILS(TFRS_ESTATE, tfrs_model_set_item_table(U, "item", D));
    FAILS(TFRS_EINVAL, tfrs_model_set_item_table(M, NULL, D));
    FAILS(TFRS_ENOTFOUND, tfrs_model_set_item_table(M, "nope", D));
    FAILS(TFRS_EDUPLICATE, tfrs_model_set_item_table(M, "item", D));   /* "a" twice */
    FAILS(TFRS_ENOTFOUND, tfrs_model_set_item_table(M, "rating", D));  /* not a feature */
    ck_assert_uint_eq(tfrs_model_item_features(M, NULL, 0), 0);        /* nothing kept */
    OK(tfrs_dataset_create(&items));
    OK(tfrs_dataset_add_column(items, "item", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(items, "user", TFRS_COLUMN_STRING));
    FAILS(TFRS_EINVAL, tfrs_model_set_item_table(M, "item", items));   /* no rows */
    OK(tfrs_dataset_append(items, row[0], NULL));
    OK(tfrs_dataset_append(items, row[1], NULL));
    OK(tfrs_model_set_item_table(M, "item", items));
    tfrs_dataset_free(items);
    ck_assert_uint_eq(tfrs_model_item_features(M, NULL, 0), 1);
    OK(tfrs_model_rank(M, q, "item", c, 2, 0, out, NULL));
    FAILS(TFRS_ENOTFOUND, tfrs_model_rank(M, q, "item", cz, 2, 0, out, NULL));
    OK(tfrs_model_set_item_table(M, NULL, NULL));                      /* removed */
    ck_assert_uint_eq(tfrs_model_item_features(M, NULL, 0), 0);
    FAILS(TFRS_EINVAL, tfrs_model_rank(M, q, "item", c, 2, 0, out, NULL));
}
END_TEST

START_TEST(misuse_tfrs_model_item_features)
{
    size_t f[2] = { 7, 7 };
    const char *row[2] = { "b", "c" };
    tfrs_dataset *items;

    ck_assert_uint_eq(tfrs_model_item_features(NULL, f, 2), 0);
    ck_assert_uint_eq(tfrs_model_item_features(U, f, 2), 0);
    ck_assert_uint_eq(tfrs_model_item_features(M, f, 2), 0);     /* no table */
    ck_assert_uint_eq(f[0], 7);
    OK(tfrs_dataset_create(&items));
    OK(tfrs_dataset_add_column(items, "item", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(items, "user", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_append(items, row, NULL));
    OK(tfrs_model_set_item_table(M, "item", items));
    tfrs_dataset_free(items);
    ck_assert_uint_eq(tfrs_model_item_features(M, f, 0), 1);     /* counts, writes nothing */
    ck_assert_uint_eq(f[0], 7);
    ck_assert_uint_eq(tfrs_model_item_features(M, NULL, 5), 1);  /* NULL: counts */
    ck_assert_uint_eq(tfrs_model_item_features(M, f, 2), 1);
    ck_assert_uint_eq(f[0], 0);                                   /* user */
    ck_assert_uint_eq(f[1], 7);
}
END_TEST

/* ---- saving and loading -------------------------------------------------------------- */

START_TEST(misuse_tfrs_model_save)
{
    const char *path = tu_tmp_path("m.tfrs");

    FAILS(TFRS_EINVAL, tfrs_model_save(NULL, path, 0));
    FAILS(TFRS_EINVAL, tfrs_model_save(M, NULL, 0));
    FAILS(TFRS_EINVAL, tfrs_model_save(M, "", 0));
    FAILS(TFRS_EINVAL, tfrs_model_save(M, path, 0x10));
    FAILS(TFRS_ESTATE, tfrs_model_save(U, path, 0));
    ck_assert_int_ne(access(path, F_OK), 0);
    FAILS(TFRS_EIO, tfrs_model_save(M, tu_tmp_path("no/such/dir.tfrs"), 0));
    FAILS(TFRS_EIO, tfrs_model_save(M, tu_tmpdir, 0));                    /* a directory */
}
END_TEST

START_TEST(misuse_tfrs_model_load)
{
    const char *path = tu_tmp_path("junk.tfrs");
    tfrs_model *m = JUNK(tfrs_model);

    FAILS(TFRS_EINVAL, tfrs_model_load(NULL, path));
    FAILS(TFRS_EINVAL, tfrs_model_load(&m, NULL));
    ck_assert_ptr_null(m);
    m = JUNK(tfrs_model);
    FAILS(TFRS_EIO, tfrs_model_load(&m, path));                        /* missing */
    ck_assert_ptr_null(m);
    m = JUNK(tfrs_model);
    FAILS(TFRS_EIO, tfrs_model_load(&m, tu_tmpdir));                      /* a directory */
    ck_assert_ptr_null(m);
    tu_write_text(path, "not a model");
    m = JUNK(tfrs_model);
    FAILS(TFRS_EFORMAT, tfrs_model_load(&m, path));
    ck_assert_ptr_null(m);
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

START_TEST(misuse_tfrs_model_load_buffer)
{
    static const char junk_bytes[] = "\x10\0\0\0\0\0\0\0{\"a\": 1}        ";
    tfrs_model *m = JUNK(tfrs_model);

    FAILS(TFRS_EINVAL, tfrs_model_load_buffer(NULL, junk_bytes, sizeof(junk_bytes) - 1));
    FAILS(TFRS_EINVAL, tfrs_model_load_buffer(&m, NULL, 10));
    ck_assert_ptr_null(m);
    m = JUNK(tfrs_model);
    FAILS(TFRS_EFORMAT, tfrs_model_load_buffer(&m, junk_bytes, 0));
    ck_assert_ptr_null(m);
    m = JUNK(tfrs_model);
    FAILS(TFRS_EFORMAT, tfrs_model_load_buffer(&m, junk_bytes, sizeof(junk_bytes) - 1));
    ck_assert_ptr_null(m);
}
END_TEST

/* ---- the table ------------------------------------------------------------------------ */

/* One entry per public function; check-misuse-coverage.sh compares these
 * names with the TFRS_API declarations of include/tfrsc.h. */
#define CASE(fn) { #fn, &misuse_##fn }

/* A configuration of D's columns: user and item strings, rating label. */
static const char good_config[] =
    "{\"features\": [{\"name\": \"user\", \"embedding_dim\": 2},\n"
    "              {\"name\": \"item\", \"embedding_dim\": 2}],\n"
    " \"layers\": [{\"units\": 1, \"activation\": \"linear\", \"l2\": 0}],\n"
    " \"label\": \"rating\", \"seed\": 1}";

START_TEST(misuse_tfrs_model_from_config)
{
    tfrs_model *m = JUNK(tfrs_model);
    const size_t n = sizeof(good_config) - 1;

    FAILS(TFRS_EINVAL, tfrs_model_from_config(NULL, good_config, n, "c.json", D));
    FAILS(TFRS_EINVAL, tfrs_model_from_config(&m, NULL, n, "c.json", D));
    ck_assert_ptr_null(m);
    m = JUNK(tfrs_model);
    FAILS(TFRS_EPARSE, tfrs_model_from_config(&m, good_config, n - 1, "c.json", D)); /* cut */
    ck_assert_ptr_null(m);
    FAILS(TFRS_EPARSE, tfrs_model_from_config(&m, good_config, n, "c.json", NULL)); /* adapt */
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "c.json:1: features[0]"));
    FAILS(TFRS_EPARSE, tfrs_model_from_config(&m, "[]", 2, NULL, D));
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "configuration:1:"));
    FAILS(TFRS_EPARSE, tfrs_model_from_config(&m, "{\"features\": 1}", 15, NULL, D));
    FAILS(TFRS_EPARSE, tfrs_model_from_config(&m, "{\"x\"\0: 1}", 10, NULL, D));
    OK(tfrs_model_from_config(&m, good_config, n, "c.json", D));
    ck_assert_uint_eq(tfrs_model_num_features(m), 2);
    tfrs_model_free(m);
}
END_TEST

START_TEST(misuse_tfrs_model_from_config_file)
{
    tfrs_model *m = JUNK(tfrs_model);

    FAILS(TFRS_EINVAL, tfrs_model_from_config_file(NULL, "x.json", D));
    FAILS(TFRS_EINVAL, tfrs_model_from_config_file(&m, NULL, D));
    ck_assert_ptr_null(m);
    m = JUNK(tfrs_model);
    FAILS(TFRS_EIO, tfrs_model_from_config_file(&m, tu_tmp_path("absent.json"), D));
    ck_assert_ptr_null(m);
    FAILS(TFRS_EIO, tfrs_model_from_config_file(&m, tu_tmpdir, D));   /* a directory */
    tu_tmp_write_text("bad.json", "{\n  \"features\": [],\n}");
    FAILS(TFRS_EPARSE, tfrs_model_from_config_file(&m, tu_tmp_path("bad.json"), D));
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "bad.json:3:"));
    tu_tmp_write_text("good.json", good_config);
    OK(tfrs_model_from_config_file(&m, tu_tmp_path("good.json"), D));
    tfrs_model_free(m);
}
END_TEST

START_TEST(misuse_tfrs_config_fit_options)
{
    tfrs_fit_options fo;
    double vf = -1;
    const size_t n = sizeof(good_config) - 1;

    FAILS(TFRS_EINVAL, tfrs_config_fit_options(NULL, n, NULL, &fo, &vf));
    FAILS(TFRS_EINVAL, tfrs_config_fit_options(good_config, n, NULL, NULL, &vf));
    FAILS(TFRS_EPARSE, tfrs_config_fit_options("{", 1, NULL, &fo, &vf));
    OK(tfrs_config_fit_options(good_config, n, NULL, &fo, NULL));
    OK(tfrs_config_fit_options(good_config, n, NULL, &fo, &vf));
    ck_assert_int_eq(fo.epochs, 1);              /* the defaults */
    ck_assert_double_eq(vf, 0.0);
}
END_TEST

START_TEST(misuse_tfrs_model_predict_dataset)
{
    float s[4] = { 0 };
    tfrs_dataset *empty = NULL;

    FAILS(TFRS_EINVAL, tfrs_model_predict_dataset(NULL, D, s));
    FAILS(TFRS_EINVAL, tfrs_model_predict_dataset(M, NULL, s));
    FAILS(TFRS_EINVAL, tfrs_model_predict_dataset(M, D, NULL));
    FAILS(TFRS_ESTATE, tfrs_model_predict_dataset(U, D, s));
    OK(tfrs_dataset_create(&empty));
    OK(tfrs_model_predict_dataset(M, empty, s));             /* no rows: nothing */
    OK(tfrs_dataset_add_column(empty, "x", TFRS_COLUMN_STRING));
    {
        const char *x = "a";
        OK(tfrs_dataset_append(empty, &x, NULL));
    }
    FAILS(TFRS_ENOTFOUND, tfrs_model_predict_dataset(M, empty, s));  /* no user column */
    tfrs_dataset_free(empty);
    OK(tfrs_model_predict_dataset(M, D, s));
    ck_assert(s[0] != 0.0f || s[1] != 0.0f);
}
END_TEST

START_TEST(misuse_tfrs_model_config)
{
    char buf[8];
    size_t len = 0, len2 = 0;

    FAILS(TFRS_EINVAL, tfrs_model_config(NULL, buf, sizeof(buf), &len));
    FAILS(TFRS_EINVAL, tfrs_model_config(M, NULL, sizeof(buf), &len));
    FAILS(TFRS_ERANGE, tfrs_model_config(M, NULL, 0, &len));
    ck_assert_uint_gt(len, sizeof(buf));
    FAILS(TFRS_ERANGE, tfrs_model_config(M, buf, sizeof(buf), &len2));
    ck_assert_uint_eq(len, len2);
    OK(tfrs_model_config(U, NULL, 0, NULL) == TFRS_ERANGE ? TFRS_OK : -1);   /* unbuilt too */
}
END_TEST

static const struct {
    const char         *name;
    const TTest *const *test;
} cases[] = {
    CASE(tfrs_version_number),
    CASE(tfrs_version_string),
    CASE(tfrs_status_str),
    CASE(tfrs_last_error),
    CASE(tfrs_set_allocator),
    CASE(tfrs_vocab_options_init),
    CASE(tfrs_vocab_create),
    CASE(tfrs_vocab_adapt),
    CASE(tfrs_vocab_adapt_column),
    CASE(tfrs_vocab_adapt_bags),
    CASE(tfrs_vocab_free),
    CASE(tfrs_vocab_size),
    CASE(tfrs_vocab_num_tokens),
    CASE(tfrs_vocab_num_oov),
    CASE(tfrs_vocab_lookup),
    CASE(tfrs_vocab_lookup_n),
    CASE(tfrs_vocab_token),
    CASE(tfrs_dataset_create),
    CASE(tfrs_dataset_free),
    CASE(tfrs_dataset_add_column),
    CASE(tfrs_dataset_drop_column),
    CASE(tfrs_dataset_append),
    CASE(tfrs_dataset_append_row),
    CASE(tfrs_dataset_num_rows),
    CASE(tfrs_dataset_num_columns),
    CASE(tfrs_dataset_column_info),
    CASE(tfrs_dataset_find_column),
    CASE(tfrs_dataset_string_ids),
    CASE(tfrs_dataset_string),
    CASE(tfrs_dataset_get_string),
    CASE(tfrs_dataset_floats),
    CASE(tfrs_dataset_int64s),
    CASE(tfrs_dataset_shuffle),
    CASE(tfrs_dataset_slice),
    CASE(tfrs_dataset_add_implicit_bags),
    CASE(tfrs_dataset_column_moments),
    CASE(tfrs_dataset_column_quantiles),
    CASE(tfrs_load_options_init),
    CASE(tfrs_dataset_load_movielens),
    CASE(tfrs_delimited_options_init),
    CASE(tfrs_dataset_load_delimited),
    CASE(tfrs_embedding_create),
    CASE(tfrs_embedding_free),
    CASE(tfrs_embedding_rows),
    CASE(tfrs_embedding_dim),
    CASE(tfrs_embedding_weights),
    CASE(tfrs_embedding_set_weights),
    CASE(tfrs_embedding_forward),
    CASE(tfrs_embedding_backward),
    CASE(tfrs_embedding_grad),
    CASE(tfrs_embedding_zero_grad),
    CASE(tfrs_dense_create),
    CASE(tfrs_dense_free),
    CASE(tfrs_dense_in),
    CASE(tfrs_dense_units),
    CASE(tfrs_dense_activation),
    CASE(tfrs_dense_kernel),
    CASE(tfrs_dense_bias),
    CASE(tfrs_dense_set_weights),
    CASE(tfrs_dense_forward),
    CASE(tfrs_dense_backward),
    CASE(tfrs_dense_grad),
    CASE(tfrs_dense_zero_grad),
    CASE(tfrs_task_options_init),
    CASE(tfrs_ranking_task_create),
    CASE(tfrs_ranking_task_free),
    CASE(tfrs_ranking_task_options),
    CASE(tfrs_ranking_task_loss),
    CASE(tfrs_ranking_task_update),
    CASE(tfrs_ranking_task_result),
    CASE(tfrs_ranking_task_reset),
    CASE(tfrs_optimizer_options_init),
    CASE(tfrs_optimizer_learning_rate),
    CASE(tfrs_model_create),
    CASE(tfrs_model_free),
    CASE(tfrs_model_add_feature),
    CASE(tfrs_feature_options_init),
    CASE(tfrs_model_add_feature_ex),
    CASE(tfrs_model_feature_options),
    CASE(tfrs_model_add_dense),
    CASE(tfrs_model_set_task),
    CASE(tfrs_model_set_optimizer),
    CASE(tfrs_model_set_label),
    CASE(tfrs_model_build),
    CASE(tfrs_model_num_features),
    CASE(tfrs_model_feature_name),
    CASE(tfrs_model_feature_vocab),
    CASE(tfrs_model_feature_embedding),
    CASE(tfrs_model_add_cross),
    CASE(tfrs_model_add_dropout),
    CASE(tfrs_model_set_structure),
    CASE(tfrs_model_structure),
    CASE(tfrs_model_num_layers),
    CASE(tfrs_model_layer_kind),
    CASE(tfrs_model_num_dense),
    CASE(tfrs_model_dense),
    CASE(tfrs_model_num_parameters),
    CASE(tfrs_model_training_state),
    CASE(tfrs_model_weights_hash),
    CASE(tfrs_model_train_step),
    CASE(tfrs_model_test_step),
    CASE(tfrs_model_lookup_dataset),
    CASE(tfrs_fit_options_init),
    CASE(tfrs_model_fit),
    CASE(tfrs_model_evaluate),
    CASE(tfrs_model_predict),
    CASE(tfrs_model_predict_ids),
    CASE(tfrs_model_rank_ids),
    CASE(tfrs_model_rank),
    CASE(tfrs_model_set_item_table),
    CASE(tfrs_model_item_features),
    CASE(tfrs_model_save),
    CASE(tfrs_model_load),
    CASE(tfrs_model_load_buffer),
    CASE(tfrs_model_from_config),
    CASE(tfrs_model_from_config_file),
    CASE(tfrs_config_fit_options),
    CASE(tfrs_model_config),
    CASE(tfrs_model_predict_dataset),
};

static Suite *misuse_suite(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("every public function");

    tcase_add_checked_fixture(tc, setup, teardown);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tcase_add_test(tc, *cases[i].test);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(misuse_suite());
}
