/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mbox-reader.c - the input is a whole mbox file
 *
 * Read it (from a memfd) twice: with the defaults, and as mboxrd with a
 * small header limit.  A file that opens must read to its end without an
 * error (it cannot change under us), hand out no more bytes than it has,
 * and report sequence numbers 1, 2, 3...
 */
#include <sys/mman.h>

#include "fuzz-common.h"
#include "mbox-reader.h"

static void read_all(int fd, size_t size, const struct mbox_reader_settings *set)
{
	struct mbox_reader *r;
	struct m2d_error err;
	struct mbox_msg msg;
	const unsigned char *d;
	size_t len, total = 0;
	unsigned long seq = 0;
	int rc;

	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
	if (mbox_reader_open_fd(fd, "fuzz", set, &r, &err) < 0) {
		FUZZ_CHECK(err.code == M2D_ERR_NOT_MBOX);
		return;
	}
	while ((rc = mbox_reader_next(r, &msg, &err)) > 0) {
		FUZZ_CHECK(msg.seq == ++seq);
		FUZZ_CHECK(msg.offset >= 0 && (size_t)msg.offset < size);
		FUZZ_CHECK(msg.keywords != NULL);
		while ((rc = mbox_reader_read(r, &d, &len, &err)) > 0) {
			FUZZ_CHECK(len > 0);
			total += len;
		}
		FUZZ_CHECK(rc == 0);
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(total <= size);
	FUZZ_CHECK(mbox_reader_offset(r) == (long long)size);
	mbox_reader_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbox_reader_settings rd = { .mboxrd = true, .max_header = 64 };
	int fd = memfd_create("fuzz-mbox", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	read_all(fd, size, NULL);
	read_all(fd, size, &rd);
	close(fd);
	return 0;
}
