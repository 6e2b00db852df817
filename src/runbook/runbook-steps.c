/* SPDX-License-Identifier: MIT */
/* runbook-steps.c - the 22 steps of the runbook (and step 0) as data,
 * and what each one does through the layers below */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "xalloc.h"
#include "journal.h"
#include "rollback.h"
#include "run-cmd.h"
#include "runbook-int.h"
#include "safe-file.h"
#include "str-escape.h"
#include "xalloc.h"

#define BIT(n) (UINT32_C(1) << (n))

/* ------------------------------------------------------------------ */
/* Shared pieces                                                      */

static void on_migrate(const struct migrate_report *report, void *ctx)
{
	struct runbook *rb = ctx;
	struct rb_event ev;

	if (rb->opts.event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = RB_EV_MIGRATE;
	ev.step = rb->running;
	ev.migrate = report;
	rb->opts.event(&ev, rb->opts.event_ctx);
}

/* migrate-users and/or migrate-folders for PLAN; 1 done, -1 failed. */
/*
 * What the plan refuses to read, logged as "migrate" prints it (every
 * command that reads a place users write to says what it refused and
 * why, or an admin never learns that a user's mail stayed behind): files
 * of the spool that are no user's, a ~/.mailboxlist not read, a source
 * that is a symlink, a FIFO, an mbx file, another user's, hard-linked or
 * sparse.  (Bad names are step 4's; the engine reports the rest.)
 */
static void log_refusals(struct runbook *rb, const struct plan *plan)
{
	for (size_t i = 0; i < plan->nstrays; i++)
		rb_log(rb, _("skip %s: %s"), str_esc(plan->strays[i].source),
		       str_esc(plan->strays[i].reason));
	for (size_t i = 0; i < plan->nusers; i++) {
		const struct plan_user *u = &plan->users[i];

		if (u->subs_skipped != NULL)
			rb_log(rb, _("skip %s/.mailboxlist: %s"),
			       str_esc(u->home), str_esc(u->subs_skipped));
	}
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		const char *why = f->reason != NULL ? f->reason :
			plan_skip_str(f->skip);

		switch (f->skip) {
		case PLAN_SKIP_OWNER:
		case PLAN_SKIP_LINKS:
		case PLAN_SKIP_SPARSE:
		case PLAN_SKIP_SYMLINK:
		case PLAN_SKIP_SPECIAL:
		case PLAN_SKIP_MBX:
			rb_log(rb, _("skip %s: %s: %s"), str_esc(f->listed),
			       str_esc(f->source), str_esc(why));
			break;
		default:
			break;
		}
	}
}

static int migrate(struct runbook *rb, const struct plan *plan, bool users,
		   bool folders, struct m2d_error *err)
{
	struct migrate_settings set;
	struct migrate_totals ut, ft;
	struct journal *j = NULL;
	int ru = 0, rf = 0;

	memset(&set, 0, sizeof(set));
	memset(&ut, 0, sizeof(ut));
	memset(&ft, 0, sizeof(ft));
	set.cfg = &rb->cfg;
	set.jobs = rb->cfg.jobs;
	set.report = on_migrate;
	set.ctx = rb;
	set.cancel = rb->opts.cancel;
	if (journal_open(rb->cfg.work_dir, &j, err) < 0)
		return -1;
	if (folders)
		log_refusals(rb, plan);
	if (users)
		ru = migrate_users(plan, j, &set, &ut, err);
	if (ru >= 0 && folders)
		rf = migrate_folders(plan, j, &set, &ft, err);
	journal_close(&j);
	rb->totals = ft;
	rb->totals.users_done = ut.users_done;
	/* a user the folder pass fails (its subscriptions, say) counts */
	rb->totals.users_failed = ut.users_failed + ft.users_failed;
	if (ru < 0 || rf < 0)
		return -1;
	if (rb->opts.cancel != NULL && *rb->opts.cancel)
		return m2d_error_set(err, M2D_ERR_CANCELLED, NULL,
				     _("cancelled: run the step again to "
				       "go on where it stopped"));
	rb_result(rb, rb->running,
		  _("%lu users, %lu folders converted, %lu unchanged, "
		    "%lu failed, %lu messages"),
		  ut.users_done, ft.folders_done, ft.folders_unchanged,
		  ft.folders_failed + rb->totals.users_failed, ft.messages);
	if (ru > 0 || rf > 0)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("%lu users and %lu folders failed "
				       "(see the messages above); fix them "
				       "and run the step again"),
				     rb->totals.users_failed,
				     ft.folders_failed);
	return 1;
}

static int need_plan(struct runbook *rb, struct m2d_error *err)
{
	return rb->have_plan ? 0 : rb_build_plan(rb, err);
}

/*
 * The files Dovecot reads in the maildir folder DIRNAME ("" the root) of
 * user PU before it can count it, checked as we read a user's file
 * (safe-file.h): a FIFO would hang doveadm (and us), a symlink,
 * a giant or a sparse file is not Dovecot's.  0 all fine or absent; 1
 * one is refused: WHY says which and why (doveadm is not run for that
 * user); -1 error.
 */
static int dovecot_files_refused(const struct plan_user *pu,
				 const char *dirname, char *why, size_t size)
{
	static const struct {
		const char *name;
		off_t max;
		bool root_only;
	} files[] = {
		{ "dovecot-uidlist", (off_t)64 * 1024 * 1024, false },
		{ "dovecot-keywords", (off_t)1024 * 1024, false },
		{ "subscriptions", (off_t)1024 * 1024, true },
	};
	char path[4096];
	struct m2d_error e;
	int dirfd, ret = 0;

	snprintf(path, sizeof(path), "%s%s%s", pu->target,
		 dirname[0] != '\0' ? "/" : "", dirname);
	dirfd = sf_open_dir(AT_FDCWD, pu->target, pu->target, &e);
	if (dirfd >= 0 && dirname[0] != '\0') {
		int fd = sf_open_dir(dirfd, dirname, path, &e);

		close(dirfd);
		dirfd = fd;
	}
	if (dirfd < 0) {
		if (errno == ENOENT)
			return 0;	/* doveadm says what is missing */
		snprintf(why, size, "%s: %s", str_esc(e.path), e.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && ret == 0;
	     i++) {
		char fpath[4200];
		struct stat st;
		int fd;

		if (files[i].root_only && dirname[0] != '\0')
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, files[i].name);
		fd = sf_open_read(dirfd, files[i].name, files[i].max, &st,
				  fpath, &e);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0) {
			snprintf(why, size, "%s: %s", str_esc(e.path), e.msg);
			ret = 1;
		} else if (sf_is_sparse(fd, &st)) {
			snprintf(why, size, _("%s: a sparse file (holes): not "
					      "Dovecot's"), str_esc(fpath));
			ret = 1;
		}
		if (fd >= 0)
			close(fd);
	}
	close(dirfd);
	return ret;
}

/*
 * Dovecot's own count of every folder of USERS (the test users at step
 * 10, everyone at 16 and 18), "doveadm mailbox status", against the
 * journal's count of what was converted.  Only as root: doveadm reads
 * every user's mail.  1 all equal, 0 some differ (logged), -1 error.
 */
static int doveadm_counts(struct runbook *rb, bool all_users,
			  struct m2d_error *err)
{
	struct journal *j = NULL;
	struct imap_expect *exp;
	size_t bad = 0, users = 0;
	int ret = 1;

