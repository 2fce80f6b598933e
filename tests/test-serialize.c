/*
 * test-serialize.c - saving and loading: round trips (predictions, weights,
 * optimizer state, resumed training), the safetensors layout, hostile files
 * (truncation, every header field, checksums, non-finite weights, shapes),
 * atomic replacement, misuse and allocation failures.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "model_file.h"
#include "param.h"
#include "testutil.h"

/* ---- fixtures --------------------------------------------------------- */

static const char *users[] = { "u0", "u1", "u2", "u3", "u4", "u5" };
static const char *movies[] = { "Am\xc3\xa9lie (2001)", "Heat (1995)", "Paper Lanterns (1995)",
                                "Fargo (1996)", "Babe (1995)" };

/* user: 6 tokens, 1 OOV (7 rows, dim 4); movie: mask, 2 OOV, 5 tokens (8 rows,
 * dim 3); optional third feature with an empty vocabulary (1 row);
 * dense 8 relu (l2), dense 1. */
static tfrs_model *new_model(tfrs_optimizer_kind kind, float momentum, int empty_feature)
{
    tfrs_vocab *vu = NULL, *vm = NULL, *ve = NULL;
    tfrs_vocab_options vo;
    tfrs_task_options to;
    tfrs_model *m = NULL;

    ck_assert_int_eq(tfrs_vocab_create(&vu, users, 6, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_options_init(&vo, TFRS_VOCAB_OPTIONS_VERSION), TFRS_OK);
    vo.num_oov_indices = 2;
    vo.mask_token = "[MASK]";
    ck_assert_int_eq(tfrs_vocab_create(&vm, movies, 5, &vo), TFRS_OK);
    if (empty_feature)
        ck_assert_int_eq(tfrs_vocab_create(&ve, NULL, 0, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_task_options_init(&to, TFRS_TASK_OPTIONS_VERSION), TFRS_OK);
    to.metrics = TFRS_METRIC_RMSE | TFRS_METRIC_MAE;
    {
        const tu_model_spec spec = {
            .seed = 12345678901234567ull,
            .features = { { "user_id", vu, 4 }, { "movie_title", vm, 3 },
                          { empty_feature ? "nothing" : NULL, ve, 2 } },
            .dense = { { 8, TFRS_ACT_RELU, 0.001f }, { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, kind, 0.05f, momentum },
            .task = &to,
            .label = "user_rating",
            .weight = "weight",
        };
        ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    }
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vm);
    tfrs_vocab_free(ve);
    return m;
}

/* Rows of feature f's embedding table. */
static size_t feature_rows(const tfrs_model *m, size_t f)
{
    return tfrs_embedding_rows(tfrs_model_feature_embedding(m, f));
}

/* `steps` train steps on batches of 16 drawn from an LCG seeded with seed. */
static void train(tfrs_model *m, int steps, uint32_t seed)
{
    size_t F = tfrs_model_num_features(m);
    int32_t ids[16 * 3];
    float labels[16], weights[16];
    uint32_t x = seed;

    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < 16; i++) {
            for (size_t f = 0; f < F; f++) {
                x = x * 1664525u + 1013904223u;
                ids[i * F + f] = (int32_t)((x >> 8) % feature_rows(m, f));
            }
            x = x * 1664525u + 1013904223u;
            labels[i] = 1.0f + (float)((x >> 16) % 5);
            weights[i] = 0.5f + (float)((x >> 24) % 4) * 0.25f;
        }
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, weights, 16, NULL), TFRS_OK);
    }
}

/* Scores of every combination of ids (up to 3 features). */
static float *all_scores(const tfrs_model *m, size_t *n_out)
{
    size_t F = tfrs_model_num_features(m), n = 1, k = 0;
    int32_t *ids;
    float *scores;

    for (size_t f = 0; f < F; f++)
        n *= feature_rows(m, f);
    ids = calloc(n * F, sizeof(*ids));
    scores = calloc(n, sizeof(*scores));
    ck_assert_ptr_nonnull(ids);
    ck_assert_ptr_nonnull(scores);
    for (size_t i = 0; i < n; i++) {
        size_t r = i;
        for (size_t f = 0; f < F; f++) {
            ids[k++] = (int32_t)(r % feature_rows(m, f));
            r /= feature_rows(m, f);
        }
    }
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, n, scores), TFRS_OK);
    free(ids);
    *n_out = n;
    return scores;
}

static void assert_same_predictions(const tfrs_model *a, const tfrs_model *b)
{
    size_t na, nb;
    float *sa = all_scores(a, &na), *sb = all_scores(b, &nb);

    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(sa, sb, na * sizeof(float));
    free(sa);
    free(sb);
}

/* Configuration, vocabularies and weights (and slots when asked) equal. */
static void assert_same_model(const tfrs_model *a, const tfrs_model *b, int slots)
{
    const tfrs__params *pa, *pb;

    ck_assert_int_eq(b->built, 1);
    ck_assert_uint_eq(a->seed, b->seed);
    ck_assert_uint_eq(tfrs_model_num_features(a), tfrs_model_num_features(b));
    ck_assert_uint_eq(tfrs_model_num_dense(a), tfrs_model_num_dense(b));
    for (size_t f = 0; f < tfrs_model_num_features(a); f++) {
        const tfrs_vocab *va = tfrs_model_feature_vocab(a, f), *vb = tfrs_model_feature_vocab(b, f);
        ck_assert_str_eq(tfrs_model_feature_name(a, f), tfrs_model_feature_name(b, f));
        ck_assert_uint_eq(tfrs_embedding_dim(tfrs_model_feature_embedding(a, f)),
                          tfrs_embedding_dim(tfrs_model_feature_embedding(b, f)));
        ck_assert_uint_eq(tfrs_vocab_size(va), tfrs_vocab_size(vb));
        ck_assert_uint_eq(tfrs_vocab_num_oov(va), tfrs_vocab_num_oov(vb));
        for (size_t k = 0; k < tfrs_vocab_size(va); k++) {
            const char *ta, *tb;
            ck_assert_int_eq(tfrs_vocab_token(va, (int32_t)k, &ta), TFRS_OK);
            ck_assert_int_eq(tfrs_vocab_token(vb, (int32_t)k, &tb), TFRS_OK);
            ck_assert_str_eq(ta, tb);
        }
        if (tfrs__vocab_mask_token(va) == NULL)
            ck_assert_ptr_null(tfrs__vocab_mask_token(vb));
        else
            ck_assert_str_eq(tfrs__vocab_mask_token(va), tfrs__vocab_mask_token(vb));
    }
    pa = tfrs__model_params(a);
    pb = tfrs__model_params(b);
    for (size_t j = 0; j < tfrs_model_num_dense(a); j++) {
        char kernel[TFRS__PARAM_NAME_MAX];
        const tfrs__param *ka, *kb;
        ck_assert_uint_eq(tfrs_dense_units(tfrs_model_dense(a, j)),
                          tfrs_dense_units(tfrs_model_dense(b, j)));
        ck_assert_int_eq(tfrs_dense_activation(tfrs_model_dense(a, j)),
                         tfrs_dense_activation(tfrs_model_dense(b, j)));
        /* The layer's L2 is its kernel's entry's. */
        snprintf(kernel, sizeof(kernel), "dense.%zu.kernel", j);
        ka = tfrs__params_find(pa, kernel);
        kb = tfrs__params_find(pb, kernel);
        ck_assert_ptr_nonnull(ka);
        ck_assert_ptr_nonnull(kb);
        ck_assert_mem_eq(&ka->l2, &kb->l2, sizeof(float));
    }
    ck_assert_mem_eq(&a->task, &b->task, sizeof(a->task));
    ck_assert_mem_eq(&a->opt.o, &b->opt.o, sizeof(a->opt.o));
    ck_assert_str_eq(a->label, b->label);
    if (a->weight == NULL)
        ck_assert_ptr_null(b->weight);
    else
        ck_assert_str_eq(a->weight, b->weight);
    ck_assert_uint_eq(a->epochs_done, b->epochs_done);
    ck_assert_uint_eq(pa->n, pb->n);
    for (size_t p = 0; p < pa->n; p++) {
        size_t bytes = pa->p[p].n * sizeof(float);
        ck_assert_str_eq(pa->p[p].name, pb->p[p].name);
        ck_assert_uint_eq(pa->p[p].n, pb->p[p].n);
        ck_assert_mem_eq(pa->p[p].w, pb->p[p].w, bytes);
        for (int s = 0; s < tfrs__optimizer_num_slots(a->opt.o.kind) && slots; s++)
            ck_assert_mem_eq(pa->p[p].slot[s], pb->p[p].slot[s], bytes);
    }
    if (slots)
        ck_assert_uint_eq(a->opt.steps, b->opt.steps);
}

