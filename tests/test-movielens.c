/*
 * test-movielens.c - accuracy of the tutorial model on MovieLens 100K.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Uses only the public API.  The data is found through $TFRSC_DATA, then
 * data/ml-100k, then ../shared/data/ml-100k (the working directory is the
 * source root); without it the whole program exits 77, meson's "skipped".
 *
 * The configuration is the one of examples/movielens_ranking.c and of the
 * TFRS basic ranking tutorial: shuffle seed 42, first 80,000 rows train,
 * next 20,000 test, 32-d embeddings of user id and title, Dense 256 relu,
 * 64 relu, 1; MSE with RMSE; Adagrad 0.1; batches of 8192, evaluation in
 * batches of 4096.  The TFRS tutorial reports a test RMSE of about 1.11
 * after 3 epochs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tfrsc.h"

#define SEED 42

static const char *data_dir;

#define ck_tfrs(call)                                                          \
    do {                                                                       \
        int st_ = (call);                                                      \
        ck_assert_msg(st_ == TFRS_OK, "%s: %s: %s", #call, tfrs_status_str(st_), \
                      tfrs_last_error());                                      \
    } while (0)

/* The tutorial's model with a full-rank cross layer on the concatenated
 * embeddings before its dense layers, and dropout 0.1 after the first. */
static void cross_model(tfrs_model **model, const tfrs_vocab *users, const tfrs_vocab *movies,
                        const tfrs_task_options *task_opts)
{
    tfrs_ranking_task *task = NULL;
    tfrs_optimizer_options o;

    ck_tfrs(tfrs_model_create(model, SEED));
    ck_tfrs(tfrs_model_add_feature(*model, "user_id", users, 32));
    ck_tfrs(tfrs_model_add_feature(*model, "movie_title", movies, 32));
    ck_tfrs(tfrs_model_add_cross(*model, 0, 0.0f));
    ck_tfrs(tfrs_model_add_dense(*model, 256, TFRS_ACT_RELU, 0.0f));
    ck_tfrs(tfrs_model_add_dropout(*model, 0.1f));
    ck_tfrs(tfrs_model_add_dense(*model, 64, TFRS_ACT_RELU, 0.0f));
    ck_tfrs(tfrs_model_add_dense(*model, 1, TFRS_ACT_LINEAR, 0.0f));
    ck_tfrs(tfrs_ranking_task_create(&task, task_opts));
    ck_tfrs(tfrs_model_set_task(*model, task));
    tfrs_ranking_task_free(task);
    ck_tfrs(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAGRAD));
    o.learning_rate = 0.1f;
    ck_tfrs(tfrs_model_set_optimizer(*model, &o));
    ck_tfrs(tfrs_model_set_label(*model, "user_rating", NULL));
    ck_tfrs(tfrs_model_build(*model));
}

/* Trains the tutorial model (with cross: cross_model) for `epochs` epochs
 * and returns its test RMSE. */
