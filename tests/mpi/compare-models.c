/*
 * compare-models.c A B [TOL] - the largest difference between the weights
 * of two model files of the same architecture, per tensor relative to that
 * tensor's largest weight in A: max |a - b| / max |a|.  Prints each tensor's
 * figure and the largest; exits 1 if it exceeds TOL (default 1e-4), 2 on a
 * usage or load error.  Public API only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tfrsc.h"

static double worst;

static void tensor(const char *name, const float *a, const float *b, size_t n)
{
    double big = 0.0, diff = 0.0, rel;

    for (size_t i = 0; i < n; i++) {
        big = fmax(big, fabs((double)a[i]));
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
    }
    rel = big > 0.0 ? diff / big : diff;
    printf("%-28s %10zu values: largest difference %.3g, relative %.3g\n", name, n, diff, rel);
    worst = fmax(worst, rel);
}

int main(int argc, char **argv)
{
    tfrs_model *a = NULL, *b = NULL;
    double tol = argc > 3 ? atof(argv[3]) : 1e-4;
    char name[64];

    if (argc < 3) {
        fprintf(stderr, "usage: %s A.tfrs B.tfrs [TOL]\n", argv[0]);
        return 2;
    }
    if (tfrs_model_load(&a, argv[1]) != TFRS_OK || tfrs_model_load(&b, argv[2]) != TFRS_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], tfrs_last_error());
        return 2;
    }
    if (tfrs_model_num_features(a) != tfrs_model_num_features(b) ||
        tfrs_model_num_dense(a) != tfrs_model_num_dense(b)) {
        fprintf(stderr, "%s: the models differ in architecture\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < tfrs_model_num_features(a); i++) {
        const tfrs_embedding *ea = tfrs_model_feature_embedding(a, i);
        const tfrs_embedding *eb = tfrs_model_feature_embedding(b, i);
        if (ea == NULL || eb == NULL)
            continue;
        snprintf(name, sizeof(name), "%s embedding", tfrs_model_feature_name(a, i));
        tensor(name, tfrs_embedding_weights(ea), tfrs_embedding_weights(eb),
               tfrs_embedding_rows(ea) * tfrs_embedding_dim(ea));
    }
    for (size_t j = 0; j < tfrs_model_num_dense(a); j++) {
        const tfrs_dense *da = tfrs_model_dense(a, j), *db = tfrs_model_dense(b, j);
        snprintf(name, sizeof(name), "dense %zu kernel", j);
        tensor(name, tfrs_dense_kernel(da), tfrs_dense_kernel(db),
               tfrs_dense_in(da) * tfrs_dense_units(da));
        snprintf(name, sizeof(name), "dense %zu bias", j);
        tensor(name, tfrs_dense_bias(da), tfrs_dense_bias(db), tfrs_dense_units(da));
    }
    printf("largest relative difference: %.3g (tolerance %.3g)\n", worst, tol);
    tfrs_model_free(a);
    tfrs_model_free(b);
    return worst <= tol ? 0 : 1;
}
