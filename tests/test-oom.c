/*
 * test-oom.c - out of memory: every allocation of every public entry point
 * that allocates fails in turn, once and then persistently.
 *
 * For each operation, allocation i (counted from the start of the call) is
 * made to fail, for i = 0, 1, 2, ... until the call succeeds without any
 * injected failure.  "Once" fails only allocation i; "persistent" fails i and
 * every later one.  Each failed call must return TFRS_ENOMEM with a message,
 * leave constructor outputs NULL and the handles it was given usable, and,
 * after everything is freed, the allocator must hold no block (no leak).  A
 * call that succeeds despite an injected failure must still give the right
 * result.  cJSON (the model file header) allocates through the library's
 * allocator while a custom one is installed, so save and load are covered in
 * full.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "tfrsc.h"

/* ---- the failing allocator ------------------------------------------- */

/* tu_alloc: blocks carry a header, so that frees of foreign or already
 * freed pointers are caught rather than passed to free(). */
static tu_alloc fa = TU_ALLOC_INIT;

/* Each test installs the allocator (with realloc_fn or without, when the
 * library emulates realloc) and checks the books at the end. */
static const tfrs_allocator with_realloc = { tu_malloc, tu_realloc, tu_free, &fa };
static const tfrs_allocator without_realloc = { tu_malloc, NULL, tu_free, &fa };

static void setup_allocator(void)
{
    tu_alloc_reset(&fa);
    ck_assert_int_eq(tfrs_set_allocator(&with_realloc), TFRS_OK);
}

static void teardown_allocator(void)
{
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}

/* ---- the driver ------------------------------------------------------ */

/* One operation under test.  setup and teardown run with the allocator
 * disarmed; call runs armed and must release whatever it made itself when it
 * fails.  teardown verifies the outcome (rc is call's status) and frees what
 * setup and a successful call made. */
typedef struct oom_op {
    const char *name;
    void (*setup)(void *ctx);
    int  (*call)(void *ctx);
    void (*teardown)(void *ctx, int rc);
} oom_op;

/* Calls needed by the longest operation, a bound that catches a call that
 * never stops allocating. */
#define MAX_CALLS 20000

static void oom_run(const oom_op *op, void *ctx)
{
    long wrong = 0, leaks = 0, silent = 0, runs = 0, failures = 0;
    char first[512] = "";

    for (int persistent = 0; persistent < 2; persistent++) {
        for (long i = 0;; i++) {
            long base = fa.live, injected;
            int rc;

            ck_assert_msg(i < MAX_CALLS, "%s: still failing after %d allocations", op->name,
                          MAX_CALLS);
            if (op->setup != NULL)
                op->setup(ctx);
            tu_alloc_arm(&fa, i, persistent);
            rc = op->call(ctx);
            injected = fa.injected;
            tu_alloc_arm(&fa, -1, 0);
            runs++;
            if (rc != TFRS_OK) {
                failures++;
                ck_assert_msg(injected > 0, "%s: failed (%d: %s) with no allocation failed",
                              op->name, rc, tfrs_last_error());
                if (rc != TFRS_ENOMEM && wrong++ == 0)
                    snprintf(first, sizeof(first), "%s: allocation %ld (%s) gave %d: %s",
                             op->name, i, persistent ? "persistent" : "once", rc,
                             tfrs_last_error());
                if (tfrs_last_error()[0] == '\0')
                    silent++;
            }
            op->teardown(ctx, rc);
            if (fa.live != base && leaks++ == 0 && wrong == 0)
                snprintf(first, sizeof(first), "%s: allocation %ld (%s): %ld blocks leaked",
                         op->name, i, persistent ? "persistent" : "once", fa.live - base);
            if (rc == TFRS_OK && injected == 0)
                break;
        }
    }
    ck_assert_msg(wrong == 0 && leaks == 0 && silent == 0,
                  "%s: %ld runs, %ld wrong codes, %ld leaks, %ld without message; first: %s",
                  op->name, runs, wrong, leaks, silent, first);
    ck_assert_int_eq(fa.bad_frees, 0);
    if (getenv("TFRS_OOM_VERBOSE") != NULL)
        fprintf(stderr, "%-44s %6ld runs, %6ld failed with TFRS_ENOMEM\n", op->name, runs,
                failures);
    /* Every operation here allocates, so at least one run failed. */
    ck_assert_msg(failures > 0, "%s: no allocation was ever failed", op->name);
}

/* ---- synthetic data ---------------------------------------------------- */

#define NUSERS 50
#define NITEMS 80
#define NROWS  1000

static void user_name(char *buf, size_t n, int u)
{
    snprintf(buf, n, "%d", u + 1);
}

static void item_name(char *buf, size_t n, int i)
{
    snprintf(buf, n, "Movie %d (19%02d)", i + 1, 40 + i % 60);
}

static int row_user(int r)
{
    return (r * 7 + r / 13) % NUSERS;
}

static int row_item(int r)
{
    return (r * 11 + r / 7) % NITEMS;
}

static float row_rating(int r)
{
    return (float)(1 + (row_user(r) * 3 + row_item(r) * 5) % 5);
}

/* u.item (Latin-1 titles), u.data and a CSV with the same ratings. */
static int write_data_files(void)
{
    static char item[NITEMS * 160], data[NROWS * 40], csv[NROWS * 48 + 64];
    size_t a = 0, b = 0, c = 0;

    for (int i = 0; i < NITEMS; i++) {
        char t[64];
        item_name(t, sizeof(t), i);
        a += (size_t)snprintf(item + a, sizeof(item) - a,
                              "%d|%s%s|07-Mar-2003||http://x/%d|0|0|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0"
                              "|0|0\n", i + 1, t, i % 9 == 0 ? " \xe9t\xe9" : "", i);
    }
    c += (size_t)snprintf(csv, sizeof(csv), "user_id,movie_title,user_rating\n");
    for (int r = 0; r < NROWS; r++) {
        char t[64];
        item_name(t, sizeof(t), row_item(r));
        b += (size_t)snprintf(data + b, sizeof(data) - b, "%d\t%d\t%d\t%d\n", row_user(r) + 1,
                              row_item(r) + 1, (int)row_rating(r), 880000000 + r);
        c += (size_t)snprintf(csv + c, sizeof(csv) - c, "%d,%s,%d\n", row_user(r) + 1, t,
                              (int)row_rating(r));
    }
    /* The side tables: invented genres and users (Latin-1 occupations). */
    {
        static char genre[19 * 16], user[NUSERS * 48];
        size_t g = 0, u = 0;
        for (int k = 0; k < 19; k++)
            g += (size_t)snprintf(genre + g, sizeof(genre) - g, "Genre %d|%d\n", k, k);
        for (int k = 0; k < NUSERS; k++)
            u += (size_t)snprintf(user + u, sizeof(user) - u, "%d|%d|%c|job%s %d|%05d\n", k + 1,
                                  10 + k, k % 2 ? 'F' : 'M', k % 4 ? "" : " \xe9", k % 7, k);
        if (tu_write_file(tu_tmp_path("u.genre"), genre, strlen(genre)) < 0 ||
            tu_write_file(tu_tmp_path("u.user"), user, strlen(user)) < 0)
            return -1;
    }
    /* Run from main, so no ck_assert. */
    if (tu_write_file(tu_tmp_path("u.item"), item, strlen(item)) < 0 ||
        tu_write_file(tu_tmp_path("u.data"), data, strlen(data)) < 0 ||
        tu_write_file(tu_tmp_path("ratings.csv"), csv, strlen(csv)) < 0)
        return -1;
    return 0;
}

/* Row r of the NROWS ratings: user, title, rating, liked, weight. */
static void rating_row(size_t r, char (*s)[TU_ROW_CHARS], float *f, void *arg)
{
    (void)arg;
    user_name(s[0], TU_ROW_CHARS, row_user((int)r));
    item_name(s[1], TU_ROW_CHARS, row_item((int)r));
    f[0] = row_rating((int)r);
    f[1] = row_rating((int)r) >= 4.0f;
    f[2] = 0.5f + (float)(r % 3);
}

