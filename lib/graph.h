/*
 * graph.h - the model's computation: the feature columns, the layer stack
 * and the parameter table, with forward, backward and L2.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The graph is the one place that walks the layer stack.  Training
 * (step.c), scoring (predict.c, train.c) and ranking (rank.c) are uses of
 * the functions below; none of them knows which layers exist.
 *
 *   ids [B, F] --gather--> x0 [B, D] --layer 0--> y_0 --...--> y_{L-1} [B, 1]
 *
 * D is the sum of the features' embedding sizes; feature f fills columns
 * feat[f].offset .. + dim of x0.
 *
 * Layers are dense, cross (DCN-v2, cross.h) or dropout (dropout.h).  In
 * the stacked structure (the default) layer j takes layer j - 1's output
 * (layer 0 takes x0) and cross layers also take x0 as their x0.  In the
 * parallel structure the cross layers form one tower on x0, the dense
 * layers but the last a deep tower on x0 (a dropout layer belongs to the
 * tower of the layer added before it), and the last dense layer takes the
 * concatenation [cross tower output, deep tower output].
 */
#ifndef TFRS_GRAPH_H
#define TFRS_GRAPH_H

#include "util/common.h"
#include "util/strtab.h"
#include "cross.h"
#include "dense.h"
#include "dropout.h"
#include "embedding.h"
#include "factor.h"
#include "feature.h"
#include "param.h"

/* The input of the last layer of the parallel structure (src). */
#define TFRS__SRC_CONCAT SIZE_MAX

typedef struct tfrs__layer {
    tfrs_layer_kind kind;
    size_t          units;    /* dense: outputs                            */
    tfrs_activation act;      /* dense                                     */
    float           l2;       /* dense, cross: on the kernel (U and V)     */
    size_t          proj;     /* cross: projection_dim, 0 = full rank      */
    float           rate;     /* dropout                                   */
    tfrs_dense     *dense;    /* NULL before build (dense only)            */
    tfrs__cross    *cross;    /* NULL before build (cross only)            */
    size_t          kernel;   /* entry of the kernel (cross: W or U)       */
    size_t          bias;     /* entry of the bias                         */
    size_t          v;        /* entry of a low-rank cross layer's V       */
    /* The wiring, set by build: input and output widths, and the input
     * as an index into acts (0: x0, k + 1: layer k's output) or
     * TFRS__SRC_CONCAT. */
    size_t          in, out, src;
} tfrs__layer;

typedef struct tfrs__graph {
    size_t         nfeat, feat_cap;
    tfrs__feature *feat;
    tfrs__strtab   names;        /* the features' names: id = feature index */
    size_t         nlayers, layer_cap;
    tfrs__layer   *layers;
    size_t         concat_dim;   /* D                                      */
    int            wide;         /* a feature has a bias: global bias too  */
    float          gbias, gbias_g; /* the global bias and its gradient     */
    size_t         gbias_entry;  /* its entry in params                    */
    int            needs_input;  /* a feature needs a tfrs__input          */
    int            input_l2;     /* a feature has an embedding L2          */
    tfrs_structure structure;    /* stacked (default) or parallel          */
    tfrs__params   params;       /* filled by build                        */
    /* Set by build: */
    uint64_t       seed;         /* dropout masks                          */
    int            dx0_acc;      /* x0 has several consumers: backward
                                    zeroes dx0 and adds into it            */
    size_t         cat_c, cat_d; /* parallel: the acts of the concat's
                                    parts (cat_d 0: no deep tower)         */
    int            no_factor;    /* tests: never factor the first layer    */
} tfrs__graph;

/* A training pass: dropout is active, its masks keyed by the optimizer
 * steps taken before this one and by the batch index of the block's first
 * row.  Forward and backward take NULL for inference, or a context with
 * `inference` set (dropout off) to pass a plan.  fz, when not NULL, is the
 * plan of the first layer by distinct rows for the batch that row0 is a
 * row of (factor.h; only for a graph where tfrs__graph_can_factor), and
 * fgr the segment sums the backward pass of this thread adds into. */
typedef struct tfrs__graph_ctx {
    uint64_t                 step;
    size_t                   row0;
    const tfrs__factor      *fz;
    const tfrs__factor_grad *fgr;
    int                      inference;
} tfrs__graph_ctx;

/* Rows per block when a const call (predict, rank, test_step) processes a
 * large n in pieces with per-call scratch. */
#define TFRS__BLOCK 1024

/* ---- configuration and build ------------------------------------------ */

/* Appends the feature column *f, taking what it owns (f is zeroed; on
 * failure its contents are freed).  Name and vocabulary may be NULL in a
 * graph that is only planned, never built.  The features of a graph are
 * all named (a model's, found by name through a string table) or all
 * unnamed (a plan).  TFRS_ENOMEM, TFRS_EDUPLICATE (a name already there)
 * or TFRS_EINVAL (named and unnamed mixed); sets no message. */
