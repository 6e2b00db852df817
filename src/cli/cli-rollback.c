/* SPDX-License-Identifier: MIT */
/*
 * cli-rollback.c - "mbox2dovecot rollback": back to UW-IMAP without losing
 * the mail that reached the maildirs after cutover (rollback.h)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "journal.h"
#include "rollback.h"
#include "str-escape.h"
#include "xalloc.h"
#include "i18n.h"

static void usage(FILE *out)
{
	fprintf(out, _("usage: %s rollback [--config FILE] [--dry-run] "
		       "[--user U]... [--mail-only]\n"
		       "        [--work DIR] [--target DIR] [--spool DIR] "
		       "[--homes DIR] [--users a,b]\n"
		       "\n"
		       "Hold delivery, stop Dovecot, append the mail that "
		       "reached the maildirs\n"
		       "after cutover to the mboxes, then switch Postfix "
		       "back to the mbox spool,\n"
		       "restore Dovecot's configuration and enable UW-IMAP "
		       "again.  --mail-only:\n"
		       "only append the mail (Postfix, Dovecot and UW-IMAP "
		       "are left alone).\n"),
		cli_progname);
}

/* Dovecot's subscriptions file refused (rollback.h): said, with why. */
static void subscriptions_refused(const struct rollback_folder_report *r)
{
	char buf[2048];

	if (r->subscribe_error == NULL || !r->subscriptions_refused)
		return;
	printf(_("  refused: %s; the folders subscribed in Dovecot after "
		 "cutover are not added to ~/.mailboxlist\n"),
	       m2d_error_str(r->subscribe_error, buf, sizeof(buf)));
}

static void report(const struct rollback_folder_report *r, void *ctx)
{
	const bool *dry = ctx;
	char buf[2048];

	/* names are the users' data: control characters escaped */
	if (r->skipped != NULL) {
		printf(_("skip %s %s: %s (not migrated: nothing carried "
			 "back)\n"), str_esc(r->user), str_esc(r->name),
		       m2d_error_str(r->skipped, buf, sizeof(buf)));
		return;
	}
	if (r->error != NULL) {
		printf(_("FAILED %s %s: %s (the mbox is as it was)\n"),
		       str_esc(r->user), str_esc(r->name),
		       m2d_error_str(r->error, buf, sizeof(buf)));
		subscriptions_refused(r);
		return;
	}
	if (r->gone) {
		printf(_("%s %s: the maildir folder is gone (deleted or "
			 "renamed after cutover); %s is left as it was\n"),
		       str_esc(r->user), str_esc(r->name), str_esc(r->mbox));
		subscriptions_refused(r);
		return;
	}
	printf(*dry ? _("%s %s: %lu new messages would be appended to %s%s")
	       : _("%s %s: %lu new messages appended to %s%s"),
	       str_esc(r->user), str_esc(r->name), r->appended,
	       str_esc(r->mbox),
	       r->created ? _(" (a new mbox)") : "");
	if (r->earlier > 0)
		printf(_(", %lu by an earlier run"), r->earlier);
	putchar('\n');
	if (r->flags_changed > 0)
		printf(_("  %lu old messages had their flags or keywords "
			 "changed after cutover (not written into the mbox)\n"),
		       r->flags_changed);
	if (r->keywords_lost > 0)
		printf(_("  %lu new messages carry keywords the mbox does not "
			 "declare: UW-IMAP will not show them\n"),
		       r->keywords_lost);
	if (r->expunged > 0)
		printf(_("  %lu old messages were deleted after cutover "
			 "(they are still in the mbox)\n"), r->expunged);
	if (r->subscribed)
		printf(*dry ? _("  subscribed in Dovecot: would be added to "
				"~/.mailboxlist\n") :
		       _("  subscribed in Dovecot: added to ~/.mailboxlist\n"));
	if (r->subscribe_error != NULL && r->subscriptions_refused)
		subscriptions_refused(r);
	else if (r->subscribe_error != NULL)
		printf(_("  subscribed in Dovecot, but not added to "
			 "~/.mailboxlist: %s\n"),
		       m2d_error_str(r->subscribe_error, buf, sizeof(buf)));
}

static void step(enum rollback_step s, const char *text, void *ctx)
{
	(void)s;
	(void)ctx;
	printf("* %s\n", text);
}

int cmd_rollback(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_PLAN_OPTIONS,
		{ "user", required_argument, NULL, 'x' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "mail-only", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_plan_opts o;
	struct rollback_settings set;
	struct rollback_totals t;
	struct journal *journal = NULL;
	struct m2d_error err;
	const char **users = NULL;
	size_t nusers = 0;
	bool dry_run = false, mail_only = false;
	int c, rc, ret = EXIT_FAILED;

	if (cli_plan_opts_init(&o, argc, argv) < 0)
		return EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		rc = cli_plan_option(&o, c, optarg);
		if (rc < 0)
			goto usage;
		if (rc > 0)
			continue;
		switch (c) {
		case 'x':
			users = xrealloc(users, (nusers + 2) * sizeof(*users));
			users[nusers++] = optarg;
			users[nusers] = NULL;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'm':
			mail_only = true;
			break;
		case 'h':
			usage(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			goto usage;
		}
	}
	if (optind != argc || cli_plan_opts_done(&o) < 0)
		goto usage;

	memset(&set, 0, sizeof(set));
	set.cfg = &o.cfg;
	set.users = users != NULL ? users :
		(const char *const *)o.users;
	set.dry_run = dry_run;
	set.report = report;
	set.ctx = &dry_run;
	if (journal_open(o.cfg.work_dir, &journal, &err) < 0)
		goto fail;
	if (mail_only) {
		rc = rollback_mail(&set, journal, &t, &err);
	} else {
		struct rollback_system sys = { step };

		rc = rollback_run(&set, journal, &sys, &t, &err);
	}
	if (rc < 0)
		goto fail;
	printf(dry_run ? _("%lu users, %lu folders: %lu messages would be "
			   "appended (%lu new mbox files), %lu failed\n") :
	       _("%lu users, %lu folders: %lu messages appended (%lu new "
		 "mbox files), %lu failed\n"), t.users, t.folders, t.appended,
	       t.created, t.failed);
	if (t.refused > 0)
		printf(ngettext("%lu file refused (not read; see above)\n",
				"%lu files refused (not read; see above)\n",
				t.refused), t.refused);
	if (t.flags_changed > 0 || t.expunged > 0)
		printf(_("after cutover: %lu old messages changed flags, %lu "
			 "were deleted; the mboxes keep them as they were\n"),
		       t.flags_changed, t.expunged);
	if (rc > 0 && !mail_only && !dry_run)
		printf(_("not every folder could be carried back: nothing was "
			 "switched, Dovecot runs again; fix the failures and "
			 "run again\n"));
	ret = rc > 0 ? EXIT_FAILED : EXIT_OK;
	goto out;
usage:
	usage(stderr);
	ret = EXIT_USAGE;
	goto out;
fail:
	cli_report(&err);
	ret = cli_exit_for(&err);
out:
	journal_close(&journal);
	free(users);
	cli_plan_opts_free(&o);
	return ret;
}
