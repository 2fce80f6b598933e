/*
 * bench-load.c - MovieLens 100K load and vocabulary time.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Each repeat times, from nothing in memory (the files in the page cache):
 *   load        tfrs_dataset_load_movielens (u.item + u.data, joined,
 *               titles transcoded)
 *   vocab       tfrs_vocab_adapt_column of user_id and of movie_title
 *   load_vocab  the two together: the "load plus vocabularies"
 *   split       then shuffle (seed 42) and the 80k/20k slices, which
 *               completes what the PyTorch peer's "load+vocab" figure
 *               covers (load_vocab_split)
 * and prints the median (and the first, cold-ish, repeat) in milliseconds.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum { T_LOAD, T_VOCAB, T_LOAD_VOCAB, T_SPLIT, T_ALL, NT };

static const char *const names[NT] = {
    "load", "vocab", "load_vocab", "split", "load_vocab_split"
};

int main(int argc, char **argv)
{
    const char *data = NULL, *dir, *v;
    int repeats = 30;
    double *t[NT];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s [--data DIR] [--repeats N]\n\n"
                   "MovieLens 100K load + vocabulary time, median of N (default 30),\n"
                   "as JSON lines on stdout.\n", argv[0]);
            return 0;
        } else if ((v = bench_option(argc, argv, &i, "--data")) != NULL) {
            data = v;
        } else if ((v = bench_option(argc, argv, &i, "--repeats")) != NULL) {
            repeats = (int)bench_parse_count(argv[0], "--repeats", v);
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            return 2;
        }
    }
    dir = bench_find_data(data);
    if (dir == NULL) {
        fprintf(stderr, "%s: MovieLens 100K not found (--data, TFRSC_DATA, data/ml-100k, "
                "../shared/data/ml-100k)\n", argv[0]);
        return 1;
    }
    for (int k = 0; k < NT; k++)
        if ((t[k] = calloc((size_t)repeats, sizeof(double))) == NULL)
            return 1;

    for (int r = 0; r < repeats; r++) {
        tfrs_dataset *ds = NULL, *train = NULL, *test = NULL;
        tfrs_vocab *users = NULL, *titles = NULL;
        double t0, t1, t2, t3;

        t0 = bench_now();
        BENCH_CHECK(tfrs_dataset_load_movielens(&ds, dir, NULL));
        t1 = bench_now();
        BENCH_CHECK(tfrs_vocab_adapt_column(&users, ds, "user_id", NULL));
        BENCH_CHECK(tfrs_vocab_adapt_column(&titles, ds, "movie_title", NULL));
        t2 = bench_now();
        BENCH_CHECK(tfrs_dataset_shuffle(ds, BENCH_SPLIT_SEED));
        BENCH_CHECK(tfrs_dataset_slice(&train, ds, 0, BENCH_TRAIN_ROWS));
        BENCH_CHECK(tfrs_dataset_slice(&test, ds, BENCH_TRAIN_ROWS, BENCH_TEST_ROWS));
        t3 = bench_now();
        t[T_LOAD][r] = 1e3 * (t1 - t0);
        t[T_VOCAB][r] = 1e3 * (t2 - t1);
        t[T_LOAD_VOCAB][r] = 1e3 * (t2 - t0);
        t[T_SPLIT][r] = 1e3 * (t3 - t2);
        t[T_ALL][r] = 1e3 * (t3 - t0);
        tfrs_dataset_free(test);
        tfrs_dataset_free(train);
        tfrs_vocab_free(titles);
        tfrs_vocab_free(users);
        tfrs_dataset_free(ds);
    }
    for (int k = 0; k < NT; k++) {
        double first = t[k][0];
        bench_stats st = bench_summarize(t[k], (size_t)repeats);
        bench_json j;

        bench_json_begin(&j, "load", names[k]);
        bench_json_param_str(&j, "data", dir);
        bench_json_stats(&j, &st, "ms", 1);
        bench_json_num(&j, "first", first);
        bench_json_end(&j);
        free(t[k]);
    }
    return 0;
}
