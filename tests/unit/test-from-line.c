/* SPDX-License-Identifier: MIT */
/*
 * Tests for the From_ line parser and writer (src/format/from-line.c).
 *
 * Table-driven, in the style of Dovecot's src/lib-mail/test-mbox-from.c:
 * each input sits beside the UTC time, zone and sender it must give.
 * Every line is parsed from a heap copy of exactly its length (no NUL
 * after it), so AddressSanitizer catches any read past LEN.
 */

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "from-line.h"

#define H 3600
/* Tue Nov  9 10:11:12 2004 UTC */
#define T2004 ((time_t)1099995072)

static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* Parse S (LEN bytes) from an exact-size heap copy.  SENDER_R gets a
   NUL-terminated copy of the sender (or "" when the parse failed). */
static int parse_copy(const char *s, size_t len, struct from_line *fl,
		      char *sender_r, size_t sender_size)
{
	char *copy = malloc(len > 0 ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, s, len);
	memset(fl, 0, sizeof(*fl));
	ret = from_line_parse(copy, len, fl);
	sender_r[0] = '\0';
	if (ret == 1) {
		/* the sender must point inside the line */
		assert_true(fl->sender >= copy);
		assert_true(fl->sender_len <= len);
		assert_true((size_t)(fl->sender - copy) + fl->sender_len <= len);
		assert_true(fl->sender_len < sender_size);
		memcpy(sender_r, fl->sender, fl->sender_len);
		sender_r[fl->sender_len] = '\0';
	}
	free(copy);
	return ret;
}

struct valid_case {
	const char *line;
	time_t date;		/* UTC */
	int tz_offset;		/* minutes east of UTC */
	bool has_zone;
	const char *sender;
};

/* Checks one row; SUFFIX (e.g. "\r") is appended to the line first. */
static void check_valid(const struct valid_case *c, const char *suffix)
{
	char line[256], sender[256];
	struct from_line fl;
	int ret;

	snprintf(line, sizeof(line), "%s%s", c->line, suffix);
	ret = parse_copy(line, strlen(line), &fl, sender, sizeof(sender));
	if (ret != 1)
		fail_msg("not accepted: \"%s\"", c->line);
	if (fl.date != c->date)
		fail_msg("\"%s\": date %lld, expected %lld", c->line,
			 (long long)fl.date, (long long)c->date);
	if (fl.tz_offset != c->tz_offset)
		fail_msg("\"%s\": tz_offset %d, expected %d", c->line,
			 fl.tz_offset, c->tz_offset);
	if (fl.has_zone != c->has_zone)
		fail_msg("\"%s\": has_zone %d, expected %d", c->line,
			 fl.has_zone, c->has_zone);
	if (strcmp(sender, c->sender) != 0)
		fail_msg("\"%s\": sender \"%s\", expected \"%s\"", c->line,
			 sender, c->sender);
}

