/* SPDX-License-Identifier: MIT */
/*
 * maildir-reader.c - a Maildir++ folder as Dovecot left it: cur/ and new/,
 * dovecot-uidlist, dovecot-keywords, subscriptions (maildir-reader.h)
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folder-names.h"
#include "maildir-reader.h"
#include "safe-file.h"
#include "xalloc.h"
#include "i18n.h"

static const char flag_letters[] = "DFPRST";	/* enum maildir_flag order */

static int uid_ptr_by_base(const void *a, const void *b)
{
	return strcmp((*(const struct maildir_uid *const *)a)->base,
		      (*(const struct maildir_uid *const *)b)->base);
}

static int file_by_base(const void *a, const void *b)
{
	return strcmp(((const struct maildir_file *)a)->base,
		      ((const struct maildir_file *)b)->base);
}

/* Room for one more of N items of SIZE in *ARRAY (capacity *CAP). */
static void grow(void *array, size_t n, size_t *cap, size_t size)
{
	void **p = array;

	if (n < *cap)
		return;
	*cap = *cap == 0 ? 16 : *cap * 2;
	*p = xrealloc(*p, *cap * size);
}

void maildir_reader_free(struct maildir_reader *md)
{
	size_t i;

	for (i = 0; i < md->nuids; i++)
		free(md->uids[i].base);
	for (i = 0; i < md->nfiles; i++) {
		free(md->files[i].name);
		free(md->files[i].base);
	}
	for (i = 0; i < MAILDIR_MAX_KEYWORDS; i++)
		free(md->keywords[i]);
	free(md->uids);
	free(md->uid_index);
	free(md->files);
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

/* ---- dovecot-uidlist ---- */

/*
 * One line after the header, its newline cut (LEN without it).  Strict:
 * "<uid> [extensions] :<base>" as Dovecot writes it, UIDs rising above
 * *LAST, a file name (no '/', no NUL); anything else is refused (1 ok, -1
 * refused): it would decide which messages are new, and the user may
 * have written the file.  Lenient: a line without " :" is skipped (0).
 */
static int uid_line(const char *line, size_t len, bool strict,
		    unsigned long *last, unsigned long *uid_r,
		    const char **base_r)
{
	const char *colon = strstr(line, " :");
	char *end;
	unsigned long uid;

	if (!strict) {
		if (colon == NULL)
			return 0;
		*uid_r = strtoul(line, NULL, 10);
		*base_r = colon + 2;
		return 1;
	}
	errno = 0;
	uid = strtoul(line, &end, 10);
	/* Dovecot's UIDs are 32 bits */
	if (colon == NULL || line[0] < '0' || line[0] > '9' || errno != 0 ||
	    uid == 0 || uid > 0xffffffffUL || uid <= *last || *end != ' ' ||
	    colon[2] == '\0' ||
	    strchr(colon + 2, '/') != NULL || strlen(line) != len)
		return -1;
	*last = *uid_r = uid;
	*base_r = colon + 2;
	return 1;
}

static int uidlist_header(struct maildir_reader *md, FILE *f,
			  const char *path, struct m2d_error *err)
{
	char *line = NULL;
	size_t size = 0;
	int ok;

	ok = getline(&line, &size, f) > 0 &&
		sscanf(line, "3 V%lu N%lu", &md->uidvalidity,
		       &md->nextuid) >= 1;
	free(line);
	if (ok)
		return 0;
	m2d_error_set(err, M2D_ERR_MALFORMED, path, _("not version 3"));
	m2d_error_at(err, -1, 1);
	return -1;
}

/*
 * Strict: a file listed twice is not what Dovecot writes (it takes such a
 * uidlist for corrupt); which UID the file has would be a guess.  The
 * index is sorted: returns the line of the later of two equal bases (every
 * line after the header is one entry), or 0.
 */
static unsigned long uidlist_duplicate(const struct maildir_reader *md)
{
	for (size_t i = 1; i < md->nuids; i++) {
		const struct maildir_uid *a = md->uid_index[i - 1];
		const struct maildir_uid *b = md->uid_index[i];

		if (strcmp(a->base, b->base) == 0)
			return (unsigned long)((a > b ? a : b) - md->uids) + 2;
	}
	return 0;
}

static int read_uidlist(struct maildir_reader *md, unsigned int flags,
			struct m2d_error *err)
{
	bool strict = (flags & MAILDIR_OPEN_UIDLIST_STRICT) != 0;
	char *line = NULL, path[PATH_MAX];
	size_t size = 0, cap = 0;
	unsigned long lineno = 1, last = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dovecot-uidlist", md->path);
	f = sf_fopen_read(md->dirfd, "dovecot-uidlist", MAILDIR_UIDLIST_MAX,
			  NULL, path, err);
	if (f == NULL)
		return errno == ENOENT &&
			(flags & MAILDIR_OPEN_UIDLIST_OPTIONAL) ? 0 : -1;
	if (uidlist_header(md, f, path, err) < 0) {
		fclose(f);
		return -1;
	}
	while ((len = getline(&line, &size, f)) > 0) {
		const char *base;
		unsigned long uid;
		int r;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		r = uid_line(line, (size_t)len, strict, &last, &uid, &base);
		if (r < 0) {
			free(line);
			fclose(f);
			m2d_error_set(err, M2D_ERR_MALFORMED, path,
				      _("not a line Dovecot writes (damaged or "
					"forged); nothing carried from this "
					"folder"));
			m2d_error_at(err, -1, lineno);
			return -1;
		}
		if (r == 0)
			continue;
		grow(&md->uids, md->nuids, &cap, sizeof(*md->uids));
		md->uids[md->nuids].uid = uid;
		md->uids[md->nuids++].base = xstrdup(base);
	}
	free(line);
	fclose(f);
	md->uid_index = xcalloc(md->nuids + 1, sizeof(*md->uid_index));
	for (size_t i = 0; i < md->nuids; i++)
		md->uid_index[i] = &md->uids[i];
	if (md->nuids > 0)
		qsort(md->uid_index, md->nuids, sizeof(*md->uid_index),
		      uid_ptr_by_base);
	if (strict && (lineno = uidlist_duplicate(md)) != 0) {
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("a file listed twice (damaged or forged); "
				"nothing carried from this folder"));
		m2d_error_at(err, -1, lineno);
		return -1;
	}
	return 0;
}

