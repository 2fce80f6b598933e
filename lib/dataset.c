/*
 * dataset.c - the column store: interned string columns and float columns.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * A string column keeps its distinct values in a string table
 * (util/strtab.h); rows hold uint32 ids into it, in order of first use.
 * A float column holds one float per row.  Rows are limited to 2^32 - 1 so
 * that row permutations fit uint32.  The text loaders (load_*.c) fill a
 * store through dataset.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"
#include "util/rng.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dataset.h"

#define MAX_ROWS TFRS__DATASET_MAX_ROWS

typedef struct col_t {
    char            *name;
    tfrs_column_type type;
    uint32_t        *ids;    /* string column: string id per row           */
    float           *vals;   /* float column: value per row                */
    int64_t         *i64;    /* int64 column: value per row                */
    size_t           cap;    /* rows allocated in ids, vals or i64         */
    tfrs__strtab     p;      /* string column: its distinct values         */
} col_t;

struct tfrs_dataset {
    size_t  nrows;
    size_t  ncols, cols_cap;
    col_t *cols;
    tfrs__strtab names;      /* the column names: id = column index        */
    size_t  nstr, nflt, nint; /* columns of each type                      */
};

_Static_assert(sizeof(float) == sizeof(uint32_t), "shuffle shares one scratch buffer");

static const uint32_t empty_ids[1];
static const float    empty_vals[1];
static const int64_t  empty_i64[1];

/* The message of a string table's failure rc (or TFRS_OK). */
static int table_status(int rc)
{
    if (rc == TFRS_ERANGE)
        return tfrs__fail(TFRS_ERANGE, "dataset: more than %zu distinct strings in a column",
                          TFRS__STRTAB_MAX);
    if (rc < 0)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    return TFRS_OK;
}

/* ---- dataset basics ----------------------------------------------------- */

int tfrs_dataset_create(tfrs_dataset **out)
{
    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dataset_create: out is NULL");
    *out = tfrs__calloc(1, sizeof(**out));
    if (*out == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_dataset_create: out of memory");
    tfrs__strtab_init(&(*out)->names);
    return TFRS_OK;
}

void tfrs_dataset_free(tfrs_dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t i = 0; i < ds->ncols; i++) {
        col_t *c = &ds->cols[i];
        tfrs__free(c->name);
        tfrs__free(c->ids);
        tfrs__free(c->vals);
        tfrs__free(c->i64);
        tfrs__strtab_free(&c->p);
    }
    tfrs__free(ds->cols);
    tfrs__strtab_free(&ds->names);
    tfrs__free(ds);
}

/* Through the names table: a dataset of many columns costs no scan per
 * column (a header of 100k names was quadratic). */
static ptrdiff_t column_index(const tfrs_dataset *ds, const char *name)
{
    uint32_t id = tfrs__strtab_find(&ds->names, name, strlen(name));

    return id == TFRS__STRTAB_NONE ? -1 : (ptrdiff_t)id;
}

/* Adds a column without checking the state (callers do). */
static int add_column(tfrs_dataset *ds, const char *name, tfrs_column_type type)
{
    size_t len = strlen(name);
    uint32_t id;
    col_t *c;

    /* Room first, then the name: a failure adds neither. */
    if (TFRS__GROW(ds->cols, ds->cols_cap, ds->ncols + 1) < 0 ||
        tfrs__strtab_reserve(&ds->names, 1, len) < 0)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    c = &ds->cols[ds->ncols];
    memset(c, 0, sizeof(*c));
    tfrs__strtab_init(&c->p);
    c->name = tfrs__strdup(name);
    if (c->name == NULL)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    (void)tfrs__strtab_intern(&ds->names, name, len, &id);   /* reserved: cannot fail */
    c->type = type;
    ds->ncols++;
    if (type == TFRS_COLUMN_STRING)
        ds->nstr++;
    else if (type == TFRS_COLUMN_FLOAT)
        ds->nflt++;
    else
        ds->nint++;
    return TFRS_OK;
}

