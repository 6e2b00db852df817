/* SPDX-License-Identifier: MIT */
#ifndef M2D_SANDBOX_H
#define M2D_SANDBOX_H

/*
 * The sandbox: a complete practice mail server in one directory, built
 * without root, for the wizard's demo and for tests ("mbox2dovecot
 * sandbox DIR").  Everything lives below DIR:
 *
 *   spool/USER              UW-IMAP INBOXes (mbox), written as UW and
 *                           Postfix write them (pseudo-message, X-UID...)
 *   home/USER/...           folders (~/mail/..., ~/sent-mail), nested,
 *                           non-ASCII, names that need a rename,
 *                           ~/.mailboxlist subscriptions, dot files
 *   target/                 where the maildirs go (empty)
 *   work/                   the runbook's work dir (not created: step 2)
 *   dovecot/dovecot.conf    a private Dovecot (the installed version's
 *                           syntax) on 127.0.0.1, no IMAP listener until
 *                           the runbook's unit (conf.d/99-mbox2dovecot.conf)
 *                           adds the test port (step 8) or the normal
 *                           port (step 17); passwd-file users
 *   postfix/main.cf, master.cf   a Postfix config dir (postconf -c)
 *   root/etc/xinetd.d/imap  UW-IMAP "under xinetd": the runbook disables
 *                           it there and reloads the sandbox's xinetd
 *   bin/                    the sandbox's service commands (shell scripts)
 *   run/, log/              pid files, logs
 *   mbox2dovecot.conf       every path and command of the above
 *
 * Users are not in /etc/passwd: homes_dir and spool_dir point here, and
 * everything belongs to the caller (or to 65534:65534 when the caller is
 * root, as Dovecot refuses mail owned by root).
 *
 * The spool is generated from a seed: the same seed gives the same bytes.
 * Nothing here prints; functions return 0 (or 1/0 where stated) and -1
 * with ERR filled.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "dovecot-conf.h"
#include "m2d-error.h"

#define SANDBOX_MARKER ".mbox2dovecot-sandbox"
#define SANDBOX_MAX_USERS 8

struct sandbox_opts {
	const char *dir;	/* absolute; created, or empty, or ours */
	unsigned long seed;
	int users;		/* 1..SANDBOX_MAX_USERS (default 5) */
	const char *program;	/* absolute path of mbox2dovecot: the UW
				   stand-in's command; NULL = none */
	const char *dovecot;	/* "dovecot" command line, NULL = from PATH */
	bool start;		/* start the services (UW stand-in, Dovecot) */
};

struct sandbox_info {
	char *dir;
	uid_t uid;		/* owner of the mail */
	gid_t gid;
	int users, folders, messages;
	char *user_names[SANDBOX_MAX_USERS];
	char *password;		/* every user's IMAP password */
	unsigned int test_port, imap_port, uw_port;
	bool dovecot;		/* installed: a config was written */
	char *dovecot_version;	/* "2.3.19", or NULL */
	bool dovecot_started;
	bool uw_started;
	char *config;		/* DIR/mbox2dovecot.conf */
};

void sandbox_opts_init(struct sandbox_opts *opts);

/*
 * 1 when DIR is a sandbox of ours (its marker file exists), 0 when it is
 * not (absent, or empty), -1 on error.  *EMPTY_R (may be NULL): DIR is
 * absent or empty.
 */
int sandbox_is_ours(const char *dir, bool *empty_r, struct m2d_error *err);

/*
 * Builds the sandbox in OPTS->dir (refuses a non-empty directory that is
 * not a sandbox of ours, M2D_ERR_EXISTS; a sandbox of ours is stopped and
 * built again from scratch).  INFO_R is filled (free with
 * sandbox_info_free()).
 */
int sandbox_create(const struct sandbox_opts *opts,
		   struct sandbox_info *info_r, struct m2d_error *err);
void sandbox_info_free(struct sandbox_info *info);

/*
 * Stops what the sandbox in DIR runs: its Dovecot (the master's pid file,
 * only when that process was started with DIR's config), the UW stand-in,
 * the "running" mark of its Postfix.  SIGTERM, then SIGKILL after 15 s.
 * Idempotent.  *STOPPED_R (may be NULL) = how many processes were ended.
 */
int sandbox_stop(const char *dir, int *stopped_r, struct m2d_error *err);

/*
 * The UW-IMAP stand-in ("mbox2dovecot sandbox --uw-imap PORT PIDFILE",
 * started by the sandbox's xinetd script): sandbox_uw_listen() binds
 * 127.0.0.1:PORT and returns the listening socket (or -1 with ERR);
 * sandbox_uw_serve() greets every client with an IMAP "* OK" banner that
 * says it serves no mail, then "* BYE", and closes; it runs until the
 * process is killed (returns only on an accept() error, -1 with ERR).
 */
int sandbox_uw_listen(unsigned int port, struct m2d_error *err);
int sandbox_uw_serve(int fd, struct m2d_error *err);

/*
 * The sandbox's dovecot.conf for DIR in SYNTAX (DC_SYNTAX_2: 2.0-2.3, or
 * DC_SYNTAX_2_4): base_dir, state_dir and log_path below DIR, instance
 * "m2d-sandbox-ID", 127.0.0.1 only, plaintext logins without SSL, a
 * passwd-file passdb and userdb (DIR/dovecot/passwd), the maildirs
 * DIR/target/USER, no IMAP listener (port 0), and the include of
 * every conf.d/NAME.conf last, for the runbook's unit.  USER and GROUP
 * (NULL as root): Dovecot runs as that user, its login and internal
 * processes too, without chroot.  Allocated, or NULL with ERR.
 */
char *sandbox_dovecot_conf(const char *dir, enum dc_syntax syntax,
			   unsigned int id, const char *user,
			   const char *group, struct m2d_error *err);

/* A free TCP port on 127.0.0.1 (bound, then closed), 0 on error. */
unsigned int sandbox_free_port(void);

#endif
