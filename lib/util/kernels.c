/*
 * kernels.c - matrix products and vector helpers; the only cblas.h user.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>

#include <cblas.h>

#include "util/kernels.h"

void tfrs__gemm(int tA, int tB, size_t M, size_t N, size_t K, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb,
                float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0)
        return;
    if (K == 0) {
        /* cblas leaves C untouched for K = 0 only when beta = 1; be explicit. */
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void tfrs__gemm_ref(int tA, int tB, size_t M, size_t N, size_t K, float alpha,
                    const float *A, size_t lda, const float *B, size_t ldb,
                    float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            double acc = 0.0;
            for (size_t k = 0; k < K; k++) {
                float a = tA ? A[k * lda + i] : A[i * lda + k];
                float b = tB ? B[j * ldb + k] : B[k * ldb + j];
                acc += (double)a * (double)b;
            }
            float c = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = (float)(alpha * acc) + c;
        }
    }
}

int tfrs__all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

TFRS__VECTOR_CLONES
static void axpy(float *restrict y, float a, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

void tfrs__axpy(float *y, float a, const float *x, size_t n)
{
    axpy(y, a, x, n);
}
