/*
 * status.c - status strings, version, and the per-thread error message.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/status.h"

#define MESSAGE_MAX 512

static _Thread_local char last_error[MESSAGE_MAX];

unsigned int tfrs_version_number(void)
{
    return TFRS_VERSION_NUMBER;
}

const char *tfrs_version_string(void)
{
    return TFRS_VERSION_STRING;
}

const char *tfrs_status_str(int status)
{
    switch (status) {
    case TFRS_OK:         return "success";
    case TFRS_ENOMEM:     return "out of memory";
    case TFRS_EINVAL:     return "invalid argument";
    case TFRS_ESHAPE:     return "shape mismatch";
    case TFRS_ESTATE:     return "call not allowed in the current state";
    case TFRS_EIO:        return "input/output error";
    case TFRS_EFORMAT:    return "malformed model file";
    case TFRS_EVERSION:   return "model file format version not supported";
    case TFRS_ENONFINITE: return "non-finite value (training step rolled back, or a score)";
    case TFRS_EPARSE:     return "malformed text data";
    case TFRS_EDUPLICATE: return "duplicate name or token";
    case TFRS_ENOTFOUND:  return "not found";
    case TFRS_ERANGE:     return "index or value out of range";
    case TFRS_ECANCELED:  return "canceled by callback";
    default:              return "unknown status";
    }
}

const char *tfrs_last_error(void)
{
    return last_error;
}

int tfrs__fail(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return status;
}

int tfrs__options_init(void *opts, const void *defaults, size_t size, unsigned int version,
                       unsigned int latest, const char *fn)
{
    if (opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: opts is NULL", fn);
    if (version == 0 || version > latest)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown version %u", fn, version);
    memcpy(opts, defaults, size);
    memcpy(opts, &version, sizeof(version));
    return TFRS_OK;
}
