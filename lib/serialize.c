/*
 * serialize.c - saving and loading models in the safetensors layout.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 *   u64 little-endian N | N bytes of JSON header, space padded to a multiple
 *   of 8 | data section: the tensors, contiguous, in offset order
 *
 * The header maps tensor names to {"dtype", "shape", "data_offsets"} and
 * carries a "__metadata__" object of strings: the format name and version,
 * the architecture (a JSON document in a string), the training counters,
 * a CRC-32 of the data section and whether optimizer state is present.
 * docs/file-format.md describes every byte and every check.
 *
 * Values are converted to and from little-endian bytes one by one, so the
 * code is independent of the host's byte order (floats are assumed to be
 * IEEE-754 binary32 with the same byte order as integers, which holds on
 * every platform we know of).
 *
 * The loader trusts nothing: every size is overflow-checked and compared
 * with the real buffer size before anything is allocated from it, and the
 * architecture is cross-checked with the tensor table before the model is
 * built, so a hostile file cannot make the loader allocate much more than a
 * small multiple of the file's own size.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/number.h"
#include "util/status.h"
#include "util/strtab.h"
#include "dense.h"
#include "embedding.h"
#include "model.h"
#include "optimizer.h"
#include "ranking.h"
#include "vocab.h"

/* cJSON's parser records the position of a parse error in a process-global
 * variable; parses are serialized so that concurrent loads do not race on
 * it.  The header is small: this costs little. */
static pthread_mutex_t json_lock = PTHREAD_MUTEX_INITIALIZER;

static cJSON *json_parse(const char *text, size_t n, const char **end)
{
    cJSON *root;

    pthread_mutex_lock(&json_lock);
    root = cJSON_ParseWithLengthOpts(text, n, end, 0);
    pthread_mutex_unlock(&json_lock);
    return root;
}

_Static_assert(sizeof(float) == 4, "float must be IEEE-754 binary32");

#define FORMAT_NAME    "libtfrsc"
#define FORMAT_VERSION 1

/* Largest JSON header the loader accepts: 100 MiB.  The safetensors
 * reference reader has the same kind of cap (100 MB).  Real headers are a
 * few hundred bytes per tensor plus the architecture, so this only bounds
 * what a hostile file can make us allocate before its data is checked. */
#define HEADER_MAX ((uint64_t)100 << 20)

/* Cap on the number of JSON values in the header and in the architecture.
 * cJSON spends about 64 bytes per value, so a header of commas could
 * otherwise cost 30 times its size; real files have ~10 values per tensor. */
#define JSON_VALUES_MAX 1000000

/* Rank cap for tensors in a file (ours have rank 1 or 2). */
#define MAX_NDIM 8

/* 2^53: JSON numbers above it are not exact in a double. */
#define JSON_INT_MAX 9007199254740992.0

enum { DT_F32 = 0, DT_U8 = 1, DT_I64 = 2 };

static const struct {
    const char *name;
    size_t      size;
} dtypes[] = { { "F32", 4 }, { "U8", 1 }, { "I64", 8 } };

/* ---- little-endian bytes ---------------------------------------------- */

static void put_u32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32le(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64le(const unsigned char *p)
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

/* ---- names and numbers in the metadata -------------------------------- */

static const char *act_name(tfrs_activation a)
{
    switch (a) {
    case TFRS_ACT_LINEAR:  return "linear";
    case TFRS_ACT_RELU:    return "relu";
    case TFRS_ACT_SIGMOID: return "sigmoid";
    }
    return NULL;
}

static const char *loss_name(tfrs_loss l)
{
    switch (l) {
    case TFRS_LOSS_MSE:   return "mse";
    case TFRS_LOSS_BCE:   return "bce";
    case TFRS_LOSS_HUBER: return "huber";
    }
    return NULL;
}

static const char *kind_name(tfrs_optimizer_kind k)
{
    switch (k) {
    case TFRS_OPT_ADAGRAD: return "adagrad";
    case TFRS_OPT_SGD:     return "sgd";
    case TFRS_OPT_ADAM:    return "adam";
    }
    return NULL;
}

static const struct {
    const char *name;
    unsigned    bit;
} metric_names[] = { { "rmse", TFRS_METRIC_RMSE }, { "mae", TFRS_METRIC_MAE },
                     { "auc", TFRS_METRIC_AUC } };

/* Name of optimizer slot s; the count comes from tfrs__optimizer_num_slots. */
static const char *slot_name(tfrs_optimizer_kind kind, int s)
{
    switch (kind) {
    case TFRS_OPT_ADAGRAD: return "accumulator";
    case TFRS_OPT_SGD:     return "velocity";
    case TFRS_OPT_ADAM:    return s == 0 ? "m" : "v";
    }
    return "slot";
}

static void format_float(char *buf, size_t cap, float x)
{
    tfrs__float_to_decimal(buf, cap, x);
}

/* Strict: a finite decimal number and nothing else. */
static int parse_float(const char *s, float *out)
{
    size_t n;

    if (s == NULL || (n = strlen(s)) == 0 || n >= 64)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strchr("0123456789+-.eE", s[i]) == NULL)
            return -1;
    return tfrs__decimal_to_float(s, n, out);
}

/* Strict: decimal digits only, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A JSON number that is a non-negative integer, exact, and fits size_t. */
static int json_size(const cJSON *item, size_t *out)
{
    double d;

    if (!cJSON_IsNumber(item))
        return -1;
    d = item->valuedouble;
    if (!(d >= 0.0 && d <= JSON_INT_MAX) || d != (double)(uint64_t)d ||
        (uint64_t)d > SIZE_MAX)
        return -1;
    *out = (size_t)d;
    return 0;
}

/* 1 if the JSON text has at most JSON_VALUES_MAX values (a bound counted
 * from the separators outside strings, before parsing). */
