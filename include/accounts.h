/* SPDX-License-Identifier: MIT */
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
#include "passwd.h"


/* Creates SKEL_DIR (NULL = ROOT/etc/skel, ROOT from TOOLS) if missing,
 * and cur/ new/ tmp/ in it (0700), recording what was created.  Returns 1
 * when something was created, 0 when all existed. */
int acct_skel_apply(const struct acct_tools *tools, const char *skel_dir,
		    const char *work_dir, struct m2d_error *err);

/* Removes the directories acct_skel_apply() created (only while empty:
 * M2D_ERR_CHANGED otherwise).  Returns 1 undone, 0 nothing recorded. */
int acct_skel_undo(const char *work_dir, struct m2d_error *err);


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
