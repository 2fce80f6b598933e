/*
 * ensemble_rank.c - ranking items for one user by the mean score of several
 * models (see ensemble_rank.h).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble_rank.h"

#define NUM_CHARS 40

/* One column of src, looked up once for copy_selected. */
typedef struct src_col {
    const char      *name;
    tfrs_column_type type;
    const float     *f;      /* float column's values */
    const int64_t   *i;      /* int64 column's values */
} src_col;

/* A copy of rows[0 .. n) of src, every column. */
static int copy_selected(tfrs_dataset **out, const tfrs_dataset *src, const size_t *rows,
                         size_t n)
{
    size_t nc = tfrs_dataset_num_columns(src);
    src_col *cols = calloc(nc + 1, sizeof(*cols));
    const char **s = calloc(nc + 1, sizeof(*s));
    float *f = calloc(nc + 1, sizeof(*f));
    int64_t *iv = calloc(nc + 1, sizeof(*iv));
    tfrs_dataset *ds = NULL;
    int st = cols == NULL || s == NULL || f == NULL || iv == NULL ? TFRS_ENOMEM
                                                                 : tfrs_dataset_create(&ds);

    for (size_t c = 0; c < nc && st == TFRS_OK; c++) {
        src_col *k = &cols[c];
        if ((st = tfrs_dataset_column_info(src, c, &k->name, &k->type)) != TFRS_OK ||
            (st = tfrs_dataset_add_column(ds, k->name, k->type)) != TFRS_OK)
            break;
        if (k->type == TFRS_COLUMN_FLOAT)
            st = tfrs_dataset_floats(src, k->name, &k->f);
        else if (k->type == TFRS_COLUMN_INT64)
            st = tfrs_dataset_int64s(src, k->name, &k->i);
    }
    for (size_t r = 0; r < n && st == TFRS_OK; r++) {
        size_t ns = 0, nf = 0, ni = 0;
        for (size_t c = 0; c < nc && st == TFRS_OK; c++) {
            const src_col *k = &cols[c];
            if (k->type == TFRS_COLUMN_STRING)
                st = tfrs_dataset_get_string(src, k->name, rows[r], &s[ns++]);
            else if (k->type == TFRS_COLUMN_FLOAT)
                f[nf++] = k->f[rows[r]];
            else
                iv[ni++] = k->i[rows[r]];
        }
        if (st == TFRS_OK)
            st = tfrs_dataset_append_row(ds, s, f, iv);
    }
    free(cols);
    free(s);
    free(f);
    free(iv);
    if (st != TFRS_OK) {
        tfrs_dataset_free(ds);
        ds = NULL;
    }
    *out = ds;
    return st;
}

/* The value of `column` in `row` as a string (numbers formatted into buf,
 * which round-trip); NULL if there is no such column. */
static const char *cell(const tfrs_dataset *ds, const char *column, size_t row, char *buf)
{
    size_t c;
    const char *name, *v = NULL;
    tfrs_column_type t;
    const float *fv;
    const int64_t *iv;

    if (tfrs_dataset_find_column(ds, column, &c) != TFRS_OK ||
        tfrs_dataset_column_info(ds, c, &name, &t) != TFRS_OK)
        return NULL;
    if (t == TFRS_COLUMN_STRING && tfrs_dataset_get_string(ds, column, row, &v) == TFRS_OK)
        return v;
    if (t == TFRS_COLUMN_FLOAT && tfrs_dataset_floats(ds, column, &fv) == TFRS_OK) {
        snprintf(buf, NUM_CHARS, "%.9g", (double)fv[row]);
        return buf;
    }
    if (t == TFRS_COLUMN_INT64 && tfrs_dataset_int64s(ds, column, &iv) == TFRS_OK) {
        snprintf(buf, NUM_CHARS, "%lld", (long long)iv[row]);
        return buf;
    }
    return NULL;
}

int ens_rank_init(ens_rank *r, const tfrs_dataset *train, const char *user_col,
                  const char *user, const char *time_col, const char *item_col)
{
    size_t n = tfrs_dataset_num_rows(train), nitems = 0, latest = n, npool;
    const uint32_t *item_ids;
    const int64_t *time;
    size_t *pick = NULL, *first = NULL;
    int st;

    memset(r, 0, sizeof(*r));
    r->item_col = item_col;
    if ((st = tfrs_dataset_string_ids(train, item_col, &item_ids, &npool)) != TFRS_OK ||
        (st = tfrs_dataset_int64s(train, time_col, &time)) != TFRS_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        const char *u;
        if ((st = tfrs_dataset_get_string(train, user_col, i, &u)) != TFRS_OK)
            return st;
        if (strcmp(u, user) == 0 && (latest == n || time[i] > time[latest]))
            latest = i;
    }
    if (latest == n)
        return TFRS_ENOTFOUND;
    pick = malloc((npool + 1) * sizeof(*pick));
    first = malloc((npool + 1) * sizeof(*first));
    if (pick == NULL || first == NULL) {
        st = TFRS_ENOMEM;
        goto out;
    }
    for (size_t p = 0; p < npool; p++)
        first[p] = n;
    for (size_t i = 0; i < n; i++)
        if (first[item_ids[i]] == n) {
            first[item_ids[i]] = i;
            pick[nitems++] = i;
        }
    if ((st = copy_selected(&r->items, train, pick, nitems)) != TFRS_OK ||
        (st = copy_selected(&r->query, train, &latest, 1)) != TFRS_OK)
        goto out;
    r->n = nitems;
    r->ids = calloc(nitems, sizeof(*r->ids));
    r->sum = calloc(nitems, sizeof(*r->sum));
    if (r->ids == NULL || r->sum == NULL) {
        st = TFRS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nitems && st == TFRS_OK; i++)
        st = tfrs_dataset_get_string(r->items, item_col, i, &r->ids[i]);
out:
    free(pick);
    free(first);
    return st;
}