/* The NROWS ratings as a dataset (user_id, movie_title, user_rating and a
 * 0/1 "liked" column with a "w" weight). */
static tfrs_dataset *make_dataset(void)
{
    static const tu_column cols[] = {
        { "user_id", TFRS_COLUMN_STRING },
        { "movie_title", TFRS_COLUMN_STRING },
        { "user_rating", TFRS_COLUMN_FLOAT },
        { "liked", TFRS_COLUMN_FLOAT },
        { "w", TFRS_COLUMN_FLOAT },
    };
    tfrs_dataset *ds = NULL;

    ck_assert_int_eq(tu_dataset_new(&ds, cols, TU_NELEM(cols), NROWS, rating_row, NULL), TFRS_OK);
    return ds;
}

static tfrs_vocab *column_vocab(const tfrs_dataset *ds, const char *column)
{
    tfrs_vocab *v = NULL;

    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, column, NULL), TFRS_OK);
    return v;
}

/* Creates, configures and builds the tutorial's model shape (small). The
 * first failing call's status is returned and *out stays NULL. */
static int build_model(tfrs_model **out, const tfrs_vocab *vu, const tfrs_vocab *vt, int bce)
{
    tfrs_task_options to;
    tu_model_spec spec = {
        .seed = 42,
        .features = { { "user_id", vu, 8 }, { "movie_title", vt, 8 } },
        .dense = { { 16, TFRS_ACT_RELU, bce ? 0.01f : 0.0f }, { 8, TFRS_ACT_RELU, 0.0f },
                   { 1, TFRS_ACT_LINEAR, 0.0f } },
        .optimizer = { 1, bce ? TFRS_OPT_ADAM : TFRS_OPT_ADAGRAD, 0.05f, 0.0f },
        .task = &to,
        .label = bce ? "liked" : "user_rating",
        .weight = bce ? "w" : NULL,
    };

    tfrs_task_options_init(&to, TFRS_TASK_OPTIONS_VERSION);
    if (bce) {
        to.loss = TFRS_LOSS_BCE;
        to.from_logits = 1;
        to.metrics = TFRS_METRIC_RMSE | TFRS_METRIC_MAE | TFRS_METRIC_AUC;
    }
    return tu_model_new(out, &spec);
}

/* predict and test_step score a large n in blocks of this many rows, with
 * scratch per call (the library's block size, private to it); NPRED rows
 * take several blocks and a partial last one, so that a failure in a later
 * block is covered too. */
#define BLOCK_ROWS 1024
#define NPRED  2500
_Static_assert(NPRED > 2 * BLOCK_ROWS && NPRED % BLOCK_ROWS != 0,
               "NPRED must span several blocks and end with a partial one");
#define NCAND  NITEMS

/* Shared fixtures of one test: a dataset, its vocabularies, a trained
 * model and reference outputs computed without failures. */

typedef struct world {
    tfrs_dataset *ds;
    tfrs_vocab   *vu, *vt;
    tfrs_model   *m;
    const char  **values;           /* NPRED * 2 */
    char        (*names)[64];       /* NPRED * 2 strings behind values */
    float        *ref_scores;       /* NPRED */
    const char   *cands[NCAND];
    char          cand_names[NCAND][64];
    tfrs_scored   ref_rank[NCAND];
    tfrs_metrics  ref_eval;
} world;

static int fit_once(tfrs_model *m, const tfrs_dataset *ds, tfrs_metrics *hist)
{
    tfrs_fit_options fo;

    tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION);
    fo.batch_size = 128;
    fo.shuffle_seed = 7;
    return tfrs_model_fit(m, ds, &fo, hist);
}

static void world_init(world *w, int bce)
{
    memset(w, 0, sizeof(*w));
    w->ds = make_dataset();
    w->vu = column_vocab(w->ds, "user_id");
    w->vt = column_vocab(w->ds, "movie_title");
    ck_assert_int_eq(build_model(&w->m, w->vu, w->vt, bce), TFRS_OK);
    ck_assert_int_eq(fit_once(w->m, w->ds, NULL), TFRS_OK);

    w->values = calloc(NPRED * 2, sizeof(*w->values));
    w->names = calloc(NPRED * 2, sizeof(*w->names));
    w->ref_scores = calloc(NPRED, sizeof(float));
    ck_assert(w->values != NULL && w->names != NULL && w->ref_scores != NULL);
    for (int i = 0; i < NPRED; i++) {
        /* A few unknown strings take the OOV row. */
        if (i % 97 == 0)
            snprintf(w->names[2 * i], 64, "stranger %d", i);
        else
            user_name(w->names[2 * i], 64, i % NUSERS);
        item_name(w->names[2 * i + 1], 64, (i * 3) % NITEMS);
        w->values[2 * i] = w->names[2 * i];
        w->values[2 * i + 1] = w->names[2 * i + 1];
    }
    ck_assert_int_eq(tfrs_model_predict(w->m, w->values, NPRED, w->ref_scores), TFRS_OK);
    for (int i = 0; i < NCAND; i++) {
        item_name(w->cand_names[i], 64, i);
        w->cands[i] = w->cand_names[i];
    }
    {
        const char *q[2] = { "7", NULL };
        ck_assert_int_eq(tfrs_model_rank(w->m, q, "movie_title", w->cands, NCAND, 0,
                                         w->ref_rank, NULL), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_evaluate(w->m, w->ds, 300, &w->ref_eval), TFRS_OK);
}

static void world_free(world *w)
{
    tfrs_model_free(w->m);
    tfrs_vocab_free(w->vu);
    tfrs_vocab_free(w->vt);
    tfrs_dataset_free(w->ds);
    free(w->values);
    free(w->names);
    free(w->ref_scores);
}

/* 1 if m predicts the reference scores bit for bit. */
static int predicts_reference(const world *w, const tfrs_model *m)
{
    float *s = calloc(NPRED, sizeof(float));
    int same;

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(tfrs_model_predict(m, w->values, NPRED, s), TFRS_OK);
    same = memcmp(s, w->ref_scores, NPRED * sizeof(float)) == 0;
    free(s);
    return same;
}

/* ---- dataset loading --------------------------------------------------- */

typedef struct out_ctx {
    world        *w;
    tfrs_dataset *ds;
    tfrs_vocab   *v;
    tfrs_model   *m;
    void         *aux;
    int32_t      *ids;    /* NROWS * 2 looked-up ids (malloc)   */
    float        *before; /* NROWS scores before the call       */
    int           flag;
} out_ctx;

static int call_load_movielens(void *p)
{
    out_ctx *c = p;
    tfrs_load_options lo;

    tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION);
    if (c->flag == 2)
        lo.movielens_features = TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES;
    if (c->flag == 3) {
        lo.range_begin = 1;             /* a byte range: all lines but the first */
        lo.range_end = 1000000000;
    }
    c->ds = (tfrs_dataset *)c;      /* must become NULL on failure */
    return tfrs_dataset_load_movielens(&c->ds, tu_tmpdir, c->flag ? &lo : NULL);
}

static void check_loaded(void *p, int rc)
{
    out_ctx *c = p;
    const char *title;

    if (rc != TFRS_OK) {
        ck_assert_ptr_null(c->ds);
        return;
    }
    if (c->flag == 3) {
        ck_assert_uint_eq(tfrs_dataset_num_rows(c->ds), NROWS - 1);
        tfrs_dataset_free(c->ds);
        c->ds = NULL;
        return;
    }
    ck_assert_uint_eq(tfrs_dataset_num_rows(c->ds), NROWS);
    ck_assert_int_eq(tfrs_dataset_get_string(c->ds, "movie_title", 0, &title), TFRS_OK);
    ck_assert_str_eq(title, "Movie 1 (1940) \xc3\xa9t\xc3\xa9");
    if (c->flag == 2) {
        ck_assert_uint_eq(tfrs_dataset_num_columns(c->ds), 13);
        ck_assert_int_eq(tfrs_dataset_get_string(c->ds, "movie_genres", 0, &title), TFRS_OK);
        ck_assert_str_eq(title, "Genre 3|Genre 4");
    }
    tfrs_dataset_free(c->ds);
    c->ds = NULL;
}

