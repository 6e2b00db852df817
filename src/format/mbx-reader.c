/* SPDX-License-Identifier: MIT */
/*
 * mbx-reader.c - UW's mbx format as c-client reads it (mbx-reader.h)
 *
 * Follows imap-2007 mbx.c: mbx_isvalid (the header), mbx_parse (the
 * per-message lines, UIDs, expunged bits), mbx_header/mbx_text (the
 * bytes served: SIZE bytes after the line).  The folder is read twice:
 * once over the message lines only, to know UIDNEXT (c-client gives UIDs
 * to messages without one while it parses) before the first message is
 * handed out, then message by message.  Memory does not grow with the
 * file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "mbx-reader.h"
#include "i18n.h"
#include "safe-file.h"
#include "xalloc.h"

#define LINE_READ 64		/* what mbx_parse reads of a message line */

#define F_EXPUNGED 0x8000

struct mbx_reader {
	int fd;
	bool own_fd;
	char *path;
	struct uw_reader_settings set;
	struct stat st0;
	struct uw_folder folder;
	unsigned long hdr_uidlast;	/* the header's last UID */

	/* the walk over the message lines */
	long long pos;
	unsigned long lastuid, uidlast;
	unsigned long seq;

	struct uw_body body;	/* the current message */
	char kw[MBOX_MAX_KEYWORDS * (MBOX_MAX_KEYWORD_LEN + 1) + 1];
};

bool mbx_head_check(const void *buf, size_t n)
{
	return uw_format_of_head(buf, n) == UW_FMT_MBX;
}

const struct uw_folder *mbx_reader_folder(const struct mbx_reader *r)
{
	return &r->folder;
}

const struct stat *mbx_reader_stat(const struct mbx_reader *r)
{
	return &r->st0;
}

static int pread_all(struct mbx_reader *r, void *buf, size_t len,
		     long long off, size_t *got_r, struct m2d_error *err)
{
	return uw_pread_all(r->fd, buf, len, off, got_r, r->path, err);
}

/* The header (mbx_isvalid + the top of mbx_parse). */
static int read_header(struct mbx_reader *r, struct m2d_error *err)
{
	char hdr[MBX_HDRSIZE + 1], c, *s, *t;
	size_t got;
	int i;

	if (pread_all(r, hdr, MBX_HDRSIZE, 0, &got, err) < 0)
		return -1;
	if (got < MBX_HDRSIZE || !mbx_head_check(hdr, got))
		return m2d_error_set(err, M2D_ERR_NOT_MBOX, r->path,
				     _("not a folder in UW's mbx format"));
	hdr[MBX_HDRSIZE] = '\0';
	c = hdr[15];
	hdr[15] = '\0';
	r->folder.uidvalidity = strtoul(hdr + 7, NULL, 16);
	hdr[15] = c;
	hdr[23] = '\0';
	r->hdr_uidlast = strtoul(hdr + 15, NULL, 16);
	hdr[23] = '\r';
	/* the keywords: CRLF lines from byte 25 until an empty one (or a
	 * NUL before the CR, where strchr stops) */
	for (i = 0, s = hdr + 25; i < MBOX_MAX_KEYWORDS &&
	     (t = strchr(s, '\r')) != NULL && t != s; i++, s = t + 2) {
		*t = '\0';
		if (strlen(s) <= MBOX_MAX_KEYWORD_LEN)
			r->folder.slots[i] = xstrdup(s);
		if (t + 1 >= hdr + MBX_HDRSIZE)
			break;
	}
	return 0;
}

struct line {
	long long pos;			/* of the line */
	size_t len;			/* of the line with its CRLF */
	unsigned long long size;	/* of the message */
	unsigned long uf, sf, uid;
	char date[LINE_READ + 1];
};

static int bad(struct mbx_reader *r, long long pos, const char *what,
	       struct m2d_error *err)
{
	m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
		      _("an mbx message line c-client refuses (%s); the "
			"folder is not read"), what);
	m2d_error_at(err, pos, 0);
	return -1;
}

