/* SPDX-License-Identifier: MIT */
#ifndef M2D_UW_UIDS_H
#define M2D_UW_UIDS_H

/*
 * UIDs as UW-IMAP decided them (imap-2007 unix.c).  Message 1 carries the
 * folder's UIDVALIDITY and last UID (X-IMAP or X-IMAPbase); each message
 * may carry X-UID.  A message without X-UID gets last+1 (new mail Postfix
 * appended since UW last saw the folder); an X-UID beyond the last UID
 * raises it.  An X-UID that does not go up (or is no number), or two in
 * one message, made UW reset the folder's UIDVALIDITY: then the UIDs are
 * 1..n (c-client went on from its last UID; with a new UIDVALIDITY the
 * numbers themselves mean nothing to a client).  c-client's "not going
 * up" is measured from the last X-UID it took, even one taken in a
 * message 1 that then became the pseudo-message (mbox_meta.uid_prev).
 */

#include <stdbool.h>

#include "mbox-reader.h"

struct uw_uids {
	bool trust;		/* UW's UIDs are still being kept */
	unsigned long last;	/* highest UID given so far */
	unsigned long prev;
};

/* From the folder's data, known once message 1 has been read. */
void uw_uids_init(struct uw_uids *u, const struct mbox_meta *meta);

/* MSG's UID.  *reset_r is set when this message made UW renumber (the
 * caller says so); from then on the UIDs are the sequence numbers. */
unsigned long uw_uids_next(struct uw_uids *u, const struct mbox_msg *msg,
			   bool *reset_r);

#endif
