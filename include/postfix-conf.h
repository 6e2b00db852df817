/* SPDX-License-Identifier: MIT */
#ifndef M2D_POSTFIX_CONF_H
#define M2D_POSTFIX_CONF_H

/*
 * Postfix: reading settings with postconf, the maildir delivery setting
 * for the target (preview, apply, undo), and the delivery hold during the
 * migration (defer_transports = local).
 *
 * Every function returns 0 on success and -1 with ERR filled on failure;
 * nothing prints, nothing exits.
 */

#include <stdbool.h>

#include "m2d-config.h"
#include "m2d-error.h"

/* Command lines of the tools, split at spaces (no shell).  NULL members
 * mean the plain name looked up in PATH ("postconf", "postfix",
 * "postqueue"); config_dir NULL means Postfix's default configuration
 * directory (no "-c" option given).  reload and flush, when set, are the
 * whole command lines run instead of "POSTFIX [-c DIR] reload" and
 * "POSTQUEUE [-c DIR] -f" (a stopped test Postfix cannot reload: tests
 * point them at a harmless program). */
struct pf_tools {
	const char *postconf;
	const char *postfix;
	const char *postqueue;
	const char *config_dir;
	const char *reload;
	const char *flush;
};

/* The tools as mbox2dovecot.conf names them (pointers into CFG). */
void pf_tools_from_config(const struct m2d_config *cfg, struct pf_tools *t);

/* "postconf [-c DIR] -h KEY": the value, allocated, trailing newline
 * removed ("" for an empty value). */
int pf_read(const struct pf_tools *t, const char *key, char **value_r,
	    struct m2d_error *err);

/* "postconf -d -h mail_version": "3.7.11", allocated. */
int pf_version(const struct pf_tools *t, char **version_r,
	       struct m2d_error *err);

/* "postconf [-c DIR] -n -h KEY": 1 and the value when main.cf sets KEY,
 * 0 (value NULL) when it is left at its default. */
int pf_read_explicit(const struct pf_tools *t, const char *key,
		     char **value_r, struct m2d_error *err);

/* The configuration directory: config_dir, or Postfix's default
 * ("postconf -d -h config_directory").  Allocated. */
int pf_config_dir(const struct pf_tools *t, char **dir_r,
		  struct m2d_error *err);

/* "POSTFIX [-c DIR] check": 0 valid, -1 with ERR (M2D_ERR_USAGE, the exit
 * code and whatever it said: Postfix up to 3.7 says nothing when stderr
 * is not a terminal, so only the exit code counts). */
int pf_check(const struct pf_tools *t, struct m2d_error *err);

/* ---- the maildir delivery setting ---- */

enum pf_delivery {
	PF_DELIVERY_SPOOL,	/* mail_spool_directory = BASE/ (BASE/USER/) */
	PF_DELIVERY_HOME,	/* home_mailbox = Maildir/ (~/Maildir/) */
};

struct pf_settings {
	enum pf_delivery delivery;
	/* PF_DELIVERY_SPOOL: the maildir base ("/data/mail2"); a trailing
	 * slash is added (that slash is what makes it a maildir). */
	const char *target;
	/* PF_DELIVERY_HOME: the maildir below the home, "Maildir/" when
	 * NULL; a trailing slash is added. */
	const char *home_mailbox;
};

/* A planned edit of main.cf: data, nothing changed. */
struct pf_edit {
	char *config_dir;	/* the directory given to "postconf -c" */
	char *main_cf;		/* config_dir/main.cf */
	char *key;		/* "mail_spool_directory" or "home_mailbox" */
	char *value;		/* "/data/mail2/" */
	char *old_text;		/* main.cf now */
	char *new_text;		/* main.cf as "postconf -e" will write it */
	char *diff;		/* unified diff old -> new; "" when equal */
	/* mailbox_command / mailbox_transport are set and take precedence
	 * over our setting: a translated warning, or NULL. */
	char *warning;
};

/* Plans the delivery setting: runs "postconf -e" on a copy of main.cf in
 * a temp directory, so the new text and the diff are exactly what the
 * real postconf writes.  Reads mailbox_command and mailbox_transport for
 * the warning.  Changes nothing. */
int pf_edit_plan(const struct pf_tools *t, const struct pf_settings *settings,
		 struct pf_edit *edit_r, struct m2d_error *err);
void pf_edit_free(struct pf_edit *edit);

/* Backs main.cf up into WORK_DIR/postfix-conf/ (created 0700; the first
 * backup is kept while our edits are still in place), writes the setting
 * with "postconf [-c DIR] -e 'KEY = VALUE'", reads it back and runs
 * "postfix check": on a failed check main.cf is restored and -1 returned.
 * Refuses (M2D_ERR_CHANGED) when main.cf changed since the plan. */
int pf_apply(const struct pf_tools *t, const struct pf_edit *edit,
	     const char *work_dir, struct m2d_error *err);

/* Puts main.cf back byte for byte as it was before our first apply (or
 * hold).  Refuses (M2D_ERR_CHANGED) when main.cf is no longer what we
 * wrote.  Returns 1 undone, 0 nothing to undo. */
int pf_undo(const struct pf_tools *t, const char *work_dir,
	    struct m2d_error *err);

/* ---- the delivery hold ---- */

/* Holds local delivery without refusing mail: records the current
 * defer_transports in WORK_DIR/postfix-conf/hold, sets
 * "defer_transports = local" (added to a value already set), then
 * reloads Postfix.  Returns 1 held now, 0 already held by us. */
int pf_hold(const struct pf_tools *t, const char *work_dir,
	    struct m2d_error *err);

/* Ends the hold: the recorded defer_transports comes back (or
 * "postconf -X defer_transports" when it was not set), then reload and
 * "postqueue -f".  Returns 1 released, 0 no hold of ours. */
int pf_release(const struct pf_tools *t, const char *work_dir,
	       struct m2d_error *err);

/* "postfix reload" then "postqueue -f" (the reload and flush commands of
 * T when set): after pf_undo() the running Postfix reads main.cf again
 * and delivers what it held. */
int pf_reload_flush(const struct pf_tools *t, struct m2d_error *err);

/* 1 when WORK_DIR records a hold of ours, 0 when not. */
int pf_is_held(const char *work_dir);

#endif
