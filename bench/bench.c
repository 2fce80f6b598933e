/*
 * bench.c - helpers shared by the benchmark programs (see bench.h).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;

    return (a > b) - (a < b);
}

double bench_quantile(double *x, size_t n, double q)
{
    size_t k;

    if (n == 0)
        return 0.0;
    qsort(x, n, sizeof(*x), cmp_double);
    if (q == 0.5)
        return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
    k = (size_t)ceil(q * (double)n);
    return x[k == 0 ? 0 : (k > n ? n - 1 : k - 1)];
}

bench_stats bench_summarize(double *x, size_t n)
{
    bench_stats s;
    double sum = 0.0;

    memset(&s, 0, sizeof(s));
    s.n = n;
    if (n == 0)
        return s;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    s.mean = sum / (double)n;
    s.median = bench_quantile(x, n, 0.5);
    s.p99 = bench_quantile(x, n, 0.99);
    s.min = x[0];
    s.max = x[n - 1];
    return s;
}

size_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtoull(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb * 1024;
}

size_t bench_peak_rss_bytes(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (size_t)ru.ru_maxrss * 1024;   /* kilobytes on Linux */
}

int bench_has_movielens(const char *dir)
{
    char path[4096];
    FILE *f;

    if (dir == NULL || *dir == '\0')
        return 0;
    if (snprintf(path, sizeof(path), "%s/u.data", dir) >= (int)sizeof(path))
        return 0;
    f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    fclose(f);
    return 1;
}

const char *bench_find_data(const char *arg)
{
    const char *env = getenv("TFRSC_DATA");

    if (arg != NULL)
        return bench_has_movielens(arg) ? arg : NULL;
    if (env != NULL && *env != '\0')
        return bench_has_movielens(env) ? env : NULL;
    if (bench_has_movielens("data/ml-100k"))
        return "data/ml-100k";
    if (bench_has_movielens("../shared/data/ml-100k"))
        return "../shared/data/ml-100k";
    return NULL;
}

void bench_check(int status, const char *call, const char *file, int line)
{
    if (status == TFRS_OK)
        return;
    fprintf(stderr, "%s:%d: %s: %s: %s\n", file, line, call, tfrs_status_str(status),
            tfrs_last_error());
    exit(1);
}

/* ---- JSON lines ------------------------------------------------------- */

