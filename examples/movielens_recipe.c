/*
 * movielens_recipe.c - the most accurate rating model libtfrsc builds on
 * MovieLens 100K: side features, SVD++-style implicit feedback bags, early
 * stopping on a slice of the training rows and an ensemble of seeds.  The
 * model is described by movielens_recipe.json; docs/accuracy.md records how
 * every choice was made (on validation slices of the training files only).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   1. load the training and test ratings (--train/--test: files in u.data's
 *      format, e.g. u1.base and u1.test; default: u.data shuffled with seed
 *      42, the first 80,000 rows train, the next 20,000 test), with the
 *      users' and items' side features from DIR's u.user and u.item
 *   2. for each of the 7 members of the ensemble (--members): shuffle the
 *      training rows (seed 1 + the member's index) and hold out the last
 *      validation_fraction of them (the configuration's "training" section)
 *      as the member's validation slice, so that the members together
 *      train on every training row (--slices shared: member 1's slice for
 *      all)
 *   3. for each member: add the implicit-feedback bags (for each user the
 *      items they rated, for each item the users who rated it) built from
 *      the rows the member trains on only, build the model (its seed: the
 *      configuration's + the member's index) on those rows, train it with
 *      early stopping on its validation slice and keep the best epoch's
 *      weights (--final keep, the default: it
 *      was better on validation than --final retrain, which builds the
 *      model again on all the training rows, with bags from all of them,
 *      and trains it for the epochs the slice chose; docs/accuracy.md)
 *   4. average the members' predictions on the test rows, whose bags come
 *      from the rows the members trained on, clip the average to [1, 5]
 *      and print the RMSE (last line: "test RMSE <value>")
 *
 * --validate runs the same recipe with a test set carved from the training
 * file (its last tenth after a seeded shuffle) and never reads a test file:
 * this is how the configuration was chosen.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfrsc.h"
#include "example.h"
#include "ensemble_rank.h"

#define SPLIT_SEED    42       /* the tutorial's split of u.data            */
#define TRAIN_ROWS    80000
#define TEST_ROWS     20000
#define SLICE_SEED    1        /* the shuffle that carves the validation slice */
#define HOLDOUT_SEED  2        /* --validate: the shuffle that carves its test */
#define HOLDOUT_SHARE 0.1      /* --validate: the share of --train it tests on */
#define ENSEMBLE      7        /* members of the default ensemble             */
#define MAX_MEMBERS   32
#define CONFIG_NAME   "movielens_recipe.json"
#define USER_BAG      "user_rated_movies" /* for each user the items they rated */
#define ITEM_BAG      "movie_rated_by"    /* for each item the users who rated it */

enum final_mode { FINAL_RETRAIN, FINAL_KEEP };

