/* SPDX-License-Identifier: MIT */
/*
 * test-dotlock.c - an mbox is read under the locks its writers use
 * (else a message being appended is read cut off): a writer holding the dotlock and flock (UW) or the
 * dotlock and fcntl (Postfix) while it appends slowly is waited for, or
 * the read gives up with M2D_ERR_LOCKED; never a cut-off last message.
 * Empty dotlocks (Postfix's and UW's are empty) are live until their
 * ctime is older than mbox_lock_stale.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "dotlock.h"

static char top[64];
static struct mbox_lock_settings saved;

#define FIRST "From a@b Tue Nov  9 10:11:12 2004\nSubject: one\n\nfirst\n\n"
#define HALF "From c@d Tue Nov  9 10:11:13 2004\nSubject: two\n\nsecond, "
#define REST "the rest of it\nlast line\n\n"

static void tpath(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", top, rel);
}

static void put_file(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	tpath(path, sizeof(path), rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	saved = *mbox_locks_get();
	snprintf(top, sizeof(top), "/tmp/test-dotlock-XXXXXX");
	return mkdtemp(top) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	mbox_locks_configure(&saved);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void configure(unsigned int locks, int wait, int stale)
{
	struct mbox_lock_settings s = { locks, wait, stale };

	mbox_locks_configure(&s);
}

/*
 * A writer in a child: takes the locks WRITER_LOCKS (the dotlock as
 * Postfix and UW make it: empty, O_EXCL), appends HALF, tells the parent
 * through the pipe, sleeps SECS, appends REST, lets go.
 */
static pid_t slow_writer(unsigned int writer_locks, int secs)
{
	int pfd[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char mbox[256], lock[256];
		int fd, lfd = -1;

		close(pfd[0]);
		tpath(mbox, sizeof(mbox), "inbox");
		tpath(lock, sizeof(lock), "inbox.lock");
		if ((writer_locks & MBOX_LOCK_DOTLOCK) != 0) {
			lfd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0);
			if (lfd < 0)
				_exit(2);
			close(lfd);
		}
		fd = open(mbox, O_WRONLY | O_APPEND);
		if (fd < 0)
			_exit(3);
		if ((writer_locks & MBOX_LOCK_FLOCK) != 0 &&
		    flock(fd, LOCK_EX) < 0)
			_exit(4);
		if ((writer_locks & MBOX_LOCK_FCNTL) != 0) {
			struct flock fl;

			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_SETLKW, &fl) < 0)
				_exit(5);
		}
		if (write(fd, HALF, strlen(HALF)) < 0)
			_exit(6);
		if (write(pfd[1], "x", 1) != 1)
			_exit(7);
		sleep((unsigned int)secs);
		if (write(fd, REST, strlen(REST)) < 0)
			_exit(8);
		close(fd);
		if ((writer_locks & MBOX_LOCK_DOTLOCK) != 0)
			unlink(lock);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);	/* HALF is written */
	close(pfd[0]);
	return pid;
}

static void writer_done(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int convert(struct convert_stats *st, struct m2d_error *err)
{
	struct convert_settings set;
	char mbox[256], md[256];

	memset(&set, 0, sizeof(set));
	set.uid = set.gid = -1;
	set.dotlock = true;
	tpath(mbox, sizeof(mbox), "inbox");
	tpath(md, sizeof(md), "md");
	return convert_folder(mbox, md, &set, st, err);
}

/* The message files of md/ (INBOX: new/ and cur/), concatenated. */
static size_t md_bytes(char *buf, size_t size)
{
	const char *subs[] = { "new", "cur" };
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		char cmd[512];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "cat %s/md/%s/* 2>/dev/null", top,
			 subs[i]);
		p = popen(cmd, "r");
		assert_non_null(p);
		len += fread(buf + len, 1, size - 1 - len, p);
		pclose(p);
	}
	buf[len] = '\0';
	return len;
}

static void remove_md(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/md'", top);
	assert_int_equal(system(cmd), 0);
}

/* A writer holding WRITER_LOCKS while it appends slowly: with a wait
 * longer than the writer, the whole second message; with none, LOCKED
 * and nothing written; never a cut-off message. */
