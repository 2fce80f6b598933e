/*
 * test-status.c - status strings, thread-local errors, version, allocator.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/alloc.h"
#include "util/status.h"
#include "testutil.h"

static const int codes[] = {
    TFRS_OK, TFRS_ENOMEM, TFRS_EINVAL, TFRS_ESHAPE, TFRS_ESTATE, TFRS_EIO, TFRS_EFORMAT,
    TFRS_EVERSION, TFRS_ENONFINITE, TFRS_EPARSE, TFRS_EDUPLICATE, TFRS_ENOTFOUND,
    TFRS_ERANGE, TFRS_ECANCELED,
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

START_TEST(every_status_has_distinct_text)
{
    for (size_t i = 0; i < NCODES; i++) {
        const char *a = tfrs_status_str(codes[i]);
        ck_assert_ptr_nonnull(a);
        ck_assert_uint_gt(strlen(a), 0);
        for (size_t j = i + 1; j < NCODES; j++)
            ck_assert_str_ne(a, tfrs_status_str(codes[j]));
    }
}
END_TEST

START_TEST(unknown_status_gets_generic_text)
{
    static const int unknown[] = { 1, 42, -14, -1000, -2147483647 - 1 };
    const char *generic = tfrs_status_str(unknown[0]);

    ck_assert_ptr_nonnull(generic);
    ck_assert_uint_gt(strlen(generic), 0);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        ck_assert_str_eq(tfrs_status_str(unknown[i]), generic);
    for (size_t i = 0; i < NCODES; i++)
        ck_assert_str_ne(tfrs_status_str(codes[i]), generic);
}
END_TEST

START_TEST(fail_records_message_and_returns_status)
{
    char big[2000];

    ck_assert_int_eq(tfrs__fail(TFRS_ERANGE, "id %d of %s", 7, "users"), TFRS_ERANGE);
    ck_assert_str_eq(tfrs_last_error(), "id 7 of users");
    /* Long messages are truncated, not overflowed. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(tfrs__fail(TFRS_EIO, "%s", big), TFRS_EIO);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);
    ck_assert_uint_lt(strlen(tfrs_last_error()), sizeof(big) - 1);
}
END_TEST

static void *thread_body(void *arg)
{
    int *ok = arg;

    /* A fresh thread starts with no message. */
    *ok = strcmp(tfrs_last_error(), "") == 0;
    tfrs__fail(TFRS_EINVAL, "from the thread");
    *ok = *ok && strcmp(tfrs_last_error(), "from the thread") == 0;
    return NULL;
}

START_TEST(last_error_is_thread_local)
{
    pthread_t th;
    int ok = 0;

    tfrs__fail(TFRS_EIO, "from main");
    ck_assert_int_eq(pthread_create(&th, NULL, thread_body, &ok), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(ok, 1);
    ck_assert_str_eq(tfrs_last_error(), "from main");
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(tfrs_version_number(), TFRS_VERSION_NUMBER);
    ck_assert_str_eq(tfrs_version_string(), TFRS_VERSION_STRING);
}
END_TEST

/* ---- allocator ---------------------------------------------------------- */

START_TEST(custom_allocator_sees_every_allocation)
{
    tu_alloc c;
    tfrs_embedding *e = NULL;
    void *buf = NULL;
    size_t cap = 0;

    tu_alloc_install(&c, 1);
    ck_assert_int_eq(tfrs_embedding_create(&e, 10, 4, 1), TFRS_OK);
    ck_assert_uint_gt(c.mallocs, 0);
    ck_assert_int_eq(tfrs__grow(&buf, &cap, 10, sizeof(int)), 0);
    ck_assert_int_eq(tfrs__grow(&buf, &cap, 1000, sizeof(int)), 0);
    ck_assert_uint_gt(c.reallocs, 0);
    tfrs__free(buf);
    tfrs_embedding_free(e);
    /* Every block obtained was returned. */
    ck_assert_int_eq(c.live, 0);
    ck_assert_uint_ge(c.frees, c.mallocs);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}
END_TEST

START_TEST(allocator_without_realloc_is_emulated)
{
    tu_alloc c;
    int *p;

    tu_alloc_install(&c, 0);
    p = tfrs__malloc(4 * sizeof(int));
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 4; i++)
        p[i] = i + 1;
    p = tfrs__realloc(p, 4 * sizeof(int), 100 * sizeof(int));
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(p[i], i + 1);
    tfrs__free(p);
    ck_assert_uint_eq(c.mallocs, 2);
    ck_assert_uint_eq(c.frees, 2);
    ck_assert_int_eq(c.live, 0);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}
