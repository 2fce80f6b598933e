/*
 * alloc.c - allocation wrappers and the tfrs_set_allocator hook.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

static tfrs_allocator allocator = { default_malloc, default_realloc, default_free, NULL };

/* Allocations that failed in this thread (see tfrs__alloc_failures). */
static _Thread_local unsigned long failures;

/* cJSON (the model file's header) allocates through process-global hooks.
 * While a custom allocator is installed they point here, so that save and
 * load are accounted for and fail cleanly when the allocator fails. */
static int cjson_hooked;

static void *cjson_malloc(size_t size)
{
    return tfrs__malloc(size);
}

static void cjson_free(void *ptr)
{
    tfrs__free(ptr);
}

int tfrs_set_allocator(const tfrs_allocator *alloc)
{
    cJSON_Hooks hooks = { cjson_malloc, cjson_free };

    if (alloc == NULL) {
        allocator.malloc_fn = default_malloc;
        allocator.realloc_fn = default_realloc;
        allocator.free_fn = default_free;
        allocator.payload = NULL;
        if (cjson_hooked)
            cJSON_InitHooks(NULL);
        cjson_hooked = 0;
        return TFRS_OK;
    }
    if (alloc->malloc_fn == NULL || alloc->free_fn == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_set_allocator: malloc_fn and free_fn are required");
    allocator = *alloc;
    cJSON_InitHooks(&hooks);
    cjson_hooked = 1;
    return TFRS_OK;
}

unsigned long tfrs__alloc_failures(void)
{
    return failures;
}

void *tfrs__malloc(size_t size)
{
    void *p = allocator.malloc_fn(size == 0 ? 1 : size, allocator.payload);

    if (p == NULL)
        failures++;
    return p;
}

void *tfrs__calloc(size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (tfrs__mul(n, size, &bytes) < 0) {
        failures++;
        return NULL;
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
    if (allocator.realloc_fn != NULL) {
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
