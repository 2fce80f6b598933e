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

#include "internal.h"

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

static int by_score_desc(const void *pa, const void *pb)
{
    const tfrs_scored *a = pa, *b = pb;
    int na = isnan(a->score), nb = isnan(b->score);

    if (na != nb)           /* NaN scores sort last */
        return na - nb;
    if (a->score > b->score)
        return -1;
    if (a->score < b->score)
        return 1;
    return (a->index > b->index) - (a->index < b->index);
}

int tfrs_model_rank(const tfrs_model *m, const char *const *query, const char *candidate_feature,
                    const char *const *candidates, size_t n, size_t top_k, tfrs_scored *out,
                    size_t *n_out)
{
    size_t F, c = SIZE_MAX, k, count;
    int32_t *ids = NULL, *qids = NULL;
    float *scores = NULL;
    tfrs_scored *all = NULL;
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
    if (tfrs__mul(n, F, &count) < 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_rank: too many candidates");
    ids = tfrs__calloc(count, sizeof(*ids));
    qids = tfrs__calloc(F, sizeof(*qids));
    scores = tfrs__calloc(n, sizeof(*scores));
    all = tfrs__calloc(n, sizeof(*all));
    if (ids == NULL || qids == NULL || scores == NULL || all == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_rank: out of memory");
        goto done;
    }
    /* The query's values are looked up once. */
    for (size_t f = 0; f < F; f++) {
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
        memcpy(ids + i * F, qids, F * sizeof(*ids));
        if ((rc = tfrs_vocab_lookup(m->feat[c].vocab, candidates[i], &ids[i * F + c])) != TFRS_OK)
            goto done;
    }
    if ((rc = score_ids(m, ids, n, scores)) != TFRS_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        all[i].index = i;
        all[i].score = scores[i];
    }
    qsort(all, n, sizeof(*all), by_score_desc);
    k = top_k == 0 || top_k > n ? n : top_k;
    memcpy(out, all, k * sizeof(*out));
    if (n_out != NULL)
        *n_out = k;
    rc = TFRS_OK;
done:
    tfrs__free(ids);
    tfrs__free(qids);
    tfrs__free(scores);
    tfrs__free(all);
    return rc;
}
