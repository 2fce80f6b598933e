/*
 * test-training-controls.c - learning-rate schedules, gradient clipping by
 * global norm, validation with early stopping and restore of the best
 * weights, and their record in the model file.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ROWS         300
#define SHUFFLE_SEED 777u

/* ---- data and models ------------------------------------------------------ */

/* Row r: user "uU" (U < 20) and item "iI" (I < 30) drawn from (seed, r)
 * by a multiplicative hash, and a rating in 1..5 that depends on both, or
 * the constant `constant_label` when it is >= 0 (the synthetic sets of the
 * early-stopping tests). */
static float constant_label = -1.0f;

static void rating_row(size_t r, char (*s)[TU_ROW_CHARS], float *y, void *arg)
{
    uint64_t h = (*(const uint32_t *)arg + (uint64_t)r) * 0x9e3779b97f4a7c15ull;
    unsigned uu = (unsigned)((h >> 40) % 20), ii = (unsigned)((h >> 20) % 30);

    snprintf(s[0], TU_ROW_CHARS, "u%u", uu);
    snprintf(s[1], TU_ROW_CHARS, "i%u", ii);
    y[0] = constant_label >= 0.0f ? constant_label : (float)(1 + (uu * 7 + ii * 3) % 5);
}

/* ROWS rows drawn from `seed`; label: constant `label`, or (< 0) from the ids. */
static tfrs_dataset *make_dataset(uint32_t seed, float label)
{
    static const tu_column cols[] = {
        { "user_id", TFRS_COLUMN_STRING },
        { "item_id", TFRS_COLUMN_STRING },
        { "rating", TFRS_COLUMN_FLOAT },
    };
    tfrs_dataset *ds = NULL;

    constant_label = label;
    ck_assert_int_eq(tu_dataset_new(&ds, cols, TU_NELEM(cols), ROWS, rating_row, &seed), TFRS_OK);
    constant_label = -1.0f;
    return ds;
}

static tfrs_vocab *make_vocab(const char *prefix, int n)
{
    char buf[64][16];
    const char *toks[64];
    tfrs_vocab *v = NULL;

    for (int k = 0; k < n; k++) {
        snprintf(buf[k], sizeof(buf[k]), "%s%d", prefix, k);
        toks[k] = buf[k];
    }
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, (size_t)n, NULL), TFRS_OK);
    return v;
}

/* user (20 + OOV, dim 6), item (30 + OOV, dim 5), dense 16 relu (L2 0.001),
 * 1 linear; optimizer *o. */
static tfrs_model *new_model(const tfrs_optimizer_options *o)
{
    tfrs_vocab *vu = make_vocab("u", 20), *vi = make_vocab("i", 30);
    const tu_model_spec spec = {
        .seed = 99,
        .features = { { "user_id", vu, 6 }, { "item_id", vi, 5 } },
        .dense = { { 16, TFRS_ACT_RELU, 0.001f }, { 1, TFRS_ACT_LINEAR, 0.0f } },
        .label = "rating",
    };
    tfrs_model *m = NULL;

    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
    ck_assert_int_eq(tfrs_model_set_optimizer(m, o), TFRS_OK);
    return m;
}

static tfrs_fit_options fit_opts(int epochs)
{
    tfrs_fit_options fo;

    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.epochs = epochs;
    fo.batch_size = 32;
    fo.shuffle_seed = SHUFFLE_SEED;
    return fo;
}

/* Scores of every (user, item) pair of the vocabularies' ids: 21 x 31. */
#define NPAIRS (21 * 31)
static void all_scores(const tfrs_model *m, float *out)
{
    int32_t ids[2 * NPAIRS];

    for (int u = 0; u < 21; u++)
        for (int i = 0; i < 31; i++) {
            ids[2 * (u * 31 + i)] = u;
            ids[2 * (u * 31 + i) + 1] = i;
        }
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, NPAIRS, out), TFRS_OK);
}

