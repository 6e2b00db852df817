/* SPDX-License-Identifier: MIT */
#ifndef M2D_MAILDIR_WRITER_H
#define M2D_MAILDIR_WRITER_H

/*
 * Writing one Dovecot maildir folder so that nobody ever sees half of it.
 *
 * The folder is built in a staging directory inside the maildir root's
 * tmp/ (same file system, ignored by Dovecot).  Each message is created
 * in the staging new/ or cur/ under its final name, with its flags in
 * it (a large one through the staging tmp/); nothing is fsync'd per
 * message.  maildir_folder_commit() writes
 * dovecot-keywords and dovecot-uidlist (temp file + rename), syncs the
 * file system once, and only then moves the folder into place: a rename of
 * the directory for a Maildir++ folder; for INBOX (the root itself) an
 * exchange of the empty cur/ and new/ with the staged ones.
 *
 * Files are created with O_EXCL|O_NOFOLLOW below directory descriptors
 * (openat), mode 0600 (directories 0700), and owned by the mail user
 * before anything is written into them: created as the user, or chowned.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "m2d-error.h"

/* Maildir flags, in the ASCII order of their letters. */
enum maildir_flag {
	MAILDIR_DRAFT = 1 << 0,		/* D */
	MAILDIR_FLAGGED = 1 << 1,	/* F */
	MAILDIR_PASSED = 1 << 2,	/* P */
	MAILDIR_REPLIED = 1 << 3,	/* R */
	MAILDIR_SEEN = 1 << 4,		/* S */
	MAILDIR_TRASHED = 1 << 5,	/* T */
};

#define MAILDIR_MAX_KEYWORDS 26		/* letters a..z */

/* NAME (a file of cur/ or new/) is a name maildir-writer gives
 * (sf_unique_name's, then Dovecot's ",S=" and ":2," as it may rename). */
bool maildir_written_by_us(const char *name);

struct maildir_owner {
	int uid;		/* -1: leave as created */
	int gid;
};

struct maildir_folder;

/*
 * Open the maildir root ROOT, creating it (0700, owned by OWNER, its
 * parents like mkdir -p) and its cur/ new/ tmp/ when missing.  Returns
 * the directory fd; *created_r tells whether ROOT itself was made;
 * *tmpfd_r (when not NULL) gets tmp/ open.
 */
int maildir_root_open(const char *root, const struct maildir_owner *owner,
		      bool *created_r, int *tmpfd_r, struct m2d_error *err);

/*
 * Start folder DIRNAME ("" = INBOX, the root; ".a.b" for a Maildir++
 * folder) in the maildir root at ROOT (created with cur/ new/ tmp/ when
 * missing).  Refuses (M2D_ERR_EXISTS) when that folder already holds
 * messages, unless REPLACE: then the commit swaps the new folder in and
 * removes the old one.
 */
int maildir_folder_begin(const char *root, const char *dirname,
			 const struct maildir_owner *owner, bool replace,
			 struct maildir_folder **folder_r,
			 struct m2d_error *err);

/*
 * Add messages to the existing folder DIRNAME of ROOT (what was appended
 * to its mbox since it was converted): messages are written to the
 * folder's tmp/, finish prepares its dovecot-uidlist with their lines and
 * N = NEXTUID (UIDVALIDITY, GUID and the old lines kept), install moves
 * them into new/ and cur/ and then replaces the uidlist.  No keywords.
 * Freed without install, every file it made is removed.
 */
int maildir_folder_begin_append(const char *root, const char *dirname,
				const struct maildir_owner *owner,
				struct maildir_folder **folder_r,
				struct m2d_error *err);

/*
 * The keyword letter index for NAME (0 = 'a'), adding it to the folder's
 * dovecot-keywords when new.  Returns -1 when all 26 are taken.
 */
int maildir_folder_keyword(struct maildir_folder *folder, const char *name);

/* How many keywords the folder has so far. */
unsigned int maildir_folder_keyword_count(const struct maildir_folder *folder);

/*
 * Message files are created without an fchown() while ON: the calling
 * thread creates files as the folder's owner (its fsuid and fsgid are
 * the owner's: convert switches them around its loop of messages).
 */
void maildir_folder_owner_creates(struct maildir_folder *folder, bool on);

/* One message: begin, write its bytes (buffered), finish.  A message
 * that fits the buffer (256 KiB) is created at finish, under its final
 * name in the staging cur/ or new/ (open, write, futimens, close); a
 * larger one is written to the staging tmp/ and renamed. */
int maildir_msg_begin(struct maildir_folder *folder, struct m2d_error *err);
int maildir_msg_write(struct maildir_folder *folder, const void *data,
		      size_t len, struct m2d_error *err);

struct maildir_msg_info {
	unsigned long uid;	/* UID to record in dovecot-uidlist */
	unsigned int flags;	/* enum maildir_flag */
	unsigned int keywords;	/* bit i = keyword index i */
	bool recent;		/* into new/ (still \Recent) */
	time_t date;		/* INTERNALDATE: the file's mtime */
};
int maildir_msg_finish(struct maildir_folder *folder,
		       const struct maildir_msg_info *info,
		       struct m2d_error *err);

/*
 * Write dovecot-keywords and dovecot-uidlist ("3 V<uidvalidity>
 * N<nextuid> G<guid>"; with RENUMBER the UIDs become 1..n in message
 * order and NEXTUID is n+1), sync, and move the folder into place.
 */
int maildir_folder_commit(struct maildir_folder *folder,
			  unsigned long uidvalidity, unsigned long nextuid,
			  bool renumber, struct m2d_error *err);

/*
 * The same in three steps, for a caller that commits many folders with
 * one sync (group commit): finish writes dovecot-keywords and
 * dovecot-uidlist into the staging directory; sync makes the file system
 * durable (syncfs); install moves the folder into place.  Install only
 * after a sync that came after finish.
 */
int maildir_folder_finish(struct maildir_folder *folder,
			  unsigned long uidvalidity, unsigned long nextuid,
			  bool renumber, struct m2d_error *err);
int maildir_folder_sync(struct maildir_folder *folder, struct m2d_error *err);
int maildir_folder_install(struct maildir_folder *folder,
			   struct m2d_error *err);
/* The device of the staging directory (to sync each file system once). */
dev_t maildir_folder_dev(const struct maildir_folder *folder);

/* Remove the staging directory (when not committed) and free. */
void maildir_folder_free(struct maildir_folder **folder);

/* Bytes written so far (the messages' sizes). */
unsigned long long maildir_folder_bytes(const struct maildir_folder *folder);

#endif
