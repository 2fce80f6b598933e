/*
 * internal.h - private declarations shared between libtfrsc's sources.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Dependencies point one way:
 *   status, alloc, rng, kernels  <-  vocab, dataset, embedding, dense,
 *   ranking  <-  optimizer  <-  model  <-  serialize
 * A lower file never calls into a higher one.
 */
#ifndef TFRS_INTERNAL_H
#define TFRS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>   /* mode_t, ssize_t */

#include "tfrsc.h"

#if defined(__GNUC__)
#  define TFRS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define TFRS__PRINTF(a, b)
#endif

/* Elementwise hot loops are compiled for AVX-512, AVX2 and the baseline and
 * picked at load time (GCC function multi-versioning on x86-64).  They do
 * no reductions and the build never contracts a*b+c into FMA (ISO C mode),
 * so every version computes the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(TFRS_NO_CLONES)
#  define TFRS__VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define TFRS__VECTOR_CLONES
#endif

/* Asks for the cache lines of `bytes` bytes at p ahead of use; for the
 * random row accesses of large embedding tables. */
#if defined(__GNUC__)
#  define TFRS__PREFETCH_ROW(p, bytes) \
    do { \
        const char *pf_ = (const char *)(p); \
        for (size_t pfo_ = 0; pfo_ < (bytes); pfo_ += 64) \
            __builtin_prefetch(pf_ + pfo_); \
    } while (0)
#else
#  define TFRS__PREFETCH_ROW(p, bytes) ((void)(p))
#endif
/* How many rows ahead the row loops prefetch. */
#define TFRS__PREFETCH_AHEAD 8

/* ---- status.c ---------------------------------------------------------- */

/* Records a formatted detail message for the calling thread and returns
 * `status`, so that callers can write `return tfrs__fail(TFRS_EINVAL, ...)`. */
int tfrs__fail(int status, const char *fmt, ...) TFRS__PRINTF(2, 3);

/* ---- alloc.c ----------------------------------------------------------- */

/* All library memory goes through these (and so through tfrs_set_allocator).
 * tfrs__calloc checks n * size for overflow. tfrs__free(NULL) is a no-op. */
void *tfrs__malloc(size_t size);
void *tfrs__calloc(size_t n, size_t size);
/* old_size is the current size of ptr's block (used only when the custom
 * allocator has no realloc_fn). */
void *tfrs__realloc(void *ptr, size_t old_size, size_t size);
void  tfrs__free(void *ptr);
char *tfrs__strdup(const char *s);
/* Number of allocations that have failed in the calling thread so far.  A
 * caller of code that cannot report out-of-memory itself (cJSON's parser
 * returns NULL for both bad input and a failed allocation) compares it
 * before and after to tell the two apart. */
unsigned long tfrs__alloc_failures(void);

/* *out = a * b; returns -1 on overflow (and leaves *out undefined). */
int tfrs__mul(size_t a, size_t b, size_t *out);
/* *out = a + b; returns -1 on overflow. */
int tfrs__add(size_t a, size_t b, size_t *out);

/* Grows *buf (element size `elem`) to hold at least `need` elements,
 * geometrically.  Returns 0, or -1 on overflow or allocation failure (then
 * *buf and *cap are unchanged). */
int tfrs__grow(void **buf, size_t *cap, size_t need, size_t elem);

/* ---- number.c ---------------------------------------------------------- */

/* Longest decimal text tfrs__decimal_to_float accepts. */
#define TFRS__DECIMAL_MAX 255
/* The float of the n bytes at s, which the caller has checked to be a
 * decimal number ([sign] digits [. digits] [e [sign] digits]), whatever the
 * C locale; -1 if it is longer than TFRS__DECIMAL_MAX, not all consumed or
 * not finite. */
int  tfrs__decimal_to_float(const char *s, size_t n, float *out);
/* "%.9g" of x with '.' as the decimal point, whatever the C locale (every
 * finite float reads back exactly). */
void tfrs__float_to_decimal(char *buf, size_t cap, float x);

/* ---- rng.c ------------------------------------------------------------- */

/* xoshiro256** seeded through splitmix64 from (seed, stream).  Platform
 * independent and bit-reproducible. */
typedef struct tfrs__rng {
    uint64_t s[4];
} tfrs__rng;

