/* SPDX-License-Identifier: MIT */
/*
 * maildir-writer.c - build one maildir folder in staging, then show it whole
 *
 * Why staging: Dovecot (and a re-run of ours) must never see a folder with
 * some of its messages and no dovecot-uidlist, or it would give them new
 * UIDs for good.  So the folder is complete, with its uidlist and synced,
 * before it appears under its name.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotlock.h"
#include "maildir-writer.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

#define WRITE_BUF_SIZE (256 * 1024)
#define NAME_MAX_LEN 256
/* How long to wait for Dovecot to let go of a folder's uidlist. */
#define UIDLIST_LOCK_WAIT 30

struct maildir_folder {
	char *root;			/* maildir root path (for messages) */
	char *dirname;			/* "" or ".a.b" */
	char *stage_path;		/* for messages */
	char stage[64];			/* name of staging dir in root tmp/ */
	struct maildir_owner owner;
	bool replace;
	bool append;			/* adding to the live folder */
	char newlist[64];		/* append: the next dovecot-uidlist */
	char partial[64];		/* append: name of the list in tmp/ */
	bool installing;		/* append: messages being moved in */
	struct dotlock *uidlock;	/* Dovecot's dovecot-uidlist.lock */

	int rootfd, roottmpfd, stagefd, tmpfd, curfd, newfd;
	bool committed;
	bool owner_is_me;		/* the owner is our own uid and gid */
	bool owner_creates;		/* this thread creates as the owner */

	char *keywords[MAILDIR_MAX_KEYWORDS];
	int nkeywords;

	FILE *uidlist;			/* "<uid> <base>\n" per message */
	unsigned long messages;

	/* the message being written */
	int msgfd;
	char msgname[NAME_MAX_LEN];
	unsigned char *buf;
	size_t buflen;
	unsigned long long size, vsize;
	unsigned char last;
	unsigned long long total;
};

static char *path_join(const char *a, const char *b)
{
	return xasprintf("%s/%s", a, b);
}

/* The directories above a new maildir root (the target base), as mkdir -p. */
static int mkdir_parents(const char *root, struct m2d_error *err)
{
	char *p = xstrdup(root), *s;

	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			m2d_error_sys(err, "mkdir", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

int maildir_root_open(const char *root, const struct maildir_owner *owner,
		      bool *created_r, int *tmpfd_r, struct m2d_error *err)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	bool created = false;
	int fd;
	size_t i;

	if (mkdir_parents(root, err) < 0)
		return -1;
	if (mkdir(root, 0700) == 0) {
		created = true;
		fd = sf_open_dir(AT_FDCWD, root, root, err);
		if (fd < 0)
			return -1;
		if (owner->uid != -1 &&
		    fchown(fd, (uid_t)owner->uid, (gid_t)owner->gid) < 0) {
			close(fd);
			return m2d_error_sys(err, "fchown", root);
		}
	} else if (errno == EEXIST) {
		fd = sf_open_dir(AT_FDCWD, root, root, err);
		if (fd < 0)
			return -1;
	} else {
		return m2d_error_sys(err, "mkdir", root);
	}
	for (i = 0; i < 3; i++) {
		char *p = path_join(root, sub[i]);
		int sfd = sf_mkdir(fd, sub[i], owner->uid, owner->gid, true,
				   p, err);

		free(p);
		if (sfd < 0) {
			close(fd);
			return -1;
		}
		if (i == 2 && tmpfd_r != NULL)
			*tmpfd_r = sfd;
		else
			close(sfd);
	}
	if (created_r != NULL)
		*created_r = created;
	return fd;
}

/*
 * What a killed run left in TMPFD (a tmp/): staging directories
 * "m2d-stage.PID.*" and the Dovecot lock it was making, whose process is
 * gone.  They were never visible as mail; remove them.
 */
static void remove_dead_stages(int tmpfd)
{
	static const char *const prefixes[] = { "m2d-stage.",
						DOTLOCK_TEMP_PREFIX };
	struct dirent *d;
	DIR *dir;
	int fd = dup(tmpfd);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		for (size_t i = 0; i < 2; i++) {
			size_t n = strlen(prefixes[i]);
			char *end;
			long pid;

			if (strncmp(d->d_name, prefixes[i], n) != 0)
				continue;
			/* a staging dir "m2d-stage.PID.RAND", or the lock
			 * being made, "m2d-lock.PID" */
			pid = strtol(d->d_name + n, &end, 10);
			if (*end != (i == 0 ? '.' : '\0') || pid <= 0)
				continue;
			if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				sf_remove_tree(tmpfd, d->d_name);
		}
	}
	closedir(dir);
}

/*
 * A message file of ours: sf_unique_name()'s "<sec>.M<usec>P<pid>Q<n>
 * R<8 hex>.<host>", then Dovecot's ",S=..." and ":2,..." as it may have
 * renamed it.  Dovecot's own names have no Q/R part, Postfix's and
 * Courier's have V and I.
 */
