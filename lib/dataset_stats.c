/*
 * dataset_stats.c - statistics of a dataset's numeric columns, for the
 * adapters of numeric and bucketized features: the mean and variance
 * (tfrs_dataset_column_moments) and exact quantile boundaries
 * (tfrs_dataset_column_quantiles).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Built on the dataset's public views only.
 */
#include <stdlib.h>

#include "util/alloc.h"
#include "util/status.h"
#include "tfrsc.h"

/* A float or int64 column's values, through the dataset's public views. */
typedef struct num_col {
    const float   *vals;    /* float column, or NULL */
    const int64_t *i64;     /* int64 column, or NULL */
    size_t         n;
} num_col;

/* Finds `column`, a float or int64 column of a dataset with rows; TFRS_OK
 * or the status (with its message, starting with `what`). */
static int numeric_column(const tfrs_dataset *ds, const char *column, const char *what,
                          num_col *c)
{
    const char *name;
    tfrs_column_type type;
    size_t i;

    if (ds == NULL || column == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, ds == NULL ? "ds" : "column");
    if (tfrs_dataset_find_column(ds, column, &i) != TFRS_OK ||
        tfrs_dataset_column_info(ds, i, &name, &type) != TFRS_OK)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: no column \"%s\"", what, column);
    if (type == TFRS_COLUMN_STRING)
        return tfrs__fail(TFRS_EINVAL, "%s: column \"%s\" is not a float or int64 column", what,
                          column);
    c->n = tfrs_dataset_num_rows(ds);
    if (c->n == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: the dataset has no rows", what);
    c->vals = NULL;
    c->i64 = NULL;
    if ((type == TFRS_COLUMN_FLOAT ? tfrs_dataset_floats(ds, column, &c->vals)
                                   : tfrs_dataset_int64s(ds, column, &c->i64)) != TFRS_OK)
        return tfrs__fail(TFRS_EINVAL, "%s: column \"%s\" cannot be read", what, column);
    return TFRS_OK;
}

/* Value r as a double (int64: rounded to the nearest double beyond 2^53). */
static inline double value_at(const num_col *c, size_t r)
{
    return c->vals != NULL ? (double)c->vals[r] : (double)c->i64[r];
}

int tfrs_dataset_column_moments(const tfrs_dataset *ds, const char *column, double *mean,
                                double *variance)
{
    static const char what[] = "tfrs_dataset_column_moments";
    num_col col, *c = &col;
    double sum = 0.0, m, ss = 0.0;
    size_t n;
    int rc;

    if (mean == NULL || variance == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, mean == NULL ? "mean" : "variance");
    if ((rc = numeric_column(ds, column, what, c)) != TFRS_OK)
        return rc;
    n = c->n;
    /* Two passes: the squares of the deviations, not the difference of two
     * large sums (which loses the variance of a column far from 0). */
    for (size_t r = 0; r < n; r++)
        sum += value_at(c, r);
    m = sum / (double)n;
    for (size_t r = 0; r < n; r++) {
        double d = value_at(c, r) - m;
        ss += d * d;
    }
    *mean = m;
    *variance = ss / (double)n;
    return TFRS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int tfrs_dataset_column_quantiles(const tfrs_dataset *ds, const char *column, size_t num_bins,
                                  double *boundaries, size_t *num_boundaries)
{
    static const char what[] = "tfrs_dataset_column_quantiles";
    num_col col, *c = &col;
    double *v;
    size_t n, w = 0;
    int rc;

    if (num_boundaries == NULL || (boundaries == NULL && num_bins > 1))
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          num_boundaries == NULL ? "num_boundaries" : "boundaries");
    if (num_bins == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: num_bins is 0", what);
    if ((rc = numeric_column(ds, column, what, c)) != TFRS_OK)
        return rc;
    n = c->n;
    v = tfrs__malloc(n * sizeof(*v));   /* n <= 2^32 - 1: no overflow */
    if (v == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
    for (size_t r = 0; r < n; r++)
        v[r] = value_at(c, r);
    qsort(v, n, sizeof(*v), cmp_double);
    /* Boundary j (1 <= j < num_bins) is the value of sorted rank
     * floor(j n / num_bins): with distinct values, exactly that many rows
     * fall below it.  Repeats and the minimum (below which no row falls)
     * are dropped.  With num_bins >= n every rank is some boundary's, so
     * the loop runs over the ranks: O(n) whatever num_bins is. */
    for (size_t j = 1; j < (num_bins < n ? num_bins : n); j++) {
        /* j < num_bins < n < 2^32: the product fits 64 bits. */
        size_t k = num_bins < n ? (size_t)((uint64_t)j * n / num_bins) : j;
        double b = v[k];
        if (b > v[0] && (w == 0 || b > boundaries[w - 1]))
            boundaries[w++] = b;
    }
    tfrs__free(v);
    *num_boundaries = w;
    return TFRS_OK;
}