int ens_rank_add(ens_rank *r, tfrs_model *model,
                 int (*with_bags)(tfrs_dataset *target, const void *arg), const void *arg)
{
    size_t F = tfrs_model_num_features(model), nout = 0, nitem;
    tfrs_dataset *items = NULL, *query = NULL;
    const char **qv = calloc(F, sizeof(*qv)), **pv = calloc(F, sizeof(*pv));
    char (*qbuf)[NUM_CHARS] = calloc(F, sizeof(*qbuf));
    char (*pbuf)[NUM_CHARS] = calloc(F, sizeof(*pbuf));
    size_t *item_f = calloc(F, sizeof(*item_f));
    tfrs_scored *out = calloc(r->n, sizeof(*out));
    float pred;
    int st = qv == NULL || pv == NULL || qbuf == NULL || pbuf == NULL || item_f == NULL ||
             out == NULL ? TFRS_ENOMEM : TFRS_OK;

    if (st == TFRS_OK)
        st = tfrs_dataset_slice(&items, r->items, 0, r->n);
    if (st == TFRS_OK)
        st = tfrs_dataset_slice(&query, r->query, 0, 1);
    if (st == TFRS_OK && (st = with_bags(items, arg)) == TFRS_OK &&
        (st = with_bags(query, arg)) == TFRS_OK)
        st = tfrs_model_set_item_table(model, r->item_col, items);
    for (size_t f = 0; f < F && st == TFRS_OK; f++)
        qv[f] = cell(query, tfrs_model_feature_name(model, f), 0, qbuf[f]);
    if (st == TFRS_OK)
        st = tfrs_model_rank(model, qv, r->item_col, r->ids, r->n, 0, out, &nout);
    for (size_t i = 0; i < nout && st == TFRS_OK; i++)
        r->sum[out[i].index] += out[i].score;
    /* the top candidate again through predict: the query's values, and the
     * item's for the candidate feature and the item features */
    if (st == TFRS_OK && nout > 0) {
        nitem = tfrs_model_item_features(model, item_f, F);
        for (size_t f = 0; f < F; f++) {
            const char *name = tfrs_model_feature_name(model, f);
            int from_item = strcmp(name, r->item_col) == 0;
            for (size_t k = 0; k < nitem; k++)
                from_item |= item_f[k] == f;
            pv[f] = from_item ? cell(items, name, out[0].index, pbuf[f]) : qv[f];
        }
        if ((st = tfrs_model_predict(model, pv, 1, &pred)) == TFRS_OK)
            r->worst = fmax(r->worst, fabs((double)pred - out[0].score));
    }
    if (st == TFRS_OK)
        r->members++;
    tfrs_model_set_item_table(model, NULL, NULL);   /* the table goes */
    tfrs_dataset_free(items);
    tfrs_dataset_free(query);
    free(qv);
    free(pv);
    free(qbuf);
    free(pbuf);
    free(item_f);
    free(out);
    return st;
}

static const double *sort_key;

static int by_score(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;

    if (sort_key[i] != sort_key[j])
        return sort_key[i] > sort_key[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

void ens_rank_print(const ens_rank *r, size_t k, const char *title_col)
{
    size_t *order = malloc((r->n + 1) * sizeof(*order));

    if (order == NULL || r->members == 0) {
        free(order);
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        order[i] = i;
    sort_key = r->sum;
    qsort(order, r->n, sizeof(*order), by_score);
    for (size_t i = 0; i < k && i < r->n; i++) {
        const char *title = NULL;
        if (title_col != NULL)
            tfrs_dataset_get_string(r->items, title_col, order[i], &title);
        printf("%zu %.4f %s%s%s\n", i + 1, r->sum[order[i]] / r->members, r->ids[order[i]],
               title != NULL ? " " : "", title != NULL ? title : "");
    }
    free(order);
}

void ens_rank_free(ens_rank *r)
{
    tfrs_dataset_free(r->items);
    tfrs_dataset_free(r->query);
    free(r->ids);
    free(r->sum);
    memset(r, 0, sizeof(*r));
}
