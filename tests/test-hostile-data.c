/*
 * test-hostile-data.c - input built to hurt: strings and ids chosen to
 * collide in the hash the tables used until 0.1.0, names with a long common
 * prefix, special files (FIFOs, devices, directories) where data files are
 * expected, a UTF-8 byte order mark, decimal ratings and the OOV token as a
 * vocabulary token.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The complexity tests time the same operation on an attack set and on a
 * random set of the same size and shape (best of 3 or more, CLOCK_MONOTONIC)
 * and require a ratio below 3: against the library before the keyed hash
 * the attack sets cost 40 to 580 times more, the long names 5 to 12.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Under Memcheck a long operation runs once per set instead of best of 3:
 * the ratio still holds there, and the suite stays within minutes. */
#if defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#  endif
#endif
#ifndef RUNNING_ON_VALGRIND
#  define RUNNING_ON_VALGRIND 0
#endif

#include "util/strtab.h"
#include "load_delimited.h"
#include "load_movielens.h"
#include "testutil.h"
#include "tfrsc.h"

#define MAX_RATIO 3.0
/* For a baseline a tenth of the size, scaled by 10: linear work measures
 * 1 to 2 there (the larger set leaves the caches), quadratic work 8 to 12. */
#define MAX_SCALED_RATIO 5.0

/* ======================================================================== */
/* The hash this library used until 0.1.0                                   */
/* ======================================================================== */

/* Copied from lib/util/strtab.c and strtab.h as they were before the keyed
 * hash: tfrs__strtab_hash (every table had seed 0) and tfrs__slot_of.  Both
 * are invertible, which is what the attack sets below are made from. */
static uint64_t old_strtab_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n ^ 0 /* seed */, w;

    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    w = 0;
    if (n > 0)
        memcpy(&w, s, n);
    h = (h ^ w) * 0x94d049bb133111ebull;
    return h;
}

static size_t old_slot_of(uint64_t h, size_t mask)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h & mask;
}

/* The multiplicative inverse of odd a modulo 2^64 (Newton's iteration). */
static uint64_t inverse_odd(uint64_t a)
{
    uint64_t x = a;

    for (int i = 0; i < 6; i++)
        x *= 2 - a * x;
    return x;
}

/* x such that x ^ (x >> s) == y. */
static uint64_t undo_xorshift(uint64_t y, int s)
{
    uint64_t x = y;

    for (int k = s; k < 64; k += s)
        x = y ^ (x >> s);
    return x;
}

/* The 8-byte string w whose old slot value (before the mask) is f. */
static uint64_t old_preimage(uint64_t f)
{
    const uint64_t c1 = 0xbf58476d1ce4e5b9ull, c2 = 0x94d049bb133111ebull;
    uint64_t x = undo_xorshift(f, 32) * inverse_odd(c1);

    x = undo_xorshift(x, 29);                     /* the hash of the string */
    x = undo_xorshift(x * inverse_odd(c2), 31);   /* before the last step    */
    return (x * inverse_odd(c1)) ^ (0x9e3779b97f4a7c15ull ^ 8);
}

/* ======================================================================== */
/* Token sets                                                               */
/* ======================================================================== */

#define NTOK    100000
#define TOKLEN  8
#define SLOTS   ((size_t)1 << 20)        /* the largest table attacked */
#define TARGET  0x5a5a5u                  /* the one slot of every token */

typedef struct token_set {
    char        (*bytes)[TOKLEN + 1];
    const char **ptr;
} token_set;

static token_set crafted, random_set;

/* Usable in every input tested: valid UTF-8 and none of the bytes that end
 * a field or a line in the text formats. */
