/*
 * test-stream.c - text files read through a window (load_text.c): every
 * line, error and row is the same as when the whole text is in memory
 * (the buffer seams), whatever the window cuts.
 *
 * This program compiles its own lib/load_text.c with TFRS__LINES_TEST, so
 * that tfrs__lines_window sets the window; everything else comes from the
 * library.  Every text is generated here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_delimited.h"
#include "load_movielens.h"
#include "load_text.h"
#include "util/status.h"
#include "testutil.h"

#ifndef TFRS__LINES_TEST
#error "test-stream needs load_text.c built with TFRS__LINES_TEST"
#endif

/* The windows tried: every size from the smallest up to past the longest
 * line of most texts, and the default. */
static const size_t windows[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 23,
                                  31, 32, 33, 47, 64, 100, TFRS__LINES_WINDOW };

/* A small generator of its own (the test must not depend on util/rng). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- the line iterator ---------------------------------------------------- */

/* Writes a new file at path (a new one: ext4 flushes a file rewritten in
 * place when it is closed, which made this test slow). */
static void new_file(const char *path, const void *data, size_t n)
{
    unlink(path);
    tu_write_bytes(path, data, n);
}

/* The lines of the file at path, read through window w, equal those of
 * the same bytes text[0..len) in memory: contents, numbers, the end. */
static void check_lines_window(const char *path, const char *text, size_t len, size_t w,
                               const char *what)
{
    char *copy = malloc(len + 1), *s1, *s2;
    tfrs__line_iter mem, file;
    size_t n1, n2, lines = 0;
    int r1, r2;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    copy[len] = '\0';
    tfrs__lines_window = w;
    tfrs__lines_init(&mem, copy, len);
    ck_assert_int_eq(tfrs__lines_open(&file, path, "test"), TFRS_OK);
    do {
        r1 = tfrs__next_line(&mem, &s1, &n1);
        r2 = tfrs__next_line(&file, &s2, &n2);
        ck_assert_msg(r1 == r2, "%s, window %zu, line %zu: %d vs %d", what, w, lines + 1, r1,
                      r2);
        if (r1 > 0) {
            lines++;
            ck_assert_msg(n1 == n2 && memcmp(s1, s2, n1) == 0 &&
                          mem.lineno == file.lineno && file.lineno == lines,
                          "%s, window %zu: line %zu differs", what, w, lines);
        }
    } while (r1 > 0);
    /* The end is sticky. */
    ck_assert_int_eq(tfrs__next_line(&file, &s2, &n2), 0);
    tfrs__lines_close(&file);
    tfrs__lines_close(&file);
    tfrs__lines_window = TFRS__LINES_WINDOW;
    free(copy);
}

/* check_lines_window for every window of `windows`. */
static void check_lines(const char *text, size_t len, const char *what)
{
    const char *path = tu_tmp_path("lines.txt");

    new_file(path, text, len);
    for (size_t i = 0; i < TU_NELEM(windows); i++)
        check_lines_window(path, text, len, windows[i], what);
}

START_TEST(lines_of_random_texts)
{
    /* Bytes that matter to the iterator, often: every cut of a CRLF, of a
     * run of empty lines, of a byte order mark, a line ending right at the
     * window's end, lines longer than the window, a last line without a
     * newline. */
    static const char alphabet[] = { 'a', 'b', '\t', '\r', '\n', '\n', '\r', '\0', '\xEF' };
    uint64_t st = 0x9e3779b97f4a7c15ull;
    char text[160];
    char what[64];

    for (int t = 0; t < 400; t++) {
        size_t len = next_rand(&st) % sizeof(text), o = 0;
        if (t % 5 == 0 && len >= 3) {
            memcpy(text, "\xEF\xBB\xBF", 3);
            o = 3;
        }
        for (; o < len; o++)
            text[o] = alphabet[next_rand(&st) % sizeof(alphabet)];
        snprintf(what, sizeof(what), "text %d (%zu bytes)", t, len);
        check_lines(text, len, what);
    }
}
END_TEST