	if (geteuid() != 0)
		return 1;
	exp = xcalloc(rb->plan.nfolders + 1, sizeof(*exp));
	if (journal_open(rb->cfg.work_dir, &j, err) < 0) {
		free(exp);
		return -1;
	}
	for (size_t u = 0; u < rb->plan.nusers && ret >= 0; u++) {
		const struct plan_user *pu = &rb->plan.users[u];
		struct imap_doveadm_result res;
		size_t n = 0;
		int r;

		if (!all_users && !rb_is_test_user(rb, pu->name))
			continue;
		char why[8192];
		bool refused = false;

		for (size_t i = 0; i < rb->plan.nfolders; i++) {
			const struct plan_folder *f = &rb->plan.folders[i];
			struct journal_folder jf;

			if (f->user != u || f->skip != PLAN_TAKEN ||
			    journal_find(j, pu->name, f->listed, &jf) != 1)
				continue;
			exp[n].name = f->name;
			exp[n].messages = jf.messages;
			n++;
			journal_folder_free(&jf);
			if (!refused)
				refused = dovecot_files_refused(
					pu, f->dirname, why, sizeof(why)) != 0;
		}
		if (!refused && n == 0)
			refused = dovecot_files_refused(pu, "", why,
							sizeof(why)) != 0;
		users++;
		if (refused) {
			/* doveadm would read it as this user: a FIFO hangs
			   it, and Dovecot would replace the others */
			bad++;
			rb_log(rb, _("FAIL doveadm %s: %s; refused: doveadm "
				     "not run for this user"),
			       str_esc(pu->name), why);
			continue;
		}
		r = imap_doveadm_counts(rb->cfg.doveadm_command,
					rb->cfg.doveadm_command == NULL ?
					rb->cfg.dovecot_config : NULL,
					pu->name, exp, n, &res, err);
		if (r < 0)
			ret = -1;
		else if (r > 0) {
			bad++;
			rb_log(rb, "FAIL doveadm %s: %s", str_esc(pu->name),
			       res.detail);
		}
	}
	journal_close(&j);
	free(exp);	/* the names belong to the plan */
	if (ret < 0)
		return -1;
	rb_log(rb, _("doveadm: %zu users, %zu with counts other than the "
		     "migration's"), users, bad);
	return bad == 0 ? 1 : 0;
}

/* The users the IMAP test logs in as: imap_test_user when set, else
 * every test user of step 5.  Returns how many (into USERS, MAX). */
static size_t imap_users(const struct runbook *rb, const char **users,
			 size_t max)
{
	size_t n = 0;

	if (rb->cfg.imap_test_user != NULL) {
		users[n++] = rb->cfg.imap_test_user;
		return n;
	}
	for (size_t i = 0; i < rb->ntest && n < max; i++)
		users[n++] = rb->test_users[i];
	return n;
}

/* Dovecot's log about USER since T0 into the run log; the first line
 * (allocated) for the error message, or NULL. */
static char *quote_dovecot_log(struct runbook *rb, const char *user,
			       time_t t0)
{
	char *log = NULL, *line, *save = NULL, *first = NULL;

	/* Dovecot writes a login's last line as the connection closes:
	   give it a second */
	for (int i = 0; i < 10 && log == NULL; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		log = rb_dovecot_log(rb, user, t0 - 1, 12);
		if (log == NULL)
			nanosleep(&ts, NULL);
	}
	if (log == NULL)
		return NULL;
	/* a line each: every text is shown as one line (cli-runbook.c
	   escapes a newline in it) */
	rb_log(rb, _("Dovecot's log about %s:"), user);
	for (line = strtok_r(log, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (first == NULL)
			first = xstrdup(line);
		rb_log(rb, "  %s", line);
	}
	free(log);
	return first;
}

/* The IMAP test as USER (the plan's user UIDX) against ADDR:PORT into
 * RES: 0 passed, 1 some check failed, -1 no connection (ERR). *LOG_R:
 * Dovecot's first log line about USER when it did not pass, or NULL. */
static int imap_test_one(struct runbook *rb, const char *addr,
			 unsigned int port, const char *message_id,
			 const char *user, size_t uidx,
			 struct imap_test_result *res, char **log_r,
			 struct m2d_error *err)
{
	struct imap_test_params p;
	struct imap_expect *exp;
	time_t t0 = time(NULL);
	size_t nexp = 0;
	int r = -1;

	*log_r = NULL;
	exp = xcalloc(rb->plan.nfolders + 1, sizeof(*exp));
	for (size_t i = 0; i < rb->plan.nfolders; i++) {
		const struct plan_folder *f = &rb->plan.folders[i];

		if (f->user != uidx || f->skip != PLAN_TAKEN)
			continue;
		if (imap_expect_folder(f->source, f->name, rb->cfg.mboxrd,
				       &exp[nexp], err) < 0)
			goto out;
		nexp++;
	}
	memset(&p, 0, sizeof(p));
	p.host = addr;
	p.port = port;
	p.user = user;
	p.password = rb->password;
	p.master_user = rb->cfg.imap_master_user;
	if (p.master_user != NULL && rb->cfg.imap_master_password != NULL)
		p.password = rb->cfg.imap_master_password;
	p.folders = exp;
	p.nfolders = nexp;
	p.modify = true;
	/* after delivery restarted, new mail may be there too */
	p.at_least = rb->steps[20].status == RB_DONE;
	p.find_message_id = message_id;
	memset(res, 0, sizeof(*res));
	r = imap_test_run(&p, res, err);
	if (r != 0)	/* the cause is in Dovecot's log: quote it */
		*log_r = quote_dovecot_log(rb, user, t0);
	if (r < 0)
		goto out;
	rb_log(rb, _("IMAP test as %s on %s:%u:"), user, addr, port);
	for (size_t i = 0; i < res->nchecks; i++)
		rb_log(rb, "%s %s: %s", res->checks[i].ok ? "PASS" : "FAIL",
		       res->checks[i].id, res->checks[i].detail);
out:
	for (size_t i = 0; i < nexp; i++)
		imap_expect_free(&exp[i]);
	free(exp);
	return r;
}

/* The result line: each user with its checks and failures. */
static void imap_result_line(struct runbook *rb, const char *addr,
			     unsigned int port)
{
	char *text = xstrdup("");

	for (size_t i = 0; i < rb->nimap_users; i++) {
		const struct rb_imap_user *u = &rb->imap_users[i];
		char *checks = xasprintf(ngettext("%zu check", "%zu checks",
						  u->res.nchecks),
					 u->res.nchecks);
		char *one = xasprintf(_("IMAP on %s:%u as %s: %s, %zu "
					"failed"), addr, port, u->user,
				      checks, u->res.failed);
		char *both = xasprintf("%s%s%s", text, i > 0 ? "; " : "",
				       one);

		free(text);
		free(checks);
		free(one);
		text = both;
	}
	rb_result(rb, rb->running, "%s", text);
	free(text);
}

void rb_imap_clear(struct runbook *rb)
{
	for (size_t i = 0; i < rb->nimap_users; i++)
		free(rb->imap_users[i].user);
	free(rb->imap_users);
	rb->imap_users = NULL;
	rb->nimap_users = 0;
	rb->have_imap = false;
}

/* The first check that failed, as "USER: detail" (several users) or
 * "detail", in BUF. */
static void first_failure(const struct runbook *rb, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t u = 0; u < rb->nimap_users && buf[0] == '\0'; u++) {
		const struct imap_test_result *res = &rb->imap_users[u].res;

		for (size_t i = 0; i < res->nchecks && buf[0] == '\0'; i++)
			if (!res->checks[i].ok)
				snprintf(buf, size, "%s%s%s",
					 rb->nimap_users > 1 ?
					 rb->imap_users[u].user : "",
					 rb->nimap_users > 1 ? ": " : "",
					 res->checks[i].detail);
	}
}

