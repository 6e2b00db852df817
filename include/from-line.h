#ifndef M2D_FROM_LINE_H
#define M2D_FROM_LINE_H

/*
 * The mbox separator line: "From <sender> <date>".
 *
 * UW-IMAP starts a new message at a "From " line only when its date parses
 * (the VALID macro of imap-2007 src/osdep/unix/unix.h); any other "From "
 * line is body text.  We apply the same rule, so we split exactly where UW
 * split.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct from_line {
	time_t date;		/* the date as seconds since the epoch (UTC) */
	int tz_offset;		/* minutes east of UTC the date was read in */
	bool has_zone;		/* the line named its zone (offset or name) */
	const char *sender;	/* points into the line; not terminated */
	size_t sender_len;
};

/*
 * Parse LINE (LEN bytes, without the terminating "\n"; a trailing "\r" is
 * ignored).  LINE must start with "From ".
 *
 * Returns 1 and fills OUT when the line is a valid separator, 0 when it is
 * not (then OUT is undefined).  A date without a zone is read in the local
 * time zone (the TZ environment variable: the source host's zone).
 */
int from_line_parse(const char *line, size_t len, struct from_line *out);

/*
 * Write a From_ line for SENDER and DATE as UW and Postfix do:
 * "From sender Tue Nov  9 10:11:12 2004\n" (ctime layout, local time).
 * Returns the length written, or -1 when BUF is too small.
 */
int from_line_format(const char *sender, time_t date, char *buf, size_t size);

#endif