START_TEST(lines_of_every_length_and_ending)
{
    /* Lines of 0 .. 70 bytes, ending in LF, CRLF or CR CR LF, so that each
     * window sees its end fall at every offset of a line and its ending;
     * then the same with empty lines after (which end the text) and a last
     * line without a newline. */
    static const char *const endings[] = { "\n", "\r\n", "\r\r\n" };
    size_t cap = 70 * 71 / 2 * 3 + 71 * 12 + 64, len = 0;
    char *text = malloc(cap);

    ck_assert_ptr_nonnull(text);
    for (size_t n = 0; n <= 70; n++) {
        const char *e = endings[n % 3];
        for (size_t k = 0; k < n; k++)
            text[len++] = (char)('a' + (k + n) % 26);
        memcpy(text + len, e, strlen(e));
        len += strlen(e);
    }
    check_lines(text, len, "lengths");
    memcpy(text + len, "\r\n\n\r\n\n", 6);
    check_lines(text, len + 6, "lengths, empty lines after");
    memcpy(text + len + 6, "last", 4);
    check_lines(text, len + 10, "lengths, last line");
    check_lines("", 0, "empty file");
    check_lines("\xEF\xBB\xBF", 3, "byte order mark only");
    free(text);
}
END_TEST

START_TEST(window_stays_bounded)
{
    /* 4 MiB of short lines: the window stays at its size.  A line of
     * 100000 bytes: the window grows to hold it, and no more than twice. */
    size_t len = (size_t)4 << 20, count = 0;
    char *text = malloc(len), *s;
    tfrs__line_iter it;
    size_t n;
    int rc;

    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < len; i++)
        text[i] = i % 10 == 9 ? '\n' : (char)('0' + i % 10);
    tu_write_bytes(tu_tmp_path("big.txt"), text, len);
    ck_assert_int_eq(tfrs__lines_open(&it, tu_tmp_path("big.txt"), "test"), TFRS_OK);
    while ((rc = tfrs__next_line(&it, &s, &n)) > 0) {
        ck_assert_uint_eq(n, count < len / 10 ? 9 : len % 10);
        count++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(count, len / 10 + (len % 10 != 0));
    ck_assert_uint_eq(it.cap, TFRS__LINES_WINDOW);
    tfrs__lines_close(&it);

    tfrs__lines_window = 64;
    memset(text, 'x', 100000);
    memcpy(text + 100000, "\nend\n", 5);
    tu_write_bytes(tu_tmp_path("long.txt"), text, 100005);
    ck_assert_int_eq(tfrs__lines_open(&it, tu_tmp_path("long.txt"), "test"), TFRS_OK);
    ck_assert_int_eq(tfrs__next_line(&it, &s, &n), 1);
    ck_assert_uint_eq(n, 100000);
    ck_assert(s[0] == 'x' && s[99999] == 'x');
    ck_assert_uint_ge(it.cap, 100000);
    ck_assert_uint_lt(it.cap, 2 * 100001);
    ck_assert_int_eq(tfrs__next_line(&it, &s, &n), 1);
    ck_assert(n == 3 && memcmp(s, "end", 3) == 0 && it.lineno == 2);
    ck_assert_int_eq(tfrs__next_line(&it, &s, &n), 0);
    tfrs__lines_close(&it);
    tfrs__lines_window = TFRS__LINES_WINDOW;
    free(text);
}
END_TEST

/* ---- the loaders ------------------------------------------------------------ */