/* The IMAP test (steps 10, 16, 18, 21) against ADDR:PORT, as every test
 * user (imap_test_user when set), each reported; MESSAGE_ID (step 21)
 * is looked for in the first one's INBOX, where it was delivered. */
static int imap_test(struct runbook *rb, const char *addr, unsigned int port,
		     const char *message_id, struct m2d_error *err)
{
	const char *users[M2D_MAX_TEST_USERS];
	size_t n, nchecks = 0, failed = 0, uidx;
	char *log = NULL, first[600];
	int r = 0;

	if (need_plan(rb, err) < 0)
		return -1;
	n = imap_users(rb, users, M2D_MAX_TEST_USERS);
	if (n == 0)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no test account: set imap_test_user "
				       "or choose test users (step 5)"));
	if (rb->password == NULL)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no password for the test account "
				       "%s: give it when asked, in "
				       "MBOX2DOVECOT_IMAP_PASSWORD, or set "
				       "imap_master_user"), users[0]);
	rb_imap_clear(rb);
	rb->imap_users = xcalloc(n, sizeof(*rb->imap_users));
	for (size_t k = 0; k < n && r >= 0; k++) {
		struct rb_imap_user *u = &rb->imap_users[k];
		char *one_log = NULL;

		for (uidx = 0; uidx < rb->plan.nusers; uidx++)
			if (strcmp(rb->plan.users[uidx].name, users[k]) == 0)
				break;
		if (uidx == rb->plan.nusers) {
			m2d_error_set(err, M2D_ERR_USAGE, NULL,
				      _("the test account %s is not in the "
					"plan"), users[k]);
			r = -1;
			break;
		}
		u->user = xstrdup(users[k]);
		r = imap_test_one(rb, addr, port, k == 0 ? message_id : NULL,
				  users[k], uidx, &u->res, &one_log, err);
		if (r < 0) {
			free(u->user);
			log = one_log;
			break;
		}
		rb->nimap_users++;
		nchecks += u->res.nchecks;
		failed += u->res.failed;
		if (log == NULL)
			log = one_log;
		else
			free(one_log);
	}
	/* the page's one result: the first user's that failed, or the
	   first's */
	rb->have_imap = rb->nimap_users > 0;
	if (rb->have_imap)
		rb->imap = rb->imap_users[0].res;
	for (size_t k = 0; k < rb->nimap_users; k++)
		if (rb->imap_users[k].res.failed > 0) {
			rb->imap = rb->imap_users[k].res;
			break;
		}
	if (r < 0)
		goto out;
	imap_result_line(rb, addr, port);
	/* and Dovecot's own view of every migrated user, before new mail
	   arrives (step 21 checks the delivery instead) */
	if (failed == 0 && message_id == NULL) {
		int d = doveadm_counts(rb, rb->running != 10, err);

		if (d < 0) {
			r = -1;
			goto out;
		}
		if (d == 0) {
			m2d_error_set(err, M2D_ERR_USAGE, NULL,
				      _("doveadm counts other messages than "
					"the migration for some users (see "
					"above); do not go on"));
			r = -1;
			goto out;
		}
	}
	if (failed > 0) {
		first_failure(rb, first, sizeof(first));
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("the IMAP test failed on %s:%u (%zu of %zu "
				"checks): %s; do not go on until it passes"),
			      addr, port, failed, nchecks, first);
		r = -1;
	}
out:
	if (r < 0 && log != NULL)
		snprintf(err->msg + strlen(err->msg),
			 sizeof(err->msg) - strlen(err->msg),
			 _("; Dovecot's log: %s"), log);
	free(log);
	return r < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* The steps                                                          */

static int step_checks(struct runbook *rb, struct m2d_error *err)
{
	size_t counts[3] = { 0, 0, 0 };
	int worst;

	checks_report_free(&rb->checks);
	checks_report_init(&rb->checks);
	rb->have_checks = false;
	worst = rb_run_checks(rb, NULL, &rb->checks, err);
	if (worst < 0)
		return -1;
	rb->have_checks = true;
	checks_worst(&rb->checks, counts);
	for (size_t i = 0; i < rb->checks.nitems; i++) {
		const struct check_item *it = &rb->checks.items[i];

		if (it->res.status == CHECK_PASS)
			continue;
		rb_log(rb, "%s %s: %s%s%s", it->res.status == CHECK_FAIL ?
		       "FAIL" : "WARN", it->res.title, it->res.detail,
		       it->res.fix[0] != '\0' ? " -- " : "", it->res.fix);
	}
	{
		/* "1 warning" (ngettext) */
		char *warnings = xasprintf(ngettext("%zu warning",
						    "%zu warnings", counts[1]),
					   counts[1]);

		rb_result(rb, 0, _("%zu passed, %s, %zu failed"), counts[0],
			  warnings, counts[2]);
		free(warnings);
	}
	if (counts[2] > 0)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     ngettext("%zu check failed: fix it and "
					      "run the checks again, or skip "
					      "this step with a reason",
					      "%zu checks failed: fix them and "
					      "run the checks again, or skip "
					      "this step with a reason",
					      counts[2]), counts[2]);
	return 1;
}

static int step_freeze(struct runbook *rb, struct m2d_error *err)
{
	(void)err;
	rb_result(rb, 1, _("account creation frozen (confirmed by the "
			   "administrator)"));
	return 1;
}

static int step_workdir(struct runbook *rb, struct m2d_error *err)
{
	if (rb_work_dir(rb, err) < 0)
		return -1;
	rb_result(rb, 2, "%s", rb->cfg.work_dir);
	return 1;
}

static int step_userlist(struct runbook *rb, struct m2d_error *err)
{
	char path[4096];
	struct stat st;

	/* discovery, unless the admin edited the list written earlier */
	snprintf(path, sizeof(path), "%s/userlist-master", rb->cfg.work_dir);
	if (lstat(path, &st) == 0 && rb->steps[3].started > 0 &&
	    st.st_mtime > rb->steps[3].started) {
		rb->steps[3].status = RB_DONE;	/* build() reads it */
		if (rb_build_plan(rb, err) < 0)
			return -1;
		rb_log(rb, _("using your edited %s"), path);
	} else if (rb_build_plan(rb, err) < 0) {
		return -1;
	}
	if (plan_write_lists(&rb->plan, rb->cfg.work_dir, err) < 0)
		return -1;
	rb_result(rb, 3, ngettext("%zu user in %s", "%zu users in %s",
				  rb->plan.nusers), rb->plan.nusers, path);
	return 1;
}

static int step_folderlist(struct runbook *rb, struct m2d_error *err)
{
	size_t taken = 0, undecided;

	if (rb_build_plan(rb, err) < 0)
		return -1;
	undecided = rb_undecided(rb);
	for (size_t i = 0; i < rb->plan.nfolders; i++)
		taken += rb->plan.folders[i].skip == PLAN_TAKEN;
	if (plan_write_lists(&rb->plan, rb->cfg.work_dir, err) < 0)
		return -1;
	if (undecided > 0) {
		m2d_error_set(err, M2D_ERR_NAME, NULL,
			      ngettext("%zu folder needs a new name or to be "
				       "excluded",
				       "%zu folders need a new name or to be "
				       "excluded", undecided), undecided);
		rb_result(rb, 4, "%s", err->msg);
		return 0;
	}
	rb_result(rb, 4, _("%zu folders to migrate, %zu renamed or "
			   "excluded"), taken, rb->nrenames);
	return 1;
}

