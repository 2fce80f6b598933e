/*
 * graph.c - the feature columns and the layer stack: build, forward,
 * backward, L2, and the first layer by parts for serving (see graph.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Adding a layer type means: its own file (forward, backward, init), its
 * case in build (parameter table entries), forward and backward here, and
 * its description in the model file's schema (model_file.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/kernels.h"
#include "util/rng.h"
#include "util/status.h"
#include "cross.h"
#include "dense.h"
#include "dropout.h"
#include "embedding.h"
#include "graph.h"
#include "param.h"
#include "vocab.h"

/* ---- configuration and build ------------------------------------------ */

int tfrs__graph_add_feature(tfrs__graph *g, tfrs__feature *f)
{
    const char *name = f->name;
    size_t len = name != NULL ? strlen(name) : 0;
    uint32_t id;
    int rc = TFRS_OK;

    if (g->nfeat == 0) {          /* a key of its own for the names table */
        tfrs__strtab_free(&g->names);
        tfrs__strtab_init(&g->names);
    }
    if (tfrs__strtab_count(&g->names) != (name != NULL ? g->nfeat : 0))
        rc = TFRS_EINVAL;
    else if (name != NULL && tfrs__strtab_find(&g->names, name, len) != TFRS__STRTAB_NONE)
        rc = TFRS_EDUPLICATE;
    else if (TFRS__GROW(g->feat, g->feat_cap, g->nfeat + 1) < 0 ||
             (name != NULL && tfrs__strtab_intern(&g->names, name, len, &id) < 0))
        rc = TFRS_ENOMEM;
    if (rc != TFRS_OK) {
        tfrs__feature_clear(f);
        return rc;
    }
    g->feat[g->nfeat++] = *f;
    memset(f, 0, sizeof(*f));
    return TFRS_OK;
}

static int add_layer(tfrs__graph *g, const tfrs__layer *l)
{
    if (TFRS__GROW(g->layers, g->layer_cap, g->nlayers + 1) < 0)
        return TFRS_ENOMEM;
    g->layers[g->nlayers++] = *l;
    return TFRS_OK;
}

int tfrs__graph_add_dense(tfrs__graph *g, size_t units, tfrs_activation act, float l2)
{
    tfrs__layer l = { 0 };

    l.kind = TFRS_LAYER_DENSE;
    l.units = units;
    l.act = act;
    l.l2 = l2;
    return add_layer(g, &l);
}

int tfrs__graph_add_cross(tfrs__graph *g, size_t projection_dim, float l2)
{
    tfrs__layer l = { 0 };

    l.kind = TFRS_LAYER_CROSS;
    l.proj = projection_dim;
    l.l2 = l2;
    return add_layer(g, &l);
}

int tfrs__graph_add_dropout(tfrs__graph *g, float rate)
{
    tfrs__layer l = { 0 };

    l.kind = TFRS_LAYER_DROPOUT;
    l.rate = rate;
    return add_layer(g, &l);
}

size_t tfrs__graph_count_kind(const tfrs__graph *g, tfrs_layer_kind kind)
{
    size_t n = 0;

    for (size_t j = 0; j < g->nlayers; j++)
        n += g->layers[j].kind == kind;
    return n;
}

size_t tfrs__graph_kth_layer(const tfrs__graph *g, tfrs_layer_kind kind, size_t i)
{
    for (size_t j = 0; j < g->nlayers; j++)
        if (g->layers[j].kind == kind && i-- == 0)
            return j;
    return SIZE_MAX;
}

int tfrs__graph_first_dense(const tfrs__graph *g)
{
    if (g->structure != TFRS_STRUCTURE_STACKED || g->nlayers == 0 ||
        g->layers[0].kind != TFRS_LAYER_DENSE)
        return 0;
    /* The layers after the first run on the first layer's output alone: a
     * cross layer would need each candidate's x0. */
    return tfrs__graph_count_kind(g, TFRS_LAYER_CROSS) == 0;
}

int tfrs__graph_can_factor(const tfrs__graph *g)
{
    if (g->no_factor || !tfrs__graph_first_dense(g) || g->dx0_acc)
        return 0;
    for (size_t f = 0; f < g->nfeat; f++)
        if (tfrs__factor_eligible(&g->feat[f]))
            return 1;
    return 0;
}

size_t tfrs__graph_find_feature(const tfrs__graph *g, const char *name)
{
    uint32_t id = tfrs__strtab_find(&g->names, name, strlen(name));

    return id == TFRS__STRTAB_NONE ? SIZE_MAX : (size_t)id;
}

