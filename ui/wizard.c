/* SPDX-License-Identifier: MIT */
/* wizard.c - the wizard's controller: reads the runbook's state, builds
 * the page of the step shown, turns commands into runbook calls, runs a
 * step in a thread of its own while the screen follows its progress */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "ui.h"
#include "xalloc.h"
#include "wizard.h"


#define MAX_CHOSEN M2D_MAX_TEST_USERS

struct app {
	struct wizard_options opts;
	struct rb_options ro;
	struct runbook *rb;
	int cur;			/* the step shown */
	struct wz_page page;
	bool dirty;			/* rebuild the page from the runbook */
	struct wz_step_line steps[RB_NSTEPS];
	char message[1024];
	enum wz_color msg_color;
	char *password;			/* the IMAP test's, never saved */
	bool login_refused;		/* the last IMAP test's login failed:
					 * ask for the password again */
	int imap_step;			/* the step rb_imap_result() is of,
					 * or -1 */
	bool wide;			/* Tab: the page without the step
					 * list (80 columns are few) */
	/* the test users being chosen on the subset page */
	char *chosen[MAX_CHOSEN];
	size_t nchosen;
	bool chosen_init;
	/* a step running in its thread */
	pthread_t thread;
	bool running;
	int run_step;
	int run_result;
	struct m2d_error run_err;
	bool quit_after;
	volatile sig_atomic_t own_cancel;
	volatile sig_atomic_t *cancel;
	/* filled by the event callback (any thread), under LOCK */
	pthread_mutex_t lock;
	struct wz_mig mig;
	int mig_step;			/* the step MIG belongs to, or -1 */
	struct timespec t0;
	char log[512];
	bool run_done;
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
		(double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void set_message(struct app *a, enum wz_color color,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_message(struct app *a, enum wz_color color, const char *fmt,
			...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	a->msg_color = color;
}

static void error_message(struct app *a, const struct m2d_error *err)
{
	char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 64];

	set_message(a, WZ_C_FAIL, "%s", m2d_error_str(err, buf, sizeof(buf)));
}

/* ---- events: from the runner thread or a migration worker ---- */

static void on_event(const struct rb_event *ev, void *ctx)
{
	struct app *a = ctx;

	pthread_mutex_lock(&a->lock);
	switch (ev->kind) {
	case RB_EV_LOG:
		if (ev->text != NULL)
			snprintf(a->log, sizeof(a->log), "%s", ev->text);
		break;
	case RB_EV_MIGRATE:
		if (ev->migrate != NULL)
			wz_mig_event(&a->mig, ev->migrate);
		break;
	case RB_EV_STEP:
		break;
	}
	pthread_mutex_unlock(&a->lock);
}

/* ---- the page of the step shown ---- */

static void chosen_free(struct app *a)
{
	size_t i;

	for (i = 0; i < a->nchosen; i++)
		free(a->chosen[i]);
	a->nchosen = 0;
	a->chosen_init = false;
}

static void chosen_load(struct app *a)
{
	const char *const *list;
	const char *proposed[MAX_CHOSEN];
	size_t n, i;

	chosen_free(a);
	n = rb_test_users(a->rb, &list);
	if (n == 0) {
		int want = rb_config(a->rb)->test_user_count;

		n = rb_propose_test_users(a->rb, proposed,
					  want < 1 ? 1 : want > MAX_CHOSEN ?
					  MAX_CHOSEN : (size_t)want);
		list = proposed;
	}
	for (i = 0; i < n && i < MAX_CHOSEN; i++)
		a->chosen[a->nchosen++] = xstrdup(list[i]);
	a->chosen_init = true;
}

static void chosen_toggle(struct app *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nchosen; i++) {
		if (strcmp(a->chosen[i], name) == 0) {
			free(a->chosen[i]);
			a->chosen[i] = a->chosen[--a->nchosen];
			return;
		}
	}
	if (a->nchosen < MAX_CHOSEN)
		a->chosen[a->nchosen++] = xstrdup(name);
}

/* The plan, when a page needs it and none is loaded yet (a resumed
 * state). */
static void ensure_plan(struct app *a)
{
	struct m2d_error err;

	if (rb_plan(a->rb) != NULL || rb_step(a->rb, 3)->status != RB_DONE)
		return;
	(void)rb_load_plan(a->rb, &err);
}

static char *read_file(const char *dir, const char *name)
{
	char path[4096], *buf = NULL;
	size_t size = 0;
	FILE *f, *m;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	m = xopen_memstream(&buf, &size);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	xmemstream_close(m);
	return buf;
}

static void refresh_steps(struct app *a)
{
	int s;

	for (s = 0; s < RB_NSTEPS; s++) {
		a->steps[s].number = rb_steps[s].number;
		a->steps[s].title = _(rb_steps[s].title);
		a->steps[s].status = rb_step(a->rb, s)->status;
	}
}

static void build_page(struct app *a)
{
	const struct rb_step_def *d = &rb_steps[a->cur];
	const struct rb_step_state *st = rb_step(a->rb, a->cur);
	struct wz_page *p = &a->page;
	size_t sel = p->sel, top = p->top;
	char filter[sizeof(p->filter)];
	bool same = p->step == a->cur && p->heading != NULL;
	char *preview = NULL;
	struct m2d_error err;

	memcpy(filter, p->filter, sizeof(filter));
	wz_page_free(p);
	wz_page_init(p, d->page, a->cur);
	if (same) {
		p->sel = sel;
		p->top = top;
		memcpy(p->filter, filter, sizeof(filter));
	}
	refresh_steps(a);
	wz_page_head(p, d->number, _(d->title), st->status,
		     st->status == RB_SKIPPED ? st->reason : st->result);
	wz_page_set(&p->intro, _(d->what));
	if ((d->page == RB_PAGE_TEXT || d->page == RB_PAGE_DIFF) &&
	    st->status != RB_DONE)
		preview = rb_preview(a->rb, a->cur, &err);
	if (preview != NULL && strcmp(preview, _(d->what)) == 0) {
		free(preview);		/* the intro says it already */
		preview = NULL;
	}
	switch (d->page) {
	case RB_PAGE_TEXT:
		wz_page_text(p, _(d->what), d->undo ? _(d->undo) : NULL,
			     preview);
		break;
	case RB_PAGE_CHECKS:
		wz_page_checks(p, rb_checks(a->rb));
		if (rb_checks(a->rb) == NULL && st->status == RB_DONE) {
			/* done in an earlier session: the list itself is not
			 * kept, its result is */
			char when[64], *text;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M",
				 localtime(&st->finished));
			text = wz_strdupf(_("The checks ran on %s: %s.  The "
					    "list is not kept between "
					    "sessions: Enter runs them again "
					    "(nothing is changed)."), when,
					  st->result != NULL ? st->result :
					  "");
			wz_page_set(&p->empty, text);
			free(text);
		}
		break;
	case RB_PAGE_USERS: {
		const char *const *tests;
		size_t n;

		ensure_plan(a);
		n = rb_test_users(a->rb, &tests);
		wz_page_users(p, rb_plan(a->rb), tests, n);
		break;
	}
	case RB_PAGE_FOLDERS: {
		const struct rb_rename *rn;
		size_t n;

		ensure_plan(a);
		n = rb_renames(a->rb, &rn);
		wz_page_folders(p, rb_plan(a->rb), rn, n,
				rb_config(a->rb)->folder_names);
		break;
	}
	case RB_PAGE_SUBSET:
		ensure_plan(a);
		if (!a->chosen_init)
			chosen_load(a);
		wz_page_subset(p, rb_plan(a->rb),
			       (const char *const *)a->chosen, a->nchosen);
		break;
	case RB_PAGE_DIFF:
		wz_page_diff(p, preview);
		if (preview == NULL)
			wz_page_set(&p->empty, st->status == RB_DONE ?
				    _("Applied.  U: undo it") :
				    _("Enter shows and applies the change; "
				      "it is validated before it is used."));
		break;
	case RB_PAGE_MIGRATE:
		pthread_mutex_lock(&a->lock);
		if (a->mig_step != a->cur) {
			wz_mig_free(&a->mig);
			wz_mig_init(&a->mig);
			if (st->status == RB_DONE)
				a->mig.totals = *rb_migrate_totals(a->rb);
		}
		wz_page_migrate(p, &a->mig);
		if (a->mig_step != a->cur) {
			/* not run in this session: no figures but its
			   result (a gauge of another run would lie) */
			p->gauge.shown = false;
			if (st->status == RB_DONE)
				wz_page_setf(&p->empty, _("Done: %s"),
					     st->result != NULL ?
					     st->result : "");
		} else if (st->status == RB_DONE) {
			wz_page_set(&p->empty, _("Done: the figures are "
						 "above."));
		}
		pthread_mutex_unlock(&a->lock);
		break;
	case RB_PAGE_IMAP:
		/* the last IMAP test is the one of the step that ran it
		   (not step 18's on step 21's page) */
		if (a->imap_step == a->cur) {
			const struct rb_imap_user *list;
			size_t n = rb_imap_results(a->rb, &list);

			wz_page_imap_users(p, list, n);
		} else {
			wz_page_imap(p, NULL);
		}
		if (a->imap_step != a->cur && st->status == RB_DONE &&
		    st->result != NULL)
			wz_page_setf(&p->empty, _("Passed: %s."), st->result);
		break;
	case RB_PAGE_REPORT: {
		char *text = st->status == RB_DONE ?
			read_file(rb_config(a->rb)->work_dir, "report.txt") :
			NULL;

		wz_page_report(p, text);
		free(text);
		break;
	}
	}
	free(preview);
	if (a->message[0] == '\0' && !a->running &&
	    (st->status == RB_PENDING || st->status == RB_FAILED) &&
	    rb_prerequisite(a->rb, a->cur) >= 0) {
		char why[512];

		if (rb_can_run(a->rb, a->cur, why, sizeof(why)) == 0)
			set_message(a, WZ_C_WARN, _("Not yet: %s"), why);
	}
	a->dirty = false;
}

