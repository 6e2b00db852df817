/* SPDX-License-Identifier: MIT */
/* dotlock.c - honour the locks UW-IMAP and Postfix use on an mbox, and
 * Dovecot's on a maildir's dovecot-uidlist */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dotlock.h"
#include "i18n.h"
#include "xalloc.h"

/* An empty Dovecot lock this old was never going to be written by its
 * maker (Dovecot writes its own whole). */
#define EMPTY_LOCK_SECS 2
/* How often a held lock is looked at again while we wait. */
#define POLL_USECS (100 * 1000)

struct dotlock {
	int dirfd;
	char *name;
};

/* Seconds on the monotonic clock (a deadline is not moved by the date). */
static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct mbox_lock_settings lock_settings = {
	MBOX_LOCKS_DEFAULT, MBOX_LOCK_WAIT_DEFAULT, MBOX_LOCK_STALE_DEFAULT
};

void mbox_locks_configure(const struct mbox_lock_settings *set)
{
	lock_settings = *set;
	if (lock_settings.wait_secs < 0)
		lock_settings.wait_secs = 0;
	if (lock_settings.stale_secs <= 0)
		lock_settings.stale_secs = MBOX_LOCK_STALE_DEFAULT;
}

const struct mbox_lock_settings *mbox_locks_get(void)
{
	return &lock_settings;
}

int mbox_locks_parse(const char *text, unsigned int *locks_r)
{
	static const struct {
		const char *word;
		unsigned int bit;
	} words[] = {
		{ "dotlock", MBOX_LOCK_DOTLOCK },
		{ "fcntl", MBOX_LOCK_FCNTL },
		{ "flock", MBOX_LOCK_FLOCK },
	};
	unsigned int locks = 0;
	const char *p = text != NULL ? text : "";

	while (*p != '\0') {
		size_t n, i;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 0)
			break;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strlen(words[i].word) == n &&
			    strncmp(words[i].word, p, n) == 0)
				break;
		}
		if (i == sizeof(words) / sizeof(words[0]))
			return -1;
		locks |= words[i].bit;
		p += n;
	}
	if (locks == 0)
		return -1;
	*locks_r = locks;
	return 0;
}

/*
 * The lock names a process ID that no longer runs: "PID\n" (ours) or
 * Dovecot's "PID:HOST", whose PID is only ours to test when HOST is this
 * machine.  Postfix's and UW's are empty: never "dead".
 */
static bool holder_is_dead(int dirfd, const char *name)
{
	char buf[300], host[256];
	ssize_t n;
	long pid;
	char *end;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 1)
		return false;
	if (*end == ':') {
		if (gethostname(host, sizeof(host)) < 0)
			return false;
		host[sizeof(host) - 1] = '\0';
		if (strcmp(end + 1, host) != 0)
			return false;
	} else if (*end != '\n' && *end != '\0') {
		return false;
	}
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* The lock LOCKNAME (taken) in DIRFD (duplicated); NULL when dup fails. */
static struct dotlock *lock_new(int dirfd, char *lockname)
{
	struct dotlock *lock = xmalloc(sizeof(*lock));

	lock->dirfd = dup(dirfd);
	if (lock->dirfd < 0) {
		free(lock);
		return NULL;
	}
	lock->name = lockname;
	return lock;
}

/*
 * Make LOCKNAME in DIRFD holding our PID, never seen empty: written under
 * a temporary name of ours, then linked.  It belongs to the owner of the
 * mbox NAME: in a sticky spool (1777) only its owner or root may remove
 * a file, and Postfix's local(8) and UW run as the user, so after a kill
 * -9 of ours they can still break it once it is stale.  Returns 1 made,
 * 0 someone else's exists (EEXIST), -1 with errno (a directory we may not
 * write to: EACCES, EROFS, EPERM).
 */
