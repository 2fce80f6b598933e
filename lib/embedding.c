/*
 * embedding.c - embedding tables: gather forward, sparse scatter-add backward.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The gradient is a full rows x dim buffer that is zero outside the rows
 * touched since the last zero_grad; touched[] lists those rows in
 * first-touched order so that zeroing and sparse optimizer updates cost
 * O(touched * dim) rather than O(rows * dim).
 */
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"
#include "util/rng.h"
#include "util/status.h"
#include "embedding.h"

#define EMB_MAX_ROWS ((size_t)1 << 31)

int tfrs__embedding_alloc(tfrs_embedding **out, size_t rows, size_t dim)
{
    tfrs_embedding *e;
    size_t n;

    *out = NULL;
    if (rows == 0 || dim == 0)
        return tfrs__fail(TFRS_EINVAL, "embedding: rows and dim must be > 0");
    if (rows >= EMB_MAX_ROWS)
        return tfrs__fail(TFRS_EINVAL, "embedding: %zu rows, must be < 2^31", rows);
    if (tfrs__mul(rows, dim, &n) < 0 || n > SIZE_MAX / sizeof(float))
        return tfrs__fail(TFRS_EINVAL, "embedding: %zu x %zu is too large", rows, dim);
    e = tfrs__calloc(1, sizeof(*e));
    if (e != NULL) {
        e->rows = rows;
        e->dim = dim;
        /* Largest first, so that a size the system cannot give fails before
         * anything else is allocated. */
        e->w = tfrs__calloc(n, sizeof(float));        /* weights               */
        e->g = e->w == NULL ? NULL : tfrs__calloc(n, sizeof(float));  /* sparse rows */
        e->touched = e->g == NULL ? NULL : tfrs__calloc(rows, sizeof(int32_t));
        e->mark = e->touched == NULL ? NULL : tfrs__calloc(rows, sizeof(uint8_t));
    }
    if (e == NULL || e->w == NULL || e->g == NULL || e->touched == NULL || e->mark == NULL) {
        tfrs_embedding_free(e);
        return tfrs__fail(TFRS_ENOMEM, "embedding: out of memory (%zu x %zu)", rows, dim);
    }
    *out = e;
    return TFRS_OK;
}

/* Keras "uniform" initializer: U(-0.05, 0.05), row-major order. */
void tfrs__embedding_init(tfrs_embedding *e, tfrs__rng *r)
{
    size_t n = e->rows * e->dim;

    for (size_t i = 0; i < n; i++)
        e->w[i] = tfrs__rng_uniform(r, -0.05f, 0.05f);
}

/* out[i * ld + :dim] = W[ids[i * id_stride], :]    out: [n, ld] */
void tfrs__embedding_gather(const tfrs_embedding *e, const int32_t *ids, size_t id_stride,
                            size_t n, float *out, size_t ld)
{
    size_t dim = e->dim;

    for (size_t i = 0; i < n; i++) {
        size_t row = (size_t)ids[i * id_stride];
        if (i + TFRS__PREFETCH_AHEAD < n)
            TFRS__PREFETCH_ROW(e->w + (size_t)ids[(i + TFRS__PREFETCH_AHEAD) * id_stride] * dim,
                               dim * sizeof(float));
        memcpy(out + i * ld, e->w + row * dim, dim * sizeof(float));
    }
}

/* G[ids[i * id_stride], :] += dout[i * ld + :dim]; duplicate ids sum. */
void tfrs__embedding_scatter_add(tfrs_embedding *e, const int32_t *ids, size_t id_stride,
                                 size_t n, const float *dout, size_t ld)
{
    size_t dim = e->dim;

    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i * id_stride];
        size_t row = (size_t)id;
        float *g = e->g + row * dim;
        const float *d = dout + i * ld;

        if (i + TFRS__PREFETCH_AHEAD < n) {
            size_t ahead = (size_t)ids[(i + TFRS__PREFETCH_AHEAD) * id_stride];
            TFRS__PREFETCH_ROW(e->g + ahead * dim, dim * sizeof(float));
            TFRS__PREFETCH_ROW(e->mark + ahead, 1);
        }
        if (!e->mark[row]) {
            e->mark[row] = 1;
            e->touched[e->ntouched++] = id;
        }
        for (size_t j = 0; j < dim; j++)
            g[j] += d[j];
    }
}

