/* SPDX-License-Identifier: MIT */
/*
 * mbox-reader.c - split an mbox into messages the way UW-IMAP does
 *
 * The file is read with large read()s into one fixed buffer; a message is
 * handed out in chunks, so memory does not grow with the file or with a
 * message.  Only a message's header block is kept whole (to strip UW's
 * internal headers), up to max_header bytes.
 *
 * What UW served is what c-client (imap-2007 unix.c) makes of the file,
 * checked against the real library (tests/tools/cclient-dump.c):
 *  - unix_isvalid_fd: blank bytes (CR LF SP TAB, the last a LF) before
 *    the first From_ line are skipped and belong to no message;
 *  - unix_parse: the header runs to its first empty line, which it keeps
 *    (a header-only message is "Subject: t\r\n\r\n"), or to the end of
 *    the file; a From_ line inside it is a header line.  The body runs to
 *    the next From_ line (ending in a LF) or to the end of the file, and
 *    its last line belongs to the mbox when it is empty (the blank line
 *    UW and Postfix add), so an empty body line is held back ("pending")
 *    until we know what follows it;
 *  - unix_header/unix_text_work: every CR not followed by a LF is dropped;
 *    mail_filter() drops UW's fields by name in any case, with their
 *    continuation lines;
 *  - flags, keywords and UIDs are read from the raw lines exactly as
 *    unix_parse reads them (exact case, first line only).
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
#include "xalloc.h"

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
	unsigned int kw_bits;		/* declared keywords of this message */
	char *kw;			/* ... their names, ' '-separated */
	size_t kw_size;

	long long msg_off;		/* the current message's From_ line */
	unsigned long msg_line, msg_seq;

	struct mbox_meta meta;
	/* c-client's user_flags: the declared keywords by position, NULL
	 * where a word was too long */
	char *slots[MBOX_MAX_KEYWORDS];
	bool base_seen;			/* a valid X-IMAP(base) was read */
	/* c-client's prevuid while it reads message 1: the last X-UID it
	 * took there, kept when an X-UID after it resets the UIDVALIDITY */
	unsigned long first_prev;

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
	const unsigned char *p, *nl;
	size_t avail;

	if (r->start >= r->end)
		return false;
	p = r->buf + r->start;
	avail = r->end - r->start;
	if (avail < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	if (avail > FROM_LINE_MAX)
		avail = FROM_LINE_MAX;
	/* c-client's VALID wants the line's LF: a last line without one
	 * (and a NUL in it, from_line_parse) is body text */
	nl = memchr(p, '\n', avail);
	if (nl == NULL)
		return false;
	if (from_line_parse_uw((const char *)p, (size_t)(nl - p), from) != 1)
		return false;
	*len_r = (size_t)(nl - p);
	return true;
}

/* Past max_message: the message is refused with its line. */
static int too_big(struct mbox_reader *r, struct m2d_error *err)
{
	if (r->set.max_message == 0 ||
	    (unsigned long long)(cur_offset(r) - r->msg_off) <=
	    r->set.max_message)
		return 0;
	m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
		      _("message %lu is larger than the limit of %llu bytes "
			"(max_message_size); not converted"),
		      r->msg_seq, r->set.max_message);
	m2d_error_at(err, r->msg_off, r->msg_line);
	return -1;
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

static void hdr_append(struct mbox_reader *r, const unsigned char *data,
		       size_t len)
{
	if (r->hdr_len + len > r->hdr_size) {
		size_t size = r->hdr_size != 0 ? r->hdr_size : 4096;

		while (size < r->hdr_len + len)
			size *= 2;
		r->hdr = xrealloc(r->hdr, size);
		r->hdr_size = size;
	}
	memcpy(r->hdr + r->hdr_len, data, len);
	r->hdr_len += len;
}

/*
 * Collect the header block of the message whose From_ line was just
 * consumed: lines up to and including the first empty line, or to the end
 * of the file (a From_ line is a header line here, as in unix_parse),
 * unless the block grows past max_header (then the rest is handed out as
 * body, unparsed).
 */
