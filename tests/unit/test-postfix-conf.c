/* SPDX-License-Identifier: MIT */
/*
 * test-postfix-conf.c - Postfix's delivery setting and the delivery hold,
 * with the REAL postconf and "postfix check" on a temp config directory
 * (main.cf written here, master.cf copied from /etc/postfix); reload and
 * flush pointed at a script that records its arguments (a stopped test
 * Postfix cannot be reloaded)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postfix-conf.h"

static char top[64];		/* scratch dir of a test */
static char dir[128];		/* top/etc: the config dir */
static char main_cf[160];	/* dir/main.cf */
static char work[128];		/* top/work */
static char script[128];	/* top/record.sh */
static char calls[192];		/* top/record.sh.calls: its arguments */
static char reload_cmd[160], flush_cmd[160];
static struct pf_tools tools;

#define MAIN_CF \
	"# a main.cf as an admin leaves it\n" \
	"myhostname = mail.example.org\n" \
	"\n" \
	"# local delivery\n" \
	"mail_spool_directory = /var/mail\n" \
	"inet_interfaces = loopback-only\n" \
	"compatibility_level = 3.6\n"

/*
 * main.cf as an admin left it, a while ago: Postfix's tools wait until a
 * main.cf changed in the last second or two has settled, which would
 * make each first postconf here two seconds long.
 */
static void put_aged(const char *path, const char *text)
{
	struct timespec t[2];

	put(path, text);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 3600;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char *master;
	char path[192];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/m2d-test-pf.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof(dir), "%s/etc", top);
	snprintf(main_cf, sizeof(main_cf), "%s/main.cf", dir);
	snprintf(work, sizeof(work), "%s/work", top);
	snprintf(script, sizeof(script), "%s/record.sh", top);
	assert_int_equal(mkdir(dir, 0755), 0);
	put_aged(main_cf, MAIN_CF);
	/* postconf warns and "postfix check" fails without master.cf */
	master = slurp("/etc/postfix/master.cf");
	snprintf(path, sizeof(path), "%s/master.cf", dir);
	put(path, master != NULL ? master : "");
	free(master);
	put(script, "#!/bin/sh\necho \"$*\" >> \"$0.calls\"\n");
	assert_int_equal(chmod(script, 0755), 0);
	snprintf(calls, sizeof(calls), "%s.calls", script);
	snprintf(reload_cmd, sizeof(reload_cmd), "%s reload", script);
	snprintf(flush_cmd, sizeof(flush_cmd), "%s flush", script);
	memset(&tools, 0, sizeof(tools));
	tools.config_dir = dir;
	tools.reload = reload_cmd;
	tools.flush = flush_cmd;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void test_version(void **state)
{
	struct m2d_error err;
	char *v;

	(void)state;
	m2d_error_clear(&err);
	/* works without any main.cf: postconf -d answers from its defaults */
	assert_int_equal(pf_version(NULL, &v, &err), 0);
	assert_true(v[0] >= '2' && v[0] <= '9');
	assert_non_null(strchr(v, '.'));
	assert_null(strchr(v, '\n'));
	free(v);
}