/* Every layout UW's VALID macro knows (unix.h), read with TZ=UTC. */
static const struct valid_case valid_utc[] = {
	/* BSD / asctime */
	{ "From user Tue Nov  9 10:11:12 2004", T2004, 0, false, "user" },
	/* no seconds */
	{ "From user Tue Nov  9 10:11 2004", T2004 - 12, 0, false, "user" },
	/* rn: zone name before the year */
	{ "From user Tue Nov  9 10:11:12 PST 2004", T2004 + 8 * H, -480,
	  true, "user" },
	/* SysV: no seconds, zone name */
	{ "From user Tue Nov  9 10:11 PST 2004", T2004 - 12 + 8 * H, -480,
	  true, "user" },
	/* emacs: numeric offset before the year */
	{ "From user Tue Nov  9 10:11:12 -0800 2004", T2004 + 8 * H, -480,
	  true, "user" },
	{ "From user Tue Nov  9 10:11 +0100 2004", T2004 - 12 - H, 60,
	  true, "user" },
	/* year before the zone name */
	{ "From user Tue Nov  9 10:11:12 2004 PST", T2004 + 8 * H, -480,
	  true, "user" },
	{ "From user Tue Nov  9 10:11 2004 EDT", T2004 - 12 + 4 * H, -240,
	  true, "user" },
	/* Solaris: year before the numeric offset */
	{ "From user Tue Nov  9 10:11:12 2004 -0800", T2004 + 8 * H, -480,
	  true, "user" },
	{ "From user Tue Nov  9 10:11 2004 +0530", T2004 - 12 - 5 * H - 1800,
	  330, true, "user" },
	/* smail / Solaris " remote from host" */
	{ "From user@example.com Tue Nov  9 10:11:12 2004 remote from "
	  "relay.example.com", T2004, 0, false, "user@example.com" },
	{ "From user Tue Nov  9 10:11:12 -0800 2004 remote from mars",
	  T2004 + 8 * H, -480, true, "user" },
	{ "From user Tue Nov  9 10:11 2004 PST remote from x",
	  T2004 - 12 + 8 * H, -480, true, "user" },
	/* empty sender, and none at all (VALID allows both) */
	{ "From  Tue Nov  9 10:11:12 2004", T2004, 0, false, "" },
	{ "From Tue Nov  9 10:11:12 2004", T2004, 0, false, "" },
	/* a sender with spaces: VALID reads from the end */
	{ "From John Q. Public Tue Nov  9 10:11:12 2004", T2004, 0, false,
	  "John Q. Public" },
	{ "From Tue Nov  9 10:11:12 2004 Wed Dec  2 05:53:22 1992",
	  723275602, 0, false, "Tue Nov  9 10:11:12 2004" },
	/* Dovecot's own layout: two spaces after the sender, day 2 digits */
	{ "From user  Fri Feb 13 23:31:30 2009", 1234567890, 0, false,
	  "user" },
	{ "From user Tue Nov 09 10:11:12 2004", T2004, 0, false, "user" },
	{ "From MAILER-DAEMON Wed Dec  2 05:53:22 1992", 723275602, 0, false,
	  "MAILER-DAEMON" },
	/* names are case-insensitive, as in UW's mail_parse_date() */
	{ "From user tue NOV  9 10:11:12 gmt 2004", T2004, 0, true, "user" },
	{ "From user Tue Nov  9 10:11:12 UTC 2004", T2004, 0, true, "user" },
	{ "From user Tue Nov  9 10:11:12 JST 2004", T2004 - 9 * H, 540, true,
	  "user" },
	{ "From user Tue Nov  9 10:11:12 MET 2004", T2004 - H, 60, true,
	  "user" },
	{ "From user Tue Nov  9 10:11:12 HST 2004", T2004 + 10 * H, -600,
	  true, "user" },
	/* an unknown zone name is local time (UW does the same) */
	{ "From user Tue Nov  9 10:11:12 XYZ 2004", T2004, 0, false, "user" },
	{ "From user Tue Nov  9 10:11:12 2004 BST", T2004, 0, false, "user" },
	/* ranges: leap second, leap day, the epoch */
	{ "From u Wed Dec 31 23:59:60 2008", 1230768000, 0, false, "u" },
	{ "From u Sat Feb 29 23:59:59 2020", 1583020799, 0, false, "u" },
	{ "From u Thu Jan  1 00:00:00 1970 +0000", 0, 0, true, "u" },
	{ "From u Thu Jan  1 00:00:00 1970 +1400", -14 * H, 840, true, "u" },
	/* the weekday is not checked against the date (UW ignores it) */
	{ "From u Mon Nov  9 10:11:12 2004", T2004, 0, false, "u" },
};

static void test_valid_utc(void **state)
{
	(void)state;
	set_tz("UTC");
	for (size_t i = 0; i < sizeof(valid_utc) / sizeof(valid_utc[0]); i++)
		check_valid(&valid_utc[i], "");
}

