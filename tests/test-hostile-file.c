/*
 * test-hostile-file.c - hostile input, round two: what a small or crafted
 * file may cost (memory and time of load and rank), NULs inside the JSON
 * strings of a model file, optimizer settings that can never train, and
 * file names as long as the file system allows.  Every attack is built
 * here, from a model saved by the test; nothing is read from stored
 * samples.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "model.h"
#include "util/fileio.h"
#include "testutil.h"

/* ---- an allocator that counts bytes ---------------------------------- */

/* Live bytes and their peak, of every block the library allocates (cJSON's
 * included, while a custom allocator is installed). */
static struct {
    pthread_mutex_t lock;
    size_t          live, peak;
    long            blocks;
} bytes = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };

#define HDR 16   /* keeps the payload 16-byte aligned */

static void *b_malloc(size_t size, void *payload)
{
    unsigned char *p = malloc(HDR + size);

    (void)payload;
    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof(size));
    pthread_mutex_lock(&bytes.lock);
    bytes.live += size;
    bytes.blocks++;
    if (bytes.live > bytes.peak)
        bytes.peak = bytes.live;
    pthread_mutex_unlock(&bytes.lock);
    return p + HDR;
}

static void b_free(void *ptr, void *payload)
{
    unsigned char *p = ptr;
    size_t size;

    (void)payload;
    if (p == NULL)
        return;
    p -= HDR;
    memcpy(&size, p, sizeof(size));
    pthread_mutex_lock(&bytes.lock);
    bytes.live -= size;
    bytes.blocks--;
    pthread_mutex_unlock(&bytes.lock);
    free(p);
}

static void bytes_install(void)
{
    const tfrs_allocator a = { b_malloc, NULL, b_free, NULL };

    bytes.live = bytes.peak = 0;
    bytes.blocks = 0;
    ck_assert_int_eq(tfrs_set_allocator(&a), TFRS_OK);
}

/* From now on, peak counts what is allocated on top of what is live. */
static size_t bytes_mark(void)
{
    pthread_mutex_lock(&bytes.lock);
    bytes.peak = bytes.live;
    pthread_mutex_unlock(&bytes.lock);
    return bytes.live;
}

static void bytes_uninstall(void)
{
    ck_assert_int_eq(bytes.blocks, 0);
    ck_assert_int_eq(tfrs_set_allocator(NULL), TFRS_OK);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- models ---------------------------------------------------------- */

/* A vocabulary of n tokens "<prefix><k>". */
static tfrs_vocab *vocab_of(const char *prefix, size_t n)
{
    char **toks = calloc(n, sizeof(*toks));
    tfrs_vocab *v = NULL;

    ck_assert_ptr_nonnull(toks);
    for (size_t k = 0; k < n; k++) {
        toks[k] = malloc(32);
        ck_assert_ptr_nonnull(toks[k]);
        snprintf(toks[k], 32, "%s%zu", prefix, k);
    }
    ck_assert_int_eq(tfrs_vocab_create(&v, (const char *const *)toks, n, NULL), TFRS_OK);
    for (size_t k = 0; k < n; k++)
        free(toks[k]);
    free(toks);
    return v;
}

/* A built model "user" (users tokens, dim du) x "item" (items, dim di),
 * dense units0 relu -> units1 relu -> 1, with the given optimizer, label
 * "rating". */
static tfrs_model *model_of(size_t users, size_t du, size_t items, size_t di, size_t units0,
                            size_t units1, tfrs_optimizer_kind kind)
{
    tfrs_vocab *vu = vocab_of("u", users), *vi = vocab_of("i", items);
    tu_model_spec spec;
    tfrs_model *m = NULL;
    size_t l = 0;

    memset(&spec, 0, sizeof(spec));
    spec.seed = 7;
    spec.features[0].name = "user";
    spec.features[0].vocab = vu;
    spec.features[0].dim = du;
    spec.features[1].name = "item";
    spec.features[1].vocab = vi;
    spec.features[1].dim = di;
    spec.dense[l].units = units0;
    spec.dense[l++].act = TFRS_ACT_RELU;
    if (units1 > 0) {
        spec.dense[l].units = units1;
        spec.dense[l++].act = TFRS_ACT_RELU;
    }
    spec.dense[l].units = 1;
    spec.dense[l].act = TFRS_ACT_LINEAR;
    spec.optimizer.set = 1;
    spec.optimizer.kind = kind;
    spec.label = "rating";
    ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
    return m;
}

/* A few training steps, so that the weights and slots are not the
 * initial ones. */
static void train(tfrs_model *m, size_t users, size_t items)
{
    int32_t ids[2 * 32];
    float labels[32];
    double loss;

    for (int step = 0; step < 3; step++) {
        for (size_t r = 0; r < 32; r++) {
            ids[2 * r] = (int32_t)(1 + (r * 7 + (size_t)step) % users);
            ids[2 * r + 1] = (int32_t)(1 + (r * 13 + (size_t)step) % items);
            labels[r] = (float)(r % 5) + 1.0f;
        }
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, 32, &loss), TFRS_OK);
    }
}

