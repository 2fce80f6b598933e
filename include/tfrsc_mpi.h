/*
 * tfrsc_mpi.h - libtfrsc-mpi: data-parallel training of libtfrsc models on
 * MPI.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A companion library (link -ltfrsc-mpi -ltfrsc, or `pkg-config --cflags
 * --libs tfrsc-mpi`), so that libtfrsc itself never depends on MPI.  It is
 * built on libtfrsc's public API only: the exchange hook of tfrs_fit_options
 * (tfrsc.h, "Data-parallel training").
 *
 * The application owns MPI: it calls MPI_Init (or MPI_Init_thread) and
 * MPI_Finalize and passes a communicator; this library never initialises or
 * finalises MPI and never aborts the job.  Every function below is
 * collective: all ranks of the communicator call it, in the same order,
 * with the same arguments except the data each rank holds.
 *
 * How a job runs (examples/movielens_ranking_mpi.c): each rank loads its
 * own part of the ratings (tfrs_mpi_load_movielens or
 * tfrs_mpi_load_delimited: each rank reads only its byte range of the file,
 * or any dataset the application cuts itself), builds vocabularies over all
 * ranks' values (tfrs_mpi_vocab_adapt_column), builds the same model with
 * the same seed on every rank, optionally resumes from a checkpoint
 * (tfrs_mpi_resume), trains (tfrs_mpi_fit) and evaluates
 * (tfrs_mpi_evaluate).  See docs/distributed.md.
 *
 * Errors: every function returns a tfrs_status on every rank, the same on
 * all of them: when any rank fails, all ranks return the failing rank's
 * status, and tfrs_mpi_last_error() says "rank R: " and that rank's
 * message (for a malformed shard: "rank R: path:LINE: reason").  A rank that
 * dies (killed, crashed) is MPI's business: Open MPI's launcher then ends the
 * whole job.
 */
#ifndef TFRSC_MPI_H
#define TFRSC_MPI_H

#include <mpi.h>
#include <stdint.h>

#include <tfrsc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The message of the last failing tfrs_mpi_* call on this thread ("" if
 * none). */
TFRS_API const char *tfrs_mpi_last_error(void);

/* ---- data --------------------------------------------------------------- */

/* This rank's share [*begin, *end) of a file of `size` bytes: rank r of N
 * gets [size r / N, size (r + 1) / N), or the empty range [1, 1) where
 * that would be [0, 0) (which the loaders read as the whole file).  With
 * the loaders' byte ranges
 * (tfrs_load_options.range_begin, range_end) the ranks' shares hold every
 * line of the file exactly once. */
TFRS_API int tfrs_mpi_byte_range(MPI_Comm comm, uint64_t size, uint64_t *begin,
                                 uint64_t *end);

/* tfrs_dataset_load_movielens on every rank, each reading only its byte
 * range of the ratings file (dir/u.data, or opts->ratings_file) and all of
 * the small tables.  The ranks' datasets, in rank order, hold u.data's rows
 * in file order.  opts may be NULL; its range fields are set by this call
 * (the caller's struct is not changed). */
TFRS_API int tfrs_mpi_load_movielens(tfrs_dataset **out, MPI_Comm comm, const char *dir,
                                     const tfrs_load_options *opts);

/* tfrs_dataset_load_delimited on every rank, each reading the header line
 * and only its byte range of the rest. */
TFRS_API int tfrs_mpi_load_delimited(tfrs_dataset **out, MPI_Comm comm, const char *path,
                                     const tfrs_delimited_options *opts);

/* tfrs_vocab_adapt_column over the values of `column` in every rank's
 * dataset: the same vocabulary on every rank, equal to adapting on all the
 * ranks' rows together. */
TFRS_API int tfrs_mpi_vocab_adapt_column(tfrs_vocab **out, MPI_Comm comm,
                                         const tfrs_dataset *ds, const char *column,
                                         const tfrs_vocab_options *opts);

/* ---- training ----------------------------------------------------------- */

/* How embedding tables' gradients are exchanged. */
typedef enum tfrs_mpi_tables {
    TFRS_MPI_TABLES_AUTO   = 0, /* per step and table, whichever moves fewer
                                   bytes (the default)                      */
    TFRS_MPI_TABLES_SPARSE = 1, /* the touched rows: ids and row gradients  */
    TFRS_MPI_TABLES_DENSE  = 2  /* the whole table's gradient               */
} tfrs_mpi_tables;

