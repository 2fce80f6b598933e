/*
 * test-mpi.c - libtfrsc-mpi under mpirun (tests/meson.build runs it with
 * -np 1, 2 and 3).  Not a Check program: Check forks, and a forked MPI
 * process is not one.  Every rank runs every case; a failed check prints
 * "rank R: FAIL ..." and the program ends with status 1 on that rank.
 *
 * Cases: training agrees with one process (the same bits on one rank;
 * within 1e-5 on scores and epoch RMSE on 2 and 3 ranks, with sparse,
 * dense and automatic table exchanges), evaluate and vocabularies over all
 * ranks equal the single-process ones, byte-range loading covers the file
 * once in order, a malformed shard fails every rank with the rank and
 * file:line, a rank with other options or a missing column fails every rank
 * (no hang), and a run stopped within an epoch resumes from its checkpoint
 * to the weights of a run that was not stopped.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mpi.h>

#include "tfrsc.h"
#include "tfrsc_mpi.h"

#define USERS 40
#define ITEMS 60
#define ROWS  1000
#define BATCH 64

static int rank, size, failures;
static char tmpdir[256];

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "rank %d: FAIL %s:%d: %s: ", rank, __FILE__,  \
                    __LINE__, #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            failures++;                                                   \
        }                                                                 \
    } while (0)
#define OK(call) CHECK((call) == TFRS_OK, "%s", tfrs_mpi_last_error()[0] ? \
                       tfrs_mpi_last_error() : tfrs_last_error())

/* ---- data ----------------------------------------------------------------- */

static void row(size_t r, char *u, char *i, float *y)
{
    uint64_t x = (uint64_t)r * 0x9e3779b97f4a7c15ull + 12345;
    unsigned uu, ii;

    x ^= x >> 31, x *= 0xbf58476d1ce4e5b9ull, x ^= x >> 29;
    uu = (unsigned)(x % USERS);
    ii = (unsigned)((x >> 24) % ITEMS);
    sprintf(u, "u%u", uu);
    sprintf(i, "i%u", ii);
    *y = 1.0f + 0.5f * (float)(uu % 5 + ii % 5);
}

static tfrs_dataset *make_rows(size_t lo, size_t hi, int with_label)
{
    tfrs_dataset *ds;
    char u[16], i[16];

    OK(tfrs_dataset_create(&ds));
    OK(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, "item", TFRS_COLUMN_STRING));
    OK(tfrs_dataset_add_column(ds, with_label ? "rating" : "other", TFRS_COLUMN_FLOAT));
    for (size_t r = lo; r < hi; r++) {
        const char *s[2] = { u, i };
        float y;
        row(r, u, i, &y);
        OK(tfrs_dataset_append_row(ds, s, &y, NULL));
    }
    return ds;
}

/* The rows of rank r of this run: uneven cuts, so that 3 ranks do not
 * split the rows evenly either. */
static void cut(int r, size_t *lo, size_t *hi)
{
    *lo = (size_t)r * ROWS / (size_t)size + (r > 0 ? 7 : 0);
    *hi = r == size - 1 ? ROWS : (size_t)(r + 1) * ROWS / (size_t)size + 7;
}

static tfrs_vocab *uv, *iv;

static tfrs_model *make_model(void)
{
    tfrs_model *m;
    tfrs_optimizer_options oo;
    tfrs_feature_options fo;

    OK(tfrs_model_create(&m, 5));
    OK(tfrs_feature_options_init(&fo, TFRS_FEATURE_OPTIONS_VERSION));
    fo.vocab = uv;
    fo.embedding_dim = 8;
    fo.l2 = 0.01f;                   /* the activity term is exchanged too */
    OK(tfrs_model_add_feature_ex(m, "user", &fo));
    OK(tfrs_model_add_feature(m, "item", iv, 8));
    OK(tfrs_model_add_dense(m, 32, TFRS_ACT_RELU, 0.001f));
    OK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    OK(tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAGRAD));
    oo.learning_rate = 0.1f;
    OK(tfrs_model_set_optimizer(m, &oo));
    OK(tfrs_model_set_label(m, "rating", NULL));
    OK(tfrs_model_build(m));
    return m;
}

