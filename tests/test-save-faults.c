/*
 * test-save-faults.c - tfrs_model_save under I/O failures and crashes.
 *
 * Every system call of a save goes through the tfrs__io table (internal.h),
 * which this program replaces with hooks that count the calls ("steps") and
 * act at a chosen step k:
 *   - fail it with EIO or ENOSPC, or make a write short and fail the next;
 *   - interrupt it with EINTR (the save must retry and succeed);
 *   - kill the process with SIGKILL just before or just after it (in a child).
 * For every step of a save over an existing model file, the file must then
 * hold exactly the old bytes (failure or crash before the rename) or exactly
 * the new model's bytes (after it), the status and message must be right,
 * and no temporary file or descriptor may be left behind (except the
 * temporary file of a killed process).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fileio.h"
#include "testutil.h"

/* ---- the injection hooks ---------------------------------------------- */

enum op { OP_OPEN, OP_WRITE, OP_FSYNC, OP_CLOSE, OP_RENAME, OP_UNLINK };
static const char *const op_names[] = { "open", "write", "fsync", "close", "rename", "unlink" };

enum fault {
    F_NONE,
    F_ERRNO,        /* fail step k with inj.err, doing nothing              */
    F_SHORT,        /* write k: write half, then fail the next with inj.err  */
    F_EINTR,        /* step k returns EINTR (close: after closing, as Linux) */
    F_KILL_BEFORE,  /* SIGKILL just before step k                           */
    F_KILL_AFTER    /* SIGKILL just after step k                            */
};

#define MAX_STEPS 8192

static struct {
    int        steps;          /* calls made so far                        */
    int        target;         /* the step to act on (-1: none)            */
    enum fault fault;
    int        err;            /* errno for F_ERRNO and F_SHORT            */
    int        fail_next_write;
    int        fail_unlink;    /* cleanup's unlink fails with EACCES       */
    int        dir_fsync_einval;
    size_t     chunk;          /* writes move at most chunk bytes (0: all) */
    enum op    trace[MAX_STEPS];
    int        dir[MAX_STEPS]; /* fsync and close: 1 if on a directory      */
} inj;

static void inj_reset(size_t chunk)
{
    memset(&inj, 0, sizeof(inj));
    inj.target = -1;
    inj.chunk = chunk;
}

