/*
 * exchange.h - a training step's gradients handed to a data-parallel
 * exchange (tfrs_exchange, tfrsc.h) and taken back.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The stepper calls tfrs__exchange_run after a batch's backward pass: the
 * dense gradients of the parameter table are packed into one buffer, each
 * embedding table is described by its gradient and touched rows, and the
 * step's sums ride along.  After the exchange the dense gradients are
 * unpacked and each table's touched rows become the list the exchange
 * returned (checked: in range, each once).
 */
#ifndef TFRS_EXCHANGE_H
#define TFRS_EXCHANGE_H

#include "util/common.h"
#include "param.h"

typedef struct tfrs__exchange_buf {
    float           *dense;       /* packed dense gradients               */
    size_t           num_dense;
    tfrs_table_grad *tables;      /* one per sparse entry                 */
    size_t          *table_param; /* each table's parameter index         */
    size_t           num_tables;
    double           sums[TFRS_NUM_SUMS];
} tfrs__exchange_buf;

/* Sizes the buffer for table t (call again when t changes).  TFRS_ENOMEM. */
int  tfrs__exchange_buf_init(tfrs__exchange_buf *b, const tfrs__params *t);
void tfrs__exchange_buf_free(tfrs__exchange_buf *b);

/* Runs ex on the gradients of t and b->sums (filled by the caller): packs,
 * calls, unpacks.  The exchange's own status is returned unchanged; a list
 * of rows out of range or repeated is TFRS_EINVAL (the gradients are then
 * unusable: the caller applies no update and zeroes them). */
int  tfrs__exchange_run(tfrs__exchange_buf *b, const tfrs_exchange *ex, tfrs__params *t,
                        uint64_t step);

#endif /* TFRS_EXCHANGE_H */
