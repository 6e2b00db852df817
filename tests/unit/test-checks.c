/* SPDX-License-Identifier: MIT */
/*
 * test-checks.c - the pre-flight checks from injected facts: every check
 * PASS / WARN / FAIL where the facts allow, the report (values, entries,
 * worst status), and the probes that can run on a scratch tree: locks,
 * the target (existing, creatable, foreign entries, entries of ours from a
 * journal -- read from a copy, the work dir byte-identical after), the
 * UW-IMAP service files under a scratch root, /etc/skel, a TCP port held
 * by this test, and the timed sample (its scratch dir removed after).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "dotlock.h"
#include "journal.h"
#include "postfix-conf.h"

static char top[64];

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/test-checks.XXXXXX");
	return mkdtemp(top) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void mk(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static const struct check_item *item(const struct checks_report *rep,
				     const char *id)
{
	const struct check_item *it = checks_find(rep, id);

	if (it == NULL)
		fail_msg("no check %s", id);
	return it;
}

static enum check_status st(const struct checks_report *rep, const char *id)
{
	return item(rep, id)->res.status;
}

static long long fig(const struct checks_report *rep, const char *id,
		     const char *key)
{
	const struct check_figure *f = check_result_get(&item(rep, id)->res,
							key);

	assert_non_null(f);
	return f->value;
}

/* A fail or warn always says what to do; a pass never does. */
static void assert_fixes(const struct checks_report *rep)
{
	for (size_t i = 0; i < rep->nitems; i++) {
		const struct check_item *it = &rep->items[i];

		assert_true(it->res.detail[0] != '\0');
		assert_null(strchr(it->res.detail, '\n'));
		assert_null(strchr(it->res.fix, '\n'));
		if (it->res.status == CHECK_PASS)
			assert_string_equal(it->res.fix, "");
		else
			assert_true(it->res.fix[0] != '\0');
	}
}

/* ---- the report ---- */

static void test_report(void **state)
{
	struct checks_report rep;
	struct check_item *it;
	size_t counts[3];
	int i;

	(void)state;
	checks_report_init(&rep);
	assert_int_equal(checks_worst(&rep, counts), CHECK_PASS);
	it = checks_add(&rep, "g", "a", "A");
	assert_int_equal(check_item_value(it, "k", "v"), 0);
	assert_int_equal(check_item_value(it, "n", NULL), 0);
	assert_string_equal(check_item_get_value(it, "k"), "v");
	assert_string_equal(check_item_get_value(it, "n"), "");
	assert_null(check_item_get_value(it, "x"));
	for (i = 0; i < CHECK_MAX_ENTRIES + 5; i++)
		assert_int_equal(check_item_entry(it, "s", "kind", "t",
						  i == 0 ? "sug" : NULL), 0);
	assert_int_equal(it->nentries, CHECK_MAX_ENTRIES);
	assert_int_equal(it->entries_total, CHECK_MAX_ENTRIES + 5);
	assert_string_equal(it->entries[0].suggestion, "sug");
	check_item_raise(it, CHECK_WARN);
	check_item_raise(it, CHECK_PASS);
	assert_int_equal(it->res.status, CHECK_WARN);
	it = checks_add(&rep, "g", "b", "B");
	it->res.status = CHECK_FAIL;
	checks_add(&rep, "g", "c", "C");
	assert_int_equal(checks_worst(&rep, counts), CHECK_FAIL);
	assert_int_equal(counts[0], 1);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[2], 1);
	checks_report_free(&rep);
}

/* ---- folders and sources from a hand-made plan ---- */

static struct plan_folder folder(size_t user, const char *listed,
				 const char *name, const char *dirname,
				 long long size, enum plan_skip skip)
{
	struct plan_folder f;

	memset(&f, 0, sizeof(f));
	f.user = user;
	f.listed = (char *)listed;
	f.source = (char *)listed;
	f.name = (char *)name;
	f.dirname = (char *)dirname;
	f.size = size;
	f.skip = skip;
	return f;
}

