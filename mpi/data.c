/*
 * data.c - libtfrsc-mpi's loaders (each rank reads its byte range of a
 * ratings file) and vocabularies over all ranks' values.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* This rank's byte range of the file at path. */
static int range_of(MPI_Comm comm, const char *path, uint64_t *begin, uint64_t *end)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return tmpi_fail(TFRS_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return tmpi_fail(TFRS_EIO, "%s: not a regular file", path);
    return tfrs_mpi_byte_range(comm, (uint64_t)st.st_size, begin, end);
}

/* A loader's end on every rank: the agreed status, and no dataset on any
 * rank when some rank failed. */
static int agreed_load(MPI_Comm comm, int rc, tfrs_dataset **out)
{
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK && out != NULL) {
        tfrs_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

int tfrs_mpi_load_movielens(tfrs_dataset **out, MPI_Comm comm, const char *dir,
                            const tfrs_load_options *opts)
{
    tfrs_load_options o;
    char path[4096];
    int rc = TFRS_OK;

    tmpi_fail(TFRS_OK, NULL);
    if (out != NULL)
        *out = NULL;
    tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION);
    if (out == NULL || dir == NULL)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_load_movielens: out and dir are needed");
    else if (opts != NULL && (opts->version == 0 || opts->version > TFRS_LOAD_OPTIONS_VERSION))
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_load_movielens: unknown options version %u",
                       opts->version);
    if (rc == TFRS_OK && opts != NULL) {
        /* the caller's fields of its version; ours at their defaults */
        o.skip_bad_lines = opts->skip_bad_lines;
        if (opts->version >= 2)
            o.movielens_features = opts->movielens_features;
        if (opts->version >= 3)
            o.ratings_file = opts->ratings_file;
    }
    if (rc == TFRS_OK) {
        int len = o.ratings_file != NULL ? snprintf(path, sizeof(path), "%s", o.ratings_file)
                                         : snprintf(path, sizeof(path), "%s/u.data", dir);
        rc = len < 0 || (size_t)len >= sizeof(path)
                 ? tmpi_fail(TFRS_EINVAL, "tfrs_mpi_load_movielens: the ratings file's path "
                             "is longer than %zu bytes", sizeof(path) - 1)
                 : range_of(comm, path, &o.range_begin, &o.range_end);
    }
    if (rc == TFRS_OK && (rc = tfrs_dataset_load_movielens(out, dir, &o)) != TFRS_OK)
        tmpi_core(rc);
    return agreed_load(comm, rc, out);
}

int tfrs_mpi_load_delimited(tfrs_dataset **out, MPI_Comm comm, const char *path,
                            const tfrs_delimited_options *opts)
{
    tfrs_delimited_options o;
    int rc = TFRS_OK;

    tmpi_fail(TFRS_OK, NULL);
    if (out != NULL)
        *out = NULL;
    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    if (out == NULL || path == NULL)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_load_delimited: out and path are needed");
    else if (opts != NULL && (opts->version == 0 || opts->version > TFRS_DELIMITED_OPTIONS_VERSION))
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_load_delimited: unknown options version %u",
                       opts->version);
    if (rc == TFRS_OK && opts != NULL) {
        o.delimiter = opts->delimiter;
        o.float_columns = opts->float_columns;
        o.num_float_columns = opts->num_float_columns;
        o.load.skip_bad_lines = opts->load.skip_bad_lines;
    }
    if (rc == TFRS_OK)
        rc = range_of(comm, path, &o.load.range_begin, &o.load.range_end);
    if (rc == TFRS_OK && (rc = tfrs_dataset_load_delimited(out, path, &o)) != TFRS_OK)
        tmpi_core(rc);
    return agreed_load(comm, rc, out);
}