bool maildir_written_by_us(const char *name)
{
	/* each part: the text before it, then digits */
	static const char *const before[] = { "", ".M", "P", "Q" };
	const char *p = name;

	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		size_t n = strlen(before[i]), d;

		if (strncmp(p, before[i], n) != 0)
			return false;
		p += n;
		d = strspn(p, "0123456789");
		if (d == 0)
			return false;
		p += d;
	}
	return *p == 'R' && strspn(p + 1, "0123456789abcdef") == 8 &&
		p[9] == '.';
}

/*
 * Messages in the live folder (cur/ and new/; none when it does not
 * exist): all of them, or with FOREIGN only those we did not write.
 * The count, or -1.
 */
static long count_messages(struct maildir_folder *f, bool foreign,
			   struct m2d_error *err)
{
	static const char *const sub[] = { "cur", "new" };
	long n = 0;
	int dfd, i;

	if (f->dirname[0] == '\0') {
		dfd = dup(f->rootfd);
	} else {
		struct stat st;

		if (fstatat(f->rootfd, f->dirname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				return 0;
			return m2d_error_sys(err, "stat", f->stage_path);
		}
		dfd = sf_open_dir(f->rootfd, f->dirname, f->stage_path, err);
	}
	if (dfd < 0)
		return -1;
	for (i = 0; i < 2 && n >= 0; i++) {
		struct dirent *d;
		DIR *dir;
		int fd = openat(dfd, sub[i], O_RDONLY | O_DIRECTORY |
				O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0) {
			if (errno != ENOENT)
				n = m2d_error_sys(err, "open", f->stage_path);
			continue;
		}
		dir = fdopendir(fd);
		if (dir == NULL) {
			close(fd);
			n = m2d_error_sys(err, "opendir", f->stage_path);
			continue;
		}
		while ((d = readdir(dir)) != NULL)
			if (d->d_name[0] != '.' &&
			    !(foreign && maildir_written_by_us(d->d_name)))
				n++;
		closedir(dir);
	}
	close(dfd);
	return n;
}

static int folder_has_messages(struct maildir_folder *f, struct m2d_error *err)
{
	long n = count_messages(f, false, err);

	return n < 0 ? -1 : n > 0;
}

/*
 * Replacing what an earlier run of ours left (caught "converting" by a
 * kill, or its source changed): only when every message there is ours.
 * Mail delivered into it meanwhile would go with the old folder.
 */
static int check_replace(struct maildir_folder *f, struct m2d_error *err)
{
	long n = count_messages(f, true, err);

	if (n < 0)
		return -1;
	if (n > 0)
		return m2d_error_set(err, M2D_ERR_EXISTS, f->stage_path,
				     ngettext("%ld message there was not "
					      "written by mbox2dovecot "
					      "(delivered since the last "
					      "run?); nothing was replaced",
					      "%ld messages there were not "
					      "written by mbox2dovecot "
					      "(delivered since the last "
					      "run?); nothing was replaced",
					      (unsigned long)n), n);
	return 0;
}

/* The per-message list (read back when the folder is finished). */
static int open_list(struct maildir_folder *f, int dirfd, const char *name,
		     struct m2d_error *err)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0600);

	if (fd < 0)
		return m2d_error_sys(err, "open", f->stage_path);
	/* the user's, like every file in the folder, before it has content
	 * (in append mode it is in the live folder's tmp/) */
	if ((f->owner.uid != -1 || f->owner.gid != -1) &&
	    fchown(fd, (uid_t)f->owner.uid, (gid_t)f->owner.gid) < 0) {
		m2d_error_sys(err, "fchown", f->stage_path);
		close(fd);
		unlinkat(dirfd, name, 0);
		return -1;
	}
	f->uidlist = fdopen(fd, "w+");
	if (f->uidlist == NULL) {
		m2d_error_sys(err, "fdopen", f->stage_path);
		close(fd);
		return -1;
	}
	return 0;
}

/* A folder with nothing open yet: the part both ways to begin share. */
static struct maildir_folder *folder_new(const char *root, const char *dirname,
					 const struct maildir_owner *owner)
{
	struct maildir_folder *f = xcalloc(1, sizeof(*f));

	f->rootfd = f->roottmpfd = f->stagefd = -1;
	f->tmpfd = f->curfd = f->newfd = f->msgfd = -1;
	f->owner = *owner;
	f->owner_is_me = (owner->uid == -1 || (uid_t)owner->uid == geteuid()) &&
		(owner->gid == -1 || (gid_t)owner->gid == getegid());
	f->root = xstrdup(root);
	f->dirname = xstrdup(dirname);
	f->buf = xmalloc(WRITE_BUF_SIZE);
	f->stage_path = dirname[0] == '\0' ? xstrdup(root) :
		path_join(root, dirname);
	return f;
}