void tfrs__graph_unbuild(tfrs__graph *g)
{
    tfrs__params_clear(&g->params);
    for (size_t i = 0; i < g->nfeat; i++) {
        tfrs_embedding_free(g->feat[i].emb);
        tfrs_embedding_free(g->feat[i].bemb);
        g->feat[i].emb = NULL;
        g->feat[i].bemb = NULL;
    }
    g->wide = 0;
    g->gbias = g->gbias_g = 0.0f;
    for (size_t j = 0; j < g->nlayers; j++) {
        tfrs_dense_free(g->layers[j].dense);
        g->layers[j].dense = NULL;
        tfrs__cross_free(g->layers[j].cross);
        g->layers[j].cross = NULL;
    }
}

void tfrs__graph_free(tfrs__graph *g)
{
    tfrs__graph_unbuild(g);
    for (size_t i = 0; i < g->nfeat; i++)
        tfrs__feature_clear(&g->feat[i]);
    tfrs__free(g->feat);
    tfrs__free(g->layers);
    tfrs__strtab_free(&g->names);
    memset(g, 0, sizeof(*g));
}

/* The wiring of the layers, one at a time in order (see graph.h): where
 * each takes its input from and how wide its input and output are. */
typedef struct wiring {
    size_t D;
    size_t prev;            /* stacked: width of the previous output       */
    size_t src_c, src_d;    /* parallel: the towers' current outputs       */
    size_t width_d;         /* parallel: the deep tower's current width    */
    int    tower;           /* parallel: the tower of the last layer: 'c',
                               'd' or 0 (none yet)                        */
} wiring;

static void wire_init(wiring *w, size_t D)
{
    memset(w, 0, sizeof(*w));
    w->D = w->prev = w->width_d = D;
}

/* Sets l->in, l->out and l->src of layer j (of L). */
static void wire(wiring *w, tfrs_structure st, size_t j, size_t L, tfrs__layer *l)
{
    if (st == TFRS_STRUCTURE_STACKED) {
        l->src = j;
        l->in = w->prev;
    } else if (j == L - 1) {
        l->src = TFRS__SRC_CONCAT;
        l->in = w->D + (w->src_d != 0 ? w->width_d : 0);
    } else {
        int tower = l->kind == TFRS_LAYER_CROSS ? 'c' : l->kind == TFRS_LAYER_DENSE ? 'd'
                                                                                   : w->tower;
        if (tower == 0)
            tower = 'd';    /* a leading dropout: refused by check_layers */
        l->src = tower == 'c' ? w->src_c : w->src_d;
        l->in = tower == 'c' ? w->D : w->width_d;
        if (tower == 'c')
            w->src_c = j + 1;
        else
            w->src_d = j + 1;
        w->tower = tower;
    }
    l->out = l->kind == TFRS_LAYER_DENSE ? l->units : l->kind == TFRS_LAYER_CROSS ? w->D : l->in;
    if (st == TFRS_STRUCTURE_STACKED)
        w->prev = l->out;
    else if (j != L - 1 && w->tower == 'd')
        w->width_d = l->out;
}

/* TFRS_ESTATE unless layer l (j of L, wired) fits its place. */
static int check_layer(const tfrs__graph *g, const tfrs__layer *l, size_t j, size_t D,
                       const char *fn)
{
    size_t L = g->nlayers;

    if (j == L - 1 && (l->kind != TFRS_LAYER_DENSE || l->units != 1))
        return tfrs__fail(TFRS_ESTATE, "%s: the last layer must be a dense layer of 1 unit", fn);
    if (l->kind == TFRS_LAYER_DROPOUT && g->structure == TFRS_STRUCTURE_PARALLEL && j == 0)
        return tfrs__fail(TFRS_ESTATE, "%s: in the parallel structure a dropout layer must "
                          "follow a cross or dense layer (layer 0 is a dropout layer)", fn);
    if (l->kind != TFRS_LAYER_CROSS)
        return TFRS_OK;
    if (l->in != D)
        return tfrs__fail(TFRS_ESTATE, "%s: layer %zu is a cross layer on an input of width "
                          "%zu, but a cross layer needs the width of the features' "
                          "concatenation (%zu); put cross layers before the dense layers, or "
                          "use the parallel structure", fn, j, l->in, D);
    if (l->proj > D / 2)
        return tfrs__fail(TFRS_ESTATE, "%s: layer %zu: a cross layer's projection_dim (%zu) "
                          "must be at most half its input width %zu (as in "
                          "tfrs.layers.dcn.Cross)", fn, j, l->proj, D);
    return TFRS_OK;
}

/* Appends a dense layer's or a cross layer's entries; the j-th of its
 * kind, wired. */