static int same_scores(const tfrs_model *a, const tfrs_model *b)
{
    static float sa[NPAIRS], sb[NPAIRS];

    all_scores(a, sa);
    all_scores(b, sb);
    return memcmp(sa, sb, sizeof(sa)) == 0;
}

static tfrs_optimizer_options opt(tfrs_optimizer_kind kind, float lr)
{
    tfrs_optimizer_options o;

    ck_assert_int_eq(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION, kind),
                     TFRS_OK);
    o.learning_rate = lr;
    return o;
}

/* ---- schedules -------------------------------------------------------------- */

static float lr_at(const tfrs_optimizer_options *o, uint64_t step)
{
    float lr = -1.0f;

    ck_assert_int_eq(tfrs_optimizer_learning_rate(o, step, &lr), TFRS_OK);
    return lr;
}

/* |a - b| within 2 float ulps of b. */
static void near(float a, double b)
{
    ck_assert_msg(fabs((double)a - b) <= 2.0 * fabs(b) * 1.2e-7 + 1e-30,
                  "%.9g is not %.9g", (double)a, b);
}

START_TEST(schedule_closed_forms)
{
    const double pi = 3.14159265358979323846;
    tfrs_optimizer_options o = opt(TFRS_OPT_SGD, 0.1f);
    double lr = (double)0.1f;

    /* Constant: the learning rate itself, at any step. */
    ck_assert(lr_at(&o, 0) == 0.1f);
    ck_assert(lr_at(&o, UINT64_MAX - 1) == 0.1f);

    /* Exponential: lr * rate^(s / N). */
    o.schedule = TFRS_LR_EXPONENTIAL;
    o.decay_steps = 100;
    o.decay_rate = 0.5f;
    ck_assert(lr_at(&o, 0) == 0.1f);
    near(lr_at(&o, 50), lr * pow(0.5, 0.5));
    ck_assert(lr_at(&o, 100) == 0.05f);
    near(lr_at(&o, 250), lr * pow(0.5, 2.5));
    near(lr_at(&o, 1234567), lr * pow(0.5, 12345.67));  /* underflows to 0 */
    o.staircase = 1;
    ck_assert(lr_at(&o, 99) == 0.1f);
    ck_assert(lr_at(&o, 100) == 0.05f);
    ck_assert(lr_at(&o, 299) == 0.025f);
    o.decay_rate = 0.96f;
    near(lr_at(&o, 1000), lr * pow((double)0.96f, 10.0));

    /* Cosine: lr * ((1 - alpha) * 0.5 (1 + cos(pi min(s, N) / N)) + alpha). */
    o = opt(TFRS_OPT_SGD, 0.1f);
    o.schedule = TFRS_LR_COSINE;
    o.decay_steps = 40;
    ck_assert(lr_at(&o, 0) == 0.1f);
    near(lr_at(&o, 10), lr * 0.5 * (1.0 + cos(pi * 10.0 / 40.0)));
    near(lr_at(&o, 20), lr * 0.5);
    ck_assert(lr_at(&o, 40) == 0.0f);
    ck_assert(lr_at(&o, 400) == 0.0f);
    o.alpha = 0.25f;
    near(lr_at(&o, 13), lr * (0.75 * 0.5 * (1.0 + cos(pi * 13.0 / 40.0)) + 0.25));
    near(lr_at(&o, 40), lr * 0.25);
    near(lr_at(&o, 41), lr * 0.25);

    /* Warm-up: w0 + (lr - w0) s / W, then the curve from s - W. */
    o.warmup_steps = 8;
    o.warmup_initial_lr = 0.02f;
    ck_assert(lr_at(&o, 0) == 0.02f);
    near(lr_at(&o, 2), (double)0.02f + (lr - (double)0.02f) * 2.0 / 8.0);
    near(lr_at(&o, 7), (double)0.02f + (lr - (double)0.02f) * 7.0 / 8.0);
    ck_assert(lr_at(&o, 8) == 0.1f);
    near(lr_at(&o, 8 + 13), lr * (0.75 * 0.5 * (1.0 + cos(pi * 13.0 / 40.0)) + 0.25));
    near(lr_at(&o, 48), lr * 0.25);
    o.schedule = TFRS_LR_EXPONENTIAL;
    o.decay_rate = 0.5f;
    o.staircase = 0;
    near(lr_at(&o, 4), (double)0.02f + (lr - (double)0.02f) * 0.5);
    near(lr_at(&o, 8 + 20), lr * pow(0.5, 0.5));
    o.schedule = TFRS_LR_CONSTANT;
    o.warmup_initial_lr = 0.0f;
    near(lr_at(&o, 6), lr * 6.0 / 8.0);
    ck_assert(lr_at(&o, 9) == 0.1f);
}
END_TEST

