/*
 * test-range.c - byte ranges of a file (tfrs_load_options version 4): the
 * ranges of any cut points split the file's lines exactly (their datasets,
 * one after the other, are the whole file's, row by row), messages name
 * the line numbers of the whole file, and a range reads the file only from
 * range_begin - 1 on, about as much as it spans.
 *
 * Like test-stream, this program compiles its own lib/load_text.c with
 * TFRS__LINES_TEST, so that tfrs__lines_window sets the window; and it
 * defines read() and pread(), which the library's file reader calls, to
 * record which bytes of a file are read.  Every text is generated here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE      /* read() is defined below */

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "load_text.h"
#include "testutil.h"

#ifndef TFRS__LINES_TEST
#error "test-range needs load_text.c built with TFRS__LINES_TEST"
#endif

/* A small generator of its own (the test must not depend on util/rng). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- the bytes read ------------------------------------------------------- */

/* The reads of one file (by device and inode) while `on`. */
#define MAX_READS 4096
static struct {
    int      on;
    dev_t    dev;
    ino_t    ino;
    size_t   n;                          /* reads recorded            */
    uint64_t off[MAX_READS], len[MAX_READS];
    uint64_t bytes;                      /* bytes read, all reads     */
} rec;

static int recorded(int fd)
{
    struct stat st;

    return rec.on && fstat(fd, &st) == 0 && st.st_dev == rec.dev && st.st_ino == rec.ino;
}

static void note(uint64_t off, ssize_t k)
{
    if (rec.n < MAX_READS) {
        rec.off[rec.n] = off;
        rec.len[rec.n] = (uint64_t)k;
    }
    rec.n++;
    rec.bytes += (uint64_t)k;
}

ssize_t read(int fd, void *buf, size_t n)
{
    int r = recorded(fd);
    off_t pos = r ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t k = (ssize_t)syscall(SYS_read, fd, buf, n);

    if (r && k > 0)
        note((uint64_t)pos, k);
    return k;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    ssize_t k = (ssize_t)syscall(SYS_pread64, fd, buf, n, off);

    if (k > 0 && recorded(fd))
        note((uint64_t)off, k);
    return k;
}

/* Records the reads of the file at path from now on. */
static void record_reads(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    memset(&rec, 0, sizeof(rec));
    rec.dev = st.st_dev;
    rec.ino = st.st_ino;
    rec.on = 1;
}

/* Every read recorded lies within [0, head) or at or after `from`; some
 * were (the definitions above are the ones the library calls). */
static void check_reads(uint64_t head, uint64_t from, const char *what)
{
    rec.on = 0;
    ck_assert_msg(rec.n > 0, "%s: no read recorded", what);
    ck_assert_uint_le(rec.n, MAX_READS);
    for (size_t i = 0; i < rec.n; i++)
        ck_assert_msg(rec.off[i] + rec.len[i] <= head || rec.off[i] >= from,
                      "%s: read %zu of [%" PRIu64 ", %" PRIu64 ") is before byte %" PRIu64,
                      what, i, rec.off[i], rec.off[i] + rec.len[i], from);
}

/* ---- loads and their rows ------------------------------------------------- */

/* The rows of one or more loads, serialized in order (strings as they
 * are, floats by their bits, int64s in decimal), with the last load's
 * status and message. */
typedef struct result {
    int    rc;
    char   msg[512];
    char   cols[256];   /* the column names and types of the last load */
    size_t rows, bad;
    char  *text;
    size_t len, cap;
} result;

static void put(result *r, const char *s, size_t n)
{
    if (n == 0)             /* an empty string: nothing to copy (text may be NULL) */
        return;
    if (r->len + n > r->cap) {
        r->cap = 2 * (r->len + n) + 64;
        r->text = realloc(r->text, r->cap);
        ck_assert_ptr_nonnull(r->text);
    }
    memcpy(r->text + r->len, s, n);
    r->len += n;
}

