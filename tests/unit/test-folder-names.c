/* SPDX-License-Identifier: MIT */
/* test-folder-names.c - folder paths, IMAP names, Maildir++ directories */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folder-names.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Modified UTF-7                                                     */

/* UTF-8 beside modified UTF-7; NULL on one side = the other is invalid.
   From isync's tst_imap_utf7.c and Dovecot's test-imap-utf7.c, plus ours. */
static const struct {
	const char *utf8, *mutf7;
} mutf7_tests[] = {
	{ "", "" },
	{ "1", "1" },
	{ "word", "word" },
	{ "&", "&-" },
	{ "&&", "&-&-" },
	{ "1&1", "1&-1" },
	{ "&1&", "&-1&-" },
	{ "&&x&&", "&-&-x&-&-" },
	{ "R&D", "R&-D" },
	{ "\t", "&AAk-" },
	{ "m\x7f" "ll", "m&AH8-ll" },
	{ "\t&", "&AAk-&-" },
	{ "\t&\t", "&AAk-&-&AAk-" },
	{ "&\t", "&-&AAk-" },
	{ "&\t&", "&-&AAk-&-" },
	{ "\xc3\xa4", "&AOQ-" },			/* ä */
	{ "\xc3\xa4\xc3\xb6", "&AOQA9g-" },		/* äö */
	{ "\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-" },	/* äöü */
	{ "\xe1\xb8\x80", "&HgA-" },			/* U+1E00 */
	{ "\xe1\xb8\x80\xe1\xb8\x81", "&HgAeAQ-" },
	{ "\xf0\x9f\x98\x82", "&2D3eAg-" },		/* U+1F602 */
	{ "\xf0\x9f\x98\x88\xf0\x9f\x98\x8e", "&2D3eCNg93g4-" },
	{ "m\xc3\xbcll", "m&APw-ll" },
	{ "m\xc3\xbc", "m&APw-" },
	{ "\xc3\xbc" "ber", "&APw-ber" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "tiet\xc3\xa4j\xc3\xa4", "tiet&AOQ-j&AOQ-" },
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "\xef\xbf\xbd", "&,,0-" },			/* U+FFFD */
	{ "\xf4\x8f\xbf\xbf", "&2,,f,w-" },		/* U+10FFFF */
	/* invalid UTF-8 */
	{ "p\xe4\xe4", NULL },				/* Latin-1 */
	{ "\x83\x84", NULL },
	{ "\xc3\xc4", NULL },
	{ "\xc3", NULL },
	{ "\xe1\xc8\x80", NULL },
	{ "\xe1\xb8\xf0", NULL },
	{ "\xe1\xb8", NULL },
	{ "\xe1", NULL },
	{ "\xf8\x9f\x98\x82", NULL },
	{ "\xf0\xcf\x98\x82", NULL },
	{ "\xf0\x9f\xd8\x82", NULL },
	{ "\xf0\x9f\x98\xe2", NULL },
	{ "\xf0\x9f\x98", NULL },
	{ "\xf0", NULL },
	{ "\xc0\xaf", NULL },			/* overlong '/' */
	{ "\xc1\xbf", NULL },			/* overlong */
	{ "\xe0\x80\xaf", NULL },		/* overlong '/' */
	{ "\xe0\x9f\xbf", NULL },		/* overlong U+07FF */
	{ "\xf0\x8f\xbf\xbf", NULL },		/* overlong U+FFFF */
	{ "\xed\xa0\x80", NULL },		/* surrogate U+D800 */
	{ "\xed\xbf\xbf", NULL },		/* surrogate U+DFFF */
	{ "\xf4\x90\x80\x80", NULL },		/* U+110000 */
	{ "\xff", NULL },
	/* invalid modified UTF-7 */
	{ NULL, "&" },				/* unterminated */
	{ NULL, "&-&" },
	{ NULL, "&AAk" },
	{ NULL, "&Jjo" },
	{ NULL, "&Jjo!" },			/* bad base64 */
	{ NULL, "&*Ak-" },
	{ NULL, "&&-" },
	{ NULL, "&AA-" },			/* 12 bits: no character */
	{ NULL, "&AOQA-" },			/* a base64 char too many */
	{ NULL, "&AOR-" },			/* padding bits not zero */
	{ NULL, "&AGE-" },			/* 'a' must be itself */
	{ NULL, "&ACY-" },			/* '&' must be "&-" */
	{ NULL, "&ACA-" },			/* ' ' */
	{ NULL, "&AH4-" },			/* '~' */
	{ NULL, "&AAA-" },			/* NUL */
	{ NULL, "&2D0-" },			/* lone high surrogate */
	{ NULL, "&3gI-" },			/* lone low surrogate */
	{ NULL, "&2D3YPQ-" },			/* high + high */
	{ NULL, "&U,BTFw-&ZeVnLIqe-" },		/* two runs in a row */
	{ NULL, "&AOQ-&APY-" },
	{ NULL, "a\tb" },			/* must be encoded */
	{ NULL, "a\x7f" },
	{ NULL, "Entw\xc3\xbcrfe" },		/* 8-bit */
	{ NULL, "&AOQ_-" },
	{ NULL, "&AO Q-" },
};