/* Saves a freshly trained model and returns the file's bytes. */
static unsigned char *saved_bytes(tfrs_model **model_out, unsigned flags, size_t *len)
{
    tfrs_model *m = new_model(TFRS_OPT_ADAGRAD, 0.0f, 0);
    const char *p = tu_tmp_path("fixture.safetensors");
    unsigned char *b;

    train(m, 5, 1);
    ck_assert_int_eq(tfrs_model_save(m, p, flags), TFRS_OK);
    b = tu_read_file(p, len);
    unlink(p);
    if (model_out != NULL)
        *model_out = m;
    else
        tfrs_model_free(m);
    return b;
}

/* Loads from an exactly sized heap copy (so that ASan sees any over-read);
 * on failure checks that *out was set to NULL. */
static int load_bytes(const unsigned char *b, size_t n)
{
    unsigned char *copy = malloc(n == 0 ? 1 : n);
    tfrs_model *m = (tfrs_model *)&m;
    int rc;

    ck_assert_ptr_nonnull(copy);
    if (n > 0)
        memcpy(copy, b, n);
    rc = tfrs_model_load_buffer(&m, copy, n);
    free(copy);
    if (rc != TFRS_OK)
        ck_assert_ptr_null(m);
    tfrs_model_free(m);
    return rc;
}

/* ---- header surgery ----------------------------------------------------- */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static cJSON *split(const unsigned char *b, size_t n, unsigned char **data, size_t *dlen)
{
    uint64_t hl = le64(b);
    cJSON *h;

    ck_assert_uint_le(8 + hl, n);
    h = cJSON_ParseWithLength((const char *)b + 8, (size_t)hl);
    ck_assert_ptr_nonnull(h);
    *dlen = n - 8 - (size_t)hl;
    *data = malloc(*dlen + 1);
    ck_assert_ptr_nonnull(*data);
    memcpy(*data, b + 8 + hl, *dlen);
    return h;
}

static void set_meta(cJSON *h, const char *key, const char *value)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");

    ck_assert_ptr_nonnull(meta);
    cJSON_DeleteItemFromObjectCaseSensitive(meta, key);
    if (value != NULL)
        cJSON_AddStringToObject(meta, key, value);
}

static void fix_crc(cJSON *h, const unsigned char *data, size_t dlen)
{
    char hex[16];

    snprintf(hex, sizeof(hex), "%08lx", crc32(crc32(0L, Z_NULL, 0), data, (uInt)dlen));
    set_meta(h, "crc32", hex);
}

static unsigned char *assemble(const cJSON *h, const unsigned char *data, size_t dlen,
                               size_t *len)
{
    char *s = cJSON_PrintUnformatted(h);
    size_t sl = strlen(s), padded = (sl + 7) & ~(size_t)7;
    unsigned char *b = malloc(8 + padded + dlen + 1);

    ck_assert_ptr_nonnull(b);
    put_le64(b, padded);
    memcpy(b + 8, s, sl);
    memset(b + 8 + sl, ' ', padded - sl);
    memcpy(b + 8 + padded, data, dlen);
    *len = 8 + padded + dlen;
    cJSON_free(s);
    return b;
}

/* Loads the file described by (h, data) and returns the status. */
static int load_assembled(const cJSON *h, const unsigned char *data, size_t dlen)
{
    size_t n;
    unsigned char *b = assemble(h, data, dlen, &n);
    int rc = load_bytes(b, n);

    free(b);
    return rc;
}

static const cJSON *tensor(const cJSON *h, const char *name)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(h, name);

    ck_assert_ptr_nonnull(t);
    return t;
}

static size_t tensor_begin(const cJSON *h, const char *name)
{
    return (size_t)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tensor(h, name),
                                                                        "data_offsets"),
                                      0)->valuedouble;
}

/* Replaces the architecture with the result of edit(arch). */
static void edit_arch(cJSON *h, void (*edit)(cJSON *))
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    cJSON *a = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(meta, "architecture")->valuestring);
    char *s;

    ck_assert_ptr_nonnull(a);
    edit(a);
    s = cJSON_PrintUnformatted(a);
    set_meta(h, "architecture", s);
    cJSON_free(s);
    cJSON_Delete(a);
}

/* ---- round trips -------------------------------------------------------- */

START_TEST(round_trip_predictions_and_weights)
{
    tfrs_model *m = new_model(TFRS_OPT_ADAGRAD, 0.0f, 0), *l = NULL;
    const char *p = tu_tmp_path("model.safetensors");

    train(m, 6, 42);
    m->epochs_done = 3;
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    ck_assert_ptr_nonnull(l);
    assert_same_model(m, l, 0);
    assert_same_predictions(m, l);
    ck_assert_uint_eq(l->opt.steps, 0);   /* no optimizer state: a fresh optimizer */
    ck_assert_uint_eq(l->epochs_done, 3);
    /* The accumulators start over at initial_accumulator. */
    ck_assert_float_eq(tfrs__model_params(l)->p[0].slot[0][0], m->opt.o.initial_accumulator);
    tfrs_model_free(l);
    tfrs_model_free(m);
}
END_TEST

