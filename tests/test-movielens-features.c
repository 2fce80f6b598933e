/*
 * test-movielens-features.c - the MovieLens side features and the derived
 * features on the real MovieLens 100K.  Nothing of the data is written
 * here: every expected value is computed from the files at test time.
 * Exits 77 (skipped) without the data.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "tfrsc.h"

#define OK(call) ck_assert_msg((call) == TFRS_OK, "%s: %s", #call, tfrs_last_error())
#define MAXID 4096

static const char *data_dir;

/* The lines of dir/name, '|'-split by the caller. */
static char *read_text(const char *name)
{
    char path[1024];
    size_t n;
    char *t;

    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    {
        unsigned char *b = tu_read_file(path, &n);
        ck_assert_ptr_nonnull(b);
        t = malloc(n + 1);
        ck_assert_ptr_nonnull(t);
        memcpy(t, b, n);
        t[n] = '\0';
        free(b);
    }
    return t;
}

static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

START_TEST(side_features)
{
    static int age[MAXID], flags[MAXID], nodate[MAXID];
    static char gender[MAXID];
    tfrs_load_options lo;
    tfrs_dataset *base = NULL, *ds = NULL;
    const float *raw, *bucket;
    const int64_t *date, *year;
    char *text, *line, *save = NULL;
    size_t rows, ngenres = 0;
    double t0, t1, t2;

    /* u.user: age and gender by id; u.item: the number of genre flags set. */
    text = read_text("u.user");
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        int id, a;
        char g;
        ck_assert_int_eq(sscanf(line, "%d|%d|%c|", &id, &a, &g), 3);
        ck_assert(id > 0 && id < MAXID);
        age[id] = a;
        gender[id] = g;
    }
    free(text);
    text = read_text("u.item");
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        int id = atoi(line), field = 0;
        ck_assert(id > 0 && id < MAXID);
        for (char *p = line; *p; p++) {
            if (*p != '|')
                continue;
            field++;
            if (field == 2 && p[1] == '|')
                nodate[id] = 1;
            if (field >= 5 && p[1] == '1')
                flags[id]++;
        }
    }
    free(text);
    text = read_text("u.genre");
    for (char *p = text; *p; p++)
        ngenres += *p == '|';
    free(text);

    t0 = seconds();
    OK(tfrs_dataset_load_movielens(&base, data_dir, NULL));
    t1 = seconds();
    OK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION));
    lo.movielens_features = TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES;
    OK(tfrs_dataset_load_movielens(&ds, data_dir, &lo));
    t2 = seconds();
    printf("movielens-features: load %.1f ms, with side features %.1f ms\n", (t1 - t0) * 1e3,
           (t2 - t1) * 1e3);
    rows = tfrs_dataset_num_rows(ds);
    ck_assert_uint_eq(rows, tfrs_dataset_num_rows(base));
    ck_assert_uint_eq(tfrs_dataset_num_columns(base), 5);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 13);
    OK(tfrs_dataset_floats(ds, "raw_user_age", &raw));
    OK(tfrs_dataset_floats(ds, "bucketized_user_age", &bucket));
    OK(tfrs_dataset_int64s(ds, "movie_release_date", &date));
    OK(tfrs_dataset_int64s(ds, "movie_release_year", &year));
    for (size_t r = 0; r < rows; r++) {
        const char *u, *m, *g, *s1, *s2;
        int uid, mid;
        size_t tokens = 0;
        /* The base columns are exactly those of the plain load. */
        OK(tfrs_dataset_get_string(ds, "movie_title", r, &s1));
        OK(tfrs_dataset_get_string(base, "movie_title", r, &s2));
        ck_assert_str_eq(s1, s2);
        OK(tfrs_dataset_get_string(ds, "user_id", r, &u));
        OK(tfrs_dataset_get_string(ds, "movie_id", r, &m));
        uid = atoi(u);
        mid = atoi(m);
        ck_assert_float_eq(raw[r], (float)age[uid]);
        ck_assert(bucket[r] <= raw[r] || bucket[r] == 1.0f);
        OK(tfrs_dataset_get_string(ds, "user_gender", r, &g));
        ck_assert(g[0] == gender[uid] && g[1] == '\0');
        OK(tfrs_dataset_get_string(ds, "movie_genres", r, &g));
        if (g[0] != '\0')
            for (tokens = 1; *g; g++)
                tokens += *g == '|';
        ck_assert_uint_eq(tokens, (size_t)flags[mid]);
        if (nodate[mid]) {
            ck_assert_int_eq(date[r], 0);
            ck_assert_int_eq(year[r], 1970);
        } else {
            time_t t = (time_t)date[r];
            struct tm tm;
            ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
            ck_assert_int_eq(tm.tm_year + 1900, year[r]);
            ck_assert_int_eq(tm.tm_hour, 0);
        }
    }
    {
        tfrs_vocab *v = NULL;
        OK(tfrs_vocab_adapt_bags(&v, ds, "movie_genres", '|', NULL));
        ck_assert_uint_le(tfrs_vocab_num_tokens(v), ngenres);
        ck_assert_uint_gt(tfrs_vocab_num_tokens(v), 1);
        tfrs_vocab_free(v);
    }
    tfrs_dataset_free(ds);
    tfrs_dataset_free(base);
}
END_TEST