static int step_subset(struct runbook *rb, struct m2d_error *err)
{
	struct plan tp;
	char dir[4096];
	size_t folders = 0;

	if (rb_test_plan(rb, &tp, err) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/test", rb->cfg.work_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		plan_free(&tp);
		return m2d_error_sys(err, "mkdir", dir);
	}
	if (plan_write_lists(&tp, dir, err) < 0) {
		plan_free(&tp);
		return -1;
	}
	for (size_t i = 0; i < tp.nfolders; i++)
		folders += tp.folders[i].skip == PLAN_TAKEN;
	{
		/* "1 test user, 1 folder": each count its own plural */
		char *u = xasprintf(ngettext("%zu test user",
					     "%zu test users", tp.nusers),
				    tp.nusers);
		char *f = xasprintf(ngettext("%zu folder", "%zu folders",
					     folders), folders);

		rb_result(rb, 5, "%s, %s", u, f);
		free(u);
		free(f);
	}
	plan_free(&tp);
	return 1;
}

/* Step 6: the base is there and holds nothing but what we made. */
static int step_target_clear(struct runbook *rb, struct m2d_error *err)
{
	const char *base = rb->cfg.target_base;
	struct journal *j = NULL;
	struct stat st;
	int r;

	if (lstat(base, &st) < 0) {
		if (errno != ENOENT)
			return m2d_error_sys(err, "lstat", base);
		/* 0755: Dovecot's processes traverse it as the users */
		if (mkdir(base, 0755) < 0)
			return m2d_error_sys(err, "mkdir", base);
		rb_result(rb, 6, _("%s created, empty"), base);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return m2d_error_set(err, M2D_ERR_UNSAFE, base,
				     _("the target base is not a directory"));
	if (journal_open(rb->cfg.work_dir, &j, err) < 0)
		return -1;
	/* what an earlier run made goes; anything else stops us */
	r = migrate_clear(base, j, err);
	journal_close(&j);
	if (r < 0)
		return -1;
	rb_result(rb, 6, _("%s is clear"), base);
	return 1;
}

static int step_migrate_test(struct runbook *rb, bool users, bool folders,
			     struct m2d_error *err)
{
	struct plan tp;
	int r;

	if (rb_test_plan(rb, &tp, err) < 0)
		return -1;
	r = migrate(rb, &tp, users, folders, err);
	plan_free(&tp);
	return r;
}

static int step_migrate_users(struct runbook *rb, struct m2d_error *err)
{
	return step_migrate_test(rb, true, false, err);
}

static int step_migrate_folders(struct runbook *rb, struct m2d_error *err)
{
	return step_migrate_test(rb, true, true, err);
}

/*
 * Dovecot logs into a file of its own.  The file is created
 * (0640, root's) when missing, so that its owner and mode are ours and
 * not a umask's; a logrotate snippet is written into the work directory
 * and proposed when logrotate is installed (ROOT/etc/logrotate.d).
 */
static int prepare_log_file(struct runbook *rb, struct m2d_error *err)
{
	const char *log = rb->cfg.dovecot_log_path;
	char path[4096], *text = NULL;
	struct stat st;
	int fd;

	if (log == NULL)
		return 0;
	fd = open(log, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return m2d_error_sys(err, "open", log);
	snprintf(path, sizeof(path), "%s/dovecot.logrotate", rb->cfg.work_dir);
	text = xasprintf("# mbox2dovecot: Dovecot's own log file\n"
			 "%s {\n\tweekly\n\trotate 8\n\tmissingok\n"
			 "\tnotifempty\n\tcompress\n\tdelaycompress\n"
			 "\tsharedscripts\n\tpostrotate\n"
			 "\t\tdoveadm log reopen\n\tendscript\n}\n", log);
	if (sf_write_path(path, text, 0600, -1, -1, err) < 0) {
		free(text);
		return -1;
	}
	free(text);
	snprintf(path, sizeof(path), "%s/etc/logrotate.d",
		 rb->cfg.services_root != NULL ? rb->cfg.services_root : "");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rb_log(rb, _("Dovecot logs into %s: a logrotate snippet is in "
			     "%s/dovecot.logrotate; copy it into %s to rotate "
			     "the log"), log, rb->cfg.work_dir, path);
	return 0;
}

static int dovecot_listen(struct runbook *rb, bool normal,
			  struct m2d_error *err)
{
	struct host_log log = rb_host_log(rb);
	struct dc_edit edit;
	const char *addr;
	unsigned int port;
	int r;

	host_dovecot_listener(&rb->cfg, normal, &addr, &port);
	if (prepare_log_file(rb, err) < 0 ||
	    host_dovecot_plan(&rb->cfg, normal, &edit, err) < 0)
		return -1;
	r = host_dovecot_apply(&rb->cfg, normal, &edit, true, &log, NULL,
			       err);
	dc_edit_free(&edit);
	if (r < 0)
		return -1;
	rb_result(rb, rb->running, _("Dovecot listens on %s:%u"), addr,
		  port);
	return 1;
}

static int step_dovecot_test(struct runbook *rb, struct m2d_error *err)
{
	return dovecot_listen(rb, false, err);
}

/* Undo of step 8: our unit removed, Dovecot reloaded (a Dovecot that
 * only ran for us then answers nowhere: no probe). */
static int undo_dovecot_test(struct runbook *rb, struct m2d_error *err)
{
	struct host_log log = rb_host_log(rb);

	return host_dovecot_undo(&rb->cfg, true, &log, err);
}

static int step_imap_test(struct runbook *rb, struct m2d_error *err)
{
	return imap_test(rb, rb->cfg.test_address, rb->cfg.test_port, NULL,
			 err);
}

static int step_full_lists(struct runbook *rb, struct m2d_error *err)
{
	size_t taken = 0;

	if (rb_build_plan(rb, err) < 0)
		return -1;
	if (rb_undecided(rb) > 0)
		return m2d_error_set(err, M2D_ERR_NAME, NULL,
				     _("folders need a new name: go back to "
				       "step 4"));
	if (plan_write_lists(&rb->plan, rb->cfg.work_dir, err) < 0)
		return -1;
	for (size_t i = 0; i < rb->plan.nfolders; i++)
		taken += rb->plan.folders[i].skip == PLAN_TAKEN;
	{
		char *u = xasprintf(ngettext("%zu user", "%zu users",
					     rb->plan.nusers),
				    rb->plan.nusers);
		char *f = xasprintf(ngettext("%zu folder", "%zu folders",
					     taken), taken);

		rb_result(rb, 11, "%s, %s", u, f);
		free(u);
		free(f);
	}
	return 1;
}

static int step_clear_test(struct runbook *rb, struct m2d_error *err)
{
	struct journal *j = NULL;
	int r;

	if (journal_open(rb->cfg.work_dir, &j, err) < 0)
		return -1;
	r = migrate_clear(rb->cfg.target_base, j, err);
	journal_close(&j);
	if (r < 0)
		return -1;
	rb_result(rb, 12, _("the test migration is removed from %s"),
		  rb->cfg.target_base);
	return 1;
}

/* Bytes of the taken INBOXes of PLAN: what the final run may have to
 * convert again (new mail lands there). */
static unsigned long long inbox_bytes(const struct plan *plan)
{
	unsigned long long sum = 0;

	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip == PLAN_TAKEN && f->dirname != NULL &&
		    f->dirname[0] == '\0' && f->size > 0)
			sum += (unsigned long long)f->size;
	}
	return sum;
}