/* a and b hold the same columns, rows and values (string ids included). */
static void check_same_dataset(const tfrs_dataset *a, const tfrs_dataset *b, const char *what)
{
    size_t rows = tfrs_dataset_num_rows(a), cols = tfrs_dataset_num_columns(a);

    ck_assert_msg(rows == tfrs_dataset_num_rows(b) && cols == tfrs_dataset_num_columns(b),
                  "%s: %zu x %zu vs %zu x %zu", what, rows, cols, tfrs_dataset_num_rows(b),
                  tfrs_dataset_num_columns(b));
    for (size_t c = 0; c < cols; c++) {
        const char *na, *nb;
        tfrs_column_type ta, tb;
        ck_assert_int_eq(tfrs_dataset_column_info(a, c, &na, &ta), TFRS_OK);
        ck_assert_int_eq(tfrs_dataset_column_info(b, c, &nb, &tb), TFRS_OK);
        ck_assert_str_eq(na, nb);
        ck_assert_int_eq(ta, tb);
        if (ta == TFRS_COLUMN_STRING) {
            const uint32_t *ia, *ib;
            size_t sa, sb;
            ck_assert_int_eq(tfrs_dataset_string_ids(a, na, &ia, &sa), TFRS_OK);
            ck_assert_int_eq(tfrs_dataset_string_ids(b, nb, &ib, &sb), TFRS_OK);
            ck_assert_uint_eq(sa, sb);
            ck_assert(rows == 0 || memcmp(ia, ib, rows * sizeof(*ia)) == 0);
            for (uint32_t k = 0; k < sa; k++) {
                const char *x, *y;
                ck_assert_int_eq(tfrs_dataset_string(a, na, k, &x), TFRS_OK);
                ck_assert_int_eq(tfrs_dataset_string(b, nb, k, &y), TFRS_OK);
                ck_assert_str_eq(x, y);
            }
        } else if (ta == TFRS_COLUMN_FLOAT) {
            const float *fa, *fb;
            ck_assert_int_eq(tfrs_dataset_floats(a, na, &fa), TFRS_OK);
            ck_assert_int_eq(tfrs_dataset_floats(b, nb, &fb), TFRS_OK);
            ck_assert(rows == 0 || memcmp(fa, fb, rows * sizeof(*fa)) == 0);
        } else {
            const int64_t *va, *vb;
            ck_assert_int_eq(tfrs_dataset_int64s(a, na, &va), TFRS_OK);
            ck_assert_int_eq(tfrs_dataset_int64s(b, nb, &vb), TFRS_OK);
            ck_assert(rows == 0 || memcmp(va, vb, rows * sizeof(*va)) == 0);
        }
    }
}

/* Two results of one text: the status, the message, the lines skipped and
 * the dataset agree. */
typedef struct outcome {
    int           rc;
    char          msg[512];
    size_t        bad;
    tfrs_dataset *ds;
} outcome;

static void check_same(outcome *a, outcome *b, const char *what, size_t w)
{
    ck_assert_msg(a->rc == b->rc, "%s, window %zu: status %d vs %d (%s | %s)", what, w, a->rc,
                  b->rc, a->msg, b->msg);
    ck_assert_msg(strcmp(a->msg, b->msg) == 0, "%s, window %zu: \"%s\" vs \"%s\"", what, w,
                  a->msg, b->msg);
    ck_assert_msg(a->bad == b->bad, "%s, window %zu: %zu vs %zu lines skipped", what, w,
                  a->bad, b->bad);
    if (a->rc == TFRS_OK)
        check_same_dataset(a->ds, b->ds, what);
    else
        ck_assert(a->ds == NULL && b->ds == NULL);
    tfrs_dataset_free(a->ds);
    tfrs_dataset_free(b->ds);
}

static void record(outcome *o, int rc, size_t bad)
{
    o->rc = rc;
    o->bad = bad;
    snprintf(o->msg, sizeof(o->msg), "%s", rc == TFRS_OK ? "" : tfrs_last_error());
}

/* Texts every loader must treat alike through a window: CRLF, empty lines
 * inside and after, a last line without a newline, a NUL byte, a line far
 * longer than the small windows, a byte order mark, a bad number. */
#define LONG_FIELD "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789" \
                   "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"
