/* SPDX-License-Identifier: MIT */
/* test-mbox-reader.c - splitting mboxes the way UW-IMAP does */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbox-reader.h"
#include "uw-uids.h"

#define F1 "From alice@example.com Tue Nov  9 10:11:12 2004\n"
#define F2 "From bob@example.com Wed Nov 10 08:00:00 2004\n"
#define F3 "From carol@example.com Thu Nov 11 09:30 2004\n"

struct expect_msg {
	const char *bytes;
	size_t len;			/* 0: strlen */
	unsigned int flags;
	unsigned long uid;
	const char *keywords;
};

struct reader_case {
	const char *name;
	const char *mbox;
	size_t mbox_len;		/* 0: strlen */
	bool mboxrd;
	int nmsgs;
	struct expect_msg msgs[4];
	bool have_base;
	unsigned long uidvalidity, uidlast;
	const char *base_keywords;
};

static const struct reader_case cases[] = {
	{ "empty file", "", 0, false, 0, { { NULL, 0, 0, 0, NULL } },
	  false, 0, 0, NULL },
	{ "one message, blank line after it",
	  F1 "Subject: a\n\nbody\n\n", 0, false, 1,
	  { { "Subject: a\n\nbody\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "no blank line before the next From_: own last line kept",
	  F1 "Subject: a\n\nbody\n" F2 "Subject: b\n\nx\n", 0, false, 2,
	  { { "Subject: a\n\nbody\n", 0, 0, 0, "" },
	    { "Subject: b\n\nx\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "two blank lines: one is the message's",
	  F1 "Subject: a\n\nbody\n\n\n" F2 "Subject: b\n\nx\n\n", 0, false, 2,
	  { { "Subject: a\n\nbody\n\n", 0, 0, 0, "" },
	    { "Subject: b\n\nx\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "last message without final newline",
	  F1 "Subject: a\n\nno newline", 0, false, 1,
	  { { "Subject: a\n\nno newline", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "From line that does not parse is body text",
	  F1 "Subject: a\n\nFrom here to eternity\nmore\n\n", 0, false, 1,
	  { { "Subject: a\n\nFrom here to eternity\nmore\n", 0, 0, 0, "" } },
	  false, 0, 0, NULL },
	{ ">From is kept as is by default (mboxo)",
	  F1 "Subject: a\n\n>From me\n>>From you\n\n", 0, false, 1,
	  { { "Subject: a\n\n>From me\n>>From you\n", 0, 0, 0, "" } },
	  false, 0, 0, NULL },
	{ "mboxrd unescapes one level",
	  F1 "Subject: a\n\n>From me\n>>From you\n>Fromage\n\n", 0, true, 1,
	  { { "Subject: a\n\nFrom me\n>From you\n>Fromage\n", 0, 0, 0, "" } },
	  false, 0, 0, NULL },
	{ "CRLF file",
	  "From a@b Tue Nov  9 10:11:12 2004\r\nSubject: a\r\n\r\nbody\r\n\r\n"
	  "From a@b Tue Nov  9 10:11:13 2004\r\nSubject: b\r\n\r\nx\r\n\r\n",
	  0, false, 2,
	  { { "Subject: a\r\n\r\nbody\r\n", 0, 0, 0, "" },
	    { "Subject: b\r\n\r\nx\r\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	/* c-client: the blank line ends the header and is served
	 * ("Subject: a\r\n\r\n"), at the end of the file too */
	{ "header only, no body: the blank line ends the header",
	  F1 "Subject: a\n\n" F2 "Subject: b\n\n", 0, false, 2,
	  { { "Subject: a\n\n", 0, 0, 0, "" },
	    { "Subject: b\n\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "header only, CRLF, and a header ended by the file",
	  "From a@b Tue Nov  9 10:11:12 2004\r\nSubject: a\r\n\r\n"
	  "From a@b Tue Nov  9 10:11:12 2004\r\nSubject: b\r\n",
	  0, false, 2,
	  { { "Subject: a\r\n\r\n", 0, 0, 0, "" },
	    { "Subject: b\r\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "a From_ line inside a header is a header line (c-client)",
	  F1 "Subject: a\n" F2 "Subject: b\n\nbody\n", 0, false, 1,
	  { { "Subject: a\n" F2 "Subject: b\n\nbody\n", 0, 0, 0, "" } },
	  false, 0, 0, NULL },
	{ "a From_ line without its LF at the end is body text",
	  F1 "Subject: a\n\nbody\nFrom a@b Tue Nov  9 10:11:12 2004", 0,
	  false, 1,
	  { { "Subject: a\n\nbody\nFrom a@b Tue Nov  9 10:11:12 2004", 0, 0,
	      0, "" } }, false, 0, 0, NULL },
	{ "blank bytes before the first From_ line belong to no message",
	  "   \n\t\n   \n" F1 "Subject: a\n\nbody\n", 0, false, 1,
	  { { "Subject: a\n\nbody\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "a CR not followed by a LF is dropped, in header and body",
	  F1 "Subject: a\rb\r\r\nX: c\r\rd\n e\rf\n\nbo\rdy\r\r\nx\ry\n\r\n\r",
	  0, false, 1,
	  { { "Subject: ab\r\nX: cd\n ef\n\nbody\r\nxy\n\r\n", 0, 0, 0,
	      "" } }, false, 0, 0, NULL },
	{ "flag letters alike in Status and X-Status",
	  F1 "Status: ROD\n\na\n\n" F2 "Status: ORA\n\nb\n\n"
	  F3 "X-Status: RO\nStatus: FT\n\nc\n", 0, false, 3,
	  { { "\na\n", 0, UW_SEEN | UW_OLD | UW_DELETED, 0, "" },
	    { "\nb\n", 0, UW_SEEN | UW_OLD | UW_ANSWERED, 0, "" },
	    { "\nc\n", 0, UW_SEEN | UW_OLD | UW_FLAGGED | UW_DRAFT, 0, "" } },
	  false, 0, 0, NULL },
	{ "UW fields in any case are removed, read only in exact case",
	  F1 "status: RO\nX-STATUS: F\nStatus : R\nStatus\nStatus: O\n D\n"
	  "Subject: a\n\nb\n", 0, false, 1,
	  { { "Subject: a\n\nb\n", 0, UW_OLD, 0, "" } }, false, 0, 0, NULL },
	{ "keywords: declared ones only, any case, declared spelling",
	  F1 "X-IMAPbase: 100 9 Personal Work a A x\ty " "\\Seen\n"
	  "X-UID: 1\nX-Keywords: personal WORK other a x\ty\n"
	  "X-Keywords: \\seen\n\nb\n\n"
	  F2 "X-UID: 2\nX-Keywords:   work  \n\nc\n", 0, false, 2,
	  { { "\nb\n", 0, 0, 1, "Personal Work a x\ty \\Seen" },
	    { "\nc\n", 0, 0, 2, "Work" } },
	  true, 100, 9, "Personal Work a x\ty \\Seen" },
	{ "keywords: a word too long leaves a hole that ends the matching",
	  F1 "X-IMAPbase: 100 9 a "
	  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL c\n"
	  "X-Keywords: a c\n\nb\n", 0, false, 1,
	  { { "\nb\n", 0, 0, 0, "a" } }, true, 100, 9, "a c" },
	{ "a From_ line of UW's shape separates though its date is no date",
	  F1 "S: a\n\nb\n\nFrom x Tue Nov  9 25:61:12 2004\nS: b\n\nc\n", 0,
	  false, 2,
	  { { "S: a\n\nb\n", 0, 0, 0, "" }, { "S: b\n\nc\n", 0, 0, 0, "" } },
	  false, 0, 0, NULL },
	/* c-client: an X-UID of 0 in message 1 drops the UIDVALIDITY, and
	 * a later X-IMAP there is read afresh (slot 0 taken over) */
	{ "X-UID 0 in message 1, then X-IMAP: the pseudo-message after all",
	  F1 "X-IMAPbase: 100 5 a c\nX-UID: 0\nX-IMAP: 200 9 b\nSubject: p\n"
	  "\nbody\n\n" F2 "X-UID: 3\nX-Keywords: b C\n\nx\n", 0, false, 1,
	  { { "\nx\n", 0, 0, 3, "b c" } }, true, 200, 9, "b c" },
	/* c-client's prevuid outlives the reset: after "already has UID"
	 * and a fresh X-IMAPbase, X-UID 2 is "less than 3" (fuzz find) */
	{ "two X-UIDs around an X-IMAPbase in message 1: reset twice",
	  F1 "X-UID: 2\nX-IMAPbase: 1 25\nX-UID: 2\nX-UID: 2\n"
	  "X-IMAPbase: 1 25\nX-UID: 2\n\nbody\n\n" F2 "X-UID: 27\n\nx\n",
	  0, false, 2,
	  /* no UIDVALIDITY left: the X-UIDs after it are not believed */
	  { { "\nbody\n", 0, 0, 0, "" }, { "\nx\n", 0, 0, 0, "" } },
	  false, 0, 0, NULL },
	{ "a reset in message 1, then X-IMAPbase again: its data kept",
	  F1 "X-IMAPbase: 1 5\nX-UID: 10\nX-UID: 3\nX-IMAPbase: 1 5\n"
	  "\nbody\n\n" F2 "X-UID: 7\n\nx\n", 0, false, 2,
	  { { "\nbody\n", 0, 0, 0, "" }, { "\nx\n", 0, 0, 7, "" } },
	  true, 1, 5, "" },
	{ "an X-UID taken, reset, then X-IMAP: the pseudo-message",
	  F1 "X-IMAPbase: 1 5\nX-UID: 10\nX-UID: 10\nX-IMAP: 200 20\n"
	  "\nbody\n\n" F2 "X-UID: 7\n\nx\n", 0, false, 1,
	  { { "\nx\n", 0, 0, 7, "" } }, true, 200, 20, "" },
	{ "an X-IMAP without a UIDVALIDITY is not UW's: message 1 is mail",
	  F1 "X-IMAP: 0 5 a\nSubject: p\n\nbody\n", 0, false, 1,
	  { { "Subject: p\n\nbody\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "UW pseudo-message is metadata, flags and UIDs parsed and stripped",
	  "From MAILER-DAEMON Tue Nov  9 10:00:00 2004\n"
	  "Date: Tue, 9 Nov 2004 10:00:00 +0000\n"
	  "From: Mail System Internal Data <MAILER-DAEMON@host>\n"
	  "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
	  "X-IMAP: 1100000000 0000000012 work  private\n"
	  "Status: RO\n\n"
	  "This text is part of the internal format of your mail folder.\n\n"
	  F1 "Subject: a\nStatus: RO\nX-Status: AF\nX-Keywords: work   \n"
	  "X-UID: 7\n\nbody\n\n"
	  F2 "Subject: b\nStatus: O\nX-Status: TD\nX-Keywords:\nX-UID: 12\n"
	  "Content-Length: 2\n\nx\n\n",
	  0, false, 2,
	  { { "Subject: a\n\nbody\n", 0, UW_SEEN | UW_OLD | UW_ANSWERED |
	      UW_FLAGGED, 7, "work" },
	    /* Content-Length: UW served it */
	    { "Subject: b\nContent-Length: 2\n\nx\n", 0,
	      UW_OLD | UW_DRAFT | UW_DELETED, 12, "" } },
	  true, 1100000000, 12, "work private" },
	{ "X-IMAPbase on the first real message",
	  F1 "X-IMAPbase: 1200000000 3\nSubject: a\nStatus: R\nX-UID: 1\n\n"
	  "body\n\n"
	  F2 "X-IMAP: 5 5\nSubject: b\nX-UID: 3\n\nx\n\n", 0, false, 2,
	  { { "Subject: a\n\nbody\n", 0, UW_SEEN, 1, "" },
	    { "Subject: b\n\nx\n", 0, 0, 3, "" } },
	  true, 1200000000, 3, "" },
	{ "UW's names in other cases are removed too; folded headers whole",
	  F1 "status: RO\nX-UID : 5\nReceived: from a\n\tby b\nSubject: a\n\n"
	  "b\n\n", 0, false, 1,
	  { { "Received: from a\n\tby b\nSubject: a\n"
	      "\nb\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "folded X-Keywords: only the first line counts",
	  F1 "X-IMAPbase: 1 1 one two\nX-Keywords: one\n two\nSubject: a\n\n"
	  "b\n\n", 0, false, 1,
	  { { "Subject: a\n\nb\n", 0, 0, 0, "one" } }, true, 1, 1,
	  "one two" },
	{ "NUL bytes and 8-bit headers pass through",
	  F1 "Subject: \xe4\xf6\xfc\n\nnul:\0:end\n\n",
	  sizeof(F1 "Subject: \xe4\xf6\xfc\n\nnul:\0:end\n\n") - 1, false, 1,
	  { { "Subject: \xe4\xf6\xfc\n\nnul:\0:end\n",
	      sizeof("Subject: \xe4\xf6\xfc\n\nnul:\0:end\n") - 1, 0, 0, "" } },
	  false, 0, 0, NULL },
	{ "From_ line without a blank line before it splits",
	  F1 "Subject: a\n\ntext\n" F3 "Subject: c\n\ny\n", 0, false, 2,
	  { { "Subject: a\n\ntext\n", 0, 0, 0, "" },
	    { "Subject: c\n\ny\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
	{ "non-numeric X-UID is ignored",
	  F1 "X-UID: 12abc\n\nb\n", 0, false, 1,
	  { { "\nb\n", 0, 0, 0, "" } }, false, 0, 0, NULL },
};

static int write_temp(const char *data, size_t len, char *path)
{
	int fd;

	strcpy(path, "/tmp/m2d-test-mbox.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return 0;
}

/* Read the current message whole. */
static char *read_all(struct mbox_reader *r, size_t *len_r)
{
	const unsigned char *d;
	size_t l, len = 0;
	char *buf = NULL;
	struct m2d_error err;
	int rc;

	while ((rc = mbox_reader_read(r, &d, &l, &err)) > 0) {
		buf = realloc(buf, len + l + 1);
		memcpy(buf + len, d, l);
		len += l;
	}
	assert_int_equal(rc, 0);
	if (buf == NULL)
		buf = calloc(1, 1);
	*len_r = len;
	return buf;
}

static size_t expect_len(const struct reader_case *c, int i)
{
	return c->msgs[i].len != 0 ? c->msgs[i].len : strlen(c->msgs[i].bytes);
}

static void test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reader_case *c = &cases[i];
		struct mbox_reader_settings set = { .mboxrd = c->mboxrd };
		struct mbox_reader *r;
		struct mbox_msg msg;
		struct m2d_error err;
		char path[64];
		int n = 0, rc;

		print_message("case: %s\n", c->name);
		write_temp(c->mbox, c->mbox_len ? c->mbox_len : strlen(c->mbox),
			   path);
		assert_int_equal(mbox_reader_open(AT_FDCWD, path, &set, &r,
						  &err), 0);
		while ((rc = mbox_reader_next(r, &msg, &err)) > 0) {
			size_t len;
			char *got = read_all(r, &len);

			assert_true(n < c->nmsgs);
			assert_int_equal(msg.seq, (unsigned long)n + 1);
			assert_int_equal(len, expect_len(c, n));
			assert_memory_equal(got, c->msgs[n].bytes, len);
			assert_int_equal(msg.flags, c->msgs[n].flags);
			assert_int_equal(msg.uid, c->msgs[n].uid);
			assert_string_equal(msg.keywords, c->msgs[n].keywords);
			free(got);
			n++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(n, c->nmsgs);
		{
			const struct mbox_meta *m = mbox_reader_meta(r);

			assert_int_equal(m->have_base, c->have_base);
			if (c->have_base) {
				assert_int_equal(m->uidvalidity, c->uidvalidity);
				assert_int_equal(m->uidlast, c->uidlast);
				assert_string_equal(m->keywords, c->base_keywords);
			}
		}
		mbox_reader_close(&r);
		unlink(path);
	}
}

/*
 * A find of the fuzzer (tests/fuzz/regress/mbox-reader/): a last line
 * without a newline, in a file larger than the first read's look-ahead:
 * fill() moved the bytes and reached the end without reading more, and
 * the span was taken from a stale pointer past its end.
 */
static void test_last_line_after_buffer_move(void **state)
{
	static const char head[] = F1 "Subject: hi\n\n";
	size_t xs = 5000, ys = 3000, len = strlen(head) + xs + 1 + ys, got_len;
	char *data = malloc(len), *want, *got;
	struct mbox_reader_settings rd = { .mboxrd = true, .max_header = 64 };
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	char path[64];

	(void)state;
	assert_non_null(data);
	memcpy(data, head, strlen(head));
	memset(data + strlen(head), 'x', xs);
	data[strlen(head) + xs] = '\n';
	memset(data + strlen(head) + xs + 1, 'y', ys);
	write_temp(data, len, path);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(mbox_reader_open(AT_FDCWD, path,
						  pass ? &rd : NULL, &r, &err),
				 0);
		assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
		got = read_all(r, &got_len);
		want = data + strlen(F1);
		assert_int_equal(got_len, len - strlen(F1));
		assert_memory_equal(got, want, got_len);
		free(got);
		assert_int_equal(mbox_reader_next(r, &msg, &err), 0);
		mbox_reader_close(&r);
	}
	unlink(path);
	free(data);
}

/*
 * INTERNALDATE as c-client reads the From_ line (fuzz find): the year as
 * a number, 0..48 = 2000.., 49..998 = 1949.., only 1970..2097 kept; a
 * numeric zone's hours modulo 16; a zone name by its compressed code.
 * Measured with tools/cclient-dump.
 */
static void test_cclient_dates(void **state)
{
	static const struct {
		const char *date;
		long long want;
	} d[] = {
		{ "Sat May 10 00:23:43 0003", 1052526223 },
		{ "Sat May 10 00:23:43 0048", 2472683023 },
		{ "Sat May 10 00:23:43 0049", 0 },
		{ "Sat May 10 00:23:43 0070", 11147023 },
		{ "Sat May 10 00:23:43 0100", 957918223 },
		{ "Sat May 10 00:23:43 0197", 4018983823 },
		{ "Sat May 10 00:23:43 0198", 0 },
		{ "Sat May 10 00:23:43 1969", 0 },
		{ "Sat May 10 00:23:43 2097", 4018983823 },
		{ "Sat May 10 00:23:43 2003 +1700", 1052522623 },
		{ "Sat May 10 00:23:43 -2330 2003", 1052553223 },
		{ "Sat May 10 00:23:43 PST 2003", 1052555023 },
		/* zone names by c-client's compressed code: C^ST is AST,
		 * ACZ the military Y (-12), UTA is UT */
		{ "Fri Dec 29 08:27:51 C\x13T 2006", 1167395271 },
		{ "Fri Dec 29 08:27:51 2006 ACZ", 1167424071 },
		{ "Fri Dec 29 08:27:51 2006 UTA", 1167380871 },
	};
	char mbox[4096], path[64];
	const char *tz = getenv("TZ");
	char *old_tz = tz != NULL ? strdup(tz) : NULL;
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	size_t i, o = 0;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		o += (size_t)snprintf(mbox + o, sizeof(mbox) - o,
				      "From u %s\nSubject: %zu\n\nb\n\n",
				      d[i].date, i);
	write_temp(mbox, o, path);
	assert_int_equal(mbox_reader_open(AT_FDCWD, path, NULL, &r, &err), 0);
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
		print_message("date: %s\n", d[i].date);
		assert_int_equal((long long)msg.from.date, d[i].want);
	}
	assert_int_equal(mbox_reader_next(r, &msg, &err), 0);
	mbox_reader_close(&r);
	unlink(path);
	if (old_tz != NULL)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old_tz);
}

/*
 * c-client's prevuid survives message 1 becoming the pseudo-message: an
 * X-UID 10 taken there, a reset, an X-IMAP; then X-UID 7 is "less than
 * 11" and UW renumbered (measured with tools/cclient-dump).
 */
static void test_uid_prev_after_pseudo(void **state)
{
	static const char mbox[] =
		F1 "X-IMAPbase: 1 5\nX-UID: 10\nX-UID: 10\nX-IMAP: 200 20\n"
		"\nbody\n\n" F2 "X-UID: 7\n\nx\n\n" F3 "X-UID: 30\n\ny\n";
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	struct uw_uids u;
	char path[64];
	bool reset;

	(void)state;
	write_temp(mbox, strlen(mbox), path);
	assert_int_equal(mbox_reader_open(AT_FDCWD, path, NULL, &r, &err), 0);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	assert_int_equal(mbox_reader_meta(r)->uid_prev, 10);
	uw_uids_init(&u, mbox_reader_meta(r));
	assert_int_equal(uw_uids_next(&u, &msg, &reset), 1);
	assert_true(reset);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	assert_int_equal(uw_uids_next(&u, &msg, &reset), 2);
	assert_false(reset);
	mbox_reader_close(&r);
	unlink(path);
}

static void test_not_mbox(void **state)
{
	static const char *const bad[] = {
		"Subject: hello\n\nnot an mbox\n",
		"From nobody but not a date\nx\n",
		("\x7f" "ELF\x02\x01\x01"),
		/* c-client's unix_isvalid_fd: the last blank byte skipped
		 * must be a LF, the From_ line whole (with its LF) */
		(" " F1 "Subject: a\n\n"),
		("\n\r" F1 "Subject: a\n\n"),
		"\n\n\n",
		"From a@b Tue Nov  9 10:11:12 2004",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mbox_reader *r;
		struct m2d_error err;
		char path[64];

		write_temp(bad[i], strlen(bad[i]), path);
		assert_int_equal(mbox_reader_open(AT_FDCWD, path, NULL, &r,
						  &err), -1);
		assert_int_equal(err.code, M2D_ERR_NOT_MBOX);
		assert_int_equal(err.line, 1);
		assert_string_equal(err.path, path);
		assert_null(r);
		unlink(path);
	}
}

static void test_symlink_refused(void **state)
{
	struct mbox_reader *r;
	struct m2d_error err;
	char path[64], link[80];

	(void)state;
	write_temp(F1 "\n", strlen(F1 "\n"), path);
	snprintf(link, sizeof(link), "%s.link", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(mbox_reader_open(AT_FDCWD, link, NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	unlink(link);
	unlink(path);
}

/* Messages far larger than the read buffer, with a line longer than it. */
static void test_huge_message_and_line(void **state)
{
	size_t body = 3 * 1024 * 1024, i, len, total;
	char *mbox, *p, *got;
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	char path[64];

	(void)state;
	total = strlen(F1) + 12 + body + 1 + 200 + 2 + strlen(F2) + 20;
	mbox = malloc(total);
	p = mbox;
	p += sprintf(p, "%s", F1 "Subject: x\n\n");
	/* one 2 MiB line, then short lines */
	for (i = 0; i < 2 * 1024 * 1024; i++)
		*p++ = 'a' + (char)(i % 26);
	*p++ = '\n';
	for (i = 0; i < body - 2 * 1024 * 1024 - 1; i++)
		*p++ = (i % 64 == 63) ? '\n' : 'b';
	*p++ = '\n';
	*p++ = '\n';
	p += sprintf(p, "%s", F2 "Subject: y\n\nz\n");
	len = (size_t)(p - mbox);
	write_temp(mbox, len, path);

	assert_int_equal(mbox_reader_open(AT_FDCWD, path, NULL, &r, &err), 0);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	got = read_all(r, &i);
	/* everything between the From_ line and the blank line */
	assert_int_equal(i, strlen("Subject: x\n\n") + body + 1);
	assert_memory_equal(got, mbox + strlen(F1), i);
	free(got);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	got = read_all(r, &i);
	assert_int_equal(i, strlen("Subject: y\n\nz\n"));
	free(got);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 0);
	mbox_reader_close(&r);
	unlink(path);
	free(mbox);
}

/* Skipping a message without reading it lands on the next one. */
static void test_skip_unread(void **state)
{
	const char *mbox = F1 "Subject: a\n\nbody\n\n" F2 "Subject: b\n\nx\n\n";
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	char path[64], *got;
	size_t len;

	(void)state;
	write_temp(mbox, strlen(mbox), path);
	assert_int_equal(mbox_reader_open(AT_FDCWD, path, NULL, &r, &err), 0);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	assert_int_equal(msg.line, 1);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	assert_int_equal(msg.line, 6);
	assert_int_equal(msg.offset, (long long)(strlen(F1) + 18));
	got = read_all(r, &len);
	assert_int_equal(len, 14);
	assert_memory_equal(got, "Subject: b\n\nx\n", 14);
	free(got);
	mbox_reader_close(&r);
	unlink(path);
}

/* A file that grows while we read is reported, not half-converted. */
static void test_changed_during_read(void **state)
{
	const char *mbox = F1 "Subject: a\n\nbody\n\n";
	struct mbox_reader *r;
	struct mbox_msg msg;
	struct m2d_error err;
	char path[64];
	int fd;

	(void)state;
	write_temp(mbox, strlen(mbox), path);
	assert_int_equal(mbox_reader_open(AT_FDCWD, path, NULL, &r, &err), 0);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, F2 "x\n", strlen(F2) + 2),
			 (ssize_t)strlen(F2) + 2);
	close(fd);
	assert_int_equal(mbox_reader_next(r, &msg, &err), 1);
	assert_int_equal(mbox_reader_next(r, &msg, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CHANGED);
	mbox_reader_close(&r);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_not_mbox),
		cmocka_unit_test(test_cclient_dates),
		cmocka_unit_test(test_uid_prev_after_pseudo),
		cmocka_unit_test(test_last_line_after_buffer_move),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_huge_message_and_line),
		cmocka_unit_test(test_skip_unread),
		cmocka_unit_test(test_changed_during_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
