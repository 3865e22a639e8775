/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File-system helpers for durable state: atomic replace of a small file
 * (write temp, fsync, rename, fsync directory), directory fsync, mkdir -p,
 * whole-file reads with a size bound, and EINTR-safe full reads/writes.
 * All return 0 (or a byte count) or a negative errno.  Thread-safe.
 */
#ifndef SLUICE_FS_H
#define SLUICE_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/check.h"

/* Modes of what the store and agent create: ingested logs are private to
 * the service's user and group, whatever the umask lets through. */
#define FS_DIR_MODE 0750
#define FS_FILE_MODE 0640

SLUICE_MUST_CHECK int fs_mkdirs(const char *path, mode_t mode);
SLUICE_MUST_CHECK int fs_fsync_dir(const char *dir);
/* Replace dir/name atomically with data: readers see the old or the new
 * contents, never a mix, and the new contents survive a crash once this
 * returns 0.  The file is created FS_FILE_MODE. */
SLUICE_MUST_CHECK int fs_write_atomic(const char *dir, const char *name, const void *data,
				      size_t len);
/* Read a whole file into out (appending); -ERR_TOO_LARGE past out->max. */
SLUICE_MUST_CHECK int fs_read_file(const char *path, struct buf *out);
/* Full write/pwrite/pread loops; pread returns bytes read (short at EOF). */
SLUICE_MUST_CHECK int fs_write_full(int fd, const void *p, size_t n);
SLUICE_MUST_CHECK int fs_pwrite_full(int fd, const void *p, size_t n, off_t off);
SLUICE_MUST_CHECK ssize_t fs_pread_full(int fd, void *p, size_t n, off_t off);
/* Remove a directory tree (files and subdirectories). */
SLUICE_MUST_CHECK int fs_rmtree(const char *path);

#endif
