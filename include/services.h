/* SPDX-License-Identifier: MIT */
#ifndef M2D_SERVICES_H
#define M2D_SERVICES_H

/*
 * Services: start, stop, reload, enable, disable and ask the status of
 * three roles (the MTA, the new IMAP server, the old IMAP server) with
 * commands detected for the init system (systemd, SysV service/chkconfig
 * or update-rc.d, xinetd/inetd for UW-IMAP), every one of them
 * overridable, run with execvp (no shell) and confirmed by a probe (a TCP
 * connect, or a command's exit code such as "postfix status").  A dry run
 * returns the commands as text and runs nothing.
 *
 * UW-IMAP under xinetd is stopped by "disable = yes" in
 * ROOT/etc/xinetd.d/imap and imaps and a reload of xinetd; under inetd by
 * commenting its lines in ROOT/etc/inetd.conf ("#<off># ", as Debian's
 * update-inetd does) and a reload of inetd.  Those edits are temp +
 * rename, backed up in WORK/services/, undone byte for byte.
 *
 * Every function returns 0 (or 1/0 where stated) on success and -1 with
 * ERR filled on failure; nothing prints, nothing exits.
 */

#include <stdbool.h>

#include "m2d-config.h"
#include "m2d-error.h"

enum svc_role {
	SVC_ROLE_MTA,		/* postfix */
	SVC_ROLE_IMAP_NEW,	/* dovecot */
	SVC_ROLE_IMAP_OLD,	/* UW-IMAP (xinetd/inetd) */
	SVC_ROLE_COUNT
};

enum svc_action {
	SVC_START,
	SVC_STOP,
	SVC_RELOAD,
	SVC_ENABLE,
	SVC_DISABLE,
	SVC_STATUS,
	SVC_ACTION_COUNT
};

enum svc_init {
	SVC_INIT_NONE,		/* nothing known: every command configured */
	SVC_INIT_SYSTEMD,	/* /run/systemd/system exists */
	SVC_INIT_SYSV,		/* service + chkconfig or update-rc.d */
};

/* How UW-IMAP is started. */
enum svc_launcher {
	SVC_LAUNCH_NONE,	/* a daemon of its own: commands as for others */
	SVC_LAUNCH_XINETD,	/* ROOT/etc/xinetd.d/{imap,imaps} */
	SVC_LAUNCH_INETD,	/* ROOT/etc/inetd.conf */
};

/* What the system looks like (svc_detect(), or set by a test). */
struct svc_env {
	enum svc_init init;
	enum svc_launcher launcher;
	bool chkconfig;		/* SysV enable/disable with chkconfig (RHEL),
				   else update-rc.d (Debian) */
	const char *inetd_service;	/* "openbsd-inetd", "inetutils-inetd",
					   "inetd" (a static string) */
};

/* Looks at ROOT ("" or NULL = "/"): /run/systemd/system, chkconfig,
 * /etc/xinetd.d/imap(s), /etc/inetd.conf with an imap line. */
void svc_detect(const char *root, struct svc_env *env_r);

enum svc_probe_kind {
	SVC_PROBE_NONE,		/* trust the command's exit code */
	SVC_PROBE_TCP,		/* connect to address:port = running */
	SVC_PROBE_COMMAND,	/* exit 0 = running ("postfix status") */
};

struct svc_probe {
	enum svc_probe_kind kind;
	char *address;		/* SVC_PROBE_TCP: "127.0.0.1" (owned) */
	unsigned int port;
	char *command;		/* SVC_PROBE_COMMAND (owned) */
};

struct svc_role_conf {
	char *name;		/* "postfix", "dovecot", "imap" (owned) */
	/* Command line per action, split at spaces; NULL = no command
	 * (for UW under xinetd/inetd start/stop/enable/disable are the
	 * file edit followed by the reload command). */
	char *cmd[SVC_ACTION_COUNT];
	struct svc_probe probe;
};

struct svc_table {
	struct svc_env env;
	char *root;		/* prefix of the edited files, "" = / */
	/* UW under xinetd: the service files edited, below
	 * ROOT/etc/xinetd.d ("imap", "imaps"); absent ones are skipped. */
	char *xinetd_files[4];
	/* Seconds a probe may take to see the expected state. */
	unsigned int probe_timeout;
	struct svc_role_conf role[SVC_ROLE_COUNT];
};

/* Defaults for ENV: systemctl / service + chkconfig|update-rc.d,
 * "postfix status" as the MTA's probe, TCP 127.0.0.1:143 for the IMAP
 * servers, xinetd/inetd reload for UW.  ROOT may be NULL. */
