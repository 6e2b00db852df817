/*
 * mbox-reader.c - split an mbox into messages the way UW-IMAP does
 *
 * The file is read with large read()s into one fixed buffer; a message is
 * handed out in chunks, so memory does not grow with the file or with a
 * message.  Only a message's header block is kept whole (to strip UW's
 * internal headers), up to max_header bytes.
 *
 * Where a message ends: at the next valid From_ line or at the end of the
 * file.  The line just before that boundary belongs to the mbox, not to
 * the message, when it is empty (the blank line UW and Postfix add); a
 * message that ends without one keeps its own last line as it is.  So an
 * empty line is held back ("pending") until we know what follows it.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox-reader.h"
#include "hash.h"
#include "i18n.h"

#define READ_BUF_SIZE (1024 * 1024)
/* The longest line we accept as a From_ line. */
#define FROM_LINE_MAX 4096
#define DEFAULT_MAX_HEADER (8 * 1024 * 1024)

enum reader_state {
	STATE_BETWEEN,		/* at a From_ line or at the end */
	STATE_HEADER,		/* handing out the header block */
	STATE_BODY,		/* handing out the body */
	STATE_MSG_END,		/* message complete, at a From_ line or end */
	STATE_EOF,		/* nothing more */
};

struct mbox_reader {
	int fd;
	bool own_fd;
	char *path;
	struct mbox_reader_settings set;
	struct stat st0;		/* the file when we opened it */

	unsigned char *buf;		/* [start, end) are unread bytes */
	size_t start, end;
	long long buf_off;		/* file offset of buf[0] */
	long long read_off;		/* file offset of buf[end] */
	bool eof;
	unsigned long line;		/* line number at buf[start] */
	bool at_line_start;
	int pending;			/* held-back empty line: 0, 1, 2 */

	enum reader_state state;
	bool first_done;
	unsigned long seq;

	unsigned char *hdr;		/* the header block, UW fields out */
	size_t hdr_len, hdr_size, hdr_pos;

	char from[FROM_LINE_MAX];	/* copy of the current From_ line */
	char *kw;			/* X-Keywords of the current message */
	size_t kw_size;

	struct mbox_meta meta;

	struct m2d_hash hash;		/* of every byte read, in order */
};

uint64_t mbox_reader_checksum(const struct mbox_reader *r)
{
	return m2d_hash_final(&r->hash);
}

const struct stat *mbox_reader_stat(const struct mbox_reader *r)
{
	return &r->st0;
}

static const unsigned char pending_bytes[] = "\r\n";

static int fill(struct mbox_reader *r, size_t need, struct m2d_error *err)
{
	if (r->end - r->start >= need || r->eof)
		return 0;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->buf_off += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	while (r->end - r->start < need && !r->eof && r->end < READ_BUF_SIZE) {
		long long left = (long long)r->st0.st_size - r->read_off;
		size_t want = READ_BUF_SIZE - r->end;
		ssize_t n;

		if (left <= 0) {
			r->eof = true;
			break;
		}
		if ((long long)want > left)
			want = (size_t)left;
		n = read(r->fd, r->buf + r->end, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			m2d_error_sys(err, "read", r->path);
			m2d_error_at(err, r->read_off, r->line);
			return -1;
		}
		if (n == 0) {
			/* shorter than at open: noticed by the end check */
			r->eof = true;
			break;
		}
		m2d_hash_update(&r->hash, r->buf + r->end, (size_t)n);
		r->end += (size_t)n;
		r->read_off += n;
	}
	return 0;
}

static long long cur_offset(const struct mbox_reader *r)
{
	return r->buf_off + (long long)r->start;
}

