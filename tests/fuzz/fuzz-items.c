/*
 * fuzz-items.c - libFuzzer target for the MovieLens item parser (u.item:
 * 24 '|'-separated fields, Latin-1 titles).  Each input is parsed strictly,
 * then skipping bad lines; the parsed items are joined with a fixed,
 * synthetic u.data so that every title is transcoded and interned, and must
 * come out as valid UTF-8.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz.h"
#include "load_movielens.h"

/* Ratings of items 1..9, 10, 42, 100 and 2^31 - 1 (unknown ones are skipped). */
static const char ratings_text[] =
    "1\t1\t5\t900000049\n"  "2\t2\t4\t900000050\n"  "3\t3\t3\t900000051\n"
    "1\t4\t2\t900000052\n"  "2\t5\t1\t900000053\n"  "3\t6\t5\t900000054\n"
    "1\t7\t4\t900000055\n"  "2\t8\t3\t900000056\n"  "3\t9\t2\t900000057\n"
    "1\t10\t1\t900000058\n" "2\t42\t5\t900000059\n" "3\t100\t4\t900000060\n"
    "4\t2147483647\t3\t900000061\n";

static size_t join(tfrs__ml_items *items, size_t lines)
{
    tfrs_dataset *ds = NULL;
    tfrs_load_options lo;
    size_t rows;

    FUZZ_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION) == TFRS_OK);
    lo.skip_bad_lines = 1;
    FUZZ_CHECK(tfrs__parse_ratings(&ds, items, ratings_text, sizeof(ratings_text) - 1,
                                   "u.data", &lo) == TFRS_OK);
    fuzz_check_dataset(ds, 13);
    rows = tfrs_dataset_num_rows(ds);
    FUZZ_CHECK(rows + lo.bad_lines == 13);
    FUZZ_CHECK(rows <= tfrs__ml_items_count(items) && rows <= lines);
    tfrs_dataset_free(ds);
    return rows;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t lines = fuzz_max_lines(text, size), strict_items = 0, strict_rows = 0;
    tfrs__ml_items *items = NULL;
    tfrs_load_options lo;
    int rc;

    rc = tfrs__parse_items(&items, text, size, "u.item", NULL);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EPARSE);
    if (rc == TFRS_OK) {
        strict_items = tfrs__ml_items_count(items);
        FUZZ_CHECK(strict_items <= lines);
        strict_rows = join(items, lines);
    } else {
        FUZZ_CHECK(items == NULL);
        fuzz_check_parse_error("u.item");
    }
    tfrs__ml_items_free(items);
    items = NULL;

    FUZZ_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION) == TFRS_OK);
    lo.skip_bad_lines = 1;
    FUZZ_CHECK(tfrs__parse_items(&items, text, size, "u.item", &lo) == TFRS_OK);
    FUZZ_CHECK(tfrs__ml_items_count(items) + lo.bad_lines <= lines);
    if (rc == TFRS_OK)
        FUZZ_CHECK(lo.bad_lines == 0 && tfrs__ml_items_count(items) == strict_items &&
                   join(items, lines) == strict_rows);
    else
        FUZZ_CHECK(lo.bad_lines > 0 && join(items, lines) <= lines);
    tfrs__ml_items_free(items);
    return 0;
}
