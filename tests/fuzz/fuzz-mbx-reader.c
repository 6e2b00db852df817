/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mbx-reader.c - the input is a whole mbx file
 *
 * Read it (from a memfd) with mbx_reader_open_fd.  A file that opens
 * reads to its end, or stops at a message whose date c-client would not
 * parse (M2D_ERR_MALFORMED); sequence numbers go 1, 2, 3..., UIDs go up
 * and stay below UIDNEXT, each message hands out exactly its size, and no
 * more bytes than the file has.  uw_format_of_head must agree with the
 * open on what is an mbx file.
 */
#include <sys/mman.h>

#include "fuzz-common.h"
#include "mbx-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbx_reader *r;
	struct m2d_error err;
	struct uw_msg msg;
	const struct uw_folder *f;
	const unsigned char *d;
	unsigned long seq = 0, last = 0;
	size_t len, total = 0;
	int fd = memfd_create("fuzz-mbx", MFD_CLOEXEC), rc;

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	if (mbx_reader_open_fd(fd, "fuzz", NULL, &r, &err) < 0) {
		FUZZ_CHECK(err.code == M2D_ERR_NOT_MBOX ||
			   err.code == M2D_ERR_MALFORMED);
		FUZZ_CHECK(err.code == M2D_ERR_MALFORMED ||
			   uw_format_of_head(data, size) != UW_FMT_MBX);
		close(fd);
		return 0;
	}
	FUZZ_CHECK(uw_format_of_head(data, size) == UW_FMT_MBX);
	f = mbx_reader_folder(r);
	FUZZ_CHECK(f->keywords != NULL && f->uidnext > 0);
	while ((rc = mbx_reader_next(r, &msg, &err)) > 0) {
		size_t got = 0;

		FUZZ_CHECK(msg.seq == ++seq);
		FUZZ_CHECK(msg.uid > last && msg.uid < f->uidnext);
		last = msg.uid;
		FUZZ_CHECK(msg.keywords != NULL);
		FUZZ_CHECK(msg.offset >= MBX_HDRSIZE &&
			   (size_t)msg.offset + msg.size <= size);
		while ((rc = mbx_reader_read(r, &d, &len, &err)) > 0) {
			FUZZ_CHECK(len > 0);
			got += len;
		}
		FUZZ_CHECK(rc == 0 && got == msg.size);
		total += got;
	}
	FUZZ_CHECK(rc == 0 || err.code == M2D_ERR_MALFORMED);
	FUZZ_CHECK(total <= size);
	mbx_reader_close(&r);
	close(fd);
	return 0;
}
