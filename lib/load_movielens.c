/*
 * load_movielens.c - the MovieLens 100K loader: u.item (Latin-1 titles,
 * transcoded to UTF-8) joined with u.data into user_id, movie_id,
 * movie_title (strings), user_rating (float) and timestamp (int64, exact).
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

static int ml_parse_items(ml_items *t, char *buf, size_t len, tfrs__loader *ld)
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
        tfrs__field f[2];
        size_t nf;
        uint64_t id;
        uint32_t *e;
        ml_item *item;
        char *o;

        if (memchr(s, '\0', n) != NULL) {
            rc = tfrs__bad_line(ld, it.lineno, "NUL byte");
        } else if ((nf = tfrs__split(s, n, '|', f, 2)) != ML_ITEM_FIELDS) {
            rc = tfrs__bad_line(ld, it.lineno, "expected %d '|'-separated fields, got %zu",
                          ML_ITEM_FIELDS, nf);
        } else if (tfrs__parse_uint(f[0].s, f[0].n, ML_MAX_ID, &id) < 0 || id == 0) {
            rc = tfrs__bad_line(ld, it.lineno, "bad item id " TFRS__FIELD_FMT, TFRS__FIELD_ARG(f[0]));
        } else if (idmap_reserve(&t->index) < 0) {
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        } else if ((e = idmap_slot(&t->index, (uint32_t)id))[0] != 0) {
            rc = tfrs__bad_line(ld, it.lineno, "duplicate item id %u", (unsigned)id);
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

static int ml_parse_ratings(tfrs_dataset *ds, ml_items *t, idmap *users, char *buf,
                            size_t len, tfrs__loader *ld)
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
    if (rc == 0)
        rc = tfrs__dataset_reserve_rows(ds, reserved);
    if (rc < 0)
        return rc;

    tfrs__lines_init(&it, buf, len);
    while (tfrs__next_line(&it, &s, &n)) {
        tfrs__field f[4];
        size_t nf = 4, r = tfrs_dataset_num_rows(ds);
        uint64_t user = 0, id = 0, rating = 0, ts = 0, v[4];
        uint32_t *it_e = NULL, *us_e, sids[ML_RATING];
        float rating_f;
        int64_t time_i;
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
        if (rc < 0)
            return rc;
        sids[ML_USER] = us_e[1];
        sids[ML_MOVIE] = item->movie_sid;
        sids[ML_TITLE] = item->title_sid;
        rating_f = (float)rating;
        time_i = (int64_t)ts;                 /* exact: seconds since 1970 */
        tfrs__dataset_append_interned(ds, sids, &rating_f, &time_i);
    }
    return TFRS_OK;
}

/* u.item text -> a new *out.  The loader's path names the text in messages. */
static int ml_items_load(ml_items **out, char *buf, size_t len, tfrs__loader *ld)
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
static int ml_ratings_load(tfrs_dataset **out, ml_items *t, char *buf, size_t len, tfrs__loader *ld)
{
    tfrs_dataset *ds = NULL;
    idmap users;
    int rc;

    *out = NULL;
    memset(&users, 0, sizeof(users));
    /* The string ids cached in the items belong to one dataset. */
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

int tfrs__parse_items(tfrs__ml_items **out, const char *buf, size_t len, const char *name,
                      tfrs_load_options *opts)
{
    static const char what[] = "tfrs__parse_items";
    tfrs__loader ld = { name, opts != NULL && opts->skip_bad_lines, 0 };
    char *copy;
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = tfrs__load_options_check(opts, what);
    if (rc == 0)
        rc = tfrs__load_buffer_copy(out, buf, len, name, what, &copy);
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
    tfrs__loader ld = { name, opts != NULL && opts->skip_bad_lines, 0 };
    char *copy;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (items == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: items is NULL", what);
    rc = tfrs__load_options_check(opts, what);
    if (rc == 0)
        rc = tfrs__load_buffer_copy(out, buf, len, name, what, &copy);
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
    tfrs__loader ld = { NULL, 0, 0 };
    size_t len;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (dir == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: dir is NULL", what);
    rc = tfrs__load_options_check(opts, what);
    if (rc < 0)
        return rc;
    ld.skip = opts != NULL && opts->skip_bad_lines;

    item_path = tfrs__join_path(dir, "u.item");
    data_path = tfrs__join_path(dir, "u.data");
    if (item_path == NULL || data_path == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
        goto done;
    }
    rc = tfrs__load_file(item_path, what, &buf, &len);
    if (rc < 0)
        goto done;
    ld.path = item_path;
    rc = ml_items_load(&items, buf, len, &ld);
    tfrs__free(buf);
    buf = NULL;
    if (rc < 0)
        goto done;
    rc = tfrs__load_file(data_path, what, &buf, &len);
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