/* The saved file of m (flags), malloc'd. */
static unsigned char *saved(const tfrs_model *m, unsigned flags, size_t *len)
{
    const char *p = tu_tmp_path("saved.tfrs");
    unsigned char *b;

    ck_assert_int_eq(tfrs_model_save(m, p, flags), TFRS_OK);
    b = tu_read_file(p, len);
    unlink(p);
    return b;
}

static size_t file_size(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return (size_t)st.st_size;
}

/* ---- (3) memory: load ------------------------------------------------- */

/* Loading a model file of S bytes allocates at most LOAD_FACTOR x S +
 * LOAD_CONSTANT bytes at its peak (docs/reliability.md: the file, then the
 * model's weights, gradients and slots, up to about 4.9 x S for a
 * weights-only Adam file). */
#define LOAD_FACTOR   6
#define LOAD_CONSTANT (1u << 20)

static void check_load_peak(tfrs_model *m, unsigned flags, const char *name)
{
    const char *p = tu_tmp_path(name);
    tfrs_model *back = NULL;
    size_t S;

    ck_assert_int_eq(tfrs_model_save(m, p, flags), TFRS_OK);
    S = file_size(p);
    bytes_install();
    bytes_mark();
    ck_assert_int_eq(tfrs_model_load(&back, p), TFRS_OK);
    ck_assert_msg(bytes.peak <= LOAD_FACTOR * S + LOAD_CONSTANT,
                  "%s: loading %zu bytes peaked at %zu bytes", name, S, bytes.peak);
    tfrs_model_free(back);
    bytes_uninstall();
    unlink(p);
}

START_TEST(load_peak_is_a_small_multiple_of_the_file)
{
    /* Shapes whose files are dominated by embeddings, by the dense
     * layers and by vocabulary bytes, weights only and with slots. */
    tfrs_model *emb = model_of(3000, 32, 2000, 32, 16, 0, TFRS_OPT_ADAM);
    tfrs_model *dense = model_of(10, 8, 10, 8, 512, 256, TFRS_OPT_ADAGRAD);
    tfrs_model *vocab = model_of(20000, 1, 20000, 1, 4, 0, TFRS_OPT_SGD);

    train(emb, 3000, 2000);
    check_load_peak(emb, 0, "emb.tfrs");
    check_load_peak(emb, TFRS_SAVE_OPTIMIZER, "emb-opt.tfrs");
    check_load_peak(dense, 0, "dense.tfrs");
    check_load_peak(dense, TFRS_SAVE_OPTIMIZER, "dense-opt.tfrs");
    check_load_peak(vocab, 0, "vocab.tfrs");
    tfrs_model_free(emb);
    tfrs_model_free(dense);
    tfrs_model_free(vocab);
}
END_TEST

/* A file of `size` bytes (sparse: only head is written) at path. */
static void sparse_file(const char *path, const void *head, size_t hlen, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, head, hlen), (ssize_t)hlen);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    ck_assert_int_eq(close(fd), 0);
}