static void test_folders(void **state)
{
	struct plan_user users[1] = { { .name = "alice" } };
	struct plan_folder fs[4];
	struct plan plan = { .users = users, .nusers = 1, .folders = fs,
			     .nfolders = 0 };
	struct checks_report rep;

	(void)state;
	fs[0] = folder(0, "alice/INBOX", "INBOX", "", 10, PLAN_TAKEN);
	fs[1] = folder(0, "alice/mail/R&D", "R&D", ".R&-D", 10, PLAN_TAKEN);
	plan.nfolders = 2;
	checks_report_init(&rep);
	checks_eval_folders(&plan, &rep);
	assert_int_equal(st(&rep, "folder_names"), CHECK_PASS);
	assert_int_equal(fig(&rep, "folder_names", "rename"), 0);
	/* script characters: listed, never a warning (no shell here) */
	assert_int_equal(st(&rep, "folder_chars"), CHECK_PASS);
	assert_int_equal(fig(&rep, "folder_chars", "folders"), 1);
	assert_string_equal(item(&rep, "folder_chars")->entries[0].subject,
			    "alice/mail/R&D");
	assert_fixes(&rep);
	checks_report_free(&rep);

	fs[2] = folder(0, "alice/mail/a.b", "a.b", NULL, 5, PLAN_SKIP_NAME);
	fs[2].problem = FOLDER_DOT;
	fs[2].suggestion = "a_b";
	plan.nfolders = 3;
	checks_report_init(&rep);
	checks_eval_folders(&plan, &rep);
	/* not a failure: runbook step 4 decides it */
	assert_int_equal(st(&rep, "folder_names"), CHECK_WARN);
	assert_non_null(strstr(item(&rep, "folder_names")->res.fix,
			       "step 4"));
	assert_null(strstr(item(&rep, "folder_names")->res.fix,
			   "rename them on disk"));
	assert_int_equal(fig(&rep, "folder_names", "rename"), 1);
	assert_string_equal(item(&rep, "folder_names")->entries[0].kind,
			    "dot");
	assert_string_equal(item(&rep, "folder_names")->entries[0].suggestion,
			    "a_b");
	assert_non_null(strstr(item(&rep, "folder_names")->res.detail,
			       "alice/mail/a.b"));
	assert_fixes(&rep);
	checks_report_free(&rep);
}

static void test_sources(void **state)
{
	struct plan_user users[2] = { { .name = "alice" }, { .name = "bob" } };
	struct plan_folder fs[8];
	struct plan plan = { .users = users, .nusers = 2, .folders = fs,
			     .nfolders = 0 };
	struct fs_estimate est;
	struct checks_report rep;
	bool locked[8] = { false };

	(void)state;
	memset(&est, 0, sizeof(est));
	est.users = 2;
	est.folders = 2;
	est.messages = 7;
	est.bytes = 1234;
	fs[0] = folder(0, "alice/INBOX", "INBOX", "", 10, PLAN_TAKEN);
	fs[1] = folder(1, "bob/INBOX", "INBOX", "", 10, PLAN_TAKEN);
	plan.nfolders = 2;
	checks_report_init(&rep);
	checks_eval_sources(&plan, &est, locked, &rep);
	assert_int_equal(checks_worst(&rep, NULL), CHECK_PASS);
	assert_int_equal(fig(&rep, "messages", "messages"), 7);
	assert_int_equal(fig(&rep, "messages", "bytes"), 1234);
	assert_int_equal(fig(&rep, "users_without_inbox", "count"), 0);
	assert_fixes(&rep);
	checks_report_free(&rep);

	/* bob without inbox (PASS, listed), everything else wrong */
	fs[1] = folder(1, "bob/mail/x", "x", ".x", 10, PLAN_TAKEN);
	fs[2] = folder(0, "alice/mail/secret", NULL, NULL, -1,
		       PLAN_SKIP_UNREADABLE);
	fs[3] = folder(0, "alice/mail/old.mbx", NULL, NULL, 9, PLAN_SKIP_MBX);
	fs[4] = folder(0, "alice/mail/link", NULL, NULL, -1,
		       PLAN_SKIP_SYMLINK);
	fs[5] = folder(0, "alice/mail/notes.txt", NULL, NULL, 3,
		       PLAN_SKIP_NOT_MBOX);
	plan.nfolders = 6;
	locked[0] = true;
	est.unreadable = 1;
	checks_report_init(&rep);
	checks_eval_sources(&plan, &est, locked, &rep);
	assert_int_equal(st(&rep, "messages"), CHECK_WARN);
	assert_int_equal(st(&rep, "users_without_inbox"), CHECK_PASS);
	assert_int_equal(fig(&rep, "users_without_inbox", "count"), 1);
	assert_string_equal(item(&rep, "users_without_inbox")->entries[0].
			    subject, "bob");
	assert_int_equal(st(&rep, "unreadable"), CHECK_FAIL);
	assert_int_equal(st(&rep, "mbx"), CHECK_WARN);
	assert_int_equal(st(&rep, "symlinks"), CHECK_WARN);
	assert_int_equal(st(&rep, "skipped"), CHECK_PASS);
	assert_int_equal(fig(&rep, "skipped", "count"), 1);
	assert_string_equal(item(&rep, "skipped")->entries[0].kind,
			    "not_mbox");
	assert_int_equal(st(&rep, "locked"), CHECK_WARN);
	assert_int_equal(fig(&rep, "locked", "count"), 1);
	assert_int_equal(checks_worst(&rep, NULL), CHECK_FAIL);
	assert_fixes(&rep);
	checks_report_free(&rep);
}

