/*
 * ranking.c - the ranking task: batch losses with gradients, pass metrics.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Losses follow Keras with the SUM_OVER_BATCH_SIZE reduction:
 * loss = sum_i w_i l_i / n.  Sums are accumulated in double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "ranking.h"

/* Keras backend.epsilon(), used by BCE on probabilities. */
#define BCE_EPS 1e-7f

typedef struct auc_item {
    float p;   /* prediction */
    float w;   /* weight     */
    float y;   /* 0 or 1     */
} auc_item;

struct tfrs_ranking_task {
    tfrs_task_options o;
    size_t            examples;
    double            loss_sum;   /* sum of batch_loss * batch_n           */
    double            w_sum;      /* sum of weights                        */
    double            se_sum;     /* sum of w (p - y)^2                    */
    double            ae_sum;     /* sum of w |p - y|                      */
    auc_item         *auc;        /* one per example when AUC is enabled   */
    size_t            auc_n, auc_cap;
};

/* tfrs.tasks.Ranking's defaults: MSE loss, RMSE metric. */
static const tfrs_task_options task_defaults = {
    .loss = TFRS_LOSS_MSE, .from_logits = 0, .huber_delta = 1.0f, .metrics = TFRS_METRIC_RMSE,
};

int tfrs_task_options_init(tfrs_task_options *opts, unsigned int version)
{
    return tfrs__options_init(opts, &task_defaults, sizeof(*opts), version,
                              TFRS_TASK_OPTIONS_VERSION, "tfrs_task_options_init");
}

int tfrs__task_options_check(const tfrs_task_options *o)
{
    const unsigned all = TFRS_METRIC_RMSE | TFRS_METRIC_MAE | TFRS_METRIC_AUC;

    if (o == NULL)
        return tfrs__fail(TFRS_EINVAL, "task options: NULL");
    if (o->version == 0 || o->version > TFRS_TASK_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "task options: unknown version %u "
                          "(use tfrs_task_options_init)", o->version);
    if (o->loss != TFRS_LOSS_MSE && o->loss != TFRS_LOSS_BCE && o->loss != TFRS_LOSS_HUBER)
        return tfrs__fail(TFRS_EINVAL, "task options: unknown loss %d", (int)o->loss);
    if ((o->metrics & ~all) != 0)
        return tfrs__fail(TFRS_EINVAL, "task options: unknown metric bits 0x%x",
                          o->metrics & ~all);
    if (!(o->huber_delta > 0.0f) || !isfinite(o->huber_delta))
        return tfrs__fail(TFRS_EINVAL, "task options: huber_delta must be finite and > 0");
    return TFRS_OK;
}

/* Per-example loss l(p, y) and dl/dp. */
static double example_loss(const tfrs_task_options *o, float pf, float yf, double *grad)
{
    double p = pf, y = yf, d = p - y;

    switch (o->loss) {
    case TFRS_LOSS_BCE:
        if (o->from_logits) {
            /* max(p, 0) - p y + log(1 + exp(-|p|)); d/dp = sigmoid(p) - y */
            double s = p >= 0.0 ? 1.0 / (1.0 + exp(-p)) : exp(p) / (1.0 + exp(p));
            *grad = s - y;
            return (p > 0.0 ? p : 0.0) - p * y + log1p(exp(-fabs(p)));
        } else {
            /* Keras: clip p to [eps, 1 - eps], eps inside the logs too.  The
             * clip passes no gradient where it is active. */
            const float lo = BCE_EPS, hi = 1.0f - BCE_EPS;
            double pc = pf < lo ? lo : pf > hi ? hi : p;
            double e = BCE_EPS;
            if (pf < lo || pf > hi)
                *grad = 0.0;
            else
                *grad = -y / (pc + e) + (1.0 - y) / (1.0 - pc + e);
            return -(y * log(pc + e) + (1.0 - y) * log(1.0 - pc + e));
        }
    case TFRS_LOSS_HUBER: {
        double delta = o->huber_delta, a = fabs(d);
        if (a <= delta) {
            *grad = d;
            return 0.5 * d * d;
        }
        *grad = d > 0.0 ? delta : -delta;
        return delta * a - 0.5 * delta * delta;
    }
    case TFRS_LOSS_MSE:
    default:
        *grad = 2.0 * d;
        return d * d;
    }
}

void tfrs__task_loss(const tfrs_task_options *o, const float *pred, const float *labels,
                     const float *weights, size_t n, size_t denom, double *loss, float *dpred)
{
    double sum = 0.0, inv_n = 1.0 / (double)denom;

    for (size_t i = 0; i < n; i++) {
        double w = weights != NULL ? weights[i] : 1.0, g;
        double l = example_loss(o, pred[i], labels[i], &g);
        sum += w * l;
        if (dpred != NULL)
            dpred[i] = (float)(w * g * inv_n);
    }
    *loss = sum * inv_n;
}

int tfrs_ranking_task_create(tfrs_ranking_task **out, const tfrs_task_options *opts)
{
    tfrs_ranking_task *t;
    tfrs_task_options o;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_create: out is NULL");
    *out = NULL;
    if (opts == NULL) {
        tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION);
    } else {
        rc = tfrs__task_options_check(opts);
        if (rc < 0)
            return rc;
        o = *opts;
        o.version = TFRS_TASK_OPTIONS_VERSION;
    }
    t = tfrs__calloc(1, sizeof(*t));
    if (t == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_ranking_task_create: out of memory");
    t->o = o;
    *out = t;
    return TFRS_OK;
}

void tfrs_ranking_task_free(tfrs_ranking_task *task)
{
    if (task == NULL)
        return;
    tfrs__free(task->auc);
    tfrs__free(task);
}

