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
     * before ratings_file, a version 3 one before range_begin. */
    size_t size = version == 1   ? offsetof(tfrs_load_options, movielens_features)
                  : version == 2 ? offsetof(tfrs_load_options, ratings_file)
                  : version == 3 ? offsetof(tfrs_load_options, range_begin)
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
    it->stop = UINT64_MAX;
}

void tfrs__lines_close(tfrs__line_iter *it)
{
    tfrs__file_close(&it->file);
    tfrs__free(it->buf);
    it->buf = NULL;
    it->p = it->end = it->blank_end = NULL;
    it->left = 0;
}

/* The offset in the file of the next unread byte (it->p). */
static uint64_t offset_of_p(const tfrs__line_iter *it)
{
    return (uint64_t)(it->file.size - it->left) - (uint64_t)(it->end - it->p);
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
    if (it->stop != UINT64_MAX) {
        /* A range reads up to its end, then a little at a time. */
        uint64_t pos = it->file.size - it->left;
        uint64_t lim = (pos < it->stop ? it->stop - pos : 0) + it->over;
        if (lim < want)
            want = (size_t)lim;
    }
    rc = tfrs__file_read(&it->file, it->end, want);
    if (rc != TFRS_OK)
        return rc;
    it->end += want;
    *it->end = '\0';
    it->left -= want;
    return 1;
}

/* Empties the window and goes on from the first line that starts at or
 * after begin (> 0), reading from begin - 1: the bytes up to the first
 * '\n' there end a line that started before. */
static int start_at(tfrs__line_iter *it, uint64_t begin)
{
    uint64_t from = begin - 1;
    int rc;

    it->p = it->end = it->blank_end = it->buf;
    *it->end = '\0';
    it->lineno = 0;
    if (begin >= it->stop || from >= (uint64_t)it->file.size) {
        it->left = 0;           /* no line starts in the range */
        it->origin = begin;
        return TFRS_OK;
    }
    if ((rc = tfrs__file_seek(&it->file, from)) < 0)
        return rc;
    it->left = it->file.size - (size_t)from;
    for (;;) {
        char *nl;
        if ((rc = refill(it)) < 0)
            return rc;
        if (rc == 0)
            break;
        nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
        if (nl != NULL) {
            it->p = nl + 1;
            break;
        }
        it->p = it->end;
    }
    it->blank_end = it->p;
    it->origin = offset_of_p(it);
    return TFRS_OK;
}

/* Sets the range's end and how far past it a read may go; returns the
 * bytes the range spans from begin - 1 (UINT64_MAX: to the end). */
static uint64_t set_stop(tfrs__line_iter *it, uint64_t begin, uint64_t end)
{
    uint64_t span = end == UINT64_MAX ? UINT64_MAX : end - (begin > 0 ? begin - 1 : 0);

    it->stop = end;
    it->over = span < TFRS__LINES_OVER_MIN   ? TFRS__LINES_OVER_MIN
               : span < TFRS__LINES_OVER_MAX ? (size_t)span
                                             : TFRS__LINES_OVER_MAX;
    return span;
}

/* The window's size for a range of span bytes of the file: the default
 * size, or less for a smaller file or range (its bytes and one read past
 * them), but at least 4 bytes, for a byte order mark is looked for in one
 * window. */
static size_t window_for(const tfrs__line_iter *it, uint64_t span)
{
    size_t cap = WINDOW < it->file.size ? WINDOW : it->file.size;

    if (span < (uint64_t)cap && span + it->over < (uint64_t)cap)
        cap = (size_t)span + it->over;
    return cap < 4 ? 4 : cap;
}

int tfrs__lines_open_range(tfrs__line_iter *it, const char *path, const char *who,
                           uint64_t begin, uint64_t end)
{
    uint64_t span;
    int rc;

    memset(it, 0, sizeof(*it));
    it->who = who;
    span = set_stop(it, begin, end);
    if ((rc = tfrs__file_open(&it->file, path, who)) != TFRS_OK)
        return rc;
    it->left = it->file.size;
    it->cap = window_for(it, span);
    if ((it->buf = tfrs__malloc(it->cap + 1)) == NULL) {
        tfrs__lines_close(it);
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for '%s'", who, path);
    }
    it->p = it->end = it->blank_end = it->buf;
    *it->end = '\0';
    if (begin > 0)
        return start_at(it, begin);
    if ((rc = refill(it)) < 0)
        return rc;
    if (it->end - it->p >= 3 && memcmp(it->p, bom, 3) == 0)
        it->p += 3;
    it->blank_end = it->p;
    return TFRS_OK;
}

int tfrs__lines_open(tfrs__line_iter *it, const char *path, const char *who)
{
    return tfrs__lines_open_range(it, path, who, 0, UINT64_MAX);
}

int tfrs__lines_seek(tfrs__line_iter *it, uint64_t begin, uint64_t end)
{
    size_t cap = window_for(it, set_stop(it, begin, end));

    /* The window was sized for the header line: grown to the range's. */
    if (cap > it->cap) {
        size_t p = (size_t)(it->p - it->buf), e = (size_t)(it->end - it->buf);
        size_t b = (size_t)(it->blank_end - it->buf);
        char *w = tfrs__realloc(it->buf, it->cap + 1, cap + 1);
        if (w == NULL)
            return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for '%s'", it->who,
                              it->file.path);
        it->buf = w;
        it->cap = cap;
        it->p = w + p;
        it->end = w + e;
        it->blank_end = w + b;
    }
    /* At or before the next line: nothing to skip. */
    if (begin <= offset_of_p(it))
        return TFRS_OK;
    return start_at(it, begin);
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

