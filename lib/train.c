/*
 * train.c - training and evaluation: train_step, test_step, fit, evaluate.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * A training step, as Keras' Model.train_step with a TFRS Ranking task:
 *   scores = model(x); loss = task(labels, scores) (+ regularization);
 *   gradients by backpropagation; one optimizer update.
 * The metrics of a step use the scores computed before the update, as Keras
 * does.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "util/alloc.h"
#include "util/rng.h"
#include "util/status.h"
#include "graph.h"
#include "model.h"
#include "ranking.h"
#include "step.h"

/* Rows ahead that the batch gather prefetches. */
#define PREFETCH 16

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The model's own one-thread stepper, created on first use. */
static int own_stepper(tfrs_model *m, tfrs__stepper **out)
{
    int rc;

    if (m->stepper == NULL && (rc = tfrs__stepper_create(&m->stepper, &m->g, 1)) != TFRS_OK)
        return rc;
    *out = m->stepper;
    return TFRS_OK;
}

/* One update on B rows whose ids are valid, their loss sums divided by
 * scale (B, or a global batch's size with an exchange). */
static int step(tfrs_model *m, tfrs__stepper *s, const int32_t *ids, const tfrs__input *in,
                const float *labels, const float *weights, size_t B, size_t scale,
                double *loss_out, const float **scores_out)
{
    double reg = 0.0;
    int rc = tfrs__stepper_run(s, &m->opt, &m->task, ids, in, labels, weights, B, scale,
                               loss_out, &reg, scores_out);

    if (rc == TFRS_OK)
        m->input_reg = reg;
    if (rc == TFRS_OK)
        tfrs__model_weights_changed(m);
    return rc;
}

int tfrs_model_train_step(tfrs_model *m, const int32_t *ids, const float *labels,
                          const float *weights, size_t n, double *batch_loss)
{
    int rc = tfrs__model_check_batch(m, "tfrs_model_train_step", ids, n, labels != NULL,
                                     "ids, labels and n > 0 required");
    tfrs__stepper *s;
    double loss;

    if (rc != TFRS_OK || (rc = own_stepper(m, &s)) != TFRS_OK)
        return rc;
    if ((rc = step(m, s, ids, NULL, labels, weights, n, n, &loss, NULL)) != TFRS_OK)
        return rc;
    if (batch_loss != NULL)
        *batch_loss = loss;
    return TFRS_OK;
}

int tfrs_model_test_step(const tfrs_model *m, const int32_t *ids, const float *labels,
                         const float *weights, size_t n, double *batch_loss, float *scores)
{
    int rc = tfrs__model_check_batch(m, "tfrs_model_test_step", ids, n,
                                     labels != NULL && batch_loss != NULL,
                                     "ids, labels, batch_loss and n > 0 required");
    float *own = NULL;
    double loss;

    if (rc != TFRS_OK)
        return rc;
    if (scores == NULL) {
        scores = own = tfrs__calloc(n, sizeof(float));
        if (own == NULL)
            return tfrs__fail(TFRS_ENOMEM, "tfrs_model_test_step: out of memory");
    }
    rc = tfrs__graph_score(&m->g, ids, NULL, n, TFRS__BLOCK, scores);
    if (rc == TFRS_OK)
        rc = tfrs__graph_check_scores(scores, n, 0, 0, "tfrs_model_test_step");
    if (rc == TFRS_OK) {
        tfrs__task_loss(&m->task, scores, labels, weights, n, n, &loss, NULL);
        *batch_loss = loss;
    }
    tfrs__free(own);
    return rc;
}

/* Keras-like defaults: 1 epoch, batches of 32, reshuffled every epoch. */
static const tfrs_fit_options fit_defaults = {
    .epochs = 1, .batch_size = 32, .shuffle = 1, .shuffle_seed = 0, .threads = 1,
};