static void jprintf(bench_json *j, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (j->len >= sizeof(j->buf))
        return;
    va_start(ap, fmt);
    n = vsnprintf(j->buf + j->len, sizeof(j->buf) - j->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        j->len += (size_t)n;
    if (j->len >= sizeof(j->buf)) {
        fprintf(stderr, "bench: JSON line too long\n");
        exit(1);
    }
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void jstring(bench_json *j, const char *s)
{
    jprintf(j, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            jprintf(j, "\\%c", c);
        else if (c < 0x20)
            jprintf(j, "\\u%04x", c);
        else
            jprintf(j, "%c", c);
    }
    jprintf(j, "\"");
}

/* A number; JSON has no NaN or Inf, so those become null. */
static void jnumber(bench_json *j, double v)
{
    if (!isfinite(v))
        jprintf(j, "null");
    else if (v == floor(v) && fabs(v) < 1e15)
        jprintf(j, "%.0f", v);
    else
        jprintf(j, "%.6g", v);
}

static void close_params(bench_json *j)
{
    if (j->in_params) {
        jprintf(j, "}");
        j->in_params = 0;
    }
}

static void key(bench_json *j, const char *k, int param)
{
    if (param) {
        if (!j->in_params) {
            jprintf(j, ",\"params\":{");
            j->in_params = 1;
            j->has_params = 0;
        }
        if (j->has_params)
            jprintf(j, ",");
        j->has_params = 1;
    } else {
        close_params(j);
        jprintf(j, ",");
    }
    jstring(j, k);
    jprintf(j, ":");
}

void bench_json_begin(bench_json *j, const char *bench, const char *name)
{
    memset(j, 0, sizeof(*j));
    jprintf(j, "{\"bench\":");
    jstring(j, bench);
    jprintf(j, ",\"name\":");
    jstring(j, name);
}

void bench_json_param_int(bench_json *j, const char *k, long long v)
{
    key(j, k, 1);
    jprintf(j, "%lld", v);
}

void bench_json_param_str(bench_json *j, const char *k, const char *v)
{
    key(j, k, 1);
    jstring(j, v);
}

void bench_json_stats(bench_json *j, const bench_stats *s, const char *unit, int with_p99)
{
    bench_json_int(j, "repeats", (long long)s->n);
    bench_json_num(j, "median", s->median);
    if (with_p99)
        bench_json_num(j, "p99", s->p99);
    if (s->n >= 2) {
        bench_json_num(j, "min", s->min);
        bench_json_num(j, "max", s->max);
    }
    bench_json_str(j, "unit", unit);
}

void bench_json_num(bench_json *j, const char *k, double v)
{
    key(j, k, 0);
    jnumber(j, v);
}

void bench_json_int(bench_json *j, const char *k, long long v)
{
    key(j, k, 0);
    jprintf(j, "%lld", v);
}

void bench_json_str(bench_json *j, const char *k, const char *v)
{
    key(j, k, 0);
    jstring(j, v);
}

void bench_json_bool(bench_json *j, const char *k, int v)
{
    key(j, k, 0);
    jprintf(j, v ? "true" : "false");
}

void bench_json_end(bench_json *j)
{
    close_params(j);
    jprintf(j, "}\n");
    fputs(j->buf, stdout);
    fflush(stdout);
}

/* ---- the tutorial ----------------------------------------------------- */

void bench_tutorial_load(bench_tutorial *t, const char *dir, size_t train_rows,
                         size_t test_rows)
{
    memset(t, 0, sizeof(*t));
    BENCH_CHECK(tfrs_dataset_load_movielens(&t->ratings, dir, NULL));
    BENCH_CHECK(tfrs_dataset_shuffle(t->ratings, BENCH_SPLIT_SEED));
    if (train_rows == 0)
        train_rows = BENCH_TRAIN_ROWS;
    if (test_rows == 0)
        test_rows = BENCH_TEST_ROWS;
    BENCH_CHECK(tfrs_dataset_slice(&t->train, t->ratings, 0, train_rows));
    BENCH_CHECK(tfrs_dataset_slice(&t->test, t->ratings, train_rows, test_rows));
    BENCH_CHECK(tfrs_vocab_adapt_column(&t->users, t->ratings, "user_id", NULL));
    BENCH_CHECK(tfrs_vocab_adapt_column(&t->titles, t->ratings, "movie_title", NULL));
}

void bench_tutorial_free(bench_tutorial *t)
{
    tfrs_vocab_free(t->titles);
    tfrs_vocab_free(t->users);
    tfrs_dataset_free(t->test);
    tfrs_dataset_free(t->train);
    tfrs_dataset_free(t->ratings);
    memset(t, 0, sizeof(*t));
}

tfrs_model *bench_tutorial_model(const tfrs_vocab *users, const tfrs_vocab *titles,
                                 uint64_t seed)
{
    tfrs_model *m = NULL;
    tfrs_optimizer_options o;

    BENCH_CHECK(tfrs_model_create(&m, seed));
    BENCH_CHECK(tfrs_model_add_feature(m, "user_id", users, 32));
    BENCH_CHECK(tfrs_model_add_feature(m, "movie_title", titles, 32));
    BENCH_CHECK(tfrs_model_add_dense(m, 256, TFRS_ACT_RELU, 0.0f));
    BENCH_CHECK(tfrs_model_add_dense(m, 64, TFRS_ACT_RELU, 0.0f));
    BENCH_CHECK(tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f));
    BENCH_CHECK(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                            TFRS_OPT_ADAGRAD));
    o.learning_rate = 0.1f;
    BENCH_CHECK(tfrs_model_set_optimizer(m, &o));
    BENCH_CHECK(tfrs_model_set_label(m, "user_rating", NULL));
    BENCH_CHECK(tfrs_model_build(m));
    return m;
}

/* ---- command line ----------------------------------------------------- */

const char *bench_option(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];

    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", argv[0], name);
        exit(2);
    }
    return argv[++*i];
}

unsigned long long bench_parse_count(const char *prog, const char *name, const char *v)
{
    unsigned long long n;
    char *end;

    errno = 0;
    n = v[0] == '-' ? 0 : strtoull(v, &end, 10);
    if (v[0] == '-' || v[0] == '\0' || *end != '\0' || errno != 0 || n == 0) {
        fprintf(stderr, "%s: invalid value for %s: '%s'\n", prog, name, v);
        exit(2);
    }
    return n;
}