START_TEST(round_trip_empty_vocabulary)
{
    tfrs_model *m = new_model(TFRS_OPT_ADAM, 0.0f, 1), *l = NULL;
    const char *p = tu_tmp_path("empty.safetensors");

    train(m, 3, 9);
    ck_assert_int_eq(tfrs_model_save(m, p, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    assert_same_model(m, l, 1);
    assert_same_predictions(m, l);
    tfrs_model_free(l);
    tfrs_model_free(m);
}
END_TEST

/* Checkpoint, then train both the original and the loaded copy: identical. */
static void check_resume(tfrs_optimizer_kind kind, float momentum)
{
    tfrs_model *m = new_model(kind, momentum, 0), *l = NULL;
    const char *p = tu_tmp_path("ckpt.safetensors");

    train(m, 7, 3);
    m->epochs_done = 2;
    ck_assert_int_eq(tfrs_model_save(m, p, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    assert_same_model(m, l, 1);
    ck_assert_uint_eq(l->opt.steps, 7);
    train(m, 5, 77);
    train(l, 5, 77);
    assert_same_model(m, l, 1);
    assert_same_predictions(m, l);
    tfrs_model_free(l);
    tfrs_model_free(m);
}

START_TEST(resume_adagrad_bit_identical)
{
    check_resume(TFRS_OPT_ADAGRAD, 0.0f);
}
END_TEST

START_TEST(resume_sgd_momentum_bit_identical)
{
    check_resume(TFRS_OPT_SGD, 0.9f);
}
END_TEST

START_TEST(resume_adam_bit_identical)
{
    check_resume(TFRS_OPT_ADAM, 0.0f);
}
END_TEST

START_TEST(weights_only_is_smaller)
{
    tfrs_model *m = NULL;
    size_t with_n, without_n, params = 0;
    unsigned char *with = saved_bytes(&m, TFRS_SAVE_OPTIMIZER, &with_n);
    unsigned char *without = saved_bytes(NULL, 0, &without_n);

    for (size_t p = 0; p < tfrs__model_params(m)->n; p++)
        params += tfrs__model_params(m)->p[p].n;
    /* Adagrad: one accumulator per parameter, plus its header entries. */
    ck_assert_uint_ge(with_n, without_n + 4 * params);
    ck_assert_int_eq(load_bytes(without, without_n), TFRS_OK);
    ck_assert_int_eq(load_bytes(with, with_n), TFRS_OK);
    free(with);
    free(without);
    tfrs_model_free(m);
}
END_TEST

START_TEST(load_buffer_equals_load)
{
    tfrs_model *m = NULL, *a = NULL, *b = NULL;
    const char *p = tu_tmp_path("buf.safetensors");
    size_t n;
    unsigned char *bytes;

    m = new_model(TFRS_OPT_SGD, 0.5f, 0);
    train(m, 4, 5);
    ck_assert_int_eq(tfrs_model_save(m, p, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    bytes = tu_read_file(p, &n);
    ck_assert_int_eq(tfrs_model_load(&a, p), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load_buffer(&b, bytes, n), TFRS_OK);
    assert_same_model(a, b, 1);
    assert_same_model(m, b, 1);
    assert_same_predictions(a, b);
    /* Saving is deterministic: the same model gives the same bytes. */
    ck_assert_int_eq(tfrs_model_save(b, tu_tmp_path("again.safetensors"), TFRS_SAVE_OPTIMIZER),
                     TFRS_OK);
    {
        size_t n2;
        unsigned char *again = tu_read_file(tu_tmp_path("again.safetensors"), &n2);
        ck_assert_uint_eq(n, n2);
        ck_assert_mem_eq(bytes, again, n);
        free(again);
    }
    free(bytes);
    tfrs_model_free(a);
    tfrs_model_free(b);
    tfrs_model_free(m);
}
END_TEST

START_TEST(decimal_comma_locale)
{
    tfrs_model *m, *l = NULL;
    const char *p = tu_tmp_path("locale.safetensors");

    /* printf/strtof follow LC_NUMERIC; the file must not. */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL &&
        setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL)
        return;  /* no such locale installed */
    m = new_model(TFRS_OPT_ADAGRAD, 0.0f, 0);
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    assert_same_model(m, l, 0);
    tfrs_model_free(l);
    setlocale(LC_NUMERIC, "C");
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    assert_same_model(m, l, 0);
    tfrs_model_free(l);
    tfrs_model_free(m);
}
END_TEST

/* ---- the layout ---------------------------------------------------------- */

START_TEST(file_is_safetensors)
{
    tfrs_model *m = NULL;
    size_t n, dlen, pos = 0, count = 0;
    unsigned char *b = saved_bytes(&m, TFRS_SAVE_OPTIMIZER, &n), *data;
    uint64_t hl = le64(b);
    cJSON *h, *meta, *arch, *train_j;
    const cJSON *c;
    char hex[16];
    size_t begins[64], ends[64];
    const char *keys[] = { "format", "format_version", "architecture", "training", "crc32",
                           "optimizer_state" };

    ck_assert_uint_eq(hl % 8, 0);
    ck_assert_int_eq(b[8], '{');
    h = split(b, n, &data, &dlen);
    meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    ck_assert(cJSON_IsObject(meta));
    for (c = meta->child; c != NULL; c = c->next)
        ck_assert_msg(cJSON_IsString(c), "metadata %s is not a string", c->string);
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(meta, keys[k]));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "format")->valuestring, "libtfrsc");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "format_version")->valuestring, "1");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "optimizer_state")->valuestring, "1");
    snprintf(hex, sizeof(hex), "%08lx", crc32(crc32(0L, Z_NULL, 0), data, (uInt)dlen));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "crc32")->valuestring, hex);
    arch = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(meta, "architecture")->valuestring);
    ck_assert(cJSON_IsObject(arch));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(arch, "features")), 2);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(arch, "layers")), 2);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(arch, "seed")->valuestring,
                     "12345678901234567");
    cJSON_Delete(arch);
    train_j = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(meta, "training")->valuestring);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(train_j, "steps")->valuestring, "5");
    cJSON_Delete(train_j);

    /* Every tensor: known dtype, shape * size = its byte range. */
    for (c = h->child; c != NULL; c = c->next) {
        const cJSON *dt, *sh, *off, *d;
        size_t elems = 1, esize;
        if (strcmp(c->string, "__metadata__") == 0)
            continue;
        dt = cJSON_GetObjectItemCaseSensitive(c, "dtype");
        sh = cJSON_GetObjectItemCaseSensitive(c, "shape");
        off = cJSON_GetObjectItemCaseSensitive(c, "data_offsets");
        ck_assert(cJSON_IsString(dt) && cJSON_IsArray(sh) && cJSON_IsArray(off));
        esize = strcmp(dt->valuestring, "F32") == 0 ? 4 : strcmp(dt->valuestring, "U8") == 0 ? 1
              : strcmp(dt->valuestring, "I64") == 0 ? 8 : 0;
        ck_assert_uint_ne(esize, 0);
        for (d = sh->child; d != NULL; d = d->next)
            elems *= (size_t)d->valuedouble;
        ck_assert_int_eq(cJSON_GetArraySize(off), 2);
        ck_assert_uint_lt(count, 64);
        begins[count] = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
        ends[count] = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
        ck_assert_uint_eq(ends[count] - begins[count], elems * esize);
        count++;
    }
    /* 2 features x 3 + 2 layers x 2 + 6 parameters x 1 accumulator. */
    ck_assert_uint_eq(count, 16);
    /* Written in offset order: contiguous, no holes, covering the data. */
    for (size_t k = 0; k < count; k++) {
        ck_assert_uint_eq(begins[k], pos);
        pos = ends[k];
    }
    ck_assert_uint_eq(pos, dlen);
    /* The vocabulary tensors hold the tokens. */
    {
        size_t bb = tensor_begin(h, "features.1.vocab.bytes");
        size_t ob = tensor_begin(h, "features.1.vocab.offsets");
        ck_assert_uint_eq(le64(data + ob), 0);
        ck_assert_uint_eq(le64(data + ob + 8), strlen(movies[0]));
        ck_assert_mem_eq(data + bb, movies[0], strlen(movies[0]));
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tensor(h, "dense.0.kernel"),
                                                          "dtype")->valuestring, "F32");
        ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(
            h, "optimizer.features.0.embedding.accumulator"));
        /* Weights are little-endian float32. */
        {
            size_t kb = tensor_begin(h, "dense.0.kernel");
            uint32_t u = (uint32_t)data[kb] | (uint32_t)data[kb + 1] << 8 |
                         (uint32_t)data[kb + 2] << 16 | (uint32_t)data[kb + 3] << 24;
            float f;
            memcpy(&f, &u, 4);
            ck_assert_mem_eq(&f, &tfrs_dense_kernel(tfrs_model_dense(m, 0))[0], 4);
        }
    }
    cJSON_Delete(h);
    free(data);
    free(b);
    tfrs_model_free(m);
}
END_TEST