static int plan_layer(tfrs__params *plan, const tfrs__layer *l, size_t k)
{
    char name[TFRS__PARAM_NAME_MAX];
    int rc;

    if (l->kind == TFRS_LAYER_DENSE) {
        snprintf(name, sizeof(name), "dense.%zu.kernel", k);
        if ((rc = tfrs__params_add(plan, name, l->in, l->units, NULL, NULL, NULL, l->l2)) != TFRS_OK)
            return rc;
        snprintf(name, sizeof(name), "dense.%zu.bias", k);
        return tfrs__params_add(plan, name, l->units, 0, NULL, NULL, NULL, 0.0f);
    }
    if (l->proj == 0) {
        snprintf(name, sizeof(name), "cross.%zu.kernel", k);
        rc = tfrs__params_add(plan, name, l->in, l->in, NULL, NULL, NULL, l->l2);
    } else {
        snprintf(name, sizeof(name), "cross.%zu.u", k);
        rc = tfrs__params_add(plan, name, l->in, l->proj, NULL, NULL, NULL, l->l2);
        snprintf(name, sizeof(name), "cross.%zu.v", k);
        if (rc == TFRS_OK)
            rc = tfrs__params_add(plan, name, l->proj, l->in, NULL, NULL, NULL, l->l2);
    }
    snprintf(name, sizeof(name), "cross.%zu.bias", k);
    return rc != TFRS_OK ? rc : tfrs__params_add(plan, name, l->in, 0, NULL, NULL, NULL, 0.0f);
}

int tfrs__graph_plan(const tfrs__graph *g, tfrs__params *plan, const char *fn)
{
    char name[TFRS__PARAM_NAME_MAX];
    size_t in = 0, ndense = 0, ncross = 0;
    wiring w;
    int rc;

    int wide = 0;

    for (size_t i = 0; i < g->nfeat; i++) {
        const tfrs__feature *f = &g->feat[i];
        if (f->rows > 0 && f->dim > 0) {
            snprintf(name, sizeof(name), "features.%zu.embedding", i);
            rc = tfrs__params_add(plan, name, f->rows, f->dim, NULL, NULL, NULL, 0.0f);
            if (rc != TFRS_OK)
                return rc;
            plan->p[plan->n - 1].feature = i;
        }
        if (f->rows > 0 && f->bias) {
            snprintf(name, sizeof(name), "features.%zu.bias", i);
            if ((rc = tfrs__params_add(plan, name, f->rows, 1, NULL, NULL, NULL, 0.0f)) != TFRS_OK)
                return rc;
            plan->p[plan->n - 1].feature = i;
            wide = 1;
        }
        if (tfrs__add(in, f->dim, &in) < 0)
            return tfrs__fail(TFRS_EINVAL, "%s: embedding sizes overflow", fn);
    }
    if (in == 0)
        return tfrs__fail(TFRS_EINVAL, "%s: the features feed no input to the layers (every "
                          "feature has embedding_dim 0)", fn);
    if (g->structure == TFRS_STRUCTURE_PARALLEL &&
        tfrs__graph_count_kind(g, TFRS_LAYER_CROSS) == 0)
        return tfrs__fail(TFRS_ESTATE, "%s: the parallel structure needs at least one cross "
                          "layer", fn);
    if (g->nlayers == 0)
        return tfrs__fail(TFRS_ESTATE, "%s: the last layer must be a dense layer of 1 unit", fn);
    if (g->structure == TFRS_STRUCTURE_PARALLEL && in > SIZE_MAX - INT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "%s: embedding sizes overflow", fn);
    wire_init(&w, in);
    for (size_t j = 0; j < g->nlayers; j++) {
        tfrs__layer l = g->layers[j];

        wire(&w, g->structure, j, g->nlayers, &l);
        if ((rc = check_layer(g, &l, j, in, fn)) != TFRS_OK)
            return rc;
        if (l.kind == TFRS_LAYER_DROPOUT)
            continue;
        rc = plan_layer(plan, &l, l.kind == TFRS_LAYER_DENSE ? ndense++ : ncross++);
        if (rc != TFRS_OK)
            return rc;
    }
    if (wide && (rc = tfrs__params_add(plan, "bias", 1, 0, NULL, NULL, NULL, 0.0f)) != TFRS_OK)
        return rc;
    return TFRS_OK;
}

/* Allocates layer l (wired) over the plan's entries from p on and
 * initialises it from the generator streams of its entries; advances *p. */
