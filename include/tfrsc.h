/*
 * tfrsc.h - libtfrsc, recommender ranking models in C.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * libtfrsc rebuilds the TensorFlow Recommenders "basic ranking" stack as a C
 * library: Keras-compatible string lookups, embeddings, dense layers, a
 * ranking task (loss + metrics), optimizers, and a model that composes them
 * and trains, evaluates, predicts, ranks, saves and loads.
 *
 * Conventions used throughout this header
 * ---------------------------------------
 * - Every fallible call returns an int status: TFRS_OK (0) on success, a
 *   negative tfrs_status on failure.  After a failure tfrs_last_error()
 *   gives a human readable detail for the calling thread.
 * - Constructors take `**out` first; on failure *out is set to NULL.
 *   Objects returned through `**out` belong to the caller and are released
 *   with the matching tfrs_*_free(), for which NULL is a no-op.
 * - Inputs are borrowed for the duration of the call unless documented as
 *   copied.  Returned `const` pointers are views into the handle, valid until
 *   the next call that modifies that handle or until it is freed.
 * - On failure, output arrays may have been partially written unless stated
 *   otherwise; handles are left in their previous valid state.
 * - The library never prints, never exits and never aborts on bad input.
 * - Threads: unless a section says otherwise, one thread at a time may use a
 *   given handle; distinct handles are independent.  Calls taking a `const`
 *   handle only read it and may run concurrently with each other.  Calls
 *   that take no handle (versions, status strings, the *_options_init
 *   functions, which write only *opts) and constructors (create, adapt,
 *   load, slice) may run in any number of threads at once.  The only global
 *   state is tfrs_set_allocator's and the thread-local error message.
 * - Strings are NUL-terminated byte strings, normally UTF-8.
 */
#ifndef TFRSC_H
#define TFRSC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(TFRS_BUILDING_DLL)
#  define TFRS_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define TFRS_API __attribute__((visibility("default")))
#else
#  define TFRS_API
#endif

/* ======================================================================== */
/* Versions                                                                 */
/* ======================================================================== */

#define TFRS_VERSION_MAJOR 0
#define TFRS_VERSION_MINOR 1
#define TFRS_VERSION_PATCH 0
#define TFRS_VERSION_STRING "0.1.0"
#define TFRS_VERSION_NUMBER \
    (TFRS_VERSION_MAJOR * 10000 + TFRS_VERSION_MINOR * 100 + TFRS_VERSION_PATCH)

/* Version of the library actually linked, as TFRS_VERSION_NUMBER. */
TFRS_API unsigned int tfrs_version_number(void);
/* Version of the library actually linked, as "MAJOR.MINOR.PATCH". Static. */
TFRS_API const char *tfrs_version_string(void);

/* ======================================================================== */
/* Status codes and errors                                                  */
/* ======================================================================== */

/* Values are stable: never renumbered or reused; new codes are appended. */
typedef enum tfrs_status {
    TFRS_OK         =   0,
    TFRS_ENOMEM     =  -1, /* an allocation failed                          */
    TFRS_EINVAL     =  -2, /* NULL pointer, zero size, unknown enum value   */
    TFRS_ESHAPE     =  -3, /* sizes that do not agree                       */
    TFRS_ESTATE     =  -4, /* call made in the wrong order                  */
    TFRS_EIO        =  -5, /* the operating system reported an I/O error    */
    TFRS_EFORMAT    =  -6, /* malformed model file                          */
    TFRS_EVERSION   =  -7, /* model file written by a newer format version  */
    TFRS_ENONFINITE =  -8, /* NaN or Inf: training step rolled back, or a
                              score that overflowed (predict, rank, ...)  */
    TFRS_EPARSE     =  -9, /* malformed text data (message names file:line) */
    TFRS_EDUPLICATE = -10, /* duplicate token, feature or column name       */
    TFRS_ENOTFOUND  = -11, /* named column or feature does not exist        */
    TFRS_ERANGE     = -12, /* index or value out of the allowed range       */
    TFRS_ECANCELED  = -13  /* a callback asked to stop                      */
} tfrs_status;

/* Static description of a status code; never NULL (unknown codes get a
 * generic text). Thread-safe. */
TFRS_API const char *tfrs_status_str(int status);

/* Detail message of the most recent failure in the calling thread, or "" if
 * none.  Meaningful only right after a call returned an error.  The pointer
 * stays valid until the thread's next failing libtfrsc call.  Thread-safe
 * (the message is thread-local). */
TFRS_API const char *tfrs_last_error(void);

/* ======================================================================== */
/* Memory allocation                                                        */
/* ======================================================================== */

/* Custom allocator.  `malloc` and `realloc` return NULL on failure, as the C
 * library does; `free` accepts NULL.  `realloc` may be NULL, in which case
 * the library emulates it with malloc + copy + free. */
typedef struct tfrs_allocator {
    void *(*malloc_fn)(size_t size, void *payload);
    void *(*realloc_fn)(void *ptr, size_t size, void *payload);
    void  (*free_fn)(void *ptr, void *payload);
    void  *payload;
} tfrs_allocator;

/* Routes every allocation of the library through `alloc` (copied); NULL
 * restores the C library's malloc/realloc/free.  Returns TFRS_EINVAL if
 * malloc_fn or free_fn is NULL.  Every failed allocation makes the call that
 * needed it return TFRS_ENOMEM, with no leak and its handles unchanged.
 * The model file's JSON header is handled by cJSON, whose allocation hooks
 * are process-global: while a custom allocator is installed, libtfrsc points
 * them (cJSON_InitHooks) at this allocator, and tfrs_set_allocator(NULL)
 * restores cJSON's defaults.  A program that uses cJSON itself must not hold
 * cJSON objects across a change of allocator.
 * Threads: global.  Call it before any other libtfrsc call and while no
 * libtfrsc object is alive: memory must be freed by the allocator that
 * allocated it. */
TFRS_API int tfrs_set_allocator(const tfrs_allocator *alloc);

/* ======================================================================== */
/* Vocabulary: Keras StringLookup                                           */
/* ======================================================================== */

/* Maps strings to integer ids exactly like tf.keras.layers.StringLookup:
 *
 *   index 0 .. M-1        the mask token, if any (M = 1 with a mask, else 0)
 *   index M .. M+K-1      the K out-of-vocabulary (OOV) buckets
 *   index M+K .. M+K+n-1  the n known tokens, in vocabulary order
 *
 * With the defaults (no mask, K = 1) unknown strings map to 0 and the known
 * tokens to 1..n.  With K > 1 an unknown string s goes to bucket
 * M + (fnv1a64(s) mod K), where fnv1a64 is the 64-bit FNV-1a hash of the
 * bytes of s (offset basis 0xcbf29ce484222325, prime 0x100000001b3).  Keras
 * uses FarmHash there, so bucket choices differ from Keras when K > 1.
 *
 * Threads: a vocabulary is immutable once created; any number of threads may
 * use it concurrently. */
typedef struct tfrs_vocab tfrs_vocab;

#define TFRS_VOCAB_OPTIONS_VERSION 1
typedef struct tfrs_vocab_options {
    unsigned int version;        /* set by tfrs_vocab_options_init          */
    size_t       num_oov_indices; /* K, default 1; 0 makes unknowns an error */
    const char  *mask_token;     /* default NULL: no mask token (copied)     */
} tfrs_vocab_options;

/* Fills `opts` with the defaults of the given version (pass
 * TFRS_VOCAB_OPTIONS_VERSION).  TFRS_EINVAL on NULL or an unknown version. */
TFRS_API int tfrs_vocab_options_init(tfrs_vocab_options *opts, unsigned int version);

/* Builds a vocabulary from `n` tokens, kept in the given order (copied).
 * TFRS_EDUPLICATE if a token occurs twice or equals the mask token;
 * TFRS_EINVAL if a token is NULL or not valid UTF-8, or is the OOV token
 * "[UNK]" while there are OOV buckets (num_oov_indices > 0), or tokens is
 * NULL with n > 0.  opts may be NULL (defaults).  An empty vocabulary (n = 0) is
 * allowed. */
TFRS_API int tfrs_vocab_create(tfrs_vocab **out, const char *const *tokens, size_t n,
                               const tfrs_vocab_options *opts);

/* Builds a vocabulary from data, like StringLookup.adapt() on the tutorial's
 * np.unique(): the distinct values of strings[0..n-1], sorted by their bytes
 * (memcmp order, which is Unicode code-point order for UTF-8).  The mask
 * token, if set, and the OOV token "[UNK]" are left out of the tokens, as
 * Keras' adapt() leaves them out. */
TFRS_API int tfrs_vocab_adapt(tfrs_vocab **out, const char *const *strings, size_t n,
                              const tfrs_vocab_options *opts);

/* As tfrs_vocab_adapt over the values of a string column of a dataset
 * (TFRS_ENOTFOUND / TFRS_EINVAL for a missing or non-string column).  Only
 * the values that occur in the dataset's rows count. */
struct tfrs_dataset;
TFRS_API int tfrs_vocab_adapt_column(tfrs_vocab **out, const struct tfrs_dataset *ds,
                                     const char *column, const tfrs_vocab_options *opts);

/* As tfrs_vocab_adapt_column over the tokens of a bag column: a string
 * column whose values are bags, tokens joined by `separator` (an ASCII byte
 * other than NUL; the empty string is the empty bag and empty tokens, as in
 * "a||b" or a leading or trailing separator, are skipped).  The tokens are
 * the distinct tokens of every bag that occurs in the rows, sorted as
 * tfrs_vocab_adapt sorts them, without the mask token and "[UNK]".  Time
 * O(B + T log T) and memory O(B) for B bytes of distinct bags and T
 * distinct tokens.  TFRS_EINVAL for a bad separator (or as adapt_column),
 * TFRS_ENOTFOUND for a missing column, TFRS_ERANGE past 2^32 - 2 tokens,
 * TFRS_ENOMEM.  Threads: as adapt_column (reads ds only). */
TFRS_API int tfrs_vocab_adapt_bags(tfrs_vocab **out, const struct tfrs_dataset *ds,
                                   const char *column, char separator,
                                   const tfrs_vocab_options *opts);

/* Releases a vocabulary.  NULL is a no-op. */
TFRS_API void tfrs_vocab_free(tfrs_vocab *vocab);

/* Total number of indices: mask + OOV buckets + tokens (Keras
 * vocabulary_size()).  0 for NULL. */
TFRS_API size_t tfrs_vocab_size(const tfrs_vocab *vocab);

/* Number of known tokens n (without mask and OOV).  0 for NULL. */
TFRS_API size_t tfrs_vocab_num_tokens(const tfrs_vocab *vocab);