/* ---- hostile files -------------------------------------------------------- */

START_TEST(truncated_at_every_offset)
{
    size_t n;
    unsigned char *b = saved_bytes(NULL, TFRS_SAVE_OPTIMIZER, &n);

    ck_assert_int_eq(load_bytes(b, n), TFRS_OK);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(load_bytes(b, k) == TFRS_EFORMAT, "truncated at %zu of %zu", k, n);
    free(b);
}
END_TEST

/* Every prefix of the JSON, with a consistent header length. */
START_TEST(header_json_cut_at_every_offset)
{
    size_t n;
    unsigned char *b = saved_bytes(NULL, 0, &n);
    uint64_t hl = le64(b);

    for (uint64_t k = 0; k < hl; k++) {
        put_le64(b, k);
        ck_assert_msg(load_bytes(b, 8 + (size_t)k) == TFRS_EFORMAT, "JSON cut at %zu",
                      (size_t)k);
    }
    free(b);
}
END_TEST

/* Flipped bits anywhere in the header: an error or, rarely, a file that is
 * still valid (a changed digit); never a crash. */
START_TEST(header_bit_flips)
{
    size_t n, ok = 0;
    unsigned char *b = saved_bytes(NULL, TFRS_SAVE_OPTIMIZER, &n);
    uint64_t hl = le64(b);
    const unsigned char masks[] = { 0x01, 0x08, 0x20, 0x80 };

    for (size_t i = 0; i < 8 + hl; i++) {
        for (size_t k = 0; k < sizeof(masks); k++) {
            int rc;
            b[i] ^= masks[k];
            rc = load_bytes(b, n);
            b[i] ^= masks[k];
            ck_assert_msg(rc == TFRS_EFORMAT || rc == TFRS_EVERSION || rc == TFRS_OK,
                          "byte %zu mask %02x: %d", i, masks[k], rc);
            ok += rc == TFRS_OK;
        }
    }
    ck_assert_uint_lt(ok, hl);   /* almost every flip is caught */
    free(b);
}
END_TEST

START_TEST(header_length_and_trailing_bytes)
{
    size_t n;
    unsigned char *b = saved_bytes(NULL, 0, &n), *c = malloc(n + 1);
    uint64_t hl = le64(b);

    ck_assert_ptr_nonnull(c);
    memcpy(c, b, n);
    put_le64(c, (uint64_t)n);                       /* past the end          */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    put_le64(c, ((uint64_t)100 << 20) + 8);         /* above the 100 MiB cap  */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "limit"));
    put_le64(c, UINT64_MAX);
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    put_le64(c, hl - 8);                            /* JSON cut short         */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    put_le64(c, hl + 8);                            /* data read as header    */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    put_le64(c, hl);
    c[n] = 0;                                       /* one trailing byte      */
    ck_assert_int_eq(load_bytes(c, n + 1), TFRS_EFORMAT);
    ck_assert_int_eq(load_bytes(c, n), TFRS_OK);
    c[8] = '[';                                     /* not an object          */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    c[8] = '{';
    c[8 + hl - 1] = 0xff;                           /* invalid UTF-8 padding  */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    c[8 + hl - 1] = 'x';                            /* garbage after the JSON */
    ck_assert_int_eq(load_bytes(c, n), TFRS_EFORMAT);
    free(c);
    free(b);
}
END_TEST

/* A header of a million tiny values is refused before cJSON builds it. */
START_TEST(header_value_cap)
{
    size_t count = 1100000, len = 8 + 6 + 2 * count + 8, pos = 8;
    unsigned char *b = malloc(len);

    ck_assert_ptr_nonnull(b);
    memcpy(b + pos, "{\"a\":[", 6);
    pos += 6;
    for (size_t k = 0; k < count; k++) {
        b[pos++] = '0';
        b[pos++] = ',';
    }
    b[pos - 1] = ']';
    b[pos++] = '}';
    while ((pos - 8) % 8 != 0)
        b[pos++] = ' ';
    put_le64(b, pos - 8);
    ck_assert_int_eq(load_bytes(b, pos), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "JSON values"));
    free(b);
}
END_TEST

