/*
 * client.c - a program outside the libtfrsc tree, built by
 * tests/install-test.sh against an installed copy through pkg-config:
 *
 *     cc client.c $(pkg-config --cflags --libs tfrsc)
 *
 * It creates a vocabulary and a one-feature model with a single dense unit,
 * scores three strings, and prints the library version.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <tfrsc.h>

static int failed(const char *what, int status)
{
    fprintf(stderr, "client: %s: %s: %s\n", what, tfrs_status_str(status), tfrs_last_error());
    return 1;
}

int main(void)
{
    static const char *const items[] = { "apple", "banana", "cherry" };
    static const char *const queries[] = { "banana", "cherry", "durian" };
    tfrs_vocab *vocab = NULL;
    tfrs_model *model = NULL;
    float scores[3];
    int32_t id = -1;
    int st, rc = 1;

    if (tfrs_version_number() != TFRS_VERSION_NUMBER ||
        strcmp(tfrs_version_string(), TFRS_VERSION_STRING) != 0) {
        fprintf(stderr, "client: header %s but library %s\n", TFRS_VERSION_STRING,
                tfrs_version_string());
        return 1;
    }
    if ((st = tfrs_vocab_create(&vocab, items, 3, NULL)) != TFRS_OK)
        return failed("tfrs_vocab_create", st);
    if ((st = tfrs_vocab_lookup(vocab, "banana", &id)) != TFRS_OK) {
        rc = failed("tfrs_vocab_lookup", st);
        goto out;
    }
    if (id != 2 || tfrs_vocab_size(vocab) != 4) {
        fprintf(stderr, "client: unexpected vocabulary (id %d, size %zu)\n", (int)id,
                tfrs_vocab_size(vocab));
        goto out;
    }
    if ((st = tfrs_model_create(&model, 7)) != TFRS_OK ||
        (st = tfrs_model_add_feature(model, "item", vocab, 4)) != TFRS_OK ||
        (st = tfrs_model_add_dense(model, 1, TFRS_ACT_LINEAR, 0.0f)) != TFRS_OK ||
        (st = tfrs_model_build(model)) != TFRS_OK) {
        rc = failed("building the model", st);
        goto out;
    }
    if ((st = tfrs_model_predict(model, queries, 3, scores)) != TFRS_OK) {
        rc = failed("tfrs_model_predict", st);
        goto out;
    }
    for (int i = 0; i < 3; i++) {
        if (!isfinite(scores[i])) {
            fprintf(stderr, "client: score %d is not finite\n", i);
            goto out;
        }
        printf("%s: %.6f\n", queries[i], (double)scores[i]);
    }
    printf("libtfrsc %s (%u)\n", tfrs_version_string(), tfrs_version_number());
    rc = 0;
out:
    tfrs_model_free(model);
    tfrs_vocab_free(vocab);
    return rc;
}
