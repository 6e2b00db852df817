/* SPDX-License-Identifier: MIT */
/*
 * test-ui-render.c - the wizard's screens drawn headless: a newterm() on
 * /dev/null at a fixed size, each kind of page built from plain data (no
 * runbook), the virtual screen dumped as text and compared with
 * tests/fixtures/screens/NAME-COLSxLINES.txt.
 *
 *   M2D_UPDATE_SCREENS=1   writes the files instead (review them by eye)
 *
 * In English at 80x24 and 132x43, and in German and French (LANGUAGE=de,
 * fr) at 80x24 when the catalogues are built ($BUILD/locale/de/...; skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "test-util.h"
#include "ui.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static SCREEN *scr;
static FILE *scr_out, *scr_in;
static int failures_written;

/* ---- the steps, as plain data ---- */

static const char *const step_titles[RB_NSTEPS] = {
	"Pre-flight checks", "Freeze accounts", "Work directory",
	"Users and folders", "Folder names", "Test users",
	"Install Dovecot", "Create maildirs", "Dovecot test port",
	"Test migration", "IMAP test", "Clean up the test",
	"Clear the target", "Hold delivery", "Stop UW-IMAP",
	"Migrate everyone", "IMAP test (all)", "Switch ports",
	"IMAP test (ports)", "Postfix delivery", "Release delivery",
	"Test delivery", "Report",
};

static struct wz_step_line steps[RB_NSTEPS];

static void frame_for(struct wz_frame *f, int current, const char *keys)
{
	int i;

	for (i = 0; i < RB_NSTEPS; i++) {
		steps[i].number = i;
		steps[i].title = step_titles[i];
		steps[i].status = i < current ? RB_DONE : RB_PENDING;
	}
	steps[1].status = RB_SKIPPED;
	if (current > 6)
		steps[6].status = RB_FAILED;
	memset(f, 0, sizeof(*f));
	f->title = _("mbox2dovecot: from UW-IMAP to Dovecot");
	f->where = "/root/migrate";
	f->steps = steps;
	f->nsteps = RB_NSTEPS;
	f->current = current;
	f->keys = keys;
}

/* ---- the virtual screen as text ---- */

static char *dump_screen(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int y, x;

	assert_non_null(f);
	for (y = 0; y < LINES; y++) {
		char line[4096];
		size_t len = 0, keep = 0;

		for (x = 0; x < COLS; x++) {
			cchar_t cc;
			wchar_t wc[CCHARW_MAX + 1];
			attr_t a;
			short pair;
			mbstate_t st;
			char mb[MB_LEN_MAX];
			size_t n;

			if (mvin_wch(y, x, &cc) == ERR)
				continue;
			getcchar(&cc, wc, &a, &pair, NULL);
			if (wc[0] == L'\0')
				wc[0] = L' ';
			memset(&st, 0, sizeof(st));
			n = wcrtomb(mb, wc[0], &st);
			if (n == (size_t)-1) {
				mb[0] = '?';
				n = 1;
			}
			if (len + n < sizeof(line)) {
				memcpy(line + len, mb, n);
				len += n;
			}
			if (wc[0] != L' ')
				keep = len;
			if (wcwidth(wc[0]) == 2)
				x++;
		}
		fprintf(f, "%.*s\n", (int)keep, line);
	}
	fclose(f);
	return buf;
}

