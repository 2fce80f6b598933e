/*
 * ranking.h - the ranking task: losses and metrics (private part).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_RANKING_H
#define TFRS_RANKING_H

#include "util/common.h"

/* Loss of n examples divided by `denom` (the batch size; n for a whole
 * batch, more when the batch is processed in slices) and its gradient
 * dpred = d loss / d pred (may be NULL); weights may be NULL.  Summing the
 * slices' losses gives the batch's mean loss.  Inputs are not validated. */
void tfrs__task_loss(const tfrs_task_options *o, const float *pred, const float *labels,
                     const float *weights, size_t n, size_t denom, double *loss, float *dpred);
/* Validates options (returns a status and message). */
int  tfrs__task_options_check(const tfrs_task_options *o);

#endif /* TFRS_RANKING_H */