static int json_small_enough(const char *s, size_t n)
{
    size_t count = 1;
    int in_str = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if ((c == ',' || c == '[' || c == '{') && ++count > JSON_VALUES_MAX) {
            return 0;
        }
    }
    return 1;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *get_str(const cJSON *obj, const char *key)
{
    const cJSON *it = get(obj, key);

    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 0 if no object in the tree has a key twice, 1 if one has, TFRS_ENOMEM.
 * (cJSON keeps duplicates; its lookups would silently pick the first.) */
static int unique_keys(const cJSON *node)
{
    const cJSON *c;
    const char **keys;
    size_t n = 0, i = 0;
    int rc = 0;

    for (c = node->child; c != NULL; c = c->next)
        n++;
    if (cJSON_IsObject(node) && n > 1) {
        keys = tfrs__calloc(n, sizeof(*keys));
        if (keys == NULL)
            return TFRS_ENOMEM;
        for (c = node->child; c != NULL; c = c->next)
            keys[i++] = c->string != NULL ? c->string : "";
        qsort(keys, n, sizeof(*keys), cmp_str_ptr);
        for (i = 1; i < n && rc == 0; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0)
                rc = 1;
        tfrs__free(keys);
    }
    for (c = node->child; c != NULL && rc == 0; c = c->next)
        rc = unique_keys(c);
    return rc;
}

/* ======================================================================== */
/* Saving                                                                   */
/* ======================================================================== */

enum { SRC_F32, SRC_VOCAB_BYTES, SRC_VOCAB_OFFSETS };

typedef struct out_tensor {
    char              name[128];
    int               dtype;
    int               src;
    size_t            ndim, shape[2];
    size_t            bytes;       /* size in the data section            */
    size_t            begin;       /* offset in the data section          */
    const float      *f32;         /* SRC_F32                             */
    const tfrs_vocab *vocab;       /* SRC_VOCAB_*                         */
} out_tensor;

typedef struct out_list {
    out_tensor *t;
    size_t      n, cap;
    size_t      data_len;
} out_list;

/* Checks that the parameter blocks are in the order the format assumes. */
static int layout_ok(const tfrs_model *m)
{
    const tfrs__params *o = &m->g.params;

    if (o->n != m->g.nfeat + 2 * m->g.nlayers)
        return 0;
    for (size_t i = 0; i < m->g.nfeat; i++)
        if (o->p[i].w != m->g.feat[i].emb->w)
            return 0;
    for (size_t j = 0; j < m->g.nlayers; j++) {
        const tfrs__param *p = &o->p[m->g.nfeat + 2 * j];
        if (p[0].w != m->g.layers[j].dense->w || p[1].w != m->g.layers[j].dense->b)
            return 0;
    }
    return 1;
}

/* Tensor name of parameter block p: features.<i>.embedding,
 * dense.<j>.kernel or dense.<j>.bias. */
static void param_name(const tfrs_model *m, size_t p, char *buf, size_t cap)
{
    if (p < m->g.nfeat)
        snprintf(buf, cap, "features.%zu.embedding", p);
    else
        snprintf(buf, cap, "dense.%zu.%s", (p - m->g.nfeat) / 2,
                 (p - m->g.nfeat) % 2 == 0 ? "kernel" : "bias");
}

static out_tensor *out_add(out_list *L, int dtype, int src, size_t d0, size_t d1, size_t ndim)
{
    out_tensor *t = &L->t[L->n++];

    memset(t, 0, sizeof(*t));
    t->dtype = dtype;
    t->src = src;
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    return t;
}

static int out_finish(out_list *L, out_tensor *t)
{
    size_t count = t->shape[0];

    if (t->ndim == 2 && tfrs__mul(count, t->shape[1], &count) < 0)
        return -1;
    if (tfrs__mul(count, dtypes[t->dtype].size, &t->bytes) < 0)
        return -1;
    t->begin = L->data_len;
    return tfrs__add(L->data_len, t->bytes, &L->data_len);
}

/* Lists the tensors of m in file order and gives each its offsets. */
static int list_tensors(const tfrs_model *m, int with_opt, out_list *L)
{
    int nslots = with_opt ? tfrs__optimizer_num_slots(m->opt.o.kind) : 0;
    size_t nparam_tensors = m->g.nfeat + 2 * m->g.nlayers;
    out_tensor *t;

    L->cap = 3 * m->g.nfeat + 2 * m->g.nlayers + (size_t)nslots * nparam_tensors;
    L->t = tfrs__calloc(L->cap, sizeof(*L->t));
    if (L->t == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");

    for (size_t i = 0; i < m->g.nfeat; i++) {
        const tfrs__feature *f = &m->g.feat[i];
        size_t ntok = tfrs_vocab_num_tokens(f->vocab), total = 0, len;

        for (size_t k = 0; k < ntok; k++) {
            tfrs__vocab_token_at(f->vocab, k, &len);
            if (tfrs__add(total, len, &total) < 0)
                goto overflow;
        }
        t = out_add(L, DT_F32, SRC_F32, f->emb->rows, f->emb->dim, 2);
        snprintf(t->name, sizeof(t->name), "features.%zu.embedding", i);
        t->f32 = f->emb->w;
        if (out_finish(L, t) < 0)
            goto overflow;
        t = out_add(L, DT_U8, SRC_VOCAB_BYTES, total, 0, 1);
        snprintf(t->name, sizeof(t->name), "features.%zu.vocab.bytes", i);
        t->vocab = f->vocab;
        if (out_finish(L, t) < 0)
            goto overflow;
        t = out_add(L, DT_I64, SRC_VOCAB_OFFSETS, ntok + 1, 0, 1);
        snprintf(t->name, sizeof(t->name), "features.%zu.vocab.offsets", i);
        t->vocab = f->vocab;
        if (out_finish(L, t) < 0)
            goto overflow;
    }
    for (size_t j = 0; j < m->g.nlayers; j++) {
        const tfrs_dense *d = m->g.layers[j].dense;

        t = out_add(L, DT_F32, SRC_F32, d->in, d->out, 2);
        snprintf(t->name, sizeof(t->name), "dense.%zu.kernel", j);
        t->f32 = d->w;
        if (out_finish(L, t) < 0)
            goto overflow;
        t = out_add(L, DT_F32, SRC_F32, d->out, 0, 1);
        snprintf(t->name, sizeof(t->name), "dense.%zu.bias", j);
        t->f32 = d->b;
        if (out_finish(L, t) < 0)
            goto overflow;
    }
    /* Slots, in parameter order (the same order as the weights above). */
    for (size_t p = 0; p < nparam_tensors && nslots > 0; p++) {
        const tfrs__param *par = &m->g.params.p[p];
        char pname[96];
        size_t d0 = par->n, d1 = 0, ndim = 1;

        param_name(m, p, pname, sizeof(pname));
        if (p < m->g.nfeat) {
            d0 = par->emb->rows;
            d1 = par->emb->dim;
            ndim = 2;
        } else if ((p - m->g.nfeat) % 2 == 0) {
            d0 = m->g.layers[(p - m->g.nfeat) / 2].dense->in;
            d1 = m->g.layers[(p - m->g.nfeat) / 2].dense->out;
            ndim = 2;
        }
        for (int s = 0; s < nslots; s++) {
            if (par->slot[s] == NULL)
                return tfrs__fail(TFRS_ESTATE, "tfrs_model_save: optimizer slot missing");
            t = out_add(L, DT_F32, SRC_F32, d0, d1, ndim);
            snprintf(t->name, sizeof(t->name), "optimizer.%s.%s", pname,
                     slot_name(m->opt.o.kind, s));
            t->f32 = par->slot[s];
            if (out_finish(L, t) < 0)
                goto overflow;
        }
    }
    return TFRS_OK;
overflow:
    return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: the model is too large to save");
}

/* Writes tensor t (little-endian) at dst. */
static void emit_tensor(const out_tensor *t, unsigned char *dst)
{
    size_t count, len, off = 0;
    const char *tok;

    switch (t->src) {
    case SRC_F32:
        count = t->bytes / 4;
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, &t->f32[i], 4);
            put_u32le(dst + 4 * i, u);
        }
        break;
    case SRC_VOCAB_BYTES:
        count = tfrs_vocab_num_tokens(t->vocab);
        for (size_t k = 0; k < count; k++) {
            tok = tfrs__vocab_token_at(t->vocab, k, &len);
            memcpy(dst + off, tok, len);
            off += len;
        }
        break;
    case SRC_VOCAB_OFFSETS:
        count = tfrs_vocab_num_tokens(t->vocab);
        put_u64le(dst, 0);
        for (size_t k = 0; k < count; k++) {
            tfrs__vocab_token_at(t->vocab, k, &len);
            off += len;
            put_u64le(dst + 8 * (k + 1), (uint64_t)off);
        }
        break;
    }
}