START_TEST(version_and_format)
{
    size_t n, dlen;
    unsigned char *b = saved_bytes(NULL, 0, &n), *data;
    cJSON *h = split(b, n, &data, &dlen);

    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_OK);
    set_meta(h, "format_version", "2");
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EVERSION);
    set_meta(h, "format_version", "18446744073709551616");   /* 2^64 */
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    set_meta(h, "format_version", "0");
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    set_meta(h, "format_version", "1.0");
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    set_meta(h, "format_version", NULL);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    set_meta(h, "format_version", "1");
    set_meta(h, "format", "pytorch");
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    set_meta(h, "format", "libtfrsc");
    cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(h, "__metadata__"), "x", 1);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);  /* non-string value */
    cJSON_DeleteItemFromObjectCaseSensitive(h, "__metadata__");
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    cJSON_Delete(h);
    free(data);
    free(b);
}
END_TEST

START_TEST(checksum_and_nonfinite)
{
    size_t n, dlen, off;
    unsigned char *b = saved_bytes(NULL, 0, &n), *data;
    cJSON *h = split(b, n, &data, &dlen);
    const unsigned char nan_le[4] = { 0x00, 0x00, 0xc0, 0x7f }, inf_le[4] = { 0, 0, 0x80, 0x7f };

    data[dlen - 1] ^= 0x01;                      /* a flipped bit */
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "checksum"));
    data[dlen - 1] ^= 0x01;
    set_meta(h, "crc32", "ABCDEF01");            /* not lowercase */
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    off = tensor_begin(h, "features.0.embedding") + 4 * 5;
    memcpy(data + off, nan_le, 4);
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "non-finite"));
    off = tensor_begin(h, "dense.1.bias");
    memcpy(data + off, inf_le, 4);
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    cJSON_Delete(h);
    free(data);
    free(b);
}
END_TEST

START_TEST(negative_accumulator)
{
    size_t n, dlen, off;
    unsigned char *b = saved_bytes(NULL, TFRS_SAVE_OPTIMIZER, &n), *data;
    cJSON *h = split(b, n, &data, &dlen);
    const unsigned char minus_one[4] = { 0x00, 0x00, 0x80, 0xbf };

    off = tensor_begin(h, "optimizer.dense.0.kernel.accumulator");
    memcpy(data + off, minus_one, 4);
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    cJSON_Delete(h);
    free(data);
    free(b);
}
END_TEST

/* Each edit of a tensor entry or of the table makes the file invalid. */
static void swap_kernel_shape(cJSON *h)
{
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(h, "dense.0.kernel"), "shape");
    double a = cJSON_GetArrayItem(sh, 0)->valuedouble, b = cJSON_GetArrayItem(sh, 1)->valuedouble;

    cJSON_SetNumberValue(cJSON_GetArrayItem(sh, 0), b);
    cJSON_SetNumberValue(cJSON_GetArrayItem(sh, 1), a);
}

static void flatten_embedding(cJSON *h)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "features.0.embedding");
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
    double a = cJSON_GetArrayItem(sh, 0)->valuedouble, b = cJSON_GetArrayItem(sh, 1)->valuedouble;

    cJSON_ReplaceItemInObjectCaseSensitive(t, "shape", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(t, "shape"), cJSON_CreateNumber(a * b));
}

static void set_number(cJSON *h, const char *tensor_name, const char *field, int idx, double v)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(h, tensor_name), field);

    cJSON_SetNumberValue(cJSON_GetArrayItem(arr, idx), v);
}

static void dtype_f16(cJSON *h)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "dense.0.bias");

    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("F16"));
}

static void dtype_i64_for_f32(cJSON *h)
{
    /* dense.1.kernel is F32 [8, 1] = 32 bytes; as I64 [4] it keeps its size. */
    cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "dense.1.kernel");
    cJSON *sh = cJSON_CreateArray();

    cJSON_AddItemToArray(sh, cJSON_CreateNumber(4));
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("I64"));
    cJSON_ReplaceItemInObjectCaseSensitive(t, "shape", sh);
}

static void negative_dim(cJSON *h)
{
    set_number(h, "dense.0.bias", "shape", 0, -8);
}

static void fractional_dim(cJSON *h)
{
    set_number(h, "dense.0.bias", "shape", 0, 7.5);
}

static void huge_dim(cJSON *h)
{
    set_number(h, "dense.0.kernel", "shape", 0, 1e300);
}

static void overflowing_dims(cJSON *h)
{
    set_number(h, "dense.0.kernel", "shape", 0, 4294967296.0);
    set_number(h, "dense.0.kernel", "shape", 1, 4294967296.0);
}

static void overlapping_offsets(cJSON *h)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(tensor(h, "dense.0.bias"), "data_offsets");
    double b = cJSON_GetArrayItem(o, 0)->valuedouble, e = cJSON_GetArrayItem(o, 1)->valuedouble;

    set_number(h, "dense.0.bias", "data_offsets", 0, b - 4);
    set_number(h, "dense.0.bias", "data_offsets", 1, e - 4);
}

static void offsets_past_end(cJSON *h)
{
    set_number(h, "dense.0.bias", "data_offsets", 1, 1e12);
}

static void offsets_reversed(cJSON *h)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(tensor(h, "dense.0.bias"), "data_offsets");
    double b = cJSON_GetArrayItem(o, 0)->valuedouble, e = cJSON_GetArrayItem(o, 1)->valuedouble;

    set_number(h, "dense.0.bias", "data_offsets", 0, e);
    set_number(h, "dense.0.bias", "data_offsets", 1, b);
}

static void three_offsets(cJSON *h)
{
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(h, "dense.0.bias"), "data_offsets"),
                         cJSON_CreateNumber(0));
}

static void missing_tensor(cJSON *h)
{
    /* The last tensor in the data: removing it leaves trailing bytes. */
    cJSON_DeleteItemFromObjectCaseSensitive(h, "dense.1.bias");
}

static void extra_empty_tensor(cJSON *h)
{
    cJSON *t = cJSON_CreateObject(), *sh = cJSON_CreateArray(), *off = cJSON_CreateArray();

    cJSON_AddStringToObject(t, "dtype", "U8");
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(0));
    cJSON_AddItemToObject(t, "shape", sh);
    cJSON_AddItemToArray(off, cJSON_CreateNumber(0));
    cJSON_AddItemToArray(off, cJSON_CreateNumber(0));
    cJSON_AddItemToObject(t, "data_offsets", off);
    cJSON_AddItemToObject(h, "extra", t);
}

static void duplicate_entry(cJSON *h)
{
    cJSON_AddItemToObject(h, "dense.1.bias",
                          cJSON_Duplicate(tensor(h, "dense.1.bias"), 1));
}

