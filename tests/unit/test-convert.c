/* SPDX-License-Identifier: MIT */
/*
 * test-convert.c - one mbox into one maildir folder, and every way it can
 * fail without leaving half a folder behind
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "dotlock.h"

/* ---- fault injection: fail the Nth call of a system call ---- */

static int fail_write_at, fail_rename_at, fail_syncfs;
static int fail_errno;
static int write_calls, rename_calls;

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_renameat(int a, const char *b, int c, const char *d);
int __real_renameat2(int a, const char *b, int c, const char *d, unsigned f);
int __real_syncfs(int fd);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fail_write_at > 0 && ++write_calls == fail_write_at) {
		errno = fail_errno;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int __wrap_renameat(int a, const char *b, int c, const char *d)
{
	if (fail_rename_at > 0 && ++rename_calls == fail_rename_at) {
		errno = fail_errno;
		return -1;
	}
	return __real_renameat(a, b, c, d);
}

int __wrap_renameat2(int a, const char *b, int c, const char *d, unsigned f)
{
	if (fail_rename_at > 0 && ++rename_calls == fail_rename_at) {
		errno = fail_errno;
		return -1;
	}
	return __real_renameat2(a, b, c, d, f);
}

int __wrap_syncfs(int fd)
{
	if (fail_syncfs) {
		errno = fail_errno;
		return -1;
	}
	return __real_syncfs(fd);
}

static void faults_off(void)
{
	fail_write_at = fail_rename_at = fail_syncfs = 0;
	write_calls = rename_calls = 0;
}

/* ---- a scratch tree ---- */

static char top[64];

#define MAX_ALLOCS 256
static char *allocs[MAX_ALLOCS];
static int nallocs;

static int setup(void **state)
{
	(void)state;
	strcpy(top, "/tmp/m2d-test-convert.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	setenv("TZ", "UTC", 1);
	tzset();
	faults_off();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	faults_off();
	while (nallocs > 0)
		free(allocs[--nallocs]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void put_file(const char *name, const char *data)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static char *tpath(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, name);
	return buf[i];
}

/* Entries of a directory, sorted, '\n'-joined ("" when empty or absent). */
static char *list_dir(const char *name)
{
	struct dirent **ents;
	char *out = calloc(1, 1);
	size_t len = 0;
	int n, i;

	n = scandir(tpath(name), &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' || strlen(ents[i]->d_name) > 2) {
			size_t l = strlen(ents[i]->d_name);

			if (strcmp(ents[i]->d_name, "..") != 0) {
				out = realloc(out, len + l + 2);
				memcpy(out + len, ents[i]->d_name, l);
				len += l;
				out[len++] = '\n';
				out[len] = '\0';
			}
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	if (nallocs < MAX_ALLOCS)
		allocs[nallocs++] = out;	/* freed by teardown */
	return out;
}

static void remove_md(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/md'", top);
	assert_int_equal(system(cmd), 0);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static char *read_file(const char *name)
{
	static char buf[8192];
	FILE *f = fopen(tpath(name), "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct warnings {
	int count;
	char last[512];
};

static void on_warning(const struct m2d_error *w, void *ctx)
{
	struct warnings *ws = ctx;

	ws->count++;
	snprintf(ws->last, sizeof(ws->last), "%s", w->msg);
}

static int run(const char *mbox, const char *folder, struct convert_stats *st,
	       struct m2d_error *err, struct warnings *ws)
{
	struct convert_settings set;

	memset(&set, 0, sizeof(set));
	set.folder = folder;
	set.uid = set.gid = -1;
	set.dotlock = true;
	set.warning = on_warning;
	set.ctx = ws;
	memset(ws, 0, sizeof(*ws));
	return convert_folder(tpath(mbox), tpath("md"), &set, st, err);
}

#define UW_FOLDER \
	"From MAILER-DAEMON Tue Nov  9 10:00:00 2004\n" \
	"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n" \
	"X-IMAP: 1100000000 0000000020 work private\n" \
	"Status: RO\n\ninternal\n\n" \
	"From a@example.com Tue Nov  9 10:11:12 2004\n" \
	"Subject: one\nStatus: RO\nX-Status: AF\nX-Keywords: work\nX-UID: 7\n" \
	"\nbody one\n\n" \
	"From b@example.com Wed Nov 10 08:00:00 2004 -0800\n" \
	"Subject: two\nStatus: O\nX-Status: T\nX-UID: 9\n\nbody two\n\n" \
	"From c@example.com Thu Nov 11 09:30 2004\n" \
	"Subject: three\n\nnew mail, no UID yet\n\n"

/* What a UW folder becomes: names, flags, dates, UIDs, keywords. */
static void test_uw_folder(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char *cur, *new, *uidlist, *p;
	struct stat sb;
	char path[512];

	(void)state;
	put_file("Sent", UW_FOLDER);
	assert_int_equal(run("Sent", "Sent", &st, &err, &ws), 0);
	assert_int_equal(st.messages, 3);
	assert_true(st.uids_kept);
	assert_int_equal(st.uidvalidity, 1100000000);
	assert_int_equal(st.nextuid, 22);	/* 20 + the new message */
	assert_int_equal(ws.count, 0);

	cur = list_dir("md/.Sent/cur");
	assert_int_equal(count_lines(cur), 2);
	/* flags in ASCII order, keyword letter 'a' = work */
	assert_non_null(strstr(cur, ",S=23,W=26:2,FRSa\n"));
	assert_non_null(strstr(cur, ":2,D\n"));
	new = list_dir("md/.Sent/new");
	assert_int_equal(count_lines(new), 1);
	assert_null(strchr(new, ':'));		/* \Recent, no flags */

	uidlist = read_file("md/.Sent/dovecot-uidlist");
	assert_non_null(uidlist);
	assert_memory_equal(uidlist, "3 V1100000000 N22 G", 19);
	assert_non_null(strstr(uidlist, "\n7 :"));
	assert_non_null(strstr(uidlist, "\n9 :"));
	assert_non_null(strstr(uidlist, "\n21 :"));
	assert_string_equal(read_file("md/.Sent/dovecot-keywords"),
			    "0 work\n1 private\n");
	assert_non_null(read_file("md/.Sent/maildirfolder"));

	/* INTERNALDATE = mtime = the From_ date, its offset honoured */
	p = strchr(cur, '\n');
	*p = '\0';
	snprintf(path, sizeof(path), "%s/md/.Sent/cur/%s", top, cur);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	if (strstr(cur, ":2,D") != NULL)
		assert_int_equal(sb.st_mtime, 1100102400);	/* 16:00 UTC */
	else
		assert_int_equal(sb.st_mtime, 1099995072);
	assert_int_equal(stat(tpath("md/.Sent"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* the staging area is gone, the source untouched */
	assert_string_equal(list_dir("md/tmp"), "");
	assert_string_equal(read_file("Sent"), UW_FOLDER);
}

/* UIDs that go down: UW would renumber, so do we, and we say so. */
static void test_uids_reset(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char *uidlist;

	(void)state;
	put_file("box",
		 "From a@b Tue Nov  9 10:11:12 2004\n"
		 "X-IMAPbase: 1200000000 10\nX-UID: 5\n\none\n\n"
		 "From a@b Tue Nov  9 10:11:13 2004\nX-UID: 3\n\ntwo\n\n");
	assert_int_equal(run("box", NULL, &st, &err, &ws), 0);
	assert_false(st.uids_kept);
	assert_int_equal(ws.count, 1);
	assert_non_null(strstr(ws.last, "UID 3"));
	assert_int_equal(st.nextuid, 3);
	uidlist = read_file("md/dovecot-uidlist");
	assert_non_null(strstr(uidlist, "\n1 :"));
	assert_non_null(strstr(uidlist, "\n2 :"));
	assert_null(strstr(uidlist, "V1200000000"));
}

/* An X-UID beyond the recorded last UID: c-client kept it and raised
 * the last UID (no renumbering); one that is no number made it renumber. */
static void test_uid_beyond_last(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char *uidlist;

	(void)state;
	put_file("box",
		 "From a@b Tue Nov  9 10:11:12 2004\n"
		 "X-IMAPbase: 1200000000 5\nX-UID: 3\n\none\n\n"
		 "From a@b Tue Nov  9 10:11:13 2004\nX-UID: 9\n\ntwo\n\n"
		 "From a@b Tue Nov  9 10:11:14 2004\n\nthree\n");
	assert_int_equal(run("box", NULL, &st, &err, &ws), 0);
	assert_true(st.uids_kept);
	assert_int_equal(ws.count, 0);
	assert_int_equal(st.nextuid, 11);
	uidlist = read_file("md/dovecot-uidlist");
	assert_non_null(strstr(uidlist, "V1200000000 N11"));
	assert_non_null(strstr(uidlist, "\n3 :"));
	assert_non_null(strstr(uidlist, "\n9 :"));
	assert_non_null(strstr(uidlist, "\n10 :"));
	remove_md();
	put_file("box",
		 "From a@b Tue Nov  9 10:11:12 2004\n"
		 "X-IMAPbase: 1200000000 5\nX-UID: 3\n\none\n\n"
		 "From a@b Tue Nov  9 10:11:13 2004\nX-UID: x\n\ntwo\n");
	assert_int_equal(run("box", NULL, &st, &err, &ws), 0);
	assert_false(st.uids_kept);
	assert_int_equal(ws.count, 1);
}

/* A message over max_message_size, and a sparse mbox: the folder fails
 * with the reason (file and line), nothing is left in the target. */
static void test_limits(void **state)
{
	struct convert_settings set;
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char body[200];
	int fd;

	(void)state;
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	{
		char mbox[512];

		snprintf(mbox, sizeof(mbox),
			 "From a@b Tue Nov  9 10:11:12 2004\nSubject: a\n\nok\n\n"
			 "From a@b Tue Nov  9 10:11:13 2004\nSubject: b\n\n%s\n",
			 body);
		put_file("box", mbox);
	}
	memset(&set, 0, sizeof(set));
	set.uid = set.gid = -1;
	set.warning = on_warning;
	set.ctx = &ws;
	memset(&ws, 0, sizeof(ws));
	set.max_message_size = 100;
	assert_int_equal(convert_folder(tpath("box"), tpath("md"), &set, &st,
					&err), -1);
	assert_int_equal(err.code, M2D_ERR_MALFORMED);
	assert_int_equal(err.line, 6);
	assert_non_null(strstr(err.msg, "100"));
	assert_null(read_file("md/dovecot-uidlist"));
	assert_string_equal(list_dir("md/new"), "");
	set.max_message_size = 1000;
	assert_int_equal(convert_folder(tpath("box"), tpath("md"), &set, &st,
					&err), 0);
	assert_int_equal(st.messages, 2);
	remove_md();

	/* a hole: refused unless allowed */
	put_file("sparse", "From a@b Tue Nov  9 10:11:12 2004\nSubject: a\n\n");
	fd = open(tpath("sparse"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64L * 1024 * 1024), 0);
	assert_int_equal(pwrite(fd, "tail\n", 5, 64L * 1024 * 1024), 5);
	close(fd);
	set.max_message_size = 0;
	if (lseek(open(tpath("sparse"), O_RDONLY), 0, SEEK_HOLE) <
	    64L * 1024 * 1024) {
		assert_int_equal(convert_folder(tpath("sparse"), tpath("md"),
						&set, &st, &err), -1);
		assert_int_equal(err.code, M2D_ERR_UNSAFE);
		assert_non_null(strstr(err.path, "sparse"));
		assert_null(read_file("md/dovecot-uidlist"));
		set.allow_sparse = true;
		set.max_message_size = 1024 * 1024;
		assert_int_equal(convert_folder(tpath("sparse"), tpath("md"),
						&set, &st, &err), -1);
		assert_int_equal(err.code, M2D_ERR_MALFORMED);
	}
}

/* A folder that already holds messages is never mixed into. */
static void test_refuses_existing(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char *before, *after;

	(void)state;
	put_file("Sent", UW_FOLDER);
	assert_int_equal(run("Sent", "Sent", &st, &err, &ws), 0);
	before = list_dir("md/.Sent/cur");
	assert_int_equal(run("Sent", "Sent", &st, &err, &ws), -1);
	assert_int_equal(err.code, M2D_ERR_EXISTS);
	after = list_dir("md/.Sent/cur");
	assert_string_equal(before, after);
	assert_string_equal(list_dir("md/tmp"), "");
}

/* Not an mbox: refused, and no folder appears. */
static void test_not_mbox_leaves_nothing(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;

	(void)state;
	put_file("notes", "Dear diary,\nFrom today on...\n");
	assert_int_equal(run("notes", "notes", &st, &err, &ws), -1);
	assert_int_equal(err.code, M2D_ERR_NOT_MBOX);
	assert_int_equal(err.line, 1);
	assert_string_equal(list_dir("md"), "");
}

/* A name Maildir++ cannot hold is a typed error with a suggestion. */
static void test_bad_folder_name(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;

	(void)state;
	put_file("box", UW_FOLDER);
	assert_int_equal(run("box", "v1.2", &st, &err, &ws), -1);
	assert_int_equal(err.code, M2D_ERR_NAME);
	assert_non_null(strstr(err.msg, "v1_2"));
}

/* Every failing write, rename or sync: error, nothing visible. */
static void test_faults(void **state)
{
	static const int errs[] = { ENOSPC, EIO, EXDEV };
	int e, at;

	(void)state;
	put_file("Sent", UW_FOLDER);
	for (e = 0; e < 3; e++) {
		for (at = 1; at <= 12; at++) {
			struct convert_stats st;
			struct m2d_error err;
			struct warnings ws;
			int rc;

			faults_off();
			fail_errno = errs[e];
			if (errs[e] == EXDEV)
				fail_rename_at = at;
			else if (at == 12)
				fail_syncfs = 1;
			else
				fail_write_at = at;
			rc = run("Sent", "Sent", &st, &err, &ws);
			faults_off();
			if (rc == 0) {
				/* the fault came after the last call: the
				 * folder must then be complete */
				char *cur = list_dir("md/.Sent/cur");

				assert_int_equal(count_lines(cur), 2);
				remove_md();
				continue;
			}
			assert_int_equal(err.code, M2D_ERR_SYS);
			assert_int_equal(err.sys_errno, errs[e]);
			assert_true(err.path[0] != '\0');
			/* nothing partial: no folder, no staging */
			assert_string_equal(list_dir("md/.Sent/cur"), "");
			assert_string_equal(list_dir("md/tmp"), "");
			/* and a clean run afterwards succeeds */
			assert_int_equal(run("Sent", "Sent", &st, &err, &ws), 0);
			assert_int_equal(st.messages, 3);
			remove_md();
		}
	}
}

/* kill -9 in the middle: no message is ever visible half-written. */
/* Enough messages that a kill after 20..140 ms lands inside the run. */
#define KILL_MSGS 8000

static void test_kill_midway(void **state)
{
	FILE *f;
	int i, round;

	(void)state;
	f = fopen(tpath("big"), "w");
	assert_non_null(f);
	fputs("From a@b Tue Nov  9 10:11:12 2004\nX-IMAPbase: 7 8000\n"
	      "X-UID: 1\n\nfirst\n\n", f);
	for (i = 2; i <= KILL_MSGS; i++) {
		fprintf(f, "From a@b Tue Nov  9 10:11:12 2004\nX-UID: %d\n"
			"Subject: %d\n\n", i, i);
		for (int l = 0; l < 20; l++)
			fputs("lorem ipsum dolor sit amet consectetur\n", f);
		fputc('\n', f);
	}
	fclose(f);
	for (round = 0; round < 3; round++) {
		struct convert_stats st;
		struct m2d_error err;
		struct warnings ws;
		char *cur, *new;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(run("big", "Big", &st, &err, &ws) == 0 ? 0 : 1);
		usleep(20000 + 60000 * round);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* either the whole folder or none of it */
		cur = list_dir("md/.Big/cur");
		new = list_dir("md/.Big/new");
		assert_true(count_lines(cur) + count_lines(new) == 0 ||
			    count_lines(cur) + count_lines(new) == KILL_MSGS);
		if (read_file("md/.Big/dovecot-uidlist") == NULL) {
			/* the run again converts everything */
			assert_int_equal(run("big", "Big", &st, &err, &ws), 0);
			assert_int_equal(st.messages, KILL_MSGS);
			assert_true(st.uids_kept);
			/* what the killed run staged is cleared away */
			assert_string_equal(list_dir("md/tmp"), "");
		}
		remove_md();
	}
}

/* A fresh dotlock means someone is writing: try later, nothing done.
 * An empty one too: Postfix's and UW's are empty (the slow writers are
 * in test-dotlock.c). */
static void test_dotlock(void **state)
{
	const struct mbox_lock_settings saved = *mbox_locks_get();
	struct mbox_lock_settings quick = saved;
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char live[32];

	(void)state;
	quick.wait_secs = 0;	/* refused at once, not after 20 s */
	mbox_locks_configure(&quick);
	put_file("inbox", UW_FOLDER);
	/* held by a process that runs */
	snprintf(live, sizeof(live), "%ld\n", (long)getppid());
	put_file("inbox.lock", live);
	assert_int_equal(run("inbox", NULL, &st, &err, &ws), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	assert_string_equal(list_dir("md"), "");
	/* empty, as Postfix and UW make theirs: held, left alone */
	put_file("inbox.lock", "");
	assert_int_equal(run("inbox", NULL, &st, &err, &ws), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	assert_string_equal(list_dir("md"), "");
	assert_non_null(read_file("inbox.lock"));
	unlink(tpath("inbox.lock"));
	assert_int_equal(run("inbox", NULL, &st, &err, &ws), 0);
	/* our own lock is gone afterwards */
	assert_null(read_file("inbox.lock"));
	mbox_locks_configure(&saved);
}

/* dotlock_dovecot_take() on TOP's dovecot-uidlist; its temp file (made
 * in TOP here) never outlives the call. */
static int take_uidlist_lock(int dirfd, int wait, struct dotlock **lock,
			     struct m2d_error *err)
{
	char tmp[64];
	int r = dotlock_dovecot_take(dirfd, dirfd, "dovecot-uidlist", top, -1,
				     -1, wait, lock, err);

	snprintf(tmp, sizeof(tmp), "m2d-lock.%ld", (long)getpid());
	assert_int_equal(faccessat(dirfd, tmp, F_OK, AT_SYMLINK_NOFOLLOW), -1);
	return r;
}

/*
 * Dovecot's dovecot-uidlist.lock, which we take to put an INBOX in place
 * (its cur/ and uidlist are two renames): a live holder is waited for,
 * then refused; a dead one's (a kill -9), another host's once stale, and
 * Dovecot's stale one are broken; ours is written as Dovecot writes it.
 */
static void test_dovecot_lock(void **state)
{
	char host[256], live[300], content[300], *got;
	struct dotlock *lock;
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	struct timespec old[2] = { { 0, UTIME_OMIT }, { 0, 0 } };
	time_t t0;
	int dirfd;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	dirfd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0);

	/* held by a process that runs (this one), fresh: waited, refused */
	snprintf(live, sizeof(live), "%ld:%s", (long)getppid(), host);
	put_file("dovecot-uidlist.lock", live);
	t0 = time(NULL);
	assert_int_equal(take_uidlist_lock(dirfd, 1, &lock, &err), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	assert_non_null(strstr(err.msg, "dovecot-uidlist.lock"));
	assert_true(time(NULL) - t0 >= 1);
	assert_null(lock);
	assert_string_equal(read_file("dovecot-uidlist.lock"), live);

	/* another host's, fresh: not ours to judge */
	put_file("dovecot-uidlist.lock", "1234:elsewhere.example");
	assert_int_equal(take_uidlist_lock(dirfd, 0, &lock, &err), -1);
	/* ... until it is stale as Dovecot decides */
	old[1].tv_sec = time(NULL) - DOVECOT_LOCK_STALE_SECS - 5;
	assert_int_equal(utimensat(dirfd, "dovecot-uidlist.lock", old, 0), 0);
	assert_int_equal(take_uidlist_lock(dirfd, 0, &lock, &err), 0);
	snprintf(content, sizeof(content), "%ld:%s", (long)getpid(), host);
	assert_string_equal(read_file("dovecot-uidlist.lock"), content);
	dotlock_release(&lock);
	assert_null(read_file("dovecot-uidlist.lock"));

	/* empty: ours, killed between creating and writing it (Dovecot
	 * writes its own whole); broken once a couple of seconds old */
	put_file("dovecot-uidlist.lock", "");
	assert_int_equal(take_uidlist_lock(dirfd, 0, &lock, &err), -1);
	old[1].tv_sec = time(NULL) - 5;
	assert_int_equal(utimensat(dirfd, "dovecot-uidlist.lock", old, 0), 0);
	assert_int_equal(take_uidlist_lock(dirfd, 0, &lock, &err), 0);
	dotlock_release(&lock);

	/* a dead process's, in the maildir root: the INBOX goes in, and
	 * no lock is left */
	assert_int_equal(mkdir(tpath("md"), 0700), 0);
	snprintf(content, sizeof(content), "999999999:%s", host);
	put_file("md/dovecot-uidlist.lock", content);
	put_file("inbox", UW_FOLDER);
	assert_int_equal(run("inbox", NULL, &st, &err, &ws), 0);
	assert_true(st.messages > 0);
	assert_null(read_file("md/dovecot-uidlist.lock"));
	got = read_file("md/dovecot-uidlist");
	assert_non_null(got);
	close(dirfd);
}

/* More than 26 keywords: c-client kept 30 declared ones (a longer list
 * and words over 50 bytes it ignored); maildir holds the first 26, the
 * rest counted and said, never all of a message's keywords lost. */
static void test_keywords_beyond_maildir(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char mbox[8192], *p = mbox, longkw[301];
	int i;

	(void)state;
	memset(longkw, 'k', 300);
	longkw[300] = '\0';
	p += sprintf(p, "From a@b Tue Nov  9 10:11:12 2004\n"
		     "X-IMAPbase: 1200000000 1");
	for (i = 0; i < 32; i++)
		p += sprintf(p, " kw%02d", i);
	p += sprintf(p, "\nX-Keywords:");
	for (i = 0; i < 32; i++)
		p += sprintf(p, " KW%02d", i);
	p += sprintf(p, " %s\nX-UID: 1\n\nbody\n\n", longkw);
	put_file("box", mbox);
	assert_int_equal(run("box", NULL, &st, &err, &ws), 0);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.keywords, 26);
	assert_int_equal(st.keywords_dropped, 4);	/* kw26..kw29 */
	assert_int_equal(ws.count, 1);
	assert_non_null(strstr(ws.last, "kw26"));
	/* the first 26 are on the message: letters a..z */
	assert_non_null(strstr(list_dir("md/cur"), ":2,abcdefghijklmnopqrstuvwxyz\n"));
}

/* 30 declared (c-client's limit), a message with the 30th: the letters
 * go to the keywords messages have, so it is kept; the declared ones no
 * message has fill the other letters. */
static void test_keywords_used_first(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char mbox[4096], *p = mbox, *kw;
	int i;

	(void)state;
	p += sprintf(p, "From a@b Tue Nov  9 10:11:12 2004\n"
		     "X-IMAPbase: 1200000000 1");
	for (i = 0; i < 30; i++)
		p += sprintf(p, " kw%02d", i);
	sprintf(p, "\nX-UID: 1\nX-Keywords: kw29 kw03\n\nbody\n");
	put_file("box", mbox);
	assert_int_equal(run("box", NULL, &st, &err, &ws), 0);
	assert_int_equal(st.keywords, 26);
	assert_int_equal(st.keywords_dropped, 0);
	kw = read_file("md/dovecot-keywords");
	assert_non_null(kw);
	assert_non_null(strstr(kw, "0 kw03\n1 kw29\n2 kw00\n"));
	assert_non_null(strstr(list_dir("md/cur"), ":2,ab\n"));
}

/* Keywords as c-client matched them (any case, the declared spelling,
 * undeclared words ignored); only valid IMAP atoms reach Dovecot, and a
 * case duplicate of a declared keyword never does. */
static void test_keywords_declared_atoms(void **state)
{
	struct convert_stats st;
	struct m2d_error err;
	struct warnings ws;
	char *kw;

	(void)state;
	put_file("box", "From a@b Tue Nov  9 10:11:12 2004\n"
		 "X-IMAPbase: 1200000000 2 Work work \\Deleted (x) ok\n"
		 "X-UID: 1\nX-Keywords: WORK \\deleted other OK (X)\n\nbody\n\n"
		 "From a@b Tue Nov  9 10:11:12 2004\n"
		 "X-UID: 2\nX-Keywords: work\n\nbody\n");
	assert_int_equal(run("box", NULL, &st, &err, &ws), 0);
	assert_int_equal(st.messages, 2);
	kw = read_file("md/dovecot-keywords");
	assert_non_null(kw);
	assert_string_equal(kw, "0 Work\n1 ok\n");
	assert_non_null(strstr(list_dir("md/cur"), ":2,ab\n"));
	assert_non_null(strstr(list_dir("md/cur"), ":2,a\n"));
}

/*
 * A directory of the home swapped for a symlink after the scan (TOCTOU),
 * or a hard link to a file elsewhere: nothing outside is read.
 */
static void test_home_swapped_for_symlink(void **state)
{
	struct convert_settings set;
	struct convert_stats st;
	struct m2d_error err;
	char home[128], mail[160], elsewhere[160], mbox[200], cmd[512];

	(void)state;
	snprintf(home, sizeof(home), "%s/home", top);
	snprintf(mail, sizeof(mail), "%s/mail", home);
	snprintf(elsewhere, sizeof(elsewhere), "%s/secret", top);
	snprintf(mbox, sizeof(mbox), "%s/Sent", mail);
	assert_int_equal(mkdir(home, 0755), 0);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	put_file("secret/Sent", UW_FOLDER);
	/* the scan saw ~/mail/Sent; now ~/mail points elsewhere */
	assert_int_equal(symlink(elsewhere, mail), 0);

	memset(&set, 0, sizeof(set));
	set.folder = "Sent";
	set.uid = set.gid = -1;
	set.source_base = home;
	assert_int_equal(convert_folder(mbox, tpath("md"), &set, &st, &err), -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	assert_string_equal(err.path, mbox);
	assert_string_equal(list_dir("md"), "");

	/* a hard link in the home to that file */
	assert_int_equal(unlink(mail), 0);
	assert_int_equal(mkdir(mail, 0755), 0);
	snprintf(cmd, sizeof(cmd), "%s/Sent", elsewhere);
	assert_int_equal(link(cmd, mbox), 0);
	assert_int_equal(convert_folder(mbox, tpath("md"), &set, &st, &err), -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "hard link"));
	/* the same file, alone, converts */
	assert_int_equal(unlink(cmd), 0);
	assert_int_equal(convert_folder(mbox, tpath("md"), &set, &st, &err), 0);
	assert_int_equal(st.messages, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uw_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uids_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid_beyond_last, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_existing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_mbox_leaves_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_folder_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_midway, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dotlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dovecot_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keywords_beyond_maildir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords_used_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords_declared_atoms,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_home_swapped_for_symlink,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
