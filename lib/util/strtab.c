/*
 * util/strtab.c - byte strings: hashing, UTF-8 validation, and the string
 * table (interning) of the dataset's columns and the vocabularies.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/strtab.h"

uint64_t tfrs__fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int tfrs__utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        unsigned lo = 0x80, hi = 0xBF;
        size_t extra;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            if (c == 0xE0)
                lo = 0xA0;          /* overlong */
            else if (c == 0xED)
                hi = 0x9F;          /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            if (c == 0xF0)
                lo = 0x90;          /* overlong */
            else if (c == 0xF4)
                hi = 0x8F;          /* > U+10FFFF */
        } else {
            return 0;
        }
        if (n - i <= extra)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= extra; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += extra + 1;
    }
    return 1;
}

/* ---- the string table --------------------------------------------------- */

void tfrs__strtab_init(tfrs__strtab *t)
{
    memset(t, 0, sizeof(*t));
}

void tfrs__strtab_free(tfrs__strtab *t)
{
    tfrs__free(t->bytes);
    tfrs__free(t->offs);
    tfrs__free(t->hashes);
    tfrs__free(t->slots);
    tfrs__strtab_init(t);
}

/* Not the documented OOV hash (FNV-1a, computed only for unknown strings):
 * 8 bytes per step, so that long titles cost little.  The only place the
 * table's hash is computed. */
uint64_t tfrs__strtab_hash(const tfrs__strtab *t, const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n ^ t->seed, w;

    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    w = 0;
    if (n > 0)
        memcpy(&w, s, n);
    h = (h ^ w) * 0x94d049bb133111ebull;
    return h;
}

/* Id of s[0..n) whose hash is h, or TFRS__STRTAB_NONE; *slot gets the slot
 * where the probe ended (the empty one to insert at when absent). */
static uint32_t probe(const tfrs__strtab *t, const char *s, size_t n, uint64_t h, size_t *slot)
{
    size_t mask = t->nslots - 1, j;

    if (t->nslots == 0)
        return TFRS__STRTAB_NONE;
    for (j = tfrs__slot_of(h, mask); t->slots[j] != 0; j = (j + 1) & mask) {
        uint32_t id = t->slots[j] - 1;
        if (t->hashes[id] == h && t->offs[id + 1] - t->offs[id] - 1 == n &&
            memcmp(t->bytes + t->offs[id], s, n) == 0) {
            *slot = j;
            return id;
        }
    }
    *slot = j;
    return TFRS__STRTAB_NONE;
}

uint32_t tfrs__strtab_find(const tfrs__strtab *t, const char *s, size_t n)
{
    size_t slot;

    if (t->nslots == 0)
        return TFRS__STRTAB_NONE;
    return probe(t, s, n, tfrs__strtab_hash(t, s, n), &slot);
}

static int rehash(tfrs__strtab *t, size_t nslots)
{
    uint32_t *slots = tfrs__calloc(nslots, sizeof(*slots));

    if (slots == NULL)
        return -1;
    for (uint32_t id = 0; id < t->n; id++) {
        size_t j = tfrs__slot_of(t->hashes[id], nslots - 1);
        while (slots[j] != 0)
            j = (j + 1) & (nslots - 1);
        slots[j] = id + 1;
    }
    tfrs__free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

int tfrs__strtab_reserve(tfrs__strtab *t, size_t count, size_t bytes)
{
    size_t n, need, nslots;

    if (count > TFRS__STRTAB_MAX - t->n)
        return TFRS_ERANGE;
    n = (size_t)t->n + count;
    if (tfrs__add(t->len, bytes, &need) < 0 || tfrs__add(need, count, &need) < 0)
        return TFRS_ENOMEM;
    if (TFRS__GROW(t->bytes, t->cap, need) < 0 || TFRS__GROW(t->offs, t->offs_cap, n + 1) < 0 ||
        TFRS__GROW(t->hashes, t->hashes_cap, n) < 0)
        return TFRS_ENOMEM;
    t->offs[t->n] = t->len;
    nslots = t->nslots == 0 ? 16 : t->nslots;
    while (nslots / 2 < n) {
        if (nslots > SIZE_MAX / 2 / sizeof(*t->slots))
            return TFRS_ENOMEM;
        nslots *= 2;
    }
    if (nslots != t->nslots && rehash(t, nslots) < 0)
        return TFRS_ENOMEM;
    return TFRS_OK;
}

/* tfrs__strtab_intern of s[0..n) whose hash is h. */
static int intern_h(tfrs__strtab *t, const char *s, size_t n, uint64_t h, uint32_t *id)
{
    size_t slot;
    int rc;

    *id = probe(t, s, n, h, &slot);
    if (*id != TFRS__STRTAB_NONE)
        return TFRS_OK;
    if (t->nslots / 2 < (size_t)t->n + 1 || t->cap - t->len < n + 1 ||
        t->offs_cap < (size_t)t->n + 2 || t->hashes_cap < (size_t)t->n + 1) {
        rc = tfrs__strtab_reserve(t, 1, n);
        if (rc < 0)
            return rc;
        probe(t, s, n, h, &slot);
    }
    memcpy(t->bytes + t->len, s, n);
    t->bytes[t->len + n] = '\0';
    t->len += n + 1;
    t->hashes[t->n] = h;
    t->offs[t->n + 1] = t->len;
    t->slots[slot] = t->n + 1;
    *id = t->n++;
    return TFRS_OK;
}

int tfrs__strtab_intern(tfrs__strtab *t, const char *s, size_t n, uint32_t *id)
{
    return intern_h(t, s, n, tfrs__strtab_hash(t, s, n), id);
}

int tfrs__strtab_intern_from(tfrs__strtab *t, const tfrs__strtab *src, uint32_t id,
                             uint32_t *out)
{
    size_t n;
    const char *s = tfrs__strtab_at(src, id, &n);

    if (t->seed != src->seed)
        return tfrs__strtab_intern(t, s, n, out);
    return intern_h(t, s, n, src->hashes[id], out);
}

int tfrs__strtab_clone(tfrs__strtab *dst, const tfrs__strtab *src)
{
    tfrs__strtab_init(dst);
    dst->seed = src->seed;
    if (src->offs == NULL)
        return TFRS_OK;
    dst->bytes = tfrs__malloc(src->len);
    dst->offs = tfrs__calloc((size_t)src->n + 1, sizeof(*dst->offs));
    dst->hashes = tfrs__calloc(src->n, sizeof(*dst->hashes));
    dst->slots = tfrs__calloc(src->nslots, sizeof(*dst->slots));
    if (dst->bytes == NULL || dst->offs == NULL || dst->hashes == NULL || dst->slots == NULL) {
        tfrs__strtab_free(dst);
        return TFRS_ENOMEM;
    }
    /* An empty table may have no bytes or hashes yet (NULL): copy only what
     * exists (memcpy from NULL is undefined even for 0 bytes). */
    if (src->len > 0)
        memcpy(dst->bytes, src->bytes, src->len);
    memcpy(dst->offs, src->offs, ((size_t)src->n + 1) * sizeof(*dst->offs));
    if (src->n > 0)
        memcpy(dst->hashes, src->hashes, src->n * sizeof(*dst->hashes));
    if (src->nslots > 0)
        memcpy(dst->slots, src->slots, src->nslots * sizeof(*dst->slots));
    dst->len = dst->cap = src->len;
    dst->offs_cap = (size_t)src->n + 1;
    dst->hashes_cap = src->n;
    dst->n = src->n;
    dst->nslots = src->nslots;
    return TFRS_OK;
}
