/*
 * rollback.c - the mail delivered to the maildirs after cutover, carried
 * back into the mboxes, and the rollback of the system (see rollback.h)
 *
 * Per folder:
 *   1. the maildir: dovecot-uidlist (UID of each file), dovecot-keywords,
 *      cur/ and new/; a file with a UID below the journal's nextuid is an
 *      old message, any other is new;
 *   2. the record WORK/rollback/USER/FOLDER: what earlier runs appended
 *      (state "pending" = a run died while appending: cut back first);
 *   3. the mbox: opened below its home or spool without following a
 *      symlink, locked (dotlock, flock, fcntl), its first bytes checked
 *      against the journal's checksum (the mbox we converted), its old
 *      messages read for the flag report;
 *   4. the record "pending" with the size before, the messages appended
 *      at the end (pwrite, never before the old end), fsync, the record
 *      "done"; on a failure ftruncate() back to the size before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "dotlock.h"
#include "folder-names.h"
#include "from-line.h"
#include "hash.h"
#include "maildir-writer.h"
#include "mbox-reader.h"
#include "plan.h"
#include "rollback.h"
#include "safe-file.h"
#include "str-escape.h"
#include "uw-uids.h"
#include "i18n.h"

/* version 2 stores each name escaped (str_field_escape) and the
 * checksum of the bytes before a pending append; version 1 (names raw,
 * no checksum) is still read */
#define RECORD_MAGIC "mbox2dovecot-rollback 2"
#define RECORD_MAGIC_V1 "mbox2dovecot-rollback 1"
#define RECORD_DIR "rollback"

/* What is read of the files a user controls, at most (checked from
 * fstat before reading: a sparse giant costs nothing); a message file:
 * max_message_size of the configuration */
#define UIDLIST_MAX ((off_t)64 * 1024 * 1024)
#define KEYWORDS_MAX ((off_t)1024 * 1024)
#define RECORD_MAX ((off_t)256 * 1024 * 1024)

/* ---- the maildir folder ---- */

struct rb_msg {
	char *name;		/* file name in cur/ or new/ */
	char *base;		/* up to ':' */
	bool in_new;
	unsigned long uid;	/* 0: not (yet) in dovecot-uidlist */
	time_t mtime;
	unsigned int flags;	/* enum maildir_flag */
	unsigned int keywords;	/* bit i = keyword i */
};

struct rb_uid {
	unsigned long uid;
	char *base;
};

struct rb_maildir {
	char *path;
	int owner;		/* the uid every message file must have */
	off_t max_message;	/* cfg's max_message_size; 0: no limit */
	bool allow_sparse;	/* cfg's allow_sparse */
	int dirfd, curfd, newfd;
	unsigned long uidvalidity, nextuid;
	struct rb_uid *uids;	/* sorted by base */
	size_t nuids;
	char *keywords[MAILDIR_MAX_KEYWORDS];
	struct rb_msg *msgs;
	size_t nmsgs;
};

static int oom(struct m2d_error *err, const char *path)
{
	errno = ENOMEM;
	return m2d_error_sys(err, "malloc", path);
}

static int uid_by_base(const void *a, const void *b)
{
	return strcmp(((const struct rb_uid *)a)->base,
		      ((const struct rb_uid *)b)->base);
}

static void maildir_free(struct rb_maildir *md)
{
	size_t i;

	for (i = 0; i < md->nuids; i++)
		free(md->uids[i].base);
	for (i = 0; i < md->nmsgs; i++) {
		free(md->msgs[i].name);
		free(md->msgs[i].base);
	}
	for (i = 0; i < MAILDIR_MAX_KEYWORDS; i++)
		free(md->keywords[i]);
	free(md->uids);
	free(md->msgs);
	free(md->path);
	if (md->dirfd >= 0)
		close(md->dirfd);
	if (md->curfd >= 0)
		close(md->curfd);
	if (md->newfd >= 0)
		close(md->newfd);
	memset(md, 0, sizeof(*md));
	md->dirfd = md->curfd = md->newfd = -1;
}

/* DIR/NAME in BUF, for messages. */
static const char *sub_path(char *buf, size_t size, const char *dir,
			    const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

static int read_uidlist(struct rb_maildir *md, struct m2d_error *err)
{
	char *line = NULL, path[PATH_MAX];
	size_t size = 0;
	unsigned long lineno = 1, last = 0;
	ssize_t len;
	FILE *f;

	sub_path(path, sizeof(path), md->path, "dovecot-uidlist");
	f = sf_fopen_read(md->dirfd, "dovecot-uidlist", UIDLIST_MAX, NULL,
			  path, err);
	if (f == NULL)
		return errno == ENOENT ? 0 : -1; /* absent: all new */
	if (getline(&line, &size, f) <= 0 ||
	    sscanf(line, "3 V%lu N%lu", &md->uidvalidity, &md->nextuid) < 1) {
		free(line);
		fclose(f);
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("not version 3"));
		m2d_error_at(err, -1, 1);
		return -1;
	}
	while ((len = getline(&line, &size, f)) > 0) {
		/* "<uid> [extensions] :<base>", as Dovecot writes it: UIDs
		 * rising, a file name (no '/'); anything else is refused, it
		 * would decide which messages are new (the user may have
		 * written the file) */
		char *colon = strstr(line, " :"), *end;
		struct rb_uid *n;
		unsigned long uid;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		errno = 0;
		uid = strtoul(line, &end, 10);
		if (colon == NULL || line[0] < '0' || line[0] > '9' ||
		    errno != 0 || uid == 0 || uid <= last ||
		    (*end != ' ' ) || colon[2] == '\0' ||
		    strchr(colon + 2, '/') != NULL ||
		    strlen(line) != (size_t)len) {
			free(line);
			fclose(f);
			m2d_error_set(err, M2D_ERR_MALFORMED, path,
				      _("not a line Dovecot writes (damaged or "
					"forged); nothing carried from this "
					"folder"));
			m2d_error_at(err, -1, lineno);
			return -1;
		}
		last = uid;
		n = realloc(md->uids, (md->nuids + 1) * sizeof(*n));
		if (n == NULL)
			goto nomem;
		md->uids = n;
		n[md->nuids].uid = uid;
		n[md->nuids].base = strdup(colon + 2);
		if (n[md->nuids].base == NULL)
			goto nomem;
		md->nuids++;
	}
	free(line);
	fclose(f);
	if (md->nuids > 0)
		qsort(md->uids, md->nuids, sizeof(*md->uids), uid_by_base);
	return 0;
nomem:
	free(line);
	fclose(f);
	return oom(err, md->path);
}

