/*
 * step.h - the training step engine.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_STEP_H
#define TFRS_STEP_H

#include "util/common.h"

/* Rows per slice of a training batch: each slice goes through forward and
 * backward while its activations are still in cache; the gradients of the
 * slices add up to the batch's gradient. */
#ifndef TFRS__SLICE
#define TFRS__SLICE 256
#endif

/* Runs training steps of a built model with `threads` threads (see step.c).
 * The stepper borrows the model and must be freed before it. */
typedef struct tfrs__stepper tfrs__stepper;
#define TFRS__MAX_THREADS 256
int  tfrs__stepper_create(tfrs__stepper **out, tfrs_model *m, int threads);
void tfrs__stepper_free(tfrs__stepper *s);
/* One optimizer step on B rows of checked ids.  *scores_out gets the B
 * scores of the forward pass (valid until the next run). */
int  tfrs__stepper_run(tfrs__stepper *s, const int32_t *ids, const float *labels,
                       const float *weights, size_t B, double *loss, const float **scores_out);

#endif /* TFRS_STEP_H */