static void fit_opts(tfrs_fit_options *o, int epochs)
{
    OK(tfrs_fit_options_init(o, TFRS_FIT_OPTIONS_VERSION));
    o->epochs = epochs;
    o->batch_size = BATCH;
    o->shuffle_seed = 3;
}

/* ---- cases ------------------------------------------------------------------ */

static void training_agrees(tfrs_mpi_tables tables, int threads)
{
    tfrs_dataset *all = make_rows(0, ROWS, 1), *mine;
    tfrs_model *one = make_model(), *dist = make_model();
    tfrs_fit_options o;
    tfrs_mpi_options mo;
    tfrs_mpi_stats st;
    tfrs_metrics h1[3], hd[3];
    float *s1 = calloc(ROWS, sizeof(float)), *sd = calloc(ROWS, sizeof(float));
    size_t lo, hi;
    double worst = 0.0;
    uint64_t a, b;

    cut(rank, &lo, &hi);
    mine = make_rows(lo, hi, 1);
    fit_opts(&o, 3);
    o.threads = threads;
    OK(tfrs_model_fit(one, all, &o, h1));
    OK(tfrs_mpi_options_init(&mo, TFRS_MPI_OPTIONS_VERSION));
    mo.tables = tables;
    mo.stats = &st;
    OK(tfrs_mpi_fit(dist, MPI_COMM_WORLD, mine, &o, &mo, hd));
    OK(tfrs_model_predict_dataset(one, all, s1));
    OK(tfrs_model_predict_dataset(dist, all, sd));
    for (size_t i = 0; i < ROWS; i++)
        worst = fmax(worst, fabs((double)s1[i] - sd[i]) / fmax(fabs((double)s1[i]), 1e-3));
    OK(tfrs_model_weights_hash(one, &a));
    OK(tfrs_model_weights_hash(dist, &b));
    if (size == 1 && tables != TFRS_MPI_TABLES_DENSE)
        CHECK(a == b, "one rank differs from one process");
    CHECK(worst <= 1e-5, "scores differ by %g relative", worst);
    for (int e = 0; e < 3; e++) {
        CHECK(fabs(h1[e].rmse - hd[e].rmse) <= 1e-5, "epoch %d RMSE %.9f vs %.9f", e + 1,
              h1[e].rmse, hd[e].rmse);
        CHECK(hd[e].examples == ROWS, "epoch %d: %zu examples", e + 1, hd[e].examples);
    }
    CHECK(st.steps == 3 * ((ROWS + BATCH - 1) / BATCH), "%llu steps",
          (unsigned long long)st.steps);
    if (tables == TFRS_MPI_TABLES_SPARSE)
        CHECK(st.dense_exchanges == 0 && st.sparse_exchanges == 2 * st.steps, "sparse");
    if (tables == TFRS_MPI_TABLES_DENSE)
        CHECK(st.sparse_exchanges == 0 && st.dense_exchanges == 2 * st.steps, "dense");
    if (rank == 0)
        printf("%d rank(s), tables %d, %d thread(s): largest relative score difference "
               "%.3g; epoch 3 RMSE %.9f (one process %.9f)\n", size, (int)tables, threads,
               worst, hd[2].rmse, h1[2].rmse);
    {   /* evaluate over the ranks = evaluate of all rows */
        tfrs_metrics e1, ed;
        OK(tfrs_model_evaluate(dist, all, 100, &e1));
        OK(tfrs_mpi_evaluate(dist, MPI_COMM_WORLD, mine, 100, &ed));
        CHECK(ed.examples == ROWS, "%zu examples", ed.examples);
        /* the blocks differ, hence the GEMMs' shapes: float rounding */
        CHECK(fabs(e1.rmse - ed.rmse) <= 1e-6 * e1.rmse, "RMSE %.12f vs %.12f", e1.rmse,
              ed.rmse);
        CHECK(fabs(e1.loss - ed.loss) <= 2e-6 * e1.loss, "loss %.12f vs %.12f", e1.loss,
              ed.loss);
    }
    free(s1);
    free(sd);
    tfrs_model_free(one);
    tfrs_model_free(dist);
    tfrs_dataset_free(all);
    tfrs_dataset_free(mine);
}