int maildir_folder_begin(const char *root, const char *dirname,
			 const struct maildir_owner *owner, bool replace,
			 struct maildir_folder **folder_r,
			 struct m2d_error *err)
{
	struct maildir_folder *f;
	int has;

	*folder_r = NULL;
	f = folder_new(root, dirname, owner);
	f->replace = replace;
	f->rootfd = maildir_root_open(root, owner, NULL, &f->roottmpfd, err);
	if (f->rootfd < 0)
		goto fail;
	remove_dead_stages(f->roottmpfd);
	if (replace && check_replace(f, err) < 0)
		goto fail;
	has = replace ? 0 : folder_has_messages(f, err);
	if (has < 0)
		goto fail;
	if (has > 0) {
		m2d_error_set(err, M2D_ERR_EXISTS, f->stage_path,
			      _("the folder already holds messages; refusing "
				"to mix a conversion into it"));
		goto fail;
	}

	/* the staging directory, inside the root's tmp/ */
	{
		unsigned int rnd;

		sf_random(&rnd, sizeof(rnd));
		snprintf(f->stage, sizeof(f->stage), "m2d-stage.%ld.%08x",
			 (long)getpid(), rnd);
	}
	free(f->stage_path);
	f->stage_path = xasprintf("%s/tmp/%s", root, f->stage);
	f->stagefd = sf_mkdir(f->roottmpfd, f->stage, f->owner.uid,
			      f->owner.gid, false, f->stage_path, err);
	if (f->stagefd < 0)
		goto fail;
	if ((f->tmpfd = sf_mkdir(f->stagefd, "tmp", f->owner.uid, f->owner.gid,
				 false, f->stage_path, err)) < 0 ||
	    (f->curfd = sf_mkdir(f->stagefd, "cur", f->owner.uid, f->owner.gid,
				 false, f->stage_path, err)) < 0 ||
	    (f->newfd = sf_mkdir(f->stagefd, "new", f->owner.uid, f->owner.gid,
				 false, f->stage_path, err)) < 0)
		goto fail;
	if (dirname[0] != '\0') {
		/* Maildir++: marks a folder that is not the root */
		int fd = sf_create(f->stagefd, "maildirfolder", f->owner.uid,
				   f->owner.gid, f->stage_path, err);

		if (fd < 0)
			goto fail;
		close(fd);
	}
	if (open_list(f, f->stagefd, "uidlist.partial", err) < 0)
		goto fail;
	*folder_r = f;
	return 0;
fail:
	maildir_folder_free(&f);
	return -1;
}

int maildir_folder_keyword(struct maildir_folder *f, const char *name)
{
	int i;

	for (i = 0; i < f->nkeywords; i++) {
		if (strcmp(f->keywords[i], name) == 0)
			return i;
	}
	if (f->nkeywords == MAILDIR_MAX_KEYWORDS)
		return -1;
	f->keywords[f->nkeywords] = xstrdup(name);
	return f->nkeywords++;
}

unsigned int maildir_folder_keyword_count(const struct maildir_folder *f)
{
	return (unsigned int)f->nkeywords;
}

/* The message file being written, for errors: ".../tmp/<name>". */
static const char *msg_path(const struct maildir_folder *f, char *buf,
			    size_t size)
{
	snprintf(buf, size, "%s/tmp/%s", f->stage_path, f->msgname);
	return buf;
}

/* Whether a message file needs an fchown(): not when this thread creates
 * files as the owner already (maildir_folder_owner_creates, or the owner
 * is who we are). */
static bool msg_chown(const struct maildir_folder *f)
{
	return !f->owner_creates && !f->owner_is_me;
}

/* Create the message file in tmp/: a message larger than the buffer, or
 * one added to a live folder (both renamed into place at the end). */
static int msg_open_tmp(struct maildir_folder *f, struct m2d_error *err)
{
	char path[M2D_ERROR_PATH_MAX];
	bool own = msg_chown(f);

	f->msgfd = sf_create(f->tmpfd, f->msgname, own ? f->owner.uid : -1,
			     own ? f->owner.gid : -1,
			     msg_path(f, path, sizeof(path)), err);
	return f->msgfd < 0 ? -1 : 0;
}

/*
 * A message is kept in the buffer until it is finished; one that fits is
 * then created under its final name in the staging cur/ or new/ (nobody
 * sees the staging directory): open, write, futimens, close.  One larger
 * goes to tmp/ as soon as the buffer is full, and is renamed at the end.
 */
int maildir_msg_begin(struct maildir_folder *f, struct m2d_error *err)
{
	(void)err;
	sf_unique_name(f->msgname, sizeof(f->msgname));
	f->msgfd = -1;
	f->buflen = 0;
	f->size = f->vsize = 0;
	f->last = 0;
	return 0;
}

