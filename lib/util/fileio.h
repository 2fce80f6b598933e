/*
 * util/fileio.h - whole-file reads and atomic file replacement.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_FILEIO_H
#define TFRS_UTIL_FILEIO_H

#include <sys/types.h>   /* mode_t, ssize_t */

#include "util/common.h"

/* A regular file open for reading, front to back (tfrs_model_load reads
 * and checks a model file's header before it reads the rest). */
typedef struct tfrs__file {
    int         fd;
    size_t      size;       /* at open (fstat)                    */
    const char *path, *who; /* for messages                       */
} tfrs__file;

/* Opens the regular file at path: *f with its size.  Anything that is not
 * a regular file (directory, FIFO, device) is refused with TFRS_EIO without
 * blocking; so is a file that cannot be opened.  Messages start with `who`
 * (the public function) and name the file.  Nothing to close on failure. */
int  tfrs__file_open(tfrs__file *f, const char *path, const char *who);
/* Reads the next n bytes into buf: TFRS_OK, or TFRS_EIO if the file ends
 * first (it shrank) or a read fails. */
int  tfrs__file_read(tfrs__file *f, void *buf, size_t n);
/* Moves the position of the next tfrs__file_read to byte `offset` (at most
 * the size): TFRS_OK or TFRS_EIO. */
int  tfrs__file_seek(tfrs__file *f, uint64_t offset);
/* Reads the n bytes at `offset` into buf, without moving the position of
 * tfrs__file_read: TFRS_OK, or TFRS_EIO as tfrs__file_read. */
int  tfrs__file_read_at(const tfrs__file *f, uint64_t offset, void *buf, size_t n);
void tfrs__file_close(tfrs__file *f);    /* again is a no-op */

/* Reads the whole regular file at path into a tfrs__malloc'ed buffer of
 * *len + 1 bytes whose last byte is a NUL (not counted in *len).  Anything
 * that is not a regular file (directory, FIFO, device) is refused with
 * TFRS_EIO without blocking.  Messages start with `who` (the public
 * function) and name the file. */
int tfrs__read_file(const char *path, const char *who, unsigned char **buf, size_t *len);

/* Replaces the file at path with the len bytes of buf, atomically: the
 * bytes go to a new temporary file next to it, which is synced and renamed
 * over path, then the directory is synced.  Until the rename a failure
 * removes the temporary file and leaves path as it was.  Messages start
 * with `who`. */
int tfrs__write_atomic(const char *path, const char *who, const unsigned char *buf, size_t len);

/* The system calls of tfrs__write_atomic, in the order a successful save
 * makes them: open (the temporary file, again on EEXIST), write (until all
 * bytes are out), fsync, close, rename, then open, fsync and close of the
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

/* Copies *io into the table tfrs__write_atomic uses; NULL restores the
 * POSIX functions.  Global and unsynchronised: call it only while no save
 * runs. */
void tfrs__set_io(const tfrs__io *io);

#endif /* TFRS_UTIL_FILEIO_H */
