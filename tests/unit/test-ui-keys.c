/* SPDX-License-Identifier: MIT */
/*
 * test-ui-keys.c - raw keys to commands (table-driven, per key mode), and
 * text measured in columns and wrapped (UTF-8, wide characters)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static void test_keys(void **state)
{
	static const struct {
		int rc;
		wint_t key;
		enum wz_keymode mode;
		enum wz_cmd cmd;
		wchar_t ch;
	} cases[] = {
		{ OK, L'\n', WZ_KM_PAGE, WZ_ENTER, 0 },
		{ OK, L'\r', WZ_KM_DIALOG, WZ_ENTER, 0 },
		{ KEY_CODE_YES, KEY_ENTER, WZ_KM_FIELD, WZ_ENTER, 0 },
		{ KEY_CODE_YES, KEY_F(1), WZ_KM_PAGE, WZ_HELP, 0 },
		{ OK, L'?', WZ_KM_PAGE, WZ_HELP, 0 },
		{ OK, 27, WZ_KM_PAGE, WZ_CANCEL, 0 },
		{ OK, 27, WZ_KM_FIELD, WZ_CANCEL, 0 },
		{ OK, L'q', WZ_KM_PAGE, WZ_QUIT, 0 },
		{ OK, L'q', WZ_KM_DIALOG, WZ_QUIT, 0 },
		{ OK, L'q', WZ_KM_FIELD, WZ_CHAR, L'q' },
		{ OK, L'n', WZ_KM_PAGE, WZ_NEXT, 0 },
		{ OK, L'n', WZ_KM_DIALOG, WZ_NO, 0 },
		{ OK, L'y', WZ_KM_DIALOG, WZ_YES, 0 },
		{ OK, L'b', WZ_KM_PAGE, WZ_BACK, 0 },
		{ OK, L' ', WZ_KM_PAGE, WZ_TOGGLE, 0 },
		{ OK, L' ', WZ_KM_FIELD, WZ_CHAR, L' ' },
		{ OK, L'/', WZ_KM_PAGE, WZ_FILTER, 0 },
		{ OK, L'/', WZ_KM_DIALOG, WZ_NONE, 0 },
		{ OK, L'a', WZ_KM_PAGE, WZ_ACCEPT, 0 },
		{ OK, L'A', WZ_KM_PAGE, WZ_ACCEPT_ALL, 0 },
		{ OK, L'x', WZ_KM_PAGE, WZ_EXCLUDE, 0 },
		{ OK, L'e', WZ_KM_PAGE, WZ_EDIT, 0 },
		{ OK, L's', WZ_KM_PAGE, WZ_SKIP, 0 },
		{ OK, L'L', WZ_KM_PAGE, WZ_LOG, 0 },		/* the log */
		{ OK, L'L', WZ_KM_DIALOG, WZ_NONE, 0 },
		{ OK, L'L', WZ_KM_FIELD, WZ_CHAR, L'L' },
		{ OK, L'\t', WZ_KM_DIALOG, WZ_TAB, 0 },
		{ OK, 127, WZ_KM_FIELD, WZ_ERASE, 0 },
		{ OK, 127, WZ_KM_PAGE, WZ_NONE, 0 },
		{ OK, 0xfc, WZ_KM_FIELD, WZ_CHAR, 0xfc },	/* ü */
		{ KEY_CODE_YES, KEY_BACKSPACE, WZ_KM_FIELD, WZ_ERASE, 0 },
		{ KEY_CODE_YES, KEY_DC, WZ_KM_FIELD, WZ_DELETE, 0 },
		{ KEY_CODE_YES, KEY_UP, WZ_KM_PAGE, WZ_UP, 0 },
		{ KEY_CODE_YES, KEY_DOWN, WZ_KM_PAGE, WZ_DOWN, 0 },
		{ KEY_CODE_YES, KEY_PPAGE, WZ_KM_PAGE, WZ_PGUP, 0 },
		{ KEY_CODE_YES, KEY_NPAGE, WZ_KM_PAGE, WZ_PGDN, 0 },
		{ KEY_CODE_YES, KEY_RESIZE, WZ_KM_FIELD, WZ_RESIZE, 0 },
		{ KEY_CODE_YES, KEY_LEFT, WZ_KM_DIALOG, WZ_LEFT, 0 },
		{ ERR, 0, WZ_KM_PAGE, WZ_NONE, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct wz_input in = wz_key_map(cases[i].rc, cases[i].key,
						cases[i].mode);

		if (in.cmd != cases[i].cmd)
			fail_msg("case %zu: key %u mode %d: %s, expected %s", i,
				 (unsigned int)cases[i].key, cases[i].mode,
				 wz_cmd_name(in.cmd),
				 wz_cmd_name(cases[i].cmd));
		if (in.cmd == WZ_CHAR)
			assert_int_equal(in.ch, cases[i].ch);
	}
	assert_string_equal(wz_cmd_name(WZ_NEXT), "next");
	assert_string_equal(wz_cmd_name(WZ_RESIZE), "resize");
	assert_string_equal(wz_cmd_name(WZ_LOG), "log");
	/* the log: N searches backwards, so n and N are told apart */
	assert_int_equal(wz_key_map(OK, L'N', WZ_KM_PAGE).ch, L'N');
	assert_int_equal(wz_key_map(OK, L'n', WZ_KM_PAGE).ch, L'n');
	/* "L Log" where the key line has room at 80 columns */
	assert_non_null(strstr(wz_keys_hint(RB_PAGE_TEXT, false, false,
					    false, false), "L Log"));
	assert_null(strstr(wz_keys_hint(RB_PAGE_FOLDERS, false, false,
					false, false), "L Log"));
	assert_null(strstr(wz_keys_hint(RB_PAGE_MIGRATE, false, false,
					false, true), "L Log"));
}