static void compare_screen(const char *name)
{
	const char *top = getenv("M2D_TOP");
	const char *update = getenv("M2D_UPDATE_SCREENS");
	char path[1024];
	char *got = dump_screen(), *want;

	snprintf(path, sizeof(path), "%s/tests/fixtures/screens/%s-%dx%d.txt",
		 top != NULL ? top : ".", name, COLS, LINES);
	if (update != NULL && *update != '\0' && strcmp(update, "0") != 0) {
		FILE *f = fopen(path, "we");

		if (f == NULL)
			fail_msg("cannot write %s: %s", path, strerror(errno));
		fputs(got, f);
		assert_int_equal(fclose(f), 0);
		free(got);
		return;
	}
	want = slurp(path);
	if (want == NULL) {
		fprintf(stderr, "# %s is missing; the screen was:\n%s", path,
			got);
		free(got);
		fail_msg("no expected screen %s (M2D_UPDATE_SCREENS=1 makes "
			 "it)", path);
	}
	if (strcmp(got, want) != 0) {
		char out[1100];
		FILE *f;

		snprintf(out, sizeof(out), "%s.got", path);
		f = fopen(out, "we");
		if (f != NULL) {
			fputs(got, f);
			fclose(f);
			failures_written++;
		}
		fprintf(stderr, "# %s differs (see %s); the screen was:\n%s",
			path, out, got);
		free(got);
		free(want);
		fail_msg("screen %s differs", name);
	}
	free(got);
	free(want);
}

/* ---- the pages, from plain data ---- */

/* Step CURRENT's page in STATUS, with the key line the wizard shows. */
static void draw_page(struct wz_page *page, int current,
		      enum rb_status status)
{
	const struct rb_step_def *d = &rb_steps[current];
	struct wz_frame f;
	struct wz_rect r;

	frame_for(&f, current, wz_keys_hint(d->page, status == RB_DONE ||
					    status == RB_SKIPPED,
					    d->undo_fn != NULL,
					    d->page == RB_PAGE_CHECKS &&
					    status == RB_DONE,
					    status == RB_RUNNING));
	wz_frame_draw(stdscr, &f, &r);
	wz_page_draw(stdscr, page, &r);
}

static void page_text(void)
{
	struct wz_page page;

	wz_page_init(&page, RB_PAGE_TEXT, 12);
	wz_page_head(&page, 12, step_titles[12], RB_PENDING, NULL);
	wz_page_text(&page,
		     "Removes what the test migration created under the "
		     "target, so that the final migration starts from an "
		     "empty target. Only what the journal says we made is "
		     "removed; anything else there stops the step.",
		     "nothing to undo: the final migration (step 15) makes "
		     "the folders again from the mboxes, which are never "
		     "changed.",
		     "rm: /data/mail2/alice (4 folders)\n"
		     "rm: /data/mail2/bob (2 folders)\n");
	draw_page(&page, 12, RB_PENDING);
	wz_page_free(&page);
}

static void confirm_over_text(void)
{
	struct wz_dialog d;
	struct wz_rect area = { 0, 0, LINES, COLS };

	page_text();
	wz_dialog_init(&d, _("Clear the target?"),
		       "This removes the 6 folders of 2 users the test "
		       "migration made under /data/mail2.\n\n"
		       "Undo: none needed; step 15 migrates them again.",
		       _("Yes"), _("No"));
	d.danger = true;
	wz_dialog_draw(stdscr, &d, &area);
	wz_dialog_free(&d);
}

static void fill_checks(struct checks_report *rep)
{
	struct check_item *it;

	checks_report_init(rep);
	it = checks_add(rep, "filesystem", "inodes", "Free inodes");
	snprintf(it->res.detail, sizeof(it->res.detail),
		 "12 840 needed, 6 553 600 free");
	it = checks_add(rep, "filesystem", "space", "Free space");
	it->res.status = CHECK_WARN;
	snprintf(it->res.detail, sizeof(it->res.detail),
		 "1.9 GB needed, 2.2 GB free (86%%)");
	snprintf(it->res.fix, sizeof(it->res.fix),
		 "free space on /data or choose another target_base");
	it = checks_add(rep, "folders", "folder_names", "Folder names");
	it->res.status = CHECK_FAIL;
	snprintf(it->res.detail, sizeof(it->res.detail),
		 "2 folders need a new name");
	snprintf(it->res.fix, sizeof(it->res.fix),
		 "step 4 asks for each one");
	check_item_entry(it, "alice/mail/work.2004", "dot",
			 "a '.' inside a level", "work_2004");
	check_item_entry(it, "bob/mail/Inbox", "inbox",
			 "clashes with INBOX", "Inbox-old");
	it = checks_add(rep, "dovecot", "dovecot_installed",
			"Dovecot installed");
	snprintf(it->res.detail, sizeof(it->res.detail), "2.3.19.1");
	check_item_value(it, "version", "2.3.19.1");
	it = checks_add(rep, "postfix", "postfix_delivery",
			"Postfix delivery");
	snprintf(it->res.detail, sizeof(it->res.detail),
		 "mail_spool_directory = /var/spool/mail");
}

