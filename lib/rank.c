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
#include "graph_serve.h"
#include "items.h"
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
#ifndef RANK_CACHE_BUDGET
#define RANK_CACHE_BUDGET 8
#endif

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

/* The current cache of the item table it (rows x units of the first layer
 * floats, and the rows' biases), built if missing or stale; NULL (and
 * TFRS_OK) when it would not fit the share of the candidate feature, the
 * feature whose place it takes: F x items x units_0 <= RANK_CACHE_BUDGET x
 * parameters.  Locking and lifetime as get_cache; a table is only replaced
 * by tfrs_model_set_item_table, which needs exclusive access. */
static int get_item_cache(const tfrs_model *m, const tfrs__items *it, const tfrs__proj **out,
                          const float **wide)
{
    tfrs__items *mit = (tfrs__items *)it;
    size_t cells, budget;
    int rc = TFRS_OK;

    *out = NULL;
    *wide = NULL;
    if (tfrs__mul(it->n, m->g.layers[0].units, &cells) < 0 ||
        tfrs__mul(cells, m->g.nfeat, &cells) < 0 ||
        tfrs__mul(tfrs__params_count(&m->g.params), RANK_CACHE_BUDGET, &budget) < 0 ||
        cells > budget)
        return TFRS_OK;
    pthread_mutex_lock(&((tfrs_model *)m)->cache_lock);
    if (mit->cache == NULL || mit->cache->gen != m->weights_gen) {
        tfrs__proj *fresh;
        float *fw;
        rc = tfrs__items_project(&m->g, it, &fresh, &fw, "rank");
        if (rc == TFRS_OK) {
            fresh->gen = m->weights_gen;
            tfrs__proj_free(mit->cache);
            tfrs__free(mit->cache_wide);
            mit->cache = fresh;
            mit->cache_wide = fw;
        }
    }
    if (rc == TFRS_OK) {
        *out = mit->cache;
        *wide = mit->cache_wide;
    }
    pthread_mutex_unlock(&((tfrs_model *)m)->cache_lock);
    return rc;
}

/* 1 if rank scores through the first layer by parts (and the serving
 * cache); otherwise (the first layer is not dense, or the structure is
 * parallel) each block of candidates goes through the full forward pass,
 * the query's ids repeated: the same computation as predict. */
static int by_parts(const tfrs_model *m)
{
    return tfrs__graph_first_dense(&m->g);
}

/* Floats per candidate of a block's scratch. */
static size_t block_row_floats(const tfrs_model *m)
{
    return by_parts(m) ? tfrs__graph_max_units(&m->g) : tfrs__graph_ws_floats(&m->g, 1, 0);
}

/* Candidates per block for n candidates. */
static size_t rank_block(const tfrs_model *m, size_t n)
{
    size_t per_row = block_row_floats(m), block = RANK_BLOCK_FLOATS / per_row;

    block = block < 1 ? 1 : block > RANK_BLOCK ? RANK_BLOCK : block;
    return n < block ? n : block;
}

/* Floats of scratch rank_scores needs for n candidates (with an item
 * table: room to project a block of items without their cache). */
static size_t rank_scratch_floats(const tfrs_model *m, size_t n, int items)
{
    size_t block = rank_block(m, n);

    if (!by_parts(m))
        return block * block_row_floats(m);
    return m->g.concat_dim + m->g.layers[0].units + 2 * block * tfrs__graph_max_units(&m->g) +
           (items ? block * (m->g.concat_dim + 1) : 0);
}

/* The features that a rank's candidates bring: the candidate feature c,
 * and with an item table (it, not NULL) its item features too. */
typedef struct rank_cands {
    size_t               c;
    const tfrs__items   *it;     /* NULL: cids are keys of c            */
    const unsigned char *skip;   /* F: 1 for the features above         */
} rank_cands;

/* The fallback of rank_scores: blocks of candidates through the full
 * forward pass in ws, with ids (block x F), acts (num_acts) and fin (F,
 * with an item table) scratch.  The query's keys (and side tables qin) are
 * repeated in every row; with an item table, the candidates' rows of the
 * table (cids) give the keys of its features, which address its side
 * tables. */
