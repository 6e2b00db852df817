/* test-rollback.c - the mail of the maildirs carried back into the mboxes
 * (rollback.h), on a small hand-made migration: one INBOX with old, new,
 * not yet listed messages and a flag changed; a folder made after
 * cutover; a second run; a mbox changed behind our back.
 */
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
	assert_int_equal(journal_open(cfg.work_dir, &j, err), 0);
	rc = rollback_mail(&set, j, t, err);
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
	/* its own Status header dropped, "From " quoted */
	assert_string_equal(g[2].body, "Return-Path: <x@example.org>\n"
			    "Subject: three\n\n>From here\nthree\n");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_carry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions_plain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changed_mbox, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
