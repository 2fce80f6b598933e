/*
 * custom_loop.c - the tutorial's model trained by a loop of the
 * application's own instead of tfrs_model_fit: its own batches, a
 * validation loss, a learning rate that changes between epochs and a
 * checkpoint after each epoch.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   ./build/examples/custom_loop --epochs 3 --checkpoint ck
 *
 * prints one line per epoch,
 *
 *   epoch 1: lr 0.1 - train loss 5.1234 - validation loss 1.2345 - ck.1.tfrs
 *
 * and leaves ck.1.tfrs, ck.2.tfrs, ... (weights and optimizer state), which
 * tfrs_model_load reads back (and examples/serve serves).
 *
 * The Keras equivalent is a custom training loop over model.train_step and
 * model.test_step, with optimizer.learning_rate assigned between epochs and
 * a tf.train.Checkpoint saved after each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

#define TRAIN_ROWS 80000
#define VAL_ROWS   20000
#define F          2      /* features: user_id, movie_title */

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [options]\n"
            "\n"
            "Trains the tutorial's model on MovieLens 100K with a hand-written loop.\n"
            "\n"
            "  --data DIR          MovieLens 100K directory (as movielens_ranking)\n"
            "  --epochs N          epochs (default 3)\n"
            "  --batch-size N      rows per train_step (default 4096)\n"
            "  --checkpoint PREFIX checkpoints PREFIX.<epoch>.tfrs (default custom_loop)\n"
            "  --help              show this text\n",
            prog);
}

