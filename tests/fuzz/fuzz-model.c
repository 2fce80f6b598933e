/*
 * fuzz-model.c - libFuzzer target for the model loader
 * (tfrs_model_load_buffer).  A model that loads must also predict, rank and
 * take a training step without trouble.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz.h"

static const char unknown[] = "fuzz: not a token";

static void exercise(tfrs_model *m)
{
    size_t F = tfrs_model_num_features(m), known = 1;
    int32_t *ids = calloc(2 * F, sizeof(*ids));
    const char **values = calloc(2 * F, sizeof(*values));
    const char *cands[3];
    float scores[2], scores2[2], labels[2] = { 0.0f, 1.0f };
    tfrs_scored ranked[3];
    size_t nranked = 0;
    double loss;
    int rc;

    FUZZ_CHECK(ids != NULL && values != NULL);
    FUZZ_CHECK(F > 0 && tfrs_model_num_dense(m) > 0 && tfrs_model_num_parameters(m) > 0);
    for (size_t f = 0; f < F; f++) {
        const tfrs_vocab *v = tfrs_model_feature_vocab(m, f);
        size_t vs = tfrs_vocab_size(v);
        FUZZ_CHECK(tfrs_model_feature_name(m, f) != NULL && vs > 0 && vs <= INT32_MAX);
        ids[f] = 0;
        ids[F + f] = (int32_t)(vs - 1);
        values[f] = unknown;
        FUZZ_CHECK(tfrs_vocab_token(v, (int32_t)(vs - 1), &values[F + f]) == TFRS_OK);
        known &= tfrs_vocab_num_tokens(v) > 0;
    }
    FUZZ_CHECK(tfrs_model_predict_ids(m, ids, 2, scores) == TFRS_OK);
    rc = tfrs_model_predict(m, values, 2, scores2);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENOTFOUND);
    if (rc == TFRS_OK && known)
        FUZZ_CHECK(memcmp(&scores[1], &scores2[1], sizeof(float)) == 0);

    cands[0] = values[F];
    cands[1] = unknown;
    cands[2] = values[F];
    rc = tfrs_model_rank(m, values + F, tfrs_model_feature_name(m, 0), cands, 3, 2, ranked,
                         &nranked);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENOTFOUND);
    if (rc == TFRS_OK)
        FUZZ_CHECK(nranked == 2 && ranked[0].index < 3 && ranked[1].index < 3);

    FUZZ_CHECK(tfrs_model_test_step(m, ids, labels, NULL, 2, &loss, scores2) == TFRS_OK);
    rc = tfrs_model_train_step(m, ids, labels, NULL, 2, &loss);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE);
    free(ids);
    free(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tfrs_model *m = NULL;
    int rc = tfrs_model_load_buffer(&m, data, size);

    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EFORMAT || rc == TFRS_EVERSION);
    FUZZ_CHECK((rc == TFRS_OK) == (m != NULL));
    if (m != NULL)
        exercise(m);
    tfrs_model_free(m);
    return 0;
}
