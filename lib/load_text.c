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

void tfrs__lines_init(tfrs__line_iter *it, char *buf, size_t len)
{
    /* A UTF-8 byte order mark (what Windows editors put first) is not part
     * of the first line: left in, it would make "\ufeff196" a user id. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    it->p = buf;
    it->end = buf + len;
    it->blank_end = buf;
    it->lineno = 0;
}

int tfrs__next_line(tfrs__line_iter *it, char **s, size_t *n)
{
    char *nl, *e;

    if (it->p >= it->end)
        return 0;
    nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    e = nl != NULL ? nl : it->end;
    *s = it->p;
    *n = (size_t)(e - it->p);
    if (*n > 0 && e[-1] == '\r')
        (*n)--;
    if (*n == 0) {
        if (it->blank_end <= it->p) {
            char *q = it->p;
            while (q < it->end && (*q == '\r' || *q == '\n'))
                q++;
            it->blank_end = q;
        }
        if (it->blank_end == it->end) {
            it->p = it->end;
            return 0;
        }
    }
    it->p = nl != NULL ? nl + 1 : it->end;
    it->lineno++;
    return 1;
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

int tfrs__load_file(const char *path, const char *who, char **buf, size_t *len)
{
    unsigned char *b;
    int rc = tfrs__read_file(path, who, &b, len);

    *buf = (char *)b;
    return rc;
}