static void serialize(result *r, const tfrs_dataset *ds)
{
    size_t rows = tfrs_dataset_num_rows(ds), cols = tfrs_dataset_num_columns(ds), o = 0;

    r->cols[0] = '\0';
    for (size_t c = 0; c < cols; c++) {
        const char *name;
        tfrs_column_type t;
        ck_assert_int_eq(tfrs_dataset_column_info(ds, c, &name, &t), TFRS_OK);
        o += (size_t)snprintf(r->cols + o, sizeof(r->cols) - o, "%s:%d ", name, (int)t);
        ck_assert_uint_lt(o, sizeof(r->cols));
    }
    for (size_t i = 0; i < rows; i++) {
        for (size_t c = 0; c < cols; c++) {
            const char *name, *s;
            tfrs_column_type t;
            char num[32];
            tfrs_dataset_column_info(ds, c, &name, &t);
            if (t == TFRS_COLUMN_STRING) {
                ck_assert_int_eq(tfrs_dataset_get_string(ds, name, i, &s), TFRS_OK);
                put(r, s, strlen(s));
            } else if (t == TFRS_COLUMN_FLOAT) {
                const float *f;
                uint32_t bits;
                ck_assert_int_eq(tfrs_dataset_floats(ds, name, &f), TFRS_OK);
                memcpy(&bits, &f[i], 4);
                put(r, num, (size_t)snprintf(num, sizeof(num), "%08" PRIx32, bits));
            } else {
                const int64_t *v;
                ck_assert_int_eq(tfrs_dataset_int64s(ds, name, &v), TFRS_OK);
                put(r, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, v[i]));
            }
            put(r, "\x1f", 1);
        }
        put(r, "\x1e", 1);
    }
    r->rows += rows;
}

static void finish(result *r, int rc, tfrs_dataset *ds, size_t bad)
{
    r->rc = rc;
    r->msg[0] = '\0';
    if (rc == TFRS_OK) {
        serialize(r, ds);
        r->bad += bad;
        tfrs_dataset_free(ds);
    } else {
        ck_assert_ptr_null(ds);
        snprintf(r->msg, sizeof(r->msg), "%s", tfrs_last_error());
    }
}

static void result_free(result *r)
{
    free(r->text);
    memset(r, 0, sizeof(*r));
}

/* A loader of the lines that start in [b, e) ([0, 0): the whole file). */
typedef void (*load_fn)(result *r, uint64_t b, uint64_t e, int skip);

/* MovieLens: the directory's u.item, the ratings in ratings.tsv. */
static void load_ml(result *r, uint64_t b, uint64_t e, int skip)
{
    tfrs_load_options o;
    tfrs_dataset *ds = (tfrs_dataset *)&o;
    int rc;

    ck_assert_int_eq(tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION), TFRS_OK);
    o.skip_bad_lines = skip;
    o.ratings_file = tu_tmp_path("ratings.tsv");
    o.range_begin = b;
    o.range_end = e;
    o.bad_lines = 12345;
    rc = tfrs_dataset_load_movielens(&ds, tu_tmpdir, &o);
    finish(r, rc, ds, o.bad_lines);
}

/* Delimited: r.csv, its column "rating" (if any) a float column. */
static void load_csv(result *r, uint64_t b, uint64_t e, int skip)
{
    static const char *const floats[] = { "rating" };
    tfrs_delimited_options o;
    tfrs_dataset *ds = (tfrs_dataset *)&o;
    int rc;

    ck_assert_int_eq(tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION), TFRS_OK);
    o.float_columns = floats;
    o.num_float_columns = 1;
    o.load.skip_bad_lines = skip;
    o.load.range_begin = b;
    o.load.range_end = e;
    o.load.bad_lines = 12345;
    rc = tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &o);
    finish(r, rc, ds, o.load.bad_lines);
}

/* Delimited with one string column and no float column: empty lines are
 * rows there (but at the end of the file). */
static void load_one_column(result *r, uint64_t b, uint64_t e, int skip)
{
    tfrs_delimited_options o;
    tfrs_dataset *ds = (tfrs_dataset *)&o;
    int rc;

    ck_assert_int_eq(tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION), TFRS_OK);
    o.load.skip_bad_lines = skip;
    o.load.range_begin = b;
    o.load.range_end = e;
    rc = tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &o);
    finish(r, rc, ds, o.load.bad_lines);
}