static int token_ok(const char *t)
{
    for (int i = 0; i < TOKLEN; i++)
        if (t[i] == '\0' || strchr("\n\r\t,|", t[i]) != NULL)
            return 0;
    return tfrs__utf8_valid(t, TOKLEN);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* NTOK distinct tokens: crafted (every one in slot TARGET of every table of
 * up to SLOTS slots under the old hash) or random (the same filter). */
static void make_tokens(token_set *ts, int attack)
{
    uint64_t state = 12345, r = 0;
    size_t n = 0;

    ts->bytes = calloc(NTOK, sizeof(*ts->bytes));
    ts->ptr = calloc(NTOK, sizeof(*ts->ptr));
    if (ts->bytes == NULL || ts->ptr == NULL)
        abort();
    while (n < NTOK) {
        /* Distinct high bits: r * odd is a bijection modulo 2^44. */
        uint64_t w = attack ? old_preimage((++r * 0x9e3779b97f4a7c15ull) << 20 | TARGET)
                            : splitmix(&state);
        memcpy(ts->bytes[n], &w, TOKLEN);
        ts->bytes[n][TOKLEN] = '\0';
        if (!token_ok(ts->bytes[n]))
            continue;
        ts->ptr[n] = ts->bytes[n];
        n++;
    }
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The seconds one run of an operation took on a token set; the operation
 * times itself, so that setup and teardown stay out. */
typedef double (*timed_op)(const void *set);

/* The best of at least 3 runs of op on each set (1 under Memcheck),
 * interleaved (attack, baseline, attack, ...) so that neither set alone
 * pays for warming up the heap; short operations run again until each set
 * has had 0.2 s (at most 50 runs), so that a time slice lost to another
 * process cannot decide the ratio. */
static void best_of_3(timed_op op, const void *attack, const void *baseline, double *a,
                      double *b)
{
    double sum_a = 0, sum_b = 0;

    *a = *b = 1e30;
    for (int i = 0; i < 50 && (i < (RUNNING_ON_VALGRIND ? 1 : 3) || sum_a < 0.2 || sum_b < 0.2);
         i++) {
        double t = op(attack);
        sum_a += t;
        if (t < *a)
            *a = t;
        t = op(baseline);
        sum_b += t;
        if (t < *b)
            *b = t;
    }
}

/* Asserts that op costs less than MAX_RATIO times more on the attack set
 * than on the baseline, whose cost is multiplied by scale first (1 for a
 * baseline of the same size; 10 for one a tenth of the size, where linear
 * work gives a ratio near 1 and quadratic work near 10). */
static void check_scaled(const char *what, timed_op op, const void *attack, const void *baseline,
                         double scale, double max_ratio)
{
    double a, b, ratio;

    best_of_3(op, attack, baseline, &a, &b);
    b *= scale;
    ratio = a / (b > 1e-6 ? b : 1e-6);

    fprintf(stderr, "%s: attack %.1f ms, baseline %.1f ms, ratio %.2f\n", what, a * 1e3,
            b * 1e3, ratio);
    ck_assert_msg(ratio < max_ratio, "%s: %.1f ms on the attack set, %.1f ms on the baseline "
                  "(ratio %.2f >= %.0f)", what, a * 1e3, b * 1e3, ratio, max_ratio);
}

static void check_ratio(const char *what, timed_op op, const void *attack, const void *baseline)
{
    check_scaled(what, op, attack, baseline, 1.0, MAX_RATIO);
}

/* The attack set is one: every token in one slot under the old hash. */
START_TEST(old_hash_collision_set_is_real)
{
    for (size_t i = 0; i < NTOK; i++) {
        uint64_t h = old_strtab_hash(crafted.ptr[i], TOKLEN);
        ck_assert_uint_eq(old_slot_of(h, SLOTS - 1), TARGET);
        ck_assert_uint_eq(old_slot_of(h, 15), TARGET & 15);
        ck_assert_uint_eq(strlen(crafted.ptr[i]), TOKLEN);
        ck_assert_uint_eq(strlen(random_set.ptr[i]), TOKLEN);
    }
    /* Distinct: a vocabulary takes them all. */
    {
        tfrs_vocab *v;
        ck_assert_int_eq(tfrs_vocab_create(&v, crafted.ptr, NTOK, NULL), TFRS_OK);
        ck_assert_uint_eq(tfrs_vocab_num_tokens(v), NTOK);
        tfrs_vocab_free(v);
    }
}
END_TEST

/* ---- the operations -------------------------------------------------------- */

static double op_vocab_create(const void *set)
{
    const token_set *ts = set;
    tfrs_vocab *v;
    double t = now();
    int rc = tfrs_vocab_create(&v, ts->ptr, NTOK, NULL);

    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), NTOK);
    tfrs_vocab_free(v);
    return t;
}