END_TEST

START_TEST(allocator_requires_malloc_and_free)
{
    tu_alloc c = TU_ALLOC_INIT;
    tfrs_allocator no_malloc = { NULL, tu_realloc, tu_free, &c };
    tfrs_allocator no_free = { tu_malloc, tu_realloc, NULL, &c };
    void *p;

    ck_assert_int_eq(tfrs_set_allocator(&no_malloc), TFRS_EINVAL);
    ck_assert_uint_gt(strlen(tfrs_last_error()), 0);
    ck_assert_int_eq(tfrs_set_allocator(&no_free), TFRS_EINVAL);
    /* The rejected allocators were not installed. */
    p = tfrs__malloc(16);
    ck_assert_ptr_nonnull(p);
    tfrs__free(p);
    ck_assert_uint_eq(c.mallocs, 0);
    ck_assert_uint_eq(c.frees, 0);
}
END_TEST

static long peak_rss_kib(void)
{
    struct rusage ru;

    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* tfrs__calloc of a large block must not touch it (the C library's calloc
 * maps fresh zero pages), so that building a model commits only what it
 * writes; and a request over TFRS__ALLOC_MAX fails without reaching the
 * allocator.  Clearing the block would add 1,024 MiB; AddressSanitizer's
 * shadow of it adds 128 MiB, hence the 256 MiB bound.  Memcheck and
 * ThreadSanitizer's allocator clear blocks themselves: no RSS check there. */
START_TEST(calloc_commits_nothing)
{
    size_t big = (size_t)1 << 30;
    long before = peak_rss_kib();
    unsigned char *p = tfrs__calloc(big, 1);
    unsigned long fails = tfrs__alloc_failures();
#if defined(__SANITIZE_THREAD__)
    int rss_check = 0;
#else
    int rss_check = getenv("TFRSC_UNDER_VALGRIND") == NULL;
#endif

    ck_assert_ptr_nonnull(p);
    ck_assert(p[0] == 0 && p[big / 2] == 0 && p[big - 1] == 0);
    if (rss_check)
        ck_assert_msg(peak_rss_kib() - before < 256 * 1024, "1 GiB calloc grew RSS by %ld KiB",
                      peak_rss_kib() - before);
    tfrs__free(p);
    ck_assert_ptr_null(tfrs__calloc(TFRS__ALLOC_MAX + 1, 1));
    ck_assert_ptr_null(tfrs__malloc(TFRS__ALLOC_MAX + 1));
    ck_assert_uint_eq(tfrs__alloc_failures(), fails + 2);
}
END_TEST

START_TEST(size_arithmetic_detects_overflow)
{
    size_t r = 0;

    ck_assert_int_eq(tfrs__mul(SIZE_MAX / 2, 2, &r), 0);
    ck_assert_int_eq(tfrs__mul(SIZE_MAX / 2, 3, &r), -1);
    ck_assert_int_eq(tfrs__mul(0, SIZE_MAX, &r), 0);
    ck_assert_uint_eq(r, 0);
    ck_assert_int_eq(tfrs__add(SIZE_MAX - 1, 1, &r), 0);
    ck_assert_int_eq(tfrs__add(SIZE_MAX, 1, &r), -1);
    ck_assert_ptr_null(tfrs__calloc(SIZE_MAX / 2, 3));
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        { "distinct_text", every_status_has_distinct_text },
        { "unknown_text", unknown_status_gets_generic_text },
        { "fail", fail_records_message_and_returns_status },
        { "thread_local", last_error_is_thread_local },
        { "version", version_matches_header },
        { "allocator", custom_allocator_sees_every_allocation },
        { "allocator_no_realloc", allocator_without_realloc_is_emulated },
        { "allocator_rejects_null", allocator_requires_malloc_and_free },
        { "overflow", size_arithmetic_detects_overflow },
        { "calloc", calloc_commits_nothing },
    };

    return tu_run_cases("status", cases, TU_NELEM(cases));
}