static const char *keys_for(struct app *a)
{
	const struct rb_step_def *d = &rb_steps[a->cur];
	enum rb_status s = rb_step(a->rb, a->cur)->status;

	return wz_keys_hint(d->page, s == RB_DONE || s == RB_SKIPPED,
			    d->undo_fn != NULL, rb_checks(a->rb) != NULL,
			    a->running);
}

/* ---- drawing ---- */

static void draw(struct app *a, struct wz_dialog *dialog)
{
	struct wz_frame f;
	struct wz_rect r;
	char *where = NULL;

	if (!wz_size_ok(LINES, COLS)) {
		wz_draw_too_small(stdscr);
		refresh();
		return;
	}
	if (a->running) {
		pthread_mutex_lock(&a->lock);
		a->mig.elapsed = since(&a->t0);
		if (a->page.kind == RB_PAGE_MIGRATE)
			wz_page_migrate(&a->page, &a->mig);
		if (a->log[0] != '\0')
			set_message(a, WZ_C_RUN, "%s", a->log);
		pthread_mutex_unlock(&a->lock);
	}
	memset(&f, 0, sizeof(f));
	f.title = _("mbox2dovecot: from UW-IMAP to Dovecot");
	where = wz_strdupf(_("work dir %s"), rb_config(a->rb)->work_dir);
	f.where = where;
	f.steps = a->steps;
	f.nsteps = a->wide ? 0 : RB_NSTEPS;
	f.current = a->cur;
	f.message = a->message[0] != '\0' ? a->message : NULL;
	f.message_color = a->msg_color;
	f.keys = keys_for(a);
	wz_frame_draw(stdscr, &f, &r);
	wz_page_draw(stdscr, &a->page, &r);
	if (dialog != NULL) {
		struct wz_rect all = { 0, 0, LINES, COLS };

		wz_dialog_draw(stdscr, dialog, &all);
	}
	free(where);
	refresh();
}