/* Number of OOV buckets K.  0 for NULL. */
TFRS_API size_t tfrs_vocab_num_oov(const tfrs_vocab *vocab);

/* Looks one string up; unknown strings get their OOV index.  With K = 0 an
 * unknown string returns TFRS_ENOTFOUND.  The mask token maps to 0. */
TFRS_API int tfrs_vocab_lookup(const tfrs_vocab *vocab, const char *token, int32_t *id_out);

/* Looks n strings up into ids[0..n-1].  Same rules as tfrs_vocab_lookup;
 * fails on the first NULL string (TFRS_EINVAL) or unknown string with K = 0. */
TFRS_API int tfrs_vocab_lookup_n(const tfrs_vocab *vocab, const char *const *tokens, size_t n,
                                 int32_t *ids);

/* The string at `index`, as Keras get_vocabulary() lists it: the mask token,
 * then "[UNK]" for each OOV bucket, then the tokens.  *token_out is a view
 * valid while the vocabulary lives.  TFRS_ERANGE if index >= size. */
TFRS_API int tfrs_vocab_token(const tfrs_vocab *vocab, int32_t index, const char **token_out);

/* ======================================================================== */
/* Dataset: interned string columns, float columns and int64 columns        */
/* ======================================================================== */

/* A table of rows with named columns.  String columns are interned: each
 * distinct string is stored once per column and rows hold 32-bit ids into
 * that column's string pool, so that tens of millions of rows fit in memory.
 * Float columns hold one float per row (labels, weights); int64 columns one
 * exact 64-bit integer per row (timestamps, counts).
 *
 * Threads: a dataset may be read from many threads at once (every call
 * taking a const dataset); modifying calls need exclusive access. */
typedef struct tfrs_dataset tfrs_dataset;

typedef enum tfrs_column_type {
    TFRS_COLUMN_STRING = 1,
    TFRS_COLUMN_FLOAT  = 2,
    TFRS_COLUMN_INT64  = 3
} tfrs_column_type;

/* Creates an empty dataset with no columns. */
TFRS_API int tfrs_dataset_create(tfrs_dataset **out);

/* Releases a dataset.  NULL is a no-op. */
TFRS_API void tfrs_dataset_free(tfrs_dataset *ds);

/* Adds a column (name copied).  Only allowed while the dataset has no rows
 * (TFRS_ESTATE otherwise); TFRS_EDUPLICATE if the name exists. */
TFRS_API int tfrs_dataset_add_column(tfrs_dataset *ds, const char *name, tfrs_column_type type);

/* Removes the named column and frees its values and its strings, at any
 * time (e.g. the columns a model does not read, before fit: each costs 4
 * or 8 bytes a row).  The other columns keep their order, so the index of
 * each later column drops by one; every view of the dataset (string ids,
 * floats, int64s, strings, names) is invalidated.  The rows stay.
 * TFRS_EINVAL (NULL), TFRS_ENOTFOUND (no such column), TFRS_ENOMEM (the
 * dataset is unchanged). */
TFRS_API int tfrs_dataset_drop_column(tfrs_dataset *ds, const char *name);

/* Appends one row.  `strings` holds one value per string column and `floats`
 * one per float column, each in column-creation order (either may be NULL
 * when there is no column of that type).  Strings are copied (interned).
 * TFRS_EINVAL if a string is NULL or not valid UTF-8 or a float is not
 * finite; on failure the dataset is unchanged. */
TFRS_API int tfrs_dataset_append(tfrs_dataset *ds, const char *const *strings, const float *floats);

/* As tfrs_dataset_append, with `int64s` holding one value per int64 column
 * in column-creation order (may be NULL when there is none).
 * tfrs_dataset_append refuses a dataset with int64 columns (TFRS_EINVAL). */
TFRS_API int tfrs_dataset_append_row(tfrs_dataset *ds, const char *const *strings,
                                     const float *floats, const int64_t *int64s);

/* Number of rows / columns.  0 for NULL. */
TFRS_API size_t tfrs_dataset_num_rows(const tfrs_dataset *ds);
TFRS_API size_t tfrs_dataset_num_columns(const tfrs_dataset *ds);

/* Name and type of column i (0-based, creation order).  TFRS_ERANGE if i is
 * out of range.  The name is a view. */
TFRS_API int tfrs_dataset_column_info(const tfrs_dataset *ds, size_t i, const char **name,
                                      tfrs_column_type *type);

/* Index of the named column; TFRS_ENOTFOUND if absent. */
TFRS_API int tfrs_dataset_find_column(const tfrs_dataset *ds, const char *name, size_t *index);

/* View of a string column: ids[r] for each row r, indices into the column's
 * pool of `*num_strings` distinct strings.  Views are invalidated by any
 * modifying call.  TFRS_EINVAL if the column is not a string column. */
TFRS_API int tfrs_dataset_string_ids(const tfrs_dataset *ds, const char *column,
                                     const uint32_t **ids, size_t *num_strings);

/* The distinct string with pool id `id` of a string column (a view). */
TFRS_API int tfrs_dataset_string(const tfrs_dataset *ds, const char *column, uint32_t id,
                                 const char **value);

/* The string value of column `column` in row `row` (a view). */
TFRS_API int tfrs_dataset_get_string(const tfrs_dataset *ds, const char *column, size_t row,
                                     const char **value);

/* View of a float column: values[r] for each row r. */
TFRS_API int tfrs_dataset_floats(const tfrs_dataset *ds, const char *column,
                                 const float **values);

/* View of an int64 column: values[r] for each row r.  TFRS_EINVAL if the
 * column is not an int64 column. */
TFRS_API int tfrs_dataset_int64s(const tfrs_dataset *ds, const char *column,
                                 const int64_t **values);

/* Reorders the rows by a uniformly random permutation drawn from `seed`
 * (Fisher-Yates over a xoshiro256** stream seeded with splitmix64).  The same
 * seed gives the same order on every platform. */
TFRS_API int tfrs_dataset_shuffle(tfrs_dataset *ds, uint64_t seed);

/* New dataset holding rows [start, start + count) of `ds`, clamped to the
 * rows that exist (like tf.data skip(start).take(count)).  The columns are
 * copied; each string pool of the slice holds only the strings its rows use,
 * in order of first use.  `ds` is unchanged. */
TFRS_API int tfrs_dataset_slice(tfrs_dataset **out, const tfrs_dataset *ds, size_t start,
                                size_t count);

/* --- features derived from a dataset ------------------------------------ */

/* Implicit feedback (SVD++): adds to `target` the string column
 * `new_column` (copied) whose value in each target row is a bag (tokens
 * joined by `separator`): the distinct values of `item_column` among the
 * rows of `source` whose `key_column` equals that target row's
 * `key_column`.  For each user the items they rated (key "user_id", item
 * "movie_id"); with the roles swapped, for each item the users who rated
 * it.  Only the rows of `source` count: pass the training rows, never the
 * test rows.  `target` may be `source` itself or another dataset (e.g. the
 * test set) that has a string column `key_column`; the keys are matched by
 * their string values.  A key absent from source gets the empty bag "".
 *   Tokens of a bag are in order of first occurrence in source's rows; a
 * value of item_column is used as is, so one containing the separator or
 * empty (which the bag encoding could not hold) is refused: TFRS_EINVAL
 * naming it.  separator must be an ASCII byte other than NUL (TFRS_EINVAL).
 *   The new column is interned like any string column (each distinct bag
 * once, in order of first use by target's rows) and behaves as one under
 * shuffle, slice and the views; existing views stay valid.  Cost
 * O(source rows + target rows + distinct keys and items + total bytes of
 * the distinct bags); each target key's bag is built and interned once.
 * Errors: TFRS_EINVAL (NULL, empty name, bad separator, a key or item
 * column that is not a string column, a bad token), TFRS_ENOTFOUND (a
 * missing column), TFRS_EDUPLICATE (new_column exists in target),
 * TFRS_ENOMEM; on failure target is unchanged.  Threads: needs exclusive
 * access to target; source is only read. */
TFRS_API int tfrs_dataset_add_implicit_bags(tfrs_dataset *target, const char *new_column,
                                            const tfrs_dataset *source, const char *key_column,
                                            const char *item_column, char separator);

/* Keras Normalization.adapt: the mean and the population variance (divided
 * by n, as Keras) of a float or int64 column over all rows, accumulated in
 * double in two passes (mean, then the squared deviations).  int64 values
 * are converted to double (exact up to 2^53).  TFRS_EINVAL for NULL, a
 * string column or a dataset without rows; TFRS_ENOTFOUND for a missing
 * column.  O(n) time, no allocation.  Threads: reads ds only. */
TFRS_API int tfrs_dataset_column_moments(const tfrs_dataset *ds, const char *column,
                                         double *mean, double *variance);

/* Keras Discretization.adapt: bin boundaries at the quantiles of a float or
 * int64 column, for num_bins bins.  Exact, where Keras approximates them
 * with a quantile sketch: with the n values sorted (v[0] <= ... <=
 * v[n - 1]), boundary j (1 <= j < num_bins) is v[floor(j * n / num_bins)],
 * so that with distinct values exactly floor(j * n / num_bins) rows fall
 * below it (Discretization puts x in bin i when boundary[i - 1] <= x <
 * boundary[i]).  Repeated boundaries, and boundaries equal to the minimum
 * v[0] (which would leave the first bin empty), are dropped, so
 * *num_boundaries (<= num_bins - 1) may be smaller than num_bins - 1 and
 * the boundaries written to boundaries[0 .. *num_boundaries) are strictly
 * increasing.  boundaries needs room for num_bins - 1 values (it may be
 * NULL when num_bins is 1).  int64 values are converted to double.
 * O(n log n) time, O(n) memory, whatever num_bins.  TFRS_EINVAL for NULL,
 * num_bins 0, a string column or a dataset without rows; TFRS_ENOTFOUND for
 * a missing column; TFRS_ENOMEM.  Threads: reads ds only. */
TFRS_API int tfrs_dataset_column_quantiles(const tfrs_dataset *ds, const char *column,
                                           size_t num_bins, double *boundaries,
                                           size_t *num_boundaries);

