/*
 * embedding.h - embedding tables (private part).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_EMBEDDING_H
#define TFRS_EMBEDDING_H

#include "util/common.h"
#include "util/rng.h"

struct tfrs_embedding {
    size_t   rows, dim;
    float   *w;         /* rows * dim                                      */
    float   *g;         /* rows * dim, zero outside the touched rows       */
    int32_t *touched;   /* rows touched since the last zero_grad, <= rows  */
    size_t   ntouched;
    uint8_t *mark;      /* rows flags: 1 if in touched[]                   */
};

/* Allocates an embedding without initialising the weights (zeroed). */
int  tfrs__embedding_alloc(tfrs_embedding **out, size_t rows, size_t dim);
/* Uniform(-0.05, 0.05) from the generator, row-major order. */
void tfrs__embedding_init(tfrs_embedding *e, tfrs__rng *r);
/* Forward/backward without id checks (ids validated by the caller).
 * out: [n, dim] written at row stride ld (>= dim), so that several
 * embeddings can be gathered side by side into one concatenated matrix. */
void tfrs__embedding_gather(const tfrs_embedding *e, const int32_t *ids, size_t id_stride,
                            size_t n, float *out, size_t ld);
void tfrs__embedding_scatter_add(tfrs_embedding *e, const int32_t *ids, size_t id_stride,
                                 size_t n, const float *dout, size_t ld);

#endif /* TFRS_EMBEDDING_H */
