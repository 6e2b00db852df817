/* SPDX-License-Identifier: MIT */
#ifndef M2D_RUNBOOK_H
#define M2D_RUNBOOK_H

/*
 * The runbook engine: the 22 steps of "Replacing UW-IMAP with Dovecot"
 * (plus step 0, the pre-flight checks) as a table of data, a saved state,
 * and a runner that does each step's real work through the layers below
 * (checks, plan, migrate, dovecot-conf, postfix-conf, services, accounts,
 * imap-test).  It runs headless: the ncurses wizard draws this model and
 * sends it commands; --batch drives the same functions without screens.
 *
 * State: WORK_DIR/state (libconfuse), written by temp file + rename after
 * every change: the choices (test users, renames, exclusions,
 * confirmations) and each step's status with its times and result.  A run
 * killed in the middle of a step finds that step "running" on the next
 * open: it is pending again, and every step is idempotent or knows how far
 * it got (the migration's journal, the config backups), so running it
 * again is safe.
 *
 * Nothing here prints, exits or reads a terminal.  Functions return 0 (or
 * 1/0 where stated) and -1 with ERR filled.  Progress and messages go to
 * the event callback.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "checks.h"
#include "imap-test.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "migrate.h"
#include "plan.h"

#define RB_NSTEPS 23		/* 0 (checks) .. 22 (report) */

enum rb_status {
	RB_PENDING,
	RB_RUNNING,		/* only while it runs (or a run was killed) */
	RB_DONE,
	RB_FAILED,
	RB_SKIPPED,		/* by the admin, with a reason */
};

enum rb_flag {
	RB_CHANGES = 1 << 0,	/* changes something (files, services) */
	RB_CONFIRM = 1 << 1,	/* destructive: needs an explicit Yes */
	RB_GATE = 1 << 2,	/* later steps need it passed, not skipped */
	RB_DECIDE = 1 << 3,	/* needs the admin's choices first */
};

/* Which kind of page the wizard draws for a step. */
enum rb_page {
	RB_PAGE_TEXT,		/* what it does; a confirmation */
	RB_PAGE_CHECKS,		/* the checklist (rb_checks) */
	RB_PAGE_USERS,		/* the user list (rb_plan) */
	RB_PAGE_FOLDERS,	/* the folder list with the renames */
	RB_PAGE_SUBSET,		/* choose the test users */
	RB_PAGE_DIFF,		/* a config edit: rb_preview's diff */
	RB_PAGE_MIGRATE,	/* per-folder lines and a gauge */
	RB_PAGE_IMAP,		/* the IMAP test's checks */
	RB_PAGE_REPORT,		/* the final report */
};

struct runbook;

struct rb_step_def {
	int number;
	const char *id;		/* "checks", "freeze" ... (state, JSON) */
	const char *title;	/* N_(): translate with _() when shown */
	const char *what;	/* N_(): what it does and why */
	const char *runbook;	/* N_(): what the runbook says (help) */
	const char *undo;	/* N_(): how it is undone; NULL: nothing */
	uint32_t needs;		/* bit N: step N done (or skipped) first */
	unsigned int flags;	/* enum rb_flag */
	enum rb_page page;
	int (*run)(struct runbook *rb, struct m2d_error *err);
	int (*undo_fn)(struct runbook *rb, struct m2d_error *err);
	/* The dependency graph of undo: bit N, what this step did (or what
	 * its result says) holds only while step N's change is in place.
	 * Undoing N first undoes every done step that relies on it, directly
	 * or through others, newest first (rb_undo_chain). */
	uint32_t relies;
};

extern const struct rb_step_def rb_steps[RB_NSTEPS];

struct rb_step_state {
	enum rb_status status;
	time_t started, finished;
	char *result;		/* one line, translated, or NULL */
	char *reason;		/* why skipped, or NULL */
	bool confirmed;		/* RB_CONFIRM: the admin said Yes */
};

/* A folder the admin renamed or excluded at step 4. */
struct rb_rename {
	char *listed;		/* "fred/mail/a&b" as in the plan */
	char *name;		/* the new IMAP name; NULL: excluded */
};

/* ---- events ---- */

enum rb_event_kind {
	RB_EV_STEP,		/* a step's status changed */
	RB_EV_LOG,		/* a line of text for the admin */
	RB_EV_MIGRATE,		/* migration progress (migrate_report) */
};

struct rb_event {
	enum rb_event_kind kind;
	int step;
	const char *text;			/* RB_EV_LOG, translated */
	const struct migrate_report *migrate;	/* RB_EV_MIGRATE */
};

