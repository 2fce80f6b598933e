/*
 * bench-train.c - training and evaluation throughput on the tutorial's
 * MovieLens 100K split, against cblas_sgemm at the same shapes, and the
 * allocation count of fit.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Measurements (one JSON line each, see bench.h):
 *   sgemm       GFLOP/s of each big GEMM of a training step, at the full
 *               batch (B rows) and at the slice the library works in
 *               (TFRS__SLICE rows)
 *   sgemm_step  GFLOP/s of all nine GEMMs of one training step in sequence
 *               (forward, dW, dX of the three dense layers): the ceiling a
 *               step made only of sgemm calls could reach; with threads = 2,
 *               two threads each run it on their own slices at once
 *   fit         examples/s of tfrs_model_fit, one epoch of the 80,000 train
 *               rows per repeat after a warm-up epoch, and the model's
 *               achieved GFLOP/s (196,992 FLOPs per example) divided by the
 *               sgemm_step GFLOP/s at the full-batch and the slice shapes
 *   evaluate    examples/s of tfrs_model_evaluate on the 20,000 test rows,
 *               batch 4096
 *   alloc       allocations through tfrs_set_allocator during fit, and how
 *               many came after the first batch (must be 0)
 *   determinism same seed twice gives the same bits on 1 and on 2 threads;
 *               how far 1 and 2 threads end apart
 *
 * Run with OPENBLAS_NUM_THREADS=1: the library's threads call BLAS
 * concurrently and OpenBLAS's own threads would compete for the cores.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "bench.h"
#include "step.h"       /* TFRS__SLICE only */

#define MAX_LIST 8

typedef struct options {
    const char *data;
    size_t      batches[MAX_LIST];
    size_t      nbatches;
    int         threads[MAX_LIST];
    size_t      nthreads;
    int         repeats;
    int         eval_repeats;
    double      sgemm_seconds;   /* time spent per sgemm measurement */
    int         skip_sgemm, skip_alloc, skip_determinism;
} options;

/* ---- counting allocator ------------------------------------------------ */

static atomic_ulong n_allocs;
static atomic_ulong n_alloc_bytes;

static void *count_malloc(size_t size, void *payload)
{
    (void)payload;
    atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&n_alloc_bytes, size, memory_order_relaxed);
    return malloc(size);
}

static void *count_realloc(void *p, size_t size, void *payload)
{
    (void)payload;
    atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&n_alloc_bytes, size, memory_order_relaxed);
    return realloc(p, size);
}

static void count_free(void *p, void *payload)
{
    (void)payload;
    free(p);
}

static unsigned long allocs_now(void)
{
    return atomic_load_explicit(&n_allocs, memory_order_relaxed);
}

/* ---- sgemm reference ----------------------------------------------------- */

/* Buffers of one training step's GEMMs at `b` rows: the tutorial's tower
 * 64 -> 256 -> 64 -> 1. */
typedef struct gemm_set {
    size_t b;
    float *x, *y1, *y2, *y3, *dy3, *dy2, *dy1, *dx0;   /* activations, [b, *] */
    float *w1, *w2, *w3, *g1, *g2, *g3;                 /* weights, gradients */
    float *mem;
} gemm_set;

enum { D0 = 64, D1 = 256, D2 = 64, D3 = 1 };

static float *carve(float **p, size_t n)
{
    float *r = *p;

    *p += (n + 15) & ~(size_t)15;   /* 64-byte steps */
    return r;
}

