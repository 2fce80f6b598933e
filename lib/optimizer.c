/*
 * optimizer.c - Adagrad, SGD and Adam over the model's parameter blocks.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Updates follow tf.keras' optimizer_v2 kernels (ApplyAdagradV2,
 * ApplyGradientDescent / ApplyMomentum with Keras' velocity form, ApplyAdam).
 * Embedding blocks update only the rows touched in the batch.  A step runs
 * in two passes: the first computes every new value and checks that it is
 * finite without writing anything, the second writes.  The arithmetic of
 * both passes is the same function, so a step that passes the check writes
 * exactly the values that were checked.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"
#include "util/status.h"
#include "embedding.h"
#include "optimizer.h"

#define TFRS__PI 3.14159265358979323846

typedef struct step_consts {
    tfrs_optimizer_kind kind;
    float lr, eps, momentum, b1, b2;
    float lr_t;   /* Adam: lr * sqrt(1 - b2^t) / (1 - b1^t) */
} step_consts;

/* tf.keras' defaults for every kind; the learning rate depends on the kind. */
static const tfrs_optimizer_options optimizer_defaults = {
    .initial_accumulator = 0.1f, .epsilon = 1e-7f, .momentum = 0.0f, .beta1 = 0.9f,
    .beta2 = 0.999f,
};

/* Bytes of the options struct that callers of `version` hold (the fields
 * of later versions are appended after them). */
static size_t options_size(unsigned int version)
{
    return version == 1 ? offsetof(tfrs_optimizer_options, schedule)
                        : sizeof(tfrs_optimizer_options);
}

int tfrs_optimizer_options_init(tfrs_optimizer_options *opts, unsigned int version,
                                tfrs_optimizer_kind kind)
{
    int rc = tfrs__options_init(opts, &optimizer_defaults, options_size(version), version,
                                TFRS_OPTIMIZER_OPTIONS_VERSION, "tfrs_optimizer_options_init");

    if (rc != TFRS_OK)
        return rc;
    opts->kind = kind;
    switch (kind) {
    case TFRS_OPT_ADAGRAD: opts->learning_rate = 0.001f; break;
    case TFRS_OPT_SGD:     opts->learning_rate = 0.01f;  break;
    case TFRS_OPT_ADAM:    opts->learning_rate = 0.001f; break;
    default:
        return tfrs__fail(TFRS_EINVAL, "tfrs_optimizer_options_init: unknown kind %d", (int)kind);
    }
    return TFRS_OK;
}

/* Checks of the version-2 fields (their defaults pass). */
static int check_schedule(const tfrs_optimizer_options *o)
{
    if (o->schedule != TFRS_LR_CONSTANT && o->schedule != TFRS_LR_EXPONENTIAL &&
        o->schedule != TFRS_LR_COSINE)
        return tfrs__fail(TFRS_EINVAL, "optimizer: unknown learning-rate schedule %d",
                          (int)o->schedule);
    if (!isfinite(o->decay_rate) || !isfinite(o->alpha) || !isfinite(o->warmup_initial_lr) ||
        !isfinite(o->global_clipnorm))
        return tfrs__fail(TFRS_EINVAL, "optimizer: decay_rate, alpha, warmup_initial_lr and "
                          "global_clipnorm must be finite");
    if (o->decay_rate < 0.0f || o->warmup_initial_lr < 0.0f || o->global_clipnorm < 0.0f)
        return tfrs__fail(TFRS_EINVAL, "optimizer: decay_rate, warmup_initial_lr and "
                          "global_clipnorm must be >= 0 (global_clipnorm 0: no clipping)");
    if (!(o->alpha >= 0.0f && o->alpha <= 1.0f))
        return tfrs__fail(TFRS_EINVAL, "optimizer: alpha must be in [0, 1]");
    if (o->staircase != 0 && o->staircase != 1)
        return tfrs__fail(TFRS_EINVAL, "optimizer: staircase must be 0 or 1");
    if (o->schedule != TFRS_LR_CONSTANT && o->decay_steps == 0)
        return tfrs__fail(TFRS_EINVAL, "optimizer: the %s schedule needs decay_steps > 0",
                          o->schedule == TFRS_LR_COSINE ? "cosine" : "exponential");
    if (o->schedule == TFRS_LR_EXPONENTIAL && !(o->decay_rate > 0.0f && o->decay_rate <= 1.0f))
        return tfrs__fail(TFRS_EINVAL, "optimizer: the exponential schedule needs decay_rate "
                          "in (0, 1]");
    return TFRS_OK;
}

