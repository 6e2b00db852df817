/* SPDX-License-Identifier: MIT */
/* test-rollback.c - the mail of the maildirs carried back into the mboxes
 * (rollback.h), on a small hand-made migration: one INBOX with old, new,
 * not yet listed messages and a flag changed; a folder made after
 * cutover; a second run; a mbox changed behind our back.  And what a
 * hostile user can plant (rollback runs as root): a name with newlines that forges
 * record lines, forged and damaged records, a pending record whose
 * checksum does not match, FIFOs, a sparse giant, a symlinked folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "journal.h"
#include "m2d-config.h"
#include "mbox-reader.h"
#include "rollback.h"
#include "uw-uids.h"
#include "test-util.h"

static char dir[256];

static const char OLD_MBOX[] =
	"From a@example.org Tue Nov  9 10:11:12 2004\n"
	"Subject: one\n"
	"X-IMAPbase: 1234 0000000002 Kw\n"
	"Status: RO\n"
	"X-Status: \n"
	"X-Keywords: \n"
	"X-UID: 1\n"
	"\n"
	"first\n"
	"\n"
	"From b@example.org Tue Nov  9 10:11:13 2004\n"
	"Subject: two\n"
	"Status: O\n"
	"X-Status: \n"
	"X-Keywords: \n"
	"X-UID: 2\n"
	"\n"
	"second\n";	/* no separator line at the end */

static char *path(const char *rel)
{
	static char buf[8][512];
	static int n;
	char *p = buf[n++ % 8];

	snprintf(p, 512, "%s/%s", dir, rel);
	return p;
}

static void put_mtime(const char *rel, const char *text, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	put(path(rel), text);
	assert_int_equal(utimensat(AT_FDCWD, path(rel), ts, 0), 0);
}

/* REL's content, until the next call. */
static const char *slurp_static(const char *rel)
{
	static char *last;

	free(last);
	last = slurp(path(rel));
	return last != NULL ? last : "(absent)";
}

