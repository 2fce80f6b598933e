/*
 * graph_serve.c - the first layer by parts, for rank (see graph_serve.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/kernels.h"
#include "util/status.h"
#include "dense.h"
#include "embedding.h"
#include "feature.h"
#include "graph.h"
#include "graph_serve.h"

void tfrs__proj_free(tfrs__proj *p)
{
    if (p != NULL)
        tfrs__free(p->proj);
    tfrs__free(p);
}

int tfrs__graph_project(const tfrs__graph *g, size_t f, tfrs__proj **out)
{
    const tfrs_embedding *e = g->feat[f].emb;
    const tfrs_dense *d = g->layers[0].dense;
    tfrs__proj *c;
    size_t n;

    *out = NULL;
    if (tfrs__mul(g->feat[f].rows, d->out, &n) < 0)
        return tfrs__fail(TFRS_ENOMEM, "rank: candidate cache too large");
    c = tfrs__calloc(1, sizeof(*c));
    if (c == NULL || (c->proj = tfrs__calloc(n, sizeof(float))) == NULL) {
        tfrs__free(c);
        return tfrs__fail(TFRS_ENOMEM, "rank: out of memory for the candidate cache");
    }
    c->feature = f;
    c->rows = g->feat[f].rows;
    c->units = d->out;
    if (e != NULL)
        tfrs__gemm(0, 0, e->rows, d->out, e->dim, 1.0f, e->w, e->dim,
               d->w + g->feat[f].offset * d->out, d->out, 0.0f, c->proj, d->out);
    *out = c;
    return TFRS_OK;
}

size_t tfrs__graph_max_units(const tfrs__graph *g)
{
    size_t u = 0;

    for (size_t j = 0; j < g->nlayers; j++)
        u = g->layers[j].out > u ? g->layers[j].out : u;
    return u;
}

/* out[u] += E_f[id, :] W1_f[:, u] for every unit u of the first layer. */
static void add_row_times_w1(const tfrs__graph *g, size_t f, int32_t id, float *out)
{
    const tfrs_embedding *e = g->feat[f].emb;
    const tfrs_dense *d0 = g->layers[0].dense;
    const float *row;
    size_t U = d0->out;

    if (e == NULL)
        return;
    row = e->w + (size_t)id * e->dim;
    for (size_t k = 0; k < e->dim; k++)
        tfrs__axpy(out, row[k], d0->w + (g->feat[f].offset + k) * U, U);
}

void tfrs__graph_query_part(const tfrs__graph *g, const unsigned char *skip,
                            const int32_t *qids, const tfrs__input *qin, float *x, float *hq,
                            float *wide)
{
    const tfrs_dense *d0 = g->layers[0].dense;
    size_t U = d0->out;

    /* x = the query's x0 row; the skipped features' columns are not read. */
    memcpy(hq, d0->b, U * sizeof(float));
    for (size_t f = 0; f < g->nfeat; f++) {
        if (skip[f])
            continue;
        tfrs__feature_gather(&g->feat[f], qin != NULL ? &qin[f] : NULL, qids + f, g->nfeat, 1,
                             x + g->feat[f].offset, g->concat_dim);
        for (size_t k = 0; k < g->feat[f].dim; k++)
            tfrs__axpy(hq, x[g->feat[f].offset + k], d0->w + (g->feat[f].offset + k) * U, U);
    }
    *wide = 0.0f;
    if (g->wide) {
        *wide = g->gbias;
        for (size_t f = 0; f < g->nfeat; f++)
            if (!skip[f] && g->feat[f].bemb != NULL)
                tfrs__feature_bias_add(&g->feat[f], qin != NULL ? &qin[f] : NULL, qids + f,
                                       g->nfeat, 1, wide);
    }
}