static int flush_buf(struct maildir_folder *f, struct m2d_error *err)
{
	char path[M2D_ERROR_PATH_MAX];

	if (f->buflen == 0)
		return 0;
	if (f->msgfd < 0 && msg_open_tmp(f, err) < 0)
		return -1;
	if (sf_write_all(f->msgfd, f->buf, f->buflen,
			 msg_path(f, path, sizeof(path)), err) < 0)
		return -1;
	f->buflen = 0;
	return 0;
}

int maildir_msg_write(struct maildir_folder *f, const void *data, size_t len,
		      struct m2d_error *err)
{
	const unsigned char *p = data, *e = p + len, *nl;

	/* the virtual size counts a CR for every bare LF */
	f->size += len;
	f->vsize += len;
	for (; p < e && (nl = memchr(p, '\n', (size_t)(e - p))) != NULL; p = nl + 1) {
		unsigned char prev = nl > (const unsigned char *)data ? nl[-1] : f->last;

		if (prev != '\r')
			f->vsize++;
	}
	if (len > 0)
		f->last = ((const unsigned char *)data)[len - 1];

	if (f->buflen + len > WRITE_BUF_SIZE) {
		if (flush_buf(f, err) < 0)
			return -1;
		if (len >= WRITE_BUF_SIZE) {
			if (f->msgfd < 0 && msg_open_tmp(f, err) < 0)
				return -1;
			return sf_write_all(f->msgfd, data, len,
					    f->stage_path, err);
		}
	}
	memcpy(f->buf + f->buflen, data, len);
	f->buflen += len;
	return 0;
}

static void msg_abort(struct maildir_folder *f)
{
	if (f->msgfd >= 0) {
		close(f->msgfd);
		f->msgfd = -1;
		unlinkat(f->tmpfd, f->msgname, 0);
	}
}

/* The file names of the finished message: BASE (name, S=, W=) and FULL
 * (with ":2,<flags>" unless it goes to new/); whether to new/. */
static bool msg_names(const struct maildir_folder *f,
		      const struct maildir_msg_info *info, char *base,
		      size_t base_size, char *full, size_t full_size)
{
	static const char flag_chars[] = "DFPRST";
	size_t o;
	int i;
	bool in_new;

	snprintf(base, base_size, "%s,S=%llu,W=%llu", f->msgname, f->size,
		 f->vsize);
	o = (size_t)snprintf(full, full_size, "%s", base);
	/* new/ only for a recent message without flags or keywords, as
	 * Dovecot saves: a file in new/ carries no info; one with flags goes
	 * to cur/ (Dovecot gives \Recent to all on its first sync anyway) */
	in_new = info->recent && info->flags == 0 && info->keywords == 0;
	if (!in_new) {
		o += (size_t)snprintf(full + o, full_size - o, ":2,");
		for (i = 0; flag_chars[i] != '\0'; i++) {
			if (info->flags & (1u << i))
				full[o++] = flag_chars[i];
		}
		for (i = 0; i < MAILDIR_MAX_KEYWORDS; i++) {
			if (info->keywords & (1u << i))
				full[o++] = (char)('a' + i);
		}
		full[o] = '\0';
	}
	return in_new;
}

/* The message's INTERNALDATE as the mtime of FD. */
static int msg_mtime(int fd, time_t date, const char *path,
		     struct m2d_error *err)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = date;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) < 0)
		return m2d_error_sys(err, "futimens", path);
	return 0;
}

/* The buffered message as the file NAME of DIRFD (SUB: "cur" or "new"),
 * created under that final name. */
static int msg_create_final(struct maildir_folder *f, int dirfd,
			    const char *sub, const char *name, time_t date,
			    struct m2d_error *err)
{
	char path[M2D_ERROR_PATH_MAX];
	bool own = msg_chown(f);
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", f->stage_path, sub, name);
	fd = sf_create(dirfd, name, own ? f->owner.uid : -1,
		       own ? f->owner.gid : -1, path, err);
	if (fd < 0)
		return -1;
	if (sf_write_all(fd, f->buf, f->buflen, path, err) < 0 ||
	    msg_mtime(fd, date, path, err) < 0) {
		close(fd);
		unlinkat(dirfd, name, 0);
		return -1;
	}
	f->buflen = 0;
	if (close(fd) < 0) {
		m2d_error_sys(err, "close", path);
		unlinkat(dirfd, name, 0);
		return -1;
	}
	return 0;
}

/* The message written to tmp/: the rest of it, its mtime, closed. */
static int msg_close_tmp(struct maildir_folder *f, time_t date,
			 struct m2d_error *err)
{
	if (f->msgfd < 0 && msg_open_tmp(f, err) < 0)
		return -1;
	if (flush_buf(f, err) < 0 ||
	    msg_mtime(f->msgfd, date, f->stage_path, err) < 0) {
		msg_abort(f);
		return -1;
	}
	if (close(f->msgfd) < 0) {
		f->msgfd = -1;
		m2d_error_sys(err, "close", f->stage_path);
		unlinkat(f->tmpfd, f->msgname, 0);
		return -1;
	}
	f->msgfd = -1;
	return 0;
}

