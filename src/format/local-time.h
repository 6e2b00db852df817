/* SPDX-License-Identifier: MIT */
#ifndef M2D_LOCAL_TIME_H
#define M2D_LOCAL_TIME_H

/*
 * Local wall-clock time to time_t, fast and the same in every process.
 */

#include <stdint.h>
#include <time.h>

/* TM read as UTC (like timegm(), without its errno and range business). */
int64_t tm_utc_seconds(const struct tm *tm);

/*
 * local_time_mktime - mktime() of the wall-clock time in TM, in the zone
 * TZ names now (or /etc/localtime).
 *
 * As mktime() with tm_isdst = -1, with one difference: a wall-clock time
 * that exists twice (the hour repeated when summer time ends) is always
 * the earlier instant, whatever the previous call was (glibc picks by the
 * tm_isdst of its previous call).  Fields out of range are brought into
 * range first as the calendar does ("02:30:60" is 02:31:00, "Feb 30" a day
 * of March), and that time is read.  A time that does not exist (the hour
 * skipped when summer time starts) is what mktime() makes of it.  TM is
 * normalised to the local time of the result (tm_isdst, tm_gmtoff,
 * tm_wday, ...), as mktime() does.
 *
 * Returns the time, or (time_t)-1 when mktime() fails (errno set then) or
 * the answer is that second.
 *
 * Cost: one mktime() per local calendar day per thread (a per-day
 * UTC offset, kept only for a day without a zone transition, checked by
 * its first and last second); every other call is arithmetic.
 */
time_t local_time_mktime(struct tm *tm);

#endif
