/*
 * bench-serve.c - serving latency of a trained tutorial model.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The model is trained as the example does (3 epochs, batch 8192, seed 42).
 * Every call is timed on its own after a warm-up; lines give the median
 * (p50) and p99 in microseconds.
 *   rank_all        tfrs_model_rank of all 1682 films (u.item order, titles
 *                   as strings) for user "42", all of them sorted (top_k 0)
 *   rank_all_top10  the same keeping the best 10
 *   rank_all_ids    tfrs_model_rank_ids of the same films as ids looked up
 *                   beforehand, all sorted (like the peer's "all_items_ids",
 *                   which scores ids and does not sort)
 *   predict_ids_all tfrs_model_predict_ids of the same 1682 (user, film)
 *                   pairs, ids looked up beforehand: no strings, no sort
 *                   (what the PyTorch peer's "all_items_ids" times)
 *   rank_one        tfrs_model_rank of one candidate
 *   rank_one_ids    tfrs_model_rank_ids of one candidate
 *   predict_ids_one tfrs_model_predict_ids of one pair
 *   rank_100x100    100 users, each ranking its own 100 candidates (100
 *                   rank calls per sample); per-sample time in us
 *   predict_10k     tfrs_model_predict of those 10,000 string pairs in one
 *                   call
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define NUSERS 100
#define NCANDS 100

typedef struct options {
    const char *data;
    int         calls;
    int         warmup;
} options;

static const long *sort_ids;

static int by_movie_id(const void *pa, const void *pb)
{
    long a = sort_ids[*(const size_t *)pa], b = sort_ids[*(const size_t *)pb];

    return (a > b) - (a < b);
}

/* The titles of all films rated in `ds`, ordered by numeric movie id (u.item
 * order).  Returns the count; *out is malloc'ed (views into ds). */