int maildir_msg_finish(struct maildir_folder *f,
		       const struct maildir_msg_info *info,
		       struct m2d_error *err)
{
	char base[NAME_MAX_LEN + 64], full[NAME_MAX_LEN + 128];
	bool in_new = msg_names(f, info, base, sizeof(base), full,
				sizeof(full));
	int dirfd = in_new ? f->newfd : f->curfd;

	if (f->msgfd < 0 && !f->append) {
		if (msg_create_final(f, dirfd, in_new ? "new" : "cur", full,
				     info->date, err) < 0)
			return -1;
	} else {
		if (msg_close_tmp(f, info->date, err) < 0)
			return -1;
		if (f->append) {
			/* visible only at install, after the sync */
			if (fprintf(f->uidlist, "%lu %s\t%c\t%s\t%s\n",
				    info->uid, base, in_new ? 'N' : 'C',
				    f->msgname, full) < 0) {
				m2d_error_sys(err, "write", f->stage_path);
				unlinkat(f->tmpfd, f->msgname, 0);
				return -1;
			}
			f->messages++;
			f->total += f->size;
			return 0;
		}
		if (renameat(f->tmpfd, f->msgname, dirfd, full) < 0) {
			m2d_error_sys(err, "rename", f->stage_path);
			unlinkat(f->tmpfd, f->msgname, 0);
			return -1;
		}
	}
	if (fprintf(f->uidlist, "%lu %s\n", info->uid, base) < 0) {
		m2d_error_sys(err, "write", f->stage_path);
		return -1;
	}
	f->messages++;
	f->total += f->size;
	return 0;
}

void maildir_folder_owner_creates(struct maildir_folder *f, bool on)
{
	f->owner_creates = on;
}

unsigned long long maildir_folder_bytes(const struct maildir_folder *f)
{
	return f->total;
}

static int write_keywords(struct maildir_folder *f, struct m2d_error *err)
{
	char *data = NULL;
	size_t size = 0;
	FILE *mem;
	int i, ret;

	if (f->nkeywords == 0)
		return 0;
	mem = xopen_memstream(&data, &size);
	for (i = 0; i < f->nkeywords; i++)
		fprintf(mem, "%d %s\n", i, f->keywords[i]);
	xmemstream_close(mem);
	ret = sf_replace_file(f->stagefd, "dovecot-keywords", data, size,
			      f->owner.uid, f->owner.gid, f->stage_path, err);
	free(data);
	return ret;
}

/* dovecot-uidlist version 3, from the per-message list. */
/* A file of the folder written through stdio: created 0600 and owned. */
static FILE *create_stream(struct maildir_folder *f, const char *name,
			   struct m2d_error *err)
{
	int fd = sf_create(f->stagefd, name, f->owner.uid, f->owner.gid,
			   f->stage_path, err);
	FILE *out;

	if (fd < 0)
		return NULL;
	out = fdopen(fd, "w");
	if (out == NULL) {
		m2d_error_sys(err, "fdopen", f->stage_path);
		close(fd);
		unlinkat(f->stagefd, name, 0);
	}
	return out;
}

/* A failed write of file NAME of the folder, named in full. */
static int stream_error(struct maildir_folder *f, const char *name,
			struct m2d_error *err)
{
	int e = errno;
	char path[M2D_ERROR_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", f->stage_path, name);
	errno = e != 0 ? e : EIO;
	return m2d_error_sys(err, "write", path);
}

/* Flush and close OUT, the folder's file NAME: the first error counts. */
static int close_stream(struct maildir_folder *f, FILE *out, const char *name,
			struct m2d_error *err)
{
	bool bad;
	int e = 0;

	errno = 0;
	bad = fflush(out) != 0 || ferror(out);
	if (bad)
		e = errno;
	if (fclose(out) != 0 && !bad) {
		bad = true;
		e = errno;
	}
	if (bad) {
		errno = e;
		return stream_error(f, name, err);
	}
	return 0;
}

/*
 * dovecot-uidlist version 3, from the per-message list, streamed: memory
 * does not grow with the number of messages.  In the staging directory
 * nobody sees it before the folder is complete.
 */
static int write_uidlist(struct maildir_folder *f, unsigned long uidvalidity,
			 unsigned long nextuid, bool renumber,
			 struct m2d_error *err)
{
	unsigned char guid[16];
	char *line = NULL;
	size_t linesize = 0;
	unsigned long n = 0;
	FILE *out;
	int i;