/* A CRLF file: the "\r" before the (already removed) "\n" is ignored. */
static void test_valid_crlf(void **state)
{
	(void)state;
	set_tz("UTC");
	for (size_t i = 0; i < sizeof(valid_utc) / sizeof(valid_utc[0]); i++)
		check_valid(&valid_utc[i], "\r");
	/* a line handed over with its "\r\n", or with its "\n" */
	check_valid(&valid_utc[0], "\r\n");
	check_valid(&valid_utc[0], "\n");
	/* UW's VALID stops at the first LF */
	check_valid(&valid_utc[0], "\nFrom here to eternity");
}

/* Lines that are body text, not separators. */
static const char *const invalid_lines[] = {
	"",
	"F",
	"From",
	"From ",
	"From user",
	"From Tue",
	"From user Tue",
	"From user Tue Nov",
	"From user Tue Nov  9",
	"From user Tue Nov  9 10:11:12",
	"From user Tue Nov  9 10:11:12 +0800",
	"From here to eternity, and then some more words of body text",
	"From: user Tue Nov  9 10:11:12 2004",
	"from user Tue Nov  9 10:11:12 2004",
	">From user Tue Nov  9 10:11:12 2004",
	" From user Tue Nov  9 10:11:12 2004",
	"From\tuser Tue Nov  9 10:11:12 2004",
	/* bad fields */
	"From user Tue Xyz  9 10:11:12 2004",
	"From user Tue Nov 32 10:11:12 2004",
	"From user Tue Nov  0 10:11:12 2004",
	"From user Tue Nov 00 10:11:12 2004",
	"From user Tue Nov  x 10:11:12 2004",
	"From user Tue Nov  9 24:11:12 2004",
	"From user Tue Nov  9 10:60:12 2004",
	"From user Tue Nov  9 10:11:61 2004",
	"From user Tue Nov  9 1x:11:12 2004",
	"From user Tue Nov  9 10:1x 2004",
	"From user Tue Nov  9 10:11:12 20x4",
	"From user T3e Nov  9 10:11:12 2004",
	"From user Tue Nov  9 10:11:12 -0860 2004",
	"From user Tue Nov  9 10:11:12 -2400 2004",
	"From user Tue Nov  9 10:11:12 -08x0 2004",
	"From user Tue Nov  9 10:11:12 P1T 2004",
	/* a zone-name slot holding a sign (this once read past LEN) */
	"From user Tue Nov  9 10:11:12 2004 -08",
	"From user Tue Nov  9 10:11:12 +08 2004",
	/* layouts UW's VALID does not know */
	"From user Tue Nov 9 10:11:12 2004",	/* one space, one digit */
	"From user Tue Nov  9 10:11:12 04",	/* two-digit year */
	"From user Tue Nov  9 2004 10:11:12",	/* year before time */
	"From user Fri, 2 Jan 1970 10:14:00 +0000",	/* RFC 2822 */
	"From user Tue Nov  9 10:11:12 CEST 2004",	/* 4-letter zone */
	"From user Tue Nov  9 10:11:12 UT 2004",	/* 2-letter zone */
	"From user Tue Nov  9 10:11:12 -08000 2004",
	"From user Tue Nov  9 10:11:12 2004 ",	/* trailing space */
	"From user Tue Nov  9 10:11:12 2004 extra words",
	"From user Tue Nov  9 10:11:12 2004 remote from",	/* no host */
	"From user Tue Nov  9 10:11:12 2004\r\r",
	"From user Tue Nov  9 10:11:12 2004\t",
	/* garbage */
	"From ::::::::::::::::::::::::::::::::::::::::::",
	"From                                            ",
	"From \xff\xfe\x80 \x01\x02\x03 \x7f\x7f  \x10:\x11:\x12 \xff\xff\xff\xff",
	"From user \xc3\xa4\xc3\xb6\xc3 Nov  9 10:11:12 2004",
};

static void test_invalid(void **state)
{
	struct from_line fl;
	char sender[256];

	(void)state;
	set_tz("UTC");
	for (size_t i = 0;
	     i < sizeof(invalid_lines) / sizeof(invalid_lines[0]); i++) {
		const char *s = invalid_lines[i];
		if (parse_copy(s, strlen(s), &fl, sender, sizeof(sender)) != 0)
			fail_msg("accepted: \"%s\"", s);
	}
}

