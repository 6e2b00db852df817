/* SPDX-License-Identifier: MIT */
#ifndef M2D_ROLLBACK_FOLDER_H
#define M2D_ROLLBACK_FOLDER_H

/*
 * One folder of a rollback (rollback.h says what and why): the messages
 * that reached the maildir folder after cutover appended to its mbox
 * (mbox-append.h), what was appended recorded so that no run appends it
 * twice and a run killed while appending is cut back by the next.
 *
 *   1. the maildir (maildir-reader.h): dovecot-uidlist, dovecot-keywords,
 *      cur/ and new/; a file with a UID below the journal's nextuid is an
 *      old message, any other is new (in Dovecot's order: by UID, the
 *      unlisted ones by date and name);
 *   2. the record WORK/rollback/USER/FOLDER: what earlier runs appended
 *      (state "pending": a run died while appending);
 *   3. the mbox: opened below its home or spool, locked; a pending append
 *      cut back once the bytes before it are those the record saw;
 *   4. its old bytes checked against the journal's checksum (the mbox we
 *      converted), its old messages read for the flag report;
 *   5. the record "pending" with the size before, the messages appended
 *      at the end, fsync, the record "done"; on a failure the mbox is cut
 *      back to its size before.
 */

#include <stdbool.h>

#include "journal.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "plan.h"

struct rollback_folder_report {
	const char *user;
	const char *name;		/* IMAP name ("INBOX", "a/b") */
	const char *mbox;		/* the mbox written (or to be) */
	bool created;			/* a new mbox file for a new folder */
	bool gone;			/* the maildir folder no longer exists:
					   nothing to carry, the mbox stays */
	unsigned long appended;		/* messages appended by this run */
	unsigned long earlier;		/* appended by an earlier run */
	unsigned long flags_changed;	/* old messages whose flags or
					   keywords changed since cutover */
	unsigned long expunged;		/* old messages gone from the
					   maildir (still in the mbox) */
	unsigned long keywords_lost;	/* appended messages with a keyword
					   the mbox does not declare: UW will
					   not show it (see below) */
	const struct m2d_error *error;	/* NULL, or why this folder failed
					   (its mbox is as it was) */
	bool subscribed;		/* a new folder subscribed in Dovecot:
					   added to ~/.mailboxlist */
	const struct m2d_error *subscribe_error;	/* NULL, or why
					   that could not be done */
	const struct m2d_error *skipped;	/* NULL, or why the source
					   of a user nothing was migrated
					   for is refused (a FIFO, another
					   user's, hard-linked...): only
					   said, nothing carried */
	bool subscriptions_refused;	/* subscribe_error: Dovecot's
					   subscriptions file was refused
					   (not read): whether the folder
					   is subscribed cannot be told */
};

struct rollback_folder {
	const struct m2d_config *cfg;
	bool dry_run;			/* count and report, write nothing */
	const struct plan_user *user;
	const char *name;		/* IMAP name */
	const char *root;		/* the user's maildir root */
	const char *dirname;		/* "" INBOX, ".a.b" */
	const char *mbox;		/* path */
	const struct journal_folder *journal;	/* NULL: new after cutover */
};

/*
 * Carries folder FO back into its mbox, counting into REP (appended,
 * earlier, created, gone, flags_changed, expunged, keywords_lost; its
 * other fields are the caller's).  Returns 0 done (or nothing to do:
 * REP->gone when the maildir folder does not exist), -1 with ERR when
 * this folder failed: its mbox is as it was.
 */
int rollback_folder(const struct rollback_folder *fo,
		    struct rollback_folder_report *rep,
		    struct m2d_error *err);

#endif
