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

/* Defaults, then PATH when not NULL (a missing PATH is an error). */
int m2d_config_load(struct m2d_config *cfg, const char *path,
		    struct m2d_error *err);
/* Replace a string setting (frees the old value). */
void m2d_config_set(char **field, const char *value);
void m2d_config_free(struct m2d_config *cfg);

/*
 * The maildir root of USER: target_base + '/' + target_layout with %u
 * (the name) and %Nu (its first N characters) expanded.  Allocated.
 */
char *m2d_config_target(const struct m2d_config *cfg, const char *user);

#endif
