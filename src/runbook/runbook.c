/* SPDX-License-Identifier: MIT */
/* runbook.c - the runbook model: state file, prerequisites, the runner */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "runbook-int.h"
#include "xalloc.h"
#include "runbook-log.h"
#include "safe-file.h"

#define STATE_FILE "state"
#define STATE_VERSION 1

static const char *const status_ids[] = {
	"pending", "running", "done", "failed", "skipped",
};

const char *rb_status_name(enum rb_status status)
{
	return (unsigned)status < 5 ? status_ids[status] : "pending";
}

const char *rb_status_str(enum rb_status status)
{
	switch (status) {
	case RB_PENDING:
		return _("pending");
	case RB_RUNNING:
		return _("running");
	case RB_DONE:
		return _("done");
	case RB_FAILED:
		return _("failed");
	case RB_SKIPPED:
		return _("skipped");
	}
	return _("pending");
}

static bool step_ok(int step)
{
	return step >= 0 && step < RB_NSTEPS;
}

/* ------------------------------------------------------------------ */
/* Events                                                             */

void rb_log(struct runbook *rb, const char *fmt, ...)
{
	struct rb_event ev;
	char buf[2048];
	va_list ap;

	if (rb->opts.event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.kind = RB_EV_LOG;
	ev.step = rb->running;
	ev.text = buf;
	rb->opts.event(&ev, rb->opts.event_ctx);
}

static void step_event(struct runbook *rb, int step)
{
	struct rb_event ev;

	if (rb->opts.event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = RB_EV_STEP;
	ev.step = step;
	rb->opts.event(&ev, rb->opts.event_ctx);
}

void rb_result(struct runbook *rb, int step, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m2d_config_set(&rb->steps[step].result, buf);
}

/* ------------------------------------------------------------------ */
/* The state file                                                     */

/* A double-quoted libconfuse string: '"', '\\', '$' (libconfuse expands
 * ${VAR} in quoted strings) and control bytes escaped as \xHH. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f || *p == '$')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

int rb_work_dir(struct runbook *rb, struct m2d_error *err)
{
	const char *dir = rb->cfg.work_dir;
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return m2d_error_sys(err, "mkdir", dir);
	if (lstat(dir, &st) < 0)
		return m2d_error_sys(err, "lstat", dir);
	/* it holds the journal and the backups of /etc files: ours alone */
	if (!S_ISDIR(st.st_mode))
		return m2d_error_set(err, M2D_ERR_UNSAFE, dir,
				     _("the work directory is not a "
				       "directory (a symlink?)"));
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return m2d_error_set(err, M2D_ERR_UNSAFE, dir,
				     _("the work directory must belong to "
				       "us and be writable by nobody else "
				       "(chmod 700)"));
	return 0;
}

int rb_save(struct runbook *rb, struct m2d_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	if (rb_work_dir(rb, err) < 0)
		return -1;
	f = xopen_memstream(&text, &len);
	fprintf(f, "version = %d\n", STATE_VERSION);
	fprintf(f, "premigrated = %s\n", rb->premigrated ? "true" : "false");
	if (rb->names_chosen)
		fprintf(f, "folder_names = \"%s\"\n", rb->cfg.folder_names);
	fputs("test_users = {", f);
	for (size_t i = 0; i < rb->ntest; i++) {
		fputs(i > 0 ? ", " : "", f);
		put_quoted(f, rb->test_users[i]);
	}
	fputs("}\n", f);
	for (size_t i = 0; i < rb->nrenames; i++) {
		fputs("rename ", f);
		put_quoted(f, rb->renames[i].listed);
		if (rb->renames[i].name != NULL) {
			fputs(" { name = ", f);
			put_quoted(f, rb->renames[i].name);
			fputs(" }\n", f);
		} else {
			fputs(" { exclude = true }\n", f);
		}
	}
	for (int s = 0; s < RB_NSTEPS; s++) {
		const struct rb_step_state *st = &rb->steps[s];

		fprintf(f, "step %s {\n  status = %s\n  started = %lld\n"
			"  finished = %lld\n  confirmed = %s\n",
			rb_steps[s].id, rb_status_name(st->status),
			(long long)st->started, (long long)st->finished,
			st->confirmed ? "true" : "false");
		if (st->result != NULL) {
			fputs("  result = ", f);
			put_quoted(f, st->result);
			fputc('\n', f);
		}
		if (st->reason != NULL) {
			fputs("  reason = ", f);
			put_quoted(f, st->reason);
			fputc('\n', f);
		}
		fputs("}\n", f);
	}
	xmemstream_close(f);
	ret = sf_write_path(rb->state_path, text, 0600, -1, -1, err);
	free(text);
	if (ret == 0)
		ret = rb_write_renames(rb, err);
	return ret;
}

static cfg_opt_t rename_opts[] = {
	CFG_STR("name", NULL, CFGF_NONE),
	CFG_BOOL("exclude", cfg_false, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t step_opts[] = {
	CFG_STR("status", "pending", CFGF_NONE),
	CFG_INT("started", 0, CFGF_NONE),
	CFG_INT("finished", 0, CFGF_NONE),
	CFG_BOOL("confirmed", cfg_false, CFGF_NONE),
	CFG_STR("result", NULL, CFGF_NONE),
	CFG_STR("reason", NULL, CFGF_NONE),
	CFG_END()
};

static _Thread_local char state_error[M2D_ERROR_MSG_MAX];
static _Thread_local int state_line;

static void state_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	if (state_error[0] != '\0')
		return;
	state_line = cfg != NULL ? cfg->line : 0;
	vsnprintf(state_error, sizeof(state_error), fmt, ap);
}

void rb_add_rename(struct runbook *rb, const char *listed, const char *name)
{
	struct rb_rename *n;

	rb->renames = xrealloc(rb->renames,
			       (rb->nrenames + 1) * sizeof(*rb->renames));
	n = &rb->renames[rb->nrenames++];
	n->listed = xstrdup(listed);
	n->name = name != NULL ? xstrdup(name) : NULL;
}

void rb_put_rename(struct runbook *rb, const char *listed, const char *name)
{
	struct rb_rename *r = rb_find_rename(rb, listed);

	if (r == NULL) {
		rb_add_rename(rb, listed, name);
		return;
	}
	free(r->name);
	r->name = name != NULL ? xstrdup(name) : NULL;
}

/* The number of the step whose state is ST. */
static int k_of(const struct runbook *rb, const struct rb_step_state *st)
{
	return (int)(st - rb->steps);
}

static int load_state(struct runbook *rb, struct m2d_error *err)
{
	cfg_opt_t opts[] = {
		CFG_INT("version", 0, CFGF_NONE),
		CFG_BOOL("premigrated", cfg_false, CFGF_NONE),
		CFG_STR_LIST("test_users", "{}", CFGF_NONE),
		CFG_STR("folder_names", NULL, CFGF_NONE),
		CFG_SEC("rename", rename_opts, CFGF_MULTI | CFGF_TITLE),
		CFG_SEC("step", step_opts, CFGF_MULTI | CFGF_TITLE),
		CFG_END()
	};
	struct stat st;
	cfg_t *c;
	int ret;

	if (lstat(rb->state_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return m2d_error_sys(err, "lstat", rb->state_path);
	}
	if (!S_ISREG(st.st_mode))
		return m2d_error_set(err, M2D_ERR_UNSAFE, rb->state_path,
				     _("not a regular file"));
	c = cfg_init(opts, CFGF_NONE);
	if (c == NULL)
		xalloc_die();	/* our tables are valid: only memory */
	cfg_set_error_function(c, state_errfunc);
	state_error[0] = '\0';
	state_line = 0;
	ret = cfg_parse(c, rb->state_path);
	if (ret != CFG_SUCCESS) {
		m2d_error_set(err, M2D_ERR_USAGE, rb->state_path, "%s",
			      state_error[0] != '\0' ? state_error :
			      _("cannot be parsed"));
		if (state_line > 0)
			m2d_error_at(err, -1, (unsigned long)state_line);
		cfg_free(c);
		return -1;
	}
	if (cfg_getint(c, "version") != STATE_VERSION) {
		cfg_free(c);
		return m2d_error_set(err, M2D_ERR_USAGE, rb->state_path,
				     _("state version %ld is not %d"),
				     cfg_getint(c, "version"), STATE_VERSION);
	}
	rb->had_state = true;
	rb->premigrated = cfg_getbool(c, "premigrated") == cfg_true;
	if (cfg_getstr(c, "folder_names") != NULL &&
	    (strcmp(cfg_getstr(c, "folder_names"), "uw") == 0 ||
	     strcmp(cfg_getstr(c, "folder_names"), "compat") == 0)) {
		m2d_config_set(&rb->cfg.folder_names,
			       cfg_getstr(c, "folder_names"));
		rb->names_chosen = true;
	}
	for (unsigned int i = 0; i < cfg_size(c, "test_users") &&
	     rb->ntest < M2D_MAX_TEST_USERS; i++) {
		rb->test_users[rb->ntest++] =
			xstrdup(cfg_getnstr(c, "test_users", i));
	}
	for (unsigned int i = 0; i < cfg_size(c, "rename"); i++) {
		cfg_t *r = cfg_getnsec(c, "rename", i);
		bool excl = cfg_getbool(r, "exclude") == cfg_true;

		rb_add_rename(rb, cfg_title(r),
			      excl ? NULL : cfg_getstr(r, "name"));
	}
	for (unsigned int i = 0; i < cfg_size(c, "step"); i++) {
		cfg_t *s = cfg_getnsec(c, "step", i);
		const char *status = cfg_getstr(s, "status");
		struct rb_step_state *st_ = NULL;

		for (int k = 0; k < RB_NSTEPS; k++)
			if (strcmp(rb_steps[k].id, cfg_title(s)) == 0)
				st_ = &rb->steps[k];
		if (st_ == NULL)
			continue;	/* a step of another version */
		st_->status = RB_PENDING;
		for (int k = 0; k < 5; k++)
			if (strcmp(status, status_ids[k]) == 0)
				st_->status = (enum rb_status)k;
		st_->started = (time_t)cfg_getint(s, "started");
		st_->finished = (time_t)cfg_getint(s, "finished");
		st_->confirmed = cfg_getbool(s, "confirmed") == cfg_true;
		m2d_config_set(&st_->result, cfg_getstr(s, "result"));
		m2d_config_set(&st_->reason, cfg_getstr(s, "reason"));
		/* killed while it ran: it runs again (each step is
		   idempotent or knows how far it got), and says so */
		if (st_->status == RB_RUNNING) {
			char when[64] = "?";
			struct tm tm;

			st_->status = RB_PENDING;
			if (st_->started != 0 &&
			    localtime_r(&st_->started, &tm) != NULL)
				strftime(when, sizeof(when),
					 "%Y-%m-%d %H:%M:%S", &tm);
			rb_result(rb, k_of(rb, st_),
				  _("interrupted: it was running since %s "
				    "when the run was killed; it runs again "
				    "and goes on where it stopped"), when);
		}
	}
	cfg_free(c);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open, close                                                        */

int rb_open(const struct rb_options *opts, struct runbook **rb_r,
	    struct m2d_error *err)
{
	struct runbook *rb;

	*rb_r = NULL;
	m2d_error_clear(err);
	rb = xcalloc(1, sizeof(*rb));
	rb->opts = *opts;
	rb->running = -1;
	if (m2d_config_load(&rb->cfg, opts->config_path, err) < 0) {
		free(rb);
		return -1;
	}
	if (opts->override != NULL)
		opts->override(&rb->cfg, opts->override_ctx);
	if (m2d_config_check(&rb->cfg, opts->config_path, err) < 0)
		goto fail;
	if (opts->config_path != NULL)
		m2d_config_set(&rb->config_path, opts->config_path);
	rb->state_path = xasprintf("%s/%s", rb->cfg.work_dir, STATE_FILE);
	if (opts->imap_password != NULL)
		m2d_config_set(&rb->password, opts->imap_password);
	else if (getenv("MBOX2DOVECOT_IMAP_PASSWORD") != NULL)
		m2d_config_set(&rb->password,
			       getenv("MBOX2DOVECOT_IMAP_PASSWORD"));
	else if (rb->cfg.imap_test_password != NULL)
		m2d_config_set(&rb->password, rb->cfg.imap_test_password);
	if (load_state(rb, err) < 0)
		goto fail;
	checks_report_init(&rb->checks);
	rb_logbook_open(rb);
	if (opts->renames_path != NULL &&
	    rb_import_renames(rb, opts->renames_path, err) < 0)
		goto fail;
	*rb_r = rb;
	return 0;
fail:
	rb_close(&rb);
	return -1;
}

void rb_close(struct runbook **rbp)
{
	struct runbook *rb = *rbp;

	if (rb == NULL)
		return;
	rb_logbook_close(rb);
	for (int s = 0; s < RB_NSTEPS; s++) {
		free(rb->steps[s].result);
		free(rb->steps[s].reason);
	}
	for (size_t i = 0; i < rb->ntest; i++)
		free(rb->test_users[i]);
	for (size_t i = 0; i < rb->nrenames; i++) {
		free(rb->renames[i].listed);
		free(rb->renames[i].name);
	}
	free(rb->renames);
	if (rb->have_plan)
		plan_free(&rb->plan);
	checks_report_free(&rb->checks);
	rb_imap_clear(rb);
	if (rb->password != NULL)
		explicit_bzero(rb->password, strlen(rb->password));
	free(rb->password);
	free(rb->config_path);
	free(rb->state_path);
	m2d_config_free(&rb->cfg);
	free(rb);
	*rbp = NULL;
}

const struct m2d_config *rb_config(const struct runbook *rb)
{
	return &rb->cfg;
}

bool rb_has_state(const struct runbook *rb)
{
	return rb->had_state;
}

const struct rb_step_state *rb_step(const struct runbook *rb, int step)
{
	return step_ok(step) ? &rb->steps[step] : NULL;
}

int rb_next_step(const struct runbook *rb)
{
	for (int s = 0; s < RB_NSTEPS; s++)
		if (rb->steps[s].status != RB_DONE &&
		    rb->steps[s].status != RB_SKIPPED)
			return s;
	return RB_NSTEPS;
}

const struct plan *rb_plan(const struct runbook *rb)
{
	return rb->have_plan ? &rb->plan : NULL;
}

void rb_set_imap_password(struct runbook *rb, const char *password)
{
	if (rb->password != NULL) {
		explicit_bzero(rb->password, strlen(rb->password));
		free(rb->password);
	}
	rb->password = password != NULL ? xstrdup(password) : NULL;
}

const struct checks_report *rb_checks(const struct runbook *rb)
{
	return rb->have_checks ? &rb->checks : NULL;
}

const struct migrate_totals *rb_migrate_totals(const struct runbook *rb)
{
	return &rb->totals;
}

const struct imap_test_result *rb_imap_result(const struct runbook *rb)
{
	return rb->have_imap ? &rb->imap : NULL;
}

size_t rb_imap_results(const struct runbook *rb,
		       const struct rb_imap_user **list)
{
	*list = rb->imap_users;
	return rb->nimap_users;
}

/* ------------------------------------------------------------------ */
/* The plan                                                           */

int rb_build_plan_from(struct runbook *rb, const struct plan_source *given,
		       struct plan *out, struct m2d_error *err)
{
	struct plan_rename *rn = NULL;
	struct plan_source src;
	char ul[4096];
	struct stat st;
	int ret;

	memset(&src, 0, sizeof(src));
	if (rb->nrenames > 0) {
		rn = xcalloc(rb->nrenames, sizeof(*rn));
		for (size_t i = 0; i < rb->nrenames; i++) {
			rn[i].listed = rb->renames[i].listed;
			rn[i].name = rb->renames[i].name;
		}
		src.renames = rn;
		src.nrenames = rb->nrenames;
	}
	/* the userlist written at step 3 is the admin's to edit */
	snprintf(ul, sizeof(ul), "%s/userlist-master", rb->cfg.work_dir);
	if (given != NULL && (given->users != NULL ||
			      given->userlist != NULL ||
			      given->folderlist != NULL)) {
		src.users = given->users;
		src.userlist = given->userlist;
		src.folderlist = given->folderlist;
	} else if (rb->steps[3].status == RB_DONE && lstat(ul, &st) == 0 &&
		   S_ISREG(st.st_mode)) {
		src.userlist = ul;
	}
	ret = plan_build(&rb->cfg, &src, out, err);
	free(rn);
	return ret;
}

int rb_build_plan(struct runbook *rb, struct m2d_error *err)
{
	struct plan p;

	if (rb_build_plan_from(rb, NULL, &p, err) < 0)
		return -1;
	if (rb->have_plan)
		plan_free(&rb->plan);
	rb->plan = p;
	rb->have_plan = true;
	return 0;
}

int rb_load_plan(struct runbook *rb, struct m2d_error *err)
{
	return rb->have_plan ? 0 : rb_build_plan(rb, err);
}

int rb_test_plan(struct runbook *rb, struct plan *out, struct m2d_error *err)
{
	const char *users[M2D_MAX_TEST_USERS + 1];
	struct plan_source given;

	if (rb->ntest == 0)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no test users chosen (step 5)"));
	for (size_t i = 0; i < rb->ntest; i++)
		users[i] = rb->test_users[i];
	users[rb->ntest] = NULL;
	memset(&given, 0, sizeof(given));
	given.users = users;
	return rb_build_plan_from(rb, &given, out, err);
}

bool rb_is_test_user(const struct runbook *rb, const char *user)
{
	for (size_t i = 0; i < rb->ntest; i++)
		if (strcmp(rb->test_users[i], user) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Decisions                                                          */

static const struct plan_folder *find_folder(const struct runbook *rb,
					     const char *listed)
{
	for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders; i++)
		if (strcmp(rb->plan.folders[i].listed, listed) == 0)
			return &rb->plan.folders[i];
	return NULL;
}

struct rb_rename *rb_find_rename(struct runbook *rb, const char *listed)
{
	for (size_t i = 0; i < rb->nrenames; i++)
		if (strcmp(rb->renames[i].listed, listed) == 0)
			return &rb->renames[i];
	return NULL;
}

static int set_rename(struct runbook *rb, const char *listed,
		      const char *name, struct m2d_error *err);

/* LISTED and NAME may point into the plan (the wizard passes the
 * folder's own strings), which set_rename() rebuilds: copies first. */
int rb_set_rename(struct runbook *rb, const char *listed, const char *name,
		  struct m2d_error *err)
{
	char *l = xstrdup(listed), *n = name != NULL ? xstrdup(name) : NULL;
	int ret = set_rename(rb, l, n, err);

	free(l);
	free(n);
	return ret;
}

static int set_rename(struct runbook *rb, const char *listed,
		      const char *name, struct m2d_error *err)
{
	const struct plan_folder *f;
	struct rb_rename *r;
	char *old = NULL;
	bool existed;

	if (!rb->have_plan && rb_build_plan(rb, err) < 0)
		return -1;
	f = find_folder(rb, listed);
	if (f == NULL)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("\"%s\" is not a folder of the plan"),
				     listed);
	if (f->name != NULL && strcmp(f->name, "INBOX") == 0 &&
	    f->dirname != NULL && f->dirname[0] == '\0')
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("the INBOX cannot be renamed or "
				       "excluded"));
	if (name != NULL) {
		char buf[1024];
		const char *why = rb_rename_problem(rb, listed, name, buf,
						    sizeof(buf));

		if (why != NULL)
			return m2d_error_set(err, M2D_ERR_NAME, NULL,
					     _("\"%s\" cannot be used: %s"),
					     name, why);
	}
	r = rb_find_rename(rb, listed);
	existed = r != NULL;
	if (r != NULL) {
		old = r->name;
		r->name = name != NULL ? xstrdup(name) : NULL;
	} else {
		rb_add_rename(rb, listed, name);
	}
	/* rebuild and see whether the new name is taken */
	if (rb_build_plan(rb, err) < 0)
		goto undo;
	f = find_folder(rb, listed);
	if (name != NULL && (f == NULL || f->skip != PLAN_TAKEN)) {
		m2d_error_set(err, M2D_ERR_NAME, NULL,
			      _("\"%s\" cannot be used: %s"), name,
			      f != NULL && f->reason != NULL ? f->reason :
			      _("not taken"));
		goto undo;
	}
	free(old);
	if (name != NULL)
		rb_logbook_line(rb, rb->running, "decision", "%s -> %s", listed,
				name);
	else
		rb_logbook_line(rb, rb->running, "decision", _("%s left out"),
				listed);
	return rb_save(rb, err);
undo:
	r = rb_find_rename(rb, listed);
	if (existed) {
		free(r->name);
		r->name = old;
	} else {
		free(r->listed);
		free(r->name);
		*r = rb->renames[--rb->nrenames];
	}
	{
		struct m2d_error e2;

		(void)rb_build_plan(rb, &e2);
	}
	return -1;
}

int rb_clear_rename(struct runbook *rb, const char *listed,
		    struct m2d_error *err)
{
	struct rb_rename *r = rb_find_rename(rb, listed);

	if (r == NULL)
		return 0;
	rb_logbook_line(rb, rb->running, "decision",
			_("%s needs a decision again"), listed);
	free(r->listed);
	free(r->name);
	*r = rb->renames[--rb->nrenames];
	if (rb_build_plan(rb, err) < 0)
		return -1;
	return rb_save(rb, err);
}

size_t rb_renames(const struct runbook *rb, const struct rb_rename **list)
{
	*list = rb->renames;
	return rb->nrenames;
}

size_t rb_undecided(const struct runbook *rb)
{
	size_t n = 0;

	for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders; i++)
		n += rb->plan.folders[i].skip == PLAN_SKIP_NAME;
	return n;
}

static bool in_plan(const struct runbook *rb, const char *user)
{
	for (size_t i = 0; i < rb->plan.nusers; i++)
		if (strcmp(rb->plan.users[i].name, user) == 0)
			return true;
	return false;
}

int rb_set_test_users(struct runbook *rb, const char *const *users,
		      size_t n, struct m2d_error *err)
{
	if (n == 0 || n > M2D_MAX_TEST_USERS)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("choose 1 to %d test users"),
				     M2D_MAX_TEST_USERS);
	if (!rb->have_plan && rb_build_plan(rb, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!in_plan(rb, users[i]))
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("\"%s\" is not a user of the "
					       "plan"), users[i]);
	for (size_t i = 0; i < rb->ntest; i++)
		free(rb->test_users[i]);
	rb->ntest = 0;
	for (size_t i = 0; i < n; i++) {
		rb->test_users[i] = xstrdup(users[i]);
		rb->ntest++;
		rb_logbook_line(rb, 5, "decision", _("test user %s"),
				users[i]);
	}
	return rb_save(rb, err);
}

size_t rb_test_users(const struct runbook *rb, const char *const **list)
{
	*list = (const char *const *)rb->test_users;
	return rb->ntest;
}

size_t rb_propose_test_users(const struct runbook *rb, const char **out,
			     size_t max)
{
	struct cand {
		const char *name;
		unsigned long long bytes;
		int score;	/* 2 inbox and folders, 1 inbox only */
	} *c;
	size_t n = 0, nu;

	if (rb->cfg.ntest_users > 0) {
		for (int i = 0; i < rb->cfg.ntest_users && n < max; i++)
			out[n++] = rb->cfg.test_users[i];
		return n;
	}
	if (!rb->have_plan || rb->plan.nusers == 0)
		return 0;
	nu = rb->plan.nusers;
	c = xcalloc(nu, sizeof(*c));
	for (size_t u = 0; u < nu; u++) {
		bool inbox = false;
		size_t folders = 0;

		c[u].name = rb->plan.users[u].name;
		for (size_t i = 0; i < rb->plan.nfolders; i++) {
			const struct plan_folder *f = &rb->plan.folders[i];

			if (f->user != u || f->skip != PLAN_TAKEN)
				continue;
			if (f->dirname != NULL && f->dirname[0] == '\0')
				inbox = true;
			else
				folders++;
			if (f->size > 0)
				c[u].bytes += (unsigned long long)f->size;
		}
		c[u].score = inbox ? (folders > 0 ? 2 : 1) : 0;
	}
	/* best score first, then the smallest */
	for (int score = 2; score >= 0 && n < max; score--) {
		for (;;) {
			size_t best = nu;

			for (size_t u = 0; u < nu; u++)
				if (c[u].score == score && c[u].name != NULL &&
				    (best == nu || c[u].bytes < c[best].bytes))
					best = u;
			if (best == nu || n >= max)
				break;
			out[n++] = c[best].name;
			c[best].name = NULL;
		}
	}
	free(c);
	return n;
}

int rb_accept_defaults(struct runbook *rb, int step, struct m2d_error *err)
{
	if (!step_ok(step))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no step %d"), step);
	if (step == 4) {
		/* every suggested name, until nothing is left to decide
		   (a suggestion can meet a name renamed into its way) */
		for (int round = 0; round < 4; round++) {
			bool changed = false;

			if (rb_build_plan(rb, err) < 0)
				return -1;
			for (size_t i = 0; i < rb->plan.nfolders; i++) {
				const struct plan_folder *f =
					&rb->plan.folders[i];

				if (f->skip != PLAN_SKIP_NAME ||
				    f->suggestion == NULL)
					continue;
				rb_put_rename(rb, f->listed, f->suggestion);
				rb_logbook_line
(rb, 4, "decision",
						_("%s -> %s (suggested)"),
						f->listed, f->suggestion);
				changed = true;
			}
			if (!changed)
				break;
		}
		if (rb_build_plan(rb, err) < 0)
			return -1;
	}
	if (step == 5 && rb->ntest == 0) {
		const char *users[M2D_MAX_TEST_USERS];
		size_t n;

		if (!rb->have_plan && rb_build_plan(rb, err) < 0)
			return -1;
		n = rb_propose_test_users(rb, users,
					  (size_t)rb->cfg.test_user_count);
		if (n == 0)
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("no user to test with"));
		if (rb_set_test_users(rb, users, n, err) < 0)
			return -1;
	}
	if ((rb_steps[step].flags & RB_CONFIRM) && !rb->steps[step].confirmed) {
		rb->steps[step].confirmed = true;
		rb_logbook_line(rb, step, "decision", "%s", _("Yes (--yes)"));
	}
	return rb_save(rb, err);
}

