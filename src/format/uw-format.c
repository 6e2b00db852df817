/* SPDX-License-Identifier: MIT */
/*
 * uw-format.c - telling UW's folder formats apart, and what the mbx and
 * mix readers share (uw-format.h)
 *
 * The order of the tests is c-client's (linkage.c: mix, mbx, tenex, mtx,
 * mmdf, unix), each test that driver's isvalid (imap-2007 mix.c, mbx.c,
 * tenex.c, mtx.c, mmdf.c, unix.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uw-format.h"
#include "xalloc.h"
#include "i18n.h"
#include "safe-file.h"

const char *uw_format_name(enum uw_format fmt)
{
	switch (fmt) {
	case UW_FMT_MBOX:
		return "mbox";
	case UW_FMT_MBX:
		return "mbx";
	case UW_FMT_MIX:
		return "mix";
	case UW_FMT_MMDF:
		return "mmdf";
	case UW_FMT_TENEX:
		return "tenex";
	case UW_FMT_MTX:
		return "mtx";
	case UW_FMT_UNKNOWN:
		break;
	}
	return "unknown";
}

bool uw_mix_internal_name(const char *name)
{
	return strncmp(name, ".mix", 4) == 0;
}

static bool hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		(c >= 'A' && c <= 'F');
}

/* tenex_isvalid / mtx_isvalid: the first line (within 64 bytes) ends in
 * LF (tenex) or CRLF (mtx) and looks like "dd-mmm-yy...,size;flags". */
static enum uw_format tenex_like(const unsigned char *b, size_t n)
{
	char line[65];
	const char *nl, *comma;
	size_t len = n < 64 ? n : 64;
	bool crlf;

	memcpy(line, b, len);
	line[len] = '\0';
	nl = memchr(line, '\n', len);
	if (nl == NULL || nl == line || memchr(line, '\0', len) != NULL)
		return UW_FMT_UNKNOWN;
	crlf = nl[-1] == '\r';
	len = (size_t)(nl - line) - (crlf ? 1 : 0);
	line[len] = '\0';
	if (len < 19 || !((line[2] == '-' && line[6] == '-') ||
			  (line[1] == '-' && line[5] == '-')))
		return UW_FMT_UNKNOWN;
	comma = strchr(line + 18, ',');
	if (comma == NULL || comma[1] == '\0' ||
	    strchr(comma + 2, ';') == NULL)
		return UW_FMT_UNKNOWN;
	return crlf ? UW_FMT_MTX : UW_FMT_TENEX;
}

enum uw_format uw_format_of_head(const void *buf, size_t n)
{
	const unsigned char *b = buf;
	enum uw_format t;
	size_t i, skip;

	if (n == 0)
		return UW_FMT_UNKNOWN;
	/* mbx_isvalid: a whole 2048-byte header starting "*mbx*\r\n" with
	 * 16 hex digits and CRLF */
	if (n >= 2048 && memcmp(b, "*mbx*\r\n", 7) == 0 &&
	    b[23] == '\r' && b[24] == '\n') {
		for (i = 7; i < 23 && hex(b[i]); i++)
			;
		if (i == 23)
			return UW_FMT_MBX;
	}
	if ((t = tenex_like(b, n)) != UW_FMT_UNKNOWN)
		return t;
	if (n >= 5 && memcmp(b, "\1\1\1\1\n", 5) == 0)
		return UW_FMT_MMDF;
	if (mbox_head_check(b, n, &skip) > 0)
		return UW_FMT_MBOX;
	return UW_FMT_UNKNOWN;
}

int uw_format_detect(int dirfd, const char *name, const char *path,
		     enum uw_format *fmt_r, struct m2d_error *err)
{
	unsigned char head[2048];
	struct stat st;
	size_t n = 0;
	int fd;