static int setup(void **state)
{
	static const char *const dirs[] = {
		"spool", "home", "home/u1", "target", "target/u1",
		"target/u1/cur", "target/u1/new", "target/u1/tmp",
		"target/u1/.New", "target/u1/.New/cur", "target/u1/.New/new",
		"target/u1/.New/tmp", "work",
	};
	struct journal *j;
	struct journal_folder f;
	struct m2d_error err;
	struct m2d_hash h;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m2d-test-rollback-XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(mkdir(path(dirs[i]), 0700), 0);
	put(path("spool/u1"), OLD_MBOX);
	/* the maildir after cutover: UIDs 1, 2 from the mbox (2 now
	 * flagged), 3 appended in Dovecot, one delivered not yet listed */
	put_mtime("target/u1/cur/100.a:2,S", "Subject: one\n\nfirst\n",
		  1099995072);
	put_mtime("target/u1/cur/101.b:2,F", "Subject: two\n\nsecond\n",
		  1099995073);
	put_mtime("target/u1/cur/102.c:2,FSa",
		  "Return-Path: <x@example.org>\nSubject: three\nStatus: RO\n"
		  "x-uid : 9\nContent-Length: 17\nSTATUS\n"
		  "\nFrom here\nthree\n", 1700000000);
	put_mtime("target/u1/new/103.d", "Subject: four", 1700000100);
	put(path("target/u1/dovecot-uidlist"),
	    "3 V1234 N4 G0123456789abcdef0123456789abcdef\n"
	    "1 :100.a\n2 :101.b\n3 :102.c\n");
	put(path("target/u1/dovecot-keywords"), "0 Kw\n");
	put(path("target/u1/.New/maildirfolder"), "");
	put_mtime("target/u1/.New/cur/104.e:2,a", "Subject: new box\n\nhi\n",
		  1700000200);
	put(path("target/u1/.New/dovecot-uidlist"),
	    "3 V555 N8 G0123456789abcdef0123456789abcdef\n7 :104.e\n");
	put(path("target/u1/.New/dovecot-keywords"), "0 Project\n");
	/* Dovecot's subscriptions (version 2: TAB between levels): the new
	 * folder among them; UW's list has an old one, no last newline */
	put(path("target/u1/subscriptions"),
	    "V\t2\n\nINBOX\nNew\nGone\tAway\n");
	put(path("home/u1/.mailboxlist"), "mail/Old");

	assert_int_equal(journal_open(path("work"), &j, &err), 0);
	assert_int_equal(journal_user_created(j, "u1", path("target/u1"),
					      &err), 0);
	assert_int_equal(journal_converting(j, "u1", "u1/INBOX",
					    path("target/u1"), "", &err), 0);
	assert_int_equal(stat(path("spool/u1"), &st), 0);
	m2d_hash_init(&h);
	m2d_hash_update(&h, OLD_MBOX, strlen(OLD_MBOX));
	memset(&f, 0, sizeof(f));
	f.user = "u1";
	f.listed = "u1/INBOX";
	f.target = path("target/u1");
	f.dirname = "";
	f.state = JOURNAL_DONE;
	f.source.dev = st.st_dev;
	f.source.ino = st.st_ino;
	f.source.size = st.st_size;
	f.source.checksum = m2d_hash_final(&h);
	f.messages = 2;
	f.uidvalidity = 1234;
	f.nextuid = 3;
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

/* What the last run reported about failed folders and subscriptions:
 * "user name: error" lines. */
static char reported[8192];

static void collect(const struct rollback_folder_report *r, void *ctx)
{
	char buf[2048];
	size_t n = strlen(reported);

	(void)ctx;
	if (getenv("M2D_TEST_VERBOSE") != NULL && r->error != NULL)
		fprintf(stderr, "# %s %s: %s\n", r->user, r->name,
			m2d_error_str(r->error, buf, sizeof(buf)));
	if (r->error != NULL)
		snprintf(reported + n, sizeof(reported) - n, "%s %s: %s\n",
			 r->user, r->name,
			 m2d_error_str(r->error, buf, sizeof(buf)));
	n = strlen(reported);
	if (r->subscribe_error != NULL)
		snprintf(reported + n, sizeof(reported) - n,
			 "%s %s: subscribe: %s\n", r->user, r->name,
			 m2d_error_str(r->subscribe_error, buf, sizeof(buf)));
}

static int run(struct rollback_totals *t, struct m2d_error *err)
{
	struct m2d_config cfg;
	struct rollback_settings set;
	struct journal *j;
	int rc;

	assert_int_equal(m2d_config_load(&cfg, NULL, err), 0);
	m2d_config_set(&cfg.spool_dir, path("spool"));
	m2d_config_set(&cfg.homes_dir, path("home"));
	m2d_config_set(&cfg.target_base, path("target"));
	m2d_config_set(&cfg.work_dir, path("work"));
	memset(&set, 0, sizeof(set));
	set.cfg = &cfg;
	set.report = collect;
	reported[0] = '\0';
	assert_int_equal(journal_open(cfg.work_dir, &j, err), 0);
	/* a FIFO the code waits on would hang here: the alarm ends it */
	alarm(20);
	rc = rollback_mail(&set, j, t, err);
	alarm(0);
	journal_close(&j);
	m2d_config_free(&cfg);
	return rc;
}

struct got {
	unsigned long uid, uidvalidity;
	unsigned int flags;
	time_t date;
	char keywords[64];
	char body[256];
};

/* The messages of an mbox as UW's rules (and our reader) see them. */
static size_t read_back(const char *mbox, struct got *g, size_t max)
{
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	struct uw_uids uids;
	size_t n = 0;
	int rc;

	assert_int_equal(mbox_reader_open(AT_FDCWD, mbox, NULL, &r, &err), 0);
	while ((rc = mbox_reader_next(r, &msg, &err)) > 0) {
		const unsigned char *data;
		size_t len, o = 0;
		bool reset;

		assert_true(n < max);
		if (n == 0)
			uw_uids_init(&uids, mbox_reader_meta(r));
		memset(&g[n], 0, sizeof(g[n]));
		g[n].uid = uw_uids_next(&uids, &msg, &reset);
		g[n].uidvalidity = mbox_reader_meta(r)->uidvalidity;
		g[n].flags = msg.flags;
		g[n].date = msg.from.date;
		snprintf(g[n].keywords, sizeof(g[n].keywords), "%s",
			 msg.keywords);
		while (mbox_reader_read(r, &data, &len, &err) > 0) {
			assert_true(o + len < sizeof(g[n].body));
			memcpy(g[n].body + o, data, len);
			o += len;
		}
		n++;
	}
	assert_int_equal(rc, 0);
	mbox_reader_close(&r);
	return n;
}

static void test_carry(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;
	struct got g[8];
	struct stat st;
	char *after, *again;

	(void)state;
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.appended, 3);
	assert_int_equal(t.created, 1);
	assert_int_equal(t.flags_changed, 1);	/* message 2 flagged */
	assert_int_equal(t.failed, 0);

	after = slurp(path("spool/u1"));
	assert_non_null(after);
	/* the old bytes are the prefix, untouched */
	assert_memory_equal(after, OLD_MBOX, strlen(OLD_MBOX));
	assert_int_equal(read_back(path("spool/u1"), g, 8), 4);
	assert_int_equal(g[2].uid, 3);		/* = Dovecot's */
	assert_int_equal(g[2].flags, UW_SEEN | UW_OLD | UW_FLAGGED);
	assert_int_equal(g[2].date, 1700000000);
	assert_string_equal(g[2].keywords, "Kw");
	/* its own Status, X-UID headers dropped, in any case and spacing
	 * as c-client hides them; Content-Length kept (UW served it);
	 * "From " quoted */
	assert_string_equal(g[2].body, "Return-Path: <x@example.org>\n"
			    "Subject: three\nContent-Length: 17\n\n"
			    ">From here\nthree\n");
	assert_int_equal(g[3].uid, 4);		/* not yet listed: next */
	assert_int_equal(g[3].flags, 0);	/* new/: still \Recent */
	assert_int_equal(g[3].date, 1700000100);
	assert_string_equal(g[3].body, "Subject: four\n\n");
	assert_non_null(strstr(after, "\nFrom x@example.org "));
	assert_non_null(strstr(after, "\nFrom MAILER-DAEMON "));

	/* the folder made after cutover: its own mbox, Dovecot's UIDs */
	assert_int_equal(stat(path("home/u1/mail/New"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_back(path("home/u1/mail/New"), g, 8), 1);
	assert_int_equal(g[0].uidvalidity, 555);
	assert_int_equal(g[0].uid, 7);
	assert_string_equal(g[0].keywords, "Project");
	/* subscribed in Dovecot: in UW's list too, the user's, 0600 */
	assert_int_equal(t.subscribed, 1);
	assert_string_equal(slurp_static("home/u1/.mailboxlist"),
			    "mail/Old\nmail/New\n");
	assert_int_equal(stat(path("home/u1/.mailboxlist"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* again: nothing twice */
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.appended, 0);
	assert_int_equal(t.subscribed, 0);
	assert_string_equal(slurp_static("home/u1/.mailboxlist"),
			    "mail/Old\nmail/New\n");
	again = slurp(path("spool/u1"));
	assert_string_equal(again, after);
	free(again);

	/* one more message later: only it */
	put_mtime("target/u1/new/105.f", "Subject: five\n\nfive\n",
		  1700000300);
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.appended, 1);
	again = slurp(path("spool/u1"));
	assert_memory_equal(again, after, strlen(after));
	assert_int_equal(read_back(path("spool/u1"), g, 8), 5);
	free(again);
	free(after);
}

/* A message whose header never ends and whose last line is a lone CR:
 * that CR and the newline the writer adds are the header's end, after the
 * status block, not before it (UW found the flags in the body; found by
 * fuzz-mbox-append). */
static void test_lone_cr(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;
	struct got g[8];
	size_t n;

	(void)state;
	put_mtime("target/u1/cur/106.f:2,FS", "Subject: six\n\r", 1700000400);
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.failed, 0);
	n = read_back(path("spool/u1"), g, 8);
	assert_true(n >= 2);
	assert_int_equal(g[n - 1].date, 1700000400);
	assert_int_equal(g[n - 1].flags, UW_SEEN | UW_OLD | UW_FLAGGED);
	assert_string_equal(g[n - 1].body, "Subject: six\n\r\n");
}

/* The plain form of the subscriptions file (ours, Dovecot 1.x: '.'
 * between levels), and no ~/.mailboxlist yet: it is made. */
static void test_subscriptions_plain(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;

	(void)state;
	put(path("target/u1/subscriptions"), "INBOX\nNew\n");
	assert_int_equal(unlink(path("home/u1/.mailboxlist")), 0);
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.subscribed, 1);
	assert_string_equal(slurp_static("home/u1/.mailboxlist"),
			    "mail/New\n");
}

static void test_changed_mbox(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;
	char *before;
	FILE *f;

	(void)state;
	/* the old bytes are not those converted: nothing is written */
	f = fopen(path("spool/u1"), "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, 20, SEEK_SET), 0);
	fputc('X', f);
	fclose(f);
	before = slurp(path("spool/u1"));
	assert_int_equal(run(&t, &err), 1);
	assert_int_equal(t.failed, 1);
	assert_int_equal(t.appended, 1);	/* the new folder still */
	{
		char *now = slurp(path("spool/u1"));

		assert_string_equal(now, before);
		free(now);
	}
	free(before);
}


/* How often NEEDLE is in HAYSTACK. */
static int count_of(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

#define EVIL "1700000000.evil\nstate pending\nbefore 0\nx"

/* Attack 1: a message whose name forges the record's lines.  Carried
 * once, however often the rollback runs; the mbox never cut. */
static void test_newline_name(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;
	char *first, *now, *rec;

	(void)state;
	put_mtime("target/u1/cur/" EVIL ":2,S",
		  "Subject: evil\n\nname\n", 1700000400);
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.failed, 0);
	first = slurp(path("spool/u1"));
	assert_memory_equal(first, OLD_MBOX, strlen(OLD_MBOX));
	assert_int_equal(count_of(first, "Subject: evil\n"), 1);
	rec = slurp(path("work/rollback/u1/INBOX"));
	assert_non_null(rec);
	/* one line per name, escaped; the forged lines are not lines */
	assert_non_null(strstr(rec, "\nm 1700000000.evil\\nstate\\spending"
			       "\\nbefore\\s0\\nx\n"));
	assert_int_equal(count_of(rec, "\nstate "), 1);
	assert_non_null(strstr(rec, "\nstate done\n"));
	free(rec);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(run(&t, &err), 0);
		assert_int_equal(t.appended, 0);
		assert_int_equal(t.failed, 0);
		now = slurp(path("spool/u1"));
		assert_string_equal(now, first);
		free(now);
	}
	free(first);
}

/* A record we did not write (version 1, a forged line in it; a damaged
 * one; one cut short) is refused, its file and line named; nothing
 * written to the mbox. */
static void test_record_refused(void **state)
{
	static const char *const forged[] = {
		"mbox2dovecot-rollback 1\nstate done\nbefore 0\nsize 0\n"
		"m 1.x\nstate pending\nbefore 0\n",
		"mbox2dovecot-rollback 2\nstate done\nbefore 0\n"
		"beforesum 0000000000000000\nsize 0\nm a b\n",
		"mbox2dovecot-rollback 2\nstate done\nbefore -1\n",
		"mbox2dovecot-rollback 2\nstate done\nbefore 0\n"
		"beforesum 0000000000000000\nsize 0\nm a\\q\n",
		"mbox2dovecot-rollback 2\nstate done\n",
		"mbox2dovecot-rollback 3\n",
	};
	static const char *const where[] = {
		"/work/rollback/u1/INBOX:6: not a rollback record",
		"/work/rollback/u1/INBOX:6: not a rollback record",
		"/work/rollback/u1/INBOX:3: not a rollback record",
		"/work/rollback/u1/INBOX:6: not a rollback record",
		"/work/rollback/u1/INBOX:2: a rollback record cut short",
		"/work/rollback/u1/INBOX:1: not a rollback record",
	};
	struct rollback_totals t;
	struct m2d_error err;
	char *before, *now;

	(void)state;
	assert_int_equal(mkdir(path("work/rollback"), 0700), 0);
	assert_int_equal(mkdir(path("work/rollback/u1"), 0700), 0);
	before = slurp(path("spool/u1"));
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		put(path("work/rollback/u1/INBOX"), forged[i]);
		assert_int_equal(run(&t, &err), 1);
		assert_int_equal(t.failed, 1);
		assert_non_null(strstr(reported, where[i]));
		now = slurp(path("spool/u1"));
		assert_string_equal(now, before);
		free(now);
	}
	free(before);
}

