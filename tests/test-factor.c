/*
 * test-factor.c - the first dense layer computed once per distinct row
 * (lib/factor.c) against the ordinary dense layer.
 *
 * The plan's distinct rows, counts and indices against a direct count; the
 * cost rule (rows that repeat are factored, a batch of distinct rows is
 * not); central differences of the training objective against the
 * gradients that one factored step leaves; whole fits with and without
 * factoring (the graph's test switch) agree to float summation order, for
 * one and two threads, and are bit-reproducible; so do predict and
 * evaluate.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factor.h"
#include "gradcheck.h"
#include "model.h"
#include "param.h"
#include "step.h"
#include "testutil.h"

#define USERS 12
#define ITEMS 20
#define ROWS  480

/* Rows of user (string), item (string), genres (a bag: not factored), age
 * (numeric: not factored) and label; users and items repeat. */
static tfrs_dataset *make_data(size_t rows, uint64_t seed)
{
    static const char *const genres[] = { "a", "b|c", "", "c|a|b", "b" };
    tfrs_dataset *ds;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "item", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "age", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "label", TFRS_COLUMN_FLOAT), TFRS_OK);
    for (size_t r = 0; r < rows; r++) {
        char u[16], i[16];
        unsigned uu, ii;
        const char *s[3];
        float f[2];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uu = (unsigned)(x % USERS);
        ii = (unsigned)((x >> 20) % ITEMS);
        snprintf(u, sizeof(u), "u%u", uu);
        snprintf(i, sizeof(i), "i%u", ii);
        s[0] = u;
        s[1] = i;
        s[2] = genres[(uu + ii) % 5];
        f[0] = (float)(18 + (uu * 7) % 40);
        f[1] = (float)(1 + (uu + 2 * ii) % 5);
        ck_assert_int_eq(tfrs_dataset_append_row(ds, s, f, NULL), TFRS_OK);
    }
    return ds;
}

/* user (8 dims, L2 and a bias), item (8), genres (mean bag, 4), age
 * (numeric); dense 16 relu, dropout, dense 8 sigmoid, dense 1. */
