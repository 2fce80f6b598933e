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

#endif /* TFRS_FUZZ_H */
