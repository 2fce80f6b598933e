/*
 * test-config.c - JSON model descriptions: a configuration builds the
 * model the builder calls build, adapts what it leaves to the data, and
 * names the file, line and key of every mistake; the model file's
 * architecture record is the same document.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tfrsc.h"

/* user (string), genres (bag), age (float), ts (int64), rating (label). */
#define NR 12
static tfrs_dataset *make_data(void)
{
    static const char *const users[NR] = { "u1", "u2", "u3", "u1", "u4", "u2",
                                           "u5", "u3", "u1", "u2", "u4", "u5" };
    static const char *const genres[NR] = { "a|b", "c", "", "b|c|a", "a", "b",
                                            "c|c", "a|", "|b", "c|a", "d", "b" };
    tfrs_dataset *ds;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "user", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "genres", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "age", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "rating", TFRS_COLUMN_FLOAT), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "ts", TFRS_COLUMN_INT64), TFRS_OK);
    for (size_t r = 0; r < NR; r++) {
        const char *s[2] = { users[r], genres[r] };
        float f[2] = { (float)(18 + 3 * r), (float)(1 + r % 5) };
        int64_t t = (int64_t)(1000 + 37 * r);
        ck_assert_int_eq(tfrs_dataset_append_row(ds, s, f, &t), TFRS_OK);
    }
    return ds;
}

/* A configuration of every kind, written as a person would. */
static const char full_config[] =
    "{\n"
    "  \"features\": [\n"
    "    {\"name\": \"user\", \"embedding_dim\": 4, \"bias\": true, \"l2\": 0.01},\n"
    "    {\"name\": \"genres\", \"embedding_dim\": 3, \"pooling\": \"mean\"},\n"
    "    {\"name\": \"age\", \"kind\": \"numeric\"},\n"
    "    {\"name\": \"ts\", \"kind\": \"bucketized\", \"num_bins\": 4, \"embedding_dim\": 2},\n"
    "    {\"name\": \"user\", \"kind\": \"hashed\", \"num_buckets\": 7, \"embedding_dim\": 2}\n"
    "  ],\n"
    "  \"layers\": [\n"
    "    {\"kind\": \"cross\", \"projection_dim\": 2},\n"
    "    {\"units\": 8, \"activation\": \"relu\"},\n"
    "    {\"kind\": \"dropout\", \"rate\": 0.2},\n"
    "    {\"units\": 1, \"activation\": \"linear\"}\n"
    "  ],\n"
    "  \"task\": {\"loss\": \"mse\", \"metrics\": [\"rmse\", \"mae\"]},\n"
    "  \"label\": \"rating\",\n"
    "  \"optimizer\": {\"kind\": \"adam\", \"learning_rate\": 0.01,\n"
    "                \"schedule\": \"cosine\", \"decay_steps\": 100},\n"
    "  \"seed\": 7,\n"
    "  \"training\": {\"epochs\": 3, \"batch_size\": 4, \"validation_fraction\": 0.25,\n"
    "               \"early_stopping\": true, \"monitor\": \"rmse\", \"patience\": 2,\n"
    "               \"restore_best_weights\": true}\n"
    "}\n";

static char *config_of(const tfrs_model *m)
{
    size_t len = 0;
    char *buf;

    ck_assert_int_eq(tfrs_model_config(m, NULL, 0, &len), TFRS_ERANGE);
    buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(tfrs_model_config(m, buf, len + 1, NULL), TFRS_OK);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

START_TEST(duplicate_names_are_refused)
{
    tfrs_dataset *ds = make_data();
    tfrs_model *m = NULL;

    /* full_config names "user" twice (a string and a hashed view of one
     * column): features are named by their column, so this is an error */
    ck_assert_int_eq(tfrs_model_from_config(&m, full_config, sizeof(full_config) - 1,
                                            "full.json", ds), TFRS_EPARSE);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "full.json:7: features: two features are "
                                                    "named \"user\""));
    tfrs_dataset_free(ds);
}
END_TEST

/* full_config without its last feature. */
static char *valid_full(void)
{
    char *s = strdup(full_config), *p = strstr(s, ",\n    {\"name\": \"user\", \"kind\": \"hashed\"");
    char *end;

    ck_assert_ptr_nonnull(p);
    end = strstr(p, "}\n  ],");
    memmove(p, end + 1, strlen(end + 1) + 1);
    return s;
}