/* Length of the empty line at buf[start] (1 or 2), or 0. */
static int empty_line_len(const struct mbox_reader *r)
{
	const unsigned char *p = r->buf + r->start;
	size_t avail = r->end - r->start;

	if (avail >= 1 && p[0] == '\n')
		return 1;
	if (avail >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

/*
 * Is the line at buf[start] a valid From_ line?  Needs FROM_LINE_MAX bytes
 * of look-ahead (fill() first).  Sets *len_r to the line length without
 * its "\n".
 */
static bool at_separator(const struct mbox_reader *r, struct from_line *from,
			 size_t *len_r)
{
	const unsigned char *p = r->buf + r->start;
	size_t avail = r->end - r->start;
	const unsigned char *nl;
	size_t len;

	if (avail < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	if (avail > FROM_LINE_MAX)
		avail = FROM_LINE_MAX;
	nl = memchr(p, '\n', avail);
	if (nl != NULL)
		len = (size_t)(nl - p);
	else if (r->eof && r->end - r->start < FROM_LINE_MAX)
		len = avail;		/* last line of the file */
	else
		return false;
	if (from_line_parse((const char *)p, len, from) != 1)
		return false;
	*len_r = len;
	return true;
}

/* A ">From " line in mboxrd: drop one '>' (we are at a line start). */
static void mboxrd_unescape(struct mbox_reader *r)
{
	const unsigned char *p = r->buf + r->start;
	size_t avail = r->end - r->start, i = 0;

	if (!r->set.mboxrd)
		return;
	while (i < avail && p[i] == '>')
		i++;
	if (i > 0 && avail - i >= 5 && memcmp(p + i, "From ", 5) == 0)
		r->start++;
}

static int hdr_append(struct mbox_reader *r, const unsigned char *data,
		      size_t len, struct m2d_error *err)
{
	if (r->hdr_len + len > r->hdr_size) {
		size_t size = r->hdr_size != 0 ? r->hdr_size : 4096;
		unsigned char *n;

		while (size < r->hdr_len + len)
			size *= 2;
		n = realloc(r->hdr, size);
		if (n == NULL) {
			errno = ENOMEM;
			return m2d_error_sys(err, "realloc", r->path);
		}
		r->hdr = n;
		r->hdr_size = size;
	}
	memcpy(r->hdr + r->hdr_len, data, len);
	r->hdr_len += len;
	return 0;
}

/*
 * Collect the header block of the message whose From_ line was just
 * consumed: lines up to and including the first empty line, unless the
 * message ends first or the block grows past max_header (then the rest is
 * handed out as body, unparsed).
 */
static int collect_header(struct mbox_reader *r, bool *msg_end_r,
			  struct m2d_error *err)
{
	struct from_line from;
	size_t len;

	r->hdr_len = 0;
	r->hdr_pos = 0;
	*msg_end_r = false;
	for (;;) {
		int elen;

		if (fill(r, FROM_LINE_MAX, err) < 0)
			return -1;
		if (r->start == r->end || at_separator(r, &from, &len)) {
			*msg_end_r = true;
			return 0;
		}
		if (r->hdr_len >= r->set.max_header)
			return 0;	/* the rest is body */
		mboxrd_unescape(r);
		elen = empty_line_len(r);
		if (elen > 0) {
			/* end of the header block: the empty line waits */
			r->start += (size_t)elen;
			r->line++;
			r->pending = elen;
			return 0;
		}
		/* copy one whole line, however long */
		for (;;) {
			unsigned char *p = r->buf + r->start;
			unsigned char *nl = memchr(p, '\n', r->end - r->start);

			len = nl != NULL ? (size_t)(nl - p) + 1 :
				r->end - r->start;
			if (hdr_append(r, p, len, err) < 0)
				return -1;
			r->start += len;
			if (nl != NULL) {
				r->line++;
				break;
			}
			if (fill(r, 1, err) < 0)
				return -1;
			if (r->start == r->end) {
				*msg_end_r = true;	/* file ends mid-line */
				return 0;
			}
			if (r->hdr_len >= r->set.max_header) {
				r->at_line_start = false;
				return 0;
			}
		}
	}
}

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy VALUE (LEN bytes, possibly folded) into *dst as ' '-separated words. */
static int words_copy(const unsigned char *value, size_t len, char **dst,
		      size_t *dst_size, struct mbox_reader *r,
		      struct m2d_error *err)
{
	size_t i, o = 0;

	if (*dst_size < len + 1) {
		char *n = realloc(*dst, len + 1);

		if (n == NULL) {
			errno = ENOMEM;
			return m2d_error_sys(err, "realloc", r->path);
		}
		*dst = n;
		*dst_size = len + 1;
	}
	for (i = 0; i < len; i++) {
		if (is_wsp(value[i])) {
			if (o > 0 && (*dst)[o - 1] != ' ')
				(*dst)[o++] = ' ';
		} else {
			(*dst)[o++] = (char)value[i];
		}
	}
	if (o > 0 && (*dst)[o - 1] == ' ')
		o--;
	(*dst)[o] = '\0';
	return 0;
}

/* A decimal number of at most 10 digits at *p; 0 when none. */
static unsigned long parse_ulong(const unsigned char **p, const unsigned char *e)
{
	unsigned long v = 0;
	int digits = 0;

	while (*p < e && is_wsp(**p))
		(*p)++;
	while (*p < e && **p >= '0' && **p <= '9' && digits < 10) {
		v = v * 10 + (unsigned long)(**p - '0');
		(*p)++;
		digits++;
	}
	if (*p < e && **p >= '0' && **p <= '9')
		return 0;		/* too long to be a UID */
	return v;
}

enum uw_header {
	UWH_NONE, UWH_STATUS, UWH_XSTATUS, UWH_KEYWORDS, UWH_UID, UWH_IMAP,
	UWH_IMAPBASE, UWH_CLEN,
};

static enum uw_header uw_header_of(const unsigned char *p, size_t len)
{
	static const struct {
		const char *name;
		enum uw_header h;
	} names[] = {
		{ "Status:", UWH_STATUS },
		{ "X-Status:", UWH_XSTATUS },
		{ "X-Keywords:", UWH_KEYWORDS },
		{ "X-UID:", UWH_UID },
		{ "X-IMAP:", UWH_IMAP },
		{ "X-IMAPbase:", UWH_IMAPBASE },
		{ "Content-Length:", UWH_CLEN },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);

		if (len >= n && memcmp(p, names[i].name, n) == 0)
			return names[i].h;
	}
	return UWH_NONE;
}

struct header_facts {
	unsigned int flags;
	unsigned long uid;
	bool imap, imapbase;
	unsigned long uidvalidity, uidlast;
	const unsigned char *base_kw;	/* X-IMAP(base) keywords */
	size_t base_kw_len;
};

/*
 * Parse UW's fields out of the header block and remove them (and
 * Content-Length) from it, keeping every other byte in place.
 */
static int strip_uw_headers(struct mbox_reader *r, struct header_facts *f,
			    struct m2d_error *err)
{
	unsigned char *h = r->hdr;
	size_t i = 0, o = 0, n = r->hdr_len;
	bool saw_kw = false;

	memset(f, 0, sizeof(*f));
	while (i < n) {
		/* one field: a line and its continuation lines */
		size_t fs = i, fe, vs;
		enum uw_header which;
		const unsigned char *nl;

		do {
			nl = memchr(h + i, '\n', n - i);
			i = nl != NULL ? (size_t)(nl - h) + 1 : n;
		} while (i < n && (h[i] == ' ' || h[i] == '\t'));
		fe = i;
		which = uw_header_of(h + fs, fe - fs);
		if (which == UWH_NONE) {
			memmove(h + o, h + fs, fe - fs);
			o += fe - fs;
			continue;
		}
		vs = (size_t)((const unsigned char *)memchr(h + fs, ':', fe - fs) - h) + 1;
		const unsigned char *v = h + vs, *ve = h + fe;

		switch (which) {
		case UWH_STATUS:
			for (; v < ve; v++) {
				if (*v == 'R')
					f->flags |= UW_SEEN;
				else if (*v == 'O')
					f->flags |= UW_OLD;
			}
			break;
		case UWH_XSTATUS:
			for (; v < ve; v++) {
				if (*v == 'A')
					f->flags |= UW_ANSWERED;
				else if (*v == 'F')
					f->flags |= UW_FLAGGED;
				else if (*v == 'T')
					f->flags |= UW_DRAFT;
				else if (*v == 'D')
					f->flags |= UW_DELETED;
			}
			break;
		case UWH_KEYWORDS:
			if (!saw_kw && words_copy(v, (size_t)(ve - v), &r->kw,
						  &r->kw_size, r, err) < 0)
				return -1;
			saw_kw = true;
			break;
		case UWH_UID:
			f->uid = parse_ulong(&v, ve);
			while (v < ve && is_wsp(*v))
				v++;
			if (v != ve)
				f->uid = 0;	/* not a plain number */
			break;
		case UWH_IMAP:
		case UWH_IMAPBASE:
			if (which == UWH_IMAP)
				f->imap = true;
			else
				f->imapbase = true;
			f->uidvalidity = parse_ulong(&v, ve);
			f->uidlast = parse_ulong(&v, ve);
			f->base_kw = v;
			f->base_kw_len = (size_t)(ve - v);
			break;
		case UWH_CLEN:
		case UWH_NONE:
			break;
		}
	}
	if (!saw_kw && r->kw != NULL)
		r->kw[0] = '\0';
	r->hdr_len = o;
	return 0;
}

static int take_meta(struct mbox_reader *r, const struct header_facts *f,
		     struct m2d_error *err)
{
	size_t size = 0;

	r->meta.have_base = true;
	r->meta.pseudo = f->imap;
	r->meta.uidvalidity = f->uidvalidity;
	r->meta.uidlast = f->uidlast;
	return words_copy(f->base_kw, f->base_kw_len, &r->meta.keywords, &size,
			  r, err);
}

int mbox_reader_open_fd(int fd, const char *path,
			const struct mbox_reader_settings *set,
			struct mbox_reader **reader_r, struct m2d_error *err)
{
	struct mbox_reader *r;
	struct from_line from;
	size_t len;

	*reader_r = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->buf = malloc(READ_BUF_SIZE)) == NULL ||
	    (r->path = strdup(path)) == NULL) {
		errno = ENOMEM;
		m2d_error_sys(err, "malloc", path);
		goto fail;
	}
	r->fd = fd;
	if (set != NULL)
		r->set = *set;
	if (r->set.max_header == 0)
		r->set.max_header = DEFAULT_MAX_HEADER;
	r->line = 1;
	r->at_line_start = true;
	m2d_hash_init(&r->hash);
	if (r->set.continuation) {
		r->first_done = true;
		r->seq = r->set.seq_base;
		if (r->set.hash_start != NULL)
			r->hash = *r->set.hash_start;
	}
	if (fstat(fd, &r->st0) < 0) {
		m2d_error_sys(err, "fstat", path);
		goto fail;
	}
	if (!S_ISREG(r->st0.st_mode)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("not a regular file"));
		goto fail;
	}
	r->read_off = lseek(fd, 0, SEEK_CUR);
	if (r->read_off < 0)
		r->read_off = 0;
	r->buf_off = r->read_off;
	if (fill(r, FROM_LINE_MAX, err) < 0)
		goto fail;
	if (r->start == r->end) {
		r->state = STATE_EOF;	/* an empty mbox */
	} else if (!at_separator(r, &from, &len)) {
		m2d_error_set(err, M2D_ERR_NOT_MBOX, path,
			      _("not an mbox: the first line is not a valid "
				"\"From \" line"));
		m2d_error_at(err, 0, 1);
		goto fail;
	}
	*reader_r = r;
	return 0;