/* Loads path under the counting allocator: EFORMAT, and returns the peak. */
static size_t rejected_peak(const char *path, double *seconds)
{
    tfrs_model *m = (tfrs_model *)&m;
    double t0;

    bytes_install();
    bytes_mark();
    t0 = now_s();
    ck_assert_int_eq(tfrs_model_load(&m, path), TFRS_EFORMAT);
    *seconds = now_s() - t0;
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), path));
    bytes_uninstall();
    return bytes.peak;
}

#define BIG ((off_t)1 << 30)   /* 1 GiB, sparse */

START_TEST(garbage_file_rejected_before_reading_it)
{
    const char *p = tu_tmp_path("garbage.tfrs");
    tfrs_model *m = model_of(50, 4, 80, 4, 8, 0, TFRS_OPT_ADAGRAD);
    unsigned char junk[8] = { 0x13, 0x37, 0xc0, 0xde, 0xfa, 0xce, 0xb0, 0x0c };
    unsigned char *good;
    size_t len, peak;
    double s;

    /* Zeros: header length 0. */
    sparse_file(p, "", 0, BIG);
    peak = rejected_peak(p, &s);
    ck_assert_msg(peak < 4096 && s < 0.5, "zeros: peak %zu bytes, %.3f s", peak, s);
    /* Random bytes: a header length far over the cap. */
    sparse_file(p, junk, sizeof(junk), BIG);
    peak = rejected_peak(p, &s);
    ck_assert_msg(peak < 4096 && s < 0.5, "junk: peak %zu bytes, %.3f s", peak, s);
    /* A valid model's length and header, then 1 GiB: the header's tensors
     * do not cover the rest of the file, which is never read. */
    good = saved(m, 0, &len);
    sparse_file(p, good, len, BIG);
    peak = rejected_peak(p, &s);
    ck_assert_msg(peak < 256 * 1024 && s < 0.5, "model + junk: peak %zu bytes, %.3f s", peak,
                  s);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "data section"));
    /* The same bytes without the padding load (the test is not vacuous). */
    ck_assert_int_eq(tu_write_file(p, good, len), 0);
    tfrs_model_free(m);
    ck_assert_int_eq(tfrs_model_load(&m, p), TFRS_OK);
    tfrs_model_free(m);
    free(good);
    unlink(p);
}
END_TEST

/* A file shorter than its header claims, or cut in its data section, is
 * still an error; and neither a directory nor a FIFO is read. */
START_TEST(load_in_parts_still_checks_everything)
{
    const char *p = tu_tmp_path("cut.tfrs"), *fifo = tu_tmp_path("fifo");
    tfrs_model *m = model_of(50, 4, 80, 4, 8, 0, TFRS_OPT_ADAGRAD), *back;
    unsigned char *good;
    size_t len;

    good = saved(m, 0, &len);
    for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 997) {
        ck_assert_int_eq(tu_write_file(p, good, cut), 0);
        ck_assert_int_eq(tfrs_model_load(&back, p), TFRS_EFORMAT);
        ck_assert_ptr_null(back);
    }
    ck_assert_int_eq(tfrs_model_load(&back, tu_tmpdir), TFRS_EIO);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(tfrs_model_load(&back, fifo), TFRS_EIO);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "FIFO"));
    unlink(fifo);
    unlink(p);
    free(good);
    tfrs_model_free(m);
}
END_TEST

/* ---- (3) memory: rank -------------------------------------------------- */

/* Scores of n candidates (items ids) for user 1 through predict. */
static void predict_scores(const tfrs_model *m, const int32_t *items, size_t n, float *out)
{
    int32_t *ids = malloc(2 * n * sizeof(*ids));

    ck_assert_ptr_nonnull(ids);
    for (size_t i = 0; i < n; i++) {
        ids[2 * i] = 1;
        ids[2 * i + 1] = items[i];
    }
    ck_assert_int_eq(tfrs_model_predict_ids(m, ids, n, out), TFRS_OK);
    free(ids);
}

