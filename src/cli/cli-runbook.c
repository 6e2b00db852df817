/* SPDX-License-Identifier: MIT */
/* cli-runbook.c - the runbook without screens: --batch, --resume, --step,
 * --status, --skip, --undo, --report (the wizard draws the same model) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "i18n.h"
#include "runbook.h"
#include "str-escape.h"
#include "wizard.h"

#define DEFAULT_CONFIG "/etc/mbox2dovecot.conf"

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

struct view {
	const struct runbook *rb;
	bool tty;
	bool progress_shown;
};

static void clear_progress(struct view *v)
{
	if (v->progress_shown) {
		fputs("\r\033[K", stderr);
		v->progress_shown = false;
	}
}

/*
 * TEXT on stdout after INDENT, as one line: a step's texts carry names
 * (folders, files, Dovecot's log about them), the users' data, so no
 * byte of them may start a line, move the cursor or clear the screen
 *.  Control bytes are shown as str_esc shows them ("\\n",
 * "\\x1b"); a backslash stays as it is, for texts already escaped where
 * they were made.
 */
static void show_to(FILE *out, const char *indent, const char *text)
{
	const unsigned char *p = (const unsigned char *)(text != NULL ?
							 text : "");

	fputs(indent, out);
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\x%02x", *p);
			else
				putc(*p, out);
		}
	}
}

static void show(const char *indent, const char *text)
{
	show_to(stdout, indent, text);
	putchar('\n');
}