	if (path == NULL)
		path = name;
	*fmt_r = UW_FMT_UNKNOWN;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return m2d_error_sys(err, "stat", path);
	if (S_ISDIR(st.st_mode)) {
		/* mix_isvalid: a directory holding a regular .mixmeta */
		int dfd = sf_open_dir(dirfd, name, path, err);

		if (dfd < 0)
			return -1;
		if (fstatat(dfd, ".mixmeta", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			*fmt_r = UW_FMT_MIX;
		close(dfd);
		return 1;
	}
	fd = sf_open_read(dirfd, name, 0, NULL, path, err);
	if (fd < 0)
		return -1;
	while (n < sizeof(head)) {
		ssize_t got = read(fd, head + n, sizeof(head) - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			m2d_error_sys(err, "read", path);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*fmt_r = uw_format_of_head(head, n);
	return 1;
}

/* mail_longdate (imap-2007 mail.c): the fields as c-client's
 * MESSAGECACHE holds them (year since 1970), Gregorian calendar. */
unsigned long uw_longdate(unsigned int year, unsigned int month,
			  unsigned int day, unsigned int hours,
			  unsigned int minutes, unsigned int seconds,
			  bool zoccident, unsigned int zhours,
			  unsigned int zminutes)
{
	unsigned long m = month ? month : 1;
	unsigned long yr = year + 1970UL;
	unsigned long ret = (day ? (day - 1) : 0) + 30 * (m - 1) +
		((m + (m > 8)) / 2) + ((yr / 400) - (1970 / 400)) -
		((yr / 100) - (1970 / 100)) -
		((m < 3) ? (!(yr % 4) && ((yr % 100) || !(yr % 400))) : 2) +
		year * 365UL + (((unsigned long)(year + (1970 % 4))) / 4);

	ret *= 24;
	ret += hours;
	ret *= 60;
	ret += minutes;
	yr = (zhours * 60UL) + zminutes;
	if (zoccident)
		ret += yr;
	else if (ret < yr)
		return 0;
	else
		ret -= yr;
	ret *= 60;
	ret += seconds;
	return ret;
}

time_t uw_date_from_fields(int year, int mon, int day, int hh, int mm,
			   int ss, int tz_min)
{
	int z = tz_min < 0 ? -tz_min : tz_min;

	if (year < 1970)
		return 0;
	return (time_t)uw_longdate((unsigned int)(year - 1970) & 0x7f,
				   (unsigned int)mon, (unsigned int)day,
				   (unsigned int)hh, (unsigned int)mm,
				   (unsigned int)ss, tz_min < 0,
				   (unsigned int)(z / 60) & 0xf,
				   (unsigned int)(z % 60));
}

static int num(const char **p, const char *end, int max_digits)
{
	int v = 0, n = 0;

	while (*p < end && **p >= '0' && **p <= '9' && n < max_digits) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n > 0 ? v : -1;
}

int uw_parse_imap_date(const char *s, size_t len, time_t *date_r, int *tz_r)
{
	static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
	const char *p = s, *end = s + len;
	int day, mon = 0, year, hh, mm, ss = 0, tz = 0, i;

	while (p < end && *p == ' ')
		p++;
	if ((day = num(&p, end, 2)) < 1 || day > 31 || end - p < 5 ||
	    *p++ != '-')
		return 0;
	for (i = 0; i < 12; i++) {
		int k;

		for (k = 0; k < 3; k++)
			if ((p[k] & ~0x20) != months[i * 3 + k])
				break;
		if (k == 3) {
			mon = i + 1;
			break;
		}
	}
	if (mon == 0 || p[3] != '-')
		return 0;
	p += 4;
	if ((year = num(&p, end, 4)) < 1970 || year > 2097 || p >= end ||
	    *p++ != ' ')
		return 0;
	if ((hh = num(&p, end, 2)) < 0 || hh > 23 || p >= end || *p++ != ':' ||
	    (mm = num(&p, end, 2)) < 0 || mm > 59)
		return 0;
	if (p < end && *p == ':') {
		p++;
		if ((ss = num(&p, end, 2)) < 0 || ss > 60)
			return 0;
	}
	if (p < end && *p == ' ') {
		int sign = 1, z;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			sign = *p++ == '-' ? -1 : 1;
		if (end - p < 4 || (z = num(&p, end, 4)) < 0 || z % 100 > 59)
			return 0;
		tz = sign * ((z / 100) * 60 + z % 100);
	}
	if (p != end)
		return 0;
	*date_r = uw_date_from_fields(year, mon, day, hh, mm, ss, tz);
	*tz_r = tz;
	return 1;
}

void uw_keywords_str(const struct uw_folder *folder, unsigned long bits,
		     char *buf, size_t size)
{
	size_t n = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < MBOX_MAX_KEYWORDS; k++) {
		size_t len;

		if (!(bits & (1UL << k)) || folder->slots[k] == NULL)
			continue;
		len = strlen(folder->slots[k]);
		if (n + len + 2 > size)
			break;
		if (n > 0)
			buf[n++] = ' ';
		memcpy(buf + n, folder->slots[k], len + 1);
		n += len;
	}
}

void uw_folder_set_keywords(struct uw_folder *folder)
{
	size_t size = MBOX_MAX_KEYWORDS * (MBOX_MAX_KEYWORD_LEN + 1) + 1;

	free(folder->keywords);
	folder->keywords = xmalloc(size);
	uw_keywords_str(folder, ~0UL, folder->keywords, size);
}

void uw_folder_free(struct uw_folder *folder)
{
	int k;

	for (k = 0; k < MBOX_MAX_KEYWORDS; k++) {
		free(folder->slots[k]);
		folder->slots[k] = NULL;
	}
	free(folder->keywords);
	folder->keywords = NULL;
}

int uw_flock_shared(int fd, unsigned int wait_ms, const char *path,
		    struct m2d_error *err)
{
	unsigned int waited = 0;

	if (wait_ms == 0)
		wait_ms = 10000;
	while (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (errno != EWOULDBLOCK && errno != EINTR)
			return m2d_error_sys(err, "flock", path);
		if (waited >= wait_ms)
			return m2d_error_set(err, M2D_ERR_LOCKED, path,
					     _("in use by UW-IMAP (an exclusive "
					       "flock held for %u ms); not "
					       "read"), waited);
		nanosleep(&ts, NULL);
		waited += 50;
	}
	return 0;
}

int uw_file_open_checks(int fd, const struct uw_reader_settings *set,
			struct stat *st_r, const char *path,
			struct m2d_error *err)
{
	if (uw_flock_shared(fd, set->lock_wait_ms, path, err) < 0)
		return -1;
	/* the size once locked is what we read */
	if (fstat(fd, st_r) < 0)
		return m2d_error_sys(err, "fstat", path);
	if (!S_ISREG(st_r->st_mode))
		return m2d_error_set(err, M2D_ERR_UNSAFE, path,
				     _("not a regular file; not read"));
	if (!set->allow_sparse && sf_is_sparse(fd, st_r))
		return m2d_error_set(err, M2D_ERR_UNSAFE, path,
				     _("a sparse file (holes): its size is "
				       "not what it holds; not converted"));
	return 0;
}

int uw_pread_all(int fd, void *buf, size_t len, long long off,
		 size_t *got_r, const char *path, struct m2d_error *err)
{
	ssize_t n = sf_pread_full(fd, buf, len, (off_t)off);

	if (n < 0) {
		m2d_error_sys(err, "read", path);
		m2d_error_at(err, off, 0);
		return -1;
	}
	*got_r = (size_t)n;
	return 0;
}

int uw_body_read(struct uw_body *b, int fd, const char *path,
		 const char *shrank, const unsigned char **data_r,
		 size_t *len_r, struct m2d_error *err)
{
	size_t want = b->left > UW_CHUNK ? UW_CHUNK : (size_t)b->left, got;

	if (want == 0)
		return 0;
	if (uw_pread_all(fd, b->buf, want, b->pos, &got, path, err) < 0)
		return -1;
	if (got < want) {
		m2d_error_set(err, M2D_ERR_CHANGED, path, "%s", shrank);
		m2d_error_at(err, b->pos + (long long)got, 0);
		return -1;
	}
	b->pos += (long long)got;
	b->left -= got;
	*data_r = b->buf;
	*len_r = got;
	return 1;
}

unsigned int uw_flags_of_sf(unsigned int sf, bool old_ok)
{
	unsigned int fl = 0;

	if (sf & UW_SF_SEEN)
		fl |= UW_SEEN;
	if (sf & UW_SF_DELETED)
		fl |= UW_DELETED;
	if (sf & UW_SF_FLAGGED)
		fl |= UW_FLAGGED;
	if (sf & UW_SF_ANSWERED)
		fl |= UW_ANSWERED;
	if (sf & UW_SF_DRAFT)
		fl |= UW_DRAFT;
	if ((sf & UW_SF_OLD) && old_ok)
		fl |= UW_OLD;
	return fl;
}