static void test_width(void **state)
{
	static const struct {
		const char *s;
		int width;
	} cases[] = {
		{ "", 0 },
		{ "Sent", 4 },
		{ "Entw\xc3\xbcrfe", 8 },			/* ü: 1 */
		{ "\xe6\x97\xa5\xe6\x9c\xac", 4 },		/* 日本: 2 each */
		{ "a\xffz", 3 },				/* bad byte: 1 */
		{ "\xe2\x9c\x93 done", 6 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		assert_int_equal(wz_text_width(cases[i].s), cases[i].width);
}

static void test_wrap(void **state)
{
	static const struct {
		const char *text;
		int width;
		const char *lines;	/* joined with '|' */
	} cases[] = {
		{ "", 10, "" },
		{ "one two three", 7, "one two|three" },
		{ "one two three", 20, "one two three" },
		{ "abcdefghij", 4, "abcd|efgh|ij" },
		{ "a\n\nb", 5, "a||b" },
		{ "Entw\xc3\xbcrfe und Vorlagen", 9,
		  "Entw\xc3\xbcrfe|und|Vorlagen" },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4,
		  "\xe6\x97\xa5\xe6\x9c\xac|\xe8\xaa\x9e" },
		{ "end with space ", 8, "end with|space" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		char **lines = NULL, joined[256] = "";
		int n = wz_wrap(cases[i].text, cases[i].width, &lines), k;

		assert_true(n >= 1);
		for (k = 0; k < n; k++) {
			assert_true(wz_text_width(lines[k]) <= cases[i].width);
			if (k > 0)
				strcat(joined, "|");
			strcat(joined, lines[k]);
		}
		wz_lines_free(lines, n);
		assert_string_equal(joined, cases[i].lines);
	}
}

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	wz_format_bytes(999, buf, sizeof(buf));
	assert_string_equal(buf, "999 B");
	wz_format_bytes(1500000, buf, sizeof(buf));
	assert_string_equal(buf, "1.5 MB");
	wz_format_duration(62, buf, sizeof(buf));
	assert_string_equal(buf, "1:02");
	wz_format_duration(3723, buf, sizeof(buf));
	assert_string_equal(buf, "1:02:03");
}

static void test_rename_problem(void **state)
{
	(void)state;
	assert_null(wz_rename_problem("work_2004", NULL));
	assert_null(wz_rename_problem("Entw\xc3\xbcrfe/2004", NULL));
	assert_non_null(wz_rename_problem("work.2004", NULL));
	assert_non_null(wz_rename_problem("", NULL));
	assert_non_null(wz_rename_problem("a//b", NULL));
	assert_non_null(wz_rename_problem("~old", NULL));
	assert_non_null(wz_rename_problem("Inbox", NULL));
}

static void test_dialog_field(void **state)
{
	struct wz_dialog d;
	struct wz_input in = { WZ_CHAR, L'x' };
	char *v;

	(void)state;
	wz_dialog_init(&d, "t", "text", "OK", "Cancel");
	wz_dialog_field(&d, "Entw\xc3\xbcrfe", false);
	assert_int_equal(d.len, 8);
	assert_int_equal(wz_dialog_handle(&d, &in), -1);
	in.cmd = WZ_LEFT;
	wz_dialog_handle(&d, &in);
	in.cmd = WZ_ERASE;
	wz_dialog_handle(&d, &in);	/* removes the 'e' before the 'x' */
	v = wz_dialog_value(&d);
	assert_string_equal(v, "Entw\xc3\xbcrfx");
	free(v);
	in.cmd = WZ_ENTER;
	assert_int_equal(wz_dialog_handle(&d, &in), 1);
	in.cmd = WZ_CANCEL;
	assert_int_equal(wz_dialog_handle(&d, &in), 0);
	wz_dialog_free(&d);

	/* a destructive question: Enter alone says No */
	wz_dialog_init(&d, "t", "clear?", "Yes", "No");
	in.cmd = WZ_ENTER;
	assert_int_equal(wz_dialog_handle(&d, &in), 0);
	in.cmd = WZ_YES;
	assert_int_equal(wz_dialog_handle(&d, &in), 1);
	wz_dialog_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_rename_problem),
		cmocka_unit_test(test_dialog_field),
	};

	setenv("LC_ALL", "C.UTF-8", 1);
	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
