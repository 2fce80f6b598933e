/*
 * test-vocab.c - Keras StringLookup semantics of tfrs_vocab.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vocab.h"
#include "util/strtab.h"
#include "testutil.h"
#include "tfrsc.h"

/* ---- helpers ------------------------------------------------------------ */

/* FNV-1a written out independently of the library. */
static uint64_t ref_fnv(const char *s)
{
    uint64_t h = 14695981039346656037ull;   /* 0xcbf29ce484222325 */

    for (; *s != '\0'; s++) {
        h = h ^ (uint8_t)*s;
        h = h * 1099511628211ull;           /* 0x100000001b3 */
    }
    return h;
}

static int32_t id_of(const tfrs_vocab *v, const char *s)
{
    int32_t id = -7;

    ck_assert_int_eq(tfrs_vocab_lookup(v, s, &id), TFRS_OK);
    return id;
}

static const char *token_of(const tfrs_vocab *v, int32_t i)
{
    const char *t = NULL;

    ck_assert_int_eq(tfrs_vocab_token(v, i, &t), TFRS_OK);
    ck_assert_ptr_nonnull(t);
    return t;
}

static tu_alloc oom = TU_ALLOC_INIT;

/* ---- tests -------------------------------------------------------------- */

START_TEST(unknown_token_maps_to_oov)
{
    const char *toks[] = { "alice", "bob" };
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, NULL), TFRS_OK);
    ck_assert_int_eq(id_of(v, "carol"), 0);
    ck_assert_int_eq(id_of(v, ""), 0);
    ck_assert_int_eq(id_of(v, "alic"), 0);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(known_tokens_follow_oov)
{
    const char *toks[] = { "zeta", "alpha", "mid" };
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 3, NULL), TFRS_OK);
    /* Given order is kept: create does not sort. */
    ck_assert_int_eq(id_of(v, "zeta"), 1);
    ck_assert_int_eq(id_of(v, "alpha"), 2);
    ck_assert_int_eq(id_of(v, "mid"), 3);
    ck_assert_uint_eq(tfrs_vocab_size(v), 4);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 3);
    ck_assert_uint_eq(tfrs_vocab_num_oov(v), 1);
    ck_assert_ptr_null(tfrs__vocab_mask_token(v));
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(mask_token_is_index_zero)
{
    const char *toks[] = { "a", "b" };
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION), TFRS_OK);
    o.mask_token = "";
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_OK);
    /* [""] ["[UNK]"] ["a"] ["b"] */
    ck_assert_uint_eq(tfrs_vocab_size(v), 4);
    ck_assert_int_eq(id_of(v, ""), 0);
    ck_assert_int_eq(id_of(v, "zzz"), 1);
    ck_assert_int_eq(id_of(v, "a"), 2);
    ck_assert_int_eq(id_of(v, "b"), 3);
    ck_assert_str_eq(token_of(v, 0), "");
    ck_assert_str_eq(token_of(v, 1), "[UNK]");
    ck_assert_str_eq(token_of(v, 2), "a");
    ck_assert_str_eq(tfrs__vocab_mask_token(v), "");
    tfrs_vocab_free(v);

    o.mask_token = "[MASK]";
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_OK);
    ck_assert_int_eq(id_of(v, "[MASK]"), 0);
    ck_assert_int_eq(id_of(v, ""), 1);
    ck_assert_str_eq(token_of(v, 0), "[MASK]");
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(fnv1a64_golden_values)
{
    /* Published FNV-1a 64 test vectors. */
    ck_assert_uint_eq(tfrs__fnv1a64("", 0), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(tfrs__fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(tfrs__fnv1a64("foobar", 6), 0x85944171f73967e8ull);
    /* By hand for "a": (0xcbf29ce484222325 ^ 0x61) * 0x100000001b3 mod 2^64. */
    ck_assert_uint_eq((0xcbf29ce484222325ull ^ 0x61) * 0x100000001b3ull, 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(ref_fnv("movie 42"), tfrs__fnv1a64("movie 42", 8));
}
END_TEST

START_TEST(oov_buckets_use_fnv)
{
    const char *toks[] = { "x", "y" };
    const char *unknown[] = { "", "a", "foobar", "carol", "\xc3\xa9t\xc3\xa9", "42", "43" };
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;
    int seen[5] = { 0 };

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.num_oov_indices = 5;
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 7);
    ck_assert_int_eq(id_of(v, "x"), 5);
    ck_assert_int_eq(id_of(v, "y"), 6);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(*unknown); i++) {
        int32_t id = id_of(v, unknown[i]);
        ck_assert_int_eq(id, (int32_t)(ref_fnv(unknown[i]) % 5));
        seen[id] = 1;
    }
    /* "" -> 14695981039346656037 mod 5 = 2 (last digit 7);
     * "a" -> 0xaf63dc4c8601ec8c = 12638187200555641996 mod 5 = 1 (last digit 6). */
    ck_assert_int_eq(id_of(v, ""), 2);
    ck_assert_int_eq(id_of(v, "a"), 1);
    ck_assert_int_eq(seen[1] && seen[2], 1);
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(token_of(v, i), "[UNK]");
    tfrs_vocab_free(v);

    /* With a mask the buckets start at 1. */
    o.mask_token = "";
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 8);
    ck_assert_int_eq(id_of(v, "a"), 1 + 1);
    ck_assert_int_eq(id_of(v, "carol"), 1 + (int32_t)(ref_fnv("carol") % 5));
    ck_assert_int_eq(id_of(v, "x"), 6);
    ck_assert_int_eq(tfrs__vocab_lookup_bytes(v, "carolXYZ", 5), id_of(v, "carol"));
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(zero_oov_makes_unknown_an_error)
{
    const char *toks[] = { "x", "y" };
    const char *batch[] = { "y", "nope" };
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;
    int32_t id = 123, ids[2];

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.num_oov_indices = 0;
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 2);
    ck_assert_int_eq(id_of(v, "x"), 0);
    ck_assert_int_eq(id_of(v, "y"), 1);
    ck_assert_int_eq(tfrs_vocab_lookup(v, "z", &id), TFRS_ENOTFOUND);
    ck_assert_int_eq(id, 123);
    ck_assert_int_eq(tfrs__vocab_lookup_bytes(v, "z", 1), -1);
    ck_assert_int_eq(tfrs_vocab_lookup_n(v, batch, 2, ids), TFRS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "nope"));
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(duplicates_rejected)
{
    const char *dup[] = { "a", "b", "a" };
    const char *has_mask[] = { "a", "" };
    tfrs_vocab_options o;
    tfrs_vocab *v = (tfrs_vocab *)&o;

    ck_assert_int_eq(tfrs_vocab_create(&v, dup, 3, NULL), TFRS_EDUPLICATE);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "duplicate"));

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = "";
    v = (tfrs_vocab *)&o;
    ck_assert_int_eq(tfrs_vocab_create(&v, has_mask, 2, &o), TFRS_EDUPLICATE);
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(adapt_sorts_and_dedupes)
{
    /* Byte order: "A" (0x41) < "a" < "ab" (prefix first) < "b" < "z" < "é" (0xC3). */
    const char *data[] = { "b", "a", "\xc3\xa9", "ab", "b", "A", "z", "a", "", "ab" };
    const char *want[] = { "A", "a", "ab", "b", "z", "\xc3\xa9" };
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = "";   /* left out of the tokens */
    ck_assert_int_eq(tfrs_vocab_adapt(&v, data, 10, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 6);
    ck_assert_uint_eq(tfrs_vocab_size(v), 8);
    for (int i = 0; i < 6; i++) {
        ck_assert_str_eq(token_of(v, 2 + i), want[i]);
        ck_assert_int_eq(id_of(v, want[i]), 2 + i);
    }
    ck_assert_int_eq(id_of(v, ""), 0);
    tfrs_vocab_free(v);

    /* Without a mask "" is an ordinary token, first in byte order. */
    ck_assert_int_eq(tfrs_vocab_adapt(&v, data, 10, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 7);
    ck_assert_str_eq(token_of(v, 1), "");
    ck_assert_str_eq(token_of(v, 2), "A");
    tfrs_vocab_free(v);

    ck_assert_int_eq(tfrs_vocab_adapt(&v, NULL, 0, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 1);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(token_round_trip)
{
    enum { N = 5000 };
    static char buf[N][16];
    const char *toks[N];
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;
    const char *t;

    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof(buf[i]), "tok%d", i * 7919 % 100003);
        toks[i] = buf[i];
    }
    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.num_oov_indices = 3;
    o.mask_token = "<m>";
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, N, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 1 + 3 + N);
    for (int32_t i = 0; i < (int32_t)tfrs_vocab_size(v); i++) {
        t = token_of(v, i);
        if (i >= 4)
            ck_assert_int_eq(id_of(v, t), i);
    }
    for (size_t i = 0; i < N; i++) {
        size_t len = 0;
        ck_assert_str_eq(tfrs__vocab_token_at(v, i, &len), toks[i]);
        ck_assert_uint_eq(len, strlen(toks[i]));
    }
    ck_assert_int_eq(tfrs_vocab_token(v, -1, &t), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_vocab_token(v, (int32_t)tfrs_vocab_size(v), &t), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_vocab_token(v, INT32_MAX, &t), TFRS_ERANGE);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(lookup_n_matches_lookup)
{
    const char *toks[] = { "a", "b", "c" };
    const char *q[] = { "c", "zz", "a", "b", "a" };
    const char *bad[] = { "a", NULL };
    tfrs_vocab *v = NULL;
    int32_t ids[5];

    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 3, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_lookup_n(v, q, 5, ids), TFRS_OK);
    ck_assert_int_eq(ids[0], 3);
    ck_assert_int_eq(ids[1], 0);
    ck_assert_int_eq(ids[2], 1);
    ck_assert_int_eq(ids[3], 2);
    ck_assert_int_eq(ids[4], 1);
    ck_assert_int_eq(tfrs_vocab_lookup_n(v, bad, 2, ids), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_lookup_n(v, NULL, 0, NULL), TFRS_OK);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(empty_vocabulary)
{
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_create(&v, NULL, 0, NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 1);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 0);
    ck_assert_int_eq(id_of(v, "anything"), 0);
    ck_assert_str_eq(token_of(v, 0), "[UNK]");
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(utf8_validation)
{
    static const char *good[] = {
        "", "ascii", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xc2\x80",
    };
    static const char *bad[] = {
        "\xff", "\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc3", "\xe2\x82",
        "a\xc3(", "\xf0\x9f\x98",
    };
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;

    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        ck_assert_int_eq(tfrs__utf8_valid(good[i], strlen(good[i])), 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        const char *toks[] = { "ok", bad[i] };
        ck_assert_int_eq(tfrs__utf8_valid(bad[i], strlen(bad[i])), 0);
        v = (tfrs_vocab *)&o;
        ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, NULL), TFRS_EINVAL);
        ck_assert_ptr_null(v);
        ck_assert_int_eq(tfrs_vocab_adapt(&v, toks, 2, NULL), TFRS_EINVAL);
        ck_assert_ptr_null(v);
    }
    /* An explicit length stops before a would-be continuation byte. */
    ck_assert_int_eq(tfrs__utf8_valid("\xc3\xa9", 1), 0);
    ck_assert_int_eq(tfrs__utf8_valid("a\0b", 3), 1);

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = "\xff";
    ck_assert_int_eq(tfrs_vocab_create(&v, NULL, 0, &o), TFRS_EINVAL);
}
END_TEST