/* Options of the text loaders. */
#define TFRS_LOAD_OPTIONS_VERSION 4
typedef struct tfrs_load_options {
    unsigned int version;
    int          skip_bad_lines;  /* 0 (default): the first bad line fails   */
    size_t       bad_lines;       /* out: lines skipped when skip_bad_lines  */
    /* Version 2: */
    unsigned     movielens_features; /* tfrs_dataset_load_movielens's side
                                        features: 0 (default, none) or
                                        TFRS_MOVIELENS_*_FEATURES bits   */
    /* Version 3: */
    const char  *ratings_file;    /* tfrs_dataset_load_movielens reads the
                                     ratings from this file (u.data's
                                     format: u1.base, a split of one's
                                     own) instead of dir/u.data; items and
                                     users still come from dir.  Default
                                     NULL: dir/u.data                     */
    /* Version 4: a byte range of the file (of the ratings file for
     * tfrs_dataset_load_movielens), so that each process of a data-parallel
     * job reads only its part.  0 and 0 (default): the whole file. */
    uint64_t     range_begin;     /* read only the lines that start at a
                                     byte offset in [range_begin,
                                     range_end)                          */
    uint64_t     range_end;       /* may exceed the file's size;
                                     UINT64_MAX: to the end              */
} tfrs_load_options;

/* Byte ranges (tfrs_load_options version 4).  A line starts at offset 0 or
 * right after a '\n'; it belongs to the range when the offset of its first
 * byte is >= range_begin and < range_end.  The ranges [0, a), [a, b),
 * [b, UINT64_MAX) therefore split a file's lines exactly, whatever the cut
 * points (inside a line, on a '\n', at a line start): every line is loaded
 * by exactly one of them, and the rows of their datasets, one after the
 * other, are those of the whole file, in order.  [0, 0) is the default,
 * the whole file, not an empty range: a first range that is empty is
 * [1, 1) (or skipped); [k, k) with k > 0 is empty.  range_begin >
 * range_end is TFRS_EINVAL.
 *   The loader reads from byte range_begin - 1 (the bytes before it are
 * not read: they may be anything) and stops after the last line that
 * starts before range_end, which it reads to its end (past range_end, in
 * reads of at most 64 KiB, or of the range's size if smaller, past it);
 * the cost is that of the range, not of the file.  Two exceptions read
 * more, both bounded by a run of CR and LF bytes: empty lines that end the
 * range are read on to the first other byte, to tell whether they end the
 * file (empty lines at the end of a file are ignored, elsewhere they are
 * lines), and a range that starts inside the file's final run of CR and
 * LF bytes with a line of CR bytes reads that run back to its start.
 *   The byte order mark rule stays: one is skipped only at offset 0.
 * Line numbers in messages are those of the whole file ("path:LINE:
 * reason"): on that error path only, the lines before the range are
 * counted (read through a small buffer).  skip_bad_lines applies to the
 * range, and bad_lines counts the range's skipped lines.
 * tfrs_dataset_load_movielens applies the range to the ratings file
 * (dir/u.data or ratings_file); u.item, u.user and u.genre are read whole.
 * tfrs_dataset_load_delimited (tfrs_delimited_options version 2) always
 * reads the header line (the file's first line, and at most 128 bytes past
 * it) to name the columns, and never as a data row: a range that starts
 * inside it starts after it.
 * The buffer seams of the fuzz targets ignore the range. */

/* Bits of tfrs_load_options.movielens_features. */
#define TFRS_MOVIELENS_USER_FEATURES 0x1u  /* join u.user                    */
#define TFRS_MOVIELENS_ITEM_FEATURES 0x2u  /* u.item's dates and genres, u.genre */

/* Fills `opts` with defaults.  TFRS_EINVAL on NULL or an unknown version.
 * With version 1 only the fields of version 1 are written (a program built
 * against that header has no room for the others). */
TFRS_API int tfrs_load_options_init(tfrs_load_options *opts, unsigned int version);

/* Loads MovieLens 100K from directory `dir`: u.data (user, item, rating,
 * timestamp, tab-separated) joined with u.item (Latin-1, '|'-separated, field
 * 2 the title).  Titles are transcoded to UTF-8.  Rows keep u.data's order.
 * Columns, as TFDS "movielens/100k-ratings" names them:
 *   string  "user_id"      the user id as decimal text ("42")
 *   string  "movie_id"     the item id as decimal text
 *   string  "movie_title"  the title, UTF-8
 *   float   "user_rating"  1..5 (written 4 or as an integral decimal, 4.0)
 *   int64   "timestamp"    seconds since 1970, exact (0 .. 2^63 - 1)
 * With opts->movielens_features (options version 2), side-feature columns
 * follow, in this order (TFDS's names where TFDS has the feature):
 *   TFRS_MOVIELENS_USER_FEATURES, from u.user (id|age|gender|occupation|zip,
 *   Latin-1; every user of u.data must be there):
 *   float   "raw_user_age"          the age, 0 .. 200
 *   float   "bucketized_user_age"   TFDS's age group: the largest of 18, 25,
 *                                   35, 45, 50, 56 not above the age, else 1
 *   string  "user_gender"           "M" or "F" as in the file (TFDS has a
 *                                   bool, true for "M")
 *   string  "user_occupation_text"  the occupation, as in the file (UTF-8)
 *   string  "user_zip_code"         the zip code, as in the file (UTF-8;
 *                                   some are not numbers)
 *   TFRS_MOVIELENS_ITEM_FEATURES, from u.item and u.genre:
 *   string  "movie_genres"          a bag (see the bag encoding): the names
 *                                   of u.genre (UTF-8, e.g. "Children's",
 *                                   "unknown", not TFDS's ids) of the genres
 *                                   whose flag is 1, in u.genre's index
 *                                   order, joined by '|'; "" for none
 *   int64   "movie_release_date"    the release date (field 3, D-Mon-YYYY or
 *                                   DD-Mon-YYYY, English month abbreviations)
 *                                   at 00:00 UTC, in seconds since 1970 as
 *                                   "timestamp"; an item with no date (one
 *                                   in MovieLens 100K) gets 0, i.e. as if
 *                                   released on 01-Jan-1970
 *   int64   "movie_release_year"    its year (1970 for no date)
 * TFDS's "user_occupation_label" (its own merge of occupations into the 1M
 * categories) is not provided: use "user_occupation_text".
 * u.genre holds "name|index" lines for indices 0 .. 18, each once, names
 * distinct, 1 to 100 bytes; u.item's 19 genre flags must be 0 or 1 and its
 * date empty or valid.  Without movielens_features the output and the
 * checks are exactly those of version 1 (u.user and u.genre are not read).
 * A UTF-8 byte order mark at the start of any file is skipped.
 * Malformed input gives TFRS_EPARSE with "file:line: reason"; a missing file
 * or one that is not a regular file (a FIFO, a device, a directory)
 * TFRS_EIO; unknown movielens_features bits TFRS_EINVAL.  opts may be
 * NULL.  With opts version 4, range_begin and range_end load a byte range
 * of the ratings file (see "Byte ranges" above). */
TFRS_API int tfrs_dataset_load_movielens(tfrs_dataset **out, const char *dir,
                                         tfrs_load_options *opts);

#define TFRS_DELIMITED_OPTIONS_VERSION 2
typedef struct tfrs_delimited_options {
    unsigned int       version;
    char               delimiter;      /* default ','; '\t' for TSV         */
    const char *const *float_columns;  /* names of float columns; others are */
    size_t             num_float_columns; /* string columns. Default none.   */
    tfrs_load_options  load;           /* skip_bad_lines, bad_lines; from
                                          version 2 on a whole version 4
                                          struct: range_begin, range_end
                                          (its version is checked)        */
} tfrs_delimited_options;

/* Fills `opts` with defaults: load of version 1 for version 1 (only the
 * fields a program built against that header has are written), of
 * TFRS_LOAD_OPTIONS_VERSION for version 2. */
TFRS_API int tfrs_delimited_options_init(tfrs_delimited_options *opts, unsigned int version);

/* Loads a delimited text file whose first line names the columns.  No
 * quoting: fields are the bytes between delimiters; a trailing "\r" before
 * "\n" is removed.  Float fields must be finite decimal numbers.  Every line
 * needs exactly as many fields as the header.  A UTF-8 byte order mark at the
 * start is skipped.  Malformed input gives TFRS_EPARSE with "file:line:
 * reason"; a file that is not a regular file TFRS_EIO.  opts may be NULL
 * (comma, all columns strings).  With opts version 2, load.range_begin and
 * load.range_end load a byte range of the file (see "Byte ranges" above):
 * the header is read in every range, the data rows are the range's. */
TFRS_API int tfrs_dataset_load_delimited(tfrs_dataset **out, const char *path,
                                         tfrs_delimited_options *opts);

/* ======================================================================== */
/* Embedding layer                                                          */
/* ======================================================================== */

/* A rows x dim float32 table.  Forward gathers rows; backward scatter-adds
 * the output gradient into a sparse gradient over the rows seen (duplicate
 * ids summed).  Threads: the calls taking a const embedding (forward, grad,
 * the getters) may run concurrently; backward, set_weights and zero_grad
 * modify it and need exclusive access. */
typedef struct tfrs_embedding tfrs_embedding;

/* Creates a table initialised from `seed` with Keras' "uniform" initializer:
 * U(-0.05, 0.05).  TFRS_EINVAL if rows or dim is 0 or rows >= 2^31. */
TFRS_API int tfrs_embedding_create(tfrs_embedding **out, size_t rows, size_t dim, uint64_t seed);
TFRS_API void tfrs_embedding_free(tfrs_embedding *emb);

TFRS_API size_t tfrs_embedding_rows(const tfrs_embedding *emb);
TFRS_API size_t tfrs_embedding_dim(const tfrs_embedding *emb);

/* View of the weights, row-major rows x dim.  NULL for NULL. */
TFRS_API const float *tfrs_embedding_weights(const tfrs_embedding *emb);

/* Overwrites the weights with rows*dim values (copied); `n` must equal
 * rows*dim (TFRS_ESHAPE). */
TFRS_API int tfrs_embedding_set_weights(tfrs_embedding *emb, const float *w, size_t n);

/* out[i, :] = W[ids[i], :] for i < n; out is n x dim.  TFRS_ERANGE if an id
 * is negative or >= rows (nothing written). */
TFRS_API int tfrs_embedding_forward(const tfrs_embedding *emb, const int32_t *ids, size_t n,
                                    float *out);

/* grad[ids[i], :] += dout[i, :] for i < n, into the layer's sparse gradient.
 * TFRS_ERANGE as forward. */
TFRS_API int tfrs_embedding_backward(tfrs_embedding *emb, const int32_t *ids, size_t n,
                                     const float *dout);

/* View of the accumulated gradient: a rows x dim array (zero outside the
 * touched rows) and the list of touched rows, in first-touched order. */
TFRS_API int tfrs_embedding_grad(const tfrs_embedding *emb, const float **grad,
                                 const int32_t **rows, size_t *num_rows);

/* Zeroes the gradient (only the touched rows: O(touched * dim)). */
TFRS_API void tfrs_embedding_zero_grad(tfrs_embedding *emb);

/* ======================================================================== */
/* Dense layer                                                              */
/* ======================================================================== */

