/*
 * dropout.c - inverted dropout with masks hashed from their coordinates
 * (see dropout.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "dropout.h"

/* The splitmix64 finalizer: a bijection of 64-bit words whose output bits
 * each depend on every input bit. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The key of one row: the coordinates folded in one at a time, each
 * through the mixer, so that no two coordinate tuples are likely to meet. */
static uint64_t row_key(const tfrs__dropout_key *k, size_t row)
{
    uint64_t h = mix64(k->seed ^ 0x6a09e667f3bcc909u);

    h = mix64(h ^ k->layer);
    h = mix64(h ^ k->step);
    return mix64(h ^ (uint64_t)(k->row0 + row));
}

/* Threshold on the top 24 bits of a unit's hash: kept iff bits >= it, so
 * that P(kept) = 1 - ceil(rate * 2^24) / 2^24. */
static uint32_t threshold(float rate)
{
    return (uint32_t)ceil((double)rate * 16777216.0);
}

static int kept(uint64_t rk, size_t unit, uint32_t thr)
{
    uint64_t h = mix64(rk + 0x9e3779b97f4a7c15u * ((uint64_t)unit + 1));

    return (uint32_t)(h >> 40) >= thr;
}

int tfrs__dropout_rate_ok(float rate)
{
    return rate >= 0.0f && rate < 1.0f;   /* false for NaN */
}

int tfrs__dropout_keep(const tfrs__dropout_key *k, float rate, size_t row, size_t unit)
{
    return kept(row_key(k, row), unit, threshold(rate));
}

void tfrs__dropout_forward(const tfrs__dropout_key *k, float rate, const float *x, size_t B,
                           size_t n, float *y)
{
    uint32_t thr = threshold(rate);
    float scale = 1.0f / (1.0f - rate);

    for (size_t i = 0; i < B; i++) {
        uint64_t rk = row_key(k, i);
        for (size_t u = 0; u < n; u++)
            y[i * n + u] = x[i * n + u] * (kept(rk, u, thr) ? scale : 0.0f);
    }
}

void tfrs__dropout_backward(const tfrs__dropout_key *k, float rate, const float *dy, size_t B,
                            size_t n, float *dx, int acc)
{
    uint32_t thr = threshold(rate);
    float scale = 1.0f / (1.0f - rate);

    for (size_t i = 0; i < B; i++) {
        uint64_t rk = row_key(k, i);
        for (size_t u = 0; u < n; u++) {
            float g = dy[i * n + u] * (kept(rk, u, thr) ? scale : 0.0f);
            dx[i * n + u] = acc ? dx[i * n + u] + g : g;
        }
    }
}
