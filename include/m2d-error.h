/* SPDX-License-Identifier: MIT */
#ifndef M2D_ERROR_H
#define M2D_ERROR_H

/*
 * Errors of the core library.
 *
 * The core never prints and never exits.  A function that can fail returns
 * -1 (sometimes 0/1 for "no"/"yes") and fills a struct m2d_error the caller
 * owns: what kind of failure, which file, where in it (byte offset and line
 * number, when known), which system call and errno, and a message already
 * translated into the user's language.  The caller renders it with
 * m2d_error_str().
 */

#include <stddef.h>
#include <sys/types.h>

enum m2d_err {
	M2D_OK = 0,
	M2D_ERR_SYS,		/* a system call failed: syscall + errno set */
	M2D_ERR_NOT_MBOX,	/* the file is not an mbox (bad first line) */
	M2D_ERR_MALFORMED,	/* the mbox is damaged at offset/line */
	M2D_ERR_CHANGED,	/* the source changed while we read it */
	M2D_ERR_LOCKED,		/* the source is locked by someone else */
	M2D_ERR_NAME,		/* a folder name cannot be used as it is */
	M2D_ERR_COLLISION,	/* two folder names map to one directory */
	M2D_ERR_EXISTS,		/* the target already holds that folder */
	M2D_ERR_UNSAFE,		/* symlink, hard link, device, FIFO ... */
	M2D_ERR_USAGE,		/* bad argument or setting */
	M2D_ERR_CANCELLED,	/* the caller asked us to stop */
};

#define M2D_ERROR_PATH_MAX 1024
#define M2D_ERROR_MSG_MAX 512

struct m2d_error {
	enum m2d_err code;
	int sys_errno;			/* errno, 0 when not a system error */
	char syscall[24];		/* "open", "rename", ... or "" */
	char path[M2D_ERROR_PATH_MAX];	/* file concerned, or "" */
	long long offset;		/* byte offset in path, -1 if none */
	unsigned long line;		/* 1-based line in path, 0 if none */
	char msg[M2D_ERROR_MSG_MAX];	/* translated text, no path/errno */
	/* what the callers were doing, outermost first ("alice: INBOX"),
	 * added on the way up by m2d_error_prefix(); "" if none */
	char context[M2D_ERROR_MSG_MAX];
};

void m2d_error_clear(struct m2d_error *err);

/* A failed system call on PATH (errno is read by the function). */
int m2d_error_sys(struct m2d_error *err, const char *syscall,
		  const char *path);

/* Any other failure; fmt is translated by the caller (_() around it). */
int m2d_error_set(struct m2d_error *err, enum m2d_err code, const char *path,
		  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Context on the way up: "FMT: " goes before what is there already, so
 * the outermost caller's comes first.  The error itself is kept.
 * Returns -1, so that "return m2d_error_prefix(err, ...)" passes it on. */
int m2d_error_prefix(struct m2d_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Add where in the file the failure is. */
void m2d_error_at(struct m2d_error *err, long long offset, unsigned long line);

/*
 * One line for a human: "PATH:LINE: MSG" / "SYSCALL(PATH) failed: STRERROR",
 * after the context ("CONTEXT: ...") when there is one.
 * Returns buf.
 */
const char *m2d_error_str(const struct m2d_error *err, char *buf, size_t size);

#endif