int tfrs_mpi_vocab_adapt_column(tfrs_vocab **out, MPI_Comm comm, const tfrs_dataset *ds,
                                const char *column, const tfrs_vocab_options *opts)
{
    tfrs_vocab *local = NULL;
    char *mine = NULL, *all = NULL;
    const char **toks = NULL;
    int *lens = NULL, *displs = NULL, size, rc = TFRS_OK, code, len = 0;
    size_t n = 0, first = 0, total = 0, count = 0;

    tmpi_fail(TFRS_OK, NULL);
    if (out != NULL)
        *out = NULL;
    MPI_Comm_size(comm, &size);
    if (out == NULL)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_vocab_adapt_column: out is NULL");
    else if ((rc = tfrs_vocab_adapt_column(&local, ds, column, opts)) != TFRS_OK)
        tmpi_core(rc);
    if (rc == TFRS_OK) {
        /* This rank's tokens, each followed by its NUL. */
        size_t bytes = 0;
        n = tfrs_vocab_num_tokens(local);
        first = tfrs_vocab_size(local) - n;
        for (size_t i = 0; i < n; i++) {
            const char *t;
            tfrs_vocab_token(local, (int32_t)(first + i), &t);
            bytes += strlen(t) + 1;
        }
        if (bytes > (size_t)1 << 30)
            rc = tmpi_fail(TFRS_ERANGE, "tfrs_mpi_vocab_adapt_column: %zu bytes of tokens on "
                           "this rank (at most 2^30)", bytes);
        else if ((mine = malloc(bytes + 1)) == NULL)
            rc = tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_vocab_adapt_column: out of memory");
        for (size_t i = 0; rc == TFRS_OK && i < n; i++) {
            const char *t;
            size_t l;
            tfrs_vocab_token(local, (int32_t)(first + i), &t);
            l = strlen(t) + 1;
            memcpy(mine + len, t, l);
            len += (int)l;
        }
    }
    lens = calloc((size_t)size, sizeof(int));
    displs = calloc((size_t)size, sizeof(int));
    if (rc == TFRS_OK && (lens == NULL || displs == NULL))
        rc = tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_vocab_adapt_column: out of memory");
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK)
        goto done;
    if ((code = MPI_Allgather(&len, 1, MPI_INT, lens, 1, MPI_INT, comm)) != MPI_SUCCESS) {
        rc = tmpi_mpi_error(code, "MPI_Allgather");
        goto done;
    }
    for (int r = 0; r < size; r++) {
        if (total + (size_t)lens[r] > (size_t)1 << 30)
            rc = TFRS_ERANGE;
        displs[r] = (int)total;
        total += (size_t)lens[r];
    }
    if (rc != TFRS_OK) {      /* the same on every rank */
        rc = tmpi_fail(TFRS_ERANGE, "tfrs_mpi_vocab_adapt_column: more than 2^30 bytes of "
                       "tokens over all ranks");
        goto done;
    }
    if ((all = malloc(total + 1)) == NULL)
        rc = tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_vocab_adapt_column: out of memory");
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK)
        goto done;
    code = MPI_Allgatherv(mine, len, MPI_CHAR, all, lens, displs, MPI_CHAR, comm);
    if (code != MPI_SUCCESS) {
        rc = tmpi_mpi_error(code, "MPI_Allgatherv");
        goto done;
    }
    for (size_t i = 0; i < total; i++)
        count += all[i] == '\0';
    if ((toks = malloc((count + 1) * sizeof(*toks))) == NULL)
        rc = tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_vocab_adapt_column: out of memory");
    for (size_t i = 0, k = 0; rc == TFRS_OK && i < total; k++) {
        toks[k] = all + i;
        i += strlen(all + i) + 1;
    }
    /* Adapting on every rank's distinct values: the sorted distinct union. */
    if (rc == TFRS_OK && (rc = tfrs_vocab_adapt(out, toks, count, opts)) != TFRS_OK)
        tmpi_core(rc);
    rc = tmpi_agree(comm, rc);
    if (rc != TFRS_OK && *out != NULL) {
        tfrs_vocab_free(*out);
        *out = NULL;
    }
done:
    tfrs_vocab_free(local);
    free(mine);
    free(all);
    free(toks);
    free(lens);
    free(displs);
    return rc;
}