static size_t film_titles(const tfrs_dataset *ds, const char ***out)
{
    const uint32_t *mid, *tid;
    size_t nm, nt, rows = tfrs_dataset_num_rows(ds), n = 0;
    uint32_t *title_of;
    long *id_of;
    const char **titles;
    size_t *order;

    BENCH_CHECK(tfrs_dataset_string_ids(ds, "movie_id", &mid, &nm));
    BENCH_CHECK(tfrs_dataset_string_ids(ds, "movie_title", &tid, &nt));
    title_of = malloc(nm * sizeof(*title_of));
    id_of = malloc(nm * sizeof(*id_of));
    titles = malloc(nm * sizeof(*titles));
    if (title_of == NULL || id_of == NULL || titles == NULL)
        exit(1);
    for (size_t i = 0; i < nm; i++)
        title_of[i] = UINT32_MAX;
    for (size_t r = 0; r < rows; r++)
        title_of[mid[r]] = tid[r];
    /* Pool ids sorted by their numeric movie id. */
    for (size_t i = 0; i < nm; i++) {
        const char *s;
        BENCH_CHECK(tfrs_dataset_string(ds, "movie_id", (uint32_t)i, &s));
        id_of[i] = atol(s);
    }
    sort_ids = id_of;
    order = malloc(nm * sizeof(*order));
    if (order == NULL)
        exit(1);
    for (size_t i = 0; i < nm; i++)
        order[i] = i;
    qsort(order, nm, sizeof(*order), by_movie_id);
    for (size_t k = 0; k < nm; k++)
        if (title_of[order[k]] != UINT32_MAX)
            BENCH_CHECK(tfrs_dataset_string(ds, "movie_title", title_of[order[k]],
                                            &titles[n++]));
    free(order);
    free(title_of);
    free(id_of);
    *out = titles;
    return n;
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Times fn(arg) `calls` times after `warmup` calls; prints one line with
 * microseconds. */
typedef void (*call_fn)(void *arg);

static void time_calls(const char *name, size_t candidates, const options *o, call_fn fn,
                       void *arg, double per_sample_items)
{
    double *t = malloc((size_t)o->calls * sizeof(*t));
    bench_stats st;
    bench_json j;

    if (t == NULL)
        exit(1);
    for (int i = 0; i < o->warmup; i++)
        fn(arg);
    for (int i = 0; i < o->calls; i++) {
        double t0 = bench_now();
        fn(arg);
        t[i] = 1e6 * (bench_now() - t0);
    }
    st = bench_summarize(t, (size_t)o->calls);
    bench_json_begin(&j, "serve", name);
    bench_json_param_int(&j, "candidates", (long long)candidates);
    bench_json_stats(&j, &st, "us", 1);
    bench_json_num(&j, "scores_per_s", per_sample_items / (st.median * 1e-6));
    bench_json_end(&j);
    free(t);
}

/* ---- the calls ------------------------------------------------------- */

typedef struct serve {
    const tfrs_model *m;
    const char      **titles;    /* 1682 */
    size_t            ntitles;
    int32_t          *ids;       /* ntitles * 2: (user 42, film) */
    int32_t          *film_ids;  /* ntitles */
    float            *scores;
    tfrs_scored      *ranked;
    const char       *users[NUSERS];
    const char       *cands[NUSERS][NCANDS];
    const char      **pairs;     /* NUSERS * NCANDS * 2 */
    size_t            n;         /* candidates per call */
    size_t            top_k;
} serve;

static void call_rank(void *p)
{
    serve *s = p;
    const char *query[2] = { "42", NULL };
    size_t got;

    BENCH_CHECK(tfrs_model_rank(s->m, query, "movie_title", s->titles, s->n, s->top_k,
                                s->ranked, &got));
}

static void call_rank_ids(void *p)
{
    serve *s = p;
    size_t got;

    /* ids holds (user, film) pairs: the query is the first pair, the films
     * are every second id from position 1. */
    for (size_t i = 0; i < s->n; i++)
        s->film_ids[i] = s->ids[2 * i + 1];
    BENCH_CHECK(tfrs_model_rank_ids(s->m, s->ids, 1, s->film_ids, s->n, s->top_k, s->ranked,
                                    &got));
}

static void call_predict_ids(void *p)
{
    serve *s = p;

    BENCH_CHECK(tfrs_model_predict_ids(s->m, s->ids, s->n, s->scores));
}

static void call_rank_100x100(void *p)
{
    serve *s = p;

    for (size_t u = 0; u < NUSERS; u++) {
        const char *query[2] = { s->users[u], NULL };
        size_t got;
        BENCH_CHECK(tfrs_model_rank(s->m, query, "movie_title", s->cands[u], NCANDS, 0,
                                    s->ranked, &got));
    }
}

static void call_predict_10k(void *p)
{
    serve *s = p;

    BENCH_CHECK(tfrs_model_predict(s->m, s->pairs, NUSERS * NCANDS, s->scores));
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [--data DIR] [--calls N] [--warmup N]\n"
            "\n"
            "Serving latency of the trained tutorial model (JSON lines on stdout).\n"
            "  --calls N    timed calls per measurement (default 2000; 200 for 100x100)\n"
            "  --warmup N   untimed calls first (default 50)\n",
            prog);
}