static void test_mutf7_table(void **state)
{
	char buf[256];

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(mutf7_tests); i++) {
		const char *u = mutf7_tests[i].utf8, *m = mutf7_tests[i].mutf7;
		int ret;

		if (u != NULL) {
			ret = mutf7_encode(u, buf, sizeof(buf));
			if (m == NULL) {
				if (ret != -1)
					fail_msg("#%zu: encoded invalid UTF-8 to \"%s\"",
						 i, buf);
			} else {
				if (ret < 0 || strcmp(buf, m) != 0)
					fail_msg("#%zu: encode gave %d \"%s\", want \"%s\"",
						 i, ret, buf, m);
				assert_int_equal(ret, (int)strlen(m));
			}
		}
		if (m != NULL) {
			ret = mutf7_decode(m, buf, sizeof(buf));
			if (u == NULL) {
				if (ret != -1)
					fail_msg("#%zu: decoded invalid \"%s\"", i, m);
			} else {
				if (ret < 0 || strcmp(buf, u) != 0)
					fail_msg("#%zu: decode of \"%s\" gave %d", i, m, ret);
				assert_int_equal(ret, (int)strlen(u));
			}
		}
	}
}

/* Every ASCII character that represents itself must not be encoded, and
   its encoded form must be refused (Dovecot's "unnecessary" test). */
static void test_mutf7_ascii(void **state)
{
	static const char mb64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+,";
	char src[8], buf[16];

	(void)state;
	for (unsigned int c = 0x20; c < 0x7f; c++) {
		src[0] = '&';
		src[1] = 'A';
		src[2] = mb64[c >> 4];
		src[3] = mb64[(c & 0x0f) << 2];
		src[4] = '-';
		src[5] = '\0';
		if (mutf7_decode(src, buf, sizeof(buf)) != -1)
			fail_msg("decoded unnecessary \"%s\"", src);
		if (c == '&')
			continue;
		src[0] = (char)c;
		src[1] = '\0';
		assert_int_equal(mutf7_encode(src, buf, sizeof(buf)), 1);
		assert_string_equal(buf, src);
		assert_int_equal(mutf7_decode(src, buf, sizeof(buf)), 1);
		assert_string_equal(buf, src);
	}
	for (unsigned int c = 1; c < 0x20; c++) {
		src[0] = (char)c;
		src[1] = '\0';
		assert_int_equal(mutf7_decode(src, buf, sizeof(buf)), -1);
		/* and encoded, it decodes back */
		assert_true(mutf7_encode(src, buf, sizeof(buf)) == 5);
		assert_int_equal(buf[0], '&');
	}
}

static size_t put_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point from U+0080 up, in runs of 1 to 4 mixed with '&' and
   'x', survives encode + decode; the encoding is pure printable ASCII. */
static void test_mutf7_roundtrip(void **state)
{
	char src[64], enc[128], dec[64];

	(void)state;
	for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
		size_t n = 0;
		unsigned int run = 1 + cp % 4;

		if (cp == 0xd800)
			cp = 0xe000;
		for (unsigned int j = 0; j < run; j++) {
			if (j == 2)
				src[n++] = (cp & 1) ? '&' : 'x';
			n += put_utf8(cp, src + n);
		}
		src[n] = '\0';
		int e = mutf7_encode(src, enc, sizeof(enc));
		if (e < 0)
			fail_msg("U+%04X: encode failed", (unsigned int)cp);
		for (int i = 0; i < e; i++) {
			if (enc[i] < 0x20 || enc[i] > 0x7e)
				fail_msg("U+%04X: 8-bit output", (unsigned int)cp);
		}
		if (mutf7_decode(enc, dec, sizeof(dec)) != (int)n ||
		    strcmp(dec, src) != 0)
			fail_msg("U+%04X: \"%s\" did not decode back",
				 (unsigned int)cp, enc);
	}
}

