/*
 * cross.c - the DCN-v2 cross layer y = x0 * (x W + b) + x, full or low
 * rank, and its backward pass (see cross.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "util/alloc.h"
#include "util/kernels.h"
#include "util/rng.h"
#include "util/status.h"
#include "cross.h"

int tfrs__cross_alloc(tfrs__cross **out, size_t dim, size_t rank)
{
    tfrs__cross *c;
    size_t nw;

    *out = NULL;
    if (dim == 0 || (rank != 0 && rank >= dim))
        return tfrs__fail(TFRS_EINVAL, "cross: dimension %zu with rank %zu (needs 0 <= rank < "
                          "dimension)", dim, rank);
    if (dim > INT_MAX || tfrs__mul(dim, rank == 0 ? dim : rank, &nw) < 0 ||
        nw > SIZE_MAX / sizeof(float))
        return tfrs__fail(TFRS_EINVAL, "cross: dimension %zu is too large", dim);
    c = tfrs__calloc(1, sizeof(*c));
    if (c == NULL)
        goto fail;
    c->dim = dim;
    c->rank = rank;
    c->w = tfrs__calloc(nw, sizeof(float));
    c->dw = c->w == NULL ? NULL : tfrs__calloc(nw, sizeof(float));
    if (c->dw == NULL)
        goto fail;
    if (rank != 0) {
        c->v = tfrs__calloc(nw, sizeof(float));
        c->dv = c->v == NULL ? NULL : tfrs__calloc(nw, sizeof(float));
        if (c->dv == NULL)
            goto fail;
    }
    c->b = tfrs__calloc(dim, sizeof(float));
    c->db = c->b == NULL ? NULL : tfrs__calloc(dim, sizeof(float));
    if (c->db == NULL)
        goto fail;
    *out = c;
    return TFRS_OK;
fail:
    tfrs__cross_free(c);
    return tfrs__fail(TFRS_ENOMEM, "cross: out of memory (dimension %zu, rank %zu)", dim, rank);
}

void tfrs__cross_free(tfrs__cross *c)
{
    if (c == NULL)
        return;
    tfrs__free(c->w);
    tfrs__free(c->dw);
    tfrs__free(c->v);
    tfrs__free(c->dv);
    tfrs__free(c->b);
    tfrs__free(c->db);
    tfrs__free(c);
}

/* One standard normal value: Box-Muller on two uniforms of 53 bits, the
 * first in (0, 1] so that its logarithm is finite; the sine half of the
 * pair is not used, so each value costs two draws. */
static double std_normal(tfrs__rng *r)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = ((double)(tfrs__rng_next(r) >> 11) + 1.0) * 0x1p-53;
    double u2 = (double)(tfrs__rng_next(r) >> 11) * 0x1p-53;

    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

void tfrs__cross_init_kernel(float *w, size_t n, tfrs__rng *r)
{
    for (size_t i = 0; i < n; i++) {
        double z;
        do
            z = std_normal(r);
        while (z > 2.0 || z < -2.0);
        w[i] = (float)(0.05 * z);
    }
}


void tfrs__cross_forward(const tfrs__cross *c, const float *x0, const float *x, size_t B,
                         float *aux, float *y)
{
    size_t D = c->dim, r = c->rank, A = D + r;
    float *t = aux;

    /* aux rows: t [D] | h [r]; the gemms write with row stride A. */
    if (r == 0) {
        tfrs__gemm(0, 0, B, D, D, 1.0f, x, D, c->w, D, 0.0f, t, A);
    } else {
        tfrs__gemm(0, 0, B, r, D, 1.0f, x, D, c->w, r, 0.0f, aux + D, A);
        tfrs__gemm(0, 0, B, D, r, 1.0f, aux + D, A, c->v, D, 0.0f, t, A);
    }
    for (size_t i = 0; i < B; i++) {
        float *ti = t + i * A, *yi = y + i * D;
        const float *x0i = x0 + i * D, *xi = x + i * D;
        for (size_t k = 0; k < D; k++) {
            ti[k] += c->b[k];
            yi[k] = x0i[k] * ti[k] + xi[k];
        }
    }
}

void tfrs__cross_backward(const tfrs__cross *c, const float *x0, const float *x,
                          const float *aux, const float *dy, size_t B, float *tmp,
                          float *dx0, int acc_dx0, float *dx, int acc_dx, float *dw, float *dv,
                          float *db)
{
    size_t D = c->dim, r = c->rank, A = D + r;
    float *dt = tmp, *dh = tmp + D;   /* rows of A floats, as aux */
    float beta;

    /* dt = dy * x0 (d y / d t), db += its column sums; dx0 (+)= dy * t. */
    for (size_t i = 0; i < B; i++) {
        const float *dyi = dy + i * D, *x0i = x0 + i * D, *ti = aux + i * A;
        float *dti = dt + i * A, *dx0i = dx0 + i * D;
        for (size_t k = 0; k < D; k++) {
            dti[k] = dyi[k] * x0i[k];
            db[k] += dti[k];
        }
        if (acc_dx0)
            for (size_t k = 0; k < D; k++)
                dx0i[k] += dyi[k] * ti[k];
        else
            for (size_t k = 0; k < D; k++)
                dx0i[k] = dyi[k] * ti[k];
    }
    beta = acc_dx || dx == dx0 ? 1.0f : 0.0f;
    if (r == 0) {
        /* dW += x^T dt;  dx (+)= dt W^T */
        tfrs__gemm(1, 0, D, D, B, 1.0f, x, D, dt, A, 1.0f, dw, D);
        tfrs__gemm(0, 1, B, D, D, 1.0f, dt, A, c->w, D, beta, dx, D);
    } else {
        const float *h = aux + D;
        /* dV += h^T dt;  dh = dt V^T;  dU += x^T dh;  dx (+)= dh U^T */
        tfrs__gemm(1, 0, r, D, B, 1.0f, h, A, dt, A, 1.0f, dv, D);
        tfrs__gemm(0, 1, B, r, D, 1.0f, dt, A, c->v, D, 0.0f, dh, A);
        tfrs__gemm(1, 0, D, r, B, 1.0f, x, D, dh, A, 1.0f, dw, r);
        tfrs__gemm(0, 1, B, D, r, 1.0f, dh, A, c->w, r, beta, dx, D);
    }
    /* the identity path: d y / d x includes dy itself */
    for (size_t i = 0; i < B * D; i++)
        dx[i] += dy[i];
}
