/* SPDX-License-Identifier: MIT */
/*
 * cli-migrate.c - "mbox2dovecot plan | migrate-users | migrate-folders |
 * migrate | clear": the runbook's scripts over the migration engine
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "journal.h"
#include "migrate.h"
#include "plan.h"
#include "run-cmd.h"
#include "str-escape.h"
#include "verify.h"
#include "i18n.h"

struct migrate_opts {
	struct cli_plan_opts plan;
	bool dry_run;
	const char *doveadm;		/* verify: "doveadm [-c FILE]" */
};

enum what { DO_PLAN, DO_USERS, DO_FOLDERS, DO_BOTH, DO_CLEAR, DO_VERIFY };

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

static void usage(FILE *out, const char *cmd)
{
	fprintf(out, _("usage: %s %s [--config FILE] [--spool DIR] "
		       "[--homes DIR] [--target DIR]\n"
		       "        [--work DIR] [--users a,b,c | --userlist FILE] "
		       "[--folderlist FILE]\n"
		       "        [--jobs N] [--dry-run] [--doveadm CMD]\n"
		       "        [--renames FILE] [--accept-suggested-names] "
		       "[--shard K/N]\n"),
		cli_progname, cmd);
}

/* Parse the options.  Returns 0, or an exit code (-1: --help shown). */
static int parse_opts(int argc, char **argv, const char *cmd,
		      struct migrate_opts *o)
{
	static const struct option opts[] = {
		CLI_PLAN_OPTIONS,
		{ "dry-run", no_argument, NULL, 'n' },
		{ "doveadm", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(o, 0, sizeof(*o));
	if (cli_plan_opts_init(&o->plan, argc, argv) < 0)
		return EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:nh", opts, NULL)) != -1) {
		rc = cli_plan_option(&o->plan, c, optarg);
		if (rc < 0)
			return EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (c) {
		case 'n':
			o->dry_run = true;
			break;
		case 'D':
			o->doveadm = optarg;
			break;
		case 'h':
			usage(stdout, cmd);
			return -1;
		default:
			usage(stderr, cmd);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr, cmd);
		return EXIT_USAGE;
	}
	return cli_plan_opts_done(&o->plan) < 0 ? EXIT_USAGE : 0;
}

/* ---- what the admin sees ---- */

struct view {
	bool tty;
	bool dry_run;
	double last_draw;
	bool drawn;
	/* failures: "try again later" (a lock, a change) or others */
	unsigned long failed_later, failed_other;
};

static void count_failure(struct view *v, const struct m2d_error *err)
{
	if (err != NULL && (err->code == M2D_ERR_LOCKED ||
			    err->code == M2D_ERR_CHANGED))
		v->failed_later++;
	else
		v->failed_other++;
}

static void clear_line(struct view *v)
{
	if (v->tty && v->drawn) {
		fputs("\r\033[K", stderr);
		v->drawn = false;
	}
}

static void draw_bar(struct view *v, const struct migrate_totals *t,
		     const struct migrate_report *r)
{
	double now = cli_now(), frac, rate, eta;
	char bar[21];
	int i, fill;

	if (!v->tty || now - v->last_draw < 0.2)
		return;
	v->last_draw = now;
	frac = t->bytes_total > 0 ?
		(double)t->bytes_done / (double)t->bytes_total : 1.0;
	if (frac > 1.0)
		frac = 1.0;
	fill = (int)(frac * 20);
	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	rate = t->seconds > 0 ? (double)t->bytes_done / t->seconds : 0;
	eta = rate > 0 ? (double)(t->bytes_total - t->bytes_done) / rate : 0;
	fprintf(stderr, _("\r\033[K[%s] %3d%% %lu/%lu folders, %.1f MB, "
			  "%.1f MB/s, ETA %d:%02d %s"),
		bar, (int)(frac * 100), t->folders_done + t->folders_unchanged +
		t->folders_failed, t->folders_total, (double)t->bytes_done / 1e6,
		rate / 1e6, (int)eta / 60, (int)eta % 60,
		str_esc(r->folder != NULL ? r->folder->listed : ""));
	fflush(stderr);
	v->drawn = true;
}

/*
 * Every name printed is escaped (str_esc: a newline or TAB in a folder
 * name cannot forge a line); m2d_error_str() escapes its own.
 */
static void show(const struct migrate_report *r, void *ctx)
{
	struct view *v = ctx;
	char buf[2048];

	switch (r->event) {
	case MIGRATE_USER_DONE:
		if (!v->tty)
			printf(v->dry_run ? _("user %s: would create %s\n") :
			       _("user %s: %s ready\n"),
			       str_esc(r->user->name),
			       str_esc(r->user->target));
		break;
	case MIGRATE_USER_FAILED:
		clear_line(v);
		v->failed_other++;
		printf(_("FAILED user %s: %s\n"), str_esc(r->user->name),
		       m2d_error_str(r->error, buf, sizeof(buf)));
		break;
	case MIGRATE_FOLDER_START:
		break;
	case MIGRATE_FOLDER_DONE:
		clear_line(v);
		printf(v->dry_run ? _("would convert %s -> %s: %lu messages\n") :
		       _("done %s -> %s: %lu messages\n"),
		       str_esc(r->folder->listed), str_esc(r->folder->name),
		       r->stats->messages);
		break;
	case MIGRATE_FOLDER_UNCHANGED:
		if (!v->tty)
			printf(_("unchanged %s\n"),
			       str_esc(r->folder->listed));
		break;
	case MIGRATE_FOLDER_FAILED:
		clear_line(v);
		count_failure(v, r->error);
		printf(_("FAILED %s: %s\n"), str_esc(r->folder->listed),
		       m2d_error_str(r->error, buf, sizeof(buf)));
		break;
	case MIGRATE_FOLDER_WARNING:
		clear_line(v);
		printf(_("warning %s: %s\n"), str_esc(r->folder->listed),
		       m2d_error_str(r->error, buf, sizeof(buf)));
		break;
	case MIGRATE_TICK:
		break;
	}
	draw_bar(v, r->totals, r);
	if (!v->tty)
		fflush(stdout);
}

/* The files of the spool that are no user's (plan.h: never a user from a
 * file name alone), and the ~/.mailboxlist files not read. */
static void print_strays(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nstrays; i++)
		printf(_("skip %s: %s\n"), str_esc(plan->strays[i].source),
		       str_esc(plan->strays[i].reason));
	for (size_t i = 0; i < plan->nusers; i++) {
		const struct plan_user *u = &plan->users[i];

		if (u->subs_skipped != NULL)
			printf(_("skip %s/.mailboxlist: %s\n"),
			       str_esc(u->home), str_esc(u->subs_skipped));
	}
}