int tfrs__optimizer_options_check(const tfrs_optimizer_options *o)
{
    if (o->version == 0 || o->version > TFRS_OPTIMIZER_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "optimizer: unknown options version %u", o->version);
    if (o->kind != TFRS_OPT_ADAGRAD && o->kind != TFRS_OPT_SGD && o->kind != TFRS_OPT_ADAM)
        return tfrs__fail(TFRS_EINVAL, "optimizer: unknown kind %d", (int)o->kind);
    if (!(o->learning_rate > 0.0f) || !isfinite(o->learning_rate))
        return tfrs__fail(TFRS_EINVAL, "optimizer: learning_rate must be finite and > 0");
    if (o->kind == TFRS_OPT_ADAGRAD && (!(o->initial_accumulator >= 0.0f) ||
                                        !isfinite(o->initial_accumulator)))
        return tfrs__fail(TFRS_EINVAL, "optimizer: initial_accumulator must be finite and >= 0");
    if (o->kind != TFRS_OPT_SGD && (!(o->epsilon >= 0.0f) || !isfinite(o->epsilon)))
        return tfrs__fail(TFRS_EINVAL, "optimizer: epsilon must be finite and >= 0");
    /* g / (sqrt(acc) + eps) with both 0 is 0/0 for every zero gradient,
     * so every step would be refused as non-finite. */
    if (o->kind == TFRS_OPT_ADAGRAD && o->initial_accumulator == 0.0f && o->epsilon == 0.0f)
        return tfrs__fail(TFRS_EINVAL, "optimizer: Adagrad with initial_accumulator 0 and "
                          "epsilon 0 divides 0 by 0 on a zero gradient, so no step could "
                          "succeed; make one of them > 0");
    if (o->kind == TFRS_OPT_SGD && !(o->momentum >= 0.0f && o->momentum < 1.0f))
        return tfrs__fail(TFRS_EINVAL, "optimizer: momentum must be in [0, 1)");
    if (o->kind == TFRS_OPT_ADAM && !(o->beta1 >= 0.0f && o->beta1 < 1.0f &&
                                      o->beta2 >= 0.0f && o->beta2 < 1.0f))
        return tfrs__fail(TFRS_EINVAL, "optimizer: beta1 and beta2 must be in [0, 1)");
    /* A version-1 struct has no schedule fields (tfrs__optimizer_options_read
     * gives it their defaults). */
    return o->version >= 2 ? check_schedule(o) : TFRS_OK;
}

int tfrs__optimizer_options_read(const tfrs_optimizer_options *in, tfrs_optimizer_options *out)
{
    if (in->version == 0 || in->version > TFRS_OPTIMIZER_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "optimizer: unknown options version %u", in->version);
    *out = optimizer_defaults;
    memcpy(out, in, options_size(in->version));
    return tfrs__optimizer_options_check(out);
}

float tfrs__optimizer_lr(const tfrs_optimizer_options *o, uint64_t step)
{
    double lr = o->learning_rate, n = (double)o->decay_steps, t, p, c;

    if (step < o->warmup_steps) {
        double w0 = o->warmup_initial_lr;
        return (float)(w0 + (lr - w0) * ((double)step / (double)o->warmup_steps));
    }
    t = (double)(step - o->warmup_steps);
    switch (o->schedule) {
    case TFRS_LR_EXPONENTIAL:
        p = o->staircase ? (double)((step - o->warmup_steps) / o->decay_steps) : t / n;
        return (float)(lr * pow((double)o->decay_rate, p));
    case TFRS_LR_COSINE:
        c = 0.5 * (1.0 + cos(TFRS__PI * (t < n ? t : n) / n));
        return (float)(lr * ((1.0 - (double)o->alpha) * c + (double)o->alpha));
    case TFRS_LR_CONSTANT:
        break;
    }
    return o->learning_rate;
}

int tfrs_optimizer_learning_rate(const tfrs_optimizer_options *opts, uint64_t step,
                                 float *lr_out)
{
    tfrs_optimizer_options o;
    int rc;

    if (opts == NULL || lr_out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_optimizer_learning_rate: opts and lr_out are "
                          "required");
    if ((rc = tfrs__optimizer_options_read(opts, &o)) != TFRS_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        return tfrs__fail(rc, "tfrs_optimizer_learning_rate: %s", msg);
    }
    *lr_out = tfrs__optimizer_lr(&o, step);
    return TFRS_OK;
}

