/*
 * inspect.c - tfrsc inspect: what a model file holds, as the public API
 * sees it: whether it loads (the loader checks the format and the
 * checksum), features, layers, parameter counts, vocabularies, training
 * state and the JSON description.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

#define SAMPLE_TOKENS 5

static const char *const kind_names[] = { "string", "hashed", "numeric", "bucketized" };
static const char *const pool_names[] = { "none", "sum", "mean", "sqrtn" };
static const char *const act_names[] = { "linear", "relu", "sigmoid" };

static void usage(FILE *f)
{
    fputs("usage: tfrsc inspect MODEL [--json]\n"
          "\n"
          "Loads a model file (which checks its format and checksum) and describes it:\n"
          "features, vocabularies, layers, parameter counts, training state, weights\n"
          "hash and the JSON description.  Exit status 1 if it does not load.\n"
          "\n"
          "  --json   one JSON object\n"
          "  --help   this text\n", f);
}

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "?";
}

static size_t feature_params(const tfrs_model *m, size_t f)
{
    const tfrs_embedding *e = tfrs_model_feature_embedding(m, f);
    return e != NULL ? tfrs_embedding_rows(e) * tfrs_embedding_dim(e) : 0;
}

static void print_feature(const tfrs_model *m, size_t f, int json)
{
    tfrs_feature_options fo;
    const tfrs_vocab *voc = tfrs_model_feature_vocab(m, f);
    const char *name = tfrs_model_feature_name(m, f), *kind;

    tfrs_model_feature_options(m, f, &fo);
    kind = name_of(kind_names, 4, (int)fo.kind);
    if (json) {
        printf("%s{\"name\": ", f ? ", " : "");
        cli_json_string(stdout, name);
        printf(", \"kind\": \"%s\", \"embedding_dim\": %zu, \"pooling\": \"%s\", "
               "\"parameters\": %zu", kind, fo.kind == TFRS_FEATURE_NUMERIC ? 1 : fo.embedding_dim,
               name_of(pool_names, 4, (int)fo.pooling), feature_params(m, f));
    } else {
        printf("  %-24s %-10s dim %-4zu", name, kind,
               fo.kind == TFRS_FEATURE_NUMERIC ? (size_t)1 : fo.embedding_dim);
        if (fo.pooling != TFRS_POOL_NONE)
            printf(" pooling %s", name_of(pool_names, 4, (int)fo.pooling));
        if (fo.kind == TFRS_FEATURE_HASHED)
            printf(" buckets %zu", fo.num_buckets);
        if (fo.kind == TFRS_FEATURE_BUCKETIZED)
            printf(" boundaries %zu", fo.num_boundaries);
        printf(" parameters %zu", feature_params(m, f));
    }
    if (voc != NULL) {
        size_t size = tfrs_vocab_size(voc), k = tfrs_vocab_num_tokens(voc);
        if (json)
            printf(", \"vocab_size\": %zu, \"num_tokens\": %zu, \"num_oov\": %zu, "
                   "\"sample_tokens\": [", size, k, tfrs_vocab_num_oov(voc));
        else
            printf(" vocab %zu (%zu tokens, %zu OOV):", size, k, tfrs_vocab_num_oov(voc));
        for (size_t i = 0; i < k && i < SAMPLE_TOKENS; i++) {
            const char *t = "";
            tfrs_vocab_token(voc, (int32_t)(size - k + i), &t);
            fputs(json ? (i ? ", " : "") : " ", stdout);
            cli_json_string(stdout, t);
        }
        if (json)
            putchar(']');
        else if (k > SAMPLE_TOKENS)
            fputs(" ...", stdout);
    }
    puts(json ? "}" : "");
}

static void print_layers(const tfrs_model *m, int json)
{
    size_t nd = 0;

    for (size_t i = 0; i < tfrs_model_num_layers(m); i++) {
        int kind = tfrs_model_layer_kind(m, i);
        const char *sep = json && i ? ", " : "";

        if (kind == TFRS_LAYER_DENSE) {
            const tfrs_dense *d = tfrs_model_dense(m, nd++);
            size_t in = tfrs_dense_in(d), units = tfrs_dense_units(d);
            const char *act = name_of(act_names, 3, (int)tfrs_dense_activation(d));
            if (json)
                printf("%s{\"kind\": \"dense\", \"in\": %zu, \"units\": %zu, \"activation\": "
                       "\"%s\", \"parameters\": %zu}", sep, in, units, act, in * units + units);
            else
                printf("  %zu dense  %zu -> %zu %s, parameters %zu\n", i, in, units, act,
                       in * units + units);
        } else {
            const char *k = kind == TFRS_LAYER_CROSS ? "cross" : "dropout";
            if (json)
                printf("%s{\"kind\": \"%s\"}", sep, k);
            else
                printf("  %zu %s\n", i, k);
        }
    }
}

/* The file's header metadata (docs/file-format.md: an 8-byte little-endian
 * length, then a JSON object whose "__metadata__" holds strings), read
 * without the library, so that a file that does not load still shows what
 * it claims to be.  NULL when the header cannot be read; then *why says so. */
#define HEADER_MAX (64u << 20)

