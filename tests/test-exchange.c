/*
 * test-exchange.c - data-parallel training through tfrs_fit_options.exchange,
 * without MPI: R model replicas train in R threads of this process, each on
 * a contiguous shard of the rows, and an in-process exchange adds up their
 * gradients and sums (in replica order, as libtfrsc-mpi's sparse exchange
 * does).
 *
 * Checked: one replica gives the bits of a plain fit; 2 and 3 replicas
 * (3 does not divide the batch) keep bit-identical weights and agree with
 * one process to float summation order, on 1 and 2 threads per replica,
 * with a replica whose shard leaves most of its local batches empty; a run
 * stopped within an epoch, saved and resumed with skip_batches ends with the
 * weights of the run that was not stopped; an exchange that lists a row
 * twice or out of range is refused and leaves the weights alone.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define USERS  40
#define ITEMS  60
#define ROWS   1000
#define BATCH  64
#define MAXR   3

/* ---- the in-process exchange ------------------------------------------- */

typedef struct hub {
    int                  n;
    pthread_barrier_t    bar;
    tfrs_exchange_grads *g[MAXR];
    /* rank 0's totals */
    float               *dense;
    double               sums[TFRS_NUM_SUMS];
    size_t               ntab;
    float               *tgrad[4];     /* per table: rows x dim            */
    int32_t             *tids[4];      /* per table: the union, in order   */
    size_t               nids[4];
    unsigned char       *seen[4];
    int                  corrupt;      /* 1: list a row twice; 2: out of range */
} hub;

typedef struct member {
    hub *h;
    int  rank;
} member;

static void hub_init(hub *h, int n)
{
    memset(h, 0, sizeof(*h));
    h->n = n;
    ck_assert_int_eq(pthread_barrier_init(&h->bar, NULL, (unsigned)n), 0);
}

static void hub_free(hub *h)
{
    pthread_barrier_destroy(&h->bar);
    free(h->dense);
    for (size_t t = 0; t < 4; t++) {
        free(h->tgrad[t]);
        free(h->tids[t]);
        free(h->seen[t]);
    }
}

/* Rank 0 adds up every replica's step in replica order. */
static void total(hub *h)
{
    tfrs_exchange_grads *g0 = h->g[0];

    if (h->dense == NULL) {
        h->dense = calloc(g0->num_dense + 1, sizeof(float));
        h->ntab = g0->num_tables;
        ck_assert(h->ntab <= 4);
        for (size_t t = 0; t < h->ntab; t++) {
            size_t rows = g0->tables[t].rows, dim = g0->tables[t].dim;
            h->tgrad[t] = calloc(rows * dim, sizeof(float));
            h->tids[t] = calloc(rows, sizeof(int32_t));
            h->seen[t] = calloc(rows, 1);
        }
    }
    for (size_t i = 0; i < g0->num_dense; i++) {
        float s = h->g[0]->dense[i];
        for (int r = 1; r < h->n; r++)
            s += h->g[r]->dense[i];
        h->dense[i] = s;
    }
    for (int k = 0; k < TFRS_NUM_SUMS; k++) {
        double s = h->g[0]->sums[k];
        for (int r = 1; r < h->n; r++)
            s += h->g[r]->sums[k];
        h->sums[k] = s;
    }
    for (size_t t = 0; t < h->ntab; t++) {
        size_t dim = g0->tables[t].dim;
        h->nids[t] = 0;
        for (int r = 0; r < h->n; r++) {
            const tfrs_table_grad *tg = &h->g[r]->tables[t];
            for (size_t i = 0; i < tg->num_ids; i++) {
                int32_t id = tg->ids[i];
                float *dst = h->tgrad[t] + (size_t)id * dim;
                const float *src = tg->grad + (size_t)id * dim;
                if (!h->seen[t][id]) {
                    h->seen[t][id] = 1;
                    h->tids[t][h->nids[t]++] = id;
                    memcpy(dst, src, dim * sizeof(float));
                } else {
                    for (size_t k = 0; k < dim; k++)
                        dst[k] += src[k];
                }
            }
        }
    }
}