static double op_vocab_adapt(const void *set)
{
    const token_set *ts = set;
    tfrs_vocab *v;
    double t = now();
    int rc = tfrs_vocab_adapt(&v, ts->ptr, NTOK, NULL);

    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), NTOK);
    tfrs_vocab_free(v);
    return t;
}

static double op_dataset_append(const void *set)
{
    const token_set *ts = set;
    tfrs_dataset *ds;
    double t;
    float one = 1.0f;

    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "token", TFRS_COLUMN_STRING), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "label", TFRS_COLUMN_FLOAT), TFRS_OK);
    t = now();
    for (size_t i = 0; i < NTOK; i++)
        ck_assert_int_eq(tfrs_dataset_append(ds, &ts->ptr[i], &one), TFRS_OK);
    t = now() - t;
    tfrs_dataset_free(ds);
    return t;
}

/* "token\n" then one token per line (1.3 MB of text at 8 bytes a token
 * and a few of numbers). */
static char *delimited_text(const token_set *ts, size_t *len)
{
    size_t cap = 16 + NTOK * (TOKLEN + 8), n = 0;
    char *text = malloc(cap);

    ck_assert_ptr_nonnull(text);
    n += (size_t)sprintf(text, "token,label\n");
    for (size_t i = 0; i < NTOK; i++)
        n += (size_t)sprintf(text + n, "%s,%zu\n", ts->ptr[i], i % 5);
    *len = n;
    return text;
}

static int load_text(tfrs_dataset **ds, const char *text, size_t len)
{
    static const char *const floats[] = { "label" };
    tfrs_delimited_options o;

    tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION);
    o.float_columns = floats;
    o.num_float_columns = 1;
    return tfrs__load_delimited_buffer(ds, text, len, "tokens.csv", &o);
}

static double op_load_delimited(const void *set)
{
    const token_set *ts = set;
    tfrs_dataset *ds;
    size_t len;
    char *text = delimited_text(ts, &len);
    double t = now();
    int rc = load_text(&ds, text, len);

    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), NTOK);
    tfrs_dataset_free(ds);
    free(text);
    return t;
}

static double op_adapt_column(const void *set)
{
    const token_set *ts = set;
    tfrs_dataset *ds;
    tfrs_vocab *v;
    size_t len;
    char *text = delimited_text(ts, &len);
    double t;
    int rc;

    ck_assert_int_eq(load_text(&ds, text, len), TFRS_OK);
    t = now();
    rc = tfrs_vocab_adapt_column(&v, ds, "token", NULL);
    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), NTOK);
    tfrs_vocab_free(v);
    tfrs_dataset_free(ds);
    free(text);
    return t;
}

/* A model whose one feature has the NTOK tokens, saved; the load is timed. */
static double op_model_load(const void *set)
{
    const token_set *ts = set;
    const char *path = tu_tmp_path("tokens.tfrs");
    tfrs_model *m;
    tfrs_vocab *v;
    tu_model_spec spec = { .seed = 1 };
    double t;
    int rc;

    ck_assert_int_eq(tfrs_vocab_create(&v, ts->ptr, NTOK, NULL), TFRS_OK);
    spec.features[0].name = "token";
    spec.features[0].vocab = v;
    spec.features[0].dim = 1;
    spec.dense[0].units = 1;
    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    ck_assert_int_eq(tfrs_model_save(m, path, 0), TFRS_OK);
    tfrs_model_free(m);
    tfrs_vocab_free(v);
    t = now();
    rc = tfrs_model_load(&m, path);
    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    tfrs_model_free(m);
    unlink(path);
    return t;
}

START_TEST(vocab_create_collisions)
{
    check_ratio("tfrs_vocab_create", op_vocab_create, &crafted, &random_set);
}
END_TEST

