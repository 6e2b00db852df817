/* SPDX-License-Identifier: MIT */
/* test-sandbox.c - the sandbox's tree and configuration, without starting
 * anything: the generated mbox2dovecot.conf loads with m2d_config_load()
 * and points every path and command into the sandbox; the spool is
 * deterministic; a foreign directory is refused, one of ours rebuilt */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "m2d-config.h"
#include "sandbox.h"
#include "test-util.h"

static char top[64];

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(top, "/tmp/test-sandbox-XXXXXX");
	assert_non_null(mkdtemp(top));
	/* as root, Dovecot's processes must be able to reach the sandbox */
	assert_int_equal(chmod(top, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(top);
	return 0;
}

static void build(const char *dir, unsigned long seed,
		  struct sandbox_info *info)
{
	struct sandbox_opts opts;
	struct m2d_error err;
	char buf[256];

	sandbox_opts_init(&opts);
	opts.dir = dir;
	opts.seed = seed;
	opts.start = false;
	if (sandbox_create(&opts, info, &err) < 0)
		fail_msg("sandbox_create: %s", m2d_error_str(&err, buf,
							     sizeof(buf)));
}

static bool starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_config_loads(void **state)
{
	struct sandbox_info info;
	struct m2d_config cfg;
	struct m2d_error err;
	char dir[256], path[PATH_MAX], expect[PATH_MAX], buf[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/s", top);
	build(dir, 1, &info);
	assert_int_equal(info.users, 5);
	assert_true(info.messages > 100 && info.messages < 600);
	assert_true(info.test_port > 0 && info.imap_port > 0 &&
		    info.test_port != info.imap_port);

	if (m2d_config_load(&cfg, info.config, &err) < 0)
		fail_msg("m2d_config_load: %s",
			 m2d_error_str(&err, buf, sizeof(buf)));
	assert_int_equal(m2d_config_check(&cfg, info.config, &err), 0);
	snprintf(expect, sizeof(expect), "%s/spool", dir);
	assert_string_equal(cfg.spool_dir, expect);
	snprintf(expect, sizeof(expect), "%s/home", dir);
	assert_string_equal(cfg.homes_dir, expect);
	snprintf(expect, sizeof(expect), "%s/target", dir);
	assert_string_equal(cfg.target_base, expect);
	snprintf(expect, sizeof(expect), "%s/work", dir);
	assert_string_equal(cfg.work_dir, expect);
	snprintf(expect, sizeof(expect), "%u:%u", (unsigned int)info.uid,
		 (unsigned int)info.gid);
	assert_string_equal(cfg.owner, expect);
	if (geteuid() == 0)
		assert_string_equal(cfg.owner, "65534:65534");
	assert_string_equal(cfg.source_tz, "UTC");
	assert_int_equal(cfg.test_port, info.test_port);
	assert_int_equal(cfg.imap_port, info.imap_port);
	assert_int_equal(cfg.imaps_port, 0);
	assert_string_equal(cfg.test_address, "127.0.0.1");
	assert_string_equal(cfg.imap_address, "127.0.0.1");
	assert_string_equal(cfg.imap_test_password, info.password);
	snprintf(expect, sizeof(expect), "%s/dovecot/dovecot.conf", dir);
	assert_string_equal(cfg.dovecot_config, expect);
	assert_non_null(strstr(cfg.doveadm_command, expect));
	snprintf(expect, sizeof(expect), "%s/postfix", dir);
	assert_string_equal(cfg.postfix_config_dir, expect);
	snprintf(expect, sizeof(expect), "%s/bin/deliver %%u", dir);
	assert_string_equal(cfg.test_delivery_command, expect);
	snprintf(expect, sizeof(expect), "%s/root", dir);
	assert_string_equal(cfg.services_root, expect);
	assert_string_equal(cfg.accounts_root, expect);
	/* every command of every service is inside the sandbox or the
	 * installed Dovecot with the sandbox's config */
	for (int r = 0; r < M2D_SVC_ROLES; r++) {
		for (int a = 0; a < M2D_SVC_ACTIONS; a++) {
			const char *cmd = cfg.service[r].cmd[a];

			if (cmd == NULL)
				continue;
			assert_true(starts_with(cmd, dir) ||
				    strstr(cmd, "/dovecot/dovecot.conf") !=
				    NULL);
		}
		assert_non_null(cfg.service[r].probe);
	}
	/* UW under xinetd: start/stop are the file edit + reload */
	assert_null(cfg.service[2].cmd[0]);
	assert_non_null(cfg.service[2].cmd[2]);
	m2d_config_free(&cfg);

	/* the tree */
	snprintf(path, sizeof(path), "%s/root/etc/xinetd.d/imap", dir);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/home/bob/mail/v1.2 release", dir);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/home/alice/mail/Entw\xc3\xbcrfe",
		 dir);
	assert_int_equal(access(path, R_OK), 0);
	if (info.dovecot) {
		char *conf;

		snprintf(path, sizeof(path), "%s/dovecot/dovecot.conf", dir);
		conf = slurp(path);
		assert_non_null(conf);
		assert_non_null(strstr(conf, "!include_try conf.d/*.conf"));
		assert_non_null(strstr(conf, "port = 0"));
		free(conf);
	}
	sandbox_info_free(&info);
}

static void test_spool_format(void **state)
{
	struct sandbox_info info;
	char dir[256], path[PATH_MAX];
	char *inbox, *sent;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/f", top);
	build(dir, 3, &info);
	snprintf(path, sizeof(path), "%s/spool/alice", dir);
	inbox = slurp(path);
	assert_non_null(inbox);
	/* the pseudo-message first, UW's status block, Postfix's new mail */
	assert_true(starts_with(inbox, "From MAILER-DAEMON "));
	assert_non_null(strstr(inbox, "\nX-IMAP: "));
	assert_non_null(strstr(inbox, "\nX-UID: "));
	assert_non_null(strstr(inbox, "\nX-Keywords:"));
	assert_non_null(strstr(inbox, "\nStatus: "));
	assert_non_null(strstr(inbox, "\nDelivered-To: alice@"));
	snprintf(path, sizeof(path), "%s/home/alice/sent-mail", dir);
	sent = slurp(path);
	assert_non_null(sent);
	assert_non_null(strstr(sent, "\nX-IMAPbase: "));
	assert_null(strstr(sent, "\nX-IMAP: "));
	free(inbox);
	free(sent);
	snprintf(path, sizeof(path), "%s/home/alice/.mailboxlist", dir);
	sent = slurp(path);
	assert_non_null(sent);
	assert_non_null(strstr(sent, "INBOX\n"));
	free(sent);
	sandbox_info_free(&info);
}

static void test_deterministic(void **state)
{
	struct sandbox_info a, b, c;
	char da[256], db[256], dc[256], cmd[PATH_MAX];

	(void)state;
	snprintf(da, sizeof(da), "%s/a", top);
	snprintf(db, sizeof(db), "%s/b", top);
	snprintf(dc, sizeof(dc), "%s/c", top);
	build(da, 42, &a);
	build(db, 42, &b);
	build(dc, 43, &c);
	snprintf(cmd, sizeof(cmd), "diff -r '%s/spool' '%s/spool' >/dev/null"
		 " && diff -r '%s/home' '%s/home' >/dev/null", da, db, da, db);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "diff -r '%s/spool' '%s/spool' >/dev/null",
		 da, dc);
	assert_int_not_equal(system(cmd), 0);
	assert_int_equal(a.messages, b.messages);
	sandbox_info_free(&a);
	sandbox_info_free(&b);
	sandbox_info_free(&c);
}

