/*
 * safetensors.c - the safetensors container: a JSON header of named
 * tensors and string metadata, then the tensors' bytes.  Knows nothing of
 * models; model_file.c maps a model onto it.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Values are converted to and from little-endian bytes one by one, so the
 * code is independent of the host's byte order (floats are assumed to be
 * IEEE-754 binary32 with the same byte order as integers, which holds on
 * every platform we know of).  docs/file-format.md describes every byte and
 * every check.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/status.h"
#include "util/strtab.h"
#include "json.h"
#include "safetensors.h"

_Static_assert(sizeof(float) == 4, "float must be IEEE-754 binary32");

/* Largest JSON header the loader accepts: 100 MiB.  The safetensors
 * reference reader has the same kind of cap (100 MB).  Real headers are a
 * few hundred bytes per tensor plus the metadata, so this only bounds what
 * a hostile file can make us allocate before its data is checked. */
#define HEADER_MAX ((uint64_t)100 << 20)

#define BAD(...) tfrs__fail(TFRS_EFORMAT, "model file: " __VA_ARGS__)

static const struct {
    const char *name;
    size_t      size;
} dtypes[] = { { "F32", 4 }, { "U8", 1 }, { "I64", 8 } };

const char *tfrs__st_dtype_name(int dtype)
{
    return dtypes[dtype].name;
}

/* ---- little-endian bytes and the checksum ------------------------------ */

