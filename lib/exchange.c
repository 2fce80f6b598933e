/*
 * exchange.c - packing a step's gradients for a data-parallel exchange.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "embedding.h"
#include "exchange.h"

int tfrs__exchange_buf_init(tfrs__exchange_buf *b, const tfrs__params *t)
{
    size_t nd = 0, nt = 0;

    tfrs__exchange_buf_free(b);
    for (size_t k = 0; k < t->n; k++) {
        if (t->p[k].emb != NULL)
            nt++;
        else
            nd += t->p[k].n;
    }
    b->dense = tfrs__calloc(nd != 0 ? nd : 1, sizeof(float));
    b->tables = tfrs__calloc(nt != 0 ? nt : 1, sizeof(*b->tables));
    b->table_param = tfrs__calloc(nt != 0 ? nt : 1, sizeof(*b->table_param));
    if (b->dense == NULL || b->tables == NULL || b->table_param == NULL) {
        tfrs__exchange_buf_free(b);
        return tfrs__fail(TFRS_ENOMEM, "train: out of memory for the gradient exchange");
    }
    b->num_dense = nd;
    b->num_tables = nt;
    nt = 0;
    for (size_t k = 0; k < t->n; k++)
        if (t->p[k].emb != NULL)
            b->table_param[nt++] = k;
    return TFRS_OK;
}

void tfrs__exchange_buf_free(tfrs__exchange_buf *b)
{
    tfrs__free(b->dense);
    tfrs__free(b->tables);
    tfrs__free(b->table_param);
    memset(b, 0, sizeof(*b));
}

/* Marks the rows the exchange listed (in e->touched, where it wrote them)
 * as the table's touched rows, refusing a row out of range or listed
 * twice.  The old marks were cleared before the exchange. */
static int take_rows(tfrs_embedding *e, size_t num_ids, size_t table)
{
    if (num_ids > e->rows)
        return tfrs__fail(TFRS_EINVAL, "train: the gradient exchange listed %zu rows of "
                          "table %zu, which has %zu", num_ids, table, e->rows);
    for (size_t i = 0; i < num_ids; i++) {
        int32_t id = e->touched[i];
        if (id < 0 || (size_t)id >= e->rows || e->mark[id]) {
            for (size_t j = 0; j < i; j++)
                e->mark[e->touched[j]] = 0;
            return tfrs__fail(TFRS_EINVAL, "train: the gradient exchange listed row %ld of "
                              "table %zu %s", (long)id, table,
                              id < 0 || (size_t)id >= e->rows ? "out of range" : "twice");
        }
        e->mark[id] = 1;
    }
    e->ntouched = num_ids;
    return TFRS_OK;
}

/* After a failed exchange: which rows hold gradients is unknown, so every
 * table's gradient is cleared whole (an error path only). */
static void clear_tables(tfrs__exchange_buf *b, tfrs__params *t)
{
    for (size_t i = 0; i < b->num_tables; i++) {
        tfrs_embedding *e = t->p[b->table_param[i]].emb;
        memset(e->g, 0, e->rows * e->dim * sizeof(float));
        memset(e->mark, 0, e->rows);
        e->ntouched = 0;
    }
}

/* Copies the dense entries' gradients into the packed buffer (pack = 1)
 * or back from it (pack = 0), in table order. */
static void copy_dense(tfrs__exchange_buf *b, tfrs__params *t, int pack)
{
    size_t off = 0;

    for (size_t k = 0; k < t->n; k++)
        if (t->p[k].emb == NULL) {
            float *packed = b->dense + off, *grad = t->p[k].g;
            memcpy(pack ? packed : grad, pack ? grad : packed, t->p[k].n * sizeof(float));
            off += t->p[k].n;
        }
}

int tfrs__exchange_run(tfrs__exchange_buf *b, const tfrs_exchange *ex, tfrs__params *t,
                       uint64_t step)
{
    tfrs_exchange_grads g;
    int rc;

    copy_dense(b, t, 1);
    for (size_t i = 0; i < b->num_tables; i++) {
        tfrs_embedding *e = t->p[b->table_param[i]].emb;
        tfrs_table_grad *tg = &b->tables[i];
        tg->rows = e->rows;
        tg->dim = e->dim;
        tg->grad = e->g;
        tg->ids = e->touched;
        tg->num_ids = e->ntouched;
        for (size_t j = 0; j < e->ntouched; j++)
            e->mark[e->touched[j]] = 0;
        e->ntouched = 0;
    }
    g.step = step;
    g.dense = b->dense;
    g.num_dense = b->num_dense;
    g.tables = b->tables;
    g.num_tables = b->num_tables;
    g.sums = b->sums;
    rc = ex->exchange(&g, ex->payload);
    if (rc != TFRS_OK) {
        clear_tables(b, t);
        rc = rc < 0 ? rc : TFRS_EINVAL;
        return tfrs__fail(rc, "train: the gradient exchange of step %llu failed: %s",
                          (unsigned long long)step + 1, tfrs_status_str(rc));
    }
    for (size_t i = 0; i < b->num_tables && rc == TFRS_OK; i++)
        rc = take_rows(t->p[b->table_param[i]].emb, b->tables[i].num_ids, i);
    if (rc != TFRS_OK) {
        clear_tables(b, t);
        return rc;
    }
    copy_dense(b, t, 0);
    return TFRS_OK;
}
