/*
 * json.h - the one wrapper of cJSON: guarded parsing, getters and builders.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * No other file of the library includes <cjson/cJSON.h>: a JSON value is
 * the opaque tfrs__json, read and built through the functions below.
 */
#ifndef TFRS_JSON_H
#define TFRS_JSON_H

#include "util/common.h"

typedef struct cJSON tfrs__json;

/* Cap on the number of JSON values in a text (see tfrs__json_check_text).
 * cJSON spends about 64 bytes per value, so a text of commas could
 * otherwise cost 30 times its size. */
#define TFRS__JSON_VALUES_MAX 1000000

/* ---- parsing ------------------------------------------------------------ */

/* What tfrs__json_check_text finds in a text. */
enum {
    TFRS__JSON_FINE = 0,
    TFRS__JSON_TOO_BIG,  /* more than TFRS__JSON_VALUES_MAX values          */
    TFRS__JSON_NUL       /* a string or key holds a NUL (raw, or \u0000)   */
};

/* Scans the n bytes at s, before parsing: TFRS__JSON_TOO_BIG if they may
 * hold more than TFRS__JSON_VALUES_MAX values (a bound counted from the
 * separators outside strings), TFRS__JSON_NUL if a string (key or value)
 * would decode to bytes with a NUL in them, whose C string would then be
 * shorter than its JSON value ("x\u0000y" read as "x"), else
 * TFRS__JSON_FINE. */
int tfrs__json_check_text(const char *s, size_t n);
/* cJSON_ParseWithLengthOpts(text, n, end, 0), serialized by a lock: cJSON
 * records the position of a parse error in a process-global variable.
 * NULL for bad input (including any text tfrs__json_check_text does not
 * find fine; a NUL at text[n - 1] ends the text) or a failed allocation
 * (see tfrs__alloc_failures). */
tfrs__json *tfrs__json_parse(const char *text, size_t n, const char **end);
/* Parses the NUL-terminated document s (NULL allowed): TFRS_OK with *out
 * the tree, or NULL if s is NULL, not JSON or not fine for
 * tfrs__json_check_text; TFRS_ENOMEM (and *out NULL) if an
 * allocation failed. */
int tfrs__json_parse_str(const char *s, tfrs__json **out);
/* 0 if no object in the tree has a key twice, 1 if one has, TFRS_ENOMEM.
 * (cJSON keeps duplicates; its lookups would silently pick the first.) */
int tfrs__json_unique_keys(const tfrs__json *node);
void tfrs__json_delete(tfrs__json *j);

/* ---- reading ------------------------------------------------------------ */

int tfrs__json_is_object(const tfrs__json *j);
int tfrs__json_is_array(const tfrs__json *j);
int tfrs__json_is_string(const tfrs__json *j);
int tfrs__json_is_null(const tfrs__json *j);
int tfrs__json_is_bool(const tfrs__json *j);
int tfrs__json_is_true(const tfrs__json *j);
/* The first member or element of j (NULL if none), and the one after j. */
const tfrs__json *tfrs__json_child(const tfrs__json *j);
const tfrs__json *tfrs__json_next(const tfrs__json *j);
/* The key of an object member (NULL for an array element). */
const char *tfrs__json_key(const tfrs__json *j);
/* The text of a string value, else NULL. */
const char *tfrs__json_str(const tfrs__json *j);
size_t tfrs__json_array_size(const tfrs__json *j);
/* Member `key` of obj (case-sensitive), or NULL. */
const tfrs__json *tfrs__json_get(const tfrs__json *obj, const char *key);
/* The text of string member `key` of obj, or NULL. */
const char *tfrs__json_get_str(const tfrs__json *obj, const char *key);
/* A JSON number that is a non-negative integer, exact, and fits size_t:
 * 0, else -1. */
int tfrs__json_size(const tfrs__json *item, size_t *out);
/* tfrs__json_size of member `key` of obj. */
int tfrs__json_get_size(const tfrs__json *obj, const char *key, size_t *out);
/* String member `key` holding decimal digits only (no sign, no overflow):
 * 0, else -1.  The inverse of tfrs__json_add_u64. */
int tfrs__json_get_u64(const tfrs__json *obj, const char *key, uint64_t *out);
/* String member `key` holding a finite decimal number and nothing else
 * ([sign] digits [. digits] [e [sign] digits], under 64 characters): 0,
 * else -1.  The inverse of tfrs__json_add_float. */
int tfrs__json_get_float(const tfrs__json *obj, const char *key, float *out);

/* As tfrs__json_get_float, to a double, of the string item itself (an
 * array element, say).  Inverse of
 * tfrs__json_add_double. */
int tfrs__json_double(const tfrs__json *item, double *out);

/* A JSON number (finite) or a string that tfrs__json_double accepts: 0,
 * else -1.  For hand-written configurations, where 0.1 and "0.1" both
 * make sense. */
int tfrs__json_number(const tfrs__json *item, double *out);

/* ---- positions ---------------------------------------------------------- */

/* The 1-based line of text (n bytes, the text root was parsed from) where
 * the value node starts, or 0 if node is not in the tree.  For messages:
 * O(n) plus the size of the tree. */
size_t tfrs__json_line(const char *text, size_t n, const tfrs__json *root,
                       const tfrs__json *node);
/* The 1-based line of the byte at offset (a parse error position). */
size_t tfrs__json_offset_line(const char *text, size_t offset);

/* ---- building ----------------------------------------------------------- */

/* Each builder adds to obj under key (to the array obj if key is NULL) and
 * clears *ok on failure (obj NULL included), so that a tree is built with
 * no check per call and tested once. */
tfrs__json *tfrs__json_new_object(void);
tfrs__json *tfrs__json_add_object(tfrs__json *obj, const char *key, int *ok);
tfrs__json *tfrs__json_add_array(tfrs__json *obj, const char *key, int *ok);
/* A string, or null if s is NULL.  Returns the item (for tfrs__json_set_str). */
tfrs__json *tfrs__json_add_str(tfrs__json *obj, const char *key, const char *s, int *ok);
void tfrs__json_add_bool(tfrs__json *obj, const char *key, int b, int *ok);
/* x as a string of decimal text (tfrs__float_to_decimal). */
void tfrs__json_add_float(tfrs__json *obj, const char *key, float x, int *ok);
/* x as a string of decimal text (tfrs__double_to_decimal: exact). */
void tfrs__json_add_double(tfrs__json *obj, const char *key, double x, int *ok);
/* v as a JSON number. */
void tfrs__json_add_size(tfrs__json *obj, const char *key, size_t v, int *ok);
/* v as a string of decimal digits. */
void tfrs__json_add_u64(tfrs__json *obj, const char *key, uint64_t v, int *ok);
/* Replaces the text of a string item; -1 if out of memory. */
int tfrs__json_set_str(tfrs__json *item, const char *s);
/* j printed unformatted into a tfrs__malloc'ed string (NULL if j is NULL or
 * out of memory). */
char *tfrs__json_print(const tfrs__json *j);

#endif /* TFRS_JSON_H */
