/*
 * rng.c - xoshiro256** random numbers seeded with splitmix64.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every random choice of the library (initialisers, shuffles) comes from
 * here, so that a seed means the same thing on every platform and build.
 */
#include "util/rng.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void tfrs__rng_seed(tfrs__rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);

    /* Mix the stream in twice so that nearby (seed, stream) pairs diverge. */
    x = splitmix64(&x) ^ stream;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t tfrs__rng_next(tfrs__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float tfrs__rng_float(tfrs__rng *r)
{
    return (float)(tfrs__rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

float tfrs__rng_uniform(tfrs__rng *r, float lo, float hi)
{
    return lo + (hi - lo) * tfrs__rng_float(r);
}

uint64_t tfrs__rng_below(tfrs__rng *r, uint64_t n)
{
    /* Lemire's nearly divisionless method, 64x64 -> 128. */
    u128 m = (u128)tfrs__rng_next(r) * n;
    uint64_t low = (uint64_t)m;

    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (u128)tfrs__rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Fisher-Yates reads and writes perm[j] at random: past the caches each
 * swap waits for memory.  The draws do not depend on perm, so they are
 * made PERM_AHEAD swaps early, in the same order, and perm[j] is fetched
 * while the swaps before it run: the same permutation, several times
 * faster on large arrays. */
#define PERM_AHEAD 32

void tfrs__rng_permutation(tfrs__rng *r, uint32_t *perm, size_t n)
{
    size_t ahead[PERM_AHEAD], swaps = n > 1 ? n - 1 : 0, first;

    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    /* Swap k (k = 0 .. n-2) exchanges perm[n-1-k] and perm[below(n-k)]. */
    first = swaps < PERM_AHEAD ? swaps : PERM_AHEAD;
    for (size_t k = 0; k < first; k++) {
        ahead[k] = (size_t)tfrs__rng_below(r, n - k);
        TFRS__PREFETCH_W(perm + ahead[k]);
    }
    for (size_t k = 0; k < swaps; k++) {
        size_t j = ahead[k % PERM_AHEAD], i = n - 1 - k;
        uint32_t t;
        if (k + PERM_AHEAD < swaps) {
            size_t next = (size_t)tfrs__rng_below(r, n - k - PERM_AHEAD);
            ahead[k % PERM_AHEAD] = next;
            TFRS__PREFETCH_W(perm + next);
        }
        t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
