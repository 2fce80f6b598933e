/*
 * plot.c - tfrsc train --plot: the learning curves drawn with cairo, as SVG
 * (or PNG for a name ending in .png).  Two panels, loss and RMSE (or MAE,
 * or AUC: the task's first metric) against epochs, training solid and
 * validation dashed, with axes, ticks, grid and a legend.  Built only when
 * cairo is found (meson feature 'plots'); without it --plot is refused.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>

#include "cli.h"

#define WIDTH   960.0
#define HEIGHT  440.0
#define MARGIN_L 70.0
#define MARGIN_R 20.0
#define MARGIN_T 40.0
#define MARGIN_B 55.0

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10.0, floor(log10(raw))), f = raw / p;

    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * p;
}

typedef struct panel {
    double x0, y0, w, h;          /* the plot area in device units        */
    double xmin, xmax, ymin, ymax;
} panel;

static double px(const panel *p, double x)
{
    return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * p->w;
}

static double py(const panel *p, double y)
{
    return p->y0 + p->h - (y - p->ymin) / (p->ymax - p->ymin) * p->h;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_text_extents_t e;

    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - ax * e.width - e.x_bearing, y - ay * e.height - e.y_bearing);
    cairo_show_text(cr, s);
}

static void series(cairo_t *cr, const panel *p, const cli_curves *c, const double *v,
                   int dashed, double r, double g, double b)
{
    static const double dash[] = { 7.0, 4.0 };

    cairo_set_source_rgb(cr, r, g, b);
    cairo_set_line_width(cr, 2.0);
    cairo_set_dash(cr, dash, dashed ? 2 : 0, 0.0);
    for (int i = 0; i < c->n; i++) {
        double x = px(p, c->epoch[i]), y = py(p, v[i]);
        if (i == 0)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0.0);
    for (int i = 0; i < c->n; i++) {
        cairo_arc(cr, px(p, c->epoch[i]), py(p, v[i]), 3.0, 0.0, 6.283185307179586);
        cairo_fill(cr);
    }
}

/* One panel: frame, grid, ticks, labels, the training and (if any)
 * validation series, a legend. */