int rb_confirm(struct runbook *rb, int step, bool yes, struct m2d_error *err)
{
	if (!step_ok(step))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no step %d"), step);
	if (yes && rb_uw_confirm_check(rb, step, err) < 0)
		return -1;
	if (rb->steps[step].confirmed != yes)
		rb_logbook_line(rb, step, "decision", "%s",
				yes ? _("Yes") : _("No"));
	rb->steps[step].confirmed = yes;
	return rb_save(rb, err);
}

/* ------------------------------------------------------------------ */
/* Running                                                            */

int rb_prerequisite(const struct runbook *rb, int step)
{
	if (!step_ok(step))
		return -1;
	for (int n = 0; n < RB_NSTEPS; n++) {
		enum rb_status st;

		if (!(rb_steps[step].needs & (UINT32_C(1) << n)))
			continue;
		st = rb->steps[n].status;
		if (st == RB_DONE ||
		    (st == RB_SKIPPED && !(rb_steps[n].flags & RB_GATE)))
			continue;
		return n;
	}
	return -1;
}

int rb_can_run(const struct runbook *rb, int step, char *why, size_t size)
{
	const struct rb_step_def *d;
	int n;

	if (!step_ok(step)) {
		snprintf(why, size, _("there is no step %d"), step);
		return 0;
	}
	d = &rb_steps[step];
	n = rb_prerequisite(rb, step);
	if (n >= 0) {
		if (rb->steps[n].status == RB_SKIPPED)
			snprintf(why, size, _("step %d (%s) is a gate and was "
					      "skipped: it must pass first"),
				 n, _(rb_steps[n].title));
		else
			snprintf(why, size, _("step %d (%s) must be done "
					      "first: it is %s"),
				 n, _(rb_steps[n].title),
				 rb_status_str(rb->steps[n].status));
		return 0;
	}
	if ((d->flags & RB_CONFIRM) && !rb->steps[step].confirmed) {
		snprintf(why, size, _("step %d (%s) needs your explicit Yes"),
			 step, _(d->title));
		return 0;
	}
	if (step == 5 && rb->ntest == 0) {
		snprintf(why, size, _("choose the test users first"));
		return 0;
	}
	return 1;
}

