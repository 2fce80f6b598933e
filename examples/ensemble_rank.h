/*
 * ensemble_rank.h - ranking items for one user by the mean score of several
 * models (movielens_recipe's ensemble), with item tables built from the rows
 * each model trained on.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef EXAMPLE_ENSEMBLE_RANK_H
#define EXAMPLE_ENSEMBLE_RANK_H

#include <stddef.h>

#include "tfrsc.h"

/* The candidates (every item of the training rows, once) and the running
 * sum of the members' scores for each. */
typedef struct ens_rank {
    tfrs_dataset *items;     /* one training row per item (first in order) */
    tfrs_dataset *query;     /* the user's latest training row             */
    const char   *item_col;  /* the candidate feature, e.g. "movie_id"     */
    size_t        n;         /* candidates                                 */
    const char  **ids;       /* [n] their ids (views into items)           */
    double       *sum;       /* [n] sum of the members' scores             */
    int           members;
    double        worst;     /* largest |rank - predict| seen (top items)  */
} ens_rank;

/* Picks the candidates and the query row of `user` from `train` (column
 * `user_col`, latest by the int64 column `time_col`).  TFRS_ENOTFOUND if
 * the user has no training row. */
int  ens_rank_init(ens_rank *r, const tfrs_dataset *train, const char *user_col,
                   const char *user, const char *time_col, const char *item_col);
/* Adds one member's scores: `with_bags` gives a copy of the items and of
 * the query row the member's bags (built from the rows it trained on), the
 * item table is registered, every candidate ranked, and the top candidate's
 * rank score checked against tfrs_model_predict of the same values. */
int  ens_rank_add(ens_rank *r, tfrs_model *model,
                  int (*with_bags)(tfrs_dataset *target, const void *arg), const void *arg);
/* Prints the top k candidates by mean score ("rank score id"), with the
 * column `title_col` of their row when it is not NULL. */
void ens_rank_print(const ens_rank *r, size_t k, const char *title_col);
void ens_rank_free(ens_rank *r);

#endif
