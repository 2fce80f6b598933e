/*
 * train.c - tfrsc train: the tutorial model or a JSON configuration,
 * trained with a live progress display, checkpoints, SIGINT and resume.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Checkpoints hold the optimizer state, the step counter and the epochs
 * done.  A resumed run loads the checkpoint, skips the batches of the
 * interrupted epoch already trained (fit's exchange hook with one process,
 * which gives the same bits as a plain fit) and goes on, so that with the
 * same command line it ends with the same weights as an uninterrupted run.
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct train_args {
    const char *data, *config, *save, *checkpoint, *history, *plot;
    uint64_t    epochs, batch_size, threads, seed, checkpoint_every, patience;
    double      lr, validation_split, test_fraction;
    int         have_epochs, have_batch, have_threads, have_seed, have_lr, have_vsplit;
    int         have_patience, early_stopping, resume, quiet, verbose;
    uint64_t    split_seed;
    char        delimiter;
} train_args;

/* What the progress callback needs. */
typedef struct watch {
    cli_progress       show;
    tfrs_model        *model;
    const char        *checkpoint;
    uint64_t           every;
    int                saved;        /* a checkpoint was written            */
    int                failed;       /* saving one failed (reported)        */
} watch;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fputs("usage: tfrsc train --data DIR|FILE --save MODEL [options]\n"
          "\n"
          "Trains a ranking model and saves it.  Without --config: the TensorFlow\n"
          "Recommenders tutorial model (user_id and movie_title, 32-d embeddings,\n"
          "Dense 256-64-1, MSE, Adagrad 0.1, 3 epochs of 8192) on MovieLens.\n"
          "\n"
          "  --data DIR|FILE         MovieLens directory (u.data) or delimited file with a\n"
          "                          header line (default $TFRSC_DATA)\n"
          "  --config FILE           JSON model description (docs/configuration.md)\n"
          "  --save PATH             where the trained model goes (required)\n"
          "  --delimiter C           field separator of FILE (default ',', tab for .tsv)\n"
          "  --epochs N              epochs (tutorial 3; config: its training section)\n"
          "  --batch-size N          batch size (tutorial 8192)\n"
          "  --learning-rate X       optimizer learning rate (tutorial 0.1)\n"
          "  --threads N             training threads, 1 .. 256\n"
          "  --seed N                weights' and batch order's seed (tutorial 42)\n"
          "  --test-fraction F       rows held out as test set, evaluated at the end\n"
          "                          (default 0.2, the tutorial's 80/20 split)\n"
          "  --split-seed N          seed of the shuffle before the split (default 42)\n"
          "  --validation-split F    fraction of the training rows held out for validation\n"
          "  --early-stopping        stop when validation stops improving (needs F > 0)\n"
          "  --patience N            epochs without improvement before stopping\n"
          "  --checkpoint PATH       checkpoint file (default MODEL.ckpt)\n"
          "  --checkpoint-every N    save a checkpoint every N steps and each epoch\n"
          "  --resume                continue from the checkpoint (same options)\n"
          "  --history FILE.csv      per-epoch metrics\n"
          "  --plot FILE.svg         learning curves (SVG, or PNG for *.png)\n"
          "  --quiet                 no banner, one line per epoch\n"
          "  --verbose               more detail, one line per epoch\n"
          "  --help                  this text\n"
          "\n"
          "Exit status: 0 trained and saved, 1 failure, 2 usage error, 130 interrupted\n"
          "by SIGINT (a checkpoint was saved; continue with --resume).\n", f);
}