/* cJSON building: each helper clears *ok on failure and frees the item. */
static cJSON *add_item(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    cJSON_bool added = obj == NULL ? 0
                     : key != NULL ? cJSON_AddItemToObject(obj, key, item)
                                   : cJSON_AddItemToArray(obj, item);

    if (item == NULL || !added) {
        cJSON_Delete(item);
        *ok = 0;
        return NULL;
    }
    return item;
}

static void add_str(cJSON *obj, const char *key, const char *s, int *ok)
{
    add_item(obj, key, s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull(), ok);
}

static void add_float(cJSON *obj, const char *key, float x, int *ok)
{
    char buf[48];

    format_float(buf, sizeof(buf), x);
    add_str(obj, key, buf, ok);
}

static void add_size(cJSON *obj, const char *key, size_t v, int *ok)
{
    add_item(obj, key, cJSON_CreateNumber((double)v), ok);
}

static void add_u64(cJSON *obj, const char *key, uint64_t v, int *ok)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    add_str(obj, key, buf, ok);
}

/* Prints a JSON tree unformatted into a tfrs__malloc'ed string.  (cJSON
 * allocates through tfrs_set_allocator's allocator only while a custom one
 * is installed, so its strings are copied rather than handed out.) */
static char *print_json(const cJSON *j)
{
    char *s = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    char *copy;

    if (s == NULL)
        return NULL;
    copy = tfrs__strdup(s);
    cJSON_free(s);
    return copy;
}

static int utf8_ok(const char *s)
{
    return s == NULL || tfrs__utf8_valid(s, strlen(s));
}

