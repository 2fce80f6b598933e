/*
 * load_text.c - what the text loaders share: reading a file, iterating its
 * lines, splitting fields, parsing integer and decimal fields, reporting a
 * bad line as "name:line: reason", joining paths, checking options.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/number.h"
#include "util/status.h"
#include "load_text.h"

/* Strict by default: the first bad line fails the load. */
static const tfrs_load_options load_defaults = { .skip_bad_lines = 0 };

int tfrs_load_options_init(tfrs_load_options *opts, unsigned int version)
{
    /* A version 1 struct ends before movielens_features, a version 2 one
     * before ratings_file. */
    size_t size = version == 1   ? offsetof(tfrs_load_options, movielens_features)
                  : version == 2 ? offsetof(tfrs_load_options, ratings_file)
                                 : sizeof(*opts);

    return tfrs__options_init(opts, &load_defaults, size, version,
                              TFRS_LOAD_OPTIONS_VERSION, "tfrs_load_options_init");
}

#ifdef TFRS__LINES_TEST
size_t tfrs__lines_window = TFRS__LINES_WINDOW;
#define WINDOW tfrs__lines_window
#else
#define WINDOW TFRS__LINES_WINDOW
#endif

static const char bom[3] = { '\xEF', '\xBB', '\xBF' };

void tfrs__lines_init(tfrs__line_iter *it, char *buf, size_t len)
{
    memset(it, 0, sizeof(*it));
    it->file.fd = -1;
    /* A UTF-8 byte order mark (what Windows editors put first) is not part
     * of the first line: left in, it would make "\ufeff196" a user id. */
    if (len >= 3 && memcmp(buf, bom, 3) == 0) {
        buf += 3;
        len -= 3;
    }
    it->p = buf;
    it->end = buf + len;
    it->blank_end = buf;
}

void tfrs__lines_close(tfrs__line_iter *it)
{
    tfrs__file_close(&it->file);
    tfrs__free(it->buf);
    it->buf = NULL;
    it->p = it->end = it->blank_end = NULL;
    it->left = 0;
}

/* Reads more of the file into the window, after the unread bytes (moved
 * to its front; the window doubles when they fill it).  1 if bytes were
 * added, 0 at the end of the file, or a negative status.  Pointers into
 * the window move: callers keep offsets from it->p. */
static int refill(tfrs__line_iter *it)
{
    size_t keep = (size_t)(it->end - it->p), blank = 0, want;
    int rc;

    if (it->left == 0)
        return 0;
    if (it->blank_end > it->p)
        blank = (size_t)(it->blank_end - it->p);
    if (keep > 0 && it->p != it->buf)
        memmove(it->buf, it->p, keep);
    if (keep == it->cap) {
        size_t cap;
        char *b;
        if (tfrs__mul(it->cap, 2, &cap) < 0 || cap == SIZE_MAX ||
            (b = tfrs__realloc(it->buf, it->cap + 1, cap + 1)) == NULL)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for a line of '%s' longer than "
                              "%zu bytes", it->who, it->file.path, it->cap);
        it->buf = b;
        it->cap = cap;
    }
    it->p = it->buf;
    it->end = it->buf + keep;
    it->blank_end = it->buf + blank;
    want = it->cap - keep < it->left ? it->cap - keep : it->left;
    rc = tfrs__file_read(&it->file, it->end, want);
    if (rc != TFRS_OK)
        return rc;
    it->end += want;
    *it->end = '\0';
    it->left -= want;
    return 1;
}

int tfrs__lines_open(tfrs__line_iter *it, const char *path, const char *who)
{
    int rc;

    memset(it, 0, sizeof(*it));
    it->who = who;
    if ((rc = tfrs__file_open(&it->file, path, who)) != TFRS_OK)
        return rc;
    it->left = it->file.size;
    /* At least 4 bytes: a byte order mark is looked for in one window. */
    it->cap = WINDOW < it->left ? WINDOW : it->left;
    if (it->cap < 4)
        it->cap = 4;
    if ((it->buf = tfrs__malloc(it->cap + 1)) == NULL) {
        tfrs__lines_close(it);
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for '%s'", who, path);
    }
    it->p = it->end = it->blank_end = it->buf;
    *it->end = '\0';
    if ((rc = refill(it)) < 0)
        return rc;
    if (it->end - it->p >= 3 && memcmp(it->p, bom, 3) == 0)
        it->p += 3;
    it->blank_end = it->p;
    return TFRS_OK;
}

/* At an empty line: 1 if only CR and LF bytes follow to the end of the
 * text (which ends it), 0 if more text follows, or a negative status.  The
 * run's end is kept, so that each run is scanned once; the window grows
 * to hold a run that more text follows. */
static int only_blank_left(tfrs__line_iter *it)
{
    for (;;) {
        char *q = it->blank_end > it->p ? it->blank_end : it->p;
        int rc;
        while (q < it->end && (*q == '\r' || *q == '\n'))
            q++;
        it->blank_end = q;
        if (q < it->end)
            return 0;
        if ((rc = refill(it)) <= 0)
            return rc < 0 ? rc : 1;
    }
}