/*
 * Step 13: while mail still flows, migrate everything once (a live
 * pre-migration: the final run at step 15 then converts only what
 * changed), and predict the downtime from its measured time: the final
 * run converts at most the INBOXes again (at the rate this run had),
 * plus about 5 minutes of service steps around it.
 */
static int step_announce(struct runbook *rb, struct m2d_error *err)
{
	char path[4096], *text = NULL;
	struct timespec t0, t1;
	unsigned long long inbox, total;
	double secs, final, minutes;
	int r;

	if (rb_build_plan(rb, err) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = migrate(rb, &rb->plan, true, true, err);
	if (r < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rb->premigrated = true;
	secs = (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	inbox = inbox_bytes(&rb->plan);
	total = rb->totals.bytes_total > 0 ? rb->totals.bytes_total : inbox;
	final = total > 0 ? secs * (double)inbox / (double)total : 0;
	if (final > secs)
		final = secs;
	minutes = (final + 300.0) / 60.0;
	text = xasprintf(_("Mail will be unavailable for about %.0f "
			   "minutes while it moves to the new server.\n"
			   "%lu folders, %lu messages were migrated in "
			   "advance in %.0f seconds.\n"),
			 minutes, rb->totals.folders_done +
			 rb->totals.folders_unchanged, rb->totals.messages,
			 secs);
	snprintf(path, sizeof(path), "%s/announcement.txt", rb->cfg.work_dir);
	r = sf_write_path(path, text, 0600, -1, -1, err);
	free(text);
	if (r < 0)
		return -1;
	rb_result(rb, 13, _("pre-migrated live in %.1f s (%.1f MiB); the "
			    "final run converts at most the INBOXes (%.1f "
			    "MiB): about %.1f s at this run's rate; downtime "
			    "about %.0f min with the service steps; the text "
			    "is in %s"), secs, (double)total / 1048576.0,
		  (double)inbox / 1048576.0, final, minutes, path);
	return 1;
}

/* Step 14: delivery held (queued, not refused), UW-IMAP stopped and
 * disabled. */
static int step_stop_mail(struct runbook *rb, struct m2d_error *err)
{
	const struct m2d_config *cfg = &rb->cfg;

	if (host_postfix_hold(cfg, err) < 0)
		return -1;
	rb_log(rb, _("Postfix holds local delivery (defer_transports)"));
	if (host_service(cfg, SVC_ROLE_IMAP_OLD, SVC_STOP, false, NULL,
			 err) < 0 ||
	    host_service(cfg, SVC_ROLE_IMAP_OLD, SVC_DISABLE, false, NULL,
			 err) < 0)
		return -1;
	rb_result(rb, 14, _("delivery held, UW-IMAP stopped and disabled"));
	return 1;
}

static int undo_stop_mail(struct runbook *rb, struct m2d_error *err)
{
	const struct m2d_config *cfg = &rb->cfg;
	int r;

	if (host_service(cfg, SVC_ROLE_IMAP_OLD, SVC_ENABLE, false, NULL,
			 err) < 0 ||
	    host_service(cfg, SVC_ROLE_IMAP_OLD, SVC_START, false, NULL,
			 err) < 0)
		return -1;
	r = host_postfix_release(cfg, err);
	if (r < 0)
		return -1;
	/* no hold left (undoing step 19 put main.cf back as it was before
	   us, hold included): Postfix still has to read it again */
	if (r == 0 && host_postfix_reload(cfg, err) < 0)
		return -1;
	return 1;
}

static int step_final(struct runbook *rb, struct m2d_error *err)
{
	if (rb_build_plan(rb, err) < 0)
		return -1;
	return migrate(rb, &rb->plan, true, true, err);
}

static int step_imap_normal(struct runbook *rb, struct m2d_error *err)
{
	return imap_test(rb, rb->cfg.imap_address != NULL ?
			 rb->cfg.imap_address : "127.0.0.1",
			 rb->cfg.imap_port, NULL, err);
}

static int step_dovecot_normal(struct runbook *rb, struct m2d_error *err)
{
	return dovecot_listen(rb, true, err);
}

/* Undo of step 17: back to the test listener. */
static int undo_dovecot_normal(struct runbook *rb, struct m2d_error *err)
{
	return dovecot_listen(rb, false, err) < 0 ? -1 : 1;
}

/*
 * The runbook's optional account changes, off unless configured: every
 * migrated user's home becomes the maildir (usermod -d), and the users
 * an auto-responder runs for get the restricted bash.  Recorded in WORK
 * and undone by acct_users_undo().
 */
static int accounts_apply(struct runbook *rb, struct m2d_error *err)
{
	struct acct_tools at;

	if (!rb->cfg.homes_to_maildir && rb->cfg.nrbash_users == 0)
		return 1;
	rb_acct_tools(rb, &at);
	if (rb->cfg.homes_to_maildir) {
		if (rb_load_plan(rb, err) < 0)
			return -1;
		for (size_t i = 0; i < rb->plan.nusers; i++) {
			const struct plan_user *u = &rb->plan.users[i];

			if (acct_set_home(&at, u->name, u->target,
					  rb->cfg.work_dir, err) < 0)
				return -1;
		}
		rb_log(rb, ngettext("%zu home set to its maildir",
				    "%zu homes set to their maildirs",
				    rb->plan.nusers), rb->plan.nusers);
	}
	if (rb->cfg.nrbash_users > 0 &&
	    acct_rbash_link(&at, rb->cfg.work_dir, err) < 0)
		return -1;
	for (int i = 0; i < rb->cfg.nrbash_users; i++) {
		if (acct_set_shell(&at, rb->cfg.rbash_users[i], NULL,
				   rb->cfg.work_dir, err) < 0)
			return -1;
		rb_log(rb, _("%s gets the restricted bash"),
		       rb->cfg.rbash_users[i]);
	}
	return 1;
}

static int step_postconf(struct runbook *rb, struct m2d_error *err)
{
	struct pf_edit edit;
	int r;

	if (host_postfix_plan(&rb->cfg, &edit, err) < 0)
		return -1;
	if (edit.warning != NULL)
		rb_log(rb, "%s", edit.warning);
	r = host_postfix_apply(&rb->cfg, &edit, err);
	if (r == 0)
		rb_result(rb, 19, "%s = %s", edit.key, edit.value);
	pf_edit_free(&edit);
	if (r < 0)
		return -1;
	/* accounts made from now on get a maildir in their home too (the
	   runbook's /etc/skel with cur new tmp): when a skeleton is named
	   or the maildir is in the home */
	if (rb->cfg.skel_dir != NULL ||
	    strcmp(rb->cfg.postfix_delivery, "home") == 0) {
		struct acct_tools at;

		rb_acct_tools(rb, &at);
		r = acct_skel_apply(&at, rb->cfg.skel_dir, rb->cfg.work_dir,
				    err);
		if (r < 0)
			return -1;
		if (r > 0)
			rb_log(rb, _("the skeleton directory got cur/ new/ "
				     "tmp/ for new accounts"));
	}
	return accounts_apply(rb, err);
}

static void rollback_report(const struct rollback_folder_report *r,
			    void *ctx)
{
	struct runbook *rb = ctx;
	char buf[1024];

	if (r->error != NULL)
		rb_log(rb, _("rollback: %s %s failed: %s"), r->user, r->name,
		       m2d_error_str(r->error, buf, sizeof(buf)));
	else if (r->appended > 0 || r->flags_changed > 0 ||
		 r->keywords_lost > 0)
		rb_log(rb, _("rollback: %s %s: %lu new messages appended to %s; "
			     "%lu old ones changed flags after cutover, %lu "
			     "with keywords UW will not show"), r->user, r->name,
		       r->appended, r->mbox, r->flags_changed,
		       r->keywords_lost);
	if (r->subscribe_error != NULL)
		rb_log(rb, _("rollback: %s %s: subscribed in Dovecot, but not "
			     "added to ~/.mailboxlist: %s"), r->user, r->name,
		       m2d_error_str(r->subscribe_error, buf, sizeof(buf)));
}

/* Undo of step 19: before Postfix delivers into the mboxes
 * again (delivery is held: step 20 was undone first), every message that
 * reached a maildir after cutover is appended to its mbox; when one
 * folder cannot be, main.cf stays as it is. */
static int undo_postconf(struct runbook *rb, struct m2d_error *err)
{
	struct rollback_settings set;
	struct rollback_totals t;
	struct journal *journal = NULL;
	int r;

	memset(&set, 0, sizeof(set));
	set.cfg = &rb->cfg;
	set.report = rollback_report;
	set.ctx = rb;
	if (journal_open(rb->cfg.work_dir, &journal, err) < 0)
		return -1;
	r = rollback_mail(&set, journal, &t, err);
	journal_close(&journal);
	if (r < 0)
		return -1;
	rb_log(rb, _("rollback: %lu messages carried back into the mboxes "
		     "(%lu new mbox files), %lu folders failed"), t.appended,
	       t.created, t.failed);
	if (r > 0)
		return m2d_error_set(err, M2D_ERR_CHANGED, NULL,
				     _("not every folder's new mail could be "
				       "carried back into its mbox: main.cf "
				       "is left as it is (see the log)"));
	if (acct_skel_undo(rb->cfg.work_dir, err) < 0)
		return -1;
	if (rb->cfg.homes_to_maildir || rb->cfg.nrbash_users > 0) {
		struct acct_tools at;

		rb_acct_tools(rb, &at);
		if (acct_users_undo(&at, rb->cfg.work_dir, err) < 0)
			return -1;
	}
	return host_postfix_undo(&rb->cfg, err);
}

static int step_restart_mail(struct runbook *rb, struct m2d_error *err)
{
	int r = host_postfix_release(&rb->cfg, err);

	if (r < 0)
		return -1;
	rb_result(rb, 20, r > 0 ? _("delivery released, the queue flushed") :
		  _("delivery was not held"));
	return 1;
}

static int undo_restart_mail(struct runbook *rb, struct m2d_error *err)
{
	return host_postfix_hold(&rb->cfg, err) < 0 ? -1 : 1;
}

/* Does the maildir ROOT/new or ROOT/cur hold a file containing TOKEN? */
static bool maildir_has(const char *root, const char *token)
{
	static const char *const subs[] = { "new", "cur" };

	for (size_t s = 0; s < 2; s++) {
		char dir[4096];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%s/%s", root, subs[s]);
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			char path[4400], *text = NULL;
			struct m2d_error e;
			bool hit;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (sf_read_text(path, &text, NULL, &e) <= 0)
				continue;
			hit = strstr(text, token) != NULL;
			free(text);
			if (hit) {
				closedir(d);
				return true;
			}
		}
		closedir(d);
	}
	return false;
}

/* Step 21: a test message through the MTA into the test user's maildir,
 * then the IMAP test on the normal port sees INBOX with it. */
static int step_double_check(struct runbook *rb, struct m2d_error *err)
{
	char token[96], *cmd = NULL, *target = NULL, *msg = NULL;
	char **argv = NULL;
	const char *user;
	struct run_output out = { NULL, NULL, 0 };
	int ret = -1;
	bool seen = false;

	user = rb->cfg.imap_test_user != NULL ? rb->cfg.imap_test_user :
		rb->ntest > 0 ? rb->test_users[0] : NULL;
	if (user == NULL)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no test account to send to"));
	sf_unique_name(token, sizeof(token));
	target = m2d_config_target(&rb->cfg, user);
	assert(target != NULL);	/* the configuration was checked */
	cmd = rb_expand_user(rb->cfg.test_delivery_command, user);
	msg = xasprintf("From: mbox2dovecot <root>\nTo: %s\n"
			"Subject: mbox2dovecot delivery test %s\n"
			"Message-ID: <%s@mbox2dovecot>\n\n"
			"This message checks the delivery into the new "
			"maildir.\n", user, token, token);
	argv = run_cmd_argv(cmd, NULL);
	if (argv[0] == NULL) {
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("test_delivery_command is empty"));
		goto out;
	}
	/* the message on the command's standard input, as sendmail takes
	 * it */
	if (run_cmd_input(argv, msg, strlen(msg), &out, err) < 0)
		goto out;
	if (out.status != 0) {
		char *said = out.err[0] != '\0' ? out.err : out.out;
		size_t len = strlen(said);

		while (len > 0 && said[len - 1] == '\n')
			said[--len] = '\0';
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("the delivery command \"%s\" failed (status "
				"%d)%s%.300s"), cmd, out.status,
			      len > 0 ? ": " : "", said);
		goto out;
	}
	for (int i = 0; i < 300 && !seen; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		seen = maildir_has(target, token);
		if (!seen)
			nanosleep(&ts, NULL);
	}
	if (!seen) {
		m2d_error_set(err, M2D_ERR_USAGE, target,
			      _("the test message %s did not arrive in the "
				"maildir within 30 seconds: check "
				"mail_spool_directory and the mail log"),
			      token);
		goto out;
	}
	rb_log(rb, _("the test message arrived in %s"), target);
	/* and over IMAP, on the normal port, with INBOX one bigger */
	{
		char mid[160];

		snprintf(mid, sizeof(mid), "<%s@mbox2dovecot>", token);
		ret = imap_test(rb, rb->cfg.imap_address != NULL ?
				rb->cfg.imap_address : "127.0.0.1",
				rb->cfg.imap_port, mid, err);
	}
	if (ret > 0)
		rb_result(rb, 21, _("a test message went through the MTA into "
				    "%s and the IMAP test passed"), target);
out:
	if (out.out != NULL)
		run_output_free(&out);
	free(argv);
	free(cmd);
	free(msg);
	free(target);
	return ret;
}