/* The option structs as a caller compiled against version 1 of the header
 * has them. */
typedef struct optimizer_options_v1 {
    unsigned int        version;
    tfrs_optimizer_kind kind;
    float               learning_rate, initial_accumulator, epsilon, momentum, beta1, beta2;
} optimizer_options_v1;

typedef struct fit_options_v1 {
    unsigned int     version;
    int              epochs;
    size_t           batch_size;
    int              shuffle;
    uint64_t         shuffle_seed;
    tfrs_progress_fn progress;
    void            *payload;
    int              threads;
} fit_options_v1;

_Static_assert(sizeof(optimizer_options_v1) == offsetof(tfrs_optimizer_options, schedule),
               "version-1 optimizer options");
_Static_assert(sizeof(fit_options_v1) == offsetof(tfrs_fit_options, validation),
               "version-1 fit options");

/* Such a caller owns only the version-1 bytes: the library reads no more
 * than those (the blocks below are exactly that large, so a memory checker
 * sees any overread), and gives the later fields their defaults. */
START_TEST(version_1_structs)
{
    optimizer_options_v1 *o1 = malloc(sizeof(*o1));
    fit_options_v1 *f1 = malloc(sizeof(*f1));
    tfrs_optimizer_options *o1p = (tfrs_optimizer_options *)(void *)o1, o2;
    tfrs_fit_options *f1p = (tfrs_fit_options *)(void *)f1, f2;
    tfrs_dataset *ds = make_dataset(5, -1.0f);
    tfrs_model *a, *b;
    tfrs_metrics h1[2], h2[2];
    float lr;

    ck_assert(o1 != NULL && f1 != NULL);
    ck_assert_int_eq(tfrs_optimizer_options_init(o1p, 1, TFRS_OPT_ADAM), TFRS_OK);
    ck_assert_uint_eq(o1->version, 1);
    ck_assert(o1->learning_rate == 0.001f);
    ck_assert_int_eq(tfrs_optimizer_learning_rate(o1p, 123456, &lr), TFRS_OK);
    ck_assert(lr == 0.001f);
    ck_assert_int_eq(tfrs_fit_options_init(f1p, 1), TFRS_OK);
    ck_assert_int_eq(f1->epochs, 1);
    f1->epochs = 2;
    f1->shuffle_seed = SHUFFLE_SEED;

    o2 = opt(TFRS_OPT_ADAM, 0.001f);
    f2 = fit_opts(2);
    a = new_model(o1p);
    b = new_model(&o2);
    ck_assert_int_eq(tfrs_model_fit(a, ds, f1p, h1), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(b, ds, &f2, h2), TFRS_OK);
    ck_assert(same_scores(a, b));
    ck_assert_mem_eq(h1, h2, sizeof(h1));
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_dataset_free(ds);
    free(o1);
    free(f1);
}
END_TEST

/* ---- clipping ----------------------------------------------------------------- */

/* One feature "u" (a, b + OOV, dim 2), one linear unit: score = E[id] . W + b. */
static tfrs_model *tiny_model(const tfrs_optimizer_options *o)
{
    tfrs_vocab *v = make_vocab("t", 2);
    const tu_model_spec spec = {
        .seed = 3,
        .features = { { "u", v, 2 } },
        .dense = { { 1, TFRS_ACT_LINEAR, 0.0f } },
        .label = "y",
    };
    tfrs_model *m = NULL;

    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    tfrs_vocab_free(v);
    ck_assert_int_eq(tfrs_model_set_optimizer(m, o), TFRS_OK);
    return m;
}

