/*
 * alloc.c - allocation wrappers and the allocator tfrs_set_allocator installs.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"

static void *default_malloc(size_t size, void *payload)
{
    (void)payload;
    return malloc(size);
}

static void *default_realloc(void *ptr, size_t size, void *payload)
{
    (void)payload;
    return realloc(ptr, size);
}

static void default_free(void *ptr, void *payload)
{
    (void)payload;
    free(ptr);
}

/* Blocks from this size up are zeroed by the C library's calloc. */
#define CALLOC_MIN ((size_t)1 << 20)

static tfrs_allocator allocator = { default_malloc, default_realloc, default_free, NULL };

/* Allocations that failed in this thread (see tfrs__alloc_failures). */
static _Thread_local unsigned long failures;

/* 1 while an allocator set by tfrs_set_allocator is installed. */
static int custom;

/* tfrs_set_allocator itself is in json.c: it also re-points cJSON's
 * allocation hooks (util depends on no third-party library). */
int tfrs__alloc_set(const tfrs_allocator *alloc)
{
    if (alloc == NULL) {
        allocator.malloc_fn = default_malloc;
        allocator.realloc_fn = default_realloc;
        allocator.free_fn = default_free;
        allocator.payload = NULL;
        custom = 0;
        return TFRS_OK;
    }
    if (alloc->malloc_fn == NULL || alloc->free_fn == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_set_allocator: malloc_fn and free_fn are required");
    allocator = *alloc;
    custom = 1;
    return TFRS_OK;
}

int tfrs__alloc_is_custom(void)
{
    return custom;
}

unsigned long tfrs__alloc_failures(void)
{
    return failures;
}

void *tfrs__malloc(size_t size)
{
    void *p = size > TFRS__ALLOC_MAX ? NULL
            : allocator.malloc_fn(size == 0 ? 1 : size, allocator.payload);

    if (p == NULL)
        failures++;
    return p;
}

void *tfrs__calloc(size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (tfrs__mul(n, size, &bytes) < 0 || bytes > TFRS__ALLOC_MAX) {
        failures++;
        return NULL;
    }
    /* For large blocks the C library's calloc takes fresh zero pages from
     * the kernel without touching them, so a huge table costs nothing until
     * it is used and a request the system cannot meet fails at once.  Small
     * blocks are cleared here: glibc's calloc made loading MovieLens (many
     * small tables) 3-4 times slower.  A custom allocator has no calloc:
     * zero what it returns. */
    if (allocator.malloc_fn == default_malloc && bytes >= CALLOC_MIN) {
        p = calloc(bytes == 0 ? 1 : bytes, 1);
        if (p == NULL)
            failures++;
        return p;
    }
    p = tfrs__malloc(bytes);
    if (p != NULL)
        memset(p, 0, bytes);
    return p;
}

void *tfrs__realloc(void *ptr, size_t old_size, size_t size)
{
    void *p;

    if (size == 0)
        size = 1;
    if (size > TFRS__ALLOC_MAX) {
        p = NULL;
    } else if (allocator.realloc_fn != NULL) {
        p = allocator.realloc_fn(ptr, size, allocator.payload);
    } else {
        p = allocator.malloc_fn(size, allocator.payload);
        if (p != NULL && ptr != NULL) {
            memcpy(p, ptr, old_size < size ? old_size : size);
            allocator.free_fn(ptr, allocator.payload);
        }
    }
    if (p == NULL)
        failures++;
    return p;
}

void tfrs__free(void *ptr)
{
    if (ptr != NULL)
        allocator.free_fn(ptr, allocator.payload);
}

char *tfrs__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = tfrs__malloc(n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

int tfrs__mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

int tfrs__add(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return -1;
    *out = a + b;
    return 0;
}

int tfrs__grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    size_t ncap, bytes;
    void *p;

    if (need <= *cap)
        return 0;
    ncap = *cap < 16 ? 16 : *cap;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (tfrs__mul(ncap, elem, &bytes) < 0)
        return -1;
    p = tfrs__realloc(*buf, *cap * elem, bytes);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = ncap;
    return 0;
}
