/*
 * fuzz-users.c - libFuzzer target for the MovieLens side tables: each input
 * is parsed as u.user and as u.genre, strictly and skipping bad lines.
 * Parsed users are joined with fixed, synthetic u.item and u.data with
 * every side feature on; the result must be a valid dataset.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz.h"
#include "load_movielens.h"

static const char genres_text[] =
    "g0|0\ng1|1\ng2|2\ng3|3\ng4|4\ng5|5\ng6|6\ng7|7\ng8|8\ng9|9\n"
    "g10|10\ng11|11\ng12|12\ng13|13\ng14|14\ng15|15\ng16|16\ng17|17\ng18|18\n";
static const char items_text[] =
    "1|A|01-Jan-1990||u|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"
    "2|B|||u|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n";
static const char ratings_text[] =
    "1\t1\t5\t900000049\n" "2\t2\t4\t900000050\n" "3\t1\t3\t900000051\n"
    "42\t2\t2\t900000052\n";

static size_t join(void *users, size_t lines)
{
    tfrs__ml_genres *g = NULL;
    tfrs__ml_items *items = NULL;
    tfrs_dataset *ds = NULL;
    tfrs_load_options lo;

    FUZZ_CHECK(tfrs__parse_genres(&g, genres_text, sizeof(genres_text) - 1, "u.genre", NULL) ==
               TFRS_OK);
    FUZZ_CHECK(tfrs__parse_items_side(&items, g, items_text, sizeof(items_text) - 1, "u.item",
                                      NULL) == TFRS_OK);
    FUZZ_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION) == TFRS_OK);
    lo.skip_bad_lines = 1;
    FUZZ_CHECK(tfrs__parse_ratings_side(&ds, items, g, users, ratings_text,
                                        sizeof(ratings_text) - 1, "u.data", &lo) == TFRS_OK);
    fuzz_check_dataset(ds, 4);
    FUZZ_CHECK(tfrs_dataset_num_rows(ds) + lo.bad_lines == 4);
    FUZZ_CHECK(tfrs_dataset_num_columns(ds) == 13);
    tfrs_dataset_free(ds);
    tfrs__ml_items_free(items);
    tfrs__ml_genres_free(g);
    (void)lines;
    return 0;
}

static int parse(void **out, void *ctx, const char *text, size_t size, const char *name,
                 tfrs_load_options *lo)
{
    tfrs__ml_users *users = NULL;
    int rc = tfrs__parse_users(&users, text, size, name, lo);

    (void)ctx;
    *out = users;
    return rc;
}

static size_t count(const void *users, size_t lines)
{
    (void)lines;
    return tfrs__ml_users_count(users);
}

static void release(void *users)
{
    tfrs__ml_users_free(users);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_parser p = { "u.user", NULL, parse, count, join, release };
    const char *text = (const char *)data;
    tfrs__ml_genres *g = NULL;
    tfrs_load_options lo;
    int rc;

    fuzz_strict_then_skip(&p, text, size);

    FUZZ_CHECK(tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION) == TFRS_OK);
    lo.skip_bad_lines = 1;
    rc = tfrs__parse_genres(&g, text, size, "u.genre", NULL);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EPARSE);
    FUZZ_CHECK((rc == TFRS_OK) == (g != NULL));
    if (rc != TFRS_OK)
        fuzz_check_parse_error("u.genre");
    tfrs__ml_genres_free(g);
    rc = tfrs__parse_genres(&g, text, size, "u.genre", &lo);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_EPARSE);
    tfrs__ml_genres_free(g);
    return 0;
}
