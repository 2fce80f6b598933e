/*
 * items.c - the item table of serving (see items.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "items.h"

/* Rows per block when the whole table is projected. */
#define ITEMS_BLOCK 256

void tfrs__items_free(tfrs__items *it)
{
    if (it == NULL)
        return;
    tfrs__encoded_free_array(it->enc, it->nfeat);
    tfrs__free(it->in);
    tfrs__free(it->keys);
    tfrs__free(it->mask);
    tfrs__strtab_free(&it->ids);
    tfrs__proj_free(it->cache);
    tfrs__free(it->cache_wide);
    tfrs__free(it);
}

/* The ids of the rows of ds's column `name` into it->ids, row r as string
 * id r: TFRS_EDUPLICATE naming an id that comes twice. */
static int intern_ids(tfrs__items *it, const tfrs_dataset *ds, const char *name,
                      const uint32_t *col, const char *fn)
{
    for (size_t r = 0; r < it->n; r++) {
        const char *s;
        uint32_t id;
        int rc = tfrs_dataset_string(ds, name, col[r], &s);
        if (rc != TFRS_OK)
            return rc;
        rc = tfrs__strtab_intern(&it->ids, s, strlen(s), &id);
        if (rc == TFRS_ENOMEM)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
        if (rc != TFRS_OK)
            return tfrs__fail(rc, "%s: too many items", fn);
        if ((size_t)id != r)
            return tfrs__fail(TFRS_EDUPLICATE, "%s: item id '%s' is in rows %lu and %zu of the "
                              "item table", fn, s, (unsigned long)id, r);
    }
    return TFRS_OK;
}

int tfrs__items_create(const tfrs__graph *g, size_t c, const tfrs_dataset *ds,
                       tfrs__items **out, const char *fn)
{
    size_t F = g->nfeat, n = tfrs_dataset_num_rows(ds), nstr, cells, at;
    const char *cname = g->feat[c].name;
    const uint32_t *col;
    tfrs__items *it;
    int rc = TFRS_OK;

    *out = NULL;
    if (tfrs_dataset_string_ids(ds, cname, &col, &nstr) != TFRS_OK)
        return tfrs__fail(TFRS_ENOTFOUND, "%s: the item table has no string column '%s' (the "
                          "candidate ids)", fn, cname);
    if (n == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: the item table has no rows", fn);
    if (n > (size_t)INT32_MAX || tfrs__mul(n, F, &cells) < 0 ||
        cells > SIZE_MAX / sizeof(int32_t))
        return tfrs__fail(TFRS_EINVAL, "%s: the item table has too many rows (%zu)", fn, n);
    it = tfrs__calloc(1, sizeof(*it));
    if (it == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    it->nfeat = F;
    it->c = c;
    it->n = n;
    tfrs__strtab_init(&it->ids);
    it->mask = tfrs__calloc(F, 1);
    it->keys = tfrs__calloc(cells, sizeof(*it->keys));
    it->enc = tfrs__calloc(F, sizeof(*it->enc));
    it->in = tfrs__calloc(F, sizeof(*it->in));
    if (it->mask == NULL || it->keys == NULL || it->enc == NULL || it->in == NULL)
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", fn);
    for (size_t f = 0; f < F && rc == TFRS_OK; f++) {
        it->mask[f] = f == c || tfrs_dataset_find_column(ds, g->feat[f].name, &at) == TFRS_OK;
        it->nitem += f != c && it->mask[f];
        if (it->mask[f])
            rc = tfrs__feature_bind(&g->feat[f], ds, it->keys + f, F, &it->enc[f], fn);
        if (rc == TFRS_OK)
            it->in[f] = tfrs__encoded_input(&it->enc[f]);
    }
    if (rc == TFRS_OK)
        rc = intern_ids(it, ds, cname, col, fn);
    if (rc != TFRS_OK) {
        tfrs__items_free(it);
        return rc;
    }
    *out = it;
    return TFRS_OK;
}

size_t tfrs__items_find(const tfrs__items *it, const char *s)
{
    uint32_t id = tfrs__strtab_find(&it->ids, s, strlen(s));

    return id == TFRS__STRTAB_NONE ? SIZE_MAX : (size_t)id;
}

int tfrs__items_project(const tfrs__graph *g, const tfrs__items *it, tfrs__proj **proj,
                        float **wide, const char *fn)
{
    size_t U = g->layers[0].dense->out, cells, xcells;
    size_t block = it->n < ITEMS_BLOCK ? it->n : ITEMS_BLOCK;
    tfrs__proj *p = NULL;
    float *w = NULL, *x = NULL;

    *proj = NULL;
    *wide = NULL;
    if (tfrs__mul(it->n, U, &cells) < 0 || cells > SIZE_MAX / sizeof(float) || tfrs__mul(block, g->concat_dim, &xcells) < 0)
        return tfrs__fail(TFRS_ENOMEM, "%s: item cache too large", fn);
    p = tfrs__calloc(1, sizeof(*p));
    x = tfrs__calloc(xcells > 0 ? xcells : 1, sizeof(float));
    if (p != NULL)
        p->proj = tfrs__malloc(cells * sizeof(float));
    if (g->wide)
        w = tfrs__malloc(it->n * sizeof(float));
    if (p == NULL || p->proj == NULL || x == NULL || (g->wide && w == NULL)) {
        tfrs__proj_free(p);
        tfrs__free(w);
        tfrs__free(x);
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for the item cache", fn);
    }
    p->feature = it->c;
    p->rows = it->n;
    p->units = U;
    for (size_t i = 0; i < it->n; i += block) {
        size_t nb = it->n - i < block ? it->n - i : block;
        tfrs__graph_project_part(g, it->mask, it->keys + i * it->nfeat, it->in, NULL, nb, x,
                                 p->proj + i * U, w != NULL ? w + i : NULL);
    }
    tfrs__free(x);
    *proj = p;
    *wide = w;
    return TFRS_OK;
}