typedef enum tfrs_activation {
    TFRS_ACT_LINEAR  = 0,
    TFRS_ACT_RELU    = 1,
    TFRS_ACT_SIGMOID = 2
} tfrs_activation;

/* y = act(x W + b) with x: [B, in], W: [in, out] (row-major, Keras layout),
 * b: [out], y: [B, out].  Threads: the calls taking a const layer (forward,
 * grad, the getters) may run concurrently; backward (which also uses the
 * layer's scratch space), set_weights and zero_grad need exclusive access. */
typedef struct tfrs_dense tfrs_dense;

/* Glorot-uniform kernel U(-l, l), l = sqrt(6 / (in + out)), from `seed`;
 * zero bias.  TFRS_EINVAL if in or out is 0 or act unknown. */
TFRS_API int tfrs_dense_create(tfrs_dense **out, size_t in, size_t units,
                               tfrs_activation act, uint64_t seed);
TFRS_API void tfrs_dense_free(tfrs_dense *dense);

TFRS_API size_t tfrs_dense_in(const tfrs_dense *dense);
TFRS_API size_t tfrs_dense_units(const tfrs_dense *dense);
TFRS_API tfrs_activation tfrs_dense_activation(const tfrs_dense *dense);

/* Views of the kernel (in x units) and the bias (units). */
TFRS_API const float *tfrs_dense_kernel(const tfrs_dense *dense);
TFRS_API const float *tfrs_dense_bias(const tfrs_dense *dense);

/* Overwrites kernel (in*units values) and bias (units values), copied.
 * Either may be NULL to leave it unchanged. */
TFRS_API int tfrs_dense_set_weights(tfrs_dense *dense, const float *kernel, const float *bias);

/* y = act(x W + b) for a batch of `batch` rows. */
TFRS_API int tfrs_dense_forward(const tfrs_dense *dense, const float *x, size_t batch, float *y);

/* Given the forward input x, output y and the gradient dy = dL/dy, adds
 * dL/dW and dL/db into the layer's gradient and writes dx = dL/dx ([B, in])
 * when dx is not NULL.  x, y and dy are not modified.  May allocate scratch
 * space the first time a batch size is seen. */
TFRS_API int tfrs_dense_backward(tfrs_dense *dense, const float *x, const float *y,
                                 const float *dy, size_t batch, float *dx);

/* Views of the accumulated gradients of kernel and bias. */
TFRS_API int tfrs_dense_grad(const tfrs_dense *dense, const float **dkernel, const float **dbias);

/* Zeroes the gradients. */
TFRS_API void tfrs_dense_zero_grad(tfrs_dense *dense);

/* ======================================================================== */
/* Ranking task: loss and metrics                                           */
/* ======================================================================== */

typedef enum tfrs_loss {
    TFRS_LOSS_MSE   = 0,  /* mean squared error, Keras MeanSquaredError      */
    TFRS_LOSS_BCE   = 1,  /* binary cross-entropy (TFRS Ranking's default)   */
    TFRS_LOSS_HUBER = 2   /* Huber, Keras Huber(delta)                       */
} tfrs_loss;

/* Metric flags, combined with |. */
#define TFRS_METRIC_RMSE 0x1u  /* root mean squared error over the pass      */
#define TFRS_METRIC_MAE  0x2u  /* mean absolute error over the pass          */
#define TFRS_METRIC_AUC  0x4u  /* ROC AUC over the pass, binary labels       */

/* Loss and metric values.  Fields of metrics that are not enabled are 0. */
typedef struct tfrs_metrics {
    double   loss;                /* task loss, averaged over the pass       */
    double   regularization_loss; /* L2 terms of the model, at the end       */
    double   total_loss;          /* loss + regularization_loss              */
    double   rmse;
    double   mae;
    double   auc;
    unsigned metrics;             /* which metric fields are valid           */
    size_t   examples;            /* examples seen in the pass               */
} tfrs_metrics;

/* Ranking task: turns predictions and labels into a loss (mean over the
 * batch, as Keras' SUM_OVER_BATCH_SIZE reduction) and its gradient, and
 * accumulates metrics over a pass.
 *
 * Sample weights, when given, follow Keras / TFRS: the loss is
 * sum_i w_i l_i / B (B = batch size, not the sum of the weights); RMSE and
 * MAE are weighted means sqrt(sum w se / sum w) and sum w ae / sum w; AUC
 * counts each example with weight w.  The pass loss is the sum of per-batch
 * losses times their batch sizes divided by the examples seen.
 *
 * Losses:
 *   MSE    l = (p - y)^2
 *   BCE    from logits: l = max(p,0) - p y + log(1 + exp(-|p|));
 *          from probabilities: p clipped to [1e-7, 1 - 1e-7],
 *          l = -(y log(p + 1e-7) + (1 - y) log(1 - p + 1e-7))  (as Keras)
 *   Huber  l = 0.5 d^2 if |d| <= delta, else delta |d| - 0.5 delta^2, d = p - y
 * AUC is the exact area under the ROC curve (ties count one half) of the
 * predictions seen in the pass, where Keras approximates it on 200
 * thresholds; it stores one (prediction, label, weight) per example.
 *
 * Threads: a task holds metric state: update and reset need exclusive
 * access, while loss, options and result only read it and may run
 * concurrently.  Use one task per thread to accumulate metrics. */
typedef struct tfrs_ranking_task tfrs_ranking_task;

#define TFRS_TASK_OPTIONS_VERSION 1
typedef struct tfrs_task_options {
    unsigned int version;
    tfrs_loss    loss;          /* default TFRS_LOSS_MSE                      */
    int          from_logits;   /* BCE only; default 0 (probabilities, Keras) */
    float        huber_delta;   /* Huber only; default 1.0                    */
    unsigned     metrics;       /* default TFRS_METRIC_RMSE                   */
} tfrs_task_options;

TFRS_API int tfrs_task_options_init(tfrs_task_options *opts, unsigned int version);

/* opts may be NULL (MSE with RMSE).  TFRS_EINVAL for an unknown loss,
 * an unknown metric bit or a non-positive Huber delta.  AUC may be combined
 * with any loss; its labels must then be 0 or 1. */
TFRS_API int tfrs_ranking_task_create(tfrs_ranking_task **out, const tfrs_task_options *opts);
TFRS_API void tfrs_ranking_task_free(tfrs_ranking_task *task);

/* Copies the task's configuration into *opts. */
TFRS_API int tfrs_ranking_task_options(const tfrs_ranking_task *task, tfrs_task_options *opts);

/* Mean loss over a batch of n predictions; when dpred is not NULL, writes
 * dpred[i] = d loss / d pred[i].  weights may be NULL (all 1).  Does not touch
 * the metric state. */
TFRS_API int tfrs_ranking_task_loss(const tfrs_ranking_task *task, const float *pred,
                                    const float *labels, const float *weights, size_t n,
                                    double *loss, float *dpred);

/* Adds a batch to the pass metrics: its loss (as returned by
 * tfrs_ranking_task_loss) and its predictions.  AUC needs labels 0 or 1
 * (TFRS_EINVAL otherwise).  May allocate (AUC storage). */
TFRS_API int tfrs_ranking_task_update(tfrs_ranking_task *task, const float *pred,
                                      const float *labels, const float *weights, size_t n,
                                      double batch_loss);

/* Current pass metrics. regularization_loss is 0 here (a model adds its own).
 * May allocate (AUC sorting) and so may fail with TFRS_ENOMEM. */
TFRS_API int tfrs_ranking_task_result(const tfrs_ranking_task *task, tfrs_metrics *out);

/* Starts a new pass. */
TFRS_API void tfrs_ranking_task_reset(tfrs_ranking_task *task);

/* ======================================================================== */
/* Model                                                                    */
/* ======================================================================== */

/* A ranking model:
 *
 *   features f = 1..F, each a named string input with its own vocabulary
 *   and embedding  ->  concatenation [B, sum dim_f]  ->  dense tower
 *   -> one score per example  ->  ranking task
 *
 * Life cycle: tfrs_model_create(), then configuration calls
 * (add_feature, add_dense, set_task, set_optimizer, set_label), then
 * tfrs_model_build(), which creates and initialises every parameter from the
 * seed; afterwards training, evaluation, prediction and saving.
 * Configuration calls after build and training calls before build return
 * TFRS_ESTATE.  A model loaded from a file is built.
 *
 * Features bind to dataset columns of the same name; the label (and the
 * optional sample weight) to the float columns named by set_label.
 *
 * Parameters are initialised in a fixed order from one seed: feature
 * embeddings in feature order, then dense kernels in layer order, each
 * with its own stream derived from (seed, parameter index).
 *
 * Threads: calls taking a non-const model need exclusive access.  Calls
 * taking a const model (predict, rank, evaluate, test_step, introspection)
 * only read it and may run concurrently from any number of threads on one
 * built model: they use per-call scratch memory. */
typedef struct tfrs_model tfrs_model;

typedef enum tfrs_optimizer_kind {
    TFRS_OPT_ADAGRAD = 0,
    TFRS_OPT_SGD     = 1,
    TFRS_OPT_ADAM    = 2
} tfrs_optimizer_kind;

/* Optimizer settings.  Defaults are Keras' for the chosen kind:
 *   Adagrad  learning_rate 0.001, initial_accumulator 0.1, epsilon 1e-7;
 *            acc += g^2; w -= lr g / (sqrt(acc) + eps)
 *   SGD      learning_rate 0.01, momentum 0; v = m v - lr g; w += v
 *   Adam     learning_rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7;
 *            the Keras update with bias correction folded into lr.
 * Embedding tables update sparsely: only rows seen in the batch change (their
 * accumulators, moments and weights); Adam's step counter is global (it
 * stops at 2^64 - 2).  Settings under which no step could succeed are
 * refused with TFRS_EINVAL: Adagrad with initial_accumulator 0 and epsilon 0
 * (a zero gradient would divide 0 by 0). */
/* Learning-rate schedules (version 2 of the options). */
typedef enum tfrs_lr_schedule {
    TFRS_LR_CONSTANT    = 0,  /* learning_rate at every step (the default)  */
    TFRS_LR_EXPONENTIAL = 1,  /* Keras ExponentialDecay                     */
    TFRS_LR_COSINE      = 2   /* Keras CosineDecay                          */
} tfrs_lr_schedule;

