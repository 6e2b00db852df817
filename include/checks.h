/* SPDX-License-Identifier: MIT */
#ifndef M2D_CHECKS_H
#define M2D_CHECKS_H

/*
 * The pre-flight checks (the runbook's "Pre-migration" made
 * thorough): every check is a struct check_result (fs-checks.h: PASS /
 * WARN / FAIL, numeric figures, a one-line detail, a one-line fix) in a
 * group, with optional string values (settings read, versions) and a list
 * of entries (the folders to rename, the symlinks skipped ...).
 *
 * Two steps per group, so that tests inject what the system would say:
 *
 *   checks_probe_*()   look at the system and fill a facts struct; they
 *                      only read: stat, statvfs, open O_RDONLY, doveconf
 *                      -h, postconf -h, bind()/connect() on a socket that
 *                      is closed at once, /proc.  The one thing written is
 *                      the timed sample conversion, into a scratch
 *                      directory of our own (mkdtemp) that is removed
 *                      before checks_probe_time() returns.
 *   checks_eval_*()    pure functions of the facts (and of the plan): they
 *                      append items to a struct checks_report.
 *
 * checks_run() does both for every group, in the order of the checklist.
 * Nothing here prints or exits.
 *
 * Groups and check ids (stable; JSON "group" / "id"):
 *   filesystem  inodes, space, subdirs                 (fs-checks.h)
 *   folders     folder_names, folder_chars
 *   sources     messages, users_without_inbox, unreadable, skipped, mbx,
 *               symlinks, locked
 *   target      target_base, target_empty, target_fs
 *   dovecot     dovecot_installed, dovecot_config, dovecot_mail_location,
 *               dovecot_running, dovecot_test_port
 *   logging     dovecot_logging
 *   postfix     postfix_installed, postfix_delivery, postfix_lock
 *   uwimap      uw_services, uw_listener, uw_sessions
 *   accounts    account_freeze, skel_maildir
 *   time        time_estimate
 * A check whose prerequisite failed (no Dovecot: no dovecot_config ...)
 * is left out rather than given a made-up status.
 */

#include <stdbool.h>
#include <stddef.h>

#include "dovecot-conf.h"
#include "fs-checks.h"
#include "time-model.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "plan.h"

struct pf_tools;

/* ---- the report ---- */

#define CHECK_MAX_VALUES 8
/* Entries kept per check; entries_total counts all of them. */
#define CHECK_MAX_ENTRIES 200

/* A string fact (JSON "values"): KEY static and untranslated, VALUE
 * owned. */
struct check_value {
	const char *key;
	char *value;
};

/* One thing a check found (JSON "entries"). */
struct check_entry {
	char *subject;		/* owned: "alice/mail/a.b", a file, a user */
	const char *kind;	/* static id: "dot", "symlink", "locked" ... */
	char *text;		/* owned, translated: what is wrong */
	char *suggestion;	/* owned or NULL: a new name */
};

struct check_item {
	const char *group;	/* static id: "filesystem" ... */
	struct check_result res;
	struct check_value values[CHECK_MAX_VALUES];
	size_t nvalues;
	struct check_entry *entries;	/* owned */
	size_t nentries;
	size_t entries_total;	/* found, including those not kept */
};

struct checks_report {
	struct check_item *items;	/* owned, in checklist order */
	size_t nitems;
};

void checks_report_init(struct checks_report *rep);
void checks_report_free(struct checks_report *rep);
/* A new PASS item (NULL when out of memory).  GROUP, ID: static. */
struct check_item *checks_add(struct checks_report *rep, const char *group,
			      const char *id, const char *title);
/* Copies RES (from fs_checks_run) as an item of GROUP. */
struct check_item *checks_add_result(struct checks_report *rep,
				     const char *group,
				     const struct check_result *res);
/* VALUE NULL is stored as "".  0 or -1 (full / no memory). */
int check_item_value(struct check_item *item, const char *key,
		     const char *value);
const char *check_item_get_value(const struct check_item *item,
				 const char *key);
int check_item_entry(struct check_item *item, const char *subject,
		     const char *kind, const char *text,
		     const char *suggestion);
/* Raise ITEM's status to STATUS (never lowers) */
void check_item_raise(struct check_item *item, enum check_status status);
/* The item with ID, or NULL. */
const struct check_item *checks_find(const struct checks_report *rep,
				     const char *id);
/* The worst status, and how many of each (COUNTS[3] may be NULL). */
enum check_status checks_worst(const struct checks_report *rep,
			       size_t counts[3]);

/* ---- folders and sources (from the plan) ---- */

/* The characters the runbook calls "problematic when handled by scripts"
 * (quotation marks, commas, pound signs, '&' ...) plus the shell's own. */
#define CHECK_SCRIPT_CHARS "\"'`,#&;$|<>*?\\!"

/* folder_names: FAIL when a folder needs a new name (PLAN_SKIP_NAME: it
 * would not be migrated), each listed with its problem and suggestion.
 * folder_chars: PASS, listing the taken names with CHECK_SCRIPT_CHARS:
 * mbox2dovecot never hands a name to a shell, they migrate as they are;
 * the list is for the admin's own scripts. */
