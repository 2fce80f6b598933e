/*
 * predict.c - inference: scores from ids or strings, and ranking.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every call here takes a const model and keeps its state in per-call
 * scratch memory, so one built model can serve many threads at once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"
#include "util/kernels.h"
#include "util/status.h"
#include "dense.h"
#include "embedding.h"
#include "model.h"

/* Candidates per block in rank: small enough that a block's activations
 * and the cached rows stay in L2 between the add and the next layer. */
#ifndef RANK_BLOCK
#define RANK_BLOCK 256
#endif

/* Scores n rows of checked ids in blocks of TFRS__BLOCK. */
static int score_ids(const tfrs_model *m, const int32_t *ids, size_t n, float *scores)
{
    size_t block = n < TFRS__BLOCK ? n : TFRS__BLOCK;
    float *ws, **ys;
    int rc;

    if ((rc = tfrs__scratch_alloc(m, block, &ws, &ys)) != TFRS_OK)
        return rc;
    for (size_t i = 0; i < n; i += block) {
        size_t b = n - i < block ? n - i : block;
        const float *s = tfrs__model_forward(m, ids + i * m->nfeat, b, ws, NULL, ys);
        memcpy(scores + i, s, b * sizeof(float));
    }
    tfrs__free(ws);
    tfrs__free(ys);
    return TFRS_OK;
}

int tfrs_model_predict_ids(const tfrs_model *m, const int32_t *ids, size_t n, float *scores)
{
    int rc;

    if ((rc = tfrs__model_check_built(m, "tfrs_model_predict_ids")) != TFRS_OK)
        return rc;
    if (ids == NULL || scores == NULL || n == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_predict_ids: ids, scores and n > 0 required");
    if ((rc = tfrs__model_check_ids(m, ids, n, "tfrs_model_predict_ids")) != TFRS_OK)
        return rc;
    return score_ids(m, ids, n, scores);
}

/* ids[i * F + f] = lookup(values[i * F + f]) for i < n. */
static int lookup_values(const tfrs_model *m, const char *const *values, size_t n, int32_t *ids,
                         const char *fn)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < m->nfeat; f++) {
            const char *v = values[i * m->nfeat + f];
            int rc;
            if (v == NULL)
                return tfrs__fail(TFRS_EINVAL, "%s: example %zu: value of feature '%s' is NULL",
                                  fn, i, m->feat[f].name);
            rc = tfrs_vocab_lookup(m->feat[f].vocab, v, &ids[i * m->nfeat + f]);
            if (rc != TFRS_OK)
                return rc;
        }
    }
    return TFRS_OK;
}

