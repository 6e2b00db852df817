/* SPDX-License-Identifier: MIT */
/* test-clear.c - migrate_clear() removes only what mbox2dovecot made:
 * a message delivered or planted since, a FIFO, a symlink or a hard link
 * in a folder stop it, named, and nothing is removed (a user's file is
 * never removed by root, however it got there). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "migrate.h"
#include "safe-file.h"
#include "test-util.h"

static char dir[256];
static char ours[2][200];

static char *path(const char *rel)
{
	static char buf[8][1024];
	static int n;
	char *p = buf[n++ % 8];

	snprintf(p, 1024, "%s/%s", dir, rel);
	return p;
}

static int setup(void **state)
{
	static const char *const dirs[] = {
		"target", "target/u1", "target/u1/cur", "target/u1/new",
		"target/u1/tmp", "target/u1/.Sent", "target/u1/.Sent/cur",
		"target/u1/.Sent/new", "target/u1/.Sent/tmp", "work",
	};
	struct journal *j;
	struct journal_folder f;
	struct m2d_error err;
	char name[128], rel[300];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m2d-test-clear-XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(mkdir(path(dirs[i]), 0700), 0);
	/* our messages, one renamed by Dovecot (size, flags) */
	sf_unique_name(name, sizeof(name));
	snprintf(ours[0], sizeof(ours[0]), "target/u1/cur/%s,S=6:2,S", name);
	put(path(ours[0]), "hello\n");
	sf_unique_name(name, sizeof(name));
	snprintf(ours[1], sizeof(ours[1]), "target/u1/.Sent/new/%s", name);
	put(path(ours[1]), "sent\n");
	put(path("target/u1/dovecot-uidlist"), "3 V1 N2\n1 :x\n");
	put(path("target/u1/subscriptions"), "Sent\n");
	put(path("target/u1/.Sent/dovecot-uidlist"), "3 V2 N2\n");
	put(path("target/u1/.Sent/maildirfolder"), "");
	snprintf(rel, sizeof(rel), "target/u1/tmp/m2d-stage.%d.x", 99999);
	assert_int_equal(mkdir(path(rel), 0700), 0);

	assert_int_equal(journal_open(path("work"), &j, &err), 0);
	assert_int_equal(journal_user_created(j, "u1", path("target/u1"),
					      &err), 0);
	memset(&f, 0, sizeof(f));
	f.user = "u1";
	f.listed = "u1/INBOX";
	f.target = path("target/u1");
	f.dirname = "";
	f.source.checksum = 1;
	f.messages = 1;
	f.nextuid = 2;
	assert_int_equal(journal_done(j, &f, &err), 0);
	f.listed = "u1/mail/Sent";
	f.dirname = ".Sent";
	assert_int_equal(journal_done(j, &f, &err), 0);
	journal_close(&j);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int clear(struct m2d_error *err)
{
	struct journal *j;
	int rc;

	assert_int_equal(journal_open(path("work"), &j, err), 0);
	rc = migrate_clear(path("target"), j, err);
	journal_close(&j);
	return rc;
}

static void test_ours_removed(void **state)
{
	struct m2d_error err;

	(void)state;
	assert_int_equal(clear(&err), 0);
	assert_int_equal(access(path("target/u1"), F_OK), -1);
}

