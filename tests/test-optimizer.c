/*
 * test-optimizer.c - Adagrad, SGD and Adam updates checked on paper, sparse
 * rows, and the all-or-nothing non-finite rule.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "optimizer.h"
#include "param.h"
#include "testutil.h"

/* One dense block of n values with its own gradient, set up for `kind`:
 * a one-entry parameter table t over w and g, and the optimizer. */
typedef struct dense_block {
    float w[4], g[4];
    tfrs__params t;
    tfrs__optimizer opt;
} dense_block;

static void block_setup(dense_block *b, tfrs_optimizer_kind kind, float lr, size_t n)
{
    memset(b, 0, sizeof(*b));
    ck_assert_int_eq(tfrs_optimizer_options_init(&b->opt.o, TFRS_OPTIMIZER_OPTIONS_VERSION, kind),
                     TFRS_OK);
    b->opt.o.learning_rate = lr;
    ck_assert_int_eq(tfrs__params_add(&b->t, "block", n, 0, b->w, b->g, NULL, 0.0f), TFRS_OK);
    ck_assert_uint_eq(b->t.n, 1);
    ck_assert_uint_eq(b->t.p[0].n, n);
    ck_assert_int_eq(tfrs__optimizer_init_slots(&b->opt, &b->t), TFRS_OK);
}

static void block_free(dense_block *b)
{
    tfrs__optimizer_free(&b->opt);
    tfrs__params_clear(&b->t);
}

START_TEST(adagrad_step_on_paper)
{
    dense_block b;

    block_setup(&b, TFRS_OPT_ADAGRAD, 0.1f, 1);
    b.w[0] = 1.0f;
    b.g[0] = 0.5f;
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_OK);
    /* acc = 0.1 + 0.25 = 0.35; w = 1 - 0.1 * 0.5 / (sqrt(0.35) + 1e-7)
     *   = 1 - 0.05 / 0.5916080 = 0.9154846 */
    ck_assert_float_eq_tol(b.t.p[0].slot[0][0], 0.35f, 1e-7f);
    ck_assert_float_eq_tol(b.w[0], 0.9154846f, 1e-6f);
    ck_assert_uint_eq(b.opt.steps, 1);
    /* Second step with g = -0.5: acc = 0.6, w += 0.05 / sqrt(0.6) = 0.0645497 */
    b.g[0] = -0.5f;
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_OK);
    ck_assert_float_eq_tol(b.w[0], 0.9154846f + 0.0645497f, 1e-6f);
    block_free(&b);
}
END_TEST

START_TEST(sgd_plain_and_momentum_on_paper)
{
    dense_block b;

    block_setup(&b, TFRS_OPT_SGD, 0.1f, 1);
    b.w[0] = 2.0f;
    b.g[0] = 3.0f;
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_OK);
    ck_assert_float_eq_tol(b.w[0], 1.7f, 1e-6f);           /* 2 - 0.1 * 3 */
    block_free(&b);

    block_setup(&b, TFRS_OPT_SGD, 0.1f, 1);
    b.opt.o.momentum = 0.9f;
    b.w[0] = 2.0f;
    b.g[0] = 1.0f;
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_OK);
    ck_assert_float_eq_tol(b.w[0], 1.9f, 1e-6f);           /* v = -0.1 */
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_OK);
    ck_assert_float_eq_tol(b.w[0], 1.71f, 1e-6f);          /* v = -0.09 - 0.1 = -0.19 */
    block_free(&b);
}
END_TEST

START_TEST(adam_first_step_moves_by_lr)
{
    dense_block b;

    block_setup(&b, TFRS_OPT_ADAM, 0.01f, 2);
    b.w[0] = 1.0f;
    b.w[1] = -1.0f;
    b.g[0] = 4.0f;
    b.g[1] = -0.25f;
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_OK);
    /* m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1, so
     * w -= lr_t m / (sqrt(v) + eps) = lr * g / |g| up to eps. */
    ck_assert_float_eq_tol(b.w[0], 0.99f, 1e-5f);
    ck_assert_float_eq_tol(b.w[1], -0.99f, 1e-5f);
    ck_assert_float_eq_tol(b.t.p[0].slot[0][0], 0.4f, 1e-6f);
    ck_assert_float_eq_tol(b.t.p[0].slot[1][0], 0.016f, 1e-6f);
    block_free(&b);
}
END_TEST

