/* SPDX-License-Identifier: MIT */
/*
 * Local wall-clock time to time_t without a mktime() per call.
 *
 * glibc's mktime() searches for the answer with localtime() (a dozen
 * conversions through the zone's transitions): most of what reading a
 * From_ line in local time costs, and plan and verify read every one.  A
 * local calendar day without a zone transition has one UTC offset: wall
 * clock = time + offset for each of its seconds.  So the first time a day
 * is seen, mktime() gives the instant of its 00:00:00 and localtime() the
 * wall clock of that instant + 86399 s; when that is 23:59:59 of the same
 * day with the same offset and tm_isdst, the offset is kept for the day
 * and every time on it is arithmetic.  A day whose 00:00 does not exist,
 * or on which the offset changes (summer time starts or ends, the zone
 * moves), or which has a leap second, is left to mktime() each time.
 *
 * The cache is per thread and belongs to one TZ value: when TZ changes,
 * it starts empty.  A change of /etc/localtime during a run is not seen
 * (mktime() itself only sees it when TZ changes).
 */
#include "local-time.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t tm_utc_seconds(const struct tm *tm)
{
	int64_t days = days_from_civil((int64_t)tm->tm_year + 1900,
				       tm->tm_mon + 1, tm->tm_mday);
	return days * 86400 + (int64_t)tm->tm_hour * 3600 +
		(int64_t)tm->tm_min * 60 + tm->tm_sec;
}

/*
 * mktime() of a local wall-clock time, the same in every process: the
 * hour repeated when summer time ends is two instants, and glibc picks
 * one by the tm_isdst of its previous call (a batch converter and a
 * single convert disagreed); the first one is taken.
 */
static time_t mktime_first(struct tm *tm)
{
	struct tm want = *tm, other;
	time_t t, t2;

	tm->tm_isdst = -1;
	t = mktime(tm);
	if (t == (time_t)-1 || tm->tm_isdst < 0)
		return t;
	other = want;
	other.tm_isdst = !tm->tm_isdst;
	t2 = mktime(&other);
	/* the same wall clock, as normalised: WANT's fields may be out of
	 * range ("02:30:60" is 02:31:00) */
	if (t2 != (time_t)-1 && t2 < t && other.tm_hour == tm->tm_hour &&
	    other.tm_min == tm->tm_min && other.tm_sec == tm->tm_sec &&
	    other.tm_mday == tm->tm_mday && other.tm_mon == tm->tm_mon &&
	    other.tm_year == tm->tm_year) {
		*tm = other;
		return t2;
	}
	return t;
}

#define DAY_SLOTS 64		/* a power of two */

struct day_slot {
	bool used;
	bool plain;		/* no transition: OFFSET and START hold */
	int64_t day;		/* the local date, days since 1970-01-01 */
	int64_t offset;		/* wall clock read as UTC minus time_t */
	struct tm start;	/* the local time of its 00:00:00 */
};

static _Thread_local struct {
	bool valid;
	char tz[64];
	struct day_slot slot[DAY_SLOTS];
} cache;

static bool same_date(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon &&
		a->tm_mday == b->tm_mday;
}

static bool is_clock(const struct tm *tm, int h, int m, int s)
{
	return tm->tm_hour == h && tm->tm_min == m && tm->tm_sec == s;
}

/* Whether the day of WANT has one offset; fills S either way. */
static void day_fill(struct day_slot *s, const struct tm *want, int64_t day)
{
	struct tm start = *want, end;
	time_t t0, t1;

	s->used = true;
	s->plain = false;
	s->day = day;
	start.tm_hour = start.tm_min = start.tm_sec = 0;
	t0 = mktime_first(&start);
	if (t0 == (time_t)-1 || !same_date(&start, want) ||
	    !is_clock(&start, 0, 0, 0))
		return;		/* 00:00 does not exist that day */
	t1 = t0 + 86399;
	if (localtime_r(&t1, &end) == NULL || !same_date(&end, want) ||
	    !is_clock(&end, 23, 59, 59) ||
	    end.tm_gmtoff != start.tm_gmtoff || end.tm_isdst != start.tm_isdst)
		return;		/* a transition (or a leap second) */
	s->plain = true;
	s->offset = day * 86400 - (int64_t)t0;
	s->start = start;
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A wall-clock time mktime() would not normalise to another one. */
static bool in_range(const struct tm *tm)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int64_t y = (int64_t)tm->tm_year + 1900;

	if (tm->tm_year < 0 || tm->tm_year > 9999 - 1900 ||
	    tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
	    tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 ||
	    tm->tm_min > 59 || tm->tm_sec < 0 || tm->tm_sec > 59)
		return false;
	return tm->tm_mday <= mdays[tm->tm_mon] +
		(tm->tm_mon == 1 && leap_year(y));
}

/* Whether the cache serves the TZ of now (emptied when TZ changed). */
static bool cache_for_tz(void)
{
	const char *tz = getenv("TZ");
	size_t len;

	if (tz == NULL)
		tz = "\001";		/* unset: not "" (which is UTC) */
	len = strlen(tz);
	if (len >= sizeof(cache.tz))
		return false;
	if (!cache.valid || strcmp(tz, cache.tz) != 0) {
		memset(cache.slot, 0, sizeof(cache.slot));
		memcpy(cache.tz, tz, len + 1);
		cache.valid = true;
	}
	return true;
}

/*
 * TM's fields brought into range as the calendar does it ("23:59:60" is
 * the next day's 00:00:00, "Feb 30" a day of March), so that a repeated
 * or skipped hour is known by the time it names and not by the fields
 * glibc's mktime() is given (its answer for "02:59:60" in the repeated
 * hour depended on its previous call).  False when TM is beyond that.
 */
static bool normalise(struct tm *tm)
{
	struct tm n;
	time_t t;

	if (tm->tm_year < 0 || tm->tm_year > 9999 - 1900 ||
	    tm->tm_mon < 0 || tm->tm_mon > 11)
		return false;
	t = (time_t)tm_utc_seconds(tm);
	if (gmtime_r(&t, &n) == NULL)
		return false;
	n.tm_isdst = tm->tm_isdst;
	*tm = n;
	return true;
}

time_t local_time_mktime(struct tm *tm)
{
	struct day_slot *s;
	int64_t day;

	if (!in_range(tm) && !normalise(tm))
		return mktime_first(tm);
	if (!in_range(tm) || !cache_for_tz())
		return mktime_first(tm);
	day = days_from_civil((int64_t)tm->tm_year + 1900, tm->tm_mon + 1,
			      tm->tm_mday);
	s = &cache.slot[(uint64_t)day & (DAY_SLOTS - 1)];
	if (!s->used || s->day != day)
		day_fill(s, tm, day);
	if (!s->plain)
		return mktime_first(tm);

	struct tm got = s->start;

	got.tm_hour = tm->tm_hour;
	got.tm_min = tm->tm_min;
	got.tm_sec = tm->tm_sec;
	*tm = got;
	return (time_t)(tm_utc_seconds(tm) - s->offset);
}