/* E (3 x 2), W (2), b (1) of the tiny model, as doubles. */
static void tiny_weights(const tfrs_model *m, double *e, double *w, double *b)
{
    const float *ef = tfrs_embedding_weights(tfrs_model_feature_embedding(m, 0));
    const tfrs_dense *d = tfrs_model_dense(m, 0);

    for (int k = 0; k < 6; k++)
        e[k] = ef[k];
    w[0] = tfrs_dense_kernel(d)[0];
    w[1] = tfrs_dense_kernel(d)[1];
    *b = tfrs_dense_bias(d)[0];
}

/* One SGD step on the example (id 1, label 3) with clipnorm c (0: none):
 * the weights after it against the update computed by hand. */
static void check_tiny_step(float c, int expect_clipped)
{
    tfrs_optimizer_options o = opt(TFRS_OPT_SGD, 0.1f);
    const int32_t id = 1;
    const float y = 3.0f;
    double e[6], w[2], b, e1[6], w1[2], b1, p, dp, g[5], norm = 0.0, f = 1.0, moved = 0.0;
    tfrs_model *m;
    double loss;

    o.global_clipnorm = c;
    m = tiny_model(&o);
    tiny_weights(m, e, w, &b);
    p = e[2] * w[0] + e[3] * w[1] + b;
    dp = 2.0 * (p - y);                          /* d (p - y)^2 / dp */
    g[0] = e[2] * dp;                            /* W */
    g[1] = e[3] * dp;
    g[2] = dp;                                   /* b */
    g[3] = w[0] * dp;                            /* E[1] */
    g[4] = w[1] * dp;
    for (int k = 0; k < 5; k++)
        norm += g[k] * g[k];
    norm = sqrt(norm);
    if (c > 0.0f && norm > c)
        f = c / norm;
    ck_assert_int_eq(expect_clipped, f < 1.0);
    ck_assert_int_eq(tfrs_model_train_step(m, &id, &y, NULL, 1, &loss), TFRS_OK);
    tiny_weights(m, e1, w1, &b1);
    ck_assert(fabs(w1[0] - (w[0] - 0.1 * f * g[0])) < 1e-6);
    ck_assert(fabs(w1[1] - (w[1] - 0.1 * f * g[1])) < 1e-6);
    ck_assert(fabs(b1 - (b - 0.1 * f * g[2])) < 1e-6);
    ck_assert(fabs(e1[2] - (e[2] - 0.1 * f * g[3])) < 1e-6);
    ck_assert(fabs(e1[3] - (e[3] - 0.1 * f * g[4])) < 1e-6);
    /* Untouched rows do not move. */
    ck_assert(e1[0] == e[0] && e1[1] == e[1] && e1[4] == e[4] && e1[5] == e[5]);
    /* A clipped step moves the weights by exactly lr * clipnorm. */
    moved = pow(w1[0] - w[0], 2) + pow(w1[1] - w[1], 2) + pow(b1 - b, 2) +
            pow(e1[2] - e[2], 2) + pow(e1[3] - e[3], 2);
    if (expect_clipped)
        ck_assert(fabs(sqrt(moved) - 0.1 * c) < 1e-6);
    tfrs_model_free(m);
}

START_TEST(clip_tiny_sgd_step)
{
    check_tiny_step(0.05f, 1);
    check_tiny_step(0.5f, 1);
    check_tiny_step(1000.0f, 0);
    check_tiny_step(0.0f, 0);
}
END_TEST