/*
 * What migrate refuses to read, said (every command that reads
 * a place says what it refused and why): a source not the user's, or
 * with other links, is a failure; a symlink, a FIFO or an mbx file a
 * skip.  (Bad names, unreadable and missing sources are reported by the
 * engine.)  Returns the number of failures.
 */
static unsigned long print_refusals(const struct plan *plan)
{
	unsigned long failed = 0;

	print_strays(plan);
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		const char *why = f->reason != NULL ? f->reason :
			plan_skip_str(f->skip);

		switch (f->skip) {
		case PLAN_SKIP_OWNER:
		case PLAN_SKIP_LINKS:
		case PLAN_SKIP_SPARSE:
			printf(_("FAILED %s: %s: %s\n"), str_esc(f->listed),
			       str_esc(f->source), str_esc(why));
			failed++;
			break;
		case PLAN_SKIP_SYMLINK:
		case PLAN_SKIP_SPECIAL:
		case PLAN_SKIP_MBX:
			printf(_("skip %s: %s\n"), str_esc(f->listed),
			       str_esc(why));
			break;
		default:
			break;
		}
	}
	return failed;
}

static void print_plan(const struct plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nusers; i++)
		printf(_("user %s: home %s, maildir %s\n"),
		       str_esc(plan->users[i].name),
		       str_esc(plan->users[i].home != NULL ?
			       plan->users[i].home : "-"),
		       str_esc(plan->users[i].target));
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip == PLAN_TAKEN) {
			printf(_("folder %s -> \"%s\" (%lld bytes)\n"),
			       str_esc(f->listed), str_esc(f->name), f->size);
			if (f->format == UW_FMT_MBX || f->format == UW_FMT_MIX ||
			    f->format == UW_FMT_MMDF)
				printf(_("  in UW's %s format: %s\n"),
				       uw_format_name(f->format),
				       str_esc(f->source));
			if (f->spool != NULL)
				printf(_("  then the mail in the spool file %s "
					 "(UW had not moved it in yet)\n"),
				       str_esc(f->spool));
			if (f->uw_name != NULL &&
			    strcmp(f->uw_name, f->name) != 0)
				printf(_("uw-name %s: UW-IMAP showed \"%s\"\n"),
				       str_esc(f->listed),
				       str_esc(f->uw_name));
		} else if (f->skip == PLAN_SKIP_NAME)
			printf(_("rename %s: %s (suggested: \"%s\")\n"),
			       str_esc(f->listed),
			       folder_problem_str(f->problem),
			       str_esc(f->suggestion != NULL ?
				       f->suggestion : ""));
		else
			printf(_("skip %s: %s\n"), str_esc(f->listed),
			       str_esc(f->reason != NULL ? f->reason :
				       plan_skip_str(f->skip)));
	}
	print_strays(plan);
}