/* Shows D until it is answered: 1 yes/OK, 0 no/cancel. */
static int dialog_run(struct app *a, struct wz_dialog *d)
{
	for (;;) {
		struct wz_input in;
		int r;

		draw(a, d);
		in = wz_key_read(stdscr, d->field ? WZ_KM_FIELD :
				 WZ_KM_DIALOG);
		if (in.cmd == WZ_NONE && *a->cancel)
			return 0;
		if (!wz_size_ok(LINES, COLS))
			continue;
		if (in.cmd == WZ_QUIT && !d->field)
			return 0;
		r = wz_dialog_handle(d, &in);
		if (r >= 0)
			return r;
	}
}

static void show_text(struct app *a, const char *title, const char *text)
{
	struct wz_dialog d;

	wz_dialog_init(&d, title, text, _("Close"), NULL);
	dialog_run(a, &d);
	wz_dialog_free(&d);
}

/* A line typed by the admin (allocated), or NULL when cancelled. */
static char *ask_line(struct app *a, const char *title, const char *text,
		      const char *value, bool hidden,
		      const char *(*validate)(const char *, void *),
		      void *ctx)
{
	struct wz_dialog d;
	char *v = NULL;

	wz_dialog_init(&d, title, text, _("OK"), _("Cancel"));
	d.validate = validate;
	d.ctx = ctx;
	wz_dialog_field(&d, value, hidden);
	curs_set(1);
	if (dialog_run(a, &d) == 1)
		v = wz_dialog_value(&d);
	curs_set(0);
	wz_dialog_free(&d);
	return v;
}

/* A destructive or consequential question; No unless the admin says
 * Yes. */
static bool ask_yes(struct app *a, const char *title, const char *text,
		    bool danger, bool default_yes)
{
	struct wz_dialog d;
	int r;

	wz_dialog_init(&d, title, text, _("Yes"), _("No"));
	d.danger = danger;
	d.focus_yes = default_yes;
	r = dialog_run(a, &d);
	wz_dialog_free(&d);
	return r == 1;
}

static void help(struct app *a)
{
	const struct rb_step_def *d = &rb_steps[a->cur];
	const struct rb_step_state *st = rb_step(a->rb, a->cur);
	struct m2d_error err;
	/* a step that changes the system and has not run: every change it
	   will make (its preview), as its page and its question show */
	char *preview = (d->flags & RB_CHANGES) && st->status != RB_DONE ?
		rb_preview(a->rb, a->cur, &err) : NULL;
	bool show = preview != NULL && strcmp(preview, _(d->what)) != 0;
	char *text = wz_strdupf("%s\n  %s\n\n%s\n  %s\n\n%s%s%s%s%s\n  "
				"%s\n\n%s %s",
				_("The runbook says:"), _(d->runbook),
				_("What mbox2dovecot does:"), _(d->what),
				show ? _("What it will do:") : "",
				show ? "\n" : "", show ? preview : "",
				show ? "\n" : "",
				_("Undo:"), d->undo != NULL ? _(d->undo) :
				_("nothing to undo"),
				_("Keys: Enter run or next, n next page, b or "
				  "Esc previous page, s skip with a reason, "
				  "U undo, r run again, arrows and PageUp/"
				  "PageDown scroll, / filter, q quit (the "
				  "state is saved)."),
				_("L shows the log: everything done and "
				  "warned about, with times.  Tab hides or "
				  "shows the step list (the page gets its "
				  "width)."));
	char *title = wz_strdupf(_("Step %d: %s"), d->number, _(d->title));

	free(preview);
	if (text != NULL && title != NULL)
		show_text(a, title, text);
	free(text);
	free(title);
}

/* ---- running a step ---- */

