/*
 * model_file.c - the model file schema: a model <-> safetensors tensors and
 * metadata (tfrs_model_save, tfrs_model_load, tfrs_model_load_buffer).
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The container (safetensors.c) holds the tensors and a "__metadata__"
 * object of strings: the format name and version, the architecture (a JSON
 * document in a string), the training counters, whether optimizer state is
 * present, and a CRC-32 of the data section.  docs/file-format.md describes
 * every byte and every check.
 *
 * Tensors: per feature i "features.<i>.embedding" [rows, dim] F32 and its
 * vocabulary as "features.<i>.vocab.bytes" (U8, the tokens concatenated) and
 * "features.<i>.vocab.offsets" (I64, ntokens + 1 offsets); per dense layer j
 * "dense.<j>.kernel" [in, units] and "dense.<j>.bias" [units]; per cross
 * layer k "cross.<k>.kernel" [D, D] (or "cross.<k>.u" [D, r] and
 * "cross.<k>.v" [r, D]) and "cross.<k>.bias" [D]; with
 * optimizer state, "optimizer.<param>.<slot>" of each parameter's shape.
 *
 * The loader trusts nothing: the container checks sizes and offsets, and
 * the architecture is cross-checked with the tensor table before the model
 * is built, so a hostile file cannot make the loader allocate much more
 * than a small multiple of the file's own size.
 *
 * Everything that knows where the model keeps its parameters is in the
 * first section ("the parameter layout"); the rest of the file reaches the
 * weights and optimizer slots only through it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/status.h"
#include "util/strtab.h"
#include "json.h"
#include "safetensors.h"
#include "dense.h"
#include "embedding.h"
#include "graph.h"
#include "model.h"
#include "optimizer.h"
#include "param.h"
#include "ranking.h"
#include "vocab.h"
#include "config.h"
#include "model_file.h"

#define BAD(...) tfrs__fail(TFRS_EFORMAT, "model file: " __VA_ARGS__)

/* ======================================================================== */
/* The parameter layout                                                     */
/* ======================================================================== */

/* The parameters are the entries of the model's parameter table (param.h),
 * in file order; their names, shapes and owning feature columns come from
 * the graph's plan (tfrs__graph_plan) and nowhere else. */

/* The parameter entries (names and shapes, no storage) that the
 * architecture implies, by the graph's own rule, before anything is
 * allocated from the file's sizes. */
static int arch_plan(const tfrs__config *a, tfrs__params *plan)
{
    tfrs__graph g;
    int rc = TFRS_OK;

    memset(&g, 0, sizeof(g));
    for (size_t i = 0; i < a->nfeat && rc == TFRS_OK; i++) {
        tfrs__feature f;
        memset(&f, 0, sizeof(f));
        f.kind = a->feat[i].o.kind;
        f.pool = a->feat[i].o.pooling;
        f.rows = a->feat[i].rows;
        f.dim = f.kind == TFRS_FEATURE_NUMERIC ? 1 : a->feat[i].o.embedding_dim;
        f.bias = a->feat[i].o.bias;
        f.l2 = a->feat[i].o.l2;
        rc = tfrs__graph_add_feature(&g, &f);
    }
    for (size_t j = 0; j < a->nlayers && rc == TFRS_OK; j++) {
        const tfrs__cfg_layer *l = &a->layers[j];
        rc = l->kind == TFRS_LAYER_CROSS     ? tfrs__graph_add_cross(&g, l->proj, l->l2)
             : l->kind == TFRS_LAYER_DROPOUT ? tfrs__graph_add_dropout(&g, l->rate)
                                             : tfrs__graph_add_dense(&g, l->units, l->act, l->l2);
    }
    g.structure = a->structure;
    if (rc == TFRS_OK)
        rc = tfrs__graph_plan(&g, plan, "model file: architecture");
    else
        rc = tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    tfrs__graph_free(&g);
    if (rc == TFRS_EINVAL || rc == TFRS_ESTATE) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        rc = BAD("architecture: %s", msg);
    }
    return rc;
}

