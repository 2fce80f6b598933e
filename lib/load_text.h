/*
 * load_text.h - what the text loaders share: reading a file, iterating its
 * lines, splitting fields, parsing integer and decimal fields, reporting a
 * bad line as "name:line: reason", joining paths, checking options.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_LOAD_TEXT_H
#define TFRS_LOAD_TEXT_H

#include "util/common.h"

/* The lines of a writable text buffer. */
typedef struct tfrs__line_iter {
    char  *p, *end;
    char  *blank_end;   /* end of the last scanned run of empty lines */
    size_t lineno;      /* number of the line last returned           */
} tfrs__line_iter;

/* The lines of buf[0..len), after a leading UTF-8 byte order mark (every
 * text loader skips one). */
void tfrs__lines_init(tfrs__line_iter *it, char *buf, size_t len);
/* Next line as [*s, *s + *n), without its "\n" or "\r\n".  Returns 0 at the
 * end of the text; empty lines followed only by empty lines end it too. */
int tfrs__next_line(tfrs__line_iter *it, char **s, size_t *n);
/* Number of '\n' bytes in [s, end) plus one (a bound on the lines). */
size_t tfrs__count_lines(const char *s, const char *end);

typedef struct tfrs__field {
    char  *s;
    size_t n;
} tfrs__field;

/* Splits s[0..n) at `delim`, storing the first maxf fields; returns how many
 * fields there are. */
size_t tfrs__split(char *s, size_t n, char delim, tfrs__field *f, size_t maxf);

/* One text being parsed: its name in messages, and what to do with a bad
 * line (skip == 0: fail). */
typedef struct tfrs__loader {
    const char *path;
    int         skip;
    size_t      bad;    /* lines skipped so far */
} tfrs__loader;

/* A malformed line: counted and skipped (returns 0) or TFRS_EPARSE with
 * "path:line: reason". */
int tfrs__bad_line(tfrs__loader *ld, size_t lineno, const char *fmt, ...) TFRS__PRINTF(3, 4);

/* Shown in messages: at most 40 bytes of a field. */
#define TFRS__FIELD_FMT "\"%.*s\""
#define TFRS__FIELD_ARG(f) (int)((f).n < 40 ? (f).n : 40), (f).s

/* Decimal digits only (no sign, no space), value <= max.  0, -1 if not an
 * integer, -2 if too large. */
int tfrs__parse_uint(const char *s, size_t n, uint64_t max, uint64_t *v);
/* A finite decimal number: [+-] digits [. digits] [(e|E) [+-] digits], with
 * at least one mantissa digit, at most TFRS__DECIMAL_MAX bytes, read
 * whatever the C locale.  0, or -1 (*out unchanged). */
int tfrs__parse_decimal(const char *s, size_t n, float *out);

/* dir + "/" + name (no doubled slash), tfrs__malloc'ed; NULL if out of memory. */
char *tfrs__join_path(const char *dir, const char *name);
/* The whole file at path, NUL-terminated (*len bytes before the NUL), by
 * tfrs__read_file; messages start with `who`. */
int tfrs__load_file(const char *path, const char *who, char **buf, size_t *len);
/* Checks the arguments of a buffer entry point (`what`) and makes the
 * writable, NUL-terminated copy of buf[0..len) that the parsers expect. */
int tfrs__load_buffer_copy(const void *out, const char *buf, size_t len, const char *name,
                           const char *what, char **copy);
/* TFRS_EINVAL if opts (NULL: defaults) has an unknown version. */
int tfrs__load_options_check(const tfrs_load_options *opts, const char *what);

#endif /* TFRS_LOAD_TEXT_H */