int rb_run_step(struct runbook *rb, int step, bool force,
		struct m2d_error *err)
{
	struct rb_step_state *st;
	char why[512];
	int r;

	m2d_error_clear(err);
	if (!step_ok(step))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("there is no step %d"), step);
	if (!force && rb_can_run(rb, step, why, sizeof(why)) == 0) {
		m2d_error_set(err, M2D_ERR_USAGE, NULL, "%s", why);
		return 0;
	}
	if (force && (rb_steps[step].flags & RB_CONFIRM) &&
	    !rb->steps[step].confirmed) {
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("step %d (%s) needs your explicit Yes"),
			      step, _(rb_steps[step].title));
		return 0;
	}
	st = &rb->steps[step];
	st->status = RB_RUNNING;
	st->started = time(NULL);
	st->finished = 0;
	m2d_config_set(&st->result, NULL);
	m2d_config_set(&st->reason, NULL);
	if (rb_save(rb, err) < 0) {
		st->status = RB_PENDING;
		return -1;
	}
	step_event(rb, step);
	rb->running = step;
	r = rb_steps[step].run(rb, err);
	rb->running = -1;
	st->finished = time(NULL);
	if (r > 0) {
		st->status = RB_DONE;
	} else if (r == 0) {
		st->status = RB_PENDING;	/* waits for a decision */
	} else if (err->code == M2D_ERR_CANCELLED) {
		/* stopped (Esc, Ctrl-C, SIGTERM): nothing failed, the next
		   run goes on where this one stopped */
		st->status = RB_PENDING;
		m2d_config_set(&st->result, _("stopped before the end: "
					      "running it again goes on "
					      "where it stopped"));
	} else {
		char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 64];

		st->status = RB_FAILED;
		if (st->result == NULL)
			m2d_config_set(&st->result,
				       m2d_error_str(err, buf, sizeof(buf)));
	}
	{
		struct m2d_error e2;

		if (rb_save(rb, &e2) < 0 && r >= 0) {
			*err = e2;
			r = -1;
		}
	}
	step_event(rb, step);
	return r > 0 ? 1 : r;
}