/* rank_ids of n candidates equals predict up to float rounding. */
static void check_rank_matches_predict(const tfrs_model *m, const int32_t *items, size_t n)
{
    int32_t query[2] = { 1, 0 };
    tfrs_scored *out = malloc(n * sizeof(*out));
    float *ref = malloc(n * sizeof(*ref));
    size_t got = 0;

    ck_assert(out != NULL && ref != NULL);
    predict_scores(m, items, n, ref);
    ck_assert_int_eq(tfrs_model_rank_ids(m, query, 1, items, n, 0, out, &got), TFRS_OK);
    ck_assert_uint_eq(got, n);
    for (size_t i = 0; i < n; i++) {
        float want = ref[out[i].index];
        ck_assert_msg(fabsf(out[i].score - want) <= 1e-5f * (1.0f + fabsf(want)),
                      "candidate %zu: rank %.9g, predict %.9g", out[i].index, out[i].score,
                      want);
        if (i > 0)
            ck_assert(out[i - 1].score >= out[i].score);
    }
    free(out);
    free(ref);
}

/* The rank cache of a model with embedding dimension 1 and a wide first
 * layer would be rows x units floats: 160 MB for a file of 0.38 MB, over a
 * hundred times the budget.  Rank must stay within the budget and still
 * rank right. */
START_TEST(rank_cache_within_budget)
{
    const size_t users = 4, items = 20000, units = 2000, n = 600;
    tfrs_model *m = model_of(users, 1, items, 1, units, 0, TFRS_OPT_ADAGRAD);
    const char *p = tu_tmp_path("wide.tfrs");
    size_t params = tfrs_model_num_parameters(m), budget = 8 * params * sizeof(float);
    int32_t *cands = malloc(n * sizeof(*cands)), query[2] = { 1, 0 };
    tfrs_scored *out = malloc(n * sizeof(*out));
    size_t got, peak, base;

    ck_assert(cands != NULL && out != NULL);
    for (size_t i = 0; i < n; i++)
        cands[i] = (int32_t)(1 + (i * 7919) % items);
    /* The model, as a file, is small; its full cache would not be. */
    ck_assert_int_eq(tfrs_model_save(m, p, 0), TFRS_OK);
    ck_assert_uint_lt(file_size(p), 512 * 1024);
    ck_assert_uint_gt((items + 1) * units * sizeof(float), 100 * budget);
    tfrs_model_free(m);

    bytes_install();
    ck_assert_int_eq(tfrs_model_load(&m, p), TFRS_OK);
    base = bytes_mark();
    ck_assert_int_eq(tfrs_model_rank_ids(m, query, 1, cands, n, 10, out, &got), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank_ids(m, query, 1, cands, n, 10, out, &got), TFRS_OK);
    peak = bytes.peak - base;   /* a cache would still be live */
    ck_assert_msg(peak <= budget, "rank peaked at %zu bytes, budget %zu", peak, budget);
    ck_assert_ptr_null(m->cache != NULL ? m->cache[1] : NULL);
    check_rank_matches_predict(m, cands, n);
    tfrs_model_free(m);
    bytes_uninstall();
    free(cands);
    free(out);
    unlink(p);
}
END_TEST

/* The tutorial's shape (944 users, 1,665 titles, dimension 32, 256 -> 64
 * -> 1) keeps its cache, so its rankings stay bit-identical; and a model
 * over budget for one feature still caches the other. */