static int parse(int argc, char **argv, train_args *a)
{
    const char *v;
    int r;

    for (int i = 1; i < argc; i++) {
#define OPT(name) ((r = cli_opt(argc, argv, &i, name, &v)) < 0 ? -1 : r)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(CLI_OK);
        } else if (strcmp(argv[i], "--early-stopping") == 0) {
            a->early_stopping = 1;
        } else if (strcmp(argv[i], "--resume") == 0) {
            a->resume = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            a->verbose = 1;
        } else if ((r = OPT("--data")) != 0) {
            if (r < 0) return -1;
            a->data = v;
        } else if ((r = OPT("--config")) != 0) {
            if (r < 0) return -1;
            a->config = v;
        } else if ((r = OPT("--save")) != 0) {
            if (r < 0) return -1;
            a->save = v;
        } else if ((r = OPT("--checkpoint-every")) != 0) {
            if (r < 0 || cli_parse_count("--checkpoint-every", v, 1, UINT64_MAX,
                                         &a->checkpoint_every) < 0)
                return -1;
        } else if ((r = OPT("--checkpoint")) != 0) {
            if (r < 0) return -1;
            a->checkpoint = v;
        } else if ((r = OPT("--history")) != 0) {
            if (r < 0) return -1;
            a->history = v;
        } else if ((r = OPT("--plot")) != 0) {
            if (r < 0) return -1;
#ifndef TFRSC_HAVE_PLOT
            return cli_usage_error("--plot: this tfrsc was built without cairo (meson "
                                   "feature 'plots')"), -1;
#endif
            a->plot = v;
        } else if ((r = OPT("--delimiter")) != 0) {
            if (r < 0) return -1;
            if (strcmp(v, "\\t") == 0 || strcmp(v, "tab") == 0)
                v = "\t";
            if (strlen(v) != 1)
                return cli_usage_error("--delimiter: '%s' is not one character", v), -1;
            a->delimiter = v[0];
        } else if ((r = OPT("--epochs")) != 0) {
            if (r < 0 || cli_parse_count("--epochs", v, 1, 1000000, &a->epochs) < 0)
                return -1;
            a->have_epochs = 1;
        } else if ((r = OPT("--batch-size")) != 0) {
            if (r < 0 || cli_parse_count("--batch-size", v, 1, UINT32_MAX, &a->batch_size) < 0)
                return -1;
            a->have_batch = 1;
        } else if ((r = OPT("--threads")) != 0) {
            if (r < 0 || cli_parse_count("--threads", v, 1, 256, &a->threads) < 0)
                return -1;
            a->have_threads = 1;
        } else if ((r = OPT("--seed")) != 0) {
            if (r < 0 || cli_parse_count("--seed", v, 0, UINT64_MAX, &a->seed) < 0)
                return -1;
            a->have_seed = 1;
        } else if ((r = OPT("--split-seed")) != 0) {
            if (r < 0 || cli_parse_count("--split-seed", v, 0, UINT64_MAX, &a->split_seed) < 0)
                return -1;
        } else if ((r = OPT("--patience")) != 0) {
            if (r < 0 || cli_parse_count("--patience", v, 0, 1000000, &a->patience) < 0)
                return -1;
            a->have_patience = 1;
        } else if ((r = OPT("--learning-rate")) != 0) {
            if (r < 0 || cli_parse_real("--learning-rate", v, 1e-30, 3.4e38, &a->lr) < 0)
                return -1;
            a->have_lr = 1;
        } else if ((r = OPT("--validation-split")) != 0) {
            if (r < 0 || cli_parse_real("--validation-split", v, 0.0, 0.99,
                                        &a->validation_split) < 0)
                return -1;
            a->have_vsplit = 1;
        } else if ((r = OPT("--test-fraction")) != 0) {
            if (r < 0 || cli_parse_real("--test-fraction", v, 0.0, 0.99, &a->test_fraction) < 0)
                return -1;
        } else {
            return cli_usage_error("unknown argument '%s'", argv[i]), -1;
        }
#undef OPT
    }
    if (a->data == NULL && (a->data = getenv("TFRSC_DATA")) == NULL)
        return cli_usage_error("--data is required (or set TFRSC_DATA)"), -1;
    if (a->save == NULL)
        return cli_usage_error("--save is required"), -1;
    if (a->quiet && a->verbose)
        return cli_usage_error("--quiet and --verbose exclude each other"), -1;
    if ((a->early_stopping || a->have_patience) && a->have_vsplit && a->validation_split == 0)
        return cli_usage_error("--early-stopping needs --validation-split > 0"), -1;
    return 0;
}

