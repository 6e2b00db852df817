/* SPDX-License-Identifier: MIT */
/* plan.c - who and what to migrate: users, folders, and what is skipped */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "pos-index.h"
#include "passwd.h"
#include "from-line.h"
#include "mbox-reader.h"
#include "str-escape.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

#define WALK_DEPTH_MAX 64
#define MAILBOXLIST_MAX (1024 * 1024)
#define HEAD_MAX 4096
#define USERLIST_NAME "userlist-master"
#define FOLDERLIST_NAME "folderlist-master"

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t c;

	if (need <= *cap)
		return;
	c = *cap == 0 ? 16 : *cap * 2;
	while (c < need)
		c *= 2;
	*arr = xrealloc(*arr, c * elem);
	*cap = c;
}

/* A user name we accept from a list, passwd or the spool directory: not
   empty, no '/', no whitespace or control characters, no ':', not "." or
   "..", not beginning with '-', '.' or '#'. */
static bool user_name_valid(const char *name)
{
	if (name[0] == '\0' || name[0] == '-' || name[0] == '.' ||
	    name[0] == '#' || strlen(name) > 255)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Is it an mbox?                                                     */

/* An mbox exactly when c-client would open it as one (the reader's
 * test, unix_isvalid_fd: blank lines before the first From_ line are
 * fine); an empty file is an empty folder. */
static bool head_is_mbox(const char *buf, size_t n)
{
	size_t skip;

	return mbox_head_check(buf, n, &skip) >= 0;
}

bool plan_is_mbox(int fd)
{
	char buf[HEAD_MAX];
	ssize_t n = sf_pread_full(fd, buf, sizeof(buf), 0);

	return n >= 0 && head_is_mbox(buf, (size_t)n);
}

const char *plan_skip_str(enum plan_skip skip)
{
	switch (skip) {
	case PLAN_TAKEN:
		return _("to migrate");
	case PLAN_SKIP_DOTFILE:
		return _("a dot file or directory, not a folder");
	case PLAN_SKIP_MBX:
		return _("a UW format that is not converted (tenex, mtx)");
	case PLAN_SKIP_NOT_MBOX:
		return _("not an mbox (no valid From_ line at the start)");
	case PLAN_SKIP_SYMLINK:
		return _("a symbolic link: never followed");
	case PLAN_SKIP_SPECIAL:
		return _("a FIFO, device or socket: never opened");
	case PLAN_SKIP_UNREADABLE:
		return _("cannot be read");
	case PLAN_SKIP_NAME:
		return _("its name must be changed first");
	case PLAN_SKIP_MISSING:
		return _("listed but not there");
	case PLAN_SKIP_EXCLUDED:
		return _("excluded by the administrator");
	case PLAN_SKIP_OWNER:
		return _("not the user's file: not migrated");
	case PLAN_SKIP_LINKS:
		return _("has other hard links: not migrated");
	case PLAN_SKIP_SPARSE:
		return _("a sparse file (holes): not migrated");
	}
	return _("unknown");
}

/* ------------------------------------------------------------------ */
/* Candidates: the folders of one user before naming                 */

enum cand_class {
	CLASS_INBOX = 0,	/* SPOOL/USER */
	CLASS_MBOX = 1,		/* ~/mbox */
	CLASS_FOLDER = 2,
};

struct cand {
	struct plan_folder f;	/* user, source, listed, skip, reason,
				   size filled; naming later */
	enum cand_class cls;
	int root;		/* index into ucx.roots, nroots = none */
	char *rel;		/* path relative to its root (naming) */
};

struct root {
	char *home_rel;		/* "" for "~", "mail" for "~/mail";
				   NULL for a root outside the home */
	char *abs;		/* absolute path of the root */
	char *prefix;		/* in "listed" after "user/": "", "mail/",
				   "/srv/folders/fred/" */
	int order;		/* index in the configuration */
	char *uw_prefix;	/* what UW put before the names of its
				   folders ("mail/"), NULL: no UW name */
};

struct ucx {
	const struct m2d_config *cfg;
	size_t uidx;
	const char *user;
	const char *home;	/* NULL: no home */
	int home_fd;		/* -1: none */
	int spool_fd;		/* -1: none */
	struct root roots[M2D_MAX_ROOTS];
	int nroots;
	struct cand *c;
	size_t n, cap;
	const struct plan_rename *renames;
	size_t nrenames;
	struct plan_user *pu;	/* subscriptions, ownership */
	bool inbox_home;	/* ~/INBOX is the INBOX (mbx, mix) */
	struct acct_passwd *pw;	/* names of owners */
	const struct uw_names *uw;	/* UW's view of names (plan.uw) */
	struct m2d_error *err;
};

/* The subscription OLD follows its folder's rename to NEW (NULL: the
 * folder is left out, so is its subscription). */
static void subs_rename(struct ucx *u, const char *old, const char *new)
{
	char **subs = u->pu != NULL ? u->pu->subscriptions : NULL;

	for (size_t i = 0; subs != NULL && subs[i] != NULL; i++) {
		if (strcmp(subs[i], old) != 0)
			continue;
		if (new != NULL) {
			free(subs[i]);
			subs[i] = xstrdup(new);
		} else {
			free(subs[i]);
			for (size_t k = i; subs[k] != NULL; k++)
				subs[k] = subs[k + 1];
			i--;
		}
	}
}

/* Subscriptions Dovecot could not take (a folder that kept a bad name
 * is not migrated under it) are left out. */
static void subs_drop_invalid(struct ucx *u)
{
	char **subs = u->pu != NULL ? u->pu->subscriptions : NULL;
	char dir[512];

	for (size_t i = 0; subs != NULL && subs[i] != NULL; i++) {
		if (strcmp(subs[i], "INBOX") == 0 ||
		    folder_name_to_maildir(subs[i], dir, sizeof(dir)) ==
		    FOLDER_OK)
			continue;
		free(subs[i]);
		for (size_t k = i; subs[k] != NULL; k++)
			subs[k] = subs[k + 1];
		i--;
	}
}

static const struct plan_rename *find_rename(const struct ucx *u,
					     const char *listed)
{
	for (size_t i = 0; i < u->nrenames; i++)
		if (strcmp(u->renames[i].listed, listed) == 0)
			return &u->renames[i];
	return NULL;
}

static void cand_free(struct cand *c)
{
	free(c->f.source);
	free(c->f.listed);
	free(c->f.name);
	free(c->f.dirname);
	free(c->f.reason);
	free(c->f.suggestion);
	free(c->f.spool);
	free(c->f.uw_name);
	free(c->rel);
}

static bool cand_exists(const struct ucx *u, const char *listed)
{
	for (size_t i = 0; i < u->n; i++) {
		if (strcmp(u->c[i].f.listed, listed) == 0)
			return true;
	}
	return false;
}

/* Append a candidate; takes SOURCE, LISTED, REL (may be NULL). */
static struct cand *cand_add(struct ucx *u, char *source, char *listed,
			     char *rel, enum cand_class cls, int root)
{
	struct cand *c;

	grow((void **)&u->c, &u->cap, u->n + 1, sizeof(*u->c));
	c = &u->c[u->n++];
	memset(c, 0, sizeof(*c));
	c->f.user = u->uidx;
	c->f.source = source;
	c->f.listed = listed;
	c->f.size = -1;
	c->cls = cls;
	c->root = root;
	c->rel = rel;
	return c;
}

/* Returns 0, so that a classifier can end with "return cand_skip()". */
static int cand_skip(struct cand *c, enum plan_skip skip, const char *detail)
{
	assert(c->f.reason == NULL);
	c->f.skip = skip;
	if (detail != NULL)
		c->f.reason = xasprintf("%s: %s", plan_skip_str(skip), detail);
	else
		c->f.reason = xstrdup(plan_skip_str(skip));
	return 0;
}

/*
 * Is a file with ST the user's to migrate (plan.h, Ownership)?  The inbox
 * must be owned by src_uid; a folder file may also be root's when the
 * user can read it by its mode.
 */
static bool owner_ok(const struct ucx *u, const struct stat *st, bool inbox)
{
	long want = u->pu != NULL ? u->pu->src_uid : -1;

	if (want < 0 || (long)st->st_uid == want)
		return true;
	if (inbox || st->st_uid != 0)
		return false;
	if ((st->st_mode & S_IROTH) != 0)
		return true;
	return (st->st_mode & S_IRGRP) != 0 && u->pu->src_gid >= 0 &&
		(long)st->st_gid == u->pu->src_gid;
}

/* "uid 1001 (mallory)" */
static void uid_text(const struct ucx *u, long uid, char *buf, size_t size)
{
	const struct acct_pw *e = u->pw != NULL ?
		acct_passwd_by_uid(u->pw, uid) : NULL;

	if (e != NULL)
		snprintf(buf, size, "uid %ld (%s)", uid, e->name);
	else
		snprintf(buf, size, "uid %ld", uid);
}

static void owner_detail(const struct ucx *u, const struct stat *st,
			 bool inbox, char *buf, size_t size)
{
	char has[300], want[300];

	uid_text(u, (long)st->st_uid, has, sizeof(has));
	uid_text(u, u->pu->src_uid, want, sizeof(want));
	if (inbox)
		snprintf(buf, size, _("owned by %s, not by %s, %s: anyone "
				      "can create a file in a mode 1777 spool; "
				      "Postfix does not deliver to it either "
				      "(strict_mailbox_ownership)"), has,
			 u->user, want);
	else
		snprintf(buf, size, _("owned by %s, not by %s, %s: another "
				      "user's file is not migrated into this "
				      "user's mail (chown it if it is "
				      "theirs)"), has, u->user, want);
}

/* Does the directory open as FD hold a regular .mixmeta (mix_isvalid)? */
static bool is_mix_dir(int fd)
{
	struct stat st;

	return fstatat(fd, ".mixmeta", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISREG(st.st_mode);
}

/* The bytes of a mix folder: its .mix* files (not its subfolders). */
static long long mix_size(int fd)
{
	long long size = 0;
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int dfd = dup(fd);

	if (dfd < 0 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (uw_mix_internal_name(d->d_name) &&
		    fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			size += (long long)st.st_size;
	}
	closedir(dir);
	return size;
}

/*
 * A directory NAME below DIRFD (ST: its lstat): a mix folder when it
 * holds a regular .mixmeta and is the user's; else no folder.
 */
static int classify_mix(struct ucx *u, struct cand *c, int dirfd,
			const char *name, const struct stat *st)
{
	char detail[1024];
	struct m2d_error e;
	struct stat fst;
	int fd;

	fd = sf_open_dir(dirfd, name, name, &e);
	if (fd < 0)
		return cand_skip(c, e.code == M2D_ERR_UNSAFE ?
				 PLAN_SKIP_SYMLINK : PLAN_SKIP_UNREADABLE,
				 strerror(errno));
	if (fstat(fd, &fst) < 0 || fst.st_dev != st->st_dev ||
	    fst.st_ino != st->st_ino) {
		close(fd);
		return cand_skip(c, PLAN_SKIP_UNREADABLE,
				 _("it changed while it was examined"));
	}
	if (!is_mix_dir(fd)) {
		close(fd);
		return cand_skip(c, PLAN_SKIP_NOT_MBOX, _("a directory"));
	}
	if (!owner_ok(u, &fst, c->cls == CLASS_INBOX)) {
		close(fd);
		owner_detail(u, &fst, c->cls == CLASS_INBOX, detail,
			     sizeof(detail));
		return cand_skip(c, PLAN_SKIP_OWNER, detail);
	}
	c->f.format = UW_FMT_MIX;
	c->f.size = mix_size(fd);
	close(fd);
	c->f.skip = PLAN_TAKEN;
	return 0;
}

/*
 * Classify entry NAME below DIRFD (ST: its lstat) as a folder or a skip.
 * A regular file is opened with O_NOFOLLOW|O_NONBLOCK and checked to be
 * the file ST describes, a directory with O_NOFOLLOW|O_DIRECTORY (is it
 * a mix folder?); nothing else is ever opened.
 */
static int classify(struct ucx *u, struct cand *c, int dirfd,
		    const char *name, const struct stat *st)
{
	char buf[HEAD_MAX], detail[1024];
	struct stat fst;
	ssize_t n;
	int fd;

	c->f.size = (long long)st->st_size;
	if (S_ISLNK(st->st_mode)) {
		char target[256];
		ssize_t tl = readlinkat(dirfd, name, target,
					sizeof(target) - 1);

		if (tl < 0)
			return cand_skip(c, PLAN_SKIP_SYMLINK, NULL);
		target[tl] = '\0';
		snprintf(detail, sizeof(detail), _("points to %s"), target);
		return cand_skip(c, PLAN_SKIP_SYMLINK, detail);
	}
	if (S_ISDIR(st->st_mode))
		return classify_mix(u, c, dirfd, name, st);
	if (!S_ISREG(st->st_mode))
		return cand_skip(c, PLAN_SKIP_SPECIAL, NULL);

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return cand_skip(c, PLAN_SKIP_SYMLINK, NULL);
		return cand_skip(c, PLAN_SKIP_UNREADABLE, strerror(errno));
	}
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) ||
	    fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
		close(fd);
		return cand_skip(c, PLAN_SKIP_UNREADABLE,
				 _("it changed while it was examined"));
	}
	c->f.size = (long long)fst.st_size;
	/* whose it is, before a byte of it is read */
	if (!owner_ok(u, &fst, c->cls == CLASS_INBOX)) {
		close(fd);
		owner_detail(u, &fst, c->cls == CLASS_INBOX, detail,
			     sizeof(detail));
		return cand_skip(c, PLAN_SKIP_OWNER, detail);
	}
	/* other links to a file of the user's are the user's data; to
	 * root's file (also where root owns the user's mail: then a link
	 * may be any file of root's) or one of a user we cannot tell,
	 * they may be any file: refused, as Postfix refuses them */
	if (fst.st_nlink > 1 &&
	    (u->pu == NULL || u->pu->src_uid < 0 || fst.st_uid == 0 ||
	     (long)fst.st_uid != u->pu->src_uid)) {
		close(fd);
		snprintf(detail, sizeof(detail),
			 _("%lu hard links and not the user's own file: a "
			   "link may be a file outside the home (Postfix "
			   "refuses such a mailbox too)"),
			 (unsigned long)fst.st_nlink);
		return cand_skip(c, PLAN_SKIP_LINKS, detail);
	}
	if (!u->cfg->allow_sparse && sf_is_sparse(fd, &fst)) {
		close(fd);
		snprintf(detail, sizeof(detail),
			 _("%lld bytes but %lld on disk: each hole would "
			   "become real bytes in the target, written by root "
			   "(allow_sparse = true converts it)"),
			 (long long)fst.st_size,
			 (long long)fst.st_blocks * 512);
		return cand_skip(c, PLAN_SKIP_SPARSE, detail);
	}
	n = sf_pread_full(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		int e = errno;

		close(fd);
		return cand_skip(c, PLAN_SKIP_UNREADABLE, strerror(e));
	}
	close(fd);
	c->f.format = uw_format_of_head(buf, (size_t)n);
	if (c->f.format == UW_FMT_TENEX || c->f.format == UW_FMT_MTX) {
		snprintf(detail, sizeof(detail), _("UW's %s format"),
			 uw_format_name(c->f.format));
		return cand_skip(c, PLAN_SKIP_MBX, detail);
	}
	if (c->f.format == UW_FMT_UNKNOWN && head_is_mbox(buf, (size_t)n))
		c->f.format = UW_FMT_MBOX;
	if (c->f.format == UW_FMT_UNKNOWN)
		return cand_skip(c, PLAN_SKIP_NOT_MBOX,
				 n >= 5 && memcmp(buf, "*mbx*", 5) == 0 ?
				 _("a damaged mbx header") : NULL);
	/* "Sent.lock" beside "Sent": a dotlock, not a folder */
	if (c->f.format == UW_FMT_MBOX) {
		size_t len = strlen(name);
		struct stat lst;

		if (len > 5 && strcmp(name + len - 5, ".lock") == 0 &&
		    fst.st_size < 64) {
			char *base = xstrndup(name, len - 5);

			if (fstatat(dirfd, base, &lst,
				    AT_SYMLINK_NOFOLLOW) == 0) {
				snprintf(detail, sizeof(detail),
					 _("the lock file of %s"), base);
				free(base);
				return cand_skip(c, PLAN_SKIP_NOT_MBOX,
						 detail);
			}
			free(base);
		}
	}
	c->f.skip = PLAN_TAKEN;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Walking the folder roots                                           */

struct devino {
	dev_t dev;
	ino_t ino;
};

/* Is home-relative directory path REL another root than ROOT? */
static bool is_other_root(const struct ucx *u, int root, const char *rel)
{
	for (int i = 0; i < u->nroots; i++) {
		if (i != root && u->roots[i].home_rel != NULL &&
		    strcmp(u->roots[i].home_rel, rel) == 0)
			return true;
	}
	return false;
}

static char *join(const char *a, const char *b)
{
	if (a == NULL || a[0] == '\0')
		return xstrdup(b);
	return xasprintf("%s/%s", a, b);
}

static int walk_dir(struct ucx *u, int root, int dirfd, const char *rel,
		    int depth, struct devino *stack);

/* The mix folder NAME below DIRFD, at CREL below ROOT: one candidate. */
static int add_mix(struct ucx *u, int root, int dirfd, const char *crel,
		   const char *name, const struct stat *st)
{
	const struct root *r = &u->roots[root];
	struct cand *c;

	c = cand_add(u, xasprintf("%s/%s", r->abs, crel),
		     xasprintf("%s/%s%s", u->user, r->prefix, crel),
		     xstrdup(crel), CLASS_FOLDER, root);
	return classify_mix(u, c, dirfd, name, st);
}

/* One entry NAME of the directory REL (relative to ROOT) open as DIRFD. */
static int walk_entry(struct ucx *u, int root, int dirfd, const char *rel,
		      const char *name, int depth, struct devino *stack)
{
	const struct root *r = &u->roots[root];
	char *crel = join(rel, name), *home_rel = NULL;
	enum cand_class cls = CLASS_FOLDER;
	struct cand *c;
	struct stat st;
	int ret = 0, fd, st_errno = 0;

	if (r->home_rel != NULL)
		home_rel = join(r->home_rel, crel);
	/* a mix folder's own files are part of it; UW's INBOX is
	   the INBOX already */
	if ((uw_mix_internal_name(name) && is_mix_dir(dirfd)) ||
	    (u->inbox_home && home_rel != NULL &&
	     strcmp(home_rel, "INBOX") == 0))
		goto out;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		st_errno = errno;
		if (st_errno == ENOENT)
			goto out;	/* gone meanwhile */
	} else if (S_ISDIR(st.st_mode) && name[0] != '.') {
		if (home_rel != NULL && is_other_root(u, root, home_rel))
			goto out;	/* that root walks it */
		if (depth < WALK_DEPTH_MAX) {
			bool loop = false;

			for (int i = 0; i < depth; i++) {
				if (stack[i].dev == st.st_dev &&
				    stack[i].ino == st.st_ino)
					loop = true;
			}
			fd = loop ? -1 : openat(dirfd, name, O_RDONLY |
						O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			if (fd >= 0 && is_mix_dir(fd) &&
			    add_mix(u, root, dirfd, crel, name, &st) < 0) {
				close(fd);
				ret = -1;
				goto out;
			}
			if (fd >= 0) {
				/* a directory is no entry of its own (a mix
				   folder is, and may hold others) */
				stack[depth].dev = st.st_dev;
				stack[depth].ino = st.st_ino;
				ret = walk_dir(u, root, fd, crel, depth + 1,
					       stack);
				goto out;
			}
			st_errno = loop ? ELOOP : errno;
		}
	}
	if (home_rel != NULL && strcmp(home_rel, "mbox") == 0)
		cls = CLASS_MBOX;
	c = cand_add(u, xasprintf("%s/%s", r->abs, crel),
		     xasprintf("%s/%s%s", u->user, r->prefix, crel),
		     crel, cls, root);
	crel = NULL;
	if (st_errno != 0) {
		ret = cand_skip(c, PLAN_SKIP_UNREADABLE,
				st_errno == ELOOP ? _("a directory loop") :
				strerror(st_errno));
	} else if (name[0] == '.') {
		c->f.size = (long long)st.st_size;
		ret = cand_skip(c, PLAN_SKIP_DOTFILE, NULL);
	} else if (S_ISDIR(st.st_mode)) {
		c->f.size = (long long)st.st_size;
		ret = cand_skip(c, PLAN_SKIP_UNREADABLE,
				_("directories nested too deep"));
	} else {
		ret = classify(u, c, dirfd, name, &st);
	}
out:
	free(crel);
	free(home_rel);
	return ret;
}

/* Walk the directory open as FD (taken over and closed). */
static int walk_dir(struct ucx *u, int root, int fd, const char *rel,
		    int depth, struct devino *stack)
{
	struct dirent *d;
	DIR *dir = fdopendir(fd);
	int ret = 0;

	if (dir == NULL) {
		close(fd);
		return m2d_error_sys(u->err, "fdopendir", u->roots[root].abs);
	}
	while (ret == 0) {
		errno = 0;
		d = readdir(dir);
		if (d == NULL)
			break;
		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0)
			continue;
		ret = walk_entry(u, root, dirfd(dir), rel, d->d_name, depth,
				 stack);
	}
	closedir(dir);
	return ret;
}