void checks_eval_folders(const struct plan *plan, struct checks_report *rep);

/*
 * messages: totals (users, folders, messages, bytes) from EST; WARN when
 * folders could not be scanned.  users_without_inbox: PASS, counted and
 * listed (they get an empty INBOX).  unreadable: FAIL.  skipped (not an
 * mbox, dot files, special files, missing): PASS with the list.  mbx:
 * WARN.  symlinks: WARN.  locked: WARN when LOCKED[i] (one per
 * plan->folders[i], may be NULL) says a folder is being written now.
 */
void checks_eval_sources(const struct plan *plan,
			 const struct fs_estimate *est, const bool *locked,
			 struct checks_report *rep);

/* Is the mbox at PATH being written right now?  A fresh PATH.lock
 * (younger than DOTLOCK_STALE_SECS), or an fcntl() write lock on it.
 * Reads only (never removes a lock, never takes one). */
bool checks_mbox_locked(const char *path);

/* ---- target ---- */

struct check_target_facts {
	char base[FS_PATH_MAX];
	bool exists;		/* BASE exists (and is a directory) */
	bool not_dir;		/* BASE exists and is something else */
	bool creatable;		/* nearest existing ancestor writable */
	char ancestor[FS_PATH_MAX];	/* that ancestor */
	unsigned long long entries;	/* entries in BASE */
	unsigned long long ours;	/* of these, made by us (journal) */
	char foreign[FS_NAME_MAX];	/* the first entry not ours */
	bool journal;			/* WORK/journal exists */
	int list_errno;			/* BASE could not be listed */
	bool same_fs_spool, same_fs_homes;
	char spool[FS_PATH_MAX], homes[FS_PATH_MAX];
};

int checks_probe_target(const struct m2d_config *cfg,
			const char *scratch_dir,
			struct check_target_facts *facts,
			struct m2d_error *err);
void checks_eval_target(const struct check_target_facts *facts,
			struct checks_report *rep);

/* ---- Dovecot (check-services.c) ---- */

#define CHECK_VALUE_MAX 1024

struct check_dovecot_facts {
	bool installed;
	char version[64];		/* "2.3.19" */
	enum dc_syntax syntax;
	char error[CHECK_VALUE_MAX];	/* why not installed / no config */
	bool conf_ok;			/* doveconf read the config */
	char conf_path[FS_PATH_MAX];
	enum dc_layout layout;
	bool local_conf;
	char mail_location[CHECK_VALUE_MAX];
	int running;			/* 1, 0, -1 unknown */
	long pid;
	char pidfile[FS_PATH_MAX];
	char test_address[64];
	unsigned int test_port;
	int test_port_free;		/* 1, 0, -1 unknown */
	int test_port_errno;
	/* where Dovecot logs now */
	char log_path[CHECK_VALUE_MAX];
	char info_log_path[CHECK_VALUE_MAX];
	char debug_log_path[CHECK_VALUE_MAX];
	char syslog_facility[CHECK_VALUE_MAX];
};

int checks_probe_dovecot(const struct dc_tools *tools, const char *conf_path,
			 const char *test_address, unsigned int test_port,
			 struct check_dovecot_facts *facts);
void checks_eval_dovecot(const struct check_dovecot_facts *facts,
			 struct checks_report *rep);
void checks_eval_logging(const struct check_dovecot_facts *facts,
			 struct checks_report *rep);

/* ---- Postfix ---- */

struct check_postfix_facts {
	bool installed;
	char version[64];
	char error[CHECK_VALUE_MAX];
	char config_dir[FS_PATH_MAX];
	char mail_spool_directory[CHECK_VALUE_MAX];
	char home_mailbox[CHECK_VALUE_MAX];
	char mailbox_command[CHECK_VALUE_MAX];
	char mailbox_transport[CHECK_VALUE_MAX];
	char mailbox_delivery_lock[CHECK_VALUE_MAX];
};

int checks_probe_postfix(const struct pf_tools *tools,
			 struct check_postfix_facts *facts);
void checks_eval_postfix(const struct check_postfix_facts *facts,
			 struct checks_report *rep);

/* ---- UW-IMAP ---- */

struct check_uw_facts {
	unsigned int enabled;		/* service entries enabled */
	unsigned int disabled;		/* entries present, disabled */
	char files[CHECK_VALUE_MAX];	/* the enabled ones, ", " */
	char address[64];		/* where the ports were probed */
	unsigned int imap_port, imaps_port;	/* imap_port, imaps_port of
						 * the config; 0: off */
	int imap_listening, imaps_listening;	/* 1, 0, -1 unknown */
	unsigned int imapd_processes;		/* "imapd" in /proc */
	bool dovecot_running;		/* a listener may be Dovecot's */
};

/* ROOT: "/" or a scratch root holding etc/xinetd.d, etc/inetd.conf.
 * PROC: "/proc".  Listeners probed on ADDR (checks_run: the config's
 * imap_address, else 127.0.0.1) at the ports (imap_port and imaps_port of
 * the config; IMAPS_PORT 0 is off and not probed). */
