/* SPDX-License-Identifier: MIT */
/*
 * mbox-append.c - maildir messages appended to the end of an mbox as
 * UW-IMAP and Postfix write them, under their locks (mbox-append.h)
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotlock.h"
#include "from-line.h"
#include "hash.h"
#include "mbox-append.h"
#include "safe-file.h"
#include "xalloc.h"
#include "i18n.h"

/* ~/.mailboxlist is the user's: read no larger one (from fstat) */
#define MAILBOXLIST_MAX ((off_t)4 * 1024 * 1024)

/* ---- the writer ---- */

struct mbox_append_writer {
	struct mbox_append *mb;
	const struct mbox_append_source *src;
	int fd;
	const char *path;
	off_t off;		/* where the buffer goes */
	size_t len;
	char last;		/* the last byte given */
	char buf[65536];
};

static int out_flush(struct mbox_append_writer *o, struct m2d_error *err)
{
	size_t done = 0;

	while (done < o->len) {
		ssize_t n = pwrite(o->fd, o->buf + done, o->len - done,
				   o->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return m2d_error_sys(err, "write", o->path);
		}
		done += (size_t)n;
		o->off += n;
	}
	o->len = 0;
	return 0;
}

static int out_write(struct mbox_append_writer *o, const void *data, size_t len,
		     struct m2d_error *err)
{
	const char *p = data;

	if (len == 0)
		return 0;
	o->last = p[len - 1];
	while (len > 0) {
		size_t n = sizeof(o->buf) - o->len;

		if (n > len)
			n = len;
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		p += n;
		len -= n;
		if (o->len == sizeof(o->buf) && out_flush(o, err) < 0)
			return -1;
	}
	return 0;
}

static int out_str(struct mbox_append_writer *o, const char *s,
		   struct m2d_error *err)
{
	return out_write(o, s, strlen(s), err);
}

/* A header field UW takes as its own and hides: c-client removes X-IMAP,
 * X-IMAPbase, X-UID, Status, X-Status and X-Keywords by name in any case
 * ("status:", "Status :", a bare "Status" line), so a message carried
 * back must not bring one (ours are written after the header).
 * Content-Length is an ordinary header to UW, served as it is: kept. */
static bool uw_header(const char *line, size_t len)
{
	static const char *const names[] = {
		"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP",
		"X-IMAPbase", NULL,
	};
	size_t name = 0, rest;

	while (name < len && line[name] != ':' && line[name] != ' ' &&
	       line[name] != '\t' && line[name] != '\r' && line[name] != '\n')
		name++;
	rest = name;
	while (rest < len && (line[rest] == ' ' || line[rest] == '\t'))
		rest++;
	if (rest < len && line[rest] != ':' && line[rest] != '\r' &&
	    line[rest] != '\n')
		return false;
	for (int i = 0; names[i] != NULL; i++) {
		if (strlen(names[i]) == name &&
		    strncasecmp(line, names[i], name) == 0)
			return true;
	}
	return false;
}

/* A line that ends the header.  A lone CR is one too: a piece that
 * begins a line and has no newline is the file's last line, and with the
 * newline the writer adds after it it is a CRLF blank line (written
 * before the status block, it would end the header there: UW would find
 * the status in the body). */
static bool blank_line(const char *line, size_t len)
{
	return (len == 1 && (line[0] == '\n' || line[0] == '\r')) ||
		(len == 2 && line[0] == '\r' && line[1] == '\n');
}

/*
 * A message file read in pieces: a line up to its newline, or as much of
 * a long one as the buffer holds (a message with no newline costs no more
 * memory than the buffer).  A piece that begins a line holds at least
 * its first 16 bytes (or the whole line).
 */
struct msg_in {
	int fd;
	size_t start, end;
	bool eof, bol;		/* bol: the next piece begins a line */
	char buf[65536];
};

static void in_init(struct msg_in *in, int fd)
{
	in->fd = fd;
	in->start = in->end = 0;
	in->eof = false;
	in->bol = true;
}

/* The next piece into *P_R, its length; 0 at the end, -1 (errno). *BOL_R
 * tells whether it begins a line. */