/* Each of these stops it, names the file, removes nothing. */
static void test_foreign_refused(void **state)
{
	static const struct {
		const char *rel, *kind, *said;
	} cases[] = {
		{ "target/u1/cur/1700000000.M1P1.mailhost:2,S", "file",
		  "not a message mbox2dovecot wrote" },
		{ "target/u1/.Sent/new/1700000001.V801I2.mailhost", "file",
		  "not a message mbox2dovecot wrote" },
		{ "target/u1/tmp/1700000002.M3P4.mailhost", "file",
		  "not a message mbox2dovecot wrote" },
		{ "target/u1/dovecot-keywords", "fifo", "symlink, FIFO" },
		{ "target/u1/.Sent/dovecot-uidlist.x", "link",
		  "symlink, FIFO" },
		{ "target/u1/.Sent/notes.txt", "file", "an unknown file" },
		{ "HARDLINK", "hard", "not a message mbox2dovecot wrote" },
		{ "target/u1/.Sent/dovecot-uidlist", "sparse",
		  "a sparse file" },
		{ "target/u1/subscriptions", "linked",
		  "a file with other hard links" },
		{ "target/u1/dovecot-keywords", "big",
		  "larger than any file mbox2dovecot writes" },
	};
	struct m2d_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *rel = cases[i].rel;
		char copy[300];

		if (strcmp(cases[i].kind, "file") == 0) {
			put(path(rel), "From: x\n\nmail\n");
		} else if (strcmp(cases[i].kind, "fifo") == 0) {
			assert_int_equal(mkfifo(path(rel), 0600), 0);
		} else if (strcmp(cases[i].kind, "link") == 0) {
			assert_int_equal(symlink("/etc/shadow", path(rel)), 0);
		} else if (strcmp(cases[i].kind, "sparse") == 0) {
			snprintf(copy, sizeof(copy), "%s.saved", path(rel));
			assert_int_equal(rename(path(rel), copy), 0);
			assert_int_equal(truncate(copy, 0), 0);
			put(path(rel), "");
			assert_int_equal(truncate(path(rel), 10L << 20), 0);
		} else if (strcmp(cases[i].kind, "big") == 0) {
			put(path(rel), "0 Kw\n");
			assert_int_equal(truncate(path(rel), 2L << 20), 0);
		} else if (strcmp(cases[i].kind, "linked") == 0) {
			snprintf(copy, sizeof(copy), "%s/elsewhere", dir);
			assert_int_equal(link(path(rel), copy), 0);
		} else {
			/* one of ours with a second link (from elsewhere) */
			rel = ours[0];
			snprintf(copy, sizeof(copy), "%s/elsewhere", dir);
			assert_int_equal(link(path(rel), copy), 0);
		}
		assert_int_equal(clear(&err), -1);
		assert_int_equal(err.code, M2D_ERR_EXISTS);
		assert_non_null(strstr(err.msg, cases[i].said));
		assert_non_null(strstr(err.msg, "nothing was removed"));
		assert_string_equal(err.path, path(rel));
		assert_int_equal(access(path(ours[0]), F_OK), 0);
		assert_int_equal(access(path(ours[1]), F_OK), 0);
		if (strcmp(cases[i].kind, "hard") == 0 ||
		    strcmp(cases[i].kind, "linked") == 0) {
			assert_int_equal(unlink(copy), 0);
		} else if (strcmp(cases[i].kind, "sparse") == 0) {
			assert_int_equal(rename(copy, path(rel)), 0);
		} else {
			assert_int_equal(unlink(path(rel)), 0);
		}
	}
	assert_int_equal(clear(&err), 0);
	assert_int_equal(access(path("target/u1"), F_OK), -1);
}

/* A hard link planted in one folder to a message of ours in another is
 * named where it was planted (by its name), not at its other end, which
 * is checked first (H5-10: the other end may be another user's). */
static void test_planted_link_named(void **state)
{
	const char *planted = "target/u1/.Sent/cur/1700000005.linked:2,S";
	struct m2d_error err;

	(void)state;
	assert_int_equal(link(path(ours[0]), path(planted)), 0);
	assert_int_equal(clear(&err), -1);
	assert_int_equal(err.code, M2D_ERR_EXISTS);
	assert_string_equal(err.path, path(planted));
	assert_non_null(strstr(err.msg, "nothing was removed"));
	assert_int_equal(access(path(ours[0]), F_OK), 0);
	assert_int_equal(unlink(path(planted)), 0);
	assert_int_equal(clear(&err), 0);
}

/* A directory the journal does not name, beside the user roots (in a
 * hashed layout too) or among a root's folders, stops it, named; the
 * empty hash directory goes with the last root in it. */
static void test_foreign_dir_refused(void **state)
{
	static const char *const dirs[] = {
		"target/h", "target/h/u2", "target/h/u2/cur",
		"target/h/u2/new", "target/h/u2/tmp",
	};
	static const struct {
		const char *planted, *where, *name;
	} cases[] = {
		{ "target/stranger", "target", "stranger" },
		{ "target/h/other", "target/h", "other" },
		{ "target/h-x", "target", "h-x" },
		{ "target/h/u2x", "target/h", "u2x" },
		{ "target/u1/.Foreign", "target/u1", ".Foreign" },
	};
	struct journal *j;
	struct journal_folder f;
	struct m2d_error err;
	char said[64];

	(void)state;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(mkdir(path(dirs[i]), 0700), 0);
	assert_int_equal(journal_open(path("work"), &j, &err), 0);
	assert_int_equal(journal_user_created(j, "u2", path("target/h/u2"),
					      &err), 0);
	memset(&f, 0, sizeof(f));
	f.user = "u2";
	f.listed = "u2/INBOX";
	f.target = path("target/h/u2");
	f.dirname = "";
	f.source.checksum = 1;
	assert_int_equal(journal_done(j, &f, &err), 0);
	journal_close(&j);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mkdir(path(cases[i].planted), 0700), 0);
		assert_int_equal(clear(&err), -1);
		assert_int_equal(err.code, M2D_ERR_EXISTS);
		assert_string_equal(err.path, path(cases[i].where));
		snprintf(said, sizeof(said), "\"%s\"", cases[i].name);
		assert_non_null(strstr(err.msg, said));
		assert_int_equal(access(path(ours[0]), F_OK), 0);
		assert_int_equal(access(path("target/h/u2/cur"), F_OK), 0);
		assert_int_equal(rmdir(path(cases[i].planted)), 0);
	}
	assert_int_equal(clear(&err), 0);
	assert_int_equal(access(path("target/u1"), F_OK), -1);
	assert_int_equal(access(path("target/h"), F_OK), -1);
	assert_int_equal(access(path("target"), F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ours_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_planted_link_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_dir_refused, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