START_TEST(nonfinite_update_changes_nothing)
{
    dense_block b;
    float w_before[2], acc_before[2];

    block_setup(&b, TFRS_OPT_ADAGRAD, 0.1f, 2);
    b.w[0] = 1.0f;
    b.w[1] = 2.0f;
    b.g[0] = 0.5f;
    b.g[1] = NAN;
    memcpy(w_before, b.w, sizeof(w_before));
    memcpy(acc_before, b.t.p[0].slot[0], sizeof(acc_before));
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_ENONFINITE);
    ck_assert_mem_eq(b.w, w_before, sizeof(w_before));
    ck_assert_mem_eq(b.t.p[0].slot[0], acc_before, sizeof(acc_before));
    ck_assert_uint_eq(b.opt.steps, 0);
    ck_assert_str_ne(tfrs_last_error(), "");

    /* A huge learning rate that overflows the weight is caught the same way. */
    b.g[1] = 1.0f;
    b.opt.o.learning_rate = 3e38f;
    b.w[0] = -3e38f;
    memcpy(w_before, b.w, sizeof(w_before));
    ck_assert_int_eq(tfrs__optimizer_step(&b.opt, &b.t), TFRS_ENONFINITE);
    ck_assert_mem_eq(b.w, w_before, sizeof(w_before));
    block_free(&b);
}
END_TEST

/* Embedding block: only touched rows (and their accumulators) change, and a
 * row seen twice in a batch gets one update with the summed gradient. */
static void emb_step(const int32_t *ids, size_t n, const float *dout, float *w_out,
                     float *acc_out)
{
    tfrs_embedding *e = NULL;
    tfrs__optimizer opt;
    tfrs__params t;

    memset(&opt, 0, sizeof(opt));
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(tfrs_embedding_create(&e, 3, 2, 7), TFRS_OK);
    ck_assert_int_eq(tfrs_optimizer_options_init(&opt.o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_ADAGRAD), TFRS_OK);
    opt.o.learning_rate = 0.1f;
    ck_assert_int_eq(tfrs__params_add(&t, "features.0.embedding", 3, 2, e->w, e->g, e, 0.0f),
                     TFRS_OK);
    ck_assert_uint_eq(t.p[0].n, 6);
    ck_assert_int_eq(tfrs__optimizer_init_slots(&opt, &t), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_backward(e, ids, n, dout), TFRS_OK);
    ck_assert_int_eq(tfrs__optimizer_step(&opt, &t), TFRS_OK);
    memcpy(w_out, e->w, 6 * sizeof(float));
    memcpy(acc_out, t.p[0].slot[0], 6 * sizeof(float));
    tfrs__optimizer_free(&opt);
    tfrs__params_clear(&t);
    tfrs_embedding_free(e);
}

START_TEST(sparse_rows_and_duplicates)
{
    const int32_t twice[] = { 1, 1 }, once[] = { 1 };
    const float d2[] = { 0.25f, -0.5f, 0.5f, 0.125f };
    const float d1[] = { 0.75f, -0.375f };      /* the sums of d2's two rows */
    float w2[6], a2[6], w1[6], a1[6], w0[6];
    tfrs_embedding *e = NULL;

    emb_step(twice, 2, d2, w2, a2);
    emb_step(once, 1, d1, w1, a1);
    ck_assert_mem_eq(w2, w1, sizeof(w1));
    ck_assert_mem_eq(a2, a1, sizeof(a1));

    /* Rows 0 and 2 keep their initial weights and accumulators. */
    ck_assert_int_eq(tfrs_embedding_create(&e, 3, 2, 7), TFRS_OK);
    memcpy(w0, tfrs_embedding_weights(e), sizeof(w0));
    tfrs_embedding_free(e);
    ck_assert_mem_eq(w1, w0, 2 * sizeof(float));
    ck_assert_mem_eq(w1 + 4, w0 + 4, 2 * sizeof(float));
    ck_assert_float_eq(a1[0], 0.1f);
    ck_assert_float_eq(a1[5], 0.1f);
    ck_assert_float_eq_tol(a1[2], 0.1f + 0.75f * 0.75f, 1e-7f);
    ck_assert_float_ne(w1[2], w0[2]);
}
END_TEST

