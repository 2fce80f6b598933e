/*
 * test-embedding.c - embedding gather, sparse scatter-add, initialisation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/rng.h"
#include "embedding.h"
#include "testutil.h"

/* A 4 x 3 table holding 0, 1, ..., 11 row-major. */
static tfrs_embedding *table_4x3(void)
{
    float w[12];
    tfrs_embedding *e = NULL;

    for (int i = 0; i < 12; i++)
        w[i] = (float)i;
    ck_assert_int_eq(tfrs_embedding_create(&e, 4, 3, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_set_weights(e, w, 12), TFRS_OK);
    return e;
}

START_TEST(forward_gathers_rows)
{
    tfrs_embedding *e = table_4x3();
    const int32_t ids[3] = { 2, 0, 2 };
    /* rows 2, 0, 2 of [[0 1 2] [3 4 5] [6 7 8] [9 10 11]] */
    const float want[9] = { 6, 7, 8, 0, 1, 2, 6, 7, 8 };
    float out[9];

    ck_assert_int_eq(tfrs_embedding_forward(e, ids, 3, out), TFRS_OK);
    for (int i = 0; i < 9; i++)
        ck_assert_float_eq(out[i], want[i]);
    ck_assert_uint_eq(tfrs_embedding_rows(e), 4);
    ck_assert_uint_eq(tfrs_embedding_dim(e), 3);
    ck_assert_float_eq(tfrs_embedding_weights(e)[11], 11.0f);
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(gather_with_strides_fills_a_concatenation)
{
    tfrs_embedding *e = table_4x3();
    /* Two examples with two features each: ids[i * 2 + f]; feature 1 is
     * gathered into columns 1..3 of a [2, 5] matrix. */
    const int32_t ids[4] = { 0, 3, 1, 1 };
    float out[10];

    for (int i = 0; i < 10; i++)
        out[i] = -1.0f;
    tfrs__embedding_gather(e, ids + 1, 2, 2, out + 1, 5);
    /* [-1 9 10 11 -1 | -1 3 4 5 -1] */
    const float want[10] = { -1, 9, 10, 11, -1, -1, 3, 4, 5, -1 };
    for (int i = 0; i < 10; i++)
        ck_assert_float_eq(out[i], want[i]);

    /* The matching scatter reads the same layout. */
    const float dout[10] = { 0, 1, 2, 3, 0, 0, 4, 5, 6, 0 };
    tfrs__embedding_scatter_add(e, ids + 1, 2, 2, dout + 1, 5);
    ck_assert_float_eq(e->g[3 * 3 + 0], 1.0f);
    ck_assert_float_eq(e->g[3 * 3 + 2], 3.0f);
    ck_assert_float_eq(e->g[1 * 3 + 1], 5.0f);
    ck_assert_uint_eq(e->ntouched, 2);
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(init_is_keras_uniform_and_deterministic)
{
    tfrs_embedding *a = NULL, *b = NULL, *c = NULL;
    const size_t rows = 100, dim = 8, n = rows * dim;
    double sum = 0.0;
    float lo = 1.0f, hi = -1.0f;
    tfrs__rng r;

    ck_assert_int_eq(tfrs_embedding_create(&a, rows, dim, 7), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_create(&b, rows, dim, 7), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_create(&c, rows, dim, 8), TFRS_OK);
    ck_assert_int_eq(memcmp(a->w, b->w, n * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(a->w, c->w, n * sizeof(float)), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert(a->w[i] >= -0.05f && a->w[i] <= 0.05f);
        lo = fminf(lo, a->w[i]);
        hi = fmaxf(hi, a->w[i]);
        sum += a->w[i];
    }
    /* The range is used, and the mean is near 0 (sd of the mean ~ 0.001). */
    ck_assert_float_lt(lo, -0.045f);
    ck_assert_float_gt(hi, 0.045f);
    ck_assert_double_lt(fabs(sum / (double)n), 0.005);
    /* Exactly the documented stream: seed, stream 0, row-major. */
    tfrs__rng_seed(&r, 7, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(a->w[i], tfrs__rng_uniform(&r, -0.05f, 0.05f));
    tfrs_embedding_free(a);
    tfrs_embedding_free(b);
    tfrs_embedding_free(c);
}
END_TEST

START_TEST(backward_sums_duplicate_ids)
{
    tfrs_embedding *e = table_4x3();
    const int32_t ids[3] = { 3, 1, 3 };
    const float dout[9] = { 1, 2, 3, 10, 20, 30, 0.5f, 0.25f, -1 };
    const float *g;
    const int32_t *rows;
    size_t nrows;

    ck_assert_int_eq(tfrs_embedding_backward(e, ids, 3, dout), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, &nrows), TFRS_OK);
    /* row 3 = [1 2 3] + [0.5 0.25 -1]; row 1 = [10 20 30]; rows 0, 2 zero */
    const float want[12] = { 0, 0, 0, 10, 20, 30, 0, 0, 0, 1.5f, 2.25f, 2 };
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(g[i], want[i]);
    ck_assert_uint_eq(nrows, 2);
    ck_assert_int_eq(rows[0], 3);
    ck_assert_int_eq(rows[1], 1);
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(touched_rows_keep_first_touch_order)
{
    tfrs_embedding *e = table_4x3();
    const int32_t first[2] = { 2, 0 }, second[3] = { 0, 3, 2 };
    const float d[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    const float *g;
    const int32_t *rows;
    size_t nrows;

    ck_assert_int_eq(tfrs_embedding_backward(e, first, 2, d), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_backward(e, second, 3, d), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, &nrows), TFRS_OK);
    ck_assert_uint_eq(nrows, 3);
    ck_assert_int_eq(rows[0], 2);
    ck_assert_int_eq(rows[1], 0);
    ck_assert_int_eq(rows[2], 3);
    /* Accumulated over both calls: rows 0 and 2 twice, row 3 once. */
    ck_assert_float_eq(g[0], 2.0f);
    ck_assert_float_eq(g[2 * 3], 2.0f);
    ck_assert_float_eq(g[3 * 3], 1.0f);
    ck_assert_float_eq(g[1 * 3], 0.0f);
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(zero_grad_clears_touched_rows)
{
    tfrs_embedding *e = table_4x3();
    const int32_t ids[2] = { 1, 2 }, again[1] = { 3 };
    const float d[6] = { 1, 2, 3, 4, 5, 6 };
    const float *g;
    const int32_t *rows;
    size_t nrows;

    ck_assert_int_eq(tfrs_embedding_backward(e, ids, 2, d), TFRS_OK);
    tfrs_embedding_zero_grad(e);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, &nrows), TFRS_OK);
    ck_assert_uint_eq(nrows, 0);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(g[i], 0.0f);
    /* The next pass starts a fresh touched list. */
    ck_assert_int_eq(tfrs_embedding_backward(e, again, 1, d), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, &nrows), TFRS_OK);
    ck_assert_uint_eq(nrows, 1);
    ck_assert_int_eq(rows[0], 3);
    ck_assert_float_eq(g[9], 1.0f);
    ck_assert_float_eq(g[3], 0.0f);
    /* The weights are untouched by backward and zero_grad. */
    ck_assert_float_eq(e->w[5], 5.0f);
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(bad_ids_are_rejected_before_writing)
{
    tfrs_embedding *e = table_4x3();
    const int32_t high[3] = { 0, 4, 1 }, negative[2] = { 1, -1 };
    const float d[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    const float *g;
    const int32_t *rows;
    size_t nrows;
    float out[9];

    for (int i = 0; i < 9; i++)
        out[i] = 42.0f;
    ck_assert_int_eq(tfrs_embedding_forward(e, high, 3, out), TFRS_ERANGE);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);
    ck_assert_int_eq(tfrs_embedding_forward(e, negative, 2, out), TFRS_ERANGE);
    for (int i = 0; i < 9; i++)
        ck_assert_float_eq(out[i], 42.0f);
    ck_assert_int_eq(tfrs_embedding_backward(e, high, 3, d), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_embedding_backward(e, negative, 2, d), TFRS_ERANGE);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, &nrows), TFRS_OK);
    ck_assert_uint_eq(nrows, 0);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(g[i], 0.0f);
    tfrs_embedding_free(e);
}
END_TEST

/* L = sum_i,j c[i,j] out[i,j], evaluated in double. */
static double scalar_loss(const tfrs_embedding *e, const int32_t *ids, size_t n,
                          const float *c)
{
    float out[5 * 3];
    double L = 0.0;

    ck_assert_int_eq(tfrs_embedding_forward(e, ids, n, out), TFRS_OK);
    for (size_t k = 0; k < n * e->dim; k++)
        L += (double)c[k] * out[k];
    return L;
}

START_TEST(gradient_matches_finite_differences)
{
    tfrs_embedding *e = NULL;
    const int32_t ids[5] = { 1, 4, 1, 0, 2 };   /* row 3 unused, row 1 twice */
    float c[15];
    const float *g;
    const int32_t *rows;
    size_t nrows;
    const float h = 1e-2f;
    tfrs__rng r;

    ck_assert_int_eq(tfrs_embedding_create(&e, 5, 3, 11), TFRS_OK);
    tfrs__rng_seed(&r, 1, 2);
    for (int k = 0; k < 15; k++)
        c[k] = tfrs__rng_uniform(&r, -1.0f, 1.0f);
    ck_assert_int_eq(tfrs_embedding_backward(e, ids, 5, c), TFRS_OK);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, &nrows), TFRS_OK);
    ck_assert_uint_eq(nrows, 4);
    for (size_t k = 0; k < 5 * 3; k++) {
        float w0 = e->w[k], wp = w0 + h, wm = w0 - h;
        double Lp, Lm, num;

        e->w[k] = wp;
        Lp = scalar_loss(e, ids, 5, c);
        e->w[k] = wm;
        Lm = scalar_loss(e, ids, 5, c);
        e->w[k] = w0;
        num = (Lp - Lm) / ((double)wp - (double)wm);
        ck_assert_msg(fabs(num - g[k]) <= 1e-4 + 1e-3 * fabs(num),
                      "w[%zu]: numeric %g analytic %g", k, num, (double)g[k]);
    }
    tfrs_embedding_free(e);
}
END_TEST