fail:
	if (r != NULL) {
		free(r->buf);
		free(r->path);
		free(r);
	}
	return -1;
}

int mbox_reader_open(int dirfd, const char *path,
		     const struct mbox_reader_settings *set,
		     struct mbox_reader **reader_r, struct m2d_error *err)
{
	int fd;

	*reader_r = NULL;
	fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
		    O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return m2d_error_set(err, M2D_ERR_UNSAFE, path,
					     _("is a symbolic link; not "
					       "followed"));
		return m2d_error_sys(err, "open", path);
	}
	if (mbox_reader_open_fd(fd, path, set, reader_r, err) < 0) {
		close(fd);
		return -1;
	}
	(*reader_r)->own_fd = true;
	return 0;
}

const struct mbox_meta *mbox_reader_meta(const struct mbox_reader *reader)
{
	return &reader->meta;
}

long long mbox_reader_offset(const struct mbox_reader *reader)
{
	return cur_offset(reader);
}

long long mbox_reader_size(const struct mbox_reader *reader)
{
	return (long long)reader->st0.st_size;
}

/* The body: everything after the header block, in the largest spans. */
static int read_body(struct mbox_reader *r, const unsigned char **data_r,
		     size_t *len_r, struct m2d_error *err)
{
	struct from_line from;
	size_t len;

	for (;;) {
		unsigned char *p, *q, *nl;
		int elen;

		if (!r->at_line_start) {
			/* the rest of a line longer than the buffer */
			if (r->start == r->end) {
				if (fill(r, 1, err) < 0)
					return -1;
				if (r->start == r->end)
					goto msg_end;
			}
			p = r->buf + r->start;
			nl = memchr(p, '\n', r->end - r->start);
			len = nl != NULL ? (size_t)(nl - p) + 1 :
				r->end - r->start;
			r->start += len;
			if (nl != NULL) {
				r->line++;
				r->at_line_start = true;
			}
			*data_r = p;
			*len_r = len;
			return 1;
		}
		if (fill(r, FROM_LINE_MAX, err) < 0)
			return -1;
		if (r->start == r->end || at_separator(r, &from, &len))
			goto msg_end;
		elen = empty_line_len(r);
		if (elen > 0) {
			int prev = r->pending;

			r->start += (size_t)elen;
			r->line++;
			r->pending = elen;
			if (prev > 0) {
				*data_r = pending_bytes + 2 - prev;
				*len_r = (size_t)prev;
				return 1;
			}
			continue;
		}
		if (r->pending > 0) {
			*data_r = pending_bytes + 2 - r->pending;
			*len_r = (size_t)r->pending;
			r->pending = 0;
			return 1;
		}
		mboxrd_unescape(r);
		/* a span of whole lines, up to the next line that may be
		 * special (a From_ line, an empty line, a quoted From) */
		for (;;) {
			p = q = r->buf + r->start;
			while ((nl = memchr(q, '\n', (size_t)(r->buf + r->end - q))) != NULL) {
				q = nl + 1;
				r->line++;
				if (q == r->buf + r->end || *q == 'F' ||
				    *q == '\n' || *q == '\r' || *q == '>')
					break;
			}
			if (q != p)
				break;
			/* no newline in what we have: read more, or hand
			 * out a piece of a very long line */
			if (!r->eof && r->end - r->start < READ_BUF_SIZE) {
				size_t have = r->end - r->start;

				if (fill(r, have + 1, err) < 0)
					return -1;
				if (r->end - r->start > have)
					continue;
			}
			q = r->buf + r->end;
			r->at_line_start = r->eof;	/* last line */
			break;
		}
		r->start += (size_t)(q - p);
		*data_r = p;
		*len_r = (size_t)(q - p);
		return 1;
	}
msg_end:
	r->pending = 0;		/* the mbox's blank line, not the message's */
	r->state = STATE_MSG_END;
	return 0;
}