/* Bytes a C string cannot hold, and odd calls. */
static void test_invalid_bytes(void **state)
{
	static const char nul_sender[] = "From us\0er Tue Nov  9 10:11:12 2004";
	static const char nul_date[] = "From user Tue Nov  9 10:11:12 20\0004";
	static const char lf_inside[] = "From user\nTue Nov  9 10:11:12 2004";
	struct from_line fl;
	char sender[256];

	(void)state;
	set_tz("UTC");
	assert_int_equal(parse_copy(nul_sender, sizeof(nul_sender) - 1, &fl,
				    sender, sizeof(sender)), 0);
	assert_int_equal(parse_copy(nul_date, sizeof(nul_date) - 1, &fl,
				    sender, sizeof(sender)), 0);
	assert_int_equal(parse_copy(lf_inside, sizeof(lf_inside) - 1, &fl,
				    sender, sizeof(sender)), 0);
	assert_int_equal(from_line_parse(NULL, 0, &fl), 0);
	assert_int_equal(from_line_parse("From ", 5, NULL), 0);
	/* a valid line, but LEN says only its first bytes are there */
	assert_int_equal(from_line_parse("From user Tue Nov  9 10:11:12 2004",
					 30, &fl), 0);
}

/* Every prefix of every valid line, each from an exact-size buffer. */
static void test_truncated(void **state)
{
	struct from_line fl;
	char sender[256];

	(void)state;
	set_tz("UTC");
	for (size_t i = 0; i < sizeof(valid_utc) / sizeof(valid_utc[0]); i++) {
		const char *s = valid_utc[i].line;
		size_t len = strlen(s);
		for (size_t k = 0; k < len; k++) {
			int ret = parse_copy(s, k, &fl, sender,
					     sizeof(sender));
			assert_true(ret == 0 || ret == 1);
		}
		assert_int_equal(parse_copy(s, len, &fl, sender,
					    sizeof(sender)), 1);
	}
	/* cutting off the seconds' last digit or the zone is body text */
	assert_int_equal(parse_copy("From user Tue Nov  9 10:11:12 2004", 33,
				    &fl, sender, sizeof(sender)), 0);
	assert_int_equal(parse_copy("From user Tue Nov  9 10:11:12 2004 PST",
				    37, &fl, sender, sizeof(sender)), 0);
}

/* Local-time lines are read in TZ: the source host's zone. */
static const struct valid_case valid_la[] = {
	/* PST in November, PDT in July */
	{ "From u Tue Nov  9 10:11:12 2004", T2004 + 8 * H, -480, false, "u" },
	{ "From u Sun Jul  4 12:00:00 2004", 1088967600, -420, false, "u" },
	/* the 2004 rules (DST from Apr 4), then the 2007 ones (Mar 11) */
	{ "From u Sat Apr  3 12:00:00 2004", 1081022400, -480, false, "u" },
	{ "From u Mon Apr  5 12:00:00 2004", 1081191600, -420, false, "u" },
	{ "From u Sun Mar 11 12:00:00 2007", 1173639600, -420, false, "u" },
	/* an unknown zone name is local too */
	{ "From u Tue Nov  9 10:11:12 XYZ 2004", T2004 + 8 * H, -480, false,
	  "u" },
	/* a zone in the line wins over TZ */
	{ "From u Tue Nov  9 10:11:12 -0800 2004", T2004 + 8 * H, -480, true,
	  "u" },
	{ "From u Tue Nov  9 10:11:12 2004 +0100", T2004 - H, 60, true, "u" },
	{ "From u Tue Nov  9 10:11:12 EST 2004", T2004 + 5 * H, -300, true,
	  "u" },
	{ "From u Tue Nov  9 10:11:12 UTC 2004", T2004, 0, true, "u" },
};

static void test_local_los_angeles(void **state)
{
	(void)state;
	set_tz("America/Los_Angeles");
	for (size_t i = 0; i < sizeof(valid_la) / sizeof(valid_la[0]); i++)
		check_valid(&valid_la[i], "");
}