static void vocab_over_ranks(void)
{
    tfrs_dataset *all = make_rows(0, ROWS, 1), *mine;
    tfrs_vocab *a, *b;
    size_t lo, hi;

    cut(rank, &lo, &hi);
    mine = make_rows(lo, lo + (hi - lo) / 3, 1);    /* a few values each */
    tfrs_dataset_free(all);
    OK(tfrs_mpi_vocab_adapt_column(&b, MPI_COMM_WORLD, mine, "item", NULL));
    {   /* the rows of all ranks, as one process would see them */
        tfrs_dataset *every;
        char u[16], i[16];
        OK(tfrs_dataset_create(&every));
        OK(tfrs_dataset_add_column(every, "item", TFRS_COLUMN_STRING));
        for (int r = 0; r < size; r++) {
            size_t l, h;
            cut(r, &l, &h);
            for (size_t k = l; k < l + (h - l) / 3; k++) {
                const char *s[1] = { i };
                float y;
                row(k, u, i, &y);
                OK(tfrs_dataset_append_row(every, s, NULL, NULL));
            }
        }
        OK(tfrs_vocab_adapt_column(&a, every, "item", NULL));
        tfrs_dataset_free(every);
    }
    CHECK(tfrs_vocab_size(a) == tfrs_vocab_size(b), "%zu vs %zu tokens", tfrs_vocab_size(a),
          tfrs_vocab_size(b));
    for (size_t k = 0; k < tfrs_vocab_size(a) && k < tfrs_vocab_size(b); k++) {
        const char *x, *y;
        tfrs_vocab_token(a, (int32_t)k, &x);
        tfrs_vocab_token(b, (int32_t)k, &y);
        CHECK(strcmp(x, y) == 0, "token %zu: %s vs %s", k, x, y);
    }
    tfrs_vocab_free(a);
    tfrs_vocab_free(b);
    tfrs_dataset_free(mine);
}

/* A MovieLens-format directory: u.item of ITEMS titles, u.data of `lines`
 * ratings, line `bad` (1-based; 0 none) malformed.  Rank 0 writes it. */