void     tfrs__rng_seed(tfrs__rng *r, uint64_t seed, uint64_t stream);
uint64_t tfrs__rng_next(tfrs__rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable floats). */
float    tfrs__rng_float(tfrs__rng *r);
/* Uniform in [lo, hi). */
float    tfrs__rng_uniform(tfrs__rng *r, float lo, float hi);
/* Uniform integer in [0, n), unbiased (Lemire's method); n > 0. */
uint64_t tfrs__rng_below(tfrs__rng *r, uint64_t n);
/* perm[i] = i, then Fisher-Yates: for i = n-1 .. 1, swap(i, below(i+1)). */
void     tfrs__rng_permutation(tfrs__rng *r, uint32_t *perm, size_t n);

/* ---- kernels.c (the only cblas user) ----------------------------------- */

/* C = alpha op(A) op(B) + beta C, row-major; op(X) = X or X^T when tX != 0.
 * op(A): M x K, op(B): K x N, C: M x N; lda/ldb/ldc are row strides.
 * Goes through cblas_sgemm. */
void tfrs__gemm(int tA, int tB, size_t M, size_t N, size_t K, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb,
                float beta, float *C, size_t ldc);
/* Plain-C reference of tfrs__gemm (tests compare the two). */
void tfrs__gemm_ref(int tA, int tB, size_t M, size_t N, size_t K, float alpha,
                    const float *A, size_t lda, const float *B, size_t ldb,
                    float beta, float *C, size_t ldc);
/* 1 if all n values are finite. */
int  tfrs__all_finite(const float *x, size_t n);

/* ---- vocab.c ----------------------------------------------------------- */

/* Lookup of a byte string of `len` bytes (need not be NUL-terminated).
 * Returns the id, or -1 if unknown and the vocabulary has no OOV bucket. */
int32_t tfrs__vocab_lookup_bytes(const tfrs_vocab *v, const char *s, size_t len);
/* Deep copy. */
int tfrs__vocab_clone(tfrs_vocab **out, const tfrs_vocab *v);
/* The mask token or NULL. */
const char *tfrs__vocab_mask_token(const tfrs_vocab *v);
/* Known token i (0 <= i < num_tokens) and its length in bytes. */
const char *tfrs__vocab_token_at(const tfrs_vocab *v, size_t i, size_t *len);
/* 64-bit FNV-1a of n bytes. */
uint64_t tfrs__fnv1a64(const void *data, size_t n);
/* 1 if the n bytes are valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int tfrs__utf8_valid(const char *s, size_t n);

/* ---- dataset.c: text parsers from memory ------------------------------- */

/* The file loaders read their files and run the same code as these.  `name`
 * stands for the file in messages ("name:line: reason"); buf need not be
 * NUL-terminated (it is copied).  opts as for the file loaders; bad_lines
 * counts the lines skipped by that one call. */
typedef struct tfrs__ml_items tfrs__ml_items;   /* parsed u.item */
int    tfrs__parse_items(tfrs__ml_items **out, const char *buf, size_t len, const char *name,
                         tfrs_load_options *opts);
size_t tfrs__ml_items_count(const tfrs__ml_items *items);
void   tfrs__ml_items_free(tfrs__ml_items *items);     /* NULL is a no-op */
/* u.data joined with items (which caches pool ids: one call at a time). */
int    tfrs__parse_ratings(tfrs_dataset **out, tfrs__ml_items *items, const char *buf,
                           size_t len, const char *name, tfrs_load_options *opts);
int    tfrs__load_delimited_buffer(tfrs_dataset **out, const char *buf, size_t len,
                                   const char *name, tfrs_delimited_options *opts);

/* ---- embedding.c ------------------------------------------------------- */

struct tfrs_embedding {
    size_t   rows, dim;
    float   *w;         /* rows * dim                                      */
    float   *g;         /* rows * dim, zero outside the touched rows       */
    int32_t *touched;   /* rows touched since the last zero_grad, <= rows  */
    size_t   ntouched;
    uint8_t *mark;      /* rows flags: 1 if in touched[]                   */
};

/* Allocates an embedding without initialising the weights (zeroed). */
int  tfrs__embedding_alloc(tfrs_embedding **out, size_t rows, size_t dim);
/* Uniform(-0.05, 0.05) from the generator, row-major order. */
void tfrs__embedding_init(tfrs_embedding *e, tfrs__rng *r);
/* Forward/backward without id checks (ids validated by the caller).
 * out: [n, dim] written at row stride ld (>= dim), so that several
 * embeddings can be gathered side by side into one concatenated matrix. */
void tfrs__embedding_gather(const tfrs_embedding *e, const int32_t *ids, size_t id_stride,
                            size_t n, float *out, size_t ld);