int tfrs_dataset_add_column(tfrs_dataset *ds, const char *name, tfrs_column_type type)
{
    static const char what[] = "tfrs_dataset_add_column";

    if (ds == NULL || name == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, ds == NULL ? "ds" : "name");
    if (name[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "%s: empty column name", what);
    if (type != TFRS_COLUMN_STRING && type != TFRS_COLUMN_FLOAT && type != TFRS_COLUMN_INT64)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown column type %d", what, (int)type);
    if (ds->nrows > 0)
        return tfrs__fail(TFRS_ESTATE, "%s: the dataset already has rows", what);
    if (column_index(ds, name) >= 0)
        return tfrs__fail(TFRS_EDUPLICATE, "%s: column \"%s\" exists", what, name);
    return add_column(ds, name, type);
}

int tfrs_dataset_drop_column(tfrs_dataset *ds, const char *name)
{
    static const char what[] = "tfrs_dataset_drop_column";
    tfrs__strtab names;
    ptrdiff_t i;
    col_t *c;

    if (ds == NULL || name == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, ds == NULL ? "ds" : "name");
    if ((i = column_index(ds, name)) < 0)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: no column \"%s\"", what, name);
    /* The other names, in order, first: a failure changes nothing. */
    tfrs__strtab_init(&names);
    for (size_t k = 0; k < ds->ncols; k++) {
        uint32_t id;
        if (k != (size_t)i && tfrs__strtab_intern(&names, ds->cols[k].name,
                                                  strlen(ds->cols[k].name), &id) < 0) {
            tfrs__strtab_free(&names);
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
        }
    }
    c = &ds->cols[i];
    if (c->type == TFRS_COLUMN_STRING)
        ds->nstr--;
    else if (c->type == TFRS_COLUMN_FLOAT)
        ds->nflt--;
    else
        ds->nint--;
    tfrs__free(c->name);
    tfrs__free(c->ids);
    tfrs__free(c->vals);
    tfrs__free(c->i64);
    tfrs__strtab_free(&c->p);
    memmove(c, c + 1, (ds->ncols - (size_t)i - 1) * sizeof(*c));
    ds->ncols--;
    tfrs__strtab_free(&ds->names);
    ds->names = names;
    return TFRS_OK;
}

int tfrs__dataset_reserve_rows(tfrs_dataset *ds, size_t need)
{
    int rc = 0;

    for (size_t i = 0; i < ds->ncols && rc == 0; i++) {
        col_t *c = &ds->cols[i];
        size_t cap = c->cap;
        /* The arrays of a column grow together from one capacity. */
        if (c->type == TFRS_COLUMN_STRING)
            rc = TFRS__GROW(c->ids, cap, need);
        else if (c->type == TFRS_COLUMN_FLOAT)
            rc = TFRS__GROW(c->vals, cap, need);
        else
            rc = TFRS__GROW(c->i64, cap, need);
        c->cap = cap;
    }
    return rc < 0 ? tfrs__fail(TFRS_ENOMEM, "dataset: out of memory") : TFRS_OK;
}

void tfrs__dataset_trim_rows(tfrs_dataset *ds)
{
    size_t n = ds->nrows > 0 ? ds->nrows : 1;

    for (size_t i = 0; i < ds->ncols; i++) {
        col_t *c = &ds->cols[i];
        void *p;
        if (c->cap <= n)
            continue;
        /* A failed realloc leaves the block as it was: keep it. */
        if (c->type == TFRS_COLUMN_STRING) {
            if ((p = tfrs__realloc(c->ids, c->cap * sizeof(*c->ids), n * sizeof(*c->ids))) == NULL)
                continue;
            c->ids = p;
        } else if (c->type == TFRS_COLUMN_FLOAT) {
            if ((p = tfrs__realloc(c->vals, c->cap * sizeof(*c->vals),
                                   n * sizeof(*c->vals))) == NULL)
                continue;
            c->vals = p;
        } else {
            if ((p = tfrs__realloc(c->i64, c->cap * sizeof(*c->i64),
                                   n * sizeof(*c->i64))) == NULL)
                continue;
            c->i64 = p;
        }
        c->cap = n;
    }
}

