/* SPDX-License-Identifier: MIT */
#ifndef M2D_FROM_LINE_H
#define M2D_FROM_LINE_H

/*
 * The mbox separator line: "From <sender> <date>".
 *
 * UW-IMAP starts a new message at a "From " line of the shape the VALID
 * macro of imap-2007 src/osdep/unix/unix.h accepts; any other "From " line
 * is body text.  VALID checks the shape only: c-client splits at "From x
 * Tue Nov  9 25:61:12 2004" too and just warns that the date does not
 * parse.  from_line_parse_uw() is that decision (the reader splits by it);
 * from_line_parse() also wants the fields to read as a real date.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct from_line {
	time_t date;		/* the date as seconds since the epoch (UTC) */
	int tz_offset;		/* minutes east of UTC the date was read in */
	bool has_zone;		/* the line named its zone (offset or name) */
	bool date_ok;		/* the fields read as a date (always with
				 * from_line_parse; see from_line_parse_uw) */
	const char *sender;	/* points into the line; not terminated */
	size_t sender_len;
};

/*
 * Parse LINE (LEN bytes, without the terminating "\n"; a trailing "\r" is
 * ignored).  LINE must start with "From ".  LINE need not be NUL-terminated
 * and is never read past LEN; should it hold a "\n", parsing stops there
 * (as UW's VALID does), and a NUL byte makes it invalid.
 *
 * Returns 1 and fills OUT when the line is a valid separator, 0 when it is
 * not (then OUT is undefined).  A line is valid when UW's VALID macro
 * accepts its shape AND its fields read as a real date (English month
 * name, day 1-31, hh 0-23, mm 0-59, ss 0-60, four-digit year, "+hhmm" with
 * mm < 60).
 *
 * A numeric offset, or a zone name UW knows (UTC GMT MET EET JST ADT AST
 * EDT EST CDT CST MDT MST PDT PST YDT YST HST, any case), gives has_zone =
 * true and an exact time.  No zone, or a name UW does not know, is read in
 * the local time zone (the TZ environment variable: the source host's
 * zone) as mktime() with tm_isdst = -1 does, except that a time which
 * exists twice (the hour repeated when summer time ends) is the earlier
 * instant (local_time_mktime()); then has_zone = false and tz_offset is
 * that zone's offset at that date.
 *
 * The sender is what lies between "From " and the weekday, without
 * surrounding spaces; it may contain spaces and may be empty (sender_len 0).
 */
int from_line_parse(const char *line, size_t len, struct from_line *out);

/*
 * UW's separator decision exactly: the shape of VALID only, as c-client
 * splits.  Returns 1 for every line from_line_parse() accepts (then the
 * same sender), and also for a line of the right shape whose fields do
 * not read as a date ("25:61", "-9999", "Xyz"): then date_ok is false.
 * The date is the INTERNALDATE c-client gives the line (unix_parse +
 * mail_parse_date), tz_offset the offset it was read in, has_zone false
 * only for local time; date 0 (tz_offset 0, date_ok false) when c-client
 * has none: the year is read as a number, 0..48 meaning
 * 2000..2048 and 49..998 meaning 1949..2898 ("0003" is 2003), and only
 * 1970..2097 is kept (otherwise date 0, date_ok false); a numeric zone
 * counts its hours modulo 16 ("+1700" is +0100); a zone name is known by
 * c-client's compressed code of its bytes ("C\x13T" is AST); an unknown
 * name or none is local time at that date (unlike c-client: FIDELITY,
 * zone-less-date).
 */
int from_line_parse_uw(const char *line, size_t len, struct from_line *out);

/* The same decision without the date (faster: no time-zone work), for
 * counting messages. */
bool from_line_valid(const char *line, size_t len);

/*
 * Write a From_ line for SENDER and DATE as UW and Postfix do:
 * "From sender Tue Nov  9 10:11:12 2004\n" (ctime layout, local time,
 * English names whatever the locale).  SENDER NULL or "" is written as
 * "MAILER-DAEMON".  BUF is NUL-terminated.
 * Returns the length written (without the NUL), or -1 when BUF is too
 * small (it must hold the NUL too), when SENDER holds a "\r" or "\n", or
 * when the local year is not four digits.
 */
int from_line_format(const char *sender, time_t date, char *buf, size_t size);

#endif
