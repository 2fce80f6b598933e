/*
 * rank.c - ranking candidates for a query: the serving cache of projected
 * first-layer rows, scoring through it, and a stable radix sort.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every call takes a const model and keeps its state in per-call memory;
 * the cache is the one thing const calls change, under the model's mutex.
 * So one built model can serve many threads at once.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "param.h"
#include "graph.h"
#include "model.h"

/* Candidates per block in rank: small enough that a block's activations
 * and the cached rows stay in L2 between the add and the next layer.  A
 * block's activations are at most RANK_BLOCK x 256 floats, so that layers
 * wider than 256 units get smaller blocks, and a call's scratch does not
 * grow with the width of a layer. */
#ifndef RANK_BLOCK
#define RANK_BLOCK 256
#endif
#define RANK_BLOCK_FLOATS ((size_t)RANK_BLOCK * 256)

/* The memory budget of the serving caches: all features' caches together
 * hold at most RANK_CACHE_BUDGET floats per parameter of the model, each
 * feature getting an equal share: feature f is cached if F x rows_f x
 * units_0 <= RANK_CACHE_BUDGET x parameters.  (The tutorial's model caches
 * its movie titles: 2 x 1,665 x 256 = 852,480 <= 8 x 116,641 = 933,128.)
 * A feature over its share is not cached: rank projects just the
 * candidates it scores, a block at a time, in the call's own scratch. */
#define RANK_CACHE_BUDGET 8

/* 1 if feature f's cache (rows x units of the first layer floats) fits
 * its share of the budget. */
static int cache_fits(const tfrs_model *m, size_t f)
{
    size_t cells, budget;

    return tfrs__mul(m->g.feat[f].rows, m->g.layers[0].units, &cells) == 0 &&
           tfrs__mul(cells, m->g.nfeat, &cells) == 0 &&
           tfrs__mul(tfrs__params_count(&m->g.params), RANK_CACHE_BUDGET, &budget) == 0 &&
           cells <= budget;
}

/* The current cache of feature f, built if missing or stale; NULL (and
 * TFRS_OK) when f's cache would not fit the budget.  The model is
 * const to callers; the caches are the one thing const calls may change,
 * under the model's mutex.  A cache is only ever replaced when it is stale,
 * that is after the weights changed, which needs exclusive access to the
 * model: so no other thread can still be reading it. */
static int get_cache(const tfrs_model *m, size_t f, const tfrs__proj **out)
{
    tfrs_model *mm = (tfrs_model *)m;
    int rc = TFRS_OK;

    *out = NULL;
    if (!cache_fits(m, f))
        return TFRS_OK;
    pthread_mutex_lock(&mm->cache_lock);
    if (mm->cache == NULL)
        mm->cache = tfrs__calloc(m->g.nfeat, sizeof(*mm->cache));
    if (mm->cache == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "rank: out of memory");
    } else if (mm->cache[f] == NULL || mm->cache[f]->gen != m->weights_gen) {
        tfrs__proj *fresh;
        rc = tfrs__graph_project(&m->g, f, &fresh);
        if (rc == TFRS_OK) {
            fresh->gen = m->weights_gen;
            tfrs__proj_free(mm->cache[f]);
            mm->cache[f] = fresh;
        }
    }
    *out = rc == TFRS_OK ? mm->cache[f] : NULL;
    pthread_mutex_unlock(&mm->cache_lock);
    return rc;
}

/* Candidates per block for n candidates. */
static size_t rank_block(const tfrs_model *m, size_t n)
{
    size_t per_row = tfrs__graph_max_units(&m->g), block = RANK_BLOCK_FLOATS / per_row;

    block = block < 1 ? 1 : block > RANK_BLOCK ? RANK_BLOCK : block;
    return n < block ? n : block;
}

/* Floats of scratch rank_scores needs for n candidates. */
static size_t rank_scratch_floats(const tfrs_model *m, size_t n)
{
    return m->g.concat_dim + m->g.layers[0].units +
           2 * rank_block(m, n) * tfrs__graph_max_units(&m->g);
}