static void *runner(void *arg)
{
	struct app *a = arg;
	int r = rb_run_step(a->rb, a->run_step, a->opts.force, &a->run_err);

	pthread_mutex_lock(&a->lock);
	a->run_result = r;
	a->run_done = true;
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* The first test user whose login the last IMAP test saw refused, or
 * NULL. */
static const char *refused_user(struct app *a)
{
	const struct rb_imap_user *list;
	size_t n = rb_imap_results(a->rb, &list);

	for (size_t u = 0; u < n; u++)
		for (size_t i = 0; i < list[u].res.nchecks; i++)
			if (strcmp(list[u].res.checks[i].id, "login") == 0 &&
			    !list[u].res.checks[i].ok)
				return list[u].user;
	return NULL;
}

static bool need_password(struct app *a)
{
	const struct m2d_config *cfg = rb_config(a->rb);

	if (rb_steps[a->cur].page != RB_PAGE_IMAP)
		return false;
	/* a refused login: the password typed (or set) was wrong, unless
	   a master user logs in (its password is the config's) */
	if (a->login_refused && cfg->imap_master_user == NULL)
		return true;
	return a->password == NULL &&
		a->opts.rb.imap_password == NULL &&
		cfg->imap_test_password == NULL &&
		cfg->imap_master_user == NULL &&
		getenv("MBOX2DOVECOT_IMAP_PASSWORD") == NULL;
}

/* Opens the runbook again (the settings edited).  The one open now is
 * closed only once the new one is open: settings that do not parse leave
 * it as it was, and the admin sees why (the file and the line). */
static int reopen(struct app *a)
{
	struct runbook *rb = NULL;
	struct m2d_error err;
	char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 64];
	char *text;

	a->ro.imap_password = a->password != NULL ? a->password :
		a->opts.rb.imap_password;
	if (rb_open(&a->ro, &rb, &err) < 0) {
		m2d_error_str(&err, buf, sizeof(buf));
		set_message(a, WZ_C_FAIL, _("Settings not read: %s"), buf);
		text = wz_strdupf(_("The settings were not read again:\n\n"
				    "  %s\n\nThe wizard goes on with the "
				    "settings it read before.  e edits the "
				    "file again."), buf);
		if (text != NULL)
			show_text(a, _("Settings"), text);
		free(text);
		a->dirty = true;
		return -1;
	}
	rb_close(&a->rb);
	a->rb = rb;
	a->dirty = true;
	return 0;
}

static void start_step(struct app *a, int step)
{
	const struct rb_step_def *d = &rb_steps[step];
	const struct rb_step_state *st = rb_step(a->rb, step);
	struct m2d_error err;
	char why[512];

	if (d->page == RB_PAGE_SUBSET) {
		if (a->nchosen == 0) {
			set_message(a, WZ_C_WARN, "%s",
				    _("Choose at least one test user with the "
				      "space bar."));
			return;
		}
		if (rb_set_test_users(a->rb, (const char *const *)a->chosen,
				      a->nchosen, &err) < 0) {
			error_message(a, &err);
			return;
		}
	}
	if ((d->flags & RB_CONFIRM) && !st->confirmed &&
	    rb_prerequisite(a->rb, step) < 0) {
		/* the question shows every change the step makes (its
		   preview: the diff, the commands, what is removed), whole
		   and wrapped; the arrows scroll it */
		char *preview = rb_preview(a->rb, step, &err);
		bool show = preview != NULL && strcmp(preview, _(d->what)) != 0;
		char *text = wz_strdupf("%s\n\n%s\n\n%s%s%s%s%s %s",
					_("Run this step?"), _(d->what),
					show ? _("What it will do (the arrows "
						 "scroll):") : "",
					show ? "\n" : "", show ? preview : "",
					show ? "\n" : "", _("Undo:"),
					d->undo != NULL ? _(d->undo) :
					_("nothing to undo"));
		char *title = wz_strdupf(_("Step %d: %s"), d->number,
					 _(d->title));
		bool yes;

		free(preview);
		yes = text != NULL && title != NULL &&
			ask_yes(a, title, text, (d->flags & RB_CHANGES) != 0,
				false);

		free(text);
		free(title);
		if (!yes) {
			set_message(a, WZ_C_NORMAL, "%s",
				    _("Not run: the answer was No."));
			return;
		}
		if (rb_confirm(a->rb, step, true, &err) < 0) {
			error_message(a, &err);
			return;
		}
	}
	if (need_password(a)) {
		const char *const *tu;
		size_t n = rb_test_users(a->rb, &tu);
		const char *who = rb_config(a->rb)->imap_test_user != NULL ?
			rb_config(a->rb)->imap_test_user :
			n > 0 ? tu[0] : _("the test user");
		const char *refused = refused_user(a);
		char *text = a->login_refused ?
			wz_strdupf(_("The login as %s was refused.  Its "
				     "password for the IMAP test (never "
				     "saved):"), refused != NULL ? refused :
				   who) :
			wz_strdupf(_("The password of %s for the IMAP "
				     "test (never saved):"), who);
		char *pw = ask_line(a, _("IMAP test"), text, "", true, NULL, NULL);

		free(text);
		if (pw == NULL)
			return;
		if (a->password != NULL) {
			explicit_bzero(a->password, strlen(a->password));
			free(a->password);
		}
		a->password = pw;
		a->login_refused = false;
		/* kept for a reopen (settings edited) too */
		a->ro.imap_password = a->password;
		rb_set_imap_password(a->rb, a->password);
	}
	if (!a->opts.force && rb_can_run(a->rb, step, why, sizeof(why)) == 0) {
		set_message(a, WZ_C_WARN, "%s", why);
		return;
	}
	pthread_mutex_lock(&a->lock);
	if (d->page == RB_PAGE_MIGRATE) {
		wz_mig_free(&a->mig);
		wz_mig_init(&a->mig);
		a->mig.running = true;
		a->mig_step = step;
	}
	a->log[0] = '\0';
	a->run_done = false;
	pthread_mutex_unlock(&a->lock);
	*a->cancel = 0;
	clock_gettime(CLOCK_MONOTONIC, &a->t0);
	a->run_step = step;
	m2d_error_clear(&a->run_err);
	a->steps[step].status = RB_RUNNING;
	wz_page_head(&a->page, d->number, _(d->title), RB_RUNNING, NULL);
	if (d->page == RB_PAGE_MIGRATE)
		wz_page_migrate(&a->page, &a->mig);
	set_message(a, WZ_C_RUN, _("Step %d runs..."), step);
	if (pthread_create(&a->thread, NULL, runner, a) != 0) {
		set_message(a, WZ_C_FAIL, "%s", _("cannot start a thread"));
		a->dirty = true;
		return;
	}
	a->running = true;
}