/* ======================================================================== */
/* Saving                                                                   */
/* ======================================================================== */

static const char *vocab_token(const void *vocab, size_t k, size_t *len)
{
    return tfrs__vocab_token_at(vocab, k, len);
}

/* Lists the tensors of m in file order, laid out: *out (tfrs__malloc),
 * *n of them, *data_len bytes of data. */
static int list_tensors(const tfrs_model *m, int with_opt, tfrs__st_tensor **out, size_t *n,
                        size_t *data_len)
{
    int nslots = with_opt ? tfrs__optimizer_num_slots(m->opt.o.kind) : 0;
    const tfrs__params *tab = tfrs__model_params(m);
    size_t np = tab->n, k = 0;
    tfrs__st_tensor *t;

    *out = t = tfrs__calloc(np + 2 * m->g.nfeat + (size_t)nslots * np, sizeof(*t));
    if (t == NULL)
        return tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");
    for (size_t p = 0, last = SIZE_MAX; p < np; p++) {
        const tfrs__param *e = &tab->p[p];
        size_t f = e->feature;

        tfrs__st_tensor_init(&t[k++], e->name, TFRS__DT_F32, e->ndim, e->shape, e->w);
        /* A vocabulary follows the first tensor of its feature. */
        if (f != SIZE_MAX && f != last && m->g.feat[f].vocab != NULL) {
            const tfrs_vocab *vocab = m->g.feat[f].vocab;
            char bname[64], oname[64];
            snprintf(bname, sizeof(bname), "features.%zu.vocab.bytes", f);
            snprintf(oname, sizeof(oname), "features.%zu.vocab.offsets", f);
            if (tfrs__st_strings(&t[k], bname, oname, tfrs_vocab_num_tokens(vocab),
                                 vocab_token, vocab) < 0)
                goto overflow;
            k += 2;
        }
        last = f;
    }
    /* Slots, in parameter order (the same order as the weights above). */
    for (size_t p = 0; p < np && nslots > 0; p++) {
        const tfrs__param *e = &tab->p[p];
        char sname[160];

        for (int s = 0; s < nslots; s++) {
            if (e->slot[s] == NULL)
                return tfrs__fail(TFRS_ESTATE, "tfrs_model_save: optimizer slot missing");
            snprintf(sname, sizeof(sname), "optimizer.%s.%s", e->name,
                     tfrs__optimizer_slot_name(m->opt.o.kind, s));
            tfrs__st_tensor_init(&t[k++], sname, TFRS__DT_F32, e->ndim, e->shape, e->slot[s]);
        }
    }
    *n = k;
    if (tfrs__st_layout(t, k, data_len) == 0)
        return TFRS_OK;
overflow:
    return tfrs__fail(TFRS_EINVAL, "tfrs_model_save: the model is too large to save");
}

/* j printed (tfrs__malloc'ed), then deleted; NULL if either is NULL. */
static char *to_text(tfrs__json *j, int ok)
{
    char *s = ok ? tfrs__json_print(j) : NULL;

    tfrs__json_delete(j);
    return s;
}

static char *arch_text(const tfrs_model *m)
{
    tfrs__json *a = tfrs__config_write(m);

    return to_text(a, a != NULL);
}

static char *training_text(const tfrs_model *m)
{
    tfrs__json *t = tfrs__json_new_object();
    int ok = t != NULL;

    tfrs__json_add_u64(t, "steps", m->opt.steps, &ok);
    tfrs__json_add_u64(t, "epochs_done", m->epochs_done, &ok);
    return to_text(t, ok);
}