static int collect_header(struct mbox_reader *r, struct m2d_error *err)
{
	size_t len;

	r->hdr_len = 0;
	r->hdr_pos = 0;
	for (;;) {
		int elen;

		if (fill(r, 2, err) < 0)
			return -1;
		if (r->start == r->end)
			return 0;	/* end of file */
		if (r->hdr_len >= r->set.max_header)
			return 0;	/* the rest is body */
		if (too_big(r, err) < 0)
			return -1;
		mboxrd_unescape(r);
		elen = empty_line_len(r);
		if (elen > 0) {
			/* the end of the header block, which keeps it */
			hdr_append(r, r->buf + r->start, (size_t)elen);
			r->start += (size_t)elen;
			r->line++;
			return 0;
		}
		/* copy one whole line, however long */
		for (;;) {
			unsigned char *p = r->buf + r->start;
			unsigned char *nl = memchr(p, '\n', r->end - r->start);

			len = nl != NULL ? (size_t)(nl - p) + 1 :
				r->end - r->start;
			hdr_append(r, p, len);
			r->start += len;
			if (nl != NULL) {
				r->line++;
				break;
			}
			if (fill(r, 1, err) < 0)
				return -1;
			if (r->start == r->end)
				return 0;	/* file ends mid-line */
			if (too_big(r, err) < 0)
				return -1;
			if (r->hdr_len >= r->set.max_header) {
				r->at_line_start = false;
				return 0;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* UW's fields, read as unix_parse() reads them                       */

/* Does the raw line P (LEN bytes) start with NAME, exactly? */
static bool line_is(const unsigned char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len >= n && memcmp(p, name, n) == 0;
}

/* The end of a line's content as c-client's loops see it: the LF, a CR
 * before it, or a NUL (which ends a C string). */
static size_t content_len(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\0' ||
		    (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n'))
			break;
	}
	return i;
}

/* Digits as c-client adds them up (an unsigned long; no limit). */
static unsigned long uw_number(const unsigned char **p, const unsigned char *e)
{
	unsigned long v = 0;

	while (*p < e && **p >= '0' && **p <= '9') {
		v = v * 10 + (unsigned long)(**p - '0');
		(*p)++;
	}
	return v;
}

/*
 * The next keyword of an X-IMAP(base) or X-Keywords value: spaces
 * skipped, then up to a space, CR or LF (a tab is part of the word, as in
 * c-client).  A CR that ends no line made c-client loop for ever; it is
 * taken as a separator here.  Returns false at the end.
 */
static bool next_word(const unsigned char **p, const unsigned char *e,
		      const unsigned char **w, size_t *wlen)
{
	while (*p < e && (**p == ' ' || **p == '\r'))
		(*p)++;
	if (*p >= e)
		return false;
	*w = *p;
	while (*p < e && **p != ' ' && **p != '\r' && **p != '\n')
		(*p)++;
	*wlen = (size_t)(*p - *w);
	return true;
}

static bool word_eq_nocase(const char *a, const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char x = (unsigned char)a[i], y = b[i];

		if (x == '\0')
			return false;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return a[len] == '\0';
}

static unsigned int flag_letters(const unsigned char *v, const unsigned char *e)
{
	unsigned int flags = 0;

	for (; v < e; v++) {
		switch (*v) {
		case 'R': flags |= UW_SEEN; break;
		case 'O': flags |= UW_OLD; break;
		case 'D': flags |= UW_DELETED; break;
		case 'F': flags |= UW_FLAGGED; break;
		case 'A': flags |= UW_ANSWERED; break;
		case 'T': flags |= UW_DRAFT; break;
		default: break;
		}
	}
	return flags;
}

/* X-IMAP / X-IMAPbase of message 1: valid when the UIDVALIDITY is not 0
 * and a last UID follows; then the keywords fill c-client's slots. */
static void take_base(struct mbox_reader *r, const unsigned char *v,
		      const unsigned char *e, bool pseudo)
{
	const unsigned char *w;
	unsigned long validity;
	size_t wlen, j;

	while (v < e && *v == ' ')
		v++;
	validity = uw_number(&v, e);
	while (v < e && *v == ' ')
		v++;
	if (validity == 0 || v >= e || *v < '0' || *v > '9')
		return;		/* not UW's: message 1 stays mail */
	r->base_seen = true;
	r->meta.have_base = true;
	r->meta.pseudo = pseudo;
	r->meta.uidvalidity = validity;
	r->meta.uidlast = uw_number(&v, e);
	for (j = 0; j < MBOX_MAX_KEYWORDS && next_word(&v, e, &w, &wlen); j++) {
		free(r->slots[j]);
		r->slots[j] = NULL;
		if (wlen == 0 || wlen > MBOX_MAX_KEYWORD_LEN)
			continue;	/* c-client leaves the slot empty */
		r->slots[j] = xstrndup((const char *)w, wlen);
	}
}

/* The declared keywords as one list, a case duplicate left out. */
static void meta_keywords(struct mbox_reader *r)
{
	size_t size = 1, o = 0, i, k;

	for (i = 0; i < MBOX_MAX_KEYWORDS; i++)
		size += r->slots[i] != NULL ? strlen(r->slots[i]) + 1 : 0;
	free(r->meta.keywords);
	r->meta.keywords = xmalloc(size);
	for (i = 0; i < MBOX_MAX_KEYWORDS; i++) {
		bool dup = false;

		if (r->slots[i] == NULL)
			continue;
		for (k = 0; k < i && !dup; k++)
			dup = r->slots[k] != NULL &&
				word_eq_nocase(r->slots[k],
					       (const unsigned char *)r->slots[i],
					       strlen(r->slots[i]));
		if (dup)
			continue;
		if (o > 0)
			r->meta.keywords[o++] = ' ';
		memcpy(r->meta.keywords + o, r->slots[i], strlen(r->slots[i]));
		o += strlen(r->slots[i]);
	}
	r->meta.keywords[o] = '\0';
}

/* X-Keywords: each word names the first declared keyword equal to it but
 * for case, searched up to the first empty slot; others are ignored. */
static void take_keywords(struct mbox_reader *r, const unsigned char *v,
			  const unsigned char *e)
{
	const unsigned char *w;
	size_t wlen, j;

	while (next_word(&v, e, &w, &wlen)) {
		if (wlen == 0 || wlen > MBOX_MAX_KEYWORD_LEN)
			continue;
		for (j = 0; j < MBOX_MAX_KEYWORDS && r->slots[j] != NULL; j++) {
			if (word_eq_nocase(r->slots[j], w, wlen)) {
				r->kw_bits |= 1u << j;
				break;
			}
		}
	}
}

static void keywords_str(struct mbox_reader *r)
{
	size_t size = 1, o = 0, j;

	for (j = 0; j < MBOX_MAX_KEYWORDS; j++)
		if ((r->kw_bits & (1u << j)) && r->slots[j] != NULL)
			size += strlen(r->slots[j]) + 1;
	if (r->kw_size < size) {
		r->kw = xrealloc(r->kw, size);
		r->kw_size = size;
	}
	for (j = 0; j < MBOX_MAX_KEYWORDS; j++) {
		if (!(r->kw_bits & (1u << j)) || r->slots[j] == NULL)
			continue;
		if (o > 0)
			r->kw[o++] = ' ';
		memcpy(r->kw + o, r->slots[j], strlen(r->slots[j]));
		o += strlen(r->slots[j]);
	}
	r->kw[o] = '\0';
}

/*
 * Read UW's fields from the raw header lines of the current message
 * (FIRST: message 1 of the file), in order, as unix_parse does: exact
 * names at the start of a line, the first line of each only.
 */
static void parse_uw_fields(struct mbox_reader *r, bool first,
			    struct mbox_msg *msg)
{
	const unsigned char *h = r->hdr, *end;
	bool pseudo = false;

	r->kw_bits = 0;
	if (h == NULL)
		return;
	end = h + r->hdr_len;
	while (h < end) {
		const unsigned char *nl = memchr(h, '\n', (size_t)(end - h));
		size_t len = nl != NULL ? (size_t)(nl - h) + 1 : (size_t)(end - h);
		const unsigned char *ve = h + content_len(h, len);

		if (line_is(h, len, "Status:")) {
			msg->flags |= flag_letters(h + 7, ve);
		} else if (line_is(h, len, "X-Status:")) {
			msg->flags |= flag_letters(h + 9, ve);
		} else if (line_is(h, len, "X-Keywords:")) {
			msg->has_uw_data = true;
			take_keywords(r, h + 11, ve);
		} else if (line_is(h, len, "X-IMAP:") ||
			   line_is(h, len, "X-IMAPbase:")) {
			bool imap = h[6] == ':';

			if (first && !r->base_seen) {
				take_base(r, h + (imap ? 7 : 11), ve, imap);
				pseudo = r->meta.pseudo;
			}
		} else if (line_is(h, len, "X-UID:")) {
			const unsigned char *v = h + 6;

			msg->has_uw_data = true;
			/* believed only after UW's data, and not in the
			 * pseudo-message; a continuation's are UW's own */
			if (first && r->base_seen && !pseudo) {
				unsigned long uid;

				while (v < ve && *v == ' ')
					v++;
				uid = uw_number(&v, ve);
				if (msg->uid_count > 0 || uid <= r->first_prev) {
					/* "already has UID" or "less than":
					 * c-client drops the UIDVALIDITY
					 * right here (and this message's
					 * UID, not its prevuid): a later
					 * X-IMAP(base) in message 1 is read
					 * afresh, a later X-UID compared
					 * with the one it took before */
					r->base_seen = false;
					r->meta.have_base = false;
					r->meta.pseudo = false;
					msg->uid_count = 0;
					msg->uid = 0;
				} else {
					msg->uid_count = 1;
					msg->uid = uid;
					r->first_prev = uid;
				}
			} else if ((r->base_seen || r->set.continuation) &&
				   !pseudo) {
				/* later messages: uw_uids_next() decides */
				while (v < ve && *v == ' ')
					v++;
				if (msg->uid_count++ == 0)
					msg->uid = uw_number(&v, ve);
			}
		}
		h += len;
	}
}

/* c-client's mail_filter() name of the field at P: up to ':', a space, a
 * tab, CR or LF; a NUL there ends it and is served as a space. */
static size_t field_name(unsigned char *p, size_t len)
{
	size_t i, max = len < 1023 ? len : 1023;

	for (i = 0; i < max; i++) {
		if (p[i] == '\0') {
			p[i] = ' ';
			break;
		}
		if (p[i] == ':' || p[i] == ' ' || p[i] == '\t' ||
		    p[i] == '\r' || p[i] == '\n')
			break;
	}
	return i;
}

static bool is_uw_field(const unsigned char *p, size_t len)
{
	static const char *const names[] = {
		"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP",
		"X-IMAPbase",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == len && word_eq_nocase(names[i], p, len))
			return true;
	}
	return false;
}

/*
 * The header as UW served it: every CR not followed by a LF dropped, then
 * UW's fields (any case) removed with their continuation lines; every
 * other byte kept in place.
 */
static void filter_header(struct mbox_reader *r)
{
	unsigned char *h = r->hdr;
	size_t i, o = 0, n = r->hdr_len;
	bool dropping = false;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (h[i] != '\r' || (i + 1 < n && h[i + 1] == '\n'))
			h[o++] = h[i];
	}
	n = o;
	i = o = 0;
	while (i < n) {
		const unsigned char *nl = memchr(h + i, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - (h + i)) + 1 : n - i;

		if (!(dropping && (h[i] == ' ' || h[i] == '\t'))) {
			size_t nlen = field_name(h + i, len);

			dropping = nlen > 0 && is_uw_field(h + i, nlen);
		}
		if (!dropping) {
			memmove(h + o, h + i, len);
			o += len;
		}
		i += len;
	}
	r->hdr_len = o;
}

int mbox_head_check(const void *buf, size_t n, size_t *skip_r)
{
	const unsigned char *p = buf, *nl;
	struct from_line from;
	unsigned char c = '\n';
	size_t i = 0;

	*skip_r = 0;
	if (n == 0)
		return 0;
	if (n > MBOX_HEAD_MAX)
		n = MBOX_HEAD_MAX;	/* c-client reads no more */
	while (i < n && (p[i] == '\r' || p[i] == '\n' || p[i] == ' ' ||
			 p[i] == '\t'))
		c = p[i++];
	if (c != '\n' || n - i < 5 || memcmp(p + i, "From ", 5) != 0)
		return -1;
	nl = memchr(p + i, '\n', n - i);
	if (nl == NULL ||
	    from_line_parse_uw((const char *)p + i, (size_t)(nl - (p + i)),
			    &from) != 1)
		return -1;
	*skip_r = i;
	return 1;
}

/*
 * A file with holes: its size is not what it holds, and each hole would
 * become real bytes in the target (written by root, past quotas).  A hole
 * found by SEEK_HOLE before the end, or (where SEEK_HOLE cannot tell)
 * far fewer blocks than the size.
 */
static bool is_sparse(int fd, const struct stat *st)
{
	off_t here = lseek(fd, 0, SEEK_CUR), hole;

	if (st->st_size == 0)
		return false;
	hole = lseek(fd, 0, SEEK_HOLE);
	if (here >= 0)
		(void)lseek(fd, here, SEEK_SET);
	if (hole >= 0)
		return hole < st->st_size;
	return st->st_size > 1024 * 1024 &&
		(long long)st->st_blocks * 512 < (long long)st->st_size / 8;
}

int mbox_reader_open_fd(int fd, const char *path,
			const struct mbox_reader_settings *set,
			struct mbox_reader **reader_r, struct m2d_error *err)
{
	struct mbox_reader *r;
	size_t skip;
	int rc;

	*reader_r = NULL;
	r = xcalloc(1, sizeof(*r));
	r->buf = xmalloc(READ_BUF_SIZE);
	r->path = xstrdup(path);
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
	if (!r->set.allow_sparse && is_sparse(fd, &r->st0)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("is a sparse file (%lld bytes, %lld of them "
				"on disk): its holes would become real bytes "
				"in the target; not read"),
			      (long long)r->st0.st_size,
			      (long long)r->st0.st_blocks * 512);
		goto fail;
	}
	r->read_off = lseek(fd, 0, SEEK_CUR);
	if (r->read_off < 0)
		r->read_off = 0;
	r->buf_off = r->read_off;
	if (fill(r, FROM_LINE_MAX, err) < 0)
		goto fail;
	rc = mbox_head_check(r->buf, r->end - r->start, &skip);
	if (rc == 0) {
		r->state = STATE_EOF;	/* an empty mbox */
	} else if (rc < 0) {
		m2d_error_set(err, M2D_ERR_NOT_MBOX, path,
			      _("not an mbox: the file does not begin with a "
				"valid \"From \" line (UW-IMAP would not open "
				"it as a mailbox either)"));
		m2d_error_at(err, r->buf_off, 1);
		goto fail;
	} else {
		/* blank bytes before the first From_ line: skipped, as
		 * c-client skips them, and in no message */
		for (size_t i = 0; i < skip; i++)
			if (r->buf[i] == '\n')
				r->line++;
		r->start = skip;
	}
	*reader_r = r;
	return 0;
fail:
	free(r->buf);
	free(r->path);
	free(r);
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

/* Drop every CR not followed by a LF from the LEN bytes at P (consumed
 * bytes of the buffer: the checksum has them already).  The caller makes
 * sure a CR at the end is the file's last byte or is not handed out. */
static size_t squeeze_cr(unsigned char *p, size_t len)
{
	unsigned char *cr = memchr(p, '\r', len);
	size_t i, o;

	if (cr == NULL)
		return len;
	o = (size_t)(cr - p);
	for (i = o; i < len; i++) {
		if (p[i] != '\r' || (i + 1 < len && p[i + 1] == '\n'))
			p[o++] = p[i];
	}
	return o;
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

		if (too_big(r, err) < 0)
			return -1;
		if (!r->at_line_start) {
			/* the rest of a line longer than the buffer */
			if (fill(r, 2, err) < 0)
				return -1;
			if (r->start == r->end)
				goto msg_end;
			p = r->buf + r->start;
			nl = memchr(p, '\n', r->end - r->start);
			len = nl != NULL ? (size_t)(nl - p) + 1 :
				r->end - r->start;
			/* a CR last: its LF may be in the next read */
			if (nl == NULL && !r->eof && len > 1 &&
			    p[len - 1] == '\r')
				len--;
			r->start += len;
			if (nl != NULL) {
				r->line++;
				r->at_line_start = true;
			}
			len = squeeze_cr(p, len);
			if (len == 0)
				continue;
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
			/* fill() may have moved the bytes (a P kept from
			 * before would point past Q: an overflow) */
			p = r->buf + r->start;
			q = r->buf + r->end;
			r->at_line_start = r->eof;	/* last line */
			/* a CR last: its LF may be in the next read */
			if (!r->eof && q - p > 1 && q[-1] == '\r')
				q--;
			break;
		}
		r->start += (size_t)(q - p);
		len = squeeze_cr(p, (size_t)(q - p));
		if (len == 0)
			continue;
		*data_r = p;
		*len_r = len;
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
		struct from_line from;
		size_t len;
		bool first;
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
		msg->offset = r->msg_off = cur_offset(r);
		msg->line = r->msg_line = r->line;
		r->msg_seq = r->seq + 1;
		memcpy(r->from, r->buf + r->start, len);
		from.sender = r->from + (from.sender - (const char *)(r->buf + r->start));
		msg->from = from;
		r->start += len + 1;	/* and its '\n' */
		r->line++;
		r->pending = 0;
		r->at_line_start = true;

		if (collect_header(r, err) < 0)
			return -1;
		first = !r->first_done;
		r->first_done = true;
		parse_uw_fields(r, first, msg);
		keywords_str(r);
		filter_header(r);
		r->state = STATE_HEADER;
		/* c-client's keywords outlive an X-UID reset of message 1
		 * (its user_flags stay): declared, with or without have_base */
		if (first)
			meta_keywords(r);
		if (first && r->meta.pseudo) {
			/* the folder-internal pseudo-message */
			r->meta.uid_prev = r->first_prev;
			continue;
		}
		msg->seq = ++r->seq;
		msg->keywords = r->kw;
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
	for (size_t i = 0; i < MBOX_MAX_KEYWORDS; i++)
		free(r->slots[i]);
	free(r->path);
	free(r);
}