static int build_layer(tfrs__graph *g, tfrs__layer *l, tfrs__param **pp, uint64_t seed)
{
    tfrs__param *p = *pp;
    tfrs__rng r;
    int rc;

    l->kernel = (size_t)(p - g->params.p);
    if (l->kind == TFRS_LAYER_DENSE) {
        if ((rc = tfrs__dense_alloc(&l->dense, p[0].shape[0], l->units, l->act)) != TFRS_OK)
            return rc;
        l->bias = l->kernel + 1;
        p[0].w = l->dense->w;
        p[0].g = l->dense->dw;
        p[1].w = l->dense->b;
        p[1].g = l->dense->db;
        tfrs__rng_seed(&r, seed, l->kernel);
        tfrs__dense_init(l->dense, &r);
        *pp = p + 2;
        return TFRS_OK;
    }
    if ((rc = tfrs__cross_alloc(&l->cross, l->in, l->proj)) != TFRS_OK)
        return rc;
    p[0].w = l->cross->w;
    p[0].g = l->cross->dw;
    tfrs__rng_seed(&r, seed, l->kernel);
    tfrs__cross_init_kernel(p[0].w, p[0].n, &r);
    if (l->proj != 0) {
        l->v = l->kernel + 1;
        p[1].w = l->cross->v;
        p[1].g = l->cross->dv;
        tfrs__rng_seed(&r, seed, l->v);
        tfrs__cross_init_kernel(p[1].w, p[1].n, &r);
    }
    l->bias = l->kernel + (l->proj != 0 ? 2 : 1);
    g->params.p[l->bias].w = l->cross->b;    /* zero: allocated so */
    g->params.p[l->bias].g = l->cross->db;
    *pp = g->params.p + l->bias + 1;
    return TFRS_OK;
}

int tfrs__graph_build(tfrs__graph *g, uint64_t seed, const char *fn)
{
    tfrs__param *p;
    wiring w;
    int rc;

    if ((rc = tfrs__graph_plan(g, &g->params, fn)) != TFRS_OK)
        goto fail;
    p = g->params.p;
    g->concat_dim = 0;
    g->needs_input = 0;
    g->input_l2 = 0;
    g->seed = seed;
    for (size_t i = 0; i < g->nfeat; i++) {
        tfrs__feature *f = &g->feat[i];
        tfrs__rng r;

        if (f->rows > 0 && f->dim > 0) {
            if ((rc = tfrs__embedding_alloc(&f->emb, p->shape[0], p->shape[1])) != TFRS_OK)
                goto fail;
            p->w = f->emb->w;
            p->g = f->emb->g;
            p->emb = f->emb;
            tfrs__rng_seed(&r, seed, (uint64_t)(p - g->params.p));
            tfrs__embedding_init(f->emb, &r);
            p++;
        }
        if (f->rows > 0 && f->bias) {      /* zero-initialized */
            if ((rc = tfrs__embedding_alloc(&f->bemb, p->shape[0], 1)) != TFRS_OK)
                goto fail;
            p->w = f->bemb->w;
            p->g = f->bemb->g;
            p->emb = f->bemb;
            g->wide = 1;
            p++;
        }
        g->needs_input |= tfrs__feature_needs_input(f);
        g->input_l2 |= f->l2 != 0.0f && f->emb != NULL;
        f->offset = g->concat_dim;
        g->concat_dim += f->dim;        /* cannot overflow: checked by the plan */
    }
    wire_init(&w, g->concat_dim);
    for (size_t j = 0; j < g->nlayers; j++) {
        tfrs__layer *l = &g->layers[j];

        wire(&w, g->structure, j, g->nlayers, l);
        if (l->kind != TFRS_LAYER_DROPOUT && (rc = build_layer(g, l, &p, seed)) != TFRS_OK)
            goto fail;
    }
    g->cat_c = w.src_c;
    g->cat_d = w.src_d;
    g->dx0_acc = g->structure == TFRS_STRUCTURE_PARALLEL ||
                 tfrs__graph_count_kind(g, TFRS_LAYER_CROSS) > 0;
    if (g->wide) {
        g->gbias_entry = (size_t)(p - g->params.p);
        p->w = &g->gbias;
        p->g = &g->gbias_g;
    }
    return TFRS_OK;
fail:
    tfrs__graph_unbuild(g);
    return rc;
}

/* ---- forward, backward, L2 --------------------------------------------- */

/* Floats per row of a layer's saved intermediates (cross: t and h). */
static size_t aux_floats(const tfrs__layer *l)
{
    return l->kind == TFRS_LAYER_CROSS ? l->in + l->proj : 0;
}

/* Width of the parallel structure's concatenation (0 when stacked). */
static size_t concat_width(const tfrs__graph *g)
{
    return g->structure == TFRS_STRUCTURE_PARALLEL ? g->layers[g->nlayers - 1].in : 0;
}

