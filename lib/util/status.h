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

#endif /* TFRS_UTIL_STATUS_H */