static void gemm_set_init(gemm_set *s, size_t b, uint64_t seed)
{
    size_t act = b * (D0 + D1 + D2 + D3) * 2, w = 2 * (D0 * D1 + D1 * D2 + D2 * D3);
    size_t total = act + w + 16 * 16;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    float *p;

    s->b = b;
    if (posix_memalign((void **)&s->mem, 64, total * sizeof(float)) != 0) {
        fprintf(stderr, "bench-train: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < total; i++) {       /* small values, no denormals */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        s->mem[i] = (float)((double)(x >> 40) / (double)(1u << 24) - 0.5) * 0.1f;
    }
    p = s->mem;
    s->x = carve(&p, b * D0);
    s->y1 = carve(&p, b * D1);
    s->y2 = carve(&p, b * D2);
    s->y3 = carve(&p, b * D3);
    s->dy3 = carve(&p, b * D3);
    s->dy2 = carve(&p, b * D2);
    s->dy1 = carve(&p, b * D1);
    s->dx0 = carve(&p, b * D0);
    s->w1 = carve(&p, D0 * D1);
    s->w2 = carve(&p, D1 * D2);
    s->w3 = carve(&p, D2 * D3);
    s->g1 = carve(&p, D0 * D1);
    s->g2 = carve(&p, D1 * D2);
    s->g3 = carve(&p, D2 * D3);
}

static void gemm_set_free(gemm_set *s)
{
    free(s->mem);
    memset(s, 0, sizeof(*s));
}

/* The nine GEMMs of one training step at s->b rows, in the order the
 * step makes them (row-major, as the library's layers):
 *   0 y1 = x W1     1 y2 = y1 W2     2 y3 = y2 W3            forward
 *   3 g3 += y2^T dy3    4 dy2 = dy3 W3^T                     layer 3
 *   5 g2 += y1^T dy2    6 dy1 = dy2 W2^T                     layer 2
 *   7 g1 += x^T dy1     8 dx0 = dy1 W1^T                     layer 1
 * Together 196,992 * b FLOPs. */
#define NGEMMS 9

typedef struct gemm_desc {
    const char *name;
    int         tA, tB;
    size_t      M, N, K;    /* 0 stands for the batch rows b */
} gemm_desc;

static const gemm_desc gemms[NGEMMS] = {
    { "fwd1 y1=x.W1",     0, 0, 0,  D1, D0 },
    { "fwd2 y2=y1.W2",    0, 0, 0,  D2, D1 },
    { "fwd3 y3=y2.W3",    0, 0, 0,  D3, D2 },
    { "dW3 y2T.dy3",      1, 0, D2, D3, 0  },
    { "dx3 dy3.W3T",      0, 1, 0,  D2, D3 },
    { "dW2 y1T.dy2",      1, 0, D1, D2, 0  },
    { "dx2 dy2.W2T",      0, 1, 0,  D1, D2 },
    { "dW1 xT.dy1",       1, 0, D0, D1, 0  },
    { "dx1 dy1.W1T",      0, 1, 0,  D0, D1 },
};

static void gemm_k(gemm_set *s, size_t k)
{
    const gemm_desc *g = &gemms[k];
    size_t b = s->b, M = g->M ? g->M : b, N = g->N ? g->N : b, K = g->K ? g->K : b;
    const float *A[NGEMMS] = { s->x, s->y1, s->y2, s->y2, s->dy3, s->y1, s->dy2, s->x, s->dy1 };
    const float *B[NGEMMS] = { s->w1, s->w2, s->w3, s->dy3, s->w3, s->dy2, s->w2, s->dy1, s->w1 };
    float *C[NGEMMS] = { s->y1, s->y2, s->y3, s->g3, s->dy2, s->g2, s->dy1, s->g1, s->dx0 };
    /* Stored widths: A is [M,K] (or [K,M] transposed), B is [K,N] (or [N,K]). */
    size_t lda = g->tA ? M : K, ldb = g->tB ? K : N;

    cblas_sgemm(CblasRowMajor, g->tA ? CblasTrans : CblasNoTrans,
                g->tB ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                A[k], (int)lda, B[k], (int)ldb, g->tA ? 1.0f : 0.0f, C[k], (int)N);
}

static void run_step(gemm_set *s)
{
    for (size_t k = 0; k < NGEMMS; k++)
        gemm_k(s, k);
}

/* Calls fn `reps` times per sample until `seconds` have passed (at least 5
 * samples); returns the per-call GFLOP/s of each sample in rates[]. */
/* k < NGEMMS times one GEMM, k == NGEMMS the whole step. */
static void run_k(gemm_set *s, size_t k)
{
    if (k < NGEMMS)
        gemm_k(s, k);
    else
        run_step(s);
}

static size_t measure_rates(gemm_set *s, size_t k, double flops, double seconds,
                            double *rates, size_t max_rates)
{
    double t0, t, per_call;
    size_t reps, n = 0;

    for (int i = 0; i < 3; i++)                  /* warm-up */
        run_k(s, k);
    t0 = bench_now();
    run_k(s, k);
    per_call = bench_now() - t0;
    /* Samples of about 2 ms, so that a preemption spoils only one. */
    reps = per_call > 0.002 ? 1 : (size_t)(0.002 / (per_call + 1e-9)) + 1;
    t0 = bench_now();
    while (n < max_rates && (n < 5 || bench_now() - t0 < seconds)) {
        t = bench_now();
        for (size_t r = 0; r < reps; r++)
            run_k(s, k);
        t = bench_now() - t;
        rates[n++] = flops * (double)reps / t / 1e9;
    }
    return n;
}

#define MAX_RATES 4096

static double sgemm_step_1t(size_t rows, double seconds)
{
    static double rates[MAX_RATES];
    gemm_set s;
    bench_stats st;
    bench_json j;
    size_t n;

    gemm_set_init(&s, rows, rows);
    n = measure_rates(&s, NGEMMS, BENCH_TRAIN_FLOPS * (double)rows, seconds, rates, MAX_RATES);
    st = bench_summarize(rates, n);
    gemm_set_free(&s);
    bench_json_begin(&j, "train", "sgemm_step");
    bench_json_param_int(&j, "rows", (long long)rows);
    bench_json_param_int(&j, "threads", 1);
    bench_json_stats(&j, &st, "GFLOP/s", 0);
    bench_json_end(&j);
    return st.median;
}

/* Two threads each running the slice step on their own buffers at once. */
typedef struct par_arg {
    gemm_set          s;
    pthread_barrier_t *barrier;
    size_t            reps;
} par_arg;

static void *par_worker(void *p)
{
    par_arg *a = p;

    pthread_barrier_wait(a->barrier);
    for (size_t r = 0; r < a->reps; r++)
        run_step(&a->s);
    pthread_barrier_wait(a->barrier);
    return NULL;
}

static double sgemm_step_nt(size_t rows, int nt, double seconds)
{
    static double rates[MAX_RATES];
    par_arg args[MAX_LIST];
    pthread_t tid[MAX_LIST];
    pthread_barrier_t barrier;
    double per_call, t0, flops = BENCH_TRAIN_FLOPS * (double)rows;
    size_t reps, n = 0;
    bench_stats st;
    bench_json j;

    if (nt < 2 || nt > MAX_LIST)
        return 0.0;
    for (int k = 0; k < nt; k++)
        gemm_set_init(&args[k].s, rows, (uint64_t)(rows + (size_t)k));
    for (int i = 0; i < 3; i++)
        run_step(&args[0].s);
    t0 = bench_now();
    run_step(&args[0].s);
    per_call = bench_now() - t0;
    reps = (size_t)(0.01 / (per_call + 1e-9)) + 1;   /* ~10 ms samples */
    pthread_barrier_init(&barrier, NULL, (unsigned)nt + 1);
    t0 = bench_now();
    while (n < MAX_RATES && (n < 5 || bench_now() - t0 < seconds)) {
        double t;
        for (int k = 0; k < nt; k++) {
            args[k].barrier = &barrier;
            args[k].reps = reps;
            pthread_create(&tid[k], NULL, par_worker, &args[k]);
        }
        pthread_barrier_wait(&barrier);
        t = bench_now();
        pthread_barrier_wait(&barrier);
        t = bench_now() - t;
        for (int k = 0; k < nt; k++)
            pthread_join(tid[k], NULL);
        rates[n++] = flops * (double)reps * nt / t / 1e9;
    }
    pthread_barrier_destroy(&barrier);
    for (int k = 0; k < nt; k++)
        gemm_set_free(&args[k].s);
    st = bench_summarize(rates, n);
    bench_json_begin(&j, "train", "sgemm_step");
    bench_json_param_int(&j, "rows", (long long)rows);
    bench_json_param_int(&j, "threads", nt);
    bench_json_stats(&j, &st, "GFLOP/s", 0);
    bench_json_str(&j, "note", "aggregate of concurrent single-threaded sgemm streams");
    bench_json_end(&j);
    return st.median;
}

/* The nine GEMMs one by one (those of layer 3, N or K = 1, are 0.2% of the
 * FLOPs but show what sgemm makes of matrix-vector shapes). */
static void sgemm_shapes(size_t rows, double seconds)
{
    static double rates[MAX_RATES];
    gemm_set s;

    gemm_set_init(&s, rows, rows + 7);
    for (size_t k = 0; k < NGEMMS; k++) {
        const gemm_desc *g = &gemms[k];
        size_t M = g->M ? g->M : rows, N = g->N ? g->N : rows, K = g->K ? g->K : rows;
        size_t n = measure_rates(&s, k, 2.0 * (double)M * N * K, seconds, rates, MAX_RATES);
        bench_stats st = bench_summarize(rates, n);
        bench_json j;

        bench_json_begin(&j, "train", "sgemm");
        bench_json_param_str(&j, "gemm", g->name);
        bench_json_param_int(&j, "M", (long long)M);
        bench_json_param_int(&j, "N", (long long)N);
        bench_json_param_int(&j, "K", (long long)K);
        bench_json_param_int(&j, "transA", g->tA);
        bench_json_param_int(&j, "transB", g->tB);
        bench_json_param_int(&j, "threads", 1);
        bench_json_stats(&j, &st, "GFLOP/s", 0);
        bench_json_end(&j);
    }
    gemm_set_free(&s);
}

/* ---- training -------------------------------------------------------- */

static void fit_opts(tfrs_fit_options *o, size_t batch, int threads, int epochs)
{
    BENCH_CHECK(tfrs_fit_options_init(o, TFRS_FIT_OPTIONS_VERSION));
    o->epochs = epochs;
    o->batch_size = batch;
    o->shuffle = 1;
    o->shuffle_seed = 42;
    o->threads = threads;
}

typedef struct refs {
    double full[MAX_LIST];      /* sgemm_step at batch rows, 1 thread, per batch */
    double slice[MAX_LIST];     /* sgemm_step at slice rows, per thread count    */
} refs;

static void bench_fit(const bench_tutorial *t, const options *o, size_t bi, size_t ti,
                      const refs *rf)
{
    size_t batch = o->batches[bi], rows = tfrs_dataset_num_rows(t->train);
    int threads = o->threads[ti];
    double *rate = calloc((size_t)o->repeats, sizeof(double)), gflops, loss = 0.0;
    tfrs_model *m = bench_tutorial_model(t->users, t->titles, 42);
    tfrs_fit_options fo;
    tfrs_metrics hist;
    bench_stats st;
    bench_json j;

    if (rate == NULL)
        exit(1);
    fit_opts(&fo, batch, threads, 1);
    BENCH_CHECK(tfrs_model_fit(m, t->train, &fo, &hist));           /* warm-up */
    for (int r = 0; r < o->repeats; r++) {
        double t0 = bench_now();
        BENCH_CHECK(tfrs_model_fit(m, t->train, &fo, &hist));
        rate[r] = (double)rows / (bench_now() - t0);
        loss = hist.loss;
    }
    st = bench_summarize(rate, (size_t)o->repeats);
    gflops = st.median * BENCH_TRAIN_FLOPS / 1e9;
    bench_json_begin(&j, "train", "fit");
    bench_json_param_int(&j, "batch", (long long)batch);
    bench_json_param_int(&j, "threads", threads);
    bench_json_param_int(&j, "rows", (long long)rows);
    bench_json_stats(&j, &st, "examples/s", 0);
    bench_json_num(&j, "epoch_ms", 1e3 * (double)rows / st.median);
    bench_json_num(&j, "model_gflops", gflops);
    if (rf != NULL && rf->full[bi] > 0) {
        bench_json_num(&j, "sgemm_full_gflops", rf->full[bi]);
        bench_json_num(&j, "ratio_full", gflops / rf->full[bi]);
    }
    if (rf != NULL && rf->slice[ti] > 0) {
        bench_json_num(&j, "sgemm_slice_gflops", rf->slice[ti]);
        bench_json_num(&j, "ratio_slice", gflops / rf->slice[ti]);
    }
    bench_json_num(&j, "last_epoch_loss", loss);
    bench_json_end(&j);
    tfrs_model_free(m);
    free(rate);
}

static void bench_evaluate(const bench_tutorial *t, const options *o)
{
    size_t rows = tfrs_dataset_num_rows(t->test);
    double *rate = calloc((size_t)o->eval_repeats, sizeof(double));
    tfrs_model *m = bench_tutorial_model(t->users, t->titles, 42);
    tfrs_fit_options fo;
    tfrs_metrics met;
    bench_stats st;
    bench_json j;

    if (rate == NULL)
        exit(1);
    fit_opts(&fo, 8192, 1, 3);
    BENCH_CHECK(tfrs_model_fit(m, t->train, &fo, NULL));
    BENCH_CHECK(tfrs_model_evaluate(m, t->test, 4096, &met));       /* warm-up */
    for (int r = 0; r < o->eval_repeats; r++) {
        double t0 = bench_now();
        BENCH_CHECK(tfrs_model_evaluate(m, t->test, 4096, &met));
        rate[r] = (double)rows / (bench_now() - t0);
    }
    st = bench_summarize(rate, (size_t)o->eval_repeats);
    bench_json_begin(&j, "train", "evaluate");
    bench_json_param_int(&j, "batch", 4096);
    bench_json_param_int(&j, "rows", (long long)rows);
    bench_json_stats(&j, &st, "examples/s", 0);
    bench_json_num(&j, "ms", 1e3 * (double)rows / st.median);
    bench_json_num(&j, "model_gflops", st.median * BENCH_FWD_FLOPS / 1e9);
    bench_json_num(&j, "test_rmse", met.rmse);
    bench_json_end(&j);
    tfrs_model_free(m);
    free(rate);
}

/* ---- allocations ------------------------------------------------------ */

typedef struct alloc_probe {
    unsigned long after_first;   /* count at the first batch's callback */
    unsigned long bytes_after_first;
    unsigned long at_last;       /* count at the last callback          */
    unsigned long bytes_at_last;
} alloc_probe;

static int on_progress(const tfrs_progress *p, void *payload)
{
    alloc_probe *a = payload;

    if (p->epoch == 1 && p->batch == 1 && !p->end_of_epoch) {
        a->after_first = allocs_now();
        a->bytes_after_first = atomic_load(&n_alloc_bytes);
    }
    a->at_last = allocs_now();
    a->bytes_at_last = atomic_load(&n_alloc_bytes);
    return 0;
}

/* Returns 1 when fit allocated after its first batch. */
static int bench_alloc(const bench_tutorial *t, size_t batch, int threads)
{
    tfrs_model *m = bench_tutorial_model(t->users, t->titles, 42);
    unsigned long before, after;
    alloc_probe a = { 0, 0, 0, 0 };
    tfrs_fit_options fo;
    bench_json j;
    int bad;

    fit_opts(&fo, batch, threads, 2);
    fo.progress = on_progress;
    fo.payload = &a;
    before = allocs_now();
    BENCH_CHECK(tfrs_model_fit(m, t->train, &fo, NULL));
    after = allocs_now();
    bad = a.at_last != a.after_first;
    bench_json_begin(&j, "train", "alloc");
    bench_json_param_int(&j, "batch", (long long)batch);
    bench_json_param_int(&j, "threads", threads);
    bench_json_param_int(&j, "epochs", 2);
    bench_json_int(&j, "allocs_total", (long long)(after - before));
    bench_json_int(&j, "allocs_until_first_batch", (long long)(a.after_first - before));
    bench_json_int(&j, "allocs_after_first_batch", (long long)(a.at_last - a.after_first));
    bench_json_int(&j, "bytes_after_first_batch",
                   (long long)(a.bytes_at_last - a.bytes_after_first));
    bench_json_bool(&j, "ok", !bad);
    bench_json_end(&j);
    tfrs_model_free(m);
    return bad;
}

/* ---- determinism ----------------------------------------------------- */

/* Largest |a - b| over all parameters of two models of one architecture;
 * *identical gets 1 when every bit agrees. */
static double param_diff(const tfrs_model *a, const tfrs_model *b, int *identical)
{
    double d = 0.0;

    *identical = 1;
    for (size_t f = 0; f < tfrs_model_num_features(a); f++) {
        const tfrs_embedding *ea = tfrs_model_feature_embedding(a, f);
        const tfrs_embedding *eb = tfrs_model_feature_embedding(b, f);
        const float *wa = tfrs_embedding_weights(ea), *wb = tfrs_embedding_weights(eb);
        size_t n = tfrs_embedding_rows(ea) * tfrs_embedding_dim(ea);

        if (memcmp(wa, wb, n * sizeof(float)) != 0)
            *identical = 0;
        for (size_t i = 0; i < n; i++)
            d = fmax(d, fabs((double)wa[i] - wb[i]));
    }
    for (size_t l = 0; l < tfrs_model_num_dense(a); l++) {
        const tfrs_dense *da = tfrs_model_dense(a, l), *db = tfrs_model_dense(b, l);
        size_t nk = tfrs_dense_in(da) * tfrs_dense_units(da), nb = tfrs_dense_units(da);
        const float *ka = tfrs_dense_kernel(da), *kb = tfrs_dense_kernel(db);
        const float *ba = tfrs_dense_bias(da), *bb = tfrs_dense_bias(db);

        if (memcmp(ka, kb, nk * sizeof(float)) != 0 || memcmp(ba, bb, nb * sizeof(float)) != 0)
            *identical = 0;
        for (size_t i = 0; i < nk; i++)
            d = fmax(d, fabs((double)ka[i] - kb[i]));
        for (size_t i = 0; i < nb; i++)
            d = fmax(d, fabs((double)ba[i] - bb[i]));
    }
    return d;
}

static void bench_determinism(const bench_tutorial *t, size_t batch)
{
    tfrs_model *m[4];
    tfrs_metrics met[4];
    tfrs_fit_options fo;
    int same1, same2, same12;
    double d12;
    bench_json j;

    for (int k = 0; k < 4; k++) {
        m[k] = bench_tutorial_model(t->users, t->titles, 42);
        fit_opts(&fo, batch, k < 2 ? 1 : 2, 3);
        BENCH_CHECK(tfrs_model_fit(m[k], t->train, &fo, NULL));
        BENCH_CHECK(tfrs_model_evaluate(m[k], t->test, 4096, &met[k]));
    }
    param_diff(m[0], m[1], &same1);
    param_diff(m[2], m[3], &same2);
    d12 = param_diff(m[0], m[2], &same12);
    bench_json_begin(&j, "train", "determinism");
    bench_json_param_int(&j, "batch", (long long)batch);
    bench_json_param_int(&j, "epochs", 3);
    bench_json_bool(&j, "identical_1_thread", same1);
    bench_json_bool(&j, "identical_2_threads", same2);
    bench_json_bool(&j, "identical_1_vs_2_threads", same12);
    bench_json_num(&j, "max_abs_param_diff_1_vs_2_threads", d12);
    bench_json_num(&j, "test_rmse_1_thread", met[0].rmse);
    bench_json_num(&j, "test_rmse_2_threads", met[2].rmse);
    bench_json_end(&j);
    for (int k = 0; k < 4; k++)
        tfrs_model_free(m[k]);
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [options]\n"
            "\n"
            "Training and evaluation throughput on MovieLens 100K (JSON lines on stdout).\n"
            "\n"
            "  --data DIR          MovieLens 100K (default: as the example finds it)\n"
            "  --batch LIST        batch sizes, comma-separated (default 256,1024,8192)\n"
            "  --threads LIST      fit thread counts (default 1,2)\n"
            "  --repeats N         timed epochs per configuration (default 7)\n"
            "  --eval-repeats N    timed evaluations (default 30)\n"
            "  --sgemm-seconds S   time per sgemm measurement (default 0.5)\n"
            "  --skip-sgemm        no sgemm reference\n"
            "  --skip-alloc        no allocation count\n"
            "  --skip-determinism  no bit-identity check\n",
            prog);
}

