#ifndef M2D_CONFIG_H
#define M2D_CONFIG_H

/*
 * Our own settings: mbox2dovecot.conf, read with libconfuse.  Every path
 * can be overridden on the command line (the CLI sets the fields after
 * m2d_config_load()).  All strings are owned by the struct.
 *
 *   spool_dir      = "/var/spool/mail"     # INBOX of U is SPOOL/U
 *   homes_dir      = ""                    # set: home of U is HOMES/U
 *   folder_roots   = {"~/mail", "~"}       # where folders live
 *   target_base    = "/data/mail2"
 *   target_layout  = "%u"                  # or "%1u/%u" (hashed)
 *   work_dir       = "/root/migrate"       # journal, lists, state
 *   uid_min        = 1000                  # users from passwd
 *   uid_max        = 60000
 *   owner          = "passwd"              # or "inbox", or USER, UID:GID
 *   jobs           = 0                     # 0: number of cores
 *   mboxrd         = false
 *   source_tz      = ""                    # From_ dates without a zone
 *
 * homes_dir and source_tz are NULL when unset (or set to "").
 * folder_roots: "~" (the home), "~/DIR", or an absolute path containing
 * %u (one directory per user, e.g. "/srv/folders/%u"); no "." or ".."
 * levels.  The order matters: when two folders would get one name, the
 * one under the root listed first keeps it (see plan.h).
 * target_layout: relative, with %u (the name), %Nu (its first N
 * characters) and %% only; no empty, "." or ".." levels.
 * owner: "passwd" (the user's passwd entry; for a user not in passwd the
 * owner of the inbox, else of the home), "inbox" (the owner of the
 * inbox file, else as "passwd"), a user name, or "UID:GID".
 */

#include <stdbool.h>

#include "m2d-error.h"

#define M2D_MAX_ROOTS 16

struct m2d_config {
	char *spool_dir;
	char *homes_dir;		/* NULL: from passwd */
	char *folder_roots[M2D_MAX_ROOTS];	/* "~/mail", "~" ... */
	int nroots;
	char *target_base;
	char *target_layout;
	char *work_dir;
	long uid_min, uid_max;
	char *owner;
	int jobs;
	bool mboxrd;
	char *source_tz;
};

/*
 * Defaults, then PATH when not NULL (a missing PATH is an error).
 * Returns 0, or -1 with ERR: a parse or value error carries PATH and the
 * line (ERR->line) and libconfuse's or our message; CFG is then empty
 * (m2d_config_free() on it is harmless).
 */
int m2d_config_load(struct m2d_config *cfg, const char *path,
		    struct m2d_error *err);
/*
 * Check the values of CFG (after command-line overrides): the same rules
 * the parser applies.  PATH (may be NULL) only goes into ERR.  0 or -1.
 */
int m2d_config_check(const struct m2d_config *cfg, const char *path,
		     struct m2d_error *err);
/* Replace a string setting (frees the old value). */
void m2d_config_set(char **field, const char *value);
void m2d_config_free(struct m2d_config *cfg);

/*
 * The maildir root of USER: target_base + '/' + target_layout with %u
 * (the name) and %Nu (its first N characters) expanded ("%1u/%u" ->
 * BASE/f/fred).  Allocated; NULL when out of memory or the layout has an
 * unknown % sequence.
 */
char *m2d_config_target(const struct m2d_config *cfg, const char *user);

#endif
