/* SPDX-License-Identifier: MIT */
/* bench-floor.c - the least work a durable mbox-to-files conversion does
 *
 *   bench-floor MBOX DIR
 *
 * The floor the benchmark compares `mbox2dovecot convert` with: read MBOX
 * with big read()s, start a new message at every line that begins with
 * "From " (no date check, no header parsing, no unescaping), write each
 * message without its From_ line to its own file DIR/1, DIR/2, ... (open
 * O_CREAT|O_EXCL, write, close; DIR is created when missing), and at the
 * end one syncfs() on DIR's file system.  No fsync per message.
 *
 * Prints "messages=N bytes=N" (bytes written) on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFSIZE (1 << 20)

static const char *dirpath;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "bench-floor: %s(%s): %s\n", what, path, strerror(errno));
	exit(1);
}

static unsigned long long nbytes;

static void write_all(int fd, const char *p, size_t len)
{
	nbytes += len;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write", dirpath);
		}
		p += n;
		len -= (size_t)n;
	}
}

int main(int argc, char **argv)
{
	static char buf[BUFSIZE];
	unsigned long nmsg = 0;
	size_t have = 0;
	bool eof = false, bol = true;
	int in, dirfd, out = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-floor MBOX DIR\n");
		return 2;
	}
	dirpath = argv[2];
	in = open(argv[1], O_RDONLY);
	if (in < 0)
		die("open", argv[1]);
	if (mkdir(dirpath, 0700) != 0 && errno != EEXIST)
		die("mkdir", dirpath);
	dirfd = open(dirpath, O_RDONLY | O_DIRECTORY);
	if (dirfd < 0)
		die("open", dirpath);

	while (!eof || have > 0) {
		size_t lim, pos, seg;

		if (!eof && have < BUFSIZE) {
			ssize_t n = read(in, buf + have, BUFSIZE - have);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				die("read", argv[1]);
			}
			if (n == 0)
				eof = true;
			have += (size_t)n;
		}
		/* Work on whole lines only: up to the last '\n' (all of it at
		 * EOF, or when one line fills the whole buffer). */
		lim = have;
		if (!eof) {
			char *nl = memrchr(buf, '\n', have);

			if (nl != NULL)
				lim = (size_t)(nl - buf) + 1;
			else if (have < BUFSIZE)
				continue;
		}
		pos = 0;
		seg = 0;
		if (!bol) {	/* the middle of a long line: skip to its end */
			char *nl = memchr(buf, '\n', lim);

			pos = nl != NULL ? (size_t)(nl - buf) + 1 : lim;
		}
		while (pos < lim) {
			char *nl;

			if (lim - pos >= 5 && memcmp(buf + pos, "From ", 5) == 0) {
				char name[32];

				if (out >= 0) {
					write_all(out, buf + seg, pos - seg);
					if (close(out) != 0)
						die("close", dirpath);
				}
				snprintf(name, sizeof(name), "%lu", ++nmsg);
				out = openat(dirfd, name,
					     O_WRONLY | O_CREAT | O_EXCL, 0600);
				if (out < 0)
					die("open", name);
				nl = memchr(buf + pos, '\n', lim - pos);
				pos = nl != NULL ? (size_t)(nl - buf) + 1 : lim;
				seg = pos;
				continue;
			}
			nl = memchr(buf + pos, '\n', lim - pos);
			pos = nl != NULL ? (size_t)(nl - buf) + 1 : lim;
		}
		if (out >= 0 && lim > seg)
			write_all(out, buf + seg, lim - seg);
		bol = lim > 0 && buf[lim - 1] == '\n';
		memmove(buf, buf + lim, have - lim);
		have -= lim;
	}
	if (out >= 0 && close(out) != 0)
		die("close", dirpath);
	if (syncfs(dirfd) != 0)
		die("syncfs", dirpath);
	close(dirfd);
	close(in);
	printf("messages=%lu bytes=%llu\n", nmsg, nbytes);
	return 0;
}
