/*
 * progress.c - tfrsc train's epoch display: a Keras-style bar redrawn in
 * place with '\r' on a terminal, one line per epoch otherwise, and the
 * per-epoch history CSV.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BAR_WIDTH   30
#define REDRAW_SECS 0.05   /* at most 20 redraws a second */

void cli_progress_init(cli_progress *p, cli_display d, FILE *out)
{
    memset(p, 0, sizeof(*p));
    p->display = d;
    p->out = out;
    p->last_draw = -1.0;
}

/* "1m05s", "4.2s", "380ms" */
static void format_secs(char *buf, size_t size, double s)
{
    if (s < 1.0)
        snprintf(buf, size, "%.0fms", s * 1000.0);
    else if (s < 60.0)
        snprintf(buf, size, "%.1fs", s);
    else if (s < 3600.0)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60.0), (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600.0), ((int)s / 60) % 60);
}

static void print_values(FILE *f, const tfrs_metrics *m, const char *prefix)
{
    fprintf(f, " - %sloss: %.4f", prefix, m->loss);
    if (m->regularization_loss != 0.0)
        fprintf(f, " - %stotal_loss: %.4f", prefix, m->total_loss);
    if (m->metrics & TFRS_METRIC_RMSE)
        fprintf(f, " - %srmse: %.4f", prefix, m->rmse);
    if (m->metrics & TFRS_METRIC_MAE)
        fprintf(f, " - %smae: %.4f", prefix, m->mae);
    if (m->metrics & TFRS_METRIC_AUC)
        fprintf(f, " - %sauc: %.4f", prefix, m->auc);
}

static void draw_bar(cli_progress *p, const tfrs_progress *pr, int epoch)
{
    size_t done = pr->batch < pr->batches ? pr->batch : pr->batches;
    size_t fill = pr->batches > 0 ? done * BAR_WIDTH / pr->batches : BAR_WIDTH;
    char bar[BAR_WIDTH + 1], t1[24], t2[24];

    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : '.';
    if (fill > 0 && fill < BAR_WIDTH)
        bar[fill - 1] = '=';
    bar[BAR_WIDTH] = '\0';
    if (p->shown_epoch != epoch) {
        fprintf(p->out, "Epoch %d/%d\n", epoch, p->epochs_total);
        p->shown_epoch = epoch;
    }
    format_secs(t1, sizeof(t1), pr->seconds);
    if (pr->end_of_epoch) {
        format_secs(t2, sizeof(t2), pr->batches > 0 ? pr->seconds / (double)pr->batches : 0.0);
        fprintf(p->out, "\r%zu/%zu [%s] - %s %s/step", pr->batches, pr->batches, bar, t1, t2);
    } else {
        double left = done > 0 ? pr->seconds / (double)done * (double)(pr->batches - done) : 0;
        format_secs(t2, sizeof(t2), left);
        fprintf(p->out, "\r%zu/%zu [%s] - %s - ETA: %s", done, pr->batches, bar, t1, t2);
    }
    print_values(p->out, &pr->metrics, "");
    if (pr->end_of_epoch) {
        if (pr->has_validation)
            print_values(p->out, &pr->validation, "val_");
        fputs(pr->stopping ? " - early stop\n" : "\n", p->out);
    } else {
        fputs("\033[K", p->out);   /* clear what a longer line left */
    }
    fflush(p->out);
}

static void draw_line(cli_progress *p, const tfrs_progress *pr, int epoch)
{
    char t[24];

    format_secs(t, sizeof(t), pr->seconds);
    fprintf(p->out, "epoch %d/%d - %zu/%zu steps - %s", epoch, p->epochs_total, pr->batches,
            pr->batches, t);
    print_values(p->out, &pr->metrics, "");
    if (pr->has_validation)
        print_values(p->out, &pr->validation, "val_");
    fputs(pr->stopping ? " - early stop\n" : "\n", p->out);
    fflush(p->out);
}

static void csv_value(FILE *f, int valid, double v)
{
    char buf[40];

    if (valid) {
        cli_format_double(buf, sizeof(buf), v);
        fprintf(f, ",%s", buf);
    } else {
        fputc(',', f);
    }
}

