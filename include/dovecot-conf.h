/* SPDX-License-Identifier: MIT */
#ifndef M2D_DOVECOT_CONF_H
#define M2D_DOVECOT_CONF_H

/*
 * Dovecot's configuration: which version and layout are installed, our
 * settings (mail location, protocols, the test listener or the normal
 * ports, the log destination) in the syntax of that version, and the edit
 * that puts them in place as ONE removable unit:
 *
 *   - a conf.d layout (dovecot.conf includes every conf.d file ending in
 *     .conf, Debian and RHEL): a file of ours, conf.d/99-mbox2dovecot.conf,
 *     loaded last of that glob (glob() sorts; seen here with doveconf
 *     2.3.19);
 *   - a single dovecot.conf: a block between "# BEGIN mbox2dovecot" and
 *     "# END mbox2dovecot" at the end of the file (the last assignment
 *     wins, and repeated "service imap-login { inet_listener imap {} }"
 *     sections merge setting by setting: seen here with doveconf 2.3.19).
 *
 * An edit is data (struct dc_edit: the file, its old and new text, a
 * unified diff).  dc_apply() validates it on a copy of the whole config
 * tree with "doveconf -c COPY/dovecot.conf -n" and checks that our values
 * are the effective ones, backs up the original into WORK/dovecot-conf/
 * (never beside the live files: a *.conf backup in conf.d would be loaded),
 * writes the live file by temp + rename and records a manifest there;
 * dc_undo() puts the original back byte for byte (or removes our file).
 *
 * Every function returns 0 (or 1/0 where stated) on success and -1 with ERR
 * filled on failure; nothing prints, nothing exits.  Strings returned in
 * structs are allocated and owned by the struct (free with its _free()).
 */

#include <stdbool.h>

#include "m2d-config.h"
#include "m2d-error.h"

/* Command lines of the tools, split at spaces (no shell).  NULL members
 * mean "dovecot" and "doveconf" looked up in PATH. */
struct dc_tools {
	const char *dovecot;
	const char *doveconf;
};

/* The tools as mbox2dovecot.conf names them (pointers into CFG). */
void dc_tools_from_config(const struct m2d_config *cfg, struct dc_tools *t);

/* Which syntax a Dovecot version reads. */
enum dc_syntax {
	DC_SYNTAX_UNKNOWN = 0,
	DC_SYNTAX_0_99,	/* default_mail_env, imap_listen = ADDR:PORT */
	DC_SYNTAX_1,	/* 1.0-1.2: mail_location, protocol imap { listen } */
	DC_SYNTAX_2,	/* 2.0-2.3: mail_location, service imap-login {...} */
	DC_SYNTAX_2_4,	/* 2.4+: mail_driver/mail_path, %{user}, listen */
};

struct dc_version {
	unsigned int major, minor, patch;
};

/* "2.3.19.1 (9b53102964)" -> 2.3.19.  Returns 0, or -1 (M2D_ERR_USAGE). */
int dc_version_parse(const char *text, struct dc_version *version_r,
		     struct m2d_error *err);
enum dc_syntax dc_syntax_for(const struct dc_version *version);
/* "0.99", "1.x", "2.0-2.3", "2.4" */
const char *dc_syntax_name(enum dc_syntax syntax);

/* Runs "dovecot --version". */
int dc_detect_version(const struct dc_tools *tools,
		      struct dc_version *version_r, struct m2d_error *err);

enum dc_layout {
	DC_LAYOUT_SINGLE,	/* one dovecot.conf: our marked block */
	DC_LAYOUT_CONFD,	/* conf.d files included: our own file */
};

#define DC_UNIT_FILE "99-mbox2dovecot.conf"
#define DC_BLOCK_BEGIN "# BEGIN mbox2dovecot"
#define DC_BLOCK_END "# END mbox2dovecot"
/* Our unit records the protocols the admin had before it (a comment),
 * because once it is in place doveconf shows ours: test mode leaves pop3
 * out, and the cutover must bring it back. */
#define DC_PROTOCOLS_BEFORE "# protocols before mbox2dovecot: "

struct dc_layout_info {
	enum dc_layout layout;
	bool local_conf;	/* "!include_try local.conf" (read after ours) */
	char *conf_path;	/* dovecot.conf as given */
	char *conf_dir;		/* its directory: relative includes start here */
	char *unit_path;	/* the file that holds our unit */
};

/* Reads CONF_PATH (without following includes) for the include lines. */
int dc_detect_layout(const char *conf_path, struct dc_layout_info *info_r,
		     struct m2d_error *err);
void dc_layout_info_free(struct dc_layout_info *info);

/* POP3 UIDLs as UW-IMAP's ipop3d gave them ("%08lx%08lx" of UIDVALIDITY
 * and UID): pop3_uidl_format in the unit.  AUTO: when pop3 (or pop3s) is
 * among current_protocols (it is or will be enabled: in test mode pop3 is
 * left out only while UW's ipop3d holds 110). */
enum dc_pop3_uidl {
	DC_POP3_UIDL_NO = 0,
	DC_POP3_UIDL_AUTO,
	DC_POP3_UIDL_YES,
};

enum dc_listen {
	DC_LISTEN_TEST,		/* only ADDR:PORT; imaps and pop3 off (UW runs) */
	DC_LISTEN_NORMAL,	/* cutover: the normal IMAP/IMAPS ports */
};