/* The ranges [0, cuts[0]), [cuts[0], cuts[1]), ..., [cuts[n - 1], last)
 * (cuts nondecreasing, last >= them) load what the whole file loads: the
 * same rows in the same order and as many skipped lines; or, as soon as
 * one fails, the whole file fails alike (status and message, which names
 * the line's number in the whole file).  A first range [0, 0) is empty
 * and left out ([0, 0) means the whole file). */
static void check_partition(load_fn load, const uint64_t *cuts, size_t n, uint64_t last,
                            int skip, const char *what)
{
    result whole = { 0 }, parts = { 0 };
    uint64_t b = 0;

    load(&whole, 0, 0, skip);
    for (size_t k = 0; k <= n; k++) {
        uint64_t e = k < n ? cuts[k] : last;
        if (b == 0 && e == 0)
            continue;
        load(&parts, b, e, skip);
        if (parts.rc != TFRS_OK) {
            ck_assert_msg(parts.rc == whole.rc && strcmp(parts.msg, whole.msg) == 0,
                          "%s: range [%" PRIu64 ", %" PRIu64 ") gave %d \"%s\", the whole file "
                          "%d \"%s\"", what, b, e, parts.rc, parts.msg, whole.rc, whole.msg);
            goto done;
        }
        ck_assert_msg(strcmp(parts.cols, whole.cols) == 0 || whole.rc != TFRS_OK,
                      "%s: columns %s vs %s", what, parts.cols, whole.cols);
        b = e;
    }
    ck_assert_msg(whole.rc == TFRS_OK, "%s: the whole file gave %d \"%s\", no range failed",
                  what, whole.rc, whole.msg);
    ck_assert_msg(parts.rows == whole.rows && parts.bad == whole.bad,
                  "%s: %zu rows, %zu skipped vs %zu, %zu for the whole file", what, parts.rows,
                  parts.bad, whole.rows, whole.bad);
    ck_assert_msg(parts.len == whole.len && (whole.len == 0 ||
                                             memcmp(parts.text, whole.text, whole.len) == 0),
                  "%s: the rows differ", what);
done:
    result_free(&whole);
    result_free(&parts);
}

/* ---- generated texts ------------------------------------------------------ */

static const char items_text[] =
    "1|Paper Lanterns (1995)|07-Mar-2003||http://x|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Caf\xe9 Noir (1995)|07-Mar-2003||http://y|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "30|Twice (1996)||||0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n";

typedef struct piece {
    const char *s;
    size_t      n;
} piece;
#define P(s) { s, sizeof(s) - 1 }

/* Valid and bad u.data lines, CRLF, empty lines, lines of CR bytes, a NUL,
 * a last line without a newline. */
static const piece ml_pieces[] = {
    P("1\t1\t4\t100\n"), P("2\t30\t5\t7\r\n"), P("3\t2\t1.0\t9\n"), P("12\t1\t2\t88\n"),
    P("\n"), P("\r\n"), P("\r\r\n"), P("\r"), P("x\t1\n"), P("7\t9\t5\t0\n"), P("4\t2\t3\t5"),
    P("\0\n"), P("8\t30\t6\t1\n"), P("\r\r"),
};
static const piece csv_heads[] = {
    P("user,item,rating\n"), P("user,item,rating\r\n"), P("\xEF\xBB\xBFuser,item,rating\n"),
    P("user,item,rating\n"), P("a,a\n"), P(""), P("\n"), P("user,item,rating"),
};
static const piece csv_pieces[] = {
    P("1,a,4\n"), P("2,b,3.5\r\n"), P("3,c\n"), P("\n"), P("\r\n"), P("\r\r\n"), P("\r"),
    P("4,\xff,1\n"), P("5,d,nan\n"), P("6,e,1e3\n"), P(",,0\n"), P("7,f,2"),
};
static const piece one_heads[] = { P("x\n"), P("\xEF\xBB\xBFx\r\n"), P("x") };
static const piece one_pieces[] = {
    P("a\n"), P("\n"), P("\r\n"), P("\r\r\n"), P("\r"), P("b"), P("\r\r\r\n"), P("c\r\n"),
    P("\r\r"),
};