START_TEST(rank_cache_kept_within_budget)
{
    tfrs_model *m = model_of(943, 32, 1664, 32, 256, 64, TFRS_OPT_ADAGRAD);
    int32_t cands[100], query[2] = { 1, 0 }, uq[2] = { 0, 5 }, users[50];
    tfrs_scored out[100];
    size_t got;

    ck_assert_uint_eq(tfrs_model_num_parameters(m), 116641);
    for (size_t i = 0; i < 100; i++)
        cands[i] = (int32_t)(1 + i * 13);
    ck_assert_int_eq(tfrs_model_rank_ids(m, query, 1, cands, 100, 0, out, &got), TFRS_OK);
    ck_assert_ptr_nonnull(m->cache);
    ck_assert_ptr_nonnull(m->cache[1]);
    check_rank_matches_predict(m, cands, 100);
    tfrs_model_free(m);

    /* 100,000 users at dimension 1 with 64 units: the user cache (6.4 M
     * floats) is over budget, the item cache is not. */
    m = model_of(100000, 1, 50, 8, 64, 0, TFRS_OPT_ADAGRAD);
    for (size_t i = 0; i < 50; i++) {
        users[i] = (int32_t)(1 + i * 1999);
        cands[i] = (int32_t)(1 + i % 50);
    }
    ck_assert_int_eq(tfrs_model_rank_ids(m, query, 1, cands, 50, 0, out, &got), TFRS_OK);
    ck_assert_int_eq(tfrs_model_rank_ids(m, uq, 0, users, 50, 0, out, &got), TFRS_OK);
    ck_assert_ptr_nonnull(m->cache[1]);
    ck_assert_ptr_null(m->cache[0]);
    check_rank_matches_predict(m, cands, 50);
    tfrs_model_free(m);
}
END_TEST

/* ---- (5) NUL inside JSON strings -------------------------------------- */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The file b (len bytes) with its header text (spaces trimmed) replaced by
 * `header` (hlen bytes), padded again: a new malloc'd file in *out_len. */
static unsigned char *with_header(const unsigned char *b, size_t len, const char *header,
                                  size_t hlen, size_t *out_len)
{
    size_t n = (size_t)le64(b), dlen = len - 8 - n, padded = (hlen + 7) & ~(size_t)7;
    unsigned char *f = malloc(8 + padded + dlen);

    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 8; i++)
        f[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(f + 8, header, hlen);
    memset(f + 8 + hlen, ' ', padded - hlen);
    memcpy(f + 8 + padded, b + 8 + n, dlen);
    *out_len = 8 + padded + dlen;
    return f;
}

/* The header text of b with the first `from` replaced by `to` (tlen bytes,
 * which may hold a NUL); asserts that `from` occurs. */
static char *replaced(const unsigned char *b, const char *from, const char *to, size_t tlen,
                      size_t *hlen)
{
    size_t n = (size_t)le64(b), flen = strlen(from), at;
    char *h = malloc(n + 1), *out, *hit;

    ck_assert_ptr_nonnull(h);
    memcpy(h, b + 8, n);
    h[n] = '\0';
    while (n > 0 && h[n - 1] == ' ')
        h[--n] = '\0';
    hit = strstr(h, from);
    ck_assert_msg(hit != NULL, "'%s' not in the header", from);
    at = (size_t)(hit - h);
    out = malloc(n - flen + tlen + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, h, at);
    memcpy(out + at, to, tlen);
    memcpy(out + at + tlen, h + at + flen, n - at - flen + 1);
    *hlen = n - flen + tlen;
    free(h);
    return out;
}

/* Loads b with `from` replaced by `to` (tlen bytes) in its header, from a
 * file and from a buffer; returns the status (both must agree). */
static int load_edited(const unsigned char *b, size_t len, const char *from, const char *to,
                       size_t tlen)
{
    size_t hlen, flen;
    char *h = replaced(b, from, to, tlen, &hlen);
    unsigned char *f = with_header(b, len, h, hlen, &flen);
    const char *p = tu_tmp_path("edited.tfrs");
    tfrs_model *m = (tfrs_model *)&m;
    int rc, rc_file;

    rc = tfrs_model_load_buffer(&m, f, flen);
    tfrs_model_free(m);
    ck_assert_int_eq(tu_write_file(p, f, flen), 0);
    rc_file = tfrs_model_load(&m, p);
    tfrs_model_free(m);
    ck_assert_int_eq(rc, rc_file);
    unlink(p);
    free(h);
    free(f);
    return rc;
}

