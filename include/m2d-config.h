/* SPDX-License-Identifier: MIT */
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
 *   max_message_size = 268435456           # bytes; 0 = no limit
 *   allow_sparse   = false                 # a sparse mbox is refused
 *   source_tz      = ""                    # From_ dates without a zone
 *   mbox_locks     = "dotlock fcntl flock" # the locks the MTA and UW use
 *   mbox_lock_wait = 20                    # seconds a held lock is waited
 *   command_timeout = 300                  # seconds a tool may stay silent
 *   mbox_lock_stale = 500                  # a dotlock this old is stale
 *
 * homes_dir and source_tz are NULL when unset (or set to "").
 * folder_roots: "~" (the home), "~/DIR", or an absolute path containing
 * %u (one directory per user, e.g. "/srv/folders/%u"); no "." or ".."
 * levels.  The order matters: when two folders would get one name, the
 * one under the root listed first keeps it (see plan.h).
 * target_layout: relative, with %u (the name), %Nu (its first N
 * characters) and %% only; no empty, "." or ".." levels.
 * mbox_locks: the locks an mbox is read under, as Postfix's
 * mailbox_delivery_lock ("fcntl, dotlock" on Linux) plus UW's flock
 * (dotlock.h); m2d_config_load() makes them the process's
 * (mbox_locks_configure()).
 * owner: "passwd" (the user's passwd entry; for a user not in passwd,
 * named by a list, the owner of the home, else of the inbox), "inbox"
 * (the owner of the inbox file when it is not refused as another
 * user's, plan.h Ownership; else as "passwd"), a user name (looked up in
 * the same passwd as the users: accounts_root's when set), or "UID:GID".
 *
 * The system the runbook edits (every path and command configurable, so
 * that a practice server or a test points them at a scratch tree; unset
 * strings are NULL and mean the default named here):
 *
 *   dovecot_config    = "/etc/dovecot/dovecot.conf"
 *   dovecot_command   = "dovecot"     # command lines, split at spaces
 *   doveconf_command  = "doveconf"
 *   doveadm_command   = "doveadm"
 *   test_address      = "127.0.0.1"   # step 8: the alternate listener
 *   test_port         = 1043
 *   imap_address      = ""            # step 17: "" = Dovecot's default
 *   imap_port         = 143
 *   imaps_port        = 993           # 0 = off
 *   dovecot_log_path  = ""            # a file, or
 *   dovecot_syslog_facility = ""      #   a syslog facility
 *   pop3_uidl         = "auto"        # "auto", "yes", "no"
 *   folder_names      = "compat"      # or "uw": UW's names kept
 *   uw_mail_subdirectory = ""         # "" = SERVICES_ROOT/etc/c-client.cf's
 *                                     #   mail-subdirectory; "~" = none
 *   imap_test_user    = ""            # "" = every test user
 *   imap_test_password = ""           # "" = asked (or the environment
 *                                     #   MBOX2DOVECOT_IMAP_PASSWORD)
 *   imap_master_user  = ""            # Dovecot master user: log in as
 *   imap_master_password = ""         #   "USER*MASTER"
 *   postfix_config_dir = ""           # "" = Postfix's default
 *   postconf_command  = "postconf"
 *   postfix_command   = "postfix"
 *   postqueue_command = "postqueue"
 *   postfix_reload_command = ""       # "" = "postfix [-c DIR] reload"
 *   postfix_flush_command = ""        # "" = "postqueue [-c DIR] -f"
 *   postfix_delivery  = "spool"       # or "home" (home_mailbox)
 *   home_mailbox      = "Maildir/"
 *   test_delivery_command = "/usr/sbin/sendmail -i -- %u"  # step 21,
 *                                     #   the message on standard input
 *   services_root     = ""            # prefix of /etc/xinetd.d, inetd.conf
 *   service dovecot { start = "..." stop reload enable disable status
 *                     probe = "tcp:127.0.0.1:143" | "command:CMD" | "none" }
 *   service postfix { ... }
 *   service uw-imap { ... }           # unset: detected (services.h)
 *   skel_dir          = ""            # "" = /etc/skel
 *   accounts_root     = ""            # usermod -P ROOT, ROOT/etc/passwd
 *   usermod_command   = "usermod"
 *   homes_to_maildir  = false         # step 19: usermod -d BASE/USER for
 *                                     #   every migrated user (undone)
 *   rbash_users       = {}            # step 19: these users get /bin/rbash
 *                                     #   (an auto-responder needs a shell)
 *   test_users        = {}            # step 5: preset test subset
 *   test_user_count   = 2             # step 5: how many to propose
 */

#include <stdbool.h>

#include "m2d-error.h"

#define M2D_MAX_ROOTS 16

/* Service roles and actions, in the order of services.h's enums. */
#define M2D_SVC_ROLES 3		/* postfix, dovecot, uw-imap */
#define M2D_SVC_ACTIONS 6	/* start stop reload enable disable status */
#define M2D_MAX_TEST_USERS 64

struct m2d_service_conf {
	char *cmd[M2D_SVC_ACTIONS];	/* NULL: detected default */
	char *probe;			/* NULL: default; "tcp:A:P" ... */
};

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
	/* a message larger than this in an mbox fails its folder; 0 = no
	 * limit (default 256 MiB) */
	unsigned long long max_message_size;
	bool allow_sparse;		/* convert sparse mboxes (refused by
					 * default: holes become real bytes) */
	unsigned int mbox_locks;	/* MBOX_LOCK_* (dotlock.h) */
	int mbox_lock_wait, mbox_lock_stale;	/* seconds */
	/* seconds a command we run (doveadm, postconf, ...) may print
	 * nothing before it is stopped; 0 = no limit */
	int command_timeout;

	/* the system (see above); NULL = default */
	char *dovecot_config;
	char *dovecot_command, *doveconf_command, *doveadm_command;
	char *test_address;
	unsigned int test_port;
	char *imap_address;
	unsigned int imap_port, imaps_port;
	char *dovecot_log_path, *dovecot_syslog_facility;
	char *pop3_uidl;		/* "auto", "yes", "no" */
	char *folder_names;		/* "compat", "uw" (uw-names.h) */
	char *uw_mail_subdirectory;	/* NULL: c-client.cf's; "~": none */
	char *imap_test_user, *imap_test_password;
	char *imap_master_user, *imap_master_password;
	char *postfix_config_dir;
	char *postconf_command, *postfix_command, *postqueue_command;
	char *postfix_reload_command, *postfix_flush_command;
	char *postfix_delivery;		/* "spool" or "home" */
	char *home_mailbox;
	char *test_delivery_command;
	char *services_root;
	struct m2d_service_conf service[M2D_SVC_ROLES];
	char *skel_dir, *accounts_root, *usermod_command;
	bool homes_to_maildir;
	char *rbash_users[M2D_MAX_TEST_USERS];
	int nrbash_users;
	char *test_users[M2D_MAX_TEST_USERS];
	int ntest_users;
	int test_user_count;
};

/* "postfix", "dovecot", "uw-imap" (the section titles). */
extern const char *const m2d_service_names[M2D_SVC_ROLES];
extern const char *const m2d_service_actions[M2D_SVC_ACTIONS];

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
 * BASE/f/fred).  Allocated; NULL when the layout has an unknown %
 * sequence (never after m2d_config_check() passed).
 */
char *m2d_config_target(const struct m2d_config *cfg, const char *user);

#endif
