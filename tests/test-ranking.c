/*
 * test-ranking.c - ranking task losses, gradients and pass metrics.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/rng.h"
#include "testutil.h"

static tfrs_ranking_task *make_task(tfrs_loss loss, int from_logits, float delta,
                                    unsigned metrics)
{
    tfrs_task_options o;
    tfrs_ranking_task *t = NULL;

    ck_assert_int_eq(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    o.loss = loss;
    o.from_logits = from_logits;
    o.huber_delta = delta;
    o.metrics = metrics;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_OK);
    return t;
}

START_TEST(options_defaults)
{
    tfrs_task_options o, got;
    tfrs_ranking_task *t = NULL;

    memset(&o, 0xff, sizeof(o));
    ck_assert_int_eq(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    ck_assert_uint_eq(o.version, TFRS_TASK_OPTIONS_VERSION);
    ck_assert_int_eq(o.loss, TFRS_LOSS_MSE);
    ck_assert_int_eq(o.from_logits, 0);
    ck_assert_float_eq(o.huber_delta, 1.0f);
    ck_assert_uint_eq(o.metrics, TFRS_METRIC_RMSE);
    /* NULL options mean the same defaults. */
    ck_assert_int_eq(tfrs_ranking_task_create(&t, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_options(t, &got), TFRS_OK);
    ck_assert_int_eq(memcmp(&o, &got, sizeof(o)), 0);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(mse_and_rmse_over_two_batches)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f,
                                     TFRS_METRIC_RMSE | TFRS_METRIC_MAE);
    const float p1[2] = { 3, 4 }, y1[2] = { 2, 5 }, p2[1] = { 1 }, y2[1] = { 4 };
    float g[2];
    double l1, l2;
    tfrs_metrics m;

    /* batch 1: errors 1, -1   MSE = (1 + 1) / 2 = 1   dpred = 2 e / 2 = 1, -1 */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p1, y1, NULL, 2, &l1, g), TFRS_OK);
    ck_assert_double_eq_tol(l1, 1.0, 1e-12);
    ck_assert_float_eq(g[0], 1.0f);
    ck_assert_float_eq(g[1], -1.0f);
    /* batch 2: error -3       MSE = 9 */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p2, y2, NULL, 1, &l2, NULL), TFRS_OK);
    ck_assert_double_eq_tol(l2, 9.0, 1e-12);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p1, y1, NULL, 2, l1), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p2, y2, NULL, 1, l2), TFRS_OK);
    /* pass loss = (1 * 2 + 9 * 1) / 3 = 11/3;  RMSE = sqrt((1 + 1 + 9) / 3);
     * MAE = (1 + 1 + 3) / 3 = 5/3 */
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_uint_eq(m.examples, 3);
    ck_assert_double_eq_tol(m.loss, 11.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(m.total_loss, 11.0 / 3.0, 1e-12);
    ck_assert_double_eq(m.regularization_loss, 0.0);
    ck_assert_double_eq_tol(m.rmse, sqrt(11.0 / 3.0), 1e-12);
    ck_assert_double_eq_tol(m.mae, 5.0 / 3.0, 1e-12);
    ck_assert_double_eq(m.auc, 0.0);   /* not enabled */
    ck_assert_uint_eq(m.metrics, TFRS_METRIC_RMSE | TFRS_METRIC_MAE);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(weighted_loss_divides_by_batch_size)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f,
                                     TFRS_METRIC_RMSE | TFRS_METRIC_MAE);
    const float p[3] = { 1, 2, 3 }, y[3] = { 0, 0, 0 }, w[3] = { 1, 0.5f, 2 };
    float g[3];
    double l;
    tfrs_metrics m;

    /* l = 1, 4, 9;  sum w l = 1 + 2 + 18 = 21;  / n = 7 (not / sum w = 3.5)
     * dpred = w 2 e / n = 2/3, 2/3, 4 */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, w, 3, &l, g), TFRS_OK);
    ck_assert_double_eq_tol(l, 7.0, 1e-12);
    ck_assert_float_eq_tol(g[0], 2.0f / 3.0f, 1e-7f);
    ck_assert_float_eq_tol(g[1], 2.0f / 3.0f, 1e-7f);
    ck_assert_float_eq_tol(g[2], 4.0f, 1e-7f);
    /* weighted RMSE = sqrt(21 / 3.5) = sqrt(6); weighted MAE = (1 + 1 + 6) / 3.5 */
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, w, 3, l), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq_tol(m.rmse, sqrt(6.0), 1e-12);
    ck_assert_double_eq_tol(m.mae, 8.0 / 3.5, 1e-12);
    ck_assert_double_eq_tol(m.loss, 7.0, 1e-12);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(zero_total_weight_gives_zero_metrics)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f,
                                     TFRS_METRIC_RMSE | TFRS_METRIC_MAE);
    const float p[2] = { 1, 2 }, y[2] = { 0, 0 }, w[2] = { 0, 0 };
    tfrs_metrics m;

    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, w, 2, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq(m.rmse, 0.0);
    ck_assert_double_eq(m.mae, 0.0);
    ck_assert_uint_eq(m.examples, 2);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(huber_both_branches)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_HUBER, 1, 1.0f, TFRS_METRIC_RMSE);
    tfrs_ranking_task *t2 = make_task(TFRS_LOSS_HUBER, 1, 2.0f, TFRS_METRIC_RMSE);
    const float p[3] = { 0.5f, 3, -2 }, y[3] = { 0, 0, 0 };
    float g[3];
    double l;

    /* delta 1: 0.5 * 0.25 = 0.125;  3 - 0.5 = 2.5;  2 - 0.5 = 1.5
     *          mean = 4.125 / 3 = 1.375;  dpred = (0.5, 1, -1) / 3 */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, NULL, 3, &l, g), TFRS_OK);
    ck_assert_double_eq_tol(l, 1.375, 1e-12);
    ck_assert_float_eq_tol(g[0], 0.5f / 3.0f, 1e-7f);
    ck_assert_float_eq_tol(g[1], 1.0f / 3.0f, 1e-7f);
    ck_assert_float_eq_tol(g[2], -1.0f / 3.0f, 1e-7f);
    /* delta 2: 0.125;  2 * 3 - 2 = 4;  |d| = 2 <= delta: 0.5 * 4 = 2
     *          mean = 6.125 / 3;  dpred = (0.5, 2, -2) / 3 */
    ck_assert_int_eq(tfrs_ranking_task_loss(t2, p, y, NULL, 3, &l, g), TFRS_OK);
    ck_assert_double_eq_tol(l, 6.125 / 3.0, 1e-12);
    ck_assert_float_eq_tol(g[1], 2.0f / 3.0f, 1e-7f);
    ck_assert_float_eq_tol(g[2], -2.0f / 3.0f, 1e-7f);
    tfrs_ranking_task_free(t);
    tfrs_ranking_task_free(t2);
}
END_TEST