static void entry_not_object(cJSON *h)
{
    cJSON_ReplaceItemInObjectCaseSensitive(h, "dense.1.bias", cJSON_CreateString("x"));
}

static void no_shape(cJSON *h)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "dense.1.bias"),
                                            "shape");
}

static void optimizer_state_claimed(cJSON *h)
{
    set_meta(h, "optimizer_state", "1");      /* but no slot tensors */
}

static void optimizer_state_bad(cJSON *h)
{
    set_meta(h, "optimizer_state", "yes");
}

static void training_bad(cJSON *h)
{
    set_meta(h, "training", "{\"steps\":\"-1\",\"epochs_done\":\"0\"}");
}

static void training_missing(cJSON *h)
{
    set_meta(h, "training", NULL);
}

static void architecture_not_json(cJSON *h)
{
    set_meta(h, "architecture", "{\"features\":");
}

static void (*const table_edits[])(cJSON *) = {
    swap_kernel_shape, flatten_embedding, dtype_f16, dtype_i64_for_f32, negative_dim,
    fractional_dim, huge_dim, overflowing_dims, overlapping_offsets, offsets_past_end,
    offsets_reversed, three_offsets, missing_tensor, extra_empty_tensor, duplicate_entry,
    entry_not_object, no_shape, optimizer_state_claimed, optimizer_state_bad, training_bad,
    training_missing, architecture_not_json,
};

START_TEST(corrupt_tensor_table)
{
    size_t n, dlen;
    unsigned char *b = saved_bytes(NULL, 0, &n), *data;
    cJSON *h = split(b, n, &data, &dlen);

    for (size_t k = 0; k < sizeof(table_edits) / sizeof(table_edits[0]); k++) {
        cJSON *e = cJSON_Duplicate(h, 1);
        table_edits[k](e);
        ck_assert_msg(load_assembled(e, data, dlen) == TFRS_EFORMAT, "edit %zu loaded", k);
        cJSON_Delete(e);
    }
    cJSON_Delete(h);
    free(data);
    free(b);
}
END_TEST

/* Edits of the architecture that contradict the tensors or are invalid. */
static cJSON *feature0(cJSON *a)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "features"), 0);
}

static void arch_dim(cJSON *a)
{
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(feature0(a), "embedding_dim"), 5);
}

static void arch_dim_zero(cJSON *a)
{
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(feature0(a), "embedding_dim"), 0);
}

static void arch_vocab_size(cJSON *a)
{
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(feature0(a), "vocab_size"), 8);
}

static void arch_oov(cJSON *a)
{
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(feature0(a), "num_oov_indices"), 2);
}

static void arch_oov_huge(cJSON *a)
{
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(feature0(a), "num_oov_indices"), 1e9);
}

static void arch_mask(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(feature0(a), "mask_token", cJSON_CreateString("u1"));
}

static void arch_mask_number(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(feature0(a), "mask_token", cJSON_CreateNumber(1));
}

static void arch_no_name(cJSON *a)
{
    cJSON_DeleteItemFromObjectCaseSensitive(feature0(a), "name");
}

static void arch_same_names(cJSON *a)
{
    cJSON *f1 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "features"), 1);

    cJSON_ReplaceItemInObjectCaseSensitive(f1, "name", cJSON_CreateString("user_id"));
}

static void arch_units(cJSON *a)
{
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "layers"), 0);

    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(l0, "units"), 9);
}

static void arch_activation(cJSON *a)
{
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "layers"), 0);

    cJSON_ReplaceItemInObjectCaseSensitive(l0, "activation", cJSON_CreateString("tanh"));
}

static void arch_l2_nan(cJSON *a)
{
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "layers"), 0);

    cJSON_ReplaceItemInObjectCaseSensitive(l0, "l2", cJSON_CreateString("nan"));
}

static void arch_l2_number(cJSON *a)
{
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "layers"), 0);

    cJSON_ReplaceItemInObjectCaseSensitive(l0, "l2", cJSON_CreateNumber(0.001));
}

static void arch_extra_layer(cJSON *a)
{
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(a, "layers");

    cJSON_AddItemToArray(layers, cJSON_Duplicate(cJSON_GetArrayItem(layers, 1), 1));
}

static void arch_no_layers(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(a, "layers", cJSON_CreateArray());
}

static void arch_loss(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "task"), "loss",
                                           cJSON_CreateString("hinge"));
}

static void arch_metric(cJSON *a)
{
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(a, "task"), "metrics"),
                         cJSON_CreateString("ndcg"));
}

static void arch_huber_negative(cJSON *a)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "task");

    cJSON_ReplaceItemInObjectCaseSensitive(t, "loss", cJSON_CreateString("huber"));
    cJSON_ReplaceItemInObjectCaseSensitive(t, "huber_delta", cJSON_CreateString("-1"));
}

static void arch_kind(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "optimizer"),
                                           "kind", cJSON_CreateString("rmsprop"));
}

static void arch_lr(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "optimizer"),
                                           "learning_rate", cJSON_CreateString("-0.1"));
}

static void arch_lr_text(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "optimizer"),
                                           "learning_rate", cJSON_CreateString("0.1 "));
}

static void arch_seed(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(a, "seed", cJSON_CreateString("-1"));
}

static void arch_label(cJSON *a)
{
    cJSON_DeleteItemFromObjectCaseSensitive(a, "label");
}

static void arch_weight(cJSON *a)
{
    cJSON_ReplaceItemInObjectCaseSensitive(a, "weight", cJSON_CreateNumber(3));
}

static void arch_duplicate_key(cJSON *a)
{
    cJSON_AddItemToObject(a, "seed", cJSON_CreateString("1"));
}

static void arch_kind_adam(cJSON *a)
{
    /* Without optimizer state the kind may change; with it, slots mismatch. */
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "optimizer"),
                                           "kind", cJSON_CreateString("adam"));
}

static void (*const arch_edits[])(cJSON *) = {
    arch_dim, arch_dim_zero, arch_vocab_size, arch_oov, arch_oov_huge, arch_mask,
    arch_mask_number, arch_no_name, arch_same_names, arch_units, arch_activation, arch_l2_nan,
    arch_l2_number, arch_extra_layer, arch_no_layers, arch_loss, arch_metric,
    arch_huber_negative, arch_kind, arch_lr, arch_lr_text, arch_seed, arch_label, arch_weight,
    arch_duplicate_key,
};

