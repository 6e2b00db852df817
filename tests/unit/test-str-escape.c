/* SPDX-License-Identifier: MIT */
/* test-str-escape.c - names shown to people and stored in our line files
 * (str-escape.h): nothing a name holds can start a line, a field or an
 * escape sequence; what the unescapers take is only what we write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str-escape.h"

static void test_display(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ NULL, "" },
		{ "a\nfolder FAKE -> INBOX", "a\\nfolder FAKE -> INBOX" },
		{ "t\tr\rb\\s", "t\\tr\\rb\\\\s" },
		{ "\x1b[2J\x07", "\\x1b[2J\\x07" },
		{ "del\x7f", "del\\x7f" },
		{ "Entw\xc3\xbc" "rfe", "Entw\xc3\xbc" "rfe" },	/* UTF-8 kept */
		{ "lat\xe9n", "lat\\xe9n" },		/* not UTF-8 */
		{ "c1\xc2\x9b", "c1\\xc2\\x9b" },	/* C1 CSI */
		{ "\xe2\x80\xae" "rev", "\\xe2\\x80\\xae" "rev" },	/* RLO */
		{ "\xe2\x81\xa6x", "\\xe2\\x81\\xa6x" },	/* LRI */
		{ "cut\xe2\x82", "cut\\xe2\\x82" },	/* truncated UTF-8 */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },	/* a surrogate */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = str_escape(cases[i].in);
		char buf[128];
		FILE *m;
		char *text = NULL;
		size_t len = 0;

		assert_string_equal(e, cases[i].out);
		assert_string_equal(str_esc(cases[i].in), cases[i].out);
		assert_int_equal(str_escape_buf(buf, sizeof(buf), cases[i].in),
				 strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
		m = open_memstream(&text, &len);
		str_escape_fput(m, cases[i].in);
		fclose(m);
		assert_string_equal(text, cases[i].out);
		free(text);
		free(e);
	}
}

/* Eight at once in one printf; cut only between escapes. */
static void test_ring_and_cut(void **state)
{
	char buf[64], small[7];

	(void)state;
	snprintf(buf, sizeof(buf), "%s|%s|%s|%s|%s|%s|%s|%s", str_esc("1\n"),
		 str_esc("2"), str_esc("3"), str_esc("4"), str_esc("5"),
		 str_esc("6"), str_esc("7"), str_esc("8\t"));
	assert_string_equal(buf, "1\\n|2|3|4|5|6|7|8\\t");
	assert_int_equal(str_escape_buf(small, sizeof(small), "abcde\n"), 7);
	assert_string_equal(small, "abcde");	/* not "abcde\\" */
	assert_int_equal(str_escape_buf(small, sizeof(small), "ab\xc3\xbc\xc3\xbc"
					"\xc3\xbc"), 8);
	assert_string_equal(small, "ab\xc3\xbc\xc3\xbc");
	assert_int_equal(str_escape_buf(NULL, 0, "x\n"), 3);
}

static void test_field(void **state)
{
	static const char *const names[] = {
		"", "a b", "1700000000.evil\nstate pending\nbefore 0\nx:2,S",
		"tab\there", "cr\r", "\\n is not a newline", "\x01\x1f\x7f",
		("Entw\xc3\xbc" "rfe"), "lat\xe9n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *f = str_field_escape(names[i]);
		char *l = str_line_escape(names[i]);

		/* one field, one line: no byte of it ends either */
		assert_null(strpbrk(f, " \t\n\r"));
		assert_null(strpbrk(l, "\t\n\r"));
		for (const unsigned char *p = (const unsigned char *)f; *p; p++)
			assert_true(*p >= 0x20 && *p != 0x7f);
		assert_int_equal(str_field_unescape(f), 0);
		assert_string_equal(f, names[i]);
		assert_int_equal(str_line_unescape(l), 0);
		assert_string_equal(l, names[i]);
		free(f);
		free(l);
	}
	{
		char *f = str_field_escape("a b\n");

		assert_string_equal(f, "a\\sb\\n");
		free(f);
		f = str_line_escape("a b\n");
		assert_string_equal(f, "a b\\n");
		free(f);
	}
}

/* What the escapers cannot have written is refused. */
static void test_unescape_refuses(void **state)
{
	static const char *const bad[] = {
		"raw space", "tab\there", "nl\n", "a\\", "\\q", "\\x0", "\\x00",
		"\\xg0", "\x7f",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = strdup(bad[i]);

		assert_int_equal(str_field_unescape(s), -1);
		free(s);
	}
	{
		char ok[] = "a b\\sc", bad2[] = "a\\qb";

		assert_int_equal(str_line_unescape(ok), 0);
		assert_string_equal(ok, "a b c");
		assert_int_equal(str_line_unescape(bad2), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_ring_and_cut),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_unescape_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
