/*
 * test-cross.c - cross layers, dropout and the two structures: gradients
 * by finite differences (the layer alone and whole models), dropout's
 * statistics and masks, save -> load, rank's full-forward fallback, and
 * the builder's rules.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/rng.h"
#include "cross.h"
#include "dropout.h"
#include "graph.h"
#include "model.h"
#include "param.h"
#include "testutil.h"

/* ---- the layer alone ----------------------------------------------------- */

#define CB 5   /* rows */
#define CD 6   /* width */

static void fill(float *x, size_t n, tfrs__rng *r, float scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = tfrs__rng_uniform(r, -scale, scale);
}

/* sum(C * y) for y = cross(x0, x), in double over float outputs. */
static double cross_loss(const tfrs__cross *c, const float *x0, const float *x, const float *C)
{
    float aux[CB * 2 * CD], y[CB * CD];
    double s = 0.0;

    tfrs__cross_forward(c, x0, x, CB, aux, y);
    for (size_t i = 0; i < CB * CD; i++)
        s += (double)C[i] * y[i];
    return s;
}

/* d loss / d v[i] by central differences, v a float the loss reads. */
static double fd(const tfrs__cross *c, float *v, const float *x0, const float *x, const float *C)
{
    const float h = 1e-2f;
    float v0 = *v;
    double lp, lm;

    *v = v0 + h;
    lp = cross_loss(c, x0, x, C);
    *v = v0 - h;
    lm = cross_loss(c, x0, x, C);
    *v = v0;
    return (lp - lm) / (2.0 * h);
}

static void assert_close(double fdv, double an, const char *what, size_t i)
{
    double err = fabs(fdv - an) / fmax(1e-2, fabs(fdv) + fabs(an));

    ck_assert_msg(err < 2e-3, "%s[%zu]: finite difference %g, analytic %g", what, i, fdv, an);
}

/* Every gradient of one cross layer (rank 0 = full) against central
 * differences; with same_input the layer's x is x0 itself (dx == dx0). */
static void check_cross(size_t rank, int same_input)
{
    tfrs__cross *c = NULL;
    tfrs__rng r;
    float x0[CB * CD], xs[CB * CD], C[CB * CD], aux[CB * 2 * CD], tmp[CB * 2 * CD];
    float y[CB * CD], dx0[CB * CD], dxs[CB * CD];
    float *x = same_input ? x0 : xs, *dx = same_input ? dx0 : dxs;
    size_t nw = CD * (rank == 0 ? CD : rank);

    ck_assert_int_eq(tfrs__cross_alloc(&c, CD, rank), TFRS_OK);
    tfrs__rng_seed(&r, 7, rank * 2 + (size_t)same_input);
    fill(c->w, nw, &r, 0.5f);
    if (rank != 0)
        fill(c->v, nw, &r, 0.5f);
    fill(c->b, CD, &r, 0.5f);
    fill(x0, CB * CD, &r, 1.0f);
    fill(xs, CB * CD, &r, 1.0f);
    fill(C, CB * CD, &r, 1.0f);
    tfrs__cross_forward(c, x0, x, CB, aux, y);
    /* the formula itself, on one coordinate */
    if (rank == 0) {
        double t = c->b[2];
        for (size_t k = 0; k < CD; k++)
            t += (double)x[CD + k] * c->w[k * CD + 2];
        ck_assert_double_eq_tol(y[CD + 2], x0[CD + 2] * t + x[CD + 2], 1e-5);
    }
    for (size_t i = 0; i < CB * CD; i++)
        dx0[i] = dxs[i] = 123.0f;   /* overwritten when not accumulating */
    tfrs__cross_backward(c, x0, x, aux, C, CB, tmp, dx0, same_input, dx, 0, c->dw, c->dv, c->db);
    if (same_input)   /* acc_dx0 adds into the 123s */
        for (size_t i = 0; i < CB * CD; i++)
            dx0[i] -= 123.0f;
    for (size_t i = 0; i < nw; i++)
        assert_close(fd(c, &c->w[i], x0, x, C), c->dw[i], rank ? "dU" : "dW", i);
    for (size_t i = 0; rank != 0 && i < nw; i++)
        assert_close(fd(c, &c->v[i], x0, x, C), c->dv[i], "dV", i);
    for (size_t i = 0; i < CD; i++)
        assert_close(fd(c, &c->b[i], x0, x, C), c->db[i], "db", i);
    for (size_t i = 0; i < CB * CD; i++) {
        assert_close(fd(c, &x0[i], x0, x, C), dx0[i], "dx0", i);
        if (!same_input)
            assert_close(fd(c, &xs[i], x0, x, C), dxs[i], "dx", i);
    }
    tfrs__cross_free(c);
}

