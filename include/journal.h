/* SPDX-License-Identifier: MIT */
#ifndef M2D_JOURNAL_H
#define M2D_JOURNAL_H

/*
 * The journal of a migration, in the work directory: what was created in
 * the target and, per folder, its state and the identity of the source it
 * was converted from.  It is what makes a migration exactly-once: a folder
 * marked done with the same source identity is not converted again; a
 * folder caught converting (a run was killed) is converted again and
 * replaces whatever was left.
 *
 * The file (WORK/journal) is append-only, one event a line, each line
 * written whole; user lines and forgets are fdatasync'd before the call
 * returns, folder lines only by journal_sync() (the engine syncs once
 * before it installs a batch of folders: a "converting" line must be
 * durable before its folder can appear; a lost "done" line only costs a
 * second conversion).  It is replayed
 * when opened (a torn last line is ignored) and rewritten compactly by
 * journal_compact() (temp file + rename).  Thread-safe.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "m2d-error.h"

/* Where a folder's source was when it was converted. */
struct journal_source {
	unsigned long long dev, ino;
	long long size;
	long long mtime_sec, mtime_nsec;
	uint64_t checksum;		/* of every byte read */
};

enum journal_state {
	JOURNAL_CONVERTING,
	JOURNAL_DONE,
};

struct journal_folder {
	char *user;
	char *listed;			/* "user/mail/Sent", "user/INBOX" */
	char *target;			/* maildir root */
	char *dirname;			/* "" INBOX, ".a.b" */
	enum journal_state state;
	struct journal_source source;
	unsigned long messages;
	unsigned long uidvalidity, nextuid;
};

struct journal_user {
	char *user;
	char *target;			/* maildir root we created */
};

struct journal;

/* Open (creating) WORK_DIR/journal and replay it. */
int journal_open(const char *work_dir, struct journal **journal_r,
		 struct m2d_error *err);
void journal_close(struct journal **journal);

/* A user's maildir root we created. */
int journal_user_created(struct journal *j, const char *user,
			 const char *target, struct m2d_error *err);

/* Before converting: the folder may now be half-there. */
int journal_converting(struct journal *j, const char *user,
		       const char *listed, const char *target,
		       const char *dirname, struct m2d_error *err);
/* After the folder is in place and synced. */
int journal_done(struct journal *j, const struct journal_folder *folder,
		 struct m2d_error *err);
/* Make every line written so far durable. */
int journal_sync(struct journal *j, struct m2d_error *err);

/* Forget a folder or a user (after clear removed it). */
int journal_forget(struct journal *j, const char *user, const char *listed,
		   struct m2d_error *err);

/* The folder's entry (a copy the caller owns: journal_folder_free), or
 * NULL.  Returns 1 found / 0 not. */
int journal_find(struct journal *j, const char *user, const char *listed,
		 struct journal_folder *copy_r);
void journal_folder_free(struct journal_folder *f);

/* Snapshots for iteration (caller frees with the _free functions). */
size_t journal_folders(struct journal *j, struct journal_folder **list_r);
void journal_folders_free(struct journal_folder *list, size_t n);
size_t journal_users(struct journal *j, struct journal_user **list_r);
void journal_users_free(struct journal_user *list, size_t n);

/* Rewrite the file with only the current state. */
int journal_compact(struct journal *j, struct m2d_error *err);

#endif
