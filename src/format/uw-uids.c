/* SPDX-License-Identifier: MIT */
/* uw-uids.c - UW-IMAP's UID rules (see uw-uids.h) */
#include "uw-uids.h"

void uw_uids_init(struct uw_uids *u, const struct mbox_meta *meta)
{
	u->trust = meta->have_base && meta->uidvalidity != 0;
	u->last = meta->uidlast;
	/* message 1 as c-client left it: 0 unless it was the
	 * pseudo-message after an X-UID (a real message 1 sets it anew) */
	u->prev = meta->pseudo ? meta->uid_prev : 0;
}

unsigned long uw_uids_next(struct uw_uids *u, const struct mbox_msg *msg,
			   bool *reset_r)
{
	unsigned long uid;

	*reset_r = false;
	if (!u->trust)
		return msg->seq;
	if (msg->uid_count == 0) {
		uid = ++u->last;
	} else if (msg->uid_count > 1 || msg->uid <= u->prev) {
		/* two X-UIDs, or one not above the last (0 when it is no
		 * number): c-client's "already has UID" / "less than" */
		u->trust = false;
		*reset_r = true;
		return msg->seq;
	} else {
		/* beyond the recorded last UID is fine: c-client raises
		 * the last UID (its "temporary kludge for UIDPLUS") */
		uid = msg->uid;
		if (uid > u->last)
			u->last = uid;
	}
	u->prev = uid;
	return uid;
}