START_TEST(corrupt_architecture)
{
    size_t n, dlen;
    unsigned char *b = saved_bytes(NULL, TFRS_SAVE_OPTIMIZER, &n), *data;
    cJSON *h = split(b, n, &data, &dlen), *e;

    for (size_t k = 0; k < sizeof(arch_edits) / sizeof(arch_edits[0]); k++) {
        e = cJSON_Duplicate(h, 1);
        edit_arch(e, arch_edits[k]);
        ck_assert_msg(load_assembled(e, data, dlen) == TFRS_EFORMAT, "arch edit %zu loaded", k);
        cJSON_Delete(e);
    }
    e = cJSON_Duplicate(h, 1);
    edit_arch(e, arch_kind_adam);
    ck_assert_int_eq(load_assembled(e, data, dlen), TFRS_EFORMAT);
    set_meta(e, "optimizer_state", "0");        /* now the accumulators are unexpected */
    ck_assert_int_eq(load_assembled(e, data, dlen), TFRS_EFORMAT);
    cJSON_Delete(e);
    cJSON_Delete(h);
    free(data);
    free(b);
}
END_TEST

START_TEST(corrupt_vocabulary)
{
    size_t n, dlen, bb, ob;
    unsigned char *b = saved_bytes(NULL, 0, &n), *data, *orig;
    cJSON *h = split(b, n, &data, &dlen);

    orig = malloc(dlen);
    ck_assert_ptr_nonnull(orig);
    memcpy(orig, data, dlen);
    bb = tensor_begin(h, "features.0.vocab.bytes");     /* "u0u1u2u3u4u5" */
    ob = tensor_begin(h, "features.0.vocab.offsets");   /* 0 2 4 ... 12   */

    data[bb + 3] = '0';                                 /* "u1" -> "u0": duplicate */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    data[bb + 3] = 0xff;                                /* invalid UTF-8 */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    data[bb + 3] = 0x00;                                /* NUL inside a token */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    put_le64(data + ob + 16, 1);                        /* 0 2 1 ...: decreasing */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    put_le64(data + ob, 1);                             /* does not start at 0 */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    put_le64(data + ob + 8 * 6, 11);                    /* last offset != bytes */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    put_le64(data + ob + 8 * 6, UINT64_MAX);            /* past the bytes */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_EFORMAT);
    memcpy(data, orig, dlen);
    put_le64(data + ob + 8 * 2, 3);                     /* "u0u" "1" ...: still fine? */
    put_le64(data + ob + 8 * 3, 6);                     /* tokens "u0","u","1u2",... */
    fix_crc(h, data, dlen);
    ck_assert_int_eq(load_assembled(h, data, dlen), TFRS_OK);  /* distinct, valid tokens */
    cJSON_Delete(h);
    free(orig);
    free(data);
    free(b);
}
END_TEST

/* ---- saving: atomicity and errors ------------------------------------------ */

static int only_expected_files(const char *const *names, size_t n)
{
    DIR *d = opendir(tu_tmpdir);
    struct dirent *e;
    int ok = 1;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        size_t k = 0;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        while (k < n && strcmp(e->d_name, names[k]) != 0)
            k++;
        if (k == n)
            ok = 0;
    }
    closedir(d);
    return ok;
}

START_TEST(save_replaces_atomically)
{
    tfrs_model *m = new_model(TFRS_OPT_ADAGRAD, 0.0f, 0), *l = NULL;
    const char *p = tu_tmp_path("model.safetensors"), *other = tu_tmp_path("other.bin");
    const char *names[] = { "model.safetensors", "other.bin" };
    char bad[sizeof(tu_tmpdir) + 64];
    size_t n;
    unsigned char *b;
    struct stat st;
    mode_t um;

    tu_write_bytes(p, "old contents", 12);
    tu_write_bytes(other, "keep me", 7);
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    assert_same_predictions(m, l);
    tfrs_model_free(l);
    ck_assert(only_expected_files(names, 2));
    /* Permissions as fopen would give (0666 less the umask), not mkstemp's 0600. */
    um = umask(0);
    umask(um);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0666 & ~um);

    /* A save that cannot create its file fails cleanly. */
    snprintf(bad, sizeof(bad), "%s/does-not-exist/x", tu_tmpdir);
    ck_assert_int_eq(tfrs_model_save(m, bad, 0), TFRS_EIO);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "does-not-exist"));
    snprintf(bad, sizeof(bad), "%s", tu_tmpdir);   /* a directory: rename fails */
    ck_assert_int_eq(tfrs_model_save(m, bad, 0), TFRS_EIO);
    ck_assert(only_expected_files(names, 2));
    b = tu_read_file(other, &n);
    ck_assert_uint_eq(n, 7);
    ck_assert_mem_eq(b, "keep me", 7);
    free(b);
    /* Saving over itself keeps a loadable file. */
    train(m, 2, 8);
    ck_assert_int_eq(tfrs_model_save(m, p, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_OK);
    assert_same_model(m, l, 1);
    tfrs_model_free(l);
    ck_assert(only_expected_files(names, 2));
    tfrs_model_free(m);
}
END_TEST

/* A write that fails half-way (file size limit) leaves the old file as it
 * was and no temporary file behind. */
START_TEST(failed_write_keeps_old_file)
{
    tfrs_model *m = new_model(TFRS_OPT_ADAGRAD, 0.0f, 0);
    const char *p = tu_tmp_path("model.safetensors");
    const char *names[] = { "model.safetensors" };
    struct rlimit old, lim;
    size_t n;
    unsigned char *b;

    tu_write_bytes(p, "old contents", 12);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 1000;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ck_assert_int_eq(tfrs_model_save(m, p, TFRS_SAVE_OPTIMIZER), TFRS_EIO);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), p));
    b = tu_read_file(p, &n);
    ck_assert_uint_eq(n, 12);
    ck_assert_mem_eq(b, "old contents", 12);
    free(b);
    ck_assert(only_expected_files(names, 1));
    tfrs_model_free(m);
}
END_TEST

