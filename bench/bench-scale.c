/*
 * bench-scale.c - loading and training at MovieLens-25M scale, on data made
 * by tools/ml-synth (never shipped; generate it into /tmp).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   ml-synth --ratings 25000000 --users 160000 --items 60000 --seed 1 \
 *            --out /tmp/ml-synth-25m
 *   OPENBLAS_NUM_THREADS=1 bench-scale --data /tmp/ml-synth-25m
 *
 * Measurements (JSON lines):
 *   load         tfrs_dataset_load_movielens time, and MB/s of input
 *                (u.data + u.item bytes)
 *   memory       RSS after the load minus before, per rating; the
 *                dataset's own bytes (columns + string pools, computed from
 *                the pool layout of lib/dataset.c) per rating; peak RSS
 *   vocab        both vocabularies over all ratings
 *   fit          examples/s at batch 8192 over the first --train-rows rows
 *                of the shuffled ratings (vocabularies of the whole data),
 *                one epoch per repeat after a shorter warm-up epoch; and the
 *                same protocol on the tutorial's MovieLens 100K split when
 *                it is found, with the ratio of the two
 *
 * With --end-to-end PATH it measures instead what one program that loads
 * the ratings, fits the tutorial model one epoch over all of them and
 * saves it to PATH costs (one JSON line "end_to_end"): the time of each
 * step and the peak RSS of the process per rating.  The columns the model
 * does not read (movie_id, timestamp) are dropped after loading unless
 * --keep-columns.  The dataset is neither
 * shuffled nor sliced (fit draws its own order); run it under
 * /usr/bin/time -v for the kernel's view of the peak.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

typedef struct options {
    const char *data;       /* synthetic directory (required) */
    const char *ref_data;   /* MovieLens 100K (optional)      */
    size_t      train_rows;
    size_t      warmup_rows;
    size_t      batch;
    int         threads;
    int         repeats;
    int         load_repeats;
    const char *end_to_end; /* save path: the end-to-end run    */
    int         keep_columns; /* end-to-end: keep unused columns */
} options;

static size_t file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

/* Bytes the dataset itself holds: 4 per row and column (string columns
 * hold 32-bit pool ids, float columns floats; int64 columns 8) plus each
 * string pool: the
 * bytes with their NULs, an 8-byte offset and an 8-byte hash per string,
 * and a 4-byte slot table at most half full.  Capacities from geometric
 * growth are not counted. */
static size_t dataset_bytes(const tfrs_dataset *ds, size_t *pool_bytes)
{
    size_t rows = tfrs_dataset_num_rows(ds), cols = tfrs_dataset_num_columns(ds);
    size_t total = 0, pools = 0;

    for (size_t c = 0; c < cols; c++) {
        const char *name, *s;
        tfrs_column_type type;
        const uint32_t *ids;
        size_t n;

        BENCH_CHECK(tfrs_dataset_column_info(ds, c, &name, &type));
        total += rows * (type == TFRS_COLUMN_INT64 ? 8 : 4);
        if (type != TFRS_COLUMN_STRING)
            continue;
        BENCH_CHECK(tfrs_dataset_string_ids(ds, name, &ids, &n));
        for (size_t i = 0; i < n; i++) {
            BENCH_CHECK(tfrs_dataset_string(ds, name, (uint32_t)i, &s));
            pools += strlen(s) + 1;
        }
        pools += 16 * n + 8 + 4 * pow2_at_least(2 * n);
    }
    *pool_bytes = pools;
    return total + pools;
}

static tfrs_model *tutorial_model(const tfrs_vocab *users, const tfrs_vocab *titles)
{
    return bench_tutorial_model(users, titles, 42);
}

/* Median examples/s of `repeats` one-epoch fits on `train` after a warm-up
 * epoch on `warm`. */