/* A bad row after good ones: the good rows, already written in the sweep,
 * are restored, so the whole step leaves no trace. */
START_TEST(sparse_failure_restores_earlier_rows)
{
    const int32_t ids[] = { 0, 2, 1 };
    const float dout[] = { 0.5f, 0.25f, -0.5f, 1.0f, NAN, 0.0f };
    tfrs_embedding *e = NULL;
    tfrs__optimizer opt;
    tfrs__params t;
    float w0[6], acc0[6];

    memset(&opt, 0, sizeof(opt));
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(tfrs_embedding_create(&e, 3, 2, 3), TFRS_OK);
    ck_assert_int_eq(tfrs_optimizer_options_init(&opt.o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_ADAM), TFRS_OK);
    ck_assert_int_eq(tfrs__params_add(&t, "features.0.embedding", 3, 2, e->w, e->g, e, 0.0f),
                     TFRS_OK);
    ck_assert_uint_eq(t.p[0].n, 6);
    ck_assert_int_eq(tfrs__optimizer_init_slots(&opt, &t), TFRS_OK);
    memcpy(w0, e->w, sizeof(w0));
    memcpy(acc0, t.p[0].slot[1], sizeof(acc0));
    ck_assert_int_eq(tfrs_embedding_backward(e, ids, 3, dout), TFRS_OK);
    ck_assert_int_eq(tfrs__optimizer_step(&opt, &t), TFRS_ENONFINITE);
    ck_assert_mem_eq(e->w, w0, sizeof(w0));
    ck_assert_mem_eq(t.p[0].slot[1], acc0, sizeof(acc0));
    ck_assert_uint_eq(opt.steps, 0);
    tfrs__optimizer_free(&opt);
    tfrs__params_clear(&t);
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(options_validation)
{
    tfrs_optimizer_options o;

    ck_assert_int_eq(tfrs_optimizer_options_init(NULL, 1, TFRS_OPT_SGD), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, 99, TFRS_OPT_SGD), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, 1, (tfrs_optimizer_kind)42), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, 1, TFRS_OPT_ADAGRAD), TFRS_OK);
    ck_assert_float_eq(o.learning_rate, 0.001f);
    ck_assert_float_eq(o.initial_accumulator, 0.1f);
    ck_assert_float_eq(o.epsilon, 1e-7f);
    ck_assert_int_eq(tfrs__optimizer_options_check(&o), TFRS_OK);
    o.learning_rate = -1.0f;
    ck_assert_int_eq(tfrs__optimizer_options_check(&o), TFRS_EINVAL);
    o.learning_rate = NAN;
    ck_assert_int_eq(tfrs__optimizer_options_check(&o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, 1, TFRS_OPT_SGD), TFRS_OK);
    o.momentum = 1.0f;
    ck_assert_int_eq(tfrs__optimizer_options_check(&o), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, 1, TFRS_OPT_ADAM), TFRS_OK);
    o.beta2 = 1.5f;
    ck_assert_int_eq(tfrs__optimizer_options_check(&o), TFRS_EINVAL);
}
END_TEST

static Suite *optimizer_suite(void)
{
    Suite *s = suite_create("optimizer");

    tu_tcase(s, "adagrad", adagrad_step_on_paper, sparse_rows_and_duplicates);
    tu_tcase(s, "sgd", sgd_plain_and_momentum_on_paper);
    tu_tcase(s, "adam", adam_first_step_moves_by_lr);
    tu_tcase(s, "nonfinite", nonfinite_update_changes_nothing,
             sparse_failure_restores_earlier_rows);
    tu_tcase(s, "options", options_validation);
    return s;
}

int main(void)
{
    return tu_run(optimizer_suite());
}