static void print_summary(const struct migrate_totals *t, bool dry_run)
{
	if (dry_run) {
		/* inodes as fs-checks.h counts them: 1 a message, 9 a
		 * folder, 6 a user */
		unsigned long long inodes = t->messages + 9ULL *
			(t->folders_done + t->folders_unchanged) +
			6ULL * t->users_done;

		printf(_("would migrate %lu users, %lu folders: %lu messages, "
			 "%.1f MB, about %llu inodes\n"), t->users_done,
		       t->folders_done, t->messages,
		       (double)t->bytes_total / 1e6, inodes);
		return;
	}
	printf(_("users: %lu ready, %lu failed; folders: %lu converted, %lu "
		 "unchanged, %lu failed; %lu messages in %.1f s\n"),
	       t->users_done, t->users_failed, t->folders_done,
	       t->folders_unchanged, t->folders_failed, t->messages,
	       t->seconds);
}

/* The message count Dovecot itself reports, or -1 (ERR says why when
 * doveadm could not be run or was stopped: silent for command_timeout
 * seconds, say, on a FIFO in the maildir). */
static long doveadm_messages(const char *doveadm, const char *user,
			     const char *folder, struct m2d_error *err)
{
	const char *const extra[] = { "-f", "tab", "mailbox", "status", "-u",
				      user, "messages", folder, NULL };
	char **argv = run_cmd_argv(doveadm, extra);
	struct run_output out;
	long n = -1;
	char *nl;

	m2d_error_clear(err);
	if (argv == NULL)
		return -1;
	if (run_cmd(argv, &out, err) == 0) {
		/* a header line, then "NAME<TAB>COUNT" */
		nl = strchr(out.out, '\n');
		if (out.status == 0 && nl != NULL) {
			char *tab = strrchr(nl + 1, '\t');

			n = strtol(tab != NULL ? tab + 1 : nl + 1, NULL, 10);
		}
		run_output_free(&out);
	}
	free(argv);
	return n;
}

/* Every taken folder of the plan against its maildir; what the plan
 * refused is said first (a source not the user's, with other links
 * or sparse counted as failed). */
static int verify_plan(const struct plan *plan, const struct migrate_opts *o)
{
	unsigned long ok = 0, bad = print_refusals(plan);
	size_t i;

	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		const struct plan_user *u = &plan->users[f->user];
		struct verify_result r;
		struct m2d_error err;
		char buf[2048];
		int rc;

		if (f->skip != PLAN_TAKEN)
			continue;
		{
			struct verify_source vs = {
				f->source, f->format, f->spool,
				o->plan.cfg.mboxrd
			};

			rc = verify_folder_source(&vs, u->target, f->dirname,
						  &r, &err);
		}
		if (rc < 0) {
			printf(_("FAILED %s: %s\n"), str_esc(f->listed),
			       m2d_error_str(&err, buf, sizeof(buf)));
			bad++;
			continue;
		}
		if (rc == 0 && o->doveadm != NULL) {
			long n = doveadm_messages(o->doveadm, u->name, f->name,
						  &err);

			if (n < 0 && err.msg[0] != '\0') {
				printf(_("FAILED %s: %s\n"), str_esc(f->listed),
				       m2d_error_str(&err, buf, sizeof(buf)));
				bad++;
				continue;
			}
			if (n != (long)r.source_messages) {
				snprintf(r.first, sizeof(r.first),
					 _("Dovecot reports %ld messages, the "
					   "mbox has %lu"), n,
					 r.source_messages);
				rc = 1;
			}
		}
		if (rc > 0) {
			printf(_("DIFFERS %s: %s\n"), str_esc(f->listed),
			       str_esc(r.first));
			bad++;
		} else {
			printf(_("ok %s: %lu messages\n"), str_esc(f->listed),
			       r.source_messages);
			ok++;
		}
	}
	printf(_("verified %lu folders: %lu identical, %lu differ or "
		 "failed\n"), ok + bad, ok, bad);
	return bad > 0 ? EXIT_FAILED : EXIT_OK;
}

