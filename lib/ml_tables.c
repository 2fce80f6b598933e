/*
 * ml_tables.c - MovieLens 100K's tables (see ml_tables.h): u.item, u.genre
 * and u.user parsed into arrays indexed by id.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dataset.h"
#include "load_text.h"
#include "ml_tables.h"

/* The pair holding key, or the empty pair where it would go. */
uint32_t *tfrs__idmap_slot(const idmap *m, uint32_t key)
{
    size_t mask = m->nslots - 1, j = tfrs__slot_of(tfrs__keyed_hash_u32(m->key, key), mask);

    while (m->kv[2 * j] != 0 && m->kv[2 * j] != key)
        j = (j + 1) & mask;
    return &m->kv[2 * j];
}

/* Room for one more key (at most half full). */
int tfrs__idmap_reserve(idmap *m)
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
            uint32_t *e = tfrs__idmap_slot(&bigger, m->kv[2 * j]);
            e[0] = m->kv[2 * j];
            e[1] = m->kv[2 * j + 1];
        }
    }
    tfrs__free(m->kv);
    *m = bigger;
    return 0;
}






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

size_t tfrs__ml_utoa(uint64_t v, char *out)
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
size_t tfrs__latin1_to_utf8(char *o, const char *s, size_t n)
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

int tfrs__ml_parse_items(ml_items *t, char *buf, size_t len, const ml_genres *g,
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
    while (tfrs__next_line(&it, &s, &n) > 0) {   /* a buffer: never < 0 */
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
        } else if (tfrs__idmap_reserve(&t->index) < 0) {
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        } else if ((e = tfrs__idmap_slot(&t->index, (uint32_t)id))[0] != 0) {
            rc = tfrs__bad_line(ld, it.lineno, "duplicate item id %u", (unsigned)id);
        } else {
            item = &t->v[t->n];
            item->movie_sid = item->title_sid = NO_ID;
            item->title_off = t->tlen;
            item->title_len = tfrs__latin1_to_utf8(t->titles + t->tlen, f[1].s, f[1].n);
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
int tfrs__ml_parse_genres(ml_genres *g, char *buf, size_t len, tfrs__loader *ld)
{
    tfrs__line_iter it;
    char *s;
    size_t n;
    int rc = 0;

    memset(g, 0, sizeof(*g));
    tfrs__lines_init(&it, buf, len);
    while (tfrs__next_line(&it, &s, &n) > 0) {   /* a buffer: never < 0 */
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
            nl = tfrs__latin1_to_utf8(name, f[0].s, f[0].n);
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

int tfrs__ml_parse_users(ml_users *u, char *buf, size_t len, tfrs__loader *ld)
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
    while (tfrs__next_line(&it, &s, &n) > 0) {   /* a buffer: never < 0 */
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
        } else if (tfrs__idmap_reserve(&u->index) < 0) {
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        } else if ((e = tfrs__idmap_slot(&u->index, (uint32_t)id))[0] != 0) {
            rc = tfrs__bad_line(ld, it.lineno, "duplicate user id %u", (unsigned)id);
        } else {
            user = &u->v[u->n];
            user->age = (float)age;
            user->age_bucket = age_bucket(age);
            user->gender = f[2].s[0];
            user->gender_sid = user->occ_sid = user->zip_sid = NO_ID;
            user->occ_off = u->tlen;
            user->occ_len = tfrs__latin1_to_utf8(u->text + u->tlen, f[3].s, f[3].n);
            u->tlen += user->occ_len;
            user->zip_off = u->tlen;
            user->zip_len = tfrs__latin1_to_utf8(u->text + u->tlen, f[4].s, f[4].n);
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
