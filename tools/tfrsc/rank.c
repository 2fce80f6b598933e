/*
 * rank.c - tfrsc rank: the top candidates for one user.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Candidates are every token of the item feature's vocabulary, or the
 * lines of --candidates; --exclude-rated drops the items the user has in
 * a data set.  Scores come from tfrs_model_rank.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct rank_args {
    const char *model, *user, *user_feature, *item_feature, *candidates, *exclude;
    const char *sets[32];
    size_t      num_sets;
    uint64_t    top;
    int         json;
} rank_args;

static void usage(FILE *f)
{
    fputs("usage: tfrsc rank --model MODEL --user ID [options]\n"
          "\n"
          "Prints the best candidates for one user, best first: rank, score, item.\n"
          "\n"
          "  --model PATH            model file\n"
          "  --user ID               the user (unknown users take the OOV row)\n"
          "  --candidates FILE       one candidate per line (default: every token of\n"
          "                          the item feature's vocabulary)\n"
          "  --top N                 how many (default 10; 0: all)\n"
          "  --exclude-rated DATA    leave out the items the user has in DATA (MovieLens\n"
          "                          directory or delimited file)\n"
          "  --user-feature NAME     the user feature (default user_id, else the first)\n"
          "  --item-feature NAME     the candidate feature (default: the first other\n"
          "                          feature with a vocabulary)\n"
          "  --set NAME=VALUE        value of another feature of the query (default \"\")\n"
          "  --json                  one JSON array\n"
          "  --help                  this text\n", f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int parse(int argc, char **argv, rank_args *a)
{
    const char *v;
    int r;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(CLI_OK);
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--model", &a->model)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--user-feature", &a->user_feature)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--item-feature", &a->item_feature)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--user", &a->user)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--candidates", &a->candidates)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--exclude-rated", &a->exclude)) != 0) {
            if (r < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--top", &v)) != 0) {
            if (r < 0 || cli_parse_count("--top", v, 0, SIZE_MAX, &a->top) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (r < 0)
                return -1;
            if (strchr(v, '=') == NULL || a->num_sets == 32)
                return cli_usage_error("--set: '%s' is not NAME=VALUE", v), -1;
            a->sets[a->num_sets++] = v;
        } else {
            return cli_usage_error("unknown argument '%s'", argv[i]), -1;
        }
    }
    if (a->model == NULL)
        return cli_usage_error("--model is required"), -1;
    if (a->user == NULL)
        return cli_usage_error("--user is required"), -1;
    return 0;
}

static int find_feature(const tfrs_model *m, const char *name, size_t *index)
{
    for (size_t f = 0; f < tfrs_model_num_features(m); f++)
        if (strcmp(tfrs_model_feature_name(m, f), name) == 0) {
            *index = f;
            return 0;
        }
    return -1;
}

/* Candidates from a file (one per line) or from the feature's vocabulary. */
static int candidates(const tfrs_model *m, size_t item, const char *path, char **text,
                      const char ***out, size_t *n)
{
    const tfrs_vocab *voc = tfrs_model_feature_vocab(m, item);
    size_t cap = 0;

    *n = 0;
    if (path != NULL) {
        char *p;
        if ((*text = cli_read_file(path, NULL)) == NULL)
            return -1;
        for (p = *text; *p != '\0';) {
            char *nl = strchr(p, '\n'), *end = nl != NULL ? nl : p + strlen(p);
            if (nl != NULL)
                *nl = '\0';
            if (end > p && end[-1] == '\r')
                end[-1] = '\0';
            if (*p != '\0') {
                if (*n == cap) {
                    const char **g = realloc(*out, (cap = 2 * cap + 64) * sizeof(**out));
                    if (g == NULL)
                        return cli_error("out of memory"), -1;
                    *out = g;
                }
                (*out)[(*n)++] = p;
            }
            p = nl != NULL ? nl + 1 : end;
        }
        if (*n == 0)
            return cli_error("%s: no candidates", path), -1;
        return 0;
    }
    if (voc == NULL)
        return cli_error("feature \"%s\" has no vocabulary: give --candidates",
                         tfrs_model_feature_name(m, item)), -1;
    {
        size_t size = tfrs_vocab_size(voc), k = tfrs_vocab_num_tokens(voc);
        if ((*out = calloc(k > 0 ? k : 1, sizeof(**out))) == NULL)
            return cli_error("out of memory"), -1;
        for (size_t i = size - k; i < size; i++)
            tfrs_vocab_token(voc, (int32_t)i, &(*out)[(*n)++]);
    }
    return 0;
}

