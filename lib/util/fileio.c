/*
 * util/fileio.c - whole-file reads and atomic file replacement.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every system call of a replacement goes through a table (tfrs__io) that
 * tests swap to inject failures, as SQLite's aSyscall[] does.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>     /* rename */
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/rng.h"
#include "util/status.h"

/* ---- atomic file replacement ------------------------------------------ */

static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static const tfrs__io io_posix = { sys_open, write, fsync, close, rename, unlink };
static tfrs__io io = { sys_open, write, fsync, close, rename, unlink };

void tfrs__set_io(const tfrs__io *ops)
{
    io = ops != NULL ? *ops : io_posix;
}

/* The calls below retry on EINTR, except close: after close fails with
 * EINTR the descriptor is gone on Linux (and unspecified by POSIX before
 * 2024), so retrying could close another thread's file.  We only close
 * after a successful fsync, so the data are safe either way. */

static int io_open(const char *path, int flags, mode_t mode)
{
    int fd;

    while ((fd = io.open(path, flags, mode)) < 0 && errno == EINTR)
        ;
    return fd;
}

static int io_fsync(int fd)
{
    int rc;

    while ((rc = io.fsync(fd)) < 0 && errno == EINTR)
        ;
    return rc;
}

static int io_close(int fd)
{
    return io.close(fd) < 0 && errno != EINTR ? -1 : 0;
}

static int io_rename(const char *from, const char *to)
{
    int rc;

    while ((rc = io.rename(from, to)) < 0 && errno == EINTR)
        ;
    return rc;
}

/* Cleanup after an earlier failure: errors are not reported (the first
 * error is), and errno is preserved. */
static void io_discard(int fd, const char *tmp)
{
    int e = errno;

    if (fd >= 0)
        io.close(fd);
    if (tmp != NULL)
        while (io.unlink(tmp) < 0 && errno == EINTR)
            ;
    errno = e;
}

/* Writes all n bytes: short writes continue where they stopped, EINTR is
 * retried, and a write that makes no progress is an I/O error. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = io.write(fd, p, n > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0 || (size_t)w > n) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The temporary file of a save: TEMP_PREFIX, TEMP_RANDOM random letters
 * and digits, TEMP_SUFFIX, in the target's directory.  Its length does not
 * depend on the target's name, so that a target name of up to NAME_MAX
 * bytes can be saved (a suffix on the target's name could not). */
#define TEMP_PREFIX ".tfrsc-"
#define TEMP_RANDOM 12
#define TEMP_SUFFIX ".tmp"
#define TEMP_LEN (sizeof(TEMP_PREFIX) - 1 + TEMP_RANDOM + sizeof(TEMP_SUFFIX) - 1)

/* Creates dir_prefix (dlen bytes: the target's directory with its final
 * slash, or nothing) followed by a random temporary name, exclusively, like
 * mkstemp, but with mode 0666 so that the umask applies as it would to a
 * file opened with fopen (mkstemp forces 0600).  tmp has room for
 * dlen + TEMP_LEN + 1 bytes. */