/* Below the norm clipping changes no bit; above it, training differs. */
START_TEST(clip_inactive_below_norm)
{
    tfrs_dataset *ds = make_dataset(11, -1.0f);
    tfrs_fit_options fo = fit_opts(2);
    tfrs_optimizer_options o = opt(TFRS_OPT_ADAM, 0.01f);
    tfrs_model *plain, *loose, *tight;

    plain = new_model(&o);
    o.global_clipnorm = 1e30f;
    loose = new_model(&o);
    o.global_clipnorm = 0.01f;
    tight = new_model(&o);
    ck_assert_int_eq(tfrs_model_fit(plain, ds, &fo, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(loose, ds, &fo, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(tight, ds, &fo, NULL), TFRS_OK);
    ck_assert(same_scores(plain, loose));
    ck_assert(!same_scores(plain, tight));
    /* Multi-threaded steps clip their reduced gradients: the same bits from
     * run to run. */
    fo.threads = 2;
    tfrs_model_free(plain);
    tfrs_model_free(loose);
    plain = new_model(&o);
    loose = new_model(&o);
    ck_assert_int_eq(tfrs_model_fit(plain, ds, &fo, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(loose, ds, &fo, NULL), TFRS_OK);
    ck_assert(same_scores(plain, loose));
    tfrs_model_free(plain);
    tfrs_model_free(loose);
    tfrs_model_free(tight);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- early stopping ------------------------------------------------------------ */

typedef struct seen {
    int          calls, last_epoch, stopping_at;
    tfrs_metrics val[64];
    int          best[64];
    int          bad;
} seen;

static int progress(const tfrs_progress *pr, void *payload)
{
    seen *s = payload;

    if (!pr->end_of_epoch) {
        s->bad |= pr->has_validation;
        return 0;
    }
    s->calls++;
    s->last_epoch = pr->epoch;
    if (!pr->has_validation || pr->epoch > 64)
        s->bad = 1;
    else {
        s->val[pr->epoch - 1] = pr->validation;
        s->best[pr->epoch - 1] = pr->best_epoch;
    }
    if (pr->stopping)
        s->stopping_at = pr->epoch;
    return 0;
}

/* Training labels 4, validation labels 2 on the same pairs: the validation
 * loss falls while the predictions rise towards 2, then rises. */
START_TEST(early_stopping_restores_best)
{
    tfrs_dataset *tr = make_dataset(21, 4.0f), *va = make_dataset(21, 2.0f);
    tfrs_optimizer_options o = opt(TFRS_OPT_SGD, 0.002f);
    tfrs_fit_options fo = fit_opts(60);
    tfrs_metrics hist[60], vh[60], again;
    tfrs_model *m = new_model(&o), *ref, *last;
    seen s = { 0 };
    int ran = -1, best = -1, argmin = 0;

    memset(vh, 0, sizeof(vh));
    fo.validation = va;
    fo.validation_history = vh;
    fo.early_stopping = 1;
    fo.patience = 3;
    fo.restore_best_weights = 1;
    fo.epochs_run = &ran;
    fo.best_epoch = &best;
    fo.progress = progress;
    fo.payload = &s;
    ck_assert_int_eq(tfrs_model_fit(m, tr, &fo, hist), TFRS_OK);
    if (getenv("TFRS_TEST_VERBOSE") != NULL)
        for (int e = 0; e < ran; e++)
            fprintf(stderr, "epoch %d: loss %.6f, validation loss %.6f\n", e + 1,
                    hist[e].loss, vh[e].loss);
    /* The best epoch is the validation minimum, and fit stopped `patience`
     * epochs later, well before 60. */
    for (int e = 1; e < ran; e++)
        if (vh[e].loss < vh[argmin].loss)
            argmin = e;
    ck_assert_int_gt(best, 2);
    ck_assert_int_eq(best, argmin + 1);
    ck_assert_int_eq(ran, best + 3);
    ck_assert_int_lt(ran, 60);
    for (int e = best; e < ran; e++)
        ck_assert(vh[e].loss > vh[e - 1].loss);
    /* The progress callback saw each epoch's validation metrics. */
    ck_assert_int_eq(s.bad, 0);
    ck_assert_int_eq(s.calls, ran);
    ck_assert_int_eq(s.stopping_at, ran);
    ck_assert_mem_eq(s.val, vh, (size_t)ran * sizeof(vh[0]));
    ck_assert_int_eq(s.best[ran - 1], best);
    ck_assert_int_eq(s.best[best - 1], best);
    /* The restored weights are those of a model trained exactly `best`
     * epochs with the same seed; their evaluation is the best epoch's. */
    fo = fit_opts(best);
    ref = new_model(&o);
    ck_assert_int_eq(tfrs_model_fit(ref, tr, &fo, NULL), TFRS_OK);
    ck_assert(same_scores(m, ref));
    ck_assert_int_eq(tfrs_model_evaluate(m, va, 32, &again), TFRS_OK);
    ck_assert_mem_eq(&again, &vh[best - 1], sizeof(again));
    /* Without restore, the weights are the last epoch's. */
    fo = fit_opts(60);
    fo.validation = va;
    fo.early_stopping = 1;
    fo.patience = 3;
    last = new_model(&o);
    ck_assert_int_eq(tfrs_model_fit(last, tr, &fo, NULL), TFRS_OK);
    tfrs_model_free(ref);
    fo = fit_opts(ran);
    ref = new_model(&o);
    ck_assert_int_eq(tfrs_model_fit(ref, tr, &fo, NULL), TFRS_OK);
    ck_assert(same_scores(last, ref));
    ck_assert(!same_scores(last, m));
    tfrs_model_free(ref);
    tfrs_model_free(last);
    tfrs_model_free(m);
    tfrs_dataset_free(tr);
    tfrs_dataset_free(va);
}
END_TEST

/* Keras' counting: patience 0 and 1 both stop at the first epoch without
 * improvement; min_delta makes small improvements not count; without
 * early_stopping every epoch runs and best_epoch is still reported. */
START_TEST(early_stopping_counting)
{
    tfrs_dataset *tr = make_dataset(21, 4.0f), *va = make_dataset(21, 2.0f);
    tfrs_optimizer_options o = opt(TFRS_OPT_SGD, 0.002f);
    tfrs_fit_options fo;
    tfrs_metrics vh[60];
    int ran = 0, best = 0, ran0 = 0, best0 = 0;

    for (int patience = 0; patience <= 1; patience++) {
        tfrs_model *m = new_model(&o);
        fo = fit_opts(60);
        fo.validation = va;
        fo.validation_history = vh;
        fo.early_stopping = 1;
        fo.patience = patience;
        fo.epochs_run = &ran;
        fo.best_epoch = &best;
        ck_assert_int_eq(tfrs_model_fit(m, tr, &fo, NULL), TFRS_OK);
        ck_assert_int_eq(ran, best + 1);
        if (patience == 0) {
            ran0 = ran;
            best0 = best;
        } else {
            ck_assert_int_eq(ran, ran0);
            ck_assert_int_eq(best, best0);
        }
        tfrs_model_free(m);
    }
    {
        /* A min_delta larger than any change: only the first epoch counts. */
        tfrs_model *m = new_model(&o);
        fo.min_delta = 1e6;
        fo.patience = 2;
        ck_assert_int_eq(tfrs_model_fit(m, tr, &fo, NULL), TFRS_OK);
        ck_assert_int_eq(best, 1);
        ck_assert_int_eq(ran, 3);
        tfrs_model_free(m);
    }
    {
        tfrs_model *m = new_model(&o);
        fo.min_delta = 0.0;
        fo.early_stopping = 0;
        fo.epochs = best0 + 5;
        ck_assert_int_eq(tfrs_model_fit(m, tr, &fo, NULL), TFRS_OK);
        ck_assert_int_eq(ran, best0 + 5);
        ck_assert_int_eq(best, best0);
        tfrs_model_free(m);
    }
    tfrs_dataset_free(tr);
    tfrs_dataset_free(va);
}
END_TEST

/* ---- checkpoints and the model file ------------------------------------------- */

static unsigned char *save_bytes(const tfrs_model *m, unsigned flags, const char *name,
                                 size_t *len)
{
    const char *path = tu_tmp_path(name);

    ck_assert_int_eq(tfrs_model_save(m, path, flags), TFRS_OK);
    return tu_read_file(path, len);
}

/* Fit 2 epochs, save a checkpoint, load it, fit 2 more: the same file bytes
 * and scores as 4 epochs at once, with the schedule and clipping on. */
static void resume_mid_schedule(const tfrs_optimizer_options *o)
{
    tfrs_dataset *ds = make_dataset(31, -1.0f);
    tfrs_fit_options f2 = fit_opts(2), f4 = fit_opts(4);
    tfrs_model *a = new_model(o), *b = NULL, *c = new_model(o);
    unsigned char *ba, *bc;
    size_t la, lc;

    ck_assert_int_eq(tfrs_model_fit(a, ds, &f2, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_save(a, tu_tmp_path("half.tfrs"), TFRS_SAVE_OPTIMIZER), TFRS_OK);
    tfrs_model_free(a);
    ck_assert_int_eq(tfrs_model_load(&b, tu_tmp_path("half.tfrs")), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(b, ds, &f2, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_fit(c, ds, &f4, NULL), TFRS_OK);
    ck_assert(same_scores(b, c));
    ba = save_bytes(b, TFRS_SAVE_OPTIMIZER, "b.tfrs", &la);
    bc = save_bytes(c, TFRS_SAVE_OPTIMIZER, "c.tfrs", &lc);
    ck_assert_uint_eq(la, lc);
    ck_assert_mem_eq(ba, bc, la);
    free(ba);
    free(bc);
    tfrs_model_free(b);
    tfrs_model_free(c);
    tfrs_dataset_free(ds);
}

START_TEST(checkpoint_mid_schedule)
{
    /* 300 rows in batches of 32: 10 steps an epoch, 40 in all; the
     * checkpoint at step 20 is mid-decay. */
    tfrs_optimizer_options o = opt(TFRS_OPT_ADAM, 0.02f);

    o.schedule = TFRS_LR_COSINE;
    o.decay_steps = 30;
    o.alpha = 0.1f;
    o.warmup_steps = 6;
    o.warmup_initial_lr = 0.001f;
    o.global_clipnorm = 0.5f;
    resume_mid_schedule(&o);
    o = opt(TFRS_OPT_ADAGRAD, 0.1f);
    o.schedule = TFRS_LR_EXPONENTIAL;
    o.decay_steps = 7;
    o.decay_rate = 0.8f;
    o.staircase = 1;
    o.global_clipnorm = 1.0f;
    resume_mid_schedule(&o);
}
END_TEST

/* Replaces the first occurrence of `from` in buf by `to` (same length). */
static void patch(unsigned char *buf, size_t len, const char *from, const char *to)
{
    size_t n = strlen(from);

    ck_assert_uint_eq(strlen(to), n);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            return;
        }
    ck_abort_msg("'%s' not found in the file", from);
}

static int contains(const unsigned char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, s, n) == 0)
            return 1;
    return 0;
}

START_TEST(file_record)
{
    static const char *const keys[] = { "schedule", "decay_steps", "decay_rate", "staircase",
                                        "alpha", "warmup_steps", "warmup_initial_lr",
                                        "global_clipnorm" };
    tfrs_optimizer_options o = opt(TFRS_OPT_SGD, 0.05f), o1, back;
    tfrs_model *plain, *v1, *sched, *l = NULL;
    unsigned char *bp, *b1, *bs;
    size_t lp, l1, ls;
    float lr_saved;

    /* Settings at their defaults write no key: the same bytes as options
     * of version 1, which have none of them. */
    ck_assert_int_eq(tfrs_optimizer_options_init(&o1, 1, TFRS_OPT_SGD), TFRS_OK);
    o1.learning_rate = 0.05f;
    plain = new_model(&o);
    v1 = new_model(&o1);
    bp = save_bytes(plain, TFRS_SAVE_OPTIMIZER, "plain.tfrs", &lp);
    b1 = save_bytes(v1, TFRS_SAVE_OPTIMIZER, "v1.tfrs", &l1);
    ck_assert_uint_eq(lp, l1);
    ck_assert_mem_eq(bp, b1, lp);
    for (size_t k = 0; k < TU_NELEM(keys); k++)
        ck_assert(!contains(bp, lp, keys[k]));

    /* Every key is written when set and read back exactly. */
    o.schedule = TFRS_LR_EXPONENTIAL;
    o.decay_steps = 30;
    o.decay_rate = 0.75f;
    o.staircase = 1;
    o.alpha = 0.5f;
    o.warmup_steps = 12345678901234ull;
    o.warmup_initial_lr = 0.001f;
    o.global_clipnorm = 2.5f;
    sched = new_model(&o);
    bs = save_bytes(sched, 0, "sched.tfrs", &ls);
    for (size_t k = 0; k < TU_NELEM(keys); k++)
        ck_assert_msg(contains(bs, ls, keys[k]), "%s", keys[k]);
    ck_assert_int_eq(tfrs_model_load_buffer(&l, bs, ls), TFRS_OK);
    tfrs_model_free(l);
    l = NULL;
    /* A loaded model's schedule: the file written again is the same. */
    {
        unsigned char *again;
        size_t la;

        ck_assert_int_eq(tfrs_model_load_buffer(&l, bs, ls), TFRS_OK);
        again = save_bytes(l, 0, "again.tfrs", &la);
        ck_assert_uint_eq(la, ls);
        ck_assert_mem_eq(again, bs, ls);
        free(again);
        tfrs_model_free(l);
        l = NULL;
    }
    back = o;
    ck_assert_int_eq(tfrs_optimizer_learning_rate(&back, 12345678901234ull + 65, &lr_saved),
                     TFRS_OK);
    ck_assert(lr_saved == (float)((double)0.05f * 0.75 * 0.75));

    /* Bad values in a file are format errors. */
    {
        static const char *const bad[][2] = {
            { "\\\"decay_steps\\\":\\\"30\\\"", "\\\"decay_steps\\\":\\\"00\\\"" },
            { "\\\"decay_rate\\\":\\\"0.75\\\"", "\\\"decay_rate\\\":\\\"1.75\\\"" },
            { "\\\"alpha\\\":\\\"0.5\\\"", "\\\"alpha\\\":\\\"1.5\\\"" },
            { "\\\"schedule\\\":\\\"exponential\\\"", "\\\"schedule\\\":\\\"exponentiaL\\\"" },
            { "\\\"staircase\\\":true", "\\\"staircase\\\":1234" },
            { "\\\"global_clipnorm\\\":\\\"2.5\\\"", "\\\"global_clipnorm\\\":\\\"-25\\\"" },
            { "\\\"warmup_steps\\\":\\\"1", "\\\"warmup_steps\\\":\\\"x" },
            { "\\\"warmup_initial_lr\\\":\\\"0", "\\\"warmup_initial_lr\\\":\\\"-" },
        };
        for (size_t k = 0; k < TU_NELEM(bad); k++) {
            unsigned char *copy = malloc(ls);
            int rc;

            ck_assert_ptr_nonnull(copy);
            memcpy(copy, bs, ls);
            patch(copy, ls, bad[k][0], bad[k][1]);
            l = (tfrs_model *)copy;
            rc = tfrs_model_load_buffer(&l, copy, ls);
            ck_assert_msg(rc == TFRS_EFORMAT, "%s: %d %s", bad[k][1], rc, tfrs_last_error());
            ck_assert_ptr_null(l);
            free(copy);
        }
    }
    free(bp);
    free(b1);
    free(bs);
    tfrs_model_free(plain);
    tfrs_model_free(v1);
    tfrs_model_free(sched);
}
END_TEST

static Suite *training_controls_suite(void)
{
    Suite *s = suite_create("training-controls");
    TCase *tc = tu_tcase(s, "schedules, clipping, early stopping, files",
                         schedule_closed_forms, version_1_structs, clip_tiny_sgd_step,
                         clip_inactive_below_norm, early_stopping_restores_best,
                         early_stopping_counting, checkpoint_mid_schedule, file_record);

    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    return s;
}

int main(void)
{
    return tu_run(training_controls_suite());
}
