/*
 * step.c - the engine of a training step: slices, worker threads, reduction.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * A batch of B rows is cut into slices of TFRS__SLICE rows (with T > 1
 * threads, into a multiple of T slices of at most that).  Each slice goes
 * through the forward pass, the loss and the backward pass while its
 * activations are still in cache; the dense gradients of the slices add up.
 * With T threads, thread t takes the t-th contiguous share of the slices and
 * adds its dense gradients into its own buffers (thread 0 into the layers');
 * after the batch they are summed in thread order.  The input gradient of
 * every slice is kept ([B, D]) and scattered into the embedding gradients by
 * one thread, in row order.  So a step is deterministic for a given T, and
 * T = 1 never starts a thread.
 *
 * When the graph allows it (tfrs__graph_can_factor), the main thread first
 * plans the batch's first layer by distinct rows (factor.h); each thread
 * then adds its slices' segment sums into its own buffers.  After the
 * slices, a second generation gives each thread a share of the factored
 * features: it sums their segment sums in thread order and runs their
 * gradient GEMMs (once per batch) into the features' own rows of the kernel
 * gradient and their own tables.
 *
 * Memory is allocated when the stepper is created and when a batch larger
 * than every earlier one arrives; never otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "graph.h"
#include "optimizer.h"
#include "exchange.h"
#include "param.h"
#include "ranking.h"
#include "step.h"

typedef struct worker {
    struct tfrs__stepper *s;
    int                   index;
    float                *ws;    /* forward + backward buffers of a slice  */
    float               **acts;  /* L + 1 activation pointers              */
    float                *gbuf;  /* private dense gradients (index > 0)    */
    float               **grads; /* per table entry: into gbuf, or NULL    */
    double                loss;
    double                reg;   /* the slices' embedding (input) L2       */
    tfrs__factor_grad     fgr;   /* segment sums of the factored features  */
    pthread_t             tid;
    int                   started;
} worker;

struct tfrs__stepper {
    tfrs__graph      *g;
    int               T;
    worker           *w;
    size_t            cap;       /* rows that scores and dx0 hold          */
    float            *scores;    /* [cap]                                  */
    float            *dx0;       /* [cap, D]                               */
    float            *dsc;       /* [cap]: d loss / d score                */
    /* The current job, set before a generation starts. */
    const tfrs_task_options *task;
    const int32_t    *ids;
    const tfrs__input *in;
    const float      *labels, *weights;
    size_t            B;
    uint64_t          step;      /* optimizer steps before this one (dropout) */
    int               can_factor; /* the graph allows factoring (fz valid) */
    tfrs__factor      fz;        /* the current batch's plan               */
    double           *freg;      /* [nfeat]: each factored feature's L2    */
    /* Data-parallel training (tfrs__stepper_exchange). */
    const tfrs_exchange *ex;     /* NULL: this process alone               */
    size_t            scale;     /* the current run's loss divisor          */
    tfrs__exchange_buf xb;
    int               phase;     /* what a generation runs: PHASE_*        */
    /* Workers wait for a new generation, run their share, count down. */
    pthread_mutex_t   lock;
    pthread_cond_t    go, finished;
    uint64_t          generation;
    int               pending;
    int               stop;
    int               sync_ready;
};

/* What the threads run in a generation: their share of the slices, or of
 * the factored features' finish. */
#define PHASE_SLICES 0
#define PHASE_FINISH 1

/* Forward, loss and backward of one slice of S rows at row `r0` of the
 * batch; thread 0 adds its dense gradients into the table, the others into
 * their own. */