START_TEST(cross_full_rank_gradients)
{
    check_cross(0, 0);
    check_cross(0, 1);
}
END_TEST

START_TEST(cross_low_rank_gradients)
{
    check_cross(2, 0);
    check_cross(3, 1);
}
END_TEST

START_TEST(cross_truncated_normal_init)
{
    enum { N = 20000 };
    float *w = malloc(N * sizeof(float));
    double s = 0.0, s2 = 0.0;
    tfrs__rng r;

    tfrs__rng_seed(&r, 1, 2);
    tfrs__cross_init_kernel(w, N, &r);
    for (size_t i = 0; i < N; i++) {
        ck_assert(fabsf(w[i]) <= 0.1f);
        s += w[i];
        s2 += (double)w[i] * w[i];
    }
    /* N(0, 0.05) truncated at 2 sd: mean 0, sd 0.05 * 0.8796 */
    ck_assert_double_lt(fabs(s / N), 2e-3);
    ck_assert_double_lt(fabs(sqrt(s2 / N) - 0.05 * 0.8796), 2e-3);
    free(w);
}
END_TEST

/* ---- dropout -------------------------------------------------------------- */

START_TEST(dropout_statistics_and_keys)
{
    enum { B = 200, N = 500 };
    tfrs__dropout_key k = { 42, 3, 17, 1000 }, k2 = k;
    float *x = malloc(B * N * sizeof(float)), *y = malloc(B * N * sizeof(float));
    float *dy = malloc(B * N * sizeof(float)), *dx = malloc(B * N * sizeof(float));
    size_t kept = 0, differ = 0;

    for (size_t i = 0; i < B * N; i++)
        x[i] = dy[i] = 1.0f + (float)(i % 7);
    tfrs__dropout_forward(&k, 0.3f, x, B, N, y);
    tfrs__dropout_backward(&k, 0.3f, dy, B, N, dx, 0);
    for (size_t i = 0; i < B * N; i++) {
        int keep = tfrs__dropout_keep(&k, 0.3f, i / N, i % N);
        kept += keep != 0;
        ck_assert(y[i] == (keep ? x[i] * (1.0f / 0.7f) : 0.0f));
        ck_assert(dx[i] == (keep ? dy[i] * (1.0f / 0.7f) : 0.0f));
    }
    /* 100,000 Bernoulli(0.7): sd 0.0014 */
    ck_assert_double_lt(fabs((double)kept / (B * N) - 0.7), 0.007);
    /* the row index is the batch's: a block at row0 + 10 is rows 10.. */
    k2.row0 = k.row0 + 10;
    for (size_t u = 0; u < N; u++)
        ck_assert_int_eq(tfrs__dropout_keep(&k2, 0.3f, 0, u), tfrs__dropout_keep(&k, 0.3f, 10, u));
    /* another step, layer or seed draws another mask */
    k2 = k;
    k2.step++;
    for (size_t u = 0; u < N; u++)
        differ += tfrs__dropout_keep(&k2, 0.3f, 0, u) != tfrs__dropout_keep(&k, 0.3f, 0, u);
    ck_assert_uint_gt(differ, N / 5);
    /* rate 0 keeps everything, unscaled */
    tfrs__dropout_forward(&k, 0.0f, x, B, N, y);
    ck_assert_mem_eq(x, y, B * N * sizeof(float));
    ck_assert(!tfrs__dropout_rate_ok(1.0f) && !tfrs__dropout_rate_ok(-0.1f) &&
              !tfrs__dropout_rate_ok(NAN) && tfrs__dropout_rate_ok(0.0f));
    free(x);
    free(y);
    free(dy);
    free(dx);
}
END_TEST