static const struct { const char *text; size_t len; } csv_texts[] = {
#define T(s) { s, sizeof(s) - 1 }
    T("user,item,rating\n1,a,4\n2,b,3.5\n3,c,1\n"),
    T("user,item,rating\r\n1,a,4\r\n2,b,3.5\r\n\r\n3,c,1\r\n\r\n\n"),
    T("\xEF\xBB\xBFuser,item,rating\n1,a,4\n2,b,3.5\n3,c,1"),
    T("user,item,rating\n1,a,4\n2,b\0x,3\n3,c,1\n"),
    T("user,item,rating\n1," LONG_FIELD ",4\n2," LONG_FIELD LONG_FIELD ",2\n3,c,1\n"),
    T("user,item,rating\n1,a,4\n2,b,nan\n3,c,1\n\n4,d,2\n"),
    T("user,item,rating\n1,a\n2,b,3,4\n3,c,1\r\n"),
    T("user,item,rating\n1,a,4\n2,\xff,3\n"),
    T("user,item,rating"),
    T("\n\n\r\n"),
    T("us\0er,item,rating\n1,a,4\n"),
#undef T
};

static void delimited_pair(size_t i, int skip, size_t w)
{
    static const char *const floats[] = { "rating" };
    const char *path = tu_tmp_path("r.csv");
    tfrs_delimited_options o;
    outcome a = { 0 }, b = { 0 };
    char what[64];
    int rc;

    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = floats;
    o.num_float_columns = 1;
    o.load.skip_bad_lines = skip;
    rc = tfrs__load_delimited_buffer(&a.ds, csv_texts[i].text, csv_texts[i].len, path, &o);
    record(&a, rc, o.load.bad_lines);
    tfrs__lines_window = w;
    o.load.bad_lines = 12345;
    rc = tfrs_dataset_load_delimited(&b.ds, path, &o);
    record(&b, rc, o.load.bad_lines);
    tfrs__lines_window = TFRS__LINES_WINDOW;
    snprintf(what, sizeof(what), "csv text %zu, skip %d", i, skip);
    check_same(&a, &b, what, w);
}

START_TEST(delimited_file_as_buffer)
{
    for (size_t i = 0; i < TU_NELEM(csv_texts); i++) {
        new_file(tu_tmp_path("r.csv"), csv_texts[i].text, csv_texts[i].len);
        for (int skip = 0; skip < 2; skip++)
            for (size_t k = 0; k < TU_NELEM(windows); k++)
                delimited_pair(i, skip, windows[k]);
    }
}
END_TEST

#define GENRES "|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0"
static const char items_text[] =
    "1|Paper Lanterns (1995)|07-Mar-2003||http://x" GENRES "\n"
    "2|Caf\xe9 Noir (1995)|07-Mar-2003||http://y" GENRES "\n"
    "30|Twice (1996)|||" GENRES "\n";

static const struct { const char *text; size_t len; } data_texts[] = {
#define T(s) { s, sizeof(s) - 1 }
    T("301\t2\t3\t900000049\n7\t1\t5\t0\n"),
    T("301\t2\t3\t900000049\r\n7\t1\t5\t0\r\n\r\n8\t30\t4\t5\r\n\r\n\r\n"),
    T("\xEF\xBB\xBF" "301\t2\t3\t900000049\n7\t1\t5\t0"),
    T("301\t2\t3\t900000049\n7\t1\0\t5\t0\n8\t30\t4\t5\n"),
    T("301\t2\t3\t900000049\n7\t1\t5\t0000000000000000000000000000000000000000000000000000001\n"
      "8\t30\t4\t5\n"),
    T("301\t2\t3\t900000049\n7\t9\t5\t0\n8\t30\t4.0\t5\n9\t30\t4.5\t5\n\n"),
    T("301\t2\t3\n7\t1\t5\t0\t1\n" LONG_FIELD "\t2\t3\t4\n8\t30\t4\t5"),
    T(""),
#undef T
};