int main(int argc, char **argv)
{
    options o = { NULL, 2000, 50 };
    bench_tutorial t;
    tfrs_model *m;
    tfrs_fit_options fo;
    serve s;
    const char *dir, *v;
    uint64_t rnd = 0x5eed;
    int32_t uid;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if ((v = bench_option(argc, argv, &i, "--data")) != NULL) {
            o.data = v;
        } else if ((v = bench_option(argc, argv, &i, "--calls")) != NULL) {
            o.calls = (int)bench_parse_count(argv[0], "--calls", v);
        } else if ((v = bench_option(argc, argv, &i, "--warmup")) != NULL) {
            o.warmup = (int)bench_parse_count(argv[0], "--warmup", v);
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            return 2;
        }
    }
    dir = bench_find_data(o.data);
    if (dir == NULL) {
        fprintf(stderr, "%s: MovieLens 100K not found (--data, TFRSC_DATA, data/ml-100k, "
                "../shared/data/ml-100k)\n", argv[0]);
        return 1;
    }
    bench_tutorial_load(&t, dir, 0, 0);
    m = bench_tutorial_model(t.users, t.titles, 42);
    BENCH_CHECK(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION));
    fo.epochs = 3;
    fo.batch_size = 8192;
    fo.shuffle_seed = 42;
    BENCH_CHECK(tfrs_model_fit(m, t.train, &fo, NULL));

    memset(&s, 0, sizeof(s));
    s.m = m;
    s.ntitles = film_titles(t.ratings, &s.titles);
    s.ids = malloc(s.ntitles * 2 * sizeof(*s.ids));
    s.film_ids = malloc(s.ntitles * sizeof(*s.film_ids));
    s.scores = malloc(NUSERS * NCANDS * sizeof(*s.scores));
    s.ranked = malloc((s.ntitles > NCANDS ? s.ntitles : NCANDS) * sizeof(*s.ranked));
    s.pairs = malloc(NUSERS * NCANDS * 2 * sizeof(*s.pairs));
    if (s.ids == NULL || s.film_ids == NULL || s.scores == NULL || s.ranked == NULL || s.pairs == NULL ||
        s.ntitles < NCANDS)
        return 1;
    BENCH_CHECK(tfrs_vocab_lookup(t.users, "42", &uid));
    for (size_t i = 0; i < s.ntitles; i++) {
        s.ids[2 * i] = uid;
        BENCH_CHECK(tfrs_vocab_lookup(t.titles, s.titles[i], &s.ids[2 * i + 1]));
    }
    /* The first 100 user ids of the vocabulary, each with 100 films drawn
     * from a fixed stream. */
    for (size_t u = 0; u < NUSERS; u++) {
        BENCH_CHECK(tfrs_vocab_token(t.users, (int32_t)(1 + u), &s.users[u]));
        for (size_t c = 0; c < NCANDS; c++) {
            s.cands[u][c] = s.titles[next_rand(&rnd) % s.ntitles];
            s.pairs[2 * (u * NCANDS + c)] = s.users[u];
            s.pairs[2 * (u * NCANDS + c) + 1] = s.cands[u][c];
        }
    }

    {
        bench_json j;
        bench_json_begin(&j, "serve", "setup");
        bench_json_str(&j, "data", dir);
        bench_json_int(&j, "films", (long long)s.ntitles);
        bench_json_int(&j, "calls", o.calls);
        bench_json_int(&j, "warmup", o.warmup);
        bench_json_end(&j);
    }
    s.n = s.ntitles;
    s.top_k = 0;
    time_calls("rank_all", s.n, &o, call_rank, &s, (double)s.n);
    s.top_k = 10;
    time_calls("rank_all_top10", s.n, &o, call_rank, &s, (double)s.n);
    s.top_k = 0;
    time_calls("rank_all_ids", s.n, &o, call_rank_ids, &s, (double)s.n);
    time_calls("predict_ids_all", s.n, &o, call_predict_ids, &s, (double)s.n);
    s.n = 1;
    s.top_k = 0;
    time_calls("rank_one", 1, &o, call_rank, &s, 1.0);
    time_calls("rank_one_ids", 1, &o, call_rank_ids, &s, 1.0);
    time_calls("predict_ids_one", 1, &o, call_predict_ids, &s, 1.0);
    {
        options o100 = o;
        o100.calls = o.calls / 10 > 20 ? o.calls / 10 : 20;
        o100.warmup = o.warmup / 10 > 2 ? o.warmup / 10 : 2;
        time_calls("rank_100x100", NUSERS * NCANDS, &o100, call_rank_100x100, &s,
                   NUSERS * NCANDS);
        time_calls("predict_10k", NUSERS * NCANDS, &o100, call_predict_10k, &s,
                   NUSERS * NCANDS);
    }

    free(s.pairs);
    free(s.ranked);
    free(s.scores);
    free(s.ids);
    free(s.film_ids);
    free(s.titles);
    tfrs_model_free(m);
    bench_tutorial_free(&t);
    return 0;
}