int mbox_reader_read(struct mbox_reader *r, const unsigned char **data_r,
		     size_t *len_r, struct m2d_error *err)
{
	switch (r->state) {
	case STATE_HEADER:
		if (r->hdr_pos < r->hdr_len) {
			*data_r = r->hdr + r->hdr_pos;
			*len_r = r->hdr_len - r->hdr_pos;
			r->hdr_pos = r->hdr_len;
			return 1;
		}
		r->state = STATE_BODY;
		/* fall through */
	case STATE_BODY:
		return read_body(r, data_r, len_r, err);
	case STATE_BETWEEN:
	case STATE_MSG_END:
	case STATE_EOF:
		break;
	}
	return 0;
}

static int end_check(struct mbox_reader *r, struct m2d_error *err)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0)
		return m2d_error_sys(err, "fstat", r->path);
	if (st.st_size != r->st0.st_size ||
	    st.st_mtim.tv_sec != r->st0.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != r->st0.st_mtim.tv_nsec ||
	    r->read_off != (long long)r->st0.st_size) {
		m2d_error_set(err, M2D_ERR_CHANGED, r->path,
			      _("the file changed while it was read (size "
				"%lld, now %lld); try again when it is not "
				"being written"),
			      (long long)r->st0.st_size,
			      (long long)st.st_size);
		return -1;
	}
	return 0;
}

