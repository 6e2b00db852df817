/* SPDX-License-Identifier: MIT */
#ifndef M2D_MBOX_READER_H
#define M2D_MBOX_READER_H

/*
 * Reading an mbox as UW-IMAP wrote it, one message at a time, in memory
 * that does not grow with the file.
 *
 *   mbox_reader_open()   opens and checks the first line
 *   mbox_reader_next()   moves to the next message: 1 got one, 0 end, -1 error
 *   mbox_reader_read()   the message's bytes, in chunks: 1 chunk, 0 end, -1
 *   mbox_reader_close()
 *
 * Everything follows UW's own library, c-client (imap-2007 unix.c), as
 * measured with it (tests/tools/cclient-dump.c):
 *  - a file is a mailbox when, after any CR, LF, space and tab of which
 *    the last is a LF, its first 1023 bytes hold a whole valid From_ line
 *    (unix_isvalid_fd); those leading bytes belong to no message;
 *  - a "From " line starts a message only when it has the shape of UW's
 *    VALID (from_line_parse_uw(): the date need not read as one) and it
 *    ends in a LF; in a header (before the first empty line) no line
 *    does;
 *  - the header ends with, and keeps, its first empty line; the body ends
 *    before the next From_ line, its last line dropped when empty;
 *  - UW's fields (Status, X-Status, X-Keywords, X-UID, X-IMAP,
 *    X-IMAPbase: the name in any case, with their continuation lines) are
 *    removed, every other field kept (Content-Length too); a CR that is
 *    not followed by a LF is dropped.
 * The bytes handed out are what UW served (with LF line ends where the
 * file had them).  The folder-internal pseudo-message (a valid X-IMAP in
 * message 1) is never handed out; its data is in mbox_reader_meta().
 *
 * The source is opened read-only (O_NOFOLLOW) and never changed.  All
 * memory belongs to the reader unless stated otherwise.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "from-line.h"
#include "m2d-error.h"

/* What UW's Status and X-Status headers say. */
/* The letters are read alike in both headers (Status: ROD is \Deleted). */
enum uw_flag {
	UW_SEEN = 1 << 0,	/* R */
	UW_OLD = 1 << 1,	/* O (no longer \Recent) */
	UW_ANSWERED = 1 << 2,	/* A */
	UW_FLAGGED = 1 << 3,	/* F */
	UW_DRAFT = 1 << 4,	/* T */
	UW_DELETED = 1 << 5,	/* D */
};

/* c-client's limits on keywords: NUSERFLAGS and MAXUSERFLAG. */
#define MBOX_MAX_KEYWORDS 30
#define MBOX_MAX_KEYWORD_LEN 50

struct m2d_hash;

struct mbox_reader_settings {
	bool mboxrd;		/* unescape one '>' of ">From " (mboxrd) */
	size_t max_header;	/* header bytes kept apart; 0 = 8 MiB */
	/*
	 * Reading only what was appended to a folder read before: the file
	 * descriptor is positioned at the old end, which must be a From_
	 * line; the first message there is not message 1 (no folder data),
	 * sequence numbers start after SEQ_BASE, and the checksum goes on
	 * from HASH_START (the old bytes' state) so it covers the file.
	 */
	bool continuation;
	unsigned long seq_base;
	const struct m2d_hash *hash_start;
	/* A message larger than this in the file is refused (M2D_ERR_
	 * MALFORMED, with its line); 0 = no limit. */
	unsigned long long max_message;
	/* A sparse file (holes) is refused unless this is set: its holes
	 * would become real bytes in the target. */
	bool allow_sparse;
};

/* The default of max_message for callers that want one: 256 MiB. */
#define MBOX_DEFAULT_MAX_MESSAGE (256ULL * 1024 * 1024)

