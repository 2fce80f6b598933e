/*
 * cross.h - the DCN-v2 cross layer (tfrs.layers.dcn.Cross), private.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Row vectors, Keras kernel layout:
 *
 *   full rank   t = x W + b          W [D, D]
 *   low rank    h = x U, t = h V + b U [D, r] (no bias), V [r, D]
 *   y = x0 * t + x                   (elementwise)
 *
 * x0 is the layer stack's input (the concatenated features), x the
 * previous cross layer's output (x0 itself for the first one); both [B, D].
 */
#ifndef TFRS_CROSS_H
#define TFRS_CROSS_H

#include "util/common.h"
#include "util/rng.h"

typedef struct tfrs__cross {
    size_t dim;        /* D                                              */
    size_t rank;       /* r, or 0 for full rank                          */
    float *w, *dw;     /* W [D, D], or U [D, r]                          */
    float *v, *dv;     /* V [r, D]; NULL in full rank                    */
    float *b, *db;     /* [D]                                            */
} tfrs__cross;

/* A zeroed layer of dimension dim and rank (0 = full).  TFRS_EINVAL
 * (message starting with "cross:") for a zero or too large size or a rank
 * not below dim, TFRS_ENOMEM. */
int  tfrs__cross_alloc(tfrs__cross **out, size_t dim, size_t rank);
void tfrs__cross_free(tfrs__cross *c);          /* NULL is a no-op */
/* Keras TruncatedNormal(stddev 0.05): n values from N(0, 0.05^2), each
 * drawn again while it is more than two standard deviations from 0 (the
 * default kernel initializer of tfrs.layers.dcn.Cross). */
void tfrs__cross_init_kernel(float *w, size_t n, tfrs__rng *r);
/* y = x0 * (x W + b) + x for B rows; aux (B * aux_floats) keeps t and h
 * for the backward pass.  y may not alias x0 or x. */
void tfrs__cross_forward(const tfrs__cross *c, const float *x0, const float *x, size_t B,
                         float *aux, float *y);
/* Backward pass of B rows from dy ([B, D], preserved), with the forward's
 * x0, x and aux.  tmp holds B * aux_floats floats.  Gradients are added
 * into dw, dv (low rank) and db.  dx0 receives dy * t, dx receives
 * d y / d x; each is added into its buffer when its acc flag is set and
 * overwrites it otherwise.  dx may equal dx0 (x is x0): then acc_dx0 must
 * be set, and both parts are added. */
void tfrs__cross_backward(const tfrs__cross *c, const float *x0, const float *x,
                          const float *aux, const float *dy, size_t B, float *tmp,
                          float *dx0, int acc_dx0, float *dx, int acc_dx, float *dw, float *dv,
                          float *db);

#endif /* TFRS_CROSS_H */