static void test_local_utc(void **state)
{
	static const struct valid_case c[] = {
		{ "From u Sun Jul  4 12:00:00 2004", 1088942400, 0, false, "u" },
		{ "From u Tue Nov  9 10:11:12 2004", T2004, 0, false, "u" },
	};

	(void)state;
	set_tz("UTC");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_valid(&c[i], "");
	/* and the same lines again in India (+0530, no DST) */
	set_tz("Asia/Kolkata");
	struct from_line fl;
	char sender[64];
	assert_int_equal(parse_copy(c[1].line, strlen(c[1].line), &fl,
				    sender, sizeof(sender)), 1);
	assert_int_equal(fl.date, T2004 - 5 * H - 1800);
	assert_int_equal(fl.tz_offset, 330);
	assert_false(fl.has_zone);
}

/*
 * Local time around zone transitions.  local_time_mktime() keeps one UTC
 * offset per local day that has no transition; these walk every 5 minutes
 * (and the seconds beside each step) of the days around each transition
 * of a year, forwards and backwards (so that a neighbouring day's offset
 * is in the cache first), and compare with the zone itself: the earliest
 * instant whose local time is the line's, found by localtime_r().  A time
 * that does not exist (skipped) must be one of the two offsets around it.
 */
static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* The earliest instant whose local time is WALL (the wall clock read as
   UTC), or INT64_MIN when none; *BEFORE_R and *AFTER_R get the offsets
   two days before and after. */
static int64_t first_instant(int64_t wall, long *before_r, long *after_r)
{
	time_t ta = (time_t)(wall - 2 * 86400), tb = (time_t)(wall + 2 * 86400);
	struct tm a, b, chk;
	int64_t best = INT64_MAX;

	assert_non_null(localtime_r(&ta, &a));
	assert_non_null(localtime_r(&tb, &b));
	*before_r = a.tm_gmtoff;
	*after_r = b.tm_gmtoff;
	for (int i = 0; i < 2; i++) {
		time_t t = (time_t)(wall - (i == 0 ? a.tm_gmtoff : b.tm_gmtoff));

		assert_non_null(localtime_r(&t, &chk));
		if ((int64_t)timegm(&chk) == wall && t < best)
			best = t;
	}
	return best == INT64_MAX ? INT64_MIN : best;
}

static void check_wall(int64_t wall)
{
	time_t w = (time_t)wall;
	struct tm tm;
	struct from_line fl;
	char line[64];
	long before, after;
	int64_t want = first_instant(wall, &before, &after);

	assert_non_null(gmtime_r(&w, &tm));
	snprintf(line, sizeof(line), "From u Sun %s %2d %02d:%02d:%02d %04d",
		 months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, tm.tm_year + 1900);
	for (int uw = 0; uw < 2; uw++) {
		memset(&fl, 0, sizeof(fl));
		assert_int_equal(uw ? from_line_parse_uw(line, strlen(line), &fl)
			       : from_line_parse(line, strlen(line), &fl), 1);
		assert_true(fl.date_ok);
		assert_false(fl.has_zone);
		if (want != INT64_MIN) {
			if ((int64_t)fl.date != want)
				fail_msg("%s (TZ=%s): %lld, not %lld", line,
					 getenv("TZ"), (long long)fl.date,
					 (long long)want);
			assert_int_equal(fl.tz_offset, (wall - want) / 60);
		} else {
			assert_true((int64_t)fl.date == wall - before ||
				    (int64_t)fl.date == wall - after);
		}
	}
}

/* The local days (wall clock at 00:00, read as UTC) on which the offset
   changes in YEAR; returns how many (at most MAX). */
