/*
 * dense.h - dense layers and activations (private part).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_DENSE_H
#define TFRS_DENSE_H

#include "util/common.h"
#include "util/rng.h"

struct tfrs_dense {
    size_t          in, out;
    tfrs_activation act;
    float          *w, *b;     /* in * out, out                             */
    float          *dw, *db;   /* gradients, same shapes                    */
    float          *scratch;   /* public backward's copy of dy              */
    size_t          scratch_cap;
};

int  tfrs__dense_alloc(tfrs_dense **out, size_t in, size_t units, tfrs_activation act);
/* Glorot-uniform kernel from the generator (row-major), zero bias. */
void tfrs__dense_init(tfrs_dense *d, tfrs__rng *r);
/* y = act(x W + b)    x:[B,in]  W:[in,out]  b:[out]  y:[B,out] */
void tfrs__dense_forward(const tfrs_dense *d, const float *x, size_t B, float *y);
/* dy is rewritten in place as act'(y) * dy; dW += x^T dy; db += sum_B dy;
 * dx = dy W^T when dx != NULL (overwritten, not accumulated). */
void tfrs__dense_backward(tfrs_dense *d, const float *x, const float *y, float *dy,
                          size_t B, float *dx);
/* As tfrs__dense_backward, adding the gradients into dw and db instead of
 * the layer's own (one set per training thread). */
void tfrs__dense_backward_to(const tfrs_dense *d, const float *x, const float *y, float *dy,
                             size_t B, float *dx, float *dw, float *db);
int  tfrs__act_valid(int act);
/* y = act(y) elementwise over n values. */
void tfrs__act_apply(tfrs_activation act, float *y, size_t n);
/* dy = act'(.) * dy for B rows of n, the derivative taken through the
 * output y, and db += the column sums of the new dy, in one pass. */
void tfrs__act_backward_db(tfrs_activation act, const float *y, float *dy, float *db,
                           size_t B, size_t n);

#endif /* TFRS_DENSE_H */
