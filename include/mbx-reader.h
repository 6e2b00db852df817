/* SPDX-License-Identifier: MIT */
#ifndef M2D_MBX_READER_H
#define M2D_MBX_READER_H

/*
 * Reading a folder in UW's mbx format as c-client (imap-2007 mbx.c)
 * shows it, one message at a time, never changing it.
 *
 *   mbx_reader_open()    opens, takes UW's shared flock, reads the header
 *   mbx_reader_folder()  UIDVALIDITY, UIDNEXT, declared keywords
 *   mbx_reader_next()    the next live message: 1 got one, 0 end, -1 error
 *   mbx_reader_read()    its bytes, in chunks: 1 chunk, 0 end, -1 error
 *   mbx_reader_close()
 *
 * The format, as c-client writes and reads it:
 *  - a 2048-byte header: "*mbx*\r\n", UIDVALIDITY and the last UID as
 *    8 hex digits each, "\r\n", then one declared keyword per CRLF line
 *    (at most 30; an empty line ends them; a word over 50 bytes keeps its
 *    bit but names nothing);
 *  - then per message one line "DATE,SIZE;UUUUUUUUSSSS-IIIIIIII\r\n"
 *    (INTERNALDATE as " 7-Dec-2026 10:00:00 +0200", the size in decimal,
 *    the keyword bits, the system flags and the UID in hex) and SIZE bytes
 *    of message, CRLF lines, served as they are (RFC822.SIZE is SIZE);
 *  - the flags are rewritten in place; an expunge by a process that is
 *    not alone only sets the 0x8000 bit (fEXPUNGED): those messages are
 *    skipped here, as c-client skips them;
 *  - system flags: 0x1 \Seen, 0x2 \Deleted, 0x4 \Flagged, 0x8 \Answered,
 *    0x10 old (not \Recent), 0x20 \Draft; a message without a UID (0) is
 *    \Recent too and gets the next UID; a UID that does not go up or
 *    lies beyond the header's last UID made c-client renumber from there
 *    with a new UIDVALIDITY (uid_reset).
 * Locks: c-client readers and writers hold flock(LOCK_SH) on the file
 * for as long as they have it open; an expunge that rewrites the file
 * needs LOCK_EX.  We hold LOCK_SH from open to close, so the file cannot
 * be rewritten while we read it; mail appended meanwhile is not read
 * (only what the file held when it was opened).
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "uw-format.h"

#define MBX_HDRSIZE 2048

struct mbx_reader;

/*
 * Open PATH below DIRFD read-only (sf_open_read: no symlink, a regular
 * file), refuse it sparse (unless allow_sparse), take flock(LOCK_SH)
 * (waiting for an exclusive holder, see uw_reader_settings), read the
 * header.  SET may be NULL.  Returns 0, or -1 with ERR: M2D_ERR_NOT_MBOX
 * when it is no mbx file, M2D_ERR_LOCKED, M2D_ERR_UNSAFE.
 */
int mbx_reader_open(int dirfd, const char *path,
		    const struct uw_reader_settings *set,
		    struct mbx_reader **reader_r, struct m2d_error *err);

/* The same over an open descriptor (not closed by the reader; the flock
 * is taken on it). */
int mbx_reader_open_fd(int fd, const char *path,
		       const struct uw_reader_settings *set,
		       struct mbx_reader **reader_r, struct m2d_error *err);

/* Is this the start of an mbx file (its first N bytes)? */
bool mbx_head_check(const void *buf, size_t n);

/* The folder's data (valid until close): UIDNEXT counts the UIDs
 * c-client would give the messages without one. */
const struct uw_folder *mbx_reader_folder(const struct mbx_reader *reader);

/*
 * The next live message into MSG (valid until the next call).  1, 0 at
 * the end, -1 with ERR: M2D_ERR_MALFORMED (offset of the bad line) where
 * c-client would refuse the folder, a message over max_message,
 * M2D_ERR_CHANGED when the file shrank.
 */
int mbx_reader_next(struct mbx_reader *reader, struct uw_msg *msg,
		    struct m2d_error *err);

/* The next chunk of the current message (as c-client serves it). */
int mbx_reader_read(struct mbx_reader *reader, const unsigned char **data_r,
		    size_t *len_r, struct m2d_error *err);

/* The file as it was when opened (size: what is read). */
const struct stat *mbx_reader_stat(const struct mbx_reader *reader);

void mbx_reader_close(struct mbx_reader **reader);

#endif
