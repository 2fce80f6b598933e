/*
 * predict.c - inference: scores of examples given as ids or as strings.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every call here takes a const model and keeps its state in per-call
 * scratch memory, so one built model can serve many threads at once.
 */
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "graph.h"
#include "model.h"

int tfrs_model_predict_ids(const tfrs_model *m, const int32_t *ids, size_t n, float *scores)
{
    int rc = tfrs__model_check_batch(m, "tfrs_model_predict_ids", ids, n, scores != NULL,
                                     "ids, scores and n > 0 required");

    if (rc == TFRS_OK)
        rc = tfrs__graph_score(&m->g, ids, n, TFRS__BLOCK, scores);
    return rc != TFRS_OK ? rc
                         : tfrs__graph_check_scores(scores, n, 0, 0, "tfrs_model_predict_ids");
}

/* ids[i * F + f] = lookup(values[i * F + f]) for i < n. */
static int lookup_values(const tfrs_model *m, const char *const *values, size_t n, int32_t *ids,
                         const char *fn)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < m->g.nfeat; f++) {
            const char *v = values[i * m->g.nfeat + f];
            int rc;
            if (v == NULL)
                return tfrs__fail(TFRS_EINVAL, "%s: example %zu: value of feature '%s' is NULL",
                                  fn, i, m->g.feat[f].name);
            rc = tfrs_vocab_lookup(m->g.feat[f].vocab, v, &ids[i * m->g.nfeat + f]);
            if (rc != TFRS_OK)
                return rc;
        }
    }
    return TFRS_OK;
}

int tfrs_model_predict(const tfrs_model *m, const char *const *values, size_t n, float *scores)
{
    int rc = tfrs__model_check_call(m, "tfrs_model_predict",
                                    values != NULL && scores != NULL && n > 0,
                                    "values, scores and n > 0 required");
    size_t block;
    int32_t *ids = NULL;
    tfrs__scratch sc = { 0 };

    if (rc == TFRS_OK)
        rc = tfrs__model_check_rows(m, n, "tfrs_model_predict");
    if (rc != TFRS_OK)
        return rc;
    /* One block of ids and one scratch for the whole call. */
    block = n < TFRS__BLOCK ? n : TFRS__BLOCK;
    ids = tfrs__calloc(block * m->g.nfeat, sizeof(*ids));
    if (ids == NULL)
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_predict: out of memory");
    else
        rc = tfrs__graph_scratch_alloc(&m->g, block, &sc);
    for (size_t i = 0; i < n && rc == TFRS_OK; i += block) {
        size_t b = n - i < block ? n - i : block;
        rc = lookup_values(m, values + i * m->g.nfeat, b, ids, "tfrs_model_predict");
        if (rc == TFRS_OK) {
            tfrs__graph_score_in(&m->g, &sc, ids, b, scores + i);
            rc = tfrs__graph_check_scores(scores + i, b, i, 0, "tfrs_model_predict");
        }
    }
    tfrs__graph_scratch_free(&sc);
    tfrs__free(ids);
    return rc;
}
