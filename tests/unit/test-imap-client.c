/* SPDX-License-Identifier: MIT */
/* test-imap-client.c - the IMAP response parser, without a socket */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-client.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static void parse_ok(const char *buf, size_t len, struct imap_resp *resp)
{
	const char *why = NULL;

	if (imap_resp_parse(buf, len, resp, &why) != 0)
		fail_msg("parse failed (%s): %s", why, buf);
}

#define PARSE(s, r) parse_ok(s, sizeof(s) - 1, r)

/* ---- status responses ------------------------------------------------- */

static void test_status(void **state)
{
	static const struct {
		const char *in;
		enum imap_resp_kind kind;
		const char *tag, *name, *code, *text;
	} tests[] = {
		{ "* OK [CAPABILITY IMAP4rev1 LITERAL+] Dovecot ready.\r\n",
		  IMAP_RESP_UNTAGGED, "", "OK",
		  "CAPABILITY IMAP4rev1 LITERAL+", "Dovecot ready." },
		{ "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
		  IMAP_RESP_TAGGED, "A1", "NO", "AUTHENTICATIONFAILED",
		  "Authentication failed." },
		{ "M7 ok done\r\n", IMAP_RESP_TAGGED, "M7", "OK", NULL, "done" },
		{ "* BYE Logging out", IMAP_RESP_UNTAGGED, "", "BYE", NULL,
		  "Logging out" },
		{ "* PREAUTH [ALERT] hi \"unbalanced ( text\r\n",
		  IMAP_RESP_UNTAGGED, "", "PREAUTH", "ALERT",
		  "hi \"unbalanced ( text" },
		{ "+ Ready for literal data\r\n", IMAP_RESP_CONTINUE, "", "",
		  NULL, "Ready for literal data" },
		{ "+\r\n", IMAP_RESP_CONTINUE, "", "", NULL, "" },
		{ "A2 BAD\n", IMAP_RESP_TAGGED, "A2", "BAD", NULL, "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		struct imap_resp r;

		parse_ok(tests[i].in, strlen(tests[i].in), &r);
		assert_int_equal(r.kind, tests[i].kind);
		assert_string_equal(r.tag, tests[i].tag);
		assert_string_equal(r.name, tests[i].name);
		if (tests[i].code == NULL)
			assert_null(r.code);
		else
			assert_string_equal(r.code, tests[i].code);
		assert_string_equal(r.text, tests[i].text);
		assert_int_equal(r.count, 0);
		imap_resp_free(&r);
	}
}

static void test_numbered(void **state)
{
	struct imap_resp r;

	(void)state;
	PARSE("* 5 EXISTS\r\n", &r);
	assert_true(r.has_number);
	assert_int_equal(r.number, 5);
	assert_string_equal(r.name, "EXISTS");
	assert_false(r.status);
	assert_int_equal(r.count, 0);
	imap_resp_free(&r);

	PARSE("* 0 recent\r\n", &r);
	assert_true(r.has_number);
	assert_int_equal(r.number, 0);
	assert_string_equal(r.name, "RECENT");
	imap_resp_free(&r);
}

/* ---- LIST with odd names ------------------------------------------------ */

static void test_list(void **state)
{
	static const struct {
		const char *in;
		size_t len;		/* 0: strlen */
		char delim;
		const char *name;
		size_t name_len;
		bool noselect;
	} tests[] = {
		{ "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", 0, '/', "INBOX",
		  5, false },
		{ "* LIST () NIL INBOX\r\n", 0, '\0', "INBOX", 5, false },
		{ "* LIST (\\HasNoChildren) \".\" \"Entw&APw-rfe\"\r\n", 0,
		  '.', "Entw&APw-rfe", 12, false },
		{ "* LIST (\\HasNoChildren) \"/\" \"R&-D\"\r\n", 0, '/',
		  "R&-D", 4, false },
		{ "* LIST (\\HasNoChildren) \"/\" "
		  "\"a \\\"quoted\\\" \\\\ name\"\r\n", 0, '/',
		  "a \"quoted\" \\ name", 17, false },
		{ "* LIST (\\Noselect \\HasChildren) \"/\" {11}\r\n"
		  "with\r\nCRLF!\r\n", 0, '/', "with\r\nCRLF!", 11, true },
		{ "* LIST (\\Noselect) \"/\" {3}\nx y\n", 0, '/', "x y", 3,
		  true },
		{ "* LIST (\\HasNoChildren) \"/\" \"\"\r\n", 0, '/', "", 0,
		  false },
		{ "* LIST (\\HasNoChildren) \"\\\\\" \"a\\\\b\"\r\n", 0,
		  '\\', "a\\b", 3, false },
		{ "* LIST (\\NoInferiors \\UnMarked) \"/\" (x)\r\n", 0, '/',
		  "(x)", 3, false },
		{ "* LIST (\\HasNoChildren) \"/\" \"(nil)\"", 0, '/', "(nil)",
		  5, false },
		{ "* lsub () \"/\" {0}\r\n\r\n", 0, '/', "", 0, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		struct imap_resp r;
		const struct imap_arg *flags;
		const char *name;
		char delim = 'X';
		size_t len = tests[i].len != 0 ? tests[i].len :
			     strlen(tests[i].in);

		parse_ok(tests[i].in, len, &r);
		if (strcmp(tests[i].name, "(x)") == 0) {
			/* a list is not a name */
			assert_int_equal(imap_resp_list(&r, &flags, &delim,
							&name), -1);
			imap_resp_free(&r);
			continue;
		}
		assert_int_equal(imap_resp_list(&r, &flags, &delim, &name), 0);
		assert_int_equal(delim, tests[i].delim);
		assert_int_equal(r.args[2].len, tests[i].name_len);
		assert_memory_equal(name, tests[i].name, tests[i].name_len);
		assert_int_equal(imap_flags_have(flags, "\\noselect"),
				 tests[i].noselect);
		imap_resp_free(&r);
	}
}

/* ---- arguments: NIL, literals, nesting, FETCH ---------------------------- */

static void test_args(void **state)
{
	struct imap_resp r;
	const struct imap_arg *l;
	static const char fetch[] =
		"* 1 FETCH (INTERNALDATE \" 7-Jan-2004 00:00:00 -0130\" "
		"BODY[HEADER.FIELDS (SUBJECT DATE)] {5}\r\nab\0cd "
		"FLAGS (\\Seen $Label1 \\*))\r\n";

	(void)state;
	PARSE("* X NIL \"NIL\" nil NILS {3}\r\nNIL\r\n", &r);
	assert_int_equal(r.count, 5);
	assert_int_equal(r.args[0].type, IMAP_ARG_NIL);
	assert_true(imap_arg_is_nil(&r.args[0]));
	assert_int_equal(r.args[1].type, IMAP_ARG_STRING);
	assert_string_equal(r.args[1].str, "NIL");
	assert_int_equal(r.args[2].type, IMAP_ARG_NIL);
	assert_int_equal(r.args[3].type, IMAP_ARG_ATOM);
	assert_string_equal(imap_arg_string(&r.args[3]), "NILS");
	assert_int_equal(r.args[4].type, IMAP_ARG_STRING);
	assert_true(r.args[4].literal);
	assert_null(imap_arg_string(&r.args[0]));
	imap_resp_free(&r);

	parse_ok(fetch, sizeof(fetch) - 1, &r);
	assert_int_equal(r.number, 1);
	assert_string_equal(r.name, "FETCH");
	assert_int_equal(r.count, 1);
	l = &r.args[0];
	assert_int_equal(l->type, IMAP_ARG_LIST);
	assert_int_equal(l->count, 6);
	assert_string_equal(l->list[0].str, "INTERNALDATE");
	assert_string_equal(l->list[1].str, " 7-Jan-2004 00:00:00 -0130");
	assert_string_equal(l->list[2].str,
			    "BODY[HEADER.FIELDS (SUBJECT DATE)]");
	assert_int_equal(l->list[3].len, 5);
	assert_memory_equal(l->list[3].str, "ab\0cd", 5);
	assert_int_equal(l->list[5].type, IMAP_ARG_LIST);
	assert_int_equal(l->list[5].count, 3);
	assert_string_equal(l->list[5].list[2].str, "\\*");
	imap_resp_free(&r);

	PARSE("* STATUS \"m2d-test\" (MESSAGES 3 UIDNEXT 4)\r\n", &r);
	assert_int_equal(r.count, 2);
	assert_string_equal(r.args[0].str, "m2d-test");
	assert_int_equal(r.args[1].count, 4);
	assert_string_equal(r.args[1].list[1].str, "3");
	imap_resp_free(&r);

	PARSE("* X (() (a (b)) \"\")\r\n", &r);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.args[0].count, 3);
	assert_int_equal(r.args[0].list[0].count, 0);
	assert_int_equal(r.args[0].list[1].list[1].list[0].type,
			 IMAP_ARG_ATOM);
	assert_int_equal(r.args[0].list[2].len, 0);
	imap_resp_free(&r);

	PARSE("* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\r\n", &r);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.args[1].str, "LITERAL+");
	imap_resp_free(&r);

	PARSE("* SEARCH\r\n", &r);
	assert_int_equal(r.count, 0);
	imap_resp_free(&r);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"*",
		"* ",
		"A1 LIST x\r\n",		/* tagged, not a status */
		"* LIST (\\A \"/\" x\r\n",	/* unterminated list */
		"* X \"abc\r\n",		/* unterminated quoted */
		"* X \"a\\qb\"\r\n",		/* bad escape */
		"* X \"a\\",
		"* X {5}\r\nab",		/* literal too short */
		"* X {x}\r\nab\r\n",
		"* X {}\r\n\r\n",
		"* X {5}ab\r\n",		/* no line end after size */
		"* X {99999999999}\r\n",
		"* X a)\r\n",			/* stray ')' */
		"* X (a)b\r\n",			/* no space */
		"* X \"a\"b\r\n",
		"* X a\r\nmore",		/* bytes after the end */
		"* X BODY[HEADER\r\n",		/* unbalanced '[' */
		"* OK [ALERT no end\r\n",
		"* 12x EXISTS\r\n",
		"* 5\r\n",
		"* 99999999999999999999999 EXISTS\r\n",
		"TAGTAGTAGTAGTAGTAGTAGTAGTAGTAGTAGTAGTAG OK x\r\n",
	};
	char deep[200];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(bad); i++) {
		struct imap_resp r;
		const char *why = NULL;

		if (imap_resp_parse(bad[i], strlen(bad[i]), &r, &why) == 0)
			fail_msg("parsed: %s", bad[i]);
		assert_non_null(why);
	}
	/* 40 nested lists: refused, not a deep recursion */
	snprintf(deep, sizeof(deep), "* X %.*s%.*s\r\n", 40,
		 "((((((((((((((((((((((((((((((((((((((((((((((((((", 40,
		 "))))))))))))))))))))))))))))))))))))))))))))))))))");
	{
		struct imap_resp r;
		const char *why = NULL;

		assert_int_equal(imap_resp_parse(deep, strlen(deep), &r, &why),
				 -1);
		assert_non_null(why);
	}
}