/* The tutorial's split: bags of the training rows only, for both sets. */
START_TEST(implicit_bags_and_adapters)
{
    static int seen[MAXID][MAXID / 32 + 1];
    static size_t distinct[MAXID];
    tfrs_dataset *all = NULL, *train = NULL, *test = NULL;
    double mean, var, b[9], t0;
    size_t nb, ntest;

    OK(tfrs_dataset_load_movielens(&all, data_dir, NULL));
    OK(tfrs_dataset_shuffle(all, 42));
    OK(tfrs_dataset_slice(&train, all, 0, 80000));
    OK(tfrs_dataset_slice(&test, all, 80000, 20000));
    for (size_t r = 0; r < 80000; r++) {
        const char *u, *m;
        int uid, mid;
        OK(tfrs_dataset_get_string(train, "user_id", r, &u));
        OK(tfrs_dataset_get_string(train, "movie_id", r, &m));
        uid = atoi(u);
        mid = atoi(m);
        if (!(seen[uid][mid / 32] >> (mid % 32) & 1)) {
            seen[uid][mid / 32] |= 1 << (mid % 32);
            distinct[uid]++;
        }
    }
    t0 = seconds();
    OK(tfrs_dataset_add_implicit_bags(train, "user_history", train, "user_id", "movie_id", '|'));
    OK(tfrs_dataset_add_implicit_bags(test, "user_history", train, "user_id", "movie_id", '|'));
    OK(tfrs_dataset_add_implicit_bags(train, "item_users", train, "movie_id", "user_id", '|'));
    printf("movielens-features: three implicit bag columns in %.1f ms\n",
           (seconds() - t0) * 1e3);
    ntest = tfrs_dataset_num_rows(test);
    for (size_t r = 0; r < ntest; r++) {
        const char *u, *h;
        size_t tokens = 0;
        OK(tfrs_dataset_get_string(test, "user_id", r, &u));
        OK(tfrs_dataset_get_string(test, "user_history", r, &h));
        if (h[0] != '\0')
            for (tokens = 1; *h; h++)
                tokens += *h == '|';
        ck_assert_uint_eq(tokens, distinct[atoi(u)]);
    }
    OK(tfrs_dataset_column_moments(train, "user_rating", &mean, &var));
    ck_assert(mean > 1.0 && mean < 5.0 && var > 0.0);
    OK(tfrs_dataset_column_quantiles(train, "timestamp", 10, b, &nb));
    ck_assert_uint_eq(nb, 9);
    for (size_t j = 1; j < nb; j++)
        ck_assert(b[j] > b[j - 1]);
    tfrs_dataset_free(test);
    tfrs_dataset_free(train);
    tfrs_dataset_free(all);
}
END_TEST

int main(void)
{
    const tu_case cases[] = { TU_CASE(side_features), TU_CASE(implicit_bags_and_adapters) };

    data_dir = tu_movielens_dir();
    if (data_dir == NULL) {
        fprintf(stderr, "MovieLens 100K not found: skipping\n");
        return 77;
    }
    return tu_run_cases("movielens-features", cases, TU_NELEM(cases));
}
