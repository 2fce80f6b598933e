/*
 * util/strtab.c - byte strings: hashing, UTF-8 validation, and the string
 * table (interning) of the dataset's columns and the vocabularies.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE   /* syscall */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/strtab.h"

uint64_t tfrs__fnv1a64_add(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t tfrs__fnv1a64(const void *data, size_t n)
{
    return tfrs__fnv1a64_add(TFRS__FNV1A64_INIT, data, n);
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
    t->seed = tfrs__hash_seed_new();
}

void tfrs__strtab_free(tfrs__strtab *t)
{
    uint64_t seed;

    tfrs__free(t->bytes);
    tfrs__free(t->offs);
    tfrs__free(t->hashes);
    tfrs__free(t->slots);
    seed = t->seed;
    memset(t, 0, sizeof(*t));
    t->seed = seed;
}

/* ---- the keyed table hash: SipHash-1-3 ------------------------------------ */

/* SipHash (Aumasson and Bernstein, 2012) with c compression rounds per
 * 8-byte word and d finalization rounds, written from the paper's
 * description.  The words are read little-endian whatever the host. */
#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

static inline void sip_word(uint64_t v[4], uint64_t m, int c)
{
    v[3] ^= m;
    for (int i = 0; i < c; i++)
        sip_round(v);
    v[0] ^= m;
}

static inline uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t w = 0;

    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static inline uint64_t siphash(uint64_t k0, uint64_t k1, const void *data, size_t n, int c,
                               int d)
{
    const unsigned char *p = data;
    uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                      k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull };
    size_t left = n;

    for (; left >= 8; p += 8, left -= 8)
        sip_word(v, load_le(p, 8), c);
    sip_word(v, load_le(p, left) | (uint64_t)(n & 0xff) << 56, c);
    v[2] ^= 0xff;
    for (int i = 0; i < d; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t tfrs__siphash(uint64_t k0, uint64_t k1, const void *data, size_t n, int c, int d)
{
    return siphash(k0, k1, data, n, c, d);
}

/* The process-wide secret: 128 bits drawn once from the kernel, else (no
 * getrandom, no /dev/urandom: a sandbox) from whatever varies between runs.
 * Never fails: a weak key is still a key nobody outside the process sees. */
static uint64_t secret[2];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;
static atomic_int secret_ready;   /* set (release) once secret is written */
static _Atomic uint64_t tables_made;

static int read_urandom(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    return got == n ? 0 : -1;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void draw_secret(void)
{
    uint64_t k[2];
    int ok = 0;
#ifdef SYS_getrandom
    long r;
    do
        r = syscall(SYS_getrandom, k, sizeof(k), 0);
    while (r < 0 && errno == EINTR);
    ok = r == (long)sizeof(k);
#endif
    if (!ok && read_urandom(k, sizeof(k)) < 0) {
        struct timespec ts = { 0, 0 };
        clock_gettime(CLOCK_REALTIME, &ts);
        k[0] = splitmix64((uint64_t)ts.tv_sec ^ (uint64_t)ts.tv_nsec << 20 ^
                          (uint64_t)getpid() << 40);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k[1] = splitmix64(k[0] ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts ^
                          (uint64_t)(uintptr_t)draw_secret);
    }
    secret[0] = k[0];
    secret[1] = k[1];
    atomic_store_explicit(&secret_ready, 1, memory_order_release);
}

/* The secret, drawn on first use; afterwards one atomic load per hash
 * rather than a call of pthread_once. */
static inline void need_secret(void)
{
    if (!atomic_load_explicit(&secret_ready, memory_order_acquire))
        pthread_once(&secret_once, draw_secret);
}

uint64_t tfrs__hash_seed_new(void)
{
    need_secret();
    /* Distinct for every table of the process (splitmix64 is a bijection). */
    return splitmix64(atomic_fetch_add(&tables_made, 1));
}

void tfrs__keyed_hash_key(uint64_t seed, uint64_t key[2])
{
    need_secret();
    key[0] = secret[0] ^ seed;
    key[1] = secret[1] ^ (seed * 0x9e3779b97f4a7c15ull);
}

uint64_t tfrs__keyed_hash(uint64_t seed, const void *data, size_t n)
{
    uint64_t key[2];

    tfrs__keyed_hash_key(seed, key);
    return siphash(key[0], key[1], data, n, 1, 3);
}

/* Not the documented OOV hash (FNV-1a, computed only for unknown strings):
 * SipHash-1-3 under the process secret and the table's own seed, so that
 * nobody who cannot read the process's memory can choose strings that
 * collide.  The only place the table's hash is computed. */
uint64_t tfrs__strtab_hash(const tfrs__strtab *t, const char *s, size_t n)
{
    return tfrs__keyed_hash(t->seed, s, n);
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