static void draw_panel(cairo_t *cr, panel *p, const cli_curves *c, const double *train,
                       const double *valid, const char *title)
{
    double lo = INFINITY, hi = -INFINITY, step;
    char buf[32];

    for (int i = 0; i < c->n; i++) {
        lo = fmin(lo, train[i]);
        hi = fmax(hi, train[i]);
        if (valid != NULL) {
            lo = fmin(lo, valid[i]);
            hi = fmax(hi, valid[i]);
        }
    }
    if (!(hi > lo))
        hi = lo + (lo != 0.0 ? fabs(lo) * 0.1 : 1.0);
    step = nice_step(hi - lo, 5);
    p->ymin = floor(lo / step) * step;
    p->ymax = ceil(hi / step) * step;
    p->xmin = c->epoch[0];
    p->xmax = c->epoch[c->n - 1] > p->xmin ? c->epoch[c->n - 1] : p->xmin + 1.0;

    cairo_set_font_size(cr, 12.0);
    cairo_set_line_width(cr, 1.0);
    /* grid and y ticks */
    for (double y = p->ymin; y <= p->ymax + step * 0.5; y += step) {
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, p->x0, py(p, y));
        cairo_line_to(cr, p->x0 + p->w, py(p, y));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        cairo_move_to(cr, p->x0 - 5.0, py(p, y));
        cairo_line_to(cr, p->x0, py(p, y));
        cairo_stroke(cr);
        snprintf(buf, sizeof(buf), "%.*f", step >= 1.0 ? 0 : (int)ceil(-log10(step)), y);
        text_at(cr, p->x0 - 8.0, py(p, y), buf, 1.0, 0.5);
    }
    /* x ticks: whole epochs */
    step = fmax(1.0, nice_step(p->xmax - p->xmin, 8));
    for (double x = ceil(p->xmin); x <= p->xmax + 1e-9; x += step) {
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        cairo_move_to(cr, px(p, x), p->y0 + p->h);
        cairo_line_to(cr, px(p, x), p->y0 + p->h + 5.0);
        cairo_stroke(cr);
        snprintf(buf, sizeof(buf), "%.0f", x);
        text_at(cr, px(p, x), p->y0 + p->h + 9.0, buf, 0.5, 0.0);
    }
    cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
    cairo_stroke(cr);
    text_at(cr, p->x0 + p->w / 2.0, p->y0 + p->h + 30.0, "epoch", 0.5, 0.0);
    cairo_set_font_size(cr, 15.0);
    text_at(cr, p->x0 + p->w / 2.0, p->y0 - 12.0, title, 0.5, 1.0);

    series(cr, p, c, train, 0, 0.12, 0.38, 0.73);
    if (valid != NULL)
        series(cr, p, c, valid, 1, 0.85, 0.37, 0.05);

    /* legend, top right */
    cairo_set_font_size(cr, 12.0);
    {
        double lx = p->x0 + p->w - 120.0, ly = p->y0 + 10.0, rows = valid != NULL ? 2 : 1;
        static const double dash[] = { 7.0, 4.0 };
        cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
        cairo_rectangle(cr, lx, ly, 110.0, 10.0 + 18.0 * rows);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_set_line_width(cr, 1.0);
        cairo_stroke(cr);
        for (int k = 0; k < rows; k++) {
            double y = ly + 14.0 + 18.0 * k;
            if (k == 0)
                cairo_set_source_rgb(cr, 0.12, 0.38, 0.73);
            else
                cairo_set_source_rgb(cr, 0.85, 0.37, 0.05);
            cairo_set_line_width(cr, 2.0);
            cairo_set_dash(cr, dash, k == 0 ? 0 : 2, 0.0);
            cairo_move_to(cr, lx + 8.0, y);
            cairo_line_to(cr, lx + 36.0, y);
            cairo_stroke(cr);
            cairo_set_dash(cr, dash, 0, 0.0);
            cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
            text_at(cr, lx + 42.0, y, k == 0 ? "training" : "validation", 0.0, 0.5);
        }
    }
}

int cli_plot(const cli_curves *c, const char *path)
{
    size_t len = strlen(path);
    int png = len > 4 && strcmp(path + len - 4, ".png") == 0;
    cairo_surface_t *s;
    cairo_t *cr;
    cairo_status_t st;
    panel left, right;
    const char *metric = c->metric_name;

    if (c->n < 1)
        return cli_error("%s: no epoch to plot", path), CLI_FAIL;
    s = png ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)WIDTH, (int)HEIGHT)
            : cairo_svg_surface_create(path, WIDTH, HEIGHT);
    cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    left.x0 = MARGIN_L;
    left.y0 = MARGIN_T;
    left.w = WIDTH / 2.0 - MARGIN_L - MARGIN_R;
    left.h = HEIGHT - MARGIN_T - MARGIN_B;
    right = left;
    right.x0 = WIDTH / 2.0 + MARGIN_L;
    draw_panel(cr, &left, c, c->loss, c->has_validation ? c->val_loss : NULL, "loss");
    if (metric != NULL)
        draw_panel(cr, &right, c, c->metric, c->has_validation ? c->val_metric : NULL, metric);
    cairo_destroy(cr);
    if (png)
        st = cairo_surface_write_to_png(s, path);
    else {
        cairo_surface_finish(s);
        st = cairo_surface_status(s);
    }
    cairo_surface_destroy(s);
    /* Give back the font caches that cairo and fontconfig keep for the
     * process: tfrsc draws once, and leak checkers then see nothing held. */
    cairo_debug_reset_static_data();
    FcFini();
    if (st != CAIRO_STATUS_SUCCESS)
        return cli_error("%s: cannot write the plot: %s", path, cairo_status_to_string(st)),
               CLI_FAIL;
    return CLI_OK;
}
