/*
 * test-blas-order.c - what the README promises about reproducibility:
 * bit-identical results for the same machine, build, BLAS kernel and
 * thread count; results within a stated tolerance under another BLAS
 * kernel or another thread count.
 *
 * This program defines cblas_sgemm itself, so that the library's calls
 * (lib/util/kernels.c) come here.  In the default mode the call is passed
 * on to the BLAS the program was linked with (dlsym RTLD_NEXT); in the
 * "other kernel" mode a plain loop computes it with its own summation
 * order (k from last to first, in float), as a BLAS built for another
 * processor would use another order.  OPENBLAS_CORETYPE is left alone.
 *
 * The tolerances asserted here are the ones docs/keras-semantics.md
 * ("Reproducibility") states: scores within 1e-5 relative and the test
 * RMSE within 1e-5 (measured here: at most 4e-7 for either).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#include <check.h>
#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define USERS  100
#define ITEMS  150
#define ROWS   3000
#define TESTS  1000
#define EPOCHS 5

#define SCORE_TOL 1e-5  /* largest relative difference of a score       */
#define RMSE_TOL  1e-5  /* largest absolute difference of the test RMSE */

/* ---- the interposed BLAS -------------------------------------------------- */

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE,
                         const enum CBLAS_TRANSPOSE, const blasint, const blasint, const blasint,
                         const float, const float *, const blasint, const float *,
                         const blasint, const float, float *, const blasint);

static sgemm_fn next_sgemm; /* the linked BLAS's, found by main()           */
static int other_kernel;  /* 0: the linked BLAS; 1: the plain loop        */
static long plain_calls;  /* calls the plain loop answered                */
static long passed_calls; /* calls passed on to the linked BLAS           */

void cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta,
                 const enum CBLAS_TRANSPOSE tb, const blasint M, const blasint N,
                 const blasint K, const float alpha, const float *A, const blasint lda,
                 const float *B, const blasint ldb, const float beta, float *C,
                 const blasint ldc)
{
    if (!other_kernel) {
        __atomic_add_fetch(&passed_calls, 1, __ATOMIC_RELAXED);
        next_sgemm(order, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    ck_assert(order == CblasRowMajor);   /* the library's only order */
    __atomic_add_fetch(&plain_calls, 1, __ATOMIC_RELAXED);
    for (blasint i = 0; i < M; i++)
        for (blasint j = 0; j < N; j++) {
            float acc = 0.0f;
            for (blasint k = K - 1; k >= 0; k--) {
                float a = ta == CblasNoTrans ? A[i * lda + k] : A[k * lda + i];
                float b = tb == CblasNoTrans ? B[k * ldb + j] : B[j * ldb + k];
                acc += a * b;
            }
            C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
        }
}

/* ---- the model ------------------------------------------------------------ */

/* user, item (strings) and rating (float): ratings 1..5 from hidden user
 * and item effects, so that training has something to learn. */
static void row_fn(size_t r, char (*s)[TU_ROW_CHARS], float *f, void *arg)
{
    uint64_t x = (uint64_t)r * 0x9e3779b97f4a7c15ull + *(const uint64_t *)arg;
    unsigned u, i;

    x ^= x >> 31, x *= 0xbf58476d1ce4e5b9ull, x ^= x >> 29;
    u = (unsigned)(x % USERS);
    i = (unsigned)((x >> 24) % ITEMS);
    snprintf(s[0], TU_ROW_CHARS, "u%u", u);
    snprintf(s[1], TU_ROW_CHARS, "i%u", i);
    f[0] = 1.0f + 0.5f * (float)(u % 5 + i % 5);
}

static tfrs_dataset *make_data(size_t rows, uint64_t seed)
{
    static const tu_column cols[] = {
        { "user", TFRS_COLUMN_STRING }, { "item", TFRS_COLUMN_STRING },
        { "rating", TFRS_COLUMN_FLOAT },
    };
    tfrs_dataset *ds;

    ck_assert_int_eq(tu_dataset_new(&ds, cols, 3, rows, row_fn, &seed), TFRS_OK);
    return ds;
}

/* The tutorial's shape, smaller: embeddings 8, dense 64 relu, 16 relu, 1;
 * Adagrad 0.1; trained for EPOCHS at batch 512 (few enough users and
 * items that the first layer is factored) on `threads` threads, then
 * the test rows' scores and RMSE. */
static void train_and_score(const tfrs_dataset *train, const tfrs_dataset *test, int threads,
                            float *scores, double *rmse)
{
    tfrs_vocab *uv, *iv;
    tfrs_model *m;
    tfrs_fit_options fo;
    tfrs_metrics ev;
    tu_model_spec spec;

    ck_assert_int_eq(tfrs_vocab_adapt_column(&uv, train, "user", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&iv, train, "item", NULL), TFRS_OK);
    memset(&spec, 0, sizeof(spec));
    spec.seed = 42;
    spec.features[0].name = "user";
    spec.features[0].vocab = uv;
    spec.features[0].dim = 8;
    spec.features[1].name = "item";
    spec.features[1].vocab = iv;
    spec.features[1].dim = 8;
    spec.dense[0].units = 64;
    spec.dense[0].act = TFRS_ACT_RELU;
    spec.dense[1].units = 16;
    spec.dense[1].act = TFRS_ACT_RELU;
    spec.dense[2].units = 1;
    spec.dense[2].act = TFRS_ACT_LINEAR;
    spec.optimizer.set = 1;
    spec.optimizer.kind = TFRS_OPT_ADAGRAD;
    spec.optimizer.learning_rate = 0.1f;
    spec.label = "rating";
    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.epochs = EPOCHS;
    fo.batch_size = 512;
    fo.shuffle = 1;
    fo.shuffle_seed = 7;
    fo.threads = threads;
    ck_assert_int_eq(tfrs_model_fit(m, train, &fo, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_dataset(m, test, scores), TFRS_OK);
    ck_assert_int_eq(tfrs_model_evaluate(m, test, 512, &ev), TFRS_OK);
    *rmse = ev.rmse;
    tfrs_model_free(m);
    tfrs_vocab_free(uv);
    tfrs_vocab_free(iv);
}

/* Largest |a - b| / max(|a|, |b|, 1e-3) over n scores. */
static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double worst = 0.0;

    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        double s = fmax(fmax(fabs((double)a[i]), fabs((double)b[i])), 1e-3);
        if (d / s > worst)
            worst = d / s;
    }
    return worst;
}

static tfrs_dataset *train_ds, *test_ds;

static void setup(void)
{
    train_ds = make_data(ROWS, 1);
    test_ds = make_data(TESTS, 2);
}

static void teardown(void)
{
    tfrs_dataset_free(train_ds);
    tfrs_dataset_free(test_ds);
}

/* Same kernel, same thread count: the same bits; another kernel or another
 * thread count: within the tolerances.  threads = 1 or 2 per run. */
static void compare_runs(int threads)
{
    float *a = calloc(TESTS, sizeof(float)), *b = calloc(TESTS, sizeof(float));
    float *c = calloc(TESTS, sizeof(float)), *d = calloc(TESTS, sizeof(float));
    double ra, rb, rc, rd, rel;

    ck_assert(a != NULL && b != NULL && c != NULL && d != NULL);
    other_kernel = 0;
    passed_calls = plain_calls = 0;
    train_and_score(train_ds, test_ds, threads, a, &ra);
    train_and_score(train_ds, test_ds, threads, b, &rb);
    ck_assert_int_gt(passed_calls, 0);
    ck_assert_int_eq(plain_calls, 0);
    ck_assert(memcmp(a, b, TESTS * sizeof(float)) == 0);
    ck_assert(memcmp(&ra, &rb, sizeof(ra)) == 0);

    other_kernel = 1;
    passed_calls = 0;
    train_and_score(train_ds, test_ds, threads, c, &rc);
    train_and_score(train_ds, test_ds, threads, d, &rd);
    other_kernel = 0;
    ck_assert_int_gt(plain_calls, 0);
    ck_assert_int_eq(passed_calls, 0);
    ck_assert(memcmp(c, d, TESTS * sizeof(float)) == 0);

    /* The two kernels really summed differently, and agree to tolerance. */
    ck_assert(memcmp(a, c, TESTS * sizeof(float)) != 0);
    rel = max_rel_diff(a, c, TESTS);
    printf("%d thread(s): other kernel: largest relative score difference %.3g, "
           "RMSE %.10f vs %.10f\n", threads, rel, ra, rc);
    ck_assert_msg(rel <= SCORE_TOL, "scores differ by %g relative", rel);
    ck_assert_msg(fabs(ra - rc) <= RMSE_TOL, "RMSE %.10f vs %.10f", ra, rc);
    /* It learned: the best constant's RMSE is 1.0 here. */
    ck_assert_msg(ra < 0.8, "test RMSE %g", ra);
    free(a);
    free(b);
    free(c);
    free(d);
}

START_TEST(one_thread)
{
    compare_runs(1);
}
END_TEST

START_TEST(two_threads)
{
    compare_runs(2);
}
END_TEST

/* One thread against two: another summation order of the slices' sums. */
START_TEST(threads_within_tolerance)
{
    float *a = calloc(TESTS, sizeof(float)), *b = calloc(TESTS, sizeof(float));
    double ra, rb, rel;

    ck_assert(a != NULL && b != NULL);
    other_kernel = 0;
    train_and_score(train_ds, test_ds, 1, a, &ra);
    train_and_score(train_ds, test_ds, 2, b, &rb);
    rel = max_rel_diff(a, b, TESTS);
    printf("1 vs 2 threads: largest relative score difference %.3g, RMSE %.10f vs %.10f\n",
           rel, ra, rb);
    ck_assert_msg(rel <= SCORE_TOL, "scores differ by %g relative", rel);
    ck_assert_msg(fabs(ra - rb) <= RMSE_TOL, "RMSE %.10f vs %.10f", ra, rb);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    /* A call of the linked BLAS's own, so that the linker keeps it as a
     * dependency (this program answers its only other use, cblas_sgemm). */
    static const float one[2] = { 1.0f, 2.0f };
    Suite *s = suite_create("blas-order");
    TCase *tc = tcase_create("core");

    if (cblas_sdot(2, one, 1, one, 1) != 5.0f)
        return 1;
    /* Found before any thread calls it. */
    *(void **)&next_sgemm = dlsym(RTLD_NEXT, "cblas_sgemm");
    if (next_sgemm == NULL) {
        fprintf(stderr, "test-blas-order: no cblas_sgemm after this program's\n");
        return 1;
    }
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, one_thread);
    tcase_add_test(tc, two_threads);
    tcase_add_test(tc, threads_within_tolerance);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