int checks_probe_uw(const char *root, const char *proc, const char *addr,
		    unsigned int imap_port, unsigned int imaps_port,
		    struct check_uw_facts *facts);
/* Is something listening on ADDR:PORT (TCP connect, 1 s)?  1, 0, -1. */
int checks_tcp_listening(const char *addr, unsigned int port);
/* Could we bind ADDR:PORT now?  1 free, 0 in use, -1 unknown (*ERRNO_R). */
int checks_tcp_free(const char *addr, unsigned int port, int *errno_r);
void checks_eval_uw(const struct check_uw_facts *facts,
		    struct checks_report *rep);

/* ---- accounts ---- */

struct check_accounts_facts {
	bool skel_exists;
	bool skel_cur, skel_new, skel_tmp;	/* ROOT/etc/skel/{cur,new,tmp} */
	bool maildir_in_home;	/* new accounts get their maildir in the
				 * home (home_mailbox, or target = homes) */
	bool runbook_adds;	/* step 19 adds cur/ new/ tmp/ (skel_dir set
				 * or postfix_delivery "home") */
	char skel[FS_PATH_MAX];
};

/* The skeleton: CFG's skel_dir, else ACCOUNTS_ROOT/etc/skel when
 * accounts_root is set, else ROOT/etc/skel (as step 19 finds it). */
int checks_probe_accounts(const char *root, const struct m2d_config *cfg,
			  const struct check_postfix_facts *postfix,
			  struct check_accounts_facts *facts);
void checks_eval_accounts(const struct check_accounts_facts *facts,
			  struct checks_report *rep);

/* ---- time ---- */

#define CHECK_TIME_SAMPLES_MAX 32

struct check_time_facts {
	unsigned int sample_folders;	/* converted in the sample */
	unsigned long long sample_messages, sample_bytes;
	double sample_seconds;
	/* each sample folder: staged, its share of the installs */
	struct time_sample samples[CHECK_TIME_SAMPLES_MAX];
	double sync_seconds;		/* the one sync after staging */
	unsigned long long total_bytes;	/* every taken folder */
	unsigned long long total_messages;	/* 0: from the sample's mean */
	unsigned long long inbox_bytes;	/* the INBOXes */
	unsigned long long inbox_folders;
	unsigned long long total_folders;
	int jobs;			/* workers of the real run */
	char error[CHECK_VALUE_MAX];	/* the sample failed: why */
};

/* Converts up to NFOLDERS (at most CHECK_TIME_SAMPLES_MAX) taken folders
 * of PLAN, spread over the size order from the smallest up, at most
 * MAX_BYTES together (the first is always taken), as migrate does:
 * each staged (timed alone), one sync for all (timed), each installed;
 * into a fresh directory under SCRATCH_DIR, then removes it.  Sources
 * are only read (no dotlock is created). */
int checks_probe_time(const struct plan *plan, const struct m2d_config *cfg,
		      const char *scratch_dir, unsigned int nfolders,
		      unsigned long long max_bytes,
		      struct check_time_facts *facts);
void checks_eval_time(const struct check_time_facts *facts,
		      struct checks_report *rep);

/* ---- everything ---- */

struct checks_settings {
	const struct m2d_config *cfg;
	const struct plan *plan;
	struct dc_tools dovecot;
	const char *dovecot_conf;	/* NULL: /etc/dovecot/dovecot.conf */
	const struct pf_tools *postfix;
	const char *test_address;	/* NULL: 127.0.0.1 */
	unsigned int test_port;		/* 0: 1043 */
	const char *root;		/* NULL: "/" */
	const char *proc;		/* NULL: "/proc" */
	const char *scratch_dir;	/* NULL: $TMPDIR or /tmp */
	unsigned int sample_folders;	/* 0: 3 */
	unsigned long long sample_max_bytes;	/* 0: 64 MiB */
	const struct fs_probe *probe;	/* NULL: the system */
	/* called before each group ("sources"...), may be NULL */
	void (*progress)(const char *group, void *ctx);
	void *ctx;
};

/*
 * SET as the configuration CFG names the system: Dovecot's tools and
 * config, Postfix's tools (filled into PF, which SET points to), the test
 * listener, services_root; PLAN.  The one way step 0 and "mbox2dovecot
 * check" set up the checks; the caller may then set the scratch dir, the
 * sample size and the progress.  The UW-IMAP ports and /etc/skel come
 * from CFG in checks_run() itself.
 */
void checks_settings_from_config(struct checks_settings *set,
				 const struct m2d_config *cfg,
				 const struct plan *plan, struct pf_tools *pf);

/*
 * Runs every check into REP (initialized by the caller).  Returns the
 * worst status (0..2), or -1 with ERR when the checks could not run
 * (the target's file system could not be probed, the scan failed, out of
 * memory).
 */
int checks_run(const struct checks_settings *set, struct checks_report *rep,
	       struct m2d_error *err);

#endif