static int step_report(struct runbook *rb, struct m2d_error *err)
{
	char *txt = NULL, *json = NULL;
	struct rb_step_state *st = &rb->steps[22];
	int r;

	/* the report tells of itself as done: it is, once written */
	st->status = RB_DONE;
	st->finished = time(NULL);
	r = rb_report_write(rb, &txt, &json, err);
	st->status = RB_RUNNING;
	if (r < 0)
		return -1;
	rb_result(rb, 22, _("report: %s, %s"), txt, json);
	free(txt);
	free(json);
	return 1;
}

/* ------------------------------------------------------------------ */
/* What a step will do, before it runs                                */

static char *preview_clear(struct runbook *rb, struct m2d_error *err)
{
	struct journal_folder *list = NULL;
	struct journal_user *users = NULL;
	struct journal *j = NULL;
	size_t n, nu;
	char *text = NULL;

	if (access(rb->cfg.work_dir, F_OK) == 0 &&
	    journal_open(rb->cfg.work_dir, &j, err) < 0)
		return NULL;
	n = j != NULL ? journal_folders(j, &list) : 0;
	nu = j != NULL ? journal_users(j, &users) : 0;
	text = xasprintf(_("Removes from %s what mbox2dovecot made there: "
			   "%zu folders and %zu maildir roots (the journal "
			   "lists them). Anything else in %s stops the "
			   "step; the mboxes are never touched."),
			 rb->cfg.target_base, n, nu, rb->cfg.target_base);
	journal_folders_free(list, n);
	journal_users_free(users, nu);
	journal_close(&j);
	return text;
}

