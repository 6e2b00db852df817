/* SPDX-License-Identifier: MIT */
/*
 * mix-reader.c - UW's mix format as c-client reads it (mix-reader.h)
 *
 * Follows imap-2007 mix.c: mix_open (flock LOCK_SH on .mixmeta),
 * mix_meta_slurp and mix_parse (the metadata, index and status records,
 * mix_read_record / mix_read_sequence), mix_header / mix_text (the bytes
 * served).  The index and the status are read whole at open, under
 * their shared flocks, as c-client does, into one array of messages
 * (about 64 bytes each); the messages' bytes are read from the data files
 * when they are handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mix-reader.h"
#include "i18n.h"
#include "safe-file.h"
#include "xalloc.h"

#define METAMAX (1024 * 1024 - 1)
#define RECORD_MAX 65533		/* fgets(buf, CHUNKSIZE - 2) */


struct mix_msg {
	unsigned long uid, size, file, pos, hpos, hsiz;
	unsigned long uf, mod;
	unsigned int sf;
	bool valid;			/* a status record was taken */
	time_t date;
	int tz;
};

struct mix_reader {
	int dfd, mfd;
	char *path;
	struct uw_reader_settings set;
	struct uw_folder folder;

	struct mix_msg *msgs;
	unsigned long count, alloc, next;

	/* the current message */
	int datafd;
	unsigned long datafile;
	struct uw_body body;
	char kw[MBOX_MAX_KEYWORDS * (MBOX_MAX_KEYWORD_LEN + 1) + 1];
};

const struct uw_folder *mix_reader_folder(const struct mix_reader *r)
{
	return &r->folder;
}

unsigned long mix_reader_count(const struct mix_reader *r)
{
	return r->count;
}

static bool isx(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		(c >= 'A' && c <= 'F');
}

static bool isd(char c)
{
	return c >= '0' && c <= '9';
}

