/*
 * factor.c - the first dense layer computed once per distinct table row
 * (see factor.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/kernels.h"
#include "util/status.h"
#include "embedding.h"
#include "factor.h"

/* The cost of the per-example work of a factored feature (the gather-add
 * of its projection in the forward pass, the segment sum in the backward
 * pass), per example and unit of the layer, in multiply-adds of a GEMM.
 * Factoring feature f pays when
 *   3 n dim + FACTOR_ADD_COST B < 3 B dim
 * (three GEMMs over n distinct rows and the per-example adds, against
 * three GEMMs over the B rows) and n <= B / FACTOR_MAX_SHARE: the GEMMs
 * over a few hundred distinct rows run well below the rate of one GEMM over
 * the batch, and the plan, the gathers and the scatters have their own
 * costs.  On MovieLens (docs/performance.md), factoring the 32-dimensional
 * ids paid at batch 8192 (about 910 distinct users and 1,200 titles: 1.39x
 * per epoch) and cost time at batch 256 (about 200 of each: 5 % slower)
 * and 1024 (about 500 users: 8 % slower). */
#define FACTOR_MAX_SHARE 4
#define FACTOR_ADD_COST 6

/* y += x over n floats (the same bits in every clone: one add each). */
TFRS__VECTOR_CLONES
static void add_to(float *restrict y, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

/* y = (acc ? y : 0) + a + b over n floats (b may be NULL): the bits of
 * adding a, then b. */
TFRS__VECTOR_CLONES
static void sum_into(float *restrict y, const float *restrict a, const float *restrict b,
                     size_t n, int acc)
{
    for (size_t i = 0; i < n; i++) {
        float v = acc ? y[i] + a[i] : a[i];
        y[i] = b != NULL ? v + b[i] : v;
    }
}

int tfrs__factor_init(tfrs__factor *fz, size_t nfeat, size_t H)
{
    memset(fz, 0, sizeof(*fz));
    fz->part = tfrs__calloc(nfeat != 0 ? nfeat : 1, sizeof(*fz->part));
    if (fz->part == NULL)
        return tfrs__fail(TFRS_ENOMEM, "out of memory");
    fz->nfeat = nfeat;
    fz->H = H;
    return TFRS_OK;
}

void tfrs__factor_free(tfrs__factor *fz)
{
    if (fz->part != NULL) {
        for (size_t f = 0; f < fz->nfeat; f++) {
            tfrs__factor_part *p = &fz->part[f];
            tfrs__free(p->rows);
            tfrs__free(p->count);
            tfrs__free(p->eu);
            tfrs__free(p->p);
            tfrs__free(p->de);
            tfrs__free(p->slot);
        }
    }
    tfrs__free(fz->part);
    tfrs__free(fz->idx);
    memset(fz, 0, sizeof(*fz));
}

int tfrs__factor_grad_init(tfrs__factor_grad *gr, size_t nfeat)
{
    size_t n = nfeat != 0 ? nfeat : 1;

    gr->nfeat = nfeat;
    gr->g = tfrs__calloc(n, sizeof(*gr->g));
    gr->cap = tfrs__calloc(n, sizeof(*gr->cap));
    if (gr->g == NULL || gr->cap == NULL) {
        tfrs__factor_grad_free(gr);
        return -1;
    }
    return 0;
}

void tfrs__factor_grad_free(tfrs__factor_grad *gr)
{
    if (gr->g != NULL)
        for (size_t f = 0; f < gr->nfeat; f++)
            tfrs__free(gr->g[f]);
    tfrs__free(gr->g);
    tfrs__free(gr->cap);
    memset(gr, 0, sizeof(*gr));
}

int tfrs__factor_eligible(const tfrs__feature *f)
{
    return f->emb != NULL && f->dim > 0 && tfrs__feature_is_single(f);
}

/* Room for the distinct rows of a batch of B keys (rows and counts). */
static int keys_reserve(tfrs__factor_part *p, size_t B)
{
    int32_t *rows;
    uint32_t *count;

    if (B <= p->key_cap)
        return 0;
    rows = tfrs__malloc(B * sizeof(*rows));
    count = tfrs__malloc(B * sizeof(*count));
    if (rows == NULL || count == NULL) {
        tfrs__free(rows);
        tfrs__free(count);
        return -1;
    }
    tfrs__free(p->rows);
    tfrs__free(p->count);
    p->rows = rows;
    p->count = count;
    p->key_cap = B;
    return 0;
}

/* Room for the embeddings, projections and embedding gradients of n
 * distinct rows of dim columns and H units. */
static int part_reserve(tfrs__factor_part *p, size_t n, size_t dim, size_t H)
{
    float *eu, *pp, *de;
    size_t ne, np;

    if (n <= p->cap)
        return 0;
    if (tfrs__mul(n, dim, &ne) < 0 || tfrs__mul(n, H, &np) < 0)
        return -1;
    eu = tfrs__malloc(ne * sizeof(float));
    pp = tfrs__malloc(np * sizeof(float));
    de = tfrs__malloc(ne * sizeof(float));
    if (eu == NULL || pp == NULL || de == NULL) {
        tfrs__free(eu);
        tfrs__free(pp);
        tfrs__free(de);
        return -1;
    }
    tfrs__free(p->eu);
    tfrs__free(p->p);
    tfrs__free(p->de);
    p->eu = eu;
    p->p = pp;
    p->de = de;
    p->cap = n;
    return 0;
}

/* The slot array of a table of `rows` rows, all 0 (empty): calloc'ed, so
 * that a large table's array costs only the pages a batch touches. */
static int slots_reserve(tfrs__factor_part *p, size_t rows)
{
    if (p->slot != NULL && p->slot_rows == rows)
        return 0;
    tfrs__free(p->slot);
    p->slot_rows = 0;
    p->slot = tfrs__calloc(rows != 0 ? rows : 1, sizeof(*p->slot));
    if (p->slot == NULL)
        return -1;
    p->slot_rows = rows;
    return 0;
}

/* Finds feature f's distinct rows among the B keys (stride F): fills
 * rows, count and idx's column f; leaves the slots at 0 again. */
static void distinct(tfrs__factor *fz, size_t f, const int32_t *keys, size_t B)
{
    tfrs__factor_part *p = &fz->part[f];
    size_t F = fz->nfeat, n = 0;

    for (size_t i = 0; i < B; i++) {
        int32_t k = keys[i * F + f];
        uint32_t s = p->slot[k];       /* index + 1, or 0 */
        if (s == 0) {
            p->rows[n] = k;
            p->count[n] = 0;
            s = (uint32_t)++n;
            p->slot[k] = s;
        }
        p->count[s - 1]++;
        fz->idx[i * F + f] = s - 1;
    }
    for (size_t u = 0; u < n; u++)
        p->slot[p->rows[u]] = 0;
    p->n = n;
}

int tfrs__factor_reserve(tfrs__factor *fz, const tfrs__feature *feat, size_t B, int eager)
{
    size_t F = fz->nfeat, nidx;

    fz->eager = eager;
    if (B > fz->idx_cap) {
        uint32_t *idx;
        if (tfrs__mul(B, F, &nidx) < 0 || (idx = tfrs__malloc(nidx * sizeof(*idx))) == NULL)
            return tfrs__fail(TFRS_ENOMEM, "out of memory for a batch of %zu rows", B);
        tfrs__free(fz->idx);
        fz->idx = idx;
        fz->idx_cap = B;
    }
    for (size_t f = 0; f < F; f++)
        if (tfrs__factor_eligible(&feat[f]) &&
            (keys_reserve(&fz->part[f], B) < 0 || slots_reserve(&fz->part[f], feat[f].rows) < 0 ||
             (eager && part_reserve(&fz->part[f], B, feat[f].dim, fz->H) < 0)))
            return tfrs__fail(TFRS_ENOMEM, "out of memory for a batch of %zu rows", B);
    return TFRS_OK;
}

void tfrs__factor_clear(tfrs__factor *fz)
{
    fz->any = 0;
    fz->factored_rows = 0;
    for (size_t f = 0; f < fz->nfeat; f++)
        fz->part[f].on = 0;
}

int tfrs__factor_plan(tfrs__factor *fz, const tfrs__feature *feat, const tfrs_dense *d,
                      const int32_t *keys, size_t B)
{
    size_t F = fz->nfeat, H = fz->H;
    int rc;

    tfrs__factor_clear(fz);
    if ((rc = tfrs__factor_reserve(fz, feat, B, fz->eager)) != TFRS_OK)
        return rc;
    for (size_t f = 0; f < F; f++) {
        const tfrs__feature *ft = &feat[f];
        tfrs__factor_part *p = &fz->part[f];
        size_t dim = ft->dim;
        if (!tfrs__factor_eligible(ft))
            continue;
        distinct(fz, f, keys, B);
        /* 3 n dim + c B < 3 B dim (in doubles: no overflow), and n <= B / 4 */
        if (3.0 * (double)p->n * (double)dim + FACTOR_ADD_COST * (double)B >=
                3.0 * (double)B * (double)dim ||
            p->n > B / FACTOR_MAX_SHARE)
            continue;
        if (part_reserve(p, p->n, dim, H) < 0) {     /* only when not eager */
            tfrs__factor_clear(fz);
            return tfrs__fail(TFRS_ENOMEM, "out of memory for a batch of %zu rows", B);
        }
        tfrs__embedding_gather(ft->emb, p->rows, 1, p->n, p->eu, dim);
        /* P = E[U] W_f    [n, dim] [dim, H] */
        tfrs__gemm(0, 0, p->n, H, dim, 1.0f, p->eu, dim, d->w + ft->offset * H, H, 0.0f, p->p,
                   H);
        p->on = 1;
        fz->any = 1;
        fz->factored_rows += p->n;
    }
    return TFRS_OK;
}

void tfrs__factor_forward(const tfrs__factor *fz, const tfrs__feature *feat,
                          const tfrs_dense *d, const float *x0, size_t D, size_t r0, size_t S,
                          float *y)
{
    size_t F = fz->nfeat, H = fz->H;
    int gemm = 0;

    /* the features not factored: y = sum x0_f W_f */
    for (size_t f = 0; f < F; f++) {
        const tfrs__feature *ft = &feat[f];
        if (fz->part[f].on || ft->dim == 0)
            continue;
        tfrs__gemm(0, 0, S, H, ft->dim, 1.0f, x0 + ft->offset, D, d->w + ft->offset * H, H,
                   gemm ? 1.0f : 0.0f, y, H);
        gemm = 1;
    }
    /* y_i = act(y_i + b + sum P_f[row]), row by row while y_i is in cache:
     * the bias and the projection rows added two at a time, in order */
    for (size_t i = 0; i < S; i++) {
        float *yr = y + i * H;
        const float *pend = d->b;        /* a row waiting for its pair */
        int acc = gemm;

        for (size_t f = 0; f < F; f++) {
            const float *pr;
            if (!fz->part[f].on)
                continue;
            pr = fz->part[f].p + (size_t)fz->idx[(r0 + i) * F + f] * H;
            if (pend == NULL) {
                pend = pr;
                continue;
            }
            sum_into(yr, pend, pr, H, acc);
            pend = NULL;
            acc = 1;
        }
        if (pend != NULL)
            sum_into(yr, pend, NULL, H, acc);
        tfrs__act_apply(d->act, yr, H);
    }
}

void tfrs__factor_backward(const tfrs__factor *fz, const tfrs__feature *feat,
                           const tfrs_dense *d, const float *x0, size_t D, const float *y,
                           float *dy, size_t r0, size_t S, const tfrs__factor_grad *gr,
                           float *dw, float *db, float *dx0)
{
    size_t F = fz->nfeat, H = fz->H;

    /* dz = act'(y) dy and the segment sums, row by row while dz_i is in cache */
    for (size_t i = 0; i < S; i++) {
        const uint32_t *ix = fz->idx + (r0 + i) * F;
        tfrs__act_backward_db(d->act, y + i * H, dy + i * H, db, 1, H);
        for (size_t f = 0; f < F; f++)
            if (fz->part[f].on)
                add_to(gr->g[f] + (size_t)ix[f] * H, dy + i * H, H);
    }
    for (size_t f = 0; f < F; f++) {
        const tfrs__feature *ft = &feat[f];
        if (fz->part[f].on || ft->dim == 0)
            continue;
        /* dW_f += x0_f^T dz    [dim, S] [S, H] */
        tfrs__gemm(1, 0, ft->dim, H, S, 1.0f, x0 + ft->offset, D, dy, H, 1.0f,
                   dw + ft->offset * H, H);
        /* dx0_f = dz W_f^T    [S, H] [H, dim] */
        tfrs__gemm(0, 1, S, ft->dim, H, 1.0f, dy, H, d->w + ft->offset * H, H, 0.0f,
                   dx0 + ft->offset, D);
    }
}

int tfrs__factor_grad_reserve(const tfrs__factor *fz, tfrs__factor_grad *gr)
{
    /* Room for a whole batch of distinct rows of every eligible feature
     * (those the plan reserved), so that later batches allocate nothing. */
    for (size_t f = 0; f < fz->nfeat; f++) {
        const tfrs__factor_part *p = &fz->part[f];
        size_t n = p->cap * fz->H;    /* cap <= B, and B * H fit: y does */
        if (n > gr->cap[f]) {
            float *g = tfrs__malloc(n * sizeof(float));
            if (g == NULL)
                return tfrs__fail(TFRS_ENOMEM, "train: out of memory for a batch's segment "
                                  "sums (%zu rows)", p->cap);
            tfrs__free(gr->g[f]);
            gr->g[f] = g;
            gr->cap[f] = n;
        }
    }
    return TFRS_OK;
}

void tfrs__factor_grad_clear(const tfrs__factor *fz, tfrs__factor_grad *gr)
{
    for (size_t f = 0; f < fz->nfeat && fz->any; f++)
        if (fz->part[f].on)
            memset(gr->g[f], 0, fz->part[f].n * fz->H * sizeof(float));
}

void tfrs__factor_grad_add(const tfrs__factor *fz, tfrs__factor_grad *dst,
                           const tfrs__factor_grad *src, size_t f)
{
    if (fz->part[f].on)
        add_to(dst->g[f], src->g[f], fz->part[f].n * fz->H);
}

/* The embedding L2 of part p of feature ft: l2 * count * ||e||^2 summed
 * over its distinct rows, over scale. */
static double part_l2(const tfrs__factor_part *p, const tfrs__feature *ft, size_t scale)
{
    double s = 0.0;

    for (size_t u = 0; u < p->n; u++) {
        const float *e = p->eu + u * ft->dim;
        double q = 0.0;
        for (size_t k = 0; k < ft->dim; k++)
            q += (double)e[k] * e[k];
        s += q * p->count[u];
    }
    return (double)ft->l2 * s / (double)scale;
}

double tfrs__factor_finish(tfrs__factor *fz, tfrs__feature *feat, const tfrs_dense *d,
                           const tfrs__factor_grad *gr, float *dw, size_t scale, size_t f)
{
    tfrs__feature *ft = &feat[f];
    tfrs__factor_part *p = &fz->part[f];
    size_t H = fz->H, dim = ft->dim;

    if (!p->on)
        return 0.0;
    /* dW_f += E[U]^T G    [dim, n] [n, H] */
    tfrs__gemm(1, 0, dim, H, p->n, 1.0f, p->eu, dim, gr->g[f], H, 1.0f, dw + ft->offset * H, H);
    /* dE[U] = G W_f^T    [n, H] [H, dim] */
    tfrs__gemm(0, 1, p->n, dim, H, 1.0f, gr->g[f], H, d->w + ft->offset * H, H, 0.0f, p->de,
               dim);
    if (ft->l2 == 0.0f) {
        tfrs__embedding_scatter_add(ft->emb, p->rows, 1, p->n, p->de, dim);
        return 0.0;
    }
    /* Keras' activity regularizer: l2 ||e||^2 per example, over scale */
    for (size_t u = 0; u < p->n; u++) {
        const float *e = p->eu + u * dim;
        float *de = p->de + u * dim;
        float c = 2.0f * ft->l2 * (float)p->count[u] / (float)scale;
        for (size_t k = 0; k < dim; k++)
            de[k] += c * e[k];
    }
    tfrs__embedding_scatter_add(ft->emb, p->rows, 1, p->n, p->de, dim);
    return part_l2(p, ft, scale);
}

double tfrs__factor_input_l2(const tfrs__factor *fz, const tfrs__feature *feat, size_t scale)
{
    double reg = 0.0;

    for (size_t f = 0; f < fz->nfeat && fz->any; f++)
        if (fz->part[f].on && feat[f].l2 != 0.0f)
            reg += part_l2(&fz->part[f], &feat[f], scale);
    return reg;
}