static int hub_exchange(tfrs_exchange_grads *g, void *payload)
{
    member *me = payload;
    hub *h = me->h;

    h->g[me->rank] = g;
    pthread_barrier_wait(&h->bar);
    if (me->rank == 0)
        total(h);
    pthread_barrier_wait(&h->bar);
    memcpy(g->dense, h->dense, g->num_dense * sizeof(float));
    memcpy(g->sums, h->sums, sizeof(h->sums));
    for (size_t t = 0; t < g->num_tables; t++) {
        tfrs_table_grad *tg = &g->tables[t];
        for (size_t i = 0; i < h->nids[t]; i++) {
            int32_t id = h->tids[t][i];
            memcpy(tg->grad + (size_t)id * tg->dim, h->tgrad[t] + (size_t)id * tg->dim,
                   tg->dim * sizeof(float));
            tg->ids[i] = id;
        }
        tg->num_ids = h->nids[t];
        if (h->corrupt == 1 && tg->num_ids >= 2)
            tg->ids[1] = tg->ids[0];
        if (h->corrupt == 2 && tg->num_ids >= 1)
            tg->ids[0] = (int32_t)tg->rows;
    }
    pthread_barrier_wait(&h->bar);
    if (me->rank == 0)      /* ready for the next step */
        for (size_t t = 0; t < h->ntab; t++)
            for (size_t i = 0; i < h->nids[t]; i++)
                h->seen[t][h->tids[t][i]] = 0;
    pthread_barrier_wait(&h->bar);
    return TFRS_OK;
}

/* ---- data and models ---------------------------------------------------- */

static void row_fn(size_t r, char (*s)[TU_ROW_CHARS], float *f, void *arg)
{
    uint64_t x = (uint64_t)r * 0x9e3779b97f4a7c15ull + 12345;
    unsigned u, i;

    (void)arg;
    x ^= x >> 31, x *= 0xbf58476d1ce4e5b9ull, x ^= x >> 29;
    u = (unsigned)(x % USERS);
    i = (unsigned)((x >> 24) % ITEMS);
    snprintf(s[0], TU_ROW_CHARS, "u%u", u);
    snprintf(s[1], TU_ROW_CHARS, "i%u", i);
    f[0] = 1.0f + 0.5f * (float)(u % 5 + i % 5);
}

static tfrs_dataset *all_rows;
static tfrs_vocab *uv, *iv;

static void setup(void)
{
    static const tu_column cols[] = {
        { "user", TFRS_COLUMN_STRING }, { "item", TFRS_COLUMN_STRING },
        { "rating", TFRS_COLUMN_FLOAT },
    };
    ck_assert_int_eq(tu_dataset_new(&all_rows, cols, 3, ROWS, row_fn, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&uv, all_rows, "user", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&iv, all_rows, "item", NULL), TFRS_OK);
}

static void teardown(void)
{
    tfrs_dataset_free(all_rows);
    tfrs_vocab_free(uv);
    tfrs_vocab_free(iv);
}

/* Embeddings 8 (user with L2, so that the activity term is exchanged too),
 * dense 32 relu, 1; Adagrad 0.1. */
static tfrs_model *make_model(void)
{
    tfrs_model *m;
    tu_model_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.seed = 5;
    spec.features[0].name = "user";
    spec.features[0].vocab = uv;
    spec.features[0].dim = 8;
    spec.features[1].name = "item";
    spec.features[1].vocab = iv;
    spec.features[1].dim = 8;
    spec.dense[0].units = 32;
    spec.dense[0].act = TFRS_ACT_RELU;
    spec.dense[0].l2 = 0.001f;
    spec.dense[1].units = 1;
    spec.dense[1].act = TFRS_ACT_LINEAR;
    spec.optimizer.set = 1;
    spec.optimizer.kind = TFRS_OPT_ADAGRAD;
    spec.optimizer.learning_rate = 0.1f;
    spec.label = "rating";
    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    return m;
}