static int append_row(tfrs_dataset *ds, const char *const *strings, const float *floats,
                      const int64_t *int64s, const char *what)
{
    size_t k = 0, j = 0, q = 0;
    int rc;

    if (ds == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: ds is NULL", what);
    if (ds->ncols == 0)
        return tfrs__fail(TFRS_ESTATE, "%s: the dataset has no columns", what);
    if ((ds->nstr > 0 && strings == NULL) || (ds->nflt > 0 && floats == NULL) ||
        (ds->nint > 0 && int64s == NULL))
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL%s", what,
                          ds->nstr > 0 && strings == NULL ? "strings"
                          : ds->nflt > 0 && floats == NULL ? "floats" : "int64s",
                          ds->nint > 0 && int64s == NULL
                          ? " (the dataset has int64 columns: use tfrs_dataset_append_row)" : "");
    if (ds->nrows >= MAX_ROWS)
        return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", what, MAX_ROWS);
    /* Validate everything, then reserve, then commit: a failure leaves the
     * dataset as it was. */
    for (size_t i = 0; i < ds->ncols; i++) {
        const col_t *c = &ds->cols[i];
        if (c->type == TFRS_COLUMN_STRING) {
            const char *s = strings[k++];
            if (s == NULL)
                return tfrs__fail(TFRS_EINVAL, "%s: value of \"%s\" is NULL", what, c->name);
            if (!tfrs__utf8_valid(s, strlen(s)))
                return tfrs__fail(TFRS_EINVAL, "%s: value of \"%s\" is not valid UTF-8", what,
                                  c->name);
        } else if (c->type == TFRS_COLUMN_FLOAT && !isfinite(floats[j++])) {
            return tfrs__fail(TFRS_EINVAL, "%s: value of \"%s\" is not finite", what, c->name);
        }
    }
    rc = tfrs__dataset_reserve_rows(ds, ds->nrows + 1);
    if (rc < 0)
        return rc;
    k = 0;
    for (size_t i = 0; i < ds->ncols; i++) {
        col_t *c = &ds->cols[i];
        size_t len;
        if (c->type != TFRS_COLUMN_STRING)
            continue;
        len = strlen(strings[k]);
        if (tfrs__strtab_find(&c->p, strings[k], len) == TFRS__STRTAB_NONE) {
            rc = table_status(tfrs__strtab_reserve(&c->p, 1, len));
            if (rc < 0)
                return rc;
        }
        k++;
    }
    k = 0;
    j = 0;
    for (size_t i = 0; i < ds->ncols; i++) {
        col_t *c = &ds->cols[i];
        if (c->type == TFRS_COLUMN_STRING) {
            const char *s = strings[k++];
            rc = tfrs__strtab_intern(&c->p, s, strlen(s), &c->ids[ds->nrows]);
            (void)rc;   /* reserved above: cannot fail */
        } else if (c->type == TFRS_COLUMN_FLOAT) {
            c->vals[ds->nrows] = floats[j++];
        } else {
            c->i64[ds->nrows] = int64s[q++];
        }
    }
    ds->nrows++;
    return TFRS_OK;
}

int tfrs_dataset_append(tfrs_dataset *ds, const char *const *strings, const float *floats)
{
    return append_row(ds, strings, floats, NULL, "tfrs_dataset_append");
}

int tfrs_dataset_append_row(tfrs_dataset *ds, const char *const *strings, const float *floats,
                            const int64_t *int64s)
{
    return append_row(ds, strings, floats, int64s, "tfrs_dataset_append_row");
}

size_t tfrs_dataset_num_rows(const tfrs_dataset *ds)
{
    return ds == NULL ? 0 : ds->nrows;
}