int tfrs_ranking_task_options(const tfrs_ranking_task *task, tfrs_task_options *opts)
{
    if (task == NULL || opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_options: NULL argument");
    *opts = task->o;
    return TFRS_OK;
}

int tfrs_ranking_task_loss(const tfrs_ranking_task *task, const float *pred,
                           const float *labels, const float *weights, size_t n,
                           double *loss, float *dpred)
{
    if (task == NULL || pred == NULL || labels == NULL || loss == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_loss: NULL argument");
    if (n == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_loss: n must be > 0");
    tfrs__task_loss(&task->o, pred, labels, weights, n, n, loss, dpred);
    return TFRS_OK;
}

int tfrs_ranking_task_update(tfrs_ranking_task *task, const float *pred,
                             const float *labels, const float *weights, size_t n,
                             double batch_loss)
{
    int auc;
    size_t need;

    if (task == NULL || pred == NULL || labels == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_update: NULL argument");
    if (n == 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_update: n must be > 0");
    /* Validate and reserve first, so that a failure leaves the pass as it was. */
    auc = (task->o.metrics & TFRS_METRIC_AUC) != 0;
    if (auc) {
        for (size_t i = 0; i < n; i++)
            if (labels[i] != 0.0f && labels[i] != 1.0f)
                return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_update: AUC needs labels 0 "
                                  "or 1, got %g at position %zu", (double)labels[i], i);
        if (tfrs__add(task->auc_n, n, &need) < 0 ||
            TFRS__GROW(task->auc, task->auc_cap, need) < 0)
            return tfrs__fail(TFRS_ENOMEM, "tfrs_ranking_task_update: out of memory "
                              "(%zu AUC examples)", task->auc_n);
    }
    for (size_t i = 0; i < n; i++) {
        double w = weights != NULL ? weights[i] : 1.0;
        double e = (double)pred[i] - (double)labels[i];
        task->w_sum += w;
        task->se_sum += w * e * e;
        task->ae_sum += w * fabs(e);
        if (auc) {
            auc_item *it = &task->auc[task->auc_n++];
            it->p = pred[i];
            it->y = labels[i];
            it->w = (float)w;
        }
    }
    task->loss_sum += batch_loss * (double)n;
    task->examples += n;
    return TFRS_OK;
}

/* Ascending by prediction; the caller has excluded NaN. */
static int cmp_pred(const void *a, const void *b)
{
    float x = ((const auc_item *)a)->p, y = ((const auc_item *)b)->p;

    return (x > y) - (x < y);
}

/* Exact weighted ROC AUC over the stored examples: the probability that a
 * positive scores above a negative, ties counting one half.  With only one
 * class present (or no positive or negative weight) the AUC is defined as 0,
 * which is also what Keras' AUC metric reports then.  NaN if a prediction is
 * NaN.  Returns 0, or -1 if the sort buffer cannot be allocated. */
static int compute_auc(const tfrs_ranking_task *t, double *auc)
{
    double pos = 0.0, neg = 0.0, area = 0.0, neg_below = 0.0;
    auc_item *s;

    *auc = 0.0;
    for (size_t i = 0; i < t->auc_n; i++) {
        if (isnan(t->auc[i].p)) {
            *auc = NAN;
            return 0;
        }
        if (t->auc[i].y != 0.0f)
            pos += t->auc[i].w;
        else
            neg += t->auc[i].w;
    }
    if (!(pos > 0.0) || !(neg > 0.0))
        return 0;
    s = tfrs__calloc(t->auc_n, sizeof(*s));
    if (s == NULL)
        return -1;
    memcpy(s, t->auc, t->auc_n * sizeof(*s));
    qsort(s, t->auc_n, sizeof(*s), cmp_pred);
    for (size_t i = 0; i < t->auc_n;) {
        double gp = 0.0, gn = 0.0;
        size_t j = i;
        /* One group of equal predictions. */
        for (; j < t->auc_n && s[j].p == s[i].p; j++) {
            if (s[j].y != 0.0f)
                gp += s[j].w;
            else
                gn += s[j].w;
        }
        area += gp * (neg_below + 0.5 * gn);
        neg_below += gn;
        i = j;
    }
    tfrs__free(s);
    *auc = area / (pos * neg);
    return 0;
}

int tfrs_ranking_task_result(const tfrs_ranking_task *task, tfrs_metrics *out)
{
    tfrs_metrics m;
    unsigned which;

    if (task == NULL || out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_ranking_task_result: NULL argument");
    memset(&m, 0, sizeof(m));
    which = task->o.metrics;
    m.metrics = which;
    m.examples = task->examples;
    if (task->examples > 0)
        m.loss = task->loss_sum / (double)task->examples;
    m.total_loss = m.loss;
    /* Keras divides with divide_no_nan: a zero total weight gives 0. */
    if ((which & TFRS_METRIC_RMSE) && task->w_sum != 0.0)
        m.rmse = sqrt(task->se_sum / task->w_sum);
    if ((which & TFRS_METRIC_MAE) && task->w_sum != 0.0)
        m.mae = task->ae_sum / task->w_sum;
    if ((which & TFRS_METRIC_AUC) && compute_auc(task, &m.auc) < 0)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_ranking_task_result: out of memory (AUC of %zu "
                          "examples)", task->auc_n);
    *out = m;
    return TFRS_OK;
}

void tfrs_ranking_task_reset(tfrs_ranking_task *task)
{
    if (task == NULL)
        return;
    task->examples = 0;
    task->loss_sum = 0.0;
    task->w_sum = 0.0;
    task->se_sum = 0.0;
    task->ae_sum = 0.0;
    task->auc_n = 0;
}
