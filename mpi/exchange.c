/*
 * exchange.c - libtfrsc-mpi's gradient exchange: the function that
 * tfrs_model_fit calls after every local backward pass (tfrs_exchange).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every round starts with one MPI_Allreduce of a small header: failures,
 * the round's kind (a step, or the end of fit) and each table's count of
 * touched rows.  A rank whose fit failed on its own sends a failure there
 * instead of hanging the others: they learn it in the same collective and
 * every rank returns the failing rank's status and message.
 *
 * A step then sums, with one result on every rank (reduce to rank 0 and
 * broadcast): the dense gradients as one buffer, the step's sums, and each
 * embedding table either
 *   - sparse: every rank's touched ids and rows (MPI_Allgatherv), added up
 *     in rank order, the union listed in order of first appearance; or
 *   - dense: the whole rows x dim gradient and a bitmap of touched rows,
 *     the union listed by ascending row;
 * chosen per table and step (TFRS_MPI_TABLES_AUTO) by the bytes each rank
 * receives: total touched rows x (4 + 4 dim) against 2 x rows x (4 dim + 1).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { KIND_STEP = 1, KIND_FINISH = 2 };
enum { H_FAIL = 0, H_KIND = 1, H_LEN = 2 };

struct tmpi_exchange {
    MPI_Comm         comm;
    int              rank, size;
    tfrs_mpi_tables  mode;
    size_t           ntab;
    int64_t          hdr[H_LEN], sum[H_LEN];
    int64_t         *count, *total;   /* per table: this rank's, all    */
    int             *counts, *displs; /* per rank                       */
    int32_t         *ids;             /* all ranks' ids of one table    */
    size_t           ids_cap;
    float           *rows, *send;     /* all ranks' rows; this rank's   */
    size_t           rows_cap, send_cap;
    unsigned char  **seen;            /* per table: rows flags          */
    int             *sparse;          /* per table: this step's way     */
    int              failed, ready;
    tfrs_mpi_stats   st;
};

int tmpi_exchange_create(tmpi_exchange **out, MPI_Comm comm, tfrs_mpi_tables mode)
{
    tmpi_exchange *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (x == NULL)
        return tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_fit: out of memory");
    x->comm = comm;
    MPI_Comm_rank(comm, &x->rank);
    MPI_Comm_size(comm, &x->size);
    x->mode = mode;
    x->counts = calloc((size_t)x->size, sizeof(int));
    x->displs = calloc((size_t)x->size, sizeof(int));
    if (x->counts == NULL || x->displs == NULL) {
        tmpi_exchange_free(x);
        return tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_fit: out of memory");
    }
    *out = x;
    return TFRS_OK;
}

/* The per-table arrays, at the first step (the model's table count). */
static int tables_init(tmpi_exchange *x, const tfrs_exchange_grads *g)
{
    size_t n = g->num_tables + 1;

    x->ntab = g->num_tables;
    x->count = calloc(n, sizeof(int64_t));
    x->total = calloc(n, sizeof(int64_t));
    x->seen = calloc(n, sizeof(*x->seen));
    x->sparse = calloc(n, sizeof(int));
    if (x->count == NULL || x->total == NULL || x->seen == NULL ||
        x->sparse == NULL)
        return tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_fit: out of memory");
    for (size_t t = 0; t < x->ntab; t++) {
        if ((x->seen[t] = calloc(g->tables[t].rows + 1, 1)) == NULL)
            return tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_fit: out of memory");
    }
    x->ready = 1;
    return TFRS_OK;
}

void tmpi_exchange_free(tmpi_exchange *x)
{
    if (x == NULL)
        return;
    for (size_t t = 0; x->seen != NULL && t < x->ntab; t++)
        free(x->seen[t]);
    free(x->seen);
    free(x->sparse);
    free(x->count);
    free(x->total);
    free(x->counts);
    free(x->displs);
    free(x->ids);
    free(x->rows);
    free(x->send);
    free(x);
}

int tmpi_exchange_failed(const tmpi_exchange *x)
{
    return x->failed;
}

void tmpi_exchange_stats(const tmpi_exchange *x, tfrs_mpi_stats *out)
{
    *out = x->st;
}

