/* SPDX-License-Identifier: MIT */
/*
 * fuzz-folder-names.c - the input is an mbox path relative to its folder
 * root (NUL-terminated copy)
 *
 * folder_name_from_path(), folder_name_to_maildir() and the suggestions:
 * a suggestion never has a problem of its own (either way), a Maildir++
 * directory decodes back to the name's levels, and folder_set_suggest()
 * never suggests a directory already in the set.
 */
#include <strings.h>

#include "fuzz-common.h"
#include "folder-names.h"

/* ".a.b" (modified UTF-7) must decode to NAME "a/b"; "" is INBOX. */
static void check_dir(const char *name, const char *dir)
{
	char *copy, *level, *save, *back, dec[1024];
	size_t off = 0;

	if (dir[0] == '\0') {
		FUZZ_CHECK(strcasecmp(name, "INBOX") == 0);
		return;
	}
	FUZZ_CHECK(dir[0] == '.' && strlen(dir) <= 255);
	FUZZ_CHECK(strchr(dir, '/') == NULL);
	copy = strdup(dir + 1);
	back = calloc(1, strlen(name) + 2);
	FUZZ_CHECK(copy != NULL && back != NULL);
	for (level = strtok_r(copy, ".", &save); level != NULL;
	     level = strtok_r(NULL, ".", &save)) {
		int n = mutf7_decode(level, dec, sizeof(dec));

		FUZZ_CHECK(n > 0);
		FUZZ_CHECK(off + (size_t)n + 1 <= strlen(name) + 1);
		if (off > 0)
			back[off++] = '/';
		memcpy(back + off, dec, (size_t)n);
		off += (size_t)n;
	}
	FUZZ_CHECK(strcmp(back, name) == 0);
	free(back);
	free(copy);
}

static void check_suggestion(struct folder_set *set, const char *name)
{
	char sugg[1024], dir[256], *path;
	const char *other;

	folder_name_suggest(name, sugg, sizeof(sugg));
	path = malloc(2 * strlen(sugg) + 1);
	FUZZ_CHECK(path != NULL);
	FUZZ_CHECK(folder_name_to_maildir(sugg, dir, sizeof(dir)) == FOLDER_OK);
	check_dir(sugg, dir);
	/* a suggestion also passes as a source name, unless it has a '&'
	 * (from_path would decode it) or is INBOX (to_maildir allows it) */
	if (strcasecmp(sugg, "INBOX") != 0 && strchr(sugg, '&') == NULL)
		FUZZ_CHECK(folder_name_from_path(sugg, path, 2 * strlen(sugg) + 1)
			   == FOLDER_OK);
	FUZZ_CHECK(folder_set_add(set, sugg, &other) == FOLDER_OK);
	folder_set_suggest(set, name, sugg, sizeof(sugg));
	FUZZ_CHECK(folder_set_add(set, sugg, &other) == FOLDER_OK);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_strdup(data, size);
	size_t osize = 2 * strlen(in) + 1;
	char *name = malloc(osize), dir[256];
	struct folder_set *set = folder_set_new();
	enum folder_problem p;

	FUZZ_CHECK(name != NULL && set != NULL);
	p = folder_name_from_path(in, name, osize);
	if (p == FOLDER_OK) {
		p = folder_name_to_maildir(name, dir, sizeof(dir));
		if (p == FOLDER_OK)
			check_dir(name, dir);
		else
			FUZZ_CHECK(dir[0] == '\0');
	}
	check_suggestion(set, name);
	folder_set_free(&set);
	set = folder_set_new();
	FUZZ_CHECK(set != NULL);
	if (folder_name_to_maildir(in, dir, sizeof(dir)) == FOLDER_OK)
		check_dir(in, dir);
	check_suggestion(set, in);
	folder_set_free(&set);
	free(name);
	free(in);
	return 0;
}
