/* SPDX-License-Identifier: MIT */
/* test-journal.c - the migration journal survives kills and odd names */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/m2d-test-journal.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct journal_folder done_folder(const char *user, const char *listed)
{
	struct journal_folder f;

	memset(&f, 0, sizeof(f));
	f.user = (char *)user;
	f.listed = (char *)listed;
	f.target = (char *)"/data/mail2/alice";
	f.dirname = (char *)".Sent";
	f.source.dev = 2049;
	f.source.ino = 1234567;
	f.source.size = 987654321;
	f.source.mtime_sec = 1100000000;
	f.source.mtime_nsec = 123456789;
	f.source.checksum = 0xfedcba9876543210ULL;
	f.messages = 42;
	f.uidvalidity = 1100000000;
	f.nextuid = 77;
	return f;
}

static void test_replay(void **state)
{
	struct journal *j;
	struct journal_folder f = done_folder("alice", "alice/mail/Sent"), got;
	struct m2d_error err;

	(void)state;
	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_user_created(j, "alice", "/data/mail2/alice",
					      &err), 0);
	assert_int_equal(journal_converting(j, "alice", "alice/mail/Sent",
					    f.target, f.dirname, &err), 0);
	assert_int_equal(journal_find(j, "alice", "alice/mail/Sent", &got), 1);
	assert_int_equal(got.state, JOURNAL_CONVERTING);
	journal_folder_free(&got);
	assert_int_equal(journal_done(j, &f, &err), 0);
	journal_close(&j);

	/* a new process sees the same state */
	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_find(j, "alice", "alice/mail/Sent", &got), 1);
	assert_int_equal(got.state, JOURNAL_DONE);
	assert_int_equal(got.source.dev, 2049);
	assert_int_equal(got.source.ino, 1234567);
	assert_int_equal(got.source.size, 987654321);
	assert_int_equal(got.source.mtime_nsec, 123456789);
	assert_true(got.source.checksum == 0xfedcba9876543210ULL);
	assert_int_equal(got.messages, 42);
	assert_int_equal(got.nextuid, 77);
	assert_string_equal(got.dirname, ".Sent");
	journal_folder_free(&got);
	assert_int_equal(journal_find(j, "alice", "alice/mail/Other", &got), 0);
	journal_close(&j);
}

/* A kill during a write leaves a torn last line: it never happened. */
static void test_torn_line(void **state)
{
	struct journal *j;
	struct journal_folder f = done_folder("bob", "bob/INBOX"), got;
	struct m2d_error err;
	char path[128];
	int fd;

	(void)state;
	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_done(j, &f, &err), 0);
	journal_close(&j);
	snprintf(path, sizeof(path), "%s/journal", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "F\tbob\tbob/IN", 12), 12);
	close(fd);

	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_find(j, "bob", "bob/INBOX", &got), 1);
	journal_folder_free(&got);
	/* and the next line written is whole */
	assert_int_equal(journal_forget(j, "bob", "bob/INBOX", &err), 0);
	journal_close(&j);
	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_find(j, "bob", "bob/INBOX", &got), 0);
	journal_close(&j);
}

/* Hostile folder names cannot break the file's lines. */
static void test_escaping(void **state)
{
	static const char *const names[] = {
		"eve/mail/tab\there", "eve/mail/new\nline", "eve/back\\slash",
		"eve/\\t literally", "eve/\xff\xfe latin",
	};
	struct journal *j;
	struct m2d_error err;
	size_t i;

	(void)state;
	assert_int_equal(journal_open(dir, &j, &err), 0);
	for (i = 0; i < 5; i++) {
		struct journal_folder f = done_folder("eve", names[i]);

		assert_int_equal(journal_done(j, &f, &err), 0);
	}
	journal_close(&j);
	assert_int_equal(journal_open(dir, &j, &err), 0);
	for (i = 0; i < 5; i++) {
		struct journal_folder got;

		assert_int_equal(journal_find(j, "eve", names[i], &got), 1);
		assert_string_equal(got.listed, names[i]);
		journal_folder_free(&got);
	}
	/* compacting keeps exactly the state */
	assert_int_equal(journal_forget(j, "eve", names[0], &err), 0);
	assert_int_equal(journal_compact(j, &err), 0);
	journal_close(&j);
	assert_int_equal(journal_open(dir, &j, &err), 0);
	{
		struct journal_folder *list;
		size_t n = journal_folders(j, &list);

		assert_int_equal(n, 4);
		journal_folders_free(list, n);
	}
	journal_close(&j);
}

