/*
 * test-limits.c - hostile sizes and values through the public API: tables
 * too large to allocate fail at once without committing memory, counts whose
 * products overflow are refused before any array is read, and no call
 * reports success with a score that is not a number.  Black-box: the
 * attacks are built here, from the public header only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "testutil.h"
#include "tfrsc.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set of this process, in MiB. */
static double peak_rss_mib(void)
{
    struct rusage ru;

    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---- tables too large to allocate ---------------------------------------- */

/* 2^31 - 1 rows of 65,536 floats (512 TiB) used to commit 10.5 GB of row
 * bookkeeping and take 43 s before failing; now the largest buffer is asked
 * for first, fresh memory is never touched, and the answer is immediate. */
START_TEST(huge_embedding_fails_fast)
{
    tfrs_embedding *e = (tfrs_embedding *)&e;
    double rss0 = peak_rss_mib(), t0 = now();
    int rc = tfrs_embedding_create(&e, (size_t)INT32_MAX, 65536, 1);
    double dt = now() - t0;

    ck_assert_int_eq(rc, TFRS_ENOMEM);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(tfrs_last_error(), "out of memory") != NULL, "%s", tfrs_last_error());
    ck_assert_msg(dt < 1.0, "took %.3f s", dt);
    ck_assert_msg(peak_rss_mib() - rss0 < 64.0, "peak RSS grew by %.0f MiB",
                  peak_rss_mib() - rss0);
}
END_TEST

START_TEST(huge_dense_fails_fast)
{
    tfrs_dense *d = (tfrs_dense *)&d;
    double rss0 = peak_rss_mib(), t0 = now();
    int rc = tfrs_dense_create(&d, (size_t)1 << 30, (size_t)1 << 30, TFRS_ACT_RELU, 1);

    ck_assert_int_eq(rc, TFRS_ENOMEM);
    ck_assert_ptr_null(d);
    ck_assert_msg(now() - t0 < 1.0, "took %.3f s", now() - t0);
    ck_assert_msg(peak_rss_mib() - rss0 < 64.0, "peak RSS grew by %.0f MiB",
                  peak_rss_mib() - rss0);
}
END_TEST

/* A model whose vocabulary is small but whose embedding is too wide to
 * build fails at build, cleanly, and can be freed. */
START_TEST(huge_model_build_fails_fast)
{
    const char *tokens[] = { "a", "b", "c" };
    tfrs_vocab *v;
    tfrs_model *m;
    double t0;

    ck_assert_int_eq(tfrs_vocab_create(&v, tokens, 3, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, 1), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_feature(m, "f", v, (size_t)1 << 40), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    t0 = now();
    ck_assert_int_eq(tfrs_model_build(m), TFRS_ENOMEM);
    ck_assert_msg(now() - t0 < 1.0, "took %.3f s", now() - t0);
    ck_assert_uint_eq(tfrs_model_num_parameters(m), 0);
    tfrs_model_free(m);
    tfrs_vocab_free(v);
}
END_TEST

/* ---- counts whose products overflow -------------------------------------- */

/* A built model of users 0..3 and items 0..2 (items only when vu is NULL),
 * 4-dimensional embeddings, dense 8 relu then 1, SGD at rate lr. */
static tfrs_model *small_model(tfrs_vocab **vu, tfrs_vocab **vi, float lr)
{
    const char *users[] = { "u1", "u2", "u3" }, *items[] = { "i1", "i2" };
    tu_model_spec spec;
    tfrs_model *m;
    int f = 0;

    memset(&spec, 0, sizeof(spec));
    spec.seed = 3;
    if (vu != NULL) {
        ck_assert_int_eq(tfrs_vocab_create(vu, users, 3, NULL), TFRS_OK);
        spec.features[f].name = "user";
        spec.features[f].vocab = *vu;
        spec.features[f++].dim = 4;
    }
    ck_assert_int_eq(tfrs_vocab_create(vi, items, 2, NULL), TFRS_OK);
    spec.features[f].name = "item";
    spec.features[f].vocab = *vi;
    spec.features[f].dim = 4;
    spec.dense[0].units = 8;
    spec.dense[0].act = TFRS_ACT_RELU;
    spec.dense[1].units = 1;
    spec.dense[1].act = TFRS_ACT_LINEAR;
    spec.optimizer.set = 1;
    spec.optimizer.kind = TFRS_OPT_SGD;
    spec.optimizer.learning_rate = lr;
    spec.label = "label";
    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    return m;
}

/* n * F does not fit size_t: the calls must refuse before reading the
 * (four-element) arrays, which AddressSanitizer would otherwise catch. */
START_TEST(overflowing_counts_are_refused)
{
    tfrs_vocab *vu, *vi;
    tfrs_model *m = small_model(&vu, &vi, 0.1f);
    const int32_t ids[4] = { 1, 1, 2, 2 };
    const float labels[4] = { 1, 2, 3, 4 };
    const char *values[4] = { "u1", "i1", "u2", "i2" };
    float scores[4];
    double loss;
    size_t huge = SIZE_MAX / 2 + 1;      /* times 2 features overflows */

    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, huge, scores), TFRS_EINVAL);
    ck_assert_msg(strstr(tfrs_last_error(), "tfrs_model_predict_ids") != NULL, "%s",
                  tfrs_last_error());
    ck_assert_int_eq(tfrs_model_predict(m, values, huge, scores), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, huge, &loss), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_test_step(m, ids, labels, NULL, huge, &loss, scores),
                     TFRS_EINVAL);
    /* n * 4 floats of an embedding's output do not fit either. */
    ck_assert_int_eq(tfrs_embedding_forward(tfrs_model_feature_embedding(m, 0), ids,
                                            SIZE_MAX / 4 + 1, scores), TFRS_EINVAL);
    /* The model is untouched and still works. */
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, 2, scores), TFRS_OK);
    tfrs_model_free(m);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
}
END_TEST