static size_t transition_days(int year, int64_t *days, size_t max)
{
	struct tm jan1 = { .tm_year = year - 1900, .tm_mday = 1 };
	int64_t t = (int64_t)timegm(&jan1) - 86400, end = t + 368 * 86400;
	long prev = LONG_MIN;
	size_t n = 0;

	for (; t < end; t += 1800) {
		time_t tt = (time_t)t;
		struct tm lt;

		assert_non_null(localtime_r(&tt, &lt));
		if (prev != LONG_MIN && lt.tm_gmtoff != prev && n < max) {
			lt.tm_hour = lt.tm_min = lt.tm_sec = 0;
			days[n++] = (int64_t)timegm(&lt);
		}
		prev = lt.tm_gmtoff;
	}
	return n;
}

static void check_transitions(const char *zone, int year)
{
	int64_t days[8];
	size_t n;

	set_tz(zone);
	n = transition_days(year, days, 8);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		/* the day before, the day of, the day after; then back */
		int64_t from = days[i] - 86400, to = days[i] + 2 * 86400;

		set_tz("UTC");		/* an empty cache */
		set_tz(zone);
		for (int64_t w = from; w < to; w += 300) {
			check_wall(w);
			check_wall(w + 1);
			check_wall(w + 299);
		}
		set_tz("UTC");
		set_tz(zone);
		for (int64_t w = to - 300; w >= from; w -= 300) {
			check_wall(w + 299);
			check_wall(w + 1);
			check_wall(w);
		}
	}
}

static void test_local_transitions(void **state)
{
	(void)state;
	check_transitions("Europe/Berlin", 2004);
	check_transitions("Europe/Berlin", 2021);
	check_transitions("America/New_York", 2004);
	check_transitions("America/New_York", 2021);
	/* summer time of half an hour */
	check_transitions("Australia/Lord_Howe", 2004);
	check_transitions("Australia/Lord_Howe", 2021);
	/* at midnight: 00:00 skipped in November, 23:00 twice in February */
	check_transitions("America/Sao_Paulo", 2018);
	/* a whole day skipped (2011-12-30) */
	check_transitions("Pacific/Apia", 2011);
}

/* A day of the month beyond the month, and second 60, are mktime()'s. */
static void test_local_normalised(void **state)
{
	static const struct {
		const char *line;
		struct tm tm;
	} c[] = {
		{ "From u Mon Feb 30 12:00:00 2004",
		  { .tm_year = 104, .tm_mon = 1, .tm_mday = 30, .tm_hour = 12 } },
		{ "From u Sat Oct 30 23:59:60 2004",
		  { .tm_year = 104, .tm_mon = 9, .tm_mday = 30, .tm_hour = 23,
		    .tm_min = 59, .tm_sec = 60 } },
		{ "From u Sun Mar 28 02:30:60 2004",
		  { .tm_year = 104, .tm_mon = 2, .tm_mday = 28, .tm_hour = 2,
		    .tm_min = 30, .tm_sec = 60 } },
	};
	struct from_line fl;
	char sender[64];

	(void)state;
	set_tz("Europe/Berlin");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct tm tm = c[i].tm;

		/* a day of the same date in the cache first */
		assert_int_equal(parse_copy("From u Sat Oct 30 12:00:00 2004",
					    31, &fl, sender, sizeof(sender)), 1);
		tm.tm_isdst = -1;
		time_t want = mktime(&tm);
		assert_int_equal(parse_copy(c[i].line, strlen(c[i].line), &fl,
					    sender, sizeof(sender)), 1);
		assert_int_equal(fl.date, want);
	}
}

/* The second before the epoch is a time, not mktime()'s failure: in
 * Berlin 1970-01-01 00:59:59 is (time_t)-1, for UW's reading too (it was
 * 3599, an hour late, found by fuzz-from-line). */
static void test_local_minus_one(void **state)
{
	static const char line[] = "From u Thu Jan  1 00:59:59 1970";
	struct from_line fl;

	(void)state;
	set_tz("Europe/Berlin");
	for (int uw = 0; uw < 2; uw++) {
		/* the day in the cache and not */
		for (int k = 0; k < 2; k++) {
			memset(&fl, 0, sizeof(fl));
			assert_int_equal(uw ? from_line_parse_uw(line,
								 strlen(line),
								 &fl) :
					 from_line_parse(line, strlen(line),
							 &fl), 1);
			assert_true(fl.date_ok);
			assert_false(fl.has_zone);
			assert_int_equal(fl.date, -1);
			assert_int_equal(fl.tz_offset, 60);
		}
	}
}