static void finish_step(struct app *a)
{
	const struct rb_step_state *st;
	int step = a->run_step;

	pthread_join(a->thread, NULL);
	a->running = false;
	*a->cancel = 0;		/* that stop is done; the next may run */
	pthread_mutex_lock(&a->lock);
	a->mig.running = false;
	a->mig.cancelling = false;
	a->mig.elapsed = since(&a->t0);
	pthread_mutex_unlock(&a->lock);
	st = rb_step(a->rb, step);
	if (a->run_result > 0)
		set_message(a, WZ_C_OK, rb_steps[step].page == RB_PAGE_CHECKS ?
			    _("Step %d done%s%s.  n: the next step") :
			    _("Step %d done%s%s.  Enter: the next step"), step,
			    st->result != NULL ? ": " : "",
			    st->result != NULL ? st->result : "");
	else if (a->run_err.code == M2D_ERR_CANCELLED)
		set_message(a, WZ_C_WARN, "%s",
			    _("Stopped.  Enter runs the step again and it goes "
			      "on where it stopped."));
	else
		error_message(a, &a->run_err);
	if (rb_steps[step].page == RB_PAGE_IMAP) {
		const struct imap_test_result *res = rb_imap_result(a->rb);

		a->imap_step = res != NULL ? step : -1;
		a->login_refused = refused_user(a) != NULL;
		if (a->login_refused &&
		    rb_config(a->rb)->imap_master_user == NULL)
			set_message(a, WZ_C_FAIL, "%s",
				    _("The login was refused: Enter asks for "
				      "the password again (L: the log has "
				      "Dovecot's lines)."));
	}
	a->dirty = true;
	/* a failure longer than the message line (Dovecot's log line
	   quoted, a path): shown whole, once, over the page */
	if (a->run_result < 0 && a->run_err.code != M2D_ERR_CANCELLED) {
		char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 64];
		char *title, *text;

		m2d_error_str(&a->run_err, buf, sizeof(buf));
		if (wz_text_width(buf) <= COLS - 2)
			return;
		build_page(a);
		title = wz_strdupf(_("Step %d failed"), step);
		text = wz_strdupf("%s\n\n%s", buf,
				  _("L shows the log: every line of this "
				    "run, with times."));
		if (title != NULL && text != NULL)
			show_text(a, title, text);
		free(title);
		free(text);
	}
}

/* ---- the commands of the pages ---- */

static void go_to(struct app *a, int step)
{
	if (step < 0)
		step = 0;
	if (step >= RB_NSTEPS)
		step = RB_NSTEPS - 1;
	if (step != a->cur) {
		a->cur = step;
		a->message[0] = '\0';
		a->dirty = true;
		wz_page_free(&a->page);
		wz_page_init(&a->page, rb_steps[step].page, -1);
	}
}

static void skip_step(struct app *a)
{
	struct m2d_error err;
	char *text = wz_strdupf(_("Why is step %d skipped? (saved in the "
				  "report)"), a->cur);
	char *reason = ask_line(a, _("Skip"), text, "", false, NULL, NULL);

	free(text);
	if (reason == NULL)
		return;
	if (*reason == '\0')
		set_message(a, WZ_C_WARN, "%s", _("A reason is needed."));
	else if (rb_skip_step(a->rb, a->cur, reason, false, &err) < 0)
		error_message(a, &err);
	else
		set_message(a, WZ_C_WARN, _("Step %d skipped."), a->cur);
	free(reason);
	a->dirty = true;
}

