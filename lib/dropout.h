/*
 * dropout.h - Keras Dropout(rate) with counter-based, reproducible masks.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * In training, unit u of row i is kept with probability 1 - rate and then
 * scaled by 1 / (1 - rate) (inverted dropout); at inference the layer is
 * the identity.  The keep bit is a hash of (seed, layer, step, row, unit),
 * with row the index within the whole batch: no generator state, so the
 * mask does not depend on how a batch is cut into slices or threads, and
 * a run resumed from a checkpoint draws the masks it would have drawn.
 */
#ifndef TFRS_DROPOUT_H
#define TFRS_DROPOUT_H

#include "util/common.h"

/* Where a mask comes from: the model's seed, the layer's position in the
 * stack, the optimizer steps taken before this one, and the batch index of
 * the first row of the block. */
typedef struct tfrs__dropout_key {
    uint64_t seed, layer, step;
    size_t   row0;
} tfrs__dropout_key;

/* 1 if rate is a valid dropout rate: 0 <= rate < 1. */
int  tfrs__dropout_rate_ok(float rate);
/* 1 if unit `unit` of batch row `row` is kept. */
int  tfrs__dropout_keep(const tfrs__dropout_key *k, float rate, size_t row, size_t unit);
/* y = x * mask / (1 - rate) over B rows of n units (y may equal x). */
void tfrs__dropout_forward(const tfrs__dropout_key *k, float rate, const float *x, size_t B,
                           size_t n, float *y);
/* dx (+)= dy * mask / (1 - rate): added into dx when acc, else written. */
void tfrs__dropout_backward(const tfrs__dropout_key *k, float rate, const float *dy, size_t B,
                            size_t n, float *dx, int acc);

#endif /* TFRS_DROPOUT_H */