/* Out-of-range fields name the time they come to ("02:30:60" is
 * 02:31:00, in the repeated hour: the earlier instant; "02:59:60" is
 * 03:00:00, after it), whatever mktime() was asked before (glibc picks by
 * the tm_isdst of its previous call; found by fuzz-from-line). */
static void test_local_repeated_normalised(void **state)
{
	static const struct {
		const char *line;
		time_t want;
		int off;
	} c[] = {
		/* 2004-10-31 00:31:00 UTC, 02:31:00 CEST */
		{ "From u Sun Oct 31 02:30:60 2004", 1099182660, 120 },
		/* 2004-10-31 02:00:00 UTC, 03:00:00 CET */
		{ "From u Sun Oct 31 02:59:60 2004", 1099188000, 60 },
		/* 2004-10-31 00:00:00 UTC, 02:00:00 CEST */
		{ "From u Sun Oct 31 01:59:60 2004", 1099180800, 120 },
	};
	struct from_line fl;

	(void)state;
	set_tz("Europe/Berlin");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *line = c[i].line;

		for (int k = 0; k < 4; k++) {
			/* glibc's state: winter or summer time last */
			struct tm prev = { .tm_year = 104, .tm_mon = (k & 1) ?
					   6 : 0, .tm_mday = 1,
					   .tm_hour = 12, .tm_isdst = -1 };

			mktime(&prev);
			memset(&fl, 0, sizeof(fl));
			assert_int_equal((k & 2) ?
					 from_line_parse_uw(line, strlen(line),
							    &fl) :
					 from_line_parse(line, strlen(line),
							 &fl), 1);
			assert_int_equal(fl.date, c[i].want);
			assert_int_equal(fl.tz_offset, c[i].off);
		}
	}
}

static void check_format(const char *sender, time_t date,
			 const char *expected)
{
	char buf[128];
	int n = from_line_format(sender, date, buf, sizeof(buf));

	assert_int_equal(n, (int)strlen(expected));
	assert_string_equal(buf, expected);
}

static void test_format(void **state)
{
	char buf[128];
	const char *exp = "From user Tue Nov  9 10:11:12 2004\n";
	size_t len = strlen(exp);

	(void)state;
	set_tz("UTC");
	check_format("user", T2004, exp);
	check_format("user", 1234567890, "From user Fri Feb 13 23:31:30 2009\n");
	check_format("", T2004, "From MAILER-DAEMON Tue Nov  9 10:11:12 2004\n");
	check_format(NULL, 0, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n");
	check_format("John Q. Public", T2004,
		     "From John Q. Public Tue Nov  9 10:11:12 2004\n");
	set_tz("America/Los_Angeles");
	check_format("u", T2004, "From u Tue Nov  9 02:11:12 2004\n");
	check_format("u", 1088967600, "From u Sun Jul  4 12:00:00 2004\n");

	/* the buffer must hold the line and its NUL */
	set_tz("UTC");
	assert_int_equal(from_line_format("user", T2004, buf, len + 1),
			 (int)len);
	assert_string_equal(buf, exp);
	assert_int_equal(from_line_format("user", T2004, buf, len), -1);
	assert_int_equal(from_line_format("user", T2004, buf, 1), -1);
	assert_int_equal(from_line_format("user", T2004, buf, 0), -1);
	/* a line break in the sender would end the line */
	assert_int_equal(from_line_format("a\nb", T2004, buf, sizeof(buf)), -1);
	assert_int_equal(from_line_format("a\rb", T2004, buf, sizeof(buf)), -1);
}

static void test_roundtrip(void **state)
{
	static const char *const zones[] = {
		"UTC", "America/Los_Angeles", "Asia/Kolkata", "Europe/Berlin",
	};
	static const time_t dates[] = {
		0, 723275602, T2004, 1088967600, 1081022400, 1173639600,
		1230768000, 1234567890, 1583020799, 2000000000,
	};
	static const char *const senders[] = {
		"user@example.com", "John Q. Public", "MAILER-DAEMON",
	};
	char buf[256], sender[256];
	struct from_line fl;

	(void)state;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		set_tz(zones[z]);
		for (size_t d = 0; d < sizeof(dates) / sizeof(dates[0]); d++)
		for (size_t s = 0; s < sizeof(senders) / sizeof(senders[0]); s++) {
			int n = from_line_format(senders[s], dates[d], buf,
						 sizeof(buf));
			assert_true(n > 0);
			assert_int_equal(buf[n - 1], '\n');
			/* the reader gets the line without its "\n" */
			if (parse_copy(buf, (size_t)n - 1, &fl, sender,
				       sizeof(sender)) != 1)
				fail_msg("%s: not accepted: %s", zones[z], buf);
			if (fl.date != dates[d])
				fail_msg("%s: %s gave %lld, expected %lld",
					 zones[z], buf, (long long)fl.date,
					 (long long)dates[d]);
			assert_false(fl.has_zone);
			assert_string_equal(sender, senders[s]);
		}
	}
}

