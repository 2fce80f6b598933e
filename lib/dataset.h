/*
 * dataset.h - the column store (private part; the API is in tfrsc.h): what
 * the text loaders need to fill a dataset without reaching into it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_DATASET_H
#define TFRS_DATASET_H

#include "util/common.h"

/* Rows are limited so that row permutations fit uint32. */
#define TFRS__DATASET_MAX_ROWS ((size_t)UINT32_MAX)

/* Room for `need` rows in every column (the columns must all exist).  Sets
 * the message. */
int  tfrs__dataset_reserve_rows(tfrs_dataset *ds, size_t need);
/* Gives back the rows reserved beyond the rows appended (a loader that
 * reserved for an estimate of its rows calls it at the end).  Never
 * fails: a column that cannot shrink keeps its room. */
void tfrs__dataset_trim_rows(tfrs_dataset *ds);
/* Interns s[0..len) (valid UTF-8: not checked) into the strings of string
 * column `col`; *id gets its id (ids are in order of first use).  Sets the
 * message. */
int  tfrs__dataset_intern(tfrs_dataset *ds, size_t col, const char *s, size_t len,
                          uint32_t *id);
/* Appends one row of already-interned values: ids[] holds one id per string
 * column, vals[] one finite float per float column and i64[] one value
 * per int64 column (NULL when there is none), each in column
 * order.  Nothing is checked: the caller has reserved the row (fewer than
 * TFRS__DATASET_MAX_ROWS) and interned the ids into this dataset. */
void tfrs__dataset_append_interned(tfrs_dataset *ds, const uint32_t *ids, const float *vals,
                                   const int64_t *i64);

#endif /* TFRS_DATASET_H */
