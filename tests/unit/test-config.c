/* SPDX-License-Identifier: MIT */
/* test-config.c - mbox2dovecot.conf: defaults, parsing, errors, layout */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m2d-config.h"
#include "dotlock.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static char conf_path[64];

static void write_conf(const char *text)
{
	FILE *f;

	if (conf_path[0] == '\0') {
		int fd;

		strcpy(conf_path, "/tmp/test-config-XXXXXX");
		fd = mkstemp(conf_path);
		assert_true(fd >= 0);
		close(fd);
	}
	f = fopen(conf_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_defaults(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;

	(void)state;
	assert_int_equal(m2d_config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg.spool_dir, "/var/spool/mail");
	assert_null(cfg.homes_dir);
	assert_int_equal(cfg.nroots, 2);
	assert_string_equal(cfg.folder_roots[0], "~/mail");
	assert_string_equal(cfg.folder_roots[1], "~");
	assert_string_equal(cfg.target_base, "/data/mail2");
	assert_string_equal(cfg.target_layout, "%u");
	assert_string_equal(cfg.work_dir, "/root/migrate");
	assert_int_equal(cfg.uid_min, 1000);
	assert_int_equal(cfg.uid_max, 60000);
	assert_string_equal(cfg.owner, "passwd");
	assert_int_equal(cfg.jobs, 0);
	assert_false(cfg.mboxrd);
	assert_null(cfg.source_tz);
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), 0);
	m2d_config_free(&cfg);
	m2d_config_free(&cfg);	/* harmless twice */
}

static void test_parse_all(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;

	(void)state;
	write_conf("# our settings\n"
		   "spool_dir = /srv/spool\n"
		   "homes_dir = \"/srv/homes\"\n"
		   "folder_roots = {\"~/Mail\",  # comments in a list\n"
		   "                \"~\",\n"
		   "                // \"~/old\",\n"
		   "                \"/srv/folders/%u\"}\n"
		   "target_base = /data/mail3\n"
		   "target_layout = \"%1u/%u\"\n"
		   "work_dir = /var/lib/m2d\n"
		   "uid_min = 500\n"
		   "uid_max = 999\n"
		   "owner = \"12:34\" /* fixed */\n"
		   "jobs = 4\n"
		   "mboxrd = true\n"
		   "source_tz = \"Europe/Berlin\" # quoted: \"#\" ok\n"
		   "mbox_locks = \"fcntl, dotlock\"\n"
		   "mbox_lock_wait = 5\n"
		   "mbox_lock_stale = 300\n"
		   "work_dir = \"/var/lib/m2d#1\"\n");
	assert_int_equal(m2d_config_load(&cfg, conf_path, &err), 0);
	assert_string_equal(cfg.spool_dir, "/srv/spool");
	assert_string_equal(cfg.homes_dir, "/srv/homes");
	assert_int_equal(cfg.nroots, 3);
	assert_string_equal(cfg.folder_roots[0], "~/Mail");
	assert_string_equal(cfg.folder_roots[2], "/srv/folders/%u");
	assert_string_equal(cfg.target_base, "/data/mail3");
	assert_string_equal(cfg.target_layout, "%1u/%u");
	assert_string_equal(cfg.work_dir, "/var/lib/m2d#1");
	assert_int_equal(cfg.uid_min, 500);
	assert_int_equal(cfg.uid_max, 999);
	assert_string_equal(cfg.owner, "12:34");
	assert_int_equal(cfg.jobs, 4);
	assert_true(cfg.mboxrd);
	assert_string_equal(cfg.source_tz, "Europe/Berlin");
	assert_int_equal(cfg.mbox_locks, MBOX_LOCK_FCNTL | MBOX_LOCK_DOTLOCK);
	assert_int_equal(cfg.mbox_lock_wait, 5);
	assert_int_equal(cfg.mbox_lock_stale, 300);
	/* loading makes them the process's */
	assert_int_equal(mbox_locks_get()->locks,
			 MBOX_LOCK_FCNTL | MBOX_LOCK_DOTLOCK);
	assert_int_equal(mbox_locks_get()->wait_secs, 5);
	assert_int_equal(mbox_locks_get()->stale_secs, 300);
	m2d_config_free(&cfg);

	/* an empty file: the defaults; homes_dir "" = unset */
	write_conf("homes_dir = \"\"\n");
	assert_int_equal(m2d_config_load(&cfg, conf_path, &err), 0);
	assert_null(cfg.homes_dir);
	assert_int_equal(cfg.nroots, 2);
	assert_int_equal(cfg.mbox_locks, MBOX_LOCKS_DEFAULT);
	assert_int_equal(cfg.mbox_lock_wait, MBOX_LOCK_WAIT_DEFAULT);
	assert_int_equal(cfg.mbox_lock_stale, MBOX_LOCK_STALE_DEFAULT);
	assert_int_equal(mbox_locks_get()->locks, MBOX_LOCKS_DEFAULT);
	m2d_config_free(&cfg);
}

