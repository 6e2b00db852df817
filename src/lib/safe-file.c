/* SPDX-License-Identifier: MIT */
/* safe-file.c - careful file operations below directory descriptors */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "safe-file.h"
#include "xalloc.h"
#include "i18n.h"

static int owner_fd(int fd, int uid, int gid, const char *path,
		    struct m2d_error *err)
{
	if (uid == -1 && gid == -1)
		return 0;
	if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0)
		return m2d_error_sys(err, "fchown", path);
	return 0;
}

int sf_open_dir(int dirfd, const char *name, const char *path,
		struct m2d_error *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR) {
			struct stat st;

			if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return m2d_error_set(err, M2D_ERR_UNSAFE, path,
						     _("is a symbolic link; "
						       "not followed"));
		}
		return m2d_error_sys(err, "open", path);
	}
	return fd;
}

int sf_mkdir(int dirfd, const char *name, int uid, int gid, bool existing_ok,
	     const char *path, struct m2d_error *err)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0) {
		if (errno != EEXIST || !existing_ok)
			return m2d_error_sys(err, "mkdir", path);
		return sf_open_dir(dirfd, name, path, err);
	}
	fd = sf_open_dir(dirfd, name, path, err);
	if (fd < 0)
		return -1;
	if (owner_fd(fd, uid, gid, path, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int sf_create(int dirfd, const char *name, int uid, int gid, const char *path,
	      struct m2d_error *err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0600);

	if (fd < 0)
		return m2d_error_sys(err, "open", path);
	if (owner_fd(fd, uid, gid, path, err) < 0) {
		close(fd);
		unlinkat(dirfd, name, 0);
		return -1;
	}
	return fd;
}

int sf_open_below(const char *base, const char *rel, int flags, int *parent_r,
		  struct m2d_error *err)
{
	char *copy, *comp, *next;
	int dirfd, fd = -1;

	*parent_r = -1;
	dirfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return m2d_error_sys(err, "open", base);
	copy = xstrdup(rel);
	for (comp = copy; comp != NULL; comp = next) {
		next = strchr(comp, '/');
		if (next != NULL)
			*next++ = '\0';
		if (*comp == '\0')
			continue;
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			m2d_error_set(err, M2D_ERR_UNSAFE, rel,
				      _("\".\" or \"..\" in the path"));
			goto fail;
		}
		if (next == NULL || *next == '\0') {
			fd = openat(dirfd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				if (errno == ELOOP)
					m2d_error_set(err, M2D_ERR_UNSAFE, rel,
						      _("is a symbolic link; "
							"not followed"));
				else
					m2d_error_sys(err, "open", rel);
				goto fail;
			}
			break;
		}
		{
			int sub = sf_open_dir(dirfd, comp, rel, err);

			if (sub < 0)
				goto fail;
			close(dirfd);
			dirfd = sub;
		}
	}
	free(copy);
	if (fd < 0) {
		close(dirfd);
		return m2d_error_set(err, M2D_ERR_UNSAFE, rel, _("empty path"));
	}
	*parent_r = dirfd;
	return fd;
fail:
	free(copy);
	close(dirfd);
	return -1;
}

int sf_open_read(int dirfd, const char *name, off_t max_size,
		 struct stat *st_r, const char *path, struct m2d_error *err)
{
	return sf_open_file(dirfd, name, O_RDONLY, max_size, st_r, path, err);
}

int sf_open_file(int dirfd, const char *name, int flags, off_t max_size,
		 struct stat *st_r, const char *path, struct m2d_error *err)
{
	struct stat st;
	int fd, fl, e;

	if (path == NULL)
		path = name;
	fd = openat(dirfd, name, (flags & (O_ACCMODE | O_APPEND)) |
		    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP)
			m2d_error_set(err, M2D_ERR_UNSAFE, path,
				      _("is a symbolic link; not followed"));
		else
			m2d_error_sys(err, "open", path);
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		m2d_error_sys(err, "fstat", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      S_ISFIFO(st.st_mode) ?
			      _("is a FIFO, not a regular file; not read") :
			      S_ISDIR(st.st_mode) ?
			      _("is a directory, not a regular file") :
			      _("is a device or socket, not a regular file; "
				"not read"));
		errno = EINVAL;
		goto fail;
	}
	if (max_size > 0 && st.st_size > max_size) {
		m2d_error_set(err, M2D_ERR_UNSAFE, path,
			      _("is %lld bytes, more than the %lld this file "
				"may have; not read"),
			      (long long)st.st_size, (long long)max_size);
		errno = EFBIG;
		goto fail;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		m2d_error_sys(err, "fcntl", path);
		goto fail;
	}
	if (st_r != NULL)
		*st_r = st;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