static void test_read(void **state)
{
	struct m2d_error err;
	char *v;

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(pf_read(&tools, "mail_spool_directory", &v, &err), 0);
	assert_string_equal(v, "/var/mail");
	free(v);
	/* a default */
	assert_int_equal(pf_read(&tools, "defer_transports", &v, &err), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(pf_read_explicit(&tools, "defer_transports", &v,
					  &err), 0);
	assert_null(v);
	assert_int_equal(pf_read_explicit(&tools, "myhostname", &v, &err), 1);
	assert_string_equal(v, "mail.example.org");
	free(v);
	/* no main.cf there: postconf's fatal error becomes ours */
	tools.config_dir = "/nonexistent-m2d";
	assert_int_equal(pf_read(&tools, "myhostname", &v, &err), -1);
	assert_null(v);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	assert_non_null(strstr(err.msg, "main.cf"));
	tools.config_dir = dir;
	assert_int_equal(pf_config_dir(&tools, &v, &err), 0);
	assert_string_equal(v, dir);
	free(v);
}

static void test_spool_apply_undo(void **state)
{
	struct pf_settings s = { PF_DELIVERY_SPOOL, "/data/mail2", NULL };
	struct pf_edit e;
	struct m2d_error err;
	struct stat st;
	char *text, *v, path[192];

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(chmod(main_cf, 0640), 0);
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), 0);
	assert_string_equal(e.key, "mail_spool_directory");
	assert_string_equal(e.value, "/data/mail2/");
	assert_null(e.warning);
	assert_non_null(strstr(e.diff, "-mail_spool_directory = /var/mail\n"));
	assert_non_null(strstr(e.diff,
			       "+mail_spool_directory = /data/mail2/\n"));
	assert_non_null(strstr(e.diff, "--- "));
	/* preview changed nothing */
	text = slurp(main_cf);
	assert_string_equal(text, MAIN_CF);
	free(text);
	assert_int_equal(access(work, F_OK), -1);

	assert_int_equal(pf_apply(&tools, &e, work, &err), 0);
	assert_int_equal(pf_read(&tools, "mail_spool_directory", &v, &err), 0);
	assert_string_equal(v, "/data/mail2/");
	free(v);
	text = slurp(main_cf);
	assert_string_equal(text, e.new_text);	/* the preview was exact */
	free(text);
	assert_int_equal(stat(main_cf, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* the backup is in the work dir, not beside main.cf */
	snprintf(path, sizeof(path), "%s/postfix-conf/0.orig", work);
	text = slurp(path);
	assert_string_equal(text, MAIN_CF);
	free(text);
	snprintf(path, sizeof(path), "%s/main.cf.bak", dir);
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(pf_undo(&tools, work, &err), 1);
	text = slurp(main_cf);
	assert_string_equal(text, MAIN_CF);
	free(text);
	assert_int_equal(stat(main_cf, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(pf_undo(&tools, work, &err), 0);
	pf_edit_free(&e);
}

static void test_home_warning(void **state)
{
	struct pf_settings s = { PF_DELIVERY_HOME, NULL, NULL };
	struct pf_edit e;
	struct m2d_error err;
	char *text, *v;

	(void)state;
	m2d_error_clear(&err);
	put_aged(main_cf, MAIN_CF "mailbox_command = /usr/bin/procmail -a "
	    "\"$EXTENSION\"\n");
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), 0);
	assert_string_equal(e.key, "home_mailbox");
	assert_string_equal(e.value, "Maildir/");
	assert_non_null(e.warning);
	assert_non_null(strstr(e.warning, "mailbox_command"));
	assert_non_null(strstr(e.diff, "+home_mailbox = Maildir/\n"));
	assert_int_equal(pf_apply(&tools, &e, work, &err), 0);
	assert_int_equal(pf_read(&tools, "home_mailbox", &v, &err), 0);
	assert_string_equal(v, "Maildir/");
	free(v);
	pf_edit_free(&e);

	/* home_mailbox now set: it wins over mail_spool_directory */
	s.delivery = PF_DELIVERY_SPOOL;
	s.target = "/data/mail2/";
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), 0);
	assert_non_null(strstr(e.warning, "home_mailbox"));
	assert_int_equal(pf_apply(&tools, &e, work, &err), 0);
	pf_edit_free(&e);

	/* two applies, one undo: back to before the first */
	assert_int_equal(pf_undo(&tools, work, &err), 1);
	text = slurp(main_cf);
	assert_string_equal(text, MAIN_CF "mailbox_command = "
			    "/usr/bin/procmail -a \"$EXTENSION\"\n");
	free(text);
}

static void test_bad_settings(void **state)
{
	struct pf_settings s = { PF_DELIVERY_SPOOL, "data/mail2", NULL };
	struct pf_edit e;
	struct m2d_error err;

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	s.target = "/data/mail2\nrelayhost = evil";
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), -1);
	s.delivery = PF_DELIVERY_HOME;
	s.home_mailbox = "/abs/";
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), -1);
	/* no main.cf */
	s.delivery = PF_DELIVERY_SPOOL;
	s.target = "/data/mail2";
	assert_int_equal(unlink(main_cf), 0);
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), -1);
}

static void test_changed(void **state)
{
	struct pf_settings s = { PF_DELIVERY_SPOOL, "/data/mail2", NULL };
	struct pf_edit e;
	struct m2d_error err;
	char *text;

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), 0);
	/* changed between plan and apply */
	put_aged(main_cf, MAIN_CF "relayhost = smtp.example.org\n");
	assert_int_equal(pf_apply(&tools, &e, work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CHANGED);
	pf_edit_free(&e);
	/* changed between apply and undo: refused, nothing touched */
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), 0);
	assert_int_equal(pf_apply(&tools, &e, work, &err), 0);
	put_aged(main_cf, "# rewritten by the admin\n");
	assert_int_equal(pf_undo(&tools, work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CHANGED);
	text = slurp(main_cf);
	assert_string_equal(text, "# rewritten by the admin\n");
	free(text);
	pf_edit_free(&e);
}