void tfrs__embedding_scatter_add(tfrs_embedding *e, const int32_t *ids, size_t id_stride,
                                 size_t n, const float *dout, size_t ld);

/* ---- dense.c ----------------------------------------------------------- */

struct tfrs_dense {
    size_t          in, out;
    tfrs_activation act;
    float          *w, *b;     /* in * out, out                             */
    float          *dw, *db;   /* gradients, same shapes                    */
    float          *scratch;   /* public backward's copy of dy              */
    size_t          scratch_cap;
};

int  tfrs__dense_alloc(tfrs_dense **out, size_t in, size_t units, tfrs_activation act);
/* Glorot-uniform kernel from the generator (row-major), zero bias. */
void tfrs__dense_init(tfrs_dense *d, tfrs__rng *r);
/* y = act(x W + b)    x:[B,in]  W:[in,out]  b:[out]  y:[B,out] */
void tfrs__dense_forward(const tfrs_dense *d, const float *x, size_t B, float *y);
/* dy is rewritten in place as act'(y) * dy; dW += x^T dy; db += sum_B dy;
 * dx = dy W^T when dx != NULL (overwritten, not accumulated). */
void tfrs__dense_backward(tfrs_dense *d, const float *x, const float *y, float *dy,
                          size_t B, float *dx);
/* As tfrs__dense_backward, adding the gradients into dw and db instead of
 * the layer's own (one set per training thread). */
void tfrs__dense_backward_to(const tfrs_dense *d, const float *x, const float *y, float *dy,
                             size_t B, float *dx, float *dw, float *db);
int  tfrs__act_valid(int act);
/* y = act(y) elementwise over n values. */
void tfrs__act_apply(tfrs_activation act, float *y, size_t n);

/* ---- ranking.c --------------------------------------------------------- */

/* Loss of n examples divided by `denom` (the batch size; n for a whole
 * batch, more when the batch is processed in slices) and its gradient
 * dpred = d loss / d pred (may be NULL); weights may be NULL.  Summing the
 * slices' losses gives the batch's mean loss.  Inputs are not validated. */
void tfrs__task_loss(const tfrs_task_options *o, const float *pred, const float *labels,
                     const float *weights, size_t n, size_t denom, double *loss, float *dpred);
/* Validates options (returns a status and message). */
int  tfrs__task_options_check(const tfrs_task_options *o);

/* ---- optimizer.c ------------------------------------------------------ */

/* One trainable block.  Dense blocks (emb == NULL) update all n values;
 * sparse blocks (emb != NULL) update only emb's touched rows. */
typedef struct tfrs__param {
    float          *w;         /* n values                                   */
    float          *g;         /* gradient, n values                         */
    size_t          n;
    tfrs_embedding *emb;       /* sparse block: rows of emb->dim             */
    float          *slot[2];   /* Adagrad: acc; SGD: velocity; Adam: m, v    */
    float           l2;        /* regularizer strength (dense kernels)       */
} tfrs__param;

typedef struct tfrs__optimizer {
    tfrs_optimizer_options o;
    uint64_t               steps;   /* updates applied                      */
    size_t                 nparams;
    tfrs__param           *params;
    float                 *backup;  /* old values of the rows being updated */
    size_t                 backup_cap;
} tfrs__optimizer;

int  tfrs__optimizer_options_check(const tfrs_optimizer_options *o);
/* Allocates and initialises the slots of every param for o->kind. */
int  tfrs__optimizer_init_slots(tfrs__optimizer *opt);
void tfrs__optimizer_free(tfrs__optimizer *opt);
/* Number of slot arrays per param for a kind (0, 1 or 2). */
int  tfrs__optimizer_num_slots(tfrs_optimizer_kind kind);
/* Makes room so that steps touching up to batch_rows rows of each
 * embedding do not allocate. */
int  tfrs__optimizer_reserve(tfrs__optimizer *opt, size_t batch_rows);
/* Applies one update from the gradients.  If any updated value (weight or
 * slot) would be non-finite, changes nothing and returns TFRS_ENONFINITE. */
int  tfrs__optimizer_step(tfrs__optimizer *opt);

/* ---- step.c ------------------------------------------------------------ */

/* Runs training steps of a built model with `threads` threads (see step.c).
 * The stepper borrows the model and must be freed before it. */
typedef struct tfrs__stepper tfrs__stepper;
#define TFRS__MAX_THREADS 256
int  tfrs__stepper_create(tfrs__stepper **out, tfrs_model *m, int threads);
void tfrs__stepper_free(tfrs__stepper *s);
/* One optimizer step on B rows of checked ids.  *scores_out gets the B
 * scores of the forward pass (valid until the next run). */