FILE *sf_fopen_read(int dirfd, const char *name, off_t max_size,
		    struct stat *st_r, const char *path,
		    struct m2d_error *err)
{
	int fd = sf_open_read(dirfd, name, max_size, st_r, path, err);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (f == NULL) {
		m2d_error_sys(err, "fdopen", path != NULL ? path : name);
		close(fd);
		errno = ENOMEM;	/* whatever it was, not ENOENT ("none") */
	}
	return f;
}

ssize_t sf_pread_full(int fd, void *buf, size_t size, off_t off)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = pread(fd, (char *)buf + got, size - got,
				  off + (off_t)got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

bool sf_is_sparse(int fd, const struct stat *st)
{
	off_t hole;

	if (!S_ISREG(st->st_mode) || st->st_size == 0)
		return false;
	hole = lseek(fd, 0, SEEK_HOLE);
	(void)lseek(fd, 0, SEEK_SET);
	return hole >= 0 && hole < st->st_size;
}

int sf_read_text_at(int dirfd, const char *name, off_t max_size,
		    char **text_r, struct stat *st_r, const char *path,
		    struct m2d_error *err)
{
	char *buf = NULL;
	size_t len = 0, size = 0;
	struct stat st;
	ssize_t n;
	int fd;

	*text_r = NULL;
	if (path == NULL)
		path = name;
	fd = sf_open_read(dirfd, name, max_size, &st, path, err);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		if (len + 4096 + 1 > size) {
			size = (len + 4096 + 1) * 2;
			buf = xrealloc(buf, size);
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			m2d_error_sys(err, "read", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (max_size > 0 && (off_t)len > max_size) {
			/* it grew since the fstat */
			m2d_error_set(err, M2D_ERR_UNSAFE, path,
				      _("grew past the %lld bytes this file "
					"may have; not read"),
				      (long long)max_size);
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';

	if (strlen(buf) != len) {
		free(buf);
		return m2d_error_set(err, M2D_ERR_USAGE, path,
				     _("the file holds a NUL byte"));
	}
	*text_r = buf;
	if (st_r != NULL)
		*st_r = st;
	return 1;
fail:
	free(buf);
	close(fd);
	return -1;
}

int sf_read_text(const char *path, char **text_r, struct stat *st_r,
		 struct m2d_error *err)
{
	return sf_read_text_at(AT_FDCWD, path, SF_TEXT_MAX, text_r, st_r,
			       path, err);
}

int sf_write_path(const char *path, const char *text, unsigned int mode,
		  long uid, long gid, struct m2d_error *err)
{
	char dir[PATH_MAX], *slash;
	const char *name;
	int dirfd, ret;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return m2d_error_set(err, M2D_ERR_USAGE, path,
				     _("path too long"));
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
		name = path;
	} else {
		*slash = '\0';
		name = path + (slash - dir) + 1;
		if (dir[0] == '\0')
			strcpy(dir, "/");
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return m2d_error_sys(err, "open", dir);
	ret = sf_replace_file(dirfd, name, text, strlen(text), (int)uid,
			      (int)gid, path, err);
	/* sf_replace_file creates 0600: give it the original's mode */
	if (ret == 0 && fchmodat(dirfd, name, mode & 07777, 0) < 0)
		ret = m2d_error_sys(err, "chmod", path);
	if (ret == 0 && fsync(dirfd) < 0)
		ret = m2d_error_sys(err, "fsync", dir);
	close(dirfd);
	return ret;
}

int sf_write_all(int fd, const void *data, size_t len, const char *path,
		 struct m2d_error *err)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return m2d_error_sys(err, "write", path);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int replace_file(int dirfd, const char *name, const void *data,
			size_t len, int uid, int gid, bool sync,
			const char *path, struct m2d_error *err)
{
	char tmp[256];
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	unlinkat(dirfd, tmp, 0);
	fd = sf_create(dirfd, tmp, uid, gid, path, err);
	if (fd < 0)
		return -1;
	if (sf_write_all(fd, data, len, path, err) < 0)
		goto fail;
	if (sync && fsync(fd) < 0) {
		m2d_error_sys(err, "fsync", path);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		m2d_error_sys(err, "close", path);
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		m2d_error_sys(err, "rename", path);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return -1;
}

int sf_replace_file(int dirfd, const char *name, const void *data, size_t len,
		    int uid, int gid, const char *path, struct m2d_error *err)
{
	return replace_file(dirfd, name, data, len, uid, gid, false, path,
			    err);
}

int sf_replace_file_durable(int dirfd, const char *name, const void *data,
			    size_t len, const char *path,
			    struct m2d_error *err)
{
	return replace_file(dirfd, name, data, len, -1, -1, true, path, err);
}

int sf_remove_tree(int dirfd, const char *name)
{
	struct dirent *d;
	DIR *dir;
	int fd, ret = 0;

	if (unlinkat(dirfd, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return errno == ENOENT ? 0 : -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (sf_remove_tree(fd, d->d_name) < 0)
			ret = -1;
	}
	closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		ret = -1;
	return ret;
}

int sf_dir_is_empty(int dirfd, const char *name, const char *path,
		    struct m2d_error *err)
{
	struct dirent *d;
	DIR *dir;
	int fd, empty = 1;

	fd = sf_open_dir(dirfd, name, path, err);
	if (fd < 0)
		return -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return m2d_error_sys(err, "opendir", path);
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(dir);
	return empty;
}

void sf_random(void *buf, size_t size)
{
	unsigned char *p = buf;

	while (size > 0) {
		ssize_t n = getrandom(p, size, 0);

		if (n <= 0) {
			/* no entropy source: time and pid are still unique
			 * enough for names; never for secrets */
			struct timeval tv;

			gettimeofday(&tv, NULL);
			while (size > 0) {
				*p++ = (unsigned char)(tv.tv_usec ^ getpid() ^ size);
				size--;
			}
			return;
		}
		p += n;
		size -= (size_t)n;
	}
}

/*
 * What makes a name unique, taken once per process (a fork gets its own):
 * the host, the process ID, a random number; then a counter and the time.
 */
static char host[128];
static long unique_pid;
static unsigned int unique_rnd;
static unsigned long unique_counter;

static void unique_reset(void)
{
	unique_pid = (long)getpid();
	sf_random(&unique_rnd, sizeof(unique_rnd));
	unique_counter = 0;
}

static void init_host(void)
{
	char raw[64] = "localhost", out[128];
	size_t i, o = 0;

	if (gethostname(raw, sizeof(raw) - 1) < 0 || raw[0] == '\0')
		strcpy(raw, "localhost");
	raw[sizeof(raw) - 1] = '\0';
	/* as Dovecot does: '/' and ':' cannot be in the name */
	for (i = 0; raw[i] != '\0' && o + 5 < sizeof(out); i++) {
		if (raw[i] == '/')
			o += (size_t)sprintf(out + o, "\\057");
		else if (raw[i] == ':')
			o += (size_t)sprintf(out + o, "\\072");
		else
			out[o++] = raw[i];
	}
	out[o] = '\0';
	memcpy(host, out, o + 1);
	unique_reset();
	pthread_atfork(NULL, NULL, unique_reset);
}

void sf_unique_name(char *buf, size_t size)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct timeval tv;
	unsigned long n;

	pthread_once(&once, init_host);
	n = __atomic_add_fetch(&unique_counter, 1, __ATOMIC_RELAXED);
	gettimeofday(&tv, NULL);
	snprintf(buf, size, "%lld.M%06ldP%ldQ%luR%08x.%s", (long long)tv.tv_sec,
		 (long)tv.tv_usec, unique_pid, n, unique_rnd, host);
}