/* The loop's own random numbers (splitmix64): any generator will do, the
 * library does not need to know the order of the rows. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Fisher-Yates: order[] becomes a random permutation of itself. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_random(state) % i), t = order[i - 1];

        order[i - 1] = order[j];
        order[j] = t;
    }
}

int main(int argc, char **argv)
{
    const char *data = NULL, *prefix = "custom_loop", *dir, *v;
    unsigned long long epochs = 3, batch = 4096;
    tfrs_dataset *ratings = NULL, *train = NULL, *val = NULL;
    tfrs_vocab *users = NULL, *movies = NULL;
    tfrs_model *model = NULL;
    tfrs_optimizer_options opt;
    const float *train_labels, *val_labels;
    int32_t *train_ids = NULL, *val_ids = NULL, *batch_ids = NULL;
    float *batch_labels = NULL;
    size_t *order = NULL, n_train, n_val;
    uint64_t rng = 2026;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if ((v = ex_option_value(argc, argv, &i, "--data")) != NULL) {
            data = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--checkpoint")) != NULL) {
            prefix = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--epochs")) != NULL) {
            if (ex_parse_u64(v, 1000, &epochs) < 0 || epochs == 0)
                ex_bad_value(argv[0], "--epochs", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--batch-size")) != NULL) {
            if (ex_parse_u64(v, TRAIN_ROWS, &batch) < 0 || batch == 0)
                ex_bad_value(argv[0], "--batch-size", v);
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            return 2;
        }
    }
    if ((dir = ex_find_data(data)) == NULL || !ex_has_movielens(dir)) {
        ex_explain_download();
        return 1;
    }

    /* The tutorial's data, split and model (movielens_ranking.c explains
     * each step): the 20,000 rows after the training rows validate. */
    EX_CHECK(tfrs_dataset_load_movielens(&ratings, dir, NULL));
    EX_CHECK(tfrs_dataset_shuffle(ratings, 42));
    EX_CHECK(tfrs_dataset_slice(&train, ratings, 0, TRAIN_ROWS));
    EX_CHECK(tfrs_dataset_slice(&val, ratings, TRAIN_ROWS, VAL_ROWS));
    EX_CHECK(tfrs_vocab_adapt_column(&users, ratings, "user_id", NULL));
    EX_CHECK(tfrs_vocab_adapt_column(&movies, ratings, "movie_title", NULL));
    EX_CHECK(tfrs_model_create(&model, 42));
    EX_CHECK(tfrs_model_add_feature(model, "user_id", users, 32));
    EX_CHECK(tfrs_model_add_feature(model, "movie_title", movies, 32));
    EX_CHECK(tfrs_model_add_dense(model, 256, TFRS_ACT_RELU, 0.0f));
    EX_CHECK(tfrs_model_add_dense(model, 64, TFRS_ACT_RELU, 0.0f));
    EX_CHECK(tfrs_model_add_dense(model, 1, TFRS_ACT_LINEAR, 0.0f));
    EX_CHECK(tfrs_optimizer_options_init(&opt, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                         TFRS_OPT_ADAGRAD));
    opt.learning_rate = 0.1f;
    EX_CHECK(tfrs_model_set_optimizer(model, &opt));
    EX_CHECK(tfrs_model_build(model));

    /* Strings to ids once, up front: ids[r * F + f] is row r's index for
     * feature f (the model's vocabularies).  Labels are a column view. */
    n_train = tfrs_dataset_num_rows(train);
    n_val = tfrs_dataset_num_rows(val);
    train_ids = malloc(n_train * F * sizeof(*train_ids));
    val_ids = malloc(n_val * F * sizeof(*val_ids));
    batch_ids = malloc((size_t)batch * F * sizeof(*batch_ids));
    batch_labels = malloc((size_t)batch * sizeof(*batch_labels));
    order = malloc(n_train * sizeof(*order));
    if (!train_ids || !val_ids || !batch_ids || !batch_labels || !order) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        rc = 1;
        goto out;
    }
    EX_CHECK(tfrs_model_lookup_dataset(model, train, train_ids));
    EX_CHECK(tfrs_model_lookup_dataset(model, val, val_ids));
    EX_CHECK(tfrs_dataset_floats(train, "user_rating", &train_labels));
    EX_CHECK(tfrs_dataset_floats(val, "user_rating", &val_labels));
    for (size_t r = 0; r < n_train; r++)
        order[r] = r;

    for (unsigned e = 1; e <= epochs; e++) {
        double train_sum = 0.0, val_sum = 0.0, loss;
        char path[4096];

        /* Halve the rate after the first epoch.  Same optimizer kind, so
         * set_optimizer only replaces its settings: the Adagrad
         * accumulators and the step counter carry on (changing the kind
         * after a step is TFRS_ESTATE). */
        if (e > 1) {
            opt.learning_rate *= 0.5f;
            EX_CHECK(tfrs_model_set_optimizer(model, &opt));
        }

        /* One epoch: a fresh permutation, gathered batch by batch. */
        shuffle(order, n_train, &rng);
        for (size_t start = 0; start < n_train; start += batch) {
            size_t n = n_train - start < batch ? n_train - start : (size_t)batch;

            for (size_t i = 0; i < n; i++) {
                size_t r = order[start + i];

                memcpy(&batch_ids[i * F], &train_ids[r * F], F * sizeof(*batch_ids));
                batch_labels[i] = train_labels[r];
            }
            /* model.train_step(batch): forward, loss, backward, update. */
            EX_CHECK(tfrs_model_train_step(model, batch_ids, batch_labels, NULL, n, &loss));
            train_sum += loss * (double)n;
        }

        /* model.test_step over the validation rows: forward and loss only
         * (the model is const here).  The rows need no gathering. */
        for (size_t start = 0; start < n_val; start += batch) {
            size_t n = n_val - start < batch ? n_val - start : (size_t)batch;

            EX_CHECK(tfrs_model_test_step(model, &val_ids[start * F], &val_labels[start],
                                          NULL, n, &loss, NULL));
            val_sum += loss * (double)n;
        }

        /* A checkpoint: TFRS_SAVE_OPTIMIZER adds the accumulators and the
         * step counter, so training could resume exactly from it. */
        snprintf(path, sizeof(path), "%s.%u.tfrs", prefix, e);
        EX_CHECK(tfrs_model_save(model, path, TFRS_SAVE_OPTIMIZER));
        printf("epoch %u: lr %g - train loss %.4f - validation loss %.4f - %s\n", e,
               (double)opt.learning_rate, train_sum / (double)n_train,
               val_sum / (double)n_val, path);
        fflush(stdout);
    }

out:
    free(order);
    free(batch_labels);
    free(batch_ids);
    free(val_ids);
    free(train_ids);
    tfrs_model_free(model);
    tfrs_vocab_free(movies);
    tfrs_vocab_free(users);
    tfrs_dataset_free(val);
    tfrs_dataset_free(train);
    tfrs_dataset_free(ratings);
    return rc;
}