void tfrs__put_u32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void tfrs__put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t tfrs__get_u32le(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

uint64_t tfrs__get_u64le(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t crc32_buf(const unsigned char *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    while (n > 0) {
        uInt k = n > UINT_MAX ? UINT_MAX : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)crc;
}

/* ======================================================================== */
/* Writing                                                                  */
/* ======================================================================== */

static void fill_f32(const tfrs__st_tensor *t, unsigned char *dst)
{
    const float *f = t->src;

    for (size_t i = 0; i < t->bytes / 4; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        tfrs__put_u32le(dst + 4 * i, u);
    }
}

tfrs__st_tensor *tfrs__st_tensor_init(tfrs__st_tensor *t, const char *name, int dtype,
                                      size_t ndim, const size_t *shape, const void *src)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%.127s", name);
    t->dtype = dtype;
    t->ndim = ndim;
    t->shape[0] = shape[0];
    t->shape[1] = ndim == 2 ? shape[1] : 0;
    t->src = src;
    t->fill = dtype == TFRS__DT_F32 ? fill_f32 : NULL;
    return t;
}

static void fill_string_bytes(const tfrs__st_tensor *t, unsigned char *dst)
{
    size_t len, off = 0;

    for (size_t k = 0; k < t->count; k++) {
        const char *s = t->at(t->src, k, &len);
        memcpy(dst + off, s, len);
        off += len;
    }
}

static void fill_string_offsets(const tfrs__st_tensor *t, unsigned char *dst)
{
    size_t len, off = 0;

    tfrs__put_u64le(dst, 0);
    for (size_t k = 0; k < t->count; k++) {
        t->at(t->src, k, &len);
        off += len;
        tfrs__put_u64le(dst + 8 * (k + 1), (uint64_t)off);
    }
}

int tfrs__st_strings(tfrs__st_tensor *t, const char *bytes_name, const char *offsets_name,
                     size_t n, tfrs__st_string_fn at, const void *ctx)
{
    size_t shape[1] = { 0 }, len;

    for (size_t k = 0; k < n; k++) {
        at(ctx, k, &len);
        if (tfrs__add(shape[0], len, &shape[0]) < 0)
            return -1;
    }
    tfrs__st_tensor_init(&t[0], bytes_name, TFRS__DT_U8, 1, shape, ctx)->fill = fill_string_bytes;
    shape[0] = n + 1;
    tfrs__st_tensor_init(&t[1], offsets_name, TFRS__DT_I64, 1, shape, ctx)->fill =
        fill_string_offsets;
    for (int i = 0; i < 2; i++) {
        t[i].count = n;
        t[i].at = at;
    }
    return 0;
}

int tfrs__st_layout(tfrs__st_tensor *t, size_t n, size_t *data_len)
{
    size_t len = 0;

    for (size_t k = 0; k < n; k++) {
        size_t count = t[k].shape[0];
        if (t[k].ndim == 2 && tfrs__mul(count, t[k].shape[1], &count) < 0)
            return -1;
        if (tfrs__mul(count, dtypes[t[k].dtype].size, &t[k].bytes) < 0)
            return -1;
        t[k].begin = len;
        if (tfrs__add(len, t[k].bytes, &len) < 0)
            return -1;
    }
    *data_len = len;
    return 0;
}

/* The header tree: "__metadata__" first (ending with "crc32"), then the
 * tensors in list order.  *crc_item gets the "crc32" string, to be replaced
 * once the data is out. */
static tfrs__json *header_json(const tfrs__st_tensor *t, size_t n, const tfrs__st_meta *meta,
                               size_t nmeta, tfrs__json **crc_item)
{
    tfrs__json *h = tfrs__json_new_object(), *m, *o, *arr;
    int ok = h != NULL;

    m = tfrs__json_add_object(h, "__metadata__", &ok);
    for (size_t k = 0; k < nmeta; k++)
        tfrs__json_add_str(m, meta[k].key, meta[k].value, &ok);
    *crc_item = tfrs__json_add_str(m, "crc32", "00000000", &ok);
    for (size_t k = 0; k < n && ok; k++) {
        o = tfrs__json_add_object(h, t[k].name, &ok);
        tfrs__json_add_str(o, "dtype", dtypes[t[k].dtype].name, &ok);
        arr = tfrs__json_add_array(o, "shape", &ok);
        for (size_t d = 0; d < t[k].ndim; d++)
            tfrs__json_add_size(arr, NULL, t[k].shape[d], &ok);
        arr = tfrs__json_add_array(o, "data_offsets", &ok);
        tfrs__json_add_size(arr, NULL, t[k].begin, &ok);
        tfrs__json_add_size(arr, NULL, t[k].begin + t[k].bytes, &ok);
    }
    if (!ok) {
        tfrs__json_delete(h);
        return NULL;
    }
    return h;
}

int tfrs__st_write(const tfrs__st_tensor *t, size_t n, size_t data_len,
                   const tfrs__st_meta *meta, size_t nmeta, const char *who,
                   unsigned char **buf, size_t *len)
{
    tfrs__json *h, *crc_item = NULL;
    char *hs, crc_hex[16];
    size_t hlen, padded, total;
    unsigned char *b = NULL, *data;
    int rc = TFRS_OK;

    *buf = NULL;
    h = header_json(t, n, meta, nmeta, &crc_item);
    hs = tfrs__json_print(h);
    if (hs == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", who);
        goto done;
    }
    hlen = strlen(hs);
    padded = (hlen + 7) & ~(size_t)7;
    if (padded < hlen || padded > HEADER_MAX || tfrs__add(8 + padded, data_len, &total) < 0) {
        rc = tfrs__fail(TFRS_EINVAL, "%s: the model is too large to save", who);
        goto done;
    }
    b = tfrs__malloc(total);
    if (b == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory (%zu bytes)", who, total);
        goto done;
    }
    data = b + 8 + padded;
    for (size_t k = 0; k < n; k++) {
        if (t[k].fill != NULL)
            t[k].fill(&t[k], data + t[k].begin);
        else if (t[k].bytes > 0)
            memcpy(data + t[k].begin, t[k].src, t[k].bytes);
    }

    /* The CRC has a fixed width, so the header keeps its length. */
    snprintf(crc_hex, sizeof(crc_hex), "%08lx", (unsigned long)crc32_buf(data, data_len));
    tfrs__free(hs);
    hs = NULL;
    if (tfrs__json_set_str(crc_item, crc_hex) == 0)
        hs = tfrs__json_print(h);
    if (hs == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", who);
        goto done;
    }
    if (strlen(hs) != hlen) {
        rc = tfrs__fail(TFRS_ESTATE, "%s: internal error: header length changed", who);
        goto done;
    }
    tfrs__put_u64le(b, (uint64_t)padded);
    memcpy(b + 8, hs, hlen);
    memset(b + 8 + hlen, ' ', padded - hlen);
    *buf = b;
    *len = total;
    b = NULL;
done:
    tfrs__free(b);
    tfrs__free(hs);
    tfrs__json_delete(h);
    return rc;
}

/* ======================================================================== */
/* Reading                                                                  */
/* ======================================================================== */

int tfrs__st_header_len(const unsigned char *buf, size_t size, size_t *len)
{
    uint64_t n;

    if (size < 8)
        return BAD("%zu bytes is too short for the 8-byte header length", size);
    n = tfrs__get_u64le(buf);
    if (n > HEADER_MAX)
        return BAD("header length %llu exceeds the limit of %llu bytes",
                   (unsigned long long)n, (unsigned long long)HEADER_MAX);
    if (n > size - 8)
        return BAD("header length %llu exceeds the %zu bytes after it",
                   (unsigned long long)n, size - 8);
    *len = (size_t)n;
    return TFRS_OK;
}

int tfrs__st_read_head(tfrs__file *f, unsigned char **buf)
{
    unsigned char head[8];
    size_t n = 0;
    int rc;

    *buf = NULL;
    if ((rc = tfrs__file_read(f, head, f->size < 8 ? f->size : 8)) != TFRS_OK ||
        (rc = tfrs__st_header_len(head, f->size, &n)) != TFRS_OK)
        return rc;
    *buf = tfrs__malloc(8 + n);   /* n <= HEADER_MAX */
    if (*buf == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory for the header");
    memcpy(*buf, head, 8);
    return tfrs__file_read(f, *buf + 8, n);
}

int tfrs__st_read_data(tfrs__st_reader *r, tfrs__file *f, unsigned char **buf)
{
    size_t head = (size_t)(r->data - *buf), total = head + r->dlen;  /* f->size */
    unsigned char *grown = tfrs__realloc(*buf, head, total);

    if (grown == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory for the data section "
                          "(%zu bytes)", r->dlen);
    *buf = grown;
    r->data = grown + head;
    return tfrs__file_read(f, grown + head, r->dlen);
}

int tfrs__st_open(tfrs__st_reader *r, const unsigned char *buf, size_t size)
{
    size_t n = 0;
    char *text;
    const char *end;
    const tfrs__json *c;
    unsigned long failed;
    int rc;

    if ((rc = tfrs__st_header_len(buf, size, &n)) != TFRS_OK)
        return rc;
    if (n < 2 || buf[8] != '{')
        return BAD("the header is not a JSON object");
    if (!tfrs__utf8_valid((const char *)buf + 8, n))
        return BAD("the header is not valid UTF-8");
    if ((rc = tfrs__json_check_text((const char *)buf + 8, n)) != TFRS__JSON_FINE)
        return rc == TFRS__JSON_NUL ? BAD("a string in the header holds a NUL character")
                                    : BAD("the header has more than %d JSON values",
                                          TFRS__JSON_VALUES_MAX);
    /* A NUL-terminated copy, so that no JSON parser can read past it. */
    text = tfrs__malloc(n + 1);
    if (text == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory for the header");
    memcpy(text, buf + 8, n);
    text[n] = '\0';
    failed = tfrs__alloc_failures();  /* cJSON's NULL may mean out of memory */
    r->root = tfrs__json_parse(text, n, &end);
    if (r->root != NULL)
        for (; end < text + n; end++)
            if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
                break;
    rc = r->root == NULL || end != text + n || !tfrs__json_is_object(r->root) ? -1 : 0;
    tfrs__free(text);
    if (r->root == NULL && tfrs__alloc_failures() != failed)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory parsing the header");
    if (rc != 0)
        return BAD("the header is not a JSON object followed by spaces");
    if ((rc = tfrs__json_unique_keys(r->root)) != 0)
        return rc == TFRS_ENOMEM ? tfrs__fail(TFRS_ENOMEM, "model file: out of memory")
                                 : BAD("the header has a duplicate key");
    r->data = buf + 8 + n;
    r->dlen = size - 8 - n;

    r->meta = tfrs__json_get(r->root, "__metadata__");
    if (!tfrs__json_is_object(r->meta))
        return BAD("no \"__metadata__\" object: not a libtfrsc file");
    for (c = tfrs__json_child(r->meta); c != NULL; c = tfrs__json_next(c))
        if (!tfrs__json_is_string(c))
            return BAD("metadata value \"%.64s\" is not a string", tfrs__json_key(c));
    return TFRS_OK;
}

const char *tfrs__st_meta_str(const tfrs__st_reader *r, const char *key)
{
    return tfrs__json_get_str(r->meta, key);
}

static int parse_entry(tfrs__st_entry *e, const tfrs__json *item)
{
    const tfrs__json *sh = tfrs__json_get(item, "shape"), *off, *c;
    const char *dt = tfrs__json_get_str(item, "dtype");
    size_t count = 1, bytes;

    off = tfrs__json_get(item, "data_offsets");
    e->name = tfrs__json_key(item);
    if (!tfrs__json_is_object(item))
        return BAD("tensor \"%.64s\" is not an object", e->name);
    e->dtype = -1;
    for (int k = 0; k < 3 && dt != NULL; k++)
        if (strcmp(dt, dtypes[k].name) == 0)
            e->dtype = k;
    if (e->dtype < 0)
        return BAD("tensor \"%.64s\" has an unsupported dtype", e->name);
    if (!tfrs__json_is_array(sh))
        return BAD("tensor \"%.64s\" has no shape array", e->name);
    for (c = tfrs__json_child(sh); c != NULL; c = tfrs__json_next(c)) {
        if (e->ndim == TFRS__ST_MAX_NDIM)
            return BAD("tensor \"%.64s\" has more than %d dimensions", e->name,
                       TFRS__ST_MAX_NDIM);
        if (tfrs__json_size(c, &e->shape[e->ndim]) < 0)
            return BAD("tensor \"%.64s\": shape entries must be integers >= 0", e->name);
        if (tfrs__mul(count, e->shape[e->ndim++], &count) < 0)
            return BAD("tensor \"%.64s\": shape overflows", e->name);
    }
    c = tfrs__json_child(off);
    if (!tfrs__json_is_array(off) || tfrs__json_array_size(off) != 2 ||
        tfrs__json_size(c, &e->begin) < 0 || tfrs__json_size(tfrs__json_next(c), &e->end) < 0)
        return BAD("tensor \"%.64s\": data_offsets must be two integers >= 0", e->name);
    if (tfrs__mul(count, dtypes[e->dtype].size, &bytes) < 0)
        return BAD("tensor \"%.64s\": size overflows", e->name);
    if (e->begin > e->end || e->end - e->begin != bytes)
        return BAD("tensor \"%.64s\": data_offsets [%zu, %zu] do not hold %zu bytes",
                   e->name, e->begin, e->end, bytes);
    return TFRS_OK;
}

static int cmp_offsets(const void *a, const void *b)
{
    const tfrs__st_entry *x = a, *y = b;

    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const tfrs__st_entry *)a)->name, ((const tfrs__st_entry *)b)->name);
}

