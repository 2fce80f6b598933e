/*
 * dataset.c - column store with interned string columns, and text loaders.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * A string column keeps a pool of its distinct values (bytes back to back,
 * each NUL-terminated, with n + 1 offsets and the 64-bit hash of each) and an
 * open-addressing table from bytes to pool id; rows hold uint32 pool ids.
 * A float column holds one float per row.  Rows are limited to 2^32 - 1 so
 * that row permutations fit uint32.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_ROWS    ((size_t)UINT32_MAX)
#define MAX_STRINGS (UINT32_MAX - 1)   /* slot values are id + 1 */
#define NO_ID       UINT32_MAX

/* tfrs__grow through a void * temporary (no punning of the pointer's type). */
#define GROW(ptr, cap, need, rc)                                         \
    do {                                                                 \
        void *grow_tmp_ = (ptr);                                         \
        (rc) = tfrs__grow(&grow_tmp_, &(cap), (need), sizeof(*(ptr)));   \
        (ptr) = grow_tmp_;                                               \
    } while (0)

typedef struct pool {
    char     *bytes;      /* strings, each NUL-terminated                  */
    size_t    len, cap;
    size_t   *offs;       /* n + 1 offsets into bytes                      */
    size_t    offs_cap;
    uint64_t *hashes;     /* n                                             */
    size_t    hashes_cap;
    uint32_t  n;
    uint32_t *slots;      /* pool id + 1; 0 = empty; at most half full     */
    size_t    nslots;     /* 0 or a power of two                           */
} pool;

typedef struct column {
    char            *name;
    tfrs_column_type type;
    uint32_t        *ids;    /* string column: pool id per row             */
    float           *vals;   /* float column: value per row                */
    size_t           cap;    /* rows allocated in ids or vals              */
    pool             p;
} column;

struct tfrs_dataset {
    size_t  nrows;
    size_t  ncols, cols_cap;
    column *cols;
    size_t  nstr, nflt;      /* columns of each type                       */
};

_Static_assert(sizeof(float) == sizeof(uint32_t), "shuffle shares one scratch buffer");

static const uint32_t empty_ids[1];
static const float    empty_vals[1];

/* ---- string pools ------------------------------------------------------- */

static size_t slot_of(uint64_t h, size_t mask)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h & mask;
}

static void pool_free(pool *p)
{
    tfrs__free(p->bytes);
    tfrs__free(p->offs);
    tfrs__free(p->hashes);
    tfrs__free(p->slots);
    memset(p, 0, sizeof(*p));
}

static const char *pool_str(const pool *p, uint32_t id, size_t *len)
{
    if (len != NULL)
        *len = p->offs[id + 1] - p->offs[id] - 1;
    return p->bytes + p->offs[id];
}

/* Pool id of s[0..len) or NO_ID; *slot gets the slot where the probe ended. */
static uint32_t pool_find(const pool *p, const char *s, size_t len, uint64_t h, size_t *slot)
{
    size_t mask = p->nslots - 1, j;

    if (p->nslots == 0)
        return NO_ID;
    for (j = slot_of(h, mask); p->slots[j] != 0; j = (j + 1) & mask) {
        uint32_t id = p->slots[j] - 1;
        if (p->hashes[id] == h && p->offs[id + 1] - p->offs[id] - 1 == len &&
            memcmp(p->bytes + p->offs[id], s, len) == 0) {
            *slot = j;
            return id;
        }
    }
    *slot = j;
    return NO_ID;
}

static int pool_rehash(pool *p, size_t nslots)
{
    uint32_t *slots = tfrs__calloc(nslots, sizeof(*slots));

    if (slots == NULL)
        return -1;
    for (uint32_t id = 0; id < p->n; id++) {
        size_t j = slot_of(p->hashes[id], nslots - 1);
        while (slots[j] != 0)
            j = (j + 1) & (nslots - 1);
        slots[j] = id + 1;
    }
    tfrs__free(p->slots);
    p->slots = slots;
    p->nslots = nslots;
    return 0;
}

/* Makes room for one more string of len bytes, so that the next insertion
 * cannot fail.  Sets the error message. */