/* Version 2 appends a learning-rate schedule and gradient clipping.  The
 * learning rate of an update is the schedule's value at s, the number of
 * updates the optimizer has applied before it (0 for the first; Keras'
 * optimizer.iterations), which a checkpoint saves: a resumed model goes on
 * with the schedule exactly.  With lr = learning_rate, W = warmup_steps,
 * w0 = warmup_initial_lr, N = decay_steps:
 *   s < W (linear warm-up, any schedule):  lr(s) = w0 + (lr - w0) s / W
 *   otherwise, with t = s - W:
 *     CONSTANT     lr
 *     EXPONENTIAL  lr * decay_rate^(t / N)   (t / N an integer division
 *                  when staircase is 1)
 *     COSINE       lr * ((1 - alpha) * 0.5 (1 + cos(pi min(t, N) / N)) + alpha)
 * With W = 0 these are Keras' ExponentialDecay(lr, N, decay_rate, staircase)
 * and CosineDecay(lr, N, alpha); with W > 0 the cosine schedule is Keras'
 * CosineDecay(initial_learning_rate = w0, N, alpha, warmup_target = lr,
 * warmup_steps = W), and the other two warm up the same way before their
 * own curve (Keras has no warm-up for them).  Values are computed in double
 * and rounded to float once (Keras computes in float32: the last bit may
 * differ).  docs/keras-semantics.md has the details.
 *
 * global_clipnorm > 0 clips the gradients by their global norm, as Keras'
 * global_clipnorm: after the gradients of a batch (L2 included) are summed,
 * n = sqrt(sum of the squares of every gradient value of every parameter;
 * for embedding tables, of the rows the batch touched), and when n >
 * global_clipnorm every gradient is multiplied by global_clipnorm / n
 * before the update.  A row that occurs several times in a batch has one
 * summed gradient here where TensorFlow's IndexedSlices keep one slice per
 * occurrence, so the norm differs from TF's when ids repeat in a batch.
 *
 * Checks (TFRS_EINVAL, at tfrs_model_set_optimizer and
 * tfrs_optimizer_learning_rate): an unknown schedule; decay_steps 0 for
 * EXPONENTIAL or COSINE; decay_rate outside (0, 1] for EXPONENTIAL; staircase
 * not 0 or 1; alpha outside [0, 1]; a negative or non-finite decay_rate,
 * warmup_initial_lr or global_clipnorm.  Callers of version 1 get the
 * version-2 defaults (constant, no warm-up, no clipping). */
#define TFRS_OPTIMIZER_OPTIONS_VERSION 2
typedef struct tfrs_optimizer_options {
    unsigned int        version;
    tfrs_optimizer_kind kind;
    float               learning_rate;
    float               initial_accumulator; /* Adagrad                      */
    float               epsilon;             /* Adagrad, Adam                */
    float               momentum;            /* SGD                          */
    float               beta1, beta2;        /* Adam                         */
    /* version 2 */
    tfrs_lr_schedule    schedule;            /* default TFRS_LR_CONSTANT     */
    uint64_t            decay_steps;         /* N; default 0 (must be set)   */
    float               decay_rate;          /* EXPONENTIAL; default 0 (set) */
    int                 staircase;           /* EXPONENTIAL; default 0       */
    float               alpha;               /* COSINE floor; default 0      */
    uint64_t            warmup_steps;        /* W; default 0 (no warm-up)    */
    float               warmup_initial_lr;   /* w0; default 0                */
    float               global_clipnorm;     /* default 0: no clipping       */
} tfrs_optimizer_options;

/* Fills the defaults of `kind` (see above). */
TFRS_API int tfrs_optimizer_options_init(tfrs_optimizer_options *opts, unsigned int version,
                                         tfrs_optimizer_kind kind);

/* The learning rate of the update that follows `step` applied updates
 * under `opts` (the schedule above; learning_rate for a version-1 struct),
 * into *lr_out.  TFRS_EINVAL for NULL arguments, an unknown version or
 * settings that tfrs_model_set_optimizer would refuse (*lr_out unchanged).
 * Reads only *opts. */
TFRS_API int tfrs_optimizer_learning_rate(const tfrs_optimizer_options *opts, uint64_t step,
                                          float *lr_out);

/* Creates an empty, unbuilt model whose parameters will be drawn from
 * `seed`.  Defaults until configured: MSE task with RMSE, Adagrad with Keras
 * defaults, label column "label", no weights. */
TFRS_API int tfrs_model_create(tfrs_model **out, uint64_t seed);
TFRS_API void tfrs_model_free(tfrs_model *model);

/* Adds a string feature `name` (copied), looked up in `vocab` (copied) and
 * embedded in `embedding_dim` dimensions; its embedding has
 * tfrs_vocab_size(vocab) rows.  TFRS_EDUPLICATE for a repeated name. */
TFRS_API int tfrs_model_add_feature(tfrs_model *model, const char *name, const tfrs_vocab *vocab,
                                    size_t embedding_dim);

/* Kinds of feature column (see tfrs_feature_options and
 * docs/featurization.md). */
typedef enum tfrs_feature_kind {
    TFRS_FEATURE_STRING     = 0, /* token -> vocabulary index (StringLookup) */
    TFRS_FEATURE_HASHED     = 1, /* token -> hash bucket (Keras Hashing)     */
    TFRS_FEATURE_NUMERIC    = 2, /* number -> normalized value (Normalization) */
    TFRS_FEATURE_BUCKETIZED = 3  /* number -> bucket (Discretization)        */
} tfrs_feature_kind;

/* Pooling of a bag (a row holding several tokens of a STRING or HASHED
 * feature).  With n tokens whose rows are e_1 .. e_n:
 *   SUM    e_1 + ... + e_n
 *   MEAN   (e_1 + ... + e_n) / n
 *   SQRTN  (e_1 + ... + e_n) / sqrt(n)   (SVD++'s |N(u)|^-1/2; TF's "sqrtn")
 * An empty bag (n = 0) pools to zeros.  A token that occurs twice counts
 * twice. */
typedef enum tfrs_pooling {
    TFRS_POOL_NONE  = 0,  /* one token per row (not a bag)                  */
    TFRS_POOL_SUM   = 1,
    TFRS_POOL_MEAN  = 2,
    TFRS_POOL_SQRTN = 3
} tfrs_pooling;

/* How a feature column reads its dataset column and what it feeds into the
 * model's input (the concatenation x0 of every feature's columns).
 *
 *   kind STRING      string column; the token's index in `vocab` (copied)
 *                    selects a row of a table of tfrs_vocab_size(vocab) rows.
 *   kind HASHED      string column; the token's bucket fnv1a64(token) mod
 *                    num_buckets selects a row of a num_buckets-row table
 *                    (Keras Hashing uses FarmHash: buckets differ from
 *                    Keras').  No vocabulary.
 *   kind NUMERIC     float or int64 column; feeds 1 column of x0, the value
 *                    (x - mean) / max(sqrt(variance), 1e-7) as Keras'
 *                    Normalization.  No table; embedding_dim, pooling, l2
 *                    and bias do not apply.
 *   kind BUCKETIZED  float or int64 column; the bucket of x is the number of
 *                    boundaries <= x (Keras Discretization: bucket 0 below
 *                    the first boundary, num_boundaries at or above the
 *                    last), selecting a row of a num_boundaries + 1-row table.
 *
 * Bags (STRING and HASHED with pooling other than NONE): the column's
 * value is a bag's tokens joined by `separator` ("Action|Comedy"); the
 * empty string is the empty bag and empty tokens are skipped ("a||b" is the
 * bag a, b).  The bag's rows are pooled as tfrs_pooling says.
 *
 * Every table feature is embedded in embedding_dim columns of x0 (Keras'
 * uniform initializer, as tfrs_model_add_feature).  `l2` > 0 regularizes
 * the feature's (pooled) embedding e_i of each example as Keras'
 * activity_regularizer=L2(l2): a batch of B examples adds
 * l2 * (1/B) * sum_i ||e_i||^2 to the loss it trains on, so only the rows
 * the batch uses get its gradient.  It is reported in
 * tfrs_metrics.regularization_loss: by fit, the last batch's term; by
 * evaluate, l2 times the mean over the evaluated examples.  `bias` != 0 gives the
 * feature a second table of one scalar per row (zero-initialized), pooled
 * like the embedding and added to the score: the "wide" part of a wide and
 * deep model.  A model with at least one such feature also gets a global
 * scalar bias (zero-initialized) added to every score.  embedding_dim may
 * be 0 when bias is set: the feature then only feeds the wide part. */
#define TFRS_FEATURE_OPTIONS_VERSION 1
typedef struct tfrs_feature_options {
    unsigned int      version;        /* set by tfrs_feature_options_init     */
    tfrs_feature_kind kind;           /* default TFRS_FEATURE_STRING          */
    size_t            embedding_dim;  /* default 32                           */
    const tfrs_vocab *vocab;          /* STRING: required (copied)            */
    size_t            num_buckets;    /* HASHED: 1 .. 2^31 - 1                */
    tfrs_pooling      pooling;        /* STRING, HASHED: default NONE         */
    char              separator;      /* bags: default '|'; ASCII, not NUL    */
    double            mean;           /* NUMERIC: default 0                   */
    double            variance;       /* NUMERIC: default 1; finite, >= 0     */
    const double     *boundaries;     /* BUCKETIZED: finite, strictly         */
    size_t            num_boundaries; /*   increasing (copied); 0 .. 2^31 - 2 */
    float             l2;             /* default 0: no embedding L2           */
    int               bias;           /* default 0: no wide path              */
} tfrs_feature_options;

/* Fills `opts` with the defaults above.  TFRS_EINVAL on NULL or an unknown
 * version. */
TFRS_API int tfrs_feature_options_init(tfrs_feature_options *opts, unsigned int version);

/* Adds a feature column `name` (copied; bound to the dataset column of the
 * same name) described by opts.  TFRS_EDUPLICATE for a repeated name;
 * TFRS_EINVAL for settings that do not fit the kind (a STRING feature
 * without vocab, num_buckets 0, boundaries not strictly increasing, a
 * negative or non-finite l2, mean or variance, embedding_dim 0 without
 * bias, an unknown kind or pooling, pooling on a number); TFRS_ESTATE after
 * build.  tfrs_model_add_feature(m, name, vocab, dim) is this with kind
 * STRING, that vocab and that dim.  Calls that take looked-up ids
 * (train_step, test_step, predict_ids, rank_ids, lookup_dataset) need
 * every feature to have one table row per example: they return TFRS_EINVAL
 * for a model with a bag or a NUMERIC feature. */
TFRS_API int tfrs_model_add_feature_ex(tfrs_model *model, const char *name,
                                       const tfrs_feature_options *opts);

/* The options of feature i, as given (views valid while the model lives;
 * opts->vocab is the model's copy).  TFRS_ERANGE if i >= the number of
 * features. */
TFRS_API int tfrs_model_feature_options(const tfrs_model *model, size_t i,
                                        tfrs_feature_options *opts);

