/*
 * fuzz.h - shared by the libFuzzer targets: checks that abort on a broken
 * invariant (so that the fuzzer and the replay tests report it).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_FUZZ_H
#define TFRS_FUZZ_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "util/strtab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",         \
                    __FILE__, __LINE__, #cond, tfrs_last_error());                \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* Number of lines a parser can find in n bytes: '\n' bytes plus one. */
static inline size_t fuzz_max_lines(const char *s, size_t n)
{
    size_t k = 1;

    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* A parse error names the input and a line: "name:LINE: ...". */
static inline void fuzz_check_parse_error(const char *name)
{
    const char *msg = tfrs_last_error();
    size_t n = strlen(name);

    FUZZ_CHECK(strncmp(msg, name, n) == 0 && msg[n] == ':' && msg[n + 1] >= '0' &&
               msg[n + 1] <= '9');
}

/* Every string is valid UTF-8 and every float finite; ids in range. */
static inline void fuzz_check_dataset(const tfrs_dataset *ds, size_t max_rows)
{
    size_t nrows = tfrs_dataset_num_rows(ds), ncols = tfrs_dataset_num_columns(ds);

    FUZZ_CHECK(nrows <= max_rows);
    for (size_t i = 0; i < ncols; i++) {
        const char *name, *v;
        tfrs_column_type type;
        const uint32_t *ids;
        const float *vals;
        size_t ns;

        FUZZ_CHECK(tfrs_dataset_column_info(ds, i, &name, &type) == TFRS_OK);
        FUZZ_CHECK(name[0] != '\0' && tfrs__utf8_valid(name, strlen(name)));
        if (type == TFRS_COLUMN_STRING) {
            FUZZ_CHECK(tfrs_dataset_string_ids(ds, name, &ids, &ns) == TFRS_OK);
            FUZZ_CHECK(ns <= nrows);
            for (uint32_t k = 0; k < ns; k++) {
                FUZZ_CHECK(tfrs_dataset_string(ds, name, k, &v) == TFRS_OK);
                FUZZ_CHECK(tfrs__utf8_valid(v, strlen(v)));
            }
            for (size_t r = 0; r < nrows; r++)
                FUZZ_CHECK(ids[r] < ns);
        } else if (type == TFRS_COLUMN_INT64) {
            const int64_t *q;
            FUZZ_CHECK(tfrs_dataset_int64s(ds, name, &q) == TFRS_OK);
            for (size_t r = 0; r < nrows; r++)
                FUZZ_CHECK(q[r] >= 0);    /* the only int64 column: timestamps */
        } else {
            FUZZ_CHECK(type == TFRS_COLUMN_FLOAT);
            FUZZ_CHECK(tfrs_dataset_floats(ds, name, &vals) == TFRS_OK);
            for (size_t r = 0; r < nrows; r++)
                FUZZ_CHECK(isfinite(vals[r]));
        }
    }
}

/* A line-oriented parser as the strict-then-skip harness sees it: parse
 * (into *out, which the parser leaves NULL on failure; lo NULL for strict
 * parsing), the number of records parsed, an optional join of the result
 * with fixed companion data (returns the rows joined; may check them) and
 * the release. */
typedef struct fuzz_parser {
    const char *name;      /* messages start "name:LINE:" */
    void       *ctx;       /* passed to parse (companion tables) */
    int       (*parse)(void **out, void *ctx, const char *text, size_t size, const char *name,
                       tfrs_load_options *lo);
    size_t    (*count)(const void *out, size_t max_lines);
    size_t    (*join)(void *out, size_t max_lines);
    void      (*release)(void *out);
} fuzz_parser;

/* Parses text strictly, then skipping bad lines, and checks that they
 * agree: strict parsing gives TFRS_OK or TFRS_EPARSE with a "name:LINE:"
 * message; skipping always succeeds, skips nothing and finds the same
 * records (and joined rows) when strict parsing succeeded, and skips at
 * least one line when it failed; neither finds more records than lines. */
static inline void fuzz_strict_then_skip(const fuzz_parser *p, const char *text, size_t size)
{
    size_t lines = fuzz_max_lines(text, size), strict = 0, strict_rows = 0, n;
    void *out = NULL;
    tfrs_load_options lo;
    int rc;

    rc = p->parse(&out, p->ctx, text, size, p->name, NULL);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EPARSE);
    FUZZ_CHECK((rc == TFRS_OK) == (out != NULL));
    if (rc == TFRS_OK) {
        strict = p->count(out, lines);
        FUZZ_CHECK(strict <= lines);
        strict_rows = p->join != NULL ? p->join(out, lines) : 0;
    } else {
        fuzz_check_parse_error(p->name);
    }
    p->release(out);
    out = NULL;

    FUZZ_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION) == TFRS_OK);
    lo.skip_bad_lines = 1;
    FUZZ_CHECK(p->parse(&out, p->ctx, text, size, p->name, &lo) == TFRS_OK && out != NULL);
    n = p->count(out, lines);
    FUZZ_CHECK(n + lo.bad_lines <= lines);
    if (rc == TFRS_OK)
        FUZZ_CHECK(lo.bad_lines == 0 && n == strict &&
                   (p->join != NULL ? p->join(out, lines) : 0) == strict_rows);
    else
        FUZZ_CHECK(lo.bad_lines > 0 && (p->join != NULL ? p->join(out, lines) : 0) <= lines);
    p->release(out);
}

#endif /* TFRS_FUZZ_H */