static size_t parse_list(const char *prog, const char *name, const char *v, size_t *out)
{
    char buf[256], *save = NULL, *tok;
    size_t n = 0;

    snprintf(buf, sizeof(buf), "%s", v);
    for (tok = strtok_r(buf, ",", &save); tok != NULL && n < MAX_LIST;
         tok = strtok_r(NULL, ",", &save))
        out[n++] = (size_t)bench_parse_count(prog, name, tok);
    if (n == 0)
        bench_parse_count(prog, name, "");
    return n;
}

static void parse_args(int argc, char **argv, options *o)
{
    const char *v;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            exit(0);
        } else if ((v = bench_option(argc, argv, &i, "--data")) != NULL) {
            o->data = v;
        } else if ((v = bench_option(argc, argv, &i, "--batch")) != NULL) {
            o->nbatches = parse_list(argv[0], "--batch", v, o->batches);
        } else if ((v = bench_option(argc, argv, &i, "--threads")) != NULL) {
            size_t t[MAX_LIST];
            o->nthreads = parse_list(argv[0], "--threads", v, t);
            for (size_t k = 0; k < o->nthreads; k++)
                o->threads[k] = t[k] > MAX_LIST ? MAX_LIST : (int)t[k];
        } else if ((v = bench_option(argc, argv, &i, "--repeats")) != NULL) {
            o->repeats = (int)bench_parse_count(argv[0], "--repeats", v);
        } else if ((v = bench_option(argc, argv, &i, "--eval-repeats")) != NULL) {
            o->eval_repeats = (int)bench_parse_count(argv[0], "--eval-repeats", v);
        } else if ((v = bench_option(argc, argv, &i, "--sgemm-seconds")) != NULL) {
            o->sgemm_seconds = atof(v);
        } else if (strcmp(argv[i], "--skip-sgemm") == 0) {
            o->skip_sgemm = 1;
        } else if (strcmp(argv[i], "--skip-alloc") == 0) {
            o->skip_alloc = 1;
        } else if (strcmp(argv[i], "--skip-determinism") == 0) {
            o->skip_determinism = 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    static const tfrs_allocator counting = { count_malloc, count_realloc, count_free, NULL };
    options o = { NULL, { 256, 1024, 8192 }, 3, { 1, 2 }, 2, 7, 30, 0.5, 0, 0, 0 };
    const char *dir, *blas_env = getenv("OPENBLAS_NUM_THREADS");
    bench_tutorial t;
    refs rf;
    int bad = 0;

    /* Before any other libtfrsc call (see tfrs_set_allocator). */
    BENCH_CHECK(tfrs_set_allocator(&counting));
    parse_args(argc, argv, &o);
    dir = bench_find_data(o.data);
    if (dir == NULL) {
        fprintf(stderr, "%s: MovieLens 100K not found (--data, TFRSC_DATA, data/ml-100k, "
                "../shared/data/ml-100k)\n", argv[0]);
        return 1;
    }
    if (blas_env == NULL || strcmp(blas_env, "1") != 0)
        fprintf(stderr, "%s: warning: OPENBLAS_NUM_THREADS is not 1\n", argv[0]);
    bench_tutorial_load(&t, dir, 0, 0);
    {
        bench_json j;
        bench_json_begin(&j, "train", "setup");
        bench_json_str(&j, "libtfrsc", tfrs_version_string());
        bench_json_str(&j, "data", dir);
        bench_json_int(&j, "train_rows", (long long)tfrs_dataset_num_rows(t.train));
        bench_json_int(&j, "test_rows", (long long)tfrs_dataset_num_rows(t.test));
        bench_json_int(&j, "slice_rows", TFRS__SLICE);
        bench_json_str(&j, "openblas_num_threads", blas_env != NULL ? blas_env : "");
        bench_json_end(&j);
    }

    memset(&rf, 0, sizeof(rf));
    if (!o.skip_sgemm) {
        double slice_1t = 0.0;

        for (size_t bi = 0; bi < o.nbatches; bi++) {
            sgemm_shapes(o.batches[bi], o.sgemm_seconds / 4);
            rf.full[bi] = sgemm_step_1t(o.batches[bi], o.sgemm_seconds);
            if (o.batches[bi] == TFRS__SLICE)
                slice_1t = rf.full[bi];
        }
        if (slice_1t == 0.0) {
            sgemm_shapes(TFRS__SLICE, o.sgemm_seconds / 4);
            slice_1t = sgemm_step_1t(TFRS__SLICE, o.sgemm_seconds);
        }
        /* The slice reference of nt threads: nt concurrent streams of
         * TFRS__SLICE-row steps. */
        for (size_t ti = 0; ti < o.nthreads; ti++)
            rf.slice[ti] = o.threads[ti] == 1 ? slice_1t
                                              : sgemm_step_nt(TFRS__SLICE, o.threads[ti],
                                                              o.sgemm_seconds);
    }
    for (size_t bi = 0; bi < o.nbatches; bi++)
        for (size_t ti = 0; ti < o.nthreads; ti++)
            bench_fit(&t, &o, bi, ti, o.skip_sgemm ? NULL : &rf);
    bench_evaluate(&t, &o);
    if (!o.skip_alloc)
        for (size_t bi = 0; bi < o.nbatches; bi++)
            for (size_t ti = 0; ti < o.nthreads; ti++)
                bad |= bench_alloc(&t, o.batches[bi], o.threads[ti]);
    if (!o.skip_determinism)
        bench_determinism(&t, 8192);
    bench_tutorial_free(&t);
    if (bad)
        fprintf(stderr, "%s: FAIL: fit allocated after its first batch\n", argv[0]);
    return bad;
}
