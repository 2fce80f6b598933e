/*
 * vocab.c - string -> id lookups with Keras StringLookup semantics.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Index layout:  [mask (M = 0 or 1)] [K OOV buckets] [n tokens].
 * The tokens are a string table (util/strtab.h) whose ids are their
 * positions.  A built vocabulary is never modified, so lookups need no
 * locking.
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "util/strtab.h"
#include "vocab.h"

#define OOV_TOKEN "[UNK]"

struct tfrs_vocab {
    size_t       num_oov;    /* K                                           */
    char        *mask;       /* NULL or the mask token                      */
    size_t       mask_len;
    tfrs__strtab tokens;     /* the n known tokens, id = position           */
};

/* ---- construction ------------------------------------------------------- */

static int check_options(const tfrs_vocab_options *o, const char *what)
{
    if (o->version == 0 || o->version > TFRS_VOCAB_OPTIONS_VERSION)
        return tfrs__fail(TFRS_EINVAL, "%s: unknown options version %u", what, o->version);
    if (o->num_oov_indices >= (size_t)INT32_MAX)
        return tfrs__fail(TFRS_EINVAL, "%s: num_oov_indices %zu is too large", what,
                          o->num_oov_indices);
    if (o->mask_token != NULL && !tfrs__utf8_valid(o->mask_token, strlen(o->mask_token)))
        return tfrs__fail(TFRS_EINVAL, "%s: mask token is not valid UTF-8", what);
    return TFRS_OK;
}

/* Builds a vocabulary from n token pointers (NUL-terminated), in order.
 * Validates NULLs, UTF-8, duplicates and the mask. */
/* allow_oov_token: accept "[UNK]" as a token (vocabularies stored by
 * versions that did, see tfrs__vocab_create_stored). */
static int build(tfrs_vocab **out, const char *const *tokens, size_t n,
                 const tfrs_vocab_options *o, int allow_oov_token, const char *what)
{
    tfrs_vocab *v = NULL;
    size_t total = 0, limit;
    int rc = TFRS_ENOMEM;

    *out = NULL;
    /* M + K + n must fit an int32 id range. */
    limit = (size_t)INT32_MAX - o->num_oov_indices;
    if (o->mask_token != NULL)
        limit--;
    if (n > limit) {
        rc = tfrs__fail(TFRS_ERANGE, "%s: %zu tokens do not fit 32-bit ids", what, n);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (tokens[i] == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "%s: token %zu is NULL", what, i);
            goto fail;
        }
        len = strlen(tokens[i]);
        if (!tfrs__utf8_valid(tokens[i], len)) {
            rc = tfrs__fail(TFRS_EINVAL, "%s: token %zu is not valid UTF-8", what, i);
            goto fail;
        }
        if (o->mask_token != NULL && strcmp(tokens[i], o->mask_token) == 0) {
            rc = tfrs__fail(TFRS_EDUPLICATE, "%s: token %zu equals the mask token", what, i);
            goto fail;
        }
        /* It would be listed twice and could not be told from the buckets
         * (Keras refuses it too, when the lookup can be inverted). */
        if (o->num_oov_indices > 0 && !allow_oov_token && strcmp(tokens[i], OOV_TOKEN) == 0) {
            rc = tfrs__fail(TFRS_EINVAL, "%s: token %zu is \"" OOV_TOKEN "\", the OOV token, "
                            "which stands for the OOV buckets", what, i);
            goto fail;
        }
        if (tfrs__add(total, len + 1, &total) < 0) {
            rc = tfrs__fail(TFRS_ERANGE, "%s: tokens too large", what);
            goto fail;
        }
    }

    v = tfrs__calloc(1, sizeof(*v));
    if (v == NULL)
        goto nomem;
    tfrs__strtab_init(&v->tokens);
    v->num_oov = o->num_oov_indices;
    if (o->mask_token != NULL) {
        v->mask = tfrs__strdup(o->mask_token);
        if (v->mask == NULL)
            goto nomem;
        v->mask_len = strlen(v->mask);
    }
    if (tfrs__strtab_reserve(&v->tokens, n, total - n) < 0)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        uint32_t id;
        /* Reserved above: cannot fail. */
        (void)tfrs__strtab_intern(&v->tokens, tokens[i], strlen(tokens[i]), &id);
        if (id != i) {
            rc = tfrs__fail(TFRS_EDUPLICATE, "%s: duplicate token \"%.64s\" at %zu", what,
                            tokens[i], i);
            goto fail;
        }
    }
    *out = v;
    return TFRS_OK;
nomem:
    rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
fail:
    tfrs_vocab_free(v);
    return rc;
}

/* StringLookup's defaults: one OOV bucket, no mask token. */
static const tfrs_vocab_options vocab_defaults = { .num_oov_indices = 1, .mask_token = NULL };