/* Bytes of the options that callers of `version` hold. */
static size_t fit_options_size(unsigned int version)
{
    return version == 1   ? offsetof(tfrs_fit_options, validation)
           : version == 2 ? offsetof(tfrs_fit_options, exchange)
                          : sizeof(tfrs_fit_options);
}

int tfrs_fit_options_init(tfrs_fit_options *opts, unsigned int version)
{
    return tfrs__options_init(opts, &fit_defaults, fit_options_size(version), version,
                              TFRS_FIT_OPTIONS_VERSION, "tfrs_fit_options_init");
}

/* Labels, optional weights and the keys of a whole dataset. */
typedef struct bound_data {
    size_t         n;
    const float   *labels;
    const float   *weights;
    int32_t       *ids;      /* n * F keys, owned                          */
    tfrs__encoded *enc;      /* F side tables' storage, owned              */
    tfrs__input   *in;       /* F side tables, or NULL if none is needed   */
} bound_data;

static void unbind(const tfrs_model *m, bound_data *bd)
{
    tfrs__encoded_free_array(bd->enc, m->g.nfeat);
    tfrs__free(bd->in);
    tfrs__free(bd->ids);
    memset(bd, 0, sizeof(*bd));
}


static int bind_dataset(const tfrs_model *m, const tfrs_dataset *ds, bound_data *bd,
                        const char *fn)
{
    size_t count;
    int rc;

    memset(bd, 0, sizeof(*bd));
    bd->n = tfrs_dataset_num_rows(ds);
    if (bd->n == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: the dataset has no rows", fn);
    if (bd->n > UINT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "%s: more than 2^32-1 rows", fn);
    if (tfrs_dataset_floats(ds, m->label, &bd->labels) != TFRS_OK)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: the dataset has no float label column '%s'",
                          fn, m->label);
    if (m->weight != NULL && tfrs_dataset_floats(ds, m->weight, &bd->weights) != TFRS_OK)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: the dataset has no float weight column '%s'",
                          fn, m->weight);
    if (tfrs__mul(bd->n, m->g.nfeat, &count) < 0)
        return tfrs__fail(TFRS_ENOMEM, "%s: dataset too large", fn);
    bd->ids = tfrs__calloc(count, sizeof(int32_t));
    bd->enc = tfrs__calloc(m->g.nfeat, sizeof(*bd->enc));
    if (m->g.needs_input)
        bd->in = tfrs__calloc(m->g.nfeat, sizeof(*bd->in));
    if (bd->ids == NULL || bd->enc == NULL || (m->g.needs_input && bd->in == NULL)) {
        unbind(m, bd);
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    }
    if ((rc = tfrs__model_bind_keys(m, ds, bd->ids, bd->enc, bd->in, fn)) != TFRS_OK)
        unbind(m, bd);
    return rc;
}

/* The task's metrics, with the regularization loss: the kernels' L2 now and
 * the embedding L2 input_reg (of the last training batch in fit, of the
 * evaluated examples in evaluate). */
static int running_metrics(const tfrs_model *m, const tfrs_ranking_task *task, double input_reg,
                           tfrs_metrics *out)
{
    int rc = tfrs_ranking_task_result(task, out);

    if (rc != TFRS_OK)
        return rc;
    out->regularization_loss = tfrs__graph_l2_loss(&m->g) + input_reg;
    out->total_loss = out->loss + out->regularization_loss;
    return TFRS_OK;
}

/* Adds a step's exchanged sums to the epoch's (the loss weighted by the
 * step's rows). */
static void add_sums(double *acc, const double *sums)
{
    acc[TFRS_SUM_LOSS] += sums[TFRS_SUM_LOSS] * sums[TFRS_SUM_ROWS];
    for (int j = TFRS_SUM_ROWS; j < TFRS_NUM_SUMS; j++)
        acc[j] += sums[j];
}

/* The epoch's running metrics: from the task's pass, or with an exchange
 * from the exchanged sums so far (acc). */
