/*
 * graph_serve.h - the first layer by parts: what rank needs to score many
 * candidates for one query (see graph.h for the graph itself).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The first dense layer's pre-activation is a sum over features of
 * x0_f W1_f.  A query's share is computed once, each candidate's share is
 * cached (tfrs__proj) or computed per block, and the rest of the stack runs
 * on their sums.
 */
#ifndef TFRS_GRAPH_SERVE_H
#define TFRS_GRAPH_SERVE_H

#include "util/common.h"
#include "feature.h"
#include "graph.h"

/* proj[r, :] = E_f[r, :] W1[offset_f : offset_f + dim_f, :] for every row
 * r of feature f's table: that feature's share of the first layer's
 * pre-activation, so that scoring candidates of f costs an add per unit
 * instead of dim_f multiply-adds. */
typedef struct tfrs__proj {
    uint64_t gen;       /* weights generation it was computed from (caller's) */
    size_t   feature;
    size_t   rows, units;
    float   *proj;      /* rows x units */
} tfrs__proj;

int    tfrs__graph_project(const tfrs__graph *g, size_t f, tfrs__proj **out);
void   tfrs__proj_free(tfrs__proj *p);               /* NULL is a no-op */
/* Units of the widest layer. */
size_t tfrs__graph_max_units(const tfrs__graph *g);
/* hq = b1 + sum over f with !skip[f] of x0_f W1_f: the first layer's
 * pre-activation for a query (keys qids, side tables qin), without the
 * skipped features (the candidate feature, and the item table's features:
 * their keys and side tables are not read); x (D floats) is scratch.
 * *wide gets the query's share of the wide part (global bias and the
 * biases of the features not skipped; 0 without a wide part). */
void   tfrs__graph_query_part(const tfrs__graph *g, const unsigned char *skip,
                              const int32_t *qids, const tfrs__input *qin, float *x, float *hq,
                              float *wide);
/* The candidates' share of the first layer's pre-activation when they
 * bring several features: out[r, :] = sum over f with mask[f] of
 * x0_f W1_f for nb rows whose keys are keys[row * F + f] (row = rows[r],
 * or r when rows is NULL) with side tables in (F, NULL if none is needed);
 * x is scratch (nb x D floats).  wide (may be NULL): wide[r] = the sum of
 * those features' biases. */
void   tfrs__graph_project_part(const tfrs__graph *g, const unsigned char *mask,
                                const int32_t *keys, const tfrs__input *in, const int32_t *rows,
                                size_t nb, float *x, float *out, float *wide);
/* out[r] += the bias of candidate cids[r] of feature c, r < nb (nothing
 * unless c has a bias). */
void   tfrs__graph_candidate_bias(const tfrs__graph *g, size_t c, const int32_t *cids, size_t nb,
                                  float *out);
/* out[r, :] = E_f[ids[r], :] W1_f for r < nb: the rows of
 * tfrs__graph_project for nb rows only (out: nb x units of layer 0), equal
 * to them up to float rounding. */
void   tfrs__graph_project_rows(const tfrs__graph *g, size_t f, const int32_t *ids, size_t nb,
                                float *out);
/* Scores nb candidates from their parts of the first layer: the first
 * layer as act(hq + parts[ids[r]]) (ids NULL: parts[r]), then layers
 * 1 .. L-1 (dense; dropout is the identity) in a and b (each nb *
 * max_units floats; parts may be b).  Returns the scores (a or b). */
float *tfrs__graph_score_parts(const tfrs__graph *g, const float *hq, const float *parts,
                               const int32_t *ids, size_t nb, float *a, float *b);
/* Scores nb candidates (ids cids of feature c) for the query part hq, as
 * tfrs__graph_score_parts with parts proj->proj.  Without proj (NULL: no
 * cache), the candidates' rows are projected into b first
 * (tfrs__graph_project_rows). */
float *tfrs__graph_score_candidates(const tfrs__graph *g, size_t c, const float *hq,
                                    const tfrs__proj *proj, const int32_t *cids, size_t nb,
                                    float *a, float *b);

#endif /* TFRS_GRAPH_SERVE_H */