START_TEST(bce_logits_golden)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_BCE, 1, 1.0f, TFRS_METRIC_RMSE);
    const float z[4] = { 0, 100, -100, 0 }, y[4] = { 1, 0, 0, 0.5f };
    float g[4];
    double l;

    /* log 2;  100 (no overflow);  log(1 + e^-100) ~ 3.7e-44;  log 2 (soft label) */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, z, y, NULL, 1, &l, g), TFRS_OK);
    ck_assert_double_eq_tol(l, log(2.0), 1e-12);
    ck_assert_float_eq(g[0], -0.5f);
    ck_assert_int_eq(tfrs_ranking_task_loss(t, z, y, NULL, 4, &l, g), TFRS_OK);
    ck_assert_double_eq_tol(l, (2.0 * log(2.0) + 100.0) / 4.0, 1e-9);
    ck_assert_float_eq_tol(g[1], 0.25f, 1e-7f);    /* (sigmoid(100) - 0) / 4 */
    ck_assert_float_eq_tol(g[2], 0.0f, 1e-7f);
    ck_assert_float_eq_tol(g[3], 0.0f, 1e-7f);     /* sigmoid(0) - 0.5 */
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(bce_logits_and_probabilities_agree)
{
    tfrs_ranking_task *tl = make_task(TFRS_LOSS_BCE, 1, 1.0f, TFRS_METRIC_RMSE);
    tfrs_ranking_task *tp = make_task(TFRS_LOSS_BCE, 0, 1.0f, TFRS_METRIC_RMSE);
    const float z[5] = { -2.0f, -0.5f, 0.3f, 1.7f, 3.0f }, y[5] = { 0, 1, 1, 0, 1 };
    const float w[5] = { 1, 2, 0.5f, 1, 1 };
    float p[5], gl[5], gp[5];
    double ll, lp;

    for (int i = 0; i < 5; i++)
        p[i] = (float)(1.0 / (1.0 + exp(-(double)z[i])));
    ck_assert_int_eq(tfrs_ranking_task_loss(tl, z, y, w, 5, &ll, gl), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_loss(tp, p, y, w, 5, &lp, gp), TFRS_OK);
    ck_assert_double_eq_tol(ll, lp, 1e-5);
    /* Chain rule: d/dz = d/dp * p (1 - p). */
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq_tol(gl[i], gp[i] * p[i] * (1.0f - p[i]), 1e-5f);
    tfrs_ranking_task_free(tl);
    tfrs_ranking_task_free(tp);
}
END_TEST

