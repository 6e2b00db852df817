/* SPDX-License-Identifier: MIT */
/* test-verify.c - verify finds every way a maildir can differ from its mbox */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "hash.h"
#include "verify.h"

#define MBOX \
	"From MAILER-DAEMON Tue Nov  9 10:00:00 2004\n" \
	"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n" \
	"X-IMAP: 1100000000 0000000020\nStatus: RO\n\ninternal\n\n" \
	"From a@example.com Tue Nov  9 10:11:12 2004\n" \
	"Subject: one\nStatus: RO\nX-UID: 7\n\nbody one\n\n" \
	"From b@example.com Wed Nov 10 08:00:00 2004\n" \
	"Subject: two\nStatus: O\nX-Status: F\nX-UID: 9\n\nbody two\n\n"

static char top[64], mbox[128], md[128], cur[160];

static int setup(void **state)
{
	struct convert_settings set;
	struct convert_stats st;
	struct m2d_error err;
	FILE *f;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	strcpy(top, "/tmp/m2d-test-verify.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(mbox, sizeof(mbox), "%s/Sent", top);
	snprintf(md, sizeof(md), "%s/md", top);
	snprintf(cur, sizeof(cur), "%s/md/.Sent/cur", top);
	f = fopen(mbox, "w");
	fputs(MBOX, f);
	fclose(f);
	memset(&set, 0, sizeof(set));
	set.folder = "Sent";
	set.uid = set.gid = -1;
	return convert_folder(mbox, md, &set, &st, &err);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* The path of the message file whose name contains NEEDLE. */
static const char *file_with(const char *needle)
{
	static char path[512];
	struct dirent *d;
	DIR *dir = opendir(cur);

	assert_non_null(dir);
	path[0] = '\0';
	while ((d = readdir(dir)) != NULL) {
		if (strstr(d->d_name, needle) != NULL) {
			snprintf(path, sizeof(path), "%s/%s", cur, d->d_name);
			break;
		}
	}
	closedir(dir);
	assert_true(path[0] != '\0');
	return path;
}

static void test_identical(void **state)
{
	struct verify_result r;
	struct m2d_error err;

	(void)state;
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 0);
	assert_int_equal(r.source_messages, 2);
	assert_int_equal(r.target_messages, 2);
}

static void test_bytes_changed(void **state)
{
	struct verify_result r;
	struct m2d_error err;
	struct stat st;
	const char *p = file_with(":2,S");
	FILE *f;

	(void)state;
	assert_int_equal(stat(p, &st), 0);
	f = fopen(p, "r+");
	fputs("X", f);		/* same size, other bytes */
	fclose(f);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_int_equal(r.differences, 1);
	assert_non_null(strstr(r.first, "bytes"));
}

static void test_flags_changed(void **state)
{
	struct verify_result r;
	struct m2d_error err;
	char to[600];
	const char *p = file_with(":2,F");

	(void)state;
	snprintf(to, sizeof(to), "%.*s:2,", (int)(strstr(p, ":2,") - p), p);
	assert_int_equal(rename(p, to), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "flags"));
}

static void test_message_missing(void **state)
{
	struct verify_result r;
	struct m2d_error err;

	(void)state;
	assert_int_equal(unlink(file_with(":2,F")), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "no file"));
}

static void test_no_target(void **state)
{
	struct verify_result r;
	struct m2d_error err;

	(void)state;
	assert_int_equal(verify_folder(mbox, md, ".Other", false, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_SYS);
}

/* The checksum is the same whatever pieces the bytes come in. */
static void test_hash_chunking(void **state)
{
	char data[300];
	uint64_t whole;
	struct m2d_hash h;
	size_t i, step;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	m2d_hash_init(&h);
	m2d_hash_update(&h, data, sizeof(data));
	whole = m2d_hash_final(&h);
	for (step = 1; step <= 17; step++) {
		m2d_hash_init(&h);
		for (i = 0; i < sizeof(data); i += step)
			m2d_hash_update(&h, data + i, i + step > sizeof(data) ?
					sizeof(data) - i : step);
		assert_true(m2d_hash_final(&h) == whole);
	}
	/* and it sees a change */
	data[150] ^= 1;
	m2d_hash_init(&h);
	m2d_hash_update(&h, data, sizeof(data));
	assert_true(m2d_hash_final(&h) != whole);
}


static void put_text(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What a user can plant in the maildir (verify runs as root) ends verify
 * at once, and it says why (an alarm ends a hang). */
static void test_hostile(void **state)
{
	struct verify_result r;
	struct m2d_error err;
	char uidlist[200], saved[220], target[600];
	const char *p = file_with(":2,S");
	int fd;

	(void)state;
	alarm(20);
	/* a FIFO as dovecot-uidlist: refused, named */
	snprintf(uidlist, sizeof(uidlist), "%s/.Sent/dovecot-uidlist", md);
	snprintf(saved, sizeof(saved), "%s.saved", uidlist);
	assert_int_equal(rename(uidlist, saved), 0);
	assert_int_equal(mkfifo(uidlist, 0600), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), -1);
	assert_string_equal(err.path, uidlist);
	assert_non_null(strstr(err.msg, "FIFO"));
	assert_int_equal(unlink(uidlist), 0);
	/* a symlink as dovecot-uidlist: not followed */
	assert_int_equal(symlink(saved, uidlist), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), -1);
	assert_string_equal(err.path, uidlist);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(unlink(uidlist), 0);
	assert_int_equal(rename(saved, uidlist), 0);

	/* a FIFO as a message file: a difference that names it */
	snprintf(target, sizeof(target), "%s", p);
	assert_int_equal(unlink(target), 0);
	assert_int_equal(mkfifo(target, 0600), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "FIFO"));
	assert_non_null(strstr(r.first, target));
	assert_int_equal(unlink(target), 0);
	/* a sparse giant as a message file: not read, it differs */
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 700L << 20), 0);
	close(fd);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "734003200 bytes"));

	assert_int_equal(unlink(target), 0);
	/* a FIFO no uidlist line names: a difference that names it */
	snprintf(target, sizeof(target), "%s/1700000002.fifo\n:2,S", cur);
	assert_int_equal(mkfifo(target, 0600), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "1700000002.fifo\n:2,S: not a "
			       "regular file"));
	assert_int_equal(unlink(target), 0);

	/* a FIFO as dovecot-keywords: said */
	snprintf(target, sizeof(target), "%s/.Sent/dovecot-keywords", md);
	unlink(target);
	assert_int_equal(mkfifo(target, 0600), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "dovecot-keywords: is a FIFO"));
	assert_int_equal(unlink(target), 0);

	/* a message no uidlist line names (planted, or delivered since) */
	snprintf(target, sizeof(target), "%s/1700000003.M1P1.planted:2,S", cur);
	put_text(target, "Subject: planted\n\nx\n");
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), 1);
	assert_non_null(strstr(r.first, "1700000003.M1P1.planted:2,S: a file "
			       "no line of dovecot-uidlist names"));
	assert_int_equal(unlink(target), 0);

	/* the folder a symlink (to another user's): not followed */
	snprintf(saved, sizeof(saved), "%s/other", top);
	snprintf(uidlist, sizeof(uidlist), "%s/.Sent", md);
	assert_int_equal(rename(uidlist, saved), 0);
	assert_int_equal(symlink(saved, uidlist), 0);
	assert_int_equal(verify_folder(mbox, md, ".Sent", false, &r, &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_changed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags_changed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_message_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_target, setup, teardown),
		cmocka_unit_test(test_hash_chunking),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
