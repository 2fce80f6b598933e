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
        rc = tfrs__graph_score(&m->g, ids, NULL, n, TFRS__BLOCK, scores);
    return rc != TFRS_OK ? rc
                         : tfrs__graph_check_scores(scores, n, 0, 0, "tfrs_model_predict_ids");
}

/* keys[i * F + f] = the key of values[i * F + f] for i < n, with the side
 * tables in enc and in (F each; enc is emptied first).  Example numbers in
 * messages count from base. */
int tfrs__model_encode_values(const tfrs_model *m, const char *const *values, size_t n,
                              int32_t *keys, tfrs__encoded *enc, tfrs__input *in, size_t base,
                              const char *fn)
{
    size_t F = m->g.nfeat;

    for (size_t f = 0; f < F; f++)
        enc[f].noff = enc[f].nids = enc[f].nvalues = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < F; f++) {
            const char *v = values[i * F + f];
            int rc;
            if (v == NULL)
                return tfrs__fail(TFRS_EINVAL, "%s: example %zu: value of feature '%s' is NULL",
                                  fn, base + i, m->g.feat[f].name);
            rc = tfrs__feature_encode(&m->g.feat[f], v, strlen(v), &enc[f], &keys[i * F + f],
                                      fn, base + i);
            if (rc != TFRS_OK)
                return rc;
        }
    }
    for (size_t f = 0; f < F; f++)
        in[f] = tfrs__encoded_input(&enc[f]);
    return TFRS_OK;
}

int tfrs_model_predict_dataset(const tfrs_model *m, const tfrs_dataset *ds, float *scores)
{
    static const char fn[] = "tfrs_model_predict_dataset";
    int rc = tfrs__model_check_call(m, fn, ds != NULL && scores != NULL,
                                    "ds and scores are required");
    size_t n, F, count;
    int32_t *ids = NULL;
    tfrs__encoded *enc = NULL;
    tfrs__input *in = NULL;
    tfrs__scratch sc = { 0 };

    if (rc != TFRS_OK)
        return rc;
    n = tfrs_dataset_num_rows(ds);
    F = m->g.nfeat;
    if (n == 0)
        return TFRS_OK;
    if (tfrs__mul(n, F, &count) < 0 || count > SIZE_MAX / sizeof(int32_t))
        return tfrs__fail(TFRS_ENOMEM, "%s: dataset too large", fn);
    ids = tfrs__calloc(count, sizeof(*ids));
    enc = tfrs__calloc(F, sizeof(*enc));
    in = tfrs__calloc(F, sizeof(*in));
    if (ids == NULL || enc == NULL || in == NULL)
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    if (rc == TFRS_OK)
        rc = tfrs__model_bind_keys(m, ds, ids, enc, in, fn);
    if (rc == TFRS_OK)
        rc = tfrs__graph_scratch_alloc(&m->g, n < TFRS__BLOCK ? n : TFRS__BLOCK, &sc);
    if (rc == TFRS_OK && (rc = tfrs__graph_score_in(&m->g, &sc, ids, in, n, scores)) == TFRS_OK)
        rc = tfrs__graph_check_scores(scores, n, 0, 0, fn);
    tfrs__graph_scratch_free(&sc);
    tfrs__encoded_free_array(enc, F);
    tfrs__free(in);
    tfrs__free(ids);
    return rc;
}

int tfrs_model_predict(const tfrs_model *m, const char *const *values, size_t n, float *scores)
{
    int rc = tfrs__model_check_call(m, "tfrs_model_predict",
                                    values != NULL && scores != NULL && n > 0,
                                    "values, scores and n > 0 required");
    size_t block, F;
    int32_t *ids = NULL;
    tfrs__encoded *enc = NULL;
    tfrs__input *in = NULL;
    tfrs__scratch sc = { 0 };

    if (rc == TFRS_OK)
        rc = tfrs__model_check_rows(m, n, "tfrs_model_predict");
    if (rc != TFRS_OK)
        return rc;
    /* One block of keys and one scratch for the whole call. */
    F = m->g.nfeat;
    block = n < TFRS__BLOCK ? n : TFRS__BLOCK;
    ids = tfrs__calloc(block * F, sizeof(*ids));
    enc = tfrs__calloc(F, sizeof(*enc));
    in = tfrs__calloc(F, sizeof(*in));
    if (ids == NULL || enc == NULL || in == NULL)
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_predict: out of memory");
    else
        rc = tfrs__graph_scratch_alloc(&m->g, block, &sc);
    for (size_t i = 0; i < n && rc == TFRS_OK; i += block) {
        size_t b = n - i < block ? n - i : block;
        rc = tfrs__model_encode_values(m, values + i * F, b, ids, enc, in, i,
                                       "tfrs_model_predict");
        if (rc == TFRS_OK && (rc = tfrs__graph_score_in(&m->g, &sc, ids, in, b, scores + i)) ==
                                 TFRS_OK)
            rc = tfrs__graph_check_scores(scores + i, b, i, 0, "tfrs_model_predict");
    }
    tfrs__graph_scratch_free(&sc);
    tfrs__encoded_free_array(enc, F);
    tfrs__free(in);
    tfrs__free(ids);
    return rc;
}
