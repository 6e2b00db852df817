/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mutf7.c - modified UTF-7 both ways (like Dovecot's
 * src/lib-imap/fuzz-imap-utf7.c): what encodes decodes back to itself,
 * and what decodes encodes back to itself (the decoder is strict, so there
 * is exactly one spelling of each name).
 */
#include "fuzz-common.h"
#include "folder-names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_strdup(data, size);
	size_t len = strlen(in), osize = len * 4 + 8;
	char *a = malloc(osize), *b = malloc(osize);
	int n, m;

	FUZZ_CHECK(a != NULL && b != NULL);
	n = mutf7_encode(in, a, osize);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n == strlen(a));
		m = mutf7_decode(a, b, osize);
		FUZZ_CHECK(m == (int)len && strcmp(b, in) == 0);
		/* one byte too small must fail, not truncate silently */
		FUZZ_CHECK(mutf7_encode(in, b, (size_t)n) == -1);
	}
	n = mutf7_decode(in, a, osize);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n == strlen(a));
		m = mutf7_encode(a, b, osize);
		FUZZ_CHECK(m == (int)len && strcmp(b, in) == 0);
		FUZZ_CHECK(mutf7_decode(in, b, (size_t)n) == -1);
	}
	free(a);
	free(b);
	free(in);
	return 0;
}
