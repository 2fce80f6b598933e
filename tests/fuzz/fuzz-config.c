/*
 * fuzz-config.c - libFuzzer target for JSON model configurations
 * (tfrs_model_from_config, tfrs_config_fit_options, tfrs_model_config),
 * adapted from a small fixed dataset with string, bag, float and int64
 * columns.
 *
 * A rejected document gives TFRS_EPARSE or TFRS_EINVAL with a message that
 * starts with the source name, or TFRS_ENOMEM (the harness's allocator
 * refuses blocks over 32 MiB and more than 256 MiB in all, so that huge
 * tables fail cleanly).  An accepted one builds a model whose description
 * (tfrs_model_config) is itself accepted and describes the same model: the
 * same description, the same fit options and bit-identical predictions.
 * The model then fits one epoch on the dataset and predicts its first row.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <inttypes.h>
#include <stdalign.h>
#include <stddef.h>

#include "fuzz.h"

static const char source[] = "fuzz.json", again_source[] = "fuzz-again.json";

/* ---- a bounded allocator -------------------------------------------------- */

#define BLOCK_MAX ((size_t)32 << 20)
#define TOTAL_MAX ((size_t)256 << 20)
#define HDR       sizeof(max_align_t)

static size_t live;

static void *cap_malloc(size_t n, void *payload)
{
    unsigned char *p;

    (void)payload;
    if (n > BLOCK_MAX || live + n > TOTAL_MAX || (p = malloc(HDR + n)) == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    live += n;
    return p + HDR;
}

static void cap_free(void *ptr, void *payload)
{
    unsigned char *p = ptr;
    size_t n;

    (void)payload;
    if (p == NULL)
        return;
    memcpy(&n, p - HDR, sizeof(n));
    live -= n;
    free(p - HDR);
}

static void *cap_realloc(void *ptr, size_t n, void *payload)
{
    unsigned char *p = ptr, *q;
    size_t old = 0;

    if (p == NULL)
        return cap_malloc(n, payload);
    memcpy(&old, p - HDR, sizeof(old));
    if (n > BLOCK_MAX || live - old + n > TOTAL_MAX || (q = realloc(p - HDR, HDR + n)) == NULL)
        return NULL;
    memcpy(q, &n, sizeof(n));
    live = live - old + n;
    return q + HDR;
}

/* ---- the dataset ------------------------------------------------------------ */

/* Labels are 0 or 1, so that every loss and metric (AUC, BCE) takes them. */
#define ROWS 8
static const char *const str_cols[] = { "user", "genres", "tags", "title" };
static const char *const flt_cols[] = { "age", "label", "weight" };
static const char *const i64_cols[] = { "ts" };
static const char *const strs[ROWS][4] = {
    { "u1", "Action|Comedy", "a,b", "Quiet Harbor" },
    { "u2", "", "", "Caf\xc3\xa9 of Glass" },
    { "u3", "Drama", "b", "Night Train" },
    { "u1", "Action||Drama", ",c,", "Quiet Harbor" },
    { "u4", "Comedy|Comedy", "a", "Number Story" },
    { "u5", "Horror", "d,a", "Last Id" },
    { "u2", "Drama|Action", "b,c", "Night Train" },
    { "u3", "Action", "a", "Caf\xc3\xa9 of Glass" },
};
static const float flts[ROWS][3] = {
    { 21.0f, 1.0f, 1.0f }, { 35.5f, 0.0f, 0.5f }, { 18.0f, 1.0f, 2.0f }, { 60.0f, 0.0f, 1.0f },
    { 44.0f, 0.0f, 1.0f }, { 21.0f, 1.0f, 0.25f }, { 29.0f, 1.0f, 1.0f }, { -3.0f, 0.0f, 1.0f },
};
static const int64_t i64s[ROWS][1] = {
    { 870000000 }, { 870000000 }, { 870100000 }, { 0 }, { 889000000 }, { 893000000 },
    { 878000000 }, { 884000000 },
};

static const tfrs_dataset *dataset(void)
{
    static tfrs_dataset *ds;
    static const tfrs_allocator a = { cap_malloc, cap_realloc, cap_free, NULL };

    if (ds != NULL)
        return ds;
    /* before any libtfrsc object exists */
    FUZZ_CHECK(tfrs_set_allocator(&a) == TFRS_OK);
    FUZZ_CHECK(tfrs_dataset_create(&ds) == TFRS_OK);
    for (size_t k = 0; k < 4; k++)
        FUZZ_CHECK(tfrs_dataset_add_column(ds, str_cols[k], TFRS_COLUMN_STRING) == TFRS_OK);
    for (size_t k = 0; k < 3; k++)
        FUZZ_CHECK(tfrs_dataset_add_column(ds, flt_cols[k], TFRS_COLUMN_FLOAT) == TFRS_OK);
    FUZZ_CHECK(tfrs_dataset_add_column(ds, i64_cols[0], TFRS_COLUMN_INT64) == TFRS_OK);
    for (size_t r = 0; r < ROWS; r++)
        FUZZ_CHECK(tfrs_dataset_append_row(ds, strs[r], flts[r], i64s[r]) == TFRS_OK);
    return ds;    /* kept for the process's life */
}

/* ---- checks ----------------------------------------------------------------- */

/* A rejection: the status and a message naming the document. */
static void check_rejected(int rc, const char *name)
{
    const char *msg = tfrs_last_error();
    size_t n = strlen(name);

    /* TFRS_ENOTFOUND: a column the dataset lacks (the data's status) */
    FUZZ_CHECK(rc == TFRS_EPARSE || rc == TFRS_EINVAL || rc == TFRS_ENOTFOUND ||
               rc == TFRS_ENOMEM);
    FUZZ_CHECK(msg != NULL && msg[0] != '\0');
    if (rc != TFRS_ENOMEM)
        FUZZ_CHECK(strncmp(msg, name, n) == 0 && msg[n] == ':');
}

/* The model's description (malloc'd), or NULL when out of memory. */
static char *describe(const tfrs_model *m, size_t *len)
{
    char *text;
    int rc = tfrs_model_config(m, NULL, 0, len);

    if (rc == TFRS_ENOMEM)
        return NULL;
    FUZZ_CHECK(rc == TFRS_ERANGE && *len > 0);
    text = malloc(*len + 1);
    FUZZ_CHECK(text != NULL);
    rc = tfrs_model_config(m, text, *len + 1, NULL);
    if (rc == TFRS_ENOMEM) {
        free(text);
        return NULL;
    }
    FUZZ_CHECK(rc == TFRS_OK && strlen(text) == *len);
    return text;
}

/* 1 if every column the model reads is in the dataset with a usable type. */
static int binds(const tfrs_model *m, const char *desc)
{
    const tfrs_dataset *ds = dataset();

    for (size_t f = 0; f < tfrs_model_num_features(m); f++) {
        tfrs_feature_options o;
        size_t i;
        const char *name;
        tfrs_column_type type;
        FUZZ_CHECK(tfrs_model_feature_options(m, f, &o) == TFRS_OK);
        if (tfrs_dataset_find_column(ds, tfrs_model_feature_name(m, f), &i) != TFRS_OK)
            return 0;
        FUZZ_CHECK(tfrs_dataset_column_info(ds, i, &name, &type) == TFRS_OK);
        if ((type == TFRS_COLUMN_STRING) !=
            (o.kind == TFRS_FEATURE_STRING || o.kind == TFRS_FEATURE_HASHED))
            return 0;
    }
    /* label and weight: float columns; the description names them */
    return strstr(desc, "\"label\":\"label\"") != NULL &&
           (strstr(desc, "\"weight\":null") != NULL ||
            strstr(desc, "\"weight\":\"label\"") != NULL ||
            strstr(desc, "\"weight\":\"age\"") != NULL ||
            strstr(desc, "\"weight\":\"weight\"") != NULL);
}

/* Row 0 of the dataset as predict's values for m (a number for a feature
 * whose column is missing or not a string column). */
static const char **row_values(const tfrs_model *m, char (*num)[32])
{
    const tfrs_dataset *ds = dataset();
    size_t F = tfrs_model_num_features(m);
    const char **v = calloc(F, sizeof(*v));

    FUZZ_CHECK(v != NULL);
    for (size_t f = 0; f < F; f++) {
        const char *name = tfrs_model_feature_name(m, f);
        const float *fv;
        const int64_t *iv;
        if (tfrs_dataset_get_string(ds, name, 0, &v[f]) == TFRS_OK)
            continue;
        if (tfrs_dataset_floats(ds, name, &fv) == TFRS_OK)
            snprintf(num[f], sizeof(num[f]), "%.9g", (double)fv[0]);
        else if (tfrs_dataset_int64s(ds, name, &iv) == TFRS_OK)
            snprintf(num[f], sizeof(num[f]), "%" PRId64, iv[0]);
        else
            snprintf(num[f], sizeof(num[f]), "1");
        v[f] = num[f];
    }
    return v;
}

/* predict on row 0; *score gets the score on TFRS_OK. */
static int predict_row(const tfrs_model *m, float *score)
{
    size_t F = tfrs_model_num_features(m);
    char (*num)[32] = calloc(F, sizeof(*num));
    const char **v;
    int rc;

    FUZZ_CHECK(num != NULL);
    v = row_values(m, num);
    rc = tfrs_model_predict(m, v, 1, score);
    if (rc == TFRS_OK)
        FUZZ_CHECK(isfinite(*score));
    free(v);
    free(num);
    return rc;
}

static void same_fit_options(const tfrs_fit_options *a, double va, const tfrs_fit_options *b,
                             double vb)
{
    FUZZ_CHECK(a->epochs == b->epochs && a->batch_size == b->batch_size &&
               a->shuffle == b->shuffle && a->shuffle_seed == b->shuffle_seed &&
               a->threads == b->threads && a->early_stopping == b->early_stopping &&
               a->monitor == b->monitor && a->patience == b->patience &&
               a->min_delta == b->min_delta &&
               a->restore_best_weights == b->restore_best_weights && va == vb);
}

static void accepted(tfrs_model *m, const tfrs_fit_options *fo, double vf, int fit_rc)
{
    tfrs_model *again = NULL;
    tfrs_fit_options fo2, one;
    double vf2 = -1.0;
    size_t len = 0, len2 = 0;
    char *desc = describe(m, &len), *desc2;
    float s1 = 0.0f, s2 = 0.0f;
    int rc, rc2, bound;

    FUZZ_CHECK(fit_rc == TFRS_OK || fit_rc == TFRS_ENOMEM);  /* as from_config */
    FUZZ_CHECK(fo->epochs >= 0 && fo->batch_size >= 1 && fo->threads >= 1 &&
               fo->threads <= 256 && vf >= 0.0 && vf < 1.0);
    if (desc == NULL)
        return;
    /* The description is a configuration of the same model. */
    rc = tfrs_model_from_config(&again, desc, len, again_source, dataset());
    if (rc == TFRS_ENOMEM) {
        free(desc);
        return;
    }
    if (rc != TFRS_OK)
        fprintf(stderr, "description refused: %s\n%s\n", tfrs_last_error(), desc);
    FUZZ_CHECK(rc == TFRS_OK);
    desc2 = describe(again, &len2);
    if (desc2 != NULL) {
        if (strcmp(desc, desc2) != 0)
            fprintf(stderr, "descriptions differ:\n%s\n%s\n", desc, desc2);
        FUZZ_CHECK(len == len2 && strcmp(desc, desc2) == 0);
    }
    free(desc2);
    FUZZ_CHECK(tfrs_config_fit_options(desc, len, again_source, &fo2, &vf2) == TFRS_OK);
    same_fit_options(fo, vf, &fo2, vf2);
    FUZZ_CHECK(tfrs_model_num_parameters(m) == tfrs_model_num_parameters(again));

    bound = binds(m, desc);
    rc = predict_row(m, &s1);
    rc2 = predict_row(again, &s2);
    FUZZ_CHECK(rc == rc2 || rc == TFRS_ENOMEM || rc2 == TFRS_ENOMEM);
    if (rc == TFRS_OK && rc2 == TFRS_OK)
        FUZZ_CHECK(memcmp(&s1, &s2, sizeof(s1)) == 0);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE || rc == TFRS_ENOMEM ||
               (!bound && (rc == TFRS_ENOTFOUND || rc == TFRS_EINVAL)));
    tfrs_model_free(again);

    /* One epoch on the dataset, with the document's settings (validation
     * is the application's: none here; at most 2 threads). */
    one = *fo;
    one.epochs = 1;
    one.threads = fo->threads > 1 ? 2 : 1;
    one.early_stopping = one.restore_best_weights = 0;
    rc = tfrs_model_fit(m, dataset(), &one, NULL);
    if (bound && rc != TFRS_OK && rc != TFRS_ENONFINITE && rc != TFRS_ENOMEM)
        fprintf(stderr, "fit: %s\n%s\n", tfrs_last_error(), desc);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE || rc == TFRS_ENOMEM ||
               (!bound && rc == TFRS_ENOTFOUND));
    rc = predict_row(m, &s1);
    FUZZ_CHECK(rc == TFRS_OK || rc == TFRS_ENONFINITE || rc == TFRS_ENOMEM ||
               (!bound && (rc == TFRS_ENOTFOUND || rc == TFRS_EINVAL)));
    free(desc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    const tfrs_dataset *ds = dataset();
    tfrs_fit_options fo;
    double vf = -1.0;
    tfrs_model *m = NULL;
    int fit_rc, rc;

    fit_rc = tfrs_config_fit_options(json, size, source, &fo, &vf);
    if (fit_rc != TFRS_OK)
        check_rejected(fit_rc, source);
    rc = tfrs_model_from_config(&m, json, size, source, ds);
    FUZZ_CHECK((rc == TFRS_OK) == (m != NULL));
    if (rc != TFRS_OK) {
        if (rc != TFRS_EPARSE && rc != TFRS_EINVAL && rc != TFRS_ENOMEM)
            fprintf(stderr, "status %s: %s\n", tfrs_status_str(rc), tfrs_last_error());
        check_rejected(rc, source);
        /* the document's own errors come first, whatever the data */
        if (fit_rc == TFRS_EPARSE)
            FUZZ_CHECK(rc == TFRS_EPARSE);
    } else {
        accepted(m, &fo, vf, fit_rc);
    }
    tfrs_model_free(m);
    return 0;
}
