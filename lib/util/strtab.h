/*
 * util/strtab.h - byte strings: hashing, UTF-8 validation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_STRTAB_H
#define TFRS_UTIL_STRTAB_H

#include "util/common.h"

/* 64-bit FNV-1a of n bytes. */
uint64_t tfrs__fnv1a64(const void *data, size_t n);
/* 1 if the n bytes are valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int tfrs__utf8_valid(const char *s, size_t n);

#endif /* TFRS_UTIL_STRTAB_H */
