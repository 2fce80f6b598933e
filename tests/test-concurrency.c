/*
 * test-concurrency.c - concurrent serving: one loaded model, 16 threads.
 *
 * A model is trained on synthetic ratings, saved and loaded back.  Scores
 * and rankings are computed once on the main thread; then 16 threads start
 * together (a barrier) and call tfrs_model_predict and tfrs_model_rank on
 * the one loaded model, over and over, along with the other calls that
 * take a const model (predict_ids, test_step, evaluate, introspection) and
 * lookups in a shared vocabulary and dataset.  Every result must be
 * bit-identical (memcmp) to the single-threaded one, and a failing call in
 * one thread must leave its own message in that thread's tfrs_last_error()
 * only.  Build with -Db_sanitize=thread to check for data races (see
 * docs/reliability.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tfrsc.h"

/* Memcheck runs one thread at a time, and threads contending for OpenBLAS's
 * internal locks spin through whole time slices there: a few rounds are
 * enough to check memory under it. */
#if defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#  endif
#endif
#ifndef RUNNING_ON_VALGRIND
#  define RUNNING_ON_VALGRIND 0
#endif

#define NTHREADS 16
#define ROUNDS   (RUNNING_ON_VALGRIND ? 2 : 12)
#define NUSERS   60
#define NITEMS   120
#define NROWS    2000
#define NPRED    2600     /* more than one internal block of rows */
#define NQUERY   16

static void user_name(char *buf, size_t n, int u)
{
    snprintf(buf, n, "user %d", u);
}

static void item_name(char *buf, size_t n, int i)
{
    snprintf(buf, n, "item %d", i);
}

/* Shared, read-only while the threads run. */
static struct {
    tfrs_model   *m;
    tfrs_dataset *ds;
    const tfrs_vocab *items;       /* the model's own vocabulary      */
    char        (*names)[32];      /* NPRED * 2 strings                */
    const char  **values;          /* NPRED * 2 pointers into names    */
    int32_t      *ids;             /* NPRED * 2 looked-up ids          */
    float        *labels;          /* NPRED                            */
    char          cand_names[NITEMS][32];
    const char   *cands[NITEMS];
    char          query_names[NQUERY][32];
    float        *ref_scores;      /* NPRED                            */
    tfrs_scored   ref_rank[NQUERY][NITEMS];
    double        ref_loss;
    tfrs_metrics  ref_eval;
    pthread_barrier_t start;
} S;

typedef struct worker {
    int  id;
    long mismatches;   /* results that differ from the reference */
    long errors;       /* calls that failed unexpectedly         */
    char first[256];   /* first problem, for the report          */
} worker;

static void problem(worker *w, long *counter, const char *what, int rc)
{
    if ((*counter)++ == 0 && w->first[0] == '\0')
        snprintf(w->first, sizeof(w->first), "thread %d: %s (%d: %s)", w->id, what, rc,
                 rc != TFRS_OK ? tfrs_last_error() : "");
}

static void *serve(void *arg)
{
    worker *w = arg;
    float *scores = malloc(NPRED * sizeof(float));
    tfrs_scored ranked[NITEMS];
    char feat[32], msg[40];
    int rc;

    if (scores == NULL) {
        problem(w, &w->errors, "malloc", TFRS_ENOMEM);
        return NULL;
    }
    pthread_barrier_wait(&S.start);
    for (int r = 0; r < ROUNDS; r++) {
        int q = (w->id * 5 + r) % NQUERY;
        const char *query[2] = { S.query_names[q], NULL };
        size_t n = 0;
        int32_t id;
        double loss;
        tfrs_metrics em;

        memset(scores, 0, NPRED * sizeof(float));
        rc = tfrs_model_predict(S.m, S.values, NPRED, scores);
        if (rc != TFRS_OK)
            problem(w, &w->errors, "predict", rc);
        else if (memcmp(scores, S.ref_scores, NPRED * sizeof(float)) != 0)
            problem(w, &w->mismatches, "predict scores differ", rc);

        memset(ranked, 0, sizeof(ranked));
        rc = tfrs_model_rank(S.m, query, "item", S.cands, NITEMS, 0, ranked, &n);
        if (rc != TFRS_OK)
            problem(w, &w->errors, "rank", rc);
        else if (n != NITEMS || memcmp(ranked, S.ref_rank[q], sizeof(ranked)) != 0)
            problem(w, &w->mismatches, "rank differs", rc);

        /* top-k is a prefix of the full ranking */
        rc = tfrs_model_rank(S.m, query, "item", S.cands, NITEMS, 5, ranked, &n);
        if (rc != TFRS_OK)
            problem(w, &w->errors, "rank top 5", rc);
        else if (n != 5 || memcmp(ranked, S.ref_rank[q], 5 * sizeof(*ranked)) != 0)
            problem(w, &w->mismatches, "rank top 5 differs", rc);

        if (r % 4 == w->id % 4) {
            rc = tfrs_model_predict_ids(S.m, S.ids, NPRED, scores);
            if (rc != TFRS_OK)
                problem(w, &w->errors, "predict_ids", rc);
            else if (memcmp(scores, S.ref_scores, NPRED * sizeof(float)) != 0)
                problem(w, &w->mismatches, "predict_ids scores differ", rc);
            rc = tfrs_model_test_step(S.m, S.ids, S.labels, NULL, NPRED, &loss, NULL);
            if (rc != TFRS_OK)
                problem(w, &w->errors, "test_step", rc);
            else if (memcmp(&loss, &S.ref_loss, sizeof(loss)) != 0)
                problem(w, &w->mismatches, "test_step loss differs", rc);
            rc = tfrs_model_evaluate(S.m, S.ds, 500, &em);
            if (rc != TFRS_OK)
                problem(w, &w->errors, "evaluate", rc);
            else if (memcmp(&em, &S.ref_eval, sizeof(em)) != 0)
                problem(w, &w->mismatches, "evaluate metrics differ", rc);
        }

        /* Shared vocabulary, model introspection. */
        if (tfrs_vocab_lookup(S.items, S.cands[r % NITEMS], &id) != TFRS_OK ||
            tfrs_model_num_features(S.m) != 2 ||
            strcmp(tfrs_model_feature_name(S.m, 1), "item") != 0)
            problem(w, &w->errors, "vocab lookup or introspection", TFRS_OK);

        /* A failure here leaves this thread's message, whatever the others do. */
        snprintf(feat, sizeof(feat), "nope %d", w->id);
        snprintf(msg, sizeof(msg), "'%s'", feat);
        rc = tfrs_model_rank(S.m, query, feat, S.cands, NITEMS, 0, ranked, &n);
        if (rc != TFRS_ENOTFOUND || strstr(tfrs_last_error(), msg) == NULL)
            problem(w, &w->errors, "thread-local error message", rc);
    }
    free(scores);
    return NULL;
}