/* Serialises m into a new buffer: *buf (tfrs__malloc), *len bytes. */
static int serialize(const tfrs_model *m, int with_opt, unsigned char **buf, size_t *len)
{
    tfrs__st_tensor *t = NULL;
    size_t n = 0, data_len = 0;
    char *arch_s = NULL, *train_s = NULL, version[24];
    int rc;

    *buf = NULL;
    if ((rc = list_tensors(m, with_opt, &t, &n, &data_len)) == TFRS_OK) {
        arch_s = arch_text(m);
        train_s = training_text(m);
        if (arch_s == NULL || train_s == NULL)
            rc = tfrs__fail(TFRS_ENOMEM, "tfrs_model_save: out of memory");
    }
    if (rc == TFRS_OK) {
        const tfrs__st_meta meta[] = {
            { "format", TFRS__FORMAT_NAME }, { "format_version", version },
            { "architecture", arch_s },      { "training", train_s },
            { "optimizer_state", with_opt ? "1" : "0" },
        };
        snprintf(version, sizeof(version), "%d", TFRS__FORMAT_VERSION);
        rc = tfrs__st_write(t, n, data_len, meta, sizeof(meta) / sizeof(meta[0]),
                            "tfrs_model_save", buf, len);
    }
    tfrs__free(arch_s);
    tfrs__free(train_s);
    tfrs__free(t);
    return rc;
}