static void csv_metrics(FILE *f, int valid, const tfrs_metrics *m)
{
    csv_value(f, valid, m->loss);
    csv_value(f, valid, m->regularization_loss);
    csv_value(f, valid, m->total_loss);
    csv_value(f, valid && (m->metrics & TFRS_METRIC_RMSE), m->rmse);
    csv_value(f, valid && (m->metrics & TFRS_METRIC_MAE), m->mae);
    csv_value(f, valid && (m->metrics & TFRS_METRIC_AUC), m->auc);
}

static void write_history(cli_progress *p, const tfrs_progress *pr, int epoch)
{
    char t[40];

    if (!p->history_header) {
        fputs("epoch,seconds,loss,regularization_loss,total_loss,rmse,mae,auc,"
              "val_loss,val_regularization_loss,val_total_loss,val_rmse,val_mae,val_auc\n",
              p->history);
        p->history_header = 1;
    }
    cli_format_double(t, sizeof(t), pr->seconds);
    fprintf(p->history, "%d,%s", epoch, t);
    csv_metrics(p->history, 1, &pr->metrics);
    csv_metrics(p->history, pr->has_validation, &pr->validation);
    fputc('\n', p->history);
    fflush(p->history);
}

int cli_curves_add(cli_curves *c, const tfrs_progress *pr, int epoch)
{
    const tfrs_metrics *m = &pr->metrics, *v = &pr->validation;

    if (c->n == c->cap) {
        int cap = c->cap == 0 ? 16 : c->cap * 2;
        double **arrays[] = { &c->epoch, &c->loss, &c->val_loss, &c->metric, &c->val_metric };
        for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
            double *q = realloc(*arrays[k], (size_t)cap * sizeof(double));
            if (q == NULL)
                return -1;
            *arrays[k] = q;
        }
        c->cap = cap;
    }
    /* The task's first metric, as the bar shows it. */
    c->metric_name = (m->metrics & TFRS_METRIC_RMSE)  ? "RMSE"
                     : (m->metrics & TFRS_METRIC_MAE) ? "MAE"
                     : (m->metrics & TFRS_METRIC_AUC) ? "AUC" : NULL;
    c->epoch[c->n] = epoch;
    c->loss[c->n] = m->loss;
    c->metric[c->n] = (m->metrics & TFRS_METRIC_RMSE)  ? m->rmse
                      : (m->metrics & TFRS_METRIC_MAE) ? m->mae : m->auc;
    c->val_loss[c->n] = v->loss;
    c->val_metric[c->n] = (m->metrics & TFRS_METRIC_RMSE)  ? v->rmse
                          : (m->metrics & TFRS_METRIC_MAE) ? v->mae : v->auc;
    c->has_validation = pr->has_validation;
    c->n++;
    return 0;
}

void cli_curves_free(cli_curves *c)
{
    free(c->epoch);
    free(c->loss);
    free(c->val_loss);
    free(c->metric);
    free(c->val_metric);
    memset(c, 0, sizeof(*c));
}

void cli_progress_show(cli_progress *p, const tfrs_progress *pr)
{
    int epoch = pr->epoch + p->epoch_offset;

    if (pr->end_of_epoch && p->history != NULL)
        write_history(p, pr, epoch);
    if (pr->end_of_epoch && p->curves != NULL && cli_curves_add(p->curves, pr, epoch) < 0)
        p->curves_failed = 1;
    if (p->out == NULL)
        return;
    if (p->display == CLI_DISPLAY_LINES) {
        if (pr->end_of_epoch)
            draw_line(p, pr, epoch);
        return;
    }
    if (!pr->end_of_epoch && p->shown_epoch == epoch && pr->batch != pr->batches &&
        pr->seconds - p->last_draw < REDRAW_SECS && pr->seconds >= p->last_draw)
        return;
    p->last_draw = pr->end_of_epoch ? -1.0 : pr->seconds;
    draw_bar(p, pr, epoch);
}
