/*
 * test-noalloc.c - tfrs_model_fit allocates nothing after its first batch
 * (issue 4: no allocation inside the training loop).
 *
 * Every allocation goes through a counting allocator installed with
 * tfrs_set_allocator; the progress callback snapshots the count after the
 * first batch of the first epoch, and every later callback must see the
 * same count.  Synthetic data, so the test runs everywhere.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "tfrsc.h"

#define ROWS   3000
#define USERS  60
#define ITEMS  90

/* Counts the allocations (tu_alloc's calls), from any thread. */
static tu_alloc counting = TU_ALLOC_INIT;

static unsigned long allocs(void)
{
    return (unsigned long)tu_alloc_snapshot(&counting).calls;
}

/* ROWS ratings of USERS users and ITEMS items with a learnable pattern;
 * with_weights adds a "w" float column. */
/* Row r: *arg is the state of the xorshift drawing user and item. */
static void rating_row(size_t r, char (*s)[TU_ROW_CHARS], float *f, void *arg)
{
    uint64_t *x = arg;
    unsigned u, i;

    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    u = (unsigned)(*x % USERS);
    i = (unsigned)((*x >> 20) % ITEMS);
    snprintf(s[0], TU_ROW_CHARS, "%u", u + 1);
    snprintf(s[1], TU_ROW_CHARS, "Film %u (19%02u)", i + 1, i % 100);
    f[0] = (float)(1 + (u + 2 * i) % 5);
    f[1] = 0.5f + (float)(r % 3);
}

static tfrs_dataset *make_data(int with_weights)
{
    static const tu_column cols[] = {
        { "user_id", TFRS_COLUMN_STRING },
        { "movie_title", TFRS_COLUMN_STRING },
        { "user_rating", TFRS_COLUMN_FLOAT },
        { "w", TFRS_COLUMN_FLOAT },
    };
    tfrs_dataset *ds = NULL;
    uint64_t x = 12345;

    ck_assert_int_eq(tu_dataset_new(&ds, cols, with_weights ? 4 : 3, ROWS, rating_row, &x),
                     TFRS_OK);
    return ds;
}

static tfrs_model *make_model(const tfrs_dataset *ds, tfrs_optimizer_kind kind, int with_weights)
{
    tfrs_vocab *users = NULL, *items = NULL;
    tfrs_model *m = NULL;

    ck_assert_int_eq(tfrs_vocab_adapt_column(&users, ds, "user_id", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&items, ds, "movie_title", NULL), TFRS_OK);
    {
        const tu_model_spec spec = {
            .seed = 7,
            .features = { { "user_id", users, 8 }, { "movie_title", items, 8 } },
            .dense = { { 32, TFRS_ACT_RELU, 0.001f }, { 16, TFRS_ACT_RELU, 0.0f },
                       { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, kind, 0.0f, kind == TFRS_OPT_SGD ? 0.9f : 0.0f },
            .label = "user_rating",
            .weight = with_weights ? "w" : NULL,
        };
        ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    }
    tfrs_vocab_free(users);
    tfrs_vocab_free(items);
    return m;
}

typedef struct probe {
    unsigned long after_first;   /* count at the first batch's callback  */
    unsigned long worst;         /* largest count seen after that        */
    size_t        calls;
} probe;

static int on_progress(const tfrs_progress *p, void *payload)
{
    probe *pr = payload;
    unsigned long now = allocs();

    if (p->epoch == 1 && p->batch == 1 && !p->end_of_epoch)
        pr->after_first = now;
    if (now > pr->worst)
        pr->worst = now;
    pr->calls++;
    return 0;
}

/* Fits 3 epochs and checks the allocation count stays put after batch 1.
 * Returns the number of allocations before the first callback. */
static unsigned long check_fit(tfrs_optimizer_kind kind, size_t batch, int threads,
                               int with_weights)
{
    tfrs_dataset *ds;
    tfrs_model *m;
    tfrs_fit_options fo;
    tfrs_metrics hist[3];
    probe pr = { 0, 0, 0 };
    unsigned long before;

    tu_alloc_install(&counting, 1);
    ds = make_data(with_weights);
    m = make_model(ds, kind, with_weights);
    ck_assert_int_eq(tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION), TFRS_OK);
    fo.epochs = 3;
    fo.batch_size = batch;
    fo.shuffle_seed = 3;
    fo.threads = threads;
    fo.progress = on_progress;
    fo.payload = &pr;
    before = allocs();
    ck_assert_int_eq(tfrs_model_fit(m, ds, &fo, hist), TFRS_OK);
    ck_assert_uint_gt(pr.calls, 3);
    ck_assert_msg(pr.worst == pr.after_first,
                  "kind %d, batch %zu, %d thread(s)%s: %lu allocation(s) after the first batch",
                  (int)kind, batch, threads, with_weights ? ", weights" : "",
                  pr.worst - pr.after_first);
    tfrs_model_free(m);
    tfrs_dataset_free(ds);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
    return pr.after_first - before;
}

/* The allocator sees the fit's setup at all (else the test proves nothing). */
START_TEST(counting_allocator_sees_fit)
{
    ck_assert_uint_gt(check_fit(TFRS_OPT_ADAGRAD, 256, 1, 0), 0);
}
END_TEST

/* Batch sizes: several per epoch with a short last one (3000 = 11 * 256 +
 * 184), one that divides nothing evenly, and one larger than the data. */
static const size_t batches[] = { 256, 1000, 8192 };

START_TEST(adagrad_one_thread)
{
    check_fit(TFRS_OPT_ADAGRAD, batches[_i], 1, 0);
}
END_TEST

START_TEST(adagrad_two_threads)
{
    check_fit(TFRS_OPT_ADAGRAD, batches[_i], 2, 0);
}
END_TEST

START_TEST(sgd_momentum_and_adam)
{
    check_fit(TFRS_OPT_SGD, batches[_i], 1, 0);
    check_fit(TFRS_OPT_ADAM, batches[_i], 1, 0);
    check_fit(TFRS_OPT_ADAM, batches[_i], 2, 0);
}
END_TEST

START_TEST(sample_weights)
{
    check_fit(TFRS_OPT_ADAGRAD, batches[_i], 1, 1);
    check_fit(TFRS_OPT_ADAGRAD, batches[_i], 2, 1);
}
END_TEST

static Suite *noalloc_suite(void)
{
    Suite *s = suite_create("noalloc");
    TCase *tc = tcase_create("fit");
    int nb = (int)(sizeof(batches) / sizeof(batches[0]));

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, counting_allocator_sees_fit);
    tcase_add_loop_test(tc, adagrad_one_thread, 0, nb);
    tcase_add_loop_test(tc, adagrad_two_threads, 0, nb);
    tcase_add_loop_test(tc, sgd_momentum_and_adam, 0, nb);
    tcase_add_loop_test(tc, sample_weights, 0, nb);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(noalloc_suite());
}