static int run(int argc, char **argv, const char *cmd, enum what what)
{
	struct migrate_opts o;
	struct migrate_settings set;
	struct migrate_totals ut, ft;
	struct journal *journal = NULL;
	struct plan plan;
	struct view view;
	struct m2d_error err;
	struct sigaction sa;
	unsigned long refused = 0;
	int rc, ret = EXIT_OK;

	rc = parse_opts(argc, argv, cmd, &o);
	if (rc != 0) {
		cli_plan_opts_free(&o.plan);
		return rc < 0 ? EXIT_OK : rc;
	}
	memset(&plan, 0, sizeof(plan));
	memset(&ut, 0, sizeof(ut));
	memset(&ft, 0, sizeof(ft));

	if (what == DO_CLEAR) {
		if (journal_open(o.plan.cfg.work_dir, &journal, &err) < 0 ||
		    migrate_clear(o.plan.cfg.target_base, journal, &err) < 0) {
			cli_report(&err);
			ret = cli_exit_for(&err);
		} else {
			printf(_("cleared what mbox2dovecot created under %s\n"),
			       str_esc(o.plan.cfg.target_base));
		}
		goto out;
	}

	if (cli_plan_build(&o.plan, &plan, &err) < 0) {
		cli_report(&err);
		ret = cli_exit_for(&err);
		goto out;
	}
	if (what == DO_VERIFY) {
		ret = verify_plan(&plan, &o);
		goto out;
	}
	if (what == DO_PLAN) {
		print_plan(&plan);
		if (!o.dry_run) {
			if (mkdir(o.plan.cfg.work_dir, 0700) < 0 && errno != EEXIST) {
				m2d_error_sys(&err, "mkdir", o.plan.cfg.work_dir);
				cli_report(&err);
				ret = cli_exit_for(&err);
				goto out;
			}
			if (plan_write_lists(&plan, o.plan.cfg.work_dir, &err) < 0) {
				cli_report(&err);
				ret = cli_exit_for(&err);
				goto out;
			}
			printf(_("wrote %s/userlist-master and "
				 "%s/folderlist-master\n"),
			       str_esc(o.plan.cfg.work_dir),
			       str_esc(o.plan.cfg.work_dir));
		}
		goto out;
	}
	if (!o.dry_run && journal_open(o.plan.cfg.work_dir, &journal, &err) < 0) {
		cli_report(&err);
		ret = cli_exit_for(&err);
		goto out;
	}

	memset(&view, 0, sizeof(view));
	view.tty = isatty(STDERR_FILENO);
	view.dry_run = o.dry_run;
	memset(&set, 0, sizeof(set));
	set.cfg = &o.plan.cfg;
	set.jobs = o.plan.cfg.jobs;
	set.dry_run = o.dry_run;
	set.report = show;
	set.ctx = &view;
	set.cancel = &cancelled;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (what == DO_FOLDERS || what == DO_BOTH)
		refused = print_refusals(&plan);
	if (what == DO_USERS || what == DO_BOTH) {
		rc = migrate_users(&plan, journal, &set, &ut, &err);
		if (rc < 0) {
			cli_report(&err);
			ret = cli_exit_for(&err);
			goto out;
		}
		if (rc > 0)
			ret = EXIT_FAILED;
	}
	if (what == DO_FOLDERS || what == DO_BOTH) {
		rc = migrate_folders(&plan, journal, &set, &ft, &err);
		clear_line(&view);
		if (rc < 0) {
			cli_report(&err);
			ret = cli_exit_for(&err);
			goto out;
		}
		if (rc > 0)
			ret = EXIT_FAILED;
	}
	ft.users_done = ut.users_done;
	ft.users_failed += ut.users_failed;
	ft.folders_failed += refused;
	view.failed_other += refused;
	if (refused > 0)
		ret = EXIT_FAILED;
	print_summary(&ft, o.dry_run);
	/* only locked or changed sources failed: run again later (exit 3,
	 * as convert) */
	if (ret == EXIT_FAILED && view.failed_other == 0 &&
	    view.failed_later > 0) {
		printf(_("%lu folders were locked or changed while they were "
			 "read: run again later\n"), view.failed_later);
		ret = EXIT_TRYLATER;
	}
out:
	journal_close(&journal);
	plan_free(&plan);
	cli_plan_opts_free(&o.plan);
	return ret;
}

int cmd_plan(int argc, char **argv)
{
	return run(argc, argv, "plan", DO_PLAN);
}

int cmd_migrate_users(int argc, char **argv)
{
	return run(argc, argv, "migrate-users", DO_USERS);
}

int cmd_migrate_folders(int argc, char **argv)
{
	return run(argc, argv, "migrate-folders", DO_FOLDERS);
}

int cmd_migrate(int argc, char **argv)
{
	return run(argc, argv, "migrate", DO_BOTH);
}

int cmd_verify(int argc, char **argv)
{
	return run(argc, argv, "verify", DO_VERIFY);
}

int cmd_clear(int argc, char **argv)
{
	return run(argc, argv, "clear", DO_CLEAR);
}