/* What a fit exchanged (this rank's view; summed over the call's steps). */
typedef struct tfrs_mpi_stats {
    uint64_t steps;             /* steps exchanged                          */
    uint64_t dense_bytes;       /* dense-layer gradient bytes sent          */
    uint64_t table_bytes_sent;  /* embedding bytes sent (ids and rows, or
                                   whole tables and their row bitmaps)      */
    uint64_t table_bytes_received; /* embedding bytes received             */
    uint64_t sparse_exchanges;  /* table exchanges done by touched rows     */
    uint64_t dense_exchanges;   /* table exchanges done whole               */
    double   exchange_seconds;  /* wall time inside the exchanges           */
} tfrs_mpi_stats;

#define TFRS_MPI_OPTIONS_VERSION 1
typedef struct tfrs_mpi_options {
    unsigned int    version;
    const char     *checkpoint;       /* default NULL: none.  Else rank 0
                                         saves the model with its optimizer
                                         state here (tfrs_model_save's
                                         atomic replace) at the end of every
                                         epoch and every checkpoint_every
                                         steps                              */
    uint64_t        checkpoint_every; /* default 0: at epoch ends only       */
    tfrs_mpi_tables tables;           /* default TFRS_MPI_TABLES_AUTO        */
    tfrs_mpi_stats *stats;            /* may be NULL; else filled by fit     */
} tfrs_mpi_options;

TFRS_API int tfrs_mpi_options_init(tfrs_mpi_options *opts, unsigned int version);

/* If `checkpoint` exists (as rank 0 sees it), every rank replaces *model by
 * the model saved there (rank 0 reads the file and sends it to the others)
 * and *resumed (may be NULL) gets 1; otherwise *model is left alone and
 * *resumed gets 0.  On failure *model is left alone. */
TFRS_API int tfrs_mpi_resume(tfrs_model **model, MPI_Comm comm, const char *checkpoint,
                             int *resumed);

/* Data-parallel tfrs_model_fit: every rank passes its own rows (`shard`,
 * at least one row) and the same options; the global rows are the ranks'
 * shards in rank order.  Each epoch's permutation of the global rows is the
 * one a single process holding them all would draw (tfrs_model_fit with
 * shuffle_seed), so the result does not depend on how the rows are
 * sharded.  Each step's global batch is split across the ranks by whose
 * rows they are; gradients are summed over the ranks (dense layers by a
 * reduce and a broadcast of one buffer; embedding tables by their touched
 * rows or whole, see tfrs_mpi_tables), so every rank applies the same
 * update and all ranks keep bit-identical weights, which is checked at the
 * end (TFRS_ESTATE if not).  Losses and metrics are those of the global
 * batches, on every rank; history as tfrs_model_fit's.
 *
 * Epochs count as Keras' fit(epochs, initial_epoch): the call trains epochs
 * e + 1 .. fit->epochs, where e is the number of epochs the model has
 * completed (0 for a new model).  A model resumed from a checkpoint saved
 * within an epoch continues that epoch from the batch after the checkpoint,
 * so a job restarted with the same command ends with the weights of a job
 * that was never interrupted.
 *
 * The model, its training state and the options must be the same on every
 * rank (checked: TFRS_EINVAL naming the first rank that differs).  The
 * progress callback runs on every rank; fit stops (TFRS_ECANCELED) on all
 * ranks when it returns non-zero on any.  Not available: what tfrs_model_fit
 * refuses with an exchange (validation data, the AUC metric). */
TFRS_API int tfrs_mpi_fit(tfrs_model *model, MPI_Comm comm, const tfrs_dataset *shard,
                          const tfrs_fit_options *fit, const tfrs_mpi_options *mpi,
                          tfrs_metrics *history);

/* tfrs_model_evaluate of the ranks' datasets together: the loss, RMSE and
 * MAE of all their rows, on every rank (each rank's figures weighted by its
 * number of rows; with sample weights, exact when the ranks' weight sums
 * are proportional to their rows).  TFRS_EINVAL for a task with AUC. */
TFRS_API int tfrs_mpi_evaluate(const tfrs_model *model, MPI_Comm comm,
                               const tfrs_dataset *shard, size_t batch_size,
                               tfrs_metrics *out);

#ifdef __cplusplus
}
#endif

#endif /* TFRSC_MPI_H */
