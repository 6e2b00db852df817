/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mmdf-reader.c - the input is a whole MMDF file
 *
 * Read it (from a memfd) with mmdf_reader_open_fd.  A file that opens
 * reads to its end; sequence numbers go 1, 2, 3..., UIDs go up and stay
 * below UIDNEXT, each message hands out exactly the size it announced
 * (the header with UW's fields out, CRLF), and a header handed out holds
 * none of UW's fields at the start of a line.
 */
#include <strings.h>
#include <sys/mman.h>

#include "fuzz-common.h"
#include "mmdf-reader.h"

static void no_uw_fields(const unsigned char *d, size_t len)
{
	static const char *const names[] = { "status:", "x-status:",
		"x-keywords:", "x-uid:", "x-imap:", "x-imapbase:" };
	size_t i, k;

	for (i = 0; i < len; i++) {
		if (i > 0 && d[i - 1] != '\n')
			continue;
		if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n')
			return;		/* the end of the header */
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			size_t n = strlen(names[k]);

			FUZZ_CHECK(len - i < n ||
				   strncasecmp((const char *)d + i, names[k],
					       n) != 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmdf_reader *r;
	struct m2d_error err;
	struct uw_msg msg;
	const struct uw_folder *f;
	const unsigned char *d;
	unsigned long seq = 0, last = 0;
	size_t len;
	int fd = memfd_create("fuzz-mmdf", MFD_CLOEXEC), rc;

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	if (mmdf_reader_open_fd(fd, "fuzz", NULL, &r, &err) < 0) {
		FUZZ_CHECK(err.code == M2D_ERR_NOT_MBOX ||
			   err.code == M2D_ERR_MALFORMED);
		close(fd);
		return 0;
	}
	f = mmdf_reader_folder(r);
	FUZZ_CHECK(f->keywords != NULL && f->uidnext > 0);
	while ((rc = mmdf_reader_next(r, &msg, &err)) > 0) {
		unsigned long long got = 0;
		bool first = true;

		FUZZ_CHECK(msg.seq == ++seq);
		FUZZ_CHECK(msg.uid > last && msg.uid < f->uidnext);
		last = msg.uid;
		FUZZ_CHECK(msg.keywords != NULL);
		while ((rc = mmdf_reader_read(r, &d, &len, &err)) > 0) {
			FUZZ_CHECK(len > 0);
			if (first)
				no_uw_fields(d, len);
			first = false;
			got += len;
		}
		FUZZ_CHECK(rc == 0 && got == msg.size);
	}
	FUZZ_CHECK(rc == 0);
	mmdf_reader_close(&r);
	close(fd);
	return 0;
}
