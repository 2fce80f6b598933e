/*
 * util/common.h - compiler helpers shared by every file of lib/.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The floor of the library (see lib/README.md): depends on nothing but the
 * public header and the C library.
 */
#ifndef TFRS_UTIL_COMMON_H
#define TFRS_UTIL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "tfrsc.h"

#if defined(__GNUC__)
#  define TFRS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define TFRS__PRINTF(a, b)
#endif

/* Elementwise hot loops are compiled for AVX-512, AVX2 and the baseline and
 * picked at load time (GCC function multi-versioning on x86-64).  They do
 * no reductions and the build never contracts a*b+c into FMA (ISO C mode),
 * so every version computes the same bits.  Not under the sanitizers: the
 * clones' ifunc resolvers run before the sanitizer runtimes start (under
 * ThreadSanitizer every program crashed at start-up). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(TFRS_NO_CLONES)
#  define TFRS__VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define TFRS__VECTOR_CLONES
#endif

/* Asks for the cache lines of `bytes` bytes at p ahead of use; for the
 * random row accesses of large embedding tables. */
#if defined(__GNUC__)
#  define TFRS__PREFETCH_ROW(p, bytes) \
    do { \
        const char *pf_ = (const char *)(p); \
        for (size_t pfo_ = 0; pfo_ < (bytes); pfo_ += 64) \
            __builtin_prefetch(pf_ + pfo_); \
    } while (0)
#else
#  define TFRS__PREFETCH_ROW(p, bytes) ((void)(p))
#endif
/* Asks for the cache line at p ahead of a read (TFRS__PREFETCH) or a
 * write (TFRS__PREFETCH_W); for gathers and swaps at random indices. */
#if defined(__GNUC__)
#  define TFRS__PREFETCH(p)   __builtin_prefetch((p), 0)
#  define TFRS__PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#  define TFRS__PREFETCH(p)   ((void)(p))
#  define TFRS__PREFETCH_W(p) ((void)(p))
#endif
/* How many rows ahead the row loops prefetch. */
#define TFRS__PREFETCH_AHEAD 8

#endif /* TFRS_UTIL_COMMON_H */
