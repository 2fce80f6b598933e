/*
 * test-kernels.c - tfrs__gemm against its plain-C reference, tfrs__all_finite.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/kernels.h"
#include "util/rng.h"
#include "testutil.h"

/* Fills n floats with U(-1, 1) from a fixed stream. */
static void fill(float *x, size_t n, uint64_t seed)
{
    tfrs__rng r;

    tfrs__rng_seed(&r, seed, 1);
    for (size_t i = 0; i < n; i++)
        x[i] = tfrs__rng_uniform(&r, -1.0f, 1.0f);
}

/*
 * Runs tfrs__gemm and tfrs__gemm_ref on the same random operands, stored
 * with the given extra padding on every row stride, and compares C,
 * including the padding, which neither may touch.
 */
static void compare(int tA, int tB, size_t M, size_t N, size_t K, float alpha, float beta,
                    size_t pad)
{
    size_t arows = tA ? K : M, acols = tA ? M : K;
    size_t brows = tB ? N : K, bcols = tB ? K : N;
    size_t lda = acols + pad, ldb = bcols + pad, ldc = N + pad;
    float *A = malloc((arows * lda + 1) * sizeof(float));
    float *B = malloc((brows * ldb + 1) * sizeof(float));
    float *C1 = malloc((M * ldc + 1) * sizeof(float));
    float *C2 = malloc((M * ldc + 1) * sizeof(float));

    ck_assert_ptr_nonnull(A);
    ck_assert_ptr_nonnull(B);
    ck_assert_ptr_nonnull(C1);
    ck_assert_ptr_nonnull(C2);
    fill(A, arows * lda, 1 + M);
    fill(B, brows * ldb, 2 + N);
    fill(C1, M * ldc, 3 + K);
    memcpy(C2, C1, M * ldc * sizeof(float));

    tfrs__gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
    tfrs__gemm_ref(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);

    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < ldc; j++) {
            float a = C1[i * ldc + j], b = C2[i * ldc + j];
            /* |entries| <= 1, so |C| <= |alpha| K + |beta|. */
            float tol = 1e-5f * ((float)K * fabsf(alpha) + fabsf(beta) + 1.0f);
            if (j >= N)
                ck_assert_msg(a == b, "padding changed at (%zu, %zu)", i, j);
            else
                ck_assert_msg(fabsf(a - b) <= tol,
                              "tA=%d tB=%d M=%zu N=%zu K=%zu C[%zu,%zu]: blas %g ref %g",
                              tA, tB, M, N, K, i, j, (double)a, (double)b);
        }
    }
    free(A);
    free(B);
    free(C1);
    free(C2);
}

static const size_t shapes[][3] = {
    { 1, 1, 1 }, { 2, 3, 4 }, { 5, 7, 3 }, { 7, 5, 1 }, { 1, 9, 13 }, { 17, 13, 11 }, { 33, 1, 31 },
};

START_TEST(all_transposes_match_reference)
{
    for (int tA = 0; tA <= 1; tA++)
        for (int tB = 0; tB <= 1; tB++)
            for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
                compare(tA, tB, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f, 0.0f, 0);
}
END_TEST

START_TEST(alpha_and_beta_match_reference)
{
    static const float ab[][2] = { { 0.5f, 1.0f }, { -2.0f, 0.25f }, { 1.0f, 1.0f },
                                   { 0.0f, 1.5f }, { 3.0f, -1.0f } };

    for (int tA = 0; tA <= 1; tA++)
        for (int tB = 0; tB <= 1; tB++)
            for (size_t k = 0; k < sizeof(ab) / sizeof(ab[0]); k++)
                compare(tA, tB, 5, 7, 3, ab[k][0], ab[k][1], 0);
}
END_TEST

START_TEST(row_strides_are_respected)
{
    for (int tA = 0; tA <= 1; tA++)
        for (int tB = 0; tB <= 1; tB++) {
            compare(tA, tB, 5, 7, 3, 1.0f, 0.5f, 3);
            compare(tA, tB, 17, 13, 11, -0.5f, 1.0f, 1);
        }
}
END_TEST

