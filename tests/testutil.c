/*
 * testutil.c - helpers shared by the Check test programs (testutil.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- suites and the runner ------------------------------------------------ */

void tu_add_cases(Suite *s, const tu_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
}

TCase *tu_tcase_(Suite *s, const char *name, ...)
{
    TCase *tc = tcase_create(name);
    const TTest *t;
    va_list ap;

    va_start(ap, name);
    while ((t = va_arg(ap, const TTest *)) != NULL)
        tcase_add_test(tc, t);
    va_end(ap);
    suite_add_tcase(s, tc);
    return tc;
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int tu_run_cases(const char *name, const tu_case *cases, size_t n)
{
    Suite *s = suite_create(name);

    tu_add_cases(s, cases, n);
    return tu_run(s);
}

/* ---- a counting, failing allocator ------------------------------------------ */

/* Each block is HDR bytes of header (MAGIC while live, DEAD once freed) and
 * the caller's bytes, which keep malloc's 16-byte alignment. */
#define HDR 16
static const uint64_t MAGIC = 0x6f6f6d2d74667273ull, DEAD = 0xdeaddeaddeaddeadull;

static pthread_mutex_t books = PTHREAD_MUTEX_INITIALIZER;

/* Counts a call and says whether it is to fail; under the lock. */
static int should_fail(tu_alloc *a)
{
    long k = a->calls++;

    if (a->fail_at >= 0 && (k == a->fail_at || (a->persistent && k > a->fail_at))) {
        a->injected++;
        return 1;
    }
    return 0;
}

static int owned(void *ptr)
{
    uint64_t tag;

    memcpy(&tag, (unsigned char *)ptr - HDR, sizeof(tag));
    return tag == MAGIC;
}

/* A new block, or NULL; under the lock. */
static void *new_block(tu_alloc *a, size_t size)
{
    unsigned char *p;

    if (should_fail(a) || size > SIZE_MAX - HDR)
        return NULL;
    p = malloc(HDR + size);
    if (p == NULL)
        return NULL;
    memcpy(p, &MAGIC, sizeof(MAGIC));
    a->live++;
    return p + HDR;
}

void *tu_malloc(size_t size, void *payload)
{
    tu_alloc *a = payload;
    void *p;

    pthread_mutex_lock(&books);
    a->mallocs++;
    p = new_block(a, size);
    pthread_mutex_unlock(&books);
    return p;
}

void *tu_realloc(void *ptr, size_t size, void *payload)
{
    tu_alloc *a = payload;
    unsigned char *p = NULL;

    pthread_mutex_lock(&books);
    a->reallocs++;
    if (ptr == NULL)
        p = new_block(a, size);
    else if (!owned(ptr))
        a->bad_frees++;
    else if (!should_fail(a) && size <= SIZE_MAX - HDR) {
        p = realloc((unsigned char *)ptr - HDR, HDR + size);
        if (p != NULL)
            p += HDR;
    }
    pthread_mutex_unlock(&books);
    return p;
}

void tu_free(void *ptr, void *payload)
{
    tu_alloc *a = payload;

    if (ptr == NULL)
        return;
    pthread_mutex_lock(&books);
    if (!owned(ptr)) {
        a->bad_frees++;
    } else {
        memcpy((unsigned char *)ptr - HDR, &DEAD, sizeof(DEAD));
        free((unsigned char *)ptr - HDR);
        a->frees++;
        a->live--;
    }
    pthread_mutex_unlock(&books);
}

void tu_alloc_reset(tu_alloc *a)
{
    pthread_mutex_lock(&books);
    memset(a, 0, sizeof(*a));
    a->fail_at = -1;
    pthread_mutex_unlock(&books);
}

void tu_alloc_arm(tu_alloc *a, long k, int persistent)
{
    pthread_mutex_lock(&books);
    a->calls = 0;
    a->injected = 0;
    a->fail_at = k < 0 ? -1 : k;
    a->persistent = persistent;
    pthread_mutex_unlock(&books);
}

void tu_alloc_budget(tu_alloc *a, long k)
{
    pthread_mutex_lock(&books);
    a->fail_at = k < 0 ? -1 : a->calls + k;
    a->persistent = 1;
    pthread_mutex_unlock(&books);
}

tu_alloc tu_alloc_snapshot(const tu_alloc *a)
{
    tu_alloc copy;

    pthread_mutex_lock(&books);
    copy = *a;
    pthread_mutex_unlock(&books);
    return copy;
}

tfrs_allocator tu_allocator(tu_alloc *a, int with_realloc)
{
    tfrs_allocator al = { tu_malloc, with_realloc ? tu_realloc : NULL, tu_free, a };

    return al;
}

void tu_alloc_install(tu_alloc *a, int with_realloc)
{
    tfrs_allocator al = tu_allocator(a, with_realloc);

    tu_alloc_reset(a);
    ck_assert_int_eq(tfrs_set_allocator(&al), TFRS_OK);
}

void tu_oom_begin(tu_alloc *a, long k)
{
    tu_alloc_install(a, 1);
    tu_alloc_arm(a, k, 0);
}

void tu_oom_end(const tu_alloc *a)
{
    ck_assert_int_eq(a->live, 0);
    ck_assert_int_eq(a->bad_frees, 0);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}

/* ---- a temporary directory and files ---------------------------------------- */

char tu_tmpdir[512];

int tu_tmpdir_try_make(void)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    if (snprintf(tu_tmpdir, sizeof(tu_tmpdir), "%s/tfrsc-test-XXXXXX", base) >=
        (int)sizeof(tu_tmpdir))
        return -1;
    return mkdtemp(tu_tmpdir) == NULL ? -1 : 0;
}

