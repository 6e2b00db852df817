/* SPDX-License-Identifier: MIT */
/*
 * test-journal-faults.c - a full or failing disk under the journal and
 * under the stdio files of the maildir writer (dovecot-uidlist)
 *
 * write, fdatasync, fsync and renameat of the library go through the
 * __wrap_ functions below (-Wl,--wrap, see the Makefile), and so do
 * fflush and fclose, which the maildir writer calls on its uidlist
 * streams (glibc's own write below stdio cannot be wrapped).  Each fails
 * its Nth call on demand with ENOSPC or EIO; a "torn" write first writes
 * half of its bytes and fails the call after, as a disk filling up does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "maildir-writer.h"
#include "test-util.h"

/* ---- fault injection ---- */

enum fault_call { F_NONE, F_WRITE, F_FDATASYNC, F_FSYNC, F_RENAME, F_FFLUSH,
		  F_FCLOSE, F_MAX };

static enum fault_call fault_call;	/* which call fails */
static int fault_at;			/* its Nth call from now (1-based) */
static int fault_errno;
static bool fault_torn;			/* F_WRITE: half, then the error */
static bool torn_pending;
static int calls[F_MAX];

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fdatasync(int fd);
int __real_fsync(int fd);
int __real_renameat(int a, const char *b, int c, const char *d);
int __real_fflush(FILE *f);
int __real_fclose(FILE *f);

static void faults_off(void)
{
	fault_call = F_NONE;
	fault_at = 0;
	torn_pending = false;
	memset(calls, 0, sizeof(calls));
}

static void fault_on(enum fault_call call, int at, int e, bool torn)
{
	faults_off();
	fault_call = call;
	fault_at = at;
	fault_errno = e;
	fault_torn = torn;
}