START_TEST(vocab_adapt_collisions)
{
    check_ratio("tfrs_vocab_adapt", op_vocab_adapt, &crafted, &random_set);
}
END_TEST

START_TEST(dataset_append_collisions)
{
    check_ratio("tfrs_dataset_append", op_dataset_append, &crafted, &random_set);
}
END_TEST

START_TEST(load_delimited_collisions)
{
    check_ratio("tfrs__load_delimited_buffer", op_load_delimited, &crafted, &random_set);
}
END_TEST

START_TEST(adapt_column_collisions)
{
    check_ratio("tfrs_vocab_adapt_column", op_adapt_column, &crafted, &random_set);
}
END_TEST

START_TEST(model_load_collisions)
{
    tu_tmpdir_make();
    check_ratio("tfrs_model_load", op_model_load, &crafted, &random_set);
    tu_tmpdir_remove();
}
END_TEST

/* ---- MovieLens user ids ------------------------------------------------- */

#define NUSERS 20000

/* User ids for u.data: crafted (every id in the first 64 slots of every
 * table of up to 2^16 slots, which 20,000 users fill, under the old
 * tfrs__slot_of of the integer) or random. */
typedef struct id_set {
    uint32_t ids[NUSERS];
} id_set;

static id_set crafted_ids, random_ids;

static void make_ids(void)
{
    uint64_t state = 777;
    size_t n = 0;

    for (uint32_t id = 1; n < NUSERS; id++)
        if (old_slot_of(id, 0xffff) < 64)
            crafted_ids.ids[n++] = id;
    for (n = 0; n < NUSERS; n++)
        random_ids.ids[n] = (uint32_t)(splitmix(&state) % 0x7ffffffeu) + 1;
}

static const char ml_item[] = "1|Harbour Lights (2003)|01-Jan-2003||http://x"
                              "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n";

static double op_movielens(const void *set)
{
    const id_set *s = set;
    tfrs__ml_items *items;
    tfrs_dataset *ds;
    char *text = malloc((size_t)NUSERS * 32);
    size_t len = 0;
    double t;
    int rc;

    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < NUSERS; i++)
        len += (size_t)sprintf(text + len, "%u\t1\t4\t1234567890\n", (unsigned)s->ids[i]);
    ck_assert_int_eq(tfrs__parse_items(&items, ml_item, strlen(ml_item), "u.item", NULL),
                     TFRS_OK);
    t = now();
    rc = tfrs__parse_ratings(&ds, items, text, len, "u.data", NULL);
    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_rows(ds), NUSERS);
    tfrs_dataset_free(ds);
    tfrs__ml_items_free(items);
    free(text);
    return t;
}

START_TEST(movielens_user_id_collisions)
{
    for (size_t i = 0; i < NUSERS; i++)
        ck_assert_uint_lt(old_slot_of(crafted_ids.ids[i], 0xffff), 64);
    check_ratio("tfrs__parse_ratings (user ids)", op_movielens, &crafted_ids, &random_ids);
}
END_TEST

/* ---- feature names ------------------------------------------------------ */

#define NFEAT   20000
#define PREFIX  1000

/* n names of pad + 5 bytes: pad bytes of a common prefix then a number
 * (the attack on a strcmp scan), or the number first (names that differ at
 * once).  A scan is quadratic even over names that differ at once, so the
 * tests also compare NFEAT short names (pad 0) with NFEAT / 10 of them,
 * scaled by 10: short, so that the bytes touched stay in cache and only the
 * work per name counts (ratio below MAX_SCALED_RATIO). */
typedef struct name_set {
    int    common_prefix;
    size_t n, pad;
} name_set;

static const name_set prefix_names = { 1, NFEAT, PREFIX }, spread_names = { 0, NFEAT, PREFIX },
                      short_names = { 0, NFEAT, 0 }, short_tenth = { 0, NFEAT / 10, 0 };