static void test_mutf7_small_buffer(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(mutf7_encode("abc", buf, 3), -1);
	assert_int_equal(mutf7_encode("abc", buf, 4), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(mutf7_encode("\xc3\xa4", buf, 5), -1);	/* &AOQ- */
	assert_int_equal(mutf7_encode("\xc3\xa4", buf, 6), 5);
	assert_int_equal(mutf7_decode("&AOQ-", buf, 2), -1);
	assert_int_equal(mutf7_decode("&AOQ-", buf, 3), 2);
	assert_string_equal(buf, "\xc3\xa4");
	assert_int_equal(mutf7_encode("x", buf, 0), -1);
	assert_int_equal(mutf7_decode("x", NULL, 10), -1);
}

/* ------------------------------------------------------------------ */
/* Path -> IMAP name -> Maildir++ directory                           */

static const char *repeat(const char *s, unsigned int n, const char *tail)
{
	/* a table initialiser calls this many times: enough buffers */
	static char bufs[64][2048];
	static unsigned int which;
	char *b = bufs[which++ % 64];

	b[0] = '\0';
	for (unsigned int i = 0; i < n; i++)
		strcat(b, s);
	strcat(b, tail);
	return b;
}

struct path_test {
	const char *path;
	enum folder_problem problem;	/* of folder_name_from_path() */
	const char *name;		/* its OUT */
	enum folder_problem mproblem;	/* of folder_name_to_maildir(name) */
	const char *dir;		/* its OUT (NULL: "") */
};

static void run_path_test(size_t i, const struct path_test *t)
{
	char name[2048], dir[256];
	enum folder_problem p;

	p = folder_name_from_path(t->path, name, sizeof(name));
	if (p != t->problem)
		fail_msg("#%zu \"%s\": from_path gave %d, want %d",
			 i, t->path, p, t->problem);
	if (strcmp(name, t->name) != 0)
		fail_msg("#%zu \"%s\": name \"%s\", want \"%s\"",
			 i, t->path, name, t->name);
	p = folder_name_to_maildir(name, dir, sizeof(dir));
	if (p != t->mproblem)
		fail_msg("#%zu \"%s\": to_maildir gave %d, want %d",
			 i, name, p, t->mproblem);
	if (strcmp(dir, t->dir != NULL ? t->dir : "") != 0)
		fail_msg("#%zu \"%s\": dir \"%s\", want \"%s\"",
			 i, name, dir, t->dir);
}

static void test_path_table(void **state)
{
	const struct path_test tests[] = {
		/* the header's examples */
		{ "Sent", FOLDER_OK, "Sent", FOLDER_OK, ".Sent" },
		{ "work/2004", FOLDER_OK, "work/2004", FOLDER_OK, ".work.2004" },
		{ "Entw\xc3\xbcrfe", FOLDER_OK, "Entw\xc3\xbcrfe", FOLDER_OK,
		  ".Entw&APw-rfe" },
		{ "R&D", FOLDER_OK, "R&D", FOLDER_OK, ".R&-D" },
		/* UW kept what the client sent: modified UTF-7 */
		{ "Entw&APw-rfe", FOLDER_OK, "Entw\xc3\xbcrfe", FOLDER_OK,
		  ".Entw&APw-rfe" },
		{ "a/&ZeVnLIqe-/b", FOLDER_OK,
		  "a/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/b", FOLDER_OK,
		  ".a.&ZeVnLIqe-.b" },
		{ "AT&-T", FOLDER_OK, "AT&T", FOLDER_OK, ".AT&-T" },
		{ "&AGE-", FOLDER_OK, "&AGE-", FOLDER_OK, ".&-AGE-" },
		{ "Tom&Jerry", FOLDER_OK, "Tom&Jerry", FOLDER_OK,
		  ".Tom&-Jerry" },
		/* fine for Maildir++ */
		{ "cur", FOLDER_OK, "cur", FOLDER_OK, ".cur" },
		{ "new/tmp", FOLDER_OK, "new/tmp", FOLDER_OK, ".new.tmp" },
		{ "INBOX/old", FOLDER_OK, "INBOX/old", FOLDER_OK,
		  ".INBOX.old" },
		{ "a/INBOX", FOLDER_OK, "a/INBOX", FOLDER_OK, ".a.INBOX" },
		{ "star*", FOLDER_OK, "star*", FOLDER_OK, ".star*" },
		{ "50%", FOLDER_OK, "50%", FOLDER_OK, ".50%" },
		{ "sp ace", FOLDER_OK, "sp ace", FOLDER_OK, ".sp ace" },
		{ "a/~b", FOLDER_OK, "a/~b", FOLDER_OK, ".a.~b" },
		{ "INBOXES", FOLDER_OK, "INBOXES", FOLDER_OK, ".INBOXES" },
		/* problems of the path */
		{ "", FOLDER_EMPTY, "", FOLDER_EMPTY, NULL },
		{ "a//b", FOLDER_EMPTY, "a//b", FOLDER_EMPTY, NULL },
		{ "/a", FOLDER_EMPTY, "/a", FOLDER_EMPTY, NULL },
		{ "a/", FOLDER_EMPTY, "a/", FOLDER_EMPTY, NULL },
		{ ".", FOLDER_DOTDOT, ".", FOLDER_DOTDOT, NULL },
		{ "..", FOLDER_DOTDOT, "..", FOLDER_DOTDOT, NULL },
		{ "a/../b", FOLDER_DOTDOT, "a/../b", FOLDER_DOTDOT, NULL },
		{ "./a", FOLDER_DOTDOT, "./a", FOLDER_DOTDOT, NULL },
		{ "a\tb", FOLDER_CONTROL, "a\tb", FOLDER_CONTROL, NULL },
		{ "a\x7f", FOLDER_CONTROL, "a\x7f", FOLDER_CONTROL, NULL },
		{ "a\r\n", FOLDER_CONTROL, "a\r\n", FOLDER_CONTROL, NULL },
		{ "x\xc2\x85y", FOLDER_CONTROL, "x\xc2\x85y", FOLDER_CONTROL,
		  NULL },			/* U+0085 NEL */
		{ "&AAk-x", FOLDER_CONTROL, "\tx", FOLDER_CONTROL, NULL },
		{ "Entw\xfcrfe", FOLDER_NOT_UTF8, "Entw\xfcrfe",
		  FOLDER_NOT_UTF8, NULL },
		{ "a/\xc0\xaf", FOLDER_NOT_UTF8, "a/\xc0\xaf", FOLDER_NOT_UTF8,
		  NULL },
		{ "\xed\xa0\x80", FOLDER_NOT_UTF8, "\xed\xa0\x80",
		  FOLDER_NOT_UTF8, NULL },
		/* INBOX look-alikes */
		{ "INBOX", FOLDER_INBOX, "INBOX", FOLDER_OK, NULL },
		{ "inbox", FOLDER_INBOX, "inbox", FOLDER_OK, NULL },
		{ "Inbox", FOLDER_INBOX, "Inbox", FOLDER_OK, NULL },
		{ "inbox/x", FOLDER_INBOX, "inbox/x", FOLDER_INBOX, NULL },
		{ "Inbox/x/y", FOLDER_INBOX, "Inbox/x/y", FOLDER_INBOX, NULL },
		/* problems of the Maildir++ directory */
		{ "a.b", FOLDER_OK, "a.b", FOLDER_DOT, NULL },
		{ "a/b.c/d", FOLDER_OK, "a/b.c/d", FOLDER_DOT, NULL },
		{ ".hidden", FOLDER_OK, ".hidden", FOLDER_DOT, NULL },
		{ "~foo", FOLDER_OK, "~foo", FOLDER_RESERVED, NULL },
		{ "~", FOLDER_OK, "~", FOLDER_RESERVED, NULL },
		/* 255 bytes is the limit, "." included */
		{ repeat("a", 254, ""), FOLDER_OK, repeat("a", 254, ""),
		  FOLDER_OK, NULL },
		{ repeat("a", 255, ""), FOLDER_OK, repeat("a", 255, ""),
		  FOLDER_TOO_LONG, NULL },
		{ repeat("\xc3\xbc", 90, ""), FOLDER_OK,
		  repeat("\xc3\xbc", 90, ""), FOLDER_OK, NULL },
		{ repeat("\xc3\xbc", 100, ""), FOLDER_OK,
		  repeat("\xc3\xbc", 100, ""), FOLDER_TOO_LONG, NULL },
		/* 22 * 11 + 12 = 254 bytes, 255 with the leading '.' */
		{ repeat("abcdefghij/", 22, "abcdefghijkl"), FOLDER_OK,
		  repeat("abcdefghij/", 22, "abcdefghijkl"), FOLDER_OK, NULL },
		{ repeat("abcdefghij/", 22, "abcdefghijklm"), FOLDER_OK,
		  repeat("abcdefghij/", 22, "abcdefghijklm"), FOLDER_TOO_LONG,
		  NULL },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(tests); i++) {
		struct path_test t = tests[i];
		char want[300];

		/* expected directories too long to write by hand: '/'
		   cannot occur in modified base64 (it uses ',') */
		if (t.mproblem == FOLDER_OK && t.dir == NULL &&
			   strcasecmp(t.name, "INBOX") != 0) {
			assert_int_equal(mutf7_encode(t.name, want + 1,
						      sizeof(want) - 1) > 0, 1);
			want[0] = '.';
			for (char *p = want; *p != '\0'; p++) {
				if (*p == '/')
					*p = '.';
			}
			assert_true(strlen(want) <= 255);
			t.dir = want;
		}
		run_path_test(i, &t);
	}
}

static void test_path_buffers(void **state)
{
	char out[8], dir[8];

	(void)state;
	/* decoding can grow: 82 bytes of modified UTF-7 are 90 of UTF-8;
	   the contract's bound is 2 * strlen + 1 */
	char enc[128], big[2 * 82 + 1];
	assert_int_equal(mutf7_encode(repeat("\xe6\x97\xa5", 30, ""), enc,
				      sizeof(enc)), 82);
	assert_int_equal(folder_name_from_path(enc, big, sizeof(big)),
			 FOLDER_OK);
	assert_string_equal(big, repeat("\xe6\x97\xa5", 30, ""));
	assert_int_equal(folder_name_from_path(enc, big, 83), FOLDER_TOO_LONG);
	/* too small */
	assert_int_equal(folder_name_from_path("abcdefgh", out, sizeof(out)),
			 FOLDER_TOO_LONG);
	assert_int_equal(folder_name_from_path("abcdefg", out, sizeof(out)),
			 FOLDER_OK);
	assert_int_equal(folder_name_to_maildir("abcdefg", dir, sizeof(dir)),
			 FOLDER_TOO_LONG);
	assert_int_equal(folder_name_to_maildir("abcdef", dir, sizeof(dir)),
			 FOLDER_OK);
	assert_string_equal(dir, ".abcdef");
}

static void test_to_maildir_inbox(void **state)
{
	static const struct {
		const char *name;
		enum folder_problem problem;
		const char *dir;
	} tests[] = {
		{ "INBOX", FOLDER_OK, "" },
		{ "inbox", FOLDER_OK, "" },
		{ "InBoX", FOLDER_OK, "" },
		{ "INBOX/x", FOLDER_OK, ".INBOX.x" },
		{ "INBOX/x/y", FOLDER_OK, ".INBOX.x.y" },
		{ "inbox/x", FOLDER_INBOX, "" },
		{ "INBOX-old", FOLDER_OK, ".INBOX-old" },
		{ "&", FOLDER_OK, ".&-" },
		{ "x/\xc3\xa4/y", FOLDER_OK, ".x.&AOQ-.y" },
	};
	char dir[256];

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(tests); i++) {
		enum folder_problem p =
			folder_name_to_maildir(tests[i].name, dir, sizeof(dir));

		if (p != tests[i].problem || strcmp(dir, tests[i].dir) != 0)
			fail_msg("#%zu \"%s\": %d \"%s\"", i, tests[i].name,
				 p, dir);
	}
}