static int lock_link(int dirfd, const char *lockname, const char *name)
{
	struct stat mst;
	char tmp[80], pid[32];
	size_t len;
	int fd, r, e;

	snprintf(tmp, sizeof(tmp), DOTLOCK_MBOX_TEMP_PREFIX "%ld-%ld.lock",
		 (long)getpid(), (long)gettid());
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	len = strlen(pid);
	/* a leftover of a process with our PID and TID, or a user's file
	 * planted under that name: either way not a lock */
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fstatat(dirfd, name, &mst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(mst.st_mode) && geteuid() == 0 &&
	    fchown(fd, mst.st_uid, mst.st_gid) < 0) {
		/* root's then: our next run still breaks it */
	}
	if (write(fd, pid, len) != (ssize_t)len) {
		e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e != 0 ? e : EIO;
		return -1;
	}
	close(fd);
	r = linkat(dirfd, tmp, dirfd, lockname, 0);
	e = errno;
	unlinkat(dirfd, tmp, 0);
	if (r == 0)
		return 1;
	if (e == EEXIST)
		return 0;
	errno = e;
	return -1;
}

static int locked_error(struct m2d_error *err, const char *mbox,
			const struct stat *st, long age)
{
	const struct mbox_lock_settings *set = mbox_locks_get();

	return m2d_error_set(err, M2D_ERR_LOCKED, mbox,
			     _("locked: %s.lock (%ld s old, owner uid %lu) "
			       "was held for the %d s we wait; Postfix and "
			       "UW-IMAP hold it while they write, and break "
			       "it after %d s; try again later"), mbox, age,
			     (unsigned long)st->st_uid, set->wait_secs,
			     set->stale_secs);
}

int dotlock_take_at(int dirfd, const char *name, const char *mbox,
		    bool create, bool read_only, struct dotlock **lock_r,
		    struct m2d_error *err)
{
	const struct mbox_lock_settings *set = mbox_locks_get();
	double deadline = now_secs() + set->wait_secs;
	char *lockname;
	struct stat st;

	(void)read_only;
	*lock_r = NULL;
	if ((set->locks & MBOX_LOCK_DOTLOCK) == 0)
		return 0;
	lockname = xasprintf("%s.lock", name);
	for (;;) {
		time_t now = time(NULL);
		long age;

		if (fstatat(dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (holder_is_dead(dirfd, lockname)) {
				/* a kill -9 of ours: safe to break now */
				unlinkat(dirfd, lockname, 0);
				continue;
			}
			/* as Postfix and UW judge it: by its ctime */
			age = (long)(now - st.st_ctime);
			if (age >= set->stale_secs) {
				if (!create)
					break;	/* stale: read without */
				/* stale: broken as Postfix and UW break it */
				if (unlinkat(dirfd, lockname, 0) < 0 &&
				    errno != ENOENT)
					break;	/* not ours to break */
				continue;
			}
			if (now_secs() >= deadline) {
				locked_error(err, mbox, &st, age);
				free(lockname);
				return -1;
			}
			usleep(POLL_USECS);
			continue;
		}
		if (errno != ENOENT) {
			m2d_error_sys(err, "stat", mbox);
			free(lockname);
			return -1;
		}
		if (!create)
			break;
		switch (lock_link(dirfd, lockname, name)) {
		case 1:
			*lock_r = lock_new(dirfd, lockname);
			if (*lock_r == NULL) {
				unlinkat(dirfd, lockname, 0);
				free(lockname);
				return m2d_error_sys(err, "dup", mbox);
			}
			return 0;
		case 0:
			continue;	/* someone else's, just made */
		default:
			/* a spool we may not write to: the wait is all we
			 * can do (the kernel locks still hold writers) */
			free(lockname);
			return 0;
		}
	}
	free(lockname);
	return 0;
}

void dotlock_release(struct dotlock **lock)
{
	if (*lock == NULL)
		return;
	unlinkat((*lock)->dirfd, (*lock)->name, 0);
	close((*lock)->dirfd);
	free((*lock)->name);
	free(*lock);
	*lock = NULL;
}

/* 1 taken, 0 held by a writer, -1 with ERR. */
static int try_kernel_locks(int fd, unsigned int locks, bool *fcntl_done,
			    const char *path, struct m2d_error *err)
{
	if ((locks & MBOX_LOCK_FCNTL) != 0 && !*fcntl_done) {
		struct flock fl;

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_RDLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			if (errno == EAGAIN || errno == EACCES)
				return 0;
			return m2d_error_sys(err, "fcntl", path);
		}
		*fcntl_done = true;
	}
	if ((locks & MBOX_LOCK_FLOCK) != 0 &&
	    flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return m2d_error_sys(err, "flock", path);
	}
	return 1;
}