/*
 * Open home-relative directory path REL below the home, one level at a
 * time, never following a symlink.  Returns the fd, -1 with *skip_r set
 * (PLAN_SKIP_MISSING / SYMLINK / UNREADABLE) and *errno_r.
 */
static int open_below(int basefd, const char *rel, bool last_is_dir,
		      char **last_r, enum plan_skip *skip_r, int *errno_r)
{
	char *copy, *p, *slash;
	int fd = dup(basefd);

	*last_r = NULL;
	if (fd < 0) {
		*skip_r = PLAN_SKIP_UNREADABLE;
		*errno_r = errno;
		return -1;
	}
	copy = xstrdup(rel);
	for (p = copy; *p != '\0'; p = slash + 1) {
		int nfd;

		slash = strchr(p, '/');
		if (slash == NULL && !last_is_dir) {
			*last_r = xstrdup(p);
			break;
		}
		if (slash != NULL)
			*slash = '\0';
		nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		if (nfd < 0) {
			struct stat st;
			int e = errno;

			*errno_r = e;
			if (e == ENOENT)
				*skip_r = PLAN_SKIP_MISSING;
			else if (fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				 S_ISLNK(st.st_mode))
				*skip_r = PLAN_SKIP_SYMLINK;
			else if (e == ENOTDIR)
				*skip_r = PLAN_SKIP_MISSING;
			else
				*skip_r = PLAN_SKIP_UNREADABLE;
			close(fd);
			fd = -1;
			break;
		}
		close(fd);
		fd = nfd;
		if (slash == NULL)
			break;
	}
	free(copy);
	return fd;
}

