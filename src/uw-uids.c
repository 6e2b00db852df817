/* uw-uids.c - UW-IMAP's UID rules (see uw-uids.h) */
#include "uw-uids.h"

void uw_uids_init(struct uw_uids *u, const struct mbox_meta *meta)
{
	u->trust = meta->have_base && meta->uidvalidity != 0;
	u->last = meta->uidlast;
	u->prev = 0;
}

unsigned long uw_uids_next(struct uw_uids *u, const struct mbox_msg *msg,
			   bool *reset_r)
{
	unsigned long uid;

	*reset_r = false;
	if (!u->trust)
		return msg->seq;
	if (msg->uid == 0) {
		uid = ++u->last;
	} else if (msg->uid <= u->prev || msg->uid > u->last) {
		u->trust = false;
		*reset_r = true;
		return msg->seq;
	} else {
		uid = msg->uid;
	}
	u->prev = uid;
	return uid;
}
