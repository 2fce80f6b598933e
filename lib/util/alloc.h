/*
 * util/alloc.h - every allocation of the library, through tfrs_set_allocator.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_ALLOC_H
#define TFRS_UTIL_ALLOC_H

#include <string.h>

#include "util/common.h"

/* The largest single allocation the library asks for (1 TiB): a larger
 * request fails as out of memory without reaching the allocator. */
#define TFRS__ALLOC_MAX ((size_t)1 << 40)

/* All library memory goes through these (and so through tfrs_set_allocator).
 * tfrs__calloc checks n * size for overflow. tfrs__free(NULL) is a no-op. */
void *tfrs__malloc(size_t size);
void *tfrs__calloc(size_t n, size_t size);
/* old_size is the current size of ptr's block (used only when the custom
 * allocator has no realloc_fn). */
void *tfrs__realloc(void *ptr, size_t old_size, size_t size);
void  tfrs__free(void *ptr);
char *tfrs__strdup(const char *s);
/* Number of allocations that have failed in the calling thread so far.  A
 * caller of code that cannot report out-of-memory itself (cJSON's parser
 * returns NULL for both bad input and a failed allocation) compares it
 * before and after to tell the two apart. */
unsigned long tfrs__alloc_failures(void);
/* 1 while an allocator set by tfrs_set_allocator is installed. */
int tfrs__alloc_is_custom(void);
/* The body of tfrs_set_allocator (which is in json.c, where cJSON's hooks
 * follow it): installs alloc, NULL restoring the C library's functions;
 * TFRS_EINVAL if malloc_fn or free_fn is NULL. */
int tfrs__alloc_set(const tfrs_allocator *alloc);

/* *out = a * b; returns -1 on overflow (and leaves *out undefined). */
int tfrs__mul(size_t a, size_t b, size_t *out);
/* *out = a + b; returns -1 on overflow. */
int tfrs__add(size_t a, size_t b, size_t *out);

/* Grows *buf (element size `elem`) to hold at least `need` elements,
 * geometrically.  Returns 0, or -1 on overflow or allocation failure (then
 * *buf and *cap are unchanged).  Call it through TFRS__GROW. */
int tfrs__grow(void **buf, size_t *cap, size_t need, size_t elem);

/* The one way to grow an array: TFRS__GROW(ptr, cap, need) evaluates to 0
 * or -1 as tfrs__grow, through a void * temporary (no punning of the
 * pointer's type).  ptr and cap are evaluated more than once. */
#define TFRS__GROW(ptr, cap, need) \
    tfrs__grow_typed((void *)&(ptr), &(cap), (need), sizeof(*(ptr)))

/* TFRS__GROW's helper: *pp is a T * stored in an object of pointer type. */
static inline int tfrs__grow_typed(void *pp, size_t *cap, size_t need, size_t elem)
{
    void *tmp;
    int rc;

    memcpy(&tmp, pp, sizeof(tmp));
    rc = tfrs__grow(&tmp, cap, need, elem);
    memcpy(pp, &tmp, sizeof(tmp));
    return rc;
}

#endif /* TFRS_UTIL_ALLOC_H */