static double op_feature_names(const void *set)
{
    const name_set *ns = set;
    static const char *const tok[] = { "x" };
    char *name = malloc(PREFIX + 32);
    tfrs_vocab *v;
    tfrs_model *m;
    double t;

    ck_assert_ptr_nonnull(name);
    ck_assert_int_eq(tfrs_vocab_create(&v, tok, 1, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_model_create(&m, 1), TFRS_OK);
    t = now();
    for (size_t i = 0; i < ns->n; i++) {
        if (ns->common_prefix) {
            memset(name, 'f', ns->pad);
            sprintf(name + ns->pad, "%05u", (unsigned)i);
        } else {
            sprintf(name, "%05u", (unsigned)i);
            memset(name + 5, 'f', ns->pad);
            name[ns->pad + 5] = '\0';
        }
        ck_assert_int_eq(tfrs_model_add_feature(m, name, v, 2), TFRS_OK);
    }
    /* A repeated name is still refused. */
    ck_assert_int_eq(tfrs_model_add_feature(m, name, v, 2), TFRS_EDUPLICATE);
    t = now() - t;
    tfrs_model_free(m);
    tfrs_vocab_free(v);
    free(name);
    return t;
}

START_TEST(feature_names_common_prefix)
{
    check_ratio("tfrs_model_add_feature (20,000 names, common prefix vs none)",
                op_feature_names, &prefix_names, &spread_names);
    check_scaled("tfrs_model_add_feature (20,000 vs 10 x 2,000 short names)",
                 op_feature_names, &short_names, &short_tenth, 10.0, MAX_SCALED_RATIO);
}
END_TEST

/* Column names too: a header of 20,000 names with a common prefix. */
static double op_header(const void *set)
{
    const name_set *ns = set;
    size_t cap = ns->n * (ns->pad + 8) + 64, len = 0;
    char *text = malloc(cap);
    tfrs_dataset *ds;
    double t;
    int rc;

    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < ns->n; i++) {
        if (ns->common_prefix) {
            memset(text + len, 'c', ns->pad);
            len += ns->pad;
            len += (size_t)sprintf(text + len, "%05u,", (unsigned)i);
        } else {
            len += (size_t)sprintf(text + len, "%05u", (unsigned)i);
            memset(text + len, 'c', ns->pad);
            len += ns->pad;
            text[len++] = ',';
        }
    }
    text[len - 1] = '\n';
    t = now();
    rc = tfrs__load_delimited_buffer(&ds, text, len, "wide.csv", NULL);
    t = now() - t;
    ck_assert_int_eq(rc, TFRS_OK);
    ck_assert_uint_eq(tfrs_dataset_num_columns(ds), ns->n);
    tfrs_dataset_free(ds);
    free(text);
    return t;
}

START_TEST(column_names_common_prefix)
{
    check_ratio("delimited header (20,000 names, common prefix vs none)", op_header,
                &prefix_names, &spread_names);
    check_scaled("delimited header (20,000 vs 10 x 2,000 short names)", op_header,
                 &short_names, &short_tenth, 10.0, MAX_SCALED_RATIO);
}
END_TEST

/* ======================================================================== */
/* Special files                                                            */
/* ======================================================================== */

typedef int (*path_call)(const char *path);

static int call_delimited(const char *path)
{
    tfrs_dataset *ds = NULL;
    int rc = tfrs_dataset_load_delimited(&ds, path, NULL);

    tfrs_dataset_free(ds);
    return rc;
}

static int call_movielens(const char *dir)
{
    tfrs_dataset *ds = NULL;
    int rc = tfrs_dataset_load_movielens(&ds, dir, NULL);

    tfrs_dataset_free(ds);
    return rc;
}

static int call_model_load(const char *path)
{
    tfrs_model *m = NULL;
    int rc = tfrs_model_load(&m, path);

    tfrs_model_free(m);
    return rc;
}

/* Runs call(arg) in a child that SIGALRM kills after 10 s, so that a call
 * that blocks fails the test instead of hanging the suite; the call must
 * return TFRS_EIO with a message naming `named` and the file type. */