START_TEST(bce_probabilities_are_clipped)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_BCE, 0, 1.0f, TFRS_METRIC_RMSE);
    const float p[2] = { 0.0f, 1.5f }, y[2] = { 1, 0 };
    float g[2];
    double l;

    /* p = 0 clipped to 1e-7:  -log(1e-7 + 1e-7) = 15.42;  no gradient */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, NULL, 1, &l, g), TFRS_OK);
    ck_assert_double_eq_tol(l, -log((double)1e-7f + 1e-7), 1e-6);
    ck_assert_float_eq(g[0], 0.0f);
    /* p = 1.5 clipped to 1 - 1e-7:  -log(1 - (1 - 1e-7) + 1e-7) ~ 15.4 */
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p + 1, y + 1, NULL, 1, &l, g), TFRS_OK);
    ck_assert(isfinite(l) && l > 14.0 && l < 17.0);
    ck_assert_float_eq(g[0], 0.0f);
    tfrs_ranking_task_free(t);
}
END_TEST

/* Checks dpred against central differences of the batch loss. */
static void check_gradient(const tfrs_ranking_task *t, const float *p0, const float *y,
                           const float *w, size_t n)
{
    float p[8], g[8];
    double l;
    const float h = 1e-3f;

    ck_assert_uint_le(n, 8);
    memcpy(p, p0, n * sizeof(float));
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, w, n, &l, g), TFRS_OK);
    for (size_t k = 0; k < n; k++) {
        float pp = p0[k] + h, pm = p0[k] - h;
        double lp, lm, num;

        p[k] = pp;
        ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, w, n, &lp, NULL), TFRS_OK);
        p[k] = pm;
        ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, w, n, &lm, NULL), TFRS_OK);
        p[k] = p0[k];
        num = (lp - lm) / ((double)pp - (double)pm);
        ck_assert_msg(fabs(num - g[k]) <= 1e-6 + 1e-3 * fabs(num),
                      "pred[%zu]: numeric %g analytic %g", k, num, (double)g[k]);
    }
}