void tu_tmpdir_make(void)
{
    ck_assert_int_eq(tu_tmpdir_try_make(), 0);
}

void tu_tmpdir_remove(void)
{
    DIR *d = opendir(tu_tmpdir);
    struct dirent *e;
    char p[sizeof(tu_tmpdir) + 256];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", tu_tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tu_tmpdir);
}

char *tu_tmp_path(const char *name)
{
    static char p[4][sizeof(tu_tmpdir) + 256];
    static int k;

    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tu_tmpdir, name);
    return p[k];
}

unsigned char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

int tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return -1;
    if (fwrite(data, 1, n, f) != n) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

void tu_write_bytes(const char *path, const void *data, size_t n)
{
    ck_assert_msg(tu_write_file(path, data, n) == 0, "cannot write %s", path);
}

void tu_write_text(const char *path, const char *text)
{
    tu_write_bytes(path, text, strlen(text));
}

const char *tu_tmp_write(const char *name, const void *data, size_t n)
{
    const char *path = tu_tmp_path(name);

    tu_write_bytes(path, data, n);
    return path;
}

const char *tu_tmp_write_text(const char *name, const char *text)
{
    return tu_tmp_write(name, text, strlen(text));
}

/* ---- MovieLens ---------------------------------------------------------- */

/* dir if dir/u.data is readable, copied to buf; else NULL. */
static const char *with_u_data(char *buf, size_t size, const char *dir)
{
    if (snprintf(buf, size, "%s/u.data", dir) >= (int)size || access(buf, R_OK) != 0)
        return NULL;
    snprintf(buf, size, "%s", dir);
    return buf;
}

const char *tu_movielens_dir(void)
{
    static char buf[4096];
    const char *env = getenv("TFRSC_DATA");
    const char *dir = NULL;

    if (env != NULL && env[0] != '\0') {
        char sub[4096];
        dir = with_u_data(buf, sizeof(buf), env);
        if (dir == NULL && snprintf(sub, sizeof(sub), "%s/ml-100k", env) < (int)sizeof(sub))
            dir = with_u_data(buf, sizeof(buf), sub);
    }
    if (dir == NULL)
        dir = with_u_data(buf, sizeof(buf), "data/ml-100k");
    if (dir == NULL)
        dir = with_u_data(buf, sizeof(buf), "../shared/data/ml-100k");
    return dir;
}

/* ---- datasets and models ------------------------------------------------ */

int tu_dataset_new(tfrs_dataset **out, const tu_column *cols, size_t ncols, size_t rows,
                   tu_row_fn row, void *arg)
{
    tfrs_dataset *ds = NULL;
    char strings[TU_ROW_STRINGS][TU_ROW_CHARS];
    const char *s[TU_ROW_STRINGS];
    float floats[16];
    size_t ns = 0, nf = 0;
    int rc;

    *out = NULL;
    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].type == TFRS_COLUMN_STRING)
            ns++;
        else
            nf++;
    }
    if (ns > TU_ROW_STRINGS || nf > TU_NELEM(floats))
        return TFRS_EINVAL;
    for (size_t i = 0; i < TU_ROW_STRINGS; i++)
        s[i] = strings[i];
    if ((rc = tfrs_dataset_create(&ds)) != TFRS_OK)
        return rc;
    for (size_t c = 0; c < ncols && rc == TFRS_OK; c++)
        rc = tfrs_dataset_add_column(ds, cols[c].name, cols[c].type);
    for (size_t r = 0; r < rows && row != NULL && rc == TFRS_OK; r++) {
        memset(strings, 0, sizeof(strings));
        memset(floats, 0, sizeof(floats));
        row(r, strings, floats, arg);
        rc = tfrs_dataset_append(ds, ns > 0 ? s : NULL, nf > 0 ? floats : NULL);
    }
    if (rc != TFRS_OK) {
        tfrs_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return TFRS_OK;
}

int tu_model_new(tfrs_model **out, const tu_model_spec *spec)
{
    tfrs_model *m = NULL;
    tfrs_ranking_task *task = NULL;
    int rc;

    *out = NULL;
    if ((rc = tfrs_model_create(&m, spec->seed)) != TFRS_OK)
        return rc;
    for (size_t f = 0; f < TU_MAX_FEATURES && spec->features[f].name != NULL && rc == TFRS_OK;
         f++)
        rc = tfrs_model_add_feature(m, spec->features[f].name, spec->features[f].vocab,
                                    spec->features[f].dim);
    for (size_t l = 0; l < TU_MAX_LAYERS && spec->dense[l].units > 0 && rc == TFRS_OK; l++)
        rc = tfrs_model_add_dense(m, spec->dense[l].units, spec->dense[l].act, spec->dense[l].l2);
    if (rc == TFRS_OK && spec->optimizer.set) {
        tfrs_optimizer_options o;
        rc = tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                         spec->optimizer.kind);
        if (spec->optimizer.learning_rate != 0.0f)
            o.learning_rate = spec->optimizer.learning_rate;
        o.momentum = spec->optimizer.momentum;
        if (rc == TFRS_OK)
            rc = tfrs_model_set_optimizer(m, &o);
    }
    if (rc == TFRS_OK && spec->task != NULL) {
        rc = tfrs_ranking_task_create(&task, spec->task);
        if (rc == TFRS_OK)
            rc = tfrs_model_set_task(m, task);
        tfrs_ranking_task_free(task);
    }
    if (rc == TFRS_OK && spec->label != NULL)
        rc = tfrs_model_set_label(m, spec->label, spec->weight);
    if (rc == TFRS_OK && !spec->no_build)
        rc = tfrs_model_build(m);
    if (rc != TFRS_OK) {
        tfrs_model_free(m);
        return rc;
    }
    *out = m;
    return TFRS_OK;
}
