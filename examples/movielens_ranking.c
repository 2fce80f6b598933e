/*
 * movielens_ranking.c - the TensorFlow Recommenders "basic ranking" tutorial,
 * end to end, through libtfrsc's public API.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   1. load MovieLens 100K (ratings joined with movie titles)
 *   2. shuffle with seed 42; first 80,000 rows train, next 20,000 test
 *   3. vocabularies of user ids and movie titles, adapted on the whole data
 *   4. model: two 32-d embeddings -> Dense(256, relu) -> Dense(64, relu)
 *      -> Dense(1); MSE loss with an RMSE metric; Adagrad(0.1)
 *   5. fit 3 epochs in batches of 8192, evaluate in batches of 4096
 *   6. rank three movies for user "42"
 *   7. save, load, and check the loaded model predicts the same bits
 *
 * MovieLens is not shipped with libtfrsc (its licence forbids
 * redistribution); see README.md for how to get it.
 */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

#define DEFAULT_SAVE_PATH "movielens_ranking.tfrs"
#define EVAL_BATCH_SIZE   4096
#define SPLIT_SEED        42
#define TRAIN_ROWS        80000
#define TEST_ROWS         20000

typedef struct options {
    const char *data;
    const char *save;
    int         epochs;
    size_t      batch_size;
    float       lr;
    uint64_t    seed;
} options;

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [options]\n"
            "\n"
            "Trains the TensorFlow Recommenders basic ranking model on MovieLens 100K.\n"
            "\n"
            "  --data DIR        MovieLens 100K directory (holds u.data and u.item);\n"
            "                    default $TFRSC_DATA, then data/ml-100k, then\n"
            "                    ../shared/data/ml-100k\n"
            "  --epochs N        training epochs (default 3)\n"
            "  --batch-size N    training batch size (default 8192)\n"
            "  --lr X            Adagrad learning rate (default 0.1)\n"
            "  --seed N          seed of the parameters and of the per-epoch\n"
            "                    batch order (default 42)\n"
            "  --save PATH       where to save the model (default %s)\n"
            "  --help            show this text\n",
            prog, DEFAULT_SAVE_PATH);
}

/* A libtfrsc call that must succeed: on failure, report it and stop. */
/* ---- command line ------------------------------------------------------ */


static void parse_args(int argc, char **argv, options *o)
{
    const char *v;
    unsigned long long n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            exit(0);
        } else if ((v = ex_option_value(argc, argv, &i, "--data")) != NULL) {
            o->data = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--save")) != NULL) {
            o->save = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--epochs")) != NULL) {
            if (ex_parse_u64(v, 1000000, &n) < 0 || n == 0)
                ex_bad_value(argv[0], "--epochs", v);
            o->epochs = (int)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--batch-size")) != NULL) {
            if (ex_parse_u64(v, 100000000, &n) < 0 || n == 0)
                ex_bad_value(argv[0], "--batch-size", v);
            o->batch_size = (size_t)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--seed")) != NULL) {
            if (ex_parse_u64(v, UINT64_MAX, &n) < 0)
                ex_bad_value(argv[0], "--seed", v);
            o->seed = (uint64_t)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--lr")) != NULL) {
            char *end;
            double x;

            errno = 0;
            x = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || errno != 0 || !(x > 0.0) || x > FLT_MAX)
                ex_bad_value(argv[0], "--lr", v);
            o->lr = (float)x;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
}

/* ---- printing ---------------------------------------------------------- */

/* The Keras-like lines at the end of each epoch. */
static int on_progress(const tfrs_progress *p, void *payload)
{
    (void)payload;
    if (p->end_of_epoch)
        ex_print_epoch(p);
    return 0;
}

/* ---- the tutorial ------------------------------------------------------ */