static double test_rmse(int epochs, int cross)
{
    tfrs_dataset *ratings = NULL, *train = NULL, *test = NULL;
    tfrs_vocab *users = NULL, *movies = NULL;
    tfrs_model *model = NULL;
    tfrs_task_options task_opts;
    tfrs_fit_options fit_opts;
    tfrs_metrics m;

    ck_tfrs(tfrs_dataset_load_movielens(&ratings, data_dir, NULL));
    ck_assert_uint_eq(tfrs_dataset_num_rows(ratings), 100000);
    ck_tfrs(tfrs_dataset_shuffle(ratings, 42));
    ck_tfrs(tfrs_dataset_slice(&train, ratings, 0, 80000));
    ck_tfrs(tfrs_dataset_slice(&test, ratings, 80000, 20000));
    ck_assert_uint_eq(tfrs_dataset_num_rows(train), 80000);
    ck_assert_uint_eq(tfrs_dataset_num_rows(test), 20000);

    ck_tfrs(tfrs_vocab_adapt_column(&users, ratings, "user_id", NULL));
    ck_tfrs(tfrs_vocab_adapt_column(&movies, ratings, "movie_title", NULL));
    ck_assert_uint_eq(tfrs_vocab_num_tokens(users), 943);
    /* 1682 items, some sharing a title */
    ck_assert_uint_gt(tfrs_vocab_num_tokens(movies), 1600);
    ck_assert_uint_le(tfrs_vocab_num_tokens(movies), 1682);

    ck_tfrs(tfrs_task_options_init(&task_opts, TFRS_TASK_OPTIONS_VERSION));
    task_opts.loss = TFRS_LOSS_MSE;
    task_opts.metrics = TFRS_METRIC_RMSE;
    if (cross) {
        cross_model(&model, users, movies, &task_opts);
    } else {
        const tu_model_spec spec = {
            .seed = SEED,
            .features = { { "user_id", users, 32 }, { "movie_title", movies, 32 } },
            .dense = { { 256, TFRS_ACT_RELU, 0.0f }, { 64, TFRS_ACT_RELU, 0.0f },
                       { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, TFRS_OPT_ADAGRAD, 0.1f, 0.0f },
            .task = &task_opts,
            .label = "user_rating",
        };
        ck_tfrs(tu_model_new(&model, &spec));
    }

    ck_tfrs(tfrs_fit_options_init(&fit_opts, TFRS_FIT_OPTIONS_VERSION));
    fit_opts.epochs = epochs;
    fit_opts.batch_size = 8192;
    fit_opts.shuffle = 1;
    fit_opts.shuffle_seed = SEED;
    ck_tfrs(tfrs_model_fit(model, train, &fit_opts, NULL));

    ck_tfrs(tfrs_model_evaluate(model, test, 4096, &m));
    ck_assert_uint_eq(m.examples, 20000);
    ck_assert(m.metrics & TFRS_METRIC_RMSE);

    tfrs_model_free(model);
    tfrs_vocab_free(movies);
    tfrs_vocab_free(users);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
    tfrs_dataset_free(ratings);
    return m.rmse;
}

static double tutorial_test_rmse(int epochs)
{
    return test_rmse(epochs, 0);
}

START_TEST(tutorial_three_epochs)
{
    double rmse = tutorial_test_rmse(3);

    printf("movielens: 3 epochs, test RMSE %.4f (expected 1.08 .. 1.15)\n", rmse);
    fflush(stdout);
    ck_assert_msg(rmse >= 1.08 && rmse <= 1.15, "test RMSE %.4f outside [1.08, 1.15]", rmse);
}
END_TEST

START_TEST(thirty_epochs)
{
    double rmse = tutorial_test_rmse(30);

    printf("movielens: 30 epochs, test RMSE %.4f (expected <= 0.97)\n", rmse);
    fflush(stdout);
    ck_assert_msg(rmse <= 0.97, "test RMSE %.4f > 0.97", rmse);
}
END_TEST

/* A cross layer and dropout: it learns (sane RMSE after 3 epochs) and a
 * second run gives the same bits. */
START_TEST(cross_layer_three_epochs)
{
    double a = test_rmse(3, 1), b = test_rmse(3, 1);

    printf("movielens: cross layer + dropout, 3 epochs, test RMSE %.4f (expected <= 1.15)\n", a);
    fflush(stdout);
    ck_assert_msg(a > 0.85 && a <= 1.15, "test RMSE %.4f outside (0.85, 1.15]", a);
    ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "two runs differ: %.9g and %.9g", a, b);
}
END_TEST

static Suite *movielens_suite(void)
{
    Suite *s = suite_create("movielens");
    TCase *tc;

    tc = tu_tcase(s, "tutorial_three_epochs", tutorial_three_epochs);
    tcase_set_timeout(tc, 600);

    tc = tu_tcase(s, "thirty_epochs", thirty_epochs);
    tcase_set_timeout(tc, 600);

    tc = tu_tcase(s, "cross_layer_three_epochs", cross_layer_three_epochs);
    tcase_set_timeout(tc, 600);
    return s;
}

int main(void)
{
    data_dir = tu_movielens_dir();
    if (data_dir == NULL) {
        fprintf(stderr, "MovieLens 100K not found (TFRSC_DATA, data/ml-100k, "
                        "../shared/data/ml-100k): skipping\n");
        return 77;
    }
    printf("movielens: data from %s\n", data_dir);
    fflush(stdout);

    return tu_run(movielens_suite());
}
