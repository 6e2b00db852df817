/* SPDX-License-Identifier: MIT */
#ifndef M2D_CONVERT_H
#define M2D_CONVERT_H

/*
 * Convert one mbox folder into one Dovecot maildir folder: the job
 * perfect_maildir did in the runbook, done exactly.
 *
 * Every message keeps its bytes as UW served them, its flags and keywords,
 * its UID and the folder's UIDVALIDITY (when the mbox had them and they
 * are consistent; otherwise fresh ones, and a warning says so), and its
 * date (the From_ line date becomes the file's mtime, Dovecot's
 * INTERNALDATE).  The folder appears whole or not at all.
 *
 * UW's other formats (convert_settings.format: mbx, mix, MMDF) go through
 * the same writer: each message as its reader serves it (uw-format.h),
 * its UID, flags, keywords and INTERNALDATE from the format's own
 * records, the folder's UIDVALIDITY and UIDNEXT (a new UIDVALIDITY, the
 * source's mtime, where c-client would have renumbered); what UW had
 * expunged is never read.  Locks as UW took them: mbx a shared flock,
 * mix shared flocks on its .mixmeta (and index and status while read),
 * MMDF the mbox dot-lock and the kernel locks.  With SPOOL (an mbx or
 * mix INBOX) the spool file's messages follow, as UW would have moved
 * them in: UIDs from the folder's UIDNEXT on, their Status/X-Status
 * flags, no keywords (UW's snarf copied none).
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "m2d-error.h"
#include "uw-format.h"

struct convert_stats {
	unsigned long messages;		/* messages written */
	unsigned long skipped;		/* not imported: UW's pseudo-message */
	unsigned long long bytes;	/* their sizes */
	long long source_done;		/* bytes of the mbox read */
	long long source_size;		/* size of the mbox */
	unsigned long uidvalidity;
	unsigned long nextuid;
	bool uids_kept;			/* UW's UIDs and UIDVALIDITY kept */
	unsigned int keywords;		/* distinct keywords */
	unsigned long keywords_dropped;	/* beyond 26: not representable */
	/* the source as it was read (for the journal) */
	unsigned long long dev, ino;
	long long mtime_sec, mtime_nsec;
	uint64_t checksum;
};

struct convert_settings {
	const char *folder;		/* IMAP name ('/'); NULL = INBOX */
	bool mboxrd;			/* unescape one level of >From */
	bool dry_run;			/* read and count, write nothing */
	int uid, gid;			/* owner of what is written; -1 */
	bool dotlock;			/* take SOURCE.lock while reading */
	const char *source_base;	/* a prefix of MBOX below which no
					 * symlink is followed (the home) */
	bool replace;			/* replace the folder when it exists
					 * (only before cutover: what is in
					 * it is removed) */
	/* a message larger than this in the mbox fails the folder (with
	 * its line); 0 = no limit (MBOX_DEFAULT_MAX_MESSAGE is a sane one) */
	unsigned long long max_message_size;
	bool allow_sparse;		/* read a sparse mbox (refused when
					 * false: its holes would be written
					 * out in full) */
	enum uw_format format;		/* of the source; UW_FMT_UNKNOWN and
					 * UW_FMT_MBOX: an mbox */
	const char *spool;		/* mbx/mix INBOX: the spool mbox whose
					 * mail follows (NULL: none) */

	/* called now and then, and once at the end */
	void (*progress)(const struct convert_stats *stats, void *ctx);
	/* a warning that does not stop the conversion */
	void (*warning)(const struct m2d_error *warning, void *ctx);
	void *ctx;
	/* set (by a signal handler) to stop cleanly: M2D_ERR_CANCELLED */
	volatile sig_atomic_t *cancel;
};

/*
 * Convert the mbox at MBOX (a path) into the maildir root MAILDIR (created
 * when missing), folder SET->folder.  Returns 0, or -1 with ERR (nothing
 * is left in the target then).
 */
int convert_folder(const char *mbox, const char *maildir,
		   const struct convert_settings *set,
		   struct convert_stats *stats, struct m2d_error *err);

/*
 * The same, but the folder stays in its staging directory, complete with
 * its dovecot-uidlist: the caller syncs and installs it
 * (maildir_folder_sync, maildir_folder_install) and frees it; many folders
 * can then share one sync.  *STAGED_R is NULL after a dry run.
 */
struct maildir_folder;
int convert_folder_stage(const char *mbox, const char *maildir,
			 const struct convert_settings *set,
			 struct convert_stats *stats,
			 struct maildir_folder **staged_r,
			 struct m2d_error *err);

/* Where an earlier conversion of the same mbox ended (from the journal). */
struct convert_append {
	long long old_size;		/* bytes converted before */
	struct m2d_hash old_hash;	/* their checksum state */
	unsigned long old_messages;
	unsigned long last_uid;		/* nextuid - 1 */
	unsigned long uidvalidity;
};

/*
 * Only what was appended to MBOX since: the messages from FROM->old_size
 * on are added to the existing folder with UIDs after FROM->last_uid (as
 * UW gave new mail).  Returns 0 with *STAGED_R to sync and install; 1
 * when that cannot be done exactly (no From_ line there, a message with
 * its own X-UID or keywords): convert the whole folder instead; -1 error.
 * STATS->messages counts the whole folder, the checksum the whole file.
 */
int convert_folder_append(const char *mbox, const char *maildir,
			  const struct convert_settings *set,
			  const struct convert_append *from,
			  struct convert_stats *stats,
			  struct maildir_folder **staged_r,
			  struct m2d_error *err);

/*
 * The identity of a source in UW's mbx, mix or MMDF format (with its
 * SPOOL, or NULL), from stat alone, into STATS' dev, ino, source_size,
 * mtime and checksum: the checksum covers every file's inode, size,
 * mtime and ctime (a flag written in place, an index record added, a
 * rewrite each change it), so that a re-run sees any change.  Taken
 * before the source is read: what changes after is seen next time.
 * Returns 0, -1 (errno) when SOURCE cannot be examined.
 */
int convert_source_identity(const char *source, enum uw_format format,
			    const char *spool, struct convert_stats *stats);

/* UW's flags (enum uw_flag) as maildir flags (enum maildir_flag). */
unsigned int convert_maildir_flags(unsigned int uw_flags);

#endif