/* The folder's own data, from X-IMAP (pseudo-message) or X-IMAPbase. */
struct mbox_meta {
	bool have_base;			/* message 1 had a valid X-IMAP or
					 * X-IMAPbase (UIDVALIDITY not 0, a
					 * last UID) */
	bool pseudo;			/* ... and it was the pseudo-message */
	unsigned long uidvalidity;
	unsigned long uidlast;
	/* c-client's prevuid when message 1 was the pseudo-message: the
	 * X-UID it took there before an X-UID reset its UIDVALIDITY and an
	 * X-IMAP came (else 0).  The next X-UID must be above it. */
	unsigned long uid_prev;
	/* The declared keywords, ' '-separated, in order, as c-client kept
	 * them (at most 30, each at most 50 bytes), without a later one
	 * equal to an earlier one but for case (no message can have it).
	 * Set once message 1 is read ("" for none); kept when an X-UID
	 * there dropped the rest (have_base false), as c-client keeps them. */
	char *keywords;
};

struct mbox_msg {
	unsigned long seq;		/* 1-based, real messages only */
	long long offset;		/* byte offset of the From_ line */
	unsigned long line;		/* line number of the From_ line */
	struct from_line from;		/* sender points into the reader */
	unsigned int flags;		/* enum uw_flag */
	/* X-UID headers UW believed (after a valid X-IMAP(base), not in the
	 * pseudo-message): how many (2 or more made UW renumber), and the
	 * first one's number (its leading digits; 0 made UW renumber).  In
	 * message 1 the reader applies c-client's rules itself, as it reads
	 * (a reset there drops the folder's data: have_base false, or a
	 * later X-IMAP(base) read afresh): at most 1 there. */
	unsigned int uid_count;
	unsigned long uid;
	/* The X-Keywords words that name declared keywords (any case), in
	 * the declared spelling and order, ' '-separated, or "". */
	const char *keywords;
	/* The message has X-UID or X-Keywords at all (UW's data). */
	bool has_uw_data;
};

struct mbox_reader;

/*
 * Open PATH relative to DIRFD (AT_FDCWD for the current directory).
 * Refuses anything but a regular file (symlinks are not followed).
 * Returns 0, or -1 with ERR: M2D_ERR_NOT_MBOX when c-client would not
 * open it as a mailbox (an empty file is a valid, empty mbox),
 * M2D_ERR_UNSAFE when it is sparse (unless allow_sparse).
 */
int mbox_reader_open(int dirfd, const char *path,
		     const struct mbox_reader_settings *set,
		     struct mbox_reader **reader_r, struct m2d_error *err);

/* The same over an open file descriptor (not closed by the reader). */
int mbox_reader_open_fd(int fd, const char *path,
			const struct mbox_reader_settings *set,
			struct mbox_reader **reader_r, struct m2d_error *err);

/*
 * Is the start of a file (its first N bytes; N = 0: empty) a mailbox to
 * c-client (unix_isvalid_fd)?  1 yes (*SKIP_R: the leading blank bytes
 * that belong to no message), 0 empty, -1 no.  Only the first
 * MBOX_HEAD_MAX bytes count.
 */
#define MBOX_HEAD_MAX 1023
int mbox_head_check(const void *buf, size_t n, size_t *skip_r);

/* Folder data from message 1; valid until close. */
const struct mbox_meta *mbox_reader_meta(const struct mbox_reader *reader);

/*
 * Move to the next message (skipping what was not read of this one).
 * Returns 1 and fills MSG (valid until the next call), 0 at the end, -1 on
 * error.  At the end the file is checked again: a size or mtime that moved
 * while we read gives M2D_ERR_CHANGED.
 */
int mbox_reader_next(struct mbox_reader *reader, struct mbox_msg *msg,
		     struct m2d_error *err);

/*
 * The next chunk of the current message: 1 with DATA/LEN set (valid until
 * the next call), 0 when the message is complete, -1 on error.
 */
int mbox_reader_read(struct mbox_reader *reader, const unsigned char **data_r,
		     size_t *len_r, struct m2d_error *err);

/* Bytes of the source consumed so far, and its size at open. */
long long mbox_reader_offset(const struct mbox_reader *reader);
long long mbox_reader_size(const struct mbox_reader *reader);

/* A checksum of every byte read (complete once next() returned 0), and
 * the file as it was when opened. */
uint64_t mbox_reader_checksum(const struct mbox_reader *reader);
const struct stat *mbox_reader_stat(const struct mbox_reader *reader);

void mbox_reader_close(struct mbox_reader **reader);

#endif