int rb_skip_step(struct runbook *rb, int step, const char *reason,
		 bool force, struct m2d_error *err)
{
	if (!step_ok(step))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("there is no step %d"), step);
	if (reason == NULL || reason[0] == '\0')
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("skipping a step needs a reason"));
	if ((rb_steps[step].flags & RB_GATE) && !force)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("step %d (%s) is a gate: it cannot be "
				       "skipped"), step,
				     _(rb_steps[step].title));
	rb->steps[step].status = RB_SKIPPED;
	rb->steps[step].finished = time(NULL);
	m2d_config_set(&rb->steps[step].reason, reason);
	if (rb_save(rb, err) < 0)
		return -1;
	step_event(rb, step);
	return 0;
}

size_t rb_undo_chain(const struct runbook *rb, int step, int *list,
		     size_t max)
{
	uint32_t reach;
	size_t n = 0;

	if (!step_ok(step))
		return 0;
	/* the steps that rely on STEP, then on those: the table is in
	   order, a step relies only on earlier ones */
	reach = UINT32_C(1) << step;
	for (int s = step + 1; s < RB_NSTEPS; s++)
		if (rb_steps[s].relies & reach)
			reach |= UINT32_C(1) << s;
	for (int s = RB_NSTEPS - 1; s > step; s--) {
		if (!(reach & (UINT32_C(1) << s)) ||
		    rb->steps[s].status != RB_DONE)
			continue;
		if (n < max)
			list[n] = s;
		n++;
	}
	return n;
}

