/*
 * test-strtab.c - the string table of util/strtab.h: ids in insertion
 * order, find, growth, probing past collisions, reserve, clone, failure
 * atomicity.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "util/strtab.h"
#include "testutil.h"
#include "tfrsc.h"

static tu_alloc oom = TU_ALLOC_INIT;

/* The i-th test string (distinct for distinct i). */
static size_t key(char *buf, size_t cap, size_t i)
{
    return (size_t)snprintf(buf, cap, "key-%zu-%s", i, i % 3 == 0 ? "a longer tail string" : "");
}

static uint32_t intern_ok(tfrs__strtab *t, const char *s, size_t n)
{
    uint32_t id = 12345;

    ck_assert_int_eq(tfrs__strtab_intern(t, s, n, &id), TFRS_OK);
    return id;
}

/* Invariants: power-of-two slots at most half full, every id in one slot,
 * offsets and NULs consistent. */
static void check_table(const tfrs__strtab *t)
{
    size_t used = 0;

    if (t->nslots == 0) {
        ck_assert_uint_eq(t->n, 0);
        return;
    }
    ck_assert_uint_eq(t->nslots & (t->nslots - 1), 0);
    ck_assert_uint_le(2 * (size_t)t->n, t->nslots);
    for (size_t j = 0; j < t->nslots; j++)
        used += t->slots[j] != 0;
    ck_assert_uint_eq(used, t->n);
    ck_assert_uint_eq(t->offs[0], 0);
    for (uint32_t id = 0; id < t->n; id++) {
        size_t len;
        const char *s = tfrs__strtab_at(t, id, &len);
        ck_assert_int_eq(s[len], '\0');
        ck_assert_uint_eq(t->offs[id + 1], t->offs[id] + len + 1);
        ck_assert_uint_eq(t->hashes[id], tfrs__strtab_hash(t, s, len));
        ck_assert_uint_eq(tfrs__strtab_find(t, s, len), id);
    }
    ck_assert_uint_eq(t->offs[t->n], t->len);
}

