/*
 * config_schema.h - the model description schema: the description it reads
 * into and the reader (config_schema.c).  config.h writes descriptions and
 * builds models from them.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_CONFIG_SCHEMA_H
#define TFRS_CONFIG_SCHEMA_H

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
/* The boundaries of bucketized feature f of c (tfrs__malloc'ed, f's
 * num_boundaries values), checked to be decimal numbers; messages as
 * tfrs__config_read's. */
int  tfrs__config_bounds(const tfrs__config *c, const tfrs__cfg_source *src, size_t f,
                         double **out);
/* The tables of names the schema uses for enum values and metric bits. */
typedef enum tfrs__cfg_table {
    TFRS__CFG_ACT, TFRS__CFG_LOSS, TFRS__CFG_OPT, TFRS__CFG_LAYER, TFRS__CFG_STRUCTURE,
    TFRS__CFG_METRIC, TFRS__CFG_SCHEDULE, TFRS__CFG_MONITOR, TFRS__CFG_KIND, TFRS__CFG_POOL
} tfrs__cfg_table;

/* The schema's name of value in table, or NULL. */
const char *tfrs__config_name(tfrs__cfg_table table, unsigned value);
/* A mistake of the document c was read from (src) at node and path:
 * TFRS_EPARSE with "source:line: path: what" (TFRS_EFORMAT in the model
 * file's record), as tfrs__config_read reports its own. */
int  tfrs__config_mistake(const tfrs__config *c, const tfrs__cfg_source *src,
                          const tfrs__json *node, const char *path, const char *fmt, ...)
    TFRS__PRINTF(5, 6);
/* A call's failure rc restated at node and path: TFRS_ENOMEM (and
 * TFRS_OK) as they are, anything else as `code` (0: keep rc). */
int  tfrs__config_restate(const tfrs__config *c, const tfrs__cfg_source *src, int rc, int code,
                          const tfrs__json *node, const char *path);

#endif /* TFRS_CONFIG_SCHEMA_H */
