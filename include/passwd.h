/* SPDX-License-Identifier: MIT */
#ifndef M2D_PASSWD_H
#define M2D_PASSWD_H

/*
 * The users the migration knows: the system's passwd (getpwent(), so
 * files, NIS or LDAP as nsswitch.conf says), or a practice server's
 * ROOT/etc/passwd.  Looking a user up by name or by UID costs O(log n):
 * the plan asks for every user of a site of tens of thousands.
 *
 * Every function returns 0 (or 1/0 where stated) on success and -1 with
 * ERR filled on failure; nothing prints, nothing exits.
 */

#include <stdbool.h>
#include <stddef.h>

#include "m2d-error.h"

struct acct_tools {
	/* usermod's command line (split at spaces), NULL = "usermod" */
	const char *usermod;
	/* A root prefix, NULL or "" = "/": ROOT/etc/passwd is read,
	 * usermod gets "-P ROOT" (shadow's --prefix: the /etc files below
	 * ROOT, no chroot) and the rbash link is made in ROOT/bin. */
	const char *root;
};

/* TOOLS' root prefix, "" for the system's /. */
const char *acct_root(const struct acct_tools *t);
/* PATH (absolute) below TOOLS' root, in BUF. */
void acct_root_path(char *buf, size_t size, const struct acct_tools *t,
		    const char *path);

/* USER's home and shell from ROOT/etc/passwd (allocated).  Returns 1
 * found, 0 no such user. */
int acct_user_get(const struct acct_tools *tools, const char *user,
		  char **home_r, char **shell_r, struct m2d_error *err);

/* One passwd entry. */
struct acct_pw {
	char *name, *home, *shell;
	long uid, gid;
};

/* The users the migration knows: ROOT/etc/passwd when TOOLS->root is set
 * (a practice server's, as acct_user_get() reads it), else the system's
 * (getpwent(): files, NIS or LDAP as nsswitch.conf says). */
struct acct_passwd {
	struct acct_pw *e;
	size_t n, cap;
	/* indexes of e[0..nsorted) by name and by UID (then by position:
	 * the first of equal UIDs first); entries added later (a getpwnam()
	 * of a name not enumerated) are searched one by one */
	size_t *by_name, *by_uid, nsorted;
	bool system;		/* the system's: a name not enumerated is
				 * still looked up (getpwnam) */
};

/* Loads the entries (lines that are not NAME:PW:UID:GID:GECOS:HOME:SHELL
 * with numeric UID/GID are ignored, as getpwent() ignores them).
 * Returns 0, or -1 with ERR (ROOT/etc/passwd missing or unreadable). */
int acct_passwd_load(const struct acct_tools *tools, struct acct_passwd *pw,
		     struct m2d_error *err);

/* The entry named NAME, or NULL. */
const struct acct_pw *acct_passwd_find(struct acct_passwd *pw,
				       const char *name);

/* The first entry with UID, or NULL. */
const struct acct_pw *acct_passwd_by_uid(const struct acct_passwd *pw,
					 long uid);

void acct_passwd_free(struct acct_passwd *pw);

#endif