static int bad(struct mix_reader *r, const char *file, unsigned long line,
	       const char *what, struct m2d_error *err)
{
	char path[M2D_ERROR_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", r->path, file);
	m2d_error_set(err, M2D_ERR_MALFORMED, path,
		      _("a mix record c-client refuses (%s); the folder is "
			"not read"), what);
	m2d_error_at(err, -1, line);
	return -1;
}

/* A record file read as mix_read_record reads it: each call the next
 * non-empty line (CR LF or LF cut off, the text NUL-terminated in place),
 * "" at the end, NULL for an oversize one. */
struct records {
	char *p, *end;
	unsigned long line;
};

static char *next_record(struct records *rs)
{
	while (rs->p < rs->end) {
		char *s = rs->p, *nl = memchr(s, '\n', (size_t)(rs->end - s));
		char *e = nl != NULL ? nl : rs->end;

		if ((size_t)(e - s) > RECORD_MAX)
			return NULL;
		rs->p = nl != NULL ? nl + 1 : rs->end;
		rs->line++;
		if (nl != NULL && e > s && e[-1] == '\r')
			e--;
		*e = '\0';
		if (e != s)
			return s;
		/* an empty record: c-client warns and goes on */
	}
	return rs->end;		/* the NUL after the text: "" */
}

/* mix_read_sequence: 1 for an empty file, the value of "S<hex>", or 0 */
static unsigned long read_sequence(struct records *rs)
{
	char *s = next_record(rs), *t;
	unsigned long v;

	if (s == NULL)
		return 0;
	if (*s == '\0')
		return 1;
	if (s[0] != 'S' || !isx(s[1]))
		return 0;
	v = strtoul(s + 1, &t, 16);
	return *t == '\0' ? v : 0;
}

static int parse_meta(struct mix_reader *r, char *s, struct m2d_error *err)
{
	unsigned long v, line = 1;
	char *t, *k, *nl;

	/* mix_meta_slurp: "S<hex>\r\n" first */
	if (*s != 'S' || !isx(s[1]))
		return bad(r, ".mixmeta", 1, _("sequence"), err);
	strtoul(s + 1, &s, 16);
	if (*s++ != '\r' || *s++ != '\n')
		return bad(r, ".mixmeta", 1, _("sequence"), err);
	/* then only lines that end in CRLF count */
	while (*s != '\0' && (nl = strstr(t = s, "\r\n")) != NULL) {
		*nl = '\0';
		s = nl + 2;
		line++;
		switch (*t++) {
		case 'V':
			if (!isx(*t) || (v = strtoul(t, &t, 16)) == 0)
				return bad(r, ".mixmeta", line,
					   _("UIDVALIDITY"), err);
			r->folder.uidvalidity = v;
			break;
		case 'L':
			if (!isx(*t))
				return bad(r, ".mixmeta", line, _("last UID"),
					   err);
			r->folder.uidnext = strtoul(t, &t, 16);
			break;
		case 'N':
			if (!isx(*t))
				return bad(r, ".mixmeta", line,
					   _("new message file"), err);
			break;
		case 'K': {
			int i;

			for (i = 0; t != NULL && *t != '\0' &&
			     i < MBOX_MAX_KEYWORDS; i++) {
				if ((t = strchr(k = t, ' ')) != NULL)
					*t++ = '\0';
				if (*k == '\0' ||
				    strlen(k) > MBOX_MAX_KEYWORD_LEN)
					break;
				free(r->folder.slots[i]);
				r->folder.slots[i] = xstrdup(k);
			}
			break;
		}
		default:
			break;
		}
	}
	if (r->folder.uidvalidity == 0)
		return bad(r, ".mixmeta", line, _("no UIDVALIDITY"), err);
	return 0;
}

static unsigned int dig2(const char *t)
{
	return (unsigned int)((t[0] - '0') * 10 + (t[1] - '0'));
}

/* One index record ":UID:DATE:SIZE:FILE:POS:HPOS:HSIZ:" (mix_parse). */
static const char *index_record(char *s, struct mix_msg *m)
{
	unsigned long v[5];
	unsigned int y, mo, d, hh, mi, ss, zh, zm;
	bool zocc;
	char *t;
	int i;

	if (!(isx(*++s) && (m->uid = strtoul(s, &t, 16)) != 0))
		return N_("UID");
	if (!(*t++ == ':' && isd(t[0]) && isd(t[1]) && isd(t[2]) &&
	      isd(t[3]) && isd(t[4]) && isd(t[5]) && isd(t[6]) && isd(t[7]) &&
	      isd(t[8]) && isd(t[9]) && isd(t[10]) && isd(t[11]) &&
	      isd(t[12]) && isd(t[13]) && (t[14] == '+' || t[14] == '-') &&
	      isd(t[15]) && isd(t[16]) && isd(t[17]) && isd(t[18])))
		return N_("internaldate");
	if (*(s = t + 19) != ':' || !isx(*++s))
		return N_("size");
	/* as MESSAGECACHE's bit fields keep them */
	y = (dig2(t) * 100 + dig2(t + 2) - 1970) & 0x7f;
	mo = dig2(t + 4) & 0xf;
	d = dig2(t + 6) & 0x1f;
	hh = dig2(t + 8) & 0x1f;
	mi = dig2(t + 10) & 0x3f;
	ss = dig2(t + 12) & 0x3f;
	zocc = t[14] == '-';
	zh = dig2(t + 15) & 0xf;
	zm = dig2(t + 17) & 0x3f;
	v[0] = strtoul(s, &s, 16);
	for (i = 1; i < 5; i++) {
		if (!(*s++ == ':' && isx(*s)))
			return i == 1 ? N_("file#") : i == 2 ?
				N_("message position") : i == 3 ?
				N_("header position") : N_("header size");
		v[i] = strtoul(s, &s, 16);
	}
	if (*s != ':')
		return N_("expansion");
	m->size = v[0];
	m->file = v[1];
	m->pos = v[2];
	m->hpos = v[3];
	m->hsiz = v[4];
	m->date = (time_t)uw_longdate(y, mo, d, hh, mi, ss, zocc, zh, zm);
	m->tz = (zocc ? -1 : 1) * (int)(zh * 60 + zm);
	return NULL;
}

static int parse_index(struct mix_reader *r, char *text,
		       struct m2d_error *err)
{
	struct records rs = { text, text + strlen(text), 0 };
	unsigned long uidlast = r->folder.uidnext;	/* L, so far */
	char *s;

	if (read_sequence(&rs) == 0)
		return bad(r, ".mixindex", rs.line, _("sequence"), err);
	while ((s = next_record(&rs)) != NULL && *s != '\0') {
		struct mix_msg m;
		const char *what;

		memset(&m, 0, sizeof(m));
		if (*s != ':')
			return bad(r, ".mixindex", rs.line,
				   _("unknown record"), err);
		if ((what = index_record(s, &m)) != NULL)
			return bad(r, ".mixindex", rs.line, _(what), err);
		/* IMAP's UIDs are 32 bits */
		if (m.uid >= 0xffffffffUL || uidlast >= 0xffffffffUL)
			return bad(r, ".mixindex", rs.line, _("no UID left"),
				   err);
		/* read-write, c-client repairs the last UID */
		if (m.uid > uidlast)
			uidlast = m.uid;
		if (r->count > 0 && m.uid <= r->msgs[r->count - 1].uid)
			return bad(r, ".mixindex", rs.line,
				   _("UIDs not ascending"), err);
		if (r->count == r->alloc) {
			r->alloc = r->alloc ? r->alloc * 2 : 64;
			r->msgs = xrealloc(r->msgs,
					   r->alloc * sizeof(*r->msgs));
		}
		r->msgs[r->count++] = m;
	}
	if (s == NULL)
		return bad(r, ".mixindex", rs.line, _("oversize record"), err);
	r->folder.uidnext = uidlast + 1;
	return 0;
}

/* The status records (mix_parse): a bad one ends them, as c-client
 * warns and stops; the messages after keep no flags (\Recent). */
static void parse_status(struct mix_reader *r, char *text)
{
	struct records rs = { text, text + strlen(text), 0 };
	unsigned long i = 0;
	char *s;

	if (r->count == 0 || read_sequence(&rs) == 0)
		return;
	while ((s = next_record(&rs)) != NULL && *s != '\0' &&
	       *s++ == ':' && isx(*s)) {
		unsigned long uid, uf, sf, mod;
		struct mix_msg *m;

		uid = strtoul(s, &s, 16);
		if (!(*s++ == ':' && isx(*s)))
			break;
		uf = strtoul(s, &s, 16);
		if (!(*s++ == ':' && isx(*s)))
			break;
		sf = strtoul(s, &s, 16);
		if (!(*s++ == ':' && isx(*s)))
			break;
		mod = strtoul(s, &s, 16);
		if (*s++ != ':')
			break;
		while (uid > r->msgs[i].uid && i + 1 < r->count)
			i++;
		m = &r->msgs[i];
		if (uid == m->uid && (!m->valid || mod != m->mod)) {
			m->uf = uf;
			m->mod = mod;
			/* the old bit is only looked at the first time */
			if (!m->valid)
				m->sf = (unsigned int)(sf & 0xffff);
			else
				m->sf = (unsigned int)((sf & ~UW_SF_OLD) |
						       (m->sf & UW_SF_OLD));
			/* c-client read-write: a first record makes the
			 * message valid (a recent one is checked in) */
			m->valid = true;
		}
	}
}

/* A whole record file below the directory, under flock(LOCK_SH). */
static int slurp(struct mix_reader *r, const char *name, off_t max,
		 bool lock, int *fd_r, char **text_r, struct m2d_error *err)
{
	char path[M2D_ERROR_PATH_MAX];
	struct stat st;
	size_t got = 0;
	char *text;
	int fd;

	*text_r = NULL;
	snprintf(path, sizeof(path), "%s/%s", r->path, name);
	fd = sf_open_read(r->dfd, name, max, &st, path, err);
	if (fd < 0) {
		if (errno == ENOENT && strcmp(name, ".mixmeta") == 0)
			m2d_error_set(err, M2D_ERR_NOT_MBOX, r->path,
				      _("not a folder in UW's mix format"));
		return -1;
	}
	if (lock && uw_flock_shared(fd, r->set.lock_wait_ms, path, err) < 0)
		goto fail;
	if (fstat(fd, &st) < 0) {
		m2d_error_sys(err, "fstat", path);
		goto fail;
	}
	if (max > 0 && st.st_size > max) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("larger than %lld bytes; not read"),
			      (long long)max);
		goto fail;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			m2d_error_sys(err, "read", path);
			free(text);
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	text[got] = '\0';
	*text_r = text;
	if (fd_r != NULL)
		*fd_r = fd;
	else
		close(fd);	/* ends its flock */
	return 0;
fail:
	close(fd);
	return -1;
}