static int walk_root(struct ucx *u, int root)
{
	const struct root *r = &u->roots[root];
	struct devino stack[WALK_DEPTH_MAX + 1];
	enum plan_skip skip = PLAN_SKIP_MISSING;
	char *last;
	int fd, e = 0;

	if (r->home_rel != NULL) {
		if (u->home_fd < 0)
			return 0;
		if (r->home_rel[0] == '\0')
			fd = dup(u->home_fd);
		else
			fd = open_below(u->home_fd, r->home_rel, true, &last,
					&skip, &e);
	} else {
		fd = open(r->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			skip = e == ENOENT ? PLAN_SKIP_MISSING :
				PLAN_SKIP_UNREADABLE;
		}
	}
	if (fd < 0) {
		char *listed;
		struct cand *c;

		if (skip == PLAN_SKIP_MISSING)
			return 0;	/* no such root for this user */
		/* a symlink or unreadable root: say so, once */
		listed = xasprintf("%s/%.*s", u->user,
				   (int)strlen(r->prefix) - 1, r->prefix);
		if (cand_exists(u, listed)) {
			free(listed);
			return 0;
		}
		c = cand_add(u, xstrdup(r->abs), listed, NULL, CLASS_FOLDER,
			     root);
		return cand_skip(c, skip, strerror(e));
	}
	{
		struct stat st;

		if (fstat(fd, &st) == 0) {
			stack[0].dev = st.st_dev;
			stack[0].ino = st.st_ino;
		}
	}
	return walk_dir(u, root, fd, "", 1, stack);
}

/* ------------------------------------------------------------------ */
/* Roots of one user                                                  */

/* Collapse "//", drop a trailing '/': a new string. */
static char *norm_path(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s != '\0'; s++) {
		if (*s == '/' && o > out && o[-1] == '/')
			continue;
		*o++ = *s;
	}
	while (o > out + 1 && o[-1] == '/')
		o--;
	*o = '\0';
	return out;
}

static char *expand_user(const char *s, const char *user)
{
	size_t cap = strlen(s) * (strlen(user) + 1) + 1, len = 0;
	char *out = xmalloc(cap);

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] == 'u') {
			memcpy(out + len, user, strlen(user));
			len += strlen(user);
			s++;
		} else {
			out[len++] = *s;
		}
	}
	out[len] = '\0';
	return out;
}

static void roots_free(struct ucx *u)
{
	for (int i = 0; i < u->nroots; i++) {
		free(u->roots[i].home_rel);
		free(u->roots[i].abs);
		free(u->roots[i].prefix);
		free(u->roots[i].uw_prefix);
	}
	u->nroots = 0;
}