START_TEST(load_movielens)
{
    out_ctx c = { 0 };
    oom_op op = { "tfrs_dataset_load_movielens", NULL, call_load_movielens, check_loaded };

    oom_run(&op, &c);
    c.flag = 1;
    op.name = "tfrs_dataset_load_movielens (options)";
    oom_run(&op, &c);
    c.flag = 2;
    op.name = "tfrs_dataset_load_movielens (side features)";
    oom_run(&op, &c);
    c.flag = 3;
    op.name = "tfrs_dataset_load_movielens (byte range)";
    oom_run(&op, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

static int call_load_delimited(void *p)
{
    out_ctx *c = p;
    static const char *const floats[] = { "user_rating" };
    tfrs_delimited_options o;

    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = floats;
    o.num_float_columns = 1;
    if (c->flag == 1) {
        o.load.range_begin = 40;        /* inside the first row: the others */
        o.load.range_end = UINT64_MAX;
    }
    c->ds = (tfrs_dataset *)c;
    return tfrs_dataset_load_delimited(&c->ds, tu_tmp_path("ratings.csv"), &o);
}

static void check_delimited(void *p, int rc)
{
    out_ctx *c = p;
    const float *r;

    if (rc != TFRS_OK) {
        ck_assert_ptr_null(c->ds);
        return;
    }
    ck_assert_uint_eq(tfrs_dataset_num_rows(c->ds), NROWS - (c->flag == 1));
    ck_assert_int_eq(tfrs_dataset_floats(c->ds, "user_rating", &r), TFRS_OK);
    ck_assert(r[5 - (c->flag == 1)] == row_rating(5));
    tfrs_dataset_free(c->ds);
    c->ds = NULL;
}

START_TEST(load_delimited)
{
    out_ctx c = { 0 };
    oom_op op = { "tfrs_dataset_load_delimited", NULL, call_load_delimited, check_delimited };

    oom_run(&op, &c);
    c.flag = 1;
    op.name = "tfrs_dataset_load_delimited (byte range)";
    oom_run(&op, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- dataset building ---------------------------------------------------- */

static void setup_dataset(void *p)
{
    out_ctx *c = p;

    c->ds = make_dataset();
}

static int call_build_dataset(void *p)
{
    out_ctx *c = p;
    const char *s[2] = { "1", "x" };
    float f = 1.0f;
    int rc;

    c->ds = (tfrs_dataset *)c;
    if ((rc = tfrs_dataset_create(&c->ds)) != TFRS_OK)
        return rc;
    if ((rc = tfrs_dataset_add_column(c->ds, "a", TFRS_COLUMN_STRING)) != TFRS_OK ||
        (rc = tfrs_dataset_add_column(c->ds, "b", TFRS_COLUMN_STRING)) != TFRS_OK ||
        (rc = tfrs_dataset_add_column(c->ds, "c", TFRS_COLUMN_FLOAT)) != TFRS_OK)
        goto fail;
    for (int r = 0; r < 40 && rc == TFRS_OK; r++) {
        char u[16];
        snprintf(u, sizeof(u), "%d", r);
        s[0] = u;
        rc = tfrs_dataset_append(c->ds, s, &f);
    }
    if (rc != TFRS_OK) {
        /* A failed append leaves the rows appended before it. */
        if (tfrs_dataset_num_rows(c->ds) > 40)
            rc = TFRS_ESHAPE;
        goto fail;
    }
    return TFRS_OK;
fail:
    tfrs_dataset_free(c->ds);
    c->ds = NULL;
    return rc;
}

static void check_built_dataset(void *p, int rc)
{
    out_ctx *c = p;

    if (rc == TFRS_OK)
        ck_assert_uint_eq(tfrs_dataset_num_rows(c->ds), 40);
    tfrs_dataset_free(c->ds);
    c->ds = NULL;
}

static int call_slice(void *p)
{
    out_ctx *c = p;

    c->aux = c;
    return tfrs_dataset_slice((tfrs_dataset **)&c->aux, c->ds, 100, 500);
}

static void check_slice(void *p, int rc)
{
    out_ctx *c = p;

    if (rc != TFRS_OK)
        ck_assert_ptr_null(c->aux);
    else
        ck_assert_uint_eq(tfrs_dataset_num_rows(c->aux), 500);
    tfrs_dataset_free(c->aux);
    tfrs_dataset_free(c->ds);
    c->aux = NULL;
    c->ds = NULL;
}

static int call_shuffle(void *p)
{
    out_ctx *c = p;

    return tfrs_dataset_shuffle(c->ds, 3);
}

static void check_shuffle(void *p, int rc)
{
    out_ctx *c = p;
    const char *s;

    /* On failure the rows keep their order. */
    ck_assert_int_eq(tfrs_dataset_get_string(c->ds, "user_id", 1, &s), TFRS_OK);
    if (rc != TFRS_OK)
        ck_assert_int_eq(atoi(s), row_user(1) + 1);
    tfrs_dataset_free(c->ds);
    c->ds = NULL;
}

START_TEST(dataset_build_slice_shuffle)
{
    out_ctx c = { 0 };
    oom_op build = { "tfrs_dataset_create/add_column/append", NULL, call_build_dataset,
                     check_built_dataset };
    oom_op slice = { "tfrs_dataset_slice", setup_dataset, call_slice, check_slice };
    oom_op shuffle = { "tfrs_dataset_shuffle", setup_dataset, call_shuffle, check_shuffle };

    oom_run(&build, &c);
    oom_run(&slice, &c);
    oom_run(&shuffle, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- vocabularies ---------------------------------------------------------- */

static const char *const vocab_tokens[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon",
    "phi", "chi", "psi", "omega", "\xc3\xa9t\xc3\xa9",
};
#define NTOK (sizeof(vocab_tokens) / sizeof(vocab_tokens[0]))

static int call_vocab_create(void *p)
{
    out_ctx *c = p;
    tfrs_vocab_options o;

    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = c->flag ? "" : NULL;
    o.num_oov_indices = c->flag ? 3 : 1;
    c->v = (tfrs_vocab *)c;
    return tfrs_vocab_create(&c->v, vocab_tokens, NTOK, &o);
}

static int call_vocab_adapt(void *p)
{
    out_ctx *c = p;
    const char *s[3 * NTOK + 2];
    tfrs_vocab_options o;

    for (size_t i = 0; i < 3 * NTOK; i++)
        s[i] = vocab_tokens[(i * 7) % NTOK];
    s[3 * NTOK] = s[3 * NTOK + 1] = "";
    tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
    o.mask_token = c->flag ? "" : NULL;
    c->v = (tfrs_vocab *)c;
    return tfrs_vocab_adapt(&c->v, s, c->flag ? 3 * NTOK + 2 : 3 * NTOK, &o);
}

static void check_vocab(void *p, int rc)
{
    out_ctx *c = p;
    int32_t id;

    if (rc != TFRS_OK) {
        ck_assert_ptr_null(c->v);
        return;
    }
    ck_assert_uint_eq(tfrs_vocab_num_tokens(c->v), NTOK);
    ck_assert_int_eq(tfrs_vocab_lookup(c->v, "omega", &id), TFRS_OK);
    ck_assert_int_gt(id, 0);
    tfrs_vocab_free(c->v);
    c->v = NULL;
}

static int call_vocab_adapt_column(void *p)
{
    out_ctx *c = p;

    c->v = (tfrs_vocab *)c;
    return tfrs_vocab_adapt_column(&c->v, c->ds, c->flag ? "movie_title" : "user_id", NULL);
}

static void check_vocab_column(void *p, int rc)
{
    out_ctx *c = p;

    if (rc != TFRS_OK)
        ck_assert_ptr_null(c->v);
    else
        ck_assert_uint_eq(tfrs_vocab_num_tokens(c->v), c->flag ? NITEMS : NUSERS);
    tfrs_vocab_free(c->v);
    tfrs_dataset_free(c->ds);
    c->v = NULL;
    c->ds = NULL;
}

START_TEST(vocab_build)
{
    out_ctx c = { 0 };
    oom_op create = { "tfrs_vocab_create", NULL, call_vocab_create, check_vocab };
    oom_op adapt = { "tfrs_vocab_adapt", NULL, call_vocab_adapt, check_vocab };
    oom_op column = { "tfrs_vocab_adapt_column", setup_dataset, call_vocab_adapt_column,
                      check_vocab_column };

    for (c.flag = 0; c.flag < 2; c.flag++) {
        oom_run(&create, &c);
        oom_run(&adapt, &c);
        oom_run(&column, &c);
    }
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- derived features: implicit bags, quantiles, bag vocabularies --------- */

/* flag 0: the bags of the dataset's own users; flag 1: of a slice's users,
 * from the whole dataset. */
static void setup_bags(void *p)
{
    out_ctx *c = p;

    c->ds = make_dataset();
    c->aux = NULL;
    if (c->flag)
        ck_assert_int_eq(tfrs_dataset_slice((tfrs_dataset **)&c->aux, c->ds, 0, 300), TFRS_OK);
}

static int call_bags(void *p)
{
    out_ctx *c = p;

    return tfrs_dataset_add_implicit_bags(c->flag ? c->aux : c->ds, "history", c->ds,
                                          "user_id", "movie_title", '|');
}

static void check_bags(void *p, int rc)
{
    out_ctx *c = p;
    tfrs_dataset *t = c->flag ? c->aux : c->ds;
    size_t i;

    /* On failure the target is unchanged. */
    ck_assert_uint_eq(tfrs_dataset_num_columns(t), rc == TFRS_OK ? 6 : 5);
    ck_assert_int_eq(tfrs_dataset_find_column(t, "history", &i),
                     rc == TFRS_OK ? TFRS_OK : TFRS_ENOTFOUND);
    if (rc == TFRS_OK) {
        const uint32_t *ids;
        size_t n;
        ck_assert_int_eq(tfrs_dataset_string_ids(t, "history", &ids, &n), TFRS_OK);
        ck_assert_uint_le(n, NUSERS);
    }
    tfrs_dataset_free(c->aux);
    tfrs_dataset_free(c->ds);
    c->aux = NULL;
    c->ds = NULL;
}

static int call_quantiles(void *p)
{
    out_ctx *c = p;
    double b[9];
    size_t n = 0;
    int rc = tfrs_dataset_column_quantiles(c->ds, "user_rating", 10, b, &n);

    if (rc == TFRS_OK)
        ck_assert_uint_ge(n, 1);
    return rc;
}

static void check_dataset_only(void *p, int rc)
{
    out_ctx *c = p;

    (void)rc;
    ck_assert_uint_eq(tfrs_dataset_num_rows(c->ds), NROWS);
    tfrs_dataset_free(c->ds);
    c->ds = NULL;
}

static void setup_bag_column(void *p)
{
    out_ctx *c = p;

    c->ds = make_dataset();
    ck_assert_int_eq(tfrs_dataset_add_implicit_bags(c->ds, "history", c->ds, "user_id",
                                                    "movie_title", '|'), TFRS_OK);
}

static int call_vocab_adapt_bags(void *p)
{
    out_ctx *c = p;

    c->v = (tfrs_vocab *)c;
    return tfrs_vocab_adapt_bags(&c->v, c->ds, "history", '|', NULL);
}

static void check_vocab_bags(void *p, int rc)
{
    out_ctx *c = p;

    if (rc != TFRS_OK) {
        ck_assert_ptr_null(c->v);
    } else {
        tfrs_vocab *col = column_vocab(c->ds, "movie_title");
        ck_assert_uint_eq(tfrs_vocab_num_tokens(c->v), tfrs_vocab_num_tokens(col));
        tfrs_vocab_free(col);
    }
    tfrs_vocab_free(c->v);
    tfrs_dataset_free(c->ds);
    c->v = NULL;
    c->ds = NULL;
}

START_TEST(derived_features)
{
    out_ctx c = { 0 };
    oom_op bags = { "tfrs_dataset_add_implicit_bags", setup_bags, call_bags, check_bags };
    oom_op quant = { "tfrs_dataset_column_quantiles", setup_dataset, call_quantiles,
                     check_dataset_only };
    oom_op vbags = { "tfrs_vocab_adapt_bags", setup_bag_column, call_vocab_adapt_bags,
                     check_vocab_bags };

    for (c.flag = 0; c.flag < 2; c.flag++)
        oom_run(&bags, &c);
    c.flag = 0;
    oom_run(&quant, &c);
    oom_run(&vbags, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- model building ------------------------------------------------------ */

/* The dataset, its vocabularies and its rows' ids, made once per test (with
 * the allocator disarmed) and shared by every run. */
static void data_init(out_ctx *c)
{
    c->ds = make_dataset();
    c->v = column_vocab(c->ds, "user_id");
    c->aux = column_vocab(c->ds, "movie_title");
    c->ids = malloc(NROWS * 2 * sizeof(*c->ids));
    c->before = malloc(NROWS * sizeof(float));
    ck_assert(c->ids != NULL && c->before != NULL);
    for (int r = 0; r < NROWS; r++) {
        const char *u, *t;
        ck_assert_int_eq(tfrs_dataset_get_string(c->ds, "user_id", (size_t)r, &u), TFRS_OK);
        ck_assert_int_eq(tfrs_dataset_get_string(c->ds, "movie_title", (size_t)r, &t), TFRS_OK);
        ck_assert_int_eq(tfrs_vocab_lookup(c->v, u, &c->ids[2 * r]), TFRS_OK);
        ck_assert_int_eq(tfrs_vocab_lookup(c->aux, t, &c->ids[2 * r + 1]), TFRS_OK);
    }
}

static void data_free(out_ctx *c)
{
    tfrs_vocab_free(c->v);
    tfrs_vocab_free(c->aux);
    tfrs_dataset_free(c->ds);
    free(c->ids);
    free(c->before);
    c->v = NULL;
    c->aux = NULL;
    c->ds = NULL;
    c->ids = NULL;
    c->before = NULL;
}

/* The model works: a training step on the first rows and a prediction. */
static void assert_model_works(const out_ctx *c, tfrs_model *m)
{
    const float *lab;
    float s[64];
    double loss;

    ck_assert_int_eq(tfrs_dataset_floats(c->ds, c->flag ? "liked" : "user_rating", &lab),
                     TFRS_OK);
    ck_assert_int_eq(tfrs_model_train_step(m, c->ids, lab, NULL, 64, &loss), TFRS_OK);
    ck_assert(isfinite(loss));
    ck_assert_int_eq(tfrs_model_predict_ids(m, c->ids, 64, s), TFRS_OK);
    for (int i = 0; i < 64; i++)
        ck_assert(isfinite(s[i]));
}

static int call_build_model(void *p)
{
    out_ctx *c = p;

    c->m = (tfrs_model *)c;
    return build_model(&c->m, c->v, c->aux, c->flag);
}

static void check_model(void *p, int rc)
{
    out_ctx *c = p;

    if (rc != TFRS_OK) {
        ck_assert_ptr_null(c->m);
    } else {
        ck_assert_uint_gt(tfrs_model_num_parameters(c->m), 0);
        assert_model_works(c, c->m);
    }
    tfrs_model_free(c->m);
    c->m = NULL;
}

/* Runs op, then op2 unless NULL, with the MSE (flag 0) and the BCE model
 * (flag 1) on the shared data; nothing is left allocated after. */
static void oom_run_models(const oom_op *op, const oom_op *op2)
{
    out_ctx c = { 0 };

    data_init(&c);
    for (c.flag = 0; c.flag < 2; c.flag++) {
        oom_run(op, &c);
        if (op2 != NULL)
            oom_run(op2, &c);
    }
    data_free(&c);
    ck_assert_int_eq(fa.live, 0);
}

START_TEST(model_create_configure_build)
{
    oom_op op = { "tfrs_model_create..build", NULL, call_build_model, check_model };

    oom_run_models(&op, NULL);
}
END_TEST

/* ---- training -------------------------------------------------------------- */

static void setup_untrained(void *p)
{
    out_ctx *c = p;

    ck_assert_int_eq(build_model(&c->m, c->v, c->aux, c->flag), TFRS_OK);
}

static int call_fit(void *p)
{
    out_ctx *c = p;
    tfrs_metrics h;

    return fit_once(c->m, c->ds, &h);
}

/* After a failed call the model still works. */
static void check_trained(void *p, int rc)
{
    out_ctx *c = p;

    (void)rc;
    assert_model_works(c, c->m);
    tfrs_model_free(c->m);
    c->m = NULL;
}

/* The rows' scores before the step. */
static void setup_step(void *p)
{
    out_ctx *c = p;

    setup_untrained(c);
    ck_assert_int_eq(tfrs_model_predict_ids(c->m, c->ids, NROWS, c->before), TFRS_OK);
}

static int call_train_step(void *p)
{
    out_ctx *c = p;
    const float *lab, *w;
    double loss;

    tfrs_dataset_floats(c->ds, c->flag ? "liked" : "user_rating", &lab);
    tfrs_dataset_floats(c->ds, "w", &w);
    return tfrs_model_train_step(c->m, c->ids, lab, c->flag ? w : NULL, NROWS, &loss);
}

/* A failed step changes no parameter; a successful one changes some. */
static void check_step(void *p, int rc)
{
    out_ctx *c = p;
    float *after = malloc(NROWS * sizeof(float));

    ck_assert_ptr_nonnull(after);
    ck_assert_int_eq(tfrs_model_predict_ids(c->m, c->ids, NROWS, after), TFRS_OK);
    if (rc != TFRS_OK)
        ck_assert_mem_eq(after, c->before, NROWS * sizeof(float));
    else
        ck_assert(memcmp(after, c->before, NROWS * sizeof(float)) != 0);
    free(after);
    check_trained(c, rc);
}

static int call_set_optimizer(void *p)
{
    out_ctx *c = p;
    tfrs_optimizer_options o;

    /* Before any step a new kind reallocates the slots. */
    tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                c->flag ? TFRS_OPT_SGD : TFRS_OPT_ADAM);
    o.momentum = 0.5f;
    return tfrs_model_set_optimizer(c->m, &o);
}

START_TEST(fit)
{
    oom_op op = { "tfrs_model_fit", setup_untrained, call_fit, check_trained };

    oom_run_models(&op, NULL);
}
END_TEST

/* Fit with a validation dataset (bound once, evaluated every epoch), early
 * stopping and the copy of the best weights, a schedule and clipping. */
static int call_fit_validation(void *p)
{
    out_ctx *c = p;
    tfrs_optimizer_options o;
    tfrs_fit_options fo;
    tfrs_metrics h[2], vh[2];
    int rc;

    tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAM);
    o.schedule = TFRS_LR_COSINE;
    o.decay_steps = 50;
    o.warmup_steps = 5;
    o.global_clipnorm = 1.0f;
    if ((rc = tfrs_model_set_optimizer(c->m, &o)) != TFRS_OK)
        return rc;
    tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION);
    fo.epochs = 2;
    fo.batch_size = 256;
    fo.validation = c->ds;
    fo.validation_history = vh;
    fo.early_stopping = 1;
    fo.restore_best_weights = 1;
    return tfrs_model_fit(c->m, c->ds, &fo, h);
}

START_TEST(fit_validation)
{
    oom_op op = { "tfrs_model_fit (validation)", setup_untrained, call_fit_validation,
                  check_trained };

    oom_run_models(&op, NULL);
}
END_TEST

/* An exchange of one process: hands the sums back unchanged. */
static int lone_exchange(tfrs_exchange_grads *g, void *payload)
{
    (void)g;
    (void)payload;
    return TFRS_OK;
}

/* Fit with an exchange (its packed gradients and sums) on 2 threads (the
 * pool the model keeps). */
static int call_fit_exchange(void *p)
{
    out_ctx *c = p;
    tfrs_fit_options fo;
    tfrs_exchange x = { TFRS_EXCHANGE_VERSION, lone_exchange, NULL, 0, 0, 0 };

    x.global_rows = tfrs_dataset_num_rows(c->ds);
    tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION);
    fo.batch_size = 128;
    fo.threads = 2;
    fo.exchange = c->flag ? NULL : &x;      /* the second model's task has AUC */
    return tfrs_model_fit(c->m, c->ds, &fo, NULL);
}

START_TEST(fit_exchange)
{
    oom_op op = { "tfrs_model_fit (exchange, 2 threads)", setup_untrained, call_fit_exchange,
                  check_trained };

    oom_run_models(&op, NULL);
}
END_TEST

START_TEST(train_step_and_optimizer)
{
    oom_op step = { "tfrs_model_train_step", setup_step, call_train_step, check_step };
    oom_op opt = { "tfrs_model_set_optimizer", setup_untrained, call_set_optimizer,
                   check_trained };

    oom_run_models(&step, &opt);
}
END_TEST

/* ---- const calls on a trained model --------------------------------------- */

typedef struct const_ctx {
    world        *w;
    float        *scores;
    tfrs_scored   ranked[NCAND];
    size_t        nranked;
    tfrs_metrics  metrics;
    int32_t      *ids;
    int           flag;
} const_ctx;

static int call_evaluate(void *p)
{
    const_ctx *c = p;

    memset(&c->metrics, 0, sizeof(c->metrics));
    return tfrs_model_evaluate(c->w->m, c->w->ds, c->flag ? 0 : 300, &c->metrics);
}

static void check_evaluate(void *p, int rc)
{
    const_ctx *c = p;

    if (rc == TFRS_OK && !c->flag)
        ck_assert_mem_eq(&c->metrics, &c->w->ref_eval, sizeof(c->metrics));
    else if (rc == TFRS_OK)
        ck_assert(fabs(c->metrics.loss - c->w->ref_eval.loss) < 1e-5 * (1 + c->metrics.loss));
}

static int call_predict(void *p)
{
    const_ctx *c = p;

    return tfrs_model_predict(c->w->m, c->w->values, NPRED, c->scores);
}

static void check_predict(void *p, int rc)
{
    const_ctx *c = p;

    if (rc == TFRS_OK)
        ck_assert_mem_eq(c->scores, c->w->ref_scores, NPRED * sizeof(float));
}

static int call_predict_ids(void *p)
{
    const_ctx *c = p;

    return tfrs_model_predict_ids(c->w->m, c->ids, NPRED, c->scores);
}

static int call_test_step(void *p)
{
    const_ctx *c = p;
    double loss;
    float lab[NPRED];

    for (int i = 0; i < NPRED; i++)
        lab[i] = (float)(i % 5);
    return tfrs_model_test_step(c->w->m, c->ids, lab, NULL, NPRED, &loss,
                                c->flag ? NULL : c->scores);
}

static int call_rank(void *p)
{
    const_ctx *c = p;
    const char *q[2] = { "7", NULL };

    c->nranked = 99;
    return tfrs_model_rank(c->w->m, q, "movie_title", c->w->cands, NCAND, 0, c->ranked,
                           &c->nranked);
}

static void check_rank(void *p, int rc)
{
    const_ctx *c = p;

    if (rc != TFRS_OK) {
        ck_assert_uint_eq(c->nranked, 0);
        return;
    }
    ck_assert_uint_eq(c->nranked, NCAND);
    ck_assert_mem_eq(c->ranked, c->w->ref_rank, sizeof(c->ranked));
}

static void check_nothing(void *p, int rc)
{
    (void)p;
    (void)rc;
}

START_TEST(evaluate_predict_rank)
{
    world w;
    const_ctx c = { 0 };
    oom_op eval = { "tfrs_model_evaluate", NULL, call_evaluate, check_evaluate };
    oom_op pred = { "tfrs_model_predict", NULL, call_predict, check_predict };
    oom_op pids = { "tfrs_model_predict_ids", NULL, call_predict_ids, check_predict };
    oom_op test = { "tfrs_model_test_step", NULL, call_test_step, check_nothing };
    oom_op rank = { "tfrs_model_rank", NULL, call_rank, check_rank };

    for (int bce = 0; bce < 2; bce++) {
        world_init(&w, bce);
        c.w = &w;
        c.scores = malloc(NPRED * sizeof(float));
        c.ids = malloc(NPRED * 2 * sizeof(int32_t));
        ck_assert(c.scores != NULL && c.ids != NULL);
        for (int i = 0; i < NPRED * 2; i++)
            c.ids[i] = (int32_t)((size_t)i % tfrs_vocab_size(i % 2 ? w.vt : w.vu));
        for (c.flag = 0; c.flag < 2; c.flag++) {
            oom_run(&eval, &c);
            oom_run(&test, &c);
        }
        oom_run(&pred, &c);
        ck_assert_int_eq(tfrs_model_predict_ids(w.m, c.ids, NPRED, w.ref_scores), TFRS_OK);
        oom_run(&pids, &c);
        oom_run(&rank, &c);
        free(c.scores);
        free(c.ids);
        world_free(&w);
    }
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- ranking task, layers ------------------------------------------------- */

static int call_task(void *p)
{
    out_ctx *c = p;
    tfrs_task_options o;
    tfrs_ranking_task *t = (tfrs_ranking_task *)c;
    float pred[64], lab[64];
    tfrs_metrics m;
    int rc;

    for (int i = 0; i < 64; i++) {
        pred[i] = (float)((i * 37) % 64) / 64.0f;
        lab[i] = (float)(i % 3 == 0);
    }
    tfrs_task_options_init(&o, TFRS_TASK_OPTIONS_VERSION);
    o.metrics = TFRS_METRIC_RMSE | TFRS_METRIC_AUC;
    if ((rc = tfrs_ranking_task_create(&t, &o)) != TFRS_OK) {
        if (t != NULL)
            rc = TFRS_ESHAPE;   /* *out must be NULL */
        return rc;
    }
    for (int b = 0; b < 8 && rc == TFRS_OK; b++)
        rc = tfrs_ranking_task_update(t, pred, lab, NULL, 64, 0.5);
    if (rc == TFRS_OK)
        rc = tfrs_ranking_task_result(t, &m);
    if (rc == TFRS_OK && !(m.auc > 0.0 && m.auc < 1.0))
        rc = TFRS_ERANGE;
    tfrs_ranking_task_free(t);
    return rc;
}

static int call_layers(void *p)
{
    out_ctx *c = p;
    tfrs_embedding *e = (tfrs_embedding *)c;
    tfrs_dense *d = (tfrs_dense *)c;
    float x[4 * 3] = { 0 }, y[4 * 2], dy[4 * 2] = { 1, 1, 1, 1, 1, 1, 1, 1 }, dx[4 * 3];
    float dout[4 * 3] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    int32_t ids[4] = { 0, 3, 3, 1 };
    int rc;

    if ((rc = tfrs_embedding_create(&e, 10, 3, 1)) != TFRS_OK)
        return e == NULL ? rc : TFRS_ESHAPE;
    if ((rc = tfrs_dense_create(&d, 3, 2, TFRS_ACT_RELU, 1)) != TFRS_OK) {
        tfrs_embedding_free(e);
        return d == NULL ? rc : TFRS_ESHAPE;
    }
    if ((rc = tfrs_embedding_forward(e, ids, 4, x)) == TFRS_OK &&
        (rc = tfrs_embedding_backward(e, ids, 4, dout)) == TFRS_OK &&
        (rc = tfrs_dense_forward(d, x, 4, y)) == TFRS_OK)
        rc = tfrs_dense_backward(d, x, y, dy, 4, dx);
    tfrs_embedding_free(e);
    tfrs_dense_free(d);
    return rc;
}

START_TEST(task_and_layers)
{
    out_ctx c = { 0 };
    oom_op task = { "tfrs_ranking_task_* with AUC", NULL, call_task, check_nothing };
    oom_op layers = { "tfrs_embedding_* and tfrs_dense_*", NULL, call_layers, check_nothing };

    oom_run(&task, &c);
    oom_run(&layers, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- save and load ----------------------------------------------------------- */

/* Number of directory entries other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

typedef struct save_ctx {
    world         *w;
    const char    *path;
    unsigned char *old;       /* the file's bytes before the call */
    size_t         old_n;
    int            entries;   /* files in tu_tmpdir before the call  */
    unsigned       flags;
    tfrs_model    *loaded;
    unsigned char *buf;       /* a saved file, for load_buffer    */
    size_t         buf_n;
    int            from_buffer;
} save_ctx;

/* Each save replaces a small previous file. */
static void setup_save(void *p)
{
    save_ctx *c = p;

    tu_write_text(c->path, "the previous file\n");
    c->old = tu_read_file(c->path, &c->old_n);
    c->entries = count_entries(tu_tmpdir);
}

static int call_save(void *p)
{
    save_ctx *c = p;

    return tfrs_model_save(c->w->m, c->path, c->flags);
}

/* A failed save leaves the old file byte for byte and no temporary file. */
static void check_save(void *p, int rc)
{
    save_ctx *c = p;
    size_t n;
    unsigned char *now = tu_read_file(c->path, &n);
    tfrs_model *l = NULL;

    ck_assert_int_eq(count_entries(tu_tmpdir), c->entries);
    if (rc != TFRS_OK) {
        ck_assert_uint_eq(n, c->old_n);
        ck_assert_mem_eq(now, c->old, n);
    } else {
        ck_assert_int_eq(tfrs_model_load_buffer(&l, now, n), TFRS_OK);
        ck_assert(predicts_reference(c->w, l));
        tfrs_model_free(l);
    }
    free(now);
    free(c->old);
    c->old = NULL;
}

static int call_load(void *p)
{
    save_ctx *c = p;

    c->loaded = (tfrs_model *)c;
    if (c->from_buffer)
        return tfrs_model_load_buffer(&c->loaded, c->buf, c->buf_n);
    return tfrs_model_load(&c->loaded, c->path);
}

static void check_load(void *p, int rc)
{
    save_ctx *c = p;

    if (rc != TFRS_OK) {
        ck_assert_ptr_null(c->loaded);
        return;
    }
    ck_assert(predicts_reference(c->w, c->loaded));
    tfrs_model_free(c->loaded);
    c->loaded = NULL;
}

START_TEST(save_and_load)
{
    world w;
    save_ctx c = { 0 };
    oom_op save = { "tfrs_model_save", setup_save, call_save, check_save };
    oom_op load = { "tfrs_model_load", NULL, call_load, check_load };

    /* The richest model: two optimizer slots, L2, weights, BCE with AUC. */
    {
        world_init(&w, 1);
        c.w = &w;
        c.path = tu_tmp_path("model.tfrs");
        for (c.flags = 0; c.flags <= TFRS_SAVE_OPTIMIZER; c.flags += TFRS_SAVE_OPTIMIZER)
            oom_run(&save, &c);

        c.buf = tu_read_file(c.path, &c.buf_n);
        for (c.from_buffer = 0; c.from_buffer < 2; c.from_buffer++)
            oom_run(&load, &c);
        free(c.buf);
        ck_assert_int_eq(unlink(c.path), 0);
        world_free(&w);
    }
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- cross and dropout layers, the parallel structure --------------------- */

typedef struct layers_ctx {
    tfrs_vocab    *v;
    tfrs_model    *m, *loaded;
    int32_t        ids[8 * 2];
    float          labels[8];
    unsigned char *buf;
    size_t         buf_n;
} layers_ctx;

static int build_layers_model(layers_ctx *c)
{
    tfrs_model *m = NULL;
    int rc;

    if ((rc = tfrs_model_create(&m, 5)) == TFRS_OK &&
        (rc = tfrs_model_add_feature(m, "a", c->v, 4)) == TFRS_OK &&
        (rc = tfrs_model_add_feature(m, "b", c->v, 4)) == TFRS_OK &&
        (rc = tfrs_model_add_cross(m, 0, 0.01f)) == TFRS_OK &&
        (rc = tfrs_model_add_dropout(m, 0.2f)) == TFRS_OK &&
        (rc = tfrs_model_add_cross(m, 2, 0.0f)) == TFRS_OK &&
        (rc = tfrs_model_add_dense(m, 4, TFRS_ACT_RELU, 0.0f)) == TFRS_OK &&
        (rc = tfrs_model_add_dropout(m, 0.3f)) == TFRS_OK &&
        (rc = tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f)) == TFRS_OK &&
        (rc = tfrs_model_set_structure(m, TFRS_STRUCTURE_PARALLEL)) == TFRS_OK)
        rc = tfrs_model_build(m);
    if (rc != TFRS_OK)
        tfrs_model_free(m);
    else
        c->m = m;
    return rc;
}

static int call_layers_build(void *p)
{
    return build_layers_model(p);
}

static void setup_layers_model(void *p)
{
    ck_assert_int_eq(build_layers_model(p), TFRS_OK);
}

static int call_layers_step(void *p)
{
    layers_ctx *c = p;
    double loss;

    return tfrs_model_train_step(c->m, c->ids, c->labels, NULL, 8, &loss);
}

static int call_layers_rank(void *p)
{
    layers_ctx *c = p;
    int32_t q[2] = { 1, 0 }, cand[4] = { 0, 1, 2, 3 };
    tfrs_scored out[4];

    return tfrs_model_rank_ids(c->m, q, 1, cand, 4, 2, out, NULL);
}

static int call_layers_load(void *p)
{
    layers_ctx *c = p;

    return tfrs_model_load_buffer(&c->loaded, c->buf, c->buf_n);
}

static void check_layers(void *p, int rc)
{
    layers_ctx *c = p;
    float s[8];

    if (c->m != NULL) {
        ck_assert_int_eq(tfrs_model_predict_ids(c->m, c->ids, 8, s), TFRS_OK);
        tfrs_model_free(c->m);
        c->m = NULL;
    }
    if (rc == TFRS_OK && c->loaded != NULL)
        ck_assert_int_eq(tfrs_model_predict_ids(c->loaded, c->ids, 8, s), TFRS_OK);
    tfrs_model_free(c->loaded);
    c->loaded = NULL;
}

START_TEST(cross_and_dropout_layers)
{
    static const char *toks[] = { "x", "y", "z" };
    layers_ctx c = { 0 };
    oom_op build = { "cross/dropout model build", NULL, call_layers_build, check_layers };
    oom_op step = { "cross/dropout train_step", setup_layers_model, call_layers_step,
                    check_layers };
    oom_op rank = { "cross/dropout rank (full forward)", setup_layers_model, call_layers_rank,
                    check_layers };
    oom_op load = { "cross/dropout load", NULL, call_layers_load, check_layers };
    const char *path = tu_tmp_path("layers.tfrs");

    ck_assert_int_eq(tfrs_vocab_create(&c.v, toks, 3, NULL), TFRS_OK);
    for (size_t i = 0; i < 8; i++) {
        c.ids[2 * i] = (int32_t)(i % 4);
        c.ids[2 * i + 1] = (int32_t)((i * 3) % 4);
        c.labels[i] = (float)i;
    }
    oom_run(&build, &c);
    oom_run(&step, &c);
    oom_run(&rank, &c);
    setup_layers_model(&c);
    ck_assert_int_eq(tfrs_model_save(c.m, path, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    tfrs_model_free(c.m);
    c.m = NULL;
    c.buf = tu_read_file(path, &c.buf_n);
    oom_run(&load, &c);
    free(c.buf);
    ck_assert_int_eq(unlink(path), 0);
    tfrs_vocab_free(c.v);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* Without realloc_fn the library emulates it: the same guarantees hold. */
START_TEST(allocator_without_realloc)
{
    out_ctx c = { 0 };
    oom_op build = { "tfrs_dataset_create/add_column/append", NULL, call_build_dataset,
                     check_built_dataset };
    oom_op fit_op = { "tfrs_model_fit", setup_untrained, call_fit, check_trained };
    oom_op delim = { "tfrs_dataset_load_delimited", NULL, call_load_delimited,
                     check_delimited };

    ck_assert_int_eq(tfrs_set_allocator(&without_realloc), TFRS_OK);
    oom_run(&build, &c);
    oom_run(&delim, &c);
    c.flag = 1;                         /* a byte range: the window grows by hand */
    oom_run(&delim, &c);
    c.flag = 0;
    data_init(&c);
    oom_run(&fit_op, &c);
    data_free(&c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- feature columns ------------------------------------------------------ */

/* Every feature kind (a bag per pooling, hashed, numeric, bucketized, the
 * bias path) configured, built, trained, evaluated, used to predict and
 * rank, saved and loaded, as one operation. */
typedef struct feat_ctx {
    tfrs_dataset *ds;
    tfrs_vocab   *v;
    char         *path;
    float         scores[4];
    float         pred[4];
} feat_ctx;

static void setup_features(void *p)
{
    feat_ctx *c = p;
    static const char *const toks[] = { "a", "b", "c" };
    static const char *const rows[4][3] = { { "a", "a|b", "x|y" }, { "b", "", "y" },
                                            { "c", "c|a|b", "" }, { "zz", "b", "q|q" } };

    ck_assert_int_eq(tfrs_vocab_create(&c->v, toks, 3, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_create(&c->ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->ds, "id", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->ds, "bag", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->ds, "tags", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->ds, "x", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->ds, "label", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->ds, "t", TFRS_COLUMN_INT64), TFRS_OK);
    for (int r = 0; r < 4; r++) {
        float f[2] = { (float)r, (float)(r % 3) };
        int64_t t = 10 * r;
        ck_assert_int_eq(tfrs_dataset_append_row(c->ds, rows[r], f, &t), TFRS_OK);
    }
    c->path = tu_tmp_path("oom-features.tfrs");
}

static int features_model(feat_ctx *c, tfrs_model **out)
{
    static const double bounds[] = { 5, 15 };
    tfrs_feature_options o;
    tfrs_model *m = NULL;
    int rc;

    *out = NULL;
    if ((rc = tfrs_model_create(&m, 3)) != TFRS_OK)
        return rc;
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.vocab = c->v;
    o.embedding_dim = 2;
    o.bias = 1;
    o.l2 = 0.01f;
    if ((rc = tfrs_model_add_feature_ex(m, "id", &o)) != TFRS_OK)
        goto fail;
    o.pooling = TFRS_POOL_SQRTN;
    o.bias = 0;
    if ((rc = tfrs_model_add_feature_ex(m, "bag", &o)) != TFRS_OK)
        goto fail;
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.kind = TFRS_FEATURE_HASHED;
    o.num_buckets = 4;
    o.embedding_dim = 2;
    o.pooling = TFRS_POOL_MEAN;
    if ((rc = tfrs_model_add_feature_ex(m, "tags", &o)) != TFRS_OK)
        goto fail;
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.kind = TFRS_FEATURE_NUMERIC;
    o.mean = 1.5;
    if ((rc = tfrs_model_add_feature_ex(m, "x", &o)) != TFRS_OK)
        goto fail;
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.kind = TFRS_FEATURE_BUCKETIZED;
    o.boundaries = bounds;
    o.num_boundaries = 2;
    o.embedding_dim = 2;
    o.bias = 1;
    if ((rc = tfrs_model_add_feature_ex(m, "t", &o)) != TFRS_OK ||
        (rc = tfrs_model_add_dense(m, 3, TFRS_ACT_RELU, 0.0f)) != TFRS_OK ||
        (rc = tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f)) != TFRS_OK ||
        (rc = tfrs_model_build(m)) != TFRS_OK)
        goto fail;
    *out = m;
    return TFRS_OK;
fail:
    tfrs_model_free(m);
    return rc;
}

static int call_features(void *p)
{
    feat_ctx *c = p;
    const char *vals[10] = { "a", "a|b", "x", "0.5", "-3", "c", "", "", "2", "12" };
    const char *query[5] = { NULL, "b|c", "y", "2", "12" }, *cands[3] = { "a", "b", "nope" };
    tfrs_model *m = NULL, *back = NULL;
    tfrs_fit_options fo;
    tfrs_metrics met;
    tfrs_scored top[2];
    int rc;

    if ((rc = features_model(c, &m)) != TFRS_OK)
        return rc;
    tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION);
    fo.batch_size = 3;
    fo.epochs = 2;
    if ((rc = tfrs_model_fit(m, c->ds, &fo, NULL)) == TFRS_OK &&
        (rc = tfrs_model_evaluate(m, c->ds, 2, &met)) == TFRS_OK &&
        (rc = tfrs_model_predict(m, vals, 2, c->scores)) == TFRS_OK &&
        (rc = tfrs_model_predict_dataset(m, c->ds, c->pred)) == TFRS_OK &&
        (rc = tfrs_model_rank(m, query, "id", cands, 3, 2, top, NULL)) == TFRS_OK &&
        (rc = tfrs_model_save(m, c->path, TFRS_SAVE_OPTIMIZER)) == TFRS_OK &&
        (rc = tfrs_model_load(&back, c->path)) == TFRS_OK)
        rc = tfrs_model_predict(back, vals, 2, c->scores + 2);
    tfrs_model_free(back);
    tfrs_model_free(m);
    return rc;
}

static void check_features(void *p, int rc)
{
    feat_ctx *c = p;

    if (rc == TFRS_OK)
        ck_assert_mem_eq(c->scores, c->scores + 2, 2 * sizeof(float));
    tfrs_dataset_free(c->ds);
    tfrs_vocab_free(c->v);
    c->ds = NULL;
    c->v = NULL;
}

START_TEST(feature_columns)
{
    feat_ctx c = { 0 };
    oom_op op = { "feature columns: build, fit, evaluate, predict, rank, save, load",
                  setup_features, call_features, check_features };

    oom_run(&op, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* ---- configurations --------------------------------------------------------- */

static const char oom_config[] =
    "{\"features\": [{\"name\": \"id\", \"embedding_dim\": 2, \"bias\": true},\n"
    "  {\"name\": \"bag\", \"embedding_dim\": 2, \"pooling\": \"sum\"},\n"
    "  {\"name\": \"x\", \"kind\": \"numeric\"},\n"
    "  {\"name\": \"t\", \"kind\": \"bucketized\", \"num_bins\": 3, \"embedding_dim\": 2}],\n"
    " \"layers\": [{\"kind\": \"cross\"}, {\"units\": 2, \"activation\": \"relu\"},\n"
    "  {\"kind\": \"dropout\", \"rate\": 0.1}, {\"units\": 1, \"activation\": \"linear\"}],\n"
    " \"optimizer\": {\"kind\": \"adam\", \"learning_rate\": 0.01},\n"
    " \"training\": {\"epochs\": 2, \"batch_size\": 2}, \"seed\": 5}";

static int call_config(void *p)
{
    feat_ctx *c = p;
    tfrs_model *m = NULL, *again = NULL;
    tfrs_fit_options fo;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = tfrs_model_from_config(&m, oom_config, sizeof(oom_config) - 1, "oom.json",
                                     c->ds)) != TFRS_OK)
        return rc;
    if ((rc = tfrs_config_fit_options(oom_config, sizeof(oom_config) - 1, "oom.json", &fo,
                                      NULL)) == TFRS_OK &&
        (rc = tfrs_model_config(m, NULL, 0, &len)) == TFRS_ERANGE) {
        tfrs_allocator a = tu_allocator(&fa, 1);
        text = a.malloc_fn(len + 1, a.payload);
        rc = text == NULL ? TFRS_ENOMEM : tfrs_model_config(m, text, len + 1, NULL);
        if (rc == TFRS_OK)
            rc = tfrs_model_from_config(&again, text, len, "again", c->ds);
        if (text != NULL)
            a.free_fn(text, a.payload);
    }
    tfrs_model_free(again);
    tfrs_model_free(m);
    return rc;
}

START_TEST(configuration)
{
    feat_ctx c = { 0 };
    oom_op op = { "tfrs_model_from_config, tfrs_config_fit_options, tfrs_model_config",
                  setup_features, call_config, check_features };

    oom_run(&op, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

/* The item table: registered (and replaced) on a built model, then rank
 * through it twice (the cache built, then used). */
typedef struct items_ctx {
    feat_ctx      f;
    tfrs_model   *m;
    tfrs_dataset *items;
    tfrs_scored   ref[3], got[3];
} items_ctx;

static void setup_items(void *p)
{
    items_ctx *c = p;
    static const char *const rows[3][2] = { { "a", "a|b" }, { "b", "" }, { "zz", "c" } };

    setup_features(&c->f);
    ck_assert_int_eq(features_model(&c->f, &c->m), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_create(&c->items), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->items, "id", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->items, "bag", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->items, "x", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(c->items, "t", TFRS_COLUMN_INT64), TFRS_OK);
    for (int r = 0; r < 3; r++) {
        float x = (float)r - 0.5f;
        int64_t t = 7 * r;
        ck_assert_int_eq(tfrs_dataset_append_row(c->items, rows[r], &x, &t), TFRS_OK);
    }
    memset(c->got, 0, sizeof(c->got));
}

static int call_items(void *p)
{
    items_ctx *c = p;
    const char *query[5] = { NULL, NULL, "y", NULL, NULL }, *cands[3] = { "zz", "a", "b" };
    int rc;

    if ((rc = tfrs_model_set_item_table(c->m, "id", c->items)) == TFRS_OK &&
        (rc = tfrs_model_set_item_table(c->m, "id", c->items)) == TFRS_OK &&
        (rc = tfrs_model_rank(c->m, query, "id", cands, 3, 0, c->got, NULL)) == TFRS_OK)
        rc = tfrs_model_rank(c->m, query, "id", cands, 3, 0, c->got, NULL);
    return rc;
}

static void check_items(void *p, int rc)
{
    items_ctx *c = p;

    if (rc == TFRS_OK)
        ck_assert_mem_eq(c->got, c->ref, sizeof(c->ref));
    tfrs_model_free(c->m);
    tfrs_dataset_free(c->items);
    c->m = NULL;
    c->items = NULL;
    check_features(&c->f, TFRS_EINVAL);
}

START_TEST(item_table)
{
    items_ctx c = { 0 };
    oom_op op = { "tfrs_model_set_item_table, rank through it", setup_items, call_items,
                  check_items };

    setup_items(&c);
    ck_assert_int_eq(call_items(&c), TFRS_OK);
    memcpy(c.ref, c.got, sizeof(c.ref));
    ck_assert_uint_eq(tfrs_model_item_features(c.m, NULL, 0), 3);
    check_items(&c, TFRS_EINVAL);
    oom_run(&op, &c);
    ck_assert_int_eq(fa.live, 0);
}
END_TEST

static Suite *oom_suite(void)
{
    Suite *s = suite_create("oom");
    TCase *tc;

    tc = tu_tcase(s, "dataset", load_movielens, load_delimited, dataset_build_slice_shuffle,
                  derived_features);
    tcase_add_checked_fixture(tc, setup_allocator, teardown_allocator);

    tc = tu_tcase(s, "vocab", vocab_build);
    tcase_add_checked_fixture(tc, setup_allocator, teardown_allocator);

    tc = tu_tcase(s, "model", model_create_configure_build, fit, fit_validation, fit_exchange,
                  train_step_and_optimizer, evaluate_predict_rank, task_and_layers,
                  cross_and_dropout_layers);
    tcase_add_checked_fixture(tc, setup_allocator, teardown_allocator);

    tc = tu_tcase(s, "features", feature_columns, configuration, item_table);
    tcase_add_checked_fixture(tc, setup_allocator, teardown_allocator);
    tcase_set_timeout(tc, 600);

    tc = tu_tcase(s, "files", save_and_load);
    tcase_add_checked_fixture(tc, setup_allocator, teardown_allocator);
    tcase_set_timeout(tc, 600);   /* save syncs the disk a thousand times */

    tc = tu_tcase(s, "no realloc", allocator_without_realloc);
    tcase_add_checked_fixture(tc, setup_allocator, teardown_allocator);
    return s;
}

int main(void)
{
    int rc;

    if (tu_tmpdir_try_make() < 0) {
        perror("mkdtemp");
        return 1;
    }
    if (write_data_files() < 0) {
        perror("test-oom: writing the data files");
        tu_tmpdir_remove();
        return 1;
    }
    rc = tu_run(oom_suite());
    tu_tmpdir_remove();
    return rc;
}