/* A text of up to `count` random pieces after a head (none when nheads
 * is 0), sometimes after a byte order mark and with stray bytes. */
static size_t make_text(char *text, size_t cap, const piece *heads, size_t nheads,
                        const piece *pieces, size_t npieces, size_t count, uint64_t *st)
{
    static const char stray[] = { '1', '\t', ',', '\n', '\r' };
    size_t len = 0, k = next_rand(st) % (count + 1);

    if (nheads > 0) {
        const piece *h = &heads[next_rand(st) % nheads];
        memcpy(text, h->s, h->n);
        len = h->n;
    } else if (next_rand(st) % 6 == 0) {
        memcpy(text, "\xEF\xBB\xBF", 3);
        len = 3;
    }
    while (k-- > 0) {
        const piece *p = &pieces[next_rand(st) % npieces];
        ck_assert_uint_le(len + p->n + 1, cap);
        memcpy(text + len, p->s, p->n);
        len += p->n;
        if (next_rand(st) % 8 == 0)
            text[len++] = stray[next_rand(st) % sizeof(stray)];
    }
    return len;
}

/* The windows tried: small ones (lines longer than the window, every cut
 * of a CRLF by the window's end) and the default. */
static const size_t windows[] = { 4, 9, TFRS__LINES_WINDOW };

/* For `text` in `file`: every single cut (two ranges, the second to the
 * end, to the size or past it), then random sets of three cuts (empty
 * ranges included), through each window, skipping bad lines or not. */
static void check_text(load_fn load, const char *file, const char *text, size_t len,
                       uint64_t *st, const char *what)
{
    char name[160];

    unlink(tu_tmp_path(file));
    tu_write_bytes(tu_tmp_path(file), text, len);
    for (size_t w = 0; w < TU_NELEM(windows); w++) {
        tfrs__lines_window = windows[w];
        for (int skip = 0; skip < 2; skip++) {
            for (uint64_t c = 0; c <= len + 1; c++) {
                uint64_t last = c % 3 == 0 ? UINT64_MAX : c % 3 == 1 ? len : len + 5;
                snprintf(name, sizeof(name), "%s, window %zu, skip %d, cut %" PRIu64, what,
                         windows[w], skip, c);
                check_partition(load, &c, 1, last < c ? c : last, skip, name);
            }
            for (int t = 0; t < 12; t++) {
                uint64_t cuts[3];
                for (int i = 0; i < 3; i++)
                    cuts[i] = next_rand(st) % (len + 2);
                if (t % 3 == 0)
                    cuts[1] = cuts[0];                  /* an empty range */
                for (int i = 0; i < 3; i++)             /* sorted */
                    for (int j = i + 1; j < 3; j++)
                        if (cuts[j] < cuts[i]) {
                            uint64_t x = cuts[i];
                            cuts[i] = cuts[j];
                            cuts[j] = x;
                        }
                snprintf(name, sizeof(name), "%s, window %zu, skip %d, cuts %" PRIu64 " %"
                         PRIu64 " %" PRIu64, what, windows[w], skip, cuts[0], cuts[1], cuts[2]);
                check_partition(load, cuts, 3, UINT64_MAX, skip, name);
            }
        }
    }
    tfrs__lines_window = TFRS__LINES_WINDOW;
}

START_TEST(movielens_ranges_partition)
{
    uint64_t st = 0x2545f4914f6cdd1dull;
    char text[256], what[64];

    tu_tmp_write("u.item", items_text, sizeof(items_text) - 1);
    for (int t = 0; t < 60; t++) {
        size_t len = make_text(text, sizeof(text), NULL, 0, ml_pieces, TU_NELEM(ml_pieces), 12,
                               &st);
        snprintf(what, sizeof(what), "u.data text %d", t);
        check_text(load_ml, "ratings.tsv", text, len, &st, what);
    }
}
END_TEST

