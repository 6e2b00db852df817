/* SPDX-License-Identifier: MIT */
/*
 * test-accounts.c - the skeleton's cur/ new/ tmp/ created and removed
 * (only ours), homes and shells changed by the REAL usermod on a scratch
 * root ("usermod -P ROOT": copies of passwd, shadow and group there) and
 * changed back, the rbash link
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts.h"

static char top[64];		/* the scratch root */
static char work[128];		/* top/work */

#define PASSWD \
	"root:x:0:0:root:/root:/bin/bash\n" \
	"fred:x:5000:5000:Fred:/home/fred:/bin/sh\n" \
	"vac:x:5001:5001:Vacation:/home/vac:/bin/false\n"
#define SHADOW \
	"root:*:19000:0:99999:7:::\n" \
	"fred:!:19000:0:99999:7:::\n" \
	"vac:!:19000:0:99999:7:::\n"
#define GROUP \
	"root:x:0:\n" \
	"fred:x:5000:\n" \
	"vac:x:5001:\n"

static void put_below(const char *rel, const char *text, mode_t mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	put(path, text);
	assert_int_equal(chmod(path, mode), 0);
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
	char path[PATH_MAX];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/m2d-test-acct.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(work, sizeof(work), "%s/work", top);
	snprintf(path, sizeof(path), "%s/etc", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin", top);
	assert_int_equal(mkdir(path, 0755), 0);
	put_below("etc/passwd", PASSWD, 0644);
	put_below("etc/shadow", SHADOW, 0640);
	put_below("etc/group", GROUP, 0644);
	put_below("etc/gshadow", "root:*::\nfred:!::\nvac:!::\n", 0640);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_skel(void **state)
{
	const struct acct_tools tools = { NULL, top };
	struct m2d_error err;
	char path[PATH_MAX + 64], skel[256];
	int fd;

	(void)state;
	m2d_error_clear(&err);
	/* ROOT/etc/skel exists with a file of the admin's and tmp/ */
	snprintf(skel, sizeof(skel), "%s/etc/skel", top);
	assert_int_equal(mkdir(skel, 0755), 0);
	put_below("etc/skel/.bashrc", "# admin's\n", 0644);
	snprintf(path, sizeof(path), "%s/tmp", skel);
	assert_int_equal(mkdir(path, 0700), 0);

	assert_int_equal(acct_skel_apply(&tools, NULL, work, &err), 1);
	snprintf(path, sizeof(path), "%s/cur", skel);
	assert_true(is_dir(path));
	snprintf(path, sizeof(path), "%s/new", skel);
	assert_true(is_dir(path));
	/* again: all there */
	assert_int_equal(acct_skel_apply(&tools, NULL, work, &err), 0);

	assert_int_equal(acct_skel_undo(work, &err), 1);
	snprintf(path, sizeof(path), "%s/cur", skel);
	assert_false(is_dir(path));
	snprintf(path, sizeof(path), "%s/new", skel);
	assert_false(is_dir(path));
	/* only ours went */
	snprintf(path, sizeof(path), "%s/tmp", skel);
	assert_true(is_dir(path));
	snprintf(path, sizeof(path), "%s/.bashrc", skel);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(acct_skel_undo(work, &err), 0);

	/* a skel path of its own, created whole; a file put in it since
	 * keeps it from being removed */
	snprintf(skel, sizeof(skel), "%s/skel2", top);
	assert_int_equal(acct_skel_apply(&tools, skel, work, &err), 1);
	snprintf(path, sizeof(path), "%s/new/msg", skel);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(acct_skel_undo(work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CHANGED);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(acct_skel_undo(work, &err), 1);
	assert_false(is_dir(skel));
	/* nothing left in the work dir */
	snprintf(path, sizeof(path), "%s/accounts", work);
	assert_false(is_dir(path));
}

static void test_skel_not_dir(void **state)
{
	const struct acct_tools tools = { NULL, top };
	struct m2d_error err;

	(void)state;
	m2d_error_clear(&err);
	put_below("etc/skel", "not a dir\n", 0644);
	assert_int_equal(acct_skel_apply(&tools, NULL, work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
}

/* Does this usermod take -P/--prefix? */
static bool usermod_has_prefix(void)
{
	char cmd[] = "usermod --help 2>&1 | grep -q -- --prefix";

	return system(cmd) == 0;
}

static void test_usermod(void **state)
{
	const struct acct_tools tools = { NULL, top };
	struct m2d_error err;
	char *home, *shell, *text;

	(void)state;
	m2d_error_clear(&err);
	if (!usermod_has_prefix()) {
		print_message("usermod has no --prefix here: skipped\n");
		skip();
	}
	assert_int_equal(acct_user_get(&tools, "fred", &home, &shell, &err),
			 1);
	assert_string_equal(home, "/home/fred");
	assert_string_equal(shell, "/bin/sh");
	free(home);
	free(shell);
	assert_int_equal(acct_user_get(&tools, "nobody-m2d", &home, &shell,
				       &err), 0);

	text = acct_usermod_text(&tools, "fred", "/data/mail2/fred", NULL);
	assert_non_null(strstr(text, "usermod -P "));
	assert_non_null(strstr(text, " -d /data/mail2/fred -- fred\n"));
	free(text);

	assert_int_equal(acct_set_home(&tools, "fred", "/data/mail2/fred",
				       work, &err), 0);
	assert_int_equal(acct_rbash_link(&tools, work, &err), 1);
	assert_int_equal(acct_rbash_link(&tools, work, &err), 0);
	assert_int_equal(acct_set_shell(&tools, "vac", NULL, work, &err), 0);
	assert_int_equal(acct_user_get(&tools, "fred", &home, &shell, &err),
			 1);
	assert_string_equal(home, "/data/mail2/fred");
	free(home);
	free(shell);
	assert_int_equal(acct_user_get(&tools, "vac", &home, &shell, &err),
			 1);
	assert_string_equal(shell, "/bin/rbash");
	free(home);
	free(shell);
	/* a second change of fred's home: undo goes to the first value */
	assert_int_equal(acct_set_home(&tools, "fred", "/data/mail3/fred",
				       work, &err), 0);
	/* the host's passwd is untouched */
	assert_int_equal(acct_user_get(NULL, "fred", &home, &shell, &err), 0);

	assert_int_equal(acct_users_undo(&tools, work, &err), 1);
	{
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/etc/passwd", top);
		text = slurp(path);
		assert_string_equal(text, PASSWD);
		free(text);
		snprintf(path, sizeof(path), "%s/bin/rbash", top);
		assert_int_equal(lstat(path, &st), -1);
	}
	assert_int_equal(acct_users_undo(&tools, work, &err), 0);
	/* no such user, a bad path */
	assert_int_equal(acct_set_home(&tools, "nobody-m2d", "/x", work,
				       &err), -1);
	assert_int_equal(acct_set_home(&tools, "fred", "rel/x", work, &err),
			 -1);
	assert_int_equal(acct_set_home(&tools, "fred", "/a:b", work, &err),
			 -1);
}

static void test_usermod_changed(void **state)
{
	const struct acct_tools tools = { NULL, top };
	struct m2d_error err;
	char path[PATH_MAX], *text;

	(void)state;
	m2d_error_clear(&err);
	if (!usermod_has_prefix()) {
		print_message("usermod has no --prefix here: skipped\n");
		skip();
	}
	assert_int_equal(acct_set_home(&tools, "fred", "/data/mail2/fred",
				       work, &err), 0);
	/* the admin moved fred elsewhere since: not undone */
	put_below("etc/passwd",
		  "root:x:0:0:root:/root:/bin/bash\n"
		  "fred:x:5000:5000:Fred:/srv/fred:/bin/sh\n"
		  "vac:x:5001:5001:Vacation:/home/vac:/bin/false\n", 0644);
	assert_int_equal(acct_users_undo(&tools, work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CHANGED);
	snprintf(path, sizeof(path), "%s/etc/passwd", top);
	text = slurp(path);
	assert_non_null(strstr(text, ":/srv/fred:"));
	free(text);
}

/* The passwd the migration knows (users come from passwd, never from a
 * file name in the spool): ROOT/etc/passwd when a root is given,
 * comments and broken lines left out; the system's otherwise, a name not
 * enumerated looked up. */
static void test_passwd(void **state)
{
	struct acct_tools t = { NULL, top };
	struct acct_passwd pw;
	struct m2d_error err;
	const struct acct_pw *e;

	(void)state;
	put_below("etc/passwd", PASSWD "# a comment:x:1:1::/:/bin/sh\n"
		  "broken:x:abc:1::/:/bin/sh\nshort:x:7\n"
		  "neg:x:-1:1::/:/bin/sh\n", 0644);
	assert_int_equal(acct_passwd_load(&t, &pw, &err), 0);
	assert_int_equal(pw.n, 3);
	assert_false(pw.system);
	e = acct_passwd_find(&pw, "fred");
	assert_non_null(e);
	assert_int_equal(e->uid, 5000);
	assert_int_equal(e->gid, 5000);
	assert_string_equal(e->home, "/home/fred");
	assert_string_equal(e->shell, "/bin/sh");
	assert_null(acct_passwd_find(&pw, "broken"));
	assert_null(acct_passwd_find(&pw, "nobody-m2d"));
	assert_string_equal(acct_passwd_by_uid(&pw, 5001)->name, "vac");
	assert_null(acct_passwd_by_uid(&pw, 4242));
	acct_passwd_free(&pw);

	/* no ROOT/etc/passwd: an error naming it */
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/etc/passwd", top);
		assert_int_equal(unlink(path), 0);
		assert_int_equal(acct_passwd_load(&t, &pw, &err), -1);
		assert_string_equal(err.path, path);
	}

	/* the system's: root is there, found by name too */
	t.root = NULL;
	assert_int_equal(acct_passwd_load(&t, &pw, &err), 0);
	assert_true(pw.system);
	e = acct_passwd_find(&pw, "root");
	if (e != NULL)
		assert_int_equal(e->uid, 0);
	acct_passwd_free(&pw);
}

/* A site's passwd: every user found by name and UID (the first of two
 * with one UID, as getpwuid() gives), names in no particular order. */
static void test_passwd_many(void **state)
{
	struct acct_tools t = { NULL, top };
	struct acct_passwd pw;
	struct m2d_error err;
	size_t n = 20000, len = 0;
	char *text = malloc(n * 48 + 64), name[32];

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		/* a scrambled order; u7 and dup share UID 10007 */
		size_t k = (i * 7919) % n;

		len += (size_t)sprintf(text + len, "u%zu:x:%zu:100::/h/u%zu:/bin/sh\n",
				       k, 10000 + k, k);
	}
	len += (size_t)sprintf(text + len, "dup:x:10007:100::/h/dup:/bin/sh\n");
	put_below("etc/passwd", text, 0644);
	free(text);
	assert_int_equal(acct_passwd_load(&t, &pw, &err), 0);
	assert_int_equal(pw.n, n + 1);
	for (size_t k = 0; k < n; k++) {
		const struct acct_pw *e;

		snprintf(name, sizeof(name), "u%zu", k);
		e = acct_passwd_find(&pw, name);
		assert_non_null(e);
		assert_int_equal(e->uid, (long)(10000 + k));
		assert_string_equal(acct_passwd_by_uid(&pw, e->uid)->name,
				    name);
	}
	assert_int_equal(acct_passwd_find(&pw, "dup")->uid, 10007);
	assert_null(acct_passwd_find(&pw, "u20000"));
	assert_null(acct_passwd_by_uid(&pw, 9999));
	assert_null(acct_passwd_by_uid(&pw, 10000 + (long)n));
	acct_passwd_free(&pw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passwd_many, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_skel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skel_not_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_usermod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usermod_changed, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
