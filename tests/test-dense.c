/*
 * test-dense.c - dense layer forward, backward, initialisation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/kernels.h"
#include "util/rng.h"
#include "dense.h"
#include "testutil.h"

/*
 * The hand-checked 2 -> 3 layer:
 *   W = [[1, 2, -3], [0.5, -1, 1]]   b = [0.1, -0.2, 0.3]
 *   x = [[1, -1], [0.5, 2]]
 *   x W     = [[1 - 0.5, 2 + 1, -3 - 1], [0.5 + 1, 1 - 2, -1.5 + 2]]
 *           = [[0.5, 3, -4], [1.5, -1, 0.5]]
 *   x W + b = [[0.6, 2.8, -3.7], [1.6, -1.2, 0.8]]
 */
static const float W23[6] = { 1, 2, -3, 0.5f, -1, 1 };
static const float B3[3] = { 0.1f, -0.2f, 0.3f };
static const float X22[4] = { 1, -1, 0.5f, 2 };
static const float Z23[6] = { 0.6f, 2.8f, -3.7f, 1.6f, -1.2f, 0.8f };

static tfrs_dense *layer_2x3(tfrs_activation act)
{
    tfrs_dense *d = NULL;

    ck_assert_int_eq(tfrs_dense_create(&d, 2, 3, act, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_set_weights(d, W23, B3), TFRS_OK);
    return d;
}

START_TEST(forward_linear_golden)
{
    tfrs_dense *d = layer_2x3(TFRS_ACT_LINEAR);
    float y[6];

    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(y[i], Z23[i], 1e-6f);
    ck_assert_uint_eq(tfrs_dense_in(d), 2);
    ck_assert_uint_eq(tfrs_dense_units(d), 3);
    ck_assert_int_eq(tfrs_dense_activation(d), TFRS_ACT_LINEAR);
    ck_assert_float_eq(tfrs_dense_kernel(d)[5], 1.0f);
    ck_assert_float_eq(tfrs_dense_bias(d)[1], -0.2f);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(forward_relu_golden)
{
    tfrs_dense *d = layer_2x3(TFRS_ACT_RELU);
    /* max(0, x W + b) */
    const float want[6] = { 0.6f, 2.8f, 0.0f, 1.6f, 0.0f, 0.8f };
    float y[6];

    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(y[i], want[i], 1e-6f);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(forward_sigmoid_golden)
{
    tfrs_dense *d = layer_2x3(TFRS_ACT_SIGMOID);
    float y[6];

    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
    /* 1 / (1 + e^-z); e.g. sigmoid(0.6) = 0.645656..., sigmoid(-3.7) = 0.024127... */
    ck_assert_float_eq_tol(y[0], 0.6456563f, 1e-6f);
    ck_assert_float_eq_tol(y[2], 0.0241270f, 1e-6f);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(y[i], (float)(1.0 / (1.0 + exp(-(double)Z23[i]))), 1e-6f);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(sigmoid_is_stable_for_large_inputs)
{
    tfrs_dense *d = NULL;
    const float w = 1.0f, b = 0.0f, x[4] = { 1000.0f, -1000.0f, 88.0f, -104.0f };
    float y[4];

    ck_assert_int_eq(tfrs_dense_create(&d, 1, 1, TFRS_ACT_SIGMOID, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_set_weights(d, &w, &b), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_forward(d, x, 4, y), TFRS_OK);
    ck_assert(tfrs__all_finite(y, 4));
    ck_assert_float_eq(y[0], 1.0f);
    ck_assert_float_eq(y[1], 0.0f);
    ck_assert_float_eq(y[2], 1.0f);
    ck_assert(y[3] >= 0.0f && y[3] < 1e-44f);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(init_is_glorot_uniform)
{
    tfrs_dense *a = NULL, *b = NULL;
    const size_t in = 30, out = 20, n = in * out;
    const float limit = (float)sqrt(6.0 / 50.0);   /* 0.3464 */
    float hi = 0.0f;
    tfrs__rng r;

    ck_assert_int_eq(tfrs_dense_create(&a, in, out, TFRS_ACT_RELU, 5), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_create(&b, in, out, TFRS_ACT_RELU, 5), TFRS_OK);
    ck_assert_int_eq(memcmp(a->w, b->w, n * sizeof(float)), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert(fabsf(a->w[i]) <= limit);
        hi = fmaxf(hi, fabsf(a->w[i]));
    }
    ck_assert_float_gt(hi, 0.95f * limit);
    for (size_t j = 0; j < out; j++)
        ck_assert_float_eq(a->b[j], 0.0f);
    /* Exactly the documented stream: seed, stream 0, row-major. */
    tfrs__rng_seed(&r, 5, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(a->w[i], tfrs__rng_uniform(&r, -limit, limit));
    tfrs_dense_free(a);
    tfrs_dense_free(b);
}
END_TEST

/* ---- gradient checks ----------------------------------------------------- */

enum { GIN = 3, GOUT = 4, GB = 5 };

/* L = sum c * y over a [GB, GOUT] output, accumulated in double. */
static double scalar_loss(const tfrs_dense *d, const float *x, const float *c)
{
    float y[GB * GOUT];
    double L = 0.0;

    tfrs__dense_forward(d, x, GB, y);
    for (int k = 0; k < GB * GOUT; k++)
        L += (double)c[k] * y[k];
    return L;
}

/* d L / d *p by central differences, with the step actually taken. */
static double numeric(const tfrs_dense *d, float *p, const float *x, const float *c)
{
    const float h = 1e-2f;
    float p0 = *p, pp = p0 + h, pm = p0 - h;
    double Lp, Lm;

    *p = pp;
    Lp = scalar_loss(d, x, c);
    *p = pm;
    Lm = scalar_loss(d, x, c);
    *p = p0;
    return (Lp - Lm) / ((double)pp - (double)pm);
}

static void expect_close(double num, float ana, const char *what, int k)
{
    ck_assert_msg(fabs(num - ana) <= 2e-3 + 1e-2 * fabs(num),
                  "%s[%d]: numeric %g analytic %g", what, k, num, (double)ana);
}

static void check_gradients(tfrs_activation act)
{
    tfrs_dense *d = NULL;
    float x[GB * GIN], c[GB * GOUT], y[GB * GOUT], z[GB * GOUT], dx[GB * GIN];
    const float *dw, *db;
    tfrs__rng r;

    ck_assert_int_eq(tfrs_dense_create(&d, GIN, GOUT, act, 17), TFRS_OK);
    tfrs__rng_seed(&r, 9, 1);
    for (int k = 0; k < GOUT; k++)
        d->b[k] = tfrs__rng_uniform(&r, -0.5f, 0.5f);
    for (int k = 0; k < GB * GIN; k++)
        x[k] = tfrs__rng_uniform(&r, -1.0f, 1.0f);
    for (int k = 0; k < GB * GOUT; k++)
        c[k] = tfrs__rng_uniform(&r, -1.0f, 1.0f);

    /* No pre-activation within reach of ReLU's kink for a step of 1e-2. */
    d->act = TFRS_ACT_LINEAR;
    tfrs__dense_forward(d, x, GB, z);
    d->act = act;
    for (int k = 0; k < GB * GOUT; k++)
        ck_assert_msg(fabsf(z[k]) > 0.05f, "pre-activation %d is %g", k, (double)z[k]);
    if (act == TFRS_ACT_RELU) {
        int pos = 0;
        for (int k = 0; k < GB * GOUT; k++)
            pos += z[k] > 0.0f;
        ck_assert(pos > 0 && pos < GB * GOUT);   /* both branches exercised */
    }

    ck_assert_int_eq(tfrs_dense_forward(d, x, GB, y), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_backward(d, x, y, c, GB, dx), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_grad(d, &dw, &db), TFRS_OK);
    for (int k = 0; k < GIN * GOUT; k++)
        expect_close(numeric(d, &d->w[k], x, c), dw[k], "dW", k);
    for (int k = 0; k < GOUT; k++)
        expect_close(numeric(d, &d->b[k], x, c), db[k], "db", k);
    for (int k = 0; k < GB * GIN; k++)
        expect_close(numeric(d, &x[k], x, c), dx[k], "dx", k);
    tfrs_dense_free(d);
}

START_TEST(gradients_linear)
{
    check_gradients(TFRS_ACT_LINEAR);
}
END_TEST

START_TEST(gradients_relu)
{
    check_gradients(TFRS_ACT_RELU);
}
END_TEST

START_TEST(gradients_sigmoid)
{
    check_gradients(TFRS_ACT_SIGMOID);
}
END_TEST

START_TEST(backward_leaves_inputs_unchanged)
{
    tfrs_dense *d = layer_2x3(TFRS_ACT_SIGMOID);
    float y[6], dy[6] = { 1, -2, 3, 0.5f, 0.25f, -1 }, dy0[6], x0[4], y0[6], dx[4];

    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
    memcpy(dy0, dy, sizeof(dy));
    memcpy(x0, X22, sizeof(x0));
    memcpy(y0, y, sizeof(y));
    ck_assert_int_eq(tfrs_dense_backward(d, X22, y, dy, 2, dx), TFRS_OK);
    ck_assert_int_eq(memcmp(dy, dy0, sizeof(dy)), 0);
    ck_assert_int_eq(memcmp(X22, x0, sizeof(x0)), 0);
    ck_assert_int_eq(memcmp(y, y0, sizeof(y)), 0);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(backward_accumulates_and_zero_grad_clears)
{
    tfrs_dense *d = layer_2x3(TFRS_ACT_LINEAR);
    float y[6], dx1[4], dx2[4];
    const float dy[6] = { 1, 0, 0, 0, 1, 0 };
    const float *dw, *db;

    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_backward(d, X22, y, dy, 2, dx1), TFRS_OK);
    /* dW = x^T dy = [[1, -1] col 0 of dy ...]:
     *   x^T = [[1, 0.5], [-1, 2]], dy = [[1 0 0], [0 1 0]]
     *   dW  = [[1, 0.5, 0], [-1, 2, 0]]   db = [1, 1, 0]
     *   dx  = dy W^T = [[1, 0.5], [2, -1]] */
    const float want_dw[6] = { 1, 0.5f, 0, -1, 2, 0 }, want_dx[4] = { 1, 0.5f, 2, -1 };
    ck_assert_int_eq(tfrs_dense_grad(d, &dw, &db), TFRS_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(dw[i], want_dw[i], 1e-6f);
    ck_assert_float_eq(db[0], 1.0f);
    ck_assert_float_eq(db[1], 1.0f);
    ck_assert_float_eq(db[2], 0.0f);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(dx1[i], want_dx[i], 1e-6f);

    /* A second call adds to dW and db but overwrites dx. */
    for (int i = 0; i < 4; i++)
        dx2[i] = NAN;
    ck_assert_int_eq(tfrs_dense_backward(d, X22, y, dy, 2, dx2), TFRS_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(dw[i], 2.0f * want_dw[i], 1e-6f);
    ck_assert_float_eq(db[0], 2.0f);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(dx2[i], dx1[i]);

    /* dx may be NULL (first layer). */
    ck_assert_int_eq(tfrs_dense_backward(d, X22, y, dy, 2, NULL), TFRS_OK);
    ck_assert_float_eq(db[1], 3.0f);

    tfrs_dense_zero_grad(d);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(dw[i], 0.0f);
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq(db[i], 0.0f);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(backward_grows_scratch_with_the_batch)
{
    tfrs_dense *d = NULL;
    enum { BIG = 300 };
    float *x = calloc(BIG * 4, sizeof(float)), *y = calloc(BIG * 2, sizeof(float));
    float *dy = calloc(BIG * 2, sizeof(float)), *dx = calloc(BIG * 4, sizeof(float));
    const float *dw, *db;

    ck_assert(x && y && dy && dx);
    for (int i = 0; i < BIG * 2; i++)
        dy[i] = 1.0f;
    ck_assert_int_eq(tfrs_dense_create(&d, 4, 2, TFRS_ACT_LINEAR, 1), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_backward(d, x, y, dy, 2, dx), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_backward(d, x, y, dy, BIG, dx), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_backward(d, x, y, dy, 1, dx), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_grad(d, &dw, &db), TFRS_OK);
    ck_assert_float_eq(db[0], (float)(2 + BIG + 1));
    tfrs_dense_free(d);
    free(x);
    free(y);
    free(dy);
    free(dx);
}
END_TEST

START_TEST(set_weights_accepts_null_parts)
{
    tfrs_dense *d = layer_2x3(TFRS_ACT_LINEAR);
    const float w2[6] = { 0 }, b2[3] = { 9, 9, 9 };

    ck_assert_int_eq(tfrs_dense_set_weights(d, NULL, NULL), TFRS_OK);
    ck_assert_float_eq(d->w[0], 1.0f);
    ck_assert_int_eq(tfrs_dense_set_weights(d, NULL, b2), TFRS_OK);
    ck_assert_float_eq(d->w[0], 1.0f);
    ck_assert_float_eq(d->b[2], 9.0f);
    ck_assert_int_eq(tfrs_dense_set_weights(d, w2, NULL), TFRS_OK);
    ck_assert_float_eq(d->w[0], 0.0f);
    ck_assert_float_eq(d->b[2], 9.0f);
    tfrs_dense_free(d);
}
END_TEST

START_TEST(misuse_returns_einval)
{
    tfrs_dense *d = (tfrs_dense *)&d;
    float y[6], dx[4];
    const float *dw, *db;

    ck_assert_int_eq(tfrs_dense_create(NULL, 2, 3, TFRS_ACT_LINEAR, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_create(&d, 0, 3, TFRS_ACT_LINEAR, 0), TFRS_EINVAL);
    ck_assert_ptr_null(d);
    d = (tfrs_dense *)&d;
    ck_assert_int_eq(tfrs_dense_create(&d, 2, 0, TFRS_ACT_LINEAR, 0), TFRS_EINVAL);
    ck_assert_ptr_null(d);
    d = (tfrs_dense *)&d;
    ck_assert_int_eq(tfrs_dense_create(&d, 2, 3, (tfrs_activation)7, 0), TFRS_EINVAL);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(tfrs_dense_create(&d, 2, 3, (tfrs_activation)-1, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_create(&d, SIZE_MAX / 2, 3, TFRS_ACT_LINEAR, 0), TFRS_EINVAL);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);

    d = layer_2x3(TFRS_ACT_RELU);
    ck_assert_int_eq(tfrs_dense_forward(NULL, X22, 2, y), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_forward(d, NULL, 2, y), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_forward(d, X22, 0, y), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_forward(d, X22, SIZE_MAX / 2, y), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
    ck_assert_int_eq(tfrs_dense_backward(NULL, X22, y, y, 2, dx), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_backward(d, NULL, y, y, 2, dx), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_backward(d, X22, NULL, y, 2, dx), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_backward(d, X22, y, NULL, 2, dx), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_backward(d, X22, y, y, 0, dx), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_set_weights(NULL, W23, B3), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_grad(NULL, &dw, &db), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_grad(d, NULL, &db), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_dense_grad(d, &dw, NULL), TFRS_EINVAL);
    /* Rejected calls left the gradients alone. */
    ck_assert_int_eq(tfrs_dense_grad(d, &dw, &db), TFRS_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(dw[i], 0.0f);
    tfrs_dense_free(d);

    ck_assert_uint_eq(tfrs_dense_in(NULL), 0);
    ck_assert_uint_eq(tfrs_dense_units(NULL), 0);
    ck_assert_int_eq(tfrs_dense_activation(NULL), TFRS_ACT_LINEAR);
    ck_assert_ptr_null(tfrs_dense_kernel(NULL));
    ck_assert_ptr_null(tfrs_dense_bias(NULL));
    tfrs_dense_zero_grad(NULL);
    tfrs_dense_free(NULL);
}
END_TEST

/* ---- out of memory ------------------------------------------------------ */

START_TEST(survives_every_allocation_failure)
{
    tu_alloc f;
    float y[6], dx[4];
    const float dy[6] = { 1, 1, 1, 1, 1, 1 };
    int rc;

    tu_alloc_install(&f, 0);
    for (long k = 0;; k++) {
        tfrs_dense *d = (tfrs_dense *)&d;
        tu_alloc_budget(&f, k);
        rc = tfrs_dense_create(&d, 2, 3, TFRS_ACT_RELU, 3);
        if (rc == TFRS_OK) {
            ck_assert_ptr_nonnull(d);
            tfrs_dense_free(d);
            break;
        }
        ck_assert_int_eq(rc, TFRS_ENOMEM);
        ck_assert_ptr_null(d);
        ck_assert_int_eq(f.live, 0);
        ck_assert_int_lt(k, 100);
    }
    ck_assert_int_eq(f.live, 0);

    /* Backward's scratch allocation fails cleanly and leaves dW alone. */
    tu_alloc_budget(&f, -1);
    {
        tfrs_dense *d = layer_2x3(TFRS_ACT_LINEAR);
        const float *dw, *db;
        ck_assert_int_eq(tfrs_dense_forward(d, X22, 2, y), TFRS_OK);
        tu_alloc_budget(&f, 0);
        ck_assert_int_eq(tfrs_dense_backward(d, X22, y, dy, 2, dx), TFRS_ENOMEM);
        ck_assert_int_eq(tfrs_dense_grad(d, &dw, &db), TFRS_OK);
        ck_assert_float_eq(db[0], 0.0f);
        tu_alloc_budget(&f, -1);
        ck_assert_int_eq(tfrs_dense_backward(d, X22, y, dy, 2, dx), TFRS_OK);
        ck_assert_float_eq(db[0], 2.0f);
        tfrs_dense_free(d);
    }
    ck_assert_int_eq(f.live, 0);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        { "forward_linear", forward_linear_golden },
        { "forward_relu", forward_relu_golden },
        { "forward_sigmoid", forward_sigmoid_golden },
        { "sigmoid_stable", sigmoid_is_stable_for_large_inputs },
        { "glorot", init_is_glorot_uniform },
        { "gradients_linear", gradients_linear },
        { "gradients_relu", gradients_relu },
        { "gradients_sigmoid", gradients_sigmoid },
        { "dy_unchanged", backward_leaves_inputs_unchanged },
        { "accumulate", backward_accumulates_and_zero_grad_clears },
        { "scratch", backward_grows_scratch_with_the_batch },
        { "set_weights", set_weights_accepts_null_parts },
        { "misuse", misuse_returns_einval },
        { "oom", survives_every_allocation_failure },
    };

    return tu_run_cases("dense", cases, TU_NELEM(cases));
}
