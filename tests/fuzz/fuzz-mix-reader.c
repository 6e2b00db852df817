/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mix-reader.c - the input is a whole mix directory: its .mixmeta,
 * .mixindex, .mixstatus and one data file, separated by NUL bytes (the
 * data file is written as both ".mix" and ".mix00000001")
 *
 * The records go through mix_reader_parse and, written into a scratch
 * directory, through mix_reader_open and every message.  What opens
 * gives the same folder both ways; UIDs go up and stay below UIDNEXT;
 * each message hands out exactly its size, or the folder stops with
 * M2D_ERR_MALFORMED (a data file that does not hold what the index says).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "mix-reader.h"

static void put(int dfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(len == 0 || write(fd, data, len) == (ssize_t)len);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 4), *part[4], dir[512];
	size_t plen[4];
	struct mix_reader *r1, *r2;
	struct m2d_error err;
	struct uw_msg msg;
	const unsigned char *d;
	unsigned long last = 0, seq = 0;
	size_t len, i, k = 0, start = 0;
	int dfd, rc, rc1;

	FUZZ_CHECK(in != NULL);
	memcpy(in, data, size);
	memset(in + size, 0, 4);
	for (i = 0; i <= size && k < 4; i++) {
		if (i == size || (in[i] == '\0' && k < 3)) {
			part[k] = in + start;
			plen[k++] = i - start;
			start = i + 1;
		}
	}
	while (k < 4) {
		part[k] = in + size;
		plen[k++] = 0;
	}
	rc1 = mix_reader_parse(part[0], part[1], part[2], &r1, &err);
	if (rc1 < 0)
		FUZZ_CHECK(err.code == M2D_ERR_MALFORMED);

	snprintf(dir, sizeof(dir), "%s/mix", fuzz_dir());
	mkdir(dir, 0700);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	FUZZ_CHECK(dfd >= 0);
	put(dfd, ".mixmeta", part[0], plen[0]);
	put(dfd, ".mixindex", part[1], plen[1]);
	put(dfd, ".mixstatus", part[2], plen[2]);
	put(dfd, ".mix", part[3], plen[3]);
	put(dfd, ".mix00000001", part[3], plen[3]);
	if (mix_reader_open(AT_FDCWD, dir, NULL, &r2, &err) == 0) {
		const struct uw_folder *f = mix_reader_folder(r2);

		/* the parts were cut at their first NUL both ways */
		FUZZ_CHECK(rc1 == 0);
		FUZZ_CHECK(f->uidvalidity ==
			   mix_reader_folder(r1)->uidvalidity);
		FUZZ_CHECK(f->uidnext == mix_reader_folder(r1)->uidnext);
		FUZZ_CHECK(strcmp(f->keywords,
				  mix_reader_folder(r1)->keywords) == 0);
		FUZZ_CHECK(mix_reader_count(r2) == mix_reader_count(r1));
		while ((rc = mix_reader_next(r2, &msg, &err)) > 0) {
			size_t got = 0;

			FUZZ_CHECK(msg.seq == ++seq);
			FUZZ_CHECK(msg.uid > last && msg.uid < f->uidnext);
			last = msg.uid;
			while ((rc = mix_reader_read(r2, &d, &len, &err)) > 0)
				got += len;
			FUZZ_CHECK(rc == 0 && got == msg.size);
		}
		FUZZ_CHECK(rc == 0 || err.code == M2D_ERR_MALFORMED);
		mix_reader_close(&r2);
	}
	mix_reader_close(&r1);
	unlinkat(dfd, ".mixmeta", 0);
	unlinkat(dfd, ".mixindex", 0);
	unlinkat(dfd, ".mixstatus", 0);
	unlinkat(dfd, ".mix", 0);
	unlinkat(dfd, ".mix00000001", 0);
	close(dfd);
	rmdir(dir);
	free(in);
	return 0;
}
