/* SPDX-License-Identifier: MIT */
/*
 * The mbox separator line, read the way UW-IMAP imap-2007 reads it.
 *
 * UW decides whether "From ..." starts a message with its VALID macro
 * (src/osdep/unix/unix.h).  VALID never parses the line forwards: the
 * sender may contain unquoted spaces, so it works from the END of the line
 * backwards, checking only where spaces, colons and zone signs sit:
 *
 *   1. Drop a trailing CR.  If the line is at least 41 bytes, find its last
 *      space; if the 12 bytes before it are " remote from", cut the line
 *      there (the "remote from host" tail of smail and Solaris).
 *   2. The line must be at least 27 bytes.  Then one of (x = end of line):
 *        x[-5] == ' ':   x[-8] == ':'                 ... hh:mm[:ss] yyyy
 *                        else x[-9] == ' '            ... hh:mm[:ss] ZZZ yyyy
 *                        else x[-11] == ' ', x[-10] is + or -
 *                                                     ... hh:mm[:ss] +hhmm yyyy
 *        else x[-4] == ' ' and x[-9] == ' '           ... hh:mm[:ss] yyyy ZZZ
 *        else x[-6] == ' ', x[-11] == ' ', x[-5] is + or -
 *                                                     ... hh:mm[:ss] yyyy +hhmm
 *      (the branches are tried in this order and the first that matches is
 *      the only one considered, exactly as the macro does).
 *   3. Before that field: "www mmm dd hh:mm" or "www mmm dd hh:mm:ss", i.e.
 *      a colon 3 back, a space 6 or 9 back, then spaces 3, 7 and 11 further
 *      back.  Whatever precedes the last of those spaces is the sender.
 *
 * UW then turns the fields into a date with mail_parse_date() (mail.c); a
 * date it cannot read only earns a warning there.  We additionally insist
 * that the fields are well formed (digits, an English month name, sane
 * ranges), as the rest of this program relies on a real date.  See
 * from-line.h for the contract.
 */

#include "from-line.h"
#include "local-time.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char weekday_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/*
 * The three-letter zone names UW's mail_parse_date() knows in its default
 * build (no STRICT_RFC822_TIMEZONES; BST, NST etc. are compile-time options
 * there and off by default, so they are read as local time like any other
 * unknown name).  Offsets in minutes east of UTC.  One- and two-letter names
 * (Z, UT, military letters) cannot occur in a From_ line: VALID only leaves
 * room for exactly three characters.
 */