/* The same in a new string (NULL: out of memory). */
static char *shown(const char *text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		return NULL;
	show_to(f, "", text);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void on_event(const struct rb_event *ev, void *ctx)
{
	struct view *v = ctx;
	const struct migrate_report *m = ev->migrate;
	char buf[2048];

	switch (ev->kind) {
	case RB_EV_STEP: {
		const struct rb_step_state *st = rb_step(v->rb, ev->step);

		clear_progress(v);
		if (st->status == RB_RUNNING)
			printf(_("step %2d  %s\n"), ev->step,
			       _(rb_steps[ev->step].title));
		else if (st->result != NULL)
			show("    ", st->result);
		fflush(stdout);
		break;
	}
	case RB_EV_LOG:
		clear_progress(v);
		show("    ", ev->text);
		fflush(stdout);
		break;
	case RB_EV_MIGRATE:
		if (m->event == MIGRATE_FOLDER_FAILED ||
		    m->event == MIGRATE_USER_FAILED ||
		    m->event == MIGRATE_FOLDER_WARNING) {
			clear_progress(v);
			printf("    %s: ", str_esc(m->folder != NULL ?
						   m->folder->listed :
						   m->user != NULL ?
						   m->user->name : "-"));
			show("", m->error != NULL ?
			     m2d_error_str(m->error, buf, sizeof(buf)) : "");
		} else if (v->tty && m->totals != NULL &&
			   m->totals->bytes_total > 0) {
			fprintf(stderr, _("\r\033[K    %lu/%lu folders, %lu "
					  "messages, %3.0f%%"),
				m->totals->folders_done +
				m->totals->folders_unchanged +
				m->totals->folders_failed,
				m->totals->folders_total,
				m->totals->messages,
				100.0 * (double)m->totals->bytes_done /
				(double)m->totals->bytes_total);
			v->progress_shown = true;
		}
		break;
	}
}

static void print_status(const struct runbook *rb)
{
	int next = rb_next_step(rb);

	for (int s = 0; s < RB_NSTEPS; s++) {
		const struct rb_step_state *st = rb_step(rb, s);

		printf("%c%3d  %-36s %-8s ", s == next ? '>' : ' ', s,
		       _(rb_steps[s].title), rb_status_str(st->status));
		show("", st->reason != NULL ? st->reason :
		     st->result != NULL ? st->result : "");
	}
}

/* The IMAP test's password from the terminal, without echo. */
static char *ask_password(const char *user)
{
	struct termios old, quiet;
	char buf[512];
	bool restore = false;
	FILE *tty = fopen("/dev/tty", "r+");
	char *nl;

	if (tty == NULL)
		return NULL;
	fprintf(tty, _("Password of %s for the IMAP test: "), user);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	if (fgets(buf, sizeof(buf), tty) == NULL)
		buf[0] = '\0';
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	return buf[0] != '\0' ? strdup(buf) : NULL;
}

/* A yes from the terminal to QUESTION (No unless "y" or "yes"). */
static bool ask_yes_tty(const char *question)
{
	FILE *tty = fopen("/dev/tty", "r+");
	char buf[64];
	bool yes;

	if (tty == NULL)
		return false;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	/* y or yes, or the locale's word (rpmatch) */
	yes = fgets(buf, sizeof(buf), tty) != NULL && rpmatch(buf) == 1;
	fclose(tty);
	return yes;
}

/* A step that waits for its Yes: every change it will make (its
 * preview: diffs, commands, what is removed), before --confirm N. */
static void print_preview(struct runbook *rb, int step)
{
	const struct rb_step_def *d = &rb_steps[step];
	const struct rb_step_state *st = rb_step(rb, step);
	struct m2d_error err;
	char *text;

	if (!(d->flags & RB_CONFIRM) || st == NULL || st->confirmed)
		return;
	text = rb_preview(rb, step, &err);
	if (text == NULL || strcmp(text, _(d->what)) == 0) {
		free(text);
		return;
	}
	printf(_("step %d will do this (--confirm %d says Yes):\n"), step,
	       step);
	/* line by line, each escaped (names are the users' data) */
	for (char *line = text, *nl; line != NULL && *line != '\0';
	     line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		show("  ", line);
	}
	free(text);
}

/* --undo STEP: refused while later steps that rely on it are done,
 * unless the admin says Yes to the list (YES: --yes said it).  The exit
 * status, or -1 with ERR. */
static int undo(struct runbook *rb, int step, bool yes, struct m2d_error *err)
{
	int list[RB_NSTEPS], r;
	size_t n = rb_undo_chain(rb, step, list, RB_NSTEPS);

	if (rb_steps[step].undo_fn != NULL && n > 0) {
		printf(ngettext("Step %d (%s): this later step relies on it "
				"and is done; it is undone first:\n",
				"Step %d (%s): these later steps rely on it "
				"and are done; they are undone first, newest "
				"first:\n", n), step, _(rb_steps[step].title));
		for (size_t i = 0; i < n; i++) {
			const struct rb_step_def *d = &rb_steps[list[i]];

			printf("  %2d  %s: %s\n", list[i], _(d->title),
			       d->undo_fn != NULL ? _(d->undo) :
			       _("marked to run again"));
		}
		fflush(stdout);
		if (!yes && !(isatty(STDIN_FILENO) &&
			      ask_yes_tty(_("Undo them and then this step?")))) {
			printf(_("nothing undone: --yes undoes them all (or "
				 "undo them one by one, newest first)\n"));
			return EXIT_DECIDE;
		}
		r = rb_undo_with_chain(rb, step, err);
	} else {
		r = rb_undo_step(rb, step, err);
	}
	if (r < 0)
		return -1;
	if (r > 0 && n > 0)
		printf(ngettext("step %d undone, and the %zu step that "
				"relied on it\n",
				"step %d undone, and the %zu steps that "
				"relied on it\n", n), step, n);
	else
		printf(r > 0 ? _("step %d undone\n") :
		       _("step %d: nothing to undo\n"), step);
	return EXIT_OK;
}

void cli_usage_head(FILE *out)
{
	fprintf(out, _("usage: %s [--config FILE] [--resume | --step N]   "
		       "(the wizard)\n"
		       "       %s --batch [--yes] [--resume | --step N] [--to N]"
		       "\n       %s --check [OPTIONS]\n"
		       "       %s COMMAND [ARGS]\n\ncommands:\n"),
		cli_progname, cli_progname, cli_progname, cli_progname);
}

void cli_runbook_options_help(FILE *out)
{
	fprintf(out, _("\nthe runbook's options:\n"
		       "  --config FILE   the settings (default: %s;\n"
		       "                  without it, the built-in defaults)\n"
		       "  --resume        go on at the first step not done, "
		       "without asking\n"
		       "  --step N        start at step N (--from N: the same "
		       "for --batch)\n"
		       "  --to N          --batch: stop after step N\n"
		       "  --renames FILE  step 4's rename decisions from FILE "
		       "(SOURCE<TAB>NEW NAME,\n"
		       "                  or SOURCE<TAB>- to leave one out)\n"
		       "  --accept-suggested-names  step 4: take the "
		       "suggested names\n"
		       "  --yes           take every proposal and give every "
		       "confirmation; with\n"
		       "                  --undo, undo the steps that rely on "
		       "N too\n"
		       "  --confirm N     the explicit Yes for step N (may be "
		       "repeated)\n"
		       "  --force         run a step whose prerequisites are "
		       "not done; skip a gate\n"
		       "  --status        every step's status and result\n"
		       "  --report        write WORK/report.txt and "
		       "WORK/report.json\n"
		       "  --undo N        undo step N (the later steps that "
		       "rely on it first)\n"
		       "  --skip N        mark step N skipped (--reason TEXT "
		       "is needed)\n"
		       "  --reason TEXT   why it is skipped (in the report)\n"
		       "  --format F      --check: text or json\n"
		       "  --help, -h      this text (--version: the version "
		       "and the build)\n"
		       "The log of every run: WORK/log.\n"),
		"/etc/mbox2dovecot.conf");
}

static void usage(FILE *out)
{
	cli_usage_head(out);
	fprintf(out, _("  %s --help lists them.\n"), cli_progname);
	cli_runbook_options_help(out);
}

static int parse_step(const char *arg, int *step)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end != '\0' || end == arg || v < 0 || v >= RB_NSTEPS) {
		cli_error(_("there is no step \"%s\" (0..%d)"), arg,
			  RB_NSTEPS - 1);
		return -1;
	}
	*step = (int)v;
	return 0;
}