/* ---- fixture: train, save, load ---------------------------------------- */

/* Row r of NROWS ratings of NUSERS users and NITEMS items. */
static void rating_row(size_t r, char (*s)[TU_ROW_CHARS], float *rating, void *arg)
{
    int ui = ((int)r * 7 + (int)r / 11) % NUSERS, ii = ((int)r * 13 + (int)r / 5) % NITEMS;

    (void)arg;
    user_name(s[0], TU_ROW_CHARS, ui);
    item_name(s[1], TU_ROW_CHARS, ii);
    rating[0] = (float)(1 + (ui * 3 + ii * 2) % 5);
}

static tfrs_dataset *make_ratings(void)
{
    static const tu_column cols[] = {
        { "user", TFRS_COLUMN_STRING },
        { "item", TFRS_COLUMN_STRING },
        { "rating", TFRS_COLUMN_FLOAT },
    };
    tfrs_dataset *ds = NULL;

    ck_assert_int_eq(tu_dataset_new(&ds, cols, TU_NELEM(cols), NROWS, rating_row, NULL), TFRS_OK);
    return ds;
}

static tfrs_model *train_save_load(tfrs_dataset *ds)
{
    tfrs_vocab *vu = NULL, *vi = NULL;
    tfrs_model *m = NULL, *l = NULL;
    tfrs_fit_options fo;
    const char *path;

    ck_assert_int_eq(tfrs_vocab_adapt_column(&vu, ds, "user", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&vi, ds, "item", NULL), TFRS_OK);
    {
        const tu_model_spec spec = {
            .seed = 5,
            .features = { { "user", vu, 16 }, { "item", vi, 16 } },
            .dense = { { 64, TFRS_ACT_RELU, 0.0f }, { 32, TFRS_ACT_RELU, 0.0f },
                       { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, TFRS_OPT_ADAGRAD, 0.1f, 0.0f },
            .label = "rating",
        };
        ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    }
    tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION);
    fo.epochs = 2;
    fo.batch_size = 256;
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, NULL), TFRS_OK);

    tu_tmpdir_make();
    path = tu_tmp_path("model.tfrs");
    ck_assert_int_eq(tfrs_model_save(m, path, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, path), TFRS_OK);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(tu_tmpdir), 0);
    tfrs_model_free(m);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
    return l;
}

