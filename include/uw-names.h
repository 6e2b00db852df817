/* SPDX-License-Identifier: MIT */
#ifndef M2D_UW_NAMES_H
#define M2D_UW_NAMES_H

/*
 * The folder names UW-IMAP showed, and how they live on under Dovecot.
 *
 * UW (c-client, env_unix.c) named a folder by its path relative to the
 * home directory: ~/mail/work is "mail/work".  A site could set
 *
 *     set mail-subdirectory mail
 *
 * in c-client's system configuration, /etc/c-client.cf (read only when
 * its first line is "I accept the risk for IMAP toolkit 4.1."; the value
 * is everything after the second space, relative to the home), and then
 * ~/mail/work was "work".  Either way "~/mail/work" and "~USER/mail/work"
 * named it too.  Clients kept these names in their settings (the Sent
 * folder, filters, the "IMAP server directory" prefix "mail/").
 *
 * folder_names (mbox2dovecot.conf) chooses:
 *   "compat" (default): the plan names a folder relative to its folder
 *       root ("work"), and the Dovecot unit adds hidden namespaces
 *       (list = no, an alias of the INBOX namespace) with the prefixes
 *       UW's names had ("mail/", "~/mail/", "~%u/mail/": Dovecot's
 *       documented answer for UW sites), so the old names still resolve;
 *   "uw": the plan keeps UW's names exactly ("mail/work"); the unit adds
 *       "~/" and "~%u/" namespaces for the "~/mail/work" forms.
 * Subscriptions (~/.mailboxlist) are taken in the same form as the
 * names, so the client sees the same subscribed set.
 */

#include <stdbool.h>

#include "m2d-config.h"
#include "m2d-error.h"

enum uw_names_mode {
	UW_NAMES_COMPAT = 0,
	UW_NAMES_UW,
};

struct uw_names {
	enum uw_names_mode mode;
	char *subdir;		/* mail-subdirectory relative to the home
				 * ("mail"), or NULL: the home itself */
	char *source;		/* where SUBDIR came from (a path, or
				 * "mbox2dovecot.conf"), or NULL */
};

/* From CFG: folder_names, and uw_mail_subdirectory when set ("~": none),
 * else SERVICES_ROOT/etc/c-client.cf when it is there.  0, or -1 with
 * ERR (an unreadable c-client.cf). */
int uw_names_init(const struct m2d_config *cfg, struct uw_names *n,
		  struct m2d_error *err);
void uw_names_free(struct uw_names *n);

/* What UW put before the names of the folders under the home directory
 * HOME_REL ("mail" for ~/mail, "" for the home): "mail/", or "" (with
 * mail-subdirectory "mail"); NULL when UW had no relative name for them
 * (outside its mail subdirectory).  Allocated. */
char *uw_names_prefix(const struct uw_names *n, const char *home_rel);

/* The prefixes of the hidden compatibility namespaces for CFG's home
 * folder roots ("%u" stands for the user name), NULL-terminated,
 * allocated (free with uw_names_list_free), possibly empty. */
char **uw_names_namespaces(const struct uw_names *n,
			   const struct m2d_config *cfg);
void uw_names_list_free(char **list);

#endif