/* ---- INTERNALDATE -------------------------------------------------------- */

static void test_internaldate(void **state)
{
	static const struct {
		const char *in;
		int rc;
		long long t;
	} tests[] = {
		{ "17-Oct-1999 10:54:46 +0200", 0, 940150486 },
		{ " 7-Jan-2004 00:00:00 -0130", 0, 1073439000 },
		{ "7-jan-2004 00:00:00 -0130", 0, 1073439000 },
		{ "29-Feb-2000 23:59:59 +0000", 0, 951868799 },
		{ "31-Dec-1969 23:59:59 +0000", 0, -1 },
		{ "32-Jan-2004 00:00:00 +0000", -1, 0 },
		{ "7-Foo-2004 00:00:00 +0000", -1, 0 },
		{ "7-Jan-2004 24:00:00 +0000", -1, 0 },
		{ "7-Jan-2004 00:00:00 +0060", -1, 0 },
		{ "7-Jan-2004 00:00:00 0000", -1, 0 },
		{ "7-Jan-2004 00:00:00 +0000 x", -1, 0 },
		{ "7-Jan-2004 00:00:00", -1, 0 },
		{ "", -1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		long long t = 12345;
		int rc = imap_parse_internaldate(tests[i].in, &t);

		if (rc != tests[i].rc)
			fail_msg("%s: rc %d, want %d", tests[i].in, rc,
				 tests[i].rc);
		if (rc == 0 && t != tests[i].t)
			fail_msg("%s: %lld, want %lld", tests[i].in, t,
				 tests[i].t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_numbered),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_internaldate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
