/* SPDX-License-Identifier: MIT */
#ifndef M2D_MBOX_APPEND_H
#define M2D_MBOX_APPEND_H

/*
 * Appending maildir messages to the end of an mbox as UW-IMAP (c-client's
 * unix driver) and Postfix would have written them:
 *
 *   From SENDER DATE          the Return-Path's address (MAILER-DAEMON
 *                             for none or "<>"), the file's mtime,
 *                             ctime layout, local time
 *   the message's header      without the fields c-client takes as its
 *                             own and hides (Status, X-Status,
 *                             X-Keywords, X-UID, X-IMAP, X-IMAPbase, in
 *                             any case, "Status :" too); Content-Length
 *                             is kept: c-client serves it as it is
 *   X-IMAPbase: (an empty mbox's first message only) Status: X-Status:
 *   X-Keywords: X-UID:        c-client's status block (unix_xstatus)
 *   the body                  ">" before every line that begins "From "
 *                             (mboxo, as UW and Postfix write)
 *   an empty line             the separator
 *
 * The mbox is opened below its base (the home or the spool: the admin's
 * directory) without following a symlink on the way, a regular file with
 * one link, not sparse; locked as UW and Postfix lock it (MBOX.lock,
 * flock(), an fcntl() write lock); written with pwrite() at its end only,
 * never before; cut back to a size on failure.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "m2d-error.h"
#include "maildir-reader.h"
#include "plan.h"

struct dotlock;

struct mbox_append {
	char *path;			/* owned */
	const char *leaf;		/* its last component, in PATH */
	int parentfd, fd;
	struct dotlock *dotlock;
	bool created;			/* made by mbox_append_open */
	off_t size;			/* from fstat, once locked */
};

enum mbox_append_mode {
	MBOX_APPEND_READ,	/* a dry run: opened read-only, not locked
				   (only its dotlock looked at) */
	MBOX_APPEND_WRITE,	/* an existing mbox, to be written */
	MBOX_APPEND_CREATE,	/* a new mbox (its directories made as
				   needed, the user's): an existing file of
				   that name is refused (M2D_ERR_EXISTS) */
};

struct mbox_append_target {
	const char *base;		/* the admin's directory PATH is
					   below (the home, the spool) */
	const char *path;
	enum mbox_append_mode mode;
	bool mkdirs;			/* make the directories below BASE */
	int uid, gid;			/* the user's: what is created */
	bool allow_sparse;		/* cfg's allow_sparse */
};

/* Opens, checks and locks the mbox T->path into MB (to be closed by
 * mbox_append_close() in every case). */
int mbox_append_open(struct mbox_append *mb,
		     const struct mbox_append_target *t,
		     struct m2d_error *err);
/* Closes it, ending the locks; a file it CREATED is removed when
 * REMOVE_CREATED. */
void mbox_append_close(struct mbox_append *mb, bool remove_created);

/* The checksum (the journal's kind) of its first SIZE bytes into
 * *HASH_R and, when HASH2_R is not NULL, of its first SIZE2 (>= SIZE)
 * into *HASH2_R, in one pass.  Shorter: M2D_ERR_CHANGED. */
int mbox_append_checksum(const struct mbox_append *mb, long long size,
			 uint64_t *hash_r, long long size2,
			 uint64_t *hash2_r, struct m2d_error *err);
/* Whether the bytes at OFF are the start of an append ("From " or
 * "\nFrom ", or the beginning of either where the file ends). */
bool mbox_append_ours_at(const struct mbox_append *mb, long long off);
/* Cuts the mbox back to SIZE, synced. */
int mbox_append_cut(struct mbox_append *mb, long long size,
		    struct m2d_error *err);

/* ---- writing ---- */

/* Where the message files are read from and what they may be. */
struct mbox_append_source {
	const struct maildir_reader *md;
	int owner;			/* the uid every message file has */
	off_t max_message;		/* 0: no limit */
	bool allow_sparse;
};

/* The status block of one message beyond its flags. */
struct mbox_append_status {
	unsigned long uid;		/* X-UID, 0 = none */
	const char *imapbase;		/* "X-IMAPbase: ...\n" or NULL */
};

struct mbox_append_writer;

/* Begins writing at the end of MB (MB->size): a last line without its
 * newline gets one first (it would swallow the From_ line). */
int mbox_append_begin(struct mbox_append *mb,
		      const struct mbox_append_source *src,
		      struct mbox_append_writer **w_r, struct m2d_error *err);
/* The maildir message M, as UW writes one. */
int mbox_append_message(struct mbox_append_writer *w,
			const struct maildir_file *m,
			const struct mbox_append_status *st,
			struct m2d_error *err);
/* Everything written and synced (the directory too for a new mbox);
 * *END_R the new size. */
int mbox_append_finish(struct mbox_append_writer *w, long long *end_r,
		       struct m2d_error *err);
void mbox_append_writer_free(struct mbox_append_writer **w);

/* ---- UW's subscriptions ---- */

/*
 * U's ~/.mailboxlist gets the line for MBOX (its path relative to the
 * home, as UW keeps it; absolute outside the home) unless it is there:
 * the whole file again by a temp file and a rename, as UW writes it, the
 * user's and 0600 (DRY_RUN: nothing written).  Returns 1 added, 0 there
 * already, -1 ERR.
 */
int mbox_append_subscribe(const struct plan_user *u, const char *mbox,
			  bool dry_run, struct m2d_error *err);

#endif