/* Drops the candidates the user has rated in the data at path. */
static int exclude_rated(const tfrs_model *m, const rank_args *a, const char *user_col,
                         const char *item_col, const char **cands, size_t *n)
{
    tfrs_dataset *ds = NULL;
    cli_columns cols;
    const char **rated = NULL;
    size_t nr = 0, rows, kept = 0;
    int rc = -1;

    if (cli_columns_from_model(&cols, m) != CLI_OK)
        return -1;
    if (cli_load_data(&ds, a->exclude, &cols, '\0') != CLI_OK)
        goto out;
    rows = tfrs_dataset_num_rows(ds);
    if ((rated = calloc(rows, sizeof(*rated))) == NULL) {
        cli_error("out of memory");
        goto out;
    }
    for (size_t r = 0; r < rows; r++) {
        const char *u, *it;
        int st;
        if ((st = tfrs_dataset_get_string(ds, user_col, r, &u)) != TFRS_OK ||
            (st = tfrs_dataset_get_string(ds, item_col, r, &it)) != TFRS_OK) {
            cli_lib_error(a->exclude, st);
            goto out;
        }
        if (strcmp(u, a->user) == 0)
            rated[nr++] = it;
    }
    qsort(rated, nr, sizeof(*rated), cmp_str);
    for (size_t i = 0; i < *n; i++)
        if (bsearch(&cands[i], rated, nr, sizeof(*rated), cmp_str) == NULL)
            cands[kept++] = cands[i];
    *n = kept;
    rc = 0;
out:
    free(rated);
    tfrs_dataset_free(ds);
    cli_columns_free(&cols);
    return rc;
}

int cmd_rank(int argc, char **argv)
{
    rank_args a;
    tfrs_model *m = NULL;
    const char **cands = NULL, **query = NULL;
    char *text = NULL, buf[32];
    tfrs_scored *best = NULL;
    size_t F, user = 0, item = 0, n = 0, got = 0;
    int rc = CLI_FAIL, st;

    memset(&a, 0, sizeof(a));
    a.top = 10;
    cli_prog = "tfrsc rank";
    if (parse(argc, argv, &a) < 0)
        return CLI_USAGE;
    if (cli_load_model(&m, a.model) != CLI_OK)
        return CLI_FAIL;
    F = tfrs_model_num_features(m);
    if (find_feature(m, a.user_feature != NULL ? a.user_feature : "user_id", &user) < 0) {
        if (a.user_feature != NULL) {
            cli_error("%s: no feature \"%s\"", a.model, a.user_feature);
            goto out;
        }
        user = 0;
    }
    if (a.item_feature != NULL) {
        if (find_feature(m, a.item_feature, &item) < 0) {
            cli_error("%s: no feature \"%s\"", a.model, a.item_feature);
            goto out;
        }
    } else {
        for (item = 0; item < F; item++)
            if (item != user && tfrs_model_feature_vocab(m, item) != NULL)
                break;
        if (item == F) {
            cli_error("%s: no item feature with a vocabulary: give --item-feature", a.model);
            goto out;
        }
    }
    if (item == user) {
        cli_error("the user and item features are both \"%s\"",
                  tfrs_model_feature_name(m, item));
        goto out;
    }
    if ((query = calloc(F, sizeof(*query))) == NULL) {
        cli_error("out of memory");
        goto out;
    }
    for (size_t f = 0; f < F; f++)
        query[f] = "";
    query[user] = a.user;
    for (size_t s = 0; s < a.num_sets; s++) {
        size_t f, len = (size_t)(strchr(a.sets[s], '=') - a.sets[s]);
        for (f = 0; f < F; f++) {
            const char *name = tfrs_model_feature_name(m, f);
            if (strlen(name) == len && strncmp(name, a.sets[s], len) == 0)
                break;
        }
        if (f == F) {
            cli_error("--set %s: the model has no such feature", a.sets[s]);
            goto out;
        }
        query[f] = a.sets[s] + len + 1;
    }
    if (candidates(m, item, a.candidates, &text, &cands, &n) < 0)
        goto out;
    if (a.exclude != NULL &&
        exclude_rated(m, &a, tfrs_model_feature_name(m, user), tfrs_model_feature_name(m, item),
                      cands, &n) < 0)
        goto out;
    if (a.top == 0 || a.top > n)
        a.top = n;
    if ((best = calloc(a.top > 0 ? a.top : 1, sizeof(*best))) == NULL) {
        cli_error("out of memory");
        goto out;
    }
    if (n > 0 && (st = tfrs_model_rank(m, query, tfrs_model_feature_name(m, item), cands, n,
                                       (size_t)a.top, best, &got)) != TFRS_OK) {
        cli_lib_error("ranking", st);
        goto out;
    }
    if (a.json)
        putchar('[');
    for (size_t i = 0; i < got; i++) {
        cli_format_float(buf, sizeof(buf), best[i].score);
        if (a.json) {
            printf("%s{\"rank\": %zu, \"score\": %s, \"item\": ", i ? ", " : "", i + 1, buf);
            cli_json_string(stdout, cands[best[i].index]);
            putchar('}');
        } else {
            printf("%zu\t%s\t%s\n", i + 1, buf, cands[best[i].index]);
        }
    }
    if (a.json)
        puts("]");
    rc = CLI_OK;
out:
    free(best);
    free(query);
    free(cands);
    free(text);
    tfrs_model_free(m);
    return rc;
}