/* Deterministic mutations of valid lines: must never crash or overread,
   and what is accepted must look sane. */
static void test_mutations(void **state)
{
	static const unsigned char alphabet[] = {
		' ', ':', '+', '-', '\r', '\n', '\0', '0', '9', 'a', 'Z', 0xff,
	};
	uint32_t rnd = 2463534242u;
	char line[256], sender[256];
	struct from_line fl;
	size_t rows = sizeof(valid_utc) / sizeof(valid_utc[0]);

	(void)state;
	set_tz("UTC");
	for (int iter = 0; iter < 200000; iter++) {
		rnd ^= rnd << 13; rnd ^= rnd >> 17; rnd ^= rnd << 5;
		const char *src = valid_utc[rnd % rows].line;
		size_t len = strlen(src);
		memcpy(line, src, len);
		int edits = 1 + (int)((rnd >> 8) % 3);
		for (int e = 0; e < edits; e++) {
			rnd ^= rnd << 13; rnd ^= rnd >> 17; rnd ^= rnd << 5;
			size_t pos = rnd % len;
			if ((rnd >> 16) & 1)
				line[pos] = (char)alphabet[(rnd >> 20) %
							   sizeof(alphabet)];
			else
				line[pos] = (char)(rnd >> 24);
		}
		if (((rnd >> 4) & 7) == 0)
			len = (rnd >> 7) % (len + 1);
		int ret = parse_copy(line, len, &fl, sender, sizeof(sender));
		assert_true(ret == 0 || ret == 1);
		/* the quick validity test decides exactly like the parser */
		assert_int_equal(from_line_valid(line, len), ret == 1);
		if (ret == 1) {
			assert_true(fl.tz_offset >= -24 * 60 &&
				    fl.tz_offset <= 24 * 60);
			assert_true(memcmp(line, "From ", 5) == 0);
		}
	}
	/* random bytes after "From " */
	for (int iter = 0; iter < 50000; iter++) {
		size_t len = 5 + (size_t)(rnd % 60);
		memcpy(line, "From ", 5);
		for (size_t k = 5; k < len; k++) {
			rnd ^= rnd << 13; rnd ^= rnd >> 17; rnd ^= rnd << 5;
			line[k] = (char)alphabet[rnd % sizeof(alphabet)];
		}
		int ret = parse_copy(line, len, &fl, sender, sizeof(sender));
		assert_true(ret == 0 || ret == 1);
		/* the quick validity test decides exactly like the parser */
		assert_int_equal(from_line_valid(line, len), ret == 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_utc),
		cmocka_unit_test(test_valid_crlf),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_bytes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_local_los_angeles),
		cmocka_unit_test(test_local_utc),
		cmocka_unit_test(test_local_transitions),
		cmocka_unit_test(test_local_normalised),
		cmocka_unit_test(test_local_minus_one),
		cmocka_unit_test(test_local_repeated_normalised),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