/* ---- whole models --------------------------------------------------------- */

static const char *users[] = { "u1", "u2", "u3", "u4", "u5" };
static const char *items[] = { "a", "b", "c", "d", "e", "f" };

typedef struct layer_spec {
    tfrs_layer_kind kind;
    size_t          n;     /* units or projection_dim */
    tfrs_activation act;
    float           x;     /* l2 or rate */
} layer_spec;

/* Features user (dim 3) and item (dim 3): D = 6. */
static tfrs_model *make(uint64_t seed, tfrs_structure st, const layer_spec *ls, size_t nl)
{
    tfrs_vocab *vu = NULL, *vi = NULL;
    tfrs_model *m = NULL;
    tfrs_optimizer_options o;

    ck_assert_int_eq(tfrs_vocab_create(&vu, users, 5, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_create(&vi, items, 6, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, seed), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_feature(m, "user", vu, 3), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_feature(m, "item", vi, 3), TFRS_OK);
    for (size_t j = 0; j < nl; j++) {
        int rc = ls[j].kind == TFRS_LAYER_CROSS ? tfrs_model_add_cross(m, ls[j].n, ls[j].x)
                 : ls[j].kind == TFRS_LAYER_DROPOUT
                     ? tfrs_model_add_dropout(m, ls[j].x)
                     : tfrs_model_add_dense(m, ls[j].n, ls[j].act, ls[j].x);
        ck_assert_int_eq(rc, TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_set_structure(m, st), TFRS_OK);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_ADAGRAD), TFRS_OK);
    o.learning_rate = 0.1f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
    return m;
}

#define NB 12
static const int32_t ids[NB * 2] = { 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 1, 6,
                                     2, 1, 3, 5, 4, 2, 5, 6, 0, 3, 2, 4 };
static const float labels[NB] = { 1, 2, 3, 4, 5, 2, 1, 3, 4, 2, 5, 1 };

static const layer_spec stacked[] = {
    { TFRS_LAYER_CROSS, 0, 0, 0.01f }, { TFRS_LAYER_DROPOUT, 0, 0, 0.0f },
    { TFRS_LAYER_CROSS, 2, 0, 0.0f },  { TFRS_LAYER_DENSE, 5, TFRS_ACT_LINEAR, 0.0f },
    { TFRS_LAYER_DROPOUT, 0, 0, 0.3f }, { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f },
};
static const layer_spec parallel[] = {
    { TFRS_LAYER_CROSS, 0, 0, 0.0f },  { TFRS_LAYER_DENSE, 4, TFRS_ACT_LINEAR, 0.02f },
    { TFRS_LAYER_DROPOUT, 0, 0, 0.25f }, { TFRS_LAYER_CROSS, 3, 0, 0.0f },
    { TFRS_LAYER_DROPOUT, 0, 0, 0.0f }, { TFRS_LAYER_DENSE, 3, TFRS_ACT_SIGMOID, 0.0f },
    { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f },
};

/* sum_i C_i s_i of a training forward with a fixed context (a fixed
 * dropout mask), in the graph's own workspace. */
static double model_loss(const tfrs_model *m, const tfrs__graph_ctx *ctx, float *ws, float **acts)
{
    const float *s = tfrs__graph_forward(&m->g, ids, NULL, NB, ws, acts, ctx);
    double l = 0.0;

    for (size_t i = 0; i < NB; i++)
        l += (double)(labels[i] - 2.5f) * s[i];
    return l;
}