/* ------------------------------------------------------------------ */
/* Suggestions                                                        */

/* A suggestion is an IMAP name: folder_name_to_maildir() checks all the
   problems a name can have, but takes a lone "inbox" for the INBOX. */
static void assert_problem_free(const char *input, const char *sugg)
{
	char dir[256];
	enum folder_problem p;

	p = folder_name_to_maildir(sugg, dir, sizeof(dir));
	if (p != FOLDER_OK)
		fail_msg("suggestion \"%s\" for \"%s\": to_maildir %d",
			 sugg, input, p);
	if (dir[0] == '\0')
		fail_msg("suggestion \"%s\" for \"%s\" is INBOX", sugg, input);
}

static void test_suggest_table(void **state)
{
	const struct {
		const char *name, *want;
	} tests[] = {
		{ "Sent", "Sent" },
		{ "a.b", "a_b" },
		{ "a/b.c/d", "a/b_c/d" },
		{ ".hidden", "_hidden" },
		{ ".", "_" },
		{ "..", "__" },
		{ "a/../b", "a/__/b" },
		{ "", "_" },
		{ "a//b", "a/_/b" },
		{ "/a", "_/a" },
		{ "a/", "a/_" },
		{ "a\tb", "ab" },
		{ "\t", "_" },
		{ "x\xc2\x85y", "xy" },
		{ "Entw\xfcrfe", "Entw\xc3\xbcrfe" },
		{ "Gr\xfc\xdf" "e/\xc4rger", "Gr\xc3\xbc\xc3\x9f" "e/\xc3\x84rger" },
		{ "\x80uro", "\xe2\x82\xac" "uro" },	/* cp1252 euro */
		{ "\x81x\x9dy", "xy" },			/* undefined in cp1252 */
		{ "Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe" },
		{ "INBOX", "INBOX-old" },
		{ "inbox", "inbox-old" },
		{ "Inbox", "Inbox-old" },
		{ "inbox/x", "inbox-old/x" },
		{ "INBOX/x", "INBOX/x" },
		{ "IN\x01" "BOX", "INBOX-old" },
		{ "INBOX.", "INBOX_" },
		{ "~foo", "_foo" },
		{ "a/~b", "a/~b" },
		{ "R&D", "R&D" },
		{ repeat("a", 300, ""), repeat("a", 254, "") },
		{ repeat("a", 200, "/"), NULL },
	};
	char out[2048];

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(tests); i++) {
		folder_name_suggest(tests[i].name, out, sizeof(out));
		if (tests[i].want != NULL && strcmp(out, tests[i].want) != 0)
			fail_msg("#%zu \"%s\": \"%s\", want \"%s\"", i,
				 tests[i].name, out, tests[i].want);
		assert_problem_free(tests[i].name, out);
	}
}