static double slice(struct tfrs__stepper *s, worker *w, size_t r0, size_t S)
{
    const tfrs__graph *g = s->g;
    const float *wt = s->weights != NULL ? s->weights + r0 : NULL;
    float *out, *dws = w->ws + tfrs__graph_ws_floats(g, TFRS__SLICE, 0);
    double loss;
    tfrs__graph_ctx ctx = { s->step, r0, s->can_factor ? &s->fz : NULL, &w->fgr, 0 };

    out = tfrs__graph_forward(g, s->ids + r0 * g->nfeat, s->in, S, w->ws, w->acts, &ctx);
    memcpy(s->scores + r0, out, S * sizeof(float));
    tfrs__task_loss(s->task, out, s->labels + r0, wt, S, s->scale, &loss,
                    tfrs__graph_dscores(g, dws, S));
    if (g->wide)     /* the wide part's gradient is scattered after the batch */
        memcpy(s->dsc + r0, tfrs__graph_dscores(g, dws, S), S * sizeof(float));
    tfrs__graph_backward(g, w->acts, S, dws, w->index == 0 ? NULL : w->grads,
                         s->dx0 + r0 * g->concat_dim, &ctx);
    if (g->input_l2)
        w->reg += tfrs__graph_input_l2(g, w->acts[0], S, s->scale, s->dx0 + r0 * g->concat_dim,
                                       s->can_factor ? &s->fz : NULL);
    return loss;
}

/* Rows per slice: TFRS__SLICE with one thread; with T threads the number
 * of slices is rounded up to a multiple of T and the rows spread evenly
 * over them, so that every thread gets an equal share of a small batch. */
static size_t slice_rows(size_t B, int T)
{
    size_t n = (B + TFRS__SLICE - 1) / TFRS__SLICE;

    if (T == 1 || n == 0)
        return TFRS__SLICE;
    n = (n + (size_t)T - 1) / (size_t)T * (size_t)T;
    return (B + n - 1) / n;
}

/* Thread w's share of the slices of the current batch. */
static void run_share(struct tfrs__stepper *s, worker *w)
{
    size_t rows = slice_rows(s->B, s->T);
    size_t nslices = (s->B + rows - 1) / rows;
    size_t first = nslices * (size_t)w->index / (size_t)s->T;
    size_t last = nslices * (size_t)(w->index + 1) / (size_t)s->T;
    const tfrs__params *t = &s->g->params;

    w->loss = 0.0;
    w->reg = 0.0;
    if (s->can_factor)
        tfrs__factor_grad_clear(&s->fz, &w->fgr);
    if (w->index > 0)
        for (size_t k = 0; k < t->n; k++)
            if (w->grads[k] != NULL)
                memset(w->grads[k], 0, t->p[k].n * sizeof(float));
    for (size_t k = first; k < last; k++) {
        size_t r0 = k * rows;
        size_t S = s->B - r0 < rows ? s->B - r0 : rows;
        w->loss += slice(s, w, r0, S);
    }
}

/* Thread w's share of the factored features after the batch: the k-th
 * factored feature goes to thread k mod T, which sums the threads' segment
 * sums of it in thread order and runs its finish. */
static void run_finish(struct tfrs__stepper *s, worker *w)
{
    tfrs__graph *g = s->g;
    size_t k = 0;

    for (size_t f = 0; f < g->nfeat; f++) {
        if (!s->fz.part[f].on)
            continue;
        if (k++ % (size_t)s->T != (size_t)w->index)
            continue;
        for (int v = 1; v < s->T; v++)
            tfrs__factor_grad_add(&s->fz, &s->w[0].fgr, &s->w[v].fgr, f);
        s->freg[f] = tfrs__factor_finish(&s->fz, g->feat, g->layers[0].dense, &s->w[0].fgr,
                                         g->params.p[g->layers[0].kernel].g, s->scale, f);
    }
}

static void run_phase_share(struct tfrs__stepper *s, worker *w)
{
    if (s->phase == PHASE_SLICES)
        run_share(s, w);
    else
        run_finish(s, w);
}