struct rb_options {
	const char *config_path;	/* mbox2dovecot.conf, or NULL */
	/* Overrides applied after the file (may be NULL). */
	void (*override)(struct m2d_config *cfg, void *ctx);
	void *override_ctx;
	/* Called from the running thread, or under a lock from migration
	 * workers. */
	void (*event)(const struct rb_event *ev, void *ctx);
	void *event_ctx;
	volatile sig_atomic_t *cancel;	/* set: stop cleanly, resumable */
	const char *imap_password;	/* not saved in the state */
	/* Step 4's decisions from a file (renames.h; the wizard writes
	 * WORK_DIR/renames in that form), taken at rb_open(); NULL none. */
	const char *renames_path;
	/* Step 4: take every suggested name (as --yes does for it). */
	bool accept_suggested;
	/* Changes nothing ("mbox2dovecot check"): the log is not written;
	 * the caller runs nothing that saves the state. */
	bool read_only;
};

/* Loads the config and WORK_DIR/state when it exists (a step found
 * "running" becomes pending).  Creates nothing: step 2 makes WORK_DIR. */
int rb_open(const struct rb_options *opts, struct runbook **rb_r,
	    struct m2d_error *err);
void rb_close(struct runbook **rb);

const struct m2d_config *rb_config(const struct runbook *rb);
/* A saved state was found at open (offer to resume). */
bool rb_has_state(const struct runbook *rb);
const struct rb_step_state *rb_step(const struct runbook *rb, int step);
/* The first step neither done nor skipped, RB_NSTEPS when all are. */
int rb_next_step(const struct runbook *rb);

/* 1 when STEP may run now; 0 with WHY (translated) when a step it needs
 * is not done, a gate before it did not pass, or it needs a
 * confirmation or a decision not yet given. */
int rb_can_run(const struct runbook *rb, int step, char *why, size_t size);

/* The first step STEP needs that is neither done nor (for a non-gate)
 * skipped, or -1 when every prerequisite is met. */
int rb_prerequisite(const struct runbook *rb, int step);

/* Runs STEP (rb_can_run() first unless FORCE).  Returns 1 done, 0 not run
 * (ERR says why: a missing prerequisite or decision), -1 failed (ERR;
 * the step is marked failed and the state saved). */
int rb_run_step(struct runbook *rb, int step, bool force,
		struct m2d_error *err);
/* Marks STEP skipped with REASON (required; never for RB_GATE steps
 * unless FORCE). */
int rb_skip_step(struct runbook *rb, int step, const char *reason,
		 bool force, struct m2d_error *err);
/* The steps done after STEP that rely on it (rb_step_def.relies,
 * followed through the steps that rely on those), newest first: what
 * undoing STEP undoes first.  Stores at most MAX in LIST; returns how
 * many there are. */
size_t rb_undo_chain(const struct runbook *rb, int step, int *list,
		     size_t max);
/* Undoes a changing step (its undo_fn) and marks it pending.  Refuses
 * (-1, ERR naming them) while a step of rb_undo_chain() is done.  Returns
 * 1 undone, 0 nothing to undo (no undo_fn). */
int rb_undo_step(struct runbook *rb, int step, struct m2d_error *err);
/* The same after the admin's one Yes for the whole chain: first each
 * step of rb_undo_chain(), newest first (its undo_fn, or pending again
 * when it has none: it must run again), each saved as it is done; then
 * STEP.  Stops at the first undo that fails (-1, ERR): what was undone
 * stays undone. */
int rb_undo_with_chain(struct runbook *rb, int step, struct m2d_error *err);
/* The admin's Yes (or No) for an RB_CONFIRM step; saved. */
int rb_confirm(struct runbook *rb, int step, bool yes,
	       struct m2d_error *err);

/* Step 17 (the cutover): the folders in UW's mbx, mix and MMDF formats,
 * which a rollback does not carry mail back into, named with their
 * format and source (allocated, translated), or NULL when there are
 * none.  Step 17 cannot be confirmed (rb_confirm) until this was shown:
 * rb_preview(17) includes it. */
char *rb_rollback_limits(struct runbook *rb);

/* What STEP will do, for the page before it runs: the unified diff of a
 * config edit, the commands a service step runs, the folders a clear
 * removes.  Allocated text (translated), or NULL with ERR. */
char *rb_preview(struct runbook *rb, int step, struct m2d_error *err);

/* ---- the data the pages show (valid until the next run/decision) ---- */

/* Builds the plan (discovery with the renames) when none is loaded yet,
 * e.g. after a resume.  0 or -1. */
int rb_load_plan(struct runbook *rb, struct m2d_error *err);

/* The full plan (after step 3/4), with the renames applied; NULL before. */
const struct plan *rb_plan(const struct runbook *rb);
/* The checklist of step 0 (NULL before). */
const struct checks_report *rb_checks(const struct runbook *rb);

/* What "mbox2dovecot check" adds to step 0's checks (all may be 0/NULL). */
struct rb_checks_opts {	/* (rb_options.accept_suggested applies) */
	const char *const *users;	/* the plan of these users, or */
	const char *userlist;		/*   of these lists, instead of */
	const char *folderlist;		/*   step 0's */
	const char *scratch_dir;	/* the timed sample's */
	unsigned int sample_folders;
	void (*progress)(const char *group, void *ctx);
	void *ctx;
};

