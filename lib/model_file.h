/*
 * model_file.h - the model file schema: a model as safetensors tensors plus
 * its architecture in JSON.  The entry points are public (tfrs_model_save,
 * tfrs_model_load, tfrs_model_load_buffer in tfrsc.h); docs/file-format.md
 * describes the format.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_MODEL_FILE_H
#define TFRS_MODEL_FILE_H

#include "util/common.h"
/* The internals the schema maps onto tensors (white-box tests of the file
 * format inspect them too). */
#include "dense.h"
#include "model.h"
#include "vocab.h"

/* The "format" and "format_version" metadata of files this code writes;
 * files of a newer version are refused with TFRS_EVERSION. */
#define TFRS__FORMAT_NAME    "libtfrsc"
#define TFRS__FORMAT_VERSION 1

#endif /* TFRS_MODEL_FILE_H */