/* Returns TFRS_OK if every id is in [0, rows), else TFRS_ERANGE. */
/* The checks of the public forward and backward: the table, the ids and
 * the buffer are given, n > 0, and every id is a row of the table. */
static int check_call(const tfrs_embedding *e, const int32_t *ids, size_t n, const void *buf,
                      const char *who)
{
    size_t cells;

    if (e == NULL || ids == NULL || buf == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: NULL argument", who);
    if (n == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: n must be > 0", who);
    if (tfrs__mul(n, e->dim, &cells) < 0 || cells > SIZE_MAX / sizeof(float))
        return tfrs__fail(TFRS_EINVAL, "%s: %zu rows of %zu values are more than memory can "
                          "hold", who, n, e->dim);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || (size_t)ids[i] >= e->rows)
            return tfrs__fail(TFRS_ERANGE, "%s: id %ld at position %zu is outside [0, %zu)",
                              who, (long)ids[i], i, e->rows);
    return TFRS_OK;
}

int tfrs_embedding_create(tfrs_embedding **out, size_t rows, size_t dim, uint64_t seed)
{
    int rc = out == NULL ? tfrs__fail(TFRS_EINVAL, "tfrs_embedding_create: out is NULL")
                         : tfrs__embedding_alloc(out, rows, dim);

    if (rc == TFRS_OK) {
        tfrs__rng r;
        tfrs__rng_seed(&r, seed, 0);
        tfrs__embedding_init(*out, &r);
    }
    return rc;
}

void tfrs_embedding_free(tfrs_embedding *emb)
{
    if (emb != NULL) {
        tfrs__free(emb->w);
        tfrs__free(emb->g);
        tfrs__free(emb->touched);
        tfrs__free(emb->mark);
    }
    tfrs__free(emb);
}

const float *tfrs_embedding_weights(const tfrs_embedding *emb)
{
    return emb == NULL ? NULL : emb->w;
}

size_t tfrs_embedding_rows(const tfrs_embedding *emb)
{
    return emb == NULL ? 0 : emb->rows;
}

size_t tfrs_embedding_dim(const tfrs_embedding *emb)
{
    return emb == NULL ? 0 : emb->dim;
}

int tfrs_embedding_set_weights(tfrs_embedding *emb, const float *w, size_t n)
{
    if (emb == NULL || w == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_embedding_set_weights: NULL argument");
    if (n != emb->rows * emb->dim)
        return tfrs__fail(TFRS_ESHAPE, "tfrs_embedding_set_weights: %zu values for a %zu x %zu table",
                          n, emb->rows, emb->dim);
    memcpy(emb->w, w, n * sizeof(float));
    return TFRS_OK;
}

int tfrs_embedding_forward(const tfrs_embedding *emb, const int32_t *ids, size_t n, float *out)
{
    int rc = check_call(emb, ids, n, out, "tfrs_embedding_forward");

    if (rc == TFRS_OK)
        tfrs__embedding_gather(emb, ids, 1, n, out, emb->dim);
    return rc;
}

int tfrs_embedding_backward(tfrs_embedding *emb, const int32_t *ids, size_t n, const float *dout)
{
    int rc = check_call(emb, ids, n, dout, "tfrs_embedding_backward");

    if (rc == TFRS_OK)
        tfrs__embedding_scatter_add(emb, ids, 1, n, dout, emb->dim);
    return rc;
}

int tfrs_embedding_grad(const tfrs_embedding *emb, const float **grad, const int32_t **rows,
                        size_t *num_rows)
{
    if (emb == NULL || grad == NULL || rows == NULL || num_rows == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_embedding_grad: NULL argument");
    *grad = emb->g;
    *rows = emb->touched;
    *num_rows = emb->ntouched;
    return TFRS_OK;
}

void tfrs_embedding_zero_grad(tfrs_embedding *emb)
{
    size_t n = emb == NULL ? 0 : emb->ntouched;

    /* Only the touched rows can be non-zero: clear them and their marks. */
    for (size_t i = 0; i < n; i++) {
        size_t row = (size_t)emb->touched[i];
        memset(emb->g + row * emb->dim, 0, emb->dim * sizeof(float));
        emb->mark[row] = 0;
    }
    if (emb != NULL)
        emb->ntouched = 0;
}