START_TEST(gradients_match_finite_differences)
{
    const float y[6] = { 0, 1, 1, 0, 1, 0 };
    const float w[6] = { 1, 0.5f, 2, 1.5f, 1, 0.25f };
    const float reg[6] = { -1.2f, 0.4f, 2.5f, 0.1f, -0.3f, 1.9f };
    const float prob[6] = { 0.1f, 0.35f, 0.6f, 0.9f, 0.75f, 0.2f };
    /* |p - y| away from the Huber delta of 1 by more than the step */
    const float hub[6] = { -1.5f, 0.8f, 3.0f, 0.5f, 1.2f, -0.9f };
    struct { tfrs_loss loss; int logits; const float *p; } cases[] = {
        { TFRS_LOSS_MSE, 1, reg },
        { TFRS_LOSS_BCE, 1, reg },
        { TFRS_LOSS_BCE, 0, prob },
        { TFRS_LOSS_HUBER, 1, hub },
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        tfrs_ranking_task *t = make_task(cases[c].loss, cases[c].logits, 1.0f,
                                         TFRS_METRIC_RMSE);
        check_gradient(t, cases[c].p, y, NULL, 6);
        check_gradient(t, cases[c].p, y, w, 6);
        tfrs_ranking_task_free(t);
    }
}
END_TEST

START_TEST(non_finite_loss_is_returned)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_RMSE);
    const float p[2] = { NAN, 1 }, y[2] = { 0, 0 };
    double l = 0.0;

    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, NULL, 2, &l, NULL), TFRS_OK);
    ck_assert(isnan(l));
    tfrs_ranking_task_free(t);
}
END_TEST

/* ---- AUC ----------------------------------------------------------------- */