static const struct {
	char name[4];
	int offset;
} zone_names[] = {
	{ "UTC", 0 }, { "GMT", 0 },
	{ "MET", 60 }, { "EET", 120 }, { "JST", 540 },
	{ "ADT", -180 }, { "AST", -240 },
	{ "EDT", -240 }, { "EST", -300 },
	{ "CDT", -300 }, { "CST", -360 },
	{ "MDT", -360 }, { "MST", -420 },
	{ "PDT", -420 }, { "PST", -480 },
	{ "YDT", -480 }, { "YST", -540 },
	{ "HST", -600 },
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static unsigned char to_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Case-insensitive compare of 3 bytes of P with the name N. */
static bool name_eq3(const unsigned char *p, const char *n)
{
	for (int i = 0; i < 3; i++) {
		if (to_upper(p[i]) != to_upper((unsigned char)n[i]))
			return false;
	}
	return true;
}

/* Two decimal digits, or -1. */
static int parse_2digits(const unsigned char *p)
{
	if (!is_digit(p[0]) || !is_digit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}


/* strtoul() on a NUL-terminated string, base 10, as c-client calls it */
static unsigned long c_strtoul(const char *p, const char **end)
{
	char *e;
	unsigned long v = strtoul(p, &e, 10);

	*end = e;
	return v;
}

/* c-client's "compressed three-byte form" of a zone name (A..Z as 0..25,
 * any other byte too, so "C\x13T" is AST), and the zones of its
 * mail_parse_date() switch (default build), the 1-letter military ones
 * among them by their letter's code. */
#define ZCODE(a, b, c) ((((a) - 'A') * 1024) + (((b) - 'A') * 32) + ((c) - 'A'))
static const struct {
	int code;
	int offset;		/* minutes east of UTC */
} cclient_zones[] = {
	{ ZCODE('U', 'T', 'A'), 0 },	/* "UT" */
	{ ZCODE('U', 'T', 'C'), 0 }, { ZCODE('G', 'M', 'T'), 0 },
	{ 'Z', 0 },
	{ ZCODE('M', 'E', 'T'), 60 }, { 'A', 60 },
	{ ZCODE('E', 'E', 'T'), 120 }, { 'B', 120 },
	{ 'C', 180 }, { 'D', 240 }, { 'E', 300 }, { 'F', 360 },
	{ 'G', 420 }, { 'H', 480 },
	{ ZCODE('J', 'S', 'T'), 540 }, { 'I', 540 },
	{ 'K', 600 }, { 'L', 660 }, { 'M', 720 },
	{ 'N', -60 }, { 'O', -120 },
	{ ZCODE('A', 'D', 'T'), -180 }, { 'P', -180 },
	{ ZCODE('A', 'S', 'T'), -240 }, { ZCODE('E', 'D', 'T'), -240 },
	{ 'Q', -240 },
	{ ZCODE('E', 'S', 'T'), -300 }, { ZCODE('C', 'D', 'T'), -300 },
	{ 'R', -300 },
	{ ZCODE('C', 'S', 'T'), -360 }, { ZCODE('M', 'D', 'T'), -360 },
	{ 'S', -360 },
	{ ZCODE('M', 'S', 'T'), -420 }, { ZCODE('P', 'D', 'T'), -420 },
	{ 'T', -420 },
	{ ZCODE('P', 'S', 'T'), -480 }, { ZCODE('Y', 'D', 'T'), -480 },
	{ 'U', -480 },
	{ ZCODE('Y', 'S', 'T'), -540 }, { 'V', -540 },
	{ ZCODE('H', 'S', 'T'), -600 }, { 'W', -600 },
	{ 'X', -660 }, { 'Y', -720 },
};

/* The zone name at Z (upper case, NUL-terminated) as mail_parse_date()
 * reads it: true with *OFF_R, or false (unknown: local time). */
static bool cclient_zone(const unsigned char *z, int *off_r)
{
	int ms;

	if ((ms = z[0]) == 0) {
		ms = 'Z';
	} else if (z[1] != 0) {
		ms = (z[0] - 'A') * 1024 + (z[1] - 'A') * 32;
		if (z[2] != 0)
			ms += z[2] - 'A';
		if (z[2] != 0 && z[3] != 0)
			ms = 0;		/* more than three characters */
	}
	for (size_t k = 0; k < sizeof(cclient_zones) / sizeof(cclient_zones[0]);
	     k++) {
		if (cclient_zones[k].code == ms) {
			*off_r = cclient_zones[k].offset;
			return true;
		}
	}
	return false;
}

/*
 * The INTERNALDATE c-client gives a From_ line of VALID's shape:
 * unix_parse() builds a date string from it and hands it to
 * mail_parse_date(); this is a port of both (the dd-mmm-yyyy path),
 * measured against c-client, for every line (the well-formed ones too).
 * A day, month or year that does not read leaves it 0 (returns false);
 * the year is read as a number, then 0..48 is 2000..2048 and 49..998 is
 * 1949..2898 (so "0003" is 2003 and "0100" is 2000), and only 1970..2097
 * is kept (a 7-bit field); a time that does not read leaves the day at
 * 00:00 UTC; a numeric zone whose minutes' tens digit is 6 or more is
 * UTC, and its hours count modulo 16 (a 4-bit field: "+1700" is one
 * hour); a zone c-client does not know is local time (read at that date,
 * as c-client's mktime does).  X is the end of the line (VALID's x),
 * TI and ZN VALID's offsets from it.  *OFF_R is the offset the date was
 * read in (minutes east of UTC), *ZONE_R whether it was the line's (not
 * local time).
 */
/* The byte I after VALID's X (the end of the line, at its newline): the
 * line's own bytes before it; at and after it c-client reads the newline
 * and what follows in its buffer, which we do not have (a line too short
 * for its shape): a newline, then NULs, which read as no digit there
 * either.  Never a byte past the line. */
static unsigned char xb(const unsigned char *x, long i)
{
	return i < 0 ? x[i] : i == 0 ? '\n' : '\0';
}
#define XB(i) xb(x, (i))

static bool cclient_date(const unsigned char *x, long ti, long zn,
			 int64_t *secs_r, int *off_r, bool *zone_r)
{
	char date[32];
	const unsigned char *z;
	const char *c;
	unsigned long d, m, y;
	struct tm tm;
	long t = ti, off = 0;
	int i, month, zoff = 0, local = 0;

	/* unix_parse(): "dd-mmm-yyyy hh:mm:ss" and " +hhmm" or "-ZZZ" */
	memset(date, 0, sizeof(date));
	date[0] = (char)XB(t - 2);
	date[1] = (char)XB(t - 1);
	date[3] = (char)XB(t - 6);
	date[4] = (char)XB(t - 5);
	date[5] = (char)XB(t - 4);
	date[12] = (char)XB(t + 1);
	date[13] = (char)XB(t + 2);
	date[15] = (char)XB(t + 4);
	date[16] = (char)XB(t + 5);
	if (XB(t += 6) == ':') {
		date[18] = (char)XB(++t);
		date[19] = (char)XB(++t);
		t++;
	} else {
		date[18] = date[19] = '0';
	}
	if (zn == t)
		t += (XB(zn + 1) == '+' || XB(zn + 1) == '-') ? 6 : 4;
	date[7] = (char)XB(t + 1);
	date[8] = (char)XB(t + 2);
	date[9] = (char)XB(t + 3);
	date[10] = (char)XB(t + 4);
	z = (const unsigned char *)"LCL";
	date[2] = date[6] = date[20] = '-';
	date[11] = ' ';
	date[14] = date[17] = ':';
	date[21] = (char)(zn != 0 ? XB(zn + 1) : z[0]);
	date[22] = (char)(zn != 0 ? XB(zn + 2) : z[1]);
	date[23] = (char)(zn != 0 ? XB(zn + 3) : z[2]);
	if (date[21] == '+' || date[21] == '-') {
		date[24] = (char)(zn != 0 ? XB(zn + 4) : z[3]);
		date[25] = (char)(zn != 0 ? XB(zn + 5) : z[4]);
		date[20] = ' ';
	}
	for (i = 0; i < 26 && date[i] != '\0'; i++)
		date[i] = (char)to_upper((unsigned char)date[i]);

	/* mail_parse_date() */
	c = date;
	while (*c == ' ')
		c++;
	if ((d = c_strtoul(c, &c)) == 0 || *c != '-' || is_digit((unsigned char)c[1]) ||
	    strlen(c) < 5)
		return false;
	for (month = 0; month < 12; month++) {
		if (name_eq3((const unsigned char *)c + 1, month_names[month]))
			break;
	}
	if (month == 12 || c[4] != '-')
		return false;
	c += 5;
	while (*c == ' ')
		c++;
	if (!is_digit((unsigned char)*c))
		return false;
	y = c_strtoul(c, &c);
	if (*c != '\0' && *c != ' ')
		return false;
	if (d > 31)
		return false;
	if (y < 49)
		y += 2000;
	else if (y < 999)
		y += 1900;
	if (y < 1970 || y > 1970 + 127)
		return false;	/* elt->year: 7 bits from 1970 */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = month;
	tm.tm_mday = (int)d;
	/* from here on a time that does not read leaves the day, 00:00
	 * UTC (mail_parse_date() set the elt's date already) */
	*secs_r = tm_utc_seconds(&tm);
	*off_r = 0;
	*zone_r = true;
	if (*c == '\0')
		return true;
	d = c_strtoul(c + 1, &c);
	if (*c != ':')
		return true;
	m = c_strtoul(++c, &c);
	y = *c == ':' ? c_strtoul(++c, &c) : 0;
	if (d > 23 || m > 59 || y > 60)
		return true;
	tm.tm_hour = (int)d;
	tm.tm_min = (int)m;
	tm.tm_sec = (int)y;
	if (*c == ' ') {
		while (c[1] == ' ')
			c++;
		if (!is_alpha((unsigned char)c[1])) {
			bool west = *++c == '-';

			if (west || *c == '+')
				c++;
			if (is_digit((unsigned char)c[0]) &&
			    is_digit((unsigned char)c[1]) &&
			    is_digit((unsigned char)c[2]) && c[2] < '6' &&
			    is_digit((unsigned char)c[3]))
				off = (((c[0] - '0') * 10 + (c[1] - '0')) & 15) *
					60 + (c[2] - '0') * 10 + (c[3] - '0');
			*off_r = (int)(west ? -off : off);
			*secs_r = tm_utc_seconds(&tm) - (int64_t)*off_r * 60;
			return true;
		}
		c++;		/* a name after the space */
	} else if (*c == '-') {
		c++;
	} else {
		c = NULL;	/* no zone: local */
	}
	local = c == NULL || !cclient_zone((const unsigned char *)c, &zoff);
	if (!local) {
		*off_r = zoff;
		*secs_r = tm_utc_seconds(&tm) - (int64_t)zoff * 60;
	} else {
		time_t lt;

		errno = 0;
		lt = local_time_mktime(&tm);
		*zone_r = false;
		/* -1 is a time too (1969-12-31 23:59:59 UTC): a failure
		 * only with errno */
		*secs_r = lt == (time_t)-1 && errno != 0 ?
			tm_utc_seconds(&tm) : (int64_t)lt;
		/* local_time_mktime() normalised TM to the local time of LT */
		*off_r = (int)((tm_utc_seconds(&tm) - *secs_r) / 60);
	}
	return true;
}

/*
 * The byte at END + REL, or 0 when that is before the start of the line.
 * 0 is neither ' ', ':', '+' nor '-', so an out-of-range position simply
 * fails every test VALID makes (UW itself would read before the line).
 */
static unsigned char back(const unsigned char *s, size_t end, long rel)
{
	if (rel >= 0 || (size_t)-rel > end)
		return 0;
	return s[end - (size_t)-rel];
}

/*
 * Run VALID on S[0..END) (END already stripped of the CR and the "remote
 * from" tail).  On success sets *TI_R to the offset (negative, from END) of
 * the space before the time, *ZONE_R to the offset of the zone field (0 for
 * none), *NUMERIC_R to whether that field is "+hhmm" (5 bytes) rather than
 * a name (3 bytes), *YEAR_R to the offset of the year, and returns true.
 */
static bool uw_valid(const unsigned char *s, size_t end,
		     long *ti_r, long *zone_r, bool *numeric_r, long *year_r)
{
	long ti = 0, zn = 0, year = 0;
	bool numeric = false;

	if (end < 27)
		return false;
	if (back(s, end, -5) == ' ') {
		year = -4;
		if (back(s, end, -8) == ':') {
			zn = 0; ti = -5;
		} else if (back(s, end, -9) == ' ') {
			zn = -8; ti = -9;
		} else if (back(s, end, -11) == ' ' &&
			   (back(s, end, -10) == '+' ||
			    back(s, end, -10) == '-')) {
			zn = -10; ti = -11; numeric = true;
		}
	} else if (back(s, end, -4) == ' ') {
		if (back(s, end, -9) == ' ') {
			zn = -3; ti = -9; year = -8;
		}
	} else if (back(s, end, -6) == ' ') {
		if (back(s, end, -11) == ' ' &&
		    (back(s, end, -5) == '+' || back(s, end, -5) == '-')) {
			zn = -5; ti = -11; year = -10; numeric = true;
		}
	}
	if (ti == 0)
		return false;
	/* "www mmm dd hh:mm" or "www mmm dd hh:mm:ss" before TI */
	if (back(s, end, ti - 3) != ':')
		return false;
	ti -= back(s, end, ti - 6) == ':' ? 9 : 6;
	if (back(s, end, ti) != ' ' || back(s, end, ti - 3) != ' ' ||
	    back(s, end, ti - 7) != ' ' || back(s, end, ti - 11) != ' ')
		return false;
	*ti_r = ti;
	*zone_r = zn;
	*numeric_r = numeric;
	*year_r = year;
	return true;
}

/* WANT_DATE false: only whether LINE is valid (no time conversion: with a
 * four-digit year and a 64-bit time_t it cannot fail). */
static int parse(const char *line, size_t len, struct from_line *out,
		 bool want_date, bool shape_only)
{
	const unsigned char *s = (const unsigned char *)line;
	const unsigned char *nl, *p;
	size_t end = len;
	long ti, zn, yr;
	bool numeric;
	struct tm tm;
	int64_t secs;
	int offset = 0;
	bool has_zone = false;

	if (line == NULL || out == NULL || len < 5 ||
	    memcmp(line, "From ", 5) != 0)
		return 0;
	/* VALID stops at the first LF; a NUL before it makes it fail */
	if ((nl = memchr(s, '\n', end)) != NULL)
		end = (size_t)(nl - s);
	if (memchr(s, '\0', end) != NULL)
		return 0;
	if (end > 0 && s[end - 1] == '\r')
		end--;

	/* " remote from host" */
	if (end >= 41) {
		size_t sp = end;
		while (sp > 0 && s[sp - 1] != ' ')
			sp--;
		/* sp - 1 is the last space (there is one: "From ") */
		if (sp >= 13 && memcmp(s + sp - 13, " remote from", 12) == 0)
			end = sp - 13;
	}

	if (!uw_valid(s, end, &ti, &zn, &numeric, &yr))
		return 0;

	/* the fields, now that we know where they are */
	memset(&tm, 0, sizeof(tm));
	p = s + end - (size_t)-ti;	/* the space before hh */
	const unsigned char *wday = p - 10, *mon = p - 6, *day = p - 2;
	int v;

	if (shape_only) {
		/* UW's VALID accepts the shape; the fields may not read as a
		 * date (c-client then warns "Unable to parse internal
		 * date").  The INTERNALDATE is c-client's reading in any
		 * case: a well-formed line's too ("0003" is 2003, "+1700"
		 * one hour east, as c-client reads them) */
		struct from_line full;
		int64_t cc = 0;
		int cc_off = 0;
		bool cc_ok, cc_zone = true;

		/* VALID's zn is the space before the zone, ours its
		 * first byte */
		cc_ok = want_date &&
			cclient_date(s + end, ti, zn != 0 ? zn - 1 : 0, &cc,
				     &cc_off, &cc_zone);
		/* the fields as a date, without its (second) time
		 * conversion */
		if (parse(line, len, &full, false, false) == 1) {
			*out = full;
			out->date_ok = cc_ok;
		} else {
			const unsigned char *b = s + 5, *e = wday - 1;

			while (b < e && *b == ' ')
				b++;
			while (e > b && e[-1] == ' ')
				e--;
			out->date_ok = false;
			out->sender = b < e ? (const char *)b : line + 5;
			out->sender_len = b < e ? (size_t)(e - b) : 0;
		}
		/* a year c-client cannot hold: INTERNALDATE 0 */
		out->date = cc_ok ? (time_t)cc : 0;
		out->tz_offset = cc_ok ? cc_off : 0;
		out->has_zone = cc_ok ? cc_zone : true;
		return 1;
	}

	if (!is_alpha(wday[0]) || !is_alpha(wday[1]) || !is_alpha(wday[2]))
		return 0;
	for (v = 0; v < 12; v++) {
		if (name_eq3(mon, month_names[v]))
			break;
	}
	if (v == 12)
		return 0;
	tm.tm_mon = v;
	if (day[0] == ' ')
		v = is_digit(day[1]) ? day[1] - '0' : -1;
	else
		v = parse_2digits(day);
	if (v < 1 || v > 31)
		return 0;
	tm.tm_mday = v;

	if ((tm.tm_hour = parse_2digits(p + 1)) < 0 || tm.tm_hour > 23)
		return 0;
	if ((tm.tm_min = parse_2digits(p + 4)) < 0 || tm.tm_min > 59)
		return 0;
	if (p[6] == ':') {
		if ((tm.tm_sec = parse_2digits(p + 7)) < 0 || tm.tm_sec > 60)
			return 0;
	}

	const unsigned char *y = s + end - (size_t)-yr;
	if (!is_digit(y[0]) || !is_digit(y[1]) ||
	    !is_digit(y[2]) || !is_digit(y[3]))
		return 0;
	tm.tm_year = (y[0] - '0') * 1000 + (y[1] - '0') * 100 +
		(y[2] - '0') * 10 + (y[3] - '0') - 1900;

	if (zn != 0) {
		const unsigned char *z = s + end - (size_t)-zn;
		if (numeric) {
			int hh = parse_2digits(z + 1);
			int mm = parse_2digits(z + 3);
			if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
				return 0;
			offset = hh * 60 + mm;
			if (z[0] == '-')
				offset = -offset;
			has_zone = true;
		} else {
			if (!is_alpha(z[0]) || !is_alpha(z[1]) ||
			    !is_alpha(z[2]))
				return 0;
			for (size_t i = 0;
			     i < sizeof(zone_names) / sizeof(zone_names[0]);
			     i++) {
				if (name_eq3(z, zone_names[i].name)) {
					offset = zone_names[i].offset;
					has_zone = true;
					break;
				}
			}
			/* an unknown name is local time, as in UW */
		}
	}

	if (!want_date) {
		secs = 0;
	} else if (has_zone) {
		secs = tm_utc_seconds(&tm) - (int64_t)offset * 60;
	} else {
		time_t t;

		errno = 0;
		t = local_time_mktime(&tm);
		if (t == (time_t)-1 && errno != 0)
			return 0;
		secs = (int64_t)t;
		/* mktime() normalised TM to the local time of T */
		offset = (int)((tm_utc_seconds(&tm) - secs) / 60);
	}
	if ((int64_t)(time_t)secs != secs)
		return 0;

	/* the sender: between "From " and the space before the weekday,
	   without surrounding spaces (it may be empty) */
	const unsigned char *sb = s + 5, *se = wday - 1;
	while (sb < se && *sb == ' ')
		sb++;
	while (se > sb && se[-1] == ' ')
		se--;

	out->date = (time_t)secs;
	out->tz_offset = offset;
	out->has_zone = has_zone;
	out->date_ok = true;
	out->sender = sb < se ? (const char *)sb : line + 5;
	out->sender_len = sb < se ? (size_t)(se - sb) : 0;
	return 1;
}

int from_line_parse(const char *line, size_t len, struct from_line *out)
{
	return parse(line, len, out, true, false);
}

int from_line_parse_uw(const char *line, size_t len, struct from_line *out)
{
	return parse(line, len, out, true, true);
}

bool from_line_valid(const char *line, size_t len)
{
	struct from_line out;

	return parse(line, len, &out, false, false) == 1;
}

int from_line_format(const char *sender, time_t date, char *buf, size_t size)
{
	struct tm tm;
	int n;

	if (buf == NULL || localtime_r(&date, &tm) == NULL)
		return -1;
	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	/* a line break in the sender would end the line early */
	if (strpbrk(sender, "\r\n") != NULL)
		return -1;
	/* UW (and every reader) wants exactly four digits */
	if (tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900 ||
	    tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	n = snprintf(buf, size, "From %s %s %s %2d %02d:%02d:%02d %04d\n",
		     sender, weekday_names[tm.tm_wday],
		     month_names[tm.tm_mon], tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}
