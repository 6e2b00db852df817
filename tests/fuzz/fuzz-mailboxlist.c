/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mailboxlist.c - the input is a ~/.mailboxlist (not NUL-terminated:
 * mailboxlist_to_names() takes a length, and ASan sees any overread)
 *
 * Every name returned is non-empty, listed once, and has a usable
 * suggestion.
 */
#include "fuzz-common.h"
#include "folder-names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = { "mail/", "Mail/", NULL };
	char **names = mailboxlist_to_names((const char *)data, size, prefixes);
	char sugg[1024], dir[256];

	FUZZ_CHECK(names != NULL);
	for (size_t i = 0; names[i] != NULL; i++) {
		FUZZ_CHECK(names[i][0] != '\0');
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(names[i], names[k]) != 0);
		folder_name_suggest(names[i], sugg, sizeof(sugg));
		FUZZ_CHECK(folder_name_to_maildir(sugg, dir, sizeof(dir)) ==
			   FOLDER_OK);
	}
	folder_names_free(names);
	return 0;
}
