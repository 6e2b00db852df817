/* SPDX-License-Identifier: MIT */
#ifndef M2D_VERIFY_H
#define M2D_VERIFY_H

/*
 * Compare one mbox folder with the maildir folder made from it: every
 * message present once, in order, with the UID UW gave it, its bytes
 * (checksums), its flags and its date.  Read-only on both sides.
 */

#include <stdbool.h>

#include "m2d-error.h"
#include "uw-format.h"

struct verify_result {
	unsigned long source_messages;
	unsigned long target_messages;
	unsigned long differences;	/* messages that differ */
	char first[512];		/* the first difference, translated;
					   it may hold a file name as it is:
					   print it through str_esc() */
};

/*
 * MAILDIR is the user's maildir root, DIRNAME the folder ("" INBOX).
 * Returns 0 when they match, 1 when they differ (RESULT says how), -1
 * when one side cannot be read (ERR).
 */
int verify_folder(const char *mbox, const char *maildir, const char *dirname,
		  bool mboxrd, struct verify_result *result,
		  struct m2d_error *err);

/* A folder's source as the plan has it. */
struct verify_source {
	const char *path;
	enum uw_format format;	/* UW_FMT_MBOX (or UNKNOWN): an mbox */
	const char *spool;	/* an mbx/mix INBOX's spool file, or NULL */
	bool mboxrd;
};

/* verify_folder() for a source in any format: an mbx, mix or MMDF
 * folder is read as its reader serves it (UIDs, bytes, flags, dates),
 * an INBOX's spool mail after it with the UIDs that follow. */
int verify_folder_source(const struct verify_source *src,
			 const char *maildir, const char *dirname,
			 struct verify_result *result, struct m2d_error *err);

#endif