static void page_checks(bool details)
{
	struct checks_report rep;
	struct wz_page page;

	fill_checks(&rep);
	wz_page_init(&page, RB_PAGE_CHECKS, 0);
	wz_page_head(&page, 0, step_titles[0], RB_DONE, "1 warning, 1 failure");
	wz_page_set(&page.intro, "The runbook's pre-migration questions, "
		    "measured. Nothing is changed.");
	wz_page_checks(&page, &rep);
	page.sel = 2;
	draw_page(&page, 0, RB_DONE);
	if (details) {
		struct wz_dialog d;
		struct wz_rect area = { 0, 0, LINES, COLS };
		struct wz_row *row = wz_page_selected(&page);

		assert_non_null(row);
		wz_dialog_init(&d, _("Details"), row->detail, NULL, NULL);
		wz_dialog_draw(stdscr, &d, &area);
		wz_dialog_free(&d);
	}
	wz_page_free(&page);
	checks_report_free(&rep);
}

/* A plan of three users as plain data. */
static struct plan_user users[3] = {
	{ .name = "alice", .target = "/data/mail2/alice" },
	{ .name = "bob", .target = "/data/mail2/bob" },
	{ .name = "chris", .target = "/data/mail2/chris" },
};
static struct plan_folder folders[] = {
	{ .user = 0, .listed = "alice/INBOX", .name = "INBOX",
	  .size = 1200000 },
	{ .user = 0, .listed = "alice/mail/Sent", .name = "Sent",
	  .size = 340000 },
	{ .user = 0, .listed = "alice/mail/work.2004", .name = "work.2004",
	  .skip = PLAN_SKIP_NAME, .problem = FOLDER_DOT,
	  .suggestion = "work_2004", .size = 5000 },
	{ .user = 1, .listed = "bob/INBOX", .name = "INBOX", .size = 80000 },
	{ .user = 1, .listed = "bob/mail/Inbox", .name = "Inbox",
	  .skip = PLAN_SKIP_NAME, .problem = FOLDER_INBOX,
	  .suggestion = "Inbox-old", .size = 700 },
	{ .user = 1, .listed = "bob/mail/Entw\xc3\xbcrfe",
	  .name = "Entw\xc3\xbcrfe", .size = 4400 },
	{ .user = 1, .listed = "bob/mail/old~", .name = "~old",
	  .skip = PLAN_SKIP_NAME, .problem = FOLDER_RESERVED,
	  .suggestion = "_old", .size = 12 },
	{ .user = 1, .listed = "bob/.pinerc", .skip = PLAN_SKIP_DOTFILE },
	{ .user = 2, .listed = "chris/INBOX", .name = "INBOX",
	  .size = 99000000 },
};
static struct plan plan = {
	.users = users, .nusers = 3,
	.folders = folders, .nfolders = N_ELEMENTS(folders),
};

static void page_users(void)
{
	struct wz_page page;
	const char *tests[] = { "bob" };

	wz_page_init(&page, RB_PAGE_USERS, 3);
	wz_page_head(&page, 3, step_titles[3], RB_DONE, "3 users, 6 folders");
	wz_page_set(&page.intro, "Who and what will be migrated: passwd "
		    "users and the spool, their INBOX and the mbox files "
		    "under ~/mail and ~.");
	wz_page_users(&page, &plan, tests, 1);
	draw_page(&page, 3, RB_DONE);
	wz_page_free(&page);
}

