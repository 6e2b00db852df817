/* SPDX-License-Identifier: MIT */
/* test-safe-file.c - the one open of a file a user controls
 * (sf_open_read, sf_open_file, sf_read_text_at in safe-file.h): a FIFO,
 * a symlink, a device, a directory, a giant refused before a byte is
 * read, and nothing blocks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe-file.h"
#include "test-util.h"

static char dir[256];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m2d-test-safe-file-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	/* whatever blocks would end the test here */
	alarm(20);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	alarm(0);
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_regular(void **state)
{
	struct m2d_error err;
	struct stat st;
	char *text = NULL;
	int fd, fl;

	(void)state;
	assert_int_equal(symlinkat("/etc/passwd", dfd, "link"), 0);
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/f", dir);
		put(p, "hello\n");
	}
	fd = sf_open_read(dfd, "f", 100, &st, "DIR/f", &err);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 6);
	fl = fcntl(fd, F_GETFL);
	assert_int_equal(fl & O_NONBLOCK, 0);	/* cleared once checked */
	close(fd);
	assert_int_equal(sf_read_text_at(dfd, "f", 100, &text, NULL, "DIR/f",
					 &err), 1);
	assert_string_equal(text, "hello\n");
	free(text);
	/* absent: errno ENOENT, sf_read_text_at 0 */
	assert_int_equal(sf_open_read(dfd, "none", 0, NULL, "DIR/none", &err),
			 -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(sf_read_text_at(dfd, "none", 0, &text, NULL, NULL,
					 &err), 0);
	/* a symlink: not followed */
	assert_int_equal(sf_open_read(dfd, "link", 0, NULL, "DIR/link", &err),
			 -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "symbolic link"));
}

static void test_not_regular(void **state)
{
	struct m2d_error err;
	char *text = NULL;
	FILE *f;

	(void)state;
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
	/* a FIFO nobody writes: refused at once, never waited on */
	assert_int_equal(sf_open_read(dfd, "fifo", 0, NULL, "DIR/fifo", &err),
			 -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "FIFO"));
	assert_string_equal(err.path, "DIR/fifo");
	assert_int_equal(sf_open_file(dfd, "fifo", O_RDWR, 0, NULL, NULL,
				      &err), -1);
	assert_non_null(strstr(err.msg, "FIFO"));
	f = sf_fopen_read(dfd, "fifo", 0, NULL, NULL, &err);
	assert_null(f);
	assert_int_equal(sf_read_text_at(dfd, "fifo", 0, &text, NULL, NULL,
					 &err), -1);
	assert_int_equal(sf_open_read(dfd, "sub", 0, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "directory"));
	assert_int_equal(sf_open_read(AT_FDCWD, "/dev/null", 0, NULL, NULL,
				      &err), -1);
	assert_non_null(strstr(err.msg, "device"));
	/* sf_read_text too (it used to block on a FIFO's open) */
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/fifo", dir);
		assert_int_equal(sf_read_text(p, &text, NULL, &err), -1);
		assert_non_null(strstr(err.msg, "FIFO"));
	}
}

/* A sparse giant: refused from fstat, nothing read, nothing allocated. */
static void test_size_limit(void **state)
{
	struct m2d_error err;
	struct stat st;
	char *text = NULL;
	int fd;

	(void)state;
	fd = openat(dfd, "big", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 700L << 20), 0);
	close(fd);
	assert_int_equal(sf_read_text_at(dfd, "big", 1 << 20, &text, NULL,
					 "DIR/big", &err), -1);
	assert_null(text);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	assert_non_null(strstr(err.msg, "734003200 bytes"));
	fd = sf_open_read(dfd, "big", 0, &st, NULL, &err);
	assert_true(fd >= 0);
	assert_true(sf_is_sparse(fd, &st));
	close(fd);
	fd = openat(dfd, "small", O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
	fd = sf_open_read(dfd, "small", 0, &st, NULL, &err);
	assert_false(sf_is_sparse(fd, &st));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
