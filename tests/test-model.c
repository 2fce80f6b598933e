/*
 * test-model.c - the model: builder rules, whole-model gradients by finite
 * differences (embeddings, concatenation, dense tower, loss), training
 * determinism, non-finite rollback, fit/evaluate, predict and rank.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/kernels.h"
#include "util/rng.h"
#include "model.h"
#include "param.h"
#include "testutil.h"

static const char *users[] = { "u1", "u2", "u3", "u4" };
static const char *items[] = { "a", "b", "c", "d", "e" };

static tfrs_model *new_model(uint64_t seed, tfrs_optimizer_kind kind, float lr, float l2)
{
    tfrs_vocab *vu = NULL, *vi = NULL;
    tfrs_model *m = NULL;

    ck_assert_int_eq(tfrs_vocab_create(&vu, users, 4, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_create(&vi, items, 5, NULL), TFRS_OK);
    {
        const tu_model_spec spec = {
            .seed = seed,
            .features = { { "user", vu, 3 }, { "item", vi, 2 } },
            .dense = { { 6, TFRS_ACT_RELU, l2 }, { 4, TFRS_ACT_SIGMOID, 0.0f },
                       { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, kind, lr, 0.0f },
        };
        ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    }
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
    return m;
}

/* A small batch: ids are (user, item) pairs, labels depend on both. */
#define NB 8
static const int32_t batch_ids[NB * 2] = { 1, 1, 2, 2, 3, 3, 4, 4, 1, 5, 2, 1, 1, 1, 0, 3 };
static const float batch_labels[NB] = { 1, 2, 3, 4, 5, 2, 1, 3 };

/* The parameter table of a built model: features.<i>.embedding, then
 * dense.<j>.kernel and dense.<j>.bias per layer. */
static const tfrs__params *params(const tfrs_model *m)
{
    const tfrs__params *t = tfrs__model_params(m);

    ck_assert_ptr_nonnull(t);
    return t;
}

static size_t param_bytes(const tfrs_model *m, size_t k)
{
    return params(m)->p[k].n * sizeof(float);
}

static void assert_same_params(const tfrs_model *a, const tfrs_model *b)
{
    const tfrs__params *ta = params(a), *tb = params(b);

    ck_assert_uint_eq(ta->n, tb->n);
    for (size_t k = 0; k < ta->n; k++) {
        ck_assert_str_eq(ta->p[k].name, tb->p[k].name);
        ck_assert_uint_eq(ta->p[k].n, tb->p[k].n);
        ck_assert_mem_eq(ta->p[k].w, tb->p[k].w, param_bytes(a, k));
        ck_assert_mem_eq(ta->p[k].slot[0], tb->p[k].slot[0], param_bytes(a, k));
    }
}

/* The L2 penalty, from the table: sum over the entries that have one of
 * l2 * sum(w^2). */
static double l2_loss(const tfrs_model *m)
{
    const tfrs__params *t = params(m);
    double reg = 0.0;

    for (size_t k = 0; k < t->n; k++) {
        double s = 0.0;
        if (t->p[k].l2 == 0.0f)
            continue;
        for (size_t i = 0; i < t->p[k].n; i++)
            s += (double)t->p[k].w[i] * t->p[k].w[i];
        reg += (double)t->p[k].l2 * s;
    }
    return reg;
}

