/* SPDX-License-Identifier: MIT */
/* scan-count.c - the pre-flight message count over one mbox, for make bench
 *
 *   scan-count MBOX
 *
 * Prints "messages=N bytes=N" from fs_scan_count().
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fs-checks.h"

int main(int argc, char **argv)
{
	struct fs_scan scan;
	struct m2d_error err;
	char buf[2048];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: scan-count MBOX\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (fs_scan_count(fd, argv[1], &scan, &err) < 0) {
		fprintf(stderr, "%s\n", m2d_error_str(&err, buf, sizeof(buf)));
		return 1;
	}
	close(fd);
	printf("messages=%llu bytes=%llu\n", scan.messages, scan.bytes);
	return 0;
}
