/*
 * util/kernels.h - dense linear algebra (the only cblas user).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_KERNELS_H
#define TFRS_UTIL_KERNELS_H

#include "util/common.h"

/* C = alpha op(A) op(B) + beta C, row-major; op(X) = X or X^T when tX != 0.
 * op(A): M x K, op(B): K x N, C: M x N; lda/ldb/ldc are row strides.
 * Goes through cblas_sgemm. */
void tfrs__gemm(int tA, int tB, size_t M, size_t N, size_t K, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb,
                float beta, float *C, size_t ldc);
/* Plain-C reference of tfrs__gemm (tests compare the two). */
void tfrs__gemm_ref(int tA, int tB, size_t M, size_t N, size_t K, float alpha,
                    const float *A, size_t lda, const float *B, size_t ldb,
                    float beta, float *C, size_t ldc);
/* y += a x over n floats, elementwise in index order (no FMA contraction:
 * the same bits on every machine as the plain loop). */
void tfrs__axpy(float *y, float a, const float *x, size_t n);
/* 1 if all n values are finite. */
int  tfrs__all_finite(const float *x, size_t n);

#endif /* TFRS_UTIL_KERNELS_H */