static void rank_scores_forward(const tfrs_model *m, const rank_cands *rc, const int32_t *qids,
                                const tfrs__input *qin, const int32_t *cids, size_t n,
                                float *scores, float *ws, int32_t *ids, float **acts,
                                tfrs__input *fin)
{
    size_t F = m->g.nfeat, block = rank_block(m, n);
    const tfrs__items *it = rc->it;

    if (it != NULL)
        for (size_t f = 0; f < F; f++)
            fin[f] = it->mask[f] ? it->in[f] : qin[f];
    for (size_t i = 0; i < n; i += block) {
        size_t nb = n - i < block ? n - i : block;
        const float *s;
        for (size_t r = 0; r < nb; r++) {
            memcpy(ids + r * F, qids, F * sizeof(*ids));
            if (it == NULL) {
                ids[r * F + rc->c] = cids[i + r];
                continue;
            }
            for (size_t f = 0; f < F; f++)
                if (it->mask[f])
                    ids[r * F + f] = it->keys[(size_t)cids[i + r] * F + f];
        }
        s = tfrs__graph_forward(&m->g, ids, it != NULL ? fin : qin, nb, ws, acts, NULL);
        memcpy(scores + i, s, nb * sizeof(float));
    }
}

/* Scores n candidates (keys of feature c, or rows of the item table) for a
 * query (keys qids, one per feature, with side tables qin; the skipped
 * features' keys are not read) through the cache (or, without one, their
 * rows projected block by block), in `x` (rank_scratch_floats floats).
 * Equal to the plain forward pass up to float rounding. */