/* One of each: singular nouns (ngettext), not "1 users". */
static void test_plurals(void **state)
{
	struct plan one = {
		.users = users, .nusers = 1, .folders = folders, .nfolders = 1,
	};
	struct wz_page page;

	(void)state;
	wz_page_init(&page, RB_PAGE_USERS, 3);
	wz_page_users(&page, &one, NULL, 0);
	assert_non_null(page.footer);
	assert_non_null(strstr(page.footer, "1 user, 1 folder, "));
	assert_non_null(strstr(page.footer, "; 0 skipped."));
	wz_page_free(&page);
}

static void page_folders(void)
{
	struct wz_page page;
	struct rb_rename renames[] = {
		{ "bob/mail/Inbox", "Inbox-old" },
		{ "bob/mail/old~", NULL },
	};

	wz_page_init(&page, RB_PAGE_FOLDERS, 4);
	wz_page_head(&page, 4, step_titles[4], RB_PENDING, NULL);
	wz_page_set(&page.intro, "These folder names cannot be used by "
		    "Dovecot as they are. Accept the suggested name, type "
		    "another, or leave the folder out.");
	wz_page_folders(&page, &plan, renames, N_ELEMENTS(renames),
			"compat");
	draw_page(&page, 4, RB_PENDING);
	wz_page_free(&page);
}

static void edit_rename(void)
{
	struct wz_dialog d;
	struct wz_rect area = { 0, 0, LINES, COLS };
	struct wz_input in = { WZ_CHAR, L'.' };

	page_folders();
	wz_dialog_init(&d, _("New name"), "alice/mail/work.2004: a '.' "
		       "inside a level", _("OK"), _("Cancel"));
	d.validate = wz_rename_problem;
	wz_dialog_field(&d, "work", false);
	assert_null(d.problem);
	assert_int_equal(wz_dialog_handle(&d, &in), -1);	/* "work." */
	assert_non_null(d.problem);
	in.cmd = WZ_ENTER;
	assert_int_equal(wz_dialog_handle(&d, &in), -1);	/* refused */
	wz_dialog_draw(stdscr, &d, &area);
	wz_dialog_free(&d);
}

static void page_subset(void)
{
	struct wz_page page;
	const char *chosen[] = { "alice", "bob" };

	wz_page_init(&page, RB_PAGE_SUBSET, 5);
	wz_page_head(&page, 5, step_titles[5], RB_PENDING, NULL);
	wz_page_set(&page.intro, "A few users whose folders the test "
		    "migration converts first (the runbook: a subset).");
	wz_page_subset(&page, &plan, chosen, 2);
	page.sel = 1;
	draw_page(&page, 5, RB_PENDING);
	wz_page_free(&page);
}

static void page_diff(void)
{
	struct wz_page page;

	wz_page_init(&page, RB_PAGE_DIFF, 8);
	wz_page_head(&page, 8, step_titles[8], RB_PENDING, NULL);
	wz_page_set(&page.intro, "Dovecot gets the maildir location and a "
		    "test listener on 127.0.0.1:1043 while UW-IMAP keeps "
		    "143 and 993.");
	wz_page_diff(&page,
		     "--- /etc/dovecot/conf.d/99-mbox2dovecot.conf\n"
		     "+++ /etc/dovecot/conf.d/99-mbox2dovecot.conf (new)\n"
		     "@@ -0,0 +1,9 @@\n"
		     "+# mbox2dovecot: the test listener (step 8)\n"
		     "+mail_location = maildir:/data/mail2/%u/\n"
		     "+service imap-login {\n"
		     "+  inet_listener imap {\n"
		     "+    address = 127.0.0.1\n"
		     "+    port = 1043\n"
		     "+  }\n"
		     "+  inet_listener imaps {\n"
		     "+    port = 0\n"
		     "+  }\n"
		     "+}\n"
		     "-protocols = imap pop3\n"
		     "+protocols = imap\n");
	draw_page(&page, 8, RB_PENDING);
	wz_page_free(&page);
}