static int pool_reserve(pool *p, size_t len)
{
    size_t need, nslots;
    int rc;

    if (p->n >= MAX_STRINGS)
        return tfrs__fail(TFRS_ERANGE, "dataset: more than %u distinct strings in a column",
                          (unsigned)MAX_STRINGS);
    if (tfrs__add(p->len, len, &need) < 0 || tfrs__add(need, 1, &need) < 0)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    GROW(p->bytes, p->cap, need, rc);
    if (rc == 0)
        GROW(p->offs, p->offs_cap, (size_t)p->n + 2, rc);
    if (rc == 0)
        GROW(p->hashes, p->hashes_cap, (size_t)p->n + 1, rc);
    if (rc < 0)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    p->offs[p->n] = p->len;
    nslots = p->nslots == 0 ? 16 : p->nslots;
    while (nslots / 2 < (size_t)p->n + 1)
        nslots *= 2;
    if (nslots != p->nslots && pool_rehash(p, nslots) < 0)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    return TFRS_OK;
}

/* Interns s[0..len) whose hash is h; *id gets its pool id.  Cannot fail
 * when the string exists or pool_reserve(p, len) succeeded since the last
 * insertion. */
static int pool_intern_h(pool *p, const char *s, size_t len, uint64_t h, uint32_t *id)
{
    size_t slot;
    int rc;

    *id = pool_find(p, s, len, h, &slot);
    if (*id != NO_ID)
        return TFRS_OK;
    if (p->nslots / 2 < (size_t)p->n + 1 || p->cap - p->len < len + 1 ||
        p->offs_cap < (size_t)p->n + 2 || p->hashes_cap < (size_t)p->n + 1) {
        rc = pool_reserve(p, len);
        if (rc < 0)
            return rc;
        pool_find(p, s, len, h, &slot);
    }
    memcpy(p->bytes + p->len, s, len);
    p->bytes[p->len + len] = '\0';
    p->len += len + 1;
    p->hashes[p->n] = h;
    p->offs[p->n] = p->len - len - 1;
    p->offs[p->n + 1] = p->len;
    p->slots[slot] = p->n + 1;
    *id = p->n++;
    return TFRS_OK;
}

static int pool_intern(pool *p, const char *s, size_t len, uint32_t *id)
{
    return pool_intern_h(p, s, len, tfrs__fnv1a64(s, len), id);
}

/* ---- dataset basics ----------------------------------------------------- */

int tfrs_dataset_create(tfrs_dataset **out)
{
    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dataset_create: out is NULL");
    *out = tfrs__calloc(1, sizeof(**out));
    if (*out == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_dataset_create: out of memory");
    return TFRS_OK;
}

void tfrs_dataset_free(tfrs_dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t i = 0; i < ds->ncols; i++) {
        column *c = &ds->cols[i];
        tfrs__free(c->name);
        tfrs__free(c->ids);
        tfrs__free(c->vals);
        pool_free(&c->p);
    }
    tfrs__free(ds->cols);
    tfrs__free(ds);
}

static ptrdiff_t column_index(const tfrs_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->ncols; i++)
        if (strcmp(ds->cols[i].name, name) == 0)
            return (ptrdiff_t)i;
    return -1;
}

/* Adds a column without checking the state (callers do). */
static int add_column(tfrs_dataset *ds, const char *name, tfrs_column_type type)
{
    column *c;
    int rc;

    GROW(ds->cols, ds->cols_cap, ds->ncols + 1, rc);
    if (rc < 0)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    c = &ds->cols[ds->ncols];
    memset(c, 0, sizeof(*c));
    c->name = tfrs__strdup(name);
    if (c->name == NULL)
        return tfrs__fail(TFRS_ENOMEM, "dataset: out of memory");
    c->type = type;
    ds->ncols++;
    if (type == TFRS_COLUMN_STRING)
        ds->nstr++;
    else
        ds->nflt++;
    return TFRS_OK;
}

