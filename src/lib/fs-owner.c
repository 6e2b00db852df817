/* SPDX-License-Identifier: MIT */
/*
 * The thread's file system identity, for creating files as their owner.
 *
 * setfsuid() and setfsgid() change only the identity the kernel checks
 * and gives to new files, and only for the calling thread (glibc does not
 * pass them on to the other threads as it does setuid()).  Neither
 * reports failure: each returns the previous value, so the switch is
 * read back with an invalid id ((uid_t)-1 changes nothing).
 */
#include "fs-owner.h"

#include <sys/fsuid.h>
#include <unistd.h>

bool fs_owner_enter(struct fs_owner *o, int uid, int gid)
{
	o->active = false;
	if (uid < 0 || gid < 0 || uid == 0 || geteuid() != 0)
		return false;
	o->uid = (uid_t)uid;
	o->gid = (gid_t)gid;
	o->saved_gid = (gid_t)setfsgid(o->gid);
	o->saved_uid = (uid_t)setfsuid(o->uid);
	if ((uid_t)setfsuid((uid_t)-1) != o->uid ||
	    (gid_t)setfsgid((gid_t)-1) != o->gid) {
		setfsuid(o->saved_uid);
		setfsgid(o->saved_gid);
		return false;
	}
	o->active = true;
	return true;
}

void fs_owner_leave(struct fs_owner *o)
{
	if (!o->active)
		return;
	setfsuid(o->saved_uid);
	setfsgid(o->saved_gid);
	o->active = false;
}
