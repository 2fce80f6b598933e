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
#include "util/fileio.h"

/* The size of the window through which a file's lines are read: 1 MiB.
 * A line (or a run of empty lines followed by more text) longer than that
 * grows the window to hold it.  Tests build load_text.c with
 * TFRS__LINES_TEST defined, which turns the size into the variable
 * tfrs__lines_window (default the same), to cut files at every byte. */
#define TFRS__LINES_WINDOW ((size_t)1 << 20)
#ifdef TFRS__LINES_TEST
extern size_t tfrs__lines_window;
#endif

/* The lines of a text: a writable buffer in memory (tfrs__lines_init), or
 * a file read front to back through a window (tfrs__lines_open). */
typedef struct tfrs__line_iter {
    char  *p, *end;     /* unread text                                  */
    char  *blank_end;   /* end of the last scanned run of CR/LF bytes   */
    size_t lineno;      /* number of the line last returned             */
    /* A file (fd >= 0) and its window: */
    tfrs__file file;
    size_t     left;    /* bytes of the file not read yet               */
    char      *buf;     /* the window, cap + 1 bytes (owned)            */
    size_t     cap;
    const char *who;    /* the public function, for messages            */
    /* A byte range of the file (tfrs__lines_open_range): */
    uint64_t   stop;    /* no line starting here or after is returned;
                           UINT64_MAX: none (the whole text)            */
    uint64_t   origin;  /* offset of the line before which lineno
                           starts, 0 unless the range skipped lines     */
    size_t     over;    /* how far past stop one read may go            */
} tfrs__line_iter;

/* How far past a range's end one read goes, to finish its last line: as
 * far as the range is long, between these bounds. */
#define TFRS__LINES_OVER_MIN ((size_t)128)
#define TFRS__LINES_OVER_MAX ((size_t)1 << 16)

/* The lines of buf[0..len), after a leading UTF-8 byte order mark (every
 * text loader skips one). */
void tfrs__lines_init(tfrs__line_iter *it, char *buf, size_t len);
/* The lines of the regular file at path, read a window at a time (the
 * first one now), after a byte order mark.  Messages start with `who` and
 * name the file.  Close it with tfrs__lines_close, also after a failure. */
int  tfrs__lines_open(tfrs__line_iter *it, const char *path, const char *who);
void tfrs__lines_close(tfrs__line_iter *it);    /* again is a no-op */
/* The lines of the file at path that start at an offset in [begin, end)
 * (end UINT64_MAX: to the end; begin <= end): the file is read from byte
 * begin - 1 on (from 0 with its byte order mark when begin is 0), and the
 * last line is read to its end.  lineno counts from the range's first line
 * (tfrs__lines_number gives the file's). */
int  tfrs__lines_open_range(tfrs__line_iter *it, const char *path, const char *who,
                            uint64_t begin, uint64_t end);
/* Of a file opened at 0 (the header line read): the lines from now on are
 * those that start in [begin, end); those before begin are skipped without
 * being read (but the bytes from begin - 1). */
int  tfrs__lines_seek(tfrs__line_iter *it, uint64_t begin, uint64_t end);
/* The number in the whole file of the line numbered lineno by it: on an
 * error path only, since after a seek it reads the file up to the range
 * to count the lines before it.  TFRS_OK, or a negative status. */
int  tfrs__lines_number(const tfrs__line_iter *it, size_t lineno, size_t *number);
/* Next line as [*s, *s + *n), without its "\n" or "\r\n"; the bytes are
 * writable and valid until the next call.  Returns 1, 0 at the end of the
 * text (empty lines followed only by empty lines end it too), or a
 * negative status (a file's read error or out of memory; message set). */
int  tfrs__next_line(tfrs__line_iter *it, char **s, size_t *n);
/* An estimate of the lines not returned yet, for reserving rows: exact
 * (a bound) for a buffer; for a file, from the lines of the window. */
size_t tfrs__lines_estimate(const tfrs__line_iter *it);
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
    const tfrs__line_iter *lines;  /* the file's, for its line numbers; or NULL */
} tfrs__loader;

/* A malformed line: counted and skipped (returns 0) or TFRS_EPARSE with
 * "path:line: reason", lineno turned into the file's line number when the
 * loader reads a range of its lines. */
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
/* Checks the arguments of a buffer entry point (`what`) and makes the
 * writable, NUL-terminated copy of buf[0..len) that the parsers expect. */
int tfrs__load_buffer_copy(const void *out, const char *buf, size_t len, const char *name,
                           const char *what, char **copy);
/* TFRS_EINVAL if opts (NULL: defaults) has an unknown version. */
int tfrs__load_options_check(const tfrs_load_options *opts, const char *what);
/* The byte range of opts (checked; NULL or before version 4: none) as
 * range[0] <= range[1]; the whole file is { 0, UINT64_MAX }.  TFRS_EINVAL
 * when range_begin > range_end. */
int tfrs__load_range(const tfrs_load_options *opts, const char *what, uint64_t range[2]);

#endif /* TFRS_LOAD_TEXT_H */