START_TEST(options_checked)
{
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_options_init(NULL, TFRS_VOCAB_OPTIONS_VERSION), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_options_init(&o, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION + 1), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION), TFRS_OK);
    ck_assert_uint_eq(o.version, TFRS_VOCAB_OPTIONS_VERSION);
    ck_assert_uint_eq(o.num_oov_indices, 1);
    ck_assert_ptr_null(o.mask_token);

    o.version = 99;
    ck_assert_int_eq(tfrs_vocab_create(&v, NULL, 0, &o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt(&v, NULL, 0, &o), TFRS_EINVAL);
    o.version = TFRS_VOCAB_OPTIONS_VERSION;
    o.num_oov_indices = (size_t)INT32_MAX + 1;
    ck_assert_int_eq(tfrs_vocab_create(&v, NULL, 0, &o), TFRS_EINVAL);
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(clone_is_deep)
{
    const char *toks[] = { "p", "q", "r" };
    tfrs_vocab_options o;
    tfrs_vocab *v = NULL, *c = NULL;

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = "m";
    o.num_oov_indices = 2;
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 3, &o), TFRS_OK);
    ck_assert_int_eq(tfrs__vocab_clone(&c, v), TFRS_OK);
    tfrs_vocab_free(v);
    ck_assert_uint_eq(tfrs_vocab_size(c), 6);
    ck_assert_str_eq(tfrs__vocab_mask_token(c), "m");
    ck_assert_int_eq(id_of(c, "m"), 0);
    ck_assert_int_eq(id_of(c, "p"), 3);
    ck_assert_int_eq(id_of(c, "r"), 5);
    ck_assert_int_eq(id_of(c, "foobar"), 1 + (int32_t)(ref_fnv("foobar") % 2));
    tfrs_vocab_free(c);
}
END_TEST