/* Undoes STEP alone (the chain is the caller's), or, RESET, marks it
 * pending when it has nothing to undo. */
static int undo_one(struct runbook *rb, int step, bool reset,
		    struct m2d_error *err)
{
	int r = 0;

	if (rb_steps[step].undo_fn != NULL) {
		rb->running = step;
		r = rb_steps[step].undo_fn(rb, err);
		rb->running = -1;
		if (r < 0) {
			char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 64];

			rb_logbook_line(rb, step, "error", _("undo failed: %s"),
					m2d_error_str(err, buf, sizeof(buf)));
			return -1;
		}
		rb_result(rb, step, _("undone"));
	} else if (reset) {
		rb_result(rb, step, _("to run again: a step it relies on was "
				      "undone"));
	} else {
		return 0;
	}
	rb->steps[step].status = RB_PENDING;
	rb->steps[step].confirmed = false;
	rb_logbook_line(rb, step, "undone", "%s", _(rb_steps[step].title));
	if (rb_save(rb, err) < 0)
		return -1;
	step_event(rb, step);
	return 1;
}

static int undo(struct runbook *rb, int step, bool chain,
		struct m2d_error *err)
{
	int list[RB_NSTEPS];
	size_t n;

	m2d_error_clear(err);
	if (!step_ok(step))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("there is no step %d"), step);
	if (rb_steps[step].undo_fn == NULL)
		return 0;
	n = rb_undo_chain(rb, step, list, RB_NSTEPS);
	if (n > 0 && !chain) {
		char names[1024];
		size_t len = 0;

		names[0] = '\0';
		for (size_t i = 0; i < n && len < sizeof(names); i++)
			len += (size_t)snprintf(names + len,
						sizeof(names) - len, "%s%d (%s)",
						i > 0 ? ", " : "", list[i],
						_(rb_steps[list[i]].title));
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     ngettext("step %d cannot be undone while "
					      "step %s, which relies on it, "
					      "is done: undo it first, or "
					      "undo both",
					      "step %d cannot be undone while "
					      "steps %s, which rely on it, "
					      "are done: undo them first, "
					      "newest first, or undo them all",
					      n), step, names);
	}
	for (size_t i = 0; i < n; i++)
		if (undo_one(rb, list[i], true, err) < 0)
			return -1;
	return undo_one(rb, step, false, err);
}

