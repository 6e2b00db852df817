/*
 * verify.c - does the maildir folder hold exactly what the mbox held?
 *
 * The i-th message of the mbox must be the i-th line of dovecot-uidlist,
 * with the UID UW's rules give it; the file that line names must hold the
 * message's bytes, carry its flags in its name and its date as mtime.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "hash.h"
#include "maildir-writer.h"
#include "mbox-reader.h"
#include "safe-file.h"
#include "uw-uids.h"
#include "verify.h"
#include "i18n.h"

/* dovecot-uidlist is the user's: read no larger one (from fstat) */
#define VERIFY_UIDLIST_MAX ((off_t)64 * 1024 * 1024)

struct entry {
	char *base;		/* file name up to ':' */
	char *name;		/* whole file name */
	bool in_new;
	bool special;		/* not a regular file: no message */
};

struct target {
	char *path;
	int dirfd, curfd, newfd;
	unsigned long uidvalidity;
	unsigned long *uids;
	char **bases;		/* per uidlist line */
	size_t nuids;
	struct entry *files;	/* cur/ and new/, sorted by base */
	size_t nfiles;
};

static int by_base(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->base,
		      ((const struct entry *)b)->base);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int list_dir(struct target *t, int fd, bool in_new,
		    struct m2d_error *err)
{
	struct dirent *d;
	DIR *dir;
	int dfd = dup(fd);

	if (dfd < 0 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return m2d_error_sys(err, "opendir", t->path);
	}
	while ((d = readdir(dir)) != NULL) {
		struct entry *n;
		struct stat st;
		char *colon;

		if (d->d_name[0] == '.')
			continue;
		n = realloc(t->files, (t->nfiles + 1) * sizeof(*n));
		if (n == NULL)
			break;
		t->files = n;
		n = &t->files[t->nfiles];
		n->name = strdup(d->d_name);
		n->base = strdup(d->d_name);
		n->in_new = in_new;
		n->special = fstatat(fd, d->d_name, &st,
				     AT_SYMLINK_NOFOLLOW) == 0 &&
			!S_ISREG(st.st_mode);
		if (n->name == NULL || n->base == NULL) {
			free(n->name);
			free(n->base);
			break;
		}
		colon = strchr(n->base, ':');
		if (colon != NULL)
			*colon = '\0';
		t->nfiles++;
	}
	closedir(dir);
	return 0;
}

static int read_uidlist(struct target *t, struct m2d_error *err)
{
	char *line = NULL, path[PATH_MAX];
	size_t size = 0;
	ssize_t len;
	FILE *f;

	/* the user's: never a FIFO, a symlink or a giant (safe-file.h) */
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", t->path);
	f = sf_fopen_read(t->dirfd, "dovecot-uidlist", VERIFY_UIDLIST_MAX,
			  NULL, path, err);
	if (f == NULL)
		return -1;
	if ((len = getline(&line, &size, f)) <= 0 ||
	    sscanf(line, "3 V%lu", &t->uidvalidity) != 1) {
		free(line);
		fclose(f);
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("not version 3"));
		m2d_error_at(err, -1, 1);
		return -1;
	}
	while ((len = getline(&line, &size, f)) > 0) {
		char *colon = strstr(line, " :");
		unsigned long *u;
		char **b;

		if (colon == NULL)
			continue;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		u = realloc(t->uids, (t->nuids + 1) * sizeof(*u));
		if (u != NULL)
			t->uids = u;
		b = realloc(t->bases, (t->nuids + 1) * sizeof(*b));
		if (b != NULL)
			t->bases = b;
		if (u == NULL || b == NULL ||
		    (t->bases[t->nuids] = strdup(colon + 2)) == NULL)
			break;
		t->uids[t->nuids++] = strtoul(line, NULL, 10);
	}
	free(line);
	fclose(f);
	return 0;
}

static void target_free(struct target *t)
{
	size_t i;

	for (i = 0; i < t->nuids; i++)
		free(t->bases[i]);
	for (i = 0; i < t->nfiles; i++) {
		free(t->files[i].base);
		free(t->files[i].name);
	}
	free(t->bases);
	free(t->uids);
	free(t->files);
	free(t->path);
	if (t->curfd >= 0)
		close(t->curfd);
	if (t->newfd >= 0)
		close(t->newfd);
	if (t->dirfd >= 0)
		close(t->dirfd);
}

