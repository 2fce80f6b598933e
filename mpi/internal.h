/*
 * internal.h - libtfrsc-mpi's shared helpers (not installed).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * libtfrsc-mpi uses only libtfrsc's public API (tfrsc.h) and MPI; the
 * dependency test (tests/check-deps.py) checks that no file here includes
 * a header of lib/.
 */
#ifndef TFRSC_MPI_INTERNAL_H
#define TFRSC_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tfrsc_mpi.h"

/* Sets this thread's message ("" for fmt NULL); returns rc. */
int  tmpi_fail(int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Takes libtfrsc's message of a failed call as this library's; returns rc. */
int  tmpi_core(int rc);
/* The message set last. */
const char *tmpi_message(void);

/* Collective: every rank passes its own status (TFRS_OK if it did not
 * fail); returns TFRS_OK on every rank if all passed TFRS_OK, else, on
 * every rank, the status of the lowest failing rank, whose message becomes
 * "rank R: message" everywhere. */
int  tmpi_agree(MPI_Comm comm, int my_rc);

/* Sums n values over the ranks by a reduce to rank 0 and a broadcast, so
 * that every rank gets the same bits.  type: MPI_FLOAT, MPI_DOUBLE, or
 * MPI_UNSIGNED_CHAR with op MPI_MAX.  Counts above INT_MAX go in pieces. */
int  tmpi_reduce_bcast(MPI_Comm comm, void *buf, size_t n, MPI_Datatype type, MPI_Op op);

/* An MPI call's error code as a status, with a message naming the call. */
int  tmpi_mpi_error(int code, const char *call);

/* The gradient exchange of one fit (exchange.c). */
typedef struct tmpi_exchange tmpi_exchange;

int  tmpi_exchange_create(tmpi_exchange **out, MPI_Comm comm, tfrs_mpi_tables mode);
void tmpi_exchange_free(tmpi_exchange *x);
/* The function and payload for tfrs_exchange. */
int  tmpi_exchange_step(tfrs_exchange_grads *g, void *payload);
/* 1 once a round has failed on some rank (every rank then knows it and
 * tmpi_message() says which rank and why). */
int  tmpi_exchange_failed(const tmpi_exchange *x);
/* After fit returned `rc` on this rank: the round that ends the fit on
 * every rank.  A rank whose fit failed on its own tells the others (which
 * wait in a step's exchange or in this round); returns the status every
 * rank then agrees on. */
int  tmpi_exchange_finish(tmpi_exchange *x, int rc);
void tmpi_exchange_stats(const tmpi_exchange *x, tfrs_mpi_stats *out);

#endif