static void undo_step(struct app *a)
{
	const struct rb_step_def *d = &rb_steps[a->cur];
	struct m2d_error err;
	int list[RB_NSTEPS], r;
	size_t n;
	char *text = NULL;
	bool yes;

	if (d->undo_fn == NULL) {
		set_message(a, WZ_C_WARN, "%s",
			    _("This step has nothing to undo."));
		return;
	}
	/* the steps that rely on this one are undone first, newest first,
	   after one Yes to the whole list */
	n = rb_undo_chain(a->rb, a->cur, list, RB_NSTEPS);
	text = wz_undo_question(a->cur, list, n);
	yes = text != NULL && ask_yes(a, _("Undo"), text, true, false);
	free(text);
	if (!yes) {
		set_message(a, WZ_C_NORMAL, "%s",
			    _("Nothing undone: the answer was No."));
		return;
	}
	/* an undo reloads services: say so while it runs */
	set_message(a, WZ_C_RUN, _("Undoing step %d..."), a->cur);
	draw(a, NULL);
	r = n > 0 ? rb_undo_with_chain(a->rb, a->cur, &err) :
		rb_undo_step(a->rb, a->cur, &err);
	if (r < 0)
		error_message(a, &err);
	else if (r > 0 && n > 0)
		set_message(a, WZ_C_OK,
			    ngettext("Step %d undone, and the %zu step that "
				     "relied on it.",
				     "Step %d undone, and the %zu steps that "
				     "relied on it.", n), a->cur, n);
	else
		set_message(a, WZ_C_OK, r > 0 ? _("Step %d undone.") :
			    _("Step %d: nothing to undo."), a->cur);
	a->dirty = true;
}

/* ---- the log: WORK/log, scrolled and searched ---- */

static void draw_log(struct app *a, struct wz_page *p, struct wz_dialog *d)
{
	struct wz_frame f;
	struct wz_rect r;

	if (!wz_size_ok(LINES, COLS)) {
		wz_draw_too_small(stdscr);
		refresh();
		return;
	}
	memset(&f, 0, sizeof(f));
	f.title = _("mbox2dovecot: the log");
	f.message = a->message[0] != '\0' ? a->message : NULL;
	f.message_color = a->msg_color;
	f.keys = wz_keys_log();
	wz_frame_draw(stdscr, &f, &r);
	wz_page_draw(stdscr, p, &r);
	if (d != NULL) {
		struct wz_rect all = { 0, 0, LINES, COLS };

		wz_dialog_draw(stdscr, d, &all);
	}
	refresh();
}

/* A dialog over the log view: 1 yes/OK, 0 no/cancel. */
static int log_dialog(struct app *a, struct wz_page *p, struct wz_dialog *d)
{
	for (;;) {
		struct wz_input in;
		int r;

		draw_log(a, p, d);
		in = wz_key_read(stdscr, d->field ? WZ_KM_FIELD :
				 WZ_KM_DIALOG);
		if (in.cmd == WZ_NONE && *a->cancel)
			return 0;
		if (!wz_size_ok(LINES, COLS))
			continue;
		if (in.cmd == WZ_QUIT && !d->field)
			return 0;
		r = wz_dialog_handle(d, &in);
		if (r >= 0)
			return r;
	}
}

static void show_log(struct app *a)
{
	char *path = rb_log_path(a->rb), *text, *needle = NULL;
	const char *slash;
	struct wz_page p;

	slash
 = strrchr(path, '/');
	text = read_file(rb_config(a->rb)->work_dir,
			 slash != NULL ? slash + 1 : path);
	wz_page_init(&p, RB_PAGE_REPORT, -1);
	wz_page_log(&p, path, text);
	free(text);
	a->message[0] = '\0';
	for (;;) {
		struct wz_input in;
		struct wz_dialog d;

		draw_log(a, &p, NULL);
		in = wz_key_read(stdscr, WZ_KM_PAGE);
		if (in.cmd == WZ_NONE && *a->cancel)
			break;
		if (!wz_size_ok(LINES, COLS))
			continue;
		if (wz_page_move(&p, in.cmd))
			continue;
		if (in.cmd == WZ_CANCEL || in.cmd == WZ_QUIT ||
		    in.cmd == WZ_LOG || in.cmd == WZ_BACK)
			break;
		if (in.cmd == WZ_FILTER) {
			wz_dialog_init(&d, _("Search"), _("Find in the log:"),
				       _("OK"), _("Cancel"));
			wz_dialog_field(&d, needle != NULL ? needle : "",
					false);
			curs_set(1);
			if (log_dialog(a, &p, &d) == 1) {
				free(needle);
				needle = wz_dialog_value(&d);
				wz_page_search(&p, needle, false);
			}
			curs_set(0);
			wz_dialog_free(&d);
		} else if (in.cmd == WZ_NEXT && needle != NULL) {
			wz_page_search(&p, needle, in.ch != L'N');
		} else if (in.cmd == WZ_ENTER) {
			struct wz_row *row = wz_page_selected(&p);

			if (row == NULL)
				continue;
			wz_dialog_init(&d, _("The whole line"), row->text,
				       _("Close"), NULL);
			log_dialog(a, &p, &d);
			wz_dialog_free(&d);
		}
	}
	free(needle);
	free(path);
	wz_page_free(&p);
	a->dirty = true;
}

static void edit_settings(struct app *a)
{
	const char *editor = getenv("VISUAL");
	const char *path = a->ro.config_path;
	char *cmd;

	if (path == NULL) {
		set_message(a, WZ_C_WARN, "%s",
			    _("No configuration file: start with --config "
			      "FILE to edit the settings here."));
		return;
	}
	if (editor == NULL || *editor == '\0')
		editor = getenv("EDITOR");
	if (editor == NULL || *editor == '\0')
		editor = "vi";
	cmd = wz_strdupf("%s '%s'", editor, path);
	def_prog_mode();
	endwin();
	if (system(cmd) != 0)
		set_message(a, WZ_C_WARN, _("%s ended with an error"), editor);
	reset_prog_mode();
	free(cmd);
	if (reopen(a) == 0)
		set_message(a, WZ_C_OK, "%s", _("Settings read again."));
}