static void exchanged_metrics(const tfrs_model *m, const double *acc, tfrs_metrics *out);

static int epoch_metrics(const tfrs_model *m, const tfrs_ranking_task *task, const double *acc,
                         tfrs_metrics *out)
{
    if (acc == NULL)
        return running_metrics(m, task, m->input_reg, out);
    exchanged_metrics(m, acc, out);
    return TFRS_OK;
}

/* Reads the caller's options (NULL: defaults) of any known version into
 * *o, the fields of later versions at their defaults, and checks them. */
static int read_fit_options(const tfrs_model *m, const tfrs_fit_options *in, tfrs_fit_options *o)
{
    static const unsigned needs[] = { 0, 0, TFRS_METRIC_RMSE, TFRS_METRIC_MAE, TFRS_METRIC_AUC };

    *o = fit_defaults;
    o->version = TFRS_FIT_OPTIONS_VERSION;
    if (in != NULL) {
        if (in->version == 0 || in->version > TFRS_FIT_OPTIONS_VERSION)
            return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: unknown options version %u",
                              in->version);
        memcpy(o, in, fit_options_size(in->version));
    }
    if (o->epochs < 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: epochs must be >= 0");
    if (o->batch_size == 0 || o->batch_size > UINT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: batch_size must be in 1 .. 2^32-1");
    if (o->threads < 1 || o->threads > TFRS__MAX_THREADS)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: threads must be in 1 .. %d",
                          TFRS__MAX_THREADS);
    if ((o->early_stopping != 0 && o->early_stopping != 1) ||
        (o->restore_best_weights != 0 && o->restore_best_weights != 1))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: early_stopping and "
                          "restore_best_weights must be 0 or 1");
    if ((o->early_stopping || o->restore_best_weights) && o->validation == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: early_stopping and "
                          "restore_best_weights need a validation dataset");
    if (o->patience < 0)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: patience must be >= 0");
    if (!(o->min_delta >= 0.0) || !isfinite(o->min_delta))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: min_delta must be finite and >= 0");
    if ((unsigned)o->monitor >= sizeof(needs) / sizeof(needs[0]))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: unknown monitor %d", (int)o->monitor);
    if ((m->task.metrics & needs[o->monitor]) != needs[o->monitor])
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: the monitored metric is not computed "
                          "by the model's task (add it to the task's metrics)");
    if (o->exchange != NULL) {
        const tfrs_exchange *x = o->exchange;
        if (x->version != TFRS_EXCHANGE_VERSION || x->exchange == NULL)
            return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: the exchange has an unknown "
                              "version or no function");
        if (o->validation != NULL || (m->task.metrics & TFRS_METRIC_AUC))
            return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: a validation dataset and the AUC "
                              "metric are not available with an exchange");
        if (x->global_rows == 0 || x->global_rows > UINT32_MAX)
            return tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: the exchange's global_rows must "
                              "be in 1 .. 2^32-1");
    }
    return TFRS_OK;
}

/* The epoch's metrics from the exchanged sums of its batches so far
 * (acc: TFRS_NUM_SUMS totals, the loss entry weighted by the rows). */
static void exchanged_metrics(const tfrs_model *m, const double *acc, tfrs_metrics *out)
{
    memset(out, 0, sizeof(*out));
    out->metrics = m->task.metrics;
    out->examples = (size_t)acc[TFRS_SUM_ROWS];
    if (acc[TFRS_SUM_ROWS] > 0.0)
        out->loss = acc[TFRS_SUM_LOSS] / acc[TFRS_SUM_ROWS];
    if (acc[TFRS_SUM_WEIGHT] > 0.0) {
        if (m->task.metrics & TFRS_METRIC_RMSE)
            out->rmse = sqrt(acc[TFRS_SUM_SE] / acc[TFRS_SUM_WEIGHT]);
        if (m->task.metrics & TFRS_METRIC_MAE)
            out->mae = acc[TFRS_SUM_AE] / acc[TFRS_SUM_WEIGHT];
    }
    out->regularization_loss = tfrs__graph_l2_loss(&m->g) + m->input_reg;
    out->total_loss = out->loss + out->regularization_loss;
}