typedef struct options {
    const char *data, *train, *test, *config, *save, *load, *rank_user;
    int         fast, validate, quiet, members, final_mode, clip, own_slices;
    unsigned long long top;
} options;

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [--data DIR] [--train FILE --test FILE] [--fast] [--config FILE]\n"
            "\n"
            "Trains the MovieLens 100K accuracy recipe (side features, implicit-feedback\n"
            "bags, early stopping on a slice of the training rows, an ensemble of seeds)\n"
            "and prints the test RMSE of the ensemble's averaged predictions.\n"
            "\n"
            "  --data DIR        MovieLens 100K directory (u.user, u.item, u.genre and,\n"
            "                    without --train, u.data); default $TFRSC_DATA, then\n"
            "                    data/ml-100k, then ../shared/data/ml-100k\n"
            "  --train FILE      training ratings in u.data's format (e.g. DIR/u1.base)\n"
            "  --test FILE       test ratings in u.data's format (e.g. DIR/u1.test);\n"
            "                    without both: u.data shuffled with seed 42, 80,000\n"
            "                    rows train, the next 20,000 test (the tutorial's split)\n"
            "  --fast            train one model instead of the ensemble\n"
            "  --members N       ensemble size (default %d; --fast is --members 1)\n"
            "  --final MODE      keep (default): keep the best weights of the run early-\n"
            "                    stopped on the validation slice; retrain: retrain on\n"
            "                    all the training rows for the epochs the slice chose\n"
            "  --slices MODE     own (default): each member carves its own validation\n"
            "                    slice (the training rows shuffled with seed 1 + its\n"
            "                    index), so the ensemble as a whole trains on every\n"
            "                    training row; shared: every member uses the first\n"
            "                    member's slice\n"
            "  --save PREFIX     save member k (1..N) as PREFIX.k.tfrs: the ensemble is\n"
            "                    that set of files, its score the members' mean\n"
            "  --load PREFIX     load the members from PREFIX.k.tfrs instead of training\n"
            "                    them (the same data options and --members as the run\n"
            "                    that saved them: the bags are rebuilt from the rows\n"
            "                    each member trained on)\n"
            "  --rank USER       rank every movie the members trained on for USER (a\n"
            "                    user id of the training rows) by the ensemble's mean\n"
            "                    score; the query is the user's features and bag with\n"
            "                    the time of the user's latest training rating\n"
            "  --top K           movies --rank prints (default 10)\n"
            "  --no-clip         do not clip the averaged predictions to the rating\n"
            "                    range [1, 5] (clipping is the default)\n"
            "  --validate        do not read a test file: test on the last tenth of the\n"
            "                    training rows after a seeded shuffle (for model search);\n"
            "                    last line \"validation RMSE <value>\"\n"
            "  --config FILE     the model's configuration; default examples/" CONFIG_NAME "\n"
            "                    or the copy next to this program\n"
            "  --quiet           print only the result\n"
            "  --help            show this text\n",
            prog, ENSEMBLE);
}

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
        } else if ((v = ex_option_value(argc, argv, &i, "--train")) != NULL) {
            o->train = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--test")) != NULL) {
            o->test = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--config")) != NULL) {
            o->config = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--members")) != NULL) {
            if (ex_parse_u64(v, MAX_MEMBERS, &n) != 0 || n == 0)
                ex_bad_value(argv[0], "--members", v);
            o->members = (int)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--final")) != NULL) {
            if (strcmp(v, "retrain") == 0)
                o->final_mode = FINAL_RETRAIN;
            else if (strcmp(v, "keep") == 0)
                o->final_mode = FINAL_KEEP;
            else
                ex_bad_value(argv[0], "--final", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--save")) != NULL) {
            o->save = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--load")) != NULL) {
            o->load = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--rank")) != NULL) {
            o->rank_user = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--top")) != NULL) {
            if (ex_parse_u64(v, 1000000, &o->top) != 0 || o->top == 0)
                ex_bad_value(argv[0], "--top", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--slices")) != NULL) {
            if (strcmp(v, "own") == 0)
                o->own_slices = 1;
            else if (strcmp(v, "shared") == 0)
                o->own_slices = 0;
            else
                ex_bad_value(argv[0], "--slices", v);
        } else if (strcmp(argv[i], "--fast") == 0) {
            o->fast = 1;
        } else if (strcmp(argv[i], "--no-clip") == 0) {
            o->clip = 0;
        } else if (strcmp(argv[i], "--validate") == 0) {
            o->validate = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
    if (o->validate ? o->train == NULL || o->test != NULL
                    : (o->train == NULL) != (o->test == NULL)) {
        fprintf(stderr, "%s: %s (try --help)\n", argv[0],
                o->validate ? "--validate takes --train and no --test"
                            : "--train and --test go together");
        exit(2);
    }
    if (o->save != NULL && o->load != NULL) {
        fprintf(stderr, "%s: --save and --load do not go together (try --help)\n", argv[0]);
        exit(2);
    }
    if (o->fast)
        o->members = 1;
}

/* The configuration with its top-level "seed" (a JSON integer) raised by
 * `add`, malloc'ed: each member of the ensemble starts from its own initial
 * weights and dropout masks.  NULL if the document has no such seed. */
static char *with_seed(const char *json, size_t len, unsigned long long add, size_t *out_len)
{
    const char *key = strstr(json, "\"seed\"");
    const char *p, *end;
    unsigned long long seed;
    char *out;

    if (key == NULL)
        return NULL;
    p = key + 6;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    seed = strtoull(p, (char **)&end, 10);
    if ((out = malloc(len + 32)) == NULL)
        return NULL;
    *out_len = (size_t)snprintf(out, len + 32, "%.*s%llu%s", (int)(p - json), json, seed + add,
                                end);
    return out;
}

static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Loads ratings (path NULL: DIR/u.data) with the side features. */
static int load(tfrs_dataset **out, const char *dir, const char *path)
{
    tfrs_load_options lo;
    int st = tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION);

    if (st != TFRS_OK)
        return st;
    lo.movielens_features = TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES;
    lo.ratings_file = path;
    return tfrs_dataset_load_movielens(out, dir, &lo);
}

/* Gives `target` the two bags built from the rows of `source`. */
static int add_bags(tfrs_dataset *target, const tfrs_dataset *source)
{
    int st = tfrs_dataset_add_implicit_bags(target, USER_BAG, source, "user_id", "movie_id", '|');

    return st != TFRS_OK ? st
                         : tfrs_dataset_add_implicit_bags(target, ITEM_BAG, source, "movie_id",
                                                          "user_id", '|');
}

/* A copy of `ds` (all its rows). */
static int copy_rows(tfrs_dataset **out, const tfrs_dataset *ds)
{
    return tfrs_dataset_slice(out, ds, 0, tfrs_dataset_num_rows(ds));
}

/* Shuffles `train` with `seed`, holds out its last `nval` rows as the
 * validation slice and fits on the others; the bags of all three (fitting
 * rows, slice and a copy of the test rows) come from the fitting rows only. */
static int carve(tfrs_dataset *train, uint64_t seed, size_t nval, const tfrs_dataset *test,
                 tfrs_dataset **fit_rows, tfrs_dataset **val, tfrs_dataset **test_fit)
{
    size_t n = tfrs_dataset_num_rows(train);
    int st;

    tfrs_dataset_free(*fit_rows);
    tfrs_dataset_free(*val);
    tfrs_dataset_free(*test_fit);
    *fit_rows = *val = *test_fit = NULL;
    if ((st = tfrs_dataset_shuffle(train, seed)) != TFRS_OK ||
        (st = tfrs_dataset_slice(fit_rows, train, 0, n - nval)) != TFRS_OK ||
        (st = tfrs_dataset_slice(val, train, n - nval, nval)) != TFRS_OK ||
        (st = add_bags(*fit_rows, *fit_rows)) != TFRS_OK ||
        (st = add_bags(*val, *fit_rows)) != TFRS_OK ||
        (st = copy_rows(test_fit, test)) != TFRS_OK)
        return st;
    return add_bags(*test_fit, *fit_rows);
}

/* ens_rank's callback: the bags of the rows in arg (a member's). */
static int bags_from(tfrs_dataset *target, const void *arg)
{
    return add_bags(target, arg);
}

static int on_progress(const tfrs_progress *p, void *payload)
{
    if (!p->end_of_epoch || *(const int *)payload)
        return 0;
    printf("  epoch %d: rmse %.4f", p->epoch, p->metrics.rmse);
    if (p->has_validation)
        printf(" - val_rmse %.4f%s", p->validation.rmse,
               p->best_epoch == p->epoch ? " (best)" : "");
    printf(" - %.1fs\n", p->seconds);
    fflush(stdout);
    return 0;
}

static double rmse_of(const double *pred, const float *label, size_t n, int clip)
{
    double se = 0.0;

    for (size_t i = 0; i < n; i++) {
        double p = pred[i];
        if (clip)
            p = p < 1.0 ? 1.0 : p > 5.0 ? 5.0 : p;
        se += (p - label[i]) * (p - label[i]);
    }
    return sqrt(se / (double)n);
}

int main(int argc, char **argv)
{
    options o = { NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                  0, 0, 0, ENSEMBLE, FINAL_KEEP, 1, 1, 10 };
    tfrs_dataset *train = NULL, *test = NULL, *all = NULL, *fit_rows = NULL, *val = NULL;
    tfrs_dataset *full = NULL, *test_fit = NULL, *test_full = NULL;
    tfrs_model *model = NULL;
    tfrs_fit_options base_fo;
    ens_rank er = { 0 };
    char path[4096], member_path[4096], *config = NULL, *member_config = NULL;
    const char *dir, *config_path;
    const float *labels;
    double *sum = NULL, *one = NULL, val_fraction = 0.0, t0 = seconds();
    float *scores = NULL;
    size_t config_len = 0, member_len = 0, nval, ntest;
    int rc = 0;

    parse_args(argc, argv, &o);
    dir = ex_find_data(o.data);
    if (dir == NULL || (o.train == NULL && !ex_has_movielens(dir))) {
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
    EX_CHECK(tfrs_config_fit_options(config, config_len, config_path, &base_fo, &val_fraction));
    if (val_fraction <= 0.0) {
        fprintf(stderr, "error: %s: the recipe needs a validation_fraction > 0\n", config_path);
        rc = 1;
        goto out;
    }

    /* 1. training and test ratings */
    if (o.validate) {
        size_t n, nh;
        EX_CHECK(load(&all, dir, o.train));
        EX_CHECK(tfrs_dataset_shuffle(all, HOLDOUT_SEED));
        n = tfrs_dataset_num_rows(all);
        nh = (size_t)(HOLDOUT_SHARE * (double)n);
        EX_CHECK(tfrs_dataset_slice(&train, all, 0, n - nh));
        EX_CHECK(tfrs_dataset_slice(&test, all, n - nh, nh));
    } else if (o.train == NULL) {
        EX_CHECK(load(&all, dir, NULL));
        EX_CHECK(tfrs_dataset_shuffle(all, SPLIT_SEED));
        EX_CHECK(tfrs_dataset_slice(&train, all, 0, TRAIN_ROWS));
        EX_CHECK(tfrs_dataset_slice(&test, all, TRAIN_ROWS, TEST_ROWS));
    } else {
        EX_CHECK(load(&train, dir, o.train));
        EX_CHECK(load(&test, dir, o.test));
    }
    ntest = tfrs_dataset_num_rows(test);
    if (ntest == 0 || tfrs_dataset_num_rows(train) < 10) {
        fprintf(stderr, "error: too few training or test rows\n");
        rc = 1;
        goto out;
    }

    /* 2. the validation slice, from the training rows only; bags from the rows
     * each model trains on, never from validation or test rows */
    nval = (size_t)(val_fraction * (double)tfrs_dataset_num_rows(train));
    if (nval == 0)
        nval = 1;
    EX_CHECK(carve(train, SLICE_SEED, nval, test, &fit_rows, &val, &test_fit));
    if (o.final_mode == FINAL_RETRAIN) {
        EX_CHECK(copy_rows(&full, train));
        EX_CHECK(add_bags(full, train));
        EX_CHECK(copy_rows(&test_full, test));
        EX_CHECK(add_bags(test_full, train));
    }
    EX_CHECK(tfrs_dataset_floats(test, "user_rating", &labels));
    if (o.rank_user != NULL) {
        int st = ens_rank_init(&er, train, "user_id", o.rank_user, "timestamp", "movie_id");
        if (st == TFRS_ENOTFOUND) {
            fprintf(stderr, "error: user '%s' has no training rating to rank for\n",
                    o.rank_user);
            rc = 1;
            goto out;
        }
        EX_CHECK(st);
    }
    if (!o.quiet)
        printf("%zu training rows (%zu for fitting, %zu validation), %zu %s rows; "
               "%d member%s, %s validation slice%s, final: %s\n", tfrs_dataset_num_rows(train),
               tfrs_dataset_num_rows(fit_rows), nval, ntest, o.validate ? "held-out" : "test",
               o.members, o.members == 1 ? "" : "s", o.own_slices ? "own" : "shared",
               o.own_slices ? "s" : "",
               o.final_mode == FINAL_RETRAIN ? "retrain on all training rows" : "keep best");

    sum = calloc(ntest, sizeof(*sum));
    one = calloc(ntest, sizeof(*one));
    scores = calloc(ntest, sizeof(*scores));
    if (sum == NULL || one == NULL || scores == NULL) {
        rc = ex_fail("calloc", TFRS_ENOMEM);
        goto out;
    }

    /* 3. the members of the ensemble */
    for (int k = 0; k < o.members; k++) {
        tfrs_fit_options fo = base_fo;
        tfrs_metrics vm;
        int epochs_run = 0, best_epoch = 0;
        double tm = seconds();

        if (o.own_slices && k > 0)
            EX_CHECK(carve(train, SLICE_SEED + (uint64_t)k, nval, test, &fit_rows, &val,
                           &test_fit));
        free(member_config);
        if ((member_config = with_seed(config, config_len, (unsigned long long)k,
                                       &member_len)) == NULL) {
            fprintf(stderr, "error: %s: no top-level integer \"seed\"\n", config_path);
            rc = 1;
            goto out;
        }
        fo.shuffle_seed = base_fo.shuffle_seed + (uint64_t)k;
        fo.validation = val;
        fo.progress = on_progress;
        fo.payload = &o.quiet;
        fo.epochs_run = &epochs_run;
        fo.best_epoch = &best_epoch;
        tfrs_model_free(model);
        model = NULL;
        /* not in path: config_path may point there */
        snprintf(member_path, sizeof(member_path), "%s.%d.tfrs",
                 o.save != NULL ? o.save : o.load ? o.load : "", k + 1);
        if (o.load != NULL) {
            EX_CHECK(tfrs_model_load(&model, member_path));
            if (!o.quiet)
                printf("member %d: loaded %s\n", k + 1, member_path);
        } else {
            EX_CHECK(tfrs_model_from_config(&model, member_config, member_len, config_path,
                                         fit_rows));
            if (!o.quiet)
                printf("member %d: %zu parameters, early stopping on the validation slice\n",
                       k + 1, tfrs_model_num_parameters(model));
            EX_CHECK(tfrs_model_fit(model, fit_rows, &fo, NULL));
            EX_CHECK(tfrs_model_evaluate(model, val, 4096, &vm));
            if (!o.quiet)
                printf("member %d: ran %d epochs, best %d (val_rmse %.4f)\n", k + 1, epochs_run,
                       best_epoch, vm.rmse);
        }
        if (o.final_mode == FINAL_RETRAIN) {
            tfrs_fit_options ffo = base_fo;
            ffo.shuffle_seed = base_fo.shuffle_seed + (uint64_t)k;
            ffo.epochs = best_epoch > 0 ? best_epoch : 1;
            ffo.early_stopping = 0;
            ffo.restore_best_weights = 0;
            ffo.progress = on_progress;
            ffo.payload = &o.quiet;
            tfrs_model_free(model);
            model = NULL;
            EX_CHECK(tfrs_model_from_config(&model, member_config, member_len, config_path, full));
            if (!o.quiet)
                printf("member %d: retraining on all %zu training rows for %d epochs\n", k + 1,
                       tfrs_dataset_num_rows(full), ffo.epochs);
            EX_CHECK(tfrs_model_fit(model, full, &ffo, NULL));
            EX_CHECK(tfrs_model_predict_dataset(model, test_full, scores));
        } else {
            EX_CHECK(tfrs_model_predict_dataset(model, test_fit, scores));
        }
        if (o.save != NULL) {
            EX_CHECK(tfrs_model_save(model, member_path, 0));
            if (!o.quiet)
                printf("member %d: saved to %s\n", k + 1, member_path);
        }
        if (o.rank_user != NULL)
            EX_CHECK(ens_rank_add(&er, model, bags_from,
                               o.final_mode == FINAL_RETRAIN ? train : fit_rows));
        for (size_t i = 0; i < ntest; i++) {
            one[i] = scores[i];
            sum[i] += scores[i];
        }
        if (!o.quiet) {
            double alone = rmse_of(one, labels, ntest, 0);
            for (size_t i = 0; i < ntest; i++)
                one[i] = sum[i] / (k + 1);
            printf("member %d: %s RMSE %.4f alone, %.4f for the %d averaged (clipped %.4f); "
                   "%.1fs\n", k + 1, o.validate ? "held-out" : "test", alone,
                   rmse_of(one, labels, ntest, 0), k + 1, rmse_of(one, labels, ntest, 1),
                   seconds() - tm);
            fflush(stdout);
        }
    }

    /* 4. the ensemble's averaged predictions */
    for (size_t i = 0; i < ntest; i++)
        sum[i] /= o.members;
    if (o.rank_user != NULL) {
        printf("top %llu for user %s by the mean of %d member%s (rank and predict agree "
               "within %.1e):\n", o.top, o.rank_user, er.members, er.members == 1 ? "" : "s",
               er.worst);
        ens_rank_print(&er, (size_t)o.top, "movie_title");
    }
    if (!o.quiet)
        printf("%.1fs in all\n", seconds() - t0);
    printf("%s RMSE %.4f\n", o.validate ? "validation" : "test",
           rmse_of(sum, labels, ntest, o.clip));
out:
    ens_rank_free(&er);
    free(scores);
    free(one);
    free(sum);
    tfrs_model_free(model);
    tfrs_dataset_free(test_full);
    tfrs_dataset_free(full);
    tfrs_dataset_free(test_fit);
    tfrs_dataset_free(val);
    tfrs_dataset_free(fit_rows);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
    tfrs_dataset_free(all);
    free(member_config);
    free(config);
    return rc;
}