static void folders_command(struct app *a, enum wz_cmd cmd)
{
	struct wz_row *row = wz_page_selected(&a->page);
	const struct plan *plan = rb_plan(a->rb);
	const struct plan_folder *f = NULL;
	struct m2d_error err;
	int r = 0;

	if (cmd == WZ_ACCEPT_ALL) {
		r = rb_accept_defaults(a->rb, 4, &err);
		goto done;
	}
	if (cmd == WZ_NAMES) {
		r = rb_set_folder_names(a->rb, strcmp(rb_config(a->rb)->
						      folder_names, "uw") == 0 ?
					"compat" : "uw", &err);
		goto done;
	}
	if (row == NULL || row->key == NULL)
		return;
	if (plan != NULL && row->ref >= 0 && (size_t)row->ref < plan->nfolders)
		f = &plan->folders[row->ref];
	switch (cmd) {
	case WZ_ACCEPT:
		if (f == NULL || f->suggestion == NULL || !*f->suggestion) {
			set_message(a, WZ_C_WARN, "%s",
				    _("No suggestion: e types a name."));
			return;
		}
		r = rb_set_rename(a->rb, row->key, f->suggestion, &err);
		break;
	case WZ_EDIT: {
		char *text = wz_strdupf(_("The new name of %s (levels "
					  "separated by '/'):"), row->key);
		struct wz_rename_ctx *rctx = xcalloc(1, sizeof(*rctx));

		rctx->rb = a->rb;
		rctx->listed = xstrdup(row->key);
		char *name = ask_line(a, _("New name"), text,
				      f != NULL && f->suggestion != NULL ?
				      f->suggestion : "", false,
				      wz_rename_problem, rctx);

		free(text);
		free((char *)rctx->listed);
		free(rctx);
		if (name == NULL)
			return;
		r = rb_set_rename(a->rb, row->key, name, &err);
		free(name);
		break;
	}
	case WZ_EXCLUDE:
		r = rb_set_rename(a->rb, row->key, NULL, &err);
		break;
	case WZ_CLEAR:
		r = rb_clear_rename(a->rb, row->key, &err);
		break;
	default:
		return;
	}
done:
	if (r < 0)
		error_message(a, &err);
	else
		a->message[0] = '\0';
	a->dirty = true;
}

static void ask_filter(struct app *a)
{
	char *f = ask_line(a, _("Filter"), _("Show the rows containing:"),
			   a->page.filter, false, NULL, NULL);

	if (f == NULL)
		return;
	snprintf(a->page.filter, sizeof(a->page.filter), "%s", f);
	a->page.sel = a->page.top = 0;
	free(f);
}

static void enter(struct app *a)
{
	const struct rb_step_def *d = &rb_steps[a->cur];
	enum rb_status s = rb_step(a->rb, a->cur)->status;

	if (d->page == RB_PAGE_CHECKS && rb_checks(a->rb) != NULL) {
		struct wz_row *row = wz_page_selected(&a->page);

		if (row != NULL && row->detail != NULL)
			show_text(a, _("Details"), row->detail);
		return;
	}
	if (s == RB_DONE || s == RB_SKIPPED) {
		go_to(a, a->cur + 1);
		return;
	}
	start_step(a, a->cur);
}