int tfrs_vocab_options_init(tfrs_vocab_options *opts, unsigned int version)
{
    return tfrs__options_init(opts, &vocab_defaults, sizeof(*opts), version,
                              TFRS_VOCAB_OPTIONS_VERSION, "tfrs_vocab_options_init");
}

/* What every constructor checks first: out (then *out = NULL), the input
 * (null_arg names it when it is NULL, else NULL), and the options: NULL
 * resolves to the defaults in *o, the rest is validated. */
static int begin(tfrs_vocab **out, const char *null_arg, const tfrs_vocab_options *opts,
                 tfrs_vocab_options *o, const char *what)
{
    if (out == NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (null_arg != NULL)
        return tfrs__fail(TFRS_EINVAL, "%s: %s is NULL", what, null_arg);
    if (opts == NULL) {
        tfrs_vocab_options_init(o, TFRS_VOCAB_OPTIONS_VERSION);
        return TFRS_OK;
    }
    *o = *opts;
    return check_options(o, what);
}

static int create(tfrs_vocab **out, const char *const *tokens, size_t n,
                  const tfrs_vocab_options *opts, int allow_oov_token, const char *what)
{
    tfrs_vocab_options o;
    int rc = begin(out, tokens == NULL && n > 0 ? "tokens" : NULL, opts, &o, what);

    return rc < 0 ? rc : build(out, tokens, n, &o, allow_oov_token, what);
}

int tfrs_vocab_create(tfrs_vocab **out, const char *const *tokens, size_t n,
                      const tfrs_vocab_options *opts)
{
    return create(out, tokens, n, opts, 0, "tfrs_vocab_create");
}

int tfrs__vocab_create_stored(tfrs_vocab **out, const char *const *tokens, size_t n,
                              const tfrs_vocab_options *opts, const char *what)
{
    return create(out, tokens, n, opts, 1, what);
}

/* What adapt leaves out, as Keras' adapt does: the mask token and the OOV
 * token "[UNK]" (whatever the number of buckets). */
static int adapt_skips(const char *s, const tfrs_vocab_options *o)
{
    return (o->mask_token != NULL && strcmp(s, o->mask_token) == 0) || strcmp(s, OOV_TOKEN) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: byte order, shorter prefix first. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the distinct strings u[0..n) (mask already removed) and builds. */
static int build_sorted(tfrs_vocab **out, const char **u, size_t n,
                        const tfrs_vocab_options *o, const char *what)
{
    if (n > 1)
        qsort(u, n, sizeof(*u), cmp_str);
    return build(out, u, n, o, 0, what);
}

int tfrs_vocab_adapt(tfrs_vocab **out, const char *const *strings, size_t n,
                     const tfrs_vocab_options *opts)
{
    static const char what[] = "tfrs_vocab_adapt";
    tfrs_vocab_options o;
    tfrs__strtab seen;
    const char **u = NULL;
    size_t nu = 0;
    int rc;

    rc = begin(out, strings == NULL && n > 0 ? "strings" : NULL, opts, &o, what);
    if (rc < 0)
        return rc;
    if (n >= UINT32_MAX)
        return tfrs__fail(TFRS_ERANGE, "%s: too many strings", what);
    tfrs__strtab_init(&seen);
    u = tfrs__calloc(n, sizeof(*u));
    if (u == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
        goto done;
    }
    /* Distinct values through a temporary string table; u[id] is the first
     * occurrence of string id. */
    for (size_t i = 0; i < n; i++) {
        const char *s = strings[i];
        size_t len;
        uint32_t id;

        if (s == NULL) {
            rc = tfrs__fail(TFRS_EINVAL, "%s: string %zu is NULL", what, i);
            goto done;
        }
        if (adapt_skips(s, &o))
            continue;
        len = strlen(s);
        if (tfrs__strtab_find(&seen, s, len) != TFRS__STRTAB_NONE)
            continue;
        if (!tfrs__utf8_valid(s, len)) {
            rc = tfrs__fail(TFRS_EINVAL, "%s: string %zu is not valid UTF-8", what, i);
            goto done;
        }
        if (tfrs__strtab_intern(&seen, s, len, &id) < 0) {
            rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
            goto done;
        }
        u[nu++] = s;
    }
    rc = build_sorted(out, u, nu, &o, what);
done:
    tfrs__strtab_free(&seen);
    tfrs__free(u);
    return rc;
}

int tfrs_vocab_adapt_column(tfrs_vocab **out, const struct tfrs_dataset *ds, const char *column,
                            const tfrs_vocab_options *opts)
{
    static const char what[] = "tfrs_vocab_adapt_column";
    tfrs_vocab_options o;
    const uint32_t *ids;
    const char **u = NULL;
    unsigned char *used = NULL;
    size_t nstr, nrows, nu = 0;
    int rc;

    rc = begin(out, ds == NULL ? "ds" : column == NULL ? "column" : NULL, opts, &o, what);
    if (rc < 0)
        return rc;
    rc = tfrs_dataset_string_ids(ds, column, &ids, &nstr);
    if (rc < 0)
        return rc;
    nrows = tfrs_dataset_num_rows(ds);
    /* Only pool strings that some row uses count. */
    used = tfrs__calloc(nstr, 1);
    u = tfrs__calloc(nstr, sizeof(*u));
    if (used == NULL || u == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
        goto done;
    }
    for (size_t r = 0; r < nrows; r++)
        used[ids[r]] = 1;
    for (size_t i = 0; i < nstr; i++) {
        const char *s;
        if (!used[i])
            continue;
        rc = tfrs_dataset_string(ds, column, (uint32_t)i, &s);
        if (rc < 0)
            goto done;
        if (adapt_skips(s, &o))
            continue;
        u[nu++] = s;
    }
    rc = build_sorted(out, u, nu, &o, what);
done:
    tfrs__free(used);
    tfrs__free(u);
    return rc;
}

void tfrs_vocab_free(tfrs_vocab *vocab)
{
    if (vocab == NULL)
        return;
    tfrs__free(vocab->mask);
    tfrs__strtab_free(&vocab->tokens);
    tfrs__free(vocab);
}

int tfrs__vocab_clone(tfrs_vocab **out, const tfrs_vocab *v)
{
    tfrs_vocab *c;

    *out = NULL;
    c = tfrs__calloc(1, sizeof(*c));
    if (c == NULL)
        goto nomem;
    c->num_oov = v->num_oov;
    c->mask_len = v->mask_len;
    tfrs__strtab_init(&c->tokens);
    if (v->mask != NULL && (c->mask = tfrs__strdup(v->mask)) == NULL)
        goto nomem;
    if (tfrs__strtab_clone(&c->tokens, &v->tokens) < 0)
        goto nomem;
    *out = c;
    return TFRS_OK;
nomem:
    tfrs_vocab_free(c);
    return tfrs__fail(TFRS_ENOMEM, "vocab clone: out of memory");
}

/* ---- queries ------------------------------------------------------------ */

size_t tfrs_vocab_size(const tfrs_vocab *vocab)
{
    if (vocab == NULL)
        return 0;
    return (vocab->mask != NULL) + vocab->num_oov + tfrs__strtab_count(&vocab->tokens);
}

size_t tfrs_vocab_num_tokens(const tfrs_vocab *vocab)
{
    return vocab == NULL ? 0 : tfrs__strtab_count(&vocab->tokens);
}

size_t tfrs_vocab_num_oov(const tfrs_vocab *vocab)
{
    return vocab == NULL ? 0 : vocab->num_oov;
}

const char *tfrs__vocab_mask_token(const tfrs_vocab *v)
{
    return v->mask;
}

const char *tfrs__vocab_token_at(const tfrs_vocab *v, size_t i, size_t *len)
{
    return tfrs__strtab_at(&v->tokens, (uint32_t)i, len);
}

int32_t tfrs__vocab_lookup_bytes(const tfrs_vocab *v, const char *s, size_t len)
{
    size_t m = v->mask != NULL;
    uint32_t i;

    if (v->mask != NULL && v->mask_len == len && memcmp(v->mask, s, len) == 0)
        return 0;
    i = tfrs__strtab_find(&v->tokens, s, len);
    if (i != TFRS__STRTAB_NONE)
        return (int32_t)(m + v->num_oov + (size_t)i);
    if (v->num_oov == 0)
        return -1;
    return (int32_t)(m + (size_t)(tfrs__fnv1a64(s, len) % v->num_oov));
}

int tfrs_vocab_lookup(const tfrs_vocab *vocab, const char *token, int32_t *id_out)
{
    int32_t id;

    if (vocab == NULL || token == NULL || id_out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_vocab_lookup: %s is NULL",
                          vocab == NULL ? "vocab" : token == NULL ? "token" : "id_out");
    id = tfrs__vocab_lookup_bytes(vocab, token, strlen(token));
    if (id < 0)
        return tfrs__fail(TFRS_ENOTFOUND, "tfrs_vocab_lookup: unknown token \"%.64s\"", token);
    *id_out = id;
    return TFRS_OK;
}

int tfrs_vocab_lookup_n(const tfrs_vocab *vocab, const char *const *tokens, size_t n,
                        int32_t *ids)
{
    if (vocab == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_vocab_lookup_n: vocab is NULL");
    if (n > 0 && (tokens == NULL || ids == NULL))
        return tfrs__fail(TFRS_EINVAL, "tfrs_vocab_lookup_n: %s is NULL",
                          tokens == NULL ? "tokens" : "ids");
    for (size_t i = 0; i < n; i++) {
        int32_t id;
        if (tokens[i] == NULL)
            return tfrs__fail(TFRS_EINVAL, "tfrs_vocab_lookup_n: token %zu is NULL", i);
        id = tfrs__vocab_lookup_bytes(vocab, tokens[i], strlen(tokens[i]));
        if (id < 0)
            return tfrs__fail(TFRS_ENOTFOUND, "tfrs_vocab_lookup_n: unknown token %zu \"%.64s\"",
                              i, tokens[i]);
        ids[i] = id;
    }
    return TFRS_OK;
}

int tfrs_vocab_token(const tfrs_vocab *vocab, int32_t index, const char **token_out)
{
    size_t m, i;

    if (vocab == NULL || token_out == NULL)
        return tfrs__fail(TFRS_EINVAL, "tfrs_vocab_token: %s is NULL",
                          vocab == NULL ? "vocab" : "token_out");
    if (index < 0 || (size_t)index >= tfrs_vocab_size(vocab))
        return tfrs__fail(TFRS_ERANGE, "tfrs_vocab_token: index %d out of range [0, %zu)",
                          (int)index, tfrs_vocab_size(vocab));
    m = vocab->mask != NULL;
    i = (size_t)index;
    if (i < m)
        *token_out = vocab->mask;
    else if (i < m + vocab->num_oov)
        *token_out = OOV_TOKEN;
    else
        *token_out = tfrs__strtab_at(&vocab->tokens, (uint32_t)(i - m - vocab->num_oov), NULL);
    return TFRS_OK;
}

int tfrs_vocab_adapt_bags(tfrs_vocab **out, const struct tfrs_dataset *ds, const char *column,
                          char separator, const tfrs_vocab_options *opts)
{
    static const char what[] = "tfrs_vocab_adapt_bags";
    tfrs_vocab_options o;
    tfrs__strtab seen;
    const uint32_t *ids;
    const char **u = NULL;
    unsigned char *used = NULL;
    size_t nstr, nrows, nu;
    int rc;

    rc = begin(out, ds == NULL ? "ds" : column == NULL ? "column" : NULL, opts, &o, what);
    if (rc < 0)
        return rc;
    if (separator == '\0' || (unsigned char)separator >= 0x80)
        return tfrs__fail(TFRS_EINVAL, "%s: the separator must be an ASCII byte other than NUL "
                          "(got 0x%02x)", what, (unsigned)(unsigned char)separator);
    rc = tfrs_dataset_string_ids(ds, column, &ids, &nstr);
    if (rc < 0)
        return rc;
    nrows = tfrs_dataset_num_rows(ds);
    tfrs__strtab_init(&seen);
    used = tfrs__calloc(nstr > 0 ? nstr : 1, 1);
    if (used == NULL)
        goto nomem;
    for (size_t r = 0; r < nrows; r++)
        used[ids[r]] = 1;
    /* Each distinct bag once, each of its tokens once: linear in the bytes
     * of the distinct bags. */
    for (size_t i = 0; i < nstr; i++) {
        const char *s, *end, *t;
        if (!used[i])
            continue;
        rc = tfrs_dataset_string(ds, column, (uint32_t)i, &s);
        if (rc < 0)
            goto done;
        end = s + strlen(s);
        for (t = s; t <= end; ) {
            const char *e = memchr(t, separator, (size_t)(end - t));
            size_t len;
            uint32_t id;
            if (e == NULL)
                e = end;
            len = (size_t)(e - t);
            /* Empty tokens are no tokens; the mask and "[UNK]" are left
             * out as adapt leaves them out. */
            if (len > 0 && !(len == strlen(OOV_TOKEN) && memcmp(t, OOV_TOKEN, len) == 0) &&
                !(o.mask_token != NULL && len == strlen(o.mask_token) &&
                  memcmp(t, o.mask_token, len) == 0)) {
                int irc = tfrs__strtab_intern(&seen, t, len, &id);
                if (irc == TFRS_ERANGE) {
                    rc = tfrs__fail(TFRS_ERANGE, "%s: more than %zu distinct tokens", what,
                                    TFRS__STRTAB_MAX);
                    goto done;
                }
                if (irc < 0)
                    goto nomem;
            }
            t = e + 1;
        }
    }
    nu = tfrs__strtab_count(&seen);
    u = tfrs__malloc((nu > 0 ? nu : 1) * sizeof(*u));
    if (u == NULL)
        goto nomem;
    for (size_t i = 0; i < nu; i++)
        u[i] = tfrs__strtab_at(&seen, (uint32_t)i, NULL);
    rc = build_sorted(out, u, nu, &o, what);
    goto done;
nomem:
    rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", what);
done:
    tfrs__strtab_free(&seen);
    tfrs__free(used);
    tfrs__free(u);
    return rc;
}