static int target_open(struct target *t, const char *maildir,
		       const char *dirname, struct m2d_error *err)
{
	memset(t, 0, sizeof(*t));
	t->dirfd = t->curfd = t->newfd = -1;
	t->path = malloc(strlen(maildir) + strlen(dirname) + 2);
	if (t->path == NULL) {
		errno = ENOMEM;
		return m2d_error_sys(err, "malloc", maildir);
	}
	sprintf(t->path, "%s%s%s", maildir, dirname[0] != '\0' ? "/" : "",
		dirname);
	/* the root and the folder are the user's: no symlink followed */
	t->dirfd = sf_open_dir(AT_FDCWD, maildir, maildir, err);
	if (t->dirfd >= 0 && dirname[0] != '\0') {
		int fd = sf_open_dir(t->dirfd, dirname, t->path, err);

		close(t->dirfd);
		t->dirfd = fd;
	}
	if (t->dirfd < 0 ||
	    (t->curfd = sf_open_dir(t->dirfd, "cur", t->path, err)) < 0 ||
	    (t->newfd = sf_open_dir(t->dirfd, "new", t->path, err)) < 0 ||
	    read_uidlist(t, err) < 0 ||
	    list_dir(t, t->curfd, false, err) < 0 ||
	    list_dir(t, t->newfd, true, err) < 0)
		return -1;
	if (t->nfiles > 0)
		qsort(t->files, t->nfiles, sizeof(*t->files), by_base);
	return 0;
}

/* The flags in a maildir file name, as enum maildir_flag. */
static unsigned int name_flags(const char *name)
{
	static const char letters[] = "DFPRST";
	const char *info = strstr(name, ":2,");
	unsigned int flags = 0;
	const char *l;

	if (info == NULL)
		return 0;
	for (info += 3; *info != '\0'; info++) {
		l = strchr(letters, *info);
		if (l != NULL)
			flags |= 1u << (l - letters);
	}
	return flags;
}

static const char *flags_str(unsigned int flags, char buf[8])
{
	static const char letters[] = "DFPRST";
	int i, o = 0;

	for (i = 0; letters[i] != '\0'; i++) {
		if (flags & (1u << i))
			buf[o++] = letters[i];
	}
	buf[o] = '\0';
	return buf;
}

/* The checksum of the message file NAME below DIRFD into *HASH_R, its
 * stat into *ST: a regular file of a message's size, or -1 (ERR). */
static int file_hash(const struct target *t, int dirfd, bool in_new,
		     const char *name, off_t max_size, uint64_t *hash_r,
		     struct stat *st, struct m2d_error *err)
{
	struct m2d_hash h;
	char buf[65536], path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", t->path,
		 in_new ? "new" : "cur", name);
	fd = sf_open_read(dirfd, name, max_size, st, path, err);
	if (fd < 0)
		return -1;
	m2d_hash_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			m2d_error_sys(err, "read", path);
			close(fd);
			return -1;
		}
		m2d_hash_update(&h, buf, (size_t)n);
	}
	close(fd);
	*hash_r = m2d_hash_final(&h);
	return 0;
}

