/*
 * step.h - the training step engine: slices, worker threads, reduction.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_STEP_H
#define TFRS_STEP_H

#include "util/common.h"
#include "graph.h"
#include "optimizer.h"

/* Rows per slice of a training batch: each slice goes through forward and
 * backward while its activations are still in cache; the gradients of the
 * slices add up to the batch's gradient. */
#ifndef TFRS__SLICE
#define TFRS__SLICE 256
#endif

#define TFRS__MAX_THREADS 256

/* Runs training steps of a built graph with `threads` threads (see
 * step.c).  The stepper borrows the graph, which must stay built (and its
 * parameter table unchanged) until the stepper is freed. */
typedef struct tfrs__stepper tfrs__stepper;

int  tfrs__stepper_create(tfrs__stepper **out, tfrs__graph *g, int threads);
void tfrs__stepper_free(tfrs__stepper *s);   /* NULL is a no-op */
/* *reg (may be NULL) gets the batch's embedding L2 (tfrs__graph_input_l2),
 * which is in the gradient but not in *loss.
 * One optimizer step on B rows of checked keys (ids [B, F], side tables
 * in: see graph.h), with the loss of `task`:
 * forward, loss, backward, reduction, L2 and the update of opt.  *loss gets
 * the batch's mean loss and *scores_out (may be NULL) the B scores of the
 * forward pass (valid until the next run).  `scale` divides the loss sums:
 * B alone, the global batch's size with an exchange (B may then be 0).  On
 * failure (TFRS_ENONFINITE, TFRS_ENOMEM) no parameter has changed. */
int  tfrs__stepper_run(tfrs__stepper *s, tfrs__optimizer *opt, const tfrs_task_options *task,
                       const int32_t *ids, const tfrs__input *in, const float *labels,
                       const float *weights, size_t B, size_t scale, double *loss,
                       double *reg, const float **scores_out);
/* The distinct rows the last run computed the first layer for, summed over
 * the features it factored (factor.h); 0 if it factored none. */
size_t tfrs__stepper_factored_rows(const tfrs__stepper *s);
/* Data-parallel training: the following runs hand their gradients and
 * sums to ex before the update (exchange.h); ex NULL returns to one
 * process.  The runs' loss and regularization are then the exchanged
 * totals, and tfrs__stepper_sums the last run's exchanged sums
 * (TFRS_NUM_SUMS).  TFRS_ENOMEM (the exchange's buffers). */
int  tfrs__stepper_exchange(tfrs__stepper *s, const tfrs_exchange *ex);
const double *tfrs__stepper_sums(const tfrs__stepper *s);

#endif /* TFRS_STEP_H */