START_TEST(misuse)
{
    tfrs_model *m = NULL, *l = (tfrs_model *)&m;
    tfrs_vocab *v = NULL;
    const char *p = tu_tmp_path("misuse.safetensors");
    unsigned char byte = 0;

    ck_assert_int_eq(tfrs_model_save(NULL, p, 0), TFRS_EINVAL);
    m = new_model(TFRS_OPT_ADAGRAD, 0.0f, 0);
    ck_assert_int_eq(tfrs_model_save(m, NULL, 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_save(m, "", 0), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_save(m, p, 0x2u), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_save(m, p, ~0u), TFRS_EINVAL);
    tfrs_model_free(m);

    ck_assert_int_eq(tfrs_vocab_create(&v, users, 6, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, 1), TFRS_OK);
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_ESTATE);       /* no features, unbuilt */
    ck_assert_int_eq(tfrs_model_add_feature(m, "user_id", v, 2), TFRS_OK);
    ck_assert_int_eq(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f), TFRS_OK);
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_ESTATE);       /* unbuilt */
    ck_assert_int_eq(access(p, F_OK), -1);
    ck_assert_int_eq(tfrs_model_build(m), TFRS_OK);
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_OK);           /* smallest model */
    tfrs_model_free(m);
    tfrs_vocab_free(v);

    ck_assert_int_eq(tfrs_model_load(NULL, p), TFRS_EINVAL);
    ck_assert_int_eq(tfrs_model_load(&l, NULL), TFRS_EINVAL);
    ck_assert_ptr_null(l);
    l = (tfrs_model *)&m;
    ck_assert_int_eq(tfrs_model_load(&l, tu_tmp_path("missing.safetensors")), TFRS_EIO);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "missing.safetensors"));
    ck_assert_int_eq(tfrs_model_load(&l, tu_tmpdir), TFRS_EIO);       /* a directory */
    ck_assert_int_eq(tfrs_model_load_buffer(NULL, &byte, 1), TFRS_EINVAL);
    l = (tfrs_model *)&m;
    ck_assert_int_eq(tfrs_model_load_buffer(&l, NULL, 10), TFRS_EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(tfrs_model_load_buffer(&l, &byte, 0), TFRS_EFORMAT);
    tu_write_bytes(p, "", 0);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_EFORMAT);        /* empty file */
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), p));
    ck_assert_ptr_null(l);
    ck_assert_int_eq(tfrs_model_load(&l, p), TFRS_EFORMAT);
    unlink(p);
}
END_TEST

/* ---- allocation failures ------------------------------------------------------- */

START_TEST(out_of_memory)
{
    tfrs_model *m, *l;
    const char *p = tu_tmp_path("oom.safetensors");
    const char *names[] = { "oom.safetensors" };
    size_t n;
    unsigned char *b;
    long k, base;
    int rc;
    tu_alloc counting;

    tu_alloc_install(&counting, 0);
    m = new_model(TFRS_OPT_ADAM, 0.0f, 1);
    train(m, 2, 4);
    base = counting.live;
    for (k = 0;; k++) {
        tu_alloc_arm(&counting, k, 1);
        rc = tfrs_model_save(m, p, TFRS_SAVE_OPTIMIZER);
        tu_alloc_arm(&counting, -1, 0);
        ck_assert_int_eq(counting.live, base);
        if (rc == TFRS_OK)
            break;
        ck_assert_int_eq(rc, TFRS_ENOMEM);
        ck_assert(only_expected_files(names, 0));
    }
    ck_assert_int_gt(k, 0);
    b = tu_read_file(p, &n);
    for (k = 0;; k++) {
        tu_alloc_arm(&counting, k, 1);
        l = (tfrs_model *)&l;
        rc = tfrs_model_load_buffer(&l, b, n);
        tu_alloc_arm(&counting, -1, 0);
        if (rc == TFRS_OK) {
            assert_same_model(m, l, 1);
            tfrs_model_free(l);
            ck_assert_int_eq(counting.live, base);
            break;
        }
        ck_assert_msg(rc == TFRS_ENOMEM, "allocation %ld: %s", k, tfrs_last_error());
        ck_assert_ptr_null(l);
        ck_assert_int_eq(counting.live, base);
    }
    ck_assert_int_gt(k, 5);
    free(b);
    tfrs_model_free(m);
    ck_assert_int_eq(counting.live, 0);
    ck_assert_int_eq(counting.bad_frees, 0);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}
END_TEST

/* Versions before 0.1.0 accepted "[UNK]" as a token of a vocabulary with
 * OOV buckets (tfrs_vocab_create refuses it now, as Keras does when a
 * lookup can be inverted).  A file holding such a vocabulary must still
 * load and look the token up as before: made here by saving a vocabulary
 * with "[UNX]" and changing the byte in the file. */
START_TEST(stored_oov_token_still_loads)
{
    const char *tokens[] = { "a", "[UNX]", "b" };
    const char *p = tu_tmp_path("unk.safetensors");
    tfrs_vocab *v;
    tfrs_model *m, *l = NULL;
    unsigned char *b, *data, *hit, *edited;
    size_t len, dlen, elen;
    int32_t id = -1;
    cJSON *h;

    ck_assert_int_eq(tfrs_vocab_create(&v, tokens, 3, NULL), TFRS_OK);
    {
        const tu_model_spec spec = { .seed = 9, .features = { { "f", v, 2 } },
                                     .dense = { { 1, TFRS_ACT_LINEAR, 0.0f } } };
        ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    }
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_OK);
    b = tu_read_file(p, &len);
    h = split(b, len, &data, &dlen);
    hit = memchr(data, '[', dlen);
    ck_assert_ptr_nonnull(hit);
    ck_assert_int_eq(memcmp(hit, "[UNX]", 5), 0);
    hit[3] = 'K';
    fix_crc(h, data, dlen);
    edited = assemble(h, data, dlen, &elen);
    ck_assert_int_eq(tfrs_model_load_buffer(&l, edited, elen), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_lookup(tfrs_model_feature_vocab(l, 0), "[UNK]", &id), TFRS_OK);
    ck_assert_int_eq(id, 2);            /* 1 OOV bucket, then "a", then it */
    /* Made through the public API today, the same vocabulary is refused. */
    tfrs_vocab_free(v);
    tokens[1] = "[UNK]";
    ck_assert_int_eq(tfrs_vocab_create(&v, tokens, 3, NULL), TFRS_EINVAL);
    tfrs_model_free(l);
    tfrs_model_free(m);
    cJSON_Delete(h);
    free(edited);
    free(data);
    free(b);
    unlink(p);
}
END_TEST

static Suite *serialize_suite(void)
{
    Suite *s = suite_create("serialize");
    TCase *tc;

    tc = tu_tcase(s, "round trip", round_trip_predictions_and_weights,
                  round_trip_empty_vocabulary, weights_only_is_smaller, load_buffer_equals_load,
                  decimal_comma_locale, stored_oov_token_still_loads);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "resume", resume_adagrad_bit_identical, resume_sgd_momentum_bit_identical,
                  resume_adam_bit_identical);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "layout", file_is_safetensors);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "hostile files", truncated_at_every_offset, header_json_cut_at_every_offset,
                  header_bit_flips, header_length_and_trailing_bytes, header_value_cap,
                  version_and_format, checksum_and_nonfinite, negative_accumulator,
                  corrupt_tensor_table, corrupt_architecture, corrupt_vocabulary);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tcase_set_timeout(tc, 300);
    tc = tu_tcase(s, "saving", save_replaces_atomically, failed_write_keeps_old_file);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "misuse", misuse);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "out of memory", out_of_memory);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tcase_set_timeout(tc, 300);
    return s;
}

int main(void)
{
    return tu_run(serialize_suite());
}
