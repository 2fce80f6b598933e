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

static int parse(void **out, void *items, const char *text, size_t size, const char *name,
                 tfrs_load_options *lo)
{
    tfrs_dataset *ds = NULL;
    int rc = tfrs__parse_ratings(&ds, items, text, size, name, lo);

    *out = ds;
    return rc;
}

static size_t count(const void *ds, size_t lines)
{
    check_ratings(ds, lines);
    return tfrs_dataset_num_rows(ds);
}

static void release(void *ds)
{
    tfrs_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tfrs__ml_items *items = NULL;
    fuzz_parser p = { "u.data", NULL, parse, count, NULL, release };

    FUZZ_CHECK(tfrs__parse_items(&items, items_text, sizeof(items_text) - 1, "u.item",
                                 NULL) == TFRS_OK);
    FUZZ_CHECK(tfrs__ml_items_count(items) == 6);
    /* strictly, then skipping, with the same items (their cached pool ids
     * must be reset) */
    p.ctx = items;
    fuzz_strict_then_skip(&p, (const char *)data, size);
    tfrs__ml_items_free(items);
    return 0;
}