int rb_undo_step(struct runbook *rb, int step, struct m2d_error *err)
{
	return undo(rb, step, false, err);
}

int rb_undo_with_chain(struct runbook *rb, int step, struct m2d_error *err)
{
	return undo(rb, step, true, err);
}

int rb_batch_run(struct runbook *rb, const struct rb_batch *batch,
		 int *stopped_at, struct m2d_error *err)
{
	int to = batch->to < RB_NSTEPS ? batch->to : RB_NSTEPS - 1;

	*stopped_at = -1;
	for (int s = batch->from < 0 ? 0 : batch->from; s <= to; s++) {
		int r;

		if (rb->steps[s].status == RB_DONE ||
		    rb->steps[s].status == RB_SKIPPED)
			continue;
		if (rb->opts.cancel != NULL && *rb->opts.cancel) {
			*stopped_at = s;
			return m2d_error_set(err, M2D_ERR_CANCELLED, NULL,
					     _("cancelled before step %d"),
					     s), 1;
		}
		if ((batch->yes || (s == 4 && rb->opts.accept_suggested)) &&
		    rb_accept_defaults(rb, s, err) < 0) {
			*stopped_at = s;
			return -1;
		}
		r = rb_run_step(rb, s, batch->force, err);
		if (r <= 0) {
			*stopped_at = s;
			return r < 0 ? -1 : 1;
		}
	}
	return 0;
}
