/*
 * factor.h - the first dense layer computed once per distinct table row.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * When the first layer is dense and takes x0 (the concatenated feature
 * columns), its pre-activation is a sum over features:
 *
 *   z_i = b + sum_f E_f[k_if] W_f       (W_f: rows offset_f .. + dim_f of W)
 *
 * and within a batch the same row k of a table repeats many times.  For a
 * single-row feature (one key = one table row: a token, a hashed token or
 * a bucket) the batch can compute P_f = E_f[U_f] W_f once for its distinct
 * rows U_f and add row P_f[u] to every example that uses u.  The backward
 * pass sums dz per distinct row (G_f, a segment sum), then
 *
 *   dW_f += E_f[U_f]^T G_f        dE_f[U_f] += G_f W_f^T
 *
 * are GEMMs over the distinct rows only.  Features that are not factored
 * (bags, numbers, or a feature whose rows are mostly distinct in the batch)
 * keep the ordinary GEMM on their columns of x0.
 *
 * The plan decides per batch and per feature by a cost estimate (distinct
 * rows against batch rows), so a batch of mostly distinct rows costs what
 * the unfactored layer costs; when no feature is factored, the graph runs
 * the ordinary dense layer, bit for bit as without this module.  The sums
 * are the same as the unfactored layer's up to float summation order.
 *
 * Memory: per factored feature the distinct rows, their embeddings and
 * projections (n x (dim + H) floats, n <= B), one index per example and
 * feature, and a slot array over the table's rows (4 bytes a row),
 * allocated the first time the feature is factored and reused.
 */
#ifndef TFRS_FACTOR_H
#define TFRS_FACTOR_H

#include "util/common.h"
#include "dense.h"
#include "feature.h"

/* Scoring calls (predict, evaluate) plan blocks of at least this many
 * rows only: in fewer, rows rarely repeat enough to pay for the plan. */
#define TFRS__FACTOR_MIN_ROWS 256

/* One feature's part of a batch's plan. */
typedef struct tfrs__factor_part {
    int       on;        /* factored in the current batch                  */
    size_t    n;         /* its distinct rows                              */
    int32_t  *rows;      /* [n] the distinct rows, in order of first use   */
    uint32_t *count;     /* [n] examples that use each                     */
    float    *eu;        /* [n, dim] their embeddings                      */
    float    *p;         /* [n, H] their projections E_f[u] W_f            */
    float    *de;        /* [n, dim] scratch of the finish                 */
    size_t    key_cap;   /* rows rows and count hold                       */
    size_t    cap;       /* rows eu, p and de hold                         */
    uint32_t *slot;      /* [table rows]: index in rows + 1, or 0          */
    size_t    slot_rows;
} tfrs__factor_part;

typedef struct tfrs__factor {
    size_t             nfeat, H;
    tfrs__factor_part *part;     /* [nfeat]                                */
    uint32_t          *idx;      /* [B, nfeat]: index of each example's row
                                    in its feature's rows (factored only)  */
    size_t             idx_cap;  /* rows idx holds                         */
    int                any;      /* some feature is factored this batch    */
    int                eager;    /* reserve sized everything for B rows    */
    size_t             factored_rows; /* sum over factored features of n   */
} tfrs__factor;

/* Per-thread segment sums: G[f] is [part[f].n, H] for factored f. */
typedef struct tfrs__factor_grad {
    float **g;           /* [nfeat]                                        */
    size_t *cap;         /* [nfeat] floats each holds                      */
    size_t  nfeat;
} tfrs__factor_grad;

/* An empty plan for nfeat features and a first layer of H units. */
int  tfrs__factor_init(tfrs__factor *fz, size_t nfeat, size_t H);
void tfrs__factor_free(tfrs__factor *fz);
int  tfrs__factor_grad_init(tfrs__factor_grad *gr, size_t nfeat);
void tfrs__factor_grad_free(tfrs__factor_grad *gr);

/* 1 if feature f can be factored at all (a single-row feature with an
 * embedding table). */
int  tfrs__factor_eligible(const tfrs__feature *f);

