#ifndef M2D_PLAN_H
#define M2D_PLAN_H

/*
 * The plan of a migration: which users, which folders, and what was left
 * out and why.  It comes from the runbook's lists (userlist-master: one
 * user per line; folderlist-master: "user/path" per line, the path
 * relative to the home) or from discovery: users from passwd (uid_min..
 * uid_max, no system accounts) and from the names in the spool directory;
 * folders: INBOX at SPOOL/USER, ~/mbox, and mbox files under the folder
 * roots, recursively.  A file is a folder only when its content is an mbox
 * (a valid first From_ line, or empty).
 *
 * Discovery runs as root over users' files: directories are walked with
 * openat() and O_NOFOLLOW; a symlink is never followed, it is listed as
 * skipped.  Nothing is written except by plan_write_lists().
 */

#include <stdbool.h>
#include <stddef.h>

#include "folder-names.h"
#include "m2d-config.h"
#include "m2d-error.h"

struct plan_user {
	char *name;
	char *home;		/* home directory (homes_dir/U or passwd) */
	char *target;		/* maildir root (m2d_config_target) */
	int uid, gid;		/* owner of what is written */
	char **subscriptions;	/* from ~/.mailboxlist (IMAP names, with
				 * the folder-root prefixes removed);
				 * NULL when there is none */
};

enum plan_skip {
	PLAN_TAKEN = 0,		/* a folder to migrate */
	PLAN_SKIP_DOTFILE,	/* .mailboxlist, .pinerc, ... */
	PLAN_SKIP_MBX,		/* UW mbx format (*mbx*) */
	PLAN_SKIP_NOT_MBOX,	/* content is not an mbox */
	PLAN_SKIP_SYMLINK,	/* a symlink: never followed */
	PLAN_SKIP_SPECIAL,	/* FIFO, device, socket */
	PLAN_SKIP_UNREADABLE,	/* open/read failed */
	PLAN_SKIP_NAME,		/* its name needs a rename first */
	PLAN_SKIP_MISSING,	/* listed but not there */
};

struct plan_folder {
	size_t user;		/* index into plan.users */
	char *source;		/* path of the mbox */
	char *listed;		/* as in folderlist: "user/mail/Sent", or
				 * "user/INBOX" for the inbox */
	char *name;		/* IMAP name under Dovecot ('/', UTF-8) */
	char *dirname;		/* Maildir++ directory; "" for INBOX */
	long long size;		/* bytes (biggest first) */
	enum plan_skip skip;
	char *reason;		/* translated detail when skipped */
	enum folder_problem problem;	/* when PLAN_SKIP_NAME */
	char *suggestion;	/* a name without the problem */
};

struct plan {
	struct plan_user *users;
	size_t nusers;
	struct plan_folder *folders;	/* taken and skipped ones */
	size_t nfolders;
};

/* Users: from LIST (NULL-terminated names) when given, else USERLIST
 * (a file) when given, else discovered. */
struct plan_source {
	const char *const *users;
	const char *userlist;
	const char *folderlist;
};

int plan_build(const struct m2d_config *cfg, const struct plan_source *src,
	       struct plan *plan, struct m2d_error *err);
void plan_free(struct plan *plan);

/* Write userlist-master and folderlist-master (taken folders) into DIR,
 * each by temp file + rename. */
int plan_write_lists(const struct plan *plan, const char *dir,
		     struct m2d_error *err);

/* Is the file open as FD an mbox (valid first From_ line, or empty)? */
bool plan_is_mbox(int fd);

/* Translated text of a skip reason. */
const char *plan_skip_str(enum plan_skip skip);

#endif