/* Long names: the last level gives way first, on a character boundary,
   until the directory fits in 255 bytes. */
static void test_suggest_long(void **state)
{
	char in[2048], out[2048], dir[256], want[512];

	(void)state;
	/* 200 + 200: ".aaa(200).bbb(53)" = 255 */
	snprintf(in, sizeof(in), "%s/%s", repeat("a", 200, ""),
		 repeat("b", 200, ""));
	folder_name_suggest(in, out, sizeof(out));
	snprintf(want, sizeof(want), "%s/%s", repeat("a", 200, ""),
		 repeat("b", 53, ""));
	assert_string_equal(out, want);
	assert_int_equal(folder_name_to_maildir(out, dir, sizeof(dir)),
			 FOLDER_OK);
	assert_int_equal(strlen(dir), 255);

	/* non-ASCII: never cut inside a character */
	folder_name_suggest(repeat("\xc3\xbc", 200, ""), out, sizeof(out));
	assert_problem_free("200 x u-umlaut", out);
	assert_int_equal(strlen(out) % 2, 0);
	assert_memory_equal(out, repeat("\xc3\xbc", 200, ""), strlen(out));
	assert_int_equal(folder_name_to_maildir(out, dir, sizeof(dir)),
			 FOLDER_OK);
	assert_true(strlen(dir) > 240);
	/* 4-byte characters */
	folder_name_suggest(repeat("\xf0\x9f\x98\x82", 100, ""), out,
			    sizeof(out));
	assert_problem_free("100 x U+1F602", out);
	assert_int_equal(strlen(out) % 4, 0);

	/* INBOX suffix survives shortening of the level */
	snprintf(in, sizeof(in), "inbox/%s", repeat("x", 300, ""));
	folder_name_suggest(in, out, sizeof(out));
	assert_problem_free(in, out);
	assert_memory_equal(out, "inbox-old/xxx", 13);

	/* more levels than can ever fit: keeps what fits */
	folder_name_suggest(repeat("a/", 300, "a"), out, sizeof(out));
	assert_problem_free("300 levels", out);

	/* OUT smaller than the name */
	folder_name_suggest("abcdef", out, 4);
	assert_string_equal(out, "abc");
	folder_name_suggest("\xc3\xa4\xc3\xb6", out, 4);
	assert_string_equal(out, "\xc3\xa4");
	folder_name_suggest("INBOX", out, 2);
	assert_string_equal(out, "_");
}

/* Every name of the other tables, suggested, has no problem. */
static void test_suggest_all_problem_free(void **state)
{
	char out[2048];
	const char *names[] = {
		"", "/", "//", "a//b", "..", ".", "./..", "INBOX", "iNbOx",
		"inbox/x", "INBOX/.", "~", "~/x", "\x01\x02", "\x7f/\x7f",
		"\xff\xfe", "\xc3", "a.b.c", "&", "&-", "&AAk-", "cur",
		"\xc2\x80", "inbox.", "in\tbox", "\x80\x80\x80",
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		folder_name_suggest(names[i], out, sizeof(out));
		assert_problem_free(names[i], out);
	}
	for (size_t i = 0; i < N_ELEMENTS(mutf7_tests); i++) {
		const char *n = mutf7_tests[i].utf8 != NULL ?
			mutf7_tests[i].utf8 : mutf7_tests[i].mutf7;

		folder_name_suggest(n, out, sizeof(out));
		assert_problem_free(n, out);
	}
}

/* ------------------------------------------------------------------ */
/* Collisions                                                         */