/* A run killed while appending: cut back only once the bytes before the
 * cut are verified, by the record's checksum (version 2) or the
 * journal's (version 1). */
static void test_pending(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;
	char *good, *now, *rec, text[512];
	size_t old = strlen(OLD_MBOX);
	FILE *f;

	(void)state;
	assert_int_equal(run(&t, &err), 0);
	good = slurp(path("spool/u1"));
	rec = slurp(path("work/rollback/u1/INBOX"));
	/* version 1, pending at the converted size: verified by the
	 * journal's checksum, cut, appended again */
	snprintf(text, sizeof(text), "mbox2dovecot-rollback 1\nstate pending\n"
		 "before %zu\nsize %zu\n", old, old);
	put(path("work/rollback/u1/INBOX"), text);
	f = fopen(path("spool/u1"), "w");
	assert_non_null(f);
	fputs(OLD_MBOX, f);
	fputs("\nFrom half Thu Jan  1 00:00:00 2026\nSubj", f);
	fclose(f);
	assert_int_equal(run(&t, &err), 0);
	now = slurp(path("spool/u1"));
	assert_string_equal(now, good);
	free(now);

	/* version 2, pending, the checksum not the mbox's: nothing cut */
	snprintf(text, sizeof(text), "mbox2dovecot-rollback 2\nstate pending\n"
		 "before %zu\nbeforesum 0123456789abcdef\nsize %zu\n", old,
		 old);
	put(path("work/rollback/u1/INBOX"), text);
	f = fopen(path("spool/u1"), "w");
	assert_non_null(f);
	fputs(OLD_MBOX, f);
	fputs("\nFrom half Thu Jan  1 00:00:00 2026\nSubj", f);
	fclose(f);
	now = slurp(path("spool/u1"));
	assert_int_equal(run(&t, &err), 1);
	assert_non_null(strstr(reported, "nothing cut"));
	{
		char *after = slurp(path("spool/u1"));

		assert_string_equal(after, now);
		free(after);
	}
	free(now);

	/* version 1, pending before the converted size (the journal cannot
	 * vouch for it): nothing cut */
	put(path("work/rollback/u1/INBOX"), "mbox2dovecot-rollback 1\n"
	    "state pending\nbefore 10\nsize 10\n");
	now = slurp(path("spool/u1"));
	assert_int_equal(run(&t, &err), 1);
	assert_non_null(strstr(reported, "check it by hand"));
	{
		char *after = slurp(path("spool/u1"));

		assert_string_equal(after, now);
		free(after);
	}
	free(now);
	free(rec);
	free(good);
}