/*
 * The pre-flight checks exactly as step 0 runs them (one code path): the
 * configuration's Dovecot, Postfix, skeleton, services_root and ports
 * (checks_settings_from_config), the plan with the folder-name decisions
 * saved at step 4 (so that a decided name is no longer reported), OPTS
 * (may be NULL) on top.  Into REP (initialized by the caller); changes
 * nothing, neither the state nor the log.  Returns the worst status
 * (0..2) or -1 with ERR.
 */
int rb_run_checks(struct runbook *rb, const struct rb_checks_opts *opts,
		  struct checks_report *rep, struct m2d_error *err);
/* Totals of the last migration run (steps 7, 9, 15). */
const struct migrate_totals *rb_migrate_totals(const struct runbook *rb);
/* The last IMAP test (steps 10, 16, 18, 21; NULL before): with several
 * test users, the first one's whose checks failed, else the first's. */
const struct imap_test_result *rb_imap_result(const struct runbook *rb);

/* The last IMAP test as each user it logged in as (imap_test_user, or
 * every test user of step 5), in order.  Returns how many (0 before). */
struct rb_imap_user {
	char *user;
	struct imap_test_result res;
};
size_t rb_imap_results(const struct runbook *rb,
		       const struct rb_imap_user **list);

/* The password of the IMAP test from now on, e.g. asked by the wizard
 * (never saved; NULL: none). */
void rb_set_imap_password(struct runbook *rb, const char *password);

/* ---- decisions ---- */

/* Step 4: rename the folder LISTED to NAME (validated: a name Dovecot and
 * Maildir++ accept, not used by another folder of that user; ERR says why
 * not), or exclude it (NAME NULL).  Saved; the plan is rebuilt. */
int rb_set_rename(struct runbook *rb, const char *listed, const char *name,
		  struct m2d_error *err);
/* Forget a rename/exclusion: the folder needs a decision again. */
int rb_clear_rename(struct runbook *rb, const char *listed,
		    struct m2d_error *err);
size_t rb_renames(const struct runbook *rb, const struct rb_rename **list);
/* The check of step 4's editor, as the name is typed: may LISTED be
 * renamed to NAME?  NULL, or why not (translated; in BUF of SIZE or a
 * constant).  The same check --renames FILE makes (renames.h). */
const char *rb_rename_problem(const struct runbook *rb, const char *listed,
			      const char *name, char *buf, size_t size);
/* Step 4: the folder names (folder_names, uw-names.h: "compat" or "uw"),
 * saved in the state over the configuration's; the plan is rebuilt. */
int rb_set_folder_names(struct runbook *rb, const char *mode,
			struct m2d_error *err);
/* Folders still waiting for a decision (PLAN_SKIP_NAME, not decided). */
size_t rb_undecided(const struct runbook *rb);

/* Step 5: the test users (each in the plan, 1..M2D_MAX_TEST_USERS). */
int rb_set_test_users(struct runbook *rb, const char *const *users,
		      size_t n, struct m2d_error *err);
size_t rb_test_users(const struct runbook *rb, const char *const **list);
/* The proposed subset: test_users from the config, else the
 * test_user_count smallest users that have an inbox and folders. */
size_t rb_propose_test_users(const struct runbook *rb, const char **out,
			     size_t max);

/* Accepts the proposed default for every decision STEP needs (suggested
 * renames, the proposed subset, the confirmation): what --yes does. */
int rb_accept_defaults(struct runbook *rb, int step, struct m2d_error *err);

/* ---- batch ---- */

struct rb_batch {
	int from, to;		/* steps FROM..TO (inclusive) */
	bool yes;		/* rb_accept_defaults() before each step */
	bool force;		/* run even when prerequisites are missing */
};

/* Runs the steps in order, skipping those done.  Returns 0 when every
 * step through TO is done, 1 when it stopped at a decision or a
 * confirmation (*STOPPED_AT and ERR say which and why), -1 when a step
 * failed (*STOPPED_AT, ERR). */
int rb_batch_run(struct runbook *rb, const struct rb_batch *batch,
		 int *stopped_at, struct m2d_error *err);

/* ---- the report (step 22) ---- */

/* Writes WORK_DIR/report.txt and WORK_DIR/report.json (steps with their
 * status and times, users, folders, messages, bytes, failures, renames,
 * backups, undo commands).  The paths of both are returned allocated
 * when not NULL. */
int rb_report_write(struct runbook *rb, char **text_path, char **json_path,
		    struct m2d_error *err);

/* ---- the log ---- */

/* WORK_DIR/log (allocated; NULL when out of memory): every step run,
 * done, failed, skipped or undone, every decision, warning and error,
 * each a line with its time ("2026-12-07 21:55:03 [13] warning: ..."),
 * appended by every run (0600). */
char *rb_log_path(const struct runbook *rb);

const char *rb_status_name(enum rb_status status);	/* "done" (id) */
const char *rb_status_str(enum rb_status status);	/* translated */

#endif