static char *preview_stop_mail(struct runbook *rb, struct m2d_error *err)
{
	char *stop = NULL, *disable = NULL, *text;

	if (host_service(&rb->cfg, SVC_ROLE_IMAP_OLD, SVC_STOP, true, &stop,
			 err) < 0 ||
	    host_service(&rb->cfg, SVC_ROLE_IMAP_OLD, SVC_DISABLE, true,
			 &disable, err) < 0) {
		free(stop);
		free(disable);
		return NULL;
	}
	text = xasprintf(_("postconf -e \"defer_transports = local\" and "
			   "a reload: Postfix queues local mail, refuses "
			   "nothing\n%s%s"),
			 stop != NULL ? stop : "",
			 disable != NULL ? disable : "");
	free(stop);
	free(disable);
	return text;
}

char *rb_preview(struct runbook *rb, int step, struct m2d_error *err)
{
	char *text = NULL;

	m2d_error_clear(err);
	if (step < 0 || step >= RB_NSTEPS) {
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("there is no step %d"), step);
		return NULL;
	}
	switch (step) {
	case 8:
	case 17: {
		struct dc_edit edit;

		if (host_dovecot_plan(&rb->cfg, step == 17, &edit, err) < 0)
			return NULL;
		text = xstrdup(edit.diff[0] != '\0' ? edit.diff :
			       _("Dovecot's configuration already has these "
				 "settings: nothing to change."));
		dc_edit_free(&edit);
		if (step == 17 && text != NULL) {
			/* the cutover: what a rollback cannot undo */
			char *limits = rb_rollback_limits(rb), *both;

			if (limits != NULL) {
				both = xasprintf("%s\n%s", limits, text);
				free(text);
				free(limits);
				text = both;
			}
		}
		break;
	}
	case 19: {
		/* main.cf, then the skeleton, homes and shells: every
		   change of the step, shown before it is made */
		struct pf_edit edit;
		char *acct;

		if (host_postfix_plan(&rb->cfg, &edit, err) < 0)
			return NULL;
		acct = rb_preview_accounts(rb, err);
		if (acct == NULL) {
			pf_edit_free(&edit);
			return NULL;
		}
		text = xasprintf("%s%s%s%s%s", edit.diff[0] != '\0' ?
				 edit.diff : _("main.cf already says so: "
					       "nothing to change.\n"),
				 edit.warning != NULL ? "\n" : "",
				 edit.warning != NULL ? edit.warning : "",
				 acct[0] != '\0' ? "\n" : "", acct);
		free(acct);
		pf_edit_free(&edit);
		break;
	}
	case 6:
	case 12:
		text = preview_clear(rb, err);
		break;
	case 14:
		text = preview_stop_mail(rb, err);
		break;
	default:
		text = xstrdup(_(rb_steps[step].what));
		break;
	}
	return text;

}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* The last field of each step, relies, is the dependency graph of undo:
 * the steps whose change what this step did needs in place.  Dovecot's
 * test listener (8) carries the IMAP tests (10, 16) and the move to the
 * normal port (17, an edit on top of 8's); the freeze (14) carries the
 * final migration (15) and Dovecot on UW-IMAP's port (17); delivery into
 * the maildirs (19) needs Dovecot on the normal port (17) and the full
 * migration (15); releasing the queue (20) needs 14 and 19; the test
 * message (21) and the report (22) need what came before them. */

const struct rb_step_def rb_steps[RB_NSTEPS] = {
	{ 0, "checks", N_("Pre-migration checks"),
	  N_("Checks inodes, space, the 32k subdirectory limit, folder "
	     "names, the sources (mbox, and UW-IMAP's mbx, mix and MMDF "
	     "formats, counted; tenex and mtx are not migrated), the "
	     "target, Dovecot, Postfix, UW-IMAP and the time it will take. "
	     "Nothing is changed."),
	  N_("Pre-migration: check the file system has enough inodes and "
	     "space for one file per message, and that the services are "
	     "as described."),
	  NULL, 0, 0, RB_PAGE_CHECKS, step_checks, NULL,
	  0 },
	{ 1, "freeze", N_("Freeze accounts"),
	  N_("No new accounts may be created until the migration is "
	     "complete: a user added now would have no maildir. Confirm "
	     "that account creation is frozen."),
	  N_("1. Ensure that no new accounts are created until the "
	     "migration is complete."),
	  NULL, BIT(0), RB_CONFIRM, RB_PAGE_TEXT, step_freeze, NULL,
	  0 },
	{ 2, "workdir", N_("Working directory"),
	  N_("Creates the working directory (mode 0700): the lists, the "
	     "journal, the backups of every edited file and this state."),
	  N_("2. Create a working directory /root/migrate/."),
	  NULL, BIT(1), RB_CHANGES, RB_PAGE_TEXT, step_workdir, NULL,
	  0 },
	{ 3, "userlist", N_("User list"),
	  N_("Finds the users (passwd and the spool) and writes "
	     "userlist-master; you may edit it and run the step again."),
	  N_("3. Create a list of users whose mailboxes are to be migrated "
	     "/root/migrate/userlist-master."),
	  NULL, BIT(2), RB_CHANGES, RB_PAGE_USERS, step_userlist, NULL,
	  BIT(2) },
	{ 4, "folderlist", N_("Folder list and names"),
	  N_("Finds every folder (mbox, and UW-IMAP's mbx, mix and MMDF "
	     "formats; tenex and mtx are named and skipped) and writes "
	     "folderlist-master. A name that would break IMAP, Maildir++ or "
	     "scripts needs a new name (a suggestion is offered) or to be "
	     "left out."),
	  N_("4. Create a list of mbox folders (excluding inboxes) to be "
	     "migrated /root/migrate/folderlist-master. Check that it does "
	     "not contain folders with characters likely to be problematic "
	     "when handled by scripts."),
	  NULL, BIT(3), RB_CHANGES | RB_DECIDE, RB_PAGE_FOLDERS,
	  step_folderlist, NULL,
	  BIT(3) },
	{ 5, "subset", N_("Test users"),
	  N_("Chooses a few users with representative mail in the inbox "
	     "and in folders for a test migration."),
	  N_("5. Proceed with a test migration with a small subset of users "
	     "by creating /root/migrate/userlist and folderlist."),
	  NULL, BIT(4), RB_CHANGES | RB_DECIDE, RB_PAGE_SUBSET, step_subset,
	  NULL,
	  BIT(4) },
	{ 6, "target", N_("Clear the target"),
	  N_("Makes sure the new mail base holds nothing but what an "
	     "earlier run of mbox2dovecot made there, and removes that. "
	     "Anything else stops the step."),
	  N_("6. Ensure that the new mail base directory is clear."),
	  N_("Nothing to undo: only what mbox2dovecot made is removed; the "
	     "mboxes are never touched."),
	  BIT(5), RB_CHANGES | RB_CONFIRM, RB_PAGE_TEXT, step_target_clear,
	  NULL,
	  0 },
	{ 7, "users", N_("Test: migrate-users"),
	  N_("Creates each test user's maildir root, owned by the user."),
	  N_("7. Run migrate-users: check that a directory for each user "
	     "is created."),
	  N_("Step 12 removes the test migration."),
	  BIT(6), RB_CHANGES, RB_PAGE_MIGRATE, step_migrate_users, NULL,
	  BIT(5) | BIT(6) },
	{ 8, "dovecot-test", N_("Dovecot on the alternate port"),
	  N_("Writes our settings into Dovecot's configuration (mail "
	     "location, the test listener), validates them with doveconf "
	     "and starts or reloads Dovecot on the test port."),
	  N_("8. Start dovecot on an alternative port so as not to interfere "
	     "with the normal uw-imap."),
	  N_("Undo puts Dovecot's configuration back byte for byte and "
	     "reloads it."),
	  BIT(7), RB_CHANGES | RB_CONFIRM, RB_PAGE_DIFF, step_dovecot_test,
	  undo_dovecot_test,
	  0 },
	{ 9, "folders", N_("Test: migrate-folders"),
	  N_("Converts every folder of the test users, exactly once."),
	  N_("9. Run migrate-folders: populate all the necessary maildirs."),
	  N_("Step 12 removes the test migration."),
	  BIT(7), RB_CHANGES, RB_PAGE_MIGRATE, step_migrate_folders, NULL,
	  BIT(7) },
	{ 10, "imap-test", N_("IMAP test"),
	  N_("Logs in on the test port as a test user: INBOX and every "
	     "folder listed, the counts and dates equal to the mboxes, a "
	     "folder created and deleted, a message moved and back."),
	  N_("10. Test that the folders are visible via Dovecot on port "
	     "1043: folders can be created and deleted, mail is visible and "
	     "sorts by date, mail can be moved, the inbox and all folders "
	     "are seen. Do not proceed unless it passes."),
	  NULL, BIT(8) | BIT(9), RB_GATE, RB_PAGE_IMAP, step_imap_test, NULL,
	  BIT(8) | BIT(9) },
	{ 11, "lists", N_("Full lists"),
	  N_("Puts the full user and folder lists in place for the real "
	     "migration."),
	  N_("11. Prepare new folderlist and userlist files from the "
	     "master files."),
	  NULL, BIT(10), RB_CHANGES, RB_PAGE_FOLDERS, step_full_lists, NULL,
	  BIT(3) | BIT(4) },
	{ 12, "clear-test", N_("Remove the test migration"),
	  N_("Removes the test users' maildirs made in steps 7 and 9 (and "
	     "only those)."),
	  N_("12. Remove the test mail folders prepared in steps 7 and 9."),
	  N_("Nothing to undo: run steps 7 and 9 again."),
	  BIT(10) | BIT(11), RB_CHANGES | RB_CONFIRM, RB_PAGE_TEXT,
	  step_clear_test, NULL,
	  BIT(7) | BIT(9) },
	{ 13, "announce", N_("Announce the downtime"),
	  N_("Migrates everything once while mail still flows, so that the "
	     "final run converts only what changes, and writes the "
	     "announcement with the estimated downtime."),
	  N_("13. Declare mail as unavailable."),
	  NULL, BIT(12), RB_CHANGES, RB_PAGE_MIGRATE, step_announce, NULL,
	  BIT(11) | BIT(12) },
	{ 14, "stop-mail", N_("Stop delivery and UW-IMAP"),
	  N_("Holds local delivery in Postfix's queue (nothing is refused) "
	     "and stops and disables UW-IMAP."),
	  N_("14. Stop incoming mail and prevent further use of imap."),
	  N_("Undo re-enables and starts UW-IMAP and releases the queue."),
	  BIT(13), RB_CHANGES | RB_CONFIRM, RB_PAGE_TEXT, step_stop_mail,
	  undo_stop_mail,
	  0 },
	{ 15, "final", N_("Final migration"),
	  N_("Converts what changed since the pre-migration: new mail is "
	     "appended, rewritten folders are converted again."),
	  N_("15. Run migrate-users and migrate-folders again."),
	  NULL, BIT(14), RB_CHANGES, RB_PAGE_MIGRATE, step_final, NULL,
	  BIT(13) | BIT(14) },
	{ 16, "imap-test-2", N_("IMAP test again"),
	  N_("The IMAP test of step 10 on the full migration."),
	  N_("16. Check a test user on the alternate port like step 10."),
	  NULL, BIT(15), RB_GATE, RB_PAGE_IMAP, step_imap_test, NULL,
	  BIT(8) | BIT(15) },
	{ 17, "dovecot-normal", N_("Dovecot to the normal port"),
	  N_("Moves Dovecot from the test port to the normal IMAP ports "
	     "and reloads it."),
	  N_("17. Re-configure dovecot to operate on the normal imap port "
	     "and re-start dovecot."),
	  N_("Undo moves Dovecot back to the test port."),
	  BIT(16), RB_CHANGES | RB_CONFIRM, RB_PAGE_DIFF,
	  step_dovecot_normal, undo_dovecot_normal,
	  BIT(8) | BIT(14) },
	{ 18, "imap-normal", N_("IMAP on the normal port"),
	  N_("The IMAP test on the normal port."),
	  N_("18. Check that mail can be read on the normal imap port."),
	  NULL, BIT(17), RB_GATE, RB_PAGE_IMAP, step_imap_normal, NULL,
	  BIT(17) },
	{ 19, "postconf", N_("Delivery into the maildirs"),
	  N_("Points Postfix's local delivery at the maildirs with "
	     "postconf, checked by postfix check; gives the skeleton "
	     "(skel_dir) cur/ new/ tmp/ and sets homes and shells when "
	     "configured. Each change is listed below."),
	  N_("19. Change email delivery into the new folders: postconf -e "
	     "\"mail_spool_directory = /data/mail2/\""),
	  N_("Undo first appends the mail that reached the maildirs since "
	     "to the mboxes, then puts main.cf (byte for byte), the "
	     "skeleton, homes and shells back."),
	  BIT(18), RB_CHANGES | RB_CONFIRM, RB_PAGE_DIFF, step_postconf,
	  undo_postconf,
	  BIT(15) | BIT(17) },
	{ 20, "restart-mail", N_("Restart delivery"),
	  N_("Releases the hold: the queued mail is delivered into the "
	     "maildirs."),
	  N_("20. Re-start mail."),
	  N_("Undo holds delivery again."),
	  BIT(19), RB_CHANGES, RB_PAGE_TEXT, step_restart_mail,
	  undo_restart_mail,
	  BIT(14) | BIT(19) },
	{ 21, "double-check", N_("Check and double check"),
	  N_("Sends a test message through the MTA and sees it arrive in "
	     "the test user's maildir and over IMAP."),
	  N_("21. Check and double check."),
	  NULL, BIT(20), RB_GATE, RB_PAGE_IMAP, step_double_check, NULL,
	  BIT(19) | BIT(20) },
	{ 22, "report", N_("Final report"),
	  N_("Writes the report of the whole migration: steps, users, "
	     "folders, messages, renames, backups and the undo commands."),
	  N_("22. Go home."),
	  NULL, BIT(21), 0, RB_PAGE_REPORT, step_report, NULL,
	  BIT(21) },
};