static double fit_rate(tfrs_model *m, const tfrs_dataset *warm, const tfrs_dataset *train,
                       const options *o, bench_stats *st)
{
    double *rate = calloc((size_t)o->repeats, sizeof(double));
    size_t rows = tfrs_dataset_num_rows(train);
    tfrs_fit_options fo;

    if (rate == NULL)
        exit(1);
    BENCH_CHECK(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION));
    fo.epochs = 1;
    fo.batch_size = o->batch;
    fo.shuffle_seed = 42;
    fo.threads = o->threads;
    BENCH_CHECK(tfrs_model_fit(m, warm, &fo, NULL));
    for (int r = 0; r < o->repeats; r++) {
        double t0 = bench_now();
        BENCH_CHECK(tfrs_model_fit(m, train, &fo, NULL));
        rate[r] = (double)rows / (bench_now() - t0);
    }
    *st = bench_summarize(rate, (size_t)o->repeats);
    free(rate);
    return st->median;
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --data DIR [options]\n"
            "\n"
            "Load and training figures on a large MovieLens-format data set (JSON lines).\n"
            "\n"
            "  --data DIR          u.data + u.item made by ml-synth (required)\n"
            "  --ref-data DIR      MovieLens 100K for the reference figure (default: as\n"
            "                      the example finds it; skipped if not found)\n"
            "  --train-rows N      rows of the training subset (default 2000000)\n"
            "  --warmup-rows N     rows of the warm-up epoch (default 262144)\n"
            "  --batch N           batch size (default 8192)\n"
            "  --threads N         fit threads (default 1)\n"
            "  --repeats N         timed epochs (default 3)\n"
            "  --load-repeats N    timed loads (default 3)\n"
            "  --end-to-end PATH   only load, fit one epoch over every rating and save\n"
            "                      the model to PATH; times and peak RSS per rating\n"
            "                      (the columns the model does not read are dropped)\n"
            "  --keep-columns      with --end-to-end: keep movie_id and timestamp\n",
            prog);
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
        } else if ((v = bench_option(argc, argv, &i, "--ref-data")) != NULL) {
            o->ref_data = v;
        } else if ((v = bench_option(argc, argv, &i, "--train-rows")) != NULL) {
            o->train_rows = (size_t)bench_parse_count(argv[0], "--train-rows", v);
        } else if ((v = bench_option(argc, argv, &i, "--warmup-rows")) != NULL) {
            o->warmup_rows = (size_t)bench_parse_count(argv[0], "--warmup-rows", v);
        } else if ((v = bench_option(argc, argv, &i, "--batch")) != NULL) {
            o->batch = (size_t)bench_parse_count(argv[0], "--batch", v);
        } else if ((v = bench_option(argc, argv, &i, "--threads")) != NULL) {
            o->threads = (int)bench_parse_count(argv[0], "--threads", v);
        } else if ((v = bench_option(argc, argv, &i, "--repeats")) != NULL) {
            o->repeats = (int)bench_parse_count(argv[0], "--repeats", v);
        } else if ((v = bench_option(argc, argv, &i, "--end-to-end")) != NULL) {
            o->end_to_end = v;
        } else if (strcmp(argv[i], "--keep-columns") == 0) {
            o->keep_columns = 1;
        } else if ((v = bench_option(argc, argv, &i, "--load-repeats")) != NULL) {
            o->load_repeats = (int)bench_parse_count(argv[0], "--load-repeats", v);
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
    if (o->data == NULL || !bench_has_movielens(o->data)) {
        fprintf(stderr, "%s: --data DIR with u.data and u.item is required (make it with "
                "ml-synth)\n", argv[0]);
        exit(2);
    }
}

