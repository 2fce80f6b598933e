/*
 * load_movielens.c - the MovieLens 100K loader: u.item (Latin-1 titles,
 * transcoded to UTF-8) joined with u.data into user_id, movie_id,
 * movie_title (strings), user_rating (float) and timestamp (int64, exact);
 * on request also u.user (age, gender, occupation, zip code) and u.item's
 * release date and genres (named by u.genre) as side-feature columns.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dataset.h"
#include "load_text.h"
#include "load_movielens.h"

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

/* The pair holding key, or the empty pair where it would go. */
static uint32_t *idmap_slot(const idmap *m, uint32_t key)
{
    size_t mask = m->nslots - 1, j = tfrs__slot_of(tfrs__keyed_hash_u32(m->key, key), mask);

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
    if (m->nslots == 0)
        tfrs__keyed_hash_key(tfrs__hash_seed_new(), bigger.key);
    else
        memcpy(bigger.key, m->key, sizeof(bigger.key));
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

/* Latin-1 bytes s[0..n) to UTF-8 at o (room for 2 n bytes); returns the
 * bytes written. */
static size_t latin1_to_utf8(char *o, const char *s, size_t n)
{
    char *start = o;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            *o++ = (char)c;
        } else {
            *o++ = (char)(0xC0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    return (size_t)(o - start);
}

/* Days from 1970-01-01 to year-month-day of the proleptic Gregorian
 * calendar (year >= 1): whole 400-year cycles of 146097 days, then the day
 * of the cycle counted from March 1st, so that February comes last. */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    int64_t y = year - (month <= 2), cycle = y / 400;
    unsigned yoc = (unsigned)(y - cycle * 400);                 /* 0 .. 399 */
    unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    unsigned doc = yoc * 365 + yoc / 4 - yoc / 100 + doy;       /* 0 .. 146096 */

    return cycle * 146097 + (int64_t)doc - 719468;              /* 1970-03-01 based */
}

/* A u.item release date, "DD-Mon-YYYY" or "D-Mon-YYYY" (English month
 * abbreviations, year 0001 .. 9999): *seconds since 1970 at 00:00 UTC and *year.  0, or -1. */
static int parse_release_date(const char *s, size_t n, int64_t *seconds, int64_t *year)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    uint64_t d, y;
    unsigned m;
    size_t k = n == 10 ? 1 : 2;   /* the day has one or two digits */

    if ((n != 10 && n != 11) || s[k] != '-' || s[k + 4] != '-' ||
        tfrs__parse_uint(s, k, 31, &d) < 0 || tfrs__parse_uint(s + k + 5, 4, 9999, &y) < 0 ||
        d == 0 || y == 0)
        return -1;
    for (m = 0; m < 12 && memcmp(months + 3 * m, s + k + 1, 3) != 0; m++)
        ;
    if (m == 12 || d > mdays[m])
        return -1;
    if (m == 1 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    *seconds = days_from_civil((int64_t)y, m + 1, (unsigned)d) * 86400;
    *year = (int64_t)y;
    return 0;
}

/* The side features of a u.item line (g != NULL): its release date f[2]
 * and genre flags f[5 ..].  NULL, or what is wrong. */
static const char *item_side(ml_item *item, const tfrs__field *f)
{
    item->genres = 0;
    item->genres_sid = NO_ID;
    if (f[2].n == 0) {
        /* No date: as 01-Jan-1970 (documented). */
        item->date = 0;
        item->year = 1970;
    } else if (parse_release_date(f[2].s, f[2].n, &item->date, &item->year) < 0) {
        return "bad release date (want DD-Mon-YYYY)";
    }
    for (int g = 0; g < ML_GENRES; g++) {
        const tfrs__field *x = &f[5 + g];
        if (x->n != 1 || (x->s[0] != '0' && x->s[0] != '1'))
            return "bad genre flag (want 0 or 1)";
        if (x->s[0] == '1')
            item->genres |= (uint32_t)1 << g;
    }
    return NULL;
}

static int ml_parse_items(ml_items *t, char *buf, size_t len, const ml_genres *g,
                          tfrs__loader *ld)
{
    size_t lines = tfrs__count_lines(buf, buf + len), tcap;
    tfrs__line_iter it;
    char *s;
    size_t n;
    int rc;

    t->v = tfrs__calloc(lines, sizeof(*t->v));
    /* Latin-1 -> UTF-8 at most doubles the bytes. */
    if (tfrs__mul(len, 2, &tcap) == 0)
        t->titles = tfrs__malloc(tcap);
    if (t->v == NULL || t->titles == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);

    tfrs__lines_init(&it, buf, len);
    while (tfrs__next_line(&it, &s, &n)) {
        tfrs__field f[ML_ITEM_FIELDS];
        size_t nf;
        uint64_t id;
        uint32_t *e;
        ml_item *item;
        const char *why;

        if (memchr(s, '\0', n) != NULL) {
            rc = tfrs__bad_line(ld, it.lineno, "NUL byte");
        } else if ((nf = tfrs__split(s, n, '|', f, g != NULL ? ML_ITEM_FIELDS : 2)) !=
                   ML_ITEM_FIELDS) {
            rc = tfrs__bad_line(ld, it.lineno, "expected %d '|'-separated fields, got %zu",
                          ML_ITEM_FIELDS, nf);
        } else if (tfrs__parse_uint(f[0].s, f[0].n, ML_MAX_ID, &id) < 0 || id == 0) {
            rc = tfrs__bad_line(ld, it.lineno, "bad item id " TFRS__FIELD_FMT, TFRS__FIELD_ARG(f[0]));
        } else if (g != NULL && (why = item_side(&t->v[t->n], f)) != NULL) {
            rc = tfrs__bad_line(ld, it.lineno, "%s", why);
        } else if (idmap_reserve(&t->index) < 0) {
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        } else if ((e = idmap_slot(&t->index, (uint32_t)id))[0] != 0) {
            rc = tfrs__bad_line(ld, it.lineno, "duplicate item id %u", (unsigned)id);
        } else {
            item = &t->v[t->n];
            item->movie_sid = item->title_sid = NO_ID;
            item->title_off = t->tlen;
            item->title_len = latin1_to_utf8(t->titles + t->tlen, f[1].s, f[1].n);
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

/* ---- u.genre and u.user ---------------------------------------------------- */

/* u.genre: "name|index" lines; every index 0 .. ML_GENRES - 1 exactly once,
 * names non-empty, distinct, at most ML_GENRE_MAX bytes. */
static int ml_parse_genres(ml_genres *g, char *buf, size_t len, tfrs__loader *ld)
{
    tfrs__line_iter it;
    char *s;
    size_t n;
    int rc = 0;

    memset(g, 0, sizeof(*g));
    tfrs__lines_init(&it, buf, len);
    while (tfrs__next_line(&it, &s, &n)) {
        tfrs__field f[2];
        size_t nf;
        uint64_t k;
        char name[2 * ML_GENRE_MAX + 1];
        size_t nl = 0;
        int dup = 0;

        if (memchr(s, '\0', n) != NULL) {
            rc = tfrs__bad_line(ld, it.lineno, "NUL byte");
        } else if ((nf = tfrs__split(s, n, '|', f, 2)) != 2) {
            rc = tfrs__bad_line(ld, it.lineno, "expected 2 '|'-separated fields, got %zu", nf);
        } else if (f[0].n == 0 || f[0].n > ML_GENRE_MAX) {
            rc = tfrs__bad_line(ld, it.lineno, "genre name of %zu bytes (want 1 to %d)", f[0].n,
                                ML_GENRE_MAX);
        } else if (tfrs__parse_uint(f[1].s, f[1].n, ML_GENRES - 1, &k) < 0) {
            rc = tfrs__bad_line(ld, it.lineno, "bad genre index " TFRS__FIELD_FMT " (want 0 to %d)",
                                TFRS__FIELD_ARG(f[1]), ML_GENRES - 1);
        } else if (g->have[k]) {
            rc = tfrs__bad_line(ld, it.lineno, "duplicate genre index %u", (unsigned)k);
        } else {
            nl = latin1_to_utf8(name, f[0].s, f[0].n);
            for (int j = 0; j < ML_GENRES; j++)
                dup |= g->have[j] && g->len[j] == nl && memcmp(g->name[j], name, nl) == 0;
            if (dup) {
                rc = tfrs__bad_line(ld, it.lineno, "duplicate genre name " TFRS__FIELD_FMT,
                                    TFRS__FIELD_ARG(f[0]));
            } else {
                memcpy(g->name[k], name, nl);
                g->name[k][nl] = '\0';
                g->len[k] = nl;
                g->have[k] = 1;
                continue;
            }
        }
        if (rc < 0)
            return rc;
    }
    for (int j = 0; j < ML_GENRES; j++)
        if (!g->have[j])
            return tfrs__fail(TFRS_EPARSE, "%s:%zu: genre %d is missing at the end of the "
                              "file (want indices 0 to %d)", ld->path,
                              it.lineno > 0 ? it.lineno : 1, j, ML_GENRES - 1);
    return TFRS_OK;
}

/* TFDS's age groups (those of MovieLens 1M): the largest of 18, 25, 35, 45,
 * 50, 56 that is <= age, else 1. */
static float age_bucket(uint64_t age)
{
    static const unsigned char lower[] = { 56, 50, 45, 35, 25, 18 };

    for (size_t i = 0; i < sizeof(lower); i++)
        if (age >= lower[i])
            return (float)lower[i];
    return 1.0f;
}

static int ml_parse_users(ml_users *u, char *buf, size_t len, tfrs__loader *ld)
{
    size_t lines = tfrs__count_lines(buf, buf + len), tcap;
    tfrs__line_iter it;
    char *s;
    size_t n;
    int rc;

    u->v = tfrs__calloc(lines, sizeof(*u->v));
    if (tfrs__mul(len, 2, &tcap) == 0)
        u->text = tfrs__malloc(tcap > 0 ? tcap : 1);
    if (u->v == NULL || u->text == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);

    tfrs__lines_init(&it, buf, len);
    while (tfrs__next_line(&it, &s, &n)) {
        tfrs__field f[ML_USER_FIELDS];
        size_t nf;
        uint64_t id, age;
        uint32_t *e;
        ml_user *user;

        if (memchr(s, '\0', n) != NULL) {
            rc = tfrs__bad_line(ld, it.lineno, "NUL byte");
        } else if ((nf = tfrs__split(s, n, '|', f, ML_USER_FIELDS)) != ML_USER_FIELDS) {
            rc = tfrs__bad_line(ld, it.lineno, "expected %d '|'-separated fields, got %zu",
                                ML_USER_FIELDS, nf);
        } else if (tfrs__parse_uint(f[0].s, f[0].n, ML_MAX_ID, &id) < 0 || id == 0) {
            rc = tfrs__bad_line(ld, it.lineno, "bad user id " TFRS__FIELD_FMT, TFRS__FIELD_ARG(f[0]));
        } else if (tfrs__parse_uint(f[1].s, f[1].n, ML_MAX_AGE, &age) < 0) {
            rc = tfrs__bad_line(ld, it.lineno, "bad age " TFRS__FIELD_FMT " (want 0 to %d)",
                                TFRS__FIELD_ARG(f[1]), ML_MAX_AGE);
        } else if (f[2].n != 1 || (f[2].s[0] != 'M' && f[2].s[0] != 'F')) {
            rc = tfrs__bad_line(ld, it.lineno, "bad gender " TFRS__FIELD_FMT " (want M or F)",
                                TFRS__FIELD_ARG(f[2]));
        } else if (f[3].n == 0) {
            rc = tfrs__bad_line(ld, it.lineno, "empty occupation");
        } else if (idmap_reserve(&u->index) < 0) {
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        } else if ((e = idmap_slot(&u->index, (uint32_t)id))[0] != 0) {
            rc = tfrs__bad_line(ld, it.lineno, "duplicate user id %u", (unsigned)id);
        } else {
            user = &u->v[u->n];
            user->age = (float)age;
            user->age_bucket = age_bucket(age);
            user->gender = f[2].s[0];
            user->gender_sid = user->occ_sid = user->zip_sid = NO_ID;
            user->occ_off = u->tlen;
            user->occ_len = latin1_to_utf8(u->text + u->tlen, f[3].s, f[3].n);
            u->tlen += user->occ_len;
            user->zip_off = u->tlen;
            user->zip_len = latin1_to_utf8(u->text + u->tlen, f[4].s, f[4].n);
            u->tlen += user->zip_len;
            e[0] = (uint32_t)id;
            e[1] = (uint32_t)u->n++;
            u->index.n++;
            continue;
        }
        if (rc < 0)
            return rc;
    }
    return TFRS_OK;
}

void tfrs__ml_users_free(ml_users *u)
{
    if (u == NULL)
        return;
    tfrs__free(u->v);
    tfrs__free(u->index.kv);
    tfrs__free(u->text);
    tfrs__free(u);
}

size_t tfrs__ml_users_count(const ml_users *u)
{
    return u == NULL ? 0 : u->n;
}

enum { ML_USER, ML_MOVIE, ML_TITLE, ML_RATING, ML_TIME, ML_NCOLS };

/* What is wrong with a u.data line. */
enum { ML_OK, ML_FIELDS, ML_USER_ID, ML_ITEM_ID, ML_UNKNOWN, ML_RATING_VAL, ML_TIME_VAL,
       ML_NO_USER };

static int ml_bad_rating(tfrs__loader *ld, size_t lineno, int e, const char *s, size_t n,
                         const tfrs__field *f, size_t nf, uint64_t id)
{
    /* A NUL byte explains any other failure. */
    if (memchr(s, '\0', n) != NULL)
        return tfrs__bad_line(ld, lineno, "NUL byte");
    switch (e) {
    case ML_FIELDS:
        return tfrs__bad_line(ld, lineno, "expected 4 tab-separated fields, got %zu", nf);
    case ML_USER_ID:
        return tfrs__bad_line(ld, lineno, "bad user id " TFRS__FIELD_FMT, TFRS__FIELD_ARG(f[0]));
    case ML_ITEM_ID:
        return tfrs__bad_line(ld, lineno, "bad item id " TFRS__FIELD_FMT, TFRS__FIELD_ARG(f[1]));
    case ML_UNKNOWN:
        return tfrs__bad_line(ld, lineno, "item id %u is not in u.item", (unsigned)id);
    case ML_NO_USER:
        return tfrs__bad_line(ld, lineno, "user id %u is not in u.user", (unsigned)id);
    case ML_RATING_VAL:
        return tfrs__bad_line(ld, lineno, "bad rating " TFRS__FIELD_FMT " (want an integer 1..5)",
                              TFRS__FIELD_ARG(f[2]));
    default:
        return tfrs__bad_line(ld, lineno, "bad timestamp " TFRS__FIELD_FMT, TFRS__FIELD_ARG(f[3]));
    }
}

/* A rating: an integer 1..5, also written as an integral decimal ("4.0",
 * "4.00", as exported by spreadsheets and pandas).  0, or -1 for anything
 * else ("4.5", "4.", ".0", "4e0"). */
static int parse_rating(const char *s, size_t n, uint64_t *rating)
{
    const char *dot = memchr(s, '.', n);
    size_t k;

    if (dot != NULL) {
        k = (size_t)(dot - s) + 1;
        if (k == n)
            return -1;
        for (; k < n; k++)
            if (s[k] != '0')
                return -1;
        n = (size_t)(dot - s);
    }
    if (tfrs__parse_uint(s, n, 5, rating) < 0 || *rating == 0)
        return -1;
    return 0;
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

/* Interns the canonical decimal text of v ("007" -> "7") into column col. */
static int intern_id(tfrs_dataset *ds, size_t col, uint64_t v, uint32_t *id)
{
    char text[20];

    return tfrs__dataset_intern(ds, col, text, utoa(v, text), id);
}

/* The side tables of a join: NULL for those not requested. */
typedef struct ml_side {
    const ml_genres *genres;   /* u.genre: the item side features        */
    ml_users        *users;    /* u.user: the user side features         */
} ml_side;

/* The columns after the first ML_NCOLS: user side features, then item side
 * features (documented in tfrsc.h). */
enum { ML_U_AGE, ML_U_BUCKET, ML_U_GENDER, ML_U_OCC, ML_U_ZIP, ML_U_NCOLS };
enum { ML_I_GENRES, ML_I_DATE, ML_I_YEAR, ML_I_NCOLS };
static const char *const user_names[ML_U_NCOLS] = {
    "raw_user_age", "bucketized_user_age", "user_gender", "user_occupation_text", "user_zip_code"
};
static const tfrs_column_type user_types[ML_U_NCOLS] = {
    TFRS_COLUMN_FLOAT, TFRS_COLUMN_FLOAT, TFRS_COLUMN_STRING, TFRS_COLUMN_STRING,
    TFRS_COLUMN_STRING
};
static const char *const item_names[ML_I_NCOLS] = {
    "movie_genres", "movie_release_date", "movie_release_year"
};
static const tfrs_column_type item_types[ML_I_NCOLS] = {
    TFRS_COLUMN_STRING, TFRS_COLUMN_INT64, TFRS_COLUMN_INT64
};

/* Interns the side features of a row's user and item (once per user and
 * item) and writes them after the base values: ids, floats and int64s in
 * column order. */
static int side_values(tfrs_dataset *ds, const ml_side *side, ml_user *user, ml_item *item,
                       uint32_t *sids, float *vals, int64_t *i64)
{
    size_t c = ML_NCOLS;
    int rc = 0;

    if (side->users != NULL) {
        const char *text = side->users->text;
        if (user->gender_sid == NO_ID)
            rc = tfrs__dataset_intern(ds, c + ML_U_GENDER, &user->gender, 1, &user->gender_sid);
        if (rc == 0 && user->occ_sid == NO_ID)
            rc = tfrs__dataset_intern(ds, c + ML_U_OCC, text + user->occ_off, user->occ_len,
                                      &user->occ_sid);
        if (rc == 0 && user->zip_sid == NO_ID)
            rc = tfrs__dataset_intern(ds, c + ML_U_ZIP, text + user->zip_off, user->zip_len,
                                      &user->zip_sid);
        if (rc < 0)
            return rc;
        *vals++ = user->age;
        *vals++ = user->age_bucket;
        *sids++ = user->gender_sid;
        *sids++ = user->occ_sid;
        *sids++ = user->zip_sid;
        c += ML_U_NCOLS;
    }
    if (side->genres != NULL) {
        if (item->genres_sid == NO_ID) {
            /* The names of the genres flagged 1, in genre order, joined by
             * '|' (names hold no '|': u.genre is split at it). */
            char bag[ML_GENRES * (2 * ML_GENRE_MAX + 1)];
            size_t o = 0;
            for (int g = 0; g < ML_GENRES; g++) {
                if (!(item->genres >> g & 1))
                    continue;
                if (o > 0)
                    bag[o++] = '|';
                memcpy(bag + o, side->genres->name[g], side->genres->len[g]);
                o += side->genres->len[g];
            }
            rc = tfrs__dataset_intern(ds, c + ML_I_GENRES, bag, o, &item->genres_sid);
            if (rc < 0)
                return rc;
        }
        *sids = item->genres_sid;
        *i64++ = item->date;
        *i64 = item->year;
    }
    return TFRS_OK;
}

static int ml_parse_ratings(tfrs_dataset *ds, ml_items *t, idmap *users, const ml_side *side,
                            char *buf, size_t len, tfrs__loader *ld)
{
    static const char *const names[ML_NCOLS] = {
        "user_id", "movie_id", "movie_title", "user_rating", "timestamp"
    };
    tfrs__line_iter it;
    char *s;
    size_t n, reserved = tfrs__count_lines(buf, buf + len);
    int rc = TFRS_OK;

    if (reserved > MAX_ROWS)
        reserved = MAX_ROWS;
    for (int k = 0; k < ML_NCOLS && rc == 0; k++)
        rc = tfrs_dataset_add_column(ds, names[k], k < ML_RATING ? TFRS_COLUMN_STRING
                                                   : k == ML_TIME ? TFRS_COLUMN_INT64
                                                   : TFRS_COLUMN_FLOAT);
    for (int k = 0; side->users != NULL && k < ML_U_NCOLS && rc == 0; k++)
        rc = tfrs_dataset_add_column(ds, user_names[k], user_types[k]);
    for (int k = 0; side->genres != NULL && k < ML_I_NCOLS && rc == 0; k++)
        rc = tfrs_dataset_add_column(ds, item_names[k], item_types[k]);
    if (rc == 0)
        rc = tfrs__dataset_reserve_rows(ds, reserved);
    if (rc < 0)
        return rc;

    tfrs__lines_init(&it, buf, len);
    while (tfrs__next_line(&it, &s, &n)) {
        tfrs__field f[4];
        size_t nf = 4, r = tfrs_dataset_num_rows(ds);
        uint64_t user = 0, id = 0, rating = 0, ts = 0, v[4];
        uint32_t *it_e = NULL, *us_e, *side_e = NULL, sids[ML_RATING + ML_U_NCOLS];
        float vals[3];
        int64_t i64[3];
        ml_item *item;
        int e = ML_OK;

        if (ml_fast_line(s, n, v) && v[0] - 1 < ML_MAX_ID && v[1] - 1 < ML_MAX_ID &&
            v[2] - 1 < 5 && v[3] <= (uint64_t)INT64_MAX) {
            user = v[0];
            id = v[1];
            rating = v[2];
            ts = v[3];
            if (t->index.nslots == 0 || (it_e = idmap_slot(&t->index, (uint32_t)id))[0] == 0)
                e = ML_UNKNOWN;
        } else if ((nf = tfrs__split(s, n, '\t', f, 4)) != 4)
            e = ML_FIELDS;
        else if (tfrs__parse_uint(f[0].s, f[0].n, ML_MAX_ID, &user) < 0 || user == 0)
            e = ML_USER_ID;
        else if (tfrs__parse_uint(f[1].s, f[1].n, ML_MAX_ID, &id) < 0 || id == 0)
            e = ML_ITEM_ID;
        else if (t->index.nslots == 0 || (it_e = idmap_slot(&t->index, (uint32_t)id))[0] == 0)
            e = ML_UNKNOWN;
        else if (parse_rating(f[2].s, f[2].n, &rating) < 0)
            e = ML_RATING_VAL;
        else if (tfrs__parse_uint(f[3].s, f[3].n, (uint64_t)INT64_MAX, &ts) < 0)
            e = ML_TIME_VAL;
        if (e == ML_OK && side->users != NULL &&
            (side->users->index.nslots == 0 ||
             (side_e = idmap_slot(&side->users->index, (uint32_t)user))[0] == 0))
            e = ML_NO_USER;
        if (e != ML_OK) {
            rc = ml_bad_rating(ld, it.lineno, e, s, n, f, nf, e == ML_NO_USER ? user : id);
            if (rc < 0)
                return rc;
            continue;
        }
        item = &t->v[it_e[1]];
        if (r >= reserved) {
            if (r >= MAX_ROWS)
                return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", ld->path, MAX_ROWS);
            reserved = r + 1;
            rc = tfrs__dataset_reserve_rows(ds, reserved);
            if (rc < 0)
                return rc;
        }
        /* Users through an integer map to their string id. */
        if (idmap_reserve(users) < 0)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        us_e = idmap_slot(users, (uint32_t)user);
        if (us_e[0] == 0) {
            rc = intern_id(ds, ML_USER, user, &us_e[1]);
            if (rc < 0)
                return rc;
            us_e[0] = (uint32_t)user;
            users->n++;
        }
        if (rc == 0 && item->movie_sid == NO_ID)
            rc = intern_id(ds, ML_MOVIE, id, &item->movie_sid);
        if (rc == 0 && item->title_sid == NO_ID)
            rc = tfrs__dataset_intern(ds, ML_TITLE, t->titles + item->title_off,
                                      item->title_len, &item->title_sid);
        if (rc == 0 && (side->users != NULL || side->genres != NULL))
            rc = side_values(ds, side, side_e != NULL ? &side->users->v[side_e[1]] : NULL, item,
                             sids + ML_RATING, vals + 1, i64 + 1);
        if (rc < 0)
            return rc;
        sids[ML_USER] = us_e[1];
        sids[ML_MOVIE] = item->movie_sid;
        sids[ML_TITLE] = item->title_sid;
        vals[0] = (float)rating;
        i64[0] = (int64_t)ts;                 /* exact: seconds since 1970 */
        tfrs__dataset_append_interned(ds, sids, vals, i64);
    }
    return TFRS_OK;
}

/* u.item text -> a new *out (with the item side features when g is not
 * NULL).  The loader's path names the text in messages. */
static int ml_items_load(ml_items **out, char *buf, size_t len, const ml_genres *g,
                         tfrs__loader *ld)
{
    ml_items *t = tfrs__calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
    rc = ml_parse_items(t, buf, len, g, ld);
    if (rc < 0) {
        tfrs__ml_items_free(t);
        return rc;
    }
    *out = t;
    return TFRS_OK;
}

static int ml_genres_load(ml_genres **out, char *buf, size_t len, tfrs__loader *ld)
{
    ml_genres *g = tfrs__calloc(1, sizeof(*g));
    int rc;

    *out = NULL;
    if (g == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
    rc = ml_parse_genres(g, buf, len, ld);
    if (rc < 0) {
        tfrs__free(g);
        return rc;
    }
    *out = g;
    return TFRS_OK;
}

static int ml_users_load(ml_users **out, char *buf, size_t len, tfrs__loader *ld)
{
    ml_users *u = tfrs__calloc(1, sizeof(*u));
    int rc;

    *out = NULL;
    if (u == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
    rc = ml_parse_users(u, buf, len, ld);
    if (rc < 0) {
        tfrs__ml_users_free(u);
        return rc;
    }
    *out = u;
    return TFRS_OK;
}

/* u.data text joined with the items (and the side tables) -> a new dataset
 * *out. */
static int ml_ratings_load(tfrs_dataset **out, ml_items *t, const ml_side *side, char *buf,
                           size_t len, tfrs__loader *ld)
{
    tfrs_dataset *ds = NULL;
    idmap users;
    int rc;

    *out = NULL;
    memset(&users, 0, sizeof(users));
    /* The string ids cached in the items and users belong to one dataset. */
    for (size_t i = 0; i < t->n; i++)
        t->v[i].movie_sid = t->v[i].title_sid = t->v[i].genres_sid = NO_ID;
    for (size_t i = 0; side->users != NULL && i < side->users->n; i++) {
        ml_user *u = &side->users->v[i];
        u->gender_sid = u->occ_sid = u->zip_sid = NO_ID;
    }
    rc = tfrs_dataset_create(&ds);
    if (rc == 0)
        rc = ml_parse_ratings(ds, t, &users, side, buf, len, ld);
    tfrs__free(users.kv);
    if (rc < 0) {
        tfrs_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return TFRS_OK;
}

/* The fuzz seams: a copy of buf, the options checked, bad_lines set. */
typedef enum { SEAM_ITEMS, SEAM_GENRES, SEAM_USERS, SEAM_RATINGS } seam_kind;

static int seam(seam_kind kind, void *out, const void *in, const ml_side *side, const char *buf,
                size_t len, const char *name, tfrs_load_options *opts, const char *what)
{
    tfrs__loader ld = { name, opts != NULL && opts->skip_bad_lines, 0 };
    char *copy;
    int rc;

    if (out != NULL)
        *(void **)out = NULL;
    if (kind == SEAM_RATINGS && in == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: items is NULL", what);
    rc = tfrs__load_options_check(opts, what);
    if (rc == 0)
        rc = tfrs__load_buffer_copy(out, buf, len, name, what, &copy);
    if (rc < 0)
        return rc;
    switch (kind) {
    case SEAM_ITEMS:
        rc = ml_items_load(out, copy, len, in, &ld);
        break;
    case SEAM_GENRES:
        rc = ml_genres_load(out, copy, len, &ld);
        break;
    case SEAM_USERS:
        rc = ml_users_load(out, copy, len, &ld);
        break;
    default:
        rc = ml_ratings_load(out, (ml_items *)(uintptr_t)in, side, copy, len, &ld);
        break;
    }
    if (opts != NULL)
        opts->bad_lines = ld.bad;
    tfrs__free(copy);
    return rc;
}

int tfrs__parse_items(tfrs__ml_items **out, const char *buf, size_t len, const char *name,
                      tfrs_load_options *opts)
{
    return seam(SEAM_ITEMS, out, NULL, NULL, buf, len, name, opts, "tfrs__parse_items");
}

int tfrs__parse_items_side(tfrs__ml_items **out, const tfrs__ml_genres *genres, const char *buf,
                           size_t len, const char *name, tfrs_load_options *opts)
{
    if (genres == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs__parse_items_side: genres is NULL");
    return seam(SEAM_ITEMS, out, genres, NULL, buf, len, name, opts, "tfrs__parse_items_side");
}

int tfrs__parse_genres(tfrs__ml_genres **out, const char *buf, size_t len, const char *name,
                       tfrs_load_options *opts)
{
    return seam(SEAM_GENRES, out, NULL, NULL, buf, len, name, opts, "tfrs__parse_genres");
}

void tfrs__ml_genres_free(tfrs__ml_genres *genres)
{
    tfrs__free(genres);
}

int tfrs__parse_users(tfrs__ml_users **out, const char *buf, size_t len, const char *name,
                      tfrs_load_options *opts)
{
    return seam(SEAM_USERS, out, NULL, NULL, buf, len, name, opts, "tfrs__parse_users");
}

int tfrs__parse_ratings(tfrs_dataset **out, tfrs__ml_items *items, const char *buf, size_t len,
                        const char *name, tfrs_load_options *opts)
{
    const ml_side none = { NULL, NULL };

    return seam(SEAM_RATINGS, out, items, &none, buf, len, name, opts, "tfrs__parse_ratings");
}

int tfrs__parse_ratings_side(tfrs_dataset **out, tfrs__ml_items *items,
                             const tfrs__ml_genres *genres, tfrs__ml_users *users,
                             const char *buf, size_t len, const char *name,
                             tfrs_load_options *opts)
{
    const ml_side side = { genres, users };

    return seam(SEAM_RATINGS, out, items, &side, buf, len, name, opts,
                "tfrs__parse_ratings_side");
}

/* Reads dir/name (or, with dir NULL, the file name) whole, parses it with
 * `parse` (one of the *_load above) into *out; the loader's path is the
 * file's.  *path is kept for messages. */
static int load_part(const char *dir, const char *name, char **path, tfrs__loader *ld,
                     const char *what, int (*parse)(void *, char *, size_t, const void *,
                                                    tfrs__loader *),
                     void *out, const void *in)
{
    char *buf = NULL;
    size_t len;
    int rc;

    *path = dir != NULL ? tfrs__join_path(dir, name) : tfrs__strdup(name);
    if (*path == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
    rc = tfrs__load_file(*path, what, &buf, &len);
    if (rc < 0)
        return rc;
    ld->path = *path;
    rc = parse(out, buf, len, in, ld);
    tfrs__free(buf);
    return rc;
}

static int parse_items_part(void *out, char *buf, size_t len, const void *g, tfrs__loader *ld)
{
    return ml_items_load(out, buf, len, g, ld);
}

static int parse_genres_part(void *out, char *buf, size_t len, const void *in, tfrs__loader *ld)
{
    (void)in;
    return ml_genres_load(out, buf, len, ld);
}

static int parse_users_part(void *out, char *buf, size_t len, const void *in, tfrs__loader *ld)
{
    (void)in;
    return ml_users_load(out, buf, len, ld);
}

static int parse_ratings_part(void *out, char *buf, size_t len, const void *in,
                              tfrs__loader *ld)
{
    const struct { ml_items *items; ml_side side; } *j = in;

    return ml_ratings_load(out, j->items, &j->side, buf, len, ld);
}

int tfrs_dataset_load_movielens(tfrs_dataset **out, const char *dir, tfrs_load_options *opts)
{
    static const char what[] = "tfrs_dataset_load_movielens";
    char *paths[4] = { NULL, NULL, NULL, NULL };
    struct { ml_items *items; ml_side side; } j = { NULL, { NULL, NULL } };
    ml_genres *genres = NULL;
    ml_users *users = NULL;
    tfrs__loader ld = { NULL, 0, 0 };
    unsigned features = 0;
    const char *ratings = NULL;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (dir == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: dir is NULL", what);
    rc = tfrs__load_options_check(opts, what);
    if (rc < 0)
        return rc;
    /* movielens_features exists from version 2 of the options on. */
    if (opts != NULL && opts->version >= 2)
        features = opts->movielens_features;
    if (opts != NULL && opts->version >= 3)
        ratings = opts->ratings_file;
    if (features & ~(TFRS_MOVIELENS_USER_FEATURES | TFRS_MOVIELENS_ITEM_FEATURES))
        return tfrs__fail(TFRS_EINVAL, "%s: unknown movielens_features bits 0x%x", what,
                          features);
    ld.skip = opts != NULL && opts->skip_bad_lines;

    if (features & TFRS_MOVIELENS_ITEM_FEATURES)
        rc = load_part(dir, "u.genre", &paths[0], &ld, what, parse_genres_part, &genres, NULL);
    if (rc == 0)
        rc = load_part(dir, "u.item", &paths[1], &ld, what, parse_items_part, &j.items, genres);
    if (rc == 0 && (features & TFRS_MOVIELENS_USER_FEATURES))
        rc = load_part(dir, "u.user", &paths[2], &ld, what, parse_users_part, &users, NULL);
    j.side.genres = genres;
    j.side.users = users;
    if (rc == 0)
        rc = load_part(ratings != NULL ? NULL : dir, ratings != NULL ? ratings : "u.data",
                       &paths[3], &ld, what, parse_ratings_part, out, &j);
    if (opts != NULL)
        opts->bad_lines = ld.bad;
    tfrs__ml_items_free(j.items);
    tfrs__ml_users_free(users);
    tfrs__free(genres);
    for (int i = 0; i < 4; i++)
        tfrs__free(paths[i]);
    return rc;
}
