/* SPDX-License-Identifier: MIT */
/*
 * fuzz-journal.c - the input is the journal file of a work directory
 *
 * journal_open() replays it (or refuses it); what it accepted survives
 * journal_compact() and a second replay unchanged.
 */
#include <stdio.h>

#include "fuzz-common.h"
#include "journal.h"

static void snapshot(struct journal *j, size_t *nf, size_t *nu, char **text)
{
	struct journal_folder *f;
	struct journal_user *u;
	size_t len;
	FILE *out = open_memstream(text, &len);

	FUZZ_CHECK(out != NULL);
	*nf = journal_folders(j, &f);
	*nu = journal_users(j, &u);
	for (size_t i = 0; i < *nf; i++)
		fprintf(out, "%s|%s|%s|%s|%d|%llu|%llu|%lld|%lld|%lld|%llu|%lu|%lu|%lu\n",
			f[i].user, f[i].listed, f[i].target, f[i].dirname,
			(int)f[i].state, f[i].source.dev, f[i].source.ino,
			f[i].source.size, f[i].source.mtime_sec,
			f[i].source.mtime_nsec,
			(unsigned long long)f[i].source.checksum,
			f[i].messages, f[i].uidvalidity, f[i].nextuid);
	for (size_t i = 0; i < *nu; i++)
		fprintf(out, "U %s|%s\n", u[i].user, u[i].target);
	FUZZ_CHECK(fclose(out) == 0);
	journal_folders_free(f, *nf);
	journal_users_free(u, *nu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], *a, *b;
	struct journal *j;
	struct m2d_error err;
	size_t nf, nu, nf2, nu2;

	snprintf(path, sizeof(path), "%s/journal", fuzz_dir());
	fuzz_write_file(path, data, size);
	if (journal_open(fuzz_dir(), &j, &err) == 0) {
		snapshot(j, &nf, &nu, &a);
		FUZZ_CHECK(journal_compact(j, &err) == 0);
		journal_close(&j);
		FUZZ_CHECK(journal_open(fuzz_dir(), &j, &err) == 0);
		snapshot(j, &nf2, &nu2, &b);
		FUZZ_CHECK(nf == nf2 && nu == nu2);
		FUZZ_CHECK(strcmp(a, b) == 0);
		journal_close(&j);
		free(a);
		free(b);
	}
	unlink(path);
	return 0;
}
