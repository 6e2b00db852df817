/* SPDX-License-Identifier: MIT */
#ifndef M2D_MIX_READER_H
#define M2D_MIX_READER_H

/*
 * Reading a folder in UW's mix format (a directory) as c-client
 * (imap-2007 mix.c) shows it, one message at a time, never changing it.
 *
 *   mix_reader_open()    takes UW's locks, reads metadata, index, status
 *   mix_reader_folder()  UIDVALIDITY, UIDNEXT, declared keywords
 *   mix_reader_next()    the next message: 1 got one, 0 end, -1 error
 *   mix_reader_read()    its bytes, in chunks: 1 chunk, 0 end, -1 error
 *   mix_reader_close()
 *
 * The format, as c-client writes and reads it (every record a CRLF line):
 *  - .mixmeta: "S<seq>", "V<uidvalidity>", "L<last uid>", "N<data file>"
 *    (hex), then "K" and the declared keywords separated by spaces (an
 *    empty or over-long word ends the list);
 *  - .mixindex: "S<seq>", then per live message, in UID order,
 *    ":UID:YYYYMMDDhhmmss+zzzz:SIZE:FILE:POS:HPOS:HSIZE:" (hex but the
 *    date).  Only what the index lists exists: expunged messages keep
 *    their bytes in the data files until c-client rewrites them ("burp"),
 *    and are never read here;
 *  - .mixstatus: "S<seq>", then ":UID:KEYWORD BITS:SYSTEM FLAGS:MODSEQ:"
 *    (the mbx flag bits; 0x10 old: not \Recent; a message without a
 *    record has no flags and is \Recent);
 *  - .mixXXXXXXXX data files (.mix for FILE 0): at POS the line
 *    ":msg:UID:DATE:SIZE:\r\n" (HPOS bytes), then SIZE bytes of message,
 *    CRLF lines, its header HSIZE of them.  The message is served as
 *    stored; RFC822.SIZE is the index's SIZE.
 * Locks: c-client holds flock(LOCK_SH) on .mixmeta while a folder is
 * open (rewriting data files needs LOCK_EX on it), and reads the index
 * and status under flock(LOCK_SH) on each.  We do the same: .mixmeta
 * from open to close, the index and the status while they are read at
 * open (mail appended afterwards is not read).
 */

#include <stdbool.h>

#include "uw-format.h"

struct mix_reader;

/*
 * Open the directory PATH below DIRFD (no symlink followed), its files
 * with sf_open_read; data files must be regular and not sparse (unless
 * allow_sparse).  SET may be NULL.  Returns 0, or -1 with ERR:
 * M2D_ERR_NOT_MBOX (no mix folder), M2D_ERR_MALFORMED (a record c-client
 * refuses: file and line), M2D_ERR_LOCKED, M2D_ERR_UNSAFE.
 */
int mix_reader_open(int dirfd, const char *path,
		    const struct uw_reader_settings *set,
		    struct mix_reader **reader_r, struct m2d_error *err);

const struct uw_folder *mix_reader_folder(const struct mix_reader *reader);

/* The number of messages the index lists. */
unsigned long mix_reader_count(const struct mix_reader *reader);

/* The next message into MSG (valid until the next call; offset is in
 * its data file). 1, 0 at the end, -1 with ERR (M2D_ERR_MALFORMED: a
 * data file that does not hold what the index says). */
int mix_reader_next(struct mix_reader *reader, struct uw_msg *msg,
		    struct m2d_error *err);

int mix_reader_read(struct mix_reader *reader, const unsigned char **data_r,
		    size_t *len_r, struct m2d_error *err);

void mix_reader_close(struct mix_reader **reader);

/*
 * The parsers, for the fuzz target: the three record files given as
 * text (NUL-terminated; INDEX and STATUS may be NULL: empty).  Fills the
 * reader's folder and message list as open would, without data files.
 * Returns 0 or -1 with ERR.
 */
int mix_reader_parse(const char *meta, const char *index,
		     const char *status, struct mix_reader **reader_r,
		     struct m2d_error *err);

#endif