static int is_dir(int fd)
{
    struct stat st;

    return fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Counts the call; returns the errno to fail with (0: go ahead). */
static int enter(enum op op, int fd)
{
    int k = inj.steps++;

    if (k < MAX_STEPS) {
        inj.trace[k] = op;
        inj.dir[k] = is_dir(fd);
    }
    if (k != inj.target)
        return 0;
    switch (inj.fault) {
    case F_KILL_BEFORE:
        raise(SIGKILL);
        return 0;
    case F_ERRNO:
        return inj.err;
    case F_EINTR:
        return op == OP_CLOSE ? 0 : EINTR;
    default:
        return 0;
    }
}

/* After the real call of step k (for F_KILL_AFTER and close's EINTR). */
static long leave(long rc, enum op op)
{
    int k = inj.steps - 1;

    if (k == inj.target && inj.fault == F_KILL_AFTER)
        raise(SIGKILL);
    if (k == inj.target && inj.fault == F_EINTR && op == OP_CLOSE) {
        errno = EINTR;
        return -1;
    }
    return rc;
}

static int hook_open(const char *path, int flags, mode_t mode)
{
    int e = enter(OP_OPEN, -1);

    if (e != 0) {
        errno = e;
        return -1;
    }
    return (int)leave(open(path, flags, mode), OP_OPEN);
}

static ssize_t hook_write(int fd, const void *buf, size_t n)
{
    int k = inj.steps, e = enter(OP_WRITE, fd);
    ssize_t w;

    if (e != 0 || inj.fail_next_write) {
        errno = e != 0 ? e : inj.err;
        return -1;
    }
    if (inj.chunk != 0 && n > inj.chunk)
        n = inj.chunk;
    if (k == inj.target && inj.fault == F_SHORT) {
        n = n > 1 ? n / 2 : n;
        inj.fail_next_write = 1;
    }
    w = write(fd, buf, n);
    return w < 0 ? w : (ssize_t)leave(w, OP_WRITE);
}

static int hook_fsync(int fd)
{
    int e = enter(OP_FSYNC, fd);

    if (e != 0) {
        errno = e;
        return -1;
    }
    if (inj.dir_fsync_einval && is_dir(fd)) {
        errno = EINVAL;
        return -1;
    }
    return (int)leave(fsync(fd), OP_FSYNC);
}

static int hook_close(int fd)
{
    int e = enter(OP_CLOSE, fd);

    if (e != 0) {
        /* An error from close still releases the descriptor. */
        close(fd);
        errno = e;
        return -1;
    }
    return (int)leave(close(fd), OP_CLOSE);
}

static int hook_rename(const char *from, const char *to)
{
    int e = enter(OP_RENAME, -1);

    if (e != 0) {
        errno = e;
        return -1;
    }
    return (int)leave(rename(from, to), OP_RENAME);
}

static int hook_unlink(const char *path)
{
    int e = enter(OP_UNLINK, -1);

    if (e == 0 && inj.fail_unlink)
        e = EACCES;
    if (e != 0) {
        errno = e;
        return -1;
    }
    return (int)leave(unlink(path), OP_UNLINK);
}

static const tfrs__io hooks = {
    hook_open, hook_write, hook_fsync, hook_close, hook_rename, hook_unlink
};

/* ---- fixtures --------------------------------------------------------- */

/* Teardown: the real system calls again, and no temporary directory. */
static void remove_tmpdir(void)
{
    tfrs__set_io(NULL);
    tu_tmpdir_remove();
}

/* Number of temporary files (".tfrsc-*.tmp") in tu_tmpdir; removes them if
 * asked. */
static int temp_files(int remove)
{
    DIR *d = opendir(tu_tmpdir);
    struct dirent *e;
    int n = 0;
    char p[sizeof(tu_tmpdir) + 256];

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, ".tfrsc-", 7) != 0 || len < 4 ||
            strcmp(e->d_name + len - 4, ".tmp") != 0)
            continue;
        n++;
        if (remove) {
            snprintf(p, sizeof(p), "%s/%s", tu_tmpdir, e->d_name);
            ck_assert_int_eq(unlink(p), 0);
        }
    }
    closedir(d);
    return n;
}

/* Open descriptors of this process (-1 without /proc). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static int file_is(const char *path, const unsigned char *b, size_t n)
{
    size_t len;
    unsigned char *got = tu_read_file(path, &len);
    int same = len == n && memcmp(got, b, n) == 0;

    free(got);
    return same;
}

static const char *users[] = { "u0", "u1", "u2", "u3", "u4", "u5" };
static const char *movies[] = { "Heat (1995)", "Paper Lanterns (1995)", "Fargo (1996)" };

/* A small model (a file of about 2.5 KB) after `steps` Adam steps. */
static tfrs_model *new_model(int steps)
{
    tfrs_vocab *vu = NULL, *vm = NULL;
    tfrs_model *m = NULL;
    int32_t ids[8 * 2];
    float labels[8];

    ck_assert_int_eq(tfrs_vocab_create(&vu, users, 6, NULL), TFRS_OK);
    ck_assert_int_eq(tfrs_vocab_create(&vm, movies, 3, NULL), TFRS_OK);
    {
        const tu_model_spec spec = {
            .seed = 7,
            .features = { { "user_id", vu, 4 }, { "movie_title", vm, 3 } },
            .dense = { { 8, TFRS_ACT_RELU, 0.0f }, { 1, TFRS_ACT_LINEAR, 0.0f } },
            .optimizer = { 1, TFRS_OPT_ADAM, 0.05f, 0.0f },
        };
        ck_assert_int_eq(tu_model_new(&m, &spec), TFRS_OK);
    }
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 8; i++) {
            ids[2 * i] = (i + s) % 7;
            ids[2 * i + 1] = (3 * i + s) % 4;
            labels[i] = (float)(1 + (i + 2 * s) % 5);
        }
        ck_assert_int_eq(tfrs_model_train_step(m, ids, labels, NULL, 8, NULL), TFRS_OK);
    }
    tfrs_vocab_free(vu);
    tfrs_vocab_free(vm);
    return m;
}

