/*
 * dataset.h - the column store and its text loaders (private part).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_DATASET_H
#define TFRS_DATASET_H

#include "util/common.h"

/* The file loaders read their files and run the same code as these.  `name`
 * stands for the file in messages ("name:line: reason"); buf need not be
 * NUL-terminated (it is copied).  opts as for the file loaders; bad_lines
 * counts the lines skipped by that one call. */
typedef struct tfrs__ml_items tfrs__ml_items;   /* parsed u.item */
int    tfrs__parse_items(tfrs__ml_items **out, const char *buf, size_t len, const char *name,
                         tfrs_load_options *opts);
size_t tfrs__ml_items_count(const tfrs__ml_items *items);
void   tfrs__ml_items_free(tfrs__ml_items *items);     /* NULL is a no-op */
/* u.data joined with items (which caches pool ids: one call at a time). */
int    tfrs__parse_ratings(tfrs_dataset **out, tfrs__ml_items *items, const char *buf,
                           size_t len, const char *name, tfrs_load_options *opts);
int    tfrs__load_delimited_buffer(tfrs_dataset **out, const char *buf, size_t len,
                                   const char *name, tfrs_delimited_options *opts);

#endif /* TFRS_DATASET_H */