static void check_model(tfrs_structure st, const layer_spec *ls, size_t nl)
{
    tfrs_model *m = make(5, st, ls, nl);
    tfrs__graph *g = &m->g;
    tfrs__graph_ctx ctx = { 9, 100, NULL, NULL, 0 };
    float *ws = calloc(tfrs__graph_ws_floats(g, NB, 1), sizeof(float));
    float **acts = calloc(tfrs__graph_num_acts(g), sizeof(float *));
    float *dws = ws + tfrs__graph_ws_floats(g, NB, 0), *dsc, *dx0;
    size_t checked = 0;
    double worst = 0.0;

    /* spread the embeddings so that the signal is well above rounding */
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < g->params.p[k].n; i++)
            g->params.p[k].w[i] *= 20.0f;
    dx0 = calloc(NB * g->concat_dim, sizeof(float));
    tfrs__graph_zero_grad(g);
    model_loss(m, &ctx, ws, acts);
    dsc = tfrs__graph_dscores(g, dws, NB);
    for (size_t i = 0; i < NB; i++)
        dsc[i] = labels[i] - 2.5f;
    tfrs__graph_backward(g, acts, NB, dws, NULL, dx0, &ctx);
    tfrs__graph_scatter_input_grad(g, ids, NULL, NB, dx0, NULL, NULL);
    for (size_t k = 0; k < g->params.n; k++) {
        tfrs__param *p = &g->params.p[k];
        for (size_t i = 0; i < p->n; i++) {
            float w0 = p->w[i], h = 1e-2f;
            double lp, lm, fdv, an = p->g[i], err;
            p->w[i] = w0 + h;
            lp = model_loss(m, &ctx, ws, acts);
            p->w[i] = w0 - h;
            lm = model_loss(m, &ctx, ws, acts);
            p->w[i] = w0;
            fdv = (lp - lm) / (2.0 * h);
            err = fabs(fdv - an) / fmax(1e-1, fabs(fdv) + fabs(an));
            ck_assert_msg(err < 5e-3, "%s[%zu]: finite difference %g, analytic %g", p->name, i,
                          fdv, an);
            worst = err > worst ? err : worst;
            checked++;
        }
    }
    ck_assert_uint_gt(checked, 100);
    free(ws);
    free(acts);
    free(dx0);
    tfrs_model_free(m);
}

START_TEST(stacked_model_gradients)
{
    check_model(TFRS_STRUCTURE_STACKED, stacked, TU_NELEM(stacked));
}
END_TEST

START_TEST(parallel_model_gradients)
{
    check_model(TFRS_STRUCTURE_PARALLEL, parallel, TU_NELEM(parallel));
}
END_TEST

/* The table: names, shapes and order fixed by the contract. */
START_TEST(parameter_table)
{
    tfrs_model *m = make(1, TFRS_STRUCTURE_STACKED, stacked, TU_NELEM(stacked));
    tfrs_model *p = make(1, TFRS_STRUCTURE_PARALLEL, parallel, TU_NELEM(parallel));
    static const char *names[] = { "features.0.embedding", "features.1.embedding",
                                   "cross.0.kernel", "cross.0.bias", "cross.1.u", "cross.1.v",
                                   "cross.1.bias", "dense.0.kernel", "dense.0.bias",
                                   "dense.1.kernel", "dense.1.bias" };
    const tfrs__params *t = tfrs__model_params(m);

    ck_assert_uint_eq(t->n, TU_NELEM(names));
    for (size_t k = 0; k < t->n; k++)
        ck_assert_str_eq(t->p[k].name, names[k]);
    ck_assert_uint_eq(tfrs__params_find(t, "cross.1.u")->shape[1], 2);
    ck_assert_float_eq(tfrs__params_find(t, "cross.0.kernel")->l2, 0.01f);
    ck_assert_float_eq(tfrs__params_find(t, "cross.0.bias")->l2, 0.0f);
    ck_assert_uint_eq(tfrs_model_num_layers(m), 6);
    ck_assert_uint_eq(tfrs_model_num_dense(m), 2);
    ck_assert_uint_eq(tfrs_dense_units(tfrs_model_dense(m, 1)), 1);
    ck_assert_int_eq(tfrs_model_layer_kind(m, 4), TFRS_LAYER_DROPOUT);
    ck_assert_int_eq(tfrs_model_structure(p), TFRS_STRUCTURE_PARALLEL);
    /* parallel: the last dense layer takes [cross tower (6), deep tower (3)] */
    t = tfrs__model_params(p);
    ck_assert_uint_eq(tfrs__params_find(t, "dense.2.kernel")->shape[0], 9);
    ck_assert_uint_eq(tfrs__params_find(t, "dense.0.kernel")->shape[0], 6);
    ck_assert_uint_eq(tfrs__params_find(t, "dense.1.kernel")->shape[0], 4);
    ck_assert_uint_eq(tfrs__params_find(t, "cross.1.v")->shape[1], 6);
    tfrs_model_free(m);
    tfrs_model_free(p);
}
END_TEST

