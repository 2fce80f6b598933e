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

static size_t join(void *items, size_t lines)
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

static int parse(void **out, void *ctx, const char *text, size_t size, const char *name,
                 tfrs_load_options *lo)
{
    tfrs__ml_items *items = NULL;
    int rc = tfrs__parse_items(&items, text, size, name, lo);

    (void)ctx;
    *out = items;
    return rc;
}

static size_t count(const void *items, size_t lines)
{
    (void)lines;
    return tfrs__ml_items_count(items);
}

static void release(void *items)
{
    tfrs__ml_items_free(items);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_parser p = { "u.item", NULL, parse, count, join, release };

    fuzz_strict_then_skip(&p, (const char *)data, size);
    return 0;
}