/* Grows *p to hold n elements of `size` bytes. */
static int grow(void *pp, size_t *cap, size_t n, size_t size)
{
    void **p = pp;
    void *q;

    if (n <= *cap)
        return 0;
    if (n > SIZE_MAX / size || (q = realloc(*p, n * size)) == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* The header round: this rank's failure flag and the round's kind,
 * summed.  Returns TFRS_OK, or the agreed failure (x->failed set). */
static int header(tmpi_exchange *x, int my_rc, int kind)
{
    int code;

    x->hdr[H_FAIL] = my_rc != TFRS_OK;
    x->hdr[H_KIND] = kind;
    code = MPI_Allreduce(x->hdr, x->sum, H_LEN, MPI_INT64_T, MPI_SUM, x->comm);
    if (code != MPI_SUCCESS) {
        x->failed = 1;
        return tmpi_mpi_error(code, "MPI_Allreduce");
    }
    if (x->sum[H_FAIL] == 0 && x->sum[H_KIND] != (int64_t)kind * x->size) {
        x->failed = 1;
        return tmpi_fail(TFRS_ESTATE, "tfrs_mpi_fit: the ranks are out of step (some "
                         "finished training while others still train: different data "
                         "or options)");
    }
    if (x->sum[H_FAIL] == 0)
        return TFRS_OK;
    x->failed = 1;
    return tmpi_agree(x->comm, my_rc);
}

static int sparse_table(tmpi_exchange *x, tfrs_table_grad *tg, size_t t, int64_t total)
{
    size_t dim = tg->dim, n = tg->num_ids, nu = 0;
    unsigned char *seen = x->seen[t];
    int code, cnt = (int)n;

    if ((code = MPI_Allgather(&cnt, 1, MPI_INT, x->counts, 1, MPI_INT, x->comm)) != 0)
        return tmpi_mpi_error(code, "MPI_Allgather");
    for (int r = 0, d = 0; r < x->size; r++) {
        x->displs[r] = d;
        d += x->counts[r];
    }
    code = MPI_Allgatherv(tg->ids, cnt, MPI_INT32_T, x->ids, x->counts, x->displs,
                          MPI_INT32_T, x->comm);
    if (code != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Allgatherv");
    for (size_t i = 0; i < n; i++)
        memcpy(x->send + i * dim, tg->grad + (size_t)tg->ids[i] * dim, dim * sizeof(float));
    for (int r = 0; r < x->size; r++) {        /* now in floats */
        x->counts[r] *= (int)dim;
        x->displs[r] *= (int)dim;
    }
    code = MPI_Allgatherv(x->send, cnt * (int)dim, MPI_FLOAT, x->rows, x->counts, x->displs,
                          MPI_FLOAT, x->comm);
    if (code != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Allgatherv");
    /* Sum in rank order; the first contribution of a row is copied, so one
     * rank gives its own bits back. */
    for (int64_t i = 0; i < total; i++) {
        int32_t id = x->ids[i];
        float *dst = tg->grad + (size_t)id * dim;
        const float *src = x->rows + (size_t)i * dim;
        if (id < 0 || (size_t)id >= tg->rows)
            return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: a rank sent row %ld of table %zu, "
                             "which has %zu rows", (long)id, t, tg->rows);
        if (!seen[id]) {
            seen[id] = 1;
            tg->ids[nu++] = id;
            memcpy(dst, src, dim * sizeof(float));
        } else {
            for (size_t k = 0; k < dim; k++)
                dst[k] += src[k];
        }
    }
    for (size_t i = 0; i < nu; i++)
        seen[tg->ids[i]] = 0;
    tg->num_ids = nu;
    x->st.sparse_exchanges++;
    x->st.table_bytes_sent += (uint64_t)n * (4 + 4 * dim);
    x->st.table_bytes_received += (uint64_t)(total - (int64_t)n) * (4 + 4 * dim);
    return TFRS_OK;
}

static int dense_table(tmpi_exchange *x, tfrs_table_grad *tg, size_t t)
{
    unsigned char *seen = x->seen[t];
    size_t nu = 0;
    int rc;

    for (size_t i = 0; i < tg->num_ids; i++)
        seen[tg->ids[i]] = 1;
    if ((rc = tmpi_reduce_bcast(x->comm, seen, tg->rows, MPI_UNSIGNED_CHAR, MPI_MAX)) != 0 ||
        (rc = tmpi_reduce_bcast(x->comm, tg->grad, tg->rows * tg->dim, MPI_FLOAT, MPI_SUM)))
        return rc;
    for (size_t r = 0; r < tg->rows; r++)
        if (seen[r]) {
            seen[r] = 0;
            tg->ids[nu++] = (int32_t)r;
        }
    tg->num_ids = nu;
    x->st.dense_exchanges++;
    x->st.table_bytes_sent += (uint64_t)tg->rows * (1 + 4 * tg->dim);
    x->st.table_bytes_received += (uint64_t)tg->rows * (1 + 4 * tg->dim);
    return TFRS_OK;
}

/* Chooses each table's way and makes room for the sparse ones, then agrees
 * with the other ranks that every rank has the room (one small collective,
 * before any rank starts moving rows). */
static int reserve(tmpi_exchange *x, const tfrs_exchange_grads *g)
{
    size_t ids = 0, rows = 0, send = 1;
    int bad = 0, any, code;

    for (size_t t = 0; t < x->ntab; t++) {
        const tfrs_table_grad *tg = &g->tables[t];
        int64_t total = x->total[t];
        double sparse = (double)total * (4.0 + 4.0 * (double)tg->dim);
        double dense = 2.0 * (double)tg->rows * (4.0 * (double)tg->dim + 1.0);
        x->sparse[t] = x->mode == TFRS_MPI_TABLES_SPARSE ||
                       (x->mode == TFRS_MPI_TABLES_AUTO && sparse <= dense);
        if ((double)total * (double)tg->dim > (double)INT_MAX)   /* MPI counts are ints */
            x->sparse[t] = 0;
        if (x->sparse[t]) {
            ids = (size_t)total > ids ? (size_t)total : ids;
            rows = (size_t)total * tg->dim > rows ? (size_t)total * tg->dim : rows;
            send = tg->num_ids * tg->dim > send ? tg->num_ids * tg->dim : send;
        }
    }
    if (grow(&x->ids, &x->ids_cap, ids, sizeof(int32_t)) < 0 ||
        grow(&x->rows, &x->rows_cap, rows, sizeof(float)) < 0 ||
        grow(&x->send, &x->send_cap, send, sizeof(float)) < 0)
        bad = 1;
    if ((code = MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, x->comm)) != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Allreduce");
    if (!any)
        return TFRS_OK;
    return tmpi_agree(x->comm, bad ? tmpi_fail(TFRS_ENOMEM, "tfrs_mpi_fit: out of "
                                                    "memory for the rows of a step")
                                        : TFRS_OK);
}

int tmpi_exchange_step(tfrs_exchange_grads *g, void *payload)
{
    tmpi_exchange *x = payload;
    double t0 = MPI_Wtime();
    int rc;

    rc = x->ready ? TFRS_OK : tables_init(x, g);
    if (rc == TFRS_OK && g->num_tables != x->ntab)
        rc = tmpi_fail(TFRS_ESTATE, "tfrs_mpi_fit: the model's tables changed");
    if ((rc = header(x, rc, KIND_STEP)) != TFRS_OK)
        return rc;
    for (size_t t = 0; t < x->ntab; t++)
        x->count[t] = (int64_t)g->tables[t].num_ids;
    rc = MPI_Allreduce(x->count, x->total, (int)x->ntab, MPI_INT64_T, MPI_SUM, x->comm);
    if (rc != MPI_SUCCESS) {
        rc = tmpi_mpi_error(rc, "MPI_Allreduce");
        goto fail;
    }
    if ((rc = tmpi_reduce_bcast(x->comm, g->dense, g->num_dense, MPI_FLOAT, MPI_SUM)) != 0 ||
        (rc = tmpi_reduce_bcast(x->comm, g->sums, TFRS_NUM_SUMS, MPI_DOUBLE, MPI_SUM)) != 0)
        goto fail;
    if ((rc = reserve(x, g)) != TFRS_OK)
        goto fail;
    for (size_t t = 0; t < x->ntab; t++) {
        tfrs_table_grad *tg = &g->tables[t];
        rc = x->sparse[t] ? sparse_table(x, tg, t, x->total[t]) : dense_table(x, tg, t);
        if (rc != TFRS_OK)
            goto fail;
    }
    x->st.steps++;
    x->st.dense_bytes += (uint64_t)g->num_dense * 4;
    x->st.exchange_seconds += MPI_Wtime() - t0;
    return TFRS_OK;
fail:
    /* An MPI error past the header: MPI's default handler has ended the job
     * already; with MPI_ERRORS_RETURN the ranks may disagree, so say so. */
    x->failed = 1;
    return rc;
}

int tmpi_exchange_finish(tmpi_exchange *x, int rc)
{
    if (x->failed)          /* every rank already knows; the message is set */
        return rc != TFRS_OK ? rc : TFRS_ESTATE;
    return header(x, rc, KIND_FINISH);
}