#define EDIT(b, len, from, to) load_edited((b), (len), (from), (to), sizeof(to) - 1)

START_TEST(nul_in_json_strings_rejected)
{
    tfrs_model *m = model_of(6, 4, 9, 4, 8, 0, TFRS_OPT_ADAM);
    unsigned char *b;
    size_t len;

    train(m, 6, 9);
    b = saved(m, TFRS_SAVE_OPTIMIZER, &len);
    /* The surgery itself keeps a loadable file, and a harmless escape is
     * still accepted: the rejections below are the NULs'. */
    ck_assert_int_eq(EDIT(b, len, "\"libtfrsc\"", "\"libtfrsc\""), TFRS_OK);
    ck_assert_int_eq(EDIT(b, len, "\"libtfrsc\"", "\"libtfrs\\u0063\""), TFRS_OK);
    ck_assert_int_eq(EDIT(b, len, "\\\"name\\\":\\\"user\\\"",
                          "\\\"name\\\":\\\"us\\\\u0065r\\\""), TFRS_OK);

    /* A tensor name, the metadata key, a metadata value (\u0000 escape and
     * raw NUL byte), the checksum with junk after the NUL: */
    ck_assert_int_eq(EDIT(b, len, "\"features.0.embedding\":",
                          "\"features.0.embedding\\u0000x\":"), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "NUL"));
    ck_assert_int_eq(EDIT(b, len, "\"__metadata__\":", "\"__metadata__\\u0000x\":"),
                     TFRS_EFORMAT);
    ck_assert_int_eq(EDIT(b, len, "\"libtfrsc\"", "\"libtfrsc\\u0000\""), TFRS_EFORMAT);
    ck_assert_int_eq(EDIT(b, len, "\"libtfrsc\"", "\"libtfrsc\0x\""), TFRS_EFORMAT);
    {
        char from[32], to[40];
        const char *crc = strstr((const char *)b + 8, "\"crc32\":\"");
        ck_assert_ptr_nonnull(crc);
        snprintf(from, sizeof(from), "%.18s", crc);
        snprintf(to, sizeof(to), "%.17s\\u0000zz\"", crc);
        ck_assert_int_eq(load_edited(b, len, from, to, strlen(to)), TFRS_EFORMAT);
        ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "NUL"));
    }
    /* Inside the architecture (a JSON document in a string, so the escape
     * is escaped once more in the header): a feature name, the label, and
     * a training counter. */
    ck_assert_int_eq(EDIT(b, len, "\\\"name\\\":\\\"user\\\"",
                          "\\\"name\\\":\\\"user\\\\u0000x\\\""), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "architecture"));
    ck_assert_int_eq(EDIT(b, len, "\\\"label\\\":\\\"rating\\\"",
                          "\\\"label\\\":\\\"rating\\\\u0000x\\\""), TFRS_EFORMAT);
    ck_assert_int_eq(EDIT(b, len, "\\\"steps\\\":\\\"3\\\"", "\\\"steps\\\":\\\"3\\\\u0000\\\""),
                     TFRS_EFORMAT);
    free(b);
    tfrs_model_free(m);
}
END_TEST

/* The scan under every parse (white box): keys and values, escapes and raw
 * bytes, and an escaped backslash before "u0000", which is no NUL. */
