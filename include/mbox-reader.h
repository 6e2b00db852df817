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
 * Boundaries follow UW's rule: a "From " line starts a message only when
 * its date parses (from-line.h).  The bytes handed out are exactly what
 * UW served to clients: without the From_ line, without UW's internal
 * headers (X-IMAP, X-IMAPbase, X-UID, Status, X-Status, X-Keywords) and
 * Content-Length, and without the blank line the mbox adds after each
 * message.  The folder-internal pseudo-message (X-IMAP in message 1) is
 * never handed out; its data is in mbox_reader_meta().
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
enum uw_flag {
	UW_SEEN = 1 << 0,	/* Status: R */
	UW_OLD = 1 << 1,	/* Status: O (no longer \Recent) */
	UW_ANSWERED = 1 << 2,	/* X-Status: A */
	UW_FLAGGED = 1 << 3,	/* X-Status: F */
	UW_DRAFT = 1 << 4,	/* X-Status: T */
	UW_DELETED = 1 << 5,	/* X-Status: D */
};

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
};

/* The folder's own data, from X-IMAP (pseudo-message) or X-IMAPbase. */
struct mbox_meta {
	bool have_base;			/* message 1 had X-IMAP or X-IMAPbase */
	bool pseudo;			/* ... and it was the pseudo-message */
	unsigned long uidvalidity;
	unsigned long uidlast;
	char *keywords;			/* declared keywords, ' '-separated */
};

struct mbox_msg {
	unsigned long seq;		/* 1-based, real messages only */
	long long offset;		/* byte offset of the From_ line */
	unsigned long line;		/* line number of the From_ line */
	struct from_line from;		/* sender points into the reader */
	unsigned int flags;		/* enum uw_flag */
	unsigned long uid;		/* X-UID, 0 when absent or invalid */
	const char *keywords;		/* X-Keywords, ' '-separated, or "" */
};

struct mbox_reader;

/*
 * Open PATH relative to DIRFD (AT_FDCWD for the current directory).
 * Refuses anything but a regular file (symlinks are not followed).
 * Returns 0, or -1 with ERR: M2D_ERR_NOT_MBOX when the first line is not
 * a valid From_ line (an empty file is a valid, empty mbox).
 */
int mbox_reader_open(int dirfd, const char *path,
		     const struct mbox_reader_settings *set,
		     struct mbox_reader **reader_r, struct m2d_error *err);

/* The same over an open file descriptor (not closed by the reader). */
int mbox_reader_open_fd(int fd, const char *path,
			const struct mbox_reader_settings *set,
			struct mbox_reader **reader_r, struct m2d_error *err);

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
