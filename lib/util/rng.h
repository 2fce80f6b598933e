/*
 * util/rng.h - the library's one random number generator.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_RNG_H
#define TFRS_UTIL_RNG_H

#include "util/common.h"

/* xoshiro256** seeded through splitmix64 from (seed, stream).  Platform
 * independent and bit-reproducible. */
typedef struct tfrs__rng {
    uint64_t s[4];
} tfrs__rng;

void     tfrs__rng_seed(tfrs__rng *r, uint64_t seed, uint64_t stream);
uint64_t tfrs__rng_next(tfrs__rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable floats). */
float    tfrs__rng_float(tfrs__rng *r);
/* Uniform in [lo, hi). */
float    tfrs__rng_uniform(tfrs__rng *r, float lo, float hi);
/* Uniform integer in [0, n), unbiased (Lemire's method); n > 0. */
uint64_t tfrs__rng_below(tfrs__rng *r, uint64_t n);
/* perm[i] = i, then Fisher-Yates: for i = n-1 .. 1, swap(i, below(i+1)). */
void     tfrs__rng_permutation(tfrs__rng *r, uint32_t *perm, size_t n);

#endif /* TFRS_UTIL_RNG_H */
