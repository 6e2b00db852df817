/* SPDX-License-Identifier: MIT */
/*
 * fuzz-rollback-record.c - the input is a rollback record
 * (WORK/rollback/USER/INBOX, rollback-record.h)
 *
 * rollback_record_read() takes it or refuses it as malformed (never
 * another error: it exists and is small).  What it takes is sane (version
 * 1 or 2, sizes >= 0, names non-empty and sorted, each found by
 * rollback_record_has) and survives rollback_record_write() and a second
 * read unchanged (then as version 2: every name escaped).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "rollback-record.h"

static void check_sane(const struct rollback_record *r)
{
	FUZZ_CHECK(r->exists);
	FUZZ_CHECK(r->version == 1 || r->version == 2);
	FUZZ_CHECK(r->before >= 0 && r->size >= 0);
	FUZZ_CHECK(r->version == 2 || r->before_sum == 0);
	for (size_t i = 0; i < r->nbases; i++) {
		FUZZ_CHECK(r->bases[i] != NULL && r->bases[i][0] != '\0');
		FUZZ_CHECK(i == 0 || strcmp(r->bases[i - 1], r->bases[i]) <= 0);
		FUZZ_CHECK(rollback_record_has(r, r->bases[i]));
	}
}

static void check_same(const struct rollback_record *a,
		       const struct rollback_record *b)
{
	FUZZ_CHECK(b->version == 2);
	FUZZ_CHECK(a->pending == b->pending);
	FUZZ_CHECK(a->before == b->before && a->size == b->size);
	FUZZ_CHECK(a->before_sum == b->before_sum);
	FUZZ_CHECK(a->nbases == b->nbases);
	for (size_t i = 0; i < a->nbases; i++)
		FUZZ_CHECK(strcmp(a->bases[i], b->bases[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char work[512], dir[600], path[700];
	struct rollback_record r, r2;
	struct m2d_error err;
	int rc;

	snprintf(work, sizeof(work), "%s/work", fuzz_dir());
	snprintf(dir, sizeof(dir), "%s/rollback", work);
	mkdir(work, 0700);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/rollback/u", work);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/INBOX", dir);
	fuzz_write_file(path, data, size);

	rc = rollback_record_read(work, "u", "", &r, &err);
	if (rc < 0) {
		FUZZ_CHECK(err.code == M2D_ERR_MALFORMED);
		FUZZ_CHECK(r.nbases == 0 && r.bases == NULL);
	} else {
		FUZZ_CHECK(rc == 0);
		check_sane(&r);
		FUZZ_CHECK(rollback_record_write(work, "w", ".copy", &r,
						 &err) == 0);
		FUZZ_CHECK(rollback_record_read(work, "w", ".copy", &r2,
						&err) == 0);
		check_sane(&r2);
		check_same(&r, &r2);
		rollback_record_free(&r2);
		snprintf(path, sizeof(path), "%s/rollback/w/.copy", work);
		unlink(path);
		snprintf(path, sizeof(path), "%s/rollback/w", work);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/INBOX", dir);
	}
	rollback_record_free(&r);
	unlink(path);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/rollback", work);
	rmdir(dir);
	rmdir(work);
	return 0;
}