static void roots_init(struct ucx *u)
{
	char *home = u->home != NULL ? norm_path(u->home) : NULL;

	for (int i = 0; i < u->cfg->nroots; i++) {
		const char *cr = u->cfg->folder_roots[i];
		struct root r = { NULL, NULL, NULL, i, NULL };
		bool dup = false;

		if (cr == NULL || cr[0] == '\0')
			continue;
		if (cr[0] == '~') {
			const char *rel = cr + 1;

			while (*rel == '/')
				rel++;
			r.home_rel = norm_path(rel);
		} else {
			char *e = expand_user(cr, u->user);

			r.abs = norm_path(e);
			free(e);
			/* inside the home: a home root */
			if (home != NULL &&
			    strncmp(r.abs, home, strlen(home)) == 0 &&
			    (r.abs[strlen(home)] == '/' ||
			     r.abs[strlen(home)] == '\0')) {
				const char *rest = r.abs + strlen(home);

				r.home_rel = xstrdup(rest[0] == '/' ?
						     rest + 1 : rest);
				free(r.abs);
				r.abs = NULL;
			}
		}
		if (r.home_rel != NULL) {
			if (home == NULL) {
				free(r.home_rel);
				continue;	/* no home: no home roots */
			}
			r.abs = r.home_rel[0] != '\0' ?
				xasprintf("%s/%s", home, r.home_rel) :
				xstrdup(home);
			r.prefix = r.home_rel[0] != '\0' ?
				xasprintf("%s/", r.home_rel) : xstrdup("");
		} else {
			r.prefix = xasprintf("%s/", r.abs);
		}
		for (int j = 0; j < u->nroots; j++) {
			if (strcmp(u->roots[j].prefix, r.prefix) == 0)
				dup = true;
		}
		if (dup) {
			free(r.home_rel);
			free(r.abs);
			free(r.prefix);
			continue;
		}
		assert(u->nroots < M2D_MAX_ROOTS);
		if (r.home_rel != NULL && u->uw != NULL)
			r.uw_prefix = uw_names_prefix(u->uw, r.home_rel);
		u->roots[u->nroots++] = r;
	}
	free(home);
}

/* The deepest root whose prefix begins PATH (listed form, after
   "user/"); u->nroots when none. */
static int deepest_root(const struct ucx *u, const char *path)
{
	int best = u->nroots;
	size_t best_len = 0;

	for (int i = 0; i < u->nroots; i++) {
		const char *p = u->roots[i].prefix;
		size_t l = strlen(p);

		if (u->roots[i].home_rel == NULL && path[0] != '/')
			continue;
		if (u->roots[i].home_rel != NULL && path[0] == '/')
			continue;
		if (strncmp(path, p, l) == 0 && path[l] != '\0' &&
		    (best == u->nroots || l > best_len)) {
			best = i;
			best_len = l;
		}
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* Naming                                                             */

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->cls != y->cls)
		return (int)x->cls - (int)y->cls;
	if (x->cls == CLASS_FOLDER && x->root != y->root) {
		int ox = x->root, oy = y->root;

		return ox < oy ? -1 : 1;
	}
	return strcmp(x->f.listed, y->f.listed);
}

/* The name UW showed for C (plan_folder.uw_name); with folder_names
 * "uw" C is named by it: its path relative to UW's base becomes C->rel
 * (naming, subscriptions and renames then all speak UW's names). */
static void set_uw_name(struct ucx *u, struct cand *c)
{
	const struct root *r = c->root < u->nroots ? &u->roots[c->root] :
		NULL;
	char *rel;

	if (c->cls == CLASS_INBOX) {
		c->f.uw_name = xstrdup("INBOX");
		return;
	}
	if (c->cls != CLASS_FOLDER || r == NULL || r->uw_prefix == NULL ||
	    c->rel == NULL)
		return;
	rel = xasprintf("%s%s", r->uw_prefix, c->rel);
	c->f.uw_name = xmalloc(2 * strlen(rel) + 1);
	(void)folder_name_from_path(rel, c->f.uw_name, 2 * strlen(rel) + 1);
	if (u->uw->mode == UW_NAMES_UW) {
		free(c->rel);
		c->rel = rel;
	} else {
		free(rel);
	}
}

/* Names, directories, collisions and suggestions of U's candidates. */
static void name_cands(struct ucx *u)
{
	struct folder_set *set = folder_set_new();
	char dir[512];


	/* the order decides who keeps a contested name: INBOX, ~/mbox,
	   then by root in configuration order, then by path */
	for (size_t i = 0; i < u->n; i++) {
		set_uw_name(u, &u->c[i]);
		u->c[i].root = u->c[i].root < u->nroots ?
			u->roots[u->c[i].root].order : M2D_MAX_ROOTS;
	}
	if (u->n > 1)
		qsort(u->c, u->n, sizeof(*u->c), cmp_cand);

	/* INBOX is always the maildir root */
	(void)folder_set_add(set, "INBOX", NULL);
	for (size_t i = 0; i < u->n; i++) {
		struct cand *c = &u->c[i];
		enum folder_problem pb;
		size_t size;

		const struct plan_rename *rn;

		if (c->f.skip != PLAN_TAKEN)
			continue;
		rn = c->cls == CLASS_INBOX ? NULL :
			find_rename(u, c->f.listed);
		if (rn != NULL) {
			char orig[1024] = "";

			/* the name it had, problem or not */
			(void)folder_name_from_path(c->rel, orig, sizeof(orig));
			if (orig[0] != '\0')
				subs_rename(u, orig, rn->name);
		}
		if (rn != NULL && rn->name == NULL) {
			cand_skip(c, PLAN_SKIP_EXCLUDED, NULL);
			continue;
		}
		if (c->cls == CLASS_INBOX) {
			c->f.name = xstrdup("INBOX");
			c->f.dirname = xstrdup("");
			continue;
		}
		size = 2 * strlen(c->rel) + 1;
		if (rn != NULL && size < strlen(rn->name) + 1)
			size = strlen(rn->name) + 1;
		if (size < 256)
			size = 256;
		c->f.name = xmalloc(size);
		if (rn != NULL) {
			strcpy(c->f.name, rn->name);
			pb = FOLDER_OK;
		} else {
			pb = folder_name_from_path(c->rel, c->f.name, size);
		}
		if (pb == FOLDER_OK)
			pb = folder_name_to_maildir(c->f.name, dir,
						    sizeof(dir));
		if (pb == FOLDER_OK) {
			const char *other = NULL;

			pb = folder_set_add(set, c->f.name, &other);
			if (pb == FOLDER_COLLISION) {
				char *d;

				assert(other != NULL);
				d = xasprintf(_("%s (the same directory as "
						"\"%s\")"),
					      folder_problem_str(pb), other);
				c->f.problem = pb;
				cand_skip(c, PLAN_SKIP_NAME, d);
				free(d);
				continue;
			}
		}
		if (pb != FOLDER_OK) {
			c->f.problem = pb;
			cand_skip(c, PLAN_SKIP_NAME, folder_problem_str(pb));
			continue;
		}
		c->f.dirname = xstrdup(dir);
	}
	/* suggestions, once every good name is known; each suggestion is
	   reserved so that two renames don't suggest one name */
	for (size_t i = 0; i < u->n; i++) {
		struct cand *c = &u->c[i];
		size_t size;

		if (c->f.skip != PLAN_SKIP_NAME)
			continue;
		size = 4 * strlen(c->f.name) + 64;
		c->f.suggestion = xmalloc(size);
		folder_set_suggest(set, c->f.name, c->f.suggestion, size);
		(void)folder_set_add(set, c->f.suggestion, NULL);
	}
	subs_drop_invalid(u);
	folder_set_free(&set);
}

/* ------------------------------------------------------------------ */
/* Users                                                              */

struct ulist {
	char **names;
	unsigned long *lines;	/* line in the userlist, 0 if none */
	size_t n, cap, lcap;
};

static void ulist_add(struct ulist *l, const char *name, unsigned long line)
{
	grow((void **)&l->names, &l->cap, l->n + 1, sizeof(*l->names));
	grow((void **)&l->lines, &l->lcap, l->n + 1, sizeof(*l->lines));
	l->names[l->n] = xstrdup(name);
	l->lines[l->n] = line;
	l->n++;
}

static void ulist_free(struct ulist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->lines);
	memset(l, 0, sizeof(*l));
}

bool plan_in_shard(const char *user, unsigned int k, unsigned int n)
{
	uint64_t h = pos_hash_str(POS_HASH_INIT, user);

	/* FNV's low bits follow the last byte ("u0001", "u0002"...):
	 * mixed first (MurmurHash3's fmix64) */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return n <= 1 || h % n == (uint64_t)(k - 1);
}