static ssize_t in_piece(struct msg_in *in, const char **p_r, bool *bol_r)
{
	const char *nl;
	size_t n;

	if (in->end - in->start < 16 && !in->eof) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
		while (in->end < 16 && !in->eof) {
			ssize_t r = read(in->fd, in->buf + in->end,
					 sizeof(in->buf) - in->end);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0)
				in->eof = true;
			in->end += (size_t)r;
		}
	}
	if (in->start == in->end)
		return 0;
	nl = memchr(in->buf + in->start, '\n', in->end - in->start);
	n = nl != NULL ? (size_t)(nl - (in->buf + in->start)) + 1 :
		in->end - in->start;
	*p_r = in->buf + in->start;
	*bol_r = in->bol;
	in->bol = nl != NULL;
	in->start += n;
	return (ssize_t)n;
}

/* The envelope sender for the From_ line: the Return-Path's address, or
 * MAILER-DAEMON (as Postfix writes for "<>"). */
static int find_sender(struct msg_in *in, char *out, size_t size)
{
	const char *piece;
	bool bol;
	ssize_t len;

	snprintf(out, size, "MAILER-DAEMON");
	while ((len = in_piece(in, &piece, &bol)) > 0) {
		char line[1024];

		if (!bol)
			continue;
		if (blank_line(piece, (size_t)len))
			break;
		if (len >= 12 && strncasecmp(piece, "Return-Path:", 12) == 0) {
			char *p = line + 12, *end;
			size_t n;

			snprintf(line, sizeof(line), "%.*s",
				 (int)(len < (ssize_t)sizeof(line) ? len :
				       (ssize_t)sizeof(line) - 1), piece);
			p += strspn(p, " \t");
			if (*p == '<')
				p++;
			n = strcspn(p, "> \t\r\n");
			end = p + n;
			if (n > 0 && n < size && (*end == '>' || *end == '\r' ||
						  *end == '\n' || *end == '\0'))
				snprintf(out, size, "%.*s", (int)n, p);
			for (char *c = out; *c != '\0'; c++)
				if ((unsigned char)*c <= ' ' || *c == 0x7f)
					snprintf(out, size, "MAILER-DAEMON");
			break;
		}
	}
	return len < 0 ? -1 : 0;
}


/* UW's status block (unix_xstatus) for MSG. */
static int write_status(struct mbox_append_writer *o,
			const struct maildir_file *m,
			const struct mbox_append_status *st,
			struct m2d_error *err)
{
	char buf[128];
	int rc = 0;

	if (st->imapbase != NULL)
		rc = out_str(o, st->imapbase, err);
	/* Status: R = \Seen, O = no longer \Recent (it left new/) */
	snprintf(buf, sizeof(buf), "Status: %s%s\nX-Status: %s%s%s%s\n",
		 (m->flags & MAILDIR_SEEN) ? "R" : "", m->in_new ? "" : "O",
		 (m->flags & MAILDIR_TRASHED) ? "D" : "",
		 (m->flags & MAILDIR_FLAGGED) ? "F" : "",
		 (m->flags & MAILDIR_REPLIED) ? "A" : "",
		 (m->flags & MAILDIR_DRAFT) ? "T" : "");
	if (rc == 0)
		rc = out_str(o, buf, err);
	if (rc == 0)
		rc = out_str(o, "X-Keywords:", err);
	for (int i = 0; rc == 0 && i < MAILDIR_MAX_KEYWORDS; i++) {
		const char *kw = o->src->md->keywords[i];

		if (!(m->keywords & (1u << i)) || kw == NULL)
			continue;
		rc = out_str(o, " ", err);
		if (rc == 0)
			rc = out_str(o, kw, err);
	}
	if (rc == 0)
		rc = out_str(o, "\n", err);
	if (rc == 0 && st->uid != 0) {
		snprintf(buf, sizeof(buf), "X-UID: %lu\n", st->uid);
		rc = out_str(o, buf, err);
	}
	return rc;
}