static void test_check(void **state)
{
	struct pf_settings s = { PF_DELIVERY_SPOOL, "/data/mail2", NULL };
	struct pf_edit e;
	struct m2d_error err;
	char *text;

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(pf_check(&tools, &err), 0);
	/* postconf takes it, "postfix check" refuses it (exit 1, silent
	 * without a terminal up to 3.7) */
	put_aged(main_cf, MAIN_CF "mail_owner = root\n");
	assert_int_equal(pf_check(&tools, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	assert_non_null(strstr(err.msg, "exit 1"));
	/* an apply that fails the check leaves main.cf as it was */
	m2d_error_clear(&err);
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), 0);
	assert_int_equal(pf_apply(&tools, &e, work, &err), -1);
	assert_non_null(strstr(err.msg, "postfix check"));
	text = slurp(main_cf);
	assert_string_equal(text, MAIN_CF "mail_owner = root\n");
	free(text);
	pf_edit_free(&e);
	/* a syntax error: postconf itself refuses to plan */
	put_aged(main_cf, MAIN_CF "this is broken\n");
	assert_int_equal(pf_check(&tools, &err), -1);
	assert_int_equal(pf_edit_plan(&tools, &s, &e, &err), -1);
}

static void test_hold_release(void **state)
{
	struct m2d_error err;
	char *text, *v;

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(pf_is_held(work), 0);
	assert_int_equal(pf_release(&tools, work, &err), 0);
	assert_int_equal(pf_hold(&tools, work, &err), 1);
	assert_int_equal(pf_is_held(work), 1);
	assert_int_equal(pf_read(&tools, "defer_transports", &v, &err), 0);
	assert_string_equal(v, "local");
	free(v);
	text = slurp(calls);
	assert_string_equal(text, "reload\n");
	free(text);
	/* held already: nothing run again */
	assert_int_equal(pf_hold(&tools, work, &err), 0);
	text = slurp(calls);
	assert_string_equal(text, "reload\n");
	free(text);

	assert_int_equal(pf_release(&tools, work, &err), 1);
	assert_int_equal(pf_is_held(work), 0);
	assert_int_equal(pf_read_explicit(&tools, "defer_transports", &v,
					  &err), 0);
	text = slurp(calls);
	assert_string_equal(text, "reload\nreload\nflush\n");
	free(text);
	/* postconf -X took away exactly what -e added */
	text = slurp(main_cf);
	assert_string_equal(text, MAIN_CF);
	free(text);
	assert_int_equal(pf_release(&tools, work, &err), 0);
	/* the hold went through the backup: undo finds main.cf as before */
	assert_int_equal(pf_undo(&tools, work, &err), 1);
}

static void test_hold_existing(void **state)
{
	struct m2d_error err;
	char *text, *v;

	(void)state;
	m2d_error_clear(&err);
	put_aged(main_cf, MAIN_CF "defer_transports = smtp\n");
	assert_int_equal(pf_hold(&tools, work, &err), 1);
	assert_int_equal(pf_read(&tools, "defer_transports", &v, &err), 0);
	assert_string_equal(v, "smtp, local");
	free(v);
	assert_int_equal(pf_release(&tools, work, &err), 1);
	assert_int_equal(pf_read(&tools, "defer_transports", &v, &err), 0);
	assert_string_equal(v, "smtp");
	free(v);
	text = slurp(main_cf);
	assert_string_equal(text, MAIN_CF "defer_transports = smtp\n");
	free(text);
}

static void test_hold_reload_fails(void **state)
{
	struct m2d_error err;
	char *v;

	(void)state;
	m2d_error_clear(&err);
	/* the real "postfix reload" against a Postfix that does not run */
	tools.reload = NULL;
	assert_int_equal(pf_hold(&tools, work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	assert_non_null(strstr(err.msg, "postfix reload"));
	/* the hold is recorded: release can clear it */
	assert_int_equal(pf_is_held(work), 1);
	tools.reload = reload_cmd;
	assert_int_equal(pf_release(&tools, work, &err), 1);
	assert_int_equal(pf_read_explicit(&tools, "defer_transports", &v,
					  &err), 0);
	assert_int_equal(pf_undo(&tools, work, &err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_apply_undo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_home_warning, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_settings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_release, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_existing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_reload_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