int tfrs_dataset_add_column(tfrs_dataset *ds, const char *name, tfrs_column_type type)
{
    static const char what[] = "tfrs_dataset_add_column";

    if (ds == NULL || name == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, ds == NULL ? "ds" : "name");
    if (name[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "%s: empty column name", what);
    if (type != TFRS_COLUMN_STRING && type != TFRS_COLUMN_FLOAT)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown column type %d", what, (int)type);
    if (ds->nrows > 0)
        return tfrs__fail(TFRS_ESTATE, "%s: the dataset already has rows", what);
    if (column_index(ds, name) >= 0)
        return tfrs__fail(TFRS_EDUPLICATE, "%s: column \"%s\" exists", what, name);
    return add_column(ds, name, type);
}

/* Room for `need` rows in every column. */
static int reserve_rows(tfrs_dataset *ds, size_t need)
{
    int rc = 0;

    for (size_t i = 0; i < ds->ncols && rc == 0; i++) {
        column *c = &ds->cols[i];
        if (c->type == TFRS_COLUMN_STRING)
            GROW(c->ids, c->cap, need, rc);
        else
            GROW(c->vals, c->cap, need, rc);
    }
    return rc < 0 ? tfrs__fail(TFRS_ENOMEM, "dataset: out of memory") : TFRS_OK;
}

int tfrs_dataset_append(tfrs_dataset *ds, const char *const *strings, const float *floats)
{
    static const char what[] = "tfrs_dataset_append";
    size_t k = 0, j = 0;
    int rc;

    if (ds == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: ds is NULL", what);
    if (ds->ncols == 0)
        return tfrs__fail(TFRS_ESTATE, "%s: the dataset has no columns", what);
    if ((ds->nstr > 0 && strings == NULL) || (ds->nflt > 0 && floats == NULL))
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          ds->nstr > 0 && strings == NULL ? "strings" : "floats");
    if (ds->nrows >= MAX_ROWS)
        return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", what, MAX_ROWS);
    /* Validate everything, then reserve, then commit: a failure leaves the
     * dataset as it was. */
    for (size_t i = 0; i < ds->ncols; i++) {
        const column *c = &ds->cols[i];
        if (c->type == TFRS_COLUMN_STRING) {
            const char *s = strings[k++];
            if (s == NULL)
                return tfrs__fail(TFRS_EINVAL, "%s: value of \"%s\" is NULL", what, c->name);
            if (!tfrs__utf8_valid(s, strlen(s)))
                return tfrs__fail(TFRS_EINVAL, "%s: value of \"%s\" is not valid UTF-8", what,
                                  c->name);
        } else if (!isfinite(floats[j++])) {
            return tfrs__fail(TFRS_EINVAL, "%s: value of \"%s\" is not finite", what, c->name);
        }
    }
    rc = reserve_rows(ds, ds->nrows + 1);
    if (rc < 0)
        return rc;
    k = 0;
    for (size_t i = 0; i < ds->ncols; i++) {
        column *c = &ds->cols[i];
        size_t len, slot;
        if (c->type != TFRS_COLUMN_STRING)
            continue;
        len = strlen(strings[k]);
        if (pool_find(&c->p, strings[k], len, tfrs__fnv1a64(strings[k], len), &slot) == NO_ID) {
            rc = pool_reserve(&c->p, len);
            if (rc < 0)
                return rc;
        }
        k++;
    }
    k = 0;
    j = 0;
    for (size_t i = 0; i < ds->ncols; i++) {
        column *c = &ds->cols[i];
        if (c->type == TFRS_COLUMN_STRING) {
            const char *s = strings[k++];
            rc = pool_intern(&c->p, s, strlen(s), &c->ids[ds->nrows]);
            (void)rc;   /* reserved above: cannot fail */
        } else {
            c->vals[ds->nrows] = floats[j++];
        }
    }
    ds->nrows++;
    return TFRS_OK;
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

/* The named column of the given type, or NULL with the status in *rc. */
static const column *get_column(const tfrs_dataset *ds, const char *name,
                                tfrs_column_type type, const char *what, int *rc)
{
    ptrdiff_t i;

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
                         type == TFRS_COLUMN_STRING ? "string" : "float");
        return NULL;
    }
    *rc = TFRS_OK;
    return &ds->cols[i];
}

