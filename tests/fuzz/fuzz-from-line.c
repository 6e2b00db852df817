/* SPDX-License-Identifier: MIT */
/*
 * fuzz-from-line.c - the input is one From_ line (no NUL-terminated copy:
 * from_line_parse() must never read past LEN, and ASan would see it)
 *
 * A line that parses is written again with from_line_format() and must
 * parse to the same sender and instant (an hour off only in the repeated
 * hour when the clocks go back: the line then names no zone).
 *
 * UW's decision (from_line_parse_uw) takes every line from_line_valid
 * and from_line_parse take, with the same sender.  A date read in
 * local time (local_time_mktime, its per-day cache) has the offset the
 * zone has at that instant, and is the earlier of a repeated hour.
 */
#include <stdlib.h>

#include "fuzz-common.h"
#include "from-line.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "Europe/Berlin", 1);	/* a zone with DST */
	tzset();
	return 0;
}

/* A date read in local time: the zone's offset then, the earlier
 * instant when the wall clock shows it twice. */
static void check_local(const struct from_line *f)
{
	struct tm tm, before;
	time_t t = f->date, t1;

	if (f->has_zone || !f->date_ok || t == (time_t)-1 ||
	    localtime_r(&t, &tm) == NULL)
		return;
	/* minutes: local mean time (Berlin before 1893: +0:53:28) is cut */
	FUZZ_CHECK(tm.tm_gmtoff / 60 == (long)f->tz_offset);
	t1 = t - 3600;
	if (localtime_r(&t1, &before) != NULL)
		FUZZ_CHECK(!(before.tm_year == tm.tm_year &&
			     before.tm_mon == tm.tm_mon &&
			     before.tm_mday == tm.tm_mday &&
			     before.tm_hour == tm.tm_hour &&
			     before.tm_min == tm.tm_min &&
			     before.tm_sec == tm.tm_sec));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct from_line a, b, u;
	char *sender, buf[512];
	int n, uw;
	bool valid = from_line_valid((const char *)data, size);

	uw = from_line_parse_uw((const char *)data, size, &u);
	FUZZ_CHECK(uw == 0 || uw == 1);
	/* from_line_valid: from_line_parse's decision without the date */
	FUZZ_CHECK(!valid || uw == 1);
	if (uw == 1) {
		FUZZ_CHECK(u.sender_len <= size);
		FUZZ_CHECK(u.tz_offset > -24 * 60 && u.tz_offset < 24 * 60);
		check_local(&u);
	}
	if (from_line_parse((const char *)data, size, &a) != 1)
		return 0;
	FUZZ_CHECK(valid);
	FUZZ_CHECK(uw == 1 && u.sender_len == a.sender_len &&
		   (a.sender_len == 0 || u.sender == a.sender));
	check_local(&a);
	FUZZ_CHECK(a.sender_len <= size);
	FUZZ_CHECK(a.sender_len == 0 ||
		   (a.sender >= (const char *)data &&
		    a.sender + a.sender_len <= (const char *)data + size));
	if (a.sender_len > 256)
		return 0;
	sender = fuzz_strdup((const uint8_t *)a.sender, a.sender_len);
	n = from_line_format(sender, a.date, buf, sizeof(buf));
	if (n > 0 && strlen(sender) == a.sender_len && a.sender_len > 0) {
		FUZZ_CHECK(buf[n - 1] == '\n');
		FUZZ_CHECK(from_line_parse(buf, (size_t)n - 1, &b) == 1);
		FUZZ_CHECK(b.sender_len == a.sender_len &&
			   memcmp(b.sender, sender, a.sender_len) == 0);
		FUZZ_CHECK(b.date == a.date || b.date == a.date + 3600 ||
			   b.date == a.date - 3600);
	}
	free(sender);
	return 0;
}
