/*
 * test-checkpoint.c - resumable training through a checkpoint file.
 *
 * Fit 2 epochs (shuffled, seed S), save with TFRS_SAVE_OPTIMIZER; in a fresh
 * process, load, fit 1 more epoch with the same options and save again.
 * That must equal fitting 3 epochs in one go, bit for bit: the weights, the
 * optimizer slots and counters, and so the saved file's bytes.  Each of the
 * two halves runs in its own child process, forked before this process has
 * trained anything, so that no state of the first run can leak into the
 * resumed one except through the file.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "param.h"
#include "testutil.h"

#define SHUFFLE_SEED 20240817u
#define ROWS         300

/* The helpers below run in child processes too, where a failed ck_assert
 * could not unwind correctly (CK_FORK=no): they return a status instead. */

/* Row r of ROWS ratings: user "uU" (U < 22: 20 and 21 are unknown and train
 * the OOV row), item "iI" (I < 30), a rating in 1..5 that depends on both;
 * *arg is the state of the LCG drawing them. */
static void rating_row(size_t r, char (*s)[TU_ROW_CHARS], float *y, void *arg)
{
    uint32_t *x = arg;
    unsigned uu, ii;

    (void)r;
    *x = *x * 1664525u + 1013904223u;
    uu = (*x >> 8) % 22;
    *x = *x * 1664525u + 1013904223u;
    ii = (*x >> 8) % 30;
    snprintf(s[0], TU_ROW_CHARS, "u%u", uu);
    snprintf(s[1], TU_ROW_CHARS, "i%u", ii);
    y[0] = (float)(1 + (uu * 7 + ii * 3) % 5);
}

static int make_dataset(tfrs_dataset **out)
{
    static const tu_column cols[] = {
        { "user_id", TFRS_COLUMN_STRING },
        { "item_id", TFRS_COLUMN_STRING },
        { "rating", TFRS_COLUMN_FLOAT },
    };
    uint32_t x = 12345;

    return tu_dataset_new(out, cols, TU_NELEM(cols), ROWS, rating_row, &x);
}

static int make_vocab(tfrs_vocab **out, const char *prefix, int n)
{
    char buf[64][16];
    const char *toks[64];

    for (int k = 0; k < n; k++) {
        snprintf(buf[k], sizeof(buf[k]), "%s%d", prefix, k);
        toks[k] = buf[k];
    }
    return tfrs_vocab_create(out, toks, (size_t)n, NULL);
}

/* user (20 tokens + OOV, dim 6), item (30 + OOV, dim 5), dense 16 relu
 * (L2 0.001), 8 relu, 1. */
static int new_model(tfrs_model **out, tfrs_optimizer_kind kind, float momentum)
{
    tfrs_vocab *vu = NULL, *vi = NULL;
    int rc;

    *out = NULL;
    if ((rc = make_vocab(&vu, "u", 20)) == TFRS_OK && (rc = make_vocab(&vi, "i", 30)) == TFRS_OK) {
        const tu_model_spec spec = {
            .seed = 424242,
            .features = { { "user_id", vu, 6 }, { "item_id", vi, 5 } },
            .dense = { { 16, TFRS_ACT_RELU, 0.001f }, { 8, TFRS_ACT_RELU, 0.0f },
                       { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, kind, kind == TFRS_OPT_ADAGRAD ? 0.1f : 0.01f, momentum },
            .label = "rating",
        };
        rc = tu_model_new(out, &spec);
    }
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vi);
    return rc;
}

static int fit(tfrs_model *m, const tfrs_dataset *ds, int epochs)
{
    tfrs_fit_options fo;
    int rc;

    if ((rc = tfrs_fit_options_init(&fo, TFRS_FIT_OPTIONS_VERSION)) != TFRS_OK)
        return rc;
    fo.epochs = epochs;
    fo.batch_size = 32;        /* 300 rows: 9 full batches and one of 12 */
    fo.shuffle = 1;
    fo.shuffle_seed = SHUFFLE_SEED;
    return tfrs_model_fit(m, ds, &fo, NULL);
}

typedef struct job {
    tfrs_optimizer_kind kind;
    float               momentum;
    unsigned            flags;   /* of the checkpoint                       */
    const char         *in, *out;
} job;

/* Runs body(j) in a child process, which must exit with status 0. */
static void in_child(int (*body)(const job *), const job *j)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(body(j));
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed (status %d)", status);
}

/* Child 1: build, fit 2 epochs, save the checkpoint to j->in. */
static int first_two_epochs(const job *j)
{
    tfrs_model *m = NULL;
    tfrs_dataset *ds = NULL;
    int rc;

    if (new_model(&m, j->kind, j->momentum) != TFRS_OK || make_dataset(&ds) != TFRS_OK)
        rc = 1;
    else if (fit(m, ds, 2) != TFRS_OK)
        rc = 2;
    else
        rc = tfrs_model_save(m, j->in, j->flags) == TFRS_OK ? 0 : 3;
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
    return rc;
}