/* The validation side of fit: the bound dataset, the best epoch so far and
 * the copy of its weights. */
typedef struct validation_state {
    bound_data   bd;
    size_t       batch_size;
    double       best;
    int          best_epoch;  /* 1-based, 0 before the first evaluation */
    int          wait;        /* epochs since the last improvement       */
    float       *snapshot;    /* every weight of the table, or NULL      */
} validation_state;

static double monitored(const tfrs_metrics *v, tfrs_monitor mon)
{
    switch (mon) {
    case TFRS_MONITOR_TOTAL_LOSS: return v->total_loss;
    case TFRS_MONITOR_RMSE:       return v->rmse;
    case TFRS_MONITOR_MAE:        return v->mae;
    case TFRS_MONITOR_AUC:        return v->auc;
    case TFRS_MONITOR_LOSS:       break;
    }
    return v->loss;
}

/* Copies every weight of the table to (save) or from the snapshot. */
static void snapshot_copy(tfrs__params *t, float *snap, int save)
{
    for (size_t i = 0; i < t->n; i++) {
        if (save)
            memcpy(snap, t->p[i].w, t->p[i].n * sizeof(float));
        else
            memcpy(t->p[i].w, snap, t->p[i].n * sizeof(float));
        snap += t->p[i].n;
    }
}

/* Evaluates bd with the semantics of tfrs_model_evaluate (messages start
 * with fn). */
static int evaluate_bound(const tfrs_model *m, const bound_data *bd, size_t batch_size,
                          tfrs_metrics *out, const char *fn);

/* End of epoch e (0-based) with validation: evaluates, tracks the best
 * epoch, copies its weights.  *stop gets 1 if early stopping ends fit. */
static int validate_epoch(tfrs_model *m, const tfrs_fit_options *o, validation_state *vs, int e,
                          tfrs_metrics *vm, int *stop)
{
    int rc = evaluate_bound(m, &vs->bd, vs->batch_size, vm, "tfrs_model_fit: validation");
    double v;
    int better;

    *stop = 0;
    if (rc != TFRS_OK)
        return rc;
    v = monitored(vm, o->monitor);
    /* As Keras' EarlyStopping: (v - (-min_delta)) < best, or for AUC
     * (v - min_delta) > best; the first evaluation sets the best. */
    better = vs->best_epoch == 0 ||
             (o->monitor == TFRS_MONITOR_AUC ? v - o->min_delta > vs->best
                                             : v + o->min_delta < vs->best);
    vs->wait++;
    if (better) {
        vs->best = v;
        vs->best_epoch = e + 1;
        vs->wait = 0;
        if (vs->snapshot != NULL)
            snapshot_copy(&m->g.params, vs->snapshot, 1);
    } else if (o->early_stopping && vs->wait >= o->patience && e > 0) {
        *stop = 1;
    }
    return TFRS_OK;
}

/* Binds the validation dataset and allocates the weight copy. */
static int validation_begin(const tfrs_model *m, const tfrs_fit_options *o, validation_state *vs)
{
    size_t total = 0;
    int rc;

    memset(vs, 0, sizeof(*vs));
    if (o->validation == NULL)
        return TFRS_OK;
    vs->batch_size = o->validation_batch_size != 0 ? o->validation_batch_size : o->batch_size;
    if ((rc = bind_dataset(m, o->validation, &vs->bd, "tfrs_model_fit: validation")) != TFRS_OK)
        return rc;
    if (!o->restore_best_weights)
        return TFRS_OK;
    for (size_t i = 0; i < m->g.params.n; i++)
        total += m->g.params.p[i].n;
    vs->snapshot = tfrs__calloc(total == 0 ? 1 : total, sizeof(float));
    if (vs->snapshot == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_fit: out of memory for the copy of the "
                          "best weights");
    return TFRS_OK;
}