/* Keep only the users of shard K of N (the order stays). */
static void ulist_shard(struct ulist *l, unsigned int k, unsigned int n)
{
	size_t j = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (plan_in_shard(l->names[i], k, n)) {
			l->names[j] = l->names[i];
			l->lines[j++] = l->lines[i];
		} else {
			free(l->names[i]);
		}
	}
	l->n = j;
}

/* Sort by name and drop duplicates (the first line is kept). */
static void ulist_sort(struct ulist *l)
{
	struct pair {
		char *name;
		unsigned long line;
	} *p;
	size_t k = 0;

	if (l->n == 0)
		return;
	p = xmalloc(l->n * sizeof(*p));
	for (size_t i = 0; i < l->n; i++) {
		p[i].name = l->names[i];
		p[i].line = l->lines[i];
	}
	qsort(p, l->n, sizeof(*p), cmp_str);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(p[k - 1].name, p[i].name) == 0) {
			if (p[i].line < p[k - 1].line)
				p[k - 1].line = p[i].line;
			free(p[i].name);
			continue;
		}
		p[k++] = p[i];
	}
	for (size_t i = 0; i < k; i++) {
		l->names[i] = p[i].name;
		l->lines[i] = p[i].line;
	}
	l->n = k;
	free(p);
}

static int bad_user_line(struct m2d_error *err, const char *path,
			 unsigned long line, const char *name)
{
	m2d_error_set(err, M2D_ERR_USAGE, path,
		      _("\"%s\" is not a valid user name"), name);
	m2d_error_at(err, -1, line);
	return -1;
}

/* Iterate over the lines of FILE: trimmed, comments and blanks dropped.
   Returns 1 with *line_r, 0 at the end, -1 on a read error. */
static int next_line(FILE *f, char **buf, size_t *cap, unsigned long *lineno,
		     char **line_r)
{
	ssize_t n;

	while ((n = getline(buf, cap, f)) >= 0) {
		char *s = *buf, *e;

		(*lineno)++;
		if (memchr(s, '\0', (size_t)n) != NULL) {
			*line_r = NULL;	/* NUL byte: invalid */
			return 1;
		}
		e = s + n;
		while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
			e--;
		*e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		*line_r = s;
		return 1;
	}
	return ferror(f) ? -1 : 0;
}

/*
 * In place: the name a line of our lists holds (str_field_escape(), see
 * plan.h); raw spaces are kept for hand-edited lists.  Returns 0, or -1
 * for a raw control byte or an escape we do not write.
 */
static int unescape_line(char *s)
{
	char *out = s, *seg = s;

	for (;;) {
		char *sp = strchr(seg, ' ');
		size_t n;

		if (sp != NULL)
			*sp = '\0';
		if (str_field_unescape(seg) < 0)
			return -1;
		n = strlen(seg);
		memmove(out, seg, n);
		out += n;
		if (sp == NULL)
			break;
		*out++ = ' ';
		seg = sp + 1;
	}
	*out = '\0';
	return 0;
}

static int not_ours_line(struct m2d_error *err, const char *path,
			 unsigned long line)
{
	m2d_error_set(err, M2D_ERR_USAGE, path,
		      _("a control character or an unknown \\ escape: not "
			"a line mbox2dovecot writes (write a newline in a "
			"name as \\n, TAB as \\t, '\\' as \\\\)"));
	m2d_error_at(err, -1, line);
	return -1;
}

static int read_userlist(const char *path, struct ulist *l,
			 struct m2d_error *err)
{
	FILE *f = fopen(path, "re");
	unsigned long lineno = 0;
	size_t cap = 0;
	char *buf = NULL, *line;
	int r;

	if (f == NULL)
		return m2d_error_sys(err, "open", path);
	while ((r = next_line(f, &buf, &cap, &lineno, &line)) > 0) {
		char *e;

		if (line == NULL) {
			r = bad_user_line(err, path, lineno, "\\0");
			break;
		}
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (unescape_line(line) < 0) {
			r = not_ours_line(err, path, lineno);
			break;
		}
		if (!user_name_valid(line)) {
			r = bad_user_line(err, path, lineno, line);
			break;
		}
		ulist_add(l, line, lineno);
	}
	if (r == -1 && err->code == M2D_OK)
		m2d_error_sys(err, "read", path);
	free(buf);
	fclose(f);
	return r < 0 ? -1 : 0;
}

/* Takes REASON. */
static void stray_add(struct plan *plan, size_t *cap,
		      const struct m2d_config *cfg, const char *name,
		      char *reason)
{
	struct plan_stray *st;

	grow((void **)&plan->strays, cap, plan->nstrays + 1,
	     sizeof(*plan->strays));
	st = &plan->strays[plan->nstrays++];
	st->source = xasprintf("%s/%s", cfg->spool_dir, name);
	st->reason = reason;
}

/*
 * Users from passwd within the UID range; the files of the spool that
 * are no such user's inbox become PLAN->strays (plan.h: never a user
 * from a file name alone).
 */
static int discover_users(const struct m2d_config *cfg,
			  struct acct_passwd *pw, struct ulist *l,
			  struct plan *plan, struct m2d_error *err)
{
	size_t scap = 0, n = pw->n;
	struct dirent *d;
	DIR *dir;
	int fd;

	/* the entries as loaded: a lookup below may add to pw->e */
	for (size_t i = 0; i < n; i++) {
		if (pw->e[i].uid < cfg->uid_min ||
		    pw->e[i].uid > cfg->uid_max ||
		    !user_name_valid(pw->e[i].name))
			continue;
		ulist_add(l, pw->e[i].name, 0);
	}

	fd = open(cfg->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return m2d_error_sys(err, "open", cfg->spool_dir);
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return m2d_error_sys(err, "fdopendir", cfg->spool_dir);
	}
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);
		const struct acct_pw *e;
		struct stat st;
		char *reason;

		/* dot files (ours among them) and dotlocks: no inboxes */
		if (d->d_name[0] == '.' ||
		    (len > 5 && strcmp(d->d_name + len - 5, ".lock") == 0))
			continue;
		if (fstatat(dirfd(dir), d->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!user_name_valid(d->d_name)) {
			reason = xstrdup(_("not a valid user name: no user's "
					   "inbox, not migrated"));
		} else if ((e = acct_passwd_find(pw, d->d_name)) == NULL) {
			reason = xstrdup(_("no such user in passwd: a file "
					   "in the spool is no user (anyone "
					   "can create one in a mode 1777 "
					   "spool); not migrated (name the "
					   "user in --users/--userlist if it "
					   "is one)"));
		} else if (e->uid < cfg->uid_min || e->uid > cfg->uid_max) {
			reason = xasprintf(_("the inbox of a system account "
					     "(uid %ld, outside uid_min..uid_max "
					     "%ld..%ld): not migrated"),
					   e->uid, cfg->uid_min,
					   cfg->uid_max);
		} else {
			continue;	/* a user of passwd: listed above */
		}
		stray_add(plan, &scap, cfg, d->d_name, reason);
	}
	closedir(dir);
	return 0;
}

struct owner_rule {
	enum { OWN_PASSWD, OWN_INBOX, OWN_FIXED } kind;
	int uid, gid;
};

static int owner_rule(const struct m2d_config *cfg, struct acct_passwd *pwd,
		      struct owner_rule *o, struct m2d_error *err)
{
	const char *s = cfg->owner != NULL ? cfg->owner : "passwd";
	const struct acct_pw *pw;
	unsigned long uid, gid;
	char *end;

	memset(o, 0, sizeof(*o));
	if (strcmp(s, "passwd") == 0) {
		o->kind = OWN_PASSWD;
		return 0;
	}
	if (strcmp(s, "inbox") == 0) {
		o->kind = OWN_INBOX;
		return 0;
	}
	o->kind = OWN_FIXED;
	if (strchr(s, ':') != NULL) {
		uid = strtoul(s, &end, 10);
		if (*end == ':') {
			gid = strtoul(end + 1, &end, 10);
			if (*end == '\0' && uid < 4294967295UL &&
			    gid < 4294967295UL) {
				o->uid = (int)uid;
				o->gid = (int)gid;
				return 0;
			}
		}
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("owner \"%s\": not UID:GID"), s);
	}
	pw = acct_passwd_find(pwd, s);
	if (pw == NULL)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("owner \"%s\": no such user"), s);
	o->uid = (int)pw->uid;
	o->gid = (int)pw->gid;
	return 0;
}

