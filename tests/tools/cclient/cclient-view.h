/* SPDX-License-Identifier: MIT */
/*
 * cclient-view.h - a folder as UW-IMAP's own library (c-client, imap-2007)
 * shows it to an IMAP client: what tests/tools/cclient-dump and the
 * differential fuzz target (tests/fuzz/fuzz-differential.c) compare with.
 *
 * Only this file's .c includes c-client.h (old C, compiled with -w, and
 * macros such as T, NIL, ERROR that must not meet our headers).
 */
#ifndef M2D_CCLIENT_VIEW_H
#define M2D_CCLIENT_VIEW_H

#include <stddef.h>

enum ccv_flag {
	CCV_SEEN = 1 << 0,
	CCV_ANSWERED = 1 << 1,
	CCV_FLAGGED = 1 << 2,
	CCV_DRAFT = 1 << 3,
	CCV_DELETED = 1 << 4,
	CCV_RECENT = 1 << 5,
};

struct ccv_msg {
	unsigned long uid;
	unsigned int flags;		/* enum ccv_flag */
	long long date;			/* INTERNALDATE, UTC epoch */
	unsigned long size;		/* RFC822.SIZE */
	char **keywords;		/* NULL-terminated, c-client's order */
	int *kw_index;			/* each one's place among the folder's
					 * keywords (0..29) */
	unsigned char *data;		/* header and text as served (CRLF) */
	size_t len;
};

struct ccv_folder {
	int opened;			/* mail_open() gave a stream */
	char driver[32];		/* its driver: "unix", "phile", ... */
	int rdonly;			/* it opened read-only */
	unsigned long uidvalidity, uidnext, nmsgs;
	struct ccv_msg *msgs;
	char log[2048];			/* what c-client logged meanwhile */
};

/* Once per process: the "home" that names are relative to (Debian builds
 * c-client with restrictBox: no name may begin with '/' or hold "..").
 * c-client's log goes to LOG_FILE (NULL: nowhere but ccv_folder.log). */
void ccv_init(const char *home, void *log_file);

/* Open NAME (relative to the home) read-write as imapd would (c-client
 * may rewrite the file: give it a copy), read everything, close it.
 * Returns 0 (F->opened says whether it is a mailbox at all), -1 when out
 * of memory.  Free with ccv_free(). */
int ccv_read(const char *name, struct ccv_folder *f);
void ccv_free(struct ccv_folder *f);

#endif
