/* SPDX-License-Identifier: MIT */
#ifndef M2D_RUN_CMD_H
#define M2D_RUN_CMD_H

/*
 * Running the system's tools (doveadm, doveconf, postconf, service
 * commands, the delivery test's sendmail): execvp(), never a shell,
 * standard input from /dev/null or a given text, standard output
 * captured, standard error captured apart, both NUL-terminated.
 */

#include <stddef.h>

#include "m2d-error.h"

struct run_output {
	char *out;		/* allocated; stdout */
	char *err;		/* allocated; stderr */
	int status;		/* exit status, or 128+signal */
};

/* Run ARGV (argv[0] looked up in PATH).  Returns 0 when it ran (whatever
 * its exit status), -1 when it could not be started (ERR). */
int run_cmd(char *const argv[], struct run_output *output,
	    struct m2d_error *err);
/* As run_cmd(), with LEN bytes of INPUT on the command's standard input
 * (written while its output is read, then closed; NULL: /dev/null).  A
 * command that exits before reading it all is no error here: its exit
 * status tells. */
int run_cmd_input(char *const argv[], const char *input, size_t len,
		  struct run_output *output, struct m2d_error *err);
void run_output_free(struct run_output *output);

/* A command that prints nothing (standard output or error) for this many
 * seconds is killed, and run_cmd() fails saying so: doveadm blocks for
 * good on a FIFO a user planted in a maildir.  0: no limit.  For the
 * whole process (the command_timeout setting). */
#define RUN_CMD_SILENCE_DEFAULT 300
void run_cmd_set_silence_limit(unsigned secs);

/* Split a configured command line at spaces into a NULL-terminated
 * array, with EXTRA (NULL-terminated) appended.  Free with free(). */
char **run_cmd_argv(const char *cmdline, const char *const *extra);

#endif
