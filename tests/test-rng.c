/*
 * test-rng.c - xoshiro256** streams: determinism, ranges, uniformity.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/rng.h"
#include "testutil.h"

START_TEST(same_seed_same_sequence)
{
    tfrs__rng a, b;

    tfrs__rng_seed(&a, 42, 3);
    tfrs__rng_seed(&b, 42, 3);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(tfrs__rng_next(&a), tfrs__rng_next(&b));
}
END_TEST

START_TEST(different_streams_and_seeds_differ)
{
    static const uint64_t pairs[][2] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 }, { 42, 2 } };
    uint64_t first[5][4];

    for (size_t k = 0; k < 5; k++) {
        tfrs__rng r;
        tfrs__rng_seed(&r, pairs[k][0], pairs[k][1]);
        for (int i = 0; i < 4; i++)
            first[k][i] = tfrs__rng_next(&r);
    }
    for (size_t a = 0; a < 5; a++)
        for (size_t b = a + 1; b < 5; b++) {
            int same = 0;
            for (int i = 0; i < 4; i++)
                same += first[a][i] == first[b][i];
            ck_assert_msg(same == 0, "streams %zu and %zu share outputs", a, b);
        }
}
END_TEST

START_TEST(below_stays_in_range)
{
    static const uint64_t ns[] = { 1, 2, 3, 7, 10, 1000, 1ull << 32, (1ull << 63) + 1,
                                   UINT64_MAX };
    tfrs__rng r;

    tfrs__rng_seed(&r, 7, 0);
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++)
        for (int i = 0; i < 2000; i++)
            ck_assert_uint_lt(tfrs__rng_below(&r, ns[k]), ns[k]);
}
END_TEST

START_TEST(below_is_roughly_uniform)
{
    /* Chi-square of 100000 draws over 10 cells: 9 degrees of freedom, whose
     * 99.9 % quantile is 27.9.  The stream is fixed, so this is deterministic. */
    enum { CELLS = 10, DRAWS = 100000 };
    size_t count[CELLS] = { 0 };
    double expected = (double)DRAWS / CELLS, chi2 = 0.0;
    tfrs__rng r;

    tfrs__rng_seed(&r, 123, 0);
    for (int i = 0; i < DRAWS; i++)
        count[tfrs__rng_below(&r, CELLS)]++;
    for (int c = 0; c < CELLS; c++) {
        double d = (double)count[c] - expected;
        chi2 += d * d / expected;
    }
    ck_assert_msg(chi2 < 27.9, "chi-square %g", chi2);
}
END_TEST

START_TEST(permutation_is_a_permutation)
{
    static const size_t ns[] = { 0, 1, 2, 5, 1000 };
    tfrs__rng r;

    tfrs__rng_seed(&r, 5, 9);
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        size_t n = ns[k], fixed = 0;
        uint32_t *perm = malloc((n + 1) * sizeof(uint32_t));
        unsigned char *seen = calloc(n + 1, 1);

        ck_assert_ptr_nonnull(perm);
        ck_assert_ptr_nonnull(seen);
        tfrs__rng_permutation(&r, perm, n);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_lt(perm[i], n);
            ck_assert_int_eq(seen[perm[i]], 0);
            seen[perm[i]] = 1;
            fixed += perm[i] == i;
        }
        if (n == 1000)
            ck_assert_uint_lt(fixed, 20);   /* expected about 1 fixed point */
        free(perm);
        free(seen);
    }
}
END_TEST

START_TEST(permutation_is_deterministic)
{
    uint32_t a[100], b[100];
    tfrs__rng r;

    tfrs__rng_seed(&r, 11, 4);
    tfrs__rng_permutation(&r, a, 100);
    tfrs__rng_seed(&r, 11, 4);
    tfrs__rng_permutation(&r, b, 100);
    ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
}
END_TEST

/* The permutation drawn ahead of its swaps is the textbook one: for
 * i = n-1 .. 1, swap(i, below(i+1)), with the draws in that order, and the
 * generator left in the same state (fit's epoch orders, and the model
 * files trained with them, depend on it). */
START_TEST(permutation_is_fisher_yates)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 31, 32, 33, 34, 63, 64, 65, 100, 1000, 100003 };
    uint32_t *a = malloc(100003 * sizeof(*a)), *b = malloc(100003 * sizeof(*b));

    ck_assert(a != NULL && b != NULL);
    for (size_t t = 0; t < TU_NELEM(sizes); t++) {
        size_t n = sizes[t];
        tfrs__rng r1, r2;
        tfrs__rng_seed(&r1, 42, t + 1);
        r2 = r1;
        tfrs__rng_permutation(&r1, a, n);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint32_t)i;
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)tfrs__rng_below(&r2, i);
            uint32_t x = b[i - 1];
            b[i - 1] = b[j];
            b[j] = x;
        }
        ck_assert_msg(n == 0 || memcmp(a, b, n * sizeof(*a)) == 0, "n = %zu", n);
        ck_assert_uint_eq(tfrs__rng_next(&r1), tfrs__rng_next(&r2));
    }
    free(a);
    free(b);
}
END_TEST

START_TEST(float_in_unit_interval)
{
    double sum = 0.0;
    tfrs__rng r;

    tfrs__rng_seed(&r, 99, 0);
    for (int i = 0; i < 100000; i++) {
        float f = tfrs__rng_float(&r);
        ck_assert(f >= 0.0f && f < 1.0f);
        /* 24 random bits: f * 2^24 is an integer. */
        ck_assert_float_eq(f * 16777216.0f, (float)(uint32_t)(f * 16777216.0f));
        sum += f;
    }
    ck_assert_double_eq_tol(sum / 100000.0, 0.5, 0.01);
}
END_TEST

START_TEST(uniform_in_range)
{
    tfrs__rng r;

    tfrs__rng_seed(&r, 3, 0);
    for (int i = 0; i < 10000; i++) {
        float u = tfrs__rng_uniform(&r, -0.05f, 0.05f);
        ck_assert(u >= -0.05f && u <= 0.05f);
    }
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        { "determinism", same_seed_same_sequence },
        { "streams", different_streams_and_seeds_differ },
        { "below_range", below_stays_in_range },
        { "below_uniform", below_is_roughly_uniform },
        { "permutation", permutation_is_a_permutation },
        { "permutation_determinism", permutation_is_deterministic },
        { "permutation_fisher_yates", permutation_is_fisher_yates },
        { "float", float_in_unit_interval },
        { "uniform", uniform_in_range },
    };

    return tu_run_cases("rng", cases, TU_NELEM(cases));
}
