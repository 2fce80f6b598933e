/*
 * main.c - tfrsc(1): the command-line front end of libtfrsc.  Dispatches
 * to the subcommands (train, eval, predict, rank, inspect).
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} commands[] = {
    { "train",   cmd_train,   "train a model on MovieLens or a delimited file, and save it" },
    { "eval",    cmd_eval,    "evaluate a saved model on data: loss and metrics" },
    { "predict", cmd_predict, "score the examples of a TSV/CSV file read from stdin" },
    { "rank",    cmd_rank,    "the top candidates for one user" },
    { "inspect", cmd_inspect, "architecture, parameters and vocabularies of a model file" },
};

static void usage(FILE *f)
{
    fputs("usage: tfrsc COMMAND [options]\n"
          "       tfrsc --version | --help\n"
          "\n"
          "Commands:\n", f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].what);
    fputs("\n'tfrsc COMMAND --help' describes a command; tfrsc(1) and docs/cli.md have more.\n"
          "Exit status: 0 success, 1 failure, 2 usage error, 130 training interrupted.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("tfrsc %s (libtfrsc %s)\n", TFRS_VERSION_STRING, tfrs_version_string());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return cli_usage_error("unknown command '%s'", argv[1]);
}
