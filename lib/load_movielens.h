/*
 * load_movielens.h - the MovieLens 100K loader (u.item + u.data) and its
 * fuzz seams.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_LOAD_MOVIELENS_H
#define TFRS_LOAD_MOVIELENS_H

#include "util/common.h"

/* tfrs_dataset_load_movielens reads its files and runs the same code as
 * these.  `name` stands for the file in messages ("name:line: reason"); buf
 * need not be NUL-terminated (it is copied).  opts as for the file loader;
 * bad_lines counts the lines skipped by that one call. */
typedef struct tfrs__ml_items tfrs__ml_items;   /* parsed u.item */
int    tfrs__parse_items(tfrs__ml_items **out, const char *buf, size_t len, const char *name,
                         tfrs_load_options *opts);
size_t tfrs__ml_items_count(const tfrs__ml_items *items);
void   tfrs__ml_items_free(tfrs__ml_items *items);     /* NULL is a no-op */
/* u.data joined with items (which caches string ids: one call at a time). */
int    tfrs__parse_ratings(tfrs_dataset **out, tfrs__ml_items *items, const char *buf,
                           size_t len, const char *name, tfrs_load_options *opts);

/* The side tables (tfrs_load_options.movielens_features). */
typedef struct tfrs__ml_genres tfrs__ml_genres; /* parsed u.genre */
typedef struct tfrs__ml_users tfrs__ml_users;   /* parsed u.user  */
int    tfrs__parse_genres(tfrs__ml_genres **out, const char *buf, size_t len, const char *name,
                          tfrs_load_options *opts);
void   tfrs__ml_genres_free(tfrs__ml_genres *genres);  /* NULL is a no-op */
int    tfrs__parse_users(tfrs__ml_users **out, const char *buf, size_t len, const char *name,
                         tfrs_load_options *opts);
size_t tfrs__ml_users_count(const tfrs__ml_users *users);
void   tfrs__ml_users_free(tfrs__ml_users *users);     /* NULL is a no-op */
/* u.item with the item side features (release date, genre flags). */
int    tfrs__parse_items_side(tfrs__ml_items **out, const tfrs__ml_genres *genres,
                              const char *buf, size_t len, const char *name,
                              tfrs_load_options *opts);
/* u.data joined with items (from tfrs__parse_items_side when genres is not
 * NULL) and, when not NULL, users: the side-feature columns of
 * tfrs_dataset_load_movielens. */
int    tfrs__parse_ratings_side(tfrs_dataset **out, tfrs__ml_items *items,
                                const tfrs__ml_genres *genres, tfrs__ml_users *users,
                                const char *buf, size_t len, const char *name,
                                tfrs_load_options *opts);

#endif /* TFRS_LOAD_MOVIELENS_H */
