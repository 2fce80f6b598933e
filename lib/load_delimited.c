/*
 * load_delimited.c - the delimited-text loader: a header line of column
 * names, then one row per line; the named float columns hold finite
 * decimal numbers, the others UTF-8 strings.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dataset.h"
#include "load_text.h"
#include "load_delimited.h"

#define MAX_ROWS TFRS__DATASET_MAX_ROWS

/* Comma-separated, every column a string, strict. */
static const tfrs_delimited_options delimited_defaults = {
    .delimiter = ',', .float_columns = NULL, .num_float_columns = 0,
};

/* Version 1 holds a version 1 tfrs_load_options (a program built against
 * that header has no room for more); version 2 a whole one. */
#define DELIMITED_V1_SIZE \
    (offsetof(tfrs_delimited_options, load) + offsetof(tfrs_load_options, movielens_features))

int tfrs_delimited_options_init(tfrs_delimited_options *opts, unsigned int version)
{
    /* Of version 1 only that much is written, and the load options are of
     * version 1, which the delimited loader needed (movielens_features is
     * the MovieLens loader's). */
    int rc = tfrs__options_init(opts, &delimited_defaults,
                                version == 1 ? DELIMITED_V1_SIZE : sizeof(*opts),
                                version, TFRS_DELIMITED_OPTIONS_VERSION,
                                "tfrs_delimited_options_init");

    return rc == TFRS_OK ? tfrs_load_options_init(&opts->load, version == 1 ? 1
                                                  : TFRS_LOAD_OPTIONS_VERSION) : rc;
}