START_TEST(beta_zero_ignores_old_c)
{
    /* With beta = 0, C's previous contents (even NaN) must not leak in. */
    float A[6] = { 1, 2, 3, 4, 5, 6 };   /* 2 x 3 */
    float B[6] = { 1, 0, 0, 1, 1, 1 };   /* 3 x 2 */
    float C[4] = { NAN, NAN, INFINITY, NAN };

    tfrs__gemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    /* [1 2 3; 4 5 6] [1 0; 0 1; 1 1] = [4 5; 10 11] */
    ck_assert_float_eq(C[0], 4.0f);
    ck_assert_float_eq(C[1], 5.0f);
    ck_assert_float_eq(C[2], 10.0f);
    ck_assert_float_eq(C[3], 11.0f);
}
END_TEST

START_TEST(empty_inner_dimension_scales_c)
{
    float C[4] = { 1, 2, 3, 4 }, D[4] = { NAN, NAN, NAN, NAN };
    float dummy = 0.0f;

    tfrs__gemm(0, 0, 2, 2, 0, 1.0f, &dummy, 1, &dummy, 2, 2.0f, C, 2);
    ck_assert_float_eq(C[0], 2.0f);
    ck_assert_float_eq(C[3], 8.0f);
    tfrs__gemm(0, 0, 2, 2, 0, 1.0f, &dummy, 1, &dummy, 2, 0.0f, D, 2);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(D[i], 0.0f);
    /* M = 0 or N = 0 writes nothing. */
    tfrs__gemm(0, 0, 0, 2, 3, 1.0f, &dummy, 3, &dummy, 2, 0.0f, NULL, 2);
    tfrs__gemm(0, 0, 2, 0, 3, 1.0f, &dummy, 3, &dummy, 1, 0.0f, NULL, 1);
}
END_TEST

START_TEST(all_finite_detects_nan_and_inf)
{
    float x[5] = { 0.0f, -1.0f, 3e38f, -3e38f, 1e-45f };

    ck_assert_int_eq(tfrs__all_finite(x, 5), 1);
    ck_assert_int_eq(tfrs__all_finite(x, 0), 1);
    x[4] = NAN;
    ck_assert_int_eq(tfrs__all_finite(x, 5), 0);
    ck_assert_int_eq(tfrs__all_finite(x, 4), 1);
    x[2] = INFINITY;
    ck_assert_int_eq(tfrs__all_finite(x, 4), 0);
    x[2] = 1.0f;
    x[0] = -INFINITY;
    ck_assert_int_eq(tfrs__all_finite(x, 1), 0);
}
END_TEST

/* axpy gives the plain loop's bits (the vector clones do no FMA), for
 * every length up to a few vectors and at odd offsets. */
START_TEST(axpy_matches_plain_loop)
{
    float x[80], y[80], want[80];
    volatile float a = 0.37f;     /* keep the compiler from folding the reference */

    for (size_t i = 0; i < 80; i++) {
        x[i] = (float)((i * 7919) % 101) / 13.0f - 3.0f;
        y[i] = (float)((i * 104729) % 97) / 7.0f - 6.0f;
    }
    for (size_t off = 0; off < 3; off++) {
        for (size_t n = 0; n + off <= 77; n += 5) {
            memcpy(want, y, sizeof(y));
            for (size_t i = 0; i < n; i++) {
                float p = a * x[off + i];
                want[off + i] = want[off + i] + p;
            }
            {
                float got[80];
                memcpy(got, y, sizeof(y));
                tfrs__axpy(got + off, a, x + off, n);
                ck_assert_mem_eq(got, want, sizeof(got));
            }
        }
    }
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        { "transposes", all_transposes_match_reference },
        { "alpha_beta", alpha_and_beta_match_reference },
        { "strides", row_strides_are_respected },
        { "beta_zero", beta_zero_ignores_old_c },
        { "empty_k", empty_inner_dimension_scales_c },
        { "all_finite", all_finite_detects_nan_and_inf },
        { "axpy", axpy_matches_plain_loop },
    };

    return tu_run_cases("kernels", cases, TU_NELEM(cases));
}
