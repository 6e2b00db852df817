/*
 * fuzz-from-line.c - the input is one From_ line (no NUL-terminated copy:
 * from_line_parse() must never read past LEN, and ASan would see it)
 *
 * A line that parses is written again with from_line_format() and must
 * parse to the same sender and instant (an hour off only in the repeated
 * hour when the clocks go back: the line then names no zone).
 */
#include <stdlib.h>

#include "fuzz-common.h"
#include "from-line.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "Europe/Berlin", 1);	/* a zone with DST */
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct from_line a, b;
	char *sender, buf[512];
	int n;

	if (from_line_parse((const char *)data, size, &a) != 1)
		return 0;
	FUZZ_CHECK(a.sender_len <= size);
	FUZZ_CHECK(a.sender_len == 0 ||
		   (a.sender >= (const char *)data &&
		    a.sender + a.sender_len <= (const char *)data + size));
	if (a.sender_len > 256)
		return 0;
	sender = fuzz_strdup((const uint8_t *)a.sender, a.sender_len);
	n = from_line_format(sender, a.date, buf, sizeof(buf));
	if (n > 0 && strlen(sender) == a.sender_len && a.sender_len > 0) {
		FUZZ_CHECK(buf[n - 1] == '\n');
		FUZZ_CHECK(from_line_parse(buf, (size_t)n - 1, &b) == 1);
		FUZZ_CHECK(b.sender_len == a.sender_len &&
			   memcmp(b.sender, sender, a.sender_len) == 0);
		FUZZ_CHECK(b.date == a.date || b.date == a.date + 3600 ||
			   b.date == a.date - 3600);
	}
	free(sender);
	return 0;
}
