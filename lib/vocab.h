/*
 * vocab.h - vocabularies (private part; the API is in tfrsc.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_VOCAB_H
#define TFRS_VOCAB_H

#include "util/common.h"

/* Lookup of a byte string of `len` bytes (need not be NUL-terminated).
 * Returns the id, or -1 if unknown and the vocabulary has no OOV bucket. */
int32_t tfrs__vocab_lookup_bytes(const tfrs_vocab *v, const char *s, size_t len);
/* Deep copy. */
int tfrs__vocab_clone(tfrs_vocab **out, const tfrs_vocab *v);
/* The mask token or NULL. */
const char *tfrs__vocab_mask_token(const tfrs_vocab *v);
/* Known token i (0 <= i < num_tokens) and its length in bytes. */
const char *tfrs__vocab_token_at(const tfrs_vocab *v, size_t i, size_t *len);

/* As tfrs_vocab_create, for vocabularies read back from a model file: "[UNK]" is accepted as a token
 * even with OOV buckets, because files saved before 0.1.0 refused it may
 * hold one, and such a file must still load and predict as it did.
 * Messages start with `what`. */
int tfrs__vocab_create_stored(tfrs_vocab **out, const char *const *tokens, size_t n,
                              const tfrs_vocab_options *opts, const char *what);

#endif /* TFRS_VOCAB_H */
