/* SPDX-License-Identifier: MIT */
#ifndef M2D_ROLLBACK_H
#define M2D_ROLLBACK_H

/*
 * Rollback: back from Dovecot to UW-IMAP without losing a message.
 *
 * After cutover Postfix delivers into the maildirs and users file and flag
 * mail there.  Before UW-IMAP sees the mboxes again, every message that
 * reached a maildir folder after cutover is appended to the folder's mbox
 * (a folder made after cutover becomes a new mbox file), as UW and
 * Postfix would have written it (mbox-append.h: a From_ line, the header
 * without the fields c-client takes as its own, UW's status block from
 * the maildir flags and keywords, ">From " quoting; Content-Length is
 * kept: c-client serves it as it is and does not cut a message at it),
 * under the dotlock (MBOX.lock), flock() (UW's) and an fcntl() write lock
 * (Postfix's), at the end of the file only; on any failure the file is
 * cut back to its size before, so the old bytes and the mbox stay valid.
 * One folder: rollback-folder.h.
 *
 * Which messages are new: the journal has each folder's nextuid at its
 * last conversion; a maildir message with a UID below it came from the
 * mbox; one at or above it, or not yet in dovecot-uidlist, is new.  What
 * was appended is recorded in WORK/rollback/USER/FOLDER (written whole:
 * temp file, fsync, rename; each name one escaped line, so no byte of a
 * maildir name can forge a line), so a second run appends nothing twice,
 * and a run killed while appending is cut back and done again by the
 * next, once the bytes before the cut match the checksum the record
 * took of them (nothing is cut otherwise).  A record it cannot have
 * written is refused, its file and line named.
 *
 * Everything below the maildir and the home is the user's: each file is
 * opened through sf_open_read() (no symlink, no FIFO, no device; a size
 * limit from fstat: dovecot-uidlist 64 MB, dovecot-keywords and
 * subscriptions 1 MB, ~/.mailboxlist 4 MB, a message max_message_size,
 * owned by the user and not sparse), and read in bounded pieces.
 *
 * UIDs: UW resets a folder's UIDVALIDITY (every client downloads it all
 * again) when an X-UID is above the last UID of its X-IMAP/X-IMAPbase
 * header (imap-2007 unix.c, unix_parse: "UID %lu greater than last
 * %lu"), and that header lies in the old bytes we do not rewrite.  So
 * messages appended to an mbox with old content carry no X-UID: UW gives
 * them last+1, last+2 ... in file order, which are Dovecot's UIDs when
 * none of the new messages was expunged in between.  Into an mbox that
 * is empty (a folder made after cutover, or an empty one), the first
 * message carries X-IMAPbase with Dovecot's UIDVALIDITY and every message
 * its X-UID: there the UIDs stay exactly Dovecot's.
 *
 * Keywords: UW knows those its X-IMAP/X-IMAPbase declares, no others
 * (imap-2007's c-client, libc-client2007e, ignores an undeclared keyword
 * in X-Keywords when it opens the folder and drops it when it rewrites
 * it).  The declaration is in the old bytes, so a new message's keyword
 * that the mbox does not declare is written but counted in the report:
 * under UW it will be gone.  A new mbox declares every keyword.
 *
 * Flag changes made after cutover on old messages are not written into
 * the old bytes: they are counted per folder and reported, as are old
 * messages expunged in Dovecot (they stay in the mbox).
 *
 * The core never prints: it reports through the callback.
 */

#include <stdbool.h>

#include "journal.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "rollback-folder.h"


struct rollback_totals {
	unsigned long users, folders, failed;
	unsigned long appended, created, flags_changed, expunged;
	unsigned long keywords_lost;
	unsigned long subscribed;	/* lines added to ~/.mailboxlist */
	unsigned long refused;		/* files refused, not read: a
					   subscriptions file of a maildir
					   (a FIFO, symlink, giant, sparse),
					   a source (skipped) */
};

struct rollback_settings {
	const struct m2d_config *cfg;
	const char *const *users;	/* NULL-terminated; NULL = every user
					   in the journal */
	bool dry_run;			/* count and report, write nothing */
	void (*report)(const struct rollback_folder_report *r, void *ctx);
	void *ctx;
};

/*
 * Carry the mail delivered after cutover back into the mboxes, for the
 * users of SET (their folders from JOURNAL, their homes and owners from
 * the plan of SET->cfg).  Returns 0 when every folder is done, 1 when some
 * failed (reported; the others are done), -1 when it could not start.
 * Delivery into the maildirs and Dovecot must be stopped meanwhile (the
 * locks keep UW and Postfix away from the mbox, not Dovecot from the
 * maildir).
 */
int rollback_mail(const struct rollback_settings *set,
		  struct journal *journal, struct rollback_totals *totals,
		  struct m2d_error *err);

/* ---- the whole rollback ---- */

enum rollback_step {
	ROLLBACK_HOLD,		/* hold local delivery (pf_hold) */
	ROLLBACK_STOP_DOVECOT,	/* stop Dovecot: nobody changes a maildir */
	ROLLBACK_MAIL,		/* rollback_mail() */
	ROLLBACK_POSTFIX,	/* main.cf as before (pf_undo), reload, flush:
				   delivery into the mbox spool again */
	ROLLBACK_DOVECOT_CONF,	/* Dovecot's configuration as before */
	ROLLBACK_UW,		/* UW-IMAP enabled again */
	ROLLBACK_STEPS
};

/* Every system action is the configuration's (SET->cfg), through
 * host-actions.h: Postfix's tools, the service commands. */
struct rollback_system {
	/* a step done, or (dry run) what it would do: TEXT one line or
	 * more, translated */
	void (*step)(enum rollback_step step, const char *text, void *ctx);
};

/*
 * The rollback the runbook's admin (or the wizard's undo of the cutover)
 * runs: hold delivery, stop Dovecot, carry the mail back, then (only when
 * every folder was carried) switch Postfix back to the mbox spool and
 * release the queue into it, put Dovecot's configuration back, enable
 * UW-IMAP.  When the mail cannot all be carried, Dovecot is started again
 * and the hold released: users go on with Dovecot, nothing is switched,
 * and the next run carries only what is still missing.  Each system
 * action is host-actions.h's, from SET->cfg (Dovecot's configuration is
 * put back without a reload: it stays stopped).
 * Returns 0 done, 1 mail not all carried (nothing switched), -1 error in
 * a system step (ERR; what was done is reported through SYS->step).
 */
int rollback_run(const struct rollback_settings *set, struct journal *journal,
		 const struct rollback_system *sys,
		 struct rollback_totals *totals, struct m2d_error *err);

const char *rollback_step_name(enum rollback_step step);	/* translated */

#endif