static void differ(struct verify_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void differ(struct verify_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->differences++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(r->first, sizeof(r->first), fmt, ap);
	va_end(ap);
}

int verify_folder(const char *mbox, const char *maildir, const char *dirname,
		  bool mboxrd, struct verify_result *result,
		  struct m2d_error *err)
{
	struct mbox_reader_settings set = { .mboxrd = mboxrd };
	struct mbox_reader *reader = NULL;
	struct target t;
	struct uw_uids uids;
	struct mbox_msg msg;
	bool started = false;
	int rc, ret = -1;

	memset(result, 0, sizeof(*result));
	if (target_open(&t, maildir, dirname, err) < 0)
		goto out;
	result->target_messages = t.nuids;
	/* dovecot-keywords is not compared, but one Dovecot would choke on
	 * (a FIFO, a symlink, a giant: 26 keywords fit in 1 MB) is said */
	{
		char kpath[PATH_MAX + 32];
		struct m2d_error kerr;
		int kfd;

		snprintf(kpath, sizeof(kpath), "%s/dovecot-keywords", t.path);
		kfd = sf_open_read(t.dirfd, "dovecot-keywords",
				   (off_t)1024 * 1024, NULL, kpath, &kerr);
		if (kfd >= 0)
			close(kfd);
		else if (errno != ENOENT)
			differ(result, "%s: %s", kerr.path, kerr.msg);
	}
	/* a FIFO, symlink or device where messages are: said, not read;
	 * a file no uidlist line names: not from the mbox */
	{
		const char **listed = calloc(t.nuids + 1, sizeof(*listed));

		if (listed == NULL) {
			errno = ENOMEM;
			m2d_error_sys(err, "malloc", t.path);
			goto out;
		}
		for (size_t k = 0; k < t.nuids; k++)
			listed[k] = t.bases[k];
		qsort(listed, t.nuids, sizeof(*listed), by_str);
		for (size_t k = 0; k < t.nfiles; k++) {
			const char *b = t.files[k].base;

			if (t.files[k].special)
				differ(result, _("%s/%s/%s: not a regular file "
						 "(a FIFO, symlink or "
						 "device?): no message"),
				       t.path, t.files[k].in_new ? "new" : "cur",
				       t.files[k].name);
			else if (t.nuids == 0 ||
				 bsearch(&b, listed, t.nuids, sizeof(*listed),
					 by_str) == NULL)
				differ(result, _("%s/%s/%s: a file no line of "
						 "dovecot-uidlist names: not "
						 "from the mbox"),
				       t.path, t.files[k].in_new ? "new" : "cur",
				       t.files[k].name);
		}
		free(listed);
	}
	if (mbox_reader_open(AT_FDCWD, mbox, &set, &reader, err) < 0)
		goto out;
	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		const unsigned char *data;
		struct m2d_hash h;
		struct entry key, *e;
		struct m2d_error ferr;
		struct stat st;
		uint64_t fh = 0;
		off_t msg_len = 0;
		unsigned long i = msg.seq - 1, uid;
		bool reset;
		size_t len;

		if (!started) {
			uw_uids_init(&uids, mbox_reader_meta(reader));
			started = true;
		}
		uid = uw_uids_next(&uids, &msg, &reset);
		result->source_messages++;
		m2d_hash_init(&h);
		while ((rc = mbox_reader_read(reader, &data, &len, err)) > 0) {
			m2d_hash_update(&h, data, len);
			msg_len += (off_t)len;
		}
		if (rc < 0)
			goto out;
		if (i >= t.nuids)
			continue;	/* counted below */
		if (!reset && uids.trust && t.uids[i] != uid) {
			differ(result, _("message %lu: UID %lu, expected %lu"),
			       msg.seq, t.uids[i], uid);
			continue;
		}
		key.base = t.bases[i];
		e = t.nfiles == 0 ? NULL :
			bsearch(&key, t.files, t.nfiles, sizeof(*t.files),
				by_base);
		if (e == NULL) {
			differ(result, _("message %lu: UID %lu has no file"),
			       msg.seq, t.uids[i]);
			continue;
		}
		/* a file larger than the message is not read: it differs */
		if (file_hash(&t, e->in_new ? t.newfd : t.curfd, e->in_new,
			      e->name, msg_len > 0 ? msg_len : 1, &fh, &st,
			      &ferr) < 0) {
			/* a FIFO, a symlink, a giant: not the message (the
			 * text raw: its reader escapes it, verify.h) */
			differ(result, _("message %lu: UID %lu: %s: %s"),
			       msg.seq, t.uids[i], ferr.path, ferr.msg);
			continue;
		}
		if (fh != m2d_hash_final(&h)) {
			differ(result, _("message %lu: UID %lu: the bytes "
					 "differ"), msg.seq, t.uids[i]);
			continue;
		}
		if (name_flags(e->name) != convert_maildir_flags(msg.flags)) {
			char got[8], want[8];

			differ(result, _("message %lu: flags \"%s\", expected "
					 "\"%s\""), msg.seq,
			       flags_str(name_flags(e->name), got),
			       flags_str(convert_maildir_flags(msg.flags), want));
			continue;
		}
		if (st.st_mtime != msg.from.date)
			differ(result, _("message %lu: date %lu, expected %lu"),
			       msg.seq, (unsigned long)st.st_mtime,
			       (unsigned long)msg.from.date);
	}
	if (rc < 0)
		goto out;
	if (result->source_messages != result->target_messages)
		differ(result, _("%lu messages in the mbox, %lu in the "
				 "maildir"), result->source_messages,
		       result->target_messages);
	ret = result->differences > 0 ? 1 : 0;
out:
	mbox_reader_close(&reader);
	target_free(&t);
	return ret;
}