/* Attack 2: a FIFO where a file of the user's is: each run returns at
 * once (the alarm in run() would end a hang) and says why. */
static void test_fifos(void **state)
{
	static const struct {
		const char *rel;
		int rc;
		const char *said;
	} cases[] = {
		{ "target/u1/dovecot-uidlist", 1, "dovecot-uidlist: is a FIFO" },
		{ "target/u1/dovecot-keywords", 1,
		  "dovecot-keywords: is a FIFO" },
		{ "target/u1/new/103.d", 1, "new/103.d: not a regular file" },
		{ "target/u1/subscriptions", 0,
		  "u1/subscriptions: is a FIFO" },
		{ "home/u1/.mailboxlist", 0, ".mailboxlist: is a FIFO" },
		{ "spool/u1", 1, "spool/u1: is a FIFO" },
	};
	struct rollback_totals t;
	struct m2d_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char saved[600];

		snprintf(saved, sizeof(saved), "%s.saved", path(cases[i].rel));
		assert_int_equal(rename(path(cases[i].rel), saved), 0);
		assert_int_equal(mkfifo(path(cases[i].rel), 0600), 0);
		assert_int_equal(run(&t, &err), cases[i].rc);
		assert_non_null(strstr(reported, cases[i].said));
		/* each report of a refused file names it (H5-23) */
		assert_null(strstr(reported, "subscribe: \n"));
		if (strstr(cases[i].rel, "subscriptions") != NULL)
			assert_int_equal(t.refused, 1);
		assert_non_null(strstr(reported, "FIFO") != NULL ||
				strstr(reported, "not a regular") != NULL ?
				reported : NULL);
		assert_int_equal(unlink(path(cases[i].rel)), 0);
		assert_int_equal(rename(saved, path(cases[i].rel)), 0);
	}
}