static void drain(struct mbox_reader *r, struct m2d_error *err, int *ret)
{
	const unsigned char *d;
	size_t l;
	int rc;

	while ((rc = mbox_reader_read(r, &d, &l, err)) > 0)
		;
	*ret = rc;
}

int mbox_reader_next(struct mbox_reader *r, struct mbox_msg *msg,
		     struct m2d_error *err)
{
	for (;;) {
		struct header_facts f;
		struct from_line from;
		size_t len;
		bool msg_end;
		int rc;

		if (r->state == STATE_EOF)
			return 0;
		if (r->state == STATE_HEADER || r->state == STATE_BODY) {
			drain(r, err, &rc);
			if (rc < 0)
				return -1;
		}
		if (fill(r, FROM_LINE_MAX, err) < 0)
			return -1;
		if (r->start == r->end) {
			r->state = STATE_EOF;
			return end_check(r, err) < 0 ? -1 : 0;
		}
		if (!at_separator(r, &from, &len)) {
			/* cannot happen: we stop only at separators */
			m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
				      _("lost the message boundary"));
			m2d_error_at(err, cur_offset(r), r->line);
			return -1;
		}
		memset(msg, 0, sizeof(*msg));
		msg->offset = cur_offset(r);
		msg->line = r->line;
		memcpy(r->from, r->buf + r->start, len);
		from.sender = r->from + (from.sender - (const char *)(r->buf + r->start));
		msg->from = from;
		r->start += len;
		if (r->start < r->end)
			r->start++;	/* the '\n' */
		r->line++;
		r->pending = 0;
		r->at_line_start = true;

		if (collect_header(r, &msg_end, err) < 0)
			return -1;
		if (strip_uw_headers(r, &f, err) < 0)
			return -1;
		r->state = STATE_HEADER;
		if (msg_end) {
			r->pending = 0;
			r->hdr_pos = 0;
		}
		if (!r->first_done) {
			r->first_done = true;
			if (f.imap || f.imapbase) {
				if (take_meta(r, &f, err) < 0)
					return -1;
			}
			if (f.imap) {
				/* the folder-internal pseudo-message */
				continue;
			}
		}
		msg->seq = ++r->seq;
		msg->flags = f.flags;
		msg->uid = f.uid;
		msg->keywords = r->kw != NULL ? r->kw : "";
		return 1;
	}
}

void mbox_reader_close(struct mbox_reader **reader)
{
	struct mbox_reader *r = *reader;

	if (r == NULL)
		return;
	*reader = NULL;
	if (r->own_fd)
		close(r->fd);
	free(r->buf);
	free(r->hdr);
	free(r->kw);
	free(r->meta.keywords);
	free(r->path);
	free(r);
}