/* The message file M, opened: a file of the user's, read only if it is
 * a regular file, the user's (not a hard link to somebody else's), not
 * sparse, not larger than a message can be.  PATH gets its path. */
static int open_message(const struct mbox_append_source *src,
			const struct maildir_file *m, char *path,
			size_t size, struct m2d_error *err)
{
	const struct maildir_reader *md = src->md;
	struct stat fst;
	int fd;

	snprintf(path, size, "%s/%s/%s", md->path, m->in_new ? "new" : "cur",
		 m->name);
	fd = sf_open_read(m->in_new ? md->newfd : md->curfd, m->name,
			  src->max_message, &fst, path, err);
	if (fd < 0)
		return -1;
	if (fst.st_uid != (uid_t)src->owner) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("a message file that is not the user's "
				"(owner %ld); not read"), (long)fst.st_uid);
		close(fd);
		return -1;
	}
	if (!src->allow_sparse && sf_is_sparse(fd, &fst)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("a sparse file (%lld bytes, fewer on disk): "
				"no message is; not read (allow_sparse)"),
			      (long long)fst.st_size);
		close(fd);
		return -1;
	}
	return fd;
}

/* The From_ line of M (its sender read from IN, which is then rewound
 * to the start of the file). */
static int write_from_line(struct mbox_append_writer *o, struct msg_in *in,
			   const struct maildir_file *m, const char *path,
			   struct m2d_error *err)
{
	char sender[256], from[512];

	if (find_sender(in, sender, sizeof(sender)) < 0)
		return m2d_error_sys(err, "read", path);
	if (lseek(in->fd, 0, SEEK_SET) < 0)
		return m2d_error_sys(err, "lseek", path);
	in_init(in, in->fd);
	if (from_line_format(sender, m->mtime, from, sizeof(from)) < 0 &&
	    from_line_format(NULL, m->mtime, from, sizeof(from)) < 0)
		return m2d_error_set(err, M2D_ERR_MALFORMED, path,
				     _("its date cannot be written in a From_ "
				       "line"));
	return out_str(o, from, err);
}

/* The header without UW's own fields, the status block, the body with
 * ">From " quoting, and the separator. */
static int copy_message(struct mbox_append_writer *o, struct msg_in *in,
			const struct maildir_file *m,
			const struct mbox_append_status *st, const char *path,
			struct m2d_error *err)
{
	const char *line;
	bool header = true, dropping = false, bol;
	ssize_t len;

	while ((len = in_piece(in, &line, &bol)) > 0) {
		size_t n = (size_t)len;

		if (header && bol) {
			if (blank_line(line, n)) {
				header = false;
				if (write_status(o, m, st, err) < 0 ||
				    out_write(o, line, n, err) < 0)
					return -1;
				continue;
			}
			if (line[0] != ' ' && line[0] != '\t')
				dropping = uw_header(line, n);
		}
		if (header && dropping)
			continue;
		/* mboxo: UW and Postfix quote "From " at a line start */
		if (bol && n >= 5 && memcmp(line, "From ", 5) == 0 &&
		    out_write(o, ">", 1, err) < 0)
			return -1;
		if (out_write(o, line, n, err) < 0)
			return -1;
	}
	if (len < 0)
		return m2d_error_sys(err, "read", path);
	if (header) {
		/* no body: the header ends here */
		if (o->last != '\n' && out_str(o, "\n", err) < 0)
			return -1;
		if (write_status(o, m, st, err) < 0 ||
		    out_str(o, "\n", err) < 0)
			return -1;
	}
	if (o->last != '\n' && out_str(o, "\n", err) < 0)
		return -1;
	/* the empty line the mbox adds after each message */
	return out_str(o, "\n", err);
}

int mbox_append_message(struct mbox_append_writer *w,
			const struct maildir_file *m,
			const struct mbox_append_status *st,
			struct m2d_error *err)
{
	char path[PATH_MAX];
	struct msg_in *in;
	int fd, rc;

	assert(!m->special);
	fd = open_message(w->src, m, path, sizeof(path), err);
	if (fd < 0)
		return -1;
	in = xmalloc(sizeof(*in));
	in_init(in, fd);
	rc = write_from_line(w, in, m, path, err);
	if (rc == 0)
		rc = copy_message(w, in, m, st, path, err);
	free(in);
	close(fd);
	return rc;
}

