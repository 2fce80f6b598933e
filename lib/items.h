/*
 * items.h - the item table of serving: each candidate's own features,
 * encoded once from a dataset, and the rows of the first layer they make.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * A model keeps at most one (model.h); rank.c registers it, looks the
 * candidates up in it and caches its projection.  Row r of the table is row
 * r of the dataset it was made from; its keys address its own side tables.
 */
#ifndef TFRS_ITEMS_H
#define TFRS_ITEMS_H

#include "util/common.h"
#include "util/strtab.h"
#include "feature.h"
#include "graph.h"
#include "graph_serve.h"

typedef struct tfrs__items {
    size_t         nfeat;      /* F, the features of the graph              */
    size_t         c;          /* the candidate feature                     */
    size_t         n;          /* rows (items), at most INT32_MAX           */
    size_t         nitem;      /* item features (c not counted)             */
    unsigned char *mask;       /* F: 1 for c and every item feature         */
    tfrs__strtab   ids;        /* candidate id -> row (string id = row)      */
    int32_t       *keys;       /* [n, F]; 0 where mask is 0                 */
    tfrs__encoded *enc;        /* F side tables (bags, numbers)             */
    tfrs__input   *in;         /* F views of enc                            */
    /* The serving cache of the table, built by rank under the model's
     * cache_lock: per row, the sum of its features' x0_f W1_f (and of
     * their biases), for the weights generation cache->gen. */
    tfrs__proj    *cache;
    float         *cache_wide; /* n floats, NULL without a wide part        */
} tfrs__items;

/* The item table of ds for candidate feature c of the built graph g (a
 * single-token STRING or HASHED feature, checked by the caller): ds needs
 * a string column named like c, one row per item with unique values; every
 * other feature whose name is a column of ds is an item feature, bound as
 * training binds it (tfrs__feature_bind).  TFRS_ENOTFOUND (c's column
 * missing or not of strings, an item column of the wrong type, a token a
 * vocabulary without OOV buckets does not know), TFRS_EDUPLICATE (an id
 * twice, named), TFRS_EINVAL (no rows, more than INT32_MAX, a number that
 * is not finite...), TFRS_ENOMEM.  Messages start with fn. */
int    tfrs__items_create(const tfrs__graph *g, size_t c, const tfrs_dataset *ds,
                          tfrs__items **out, const char *fn);
void   tfrs__items_free(tfrs__items *it);        /* NULL is a no-op */
/* The row of candidate id s, or SIZE_MAX. */
size_t tfrs__items_find(const tfrs__items *it, const char *s);
/* *proj (rows n, units of the first dense layer) and *wide (n floats, or
 * NULL without a wide part) for every row of the table: what
 * tfrs__graph_project_part gives for all of them.  TFRS_ENOMEM (message
 * starting with fn). */
int    tfrs__items_project(const tfrs__graph *g, const tfrs__items *it, tfrs__proj **proj,
                           float **wide, const char *fn);

#endif /* TFRS_ITEMS_H */
