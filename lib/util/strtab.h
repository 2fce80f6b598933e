/*
 * util/strtab.h - byte strings: hashing, UTF-8 validation, and the string
 * table (interning) that the dataset's columns and the vocabularies share.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_STRTAB_H
#define TFRS_UTIL_STRTAB_H

#include "util/common.h"

/* 64-bit FNV-1a of n bytes.  Defines the OOV bucket of unknown tokens
 * (documented), so it never changes; the string table does not use it. */
uint64_t tfrs__fnv1a64(const void *data, size_t n);
/* The same hash over several pieces: h = TFRS__FNV1A64_INIT, then
 * h = tfrs__fnv1a64_add(h, piece, n) for each piece in turn. */
#define TFRS__FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t tfrs__fnv1a64_add(uint64_t h, const void *data, size_t n);
/* 1 if the n bytes are valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int tfrs__utf8_valid(const char *s, size_t n);

/* SipHash-c-d of n bytes under the 128-bit key (k0, k1): the table hash is
 * SipHash-1-3; c and d are parameters so that the test can check the
 * published SipHash-2-4 vectors. */
uint64_t tfrs__siphash(uint64_t k0, uint64_t k1, const void *data, size_t n, int c, int d);
/* A fresh per-table value for tfrs__keyed_hash: distinct on every call in
 * the process.  Thread-safe; never fails. */
uint64_t tfrs__hash_seed_new(void);
/* The hash of every table that holds input (strings, ids): SipHash-1-3 of
 * n bytes keyed by a process-wide 128-bit secret (drawn once from the
 * kernel) combined with the table's seed.  Its values differ from run to
 * run and table to table, so nothing may depend on them but slot choice. */
uint64_t tfrs__keyed_hash(uint64_t seed, const void *data, size_t n);
/* The 128-bit SipHash key that tfrs__keyed_hash uses for `seed`, for a
 * table that hashes fixed-size integers with tfrs__keyed_hash_u32. */
void tfrs__keyed_hash_key(uint64_t seed, uint64_t key[2]);

/* tfrs__keyed_hash of the 4 bytes of v (least significant first) under the
 * key from tfrs__keyed_hash_key: SipHash-1-3 of one 8-byte block, inline
 * for the id maps that hash every row.  Same value as the general code. */
static inline uint64_t tfrs__keyed_hash_u32(const uint64_t key[2], uint32_t v)
{
#define TFRS__ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define TFRS__SIPROUND                                                         \
    do {                                                                       \
        v0 += v1; v1 = TFRS__ROTL(v1, 13); v1 ^= v0; v0 = TFRS__ROTL(v0, 32); \
        v2 += v3; v3 = TFRS__ROTL(v3, 16); v3 ^= v2;                          \
        v0 += v3; v3 = TFRS__ROTL(v3, 21); v3 ^= v0;                          \
        v2 += v1; v1 = TFRS__ROTL(v1, 17); v1 ^= v2; v2 = TFRS__ROTL(v2, 32); \
    } while (0)
    uint64_t v0 = key[0] ^ 0x736f6d6570736575ull, v1 = key[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = key[0] ^ 0x6c7967656e657261ull, v3 = key[1] ^ 0x7465646279746573ull;
    uint64_t m = (uint64_t)v | (uint64_t)4 << 56;

    v3 ^= m;
    TFRS__SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    TFRS__SIPROUND;
    TFRS__SIPROUND;
    TFRS__SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
#undef TFRS__SIPROUND
#undef TFRS__ROTL
}

/* The slot of hash h in an open-addressing table of mask + 1 slots (a power
 * of two): folds the high half in before masking. */
static inline size_t tfrs__slot_of(uint64_t h, size_t mask)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h & mask;
}

/* A table of distinct byte strings with dense ids 0, 1, ... in insertion
 * order.  The strings are stored back to back, each followed by a NUL, with
 * n + 1 offsets and the hash of each; an open-addressing table (linear
 * probing, power-of-two size, at most half full) maps bytes to id.  A
 * zeroed struct or tfrs__strtab_init is an empty table; init also gives it
 * its own hash key (a zeroed one shares seed 0, still under the process
 * secret).  Reads of a table
 * that is not being modified need no locking. */
typedef struct tfrs__strtab {
    char     *bytes;      /* the strings, each NUL-terminated            */
    size_t    len, cap;   /* bytes used, allocated                       */
    size_t   *offs;       /* n + 1 offsets into bytes once n > 0         */
    size_t    offs_cap;
    uint64_t *hashes;     /* n, from tfrs__strtab_hash                   */
    size_t    hashes_cap;
    uint32_t  n;
    uint32_t *slots;      /* id + 1; 0 = empty; at most half full        */
    size_t    nslots;     /* 0 or a power of two                         */
    uint64_t  seed;       /* the table's key with the process secret:     */
                          /* tfrs__hash_seed_new() at init (0 if zeroed)  */
} tfrs__strtab;

/* What find returns for an absent string; the largest id is one less. */
#define TFRS__STRTAB_NONE UINT32_MAX
#define TFRS__STRTAB_MAX  ((size_t)UINT32_MAX - 1)   /* strings at most */

void tfrs__strtab_init(tfrs__strtab *t);
void tfrs__strtab_free(tfrs__strtab *t);     /* leaves an empty table, same key */
/* The one hash of the table (not the OOV hash): tfrs__keyed_hash of n bytes
 * under t's seed. */
uint64_t tfrs__strtab_hash(const tfrs__strtab *t, const char *s, size_t n);
/* Id of s[0..n) or TFRS__STRTAB_NONE. */
uint32_t tfrs__strtab_find(const tfrs__strtab *t, const char *s, size_t n);
/* Room for `count` more strings of `bytes` bytes in all (NULs not counted):
 * the next insertions of that much cannot fail.  TFRS_OK, TFRS_ERANGE
 * (more than TFRS__STRTAB_MAX strings) or TFRS_ENOMEM; sets no message. */
int tfrs__strtab_reserve(tfrs__strtab *t, size_t count, size_t bytes);
/* *id = the id of s[0..n), added at the end if absent.  Fails only as
 * tfrs__strtab_reserve (and then changes nothing); sets no message. */
int tfrs__strtab_intern(tfrs__strtab *t, const char *s, size_t n, uint32_t *id);
/* tfrs__strtab_intern of string `id` of src (reuses its hash when the
 * seeds agree: an empty table may take the seed of the table it is filled
 * from). */
int tfrs__strtab_intern_from(tfrs__strtab *t, const tfrs__strtab *src, uint32_t id,
                             uint32_t *out);
/* Deep copy into *dst (an uninitialised struct); TFRS_ENOMEM leaves *dst
 * empty.  Sets no message. */
int tfrs__strtab_clone(tfrs__strtab *dst, const tfrs__strtab *src);

/* String `id` (< count), NUL-terminated; *len (if not NULL) gets its length. */
static inline const char *tfrs__strtab_at(const tfrs__strtab *t, uint32_t id, size_t *len)
{
    if (len != NULL)
        *len = t->offs[id + 1] - t->offs[id] - 1;
    return t->bytes + t->offs[id];
}

static inline size_t tfrs__strtab_count(const tfrs__strtab *t)
{
    return t->n;
}

#endif /* TFRS_UTIL_STRTAB_H */