/* ---- the model ------------------------------------------------------------ */

static int tutorial_model(tfrs_model **out, const tfrs_dataset *all, const train_args *a)
{
    tfrs_vocab *users = NULL, *titles = NULL;
    tfrs_optimizer_options oo;
    tfrs_model *m = NULL;
    const char *what = "tfrs_vocab_adapt_column";
    int st;

    *out = NULL;
    if ((st = tfrs_vocab_adapt_column(&users, all, "user_id", NULL)) != TFRS_OK ||
        (st = tfrs_vocab_adapt_column(&titles, all, "movie_title", NULL)) != TFRS_OK)
        goto fail;
    what = "building the tutorial model";
    if ((st = tfrs_model_create(&m, a->have_seed ? a->seed : 42)) != TFRS_OK ||
        (st = tfrs_model_add_feature(m, "user_id", users, 32)) != TFRS_OK ||
        (st = tfrs_model_add_feature(m, "movie_title", titles, 32)) != TFRS_OK ||
        (st = tfrs_model_add_dense(m, 256, TFRS_ACT_RELU, 0.0f)) != TFRS_OK ||
        (st = tfrs_model_add_dense(m, 64, TFRS_ACT_RELU, 0.0f)) != TFRS_OK ||
        (st = tfrs_model_add_dense(m, 1, TFRS_ACT_LINEAR, 0.0f)) != TFRS_OK ||
        (st = tfrs_optimizer_options_init(&oo, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                          TFRS_OPT_ADAGRAD)) != TFRS_OK)
        goto fail;
    oo.learning_rate = a->have_lr ? (float)a->lr : 0.1f;
    if ((st = tfrs_model_set_optimizer(m, &oo)) != TFRS_OK ||
        (st = tfrs_model_set_label(m, "user_rating", NULL)) != TFRS_OK ||
        (st = tfrs_model_build(m)) != TFRS_OK)
        goto fail;
    tfrs_vocab_free(users);
    tfrs_vocab_free(titles);
    *out = m;
    return CLI_OK;
fail:
    tfrs_vocab_free(users);
    tfrs_vocab_free(titles);
    tfrs_model_free(m);
    return cli_lib_error(what, st);
}

/* The configuration with --seed and --learning-rate written in. */
static char *override_config(const char *text, const train_args *a)
{
    cJSON *doc = cJSON_Parse(text), *opt;
    char *out = NULL;

    if (doc == NULL)
        return NULL;
    if (a->have_seed) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a->seed);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "seed");
        cJSON_AddStringToObject(doc, "seed", buf);
    }
    if (a->have_lr) {
        if ((opt = cJSON_GetObjectItemCaseSensitive(doc, "optimizer")) == NULL)
            opt = cJSON_AddObjectToObject(doc, "optimizer");
        cJSON_DeleteItemFromObjectCaseSensitive(opt, "learning_rate");
        cJSON_AddNumberToObject(opt, "learning_rate", a->lr);
    }
    out = cJSON_Print(doc);
    cJSON_Delete(doc);
    return out;
}

static int config_model(tfrs_model **out, const char *text, const tfrs_dataset *train,
                        const train_args *a)
{
    int st = tfrs_model_from_config(out, text, strlen(text), a->config, train);
    char *changed;

    if (st != TFRS_OK)
        return cli_lib_error("bad configuration", st);
    if (!a->have_seed && !a->have_lr)
        return CLI_OK;
    tfrs_model_free(*out);
    *out = NULL;
    if ((changed = override_config(text, a)) == NULL)
        return cli_error("%s: out of memory", a->config);
    st = tfrs_model_from_config(out, changed, strlen(changed), a->config, train);
    free(changed);
    return st != TFRS_OK ? cli_lib_error("bad configuration", st) : CLI_OK;
}

