/* dotlock.c - honour the locks UW-IMAP and Postfix use on an mbox */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dotlock.h"
#include "i18n.h"

/* An empty lock this old was never going to be written by its maker. */
#define EMPTY_LOCK_SECS 2

struct dotlock {
	int dirfd;
	char *name;
};

/*
 * The lock names a process ID that no longer runs: "PID\n" (ours and
 * UW's) or Dovecot's "PID:HOST", whose PID is only ours to test when HOST
 * is this machine.
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

/* The lock file FD in DIRFD just made (O_EXCL) gets CONTENT, and
 * *LOCK_R owns LOCKNAME from here. */
static int lock_made(int fd, const char *content, int dirfd, char *lockname,
		     const char *path, struct dotlock **lock_r,
		     struct m2d_error *err)
{
	if (write(fd, content, strlen(content)) < 0) {
		/* the lock works without its content */
	}
	close(fd);
	*lock_r = malloc(sizeof(**lock_r));
	if (*lock_r == NULL || ((*lock_r)->dirfd = dup(dirfd)) < 0) {
		unlinkat(dirfd, lockname, 0);
		free(lockname);
		free(*lock_r);
		*lock_r = NULL;
		return m2d_error_sys(err, "dup", path);
	}
	(*lock_r)->name = lockname;
	return 0;
}

int dotlock_take_at(int dirfd, const char *name, const char *mbox,
		    bool create, bool read_only, struct dotlock **lock_r,
		    struct m2d_error *err)
{
	struct stat st;
	size_t len = strlen(name);
	char *lockname = malloc(len + 6);
	int fd;

	*lock_r = NULL;
	if (lockname == NULL) {
		errno = ENOMEM;
		return m2d_error_sys(err, "malloc", mbox);
	}
	memcpy(lockname, name, len);
	memcpy(lockname + len, ".lock", 6);
	if (fstatat(dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    holder_is_dead(dirfd, lockname)) {
		/* left by a process that died (a kill -9 of ours): UW and
		 * Postfix would break it after 5 minutes; it is safe now */
		unlinkat(dirfd, lockname, 0);
	}
	/* an empty one just made: its maker writes its PID now, or never
	 * (wait that long: a resumed run comes right after the kill) */
	for (int i = 0; read_only && i < (EMPTY_LOCK_SECS + 1) * 10 &&
	     fstatat(dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	     st.st_size == 0 &&
	     time(NULL) - st.st_mtime < EMPTY_LOCK_SECS; i++)
		usleep(100 * 1000);
	if (fstatat(dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (read_only && st.st_size == 0 &&
		    time(NULL) - st.st_mtime >= EMPTY_LOCK_SECS) {
			/* read without it, under the fcntl lock */
			free(lockname);
			return 0;
		}
		if (time(NULL) - st.st_mtime < DOTLOCK_STALE_SECS) {
			m2d_error_set(err, M2D_ERR_LOCKED, mbox,
				      _("locked by another program (%s.lock "
					"exists); try again later"), mbox);
			free(lockname);
			return -1;
		}
		/* stale: not ours to remove; read without it */
		free(lockname);
		return 0;
	}
	if (!create) {
		free(lockname);
		return 0;
	}
	fd = openat(dirfd, lockname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		free(lockname);
		if (e == EEXIST)
			return m2d_error_set(err, M2D_ERR_LOCKED, mbox,
					     _("locked by another program; "
					       "try again later"));
		/* a spool we may not write to: the check is all we can do */
		return 0;
	}
	{
		char pid[32];

		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		return lock_made(fd, pid, dirfd, lockname, mbox, lock_r, err);
	}
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

int mbox_fcntl_rdlock(int fd, const char *path, struct m2d_error *err)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			return m2d_error_set(err, M2D_ERR_LOCKED, path,
					     _("being written right now "
					       "(fcntl lock held); try again "
					       "later"));
		return m2d_error_sys(err, "fcntl", path);
	}
	return 0;
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
	size_t len = strlen(name);
	char *lockname = malloc(len + 6);
	struct stat st;

	*lock_r = NULL;
	if (lockname == NULL) {
		errno = ENOMEM;
		return m2d_error_sys(err, "malloc", path);
	}
	memcpy(lockname, name, len);
	memcpy(lockname + len, ".lock", 6);
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
	*lock_r = malloc(sizeof(**lock_r));
	if (*lock_r == NULL || ((*lock_r)->dirfd = dup(dirfd)) < 0) {
		unlinkat(dirfd, lockname, 0);
		free(*lock_r);
		*lock_r = NULL;
		free(lockname);
		return m2d_error_sys(err, "dup", path);
	}
	(*lock_r)->name = lockname;
	return 0;
fail:
	unlinkat(tmpfd, tmpname, 0);
	free(lockname);
	return -1;
}