/* Attack 6: a sparse 700 MB subscriptions is refused from its size, not
 * read; a sparse message file is not carried. */
static void test_sparse(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;
	char *before, *now;
	int fd;

	(void)state;
	fd = open(path("target/u1/subscriptions"), O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 700L << 20), 0);
	close(fd);
	assert_int_equal(run(&t, &err), 0);
	assert_non_null(strstr(reported, "subscriptions: is 734003200 bytes, "
			       "more than the 1048576"));
	assert_int_equal(t.subscribed, 0);

	before = slurp(path("spool/u1"));
	fd = open(path("target/u1/new/106.sparse"), O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "Subject: s\n\n", 13), 13);
	assert_int_equal(ftruncate(fd, 64L << 20), 0);
	close(fd);
	assert_int_equal(run(&t, &err), 1);
	assert_non_null(strstr(reported, "106.sparse: a sparse file"));
	now = slurp(path("spool/u1"));
	assert_string_equal(now, before);
	free(now);
	free(before);
	assert_int_equal(unlink(path("target/u1/new/106.sparse")), 0);

	/* the mbox itself made a sparse giant: not hashed for hours */
	assert_int_equal(truncate(path("spool/u1"), 700L << 20), 0);
	assert_int_equal(run(&t, &err), 1);
	assert_non_null(strstr(reported, "spool/u1: a sparse file"));
	{
		struct stat st;

		assert_int_equal(stat(path("spool/u1"), &st), 0);
		assert_int_equal(st.st_size, 700L << 20);
	}
}