START_TEST(delimited_ranges_partition)
{
    uint64_t st = 0x9e3779b97f4a7c15ull;
    char text[256], what[64];

    for (int t = 0; t < 60; t++) {
        size_t len = make_text(text, sizeof(text), csv_heads, TU_NELEM(csv_heads), csv_pieces,
                               TU_NELEM(csv_pieces), 12, &st);
        snprintf(what, sizeof(what), "csv text %d", t);
        check_text(load_csv, "r.csv", text, len, &st, what);
    }
}
END_TEST

START_TEST(one_column_ranges_partition)
{
    /* Empty lines and lines of CR bytes are rows here, except where they
     * end the file: a range that holds some of them must tell which. */
    uint64_t st = 0xdeadbeefcafef00dull;
    char text[256], what[64];

    for (int t = 0; t < 80; t++) {
        size_t len = make_text(text, sizeof(text), one_heads, TU_NELEM(one_heads), one_pieces,
                               TU_NELEM(one_pieces), 14, &st);
        snprintf(what, sizeof(what), "one-column text %d", t);
        check_text(load_one_column, "r.csv", text, len, &st, what);
    }
}
END_TEST

START_TEST(trailing_cr_lines)
{
    /* A range that starts in the run of CR and LF bytes ending the file,
     * with a line of CR bytes: a row when no empty line comes before it in
     * the run, else nothing (the whole file ends at that empty line). */
    static const piece texts[] = {
        P("x\na\r\r\n\r\r\n\n\r\r\n"), P("x\na\n\r\r\n\r\r\r\n\n\r\r\n"),
        P("x\na\n\n\r\r\n\r\r\n"), P("x\na\n\r\n\r\r\n\r\r"), P("x\n\r\r\n\r\r\n"),
        P("x\n\n\r\r\n"), P("x\r\n\r\r\r\n\r\n\r\r\r\n"),
    };

    for (size_t i = 0; i < TU_NELEM(texts); i++) {
        char what[64];
        uint64_t st = i + 1;
        snprintf(what, sizeof(what), "trailing text %zu", i);
        check_text(load_one_column, "r.csv", texts[i].s, texts[i].n, &st, what);
    }
}
END_TEST

/* ---- long lines, the window's default size -------------------------------- */

START_TEST(lines_longer_than_the_window)
{
    /* Lines of more than 1 MiB (the default window) and cuts around and
     * inside them; a bad long line skipped; the window of a small range in
     * a large file stays small. */
    size_t big = TFRS__LINES_WINDOW + 777, len = 0, cap = 4 * big + 4096;
    char *text = malloc(cap);
    uint64_t starts[4], cuts[9];
    tfrs__line_iter it;

    ck_assert_ptr_nonnull(text);
    len += (size_t)sprintf(text + len, "user,item,rating\n1,a,4\n");
    starts[0] = len;
    len += (size_t)sprintf(text + len, "2,");
    memset(text + len, 'x', big);
    len += big;
    len += (size_t)sprintf(text + len, ",3\r\n3,c,1\n");
    starts[1] = len;
    memset(text + len, 'y', big);       /* a bad line: one field */
    len += big;
    len += (size_t)sprintf(text + len, "\n4,d,2\n5,");
    starts[2] = len - 2;
    memset(text + len, 'z', 2 * big);
    len += 2 * big;
    len += (size_t)sprintf(text + len, ",5");
    tu_write_bytes(tu_tmp_path("r.csv"), text, len);

    {
        const uint64_t single[] = { starts[0], starts[0] + 1, starts[0] + big / 2,
                                    starts[1] - 7, starts[1] - 6, starts[1], starts[1] + 1,
                                    starts[2], starts[2] + 3, len - 1, len };
        for (size_t i = 0; i < TU_NELEM(single); i++)
            check_partition(load_csv, &single[i], 1, UINT64_MAX, 1, "long lines");
        for (size_t i = 0; i < TU_NELEM(cuts); i++)
            cuts[i] = single[i];
        check_partition(load_csv, cuts, TU_NELEM(cuts), len, 1, "long lines, nine cuts");
        check_partition(load_csv, cuts, 2, len, 0, "long lines, strict");
    }

    /* 4 MiB of short lines: a range of 100 bytes in the middle reads its
     * lines through a window of its size, from range_begin - 1 on. */
    for (size_t i = 0; i < 4 * big; i++)
        text[i] = i % 10 == 9 ? '\n' : (char)('0' + i % 10);
    tu_write_bytes(tu_tmp_path("big.txt"), text, 4 * big);
    record_reads(tu_tmp_path("big.txt"));
    ck_assert_int_eq(tfrs__lines_open_range(&it, tu_tmp_path("big.txt"), "test", 2 * big + 3,
                                            2 * big + 103), TFRS_OK);
    {
        char *s;
        size_t n, lines = 0;
        while (tfrs__next_line(&it, &s, &n) > 0)
            lines++;
        ck_assert_uint_eq(lines, 10);
    }
    ck_assert_uint_lt(it.cap, 1024);
    tfrs__lines_close(&it);
    check_reads(0, 2 * big + 2, "small range");
    ck_assert_uint_lt(rec.bytes, 1024);
    free(text);
}
END_TEST

