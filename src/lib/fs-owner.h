/* SPDX-License-Identifier: MIT */
#ifndef M2D_FS_OWNER_H
#define M2D_FS_OWNER_H

/*
 * Creating files as their owner: the calling thread's file system
 * identity (Linux setfsuid/setfsgid, per thread), so that a file is the
 * user's from its creation and needs no fchown().
 */

#include <stdbool.h>
#include <sys/types.h>

struct fs_owner {
	bool active;		/* switched: restore with fs_owner_leave */
	uid_t uid, saved_uid;
	gid_t gid, saved_gid;
};

/*
 * As root, make this thread's fsuid and fsgid UID and GID (neither -1,
 * not root's own).  Returns whether it did (OWNER->active); false, and
 * nothing changed, when not root or the switch did not take.  Only files
 * are created as the user meanwhile: permissions are checked as the user.
 */
bool fs_owner_enter(struct fs_owner *owner, int uid, int gid);

/* Back to the identity before fs_owner_enter (nothing if not active). */
void fs_owner_leave(struct fs_owner *owner);

#endif