	errno = 0;
	if (fflush(f->uidlist) != 0 || ferror(f->uidlist))
		return stream_error(f, "uidlist.partial", err);
	rewind(f->uidlist);
	if (renumber)
		nextuid = f->messages + 1;
	out = create_stream(f, "dovecot-uidlist", err);
	if (out == NULL)
		return -1;
	sf_random(guid, sizeof(guid));
	fprintf(out, "3 V%lu N%lu G", uidvalidity, nextuid);
	for (i = 0; i < 16; i++)
		fprintf(out, "%02x", guid[i]);
	fputc('\n', out);
	while (getline(&line, &linesize, f->uidlist) > 0) {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			continue;
		n++;
		fprintf(out, "%lu :%s", renumber ? n : strtoul(line, NULL, 10),
			sp + 1);
	}
	free(line);
	return close_stream(f, out, "dovecot-uidlist", err);
}

/*
 * Move the staged INBOX into the root, entry by entry: new/, cur/, the
 * keywords, and the uidlist last.  Each goes in by an exchange with the
 * root's (or a plain rename where the root has none), so a failure puts
 * every one back: never a message without its uidlist line.
 */
static int commit_inbox(struct maildir_folder *f, struct m2d_error *err)
{
	static const char *const names[] = { "new", "cur", "dovecot-keywords",
					     "dovecot-uidlist" };
	enum { NONE, EXCHANGED, MOVED } done[4] = { NONE, NONE, NONE, NONE };
	int i, ret = -1;

	/* the root's cur/ and its uidlist cannot change in one rename: under
	 * Dovecot's own lock, Dovecot never sees one without the other (and
	 * a run killed in between leaves the lock and a "converting" journal
	 * line: the next run replaces the INBOX) */
	if (dotlock_dovecot_take(f->rootfd, f->roottmpfd, "dovecot-uidlist",
				 f->root, f->owner.uid, f->owner.gid,
				 UIDLIST_LOCK_WAIT, &f->uidlock, err) < 0)
		return -1;
	if (f->replace && check_replace(f, err) < 0)
		goto out;
	for (i = 0; i < 2 && !f->replace; i++) {
		int e = sf_dir_is_empty(f->rootfd, names[i], f->root, err);

		if (e < 0)
			goto out;
		if (e == 0) {
			m2d_error_set(err, M2D_ERR_EXISTS, f->root,
				      _("INBOX received messages while we "
					"converted; nothing was changed"));
			goto out;
		}
	}
	for (i = 0; i < 4; i++) {
		if (renameat2(f->stagefd, names[i], f->rootfd, names[i],
			      RENAME_EXCHANGE) == 0) {
			done[i] = EXCHANGED;
			continue;
		}
		if (errno == ENOENT && i >= 2) {
			/* the root had none, or we have none (no keywords) */
			if (renameat(f->stagefd, names[i], f->rootfd,
				     names[i]) == 0) {
				done[i] = MOVED;
				continue;
			}
			if (errno == ENOENT)
				continue;
		}
		{
			char *path = path_join(f->root, names[i]);

			m2d_error_sys(err, "rename", path);
			free(path);
		}
		while (i-- > 0) {
			if (done[i] == EXCHANGED)
				renameat2(f->stagefd, names[i], f->rootfd,
					  names[i], RENAME_EXCHANGE);
			else if (done[i] == MOVED)
				renameat(f->rootfd, names[i], f->stagefd,
					 names[i]);
		}
		goto out;
	}
	/* durable before Dovecot may look */
	if (fsync(f->rootfd) < 0)
		m2d_error_sys(err, "fsync", f->root);
	else
		ret = 0;
out:
	dotlock_release(&f->uidlock);
	return ret;
}

/* Move the staged Maildir++ folder to its name (over an empty one). */
static int commit_folder(struct maildir_folder *f, struct m2d_error *err)
{
	char *dst = path_join(f->root, f->dirname);
	int ret = 0;

	if (renameat2(f->roottmpfd, f->stage, f->rootfd, f->dirname,
		      RENAME_NOREPLACE) == 0)
		goto out;
	if (errno != EEXIST) {
		ret = m2d_error_sys(err, "rename", dst);
		goto out;
	}
	/* an existing, empty folder (made by Dovecot or by us), or the
	 * earlier result we replace: swap, the old one is removed with the
	 * staging directory */
	if (f->replace && check_replace(f, err) < 0) {
		ret = -1;
		goto out;
	}
	if (!f->replace && folder_has_messages(f, err) != 0) {
		if (err->code == M2D_OK)
			m2d_error_set(err, M2D_ERR_EXISTS, dst,
				      _("the folder received messages while we "
					"converted; nothing was changed"));
		ret = -1;
		goto out;
	}
	if (renameat2(f->roottmpfd, f->stage, f->rootfd, f->dirname,
		      RENAME_EXCHANGE) < 0)
		ret = m2d_error_sys(err, "rename", dst);
out:
	free(dst);
	return ret;
}

/*
 * Append mode: the folder's dovecot-uidlist with its header's N set to
 * NEXTUID and the new messages' lines added, into a temp file beside it.
 */
static int append_finish(struct maildir_folder *f, unsigned long nextuid,
			 struct m2d_error *err)
{
	char *line = NULL;
	size_t linesize = 0;
	FILE *out, *old;
	bool first = true;

