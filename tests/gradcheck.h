/*
 * gradcheck.h - central differences of a model's training objective against
 * the gradients in its parameter table, for the white-box tests
 * (test-features, test-factor).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRSC_GRADCHECK_H
#define TFRSC_GRADCHECK_H

#include <check.h>
#include <math.h>

#include "model.h"
#include "param.h"

/* For every parameter value w (in entries of more than 200 values, every
 * `stride`-th), checks the gradient the table holds (left by one fit step
 * at a learning rate too small to move a float) against the central
 * difference (L(w + h) - L(w - h)) / 2h of evaluate's total loss over ds in
 * one pass: relative error below 5e-3 (over at least 1e-2).  Adds to
 * *checked the values checked and to *nonzero those with a gradient. */
static inline void gc_check(tfrs_model *m, const tfrs_dataset *ds, float h, size_t stride,
                            size_t *checked, size_t *nonzero)
{
    const tfrs__params *t = tfrs__model_params(m);
    tfrs_metrics met;

    for (size_t k = 0; k < t->n; k++) {
        const tfrs__param *p = &t->p[k];
        size_t step = p->n > 200 ? stride : 1;
        for (size_t i = 0; i < p->n; i += step) {
            float w0 = p->w[i];
            double lp, lm, fd, an = p->g[i], err;
            p->w[i] = w0 + h;
            ck_assert_int_eq(tfrs_model_evaluate(m, ds, 0, &met), TFRS_OK);
            lp = met.total_loss;
            p->w[i] = w0 - h;
            ck_assert_int_eq(tfrs_model_evaluate(m, ds, 0, &met), TFRS_OK);
            lm = met.total_loss;
            p->w[i] = w0;
            fd = (lp - lm) / (2.0 * h);
            err = fabs(fd - an) / fmax(1e-2, fabs(fd) + fabs(an));
            ck_assert_msg(err < 5e-3, "%s[%zu]: finite difference %g, gradient %g", p->name, i,
                          fd, an);
            (*checked)++;
            *nonzero += an != 0.0;
        }
    }
}

#endif
