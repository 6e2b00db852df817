/* SPDX-License-Identifier: MIT */
#ifndef M2D_RUNBOOK_INT_H
#define M2D_RUNBOOK_INT_H

/* The runbook's insides, shared by runbook.c (model, state, runner),
 * runbook-steps.c (the table and what each step does), runbook-system.c
 * (the tools built from the configuration) and runbook-report.c. */

#include "accounts.h"
#include "dovecot-conf.h"
#include "host-actions.h"
#include "journal.h"
#include "postfix-conf.h"
#include "runbook.h"
#include "services.h"

struct runbook {
	struct m2d_config cfg;
	struct rb_options opts;
	char *config_path;
	char *state_path;		/* WORK/state */
	bool had_state;

	struct rb_step_state steps[RB_NSTEPS];
	char *test_users[M2D_MAX_TEST_USERS];
	size_t ntest;
	struct rb_rename *renames;
	size_t nrenames;
	bool premigrated;		/* step 13 migrated everything live */
	bool rollback_warned;		/* step 17's warning was shown
					 * (rb_rollback_limits) */
	bool names_chosen;		/* folder_names chosen at step 4 */

	struct plan plan;		/* full plan, renames applied */
	bool have_plan;
	struct checks_report checks;
	bool have_checks;
	struct migrate_totals totals;
	struct imap_test_result imap;	/* the page's: the first user's
					 * that failed, or the first's */
	bool have_imap;
	struct rb_imap_user *imap_users;	/* each test user's */
	size_t nimap_users;
	char *password;			/* the IMAP test's, never saved */
	int running;			/* the step running now, or -1 */
	struct rb_logbook *logbook;	/* WORK/log (runbook-log.h) */
};

/* ---- runbook-uwformats.c ---- */
/* A taken folder in UW's mbx, mix or MMDF format that a rollback carries
 * no mail back into (all but an mbx or mix INBOX). */
bool rb_uw_folder(const struct plan_folder *f);
/* -1 with ERR when STEP is the cutover (17), the plan has such folders
 * and rb_rollback_limits() was not shown yet; else 0. */
int rb_uw_confirm_check(struct runbook *rb, int step, struct m2d_error *err);
/* The report's section naming them (text), its "no_rollback" key. */
void rb_uw_report_text(const struct runbook *rb, FILE *f);
void rb_uw_report_json(const struct runbook *rb, FILE *f);

/* ---- runbook.c ---- */
/* Creates WORK_DIR (0700) when missing; refuses one that is a symlink,
 * not ours, or writable by others. */
int rb_work_dir(struct runbook *rb, struct m2d_error *err);
int rb_save(struct runbook *rb, struct m2d_error *err);
void rb_log(struct runbook *rb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sets the step's one-line result (translated). */
void rb_result(struct runbook *rb, int step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* (Re)builds rb->plan from discovery (or WORK/userlist-master when the
 * admin edited it) with the renames. */
int rb_build_plan(struct runbook *rb, struct m2d_error *err);
/* A plan with the renames into OUT: GIVEN's users and lists when it has
 * any (may be NULL), else as rb_build_plan(). */
int rb_build_plan_from(struct runbook *rb, const struct plan_source *given,
		       struct plan *out, struct m2d_error *err);
/* The plan restricted to the test users (a copy sharing nothing). */
int rb_test_plan(struct runbook *rb, struct plan *out, struct m2d_error *err);
bool rb_is_test_user(const struct runbook *rb, const char *user);
/* The decision on LISTED, or NULL; a new one; the one on LISTED made
 * NAME (NULL: left out), new or not. */
struct rb_rename *rb_find_rename(struct runbook *rb, const char *listed);
void rb_add_rename(struct runbook *rb, const char *listed, const char *name);
void rb_put_rename(struct runbook *rb, const char *listed, const char *name);


/* ---- runbook-renames.c: the decisions of step 4 as a file ---- */
/* Takes the decisions of the file PATH (renames.h), each checked as the
 * editor checks a typed name; on any bad line none is taken (ERR names
 * the file and line).  Not saved: the next rb_save() does. */
int rb_import_renames(struct runbook *rb, const char *path,
		      struct m2d_error *err);
/* WORK_DIR/renames: the decisions in that form (after every save). */
int rb_write_renames(struct runbook *rb, struct m2d_error *err);

/* ---- runbook-steps.c ---- */
/* Forgets the last IMAP test's results. */
void rb_imap_clear(struct runbook *rb);

/* ---- runbook-system.c: the tools, from the configuration ---- */
void rb_dc_tools(const struct runbook *rb, struct dc_tools *t);
void rb_acct_tools(const struct runbook *rb, struct acct_tools *t);
/* The system actions (host-actions.h) tell what they did into the
 * runbook's log through this. */
struct host_log rb_host_log(struct runbook *rb);
/* Dovecot's log lines about USER since SINCE, or NULL. */
char *rb_dovecot_log(struct runbook *rb, const char *user, time_t since,
		     int max);
/* ---- runbook-preview.c ---- */
/* What step 19 changes besides main.cf, one line each: the skeleton's
 * new directories (mkdir), the homes and shells usermod sets (with the
 * values they replace), the rbash link; "" when nothing.  Allocated, or
 * NULL with ERR. */
char *rb_preview_accounts(struct runbook *rb, struct m2d_error *err);

/* Replace %u in the command line TEMPLATE with USER.  Allocated. */
char *rb_expand_user(const char *template, const char *user);

#endif