static void movielens_pair(size_t i, int skip, size_t w)
{
    const char *path = tu_tmp_path("ratings.tsv");
    tfrs_load_options o;
    tfrs__ml_items *items = NULL;
    outcome a = { 0 }, b = { 0 };
    char what[64];
    int rc;

    tfrs_load_options_init(&o, TFRS_LOAD_OPTIONS_VERSION);
    o.skip_bad_lines = skip;
    ck_assert_int_eq(tfrs__parse_items(&items, items_text, sizeof(items_text) - 1, "u.item",
                                       NULL), TFRS_OK);
    rc = tfrs__parse_ratings(&a.ds, items, data_texts[i].text, data_texts[i].len, path, &o);
    record(&a, rc, o.bad_lines);
    tfrs__ml_items_free(items);
    tfrs__lines_window = w;
    o.ratings_file = path;
    o.bad_lines = 12345;
    rc = tfrs_dataset_load_movielens(&b.ds, tu_tmpdir, &o);
    record(&b, rc, o.bad_lines);
    tfrs__lines_window = TFRS__LINES_WINDOW;
    snprintf(what, sizeof(what), "u.data text %zu, skip %d", i, skip);
    check_same(&a, &b, what, w);
}

START_TEST(movielens_file_as_buffer)
{
    tu_tmp_write("u.item", items_text, sizeof(items_text) - 1);
    for (size_t i = 0; i < TU_NELEM(data_texts); i++) {
        new_file(tu_tmp_path("ratings.tsv"), data_texts[i].text, data_texts[i].len);
        for (int skip = 0; skip < 2; skip++)
            for (size_t k = 0; k < TU_NELEM(windows); k++)
                movielens_pair(i, skip, windows[k]);
    }
}
END_TEST

START_TEST(out_of_memory_while_streaming)
{
    /* Every allocation of a load through a small window (the window's
     * growth for the long line included) fails in turn: TFRS_ENOMEM and
     * nothing leaked, until the load succeeds. */
    static const char *const floats[] = { "rating" };
    const char *path = tu_tmp_path("oom.csv");
    tfrs_delimited_options o;
    tu_alloc a;
    int rc = TFRS_ENOMEM;
    size_t rows = 0;
    long k;

    tu_write_bytes(path, csv_texts[4].text, csv_texts[4].len);
    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = floats;
    o.num_float_columns = 1;
    tfrs__lines_window = 8;
    for (k = 0; k < 10000 && rc != TFRS_OK; k++) {
        tfrs_dataset *ds = (tfrs_dataset *)&k;
        tu_oom_begin(&a, k);
        rc = tfrs_dataset_load_delimited(&ds, path, &o);
        if (rc == TFRS_OK) {
            rows = tfrs_dataset_num_rows(ds);
            tfrs_dataset_free(ds);
        }
        tu_oom_end(&a);
        if (rc != TFRS_OK) {
            ck_assert_msg(rc == TFRS_ENOMEM, "allocation %ld: %s", k, tfrs_last_error());
            ck_assert_ptr_null(ds);
        }
    }
    tfrs__lines_window = TFRS__LINES_WINDOW;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(rows, 3);
    ck_assert_int_gt(k, 5);
}
END_TEST

START_TEST(file_cut_while_streaming)
{
    /* The window reads the bytes the file had when it was opened: a file
     * cut behind the reader is an I/O error, not a short dataset. */
    const char *path = tu_tmp_path("cut.txt");
    tfrs__line_iter it;
    char *s;
    size_t n;
    int rc;

    tu_write_text(path, "line one\nline two\nline three\n");
    tfrs__lines_window = 8;
    ck_assert_int_eq(tfrs__lines_open(&it, path, "test"), TFRS_OK);
    ck_assert_int_eq(truncate(path, 12), 0);
    while ((rc = tfrs__next_line(&it, &s, &n)) > 0)
        ;
    ck_assert_int_eq(rc, TFRS_EIO);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), path));
    tfrs__lines_close(&it);
    tfrs__lines_window = TFRS__LINES_WINDOW;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tu_tcase(s, "lines", lines_of_random_texts, lines_of_every_length_and_ending,
                         window_stays_bounded, file_cut_while_streaming);

    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tcase_set_timeout(tc, 300);
    tc = tu_tcase(s, "loaders", delimited_file_as_buffer, movielens_file_as_buffer,
                  out_of_memory_while_streaming);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tcase_set_timeout(tc, 300);
    return tu_run(s);
}