START_TEST(misuse_returns_einval)
{
    tfrs_embedding *e = (tfrs_embedding *)&e;   /* must be reset to NULL */
    const int32_t id = 0;
    float out[3], w[12] = { 0 };
    const float *g;
    const int32_t *rows;
    size_t nrows;

    ck_assert_int_eq(tfrs_embedding_create(NULL, 4, 3, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_create(&e, 0, 3, 0), TFRS_EINVAL);
    ck_assert_ptr_null(e);
    e = (tfrs_embedding *)&e;
    ck_assert_int_eq(tfrs_embedding_create(&e, 4, 0, 0), TFRS_EINVAL);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(tfrs_embedding_create(&e, (size_t)1 << 31, 1, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_create(&e, ((size_t)1 << 31) - 1, SIZE_MAX / 4, 0),
                     TFRS_EINVAL);
    ck_assert_ptr_null(e);

    e = table_4x3();
    ck_assert_int_eq(tfrs_embedding_forward(NULL, &id, 1, out), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_forward(e, NULL, 1, out), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_forward(e, &id, 1, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_forward(e, &id, 0, out), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_backward(NULL, &id, 1, out), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_backward(e, NULL, 1, out), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_backward(e, &id, 1, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_backward(e, &id, 0, out), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_set_weights(NULL, w, 12), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_set_weights(e, NULL, 12), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_set_weights(e, w, 11), TFRS_ESHAPE);
    ck_assert_float_eq(e->w[11], 11.0f);   /* unchanged */
    ck_assert_int_eq(tfrs_embedding_grad(NULL, &g, &rows, &nrows), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_grad(e, NULL, &rows, &nrows), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, NULL, &nrows), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_embedding_grad(e, &g, &rows, NULL), TFRS_EINVAL);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);
    tfrs_embedding_free(e);

    ck_assert_uint_eq(tfrs_embedding_rows(NULL), 0);
    ck_assert_uint_eq(tfrs_embedding_dim(NULL), 0);
    ck_assert_ptr_null(tfrs_embedding_weights(NULL));
    tfrs_embedding_zero_grad(NULL);
    tfrs_embedding_free(NULL);
}
END_TEST

/* ---- out of memory ------------------------------------------------------ */

START_TEST(create_survives_every_allocation_failure)
{
    tu_alloc f;
    int rc;

    tu_alloc_install(&f, 0);
    for (long k = 0;; k++) {
        tfrs_embedding *e = (tfrs_embedding *)&e;
        tu_alloc_budget(&f, k);
        rc = tfrs_embedding_create(&e, 6, 2, 3);
        if (rc == TFRS_OK) {
            ck_assert_ptr_nonnull(e);
            tfrs_embedding_free(e);
            ck_assert_int_eq(f.live, 0);
            break;
        }
        ck_assert_int_eq(rc, TFRS_ENOMEM);
        ck_assert_ptr_null(e);
        ck_assert_int_eq(f.live, 0);
        ck_assert_int_lt(k, 100);
    }
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        { "forward", forward_gathers_rows },
        { "strided", gather_with_strides_fills_a_concatenation },
        { "init", init_is_keras_uniform_and_deterministic },
        { "duplicates", backward_sums_duplicate_ids },
        { "touched", touched_rows_keep_first_touch_order },
        { "zero_grad", zero_grad_clears_touched_rows },
        { "range", bad_ids_are_rejected_before_writing },
        { "gradient", gradient_matches_finite_differences },
        { "misuse", misuse_returns_einval },
        { "oom", create_survives_every_allocation_failure },
    };

    return tu_run_cases("embedding", cases, TU_NELEM(cases));
}