/* Runs a generation of `phase` on every thread (this one is thread 0). */
static void run_phase(struct tfrs__stepper *s, int phase)
{
    s->phase = phase;
    if (s->T > 1) {
        pthread_mutex_lock(&s->lock);
        s->pending = s->T - 1;
        s->generation++;
        pthread_cond_broadcast(&s->go);
        pthread_mutex_unlock(&s->lock);
    }
    run_phase_share(s, &s->w[0]);
    if (s->T > 1) {
        pthread_mutex_lock(&s->lock);
        while (s->pending > 0)
            pthread_cond_wait(&s->finished, &s->lock);
        pthread_mutex_unlock(&s->lock);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct tfrs__stepper *s = w->s;
    uint64_t seen = 0;

    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->generation == seen && !s->stop)
            pthread_cond_wait(&s->go, &s->lock);
        if (s->stop) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        seen = s->generation;
        pthread_mutex_unlock(&s->lock);

        run_phase_share(s, w);

        pthread_mutex_lock(&s->lock);
        if (--s->pending == 0)
            pthread_cond_signal(&s->finished);
        pthread_mutex_unlock(&s->lock);
    }
}

/* A worker's buffers; threads after the first also get private gradients
 * for every dense entry of the parameter table, in one block. */
static int alloc_worker(struct tfrs__stepper *s, worker *w)
{
    const tfrs__graph *g = s->g;
    const tfrs__params *t = &g->params;
    size_t total = 0;

    w->ws = tfrs__calloc(tfrs__graph_ws_floats(g, TFRS__SLICE, 1), sizeof(float));
    w->acts = tfrs__calloc(tfrs__graph_num_acts(g), sizeof(float *));
    if (w->ws == NULL || w->acts == NULL || tfrs__factor_grad_init(&w->fgr, g->nfeat) < 0)
        return -1;
    if (w->index == 0)
        return 0;
    w->grads = tfrs__calloc(t->n, sizeof(float *));
    if (w->grads == NULL)
        return -1;
    for (size_t k = 0; k < t->n; k++)
        if (t->p[k].emb == NULL)
            total += t->p[k].n;
    w->gbuf = tfrs__calloc(total, sizeof(float));
    if (w->gbuf == NULL)
        return -1;
    total = 0;
    for (size_t k = 0; k < t->n; k++) {
        if (t->p[k].emb == NULL) {
            w->grads[k] = w->gbuf + total;
            total += t->p[k].n;
        }
    }
    return 0;
}

static void free_worker(worker *w)
{
    tfrs__factor_grad_free(&w->fgr);
    tfrs__free(w->gbuf);
    tfrs__free(w->grads);
    tfrs__free(w->ws);
    tfrs__free(w->acts);
}

void tfrs__stepper_free(tfrs__stepper *s)
{
    if (s == NULL)
        return;
    if (s->sync_ready) {
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_cond_broadcast(&s->go);
        pthread_mutex_unlock(&s->lock);
        for (int t = 1; t < s->T; t++)
            if (s->w[t].started)
                pthread_join(s->w[t].tid, NULL);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->go);
        pthread_cond_destroy(&s->finished);
    }
    if (s->w != NULL)
        for (int t = 0; t < s->T; t++)
            free_worker(&s->w[t]);
    tfrs__free(s->w);
    tfrs__factor_free(&s->fz);
    tfrs__free(s->freg);
    tfrs__exchange_buf_free(&s->xb);
    tfrs__free(s->scores);
    tfrs__free(s->dx0);
    tfrs__free(s->dsc);
    tfrs__free(s);
}