int tfrs__optimizer_num_slots(tfrs_optimizer_kind kind)
{
    switch (kind) {
    case TFRS_OPT_ADAGRAD: return 1;
    case TFRS_OPT_SGD:     return 1;  /* velocity, unused when momentum = 0 */
    case TFRS_OPT_ADAM:    return 2;
    }
    return 0;
}

const char *tfrs__optimizer_slot_name(tfrs_optimizer_kind kind, int s)
{
    switch (kind) {
    case TFRS_OPT_ADAGRAD: return "accumulator";
    case TFRS_OPT_SGD:     return "velocity";
    case TFRS_OPT_ADAM:    return s == 0 ? "m" : "v";
    }
    return "slot";
}

void tfrs__optimizer_free(tfrs__optimizer *opt)
{
    tfrs__free(opt->backup);
    opt->backup = NULL;
    opt->backup_cap = 0;
    opt->steps = 0;
}

/* All or nothing: every new slot is allocated before any old one is freed,
 * so that on failure the table keeps its previous, valid slots. */
int tfrs__optimizer_init_slots(tfrs__optimizer *opt, tfrs__params *t)
{
    int nslots = tfrs__optimizer_num_slots(opt->o.kind);
    float **fresh = tfrs__calloc(t->n == 0 ? 1 : t->n, 2 * sizeof(float *));

    if (fresh == NULL)
        return tfrs__fail(TFRS_ENOMEM, "optimizer: out of memory for slots");
    for (size_t i = 0; i < t->n; i++) {
        for (int s = 0; s < nslots; s++) {
            fresh[2 * i + (size_t)s] = tfrs__calloc(t->p[i].n, sizeof(float));
            if (fresh[2 * i + (size_t)s] == NULL)
                goto nomem;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        tfrs__param *p = &t->p[i];
        for (int s = 0; s < 2; s++) {
            tfrs__free(p->slot[s]);
            p->slot[s] = fresh[2 * i + (size_t)s];
        }
        if (opt->o.kind == TFRS_OPT_ADAGRAD)
            for (size_t j = 0; j < p->n; j++)
                p->slot[0][j] = opt->o.initial_accumulator;
    }
    tfrs__free(fresh);
    opt->steps = 0;
    return TFRS_OK;
nomem:
    for (size_t k = 0; k < 2 * t->n; k++)
        tfrs__free(fresh[k]);
    tfrs__free(fresh);
    return tfrs__fail(TFRS_ENOMEM, "optimizer: out of memory for slots");
}

/* 1 if v is neither NaN nor infinite; branch-free so that loops vectorize. */
static inline int finite1(float v)
{
    return fabsf(v) <= FLT_MAX;
}

/* Updates n contiguous values (or, with apply = 0, only checks that the
 * update would be finite).  Returns 1 if every new value is finite.  The
 * loops are written without branches so that the compiler vectorizes them
 * (sqrtf is vectorizable because the library is built -fno-math-errno). */
static int update_span(const step_consts *c, float *restrict w, const float *restrict g,
                       float *restrict s0, float *restrict s1, size_t n, int apply)
{
    const float lr = c->lr, eps = c->eps, mom = c->momentum, b1 = c->b1, b2 = c->b2;
    const float lr_t = c->lr_t;
    int ok = 1;

    switch (c->kind) {
    case TFRS_OPT_ADAGRAD:
        if (apply) {
            for (size_t i = 0; i < n; i++) {
                float acc = s0[i] + g[i] * g[i];
                s0[i] = acc;
                w[i] = w[i] - lr * g[i] / (sqrtf(acc) + eps);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                float acc = s0[i] + g[i] * g[i];
                float nw = w[i] - lr * g[i] / (sqrtf(acc) + eps);
                ok &= finite1(acc) & finite1(nw);
            }
        }
        break;
    case TFRS_OPT_SGD:
        if (mom == 0.0f) {
            if (apply) {
                for (size_t i = 0; i < n; i++)
                    w[i] = w[i] - lr * g[i];
            } else {
                for (size_t i = 0; i < n; i++)
                    ok &= finite1(w[i] - lr * g[i]);
            }
        } else if (apply) {
            for (size_t i = 0; i < n; i++) {
                float v = mom * s0[i] - lr * g[i];
                s0[i] = v;
                w[i] = w[i] + v;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                float v = mom * s0[i] - lr * g[i];
                ok &= finite1(v) & finite1(w[i] + v);
            }
        }
        break;
    case TFRS_OPT_ADAM:
        if (apply) {
            for (size_t i = 0; i < n; i++) {
                float m = b1 * s0[i] + (1.0f - b1) * g[i];
                float v = b2 * s1[i] + (1.0f - b2) * g[i] * g[i];
                s0[i] = m;
                s1[i] = v;
                w[i] = w[i] - lr_t * m / (sqrtf(v) + eps);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                float m = b1 * s0[i] + (1.0f - b1) * g[i];
                float v = b2 * s1[i] + (1.0f - b2) * g[i] * g[i];
                float nw = w[i] - lr_t * m / (sqrtf(v) + eps);
                ok &= finite1(m) & finite1(v) & finite1(nw);
            }
        }
        break;
    }
    return ok;
}

/* Copies the row's weights and slots to/from the backup at *pos. */
static void row_copy(tfrs__param *p, size_t off, int nslots, float *backup, size_t *pos,
                     int save)
{
    size_t dim = p->emb->dim;
    float *parts[3] = { p->w, p->slot[0], p->slot[1] };

    for (int k = 0; k <= nslots; k++) {
        if (save)
            memcpy(backup + *pos, parts[k] + off, dim * sizeof(float));
        else
            memcpy(parts[k] + off, backup + *pos, dim * sizeof(float));
        *pos += dim;
    }
}

/* Updates the touched rows of every sparse block in one sweep, row by row
 * (each row is checked while it is in cache, saved to the backup, then
 * written).  If a row's update is not finite, every row written so far is
 * restored from the backup and 0 is returned. */
static int update_sparse(const step_consts *c, tfrs__optimizer *opt, tfrs__params *tab,
                         int nslots)
{
    size_t pos = 0;

    for (size_t i = 0; i < tab->n; i++) {
        tfrs__param *p = &tab->p[i];
        if (p->emb == NULL)
            continue;
        for (size_t t = 0; t < p->emb->ntouched; t++) {
            size_t off = (size_t)p->emb->touched[t] * p->emb->dim;
            float *s0 = p->slot[0] != NULL ? p->slot[0] + off : NULL;
            float *s1 = p->slot[1] != NULL ? p->slot[1] + off : NULL;
            if (t + TFRS__PREFETCH_AHEAD < p->emb->ntouched) {
                size_t ahead = (size_t)p->emb->touched[t + TFRS__PREFETCH_AHEAD] * p->emb->dim;
                size_t bytes = p->emb->dim * sizeof(float);
                TFRS__PREFETCH_ROW(p->w + ahead, bytes);
                TFRS__PREFETCH_ROW(p->g + ahead, bytes);
                for (int k = 0; k < nslots; k++)
                    TFRS__PREFETCH_ROW(p->slot[k] + ahead, bytes);
            }
            if (!update_span(c, p->w + off, p->g + off, s0, s1, p->emb->dim, 0)) {
                /* Undo, in the same order as done. */
                size_t back = 0;
                for (size_t i2 = 0; i2 <= i; i2++) {
                    tfrs__param *q = &tab->p[i2];
                    size_t rows = i2 < i ? (q->emb != NULL ? q->emb->ntouched : 0) : t;
                    for (size_t t2 = 0; t2 < rows; t2++)
                        row_copy(q, (size_t)q->emb->touched[t2] * q->emb->dim, nslots,
                                 opt->backup, &back, 0);
                }
                return 0;
            }
            row_copy(p, off, nslots, opt->backup, &pos, 1);
            update_span(c, p->w + off, p->g + off, s0, s1, p->emb->dim, 1);
        }
    }
    return 1;
}

/* Floats of backup that updating the sparse blocks needs now. */
static size_t backup_need(const tfrs__params *tab, int nslots)
{
    size_t need = 0;

    for (size_t i = 0; i < tab->n; i++) {
        const tfrs__param *p = &tab->p[i];
        if (p->emb != NULL)
            need += p->emb->ntouched * p->emb->dim * (size_t)(1 + nslots);
    }
    return need;
}

int tfrs__optimizer_reserve(tfrs__optimizer *opt, const tfrs__params *tab, size_t batch_rows)
{
    int nslots = tfrs__optimizer_num_slots(opt->o.kind);
    size_t need = 0;

    for (size_t i = 0; i < tab->n; i++) {
        const tfrs__param *p = &tab->p[i];
        if (p->emb != NULL) {
            size_t rows = batch_rows < p->emb->rows ? batch_rows : p->emb->rows;
            need += rows * p->emb->dim * (size_t)(1 + nslots);
        }
    }
    if (TFRS__GROW(opt->backup, opt->backup_cap, need) < 0)
        return tfrs__fail(TFRS_ENOMEM, "optimizer: out of memory for the update backup");
    return TFRS_OK;
}

int tfrs__optimizer_step(tfrs__optimizer *opt, tfrs__params *tab)
{
    int nslots = tfrs__optimizer_num_slots(opt->o.kind);
    step_consts c;
    int ok = 1;

    c.kind = opt->o.kind;
    c.lr = tfrs__optimizer_lr(&opt->o, opt->steps);
    c.eps = opt->o.epsilon;
    c.momentum = opt->o.momentum;
    c.b1 = opt->o.beta1;
    c.b2 = opt->o.beta2;
    c.lr_t = c.lr;
    if (c.kind == TFRS_OPT_ADAM) {
        double t = (double)opt->steps + 1.0;   /* never 0: no 0/0 below */
        c.lr_t = (float)(c.lr * sqrt(1.0 - pow(c.b2, t)) / (1.0 - pow(c.b1, t)));
    }
    if (TFRS__GROW(opt->backup, opt->backup_cap, backup_need(tab, nslots)) < 0)
        return tfrs__fail(TFRS_ENOMEM, "optimizer: out of memory for the update backup");
    /* Dense blocks are small and stay in cache: check them all, then the
     * sparse rows (undone on failure), then write the dense blocks. */
    for (size_t i = 0; i < tab->n; i++)
        if (tab->p[i].emb == NULL)
            ok &= update_span(&c, tab->p[i].w, tab->p[i].g, tab->p[i].slot[0],
                              tab->p[i].slot[1], tab->p[i].n, 0);
    if (!ok || !update_sparse(&c, opt, tab, nslots))
        return tfrs__fail(TFRS_ENONFINITE,
                          "optimizer: the update would make a parameter non-finite; "
                          "step skipped, parameters unchanged (learning rate too large?)");
    for (size_t i = 0; i < tab->n; i++)
        if (tab->p[i].emb == NULL)
            update_span(&c, tab->p[i].w, tab->p[i].g, tab->p[i].slot[0], tab->p[i].slot[1],
                        tab->p[i].n, 1);
    /* The counter stops one short of 2^64 - 1, which a file may not hold
     * (model_file.c): it would wrap on the next step.  Adam's bias
     * correction is 1 to the last bit long before. */
    if (opt->steps < TFRS__STEPS_MAX)
        opt->steps++;
    return TFRS_OK;
}

/* Sum of squares of n gradient values, in order, in double. */
static double sum_squares(const float *g, size_t n)
{
    double s = 0.0;

    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * (double)g[i];
    return s;
}

static void scale_span(float *g, size_t n, float f)
{
    for (size_t i = 0; i < n; i++)
        g[i] *= f;
}

int tfrs__optimizer_clip(const tfrs__optimizer *opt, tfrs__params *tab)
{
    double ss = 0.0, norm, clip = opt->o.global_clipnorm;
    float f;

    if (!(clip > 0.0))
        return TFRS_OK;
    /* One order (table order; a table's touched rows in touched order), so
     * that the norm, and the step, are the same bits on every run. */
    for (size_t i = 0; i < tab->n; i++) {
        const tfrs__param *p = &tab->p[i];
        if (p->emb == NULL) {
            ss += sum_squares(p->g, p->n);
            continue;
        }
        for (size_t t = 0; t < p->emb->ntouched; t++)
            ss += sum_squares(p->g + (size_t)p->emb->touched[t] * p->emb->dim, p->emb->dim);
    }
    norm = sqrt(ss);
    if (!isfinite(norm))
        return tfrs__fail(TFRS_ENONFINITE, "optimizer: the gradient norm is not finite; "
                          "step skipped, parameters unchanged");
    if (norm <= clip)
        return TFRS_OK;
    f = (float)(clip / norm);
    for (size_t i = 0; i < tab->n; i++) {
        tfrs__param *p = &tab->p[i];
        if (p->emb == NULL) {
            scale_span(p->g, p->n, f);
            continue;
        }
        for (size_t t = 0; t < p->emb->ntouched; t++)
            scale_span(p->g + (size_t)p->emb->touched[t] * p->emb->dim, p->emb->dim, f);
    }
    return TFRS_OK;
}