int tfrs_model_predict(const tfrs_model *m, const char *const *values, size_t n, float *scores)
{
    size_t block;
    int32_t *ids;
    int rc;

    if ((rc = tfrs__model_check_built(m, "tfrs_model_predict")) != TFRS_OK)
        return rc;
    if (values == NULL || scores == NULL || n == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_predict: values, scores and n > 0 required");
    block = n < TFRS__BLOCK ? n : TFRS__BLOCK;
    ids = tfrs__calloc(block * m->nfeat, sizeof(*ids));
    if (ids == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_predict: out of memory");
    for (size_t i = 0; i < n && rc == TFRS_OK; i += block) {
        size_t b = n - i < block ? n - i : block;
        rc = lookup_values(m, values + i * m->nfeat, b, ids, "tfrs_model_predict");
        if (rc == TFRS_OK)
            rc = score_ids(m, ids, b, scores + i);
    }
    tfrs__free(ids);
    return rc;
}

/* ---- serving cache ---------------------------------------------------- */

/* proj[r, :] = E_f[r, :] W1[off_f : off_f + dim_f, :] for every row r of
 * feature f's table: that feature's share of the first layer's
 * pre-activation, so that ranking candidates of f costs an add per unit
 * instead of dim_f multiply-adds. */
struct tfrs__proj_cache {
    uint64_t gen;       /* m->weights_gen it was built from */
    size_t   feature;
    size_t   rows, units;
    float   *proj;      /* rows x units */
};

static void proj_cache_free(struct tfrs__proj_cache *c)
{
    if (c == NULL)
        return;
    tfrs__free(c->proj);
    tfrs__free(c);
}

static size_t feature_offset(const tfrs_model *m, size_t f)
{
    size_t off = 0;

    for (size_t i = 0; i < f; i++)
        off += m->feat[i].dim;
    return off;
}

static int build_cache(const tfrs_model *m, size_t f, struct tfrs__proj_cache **out)
{
    const tfrs_embedding *e = m->feat[f].emb;
    const tfrs_dense *d = m->layers[0].dense;
    struct tfrs__proj_cache *c;
    size_t n;

    *out = NULL;
    if (tfrs__mul(e->rows, d->out, &n) < 0)
        return tfrs__fail(TFRS_ENOMEM, "rank: candidate cache too large");
    c = tfrs__calloc(1, sizeof(*c));
    if (c == NULL || (c->proj = tfrs__calloc(n, sizeof(float))) == NULL) {
        tfrs__free(c);
        return tfrs__fail(TFRS_ENOMEM, "rank: out of memory for the candidate cache");
    }
    c->gen = m->weights_gen;
    c->feature = f;
    c->rows = e->rows;
    c->units = d->out;
    tfrs__gemm(0, 0, e->rows, d->out, e->dim, 1.0f, e->w, e->dim,
               d->w + feature_offset(m, f) * d->out, d->out, 0.0f, c->proj, d->out);
    *out = c;
    return TFRS_OK;
}

/* The current cache of feature f, built if missing or stale.  The model is
 * const to callers; the caches are the one thing const calls may change,
 * under the model's mutex.  A cache is only ever replaced when it is stale,
 * that is after the weights changed, which needs exclusive access to the
 * model: so no other thread can still be reading it. */
static int get_cache(const tfrs_model *m, size_t f, const struct tfrs__proj_cache **out)
{
    tfrs_model *mm = (tfrs_model *)m;
    int rc = TFRS_OK;

    pthread_mutex_lock(&mm->cache_lock);
    if (mm->cache == NULL)
        mm->cache = tfrs__calloc(m->nfeat, sizeof(*mm->cache));
    if (mm->cache == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "rank: out of memory");
    } else if (mm->cache[f] == NULL || mm->cache[f]->gen != m->weights_gen) {
        struct tfrs__proj_cache *fresh;
        rc = build_cache(m, f, &fresh);
        if (rc == TFRS_OK) {
            proj_cache_free(mm->cache[f]);
            mm->cache[f] = fresh;
        }
    }
    *out = rc == TFRS_OK ? mm->cache[f] : NULL;
    pthread_mutex_unlock(&mm->cache_lock);
    return rc;
}

void tfrs__model_free_caches(tfrs_model *m)
{
    if (m->cache == NULL)
        return;
    for (size_t f = 0; f < m->nfeat; f++)
        proj_cache_free(m->cache[f]);
    tfrs__free(m->cache);
    m->cache = NULL;
}

/* h[r, :] = act(hq + proj[ids[r], :]) for r < nb: the first layer of nb
 * candidates from the cache.  Compiled for several instruction sets. */
TFRS__VECTOR_CLONES
static void add_rows(tfrs_activation act, const float *restrict hq, const float *restrict proj,
                     const int32_t *ids, size_t nb, size_t U, float *restrict h)
{
    for (size_t r = 0; r < nb; r++, h += U) {
        const float *restrict p = proj + (size_t)ids[r] * U;
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

/* Floats of scratch rank_scores needs for n candidates. */
static size_t rank_scratch_floats(const tfrs_model *m, size_t n)
{
    size_t block = n < RANK_BLOCK ? n : RANK_BLOCK, per_row = 0;

    for (size_t j = 0; j < m->nlayers; j++)
        per_row = m->layers[j].units > per_row ? m->layers[j].units : per_row;
    return m->layers[0].units + 2 * block * per_row;
}

/* Scores n candidates (ids cids) of feature c for a query (ids qids, one
 * per feature; qids[c] unused) through the cache, in `hq`
 * (rank_scratch_floats floats).  Equal to the plain forward pass up to
 * float rounding. */
static int rank_scores(const tfrs_model *m, size_t c, const int32_t *qids, const int32_t *cids,
                       size_t n, float *scores, float *hq)
{
    const tfrs_dense *d0 = m->layers[0].dense;
    const struct tfrs__proj_cache *cache;
    size_t U = d0->out, block = n < RANK_BLOCK ? n : RANK_BLOCK, per_row = 0, off = 0;
    float *buf, *a, *b;
    int rc;

    for (size_t j = 0; j < m->nlayers; j++)
        per_row = m->layers[j].units > per_row ? m->layers[j].units : per_row;
    if ((rc = get_cache(m, c, &cache)) != TFRS_OK)
        return rc;
    buf = hq + U;

    /* The query's part of the first layer: b + sum over f != c of e_f W_f. */
    memcpy(hq, d0->b, U * sizeof(float));
    for (size_t f = 0; f < m->nfeat; f++) {
        const tfrs_embedding *e = m->feat[f].emb;
        if (f != c) {
            const float *row = e->w + (size_t)qids[f] * e->dim;
            for (size_t k = 0; k < e->dim; k++) {
                const float *wk = d0->w + (off + k) * U;
                for (size_t u = 0; u < U; u++)
                    hq[u] += row[k] * wk[u];
            }
        }
        off += e->dim;
    }
    for (size_t i = 0; i < n; i += block) {
        size_t nb = n - i < block ? n - i : block;
        a = buf;
        b = buf + block * per_row;
        add_rows(d0->act, hq, cache->proj, cids + i, nb, U, a);
        for (size_t j = 1; j < m->nlayers; j++) {
            float *t;
            tfrs__dense_forward(m->layers[j].dense, a, nb, b);
            t = a;
            a = b;
            b = t;
        }
        memcpy(scores + i, a, nb * sizeof(float));
    }
    return TFRS_OK;
}

/* Maps a score to a key whose unsigned order is descending score order;
 * NaN gets the largest key, so it sorts last. */
static uint32_t desc_key(float f)
{
    uint32_t u;

    if (isnan(f))
        return UINT32_MAX;
    memcpy(&u, &f, sizeof(u));
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);   /* ascending order */
    return ~u;                                          /* descending      */
}

/* Sorts n candidates by descending score, ties by ascending index: a stable
 * LSD radix sort (4 passes of 8 bits) over keys laid out in index order. */
static void sort_scored(const float *scores, size_t n, tfrs_scored *out, uint32_t *keys,
                        uint32_t *tmp_keys, size_t *idx, size_t *tmp_idx)
{
    for (size_t i = 0; i < n; i++) {
        keys[i] = desc_key(scores[i]);
        idx[i] = i;
    }
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[((keys[i] >> shift) & 0xffu) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) {
            size_t dst = count[(keys[i] >> shift) & 0xffu]++;
            tmp_keys[dst] = keys[i];
            tmp_idx[dst] = idx[i];
        }
        memcpy(keys, tmp_keys, n * sizeof(*keys));
        memcpy(idx, tmp_idx, n * sizeof(*idx));
    }
    memset(out, 0, n * sizeof(*out));   /* padding too: results compare with memcmp */
    for (size_t i = 0; i < n; i++) {
        out[i].index = idx[i];
        out[i].score = scores[idx[i]];
    }
}

/* Adds `count` elements of `size` bytes to a layout, 16-byte aligned;
 * returns the offset, or SIZE_MAX on overflow. */
static size_t carve(size_t *total, size_t count, size_t size)
{
    size_t bytes, at = *total;

    if (at == SIZE_MAX || tfrs__mul(count, size, &bytes) < 0 || tfrs__add(bytes, 15, &bytes) < 0 ||
        tfrs__add(at, bytes & ~(size_t)15, total) < 0) {
        *total = SIZE_MAX;
        return SIZE_MAX;
    }
    return at;
}

/* The shared end of rank and rank_ids: scores n candidates (ids cids of
 * feature c) for the query ids qids and writes the best k to out.  `mem`
 * holds the layout made by rank_layout. */
typedef struct rank_layout {
    size_t total, o_idx, o_keys, o_cids, o_qids, o_scores, o_all, o_hq;
} rank_layout;

static size_t carve(size_t *total, size_t count, size_t size);

static int rank_alloc(const tfrs_model *m, size_t n, size_t k, rank_layout *L,
                      unsigned char **mem)
{
    L->total = 0;
    L->o_idx = carve(&L->total, n, 2 * sizeof(size_t));
    L->o_keys = carve(&L->total, n, 2 * sizeof(uint32_t));
    L->o_cids = carve(&L->total, n, sizeof(int32_t));
    L->o_qids = carve(&L->total, m->nfeat, sizeof(int32_t));
    L->o_scores = carve(&L->total, n, sizeof(float));
    L->o_all = carve(&L->total, k < n ? n : 0, sizeof(tfrs_scored));
    L->o_hq = carve(&L->total, rank_scratch_floats(m, n), sizeof(float));
    *mem = NULL;
    if (L->total == SIZE_MAX)
        return tfrs__fail(TFRS_EINVAL, "rank: too many candidates (%zu)", n);
    *mem = tfrs__malloc(L->total);
    if (*mem == NULL)
        return tfrs__fail(TFRS_ENOMEM, "rank: out of memory");
    return TFRS_OK;
}

static int rank_finish(const tfrs_model *m, size_t c, const int32_t *qids, const int32_t *cids,
                       size_t n, size_t k, tfrs_scored *out, unsigned char *mem,
                       const rank_layout *L)
{
    float *scores = (float *)(mem + L->o_scores);
    tfrs_scored *all = k < n ? (tfrs_scored *)(mem + L->o_all) : out;
    size_t *idx = (size_t *)(mem + L->o_idx);
    uint32_t *keys = (uint32_t *)(mem + L->o_keys);
    int rc;

    if ((rc = rank_scores(m, c, qids, cids, n, scores, (float *)(mem + L->o_hq))) != TFRS_OK)
        return rc;
    sort_scored(scores, n, all, keys, keys + n, idx, idx + n);
    if (all != out)
        memcpy(out, all, k * sizeof(*out));
    return TFRS_OK;
}

int tfrs_model_rank(const tfrs_model *m, const char *const *query, const char *candidate_feature,
                    const char *const *candidates, size_t n, size_t top_k, tfrs_scored *out,
                    size_t *n_out)
{
    size_t F, c = SIZE_MAX, k;
    unsigned char *mem;
    rank_layout L;
    int32_t *cids, *qids;
    int rc;

    if (n_out != NULL)
        *n_out = 0;
    if ((rc = tfrs__model_check_built(m, "tfrs_model_rank")) != TFRS_OK)
        return rc;
    if (query == NULL || candidate_feature == NULL || candidates == NULL || out == NULL || n == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: query, candidate_feature, candidates, "
                          "out and n > 0 required");
    F = m->nfeat;
    for (size_t f = 0; f < F; f++)
        if (strcmp(m->feat[f].name, candidate_feature) == 0)
            c = f;
    if (c == SIZE_MAX)
        return tfrs__fail(TFRS_ENOTFOUND, "tfrs_model_rank: no feature named '%s'",
                          candidate_feature);
    k = top_k == 0 || top_k > n ? n : top_k;
    if ((rc = rank_alloc(m, n, k, &L, &mem)) != TFRS_OK)
        return rc;
    cids = (int32_t *)(mem + L.o_cids);
    qids = (int32_t *)(mem + L.o_qids);

    /* The query's values are looked up once. */
    for (size_t f = 0; f < F; f++) {
        qids[f] = 0;
        if (f == c)
            continue;
        if (query[f] == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: query value of feature '%s' is NULL",
                            m->feat[f].name);
            goto done;
        }
        if ((rc = tfrs_vocab_lookup(m->feat[f].vocab, query[f], &qids[f])) != TFRS_OK)
            goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (candidates[i] == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: candidate %zu is NULL", i);
            goto done;
        }
        if ((rc = tfrs_vocab_lookup(m->feat[c].vocab, candidates[i], &cids[i])) != TFRS_OK)
            goto done;
    }
    if ((rc = rank_finish(m, c, qids, cids, n, k, out, mem, &L)) == TFRS_OK && n_out != NULL)
        *n_out = k;
done:
    tfrs__free(mem);
    return rc;
}