static int init_sync(tfrs__stepper *s)
{
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&s->go, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    if (pthread_cond_init(&s->finished, NULL) != 0) {
        pthread_cond_destroy(&s->go);
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    s->sync_ready = 1;
    return 0;
}

int tfrs__stepper_create(tfrs__stepper **out, tfrs__graph *g, int threads)
{
    tfrs__stepper *s;

    *out = NULL;
    if (threads < 1)
        return tfrs__fail(TFRS_EINVAL, "train: threads must be >= 1");
    s = tfrs__calloc(1, sizeof(*s));
    if (s == NULL)
        return tfrs__fail(TFRS_ENOMEM, "train: out of memory");
    s->g = g;
    s->T = threads;
    s->can_factor = tfrs__graph_can_factor(g);
    if (s->can_factor) {
        if (tfrs__factor_init(&s->fz, g->nfeat, g->layers[0].out) != TFRS_OK ||
            (s->freg = tfrs__calloc(g->nfeat, sizeof(double))) == NULL)
            goto nomem;
        s->fz.eager = 1;     /* no allocation after the first batch */
    }
    s->w = tfrs__calloc((size_t)threads, sizeof(*s->w));
    if (s->w == NULL)
        goto nomem;
    for (int t = 0; t < threads; t++) {
        s->w[t].s = s;
        s->w[t].index = t;
        if (alloc_worker(s, &s->w[t]) < 0)
            goto nomem;
    }
    if (threads > 1) {
        if (init_sync(s) < 0)
            goto nothreads;
        for (int t = 1; t < threads; t++) {
            if (pthread_create(&s->w[t].tid, NULL, worker_main, &s->w[t]) != 0)
                goto nothreads;
            s->w[t].started = 1;
        }
    }
    *out = s;
    return TFRS_OK;
nothreads:
    tfrs__stepper_free(s);
    return tfrs__fail(TFRS_ENOMEM, "train: cannot start %d worker threads", threads - 1);
nomem:
    tfrs__stepper_free(s);
    return tfrs__fail(TFRS_ENOMEM, "train: out of memory for %d threads' buffers", threads);
}

static int reserve(tfrs__stepper *s, tfrs__optimizer *opt, size_t B)
{
    size_t D = s->g->concat_dim, n;
    float *scores, *dx0, *dsc;

    if (B <= s->cap)
        return TFRS_OK;
    if (tfrs__optimizer_reserve(opt, &s->g->params, B) != TFRS_OK)
        return TFRS_ENOMEM;
    if (tfrs__mul(B, D, &n) < 0)
        return tfrs__fail(TFRS_ENOMEM, "train: batch of %zu rows is too large", B);
    scores = tfrs__calloc(B, sizeof(float));
    dx0 = tfrs__calloc(n, sizeof(float));
    dsc = tfrs__calloc(B, sizeof(float));
    if (scores == NULL || dx0 == NULL || dsc == NULL) {
        tfrs__free(scores);
        tfrs__free(dx0);
        tfrs__free(dsc);
        return tfrs__fail(TFRS_ENOMEM, "train: out of memory for a batch of %zu rows", B);
    }
    tfrs__free(s->scores);
    tfrs__free(s->dx0);
    tfrs__free(s->dsc);
    s->scores = scores;
    s->dx0 = dx0;
    s->dsc = dsc;
    s->cap = B;
    return TFRS_OK;
}

/* This process's sums of the step, before the exchange adds them up. */
static void step_sums(tfrs__stepper *s, double loss, double reg)
{
    double w = 0.0, se = 0.0, ae = 0.0;

    for (size_t i = 0; i < s->B; i++) {
        double wi = s->weights != NULL ? (double)s->weights[i] : 1.0;
        double d = (double)s->scores[i] - (double)s->labels[i];
        w += wi;
        se += wi * d * d;
        ae += wi * fabs(d);
    }
    s->xb.sums[TFRS_SUM_LOSS] = loss;
    s->xb.sums[TFRS_SUM_REG] = reg;
    s->xb.sums[TFRS_SUM_ROWS] = (double)s->B;
    s->xb.sums[TFRS_SUM_WEIGHT] = w;
    s->xb.sums[TFRS_SUM_SE] = se;
    s->xb.sums[TFRS_SUM_AE] = ae;
}

int tfrs__stepper_exchange(tfrs__stepper *s, const tfrs_exchange *ex)
{
    int rc;

    if (ex != NULL && s->xb.dense == NULL &&
        (rc = tfrs__exchange_buf_init(&s->xb, &s->g->params)) != TFRS_OK)
        return rc;
    s->ex = ex;
    return TFRS_OK;
}

const double *tfrs__stepper_sums(const tfrs__stepper *s)
{
    return s->xb.sums;
}

int tfrs__stepper_run(tfrs__stepper *s, tfrs__optimizer *opt, const tfrs_task_options *task,
                      const int32_t *ids, const tfrs__input *in, const float *labels,
                      const float *weights, size_t B, size_t scale, double *loss_out,
                      double *reg_out, const float **scores_out)
{
    tfrs__graph *g = s->g;
    tfrs__params *t = &g->params;
    double loss = 0.0, reg = 0.0;
    int rc;

    /* With an exchange, the batch may be empty here, and the rows touched
     * after it as many as the global batch's. */
    if ((rc = reserve(s, opt, scale > B ? scale : B)) != TFRS_OK)
        return rc;
    tfrs__graph_zero_grad(g);
    if (s->can_factor) {
        if ((rc = tfrs__factor_plan(&s->fz, g->feat, g->layers[0].dense, ids, B)) != TFRS_OK)
            return rc;
        for (int w = 0; w < s->T; w++)
            if ((rc = tfrs__factor_grad_reserve(&s->fz, &s->w[w].fgr)) != TFRS_OK) {
                s->fz.any = 0;
                return rc;
            }
    }

    s->task = task;
    s->ids = ids;
    s->in = in;
    s->labels = labels;
    s->weights = weights;
    s->B = B;
    s->scale = scale;
    s->step = opt->steps;
    run_phase(s, PHASE_SLICES);

    /* Reduce in thread order. */
    for (int w = 0; w < s->T; w++) {
        loss += s->w[w].loss;
        reg += s->w[w].reg;
    }
    for (int w = 1; w < s->T; w++) {
        for (size_t k = 0; k < t->n; k++) {
            const float *src = s->w[w].grads[k];
            float *dst = t->p[k].g;
            if (src != NULL)
                for (size_t i = 0; i < t->p[k].n; i++)
                    dst[i] += src[i];
        }
    }
    if (s->can_factor && s->fz.any) {
        run_phase(s, PHASE_FINISH);
        for (size_t f = 0; f < g->nfeat; f++)      /* in feature order */
            if (s->fz.part[f].on)
                reg += s->freg[f];
    }
    tfrs__graph_scatter_input_grad(g, ids, in, B, s->dx0, s->dsc,
                                   s->can_factor ? &s->fz : NULL);
    if (s->ex != NULL) {
        step_sums(s, loss, reg);
        if ((rc = tfrs__exchange_run(&s->xb, s->ex, t, opt->steps)) != TFRS_OK)
            return rc;
        loss = s->xb.sums[TFRS_SUM_LOSS];
        reg = s->xb.sums[TFRS_SUM_REG];
    }
    if (!isfinite(loss) || !isfinite(reg))
        return tfrs__fail(TFRS_ENONFINITE, "train: the batch %s is %s; step skipped, "
                          "parameters unchanged", isfinite(loss) ? "embedding L2" : "loss",
                          isnan(loss) || isnan(reg) ? "NaN" : "infinite");
    tfrs__graph_l2_grad(g);
    /* Keras clips the gradients of the total loss, regularization included. */
    if ((rc = tfrs__optimizer_clip(opt, t)) != TFRS_OK ||
        (rc = tfrs__optimizer_step(opt, t)) != TFRS_OK)
        return rc;
    *loss_out = loss;
    if (reg_out != NULL)
        *reg_out = reg;
    if (scores_out != NULL)
        *scores_out = s->scores;
    return TFRS_OK;
}

size_t tfrs__stepper_factored_rows(const tfrs__stepper *s)
{
    return s->can_factor && s->fz.any ? s->fz.factored_rows : 0;
}
