/*
 * eval.c - tfrsc eval: a saved model's loss and metrics on data.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: tfrsc eval --model MODEL --data DIR|FILE [options]\n"
          "\n"
          "Evaluates a model on every row of the data, or with --test-fraction on the\n"
          "rows that 'tfrsc train' held out as its test set.  Prints 'name value' lines.\n"
          "\n"
          "  --model PATH         model file\n"
          "  --data DIR|FILE      MovieLens directory or delimited file (default $TFRSC_DATA)\n"
          "  --delimiter C        field separator of FILE (default ',', tab for .tsv)\n"
          "  --test-fraction F    evaluate only the last F of the rows shuffled by\n"
          "                       --split-seed (as train splits them)\n"
          "  --split-seed N       default 42\n"
          "  --batch-size N       evaluation batch size (default 4096)\n"
          "  --json               one JSON object\n"
          "  --help               this text\n", f);
}

int cmd_eval(int argc, char **argv)
{
    const char *model_path = NULL, *data = NULL, *v;
    tfrs_dataset *all = NULL, *rest = NULL, *test = NULL;
    tfrs_model *m = NULL;
    cli_columns cols;
    cli_split split = { 42, 0.0 };
    uint64_t batch = 4096;
    tfrs_metrics met;
    char delim = '\0';
    int json = 0, rc = CLI_FAIL, r, st;

    cli_prog = "tfrsc eval";
    memset(&cols, 0, sizeof(cols));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            model_path = v;
        } else if ((r = cli_opt(argc, argv, &i, "--data", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            data = v;
        } else if ((r = cli_opt(argc, argv, &i, "--delimiter", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (strcmp(v, "\\t") == 0 || strcmp(v, "tab") == 0)
                v = "\t";
            if (strlen(v) != 1)
                return cli_usage_error("--delimiter: '%s' is not one character", v);
            delim = v[0];
        } else if ((r = cli_opt(argc, argv, &i, "--test-fraction", &v)) != 0) {
            if (r < 0 || cli_parse_real("--test-fraction", v, 0.0, 0.99,
                                        &split.test_fraction) < 0)
                return CLI_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--split-seed", &v)) != 0) {
            if (r < 0 || cli_parse_count("--split-seed", v, 0, UINT64_MAX, &split.split_seed) < 0)
                return CLI_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--batch-size", &v)) != 0) {
            if (r < 0 || cli_parse_count("--batch-size", v, 1, UINT32_MAX, &batch) < 0)
                return CLI_USAGE;
        } else {
            return cli_usage_error("unknown argument '%s'", argv[i]);
        }
    }
    if (model_path == NULL)
        return cli_usage_error("--model is required");
    if (data == NULL && (data = getenv("TFRSC_DATA")) == NULL)
        return cli_usage_error("--data is required (or set TFRSC_DATA)");

    if (cli_load_model(&m, model_path) != CLI_OK || cli_columns_from_model(&cols, m) != CLI_OK ||
        cli_load_data(&all, data, &cols, delim) != CLI_OK)
        goto out;
    if (split.test_fraction > 0.0 && cli_split_data(all, &split, &rest, &test) != CLI_OK)
        goto out;
    if ((st = tfrs_model_evaluate(m, test != NULL ? test : all, (size_t)batch, &met)) != TFRS_OK) {
        cli_lib_error(data, st);
        goto out;
    }
    cli_print_metrics(stdout, &met, "", json);
    rc = CLI_OK;
out:
    cli_columns_free(&cols);
    tfrs_model_free(m);
    tfrs_dataset_free(test);
    tfrs_dataset_free(rest);
    tfrs_dataset_free(all);
    return rc;
}