size_t tfrs_dataset_num_columns(const tfrs_dataset *ds)
{
    return ds == NULL ? 0 : ds->ncols;
}

int tfrs_dataset_column_info(const tfrs_dataset *ds, size_t i, const char **name,
                             tfrs_column_type *type)
{
    static const char what[] = "tfrs_dataset_column_info";

    if (ds == NULL || name == NULL || type == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          ds == NULL ? "ds" : name == NULL ? "name" : "type");
    if (i >= ds->ncols)
        return tfrs__fail(TFRS_ERANGE, "%s: column %zu out of range [0, %zu)", what, i,
                          ds->ncols);
    *name = ds->cols[i].name;
    *type = ds->cols[i].type;
    return TFRS_OK;
}

int tfrs_dataset_find_column(const tfrs_dataset *ds, const char *name, size_t *index)
{
    static const char what[] = "tfrs_dataset_find_column";
    ptrdiff_t i;

    if (ds == NULL || name == NULL || index == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          ds == NULL ? "ds" : name == NULL ? "name" : "index");
    i = column_index(ds, name);
    if (i < 0)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: no column \"%s\"", what, name);
    *index = (size_t)i;
    return TFRS_OK;
}

/* The named column of the given type, or NULL with the status in *rc.
 * out_name names the caller's output argument, which must not be NULL. */
static const col_t *get_column(const tfrs_dataset *ds, const char *name,
                                tfrs_column_type type, const char *what, const void *out,
                                const char *out_name, int *rc)
{
    ptrdiff_t i;

    if (out == NULL) {
        *rc = tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, out_name);
        return NULL;
    }
    if (ds == NULL || name == NULL) {
        *rc = tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, ds == NULL ? "ds" : "column");
        return NULL;
    }
    i = column_index(ds, name);
    if (i < 0) {
        *rc = tfrs__fail(TFRS_ENOTFOUND, "%s: no column \"%s\"", what, name);
        return NULL;
    }
    if (ds->cols[i].type != type) {
        *rc = tfrs__fail(TFRS_EINVAL, "%s: column \"%s\" is not a %s column", what, name,
                         type == TFRS_COLUMN_STRING ? "string"
                         : type == TFRS_COLUMN_FLOAT ? "float" : "int64");
        return NULL;
    }
    *rc = TFRS_OK;
    return &ds->cols[i];
}

int tfrs_dataset_string_ids(const tfrs_dataset *ds, const char *column, const uint32_t **ids,
                            size_t *num_strings)
{
    static const char what[] = "tfrs_dataset_string_ids";
    const col_t *c;
    int rc;

    c = get_column(ds, column, TFRS_COLUMN_STRING, what,
                   ids == NULL ? NULL : (const void *)num_strings,
                   ids == NULL ? "ids" : "num_strings", &rc);
    if (c == NULL)
        return rc;
    *ids = c->ids != NULL ? c->ids : empty_ids;
    *num_strings = tfrs__strtab_count(&c->p);
    return TFRS_OK;
}

/* A string of the named column: the one with id i (by_row == 0) or the
 * one of row i (by_row == 1). */
static int string_at(const tfrs_dataset *ds, const char *column, size_t i, int by_row,
                     const char **value)
{
    const char *what = by_row ? "tfrs_dataset_get_string" : "tfrs_dataset_string";
    const col_t *c;
    int rc;

    c = get_column(ds, column, TFRS_COLUMN_STRING, what, value, "value", &rc);
    if (c == NULL)
        return rc;
    if (by_row && i >= ds->nrows)
        return tfrs__fail(TFRS_ERANGE, "%s: row %zu out of range [0, %zu)", what, i,
                          ds->nrows);
    if (!by_row && i >= tfrs__strtab_count(&c->p))
        return tfrs__fail(TFRS_ERANGE, "%s: id %u out of range [0, %u) in \"%s\"", what,
                          (unsigned)i, (unsigned)tfrs__strtab_count(&c->p), column);
    *value = tfrs__strtab_at(&c->p, by_row ? c->ids[i] : (uint32_t)i, NULL);
    return TFRS_OK;
}