/* Reading back from `at` (a line start > 0, the range's first line, which
 * starts in the run of CR and LF bytes that ends the file): 1 if an empty
 * line starts in that run before it (in the whole file, that line ends
 * the text, and the range's lines are not lines), 0 if not, or a negative
 * status.  Only that run is read. */
static int empty_line_before(tfrs__line_iter *it, uint64_t at)
{
    char chunk[512];
    uint64_t i = at - 1, lo = at - 1;   /* chunk holds [lo, lo + have) */
    size_t have = 0, crs = 0;           /* CR bytes since the last '\n' */
    int rc;

    /* The byte at `at` - 1 is the '\n' that ends the line before. */
    while (i-- > 0) {
        char c;
        if (i < lo) {
            have = i + 1 < sizeof(chunk) ? (size_t)i + 1 : sizeof(chunk);
            lo = i + 1 - have;
            if ((rc = tfrs__file_read_at(&it->file, lo, chunk, have)) < 0)
                return rc;
        }
        c = chunk[i - lo];
        if (c == '\r') {
            crs++;
        } else if (c == '\n') {
            if (crs <= 1)       /* "\n" or "\r\n": an empty line */
                return 1;
            crs = 0;
        } else {
            return 0;           /* the run starts inside a line */
        }
    }
    return crs <= 1;            /* the file's first line is in the run */
}

/* 1 if s[0..n) is all CR bytes. */
static int only_cr(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == '\r')
        n--;
    return n == 0;
}

int tfrs__next_line(tfrs__line_iter *it, char **s, size_t *n)
{
    size_t scanned = 0, len;
    char *nl;
    int rc;

    /* The file's first line starts at 0, before its byte order mark. */
    if (it->stop != UINT64_MAX && (it->lineno > 0 || it->origin > 0) &&
        offset_of_p(it) >= it->stop)
        return 0;
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
    } else if (it->origin > 0 && it->lineno == 0 && only_cr(it->p, *n)) {
        /* A range's first line of CR bytes: whether the whole file's
         * reader would have ended before it depends on lines before. */
        if ((rc = only_blank_left(it)) == 1)
            rc = empty_line_before(it, it->origin);
        if (rc < 0)
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
    const char *end = it->end;
    uint64_t rest = it->left;
    size_t lines, have;
    double guess;

    if (it->stop != UINT64_MAX) {
        /* A range's lines: those of the window before its end, and the
         * bytes of the range not read yet. */
        uint64_t at = offset_of_p(it), pos = it->file.size - it->left;
        if (at >= it->stop)
            return 1;
        if (it->stop - at < (uint64_t)(it->end - it->p))
            end = it->p + (it->stop - at);
        rest = pos < it->stop ? it->stop - pos : 0;
        if (rest > it->left)
            rest = it->left;
    }
    lines = tfrs__count_lines(it->p, end);
    have = (size_t)(end - it->p);
    if (rest == 0 || have == 0)
        return lines;
    /* The window's lines per byte over the whole file, and 1/32 more: a
     * low guess costs a reallocation, a high one is trimmed at the end. */
    guess = (double)(lines - 1) / (double)have * ((double)have + (double)rest);
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

int tfrs__lines_number(const tfrs__line_iter *it, size_t lineno, size_t *number)
{
    char chunk[16384];
    uint64_t at = 0;
    size_t lines = 0;
    int rc;

    /* The '\n' bytes before the range's first line, read a chunk at a time
     * (the window holds the line being reported). */
    while (at < it->origin) {
        size_t n = it->origin - at < sizeof(chunk) ? (size_t)(it->origin - at) : sizeof(chunk);
        if ((rc = tfrs__file_read_at(&it->file, at, chunk, n)) < 0)
            return rc;
        lines += tfrs__count_lines(chunk, chunk + n) - 1;
        at += n;
    }
    *number = lines + lineno;
    return TFRS_OK;
}

int tfrs__bad_line(tfrs__loader *ld, size_t lineno, const char *fmt, ...)
{
    char msg[256];
    size_t number = lineno;
    va_list ap;

    if (ld->skip) {
        ld->bad++;
        return 0;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ld->lines != NULL && ld->lines->origin > 0 &&
        tfrs__lines_number(ld->lines, lineno, &number) < 0)
        return tfrs__fail(TFRS_EPARSE, "%s: line %zu of the range from byte %llu: %s",
                          ld->path, lineno, (unsigned long long)ld->lines->origin, msg);
    return tfrs__fail(TFRS_EPARSE, "%s:%zu: %s", ld->path, number, msg);
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

int tfrs__load_range(const tfrs_load_options *opts, const char *what, uint64_t range[2])
{
    range[0] = 0;
    range[1] = UINT64_MAX;
    if (opts == NULL || opts->version < 4 || (opts->range_begin == 0 && opts->range_end == 0))
        return TFRS_OK;
    if (opts->range_begin > opts->range_end)
        return tfrs__fail(TFRS_EINVAL, "%s: range_begin %llu is after range_end %llu (the "
                          "range is [range_begin, range_end))", what,
                          (unsigned long long)opts->range_begin,
                          (unsigned long long)opts->range_end);
    range[0] = opts->range_begin;
    range[1] = opts->range_end;
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