static void setup(void)
{
    memset(&S, 0, sizeof(S));
    S.ds = make_ratings();
    S.m = train_save_load(S.ds);
    S.items = tfrs_model_feature_vocab(S.m, 1);
    ck_assert_ptr_nonnull(S.items);

    S.names = calloc(NPRED * 2, sizeof(*S.names));
    S.values = calloc(NPRED * 2, sizeof(*S.values));
    S.ids = calloc(NPRED * 2, sizeof(*S.ids));
    S.labels = calloc(NPRED, sizeof(*S.labels));
    S.ref_scores = calloc(NPRED, sizeof(*S.ref_scores));
    ck_assert(S.names && S.values && S.ids && S.labels && S.ref_scores);
    for (int i = 0; i < NPRED; i++) {
        if (i % 101 == 0)
            snprintf(S.names[2 * i], 32, "new user %d", i);     /* OOV */
        else
            user_name(S.names[2 * i], 32, (i * 3) % NUSERS);
        item_name(S.names[2 * i + 1], 32, (i * 7) % NITEMS);
        S.values[2 * i] = S.names[2 * i];
        S.values[2 * i + 1] = S.names[2 * i + 1];
        S.labels[i] = (float)(1 + i % 5);
    }
    for (int i = 0; i < NITEMS; i++) {
        item_name(S.cand_names[i], sizeof(S.cand_names[i]), i);
        S.cands[i] = S.cand_names[i];
    }
    for (int q = 0; q < NQUERY; q++)
        user_name(S.query_names[q], sizeof(S.query_names[q]), q * 3);

    /* The single-threaded reference. */
    ck_assert_int_eq(tfrs_model_predict(S.m, S.values, NPRED, S.ref_scores), TFRS_OK);
    for (int i = 0; i < NPRED * 2; i++) {
        const tfrs_vocab *v = tfrs_model_feature_vocab(S.m, (size_t)(i % 2));
        ck_assert_int_eq(tfrs_vocab_lookup(v, S.values[i], &S.ids[i]), TFRS_OK);
    }
    for (int q = 0; q < NQUERY; q++) {
        const char *query[2] = { S.query_names[q], NULL };
        size_t n = 0;
        ck_assert_int_eq(tfrs_model_rank(S.m, query, "item", S.cands, NITEMS, 0, S.ref_rank[q],
                                         &n), TFRS_OK);
        ck_assert_uint_eq(n, NITEMS);
    }
    ck_assert_int_eq(tfrs_model_test_step(S.m, S.ids, S.labels, NULL, NPRED, &S.ref_loss, NULL),
                     TFRS_OK);
    ck_assert_int_eq(tfrs_model_evaluate(S.m, S.ds, 500, &S.ref_eval), TFRS_OK);
}

static void teardown(void)
{
    tfrs_model_free(S.m);
    tfrs_dataset_free(S.ds);
    free(S.names);
    free(S.values);
    free(S.ids);
    free(S.labels);
    free(S.ref_scores);
}

/* Runs body on NTHREADS workers, which wait for each other on S.start, and
 * checks that none of them met a problem. */
static void run_workers(void *(*body)(void *))
{
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    long mismatches = 0, errors = 0;
    const char *first = "";

    ck_assert_int_eq(pthread_barrier_init(&S.start, NULL, NTHREADS), 0);
    for (int t = 0; t < NTHREADS; t++) {
        memset(&w[t], 0, sizeof(w[t]));
        w[t].id = t;
        ck_assert_int_eq(pthread_create(&th[t], NULL, body, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        mismatches += w[t].mismatches;
        errors += w[t].errors;
        if (first[0] == '\0')
            first = w[t].first;
    }
    pthread_barrier_destroy(&S.start);
    ck_assert_msg(mismatches == 0 && errors == 0, "%ld mismatches, %ld errors; first: %s",
                  mismatches, errors, first);
}

START_TEST(many_threads_bit_identical)
{
    run_workers(serve);
}
END_TEST

/* Concurrent loads of one file and concurrent saves of one model to
 * distinct paths: independent handles, no shared state. */
static void *save_and_load(void *arg)
{
    worker *w = arg;
    char path[sizeof(tu_tmpdir) + 32];
    tfrs_model *l = NULL;
    float *scores = malloc(NPRED * sizeof(float));
    int rc;

    if (scores == NULL) {
        problem(w, &w->errors, "malloc", TFRS_ENOMEM);
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/m%d.tfrs", tu_tmpdir, w->id);
    pthread_barrier_wait(&S.start);
    for (int r = 0; r < (RUNNING_ON_VALGRIND ? 1 : 3); r++) {
        if ((rc = tfrs_model_save(S.m, path, r % 2 ? TFRS_SAVE_OPTIMIZER : 0)) != TFRS_OK) {
            problem(w, &w->errors, "save", rc);
            break;
        }
        if ((rc = tfrs_model_load(&l, path)) != TFRS_OK) {
            problem(w, &w->errors, "load", rc);
            break;
        }
        rc = tfrs_model_predict(l, S.values, NPRED, scores);
        if (rc != TFRS_OK)
            problem(w, &w->errors, "predict", rc);
        else if (memcmp(scores, S.ref_scores, NPRED * sizeof(float)) != 0)
            problem(w, &w->mismatches, "loaded model's scores differ", rc);
        tfrs_model_free(l);
        l = NULL;
    }
    unlink(path);
    free(scores);
    return NULL;
}

START_TEST(concurrent_save_and_load)
{
    tu_tmpdir_make();
    run_workers(save_and_load);
    ck_assert_int_eq(rmdir(tu_tmpdir), 0);
}
END_TEST

static Suite *concurrency_suite(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tu_tcase(s, "serving", many_threads_bit_identical, concurrent_save_and_load);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    return s;
}

int main(void)
{
    return tu_run(concurrency_suite());
}