static void page_migrate(void)
{
	struct wz_page page;
	struct wz_mig mig;
	struct migrate_totals t = { 0 };
	struct convert_stats st = { 0 };
	struct m2d_error err = { 0 };
	struct migrate_report rep = { 0 };
	size_t i;

	wz_mig_init(&mig);
	t.folders_total = 6;
	t.bytes_total = 100629700;
	rep.totals = &t;
	/* chris/INBOX runs, alice's are done, bob/INBOX failed */
	for (i = 0; i < N_ELEMENTS(folders); i++) {
		if (folders[i].skip != PLAN_TAKEN)
			continue;
		rep.folder = &folders[i];
		rep.event = MIGRATE_FOLDER_START;
		rep.stats = NULL;
		rep.error = NULL;
		wz_mig_event(&mig, &rep);
		if (folders[i].user == 2) {
			st.messages = 5120;
			st.source_done = 44000000;
			st.source_size = 99000000;
			rep.event = MIGRATE_TICK;
			rep.stats = &st;
		} else if (strcmp(folders[i].listed, "bob/INBOX") == 0) {
			m2d_error_set(&err, M2D_ERR_LOCKED, "/var/spool/mail/bob",
				      "the source is locked by someone else");
			rep.event = MIGRATE_FOLDER_FAILED;
			rep.error = &err;
			t.folders_failed++;
		} else {
			st.messages = 40;
			st.source_done = st.source_size = folders[i].size;
			rep.event = MIGRATE_FOLDER_DONE;
			rep.stats = &st;
			t.folders_done++;
			t.bytes_done += (unsigned long long)folders[i].size;
			t.messages += 40;
		}
		wz_mig_event(&mig, &rep);
	}
	t.bytes_done += 44000000;
	t.messages += 5120;
	rep.folder = NULL;
	rep.event = MIGRATE_TICK;
	wz_mig_event(&mig, &rep);
	mig.elapsed = 22;
	mig.running = true;

	wz_page_init(&page, RB_PAGE_MIGRATE, 9);
	wz_page_head(&page, 9, step_titles[9], RB_RUNNING, NULL);
	wz_page_set(&page.intro, "The test users' folders are converted "
		    "while UW-IMAP keeps serving them.");
	wz_page_migrate(&page, &mig);
	draw_page(&page, 9, RB_RUNNING);
	wz_page_free(&page);
	wz_mig_free(&mig);
}

static void page_imap(void)
{
	struct imap_test_result res = { 0 };
	struct wz_page page;
	static const struct { const char *id; bool ok; const char *d; } c[] = {
		{ "login", true, "bob*admin logged in (PLAIN)" },
		{ "list", true, "INBOX and 3 folders listed" },
		{ "counts", true, "4 folders, 5 200 messages as in the mboxes" },
		{ "dates", false, "Sent: message 3 has 2004-11-09 10:11:12, "
		  "the mbox says 2004-11-09 09:11:12" },
		{ "create", true, "mbox2dovecot-test created and deleted" },
		{ "move", true, "a copy moved and back" },
	};
	size_t i;

	for (i = 0; i < N_ELEMENTS(c); i++) {
		res.checks[i].id = c[i].id;
		res.checks[i].ok = c[i].ok;
		snprintf(res.checks[i].detail, sizeof(res.checks[i].detail),
			 "%s", c[i].d);
		res.failed += !c[i].ok;
	}
	res.nchecks = N_ELEMENTS(c);
	snprintf(res.greeting, sizeof(res.greeting), "* OK Dovecot ready.");
	wz_page_init(&page, RB_PAGE_IMAP, 10);
	wz_page_head(&page, 10, step_titles[10], RB_FAILED, "1 check failed");
	wz_page_set(&page.intro, "What the runbook asks you to do with a "
		    "mail client, done by a careful IMAP client on the test "
		    "port.");
	wz_page_imap(&page, &res);
	draw_page(&page, 10, RB_FAILED);
	wz_page_free(&page);
}