/* Appends a dense layer of `units` outputs with activation `act` and an L2
 * kernel regularizer of strength `l2` (0 for none; adds l2 * sum(W^2) to the
 * total loss, as Keras' L2 regularizer).  The last layer must have 1 unit. */
TFRS_API int tfrs_model_add_dense(tfrs_model *model, size_t units, tfrs_activation act, float l2);

/* Layers and structure.  Besides dense layers a model may hold DCN-v2
 * cross layers (tfrs.layers.dcn.Cross) and dropout layers (Keras
 * Dropout), in the order they are added; docs/keras-semantics.md has the
 * formulas.  Parameter tensors are named by kind: dense.<j>.* counts dense
 * layers only, cross.<k>.* cross layers only. */
typedef enum tfrs_layer_kind {
    TFRS_LAYER_DENSE   = 0,
    TFRS_LAYER_CROSS   = 1,
    TFRS_LAYER_DROPOUT = 2
} tfrs_layer_kind;

/* How the layers connect (tfrs_model_set_structure):
 *   STACKED   (default) each layer takes the previous one's output, the
 *             first takes the concatenated features x0; cross layers also
 *             take x0 as their x0, so their input must be x0's width D.
 *   PARALLEL  the DCN-v2 paper's: the cross layers form one tower on x0,
 *             the dense layers except the last a deep tower on x0, and the
 *             last dense layer (1 unit) takes the concatenation of the
 *             cross tower's output and the deep tower's (just the cross
 *             tower's if there is no other dense layer).  A dropout layer
 *             belongs to the tower of the layer added just before it.
 *             Needs at least one cross layer. */
typedef enum tfrs_structure {
    TFRS_STRUCTURE_STACKED  = 0,
    TFRS_STRUCTURE_PARALLEL = 1
} tfrs_structure;

/* Appends a DCN-v2 cross layer: x_{l+1} = x0 * (x_l W + b) + x_l
 * (elementwise product, row vectors) with W [D, D] (projection_dim 0, full
 * rank) or W = U V, U [D, r] and V [r, D] (projection_dim r, low rank, at
 * most D / 2 as in TFRS: checked by build), D the width of x0.  Kernels
 * are initialised truncated-normal (stddev 0.05), the bias [D] to zero; l2
 * (>= 0, finite) adds l2 * sum(W^2) (low rank: of U and of V) to the
 * loss.  TFRS_EINVAL (NULL model, bad l2, projection_dim > 2^31 - 1),
 * TFRS_ESTATE (built), TFRS_ENOMEM.  Not thread-safe on the model. */
TFRS_API int tfrs_model_add_cross(tfrs_model *model, size_t projection_dim, float l2);

/* Appends a dropout layer: during training (fit, train_step) each unit is
 * zeroed with probability `rate` and the others scaled by 1 / (1 - rate);
 * predict, rank, evaluate and test_step use it as the identity.  Masks
 * are a hash of (model seed, layer position, optimizer steps taken, row
 * index within the batch, unit): reproducible, the same for any thread
 * count, and continued exactly by a model resumed from a checkpoint.
 * TFRS_EINVAL (NULL model, rate not in [0, 1)), TFRS_ESTATE (built),
 * TFRS_ENOMEM. */
TFRS_API int tfrs_model_add_dropout(tfrs_model *model, float rate);

/* Chooses how the layers connect (see tfrs_structure); allowed until
 * build.  TFRS_EINVAL (NULL model, unknown structure), TFRS_ESTATE
 * (built). */
TFRS_API int tfrs_model_set_structure(tfrs_model *model, tfrs_structure structure);

/* Introspection: the model's structure (STACKED for NULL), its number of
 * layers of all kinds, and the kind of layer i (-1 if model is NULL or
 * i is out of range).  tfrs_model_num_dense and tfrs_model_dense count
 * dense layers only. */
TFRS_API tfrs_structure tfrs_model_structure(const tfrs_model *model);
TFRS_API size_t tfrs_model_num_layers(const tfrs_model *model);
TFRS_API int tfrs_model_layer_kind(const tfrs_model *model, size_t i);

/* Uses a copy of the task's configuration (not its metric state). */
TFRS_API int tfrs_model_set_task(tfrs_model *model, const tfrs_ranking_task *task);

/* Sets the optimizer (copied).  Allowed before build, and after build only
 * while no step has been taken with another kind (TFRS_ESTATE). The learning
 * rate, the schedule and the clipping may be changed at any time; the
 * schedule is evaluated at the model's step counter, which a change of
 * settings keeps (a new schedule takes over at the current step).
 * TFRS_EINVAL for settings refused as documented with the options. */
TFRS_API int tfrs_model_set_optimizer(tfrs_model *model, const tfrs_optimizer_options *opts);

/* Names the float label column and the optional sample-weight column
 * (NULL for none), both copied.  Allowed at any time. */
TFRS_API int tfrs_model_set_label(tfrs_model *model, const char *label_column,
                                  const char *weight_column);

/* Allocates and initialises the parameters.  Needs at least one feature and
 * a last dense layer of 1 unit, and layers that fit the structure
 * (tfrs_model_set_structure); TFRS_ESTATE otherwise, naming the layer. */
TFRS_API int tfrs_model_build(tfrs_model *model);

/* Introspection. */
TFRS_API size_t tfrs_model_num_features(const tfrs_model *model);
TFRS_API const char *tfrs_model_feature_name(const tfrs_model *model, size_t i);
TFRS_API const tfrs_vocab *tfrs_model_feature_vocab(const tfrs_model *model, size_t i);
TFRS_API const tfrs_embedding *tfrs_model_feature_embedding(const tfrs_model *model, size_t i);
TFRS_API size_t tfrs_model_num_dense(const tfrs_model *model);
TFRS_API const tfrs_dense *tfrs_model_dense(const tfrs_model *model, size_t i);
/* Total number of trainable float parameters (0 before build). */
TFRS_API size_t tfrs_model_num_parameters(const tfrs_model *model);

/* --- training ----------------------------------------------------------- */

/* One optimizer step on a batch of n examples given as looked-up ids,
 * row-major: ids[i * F + f] is example i's index for feature f.  labels has
 * n values; weights may be NULL.  On success *batch_loss (may be NULL) gets
 * the batch's task loss.  On a NaN or Inf in the loss, the gradients or the
 * updated parameters, returns TFRS_ENONFINITE with every parameter and
 * optimizer state exactly as before the call. */
TFRS_API int tfrs_model_train_step(tfrs_model *model, const int32_t *ids, const float *labels,
                                   const float *weights, size_t n, double *batch_loss);

/* Forward pass and loss only, for n examples as in train_step; adds to
 * nothing.  *batch_loss gets the task loss. scores (may be NULL) gets the n
 * predictions. */
TFRS_API int tfrs_model_test_step(const tfrs_model *model, const int32_t *ids,
                                  const float *labels, const float *weights, size_t n,
                                  double *batch_loss, float *scores);

/* Looks up a dataset's feature columns: ids_out[r * F + f] (n_rows * F
 * values, caller-allocated) for every row. TFRS_ENOTFOUND if a feature
 * column is missing.  Each distinct string is looked up once. */
TFRS_API int tfrs_model_lookup_dataset(const tfrs_model *model, const tfrs_dataset *ds,
                                       int32_t *ids_out);

/* Progress report passed to the fit callback. */
typedef struct tfrs_progress {
    int          epoch;         /* 1-based                                  */
    int          epochs;
    size_t       batch;         /* 1-based batch within the epoch           */
    size_t       batches;       /* batches per epoch                        */
    int          end_of_epoch;  /* 1 on the per-epoch call                  */
    double       seconds;       /* wall time since the epoch started        */
    tfrs_metrics metrics;       /* running metrics of the epoch so far      */
    /* Appended with fit options version 2.  The library allocates this
     * struct, so fields may be appended in later versions: never copy it by
     * value into storage of your own compiled against an older header. */
    int          has_validation; /* 1 on end-of-epoch calls with validation */
    tfrs_metrics validation;    /* the epoch's validation metrics, then     */
    int          best_epoch;    /* best epoch so far (1-based, 0 if none)   */
    int          stopping;      /* 1 if early stopping ends fit after this  */
} tfrs_progress;

/* Called after every batch and once more at the end of each epoch.  Return
 * 0 to continue; any other value stops fit with TFRS_ECANCELED (the model
 * keeps the steps taken). */
typedef int (*tfrs_progress_fn)(const tfrs_progress *progress, void *payload);

/* The validation value that early stopping watches (Keras' monitor). */
typedef enum tfrs_monitor {
    TFRS_MONITOR_LOSS       = 0,  /* "val_loss": task loss, lower is better */
    TFRS_MONITOR_TOTAL_LOSS = 1,  /* task + regularization loss, lower      */
    TFRS_MONITOR_RMSE       = 2,  /* lower; the task must compute RMSE      */
    TFRS_MONITOR_MAE        = 3,  /* lower; the task must compute MAE       */
    TFRS_MONITOR_AUC        = 4   /* higher; the task must compute AUC      */
} tfrs_monitor;

/* Version 2 appends validation and early stopping (Keras' validation_data
 * and EarlyStopping callback); see tfrs_model_fit.  Callers of version 1
 * get their defaults: no validation. */
#define TFRS_FIT_OPTIONS_VERSION 3
struct tfrs_exchange;
typedef struct tfrs_fit_options {
    unsigned int     version;
    int              epochs;        /* default 1                            */
    size_t           batch_size;    /* default 32 (Keras' default)          */
    int              shuffle;       /* default 1: reshuffle every epoch     */
    uint64_t         shuffle_seed;  /* default 0                            */
    tfrs_progress_fn progress;      /* may be NULL                          */
    void            *payload;       /* passed to progress                   */
    int              threads;       /* default 1; see tfrs_model_fit        */
    /* version 2 */
    const tfrs_dataset *validation; /* default NULL: no validation          */
    size_t           validation_batch_size; /* default 0: batch_size        */
    tfrs_metrics    *validation_history; /* may be NULL; else `epochs`
                                       entries, one written per epoch run   */
    int              early_stopping; /* default 0; 1 needs validation       */
    tfrs_monitor     monitor;       /* default TFRS_MONITOR_LOSS            */
    int              patience;      /* default 0 (Keras'), >= 0             */
    double           min_delta;     /* default 0, >= 0: the least change
                                       that counts as an improvement        */
    int              restore_best_weights; /* default 0; 1 needs validation */
    int             *epochs_run;    /* may be NULL: gets the epochs run     */
    int             *best_epoch;    /* may be NULL: gets the best epoch
                                       (1-based), 0 without validation      */
    /* version 3 */
    const struct tfrs_exchange *exchange; /* default NULL: this process
                                       alone; see "Data-parallel training"  */
} tfrs_fit_options;