START_TEST(adapt_column_from_dataset)
{
    const char *rows[][2] = {
        { "u2", "m1" }, { "u1", "m1" }, { "u2", "m3" }, { "u10", "m2" }, { "u1", "m1" },
    };
    const float w = 1.0f;
    tfrs_dataset *ds = NULL, *part = NULL;
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "movie", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "w", TFRS_COLUMN_FLOAT), TFRS_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tfrs_dataset_append(ds, rows[i], &w), TFRS_OK);

    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "user", NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 3);
    ck_assert_str_eq(token_of(v, 1), "u1");
    ck_assert_str_eq(token_of(v, 2), "u10");
    ck_assert_str_eq(token_of(v, 3), "u2");
    tfrs_vocab_free(v);

    /* Only strings used by the rows count. */
    ck_assert_int_eq(tfrs_dataset_slice(&part, ds, 3, 2), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, part, "movie", NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 2);
    ck_assert_str_eq(token_of(v, 1), "m1");
    ck_assert_str_eq(token_of(v, 2), "m2");
    tfrs_vocab_free(v);

    /* The mask token is left out of the tokens. */
    {
        tfrs_vocab_options o;
        tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
        o.mask_token = "u10";
        ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "user", &o), TFRS_OK);
        ck_assert_uint_eq(tfrs_vocab_size(v), 1 + 1 + 2);
        ck_assert_int_eq(id_of(v, "u10"), 0);
        ck_assert_str_eq(token_of(v, 2), "u1");
        ck_assert_str_eq(token_of(v, 3), "u2");
        tfrs_vocab_free(v);
    }

    v = (tfrs_vocab *)ds;
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "nope", NULL), TFRS_ENOTFOUND);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "w", NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, NULL, "user", NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, NULL, NULL), TFRS_EINVAL);
    tfrs_dataset_free(part);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(misuse_returns_status)
{
    const char *toks[] = { "a" };
    tfrs_vocab *v = NULL;
    const char *t;
    int32_t id;

    ck_assert_int_eq(tfrs_vocab_create(NULL, toks, 1, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_create(&v, NULL, 1, NULL), TFRS_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(tfrs_vocab_adapt(NULL, toks, 1, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt(&v, NULL, 1, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_adapt_column(NULL, NULL, "x", NULL), TFRS_EINVAL);
    {
        const char *with_null[] = { "a", NULL };
        ck_assert_int_eq(tfrs_vocab_create(&v, with_null, 2, NULL), TFRS_EINVAL);
        ck_assert_int_eq(tfrs_vocab_adapt(&v, with_null, 2, NULL), TFRS_EINVAL);
        ck_assert_ptr_null(v);
    }
    ck_assert_int_eq(tfrs_vocab_lookup(NULL, "a", &id), TFRS_EINVAL);
    ck_assert_str_ne(tfrs_last_error(), "");
    ck_assert_int_eq(tfrs_vocab_lookup_n(NULL, toks, 1, &id), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_token(NULL, 0, &t), TFRS_EINVAL);
    ck_assert_uint_eq(tfrs_vocab_size(NULL), 0);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(NULL), 0);
    ck_assert_uint_eq(tfrs_vocab_num_oov(NULL), 0);
    tfrs_vocab_free(NULL);

    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 1, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_lookup(v, NULL, &id), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_lookup(v, "a", NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_lookup_n(v, NULL, 1, &id), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_lookup_n(v, toks, 1, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_token(v, 0, NULL), TFRS_EINVAL);
    tfrs_vocab_free(v);
}
END_TEST

START_TEST(out_of_memory)
{
    const char *toks[] = { "a", "b", "c", "d", "e" };
    const char *data[] = { "q", "a", "q", "b" };
    tfrs_vocab_options o;
    tfrs_dataset *ds = NULL;
    tfrs_vocab *v, *c;
    int rc;

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = "m";
    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "s", TFRS_COLUMN_STRING), TFRS_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(tfrs_dataset_append(ds, &data[i], NULL), TFRS_OK);

    for (int which = 0; which < 4; which++) {
        for (long k = 0;; k++) {
            v = c = NULL;
            tu_oom_begin(&oom, which == 3 ? -1 : k);
            switch (which) {
            case 0:  rc = tfrs_vocab_create(&v, toks, 5, &o); break;
            case 1:  rc = tfrs_vocab_adapt(&v, data, 4, &o); break;
            case 2:  rc = tfrs_vocab_adapt_column(&v, ds, "s", &o); break;
            default: rc = tfrs_vocab_create(&c, toks, 5, &o);
                     if (rc == TFRS_OK) {
                         oom.fail_at = oom.calls + k;
                         rc = tfrs__vocab_clone(&v, c);
                     }
                     break;
            }
            if (rc != TFRS_OK) {
                ck_assert_int_eq(rc, TFRS_ENOMEM);
                ck_assert_ptr_null(v);
            }
            tfrs_vocab_free(v);
            tfrs_vocab_free(c);
            tu_oom_end(&oom);
            if (rc == TFRS_OK)
                break;
            ck_assert_int_lt(k, 100);
        }
    }
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(movielens_vocabularies)
{
    const char *dir = tu_movielens_dir();
    tfrs_dataset *ds = NULL;
    tfrs_vocab *v = NULL;

    if (dir == NULL) {
        fprintf(stderr, "movielens_vocabularies: skipped, MovieLens 100K not found\n");
        return;
    }
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, dir, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "user_id", NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 944);
    ck_assert_str_eq(token_of(v, 1), "1");
    ck_assert_str_eq(token_of(v, 2), "10");    /* byte order, like np.unique */
    tfrs_vocab_free(v);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "movie_id", NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 1683);
    tfrs_vocab_free(v);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "movie_title", NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_size(v), 1665);
    ck_assert_int_ge(id_of(v, "Mis\xc3\xa9rables, Les (1995)"), 1);
    tfrs_vocab_free(v);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(unknown_token_maps_to_oov),
        TU_CASE(known_tokens_follow_oov),
        TU_CASE(mask_token_is_index_zero),
        TU_CASE(fnv1a64_golden_values),
        TU_CASE(oov_buckets_use_fnv),
        TU_CASE(zero_oov_makes_unknown_an_error),
        TU_CASE(duplicates_rejected),
        TU_CASE(adapt_sorts_and_dedupes),
        TU_CASE(token_round_trip),
        TU_CASE(lookup_n_matches_lookup),
        TU_CASE(empty_vocabulary),
        TU_CASE(utf8_validation),
        TU_CASE(options_checked),
        TU_CASE(clone_is_deep),
        TU_CASE(adapt_column_from_dataset),
        TU_CASE(misuse_returns_status),
        TU_CASE(out_of_memory),
        TU_CASE(movielens_vocabularies),
    };

    return tu_run_cases("vocab", cases, TU_NELEM(cases));
}