int tfrs_dataset_string_ids(const tfrs_dataset *ds, const char *column, const uint32_t **ids,
                            size_t *num_strings)
{
    static const char what[] = "tfrs_dataset_string_ids";
    const struct column *c;
    int rc;

    if (ids == NULL || num_strings == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          ids == NULL ? "ids" : "num_strings");
    c = get_column(ds, column, TFRS_COLUMN_STRING, what, &rc);
    if (c == NULL)
        return rc;
    *ids = c->ids != NULL ? c->ids : empty_ids;
    *num_strings = c->p.n;
    return TFRS_OK;
}

int tfrs_dataset_string(const tfrs_dataset *ds, const char *column, uint32_t id,
                        const char **value)
{
    static const char what[] = "tfrs_dataset_string";
    const struct column *c;
    int rc;

    if (value == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: value is NULL", what);
    c = get_column(ds, column, TFRS_COLUMN_STRING, what, &rc);
    if (c == NULL)
        return rc;
    if (id >= c->p.n)
        return tfrs__fail(TFRS_ERANGE, "%s: id %u out of range [0, %u) in \"%s\"", what,
                          (unsigned)id, (unsigned)c->p.n, column);
    *value = pool_str(&c->p, id, NULL);
    return TFRS_OK;
}

int tfrs_dataset_get_string(const tfrs_dataset *ds, const char *column, size_t row,
                            const char **value)
{
    static const char what[] = "tfrs_dataset_get_string";
    const struct column *c;
    int rc;

    if (value == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: value is NULL", what);
    c = get_column(ds, column, TFRS_COLUMN_STRING, what, &rc);
    if (c == NULL)
        return rc;
    if (row >= ds->nrows)
        return tfrs__fail(TFRS_ERANGE, "%s: row %zu out of range [0, %zu)", what, row,
                          ds->nrows);
    *value = pool_str(&c->p, c->ids[row], NULL);
    return TFRS_OK;
}

int tfrs_dataset_floats(const tfrs_dataset *ds, const char *column, const float **values)
{
    static const char what[] = "tfrs_dataset_floats";
    const struct column *c;
    int rc;

    if (values == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: values is NULL", what);
    c = get_column(ds, column, TFRS_COLUMN_FLOAT, what, &rc);
    if (c == NULL)
        return rc;
    *values = c->vals != NULL ? c->vals : empty_vals;
    return TFRS_OK;
}

int tfrs_dataset_shuffle(tfrs_dataset *ds, uint64_t seed)
{
    uint32_t *perm = NULL;
    void *scratch = NULL;
    tfrs__rng r;
    size_t n, scap;

    if (ds == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_dataset_shuffle: ds is NULL");
    n = ds->nrows;
    if (n < 2)
        return TFRS_OK;
    perm = tfrs__calloc(n, sizeof(*perm));
    scratch = tfrs__calloc(n, 4);   /* uint32 ids and floats are both 4 bytes */
    scap = n;
    if (perm == NULL || scratch == NULL) {
        tfrs__free(perm);
        tfrs__free(scratch);
        return tfrs__fail(TFRS_ENOMEM, "tfrs_dataset_shuffle: out of memory");
    }
    tfrs__rng_seed(&r, seed, 0);
    tfrs__rng_permutation(&r, perm, n);
    /* Row i of the result is old row perm[i].  Each column's gathered copy
     * replaces it and its old array becomes the next scratch buffer. */
    for (size_t i = 0; i < ds->ncols; i++) {
        column *c = &ds->cols[i];
        size_t t = c->cap;
        void *old;
        if (c->type == TFRS_COLUMN_STRING) {
            uint32_t *dst = scratch;
            for (size_t k = 0; k < n; k++)
                dst[k] = c->ids[perm[k]];
            old = c->ids;
            c->ids = dst;
        } else {
            float *dst = scratch;
            for (size_t k = 0; k < n; k++)
                dst[k] = c->vals[perm[k]];
            old = c->vals;
            c->vals = dst;
        }
        scratch = old;
        c->cap = scap;
        scap = t;
    }
    tfrs__free(scratch);
    tfrs__free(perm);
    return TFRS_OK;
}