static int utf8_ok(const char *s)
{
    return s == NULL || tfrs__utf8_valid(s, strlen(s));
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
    for (size_t i = 0; i < model->g.nfeat; i++)
        if (!utf8_ok(model->g.feat[i].name) ||
            (model->g.feat[i].vocab != NULL &&
             !utf8_ok(tfrs__vocab_mask_token(model->g.feat[i].vocab))))
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

typedef struct reader {
    tfrs__st_reader st;
    int             with_opt;
    uint64_t        steps, epochs_done;
} reader;

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

static int read_version(const reader *r)
{
    const char *fmt = tfrs__st_meta_str(&r->st, "format");
    uint64_t v;

    if (fmt == NULL || strcmp(fmt, TFRS__FORMAT_NAME) != 0)
        return BAD("metadata \"format\" is not \"" TFRS__FORMAT_NAME "\": not a libtfrsc file");
    if (tfrs__json_get_u64(r->st.meta, "format_version", &v) < 0 || v == 0)
        return BAD("metadata \"format_version\" is not a positive integer");
    if (v > TFRS__FORMAT_VERSION)
        return tfrs__fail(TFRS_EVERSION, "model file: format version %llu is newer than the "
                          "supported version %d", (unsigned long long)v, TFRS__FORMAT_VERSION);
    return TFRS_OK;
}

static int read_state(reader *r)
{
    const char *opt_s = tfrs__st_meta_str(&r->st, "optimizer_state");
    tfrs__json *t;
    int rc;

    if ((rc = tfrs__st_check_crc(&r->st)) != TFRS_OK)
        return rc;
    if (opt_s == NULL || (strcmp(opt_s, "0") != 0 && strcmp(opt_s, "1") != 0))
        return BAD("metadata \"optimizer_state\" is not \"0\" or \"1\"");
    r->with_opt = opt_s[0] == '1';
    if (tfrs__json_parse_str(tfrs__st_meta_str(&r->st, "training"), &t) == TFRS_ENOMEM ||
        (t != NULL && (rc = tfrs__json_unique_keys(t)) == TFRS_ENOMEM)) {
        tfrs__json_delete(t);
        return tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    }
    if (t == NULL || !tfrs__json_is_object(t) || rc != 0 ||
        tfrs__json_get_u64(t, "steps", &r->steps) < 0 ||
        tfrs__json_get_u64(t, "epochs_done", &r->epochs_done) < 0)
        rc = BAD("metadata \"training\" is not {\"steps\": \"<n>\", \"epochs_done\": \"<n>\"}");
    else if (r->steps > TFRS__STEPS_MAX)
        rc = BAD("metadata \"training\": a step counter of 2^64 - 1 cannot be stepped "
                 "(it would wrap to 0, and Adam would divide 0 by 0)");
    tfrs__json_delete(t);
    return rc;
}

/* ---- architecture ------------------------------------------------------ */

/* The architecture record, read by the configuration schema's reader
 * (config.c), strictly: every key its writer always writes must be
 * there. */
static int read_arch(reader *r, tfrs__config *a)
{
    tfrs__cfg_source src;

    src.text = tfrs__st_meta_str(&r->st, "architecture");
    if (src.text == NULL)
        return BAD("metadata \"architecture\" is missing");
    src.len = strlen(src.text);
    src.name = NULL;
    return tfrs__config_read(a, &src);
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
    tfrs__st_entry *e = tfrs__st_find(&r->st, name);
    int ok;

    if (e == NULL)
        return BAD("tensor \"%s\" is missing", name);
    ok = e->dtype == dtype && e->ndim == ndim;
    for (size_t k = 0; k < ndim && ok; k++)
        ok = want[k] == ANY || e->shape[k] == want[k];
    if (!ok)
        return BAD("tensor \"%s\" is %s [%s] where the architecture implies %s [%s]", name,
                   tfrs__st_dtype_name(e->dtype),
                   dims_str(got_s, sizeof(got_s), e->ndim, e->shape),
                   tfrs__st_dtype_name(dtype), dims_str(want_s, sizeof(want_s), ndim, want));
    e->used = 1;
    return TFRS_OK;
}

/* Parameter entry e and its optimizer slots (if the file has them). */
static int expect_param(reader *r, const tfrs__config *a, const tfrs__param *e)
{
    char sname[160];
    int rc, nslots = tfrs__optimizer_num_slots(a->opt.kind);

    if ((rc = expect(r, e->name, TFRS__DT_F32, e->ndim, e->shape[0], e->shape[1])) != TFRS_OK)
        return rc;
    for (int s = 0; s < nslots && r->with_opt; s++) {
        snprintf(sname, sizeof(sname), "optimizer.%s.%s", e->name, tfrs__optimizer_slot_name(a->opt.kind, s));
        if ((rc = expect(r, sname, TFRS__DT_F32, e->ndim, e->shape[0], e->shape[1])) != TFRS_OK)
            return rc;
    }
    return TFRS_OK;
}

/* Every tensor the architecture implies exists with the right shape, and
 * nothing else does.  Done before anything is allocated from the sizes. */
/* Known tokens of string feature f: its vocabulary less mask and OOV. */
static size_t ntokens(const tfrs__cfg_feature *f)
{
    return f->vocab_size - f->num_oov - (f->mask != NULL);
}

static int check_tensors(reader *r, tfrs__config *a)
{
    tfrs__params plan = { 0 };
    char name[128];
    size_t in = 0;
    int rc;

    for (size_t i = 0; i < a->nfeat; i++)
        if (tfrs__add(in, a->feat[i].o.embedding_dim, &in) < 0)
            return BAD("architecture: feature %zu: bad embedding_dim", i);
    for (size_t j = 0; j < a->nlayers; j++) {
        const tfrs__cfg_layer *l = &a->layers[j];
        if (l->kind == TFRS_LAYER_DROPOUT && !(l->rate >= 0.0f && l->rate < 1.0f))
            return BAD("architecture: layer %zu: dropout rate must be in [0, 1)", j);
        if (l->kind == TFRS_LAYER_CROSS && l->proj > INT32_MAX)
            return BAD("architecture: layer %zu: projection_dim is too large", j);
    }
    if ((rc = arch_plan(a, &plan)) != TFRS_OK)
        goto done;
    for (size_t k = 0, last = SIZE_MAX; k < plan.n; k++) {
        size_t i = plan.p[k].feature;
        if ((rc = expect_param(r, a, &plan.p[k])) != TFRS_OK)
            goto done;
        if (i == SIZE_MAX || i == last || a->feat[i].o.kind != TFRS_FEATURE_STRING)
            continue;
        last = i;
        snprintf(name, sizeof(name), "features.%zu.vocab.bytes", i);
        if ((rc = expect(r, name, TFRS__DT_U8, 1, ANY, 0)) != TFRS_OK)
            goto done;
        snprintf(name, sizeof(name), "features.%zu.vocab.offsets", i);
        if ((rc = expect(r, name, TFRS__DT_I64, 1, ntokens(&a->feat[i]) + 1, 0)) != TFRS_OK)
            goto done;
    }
    for (size_t k = 0; k < r->st.nents; k++)
        if (!r->st.ents[k].used) {
            rc = BAD("unexpected tensor \"%.64s\"", r->st.ents[k].name);
            goto done;
        }
done:
    tfrs__params_clear(&plan);
    return rc;
}

/* ---- rebuilding the model ---------------------------------------------- */

/* Vocabulary of feature i from its bytes and offsets tensors. */
static int read_vocab(const reader *r, const tfrs__cfg_feature *f, size_t i, tfrs_vocab **out)
{
    char name[128];
    const tfrs__st_entry *eb, *eo;
    const unsigned char *bytes, *offs;
    const char **toks = NULL;
    char *text = NULL;
    size_t n = ntokens(f), prev = 0, pos = 0, cap;
    tfrs_vocab_options vo;
    int rc = TFRS_OK;

    *out = NULL;
    snprintf(name, sizeof(name), "features.%zu.vocab.bytes", i);
    eb = tfrs__st_find(&r->st, name);
    snprintf(name, sizeof(name), "features.%zu.vocab.offsets", i);
    eo = tfrs__st_find(&r->st, name);
    bytes = r->st.data + eb->begin;
    offs = r->st.data + eo->begin;
    if (tfrs__get_u64le(offs) != 0)
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
        uint64_t end = tfrs__get_u64le(offs + 8 * (k + 1));
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
    if ((rc = tfrs__vocab_create_stored(out, toks, n, &vo, name)) != TFRS_OK)
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

static int rebuild(const reader *r, const tfrs__config *a, tfrs_model **out)
{
    tfrs__cfg_source src = { tfrs__st_meta_str(&r->st, "architecture"), 0, NULL };
    tfrs_model *m = NULL;
    tfrs_vocab **vocabs = tfrs__calloc(a->nfeat, sizeof(*vocabs));
    double **bounds = tfrs__calloc(a->nfeat, sizeof(*bounds));
    int rc = TFRS_OK;

    *out = NULL;
    src.len = strlen(src.text);
    if (vocabs == NULL || bounds == NULL)
        rc = tfrs__fail(TFRS_ENOMEM, "model file: out of memory");
    for (size_t i = 0; i < a->nfeat && rc == TFRS_OK; i++) {
        if (a->feat[i].o.kind == TFRS_FEATURE_STRING)
            rc = read_vocab(r, &a->feat[i], i, &vocabs[i]);
        else if (a->feat[i].o.kind == TFRS_FEATURE_BUCKETIZED)
            rc = tfrs__config_bounds(a, &src, i, &bounds[i]);
    }
    if (rc == TFRS_OK && (rc = tfrs_model_create(&m, a->seed)) != TFRS_OK)
        rc = rewrap(rc, "creating the model");
    if (rc == TFRS_OK)     /* messages name the architecture's feature or layer */
        rc = tfrs__config_apply(a, &src, m, vocabs, bounds);
    tfrs__config_free_adapted(a->nfeat, vocabs, bounds);
    if (rc != TFRS_OK) {
        tfrs_model_free(m);
        return rc;
    }
    *out = m;
    return TFRS_OK;
}

/* Decodes F32 tensor `name` into dst (n values), as tfrs__st_read_f32. */
static int read_f32(const reader *r, const char *name, float *dst, size_t n, int nonneg)
{
    const tfrs__st_entry *e = tfrs__st_find(&r->st, name);

    if (e == NULL || e->end - e->begin != 4 * n)
        return BAD("tensor \"%s\" does not match the built model", name);
    return tfrs__st_read_f32(&r->st, e, dst, nonneg);
}

static int restore_weights(const reader *r, tfrs_model *m)
{
    char sname[160];
    tfrs_optimizer_kind kind = m->opt.o.kind;
    int nslots = r->with_opt ? tfrs__optimizer_num_slots(kind) : 0, rc;
    const tfrs__params *tab = tfrs__model_params(m);

    for (size_t p = 0; p < tab->n; p++) {
        const tfrs__param *e = &tab->p[p];
        if ((rc = read_f32(r, e->name, e->w, e->n, 0)) != TFRS_OK)
            return rc;
        for (int s = 0; s < nslots; s++) {
            const char *sn = tfrs__optimizer_slot_name(kind, s);
            snprintf(sname, sizeof(sname), "optimizer.%s.%s", e->name, sn);
            /* Adagrad accumulators and Adam second moments are sums of squares. */
            if ((rc = read_f32(r, sname, e->slot[s], e->n,
                               strcmp(sn, "accumulator") == 0 || strcmp(sn, "v") == 0))
                != TFRS_OK)
                return rc;
        }
    }
    m->opt.steps = r->with_opt ? r->steps : 0;
    m->epochs_done = r->epochs_done;
    return TFRS_OK;
}

/* Where tfrs_model_load gets the data section from: the file, read after
 * its header has been checked, into buf (which holds the 8 + N bytes of
 * the length and the header, and grows to the whole file). */
typedef struct file_source {
    tfrs__file    *file;
    unsigned char *buf;
} file_source;

/* Loads the model file of `size` bytes at buf; with src, buf holds only
 * the length and the header, and the data section is read from the file
 * when the header has been checked. */
static int load(tfrs_model **out, const unsigned char *buf, size_t size, file_source *src)
{
    reader r;
    tfrs__config a;
    tfrs_model *m = NULL;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(&a, 0, sizeof(a));
    if ((rc = tfrs__st_open(&r.st, buf, size)) == TFRS_OK &&
        (rc = read_version(&r)) == TFRS_OK &&
        (rc = tfrs__st_read_tensors(&r.st)) == TFRS_OK &&
        (src == NULL || (rc = tfrs__st_read_data(&r.st, src->file, &src->buf)) == TFRS_OK) &&
        (rc = read_state(&r)) == TFRS_OK &&
        (rc = read_arch(&r, &a)) == TFRS_OK &&
        (rc = check_tensors(&r, &a)) == TFRS_OK &&
        (rc = rebuild(&r, &a, &m)) == TFRS_OK &&
        (rc = restore_weights(&r, m)) == TFRS_OK) {
        *out = m;
        m = NULL;
    }
    tfrs_model_free(m);
    tfrs__st_close(&r.st);
    tfrs__config_free(&a);
    return rc;
}

int tfrs_model_load_buffer(tfrs_model **out, const void *data, size_t size)
{
    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load_buffer: out is NULL");
    *out = NULL;
    if (data == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load_buffer: data is NULL");
    return load(out, data, size, NULL);
}

/* Reads the length and the header of f, and only once load has checked
 * them the data section: a file that is not a model file costs at most its
 * header, never its size. */
static int load_file(tfrs_model **out, tfrs__file *f)
{
    file_source src = { f, NULL };
    int rc;

    if ((rc = tfrs__st_read_head(f, &src.buf)) == TFRS_OK)
        rc = load(out, src.buf, f->size, &src);
    tfrs__free(src.buf);
    return rc;
}

int tfrs_model_load(tfrs_model **out, const char *path)
{
    tfrs__file f;
    int rc;

    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load: out is NULL");
    *out = NULL;
    if (path == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_model_load: path is NULL");
    if ((rc = tfrs__file_open(&f, path, "tfrs_model_load")) != TFRS_OK)
        return rc;
    rc = load_file(out, &f);
    tfrs__file_close(&f);
    if (rc != TFRS_OK && rc != TFRS_EIO) {   /* read errors name the path already */
        char msg[384];
        snprintf(msg, sizeof(msg), "%s", tfrs_last_error());
        tfrs__fail(rc, "%s: %s", path, msg);
    }
    return rc;
}