/* Fill user U (name set) from passwd, the spool and the owner rule. */
static int user_init(const struct m2d_config *cfg,
		     const struct owner_rule *rule, struct acct_passwd *pwd,
		     int spool_fd, struct plan_user *u, const char *listpath,
		     unsigned long line, struct m2d_error *err)
{
	const struct acct_pw *e = acct_passwd_find(pwd, u->name);
	struct stat inbox, home;
	bool has_inbox = false, has_home = false, inbox_ok;
	long pw_uid = -1, pw_gid = -1;

	u->uid = u->gid = -1;
	u->src_uid = u->src_gid = -1;
	u->in_passwd = e != NULL;
	if (e != NULL) {
		/* copied: a later lookup may move the entries */
		pw_uid = e->uid;
		pw_gid = e->gid;
	}
	if (cfg->homes_dir != NULL && cfg->homes_dir[0] != '\0')
		u->home = xasprintf("%s/%s", cfg->homes_dir, u->name);
	else if (e != NULL && e->home[0] != '\0')
		u->home = xstrdup(e->home);
	u->target = m2d_config_target(cfg, u->name);
	assert(u->target != NULL);	/* m2d_config_check() passed */

	if (spool_fd >= 0 &&
	    fstatat(spool_fd, u->name, &inbox, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISLNK(inbox.st_mode))
		has_inbox = true;
	if (u->home != NULL && stat(u->home, &home) == 0 &&
	    S_ISDIR(home.st_mode))
		has_home = true;

	if (!u->in_passwd && !has_inbox && !has_home) {
		m2d_error_set(err, M2D_ERR_USAGE, listpath,
			      _("unknown user \"%s\": not in passwd, no inbox "
				"in %s, no home directory"),
			      u->name, cfg->spool_dir);
		if (line > 0)
			m2d_error_at(err, -1, line);
		return -1;
	}
	/* the owner the user's files must have (plan.h, Ownership) */
	if (u->in_passwd) {
		u->src_uid = pw_uid;
		u->src_gid = pw_gid;
	} else if (rule->kind == OWN_FIXED) {
		u->src_uid = rule->uid;
		u->src_gid = rule->gid;
	} else if (has_home) {
		u->src_uid = (long)home.st_uid;
		u->src_gid = (long)home.st_gid;
	}
	/* an inbox that is refused gives no owner */
	inbox_ok = has_inbox && S_ISREG(inbox.st_mode) &&
		(u->src_uid < 0 ? inbox.st_nlink == 1 :
		 (long)inbox.st_uid == u->src_uid);
	if (rule->kind == OWN_FIXED) {
		u->uid = rule->uid;
		u->gid = rule->gid;
	} else if (rule->kind == OWN_INBOX && inbox_ok) {
		u->uid = (int)inbox.st_uid;
		u->gid = (int)inbox.st_gid;
	} else if (u->in_passwd) {
		u->uid = (int)pw_uid;
		u->gid = (int)pw_gid;
	} else if (has_home) {
		u->uid = (int)home.st_uid;
		u->gid = (int)home.st_gid;
	} else if (inbox_ok) {
		u->uid = (int)inbox.st_uid;
		u->gid = (int)inbox.st_gid;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Folders of one user                                                */

/* Drop the last candidate (a probe). */
static void cand_pop(struct ucx *u)
{
	cand_free(&u->c[--u->n]);
}

/*
 * The spool file beside UW's INBOX in ~/INBOX (candidate CI): UW moved
 * its new mail into ~/INBOX, so what it still holds follows.  Taken when
 * it is an mbox of the user's; else the INBOX says why it is not.
 */
static int add_spool(struct ucx *u, size_t ci)
{
	struct stat st;
	struct cand *s, *c;
	char *note = NULL;

	if (u->spool_fd < 0 ||
	    fstatat(u->spool_fd, u->user, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	s = cand_add(u, xasprintf("%s/%s", u->cfg->spool_dir, u->user),
		     xasprintf("%s/INBOX", u->user), NULL, CLASS_INBOX,
		     u->nroots);
	if (classify(u, s, u->spool_fd, u->user, &st) < 0)
		return -1;
	c = &u->c[ci];
	if (s->f.skip == PLAN_TAKEN && s->f.format == UW_FMT_MBOX) {
		c->f.spool = s->f.source;
		s->f.source = NULL;
		if (c->f.size >= 0 && s->f.size > 0)
			c->f.size += s->f.size;
	} else {
		note = xasprintf(_("the spool file %s is not migrated with it: "
				   "%s"), s->f.source, s->f.skip == PLAN_TAKEN ?
				 uw_format_name(s->f.format) : s->f.reason);
		free(c->f.reason);
		c->f.reason = note;
	}
	cand_pop(u);
	return 0;
}

/*
 * UW's INBOX in ~/INBOX, an mbx file or a mix directory of the user's
 * (c-client's mbx and mix drivers keep INBOX there and move new mail
 * into it from the spool file).  Returns 1 when it is (the INBOX
 * candidate made, with its spool), 0 when not, -1 on error.
 */
static int add_home_inbox(struct ucx *u)
{
	struct stat st;
	struct cand *c;
	size_t ci;

	if (u->home_fd < 0 ||
	    fstatat(u->home_fd, "INBOX", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return 0;
	c = cand_add(u, xasprintf("%s/INBOX", u->home),
		     xasprintf("%s/INBOX", u->user), NULL, CLASS_INBOX,
		     u->nroots);
	if (classify(u, c, u->home_fd, "INBOX", &st) < 0)
		return -1;
	if (c->f.skip != PLAN_TAKEN ||
	    (c->f.format != UW_FMT_MBX && c->f.format != UW_FMT_MIX)) {
		/* not UW's INBOX: the walk lists it as any file */
		cand_pop(u);
		return 0;
	}
	u->inbox_home = true;
	ci = u->n - 1;
	return add_spool(u, ci) < 0 ? -1 : 1;
}

static int add_inbox(struct ucx *u, bool missing_is_skip)
{
	struct stat st;
	struct cand *c;
	char *source = xasprintf("%s/%s", u->cfg->spool_dir, u->user);
	char *listed = xasprintf("%s/INBOX", u->user);

	int home;

	if (cand_exists(u, listed)) {
		free(source);
		free(listed);
		return 0;
	}
	home = add_home_inbox(u);
	if (home != 0) {
		free(source);
		free(listed);
		return home < 0 ? -1 : 0;
	}
	if (u->spool_fd < 0 ||
	    fstatat(u->spool_fd, u->user, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		int e = u->spool_fd < 0 ? ENOENT : errno;

		if (e == ENOENT && !missing_is_skip) {
			free(source);
			free(listed);
			return 0;	/* no inbox (yet) */
		}
		c = cand_add(u, source, listed, NULL, CLASS_INBOX, u->nroots);
		return cand_skip(c, e == ENOENT ? PLAN_SKIP_MISSING :
				 PLAN_SKIP_UNREADABLE, strerror(e));
	}
	c = cand_add(u, source, listed, NULL, CLASS_INBOX, u->nroots);
	return classify(u, c, u->spool_fd, u->user, &st);
}

/* ~/mbox when no root covers the top of the home */
static int add_home_mbox(struct ucx *u)
{
	struct stat st;
	struct cand *c;
	char *listed;

	if (u->home_fd < 0 ||
	    fstatat(u->home_fd, "mbox", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	listed = xasprintf("%s/mbox", u->user);
	if (cand_exists(u, listed)) {
		free(listed);
		return 0;
	}
	c = cand_add(u, xasprintf("%s/mbox", u->home), listed,
		     xstrdup("mbox"), CLASS_MBOX, u->nroots);
	return classify(u, c, u->home_fd, "mbox", &st);
}

/* One folderlist entry PATH (after "user/"). */
static int add_listed(struct ucx *u, const char *path)
{
	int root = deepest_root(u, path);
	enum plan_skip skip = PLAN_SKIP_MISSING;
	const char *rel, *below;
	char *listed, *source, *last = NULL;
	enum cand_class cls = CLASS_FOLDER;
	struct cand *c;
	struct stat st;
	int basefd = -1, fd, e = 0, ret;
	bool own_base = false;

	if (strcmp(path, "INBOX") == 0)
		return add_inbox(u, true);
	listed = xasprintf("%s/%s", u->user, path);
	if (cand_exists(u, listed)) {
		free(listed);
		return 0;
	}
	if (root < u->nroots) {
		rel = path + strlen(u->roots[root].prefix);
		source = xasprintf("%s/%s", u->roots[root].abs, rel);
	} else {
		rel = path;
		source = path[0] == '/' ? xstrdup(path) :
			u->home != NULL ? xasprintf("%s/%s", u->home, path) :
			xasprintf("~%s/%s", u->user, path);
	}
	if (path[0] != '/' && strcmp(path, "mbox") == 0)
		cls = CLASS_MBOX;
	c = cand_add(u, source, listed, xstrdup(rel), cls, root);

	/* where the walk starts: the home, or an absolute root (followed:
	   the administrator configured it) */
	if (path[0] != '/') {
		if (u->home_fd < 0)
			return cand_skip(c, PLAN_SKIP_MISSING,
					 _("the user has no home directory"));
		basefd = u->home_fd;
		below = path;
	} else if (root < u->nroots) {
		basefd = open(u->roots[root].abs, O_RDONLY | O_DIRECTORY |
			      O_CLOEXEC);
		if (basefd < 0)
			return cand_skip(c, errno == ENOENT ?
					 PLAN_SKIP_MISSING :
					 PLAN_SKIP_UNREADABLE,
					 strerror(errno));
		own_base = true;
		below = rel;
	} else {
		return cand_skip(c, PLAN_SKIP_MISSING,
				 _("not below a folder root"));
	}
	fd = open_below(basefd, below, false, &last, &skip, &e);
	if (own_base)
		close(basefd);
	if (fd < 0)
		return cand_skip(c, skip, strerror(e));
	if (fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		ret = cand_skip(c, e == ENOENT ? PLAN_SKIP_MISSING :
				PLAN_SKIP_UNREADABLE, strerror(e));
	} else {
		/* listed on purpose: even a dot file is taken when it is
		   an mbox */
		ret = classify(u, c, fd, last, &st);
	}
	close(fd);
	free(last);
	return ret;
}

/* .mailboxlist lines in the forms UW also wrote for the user's own
 * folders -- "~USER/mail/x" and "HOME/mail/x" -- as "~/mail/x" (which
 * mailboxlist_to_names() takes); other lines as they are.  Allocated,
 * *LEN updated. */
static char *own_forms(struct ucx *u, const char *data, size_t *len)
{
	char *tilde = xasprintf("~%s/", u->user);
	char *home = u->home != NULL && u->home[0] == '/' ?
		xasprintf("%s/", u->home) : NULL;
	char *out = xmalloc(*len + 1);
	size_t o = 0, i = 0;

	while (i < *len) {
		const char *line = data + i, *nl = memchr(line, '\n', *len - i);
		size_t l = nl != NULL ? (size_t)(nl - line) + 1 : *len - i;
		size_t skip = 0;

		if (l > strlen(tilde) && strncmp(line, tilde, strlen(tilde)) == 0)
			skip = strlen(tilde);
		else if (home != NULL && l > strlen(home) &&
			 strncmp(line, home, strlen(home)) == 0)
			skip = strlen(home);
		if (skip > 0) {
			memcpy(out + o, "~/", 2);
			o += 2;
		}
		memcpy(out + o, line + skip, l - skip);
		o += l - skip;
		i += l;
	}
	free(tilde);
	free(home);
	*len = o;
	return out;
}

static void read_subscriptions(struct ucx *u, struct plan_user *pu)
{
	const char *prefixes[M2D_MAX_ROOTS + 2];
	char *subdir = NULL, *own;
	struct stat st;
	size_t n = 0, len = 0;
	char *data;
	int fd;

	if (u->home_fd < 0)
		return;
	fd = openat(u->home_fd, ".mailboxlist", O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		/* none is normal; anything else is said */
		if (errno == ENOENT)
			return;
		pu->subs_skipped = xasprintf(
			"%s: %s", errno == ELOOP ?
			_("a symbolic link: never followed") :
			strerror(errno), _("no subscriptions taken"));
		return;
	}
	memset(&st, 0, sizeof(st));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !owner_ok(u, &st, false)) {
		char detail[1024];

		if (S_ISREG(st.st_mode))
			owner_detail(u, &st, false, detail, sizeof(detail));
		else
			snprintf(detail, sizeof(detail), "%s",
				 plan_skip_str(PLAN_SKIP_SPECIAL));
		close(fd);
		pu->subs_skipped = xasprintf("%s: %s", detail,
					     _("no subscriptions taken"));
		return;
	}
	data = xmalloc(MAILBOXLIST_MAX);
	while (len < MAILBOXLIST_MAX) {
		ssize_t r = read(fd, data + len, MAILBOXLIST_MAX - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == MAILBOXLIST_MAX) {	/* cut at the last whole line */
		while (len > 0 && data[len - 1] != '\n')
			len--;
	}
	/* the home roots' prefixes, deepest first; with UW's names kept,
	   only UW's own base (mail-subdirectory) is taken off */
	for (int i = 0; u->uw->mode != UW_NAMES_UW && i < u->nroots; i++) {
		if (u->roots[i].home_rel != NULL &&
		    u->roots[i].prefix[0] != '\0')
			prefixes[n++] = u->roots[i].prefix;
	}
	if (u->uw->mode == UW_NAMES_UW && u->uw->subdir != NULL) {
		subdir = xasprintf("%s/", u->uw->subdir);
		prefixes[n++] = subdir;
	}
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 &&
		     strlen(prefixes[j]) > strlen(prefixes[j - 1]); j--) {
			const char *t = prefixes[j];

			prefixes[j] = prefixes[j - 1];
			prefixes[j - 1] = t;
		}
	}
	prefixes[n] = NULL;
	own = own_forms(u, data, &len);
	pu->subscriptions = mailboxlist_to_names(own, len, prefixes);
	free(own);
	free(data);
	free(subdir);
}

/* ------------------------------------------------------------------ */
/* The folderlist                                                     */

struct fentry {
	size_t user;
	unsigned long line;
	char *path;	/* after "user/" */
};

static int cmp_fentry(const void *a, const void *b)
{
	const struct fentry *x = a, *y = b;

	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_user_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct plan_user *)elem)->name);
}

static int read_folderlist(const char *path, const struct plan *plan,
			   struct fentry **out, size_t *nout,
			   struct m2d_error *err)
{
	FILE *f = fopen(path, "re");
	unsigned long lineno = 0;
	size_t cap = 0, ecap = 0;
	char *buf = NULL, *line;
	int r;

	*out = NULL;
	*nout = 0;
	if (f == NULL)
		return m2d_error_sys(err, "open", path);
	while ((r = next_line(f, &buf, &cap, &lineno, &line)) > 0) {
		const struct plan_user *pu;
		char *slash, *p;
		bool bad = false;

		if (line == NULL) {
			m2d_error_set(err, M2D_ERR_USAGE, path,
				      _("a NUL byte in the line"));
			m2d_error_at(err, -1, lineno);
			r = -1;
			break;
		}
		if (unescape_line(line) < 0) {
			r = not_ours_line(err, path, lineno);
			break;
		}
		slash = strchr(line, '/');
		if (slash == NULL || slash[1] == '\0') {
			m2d_error_set(err, M2D_ERR_USAGE, path,
				      _("\"%s\" is not USER/PATH"), line);
			m2d_error_at(err, -1, lineno);
			r = -1;
			break;
		}
		*slash = '\0';
		/* no "", "." or ".." levels: stay where the list says */
		for (p = slash + 1; *p != '\0' && !bad;) {
			size_t n = strcspn(p, "/");

			if (p == slash + 1 && n == 0) {
				p++;	/* an absolute path */
				continue;
			}
			if (n == 0 || (n == 1 && p[0] == '.') ||
			    (n == 2 && p[0] == '.' && p[1] == '.'))
				bad = true;
			p += n;
			if (*p == '/') {
				p++;
				if (*p == '\0')
					bad = true;
			}
		}
		if (bad || (slash[1] == '/' && slash[2] == '\0')) {
			m2d_error_set(err, M2D_ERR_USAGE, path,
				      _("\"%s/%s\": empty, \".\" or \"..\" "
					"levels are not allowed"), line,
				      slash + 1);
			m2d_error_at(err, -1, lineno);
			r = -1;
			break;
		}
		pu = plan->nusers == 0 ? NULL :
			bsearch(line, plan->users, plan->nusers,
				sizeof(*plan->users), cmp_user_key);
		if (pu == NULL) {
			m2d_error_set(err, M2D_ERR_USAGE, path,
				      _("user \"%s\" is not in the user list"),
				      line);
			m2d_error_at(err, -1, lineno);
			r = -1;
			break;
		}
		grow((void **)out, &ecap, *nout + 1, sizeof(**out));
		(*out)[*nout].user = (size_t)(pu - plan->users);
		(*out)[*nout].line = lineno;
		(*out)[*nout].path = xstrdup(slash + 1);
		(*nout)++;
	}
	if (r == -1 && err->code == M2D_OK)
		m2d_error_sys(err, "read", path);
	free(buf);
	fclose(f);
	if (r < 0)
		return -1;
	if (*nout > 1)
		qsort(*out, *nout, sizeof(**out), cmp_fentry);
	return 0;
}

/* ------------------------------------------------------------------ */
/* plan_build                                                         */

static int user_folders(const struct m2d_config *cfg, struct plan *plan,
			struct acct_passwd *pw, size_t uidx, int spool_fd,
			const struct fentry *fl,
			size_t nfl, const struct plan_source *src,
			size_t *fpos, size_t *fcap, struct m2d_error *err)
{
	bool use_list = src != NULL && src->folderlist != NULL;
	struct plan_user *pu = &plan->users[uidx];
	struct ucx u;
	int ret = 0;

	memset(&u, 0, sizeof(u));
	u.cfg = cfg;
	u.uidx = uidx;
	u.user = pu->name;
	u.home = pu->home;
	u.home_fd = -1;
	u.spool_fd = spool_fd;
	u.err = err;
	u.pu = pu;
	u.pw = pw;
	u.uw = &plan->uw;
	if (src != NULL) {
		u.renames = src->renames;
		u.nrenames = src->nrenames;
	}
	if (u.home != NULL)
		u.home_fd = open(u.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	roots_init(&u);
	ret = add_inbox(&u, false);
	if (ret == 0 && use_list) {
		for (; *fpos < nfl && fl[*fpos].user < uidx; (*fpos)++)
			;
		for (; ret == 0 && *fpos < nfl && fl[*fpos].user == uidx;
		     (*fpos)++)
			ret = add_listed(&u, fl[*fpos].path);
	} else if (ret == 0) {
		for (int i = 0; ret == 0 && i < u.nroots; i++)
			ret = walk_root(&u, i);
		if (ret == 0)
			ret = add_home_mbox(&u);
	}
	if (ret == 0) {
		read_subscriptions(&u, pu);
		name_cands(&u);
	}
	if (ret == 0 && u.n > 0) {
		grow((void **)&plan->folders, fcap, plan->nfolders + u.n,
		     sizeof(*plan->folders));
		for (size_t i = 0; i < u.n; i++) {
			if (u.c[i].cls == CLASS_MBOX &&
			    u.c[i].f.skip == PLAN_TAKEN) {
				free(u.c[i].f.reason);
				u.c[i].f.reason = xstrdup(
					_("~/mbox holds INBOX mail under "
					  "UW-IMAP (it moves spool mail "
					  "into it): migrated as the folder "
					  "\"mbox\", beside the spool INBOX, "
					  "so that no message is lost or "
					  "merged"));
			}
			plan->folders[plan->nfolders++] = u.c[i].f;
			free(u.c[i].rel);
		}
		u.n = 0;
	}
	for (size_t i = 0; i < u.n; i++)
		cand_free(&u.c[i]);
	free(u.c);
	roots_free(&u);
	if (u.home_fd >= 0)
		close(u.home_fd);
	return ret;
}

int plan_build(const struct m2d_config *cfg, const struct plan_source *src,
	       struct plan *plan, struct m2d_error *err)
{
	struct acct_tools tools = { NULL, cfg->accounts_root };
	struct acct_passwd pw;
	struct owner_rule rule;
	struct ulist ul;
	struct fentry *fl = NULL;
	size_t nfl = 0, fpos = 0, fcap = 0;
	const char *listpath = NULL;
	int spool_fd = -1, ret = -1;

	memset(plan, 0, sizeof(*plan));
	memset(&ul, 0, sizeof(ul));
	memset(&pw, 0, sizeof(pw));
	m2d_error_clear(err);
	if (m2d_config_check(cfg, NULL, err) < 0 ||
	    acct_passwd_load(&tools, &pw, err) < 0)
		return -1;
	if (owner_rule(cfg, &pw, &rule, err) < 0 ||
	    uw_names_init(cfg, &plan->uw, err) < 0) {
		acct_passwd_free(&pw);
		return -1;
	}

	if (src != NULL && src->users != NULL) {
		for (const char *const *p = src->users; *p != NULL; p++) {
			if (!user_name_valid(*p)) {
				m2d_error_set(err, M2D_ERR_USAGE, NULL,
					      _("\"%s\" is not a valid user "
						"name"), *p);
				goto out;
			}
			ulist_add(&ul, *p, 0);
		}
	} else if (src != NULL && src->userlist != NULL) {
		listpath = src->userlist;
		if (read_userlist(src->userlist, &ul, err) < 0)
			goto out;
	} else if (discover_users(cfg, &pw, &ul, plan, err) < 0) {
		goto out;
	}
	ulist_sort(&ul);
	if (src != NULL && src->shards > 1)
		ulist_shard(&ul, src->shard, src->shards);

	spool_fd = open(cfg->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	plan->users = xcalloc(ul.n, sizeof(*plan->users));
	for (size_t i = 0; i < ul.n; i++) {
		struct plan_user *u = &plan->users[i];

		u->name = ul.names[i];
		ul.names[i] = NULL;
		plan->nusers++;
		if (user_init(cfg, &rule, &pw, spool_fd, u, listpath,
			      ul.lines[i], err) < 0)
			goto out;
	}

	if (src != NULL && src->folderlist != NULL &&
	    read_folderlist(src->folderlist, plan, &fl, &nfl, err) < 0)
		goto out;
	for (size_t i = 0; i < plan->nusers; i++) {
		if (user_folders(cfg, plan, &pw, i, spool_fd, fl, nfl, src,
				 &fpos, &fcap, err) < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < nfl; i++)
		free(fl[i].path);
	free(fl);
	ulist_free(&ul);
	acct_passwd_free(&pw);
	if (spool_fd >= 0)
		close(spool_fd);
	if (ret < 0)
		plan_free(plan);
	return ret;
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->nusers; i++) {
		free(plan->users[i].name);
		free(plan->users[i].home);
		free(plan->users[i].target);
		folder_names_free(plan->users[i].subscriptions);
		free(plan->users[i].subs_skipped);
	}
	free(plan->users);
	for (size_t i = 0; i < plan->nfolders; i++) {
		struct plan_folder *f = &plan->folders[i];

		free(f->source);
		free(f->listed);
		free(f->name);
		free(f->dirname);
		free(f->reason);
		free(f->suggestion);
		free(f->spool);
		free(f->uw_name);
	}
	free(plan->folders);
	for (size_t i = 0; i < plan->nstrays; i++) {
		free(plan->strays[i].source);
		free(plan->strays[i].reason);
	}
	free(plan->strays);
	uw_names_free(&plan->uw);
	memset(plan, 0, sizeof(*plan));
}

/* ------------------------------------------------------------------ */
/* Writing the lists                                                  */

struct sbuf {
	char *s;
	size_t len, cap;
};

/* One name as one line: escaped (plan.h), so that no byte of it can
 * start another line. */
static void sb_line(struct sbuf *b, const char *name)
{
	char *line = str_field_escape(name);
	size_t l = strlen(line);

	grow((void **)&b->s, &b->cap, b->len + l + 2, 1);
	memcpy(b->s + b->len, line, l);
	b->len += l;
	b->s[b->len++] = '\n';
	free(line);
}

int plan_write_lists(const struct plan *plan, const char *dir,
		     struct m2d_error *err)
{
	struct sbuf users = { NULL, 0, 0 }, folders = { NULL, 0, 0 };
	char *upath = xasprintf("%s/%s", dir, USERLIST_NAME);
	char *fpath = xasprintf("%s/%s", dir, FOLDERLIST_NAME);
	int dfd = -1, ret = -1;

	m2d_error_clear(err);
	for (size_t i = 0; i < plan->nusers; i++)
		sb_line(&users, plan->users[i].name);
	/* as the runbook's folderlist: no inboxes (the userlist implies
	   them); every name escaped, a newline in it too */
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip != PLAN_TAKEN || strcmp(f->name, "INBOX") == 0)
			continue;
		sb_line(&folders, f->listed);
	}

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		m2d_error_sys(err, "open", dir);
		goto out;
	}
	if (sf_replace_file(dfd, USERLIST_NAME, users.s != NULL ? users.s : "",
			    users.len, -1, -1, upath, err) < 0 ||
	    sf_replace_file(dfd, FOLDERLIST_NAME,
			    folders.s != NULL ? folders.s : "", folders.len,
			    -1, -1, fpath, err) < 0)
		goto out;
	ret = 0;
out:
	if (dfd >= 0)
		close(dfd);
	free(users.s);
	free(folders.s);
	free(upath);
	free(fpath);
	return ret;
}