static void test_garbage_is_an_error(void **state)
{
	struct journal *j;
	struct m2d_error err;
	char path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "w");
	fputs("# mbox2dovecot journal 1\nU\tann\t/t/ann\nZ\tgarbage\n", f);
	fclose(f);
	assert_int_equal(journal_open(dir, &j, &err), -1);
	assert_int_equal(err.code, M2D_ERR_MALFORMED);
	assert_int_equal(err.line, 3);

	/* a NUL byte is damage too, not the end of the journal */
	f = fopen(path, "w");
	fputs("# mbox2dovecot journal 1\nU\tann\t/t/ann\n", f);
	fputc('\0', f);
	fputs("U\tbob\t/t/bob\n", f);
	fclose(f);
	assert_int_equal(journal_open(dir, &j, &err), -1);
	assert_int_equal(err.code, M2D_ERR_MALFORMED);
	assert_int_equal(err.line, 3);
}


static void write_journal(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Names are data a user chose: every byte of one (but NUL) stays in its
 * field; the journal holds no raw control byte; names come back
 * exactly. */
static void test_control_bytes(void **state)
{
	static const char *const names[] = {
		"alice/mail/evil\nD\tforged", "alice/mail/cr\rhere",
		"alice/mail/\x01\x1b[2J\x7f", "alice/mail/back\\slash\\n",
		"alice/mail/Old Mail",
	};
	struct journal *j;
	struct journal_folder f, got;
	struct m2d_error err;
	char path[128], *text;
	size_t len = 0;
	FILE *in;

	(void)state;
	assert_int_equal(journal_open(dir, &j, &err), 0);
	for (size_t i = 0; i < 5; i++) {
		f = done_folder("alice", names[i]);
		assert_int_equal(journal_done(j, &f, &err), 0);
	}
	journal_close(&j);
	snprintf(path, sizeof(path), "%s/journal", dir);
	in = fopen(path, "r");
	text = calloc(1, 65536);
	len = fread(text, 1, 65535, in);
	fclose(in);
	assert_true(len > 0);
	assert_memory_equal(text, "# mbox2dovecot journal 2\n", 25);
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)text[i] >= 0x20 ||
			    text[i] == '\t' || text[i] == '\n');
	free(text);
	assert_int_equal(journal_open(dir, &j, &err), 0);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(journal_find(j, "alice", names[i], &got), 1);
		assert_string_equal(got.listed, names[i]);
		journal_folder_free(&got);
	}
	journal_close(&j);
}

/* The reader takes only what the writer writes: an unknown escape, a raw
 * control byte in version 2, a number with a sign or a tail. */
static void test_strict_reader(void **state)
{
	static const char *const bad[] = {
		"# mbox2dovecot journal 2\nU\tann\t/t/a\\qnn\n",
		"# mbox2dovecot journal 2\nU\tann\t/t/a\rnn\n",
		"# mbox2dovecot journal 2\nU\tann\t/t/ann\\x00\n",
		"# mbox2dovecot journal 2\nD\tann\tann/INBOX\t/t/ann\t\t"
		"1\t2\t-3\t4\t5\t0123456789abcdef\t6\t7\t8\n",
		"# mbox2dovecot journal 2\nD\tann\tann/INBOX\t/t/ann\t\t"
		"1\t2\t3\t4\t5\t0123456789abcdef\t6x\t7\t8\n",
		"# mbox2dovecot journal 2\nD\tann\tann/INBOX\t/t/ann\t\t"
		"1\t2\t3\t4\t5\t12345\t6\t7\t8\n",
	};
	struct journal *j;
	struct journal_folder got;
	struct m2d_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_journal(bad[i]);
		assert_int_equal(journal_open(dir, &j, &err), -1);
		assert_int_equal(err.code, M2D_ERR_MALFORMED);
		assert_int_equal(err.line, 2);
		assert_non_null(strstr(err.path, "/journal"));
	}
	/* version 1 (an earlier mbox2dovecot): raw control bytes were
	 * written then and are read; its escapes too; a date before 1970 */
	write_journal("# mbox2dovecot journal 1\nU\tann\t/t/a\rnn\n"
		      "D\tann\tann/x\\ty\t/t/ann\t.x\t1\t2\t3\t-4\t5\t"
		      "0123456789abcdef\t6\t7\t8\n");
	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_find(j, "ann", "ann/x\ty", &got), 1);
	assert_int_equal(got.source.mtime_sec, -4);
	journal_folder_free(&got);
	journal_close(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_an_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_control_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_strict_reader, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