int tfrs_model_fit(tfrs_model *m, const tfrs_dataset *train, const tfrs_fit_options *opts,
                   tfrs_metrics *history)
{
    int rc = tfrs__model_check_call(m, "tfrs_model_fit",
                                    train != NULL,
                                    "train dataset is NULL");
    tfrs_fit_options o;
    validation_state vs = { 0 };
    int epochs_run = 0, accepted = 0;
    bound_data bd = { 0 };
    tfrs_ranking_task *task = NULL;
    uint32_t *perm = NULL;
    int32_t *bids = NULL;
    float *blab = NULL, *bw = NULL;
    tfrs__stepper *stepper = NULL;
    const tfrs_exchange *ex = NULL;
    double acc[TFRS_NUM_SUMS];
    size_t bs, F, batches, total, first;

    if (rc != TFRS_OK)
        return rc;
    if ((rc = read_fit_options(m, opts, &o)) != TFRS_OK)
        return rc;
    accepted = 1;
    ex = o.exchange;
    if ((rc = bind_dataset(m, train, &bd, "tfrs_model_fit")) != TFRS_OK)
        goto done;
    if ((rc = validation_begin(m, &o, &vs)) != TFRS_OK)
        goto done;
    F = m->g.nfeat;
    if (ex != NULL && ex->first_row > ex->global_rows - bd.n) {
        rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: the dataset's %zu rows from global row "
                        "%llu pass the exchange's %llu global rows", bd.n,
                        (unsigned long long)ex->first_row, (unsigned long long)ex->global_rows);
        goto done;
    }
    total = ex != NULL ? (size_t)ex->global_rows : bd.n;
    first = ex != NULL ? (size_t)ex->first_row : 0;
    bs = o.batch_size < total ? o.batch_size : total;
    batches = (total + bs - 1) / bs;
    if (ex != NULL && ex->skip_batches >= batches) {
        rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_fit: the exchange skips %zu batches of an "
                        "epoch of %zu", ex->skip_batches, batches);
        goto done;
    }
    perm = tfrs__calloc(total, sizeof(*perm));
    bids = tfrs__calloc(bs * F, sizeof(*bids));
    blab = tfrs__calloc(bs, sizeof(*blab));
    bw = bd.weights != NULL ? tfrs__calloc(bs, sizeof(*bw)) : NULL;
    if (perm == NULL || bids == NULL || blab == NULL || (bd.weights != NULL && bw == NULL)) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_fit: out of memory");
        goto done;
    }
    if ((rc = tfrs_ranking_task_create(&task, &m->task)) != TFRS_OK)
        goto done;
    if (o.threads > 1) {
        /* Kept between fits: its threads, buffers and their pages. */
        if (m->pool == NULL || m->pool_threads != o.threads) {
            tfrs__stepper_free(m->pool);
            m->pool = NULL;
            m->pool_threads = 0;
            if ((rc = tfrs__stepper_create(&m->pool, &m->g, o.threads)) != TFRS_OK)
                goto done;
            m->pool_threads = o.threads;
        }
        stepper = m->pool;
    } else if ((rc = own_stepper(m, &stepper)) != TFRS_OK) {
        goto done;
    }
    if (ex != NULL && (rc = tfrs__stepper_exchange(stepper, ex)) != TFRS_OK)
        goto done;

    for (int e = 0; e < o.epochs; e++) {
        tfrs_progress pr;
        double t0 = now_seconds();

        if (o.shuffle) {
            tfrs__rng r;
            tfrs__rng_seed(&r, o.shuffle_seed, m->epochs_done + 1);
            tfrs__rng_permutation(&r, perm, total);
        } else {
            for (size_t i = 0; i < total; i++)
                perm[i] = (uint32_t)i;
        }
        tfrs_ranking_task_reset(task);
        memset(acc, 0, sizeof(acc));
        memset(&pr, 0, sizeof(pr));
        pr.best_epoch = vs.best_epoch;
        pr.epoch = e + 1;
        pr.epochs = o.epochs;
        pr.batches = batches;
        for (size_t b = e == 0 && ex != NULL ? ex->skip_batches : 0; b < batches; b++) {
            size_t start = b * bs, nb = total - start < bs ? total - start : bs;
            const float *scores;
            double loss;
            size_t k;

            /* This process's rows of the global batch (all of them alone),
             * in batch order: global row g is local row g - first. */
            k = 0;
            for (size_t i = 0; i < nb; i++) {
                size_t r = (size_t)perm[start + i] - first;   /* wraps if g < first */
#if defined(__GNUC__)
                /* Rows are visited in random order: on large datasets every
                 * read misses the cache, so ask for rows ahead of time. */
                if (i + PREFETCH < nb) {
                    size_t ahead = (size_t)perm[start + i + PREFETCH] - first;
                    if (ahead < bd.n) {
                        __builtin_prefetch(bd.ids + ahead * F);
                        __builtin_prefetch(bd.labels + ahead);
                    }
                }
#endif
                if (r >= bd.n)
                    continue;
                memcpy(bids + k * F, bd.ids + r * F, F * sizeof(*bids));
                blab[k] = bd.labels[r];
                if (bw != NULL)
                    bw[k] = bd.weights[r];
                k++;
            }
            if ((rc = step(m, stepper, bids, bd.in, blab, bw, k, nb, &loss, &scores)) != TFRS_OK)
                goto done;
            if (ex != NULL)
                add_sums(acc, tfrs__stepper_sums(stepper));
            else if ((rc = tfrs_ranking_task_update(task, scores, blab, bw, k, loss)) != TFRS_OK)
                goto done;
            if (o.progress != NULL) {
                if ((rc = epoch_metrics(m, task, ex != NULL ? acc : NULL, &pr.metrics)) != 0)
                    goto done;
                pr.batch = b + 1;
                pr.seconds = now_seconds() - t0;
                if (o.progress(&pr, o.payload) != 0) {
                    rc = tfrs__fail(TFRS_ECANCELED, "tfrs_model_fit: stopped by the progress "
                                    "callback in epoch %d", e + 1);
                    goto done;
                }
            }
        }
        m->epochs_done++;
        epochs_run = e + 1;
        if ((rc = epoch_metrics(m, task, ex != NULL ? acc : NULL, &pr.metrics)) != TFRS_OK)
            goto done;
        if (history != NULL)
            history[e] = pr.metrics;
        if (o.validation != NULL) {
            if ((rc = validate_epoch(m, &o, &vs, e, &pr.validation, &pr.stopping)) != TFRS_OK)
                goto done;
            pr.has_validation = 1;
            pr.best_epoch = vs.best_epoch;
            if (o.validation_history != NULL)
                o.validation_history[e] = pr.validation;
        }
        if (o.progress != NULL) {
            pr.end_of_epoch = 1;
            pr.seconds = now_seconds() - t0;
            if (o.progress(&pr, o.payload) != 0) {
                rc = tfrs__fail(TFRS_ECANCELED, "tfrs_model_fit: stopped by the progress "
                                "callback after epoch %d", e + 1);
                goto done;
            }
        }
        if (pr.stopping)
            break;
    }
    if (vs.snapshot != NULL && vs.best_epoch > 0) {
        snapshot_copy(&m->g.params, vs.snapshot, 0);
        tfrs__model_weights_changed(m);
    }
    rc = TFRS_OK;