/* Step 4 waits: the folders without a name, and the two ways on. */
static void print_undecided(const struct runbook *rb)
{
	const struct plan *plan = rb_plan(rb);

	for (size_t i = 0; plan != NULL && i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip != PLAN_SKIP_NAME)
			continue;
		printf(_("  %s: %s (suggested: %s)\n"), str_esc(f->listed),
		       f->reason != NULL ? f->reason : "",
		       str_esc(f->suggestion));
	}
	printf(_("decide the names in the wizard's step 4, or run again "
		 "with --renames FILE\n(lines SOURCE<TAB>NEW NAME, or "
		 "SOURCE<TAB>- to leave a folder out) or with\n"
		 "--accept-suggested-names (--yes takes them too)\n"));
}

enum mode { MODE_WIZARD, MODE_BATCH, MODE_STATUS, MODE_SKIP, MODE_UNDO,
	    MODE_REPORT };

/* Needs the IMAP test's password: a step from FROM to TO tests IMAP. */
static bool needs_password(int from, int to)
{
	for (int s = from; s <= to && s < RB_NSTEPS; s++)
		if (rb_steps[s].page == RB_PAGE_IMAP)
			return true;
	return false;
}

int cmd_runbook(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "batch", no_argument, NULL, 'b' },
		{ "yes", no_argument, NULL, 'y' },
		{ "resume", no_argument, NULL, 'r' },
		{ "step", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'F' },
		{ "status", no_argument, NULL, 'S' },
		{ "skip", required_argument, NULL, 'k' },
		{ "reason", required_argument, NULL, 'R' },
		{ "undo", required_argument, NULL, 'u' },
		{ "report", no_argument, NULL, 'p' },
		{ "confirm", required_argument, NULL, 'C' },
		{ "renames", required_argument, NULL, CLI_OPT_RENAMES },
		{ "accept-suggested-names", no_argument, NULL,
		  CLI_OPT_ACCEPT_NAMES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rb_options ro;
	struct rb_batch batch;
	struct runbook *rb = NULL;
	struct m2d_error err;
	struct view view;
	struct sigaction sa;
	const char *config = NULL, *reason = NULL, *renames = NULL;
	bool accept_names = false;
	char *password = NULL;
	enum mode mode = MODE_WIZARD;
	bool resume = false;
	int c, step = -1, target = -1, ret = EXIT_FAILED, stopped, r;
	int confirm[64], nconfirm = 0;

	memset(&batch, 0, sizeof(batch));
	batch.to = RB_NSTEPS - 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'b':
			mode = MODE_BATCH;
			break;
		case 'y':
			batch.yes = true;
			break;
		case 'r':
			resume = true;
			break;
		case 's':
		case 'f':
			if (parse_step(optarg, &step) < 0)
				goto usage;
			break;
		case 't':
			if (parse_step(optarg, &batch.to) < 0)
				goto usage;
			break;
		case 'F':
			batch.force = true;
			break;
		case 'S':
			mode = MODE_STATUS;
			break;
		case 'p':
			mode = MODE_REPORT;
			break;
		case 'k':
		case 'u':
			if (parse_step(optarg, &target) < 0)
				goto usage;
			mode = c == 'k' ? MODE_SKIP : MODE_UNDO;
			break;
		case 'R':
			reason = optarg;
			break;
		case 'C': {
			int n;

			if (parse_step(optarg, &n) < 0 || nconfirm >= 64)
				goto usage;
			confirm[nconfirm++] = n;
			break;
		}
		case CLI_OPT_RENAMES:
			renames = optarg;
			break;
		case CLI_OPT_ACCEPT_NAMES:
			accept_names = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind != argc) {
		cli_error(_("\"%s\" is not an option (--help lists them)"),
			  argv[optind]);
		return EXIT_USAGE;
	}
	if (mode == MODE_SKIP && (reason == NULL || *reason == '\0')) {
		cli_error(_("--skip %d needs --reason TEXT: why the step is "
			    "skipped (it is saved in the report)"), target);
		return EXIT_USAGE;
	}
	if (resume && step >= 0) {
		cli_error(_("--resume and --step N exclude each other: "
			    "--resume goes on at the first step not done"));
		return EXIT_USAGE;
	}
	if (config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		config = DEFAULT_CONFIG;
	else if (config == NULL && mode != MODE_WIZARD)
		fprintf(stderr, _("%s: no %s: the built-in defaults are in "
				  "use (--config FILE reads another)\n"),
			cli_progname, DEFAULT_CONFIG);

	memset(&view, 0, sizeof(view));
	view.tty = isatty(STDERR_FILENO);
	memset(&ro, 0, sizeof(ro));
	ro.config_path = config;
	ro.event = on_event;
	ro.event_ctx = &view;
	ro.cancel = &cancelled;
	ro.renames_path = renames;
	ro.accept_suggested = accept_names;
	if (rb_open(&ro, &rb, &err) < 0) {
		cli_report(&err);
		return cli_exit_for(&err);
	}
	view.rb = rb;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* --confirm N: the admin's Yes for step N, given on the command
	   line (the wizard asks for it on the step's page) */
	for (int i = 0; i < nconfirm; i++) {
		if (confirm[i] == 17) {
			/* the cutover: said before the Yes counts */
			char *limits = rb_rollback_limits(rb);

			if (limits != NULL)
				fputs(limits, stdout);
			free(limits);
		}
		if (rb_confirm(rb, confirm[i], true, &err) < 0)
			goto fail;
	}
	switch (mode) {
	case MODE_STATUS:
		print_status(rb);
		ret = EXIT_OK;
		goto out;
	case MODE_SKIP:
		if (rb_skip_step(rb, target, reason, batch.force, &err) < 0)
			goto fail;
		printf(_("step %d skipped: %s\n"), target, reason);
		ret = EXIT_OK;
		goto out;
	case MODE_UNDO:
		ret = undo(rb, target, batch.yes, &err);
		if (ret < 0)
			goto fail;
		goto out;
	case MODE_REPORT: {
		char *t = NULL, *j = NULL;

		if (rb_report_write(rb, &t, &j, &err) < 0)
			goto fail;
		printf("%s\n%s\n", t, j);
		free(t);
		free(j);
		ret = EXIT_OK;
		goto out;
	}
	case MODE_WIZARD:
		/* on a terminal: the ncurses wizard (ui/wizard.h) over the
		   same runbook; without one, the status and what to run */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			struct wizard_options wo;

			rb_close(&rb);
			memset(&wo, 0, sizeof(wo));
			wo.rb = ro;
			wo.start_step = step;
			wo.resume = resume;
			wo.force = batch.force;
			if (wizard_run(&wo, &err) < 0)
				goto fail;
			ret = EXIT_OK;
			goto out;
		}
		print_status(rb);
		printf(_("\nRun the steps with: %s --batch [--yes] "
			 "[--config FILE]\n"), cli_progname);
		ret = EXIT_OK;
		goto out;
	case MODE_BATCH:
		break;
	}

	batch.from = resume || step < 0 ? rb_next_step(rb) : step;
	if (batch.from >= RB_NSTEPS) {
		printf(_("every step is done\n"));
		ret = EXIT_OK;
		goto out;
	}
	if (step >= 0 && !batch.force) {
		char why[512];

		/* refuse to start on missing prerequisites; the step's own
		   decision and confirmation are for --yes to give */
		if (rb_prerequisite(rb, step) >= 0 &&
		    rb_can_run(rb, step, why, sizeof(why)) == 0) {
			cli_error(_("step %d cannot start: %s (--force runs "
				    "it anyway)"), step, why);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (needs_password(batch.from, batch.to) &&
	    rb_config(rb)->imap_test_password == NULL &&
	    rb_config(rb)->imap_master_user == NULL &&
	    getenv("MBOX2DOVECOT_IMAP_PASSWORD") == NULL) {
		const struct m2d_config *cfg = rb_config(rb);
		const char *const *tu;
		size_t n = rb_test_users(rb, &tu);
		const char *who = cfg->imap_test_user != NULL ?
			cfg->imap_test_user : n > 0 ? tu[0] : _("the test user");

		password = ask_password(who);
		if (password != NULL) {
			/* reopen with the password (never saved) */
			rb_close(&rb);
			ro.imap_password = password;
			if (rb_open(&ro, &rb, &err) < 0)
				goto fail;
		}
	}
	view.rb = rb;
	r = rb_batch_run(rb, &batch, &stopped, &err);
	clear_progress(&view);
	if (r < 0)
		goto fail;
	if (r > 0) {
		char buf[2048];
		char *why = shown(m2d_error_str(&err, buf, sizeof(buf)));

		printf(_("stopped at step %d: %s\n"), stopped,
		       why != NULL ? why : "?");
		free(why);
		if (err.code != M2D_ERR_CANCELLED)
			print_preview(rb, stopped);
		if (err.code == M2D_ERR_CANCELLED) {
			ret = EXIT_TRYLATER;
			goto out;
		}
		if (stopped == 4 && rb_undecided(rb) > 0)
			print_undecided(rb);
		else
			printf(_("decide, then run again with --resume (or "
				 "--yes to accept the proposals)\n"));
		ret = EXIT_DECIDE;
		goto out;
	}
	printf(_("steps %d to %d done\n"), batch.from, batch.to);
	ret = EXIT_OK;
	goto out;
fail:
	cli_report(&err);
	ret = err.code == M2D_ERR_CANCELLED ? EXIT_TRYLATER : EXIT_FAILED;
out:
	rb_close(&rb);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return ret;
usage:
	usage(stderr);
	return EXIT_USAGE;
}