/* Each bad file beside the line the error must name. */
static const struct {
	const char *text;
	unsigned long line;
	const char *needle;	/* in the message */
} bad_files[] = {
	{ "spool_dir = /x\n\nno_such_option = 1\n", 3, "no_such_option" },
	{ "uid_min = 100\nuid_max = abc\n", 2, NULL },
	{ "jobs = 2\n\n\njobs = -1\n", 4, "jobs" },
	{ "uid_min = -5\n", 1, "uid_min" },
	{ "target_layout = \"%x/%u\"\n", 1, "%Nu" },
	{ "target_layout = \"static\"\n", 1, "%u" },
	{ "target_layout = \"/abs/%u\"\n", 1, "relative" },
	{ "target_layout = \"../%u\"\n", 1, ".." },
	{ "# c\nfolder_roots = {\"mail\"}\n", 2, "~" },
	{ "folder_roots = {\"~fred/mail\"}\n", 1, "~user" },
	{ "folder_roots = {\"/srv/shared\"}\n", 1, "%u" },
	{ "folder_roots = {\"~/../etc\"}\n", 1, ".." },
	{ "owner = \"a b\"\n", 1, "UID:GID" },
	{ "owner = \"1:x\"\n", 1, "UID:GID" },
	{ "spool_dir = \"\"\n", 1, "empty" },
	{ "spool_dir = \"unterminated\n", 2, "end of file" },
	{ "mboxrd = maybe\n", 1, NULL },
	{ "mbox_locks = \"dotlock lockf\"\n", 1, "mbox_locks" },
	{ "mbox_locks = \"\"\n", 1, "mbox_locks" },
	{ "\nmbox_lock_wait = -1\n", 2, "mbox_lock_wait" },
	{ "mbox_lock_stale = 0\n", 1, "mbox_lock_stale" },
	/* libconfuse 3.3 alone says 9 and 6 here: comments counted twice */
	{ "# one\n# two\n// three\n/* four\n five */\n\nbogus = 1\n", 7,
	  "bogus" },
	{ "jobs = 1 # a comment\n#\n\"x\" = 1\n", 3, NULL },
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(bad_files); i++) {
		struct m2d_config cfg;
		struct m2d_error err;
		char buf[1024];

		write_conf(bad_files[i].text);
		assert_int_equal(m2d_config_load(&cfg, conf_path, &err), -1);
		m2d_error_str(&err, buf, sizeof(buf));
		print_message("# %s\n", buf);
		assert_int_equal(err.code, M2D_ERR_USAGE);
		assert_string_equal(err.path, conf_path);
		if (err.line != bad_files[i].line)
			fail_msg("case %zu: line %lu, expected %lu (%s)", i,
				 err.line, bad_files[i].line, buf);
		if (bad_files[i].needle != NULL &&
		    strstr(err.msg, bad_files[i].needle) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg,
				 bad_files[i].needle);
		/* "PATH:LINE: message" */
		snprintf(buf, sizeof(buf), "%s:%lu: ", conf_path,
			 bad_files[i].line);
		{
			char full[1024];

			m2d_error_str(&err, full, sizeof(full));
			assert_memory_equal(full, buf, strlen(buf));
		}
		/* nothing left behind */
		assert_null(cfg.spool_dir);
		m2d_config_free(&cfg);
	}
}

static void test_range_and_missing(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;

	(void)state;
	write_conf("uid_min = 2000\nuid_max = 1000\n");
	assert_int_equal(m2d_config_load(&cfg, conf_path, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	assert_non_null(strstr(err.msg, "uid_min"));

	assert_int_equal(m2d_config_load(&cfg, "/nonexistent/m2d.conf", &err),
			 -1);
	assert_int_equal(err.code, M2D_ERR_SYS);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_string_equal(err.path, "/nonexistent/m2d.conf");
}

static void test_check_overrides(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;

	(void)state;
	assert_int_equal(m2d_config_load(&cfg, NULL, &err), 0);
	m2d_config_set(&cfg.target_layout, "%u/%q");
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), -1);
	m2d_config_set(&cfg.target_layout, "%2u/%u");
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), 0);
	cfg.jobs = -1;
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), -1);
	cfg.jobs = 0;
	m2d_config_set(&cfg.folder_roots[1], "relative");
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), -1);
	m2d_config_set(&cfg.folder_roots[1], "~");
	m2d_config_set(&cfg.owner, "root");
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), 0);
	m2d_config_set(&cfg.spool_dir, NULL);
	assert_int_equal(m2d_config_check(&cfg, NULL, &err), -1);
	m2d_config_free(&cfg);
}

static const struct {
	const char *base, *layout, *user, *expected;
} targets[] = {
	{ "/data/mail2", "%u", "fred", "/data/mail2/fred" },
	{ "/data/mail2", "%1u/%u", "fred", "/data/mail2/f/fred" },
	{ "/data/mail2/", "%2u/%u", "fred", "/data/mail2/fr/fred" },
	{ "/data/mail2", "%1u/%2u/%u", "fred", "/data/mail2/f/fr/fred" },
	{ "/m", "%3u/%u", "al", "/m/al/al" },
	{ "/m", "%12u", "fred", "/m/fred" },
	{ "/m", "u%%/%u", "x", "/m/u%/x" },
	{ "/", "%u", "x", "/x" },
};

static void test_target(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;

	(void)state;
	assert_int_equal(m2d_config_load(&cfg, NULL, &err), 0);
	for (size_t i = 0; i < N_ELEMENTS(targets); i++) {
		char *t;

		m2d_config_set(&cfg.target_base, targets[i].base);
		m2d_config_set(&cfg.target_layout, targets[i].layout);
		t = m2d_config_target(&cfg, targets[i].user);
		assert_non_null(t);
		assert_string_equal(t, targets[i].expected);
		free(t);
	}
	m2d_config_set(&cfg.target_layout, "%u%");
	assert_null(m2d_config_target(&cfg, "fred"));
	m2d_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_parse_all),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_range_and_missing),
		cmocka_unit_test(test_check_overrides),
		cmocka_unit_test(test_target),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	if (conf_path[0] != '\0')
		unlink(conf_path);
	return ret;
}