int tfrs__st_read_tensors(tfrs__st_reader *r)
{
    const tfrs__json *c;
    size_t i = 0, pos = 0;
    int rc;

    for (c = tfrs__json_child(r->root); c != NULL; c = tfrs__json_next(c))
        if (strcmp(tfrs__json_key(c), "__metadata__") != 0)
            r->nents++;
    r->ents = tfrs__calloc(r->nents == 0 ? 1 : r->nents, sizeof(*r->ents));
    if (r->ents == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (c = tfrs__json_child(r->root); c != NULL; c = tfrs__json_next(c))
        if (strcmp(tfrs__json_key(c), "__metadata__") != 0)
            if ((rc = parse_entry(&r->ents[i++], c)) != TFRS_OK)
                return rc;
    qsort(r->ents, r->nents, sizeof(*r->ents), cmp_offsets);
    for (i = 0; i < r->nents; i++) {
        if (r->ents[i].begin != pos)
            return BAD("tensor \"%.64s\" starts at %zu where %zu was expected (overlap or "
                       "hole)", r->ents[i].name, r->ents[i].begin, pos);
        pos = r->ents[i].end;
    }
    if (pos != r->dlen)
        return BAD("the tensors cover %zu bytes but the data section has %zu", pos, r->dlen);
    qsort(r->ents, r->nents, sizeof(*r->ents), cmp_names);
    return TFRS_OK;
}

int tfrs__st_check_crc(const tfrs__st_reader *r)
{
    const char *crc_s = tfrs__st_meta_str(r, "crc32");
    char hex[16];

    snprintf(hex, sizeof(hex), "%08lx", (unsigned long)crc32_buf(r->data, r->dlen));
    if (crc_s == NULL || strlen(crc_s) != 8 || strspn(crc_s, "0123456789abcdef") != 8)
        return BAD("metadata \"crc32\" is not 8 lowercase hex digits");
    if (strcmp(crc_s, hex) != 0)
        return BAD("checksum mismatch: the data section has CRC-32 %s, the header says %s",
                   hex, crc_s);
    return TFRS_OK;
}

tfrs__st_entry *tfrs__st_find(const tfrs__st_reader *r, const char *name)
{
    tfrs__st_entry key;

    key.name = name;
    return bsearch(&key, r->ents, r->nents, sizeof(*r->ents), cmp_names);
}

int tfrs__st_read_f32(const tfrs__st_reader *r, const tfrs__st_entry *e, float *dst, int nonneg)
{
    const unsigned char *p = r->data + e->begin;

    for (size_t i = 0; i < (e->end - e->begin) / 4; i++) {
        uint32_t u = tfrs__get_u32le(p + 4 * i);
        float f;
        memcpy(&f, &u, 4);
        if (!isfinite(f) || (nonneg && f < 0.0f))
            return BAD("tensor \"%s\" holds %s value at index %zu", e->name,
                       isfinite(f) ? "a negative" : "a non-finite", i);
        dst[i] = f;
    }
    return TFRS_OK;
}

void tfrs__st_close(tfrs__st_reader *r)
{
    tfrs__json_delete(r->root);
    tfrs__free(r->ents);
    memset(r, 0, sizeof(*r));
}