TFRS_API int tfrs_fit_options_init(tfrs_fit_options *opts, unsigned int version);

/* Trains on `train` for opts->epochs epochs of batches of opts->batch_size
 * rows (the last batch may be smaller).  With shuffle, epoch e visits the
 * rows in a permutation drawn from (shuffle_seed, e).  history, when not
 * NULL, has room for opts->epochs entries and receives one per epoch run
 * (fewer after an early stop) of training metrics (loss averaged over the
 * epoch, regularization loss at its end).  On an error
 * the epochs already completed are kept in the model and in history.
 *
 * threads (1 .. 256) > 1 splits every batch into slices that that many threads (the
 * caller and threads - 1 workers, started by the first fit with that count
 * and kept idle, with their buffers, until the model is freed or a fit asks
 * for another count) take through the
 * forward and backward passes; their gradients are summed in a fixed order,
 * so results are bit-identical from run to run for a given thread count, but
 * differ in the last bits from another thread count.  BLAS calls then run on
 * several threads at once: use a single-threaded BLAS or set
 * OPENBLAS_NUM_THREADS=1, or BLAS's own threads will compete for the cores.
 * The library never changes BLAS's thread count. */
/*
 * Validation and early stopping (version 2 of the options).  With a
 * validation dataset, every epoch ends with an evaluation of it as
 * tfrs_model_evaluate(model, validation, validation_batch_size or
 * batch_size, ...) does, written to validation_history[e] (if given) and
 * shown to the end-of-epoch progress call (has_validation, validation,
 * best_epoch, stopping).  The dataset is looked up once, before the first
 * epoch, so a missing column fails before any step.  The monitored value
 * v of epoch e improves on the best so far when v + min_delta < best
 * (v - min_delta > best for AUC); the first epoch always does.  best_epoch
 * is the last epoch that improved.  As Keras' EarlyStopping: a counter of
 * epochs without improvement, reset by an improvement, and with
 * early_stopping = 1 fit stops after an epoch other than the first at which
 * the counter reaches `patience` (so patience 0 and 1 both stop at the first
 * epoch without improvement).  Stopping early returns TFRS_OK.
 * restore_best_weights = 1 copies every parameter of the model at the end of
 * each improving epoch (one copy of the weights held by the call) and, when
 * fit returns TFRS_OK, puts the copy of the best epoch back, whether or not
 * training stopped early (as Keras).  The optimizer state (slots and step
 * counter, hence the learning-rate schedule) and the epoch counter that
 * seeds the shuffle stay those of the last epoch run, as in Keras, so a
 * later fit continues from there.  After an error or a stop by the progress
 * callback nothing is restored.  *epochs_run and *best_epoch (when not NULL)
 * are written on every return after the options were accepted.
 * TFRS_EINVAL: early_stopping or restore_best_weights without a validation
 * dataset, a negative patience, a negative or non-finite min_delta, an
 * unknown monitor or one whose metric the task does not compute, flags not
 * 0 or 1.  The validation dataset fails as tfrs_model_evaluate would
 * (TFRS_ENOTFOUND for a missing column, TFRS_EINVAL for no rows).
 */
TFRS_API int tfrs_model_fit(tfrs_model *model, const tfrs_dataset *train,
                            const tfrs_fit_options *opts, tfrs_metrics *history);

/* --- data-parallel training --------------------------------------------- */

/* The hook that lets several processes train one model together, each on its
 * own rows (libtfrsc-mpi, tfrsc_mpi.h, builds on it; another transport can
 * too).  Every process holds the same model (same configuration, vocabularies
 * and weights) and calls tfrs_model_fit with the same options and an
 * exchange.  fit then:
 *
 *   - draws each epoch's permutation of all `global_rows` rows of all the
 *     processes, from (shuffle_seed, epoch) exactly as a single process
 *     holding them all would; the dataset given to fit holds the global rows
 *     first_row .. first_row + n - 1 (its n rows, in order);
 *   - cuts the permutation into global batches of batch_size rows, and
 *     trains each process on the rows of each global batch that it holds (any
 *     number, 0 included);
 *   - divides every loss sum by the global batch's size, not the local one,
 *     so that the gradients of all processes add up to the gradient of the
 *     whole batch;
 *   - after each local backward pass calls exchange(grads, payload), which
 *     must replace this process's gradients and sums by their totals over all
 *     processes (see tfrs_exchange_grads), identically on every process;
 *   - then adds the weight L2 penalties, clips and applies the optimizer as
 *     one process would, so that all processes keep identical weights.
 *
 * The epoch metrics (progress, history) are computed from the exchanged sums
 * and so describe the whole global batch on every process.  With one process
 * (global_rows = n, first_row = 0, an exchange that returns at once) fit
 * gives the same bits as without the exchange.  Results of N processes agree
 * with one process to float summation order (docs/distributed.md).
 *
 * Not available with an exchange (TFRS_EINVAL): a validation dataset (early
 * stopping, restore_best_weights), the AUC metric, global_rows >= 2^32,
 * a dataset without rows.  Dropout draws its masks by the row's
 * place in the local batch, so N processes draw other masks than one. */

/* One embedding table's gradient, as the exchange receives it. */
typedef struct tfrs_table_grad {
    size_t   rows, dim;
    float   *grad;     /* rows x dim, row-major: zero outside the listed rows */
    int32_t *ids;      /* room for `rows` ids: the rows touched              */
    size_t   num_ids;  /* in: this process's touched rows; out: the rows
                          touched by any process, each once, listed in the
                          same order on every process                      */
} tfrs_table_grad;

/* The sums an exchange adds up over all processes (indices of
 * tfrs_exchange_grads.sums). */
enum {
    TFRS_SUM_LOSS   = 0,  /* task loss over the global batch size           */
    TFRS_SUM_REG    = 1,  /* embedding L2 (activity) over the global size   */
    TFRS_SUM_ROWS   = 2,  /* rows of the batch                              */
    TFRS_SUM_WEIGHT = 3,  /* sum of the sample weights (rows without any)   */
    TFRS_SUM_SE     = 4,  /* sum of weight x (score - label)^2              */
    TFRS_SUM_AE     = 5,  /* sum of weight x |score - label|                */
    TFRS_NUM_SUMS   = 6
};

/* What one training step hands to the exchange.  The exchange must, on
 * every process alike:
 *   - replace dense[0 .. num_dense) by its sum over all processes;
 *   - for each table, add the other processes' rows into grad, list every
 *     row touched by any process in ids (same order everywhere) and set
 *     num_ids; rows it does not list must stay zero;
 *   - replace sums[0 .. TFRS_NUM_SUMS) by their totals.
 * The buffers belong to the model and are valid during the call only. */
typedef struct tfrs_exchange_grads {
    uint64_t         step;       /* optimizer steps before this one         */
    float           *dense;      /* every dense parameter's gradient, in the
                                    parameter table's order, packed         */
    size_t           num_dense;
    tfrs_table_grad *tables;     /* one per embedding table, table order    */
    size_t           num_tables;
    double          *sums;       /* TFRS_NUM_SUMS values                     */
} tfrs_exchange_grads;

/* Returns TFRS_OK, or a status that fit then returns, unchanged, with no
 * update applied. */
typedef int (*tfrs_exchange_fn)(tfrs_exchange_grads *grads, void *payload);

#define TFRS_EXCHANGE_VERSION 1
typedef struct tfrs_exchange {
    unsigned int     version;      /* TFRS_EXCHANGE_VERSION                 */
    tfrs_exchange_fn exchange;
    void            *payload;
    uint64_t         global_rows;  /* rows of all processes together       */
    uint64_t         first_row;    /* this process's first global row       */
    size_t           skip_batches; /* batches of the first epoch already
                                      trained (resuming a checkpoint saved
                                      within an epoch); 0 otherwise         */
} tfrs_exchange;

/* The training counters that a checkpoint saves: optimizer steps taken and
 * epochs completed by fit.  Either pointer may be NULL. */
TFRS_API int tfrs_model_training_state(const tfrs_model *model, uint64_t *steps,
                                       uint64_t *epochs_done);

/* A 64-bit FNV-1a hash of every parameter's bits, in the parameter table's
 * order: equal models (same configuration and weights, bit for bit) have
 * equal hashes, so processes can check cheaply that they hold the same
 * model.  TFRS_EINVAL before build. */
TFRS_API int tfrs_model_weights_hash(const tfrs_model *model, uint64_t *hash);

/* Evaluates on `ds` in batches of batch_size rows (0 = all at once): task
 * loss averaged over all examples (not the last batch's, as TFRS/Keras
 * report), the current regularization loss, their sum and every metric of
 * the task.  Does not change the model. */
TFRS_API int tfrs_model_evaluate(const tfrs_model *model, const tfrs_dataset *ds,
                                 size_t batch_size, tfrs_metrics *out);

/* --- inference ---------------------------------------------------------- */

/* No call returns TFRS_OK with a NaN or infinite score: predict,
 * predict_ids, rank, rank_ids, test_step and evaluate return
 * TFRS_ENONFINITE, naming the first example or candidate whose score is
 * not finite (weights too large for float arithmetic, e.g. after training
 * with a huge learning rate or from a crafted model file).  Counts whose
 * products with the number of features overflow are TFRS_EINVAL, checked
 * before any array is read. */

/* Scores n examples given as strings, row-major: values[i * F + f] is
 * example i's value of feature f; unknown strings take their OOV index.
 * Any n (processed in internal blocks). */
TFRS_API int tfrs_model_predict(const tfrs_model *model, const char *const *values, size_t n,
                                float *scores);

/* Scores every row of `ds`: scores[r] (the caller's array of
 * tfrs_dataset_num_rows(ds) floats) for row r, the features read from the
 * dataset's columns of the same names as fit reads them (no label needed).
 * The same values as predict of the rows' values, bit for bit.  A dataset
 * without rows writes nothing.  TFRS_ENOTFOUND / TFRS_EINVAL for a missing
 * column or one of the wrong type, TFRS_ENOMEM. */
TFRS_API int tfrs_model_predict_dataset(const tfrs_model *model, const tfrs_dataset *ds,
                                        float *scores);

/* Scores n examples given as ids (as train_step).  TFRS_ERANGE if an id is
 * outside its feature's vocabulary. */
TFRS_API int tfrs_model_predict_ids(const tfrs_model *model, const int32_t *ids, size_t n,
                                    float *scores);

/* One ranked candidate. */
typedef struct tfrs_scored {
    size_t index;  /* position in the candidates array */
    float  score;
} tfrs_scored;