static void expect_refused(const char *what, path_call call, const char *arg, const char *named,
                           const char *type)
{
    char msg[2048];
    size_t got = 0;
    int fds[2], status, rc;
    pid_t pid;
    ssize_t k;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int n;
        close(fds[0]);
        alarm(10);
        rc = call(arg);
        n = snprintf(msg, sizeof(msg), "%d %s", rc, tfrs_last_error());
        if (write(fds[1], msg, (size_t)n) != n)
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    while (got < sizeof(msg) - 1 && (k = read(fds[0], msg + got, sizeof(msg) - 1 - got)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        ck_assert_int_gt(k, 0);
        got += (size_t)k;
    }
    msg[got] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(!WIFSIGNALED(status), "%s on %s: killed by signal %d (blocked?)", what, arg,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s on %s: child failed",
                  what, arg);
    ck_assert_msg(sscanf(msg, "%d", &rc) == 1 && rc == TFRS_EIO, "%s on %s: %s", what, arg, msg);
    ck_assert_msg(strstr(msg, named) != NULL, "%s: message does not name %s: %s", what, named,
                  msg);
    ck_assert_msg(strstr(msg, type) != NULL, "%s: message does not say %s: %s", what, type, msg);
}

/* A MovieLens directory under tu_tmpdir where `special` (u.item or u.data)
 * is made by make() and the other file is a valid one. */
static const char *ml_dir(const char *name, const char *special, int (*make)(const char *))
{
    static char dir[600];
    char p[700];

    snprintf(dir, sizeof(dir), "%s", tu_tmp_path(name));
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(p, sizeof(p), "%s/u.item", dir);
    if (strcmp(special, "u.item") == 0)
        ck_assert_int_eq(make(p), 0);
    else
        tu_write_text(p, ml_item);
    snprintf(p, sizeof(p), "%s/u.data", dir);
    if (strcmp(special, "u.data") == 0)
        ck_assert_int_eq(make(p), 0);
    else
        tu_write_text(p, "1\t1\t4\t1234567890\n");
    return dir;
}

static void ml_dir_remove(const char *dir)
{
    char p[700];

    snprintf(p, sizeof(p), "%s/u.item", dir);
    rmdir(p);
    unlink(p);
    snprintf(p, sizeof(p), "%s/u.data", dir);
    rmdir(p);
    unlink(p);
    ck_assert_int_eq(rmdir(dir), 0);
}

static int make_fifo(const char *path)
{
    return mkfifo(path, 0600);
}

static int make_dir(const char *path)
{
    return mkdir(path, 0700);
}

START_TEST(fifo_is_refused)
{
    const char *fifo, *dir;
    char named[700];

    tu_tmpdir_make();
    fifo = tu_tmp_path("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);   /* no writer: open would block */
    expect_refused("tfrs_dataset_load_delimited", call_delimited, fifo, fifo, "a FIFO");
    expect_refused("tfrs_model_load", call_model_load, fifo, fifo, "a FIFO");
    unlink(fifo);

    dir = ml_dir("ml-data-fifo", "u.data", make_fifo);
    snprintf(named, sizeof(named), "%s/u.data", dir);
    expect_refused("tfrs_dataset_load_movielens", call_movielens, dir, named, "a FIFO");
    ml_dir_remove(dir);
    dir = ml_dir("ml-item-fifo", "u.item", make_fifo);
    snprintf(named, sizeof(named), "%s/u.item", dir);
    expect_refused("tfrs_dataset_load_movielens", call_movielens, dir, named, "a FIFO");
    ml_dir_remove(dir);
    tu_tmpdir_remove();
}
END_TEST

START_TEST(device_is_refused)
{
    expect_refused("tfrs_dataset_load_delimited", call_delimited, "/dev/zero", "/dev/zero",
                   "a character device");
    expect_refused("tfrs_model_load", call_model_load, "/dev/zero", "/dev/zero",
                   "a character device");
}
END_TEST

START_TEST(directory_is_refused)
{
    const char *dir;
    char named[700];

    tu_tmpdir_make();
    expect_refused("tfrs_dataset_load_delimited", call_delimited, tu_tmpdir, tu_tmpdir,
                   "a directory");
    expect_refused("tfrs_model_load", call_model_load, tu_tmpdir, tu_tmpdir, "a directory");
    dir = ml_dir("ml-data-dir", "u.data", make_dir);
    snprintf(named, sizeof(named), "%s/u.data", dir);
    expect_refused("tfrs_dataset_load_movielens", call_movielens, dir, named, "a directory");
    ml_dir_remove(dir);
    tu_tmpdir_remove();
}
END_TEST

/* ======================================================================== */
/* Byte order marks, decimal ratings, the OOV token                         */
/* ======================================================================== */

#define BOM "\xEF\xBB\xBF"

static tfrs_dataset *parse_ml(const char *items_text, const char *data_text, int expect)
{
    tfrs__ml_items *items;
    tfrs_dataset *ds = NULL;

    ck_assert_int_eq(tfrs__parse_items(&items, items_text, strlen(items_text), "u.item", NULL),
                     TFRS_OK);
    ck_assert_int_eq(tfrs__ml_items_count(items), 1);
    ck_assert_int_eq(tfrs__parse_ratings(&ds, items, data_text, strlen(data_text), "u.data",
                                         NULL), expect);
    tfrs__ml_items_free(items);
    return ds;
}

START_TEST(byte_order_mark_is_skipped)
{
    const char *s;
    tfrs_dataset *ds;
    char p[700];

    /* MovieLens, both files, from buffers and from files. */
    ds = parse_ml(BOM "1|Harbour Lights (2003)|01-Jan-2003||http://x"
                  "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
                  BOM "501\t1\t4\t1234567890\n", TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "user_id", 0, &s), TFRS_OK);
    ck_assert_str_eq(s, "501");
    tfrs_dataset_free(ds);
    tu_tmpdir_make();
    tu_tmp_write_text("u.item", BOM "1|Harbour Lights (2003)|01-Jan-2003||http://x"
                      "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    tu_tmp_write_text("u.data", BOM "501\t1\t4\t1234567890\n");
    ck_assert_int_eq(tfrs_dataset_load_movielens(&ds, tu_tmpdir, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "user_id", 0, &s), TFRS_OK);
    ck_assert_str_eq(s, "501");
    tfrs_dataset_free(ds);
    /* Delimited: the first column is "user", not "\ufeffuser". */
    snprintf(p, sizeof(p), "%s", tu_tmp_write_text("bom.csv", BOM "user,movie\n501,17\n"));
    ck_assert_int_eq(tfrs_dataset_load_delimited(&ds, p, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_get_string(ds, "user", 0, &s), TFRS_OK);
    ck_assert_str_eq(s, "501");
    tfrs_dataset_free(ds);
    tu_tmpdir_remove();

    /* Only at the start: one on a later line is data, and bad data. */
    ds = parse_ml(ml_item, "1\t1\t4\t1234567890\n" BOM "501\t1\t4\t1234567890\n", TFRS_EPARSE);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "u.data:2: bad user id"));
}
END_TEST

START_TEST(integral_decimal_ratings)
{
    static const char *const good[] = { "4", "4.0", "4.00", "5.000", "1.0" };
    static const float want[] = { 4, 4, 4, 5, 1 };
    static const char *const bad[] = { "4.5", "4.", ".0", "0.0", "6.0", "4e0", "-4.0", "4.0.0",
                                       "4.01", "+4" };
    char line[64];

    for (size_t i = 0; i < TU_NELEM(good); i++) {
        tfrs_dataset *ds;
        const float *r;
        snprintf(line, sizeof(line), "7\t1\t%s\t1234567890\n", good[i]);
        ds = parse_ml(ml_item, line, TFRS_OK);
        ck_assert_int_eq(tfrs_dataset_floats(ds, "user_rating", &r), TFRS_OK);
        ck_assert_float_eq(r[0], want[i]);
        tfrs_dataset_free(ds);
    }
    for (size_t i = 0; i < TU_NELEM(bad); i++) {
        char expect[64];
        snprintf(line, sizeof(line), "7\t1\t%s\t1234567890\n", bad[i]);
        ck_assert_ptr_null(parse_ml(ml_item, line, TFRS_EPARSE));
        snprintf(expect, sizeof(expect), "u.data:1: bad rating \"%s\"", bad[i]);
        ck_assert_msg(strstr(tfrs_last_error(), expect) != NULL, "%s: %s", bad[i],
                      tfrs_last_error());
    }
}
END_TEST

START_TEST(oov_token_in_vocabulary)
{
    static const char *const toks[] = { "a", "[UNK]" };
    static const char *const data[] = { "b", "[UNK]", "a", "[UNK]", "b" };
    tfrs_vocab_options o;
    tfrs_vocab *v;
    tfrs_dataset *ds;
    int32_t id;

    /* create: refused while there are OOV buckets (1 or 2) ... */
    for (size_t k = 1; k <= 2; k++) {
        tfrs_vocab_options_init(&o, TFRS_VOCAB_OPTIONS_VERSION);
        o.num_oov_indices = k;
        v = (tfrs_vocab *)&o;
        ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_EINVAL);
        ck_assert_ptr_null(v);
        ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "token 1 is \"[UNK]\", the OOV token"));
    }
    /* ... an ordinary token without them. */
    o.num_oov_indices = 0;
    ck_assert_int_eq(tfrs_vocab_create(&v, toks, 2, &o), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_lookup(v, "[UNK]", &id), TFRS_OK);
    ck_assert_int_eq(id, 1);
    tfrs_vocab_free(v);

    /* adapt and adapt_column leave it out, with or without buckets (Keras). */
    for (size_t k = 0; k <= 1; k++) {
        o.num_oov_indices = k;
        ck_assert_int_eq(tfrs_vocab_adapt(&v, data, TU_NELEM(data), &o), TFRS_OK);
        ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 2);
        ck_assert_int_eq(tfrs_vocab_lookup(v, "[UNK]", &id), k == 0 ? TFRS_ENOTFOUND : TFRS_OK);
        if (k == 1)
            ck_assert_int_eq(id, 0);
        tfrs_vocab_free(v);
    }
    ck_assert_int_eq(tfrs_dataset_create(&ds), TFRS_OK);
    ck_assert_int_eq(tfrs_dataset_add_column(ds, "s", TFRS_COLUMN_STRING), TFRS_OK);
    for (size_t i = 0; i < TU_NELEM(data); i++)
        ck_assert_int_eq(tfrs_dataset_append(ds, &data[i], NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_adapt_column(&v, ds, "s", NULL), TFRS_OK);
    ck_assert_uint_eq(tfrs_vocab_num_tokens(v), 2);
    ck_assert_int_eq(tfrs_vocab_lookup(v, "a", &id), TFRS_OK);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(tfrs_vocab_lookup(v, "[UNK]", &id), TFRS_OK);
    ck_assert_int_eq(id, 0);
    tfrs_vocab_free(v);
    tfrs_dataset_free(ds);
}
END_TEST

int main(void)
{
    const tu_case cases[] = {
        TU_CASE(old_hash_collision_set_is_real),
        TU_CASE(vocab_create_collisions),
        TU_CASE(vocab_adapt_collisions),
        TU_CASE(dataset_append_collisions),
        TU_CASE(load_delimited_collisions),
        TU_CASE(adapt_column_collisions),
        TU_CASE(model_load_collisions),
        TU_CASE(movielens_user_id_collisions),
        TU_CASE(feature_names_common_prefix),
        TU_CASE(column_names_common_prefix),
        TU_CASE(fifo_is_refused),
        TU_CASE(device_is_refused),
        TU_CASE(directory_is_refused),
        TU_CASE(byte_order_mark_is_skipped),
        TU_CASE(integral_decimal_ratings),
        TU_CASE(oov_token_in_vocabulary),
    };

    make_tokens(&crafted, 1);
    make_tokens(&random_set, 0);
    make_ids();
    return tu_run_cases("hostile-data", cases, TU_NELEM(cases));
}
