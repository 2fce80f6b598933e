/*
 * config.h - the model description schema: one JSON document that says how
 * to build a model (features, layers, task, optimizer, training settings).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The same schema serves two readers: tfrs_model_from_config (a file a
 * person wrote; what it leaves out is adapted from data) and the model
 * file, whose "architecture" record is this document with everything
 * adapted written in.  docs/configuration.md describes every key.
 */
#ifndef TFRS_CONFIG_H
#define TFRS_CONFIG_H

#include "util/common.h"
#include "json.h"
#include "model.h"

typedef struct tfrs__cfg_feature {
    const char          *name;
    tfrs_feature_options o;       /* vocab and boundaries not set          */
    size_t               num_oov; /* STRING: the vocabulary's settings     */
    const char          *mask;
    size_t               vocab_size;  /* STRING: 0 when to be adapted      */
    int                  has_moments; /* NUMERIC: mean and variance given  */
    const tfrs__json    *bounds;  /* BUCKETIZED: given boundaries or NULL  */
    size_t               num_bins;    /* BUCKETIZED: adapt into num_bins   */
    size_t               rows;    /* rows of the table when known, else 0  */
    const tfrs__json    *node;    /* its object, for messages              */
} tfrs__cfg_feature;

typedef struct tfrs__cfg_layer {
    tfrs_layer_kind kind;
    size_t          units;
    tfrs_activation act;
    float           l2;
    size_t          proj;
    float           rate;
    const tfrs__json *node;
} tfrs__cfg_layer;

typedef struct tfrs__config {
    tfrs__json            *root;       /* owned: the parsed document       */
    size_t                 nfeat, nlayers;
    tfrs__cfg_feature     *feat;       /* owned arrays                     */
    tfrs__cfg_layer       *layers;
    tfrs_structure         structure;
    tfrs_task_options      task;
    tfrs_optimizer_options opt;
    const char            *label, *weight;
    uint64_t               seed;
    tfrs__training         training;
} tfrs__config;

/* Where a document came from, for messages.  A configuration file gets
 * "name:line: path: what" and TFRS_EPARSE; the model file's record gets
 * "model file: architecture: path: what" and TFRS_EFORMAT (lines mean
 * nothing in a one-line record). */
typedef struct tfrs__cfg_source {
    const char *text;     /* the document, len bytes                       */
    size_t      len;
    const char *name;     /* file name, or NULL for the model file         */
} tfrs__cfg_source;

/* Parses and checks the document: every key known and of the right type,
 * every value in range, features and layers present.  On failure c holds
 * nothing to free. */
int  tfrs__config_read(tfrs__config *c, const tfrs__cfg_source *src);
void tfrs__config_free(tfrs__config *c);
/* Frees the n vocabularies and boundary arrays of the arrays vocabs and
 * bounds (either may be NULL), and the arrays. */
void tfrs__config_free_adapted(size_t n, tfrs_vocab **vocabs, double **bounds);
/* The description of model m (built or not) as the schema's JSON object,
 * with its adapted state written in (vocabulary sizes, moments,
 * boundaries); NULL if out of memory.  Keys that have their default value
 * and did not exist before this schema are left out, so that a model of
 * the tutorial's kind is described exactly as before. */
tfrs__json *tfrs__config_write(const tfrs_model *m);
/* The boundaries of bucketized feature f of c (tfrs__malloc'ed, f's
 * num_boundaries values), checked to be decimal numbers; messages as
 * tfrs__config_read's. */
int  tfrs__config_bounds(const tfrs__config *c, const tfrs__cfg_source *src, size_t f,
                         double **out);
/* Configures model m (unbuilt, no features yet) as c (read from src)
 * says: features with the vocabularies vocabs[i] (STRING features; others
 * NULL) and the boundaries bounds[i] (BUCKETIZED; others NULL), layers,
 * structure, task, optimizer, label and training settings; then builds
 * it.  A builder call's refusal is a mistake of the document: reported as
 * tfrs__config_read reports one, at the feature or layer it concerns. */
int  tfrs__config_apply(const tfrs__config *c, const tfrs__cfg_source *src, tfrs_model *m,
                        tfrs_vocab *const *vocabs, double *const *bounds);

#endif /* TFRS_CONFIG_H */
