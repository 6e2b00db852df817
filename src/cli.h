#ifndef M2D_CLI_H
#define M2D_CLI_H

/* The command line: one cli-*.c per command, sharing these. */

#include <stdbool.h>

#include "m2d-error.h"

/* Exit codes (documented in README and mbox2dovecot(1)). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* the work failed; the target is unchanged */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_TRYLATER = 3,	/* source locked or changed: run again */
};

extern const char *cli_progname;

/* "mbox2dovecot: MSG" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error object, with the file, line and system error. */
void cli_report(const struct m2d_error *err);
/* "mbox2dovecot: warning: ..." */
void cli_warning(const struct m2d_error *err);
/* Exit code for a failed operation. */
int cli_exit_for(const struct m2d_error *err);

/* USER, or UID:GID, to numbers.  Returns 0 or -1 (message printed). */
int cli_parse_owner(const char *arg, int *uid_r, int *gid_r);

/* Seconds since an arbitrary point, for rates. */
double cli_now(void);

int cmd_convert(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_migrate_users(int argc, char **argv);
int cmd_migrate_folders(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_clear(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