/* Load, one epoch over every rating, save: the whole life of a program. */
static int end_to_end(const options *o)
{
    tfrs_dataset *ds = NULL;
    tfrs_vocab *users = NULL, *titles = NULL;
    tfrs_fit_options fo;
    tfrs_model *m;
    double t0, t_load, t_vocab, t_fit, t_save;
    size_t rows, peak;
    bench_json j;

    t0 = bench_now();
    BENCH_CHECK(tfrs_dataset_load_movielens(&ds, o->data, NULL));
    t_load = bench_now() - t0;
    rows = tfrs_dataset_num_rows(ds);
    t0 = bench_now();
    BENCH_CHECK(tfrs_vocab_adapt_column(&users, ds, "user_id", NULL));
    BENCH_CHECK(tfrs_vocab_adapt_column(&titles, ds, "movie_title", NULL));
    t_vocab = bench_now() - t0;
    /* The tutorial reads user_id, movie_title and user_rating: drop the
     * other columns, as a program that knows its model does (4 and 8
     * bytes a rating), unless --keep-columns. */
    if (!o->keep_columns) {
        BENCH_CHECK(tfrs_dataset_drop_column(ds, "movie_id"));
        BENCH_CHECK(tfrs_dataset_drop_column(ds, "timestamp"));
    }
    m = tutorial_model(users, titles);
    BENCH_CHECK(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION));
    fo.epochs = 1;
    fo.batch_size = o->batch;
    fo.shuffle_seed = 42;
    fo.threads = o->threads;
    t0 = bench_now();
    BENCH_CHECK(tfrs_model_fit(m, ds, &fo, NULL));
    t_fit = bench_now() - t0;
    t0 = bench_now();
    BENCH_CHECK(tfrs_model_save(m, o->end_to_end, 0));
    t_save = bench_now() - t0;
    peak = bench_peak_rss_bytes();
    bench_json_begin(&j, "scale", "end_to_end");
    bench_json_param_int(&j, "ratings", (long long)rows);
    bench_json_param_int(&j, "batch", (long long)o->batch);
    bench_json_param_int(&j, "threads", o->threads);
    bench_json_param_int(&j, "dropped_columns", o->keep_columns ? 0 : 2);
    bench_json_num(&j, "load_s", t_load);
    bench_json_num(&j, "vocab_s", t_vocab);
    bench_json_num(&j, "epoch_s", t_fit);
    bench_json_num(&j, "examples_per_s", (double)rows / t_fit);
    bench_json_num(&j, "save_s", t_save);
    bench_json_int(&j, "peak_rss_bytes", (long long)peak);
    bench_json_num(&j, "peak_rss_bytes_per_rating", (double)peak / (double)rows);
    bench_json_end(&j);
    tfrs_model_free(m);
    tfrs_vocab_free(titles);
    tfrs_vocab_free(users);
    tfrs_dataset_free(ds);
    return 0;
}