static int finish_folder(struct mix_reader *r, struct m2d_error *err)
{
	(void)err;
	uw_folder_set_keywords(&r->folder);
	return 0;
}

static struct mix_reader *reader_new(const char *path)
{
	struct mix_reader *r = xcalloc(1, sizeof(*r));

	r->dfd = r->mfd = r->datafd = -1;
	r->path = xstrdup(path);
	r->body.buf = xmalloc(UW_CHUNK);
	return r;
}

int mix_reader_parse(const char *meta, const char *index,
		     const char *status, struct mix_reader **reader_r,
		     struct m2d_error *err)
{
	struct mix_reader *r = reader_new("mix");
	char *m = NULL, *i = NULL, *s = NULL;
	int rc = -1;

	*reader_r = NULL;
	m = xstrdup(meta);
	i = xstrdup(index);
	s = xstrdup(status);
	if (parse_meta(r, m, err) < 0 || parse_index(r, i, err) < 0)
		goto out;
	parse_status(r, s);
	if (finish_folder(r, err) < 0)
		goto out;
	*reader_r = r;
	r = NULL;
	rc = 0;
out:
	free(m);
	free(i);
	free(s);
	mix_reader_close(&r);
	return rc;
}

static void data_name(unsigned long file, char *name, size_t size)
{
	if (file != 0)
		snprintf(name, size, ".mix%08lx", file);
	else
		snprintf(name, size, ".mix");
}