static tfrs_model *make_model(const tfrs_dataset *ds, uint64_t seed, tfrs_optimizer_kind kind,
                              float lr, int factor)
{
    tfrs_vocab *uv, *iv, *gv;
    tfrs_model *m;
    tfrs_feature_options o;
    tfrs_optimizer_options oo;

    ck_assert_int_eq(tfrs_vocab_adapt_column(&uv, ds, "user", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&iv, ds, "item", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_bags(&gv, ds, "genres", '|', NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, seed), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = uv;
    o.embedding_dim = 8;
    o.l2 = 0.05f;
    o.bias = 1;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "user", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = iv;
    o.embedding_dim = 8;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "item", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.vocab = gv;
    o.embedding_dim = 4;
    o.pooling = TFRS_POOL_MEAN;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "genres", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION), TFRS_OK);
    o.kind = TFRS_FEATURE_NUMERIC;
    o.mean = 35.0;
    o.variance = 120.0;
    ck_assert_int_eq(tfrs_model_add_feature_ex(m, "age", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 16, TFRS_ACT_RELU, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dropout(m, 0.25f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 8, TFRS_ACT_SIGMOID, 0.01f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_set_label(m, "label", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION, kind),
                     TFRS_OK);
    oo.learning_rate = lr;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &oo), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    m->g.no_factor = !factor;
    tfrs_vocab_free(uv);
    tfrs_vocab_free(iv);
    tfrs_vocab_free(gv);
    return m;
}

/* The plan of a hand-made batch: distinct rows in order of first use,
 * their counts, each example's index; the cost rule. */
START_TEST(plan_counts_distinct_rows)
{
    tfrs_dataset *ds = make_data(ROWS, 1);
    tfrs_model *m = make_model(ds, 1, TFRS_OPT_ADAGRAD, 0.1f, 1);
    tfrs__graph *g = &m->g;
    const size_t F = g->nfeat, B = 64;
    int32_t *keys = calloc(B * F, sizeof(int32_t));
    tfrs__factor fz;

    ck_assert_uint_eq(F, 4);
    ck_assert(tfrs__graph_can_factor(g));
    ck_assert(tfrs__factor_eligible(&g->feat[0]) && tfrs__factor_eligible(&g->feat[1]));
    ck_assert(!tfrs__factor_eligible(&g->feat[2]) && !tfrs__factor_eligible(&g->feat[3]));
    /* user: rows 0..2 repeating; item: rows 0..7 repeating */
    for (size_t i = 0; i < B; i++) {
        keys[i * F + 0] = (int32_t)((i * 5) % 3);
        keys[i * F + 1] = (int32_t)(i % 8);
    }
    ck_assert_int_eq(tfrs__factor_init(&fz, F, 16), TFRS_OK);
    ck_assert_int_eq(tfrs__factor_plan(&fz, g->feat, g->layers[0].dense, keys, B), TFRS_OK);
    ck_assert(fz.any);
    ck_assert(fz.part[0].on);
    ck_assert_uint_eq(fz.part[0].n, 3);
    ck_assert_int_eq(fz.part[0].rows[0], 0);   /* first use order: 0, 2, 1 */
    ck_assert_int_eq(fz.part[0].rows[1], 2);
    ck_assert_int_eq(fz.part[0].rows[2], 1);
    {
        uint32_t total = 0;
        for (size_t u = 0; u < 3; u++) {
            uint32_t want = 0;
            for (size_t i = 0; i < B; i++)
                want += keys[i * F] == fz.part[0].rows[u];
            ck_assert_uint_eq(fz.part[0].count[u], want);
            total += want;
        }
        ck_assert_uint_eq(total, B);
    }
    for (size_t i = 0; i < B; i++)
        for (size_t f = 0; f < 2; f++)
            if (fz.part[f].on)
                ck_assert_int_eq(fz.part[f].rows[fz.idx[i * F + f]], keys[i * F + f]);
    /* P = E[u] W_0 for a row, against a direct sum */
    for (size_t u = 0; u < fz.part[0].n; u++) {
        const float *e = g->feat[0].emb->w + (size_t)fz.part[0].rows[u] * 8;
        const float *w = g->layers[0].dense->w + g->feat[0].offset * 16;
        for (size_t j = 0; j < 16; j++) {
            double want = 0.0;
            for (size_t k = 0; k < 8; k++)
                want += (double)e[k] * w[k * 16 + j];
            ck_assert_double_eq_tol(fz.part[0].p[u * 16 + j], want, 1e-6);
        }
    }
    /* item rows repeat 8 times: 3 * 8 * 8 + 6 * 64 < 3 * 64 * 8, and 8 <= 64 / 4 */
    ck_assert(fz.part[1].on);
    /* the genres bag and the numeric age are never factored */
    ck_assert(!fz.part[2].on && !fz.part[3].on);

    /* a batch of distinct rows is not worth it: user keys of 12 distinct
     * rows in a batch of 12 */
    ck_assert_int_eq(tfrs__factor_plan(&fz, g->feat, g->layers[0].dense, keys, 3), TFRS_OK);
    for (size_t i = 0; i < 12; i++) {
        keys[i * F + 0] = (int32_t)i;
        keys[i * F + 1] = (int32_t)(i + 1);
    }
    ck_assert_int_eq(tfrs__factor_plan(&fz, g->feat, g->layers[0].dense, keys, 12), TFRS_OK);
    ck_assert(!fz.any && !fz.part[0].on && !fz.part[1].on);
    /* the slots are back at 0 (empty) after every plan */
    for (size_t r = 0; r < fz.part[0].slot_rows; r++)
        ck_assert_uint_eq(fz.part[0].slot[r], 0);
    tfrs__factor_free(&fz);
    free(keys);
    tfrs_model_free(m);
    tfrs_dataset_free(ds);
}
END_TEST

static const tfrs__param *entry(const tfrs_model *m, const char *name)
{
    const tfrs__param *p = tfrs__params_find(tfrs__model_params(m), name);

    ck_assert_msg(p != NULL, "no parameter %s", name);
    return p;
}

/* Central differences of the training objective (task loss + embedding
 * L2, evaluated by the unfactored inference path) against the gradient
 * that one factored fit step leaves, with SGD at a learning rate too small
 * to move a float.  Dropout is off at evaluation, so its rate is 0 here:
 * the model is rebuilt without it. */
START_TEST(gradients_match_finite_differences)
{
    tfrs_dataset *ds = make_data(96, 2);
    tfrs_model *m = make_model(ds, 3, TFRS_OPT_SGD, 1e-30f, 1);
    tfrs_fit_options fo;
    size_t checked = 0, nonzero = 0;

    /* no dropout for the comparison: evaluate runs without it */
    for (size_t j = 0; j < m->g.nlayers; j++)
        if (m->g.layers[j].kind == TFRS_LAYER_DROPOUT)
            m->g.layers[j].rate = 0.0f;
    /* keep relu pre-activations away from the kink */
    for (size_t u = 0; u < 16; u++)
        entry(m, "dense.0.bias")->w[u] = 1.5f;
    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.batch_size = 96;
    fo.shuffle = 0;
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, NULL), TFRS_OK);
    ck_assert_uint_gt(tfrs__stepper_factored_rows(m->stepper), 0);   /* factored */
    gc_check(m, ds, 5e-3f, 7, &checked, &nonzero);
    ck_assert_uint_gt(checked, 150);
    ck_assert_uint_gt(nonzero, 100);
    tfrs_model_free(m);
    tfrs_dataset_free(ds);
}
END_TEST

/* Fits with and without factoring: the same parameters up to float
 * summation order; reruns are bit-identical. */