int mbox_append_begin(struct mbox_append *mb,
		      const struct mbox_append_source *src,
		      struct mbox_append_writer **w_r, struct m2d_error *err)
{
	struct mbox_append_writer *w = xmalloc(sizeof(*w));

	assert(mb->fd >= 0);
	w->mb = mb;
	w->src = src;
	w->fd = mb->fd;
	w->path = mb->path;
	w->off = mb->size;
	w->len = 0;
	w->last = '\n';
	*w_r = w;
	if (mb->size > 0) {
		char c;

		/* a last line without its newline would swallow our From_ */
		if (pread(mb->fd, &c, 1, mb->size - 1) != 1)
			return m2d_error_sys(err, "read", mb->path);
		if (c != '\n' && out_str(w, "\n", err) < 0)
			return -1;
	}
	return 0;
}

int mbox_append_finish(struct mbox_append_writer *w, long long *end_r,
		       struct m2d_error *err)
{
	if (out_flush(w, err) < 0)
		return -1;
	if (fsync(w->fd) < 0)
		return m2d_error_sys(err, "fsync", w->path);
	if (w->mb->created && fsync(w->mb->parentfd) < 0)
		return m2d_error_sys(err, "fsync", w->path);
	*end_r = w->off;
	return 0;
}

void mbox_append_writer_free(struct mbox_append_writer **w)
{
	free(*w);
	*w = NULL;
}

/* ---- the mbox ---- */

/*
 * The directory of PATH (opened from BASE, which is the admin's: the home
 * or the spool; every level below it without following a symlink,
 * created owned by UID/GID when MKDIRS) and its last component.
 */