int tfrs_model_rank_ids(const tfrs_model *m, const int32_t *query, size_t candidate_feature,
                        const int32_t *candidates, size_t n, size_t top_k, tfrs_scored *out,
                        size_t *n_out)
{
    size_t c = candidate_feature, k;
    unsigned char *mem;
    rank_layout L;
    int32_t *qids;
    int rc;

    if (n_out != NULL)
        *n_out = 0;
    if ((rc = tfrs__model_check_built(m, "tfrs_model_rank_ids")) != TFRS_OK)
        return rc;
    if (query == NULL || candidates == NULL || out == NULL || n == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_rank_ids: query, candidates, out and n > 0 "
                          "required");
    if (c >= m->nfeat)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_rank_ids: candidate_feature %zu >= %zu "
                          "features", c, m->nfeat);
    for (size_t f = 0; f < m->nfeat; f++)
        if (f != c && (query[f] < 0 || (size_t)query[f] >= m->feat[f].emb->rows))
            return tfrs__fail(TFRS_ERANGE, "tfrs_model_rank_ids: query id %ld of feature '%s' "
                              "is out of range", (long)query[f], m->feat[f].name);
    for (size_t i = 0; i < n; i++)
        if (candidates[i] < 0 || (size_t)candidates[i] >= m->feat[c].emb->rows)
            return tfrs__fail(TFRS_ERANGE, "tfrs_model_rank_ids: candidate %zu: id %ld is out "
                              "of range", i, (long)candidates[i]);
    k = top_k == 0 || top_k > n ? n : top_k;
    if ((rc = rank_alloc(m, n, k, &L, &mem)) != TFRS_OK)
        return rc;
    qids = (int32_t *)(mem + L.o_qids);
    memcpy(qids, query, m->nfeat * sizeof(*qids));
    qids[c] = 0;
    if ((rc = rank_finish(m, c, qids, candidates, n, k, out, mem, &L)) == TFRS_OK &&
        n_out != NULL)
        *n_out = k;
    tfrs__free(mem);
    return rc;
}