static void fit_pair(int threads, size_t batch)
{
    tfrs_dataset *ds = make_data(ROWS, 4);
    tfrs_model *a = make_model(ds, 5, TFRS_OPT_ADAGRAD, 0.1f, 1);
    tfrs_model *b = make_model(ds, 5, TFRS_OPT_ADAGRAD, 0.1f, 0);
    tfrs_model *c = make_model(ds, 5, TFRS_OPT_ADAGRAD, 0.1f, 1);
    const tfrs__params *ta = tfrs__model_params(a), *tb = tfrs__model_params(b);
    const tfrs__params *tc = tfrs__model_params(c);
    tfrs_fit_options fo;
    tfrs_metrics ha[3], hb[3];
    double worst = 0.0;

    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.batch_size = batch;
    fo.epochs = 3;
    fo.threads = threads;
    fo.shuffle_seed = 9;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, ha), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(b, ds, &fo, hb), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(c, ds, &fo, NULL), TFRS_OK);
    if (threads == 1) {
        ck_assert_uint_gt(tfrs__stepper_factored_rows(a->stepper), 0);
        ck_assert_uint_eq(tfrs__stepper_factored_rows(b->stepper), 0);
    }
    for (size_t k = 0; k < ta->n; k++) {
        const tfrs__param *pa = &ta->p[k], *pb = &tb->p[k], *pc = &tc->p[k];
        double scale = 1e-3;
        for (size_t i = 0; i < pb->n; i++)
            scale = fmax(scale, fabs(pb->w[i]));
        for (size_t i = 0; i < pa->n; i++)
            worst = fmax(worst, fabs((double)pa->w[i] - pb->w[i]) / scale);
        ck_assert_mem_eq(pa->w, pc->w, pa->n * sizeof(float));   /* reproducible */
    }
    /* 18 or 9 Adagrad steps: the orders of summation drift a little */
    ck_assert_msg(worst < 1e-4, "threads %d, batch %zu: largest relative difference %g",
                  threads, batch, worst);
    ck_assert_msg(worst > 0.0, "the factored path was not taken");
    for (int e = 0; e < 3; e++) {
        ck_assert_double_eq_tol(ha[e].loss, hb[e].loss, 1e-4 * hb[e].loss);
        ck_assert_double_eq_tol(ha[e].regularization_loss, hb[e].regularization_loss,
                                1e-4 * hb[e].regularization_loss + 1e-9);
    }
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_model_free(c);
    tfrs_dataset_free(ds);
}

START_TEST(fit_matches_unfactored_one_thread)
{
    fit_pair(1, 80);
}
END_TEST

START_TEST(fit_matches_unfactored_two_threads)
{
    fit_pair(2, 160);
}
END_TEST

/* predict and evaluate by blocks with the first layer by distinct rows
 * against the same model without: scores and the embedding L2 agree. */
START_TEST(inference_matches_unfactored)
{
    tfrs_dataset *ds = make_data(ROWS, 6);
    tfrs_model *a = make_model(ds, 7, TFRS_OPT_ADAGRAD, 0.1f, 1);
    tfrs_model *b = make_model(ds, 7, TFRS_OPT_ADAGRAD, 0.1f, 0);
    float *sa = calloc(ROWS, sizeof(float)), *sb = calloc(ROWS, sizeof(float));
    tfrs_metrics ma, mb;
    double worst = 0.0;
    size_t differ = 0;

    ck_assert_int_eq(tfrs_model_predict_dataset(a, ds, sa), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_dataset(b, ds, sb), TFRS_OK);
    for (size_t i = 0; i < ROWS; i++) {
        worst = fmax(worst, fabs((double)sa[i] - sb[i]) / (1e-3 + fabs(sb[i])));
        differ += sa[i] != sb[i];
    }
    ck_assert_msg(worst < 1e-5, "largest relative difference %g", worst);
    ck_assert_uint_gt(differ, 0);      /* the factored path was taken */
    ck_assert_int_eq(tfrs_model_evaluate(a, ds, 0, &ma), TFRS_OK);   /* one block of 480 */
    ck_assert_int_eq(tfrs_model_evaluate(b, ds, 0, &mb), TFRS_OK);
    ck_assert_double_eq_tol(ma.rmse, mb.rmse, 1e-6 * mb.rmse);
    ck_assert_double_gt(mb.regularization_loss, 0.0);
    ck_assert_double_eq_tol(ma.regularization_loss, mb.regularization_loss,
                            1e-6 * mb.regularization_loss);
    /* blocks of 300 and 180 rows: the second is too small to plan, and its
     * embedding L2 must not come from the first block's plan */
    ck_assert_int_eq(tfrs_model_evaluate(a, ds, 300, &ma), TFRS_OK);
    ck_assert_int_eq(tfrs_model_evaluate(b, ds, 300, &mb), TFRS_OK);
    ck_assert_double_eq_tol(ma.regularization_loss, mb.regularization_loss,
                            1e-6 * mb.regularization_loss);
    free(sa);
    free(sb);
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_dataset_free(ds);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(plan_counts_distinct_rows),
        TU_CASE(gradients_match_finite_differences),
        TU_CASE(fit_matches_unfactored_one_thread),
        TU_CASE(fit_matches_unfactored_two_threads),
        TU_CASE(inference_matches_unfactored),
    };

    return tu_run_cases("factor", cases, TU_NELEM(cases));
}