done:
    if (accepted && o.epochs_run != NULL)
        *o.epochs_run = epochs_run;
    if (accepted && o.best_epoch != NULL)
        *o.best_epoch = vs.best_epoch;
    unbind(m, &vs.bd);
    tfrs__free(vs.snapshot);
    if (ex != NULL && stepper != NULL)
        tfrs__stepper_exchange(stepper, NULL);   /* cannot fail */
    tfrs_ranking_task_free(task);
    unbind(m, &bd);
    tfrs__free(perm);
    tfrs__free(bids);
    tfrs__free(blab);
    tfrs__free(bw);
    return rc;
}

static int evaluate_bound(const tfrs_model *m, const bound_data *bd, size_t batch_size,
                          tfrs_metrics *out, const char *fn)
{
    tfrs_ranking_task *task = NULL;
    float *scores = NULL;
    tfrs__scratch sc = { 0 };
    size_t bs = batch_size == 0 || batch_size > bd->n ? bd->n : batch_size;
    double reg = 0.0;
    int rc;

    if ((scores = tfrs__calloc(bs, sizeof(float))) == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
        goto done;
    }
    if ((rc = tfrs__graph_scratch_alloc(&m->g, bs, &sc)) != TFRS_OK)
        goto done;
    if ((rc = tfrs_ranking_task_create(&task, &m->task)) != TFRS_OK)
        goto done;
    for (size_t start = 0; start < bd->n; start += bs) {
        size_t nb = bd->n - start < bs ? bd->n - start : bs;
        const float *lab = bd->labels + start;
        const float *w = bd->weights != NULL ? bd->weights + start : NULL;
        double loss;

        /* One forward pass per batch, as Keras' evaluate. */
        rc = tfrs__graph_score_in(&m->g, &sc, bd->ids + start * m->g.nfeat, bd->in, nb, scores);
        if (rc != TFRS_OK)
            goto done;
        /* the scratch holds bs rows: this batch is its last block */
        if (m->g.input_l2)
            reg += tfrs__graph_score_input_l2(&m->g, &sc, nb);
        rc = tfrs__graph_check_scores(scores, nb, start, 0, fn);
        if (rc != TFRS_OK)
            goto done;
        tfrs__task_loss(&m->task, scores, lab, w, nb, nb, &loss, NULL);
        if ((rc = tfrs_ranking_task_update(task, scores, lab, w, nb, loss)) != TFRS_OK)
            goto done;
    }
    rc = running_metrics(m, task, reg / (double)bd->n, out);
done:
    tfrs_ranking_task_free(task);
    tfrs__free(scores);
    tfrs__graph_scratch_free(&sc);
    return rc;
}

