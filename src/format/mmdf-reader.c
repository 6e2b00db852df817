/* SPDX-License-Identifier: MIT */
/*
 * mmdf-reader.c - MMDF files as c-client reads them (mmdf-reader.h)
 *
 * Follows imap-2007 mmdf.c: mmdf_parse (the walk over the lines, UW's
 * headers, UIDs), mmdf_mbxline (a line, and a "^A^A^A^A\n" at the end of
 * one), mmdf_header (CRLF, spurious CRs out, mail_filter of UW's fields)
 * and mmdf_text_work (every CR out, LF to CRLF).  The file is walked once
 * at open through a fixed window; per message a small record is kept
 * (offsets, flags, UID, date), so memory grows with the number of
 * messages, not with their size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "mmdf-reader.h"
#include "from-line.h"
#include "i18n.h"
#include "safe-file.h"
#include "xalloc.h"

#define WINDOW (256 * 1024)
#define LINE_CAP (64 * 1024)	/* what is kept of a line to look at */
#define CHUNK (64 * 1024)
#define DEFAULT_MAX_HEADER (8 * 1024 * 1024)

struct rec {
	long long hdr_off, text_off, text_end;
	unsigned long long body_size;	/* served: CRs out, LF as CRLF */
	unsigned int flags;
	unsigned long kw, uid;
	time_t date;
	int tz;
};

struct line {
	long long start;
	size_t len;			/* its bytes in the file */
	size_t have;			/* kept in text (<= LINE_CAP) */
	size_t ncr, nlf;
	char text[LINE_CAP + 1];	/* NUL-terminated */
};

struct mmdf_reader {
	int fd;
	bool own_fd;
	char *path;
	struct uw_reader_settings set;
	struct stat st0;
	struct uw_folder folder;

	unsigned char *win;
	long long win_off;
	size_t win_len;
	long long cur;			/* c-client's GETPOS */

	struct rec *recs;
	unsigned long count, alloc, next;

	/* the current message: its header served from memory, then the
	 * body converted chunk by chunk */
	char *hdr;
	size_t hdr_len, hdr_pos;
	long long body_pos, body_end;
	unsigned char *out;
	char kw[MBOX_MAX_KEYWORDS * (MBOX_MAX_KEYWORD_LEN + 1) + 1];
};

const struct uw_folder *mmdf_reader_folder(const struct mmdf_reader *r)
{
	return &r->folder;
}

static int sys(struct mmdf_reader *r, const char *call, long long off,
	       struct m2d_error *err)
{
	m2d_error_sys(err, call, r->path);
	m2d_error_at(err, off, 0);
	return -1;
}