static cJSON *file_metadata(const char *path, const char **why)
{
    FILE *f = fopen(path, "rb");
    unsigned char len8[8];
    uint64_t n = 0;
    char *text;
    cJSON *doc, *meta;

    *why = "cannot open the file";
    if (f == NULL)
        return NULL;
    *why = "no 8-byte header length";
    if (fread(len8, 1, 8, f) != 8) {
        fclose(f);
        return NULL;
    }
    for (int i = 7; i >= 0; i--)
        n = n << 8 | len8[i];
    *why = "header length out of range";
    if (n == 0 || n > HEADER_MAX || (text = malloc((size_t)n + 1)) == NULL) {
        fclose(f);
        return NULL;
    }
    *why = "header shorter than its length";
    if (fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        fclose(f);
        return NULL;
    }
    fclose(f);
    text[n] = '\0';
    doc = cJSON_ParseWithLength(text, (size_t)n);
    free(text);
    *why = "header is not JSON with a __metadata__ object";
    meta = doc != NULL ? cJSON_DetachItemFromObjectCaseSensitive(doc, "__metadata__") : NULL;
    cJSON_Delete(doc);
    if (meta != NULL && !cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        return NULL;
    }
    return meta;
}

static const char *meta_string(const cJSON *meta, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "format": ..., "format_version": ..., "crc32": ..., "optimizer_state": ...,
 * "checksum": verified | not verified (the file did not load) */
static void print_metadata(const cJSON *meta, const char *why, int loaded, int json)
{
    static const char *const keys[] = { "format", "format_version", "crc32",
                                        "optimizer_state" };

    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *v = meta != NULL ? meta_string(meta, keys[k]) : NULL;
        if (json) {
            printf(", \"%s\": ", keys[k]);
            if (v != NULL)
                cli_json_string(stdout, v);
            else
                fputs("null", stdout);
        } else {
            printf("%s: %s\n", keys[k], v != NULL ? v : "(none)");
        }
    }
    if (json) {
        printf(", \"checksum\": \"%s\"", loaded ? "verified" : "not verified");
        if (meta == NULL) {
            fputs(", \"header_error\": ", stdout);
            cli_json_string(stdout, why);
        }
    } else {
        printf("checksum: %s\n", loaded ? "verified (the CRC-32 of the data section matches)"
                                         : "not verified (the file does not load)");
        if (meta == NULL)
            printf("header: %s\n", why);
    }
}

int cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    tfrs_model *m = NULL;
    uint64_t steps = 0, epochs = 0, hash = 0;
    size_t len = 0, F;
    char *desc = NULL;
    cJSON *meta = NULL;
    const char *why = "";
    int json = 0, st;

    cli_prog = "tfrsc inspect";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("unknown option '%s'", argv[i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return cli_usage_error("one model file at a time");
        }
    }
    if (path == NULL)
        return cli_usage_error("which model file?");
    meta = file_metadata(path, &why);
    if ((st = tfrs_model_load(&m, path)) != TFRS_OK) {
        if (json) {
            printf("{\"file\": ");
            cli_json_string(stdout, path);
            printf(", \"loaded\": false, \"status\": \"%s\", \"error\": ", tfrs_status_str(st));
            cli_json_string(stdout, tfrs_last_error());
            print_metadata(meta, why, 0, 1);
            puts("}");
        } else {
            printf("file: %s\nstatus: does not load: %s\n", path, tfrs_status_str(st));
            print_metadata(meta, why, 0, 0);
        }
        cli_error("%s: %s: %s", path, tfrs_status_str(st), tfrs_last_error());
        cJSON_Delete(meta);
        return CLI_FAIL;
    }
    tfrs_model_training_state(m, &steps, &epochs);
    tfrs_model_weights_hash(m, &hash);
    tfrs_model_config(m, NULL, 0, &len);
    if ((desc = malloc(len + 1)) == NULL || tfrs_model_config(m, desc, len + 1, NULL) != 0) {
        free(desc);
        cJSON_Delete(meta);
        tfrs_model_free(m);
        return cli_error("%s: cannot describe the model", path);
    }
    F = tfrs_model_num_features(m);
    if (json) {
        printf("{\"file\": ");
        cli_json_string(stdout, path);
        printf(", \"loaded\": true, \"status\": \"%s\", \"library\": \"%s\", "
               "\"parameters\": %zu, \"structure\": \"%s\", \"steps\": %llu, \"epochs\": %llu, "
               "\"weights_hash\": \"%016llx\"", tfrs_status_str(TFRS_OK),
               tfrs_version_string(), tfrs_model_num_parameters(m),
               tfrs_model_structure(m) == TFRS_STRUCTURE_PARALLEL ? "parallel" : "stacked",
               (unsigned long long)steps, (unsigned long long)epochs,
               (unsigned long long)hash);
        print_metadata(meta, why, 1, 1);
        printf(",\n\"features\": [");
        for (size_t f = 0; f < F; f++)
            print_feature(m, f, 1);
        printf("],\n\"layers\": [");
        print_layers(m, 1);
        printf("],\n\"config\": %s}\n", desc);
    } else {
        printf("file: %s\n", path);
        printf("status: loaded (format, checksum and shapes checked)\n");
        print_metadata(meta, why, 1, 0);
        printf("parameters: %zu\n", tfrs_model_num_parameters(m));
        printf("structure: %s\n",
               tfrs_model_structure(m) == TFRS_STRUCTURE_PARALLEL ? "parallel" : "stacked");
        printf("training: %llu steps, %llu epochs\n", (unsigned long long)steps,
               (unsigned long long)epochs);
        printf("weights_hash: %016llx\n", (unsigned long long)hash);
        printf("features: %zu\n", F);
        for (size_t f = 0; f < F; f++)
            print_feature(m, f, 0);
        printf("layers: %zu\n", tfrs_model_num_layers(m));
        print_layers(m, 0);
        printf("config: %s\n", desc);
    }
    free(desc);
    cJSON_Delete(meta);
    tfrs_model_free(m);
    return CLI_OK;
}