static void page_report(void)
{
	struct wz_page page;

	wz_page_init(&page, RB_PAGE_REPORT, 22);
	wz_page_head(&page, 22, step_titles[22], RB_DONE, NULL);
	wz_page_report(&page,
		       "Migration of 3 users, 6 folders, 5 320 messages "
		       "(100.6 MB) in 0:41.\n"
		       "Failed: none.  Renamed: 1, excluded: 1.\n"
		       "Report: /root/migrate/report.txt\n"
		       "JSON:   /root/migrate/report.json\n");
	draw_page(&page, 22, RB_DONE);
	wz_page_free(&page);
}

/* The log view (L): the whole width, a search done. */
static void page_log(void)
{
	struct wz_page page;
	struct wz_frame f;
	struct wz_rect r;

	wz_page_init(&page, RB_PAGE_REPORT, -1);
	wz_page_log(&page, "/root/migrate/log",
		    "2026-12-07 21:55:00 [-] session: mbox2dovecot 0.1, pid "
		    "4242, config /etc/mbox2dovecot.conf\n"
		    "2026-12-07 21:55:00 [0] run: Pre-migration checks\n"
		    "2026-12-07 21:55:02 [0] warning: Target on its own file "
		    "system: /data/mail2 is on the same file system as "
		    "/var/spool/mail: filling it stops delivery and the old "
		    "mail\n"
		    "2026-12-07 21:55:02 [0] done: 29 passed, 1 warning, 0 "
		    "failed\n"
		    "2026-12-07 21:56:10 [1] decision: Yes\n"
		    "2026-12-07 21:56:10 [1] run: Freeze accounts\n"
		    "2026-12-07 21:56:10 [1] done: account creation frozen\n"
		    "2026-12-07 22:10:41 [13] run: Announce the downtime\n"
		    "2026-12-07 22:10:44 [13] warning: erin/saved-messages: "
		    "/home/erin/saved-messages: no UW UID data "
		    "(X-IMAP/X-IMAPbase) in message 1: new UIDVALIDITY and "
		    "UIDs assigned\n"
		    "2026-12-07 22:10:45 [13] redownload: erin/saved-messages\t"
		    "/home/erin/saved-messages: no UW UID data\n"
		    "2026-12-07 22:10:47 [13] done: pre-migrated live in "
		    "6 s\n"
		    "2026-12-07 22:12:03 [14] error: undo failed: postsuper "
		    "-r ALL: exit 1\n");
	assert_int_equal(wz_page_search(&page, "uw uid", false), 1);
	memset(&f, 0, sizeof(f));
	f.title = _("mbox2dovecot: the log");
	f.keys = wz_keys_log();
	wz_frame_draw(stdscr, &f, &r);
	wz_page_draw(stdscr, &page, &r);
	/* the search goes round: the other match, then this one again */
	assert_int_equal(wz_page_search(&page, "UW UID", false), 1);
	assert_int_equal(wz_page_search(&page, "UW UID", true), 1);
	assert_int_equal(wz_page_search(&page, "nowhere", true), 0);
	wz_page_free(&page);
}

/* U on step 19 of a finished migration: the later steps that rely on it
 * are listed, newest first, in one question (not one question each). */
static void undo_chain(void)
{
	static const int chain[] = { 22, 21, 20 };
	struct wz_dialog d;
	struct wz_rect area = { 0, 0, LINES, COLS };
	char *text = wz_undo_question(19, chain, N_ELEMENTS(chain));

	assert_non_null(text);
	assert_non_null(strstr(text, "20 "));
	page_text();
	wz_dialog_init(&d, _("Undo"), text, _("Yes"), _("No"));
	d.danger = true;
	wz_dialog_draw(stdscr, &d, &area);
	wz_dialog_free(&d);
	free(text);
}

/* ---- the tests ---- */

static void at_size(int lines, int cols)
{
	assert_int_equal(resize_term(lines, cols), OK);
	erase();
}

static const struct {
	const char *name;
	void (*draw)(void);
} screens[] = {
	{ "text", page_text },
	{ "confirm", confirm_over_text },
	{ "users", page_users },
	{ "folders", page_folders },
	{ "rename", edit_rename },
	{ "subset", page_subset },
	{ "diff", page_diff },
	{ "migrate", page_migrate },
	{ "imap", page_imap },
	{ "report", page_report },
	{ "log", page_log },
	{ "undo", undo_chain },
};

