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
#include "config_schema.h"

/* The description of model m (built or not) as the schema's JSON object,
 * with its adapted state written in (vocabulary sizes, moments,
 * boundaries); NULL if out of memory.  Keys that have their default value
 * and did not exist before this schema are left out, so that a model of
 * the tutorial's kind is described exactly as before. */
tfrs__json *tfrs__config_write(const tfrs_model *m);
/* Configures model m (unbuilt, no features yet) as c (read from src)
 * says: features with the vocabularies vocabs[i] (STRING features; others
 * NULL) and the boundaries bounds[i] (BUCKETIZED; others NULL), layers,
 * structure, task, optimizer, label and training settings; then builds
 * it.  A builder call's refusal is a mistake of the document: reported as
 * tfrs__config_read reports one, at the feature or layer it concerns. */
int  tfrs__config_apply(const tfrs__config *c, const tfrs__cfg_source *src, tfrs_model *m,
                        tfrs_vocab *const *vocabs, double *const *bounds);

#endif /* TFRS_CONFIG_H */