static int open_temp(char *tmp, const char *dir_prefix, size_t dlen)
{
    static const char chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static _Thread_local uint64_t counter;
    char *rnd = tmp + dlen + sizeof(TEMP_PREFIX) - 1;
    struct timespec ts;
    tfrs__rng r;

    memcpy(tmp, dir_prefix, dlen);
    memcpy(tmp + dlen, TEMP_PREFIX, sizeof(TEMP_PREFIX) - 1);
    memcpy(rnd + TEMP_RANDOM, TEMP_SUFFIX, sizeof(TEMP_SUFFIX));   /* with the NUL */
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t x = 0;
        int fd;

        clock_gettime(CLOCK_REALTIME, &ts);
        tfrs__rng_seed(&r, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                       ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts ^ ++counter);
        for (int i = 0; i < TEMP_RANDOM; i++) {
            if (i % 10 == 0)        /* 62^10 < 2^64: ten characters per draw */
                x = tfrs__rng_next(&r);
            rnd[i] = chars[x % 62];
            x /= 62;
        }
        fd = io_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* fsync of the directory holding path, so that the rename is durable.
 * File systems that cannot sync directories (EINVAL) are not an error.
 * Returns 0 or an errno value; *step names the call that failed. */
static int sync_dir(const char *path, char *dir, const char **step)
{
    const char *slash = strrchr(path, '/');
    int fd, err = 0;

    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    *step = "open its directory";
    if ((fd = io_open(dir, O_RDONLY | O_CLOEXEC, 0)) < 0)
        return errno;
    *step = "sync its directory";
    if (io_fsync(fd) < 0 && errno != EINVAL)
        err = errno;
    if (io_close(fd) < 0 && err == 0) {
        *step = "close its directory";
        err = errno;
    }
    return err;
}

/* Until the rename, a failure removes the temporary file and leaves path
 * alone.  After it, path holds the new file; a failing directory sync
 * means the rename may not survive a power loss, which is reported as
 * TFRS_EIO too (see tfrs_model_save in tfrsc.h). */
int tfrs__write_atomic(const char *path, const char *who, const unsigned char *buf, size_t len)
{
    size_t plen = strlen(path), dlen;
    const char *slash = strrchr(path, '/');
    char *tmp = NULL, *dir = NULL;
    const char *step = "create a temporary file for";
    int fd = -1, err = 0, rc = TFRS_OK;

    dlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    tmp = tfrs__malloc(dlen + TEMP_LEN + 1);
    dir = tfrs__malloc(plen + 2);
    if (tmp == NULL || dir == NULL) {
        rc = tfrs__fail(TFRS_ENOMEM, "%s: out of memory", who);
        goto done;
    }
    if ((fd = open_temp(tmp, path, dlen)) < 0) {
        err = errno;
        goto no_file;
    }
    step = "write";
    if (write_all(fd, buf, len) < 0)
        goto io_error;
    step = "sync";
    if (io_fsync(fd) < 0)
        goto io_error;
    step = "close";
    if (io_close(fd) < 0) {
        fd = -1;        /* whatever close reports, the descriptor is gone */
        goto io_error;
    }
    fd = -1;
    step = "rename the temporary file onto";
    if (io_rename(tmp, path) < 0)
        goto io_error;
    if ((err = sync_dir(path, dir, &step)) != 0)
        rc = tfrs__fail(TFRS_EIO, "%s: '%s' was replaced, but cannot %s, so the "
                        "replacement may not survive a crash: %s", who, path, step, strerror(err));
    goto done;
io_error:
    err = errno;
    io_discard(fd, tmp);
no_file:
    rc = tfrs__fail(TFRS_EIO, "%s: cannot %s '%s': %s", who, step, path, strerror(err));
done:
    tfrs__free(tmp);
    tfrs__free(dir);
    return rc;
}

/* ---- whole-file reads ------------------------------------------------- */

static const char *file_type(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "a special file";
}

int tfrs__file_open(tfrs__file *f, const char *path, const char *who)
{
    struct stat st;
    int err;

    f->fd = -1;
    f->size = 0;
    f->path = path;
    f->who = who;
    /* O_NONBLOCK: opening a FIFO that has no writer must not wait for one. */
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0 || fstat(f->fd, &st) < 0) {
        err = errno;
        tfrs__file_close(f);
        return tfrs__fail(TFRS_EIO, "%s: cannot read '%s': %s", who, path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        tfrs__file_close(f);
        return tfrs__fail(TFRS_EIO, "%s: '%s' is %s, not a regular file", who, path,
                          file_type(st.st_mode));
    }
    if (st.st_size < 0 || (uint64_t)st.st_size >= SIZE_MAX) {
        tfrs__file_close(f);
        return tfrs__fail(TFRS_EIO, "%s: '%s' is too large", who, path);
    }
    f->size = (size_t)st.st_size;
    return TFRS_OK;
}

int tfrs__file_read(tfrs__file *f, void *buf, size_t n)
{
    unsigned char *b = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(f->fd, b + got, n - got > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int err = k < 0 ? errno : EIO;  /* k == 0: the file shrank while we read it */
            return tfrs__fail(TFRS_EIO, "%s: cannot read '%s': %s", f->who, f->path,
                              strerror(err));
        }
        got += (size_t)k;
    }
    return TFRS_OK;
}

int tfrs__file_seek(tfrs__file *f, uint64_t offset)
{
    if (offset > (uint64_t)f->size || lseek(f->fd, (off_t)offset, SEEK_SET) < 0)
        return tfrs__fail(TFRS_EIO, "%s: cannot seek to byte %llu of '%s': %s", f->who,
                          (unsigned long long)offset, f->path,
                          offset > (uint64_t)f->size ? "past its end" : strerror(errno));
    return TFRS_OK;
}

int tfrs__file_read_at(const tfrs__file *f, uint64_t offset, void *buf, size_t n)
{
    unsigned char *b = buf;
    size_t got = 0;

    while (got < n) {
        size_t want = n - got > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : n - got;
        ssize_t k = pread(f->fd, b + got, want, (off_t)(offset + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int err = k < 0 ? errno : EIO;  /* k == 0: the file shrank while we read it */
            return tfrs__fail(TFRS_EIO, "%s: cannot read '%s': %s", f->who, f->path,
                              strerror(err));
        }
        got += (size_t)k;
    }
    return TFRS_OK;
}

void tfrs__file_close(tfrs__file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int tfrs__read_file(const char *path, const char *who, unsigned char **buf, size_t *len)
{
    tfrs__file f;
    unsigned char *b;
    int rc;

    *buf = NULL;
    *len = 0;
    if ((rc = tfrs__file_open(&f, path, who)) != TFRS_OK)
        return rc;
    b = tfrs__malloc(f.size + 1);
    if (b == NULL) {
        tfrs__file_close(&f);
        return tfrs__fail(TFRS_ENOMEM, "%s: out of memory for '%s' (%zu bytes)", who, path,
                          f.size);
    }
    rc = tfrs__file_read(&f, b, f.size);
    tfrs__file_close(&f);
    if (rc != TFRS_OK) {
        tfrs__free(b);
        return rc;
    }
    b[f.size] = '\0';
    *buf = b;
    *len = f.size;
    return TFRS_OK;
}