static int refill(struct mmdf_reader *r, long long off, struct m2d_error *err)
{
	size_t got = 0;

	while (got < WINDOW && off + (long long)got < r->st0.st_size) {
		ssize_t n = pread(r->fd, r->win + got, WINDOW - got,
				  (off_t)(off + (long long)got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sys(r, "read", off, err);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if ((long long)got > r->st0.st_size - off)
		got = (size_t)(r->st0.st_size - off);
	r->win_off = off;
	r->win_len = got;
	return 0;
}

/* The byte at OFF (< size), or -1 with ERR. */
static int byte_at(struct mmdf_reader *r, long long off,
		   struct m2d_error *err)
{
	if (off < r->win_off || off >= r->win_off + (long long)r->win_len) {
		if (refill(r, off, err) < 0)
			return -1;
		if (r->win_len == 0)
			return m2d_error_set(err, M2D_ERR_CHANGED, r->path,
					     _("the file shrank while it was "
					       "read"));
	}
	return r->win[off - r->win_off];
}

static bool is_mmdf(const struct line *l)
{
	return l->len >= 5 && memcmp(l->text, "\1\1\1\1\n", 5) == 0;
}

/* mmdf_mbxline at r->cur: the line, r->cur after it.  len 0 at the end. */
static int get_line(struct mmdf_reader *r, struct line *l,
		    struct m2d_error *err)
{
	unsigned char tail[5];
	size_t ntail = 0;

	l->start = r->cur;
	l->len = l->have = l->ncr = l->nlf = 0;
	while (r->cur < r->st0.st_size) {
		const unsigned char *s, *nl;
		size_t avail, n, k;

		if (r->cur < r->win_off ||
		    r->cur >= r->win_off + (long long)r->win_len) {
			if (refill(r, r->cur, err) < 0)
				return -1;
			if (r->win_len == 0)
				break;
		}
		s = r->win + (r->cur - r->win_off);
		avail = r->win_len - (size_t)(r->cur - r->win_off);
		nl = memchr(s, '\n', avail);
		n = nl != NULL ? (size_t)(nl - s) + 1 : avail;
		k = n < LINE_CAP - l->have ? n : LINE_CAP - l->have;
		memcpy(l->text + l->have, s, k);
		l->have += k;
		for (k = 0; k < n; k++)
			if (s[k] == '\r')
				l->ncr++;
		if (nl != NULL)
			l->nlf++;
		if (n >= 5) {
			memcpy(tail, s + n - 5, 5);
			ntail = 5;
		} else {
			for (k = 0; k < n; k++) {
				if (ntail == 5) {
					memmove(tail, tail + 1, 4);
					ntail = 4;
				}
				tail[ntail++] = s[k];
			}
		}
		l->len += n;
		r->cur += (long long)n;
		if (nl != NULL)
			break;
	}
	/* a terminator at the end of a line is a line of its own */
	if (l->len > 6 && ntail == 5 && memcmp(tail, "\1\1\1\1\n", 5) == 0) {
		r->cur -= 5;
		l->len -= 5;
		l->nlf--;
		if (l->have > l->len)
			l->have = l->len;
		if (l->have == l->len)
			l->text[l->len - 1] = '\n';
	}
	l->text[l->have] = '\0';
	return 0;
}

static bool blank(const struct line *l)
{
	return l->text[0] == '\n' || (l->text[0] == '\r' && l->text[1] == '\n');
}

static bool at_eol(const char *s)
{
	return *s == '\0' || *s == '\n' || (*s == '\r' && s[1] == '\n');
}

struct parse {
	unsigned long nmsgs, uid_last, prevuid;
	unsigned long uidvalidity;
	bool pseudoseen;
};

/* One header line of message REC (mmdf_parse's switch). */
static void header_line(struct mmdf_reader *r, struct parse *p,
			struct rec *rec, char *s)
{
	if (s[0] == 'X' && s[1] == '-') {
		if (strncmp(s + 2, "Status:", 7) == 0) {
			s += 2;
			goto status;
		}
		if (strncmp(s + 2, "Keywords:", 9) == 0) {
			s += 11;
			while (!at_eol(s)) {
				size_t k;
				char *u;
				int j;

				while (*s == ' ')
					s++;
				u = s + strcspn(s, " \n\r");
				k = (size_t)(u - s);
				if (k == 0 && !at_eol(s))
					break;	/* c-client loops here */
				if (k > 0 && k <= MBOX_MAX_KEYWORD_LEN)
					for (j = 0; j < MBOX_MAX_KEYWORDS &&
					     r->folder.slots[j] != NULL; j++)
						if (strlen(r->folder.slots[j]) ==
						    k &&
						    strncasecmp(r->folder.slots[j],
								s, k) == 0) {
							rec->kw |= 1UL << j;
							break;
						}
				s = u;
			}
			return;
		}
		if (strncmp(s + 2, "IMAP", 4) == 0 &&
		    (s[6] == ':' || strncmp(s + 6, "base:", 5) == 0)) {
			bool x_imap = s[6] == ':';
			unsigned long v = 0;
			int j;

			if (p->nmsgs != 1 || p->uidvalidity != 0)
				return;
			s += x_imap ? 7 : 11;
			while (*s == ' ')
				s++;
			while (*s >= '0' && *s <= '9')
				v = v * 10 + (unsigned long)(*s++ - '0');
			while (*s == ' ')
				s++;
			if (v == 0 || !(*s >= '0' && *s <= '9'))
				return;
			if (x_imap)
				p->pseudoseen = true;
			p->uidvalidity = v;
			v = 0;
			while (*s >= '0' && *s <= '9')
				v = v * 10 + (unsigned long)(*s++ - '0');
			p->uid_last = v;
			for (j = 0; *s != '\0' && *s != '\n' &&
			     !(*s == '\r' && s[1] == '\n'); j++) {
				size_t k;
				char *u;

				while (*s == ' ')
					s++;
				u = s + strcspn(s, " \n\r");
				k = (size_t)(u - s);
				if (k == 0 && *s == '\r' && s[1] != '\n')
					break;	/* c-client loops here */
				if (j < MBOX_MAX_KEYWORDS && k > 0 &&
				    k <= MBOX_MAX_KEYWORD_LEN) {
					free(r->folder.slots[j]);
					r->folder.slots[j] = xstrndup(s, k);
				}
				s = u;
			}
			return;
		}
		if (strncmp(s + 2, "UID:", 4) == 0) {
			unsigned long v = 0;

			if (p->uidvalidity == 0 ||
			    (p->nmsgs <= 1 && p->pseudoseen))
				return;
			s += 6;
			while (*s == ' ')
				s++;
			while (*s >= '0' && *s <= '9')
				v = v * 10 + (unsigned long)(*s++ - '0');
			if (rec->uid != 0 || v <= p->prevuid) {
				/* UW: "already has UID" / "less than" */
				p->uidvalidity = 0;
				rec->uid = 0;
				r->folder.uid_reset = true;
				return;
			}
			p->prevuid = rec->uid = v;
			if (v > p->uid_last)
				p->uid_last = v;
			return;
		}
	}
	if (strncmp(s, "Status:", 7) != 0)
		return;
status:
	s += 6;
	do {
		switch (*s++) {
		case 'R':
			rec->flags |= UW_SEEN;
			break;
		case 'O':
			rec->flags |= UW_OLD;
			break;
		case 'D':
			rec->flags |= UW_DELETED;
			break;
		case 'F':
			rec->flags |= UW_FLAGGED;
			break;
		case 'A':
			rec->flags |= UW_ANSWERED;
			break;
		case 'T':
			rec->flags |= UW_DRAFT;
			break;
		default:
			break;
		}
	} while (!at_eol(s));
}

static struct rec *new_rec(struct mmdf_reader *r)
{
	if (r->count == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 64;
		r->recs = xrealloc(r->recs, r->alloc * sizeof(*r->recs));
	}
	memset(&r->recs[r->count], 0, sizeof(r->recs[0]));
	return &r->recs[r->count++];
}

static int bad(struct mmdf_reader *r, long long off, const char *what,
	       struct m2d_error *err)
{
	m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
		      _("%s; c-client would not open this MMDF file"), what);
	m2d_error_at(err, off, 0);
	return -1;
}

/* mmdf_parse over the whole file. */
static int walk(struct mmdf_reader *r, struct m2d_error *err)
{
	struct parse p = { 0, 0, 0, 0, false };
	struct line *l = xmalloc(sizeof(*l));
	int c, rc = -1;

	r->cur = 0;
	while (r->cur < r->st0.st_size) {
		if ((c = byte_at(r, r->cur, err)) < 0)
			goto out;
		if (c != '\n' && c != '\r' && c != ' ' && c != '\t')
			break;
		r->cur++;
	}
	if (get_line(r, l, err) < 0)
		goto out;
	while (l->len > 0) {
		struct rec *rec;
		struct from_line fl;
		bool have_t;
		long long j;

		if (!is_mmdf(l)) {
			/* c-client backs up over a terminator it took */
			if (l->start > 5) {
				r->cur = l->start - 5;
				if (get_line(r, l, err) < 0)
					goto out;
			}
			if (!is_mmdf(l)) {
				bad(r, l->start, _("no MMDF separator where a "
						   "message should start"), err);
				goto out;
			}
		}
		p.nmsgs++;
		rec = new_rec(r);
		if (get_line(r, l, err) < 0)
			goto out;
		have_t = false;
		if (l->len > 5 && l->have == l->len &&
		    strncmp(l->text, "From ", 5) == 0 &&
		    from_line_parse_uw(l->text, l->have - (l->text[l->have -
				       1] == '\n'), &fl) == 1) {
			rec->date = fl.date_ok ? fl.date : 0;
			rec->tz = fl.tz_offset;
			rec->hdr_off = r->cur;
			have_t = true;
		} else {
			rec->date = r->st0.st_mtime;
			rec->tz = 0;
			rec->hdr_off = l->start;
		}
		do {
			j = r->cur;
			if (have_t) {
				if (get_line(r, l, err) < 0)
					goto out;
			}
			have_t = true;
			if (is_mmdf(l)) {
				r->cur = j;
				break;
			}
			if (l->len > 0)
				header_line(r, &p, rec, l->text);
		} while (l->len > 0 && !blank(l));
		if ((p.nmsgs > 1 || !p.pseudoseen) && rec->uid == 0) {
			p.prevuid = rec->uid = ++p.uid_last;
		}
		rec->text_off = r->cur;
		j = r->cur;
		if (l->len > 0) {
			do {
				if (get_line(r, l, err) < 0)
					goto out;
				if (l->len > 0) {
					if (is_mmdf(l))
						break;
					rec->body_size += l->len - l->ncr +
						l->nlf;
					j = r->cur;
				}
			} while (l->len > 0);
		}
		rec->text_end = j;
		if (p.uid_last >= 0xffffffffUL) {
			bad(r, rec->hdr_off, _("no UID left"), err);
			goto out;
		}
		if (l->len > 0 && get_line(r, l, err) < 0)
			goto out;
	}
	if (p.pseudoseen && r->count > 0) {
		memmove(r->recs, r->recs + 1,
			(r->count - 1) * sizeof(r->recs[0]));
		r->count--;
	}
	/* no UIDVALIDITY (none kept, or reset): c-client makes one up */
	if (p.uidvalidity == 0)
		r->folder.uid_reset = true;
	r->folder.uidvalidity = p.uidvalidity;
	r->folder.uidnext = p.uid_last + 1;
	rc = 0;
out:
	free(l);
	return rc;
}

static int keywords_list(struct mmdf_reader *r, struct m2d_error *err)
{
	(void)err;
	uw_folder_set_keywords(&r->folder);
	return 0;
}

int mmdf_reader_open_fd(int fd, const char *path,
			const struct uw_reader_settings *set,
			struct mmdf_reader **reader_r, struct m2d_error *err)
{
	struct mmdf_reader *r;
	unsigned char head[8];
	ssize_t n;

	*reader_r = NULL;
	r = xcalloc(1, sizeof(*r));
	r->path = xstrdup(path);
	r->win = xmalloc(WINDOW);
	r->out = xmalloc(2 * CHUNK);
	r->fd = fd;
	if (set != NULL)
		r->set = *set;
	if (uw_file_open_checks(fd, &r->set, &r->st0, path, err) < 0)
		goto fail;
	/* mmdf_isvalid_fd: "^A^A^A^A\n" first (an empty file is empty) */
	n = pread(fd, head, 5, 0);
	if (r->st0.st_size > 0 &&
	    (n != 5 || memcmp(head, "\1\1\1\1\n", 5) != 0)) {
		m2d_error_set(err, M2D_ERR_NOT_MBOX, path,
			      _("not a folder in MMDF format"));
		goto fail;
	}
	if (walk(r, err) < 0 || keywords_list(r, err) < 0)
		goto fail;
	*reader_r = r;
	return 0;
fail:
	r->fd = -1;
	mmdf_reader_close(&r);
	return -1;
}

int mmdf_reader_open(int dirfd, const char *path,
		     const struct uw_reader_settings *set,
		     struct mmdf_reader **reader_r, struct m2d_error *err)
{
	int fd = sf_open_read(dirfd, path, 0, NULL, path, err);

	*reader_r = NULL;
	if (fd < 0)
		return -1;
	if (mmdf_reader_open_fd(fd, path, set, reader_r, err) < 0) {
		close(fd);
		return -1;
	}
	(*reader_r)->own_fd = true;
	return 0;
}

static int pread_all(struct mmdf_reader *r, void *buf, size_t len,
		     long long off, struct m2d_error *err)
{
	ssize_t n = sf_pread_full(r->fd, buf, len, (off_t)off);

	if (n < 0)
		return sys(r, "read", off, err);
	if ((size_t)n < len)
		return m2d_error_set(err, M2D_ERR_CHANGED, r->path,
				     _("the file shrank while it was read"));
	return 0;
}

static bool filtered(const char *name, size_t n)
{
	static const char *const names[] = { "Status", "X-Status",
		"X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
			return true;
	return false;
}

/* mmdf_header: LF to CRLF (strcrlfcpy), spurious CRs out, then
 * mail_filter(FT_NOT) of UW's fields.  Into r->hdr. */
static int load_header(struct mmdf_reader *r, const struct rec *rec,
		       struct m2d_error *err)
{
	size_t max = DEFAULT_MAX_HEADER, raw_len, i, n = 0, d = 0;
	char *raw, *crlf;

	raw_len = (size_t)(rec->text_off - rec->hdr_off);
	if (raw_len > max) {
		m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
			      _("a header larger than %zu bytes; not "
				"converted"), max);
		m2d_error_at(err, rec->hdr_off, 0);
		return -1;
	}
	raw = xmalloc(raw_len + 1);
	crlf = xmalloc(2 * raw_len + 2);
	if (pread_all(r, raw, raw_len, rec->hdr_off, err) < 0) {
		free(raw);
		free(crlf);
		return -1;
	}
	for (i = 0; i < raw_len; i++) {
		char c = raw[i];

		if (c == '\n')
			crlf[n++] = '\r';
		else if (c == '\r' && i + 1 < raw_len && raw[i + 1] == '\n') {
			crlf[n++] = c;
			c = raw[++i];
		}
		crlf[n++] = c;
	}
	/* CRs not before a LF */
	for (i = 0; i < n; i++)
		if (crlf[i] != '\r' || (i + 1 < n && crlf[i + 1] == '\n'))
			crlf[d++] = crlf[i];
	n = d;
	crlf[n] = '\n';		/* mail_filter's guard */
	/* mail_filter */
	for (i = 0, d = 0; i < n;) {
		size_t s = i, e = i + 1023 < n ? i + 1023 : n, end;
		bool skip;

		while (s < e) {
			unsigned char c = (unsigned char)crlf[s];

			if (c == '\0')
				c = (unsigned char)(crlf[s] = ' ');
			if (c == ':' || (c <= ' ' && (c == ' ' || c == '\t' ||
						       c == '\r' || c == '\n')))
				break;
			s++;
		}
		skip = s > i && filtered(crlf + i, s - i);
		/* the line, and its continuation lines */
		end = i;
		for (;;) {
			while (end < n && crlf[end] != '\n')
				end++;
			end++;		/* past the LF (or the guard) */
			if (end >= n || (crlf[end] != ' ' && crlf[end] != '\t'))
				break;
		}
		if (end > n)
			end = n;
		if (!skip) {
			memmove(crlf + d, crlf + i, end - i);
			d += end - i;
		}
		i = end;
	}
	free(raw);
	r->hdr = crlf;
	r->hdr_len = d;
	r->hdr_pos = 0;
	return 0;
}

int mmdf_reader_next(struct mmdf_reader *r, struct uw_msg *msg,
		     struct m2d_error *err)
{
	struct rec *rec;

	memset(msg, 0, sizeof(*msg));
	free(r->hdr);
	r->hdr = NULL;
	r->hdr_len = r->hdr_pos = 0;
	r->body_pos = r->body_end = 0;
	if (r->next >= r->count)
		return 0;
	rec = &r->recs[r->next];
	if (r->set.max_message > 0 &&
	    (unsigned long long)(rec->text_end - rec->hdr_off) >
	    r->set.max_message) {
		m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
			      _("message %lu is larger than %llu bytes "
				"(max_message_size); not converted"),
			      r->next + 1, r->set.max_message);
		m2d_error_at(err, rec->hdr_off, 0);
		return -1;
	}
	if (load_header(r, rec, err) < 0)
		return -1;
	uw_keywords_str(&r->folder, rec->kw, r->kw, sizeof(r->kw));
	msg->seq = ++r->next;
	msg->uid = rec->uid;
	msg->flags = rec->flags;
	msg->keywords = r->kw;
	msg->date = rec->date;
	msg->tz_offset = rec->tz;
	msg->size = r->hdr_len + rec->body_size;
	msg->offset = rec->hdr_off;
	r->body_pos = rec->text_off;
	r->body_end = rec->text_end;
	return 1;
}

int mmdf_reader_read(struct mmdf_reader *r, const unsigned char **data_r,
		     size_t *len_r, struct m2d_error *err)
{
	unsigned char in[CHUNK];
	size_t want, i, n = 0;

	if (r->hdr_pos < r->hdr_len) {
		*data_r = (const unsigned char *)r->hdr + r->hdr_pos;
		*len_r = r->hdr_len - r->hdr_pos;
		r->hdr_pos = r->hdr_len;
		return 1;
	}
	while (n == 0 && r->body_pos < r->body_end) {
		want = r->body_end - r->body_pos > CHUNK ? CHUNK :
			(size_t)(r->body_end - r->body_pos);
		if (pread_all(r, in, want, r->body_pos, err) < 0)
			return -1;
		r->body_pos += (long long)want;
		for (i = 0; i < want; i++) {
			if (in[i] == '\r')
				continue;
			if (in[i] == '\n')
				r->out[n++] = '\r';
			r->out[n++] = in[i];
		}
	}
	if (n == 0)
		return 0;
	*data_r = r->out;
	*len_r = n;
	return 1;
}

void mmdf_reader_close(struct mmdf_reader **rp)
{
	struct mmdf_reader *r = *rp;

	if (r == NULL)
		return;
	if (r->fd >= 0) {
		flock(r->fd, LOCK_UN);
		if (r->own_fd)
			close(r->fd);
	}
	uw_folder_free(&r->folder);
	free(r->recs);
	free(r->hdr);
	free(r->win);
	free(r->out);
	free(r->path);
	free(r);
	*rp = NULL;
}