const struct maildir_uid *
maildir_reader_find_uid(const struct maildir_reader *md, const char *base)
{
	struct maildir_uid key = { 0, (char *)base }, *kp = &key, **u;

	if (md->nuids == 0)
		return NULL;
	assert(md->uid_index != NULL);
	u = bsearch(&kp, md->uid_index, md->nuids, sizeof(*md->uid_index),
		    uid_ptr_by_base);
	return u != NULL ? *u : NULL;
}

/* ---- dovecot-keywords ---- */

int maildir_reader_read_keywords(struct maildir_reader *md,
				 struct m2d_error *err)
{
	char *line = NULL, path[PATH_MAX];
	size_t size = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dovecot-keywords", md->path);
	f = sf_fopen_read(md->dirfd, "dovecot-keywords", MAILDIR_KEYWORDS_MAX,
			  NULL, path, err);
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
		md->keywords[i] = xstrdup(end + 1);
	}
	free(line);
	fclose(f);
	return 0;
}

/* ---- the file names ---- */

void maildir_name_flags(const char *name, unsigned int *flags_r,
			unsigned int *keywords_r)
{
	const char *info = strstr(name, ":2,");
	const char *l;

	*flags_r = *keywords_r = 0;
	if (info == NULL)
		return;
	for (info += 3; *info != '\0'; info++) {
		if (*info >= 'a' && *info <= 'z')
			*keywords_r |= 1u << (*info - 'a');
		else if ((l = strchr(flag_letters, *info)) != NULL)
			*flags_r |= 1u << (l - flag_letters);
	}
}

const char *maildir_flags_str(unsigned int flags, char buf[8])
{
	int i, o = 0;

	for (i = 0; flag_letters[i] != '\0'; i++) {
		if (flags & (1u << i))
			buf[o++] = flag_letters[i];
	}
	buf[o] = '\0';
	return buf;
}

/* ---- cur/ and new/ ---- */

static int refuse_special(const struct maildir_reader *md, bool in_new,
			  const char *name, struct m2d_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/%s", md->path,
		 in_new ? "new" : "cur", name);
	return m2d_error_set(err, M2D_ERR_UNSAFE, path,
			     _("not a regular file (a symbolic link, FIFO or "
			       "device) where a message belongs; remove it and "
			       "run the rollback again"));
}

static void add_file(struct maildir_reader *md, size_t *cap,
		     const char *name, bool in_new, const struct stat *st)
{
	const struct maildir_uid *u;
	struct maildir_file *m;
	char *colon;

	grow(&md->files, md->nfiles, cap, sizeof(*md->files));
	m = &md->files[md->nfiles++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->base = xstrdup(name);
	colon = strchr(m->base, ':');
	if (colon != NULL)
		*colon = '\0';
	m->in_new = in_new;
	m->special = !S_ISREG(st->st_mode);
	m->mtime = st->st_mtime;
	maildir_name_flags(m->name, &m->flags, &m->keywords);
	u = maildir_reader_find_uid(md, m->base);
	m->uid = u != NULL ? u->uid : 0;
}

static int list_dir(struct maildir_reader *md, int fd, bool in_new,
		    unsigned int flags, size_t *cap, struct m2d_error *err)
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
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		if (!S_ISREG(st.st_mode) &&
		    (flags & MAILDIR_OPEN_REFUSE_SPECIAL)) {
			refuse_special(md, in_new, d->d_name, err);
			closedir(dir);
			return -1;
		}
		add_file(md, cap, d->d_name, in_new, &st);
	}
	closedir(dir);
	return 0;
}