void tfrs__graph_project_part(const tfrs__graph *g, const unsigned char *mask,
                              const int32_t *keys, const tfrs__input *in, const int32_t *rows,
                              size_t nb, float *x, float *out, float *wide)
{
    const tfrs_dense *d0 = g->layers[0].dense;
    size_t F = g->nfeat, D = g->concat_dim, U = d0->out;

    memset(out, 0, nb * U * sizeof(float));
    if (wide != NULL)
        memset(wide, 0, nb * sizeof(float));
    for (size_t f = 0; f < F; f++) {
        const tfrs__feature *ft = &g->feat[f];
        const tfrs__input *fin = in != NULL ? &in[f] : NULL;
        if (!mask[f])
            continue;
        for (size_t r = 0; r < nb; r++) {
            const int32_t *k = keys + (rows != NULL ? (size_t)rows[r] : r) * F + f;
            if (ft->dim > 0)
                tfrs__feature_gather(ft, fin, k, F, 1, x + r * D + ft->offset, D);
            if (wide != NULL && ft->bemb != NULL)
                tfrs__feature_bias_add(ft, fin, k, F, 1, &wide[r]);
        }
        if (ft->dim > 0)
            tfrs__gemm(0, 0, nb, U, ft->dim, 1.0f, x + ft->offset, D, d0->w + ft->offset * U, U,
                       1.0f, out, U);
    }
}

void tfrs__graph_candidate_bias(const tfrs__graph *g, size_t c, const int32_t *cids, size_t nb,
                                float *out)
{
    if (g->feat[c].bemb != NULL)
        tfrs__feature_bias_add(&g->feat[c], NULL, cids, 1, nb, out);
}

void tfrs__graph_project_rows(const tfrs__graph *g, size_t f, const int32_t *ids, size_t nb,
                              float *out)
{
    size_t U = g->layers[0].dense->out;

    memset(out, 0, nb * U * sizeof(float));
    for (size_t r = 0; r < nb; r++)
        add_row_times_w1(g, f, ids[r], out + r * U);
}

/* h[r, :] = act(hq + proj[ids[r], :]) for r < nb (ids NULL: proj[r, :]):
 * the first layer of nb candidates from the projection.  Compiled for
 * several instruction sets. */
TFRS__VECTOR_CLONES
static void add_rows(tfrs_activation act, const float *restrict hq, const float *restrict proj,
                     const int32_t *ids, size_t nb, size_t U, float *restrict h)
{
    for (size_t r = 0; r < nb; r++, h += U) {
        const float *restrict p = proj + (ids != NULL ? (size_t)ids[r] : r) * U;
        if (act == TFRS_ACT_RELU) {
            for (size_t u = 0; u < U; u++) {
                float v = hq[u] + p[u];
                h[u] = v > 0.0f ? v : 0.0f;
            }
        } else {
            for (size_t u = 0; u < U; u++)
                h[u] = hq[u] + p[u];
            tfrs__act_apply(act, h, U);
        }
    }
}

float *tfrs__graph_score_parts(const tfrs__graph *g, const float *hq, const float *parts,
                               const int32_t *ids, size_t nb, float *a, float *b)
{
    add_rows(g->layers[0].act, hq, parts, ids, nb, g->layers[0].dense->out, a);
    for (size_t j = 1; j < g->nlayers; j++) {
        float *t;
        if (g->layers[j].kind != TFRS_LAYER_DENSE)
            continue;                  /* dropout: the identity at inference */
        tfrs__dense_forward(g->layers[j].dense, a, nb, b);
        t = a;
        a = b;
        b = t;
    }
    return a;
}

float *tfrs__graph_score_candidates(const tfrs__graph *g, size_t c, const float *hq,
                                    const tfrs__proj *proj, const int32_t *cids, size_t nb,
                                    float *a, float *b)
{
    if (proj != NULL)
        return tfrs__graph_score_parts(g, hq, proj->proj, cids, nb, a, b);
    tfrs__graph_project_rows(g, c, cids, nb, b);
    return tfrs__graph_score_parts(g, hq, b, NULL, nb, a, b);
}
