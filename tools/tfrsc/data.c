/*
 * data.c - tfrsc's data: MovieLens directories and delimited files, the
 * columns a model reads, the train/test split, model files.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The columns a model needs as floats come from its JSON description (a
 * configuration, or tfrs_model_config of a loaded model), read with cJSON:
 * the label, the weight, and numeric and bucketized features.
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char *const movielens_base[] = {
    "user_id", "movie_id", "movie_title", "user_rating", "timestamp",
};

void cli_columns_free(cli_columns *c)
{
    for (size_t i = 0; i < c->num_floats; i++)
        free(c->floats[i]);
    for (size_t i = 0; i < c->num_features; i++)
        free(c->features[i]);
    free(c->floats);
    free(c->features);
    memset(c, 0, sizeof(*c));
}

static int push(char ***list, size_t *n, const char *s)
{
    char **grown = realloc(*list, (*n + 1) * sizeof(**list));
    char *copy = strdup(s);

    if (grown == NULL || copy == NULL) {
        free(copy);
        if (grown != NULL)
            *list = grown;
        return -1;
    }
    *list = grown;
    grown[(*n)++] = copy;
    return 0;
}

/* The description's label, weight and features (kinds). */
static int columns_from_json(cli_columns *c, const cJSON *doc)
{
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(doc, "label");
    const cJSON *weight = cJSON_GetObjectItemCaseSensitive(doc, "weight");
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(doc, "features");
    const cJSON *f;

    if (push(&c->floats, &c->num_floats, cJSON_IsString(label) ? label->valuestring : "label"))
        return -1;
    if (cJSON_IsString(weight) && push(&c->floats, &c->num_floats, weight->valuestring))
        return -1;
    cJSON_ArrayForEach(f, features) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(f, "kind");

        if (!cJSON_IsString(name))
            continue;
        if (push(&c->features, &c->num_features, name->valuestring))
            return -1;
        if (cJSON_IsString(kind) && (strcmp(kind->valuestring, "numeric") == 0 ||
                                     strcmp(kind->valuestring, "bucketized") == 0) &&
            push(&c->floats, &c->num_floats, name->valuestring))
            return -1;
    }
    return 0;
}

int cli_columns_from_config(cli_columns *c, const char *json, const char *source)
{
    cJSON *doc = cJSON_Parse(json);
    int rc = CLI_OK;

    memset(c, 0, sizeof(*c));
    if (doc == NULL) {
        /* The library's reader names the line; let it report. */
        tfrs_model *m = NULL;
        int st = tfrs_model_from_config(&m, json, strlen(json), source, NULL);
        tfrs_model_free(m);
        return st != TFRS_OK ? cli_lib_error(source, st)
                             : cli_error("%s: not valid JSON", source);
    }
    if (columns_from_json(c, doc) < 0)
        rc = cli_error("out of memory");
    cJSON_Delete(doc);
    return rc;
}

int cli_columns_from_model(cli_columns *c, const tfrs_model *model)
{
    size_t len = 0;
    char *buf;
    int st, rc;

    memset(c, 0, sizeof(*c));
    tfrs_model_config(model, NULL, 0, &len);
    buf = malloc(len + 1);
    if (buf == NULL)
        return cli_error("out of memory");
    if ((st = tfrs_model_config(model, buf, len + 1, NULL)) != TFRS_OK) {
        free(buf);
        return cli_lib_error("tfrs_model_config", st);
    }
    rc = cli_columns_from_config(c, buf, "model description");
    free(buf);
    return rc;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* 1 if one of the features is not among the base MovieLens columns. */
static int needs_side_features(const cli_columns *c)
{
    for (size_t i = 0; c != NULL && i < c->num_features; i++) {
        int base = 0;
        for (size_t j = 0; j < sizeof(movielens_base) / sizeof(movielens_base[0]); j++)
            base |= strcmp(c->features[i], movielens_base[j]) == 0;
        if (!base)
            return 1;
    }
    return 0;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

int cli_load_data(tfrs_dataset **out, const char *path, const cli_columns *c, char delim)
{
    int st;

    *out = NULL;
    if (is_dir(path)) {
        tfrs_load_options lo;

        if (!file_exists(path, "u.data"))
            return cli_error("%s: not a MovieLens directory (no u.data)", path);
        tfrs_load_options_init(&lo, TFRS_LOAD_OPTIONS_VERSION);
        if (needs_side_features(c)) {
            if (file_exists(path, "u.user"))
                lo.movielens_features |= TFRS_MOVIELENS_USER_FEATURES;
            if (file_exists(path, "u.genre"))
                lo.movielens_features |= TFRS_MOVIELENS_ITEM_FEATURES;
        }
        st = tfrs_dataset_load_movielens(out, path, &lo);
    } else {
        tfrs_delimited_options d;

        tfrs_delimited_options_init(&d, TFRS_DELIMITED_OPTIONS_VERSION);
        d.delimiter = delim != '\0' ? delim
                      : ends_with(path, ".tsv") || ends_with(path, ".data") ? '\t' : ',';
        if (c != NULL) {
            d.float_columns = (const char *const *)c->floats;
            d.num_float_columns = c->num_floats;
        } else {
            static const char *const rating[] = { "user_rating" };
            d.float_columns = rating;
            d.num_float_columns = 1;
        }
        st = tfrs_dataset_load_delimited(out, path, &d);
    }
    if (st != TFRS_OK) {
        /* The loaders name the file (and line) in their messages. */
        const char *detail = tfrs_last_error();
        if (detail != NULL && strstr(detail, path) != NULL)
            return cli_lib_error("cannot load data", st);
        return cli_error("%s: %s: %s", path, tfrs_status_str(st), detail);
    }
    if (tfrs_dataset_num_rows(*out) == 0) {
        tfrs_dataset_free(*out);
        *out = NULL;
        return cli_error("%s: no data rows", path);
    }
    return CLI_OK;
}

int cli_split_data(tfrs_dataset *ds, const cli_split *s, tfrs_dataset **train,
                   tfrs_dataset **test)
{
    size_t n = tfrs_dataset_num_rows(ds), nt = (size_t)(s->test_fraction * (double)n);
    int st;

    *train = *test = NULL;
    if (s->test_fraction > 0.0 && nt == 0)
        nt = 1;
    if (nt >= n)
        return cli_error("a test fraction of %g leaves no training rows of %zu",
                         s->test_fraction, n);
    if ((st = tfrs_dataset_shuffle(ds, s->split_seed)) != TFRS_OK ||
        (st = tfrs_dataset_slice(train, ds, 0, n - nt)) != TFRS_OK ||
        (nt > 0 && (st = tfrs_dataset_slice(test, ds, n - nt, nt)) != TFRS_OK)) {
        tfrs_dataset_free(*train);
        *train = NULL;
        return cli_lib_error("splitting the data", st);
    }
    return CLI_OK;
}

char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *grown = realloc(buf, cap = 2 * cap + 8192);
            if (grown == NULL) {
                cli_error("%s: out of memory", path);
                goto fail;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cli_error("%s: read error", path);
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

int cli_load_model(tfrs_model **out, const char *path)
{
    int st = tfrs_model_load(out, path);
    const char *detail;

    if (st == TFRS_OK)
        return CLI_OK;
    detail = tfrs_last_error();
    if (detail != NULL && strstr(detail, path) != NULL)
        return cli_error("%s: %s", tfrs_status_str(st), detail);
    return cli_error("%s: %s: %s", path, tfrs_status_str(st), detail);
}
