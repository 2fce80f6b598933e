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

#include "util/alloc.h"
#include "util/common.h"
#include "util/number.h"
#include "util/rng.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dataset.h"
#include "vocab.h"

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

typedef struct col_t {
    char            *name;
    tfrs_column_type type;
    uint32_t        *ids;    /* string column: pool id per row             */
    float           *vals;   /* float column: value per row                */
    size_t           cap;    /* rows allocated in ids or vals              */
    pool             p;
} col_t;

struct tfrs_dataset {
    size_t  nrows;
    size_t  ncols, cols_cap;
    col_t *cols;
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
        col_t *c = &ds->cols[i];
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
    col_t *c;
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
        col_t *c = &ds->cols[i];
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
        const col_t *c = &ds->cols[i];
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
        col_t *c = &ds->cols[i];
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
        col_t *c = &ds->cols[i];
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
static const col_t *get_column(const tfrs_dataset *ds, const char *name,
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
    const col_t *c;
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
    const col_t *c;
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
    const col_t *c;
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
    const col_t *c;
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
        col_t *c = &ds->cols[i];
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
        rc = reserve_rows(s, count);
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
        /* Interning in row order gives the pool in order of first use. */
        for (size_t r = 0; r < count; r++) {
            uint32_t old = src->ids[start + r];
            size_t len;
            const char *str = pool_str(&src->p, old, &len);
            rc = pool_intern_h(&dst->p, str, len, src->p.hashes[old], &dst->ids[r]);
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

/* ---- text loaders: shared pieces ---------------------------------------- */

int tfrs_load_options_init(tfrs_load_options *opts, unsigned int version)
{
    if (opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_load_options_init: opts is NULL");
    if (version != TFRS_LOAD_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "tfrs_load_options_init: unknown version %u", version);
    memset(opts, 0, sizeof(*opts));
    opts->version = version;
    return TFRS_OK;
}

int tfrs_delimited_options_init(tfrs_delimited_options *opts, unsigned int version)
{
    if (opts == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_delimited_options_init: opts is NULL");
    if (version != TFRS_DELIMITED_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "tfrs_delimited_options_init: unknown version %u",
                          version);
    memset(opts, 0, sizeof(*opts));
    opts->version = version;
    opts->delimiter = ',';
    opts->float_columns = NULL;
    opts->num_float_columns = 0;
    return tfrs_load_options_init(&opts->load, TFRS_LOAD_OPTIONS_VERSION);
}

/* Reads a whole file into *out (NUL-terminated, *len bytes before the NUL). */
static int read_file(const char *path, char **out, size_t *out_len)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0, cap = 0, target = (size_t)1 << 16;
    long size = -1;
    int rc = TFRS_OK;

    *out = NULL;
    *out_len = 0;
    f = fopen(path, "rb");
    if (f == NULL)
        return tfrs__fail(TFRS_EIO, "%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    rewind(f);
    for (;;) {
        size_t n;
        if (cap - len < 2 || cap < target) {
            size_t ncap = cap < target ? target : cap * 2;
            char *p = cap > SIZE_MAX / 2 ? NULL : tfrs__realloc(buf, cap, ncap);
            if (p == NULL) {
                rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            buf = p;
            cap = ncap;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rc = tfrs__fail(TFRS_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        /* Once a read worked (a directory fails it), trust the size for one
         * exact allocation; still read until EOF. */
        if (size > 0 && (unsigned long)size > len && (unsigned long)size < SIZE_MAX - 2)
            target = (size_t)size + 2;
        size = -1;
    }
    if (rc < 0)
        goto done;
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    fclose(f);
    tfrs__free(buf);
    return rc;
}

typedef struct line_iter {
    char  *p, *end;
    char  *blank_end;   /* end of the last scanned run of empty lines */
    size_t lineno;      /* number of the line last returned           */
} line_iter;

static void lines_init(line_iter *it, char *buf, size_t len)
{
    it->p = buf;
    it->end = buf + len;
    it->blank_end = buf;
    it->lineno = 0;
}

/* Next line as [*s, *s + *n), without its "\n" or "\r\n".  Returns 0 at the
 * end of the text; empty lines followed only by empty lines end it too. */
static int next_line(line_iter *it, char **s, size_t *n)
{
    char *nl, *e;

    if (it->p >= it->end)
        return 0;
    nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    e = nl != NULL ? nl : it->end;
    *s = it->p;
    *n = (size_t)(e - it->p);
    if (*n > 0 && e[-1] == '\r')
        (*n)--;
    if (*n == 0) {
        if (it->blank_end <= it->p) {
            char *q = it->p;
            while (q < it->end && (*q == '\r' || *q == '\n'))
                q++;
            it->blank_end = q;
        }
        if (it->blank_end == it->end) {
            it->p = it->end;
            return 0;
        }
    }
    it->p = nl != NULL ? nl + 1 : it->end;
    it->lineno++;
    return 1;
}

/* Number of '\n' bytes plus one; eight bytes at a time. */
static size_t count_lines(const char *s, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, low7 = 0x7f7f7f7f7f7f7f7full;
    size_t n = 1;

    for (; end - s >= 8; s += 8) {
        uint64_t w, t;
        memcpy(&w, s, 8);
        w ^= ones * '\n';                     /* '\n' bytes become 0       */
        t = ((w & low7) + low7) | w;          /* high bit set iff byte != 0 */
        t = ~t & ~low7;                       /* high bit set iff byte == 0 */
        n += (size_t)(((t >> 7) * ones) >> 56);
    }
    for (; s < end; s++)
        n += *s == '\n';
    return n;
}

typedef struct field {
    char  *s;
    size_t n;
} field;

/* Splits s[0..n) at `delim`, storing the first maxf fields; returns how many
 * fields there are. */
static size_t split(char *s, size_t n, char delim, field *f, size_t maxf)
{
    char *end = s + n, *start = s;
    size_t count = 0;

    /* Fields are short: a byte loop beats a memchr call per field. */
    for (;; s++) {
        if (s == end || *s == delim) {
            if (count < maxf) {
                f[count].s = start;
                f[count].n = (size_t)(s - start);
            }
            count++;
            if (s == end)
                return count;
            start = s + 1;
        }
    }
}

typedef struct loader {
    const char *path;
    int         skip;
    size_t      bad;
} loader;

/* A malformed line: counted and skipped (returns 0) or TFRS_EPARSE with
 * "path:line: reason". */
static int bad_line(loader *ld, size_t lineno, const char *fmt, ...) TFRS__PRINTF(3, 4);
static int bad_line(loader *ld, size_t lineno, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (ld->skip) {
        ld->bad++;
        return 0;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return tfrs__fail(TFRS_EPARSE, "%s:%zu: %s", ld->path, lineno, msg);
}

/* Shown in messages: at most 40 bytes of a field. */
#define FIELD_FMT "\"%.*s\""
#define FIELD_ARG(f) (int)((f).n < 40 ? (f).n : 40), (f).s

/* Decimal digits only (no sign, no space), value <= max.  0, -1 if not an
 * integer, -2 if too large. */
static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    int range = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        if (i < 19) {               /* below 10^19: no uint64 overflow */
            x = x * 10 + d;
        } else if (!range) {
            if (x > (UINT64_MAX - d) / 10)
                range = 1;
            else
                x = x * 10 + d;
        }
    }
    if (range || x > max)
        return -2;
    *v = x;
    return 0;
}

/* A finite decimal number: [+-] digits [. digits] [(e|E) [+-] digits], with
 * at least one mantissa digit, at most TFRS__DECIMAL_MAX bytes. */
static int parse_float(char *s, size_t n, float *out)
{
    size_t i = 0, digits = 0;
    float v;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t edigits = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            edigits++;
        if (edigits == 0)
            return -1;
    }
    if (i != n)
        return -1;
    /* Locale-independent: '.' is the decimal point whatever LC_NUMERIC says. */
    if (tfrs__decimal_to_float(s, n, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *p = tfrs__malloc(a + (size_t)slash + b + 1);

    if (p != NULL) {
        memcpy(p, dir, a);
        if (slash)
            p[a] = '/';
        memcpy(p + a + slash, name, b + 1);
    }
    return p;
}

/* ---- MovieLens 100K ----------------------------------------------------- */

#define ML_MAX_ID      ((uint64_t)INT32_MAX)   /* ids are < 2^31 */
#define ML_ITEM_FIELDS 24                      /* id|title|3 dates/URL|19 genres */

/* Positive uint32 key -> uint32 value, open addressing with the pairs side
 * by side (one cache line per probe); key 0 marks an empty slot. */
typedef struct idmap {
    uint32_t *kv;       /* nslots pairs: key, value */
    size_t    nslots;   /* 0 or a power of two      */
    size_t    n;
} idmap;

/* The pair holding key, or the empty pair where it would go. */
static uint32_t *idmap_slot(const idmap *m, uint32_t key)
{
    size_t mask = m->nslots - 1, j = slot_of(key, mask);

    while (m->kv[2 * j] != 0 && m->kv[2 * j] != key)
        j = (j + 1) & mask;
    return &m->kv[2 * j];
}

/* Room for one more key (at most half full). */
static int idmap_reserve(idmap *m)
{
    size_t nslots = m->nslots == 0 ? 64 : m->nslots;
    idmap bigger;

    while (nslots / 2 < m->n + 1)
        nslots *= 2;
    if (nslots == m->nslots)
        return 0;
    bigger.kv = tfrs__calloc(nslots, 2 * sizeof(uint32_t));
    if (bigger.kv == NULL)
        return -1;
    bigger.nslots = nslots;
    bigger.n = m->n;
    for (size_t j = 0; j < m->nslots; j++) {
        if (m->kv[2 * j] != 0) {
            uint32_t *e = idmap_slot(&bigger, m->kv[2 * j]);
            e[0] = m->kv[2 * j];
            e[1] = m->kv[2 * j + 1];
        }
    }
    tfrs__free(m->kv);
    *m = bigger;
    return 0;
}

typedef struct ml_item {
    uint32_t movie_sid, title_sid;   /* pool ids once used, else NO_ID */
    size_t   title_off, title_len;   /* in the UTF-8 titles buffer     */
} ml_item;

struct tfrs__ml_items {
    ml_item *v;
    size_t   n;
    idmap    index;                  /* item id -> index into v        */
    char    *titles;
    size_t   tlen;
};
typedef struct tfrs__ml_items ml_items;

void tfrs__ml_items_free(ml_items *t)
{
    if (t == NULL)
        return;
    tfrs__free(t->v);
    tfrs__free(t->index.kv);
    tfrs__free(t->titles);
    tfrs__free(t);
}

size_t tfrs__ml_items_count(const ml_items *t)
{
    return t == NULL ? 0 : t->n;
}

static size_t utoa(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static int ml_parse_items(ml_items *t, char *buf, size_t len, loader *ld)
{
    size_t lines = count_lines(buf, buf + len), tcap;
    line_iter it;
    char *s;
    size_t n;
    int rc;

    t->v = tfrs__calloc(lines, sizeof(*t->v));
    /* Latin-1 -> UTF-8 at most doubles the bytes. */
    if (tfrs__mul(len, 2, &tcap) == 0)
        t->titles = tfrs__malloc(tcap);
    if (t->v == NULL || t->titles == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);

    lines_init(&it, buf, len);
    while (next_line(&it, &s, &n)) {
        field f[2];
        size_t nf;
        uint64_t id;
        uint32_t *e;
        ml_item *item;
        char *o;

        if (memchr(s, '\0', n) != NULL) {
            rc = bad_line(ld, it.lineno, "NUL byte");
        } else if ((nf = split(s, n, '|', f, 2)) != ML_ITEM_FIELDS) {
            rc = bad_line(ld, it.lineno, "expected %d '|'-separated fields, got %zu",
                          ML_ITEM_FIELDS, nf);
        } else if (parse_uint(f[0].s, f[0].n, ML_MAX_ID, &id) < 0 || id == 0) {
            rc = bad_line(ld, it.lineno, "bad item id " FIELD_FMT, FIELD_ARG(f[0]));
        } else if (idmap_reserve(&t->index) < 0) {
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        } else if ((e = idmap_slot(&t->index, (uint32_t)id))[0] != 0) {
            rc = bad_line(ld, it.lineno, "duplicate item id %u", (unsigned)id);
        } else {
            item = &t->v[t->n];
            item->movie_sid = item->title_sid = NO_ID;
            item->title_off = t->tlen;
            o = t->titles + t->tlen;
            for (size_t i = 0; i < f[1].n; i++) {
                unsigned char c = (unsigned char)f[1].s[i];
                if (c < 0x80) {
                    *o++ = (char)c;
                } else {
                    *o++ = (char)(0xC0 | (c >> 6));
                    *o++ = (char)(0x80 | (c & 0x3F));
                }
            }
            item->title_len = (size_t)(o - (t->titles + t->tlen));
            t->tlen += item->title_len;
            e[0] = (uint32_t)id;
            e[1] = (uint32_t)t->n++;
            t->index.n++;
            continue;
        }
        if (rc < 0)
            return rc;
    }
    return TFRS_OK;
}

enum { ML_USER, ML_MOVIE, ML_TITLE, ML_RATING, ML_TIME, ML_NCOLS };

/* What is wrong with a u.data line. */
enum { ML_OK, ML_FIELDS, ML_USER_ID, ML_ITEM_ID, ML_UNKNOWN, ML_RATING_VAL, ML_TIME_VAL };

static int ml_bad_rating(loader *ld, size_t lineno, int e, const char *s, size_t n,
                         const field *f, size_t nf, uint64_t id)
{
    /* A NUL byte explains any other failure. */
    if (memchr(s, '\0', n) != NULL)
        return bad_line(ld, lineno, "NUL byte");
    switch (e) {
    case ML_FIELDS:
        return bad_line(ld, lineno, "expected 4 tab-separated fields, got %zu", nf);
    case ML_USER_ID:
        return bad_line(ld, lineno, "bad user id " FIELD_FMT, FIELD_ARG(f[0]));
    case ML_ITEM_ID:
        return bad_line(ld, lineno, "bad item id " FIELD_FMT, FIELD_ARG(f[1]));
    case ML_UNKNOWN:
        return bad_line(ld, lineno, "item id %u is not in u.item", (unsigned)id);
    case ML_RATING_VAL:
        return bad_line(ld, lineno, "bad rating " FIELD_FMT " (want 1..5)", FIELD_ARG(f[2]));
    default:
        return bad_line(ld, lineno, "bad timestamp " FIELD_FMT, FIELD_ARG(f[3]));
    }
}

/* Fast path for a well-formed u.data line: four runs of 1..18 digits
 * separated by single tabs.  0 if the line is anything else (the careful
 * path then finds out what). */
static int ml_fast_line(const char *s, size_t n, uint64_t v[4])
{
    const char *p = s, *end = s + n;

    for (int k = 0; k < 4; k++) {
        const char *start = p;
        uint64_t x = 0;
        while (p < end && (unsigned)(unsigned char)*p - '0' <= 9) {
            x = x * 10 + (unsigned)(unsigned char)*p - '0';
            p++;
        }
        if (p == start || p - start > 18)
            return 0;
        v[k] = x;
        if (k < 3) {
            if (p == end || *p != '\t')
                return 0;
            p++;
        }
    }
    return p == end;
}

static int ml_parse_ratings(tfrs_dataset *ds, ml_items *t, idmap *users, char *buf,
                            size_t len, loader *ld)
{
    static const char *const names[ML_NCOLS] = {
        "user_id", "movie_id", "movie_title", "user_rating", "timestamp"
    };
    col_t *c;
    line_iter it;
    char *s;
    size_t n, reserved = count_lines(buf, buf + len);
    int rc = TFRS_OK;

    if (reserved > MAX_ROWS)
        reserved = MAX_ROWS;
    for (int k = 0; k < ML_NCOLS && rc == 0; k++)
        rc = add_column(ds, names[k], k < ML_RATING ? TFRS_COLUMN_STRING : TFRS_COLUMN_FLOAT);
    if (rc == 0)
        rc = reserve_rows(ds, reserved);
    if (rc < 0)
        return rc;
    c = ds->cols;

    lines_init(&it, buf, len);
    while (next_line(&it, &s, &n)) {
        field f[4];
        size_t nf = 4, r = ds->nrows;
        uint64_t user = 0, id = 0, rating = 0, ts = 0, v[4];
        char text[20];
        uint32_t *it_e = NULL, *us_e;
        ml_item *item;
        int e = ML_OK;

        if (ml_fast_line(s, n, v) && v[0] - 1 < ML_MAX_ID && v[1] - 1 < ML_MAX_ID &&
            v[2] - 1 < 5) {
            user = v[0];
            id = v[1];
            rating = v[2];
            ts = v[3];
            if (t->index.nslots == 0 || (it_e = idmap_slot(&t->index, (uint32_t)id))[0] == 0)
                e = ML_UNKNOWN;
        } else if ((nf = split(s, n, '\t', f, 4)) != 4)
            e = ML_FIELDS;
        else if (parse_uint(f[0].s, f[0].n, ML_MAX_ID, &user) < 0 || user == 0)
            e = ML_USER_ID;
        else if (parse_uint(f[1].s, f[1].n, ML_MAX_ID, &id) < 0 || id == 0)
            e = ML_ITEM_ID;
        else if (t->index.nslots == 0 || (it_e = idmap_slot(&t->index, (uint32_t)id))[0] == 0)
            e = ML_UNKNOWN;
        else if (parse_uint(f[2].s, f[2].n, 5, &rating) < 0 || rating == 0)
            e = ML_RATING_VAL;
        else if (parse_uint(f[3].s, f[3].n, UINT64_MAX, &ts) < 0)
            e = ML_TIME_VAL;
        if (e != ML_OK) {
            rc = ml_bad_rating(ld, it.lineno, e, s, n, f, nf, id);
            if (rc < 0)
                return rc;
            continue;
        }
        item = &t->v[it_e[1]];
        if (r >= reserved) {
            if (r >= MAX_ROWS)
                return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", ld->path, MAX_ROWS);
            reserved = r + 1;
            rc = reserve_rows(ds, reserved);
            if (rc < 0)
                return rc;
        }
        /* Users through an integer map to their pool id; ids are written
         * as canonical decimal text ("007" -> "7"). */
        if (idmap_reserve(users) < 0)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        us_e = idmap_slot(users, (uint32_t)user);
        if (us_e[0] == 0) {
            rc = pool_intern(&c[ML_USER].p, text, utoa(user, text), &us_e[1]);
            if (rc < 0)
                return rc;
            us_e[0] = (uint32_t)user;
            users->n++;
        }
        c[ML_USER].ids[r] = us_e[1];
        if (rc == 0 && item->movie_sid == NO_ID)
            rc = pool_intern(&c[ML_MOVIE].p, text, utoa(id, text), &item->movie_sid);
        if (rc == 0 && item->title_sid == NO_ID)
            rc = pool_intern(&c[ML_TITLE].p, t->titles + item->title_off, item->title_len,
                             &item->title_sid);
        if (rc < 0)
            return rc;
        c[ML_MOVIE].ids[r] = item->movie_sid;
        c[ML_TITLE].ids[r] = item->title_sid;
        c[ML_RATING].vals[r] = (float)rating;
        c[ML_TIME].vals[r] = (float)ts;
        ds->nrows = r + 1;
    }
    return TFRS_OK;
}

/* u.item text -> a new *out.  The loader's path names the text in messages. */
static int ml_items_load(ml_items **out, char *buf, size_t len, loader *ld)
{
    ml_items *t = tfrs__calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
    rc = ml_parse_items(t, buf, len, ld);
    if (rc < 0) {
        tfrs__ml_items_free(t);
        return rc;
    }
    *out = t;
    return TFRS_OK;
}

/* u.data text joined with the items -> a new dataset *out. */
static int ml_ratings_load(tfrs_dataset **out, ml_items *t, char *buf, size_t len, loader *ld)
{
    tfrs_dataset *ds = NULL;
    idmap users;
    int rc;

    *out = NULL;
    memset(&users, 0, sizeof(users));
    /* The pool ids cached in the items belong to one dataset. */
    for (size_t i = 0; i < t->n; i++)
        t->v[i].movie_sid = t->v[i].title_sid = NO_ID;
    rc = tfrs_dataset_create(&ds);
    if (rc == 0)
        rc = ml_parse_ratings(ds, t, &users, buf, len, ld);
    tfrs__free(users.kv);
    if (rc < 0) {
        tfrs_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return TFRS_OK;
}

static int load_options_check(const tfrs_load_options *opts, const char *what)
{
    if (opts != NULL && (opts->version == 0 || opts->version > TFRS_LOAD_OPTIONS_VERSION))
        return tfrs__fail(TFRS_EINVAL, "%s: unknown options version %u", what, opts->version);
    return TFRS_OK;
}

/* Checks the arguments of a buffer entry point and makes the writable,
 * NUL-terminated copy of buf[0..len) that the parsers expect (as read_file
 * gives). */
static int buffer_begin(const void *out, const char *buf, size_t len, const char *name,
                        const char *what, char **copy)
{
    size_t cap;

    *copy = NULL;
    if (out == NULL || name == NULL || (buf == NULL && len > 0))
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          out == NULL ? "out" : name == NULL ? "name" : "buf");
    if (tfrs__add(len, 1, &cap) < 0 || (*copy = tfrs__malloc(cap)) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", name);
    if (len > 0)
        memcpy(*copy, buf, len);
    (*copy)[len] = '\0';
    return TFRS_OK;
}

int tfrs__parse_items(tfrs__ml_items **out, const char *buf, size_t len, const char *name,
                      tfrs_load_options *opts)
{
    static const char what[] = "tfrs__parse_items";
    loader ld = { name, opts != NULL && opts->skip_bad_lines, 0 };
    char *copy;
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = load_options_check(opts, what);
    if (rc == 0)
        rc = buffer_begin(out, buf, len, name, what, &copy);
    if (rc < 0)
        return rc;
    rc = ml_items_load(out, copy, len, &ld);
    if (opts != NULL)
        opts->bad_lines = ld.bad;
    tfrs__free(copy);
    return rc;
}

int tfrs__parse_ratings(tfrs_dataset **out, tfrs__ml_items *items, const char *buf, size_t len,
                        const char *name, tfrs_load_options *opts)
{
    static const char what[] = "tfrs__parse_ratings";
    loader ld = { name, opts != NULL && opts->skip_bad_lines, 0 };
    char *copy;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (items == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: items is NULL", what);
    rc = load_options_check(opts, what);
    if (rc == 0)
        rc = buffer_begin(out, buf, len, name, what, &copy);
    if (rc < 0)
        return rc;
    rc = ml_ratings_load(out, items, copy, len, &ld);
    if (opts != NULL)
        opts->bad_lines = ld.bad;
    tfrs__free(copy);
    return rc;
}

int tfrs_dataset_load_movielens(tfrs_dataset **out, const char *dir, tfrs_load_options *opts)
{
    static const char what[] = "tfrs_dataset_load_movielens";
    char *item_path = NULL, *data_path = NULL, *buf = NULL;
    ml_items *items = NULL;
    loader ld = { NULL, 0, 0 };
    size_t len;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (dir == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: dir is NULL", what);
    rc = load_options_check(opts, what);
    if (rc < 0)
        return rc;
    ld.skip = opts != NULL && opts->skip_bad_lines;

    item_path = join_path(dir, "u.item");
    data_path = join_path(dir, "u.data");
    if (item_path == NULL || data_path == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
        goto done;
    }
    rc = read_file(item_path, &buf, &len);
    if (rc < 0)
        goto done;
    ld.path = item_path;
    rc = ml_items_load(&items, buf, len, &ld);
    tfrs__free(buf);
    buf = NULL;
    if (rc < 0)
        goto done;
    rc = read_file(data_path, &buf, &len);
    if (rc < 0)
        goto done;
    ld.path = data_path;
    rc = ml_ratings_load(out, items, buf, len, &ld);
done:
    if (opts != NULL)
        opts->bad_lines = ld.bad;
    tfrs__ml_items_free(items);
    tfrs__free(buf);
    tfrs__free(item_path);
    tfrs__free(data_path);
    return rc;
}

/* ---- delimited text ----------------------------------------------------- */

static int delimited_options(const tfrs_delimited_options *opts, const char *what)
{
    if (opts->version == 0 || opts->version > TFRS_DELIMITED_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown options version %u", what, opts->version);
    if (opts->delimiter == '\0' || opts->delimiter == '\n' || opts->delimiter == '\r')
        return tfrs__fail(TFRS_EINVAL, "%s: the delimiter cannot be NUL, CR or LF", what);
    if (opts->num_float_columns > 0 && opts->float_columns == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: float_columns is NULL", what);
    for (size_t i = 0; i < opts->num_float_columns; i++)
        if (opts->float_columns[i] == NULL)
            return tfrs__fail(TFRS_EINVAL, "%s: float_columns[%zu] is NULL", what, i);
    return TFRS_OK;
}

/* Reads the header: creates the columns of ds; *fields gets room for one
 * line's fields and *is_float one flag per column. */
static int delimited_header(tfrs_dataset *ds, line_iter *it, const tfrs_delimited_options *o,
                            loader *ld, field **fields, unsigned char **is_float)
{
    pool names;
    field *f;
    char *s;
    size_t n, ncols;
    int rc = TFRS_OK;

    memset(&names, 0, sizeof(names));
    if (!next_line(it, &s, &n))
        return tfrs__fail(TFRS_EPARSE, "%s:1: missing header line", ld->path);
    if (memchr(s, '\0', n) != NULL)
        return tfrs__fail(TFRS_EPARSE, "%s:1: NUL byte", ld->path);
    ncols = split(s, n, o->delimiter, NULL, 0);
    *fields = f = tfrs__calloc(ncols, sizeof(*f));
    *is_float = tfrs__calloc(ncols, 1);
    if (f == NULL || *is_float == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
    split(s, n, o->delimiter, f, ncols);
    /* The names pool detects duplicates and gives NUL-terminated names. */
    for (size_t k = 0; k < ncols && rc == 0; k++) {
        uint32_t id;
        if (f[k].n == 0)
            rc = tfrs__fail(TFRS_EPARSE, "%s:1: column %zu has an empty name", ld->path, k + 1);
        else if (!tfrs__utf8_valid(f[k].s, f[k].n))
            rc = tfrs__fail(TFRS_EPARSE, "%s:1: column %zu name is not valid UTF-8",
                            ld->path, k + 1);
        else if ((rc = pool_intern(&names, f[k].s, f[k].n, &id)) == 0 && id != k)
            rc = tfrs__fail(TFRS_EPARSE, "%s:1: duplicate column name " FIELD_FMT, ld->path,
                            FIELD_ARG(f[k]));
    }
    for (size_t i = 0; i < o->num_float_columns && rc == 0; i++) {
        const char *name = o->float_columns[i];
        size_t len = strlen(name), slot;
        uint32_t id = pool_find(&names, name, len, tfrs__fnv1a64(name, len), &slot);
        if (id == NO_ID)
            rc = tfrs__fail(TFRS_ENOTFOUND, "%s: float column \"%s\" is not in the header",
                            ld->path, name);
        else
            (*is_float)[id] = 1;
    }
    for (size_t k = 0; k < ncols && rc == 0; k++)
        rc = add_column(ds, pool_str(&names, (uint32_t)k, NULL),
                        (*is_float)[k] ? TFRS_COLUMN_FLOAT : TFRS_COLUMN_STRING);
    pool_free(&names);
    return rc;
}

/* Parses one data line into a new row; 0 also when the line was skipped. */
static int delimited_row(tfrs_dataset *ds, char *s, size_t n, size_t lineno, char delim,
                         field *f, const unsigned char *is_float, loader *ld)
{
    size_t ncols = ds->ncols, nf, r = ds->nrows;
    int rc;

    if (memchr(s, '\0', n) != NULL)
        return bad_line(ld, lineno, "NUL byte");
    nf = split(s, n, delim, f, ncols);
    if (nf != ncols)
        return bad_line(ld, lineno, "expected %zu fields, got %zu", ncols, nf);
    if (r >= MAX_ROWS)
        return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", ld->path, MAX_ROWS);
    rc = reserve_rows(ds, r + 1);
    if (rc < 0)
        return rc;
    /* Validate the whole line (floats land in row r, not yet counted),
     * then intern its strings. */
    for (size_t k = 0; k < ncols; k++) {
        col_t *c = &ds->cols[k];
        if (is_float[k] && parse_float(f[k].s, f[k].n, &c->vals[r]) < 0)
            return bad_line(ld, lineno, "column \"%s\": " FIELD_FMT
                            " is not a finite decimal number", c->name, FIELD_ARG(f[k]));
        if (!is_float[k] && !tfrs__utf8_valid(f[k].s, f[k].n))
            return bad_line(ld, lineno, "column \"%s\": invalid UTF-8", c->name);
    }
    for (size_t k = 0; k < ncols && rc == 0; k++) {
        col_t *c = &ds->cols[k];
        if (!is_float[k])
            rc = pool_intern(&c->p, f[k].s, f[k].n, &c->ids[r]);
    }
    if (rc < 0)
        return rc;
    ds->nrows = r + 1;
    return TFRS_OK;
}

/* Header, then rows: buf[0..len) -> a new dataset *out. */
static int delimited_load(tfrs_dataset **out, char *buf, size_t len,
                          const tfrs_delimited_options *o, loader *ld)
{
    tfrs_dataset *ds = NULL;
    field *f = NULL;
    unsigned char *is_float = NULL;
    line_iter it;
    char *s;
    size_t n;
    int rc;

    rc = tfrs_dataset_create(&ds);
    if (rc < 0)
        return rc;
    lines_init(&it, buf, len);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        it.p += 3;  /* UTF-8 byte order mark */
    rc = delimited_header(ds, &it, o, ld, &f, &is_float);
    if (rc == 0)
        rc = reserve_rows(ds, count_lines(it.p, it.end));
    while (rc == 0 && next_line(&it, &s, &n))
        rc = delimited_row(ds, s, n, it.lineno, o->delimiter, f, is_float, ld);
    tfrs__free(f);
    tfrs__free(is_float);
    if (rc < 0) {
        tfrs_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return TFRS_OK;
}

/* The options of a delimited entry point (NULL: defaults) into *o. */
static int delimited_begin(const tfrs_delimited_options *opts, tfrs_delimited_options *o,
                           const char *what)
{
    if (opts == NULL)
        tfrs_delimited_options_init(o, TFRS_DELIMITED_OPTIONS_VERSION);
    else
        *o = *opts;
    return delimited_options(o, what);
}

int tfrs_dataset_load_delimited(tfrs_dataset **out, const char *path,
                                tfrs_delimited_options *opts)
{
    static const char what[] = "tfrs_dataset_load_delimited";
    tfrs_delimited_options o;
    char *buf = NULL;
    size_t len;
    loader ld = { NULL, 0, 0 };
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (path == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: path is NULL", what);
    rc = delimited_begin(opts, &o, what);
    if (rc < 0)
        return rc;
    ld.path = path;
    ld.skip = o.load.skip_bad_lines;

    rc = read_file(path, &buf, &len);
    if (rc == 0)
        rc = delimited_load(out, buf, len, &o, &ld);
    if (opts != NULL)
        opts->load.bad_lines = ld.bad;
    tfrs__free(buf);
    return rc;
}

int tfrs__load_delimited_buffer(tfrs_dataset **out, const char *buf, size_t len,
                                const char *name, tfrs_delimited_options *opts)
{
    static const char what[] = "tfrs__load_delimited_buffer";
    tfrs_delimited_options o;
    char *copy;
    loader ld = { name, 0, 0 };
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = delimited_begin(opts, &o, what);
    if (rc == 0)
        rc = buffer_begin(out, buf, len, name, what, &copy);
    if (rc < 0)
        return rc;
    ld.skip = o.load.skip_bad_lines;
    rc = delimited_load(out, copy, len, &o, &ld);
    if (opts != NULL)
        opts->load.bad_lines = ld.bad;
    tfrs__free(copy);
    return rc;
}