static int delimited_options(const tfrs_delimited_options *opts, const char *what)
{
    if (opts->version == 0 || opts->version > TFRS_DELIMITED_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown options version %u", what, opts->version);
    if (opts->delimiter == '\0' || opts->delimiter == '\n' || opts->delimiter == '\r')
        return tfrs__fail(TFRS_EINVAL, "%s: the delimiter cannot be NUL, CR or LF", what);
    if (opts->num_float_columns > 0 && opts->float_columns == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: float_columns is NULL", what);
    for (size_t i = 0; i < opts->num_float_columns; i++)
        if (opts->float_columns[i] == NULL)
            return tfrs__fail(TFRS_EINVAL, "%s: float_columns[%zu] is NULL", what, i);
    /* From version 2 on, load is a whole tfrs_load_options. */
    return opts->version >= 2 ? tfrs__load_options_check(&opts->load, what) : TFRS_OK;
}

/* Room for one data line: its fields, and its values once parsed. */
typedef struct row_buf {
    tfrs__field   *f;          /* one per column               */
    unsigned char *is_float;   /* one flag per column          */
    uint32_t      *ids;        /* one per string column        */
    float         *vals;       /* one per float column         */
} row_buf;

static void row_buf_free(row_buf *rb)
{
    tfrs__free(rb->f);
    tfrs__free(rb->is_float);
    tfrs__free(rb->ids);
    tfrs__free(rb->vals);
}

/* Reads the header: creates the columns of ds and fills rb. */
static int delimited_header(tfrs_dataset *ds, tfrs__line_iter *it,
                            const tfrs_delimited_options *o, tfrs__loader *ld, row_buf *rb)
{
    tfrs__strtab names;
    tfrs__field *f;
    char *s;
    size_t n, ncols;
    int rc = TFRS_OK;

    if ((rc = tfrs__next_line(it, &s, &n)) <= 0)
        return rc < 0 ? rc : tfrs__fail(TFRS_EPARSE, "%s:1: missing header line", ld->path);
    rc = TFRS_OK;
    if (memchr(s, '\0', n) != NULL)
        return tfrs__fail(TFRS_EPARSE, "%s:1: NUL byte", ld->path);
    ncols = tfrs__split(s, n, o->delimiter, NULL, 0);
    rb->f = f = tfrs__calloc(ncols, sizeof(*f));
    rb->is_float = tfrs__calloc(ncols, 1);
    rb->ids = tfrs__calloc(ncols, sizeof(*rb->ids));
    rb->vals = tfrs__calloc(ncols, sizeof(*rb->vals));
    if (f == NULL || rb->is_float == NULL || rb->ids == NULL || rb->vals == NULL)
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
    tfrs__split(s, n, o->delimiter, f, ncols);
    /* The names table detects duplicates and gives NUL-terminated names. */
    tfrs__strtab_init(&names);
    for (size_t k = 0; k < ncols && rc == 0; k++) {
        uint32_t id;
        if (f[k].n == 0)
            rc = tfrs__fail(TFRS_EPARSE, "%s:1: column %zu has an empty name", ld->path, k + 1);
        else if (!tfrs__utf8_valid(f[k].s, f[k].n))
            rc = tfrs__fail(TFRS_EPARSE, "%s:1: column %zu name is not valid UTF-8",
                            ld->path, k + 1);
        else if (tfrs__strtab_intern(&names, f[k].s, f[k].n, &id) < 0)
            rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", ld->path);
        else if (id != k)
            rc = tfrs__fail(TFRS_EPARSE, "%s:1: duplicate column name " TFRS__FIELD_FMT,
                            ld->path, TFRS__FIELD_ARG(f[k]));
    }
    for (size_t i = 0; i < o->num_float_columns && rc == 0; i++) {
        const char *name = o->float_columns[i];
        uint32_t id = tfrs__strtab_find(&names, name, strlen(name));
        if (id == TFRS__STRTAB_NONE)
            rc = tfrs__fail(TFRS_ENOTFOUND, "%s: float column \"%s\" is not in the header",
                            ld->path, name);
        else
            rb->is_float[id] = 1;
    }
    for (size_t k = 0; k < ncols && rc == 0; k++)
        rc = tfrs_dataset_add_column(ds, tfrs__strtab_at(&names, (uint32_t)k, NULL),
                                     rb->is_float[k] ? TFRS_COLUMN_FLOAT : TFRS_COLUMN_STRING);
    tfrs__strtab_free(&names);
    return rc;
}

/* Parses one data line into a new row; 0 also when the line was skipped. */
static int delimited_row(tfrs_dataset *ds, char *s, size_t n, size_t lineno, char delim,
                         const row_buf *rb, tfrs__loader *ld)
{
    size_t ncols = tfrs_dataset_num_columns(ds), nf, r = tfrs_dataset_num_rows(ds), nv = 0;
    uint32_t *ids = rb->ids;
    int rc;

    if (memchr(s, '\0', n) != NULL)
        return tfrs__bad_line(ld, lineno, "NUL byte");
    nf = tfrs__split(s, n, delim, rb->f, ncols);
    if (nf != ncols)
        return tfrs__bad_line(ld, lineno, "expected %zu fields, got %zu", ncols, nf);
    if (r >= MAX_ROWS)
        return tfrs__fail(TFRS_ERANGE, "%s: more than %zu rows", ld->path, MAX_ROWS);
    rc = tfrs__dataset_reserve_rows(ds, r + 1);
    if (rc < 0)
        return rc;
    /* Validate the whole line, then intern its strings. */
    for (size_t k = 0; k < ncols; k++) {
        const tfrs__field *f = &rb->f[k];
        const char *name;
        tfrs_column_type type;
        int bad = rb->is_float[k] ? tfrs__parse_decimal(f->s, f->n, &rb->vals[nv++]) < 0
                                  : !tfrs__utf8_valid(f->s, f->n);
        if (!bad)
            continue;
        tfrs_dataset_column_info(ds, k, &name, &type);
        if (rb->is_float[k])
            return tfrs__bad_line(ld, lineno, "column \"%s\": " TFRS__FIELD_FMT
                                  " is not a finite decimal number", name, TFRS__FIELD_ARG(*f));
        return tfrs__bad_line(ld, lineno, "column \"%s\": invalid UTF-8", name);
    }
    for (size_t k = 0; k < ncols && rc == 0; k++)
        if (!rb->is_float[k])
            rc = tfrs__dataset_intern(ds, k, rb->f[k].s, rb->f[k].n, ids++);
    if (rc < 0)
        return rc;
    tfrs__dataset_append_interned(ds, rb->ids, rb->vals, NULL);
    return TFRS_OK;
}

/* Header, then rows: the lines of `lines` -> a new dataset *out.  With
 * `range` (a file opened for its header line only), the rows are the
 * lines that start in [range[0], range[1]). */
static int delimited_load(tfrs_dataset **out, tfrs__line_iter *lines,
                          const tfrs_delimited_options *o, tfrs__loader *ld,
                          const uint64_t *range)
{
    tfrs_dataset *ds = NULL;
    row_buf rb = { NULL, NULL, NULL, NULL };
    char *s;
    size_t n;
    int rc, more = 0;

    rc = tfrs_dataset_create(&ds);
    if (rc < 0)
        return rc;
    rc = delimited_header(ds, lines, o, ld, &rb);
    if (rc == 0 && range != NULL)
        rc = tfrs__lines_seek(lines, range[0], range[1]);
    if (rc == 0) {
        size_t guess = tfrs__lines_estimate(lines);
        rc = tfrs__dataset_reserve_rows(ds, guess < MAX_ROWS ? guess : MAX_ROWS);
    }
    while (rc == 0 && (more = tfrs__next_line(lines, &s, &n)) > 0)
        rc = delimited_row(ds, s, n, lines->lineno, o->delimiter, &rb, ld);
    if (rc == 0 && more < 0)
        rc = more;
    row_buf_free(&rb);
    if (rc < 0) {
        tfrs_dataset_free(ds);
        return rc;
    }
    tfrs__dataset_trim_rows(ds);
    *out = ds;
    return TFRS_OK;
}

/* The options of a delimited entry point (NULL: defaults) into *o: of a
 * version 1 struct only its bytes are read, the rest are defaults. */
static int delimited_begin(const tfrs_delimited_options *opts, tfrs_delimited_options *o,
                           const char *what)
{
    tfrs_delimited_options_init(o, TFRS_DELIMITED_OPTIONS_VERSION);
    if (opts != NULL)
        memcpy(o, opts, opts->version == 1 ? DELIMITED_V1_SIZE : sizeof(*o));
    return delimited_options(o, what);
}

int tfrs_dataset_load_delimited(tfrs_dataset **out, const char *path,
                                tfrs_delimited_options *opts)
{
    static const char what[] = "tfrs_dataset_load_delimited";
    tfrs_delimited_options o;
    tfrs__line_iter lines;
    tfrs__loader ld = { NULL, 0, 0, NULL };
    uint64_t range[2] = { 0, UINT64_MAX };
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (path == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: path is NULL", what);
    rc = delimited_begin(opts, &o, what);
    if (rc == 0 && o.version >= 2)
        rc = tfrs__load_range(&o.load, what, range);
    if (rc < 0)
        return rc;
    ld.path = path;
    ld.skip = o.load.skip_bad_lines;
    ld.lines = &lines;

    if (range[0] == 0 && range[1] == UINT64_MAX) {
        rc = tfrs__lines_open(&lines, path, what);   /* skips a byte order mark */
        if (rc == 0)
            rc = delimited_load(out, &lines, &o, &ld, NULL);
    } else {
        /* The header line first, then the range. */
        rc = tfrs__lines_open_range(&lines, path, what, 0, 1);
        if (rc == 0)
            rc = delimited_load(out, &lines, &o, &ld, range);
    }
    tfrs__lines_close(&lines);
    if (opts != NULL)
        opts->load.bad_lines = ld.bad;
    return rc;
}

int tfrs__load_delimited_buffer(tfrs_dataset **out, const char *buf, size_t len,
                                const char *name, tfrs_delimited_options *opts)
{
    static const char what[] = "tfrs__load_delimited_buffer";
    tfrs_delimited_options o;
    char *copy;
    tfrs__line_iter lines;
    tfrs__loader ld = { name, 0, 0, NULL };
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = delimited_begin(opts, &o, what);
    if (rc == 0)
        rc = tfrs__load_buffer_copy(out, buf, len, name, what, &copy);
    if (rc < 0)
        return rc;
    ld.skip = o.load.skip_bad_lines;
    tfrs__lines_init(&lines, copy, len);   /* skips a byte order mark */
    rc = delimited_load(out, &lines, &o, &ld, NULL);
    if (opts != NULL)
        opts->load.bad_lines = ld.bad;
    tfrs__free(copy);
    return rc;
}