int tfrs_dataset_string(const tfrs_dataset *ds, const char *column, uint32_t id,
                        const char **value)
{
    return string_at(ds, column, id, 0, value);
}

int tfrs_dataset_get_string(const tfrs_dataset *ds, const char *column, size_t row,
                            const char **value)
{
    return string_at(ds, column, row, 1, value);
}

/* The array of a float or int64 column (an empty one's is a static
 * placeholder, never NULL), or NULL with *rc set. */
static const void *numbers_of(const tfrs_dataset *ds, const char *column, tfrs_column_type type,
                              const void *out, const char *what, int *rc)
{
    const col_t *c = get_column(ds, column, type, what, out, "values", rc);

    if (c == NULL)
        return NULL;
    if (type == TFRS_COLUMN_FLOAT)
        return c->vals != NULL ? (const void *)c->vals : (const void *)empty_vals;
    return c->i64 != NULL ? (const void *)c->i64 : (const void *)empty_i64;
}

int tfrs_dataset_floats(const tfrs_dataset *ds, const char *column, const float **values)
{
    int rc;
    const void *v = numbers_of(ds, column, TFRS_COLUMN_FLOAT, values, "tfrs_dataset_floats", &rc);

    if (v != NULL)
        *values = v;
    return rc;
}

int tfrs_dataset_int64s(const tfrs_dataset *ds, const char *column, const int64_t **values)
{
    int rc;
    const void *v = numbers_of(ds, column, TFRS_COLUMN_INT64, values, "tfrs_dataset_int64s", &rc);

    if (v != NULL)
        *values = v;
    return rc;
}

/* dst[k] = src[perm[k]] for k < n, elements of `size` (4 or 8) bytes.
 * The reads are at random past the caches: each is asked for GATHER_AHEAD
 * elements early. */
#define GATHER_AHEAD 16

static void gather(void *dst, const void *src, size_t size, const uint32_t *perm, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    size_t k = 0, m = n > GATHER_AHEAD ? n - GATHER_AHEAD : 0;

    if (size == 4) {
        for (; k < m; k++) {
            TFRS__PREFETCH(s + 4 * (size_t)perm[k + GATHER_AHEAD]);
            memcpy(d + 4 * k, s + 4 * (size_t)perm[k], 4);
        }
        for (; k < n; k++)
            memcpy(d + 4 * k, s + 4 * (size_t)perm[k], 4);
    } else {
        for (; k < m; k++) {
            TFRS__PREFETCH(s + 8 * (size_t)perm[k + GATHER_AHEAD]);
            memcpy(d + 8 * k, s + 8 * (size_t)perm[k], 8);
        }
        for (; k < n; k++)
            memcpy(d + 8 * k, s + 8 * (size_t)perm[k], 8);
    }
}

