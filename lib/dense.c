/*
 * dense.c - fully connected layer y = act(x W + b) and its backward pass.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * W is [in, out] row-major, the Keras kernel layout, so that weights can be
 * exchanged with Keras without transposing.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "util/alloc.h"
#include "util/kernels.h"
#include "util/rng.h"
#include "util/status.h"
#include "dense.h"

int tfrs__act_valid(int act)
{
    return act == TFRS_ACT_LINEAR || act == TFRS_ACT_RELU || act == TFRS_ACT_SIGMOID;
}

/* Sigmoid without overflow: exp() only ever sees a non-positive argument. */
static float sigmoidf(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* y[i, :] = act(y[i, :] + b) for B rows of n: bias and activation in one
 * pass over the gemm's output, while it is still in cache. */
static void bias_act_forward(tfrs_activation act, const float *b, float *y, size_t B, size_t n)
{
    for (size_t i = 0; i < B; i++) {
        float *row = y + i * n;
        switch (act) {
        case TFRS_ACT_RELU:
            for (size_t j = 0; j < n; j++) {
                float v = row[j] + b[j];
                row[j] = v > 0.0f ? v : 0.0f;   /* NaN stays NaN */
            }
            break;
        case TFRS_ACT_SIGMOID:
            for (size_t j = 0; j < n; j++)
                row[j] = sigmoidf(row[j] + b[j]);
            break;
        case TFRS_ACT_LINEAR:
            for (size_t j = 0; j < n; j++)
                row[j] += b[j];
            break;
        }
    }
}

void tfrs__act_apply(tfrs_activation act, float *y, size_t n)
{
    switch (act) {
    case TFRS_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case TFRS_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = sigmoidf(y[i]);
        break;
    case TFRS_ACT_LINEAR:
        break;
    }
}

/* dy = act'(.) * dy, with the derivative expressed through the output y,
 * and db += the column sums of the new dy, in one pass. */
void tfrs__act_backward_db(tfrs_activation act, const float *y, float *dy, float *db,
                            size_t B, size_t n)
{
    for (size_t i = 0; i < B; i++) {
        const float *yr = y + i * n;
        float *dr = dy + i * n;
        switch (act) {
        case TFRS_ACT_RELU:
            for (size_t j = 0; j < n; j++) {
                float g = yr[j] > 0.0f ? dr[j] : 0.0f;
                dr[j] = g;
                db[j] += g;
            }
            break;
        case TFRS_ACT_SIGMOID:
            for (size_t j = 0; j < n; j++) {
                float g = dr[j] * yr[j] * (1.0f - yr[j]);
                dr[j] = g;
                db[j] += g;
            }
            break;
        case TFRS_ACT_LINEAR:
            for (size_t j = 0; j < n; j++)
                db[j] += dr[j];
            break;
        }
    }
}

int tfrs__dense_alloc(tfrs_dense **out, size_t in, size_t units, tfrs_activation act)
{
    tfrs_dense *d;
    size_t n;

    *out = NULL;
    if (in == 0 || units == 0)
        return tfrs__fail(TFRS_EINVAL, "dense: in and units must be > 0");
    if (!tfrs__act_valid((int)act))
        return tfrs__fail(TFRS_EINVAL, "dense: unknown activation %d", (int)act);
    /* BLAS takes int sizes and strides. */
    if (in > INT_MAX || units > INT_MAX || tfrs__mul(in, units, &n) < 0 ||
        n > SIZE_MAX / sizeof(float))
        return tfrs__fail(TFRS_EINVAL, "dense: %zu x %zu is too large", in, units);
    d = tfrs__calloc(1, sizeof(*d));
    if (d == NULL)
        goto fail;
    d->in = in;
    d->out = units;
    d->act = act;
    /* The kernel first: a size the system cannot give fails before
     * anything else is allocated. */
    d->w = tfrs__calloc(n, sizeof(float));
    d->dw = d->w == NULL ? NULL : tfrs__calloc(n, sizeof(float));
    d->b = d->dw == NULL ? NULL : tfrs__calloc(units, sizeof(float));
    d->db = d->b == NULL ? NULL : tfrs__calloc(units, sizeof(float));
    if (d->w == NULL || d->b == NULL || d->dw == NULL || d->db == NULL)
        goto fail;
    *out = d;
    return TFRS_OK;
fail:
    tfrs_dense_free(d);
    return tfrs__fail(TFRS_ENOMEM, "dense: out of memory (%zu x %zu)", in, units);
}

/* Keras GlorotUniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)). */
void tfrs__dense_init(tfrs_dense *d, tfrs__rng *r)
{
    float limit = (float)sqrt(6.0 / ((double)d->in + (double)d->out));
    size_t n = d->in * d->out;

    for (size_t i = 0; i < n; i++)
        d->w[i] = tfrs__rng_uniform(r, -limit, limit);
    memset(d->b, 0, d->out * sizeof(float));
}

/* y = act(x W + b)    x:[B,in]  W:[in,out]  b:[out]  y:[B,out] */
void tfrs__dense_forward(const tfrs_dense *d, const float *x, size_t B, float *y)
{
    tfrs__gemm(0, 0, B, d->out, d->in, 1.0f, x, d->in, d->w, d->out, 0.0f, y, d->out);
    bias_act_forward(d->act, d->b, y, B, d->out);
}

/* dy:[B,out] is rewritten in place as act'(y) * dy; dW and db are added
 * into dw and db; dx (may be NULL) is overwritten. */
void tfrs__dense_backward_to(const tfrs_dense *d, const float *x, const float *y, float *dy,
                             size_t B, float *dx, float *dw, float *db)
{
    tfrs__act_backward_db(d->act, y, dy, db, B, d->out);
    /* dW += x^T dy    [in,B] [B,out] */
    tfrs__gemm(1, 0, d->in, d->out, B, 1.0f, x, d->in, dy, d->out, 1.0f, dw, d->out);
    /* dx = dy W^T    [B,out] [out,in] */
    if (dx != NULL)
        tfrs__gemm(0, 1, B, d->in, d->out, 1.0f, dy, d->out, d->w, d->out, 0.0f, dx, d->in);
}

void tfrs__dense_backward(tfrs_dense *d, const float *x, const float *y, float *dy,
                          size_t B, float *dx)
{
    tfrs__dense_backward_to(d, x, y, dy, B, dx, d->dw, d->db);
}

int tfrs_dense_create(tfrs_dense **out, size_t in, size_t units, tfrs_activation act,
                      uint64_t seed)
{
    tfrs__rng r;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dense_create: out is NULL");
    rc = tfrs__dense_alloc(out, in, units, act);
    if (rc < 0)
        return rc;
    tfrs__rng_seed(&r, seed, 0);
    tfrs__dense_init(*out, &r);
    return TFRS_OK;
}

void tfrs_dense_free(tfrs_dense *dense)
{
    if (dense == NULL)
        return;
    tfrs__free(dense->w);
    tfrs__free(dense->b);
    tfrs__free(dense->dw);
    tfrs__free(dense->db);
    tfrs__free(dense->scratch);
    tfrs__free(dense);
}

size_t tfrs_dense_in(const tfrs_dense *dense)
{
    return dense == NULL ? 0 : dense->in;
}

size_t tfrs_dense_units(const tfrs_dense *dense)
{
    return dense == NULL ? 0 : dense->out;
}

tfrs_activation tfrs_dense_activation(const tfrs_dense *dense)
{
    return dense == NULL ? TFRS_ACT_LINEAR : dense->act;
}

const float *tfrs_dense_kernel(const tfrs_dense *dense)
{
    return dense == NULL ? NULL : dense->w;
}

const float *tfrs_dense_bias(const tfrs_dense *dense)
{
    return dense == NULL ? NULL : dense->b;
}

int tfrs_dense_set_weights(tfrs_dense *dense, const float *kernel, const float *bias)
{
    if (dense == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dense_set_weights: dense is NULL");
    if (kernel != NULL)
        memcpy(dense->w, kernel, dense->in * dense->out * sizeof(float));
    if (bias != NULL)
        memcpy(dense->b, bias, dense->out * sizeof(float));
    return TFRS_OK;
}

/* Checks a batch size against BLAS' int limits; *ny = batch * units. */
static int check_batch(const tfrs_dense *d, size_t batch, size_t *ny, const char *who)
{
    size_t nx;

    if (batch == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: batch must be > 0", who);
    if (batch > INT_MAX || tfrs__mul(batch, d->out, ny) < 0 ||
        tfrs__mul(batch, d->in, &nx) < 0 || *ny > SIZE_MAX / sizeof(float))
        return tfrs__fail(TFRS_EINVAL, "%s: batch %zu is too large", who, batch);
    return TFRS_OK;
}

int tfrs_dense_forward(const tfrs_dense *dense, const float *x, size_t batch, float *y)
{
    size_t ny;
    int rc;

    if (dense == NULL || x == NULL || y == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dense_forward: NULL argument");
    rc = check_batch(dense, batch, &ny, "tfrs_dense_forward");
    if (rc < 0)
        return rc;
    tfrs__dense_forward(dense, x, batch, y);
    return TFRS_OK;
}

int tfrs_dense_backward(tfrs_dense *dense, const float *x, const float *y, const float *dy,
                        size_t batch, float *dx)
{
    size_t ny;
    int rc;

    if (dense == NULL || x == NULL || y == NULL || dy == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dense_backward: NULL argument");
    rc = check_batch(dense, batch, &ny, "tfrs_dense_backward");
    if (rc < 0)
        return rc;
    /* The internal backward rewrites dy; work on a copy of the caller's. */
    if (TFRS__GROW(dense->scratch, dense->scratch_cap, ny) < 0)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_dense_backward: out of memory (batch %zu)", batch);
    memcpy(dense->scratch, dy, ny * sizeof(float));
    tfrs__dense_backward(dense, x, y, dense->scratch, batch, dx);
    return TFRS_OK;
}

int tfrs_dense_grad(const tfrs_dense *dense, const float **dkernel, const float **dbias)
{
    if (dense == NULL || dkernel == NULL || dbias == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dense_grad: NULL argument");
    *dkernel = dense->dw;
    *dbias = dense->db;
    return TFRS_OK;
}

void tfrs_dense_zero_grad(tfrs_dense *dense)
{
    if (dense == NULL)
        return;
    memset(dense->dw, 0, dense->in * dense->out * sizeof(float));
    memset(dense->db, 0, dense->out * sizeof(float));
}