int  tfrs__graph_add_feature(tfrs__graph *g, tfrs__feature *f);
int  tfrs__graph_add_dense(tfrs__graph *g, size_t units, tfrs_activation act, float l2);
/* Appends a cross layer (projection_dim 0: full rank) or a dropout layer;
 * values are checked by the caller.  TFRS_ENOMEM (no message). */
int  tfrs__graph_add_cross(tfrs__graph *g, size_t projection_dim, float l2);
int  tfrs__graph_add_dropout(tfrs__graph *g, float rate);
/* Number of layers of a kind, and the index of the i-th layer of that
 * kind among all layers (SIZE_MAX if there is none). */
size_t tfrs__graph_count_kind(const tfrs__graph *g, tfrs_layer_kind kind);
size_t tfrs__graph_kth_layer(const tfrs__graph *g, tfrs_layer_kind kind, size_t i);
/* 1 if rank can use the first layer by parts (the structure is stacked,
 * the first layer dense, and no cross layer follows: the layers after the
 * first see only its output). */
int  tfrs__graph_first_dense(const tfrs__graph *g);
/* 1 if training may compute the first layer by distinct rows (factor.h):
 * the first layer is dense and sees x0 alone (tfrs__graph_first_dense),
 * some feature is eligible, and tests have not turned it off. */
int  tfrs__graph_can_factor(const tfrs__graph *g);
/* Index of the feature named `name`, or SIZE_MAX (expected O(length)). */
size_t tfrs__graph_find_feature(const tfrs__graph *g, const char *name);
/* Appends to plan the parameter entries that building g makes, with their
 * names and shapes but no storage (w, g NULL): the one place that decides
 * them.  TFRS_EINVAL (message starting with fn) if the sizes overflow,
 * TFRS_ESTATE if the layers do not fit together (the last layer is not a
 * dense layer of 1 unit, a cross layer's input is not D wide or its
 * projection_dim is over D / 2, a parallel structure without a cross
 * layer or starting with dropout). */
int  tfrs__graph_plan(const tfrs__graph *g, tfrs__params *plan, const char *fn);
/* Allocates the layers and fills the parameter table as planned, in this
 * order:
 *   features.<i>.embedding [rows_i, dim_i]   (i < F, features with a table
 *                                             and dim_i > 0)
 *   features.<i>.bias [rows_i, 1]            (features with a bias)
 * then per layer, in the order they were added:
 *   dense.<j>.kernel [in_j, units_j], dense.<j>.bias [units_j]
 *   cross.<k>.kernel [D, D] or cross.<k>.u [D, r], cross.<k>.v [r, D];
 *   cross.<k>.bias [D]
 * (j counts dense layers only, k cross layers; dropout has no entry), then
 *   bias [1]                                 (if a feature has a bias)
 * Entry k is initialised from the generator (seed, stream k) (Keras'
 * uniform for embeddings, Glorot-uniform dense kernels, truncated-normal
 * cross kernels, zero biases and bias tables).  Messages
 * start with `fn`.  On failure the graph is left unbuilt. */
int  tfrs__graph_build(tfrs__graph *g, uint64_t seed, const char *fn);
/* Frees the layers and the parameter table (with its slots). */
void tfrs__graph_unbuild(tfrs__graph *g);
/* Unbuilds, then frees the configuration. */
void tfrs__graph_free(tfrs__graph *g);

/* ---- forward, backward, L2 --------------------------------------------- */

/* Floats of workspace for a B-row batch: forward only, or forward and
 * backward (train != 0). */
size_t tfrs__graph_ws_floats(const tfrs__graph *g, size_t B, int train);
/* 1 if id is a row of feature f's table. */
int    tfrs__graph_id_ok(const tfrs__graph *g, size_t f, int32_t id);
/* Keys and side tables: `ids` are the batch's keys [B, F] (feature.h) and
 * `in`, when some feature needs one (g->needs_input), the array of the F
 * features' side tables; NULL otherwise. */

/* TFRS_ERANGE if any of the n * F keys is not valid for its feature (ids
 * outside the table); TFRS_EINVAL if the graph needs side tables and in
 * is NULL (an id-only call on a model with bags or numbers). */
int    tfrs__graph_check_ids(const tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                             size_t n, const char *fn);
/* Pointers the acts array of forward and backward holds: 2 L + 2. */
size_t tfrs__graph_num_acts(const tfrs__graph *g);
/* Forward pass of B rows of checked keys ([B, F]) in ws (ws_floats(g, B, 0)
 * floats).  acts (num_acts pointers) receives x0 in acts[0], the output of
 * layer j in acts[j + 1] (at inference a dropout layer's is its input),
 * then the layers' saved intermediates and the parallel concatenation;
 * returns the B scores (acts[L], with the wide part added).  ctx: NULL at
 * inference, else the training pass (dropout active). */