void svc_table_init(struct svc_table *table, const struct svc_env *env,
		    const char *root);
void svc_table_free(struct svc_table *table);

/* Overrides (the configuration file): CMDLINE NULL or "" removes it. */
int svc_set_command(struct svc_table *table, enum svc_role role,
		    enum svc_action action, const char *cmdline,
		    struct m2d_error *err);
int svc_set_probe_tcp(struct svc_table *table, enum svc_role role,
		      const char *address, unsigned int port,
		      struct m2d_error *err);
int svc_set_probe_command(struct svc_table *table, enum svc_role role,
			  const char *cmdline, struct m2d_error *err);
void svc_set_probe_none(struct svc_table *table, enum svc_role role);

/* The table for the system mbox2dovecot.conf describes: detected below
 * services_root, then every command and probe of its service sections
 * ("tcp:ADDR:PORT", "command:CMD", "none"; checked on load). */
int svc_table_from_config(const struct m2d_config *cfg,
			  struct svc_table *table, struct m2d_error *err);

const char *svc_role_name(enum svc_role role);		/* "mta"... */
const char *svc_action_name(enum svc_action action);	/* "start"... */

struct svc_run_opts {
	bool dry_run;		/* only describe: *text_r, nothing run */
	const char *work_dir;	/* backups of edited files (not dry run) */
};

/* Does ACTION for ROLE: runs its commands (a non-zero exit is an error
 * with what the command said), then confirms by the probe that the role
 * runs (start, enable of UW) or no longer runs (stop, disable of UW),
 * waiting up to probe_timeout seconds.  SVC_STATUS returns 1 running,
 * 0 not.  TEXT_R (may be NULL) gets one line per command or edit, also in
 * a dry run ("edit /etc/xinetd.d/imap: disable = yes").  Allocated. */
int svc_run(const struct svc_table *table, enum svc_role role,
	    enum svc_action action, const struct svc_run_opts *opts,
	    char **text_r, struct m2d_error *err);

/* The probe alone: 1 running, 0 not running, -1 no probe or error. */
int svc_probe(const struct svc_table *table, enum svc_role role,
	      struct m2d_error *err);

/* Puts back every xinetd/inetd file edited through WORK_DIR, byte for
 * byte.  Returns 1 undone, 0 nothing to undo. */
int svc_undo(const char *work_dir, struct m2d_error *err);

/* ---- the edits of UW's launcher files (pure text, for previews) ---- */

/* The xinetd service file TEXT with "disable = yes|no" in every service
 * block (an existing disable line is rewritten, else one is added before
 * the closing brace).  Allocated. */
char *svc_xinetd_set_disable(const char *text, bool disable);
/* inetd.conf TEXT with the imap/imaps/imap2/imap3 lines commented out
 * ("#<off># ") or back in.  Allocated. */
char *svc_inetd_set_imap(const char *text, bool enable);

/* ---- backups of configuration files edited in place ----
 *
 * WORK_DIR/SUB/ holds a manifest ("N existed mode uid gid PATH" per
 * file), N.orig (the bytes before our first edit) and N.applied (the
 * bytes of our last edit).  Used for UW's launcher files (SUB "services")
 * and Postfix's main.cf (SUB "postfix-conf").
 */

/* Before editing PATH: saves its bytes as the original unless an earlier
 * edit of ours is still in place (then the first original is kept).
 * Returns 1 saved, 0 kept. */
int svc_backup_save(const char *work_dir, const char *sub, const char *path,
		    struct m2d_error *err);
/* After editing PATH: records its bytes now as ours. */
int svc_backup_applied(const char *work_dir, const char *sub,
		       const char *path, struct m2d_error *err);
/* 1 when PATH has a backup and is still what we wrote, else 0. */
int svc_backup_is_ours(const char *work_dir, const char *sub,
		       const char *path, struct m2d_error *err);
/* Restores every file of SUB: checks all first (a file that is neither
 * ours nor the original: M2D_ERR_CHANGED, nothing restored), then writes
 * the originals back (temp + rename, original mode and owner).  Returns
 * 1 undone, 0 nothing to undo. */
int svc_backup_undo(const char *work_dir, const char *sub,
		    struct m2d_error *err);

/* Writes a whole file by temp + rename beside it, keeping the mode and
 * owner of the file it replaces (0644 root when new). */
int svc_write_file(const char *path, const char *text, struct m2d_error *err);

#endif