START_TEST(builder_rules)
{
    tfrs_vocab *v = NULL;
    tfrs_model *m = NULL;
    double loss;
    float s;
    int32_t ids[1] = { 0 };
    float lab[1] = { 1 };

    ck_assert_int_eq(tfrs_model_create(NULL, 1), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_vocab_create(&v, users, 4, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, 1), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_ESTATE);                  /* no features */
    ck_assert_int_eq(tfrs_model_train_step(m, ids, lab, NULL, 1, &loss), TFRS_ESTATE);
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, 1, &s), TFRS_ESTATE);
    ck_assert_int_eq(tfrs_model_add_feature(m, NULL, v, 2), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_add_feature(m, "user", NULL, 2), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_add_feature(m, "user", v, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_add_feature(m, "user", v, 2), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_feature(m, "user", v, 2), TFRS_EDUPLICATE);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_ESTATE);                  /* no layers */
    ck_assert_int_eq(tfrs_model_add_dense(m, 0, TFRS_ACT_RELU, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_add_dense(m, 2, (tfrs_activation)9, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_add_dense(m, 2, TFRS_ACT_RELU, -1.0f), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_add_dense(m, 2, TFRS_ACT_RELU, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_ESTATE);                  /* last not 1 */
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0), TFRS_OK);
    ck_assert_uint_eq(tfrs_model_num_parameters(m), 0);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    /* 5 x 2 embedding + (2x2 + 2) + (2x1 + 1) */
    ck_assert_uint_eq(tfrs_model_num_parameters(m), 10 + 6 + 3);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_ESTATE);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0), TFRS_ESTATE);
    ck_assert_int_eq(tfrs_model_add_feature(m, "x", v, 2), TFRS_ESTATE);
    ck_assert_uint_eq(tfrs_model_num_features(m), 1);
    ck_assert_str_eq(tfrs_model_feature_name(m, 0), "user");
    ck_assert_ptr_null(tfrs_model_feature_name(m, 1));
    ck_assert_uint_eq(tfrs_embedding_rows(tfrs_model_feature_embedding(m, 0)), 5);
    ck_assert_uint_eq(tfrs_model_num_dense(m), 2);
    ck_assert_uint_eq(tfrs_dense_in(tfrs_model_dense(m, 1)), 2);
    ck_assert_int_eq(tfrs_model_set_label(m, NULL, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_set_label(m, "y", ""), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_set_label(m, "y", "w"), TFRS_OK);
    ids[0] = 5;
    ck_assert_int_eq(tfrs_model_train_step(m, ids, lab, NULL, 1, &loss), TFRS_ERANGE);
    ids[0] = -1;
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, 1, &s), TFRS_ERANGE);
    ids[0] = 1;
    ck_assert_int_eq(tfrs_model_train_step(m, ids, lab, NULL, 0, &loss), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_train_step(m, NULL, lab, NULL, 1, &loss), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_train_step(m, ids, NULL, NULL, 1, &loss), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_test_step(m, ids, lab, NULL, 1, NULL, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_fit(m, NULL, NULL, NULL), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_evaluate(m, NULL, 1, NULL), TFRS_EINVAL);
    tfrs_model_free(m);
    tfrs_model_free(NULL);
    tfrs_vocab_free(v);
}
END_TEST

/* Loss of the batch as a function of the parameters (test_step, double). */
static double batch_loss(const tfrs_model *m)
{
    double l;

    ck_assert_int_eq(tfrs_model_test_step(m, batch_ids, batch_labels, NULL, NB, &l, NULL),
                     TFRS_OK);
    return l + l2_loss(m);
}

/* Central differences on every parameter against the analytic gradient of
 * one train_step.  SGD with a tiny learning rate leaves the weights as they
 * were (w - 1e-30 g == w in float) and the gradients in place. */