const struct maildir_file *
maildir_reader_file(const struct maildir_reader *md, const char *base)
{
	struct maildir_file key;

	if (md->nfiles == 0)
		return NULL;
	key.base = (char *)base;
	return bsearch(&key, md->files, md->nfiles, sizeof(*md->files),
		       file_by_base);
}

/* ---- the folder ---- */

/* MD->dirfd: the root, then the folder; 0 when either does not exist. */
static int open_folder_dir(struct maildir_reader *md, const char *root,
			   const char *dirname, struct m2d_error *err)
{
	/* the root and the folder are the user's: neither followed if it
	 * is a symlink (to another user's maildir, say) */
	md->dirfd = sf_open_dir(AT_FDCWD, root, root, err);
	if (md->dirfd >= 0 && dirname[0] != '\0') {
		int fd = sf_open_dir(md->dirfd, dirname, md->path, err);
		int saved = errno;

		close(md->dirfd);
		md->dirfd = fd;
		errno = saved;
	}
	if (md->dirfd < 0)
		return errno == ENOENT ? 0 : -1;
	return 1;
}

int maildir_reader_open(struct maildir_reader *md, const char *root,
			const char *dirname, unsigned int flags,
			struct m2d_error *err)
{
	size_t cap = 0;
	int rc;

	memset(md, 0, sizeof(*md));
	md->dirfd = md->curfd = md->newfd = -1;
	md->path = xasprintf("%s%s%s", root, dirname[0] != '\0' ? "/" : "",
			     dirname);
	rc = open_folder_dir(md, root, dirname, err);
	if (rc <= 0)
		return rc;
	if ((md->curfd = sf_open_dir(md->dirfd, "cur", md->path, err)) < 0 ||
	    (md->newfd = sf_open_dir(md->dirfd, "new", md->path, err)) < 0 ||
	    read_uidlist(md, flags, err) < 0 ||
	    ((flags & MAILDIR_OPEN_KEYWORDS) &&
	     maildir_reader_read_keywords(md, err) < 0) ||
	    list_dir(md, md->curfd, false, flags, &cap, err) < 0 ||
	    list_dir(md, md->newfd, true, flags, &cap, err) < 0)
		return -1;
	if (md->nfiles > 0)
		qsort(md->files, md->nfiles, sizeof(*md->files), file_by_base);
	return 1;
}

/* ---- names ---- */

char *maildir_dirname_to_name(const char *dirname)
{
	size_t len = strlen(dirname);
	char *out, *level;
	const char *p = dirname + 1;
	size_t o = 0;

	if (dirname[0] != '.' || len < 2)
		return NULL;
	out = xmalloc(2 * len + 2);
	level = xmalloc(len + 1);
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

void maildir_names_free(char **names)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/* A subscriptions line as an IMAP name into OUT; false when it is none. */
static bool subscription_name(const char *line, bool v2, char *out,
			      size_t size)
{
	char level[512];
	const char *p = line;
	size_t o = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, v2 ? "\t" : ".");
		int d;

		if (len == 0 || len >= sizeof(level) || o + 1 >= size)
			return false;
		memcpy(level, p, len);
		level[len] = '\0';
		if (o > 0)
			out[o++] = '/';
		d = mutf7_decode(level, out + o, size - o);
		if (d < 0)
			return false;
		o += (size_t)d;
		p += len;
		if (*p != '\0')
			p++;
	}
	out[o] = '\0';
	return o > 0;
}

int maildir_read_subscriptions(int rootfd, const char *root,
			       char ***names_r, struct m2d_error *err)
{
	char *path, *text = NULL, *line, *save = NULL;
	char **names;
	size_t n = 0;
	bool v2 = false;
	int r;

	*names_r = NULL;
	path = xasprintf("%s/subscriptions", root);
	r = sf_read_text_at(rootfd, "subscriptions",
			    MAILDIR_SUBSCRIPTIONS_MAX, &text, NULL, path, err);
	free(path);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	names = xcalloc(1, sizeof(*names));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char out[1024];

		if (n == 0 && !v2 && strcmp(line, "V\t2") == 0) {
			v2 = true;
			continue;
		}
		if (!subscription_name(line, v2, out, sizeof(out)))
			continue;	/* not a name we can carry */
		names = xrealloc(names, (n + 2) * sizeof(*names));
		names[n++] = xstrdup(out);
		names[n] = NULL;
	}
	free(text);
	*names_r = names;
	return 0;
}