/* A maildir folder that is a symlink (to another user's, say) is not
 * followed; nor is the maildir root. */
static void test_symlinks(void **state)
{
	struct rollback_totals t;
	struct m2d_error err;

	(void)state;
	assert_int_equal(rename(path("target/u1/.New"),
				path("target/other")), 0);
	assert_int_equal(symlink(path("target/other"), path("target/u1/.New")),
			 0);
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.appended, 2);	/* the inbox's only */
	assert_int_equal(access(path("home/u1/mail/New"), F_OK), -1);

	assert_int_equal(rename(path("target/u1"), path("target/u1-real")),
			 0);
	assert_int_equal(symlink(path("target/u1-real"), path("target/u1")),
			 0);
	assert_int_equal(run(&t, &err), 1);
	assert_int_equal(t.failed, 1);		/* said once, for the INBOX */
	assert_non_null(strstr(reported, "u1 INBOX: "));
	assert_non_null(strstr(reported, "symbolic link"));
}


/* An INBOX that was never migrated (its spool file refused: a FIFO, a
 * link to another's) and no mail in the maildir's root since: the spool
 * file is left alone, and the rollback does not fail for it. */
static void test_inbox_not_migrated(void **state)
{
	static const char *const files[] = {
		"target/u1/cur/100.a:2,S", "target/u1/cur/101.b:2,F",
		"target/u1/cur/102.c:2,FSa", "target/u1/new/103.d",
	};
	struct rollback_totals t;
	struct m2d_error err;
	struct journal *j;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		assert_int_equal(unlink(path(files[i])), 0);
	assert_int_equal(journal_open(path("work"), &j, &err), 0);
	assert_int_equal(journal_forget(j, "u1", "u1/INBOX", &err), 0);
	journal_close(&j);
	assert_int_equal(unlink(path("spool/u1")), 0);
	assert_int_equal(mkfifo(path("spool/u1"), 0600), 0);
	assert_int_equal(run(&t, &err), 0);
	assert_int_equal(t.failed, 0);
	assert_null(strstr(reported, "u1 INBOX"));
}