/* The scenario: `path` holds an old model file; `model` is to be saved over
 * it with `flags`, and `new_bytes` is what that save writes (a reference
 * save to another path). */
typedef struct scenario {
    tfrs_model    *model;
    unsigned       flags;
    const char    *path;
    unsigned char *old_bytes, *new_bytes;
    size_t         old_len, new_len;
    size_t         chunk;      /* write chunk of the hooks                  */
    int            nsteps;     /* steps of a successful save               */
    int            rename_step;
    enum op        trace[MAX_STEPS];
} scenario;

static void scenario_init(scenario *s, size_t chunk)
{
    tfrs_model *old = new_model(1);
    const char *ref = tu_tmp_path("reference.safetensors");

    memset(s, 0, sizeof(*s));
    s->model = new_model(5);
    s->flags = TFRS_SAVE_OPTIMIZER;
    s->path = tu_tmp_path("model.safetensors");
    s->chunk = chunk;
    ck_assert_int_eq(tfrs_model_save(old, s->path, 0), TFRS_OK);
    s->old_bytes = tu_read_file(s->path, &s->old_len);
    tfrs_model_free(old);
    ck_assert_int_eq(tfrs_model_save(s->model, ref, s->flags), TFRS_OK);
    s->new_bytes = tu_read_file(ref, &s->new_len);
    ck_assert_int_eq(unlink(ref), 0);
    ck_assert(s->old_len != s->new_len || memcmp(s->old_bytes, s->new_bytes, s->old_len) != 0);

    /* A successful save through the hooks: the steps, in order, are
     * open, write x w, fsync, close, rename, open, fsync, close. */
    inj_reset(chunk);
    tfrs__set_io(&hooks);
    ck_assert_int_eq(tfrs_model_save(s->model, s->path, s->flags), TFRS_OK);
    tfrs__set_io(NULL);
    ck_assert(file_is(s->path, s->new_bytes, s->new_len));
    s->nsteps = inj.steps;
    ck_assert_int_le(s->nsteps, MAX_STEPS);
    memcpy(s->trace, inj.trace, sizeof(s->trace));
    {
        int w = s->nsteps - 7, k = 0;

        ck_assert_int_ge(w, 1);
        if (chunk != 0)
            ck_assert_int_eq(w, (int)((s->new_len + chunk - 1) / chunk));
        ck_assert_int_eq(inj.trace[k++], OP_OPEN);
        for (int i = 0; i < w; i++)
            ck_assert_int_eq(inj.trace[k++], OP_WRITE);
        ck_assert(!inj.dir[k]);
        ck_assert_int_eq(inj.trace[k++], OP_FSYNC);
        ck_assert_int_eq(inj.trace[k++], OP_CLOSE);
        s->rename_step = k;
        ck_assert_int_eq(inj.trace[k++], OP_RENAME);
        ck_assert_int_eq(inj.trace[k++], OP_OPEN);
        ck_assert(inj.dir[k]);
        ck_assert_int_eq(inj.trace[k++], OP_FSYNC);
        ck_assert(inj.dir[k]);
        ck_assert_int_eq(inj.trace[k++], OP_CLOSE);
        ck_assert_int_eq(k, s->nsteps);
    }
    tu_write_bytes(s->path, s->old_bytes, s->old_len);
}

static void scenario_free(scenario *s)
{
    tfrs_model_free(s->model);
    free(s->old_bytes);
    free(s->new_bytes);
}

/* One save through the hooks with the fault `f` at step k; checks the
 * outcome and puts the old file back. */