size_t tfrs__graph_ws_floats(const tfrs__graph *g, size_t B, int train)
{
    size_t fwd = g->concat_dim + concat_width(g), bwd = concat_width(g), tmp = 0;

    for (size_t j = 0; j < g->nlayers; j++) {
        size_t a = aux_floats(&g->layers[j]);
        fwd += g->layers[j].out + a;
        bwd += g->layers[j].out;
        tmp = a > tmp ? a : tmp;
    }
    return B * (fwd + (train ? bwd + tmp : 0));
}

size_t tfrs__graph_num_acts(const tfrs__graph *g)
{
    return 2 * g->nlayers + 2;
}

/* The message of an invalid key. */
static int tfrs__single_range(const tfrs__feature *f, const char *fn, size_t i, int32_t id)
{
    if (tfrs__feature_is_single(f))
        return tfrs__fail(TFRS_ERANGE, "%s: example %zu: id %ld of feature '%s' is outside "
                          "0 .. %zu", fn, i, (long)id, f->name, f->rows - 1);
    return tfrs__fail(TFRS_ERANGE, "%s: example %zu: key %ld of feature '%s' is not one of "
                      "its %s", fn, i, (long)id, f->name,
                      f->kind == TFRS_FEATURE_NUMERIC ? "values" : "bags");
}

int tfrs__graph_id_ok(const tfrs__graph *g, size_t f, int32_t id)
{
    return id >= 0 && (size_t)id < g->feat[f].rows;
}

int tfrs__graph_check_ids(const tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                          size_t n, const char *fn)
{
    if (g->needs_input && in == NULL) {
        for (size_t f = 0; f < g->nfeat; f++)
            if (tfrs__feature_needs_input(&g->feat[f]))
                return tfrs__fail(TFRS_EINVAL, "%s: feature '%s' is %s; calls that take ids "
                                  "need one table row per example and feature: use the "
                                  "dataset or string calls", fn, g->feat[f].name,
                                  g->feat[f].kind == TFRS_FEATURE_NUMERIC ? "numeric"
                                                                          : "a bag");
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < g->nfeat; f++) {
            const tfrs__feature *ft = &g->feat[f];
            int32_t id = ids[i * g->nfeat + f];
            if (!tfrs__feature_key_ok(ft, in != NULL ? &in[f] : NULL, id))
                return tfrs__single_range(ft, fn, i, id);
        }
    }
    return TFRS_OK;
}

/* Layout of the forward buffers of a B-row batch in ws:
 *   x0 [B, D] | y_0 [B, out_0] | ... | y_{L-1} [B, 1]
 *   | aux of each cross layer [B, in + proj] | concat [B, in_{L-1}]
 * acts[0] = x0, acts[1 + j] = y_j, acts[1 + L + j] = aux of layer j (NULL
 * for other layers), acts[1 + 2 L] = concat (NULL when stacked). */
static void lay_out(const tfrs__graph *g, size_t B, float *p, float **acts)
{
    size_t L = g->nlayers;

    acts[0] = p;
    p += B * g->concat_dim;
    for (size_t j = 0; j < L; j++) {
        acts[j + 1] = p;
        p += B * g->layers[j].out;
    }
    for (size_t j = 0; j < L; j++) {
        size_t a = aux_floats(&g->layers[j]);
        acts[L + 1 + j] = a != 0 ? p : NULL;
        p += B * a;
    }
    acts[2 * L + 1] = g->structure == TFRS_STRUCTURE_PARALLEL ? p : NULL;
}

/* The input of layer j: an activation, or the concatenation. */
static float *input_of(const tfrs__graph *g, float *const *acts, const tfrs__layer *l)
{
    return l->src == TFRS__SRC_CONCAT ? acts[2 * g->nlayers + 1] : acts[l->src];
}

/* Copies (dir 0) the towers' outputs into the concatenation, or (dir 1)
 * the concatenation's gradient back into the towers'. */
static void concat_copy(const tfrs__graph *g, float *cat, float *c, float *d, size_t B, int dir)
{
    size_t D = g->concat_dim, W = concat_width(g), Wd = W - D;

    for (size_t i = 0; i < B; i++) {
        float *row = cat + i * W;
        if (dir == 0) {
            memcpy(row, c + i * D, D * sizeof(float));
            if (Wd != 0)
                memcpy(row + D, d + i * Wd, Wd * sizeof(float));
        } else {
            memcpy(c + i * D, row, D * sizeof(float));
            if (Wd != 0)
                memcpy(d + i * Wd, row + D, Wd * sizeof(float));
        }
    }
}