static void test_locked(void **state)
{
	struct mbox_lock_settings saved = *mbox_locks_get(), quick = saved;
	char mbox[256], lock[256];
	int fd;

	(void)state;
	put("box", "From a@b Tue Nov  9 10:11:12 2004\n\nx\n");
	snprintf(mbox, sizeof(mbox), "%s/box", top);
	snprintf(lock, sizeof(lock), "%s/box.lock", top);
	assert_false(checks_mbox_locked(mbox));
	/* empty, as Postfix's and UW's are: held */
	put("box.lock", "");
	assert_true(checks_mbox_locked(mbox));
	/* stale (its ctime older than mbox_lock_stale, as Postfix and UW
	 * judge it): not held, and left where it is */
	quick.stale_secs = 1;
	mbox_locks_configure(&quick);
	sleep(2);
	assert_false(checks_mbox_locked(mbox));
	mbox_locks_configure(&saved);
	assert_int_equal(access(lock, F_OK), 0);
	unlink(lock);
	/* a writer's flock (UW appending): held; not when flock is not
	 * one of the site's locks */
	fd = open(mbox, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_true(checks_mbox_locked(mbox));
	quick = saved;
	quick.locks = MBOX_LOCK_DOTLOCK | MBOX_LOCK_FCNTL;
	mbox_locks_configure(&quick);
	assert_false(checks_mbox_locked(mbox));
	mbox_locks_configure(&saved);
	close(fd);
	assert_false(checks_mbox_locked(mbox));
}

/* ---- target ---- */

static void test_target(void **state)
{
	struct m2d_config cfg;
	struct check_target_facts f;
	struct checks_report rep;
	struct journal *j;
	struct m2d_error err;
	char base[256], work[256], jpath[300], t[300];
	struct stat before, after;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(base, sizeof(base), "%s/target/deeper", top);
	snprintf(work, sizeof(work), "%s/work", top);
	cfg.target_base = base;
	cfg.work_dir = work;
	cfg.spool_dir = top;

	/* missing, creatable; same fs as the spool: warn */
	assert_int_equal(checks_probe_target(&cfg, top, &f, &err), 0);
	assert_false(f.exists);
	assert_true(f.creatable);
	assert_true(f.same_fs_spool);
	assert_false(f.journal);
	checks_report_init(&rep);
	checks_eval_target(&f, &rep);
	assert_int_equal(st(&rep, "target_base"), CHECK_PASS);
	assert_int_equal(st(&rep, "target_empty"), CHECK_PASS);
	assert_int_equal(st(&rep, "target_fs"), CHECK_WARN);
	assert_fixes(&rep);
	checks_report_free(&rep);
	/* the probe created nothing */
	snprintf(t, sizeof(t), "%s/target", top);
	assert_int_equal(access(t, F_OK), -1);
	assert_int_equal(access(work, F_OK), -1);

	/* not creatable */
	f.creatable = false;
	checks_report_init(&rep);
	checks_eval_target(&f, &rep);
	assert_int_equal(st(&rep, "target_base"), CHECK_FAIL);
	assert_fixes(&rep);
	checks_report_free(&rep);

	/* a foreign entry: fail; a journal that knows one of two: still */
	mk("target");
	mk("target/deeper");
	mk("target/deeper/alice");
	mk("target/deeper/lost+found");
	assert_int_equal(journal_open(work, &j, &err), 0);
	snprintf(t, sizeof(t), "%s/alice", base);
	assert_int_equal(journal_user_created(j, "alice", t, &err), 0);
	journal_close(&j);
	snprintf(jpath, sizeof(jpath), "%s/journal", work);
	/* a torn last line: a replay would cut it; ours reads a copy */
	{
		FILE *fp = fopen(jpath, "a");

		fputs("D\ttorn", fp);
		fclose(fp);
	}
	assert_int_equal(stat(jpath, &before), 0);
	assert_int_equal(checks_probe_target(&cfg, top, &f, &err), 0);
	assert_int_equal(stat(jpath, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_true(f.exists);
	assert_true(f.journal);
	assert_int_equal(f.entries, 2);
	assert_int_equal(f.ours, 1);
	assert_string_equal(f.foreign, "lost+found");
	checks_report_init(&rep);
	checks_eval_target(&f, &rep);
	assert_int_equal(st(&rep, "target_empty"), CHECK_FAIL);
	assert_int_equal(fig(&rep, "target_empty", "foreign"), 1);
	assert_fixes(&rep);
	checks_report_free(&rep);

	/* only ours: pass */
	snprintf(t, sizeof(t), "%s/lost+found", base);
	rmdir(t);
	assert_int_equal(checks_probe_target(&cfg, top, &f, &err), 0);
	checks_report_init(&rep);
	checks_eval_target(&f, &rep);
	assert_int_equal(st(&rep, "target_empty"), CHECK_PASS);
	assert_int_equal(fig(&rep, "target_empty", "ours"), 1);
	checks_report_free(&rep);
	/* no scratch copy of the journal left behind */
	{
		DIR *d = opendir(top);
		struct dirent *de;

		while ((de = readdir(d)) != NULL)
			assert_null(strstr(de->d_name, "m2d-check"));
		closedir(d);
	}

	/* not a directory */
	memset(&f, 0, sizeof(f));
	f.exists = f.not_dir = true;
	checks_report_init(&rep);
	checks_eval_target(&f, &rep);
	assert_int_equal(st(&rep, "target_base"), CHECK_FAIL);
	checks_report_free(&rep);
}

/* ---- Dovecot and logging ---- */

static void dovecot_ok(struct check_dovecot_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->installed = true;
	strcpy(f->version, "2.3.19");
	f->syntax = DC_SYNTAX_2;
	f->conf_ok = true;
	strcpy(f->conf_path, "/etc/dovecot/dovecot.conf");
	f->layout = DC_LAYOUT_CONFD;
	strcpy(f->mail_location, "mbox:~/mail:INBOX=/var/mail/%u");
	f->running = 0;
	strcpy(f->test_address, "127.0.0.1");
	f->test_port = 1043;
	f->test_port_free = 1;
	strcpy(f->syslog_facility, "mail");
}

static void test_dovecot(void **state)
{
	struct check_dovecot_facts f;
	struct checks_report rep;

	(void)state;
	dovecot_ok(&f);
	checks_report_init(&rep);
	checks_eval_dovecot(&f, &rep);
	checks_eval_logging(&f, &rep);
	assert_int_equal(checks_worst(&rep, NULL), CHECK_PASS);
	assert_string_equal(check_item_get_value(item(&rep,
		"dovecot_installed"), "version"), "2.3.19");
	assert_string_equal(check_item_get_value(item(&rep,
		"dovecot_config"), "layout"), "conf.d");
	assert_string_equal(check_item_get_value(item(&rep,
		"dovecot_mail_location"), "mail_location"),
		"mbox:~/mail:INBOX=/var/mail/%u");
	assert_non_null(strstr(item(&rep, "dovecot_logging")->res.detail,
			       "mail"));
	assert_fixes(&rep);
	checks_report_free(&rep);

	/* port in use: fail; unknown: warn */
	f.test_port_free = 0;
	checks_report_init(&rep);
	checks_eval_dovecot(&f, &rep);
	assert_int_equal(st(&rep, "dovecot_test_port"), CHECK_FAIL);
	assert_fixes(&rep);
	checks_report_free(&rep);
	f.test_port_free = -1;
	f.test_port_errno = EACCES;
	checks_report_init(&rep);
	checks_eval_dovecot(&f, &rep);
	assert_int_equal(st(&rep, "dovecot_test_port"), CHECK_WARN);
	checks_report_free(&rep);

	/* a log file in a directory that does not exist: warn */
	dovecot_ok(&f);
	snprintf(f.log_path, sizeof(f.log_path), "%s/nodir/dovecot.log", top);
	checks_report_init(&rep);
	checks_eval_logging(&f, &rep);
	assert_int_equal(st(&rep, "dovecot_logging"), CHECK_WARN);
	assert_fixes(&rep);
	checks_report_free(&rep);
	snprintf(f.log_path, sizeof(f.log_path), "%s/dovecot.log", top);
	checks_report_init(&rep);
	checks_eval_logging(&f, &rep);
	assert_int_equal(st(&rep, "dovecot_logging"), CHECK_PASS);
	checks_report_free(&rep);

	/* broken config: fail, the dependent checks left out */
	f.conf_ok = false;
	strcpy(f.error, "doveconf: Fatal: Error in configuration file");
	checks_report_init(&rep);
	checks_eval_dovecot(&f, &rep);
	checks_eval_logging(&f, &rep);
	assert_int_equal(st(&rep, "dovecot_config"), CHECK_FAIL);
	assert_null(checks_find(&rep, "dovecot_test_port"));
	assert_null(checks_find(&rep, "dovecot_logging"));
	assert_fixes(&rep);
	checks_report_free(&rep);

	/* not installed */
	memset(&f, 0, sizeof(f));
	strcpy(f.error, "execvp(dovecot) failed");
	checks_report_init(&rep);
	checks_eval_dovecot(&f, &rep);
	assert_int_equal(rep.nitems, 1);
	assert_int_equal(st(&rep, "dovecot_installed"), CHECK_FAIL);
	assert_fixes(&rep);
	checks_report_free(&rep);
}

static void test_dovecot_missing_tool(void **state)
{
	struct dc_tools tools = { "/nonexistent/dovecot", NULL };
	struct check_dovecot_facts f;

	(void)state;
	assert_int_equal(checks_probe_dovecot(&tools, "/nonexistent.conf",
					      "127.0.0.1", 1043, &f), 0);
	assert_false(f.installed);
	assert_true(f.error[0] != '\0');
}

/* ---- Postfix ---- */

static void test_postfix(void **state)
{
	struct check_postfix_facts f;
	struct checks_report rep;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.installed = true;
	strcpy(f.version, "3.7.11");
	strcpy(f.mail_spool_directory, "/var/mail");
	strcpy(f.mailbox_delivery_lock, "fcntl, dotlock");
	checks_report_init(&rep);
	checks_eval_postfix(&f, &rep);
	assert_int_equal(checks_worst(&rep, NULL), CHECK_PASS);
	assert_string_equal(check_item_get_value(item(&rep,
		"postfix_delivery"), "mail_spool_directory"), "/var/mail");
	assert_fixes(&rep);
	checks_report_free(&rep);

	strcpy(f.mailbox_command, "/usr/bin/procmail");
	strcpy(f.mailbox_delivery_lock, "fcntl");
	checks_report_init(&rep);
	checks_eval_postfix(&f, &rep);
	assert_int_equal(st(&rep, "postfix_delivery"), CHECK_WARN);
	assert_non_null(strstr(item(&rep, "postfix_delivery")->res.detail,
			       "procmail"));
	assert_int_equal(st(&rep, "postfix_lock"), CHECK_WARN);
	assert_fixes(&rep);
	checks_report_free(&rep);

	f.mailbox_command[0] = '\0';
	strcpy(f.mailbox_transport, "lmtp:unix:private/dovecot-lmtp");
	checks_report_init(&rep);
	checks_eval_postfix(&f, &rep);
	assert_int_equal(st(&rep, "postfix_delivery"), CHECK_WARN);
	checks_report_free(&rep);

	strcpy(f.error, "postconf: fatal: open main.cf");
	checks_report_init(&rep);
	checks_eval_postfix(&f, &rep);
	assert_int_equal(rep.nitems, 1);
	assert_int_equal(st(&rep, "postfix_installed"), CHECK_FAIL);
	assert_fixes(&rep);
	checks_report_free(&rep);

	memset(&f, 0, sizeof(f));
	checks_report_init(&rep);
	checks_eval_postfix(&f, &rep);
	assert_int_equal(st(&rep, "postfix_installed"), CHECK_FAIL);
	checks_report_free(&rep);
}

/* ---- UW-IMAP, accounts ---- */

static void test_uw(void **state)
{
	struct check_uw_facts f;
	struct checks_report rep;
	char root[256], proc[256];

	(void)state;
	mk("root");
	mk("root/etc");
	mk("root/etc/xinetd.d");
	mk("proc");
	mk("proc/123");
	mk("proc/self");
	put("proc/123/comm", "imapd\n");
	put("root/etc/xinetd.d/imap",
	    "# default: off\nservice imap\n{\n\tsocket_type = stream\n"
	    "\tserver = /usr/sbin/imapd\n\tdisable = no\n}\n");
	put("root/etc/xinetd.d/imaps",
	    "service imaps\n{\n\tserver = /usr/sbin/imapd\n"
	    "\tdisable = yes\n}\n");
	put("root/etc/xinetd.d/telnet", "service telnet\n{\n}\n");
	put("root/etc/inetd.conf",
	    "#<off># imap2 stream tcp nowait root /usr/sbin/tcpd "
	    "/usr/sbin/imapd\n");
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(proc, sizeof(proc), "%s/proc", top);
	assert_int_equal(checks_probe_uw(root, proc, "127.0.0.1", 1, 2, &f), 0);
	assert_int_equal(f.enabled, 1);
	assert_int_equal(f.disabled, 2);
	assert_string_equal(f.files, "xinetd.d/imap");
	assert_int_equal(f.imapd_processes, 1);
	checks_report_init(&rep);
	checks_eval_uw(&f, &rep);
	assert_int_equal(checks_worst(&rep, NULL), CHECK_PASS);
	assert_int_equal(fig(&rep, "uw_services", "enabled"), 1);
	assert_int_equal(fig(&rep, "uw_sessions", "imapd"), 1);
	assert_non_null(strstr(item(&rep, "uw_services")->res.detail,
			       "xinetd.d/imap"));
	assert_fixes(&rep);
	checks_report_free(&rep);
}

static void test_accounts(void **state)
{
	struct check_accounts_facts f;
	struct check_postfix_facts pf;
	struct checks_report rep;
	struct m2d_config cfg;
	char root[256];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&pf, 0, sizeof(pf));
	mk("root");
	mk("root/etc");
	mk("root/etc/skel");
	snprintf(root, sizeof(root), "%s/root", top);
	assert_int_equal(checks_probe_accounts(root, &cfg, &pf, &f), 0);
	assert_true(f.skel_exists);
	assert_false(f.skel_cur);
	checks_report_init(&rep);
	checks_eval_accounts(&f, &rep);
	assert_int_equal(checks_worst(&rep, NULL), CHECK_PASS);
	checks_report_free(&rep);

	/* the maildir in the home: skel must have cur new tmp */
	strcpy(pf.home_mailbox, "Maildir/");
	assert_int_equal(checks_probe_accounts(root, &cfg, &pf, &f), 0);
	checks_report_init(&rep);
	checks_eval_accounts(&f, &rep);
	assert_int_equal(st(&rep, "skel_maildir"), CHECK_WARN);
	assert_fixes(&rep);
	checks_report_free(&rep);
	mk("root/etc/skel/cur");
	mk("root/etc/skel/new");
	mk("root/etc/skel/tmp");
	assert_int_equal(checks_probe_accounts(root, &cfg, &pf, &f), 0);
	checks_report_init(&rep);
	checks_eval_accounts(&f, &rep);
	assert_int_equal(st(&rep, "skel_maildir"), CHECK_PASS);
	assert_int_equal(fig(&rep, "skel_maildir", "maildir"), 1);
	checks_report_free(&rep);
}

/* ---- ports ---- */

static void test_ports(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, e;
	unsigned int port;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	assert_int_equal(checks_tcp_listening("127.0.0.1", port), 1);
	assert_int_equal(checks_tcp_free("127.0.0.1", port, &e), 0);
	close(fd);
	assert_int_equal(checks_tcp_listening("127.0.0.1", port), 0);
	assert_int_equal(checks_tcp_free("127.0.0.1", port, &e), 1);
	assert_int_equal(checks_tcp_free("not-an-address", port, &e), -1);
}


/* A port of 127.0.0.1 held (listening) by this test. */
static int hold_port(unsigned int *port_r)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

/* checks_run() as step 0 and "check" set it up from the config
 * (one code path): the UW-IMAP listener check probes the configured
 * imap_port/imaps_port, not 143/993; the skeleton is skel_dir. */
static void test_configured_ports(void **state)
{
	struct plan plan;
	struct m2d_config cfg;
	struct checks_settings set;
	struct pf_tools pf;
	struct checks_report rep;
	struct m2d_error err;
	const struct check_item *it;
	char target[256], root[256], proc[256], skel[256], scratch[256];
	char want[64];
	unsigned int held, held2;
	int fd = hold_port(&held), fd2;

	(void)state;
	memset(&plan, 0, sizeof(plan));
	memset(&cfg, 0, sizeof(cfg));
	mk("root");
	mk("root/etc");
	mk("proc");
	mk("skel");
	mk("scratch");
	snprintf(target, sizeof(target), "%s/target", top);
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(proc, sizeof(proc), "%s/proc", top);
	snprintf(skel, sizeof(skel), "%s/skel", top);
	snprintf(scratch, sizeof(scratch), "%s/scratch", top);
	cfg.target_base = target;
	cfg.work_dir = top;
	cfg.dovecot_command = "/nonexistent/dovecot";
	cfg.doveconf_command = "/nonexistent/doveconf";
	cfg.postconf_command = "/nonexistent/postconf";
	cfg.services_root = root;
	cfg.skel_dir = skel;
	cfg.imap_port = held;
	cfg.imaps_port = 0;		/* off: not probed, not named */
	cfg.jobs = 1;
	checks_settings_from_config(&set, &cfg, &plan, &pf);
	assert_string_equal(set.root, root);
	assert_ptr_equal(set.postfix, &pf);
	assert_string_equal(pf.postconf, "/nonexistent/postconf");
	set.proc = proc;
	set.scratch_dir = scratch;
	checks_report_init(&rep);
	assert_true(checks_run(&set, &rep, &err) >= 0);
	it = item(&rep, "uw_listener");
	assert_int_equal(fig(&rep, "uw_listener", "imap_port"), held);
	assert_int_equal(fig(&rep, "uw_listener", "imap_listening"), 1);
	assert_int_equal(fig(&rep, "uw_listener", "imaps_port"), 0);
	snprintf(want, sizeof(want), "listens on %u ", held);
	assert_non_null(strstr(it->res.detail, want));
	/* (the held port may contain the digits: whole words only) */
	assert_null(strstr(it->res.detail, " 143"));
	assert_null(strstr(it->res.detail, "/993"));
	assert_string_equal(check_item_get_value(item(&rep, "skel_maildir"),
						 "path"), skel);
	/* skel_dir named: step 19 fills it, and the check says so */
	assert_non_null(strstr(item(&rep, "skel_maildir")->res.detail,
			       "step 19"));
	checks_report_free(&rep);

	/* both configured ports, both free now: named, neither listening */
	fd2 = hold_port(&held2);
	close(fd);
	close(fd2);
	cfg.imaps_port = held2;
	checks_report_init(&rep);
	assert_true(checks_run(&set, &rep, &err) >= 0);
	assert_int_equal(fig(&rep, "uw_listener", "imap_listening"), 0);
	assert_int_equal(fig(&rep, "uw_listener", "imaps_port"), held2);
	snprintf(want, sizeof(want), "nothing listens on %u/%u ", held,
		 held2);
	assert_non_null(strstr(item(&rep, "uw_listener")->res.detail, want));
	checks_report_free(&rep);
}

/* ---- time ---- */

static void test_time(void **state)
{
	struct plan_user users[1] = { { .name = "alice" } };
	struct plan_folder fs[2];
	struct plan plan = { .users = users, .nusers = 1, .folders = fs,
			     .nfolders = 2 };
	struct m2d_config cfg;
	struct check_time_facts f;
	struct checks_report rep;
	char src[256], scratch[256];
	FILE *fp;
	DIR *d;
	struct dirent *de;
	int i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.jobs = 1;
	snprintf(src, sizeof(src), "%s/inbox", top);
	fp = fopen(src, "w");
	for (i = 0; i < 200; i++)
		fprintf(fp, "From a@b Tue Nov  9 10:11:%02d 2004\n"
			"Subject: %d\n\nbody %d\n\n", i % 60, i, i);
	fclose(fp);
	fs[0] = folder(0, "alice/INBOX", "INBOX", "", 0, PLAN_TAKEN);
	fs[0].source = src;
	{
		struct stat sb;

		stat(src, &sb);
		fs[0].size = sb.st_size;
	}
	fs[1] = folder(0, "alice/mail/x", NULL, NULL, -1, PLAN_SKIP_SYMLINK);
	mk("scratch");
	snprintf(scratch, sizeof(scratch), "%s/scratch", top);
	assert_int_equal(checks_probe_time(&plan, &cfg, scratch, 3, 1 << 20,
					   &f), 0);
	assert_int_equal(f.sample_folders, 1);
	assert_int_equal(f.sample_messages, 200);
	assert_int_equal(f.total_bytes, (unsigned long long)fs[0].size);
	assert_int_equal(f.inbox_bytes, (unsigned long long)fs[0].size);
	/* the scratch directory is gone */
	d = opendir(scratch);
	while ((de = readdir(d)) != NULL)
		assert_true(de->d_name[0] == '.');
	closedir(d);
	checks_report_init(&rep);
	checks_eval_time(&f, &rep);
	assert_int_equal(st(&rep, "time_estimate"), CHECK_PASS);
	assert_true(fig(&rep, "time_estimate", "rate_bytes_per_s") > 0);
	assert_true(fig(&rep, "time_estimate", "full_s") >= 0);
	assert_true(fig(&rep, "time_estimate", "full_ms") > 0);
	assert_true(fig(&rep, "time_estimate", "full_low_ms") <=
		    fig(&rep, "time_estimate", "full_ms"));
	assert_true(fig(&rep, "time_estimate", "full_high_ms") >=
		    fig(&rep, "time_estimate", "full_ms"));
	/* the one folder is the INBOX: the cutover is the whole run */
	assert_int_equal(fig(&rep, "time_estimate", "cutover_ms"),
			 fig(&rep, "time_estimate", "full_ms"));
	assert_fixes(&rep);
	checks_report_free(&rep);

	/* the sample failed: warn */
	memset(&f, 0, sizeof(f));
	f.total_bytes = 100;
	strcpy(f.error, "open: Permission denied");
	checks_report_init(&rep);
	checks_eval_time(&f, &rep);
	assert_int_equal(st(&rep, "time_estimate"), CHECK_WARN);
	assert_fixes(&rep);
	checks_report_free(&rep);
	/* nothing to migrate: pass */
	memset(&f, 0, sizeof(f));
	checks_report_init(&rep);
	checks_eval_time(&f, &rep);
	assert_int_equal(st(&rep, "time_estimate"), CHECK_PASS);
	checks_report_free(&rep);
}

/* The model separates the costs of folders of different shapes, and
 * predicts within its range. */
static void test_time_model(void **state)
{
	/* 2 ms a folder, 50 us a message, 10 ms a MiB */
	const double pf = 2e-3, pm = 50e-6, pb = 10e-3 / 1048576;
	static const double shapes[][2] = {
		{ 1, 2e3 }, { 200, 1e6 }, { 20, 4e6 }, { 1000, 2e6 },
		{ 5, 30e6 }, { 400, 400e3 }, { 50, 50e3 }, { 3000, 20e6 },
	};
	struct time_sample s[8];
	struct time_model m;
	double want, got;

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		s[i].messages = shapes[i][0];
		s[i].bytes = shapes[i][1];
		/* +-3% noise, alternating */
		s[i].seconds = (pf + pm * s[i].messages + pb * s[i].bytes) *
			(i % 2 ? 1.03 : 0.97);
	}
	time_model_fit(s, 8, &m);
	assert_int_equal(m.samples, 8);
	assert_true(m.per_folder > pf * 0.8 && m.per_folder < pf * 1.2);
	assert_true(m.per_message > pm * 0.8 && m.per_message < pm * 1.2);
	assert_true(m.per_byte > pb * 0.8 && m.per_byte < pb * 1.2);
	assert_true(m.spread >= 0.15 && m.spread < 0.3);
	want = 10000 * pf + 2e6 * pm + 40e9 * pb;
	got = time_model_predict(&m, 10000, 2e6, 40e9);
	assert_true(got > want * (1 - m.spread) && got < want * (1 + m.spread));
	/* one folder: its throughput */
	time_model_fit(s, 1, &m);
	assert_true(m.per_byte > 0);
	assert_true(m.per_folder == 0 && m.per_message == 0);
	assert_true(m.spread >= 0.3);
	/* none: nothing */
	time_model_fit(s, 0, &m);
	assert_true(time_model_predict(&m, 5, 5, 5) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_time_model),
		cmocka_unit_test(test_folders),
		cmocka_unit_test(test_sources),
		cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dovecot, setup, teardown),
		cmocka_unit_test(test_dovecot_missing_tool),
		cmocka_unit_test(test_postfix),
		cmocka_unit_test_setup_teardown(test_uw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup,
						teardown),
		cmocka_unit_test(test_ports),
		cmocka_unit_test_setup_teardown(test_configured_ports, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_time, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