START_TEST(builder_rules)
{
    static const layer_spec cross_after_dense[] = {
        { TFRS_LAYER_DENSE, 4, TFRS_ACT_RELU, 0.0f }, { TFRS_LAYER_CROSS, 0, 0, 0.0f },
        { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    static const layer_spec wide_rank[] = {
        { TFRS_LAYER_CROSS, 4, 0, 0.0f }, { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    static const layer_spec trailing_dropout[] = {
        { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f }, { TFRS_LAYER_DROPOUT, 0, 0, 0.1f } };
    static const layer_spec no_cross[] = { { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    static const layer_spec leading_dropout[] = {
        { TFRS_LAYER_DROPOUT, 0, 0, 0.1f }, { TFRS_LAYER_CROSS, 0, 0, 0.0f },
        { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    static const struct {
        tfrs_structure st;
        const layer_spec *ls;
        size_t nl;
        const char *msg;
    } bad[] = {
        { TFRS_STRUCTURE_STACKED, cross_after_dense, 3, "cross layer on an input of width 4" },
        { TFRS_STRUCTURE_STACKED, wide_rank, 2, "projection_dim (4)" },
        { TFRS_STRUCTURE_STACKED, trailing_dropout, 2, "last layer must be a dense layer" },
        { TFRS_STRUCTURE_PARALLEL, no_cross, 1, "at least one cross layer" },
        { TFRS_STRUCTURE_PARALLEL, leading_dropout, 3, "must follow a cross or dense" },
    };
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_create(&v, users, 5, NULL), TFRS_OK);
    for (size_t b = 0; b < TU_NELEM(bad); b++) {
        tfrs_model *m = NULL;
        ck_assert_int_eq(tfrs_model_create(&m, 1), TFRS_OK);
        ck_assert_int_eq(tfrs_model_add_feature(m, "user", v, 3), TFRS_OK);
        ck_assert_int_eq(tfrs_model_add_feature(m, "item", v, 3), TFRS_OK);
        for (size_t j = 0; j < bad[b].nl; j++) {
            const layer_spec *l = &bad[b].ls[j];
            ck_assert_int_eq(l->kind == TFRS_LAYER_CROSS ? tfrs_model_add_cross(m, l->n, l->x)
                             : l->kind == TFRS_LAYER_DROPOUT
                                 ? tfrs_model_add_dropout(m, l->x)
                                 : tfrs_model_add_dense(m, l->n, l->act, l->x),
                             TFRS_OK);
        }
        ck_assert_int_eq(tfrs_model_set_structure(m, bad[b].st), TFRS_OK);
        ck_assert_int_eq(tfrs_model_build(m), TFRS_ESTATE);
        ck_assert_msg(strstr(tfrs_last_error(), bad[b].msg) != NULL, "case %zu: %s", b,
                      tfrs_last_error());
        ck_assert_uint_eq(tfrs_model_num_parameters(m), 0);
        tfrs_model_free(m);
    }
    tfrs_vocab_free(v);
}
END_TEST

/* A dropout layer changes nothing at inference: same parameters (it has
 * none) and bit-identical predictions to the model without it; training
 * differs. */
START_TEST(dropout_inference_identity)
{
    static const layer_spec with[] = { { TFRS_LAYER_DROPOUT, 0, 0, 0.5f },
                                       { TFRS_LAYER_DENSE, 4, TFRS_ACT_RELU, 0.0f },
                                       { TFRS_LAYER_DROPOUT, 0, 0, 0.5f },
                                       { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    static const layer_spec without[] = { { TFRS_LAYER_DENSE, 4, TFRS_ACT_RELU, 0.0f },
                                          { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    tfrs_model *a = make(3, TFRS_STRUCTURE_STACKED, with, 4);
    tfrs_model *b = make(3, TFRS_STRUCTURE_STACKED, without, 2);
    float sa[NB], sb[NB];
    double la, lb;

    ck_assert_int_eq(tfrs_model_predict_ids(a, ids, NB, sa), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_ids(b, ids, NB, sb), TFRS_OK);
    ck_assert_mem_eq(sa, sb, sizeof(sa));
    ck_assert_int_eq(tfrs_model_test_step(a, ids, labels, NULL, NB, &la, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_test_step(b, ids, labels, NULL, NB, &lb, NULL), TFRS_OK);
    ck_assert(la == lb);
    ck_assert_int_eq(tfrs_model_train_step(a, ids, labels, NULL, NB, &la), TFRS_OK);
    ck_assert_int_eq(tfrs_model_train_step(b, ids, labels, NULL, NB, &lb), TFRS_OK);
    ck_assert(la != lb);
    tfrs_model_free(a);
    tfrs_model_free(b);
}
END_TEST

/* The masks of a batch are the same whether it runs as one block or as
 * two slices (as the stepper's threads cut it), and the same in a second
 * run; fit with 1 and 2 threads is reproducible. */
START_TEST(masks_independent_of_slicing)
{
    static const layer_spec ls[] = { { TFRS_LAYER_DROPOUT, 0, 0, 0.4f },
                                     { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    tfrs_model *m = make(8, TFRS_STRUCTURE_STACKED, ls, 2);
    const tfrs__graph *g = &m->g;
    float *ws = calloc(tfrs__graph_ws_floats(g, NB, 0), sizeof(float));
    float *ws2 = calloc(tfrs__graph_ws_floats(g, NB, 0), sizeof(float));
    float **acts = calloc(tfrs__graph_num_acts(g), sizeof(float *));
    float **acts2 = calloc(tfrs__graph_num_acts(g), sizeof(float *));
    tfrs__graph_ctx whole = { 4, 0, NULL, NULL, 0 }, first = { 4, 0, NULL, NULL, 0 };
    tfrs__graph_ctx second = { 4, 5, NULL, NULL, 0 };
    size_t D = g->concat_dim, zeros = 0;

    tfrs__graph_forward(g, ids, NULL, NB, ws, acts, &whole);
    tfrs__graph_forward(g, ids, NULL, 5, ws2, acts2, &first);
    ck_assert_mem_eq(acts[1], acts2[1], 5 * D * sizeof(float));
    tfrs__graph_forward(g, ids + 5 * 2, NULL, NB - 5, ws2, acts2, &second);
    ck_assert_mem_eq(acts[1] + 5 * D, acts2[1], (NB - 5) * D * sizeof(float));
    for (size_t i = 0; i < NB * D; i++)
        zeros += acts[1][i] == 0.0f;
    ck_assert_uint_gt(zeros, 0);
    free(ws);
    free(ws2);
    free(acts);
    free(acts2);
    tfrs_model_free(m);
}
END_TEST

/* Training steps with dropout: same bits from run to run. */
START_TEST(training_reproducible)
{
    static const layer_spec ls[] = { { TFRS_LAYER_CROSS, 0, 0, 0.0f },
                                     { TFRS_LAYER_DROPOUT, 0, 0, 0.2f },
                                     { TFRS_LAYER_DENSE, 8, TFRS_ACT_RELU, 0.0f },
                                     { TFRS_LAYER_DROPOUT, 0, 0, 0.2f },
                                     { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f } };
    float s[2][NB];

    for (int run = 0; run < 2; run++) {
        tfrs_model *m = make(21, TFRS_STRUCTURE_STACKED, ls, TU_NELEM(ls));
        for (int step = 0; step < 5; step++) {
            double l;
            ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, NB, &l), TFRS_OK);
        }
        ck_assert_int_eq(tfrs_model_predict_ids(m, ids, NB, s[run]), TFRS_OK);
        tfrs_model_free(m);
    }
    ck_assert_mem_eq(s[0], s[1], sizeof(s[0]));
}
END_TEST

static void save_load_rank(tfrs_structure st, const layer_spec *ls, size_t nl)
{
    tfrs_model *m = make(13, st, ls, nl), *b = NULL;
    const char *path = tu_tmp_path("cross.tfrs");
    float sa[NB], sb[NB], all[6], pr[6];
    int32_t q[2] = { 2, 0 }, cand[6] = { 0, 1, 2, 3, 4, 5 };
    int32_t rows[12];
    tfrs_scored out[6];
    size_t n_out;

    for (int step = 0; step < 4; step++) {
        double l;
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, NB, &l), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_save(m, path, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&b, path), TFRS_OK);
    ck_assert_int_eq(tfrs_model_structure(b), st);
    ck_assert_uint_eq(tfrs_model_num_layers(b), nl);
    for (size_t j = 0; j < nl; j++)
        ck_assert_int_eq(tfrs_model_layer_kind(b, j), ls[j].kind);
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, NB, sa), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_ids(b, ids, NB, sb), TFRS_OK);
    ck_assert_mem_eq(sa, sb, sizeof(sa));
    /* training goes on identically (masks keyed by the restored steps) */
    {
        double la, lb;
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, NB, &la), TFRS_OK);
        ck_assert_int_eq(tfrs_model_train_step(b, ids, labels, NULL, NB, &lb), TFRS_OK);
        ck_assert(la == lb);
        ck_assert_int_eq(tfrs_model_predict_ids(m, ids, NB, sa), TFRS_OK);
        ck_assert_int_eq(tfrs_model_predict_ids(b, ids, NB, sb), TFRS_OK);
        ck_assert_mem_eq(sa, sb, sizeof(sa));
    }
    /* rank by item: the full forward, bit-identical to predict */
    for (size_t i = 0; i < 6; i++) {
        rows[2 * i] = q[0];
        rows[2 * i + 1] = cand[i];
    }
    ck_assert_int_eq(tfrs_model_predict_ids(b, rows, 6, all), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank_ids(b, q, 1, cand, 6, 0, out, &n_out), TFRS_OK);
    ck_assert_uint_eq(n_out, 6);
    for (size_t i = 0; i < 6; i++) {
        pr[i] = out[i].score;
        ck_assert(out[i].score == all[out[i].index]);
        if (i > 0)
            ck_assert(pr[i - 1] >= pr[i]);
    }
    tfrs_model_free(m);
    tfrs_model_free(b);
    remove(path);
}

START_TEST(save_load_rank_stacked)
{
    tu_tmpdir_make();
    save_load_rank(TFRS_STRUCTURE_STACKED, stacked, TU_NELEM(stacked));
    tu_tmpdir_remove();
}
END_TEST

START_TEST(save_load_rank_parallel)
{
    tu_tmpdir_make();
    save_load_rank(TFRS_STRUCTURE_PARALLEL, parallel, TU_NELEM(parallel));
    tu_tmpdir_remove();
}
END_TEST

/* Found by fuzz-model: rank by parts ran every layer after the first as
 * a dense layer, so a dropout layer after a dense one dereferenced NULL
 * and a cross layer after it had no x0.  Both now rank as predict does. */
static void rank_after_dense(const layer_spec *ls, size_t nl, int bit_exact)
{
    tfrs_model *m = make(17, TFRS_STRUCTURE_STACKED, ls, nl);
    int32_t q[2] = { 3, 0 }, cand[6] = { 0, 1, 2, 3, 4, 5 }, rows[12];
    float all[6];
    tfrs_scored out[6];
    size_t n_out = 0;

    for (int step = 0; step < 3; step++)
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, NB, NULL), TFRS_OK);
    for (size_t i = 0; i < 6; i++) {
        rows[2 * i] = q[0];
        rows[2 * i + 1] = cand[i];
    }
    ck_assert_int_eq(tfrs_model_predict_ids(m, rows, 6, all), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank_ids(m, q, 1, cand, 6, 0, out, &n_out), TFRS_OK);
    ck_assert_uint_eq(n_out, 6);
    for (size_t i = 0; i < 6; i++) {
        float p = all[out[i].index];
        if (bit_exact)
            ck_assert(out[i].score == p);
        else
            ck_assert_msg(fabsf(out[i].score - p) <= 1e-5f * (1.0f + fabsf(p)), "%g vs %g",
                          out[i].score, p);
    }
    tfrs_model_free(m);
}

START_TEST(rank_dense_then_dropout_or_cross)
{
    static const layer_spec dropout[] = {
        { TFRS_LAYER_DENSE, 4, TFRS_ACT_RELU, 0.0f }, { TFRS_LAYER_DROPOUT, 0, 0, 0.3f },
        { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f },
    };
    static const layer_spec cross[] = {
        { TFRS_LAYER_DENSE, 6, TFRS_ACT_LINEAR, 0.0f }, { TFRS_LAYER_CROSS, 0, 0, 0.0f },
        { TFRS_LAYER_DENSE, 1, TFRS_ACT_LINEAR, 0.0f },
    };

    rank_after_dense(dropout, TU_NELEM(dropout), 0);   /* by parts */
    rank_after_dense(cross, TU_NELEM(cross), 1);       /* the full forward */
}
END_TEST

/* The first occurrence of the n bytes of s in the len bytes at buf. */
static unsigned char *find(unsigned char *buf, size_t len, const char *s, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, s, n) == 0)
            return buf + i;
    return NULL;
}

/* The architecture record: "kind" only on non-dense layers, "structure"
 * only when parallel; bad values are TFRS_EFORMAT. */
START_TEST(model_file_records)
{
    tfrs_model *m = make(13, TFRS_STRUCTURE_PARALLEL, parallel, TU_NELEM(parallel)), *b = NULL;
    const char *path;
    unsigned char *buf;
    size_t len;
    /* the architecture is a JSON document inside a JSON string: Q is an
     * escaped quote */
#define Q "\\\""
    static const char *const edits[][2] = {
        { Q "kind" Q ":" Q "cross" Q, Q "kind" Q ":" Q "crosz" Q },
        { Q "structure" Q ":" Q "parallel" Q, Q "structure" Q ":" Q "paralle1" Q },
        { Q "projection_dim" Q ":3", Q "projection_dux" Q ":3" },
        { Q "rate" Q ":" Q "0.25" Q, Q "rate" Q ":" Q "1.25" Q },
        { Q "projection_dim" Q ":3", Q "projection_dim" Q ":4" },
        { Q "kind" Q ":" Q "dropout" Q, Q "kind" Q ":" Q "cross" Q "  " },
    };

    tu_tmpdir_make();
    path = tu_tmp_path("arch.tfrs");
    ck_assert_int_eq(tfrs_model_save(m, path, 0), TFRS_OK);
    buf = tu_read_file(path, &len);
    for (size_t e = 0; e < TU_NELEM(edits); e++) {
        unsigned char *copy = malloc(len);
        char *at;
        memcpy(copy, buf, len);
        at = (char *)find(copy, len, edits[e][0], strlen(edits[e][0]));
        ck_assert_msg(at != NULL, "no %s in the file", edits[e][0]);
        ck_assert_uint_eq(strlen(edits[e][0]), strlen(edits[e][1]));
        memcpy(at, edits[e][1], strlen(edits[e][1]));
        ck_assert_int_eq(tfrs_model_load_buffer(&b, copy, len), TFRS_EFORMAT);
        ck_assert_ptr_null(b);
        ck_assert_msg(strstr(tfrs_last_error(), "model file: architecture") != NULL, "%s",
                      tfrs_last_error());
        free(copy);
    }
    ck_assert_ptr_null(find(buf, len, Q "kind" Q ":" Q "dense", strlen(Q "kind" Q ":" Q "dense")));
#undef Q
    free(buf);
    remove(path);
    tu_tmpdir_remove();
    tfrs_model_free(m);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(cross_full_rank_gradients), TU_CASE(cross_low_rank_gradients),
        TU_CASE(cross_truncated_normal_init), TU_CASE(dropout_statistics_and_keys),
        TU_CASE(stacked_model_gradients), TU_CASE(parallel_model_gradients),
        TU_CASE(parameter_table), TU_CASE(builder_rules), TU_CASE(dropout_inference_identity),
        TU_CASE(masks_independent_of_slicing), TU_CASE(training_reproducible),
        TU_CASE(save_load_rank_stacked), TU_CASE(save_load_rank_parallel),
        TU_CASE(model_file_records), TU_CASE(rank_dense_then_dropout_or_cross),
    };

    return tu_run_cases("cross", cases, TU_NELEM(cases));
}
