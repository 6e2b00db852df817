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

/* A whole text file into *TEXT_R (allocated, NUL-terminated; the symlink
 * of its last component not followed; a NUL byte refused) and its stat
 * into *ST_R when not NULL.  Returns 1 read, 0 absent, -1 error. */
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
