/*
 * common.c - libtfrsc-mpi's messages, agreement on failures, reductions
 * with one result on every rank, options and byte ranges.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MSG_MAX 1024

static _Thread_local char message[MSG_MAX];

const char *tfrs_mpi_last_error(void)
{
    return message;
}

const char *tmpi_message(void)
{
    return message;
}

int tmpi_fail(int rc, const char *fmt, ...)
{
    va_list ap;

    if (fmt == NULL) {
        message[0] = '\0';
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    return rc;
}

int tmpi_core(int rc)
{
    return tmpi_fail(rc, "%s", tfrs_last_error());
}

int tmpi_mpi_error(int code, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;

    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof(text), "error %d", code);
    return tmpi_fail(TFRS_EIO, "%s failed: %s", call, text);
}

/* What the failing rank sends the others. */
typedef struct failure {
    int  rc;
    char msg[MSG_MAX];
} failure;

int tmpi_agree(MPI_Comm comm, int my_rc)
{
    int me, first, cand, code;
    failure f;

    MPI_Comm_rank(comm, &me);
    cand = my_rc != TFRS_OK ? me : INT_MAX;
    if ((code = MPI_Allreduce(&cand, &first, 1, MPI_INT, MPI_MIN, comm)) != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Allreduce");
    if (first == INT_MAX)
        return TFRS_OK;
    memset(&f, 0, sizeof(f));
    if (me == first) {
        f.rc = my_rc;
        snprintf(f.msg, sizeof(f.msg), "%s", message);
    }
    if ((code = MPI_Bcast(&f, (int)sizeof(f), MPI_BYTE, first, comm)) != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Bcast");
    f.msg[MSG_MAX - 1] = '\0';
    return tmpi_fail(f.rc, "rank %d: %.*s", first, MSG_MAX - 32, f.msg);
}

int tmpi_reduce_bcast(MPI_Comm comm, void *buf, size_t n, MPI_Datatype type, MPI_Op op)
{
    int me, size, code;
    char *p = buf;

    MPI_Comm_rank(comm, &me);
    MPI_Type_size(type, &size);
    while (n > 0) {
        int k = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        code = MPI_Reduce(me == 0 ? MPI_IN_PLACE : p, me == 0 ? p : NULL, k, type, op, 0, comm);
        if (code != MPI_SUCCESS)
            return tmpi_mpi_error(code, "MPI_Reduce");
        if ((code = MPI_Bcast(p, k, type, 0, comm)) != MPI_SUCCESS)
            return tmpi_mpi_error(code, "MPI_Bcast");
        p += (size_t)k * (size_t)size;
        n -= (size_t)k;
    }
    return TFRS_OK;
}

static const tfrs_mpi_options defaults = { TFRS_MPI_OPTIONS_VERSION, NULL, 0,
                                           TFRS_MPI_TABLES_AUTO, NULL };

int tfrs_mpi_options_init(tfrs_mpi_options *opts, unsigned int version)
{
    if (opts == NULL)
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_options_init: opts is NULL");
    if (version != TFRS_MPI_OPTIONS_VERSION)
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_options_init: unknown version %u", version);
    *opts = defaults;
    return TFRS_OK;
}

int tfrs_mpi_byte_range(MPI_Comm comm, uint64_t size, uint64_t *begin, uint64_t *end)
{
    int me, n;

    if (begin == NULL || end == NULL)
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_byte_range: begin or end is NULL");
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    /* size * r / n without overflow: size = q n + s */
    {
        uint64_t q = size / (uint64_t)n, s = size % (uint64_t)n;
        *begin = q * (uint64_t)me + s * (uint64_t)me / (uint64_t)n;
        *end = q * (uint64_t)(me + 1) + s * (uint64_t)(me + 1) / (uint64_t)n;
    }
    if (*end == 0)          /* [0, 0) would be the whole file: say "empty" */
        *begin = *end = 1;
    return TFRS_OK;
}