	/* from reading the live uidlist until ours replaces it, Dovecot
	 * must not write it: its lock, held until append_install() */
	if (f->uidlock == NULL &&
	    dotlock_dovecot_take(f->stagefd, f->tmpfd, "dovecot-uidlist",
				 f->stage_path, f->owner.uid, f->owner.gid,
				 UIDLIST_LOCK_WAIT, &f->uidlock, err) < 0)
		return -1;
	/* the live folder is the user's: never a FIFO, a symlink or a
	 * giant (safe-file.h) */
	old = sf_fopen_read(f->stagefd, "dovecot-uidlist",
			    (off_t)256 * 1024 * 1024, NULL, f->stage_path, err);
	if (old == NULL)
		return -1;
	snprintf(f->newlist, sizeof(f->newlist), "dovecot-uidlist.m2d.%ld",
		 (long)getpid());
	unlinkat(f->stagefd, f->newlist, 0);
	out = create_stream(f, f->newlist, err);
	if (out == NULL) {
		f->newlist[0] = '\0';
		fclose(old);
		return -1;
	}
	while (getline(&line, &linesize, old) > 0) {
		char *tok, *save = NULL;

		if (!first) {
			fputs(line, out);
			continue;
		}
		/* "3 V<uidvalidity> N<nextuid> G<guid> ...": new N */
		first = false;
		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok != NULL;
		     tok = strtok_r(NULL, " ", &save)) {
			if (tok != line)
				fputc(' ', out);
			if (tok[0] == 'N')
				fprintf(out, "N%lu", nextuid);
			else
				fputs(tok, out);
		}
		fputc('\n', out);
	}
	fclose(old);
	errno = 0;
	if (fflush(f->uidlist) != 0) {
		char name[sizeof(f->partial) + 8];

		snprintf(name, sizeof(name), "tmp/%s", f->partial);
		stream_error(f, name, err);
		free(line);
		fclose(out);
		return -1;
	}
	rewind(f->uidlist);
	while (getline(&line, &linesize, f->uidlist) > 0) {
		char *sp = strchr(line, ' '), *tab = strchr(line, '\t');

		if (sp == NULL || tab == NULL)
			continue;
		fprintf(out, "%.*s :%.*s\n", (int)(sp - line), line,
			(int)(tab - sp - 1), sp + 1);
	}
	free(line);
	return close_stream(f, out, f->newlist, err);
}

/* Append mode: the new messages into cur/ and new/, then the uidlist. */
static int append_install(struct maildir_folder *f, struct m2d_error *err)
{
	char *line = NULL;
	size_t linesize = 0;
	ssize_t len;

	/* from here until the uidlist is in place, a failure takes back
	 * what was moved: no message without its uidlist line */
	f->installing = true;
	rewind(f->uidlist);
	while ((len = getline(&line, &linesize, f->uidlist)) > 0) {
		char *fields[4], *save = NULL;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(line, "\t", &save); t != NULL && n < 4;
		     t = strtok_r(NULL, "\t", &save))
			fields[n++] = t;
		if (n != 4)
			continue;
		if (renameat(f->tmpfd, fields[2],
			     fields[1][0] == 'N' ? f->newfd : f->curfd,
			     fields[3]) < 0 && errno != ENOENT) {
			free(line);
			return m2d_error_sys(err, "rename", f->stage_path);
		}
	}
	free(line);
	if (renameat(f->stagefd, f->newlist, f->stagefd, "dovecot-uidlist") < 0)
		return m2d_error_sys(err, "rename", f->stage_path);
	f->newlist[0] = '\0';
	f->installing = false;
	dotlock_release(&f->uidlock);
	if (fsync(f->curfd) < 0 || fsync(f->newfd) < 0 ||
	    fsync(f->stagefd) < 0)
		return m2d_error_sys(err, "fsync", f->stage_path);
	f->committed = true;
	return 0;
}

/*
 * Append mode, not installed: take back every file we made, those an
 * install that failed half-way moved into new/ and cur/ too (their names
 * are unique: nobody else has a file of that name).
 */
static void append_abort(struct maildir_folder *f)
{
	char *line = NULL;
	size_t linesize = 0;

	if (f->uidlist != NULL && !f->committed) {
		rewind(f->uidlist);
		while (getline(&line, &linesize, f->uidlist) > 0) {
			char *a = strchr(line, '\t'), *b, *c;

			if (a == NULL || (b = strchr(a + 1, '\t')) == NULL ||
			    (c = strchr(b + 1, '\t')) == NULL)
				continue;
			*c = '\0';
			unlinkat(f->tmpfd, b + 1, 0);
			if (f->installing) {
				c[1 + strcspn(c + 1, "\n")] = '\0';
				unlinkat(a[1] == 'N' ? f->newfd : f->curfd,
					 c + 1, 0);
			}
		}
		free(line);
	}
	if (f->newlist[0] != '\0')
		unlinkat(f->stagefd, f->newlist, 0);
	if (f->partial[0] != '\0')
		unlinkat(f->tmpfd, f->partial, 0);
}

