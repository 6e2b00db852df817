/* SPDX-License-Identifier: MIT */
#ifndef M2D_MMDF_READER_H
#define M2D_MMDF_READER_H

/*
 * Reading an MMDF file as c-client (imap-2007 mmdf.c) shows it, one
 * message at a time, never changing it.
 *
 *   mmdf_reader_open()    opens, takes UW's locks, walks the file once
 *   mmdf_reader_folder()  UIDVALIDITY, UIDNEXT, declared keywords
 *   mmdf_reader_next()    the next message: 1 got one, 0 end, -1 error
 *   mmdf_reader_read()    its bytes as served (CRLF), in chunks
 *   mmdf_reader_close()
 *
 * The format (mmdf_parse): each message between two "^A^A^A^A\n" lines
 * (the closing one may end a line: "text^A^A^A^A\n"), optionally a
 * From_ line first (its date is INTERNALDATE, else the file's mtime),
 * then the header to its first empty line, then the body.  UW's data is
 * in headers as in an mbox: Status / X-Status letters (exact case),
 * X-Keywords (declared words, any case), X-UID, X-IMAP (the
 * pseudo-message, message 1, never handed out) or X-IMAPbase; those
 * fields (in any case, with their continuation lines) are not served.
 * Served: the header with LF made CRLF and a CR not before a LF
 * dropped; the body with every CR dropped and LF made CRLF.
 * Locks: as c-client, flock(LOCK_SH) on the file (UW also takes the
 * mbox dot-lock to write; the caller takes that, as for an mbox).
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "uw-format.h"

struct mmdf_reader;

/* SET may be NULL.  0, or -1 with ERR: M2D_ERR_NOT_MBOX (not MMDF; an
 * empty file is an empty folder), M2D_ERR_MALFORMED (where c-client
 * would refuse it), M2D_ERR_LOCKED, M2D_ERR_UNSAFE. */
int mmdf_reader_open(int dirfd, const char *path,
		     const struct uw_reader_settings *set,
		     struct mmdf_reader **reader_r, struct m2d_error *err);
int mmdf_reader_open_fd(int fd, const char *path,
			const struct uw_reader_settings *set,
			struct mmdf_reader **reader_r, struct m2d_error *err);

/* uid_reset: c-client found the X-UIDs broken and chose a new
 * UIDVALIDITY (so must the converter). */
const struct uw_folder *mmdf_reader_folder(const struct mmdf_reader *r);

/* MSG's size is the number of bytes served (c-client's RFC822.SIZE may
 * differ by the newline it counts before a terminator that ends a
 * line). */
int mmdf_reader_next(struct mmdf_reader *r, struct uw_msg *msg,
		     struct m2d_error *err);
int mmdf_reader_read(struct mmdf_reader *r, const unsigned char **data_r,
		     size_t *len_r, struct m2d_error *err);

void mmdf_reader_close(struct mmdf_reader **reader);

#endif