/* Reserves what plans of batches of up to B rows need: with eager, all of
 * it (then plan allocates nothing for such batches: training); without,
 * the per-example and per-table parts, and plan allocates the per-row
 * arrays of a feature it factors for its n distinct rows (scoring, whose
 * scratch lives for one call).  TFRS_ENOMEM (message) on failure. */
int  tfrs__factor_reserve(tfrs__factor *fz, const tfrs__feature *feat, size_t B, int eager);

/* No feature factored: the plan of a batch that is not planned. */
void tfrs__factor_clear(tfrs__factor *fz);

/* Plans a batch of B rows of keys [B, nfeat] (checked) for the first
 * layer d: for each eligible feature, its distinct rows; factors it when
 * that is cheaper, and then computes its P.  TFRS_ENOMEM (message) on
 * failure, leaving no feature factored. */
int  tfrs__factor_plan(tfrs__factor *fz, const tfrs__feature *feat, const tfrs_dense *d,
                       const int32_t *keys, size_t B);

/* Forward of the first layer for the S rows at batch row r0: y [S, H] =
 * act(b + sum over factored f of P_f[row] + sum over the other features of
 * x0_f W_f).  x0 [S, D] holds the columns of the features not factored. */
void tfrs__factor_forward(const tfrs__factor *fz, const tfrs__feature *feat,
                          const tfrs_dense *d, const float *x0, size_t D, size_t r0, size_t S,
                          float *y);

/* Backward of the first layer for the same S rows: dy [S, H] (rewritten
 * as act'(y) dy); db and dw receive the bias gradient and the kernel
 * gradient of the features not factored; gr's segment sums of the
 * factored features receive dz (gr zeroed by tfrs__factor_grad_zero at the
 * start of the batch); dx0 [S, D] receives d loss / d x0 in the columns of
 * the features not factored (its other columns are not written). */
void tfrs__factor_backward(const tfrs__factor *fz, const tfrs__feature *feat,
                           const tfrs_dense *d, const float *x0, size_t D, const float *y,
                           float *dy, size_t r0, size_t S, const tfrs__factor_grad *gr,
                           float *dw, float *db, float *dx0);

/* Sizes gr for batches of the plan's reserved size (every eligible
 * feature), so that it never grows later.  TFRS_ENOMEM (message). */
int  tfrs__factor_grad_reserve(const tfrs__factor *fz, tfrs__factor_grad *gr);
/* Zeroes gr's segment sums of the features the current plan factors. */
void tfrs__factor_grad_clear(const tfrs__factor *fz, tfrs__factor_grad *gr);
/* Adds src's segment sums of feature f into dst's (the threads' sums, in
 * thread order); nothing if f is not factored. */
void tfrs__factor_grad_add(const tfrs__factor *fz, tfrs__factor_grad *dst,
                           const tfrs__factor_grad *src, size_t f);

/* After the batch, with gr the total segment sums of feature f: adds
 * E_f[U_f]^T G_f to the kernel gradient dw and G_f W_f^T to the embedding
 * gradients of f's distinct rows, with its embedding L2 (l2 * count *
 * ||e||^2 / scale, whose gradient is added too); returns that L2 term (0
 * if f is not factored).  Features touch disjoint rows of dw and their own
 * tables: different features may finish on different threads. */
double tfrs__factor_finish(tfrs__factor *fz, tfrs__feature *feat, const tfrs_dense *d,
                           const tfrs__factor_grad *gr, float *dw, size_t scale, size_t f);

/* The embedding L2 of the factored features of the plan (those with l2 >
 * 0): sum of l2 * count * ||e||^2 over their distinct rows, over scale. */
double tfrs__factor_input_l2(const tfrs__factor *fz, const tfrs__feature *feat, size_t scale);

/* 1 if feature f is factored in the current plan (fz may be NULL). */
static inline int tfrs__factor_on(const tfrs__factor *fz, size_t f)
{
    return fz != NULL && fz->any && fz->part[f].on;
}

#endif /* TFRS_FACTOR_H */