static void checks_list(void) { page_checks(false); }
static void checks_details(void) { page_checks(true); }

static void render_all(int lines, int cols, const char *suffix)
{
	char name[64];
	size_t i;

	at_size(lines, cols);
	checks_list();
	snprintf(name, sizeof(name), "checks%s", suffix);
	compare_screen(name);
	at_size(lines, cols);
	checks_details();
	snprintf(name, sizeof(name), "checks-details%s", suffix);
	compare_screen(name);
	for (i = 0; i < N_ELEMENTS(screens); i++) {
		at_size(lines, cols);
		screens[i].draw();
		snprintf(name, sizeof(name), "%s%s", screens[i].name, suffix);
		compare_screen(name);
	}
}

static void test_screens_80x24(void **state)
{
	(void)state;
	render_all(24, 80, "");
}

static void test_screens_132x43(void **state)
{
	(void)state;
	render_all(43, 132, "");
}

static void test_too_small(void **state)
{
	(void)state;
	assert_false(wz_size_ok(20, 60));
	assert_true(wz_size_ok(24, 80));
	at_size(20, 60);
	wz_draw_too_small(stdscr);
	compare_screen("too-small");
}

static void test_ascii(void **state)
{
	(void)state;
	wz_looks_init(0, 0);
	at_size(24, 80);
	page_migrate();
	compare_screen("migrate-ascii");
	wz_looks_init(0, 1);
}

/* The screens in LANG (its catalogue built under $BUILD/locale; skipped
 * otherwise), at 80x24, as "NAME-LANG-80x24". */
static void render_language(const char *lang)
{
	const char *build = getenv("BUILD");
	const char *top = getenv("M2D_TOP");
	char dir[1024], mo[1100], suffix[16];

	snprintf(dir, sizeof(dir), "%s/%s/locale", top != NULL ? top : ".",
		 build != NULL ? build : "build");
	if (build != NULL && build[0] == '/')
		snprintf(dir, sizeof(dir), "%s/locale", build);
	snprintf(mo, sizeof(mo), "%s/%s/LC_MESSAGES/%s.mo", dir, lang,
		 M2D_TEXTDOMAIN);
	if (access(mo, R_OK) != 0) {
		printf("# SKIP the catalogue of %s is not built (%s)\n", lang,
		       mo);
		skip();
	}
	setenv("LANGUAGE", lang, 1);
	bindtextdomain(M2D_TEXTDOMAIN, dir);
	/* a change of locale makes gettext forget the translations it has
	 * cached (those of the language before) */
	setlocale(LC_ALL, "C");
	setlocale(LC_ALL, "C.UTF-8");
	snprintf(suffix, sizeof(suffix), "-%s", lang);
	render_all(24, 80, suffix);
	unsetenv("LANGUAGE");
	setlocale(LC_ALL, "C.UTF-8");
}

static void test_german(void **state)
{
	(void)state;
	render_language("de");
}

static void test_french(void **state)
{
	(void)state;
	render_language("fr");
}

static int group_setup(void **state)
{
	(void)state;
	unsetenv("LANGUAGE");
	setenv("LC_ALL", "C.UTF-8", 1);
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return -1;
	setenv("TERM", "xterm-256color", 1);
	scr_out = fopen("/dev/null", "we");
	scr_in = fopen("/dev/null", "re");
	if (scr_out == NULL || scr_in == NULL)
		return -1;
	scr = newterm("xterm-256color", scr_out, scr_in);
	if (scr == NULL)
		return -1;
	set_term(scr);
	wz_looks_init(0, 1);	/* monochrome, Unicode lines */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	endwin();
	delscreen(scr);
	fclose(scr_out);
	fclose(scr_in);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_screens_80x24),
		cmocka_unit_test(test_screens_132x43),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_plurals),
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_german),
		cmocka_unit_test(test_french),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