static void write_movielens(const char *dir, size_t lines, size_t bad)
{
    if (rank == 0) {
        char path[512];
        FILE *f;
        snprintf(path, sizeof(path), "%s/u.item", dir);
        f = fopen(path, "w");
        for (int i = 1; i <= ITEMS; i++)
            fprintf(f, "%d|Title %d (1990)|01-Jan-1990||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|"
                    "0|0|0|0\n", i, i);
        fclose(f);
        snprintf(path, sizeof(path), "%s/u.data", dir);
        f = fopen(path, "w");
        for (size_t k = 1; k <= lines; k++) {
            if (k == bad)
                fprintf(f, "%zu\t%zu\tfive\t881250949\n", 1 + k % USERS, 1 + k % ITEMS);
            else
                fprintf(f, "%zu\t%zu\t%zu\t%zu\n", 1 + k % USERS, 1 + k % ITEMS, 1 + k % 5,
                        881250949 + k);
        }
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void byte_ranges(void)
{
    char dir[300];
    tfrs_dataset *mine = NULL, *whole = NULL;
    unsigned long long n, first = 0, total = 0;
    const float *y;
    size_t rows = 0;

    snprintf(dir, sizeof(dir), "%s/ml", tmpdir);
    if (rank == 0)
        CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    write_movielens(dir, 997, 0);
    OK(tfrs_mpi_load_movielens(&mine, MPI_COMM_WORLD, dir, NULL));
    n = mine != NULL ? tfrs_dataset_num_rows(mine) : 0;
    MPI_Exscan(&n, &first, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        first = 0;
    MPI_Allreduce(&n, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(total == 997, "%llu rows over the ranks", total);
    if (size > 1)
        CHECK(n < 997, "rank %d read all %llu rows", rank, n);
    /* This rank's rows are the whole file's rows first .. first + n - 1. */
    OK(tfrs_dataset_load_movielens(&whole, dir, NULL));
    OK(tfrs_dataset_floats(whole, "user_rating", &y));
    rows = tfrs_dataset_num_rows(whole);
    if (mine != NULL && whole != NULL) {
        const float *my;
        size_t mn;
        OK(tfrs_dataset_floats(mine, "user_rating", &my));
        mn = tfrs_dataset_num_rows(mine);
        for (size_t k = 0; k < mn && first + k < rows; k++)
            CHECK(my[k] == y[first + k], "row %zu", (size_t)first + k);
    }
    tfrs_dataset_free(mine);
    tfrs_dataset_free(whole);
    /* A malformed line in the last rank's part fails every rank. */
    write_movielens(dir, 997, 990);
    mine = NULL;
    {
        int rc = tfrs_mpi_load_movielens(&mine, MPI_COMM_WORLD, dir, NULL);
        char want[64];
        snprintf(want, sizeof(want), "rank %d: ", size - 1);
        CHECK(rc == TFRS_EPARSE, "status %d", rc);
        CHECK(mine == NULL, "a dataset after a failure");
        CHECK(strstr(tfrs_mpi_last_error(), want) != NULL &&
              strstr(tfrs_mpi_last_error(), "u.data:990:") != NULL, "message '%s'",
              tfrs_mpi_last_error());
    }
}

static void failures_agree(void)
{
    tfrs_dataset *mine;
    tfrs_model *m = make_model();
    tfrs_fit_options o;
    size_t lo, hi;
    int rc;

    cut(rank, &lo, &hi);
    /* Other options on the last rank. */
    mine = make_rows(lo, hi, 1);
    fit_opts(&o, 1);
    if (rank == size - 1 && size > 1)
        o.batch_size = 32;
    rc = tfrs_mpi_fit(m, MPI_COMM_WORLD, mine, &o, NULL, NULL);
    if (size > 1) {
        char want[32];
        snprintf(want, sizeof(want), "rank %d: ", size - 1);
        CHECK(rc == TFRS_EINVAL, "status %d", rc);
        CHECK(strstr(tfrs_mpi_last_error(), want) != NULL, "'%s'", tfrs_mpi_last_error());
    }
    tfrs_dataset_free(mine);
    /* The last rank's data lack the label: it fails inside fit, before its
     * first exchange, while the others wait in theirs (a new model: m may
     * have trained its one epoch above, with one rank). */
    tfrs_model_free(m);
    m = make_model();
    mine = make_rows(lo, hi, rank != size - 1);
    fit_opts(&o, 1);
    rc = tfrs_mpi_fit(m, MPI_COMM_WORLD, mine, &o, NULL, NULL);
    CHECK(rc == TFRS_ENOTFOUND, "status %d (%s)", rc, tfrs_mpi_last_error());
    {
        char want[32];
        snprintf(want, sizeof(want), "rank %d: ", size - 1);
        CHECK(strstr(tfrs_mpi_last_error(), want) != NULL, "'%s'", tfrs_mpi_last_error());
    }
    tfrs_dataset_free(mine);
    tfrs_model_free(m);
}

/* Wrong arguments: the same status on every rank, with a message. */
static void misuse(void)
{
    tfrs_dataset *mine = make_rows(0, 10, 1);
    tfrs_model *m = make_model(), *keep = m;
    tfrs_fit_options o;
    tfrs_mpi_options mo;
    tfrs_metrics e;
    tfrs_vocab *v = NULL;
    uint64_t b, en;
    int resumed = -1;

    fit_opts(&o, 1);
    CHECK(tfrs_mpi_fit(NULL, MPI_COMM_WORLD, mine, &o, NULL, NULL) == TFRS_EINVAL, "no model");
    CHECK(tfrs_mpi_last_error()[0] != '\0', "no message");
    CHECK(tfrs_mpi_fit(m, MPI_COMM_WORLD, NULL, &o, NULL, NULL) == TFRS_EINVAL, "no rows");
    CHECK(tfrs_mpi_fit(m, MPI_COMM_WORLD, mine, NULL, NULL, NULL) == TFRS_EINVAL, "no options");
    OK(tfrs_mpi_options_init(&mo, TFRS_MPI_OPTIONS_VERSION));
    mo.version = 99;
    CHECK(tfrs_mpi_fit(m, MPI_COMM_WORLD, mine, &o, &mo, NULL) == TFRS_EINVAL, "version");
    CHECK(tfrs_mpi_options_init(NULL, TFRS_MPI_OPTIONS_VERSION) == TFRS_EINVAL, "init NULL");
    CHECK(tfrs_mpi_options_init(&mo, 0) == TFRS_EINVAL, "init version 0");
    CHECK(tfrs_mpi_evaluate(NULL, MPI_COMM_WORLD, mine, 10, &e) == TFRS_EINVAL, "evaluate");
    CHECK(tfrs_mpi_evaluate(m, MPI_COMM_WORLD, mine, 10, NULL) == TFRS_EINVAL, "evaluate out");
    CHECK(tfrs_mpi_resume(NULL, MPI_COMM_WORLD, "x", &resumed) == TFRS_EINVAL, "resume");
    CHECK(tfrs_mpi_resume(&m, MPI_COMM_WORLD, "/nonexistent/ckpt.tfrs", &resumed) == TFRS_OK &&
          resumed == 0 && m == keep, "resume from nothing");
    CHECK(tfrs_mpi_vocab_adapt_column(NULL, MPI_COMM_WORLD, mine, "user", NULL) == TFRS_EINVAL,
          "vocab out");
    CHECK(tfrs_mpi_vocab_adapt_column(&v, MPI_COMM_WORLD, mine, "nope", NULL) ==
          TFRS_ENOTFOUND && v == NULL, "vocab column");
    CHECK(tfrs_mpi_byte_range(MPI_COMM_WORLD, 10, NULL, &en) == TFRS_EINVAL, "range");
    OK(tfrs_mpi_byte_range(MPI_COMM_WORLD, 0, &b, &en));
    CHECK(b == 1 && en == 1, "an empty file's range [%llu, %llu)", (unsigned long long)b,
          (unsigned long long)en);
    {
        tfrs_dataset *d = NULL;
        CHECK(tfrs_mpi_load_movielens(&d, MPI_COMM_WORLD, "/nonexistent", NULL) == TFRS_EIO &&
              d == NULL, "load from nowhere");
        CHECK(strstr(tfrs_mpi_last_error(), "rank 0: ") != NULL, "'%s'",
              tfrs_mpi_last_error());
        CHECK(tfrs_mpi_load_delimited(&d, MPI_COMM_WORLD, NULL, NULL) == TFRS_EINVAL, "path");
    }
    tfrs_model_free(m);
    tfrs_dataset_free(mine);
}

static int stop_at(const tfrs_progress *p, void *payload)
{
    (void)payload;
    return rank == size - 1 && p->epoch == 2 && !p->end_of_epoch && p->batch == 7;
}

static int stop_after_epoch_1(const tfrs_progress *p, void *payload)
{
    (void)payload;
    return p->epoch == 1 && !p->end_of_epoch && p->batch == p->batches;
}

static void resume(void)
{
    char ckpt[300];
    tfrs_dataset *mine;
    tfrs_model *whole = make_model(), *part = make_model(), *back = make_model();
    tfrs_fit_options o;
    tfrs_mpi_options mo;
    size_t lo, hi;
    uint64_t hw, hb, steps, epochs;
    int rc, resumed = -1;

    snprintf(ckpt, sizeof(ckpt), "%s/ckpt.tfrs", tmpdir);
    cut(rank, &lo, &hi);
    mine = make_rows(lo, hi, 1);
    fit_opts(&o, 3);
    OK(tfrs_mpi_fit(whole, MPI_COMM_WORLD, mine, &o, NULL, NULL));
    OK(tfrs_mpi_options_init(&mo, TFRS_MPI_OPTIONS_VERSION));
    mo.checkpoint = ckpt;
    mo.checkpoint_every = 5;
    o.progress = stop_at;
    rc = tfrs_mpi_fit(part, MPI_COMM_WORLD, mine, &o, &mo, NULL);
    CHECK(rc == TFRS_ECANCELED, "status %d (%s)", rc, tfrs_mpi_last_error());
    OK(tfrs_mpi_resume(&back, MPI_COMM_WORLD, ckpt, &resumed));
    CHECK(resumed == 1, "not resumed");
    OK(tfrs_model_training_state(back, &steps, &epochs));
    CHECK(epochs == 1 && steps == 20, "checkpoint at %llu epochs, %llu steps",
          (unsigned long long)epochs, (unsigned long long)steps);
    o.progress = NULL;
    OK(tfrs_mpi_fit(back, MPI_COMM_WORLD, mine, &o, &mo, NULL));
    OK(tfrs_model_weights_hash(whole, &hw));
    OK(tfrs_model_weights_hash(back, &hb));
    CHECK(hw == hb, "the resumed run ends with other weights");
    /* Stopped after an epoch's last batch, on a step that is a multiple of
     * checkpoint_every: the checkpoint must not record that epoch as
     * unfinished (resuming would then fail); the run still ends alike. */
    {
        char ck2[320];
        tfrs_model *p2 = make_model(), *b2 = make_model();
        snprintf(ck2, sizeof(ck2), "%s/ckpt2.tfrs", tmpdir);
        mo.checkpoint = ck2;
        mo.checkpoint_every = (ROWS + BATCH - 1) / BATCH;      /* one epoch of steps */
        o.progress = stop_after_epoch_1;
        rc = tfrs_mpi_fit(p2, MPI_COMM_WORLD, mine, &o, &mo, NULL);
        CHECK(rc == TFRS_ECANCELED, "status %d (%s)", rc, tfrs_mpi_last_error());
        o.progress = NULL;
        OK(tfrs_mpi_resume(&b2, MPI_COMM_WORLD, ck2, &resumed));
        OK(tfrs_mpi_fit(b2, MPI_COMM_WORLD, mine, &o, &mo, NULL));
        OK(tfrs_model_weights_hash(b2, &hb));
        CHECK(hw == hb, "the run stopped after an epoch's last batch ends otherwise");
        tfrs_model_free(p2);
        tfrs_model_free(b2);
        mo.checkpoint = ckpt;
    }
    /* A finished run resumed again has nothing left to do. */
    OK(tfrs_mpi_fit(back, MPI_COMM_WORLD, mine, &o, &mo, NULL));
    OK(tfrs_model_weights_hash(back, &hb));
    CHECK(hw == hb, "a finished run trained again");
    tfrs_model_free(whole);
    tfrs_model_free(part);
    tfrs_model_free(back);
    tfrs_dataset_free(mine);
}

static void remove_tree(void)
{
    char cmd[400];

    if (rank == 0 && tmpdir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

int main(int argc, char **argv)
{
    tfrs_dataset *all;
    int any = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/tfrsc-mpi-XXXXXX", t != NULL ? t : "/tmp");
        if (mkdtemp(tmpdir) == NULL)
            tmpdir[0] = '\0';
    }
    MPI_Bcast(tmpdir, sizeof(tmpdir), MPI_CHAR, 0, MPI_COMM_WORLD);
    if (tmpdir[0] == '\0') {
        fprintf(stderr, "test-mpi: no temporary directory\n");
        MPI_Finalize();
        return 1;
    }
    all = make_rows(0, ROWS, 1);
    OK(tfrs_vocab_adapt_column(&uv, all, "user", NULL));
    OK(tfrs_vocab_adapt_column(&iv, all, "item", NULL));
    tfrs_dataset_free(all);

    training_agrees(TFRS_MPI_TABLES_AUTO, 1);
    training_agrees(TFRS_MPI_TABLES_SPARSE, 1);
    training_agrees(TFRS_MPI_TABLES_DENSE, 2);
    vocab_over_ranks();
    byte_ranges();
    failures_agree();
    misuse();
    resume();

    tfrs_vocab_free(uv);
    tfrs_vocab_free(iv);
    remove_tree();
    MPI_Allreduce(&failures, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("test-mpi: %d rank(s): %s\n", size, any == 0 ? "all passed" : "FAILED");
    MPI_Finalize();
    return any == 0 ? 0 : 1;
}
