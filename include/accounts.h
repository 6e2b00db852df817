#ifndef M2D_ACCOUNTS_H
#define M2D_ACCOUNTS_H

/*
 * Accounts, as the runbook prepares them:
 *   - the skeleton directory (/etc/skel) gets cur/ new/ tmp/ so that a
 *     new account whose home is its maildir accepts maildir delivery;
 *   - optional, off by default: the mail users' homes become their
 *     maildirs ("usermod -d BASE/USER USER"), and users that need a shell
 *     for an auto-responder ("vacation") get the restricted bash
 *     (/bin/rbash, a symlink to bash made when missing, "usermod -s").
 * Every change is recorded in WORK/accounts/ and undone: only directories
 * we created are removed, homes and shells go back to the recorded values.
 *
 * Every function returns 0 (or 1/0 where stated) on success and -1 with
 * ERR filled on failure; nothing prints, nothing exits.
 */

#include <stdbool.h>

#include "m2d-error.h"

struct acct_tools {
	/* usermod's command line (split at spaces), NULL = "usermod" */
	const char *usermod;
	/* A root prefix, NULL or "" = "/": ROOT/etc/passwd is read,
	 * usermod gets "-P ROOT" (shadow's --prefix: the /etc files below
	 * ROOT, no chroot) and the rbash link is made in ROOT/bin. */
	const char *root;
};

/* Creates SKEL_DIR (NULL = ROOT/etc/skel, ROOT from TOOLS) if missing,
 * and cur/ new/ tmp/ in it (0700), recording what was created.  Returns 1
 * when something was created, 0 when all existed. */
int acct_skel_apply(const struct acct_tools *tools, const char *skel_dir,
		    const char *work_dir, struct m2d_error *err);

/* Removes the directories acct_skel_apply() created (only while empty:
 * M2D_ERR_CHANGED otherwise).  Returns 1 undone, 0 nothing recorded. */
int acct_skel_undo(const char *work_dir, struct m2d_error *err);

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
	bool system;		/* the system's: a name not enumerated is
				 * still looked up (getpwnam) */
};

/* Loads the entries (lines that are not NAME:PW:UID:GID:GECOS:HOME:SHELL
 * with numeric UID/GID are ignored, as getpwent() ignores them).
 * Returns 0, or -1 with ERR (ROOT/etc/passwd missing or unreadable). */
int acct_passwd_load(const struct acct_tools *tools, struct acct_passwd *pw,
		     struct m2d_error *err);

/* The entry named NAME, or NULL (also when out of memory). */
const struct acct_pw *acct_passwd_find(struct acct_passwd *pw,
				       const char *name);

/* The first entry with UID, or NULL. */
const struct acct_pw *acct_passwd_by_uid(const struct acct_passwd *pw,
					 long uid);

void acct_passwd_free(struct acct_passwd *pw);

/* "usermod [-P ROOT] -d HOME USER" (no -m: the mail is moved by the
 * migration, not by usermod), the previous home recorded first. */
int acct_set_home(const struct acct_tools *tools, const char *user,
		  const char *home, const char *work_dir,
		  struct m2d_error *err);

/* "usermod [-P ROOT] -s SHELL USER" (SHELL NULL = "/bin/rbash"), the
 * previous shell recorded first. */
int acct_set_shell(const struct acct_tools *tools, const char *user,
		   const char *shell, const char *work_dir,
		   struct m2d_error *err);

/* ROOT/bin/rbash -> bash when it is missing (recorded).  Returns 1
 * created, 0 it existed. */
int acct_rbash_link(const struct acct_tools *tools, const char *work_dir,
		    struct m2d_error *err);

/* Undoes acct_set_home(), acct_set_shell() and acct_rbash_link(): homes
 * and shells that are still what we set go back to the recorded values
 * (one that changed since: M2D_ERR_CHANGED, checked for all before any
 * is changed), the rbash link we made is removed.  Returns 1 undone, 0
 * nothing recorded. */
int acct_users_undo(const struct acct_tools *tools, const char *work_dir,
		    struct m2d_error *err);

/* The command lines acct_set_home()/acct_set_shell() run, for a dry run
 * (allocated). */
char *acct_usermod_text(const struct acct_tools *tools, const char *user,
			const char *home, const char *shell);

#endif