static void test_folder_set(void **state)
{
	struct folder_set *set = folder_set_new();
	const char *other = "x";
	char sugg[256];

	(void)state;
	assert_non_null(set);
	assert_int_equal(folder_set_add(set, "a_b", &other), FOLDER_OK);
	assert_null(other);
	/* "a.b" cannot be used as it is, and its suggestion is taken */
	assert_int_equal(folder_set_add(set, "a.b", &other), FOLDER_DOT);
	assert_null(other);
	folder_name_suggest("a.b", sugg, sizeof(sugg));
	assert_string_equal(sugg, "a_b");
	assert_int_equal(folder_set_add(set, sugg, &other), FOLDER_COLLISION);
	assert_non_null(other);
	assert_string_equal(other, "a_b");
	/* the set-aware suggestion goes on */
	folder_set_suggest(set, "a.b", sugg, sizeof(sugg));
	assert_string_equal(sugg, "a_b-2");
	assert_int_equal(folder_set_add(set, sugg, NULL), FOLDER_OK);
	folder_set_suggest(set, "a.b", sugg, sizeof(sugg));
	assert_string_equal(sugg, "a_b-3");
	/* a free suggestion is left alone */
	folder_set_suggest(set, "c.d", sugg, sizeof(sugg));
	assert_string_equal(sugg, "c_d");

	/* INBOX in any case is one directory */
	assert_int_equal(folder_set_add(set, "INBOX", &other), FOLDER_OK);
	assert_int_equal(folder_set_add(set, "inbox", &other),
			 FOLDER_COLLISION);
	assert_string_equal(other, "INBOX");
	/* an INBOX look-alike from a path gets -old, then -old-2 */
	assert_int_equal(folder_set_add(set, "Inbox-old", NULL), FOLDER_OK);
	folder_set_suggest(set, "Inbox", sugg, sizeof(sugg));
	assert_string_equal(sugg, "Inbox-old-2");
	/* case matters elsewhere */
	assert_int_equal(folder_set_add(set, "Work", NULL), FOLDER_OK);
	assert_int_equal(folder_set_add(set, "work", NULL), FOLDER_OK);
	/* hierarchy: "a/b" is ".a.b", distinct from "a_b" */
	assert_int_equal(folder_set_add(set, "a/b", NULL), FOLDER_OK);
	assert_int_equal(folder_set_add(set, "a/b", &other), FOLDER_COLLISION);
	assert_string_equal(other, "a/b");

	/* a suggestion at the length limit still gets its number */
	char longname[300];
	snprintf(longname, sizeof(longname), "%s", repeat("z", 254, ""));
	assert_int_equal(folder_set_add(set, longname, NULL), FOLDER_OK);
	folder_set_suggest(set, repeat("z", 260, ""), sugg, sizeof(sugg));
	assert_int_equal(strlen(sugg), 254);
	assert_string_equal(sugg + 252, "-2");
	assert_int_equal(folder_set_add(set, sugg, NULL), FOLDER_OK);

	/* growth: many names, each remembered with its own name */
	for (unsigned int i = 0; i < 3000; i++) {
		char n[32];

		snprintf(n, sizeof(n), "f%u/g%u", i, i % 7);
		assert_int_equal(folder_set_add(set, n, NULL), FOLDER_OK);
	}
	for (unsigned int i = 0; i < 3000; i += 37) {
		char n[32];

		snprintf(n, sizeof(n), "f%u/g%u", i, i % 7);
		assert_int_equal(folder_set_add(set, n, &other),
				 FOLDER_COLLISION);
		assert_string_equal(other, n);
	}
	assert_int_equal(folder_set_add(set, "INBOX", &other),
			 FOLDER_COLLISION);
	assert_string_equal(other, "INBOX");
	folder_set_free(&set);
	assert_null(set);
	folder_set_free(&set);
}

/*
 * More levels than fit, none of which can be shortened (one character
 * each): the suggestion drops levels from the end.  The number of a set
 * suggestion goes with the last level that is kept; it used to be
 * dropped with the level it was on, which gave the suggestion already in
 * the set again and then "" (the fuzzer's crash-0bedef01: 0xfc, 0xff and
 * many empty levels).
 */
static void test_folder_set_suggest_dropped_levels(void **state)
{
	struct folder_set *set = folder_set_new();
	char first[1024], sugg[1024], dir[256], want[1024];
	char path[512], from[1024];
	const char *name = repeat("\xc3\xbc/", 60, "\xc3\xbc");
	const char *other;

	(void)state;
	assert_non_null(set);
	/* 61 x ".&APw-" (6 bytes) = 366: 42 levels (252 bytes) are kept */
	folder_name_suggest(name, first, sizeof(first));
	assert_problem_free(name, first);
	assert_string_equal(first, repeat("\xc3\xbc/", 41, "\xc3\xbc"));
	assert_int_equal(folder_set_add(set, first, &other), FOLDER_OK);

	/* 42 x ".&APw-" + ".-2" = 255 */
	folder_set_suggest(set, name, sugg, sizeof(sugg));
	snprintf(want, sizeof(want), "%s", repeat("\xc3\xbc/", 42, "-2"));
	assert_string_equal(sugg, want);
	assert_int_equal(folder_name_to_maildir(sugg, dir, sizeof(dir)),
			 FOLDER_OK);
	assert_int_equal(strlen(dir), 255);
	assert_int_equal(folder_set_add(set, sugg, &other), FOLDER_OK);
	folder_set_suggest(set, name, sugg, sizeof(sugg));
	snprintf(want, sizeof(want), "%s", repeat("\xc3\xbc/", 42, "-3"));
	assert_string_equal(sugg, want);
	assert_int_equal(folder_set_add(set, sugg, &other), FOLDER_OK);

	/* the same with Latin-1 bytes and empty levels ("_" each) */
	name = repeat("\xfc//", 40, "x");
	folder_name_suggest(name, first, sizeof(first));
	assert_problem_free(name, first);
	assert_int_equal(folder_set_add(set, first, &other), FOLDER_OK);
	folder_set_suggest(set, name, sugg, sizeof(sugg));
	assert_problem_free(name, sugg);
	assert_string_not_equal(sugg, first);
	assert_int_equal(folder_set_add(set, sugg, &other), FOLDER_OK);

	/* the minimized fuzzer input (124 levels, "_" when empty), as a
	   name and read from a path, in a set of its own each */
	snprintf(path, sizeof(path), "n%s\xfc%s\xff%sA%sw",
		 repeat("/", 26, ""), repeat("/", 28, ""), repeat("/", 52, ""),
		 repeat("/", 17, ""));
	assert_int_equal(folder_name_from_path(path, from, sizeof(from)),
			 FOLDER_EMPTY);
	for (int i = 0; i < 2; i++) {
		name = i == 0 ? path : from;
		folder_set_free(&set);
		set = folder_set_new();
		assert_non_null(set);
		folder_name_suggest(name, first, sizeof(first));
		assert_problem_free(name, first);
		assert_int_equal(folder_set_add(set, first, &other), FOLDER_OK);
		folder_set_suggest(set, name, sugg, sizeof(sugg));
		assert_problem_free(name, sugg);
		assert_string_not_equal(sugg, first);
		assert_int_equal(folder_set_add(set, sugg, &other), FOLDER_OK);
	}
	folder_set_free(&set);
}