/* Ranks candidates for one query.  `query` holds F values, one per feature
 * in model order; the entry of the feature named `candidate_feature` is
 * ignored (may be NULL) and replaced by each of the n candidates in turn.
 * With an item table for that feature (tfrs_model_set_item_table), each
 * candidate also brings its item features from its row of the table, and
 * the query's entries of the item features are ignored too (may be NULL):
 * the candidate's score is tfrs_model_predict's of the query's values with
 * the candidate's id and its row's values in place.  A candidate that is
 * not an id of the table is TFRS_ENOTFOUND naming it (even when the
 * candidate feature's vocabulary would map it to an OOV row: the table
 * cannot know its features; add the item to the table to rank it).
 * Writes the best min(top_k, n) candidates to out, by descending score
 * (ties: lower index first; NaN scores last); top_k = 0 means all n.
 * *n_out (may be NULL) gets the number written.
 *
 * Speed: the first dense layer is split into the query's part, computed
 * once per call, and the candidate feature's part, which the model caches
 * for every row of that feature's table (rows x units of the first layer
 * floats) the first time it ranks by that feature after its weights
 * changed.  So scores equal tfrs_model_predict's up to float rounding
 * (about 1e-7 relative), not bit for bit.  The cache is built under a
 * mutex; rank is safe to call from many threads at once.
 * Memory: the caches are bounded by 8 floats per model parameter, shared
 * equally by the F features: the feature is cached only if F x rows x units
 * <= 8 x tfrs_model_num_parameters().  A feature over its share is not
 * cached; each call then computes its candidates' parts a block at a time,
 * with the same results up to float rounding.
 * With an item table the cache holds, per row of the table, the sum of the
 * candidate feature's and the item features' parts (and of their biases);
 * it takes the candidate feature's share of the budget (cached if F x
 * table rows x units <= 8 x parameters), is built on first use after the
 * weights or the table changed, and without it each block of candidates
 * computes its parts for the call.
 * When the first layer is not dense (a cross or dropout layer), a cross
 * layer follows it, or the structure is parallel, there is no cache: each
 * block of candidates runs through the full forward pass with the query's
 * values repeated (and the item features' values from the table), scratch
 * bounded per block, the same computation as predict (bit for bit). */
TFRS_API int tfrs_model_rank(const tfrs_model *model, const char *const *query,
                             const char *candidate_feature, const char *const *candidates,
                             size_t n, size_t top_k, tfrs_scored *out, size_t *n_out);

/* As tfrs_model_rank with looked-up ids: `query` holds F ids (the entry of
 * feature index `candidate_feature` is ignored), `candidates` n ids of that
 * feature.  For servers that keep their candidates as ids.  TFRS_ERANGE if
 * an id is outside its feature's table, TFRS_EINVAL if candidate_feature >=
 * F.  It ignores the item table: every feature but the candidate feature
 * takes the query's id (a table row of a vocabulary with OOV buckets or of
 * a hashed feature stands for several items, so an id cannot name a row of
 * the item table). */
TFRS_API int tfrs_model_rank_ids(const tfrs_model *model, const int32_t *query,
                                 size_t candidate_feature, const int32_t *candidates, size_t n,
                                 size_t top_k, tfrs_scored *out, size_t *n_out);

/* Registers the item table that tfrs_model_rank uses when it ranks by the
 * feature named `candidate_feature` (a single-token STRING or HASHED
 * feature: the item ids).  `items` holds one row per item: a string column
 * named like the candidate feature with the item's id (ids unique), and a
 * column for each feature that comes from the item.  The rule: every
 * feature of the model other than the candidate feature whose name is a
 * column of `items` is an item feature (tfrs_model_item_features lists
 * them); other columns are ignored.  Each column is read as training reads
 * it (a string column for STRING and HASHED features and bags, "a|b"
 * joined by the feature's separator; a float or int64 column for NUMERIC
 * and BUCKETIZED ones).  The table is encoded once and copied into the
 * model (memory proportional to its size: its ids, its keys, the item
 * features' bags and numbers, and the rank cache described at
 * tfrs_model_rank); `items` may be freed afterwards.  A new table replaces
 * the previous one; items = NULL removes it (candidate_feature is then not
 * read).  The table is not saved with the model: register it again after
 * tfrs_model_load.  On failure the model keeps its previous table.
 * TFRS_EINVAL (model or candidate_feature NULL, a candidate feature that
 * is not a single-token string feature, a table without rows or with more
 * than INT32_MAX, a value that does not encode), TFRS_ESTATE (not built),
 * TFRS_ENOTFOUND (no such feature, no string column of ids, an item
 * column of the wrong type, a token unknown to a vocabulary without OOV
 * buckets), TFRS_EDUPLICATE (an id twice, named), TFRS_ENOMEM.
 * Threads: not const; no other call may use the model meanwhile (as
 * training). */
TFRS_API int tfrs_model_set_item_table(tfrs_model *model, const char *candidate_feature,
                                       const tfrs_dataset *items);

/* The number of item features of the model's item table (0 without a
 * table or for a NULL model); the indices (model order) of the first
 * min(cap, count) of them are written to `features` (may be NULL when cap
 * is 0).  The candidate feature is not counted. */
TFRS_API size_t tfrs_model_item_features(const tfrs_model *model, size_t *features, size_t cap);

/* --- saving and loading ------------------------------------------------- */

/* Flags of tfrs_model_save. */
#define TFRS_SAVE_OPTIMIZER 0x1u  /* include optimizer state (checkpoint)   */

/* Writes the whole model (architecture, vocabularies, weights, and with
 * TFRS_SAVE_OPTIMIZER the optimizer state) to `path` in the safetensors
 * layout described in docs/file-format.md.  The file is replaced
 * atomically: the bytes go to a temporary file in the same directory, which
 * is synced, closed and renamed over `path`, and then the directory is
 * synced.  TFRS_OK means the new file is in place and durable.  TFRS_EIO
 * (the message names the path, the failed step and the system error) means:
 *   - before the rename: `path` is unchanged and the temporary file removed;
 *   - after the rename, when syncing the directory failed: `path` already
 *     holds the complete new file, but a crash or power loss may bring the
 *     previous one back.  The message then says "may not survive a crash".
 * Either way `path` holds a complete file, old or new, never a mix, and
 * saving again is the remedy.  The temporary file's name does not depend
 * on path's (so any name the file system allows can be saved): ".tfrsc-",
 * 12 random letters and digits, ".tmp", in path's directory.  A process
 * killed during a save may leave one behind; it can be deleted once no save
 * into that directory is running. */
TFRS_API int tfrs_model_save(const tfrs_model *model, const char *path, unsigned flags);

/* Loads a model saved by tfrs_model_save.  The loaded model predicts
 * bit-identically to the saved one.  TFRS_EFORMAT for a malformed file,
 * TFRS_EVERSION for a newer format version, TFRS_EIO for I/O errors.  The
 * 8-byte length and the header are read and checked first, and the rest of
 * the file only if the header describes exactly that many bytes; memory
 * peaks below 6 times the file's size plus 1 MiB (docs/reliability.md). */
TFRS_API int tfrs_model_load(tfrs_model **out, const char *path);

/* As tfrs_model_load, from `size` bytes at `data` (not retained). */
TFRS_API int tfrs_model_load_buffer(tfrs_model **out, const void *data, size_t size);

/* Threads: save takes a const model and may run concurrently with the other
 * const calls on that model (predict, rank, ...) and with other saves (to
 * distinct paths; two saves to one path leave one complete file).  Loads
 * create independent models and may run concurrently.  (cJSON's parser
 * writes a process-global error position on every parse; libtfrsc never
 * reads it.) */

/* --- one description of a model: JSON configurations ------------------- */

/* A model can be described by one JSON document: its features, layers,
 * structure, task, optimizer, label column, seed and training settings
 * (docs/configuration.md has the schema, every key, and examples).  The
 * model file's "architecture" record is this same document with
 * everything that was adapted from data written in, so a saved model tells
 * exactly how to rebuild it: tfrs_model_config() prints it.
 *
 * Errors in a document are TFRS_EPARSE with "source:line: path: what"
 * (path as features[2].pooling): invalid JSON, a key the schema does not
 * have, a value of the wrong type or out of range (non-finite numbers
 * included), a duplicate key or feature name, settings the builder calls
 * refuse (at the feature or layer concerned; layers that do not fit
 * together at "layers").  A failure to adapt from the data keeps its own
 * status with the feature's line and path (TFRS_ENOTFOUND for a missing
 * column, TFRS_EINVAL for a column of the wrong type). */

/* Creates and builds the model that the len bytes of `json` describe.
 * `source` names the document in messages (a file name; NULL gives
 * "configuration").  What the document leaves to the data is adapted from
 * `data` (a training dataset: never pass test rows): vocabularies of string
 * features (of bags: their tokens) as tfrs_vocab_adapt_column and
 * tfrs_vocab_adapt_bags, the mean and variance of numeric features without
 * them (tfrs_dataset_column_moments), and the boundaries of bucketized
 * features given as "num_bins" (tfrs_dataset_column_quantiles).  data may
 * be NULL when nothing needs adapting (TFRS_EPARSE naming the feature
 * otherwise).  A "vocab_size" in the document must equal the adapted
 * vocabulary's size.  *out is NULL on failure. */
TFRS_API int tfrs_model_from_config(tfrs_model **out, const char *json, size_t len,
                                    const char *source, const tfrs_dataset *data);

/* As tfrs_model_from_config with the contents of the file at `path`
 * (at most 16 MiB; TFRS_EIO if it cannot be read or is not a regular
 * file), which names it in messages. */
TFRS_API int tfrs_model_from_config_file(tfrs_model **out, const char *path,
                                         const tfrs_dataset *data);

/* The "training" section of a configuration as fit options: *fit is
 * initialised with tfrs_fit_options_init (the current version) and gets
 * the section's epochs, batch_size, shuffle, shuffle_seed, threads,
 * early_stopping, monitor, patience, min_delta and restore_best_weights
 * (their defaults where absent); *validation_fraction (may be NULL) gets
 * the share of the training rows the application should hold out for
 * validation (0: none).  The caller sets fit->validation (the library does
 * not split data for it).  The whole document is checked as by
 * tfrs_model_from_config. */
TFRS_API int tfrs_config_fit_options(const char *json, size_t len, const char *source,
                                     tfrs_fit_options *fit, double *validation_fraction);

/* Writes the model's description (JSON, one line, NUL-terminated) into buf
 * when it fits in cap bytes; *len (may be NULL) gets its length without the
 * NUL either way.  TFRS_ERANGE if cap is too small (call with buf NULL and
 * cap 0 to learn the size).  Works before build too. */
TFRS_API int tfrs_model_config(const tfrs_model *model, char *buf, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* TFRSC_H */