START_TEST(ids_in_insertion_order)
{
    tfrs__strtab t;
    size_t len;

    tfrs__strtab_init(&t);
    ck_assert_uint_eq(tfrs__strtab_count(&t), 0);
    ck_assert_uint_eq(tfrs__strtab_find(&t, "x", 1), TFRS__STRTAB_NONE);
    ck_assert_uint_eq(intern_ok(&t, "bob", 3), 0);
    ck_assert_uint_eq(intern_ok(&t, "alice", 5), 1);
    ck_assert_uint_eq(intern_ok(&t, "bob", 3), 0);          /* again: same id */
    ck_assert_uint_eq(intern_ok(&t, "", 0), 2);             /* the empty string */
    ck_assert_uint_eq(intern_ok(&t, "alicex", 5), 1);       /* only n bytes count */
    ck_assert_uint_eq(intern_ok(&t, "a\0b", 3), 3);         /* bytes, not C strings */
    ck_assert_uint_eq(intern_ok(&t, "a", 1), 4);
    ck_assert_uint_eq(tfrs__strtab_count(&t), 5);
    ck_assert_str_eq(tfrs__strtab_at(&t, 1, &len), "alice");
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(tfrs__strtab_at(&t, 2, &len), "");
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(memcmp(tfrs__strtab_at(&t, 3, &len), "a\0b", 4), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert_uint_eq(tfrs__strtab_find(&t, "ali", 3), TFRS__STRTAB_NONE);
    ck_assert_uint_eq(tfrs__strtab_find(&t, "a\0c", 3), TFRS__STRTAB_NONE);
    check_table(&t);
    tfrs__strtab_free(&t);
    ck_assert_uint_eq(tfrs__strtab_count(&t), 0);
    ck_assert_ptr_null(t.slots);
    tfrs__strtab_free(&t);                                  /* twice is fine */
}
END_TEST

START_TEST(grows_and_probes_past_collisions)
{
    enum { N = 20000 };
    tfrs__strtab t;
    char buf[64];
    size_t collided = 0;

    tfrs__strtab_init(&t);
    for (size_t i = 0; i < N; i++) {
        size_t n = key(buf, sizeof(buf), i), before = t.nslots;
        ck_assert_uint_eq(intern_ok(&t, buf, n), i);
        /* The table doubles as it fills past half. */
        ck_assert(t.nslots == before || before == 0 || t.nslots == 2 * before);
        ck_assert_uint_le(2 * (size_t)t.n, t.nslots);
    }
    check_table(&t);
    /* Many strings share a home slot, so lookups must probe past others. */
    for (uint32_t id = 0; id < t.n; id++) {
        size_t len;
        const char *s = tfrs__strtab_at(&t, id, &len);
        size_t home = tfrs__slot_of(t.hashes[id], t.nslots - 1);
        collided += t.slots[home] != id + 1;
        (void)s;
    }
    ck_assert_uint_gt(collided, 100);
    for (size_t i = 0; i < N; i++) {
        size_t n = key(buf, sizeof(buf), i);
        ck_assert_uint_eq(tfrs__strtab_find(&t, buf, n), i);
        ck_assert_uint_eq(intern_ok(&t, buf, n), i);
        buf[n - 1] ^= 0x40;                                 /* absent neighbours */
        ck_assert_uint_eq(tfrs__strtab_find(&t, buf, n), TFRS__STRTAB_NONE);
    }
    ck_assert_uint_eq(t.n, N);
    tfrs__strtab_free(&t);
}
END_TEST

START_TEST(reserve_then_no_allocation)
{
    tfrs__strtab t;
    char buf[64];
    size_t total = 0;

    tfrs__strtab_init(&t);
    for (size_t i = 0; i < 100; i++)
        total += key(buf, sizeof(buf), i);
    tu_oom_begin(&oom, -1);
    ck_assert_int_eq(tfrs__strtab_reserve(&t, 100, total), TFRS_OK);
    tu_alloc_arm(&oom, 0, 1);                               /* every allocation fails */
    for (size_t i = 0; i < 100; i++) {
        size_t n = key(buf, sizeof(buf), i);
        ck_assert_uint_eq(intern_ok(&t, buf, n), i);
    }
    ck_assert_int_eq(oom.injected, 0);
    tu_alloc_arm(&oom, -1, 0);
    tfrs__strtab_free(&t);
    tu_oom_end(&oom);
    /* Too many strings. */
    tfrs__strtab_init(&t);
    ck_assert_int_eq(tfrs__strtab_reserve(&t, TFRS__STRTAB_MAX + 1, 0), TFRS_ERANGE);
    ck_assert_int_eq(tfrs__strtab_reserve(&t, 1, SIZE_MAX), TFRS_ENOMEM);
    tfrs__strtab_free(&t);
}
END_TEST

START_TEST(failed_intern_changes_nothing)
{
    char buf[64];
    int done = 0;

    for (long k = 0; !done; k++) {
        tfrs__strtab t;
        size_t i = 0;
        int rc = TFRS_OK;

        tfrs__strtab_init(&t);
        tu_oom_begin(&oom, k);
        for (; i < 200; i++) {
            size_t n = key(buf, sizeof(buf), i);
            uint32_t id;
            rc = tfrs__strtab_intern(&t, buf, n, &id);
            if (rc != TFRS_OK)
                break;
            ck_assert_uint_eq(id, i);
        }
        if (rc == TFRS_OK) {
            done = 1;
        } else {
            ck_assert_int_eq(rc, TFRS_ENOMEM);
            ck_assert_uint_eq(t.n, i);                      /* nothing half-added */
            tu_alloc_arm(&oom, -1, 0);
            check_table(&t);
            for (size_t j = i; j < i + 3; j++) {            /* and it still works */
                size_t n = key(buf, sizeof(buf), j);
                ck_assert_uint_eq(intern_ok(&t, buf, n), j);
            }
        }
        tfrs__strtab_free(&t);
        tu_oom_end(&oom);
    }
}
END_TEST

START_TEST(clone_and_intern_from)
{
    tfrs__strtab a, b, c;
    char buf[64];
    uint32_t id;

    tfrs__strtab_init(&a);
    ck_assert_int_eq(tfrs__strtab_clone(&b, &a), TFRS_OK);  /* empty */
    ck_assert_uint_eq(tfrs__strtab_count(&b), 0);
    ck_assert_uint_eq(tfrs__strtab_find(&b, "x", 1), TFRS__STRTAB_NONE);
    ck_assert_uint_eq(intern_ok(&b, "x", 1), 0);
    tfrs__strtab_free(&b);

    for (size_t i = 0; i < 50; i++) {
        size_t n = key(buf, sizeof(buf), i);
        intern_ok(&a, buf, n);
    }
    ck_assert_int_eq(tfrs__strtab_clone(&b, &a), TFRS_OK);
    ck_assert_ptr_ne(b.bytes, a.bytes);
    check_table(&b);
    ck_assert_uint_eq(intern_ok(&b, "new", 3), 50);         /* a clone grows */
    ck_assert_uint_eq(tfrs__strtab_find(&a, "new", 3), TFRS__STRTAB_NONE);

    /* Re-interning in another order gives ids in order of first use, with
     * the hash reused or (another seed) recomputed. */
    for (int seed = 0; seed < 2; seed++) {
        tfrs__strtab_init(&c);
        c.seed = (uint64_t)seed * 0x1234567ull;
        for (uint32_t k = 0; k < 50; k++) {
            ck_assert_int_eq(tfrs__strtab_intern_from(&c, &a, 49 - k, &id), TFRS_OK);
            ck_assert_uint_eq(id, k);
        }
        ck_assert_int_eq(tfrs__strtab_intern_from(&c, &a, 0, &id), TFRS_OK);
        ck_assert_uint_eq(id, 49);
        check_table(&c);
        tfrs__strtab_free(&c);
    }
    tfrs__strtab_free(&a);
    tfrs__strtab_free(&b);
}
END_TEST

START_TEST(hash_is_seeded_and_stable)
{
    tfrs__strtab t, u;

    tfrs__strtab_init(&t);
    tfrs__strtab_init(&u);
    u.seed = 42;
    ck_assert_uint_eq(tfrs__strtab_hash(&t, "movie", 5), tfrs__strtab_hash(&t, "movie", 5));
    ck_assert_uint_ne(tfrs__strtab_hash(&t, "movie", 5), tfrs__strtab_hash(&u, "movie", 5));
    ck_assert_uint_ne(tfrs__strtab_hash(&t, "movie", 5), tfrs__strtab_hash(&t, "movie ", 6));
    /* Lengths take part: trailing zero bytes change the hash. */
    ck_assert_uint_ne(tfrs__strtab_hash(&t, "ab\0", 3), tfrs__strtab_hash(&t, "ab", 2));
    ck_assert_uint_ne(tfrs__strtab_hash(&t, "12345678\0", 9), tfrs__strtab_hash(&t, "12345678", 8));
}
END_TEST

/* The published SipHash-2-4 test vectors (key 00 01 .. 0f; messages 00 01
 * .. of length 0, 1 and 15: the paper's appendix example), through the
 * same code that computes the table hash with 1 and 3 rounds. */
START_TEST(siphash_reference_vectors)
{
    const uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
    unsigned char msg[15];

    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    ck_assert_uint_eq(tfrs__siphash(k0, k1, msg, 0, 2, 4), 0x726fdb47dd0e0e31ull);
    ck_assert_uint_eq(tfrs__siphash(k0, k1, msg, 1, 2, 4), 0x74f839c593dc67fdull);
    ck_assert_uint_eq(tfrs__siphash(k0, k1, msg, 15, 2, 4), 0xa129ca6149be45e5ull);
    /* The inline one-block form for 4-byte ids is the same function. */
    for (uint32_t v = 0; v < 100000; v += 997) {
        const uint64_t key[2] = { k0 ^ v, k1 + v };
        unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                               (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
        ck_assert_uint_eq(tfrs__keyed_hash_u32(key, v), tfrs__siphash(key[0], key[1], b, 4, 1, 3));
    }
    {
        uint64_t key[2];
        unsigned char b[4] = { 0x2a, 0, 0, 0 };
        tfrs__keyed_hash_key(77, key);
        ck_assert_uint_eq(tfrs__keyed_hash_u32(key, 42), tfrs__keyed_hash(77, b, 4));
    }
    /* 1-3 is another function of the same key. */
    ck_assert_uint_ne(tfrs__siphash(k0, k1, msg, 15, 1, 3), 0xa129ca6149be45e5ull);
}
END_TEST

/* Every table gets its own key, drawn at init; ids depend on insertion
 * order only, never on the key. */
START_TEST(tables_get_their_own_keys)
{
    tfrs__strtab t[4];
    char buf[64];

    for (int k = 0; k < 4; k++)
        tfrs__strtab_init(&t[k]);
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++) {
            ck_assert_uint_ne(t[a].seed, t[b].seed);
            ck_assert_uint_ne(tfrs__strtab_hash(&t[a], "movie", 5),
                              tfrs__strtab_hash(&t[b], "movie", 5));
        }
    /* The table hash is the keyed hash under the table's seed, and that
     * is keyed by more than the seed: seed 0 is not unkeyed SipHash. */
    ck_assert_uint_eq(tfrs__strtab_hash(&t[0], "movie", 5), tfrs__keyed_hash(t[0].seed, "movie", 5));
    ck_assert_uint_ne(tfrs__keyed_hash(0, "movie", 5), tfrs__siphash(0, 0, "movie", 5, 1, 3));
    for (size_t i = 0; i < 2000; i++) {
        size_t n = key(buf, sizeof(buf), i);
        for (int k = 0; k < 4; k++)
            ck_assert_uint_eq(intern_ok(&t[k], buf, n), i);
    }
    for (int k = 0; k < 4; k++) {
        check_table(&t[k]);
        tfrs__strtab_free(&t[k]);
    }
    /* Freeing keeps the key; a clone shares it (and its hashes). */
    tfrs__strtab_init(&t[0]);
    {
        uint64_t seed = t[0].seed;
        intern_ok(&t[0], "x", 1);
        ck_assert_int_eq(tfrs__strtab_clone(&t[1], &t[0]), TFRS_OK);
        ck_assert_uint_eq(t[1].seed, seed);
        tfrs__strtab_free(&t[0]);
        ck_assert_uint_eq(t[0].seed, seed);
        tfrs__strtab_free(&t[1]);
    }
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(ids_in_insertion_order),
        TU_CASE(grows_and_probes_past_collisions),
        TU_CASE(reserve_then_no_allocation),
        TU_CASE(failed_intern_changes_nothing),
        TU_CASE(clone_and_intern_from),
        TU_CASE(hash_is_seeded_and_stable),
        TU_CASE(siphash_reference_vectors),
        TU_CASE(tables_get_their_own_keys),
    };

    return tu_run_cases("strtab", cases, TU_NELEM(cases));
}