START_TEST(adapts_from_data_and_matches_builder_calls)
{
    tfrs_dataset *ds = make_data();
    tfrs_model *m = NULL, *b = NULL;
    char *cfg = valid_full(), *text, *text_b;
    tfrs_feature_options o;
    tfrs_vocab *uv, *gv;
    double mean, var, bounds[3];
    size_t nb;

    ck_assert_int_eq(tfrs_model_from_config(&m, cfg, strlen(cfg), "full.json", ds), TFRS_OK);
    ck_assert_uint_eq(tfrs_model_num_features(m), 4);
    ck_assert_uint_eq(tfrs_model_num_layers(m), 4);
    /* adapted: user vocabulary (5 users + OOV), bag tokens (a, b, c, d + OOV),
     * moments, quantile boundaries */
    ck_assert_uint_eq(tfrs_vocab_size(tfrs_model_feature_vocab(m, 0)), 6);
    ck_assert_uint_eq(tfrs_vocab_size(tfrs_model_feature_vocab(m, 1)), 5);
    ck_assert_int_eq(tfrs_dataset_column_moments(ds, "age", &mean, &var), TFRS_OK);
    ck_assert_int_eq(tfrs_model_feature_options(m, 2, &o), TFRS_OK);
    ck_assert_double_eq(o.mean, mean);
    ck_assert_double_eq(o.variance, var);
    ck_assert_int_eq(tfrs_dataset_column_quantiles(ds, "ts", 4, bounds, &nb), TFRS_OK);
    ck_assert_int_eq(tfrs_model_feature_options(m, 3, &o), TFRS_OK);
    ck_assert_uint_eq(o.num_boundaries, nb);
    ck_assert_mem_eq(o.boundaries, bounds, nb * sizeof(double));

    /* the same model by builder calls has the same description and weights */
    ck_assert_int_eq(tfrs_vocab_adapt_column(&uv, ds, "user", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_bags(&gv, ds, "genres", '|', NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&b, 7), TFRS_OK);
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.vocab = uv;
    o.embedding_dim = 4;
    o.bias = 1;
    o.l2 = 0.01f;
    ck_assert_int_eq(tfrs_model_add_feature_ex(b, "user", &o), TFRS_OK);
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.vocab = gv;
    o.embedding_dim = 3;
    o.pooling = TFRS_POOL_MEAN;
    ck_assert_int_eq(tfrs_model_add_feature_ex(b, "genres", &o), TFRS_OK);
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.kind = TFRS_FEATURE_NUMERIC;
    o.mean = mean;
    o.variance = var;
    ck_assert_int_eq(tfrs_model_add_feature_ex(b, "age", &o), TFRS_OK);
    tfrs_feature_options_init(&o, TFRS_FEATURE_OPTIONS_VERSION);
    o.kind = TFRS_FEATURE_BUCKETIZED;
    o.boundaries = bounds;
    o.num_boundaries = nb;
    o.embedding_dim = 2;
    ck_assert_int_eq(tfrs_model_add_feature_ex(b, "ts", &o), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_cross(b, 2, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(b, 8, TFRS_ACT_RELU, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dropout(b, 0.2f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(b, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    {
        tfrs_task_options to;
        tfrs_ranking_task *t;
        tfrs_optimizer_options oo;
        tfrs_task_options_init(&to, TFRS_TASK_OPTIONS_VERSION);
        to.metrics = TFRS_METRIC_RMSE | TFRS_METRIC_MAE;
        ck_assert_int_eq(tfrs_ranking_task_create(&t, &to), TFRS_OK);
        ck_assert_int_eq(tfrs_model_set_task(b, t), TFRS_OK);
        tfrs_ranking_task_free(t);
        tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION, TFRS_OPT_ADAM);
        oo.learning_rate = 0.01f;
        oo.schedule = TFRS_LR_COSINE;
        oo.decay_steps = 100;
        ck_assert_int_eq(tfrs_model_set_optimizer(b, &oo), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_set_label(b, "rating", NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_build(b), TFRS_OK);
    {
        const char *v[4] = { "u2", "a|c", "40", "1200" };
        float sa, sb;
        ck_assert_int_eq(tfrs_model_predict(m, v, 1, &sa), TFRS_OK);
        ck_assert_int_eq(tfrs_model_predict(b, v, 1, &sb), TFRS_OK);
        ck_assert_float_eq(sa, sb);                       /* same seed, same table */
    }
    /* descriptions equal except the training section the config carries */
    text = config_of(m);
    text_b = config_of(b);
    ck_assert_ptr_nonnull(strstr(text, "\"training\":{"));
    ck_assert_ptr_null(strstr(text_b, "\"training\""));
    *strstr(text, ",\"training\":{") = '\0';
    text_b[strlen(text_b) - 1] = '\0';                    /* its closing brace */
    ck_assert_str_eq(text, text_b);
    free(text);
    free(text_b);
    tfrs_vocab_free(uv);
    tfrs_vocab_free(gv);
    tfrs_model_free(b);
    tfrs_model_free(m);
    free(cfg);
    tfrs_dataset_free(ds);
}
END_TEST

/* The model file's record is the same document: a saved model's
 * description builds (without data: everything is in it) the same model. */
START_TEST(model_file_record_is_a_configuration)
{
    tfrs_dataset *ds = make_data();
    tfrs_model *m = NULL, *back = NULL, *again = NULL;
    char *cfg = valid_full(), *a, *b, *c;
    tfrs_fit_options fo;
    double vf;

    ck_assert_int_eq(tfrs_model_from_config(&m, cfg, strlen(cfg), "full.json", ds), TFRS_OK);
    tu_tmpdir_make();
    ck_assert_int_eq(tfrs_model_save(m, tu_tmp_path("m.tfrs"), 0), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&back, tu_tmp_path("m.tfrs")), TFRS_OK);
    a = config_of(m);
    b = config_of(back);
    ck_assert_str_eq(a, b);                       /* training settings included */
    /* rebuilt from the description alone: the string vocabularies need the
     * data (their tokens are tensors, not part of the description) */
    ck_assert_int_eq(tfrs_model_from_config(&again, b, strlen(b), "saved", NULL), TFRS_EPARSE);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "vocabulary"));
    ck_assert_int_eq(tfrs_model_from_config(&again, b, strlen(b), "saved", ds), TFRS_OK);
    c = config_of(again);
    ck_assert_str_eq(a, c);
    ck_assert_int_eq(tfrs_config_fit_options(b, strlen(b), "saved", &fo, &vf), TFRS_OK);
    ck_assert_int_eq(fo.epochs, 3);
    ck_assert_uint_eq(fo.batch_size, 4);
    ck_assert_int_eq(fo.early_stopping, 1);
    ck_assert_int_eq(fo.monitor, TFRS_MONITOR_RMSE);
    ck_assert_int_eq(fo.patience, 2);
    ck_assert_int_eq(fo.restore_best_weights, 1);
    ck_assert_double_eq(vf, 0.25);
    free(a);
    free(b);
    free(c);
    free(cfg);
    tfrs_model_free(again);
    tfrs_model_free(back);
    tfrs_model_free(m);
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();
}
END_TEST

/* Mistakes: the document, the line the message must name, and a piece of
 * the message. */
static const struct {
    const char *doc, *where, *what;
} mistakes[] = {
    { "{\n\"features\": [\n {\"name\": \"user\", \"embeding_dim\": 4}\n],\n\"layers\": "
      "[{\"units\": 1, \"activation\": \"linear\"}]}",
      "c.json:3: features[0]", "unknown key \"embeding_dim\"" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [\n{\"units\": 1, "
      "\"activation\": \"tanh\"}]}",
      "c.json:3: layers[0]", "expected \"linear\", \"relu\" or \"sigmoid\"" },
    { "{\"features\": [{\"name\": \"user\", \"pooling\": \"avg\"}],\n\"layers\": [{\"units\": "
      "1, \"activation\": \"linear\"}]}",
      "c.json:1: features[0]", "\"pooling\" is \"avg\"" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": []}", "c.json:2", "non-empty" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"units\": 1, \"activation\": "
      "\"linear\"}],\n\"optimizer\": {\"kind\": \"adagrad\", \"learning_rate\": -1}}",
      "c.json:3: optimizer", "learning" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"units\": 1, \"activation\": "
      "\"linear\"}],\n\n\"training\": {\"early_stopping\": true}}",
      "c.json:4: training", "validation_fraction" },
    { "{\"features\": [{\"name\": \"age\", \"kind\": \"numeric\", \"mean\": 3}],\n\"layers\": "
      "[{\"units\": 1, \"activation\": \"linear\"}]}",
      "c.json:1: features[0]", "both \"mean\" and \"variance\"" },
    { "{\"features\": [{\"name\": \"ts\", \"kind\": \"bucketized\", \"boundaries\": [1, 3, "
      "2]}],\n\"layers\": [{\"units\": 1, \"activation\": \"linear\"}]}",
      "c.json:1: features[0].boundaries", "boundary 2" },
    { "{\"features\": [{\"name\": \"user\", \"num_buckets\": 3}],\n\"layers\": [{\"units\": "
      "1, \"activation\": \"linear\"}]}",
      "c.json:1: features[0]", "num_buckets is for hashed" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"kind\": \"dropout\", \"rate\": "
      "0.5, \"units\": 3}, {\"units\": 1, \"activation\": \"linear\"}]}",
      "c.json:2: layers[0]", "units and activation are for dense" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"units\": 1, \"activation\": "
      "\"linear\"}],\n\"task\": {\"loss\": \"mse\", \"metrics\": [\"rmse\",\n \"ndcg\"]}}",
      "c.json:4: task.metrics", "unknown metric" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"units\": 1, \"activation\": "
      "\"linear\"}],\n\"seed\": -4}",
      "c.json:3", "\"seed\" must be a non-negative integer" },
    { "{\"features\": [{\"name\": \"user\"}],\n\n\n \"features\": []}", "c.json:1",
      "the same key twice" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"units\": 1,\n \"activation\" "
      "\"linear\"}]}",
      "c.json:3", "not valid JSON" },
    { "{\"features\": [{\"name\": \"user\", \"embedding_dim\": 2.5}],\n\"layers\": [{\"units\": "
      "1, \"activation\": \"linear\"}]}",
      "c.json:1: features[0]", "non-negative integer" },
    { "{\"features\": [{\"name\": \"user\"}],\n\"layers\": [{\"units\": 4, \"activation\": "
      "\"relu\"}]}",
      "c.json:", "1 unit" },
    { "{\"features\": [{\"name\": \"nope\"}],\n\"layers\": [{\"units\": 1, \"activation\": "
      "\"linear\"}]}",
      "nope", "" },
};

START_TEST(mistakes_name_file_line_and_key)
{
    tfrs_dataset *ds = make_data();

    for (size_t k = 0; k < TU_NELEM(mistakes); k++) {
        tfrs_model *m = NULL;
        int rc = tfrs_model_from_config(&m, mistakes[k].doc, strlen(mistakes[k].doc), "c.json",
                                        ds);
        const char *msg = tfrs_last_error();
        ck_assert_msg(rc != TFRS_OK, "mistake %zu was accepted", k);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(msg, mistakes[k].where) != NULL &&
                      strstr(msg, mistakes[k].what) != NULL,
                      "mistake %zu: \"%s\" lacks \"%s\" or \"%s\"", k, msg, mistakes[k].where,
                      mistakes[k].what);
    }
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(numbers_and_strings)
{
    /* floats as numbers or as exact decimal strings; seeds as strings */
    static const char a[] = "{\"features\": [{\"name\": \"user\", \"l2\": 0.1}], \"layers\": "
                            "[{\"units\": 1, \"activation\": \"linear\", \"l2\": \"0.25\"}], "
                            "\"label\": \"rating\", \"seed\": \"18446744073709551615\"}";
    tfrs_dataset *ds = make_data();
    tfrs_model *m = NULL;
    tfrs_feature_options o;
    char *text;

    ck_assert_int_eq(tfrs_model_from_config(&m, a, sizeof(a) - 1, "a", ds), TFRS_OK);
    ck_assert_int_eq(tfrs_model_feature_options(m, 0, &o), TFRS_OK);
    ck_assert_float_eq(o.l2, 0.1f);
    text = config_of(m);
    ck_assert_ptr_nonnull(strstr(text, "\"seed\":\"18446744073709551615\""));
    ck_assert_ptr_nonnull(strstr(text, "\"l2\":\"0.25\""));
    free(text);
    tfrs_model_free(m);
    tfrs_dataset_free(ds);
}
END_TEST

START_TEST(trains_as_configured)
{
    tfrs_dataset *ds = make_data(), *tr = NULL, *va = NULL;
    tfrs_model *m = NULL;
    char *cfg = valid_full();
    tfrs_fit_options fo;
    double vf;
    int ran = 0, best = 0;
    size_t nval;

    ck_assert_int_eq(tfrs_config_fit_options(cfg, strlen(cfg), "full.json", &fo, &vf), TFRS_OK);
    nval = (size_t)(vf * NR);
    ck_assert_int_eq(tfrs_dataset_slice(&tr, ds, 0, NR - nval), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_slice(&va, ds, NR - nval, nval), TFRS_OK);
    ck_assert_int_eq(tfrs_model_from_config(&m, cfg, strlen(cfg), "full.json", tr), TFRS_OK);
    fo.validation = va;
    fo.epochs_run = &ran;
    fo.best_epoch = &best;
    ck_assert_int_eq(tfrs_model_fit(m, tr, &fo, NULL), TFRS_OK);
    ck_assert_int_ge(ran, 1);
    ck_assert_int_le(ran, 3);
    ck_assert_int_ge(best, 1);
    free(cfg);
    tfrs_model_free(m);
    tfrs_dataset_free(tr);
    tfrs_dataset_free(va);
    tfrs_dataset_free(ds);
}
END_TEST

/* ---- the documents of docs/ ------------------------------------------------ */

/* MovieLens-like rows with the columns the documents of docs/ name: the
 * loader's base columns and its side features. */
#define ND 96
static tfrs_dataset *make_movielens_like(void)
{
    static const char *const occupations[] = { "student", "engineer", "artist", "doctor" };
    static const char *const genres[] = { "g1|g2", "g3", "", "g4|g2", "g5|g1|g6", "g7" };
    static const char *const strings[] = { "user_id", "movie_id", "movie_title", "user_gender",
                                           "user_occupation_text", "user_zip_code",
                                           "movie_genres" };
    static const char *const floats[] = { "user_rating", "raw_user_age",
                                          "bucketized_user_age" };
    static const char *const ints[] = { "timestamp", "movie_release_date",
                                        "movie_release_year" };
    tfrs_dataset *ds;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    for (size_t k = 0; k < TU_NELEM(strings); k++)
        ck_assert_int_eq(tfrs_dataset_add_column(ds, strings[k], TFRS_COLUMN_STRING), TFRS_OK);
    for (size_t k = 0; k < TU_NELEM(floats); k++)
        ck_assert_int_eq(tfrs_dataset_add_column(ds, floats[k], TFRS_COLUMN_FLOAT), TFRS_OK);
    for (size_t k = 0; k < TU_NELEM(ints); k++)
        ck_assert_int_eq(tfrs_dataset_add_column(ds, ints[k], TFRS_COLUMN_INT64), TFRS_OK);
    for (size_t r = 0; r < ND; r++) {
        char user[16], movie[16], title[32], zip[16];
        const char *s[7] = { user, movie, title, r % 3 ? "M" : "F", occupations[r % 4], zip,
                             genres[r % 6] };
        float f[3] = { (float)(1 + r % 5), (float)(15 + r % 50), 25.0f };
        int64_t i[3] = { (int64_t)(874724710 + 9973 * r), (int64_t)(r % 30) * 31536000,
                         (int64_t)(1970 + r % 30) };
        snprintf(user, sizeof(user), "%zu", 1 + r % 11);
        snprintf(movie, sizeof(movie), "%zu", 1 + r % 17);
        snprintf(title, sizeof(title), "Movie %zu (19%02zu)", 1 + r % 17, 70 + r % 17);
        snprintf(zip, sizeof(zip), "%05zu", 10000 + 37 * (r % 13));
        ck_assert_int_eq(tfrs_dataset_append_row(ds, s, f, i), TFRS_OK);
    }
    return ds;
}

/* Every complete document (a ```json block with "features") of the
 * configuration guide and the featurization guide is accepted, its training
 * section too, and the model trains for an epoch. */
START_TEST(docs_examples_are_accepted)
{
    static const char *const pages[] = { "docs/configuration.md", "docs/featurization.md" };
    tfrs_dataset *ds = make_movielens_like();
    size_t documents = 0;

    for (size_t p = 0; p < TU_NELEM(pages); p++) {
        FILE *f = fopen(pages[p], "rb");
        char *text, *at;
        long size;

        ck_assert_msg(f != NULL, "%s: cannot open (tests run from the source tree)", pages[p]);
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        ck_assert_int_ge(size, 0);
        rewind(f);
        text = malloc((size_t)size + 1);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
        text[size] = '\0';
        fclose(f);
        for (at = strstr(text, "\n```json\n"); at != NULL; at = strstr(at, "\n```json\n")) {
            char *doc = at + 9, *end = strstr(doc, "\n```");
            tfrs_model *m = NULL;
            tfrs_fit_options fo;
            double vf = 0;

            ck_assert_ptr_nonnull(end);
            at = end + 4;
            if (doc[0] != '{' || strstr(doc, "\"features\"") == NULL ||
                strstr(doc, "\"features\"") > end)
                continue;                                 /* a fragment */
            ck_assert_msg(tfrs_model_from_config(&m, doc, (size_t)(end - doc), pages[p], ds) ==
                          TFRS_OK, "%s: %s", pages[p], tfrs_last_error());
            ck_assert_msg(tfrs_config_fit_options(doc, (size_t)(end - doc), pages[p], &fo, &vf) ==
                          TFRS_OK, "%s: %s", pages[p], tfrs_last_error());
            fo.epochs = 1;
            fo.validation = vf > 0 ? ds : NULL;
            ck_assert_msg(tfrs_model_fit(m, ds, &fo, NULL) == TFRS_OK, "%s: %s", pages[p],
                          tfrs_last_error());
            tfrs_model_free(m);
            documents++;
        }
        free(text);
    }
    ck_assert_uint_ge(documents, 3);
    tfrs_dataset_free(ds);
}
END_TEST

/* Found by fuzz-config: a document the builder refuses (tfrs_model_build's
 * TFRS_ESTATE) came back with the builder's status; it is an error in the
 * document, TFRS_EPARSE, named by its source.  A monitor the task does not
 * compute was accepted, and tfrs_model_fit then refused the document's own
 * fit options.  A column the data lacks keeps its TFRS_ENOTFOUND (the data
 * may be the one at fault), named by the source and line all the same. */
START_TEST(builder_refusals_are_parse_errors)
{
    static const char *const docs[] = {
        "{\"features\": [{\"name\": \"user\", \"embedding_dim\": 4}],"
        " \"layers\": [{\"units\": 2, \"activation\": \"linear\"}]}",
        "{\"features\": [{\"name\": \"user\", \"embedding_dim\": 4}],"
        " \"layers\": [{\"units\": 1, \"activation\": \"linear\"}],"
        " \"structure\": \"parallel\"}",
        /* tfrs_model_fit would refuse these training settings */
        "{\"features\": [{\"name\": \"user\", \"embedding_dim\": 4}],"
        " \"layers\": [{\"units\": 1, \"activation\": \"linear\"}],"
        " \"training\": {\"monitor\": \"auc\"}}",
    };
    tfrs_dataset *ds = make_data();

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        tfrs_model *m = NULL;
        ck_assert_int_eq(tfrs_model_from_config(&m, docs[i], strlen(docs[i]), "b.json", ds),
                         TFRS_EPARSE);
        ck_assert_ptr_null(m);
        ck_assert_msg(strncmp(tfrs_last_error(), "b.json:", 7) == 0, "%s", tfrs_last_error());
    }
    {
        static const char nocol[] = "{\"features\": [{\"name\": \"no such column\"}],"
                                    " \"layers\": [{\"units\": 1, \"activation\": \"linear\"}]}";
        tfrs_model *m = NULL;
        ck_assert_int_eq(tfrs_model_from_config(&m, nocol, strlen(nocol), "b.json", ds),
                         TFRS_ENOTFOUND);
        ck_assert_ptr_null(m);
        ck_assert_msg(strncmp(tfrs_last_error(), "b.json:1: features[0]", 21) == 0, "%s",
                      tfrs_last_error());
    }
    tfrs_dataset_free(ds);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");

    tu_tcase(s, "build", duplicate_names_are_refused, adapts_from_data_and_matches_builder_calls,
             numbers_and_strings, trains_as_configured);
    tu_tcase(s, "files", model_file_record_is_a_configuration, docs_examples_are_accepted);
    tu_tcase(s, "mistakes", mistakes_name_file_line_and_key, builder_refusals_are_parse_errors);
    return s;
}

int main(void)
{
    return tu_run(config_suite());
}