int  tfrs__stepper_run(tfrs__stepper *s, const int32_t *ids, const float *labels,
                       const float *weights, size_t B, double *loss, const float **scores_out);

/* ---- model.c ----------------------------------------------------------- */

typedef struct tfrs__feature {
    char           *name;
    tfrs_vocab     *vocab;
    size_t          dim;
    tfrs_embedding *emb;      /* NULL before build                        */
} tfrs__feature;

typedef struct tfrs__layer {
    size_t          units;
    tfrs_activation act;
    float           l2;
    tfrs_dense     *dense;    /* NULL before build                        */
} tfrs__layer;

struct tfrs_model {
    uint64_t          seed;
    int               built;
    size_t            nfeat, feat_cap;
    tfrs__feature    *feat;
    size_t            nlayers, layer_cap;
    tfrs__layer      *layers;
    tfrs_task_options task;
    char             *label;       /* label column name                  */
    char             *weight;      /* weight column name or NULL         */
    tfrs__optimizer   opt;         /* params/slots exist after build     */
    size_t            concat_dim;  /* sum of the features' dims          */
    uint64_t          epochs_done; /* fit epochs completed (shuffle RNG) */
    struct tfrs__stepper *stepper; /* one-thread step engine, lazily   */
    uint64_t          weights_gen; /* bumped whenever the weights change */
    /* Serving cache (predict.c): one feature's embeddings projected through
     * its rows of the first dense kernel; built by rank under cache_lock. */
    pthread_mutex_t   cache_lock;
    struct tfrs__proj_cache **cache;  /* nfeat entries, or NULL          */
};

/* Frees the serving caches (predict.c). */
void tfrs__model_free_caches(tfrs_model *m);

/* TFRS_ESTATE unless built. */
int    tfrs__model_check_built(const tfrs_model *m, const char *fn);
/* Floats of workspace for a B-row batch: forward only, or forward and
 * backward (train != 0). */
size_t tfrs__model_ws_floats(const tfrs_model *m, size_t B, int train);
/* TFRS_ERANGE if any of the n * F ids is outside its feature's table. */
int    tfrs__model_check_ids(const tfrs_model *m, const int32_t *ids, size_t n, const char *fn);
/* Forward pass of B rows (ids checked) in workspace ws; returns the B
 * scores; *x0 (may be NULL) gets the concatenated embeddings and ys[j] the
 * output of dense layer j. */
float *tfrs__model_forward(const tfrs_model *m, const int32_t *ids, size_t B, float *ws,
                           float **x0, float **ys);
/* Rows per block when a const call (predict, rank, test_step) processes a
 * large n in pieces with per-call scratch. */
#define TFRS__BLOCK 1024
/* Rows per slice of a training batch: each slice goes through forward and
 * backward while its activations are still in cache; the gradients of the
 * slices add up to the batch's gradient. */
#ifndef TFRS__SLICE
#define TFRS__SLICE 256
#endif
/* Per-call forward scratch for B rows: *ws (tfrs__model_ws_floats(m, B, 0)
 * floats) and *ys (nlayers pointers); both freed with tfrs__free. */
int    tfrs__scratch_alloc(const tfrs_model *m, size_t B, float **ws, float ***ys);
/* Call after changing any weight (invalidates derived caches). */
void   tfrs__model_weights_changed(tfrs_model *m);
/* sum_j l2_j * sum(W_j^2) */
double tfrs__model_regularization(const tfrs_model *m);

/* ---- serialize.c ------------------------------------------------------- */

/* The system calls of tfrs_model_save, in the order a successful save makes
 * them: open (the temporary file, again on EEXIST), write (until all bytes
 * are out), fsync, close, rename, then open, fsync and close of the
 * directory; on a failure before the rename, close and unlink clean up.
 * Each behaves as its POSIX namesake (return value and errno).  Tests swap
 * them to inject failures and crashes at every step. */
typedef struct tfrs__io {
    int     (*open)(const char *path, int flags, mode_t mode);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int     (*fsync)(int fd);
    int     (*close)(int fd);
    int     (*rename)(const char *from, const char *to);
    int     (*unlink)(const char *path);
} tfrs__io;

/* Copies *io into the table tfrs_model_save uses; NULL restores the POSIX
 * functions.  Global and unsynchronised: call it only while no save runs. */
void tfrs__set_io(const tfrs__io *io);

#endif /* TFRS_INTERNAL_H */
