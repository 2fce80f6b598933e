/*
 * serve.c - the serving half of the tutorial: load a saved model and rank
 * every item it knows for one user.  Nothing here trains.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   ./build/examples/movielens_ranking --save model.tfrs
 *   ./build/examples/serve model.tfrs 42 --top 5
 *
 * prints the top 5 movie titles for user "42", one per line:
 *
 *       1  3.6245  Star Wars (1977)
 *
 * (rank, score, title).  The model must have two string features: the
 * user's (the query) and the item's (the candidates, by default the second
 * feature; --item-feature chooses).  The candidates are every token of the
 * item feature's vocabulary, the model's whole catalogue.
 *
 * Only loading, the vocabulary and feature accessors and tfrs_model_rank are
 * used: a server links nothing of training (tests/check-examples.sh checks
 * the symbols this program imports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s MODEL USER [options]\n"
            "\n"
            "Ranks every item of a saved model's item vocabulary for USER and prints\n"
            "the best K as \"rank score item\" lines.\n"
            "\n"
            "  --top K               how many to print (default 10; 0 prints all)\n"
            "  --item-feature NAME   the feature whose vocabulary holds the items\n"
            "                        (default: the model's second feature)\n"
            "  --help                show this text\n"
            "\n"
            "Exit status: 0 ranked, 1 the model could not be loaded or used,\n"
            "2 usage error.\n",
            prog);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *user = NULL, *item_name = NULL, *v;
    unsigned long long top = 10;
    tfrs_model *model = NULL;
    const tfrs_vocab *items, *users;
    const char **candidates = NULL;
    const char *query[2];
    tfrs_scored *best = NULL;
    size_t item = 1, first, n, n_best = 0;
    int32_t user_id;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if ((v = ex_option_value(argc, argv, &i, "--top")) != NULL) {
            if (ex_parse_u64(v, 100000000, &top) < 0)
                ex_bad_value(argv[0], "--top", v);
        } else if ((v = ex_option_value(argc, argv, &i, "--item-feature")) != NULL) {
            item_name = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "%s: unknown option '%s' (try --help)\n", argv[0], argv[i]);
            return 2;
        } else if (path == NULL) {
            path = argv[i];
        } else if (user == NULL) {
            user = argv[i];
        } else {
            fprintf(stderr, "%s: too many arguments (try --help)\n", argv[0]);
            return 2;
        }
    }
    if (path == NULL || user == NULL) {
        usage(stderr, argv[0]);
        return 2;
    }

    /* loaded = tf.saved_model.load(path): checks the whole file (format,
     * sizes, checksum) and fails with TFRS_EIO, TFRS_EFORMAT or
     * TFRS_EVERSION rather than serve from a damaged one. */
    if ((rc = tfrs_model_load(&model, path)) != TFRS_OK) {
        fprintf(stderr, "%s: cannot load the model %s: %s: %s\n", argv[0], path,
                tfrs_status_str(rc), tfrs_last_error());
        return 1;
    }

    /* Which feature is the item?  Features are in model order; the query
     * holds one value per feature, and rank replaces the item's. */
    if (tfrs_model_num_features(model) != 2) {
        fprintf(stderr, "%s: %s has %zu features; this example serves models with a user "
                "and an item feature\n", argv[0], path, tfrs_model_num_features(model));
        rc = 1;
        goto out;
    }
    if (item_name != NULL) {
        if (strcmp(tfrs_model_feature_name(model, 0), item_name) == 0)
            item = 0;
        else if (strcmp(tfrs_model_feature_name(model, 1), item_name) != 0) {
            fprintf(stderr, "%s: the model has no feature '%s'\n", argv[0], item_name);
            rc = 1;
            goto out;
        }
    }
    items = tfrs_model_feature_vocab(model, item);
    users = tfrs_model_feature_vocab(model, 1 - item);
    if (items == NULL || users == NULL) {
        fprintf(stderr, "%s: the model's features are not vocabulary lookups\n", argv[0]);
        rc = 1;
        goto out;
    }

    /* A user the model never saw still gets scores (from the OOV row, the
     * average newcomer), but the caller should know. */
    EX_CHECK(tfrs_vocab_lookup(users, user, &user_id));
    if (user_id < (int32_t)(tfrs_vocab_size(users) - tfrs_vocab_num_tokens(users)))
        fprintf(stderr, "%s: warning: user '%s' is not in the model's vocabulary\n",
                argv[0], user);

    /* The candidates: vocabulary.get_vocabulary() without the mask and the
     * "[UNK]" buckets, which come first (indices 0 .. first - 1). */
    n = tfrs_vocab_num_tokens(items);
    first = tfrs_vocab_size(items) - n;
    candidates = malloc((n > 0 ? n : 1) * sizeof(*candidates));
    best = malloc((n > 0 ? n : 1) * sizeof(*best));
    if (candidates == NULL || best == NULL) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        EX_CHECK(tfrs_vocab_token(items, (int32_t)(first + i), &candidates[i]));

    /* scores = model({"user_id": [user] * n, "movie_title": candidates}),
     * sorted, top K.  rank computes the user's half of the first layer once
     * and reuses a cache of every item's half. */
    query[1 - item] = user;
    query[item] = NULL;
    EX_CHECK(tfrs_model_rank(model, query, tfrs_model_feature_name(model, item), candidates,
                             n, (size_t)top, best, &n_best));
    for (size_t i = 0; i < n_best; i++)
        printf("%3zu  %.4f  %s\n", i + 1, (double)best[i].score, candidates[best[i].index]);

out:
    free(best);
    free(candidates);
    tfrs_model_free(model);
    return rc;
}