/* A dovecot-uidlist Dovecot cannot have written decides nothing: it is
 * refused, its line named, nothing appended (H5-24). */
static void test_forged_uidlist(void **state)
{
	static const struct {
		const char *text;
		const char *where;
	} cases[] = {
		{ "3 V1234 N4\n1 :100.a\n1 :101.b\n", "dovecot-uidlist:3:" },
		{ "3 V1234 N99 G0\n1 ../../bob/cur/forged\n",
		  "dovecot-uidlist:2:" },
		{ "3 V1234 N99\n1 :100.a\n98 :../../../etc/shadow\n",
		  "dovecot-uidlist:3:" },
		{ "3 V1234 N4\nx :100.a\n", "dovecot-uidlist:2:" },
		{ "2 V1234\n", "dovecot-uidlist:1:" },
		/* a file listed twice; a UID beyond 32 bits (fuzz) */
		{ "3 V1234 N4\n1 :100.a\n2 :101.b\n3 :100.a\n",
		  "dovecot-uidlist:4:" },
		{ "3 V1234 N4\n1 :100.a\n4294967296 :101.b\n",
		  "dovecot-uidlist:3:" },
	};
	struct rollback_totals t;
	struct m2d_error err;
	char *before = slurp(path("spool/u1")), *now;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(path("target/u1/dovecot-uidlist"), cases[i].text);
		assert_int_equal(run(&t, &err), 1);
		assert_non_null(strstr(reported, cases[i].where));
		now = slurp(path("spool/u1"));
		assert_string_equal(now, before);
		free(now);
	}
	free(before);
}

/* A uidlist that is not the folder's as migrated (swapped back to an
 * older one, of another UIDVALIDITY, gone) would make old messages look
 * new: refused, named, nothing appended (H5-24). */
static void test_stale_uidlist(void **state)
{
	static const struct {
		const char *text;	/* NULL: no uidlist */
		const char *why;
	} cases[] = {
		{ "3 V1234 N2 G0123456789abcdef0123456789abcdef\n1 :100.a\n",
		  "older than the migration" },
		{ "3 V999 N4\n1 :100.a\n2 :101.b\n3 :102.c\n",
		  "older than the migration" },
		{ NULL, "missing" },
	};
	struct rollback_totals t;
	struct m2d_error err;
	char *before = slurp(path("spool/u1")), *now;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].text != NULL)
			put(path("target/u1/dovecot-uidlist"), cases[i].text);
		else
			assert_int_equal(unlink(path("target/u1/"
						     "dovecot-uidlist")), 0);
		assert_int_equal(run(&t, &err), 1);
		assert_non_null(strstr(reported, "dovecot-uidlist"));
		assert_non_null(strstr(reported, cases[i].why));
		now = slurp(path("spool/u1"));
		assert_string_equal(now, before);
		free(now);
	}
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_carry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lone_cr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions_plain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changed_mbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newline_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_record_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sparse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inbox_not_migrated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_uidlist, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_uidlist, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