/* mix_parse: every data file the index names exists ("Missing mix data
 * file" makes c-client refuse the folder); here it must be a regular
 * file, never a symlink. */
static int check_data_files(struct mix_reader *r, struct m2d_error *err)
{
	unsigned long i, file = 0;
	char name[32], path[M2D_ERROR_PATH_MAX];
	struct stat st;

	for (i = 0; i < r->count; i++) {
		if (i > 0 && r->msgs[i].file == file)
			continue;
		file = r->msgs[i].file;
		data_name(file, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", r->path, name);
		if (fstatat(r->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return m2d_error_sys(err, "stat", path);
			return m2d_error_set(err, M2D_ERR_MALFORMED, path,
					     _("a data file the mix index names "
					       "is missing; the folder is not "
					       "read"));
		}
		if (!S_ISREG(st.st_mode))
			return m2d_error_set(err, M2D_ERR_UNSAFE, path,
					     _("not a regular file; not read"));
	}
	return 0;
}

int mix_reader_open(int dirfd, const char *path,
		    const struct uw_reader_settings *set,
		    struct mix_reader **reader_r, struct m2d_error *err)
{
	struct mix_reader *r = reader_new(path);
	char *meta = NULL, *index = NULL, *status = NULL;
	int ifd = -1;

	*reader_r = NULL;
	if (set != NULL)
		r->set = *set;
	r->dfd = sf_open_dir(dirfd, path, path, err);
	if (r->dfd < 0)
		goto fail;
	/* mix_open: the metadata, flock(LOCK_SH) for as long as open */
	if (slurp(r, ".mixmeta", METAMAX, true, &r->mfd, &meta, err) < 0 ||
	    parse_meta(r, meta, err) < 0)
		goto fail;
	/* mix_parse: the index under its shared lock, then the status
	 * under its own while the index is still held */
	if (slurp(r, ".mixindex", 0, true, &ifd, &index, err) < 0 ||
	    parse_index(r, index, err) < 0)
		goto fail;
	if (slurp(r, ".mixstatus", 0, true, NULL, &status, err) < 0)
		goto fail;
	parse_status(r, status);
	close(ifd);
	ifd = -1;
	if (check_data_files(r, err) < 0 || finish_folder(r, err) < 0)
		goto fail;
	free(meta);
	free(index);
	free(status);
	*reader_r = r;
	return 0;
fail:
	if (ifd >= 0)
		close(ifd);
	free(meta);
	free(index);
	free(status);
	mix_reader_close(&r);
	return -1;
}

/* Open data file FILE (".mix%08lx", ".mix" for 0). */
static int open_data(struct mix_reader *r, unsigned long file,
		     struct m2d_error *err)
{
	char name[32], path[M2D_ERROR_PATH_MAX];
	struct stat st;

	if (r->datafd >= 0 && r->datafile == file)
		return 0;
	if (r->datafd >= 0)
		close(r->datafd);
	r->datafd = -1;
	data_name(file, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", r->path, name);
	r->datafd = sf_open_read(r->dfd, name, 0, &st, path, err);
	if (r->datafd < 0)
		return -1;
	if (!r->set.allow_sparse && sf_is_sparse(r->datafd, &st)) {
		close(r->datafd);
		r->datafd = -1;
		return m2d_error_set(err, M2D_ERR_UNSAFE, path,
				     _("a sparse file (holes): its size is "
				       "not what it holds; not converted"));
	}
	r->datafile = file;
	return 0;
}

static int bad_data(struct mix_reader *r, const struct mix_msg *m,
		    const char *what, struct m2d_error *err)
{
	char path[M2D_ERROR_PATH_MAX];

	if (m->file != 0)
		snprintf(path, sizeof(path), "%s/.mix%08lx", r->path, m->file);
	else
		snprintf(path, sizeof(path), "%s/.mix", r->path);
	m2d_error_set(err, M2D_ERR_MALFORMED, path,
		      _("message UID %lu is not what the mix index says (%s); "
			"the folder is not read"), m->uid, what);
	m2d_error_at(err, (long long)m->pos, 0);
	return -1;
}

int mix_reader_next(struct mix_reader *r, struct uw_msg *msg,
		    struct m2d_error *err)
{
	struct mix_msg *m;
	struct stat st;
	char head[128], *s;
	size_t got;
	unsigned int fl = 0;

	memset(msg, 0, sizeof(*msg));
	r->body.left = 0;
	if (r->next >= r->count)
		return 0;
	m = &r->msgs[r->next];
	if (open_data(r, m->file, err) < 0)
		return -1;
	if (fstat(r->datafd, &st) < 0)
		return m2d_error_sys(err, "fstat", r->path);
	/* mix_parse's check of the file's size, mix_header's of the
	 * ":msg:UID:DATE:SIZE:" line */
	if (m->pos > (unsigned long long)st.st_size ||
	    m->hpos > (unsigned long long)st.st_size - m->pos ||
	    m->size > (unsigned long long)st.st_size - m->pos - m->hpos)
		return bad_data(r, m, _("the data file is too short"), err);
	if (m->hsiz > m->size)
		return bad_data(r, m, _("header size"), err);
	if (m->hpos >= sizeof(head) || m->hpos < 5)
		return bad_data(r, m, _("header position"), err);
	if (uw_pread_all(r->datafd, head, m->hpos, (long long)m->pos, &got,
		      r->path, err) < 0)
		return -1;
	head[got] = '\0';
	if (got < m->hpos || strncmp(head, ":msg:", 5) != 0 ||
	    strtoul(head + 5, &s, 16) != m->uid || *s++ != ':' ||
	    (s = strchr(s, ':')) == NULL || strtoul(s + 1, &s, 16) == 0 ||
	    *s++ != ':' || s >= head + m->hpos)
		return bad_data(r, m, _("its :msg: line"), err);
	if (r->set.max_message > 0 && m->size > r->set.max_message) {
		m2d_error_set(err, M2D_ERR_MALFORMED, r->path,
			      _("message %lu is larger than %llu bytes "
				"(max_message_size); not converted"),
			      r->next + 1, r->set.max_message);
		return -1;
	}
	fl = uw_flags_of_sf(m->sf, m->valid);
	uw_keywords_str(&r->folder, m->uf, r->kw, sizeof(r->kw));
	msg->seq = ++r->next;
	msg->uid = m->uid;
	msg->flags = fl;
	msg->keywords = r->kw;
	msg->date = m->date;
	msg->tz_offset = m->tz;
	msg->size = m->size;
	msg->offset = (long long)(m->pos + m->hpos);
	r->body.pos = msg->offset;
	r->body.left = m->size;
	return 1;
}

int mix_reader_read(struct mix_reader *r, const unsigned char **data_r,
		    size_t *len_r, struct m2d_error *err)
{
	return uw_body_read(&r->body, r->datafd, r->path,
			    _("a mix data file shrank while it was read"),
			    data_r, len_r, err);
}

void mix_reader_close(struct mix_reader **rp)
{
	struct mix_reader *r = *rp;

	if (r == NULL)
		return;
	if (r->datafd >= 0)
		close(r->datafd);
	if (r->mfd >= 0)
		close(r->mfd);	/* ends its flock */
	if (r->dfd >= 0)
		close(r->dfd);
	uw_folder_free(&r->folder);
	free(r->msgs);
	free(r->body.buf);
	free(r->path);
	free(r);
	*rp = NULL;
}
