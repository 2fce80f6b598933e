/*
 * optimizer.h - SGD, Adagrad and Adam over the parameter table.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Dense entries of the table (emb == NULL) update all their values; sparse
 * entries update only their embedding's touched rows.  The slots live in
 * the table's entries; the optimizer keeps the options, the step count and
 * the backup that makes a step all-or-nothing.
 */
#ifndef TFRS_OPTIMIZER_H
#define TFRS_OPTIMIZER_H

#include "util/common.h"
#include "param.h"

/* The largest step count: steps stop there (2^64 - 2), and a model file
 * with a larger one is refused, since 2^64 - 1 would wrap to 0 on the next
 * step and make Adam's bias correction divide 0 by 0. */
#define TFRS__STEPS_MAX (UINT64_MAX - 1)

typedef struct tfrs__optimizer {
    tfrs_optimizer_options o;
    uint64_t               steps;   /* updates applied                      */
    float                 *backup;  /* old values of the rows being updated */
    size_t                 backup_cap;
} tfrs__optimizer;

int  tfrs__optimizer_options_check(const tfrs_optimizer_options *o);
/* Reads caller options of any known version into *out (the fields of later
 * versions take their defaults) and checks them: TFRS_EINVAL on an unknown
 * version or a bad setting. */
int  tfrs__optimizer_options_read(const tfrs_optimizer_options *in,
                                  tfrs_optimizer_options *out);
/* The learning rate of the update after `step` updates (the schedule of o,
 * which must have passed the checks). */
float tfrs__optimizer_lr(const tfrs_optimizer_options *o, uint64_t step);
/* Global-norm clipping of the table's gradients (dense entries whole,
 * sparse entries their touched rows), a no-op when global_clipnorm is 0.
 * TFRS_ENONFINITE if the norm is not finite (nothing changed). */
int  tfrs__optimizer_clip(const tfrs__optimizer *opt, tfrs__params *tab);
/* Allocates and initialises the slots of every entry of t for o->kind, all
 * or nothing: on failure the entries keep their previous slots.  Resets the
 * step count. */
int  tfrs__optimizer_init_slots(tfrs__optimizer *opt, tfrs__params *t);
/* Frees the backup and resets the step count (the slots belong to t). */
void tfrs__optimizer_free(tfrs__optimizer *opt);
/* Number of slot arrays per entry for a kind (0, 1 or 2). */
int  tfrs__optimizer_num_slots(tfrs_optimizer_kind kind);
/* Name of slot s (< num_slots) in the model file: "accumulator",
 * "velocity", "m" or "v". */
const char *tfrs__optimizer_slot_name(tfrs_optimizer_kind kind, int s);
/* Makes room so that steps touching up to batch_rows rows of each
 * embedding do not allocate. */
int  tfrs__optimizer_reserve(tfrs__optimizer *opt, const tfrs__params *t, size_t batch_rows);
/* Applies one update from the gradients.  If any updated value (weight or
 * slot) would be non-finite, changes nothing and returns TFRS_ENONFINITE. */
int  tfrs__optimizer_step(tfrs__optimizer *opt, tfrs__params *t);

#endif /* TFRS_OPTIMIZER_H */
