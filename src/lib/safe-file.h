/* SPDX-License-Identifier: MIT */
#ifndef M2D_SAFE_FILE_H
#define M2D_SAFE_FILE_H

/*
 * File operations for a program that runs as root over files that users
 * control: everything relative to directory descriptors, no symlink ever
 * followed, files created with O_EXCL and owned by the mail user before
 * anything is written into them.  Each returns -1 with ERR set on failure;
 * PATH is only used in error messages.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "m2d-error.h"

/* Open directory NAME below DIRFD, refusing a symlink. Returns the fd. */
int sf_open_dir(int dirfd, const char *name, const char *path,
		struct m2d_error *err);

/* Create directory NAME (mode 0700, owned by UID/GID when not -1) and
 * open it; an existing directory is opened when EXISTING_OK. */
int sf_mkdir(int dirfd, const char *name, int uid, int gid, bool existing_ok,
	     const char *path, struct m2d_error *err);

/* Create file NAME with O_EXCL, mode 0600, owned by UID/GID. */
int sf_create(int dirfd, const char *name, int uid, int gid, const char *path,
	      struct m2d_error *err);

/*
 * THE way to open for reading a file a user may control (anything below a
 * home, the spool or a maildir): NAME below DIRFD (AT_FDCWD: NAME is a
 * path) opened O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
 * (a symlink is not followed, a FIFO does not block the open), then on
 * the descriptor: fstat, a regular file required (a FIFO, device, socket,
 * directory or symlink is refused, M2D_ERR_UNSAFE), a size above MAX_SIZE
 * (when > 0) refused before a byte is read (M2D_ERR_UNSAFE), then
 * O_NONBLOCK cleared.  *ST_R gets the stat when not NULL.  Returns the fd,
 * or -1 with ERR; errno is ENOENT when the file does not exist.  PATH is
 * for messages only (NULL: NAME).
 */
int sf_open_read(int dirfd, const char *name, off_t max_size,
		 struct stat *st_r, const char *path, struct m2d_error *err);

/* The same with FLAGS' access mode (O_RDONLY, O_RDWR; O_APPEND kept):
 * an mbox opened to be written. */
int sf_open_file(int dirfd, const char *name, int flags, off_t max_size,
		 struct stat *st_r, const char *path, struct m2d_error *err);

/* sf_open_read as a stdio stream ("r"), or NULL with ERR (errno ENOENT when
 * absent). */
FILE *sf_fopen_read(int dirfd, const char *name, off_t max_size,
		    struct stat *st_r, const char *path,
		    struct m2d_error *err);

/* SIZE bytes of FD at OFF (EINTR retried): fewer only at the end of the
 * file; -1 with errno on a read error. */
ssize_t sf_pread_full(int fd, void *buf, size_t size, off_t off);

/* True when the file FD (of stat ST) has a hole (SEEK_HOLE before its
 * end): sparse, its size is not what it holds on disk. */
bool sf_is_sparse(int fd, const struct stat *st);

/* The size limit of sf_read_text. */
#define SF_TEXT_MAX ((off_t)16 * 1024 * 1024)

/* A whole text file NAME below DIRFD (opened by sf_open_read with
 * MAX_SIZE; read no further than it even if it grows meanwhile) into
 * *TEXT_R (allocated, NUL-terminated; a NUL byte refused) and its stat
 * into *ST_R when not NULL.  Returns 1 read, 0 absent, -1 error. */
int sf_read_text_at(int dirfd, const char *name, off_t max_size,
		    char **text_r, struct stat *st_r, const char *path,
		    struct m2d_error *err);

/* sf_read_text_at(AT_FDCWD, PATH, SF_TEXT_MAX, ...). */
int sf_read_text(const char *path, char **text_r, struct stat *st_r,
		 struct m2d_error *err);

/* Replace the file PATH with TEXT (temp file beside it + rename), MODE
 * and owner UID/GID (-1: leave), the directory synced: for the admin's
 * configuration files. */
int sf_write_path(const char *path, const char *text, unsigned int mode,
		  long uid, long gid, struct m2d_error *err);

int sf_write_all(int fd, const void *data, size_t len, const char *path,
		 struct m2d_error *err);

/*
 * Open REL below the directory BASE without following any symlink on the
 * way (BASE itself is opened as it is: it is the admin's; everything
 * below may be the user's).  REL must not contain "." or "..".  Returns
 * the file's fd (FLAGS | O_NOFOLLOW) and *PARENT_R, its directory, open;
 * M2D_ERR_UNSAFE when a component is a symlink.
 */
int sf_open_below(const char *base, const char *rel, int flags, int *parent_r,
		  struct m2d_error *err);

/* Replace NAME with DATA: a temp file beside it, then rename(). */
int sf_replace_file(int dirfd, const char *name, const void *data, size_t len,
		    int uid, int gid, const char *path, struct m2d_error *err);
/* The same with the temp file fsync'd before the rename: after a crash
 * NAME is the old or the new content, never an empty file.  The caller
 * syncs the directory. */
int sf_replace_file_durable(int dirfd, const char *name, const void *data,
			    size_t len, const char *path,
			    struct m2d_error *err);

/* Remove NAME below DIRFD and everything in it; symlinks are removed,
 * never followed. Returns 0 or -1 (errno set). */
int sf_remove_tree(int dirfd, const char *name);

/* True when directory NAME below DIRFD has no entries but "." and "..". */
int sf_dir_is_empty(int dirfd, const char *name, const char *path,
		    struct m2d_error *err);

/* A name that is unique across hosts, processes, runs and threads:
 * "<sec>.M<usec>P<pid>Q<n>R<random>.<host>" (no '/' or ':'). */
void sf_unique_name(char *buf, size_t size);

/* Fill BUF with SIZE random bytes. */
void sf_random(void *buf, size_t size);

#endif