static int open_parent(const char *base, const char *path, bool mkdirs,
		       int uid, int gid, const char **leaf_r,
		       struct m2d_error *err)
{
	size_t blen = strlen(base);
	const char *rel, *p;
	int fd;

	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (strncmp(path, base, blen) != 0 || path[blen] != '/')
		return m2d_error_set(err, M2D_ERR_UNSAFE, path,
				     _("not below %s"), base);
	rel = path + blen;
	while (*rel == '/')
		rel++;
	fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return m2d_error_sys(err, "open", base);
	while ((p = strchr(rel, '/')) != NULL) {
		char level[NAME_MAX + 1];
		int next;

		if ((size_t)(p - rel) > NAME_MAX || p == rel ||
		    (p - rel == 1 && rel[0] == '.') ||
		    (p - rel == 2 && rel[0] == '.' && rel[1] == '.')) {
			close(fd);
			return m2d_error_set(err, M2D_ERR_UNSAFE, path,
					     _("not a plain path"));
		}
		memcpy(level, rel, (size_t)(p - rel));
		level[p - rel] = '\0';
		next = mkdirs ? sf_mkdir(fd, level, uid, gid, true, path, err) :
			sf_open_dir(fd, level, path, err);
		if (next < 0 && (errno == ENOTDIR || errno == EEXIST)) {
			struct stat st;

			if (fstatat(fd, level, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				m2d_error_set(err, M2D_ERR_EXISTS, path,
					      _("\"%s\" is an mbox, not a "
						"directory: under UW-IMAP a "
						"folder cannot hold both mail "
						"and folders"), level);
		}
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
		rel = p + 1;
	}
	*leaf_r = rel;
	return fd;
}

static int lock_mbox(struct mbox_append *mb, bool dry_run,
		     struct m2d_error *err)
{
	struct flock fl;

	if (dotlock_take_at(mb->parentfd, mb->leaf, mb->path, !dry_run, false,
			    &mb->dotlock, err) < 0)
		return -1;
	if (dry_run)
		return 0;
	if (mb->dotlock == NULL)
		return m2d_error_set(err, M2D_ERR_LOCKED, mb->path,
				     _("cannot take its dotlock (%s.lock)"),
				     mb->path);
	/* UW's lock, then Postfix's */
	if (flock(mb->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ?
			m2d_error_set(err, M2D_ERR_LOCKED, mb->path,
				      _("in use by UW-IMAP (flock held); "
					"try again later")) :
			m2d_error_sys(err, "flock", mb->path);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(mb->fd, F_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES ?
			m2d_error_set(err, M2D_ERR_LOCKED, mb->path,
				      _("being written right now (fcntl lock "
					"held); try again later")) :
			m2d_error_sys(err, "fcntl", mb->path);
	return 0;
}

/* A new mbox, owned by the user, 0600, never over an existing file (an
 * mbox that was not migrated, say). */
static int create_mbox(struct mbox_append *mb,
		       const struct mbox_append_target *t,
		       struct m2d_error *err)
{
	if (mb->fd >= 0)
		return m2d_error_set(err, M2D_ERR_EXISTS, mb->path,
				     _("a folder made after cutover, but an "
				       "mbox of that name exists (it was not "
				       "migrated): its messages stay in the "
				       "maildir"));
	if (errno != ENOENT)
		return -1;	/* ERR says why */
	m2d_error_clear(err);
	mb->fd = sf_create(mb->parentfd, mb->leaf, t->uid, t->gid, mb->path,
			   err);
	if (mb->fd < 0)
		return -1;
	mb->created = true;
	return 0;
}

/* What is checked on the descriptor before the locks. */
static int check_mbox(const struct mbox_append *mb, bool allow_sparse,
		      struct m2d_error *err)
{
	struct stat st;

	if (fstat(mb->fd, &st) < 0)
		return m2d_error_sys(err, "fstat", mb->path);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return m2d_error_set(err, M2D_ERR_UNSAFE, mb->path,
				     _("not a regular file with one link"));
	/* every byte before the end is read (its checksum): a sparse
	 * giant would cost hours, and no mbox has holes */
	if (!allow_sparse && sf_is_sparse(mb->fd, &st))
		return m2d_error_set(err, M2D_ERR_UNSAFE, mb->path,
				     _("a sparse file (%lld bytes, fewer on "
				       "disk): no mbox is; nothing written"),
				     (long long)st.st_size);
	return 0;
}

int mbox_append_open(struct mbox_append *mb,
		     const struct mbox_append_target *t,
		     struct m2d_error *err)
{
	bool dry_run = t->mode == MBOX_APPEND_READ;
	struct stat st;

	memset(mb, 0, sizeof(*mb));
	mb->parentfd = mb->fd = -1;
	mb->path = xstrdup(t->path);
	mb->parentfd = open_parent(t->base, mb->path, t->mkdirs, t->uid,
				   t->gid, &mb->leaf, err);
	if (mb->parentfd < 0)
		return -1;
	/* never a symlink, a FIFO (it would block the open) or a device */
	mb->fd = sf_open_file(mb->parentfd, mb->leaf,
			      dry_run ? O_RDONLY : O_RDWR, 0, NULL, mb->path,
			      err);
	if (t->mode == MBOX_APPEND_CREATE) {
		if (create_mbox(mb, t, err) < 0)
			return -1;
	} else if (mb->fd < 0) {
		return -1;		/* ERR says why */
	}
	if (check_mbox(mb, t->allow_sparse, err) < 0 ||
	    lock_mbox(mb, dry_run, err) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0)
		return m2d_error_sys(err, "fstat", mb->path);
	mb->size = st.st_size;
	return 0;
}

void mbox_append_close(struct mbox_append *mb, bool remove_created)
{
	if (remove_created && mb->created && mb->leaf != NULL)
		unlinkat(mb->parentfd, mb->leaf, 0);	/* made in vain */
	if (mb->fd >= 0)
		close(mb->fd);	/* ends the flock and fcntl locks */
	dotlock_release(&mb->dotlock);
	if (mb->parentfd >= 0)
		close(mb->parentfd);
	free(mb->path);
	memset(mb, 0, sizeof(*mb));
	mb->parentfd = mb->fd = -1;
}

int mbox_append_checksum(const struct mbox_append *mb, long long size,
			 uint64_t *hash_r, long long size2,
			 uint64_t *hash2_r, struct m2d_error *err)
{
	struct m2d_hash h;
	char buf[65536];
	long long off = 0, end = hash2_r != NULL ? size2 : size;

	assert(hash2_r == NULL || size2 >= size);
	m2d_hash_init(&h);
	while (off < end) {
		long long stop = off < size ? size : end;
		size_t want = stop - off < (long long)sizeof(buf) ?
			(size_t)(stop - off) : sizeof(buf);
		ssize_t n;

		if (off == size)
			*hash_r = m2d_hash_final(&h);
		n = pread(mb->fd, buf, want, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return m2d_error_sys(err, "read", mb->path);
		if (n == 0)
			return m2d_error_set(err, M2D_ERR_CHANGED, mb->path,
					     _("shorter than when it was "
					       "converted"));
		m2d_hash_update(&h, buf, (size_t)n);
		off += n;
	}
	if (off == size || hash2_r == NULL)
		*hash_r = m2d_hash_final(&h);
	if (hash2_r != NULL)
		*hash2_r = m2d_hash_final(&h);
	return 0;
}

bool mbox_append_ours_at(const struct mbox_append *mb, long long off)
{
	char head[6];
	ssize_t n = pread(mb->fd, head, sizeof(head), off);

	if (n <= 0)
		return false;
	return memcmp(head, "From ", (size_t)n < 5 ? (size_t)n : 5) == 0 ||
		memcmp(head, "\nFrom ", (size_t)n) == 0;
}

int mbox_append_cut(struct mbox_append *mb, long long size,
		    struct m2d_error *err)
{
	if (ftruncate(mb->fd, size) < 0 || fsync(mb->fd) < 0)
		return m2d_error_sys(err, "ftruncate", mb->path);
	mb->size = size;
	return 0;
}

/* ---- UW's subscriptions ---- */

/*
 * U's ~/.mailboxlist gets the line for MBOX (its path relative to the
 * home, as UW keeps it; absolute outside the home) unless it is there:
 * the whole file again by a temp file and a rename, as UW writes it, the
 * user's and 0600.  Returns 1 added, 0 there already, -1 ERR.
 */
int mbox_append_subscribe(const struct plan_user *u, const char *mbox,
			  bool dry_run, struct m2d_error *err)
{
	size_t hl = u->home != NULL ? strlen(u->home) : 0;
	const char *name = mbox;
	char *path = NULL, *text = NULL, *next = NULL;
	size_t nl = 0;
	int dirfd = -1, ret = -1;

	if (u->home == NULL)
		return m2d_error_set(err, M2D_ERR_USAGE, mbox,
				     _("the user has no home for a "
				       ".mailboxlist"));
	if (strncmp(mbox, u->home, hl) == 0 && mbox[hl] == '/')
		name = mbox + hl + 1;
	nl = strlen(name);
	path = xasprintf("%s/.mailboxlist", u->home);
	/* the home is the admin's; .mailboxlist the user's */
	dirfd = sf_open_dir(AT_FDCWD, u->home, u->home, err);
	if (dirfd < 0 ||
	    sf_read_text_at(dirfd, ".mailboxlist", MAILBOXLIST_MAX, &text,
			    NULL, path, err) < 0)
		goto out;
	for (const char *l = text; l != NULL && *l != '\0';) {
		size_t len = strcspn(l, "\r\n");

		if (len == nl && memcmp(l, name, nl) == 0) {
			ret = 0;
			goto out;
		}
		l += len;
		l += strspn(l, "\r\n");
	}
	if (dry_run) {
		ret = 1;
		goto out;
	}
	next = xasprintf("%s%s%s\n", text != NULL ? text : "",
			 text != NULL && *text != '\0' &&
			 text[strlen(text) - 1] != '\n' ? "\n" : "", name);
	if (sf_replace_file(dirfd, ".mailboxlist", next, strlen(next), u->uid,
			    u->gid, path, err) < 0)
		goto out;
	ret = 1;
out:
	if (dirfd >= 0)
		close(dirfd);
	free(next);
	free(text);
	free(path);
	return ret;
}