static tfrs__dropout_key dropout_key(const tfrs__graph *g, size_t j, const tfrs__graph_ctx *ctx)
{
    tfrs__dropout_key k;

    k.seed = g->seed;
    k.layer = j;
    k.step = ctx->step;
    k.row0 = ctx->row0;
    return k;
}

float *tfrs__graph_forward(const tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                           size_t B, float *ws, float **acts, const tfrs__graph_ctx *ctx)
{
    size_t L = g->nlayers;
    const tfrs__factor *fz = ctx != NULL && ctx->fz != NULL && ctx->fz->any ? ctx->fz : NULL;
    float *out;

    lay_out(g, B, ws, acts);
    for (size_t f = 0; f < g->nfeat; f++)
        if (!tfrs__factor_on(fz, f))
            tfrs__feature_gather(&g->feat[f], in != NULL ? &in[f] : NULL, ids + f, g->nfeat, B,
                                 acts[0] + g->feat[f].offset, g->concat_dim);
    for (size_t j = 0; j < L; j++) {
        const tfrs__layer *l = &g->layers[j];
        float *x;

        if (l->src == TFRS__SRC_CONCAT)
            concat_copy(g, acts[2 * L + 1], acts[g->cat_c], g->cat_d != 0 ? acts[g->cat_d] : NULL,
                        B, 0);
        x = input_of(g, acts, l);
        switch (l->kind) {
        case TFRS_LAYER_DENSE:
            if (j == 0 && fz != NULL)
                tfrs__factor_forward(fz, g->feat, l->dense, x, g->concat_dim, ctx->row0, B,
                                     acts[1]);
            else
                tfrs__dense_forward(l->dense, x, B, acts[j + 1]);
            break;
        case TFRS_LAYER_CROSS:
            tfrs__cross_forward(l->cross, acts[0], x, B, acts[L + 1 + j], acts[j + 1]);
            break;
        case TFRS_LAYER_DROPOUT:
            if (ctx != NULL && !ctx->inference && l->rate > 0.0f) {
                tfrs__dropout_key k = dropout_key(g, j, ctx);
                tfrs__dropout_forward(&k, l->rate, x, B, l->out, acts[j + 1]);
            } else {
                acts[j + 1] = x;     /* the identity */
            }
            break;
        }
    }
    out = acts[L];
    if (g->wide) {
        for (size_t i = 0; i < B; i++)
            out[i] += g->gbias;
        for (size_t f = 0; f < g->nfeat; f++)
            if (g->feat[f].bemb != NULL)
                tfrs__feature_bias_add(&g->feat[f], in != NULL ? &in[f] : NULL, ids + f,
                                       g->nfeat, B, out);
    }
    return out;
}

/* The backward workspace: dy_0 [B, out_0] | ... | dy_{L-1} [B, 1]
 * | dconcat [B, in_{L-1}] (parallel) | tmp [B, largest aux]. */
static float *dy_at(const tfrs__graph *g, float *dws, size_t B, size_t layer)
{
    for (size_t j = 0; j < layer; j++)
        dws += B * g->layers[j].out;
    return dws;
}

float *tfrs__graph_dscores(const tfrs__graph *g, float *dws, size_t B)
{
    return dy_at(g, dws, B, g->nlayers - 1);
}

