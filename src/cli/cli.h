/* SPDX-License-Identifier: MIT */
#ifndef M2D_CLI_H
#define M2D_CLI_H

/* The command line: one cli-*.c per command, sharing these. */

#include <stdbool.h>
#include <stdio.h>

#include "m2d-config.h"
#include "m2d-error.h"
#include "plan.h"

/* Exit codes (documented in README and mbox2dovecot(1)). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* the work failed; the target is unchanged */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_TRYLATER = 3,	/* source locked or changed, or cancelled:
				   run again */
	EXIT_DECIDE = 4,	/* the runbook waits for a decision or a
				   confirmation (--batch without --yes) */
};

extern const char *cli_progname;

/* "mbox2dovecot: MSG" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --help: the usage lines, then the runbook's options (cli-runbook.c;
 * the top level's usage and the runbook's share them). */
void cli_usage_head(FILE *out);
void cli_runbook_options_help(FILE *out);
/* The error object, with the file, line and system error. */
void cli_report(const struct m2d_error *err);
/* "mbox2dovecot: warning: ..." */
void cli_warning(const struct m2d_error *err);
/* Exit code for a failed operation. */
int cli_exit_for(const struct m2d_error *err);

/* USER, or UID:GID, to numbers.  Returns 0 or -1 (message printed). */
int cli_parse_owner(const char *arg, int *uid_r, int *gid_r);

/*
 * The options every command over a plan shares: the configuration file,
 * then the paths and lists that override it.  CLI_PLAN_OPTIONS goes into a
 * getopt_long table; cli_plan_option() takes what getopt_long returned.
 */
struct cli_plan_opts {
	struct m2d_config cfg;
	const char *config;		/* the file loaded, or NULL */
	char **users;			/* --users, NULL-terminated */
	const char *userlist;
	const char *folderlist;
	const char *renames;		/* --renames FILE (renames.h) */
	bool accept_suggested;		/* --accept-suggested-names */
	unsigned int shard, shards;	/* --shard K/N; N 0: none */
};

/* getopt_long values of the long-only plan options */
enum { CLI_OPT_RENAMES = 0x100, CLI_OPT_ACCEPT_NAMES, CLI_OPT_SHARD };

#define CLI_PLAN_OPTIONS \
	{ "config", required_argument, NULL, 'c' }, \
	{ "spool", required_argument, NULL, 's' }, \
	{ "homes", required_argument, NULL, 'H' }, \
	{ "target", required_argument, NULL, 't' }, \
	{ "work", required_argument, NULL, 'w' }, \
	{ "users", required_argument, NULL, 'u' }, \
	{ "userlist", required_argument, NULL, 'U' }, \
	{ "folderlist", required_argument, NULL, 'F' }, \
	{ "jobs", required_argument, NULL, 'j' }, \
	{ "renames", required_argument, NULL, CLI_OPT_RENAMES }, \
	{ "accept-suggested-names", no_argument, NULL, CLI_OPT_ACCEPT_NAMES }, \
	{ "shard", required_argument, NULL, CLI_OPT_SHARD }

int cmd_report(int argc, char **argv);

/* Load --config FILE (or /etc/mbox2dovecot.conf when it exists) before the
 * other options are parsed.  Returns 0 or -1 (reported). */
int cli_plan_opts_init(struct cli_plan_opts *o, int argc, char **argv);
/* 1: C was a plan option and is taken; 0: not one; -1: bad (reported). */
int cli_plan_option(struct cli_plan_opts *o, int c, const char *arg);
/* After parsing: the settings checked again, the source zone set. */
int cli_plan_opts_done(struct cli_plan_opts *o);
void cli_plan_opts_free(struct cli_plan_opts *o);
/* The plan of the options: users, folders, and the rename decisions
 * (--renames, --accept-suggested-names).  0, or -1 with ERR. */
int cli_plan_build(const struct cli_plan_opts *o, struct plan *plan,
		   struct m2d_error *err);

/* Seconds since an arbitrary point, for rates. */
double cli_now(void);

int cmd_convert(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_migrate_users(int argc, char **argv);
int cmd_migrate_folders(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_clear(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_dovecot_conf(int argc, char **argv);
int cmd_postfix_conf(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
/* No command, or only options: the wizard, or the runbook headless. */
int cmd_runbook(int argc, char **argv);
int cmd_rollback(int argc, char **argv);

#endif