int tfrs_dataset_shuffle(tfrs_dataset *ds, uint64_t seed)
{
    uint32_t *perm = NULL;
    void *scratch = NULL;
    int64_t *scratch64 = NULL;
    tfrs__rng r;
    size_t n, scap, scap64;

    if (ds == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dataset_shuffle: ds is NULL");
    n = ds->nrows;
    if (n < 2)
        return TFRS_OK;
    perm = tfrs__calloc(n, sizeof(*perm));
    scratch = tfrs__calloc(n, 4);   /* uint32 ids and floats are both 4 bytes */
    scratch64 = ds->nint > 0 ? tfrs__calloc(n, sizeof(int64_t)) : NULL;
    scap = scap64 = n;
    if (perm == NULL || scratch == NULL || (ds->nint > 0 && scratch64 == NULL)) {
        tfrs__free(perm);
        tfrs__free(scratch);
        tfrs__free(scratch64);
        return tfrs__fail(TFRS_ENOMEM, "tfrs_dataset_shuffle: out of memory");
    }
    tfrs__rng_seed(&r, seed, 0);
    tfrs__rng_permutation(&r, perm, n);
    /* Row i of the result is old row perm[i].  Each column's gathered copy
     * replaces it and its old array becomes the next scratch buffer. */
    for (size_t i = 0; i < ds->ncols; i++) {
        col_t *c = &ds->cols[i];
        size_t t = c->cap;
        void *old;
        if (c->type == TFRS_COLUMN_INT64) {
            int64_t *dst = scratch64;
            gather(dst, c->i64, sizeof(*dst), perm, n);
            scratch64 = c->i64;
            c->i64 = dst;
            c->cap = scap64;
            scap64 = t;
            continue;
        }
        if (c->type == TFRS_COLUMN_STRING) {
            gather(scratch, c->ids, sizeof(*c->ids), perm, n);
            old = c->ids;
            c->ids = scratch;
        } else {
            gather(scratch, c->vals, sizeof(*c->vals), perm, n);
            old = c->vals;
            c->vals = scratch;
        }
        scratch = old;
        c->cap = scap;
        scap = t;
    }
    tfrs__free(scratch);
    tfrs__free(scratch64);
    tfrs__free(perm);
    return TFRS_OK;
}

int tfrs_dataset_slice(tfrs_dataset **out, const tfrs_dataset *ds, size_t start, size_t count)
{
    static const char what[] = "tfrs_dataset_slice";
    tfrs_dataset *s = NULL;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (ds == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: ds is NULL", what);
    if (start > ds->nrows)
        start = ds->nrows;
    if (count > ds->nrows - start)
        count = ds->nrows - start;
    rc = tfrs_dataset_create(&s);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < ds->ncols && rc == 0; i++)
        rc = add_column(s, ds->cols[i].name, ds->cols[i].type);
    if (rc == 0 && count > 0)
        rc = tfrs__dataset_reserve_rows(s, count);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < ds->ncols; i++) {
        const col_t *src = &ds->cols[i];
        col_t *dst = &s->cols[i];
        if (src->type == TFRS_COLUMN_FLOAT) {
            if (count > 0)
                memcpy(dst->vals, src->vals + start, count * sizeof(*dst->vals));
            continue;
        }
        if (src->type == TFRS_COLUMN_INT64) {
            if (count > 0)
                memcpy(dst->i64, src->i64 + start, count * sizeof(*dst->i64));
            continue;
        }
        /* Interning in row order gives the table in order of first use.  The
         * slice's table takes the source's key, so that the hashes are
         * reused rather than recomputed (the strings are the same). */
        dst->p.seed = src->p.seed;
        for (size_t r = 0; r < count; r++) {
            rc = table_status(tfrs__strtab_intern_from(&dst->p, &src->p, src->ids[start + r],
                                                       &dst->ids[r]));
            if (rc < 0)
                goto fail;
        }
    }
    s->nrows = count;
    *out = s;
    return TFRS_OK;
fail:
    tfrs_dataset_free(s);
    return rc;
}

/* ---- for the loaders ---------------------------------------------------- */

int tfrs__dataset_intern(tfrs_dataset *ds, size_t col, const char *s, size_t len, uint32_t *id)
{
    return table_status(tfrs__strtab_intern(&ds->cols[col].p, s, len, id));
}

void tfrs__dataset_append_interned(tfrs_dataset *ds, const uint32_t *ids, const float *vals,
                                   const int64_t *i64)
{
    size_t r = ds->nrows;

    for (size_t i = 0; i < ds->ncols; i++) {
        col_t *c = &ds->cols[i];
        if (c->type == TFRS_COLUMN_STRING)
            c->ids[r] = *ids++;
        else if (c->type == TFRS_COLUMN_FLOAT)
            c->vals[r] = *vals++;
        else
            c->i64[r] = *i64++;
    }
    ds->nrows = r + 1;
}

/* ---- implicit-feedback bags --------------------------------------------- */