void tfrs__graph_backward(const tfrs__graph *g, float *const *acts, size_t B, float *dws,
                          float *const *grads, float *dx0, const tfrs__graph_ctx *ctx)
{
    size_t L = g->nlayers, D = g->concat_dim;
    float *dcat = dy_at(g, dws, B, L), *tmp = dcat + B * concat_width(g);
    const tfrs__factor *fz = ctx != NULL && ctx->fz != NULL && ctx->fz->any ? ctx->fz : NULL;

#define GRAD(k) (grads != NULL ? grads[k] : g->params.p[k].g)
    if (g->dx0_acc)
        memset(dx0, 0, B * D * sizeof(float));
    for (size_t j = L; j-- > 0;) {
        const tfrs__layer *l = &g->layers[j];
        float *dy = dy_at(g, dws, B, j), *x = input_of(g, acts, l), *dx;
        int acc = 0;

        if (l->src == TFRS__SRC_CONCAT)
            dx = dcat;
        else if (l->src == 0)
            dx = dx0, acc = g->dx0_acc;
        else
            dx = dy_at(g, dws, B, l->src - 1);
        switch (l->kind) {
        case TFRS_LAYER_DENSE:
            if (j == 0 && fz != NULL) {    /* acc is 0: no cross layer, stacked */
                tfrs__factor_backward(fz, g->feat, l->dense, x, D, acts[1], dy, ctx->row0, B,
                                      ctx->fgr, GRAD(l->kernel), GRAD(l->bias), dx);
                break;
            }
            tfrs__dense_backward_to(l->dense, x, acts[j + 1], dy, B, acc ? NULL : dx,
                                    GRAD(l->kernel), GRAD(l->bias));
            if (acc)   /* dx += dy W^T */
                tfrs__gemm(0, 1, B, l->in, l->out, 1.0f, dy, l->out, l->dense->w, l->out, 1.0f,
                           dx, l->in);
            break;
        case TFRS_LAYER_CROSS:
            tfrs__cross_backward(l->cross, acts[0], x, acts[L + 1 + j], dy, B, tmp, dx0, 1, dx,
                                 acc, GRAD(l->kernel), l->proj != 0 ? GRAD(l->v) : NULL,
                                 GRAD(l->bias));
            break;
        case TFRS_LAYER_DROPOUT:
            if (ctx != NULL && l->rate > 0.0f) {
                tfrs__dropout_key k = dropout_key(g, j, ctx);
                tfrs__dropout_backward(&k, l->rate, dy, B, l->out, dx, acc);
            } else {
                for (size_t i = 0; i < B * l->out; i++)
                    dx[i] = acc ? dx[i] + dy[i] : dy[i];
            }
            break;
        }
        if (l->src == TFRS__SRC_CONCAT)
            concat_copy(g, dcat, dy_at(g, dws, B, g->cat_c - 1),
                        g->cat_d != 0 ? dy_at(g, dws, B, g->cat_d - 1) : NULL, B, 1);
    }
#undef GRAD
}

void tfrs__graph_scatter_input_grad(tfrs__graph *g, const int32_t *ids, const tfrs__input *in,
                                    size_t B, const float *dx0, const float *dscores,
                                    const tfrs__factor *fz)
{
    for (size_t f = 0; f < g->nfeat; f++) {
        const tfrs__input *fin = in != NULL ? &in[f] : NULL;
        if (!tfrs__factor_on(fz, f))
            tfrs__feature_scatter(&g->feat[f], fin, ids + f, g->nfeat, B,
                                  dx0 + g->feat[f].offset, g->concat_dim);
        if (g->feat[f].bemb != NULL)
            tfrs__feature_bias_scatter(&g->feat[f], fin, ids + f, g->nfeat, B, dscores);
    }
    if (g->wide)
        for (size_t i = 0; i < B; i++)
            g->gbias_g += dscores[i];
}

void tfrs__graph_zero_grad(tfrs__graph *g)
{
    for (size_t k = 0; k < g->params.n; k++) {
        tfrs__param *p = &g->params.p[k];
        if (p->emb != NULL)
            tfrs_embedding_zero_grad(p->emb);
        else
            memset(p->g, 0, p->n * sizeof(float));
    }
}

double tfrs__graph_l2_loss(const tfrs__graph *g)
{
    double reg = 0.0;

    for (size_t k = 0; k < g->params.n; k++) {
        const tfrs__param *p = &g->params.p[k];
        double s = 0.0;
        if (p->l2 == 0.0f)
            continue;
        for (size_t i = 0; i < p->n; i++)
            s += (double)p->w[i] * p->w[i];
        reg += (double)p->l2 * s;
    }
    return reg;
}

/* d/dw of l2 * sum(w^2) */
void tfrs__graph_l2_grad(tfrs__graph *g)
{
    for (size_t k = 0; k < g->params.n; k++) {
        tfrs__param *p = &g->params.p[k];
        if (p->l2 != 0.0f)
            for (size_t i = 0; i < p->n; i++)
                p->g[i] += 2.0f * p->l2 * p->w[i];
    }
}

double tfrs__graph_input_l2(const tfrs__graph *g, const float *x0, size_t B, size_t scale,
                            float *dx0, const tfrs__factor *fz)
{
    size_t D = g->concat_dim;
    double reg = 0.0;

    for (size_t f = 0; f < g->nfeat; f++) {
        const tfrs__feature *ft = &g->feat[f];
        float c = 2.0f * ft->l2 / (float)scale;
        double s = 0.0;
        if (ft->l2 == 0.0f || ft->emb == NULL || tfrs__factor_on(fz, f))
            continue;
        for (size_t i = 0; i < B; i++) {
            const float *x = x0 + i * D + ft->offset;
            for (size_t k = 0; k < ft->dim; k++)
                s += (double)x[k] * x[k];
            if (dx0 != NULL) {
                float *d = dx0 + i * D + ft->offset;
                for (size_t k = 0; k < ft->dim; k++)
                    d[k] += c * x[k];
            }
        }
        reg += (double)ft->l2 * s / (double)scale;
    }
    return reg;
}