static cJSON *arch_json(const tfrs_model *m)
{
    cJSON *a = cJSON_CreateObject(), *arr, *o;
    const tfrs_optimizer_options *op = &m->opt.o;
    int ok = a != NULL;

    arr = add_item(a, "features", cJSON_CreateArray(), &ok);
    for (size_t i = 0; i < m->g.nfeat; i++) {
        const tfrs__feature *f = &m->g.feat[i];
        o = add_item(arr, NULL, cJSON_CreateObject(), &ok);
        add_str(o, "name", f->name, &ok);
        add_size(o, "embedding_dim", f->dim, &ok);
        add_size(o, "num_oov_indices", tfrs_vocab_num_oov(f->vocab), &ok);
        add_str(o, "mask_token", tfrs__vocab_mask_token(f->vocab), &ok);
        add_size(o, "vocab_size", tfrs_vocab_size(f->vocab), &ok);
    }
    arr = add_item(a, "layers", cJSON_CreateArray(), &ok);
    for (size_t j = 0; j < m->g.nlayers; j++) {
        o = add_item(arr, NULL, cJSON_CreateObject(), &ok);
        add_size(o, "units", m->g.layers[j].units, &ok);
        add_str(o, "activation", act_name(m->g.layers[j].act), &ok);
        add_float(o, "l2", m->g.layers[j].l2, &ok);
    }
    o = add_item(a, "task", cJSON_CreateObject(), &ok);
    add_str(o, "loss", loss_name(m->task.loss), &ok);
    add_item(o, "from_logits", cJSON_CreateBool(m->task.from_logits != 0), &ok);
    add_float(o, "huber_delta", m->task.huber_delta, &ok);
    arr = add_item(o, "metrics", cJSON_CreateArray(), &ok);
    for (size_t k = 0; k < sizeof(metric_names) / sizeof(metric_names[0]); k++)
        if (m->task.metrics & metric_names[k].bit)
            add_str(arr, NULL, metric_names[k].name, &ok);
    add_str(a, "label", m->label, &ok);
    add_str(a, "weight", m->weight, &ok);
    o = add_item(a, "optimizer", cJSON_CreateObject(), &ok);
    add_str(o, "kind", kind_name(op->kind), &ok);
    add_float(o, "learning_rate", op->learning_rate, &ok);
    add_float(o, "initial_accumulator", op->initial_accumulator, &ok);
    add_float(o, "epsilon", op->epsilon, &ok);
    add_float(o, "momentum", op->momentum, &ok);
    add_float(o, "beta1", op->beta1, &ok);
    add_float(o, "beta2", op->beta2, &ok);
    add_u64(a, "seed", m->seed, &ok);
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* The header tree: "__metadata__" first, then the tensors in file order.
 * *crc_item gets the "crc32" string, to be replaced once the data is out. */
static cJSON *header_json(const tfrs_model *m, const out_list *L, int with_opt,
                          cJSON **crc_item)
{
    cJSON *h = cJSON_CreateObject(), *meta, *arch, *train, *o, *arr;
    char *arch_s, *train_s;
    int ok = h != NULL;

    meta = add_item(h, "__metadata__", cJSON_CreateObject(), &ok);
    add_str(meta, "format", FORMAT_NAME, &ok);
    add_u64(meta, "format_version", FORMAT_VERSION, &ok);
    arch = arch_json(m);
    arch_s = print_json(arch);
    cJSON_Delete(arch);
    add_str(meta, "architecture", arch_s != NULL ? arch_s : "", &ok);
    ok &= arch_s != NULL;
    tfrs__free(arch_s);
    train = cJSON_CreateObject();
    ok &= train != NULL;
    add_u64(train, "steps", m->opt.steps, &ok);
    add_u64(train, "epochs_done", m->epochs_done, &ok);
    train_s = print_json(train);
    cJSON_Delete(train);
    add_str(meta, "training", train_s != NULL ? train_s : "", &ok);
    ok &= train_s != NULL;
    tfrs__free(train_s);
    add_str(meta, "optimizer_state", with_opt ? "1" : "0", &ok);
    *crc_item = add_item(meta, "crc32", cJSON_CreateString("00000000"), &ok);

    for (size_t k = 0; k < L->n && ok; k++) {
        const out_tensor *t = &L->t[k];
        o = add_item(h, t->name, cJSON_CreateObject(), &ok);
        add_str(o, "dtype", dtypes[t->dtype].name, &ok);
        arr = add_item(o, "shape", cJSON_CreateArray(), &ok);
        for (size_t d = 0; d < t->ndim; d++)
            add_size(arr, NULL, t->shape[d], &ok);
        arr = add_item(o, "data_offsets", cJSON_CreateArray(), &ok);
        add_size(arr, NULL, t->begin, &ok);
        add_size(arr, NULL, t->begin + t->bytes, &ok);
    }
    if (!ok) {
        cJSON_Delete(h);
        return NULL;
    }
    return h;
}

/* Serialises m into a new buffer: *buf (tfrs__malloc), *len bytes. */
static int serialize(const tfrs_model *m, int with_opt, unsigned char **buf, size_t *len)
{
    out_list L = { 0 };
    cJSON *h = NULL, *crc_item = NULL;
    char *hs = NULL, crc_hex[16];
    size_t hlen, padded, total;
    unsigned char *b = NULL, *data;
    int rc;

    *buf = NULL;
    if ((rc = list_tensors(m, with_opt, &L)) != TFRS_OK)
        goto done;
    h = header_json(m, &L, with_opt, &crc_item);
    hs = print_json(h);
    if (hs == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");
        goto done;
    }
    hlen = strlen(hs);
    padded = (hlen + 7) & ~(size_t)7;
    if (padded < hlen || padded > HEADER_MAX || tfrs__add(8 + padded, L.data_len, &total) < 0) {
        rc = tfrs__fail(TFRS_EINVAL, "tfrs_model_save: the model is too large to save");
        goto done;
    }
    b = tfrs__malloc(total);
    if (b == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory (%zu bytes)", total);
        goto done;
    }
    data = b + 8 + padded;
    for (size_t k = 0; k < L.n; k++)
        emit_tensor(&L.t[k], data + L.t[k].begin);

    /* The CRC has a fixed width, so the header keeps its length. */
    snprintf(crc_hex, sizeof(crc_hex), "%08lx", (unsigned long)crc32_buf(data, L.data_len));
    tfrs__free(hs);
    hs = NULL;
    if (cJSON_SetValuestring(crc_item, crc_hex) != NULL)
        hs = print_json(h);
    if (hs == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");
        goto done;
    }
    if (strlen(hs) != hlen) {
        rc = tfrs__fail(TFRS_ESTATE, "tfrs_model_save: internal error: header length changed");
        goto done;
    }
    put_u64le(b, (uint64_t)padded);
    memcpy(b + 8, hs, hlen);
    memset(b + 8 + hlen, ' ', padded - hlen);
    *buf = b;
    *len = total;
    b = NULL;
done:
    tfrs__free(b);
    tfrs__free(hs);
    cJSON_Delete(h);
    tfrs__free(L.t);
    return rc;
}


int tfrs_model_save(const tfrs_model *model, const char *path, unsigned flags)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    if (model == NULL || path == NULL || path[0] == '\0')
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: model and path are required");
    if (flags & ~TFRS_SAVE_OPTIMIZER)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: unknown flags 0x%x", flags);
    if (!model->built)
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_save: call tfrs_model_build first");
    if (!layout_ok(model))
        return tfrs__fail(TFRS_ESTATE, "tfrs_model_save: internal error: parameter layout");
    for (size_t i = 0; i < model->g.nfeat; i++)
        if (!utf8_ok(model->g.feat[i].name) || !utf8_ok(tfrs__vocab_mask_token(model->g.feat[i].vocab)))
            return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: feature %zu: name or mask token "
                              "is not valid UTF-8", i);
    if (!utf8_ok(model->label) || !utf8_ok(model->weight))
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: label or weight column name is not "
                          "valid UTF-8");
    if ((rc = serialize(model, (flags & TFRS_SAVE_OPTIMIZER) != 0, &buf, &len)) != TFRS_OK)
        return rc;
    rc = tfrs__write_atomic(path, "tfrs_model_save", buf, len);
    tfrs__free(buf);
    return rc;
}

/* ======================================================================== */
/* Loading                                                                  */
/* ======================================================================== */

typedef struct entry {
    const char *name;
    int         dtype;
    size_t      ndim, shape[MAX_NDIM];
    size_t      begin, end;      /* in the data section */
    int         used;
} entry;

typedef struct reader {
    const unsigned char *data;   /* data section */
    size_t               dlen;
    cJSON               *root;
    const cJSON         *meta;
    entry               *ents;   /* sorted by name after read_tensors */
    size_t               nents;
    int                  with_opt;
    uint64_t             steps, epochs_done;
    cJSON               *arch_root;
} reader;

typedef struct arch_feature {
    const char *name, *mask;
    size_t      dim, num_oov, vocab_size, ntokens;
} arch_feature;

typedef struct arch_layer {
    size_t          units, in;
    tfrs_activation act;
    float           l2;
} arch_layer;

typedef struct arch {
    size_t                 nfeat, nlayers;
    arch_feature          *feat;
    arch_layer            *layers;
    tfrs_task_options      task;
    tfrs_optimizer_options opt;
    const char            *label, *weight;
    uint64_t               seed;
} arch;

#define BAD(...) tfrs__fail(TFRS_EFORMAT, "model file: " __VA_ARGS__)

/* A failure of a public builder call during load: allocation failures stay
 * TFRS_ENOMEM, anything else means the file describes an invalid model. */
static int rewrap(int rc, const char *what)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
    if (rc == TFRS_ENOMEM)
        return tfrs__fail(TFRS_ENOMEM, "model file: %s: %s", what, msg);
    return tfrs__fail(TFRS_EFORMAT, "model file: %s: %s", what, msg);
}