int main(int argc, char **argv)
{
    static const char *const titles[] = {
        "M*A*S*H (1970)", "Dances with Wolves (1990)", "Speed (1994)",
    };
    enum { NUM_TITLES = sizeof(titles) / sizeof(titles[0]) };
    options o = { NULL, DEFAULT_SAVE_PATH, 3, 8192, 0.1f, 42 };
    tfrs_dataset *ratings = NULL, *train = NULL, *test = NULL;
    tfrs_vocab *users = NULL, *movies = NULL;
    tfrs_ranking_task *task = NULL;
    tfrs_model *model = NULL, *loaded = NULL;
    tfrs_metrics *history = NULL;
    tfrs_task_options task_opts;
    tfrs_optimizer_options opt_opts;
    tfrs_fit_options fit_opts;
    tfrs_metrics test_metrics;
    tfrs_scored ranked[NUM_TITLES];
    size_t n_ranked = 0;
    const char *dir;
    int rc = 0;

    parse_args(argc, argv, &o);
    dir = ex_find_data(o.data);
    if (dir == NULL || !ex_has_movielens(dir)) {
        if (dir != NULL)
            fprintf(stderr, "%s: no u.data in %s\n", argv[0], dir);
        ex_explain_download();
        return 1;
    }
    printf("libtfrsc %s, MovieLens 100K from %s\n", tfrs_version_string(), dir);

    /* ratings = tfds.load("movielens/100k-ratings") */
    EX_CHECK(tfrs_dataset_load_movielens(&ratings, dir, NULL));

    /* shuffled = ratings.shuffle(100_000, seed=42, reshuffle_each_iteration=False)
     * train = shuffled.take(80_000); test = shuffled.skip(80_000).take(20_000) */
    EX_CHECK(tfrs_dataset_shuffle(ratings, SPLIT_SEED));
    EX_CHECK(tfrs_dataset_slice(&train, ratings, 0, TRAIN_ROWS));
    EX_CHECK(tfrs_dataset_slice(&test, ratings, TRAIN_ROWS, TEST_ROWS));

    /* StringLookup(vocabulary=np.unique(...)) over the whole data set. */
    EX_CHECK(tfrs_vocab_adapt_column(&users, ratings, "user_id", NULL));
    EX_CHECK(tfrs_vocab_adapt_column(&movies, ratings, "movie_title", NULL));
    printf("%zu ratings: %zu train, %zu test; %zu users, %zu movie titles\n",
           tfrs_dataset_num_rows(ratings), tfrs_dataset_num_rows(train),
           tfrs_dataset_num_rows(test), tfrs_vocab_num_tokens(users),
           tfrs_vocab_num_tokens(movies));

    /* RankingModel + tfrs.tasks.Ranking(MeanSquaredError, [RMSE]). */
    EX_CHECK(tfrs_model_create(&model, o.seed));
    EX_CHECK(tfrs_model_add_feature(model, "user_id", users, 32));
    EX_CHECK(tfrs_model_add_feature(model, "movie_title", movies, 32));
    EX_CHECK(tfrs_model_add_dense(model, 256, TFRS_ACT_RELU, 0.0f));
    EX_CHECK(tfrs_model_add_dense(model, 64, TFRS_ACT_RELU, 0.0f));
    EX_CHECK(tfrs_model_add_dense(model, 1, TFRS_ACT_LINEAR, 0.0f));

    EX_CHECK(tfrs_task_options_init(&task_opts, TFRS_TASK_OPTIONS_VERSION));
    task_opts.loss = TFRS_LOSS_MSE;
    task_opts.metrics = TFRS_METRIC_RMSE;
    EX_CHECK(tfrs_ranking_task_create(&task, &task_opts));
    EX_CHECK(tfrs_model_set_task(model, task));

    /* model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate=0.1)) */
    EX_CHECK(tfrs_optimizer_options_init(&opt_opts, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                      TFRS_OPT_ADAGRAD));
    opt_opts.learning_rate = o.lr;
    EX_CHECK(tfrs_model_set_optimizer(model, &opt_opts));
    EX_CHECK(tfrs_model_set_label(model, "user_rating", NULL));
    EX_CHECK(tfrs_model_build(model));
    printf("model: %zu parameters\n", tfrs_model_num_parameters(model));

    /* model.fit(cached_train, epochs=3) with batches of 8192 */
    EX_CHECK(tfrs_fit_options_init(&fit_opts, TFRS_FIT_OPTIONS_VERSION));
    fit_opts.epochs = o.epochs;
    fit_opts.batch_size = o.batch_size;
    fit_opts.shuffle = 1;
    fit_opts.shuffle_seed = o.seed;
    fit_opts.progress = on_progress;
    fit_opts.payload = NULL;
    history = calloc((size_t)o.epochs, sizeof(*history));
    if (history == NULL) {
        fprintf(stderr, "error: out of memory\n");
        rc = 1;
        goto out;
    }
    EX_CHECK(tfrs_model_fit(model, train, &fit_opts, history));

    /* model.evaluate(cached_test, return_dict=True) with batches of 4096 */
    EX_CHECK(tfrs_model_evaluate(model, test, EVAL_BATCH_SIZE, &test_metrics));
    ex_print_metrics(&test_metrics);

    /* test_ratings[title] = model({"user_id": ["42"], "movie_title": [title]}),
     * printed from the highest score down. */
    {
        const char *query[2] = { "42", NULL };
        char buf[32];

        if (tfrs_model_num_features(model) != 2 ||
            strcmp(tfrs_model_feature_name(model, 0), "user_id") != 0) {
            fprintf(stderr, "error: unexpected feature order\n");
            rc = 1;
            goto out;
        }
        EX_CHECK(tfrs_model_rank(model, query, "movie_title", titles, NUM_TITLES, 0,
                              ranked, &n_ranked));
        printf("Ratings:\n");
        for (size_t i = 0; i < n_ranked; i++) {
            ex_format_float(buf, sizeof(buf), ranked[i].score);
            printf("%s: %s\n", titles[ranked[i].index], buf);
        }
    }

    /* tf.saved_model.save(model, "export"); loaded = tf.saved_model.load("export") */
    EX_CHECK(tfrs_model_save(model, o.save, 0));
    EX_CHECK(tfrs_model_load(&loaded, o.save));
    printf("saved to %s and loaded back\n", o.save);
    {
        const char *example[2] = { "42", "Speed (1994)" };
        float before = 0.0f, after = 0.0f;
        char b1[32], b2[32];
        int same;

        EX_CHECK(tfrs_model_predict(model, example, 1, &before));
        EX_CHECK(tfrs_model_predict(loaded, example, 1, &after));
        same = memcmp(&before, &after, sizeof(float)) == 0;
        ex_format_float(b1, sizeof(b1), before);
        ex_format_float(b2, sizeof(b2), after);
        printf("Speed (1994) for user 42: trained %s, loaded %s (%s)\n", b1, b2,
               same ? "bit-identical" : "DIFFERENT");
        if (!same)
            rc = 1;
    }

out:
    free(history);
    tfrs_model_free(loaded);
    tfrs_model_free(model);
    tfrs_ranking_task_free(task);
    tfrs_vocab_free(movies);
    tfrs_vocab_free(users);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
    tfrs_dataset_free(ratings);
    return rc;
}