/* Scores n candidates (ids cids) of feature c for a query (keys qids, one
 * per feature, with side tables qin; qids[c] is 0) through the cache (or,
 * without one, their rows projected block by block), in `x`
 * (rank_scratch_floats floats).  Equal to the plain forward pass up to
 * float rounding. */
static int rank_scores(const tfrs_model *m, size_t c, const int32_t *qids,
                       const tfrs__input *qin, const int32_t *cids, size_t n, float *scores,
                       float *x)
{
    const tfrs__proj *cache;
    size_t block = rank_block(m, n), per_row = tfrs__graph_max_units(&m->g);
    float *hq = x + m->g.concat_dim, *buf = hq + m->g.layers[0].units, wide;
    int rc;

    if ((rc = get_cache(m, c, &cache)) != TFRS_OK)
        return rc;
    tfrs__graph_query_part(&m->g, c, qids, qin, x, hq, &wide);
    for (size_t i = 0; i < n; i += block) {
        size_t nb = n - i < block ? n - i : block;
        const float *s = tfrs__graph_score_candidates(&m->g, c, hq, cache, cids + i, nb, buf,
                                                      buf + block * per_row);
        memcpy(scores + i, s, nb * sizeof(float));
        if (m->g.wide) {
            for (size_t r = 0; r < nb; r++)
                scores[i + r] += wide;
            tfrs__graph_candidate_bias(&m->g, c, cids + i, nb, scores + i);
        }
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

/* Offsets of rank's per-call buffers in one allocation. */
typedef struct rank_layout {
    size_t total, o_idx, o_keys, o_cids, o_qids, o_scores, o_all, o_hq;
} rank_layout;

static int rank_alloc(const tfrs_model *m, size_t n, size_t k, rank_layout *L,
                      unsigned char **mem)
{
    L->total = 0;
    L->o_idx = carve(&L->total, n, 2 * sizeof(size_t));
    L->o_keys = carve(&L->total, n, 2 * sizeof(uint32_t));
    L->o_cids = carve(&L->total, n, sizeof(int32_t));
    L->o_qids = carve(&L->total, m->g.nfeat, sizeof(int32_t));
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

/* The shared end of rank and rank_ids: scores n candidates (ids cids of
 * feature c) for the query ids qids and writes the best k to out.  `mem`
 * holds the layout made by rank_alloc. */
static int rank_finish(const tfrs_model *m, size_t c, const int32_t *qids,
                       const tfrs__input *qin, const int32_t *cids, size_t n, size_t k,
                       tfrs_scored *out, unsigned char *mem, const rank_layout *L)
{
    float *scores = (float *)(mem + L->o_scores);
    tfrs_scored *all = k < n ? (tfrs_scored *)(mem + L->o_all) : out;
    size_t *idx = (size_t *)(mem + L->o_idx);
    uint32_t *keys = (uint32_t *)(mem + L->o_keys);
    int rc;

    if ((rc = rank_scores(m, c, qids, qin, cids, n, scores, (float *)(mem + L->o_hq))) != TFRS_OK ||
        (rc = tfrs__graph_check_scores(scores, n, 0, 1, "rank")) != TFRS_OK)
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
    tfrs__encoded *enc = NULL;
    tfrs__input *qin = NULL;
    int rc;

    if (n_out != NULL)
        *n_out = 0;
    rc = tfrs__model_check_call(m, "tfrs_model_rank",
                                query != NULL && candidate_feature != NULL &&
                                candidates != NULL && out != NULL && n > 0,
                                "query, candidate_feature, candidates, out and n > 0 required");
    if (rc != TFRS_OK)
        return rc;
    F = m->g.nfeat;
    c = tfrs__graph_find_feature(&m->g, candidate_feature);
    if (c == SIZE_MAX)
        return tfrs__fail(TFRS_ENOTFOUND, "tfrs_model_rank: no feature named '%s'",
                          candidate_feature);
    if (!tfrs__feature_is_single(&m->g.feat[c]))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: candidate feature '%s' is %s; "
                          "candidates need one table row each", candidate_feature,
                          m->g.feat[c].kind == TFRS_FEATURE_NUMERIC ? "numeric" : "a bag");
    k = top_k == 0 || top_k > n ? n : top_k;
    if ((rc = rank_alloc(m, n, k, &L, &mem)) != TFRS_OK)
        return rc;
    cids = (int32_t *)(mem + L.o_cids);
    qids = (int32_t *)(mem + L.o_qids);

    enc = tfrs__calloc(F, sizeof(*enc));
    qin = tfrs__calloc(F, sizeof(*qin));
    if (enc == NULL || qin == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_rank: out of memory");
        goto done;
    }
    /* The query's values are encoded once. */
    for (size_t f = 0; f < F; f++) {
        qids[f] = 0;
        if (f == c)
            continue;
        if (query[f] == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: query value of feature '%s' is NULL",
                            m->g.feat[f].name);
            goto done;
        }
        rc = tfrs__feature_encode(&m->g.feat[f], query[f], strlen(query[f]), &enc[f], &qids[f],
                                  "tfrs_model_rank: query", 0);
        if (rc != TFRS_OK)
            goto done;
        qin[f] = tfrs__encoded_input(&enc[f]);
    }
    for (size_t i = 0; i < n; i++) {
        if (candidates[i] == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: candidate %zu is NULL", i);
            goto done;
        }
        rc = tfrs__feature_encode(&m->g.feat[c], candidates[i], strlen(candidates[i]), &enc[c],
                                  &cids[i], "tfrs_model_rank: candidates", i);
        if (rc != TFRS_OK)
            goto done;
    }
    if ((rc = rank_finish(m, c, qids, qin, cids, n, k, out, mem, &L)) == TFRS_OK &&
        n_out != NULL)
        *n_out = k;
done:
    for (size_t f = 0; enc != NULL && f < F; f++)
        tfrs__encoded_free(&enc[f]);
    tfrs__free(enc);
    tfrs__free(qin);
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
    rc = tfrs__model_check_call(m, "tfrs_model_rank_ids",
                                query != NULL && candidates != NULL && out != NULL && n > 0,
                                "query, candidates, out and n > 0 required");
    if (rc != TFRS_OK)
        return rc;
    if (c >= m->g.nfeat)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_rank_ids: candidate_feature %zu >= %zu "
                          "features", c, m->g.nfeat);
    if ((rc = tfrs__graph_check_ids(&m->g, NULL, NULL, 0, "tfrs_model_rank_ids")) != TFRS_OK)
        return rc;
    for (size_t f = 0; f < m->g.nfeat; f++)
        if (f != c && !tfrs__graph_id_ok(&m->g, f, query[f]))
            return tfrs__fail(TFRS_ERANGE, "tfrs_model_rank_ids: query id %ld of feature '%s' "
                              "is out of range", (long)query[f], m->g.feat[f].name);
    for (size_t i = 0; i < n; i++)
        if (!tfrs__graph_id_ok(&m->g, c, candidates[i]))
            return tfrs__fail(TFRS_ERANGE, "tfrs_model_rank_ids: candidate %zu: id %ld is out "
                              "of range", i, (long)candidates[i]);
    k = top_k == 0 || top_k > n ? n : top_k;
    if ((rc = rank_alloc(m, n, k, &L, &mem)) != TFRS_OK)
        return rc;
    qids = (int32_t *)(mem + L.o_qids);
    memcpy(qids, query, m->g.nfeat * sizeof(*qids));
    qids[c] = 0;
    if ((rc = rank_finish(m, c, qids, NULL, candidates, n, k, out, mem, &L)) == TFRS_OK &&
        n_out != NULL)
        *n_out = k;
    tfrs__free(mem);
    return rc;
}