/* ------------------------------------------------------------------ */
/* .mailboxlist                                                       */

static void check_names(char **names, const char *const *want)
{
	size_t i;

	assert_non_null(names);
	for (i = 0; want[i] != NULL; i++) {
		if (names[i] == NULL)
			fail_msg("name #%zu missing, want \"%s\"", i, want[i]);
		if (strcmp(names[i], want[i]) != 0)
			fail_msg("name #%zu \"%s\", want \"%s\"", i, names[i],
				 want[i]);
	}
	if (names[i] != NULL)
		fail_msg("unexpected name #%zu \"%s\"", i, names[i]);
}

static void test_mailboxlist(void **state)
{
	static const char data[] =
		"mail/box\r\n"
		"~/mail/box2\n"
		"INBOX\n"
		"inbox\n"
		"\n"
		"\r\n"
		"mail/box\n"
		"box\n"
		"mail/Entw&APw-rfe\n"
		"mail/sub/dir/\n"
		"~other/mail/x\n"
		"/var/mail/other\n"
		"#news.comp.mail.imap\n"
		"{imap.example.org}INBOX\n"
		"mail/\n"
		"mail\n"
		"top\n"
		"mail/R&D\n"
		"mail/Latin\xe4\n"
		"mail/last";
	static const char *const prefixes[] = { "mail/", "Mail/", NULL };
	static const char *const want[] = {
		"box", "box2", "INBOX", "Entw\xc3\xbcrfe", "sub/dir", "mail",
		"top", "R&D", "Latin\xe4", "last", NULL
	};
	static const char *const want_noprefix[] = {
		"mail/box", "mail/box2", "INBOX", NULL
	};
	static const char *const want_none[] = { NULL };
	char **names;

	(void)state;
	names = mailboxlist_to_names(data, sizeof(data) - 1, prefixes);
	check_names(names, want);
	folder_names_free(names);

	/* LEN is honoured: 3 lines and "inbo" */
	names = mailboxlist_to_names(data, 32, NULL);
	static const char *const want_cut[] = {
		"mail/box", "mail/box2", "INBOX", "inbo", NULL
	};
	check_names(names, want_cut);
	folder_names_free(names);

	names = mailboxlist_to_names(data, 28, NULL);
	check_names(names, want_noprefix);
	folder_names_free(names);

	names = mailboxlist_to_names("", 0, prefixes);
	check_names(names, want_none);
	folder_names_free(names);

	names = mailboxlist_to_names("\r\n\n~/\nmail/\n", 12, prefixes);
	check_names(names, want_none);
	folder_names_free(names);
	folder_names_free(NULL);

	/* what from_path gives for the same folder is what we give */
	char name[64];
	assert_int_equal(folder_name_from_path("Entw&APw-rfe", name,
					       sizeof(name)), FOLDER_OK);
	assert_string_equal(name, want[3]);
}

/* ------------------------------------------------------------------ */
/* subscriptions                                                      */

struct tmpdir {
	char path[64];
	int fd;
};

static int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/test-folder-names.XXXXXX");
	if (mkdtemp(t->path) == NULL)
		return -1;
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0)
		return -1;
	*state = t;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	static const char *const files[] = {
		"subscriptions", "subscriptions.lock", "target", NULL
	};

	for (size_t i = 0; files[i] != NULL; i++)
		(void)unlinkat(t->fd, files[i], 0);
	close(t->fd);
	rmdir(t->path);
	free(t);
	return 0;
}

