/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mbox-header.c - the input is the header block of a message
 *
 * The parser of UW's fields (X-IMAP, X-IMAPbase, X-UID, Status, X-Status,
 * X-Keywords) lives inside the reader; we reach it with a two-message
 * mbox carrying the input as the header of both (message 1 also sees
 * X-IMAP/X-IMAPbase, message 2 X-UID after them).  None of UW's fields
 * (by name in any case, as c-client's mail_filter removes them) may be
 * left in a header block handed out, no CR without its LF either, and
 * the keyword lists come out as single-space-separated declared words.
 */
#include <stdbool.h>
#include <strings.h>
#include <sys/mman.h>

#include "fuzz-common.h"
#include "mbox-reader.h"

static const char from[] = "From user@example.com Tue Nov  9 10:11:12 2004\n";
static const char body[] = "\nbody\n\n";
static const char *const uw_fields[] = {
	"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase",
};

/* The header part of a message (up to its first empty line) has no line
 * whose field name is one of UW's, and no CR without a LF. */
static void check_header(const unsigned char *m, size_t len)
{
	size_t i = 0;

	for (size_t k = 0; k < len; k++)
		FUZZ_CHECK(m[k] != '\r' || (k + 1 < len && m[k + 1] == '\n'));
	while (i < len && m[i] != '\n' && !(m[i] == '\r' && i + 1 < len &&
					     m[i + 1] == '\n')) {
		const unsigned char *nl = memchr(m + i, '\n', len - i);
		size_t n = 0;

		/* the name as mail_filter() reads it: other control
		 * characters are part of it */
		while (i + n < len && m[i + n] != ':' && m[i + n] != ' ' &&
		       m[i + n] != '\t' && m[i + n] != '\r' &&
		       m[i + n] != '\n' && m[i + n] != '\0')
			n++;
		for (size_t k = 0; k < sizeof(uw_fields) / sizeof(*uw_fields); k++)
			FUZZ_CHECK(n != strlen(uw_fields[k]) ||
				   strncasecmp((const char *)m + i,
					       uw_fields[k], n) != 0);
		if (nl == NULL)
			break;
		i = (size_t)(nl - m) + 1;
	}
}

/* Words separated by single spaces (a tab may be inside a word, as
 * c-client kept it). */
static void check_words(const char *s)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(s[0] != ' ');
	for (; *s != '\0'; s++) {
		FUZZ_CHECK(*s != '\r' && *s != '\n');
		FUZZ_CHECK(!(s[0] == ' ' && s[1] == ' '));
		FUZZ_CHECK(!(s[0] == ' ' && s[1] == '\0'));
	}
}

/* Each of a message's keywords is a declared one. */
static void check_declared(const char *kw, const char *declared)
{
	while (*kw != '\0') {
		size_t n = strcspn(kw, " ");
		const char *d = declared;
		bool found = false;

		while (d != NULL && *d != '\0' && !found) {
			size_t m = strcspn(d, " ");

			found = m == n && memcmp(d, kw, n) == 0;
			d += m;
			while (*d == ' ')
				d++;
		}
		FUZZ_CHECK(found);
		kw += n;
		while (*kw == ' ')
			kw++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbox_reader *r;
	struct m2d_error err;
	struct mbox_msg msg;
	const unsigned char *d;
	unsigned char *m = NULL;
	size_t len, mlen;
	int fd, rc;

	fd = memfd_create("fuzz-header", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	for (int i = 0; i < 2; i++) {
		FUZZ_CHECK(write(fd, from, strlen(from)) == (ssize_t)strlen(from));
		FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
		FUZZ_CHECK(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
	}
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
	FUZZ_CHECK(mbox_reader_open_fd(fd, "fuzz", NULL, &r, &err) == 0);
	while ((rc = mbox_reader_next(r, &msg, &err)) > 0) {
		check_words(msg.keywords);
		if (msg.keywords[0] != '\0') {
			/* declared: c-client keeps them after an X-UID
			 * reset, so without have_base too */
			FUZZ_CHECK(mbox_reader_meta(r)->keywords != NULL);
			check_declared(msg.keywords,
				       mbox_reader_meta(r)->keywords);
		}
		mlen = 0;
		while ((rc = mbox_reader_read(r, &d, &len, &err)) > 0) {
			m = realloc(m, mlen + len);
			FUZZ_CHECK(m != NULL);
			memcpy(m + mlen, d, len);
			mlen += len;
		}
		FUZZ_CHECK(rc == 0);
		check_header(m, mlen);
	}
	FUZZ_CHECK(rc == 0);
	if (mbox_reader_meta(r)->keywords != NULL)
		check_words(mbox_reader_meta(r)->keywords);
	mbox_reader_close(&r);
	free(m);
	close(fd);
	return 0;
}
