/*
 * safetensors.h - the safetensors container: named tensors and string
 * metadata, written to and read from a buffer.  Knows nothing of models.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 *   u64 little-endian N | N bytes of JSON header, space padded to a multiple
 *   of 8 | data section: the tensors, contiguous, in offset order
 *
 * The header maps tensor names to {"dtype", "shape", "data_offsets"} and
 * carries a "__metadata__" object of strings, which always ends with
 * "crc32", the CRC-32 of the data section in 8 lowercase hex digits.
 */
#ifndef TFRS_SAFETENSORS_H
#define TFRS_SAFETENSORS_H

#include "util/common.h"
#include "util/fileio.h"
#include "json.h"

/* Element types (the index into the container's dtype table). */
enum { TFRS__DT_F32 = 0, TFRS__DT_U8 = 1, TFRS__DT_I64 = 2 };

/* Rank cap for tensors in a file. */
#define TFRS__ST_MAX_NDIM 8

/* "F32", "U8" or "I64". */
const char *tfrs__st_dtype_name(int dtype);

/* Little-endian codec, independent of the host's byte order. */
void     tfrs__put_u32le(unsigned char *p, uint32_t v);
void     tfrs__put_u64le(unsigned char *p, uint64_t v);
uint32_t tfrs__get_u32le(const unsigned char *p);
uint64_t tfrs__get_u64le(const unsigned char *p);

/* ---- writing ------------------------------------------------------------ */

/* String k of a list of strings held by ctx: its bytes, and *len. */
typedef const char *(*tfrs__st_string_fn)(const void *ctx, size_t k, size_t *len);

typedef struct tfrs__st_tensor tfrs__st_tensor;
struct tfrs__st_tensor {
    char               name[128];
    int                dtype;
    size_t             ndim, shape[2];
    /* The data: fill(t, dst) writes t->bytes bytes at dst; without fill,
     * src holds them as they are to be stored. */
    void             (*fill)(const tfrs__st_tensor *t, unsigned char *dst);
    const void        *src;
    size_t             count;   /* tfrs__st_strings: the strings of src */
    tfrs__st_string_fn at;
    /* Set by tfrs__st_layout: */
    size_t             bytes;   /* size in the data section   */
    size_t             begin;   /* offset in the data section */
};

/* Sets *t to the tensor `name` (at most 127 bytes kept) of the given dtype
 * and shape (ndim 1 or 2), whose data is src: host floats for F32 (stored
 * little-endian), else the bytes as stored.  Returns t. */
tfrs__st_tensor *tfrs__st_tensor_init(tfrs__st_tensor *t, const char *name, int dtype,
                                      size_t ndim, const size_t *shape, const void *src);
/* A list of n strings (at(ctx, k, &len) for k < n) as two tensors: t[0],
 * U8 bytes_name, the strings concatenated, and t[1], I64 offsets_name, the
 * n + 1 offsets of their ends, from 0.  -1 if the bytes overflow size_t. */
int tfrs__st_strings(tfrs__st_tensor *t, const char *bytes_name, const char *offsets_name,
                     size_t n, tfrs__st_string_fn at, const void *ctx);

typedef struct tfrs__st_meta {
    const char *key, *value;
} tfrs__st_meta;

/* Gives t[k] its byte size and offset, in list order; *data_len gets the
 * size of the data section.  -1 on overflow. */
int tfrs__st_layout(tfrs__st_tensor *t, size_t n, size_t *data_len);
/* Writes the n tensors (laid out by tfrs__st_layout) and the nmeta
 * metadata strings, in list order, followed by "crc32", into a new buffer:
 * *buf (tfrs__malloc), *len bytes.  Messages start with `who`. */
int tfrs__st_write(const tfrs__st_tensor *t, size_t n, size_t data_len,
                   const tfrs__st_meta *meta, size_t nmeta, const char *who,
                   unsigned char **buf, size_t *len);

/* ---- reading ------------------------------------------------------------ */

typedef struct tfrs__st_entry {
    const char *name;
    int         dtype;
    size_t      ndim, shape[TFRS__ST_MAX_NDIM];
    size_t      begin, end;      /* in the data section           */
    int         used;            /* for the caller's bookkeeping  */
} tfrs__st_entry;

typedef struct tfrs__st_reader {
    const unsigned char *data;   /* data section                      */
    size_t               dlen;
    tfrs__json          *root;
    const tfrs__json    *meta;
    tfrs__st_entry      *ents;   /* sorted by name after read_tensors */
    size_t               nents;
} tfrs__st_reader;

/* The loader trusts nothing: every size is overflow-checked and compared
 * with the real buffer size before anything is allocated from it.  Errors
 * are TFRS_EFORMAT ("model file: ...") or TFRS_ENOMEM.  Start from a
 * zeroed reader; tfrs__st_close frees it whatever happened. */

/* The header length N from the first 8 bytes of buf (which must hold
 * min(size, 8) bytes), for a file of `size` bytes: at least 8 bytes,
 * N <= the 100 MiB cap, 8 + N <= size. */
int tfrs__st_header_len(const unsigned char *buf, size_t size, size_t *len);
/* Header length, JSON (size, NUL-free strings, unique keys), "__metadata__"
 * of strings, for a file of `size` bytes.  Reads only the first 8 + N bytes
 * of buf, so that a reader of a file can check the header (and, with
 * tfrs__st_read_tensors, that it describes a data section of exactly the
 * rest of the file) before it reads the data section; it must then point
 * r->data at the data section before anything reads it. */
int tfrs__st_open(tfrs__st_reader *r, const unsigned char *buf, size_t size);
/* Reading a file in parts.  tfrs__st_read_head reads the length and the
 * header of f into *buf (tfrs__malloc, 8 + N bytes) once
 * tfrs__st_header_len has accepted the length (*buf is freed by the caller
 * whatever happened).  After tfrs__st_open(r, *buf, f->size) and
 * tfrs__st_read_tensors, tfrs__st_read_data grows *buf to the whole file,
 * reads the data section into it and points r->data at it. */
int tfrs__st_read_head(tfrs__file *f, unsigned char **buf);
int tfrs__st_read_data(tfrs__st_reader *r, tfrs__file *f, unsigned char **buf);
/* Metadata string `key`, or NULL. */
const char *tfrs__st_meta_str(const tfrs__st_reader *r, const char *key);
/* The tensor table: dtypes, shapes, entries contiguous and covering the
 * data section exactly. */
int tfrs__st_read_tensors(tfrs__st_reader *r);
/* The "crc32" metadata against the data section. */
int tfrs__st_check_crc(const tfrs__st_reader *r);
/* The entry named `name` (after tfrs__st_read_tensors), or NULL. */
tfrs__st_entry *tfrs__st_find(const tfrs__st_reader *r, const char *name);
/* Decodes F32 entry e into dst (all its values); rejects non-finite values
 * and, with nonneg, negative ones. */
int tfrs__st_read_f32(const tfrs__st_reader *r, const tfrs__st_entry *e, float *dst, int nonneg);
void tfrs__st_close(tfrs__st_reader *r);

#endif /* TFRS_SAFETENSORS_H */
