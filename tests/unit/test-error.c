/* SPDX-License-Identifier: MIT */
/*
 * Tests for the error object (src/lib/error.c): context added on the way up
 * comes first, outermost first, and survives as far as it fits; names
 * are shown with their control characters escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "m2d-error.h"

static void test_prefix(void **state)
{
	struct m2d_error err;
	char buf[2048];

	(void)state;
	m2d_error_set(&err, M2D_ERR_MALFORMED, "/spool/alice", "bad line");
	m2d_error_at(&err, 10, 3);
	assert_string_equal(m2d_error_str(&err, buf, sizeof(buf)),
			    "/spool/alice:3: bad line");
	assert_int_equal(m2d_error_prefix(&err, "folder %s", "INBOX"), -1);
	assert_int_equal(m2d_error_prefix(&err, "user %s", "alice"), -1);
	assert_string_equal(m2d_error_str(&err, buf, sizeof(buf)),
			    "user alice: folder INBOX: /spool/alice:3: bad line");
	/* a new error starts without the old one's context */
	errno = ENOENT;
	m2d_error_sys(&err, "open", "/x\ny");
	assert_string_equal(err.context, "");
	m2d_error_prefix(&err, "reading the list");
	assert_non_null(strstr(m2d_error_str(&err, buf, sizeof(buf)),
			       "reading the list: "));
	assert_non_null(strstr(buf, "/x\\ny"));
}

static void test_prefix_long(void **state)
{
	struct m2d_error err;
	char buf[4096], word[400];

	(void)state;
	memset(word, 'w', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	m2d_error_set(&err, M2D_ERR_USAGE, NULL, "inner");
	for (int i = 0; i < 5; i++)
		m2d_error_prefix(&err, "%s", word);
	assert_int_equal(strlen(err.context), sizeof(err.context) - 1);
	/* a small buffer: cut, NUL-terminated */
	assert_int_equal(strlen(m2d_error_str(&err, buf, 16)), 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