/* ---- line numbers, and the bytes before a range ----------------------------- */

START_TEST(errors_name_the_line_in_the_file)
{
    /* 3000 u.data lines, line 2500 bad: a range from the middle of line
     * 2000 on fails naming line 2500, as the whole file does; the range
     * before it loads.  Through a window of 4 bytes and the default. */
    size_t cap = 3000 * 32, len = 0, at2000 = 0, at1700 = 0;
    char *text = malloc(cap), expect[128];
    result r = { 0 };

    ck_assert_ptr_nonnull(text);
    tu_tmp_write("u.item", items_text, sizeof(items_text) - 1);
    for (int line = 1; line <= 3000; line++) {
        if (line == 2000)
            at2000 = len;
        len += (size_t)sprintf(text + len, line == 2500 ? "%d\t1\t9\t%d\n" : "%d\t2\t3\t%d\r\n",
                               line, 880000000 + line);
    }
    tu_write_bytes(tu_tmp_path("ratings.tsv"), text, len);
    snprintf(expect, sizeof(expect), "%s:2500: bad rating \"9\"", tu_tmp_path("ratings.tsv"));
    for (size_t w = 0; w < 2; w++) {
        tfrs__lines_window = w == 0 ? 4 : TFRS__LINES_WINDOW;
        load_ml(&r, at2000 + 3, UINT64_MAX, 0);
        ck_assert_int_eq(r.rc, TFRS_EPARSE);
        ck_assert_msg(strstr(r.msg, expect) != NULL, "\"%s\" lacks \"%s\"", r.msg, expect);
        load_ml(&r, 0, 0, 0);
        ck_assert_int_eq(r.rc, TFRS_EPARSE);
        ck_assert_ptr_nonnull(strstr(r.msg, expect));
        result_free(&r);
        load_ml(&r, 1, at2000 + 3, 0);
        ck_assert_int_eq(r.rc, TFRS_OK);
        ck_assert_uint_eq(r.rows, 1999);                /* lines 2 .. 2000 */
        result_free(&r);
        load_ml(&r, at2000 + 3, UINT64_MAX, 1);
        ck_assert_int_eq(r.rc, TFRS_OK);
        ck_assert_uint_eq(r.rows, 999);                 /* lines 2001 .. 3000 but 2500 */
        ck_assert_uint_eq(r.bad, 1);
        result_free(&r);
    }

    /* The same with a header: line 1700 of a delimited file. */
    len = (size_t)sprintf(text, "user,item,rating\n");
    for (int line = 2; line <= 3000; line++) {
        if (line == 1700)
            at1700 = len;
        len += (size_t)sprintf(text + len, line == 1700 ? "%d,i\n" : "%d,i,%d\n", line, line);
    }
    tu_write_bytes(tu_tmp_path("r.csv"), text, len);
    snprintf(expect, sizeof(expect), "%s:1700: expected 3 fields, got 2", tu_tmp_path("r.csv"));
    for (size_t w = 0; w < 2; w++) {
        tfrs__lines_window = w == 0 ? 4 : TFRS__LINES_WINDOW;
        load_csv(&r, at1700 - 20, at1700 + 1, 0);
        ck_assert_int_eq(r.rc, TFRS_EPARSE);
        ck_assert_msg(strstr(r.msg, expect) != NULL, "\"%s\" lacks \"%s\"", r.msg, expect);
        load_csv(&r, at1700, at1700 + 1, 0);
        ck_assert_ptr_nonnull(strstr(r.msg, expect));
        load_csv(&r, at1700 + 1, UINT64_MAX, 0);
        ck_assert_int_eq(r.rc, TFRS_OK);
        ck_assert_uint_eq(r.rows, 3000 - 1700);
        result_free(&r);
    }
    tfrs__lines_window = TFRS__LINES_WINDOW;
    result_free(&r);
    free(text);
}
END_TEST