START_TEST(json_parse_refuses_nul_strings)
{
    static const char *const bad[] = {
        "{\"a\":\"x\\u0000y\"}", "{\"a\\u0000\":1}", "[\"\\u0000\"]",
        "{\"a\":{\"b\":[1,\"\\u0000\"]}}",
    };
    static const char *const good[] = {
        "{\"a\":\"x\\\\u0000y\"}", "{\"a\":\"\\u0001\"}", "{\"a\":\"u0000\"}",
    };
    const char raw[] = "{\"a\":\"x\0y\"}";
    tfrs__json *j;

    for (size_t k = 0; k < TU_NELEM(bad); k++) {
        ck_assert_int_eq(tfrs__json_check_text(bad[k], strlen(bad[k])), TFRS__JSON_NUL);
        ck_assert_int_eq(tfrs__json_parse_str(bad[k], &j), TFRS_OK);
        ck_assert_msg(j == NULL, "%s parsed", bad[k]);
    }
    for (size_t k = 0; k < TU_NELEM(good); k++) {
        ck_assert_int_eq(tfrs__json_parse_str(good[k], &j), TFRS_OK);
        ck_assert_msg(j != NULL, "%s refused", good[k]);
        tfrs__json_delete(j);
    }
    ck_assert_int_eq(tfrs__json_check_text(raw, sizeof(raw) - 1), TFRS__JSON_NUL);
    ck_assert_ptr_null(tfrs__json_parse(raw, sizeof(raw) - 1, NULL));
    j = tfrs__json_parse(raw, 6, NULL);   /* "{"a":" ends before the string */
    ck_assert_ptr_null(j);
}
END_TEST

/* ---- (7) settings that can never train ------------------------------- */

START_TEST(adagrad_zero_accumulator_and_epsilon_refused)
{
    tfrs_model *m = model_of(6, 4, 9, 4, 8, 0, TFRS_OPT_ADAGRAD);
    tfrs_optimizer_options o;
    unsigned char *b;
    size_t len;

    ck_assert_int_eq(tfrs_optimizer_options_init(&o, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                                 TFRS_OPT_ADAGRAD), TFRS_OK);
    o.initial_accumulator = 0.0f;
    o.epsilon = 0.0f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_EINVAL);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "0 by 0"));
    /* Either one alone is fine, and trains. */
    o.epsilon = 1e-7f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_OK);
    train(m, 6, 9);
    o.initial_accumulator = 0.1f;
    o.epsilon = 0.0f;
    ck_assert_int_eq(tfrs_model_set_optimizer(m, &o), TFRS_OK);
    train(m, 6, 9);

    /* At load: a file that says both are 0. */
    b = saved(m, 0, &len);
    ck_assert_int_eq(EDIT(b, len, "\\\"initial_accumulator\\\":\\\"0.100000001\\\"",
                          "\\\"initial_accumulator\\\":\\\"0\\\""), TFRS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "0 by 0"));
    ck_assert_int_eq(EDIT(b, len, "\\\"epsilon\\\":\\\"0\\\"", "\\\"epsilon\\\":\\\"1e-30\\\""),
                     TFRS_OK);
    free(b);
    tfrs_model_free(m);
}
END_TEST

/* The training counters of b's header set to `steps`. */
static int load_with_steps(const unsigned char *b, size_t len, const char *steps,
                           tfrs_model **out)
{
    char to[96];
    size_t hlen, flen;
    char *h;
    unsigned char *f;
    int rc;

    snprintf(to, sizeof(to), "\\\"steps\\\":\\\"%s\\\"", steps);
    h = replaced(b, "\\\"steps\\\":\\\"3\\\"", to, strlen(to), &hlen);
    f = with_header(b, len, h, hlen, &flen);
    rc = tfrs_model_load_buffer(out, f, flen);
    free(h);
    free(f);
    return rc;
}

START_TEST(step_counter_at_the_limit_refused)
{
    tfrs_model *m = model_of(6, 4, 9, 4, 8, 0, TFRS_OPT_ADAM), *back = NULL;
    unsigned char *b;
    size_t len;

    train(m, 6, 9);
    b = saved(m, TFRS_SAVE_OPTIMIZER, &len);
    ck_assert_int_eq(load_with_steps(b, len, "18446744073709551615", &back), TFRS_EFORMAT);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "wrap"));
    /* One less is a valid (if improbable) counter: Adam still steps, and
     * the counter stays there instead of reaching 2^64 - 1. */
    ck_assert_int_eq(load_with_steps(b, len, "18446744073709551614", &back), TFRS_OK);
    train(back, 6, 9);
    ck_assert(back->opt.steps == UINT64_MAX - 1);
    ck_assert_int_eq(tfrs_model_save(back, tu_tmp_path("max.tfrs"), TFRS_SAVE_OPTIMIZER),
                     TFRS_OK);
    tfrs_model_free(back);
    ck_assert_int_eq(tfrs_model_load(&back, tu_tmp_path("max.tfrs")), TFRS_OK);
    tfrs_model_free(back);
    free(b);
    tfrs_model_free(m);
}
END_TEST

