/*
 * testutil.h - helpers shared by the Check test programs (tests/testutil.c).
 *
 * Only the public API is used here, so that the black-box tests stay
 * black-box.  Helpers that assert do so with Check and may only be called
 * from a test or a checked fixture; those that run elsewhere (in main, in a
 * forked child, under the failing allocator) return a status instead.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRSC_TESTUTIL_H
#define TFRSC_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "tfrsc.h"

#define TU_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- suites and the runner ------------------------------------------------ */

/* A TCase holding a single test. */
typedef struct tu_case {
    const char  *name;
    const TTest *test;
} tu_case;

/* Adds one TCase per entry, named after it. */
void tu_add_cases(Suite *s, const tu_case *cases, size_t n);

/* A tu_case named after its test. */
#define TU_CASE(test) { #test, (test) }

/* Adds TCase `name` with the tests listed and returns it (to add fixtures or
 * a timeout to):  tc = tu_tcase(s, "adam", adam_step, adam_bias);  */
#define tu_tcase(s, name, ...) tu_tcase_((s), (name), __VA_ARGS__, (const TTest *)NULL)
TCase *tu_tcase_(Suite *s, const char *name, ...);

/* Runs the suite (CK_NORMAL) and frees it: EXIT_SUCCESS when nothing failed. */
int tu_run(Suite *s);

/* Runs suite `name` made of one TCase per case, as tu_run(). */
int tu_run_cases(const char *name, const tu_case *cases, size_t n);

/* ---- a counting, failing allocator ------------------------------------------ */

/* The books of tu_allocator().  Blocks carry a header, so that frees of
 * foreign or already freed pointers are counted rather than passed to free().
 * All calls are serialised: the allocator may be used by several threads. */
typedef struct tu_alloc {
    long fail_at;     /* first call (malloc or realloc) to fail, -1 for none */
    int  persistent;  /* fail every call from fail_at on                    */
    long calls;       /* malloc and realloc calls since tu_alloc_arm()      */
    long injected;    /* failures injected since tu_alloc_arm()             */
    long mallocs;     /* malloc calls                                       */
    long reallocs;    /* realloc calls                                      */
    long frees;       /* frees of non-NULL pointers                         */
    long live;        /* blocks allocated and not freed                     */
    long bad_frees;   /* frees and reallocs of pointers that were not blocks */
} tu_alloc;

/* Static or automatic initialiser: clear books, nothing fails. */
#define TU_ALLOC_INIT { -1, 0, 0, 0, 0, 0, 0, 0, 0 }

void *tu_malloc(size_t size, void *payload);
void *tu_realloc(void *ptr, size_t size, void *payload);
void  tu_free(void *ptr, void *payload);

/* Clears the books: nothing fails. */
void tu_alloc_reset(tu_alloc *a);

/* Call number k (counted from now) fails, and with persistent every call
 * after it too; k < 0: none fails.  Restarts calls and injected. */
void tu_alloc_arm(tu_alloc *a, long k, int persistent);

/* The next k calls succeed and every one after them fails; k < 0: none does.
 * Unlike tu_alloc_arm() the call count goes on. */
void tu_alloc_budget(tu_alloc *a, long k);

/* A copy of the books taken under the allocator's lock (while other threads
 * may be allocating). */
tu_alloc tu_alloc_snapshot(const tu_alloc *a);

/* The allocator keeping the books in *a, with realloc_fn or without (the
 * library then emulates realloc). */
tfrs_allocator tu_allocator(tu_alloc *a, int with_realloc);

/* Clears *a and installs tu_allocator(a, with_realloc); asserts. */
void tu_alloc_install(tu_alloc *a, int with_realloc);

/* Clears *a and installs tu_allocator(a, 1) with allocation number k failing
 * (k < 0: none); tu_oom_end() checks that every block was returned and
 * restores the default allocator. */
void tu_oom_begin(tu_alloc *a, long k);
void tu_oom_end(const tu_alloc *a);

/* ---- a temporary directory and files ---------------------------------------- */

/* The directory made by tu_tmpdir_make(), under $TMPDIR or /tmp. */
extern char tu_tmpdir[512];

/* mkdtemp; 0 or -1 (no assertion, for main).  tu_tmpdir_make asserts. */
int  tu_tmpdir_try_make(void);
void tu_tmpdir_make(void);

/* Removes the files in tu_tmpdir and the directory; a fixture teardown. */
void tu_tmpdir_remove(void);

/* tu_tmpdir/name, in one of 4 static buffers used in turn. */
char *tu_tmp_path(const char *name);

/* The whole file, malloc'd (with one spare byte); asserts. */
unsigned char *tu_read_file(const char *path, size_t *len);

/* Writes n bytes to path: 0 or -1 (no assertion). */
int tu_write_file(const char *path, const void *data, size_t n);

/* Writes n bytes (or, for tu_write_text, a string) and asserts it worked. */
void tu_write_bytes(const char *path, const void *data, size_t n);
void tu_write_text(const char *path, const char *text);

/* Write tu_tmpdir/name (asserting) and return its path (tu_tmp_path). */
const char *tu_tmp_write(const char *name, const void *data, size_t n);
const char *tu_tmp_write_text(const char *name, const char *text);

/* ---- MovieLens ---------------------------------------------------------- */

/* The MovieLens 100K directory (one with u.data): $TFRSC_DATA or
 * $TFRSC_DATA/ml-100k, else data/ml-100k, else ../shared/data/ml-100k
 * (relative to the source tree, the tests' working directory); NULL when
 * none has it. */
const char *tu_movielens_dir(void);

/* ---- datasets and models ------------------------------------------------ */

/* A column of tu_dataset_new(). */
typedef struct tu_column {
    const char      *name;
    tfrs_column_type type;
} tu_column;

/* Fills in row r: its strings (in column order, up to TU_ROW_STRINGS of up
 * to TU_ROW_CHARS - 1 bytes) and floats. */
#define TU_ROW_STRINGS 4
#define TU_ROW_CHARS   64
typedef void (*tu_row_fn)(size_t r, char (*strings)[TU_ROW_CHARS], float *floats, void *arg);

/* A dataset with the columns given and `rows` rows made by row (which may be
 * NULL for none).  The first failing call's status; *out is NULL then. */
int tu_dataset_new(tfrs_dataset **out, const tu_column *cols, size_t ncols, size_t rows,
                   tu_row_fn row, void *arg);

#define TU_MAX_FEATURES 4
#define TU_MAX_LAYERS   4

/* A model: the calls of tu_model_new(), in this order. */
typedef struct tu_model_spec {
    uint64_t seed;
    struct {
        const char       *name;
        const tfrs_vocab *vocab;
        size_t            dim;
    } features[TU_MAX_FEATURES];             /* up to the first name NULL  */
    struct {
        size_t          units;
        tfrs_activation act;
        float           l2;
    } dense[TU_MAX_LAYERS];                  /* up to the first units 0    */
    struct {
        int                 set;             /* 0: keep the model's default */
        tfrs_optimizer_kind kind;
        float               learning_rate;   /* 0: the kind's default       */
        float               momentum;
    } optimizer;
    const tfrs_task_options *task;           /* NULL: not set              */
    const char *label, *weight;              /* label NULL: not set        */
    int         no_build;                    /* configure only             */
} tu_model_spec;

/* Creates, configures and (unless spec->no_build) builds a model.  The first
 * failing call's status; *out is NULL then.  No assertion, so that it may run
 * under a failing allocator or in a child process. */
int tu_model_new(tfrs_model **out, const tu_model_spec *spec);

#endif
