/*
 * predict.c - tfrsc predict: one score per example of a TSV or CSV table
 * read from stdin (or --input), in input order.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The header line names the columns; every feature of the model must be
 * one of them (other columns are ignored).  Values are passed as text to
 * tfrs_model_predict, which maps unknown strings to their OOV index.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BLOCK 1024   /* examples scored per call */

static void usage(FILE *f)
{
    fputs("usage: tfrsc predict --model MODEL [--csv] [--input FILE] < examples.tsv\n"
          "\n"
          "Reads a table whose header line names the columns (tab-separated, or\n"
          "comma-separated with --csv) and prints one score per example, in order.\n"
          "Every feature of the model needs a column; other columns are ignored.\n"
          "\n"
          "  --model PATH   model file\n"
          "  --csv          comma-separated input\n"
          "  --input FILE   read FILE instead of stdin\n"
          "  --help         this text\n", f);
}

/* Splits line in place at delim; returns the number of fields (up to cap). */
static size_t split_fields(char *line, char delim, char **fields, size_t cap)
{
    size_t n = 0;
    char *p = line;

    for (;;) {
        char *d = strchr(p, delim);
        if (n < cap)
            fields[n] = p;
        n++;
        if (d == NULL)
            break;
        *d = '\0';
        p = d + 1;
    }
    return n;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

typedef struct block {
    char      **lines;       /* BLOCK owned copies                          */
    const char **values;     /* BLOCK x F                                   */
    float      *scores;
    size_t      n;
} block;

static int flush_block(const tfrs_model *m, block *b, const char *src, size_t first_line)
{
    char buf[32];
    int st = tfrs_model_predict(m, b->values, b->n, b->scores);

    if (st != TFRS_OK) {
        cli_error("%s:%zu..%zu: %s: %s", src, first_line, first_line + b->n - 1,
                  tfrs_status_str(st), tfrs_last_error());
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        cli_format_float(buf, sizeof(buf), b->scores[i]);
        puts(buf);
        free(b->lines[i]);
    }
    b->n = 0;
    return 0;
}

int cmd_predict(int argc, char **argv)
{
    const char *model_path = NULL, *input = NULL, *src = "<stdin>", *v;
    char delim = '\t', *line = NULL, **fields = NULL;
    size_t cap = 0, F, ncols = 0, lineno = 0, block_line = 2, *col_of = NULL;
    tfrs_model *m = NULL;
    block b;
    FILE *in = stdin;
    int rc = CLI_FAIL, r;

    cli_prog = "tfrsc predict";
    memset(&b, 0, sizeof(b));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--csv") == 0) {
            delim = ',';
        } else if ((r = cli_opt(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            model_path = v;
        } else if ((r = cli_opt(argc, argv, &i, "--input", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            input = v;
        } else {
            return cli_usage_error("unknown argument '%s'", argv[i]);
        }
    }
    if (model_path == NULL)
        return cli_usage_error("--model is required");
    if (cli_load_model(&m, model_path) != CLI_OK)
        return CLI_FAIL;
    if (input != NULL) {
        src = input;
        if ((in = fopen(input, "r")) == NULL) {
            cli_error("%s: %s", input, strerror(errno));
            goto out;
        }
    }
    F = tfrs_model_num_features(m);
    b.lines = calloc(BLOCK, sizeof(*b.lines));
    b.values = calloc(BLOCK * F, sizeof(*b.values));
    b.scores = calloc(BLOCK, sizeof(*b.scores));
    col_of = calloc(F, sizeof(*col_of));
    if (b.lines == NULL || b.values == NULL || b.scores == NULL || col_of == NULL) {
        cli_error("out of memory");
        goto out;
    }

    /* The header: where each feature's column is. */
    if (getline(&line, &cap, in) < 0) {
        cli_error("%s: empty input: the first line must name the columns", src);
        goto out;
    }
    lineno = 1;
    chomp(line);
    ncols = 1;
    for (const char *p = line; *p != '\0'; p++)
        ncols += *p == delim;
    if ((fields = calloc(ncols, sizeof(*fields))) == NULL) {
        cli_error("out of memory");
        goto out;
    }
    split_fields(line, delim, fields, ncols);
    for (size_t f = 0; f < F; f++) {
        const char *name = tfrs_model_feature_name(m, f);
        size_t c = 0;
        while (c < ncols && strcmp(fields[c], name) != 0)
            c++;
        if (c == ncols) {
            cli_error("%s:1: no column \"%s\" (the model's feature %zu) in the header", src,
                      name, f + 1);
            goto out;
        }
        col_of[f] = c;
    }

    for (;;) {
        ssize_t got = getline(&line, &cap, in);
        size_t n;
        char *copy;

        if (got < 0)
            break;
        lineno++;
        chomp(line);
        if (line[0] == '\0')
            continue;
        if ((copy = strdup(line)) == NULL) {
            cli_error("out of memory");
            goto out;
        }
        n = split_fields(copy, delim, fields, ncols);
        if (n != ncols) {
            free(copy);
            cli_error("%s:%zu: %zu fields, the header has %zu", src, lineno, n, ncols);
            goto out;
        }
        if (b.n == 0)
            block_line = lineno;
        b.lines[b.n] = copy;
        for (size_t f = 0; f < F; f++)
            b.values[b.n * F + f] = fields[col_of[f]];
        if (++b.n == BLOCK && flush_block(m, &b, src, block_line) < 0)
            goto out;
    }
    if (ferror(in)) {
        cli_error("%s: read error", src);
        goto out;
    }
    if (b.n > 0 && flush_block(m, &b, src, block_line) < 0)
        goto out;
    if (fflush(stdout) != 0) {
        cli_error("<stdout>: %s", strerror(errno));
        goto out;
    }
    rc = CLI_OK;
out:
    for (size_t i = 0; i < b.n; i++)
        free(b.lines[i]);
    free(b.lines);
    free(b.values);
    free(b.scores);
    free(col_of);
    free(fields);
    free(line);
    if (in != NULL && in != stdin)
        fclose(in);
    tfrs_model_free(m);
    return rc;
}