START_TEST(auc_hand_example_with_tie)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_BCE, 0, 1.0f, TFRS_METRIC_AUC);
    const float p[5] = { 0.1f, 0.4f, 0.75f, 0.75f, 0.9f }, y[5] = { 0, 0, 1, 0, 1 };
    const float w[5] = { 1, 1, 2, 1, 1 };
    tfrs_metrics m;

    /* positives 0.75, 0.9; negatives 0.1, 0.4, 0.75.
     * 0.75 beats 0.1 and 0.4 and ties 0.75 (1/2); 0.9 beats all three.
     * AUC = (2 + 0.5 + 3) / (2 * 3) = 5.5 / 6.  Fed in two batches. */
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, NULL, 3, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p + 3, y + 3, NULL, 2, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq_tol(m.auc, 5.5 / 6.0, 1e-12);
    ck_assert_double_eq(m.rmse, 0.0);   /* not enabled */
    ck_assert_uint_eq(m.metrics, TFRS_METRIC_AUC);

    /* Weighted: the positive at 0.75 counts twice.
     * area = 2 * (1 + 1 + 0.5) + 1 * 3 = 8;  AUC = 8 / (3 * 3) */
    tfrs_ranking_task_reset(t);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, w, 5, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq_tol(m.auc, 8.0 / 9.0, 1e-12);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(auc_matches_brute_force)
{
    enum { N = 300 };
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f,
                                     TFRS_METRIC_AUC | TFRS_METRIC_RMSE);
    float p[N], y[N], w[N];
    double area = 0.0, pos = 0.0, neg = 0.0;
    tfrs_metrics m;
    tfrs__rng r;

    tfrs__rng_seed(&r, 77, 0);
    for (int i = 0; i < N; i++) {
        y[i] = (float)tfrs__rng_below(&r, 2);
        /* One decimal, shifted up for positives: many ties, AUC well above 0.5. */
        p[i] = (float)tfrs__rng_below(&r, 10) / 10.0f + 0.3f * y[i];
        w[i] = tfrs__rng_uniform(&r, 0.5f, 2.0f);
    }
    for (int i = 0; i < N; i++) {
        if (y[i] == 1.0f)
            pos += w[i];
        else
            neg += w[i];
        for (int j = 0; j < N; j++)
            if (y[i] == 1.0f && y[j] == 0.0f)
                area += (double)w[i] * w[j] * (p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0);
    }
    for (int b = 0; b < N; b += 64) {
        size_t n = N - b < 64 ? (size_t)(N - b) : 64;
        ck_assert_int_eq(tfrs_ranking_task_update(t, p + b, y + b, w + b, n, 0.0), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq_tol(m.auc, area / (pos * neg), 1e-9);
    ck_assert_double_gt(m.auc, 0.6);
    ck_assert_uint_eq(m.examples, N);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(auc_extremes_and_single_class)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_AUC);
    const float p[4] = { 0.1f, 0.2f, 0.8f, 0.9f };
    const float sep[4] = { 0, 0, 1, 1 }, rev[4] = { 1, 1, 0, 0 }, one[4] = { 1, 1, 1, 1 };
    tfrs_metrics m;

    ck_assert_int_eq(tfrs_ranking_task_update(t, p, sep, NULL, 4, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq(m.auc, 1.0);
    tfrs_ranking_task_reset(t);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, rev, NULL, 4, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq(m.auc, 0.0);
    /* One class only: defined as 0, as Keras reports. */
    tfrs_ranking_task_reset(t);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, one, NULL, 4, 0.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq(m.auc, 0.0);
    /* Empty pass. */
    tfrs_ranking_task_reset(t);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq(m.auc, 0.0);
    ck_assert_uint_eq(m.examples, 0);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(auc_rejects_non_binary_labels)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_AUC);
    const float p[3] = { 0.1f, 0.2f, 0.3f }, good[3] = { 0, 1, 0 }, bad[3] = { 0, 0.5f, 1 };
    tfrs_metrics m;

    ck_assert_int_eq(tfrs_ranking_task_update(t, p, good, NULL, 3, 1.0), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, bad, NULL, 3, 5.0), TFRS_EINVAL);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);
    /* The rejected batch did not enter the pass. */
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_uint_eq(m.examples, 3);
    ck_assert_double_eq_tol(m.loss, 1.0, 1e-12);
    ck_assert_double_eq_tol(m.auc, 0.5, 1e-12);   /* 0.2 beats 0.1, loses to 0.3 */
    tfrs_ranking_task_free(t);

    /* Without AUC, any label is fine. */
    t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_RMSE);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, bad, NULL, 3, 0.0), TFRS_OK);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(reset_starts_a_new_pass)
{
    tfrs_ranking_task *t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_RMSE |
                                     TFRS_METRIC_MAE | TFRS_METRIC_AUC);
    const float p[2] = { 0.2f, 0.9f }, y[2] = { 0, 1 };
    tfrs_metrics m;

    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, NULL, 2, 3.0), TFRS_OK);
    tfrs_ranking_task_reset(t);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_uint_eq(m.examples, 0);
    ck_assert_double_eq(m.loss, 0.0);
    ck_assert_double_eq(m.rmse, 0.0);
    ck_assert_double_eq(m.mae, 0.0);
    ck_assert_double_eq(m.auc, 0.0);
    /* errors 0.2 and -0.1 */
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, NULL, 2, 0.5), TFRS_OK);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_uint_eq(m.examples, 2);
    ck_assert_double_eq_tol(m.loss, 0.5, 1e-12);
    ck_assert_double_eq_tol(m.mae, 0.15, 1e-7);
    ck_assert_double_eq_tol(m.auc, 1.0, 1e-12);
    tfrs_ranking_task_free(t);
}
END_TEST

