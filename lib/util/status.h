/*
 * util/status.h - the per-thread error message behind tfrs_last_error().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_STATUS_H
#define TFRS_UTIL_STATUS_H

#include "util/common.h"

/* Records a formatted detail message for the calling thread and returns
 * `status`, so that callers can write `return tfrs__fail(TFRS_EINVAL, ...)`. */
int tfrs__fail(int status, const char *fmt, ...) TFRS__PRINTF(2, 3);

/* The body of every tfrs_*_options_init: TFRS_EINVAL (messages start
 * with fn) unless opts is non-NULL and 1 <= version <= latest; then copies
 * the `size` bytes of the defaults into opts and stores version in its
 * first member (every options struct starts with `unsigned int version`). */
int tfrs__options_init(void *opts, const void *defaults, size_t size, unsigned int version,
                       unsigned int latest, const char *fn);

#endif /* TFRS_UTIL_STATUS_H */