/* ---- scores that are not numbers ------------------------------------------ */

static void label_row(size_t r, char (*s)[TU_ROW_CHARS], float *f, void *arg)
{
    (void)arg;
    strcpy(s[0], r % 2 ? "u1" : "u2");
    strcpy(s[1], r % 3 ? "i1" : "i2");
    f[0] = (float)(r % 5) + 1.0f;
}

/* With a learning rate of 1e30 the first step leaves finite but huge
 * weights (it is not rolled back: nothing in it overflowed), and every
 * later forward pass overflows.  No call may then report success. */
START_TEST(overflowing_scores_are_errors)
{
    const tu_column cols[] = { { "user", TFRS_COLUMN_STRING }, { "item", TFRS_COLUMN_STRING },
                               { "label", TFRS_COLUMN_FLOAT } };
    tfrs_vocab *vu, *vi;
    tfrs_model *m = small_model(&vu, &vi, 1e37f);
    tfrs_dataset *ds;
    const int32_t ids[6] = { 1, 1, 2, 2, 3, 1 };
    const float labels[3] = { 5, 5, 5 };
    const char *query[2] = { "u1", NULL }, *cands[2] = { "i1", "i2" };
    const char *values[6] = { "u1", "i1", "u2", "i2", "u3", "i1" };
    float scores[3];
    tfrs_scored best[2];
    tfrs_metrics mt;
    double loss;
    size_t k;
    int rc;

    ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, 3, &loss), TFRS_OK);
    /* Keep stepping until the weights are large enough to overflow a score:
     * each accepted step multiplies them; a step that would make a weight
     * or a loss non-finite is refused and changes nothing. */
    for (int i = 0; i < 8; i++) {
        rc = tfrs_model_train_step(m, ids, labels, NULL, 3, &loss);
        ck_assert(rc == TFRS_OK || rc == TFRS_ENONFINITE);
    }
    rc = tfrs_model_predict_ids(m, ids, 3, scores);
    ck_assert_msg(rc == TFRS_ENONFINITE, "predict_ids returned %d with scores %g %g %g", rc,
                  (double)scores[0], (double)scores[1], (double)scores[2]);
    ck_assert_msg(strstr(tfrs_last_error(), "example") != NULL, "%s", tfrs_last_error());
    ck_assert_int_eq(tfrs_model_predict(m, values, 3, scores), TFRS_ENONFINITE);
    ck_assert_int_eq(tfrs_model_test_step(m, ids, labels, NULL, 3, &loss, scores),
                     TFRS_ENONFINITE);
    /* rank adds the first layer up in another order (query part, then each
     * candidate's cached row), so here its scores may still be finite; it
     * may only report success if they are. */
    rc = tfrs_model_rank(m, query, "item", cands, 2, 0, best, &k);
    ck_assert(rc == TFRS_ENONFINITE ||
              (rc == TFRS_OK && isfinite(best[0].score) && isfinite(best[1].score)));
    ck_assert_int_eq(tu_dataset_new(&ds, cols, 3, 12, label_row, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_evaluate(m, ds, 5, &mt), TFRS_ENONFINITE);
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
}
END_TEST

/* With the candidate feature alone, rank's first layer is the same sum as
 * the forward pass's, so once predict overflows, rank must report it. */
START_TEST(overflowing_rank_is_an_error)
{
    const char *query[1] = { NULL }, *cands[2] = { "i1", "i2" };
    const int32_t ids[2] = { 1, 2 };
    const float labels[2] = { 5, 5 };
    tfrs_scored best[2];
    tfrs_vocab *vi;
    tfrs_model *m = small_model(NULL, &vi, 1e37f);
    float scores[2];
    double loss;
    size_t k;

    ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, 2, &loss), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, 2, scores), TFRS_ENONFINITE);
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", cands, 2, 0, best, &k), TFRS_ENONFINITE);
    ck_assert_msg(strstr(tfrs_last_error(), "candidate") != NULL, "%s", tfrs_last_error());
    ck_assert_uint_eq(k, 0);
    tfrs_model_free(m);
    tfrs_vocab_free(vi);
}
END_TEST

/* The same model with a sane learning rate predicts finite scores: the
 * check does not fire on ordinary models. */
START_TEST(finite_scores_pass)
{
    tfrs_vocab *vu, *vi;
    tfrs_model *m = small_model(&vu, &vi, 0.1f);
    const int32_t ids[6] = { 1, 1, 2, 2, 3, 1 };
    const float labels[3] = { 5, 1, 3 };
    float scores[3];
    double loss;

    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, 3, &loss), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, 3, scores), TFRS_OK);
    for (int i = 0; i < 3; i++)
        ck_assert(isfinite(scores[i]));
    tfrs_model_free(m);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(huge_embedding_fails_fast),
        TU_CASE(huge_dense_fails_fast),
        TU_CASE(huge_model_build_fails_fast),
        TU_CASE(overflowing_counts_are_refused),
        TU_CASE(overflowing_scores_are_errors),
        TU_CASE(overflowing_rank_is_an_error),
        TU_CASE(finite_scores_pass),
    };

    return tu_run_cases("limits", cases, TU_NELEM(cases));
}