/* ---- scoring with per-call scratch ----------------------------------- */

int tfrs__graph_scratch_alloc(const tfrs__graph *g, size_t rows, tfrs__scratch *sc)
{
    size_t nfloats;
    int rc;

    memset(sc, 0, sizeof(*sc));
    if (tfrs__mul(tfrs__graph_ws_floats(g, 1, 0), rows, &nfloats) < 0)
        return tfrs__fail(TFRS_ENOMEM, "scratch for %zu rows is too large", rows);
    sc->ws = tfrs__calloc(nfloats, sizeof(float));
    sc->acts = tfrs__calloc(tfrs__graph_num_acts(g), sizeof(float *));
    if (sc->ws == NULL || sc->acts == NULL) {
        tfrs__graph_scratch_free(sc);
        return tfrs__fail(TFRS_ENOMEM, "out of memory for a batch of %zu rows", rows);
    }
    sc->rows = rows;
    if (rows >= TFRS__FACTOR_MIN_ROWS && tfrs__graph_can_factor(g)) {
        /* a block's plan: its per-example and per-table parts now, the arrays
         * of a factored feature's distinct rows when a block factors it */
        if ((rc = tfrs__factor_init(&sc->fz, g->nfeat, g->layers[0].out)) != TFRS_OK) {
            tfrs__graph_scratch_free(sc);
            return rc;
        }
        sc->factor = 1;
        if ((rc = tfrs__factor_reserve(&sc->fz, g->feat, rows, 0)) != TFRS_OK) {
            tfrs__graph_scratch_free(sc);
            return rc;
        }
    }
    return TFRS_OK;
}

void tfrs__graph_scratch_free(tfrs__scratch *sc)
{
    if (sc->factor)
        tfrs__factor_free(&sc->fz);
    tfrs__free(sc->ws);
    tfrs__free(sc->acts);
    memset(sc, 0, sizeof(*sc));
}

int tfrs__graph_score_in(const tfrs__graph *g, tfrs__scratch *sc, const int32_t *ids,
                         const tfrs__input *in, size_t n, float *scores)
{
    tfrs__graph_ctx ctx = { 0, 0, NULL, NULL, 1 };
    int rc;

    for (size_t i = 0; i < n; i += sc->rows) {
        size_t b = n - i < sc->rows ? n - i : sc->rows;
        const int32_t *k = ids + i * g->nfeat;
        const float *s;
        if (sc->factor && b >= TFRS__FACTOR_MIN_ROWS) {
            /* the per-row arrays of a factored feature are allocated here */
            if ((rc = tfrs__factor_plan(&sc->fz, g->feat, g->layers[0].dense, k, b)) != TFRS_OK)
                return rc;
            ctx.fz = &sc->fz;
        } else {
            if (sc->factor)                 /* the plan describes the last block */
                tfrs__factor_clear(&sc->fz);
            ctx.fz = NULL;
        }
        s = tfrs__graph_forward(g, k, in, b, sc->ws, sc->acts, &ctx);
        memcpy(scores + i, s, b * sizeof(float));
    }
    return TFRS_OK;
}

double tfrs__graph_score_input_l2(const tfrs__graph *g, const tfrs__scratch *sc, size_t b)
{
    const tfrs__factor *fz = sc->factor ? &sc->fz : NULL;

    return tfrs__graph_input_l2(g, sc->acts[0], b, 1, NULL, fz) +
           (fz != NULL ? tfrs__factor_input_l2(fz, g->feat, 1) : 0.0);
}

int tfrs__graph_score(const tfrs__graph *g, const int32_t *ids, const tfrs__input *in, size_t n,
                      size_t block, float *scores)
{
    tfrs__scratch sc;
    int rc = tfrs__graph_scratch_alloc(g, n < block ? n : block, &sc);

    if (rc == TFRS_OK)
        rc = tfrs__graph_score_in(g, &sc, ids, in, n, scores);
    tfrs__graph_scratch_free(&sc);
    return rc;
}

int tfrs__graph_check_scores(const float *scores, size_t n, size_t base, int candidates,
                             const char *fn)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(scores[i]))
            return tfrs__fail(TFRS_ENONFINITE, "%s: the score of %s %zu is %s (the weights are too "
                              "large for float arithmetic)", fn,
                              candidates ? "candidate" : "example", base + i,
                              isnan(scores[i]) ? "NaN" : "infinite");
    return TFRS_OK;
}