/* ---- training ------------------------------------------------------------- */

static int save_checkpoint(watch *w)
{
    int st = tfrs_model_save(w->model, w->checkpoint, TFRS_SAVE_OPTIMIZER);

    if (st != TFRS_OK) {
        cli_lib_error("checkpoint", st);
        w->failed = 1;
        return -1;
    }
    w->saved = 1;
    return 0;
}

static int on_progress(const tfrs_progress *pr, void *payload)
{
    watch *w = payload;
    /* Within the last batch's report the epoch is not counted yet: a
     * checkpoint or a stop waits for the end-of-epoch report. */
    int mid = !pr->end_of_epoch && pr->batch < pr->batches;

    cli_progress_show(&w->show, pr);
    if (interrupted && (mid || pr->end_of_epoch))
        return 1;
    if (w->every > 0 && (pr->end_of_epoch || mid)) {
        uint64_t steps = 0;
        tfrs_model_training_state(w->model, &steps, NULL);
        if ((pr->end_of_epoch || steps % w->every == 0) && save_checkpoint(w) < 0)
            return 1;
    }
    return 0;
}

static int no_exchange(tfrs_exchange_grads *grads, void *payload)
{
    (void)grads;
    (void)payload;
    return TFRS_OK;
}

/* Fits what is left of fit->epochs, after the epochs and steps the model
 * already holds (a resumed checkpoint). */
static int fit_rest(tfrs_model *m, const tfrs_dataset *train, tfrs_fit_options *fit, watch *w)
{
    size_t n = tfrs_dataset_num_rows(train);
    size_t bs = fit->batch_size < n ? fit->batch_size : n;
    size_t batches = (n + bs - 1) / bs;
    uint64_t steps = 0, done = 0, skip;
    tfrs_fit_options o = *fit;
    int st;

    tfrs_model_training_state(m, &steps, &done);
    skip = steps - done * (uint64_t)batches;
    if (steps < done * (uint64_t)batches || skip >= batches) {
        w->failed = 1;          /* reported here: the caller adds nothing */
        return cli_error("%s: %llu steps over %llu epochs do not fit epochs of %zu batches "
                         "(trained with other data or another batch size?)", w->checkpoint,
                         (unsigned long long)steps, (unsigned long long)done, batches);
    }
    if ((uint64_t)fit->epochs <= done)
        return TFRS_OK;
    w->show.epoch_offset = (int)done;
    o.epochs = fit->epochs - (int)done;
    if (skip > 0) {
        /* The rest of the interrupted epoch: one process's exchange. */
        tfrs_exchange ex;
        tfrs_fit_options first = o;

        memset(&ex, 0, sizeof(ex));
        ex.version = TFRS_EXCHANGE_VERSION;
        ex.exchange = no_exchange;
        ex.global_rows = n;
        ex.skip_batches = (size_t)skip;
        first.epochs = 1;
        first.exchange = &ex;
        first.validation = NULL;
        first.early_stopping = 0;
        first.restore_best_weights = 0;
        if ((st = tfrs_model_fit(m, train, &first, NULL)) != TFRS_OK)
            return st;
        if (--o.epochs == 0)
            return TFRS_OK;
        w->show.epoch_offset++;
    }
    return tfrs_model_fit(m, train, &o, NULL);
}

