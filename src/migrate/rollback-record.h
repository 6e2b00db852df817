/* SPDX-License-Identifier: MIT */
#ifndef M2D_ROLLBACK_RECORD_H
#define M2D_ROLLBACK_RECORD_H

/*
 * The record of what a rollback appended to one folder's mbox:
 * WORK/rollback/USER/FOLDER ("INBOX" for the maildir root, the Maildir++
 * directory ".a.b" otherwise), written whole (temp file, fsync, rename,
 * fsync of the directory):
 *
 *   mbox2dovecot-rollback 2
 *   state pending|done       pending: a run died while appending
 *   before N                 the mbox's size before the last append
 *   beforesum HEX16          the checksum of those N bytes
 *   size N                   its size after the last done append
 *   m NAME                   per message appended: its maildir base,
 *                            escaped (str_field_escape): one line each
 *
 * Version 1 (names raw, no beforesum line) is still read.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2d-error.h"

struct rollback_record {
	bool exists;
	int version;		/* of the file read (1, 2), 0 none */
	bool pending;		/* a run died between "pending" and "done" */
	long long before;	/* size before the last (pending) append */
	uint64_t before_sum;	/* checksum of those bytes (version 2) */
	long long size;		/* size after the last done append */
	char **bases;		/* owned: appended; sorted after
				   rollback_record_read/_sort */
	size_t nbases;
};

/* The record of USER's folder DIRNAME below WORK_DIR, read strictly: a
 * line rollback_record_write cannot have written refuses it
 * (M2D_ERR_MALFORMED, its file and line named).  No record: 0 and
 * R->exists false.  R is to be freed in every case. */
int rollback_record_read(const char *work_dir, const char *user,
			 const char *dirname, struct rollback_record *r,
			 struct m2d_error *err);
int rollback_record_write(const char *work_dir, const char *user,
			  const char *dirname,
			  const struct rollback_record *r,
			  struct m2d_error *err);
void rollback_record_free(struct rollback_record *r);

/* Whether BASE was appended (R sorted). */
bool rollback_record_has(const struct rollback_record *r, const char *base);
/* BASE appended; R is unsorted until rollback_record_sort(). */
void rollback_record_add(struct rollback_record *r, const char *base);
void rollback_record_sort(struct rollback_record *r);

#endif
