/*
 * options.c - tfrsc's command-line parsing, error reports and number
 * formatting, shared by every subcommand.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_prog = "tfrsc";

int cli_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cli_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_lib_error(const char *what, int status)
{
    const char *detail = tfrs_last_error();

    if (detail != NULL && detail[0] != '\0')
        return cli_error("%s: %s: %s", what, tfrs_status_str(status), detail);
    return cli_error("%s: %s", what, tfrs_status_str(status));
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cli_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '%s --help')\n", cli_prog);
    return CLI_USAGE;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);

    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error("option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_parse_count(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
    unsigned long long x;
    char *end;

    errno = 0;
    if (*s < '0' || *s > '9')
        goto bad;
    x = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || x < min || x > max)
        goto bad;
    *v = (uint64_t)x;
    return 0;
bad:
    cli_usage_error("%s: '%s' is not an integer in %llu .. %llu", opt, s,
                    (unsigned long long)min, (unsigned long long)max);
    return -1;
}

int cli_parse_real(const char *opt, const char *s, double min, double max, double *v)
{
    char *end;
    double x;

    errno = 0;
    x = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(x) || x < min || x > max) {
        cli_usage_error("%s: '%s' is not a number in [%g, %g]", opt, s, min, max);
        return -1;
    }
    *v = x;
    return 0;
}

void cli_format_double(char *buf, size_t size, double x)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void cli_format_float(char *buf, size_t size, float x)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x)
            return;
    }
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void cli_print_metrics(FILE *f, const tfrs_metrics *m, const char *prefix, int json)
{
    struct { const char *name; double v; unsigned flag; } rows[] = {
        { "loss", m->loss, 0 },
        { "regularization_loss", m->regularization_loss, 0 },
        { "total_loss", m->total_loss, 0 },
        { "rmse", m->rmse, TFRS_METRIC_RMSE },
        { "mae", m->mae, TFRS_METRIC_MAE },
        { "auc", m->auc, TFRS_METRIC_AUC },
    };
    char buf[40];
    int first = 1;

    if (json)
        fputc('{', f);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].flag != 0 && (m->metrics & rows[i].flag) == 0)
            continue;
        cli_format_double(buf, sizeof(buf), rows[i].v);
        if (json)
            fprintf(f, "%s\"%s%s\": %s", first ? "" : ", ", prefix, rows[i].name, buf);
        else
            fprintf(f, "%s%s %s\n", prefix, rows[i].name, buf);
        first = 0;
    }
    if (json)
        fprintf(f, "%s\"%sexamples\": %zu}\n", first ? "" : ", ", prefix, m->examples);
    else
        fprintf(f, "%sexamples %zu\n", prefix, m->examples);
}
