/* SPDX-License-Identifier: MIT */
#ifndef M2D_WIZARD_H
#define M2D_WIZARD_H

/*
 * The ncurses wizard: walks the administrator through the runbook.  A
 * thin view over the runbook engine (runbook.h): it opens the runbook,
 * draws its state, and sends it the admin's commands (run, skip, undo,
 * confirm, renames, test users).  It owns no migration state: quitting at
 * any moment loses nothing, the state is saved by the engine.
 *
 * This header does not include curses: the command line calls it.
 */

#include <stdbool.h>

#include "runbook.h"

struct wizard_options {
	/* config_path, override, cancel (may be NULL), imap_password; the
	 * wizard sets event itself */
	struct rb_options rb;
	int start_step;		/* --step N; -1: the next step */
	bool resume;		/* --resume: go on without asking */
	bool force;		/* --force: run steps whose prerequisites
				 * are missing */
};

/*
 * Runs the wizard on the terminal (stdin/stdout must be one).  Returns 0
 * when the admin quit (the state is saved), -1 with ERR when the runbook
 * could not be opened or the terminal not used.
 */
int wizard_run(const struct wizard_options *opts, struct m2d_error *err);

#endif
