/*
 * movielens_features.c - a ranking model with MovieLens side features,
 * described by a JSON configuration (movielens_features.json).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   1. load MovieLens 100K with the user's age, gender, occupation and zip
 *      code and the movie's genres and release year
 *   2. split as the basic ranking tutorial does: shuffle with seed 42, the
 *      first 80,000 rows train, the next 20,000 test
 *   3. hold out the last validation_fraction of the training rows (the
 *      configuration's "training" section) for early stopping
 *   4. build the model the configuration describes, adapting vocabularies,
 *      bag vocabularies and bucket boundaries on the training rows only
 *   5. train with early stopping on the held-out rows, keep the best epoch
 *   6. print the test RMSE (last line: "test RMSE <value>")
 *
 * Run it from the top of the source tree (it finds
 * examples/movielens_features.json, or the copy next to the executable),
 * or give --config FILE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

#define SPLIT_SEED  42
#define TRAIN_ROWS  80000
#define TEST_ROWS   20000
#define CONFIG_NAME "movielens_features.json"

typedef struct options {
    const char *data;
    const char *config;
    int         quiet;
} options;

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [--data DIR] [--config FILE] [--quiet]\n"
            "\n"
            "Trains a ranking model with MovieLens side features (a genre bag, a\n"
            "bucketized timestamp, a cross layer) described by a JSON configuration,\n"
            "with early stopping on a slice of the training data, and prints the\n"
            "test RMSE.\n"
            "\n"
            "  --data DIR      MovieLens 100K directory; default $TFRSC_DATA, then\n"
            "                  data/ml-100k, then ../shared/data/ml-100k\n"
            "  --config FILE   the model's configuration; default\n"
            "                  examples/" CONFIG_NAME " or the copy next to this program\n"
            "  --quiet         print only the test RMSE\n"
            "  --help          show this text\n",
            prog);
}

static void parse_args(int argc, char **argv, options *o)
{
    const char *v;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            exit(0);
        } else if ((v = ex_option_value(argc, argv, &i, "--data")) != NULL) {
            o->data = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--config")) != NULL) {
            o->config = v;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
}

static int on_progress(const tfrs_progress *p, void *payload)
{
    if (!p->end_of_epoch || *(const int *)payload)
        return 0;
    printf("epoch %d: loss %.4f - rmse %.4f - regularization %.4f", p->epoch, p->metrics.loss,
           p->metrics.rmse, p->metrics.regularization_loss);
    if (p->has_validation)
        printf(" - val_rmse %.4f%s", p->validation.rmse,
               p->best_epoch == p->epoch ? " (best)" : "");
    printf(" - %.1fs\n", p->seconds);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    options o = { NULL, NULL, 0 };
    tfrs_load_options lo;
    tfrs_dataset *all = NULL, *train = NULL, *test = NULL, *fit_rows = NULL, *val = NULL;
    tfrs_model *model = NULL;
    tfrs_fit_options fo;
    tfrs_metrics result;
    char path[4096], *config = NULL;
    const char *dir, *config_path;
    size_t config_len = 0, nval;
    double val_fraction = 0.0;
    int rc = 0, epochs_run = 0, best_epoch = 0;

    parse_args(argc, argv, &o);
    dir = ex_find_data(o.data);
    if (dir == NULL || !ex_has_movielens(dir)) {
        if (dir != NULL)
            fprintf(stderr, "%s: no u.data in %s\n", argv[0], dir);
        ex_explain_download();
        return 1;
    }
    config_path = o.config != NULL ? o.config
                                   : ex_find_config(argv[0], CONFIG_NAME, path, sizeof(path));
    if ((config = ex_read_text(config_path, &config_len)) == NULL) {
        fprintf(stderr, "error: cannot read the configuration %s\n", config_path);
        return 1;
    }

    /* 1-2. the ratings with side features, split as the tutorial splits */
    EX_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION));
    lo.movielens_features = TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES;
    EX_CHECK(tfrs_dataset_load_movielens(&all, dir, &lo));
    EX_CHECK(tfrs_dataset_shuffle(all, SPLIT_SEED));
    EX_CHECK(tfrs_dataset_slice(&train, all, 0, TRAIN_ROWS));
    EX_CHECK(tfrs_dataset_slice(&test, all, TRAIN_ROWS, TEST_ROWS));

    /* 3. the training settings, and the validation slice they ask for */
    EX_CHECK(tfrs_config_fit_options(config, config_len, config_path, &fo, &val_fraction));
    nval = (size_t)(val_fraction * (double)tfrs_dataset_num_rows(train));
    EX_CHECK(tfrs_dataset_slice(&fit_rows, train, 0, tfrs_dataset_num_rows(train) - nval));
    if (nval > 0) {
        EX_CHECK(tfrs_dataset_slice(&val, train, tfrs_dataset_num_rows(train) - nval, nval));
        fo.validation = val;
    }

    /* 4. the model, adapted on the training rows only */
    EX_CHECK(tfrs_model_from_config(&model, config, config_len, config_path, fit_rows));
    if (!o.quiet)
        printf("%zu features, %zu layers, %zu parameters; %zu training, %zu validation, "
               "%zu test rows\n", tfrs_model_num_features(model), tfrs_model_num_layers(model),
               tfrs_model_num_parameters(model), tfrs_dataset_num_rows(fit_rows), nval,
               tfrs_dataset_num_rows(test));

    /* 5. training with early stopping */
    fo.progress = on_progress;
    fo.payload = &o.quiet;
    fo.epochs_run = &epochs_run;
    fo.best_epoch = &best_epoch;
    EX_CHECK(tfrs_model_fit(model, fit_rows, &fo, NULL));
    if (!o.quiet && nval > 0)
        printf("ran %d epochs; kept the weights of epoch %d\n", epochs_run, best_epoch);

    /* 6. the test set, never seen before */
    EX_CHECK(tfrs_model_evaluate(model, test, 4096, &result));
    printf("test RMSE %.4f\n", result.rmse);
out:
    tfrs_model_free(model);
    tfrs_dataset_free(val);
    tfrs_dataset_free(fit_rows);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
    tfrs_dataset_free(all);
    free(config);
    return rc;
}