/* The distinct items of each source key, in order of first occurrence:
 * dist[start[k] .. start[k + 1]) for key id k.  Counting sort of the rows
 * by key (stable), then one pass that keeps an item the first time its key
 * meets it (mark[item] = key + 1).  An item is checked the first time any
 * key meets it.  O(rows + keys + items). */
typedef struct bag_index {
    size_t   *start;   /* nk + 1 */
    uint32_t *dist;    /* rows   */
    uint32_t *mark;    /* ni     */
} bag_index;

static void bag_index_free(bag_index *b)
{
    tfrs__free(b->start);
    tfrs__free(b->dist);
    tfrs__free(b->mark);
}

static int bag_index_build(bag_index *b, const tfrs_dataset *src, const col_t *key,
                           const col_t *item, char sep, const char *what)
{
    size_t nk = tfrs__strtab_count(&key->p), ni = tfrs__strtab_count(&item->p);
    size_t n = src->nrows, w = 0;

    b->start = tfrs__calloc(nk + 1, sizeof(*b->start));
    b->dist = tfrs__malloc((n > 0 ? n : 1) * sizeof(*b->dist));
    b->mark = tfrs__calloc(ni > 0 ? ni : 1, sizeof(*b->mark));
    if (b->start == NULL || b->dist == NULL || b->mark == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
    for (size_t r = 0; r < n; r++)
        b->start[key->ids[r] + 1]++;
    for (size_t k = 0; k < nk; k++)
        b->start[k + 1] += b->start[k];
    /* start[k] walks to the end of k's run, which is where k + 1 begins. */
    for (size_t r = 0; r < n; r++)
        b->dist[b->start[key->ids[r]]++] = item->ids[r];
    for (size_t k = nk; k > 0; k--)
        b->start[k] = b->start[k - 1];
    b->start[0] = 0;
    for (size_t k = 0; k < nk; k++) {
        size_t from = b->start[k], to = b->start[k + 1];
        b->start[k] = w;
        for (size_t j = from; j < to; j++) {
            uint32_t i = b->dist[j];
            if (b->mark[i] == (uint32_t)k + 1)
                continue;
            if (b->mark[i] == 0) {
                size_t len;
                const char *s = tfrs__strtab_at(&item->p, i, &len);
                if (len == 0)
                    return tfrs__fail(TFRS_EINVAL, "%s: an empty value of \"%s\" cannot be a "
                                      "bag token", what, item->name);
                if (memchr(s, sep, len) != NULL)
                    return tfrs__fail(TFRS_EINVAL, "%s: value \"%.64s\" of \"%s\" contains the "
                                      "separator (byte 0x%02x)", what, s, item->name,
                                      (unsigned)(unsigned char)sep);
            }
            b->mark[i] = (uint32_t)k + 1;
            b->dist[w++] = i;
        }
    }
    b->start[nk] = w;
    return TFRS_OK;
}

/* Writes key k's bag into *buf (NUL-terminated); *len gets its length. */
static int bag_string(const bag_index *b, const col_t *item, uint32_t k, char sep, char **buf,
                      size_t *cap, size_t *len)
{
    size_t need = 1, o = 0;

    for (size_t j = b->start[k]; j < b->start[k + 1]; j++) {
        size_t l;
        (void)tfrs__strtab_at(&item->p, b->dist[j], &l);
        if (tfrs__add(need, l + 1, &need) < 0)
            return -1;
    }
    if (TFRS__GROW(*buf, *cap, need) < 0)
        return -1;
    for (size_t j = b->start[k]; j < b->start[k + 1]; j++) {
        size_t l;
        const char *s = tfrs__strtab_at(&item->p, b->dist[j], &l);
        if (o > 0)
            (*buf)[o++] = sep;
        memcpy(*buf + o, s, l);
        o += l;
    }
    (*buf)[o] = '\0';
    *len = o;
    return 0;
}

int tfrs_dataset_add_implicit_bags(tfrs_dataset *target, const char *new_column,
                                   const tfrs_dataset *source, const char *key_column,
                                   const char *item_column, char separator)
{
    static const char what[] = "tfrs_dataset_add_implicit_bags";
    const col_t *skey, *sitem, *tkey;
    bag_index b = { NULL, NULL, NULL };
    tfrs__strtab bags;
    uint32_t *ids = NULL, *tmap = NULL;
    char *buf = NULL;
    size_t cap = 0, tp, tn;
    int rc, dummy = 0;

    if (target == NULL || new_column == NULL || source == NULL || key_column == NULL ||
        item_column == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          target == NULL ? "target" : new_column == NULL ? "new_column"
                          : source == NULL ? "source" : key_column == NULL ? "key_column"
                          : "item_column");
    if (new_column[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "%s: empty column name", what);
    if (separator == '\0' || (unsigned char)separator >= 0x80)
        return tfrs__fail(TFRS_EINVAL, "%s: the separator must be an ASCII byte other than NUL "
                          "(got 0x%02x)", what, (unsigned)(unsigned char)separator);
    skey = get_column(source, key_column, TFRS_COLUMN_STRING, what, &dummy, "", &rc);
    if (skey == NULL)
        return rc;
    sitem = get_column(source, item_column, TFRS_COLUMN_STRING, what, &dummy, "", &rc);
    if (sitem == NULL)
        return rc;
    tkey = get_column(target, key_column, TFRS_COLUMN_STRING, what, &dummy, "", &rc);
    if (tkey == NULL)
        return rc;
    if (column_index(target, new_column) >= 0)
        return tfrs__fail(TFRS_EDUPLICATE, "%s: column \"%s\" exists", what, new_column);

    tfrs__strtab_init(&bags);
    tn = target->nrows;
    tp = tfrs__strtab_count(&tkey->p);
    rc = bag_index_build(&b, source, skey, sitem, separator, what);
    if (rc < 0)
        goto done;
    ids = tfrs__malloc((tn > 0 ? tn : 1) * sizeof(*ids));
    tmap = tfrs__malloc((tp > 0 ? tp : 1) * sizeof(*tmap));
    if (ids == NULL || tmap == NULL)
        goto nomem;
    for (size_t t = 0; t < tp; t++)
        tmap[t] = TFRS__STRTAB_NONE;
    /* In row order, so that the new pool is in order of first use; each
     * target key's bag is built and interned once. */
    for (size_t r = 0; r < tn; r++) {
        uint32_t t = tkey->ids[r];
        if (tmap[t] == TFRS__STRTAB_NONE) {
            uint32_t k = t;
            size_t len = 0;
            if (target != source) {
                size_t klen;
                const char *ks = tfrs__strtab_at(&tkey->p, t, &klen);
                k = tfrs__strtab_find(&skey->p, ks, klen);
            }
            if (k == TFRS__STRTAB_NONE) {
                if (TFRS__GROW(buf, cap, 1) < 0)
                    goto nomem;
                buf[0] = '\0';
            } else if (bag_string(&b, sitem, k, separator, &buf, &cap, &len) < 0) {
                goto nomem;
            }
            rc = table_status(tfrs__strtab_intern(&bags, buf, len, &tmap[t]));
            if (rc < 0)
                goto done;
        }
        ids[r] = tmap[t];
    }
    /* Everything is built: adding the column is the only change, and the
     * last step that can fail. */
    rc = add_column(target, new_column, TFRS_COLUMN_STRING);
    if (rc == 0) {
        col_t *c = &target->cols[target->ncols - 1];
        c->ids = ids;
        c->cap = tn > 0 ? tn : 1;
        c->p = bags;
        ids = NULL;
        tfrs__strtab_init(&bags);
    }
    goto done;
nomem:
    rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
done:
    bag_index_free(&b);
    tfrs__strtab_free(&bags);
    tfrs__free(ids);
    tfrs__free(tmap);
    tfrs__free(buf);
    return rc;
}