static int read_keywords(struct rb_maildir *md, struct m2d_error *err)
{
	char *line = NULL, path[PATH_MAX];
	size_t size = 0;
	ssize_t len;
	FILE *f;

	sub_path(path, sizeof(path), md->path, "dovecot-keywords");
	f = sf_fopen_read(md->dirfd, "dovecot-keywords", KEYWORDS_MAX, NULL,
			  path, err);
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((len = getline(&line, &size, f)) > 0) {
		char *end;
		unsigned long i = strtoul(line, &end, 10);

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (end == line || *end != ' ' || i >= MAILDIR_MAX_KEYWORDS ||
		    end[1] == '\0')
			continue;
		free(md->keywords[i]);
		md->keywords[i] = strdup(end + 1);
		if (md->keywords[i] == NULL) {
			free(line);
			fclose(f);
			return oom(err, md->path);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

/* The flags and keyword letters after ":2,". */
static void name_flags(const char *name, unsigned int *flags_r,
		       unsigned int *keywords_r)
{
	static const char letters[] = "DFPRST";
	const char *info = strstr(name, ":2,");
	const char *l;

	*flags_r = *keywords_r = 0;
	if (info == NULL)
		return;
	for (info += 3; *info != '\0'; info++) {
		if (*info >= 'a' && *info <= 'z')
			*keywords_r |= 1u << (*info - 'a');
		else if (*info != '\0' && (l = strchr(letters, *info)) != NULL)
			*flags_r |= 1u << (l - letters);
	}
}

static int list_dir(struct rb_maildir *md, int fd, bool in_new,
		    struct m2d_error *err)
{
	struct dirent *d;
	DIR *dir;
	int dfd = dup(fd);

	if (dfd < 0 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return m2d_error_sys(err, "opendir", md->path);
	}
	rewinddir(dir);
	while ((d = readdir(dir)) != NULL) {
		struct rb_msg *n, *m;
		struct rb_uid key, *u;
		struct stat st;
		char *colon;

		if (d->d_name[0] == '.')
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		if (!S_ISREG(st.st_mode)) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s/%s", md->path,
				 in_new ? "new" : "cur", d->d_name);
			closedir(dir);
			return m2d_error_set(err, M2D_ERR_UNSAFE, path,
					     _("not a regular file (a symbolic "
					       "link, FIFO or device) where a "
					       "message belongs; remove it and "
					       "run the rollback again"));
		}
		n = realloc(md->msgs, (md->nmsgs + 1) * sizeof(*n));
		if (n == NULL)
			break;
		md->msgs = n;
		m = &n[md->nmsgs];
		memset(m, 0, sizeof(*m));
		m->name = strdup(d->d_name);
		m->base = strdup(d->d_name);
		if (m->name == NULL || m->base == NULL) {
			free(m->name);
			free(m->base);
			break;
		}
		colon = strchr(m->base, ':');
		if (colon != NULL)
			*colon = '\0';
		m->in_new = in_new;
		m->mtime = st.st_mtime;
		name_flags(m->name, &m->flags, &m->keywords);
		key.base = m->base;
		u = md->nuids == 0 ? NULL :
			bsearch(&key, md->uids, md->nuids, sizeof(*md->uids),
				uid_by_base);
		m->uid = u != NULL ? u->uid : 0;
		md->nmsgs++;
	}
	closedir(dir);
	if (d != NULL)
		return oom(err, md->path);
	return 0;
}

/* Listed ones by UID, then the unlisted ones by date and name (the order
 * Dovecot would give them UIDs in). */
static int msg_order(const void *a, const void *b)
{
	const struct rb_msg *x = a, *y = b;

	if ((x->uid == 0) != (y->uid == 0))
		return x->uid == 0 ? 1 : -1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* 1 opened, 0 the folder does not exist, -1 error. */
static int maildir_open(struct rb_maildir *md, const char *root,
			const char *dirname, int owner, struct m2d_error *err)
{
	memset(md, 0, sizeof(*md));
	md->dirfd = md->curfd = md->newfd = -1;
	md->owner = owner;
	if (asprintf(&md->path, "%s%s%s", root, dirname[0] != '\0' ? "/" : "",
		     dirname) < 0) {
		md->path = NULL;
		return oom(err, root);
	}
	/* the root and the folder are the user's: neither followed if it
	 * is a symlink (to another user's maildir, say) */
	md->dirfd = sf_open_dir(AT_FDCWD, root, root, err);
	if (md->dirfd >= 0 && dirname[0] != '\0') {
		int fd = sf_open_dir(md->dirfd, dirname, md->path, err);

		close(md->dirfd);
		md->dirfd = fd;
	}
	if (md->dirfd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((md->curfd = sf_open_dir(md->dirfd, "cur", md->path, err)) < 0 ||
	    (md->newfd = sf_open_dir(md->dirfd, "new", md->path, err)) < 0 ||
	    read_uidlist(md, err) < 0 || read_keywords(md, err) < 0 ||
	    list_dir(md, md->curfd, false, err) < 0 ||
	    list_dir(md, md->newfd, true, err) < 0)
		return -1;
	if (md->nmsgs > 0)
		qsort(md->msgs, md->nmsgs, sizeof(*md->msgs), msg_order);
	return 1;
}

/* ---- the record of what was appended ---- */

struct rb_record {
	bool exists;
	int version;		/* of the file read (1, 2), 0 none */
	bool pending;		/* a run died between "pending" and "done" */
	long long before;	/* size before the last (pending) append */
	uint64_t before_sum;	/* checksum of those bytes (version 2) */
	long long size;		/* size after the last done append */
	char **bases;		/* appended, sorted */
	size_t nbases;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void record_free(struct rb_record *r)
{
	for (size_t i = 0; i < r->nbases; i++)
		free(r->bases[i]);
	free(r->bases);
	memset(r, 0, sizeof(*r));
}

static bool record_has(const struct rb_record *r, const char *base)
{
	return r->nbases > 0 &&
		bsearch(&base, r->bases, r->nbases, sizeof(*r->bases),
			str_cmp) != NULL;
}

static int record_add(struct rb_record *r, const char *base)
{
	char **n = realloc(r->bases, (r->nbases + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	r->bases = n;
	if ((n[r->nbases] = strdup(base)) == NULL)
		return -1;
	r->nbases++;
	return 0;
}

/* "INBOX" for the root, the Maildir++ directory (".a.b") otherwise: one
 * file name per folder, never "." or "..". */
static const char *record_name(const char *dirname)
{
	return dirname[0] == '\0' ? "INBOX" : dirname;
}

/* WORK/rollback/USER, created (0700) when CREATE; -1 and ENOENT when it
 * does not exist and !CREATE. */
static int record_dir(const char *work_dir, const char *user, bool create,
		      struct m2d_error *err)
{
	int wfd, rfd, ufd;

	if (create && mkdir(work_dir, 0700) < 0 && errno != EEXIST)
		return m2d_error_sys(err, "mkdir", work_dir);
	wfd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wfd < 0) {
		if (errno == ENOENT && !create)
			return -2;
		return m2d_error_sys(err, "open", work_dir);
	}
	rfd = create ? sf_mkdir(wfd, RECORD_DIR, -1, -1, true, work_dir, err) :
		openat(wfd, RECORD_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		       O_CLOEXEC);
	close(wfd);
	if (rfd < 0)
		return create ? -1 : (errno == ENOENT ? -2 :
				      m2d_error_sys(err, "open", work_dir));
	ufd = create ? sf_mkdir(rfd, user, -1, -1, true, work_dir, err) :
		openat(rfd, user, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		       O_CLOEXEC);
	close(rfd);
	if (ufd < 0)
		return create ? -1 : (errno == ENOENT ? -2 :
				      m2d_error_sys(err, "open", work_dir));
	return ufd;
}

/* A decimal number that is all of S, >= 0. */
static bool parse_ll(const char *s, long long *v_r)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v_r = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool parse_sum(const char *s, uint64_t *v_r)
{
	char *end;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return false;
	errno = 0;
	*v_r = strtoull(s, &end, 16);
	return errno == 0 && *end == '\0';
}

/*
 * The record, read strictly: the lines in the order record_write puts
 * them, each name unescaped; a line it cannot have written (a name of a
 * version 1 record that held a newline, say) refuses the record, naming
 * its file and line.
 */
static int record_read(const char *work_dir, const char *user,
		       const char *dirname, struct rb_record *r,
		       struct m2d_error *err)
{
	char *line = NULL, path[PATH_MAX];
	size_t size = 0;
	unsigned long lineno = 0;
	ssize_t len;
	FILE *f;
	int ufd;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s/%s/%s", work_dir, RECORD_DIR,
		 user, record_name(dirname));
	ufd = record_dir(work_dir, user, false, err);
	if (ufd == -2)
		return 0;
	if (ufd < 0)
		return -1;
	f = sf_fopen_read(ufd, record_name(dirname), RECORD_MAX, NULL, path,
			  err);
	close(ufd);
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	r->exists = true;
	while ((len = getline(&line, &size, f)) > 0) {
		bool ok;

		lineno++;
		if (line[len - 1] != '\n' || strlen(line) != (size_t)len) {
			ok = false;	/* cut short, or a NUL: not ours */
		} else if ((line[--len] = '\0', lineno == 1)) {
			r->version = strcmp(line, RECORD_MAGIC) == 0 ? 2 :
				strcmp(line, RECORD_MAGIC_V1) == 0 ? 1 : 0;
			ok = r->version > 0;
		} else if (lineno == 2) {
			r->pending = strcmp(line, "state pending") == 0;
			ok = r->pending || strcmp(line, "state done") == 0;
		} else if (lineno == 3) {
			ok = strncmp(line, "before ", 7) == 0 &&
				parse_ll(line + 7, &r->before);
		} else if (lineno == 4 && r->version == 2) {
			ok = strncmp(line, "beforesum ", 10) == 0 &&
				parse_sum(line + 10, &r->before_sum);
		} else if (lineno == (r->version == 2 ? 5u : 4u)) {
			ok = strncmp(line, "size ", 5) == 0 &&
				parse_ll(line + 5, &r->size);
		} else {
			ok = strncmp(line, "m ", 2) == 0 && line[2] != '\0' &&
				(r->version == 1 ||
				 str_field_unescape(line + 2) == 0);
			if (ok && record_add(r, line + 2) < 0) {
				free(line);
				fclose(f);
				return oom(err, path);
			}
		}
		if (!ok) {
			free(line);
			fclose(f);
			record_free(r);
			m2d_error_set(err, M2D_ERR_MALFORMED, path,
				      _("not a rollback record as "
					"mbox2dovecot writes it (damaged or "
					"forged); nothing done for this "
					"folder: check it by hand"));
			m2d_error_at(err, -1, lineno);
			return -1;
		}
	}
	if (len < 0 && ferror(f)) {
		free(line);
		fclose(f);
		record_free(r);
		return m2d_error_sys(err, "read", path);
	}
	free(line);
	fclose(f);
	if (lineno < (r->version == 2 ? 5u : 4u)) {
		record_free(r);
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("a rollback record cut short (damaged or "
				"forged); nothing done for this folder: check "
				"it by hand"));
		m2d_error_at(err, -1, lineno);
		return -1;
	}
	r->exists = true;
	if (r->nbases > 0)
		qsort(r->bases, r->nbases, sizeof(*r->bases), str_cmp);
	return 0;
}

/* Written whole: temp file, fsync, rename, fsync of the directory. */
static int record_write(const char *work_dir, const char *user,
			const char *dirname, const struct rb_record *r,
			struct m2d_error *err)
{
	const char *name = record_name(dirname);
	char tmp[300], *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	int ufd, fd = -1, ret = -1;

	if (mem == NULL)
		return oom(err, work_dir);
	fprintf(mem, "%s\nstate %s\nbefore %lld\nbeforesum %016" PRIx64
		"\nsize %lld\n", RECORD_MAGIC, r->pending ? "pending" : "done",
		r->before, r->before_sum, r->size);
	for (size_t i = 0; i < r->nbases; i++) {
		/* a name is one field: no byte of it starts a line */
		fputs("m ", mem);
		str_field_fput(mem, r->bases[i]);
		fputc('\n', mem);
	}
	if (fclose(mem) != 0) {
		free(text);
		return oom(err, work_dir);
	}
	ufd = record_dir(work_dir, user, true, err);
	if (ufd < 0) {
		free(text);
		return -1;
	}
	/* records are "INBOX" or begin with '.': "#" never is one */
	snprintf(tmp, sizeof(tmp), "#%s.tmp", name);
	unlinkat(ufd, tmp, 0);
	fd = sf_create(ufd, tmp, -1, -1, work_dir, err);
	if (fd < 0)
		goto out;
	if (sf_write_all(fd, text, size, work_dir, err) < 0)
		goto out;
	if (fsync(fd) < 0) {
		m2d_error_sys(err, "fsync", work_dir);
		goto out;
	}
	if (renameat(ufd, tmp, ufd, name) < 0) {
		m2d_error_sys(err, "rename", work_dir);
		goto out;
	}
	if (fsync(ufd) < 0) {
		m2d_error_sys(err, "fsync", work_dir);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlinkat(ufd, tmp, 0);
	close(ufd);
	free(text);
	return ret;
}

/* ---- writing at the end of the mbox ---- */

struct rb_out {
	int fd;
	const char *path;
	off_t off;		/* where the buffer goes */
	size_t len;
	char last;		/* the last byte given */
	char buf[65536];
};

static int out_flush(struct rb_out *o, struct m2d_error *err)
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

static int out_write(struct rb_out *o, const void *data, size_t len,
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

static int out_str(struct rb_out *o, const char *s, struct m2d_error *err)
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

static bool blank_line(const char *line, size_t len)
{
	return (len == 1 && line[0] == '\n') ||
		(len == 2 && line[0] == '\r' && line[1] == '\n');
}

/*
 * A message file read in pieces: a line up to its newline, or as much of
 * a long one as the buffer holds (a message with no newline costs no more
 * memory than the buffer).  A piece that begins a line holds at least
 * its first 16 bytes (or the whole line).
 */
struct rb_in {
	int fd;
	size_t start, end;
	bool eof, bol;		/* bol: the next piece begins a line */
	char buf[65536];
};

static void in_init(struct rb_in *in, int fd)
{
	in->fd = fd;
	in->start = in->end = 0;
	in->eof = false;
	in->bol = true;
}

/* The next piece into *P_R, its length; 0 at the end, -1 (errno). *BOL_R
 * tells whether it begins a line. */
static ssize_t in_piece(struct rb_in *in, const char **p_r, bool *bol_r)
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
static int find_sender(struct rb_in *in, char *out, size_t size)
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

static bool has_word_ci(const char *list, const char *word);

struct rb_status {
	unsigned long uid;		/* X-UID, 0 = none */
	const char *imapbase;		/* "X-IMAPbase: ...\n" or NULL */
};

/* UW's status block (unix_xstatus) for MSG. */
static int write_status(struct rb_out *o, const struct rb_maildir *md,
			const struct rb_msg *m, const struct rb_status *st,
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
		if (!(m->keywords & (1u << i)) || md->keywords[i] == NULL)
			continue;
		rc = out_str(o, " ", err);
		if (rc == 0)
			rc = out_str(o, md->keywords[i], err);
	}
	if (rc == 0)
		rc = out_str(o, "\n", err);
	if (rc == 0 && st->uid != 0) {
		snprintf(buf, sizeof(buf), "X-UID: %lu\n", st->uid);
		rc = out_str(o, buf, err);
	}
	return rc;
}

/* One maildir message at the end of the mbox. */
static int write_message(struct rb_out *o, const struct rb_maildir *md,
			 const struct rb_msg *m, const struct rb_status *st,
			 struct m2d_error *err)
{
	char sender[256], from[512], path[PATH_MAX];
	const char *line;
	bool header = true, dropping = false, bol;
	struct stat fst;
	struct rb_in *in = NULL;
	ssize_t len;
	int rc = -1, fd;

	/* a file of the user's: read only if it is a regular file, the
	 * user's (not a hard link to somebody else's), not sparse, not
	 * larger than a message can be */
	snprintf(path, sizeof(path), "%s/%s/%s", md->path,
		 m->in_new ? "new" : "cur", m->name);
	fd = sf_open_read(m->in_new ? md->newfd : md->curfd, m->name,
			  md->max_message, &fst, path, err);
	if (fd < 0)
		return -1;
	if (fst.st_uid != (uid_t)md->owner) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("a message file that is not the user's "
				"(owner %ld); not read"), (long)fst.st_uid);
		goto out;
	}
	if (!md->allow_sparse && sf_is_sparse(fd, &fst)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("a sparse file (%lld bytes, fewer on disk): "
				"no message is; not read (allow_sparse)"),
			      (long long)fst.st_size);
		goto out;
	}
	in = malloc(sizeof(*in));
	if (in == NULL) {
		oom(err, path);
		goto out;
	}
	in_init(in, fd);
	if (find_sender(in, sender, sizeof(sender)) < 0) {
		m2d_error_sys(err, "read", path);
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		m2d_error_sys(err, "lseek", path);
		goto out;
	}
	in_init(in, fd);
	if (from_line_format(sender, m->mtime, from, sizeof(from)) < 0 &&
	    from_line_format(NULL, m->mtime, from, sizeof(from)) < 0) {
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("its date cannot be written in a From_ line"));
		goto out;
	}
	if (out_str(o, from, err) < 0)
		goto out;
	while ((len = in_piece(in, &line, &bol)) > 0) {
		size_t n = (size_t)len;

		if (header && bol) {
			if (blank_line(line, n)) {
				header = false;
				if (write_status(o, md, m, st, err) < 0 ||
				    out_write(o, line, n, err) < 0)
					goto out;
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
			goto out;
		if (out_write(o, line, n, err) < 0)
			goto out;
	}
	if (len < 0) {
		m2d_error_sys(err, "read", path);
		goto out;
	}
	if (header) {
		/* no body: the header ends here */
		if (o->last != '\n' && out_str(o, "\n", err) < 0)
			goto out;
		if (write_status(o, md, m, st, err) < 0 ||
		    out_str(o, "\n", err) < 0)
			goto out;
	}
	if (o->last != '\n' && out_str(o, "\n", err) < 0)
		goto out;
	/* the empty line the mbox adds after each message */
	rc = out_str(o, "\n", err);
out:
	free(in);
	close(fd);
	return rc;
}

/* ---- the mbox ---- */

struct rb_mbox {
	char *path;
	int parentfd, fd;
	struct dotlock *dotlock;
	bool created;
};

static void mbox_close(struct rb_mbox *mb)
{
	if (mb->fd >= 0)
		close(mb->fd);	/* ends the flock and fcntl locks */
	dotlock_release(&mb->dotlock);
	if (mb->parentfd >= 0)
		close(mb->parentfd);
	free(mb->path);
	memset(mb, 0, sizeof(*mb));
	mb->parentfd = mb->fd = -1;
}

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

/* The base (home or spool) PATH lies below: the admin's directory. */
static const char *path_base(const struct m2d_config *cfg,
			     const struct plan_user *u, const char *path,
			     char *buf, size_t size)
{
	const char *bases[2] = { u->home, cfg->spool_dir };
	const char *slash;

	for (int i = 0; i < 2; i++) {
		size_t n;

		if (bases[i] == NULL)
			continue;
		n = strlen(bases[i]);
		while (n > 1 && bases[i][n - 1] == '/')
			n--;
		if (strncmp(path, bases[i], n) == 0 && path[n] == '/') {
			snprintf(buf, size, "%.*s", (int)n, bases[i]);
			return buf;
		}
	}
	slash = strrchr(path, '/');
	snprintf(buf, size, "%.*s", slash != NULL && slash != path ?
		 (int)(slash - path) : 1, slash != NULL ? path : "/");
	return buf;
}

static int lock_mbox(struct rb_mbox *mb, const char *leaf, bool dry_run,
		     struct m2d_error *err)
{
	struct flock fl;

	if (dotlock_take_at(mb->parentfd, leaf, mb->path, !dry_run, false,
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

/* The checksums (the journal's kind) of the first SIZE bytes of FD into
 * *HASH_R and, when HASH2_R is not NULL, of the first SIZE2 (>= SIZE)
 * into *HASH2_R: one pass. */
static int prefix_hash2(int fd, long long size, uint64_t *hash_r,
			long long size2, uint64_t *hash2_r, const char *path,
			struct m2d_error *err)
{
	struct m2d_hash h;
	char buf[65536];
	long long off = 0, end = hash2_r != NULL ? size2 : size;

	m2d_hash_init(&h);
	while (off < end) {
		long long stop = off < size ? size : end;
		size_t want = stop - off < (long long)sizeof(buf) ?
			(size_t)(stop - off) : sizeof(buf);
		ssize_t n;

		if (off == size)
			*hash_r = m2d_hash_final(&h);
		n = pread(fd, buf, want, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return m2d_error_sys(err, "read", path);
		if (n == 0)
			return m2d_error_set(err, M2D_ERR_CHANGED, path,
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

static int prefix_hash(int fd, long long size, uint64_t *hash_r,
		       const char *path, struct m2d_error *err)
{
	return prefix_hash2(fd, size, hash_r, size, NULL, path, err);
}

/* The bytes at OFF are the start of what we append ("From " or "\nFrom
 * ", or the beginning of either where the file ends). */
static bool our_append_at(int fd, long long off)
{
	char head[6];
	ssize_t n = pread(fd, head, sizeof(head), off);

	if (n <= 0)
		return false;
	return memcmp(head, "From ", (size_t)n < 5 ? (size_t)n : 5) == 0 ||
		memcmp(head, "\nFrom ", (size_t)n) == 0;
}

/* ---- the flag report ---- */

struct rb_old {
	unsigned long uid;
	unsigned int flags;	/* maildir flags the mbox had */
	char *keywords;		/* X-Keywords */
};

static void olds_free(struct rb_old *olds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(olds[i].keywords);
	free(olds);
}

/* The first MESSAGES messages of the mbox: their UIDs by UW's rules (as
 * the conversion gave them), flags and keywords. */
static int read_olds(int fd, const char *path, unsigned long messages,
		     bool mboxrd, struct rb_old **olds_r, size_t *n_r,
		     char **declared_r, struct m2d_error *err)
{
	struct mbox_reader_settings set = { .mboxrd = mboxrd };
	struct mbox_reader *reader = NULL;
	struct rb_old *olds = NULL;
	struct uw_uids uids;
	struct mbox_msg msg;
	size_t n = 0;
	int rc = 0;

	memset(&uids, 0, sizeof(uids));

	*olds_r = NULL;
	*n_r = 0;
	*declared_r = NULL;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return m2d_error_sys(err, "lseek", path);
	if (mbox_reader_open_fd(fd, path, &set, &reader, err) < 0)
		return -1;
	if (messages == 0) {
		/* only the folder's data (a pseudo-message alone) */
		rc = mbox_reader_next(reader, &msg, err);
		if (rc >= 0)
			*declared_r = strdup(mbox_reader_meta(reader)->keywords
					     != NULL ? mbox_reader_meta(reader)->
					     keywords : "");
		mbox_reader_close(&reader);
		return rc < 0 ? -1 : 0;
	}
	olds = calloc(messages, sizeof(*olds));
	if (olds == NULL) {
		mbox_reader_close(&reader);
		return oom(err, path);
	}
	while (n < messages && (rc = mbox_reader_next(reader, &msg, err)) > 0) {
		bool reset;

		if (n == 0) {
			const struct mbox_meta *meta = mbox_reader_meta(reader);

			uw_uids_init(&uids, meta);
			*declared_r = strdup(meta->keywords != NULL ?
					     meta->keywords : "");
		}
		olds[n].uid = uw_uids_next(&uids, &msg, &reset);
		olds[n].flags = convert_maildir_flags(msg.flags);
		olds[n].keywords = strdup(msg.keywords != NULL ?
					  msg.keywords : "");
		n++;
	}
	mbox_reader_close(&reader);
	if (n < messages && rc < 0) {
		olds_free(olds, n);
		free(*declared_r);
		*declared_r = NULL;
		return -1;
	}
	if (n > 0 && !uids.trust) {
		/* UW would have renumbered: so did the conversion */
		for (size_t i = 0; i < n; i++)
			olds[i].uid = i + 1;
	}
	*olds_r = olds;
	*n_r = n;
	return 0;
}

static bool has_word_ci(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (*list != '\0') {
		size_t len;

		list += strspn(list, " ");
		len = strcspn(list, " ");
		if (len == n && strncasecmp(list, word, n) == 0)
			return true;
		list += len;
	}
	return false;
}

static size_t count_words(const char *list)
{
	size_t count = 0;

	while (*list != '\0') {
		list += strspn(list, " ");
		if (*list == '\0')
			break;
		count++;
		list += strcspn(list, " ");
	}
	return count;
}

static bool old_changed(const struct rb_maildir *md, const struct rb_msg *m,
			const struct rb_old *o)
{
	size_t nkw = 0;

	/* \Recent is no flag a user sets; P (passed) UW has not */
	if ((m->flags & ~(unsigned int)MAILDIR_PASSED) != o->flags)
		return true;
	for (int i = 0; i < MAILDIR_MAX_KEYWORDS; i++) {
		if (!(m->keywords & (1u << i)) || md->keywords[i] == NULL)
			continue;
		if (!has_word_ci(o->keywords, md->keywords[i]))
			return true;
		nkw++;
	}
	return nkw != count_words(o->keywords);
}

static int by_old_uid(const void *a, const void *b)
{
	const struct rb_old *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* ---- one folder ---- */

struct rb_folder {
	const struct plan_user *user;
	const char *name;		/* IMAP name */
	const char *root;		/* the user's maildir root */
	const char *dirname;		/* "" INBOX, ".a.b" */
	const char *mbox;		/* path */
	const struct journal_folder *journal;	/* NULL: new after cutover */
};

static int carry_folder(const struct rollback_settings *set,
			const struct rb_folder *fo,
			struct rollback_folder_report *rep,
			struct m2d_error *err)
{
	const struct m2d_config *cfg = set->cfg;
	const struct journal_folder *jf = fo->journal;
	struct rb_maildir md;
	struct rb_record rec = { 0 };
	struct rb_mbox mb = { NULL, -1, -1, NULL, false };
	struct rb_old *olds = NULL;
	struct rb_out *out = NULL;
	struct stat st;
	char basebuf[PATH_MAX], imapbase[1024];
	const char *leaf = NULL;
	size_t nolds = 0, i, ntodo = 0;
	long long before;
	unsigned long *xuids = NULL;
	char *declared = NULL;
	bool with_base, wrote = false;
	int rc, ret = -1;

	rc = maildir_open(&md, fo->root, fo->dirname, fo->user->uid, err);
	/* the limits the admin set for a message (m2d-config.h) */
	md.max_message = cfg->max_message_size > (unsigned long long)
		INT64_MAX ? 0 : (off_t)cfg->max_message_size;
	md.allow_sparse = cfg->allow_sparse;
	if (rc <= 0) {
		maildir_free(&md);
		if (rc == 0)
			rep->gone = true;
		return rc;
	}
	/*
	 * Which files came from the mbox is told by the UIDs of the
	 * uidlist (read once, through one descriptor: one version of it).
	 * Dovecot never lowers the next UID nor changes the UIDVALIDITY of
	 * a folder it keeps: a uidlist absent, of another UIDVALIDITY or
	 * with a next UID below the one the migration recorded is not the
	 * folder's (swapped back by its user, say) and would make old
	 * messages look new: they would be appended again (H5-24).
	 */
	if (jf != NULL && jf->nextuid > 1 &&
	    (md.uidvalidity == 0 || md.nextuid < jf->nextuid ||
	     (jf->uidvalidity != 0 && md.uidvalidity != jf->uidvalidity))) {
		char upath[PATH_MAX];

		sub_path(upath, sizeof(upath), md.path, "dovecot-uidlist");
		if (md.uidvalidity == 0)
			m2d_error_set(err, M2D_ERR_CHANGED, upath,
				      _("missing or without UIDVALIDITY: which "
					"messages came from the mbox cannot "
					"be told; nothing carried from this "
					"folder"));
		else
			m2d_error_set(err, M2D_ERR_CHANGED, upath,
				      _("older than the migration or not "
					"the folder's (UIDVALIDITY %lu, next "
					"UID %lu; the migration recorded %lu, "
					"%lu): replaced since?  Old messages "
					"would look new; nothing carried from "
					"this folder"), md.uidvalidity,
				      md.nextuid, jf->uidvalidity,
				      jf->nextuid);
		goto out;
	}
	if (record_read(cfg->work_dir, fo->user->name, fo->dirname, &rec,
			err) < 0)
		goto out;
	for (i = 0; i < md.nmsgs; i++) {
		const struct rb_msg *m = &md.msgs[i];

		if (jf != NULL && m->uid != 0 && m->uid < jf->nextuid)
			continue;	/* came from the mbox */
		if (record_has(&rec, m->base))
			rep->earlier++;
		else
			ntodo++;
	}

	/* no inbox was migrated (its spool file refused, say) and no mail
	 * reached the maildir's root since: the spool file, whatever it is,
	 * is left alone (a user's odd spool file must not fail the whole
	 * rollback) */
	if (jf == NULL && fo->dirname[0] == '\0' && ntodo == 0 && !rec.exists) {
		rep->gone = true;	/* nothing to say either */
		ret = 0;
		goto out;
	}

	/* the mbox: existing, or made for a folder new since cutover */
	mb.path = strdup(fo->mbox);
	if (mb.path == NULL) {
		oom(err, fo->mbox);
		goto out;
	}
	path_base(cfg, fo->user, fo->mbox, basebuf, sizeof(basebuf));
	if (jf == NULL && !rec.exists && set->dry_run &&
	    lstat(fo->mbox, &st) < 0 && errno == ENOENT) {
		/* would be made */
		rep->created = true;
		rep->appended = ntodo;
		ret = 0;
		goto out;
	}
	mb.parentfd = open_parent(basebuf, fo->mbox, jf == NULL && !set->dry_run,
				  fo->user->uid, fo->user->gid, &leaf, err);
	if (mb.parentfd < 0)
		goto out;
	/* never a symlink, a FIFO (it would block the open) or a device */
	mb.fd = sf_open_file(mb.parentfd, leaf, set->dry_run ? O_RDONLY : O_RDWR,
			     0, NULL, mb.path, err);
	if (jf == NULL && !rec.exists && !set->dry_run) {
		/* a folder made after cutover: a new mbox, owned by the user,
		 * 0600, never over an existing file (an mbox that was not
		 * migrated, say) */
		if (mb.fd >= 0) {
			m2d_error_set(err, M2D_ERR_EXISTS, mb.path,
				      _("a folder made after cutover, but an "
					"mbox of that name exists (it was not "
					"migrated): its messages stay in the "
					"maildir"));
			goto out;
		}
		if (errno != ENOENT)
			goto out;	/* ERR says why */
		m2d_error_clear(err);
		mb.fd = sf_create(mb.parentfd, leaf, fo->user->uid,
				  fo->user->gid, mb.path, err);
		if (mb.fd < 0)
			goto out;
		mb.created = rep->created = true;
	} else if (mb.fd < 0) {
		goto out;		/* ERR says why */
	}
	if (fstat(mb.fd, &st) < 0) {
		m2d_error_sys(err, "fstat", mb.path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		m2d_error_set(err, M2D_ERR_UNSAFE, mb.path,
			      _("not a regular file with one link"));
		goto out;
	}
	/* every byte before the end is read (its checksum): a sparse
	 * giant would cost hours, and no mbox has holes */
	if (!cfg->allow_sparse && sf_is_sparse(mb.fd, &st)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, mb.path,
			      _("a sparse file (%lld bytes, fewer on disk): "
				"no mbox is; nothing written"),
			      (long long)st.st_size);
		goto out;
	}
	if (lock_mbox(&mb, leaf, set->dry_run, err) < 0)
		goto out;
	if (fstat(mb.fd, &st) < 0) {
		m2d_error_sys(err, "fstat", mb.path);
		goto out;
	}

	/* a run that died while appending: what it wrote is cut off (the
	 * dotlock and the hold of delivery kept everyone else away), once
	 * the bytes before it are verified to be those the record saw */
	if (rec.pending && !set->dry_run) {
		if (st.st_size > rec.before) {
			uint64_t h = 0;

			if (!our_append_at(mb.fd, rec.before)) {
				m2d_error_set(err, M2D_ERR_CHANGED, mb.path,
					      _("changed after an interrupted "
						"rollback; check it by hand"));
				goto out;
			}
			if (rec.version >= 2) {
				if (prefix_hash(mb.fd, rec.before, &h, mb.path,
						err) < 0)
					goto out;
				if (h != rec.before_sum) {
					m2d_error_set(err, M2D_ERR_CHANGED,
						      mb.path,
						      _("its first %lld bytes "
							"are not those an "
							"interrupted rollback "
							"saw; nothing cut: "
							"check it by hand"),
						      rec.before);
					goto out;
				}
			} else if (jf == NULL || rec.before < jf->source.size) {
				m2d_error_set(err, M2D_ERR_CHANGED, mb.path,
					      _("a rollback by an earlier "
						"version was interrupted here "
						"and what it saw cannot be "
						"verified; nothing cut: check "
						"it by hand"));
				goto out;
			} else {
				if (prefix_hash(mb.fd, jf->source.size, &h,
						mb.path, err) < 0)
					goto out;
				if (h != jf->source.checksum) {
					m2d_error_set(err, M2D_ERR_CHANGED,
						      mb.path,
						      _("its first %lld bytes "
							"are not those that "
							"were converted; "
							"nothing cut: check it "
							"by hand"),
						      jf->source.size);
					goto out;
				}
			}
			if (ftruncate(mb.fd, rec.before) < 0 ||
			    fsync(mb.fd) < 0) {
				m2d_error_sys(err, "ftruncate", mb.path);
				goto out;
			}
			st.st_size = rec.before;
		}
		rec.pending = false;
		rec.size = rec.before;
	}

	/* the old bytes must be the ones we converted; the checksum of
	 * all there is goes into the record before we append */
	if (jf == NULL && !set->dry_run && ntodo > 0 &&
	    prefix_hash(mb.fd, st.st_size, &rec.before_sum, mb.path,
			err) < 0)
		goto out;
	if (jf != NULL) {
		uint64_t h = 0;

		if (st.st_size < jf->source.size) {
			m2d_error_set(err, M2D_ERR_CHANGED, mb.path,
				      _("shorter than when it was converted "
					"(%lld bytes, then %lld)"),
				      (long long)st.st_size, jf->source.size);
			goto out;
		}
		if (prefix_hash2(mb.fd, jf->source.size, &h, st.st_size,
				 set->dry_run || ntodo == 0 ? NULL :
				 &rec.before_sum, mb.path, err) < 0)
			goto out;
		if (h != jf->source.checksum) {
			m2d_error_set(err, M2D_ERR_CHANGED, mb.path,
				      _("its first %lld bytes are not those "
					"that were converted"),
				      jf->source.size);
			goto out;
		}
		if (st.st_size > 0 &&
		    read_olds(mb.fd, mb.path, jf->messages, cfg->mboxrd, &olds,
			      &nolds, &declared, err) < 0)
			goto out;
		if (nolds > 0)
			qsort(olds, nolds, sizeof(*olds), by_old_uid);
		for (i = 0; i < md.nmsgs; i++) {
			struct rb_old key, *o;

			if (md.msgs[i].uid == 0 ||
			    md.msgs[i].uid >= jf->nextuid)
				continue;
			key.uid = md.msgs[i].uid;
			o = nolds == 0 ? NULL :
				bsearch(&key, olds, nolds, sizeof(*olds),
					by_old_uid);
			if (o == NULL)
				continue;
			o->uid = 0;	/* seen in the maildir */
			if (old_changed(&md, &md.msgs[i], o))
				rep->flags_changed++;
		}
		for (i = 0; i < nolds; i++)
			if (olds[i].uid != 0)
				rep->expunged++;
	}
	if (jf == NULL && st.st_size > 0 && ntodo > 0 &&
	    read_olds(mb.fd, mb.path, 0, cfg->mboxrd, &olds, &nolds, &declared,
		      err) < 0)
		goto out;	/* an mbox made by an earlier run: its keywords */
	if (set->dry_run) {
		rep->appended = ntodo;
		ret = 0;
		goto out;
	}
	if (ntodo == 0) {
		/* a new, empty folder: its mbox is ours from now on */
		if (mb.created) {
			rec.size = 0;
			if (record_write(cfg->work_dir, fo->user->name,
					 fo->dirname, &rec, err) < 0)
				goto out;
		}
		ret = 0;
		goto out;
	}

	/* an empty mbox gets UW's folder data with Dovecot's UIDVALIDITY
	 * and every message its X-UID; an mbox with old content none (an
	 * X-UID above the last UID of its old X-IMAP/X-IMAPbase would make
	 * UW reset the UIDVALIDITY: rollback.h) */
	before = st.st_size;
	with_base = before == 0 && md.uidvalidity != 0;
	if (with_base) {
		unsigned long next = 1, last = 0;
		size_t off;

		/* Dovecot's UIDs; one not yet listed gets the next free one,
		 * as Dovecot would give it */
		xuids = calloc(md.nmsgs, sizeof(*xuids));
		if (xuids == NULL) {
			oom(err, mb.path);
			goto out;
		}
		for (i = 0; i < md.nmsgs; i++) {
			const struct rb_msg *m = &md.msgs[i];

			if ((jf != NULL && m->uid != 0 && m->uid < jf->nextuid) ||
			    record_has(&rec, m->base))
				continue;
			if (m->uid != 0)
				last = m->uid > next ? m->uid : next;
			else
				last = next > md.nextuid ? next : md.nextuid;
			xuids[i] = last;
			next = last + 1;
		}
		off = (size_t)snprintf(imapbase, sizeof(imapbase),
				       "X-IMAPbase: %010lu %010lu",
				       md.uidvalidity, last);
		for (int k = 0; k < MAILDIR_MAX_KEYWORDS; k++) {
			if (md.keywords[k] != NULL &&
			    off + strlen(md.keywords[k]) + 3 < sizeof(imapbase))
				off += (size_t)snprintf(imapbase + off,
							sizeof(imapbase) - off,
							" %s", md.keywords[k]);
		}
		snprintf(imapbase + off, sizeof(imapbase) - off, "\n");
	}

	/* the record first: a run that dies now is cut back by the next */
	rec.pending = true;
	rec.before = before;
	if (record_write(cfg->work_dir, fo->user->name, fo->dirname, &rec,
			 err) < 0)
		goto out;
	wrote = true;
	out = malloc(sizeof(*out));
	if (out == NULL) {
		oom(err, mb.path);
		goto undo;
	}
	out->fd = mb.fd;
	out->path = mb.path;
	out->off = before;
	out->len = 0;
	out->last = '\n';
	if (before > 0) {
		char c;

		/* a last line without its newline would swallow our From_ */
		if (pread(mb.fd, &c, 1, before - 1) != 1) {
			m2d_error_sys(err, "read", mb.path);
			goto undo;
		}
		if (c != '\n' && out_str(out, "\n", err) < 0)
			goto undo;
	}
	for (i = 0; i < md.nmsgs; i++) {
		const struct rb_msg *m = &md.msgs[i];
		struct rb_status sts = { 0, NULL };

		if ((jf != NULL && m->uid != 0 && m->uid < jf->nextuid) ||
		    record_has(&rec, m->base))
			continue;
		/*
		 * UW knows the keywords its X-IMAP/X-IMAPbase declares, and
		 * no others: imap-2007 (libc-client2007e, seen here) ignores
		 * an undeclared keyword in X-Keywords when it opens the
		 * folder, and drops it when it rewrites the folder.  The
		 * declaration lies in the old bytes: such messages are
		 * counted for the report, their X-Keywords written anyway.
		 */
		if (!with_base) {
			for (int k = 0; k < MAILDIR_MAX_KEYWORDS; k++) {
				if ((m->keywords & (1u << k)) &&
				    md.keywords[k] != NULL &&
				    !has_word_ci(declared != NULL ? declared :
						 "", md.keywords[k])) {
					rep->keywords_lost++;
					break;
				}
			}
		}
		if (with_base) {
			sts.uid = xuids[i];
			sts.imapbase = rep->appended == 0 ? imapbase : NULL;
		}
		if (write_message(out, &md, m, &sts, err) < 0)
			goto undo;
		rep->appended++;
	}
	if (out_flush(out, err) < 0)
		goto undo;
	if (fsync(mb.fd) < 0) {
		m2d_error_sys(err, "fsync", mb.path);
		goto undo;
	}
	if (mb.created && fsync(mb.parentfd) < 0) {
		m2d_error_sys(err, "fsync", mb.path);
		goto undo;
	}
	/* done: the names appended, so that no run appends them again */
	for (i = 0; i < md.nmsgs; i++) {
		const struct rb_msg *m = &md.msgs[i];

		if ((jf != NULL && m->uid != 0 && m->uid < jf->nextuid) ||
		    record_has(&rec, m->base))
			continue;
		if (record_add(&rec, m->base) < 0) {
			oom(err, mb.path);
			goto undo;
		}
	}
	qsort(rec.bases, rec.nbases, sizeof(*rec.bases), str_cmp);
	rec.pending = false;
	rec.size = out->off;
	if (record_write(cfg->work_dir, fo->user->name, fo->dirname, &rec,
			 err) < 0)
		goto undo;
	ret = 0;
	goto out;
undo:
	/* the mbox as it was: its old bytes were never touched */
	if (ftruncate(mb.fd, before) == 0)
		(void)fsync(mb.fd);
	rep->appended = 0;
	rep->keywords_lost = 0;
	if (wrote) {
		struct m2d_error e2;

		rec.pending = false;
		rec.size = before;
		m2d_error_clear(&e2);
		(void)record_write(cfg->work_dir, fo->user->name, fo->dirname,
				   &rec, &e2);
	}
out:
	if (ret < 0 && mb.created && !wrote && leaf != NULL)
		unlinkat(mb.parentfd, leaf, 0);	/* made in vain */
	free(out);
	free(xuids);
	free(declared);
	olds_free(olds, nolds);
	mbox_close(&mb);
	record_free(&rec);
	maildir_free(&md);
	return ret;
}

/* ---- the users ---- */

/* The IMAP name of a Maildir++ directory (".a.b" -> "a/b"), or NULL. */
static char *name_from_dirname(const char *dirname)
{
	size_t len = strlen(dirname);
	char *out = malloc(2 * len + 2), *level = malloc(len + 1);
	const char *p = dirname + 1;
	size_t o = 0;

	if (out == NULL || level == NULL || dirname[0] != '.' || len < 2)
		goto fail;
	while (*p != '\0') {
		size_t n = strcspn(p, ".");
		int d;

		memcpy(level, p, n);
		level[n] = '\0';
		if (n == 0)
			goto fail;
		if (o > 0)
			out[o++] = '/';
		d = mutf7_decode(level, out + o, 2 * len + 2 - o);
		if (d < 0)
			goto fail;
		o += (size_t)d;
		p += n;
		if (*p == '.')
			p++;
	}
	out[o] = '\0';
	free(level);
	return out;
fail:
	free(out);
	free(level);
	return NULL;
}

/* ---- subscriptions of the folders made after cutover ---- */

#define SUBS_MAX ((off_t)1024 * 1024)
#define MAILBOXLIST_MAX ((off_t)4 * 1024 * 1024)

static void free_names(char **names)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/*
 * Dovecot's subscriptions file in the maildir ROOT (open as ROOTFD) as
 * IMAP names (UTF-8, '/' between levels): after a "V\t2" header TAB
 * separates the levels, in the plain form (ours, Dovecot 1.x) '.'; each
 * level is modified UTF-7.  Into *NAMES_R, NULL-terminated; NULL when
 * there is none.  Returns 0, or -1 with ERR when it cannot be read (a
 * FIFO, too large ...: then nothing is subscribed for UW either).
 */
static int dovecot_subscriptions(int rootfd, const char *root,
				 char ***names_r, struct m2d_error *err)
{
	char *path = NULL, *text = NULL, *line, *save = NULL;
	char **names = NULL;
	size_t n = 0;
	bool v2 = false;
	int r;

	*names_r = NULL;
	if (asprintf(&path, "%s/subscriptions", root) < 0)
		return oom(err, root);
	r = sf_read_text_at(rootfd, "subscriptions", SUBS_MAX, &text, NULL,
			    path, err);
	if (r <= 0)
		goto out;
	names = calloc(1, sizeof(*names));
	for (line = strtok_r(text, "\n", &save); line != NULL && names != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char out[1024], level[512];
		size_t o = 0;
		const char *p = line;
		char **grown;

		if (n == 0 && !v2 && strcmp(line, "V\t2") == 0) {
			v2 = true;
			continue;
		}
		while (*p != '\0') {
			size_t len = strcspn(p, v2 ? "\t" : ".");
			int d;

			if (len == 0 || len >= sizeof(level) ||
			    o + 1 >= sizeof(out))
				break;
			memcpy(level, p, len);
			level[len] = '\0';
			if (o > 0)
				out[o++] = '/';
			d = mutf7_decode(level, out + o, sizeof(out) - o);
			if (d < 0)
				break;
			o += (size_t)d;
			p += len;
			if (*p != '\0')
				p++;
		}
		if (*p != '\0' || o == 0)
			continue;	/* not a name we can carry */
		out[o] = '\0';
		grown = realloc(names, (n + 2) * sizeof(*names));
		if (grown == NULL)
			break;
		names = grown;
		if ((names[n] = strdup(out)) == NULL)
			break;
		names[++n] = NULL;
	}
out:
	free(text);
	free(path);
	*names_r = names;
	return r < 0 ? -1 : 0;
}

static bool is_subscribed(char *const *subs, const char *name)
{
	for (size_t i = 0; subs != NULL && subs[i] != NULL; i++)
		if (strcmp(subs[i], name) == 0)
			return true;
	return false;
}

/*
 * U's ~/.mailboxlist gets the line for MBOX (its path relative to the
 * home, as UW keeps it; absolute outside the home) unless it is there:
 * the whole file again by a temp file and a rename, as UW writes it, the
 * user's and 0600.  Returns 1 added, 0 there already, -1 ERR.
 */
static int mailboxlist_add(const struct plan_user *u, const char *mbox,
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
	if (asprintf(&path, "%s/.mailboxlist", u->home) < 0) {
		path = NULL;
		oom(err, u->home);
		goto out;
	}
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
	if (asprintf(&next, "%s%s%s\n", text != NULL ? text : "",
		     text != NULL && *text != '\0' &&
		     text[strlen(text) - 1] != '\n' ? "\n" : "", name) < 0) {
		next = NULL;
		oom(err, path);
		goto out;
	}
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

/* The first folder root of U: where folders made after cutover go. */
static char *first_root(const struct m2d_config *cfg,
			const struct plan_user *u)
{
	const char *r = cfg->nroots > 0 ? cfg->folder_roots[0] : "~/mail";
	char *out = NULL;

	if (r[0] == '~') {
		const char *rel = r + 1;

		while (*rel == '/')
			rel++;
		if (u->home == NULL)
			return NULL;
		if (asprintf(&out, "%s%s%s", u->home, rel[0] != '\0' ? "/" : "",
			     rel) < 0)
			return NULL;
		return out;
	}
	/* absolute, with %u */
	{
		size_t cap = strlen(r) * (strlen(u->name) + 1) + 1, n = 0;

		out = malloc(cap);
		if (out == NULL)
			return NULL;
		for (; *r != '\0'; r++) {
			if (r[0] == '%' && r[1] == 'u') {
				memcpy(out + n, u->name, strlen(u->name));
				n += strlen(u->name);
				r++;
			} else {
				out[n++] = *r;
			}
		}
		out[n] = '\0';
	}
	return out;
}

/* The mbox path of a folder in the journal: the plan's source, else from
 * its listed form ("user/INBOX", "user/REL" below the home). */
static char *journal_mbox(const struct m2d_config *cfg,
			  const struct plan *plan, const struct plan_user *u,
			  const struct journal_folder *jf)
{
	const char *rel;
	char *out = NULL;

	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip == PLAN_TAKEN && f->source != NULL &&
		    strcmp(f->listed, jf->listed) == 0)
			return strdup(f->source);
	}
	rel = jf->listed + strlen(u->name);
	if (*rel != '/')
		return NULL;
	rel++;
	if (strcmp(rel, "INBOX") == 0) {
		if (asprintf(&out, "%s/%s", cfg->spool_dir, u->name) < 0)
			return NULL;
	} else if (rel[0] == '/') {
		out = strdup(rel);
	} else if (u->home != NULL) {
		if (asprintf(&out, "%s/%s", u->home, rel) < 0)
			return NULL;
	}
	return out;
}

static void report_folder(const struct rollback_settings *set,
			  struct rollback_folder_report *rep,
			  struct rollback_totals *t)
{
	t->folders++;
	if (rep->error != NULL)
		t->failed++;
	t->appended += rep->appended;
	t->flags_changed += rep->flags_changed;
	t->expunged += rep->expunged;
	t->keywords_lost += rep->keywords_lost;
	if (rep->created && rep->error == NULL)
		t->created++;
	if (rep->subscribed)
		t->subscribed++;
	if (set->report != NULL)
		set->report(rep, set->ctx);
}

static bool wanted(const struct rollback_settings *set, const char *user)
{
	if (set->users == NULL)
		return true;
	for (size_t i = 0; set->users[i] != NULL; i++)
		if (strcmp(set->users[i], user) == 0)
			return true;
	return false;
}

static int by_dirname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void carry_user(const struct rollback_settings *set,
		       const struct plan *plan, const struct plan_user *u,
		       const struct journal_folder *jfs, size_t njfs,
		       struct rollback_totals *t)
{
	struct rollback_folder_report rep;
	struct m2d_error ferr, serr, suberr;
	char *root = NULL, **known = NULL, *froot = NULL, **subs = NULL;
	size_t nknown = 0;
	struct dirent *d;
	DIR *dir;
	int rootfd, subs_read = 0;
	bool subs_said = false;

	t->users++;
	/* Dovecot's subscriptions, read once, first: one that is refused (a
	 * FIFO, a symlink, a giant, sparse: not Dovecot's) is said with the
	 * user's first folder and counted, whether or not a folder made
	 * after cutover needs it (every command that reads a
	 * place says what it refused) */
	{
		const char *r0 = u->target;
		int fd;

		for (size_t i = 0; i < njfs; i++)
			if (strcmp(jfs[i].user, u->name) == 0) {
				r0 = jfs[i].target;
				break;
			}
		m2d_error_clear(&suberr);
		fd = r0 != NULL ? sf_open_dir(AT_FDCWD, r0, r0, &suberr) : -1;
		if (fd >= 0) {
			subs_read = dovecot_subscriptions(fd, r0, &subs,
							  &suberr) < 0 ? -1 :
				1;
			close(fd);
		}
		if (subs_read < 0)
			t->refused++;
	}
	for (size_t i = 0; i < njfs; i++) {
		const struct journal_folder *jf = &jfs[i];
		struct rb_folder fo;
		char *mbox, *name, **k;

		if (strcmp(jf->user, u->name) != 0)
			continue;
		if (root == NULL)
			root = strdup(jf->target);
		k = realloc(known, (nknown + 1) * sizeof(*k));
		if (k != NULL) {
			known = k;
			known[nknown++] = jf->dirname;
		}
		memset(&rep, 0, sizeof(rep));
		m2d_error_clear(&ferr);
		mbox = journal_mbox(set->cfg, plan, u, jf);
		name = jf->dirname[0] == '\0' ? strdup("INBOX") :
			name_from_dirname(jf->dirname);
		rep.user = u->name;
		rep.name = name != NULL ? name : jf->dirname;
		rep.mbox = mbox != NULL ? mbox : jf->listed;
		if (jf->state != JOURNAL_DONE) {
			m2d_error_set(&ferr, M2D_ERR_CHANGED, jf->listed,
				      _("its conversion never finished: "
					"nothing to carry back"));
			rep.error = &ferr;
		} else if (mbox == NULL) {
			m2d_error_set(&ferr, M2D_ERR_USAGE, jf->listed,
				      _("where its mbox is cannot be told"));
			rep.error = &ferr;
		} else {
			fo.user = u;
			fo.name = rep.name;
			fo.root = jf->target;
			fo.dirname = jf->dirname;
			fo.mbox = mbox;
			fo.journal = jf;
			if (carry_folder(set, &fo, &rep, &ferr) < 0)
				rep.error = &ferr;
		}
		if (subs_read < 0 && !subs_said) {
			rep.subscribe_error = &suberr;
			rep.subscriptions_refused = subs_said = true;
		}
		report_folder(set, &rep, t);
		free(mbox);
		free(name);
	}

	/* folders made in the maildir after cutover */
	if (root == NULL)
		root = u->target != NULL ? strdup(u->target) : NULL;
	if (root == NULL)
		goto out;
	if (nknown > 0)
		qsort(known, nknown, sizeof(*known), by_dirname);
	{
		const char *inbox = "";

		if (nknown == 0 || bsearch(&inbox, known, nknown,
					   sizeof(*known), by_dirname) == NULL) {
			/* no inbox was migrated (no spool file then), but
			 * Postfix delivered into the maildir root since */
			struct rb_folder fo;
			char *mbox = NULL;

			memset(&rep, 0, sizeof(rep));
			m2d_error_clear(&ferr);
			rep.user = u->name;
			rep.name = "INBOX";
			if (asprintf(&mbox, "%s/%s", set->cfg->spool_dir,
				     u->name) < 0) {
				mbox = NULL;
				oom(&ferr, set->cfg->spool_dir);
				rep.error = &ferr;
			} else {
				rep.mbox = mbox;
				fo.user = u;
				fo.name = "INBOX";
				fo.root = root;
				fo.dirname = "";
				fo.mbox = mbox;
				fo.journal = NULL;
				if (carry_folder(set, &fo, &rep, &ferr) < 0)
					rep.error = &ferr;
			}
			if (!rep.gone) {
				if (subs_read < 0 && !subs_said) {
					rep.subscribe_error = &suberr;
					rep.subscriptions_refused = true;
					subs_said = true;
				}
				report_folder(set, &rep, t);
			}
			free(mbox);
		}
	}
	/* the maildir root is the user's: not followed if a symlink (the
	 * INBOX above, in the root, has reported why) */
	rootfd = sf_open_dir(AT_FDCWD, root, root, &ferr);
	if (rootfd < 0)
		goto out;
	dir = fdopendir(rootfd);
	if (dir == NULL) {
		close(rootfd);
		goto out;
	}
	froot = first_root(set->cfg, u);
	while ((d = readdir(dir)) != NULL) {
		const char *dn = d->d_name;
		struct rb_folder fo;
		struct stat st;
		char maildir_dn[256], *name, *mbox = NULL;

		if (dn[0] != '.' || strcmp(dn, ".") == 0 ||
		    strcmp(dn, "..") == 0 ||
		    (nknown > 0 && bsearch(&dn, known, nknown, sizeof(*known),
					   by_dirname) != NULL))
			continue;
		if (fstatat(dirfd(dir), dn, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		{
			char cur[300];

			snprintf(cur, sizeof(cur), "%s/cur", dn);
			if (fstatat(dirfd(dir), cur, &st,
				    AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(st.st_mode))
				continue;	/* no maildir folder */
		}
		memset(&rep, 0, sizeof(rep));
		m2d_error_clear(&ferr);
		name = name_from_dirname(dn);
		rep.user = u->name;
		rep.name = name != NULL ? name : dn;
		rep.mbox = "";
		if (name == NULL ||
		    folder_name_to_maildir(name, maildir_dn,
					   sizeof(maildir_dn)) != FOLDER_OK ||
		    strcmp(maildir_dn, dn) != 0) {
			m2d_error_set(&ferr, M2D_ERR_NAME, dn,
				      _("a folder made after cutover whose "
					"name cannot be an mbox name"));
			rep.error = &ferr;
		} else if (froot == NULL ||
			   asprintf(&mbox, "%s/%s", froot, name) < 0) {
			mbox = NULL;
			m2d_error_set(&ferr, M2D_ERR_USAGE, dn,
				      _("no folder root for a new mbox (the "
					"user has no home)"));
			rep.error = &ferr;
		} else {
			rep.mbox = mbox;
			fo.user = u;
			fo.name = name;
			fo.root = root;
			fo.dirname = dn;
			fo.mbox = mbox;
			fo.journal = NULL;
			if (carry_folder(set, &fo, &rep, &ferr) < 0) {
				rep.error = &ferr;
			} else if (subs_read == 0 &&
				   (subs_read = dovecot_subscriptions(
					   dirfd(dir), root, &subs,
					   &suberr) < 0 ? -1 : 1) < 0) {
				/* cannot tell whether it is subscribed */
				rep.subscribe_error = &suberr;
				rep.subscriptions_refused = subs_said = true;
				t->refused++;
			} else if (subs_read < 0) {
				/* said again: this folder is not subscribed
				   for UW because of it */
				rep.subscribe_error = &suberr;
				rep.subscriptions_refused = subs_said = true;
			} else if (is_subscribed(subs, name)) {
				/* subscribed in Dovecot: for UW too */
				int r;

				m2d_error_clear(&serr);
				r = mailboxlist_add(u, mbox, set->dry_run,
						    &serr);
				rep.subscribed = r > 0;
				if (r < 0)
					rep.subscribe_error = &serr;
			}
		}
		report_folder(set, &rep, t);
		free(name);
		free(mbox);
	}
	closedir(dir);
out:
	free_names(subs);
	free(froot);
	free(known);
	free(root);
}

/* The sources of PLAN it refuses (not the user's, hard-linked, sparse,
 * a symlink, a FIFO): reported as skipped, counted as refused. */
static void report_refused_sources(const struct rollback_settings *set,
				   const struct plan *plan,
				   struct rollback_totals *t)
{
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		struct rollback_folder_report rep;
		struct m2d_error e;

		switch (f->skip) {
		case PLAN_SKIP_OWNER:
		case PLAN_SKIP_LINKS:
		case PLAN_SKIP_SPARSE:
		case PLAN_SKIP_SYMLINK:
		case PLAN_SKIP_SPECIAL:
			break;
		default:
			continue;
		}
		memset(&rep, 0, sizeof(rep));
		m2d_error_set(&e, M2D_ERR_UNSAFE, f->source, "%s",
			      str_esc(f->reason != NULL ? f->reason :
				      plan_skip_str(f->skip)));
		rep.user = plan->users[f->user].name;
		/* "user/INBOX", "user/mail/x": the part after the user */
		rep.name = f->name != NULL ? f->name :
			strchr(f->listed, '/') != NULL ?
			strchr(f->listed, '/') + 1 : f->listed;
		rep.mbox = f->source;
		rep.skipped = &e;
		t->refused++;
		if (set->report != NULL)
			set->report(&rep, set->ctx);
	}
}

int rollback_mail(const struct rollback_settings *set,
		  struct journal *journal, struct rollback_totals *totals,
		  struct m2d_error *err)
{
	struct journal_folder *jfs = NULL;
	struct journal_user *jus = NULL;
	struct plan_source src;
	struct plan plan;
	const char **names = NULL;
	size_t njfs, njus, nnames = 0;
	int ret = -1;

	memset(totals, 0, sizeof(*totals));
	memset(&plan, 0, sizeof(plan));
	njfs = journal_folders(journal, &jfs);
	njus = journal_users(journal, &jus);
	/* the users: of the journal (users and folders), as asked */
	names = calloc(njus + njfs + 1, sizeof(*names));
	if (names == NULL) {
		oom(err, set->cfg->work_dir);
		goto out;
	}
	for (size_t i = 0; i < njus + njfs; i++) {
		const char *n = i < njus ? jus[i].user : jfs[i - njus].user;
		bool dup = false;

		for (size_t k = 0; k < nnames && !dup; k++)
			dup = strcmp(names[k], n) == 0;
		if (!dup && wanted(set, n))
			names[nnames++] = n;
	}
	if (set->users != NULL) {
		for (size_t i = 0; set->users[i] != NULL; i++) {
			bool found = false;

			for (size_t k = 0; k < nnames && !found; k++)
				found = strcmp(names[k], set->users[i]) == 0;
			if (!found) {
				m2d_error_set(err, M2D_ERR_USAGE, NULL,
					      _("user %s was not migrated "
						"(not in the journal)"),
					      set->users[i]);
				goto out;
			}
		}
	}
	if (nnames == 0) {
		/* nothing was migrated: nothing to carry.  What the plan
		 * refuses of the users' sources is said all the same (every
		 * command that reads a place says what it refused) */
		if (set->users == NULL) {
			memset(&src, 0, sizeof(src));
			if (plan_build(set->cfg, &src, &plan, err) < 0)
				goto out;
			report_refused_sources(set, &plan, totals);
		}
		ret = 0;
		goto out;
	}
	memset(&src, 0, sizeof(src));
	src.users = names;
	if (plan_build(set->cfg, &src, &plan, err) < 0)
		goto out;
	for (size_t i = 0; i < plan.nusers; i++)
		carry_user(set, &plan, &plan.users[i], jfs, njfs, totals);
	ret = totals->failed > 0 ? 1 : 0;
out:
	plan_free(&plan);
	free(names);
	journal_folders_free(jfs, njfs);
	journal_users_free(jus, njus);
	return ret;
}

/* ---- the whole rollback ---- */

const char *rollback_step_name(enum rollback_step step)
{
	static const char *const names[ROLLBACK_STEPS] = {
		N_("hold local delivery"),
		N_("stop Dovecot"),
		N_("carry new mail back into the mboxes"),
		N_("switch Postfix back to the mbox spool"),
		N_("restore Dovecot's configuration"),
		N_("enable UW-IMAP again"),
	};

	return (unsigned int)step < ROLLBACK_STEPS ? _(names[step]) : "";
}

static void step(const struct rollback_settings *set,
		 const struct rollback_system *sys, enum rollback_step s,
		 const char *text)
{
	if (sys->step != NULL)
		sys->step(s, text != NULL ? text : rollback_step_name(s),
			  set->ctx);
}

int rollback_run(const struct rollback_settings *set, struct journal *journal,
		 const struct rollback_system *sys,
		 struct rollback_totals *totals, struct m2d_error *err)
{
	const char *work = set->cfg->work_dir;
	struct svc_run_opts opts = { set->dry_run, work };
	char *text = NULL;
	int rc;

	memset(totals, 0, sizeof(*totals));
	if (set->dry_run) {
		/* what would be done; the mail part counts what it would
		 * append */
		step(set, sys, ROLLBACK_HOLD, _("would set defer_transports = "
					       "local and reload Postfix"));
		if (svc_run(sys->svc, SVC_ROLE_IMAP_NEW, SVC_STOP, &opts, &text,
			    err) < 0)
			return -1;
		step(set, sys, ROLLBACK_STOP_DOVECOT, text);
		free(text);
		text = NULL;
		rc = rollback_mail(set, journal, totals, err);
		if (rc < 0)
			return -1;
		step(set, sys, ROLLBACK_MAIL, NULL);
		step(set, sys, ROLLBACK_POSTFIX,
		     _("would restore main.cf as before the migration, reload "
		       "Postfix and flush the queue"));
		step(set, sys, ROLLBACK_DOVECOT_CONF,
		     _("would restore Dovecot's configuration as before"));
		if (svc_run(sys->svc, SVC_ROLE_IMAP_OLD, SVC_ENABLE, &opts,
			    &text, err) < 0)
			return -1;
		step(set, sys, ROLLBACK_UW, text);
		free(text);
		return rc;
	}
	if (pf_hold(sys->pf, work, err) < 0)
		return -1;
	step(set, sys, ROLLBACK_HOLD, NULL);
	if (svc_run(sys->svc, SVC_ROLE_IMAP_NEW, SVC_STOP, &opts, NULL,
		    err) < 0)
		return -1;
	step(set, sys, ROLLBACK_STOP_DOVECOT, NULL);
	rc = rollback_mail(set, journal, totals, err);
	if (rc != 0) {
		/* not all carried: nothing is switched; users go on with
		 * Dovecot and the next run carries what is missing */
		struct m2d_error e2;

		m2d_error_clear(&e2);
		if (svc_run(sys->svc, SVC_ROLE_IMAP_NEW, SVC_START, &opts, NULL,
			    &e2) == 0)
			(void)pf_release(sys->pf, work, &e2);
		return rc < 0 ? -1 : 1;
	}
	step(set, sys, ROLLBACK_MAIL, NULL);
	/* main.cf as before us: mbox delivery, and no hold (unless the
	 * admin had one); the running Postfix reads it and delivers what it
	 * held into the mboxes, behind what we appended */
	if (pf_undo(sys->pf, work, err) < 0 ||
	    pf_reload_flush(sys->pf, err) < 0)
		return -1;
	step(set, sys, ROLLBACK_POSTFIX, NULL);
	if (dc_undo(work, err) < 0)
		return -1;
	step(set, sys, ROLLBACK_DOVECOT_CONF, NULL);
	if (svc_run(sys->svc, SVC_ROLE_IMAP_OLD, SVC_ENABLE, &opts, NULL,
		    err) < 0)
		return -1;
	step(set, sys, ROLLBACK_UW, NULL);
	return 0;
}
