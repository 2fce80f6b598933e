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
#include "util/fileio.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dataset.h"
#include "load_text.h"
#include "ml_tables.h"
#include "load_movielens.h"

/* The base columns of the dataset, in order. */
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

    return tfrs__dataset_intern(ds, col, text, tfrs__ml_utoa(v, text), id);
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
                            tfrs__line_iter *lines, tfrs__loader *ld)
{
    static const char *const names[ML_NCOLS] = {
        "user_id", "movie_id", "movie_title", "user_rating", "timestamp"
    };
    char *s;
    size_t n, reserved = tfrs__lines_estimate(lines);
    int rc = TFRS_OK, more;

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

    while ((more = tfrs__next_line(lines, &s, &n)) > 0) {
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
            if (t->index.nslots == 0 || (it_e = tfrs__idmap_slot(&t->index, (uint32_t)id))[0] == 0)
                e = ML_UNKNOWN;
        } else if ((nf = tfrs__split(s, n, '\t', f, 4)) != 4)
            e = ML_FIELDS;
        else if (tfrs__parse_uint(f[0].s, f[0].n, ML_MAX_ID, &user) < 0 || user == 0)
            e = ML_USER_ID;
        else if (tfrs__parse_uint(f[1].s, f[1].n, ML_MAX_ID, &id) < 0 || id == 0)
            e = ML_ITEM_ID;
        else if (t->index.nslots == 0 || (it_e = tfrs__idmap_slot(&t->index, (uint32_t)id))[0] == 0)
            e = ML_UNKNOWN;
        else if (parse_rating(f[2].s, f[2].n, &rating) < 0)
            e = ML_RATING_VAL;
        else if (tfrs__parse_uint(f[3].s, f[3].n, (uint64_t)INT64_MAX, &ts) < 0)
            e = ML_TIME_VAL;
        if (e == ML_OK && side->users != NULL &&
            (side->users->index.nslots == 0 ||
             (side_e = tfrs__idmap_slot(&side->users->index, (uint32_t)user))[0] == 0))
            e = ML_NO_USER;
        if (e != ML_OK) {
            rc = ml_bad_rating(ld, lines->lineno, e, s, n, f, nf, e == ML_NO_USER ? user : id);
            if (rc < 0)
                return rc;
            continue;
        }
        item = &t->v[it_e[1]];
        if (r >= reserved) {
            if (r >= MAX_ROWS)
                return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", ld->path, MAX_ROWS);
            reserved = r < MAX_ROWS / 2 - 8 ? 2 * r + 16 : MAX_ROWS;
            rc = tfrs__dataset_reserve_rows(ds, reserved);
            if (rc < 0)
                return rc;
        }
        /* Users through an integer map to their string id. */
        if (tfrs__idmap_reserve(users) < 0)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        us_e = tfrs__idmap_slot(users, (uint32_t)user);
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
    if (more < 0)
        return more;
    tfrs__dataset_trim_rows(ds);
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
    rc = tfrs__ml_parse_items(t, buf, len, g, ld);
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
    rc = tfrs__ml_parse_genres(g, buf, len, ld);
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
    rc = tfrs__ml_parse_users(u, buf, len, ld);
    if (rc < 0) {
        tfrs__ml_users_free(u);
        return rc;
    }
    *out = u;
    return TFRS_OK;
}

/* u.data text joined with the items (and the side tables) -> a new dataset
 * *out. */
static int ml_ratings_load(tfrs_dataset **out, ml_items *t, const ml_side *side,
                           tfrs__line_iter *lines, tfrs__loader *ld)
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
        rc = ml_parse_ratings(ds, t, &users, side, lines, ld);
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
    tfrs__loader ld = { name, opts != NULL && opts->skip_bad_lines, 0, NULL };
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
    default: {
        tfrs__line_iter lines;
        tfrs__lines_init(&lines, copy, len);
        rc = ml_ratings_load(out, (ml_items *)(uintptr_t)in, side, &lines, &ld);
        break;
    }
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

/* dir/name, or with dir NULL the file name; NULL if out of memory. */
static char *part_path(const char *dir, const char *name)
{
    return dir != NULL ? tfrs__join_path(dir, name) : tfrs__strdup(name);
}

/* Reads dir/name (one of the small tables) whole, parses it with `parse`
 * (one of the *_load above) into *out; the loader's path is the file's.
 * *path is kept for messages. */
static int load_part(const char *dir, const char *name, char **path, tfrs__loader *ld,
                     const char *what, int (*parse)(void *, char *, size_t, const void *,
                                                    tfrs__loader *),
                     void *out, const void *in)
{
    unsigned char *buf = NULL;
    size_t len;
    int rc;

    if ((*path = part_path(dir, name)) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
    rc = tfrs__read_file(*path, what, &buf, &len);
    if (rc < 0)
        return rc;
    ld->path = *path;
    rc = parse(out, (char *)buf, len, in, ld);
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

/* The ratings file, read a window at a time (it is the large one), the
 * lines that start in [range[0], range[1]) only. */
static int load_ratings_part(tfrs_dataset **out, const char *dir, const char *name, char **path,
                             tfrs__loader *ld, const char *what, ml_items *items,
                             const ml_side *side, const uint64_t range[2])
{
    tfrs__line_iter lines;
    int rc;

    if ((*path = part_path(dir, name)) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
    rc = tfrs__lines_open_range(&lines, *path, what, range[0], range[1]);
    ld->path = *path;
    ld->lines = &lines;
    if (rc == 0)
        rc = ml_ratings_load(out, items, side, &lines, ld);
    ld->lines = NULL;
    tfrs__lines_close(&lines);
    return rc;
}

int tfrs_dataset_load_movielens(tfrs_dataset **out, const char *dir, tfrs_load_options *opts)
{
    static const char what[] = "tfrs_dataset_load_movielens";
    char *paths[4] = { NULL, NULL, NULL, NULL };
    ml_items *items = NULL;
    ml_side side = { NULL, NULL };
    ml_genres *genres = NULL;
    ml_users *users = NULL;
    tfrs__loader ld = { NULL, 0, 0, NULL };
    unsigned features = 0;
    const char *ratings = NULL;
    uint64_t range[2];
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (dir == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: dir is NULL", what);
    rc = tfrs__load_options_check(opts, what);
    if (rc == 0)
        rc = tfrs__load_range(opts, what, range);
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
        rc = load_part(dir, "u.item", &paths[1], &ld, what, parse_items_part, &items, genres);
    if (rc == 0 && (features & TFRS_MOVIELENS_USER_FEATURES))
        rc = load_part(dir, "u.user", &paths[2], &ld, what, parse_users_part, &users, NULL);
    side.genres = genres;
    side.users = users;
    if (rc == 0)
        rc = load_ratings_part(out, ratings != NULL ? NULL : dir,
                               ratings != NULL ? ratings : "u.data", &paths[3], &ld, what,
                               items, &side, range);
    if (opts != NULL)
        opts->bad_lines = ld.bad;
    tfrs__ml_items_free(items);
    tfrs__ml_users_free(users);
    tfrs__free(genres);
    for (int i = 0; i < 4; i++)
        tfrs__free(paths[i]);
    return rc;
}