static void run_fault(const scenario *s, int k, enum fault f, int err)
{
    int fds = open_fds(), rc;
    const char *msg;

    inj_reset(s->chunk);
    inj.target = k;
    inj.fault = f;
    inj.err = err;
    tfrs__set_io(&hooks);
    rc = tfrs_model_save(s->model, s->path, s->flags);
    tfrs__set_io(NULL);
    msg = tfrs_last_error();
    ck_assert_msg(temp_files(0) == 0, "step %d (%s), fault %d: temporary file left", k,
                  op_names[inj.trace[k]], (int)f);
    ck_assert_int_eq(open_fds(), fds);
    if (f == F_EINTR) {
        ck_assert_msg(rc == TFRS_OK, "step %d (%s): EINTR not retried: %s", k,
                      op_names[inj.trace[k]], msg);
        ck_assert(file_is(s->path, s->new_bytes, s->new_len));
        ck_assert_int_eq(inj.steps, s->nsteps + (inj.trace[k] != OP_CLOSE));
    } else {
        ck_assert_msg(rc == TFRS_EIO, "step %d (%s), fault %d: status %d", k,
                      op_names[inj.trace[k]], (int)f, rc);
        ck_assert_msg(strstr(msg, s->path) != NULL, "message without the path: %s", msg);
        ck_assert_msg(strstr(msg, strerror(err)) != NULL, "message without the error: %s", msg);
        if (k <= s->rename_step) {
            ck_assert_msg(file_is(s->path, s->old_bytes, s->old_len),
                          "step %d (%s): old file changed", k, op_names[inj.trace[k]]);
        } else {
            /* The directory sync failed after the rename: new file, EIO. */
            ck_assert(file_is(s->path, s->new_bytes, s->new_len));
            ck_assert_ptr_nonnull(strstr(msg, "may not survive a crash"));
        }
    }
    tu_write_bytes(s->path, s->old_bytes, s->old_len);
}

static void every_step_fails(size_t chunk)
{
    scenario s;
    int faults = 0;

    scenario_init(&s, chunk);
    for (int k = 0; k < s.nsteps; k++) {
        run_fault(&s, k, F_ERRNO, EIO);
        run_fault(&s, k, F_ERRNO, ENOSPC);
        run_fault(&s, k, F_EINTR, 0);
        faults += 3;
        if (k >= 1 && k <= s.rename_step - 3) {   /* a write */
            ck_assert_int_eq(s.trace[k], OP_WRITE);
            run_fault(&s, k, F_SHORT, EIO);
            run_fault(&s, k, F_SHORT, ENOSPC);
            faults += 2;
        }
    }
    ck_assert_int_ge(faults, 3 * 8);
    scenario_free(&s);
}

START_TEST(every_step_fails_one_write)
{
    every_step_fails(0);
}
END_TEST

START_TEST(every_step_fails_chunked_writes)
{
    every_step_fails(500);
}
END_TEST

/* Writes that move one byte at a time still produce the whole file. */
START_TEST(short_writes_complete)
{
    scenario s;

    scenario_init(&s, 1);
    ck_assert_int_eq((size_t)s.nsteps, s.new_len + 7);
    scenario_free(&s);
}
END_TEST

/* A temporary name that already exists is skipped, not overwritten. */
START_TEST(temporary_name_taken)
{
    scenario s;

    scenario_init(&s, 0);
    inj_reset(0);
    inj.target = 0;
    inj.fault = F_ERRNO;
    inj.err = EEXIST;
    tfrs__set_io(&hooks);
    ck_assert_int_eq(tfrs_model_save(s.model, s.path, s.flags), TFRS_OK);
    tfrs__set_io(NULL);
    ck_assert_int_eq(inj.steps, s.nsteps + 1);
    ck_assert_int_eq(inj.trace[1], OP_OPEN);
    ck_assert(file_is(s.path, s.new_bytes, s.new_len));
    ck_assert_int_eq(temp_files(0), 0);
    scenario_free(&s);
}
END_TEST

/* File systems that cannot sync a directory (EINVAL) do not fail a save. */
START_TEST(directory_sync_unsupported)
{
    scenario s;

    scenario_init(&s, 0);
    inj_reset(0);
    inj.dir_fsync_einval = 1;
    tfrs__set_io(&hooks);
    ck_assert_int_eq(tfrs_model_save(s.model, s.path, s.flags), TFRS_OK);
    tfrs__set_io(NULL);
    ck_assert(file_is(s.path, s.new_bytes, s.new_len));
    scenario_free(&s);
}
END_TEST