int maildir_folder_begin_append(const char *root, const char *dirname,
				const struct maildir_owner *owner,
				struct maildir_folder **folder_r,
				struct m2d_error *err)
{
	struct maildir_folder *f;
	unsigned int rnd;

	*folder_r = NULL;
	f = folder_new(root, dirname, owner);
	f->append = true;
	if ((f->rootfd = sf_open_dir(AT_FDCWD, root, root, err)) < 0 ||
	    (f->stagefd = dirname[0] == '\0' ? dup(f->rootfd) :
	     sf_open_dir(f->rootfd, dirname, f->stage_path, err)) < 0 ||
	    (f->tmpfd = sf_open_dir(f->stagefd, "tmp", f->stage_path, err)) < 0 ||
	    (f->curfd = sf_open_dir(f->stagefd, "cur", f->stage_path, err)) < 0 ||
	    (f->newfd = sf_open_dir(f->stagefd, "new", f->stage_path, err)) < 0)
		goto fail;
	remove_dead_stages(f->tmpfd);	/* a lock a killed run was making */
	sf_random(&rnd, sizeof(rnd));
	snprintf(f->partial, sizeof(f->partial), "m2d-append.%ld.%08x",
		 (long)getpid(), rnd);
	if (open_list(f, f->tmpfd, f->partial, err) < 0)
		goto fail;
	*folder_r = f;
	return 0;
fail:
	maildir_folder_free(&f);
	return -1;
}


int maildir_folder_finish(struct maildir_folder *f, unsigned long uidvalidity,
			  unsigned long nextuid, bool renumber,
			  struct m2d_error *err)
{
	if (f->append)
		return append_finish(f, nextuid, err);
	if (write_keywords(f, err) < 0 ||
	    write_uidlist(f, uidvalidity, nextuid, renumber, err) < 0)
		return -1;
	fclose(f->uidlist);
	f->uidlist = NULL;
	unlinkat(f->stagefd, "uidlist.partial", 0);
	/* the message directories are not needed any more */
	close(f->tmpfd);
	close(f->curfd);
	close(f->newfd);
	f->tmpfd = f->curfd = f->newfd = -1;
	return 0;
}

int maildir_folder_sync(struct maildir_folder *f, struct m2d_error *err)
{
	/* one pass to make every message durable, not one fsync each */
	if (syncfs(f->stagefd) < 0)
		return m2d_error_sys(err, "syncfs", f->stage_path);
	return 0;
}

int maildir_folder_install(struct maildir_folder *f, struct m2d_error *err)
{
	if (f->append)
		return append_install(f, err);
	if ((f->dirname[0] == '\0' ? commit_inbox(f, err) :
	     commit_folder(f, err)) < 0)
		return -1;
	if (fsync(f->rootfd) < 0)
		return m2d_error_sys(err, "fsync", f->root);
	f->committed = true;
	return 0;
}

int maildir_folder_commit(struct maildir_folder *f, unsigned long uidvalidity,
			  unsigned long nextuid, bool renumber,
			  struct m2d_error *err)
{
	if (maildir_folder_finish(f, uidvalidity, nextuid, renumber, err) < 0 ||
	    maildir_folder_sync(f, err) < 0 ||
	    maildir_folder_install(f, err) < 0)
		return -1;
	return 0;
}

dev_t maildir_folder_dev(const struct maildir_folder *f)
{
	struct stat st;

	return fstat(f->stagefd, &st) == 0 ? st.st_dev : 0;
}

void maildir_folder_free(struct maildir_folder **folder)
{
	struct maildir_folder *f = *folder;
	int i;

	if (f == NULL)
		return;
	*folder = NULL;
	msg_abort(f);
	if (f->append)
		append_abort(f);
	dotlock_release(&f->uidlock);
	if (f->uidlist != NULL)
		fclose(f->uidlist);
	if (f->tmpfd >= 0)
		close(f->tmpfd);
	if (f->curfd >= 0)
		close(f->curfd);
	if (f->newfd >= 0)
		close(f->newfd);
	if (f->stagefd >= 0)
		close(f->stagefd);
	/* not committed: the staging with its messages; committed: what
	 * the exchange left there (empty directories) */
	if (f->roottmpfd >= 0 && f->stage[0] != '\0')
		sf_remove_tree(f->roottmpfd, f->stage);
	if (f->roottmpfd >= 0)
		close(f->roottmpfd);
	if (f->rootfd >= 0)
		close(f->rootfd);
	for (i = 0; i < f->nkeywords; i++)
		free(f->keywords[i]);
	free(f->buf);
	free(f->root);
	free(f->dirname);
	free(f->stage_path);
	free(f);
}
