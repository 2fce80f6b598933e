/*
 * own_data.c - the tutorial's model on your own ratings: a delimited text
 * file with a header line, whose user, item and rating columns are named on
 * the command line.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   ./build/examples/own_data ratings.csv --user customer --item product \
 *       --rating stars --save mine.tfrs
 *   ./build/examples/serve mine.tfrs alice
 *
 * with ratings.csv like
 *
 *   customer,product,stars,when
 *   alice,blue kettle,4,2024-01-03
 *
 * Other columns are read and ignored.  The rows are shuffled, the last 20%
 * held out; the model trains on the rest, is evaluated on the held-out rows
 * (next to always predicting the mean rating, the baseline to beat) and is
 * saved, with the column names as its feature names.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s FILE --user COL --item COL --rating COL [options]\n"
            "\n"
            "Trains the TFRS basic ranking model on a delimited ratings file whose\n"
            "first line names the columns.\n"
            "\n"
            "  --user COL, --item COL, --rating COL   the columns to use (required)\n"
            "  --delimiter C     field separator: one character, or 'tab' (default ',')\n"
            "  --epochs N        training epochs (default 10)\n"
            "  --batch-size N    training batch size (default 256)\n"
            "  --seed N          seed of the split, the weights and the batches (default 42)\n"
            "  --save PATH       where to save the model (default own_data.tfrs)\n"
            "  --help            show this text\n",
            prog);
}

int main(int argc, char **argv)
{
    const char *file = NULL, *user = NULL, *item = NULL, *rating = NULL, *v;
    const char *save = "own_data.tfrs";
    unsigned long long epochs = 10, batch = 256, seed = 42;
    char delimiter = ',';
    tfrs_dataset *all = NULL, *train = NULL, *test = NULL;
    tfrs_vocab *users = NULL, *items = NULL;
    tfrs_model *model = NULL;
    tfrs_delimited_options load;
    tfrs_optimizer_options opt;
    tfrs_fit_options fit;
    tfrs_metrics m;
    const float *labels;
    double mean = 0.0, se = 0.0;
    size_t rows, n_train;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if ((v = ex_option_value(argc, argv, &i, "--user")) != NULL) {
            user = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--item")) != NULL) {
            item = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--rating")) != NULL) {
            rating = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--save")) != NULL) {
            save = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--delimiter")) != NULL) {
            if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0)
                delimiter = '\t';
            else if (strlen(v) == 1 && v[0] != '\n' && v[0] != '\r')
                delimiter = v[0];
            else
                ex_bad_value(argv[0], "--delimiter", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--epochs")) != NULL) {
            if (ex_parse_u64(v, 100000, &epochs) < 0 || epochs == 0)
                ex_bad_value(argv[0], "--epochs", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--batch-size")) != NULL) {
            if (ex_parse_u64(v, 100000000, &batch) < 0 || batch == 0)
                ex_bad_value(argv[0], "--batch-size", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--seed")) != NULL) {
            if (ex_parse_u64(v, UINT64_MAX, &seed) < 0)
                ex_bad_value(argv[0], "--seed", v);
        } else if (argv[i][0] != '-' && file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", argv[0], argv[i]);
            return 2;
        }
    }
    if (file == NULL || user == NULL || item == NULL || rating == NULL) {
        usage(stderr, argv[0]);
        return 2;
    }

    /* pd.read_csv(file, sep=delimiter, dtype={rating: float, others: str}):
     * only the columns listed as float are numbers, every other column is
     * a string column (interned: each distinct value stored once). */
    EX_CHECK(tfrs_delimited_options_init(&load, TFRS_DELIMITED_OPTIONS_VERSION));
    load.delimiter = delimiter;
    load.float_columns = &rating;
    load.num_float_columns = 1;
    EX_CHECK(tfrs_dataset_load_delimited(&all, file, &load));

    /* shuffle, take 80% for training and hold out the rest */
    rows = tfrs_dataset_num_rows(all);
    if (rows < 10) {
        fprintf(stderr, "%s: %s has %zu rows; at least 10 are needed\n", argv[0], file, rows);
        rc = 1;
        goto out;
    }
    n_train = rows - rows / 5;
    EX_CHECK(tfrs_dataset_shuffle(all, seed));
    EX_CHECK(tfrs_dataset_slice(&train, all, 0, n_train));
    EX_CHECK(tfrs_dataset_slice(&test, all, n_train, rows - n_train));

    /* Vocabularies from every row, as the tutorial adapts them: a user or
     * item seen only in held-out rows gets an (untrained) row of its own.
     * Adapt on `train` instead to send such newcomers to "[UNK]". */
    EX_CHECK(tfrs_vocab_adapt_column(&users, all, user, NULL));
    EX_CHECK(tfrs_vocab_adapt_column(&items, all, item, NULL));
    printf("%s: %zu rows (%zu train, %zu held out), %zu users, %zu items\n", file, rows,
           n_train, rows - n_train, tfrs_vocab_num_tokens(users), tfrs_vocab_num_tokens(items));

    /* The tutorial's model, its features named after the columns: fit and
     * evaluate read the columns of those names. */
    EX_CHECK(tfrs_model_create(&model, seed));
    EX_CHECK(tfrs_model_add_feature(model, user, users, 32));
    EX_CHECK(tfrs_model_add_feature(model, item, items, 32));
    EX_CHECK(tfrs_model_add_dense(model, 256, TFRS_ACT_RELU, 0.0f));
    EX_CHECK(tfrs_model_add_dense(model, 64, TFRS_ACT_RELU, 0.0f));
    EX_CHECK(tfrs_model_add_dense(model, 1, TFRS_ACT_LINEAR, 0.0f));
    EX_CHECK(tfrs_optimizer_options_init(&opt, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                         TFRS_OPT_ADAGRAD));
    opt.learning_rate = 0.1f;
    EX_CHECK(tfrs_model_set_optimizer(model, &opt));
    EX_CHECK(tfrs_model_set_label(model, rating, NULL));       /* MSE + RMSE task */
    EX_CHECK(tfrs_model_build(model));

    /* model.fit(train, epochs=N, batch_size=B, shuffle=True) */
    EX_CHECK(tfrs_fit_options_init(&fit, TFRS_FIT_OPTIONS_VERSION));
    fit.epochs = (int)epochs;
    fit.batch_size = (size_t)batch;
    fit.shuffle_seed = seed;
    EX_CHECK(tfrs_model_fit(model, train, &fit, NULL));

    /* model.evaluate(test), and the baseline: the training rows' mean
     * rating predicted for every held-out row. */
    EX_CHECK(tfrs_model_evaluate(model, test, 4096, &m));
    EX_CHECK(tfrs_dataset_floats(train, rating, &labels));
    for (size_t r = 0; r < n_train; r++)
        mean += labels[r] / (double)n_train;
    EX_CHECK(tfrs_dataset_floats(test, rating, &labels));
    for (size_t r = 0; r < rows - n_train; r++)
        se += (labels[r] - mean) * (labels[r] - mean);
    printf("held-out RMSE %.4f (predicting the mean rating %.3f: %.4f)\n", m.rmse, mean,
           sqrt(se / (double)(rows - n_train)));

    EX_CHECK(tfrs_model_save(model, save, 0));
    printf("saved to %s (features '%s' and '%s')\n", save, user, item);

out:
    tfrs_model_free(model);
    tfrs_vocab_free(items);
    tfrs_vocab_free(users);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
    tfrs_dataset_free(all);
    return rc;
}