/* Child 2: load j->in, fit 1 more epoch, save a checkpoint to j->out. */
static int one_more_epoch(const job *j)
{
    tfrs_model *m = NULL;
    tfrs_dataset *ds = NULL;
    int rc;

    if (tfrs_model_load(&m, j->in) != TFRS_OK || make_dataset(&ds) != TFRS_OK)
        rc = 1;
    else if (m->epochs_done != 2)
        rc = 2;
    else if (fit(m, ds, 1) != TFRS_OK)
        rc = 3;
    else
        rc = tfrs_model_save(m, j->out, TFRS_SAVE_OPTIMIZER) == TFRS_OK ? 0 : 4;
    tfrs_dataset_free(ds);
    tfrs_model_free(m);
    return rc;
}

/* Resumes through a file saved with `flags`; returns 1 if the result is
 * bit-identical to 3 uninterrupted epochs (file bytes and, after loading,
 * every weight, slot and counter). */
static int resume_matches(tfrs_optimizer_kind kind, float momentum, unsigned flags)
{
    const char *ckpt = tu_tmp_path("epoch2.safetensors");
    const char *resumed = tu_tmp_path("resumed.safetensors");
    const char *straight = tu_tmp_path("straight.safetensors");
    tfrs_model *ref, *l = NULL;
    const tfrs__params *tr, *tl;
    tfrs_dataset *ds;
    unsigned char *a, *b;
    size_t na, nb;
    int same = 1;

    job j = { kind, momentum, flags, ckpt, resumed };

    in_child(first_two_epochs, &j);
    in_child(one_more_epoch, &j);

    ck_assert_int_eq(new_model(&ref, kind, momentum), TFRS_OK);
    ck_assert_int_eq(make_dataset(&ds), TFRS_OK);
    ck_assert_int_eq(fit(ref, ds, 3), TFRS_OK);
    ck_assert_uint_eq(ref->epochs_done, 3);
    ck_assert_uint_eq(ref->opt.steps, 3 * 10);
    ck_assert_int_eq(tfrs_model_load(&l, resumed), TFRS_OK);
    ck_assert_uint_eq(l->epochs_done, 3);
    tr = tfrs__model_params(ref);
    tl = tfrs__model_params(l);
    ck_assert_uint_eq(tl->n, tr->n);
    same &= l->opt.steps == ref->opt.steps;
    for (size_t p = 0; p < tr->n; p++) {
        size_t bytes = tr->p[p].n * sizeof(float);

        ck_assert_str_eq(tl->p[p].name, tr->p[p].name);
        ck_assert_uint_eq(tl->p[p].n, tr->p[p].n);
        same &= memcmp(tl->p[p].w, tr->p[p].w, bytes) == 0;
        for (int s = 0; s < tfrs__optimizer_num_slots(kind); s++)
            same &= memcmp(tl->p[p].slot[s], tr->p[p].slot[s], bytes) == 0;
    }
    ck_assert_int_eq(tfrs_model_save(ref, straight, TFRS_SAVE_OPTIMIZER), TFRS_OK);
    a = tu_read_file(resumed, &na);
    b = tu_read_file(straight, &nb);
    ck_assert_int_eq(same, na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    tfrs_model_free(l);
    tfrs_model_free(ref);
    tfrs_dataset_free(ds);
    return same;
}

START_TEST(resume_adagrad)
{
    ck_assert(resume_matches(TFRS_OPT_ADAGRAD, 0.0f, TFRS_SAVE_OPTIMIZER));
}
END_TEST

START_TEST(resume_adam)
{
    ck_assert(resume_matches(TFRS_OPT_ADAM, 0.0f, TFRS_SAVE_OPTIMIZER));
}
END_TEST

START_TEST(resume_sgd_momentum)
{
    ck_assert(resume_matches(TFRS_OPT_SGD, 0.9f, TFRS_SAVE_OPTIMIZER));
}
END_TEST

/* The comparison has teeth: without the optimizer state the resumed run
 * starts from fresh accumulators and moments, and differs. */
START_TEST(weights_only_does_not_resume)
{
    ck_assert(!resume_matches(TFRS_OPT_ADAGRAD, 0.0f, 0));
    ck_assert(!resume_matches(TFRS_OPT_ADAM, 0.0f, 0));
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tu_tcase(s, "resume in a fresh process", resume_adagrad, resume_adam,
                         resume_sgd_momentum, weights_only_does_not_resume);

    tcase_add_checked_fixture(tc, tu_tmpdir_make, tu_tmpdir_remove);
    return s;
}

int main(void)
{
    return tu_run(checkpoint_suite());
}
