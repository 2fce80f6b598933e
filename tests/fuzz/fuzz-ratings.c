/*
 * fuzz-ratings.c - libFuzzer target for the MovieLens rating parser (u.data:
 * user, item, rating, timestamp, tab-separated), joined with a fixed,
 * synthetic u.item.  Each input is parsed strictly, then skipping bad lines;
 * the two must agree.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz.h"
#include "load_movielens.h"

#define GENRES "|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0"

/* Invented titles; Latin-1 bytes in two of them. */
static const char items_text[] =
    "1|Quiet Harbor (1994)|01-Jan-1994||http://example.invalid/1" GENRES "\n"
    "2|Caf\xe9 of Glass (1996)|01-Jan-1996||http://example.invalid/2" GENRES "\n"
    "3|Night Train, The (1991)|01-Jan-1991||" GENRES "\n"
    "7|\xc0 Bient\xf4t (1988)|||" GENRES "\n"
    "42|Number Story (2001)|||" GENRES "\n"
    "2147483647|Last Id|||" GENRES "\n";

static void check_ratings(const tfrs_dataset *ds, size_t max_rows)
{
    const float *r;

    fuzz_check_dataset(ds, max_rows);
    FUZZ_CHECK(tfrs_dataset_num_columns(ds) == 5);
    FUZZ_CHECK(tfrs_dataset_floats(ds, "user_rating", &r) == TFRS_OK);
    for (size_t i = 0; i < tfrs_dataset_num_rows(ds); i++)
        FUZZ_CHECK(r[i] >= 1.0f && r[i] <= 5.0f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t lines = fuzz_max_lines(text, size), strict_rows = 0;
    tfrs__ml_items *items = NULL;
    tfrs_dataset *ds = NULL;
    tfrs_load_options lo;
    int rc, rc2;

    FUZZ_CHECK(tfrs__parse_items(&items, items_text, sizeof(items_text) - 1, "u.item",
                                 NULL) == TFRS_OK);
    FUZZ_CHECK(tfrs__ml_items_count(items) == 6);

    rc = tfrs__parse_ratings(&ds, items, text, size, "u.data", NULL);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EPARSE);
    if (rc == TFRS_OK) {
        check_ratings(ds, lines);
        strict_rows = tfrs_dataset_num_rows(ds);
    } else {
        FUZZ_CHECK(ds == NULL);
        fuzz_check_parse_error("u.data");
    }
    tfrs_dataset_free(ds);
    ds = NULL;

    /* Again with the same items (their cached pool ids must be reset). */
    FUZZ_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION) == TFRS_OK);
    lo.skip_bad_lines = 1;
    rc2 = tfrs__parse_ratings(&ds, items, text, size, "u.data", &lo);
    FUZZ_CHECK(rc2 == TFRS_OK);
    check_ratings(ds, lines);
    if (rc == TFRS_OK)
        FUZZ_CHECK(lo.bad_lines == 0 && tfrs_dataset_num_rows(ds) == strict_rows);
    else
        FUZZ_CHECK(lo.bad_lines > 0);
    FUZZ_CHECK(tfrs_dataset_num_rows(ds) + lo.bad_lines <= lines);
    tfrs_dataset_free(ds);
    tfrs__ml_items_free(items);
    return 0;
}
