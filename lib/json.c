/*
 * json.c - the one wrapper of cJSON: guarded parsing, getters and builders.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * cJSON allocates through process-global hooks.  While a custom allocator is
 * installed they point at tfrs__malloc/tfrs__free, so that saves and loads
 * are accounted for and fail cleanly when the allocator fails; otherwise
 * they are left alone, so that an application's own use of cJSON is not
 * affected.  tfrs_set_allocator (the public function) lives here for that
 * reason: it installs the allocator (util/alloc) and re-points the hooks in
 * the same call, as its documentation promises.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/alloc.h"
#include "util/number.h"
#include "util/status.h"
#include "json.h"

/* 2^53: JSON numbers above it are not exact in a double. */
#define JSON_INT_MAX 9007199254740992.0

/* Serializes parses (cJSON's global error position) and hook changes. */
static pthread_mutex_t json_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- allocation hooks -------------------------------------------------- */

static int hooked;  /* cJSON's hooks point at cjson_malloc/cjson_free */

static void *cjson_malloc(size_t size)
{
    return tfrs__malloc(size);
}

static void cjson_free(void *ptr)
{
    tfrs__free(ptr);
}

int tfrs_set_allocator(const tfrs_allocator *alloc)
{
    cJSON_Hooks hooks = { cjson_malloc, cjson_free };
    int rc;

    pthread_mutex_lock(&json_lock);
    rc = tfrs__alloc_set(alloc);
    if (rc == TFRS_OK && tfrs__alloc_is_custom()) {
        cJSON_InitHooks(&hooks);
        hooked = 1;
    } else if (rc == TFRS_OK && hooked) {
        cJSON_InitHooks(NULL);
        hooked = 0;
    }
    pthread_mutex_unlock(&json_lock);
    return rc;
}

/* ---- parsing ------------------------------------------------------------ */

/* 1 if the 4 characters at s are "0000": "\\u0000" decodes to a NUL. */
static int nul_escape(const char *s, size_t left)
{
    return left >= 4 && memcmp(s, "0000", 4) == 0;
}

int tfrs__json_check_text(const char *s, size_t n)
{
    size_t count = 1;
    int in_str = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\0')
                return TFRS__JSON_NUL;
            if (c == '\\' && i + 1 < n && s[i + 1] == 'u' && nul_escape(s + i + 2, n - i - 2))
                return TFRS__JSON_NUL;
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if ((c == ',' || c == '[' || c == '{') && ++count > TFRS__JSON_VALUES_MAX) {
            return TFRS__JSON_TOO_BIG;
        }
    }
    return TFRS__JSON_FINE;
}

/* Text that fails tfrs__json_check_text is never handed to cJSON, whatever
 * the caller checked: a NUL in a decoded string would make its C string
 * (all that callers see) differ from its JSON value. */
tfrs__json *tfrs__json_parse(const char *text, size_t n, const char **end)
{
    cJSON *root;
    size_t len = n > 0 && text[n - 1] == '\0' ? n - 1 : n;  /* the terminator is no string */

    if (tfrs__json_check_text(text, len) != TFRS__JSON_FINE)
        return NULL;
    pthread_mutex_lock(&json_lock);
    root = cJSON_ParseWithLengthOpts(text, n, end, 0);
    pthread_mutex_unlock(&json_lock);
    return root;
}

int tfrs__json_parse_str(const char *s, tfrs__json **out)
{
    unsigned long failed = tfrs__alloc_failures();

    *out = s != NULL ? tfrs__json_parse(s, strlen(s) + 1, NULL) : NULL;
    return *out == NULL && tfrs__alloc_failures() != failed ? TFRS_ENOMEM : TFRS_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int tfrs__json_unique_keys(const tfrs__json *node)
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
        rc = tfrs__json_unique_keys(c);
    return rc;
}

void tfrs__json_delete(tfrs__json *j)
{
    cJSON_Delete(j);
}

/* ---- reading ------------------------------------------------------------ */

int tfrs__json_is_object(const tfrs__json *j) { return cJSON_IsObject(j) != 0; }
int tfrs__json_is_array(const tfrs__json *j)  { return cJSON_IsArray(j) != 0; }
int tfrs__json_is_string(const tfrs__json *j) { return cJSON_IsString(j) != 0; }
int tfrs__json_is_null(const tfrs__json *j)   { return cJSON_IsNull(j) != 0; }
int tfrs__json_is_bool(const tfrs__json *j)   { return cJSON_IsBool(j) != 0; }
int tfrs__json_is_true(const tfrs__json *j)   { return cJSON_IsTrue(j) != 0; }

const tfrs__json *tfrs__json_child(const tfrs__json *j)
{
    return j != NULL ? j->child : NULL;
}

const tfrs__json *tfrs__json_next(const tfrs__json *j)
{
    return j != NULL ? j->next : NULL;
}

const char *tfrs__json_key(const tfrs__json *j)
{
    return j != NULL ? j->string : NULL;
}