/* Header length, JSON, unique keys, __metadata__ strings. */
static int read_header(reader *r, const unsigned char *buf, size_t size)
{
    uint64_t n;
    char *text;
    const char *end;
    const cJSON *c;
    unsigned long failed;
    int rc;

    if (size < 8)
        return BAD("%zu bytes is too short for the 8-byte header length", size);
    n = get_u64le(buf);
    if (n > HEADER_MAX)
        return BAD("header length %llu exceeds the limit of %llu bytes",
                   (unsigned long long)n, (unsigned long long)HEADER_MAX);
    if (n > size - 8)
        return BAD("header length %llu exceeds the %zu bytes after it",
                   (unsigned long long)n, size - 8);
    if (n < 2 || buf[8] != '{')
        return BAD("the header is not a JSON object");
    if (!tfrs__utf8_valid((const char *)buf + 8, (size_t)n))
        return BAD("the header is not valid UTF-8");
    if (!json_small_enough((const char *)buf + 8, (size_t)n))
        return BAD("the header has more than %d JSON values", JSON_VALUES_MAX);
    /* A NUL-terminated copy, so that no JSON parser can read past it. */
    text = tfrs__malloc((size_t)n + 1);
    if (text == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory for the header");
    memcpy(text, buf + 8, (size_t)n);
    text[n] = '\0';
    failed = tfrs__alloc_failures();  /* cJSON's NULL may mean out of memory */
    r->root = json_parse(text, (size_t)n, &end);
    if (r->root != NULL)
        for (; end < text + n; end++)
            if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
                break;
    rc = r->root == NULL || end != text + n || !cJSON_IsObject(r->root) ? -1 : 0;
    tfrs__free(text);
    if (r->root == NULL && tfrs__alloc_failures() != failed)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory parsing the header");
    if (rc != 0)
        return BAD("the header is not a JSON object followed by spaces");
    if ((rc = unique_keys(r->root)) != 0)
        return rc == TFRS_ENOMEM ? tfrs__fail(TFRS_ENOMEM, "model file: out of memory")
                                 : BAD("the header has a duplicate key");
    r->data = buf + 8 + n;
    r->dlen = size - 8 - (size_t)n;

    r->meta = get(r->root, "__metadata__");
    if (!cJSON_IsObject(r->meta))
        return BAD("no \"__metadata__\" object: not a libtfrsc file");
    for (c = r->meta->child; c != NULL; c = c->next)
        if (!cJSON_IsString(c))
            return BAD("metadata value \"%.64s\" is not a string", c->string);
    return TFRS_OK;
}

static int read_version(const reader *r)
{
    const char *fmt = get_str(r->meta, "format"), *ver = get_str(r->meta, "format_version");
    uint64_t v;

    if (fmt == NULL || strcmp(fmt, FORMAT_NAME) != 0)
        return BAD("metadata \"format\" is not \"" FORMAT_NAME "\": not a libtfrsc file");
    if (parse_u64(ver, &v) < 0 || v == 0)
        return BAD("metadata \"format_version\" is not a positive integer");
    if (v > FORMAT_VERSION)
        return tfrs__fail(TFRS_EVERSION, "model file: format version %llu is newer than the "
                          "supported version %d", (unsigned long long)v, FORMAT_VERSION);
    return TFRS_OK;
}

static int parse_entry(entry *e, const cJSON *item)
{
    const cJSON *sh = get(item, "shape"), *off = get(item, "data_offsets"), *c;
    const char *dt = get_str(item, "dtype");
    size_t count = 1, bytes;

    e->name = item->string;
    if (!cJSON_IsObject(item))
        return BAD("tensor \"%.64s\" is not an object", e->name);
    e->dtype = -1;
    for (int k = 0; k < 3 && dt != NULL; k++)
        if (strcmp(dt, dtypes[k].name) == 0)
            e->dtype = k;
    if (e->dtype < 0)
        return BAD("tensor \"%.64s\" has an unsupported dtype", e->name);
    if (!cJSON_IsArray(sh))
        return BAD("tensor \"%.64s\" has no shape array", e->name);
    for (c = sh->child; c != NULL; c = c->next) {
        if (e->ndim == MAX_NDIM)
            return BAD("tensor \"%.64s\" has more than %d dimensions", e->name, MAX_NDIM);
        if (json_size(c, &e->shape[e->ndim]) < 0)
            return BAD("tensor \"%.64s\": shape entries must be integers >= 0", e->name);
        if (tfrs__mul(count, e->shape[e->ndim++], &count) < 0)
            return BAD("tensor \"%.64s\": shape overflows", e->name);
    }
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
        json_size(off->child, &e->begin) < 0 || json_size(off->child->next, &e->end) < 0)
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
    const entry *x = a, *y = b;

    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* The tensor table: entries valid, contiguous, covering the data exactly. */
static int read_tensors(reader *r)
{
    const cJSON *c;
    size_t i = 0, pos = 0;
    int rc;

    for (c = r->root->child; c != NULL; c = c->next)
        if (strcmp(c->string, "__metadata__") != 0)
            r->nents++;
    r->ents = tfrs__calloc(r->nents == 0 ? 1 : r->nents, sizeof(*r->ents));
    if (r->ents == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (c = r->root->child; c != NULL; c = c->next)
        if (strcmp(c->string, "__metadata__") != 0)
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

static int read_state(reader *r)
{
    const char *crc_s = get_str(r->meta, "crc32"), *opt_s = get_str(r->meta, "optimizer_state");
    const char *train_s = get_str(r->meta, "training");
    char hex[16];
    cJSON *t;
    unsigned long failed;
    int rc = TFRS_OK;

    snprintf(hex, sizeof(hex), "%08lx", (unsigned long)crc32_buf(r->data, r->dlen));
    if (crc_s == NULL || strlen(crc_s) != 8 || strspn(crc_s, "0123456789abcdef") != 8)
        return BAD("metadata \"crc32\" is not 8 lowercase hex digits");
    if (strcmp(crc_s, hex) != 0)
        return BAD("checksum mismatch: the data section has CRC-32 %s, the header says %s",
                   hex, crc_s);
    if (opt_s == NULL || (strcmp(opt_s, "0") != 0 && strcmp(opt_s, "1") != 0))
        return BAD("metadata \"optimizer_state\" is not \"0\" or \"1\"");
    r->with_opt = opt_s[0] == '1';
    failed = tfrs__alloc_failures();
    t = train_s != NULL && json_small_enough(train_s, strlen(train_s))
            ? json_parse(train_s, strlen(train_s) + 1, NULL) : NULL;
    if ((t == NULL && tfrs__alloc_failures() != failed) ||
        (t != NULL && (rc = unique_keys(t)) == TFRS_ENOMEM)) {
        cJSON_Delete(t);
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    }
    if (t == NULL || !cJSON_IsObject(t) || rc != 0 ||
        parse_u64(get_str(t, "steps"), &r->steps) < 0 ||
        parse_u64(get_str(t, "epochs_done"), &r->epochs_done) < 0)
        rc = BAD("metadata \"training\" is not {\"steps\": \"<n>\", \"epochs_done\": \"<n>\"}");
    cJSON_Delete(t);
    return rc;
}

/* ---- architecture ------------------------------------------------------ */

static int read_features(const cJSON *fa, arch *a)
{
    const cJSON *c;
    size_t i = 0;

    if (!cJSON_IsArray(fa) || fa->child == NULL)
        return BAD("architecture: \"features\" must be a non-empty array");
    for (c = fa->child; c != NULL; c = c->next)
        a->nfeat++;
    a->feat = tfrs__calloc(a->nfeat, sizeof(*a->feat));
    if (a->feat == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (c = fa->child; c != NULL; c = c->next, i++) {
        arch_feature *f = &a->feat[i];
        const cJSON *mask = get(c, "mask_token");
        size_t reserved;

        f->name = get_str(c, "name");
        if (f->name == NULL || json_size(get(c, "embedding_dim"), &f->dim) < 0 ||
            json_size(get(c, "num_oov_indices"), &f->num_oov) < 0 ||
            json_size(get(c, "vocab_size"), &f->vocab_size) < 0 ||
            !(cJSON_IsNull(mask) || cJSON_IsString(mask)))
            return BAD("architecture: feature %zu lacks name, embedding_dim, num_oov_indices, "
                       "mask_token or vocab_size", i);
        f->mask = cJSON_IsString(mask) ? mask->valuestring : NULL;
        reserved = f->num_oov + (f->mask != NULL);
        if (f->num_oov > f->vocab_size || reserved > f->vocab_size)
            return BAD("architecture: feature %zu: vocab_size %zu is smaller than its mask and "
                       "OOV indices", i, f->vocab_size);
        f->ntokens = f->vocab_size - reserved;
    }
    return TFRS_OK;
}

static int read_layers(const cJSON *la, arch *a)
{
    const cJSON *c;
    size_t i = 0;

    if (!cJSON_IsArray(la) || la->child == NULL)
        return BAD("architecture: \"layers\" must be a non-empty array");
    for (c = la->child; c != NULL; c = c->next)
        a->nlayers++;
    a->layers = tfrs__calloc(a->nlayers, sizeof(*a->layers));
    if (a->layers == NULL)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (c = la->child; c != NULL; c = c->next, i++) {
        arch_layer *l = &a->layers[i];
        const char *act = get_str(c, "activation");
        int found = 0;

        for (int k = TFRS_ACT_LINEAR; k <= TFRS_ACT_SIGMOID && act != NULL; k++)
            if (act_name((tfrs_activation)k) != NULL && strcmp(act, act_name(k)) == 0) {
                l->act = (tfrs_activation)k;
                found = 1;
            }
        if (!found || json_size(get(c, "units"), &l->units) < 0 ||
            parse_float(get_str(c, "l2"), &l->l2) < 0)
            return BAD("architecture: layer %zu lacks units, a known activation or l2", i);
    }
    return TFRS_OK;
}

static int read_task(const cJSON *t, tfrs_task_options *o)
{
    const char *loss = get_str(t, "loss");
    const cJSON *logits = get(t, "from_logits"), *metrics = get(t, "metrics"), *c;
    int found = 0;

    tfrs_task_options_init(o, TFRS_TASK_OPTIONS_VERSION);
    for (int k = TFRS_LOSS_MSE; k <= TFRS_LOSS_HUBER && loss != NULL; k++)
        if (strcmp(loss, loss_name((tfrs_loss)k)) == 0) {
            o->loss = (tfrs_loss)k;
            found = 1;
        }
    if (!found || !cJSON_IsBool(logits) || !cJSON_IsArray(metrics) ||
        parse_float(get_str(t, "huber_delta"), &o->huber_delta) < 0)
        return BAD("architecture: \"task\" lacks a known loss, from_logits, huber_delta or "
                   "metrics");
    o->from_logits = cJSON_IsTrue(logits);
    o->metrics = 0;
    for (c = metrics->child; c != NULL; c = c->next) {
        size_t k = 0, nm = sizeof(metric_names) / sizeof(metric_names[0]);
        while (k < nm && !(cJSON_IsString(c) && strcmp(c->valuestring, metric_names[k].name) == 0))
            k++;
        if (k == nm)
            return BAD("architecture: unknown metric in \"task\"");
        o->metrics |= metric_names[k].bit;
    }
    return TFRS_OK;
}

static int read_optimizer(const cJSON *op, tfrs_optimizer_options *o)
{
    const char *kind = get_str(op, "kind");
    int k;

    for (k = TFRS_OPT_ADAGRAD; k <= TFRS_OPT_ADAM; k++)
        if (kind != NULL && strcmp(kind, kind_name((tfrs_optimizer_kind)k)) == 0)
            break;
    if (k > TFRS_OPT_ADAM)
        return BAD("architecture: unknown optimizer kind");
    tfrs_optimizer_options_init(o, TFRS_OPTIMIZER_OPTIONS_VERSION, (tfrs_optimizer_kind)k);
    if (parse_float(get_str(op, "learning_rate"), &o->learning_rate) < 0 ||
        parse_float(get_str(op, "initial_accumulator"), &o->initial_accumulator) < 0 ||
        parse_float(get_str(op, "epsilon"), &o->epsilon) < 0 ||
        parse_float(get_str(op, "momentum"), &o->momentum) < 0 ||
        parse_float(get_str(op, "beta1"), &o->beta1) < 0 ||
        parse_float(get_str(op, "beta2"), &o->beta2) < 0)
        return BAD("architecture: optimizer settings missing or not decimal numbers");
    return TFRS_OK;
}

static int read_arch(reader *r, arch *a)
{
    const char *s = get_str(r->meta, "architecture");
    const cJSON *w;
    unsigned long failed;
    int rc;

    if (s != NULL && !json_small_enough(s, strlen(s)))
        return BAD("the architecture has more than %d JSON values", JSON_VALUES_MAX);
    failed = tfrs__alloc_failures();
    r->arch_root = s != NULL ? json_parse(s, strlen(s) + 1, NULL) : NULL;
    if (r->arch_root == NULL && tfrs__alloc_failures() != failed)
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory parsing the architecture");
    if (!cJSON_IsObject(r->arch_root))
        return BAD("metadata \"architecture\" is not a JSON object");
    if ((rc = unique_keys(r->arch_root)) != 0)
        return rc == TFRS_ENOMEM ? tfrs__fail(TFRS_ENOMEM, "model file: out of memory")
                                 : BAD("architecture: duplicate key");
    if ((rc = read_features(get(r->arch_root, "features"), a)) != TFRS_OK ||
        (rc = read_layers(get(r->arch_root, "layers"), a)) != TFRS_OK ||
        (rc = read_task(get(r->arch_root, "task"), &a->task)) != TFRS_OK ||
        (rc = read_optimizer(get(r->arch_root, "optimizer"), &a->opt)) != TFRS_OK)
        return rc;
    a->label = get_str(r->arch_root, "label");
    w = get(r->arch_root, "weight");
    if (a->label == NULL || !(cJSON_IsNull(w) || cJSON_IsString(w)))
        return BAD("architecture: \"label\" must be a string and \"weight\" a string or null");
    a->weight = cJSON_IsString(w) ? w->valuestring : NULL;
    if (parse_u64(get_str(r->arch_root, "seed"), &a->seed) < 0)
        return BAD("architecture: \"seed\" is not a decimal string");
    return TFRS_OK;
}

/* ---- tensor table against the architecture ---------------------------- */

#define ANY SIZE_MAX

static char *dims_str(char *buf, size_t cap, size_t ndim, const size_t *d)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t k = 0; k < ndim && len < cap; k++) {
        int w = d[k] == ANY ? snprintf(buf + len, cap - len, "%sn", k ? ", " : "")
                            : snprintf(buf + len, cap - len, "%s%zu", k ? ", " : "", d[k]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

/* Finds `name` with the given dtype and shape (an extent of ANY matches
 * anything) and marks it used. */
static int expect(reader *r, const char *name, int dtype, size_t ndim, size_t d0, size_t d1)
{
    const size_t want[2] = { d0, d1 };
    char got_s[96], want_s[96];
    entry key, *e;
    int ok;

    key.name = name;
    e = bsearch(&key, r->ents, r->nents, sizeof(*r->ents), cmp_names);
    if (e == NULL)
        return BAD("tensor \"%s\" is missing", name);
    ok = e->dtype == dtype && e->ndim == ndim;
    for (size_t k = 0; k < ndim && ok; k++)
        ok = want[k] == ANY || e->shape[k] == want[k];
    if (!ok)
        return BAD("tensor \"%s\" is %s [%s] where the architecture implies %s [%s]", name,
                   dtypes[e->dtype].name, dims_str(got_s, sizeof(got_s), e->ndim, e->shape),
                   dtypes[dtype].name, dims_str(want_s, sizeof(want_s), ndim, want));
    e->used = 1;
    return TFRS_OK;
}

static int expect_param(reader *r, const arch *a, const char *name, size_t ndim, size_t d0,
                        size_t d1)
{
    char sname[160];
    int rc, nslots = tfrs__optimizer_num_slots(a->opt.kind);

    if ((rc = expect(r, name, DT_F32, ndim, d0, d1)) != TFRS_OK)
        return rc;
    for (int s = 0; s < nslots && r->with_opt; s++) {
        snprintf(sname, sizeof(sname), "optimizer.%s.%s", name, slot_name(a->opt.kind, s));
        if ((rc = expect(r, sname, DT_F32, ndim, d0, d1)) != TFRS_OK)
            return rc;
    }
    return TFRS_OK;
}

/* Every tensor the architecture implies exists with the right shape, and
 * nothing else does.  Done before anything is allocated from the sizes. */
static int check_tensors(reader *r, arch *a)
{
    char name[128];
    size_t in = 0;
    int rc;

    for (size_t i = 0; i < a->nfeat; i++) {
        const arch_feature *f = &a->feat[i];
        if (f->dim == 0 || tfrs__add(in, f->dim, &in) < 0)
            return BAD("architecture: feature %zu: bad embedding_dim", i);
        snprintf(name, sizeof(name), "features.%zu.embedding", i);
        if ((rc = expect_param(r, a, name, 2, f->vocab_size, f->dim)) != TFRS_OK)
            return rc;
        snprintf(name, sizeof(name), "features.%zu.vocab.bytes", i);
        if ((rc = expect(r, name, DT_U8, 1, ANY, 0)) != TFRS_OK)
            return rc;
        snprintf(name, sizeof(name), "features.%zu.vocab.offsets", i);
        if ((rc = expect(r, name, DT_I64, 1, f->ntokens + 1, 0)) != TFRS_OK)
            return rc;
    }
    for (size_t j = 0; j < a->nlayers; j++) {
        a->layers[j].in = in;
        if (a->layers[j].units == 0)
            return BAD("architecture: layer %zu has 0 units", j);
        snprintf(name, sizeof(name), "dense.%zu.kernel", j);
        if ((rc = expect_param(r, a, name, 2, in, a->layers[j].units)) != TFRS_OK)
            return rc;
        snprintf(name, sizeof(name), "dense.%zu.bias", j);
        if ((rc = expect_param(r, a, name, 1, a->layers[j].units, 0)) != TFRS_OK)
            return rc;
        in = a->layers[j].units;
    }
    for (size_t k = 0; k < r->nents; k++)
        if (!r->ents[k].used)
            return BAD("unexpected tensor \"%.64s\"", r->ents[k].name);
    return TFRS_OK;
}

/* ---- rebuilding the model ---------------------------------------------- */

static const entry *find(const reader *r, const char *name)
{
    entry key;

    key.name = name;
    return bsearch(&key, r->ents, r->nents, sizeof(*r->ents), cmp_names);
}

/* Vocabulary of feature i from its bytes and offsets tensors. */
static int read_vocab(const reader *r, const arch_feature *f, size_t i, tfrs_vocab **out)
{
    char name[128];
    const entry *eb, *eo;
    const unsigned char *bytes, *offs;
    const char **toks = NULL;
    char *text = NULL;
    size_t n = f->ntokens, prev = 0, pos = 0, cap;
    tfrs_vocab_options vo;
    int rc = TFRS_OK;

    *out = NULL;
    snprintf(name, sizeof(name), "features.%zu.vocab.bytes", i);
    eb = find(r, name);
    snprintf(name, sizeof(name), "features.%zu.vocab.offsets", i);
    eo = find(r, name);
    bytes = r->data + eb->begin;
    offs = r->data + eo->begin;
    if (get_u64le(offs) != 0)
        return BAD("feature %zu: vocabulary offsets must start at 0", i);
    /* text holds each token followed by a NUL: total bytes + n. */
    if (tfrs__add(eb->shape[0], n, &cap) < 0 || tfrs__add(cap, 1, &cap) < 0)
        return BAD("feature %zu: vocabulary too large", i);
    toks = tfrs__calloc(n == 0 ? 1 : n, sizeof(*toks));
    text = tfrs__malloc(cap);
    if (toks == NULL || text == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "model file: out of memory for a vocabulary");
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t end = get_u64le(offs + 8 * (k + 1));
        size_t len;
        if (end < prev || end > eb->shape[0]) {
            rc = BAD("feature %zu: vocabulary offsets must be non-decreasing and within the "
                     "%zu token bytes", i, eb->shape[0]);
            goto done;
        }
        len = (size_t)end - prev;
        if (memchr(bytes + prev, '\0', len) != NULL) {
            rc = BAD("feature %zu: token %zu contains a NUL byte", i, k);
            goto done;
        }
        memcpy(text + pos, bytes + prev, len);
        toks[k] = text + pos;
        pos += len;
        text[pos++] = '\0';
        prev = (size_t)end;
    }
    if (prev != eb->shape[0]) {
        rc = BAD("feature %zu: the last vocabulary offset %zu is not the byte count %zu", i,
                 prev, eb->shape[0]);
        goto done;
    }
    tfrs_vocab_options_init(&vo, TFRS_VOCAB_OPTIONS_VERSION);
    vo.num_oov_indices = f->num_oov;
    vo.mask_token = f->mask;
    snprintf(name, sizeof(name), "feature %zu: vocabulary", i);
    if ((rc = tfrs_vocab_create(out, toks, n, &vo)) != TFRS_OK)
        rc = rewrap(rc, name);
    else if (tfrs_vocab_size(*out) != f->vocab_size)
        rc = BAD("feature %zu: vocab_size %zu does not match the vocabulary", i, f->vocab_size);
done:
    if (rc != TFRS_OK) {
        tfrs_vocab_free(*out);
        *out = NULL;
    }
    tfrs__free(toks);
    tfrs__free(text);
    return rc;
}

static int rebuild(const reader *r, const arch *a, tfrs_model **out)
{
    tfrs_model *m = NULL;
    tfrs_ranking_task *task = NULL;
    int rc;

    *out = NULL;
    if ((rc = tfrs_model_create(&m, a->seed)) != TFRS_OK)
        return rewrap(rc, "creating the model");
    for (size_t i = 0; i < a->nfeat; i++) {
        tfrs_vocab *v;
        if ((rc = read_vocab(r, &a->feat[i], i, &v)) != TFRS_OK)
            goto fail;
        rc = tfrs_model_add_feature(m, a->feat[i].name, v, a->feat[i].dim);
        tfrs_vocab_free(v);
        if (rc != TFRS_OK) {
            rc = rewrap(rc, "adding a feature");
            goto fail;
        }
    }
    for (size_t j = 0; j < a->nlayers; j++)
        if ((rc = tfrs_model_add_dense(m, a->layers[j].units, a->layers[j].act,
                                       a->layers[j].l2)) != TFRS_OK) {
            rc = rewrap(rc, "adding a dense layer");
            goto fail;
        }
    if ((rc = tfrs_ranking_task_create(&task, &a->task)) != TFRS_OK ||
        (rc = tfrs_model_set_task(m, task)) != TFRS_OK) {
        rc = rewrap(rc, "setting the task");
        goto fail;
    }
    if ((rc = tfrs_model_set_optimizer(m, &a->opt)) != TFRS_OK) {
        rc = rewrap(rc, "setting the optimizer");
        goto fail;
    }
    if ((rc = tfrs_model_set_label(m, a->label, a->weight)) != TFRS_OK) {
        rc = rewrap(rc, "setting the label");
        goto fail;
    }
    if ((rc = tfrs_model_build(m)) != TFRS_OK) {
        rc = rewrap(rc, "building the model");
        goto fail;
    }
    tfrs_ranking_task_free(task);
    *out = m;
    return TFRS_OK;
fail:
    tfrs_ranking_task_free(task);
    tfrs_model_free(m);
    return rc;
}

/* Decodes an F32 tensor into dst (n values); rejects non-finite values and,
 * with nonneg, negative ones. */
static int read_f32(const reader *r, const char *name, float *dst, size_t n, int nonneg)
{
    const entry *e = find(r, name);
    const unsigned char *p;

    if (e == NULL || e->end - e->begin != 4 * n)
        return BAD("tensor \"%s\" does not match the built model", name);
    p = r->data + e->begin;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32le(p + 4 * i);
        float f;
        memcpy(&f, &u, 4);
        if (!isfinite(f) || (nonneg && f < 0.0f))
            return BAD("tensor \"%s\" holds %s value at index %zu", name,
                       isfinite(f) ? "a negative" : "a non-finite", i);
        dst[i] = f;
    }
    return TFRS_OK;
}

static int restore_weights(const reader *r, tfrs_model *m)
{
    char name[128], sname[160];
    tfrs_optimizer_kind kind = m->opt.o.kind;
    int nslots = r->with_opt ? tfrs__optimizer_num_slots(kind) : 0, rc;

    if (!layout_ok(m))
        return tfrs__fail(TFRS_ESTATE, "model file: internal error: parameter layout");
    for (size_t p = 0; p < m->g.params.n; p++) {
        tfrs__param *par = &m->g.params.p[p];
        param_name(m, p, name, sizeof(name));
        if ((rc = read_f32(r, name, par->w, par->n, 0)) != TFRS_OK)
            return rc;
        for (int s = 0; s < nslots; s++) {
            const char *sn = slot_name(kind, s);
            snprintf(sname, sizeof(sname), "optimizer.%s.%s", name, sn);
            /* Adagrad accumulators and Adam second moments are sums of squares. */
            if ((rc = read_f32(r, sname, par->slot[s], par->n,
                               strcmp(sn, "accumulator") == 0 || strcmp(sn, "v") == 0))
                != TFRS_OK)
                return rc;
        }
    }
    m->opt.steps = r->with_opt ? r->steps : 0;
    m->epochs_done = r->epochs_done;
    return TFRS_OK;
}

int tfrs_model_load_buffer(tfrs_model **out, const void *data, size_t size)
{
    reader r;
    arch a;
    tfrs_model *m = NULL;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load_buffer: out is NULL");
    *out = NULL;
    if (data == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load_buffer: data is NULL");
    memset(&r, 0, sizeof(r));
    memset(&a, 0, sizeof(a));
    if ((rc = read_header(&r, data, size)) == TFRS_OK &&
        (rc = read_version(&r)) == TFRS_OK &&
        (rc = read_tensors(&r)) == TFRS_OK &&
        (rc = read_state(&r)) == TFRS_OK &&
        (rc = read_arch(&r, &a)) == TFRS_OK &&
        (rc = check_tensors(&r, &a)) == TFRS_OK &&
        (rc = rebuild(&r, &a, &m)) == TFRS_OK &&
        (rc = restore_weights(&r, m)) == TFRS_OK) {
        *out = m;
        m = NULL;
    }
    tfrs_model_free(m);
    cJSON_Delete(r.root);
    cJSON_Delete(r.arch_root);
    tfrs__free(r.ents);
    tfrs__free(a.feat);
    tfrs__free(a.layers);
    return rc;
}

int tfrs_model_load(tfrs_model **out, const char *path)
{
    unsigned char *buf;
    size_t len = 0;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load: out is NULL");
    *out = NULL;
    if (path == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load: path is NULL");
    if ((rc = tfrs__read_file(path, "tfrs_model_load", &buf, &len)) != TFRS_OK)
        return rc;
    rc = tfrs_model_load_buffer(out, buf, len);
    tfrs__free(buf);
    if (rc != TFRS_OK) {
        char msg[384];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        tfrs__fail(rc, "%s: %s", path, msg);
    }
    return rc;
}