float *tfrs__graph_forward(const tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                           size_t B, float *ws, float **acts, const tfrs__graph_ctx *ctx);
/* Where the backward pass of B rows expects d loss / d score ([B]) inside
 * dws, the backward workspace (ws_floats(g, B, 1) - ws_floats(g, B, 0)
 * floats). */
float *tfrs__graph_dscores(const tfrs__graph *g, float *dws, size_t B);
/* Backward pass of the B rows whose activations are in acts, from the
 * d loss / d score that the caller wrote at graph_dscores(g, dws, B)
 * (dws is overwritten).  The gradient of parameter entry k is added into
 * grads[k] (grads NULL: into the table's own g); only dense entries are
 * used.  dx0 ([B, D]) receives d loss / d x0.  ctx is the forward's
 * (a training pass: not NULL). */
void   tfrs__graph_backward(const tfrs__graph *g, float *const *acts, size_t B, float *dws,
                            float *const *grads, float *dx0, const tfrs__graph_ctx *ctx);
/* Adds the input gradient dx0 ([B, D]) of B rows of keys into the
 * embeddings' gradients, feature by feature, in row order (but for the
 * features fz factors, whose gradients tfrs__factor_finish adds); and with
 * a wide part, d loss / d score (dscores, [B]) into the bias tables and
 * the global bias. */
void   tfrs__graph_scatter_input_grad(tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                                      size_t B, const float *dx0, const float *dscores,
                                      const tfrs__factor *fz);
/* Zeroes every gradient of the table (embeddings: their touched rows). */
void   tfrs__graph_zero_grad(tfrs__graph *g);
/* sum over entries of l2 * sum(w^2) (the kernels' penalties), and its
 * gradient added into g. */
double tfrs__graph_l2_loss(const tfrs__graph *g);
void   tfrs__graph_l2_grad(tfrs__graph *g);
/* The embedding L2 of features with l2 > 0, as Keras' activity regularizer
 * on their output: sum over those features f and the B rows i of x0 ([B,
 * D]) of l2_f * ||x0_f,i||^2, divided by scale (the batch size, so that a
 * batch's term is l2_f times the mean over its examples).  With dx0 (the
 * B rows' input gradient) adds its gradient 2 l2_f x0_f,i / scale there.
 * Features that fz factors are left out (tfrs__factor_finish has them). */
double tfrs__graph_input_l2(const tfrs__graph *g, const float *x0, size_t B, size_t scale,
                            float *dx0, const tfrs__factor *fz);

/* ---- scoring with per-call scratch ----------------------------------- */

/* Forward-pass memory for up to `rows` rows (ws and the num_acts
 * activation pointers), for a call that scores several batches. */
typedef struct tfrs__scratch {
    float       *ws;
    float      **acts;
    size_t       rows;
    int          factor;   /* fz is set up: the first layer by distinct rows */
    tfrs__factor fz;
} tfrs__scratch;

int    tfrs__graph_scratch_alloc(const tfrs__graph *g, size_t rows, tfrs__scratch *sc);
void   tfrs__graph_scratch_free(tfrs__scratch *sc);     /* a zeroed one is a no-op */
/* Scores n rows of checked keys in sc, sc->rows rows at a time (each
 * block with the first layer by distinct rows where that is cheaper).
 * TFRS_ENOMEM (message) if a block's plan cannot get its memory. */
int    tfrs__graph_score_in(const tfrs__graph *g, tfrs__scratch *sc, const int32_t *ids,
                            const tfrs__input *in, size_t n, float *scores);
/* The embedding L2 (tfrs__graph_input_l2 with scale 1) of the last block
 * tfrs__graph_score_in scored in sc, of b rows: from its x0 for the
 * features it did not factor, from its plan for those it did. */
double tfrs__graph_score_input_l2(const tfrs__graph *g, const tfrs__scratch *sc, size_t b);
/* Scores n rows of checked keys, `block` rows at a time, with scratch
 * allocated for the call. */
int    tfrs__graph_score(const tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                         size_t n, size_t block, float *scores);

/* TFRS_ENONFINITE, naming the first one (as example base + i, or
 * candidate base + i when candidates != 0), if any of the n scores is NaN
 * or infinite: no call reports success with a score that is not a number
 * (weights large enough to overflow float, e.g. after a huge learning rate
 * or from a crafted file, give infinite scores). */
int    tfrs__graph_check_scores(const float *scores, size_t n, size_t base, int candidates,
                                const char *fn);

#endif /* TFRS_GRAPH_H */
