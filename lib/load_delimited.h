/*
 * load_delimited.h - the delimited-text loader (a header line, then rows)
 * and its fuzz seam.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_LOAD_DELIMITED_H
#define TFRS_LOAD_DELIMITED_H

#include "util/common.h"

/* tfrs_dataset_load_delimited reads its file and runs the same code as
 * this.  `name` stands for the file in messages ("name:line: reason"); buf
 * need not be NUL-terminated (it is copied).  opts as for the file loader;
 * load.bad_lines counts the lines skipped by that one call. */
int tfrs__load_delimited_buffer(tfrs_dataset **out, const char *buf, size_t len,
                                const char *name, tfrs_delimited_options *opts);

#endif /* TFRS_LOAD_DELIMITED_H */