/* One command on the page (no step running).  Returns 1 to quit. */
static int page_command(struct app *a, const struct wz_input *in)
{
	enum rb_page kind = rb_steps[a->cur].page;

	if (wz_page_move(&a->page, in->cmd))
		return 0;
	switch (in->cmd) {
	case WZ_QUIT:
		return 1;
	case WZ_HELP:
		help(a);
		break;
	case WZ_NEXT:
		go_to(a, a->cur + 1);
		break;
	case WZ_BACK:
	case WZ_CANCEL:
		if (a->page.filter[0] != '\0') {
			a->page.filter[0] = '\0';
			break;
		}
		go_to(a, a->cur - 1);
		break;
	case WZ_ENTER:
		enter(a);
		break;
	case WZ_SKIP:
		skip_step(a);
		break;
	case WZ_UNDO:
		undo_step(a);
		break;
	case WZ_RERUN:
		start_step(a, a->cur);
		break;
	case WZ_LOG:
		show_log(a);
		break;
	case WZ_TAB:
		a->wide = !a->wide;
		break;
	case WZ_FILTER:
		ask_filter(a);
		break;
	case WZ_TOGGLE:
		if (kind == RB_PAGE_SUBSET) {
			struct wz_row *row = wz_page_selected(&a->page);

			if (row != NULL && row->key != NULL) {
				chosen_toggle(a, row->key);
				a->dirty = true;
				wz_page_move(&a->page, WZ_DOWN);
			}
		}
		break;
	case WZ_ACCEPT: case WZ_ACCEPT_ALL: case WZ_EXCLUDE: case WZ_CLEAR:
	case WZ_NAMES:
		if (kind == RB_PAGE_FOLDERS)
			folders_command(a, in->cmd);
		break;
	case WZ_EDIT:
		if (kind == RB_PAGE_FOLDERS)
			folders_command(a, in->cmd);
		else if (kind == RB_PAGE_DIFF || kind == RB_PAGE_TEXT)
			edit_settings(a);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- the loop ---- */

static void offer_resume(struct app *a)
{
	int next = rb_next_step(a->rb);
	char *text;

	if (next >= RB_NSTEPS) {
		a->cur = RB_NSTEPS - 1;
		set_message(a, WZ_C_OK, "%s", _("Every step is done."));
		return;
	}
	text = wz_strdupf(_("A saved migration was found in %s.\n\nGo on "
			    "with step %d, %s?  (No shows step 0; nothing is "
			    "reset.)"), rb_config(a->rb)->work_dir, next,
			  _(rb_steps[next].title));
	/* where it stopped: "interrupted ...", "stopped before the end" */
	if (text != NULL && rb_step(a->rb, next)->result != NULL) {
		char *more = wz_strdupf("%s\n\n%s %s", text,
					_("Its last run:"),
					rb_step(a->rb, next)->result);

		if (more != NULL) {
			free(text);
			text = more;
		}
	}
	refresh_steps(a);
	a->cur = next;
	build_page(a);
	if (text != NULL && !ask_yes(a, _("Resume"), text, false, true))
		go_to(a, 0);
	free(text);
}

static void loop(struct app *a)
{
	for (;;) {
		struct wz_input in;

		if (a->dirty && !a->running)
			build_page(a);
		draw(a, NULL);
		in = wz_key_read(stdscr, WZ_KM_PAGE);
		if (a->running) {
			bool done;

			pthread_mutex_lock(&a->lock);
			done = a->run_done;
			pthread_mutex_unlock(&a->lock);
			if (done) {
				finish_step(a);
				if (a->quit_after)
					return;
				continue;
			}
			if (in.cmd == WZ_CANCEL || in.cmd == WZ_QUIT) {
				*a->cancel = 1;
				a->quit_after = in.cmd == WZ_QUIT;
				pthread_mutex_lock(&a->lock);
				a->mig.cancelling = true;
				pthread_mutex_unlock(&a->lock);
				set_message(a, WZ_C_WARN, "%s",
					    _("Stopping cleanly..."));
			} else if (in.cmd == WZ_HELP) {
				/* no dialog while the step runs: the page
				   keeps its progress */
			}
			continue;
		}
		if (in.cmd == WZ_NONE && *a->cancel) {
			return;			/* Ctrl-C while idle */
		}
		if (!wz_size_ok(LINES, COLS)) {
			if (in.cmd == WZ_QUIT)
				return;
			continue;
		}
		if (page_command(a, &in))
			return;
	}
}

int wizard_run(const struct wizard_options *opts, struct m2d_error *err)
{
	struct app *a = xcalloc(1, sizeof(*a));
	SCREEN *scr;
	int ret = 0;

	m2d_error_clear(err);
	a->opts = *opts;
	a->ro = opts->rb;
	a->ro.event = on_event;
	a->ro.event_ctx = a;
	a->cancel = opts->rb.cancel != NULL ? opts->rb.cancel : &a->own_cancel;
	a->ro.cancel = a->cancel;
	a->mig_step = -1;
	a->imap_step = -1;
	pthread_mutex_init(&a->lock, NULL);
	wz_mig_init(&a->mig);
	if (rb_open(&a->ro, &a->rb, err) < 0) {
		ret = -1;
		goto out;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		ret = m2d_error_set(err, M2D_ERR_USAGE, NULL,
				    _("the wizard needs a terminal (--batch "
				      "runs without one)"));
		goto out;
	}
	scr = newterm(NULL, stdout, stdin);
	if (scr == NULL) {
		ret = m2d_error_set(err, M2D_ERR_USAGE, NULL,
				    _("the terminal (TERM=%s) cannot be "
				      "used"), getenv("TERM") ? getenv("TERM") :
				    "");
		goto out;
	}
	set_term(scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(100);
	curs_set(0);
	timeout(100);		/* progress, and Ctrl-C while idle */
	wz_looks_init(-1, -1);
	refresh_steps(a);
	if (opts->start_step >= 0) {
		a->cur = opts->start_step < RB_NSTEPS ? opts->start_step :
			RB_NSTEPS - 1;
	} else if (rb_has_state(a->rb) && !opts->resume) {
		offer_resume(a);
	} else {
		int next = rb_next_step(a->rb);

		a->cur = next < RB_NSTEPS ? next : RB_NSTEPS - 1;
	}
	a->dirty = true;
	if (a->ro.config_path == NULL && a->message[0] == '\0')
		set_message(a, WZ_C_WARN, "%s",
			    _("No /etc/mbox2dovecot.conf: the built-in "
			      "defaults are in use (start with --config "
			      "FILE)."));
	loop(a);
	if (a->running) {		/* q while running: stop, then go */
		*a->cancel = 1;
		finish_step(a);
	}
	endwin();
	delscreen(scr);
out:
	rb_close(&a->rb);
	wz_page_free(&a->page);
	wz_mig_free(&a->mig);
	chosen_free(a);
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	pthread_mutex_destroy(&a->lock);
	free(a);
	return ret;
}