static int rank_scores(const tfrs_model *m, const rank_cands *rcd, const int32_t *qids,
                       const tfrs__input *qin, const int32_t *cids, size_t n, float *scores,
                       float *x)
{
    const tfrs__items *it = rcd->it;
    const tfrs__proj *cache;
    const float *cwide = NULL;
    size_t block = rank_block(m, n), per_row = tfrs__graph_max_units(&m->g);
    float *hq = x + m->g.concat_dim, *buf = hq + m->g.layers[0].units, wide;
    float *bx = buf + 2 * block * per_row, *bw = bx + block * m->g.concat_dim;
    int rc;

    rc = it != NULL ? get_item_cache(m, it, &cache, &cwide) : get_cache(m, rcd->c, &cache);
    if (rc != TFRS_OK)
        return rc;
    tfrs__graph_query_part(&m->g, rcd->skip, qids, qin, x, hq, &wide);
    for (size_t i = 0; i < n; i += block) {
        size_t nb = n - i < block ? n - i : block;
        float *a = buf, *b = buf + block * per_row;
        const float *s;
        if (it == NULL) {
            s = tfrs__graph_score_candidates(&m->g, rcd->c, hq, cache, cids + i, nb, a, b);
        } else if (cache != NULL) {
            s = tfrs__graph_score_parts(&m->g, hq, cache->proj, cids + i, nb, a, b);
        } else {
            tfrs__graph_project_part(&m->g, it->mask, it->keys, it->in, cids + i, nb, bx, b,
                                     m->g.wide ? bw : NULL);
            s = tfrs__graph_score_parts(&m->g, hq, b, NULL, nb, a, b);
        }
        memcpy(scores + i, s, nb * sizeof(float));
        if (!m->g.wide)
            continue;
        for (size_t r = 0; r < nb; r++)
            scores[i + r] += wide;
        if (it == NULL)
            tfrs__graph_candidate_bias(&m->g, rcd->c, cids + i, nb, scores + i);
        else
            for (size_t r = 0; r < nb; r++)
                scores[i + r] += cache != NULL ? cwide[cids[i + r]] : bw[r];
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

/* Below this many candidates an insertion sort beats the radix sort's
 * four passes over 256 counters. */
#define SMALL_SORT 16

/* Sorts n candidates by descending score, ties by ascending index: a stable
 * LSD radix sort (4 passes of 8 bits) over keys laid out in index order,
 * or for a few candidates a stable insertion sort of the same keys. */
static void sort_scored(const float *scores, size_t n, tfrs_scored *out, uint32_t *keys,
                        uint32_t *tmp_keys, size_t *idx, size_t *tmp_idx)
{
    for (size_t i = 0; i < n; i++) {
        keys[i] = desc_key(scores[i]);
        idx[i] = i;
    }
    for (size_t i = 1; i < n && n < SMALL_SORT; i++) {
        uint32_t key = keys[i];
        size_t j = i;
        for (; j > 0 && keys[j - 1] > key; j--) {
            keys[j] = keys[j - 1];
            idx[j] = idx[j - 1];
        }
        keys[j] = key;
        idx[j] = i;
    }
    for (int shift = 0; shift < 32 && n >= SMALL_SORT; shift += 8) {
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
    size_t total, o_idx, o_keys, o_cids, o_qids, o_scores, o_all, o_hq, o_fids, o_acts, o_skip,
           o_fin;
} rank_layout;

/* items: 1 if the call ranks through an item table. */
static int rank_alloc(const tfrs_model *m, size_t n, size_t k, int items, rank_layout *L,
                      unsigned char **mem)
{
    L->total = 0;
    L->o_idx = carve(&L->total, n, 2 * sizeof(size_t));
    L->o_keys = carve(&L->total, n, 2 * sizeof(uint32_t));
    L->o_cids = carve(&L->total, n, sizeof(int32_t));
    L->o_qids = carve(&L->total, m->g.nfeat, sizeof(int32_t));
    L->o_scores = carve(&L->total, n, sizeof(float));
    L->o_all = carve(&L->total, k < n ? n : 0, sizeof(tfrs_scored));
    L->o_hq = carve(&L->total, rank_scratch_floats(m, n, items), sizeof(float));
    L->o_fids = carve(&L->total, by_parts(m) ? 0 : rank_block(m, n) * m->g.nfeat,
                      sizeof(int32_t));
    L->o_acts = carve(&L->total, by_parts(m) ? 0 : tfrs__graph_num_acts(&m->g), sizeof(float *));
    L->o_skip = carve(&L->total, m->g.nfeat, 1);
    L->o_fin = carve(&L->total, by_parts(m) || !items ? 0 : m->g.nfeat, sizeof(tfrs__input));
    *mem = NULL;
    if (L->total == SIZE_MAX)
        return tfrs__fail(TFRS_EINVAL, "rank: too many candidates (%zu)", n);
    *mem = tfrs__malloc(L->total);
    if (*mem == NULL)
        return tfrs__fail(TFRS_ENOMEM, "rank: out of memory");
    return TFRS_OK;
}

/* The shared end of rank and rank_ids: scores n candidates (cids: keys of
 * feature rcd->c, or rows of its item table) for the query ids qids and
 * writes the best k to out.  `mem` holds the layout made by rank_alloc. */
static int rank_finish(const tfrs_model *m, const rank_cands *rcd, const int32_t *qids,
                       const tfrs__input *qin, const int32_t *cids, size_t n, size_t k,
                       tfrs_scored *out, unsigned char *mem, const rank_layout *L)
{
    float *scores = (float *)(mem + L->o_scores);
    tfrs_scored *all = k < n ? (tfrs_scored *)(mem + L->o_all) : out;
    size_t *idx = (size_t *)(mem + L->o_idx);
    uint32_t *keys = (uint32_t *)(mem + L->o_keys);
    int rc = TFRS_OK;

    if (by_parts(m))
        rc = rank_scores(m, rcd, qids, qin, cids, n, scores, (float *)(mem + L->o_hq));
    else
        rank_scores_forward(m, rcd, qids, qin, cids, n, scores, (float *)(mem + L->o_hq),
                            (int32_t *)(mem + L->o_fids), (float **)(mem + L->o_acts),
                            (tfrs__input *)(mem + L->o_fin));
    if (rc != TFRS_OK || (rc = tfrs__graph_check_scores(scores, n, 0, 1, "rank")) != TFRS_OK)
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
    unsigned char *mem, *skip;
    rank_layout L;
    rank_cands rcd;
    int32_t *cids, *qids;
    tfrs__encoded *enc = NULL;
    tfrs__input *qin = NULL;
    const tfrs__items *it;
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
    it = m->items != NULL && m->items->c == c ? m->items : NULL;
    k = top_k == 0 || top_k > n ? n : top_k;
    if ((rc = rank_alloc(m, n, k, it != NULL, &L, &mem)) != TFRS_OK)
        return rc;
    cids = (int32_t *)(mem + L.o_cids);
    qids = (int32_t *)(mem + L.o_qids);
    skip = mem + L.o_skip;
    for (size_t f = 0; f < F; f++)
        skip[f] = it != NULL ? it->mask[f] : f == c;
    rcd.c = c;
    rcd.it = it;
    rcd.skip = skip;

    enc = tfrs__calloc(F, sizeof(*enc));
    qin = tfrs__calloc(F, sizeof(*qin));
    if (enc == NULL || qin == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_rank: out of memory");
        goto done;
    }
    /* The query's values are encoded once; the candidates' features are
     * not read from it. */
    for (size_t f = 0; f < F; f++) {
        qids[f] = 0;
        if (skip[f])
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
        size_t row;
        if (candidates[i] == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: candidate %zu is NULL", i);
            goto done;
        }
        if (it == NULL) {
            rc = tfrs__feature_encode(&m->g.feat[c], candidates[i], strlen(candidates[i]),
                                      &enc[c], &cids[i], "tfrs_model_rank: candidates", i);
            if (rc != TFRS_OK)
                goto done;
            continue;
        }
        if ((row = tfrs__items_find(it, candidates[i])) == SIZE_MAX) {
            rc = tfrs__fail(TFRS_ENOTFOUND, "tfrs_model_rank: candidate %zu ('%s') is not in "
                            "the item table", i, candidates[i]);
            goto done;
        }
        cids[i] = (int32_t)row;
    }
    if ((rc = rank_finish(m, &rcd, qids, qin, cids, n, k, out, mem, &L)) == TFRS_OK &&
        n_out != NULL)
        *n_out = k;
done:
    tfrs__encoded_free_array(enc, F);
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
    rank_cands rcd;
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
    if ((rc = rank_alloc(m, n, k, 0, &L, &mem)) != TFRS_OK)
        return rc;
    qids = (int32_t *)(mem + L.o_qids);
    memcpy(qids, query, m->g.nfeat * sizeof(*qids));
    qids[c] = 0;
    memset(mem + L.o_skip, 0, m->g.nfeat);
    mem[L.o_skip + c] = 1;
    rcd.c = c;
    rcd.it = NULL;                       /* ids: the item table is not used */
    rcd.skip = mem + L.o_skip;
    if ((rc = rank_finish(m, &rcd, qids, NULL, candidates, n, k, out, mem, &L)) == TFRS_OK &&
        n_out != NULL)
        *n_out = k;
    tfrs__free(mem);
    return rc;
}

/* ---- the item table ----------------------------------------------------- */

int tfrs_model_set_item_table(tfrs_model *m, const char *candidate_feature,
                              const tfrs_dataset *items)
{
    static const char fn[] = "tfrs_model_set_item_table";
    tfrs__items *fresh;
    size_t c;
    int rc = tfrs__model_check_built(m, fn);

    if (rc != TFRS_OK)
        return rc;
    if (items == NULL) {
        tfrs__items_free(m->items);
        m->items = NULL;
        return TFRS_OK;
    }
    if (candidate_feature == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: candidate_feature is NULL", fn);
    c = tfrs__graph_find_feature(&m->g, candidate_feature);
    if (c == SIZE_MAX)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: no feature named '%s'", fn, candidate_feature);
    if (!tfrs__feature_is_single(&m->g.feat[c]) || (m->g.feat[c].kind != TFRS_FEATURE_STRING &&
                                                    m->g.feat[c].kind != TFRS_FEATURE_HASHED))
        return tfrs__fail(TFRS_EINVAL, "%s: candidate feature '%s' is not a single-token string "
                          "feature (item ids)", fn, candidate_feature);
    if ((rc = tfrs__items_create(&m->g, c, items, &fresh, fn)) != TFRS_OK)
        return rc;
    tfrs__items_free(m->items);
    m->items = fresh;
    return TFRS_OK;
}

size_t tfrs_model_item_features(const tfrs_model *m, size_t *features, size_t cap)
{
    size_t count = 0;

    if (m == NULL || m->items == NULL)
        return 0;
    for (size_t f = 0; f < m->g.nfeat; f++) {
        if (f == m->items->c || !m->items->mask[f])
            continue;
        if (features != NULL && count < cap)
            features[count] = f;
        count++;
    }
    return count;
}