static bool hexes(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* The message line at r->pos, checked as mbx_parse checks it. */
static int read_line(struct mbx_reader *r, struct line *l,
		     struct m2d_error *err)
{
	char buf[LINE_READ + 1], *s, *t, *x;
	size_t got;
	unsigned long long j;

	l->pos = r->pos;
	if (pread_all(r, buf, LINE_READ, r->pos, &got, err) < 0)
		return -1;
	if ((long long)got > (long long)r->st0.st_size - r->pos)
		got = (size_t)((long long)r->st0.st_size - r->pos);
	if (got == 0)
		return bad(r, r->pos, _("no data"), err);
	buf[got] = '\0';
	if ((s = strchr(buf, '\r')) == NULL || s[1] != '\n')
		return bad(r, r->pos, _("no CRLF"), err);
	*s = '\0';
	l->len = (size_t)(s + 2 - buf);
	if ((s = strchr(buf, ',')) == NULL || (t = strchr(s + 1, ';')) == NULL)
		return bad(r, r->pos, _("no size"), err);
	if (!hexes(t + 1, 12))
		return bad(r, r->pos, _("flags"), err);
	if (t[13] != '-' || !hexes(t + 14, 8) || t[22] != '\0')
		return bad(r, r->pos, _("UID"), err);
	*s++ = '\0';
	*t++ = '\0';
	j = strtoull(s, &x, 10);
	if (j == 0 && *x == '\0')
		return bad(r, r->pos, _("size"), err);
	/* c-client keeps the size in an unsigned long */
	j = (unsigned long)j;
	if (j > (unsigned long long)(r->st0.st_size - r->pos) - l->len)
		return bad(r, r->pos, _("the last message runs past the end "
				       "of the file"), err);
	l->size = j;
	l->uid = strtoul(t + 13, NULL, 16);
	t[12] = '\0';
	l->sf = strtoul(t + 8, NULL, 16);
	t[8] = '\0';
	l->uf = strtoul(t, NULL, 16);
	memcpy(l->date, buf, strlen(buf) + 1);
	return 0;
}

/*
 * One step of mbx_parse's UID logic over the line L: returns 1 with the
 * message's UID for a live message, 0 for an expunged one.
 */
static int uid_step(struct mbx_reader *r, const struct line *l,
		    unsigned long *uid_r, bool *kept_r)
{
	unsigned long m = l->uid;

	if (m != 0 && (m <= r->lastuid || m > r->uidlast)) {
		r->folder.uid_reset = true;
		m = 0;
		r->uidlast = r->lastuid;
	}
	if (l->sf & F_EXPUNGED) {
		r->lastuid = m != 0 ? m : ++r->uidlast;
		return 0;
	}
	*kept_r = m != 0;
	if (m == 0)
		m = ++r->uidlast;
	r->lastuid = m;
	*uid_r = m;
	return 1;
}

static void rewind_walk(struct mbx_reader *r)
{
	r->pos = MBX_HDRSIZE;
	r->lastuid = 0;
	r->uidlast = r->hdr_uidlast;
	r->seq = 0;
}

/* The first walk: UIDNEXT and uid_reset, every line checked. */
static int prescan(struct mbx_reader *r, struct m2d_error *err)
{
	struct line l;
	unsigned long uid;
	bool kept;

	rewind_walk(r);
	while (r->pos < (long long)r->st0.st_size) {
		if (read_line(r, &l, err) < 0)
			return -1;
		uid_step(r, &l, &uid, &kept);
		/* IMAP's UIDs are 32 bits; c-client's would go on */
		if (r->uidlast >= 0xffffffffUL)
			return bad(r, l.pos, _("no UID left"), err);
		r->pos += (long long)(l.len + l.size);
	}
	r->folder.uidnext = r->uidlast + 1;
	rewind_walk(r);
	return 0;
}

static int keywords_list(struct mbx_reader *r, struct m2d_error *err)
{
	(void)err;
	uw_folder_set_keywords(&r->folder);
	return 0;
}

int mbx_reader_open_fd(int fd, const char *path,
		       const struct uw_reader_settings *set,
		       struct mbx_reader **reader_r, struct m2d_error *err)
{
	struct mbx_reader *r;

	*reader_r = NULL;
	r = xcalloc(1, sizeof(*r));
	r->path = xstrdup(path);
	r->body.buf = xmalloc(UW_CHUNK);
	r->fd = fd;
	if (set != NULL)
		r->set = *set;
	if (uw_file_open_checks(fd, &r->set, &r->st0, path, err) < 0)
		goto fail;
	if (read_header(r, err) < 0 || prescan(r, err) < 0 ||
	    keywords_list(r, err) < 0)
		goto fail;
	*reader_r = r;
	return 0;
fail:
	r->fd = -1;
	mbx_reader_close(&r);
	return -1;
}

int mbx_reader_open(int dirfd, const char *path,
		    const struct uw_reader_settings *set,
		    struct mbx_reader **reader_r, struct m2d_error *err)
{
	int fd = sf_open_read(dirfd, path, 0, NULL, path, err);

	*reader_r = NULL;
	if (fd < 0)
		return -1;
	if (mbx_reader_open_fd(fd, path, set, reader_r, err) < 0) {
		close(fd);
		return -1;
	}
	(*reader_r)->own_fd = true;
	return 0;
}

int mbx_reader_next(struct mbx_reader *r, struct uw_msg *msg,
		    struct m2d_error *err)
{
	struct line l;
	unsigned long uid;
	bool kept;

	memset(msg, 0, sizeof(*msg));
	r->body.left = 0;
	while (r->pos < (long long)r->st0.st_size) {
		unsigned int fl = 0;
		struct stat st;

		/* flags may have changed in place since the first walk */
		if (read_line(r, &l, err) < 0)
			return -1;
		r->pos += (long long)(l.len + l.size);
		if (!uid_step(r, &l, &uid, &kept))
			continue;
		if (!uw_parse_imap_date(l.date, strlen(l.date), &msg->date,
					&msg->tz_offset))
			return bad(r, l.pos, _("date"), err);
		if (r->set.max_message > 0 && l.size > r->set.max_message) {
			m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
				      _("message %lu is larger than %llu bytes "
					"(max_message_size); not converted"),
				      r->seq + 1, r->set.max_message);
			m2d_error_at(err, l.pos, 0);
			return -1;
		}
		if (fstat(r->fd, &st) == 0 && st.st_size < r->st0.st_size) {
			m2d_error_set(err, M2D_ERR_CHANGED, r->path,
				      _("the mbx file shrank while it was "
					"read"));
			return -1;
		}
		/* c-client: no UID yet, or not old, is \Recent */
		fl = uw_flags_of_sf(l.sf, kept);
		uw_keywords_str(&r->folder, l.uf, r->kw, sizeof(r->kw));
		msg->seq = ++r->seq;
		msg->uid = uid;
		msg->flags = fl;
		msg->keywords = r->kw;
		msg->size = l.size;
		msg->offset = l.pos + (long long)l.len;
		r->body.pos = msg->offset;
		r->body.left = l.size;
		return 1;
	}
	return 0;
}

int mbx_reader_read(struct mbx_reader *r, const unsigned char **data_r,
		    size_t *len_r, struct m2d_error *err)
{
	return uw_body_read(&r->body, r->fd, r->path,
			    _("the mbx file shrank while it was read"),
			    data_r, len_r, err);
}

void mbx_reader_close(struct mbx_reader **rp)
{
	struct mbx_reader *r = *rp;

	if (r == NULL)
		return;
	if (r->fd >= 0) {
		flock(r->fd, LOCK_UN);
		if (r->own_fd)
			close(r->fd);
	}
	uw_folder_free(&r->folder);
	free(r->body.buf);
	free(r->path);
	free(r);
	*rp = NULL;
}