START_TEST(misuse_returns_einval)
{
    tfrs_task_options o;
    tfrs_ranking_task *t = (tfrs_ranking_task *)&t;
    const float p[1] = { 1 }, y[1] = { 0 };
    float g[1];
    double l;
    tfrs_metrics m;

    ck_assert_int_eq(tfrs_task_options_init(NULL, TFRS_TASK_OPTIONS_VERSION), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_task_options_init(&o, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION + 1), TFRS_EINVAL);

    ck_assert_int_eq(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    o.loss = (tfrs_loss)3;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    o.metrics = 0x8;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    o.loss = TFRS_LOSS_HUBER;
    o.huber_delta = 0.0f;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_EINVAL);
    o.huber_delta = -1.0f;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_EINVAL);
    o.huber_delta = NAN;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_EINVAL);
    o.huber_delta = 1.0f;
    o.version = 0;   /* not initialised */
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_create(NULL, NULL), TFRS_EINVAL);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);

    t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_RMSE);
    ck_assert_int_eq(tfrs_ranking_task_options(NULL, &o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_options(t, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_loss(NULL, p, y, NULL, 1, &l, g), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_loss(t, NULL, y, NULL, 1, &l, g), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, NULL, NULL, 1, &l, g), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, NULL, 1, NULL, g), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_loss(t, p, y, NULL, 0, &l, g), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_update(NULL, p, y, NULL, 1, 0.0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_update(t, NULL, y, NULL, 1, 0.0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, NULL, NULL, 1, 0.0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, NULL, 0, 0.0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_result(NULL, &m), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_result(t, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_uint_eq(m.examples, 0);
    tfrs_ranking_task_free(t);
    tfrs_ranking_task_reset(NULL);
    tfrs_ranking_task_free(NULL);
}
END_TEST

/* ---- out of memory ------------------------------------------------------ */

START_TEST(survives_allocation_failures)
{
    tu_alloc f;
    tfrs_ranking_task *t = (tfrs_ranking_task *)&t;
    const float p[3] = { 0.1f, 0.7f, 0.4f }, y[3] = { 0, 1, 1 };
    tfrs_metrics m;

    tu_alloc_install(&f, 0);
    tu_alloc_budget(&f, 0);
    ck_assert_int_eq(tfrs_ranking_task_create(&t, NULL), TFRS_ENOMEM);
    ck_assert_ptr_null(t);
    tu_alloc_budget(&f, -1);
    t = make_task(TFRS_LOSS_MSE, 1, 1.0f, TFRS_METRIC_AUC);
    /* update: AUC storage */
    tu_alloc_budget(&f, 0);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, NULL, 3, 1.0), TFRS_ENOMEM);
    tu_alloc_budget(&f, -1);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_uint_eq(m.examples, 0);
    ck_assert_int_eq(tfrs_ranking_task_update(t, p, y, NULL, 3, 1.0), TFRS_OK);
    /* result: sort buffer */
    tu_alloc_budget(&f, 0);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_ENOMEM);
    tu_alloc_budget(&f, -1);
    ck_assert_int_eq(tfrs_ranking_task_result(t, &m), TFRS_OK);
    ck_assert_double_eq_tol(m.auc, 1.0, 1e-12);   /* 0.4, 0.7 above 0.1 */
    tfrs_ranking_task_free(t);
    ck_assert_int_eq(f.live, 0);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        { "options", options_defaults },
        { "mse_rmse", mse_and_rmse_over_two_batches },
        { "weighted", weighted_loss_divides_by_batch_size },
        { "zero_weight", zero_total_weight_gives_zero_metrics },
        { "huber", huber_both_branches },
        { "bce_logits", bce_logits_golden },
        { "bce_agree", bce_logits_and_probabilities_agree },
        { "bce_clip", bce_probabilities_are_clipped },
        { "gradients", gradients_match_finite_differences },
        { "non_finite", non_finite_loss_is_returned },
        { "auc_hand", auc_hand_example_with_tie },
        { "auc_brute", auc_matches_brute_force },
        { "auc_extremes", auc_extremes_and_single_class },
        { "auc_labels", auc_rejects_non_binary_labels },
        { "reset", reset_starts_a_new_pass },
        { "misuse", misuse_returns_einval },
        { "oom", survives_allocation_failures },
    };

    return tu_run_cases("ranking", cases, TU_NELEM(cases));
}