static void read_file_at(int dirfd, const char *fname, char *buf,
			 size_t size, struct stat *st)
{
	int fd = openat(dirfd, fname, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, st), 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void assert_no_lock(int dirfd)
{
	struct stat st;

	assert_int_equal(fstatat(dirfd, "subscriptions.lock", &st,
				 AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_subscriptions_write(void **state)
{
	struct tmpdir *t = *state;
	static const char *const names[] = {
		"INBOX", "a", "a/b", "Entw\xc3\xbcrfe", "x/Entw\xc3\xbcrfe",
		"R&D", "inbox", "a", "cur", "INBOX/old", NULL
	};
	static const char want[] =
		"INBOX\na\na.b\nEntw&APw-rfe\nx.Entw&APw-rfe\nR&-D\ncur\n"
		"INBOX.old\n";
	struct m2d_error err;
	struct stat st;
	char buf[512];
	mode_t old_umask = umask(0);

	m2d_error_clear(&err);
	assert_int_equal(subscriptions_write(t->fd, names, -1, -1, &err), 0);
	umask(old_umask);
	read_file_at(t->fd, "subscriptions", buf, sizeof(buf), &st);
	assert_string_equal(buf, want);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_uid, geteuid());
	assert_no_lock(t->fd);

	/* replaced as a whole */
	static const char *const names2[] = { "b/c", NULL };
	assert_int_equal(subscriptions_write(t->fd, names2, (int)getuid(),
					     (int)getgid(), &err), 0);
	read_file_at(t->fd, "subscriptions", buf, sizeof(buf), &st);
	assert_string_equal(buf, "b.c\n");
	assert_int_equal(st.st_mode & 07777, 0600);

	/* nothing subscribed: an empty file */
	static const char *const none[] = { NULL };
	assert_int_equal(subscriptions_write(t->fd, none, -1, -1, &err), 0);
	read_file_at(t->fd, "subscriptions", buf, sizeof(buf), &st);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(subscriptions_write(t->fd, NULL, -1, -1, &err), 0);

	/* owner: as root, give it to someone else */
	if (geteuid() == 0) {
		assert_int_equal(subscriptions_write(t->fd, names2, 65534,
						     65534, &err), 0);
		read_file_at(t->fd, "subscriptions", buf, sizeof(buf), &st);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(subscriptions_write(t->fd, names2, -1, 0,
						     &err), 0);
		read_file_at(t->fd, "subscriptions", buf, sizeof(buf), &st);
		assert_int_equal(st.st_uid, geteuid());
		assert_int_equal(st.st_gid, 0);
	}
}

static void test_subscriptions_errors(void **state)
{
	struct tmpdir *t = *state;
	static const char *const good[] = { "a", NULL };
	static const char *const bad[] = { "a", "b.c", NULL };
	struct m2d_error err;
	struct stat st;
	char buf[512];
	struct timespec old[2] = { { 0, 0 }, { 0, 0 } };

	m2d_error_clear(&err);
	assert_int_equal(subscriptions_write(t->fd, good, -1, -1, &err), 0);

	/* a name that cannot be a Maildir++ folder: nothing written */
	assert_int_equal(subscriptions_write(t->fd, bad, -1, -1, &err), -1);
	assert_int_equal(err.code, M2D_ERR_NAME);
	assert_non_null(strstr(err.msg, "b.c"));
	read_file_at(t->fd, "subscriptions", buf, sizeof(buf), &st);
	assert_string_equal(buf, "a\n");
	assert_no_lock(t->fd);

	/* Dovecot (or another run) holds the lock */
	int fd = openat(t->fd, "subscriptions.lock", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(subscriptions_write(t->fd, good, -1, -1, &err), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	/* a stale lock is removed */
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 120;
	assert_int_equal(utimensat(t->fd, "subscriptions.lock", old, 0), 0);
	assert_int_equal(subscriptions_write(t->fd, good, -1, -1, &err), 0);
	assert_no_lock(t->fd);

	/* a symlink as lock is never followed: its target stays as it is */
	fd = openat(t->fd, "target", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlinkat("target", t->fd, "subscriptions.lock"), 0);
	assert_int_equal(subscriptions_write(t->fd, good, -1, -1, &err), -1);
	assert_int_equal(err.code, M2D_ERR_LOCKED);
	read_file_at(t->fd, "target", buf, sizeof(buf), &st);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(unlinkat(t->fd, "subscriptions.lock", 0), 0);

	/* a failing system call names itself */
	assert_int_equal(subscriptions_write(-1, good, -1, -1, &err), -1);
	assert_int_equal(err.code, M2D_ERR_SYS);
	assert_string_equal(err.syscall, "open");
	assert_int_equal(err.sys_errno, EBADF);
}

/* ------------------------------------------------------------------ */

static void test_problem_str(void **state)
{
	const char *seen[FOLDER_RESERVED + 1];

	(void)state;
	for (int p = FOLDER_OK; p <= FOLDER_RESERVED; p++) {
		seen[p] = folder_problem_str((enum folder_problem)p);
		assert_non_null(seen[p]);
		assert_true(strlen(seen[p]) > 3);
		for (int q = FOLDER_OK; q < p; q++)
			assert_string_not_equal(seen[p], seen[q]);
	}
	assert_non_null(folder_problem_str((enum folder_problem)99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutf7_table),
		cmocka_unit_test(test_mutf7_ascii),
		cmocka_unit_test(test_mutf7_roundtrip),
		cmocka_unit_test(test_mutf7_small_buffer),
		cmocka_unit_test(test_path_table),
		cmocka_unit_test(test_path_buffers),
		cmocka_unit_test(test_to_maildir_inbox),
		cmocka_unit_test(test_suggest_table),
		cmocka_unit_test(test_suggest_long),
		cmocka_unit_test(test_suggest_all_problem_free),
		cmocka_unit_test(test_folder_set),
		cmocka_unit_test(test_folder_set_suggest_dropped_levels),
		cmocka_unit_test(test_mailboxlist),
		cmocka_unit_test_setup_teardown(test_subscriptions_write,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions_errors,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_problem_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
