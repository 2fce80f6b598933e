/*
 * fuzz-model.c - libFuzzer target for the model loader
 * (tfrs_model_load_buffer).  A model that loads must also predict, rank and
 * take a training step without trouble.
 *
 * The data section is covered by a CRC-32, which random mutations of the
 * weights or the vocabulary bytes almost never match.  So an input whose
 * stored CRC is wrong is also tried a second time with the right CRC
 * written into its header, which lets the fuzzer reach the checks behind it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <limits.h>
#include <zlib.h>

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
    int rc, finite;

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
    /* A file may hold finite weights so large that scores overflow: then
     * every scoring call says so (TFRS_ENONFINITE), and none reports a
     * non-finite score as a success. */
    rc = tfrs_model_predict_ids(m, ids, 2, scores);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE);
    if (rc == TFRS_OK)
        FUZZ_CHECK(isfinite(scores[0]) && isfinite(scores[1]));
    finite = rc == TFRS_OK;
    rc = tfrs_model_predict(m, values, 2, scores2);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENOTFOUND || rc == TFRS_ENONFINITE);
    if (rc == TFRS_OK && known && finite)
        FUZZ_CHECK(memcmp(&scores[1], &scores2[1], sizeof(float)) == 0);

    cands[0] = values[F];
    cands[1] = unknown;
    cands[2] = values[F];
    rc = tfrs_model_rank(m, values + F, tfrs_model_feature_name(m, 0), cands, 3, 2, ranked,
                         &nranked);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENOTFOUND || rc == TFRS_ENONFINITE);
    if (rc == TFRS_OK)
        FUZZ_CHECK(nranked == 2 && ranked[0].index < 3 && ranked[1].index < 3 &&
                   isfinite(ranked[0].score) && isfinite(ranked[1].score));

    rc = tfrs_model_test_step(m, ids, labels, NULL, 2, &loss, scores2);
    FUZZ_CHECK(rc == TFRS_OK || (rc == TFRS_ENONFINITE && !finite));
    rc = tfrs_model_train_step(m, ids, labels, NULL, 2, &loss);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE);
    free(ids);
    free(values);
}

static void load(const uint8_t *data, size_t size)
{
    tfrs_model *m = NULL;
    int rc = tfrs_model_load_buffer(&m, data, size);

    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EFORMAT || rc == TFRS_EVERSION);
    FUZZ_CHECK((rc == TFRS_OK) == (m != NULL));
    if (m != NULL)
        exercise(m);
    tfrs_model_free(m);
}

/* A copy of data with the CRC-32 of its data section written over the 8
 * characters after the first "crc32":" of its header, or NULL if there is
 * no such place or it already holds that CRC. */
static uint8_t *fix_crc(const uint8_t *data, size_t size)
{
    static const char key[] = "\"crc32\":\"";
    const size_t klen = sizeof(key) - 1;
    uint64_t hlen = 0;
    uint8_t *copy;
    char hex[9];

    if (size < 8)
        return NULL;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)data[i] << (8 * i);
    if (hlen > size - 8 || size - 8 - hlen > UINT_MAX)
        return NULL;
    for (size_t i = 8; i + klen + 8 <= 8 + hlen; i++) {
        if (memcmp(data + i, key, klen) != 0)
            continue;
        snprintf(hex, sizeof(hex), "%08lx",
                 crc32(0L, data + 8 + hlen, (uInt)(size - 8 - hlen)));
        if (memcmp(data + i + klen, hex, 8) == 0 || (copy = malloc(size)) == NULL)
            return NULL;
        memcpy(copy, data, size);
        memcpy(copy + i + klen, hex, 8);
        return copy;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed;

    load(data, size);
    if ((fixed = fix_crc(data, size)) != NULL) {
        load(fixed, size);
        free(fixed);
    }
    return 0;
}