START_TEST(bytes_before_the_range_are_not_read)
{
    /* 50,000 bytes of garbage (NULs, '\n', invalid UTF-8), then good
     * lines: ranges that start after the garbage load cleanly, and no
     * read touches a byte before range_begin - 1 (the delimited loader
     * reads its header line, a short read at offset 0). */
    size_t g = 50000, len = 0, lines = 0;
    char *text = malloc(g + 20000);
    uint64_t st = 77, begin;
    result r = { 0 };

    ck_assert_ptr_nonnull(text);
    tu_tmp_write("u.item", items_text, sizeof(items_text) - 1);
    for (size_t i = 0; i < g; i++)
        text[i] = (char)(next_rand(&st) % 7 == 0 ? '\n' : next_rand(&st) & 0xff);
    len = g;
    text[len++] = '\n';
    for (int k = 0; k < 500; k++, lines++)
        len += (size_t)sprintf(text + len, "%d\t30\t%d\t%d\n", k + 1, k % 5 + 1, k);
    tu_write_bytes(tu_tmp_path("ratings.tsv"), text, len);
    for (int mid = 0; mid < 2; mid++) {
        begin = g + 1 + (uint64_t)mid * 3;     /* at a line start, inside a line */
        record_reads(tu_tmp_path("ratings.tsv"));
        load_ml(&r, begin, UINT64_MAX, 0);
        check_reads(0, begin - 1, "u.data after garbage");
        ck_assert_msg(r.rc == TFRS_OK, "%s", r.msg);
        ck_assert_uint_eq(r.rows, lines - (size_t)mid);
        ck_assert_uint_le(rec.bytes, len - (begin - 1));
        result_free(&r);
    }
    load_ml(&r, 0, 0, 0);
    ck_assert_int_eq(r.rc, TFRS_EPARSE);     /* the garbage, read whole */
    result_free(&r);

    len = (size_t)sprintf(text, "user,item,rating\n");
    memset(text + len, 0, g);                /* NUL bytes */
    text[len + g / 2] = '\n';
    len += g;
    text[len++] = '\n';
    begin = len + 1;                         /* inside the first row */
    for (int k = 0; k < 500; k++)
        len += (size_t)sprintf(text + len, "%d,i,%d\n", k, k);
    tu_write_bytes(tu_tmp_path("r.csv"), text, len);
    record_reads(tu_tmp_path("r.csv"));
    load_csv(&r, begin, len - 3, 0);
    check_reads(17 + TFRS__LINES_OVER_MIN, begin - 1, "delimited after garbage");
    ck_assert_msg(r.rc == TFRS_OK, "%s", r.msg);
    ck_assert_uint_eq(r.rows, 499);
    result_free(&r);
    free(text);
}
END_TEST

/* ---- options ------------------------------------------------------------------ */