int mbox_fcntl_rdlock(int fd, const char *path, struct m2d_error *err)
{
	const struct mbox_lock_settings *set = mbox_locks_get();
	double deadline = now_secs() + set->wait_secs;
	bool fcntl_done = false;
	int r;

	while ((r = try_kernel_locks(fd, set->locks, &fcntl_done, path,
				     err)) == 0) {
		if (now_secs() >= deadline)
			return m2d_error_set(err, M2D_ERR_LOCKED, path,
					     _("being written right now (a "
					       "writer holds its %s lock) for "
					       "the %d s we wait; try again "
					       "later"), fcntl_done ?
					     "flock" : "fcntl",
					     set->wait_secs);
		usleep(POLL_USECS);
	}
	return r < 0 ? -1 : 0;
}

bool mbox_kernel_locked(int fd)
{
	unsigned int locks = mbox_locks_get()->locks;

	if ((locks & MBOX_LOCK_FCNTL) != 0) {
		struct flock fl;

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_RDLCK;	/* who would stop a reader */
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			return true;
	}
	if ((locks & MBOX_LOCK_FLOCK) != 0) {
		if (flock(fd, LOCK_SH | LOCK_NB) < 0)
			return errno == EWOULDBLOCK;
		flock(fd, LOCK_UN);
	}
	return false;
}

/* A lock file named TMPNAME in TMPFD holding CONTENT, the owner's. */
static int lock_temp(int tmpfd, const char *tmpname, const char *content,
		     int uid, int gid, const char *path, struct m2d_error *err)
{
	size_t len = strlen(content);
	int fd;

	unlinkat(tmpfd, tmpname, 0);
	fd = openat(tmpfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return m2d_error_sys(err, "open", path);
	if ((uid >= 0 || gid >= 0) && fchown(fd, uid, gid) < 0) {
		m2d_error_sys(err, "fchown", path);
		goto fail;
	}
	if (write(fd, content, len) != (ssize_t)len) {
		m2d_error_sys(err, "write", path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	unlinkat(tmpfd, tmpname, 0);
	return -1;
}

int dotlock_dovecot_take(int dirfd, int tmpfd, const char *name,
			 const char *path, int uid, int gid, int wait_secs,
			 struct dotlock **lock_r, struct m2d_error *err)
{
	char content[300], host[256], tmpname[64];
	time_t until = time(NULL) + wait_secs;
	char *lockname = xasprintf("%s.lock", name);
	struct stat st;

	*lock_r = NULL;
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(content, sizeof(content), "%ld:%s", (long)getpid(), host);
	/* whole before it is seen, and the user's: made in tmp/, then
	 * linked to its name, as Dovecot makes its own */
	snprintf(tmpname, sizeof(tmpname), DOTLOCK_TEMP_PREFIX "%ld",
		 (long)getpid());
	if (lock_temp(tmpfd, tmpname, content, uid, gid, path, err) < 0) {
		free(lockname);
		return -1;
	}
	while (linkat(tmpfd, tmpname, dirfd, lockname, 0) < 0) {
		if (errno != EEXIST) {
			m2d_error_sys(err, "link", path);
			goto fail;
		}
		if (fstatat(dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* just let go */
		if (holder_is_dead(dirfd, lockname) ||
		    time(NULL) - st.st_mtime >= DOVECOT_LOCK_STALE_SECS ||
		    (st.st_size == 0 &&
		     time(NULL) - st.st_mtime >= EMPTY_LOCK_SECS)) {
			/* a killed process's, or stale as Dovecot decides
			 * (an empty one was never going to be written) */
			unlinkat(dirfd, lockname, 0);
			continue;
		}
		if (time(NULL) >= until) {
			m2d_error_set(err, M2D_ERR_LOCKED, path,
				      _("%s.lock is held by another process "
					"(Dovecot working on the folder); try "
					"again later"), name);
			goto fail;
		}
		usleep(20 * 1000);
	}
	unlinkat(tmpfd, tmpname, 0);
	*lock_r = lock_new(dirfd, lockname);
	if (*lock_r == NULL) {
		unlinkat(dirfd, lockname, 0);
		free(lockname);
		return m2d_error_sys(err, "dup", path);
	}
	return 0;

fail:
	unlinkat(tmpfd, tmpname, 0);
	free(lockname);
	return -1;
}