static void test_refuse_and_rebuild(void **state)
{
	struct sandbox_opts opts;
	struct sandbox_info info;
	struct m2d_error err;
	char dir[256], path[PATH_MAX];
	bool empty;
	int stopped = -1;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/foreign", top);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(sandbox_is_ours(dir, &empty, &err), 0);
	assert_true(empty);
	snprintf(path, sizeof(path), "%s/precious", dir);
	put(path, "mine\n");
	assert_int_equal(sandbox_is_ours(dir, &empty, &err), 0);
	assert_false(empty);
	sandbox_opts_init(&opts);
	opts.dir = dir;
	opts.start = false;
	assert_int_equal(sandbox_create(&opts, &info, &err), -1);
	assert_int_equal(err.code, M2D_ERR_EXISTS);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(sandbox_stop(dir, &stopped, &err), -1);

	/* relative paths and blanks cannot go into the configs */
	opts.dir = "relative/dir";
	assert_int_equal(sandbox_create(&opts, &info, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	opts.dir = "/tmp/with blank";
	assert_int_equal(sandbox_create(&opts, &info, &err), -1);

	/* ours: rebuilt from scratch, a stray file gone */
	snprintf(dir, sizeof(dir), "%s/ours", top);
	build(dir, 1, &info);
	sandbox_info_free(&info);
	assert_int_equal(sandbox_is_ours(dir, NULL, &err), 1);
	snprintf(path, sizeof(path), "%s/home/alice/stray", dir);
	put(path, "x\n");
	build(dir, 1, &info);
	assert_int_not_equal(access(path, F_OK), 0);
	sandbox_info_free(&info);
	/* nothing was started: stop finds nothing, twice */
	assert_int_equal(sandbox_stop(dir, &stopped, &err), 0);
	assert_int_equal(stopped, 0);
	assert_int_equal(sandbox_stop(dir, &stopped, &err), 0);
	assert_int_equal(stopped, 0);
}

/* The dovecot.conf of each syntax: what that version reads. */
static void test_dovecot_conf_syntax(void **state)
{
	struct m2d_error err;
	char *c23, *c24, *nonroot;

	(void)state;
	c23 = sandbox_dovecot_conf("/sb", DC_SYNTAX_2, 7, NULL, NULL, &err);
	assert_non_null(c23);
	assert_non_null(strstr(c23, "\nmail_location = maildir:/sb/target/%u\n"));
	assert_non_null(strstr(c23, "\ndisable_plaintext_auth = no\n"));
	assert_non_null(strstr(c23, "args = scheme=PLAIN username_format=%u "
			       "/sb/dovecot/passwd"));
	assert_non_null(strstr(c23, "    address = 127.0.0.1\n    port = 0\n"));
	assert_non_null(strstr(c23, "\nbase_dir = /sb/run/dovecot\n"));
	assert_non_null(strstr(c23, "\ninstance_name = m2d-sandbox-7\n"));
	assert_null(strstr(c23, "dovecot_config_version"));
	assert_null(strstr(c23, "default_internal_user"));
	/* the runbook's unit is read last */
	assert_non_null(strstr(c23, "\n!include_try conf.d/*.conf\n"));
	assert_string_equal(strstr(c23, "\n!include_try"),
			    "\n!include_try conf.d/*.conf\n");

	c24 = sandbox_dovecot_conf("/sb", DC_SYNTAX_2_4, 7, NULL, NULL, &err);
	assert_non_null(c24);
	/* 2.4: dovecot_config_version must be the first setting */
	assert_true(strncmp(c24, "dovecot_config_version = 2.4.0\n", 31) == 0);
	assert_non_null(strstr(c24, "\ndovecot_storage_version = 2.4.0\n"));
	assert_non_null(strstr(c24, "\nmail_driver = maildir\n"));
	assert_non_null(strstr(c24, "\nmail_path = /sb/target/%{user}\n"));
	assert_non_null(strstr(c24, "\nauth_allow_cleartext = yes\n"));
	assert_non_null(strstr(c24, "passdb passwd-file {\n"
			       "  passwd_file_path = /sb/dovecot/passwd\n}"));
	assert_non_null(strstr(c24, "    listen = 127.0.0.1\n    port = 0\n"));
	assert_null(strstr(c24, "mail_location"));
	assert_null(strstr(c24, "%u"));
	assert_null(strstr(c24, "disable_plaintext_auth"));

	nonroot = sandbox_dovecot_conf("/sb", DC_SYNTAX_2, 7, "fred", "staff",
				       &err);
	assert_non_null(nonroot);
	assert_non_null(strstr(nonroot, "default_internal_user = fred\n"
			       "default_login_user = fred\n"
			       "default_internal_group = staff\n"));
	assert_non_null(strstr(nonroot, "service imap-login {\n  chroot =\n}"));

	assert_null(sandbox_dovecot_conf("/sb", DC_SYNTAX_1, 7, NULL, NULL,
					 &err));
	assert_int_equal(err.code, M2D_ERR_USAGE);
	free(c23);
	free(c24);
	free(nonroot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_loads),
		cmocka_unit_test(test_spool_format),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_refuse_and_rebuild),
		cmocka_unit_test(test_dovecot_conf_syntax),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
