/*
 * cli.h - what the subcommands of tfrsc(1) share: options, data, errors,
 * progress display.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The tool uses the public header only.  Exit statuses: 0 success,
 * 1 runtime failure, 2 usage error, 130 training interrupted by SIGINT
 * (a checkpoint was saved).
 */
#ifndef TFRSC_CLI_H
#define TFRSC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tfrsc.h"

#define CLI_OK          0
#define CLI_FAIL        1
#define CLI_USAGE       2
#define CLI_INTERRUPTED 130

/* ---- options.c: command line, errors, numbers ---------------------------- */

extern const char *cli_prog;        /* "tfrsc" or "tfrsc train" for messages */

/* "tfrsc CMD: msg" on stderr; returns CLI_FAIL. */
int cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* A failed library call: "tfrsc CMD: what: status text: detail"; CLI_FAIL. */
int cli_lib_error(const char *what, int status);
/* A usage error with a hint to --help; returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* argv[*i] is "--name VALUE" or "--name=VALUE": 1 with *value set (and *i
 * advanced), 0 if it is another argument, -1 if the value is missing (a
 * usage error has been reported). */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* Parsers: 0 on success, else a usage error is reported and -1 returned. */
int cli_parse_count(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *v);
int cli_parse_real(const char *opt, const char *s, double min, double max, double *v);

/* Shortest decimal text that reads back as x. */
void cli_format_double(char *buf, size_t size, double x);
void cli_format_float(char *buf, size_t size, float x);
/* Writes s as a JSON string (quotes, escapes). */
void cli_json_string(FILE *f, const char *s);

/* ---- data.c: reading ratings --------------------------------------------- */

/* How data is split: rows shuffled with split_seed, the last test_fraction
 * held out as test rows (0: none). */
typedef struct cli_split {
    uint64_t split_seed;
    double   test_fraction;
} cli_split;

/* What the loader needs to know of a model: the float columns (label,
 * weight, numeric and bucketized features) and the feature names. */
typedef struct cli_columns {
    char  **floats;
    size_t  num_floats;
    char  **features;
    size_t  num_features;
} cli_columns;

void cli_columns_free(cli_columns *c);
/* From a JSON configuration's text (named source in messages). */
int cli_columns_from_config(cli_columns *c, const char *json, const char *source);
/* From a built or loaded model (its description). */
int cli_columns_from_model(cli_columns *c, const tfrs_model *model);

/* Loads `path`: a MovieLens directory (holds u.data; with side features
 * when one of c's features needs them), or a delimited text file with a
 * header line (delimiter: ',' by default, '\t' for *.tsv and *.data, or
 * `delim` when not NUL), float columns as c says.  c may be NULL (the
 * MovieLens columns).  Reports errors; CLI_OK or CLI_FAIL. */
int cli_load_data(tfrs_dataset **out, const char *path, const cli_columns *c, char delim);
/* Shuffles ds in place and cuts it: *train (rows before the test part) and
 * *test (NULL when test_fraction is 0). */
int cli_split_data(tfrs_dataset *ds, const cli_split *s, tfrs_dataset **train,
                   tfrs_dataset **test);
/* The whole file, NUL-terminated; NULL after reporting an error. */
char *cli_read_file(const char *path, size_t *len);
/* Loads a model file, reporting failures; CLI_OK or CLI_FAIL. */
int cli_load_model(tfrs_model **out, const char *path);
/* Prints metrics as "name value" lines, or one JSON object. */
void cli_print_metrics(FILE *f, const tfrs_metrics *m, const char *prefix, int json);

/* ---- progress.c: the epoch display --------------------------------------- */

typedef enum cli_display {
    CLI_DISPLAY_BAR   = 0,   /* live bar redrawn with '\r' (a terminal)      */
    CLI_DISPLAY_LINES = 1    /* one line per epoch                           */
} cli_display;

/* The per-epoch curves for --plot. */
typedef struct cli_curves {
    int         n, cap;
    double     *epoch, *loss, *val_loss, *metric, *val_metric;
    int         has_validation;
    const char *metric_name;    /* "RMSE", "MAE", "AUC" or NULL            */
} cli_curves;

/* Appends an end-of-epoch report; -1 when out of memory. */
int  cli_curves_add(cli_curves *c, const tfrs_progress *pr, int epoch);
void cli_curves_free(cli_curves *c);
/* Draws the curves into path (SVG, or PNG for *.png): CLI_OK or CLI_FAIL.
 * Only in a tfrsc built with cairo (TFRSC_HAVE_PLOT). */
int  cli_plot(const cli_curves *c, const char *path);

typedef struct cli_progress {
    cli_display  display;
    FILE        *out;
    int          epoch_offset;  /* epochs done before this fit (resume)     */
    int          epochs_total;
    double       last_draw;
    int          shown_epoch;   /* the bar's "Epoch i/n" header printed */
    FILE        *history;       /* CSV, may be NULL                          */
    cli_curves  *curves;        /* --plot's curves, may be NULL              */
    int          curves_failed;
    int          history_header;
} cli_progress;

void cli_progress_init(cli_progress *p, cli_display d, FILE *out);
/* Draws a progress report; end-of-epoch calls also write the history row. */
void cli_progress_show(cli_progress *p, const tfrs_progress *pr);

/* ---- the subcommands ------------------------------------------------------ */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_rank(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

#endif /* TFRSC_CLI_H */