static void check_gradients(tfrs_loss loss_kind, float l2)
{
    tfrs_model *m = new_model(3, TFRS_OPT_SGD, 1e-30f, l2);
    tfrs_ranking_task *t = NULL;
    tfrs_task_options to;
    const tfrs__params *tab = params(m);
    double loss, worst = 0.0;
    size_t checked = 0;

    ck_assert_int_eq(tfrs_task_options_init(&to, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    to.loss = loss_kind;
    ck_assert_int_eq(tfrs_ranking_task_create(&t, &to), TFRS_OK);
    /* The task is copied at set time; an unbuilt-only rule does not apply. */
    ck_assert_int_eq(tfrs_model_set_task(m, t), TFRS_OK);
    tfrs_ranking_task_free(t);
    /* Spread the embeddings from +-0.05 to +-1 so that the relu
     * pre-activations sit far from their kink compared with the step h. */
    ck_assert_uint_eq(tfrs_model_num_features(m), 2);
    for (size_t k = 0; k < tfrs_model_num_features(m); k++) {
        ck_assert_ptr_nonnull(strstr(tab->p[k].name, ".embedding"));
        for (size_t i = 0; i < tab->p[k].n; i++)
            tab->p[k].w[i] *= 20.0f;
    }
    /* The L2 penalty is on the first kernel only: the check covers its
     * gradient when l2 != 0. */
    ck_assert_float_eq(tfrs__params_find(tab, "dense.0.kernel")->l2, l2);
    ck_assert_int_eq(tfrs_model_train_step(m, batch_ids, batch_labels, NULL, NB, &loss), TFRS_OK);

    for (size_t k = 0; k < tab->n; k++) {
        const tfrs__param *p = &tab->p[k];
        for (size_t i = 0; i < p->n; i++) {
            float w0 = p->w[i], h = 4e-3f;
            double lp, lm, fd, an = p->g[i];
            p->w[i] = w0 + h;
            lp = batch_loss(m);
            p->w[i] = w0 - h;
            lm = batch_loss(m);
            p->w[i] = w0;
            fd = (lp - lm) / (2.0 * h);
            /* relu kinks make a few coordinates non-smooth; tolerate by scale */
            double err = fabs(fd - an) / fmax(1e-2, fabs(fd) + fabs(an));
            if (err > 5e-3) fprintf(stderr, "k=%zu i=%zu fd=%g an=%g\n", k, i, fd, an);
            if (err > worst)
                worst = err;
            checked++;
        }
    }
    ck_assert_uint_gt(checked, 50);
    ck_assert_msg(worst < 5e-3, "worst relative gradient error %g", worst);
    tfrs_model_free(m);
}

START_TEST(gradients_mse)
{
    check_gradients(TFRS_LOSS_MSE, 0.0f);
}
END_TEST

START_TEST(gradients_huber_with_l2)
{
    check_gradients(TFRS_LOSS_HUBER, 0.05f);
}
END_TEST

START_TEST(same_seed_bit_identical)
{
    tfrs_model *a = new_model(11, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_model *b = new_model(11, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_model *c = new_model(12, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    double la, lb, first = 0.0;

    assert_same_params(a, b);
    ck_assert_mem_ne(params(a)->p[0].w, params(c)->p[0].w, param_bytes(a, 0));
    for (int s = 0; s < 30; s++) {
        ck_assert_int_eq(tfrs_model_train_step(a, batch_ids, batch_labels, NULL, NB, &la), TFRS_OK);
        ck_assert_int_eq(tfrs_model_train_step(b, batch_ids, batch_labels, NULL, NB, &lb), TFRS_OK);
        ck_assert(memcmp(&la, &lb, sizeof(la)) == 0);
        if (s == 0)
            first = la;
    }
    assert_same_params(a, b);
    ck_assert_msg(la < 0.5 * first, "loss %g did not fall from %g", la, first);
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_model_free(c);
}
END_TEST

/* copy: 2 * (number of entries) pointers (16 for new_model's 8). */
static void snapshot(const tfrs_model *m, float **copy)
{
    const tfrs__params *t = params(m);

    ck_assert_uint_le(t->n, 8);
    for (size_t k = 0; k < t->n; k++) {
        size_t n = t->p[k].n;
        copy[2 * k] = malloc(n * sizeof(float));
        copy[2 * k + 1] = malloc(n * sizeof(float));
        memcpy(copy[2 * k], t->p[k].w, n * sizeof(float));
        memcpy(copy[2 * k + 1], t->p[k].slot[0], n * sizeof(float));
    }
}

static void assert_snapshot(const tfrs_model *m, float **copy)
{
    const tfrs__params *t = params(m);

    for (size_t k = 0; k < t->n; k++) {
        ck_assert_mem_eq(copy[2 * k], t->p[k].w, param_bytes(m, k));
        ck_assert_mem_eq(copy[2 * k + 1], t->p[k].slot[0], param_bytes(m, k));
        free(copy[2 * k]);
        free(copy[2 * k + 1]);
    }
}

START_TEST(nonfinite_label_rolls_back)
{
    tfrs_model *m = new_model(5, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    float *copy[16], labels[NB];
    double loss;
    uint64_t steps;

    ck_assert_int_eq(tfrs_model_train_step(m, batch_ids, batch_labels, NULL, NB, &loss), TFRS_OK);
    memcpy(labels, batch_labels, sizeof(labels));
    labels[3] = INFINITY;
    steps = m->opt.steps;
    snapshot(m, copy);
    ck_assert_int_eq(tfrs_model_train_step(m, batch_ids, labels, NULL, NB, &loss),
                     TFRS_ENONFINITE);
    assert_snapshot(m, copy);
    ck_assert_uint_eq(m->opt.steps, steps);
    /* Training goes on normally afterwards. */
    ck_assert_int_eq(tfrs_model_train_step(m, batch_ids, batch_labels, NULL, NB, &loss), TFRS_OK);
    tfrs_model_free(m);
}
END_TEST

START_TEST(huge_learning_rate_rolls_back)
{
    tfrs_model *m = new_model(5, TFRS_OPT_ADAGRAD, 1e30f, 0.0f);
    float *copy[16];
    double loss;
    int rc = TFRS_OK, s;

    for (s = 0; s < 20 && rc == TFRS_OK; s++) {
        snapshot(m, copy);
        rc = tfrs_model_train_step(m, batch_ids, batch_labels, NULL, NB, &loss);
        if (rc == TFRS_OK) {
            for (size_t k = 0; k < 2 * params(m)->n; k++)
                free(copy[k]);
        }
    }
    ck_assert_int_eq(rc, TFRS_ENONFINITE);
    assert_snapshot(m, copy);
    ck_assert(tfrs__all_finite(params(m)->p[0].w, params(m)->p[0].n));
    tfrs_model_free(m);
}
END_TEST

/* Row r: a random user and item (from the tfrs__rng at arg), a label that
 * depends on both. */
static void rating_row(size_t r, char (*s)[TU_ROW_CHARS], float *y, void *arg)
{
    tfrs__rng *rng = arg;
    size_t u = (size_t)tfrs__rng_below(rng, 4), it = (size_t)tfrs__rng_below(rng, 5);

    (void)r;
    strcpy(s[0], users[u]);
    strcpy(s[1], items[it]);
    y[0] = (float)(1 + (u + it) % 5);
}

static tfrs_dataset *make_dataset(size_t rows, uint64_t seed)
{
    static const tu_column cols[] = {
        { "user", TFRS_COLUMN_STRING },
        { "item", TFRS_COLUMN_STRING },
        { "label", TFRS_COLUMN_FLOAT },
    };
    tfrs_dataset *ds = NULL;
    tfrs__rng r;

    tfrs__rng_seed(&r, seed, 99);
    ck_assert_int_eq(tu_dataset_new(&ds, cols, TU_NELEM(cols), rows, rating_row, &r), TFRS_OK);
    return ds;
}

typedef struct counts {
    int batches, epochs, stop_after;
} counts;

static int on_progress(const tfrs_progress *p, void *payload)
{
    counts *c = payload;

    ck_assert_uint_eq(p->batches, 4);                  /* 100 rows / 32 */
    if (p->end_of_epoch) {
        c->epochs++;
        ck_assert_uint_eq(p->metrics.examples, 100);
    } else {
        c->batches++;
        ck_assert_uint_le(p->metrics.examples, 100);
    }
    ck_assert(p->metrics.metrics & TFRS_METRIC_RMSE);
    return c->stop_after > 0 && c->batches >= c->stop_after;
}

START_TEST(fit_history_progress_and_determinism)
{
    tfrs_dataset *ds = make_dataset(100, 1);
    tfrs_model *a = new_model(7, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_model *b = new_model(7, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_fit_options fo;
    tfrs_metrics ha[3], hb[3], ev, ev1;
    counts c = { 0, 0, 0 };

    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    ck_assert_uint_eq(fo.batch_size, 32);
    fo.epochs = 3;
    fo.shuffle_seed = 5;
    fo.progress = on_progress;
    fo.payload = &c;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, ha), TFRS_OK);
    ck_assert_int_eq(c.batches, 12);
    ck_assert_int_eq(c.epochs, 3);
    fo.progress = NULL;
    ck_assert_int_eq(tfrs_model_fit(b, ds, &fo, hb), TFRS_OK);
    ck_assert_mem_eq(ha, hb, sizeof(ha));
    assert_same_params(a, b);
    ck_assert(ha[2].loss < ha[0].loss);
    ck_assert_double_eq_tol(ha[0].rmse * ha[0].rmse, ha[0].loss, 1e-9);  /* MSE, no weights */
    ck_assert_double_eq(ha[0].total_loss, ha[0].loss + ha[0].regularization_loss);

    /* evaluate: the pass loss does not depend on the batch size. */
    ck_assert_int_eq(tfrs_model_evaluate(a, ds, 7, &ev), TFRS_OK);
    ck_assert_int_eq(tfrs_model_evaluate(a, ds, 0, &ev1), TFRS_OK);
    ck_assert_uint_eq(ev.examples, 100);
    ck_assert_double_eq_tol(ev.loss, ev1.loss, 1e-6);
    ck_assert_double_eq_tol(ev.rmse, sqrt(ev.loss), 1e-6);

    /* Cancel from the callback after 2 batches. */
    c.batches = c.epochs = 0;
    c.stop_after = 2;
    fo.progress = on_progress;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, ha), TFRS_ECANCELED);
    ck_assert_int_eq(c.batches, 2);

    /* Missing label column. */
    ck_assert_int_eq(tfrs_model_set_label(b, "rating", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(b, ds, &fo, NULL), TFRS_ENOTFOUND);
    ck_assert_int_eq(tfrs_model_evaluate(b, ds, 0, &ev), TFRS_ENOTFOUND);
    fo.batch_size = 0;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, NULL), TFRS_EINVAL);

    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(predict_strings_ids_and_blocks)
{
    tfrs_model *m = new_model(9, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    enum { N = 2500 };
    static const char *vals[N * 2];
    static int32_t ids[N * 2];
    static float s_str[N], s_ids[N];
    float one;

    for (size_t i = 0; i < N; i++) {
        vals[2 * i] = users[i % 4];
        vals[2 * i + 1] = i % 7 == 0 ? "unknown item" : items[i % 5];
        ids[2 * i] = (int32_t)(i % 4) + 1;
        ids[2 * i + 1] = i % 7 == 0 ? 0 : (int32_t)(i % 5) + 1;
    }
    ck_assert_int_eq(tfrs_model_predict(m, vals, N, s_str), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, N, s_ids), TFRS_OK);
    ck_assert_mem_eq(s_str, s_ids, sizeof(s_str));
    /* A row scored alone agrees with the same row inside a block. */
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids + 2 * 2049, 1, &one), TFRS_OK);
    ck_assert_float_eq_tol(one, s_ids[2049], 1e-6f);
    vals[3] = NULL;
    ck_assert_int_eq(tfrs_model_predict(m, vals, N, s_str), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_predict(m, vals, 0, s_str), TFRS_EINVAL);
    tfrs_model_free(m);
}
END_TEST

START_TEST(rank_sorted_top_k_and_ties)
{
    tfrs_model *m = new_model(13, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    const char *query[2] = { "u2", NULL };
    const char *cands[6] = { "a", "b", "c", "d", "e", "c" };
    tfrs_scored out[6], top[2];
    float expect[6];
    size_t n = 0;

    for (size_t i = 0; i < 6; i++) {
        const char *row[2] = { "u2", cands[i] };
        ck_assert_int_eq(tfrs_model_predict(m, row, 1, &expect[i]), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", cands, 6, 0, out, &n), TFRS_OK);
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_float_eq_tol(out[i].score, expect[out[i].index], 1e-6f);
        if (i > 0)
            ck_assert(out[i - 1].score >= out[i].score);
    }
    /* "c" appears at 2 and 5 with the same score: index 2 comes first. */
    for (size_t i = 0; i < 6; i++) {
        if (out[i].index == 5) {
            ck_assert(i > 0);
            ck_assert_uint_eq(out[i - 1].index, 2);
        }
    }
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", cands, 6, 2, top, &n), TFRS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(top, out, 2 * sizeof(*top));
    /* The same ranking from ids: "u2" is 2, items a..e are 1..5. */
    {
        const int32_t qids[2] = { 2, 0 }, cids[6] = { 1, 2, 3, 4, 5, 3 };
        tfrs_scored by_ids[6];
        ck_assert_int_eq(tfrs_model_rank_ids(m, qids, 1, cids, 6, 0, by_ids, &n), TFRS_OK);
        ck_assert_uint_eq(n, 6);
        ck_assert_mem_eq(by_ids, out, sizeof(out));
    }
    /* The same order rule with enough candidates for the radix sort (16 or
     * more; fewer take an insertion sort): each item 6 times. */
    {
        const char *many[30];
        tfrs_scored big[30];
        for (size_t i = 0; i < 30; i++)
            many[i] = cands[i % 5];
        ck_assert_int_eq(tfrs_model_rank(m, query, "item", many, 30, 0, big, &n), TFRS_OK);
        ck_assert_uint_eq(n, 30);
        for (size_t i = 1; i < 30; i++) {
            ck_assert(big[i - 1].score >= big[i].score);
            if (big[i - 1].score == big[i].score)
                ck_assert_uint_lt(big[i - 1].index, big[i].index);
        }
        for (size_t i = 0; i < 6; i++)     /* the 6 copies of the best item */
            ck_assert_uint_eq(big[i].index % 5, big[0].index % 5);
        ck_assert_uint_eq(big[0].index, out[0].index % 5);
    }
    ck_assert_int_eq(tfrs_model_rank(m, query, "genre", cands, 6, 2, top, &n), TFRS_ENOTFOUND);
    ck_assert_uint_eq(n, 0);
    query[0] = NULL;
    ck_assert_int_eq(tfrs_model_rank(m, query, "item", cands, 6, 2, top, &n), TFRS_EINVAL);
    tfrs_model_free(m);
}
END_TEST

/* The rank cache follows the weights: after a training step, rank agrees
 * with predict again. */
START_TEST(rank_cache_follows_training)
{
    tfrs_model *m = new_model(17, TFRS_OPT_ADAGRAD, 0.5f, 0.0f);
    const char *query[2] = { "u3", NULL };
    const char *cands[5] = { "a", "b", "c", "d", "e" };
    tfrs_scored out[5];
    double loss;

    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(tfrs_model_rank(m, query, "item", cands, 5, 0, out, NULL), TFRS_OK);
        for (size_t i = 0; i < 5; i++) {
            const char *row[2] = { "u3", cands[out[i].index] };
            float p;
            ck_assert_int_eq(tfrs_model_predict(m, row, 1, &p), TFRS_OK);
            ck_assert_float_eq_tol(out[i].score, p, 1e-5f);
        }
        ck_assert_int_eq(tfrs_model_train_step(m, batch_ids, batch_labels, NULL, NB, &loss),
                         TFRS_OK);
    }
    /* Ranking by the other feature builds its own cache. */
    {
        const char *q2[2] = { NULL, "c" };
        ck_assert_int_eq(tfrs_model_rank(m, q2, "user", users, 4, 0, out, NULL), TFRS_OK);
        for (size_t i = 0; i < 4; i++) {
            const char *row[2] = { users[out[i].index], "c" };
            float p;
            ck_assert_int_eq(tfrs_model_predict(m, row, 1, &p), TFRS_OK);
            ck_assert_float_eq_tol(out[i].score, p, 1e-5f);
        }
    }
    tfrs_model_free(m);
}
END_TEST

/* fit with two threads: bit-identical run to run, and equal to one thread
 * up to float rounding. */
START_TEST(fit_two_threads)
{
    tfrs_dataset *ds = make_dataset(3000, 4);
    tfrs_model *a = new_model(21, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_model *b = new_model(21, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_model *c = new_model(21, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_fit_options fo;
    tfrs_metrics ha[2], hb[2], hc[2];

    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    ck_assert_int_eq(fo.threads, 1);
    fo.epochs = 2;
    fo.batch_size = 1000;        /* 4 slices per batch: 2 per thread */
    fo.threads = 2;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, ha), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(b, ds, &fo, hb), TFRS_OK);
    ck_assert_mem_eq(ha, hb, sizeof(ha));
    assert_same_params(a, b);
    fo.threads = 1;
    ck_assert_int_eq(tfrs_model_fit(c, ds, &fo, hc), TFRS_OK);
    ck_assert_double_eq_tol(ha[1].loss, hc[1].loss, 1e-5 * hc[1].loss);
    ck_assert_uint_eq(params(a)->n, params(c)->n);
    for (size_t k = 0; k < params(a)->n; k++)
        for (size_t i = 0; i < params(a)->p[k].n; i++)
            ck_assert_float_eq_tol(params(a)->p[k].w[i], params(c)->p[k].w[i], 1e-4f);
    fo.threads = 0;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, NULL), TFRS_EINVAL);
    fo.threads = 100000;
    ck_assert_int_eq(tfrs_model_fit(a, ds, &fo, NULL), TFRS_EINVAL);
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_model_free(c);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(optimizer_change_rules)
{
    tfrs_model *m = new_model(2, TFRS_OPT_ADAGRAD, 0.1f, 0.0f);
    tfrs_optimizer_options o;
    double loss;

    ck_assert_int_eq(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_ADAM), TFRS_OK);
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_OK);      /* no step yet */
    ck_assert_ptr_nonnull(params(m)->p[0].slot[1]);
    ck_assert_int_eq(tfrs_model_train_step(m, batch_ids, batch_labels, NULL, NB, &loss), TFRS_OK);
    o.learning_rate = 0.5f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_OK);      /* same kind */
    ck_assert_float_eq(m->opt.o.learning_rate, 0.5f);
    ck_assert_int_eq(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_SGD), TFRS_OK);
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_ESTATE);
    o.learning_rate = 0.0f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_EINVAL);
    tfrs_model_free(m);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");

    tu_tcase(s, "builder", builder_rules, optimizer_change_rules);
    tu_tcase(s, "gradients", gradients_mse, gradients_huber_with_l2);
    tu_tcase(s, "determinism", same_seed_bit_identical);
    tu_tcase(s, "nonfinite", nonfinite_label_rolls_back, huge_learning_rate_rolls_back);
    tu_tcase(s, "fit", fit_history_progress_and_determinism, fit_two_threads);
    tu_tcase(s, "inference", predict_strings_ids_and_blocks, rank_sorted_top_k_and_ties,
             rank_cache_follows_training);
    return s;
}

int main(void)
{
    return tu_run(model_suite());
}