/* When the cleanup fails too, the first error is the one reported. */
START_TEST(cleanup_failure_reports_first_error)
{
    scenario s;
    int fds;

    scenario_init(&s, 0);
    fds = open_fds();
    inj_reset(0);
    inj.target = 2;                 /* the fsync of the temporary file */
    inj.fault = F_ERRNO;
    inj.err = EIO;
    inj.fail_unlink = 1;
    tfrs__set_io(&hooks);
    ck_assert_int_eq(tfrs_model_save(s.model, s.path, s.flags), TFRS_EIO);
    tfrs__set_io(NULL);
    ck_assert_int_eq(inj.trace[2], OP_FSYNC);
    ck_assert_int_eq(inj.trace[inj.steps - 1], OP_UNLINK);
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), "cannot sync"));
    ck_assert_ptr_nonnull(strstr(tfrs_last_error(), strerror(EIO)));
    ck_assert(file_is(s.path, s.old_bytes, s.old_len));
    ck_assert_int_eq(open_fds(), fds);
    ck_assert_int_eq(temp_files(1), 1);
    scenario_free(&s);
}
END_TEST

/* ---- crashes ---------------------------------------------------------- */

/* A child saves s->model over s->path and is killed just before or just
 * after step k (k == nsteps: not killed).  The path must then hold the old
 * file if the rename had not happened, else the new one, and load. */
static void run_crash(const scenario *s, int k, enum fault f)
{
    int status, renamed;
    pid_t pid;
    tfrs_model *l = NULL;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        inj_reset(s->chunk);
        inj.target = k;
        inj.fault = f;
        tfrs__set_io(&hooks);
        _exit(tfrs_model_save(s->model, s->path, s->flags) == TFRS_OK ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (k < s->nsteps) {
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "step %d: child not killed (status %d)", k, status);
    } else {
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    renamed = f == F_KILL_BEFORE ? k > s->rename_step : k >= s->rename_step;
    if (renamed)
        ck_assert_msg(file_is(s->path, s->new_bytes, s->new_len),
                      "step %d, fault %d: not the new file", k, (int)f);
    else
        ck_assert_msg(file_is(s->path, s->old_bytes, s->old_len),
                      "step %d, fault %d: not the old file", k, (int)f);
    ck_assert_int_eq(tfrs_model_load(&l, s->path), TFRS_OK);
    tfrs_model_free(l);
    /* A killed save may leave its temporary file (between its creation and
     * the rename), never more than that one. */
    ck_assert_int_le(temp_files(1), 1);
    tu_write_bytes(s->path, s->old_bytes, s->old_len);
}

static void crash_at_every_step(size_t chunk)
{
    scenario s;

    scenario_init(&s, chunk);
    for (int k = 0; k <= s.nsteps; k++)
        run_crash(&s, k, F_KILL_BEFORE);
    for (int k = 0; k < s.nsteps; k++)
        run_crash(&s, k, F_KILL_AFTER);
    scenario_free(&s);
}

START_TEST(crash_at_every_step_one_write)
{
    crash_at_every_step(0);
}
END_TEST

START_TEST(crash_at_every_step_chunked_writes)
{
    crash_at_every_step(500);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("save-faults");
    TCase *tc;

    tc = tu_tcase(s, "injected failures", every_step_fails_one_write,
                  every_step_fails_chunked_writes, short_writes_complete, temporary_name_taken,
                  directory_sync_unsupported, cleanup_failure_reports_first_error);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, remove_tmpdir);
    tc = tu_tcase(s, "crashes", crash_at_every_step_one_write,
                  crash_at_every_step_chunked_writes);
    tcase_add_checked_fixture(tc, tu_tmpdir_make, remove_tmpdir);
    return s;
}

int main(void)
{
    return tu_run(faults_suite());
}