START_TEST(options_versions_and_defaults)
{
    tfrs_load_options o;
    tfrs_delimited_options d;
    result r = { 0 }, whole = { 0 };
    tfrs_dataset *ds = NULL;

    tu_tmp_write("u.item", items_text, sizeof(items_text) - 1);
    tu_tmp_write_text("ratings.tsv", "1\t1\t4\t5\n2\t2\t3\t6\n");
    tu_tmp_write_text("r.csv", "user,item,rating\n1,a,4\n2,b,3\n");
    /* Version 4 defaults to the whole file; version 3 leaves the range
     * alone, and a version 3 struct's range is not read. */
    memset(&o, 0x5a, sizeof(o));
    ck_assert_int_eq(tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION), TFRS_OK);
    ck_assert(o.range_begin == 0 && o.range_end == 0);
    ck_assert_uint_eq(TFRS_LOAD_OPTIONS_VERSION, 4);
    memset(&o, 0x5a, sizeof(o));
    ck_assert_int_eq(tfrs_load_options_init(&o, 3), TFRS_OK);
    ck_assert(o.range_begin == 0x5a5a5a5a5a5a5a5aull && o.range_end == o.range_begin);
    o.ratings_file = tu_tmp_path("ratings.tsv");
    o.range_begin = 9;                   /* would be refused by version 4 */
    o.range_end = 3;
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &o), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 2);
    tfrs_dataset_free(ds);
    o.version = 4;
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, &o), TFRS_EINVAL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "range_begin 9 is after range_end 3"));
    ck_assert_ptr_null(ds);
    /* [k, k) is empty; [0, 0) is the whole file; UINT64_MAX ends nothing. */
    load_ml(&r, 5, 5, 0);
    ck_assert(r.rc == TFRS_OK && r.rows == 0);
    ck_assert_str_eq(r.cols, "user_id:1 movie_id:1 movie_title:1 user_rating:2 timestamp:3 ");
    result_free(&r);
    load_ml(&whole, 0, 0, 0);
    load_ml(&r, 0, UINT64_MAX, 0);
    ck_assert(whole.rows == 2 && r.rows == 2 && r.len == whole.len &&
              memcmp(r.text, whole.text, r.len) == 0);
    result_free(&r);
    result_free(&whole);
    load_ml(&r, UINT64_MAX, UINT64_MAX, 0);
    ck_assert(r.rc == TFRS_OK && r.rows == 0);
    result_free(&r);

    /* Delimited version 1 reads no range (its load options are version
     * 1's); version 2 does, and checks load's version. */
    ck_assert_int_eq(tfrs_delimited_options_init(&d, 1), TFRS_OK);
    d.load.range_begin = 9;
    d.load.range_end = 3;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &d), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 2);
    tfrs_dataset_free(ds);
    ck_assert_int_eq(tfrs_delimited_options_init(&d, 2), TFRS_OK);
    ck_assert_uint_eq(d.load.version, 4);
    d.load.range_begin = 9;
    d.load.range_end = 3;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &d), TFRS_EINVAL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "range_begin 9 is after range_end 3"));
    d.load.range_end = 9;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &d), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 0);      /* [9, 9): empty */
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), 3);   /* but the header's columns */
    tfrs_dataset_free(ds);
    d.load.range_begin = 1;                  /* inside the header: from after it */
    d.load.range_end = 18;                   /* the first row starts at 17 */
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &d), TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), 1);
    tfrs_dataset_free(ds);
    d.load.version = 0;
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, tu_tmp_path("r.csv"), &d), TFRS_EINVAL);
    ck_assert_ptr_null(ds);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(movielens_ranges_partition), TU_CASE(delimited_ranges_partition),
        TU_CASE(one_column_ranges_partition), TU_CASE(trailing_cr_lines),
        TU_CASE(lines_longer_than_the_window), TU_CASE(errors_name_the_line_in_the_file),
        TU_CASE(bytes_before_the_range_are_not_read), TU_CASE(options_versions_and_defaults),
    };
    Suite *s = suite_create("range");

    for (size_t i = 0; i < TU_NELEM(cases); i++) {
        TCase *tc = tu_tcase(s, cases[i].name, cases[i].test);
        tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
        tcase_set_timeout(tc, 600);
    }
    return tu_run(s);
}