static int fit_options(tfrs_fit_options *fit, double *vfrac, const char *text,
                       const train_args *a)
{
    int st;

    *vfrac = 0.0;
    if (text != NULL) {
        if ((st = tfrs_config_fit_options(text, strlen(text), a->config, fit, vfrac)) != TFRS_OK)
            return cli_lib_error("bad configuration", st);
    } else {
        tfrs_fit_options_init(fit, TFRS_FIT_OPTIONS_VERSION);
        fit->epochs = 3;
        fit->batch_size = 8192;
        fit->shuffle_seed = a->have_seed ? a->seed : 42;
    }
    if (a->have_epochs)
        fit->epochs = (int)a->epochs;
    if (a->have_batch)
        fit->batch_size = (size_t)a->batch_size;
    if (a->have_threads)
        fit->threads = (int)a->threads;
    if (a->have_seed)
        fit->shuffle_seed = a->seed;
    if (a->have_vsplit)
        *vfrac = a->validation_split;
    if (a->early_stopping)
        fit->early_stopping = 1;
    if (a->have_patience)
        fit->patience = (int)a->patience;
    if (fit->early_stopping && *vfrac <= 0.0)
        return cli_usage_error("--early-stopping needs --validation-split > 0");
    return CLI_OK;
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    tfrs_dataset *all = NULL, *rest = NULL, *test = NULL, *train = NULL, *valid = NULL;
    tfrs_model *m = NULL;
    cli_columns cols;
    cli_split split;
    tfrs_fit_options fit;
    struct sigaction sa, old_sa;
    char ckpt_buf[4096], *text = NULL;
    double vfrac;
    watch w;
    cli_curves curves;
    int rc = CLI_FAIL, st;

    memset(&curves, 0, sizeof(curves));
    memset(&a, 0, sizeof(a));
    memset(&cols, 0, sizeof(cols));
    memset(&w, 0, sizeof(w));
    a.split_seed = 42;
    a.test_fraction = 0.2;
    cli_prog = "tfrsc train";
    if (parse(argc, argv, &a) < 0)
        return CLI_USAGE;
    if (a.checkpoint == NULL) {
        if ((size_t)snprintf(ckpt_buf, sizeof(ckpt_buf), "%s.ckpt", a.save) >= sizeof(ckpt_buf))
            return cli_usage_error("--save: path too long");
        a.checkpoint = ckpt_buf;
    }
    if (a.config != NULL && (text = cli_read_file(a.config, NULL)) == NULL)
        return CLI_FAIL;
    if ((rc = fit_options(&fit, &vfrac, text, &a)) != CLI_OK)
        goto out;
    rc = CLI_FAIL;

    /* Model first when resuming: its description names the columns. */
    if (a.resume) {
        if (access(a.checkpoint, F_OK) != 0) {
            cli_error("%s: no checkpoint to resume from", a.checkpoint);
            goto out;
        }
        if (cli_load_model(&m, a.checkpoint) != CLI_OK ||
            cli_columns_from_model(&cols, m) != CLI_OK)
            goto out;
    } else if (text != NULL && cli_columns_from_config(&cols, text, a.config) != CLI_OK) {
        goto out;
    }
    if (cli_load_data(&all, a.data, text != NULL || a.resume ? &cols : NULL,
                      a.delimiter) != CLI_OK)
        goto out;
    split.split_seed = a.split_seed;
    split.test_fraction = a.test_fraction;
    if (cli_split_data(all, &split, &rest, &test) != CLI_OK)
        goto out;
    {
        size_t n = tfrs_dataset_num_rows(rest), nv = (size_t)(vfrac * (double)n);
        if (vfrac > 0.0 && nv == 0)
            nv = 1;
        if (nv >= n) {
            cli_error("a validation split of %g leaves no training rows", vfrac);
            goto out;
        }
        if ((st = tfrs_dataset_slice(&train, rest, 0, n - nv)) != TFRS_OK ||
            (nv > 0 && (st = tfrs_dataset_slice(&valid, rest, n - nv, nv)) != TFRS_OK)) {
            cli_lib_error("splitting the data", st);
            goto out;
        }
        fit.validation = valid;
    }
    if (m == NULL && (text != NULL ? config_model(&m, text, train, &a)
                                   : tutorial_model(&m, all, &a)) != CLI_OK)
        goto out;
    if (!a.quiet) {
        printf("libtfrsc %s: %zu rows from %s: %zu train, %zu validation, %zu test\n",
               tfrs_version_string(), tfrs_dataset_num_rows(all), a.data,
               tfrs_dataset_num_rows(train), tfrs_dataset_num_rows(valid),
               tfrs_dataset_num_rows(test));
        printf("model: %s, %zu parameters%s\n", a.config != NULL ? a.config : "tutorial",
               tfrs_model_num_parameters(m), a.resume ? ", resumed from checkpoint" : "");
        if (a.verbose)
            printf("fit: %d epochs, batch size %zu, %d threads, shuffle seed %llu\n",
                   fit.epochs, fit.batch_size, fit.threads,
                   (unsigned long long)fit.shuffle_seed);
        fflush(stdout);
    }

    cli_progress_init(&w.show, isatty(STDOUT_FILENO) && !a.quiet && !a.verbose
                                   ? CLI_DISPLAY_BAR : CLI_DISPLAY_LINES, stdout);
    w.show.epochs_total = fit.epochs;
    if (a.history != NULL && (w.show.history = fopen(a.history, a.resume ? "a" : "w")) == NULL) {
        cli_error("%s: cannot open: %s", a.history, strerror(errno));
        goto out;
    }
    w.show.history_header = a.resume;
    if (a.plot != NULL)
        w.show.curves = &curves;
    w.model = m;
    w.checkpoint = a.checkpoint;
    w.every = a.checkpoint_every;
    fit.progress = on_progress;
    fit.payload = &w;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_sa);
    st = fit_rest(m, train, &fit, &w);
    sigaction(SIGINT, &old_sa, NULL);

    if (st == TFRS_ECANCELED && interrupted) {
        if (w.show.display == CLI_DISPLAY_BAR)
            putchar('\n');
        fflush(stdout);
        w.failed = 0;
        if (save_checkpoint(&w) < 0)
            goto out;
        cli_error("interrupted: checkpoint saved to %s; continue with --resume", a.checkpoint);
        rc = CLI_INTERRUPTED;
        goto out;
    }
    if (st != TFRS_OK) {
        if (!w.failed)
            cli_lib_error("training failed", st);
        if (w.saved)
            cli_error("the last checkpoint is %s", a.checkpoint);
        goto out;
    }
    if (test != NULL) {
        tfrs_metrics tm;
        if ((st = tfrs_model_evaluate(m, test, 4096, &tm)) != TFRS_OK) {
            cli_lib_error("evaluating the test rows", st);
            goto out;
        }
        if (!a.quiet || a.verbose)
            cli_print_metrics(stdout, &tm, "test_", 0);
    }
    if ((st = tfrs_model_save(m, a.save, 0)) != TFRS_OK) {
        cli_lib_error("cannot save the model", st);
        goto out;
    }
#ifdef TFRSC_HAVE_PLOT
    if (a.plot != NULL) {
        if (w.show.curves_failed) {
            cli_error("%s: out of memory for the curves", a.plot);
            goto out;
        }
        if (cli_plot(&curves, a.plot) != CLI_OK)
            goto out;
        if (!a.quiet)
            printf("plotted %s\n", a.plot);
    }
#endif
    if (w.saved || a.resume)
        remove(a.checkpoint);          /* done: nothing left to resume */
    if (!a.quiet)
        printf("saved %s\n", a.save);
    rc = CLI_OK;
out:
    cli_curves_free(&curves);
    if (w.show.history != NULL)
        fclose(w.show.history);
    cli_columns_free(&cols);
    tfrs_model_free(m);
    tfrs_dataset_free(valid);
    tfrs_dataset_free(train);
    tfrs_dataset_free(test);
    tfrs_dataset_free(rest);
    tfrs_dataset_free(all);
    free(text);
    return rc;
}