/* ---- (10) long file names --------------------------------------------- */

/* Number of entries of tu_tmpdir other than . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(tu_tmpdir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static char opened[4096];   /* the temporary file's path, seen by the hook */

static int hook_open(const char *path, int flags, mode_t mode)
{
    if (flags & O_CREAT)
        snprintf(opened, sizeof(opened), "%s", path);
    return open(path, flags, mode);
}

START_TEST(save_to_a_255_byte_name)
{
    tfrs_model *m = model_of(6, 4, 9, 4, 8, 0, TFRS_OPT_ADAGRAD), *back = NULL;
    const tfrs__io hooks = { hook_open, write, fsync, close, rename, unlink };
    char name[300], path[1024];
    const char *slash;
    float s1, s2;
    const char *row[2] = { "u3", "i4" };
    long name_max = pathconf(tu_tmpdir, _PC_NAME_MAX);

    ck_assert_int_ge(name_max, 255);
    memset(name, 'n', 255);
    name[255] = '\0';
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir, name);
    tfrs__set_io(&hooks);
    ck_assert_int_eq(tfrs_model_save(m, path, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    tfrs__set_io(NULL);
    ck_assert_int_eq(dir_entries(), 1);
    ck_assert_int_eq(tfrs_model_load(&back, path), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict(m, row, 1, &s1), TFRS_OK);
    ck_assert_int_eq(tfrs_model_predict(back, row, 1, &s2), TFRS_OK);
    ck_assert(memcmp(&s1, &s2, sizeof(s1)) == 0);
    /* The temporary file was ".tfrsc-" + 12 characters + ".tmp" in the
     * same directory. */
    slash = strrchr(opened, '/');
    ck_assert_ptr_nonnull(slash);
    ck_assert_int_eq((int)(slash - opened), (int)strlen(tu_tmpdir));
    ck_assert_int_eq(strncmp(opened, tu_tmpdir, strlen(tu_tmpdir)), 0);
    ck_assert_uint_eq(strlen(slash + 1), 7 + 12 + 4);
    ck_assert_int_eq(strncmp(slash + 1, ".tfrsc-", 7), 0);
    ck_assert_str_eq(slash + 1 + 19, ".tmp");
    /* Saving over it again replaces it. */
    ck_assert_int_eq(tfrs_model_save(back, path, 0), TFRS_OK);
    ck_assert_int_eq(dir_entries(), 1);
    unlink(path);
    /* A name over the limit is the file system's error, and leaves nothing. */
    name[255] = 'n';
    name[256] = '\0';
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir, name);
    ck_assert_int_eq(tfrs_model_save(m, path, 0), TFRS_EIO);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), strerror(ENAMETOOLONG)));
    ck_assert_int_eq(dir_entries(), 0);
    tfrs_model_free(back);
    tfrs_model_free(m);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile-file");
    TCase *tc;

    tc = tu_tcase(s, "memory", load_peak_is_a_small_multiple_of_the_file,
                  garbage_file_rejected_before_reading_it, load_in_parts_still_checks_everything,
                  rank_cache_within_budget, rank_cache_kept_within_budget);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tcase_set_timeout(tc, 120);
    tc = tu_tcase(s, "nul", nul_in_json_strings_rejected, json_parse_refuses_nul_strings);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "optimizer", adagrad_zero_accumulator_and_epsilon_refused,
                  step_counter_at_the_limit_refused);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    tc = tu_tcase(s, "names", save_to_a_255_byte_name);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    return s;
}

int main(void)
{
    return tu_run(hostile_suite());
}