const char *tfrs__json_str(const tfrs__json *j)
{
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

size_t tfrs__json_array_size(const tfrs__json *j)
{
    int n = cJSON_GetArraySize(j);

    return n > 0 ? (size_t)n : 0;
}

const tfrs__json *tfrs__json_get(const tfrs__json *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *tfrs__json_get_str(const tfrs__json *obj, const char *key)
{
    return tfrs__json_str(tfrs__json_get(obj, key));
}

int tfrs__json_size(const tfrs__json *item, size_t *out)
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

int tfrs__json_get_size(const tfrs__json *obj, const char *key, size_t *out)
{
    return tfrs__json_size(tfrs__json_get(obj, key), out);
}

int tfrs__json_get_u64(const tfrs__json *obj, const char *key, uint64_t *out)
{
    const char *s = tfrs__json_get_str(obj, key);
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

/* Length of the run of decimal digits at s. */
int tfrs__json_get_float(const tfrs__json *obj, const char *key, float *out)
{
    const char *s = tfrs__json_get_str(obj, key);
    size_t n;

    if (s == NULL || (n = strlen(s)) == 0 || n >= 64 || !tfrs__decimal_syntax(s, n))
        return -1;
    return tfrs__decimal_to_float(s, n, out);
}

int tfrs__json_double(const tfrs__json *item, double *out)
{
    const char *s = tfrs__json_str(item);
    size_t n;

    if (s == NULL || (n = strlen(s)) == 0 || n >= 64 || !tfrs__decimal_syntax(s, n))
        return -1;
    return tfrs__decimal_to_double(s, n, out);
}


int tfrs__json_number(const tfrs__json *item, double *out)
{
    if (cJSON_IsNumber(item)) {          /* cJSON reads 1e999 as infinity */
        if (!isfinite(item->valuedouble))
            return -1;
        *out = item->valuedouble;
        return 0;
    }
    return tfrs__json_double(item, out);
}

/* ---- positions ------------------------------------------------------------ */

/* The index of node among the values of the tree at c in pre-order (an
 * object or array before its members), counting from *k; -1 if absent.
 * Recursion is as deep as the tree, which cJSON bounds (1000 levels). */
static long preorder_index(const cJSON *c, const cJSON *node, long *k)
{
    if (c == node)
        return *k;
    (*k)++;
    if (cJSON_IsObject(c) || cJSON_IsArray(c))
        for (const cJSON *m = c->child; m != NULL; m = m->next) {
            long r = preorder_index(m, node, k);
            if (r >= 0)
                return r;
        }
    return -1;
}

size_t tfrs__json_line(const char *text, size_t n, const tfrs__json *root,
                       const tfrs__json *node)
{
    /* The k-th value of the tree starts at the k-th value token of the text:
     * scan, telling keys (strings in key position) from values. */
    long seen = 0, k = 0;
    unsigned char stack[1024];     /* 1: in an object; cJSON nests <= 1000 */
    size_t depth = 0, line = 1;
    int want_key = 0;

    if (root == NULL || node == NULL || (k = preorder_index(root, node, &k)) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (ch == '\n') {
            line++;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == ':')
            continue;
        if (ch == ',') {
            want_key = depth > 0 && stack[depth - 1];
            continue;
        }
        if (ch == '}' || ch == ']') {
            if (depth > 0)
                depth--;
            want_key = 0;
            continue;
        }
        if (ch == '"' && want_key) {           /* a key: skip it */
            for (i++; i < n && text[i] != '"'; i++)
                if (text[i] == '\\')
                    i++;
            want_key = 0;
            continue;
        }
        if (seen++ == k)
            return line;
        if (ch == '{' || ch == '[') {
            if (depth < sizeof(stack))
                stack[depth++] = ch == '{';
            want_key = ch == '{';
        } else if (ch == '"') {
            for (i++; i < n && text[i] != '"'; i++)
                if (text[i] == '\\')
                    i++;
        } else {
            while (i + 1 < n && strchr(",}] \t\r\n", text[i + 1]) == NULL)
                i++;
        }
    }
    return 0;
}

size_t tfrs__json_offset_line(const char *text, size_t offset)
{
    size_t line = 1;

    for (size_t i = 0; i < offset; i++)
        line += text[i] == '\n';
    return line;
}

/* ---- building ----------------------------------------------------------- */

tfrs__json *tfrs__json_new_object(void)
{
    return cJSON_CreateObject();
}

/* Adds item; on failure clears *ok and frees the item. */
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

tfrs__json *tfrs__json_add_object(tfrs__json *obj, const char *key, int *ok)
{
    return add_item(obj, key, cJSON_CreateObject(), ok);
}

tfrs__json *tfrs__json_add_array(tfrs__json *obj, const char *key, int *ok)
{
    return add_item(obj, key, cJSON_CreateArray(), ok);
}

tfrs__json *tfrs__json_add_str(tfrs__json *obj, const char *key, const char *s, int *ok)
{
    return add_item(obj, key, s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull(), ok);
}

void tfrs__json_add_bool(tfrs__json *obj, const char *key, int b, int *ok)
{
    add_item(obj, key, cJSON_CreateBool(b != 0), ok);
}

void tfrs__json_add_float(tfrs__json *obj, const char *key, float x, int *ok)
{
    char buf[48];

    tfrs__float_to_decimal(buf, sizeof(buf), x);
    tfrs__json_add_str(obj, key, buf, ok);
}

void tfrs__json_add_double(tfrs__json *obj, const char *key, double x, int *ok)
{
    char buf[48];

    tfrs__double_to_decimal(buf, sizeof(buf), x);
    tfrs__json_add_str(obj, key, buf, ok);
}

void tfrs__json_add_size(tfrs__json *obj, const char *key, size_t v, int *ok)
{
    add_item(obj, key, cJSON_CreateNumber((double)v), ok);
}

void tfrs__json_add_u64(tfrs__json *obj, const char *key, uint64_t v, int *ok)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    tfrs__json_add_str(obj, key, buf, ok);
}

int tfrs__json_set_str(tfrs__json *item, const char *s)
{
    return cJSON_SetValuestring(item, s) != NULL ? 0 : -1;
}

/* (cJSON allocates through tfrs_set_allocator's allocator only while a
 * custom one is installed, so its strings are copied rather than handed
 * out.) */
char *tfrs__json_print(const tfrs__json *j)
{
    char *s = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    char *copy;

    if (s == NULL)
        return NULL;
    copy = tfrs__strdup(s);
    cJSON_free(s);
    return copy;
}
