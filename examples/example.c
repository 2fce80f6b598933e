/*
 * example.c - what the example programs share (example.h).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

int ex_parse_u64(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return (errno != 0 || *end != '\0' || *v > max) ? -1 : 0;
}

const char *ex_option_value(int argc, char **argv, int *i, const char *name)
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

void ex_bad_value(const char *prog, const char *name, const char *value)
{
    fprintf(stderr, "%s: invalid value for %s: '%s'\n", prog, name, value);
    exit(2);
}

int ex_has_movielens(const char *dir)
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

const char *ex_find_data(const char *arg)
{
    const char *env = getenv("TFRSC_DATA");

    if (arg != NULL)
        return arg;
    if (env != NULL && *env != '\0')
        return env;
    if (ex_has_movielens("data/ml-100k"))
        return "data/ml-100k";
    if (ex_has_movielens("../shared/data/ml-100k"))
        return "../shared/data/ml-100k";
    return NULL;
}

void ex_explain_download(void)
{
    fputs("MovieLens 100K was not found (looked at --data, $TFRSC_DATA, data/ml-100k\n"
          "and ../shared/data/ml-100k).  It is not shipped with libtfrsc: its licence\n"
          "forbids redistribution.  Download it from GroupLens and unzip it, e.g.\n"
          "\n"
          "    mkdir -p data && cd data\n"
          "    wget https://files.grouplens.org/datasets/movielens/ml-100k.zip\n"
          "    unzip ml-100k.zip\n"
          "\n"
          "so that data/ml-100k/u.data exists, or set TFRSC_DATA=/path/to/ml-100k,\n"
          "or pass --data /path/to/ml-100k.\n",
          stderr);
}

int ex_fail(const char *call, int status)
{
    fprintf(stderr, "error: %s: %s: %s\n", call, tfrs_status_str(status), tfrs_last_error());
    return 1;
}

void ex_format_double(char *buf, size_t size, double x)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void ex_print_epoch(const tfrs_progress *p)
{
    printf("Epoch %d/%d\n", p->epoch, p->epochs);
    printf("%zu/%zu - root_mean_squared_error: %.4f - loss: %.4f - regularization_loss: %g"
           " - total_loss: %.4f - %.0fms\n",
           p->batches, p->batches, p->metrics.rmse, p->metrics.loss,
           p->metrics.regularization_loss, p->metrics.total_loss, p->seconds * 1000.0);
    fflush(stdout);
}

void ex_print_metrics(const tfrs_metrics *m)
{
    char a[32], b[32], c[32], d[32];

    ex_format_double(a, sizeof(a), m->rmse);
    ex_format_double(b, sizeof(b), m->loss);
    ex_format_double(c, sizeof(c), m->regularization_loss);
    ex_format_double(d, sizeof(d), m->total_loss);
    printf("{'root_mean_squared_error': %s, 'loss': %s, 'regularization_loss': %s, "
           "'total_loss': %s}\n", a, b, c, d);
}

void ex_format_float(char *buf, size_t size, float x)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x)
            return;
    }
}

const char *ex_find_config(const char *prog, const char *name, char *buf, size_t size)
{
    const char *slash = strrchr(prog, '/');
    FILE *f;

    if (snprintf(buf, size, "examples/%s", name) < (int)size && (f = fopen(buf, "rb")) != NULL) {
        fclose(f);
        return buf;
    }
    if (slash != NULL &&
        snprintf(buf, size, "%.*s/%s", (int)(slash - prog), prog, name) < (int)size)
        return buf;
    return name;
}

char *ex_read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}
