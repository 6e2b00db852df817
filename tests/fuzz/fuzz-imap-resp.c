/* SPDX-License-Identifier: MIT */
/*
 * fuzz-imap-resp.c - the IMAP response parser (imap-client.c) on what a
 * server could send: parses or says why, never reads past the input (the
 * input is an exact-size copy, not NUL-terminated); what parses has every
 * string NUL-terminated at its length; LIST and INTERNALDATE views agree.
 */
#include "fuzz-common.h"
#include "imap-client.h"

static void check_args(const struct imap_arg *args, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];

		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_STRING:
			FUZZ_CHECK(a->str != NULL && a->str[a->len] == '\0');
			if (a->type == IMAP_ARG_ATOM) {
				long long t;

				FUZZ_CHECK(a->len > 0);
				(void)imap_parse_internaldate(a->str, &t);
			}
			break;
		case IMAP_ARG_NIL:
			FUZZ_CHECK(a->str == NULL);
			break;
		case IMAP_ARG_LIST:
			check_args(a->list, a->count);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct imap_resp r;
	const char *why = NULL;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);	/* exactly SIZE bytes for the parser */
	if (imap_resp_parse(buf, size, &r, &why) == 0) {
		const struct imap_arg *flags;
		const char *name;
		char delim;

		check_args(r.args, r.count);
		if (r.status || r.kind == IMAP_RESP_CONTINUE)
			FUZZ_CHECK(r.text != NULL);
		if (imap_resp_list(&r, &flags, &delim, &name) == 0)
			FUZZ_CHECK(strlen(name) == r.args[2].len &&
				   flags->type == IMAP_ARG_LIST);
		imap_resp_free(&r);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	free(buf);
	return 0;
}