struct dc_settings {
	const char *target;		/* maildir base, "/data/mail2" */
	bool hashed;			/* BASE/%1u/%u instead of BASE/%u */
	enum dc_listen listen;
	const char *test_address;	/* DC_LISTEN_TEST: "127.0.0.1" */
	unsigned int test_port;		/* DC_LISTEN_TEST: 1043 */
	const char *normal_address;	/* DC_LISTEN_NORMAL: NULL = default */
	unsigned int imap_port;		/* DC_LISTEN_NORMAL: 143 */
	unsigned int imaps_port;	/* DC_LISTEN_NORMAL: 993, 0 = off */
	/* Protocols the installed config has now ("doveconf -h protocols"),
	 * NULL = none known: imap is always first; pop3 is kept in normal
	 * mode only (UW's ipop3d may hold 110 while it runs); 1.x's
	 * imaps/pop3s are added back in normal mode; others are kept. */
	const char *current_protocols;
	/* log_path (a file), or NULL to keep/choose syslog. */
	const char *log_path;
	/* With log_path NULL: the syslog facility ("mail", "local0"...),
	 * or NULL to leave logging alone. */
	const char *syslog_facility;
	/* keep UW's POP3 UIDLs (default NO: nothing written). */
	enum dc_pop3_uidl pop3_uidl;
	/* The prefixes of hidden compatibility namespaces (uw-names.h:
	 * "mail/", "~/mail/", "~%u/mail/"; "%u" the user), NULL-terminated,
	 * or NULL: none.  Each is an alias of the INBOX namespace, hidden
	 * and not listed, so UW's old names resolve to the migrated
	 * folders (2.0 and later; 2.4 writes "%{user}" and names the
	 * namespace in alias_for). */
	const char *const *compat_prefixes;
};

/* Defaults: test mode on 127.0.0.1:1043, normal ports 143/993. */
void dc_settings_init(struct dc_settings *settings);

/* Our unit's body (without the BEGIN/END markers) in SYNTAX.  Returns an
 * allocated string, or NULL with ERR (M2D_ERR_USAGE: a bad setting). */
char *dc_generate(enum dc_syntax syntax, const struct dc_settings *settings,
		  struct m2d_error *err);

/* "yes", "no", "auto" (the configuration's pop3_uidl) to the enum;
 * -1 for anything else. */
int dc_pop3_uidl_parse(const char *value, enum dc_pop3_uidl *r);

/* The protocols line's value for SETTINGS in SYNTAX ("imap pop3"). */
char *dc_protocols(enum dc_syntax syntax, const struct dc_settings *settings);
/* Whether two values of "protocols" (as written, or as doveconf -h prints
 * them: "imap pop3", or 2.4's "imap = yes" lines) enable the same ones. */
bool dc_same_protocols(const char *a, const char *b);

/* ---- the edit (dovecot-conf-edit.c) ---- */

struct dc_edit {
	struct dc_layout_info layout;
	enum dc_syntax syntax;
	char *live_path;	/* the file written: unit_path */
	bool live_existed;	/* it exists now */
	char *old_text;		/* its bytes now ("" when absent) */
	char *new_text;		/* its bytes after the edit */
	char *diff;		/* unified diff old -> new; "" when equal */
	/* Effective values to check after validation (NULL = no check). */
	char *expect_mail_location;	/* up to 2.3 */
	char *expect_mail_path;		/* 2.4 */
	char *expect_protocols;
	unsigned int expect_imap_port;
};

/* Builds the edit for CONF_PATH and SETTINGS in SYNTAX: the unit is
 * generated, an earlier unit of ours is replaced.  Changes nothing. */
int dc_edit_plan(const char *conf_path, enum dc_syntax syntax,
		 const struct dc_settings *settings, struct dc_edit *edit_r,
		 struct m2d_error *err);
void dc_edit_free(struct dc_edit *edit);

/* Old text without our unit: the single file without the marked block
 * (allocated), for a config that has one. */
char *dc_strip_block(const char *text);

/* A unified diff of OLD_TEXT against NEW_TEXT ("--- OLD_NAME" /
 * "+++ NEW_NAME", one hunk with 3 lines of context).  Allocated. */
char *dc_unified_diff(const char *old_name, const char *old_text,
		      const char *new_name, const char *new_text);

/* Copies the config tree to a temp directory, applies EDIT there and runs
 * "doveconf -c COPY/dovecot.conf -n".  doveconf's "Error in configuration
 * file F line N: MSG" becomes ERR (M2D_ERR_USAGE, path = the LIVE file F
 * stands for, line N).  Then checks with "doveconf -h" that our values are
 * the effective ones (a local.conf read after ours may override them:
 * M2D_ERR_USAGE).  Only valid for the installed version's syntax. */
int dc_validate(const struct dc_tools *tools, const struct dc_edit *edit,
		struct m2d_error *err);

/* dc_validate(), then backs the live file up into WORK_DIR/dovecot-conf/
 * (created 0700), writes it (temp + rename, the original's mode and
 * owner, 0644 root for a new file) and writes the manifest. */
int dc_apply(const struct dc_tools *tools, const struct dc_edit *edit,
	     const char *work_dir, struct m2d_error *err);

/* Undoes the last dc_apply() recorded in WORK_DIR: the backup is written
 * back byte for byte (or our new file removed).  Refuses (M2D_ERR_CHANGED)
 * when the live file is no longer what we wrote.  Returns 1 undone, 0
 * nothing to undo. */
int dc_undo(const char *work_dir, struct m2d_error *err);

/* Reads one effective setting: "doveconf -c CONF_PATH -h KEY", trailing
 * newline and leading blanks removed.  Allocated. */
int dc_read_setting(const struct dc_tools *tools, const char *conf_path,
		    const char *key, char **value_r, struct m2d_error *err);

#endif