int main(int argc, char **argv)
{
    options o = { NULL, NULL, 2000000, 262144, 8192, 1, 3, 3, NULL, 0 };
    tfrs_dataset *ds = NULL, *train = NULL, *warm = NULL;
    tfrs_vocab *users = NULL, *titles = NULL;
    size_t in_bytes, rows, rss0, rss1, peak0, peak1, own, pools;
    double *lt, t0, t_vocab, t_shuffle, rate, ref_rate = 0.0;
    const char *ref;
    bench_stats st;
    bench_json j;
    tfrs_model *m;

    parse_args(argc, argv, &o);
    if (o.end_to_end != NULL)
        return end_to_end(&o);
    in_bytes = file_size(o.data, "u.data") + file_size(o.data, "u.item");
    lt = calloc((size_t)o.load_repeats, sizeof(double));
    if (lt == NULL)
        return 1;

    /* The first load measures memory and is kept; the others are timed
     * and freed. */
    rss0 = bench_rss_bytes();
    peak0 = bench_peak_rss_bytes();
    t0 = bench_now();
    BENCH_CHECK(tfrs_dataset_load_movielens(&ds, o.data, NULL));
    lt[0] = bench_now() - t0;
    rss1 = bench_rss_bytes();
    peak1 = bench_peak_rss_bytes();
    for (int r = 1; r < o.load_repeats; r++) {
        tfrs_dataset *d = NULL;

        t0 = bench_now();
        BENCH_CHECK(tfrs_dataset_load_movielens(&d, o.data, NULL));
        lt[r] = bench_now() - t0;
        tfrs_dataset_free(d);
    }
    rows = tfrs_dataset_num_rows(ds);
    st = bench_summarize(lt, (size_t)o.load_repeats);
    bench_json_begin(&j, "scale", "load");
    bench_json_param_int(&j, "ratings", (long long)rows);
    bench_json_param_int(&j, "input_bytes", (long long)in_bytes);
    bench_json_stats(&j, &st, "s", 0);
    bench_json_num(&j, "mb_per_s", (double)in_bytes / 1e6 / st.median);
    bench_json_num(&j, "ratings_per_s", (double)rows / st.median);
    bench_json_end(&j);

    own = dataset_bytes(ds, &pools);
    bench_json_begin(&j, "scale", "memory");
    bench_json_param_int(&j, "ratings", (long long)rows);
    bench_json_int(&j, "rss_delta_bytes", (long long)(rss1 - rss0));
    bench_json_num(&j, "rss_bytes_per_rating", (double)(rss1 - rss0) / (double)rows);
    bench_json_int(&j, "dataset_bytes", (long long)own);
    bench_json_int(&j, "pool_bytes", (long long)pools);
    bench_json_num(&j, "dataset_bytes_per_rating", (double)own / (double)rows);
    bench_json_int(&j, "peak_rss_delta_during_load", (long long)(peak1 - peak0));
    bench_json_int(&j, "peak_rss_bytes", (long long)bench_peak_rss_bytes());
    bench_json_str(&j, "unit", "bytes/rating");
    bench_json_end(&j);

    t0 = bench_now();
    BENCH_CHECK(tfrs_vocab_adapt_column(&users, ds, "user_id", NULL));
    BENCH_CHECK(tfrs_vocab_adapt_column(&titles, ds, "movie_title", NULL));
    t_vocab = bench_now() - t0;
    t0 = bench_now();
    BENCH_CHECK(tfrs_dataset_shuffle(ds, BENCH_SPLIT_SEED));
    t_shuffle = bench_now() - t0;
    bench_json_begin(&j, "scale", "vocab");
    bench_json_param_int(&j, "ratings", (long long)rows);
    bench_json_int(&j, "repeats", 1);
    bench_json_num(&j, "median", t_vocab);
    bench_json_str(&j, "unit", "s");
    bench_json_int(&j, "users", (long long)tfrs_vocab_num_tokens(users));
    bench_json_int(&j, "titles", (long long)tfrs_vocab_num_tokens(titles));
    bench_json_num(&j, "shuffle_s", t_shuffle);
    bench_json_end(&j);

    BENCH_CHECK(tfrs_dataset_slice(&train, ds, 0, o.train_rows));
    BENCH_CHECK(tfrs_dataset_slice(&warm, ds, o.train_rows, o.warmup_rows));
    m = tutorial_model(users, titles);
    rate = fit_rate(m, warm, train, &o, &st);
    tfrs_model_free(m);
    tfrs_dataset_free(warm);
    tfrs_dataset_free(train);

    ref = o.ref_data != NULL ? o.ref_data : bench_find_data(NULL);
    if (ref != NULL && bench_has_movielens(ref)) {
        bench_tutorial t;
        bench_stats rst;

        bench_tutorial_load(&t, ref, 0, 0);
        m = tutorial_model(t.users, t.titles);
        ref_rate = fit_rate(m, t.train, t.train, &o, &rst);
        tfrs_model_free(m);
        bench_tutorial_free(&t);
    }
    bench_json_begin(&j, "scale", "fit");
    bench_json_param_int(&j, "batch", (long long)o.batch);
    bench_json_param_int(&j, "threads", o.threads);
    bench_json_param_int(&j, "rows", (long long)(rows < o.train_rows ? rows : o.train_rows));
    bench_json_param_int(&j, "users", (long long)tfrs_vocab_num_tokens(users));
    bench_json_param_int(&j, "titles", (long long)tfrs_vocab_num_tokens(titles));
    bench_json_stats(&j, &st, "examples/s", 0);
    if (ref_rate > 0) {
        bench_json_num(&j, "ml100k_examples_per_s", ref_rate);
        bench_json_num(&j, "ratio_to_ml100k", rate / ref_rate);
    }
    bench_json_int(&j, "peak_rss_bytes", (long long)bench_peak_rss_bytes());
    bench_json_end(&j);

    tfrs_vocab_free(titles);
    tfrs_vocab_free(users);
    tfrs_dataset_free(ds);
    free(lt);
    return 0;
}