/* True when this call of CALL is the one to fail. */
static bool fails(enum fault_call call)
{
	return fault_call == call && ++calls[call] == fault_at;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (torn_pending) {
		torn_pending = false;
		errno = fault_errno;
		return -1;
	}
	if (fails(F_WRITE)) {
		if (fault_torn && n > 1) {
			torn_pending = true;
			return __real_write(fd, buf, n / 2);
		}
		errno = fault_errno;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int __wrap_fdatasync(int fd)
{
	if (fails(F_FDATASYNC)) {
		errno = fault_errno;
		return -1;
	}
	return __real_fdatasync(fd);
}

int __wrap_fsync(int fd)
{
	if (fails(F_FSYNC)) {
		errno = fault_errno;
		return -1;
	}
	return __real_fsync(fd);
}

int __wrap_renameat(int a, const char *b, int c, const char *d)
{
	if (fails(F_RENAME)) {
		errno = fault_errno;
		return -1;
	}
	return __real_renameat(a, b, c, d);
}

int __wrap_fflush(FILE *f)
{
	if (fails(F_FFLUSH)) {
		errno = fault_errno;
		return EOF;
	}
	return __real_fflush(f);
}

/* The stream is closed either way (as fclose does when its flush fails). */
int __wrap_fclose(FILE *f)
{
	if (fails(F_FCLOSE)) {
		__real_fclose(f);
		errno = fault_errno;
		return EOF;
	}
	return __real_fclose(f);
}

/* ---- a scratch directory ---- */

static char dir[64];
static char jpath[96];

static int setup(void **state)
{
	(void)state;
	faults_off();
	strcpy(dir, "/tmp/m2d-test-jfaults.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(jpath, sizeof(jpath), "%s/journal", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	faults_off();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* How many entries besides . and .. the directory PATH has (-1 absent). */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* ---- the journal ---- */

static struct journal_folder folder(const char *listed, unsigned long msgs)
{
	struct journal_folder f;

	memset(&f, 0, sizeof(f));
	f.user = (char *)"alice";
	f.listed = (char *)listed;
	f.target = (char *)"/data/mail2/alice";
	f.dirname = (char *)".Sent";
	f.state = JOURNAL_DONE;
	f.source.dev = 2049;
	f.source.ino = 4242;
	f.source.size = 12345;
	f.source.mtime_sec = 1100000000;
	f.source.checksum = 0x0123456789abcdefULL;
	f.messages = msgs;
	f.uidvalidity = 1100000000;
	f.nextuid = msgs + 1;
	return f;
}

/* A journal with a user, a done folder, a folder being converted and a
 * forgotten one (so that compaction has something to drop). */
static struct journal *base_journal(void)
{
	struct journal_folder sent = folder("alice/mail/Sent", 3);
	struct journal_folder old = folder("alice/mail/Old", 1);
	struct journal *j;
	struct m2d_error err;

	assert_int_equal(journal_open(dir, &j, &err), 0);
	assert_int_equal(journal_user_created(j, "alice", "/data/mail2/alice",
					      &err), 0);
	assert_int_equal(journal_converting(j, "alice", "alice/mail/Sent",
					    sent.target, ".Sent", &err), 0);
	assert_int_equal(journal_done(j, &sent, &err), 0);
	assert_int_equal(journal_done(j, &old, &err), 0);
	assert_int_equal(journal_forget(j, "alice", "alice/mail/Old", &err),
			 0);
	assert_int_equal(journal_converting(j, "alice", "alice/INBOX",
					    sent.target, "", &err), 0);
	assert_int_equal(journal_sync(j, &err), 0);
	return j;
}

/* The base state, whatever the file looks like. */
static void assert_base_state(struct journal *j)
{
	struct journal_folder got;
	struct journal_user *users;
	size_t n;

	assert_int_equal(journal_find(j, "alice", "alice/mail/Sent", &got), 1);
	assert_int_equal(got.state, JOURNAL_DONE);
	assert_int_equal(got.messages, 3);
	journal_folder_free(&got);
	assert_int_equal(journal_find(j, "alice", "alice/INBOX", &got), 1);
	assert_int_equal(got.state, JOURNAL_CONVERTING);
	journal_folder_free(&got);
	assert_int_equal(journal_find(j, "alice", "alice/mail/Old", &got), 0);
	n = journal_users(j, &users);
	assert_int_equal(n, 1);
	assert_string_equal(users[0].user, "alice");
	journal_users_free(users, n);
}

/* A system error on the journal file itself, with the injected errno. */
static void assert_journal_error(const struct m2d_error *err, int e)
{
	assert_int_equal(err->code, M2D_ERR_SYS);
	assert_int_equal(err->sys_errno, e);
	assert_string_equal(err->path, jpath);
}

/* The operations that append a line, and the calls each can fail in. */
enum op { OP_USER, OP_CONVERTING, OP_DONE, OP_FORGET, OP_MAX };

static int do_op(struct journal *j, enum op op, struct m2d_error *err)
{
	struct journal_folder drafts = folder("alice/mail/Drafts", 7);

	switch (op) {
	case OP_USER:
		return journal_user_created(j, "bob", "/data/mail2/bob", err);
	case OP_CONVERTING:
		return journal_converting(j, "alice", "alice/mail/Drafts",
					  drafts.target, ".Drafts", err);
	case OP_DONE:
		return journal_done(j, &drafts, err);
	case OP_FORGET:
		return journal_forget(j, "alice", "alice/mail/Sent", err);
	case OP_MAX:
		break;
	}
	return -1;
}

/* What OP did is there (after it succeeded). */
static void assert_op_done(struct journal *j, enum op op)
{
	struct journal_folder got;
	struct journal_user *users;
	size_t n;

	switch (op) {
	case OP_USER:
		n = journal_users(j, &users);
		assert_int_equal(n, 2);
		journal_users_free(users, n);
		break;
	case OP_CONVERTING:
	case OP_DONE:
		assert_int_equal(journal_find(j, "alice", "alice/mail/Drafts",
					      &got), 1);
		assert_int_equal(got.state, op == OP_DONE ? JOURNAL_DONE :
				 JOURNAL_CONVERTING);
		journal_folder_free(&got);
		break;
	case OP_FORGET:
		assert_int_equal(journal_find(j, "alice", "alice/mail/Sent",
					      &got), 0);
		break;
	case OP_MAX:
		break;
	}
}

/*
 * Every append failing in write (at once or torn half-way) or in its
 * fdatasync, with ENOSPC and EIO: the error names the journal, the state
 * is the earlier one in memory and in the file (no torn line is taken as
 * valid, the file is byte for byte what it was), and once the fault is
 * gone the same journal goes on and a new process replays it all.
 */
static void test_append_faults(void **state)
{
	static const int errs[] = { ENOSPC, EIO };
	static const struct { enum fault_call call; bool torn; } kinds[] = {
		{ F_WRITE, false }, { F_WRITE, true }, { F_FDATASYNC, false },
	};
	size_t e, k;
	int op;

	(void)state;
	for (e = 0; e < 2; e++)
	for (k = 0; k < 3; k++)
	for (op = 0; op < OP_MAX; op++) {
		struct journal *j = base_journal();
		struct m2d_error err;
		char *before = slurp(jpath), *after;

		assert_non_null(before);
		fault_on(kinds[k].call, 1, errs[e], kinds[k].torn);
		if (do_op(j, (enum op)op, &err) == 0) {
			/* converting and done are not synced one by one */
			faults_off();
			assert_int_equal(kinds[k].call, F_FDATASYNC);
			assert_true(op == OP_CONVERTING || op == OP_DONE);
			journal_close(&j);
			free(before);
			unlink(jpath);
			continue;
		}
		faults_off();
		assert_journal_error(&err, errs[e]);
		assert_base_state(j);
		after = slurp(jpath);
		assert_string_equal(after, before);
		free(after);

		/* a new process sees the earlier state */
		{
			struct journal *j2;

			assert_int_equal(journal_open(dir, &j2, &err), 0);
			assert_base_state(j2);
			journal_close(&j2);
		}
		/* the fault is gone: the same journal goes on */
		assert_int_equal(do_op(j, (enum op)op, &err), 0);
		assert_op_done(j, (enum op)op);
		assert_int_equal(journal_sync(j, &err), 0);
		journal_close(&j);
		assert_int_equal(journal_open(dir, &j, &err), 0);
		assert_op_done(j, (enum op)op);
		journal_close(&j);
		free(before);
		unlink(jpath);
	}
}

/* journal_sync failing: named, and the next one works. */
static void test_sync_fault(void **state)
{
	static const int errs[] = { ENOSPC, EIO };
	size_t e;

	(void)state;
	for (e = 0; e < 2; e++) {
		struct journal *j = base_journal();
		struct m2d_error err;

		fault_on(F_FDATASYNC, 1, errs[e], false);
		assert_int_equal(journal_sync(j, &err), -1);
		faults_off();
		assert_journal_error(&err, errs[e]);
		assert_int_equal(journal_sync(j, &err), 0);
		journal_close(&j);
		assert_int_equal(journal_open(dir, &j, &err), 0);
		assert_base_state(j);
		journal_close(&j);
		unlink(jpath);
	}
}

/*
 * Compaction failing in any of its calls (writing the temp file, syncing
 * it, the rename, syncing after it): the error names the journal; before
 * the rename the old journal is in place byte for byte and no temp file
 * is left; either way the state is unchanged, appends go on into the file
 * that is in place, and a new process replays the same state.
 */
static void test_compact_faults(void **state)
{
	static const int errs[] = { ENOSPC, EIO };
	static const struct { enum fault_call call; int at; } kinds[] = {
		{ F_WRITE, 1 }, { F_FSYNC, 1 }, { F_RENAME, 1 },
		{ F_FSYNC, 2 }, { F_FSYNC, 3 },
	};
	size_t e, k;

	(void)state;
	for (e = 0; e < 2; e++)
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct journal *j = base_journal();
		struct m2d_error err;
		char *before = slurp(jpath), *after;
		int rc;

		assert_non_null(before);
		fault_on(kinds[k].call, kinds[k].at, errs[e], false);
		rc = journal_compact(j, &err);
		faults_off();
		if (rc == 0) {
			/* no such call: it came after the last one */
			assert_true(kinds[k].call == F_FSYNC);
		} else {
			assert_journal_error(&err, errs[e]);
		}
		/* nothing beside the journal */
		assert_int_equal(count_entries(dir), 1);
		after = slurp(jpath);
		/* failed before the rename (the temp file's write, its
		 * fsync, the rename): the old journal, byte for byte */
		if (rc != 0 && (kinds[k].call != F_FSYNC || kinds[k].at == 1))
			assert_string_equal(after, before);
		else if (rc == 0)
			assert_true(strlen(after) < strlen(before));
		free(after);
		assert_base_state(j);

		/* the journal goes on, into the file in place */
		assert_int_equal(do_op(j, OP_DONE, &err), 0);
		assert_int_equal(journal_sync(j, &err), 0);
		journal_close(&j);
		assert_int_equal(journal_open(dir, &j, &err), 0);
		assert_base_state(j);
		assert_op_done(j, OP_DONE);
		/* and compacts once the disk is well */
		assert_int_equal(journal_compact(j, &err), 0);
		journal_close(&j);
		assert_int_equal(journal_open(dir, &j, &err), 0);
		assert_base_state(j);
		assert_op_done(j, OP_DONE);
		journal_close(&j);
		free(before);
		unlink(jpath);
	}
}

/* ---- the maildir writer's dovecot-uidlist (stdio) ---- */

static const struct maildir_owner nobody_owner = { -1, -1 };

static void add_message(struct maildir_folder *f, unsigned long uid,
			bool recent)
{
	struct maildir_msg_info info;
	struct m2d_error err;
	char text[128];

	snprintf(text, sizeof(text), "From: a@b\nSubject: %lu\n\nbody %lu\n",
		 uid, uid);
	memset(&info, 0, sizeof(info));
	info.uid = uid;
	info.flags = recent ? 0 : MAILDIR_SEEN;
	info.recent = recent;
	info.date = 1100000000;
	assert_int_equal(maildir_msg_begin(f, &err), 0);
	assert_int_equal(maildir_msg_write(f, text, strlen(text), &err), 0);
	assert_int_equal(maildir_msg_finish(f, &info, &err), 0);
}

static char *mpath(const char *rel)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/md%s%s", dir, rel[0] ? "/" : "",
		 rel);
	return buf[i];
}

/* Messages visible in the folder DIRNAME ("" INBOX), cur/ and new/. */
static int visible(const char *dirname)
{
	char rel[64];
	int n = 0, c;

	snprintf(rel, sizeof(rel), "%s%scur", dirname, dirname[0] ? "/" : "");
	c = count_entries(mpath(rel));
	n += c > 0 ? c : 0;
	snprintf(rel, sizeof(rel), "%s%snew", dirname, dirname[0] ? "/" : "");
	c = count_entries(mpath(rel));
	n += c > 0 ? c : 0;
	return n;
}

/* Commit a new folder of 3 messages with the fault armed around it. */
static int commit_new(const char *dirname, struct m2d_error *err)
{
	struct maildir_folder *f;
	int rc;

	assert_int_equal(maildir_folder_begin(mpath(""), dirname,
					      &nobody_owner, false, &f, err),
			 0);
	add_message(f, 5, false);
	add_message(f, 6, false);
	add_message(f, 9, true);
	rc = maildir_folder_commit(f, 1100000000, 10, false, err);
	faults_off();
	maildir_folder_free(&f);
	return rc;
}

/* The error names the file of the folder being written, in our maildir:
 * the uidlist or keywords, or the list of messages it is made from. */
static void assert_file_error(const struct m2d_error *err)
{
	assert_true(strncmp(err->path, mpath(""), strlen(mpath(""))) == 0);
	assert_true(strstr(err->path, "/dovecot-uidlist") != NULL ||
		    strstr(err->path, "/dovecot-keywords") != NULL ||
		    strstr(err->path, "/uidlist.partial") != NULL ||
		    strstr(err->path, "/tmp/m2d-append.") != NULL);
}

static void rm_md(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/md'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * fflush or fclose of the uidlist streams failing (the Nth call, for
 * every N until the commit gets through), ENOSPC and EIO, for INBOX and a
 * Maildir++ folder: an error naming the folder's file, no message
 * visible, nothing left in tmp/; the same folder commits afterwards.
 */
#define FAILURES_EXPECTED 16
static void test_uidlist_new_folder(void **state)
{
	static const int errs[] = { ENOSPC, EIO };
	static const char *const dirnames[] = { "", ".Sent" };
	static const enum fault_call which[] = { F_FFLUSH, F_FCLOSE,
						 F_RENAME };
	size_t e, d, w;
	int at, failures = 0;

	(void)state;
	for (e = 0; e < 2; e++)
	for (d = 0; d < 2; d++)
	for (w = 0; w < 3; w++)
	for (at = 1; ; at++) {
		struct m2d_error err;
		char *list;
		char rel[64];
		bool hit;
		int rc;

		/* armed in commit_new only around the commit */
		faults_off();
		rm_md();
		{
			struct maildir_folder *f;

			assert_int_equal(maildir_folder_begin(mpath(""),
				dirnames[d], &nobody_owner, false, &f, &err),
				0);
			add_message(f, 5, false);
			add_message(f, 6, false);
			add_message(f, 9, true);
			fault_on(which[w], at, errs[e], false);
			rc = maildir_folder_commit(f, 1100000000, 10, false,
						   &err);
			hit = calls[which[w]] >= at;
			faults_off();
			maildir_folder_free(&f);
		}
		snprintf(rel, sizeof(rel), "%s%sdovecot-uidlist", dirnames[d],
			 dirnames[d][0] ? "/" : "");
		/* Dovecot's lock, taken for the INBOX, never outlives us */
		assert_int_equal(access(mpath("dovecot-uidlist.lock"), F_OK),
				 -1);
		if (rc == 0) {
			/* the fault came after the last call */
			assert_int_equal(visible(dirnames[d]), 3);
			list = slurp(mpath(rel));
			assert_non_null(list);
			assert_non_null(strstr(list, "3 V1100000000 N10 G"));
			assert_non_null(strstr(list, "\n9 :"));
			free(list);
			if (!hit)
				break;	/* past the last call */
			continue;	/* a failure that does not matter */
		}
		failures++;
		assert_int_equal(err.code, M2D_ERR_SYS);
		assert_int_equal(err.sys_errno, errs[e]);
		assert_file_error(&err);
		assert_int_equal(visible(dirnames[d]), 0);
		assert_null(slurp(mpath(rel)));
		assert_int_equal(count_entries(mpath("tmp")), 0);
		/* and it goes through once the disk is well */
		assert_int_equal(commit_new(dirnames[d], &err), 0);
		assert_int_equal(visible(dirnames[d]), 3);
		assert_true(at < 10);
	}
	/* 2 errnos x 2 folders x (the list's fflush, the uidlist's fflush
	 * and fclose), and for the INBOX the renames of its keywords and
	 * uidlist into the root */
	assert_int_equal(failures, FAILURES_EXPECTED);
	rm_md();
}

/*
 * Append mode (new mail after the first run): the new uidlist failing in
 * fflush or fclose, or a rename or fsync of the install failing, leaves
 * the folder as it was (its messages, its uidlist byte for byte, nothing
 * new visible, nothing left in tmp/) or, when the new uidlist was in
 * place before the failure, complete: never a new message without its
 * uidlist line.
 */
static void test_uidlist_append(void **state)
{
	static const int errs[] = { ENOSPC, EIO };
	static const enum fault_call which[] = { F_FFLUSH, F_FCLOSE, F_RENAME,
						 F_FSYNC };
	size_t e, w;
	int at, failures;

	(void)state;
	for (e = 0; e < 2; e++)
	for (w = 0; w < 4; w++)
	for (at = 1, failures = 0; ; at++) {
		struct maildir_folder *f;
		struct m2d_error err;
		char *before, *after;
		bool hit;
		int rc;

		rm_md();
		assert_int_equal(commit_new(".Sent", &err), 0);
		before = slurp(mpath(".Sent/dovecot-uidlist"));
		assert_non_null(before);
		assert_int_equal(maildir_folder_begin_append(mpath(""), ".Sent",
			&nobody_owner, &f, &err), 0);
		add_message(f, 10, false);
		add_message(f, 11, true);
		fault_on(which[w], at, errs[e], false);
		rc = maildir_folder_commit(f, 0, 12, false, &err);
		hit = calls[which[w]] >= at;
		faults_off();
		maildir_folder_free(&f);
		after = slurp(mpath(".Sent/dovecot-uidlist"));
		assert_non_null(after);
		if (rc == 0) {
			assert_int_equal(visible(".Sent"), 5);
			assert_non_null(strstr(after, " N12 "));
			assert_non_null(strstr(after, "\n11 :"));
			free(before);
			free(after);
			if (!hit)
				break;	/* past the last call */
			continue;	/* fclose of the old list, read only */
		}
		failures++;
		assert_int_equal(err.code, M2D_ERR_SYS);
		assert_int_equal(err.sys_errno, errs[e]);
		assert_true(strncmp(err.path, mpath(""),
				    strlen(mpath(""))) == 0);
		if (which[w] == F_FFLUSH || which[w] == F_FCLOSE)
			assert_file_error(&err);
		if (strcmp(after, before) != 0) {
			/* installed, then a sync failed: all of it */
			assert_int_equal(which[w], F_FSYNC);
			assert_int_equal(visible(".Sent"), 5);
			assert_non_null(strstr(after, "\n11 :"));
			free(before);
			free(after);
			continue;
		}
		assert_int_equal(visible(".Sent"), 3);
		assert_int_equal(count_entries(mpath(".Sent/tmp")), 0);
		free(before);
		free(after);
		assert_true(at < 10);
	}
	assert_true(failures > 0);
	rm_md();
}

/*
 * Replacing a folder an earlier run left (caught "converting" by a kill,
 * or its source changed) only when every message in it is ours: one
 * delivered meanwhile (a name we do not make) stops it, nothing lost;
 * ours renamed by Dovecot (flags) do not.
 */
static void test_replace_guard(void **state)
{
	static const char *const dirnames[] = { "", ".Sent" };

	(void)state;
	for (size_t d = 0; d < 2; d++) {
		struct maildir_folder *f;
		struct m2d_error err;
		char rel[128], cur[64];
		DIR *dir;
		struct dirent *de;

		rm_md();
		assert_int_equal(commit_new(dirnames[d], &err), 0);
		/* the lock a killed run was making goes with its next run */
		put(mpath("tmp/m2d-lock.999999999"), "999999999:x");
		/* Dovecot sets \Deleted on one of ours: renamed, still ours */
		snprintf(cur, sizeof(cur), "%s%scur", dirnames[d],
			 dirnames[d][0] ? "/" : "");
		dir = opendir(mpath(cur));
		assert_non_null(dir);
		while ((de = readdir(dir)) != NULL && de->d_name[0] == '.')
			;
		assert_non_null(de);
		{
			char from[512], to[520];

			snprintf(from, sizeof(from), "%s/%s", mpath(cur),
				 de->d_name);
			snprintf(to, sizeof(to), "%sT", from);
			assert_int_equal(rename(from, to), 0);
		}
		closedir(dir);
		assert_int_equal(maildir_folder_begin(mpath(""), dirnames[d],
			&nobody_owner, true, &f, &err), 0);
		maildir_folder_free(&f);
		assert_int_equal(access(mpath("tmp/m2d-lock.999999999"), F_OK),
				 -1);

		/* a message Dovecot delivered: no replace, it stays */
		snprintf(rel, sizeof(rel), "%s/1700000000.M12P345.mx:2,",
			 cur);
		put(mpath(rel), "Subject: delivered\n\nnew\n");
		assert_int_equal(maildir_folder_begin(mpath(""), dirnames[d],
			&nobody_owner, true, &f, &err), -1);
		assert_int_equal(err.code, M2D_ERR_EXISTS);
		assert_non_null(strstr(err.msg, "1 message there was not "
				       "written by mbox2dovecot"));
		assert_null(f);
		assert_int_equal(visible(dirnames[d]), 4);
		assert_int_equal(access(mpath(rel), F_OK), 0);
	}
	rm_md();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_faults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sync_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact_faults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uidlist_new_folder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uidlist_append, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replace_guard, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
