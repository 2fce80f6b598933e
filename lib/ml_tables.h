/*
 * ml_tables.h - MovieLens 100K's tables: u.item (titles, release dates,
 * genre flags), u.genre and u.user, parsed and indexed by id for the
 * ratings loader (load_movielens.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_ML_TABLES_H
#define TFRS_ML_TABLES_H

#include "util/common.h"
#include "dataset.h"
#include "load_text.h"

#define ML_MAX_ID      ((uint64_t)INT32_MAX)   /* ids are < 2^31 */
#define ML_ITEM_FIELDS 24                      /* id|title|3 dates/URL|19 genres */
#define NO_ID          UINT32_MAX
#define MAX_ROWS       TFRS__DATASET_MAX_ROWS


/* Positive uint32 key -> uint32 value, open addressing with the pairs side
 * by side (one cache line per probe); key 0 marks an empty slot.  The ids
 * come from the file, so slots come from the keyed hash (util/strtab.h):
 * an unkeyed mix of an integer can be inverted to put every id in one
 * probe chain. */
typedef struct idmap {
    uint32_t *kv;       /* nslots pairs: key, value */
    size_t    nslots;   /* 0 or a power of two      */
    size_t    n;
    uint64_t  key[2];   /* its SipHash key, drawn with its first slots */
} idmap;

typedef struct ml_item {
    uint32_t movie_sid, title_sid;   /* string ids once used, else NO_ID */
    size_t   title_off, title_len;   /* in the UTF-8 titles buffer     */
    /* With the item side features: */
    uint32_t genres;                 /* bit g: genre g's flag is 1     */
    uint32_t genres_sid;             /* string id once used, else NO_ID */
    int64_t  date, year;             /* release: seconds since 1970, year */
} ml_item;

/* u.genre: the names of the ML_GENRES genres, by index, in UTF-8. */
#define ML_GENRES        19          /* the genre flags of a u.item line */
#define ML_GENRE_MAX     100         /* bytes of a genre name (Latin-1)  */
struct tfrs__ml_genres {
    char   name[ML_GENRES][2 * ML_GENRE_MAX + 1];
    size_t len[ML_GENRES];
    int    have[ML_GENRES];
};
typedef struct tfrs__ml_genres ml_genres;

/* u.user: id|age|gender|occupation|zip code. */
#define ML_USER_FIELDS   5
#define ML_MAX_AGE       200
typedef struct ml_user {
    float    age, age_bucket;
    uint32_t gender_sid, occ_sid, zip_sid;       /* once used, else NO_ID */
    char     gender;                             /* 'M' or 'F'           */
    size_t   occ_off, occ_len, zip_off, zip_len; /* in the text buffer   */
} ml_user;

struct tfrs__ml_users {
    ml_user *v;
    size_t   n;
    idmap    index;                  /* user id -> index into v        */
    char    *text;
    size_t   tlen;
};
typedef struct tfrs__ml_users ml_users;

struct tfrs__ml_items {
    ml_item *v;
    size_t   n;
    idmap    index;                  /* item id -> index into v        */
    char    *titles;
    size_t   tlen;
};
typedef struct tfrs__ml_items ml_items;

/* The pair holding key, or the empty pair where it would go. */
uint32_t *tfrs__idmap_slot(const idmap *m, uint32_t key);
/* Room for one more key (grows and rehashes): 0, or -1 out of memory. */
int    tfrs__idmap_reserve(idmap *m);
/* The decimal digits of v at out (room for 20); returns their number. */
size_t tfrs__ml_utoa(uint64_t v, char *out);
/* Latin-1 bytes s[0..n) to UTF-8 at o (room for 2 n bytes); returns the
 * bytes written. */
size_t tfrs__latin1_to_utf8(char *o, const char *s, size_t n);
/* u.item into t (with the item side features when g is not NULL), u.genre
 * into g, u.user into u: the lines of buf (len bytes, writable), with
 * ld's messages and skipping. */
int    tfrs__ml_parse_items(ml_items *t, char *buf, size_t len, const ml_genres *g,
                            tfrs__loader *ld);
int    tfrs__ml_parse_genres(ml_genres *g, char *buf, size_t len, tfrs__loader *ld);
int    tfrs__ml_parse_users(ml_users *u, char *buf, size_t len, tfrs__loader *ld);
size_t tfrs__ml_items_count(const ml_items *items);
void   tfrs__ml_items_free(ml_items *items);           /* NULL is a no-op */
size_t tfrs__ml_users_count(const ml_users *users);
void   tfrs__ml_users_free(ml_users *users);           /* NULL is a no-op */

#endif /* TFRS_ML_TABLES_H */