int tfrs_model_evaluate(const tfrs_model *m, const tfrs_dataset *ds, size_t batch_size,
                        tfrs_metrics *out)
{
    int rc = tfrs__model_check_call(m, "tfrs_model_evaluate",
                                    ds != NULL && out != NULL,
                                    "ds and out are required");
    bound_data bd = { 0 };

    if (rc != TFRS_OK)
        return rc;
    if ((rc = bind_dataset(m, ds, &bd, "tfrs_model_evaluate")) != TFRS_OK)
        return rc;
    rc = evaluate_bound(m, &bd, batch_size, out, "tfrs_model_evaluate");
    unbind(m, &bd);
    return rc;
}

int tfrs_model_lookup_dataset(const tfrs_model *m, const tfrs_dataset *ds, int32_t *ids_out)
{
    int rc = tfrs__model_check_call(m, "tfrs_model_lookup_dataset",
                                    ds != NULL && ids_out != NULL,
                                    "ds and ids_out are required");
    tfrs__encoded *enc;

    if (rc == TFRS_OK)
        rc = tfrs__graph_check_ids(&m->g, NULL, NULL, 0, "tfrs_model_lookup_dataset");
    if (rc != TFRS_OK)
        return rc;
    if ((enc = tfrs__calloc(m->g.nfeat, sizeof(*enc))) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_lookup_dataset: out of memory");
    rc = tfrs__model_bind_keys(m, ds, ids_out, enc, NULL, "tfrs_model_lookup_dataset");
    tfrs__encoded_free_array(enc, m->g.nfeat);
    return rc;
}