static void slow_append(unsigned int writer_locks)
{
	struct convert_stats st;
	struct m2d_error err;
	char buf[4096];
	pid_t pid;

	put_file("inbox", FIRST);
	configure(MBOX_LOCKS_DEFAULT, 0, MBOX_LOCK_STALE_DEFAULT);
	pid = slow_writer(writer_locks, 2);
	assert_int_equal(convert(&st, &err), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	assert_int_equal(md_bytes(buf, sizeof(buf)), 0);
	writer_done(pid);
	remove_md();

	put_file("inbox", FIRST);
	configure(MBOX_LOCKS_DEFAULT, 10, MBOX_LOCK_STALE_DEFAULT);
	pid = slow_writer(writer_locks, 2);
	assert_int_equal(convert(&st, &err), 0);
	writer_done(pid);
	assert_int_equal(st.messages, 2);
	md_bytes(buf, sizeof(buf));
	assert_non_null(strstr(buf, "second, the rest of it\nlast line\n"));
	remove_md();
}

/* UW: dotlock + flock, no fcntl (unix_lock() in c-client's unix.c) */
static void test_uw_writer(void **state)
{
	(void)state;
	slow_append(MBOX_LOCK_DOTLOCK | MBOX_LOCK_FLOCK);
}

/* Postfix local(8): dotlock + fcntl (mailbox_delivery_lock) */
static void test_postfix_writer(void **state)
{
	(void)state;
	slow_append(MBOX_LOCK_DOTLOCK | MBOX_LOCK_FCNTL);
}

/* A writer with flock only (no dotlock): the kernel lock holds us */
static void test_flock_only_writer(void **state)
{
	(void)state;
	slow_append(MBOX_LOCK_FLOCK);
}

/* A writer with fcntl only */
static void test_fcntl_only_writer(void **state)
{
	(void)state;
	slow_append(MBOX_LOCK_FCNTL);
}

/*
 * The dotlock on its own: an empty one is live until its ctime is older
 * than mbox_lock_stale (then broken when we lock, as Postfix and UW break
 * it); one naming a dead process of ours is broken at once; ours holds
 * our PID and is gone afterwards, and no temporary file is left.
 */
/* Sleep until the ctime of REL (under top) is SECS seconds old. */
static void wait_until_old(const char *rel, long secs)
{
	char path[256];
	struct stat st;

	tpath(path, sizeof(path), rel);
	assert_int_equal(lstat(path, &st), 0);
	while (time(NULL) - st.st_ctime < secs)
		usleep(100000);
}

static void test_dotlock_rules(void **state)
{
	struct dotlock *lock;
	struct m2d_error err;
	char buf[64], path[256];
	time_t t0;
	int dirfd, fd;
	ssize_t n;

	(void)state;
	dirfd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0);
	put_file("inbox", FIRST);

	/* empty and fresh: waited for (1 s), then LOCKED; stale only
	 * after 5 s, so that a loaded machine has room for the two tries */
	configure(MBOX_LOCKS_DEFAULT, 1, 5);
	put_file("inbox.lock", "");
	t0 = time(NULL);
	assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true, true,
					 &lock, &err), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	assert_true(time(NULL) - t0 >= 1);
	assert_null(lock);
	assert_non_null(strstr(err.msg, "inbox.lock"));
	/* without creating ours: the same (no second wait) */
	configure(MBOX_LOCKS_DEFAULT, 0, 5);
	assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", false, true,
					 &lock, &err), -1);

	/* stale (its ctime 5 s old, mbox_lock_stale 5): broken, ours made */
	wait_until_old("inbox.lock", 5);
	assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true, true,
					 &lock, &err), 0);
	assert_non_null(lock);
	fd = openat(dirfd, "inbox.lock", O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(path, sizeof(path), "%ld\n", (long)getpid());
	assert_string_equal(buf, path);
	dotlock_release(&lock);
	/* ours belongs to the mbox's owner: in a sticky spool the user's
	 * Postfix or UW can still break it after a kill -9 of ours */
	if (geteuid() == 0) {
		struct stat st;

		assert_int_equal(fchownat(dirfd, "inbox", 5001, 5001, 0), 0);
		assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true,
						 true, &lock, &err), 0);
		assert_int_equal(fstatat(dirfd, "inbox.lock", &st, 0), 0);
		assert_int_equal(st.st_uid, 5001);
		dotlock_release(&lock);
	}
	assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true, true,
					 &lock, &err), 0);
	/* held by us: a second taker waits, then gives up */
	configure(MBOX_LOCKS_DEFAULT, 0, 500);
	{
		struct dotlock *other;

		assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true,
						 true, &other, &err), -1);
		assert_int_equal(err.code, M2D_ERR_LOCKED);
	}
	dotlock_release(&lock);
	assert_int_equal(faccessat(dirfd, "inbox.lock", F_OK, 0), -1);

	/* a dead process's (a kill -9 of ours): broken at once */
	put_file("inbox.lock", "999999999\n");
	assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true, true,
					 &lock, &err), 0);
	dotlock_release(&lock);

	/* not one of the site's locks: not looked at */
	configure(MBOX_LOCK_FCNTL, 0, 500);
	put_file("inbox.lock", "");
	assert_int_equal(dotlock_take_at(dirfd, "inbox", "inbox", true, true,
					 &lock, &err), 0);
	assert_null(lock);
	unlinkat(dirfd, "inbox.lock", 0);

	/* nothing of ours is left in the directory */
	{
		FILE *p;
		char cmd[256], out[256] = "";

		snprintf(cmd, sizeof(cmd), "ls -A '%s'", top);
		p = popen(cmd, "r");
		assert_non_null(p);
		n = (ssize_t)fread(out, 1, sizeof(out) - 1, p);
		pclose(p);
		out[n > 0 ? n : 0] = '\0';
		assert_string_equal(out, "inbox\n");
	}
	close(dirfd);
}

static void test_parse(void **state)
{
	unsigned int locks;

	(void)state;
	assert_int_equal(mbox_locks_parse("fcntl, dotlock", &locks), 0);
	assert_int_equal(locks, MBOX_LOCK_FCNTL | MBOX_LOCK_DOTLOCK);
	assert_int_equal(mbox_locks_parse("dotlock fcntl flock", &locks), 0);
	assert_int_equal(locks, MBOX_LOCKS_DEFAULT);
	assert_int_equal(mbox_locks_parse(" flock ", &locks), 0);
	assert_int_equal(locks, MBOX_LOCK_FLOCK);
	assert_int_equal(mbox_locks_parse("", &locks), -1);
	assert_int_equal(mbox_locks_parse("lockf", &locks), -1);
	assert_int_equal(mbox_locks_parse("dotlock,fcntlx", &locks), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_uw_writer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_postfix_writer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flock_only_writer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fcntl_only_writer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dotlock_rules, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