static void fit_opts(tfrs_fit_options *o, int epochs, int threads)
{
    ck_assert_int_eq(tfrs_fit_options_init(o, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    o->epochs = epochs;
    o->batch_size = BATCH;
    o->shuffle_seed = 3;
    o->threads = threads;
}

/* One replica's job. */
typedef struct job {
    member         me;
    tfrs_model    *m;
    tfrs_dataset  *shard;
    tfrs_exchange  x;
    tfrs_fit_options o;
    tfrs_metrics   hist[3];
    int            rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;

    j->o.exchange = &j->x;
    j->rc = tfrs_model_fit(j->m, j->shard, &j->o, j->hist);
    return NULL;
}

/* Trains R replicas on shards cut at `cuts` (R - 1 row indices) for
 * `epochs` epochs on `threads` threads each; returns replica 0's model
 * (the others are checked equal to it and freed) and its history. */
static tfrs_model *train_replicas(int R, const size_t *cuts, int epochs, int threads,
                                  tfrs_metrics *hist)
{
    hub h;
    job jobs[MAXR];
    pthread_t tid[MAXR];
    uint64_t h0;

    hub_init(&h, R);
    for (int r = 0; r < R; r++) {
        size_t lo = r == 0 ? 0 : cuts[r - 1], hi = r == R - 1 ? ROWS : cuts[r];
        job *j = &jobs[r];
        memset(j, 0, sizeof(*j));
        j->me.h = &h;
        j->me.rank = r;
        j->m = make_model();
        ck_assert_int_eq(tfrs_dataset_slice(&j->shard, all_rows, lo, hi - lo), TFRS_OK);
        j->x.version = TFRS_EXCHANGE_VERSION;
        j->x.exchange = hub_exchange;
        j->x.payload = &j->me;
        j->x.global_rows = ROWS;
        j->x.first_row = lo;
        fit_opts(&j->o, epochs, threads);
    }
    for (int r = 0; r < R; r++)
        ck_assert_int_eq(pthread_create(&tid[r], NULL, run_job, &jobs[r]), 0);
    for (int r = 0; r < R; r++)
        pthread_join(tid[r], NULL);
    ck_assert_int_eq(tfrs_model_weights_hash(jobs[0].m, &h0), TFRS_OK);
    for (int r = 0; r < R; r++) {
        uint64_t hr;
        ck_assert_msg(jobs[r].rc == TFRS_OK, "replica %d: %d", r, jobs[r].rc);
        ck_assert_int_eq(tfrs_model_weights_hash(jobs[r].m, &hr), TFRS_OK);
        ck_assert_msg(hr == h0, "replica %d's weights differ from replica 0's", r);
        /* Every replica reports the global metrics. */
        for (int e = 0; e < epochs; e++)
            ck_assert(memcmp(&jobs[r].hist[e], &jobs[0].hist[e], sizeof(tfrs_metrics)) == 0);
        if (r > 0)
            tfrs_model_free(jobs[r].m);
        tfrs_dataset_free(jobs[r].shard);
    }
    memcpy(hist, jobs[0].hist, (size_t)epochs * sizeof(*hist));
    hub_free(&h);
    return jobs[0].m;
}

static tfrs_model *train_alone(int epochs, int threads, tfrs_metrics *hist)
{
    tfrs_model *m = make_model();
    tfrs_fit_options o;

    fit_opts(&o, epochs, threads);
    ck_assert_int_eq(tfrs_model_fit(m, all_rows, &o, hist), TFRS_OK);
    return m;
}

static void scores(const tfrs_model *m, float *out)
{
    ck_assert_int_eq(tfrs_model_predict_dataset(m, all_rows, out), TFRS_OK);
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(fabs((double)a[i]), 1e-3);
        worst = fmax(worst, d);
    }
    return worst;
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(one_replica_is_a_plain_fit)
{
    for (int threads = 1; threads <= 2; threads++) {
        tfrs_metrics ha[3], hb[3];
        tfrs_model *a = train_alone(3, threads, ha);
        tfrs_model *b = train_replicas(1, NULL, 3, threads, hb);
        uint64_t x, y;
        ck_assert_int_eq(tfrs_model_weights_hash(a, &x), TFRS_OK);
        ck_assert_int_eq(tfrs_model_weights_hash(b, &y), TFRS_OK);
        ck_assert_msg(x == y, "%d thread(s): one replica differs from a plain fit", threads);
        for (int e = 0; e < 3; e++) {
            ck_assert(fabs(ha[e].rmse - hb[e].rmse) <= 1e-12 * ha[e].rmse);
            ck_assert(fabs(ha[e].loss - hb[e].loss) <= 1e-12 * ha[e].loss);
            ck_assert_uint_eq(hb[e].examples, ROWS);
        }
        tfrs_model_free(a);
        tfrs_model_free(b);
    }
}
END_TEST

static void replicas_agree(int R, const size_t *cuts, int threads)
{
    float *sa = calloc(ROWS, sizeof(float)), *sb = calloc(ROWS, sizeof(float));
    tfrs_metrics ha[3], hb[3];
    tfrs_model *a = train_alone(3, threads, ha);
    tfrs_model *b = train_replicas(R, cuts, 3, threads, hb);
    double rel;

    scores(a, sa);
    scores(b, sb);
    rel = max_rel(sa, sb, ROWS);
    printf("%d replicas, %d thread(s): largest relative score difference %.3g, "
           "epoch 3 RMSE %.9f vs %.9f\n", R, threads, rel, ha[2].rmse, hb[2].rmse);
    ck_assert(memcmp(sa, sb, ROWS * sizeof(float)) != 0 || R == 1);
    ck_assert_msg(rel <= 1e-5, "scores differ by %g relative", rel);
    for (int e = 0; e < 3; e++) {
        ck_assert_msg(fabs(ha[e].rmse - hb[e].rmse) <= 1e-5, "epoch %d RMSE %.9f vs %.9f",
                      e + 1, ha[e].rmse, hb[e].rmse);
        ck_assert(fabs(ha[e].loss - hb[e].loss) <= 1e-5);
        ck_assert(fabs(ha[e].regularization_loss - hb[e].regularization_loss) <= 1e-6);
        ck_assert_uint_eq(hb[e].examples, ROWS);
    }
    ck_assert(hb[2].rmse < 0.9 * hb[0].rmse);        /* it learned */
    tfrs_model_free(a);
    tfrs_model_free(b);
    free(sa);
    free(sb);
}

START_TEST(two_and_three_replicas)
{
    static const size_t even2[] = { 500 }, three[] = { 333, 700 };
    replicas_agree(2, even2, 1);
    replicas_agree(3, three, 1);
    replicas_agree(3, three, 2);
}
END_TEST

/* Replica 1 holds 5 rows: most of its local batches are empty. */
START_TEST(empty_local_batches)
{
    static const size_t cuts[] = { 995 };
    replicas_agree(2, cuts, 1);
}
END_TEST

/* Stops after batch 5 of epoch 2. */
static int stop_in_epoch_2(const tfrs_progress *p, void *payload)
{
    (void)payload;
    return p->epoch == 2 && !p->end_of_epoch && p->batch == 5;
}

START_TEST(resume_within_an_epoch)
{
    tfrs_metrics hist[3];
    tfrs_model *whole = train_replicas(1, NULL, 3, 1, hist), *part = make_model(), *back;
    tfrs_fit_options o;
    tfrs_exchange x;
    hub h;
    member me = { &h, 0 };
    uint64_t steps, epochs, hw, hb;
    size_t batches = (ROWS + BATCH - 1) / BATCH;
    const char *path;

    hub_init(&h, 1);
    memset(&x, 0, sizeof(x));
    x.version = TFRS_EXCHANGE_VERSION;
    x.exchange = hub_exchange;
    x.payload = &me;
    x.global_rows = ROWS;
    fit_opts(&o, 3, 1);
    o.exchange = &x;
    o.progress = stop_in_epoch_2;
    ck_assert_int_eq(tfrs_model_fit(part, all_rows, &o, NULL), TFRS_ECANCELED);
    ck_assert_int_eq(tfrs_model_training_state(part, &steps, &epochs), TFRS_OK);
    ck_assert_uint_eq(epochs, 1);
    ck_assert_uint_eq(steps, batches + 5);
    tu_tmpdir_make();
    path = tu_tmp_path("ckpt.tfrs");
    ck_assert_int_eq(tfrs_model_save(part, path, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&back, path), TFRS_OK);
    x.skip_batches = (size_t)(steps - epochs * batches);
    o.progress = NULL;
    o.epochs = 2;                              /* the rest of epoch 2, and epoch 3 */
    ck_assert_int_eq(tfrs_model_fit(back, all_rows, &o, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_weights_hash(whole, &hw), TFRS_OK);
    ck_assert_int_eq(tfrs_model_weights_hash(back, &hb), TFRS_OK);
    ck_assert_msg(hw == hb, "resumed run ends with other weights");
    tu_tmpdir_remove();
    hub_free(&h);
    tfrs_model_free(whole);
    tfrs_model_free(part);
    tfrs_model_free(back);
}
END_TEST

START_TEST(bad_exchange_refused)
{
    for (int mode = 1; mode <= 2; mode++) {
        tfrs_model *m = make_model();
        tfrs_fit_options o;
        tfrs_exchange x;
        hub h;
        member me = { &h, 0 };
        uint64_t before, after, steps;

        hub_init(&h, 1);
        h.corrupt = mode;
        memset(&x, 0, sizeof(x));
        x.version = TFRS_EXCHANGE_VERSION;
        x.exchange = hub_exchange;
        x.payload = &me;
        x.global_rows = ROWS;
        fit_opts(&o, 1, 1);
        o.exchange = &x;
        ck_assert_int_eq(tfrs_model_weights_hash(m, &before), TFRS_OK);
        ck_assert_int_eq(tfrs_model_fit(m, all_rows, &o, NULL), TFRS_EINVAL);
        ck_assert_ptr_nonnull(strstr(tfrs_last_error(), mode == 1 ? "twice" : "out of range"));
        ck_assert_int_eq(tfrs_model_weights_hash(m, &after), TFRS_OK);
        ck_assert_int_eq(tfrs_model_training_state(m, &steps, NULL), TFRS_OK);
        ck_assert(before == after && steps == 0);
        /* The model still trains without the exchange. */
        o.exchange = NULL;
        ck_assert_int_eq(tfrs_model_fit(m, all_rows, &o, NULL), TFRS_OK);
        hub_free(&h);
        tfrs_model_free(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exchange");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, one_replica_is_a_plain_fit);
    tcase_add_test(tc, two_and_three_replicas);
    tcase_add_test(tc, empty_local_batches);
    tcase_add_test(tc, resume_within_an_epoch);
    tcase_add_test(tc, bad_exchange_refused);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
