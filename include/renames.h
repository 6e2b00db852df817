/* SPDX-License-Identifier: MIT */
#ifndef M2D_RENAMES_H
#define M2D_RENAMES_H

/*
 * Rename decisions without the wizard: a file of lines
 *
 *     SOURCE<TAB>NEW NAME
 *     SOURCE<TAB>-
 *
 * SOURCE is a folder as the plan lists it ("fred/mail/a.b", the
 * "listed" field of struct plan_folder); NEW NAME is the IMAP name it gets
 * ('/' between levels, UTF-8); "-" leaves the folder out (not migrated).
 * Each field is escaped as the plan's lists are (str_line_escape: '\\',
 * TAB, LF, CR and other control bytes as "\\\\", "\\t", "\\n", "\\r",
 * "\\xHH"; a space and 8-bit bytes stay as they are), so any source name,
 * Latin-1 bytes included, fits on one line.  Blank lines and lines
 * starting with '#' are ignored.  The wizard's step 4 writes its decisions
 * in this form (WORK_DIR/renames); --renames FILE reads one.
 *
 * Every NEW NAME is checked as the wizard's rename editor checks a typed
 * name (plan_rename_problem()): a name Dovecot and Maildir++ take, and
 * not the name (the directory) of another folder of that user, existing
 * or renamed.  A bad line, a name that cannot be used, a source listed
 * twice or a source that is no folder of a planned user is refused with
 * the file and line number.  A source of a user who is not in the plan,
 * or (with a folderlist) a folder not in it -- a file written for the
 * whole site, a run over some users or folders -- is ignored.
 */

#include <stdbool.h>
#include <stddef.h>

#include "m2d-config.h"
#include "m2d-error.h"
#include "plan.h"

struct rename_list {
	struct plan_rename *items;	/* strings owned by the list */
	unsigned long *lines;		/* line in PATH; 0: not from a file */
	size_t n, cap;
	char *path;			/* the file read, or NULL */
};

/* Reads PATH into L (initialised here).  0, or -1 with ERR (file:line). */
int rename_list_read(const char *path, struct rename_list *l,
		     struct m2d_error *err);
/* Adds (or replaces) the decision for LISTED; NAME NULL: excluded. */
void rename_list_set(struct rename_list *l, const char *listed,
		     const char *name, unsigned long line);
void rename_list_free(struct rename_list *l);

/* The file's text for the N decisions R (allocated). */
char *rename_list_text(const struct plan_rename *r, size_t n);
/* Writes that text to PATH (temp file + rename, mode 0600). */
int rename_list_write(const char *path, const struct plan_rename *r,
		      size_t n, struct m2d_error *err);

/*
 * The check of step 4's editor: may folder FOLDER (an index into
 * PLAN->folders; (size_t)-1: no folder, only the name itself is checked)
 * be named NAME?  NULL when it may, else the reason (translated; in BUF
 * of SIZE, or a constant string).  Checked: the name as the plan names a
 * path (folder_name_from_path) and as a Maildir++ directory
 * (folder_name_to_maildir); then against the names of the user's other
 * folders (taken, renamed, or the name another one waits to lose): two
 * names with one directory are a clash.
 */
const char *plan_rename_problem(const struct plan *plan, size_t folder,
				const char *name, char *buf, size_t size);

/* The index of the folder LISTED in PLAN, or (size_t)-1. */
size_t plan_find_folder(const struct plan *plan, const char *listed);

/* After plan_build() with L's decisions: each decision of L checked
 * against PLAN (see above).  ALL_FOLDERS: PLAN holds every folder of its
 * users (discovery), so a source it lacks is an error; else (a
 * folderlist, a subset) such a line is ignored.  0, or -1 with ERR
 * naming L->path and the line. */
int rename_list_check(const struct plan *plan, const struct rename_list *l,
		      bool all_folders, struct m2d_error *err);

/*
 * plan_build() with the decisions of the file RENAMES_PATH (NULL: none)
 * checked by rename_list_check(), and, when ACCEPT_SUGGESTED, every
 * suggested name taken for the folders still undecided (the wizard's
 * "accept all").  SRC's own renames are ignored.  0, or -1 with ERR
 * (PLAN then empty).
 */
int plan_build_decided(const struct m2d_config *cfg,
		       const struct plan_source *src,
		       const char *renames_path, bool accept_suggested,
		       struct plan *plan, struct m2d_error *err);

#endif
