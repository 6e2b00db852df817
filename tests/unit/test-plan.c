/* SPDX-License-Identifier: MIT */
/*
 * test-plan.c - users and folders of a migration: discovery in a scratch
 * tree (spool, homes), every skip reason, names, lists written and read
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "plan.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#define MBOX "From alice@example.org Tue Nov  9 10:11:12 2004\n" \
	"Subject: hi\n\nbody\n\n"

/* ---- a scratch tree ---- */

static char top[64];

static void pathf(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", top, rel);
}

static void mkdir_p(const char *rel)
{
	char path[4096], *p;

	pathf(path, sizeof(path), rel);
	for (p = path + strlen(top) + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(path, 0700);
			*p = '/';
		}
	}
	(void)mkdir(path, 0700);
}

static void put(const char *rel, const char *data, size_t len)
{
	char path[4096], dir[4096], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		mkdir_p(dir);
	}
	pathf(path, sizeof(path), rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_str(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void link_to(const char *rel, const char *target)
{
	char path[4096];

	pathf(path, sizeof(path), rel);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/test-plan-XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	mkdir_p("spool");
	mkdir_p("home");
	mkdir_p("work");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* A configuration for the scratch tree: no passwd user in the range. */
static void config(struct m2d_config *cfg)
{
	struct m2d_error err;
	char path[4096];

	assert_int_equal(m2d_config_load(cfg, NULL, &err), 0);
	pathf(path, sizeof(path), "spool");
	m2d_config_set(&cfg->spool_dir, path);
	pathf(path, sizeof(path), "home");
	m2d_config_set(&cfg->homes_dir, path);
	pathf(path, sizeof(path), "target");
	m2d_config_set(&cfg->target_base, path);
	cfg->uid_min = 4294967294L;
	cfg->uid_max = 4294967294L;
}

/*
 * The users of the scratch tree in a passwd of their own (accounts_root's
 * ROOT/etc/passwd, as the sandbox has): NAMES (blank-separated), each
 * with UID and GID UID (the owner of the files the test makes), homes
 * below top/home, and the UID range [UID, UID].
 */
static void passwd_users(struct m2d_config *cfg, const char *names,
			 long uid)
{
	char path[4096], text[4096] = "", *copy = strdup(names), *tok, *save;

	assert_non_null(copy);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		size_t len = strlen(text);

		snprintf(text + len, sizeof(text) - len,
			 "%s:x:%ld:%ld::%s/home/%s:/bin/sh\n", tok, uid, uid,
			 top, tok);
	}
	free(copy);
	put_str("root/etc/passwd", text);
	pathf(path, sizeof(path), "root");
	m2d_config_set(&cfg->accounts_root, path);
	cfg->uid_min = uid;
	cfg->uid_max = uid;
}

static const struct plan_stray *stray(const struct plan *plan,
				      const char *rel)
{
	char path[4096];

	pathf(path, sizeof(path), rel);
	for (size_t i = 0; i < plan->nstrays; i++) {
		if (strcmp(plan->strays[i].source, path) == 0)
			return &plan->strays[i];
	}
	return NULL;
}

static const struct plan_folder *find(const struct plan *plan,
				      const char *listed)
{
	const struct plan_folder *found = NULL;

	for (size_t i = 0; i < plan->nfolders; i++) {
		if (strcmp(plan->folders[i].listed, listed) == 0) {
			if (found != NULL)
				fail_msg("%s listed twice", listed);
			found = &plan->folders[i];
		}
	}
	return found;
}

static const struct plan_folder *get(const struct plan *plan,
				     const char *listed)
{
	const struct plan_folder *f = find(plan, listed);

	if (f == NULL)
		fail_msg("%s is not in the plan", listed);
	return f;
}

static void expect_taken(const struct plan *plan, const char *listed,
			 const char *name, const char *dirname)
{
	const struct plan_folder *f = get(plan, listed);

	if (f->skip != PLAN_TAKEN)
		fail_msg("%s: skipped (%s)", listed, f->reason);
	assert_string_equal(f->name, name);
	assert_string_equal(f->dirname, dirname);
}

static void expect_skip(const struct plan *plan, const char *listed,
			enum plan_skip skip)
{
	const struct plan_folder *f = get(plan, listed);

	if (f->skip != skip)
		fail_msg("%s: skip %d, expected %d (%s)", listed, f->skip,
			 skip, f->reason != NULL ? f->reason : "-");
	assert_non_null(f->reason);
	if (skip != PLAN_SKIP_NAME)
		assert_null(f->dirname);
}

static void dump(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		print_message("# %-28s %-12s %d %s\n", f->listed,
			      f->name != NULL ? f->name : "-", f->skip,
			      f->reason != NULL ? f->reason : "");
	}
}

static void build_ok(const struct m2d_config *cfg,
		     const struct plan_source *src, struct plan *plan)
{
	struct m2d_error err;
	char buf[1200];

	if (plan_build(cfg, src, plan, &err) < 0)
		fail_msg("plan_build: %s", m2d_error_str(&err, buf,
							 sizeof(buf)));
}

/* ---- plan_is_mbox ---- */

static const struct {
	const char *data;
	bool mbox;
} heads[] = {
	{ "", true },
	{ MBOX, true },
	{ "From MAILER-DAEMON Tue Nov  9 10:11:12 2004\n", true },
	/* c-client wants the From_ line whole, with its LF */
	{ "From a Tue Nov  9 10:11 2004", false },
	{ "From a Tue Nov  9 10:11:12 2004 -0500\r\n", true },
	{ "From nobody Sat Jan  1 00:00:00 2000\nX", true },
	{ "From a bad date\n", false },
	{ "From: a@b\nSubject: x\n", false },
	/* blank bytes first, the last a LF: a mailbox to c-client */
	{ "\nFrom a Tue Nov  9 10:11:12 2004\n", true },
	{ "   \n\t\n   \nFrom a Tue Nov  9 10:11:12 2004\n", true },
	{ " From a Tue Nov  9 10:11:12 2004\n", false },
	{ "\n\rFrom a Tue Nov  9 10:11:12 2004\n", false },
	{ "\n\n\n", false },
	{ "hello\n", false },
	{ "*mbx*\r\n00000000", false },
};

static void test_is_mbox(void **state)
{
	char path[4096];

	(void)state;
	pathf(path, sizeof(path), "head");
	for (size_t i = 0; i < N_ELEMENTS(heads); i++) {
		int fd;

		put_str("head", heads[i].data);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		if (plan_is_mbox(fd) != heads[i].mbox)
			fail_msg("case %zu: expected %d", i, heads[i].mbox);
		/* the offset is left alone */
		assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
		close(fd);
	}
	/* binary, and a first line too long for a separator */
	{
		static const char bin[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
		char *big = malloc(10000);
		int fd;

		assert_non_null(big);
		put("head", bin, sizeof(bin) - 1);
		fd = open(path, O_RDONLY);
		assert_false(plan_is_mbox(fd));
		close(fd);
		memset(big, 'x', 10000);
		memcpy(big, "From ", 5);
		put("head", big, 10000);
		fd = open(path, O_RDONLY);
		assert_false(plan_is_mbox(fd));
		close(fd);
		free(big);
	}
}

static void test_skip_str(void **state)
{
	(void)state;
	for (int i = PLAN_TAKEN; i <= PLAN_SKIP_SPARSE; i++) {
		const char *s = plan_skip_str((enum plan_skip)i);

		assert_non_null(s);
		assert_true(s[0] != '\0');
		for (int j = PLAN_TAKEN; j < i; j++)
			assert_string_not_equal(
				s, plan_skip_str((enum plan_skip)j));
	}
}

/* ---- discovery ---- */

static void make_fred_and_mary(void)
{
	put_str("spool/fred", MBOX);
	put_str("spool/fred.lock", "");		/* a dotlock: no user */
	put_str("spool/.hidden", MBOX);		/* no user */
	put_str("spool/mary", "");		/* empty inbox */
	mkdir_p("spool/somedir");		/* no user */
	put_str("home/fred/mail/Sent", MBOX);
	put_str("home/fred/mail/work/2004", MBOX);
	put_str("home/fred/mail/work/2005/Q1", MBOX);
	put_str("home/fred/mail/Entw&APw-rfe", MBOX);
	put_str("home/fred/mbox", MBOX);
	put_str("home/fred/Drafts", MBOX);
	put_str("home/fred/.mailboxlist",
		"mail/Sent\r\nINBOX\n~/mail/work/2004\nDrafts\n"
		"{imap.example.org}INBOX\n");
}

static void test_discover(void **state)
{
	struct m2d_config cfg;
	struct plan plan;
	const struct plan_folder *f;
	struct stat st;
	char path[4096];
	size_t taken = 0;

	(void)state;
	make_fred_and_mary();
	assert_null(getpwnam("fred"));	/* the test needs them unknown */
	assert_null(getpwnam("mary"));
	/* in the spool, not in passwd: no user (anyone can create a file
	 * in a mode 1777 spool) */
	put_str("spool/ghost", MBOX);
	put_str("spool/evil\nfolder FAKE -> INBOX", MBOX);
	config(&cfg);
	passwd_users(&cfg, "fred mary", (long)getuid());
	build_ok(&cfg, NULL, &plan);
	dump(&plan);

	/* users: from passwd, sorted; the files of the spool that are no
	 * user's are strays with their reason */
	assert_non_null(stray(&plan, "spool/ghost"));
	assert_non_null(strstr(stray(&plan, "spool/ghost")->reason,
			       "passwd"));
	assert_non_null(stray(&plan, "spool/evil\nfolder FAKE -> INBOX"));
	assert_null(stray(&plan, "spool/.hidden"));	/* dot files, locks */
	assert_null(stray(&plan, "spool/fred.lock"));
	assert_int_equal(plan.nstrays, 2);
	assert_int_equal(plan.nusers, 2);
	assert_string_equal(plan.users[0].name, "fred");
	assert_string_equal(plan.users[1].name, "mary");
	pathf(path, sizeof(path), "home/fred");
	assert_string_equal(plan.users[0].home, path);
	pathf(path, sizeof(path), "target/fred");
	assert_string_equal(plan.users[0].target, path);
	/* in passwd: its uid, the owner of the inbox */
	pathf(path, sizeof(path), "spool/fred");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(plan.users[0].uid, (int)st.st_uid);
	assert_int_equal(plan.users[0].gid, (int)getuid());
	assert_true(plan.users[0].in_passwd);

	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	f = get(&plan, "fred/INBOX");
	assert_string_equal(f->source, path);
	assert_int_equal(f->size, (long long)strlen(MBOX));
	assert_int_equal(f->user, 0);
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	expect_taken(&plan, "fred/mail/work/2004", "work/2004", ".work.2004");
	expect_taken(&plan, "fred/mail/work/2005/Q1", "work/2005/Q1",
		     ".work.2005.Q1");
	expect_taken(&plan, "fred/mail/Entw&APw-rfe", "Entw\xc3\xbcrfe",
		     ".Entw&APw-rfe");
	expect_taken(&plan, "fred/Drafts", "Drafts", ".Drafts");
	/* ~/mbox: its own folder, with a note */
	expect_taken(&plan, "fred/mbox", "mbox", ".mbox");
	f = get(&plan, "fred/mbox");
	assert_non_null(f->reason);
	assert_non_null(strstr(f->reason, "INBOX"));
	pathf(path, sizeof(path), "home/fred/mbox");
	assert_string_equal(f->source, path);
	/* ~/mail is walked as its own root only */
	assert_null(find(&plan, "fred/mail"));
	expect_skip(&plan, "fred/.mailboxlist", PLAN_SKIP_DOTFILE);
	/* mary: an empty inbox is a folder; no home */
	expect_taken(&plan, "mary/INBOX", "INBOX", "");
	assert_int_equal(get(&plan, "mary/INBOX")->size, 0);
	assert_int_equal(get(&plan, "mary/INBOX")->user, 1);
	assert_null(plan.users[1].subscriptions);

	for (size_t i = 0; i < plan.nfolders; i++)
		taken += plan.folders[i].skip == PLAN_TAKEN;
	assert_int_equal(taken, 8);
	assert_int_equal(plan.nfolders, 9);

	/* subscriptions without the root prefixes */
	{
		char **s = plan.users[0].subscriptions;

		assert_non_null(s);
		assert_string_equal(s[0], "Sent");
		assert_string_equal(s[1], "INBOX");
		assert_string_equal(s[2], "work/2004");
		assert_string_equal(s[3], "Drafts");
		assert_null(s[4]);
	}
	plan_free(&plan);
	m2d_config_free(&cfg);
}

/* ~/mbox is found even when no root covers the top of the home */
static void test_mbox_without_home_root(void **state)
{
	struct m2d_config cfg;
	struct plan plan;
	const char *users[] = { "fred", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };

	(void)state;
	make_fred_and_mary();
	config(&cfg);
	m2d_config_set(&cfg.folder_roots[1], NULL);
	cfg.nroots = 1;		/* only ~/mail */
	build_ok(&cfg, &src, &plan);
	dump(&plan);
	expect_taken(&plan, "fred/mbox", "mbox", ".mbox");
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	assert_null(find(&plan, "fred/Drafts"));
	assert_null(find(&plan, "fred/.mailboxlist"));
	plan_free(&plan);
	m2d_config_free(&cfg);
}

static void test_skips(void **state)
{
	static const char bin[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0";
	const char *users[] = { "fred", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };
	struct m2d_config cfg;
	struct plan plan;
	const struct plan_folder *f;
	char path[4096], deep[4096];

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("home/fred/mail/Sent", MBOX);
	put_str("home/fred/mail/Sent.lock", "");	/* dotlock */
	put_str("home/fred/mail/empty", "");
	link_to("home/fred/passwd", "/etc/passwd");
	link_to("home/fred/mail/inbox-link", "../../../spool/fred");
	put_str("elsewhere/secret", MBOX);
	pathf(path, sizeof(path), "elsewhere");
	link_to("home/fred/linkdir", path);
	pathf(path, sizeof(path), "home/fred/mail/fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	put_str("home/fred/mail/sparse", MBOX);
	pathf(path, sizeof(path), "home/fred/mail/sparse");
	assert_int_equal(truncate(path, 64L << 20), 0);
	put_str("home/fred/.pine/a", MBOX);
	put_str("home/fred/.pine/b/c", MBOX);
	put_str("home/fred/.pinerc", "# pine\n");
	/* an mbx header cut short: no folder c-client opens */
	put_str("home/fred/mail/oldbox",
		"*mbx*\r\n00000000000000000000000000000000\r\n");
	/* tenex: named, not converted */
	put_str("home/fred/mail/tenexbox",
		" 7-Dec-2026 10:00:00 +0200,9;000000000001\nSubject: x\n");
	put("home/fred/mail/a.out", bin, sizeof(bin) - 1);
	put_str("home/fred/notes", "shopping list\n");
	put_str("home/fred/mail/badfrom", "From someone without a date\n");
	/* deeper than the walk goes */
	strcpy(deep, "home/fred/mail/deep");
	for (int i = 0; i < 70; i++)
		strcat(deep, "/d");
	mkdir_p(deep);
	strcat(deep, "/box");
	put_str(deep, MBOX);

	config(&cfg);
	build_ok(&cfg, &src, &plan);
	dump(&plan);

	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	expect_taken(&plan, "fred/mail/empty", "empty", ".empty");
	expect_skip(&plan, "fred/mail/Sent.lock", PLAN_SKIP_NOT_MBOX);

	/* the symlink to /etc/passwd: skipped, never followed: its size is
	   the link's (strlen("/etc/passwd")), not the file's */
	expect_skip(&plan, "fred/passwd", PLAN_SKIP_SYMLINK);
	f = get(&plan, "fred/passwd");
	assert_int_equal(f->size, 11);
	assert_null(f->name);
	assert_non_null(strstr(f->reason, "/etc/passwd"));
	expect_skip(&plan, "fred/mail/inbox-link", PLAN_SKIP_SYMLINK);
	/* a symlinked directory: listed, not entered */
	expect_skip(&plan, "fred/linkdir", PLAN_SKIP_SYMLINK);
	assert_null(find(&plan, "fred/linkdir/secret"));
	/* a FIFO: listed, never opened (we would hang here) */
	expect_skip(&plan, "fred/mail/fifo", PLAN_SKIP_SPECIAL);
	/* sparse (a From_ line, then a hole): refused unless allowed */
	expect_skip(&plan, "fred/mail/sparse", PLAN_SKIP_SPARSE);
	/* a dot directory: one entry, not entered */
	expect_skip(&plan, "fred/.pine", PLAN_SKIP_DOTFILE);
	expect_skip(&plan, "fred/.pinerc", PLAN_SKIP_DOTFILE);
	assert_null(find(&plan, "fred/.pine/a"));
	assert_null(find(&plan, "fred/.pine/b/c"));
	expect_skip(&plan, "fred/mail/oldbox", PLAN_SKIP_NOT_MBOX);
	expect_skip(&plan, "fred/mail/tenexbox", PLAN_SKIP_MBX);
	expect_skip(&plan, "fred/mail/a.out", PLAN_SKIP_NOT_MBOX);
	expect_skip(&plan, "fred/notes", PLAN_SKIP_NOT_MBOX);
	expect_skip(&plan, "fred/mail/badfrom", PLAN_SKIP_NOT_MBOX);
	/* too deep: one entry where the walk stopped */
	{
		size_t deep_skips = 0;

		for (size_t i = 0; i < plan.nfolders; i++) {
			f = &plan.folders[i];
			if (strncmp(f->listed, "fred/mail/deep/", 15) == 0) {
				assert_int_equal(f->skip,
						 PLAN_SKIP_UNREADABLE);
				deep_skips++;
			}
		}
		assert_int_equal(deep_skips, 1);
	}
	/* nothing from outside the home */
	for (size_t i = 0; i < plan.nfolders; i++)
		assert_null(strstr(plan.folders[i].listed, "secret"));
	plan_free(&plan);
	m2d_config_free(&cfg);
}

static void test_inbox_symlink(void **state)
{
	const char *users[] = { "fred", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };
	struct m2d_config cfg;
	struct plan plan;

	(void)state;
	link_to("spool/fred", "/etc/passwd");
	mkdir_p("home/fred");
	config(&cfg);
	build_ok(&cfg, &src, &plan);
	expect_skip(&plan, "fred/INBOX", PLAN_SKIP_SYMLINK);
	plan_free(&plan);
	/* discovery: a symlink in the spool is no user */
	build_ok(&cfg, NULL, &plan);
	assert_int_equal(plan.nusers, 0);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

static void test_names(void **state)
{
	const char *users[] = { "fred", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };
	struct m2d_config cfg;
	struct plan plan;
	const struct plan_folder *f;

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("home/fred/mail/a.b", MBOX);
	put_str("home/fred/mail/a_b", MBOX);
	put_str("home/fred/mail/x.y", MBOX);
	put_str("home/fred/mail/x_y", MBOX);
	put_str("home/fred/mail/x_y-2", MBOX);
	put_str("home/fred/mail/Entw&APw-rfe", MBOX);
	put_str("home/fred/mail/Entw\xc3\xbcrfe", MBOX);
	put_str("home/fred/mail/inbox", MBOX);
	put_str("home/fred/mail/Sent", MBOX);
	put_str("home/fred/Sent", MBOX);	/* root "~": also "Sent" */
	put_str("home/fred/mail/caf\xe9", MBOX);	/* Latin-1 */

	config(&cfg);
	build_ok(&cfg, &src, &plan);
	dump(&plan);

	expect_taken(&plan, "fred/mail/a_b", "a_b", ".a_b");
	expect_skip(&plan, "fred/mail/a.b", PLAN_SKIP_NAME);
	f = get(&plan, "fred/mail/a.b");
	assert_int_equal(f->problem, FOLDER_DOT);
	assert_string_equal(f->name, "a.b");
	assert_string_equal(f->suggestion, "a_b-2");	/* a_b is taken */
	f = get(&plan, "fred/mail/x.y");
	assert_string_equal(f->suggestion, "x_y-3");

	/* two spellings of one name: the second waits for a rename */
	expect_taken(&plan, "fred/mail/Entw&APw-rfe", "Entw\xc3\xbcrfe",
		     ".Entw&APw-rfe");
	expect_skip(&plan, "fred/mail/Entw\xc3\xbcrfe", PLAN_SKIP_NAME);
	f = get(&plan, "fred/mail/Entw\xc3\xbcrfe");
	assert_int_equal(f->problem, FOLDER_COLLISION);
	assert_string_equal(f->suggestion, "Entw\xc3\xbcrfe-2");
	assert_non_null(strstr(f->reason, "Entw\xc3\xbcrfe"));

	/* "inbox" would merge into INBOX */
	f = get(&plan, "fred/mail/inbox");
	assert_int_equal(f->skip, PLAN_SKIP_NAME);
	assert_int_equal(f->problem, FOLDER_INBOX);
	assert_string_equal(f->suggestion, "inbox-old");

	/* ~/mail comes first in the roots: ~/mail/Sent keeps "Sent" */
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	f = get(&plan, "fred/Sent");
	assert_int_equal(f->skip, PLAN_SKIP_NAME);
	assert_int_equal(f->problem, FOLDER_COLLISION);
	assert_string_equal(f->suggestion, "Sent-2");

	f = get(&plan, "fred/mail/caf\xe9");
	assert_int_equal(f->skip, PLAN_SKIP_NAME);
	assert_int_equal(f->problem, FOLDER_NOT_UTF8);
	assert_string_equal(f->suggestion, "caf\xc3\xa9");
	plan_free(&plan);
	m2d_config_free(&cfg);
}

/* The administrator's renames and exclusions (runbook step 4). */
static void test_renames(void **state)
{
	const char *users[] = { "fred", NULL };
	const struct plan_rename rn[] = {
		{ "fred/mail/a.b", "a and b" },		/* accepted */
		{ "fred/mail/x.y", NULL },		/* excluded */
		{ "fred/mail/inbox", "a_b" },		/* collides */
		{ "fred/mail/Sent", "Gesendet" },	/* a good name too */
		{ "fred/Sent", "bad.name" },		/* still bad */
	};
	struct plan_source src = { .users = users, .renames = rn,
				   .nrenames = sizeof(rn) / sizeof(rn[0]) };
	struct m2d_config cfg;
	struct plan plan;
	const struct plan_folder *f;

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("home/fred/mail/a.b", MBOX);
	put_str("home/fred/mail/a_b", MBOX);
	put_str("home/fred/mail/x.y", MBOX);
	put_str("home/fred/mail/inbox", MBOX);
	put_str("home/fred/mail/Sent", MBOX);
	put_str("home/fred/Sent", MBOX);
	put_str("home/fred/.mailboxlist", "mail/a.b\nmail/x.y\nmail/Sent\n"
		"mail/a_b\nmail/gone.old\n");

	config(&cfg);
	build_ok(&cfg, &src, &plan);
	dump(&plan);
	/* subscriptions follow the renames; excluded and impossible
	   names are left out */
	{
		char **subs = plan.users[0].subscriptions;
		char all[512] = "";

		assert_non_null(subs);
		for (size_t i = 0; subs[i] != NULL; i++) {
			strcat(all, subs[i]);
			strcat(all, "|");
		}
		assert_string_equal(all, "a and b|Gesendet|a_b|");
	}
	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	expect_taken(&plan, "fred/mail/a.b", "a and b", ".a and b");
	expect_taken(&plan, "fred/mail/a_b", "a_b", ".a_b");
	expect_skip(&plan, "fred/mail/x.y", PLAN_SKIP_EXCLUDED);
	f = get(&plan, "fred/mail/inbox");
	assert_int_equal(f->skip, PLAN_SKIP_NAME);
	assert_int_equal(f->problem, FOLDER_COLLISION);
	expect_taken(&plan, "fred/mail/Sent", "Gesendet", ".Gesendet");
	/* "Sent" is free now, but the rename asked for bad.name */
	f = get(&plan, "fred/Sent");
	assert_int_equal(f->skip, PLAN_SKIP_NAME);
	assert_int_equal(f->problem, FOLDER_DOT);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

static void test_deepest_root(void **state)
{
	const char *users[] = { "fred", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };
	struct m2d_config cfg;
	struct plan plan;

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("home/fred/mail/Sent", MBOX);
	put_str("home/fred/mail/lists/x/y", MBOX);
	put_str("home/fred/Drafts", MBOX);
	config(&cfg);
	/* order "~" first, then "~/mail", then "~/mail/lists/" */
	m2d_config_set(&cfg.folder_roots[0], "~");
	m2d_config_set(&cfg.folder_roots[1], "~/mail");
	m2d_config_set(&cfg.folder_roots[2], "~//mail/lists/");
	cfg.nroots = 3;
	build_ok(&cfg, &src, &plan);
	dump(&plan);
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	expect_taken(&plan, "fred/mail/lists/x/y", "x/y", ".x.y");
	expect_taken(&plan, "fred/Drafts", "Drafts", ".Drafts");
	assert_int_equal(plan.nfolders, 4);
	plan_free(&plan);

	/* only "~": the path relative to the home */
	m2d_config_set(&cfg.folder_roots[1], NULL);
	m2d_config_set(&cfg.folder_roots[2], NULL);
	cfg.nroots = 1;
	build_ok(&cfg, &src, &plan);
	expect_taken(&plan, "fred/mail/Sent", "mail/Sent", ".mail.Sent");
	expect_taken(&plan, "fred/mail/lists/x/y", "mail/lists/x/y",
		     ".mail.lists.x.y");
	plan_free(&plan);
	m2d_config_free(&cfg);
}

static void test_absolute_root(void **state)
{
	const char *users[] = { "fred", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };
	struct m2d_config cfg;
	struct plan plan, again;
	char root[4096], listed[4096];
	struct m2d_error err;

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("folders/fred/Archive/2003", MBOX);
	put_str("home/fred/mail/Sent", MBOX);
	config(&cfg);
	pathf(root, sizeof(root), "folders/%u");
	m2d_config_set(&cfg.folder_roots[1], root);	/* ~/mail, abs */
	build_ok(&cfg, &src, &plan);
	dump(&plan);
	snprintf(listed, sizeof(listed), "fred/%s/folders/fred/Archive/2003",
		 top);
	expect_taken(&plan, listed, "Archive/2003", ".Archive.2003");
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	/* through the lists again */
	assert_int_equal(plan_write_lists(&plan, top, &err), 0);
	{
		char ul[4096], fl[4096];
		struct plan_source s2 = { .userlist = ul, .folderlist = fl };

		pathf(ul, sizeof(ul), "userlist-master");
		pathf(fl, sizeof(fl), "folderlist-master");
		build_ok(&cfg, &s2, &again);
	}
	expect_taken(&again, listed, "Archive/2003", ".Archive.2003");
	assert_int_equal(again.nfolders, plan.nfolders);
	plan_free(&again);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

/* ---- lists ---- */

static char *slurp(const char *rel)
{
	char path[4096];
	static char buf[8192];
	ssize_t n;
	int fd;

	pathf(path, sizeof(path), rel);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void test_lists_round_trip(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;
	struct plan plan, again;
	char dir[4096], ul[4096], fl[4096];
	struct plan_source src = { .users = NULL, .userlist = ul, .folderlist = fl };
	struct stat st;
	size_t n1 = 0, n2 = 0;

	(void)state;
	make_fred_and_mary();
	put_str("home/fred/mail/a.b", MBOX);	/* not taken: not listed */
	put_str("home/fred/notes", "text\n");
	link_to("home/fred/passwd", "/etc/passwd");
	put_str("home/fred/mail/My Box", MBOX);	/* written "My\\sBox" */
	config(&cfg);
	passwd_users(&cfg, "fred mary", (long)getuid());
	build_ok(&cfg, NULL, &plan);
	pathf(dir, sizeof(dir), "work");
	assert_int_equal(plan_write_lists(&plan, dir, &err), 0);
	assert_string_equal(slurp("work/userlist-master"), "fred\nmary\n");
	/* as the runbook's: no inboxes, only the taken folders */
	assert_string_equal(slurp("work/folderlist-master"),
			    "fred/mbox\n"
			    "fred/mail/Entw&APw-rfe\n"
			    "fred/mail/My\\sBox\n"
			    "fred/mail/Sent\n"
			    "fred/mail/work/2004\n"
			    "fred/mail/work/2005/Q1\n"
			    "fred/Drafts\n");
	pathf(ul, sizeof(ul), "work/userlist-master");
	assert_int_equal(stat(ul, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	pathf(fl, sizeof(fl), "work/folderlist-master");
	build_ok(&cfg, &src, &again);
	dump(&again);
	assert_int_equal(again.nusers, plan.nusers);
	for (size_t i = 0; i < plan.nfolders; i++) {
		const struct plan_folder *a = &plan.folders[i], *b;

		if (a->skip != PLAN_TAKEN)
			continue;
		n1++;
		b = get(&again, a->listed);
		assert_int_equal(b->skip, PLAN_TAKEN);
		assert_string_equal(a->name, b->name);
		assert_string_equal(a->dirname, b->dirname);
		assert_string_equal(a->source, b->source);
		assert_int_equal(a->size, b->size);
		assert_int_equal(a->user, b->user);
	}
	for (size_t i = 0; i < again.nfolders; i++)
		n2 += again.folders[i].skip == PLAN_TAKEN;
	assert_int_equal(n1, n2);
	assert_int_equal(again.nfolders, n2);	/* nothing else walked */

	/* and the same files once more */
	plan_free(&plan);
	assert_int_equal(plan_write_lists(&again, dir, &err), 0);
	assert_string_equal(slurp("work/folderlist-master"),
			    "fred/mbox\n"
			    "fred/mail/Entw&APw-rfe\n"
			    "fred/mail/My\\sBox\n"
			    "fred/mail/Sent\n"
			    "fred/mail/work/2004\n"
			    "fred/mail/work/2005/Q1\n"
			    "fred/Drafts\n");
	plan_free(&again);

	/* names are data: a hand-edited line keeps its raw spaces; a raw
	 * control byte or an escape we do not write is refused */
	put_str("work/folderlist-master", "fred/mail/My Box\n");
	build_ok(&cfg, &src, &again);
	expect_taken(&again, "fred/mail/My Box", "My Box", ".My Box");
	plan_free(&again);
	put_str("work/folderlist-master", "fred/mail/Sent\x01\n");
	assert_int_equal(plan_build(&cfg, &src, &again, &err), -1);
	assert_int_equal(err.line, 1);
	put_str("work/folderlist-master", "fred/mail/Sent\\q\n");
	assert_int_equal(plan_build(&cfg, &src, &again, &err), -1);
	/* a newline in a name cannot forge a line: written \n, read back */
	put_str("work/folderlist-master", "fred/mail/x\\nfred/mail/Sent\n");
	build_ok(&cfg, &src, &again);
	expect_skip(&again, "fred/mail/x\nfred/mail/Sent", PLAN_SKIP_MISSING);
	assert_null(find(&again, "fred/mail/Sent"));
	plan_free(&again);

	/* no such directory */
	pathf(dir, sizeof(dir), "nonexistent");
	assert_int_equal(plan_write_lists(&again, dir, &err), -1);
	assert_int_equal(err.code, M2D_ERR_SYS);
	m2d_config_free(&cfg);
}

static void test_folderlist_skips(void **state)
{
	struct m2d_config cfg;
	struct plan plan;
	char fl[4096];
	const char *users[] = { "fred", "mary", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = fl };
	char path[4096];

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("home/fred/mail/Sent", MBOX);
	put_str("home/fred/notes", "text\n");
	put_str("home/fred/.hidden", MBOX);
	link_to("home/fred/passwd", "/etc/passwd");
	put_str("elsewhere/secret", MBOX);
	pathf(path, sizeof(path), "elsewhere");
	link_to("home/fred/mail/linkdir", path);
	pathf(path, sizeof(path), "home/fred/fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	mkdir_p("home/mary");
	put_str("folderlist",
		"# test subset\n"
		"\n"
		"fred/mail/Sent\n"
		"fred/mail/Sent\n"		/* twice: once */
		"fred/INBOX\n"
		"fred/mail/missing\n"
		"fred/mail/linkdir/secret\n"
		"fred/passwd\n"
		"fred/notes\n"
		"fred/fifo\n"
		"fred/mail\n"
		"fred/.hidden\n"
		"fred/notes/x\n"
		"mary/INBOX\n");
	pathf(fl, sizeof(fl), "folderlist");
	config(&cfg);
	build_ok(&cfg, &src, &plan);
	dump(&plan);
	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	expect_taken(&plan, "fred/mail/Sent", "Sent", ".Sent");
	expect_skip(&plan, "fred/mail/missing", PLAN_SKIP_MISSING);
	expect_skip(&plan, "fred/mail/linkdir/secret", PLAN_SKIP_SYMLINK);
	expect_skip(&plan, "fred/passwd", PLAN_SKIP_SYMLINK);
	expect_skip(&plan, "fred/notes", PLAN_SKIP_NOT_MBOX);
	expect_skip(&plan, "fred/fifo", PLAN_SKIP_SPECIAL);
	expect_skip(&plan, "fred/mail", PLAN_SKIP_NOT_MBOX);
	expect_skip(&plan, "fred/notes/x", PLAN_SKIP_MISSING);
	/* listed on purpose: a dot file that is an mbox needs a rename */
	expect_skip(&plan, "fred/.hidden", PLAN_SKIP_NAME);
	expect_skip(&plan, "mary/INBOX", PLAN_SKIP_MISSING);
	assert_int_equal(plan.nfolders, 11);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

static const struct {
	const char *text;
	unsigned long line;
	const char *needle;
} bad_folderlists[] = {
	{ "fred/Sent\nnobody/Sent\n", 2, "nobody" },
	{ "fred/Sent\n\n# x\nfred\n", 4, "USER/PATH" },
	{ "fred/\n", 1, "USER/PATH" },
	{ "fred/mail/../../etc/shadow\n", 1, ".." },
	{ "fred/mail//Sent\n", 1, NULL },
	{ "fred/./x\n", 1, NULL },
	{ "fred/x/\n", 1, NULL },
};

static const struct {
	const char *text;
	unsigned long line;
} bad_userlists[] = {
	{ "fred\n../etc\n", 2 },
	{ "# users\nfred\n\n-rf\n", 4 },
	{ "fred\n.hidden\n", 2 },
	{ "fred/x\n", 1 },
	{ "fred mary\n", 1 },
	{ "fred\nba\x01" "d\n", 2 },
	{ "fred\nghost\n", 2 },		/* not in passwd, no inbox, no home */
};

static void test_list_errors(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;
	struct plan plan;
	char ul[4096], fl[4096], buf[1200];

	(void)state;
	put_str("spool/fred", MBOX);
	put_str("spool/mary", MBOX);
	pathf(ul, sizeof(ul), "users");
	pathf(fl, sizeof(fl), "folders");
	config(&cfg);
	put_str("users", "fred\n");
	for (size_t i = 0; i < N_ELEMENTS(bad_folderlists); i++) {
		struct plan_source src = { .users = NULL, .userlist = ul, .folderlist = fl };

		put_str("folders", bad_folderlists[i].text);
		assert_int_equal(plan_build(&cfg, &src, &plan, &err), -1);
		print_message("# %s\n", m2d_error_str(&err, buf,
						      sizeof(buf)));
		assert_int_equal(err.code, M2D_ERR_USAGE);
		assert_string_equal(err.path, fl);
		if (err.line != bad_folderlists[i].line)
			fail_msg("folderlist case %zu: line %lu", i, err.line);
		if (bad_folderlists[i].needle != NULL)
			assert_non_null(strstr(err.msg,
					       bad_folderlists[i].needle));
		assert_int_equal(plan.nusers, 0);
		assert_int_equal(plan.nfolders, 0);
	}
	for (size_t i = 0; i < N_ELEMENTS(bad_userlists); i++) {
		struct plan_source src = { .users = NULL, .userlist = ul, .folderlist = NULL };

		put_str("users", bad_userlists[i].text);
		assert_int_equal(plan_build(&cfg, &src, &plan, &err), -1);
		print_message("# %s\n", m2d_error_str(&err, buf,
						      sizeof(buf)));
		assert_int_equal(err.code, M2D_ERR_USAGE);
		assert_string_equal(err.path, ul);
		if (err.line != bad_userlists[i].line)
			fail_msg("userlist case %zu: line %lu", i, err.line);
	}
	/* a good userlist: comments, blanks, spaces, duplicates */
	{
		struct plan_source src = { .users = NULL, .userlist = ul, .folderlist = NULL };

		put_str("users", "# the users\n\n  mary  \r\nfred\n\tfred\n");
		build_ok(&cfg, &src, &plan);
		assert_int_equal(plan.nusers, 2);
		assert_string_equal(plan.users[0].name, "fred");
		assert_string_equal(plan.users[1].name, "mary");
		plan_free(&plan);
	}
	/* explicit names are checked too */
	{
		const char *users[] = { "fred", "../x", NULL };
		struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };

		assert_int_equal(plan_build(&cfg, &src, &plan, &err), -1);
		assert_int_equal(err.code, M2D_ERR_USAGE);
	}
	/* missing files */
	{
		struct plan_source src = { .users = NULL, .userlist = "/nonexistent/u", .folderlist = NULL };

		assert_int_equal(plan_build(&cfg, &src, &plan, &err), -1);
		assert_int_equal(err.code, M2D_ERR_SYS);
		assert_int_equal(err.sys_errno, ENOENT);
	}
	/* discovery needs the spool directory */
	m2d_config_set(&cfg.spool_dir, "/nonexistent/spool");
	assert_int_equal(plan_build(&cfg, NULL, &plan, &err), -1);
	assert_int_equal(err.code, M2D_ERR_SYS);
	m2d_config_free(&cfg);
}

static void test_owner(void **state)
{
	const char *users[] = { "fred", "mary", NULL };
	struct plan_source src = { .users = users, .userlist = NULL, .folderlist = NULL };
	struct m2d_config cfg;
	struct m2d_error err;
	struct plan plan;
	char path[4096];
	struct passwd *root = getpwuid(0);

	(void)state;
	put_str("spool/fred", MBOX);
	mkdir_p("home/mary");
	pathf(path, sizeof(path), "spool/fred");
	if (geteuid() == 0)
		assert_int_equal(chown(path, 4321, 8765), 0);
	pathf(path, sizeof(path), "home/mary");
	if (geteuid() == 0)
		assert_int_equal(chown(path, 1234, 5678), 0);
	config(&cfg);
	build_ok(&cfg, &src, &plan);
	if (geteuid() == 0) {
		/* not in passwd: owner of the inbox, else of the home */
		assert_int_equal(plan.users[0].uid, 4321);
		assert_int_equal(plan.users[0].gid, 8765);
		assert_int_equal(plan.users[1].uid, 1234);
		assert_int_equal(plan.users[1].gid, 5678);
	}
	plan_free(&plan);

	m2d_config_set(&cfg.owner, "77:88");
	build_ok(&cfg, &src, &plan);
	assert_int_equal(plan.users[0].uid, 77);
	assert_int_equal(plan.users[1].gid, 88);
	plan_free(&plan);

	if (root != NULL) {
		m2d_config_set(&cfg.owner, root->pw_name);
		build_ok(&cfg, &src, &plan);
		assert_int_equal(plan.users[0].uid, 0);
		plan_free(&plan);
	}
	m2d_config_set(&cfg.owner, "no-such-user-m2d");
	assert_int_equal(plan_build(&cfg, &src, &plan, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);

	/* no homes_dir and not in passwd: no home, only the inbox; mary
	   has neither: unknown */
	m2d_config_set(&cfg.owner, "inbox");
	m2d_config_set(&cfg.homes_dir, NULL);
	assert_int_equal(plan_build(&cfg, &src, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "mary"));
	users[1] = NULL;
	build_ok(&cfg, &src, &plan);
	assert_null(plan.users[0].home);
	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	assert_int_equal(plan.nfolders, 1);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

/* Users from passwd: the machine's own accounts in a UID range. */
static void test_passwd_users(void **state)
{
	struct m2d_config cfg;
	struct plan plan;
	struct passwd *root = getpwuid(0);

	(void)state;
	if (root == NULL)
		skip();
	put_str("spool/fred", MBOX);
	put_str("spool/root", MBOX);	/* in passwd, uid 0 */
	config(&cfg);
	/* root's spool file is a system account's, fred is in no passwd:
	 * neither is a user, both are reported */
	build_ok(&cfg, NULL, &plan);
	assert_int_equal(plan.nusers, 0);
	assert_int_equal(plan.nstrays, 2);
	assert_non_null(strstr(stray(&plan, "spool/root")->reason,
			       "system account"));
	assert_non_null(strstr(stray(&plan, "spool/fred")->reason,
			       "passwd"));
	plan_free(&plan);
	/* uid 0..0: root from passwd, its home from homes_dir */
	cfg.uid_min = 0;
	cfg.uid_max = 0;
	build_ok(&cfg, NULL, &plan);
	assert_int_equal(plan.nusers, 1);
	assert_string_equal(plan.users[0].name, root->pw_name);
	assert_int_equal(plan.users[0].uid, 0);
	assert_non_null(stray(&plan, "spool/fred"));
	if (geteuid() == 0)	/* root's own file */
		expect_taken(&plan, "root/INBOX", "INBOX", "");
	else
		expect_skip(&plan, "root/INBOX", PLAN_SKIP_OWNER);
	plan_free(&plan);
	/* without homes_dir: the passwd home */
	m2d_config_set(&cfg.homes_dir, NULL);
	m2d_config_set(&cfg.folder_roots[0], "~/no-such-dir-m2d");
	cfg.nroots = 1;
	m2d_config_set(&cfg.folder_roots[1], NULL);
	build_ok(&cfg, NULL, &plan);
	assert_string_equal(plan.users[0].home, root->pw_dir);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

/*
 * In a mode 1777 spool, fred (uid 5001) creates
 * SPOOL/mary for mary (uid 5002), who has no spool file: refused with
 * both owners named, never mary's INBOX; nor does it give mary its owner
 * ("owner = inbox").  In a home: the user's files and root's readable
 * ones are taken, another user's and root's unreadable ones refused.
 * Hard links: the user's own file with two is taken (nobody can keep it
 * out by linking it), root's with two is refused; fred's SPOOL/fred
 * linked as SPOOL/mary is fred's file: refused as mary's inbox.
 */
static void test_ownership(void **state)
{
	const char *users[] = { "fred", "mary", NULL };
	struct plan_source src = { .users = users, .userlist = NULL,
				   .folderlist = NULL };
	struct m2d_config cfg;
	struct plan plan;
	const struct plan_folder *f;
	char path[4096], path2[4096];

	(void)state;
	if (geteuid() != 0)
		skip();
	put_str("root/etc/passwd",
		"fred:x:5001:5001::/home/fred:/bin/sh\n"
		"mary:x:5002:5002::/home/mary:/bin/sh\n");
	put_str("spool/fred", MBOX);
	put_str("spool/mary", "From fred Tue Nov  9 10:11:12 2004\n"
		"Subject: from your bank\n\nforged\n\n");
	put_str("home/mary/mail/Sent", MBOX);
	put_str("home/mary/mail/planted", MBOX);
	put_str("home/mary/mail/restored", MBOX);
	put_str("home/mary/mail/secret", MBOX);
	put_str("home/mary/mail/linked", MBOX);
	put_str("home/mary/mail/rootlinked", MBOX);
	pathf(path, sizeof(path), "spool");
	assert_int_equal(chmod(path, 01777), 0);
	pathf(path, sizeof(path), "spool/fred");
	assert_int_equal(chown(path, 5001, 5001), 0);
	pathf(path, sizeof(path), "spool/mary");	/* made by fred */
	assert_int_equal(chown(path, 5001, 5001), 0);
	pathf(path, sizeof(path), "home/mary");
	assert_int_equal(chown(path, 5002, 5002), 0);
	pathf(path, sizeof(path), "home/mary/mail");
	assert_int_equal(chown(path, 5002, 5002), 0);
	pathf(path, sizeof(path), "home/mary/mail/Sent");
	assert_int_equal(chown(path, 5002, 5002), 0);
	pathf(path, sizeof(path), "home/mary/mail/planted");
	assert_int_equal(chown(path, 5001, 5001), 0);
	pathf(path, sizeof(path), "home/mary/mail/restored");	/* root's */
	assert_int_equal(chmod(path, 0644), 0);
	pathf(path, sizeof(path), "home/mary/mail/secret");	/* root's */
	assert_int_equal(chmod(path, 0600), 0);
	pathf(path, sizeof(path), "home/mary/mail/linked");
	assert_int_equal(chown(path, 5002, 5002), 0);
	pathf(path2, sizeof(path2), "linked-elsewhere");
	assert_int_equal(link(path, path2), 0);
	pathf(path, sizeof(path), "home/mary/mail/rootlinked");
	assert_int_equal(chmod(path, 0644), 0);
	pathf(path2, sizeof(path2), "rootlinked-elsewhere");
	assert_int_equal(link(path, path2), 0);

	config(&cfg);
	pathf(path, sizeof(path), "root");
	m2d_config_set(&cfg.accounts_root, path);
	cfg.uid_min = 5001;
	cfg.uid_max = 5002;
	m2d_config_set(&cfg.owner, "inbox");
	build_ok(&cfg, &src, &plan);
	dump(&plan);
	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	expect_skip(&plan, "mary/INBOX", PLAN_SKIP_OWNER);
	f = get(&plan, "mary/INBOX");
	assert_non_null(strstr(f->reason, "uid 5001 (fred)"));
	assert_non_null(strstr(f->reason, "not by mary, uid 5002 (mary)"));
	/* the forged inbox gives mary no owner */
	assert_int_equal(plan.users[1].uid, 5002);
	assert_int_equal(plan.users[1].src_uid, 5002);
	expect_taken(&plan, "mary/mail/Sent", "Sent", ".Sent");
	expect_skip(&plan, "mary/mail/planted", PLAN_SKIP_OWNER);
	expect_taken(&plan, "mary/mail/restored", "restored", ".restored");
	expect_skip(&plan, "mary/mail/secret", PLAN_SKIP_OWNER);
	expect_taken(&plan, "mary/mail/linked", "linked", ".linked");
	expect_skip(&plan, "mary/mail/rootlinked", PLAN_SKIP_LINKS);
	plan_free(&plan);

	/* the same from discovery; SPOOL/mary now a hard link to fred's
	 * inbox: fred's file, two links; his own inbox is still his */
	pathf(path, sizeof(path), "spool/mary");
	assert_int_equal(unlink(path), 0);
	pathf(path2, sizeof(path2), "spool/fred");
	assert_int_equal(link(path2, path), 0);
	build_ok(&cfg, NULL, &plan);
	assert_int_equal(plan.nusers, 2);
	expect_taken(&plan, "fred/INBOX", "INBOX", "");
	expect_skip(&plan, "mary/INBOX", PLAN_SKIP_OWNER);
	plan_free(&plan);
	m2d_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_is_mbox, setup, teardown),
		cmocka_unit_test(test_skip_str),
		cmocka_unit_test_setup_teardown(test_discover, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbox_without_home_root,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_skips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_symlink, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deepest_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_absolute_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lists_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_folderlist_skips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ownership, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_passwd_users, setup,
						teardown),
	};

	alarm(60);	/* a FIFO opened by mistake must not hang the run */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