int tfrs__next_line(tfrs__line_iter *it, char **s, size_t *n)
{
    size_t scanned = 0, len;
    char *nl;
    int rc;

    for (;;) {
        nl = memchr(it->p + scanned, '\n', (size_t)(it->end - it->p) - scanned);
        if (nl != NULL)
            break;
        scanned = (size_t)(it->end - it->p);
        if ((rc = refill(it)) < 0)
            return rc;
        if (rc == 0)
            break;
    }
    if (it->p >= it->end)
        return 0;
    len = (size_t)((nl != NULL ? nl : it->end) - it->p);
    *n = len > 0 && it->p[len - 1] == '\r' ? len - 1 : len;
    if (*n == 0) {
        if ((rc = only_blank_left(it)) < 0)
            return rc;
        if (rc == 1) {
            it->p = it->end;
            return 0;
        }
    }
    /* The window may have moved: the line is len bytes from it->p. */
    *s = it->p;
    it->p += len < (size_t)(it->end - it->p) ? len + 1 : len;
    it->lineno++;
    return 1;
}

size_t tfrs__lines_estimate(const tfrs__line_iter *it)
{
    size_t lines = tfrs__count_lines(it->p, it->end), have = (size_t)(it->end - it->p);
    double guess;

    if (it->left == 0 || have == 0)
        return lines;
    /* The window's lines per byte over the whole file, and 1/32 more: a
     * low guess costs a reallocation, a high one is trimmed at the end. */
    guess = (double)(lines - 1) / (double)have * ((double)have + (double)it->left);
    guess += guess / 32 + 1;
    return guess < (double)(SIZE_MAX / 2) ? (size_t)guess : SIZE_MAX / 2;
}

/* Eight bytes at a time. */
size_t tfrs__count_lines(const char *s, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, low7 = 0x7f7f7f7f7f7f7f7full;
    size_t n = 1;

    for (; end - s >= 8; s += 8) {
        uint64_t w, t;
        memcpy(&w, s, 8);
        w ^= ones * '\n';                     /* '\n' bytes become 0       */
        t = ((w & low7) + low7) | w;          /* high bit set iff byte != 0 */
        t = ~t & ~low7;                       /* high bit set iff byte == 0 */
        n += (size_t)(((t >> 7) * ones) >> 56);
    }
    for (; s < end; s++)
        n += *s == '\n';
    return n;
}

size_t tfrs__split(char *s, size_t n, char delim, tfrs__field *f, size_t maxf)
{
    char *end = s + n, *start = s;
    size_t count = 0;

    /* Fields are short: a byte loop beats a memchr call per field. */
    for (;; s++) {
        if (s == end || *s == delim) {
            if (count < maxf) {
                f[count].s = start;
                f[count].n = (size_t)(s - start);
            }
            count++;
            if (s == end)
                return count;
            start = s + 1;
        }
    }
}

int tfrs__bad_line(tfrs__loader *ld, size_t lineno, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (ld->skip) {
        ld->bad++;
        return 0;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return tfrs__fail(TFRS_EPARSE, "%s:%zu: %s", ld->path, lineno, msg);
}

int tfrs__parse_uint(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    int range = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        if (i < 19) {               /* below 10^19: no uint64 overflow */
            x = x * 10 + d;
        } else if (!range) {
            if (x > (UINT64_MAX - d) / 10)
                range = 1;
            else
                x = x * 10 + d;
        }
    }
    if (range || x > max)
        return -2;
    *v = x;
    return 0;
}

/* The syntax is checked here: tfrs__decimal_to_float (strtof) alone would
 * also take hexadecimal floats, "nan" spellings and leading white space. */
int tfrs__parse_decimal(const char *s, size_t n, float *out)
{
    float v;

    /* Locale-independent: '.' is the decimal point whatever LC_NUMERIC says. */
    if (!tfrs__decimal_syntax(s, n) || tfrs__decimal_to_float(s, n, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

char *tfrs__join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *p = tfrs__malloc(a + (size_t)slash + b + 1);

    if (p != NULL) {
        memcpy(p, dir, a);
        if (slash)
            p[a] = '/';
        memcpy(p + a + slash, name, b + 1);
    }
    return p;
}

int tfrs__load_options_check(const tfrs_load_options *opts, const char *what)
{
    if (opts != NULL && (opts->version == 0 || opts->version > TFRS_LOAD_OPTIONS_VERSION))
        return tfrs__fail(TFRS_EINVAL, "%s: unknown options version %u", what, opts->version);
    return TFRS_OK;
}

int tfrs__load_buffer_copy(const void *out, const char *buf, size_t len, const char *name,
                           const char *what, char **copy)
{
    size_t cap;

    *copy = NULL;
    if (out == NULL || name == NULL || (buf == NULL && len > 0))
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what,
                          out == NULL ? "out" : name == NULL ? "name" : "buf");
    if (tfrs__add(len, 1, &cap) < 0 || (*copy = tfrs__malloc(cap)) == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", name);
    if (len > 0)
        memcpy(*copy, buf, len);
    (*copy)[len] = '\0';
    return TFRS_OK;
}
