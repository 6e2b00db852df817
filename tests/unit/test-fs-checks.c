/* SPDX-License-Identifier: MIT */
/*
 * test-fs-checks.c - inodes, space and subdirectories of the target:
 * the fast message counter (against the mbox reader), the estimate from a
 * plan over a scratch tree, the probe on the real file system and on a
 * fake mountinfo/sysfs/superblock, every check PASS/WARN/FAIL from
 * injected figures, and -- as root, where loop mounts work -- real ext2,
 * ext3, ext4 (with and without dir_nlink), XFS and btrfs images.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-checks.h"
#include "fs-checks-private.h"
#include "mbox-reader.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#define F1 "From alice@example.org Tue Nov  9 10:11:12 2004\n"
#define F2 "From bob@example.org Wed Nov 10 01:02:03 2004\n"
#define L1 (sizeof(F1) - 1)
#define L2 (sizeof(F2) - 1)
#define PSEUDO \
	"From MAILER-DAEMON Tue Nov  9 10:00:00 2004\n" \
	"Date: Tue, 9 Nov 2004 10:00:00 +0000\n" \
	"From: Mail System Internal Data <MAILER-DAEMON@host>\n" \
	"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n" \
	"X-IMAP: 1100000000 0000000012\n" \
	"Status: RO\n\n" \
	"This text is part of the internal format of your mail folder.\n\n"

/* ---- scratch directory ---- */

static char top[64];

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/test-fs-checks.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	return 0;
}

static int run(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (top[0] != '\0')
		(void)run("rm -rf '%s'", top);
	top[0] = '\0';
	return 0;
}

static void pathf(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", top, rel);
}

static void put(const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	pathf(path, sizeof(path), rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void mkdir_rel(const char *rel)
{
	char path[PATH_MAX];

	pathf(path, sizeof(path), rel);
	assert_int_equal(mkdir(path, 0700), 0);
}

/* ---- check results ---- */

static void test_result(void **state)
{
	struct check_result r;

	(void)state;
	check_result_init(&r, "x", "X");
	assert_int_equal(r.status, CHECK_PASS);
	assert_int_equal(r.nfigures, 0);
	for (int i = 0; i < CHECK_MAX_FIGURES; i++)
		assert_int_equal(check_result_figure(&r, "k", i), 0);
	assert_int_equal(check_result_figure(&r, "over", 1), -1);
	assert_int_equal(r.nfigures, CHECK_MAX_FIGURES);
	assert_non_null(check_result_get(&r, "k"));
	assert_int_equal(check_result_get(&r, "k")->value, 0);
	assert_null(check_result_get(&r, "over"));
	assert_string_equal(check_status_id(CHECK_PASS), "pass");
	assert_string_equal(check_status_id(CHECK_WARN), "warn");
	assert_string_equal(check_status_id(CHECK_FAIL), "fail");
	assert_string_equal(check_status_str(CHECK_FAIL), "FAIL");
}

/* ---- the message counter ---- */

static const struct scan_case {
	const char *what;
	const char *mbox;
	unsigned long long messages;
	unsigned long long bytes;
	bool pseudo;
} scan_cases[] = {
	{ "empty file", "", 0, 0, false },
	{ "one message", F1 "Subject: a\n\nbody\n\n", 1, 18, false },
	{ "two messages", F1 "Subject: a\n\nbody\n\n" F2 "S: b\n\nx\n\n", 2,
	  18 + 9, false },
	{ "invalid From line is body text",
	  F1 "S: a\n\nFrom here on, text\nFrom me Mon\n\n", 1,
	  6 + 19 + 12 + 1, false },
	{ ">From is body text", F1 "S: a\n\n>" F1 "\n", 1, 6 + 1 + L1 + 1,
	  false },
	{ "From_ line without final newline", F1 "S: a\n\nx\n" F2, 2, 8, 0 },
	{ "no final newline", F1 "S: a\n\nx", 1, 7, false },
	{ "CRLF separators",
	  "From a@b Tue Nov  9 10:11:12 2004\r\nS: a\r\n\r\n"
	  "From a@b Tue Nov  9 10:11:13 2004\r\nS: b\r\n", 2, 8 + 6, false },
	{ "UW pseudo-message not counted", PSEUDO F1 "S: a\n\n", 1, 6, true },
	{ "X-IMAPbase message counts",
	  F1 "X-IMAPbase: 1 2\nS: a\n\n" F2 "S: b\n\n", 2, 22 + 6, false },
	{ "pseudo-message alone", PSEUDO, 0, 0, true },
	{ "garbage before the first From_ line",
	  "junk\n" F1 "S: a\n", 1, 5, false },
};

static void write_tmp(const char *name, const char *data, size_t len,
		      char *path, size_t size)
{
	pathf(path, size, name);
	put(name, data, len);
}

/* Messages of PATH according to the real reader. */
static unsigned long reader_count(const char *path)
{
	struct mbox_reader_settings set = { .mboxrd = false };
	struct mbox_reader *r = NULL;
	struct mbox_msg msg;
	struct m2d_error err;
	unsigned long n = 0;
	int ret;

	assert_int_equal(mbox_reader_open(AT_FDCWD, path, &set, &r, &err), 0);
	while ((ret = mbox_reader_next(r, &msg, &err)) == 1)
		n++;
	assert_int_equal(ret, 0);
	mbox_reader_close(&r);
	return n;
}

static void scan_path(const char *path, struct fs_scan *scan)
{
	struct m2d_error err;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fs_scan_count(fd, path, scan, &err), 0);
	close(fd);
}

static void test_scan_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(scan_cases); i++) {
		const struct scan_case *c = &scan_cases[i];
		char path[PATH_MAX];
		struct fs_scan scan;

		print_message("# %s\n", c->what);
		write_tmp("scan.mbox", c->mbox, strlen(c->mbox), path,
			  sizeof(path));
		scan_path(path, &scan);
		assert_int_equal(scan.messages, c->messages);
		assert_int_equal(scan.bytes, c->bytes);
		assert_int_equal(scan.pseudo, c->pseudo);
		/* the same split as the reader's (which refuses a file that
		 * does not start with a From_ line) */
		if (strncmp(c->mbox, "junk", 4) != 0)
			assert_int_equal(reader_count(path), scan.messages);
	}
}

/* A NUL inside a "From " line makes it body text. */
static void test_scan_nul(void **state)
{
	char mbox[256], path[PATH_MAX];
	struct fs_scan scan;
	size_t n;

	(void)state;
	n = (size_t)snprintf(mbox, sizeof(mbox), "%s%s%s", F1, "S: a\n\n", F2);
	mbox[L1 + 6 + 10] = '\0';	/* inside F2's sender */
	write_tmp("nul.mbox", mbox, n, path, sizeof(path));
	scan_path(path, &scan);
	assert_int_equal(scan.messages, 1);
	assert_int_equal(scan.bytes, n - L1);
	assert_int_equal(reader_count(path), 1);
}

static void test_scan_rounding(void **state)
{
	struct fs_scan scan;
	char path[PATH_MAX];
	/* bodies of 1, 512 and 513 bytes (from the end of the From_ line
	 * to the next one) */
	char mbox[4096];
	size_t n = 0;

	(void)state;
	memcpy(mbox + n, F1 "\n", L1 + 1);
	n += L1 + 1;
	/* each header ends at once (an empty line): a From_ line inside a
	 * header separates nothing (c-client) */
	memcpy(mbox + n, F2, L2);
	n += L2;
	mbox[n++] = '\n';
	memset(mbox + n, 'a', 510);
	n += 510;
	mbox[n++] = '\n';
	memcpy(mbox + n, F1, L1);
	n += L1;
	mbox[n++] = '\n';
	memset(mbox + n, 'b', 511);
	n += 511;
	mbox[n++] = '\n';
	write_tmp("round.mbox", mbox, n, path, sizeof(path));
	scan_path(path, &scan);
	assert_int_equal(scan.messages, 3);
	assert_int_equal(scan.bytes, 1 + 512 + 513);
	assert_int_equal(scan.rounded[0], 512 + 512 + 1024);		/* 512 */
	assert_int_equal(scan.rounded[3], 4096 * 3);			/* 4 KiB */
	assert_int_equal(scan.rounded[FS_EST_NBLOCK - 1], 131072ULL * 3);

	struct fs_estimate est = { .messages = 3 };

	memcpy(est.rounded, scan.rounded, sizeof(est.rounded));
	assert_int_equal(fs_estimate_bytes(&est, 512), 2048);
	assert_int_equal(fs_estimate_bytes(&est, 4096), 4096 * 3);
	/* not a power of two: the next one up, an upper bound */
	assert_int_equal(fs_estimate_bytes(&est, 3000), 4096 * 3);
	/* bigger than kept: one more such block per message at most */
	assert_int_equal(fs_estimate_bytes(&est, 1 << 20),
			 131072ULL * 3 + 3 * (1 << 20));
}

/* Separators around the 1 MiB read boundary and a line longer than it. */
static void test_scan_boundaries(void **state)
{
	const size_t mib = 1024 * 1024;
	static const long shifts[] = { -60, -47, -46, -6, -5, -4, -1, 0, 1,
				       5, 47 };
	char path[PATH_MAX];
	char *buf = malloc(3 * mib);

	(void)state;
	assert_non_null(buf);
	for (size_t s = 0; s < N_ELEMENTS(shifts); s++) {
		/* F1, a body of 'x' lines, F2 starting at mib + shift, then
		 * a line of 1.5 MiB without "From ", then F1 and "x\n" */
		size_t at = (size_t)((long)mib + shifts[s]), n = 0;
		struct fs_scan scan;

		/* headers end at once: a From_ line in a header is none */
		memcpy(buf, F1 "\n", strlen(F1) + 1);
		n = strlen(F1) + 1;
		while (n < at) {
			size_t k = at - n < 80 ? at - n : 80;

			memset(buf + n, 'x', k - 1);
			buf[n + k - 1] = '\n';
			n += k;
		}
		memcpy(buf + n, F2 "\n", strlen(F2) + 1);
		n += strlen(F2) + 1;
		memset(buf + n, 'y', mib + mib / 2);
		n += mib + mib / 2;
		buf[n++] = '\n';
		memcpy(buf + n, F1 "x\n", strlen(F1) + 2);
		n += strlen(F1) + 2;
		write_tmp("big.mbox", buf, n, path, sizeof(path));
		scan_path(path, &scan);
		print_message("# separator at 1 MiB %+ld\n", shifts[s]);
		assert_int_equal(scan.messages, 3);
		assert_int_equal(scan.bytes, n - 2 * strlen(F1) - strlen(F2));
		assert_int_equal(reader_count(path), 3);
	}
	free(buf);
}

/* ---- the same counts whatever the read size and the search ---- */

static const enum fs_scan_impl scan_impls[] = {
	FS_SCAN_BEST, FS_SCAN_PLAIN, FS_SCAN_PORTABLE, FS_SCAN_AVX2,
};
static const char *const scan_impl_names[] = {
	"best", "plain", "portable", "avx2",
};
/* reads of a byte, around the 5 bytes of "From ", around the 16 and 64
 * bytes of a search round, shorter and longer than the lines, default */
static const size_t scan_sizes[] = { 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 47,
				     63, 64, 65, 66, 100, 129, 4096, 0 };

/* PATH scanned with every search and every read size: all the same as
 * WANT. */
static void scan_every_way(const char *path, const struct fs_scan *want)
{
	for (size_t k = 0; k < N_ELEMENTS(scan_impls); k++) {
		if (!fs_scan_impl_available(scan_impls[k]))
			continue;
		for (size_t z = 0; z < N_ELEMENTS(scan_sizes); z++) {
			struct fs_scan scan;
			struct m2d_error err;
			int fd = open(path, O_RDONLY);

			assert_true(fd >= 0);
			assert_int_equal(fs_scan_count_with(fd, path,
							    scan_sizes[z],
							    scan_impls[k],
							    &scan, &err), 0);
			close(fd);
			if (memcmp(&scan, want, sizeof(scan)) != 0)
				fail_msg("%s, reads of %zu: %llu messages, "
					 "%llu bytes; want %llu, %llu",
					 scan_impl_names[k], scan_sizes[z],
					 scan.messages, scan.bytes,
					 want->messages, want->bytes);
		}
	}
}

/* The table above, read in pieces: From_ lines split across reads. */
static void test_scan_table_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(scan_cases); i++) {
		const struct scan_case *c = &scan_cases[i];
		char path[PATH_MAX];
		struct fs_scan want;

		print_message("# %s\n", c->what);
		write_tmp("split.mbox", c->mbox, strlen(c->mbox), path,
			  sizeof(path));
		scan_path(path, &want);
		assert_int_equal(want.messages, c->messages);
		assert_int_equal(want.bytes, c->bytes);
		scan_every_way(path, &want);
	}
}

#define LONGF "From " \
	"a-sender-longer-than-a-read-and-a-search-round-of-64-bytes-" \
	"0123456789012345678901234567890123456789012345678901234567890" \
	"@example.org Tue Nov  9 10:11:12 2004"

/* Boundaries of the search itself, each with its own count. */
static const struct scan_case split_cases[] = {
	{ "first line is a From_ line, nothing else", F1, 1, 0, false },
	/* c-client: a From_ line needs its LF; its shape alone separates
	 * ("Nov 99" too); in a header no line separates */
	{ "first line is a From_ line without a newline",
	  "From a@b Tue Nov  9 10:11:12 2004", 0, 0, false },
	{ "first line From with an invalid date, F1 in its header",
	  "From a@b Tue Nov 99 10:11:12 2004\n" F1 "x\n", 1, L1 + 2, false },
	{ "From lines with invalid dates are body text",
	  F1 "From a@b Tue Nov  9 25:11:12 2004\n"
	  "From a@b Tue Nox  9 10:11:12 2004\n"
	  "From a@b Tue Nov  9 10:11:12\n"
	  "From a@b\nFrom \nFrom\nFrom\n", 1,
	  34 + 34 + 29 + 9 + 6 + 5 + 5, false },
	{ "\"From\" without the space, \"from \" in lower case",
	  F1 "From:a@b\nfrom a@b Tue Nov  9 10:11:12 2004\n", 1,
	  9 + 34, false },
	{ ">From lines and From in the middle of a line",
	  F1 ">" F2 ">>" F2 "x " F2, 1, 1 + L2 + 2 + L2 + 2 + L2, false },
	{ "lines of F one after the other",
	  F1 "\nF\nF\nFr\nFro\nFrom\nF\n" F2 "F\nFF\nF", 2,
	  1 + 2 + 2 + 3 + 4 + 5 + 2 + 2 + 3 + 1, false },
	{ "empty lines, then a From_ line",
	  F1 "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
	  "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
	  "\n\n\n\n\n\n\n\n\n" F2, 2, 69, false },
	{ "CRLF everywhere, no final newline",
	  "From a@b Tue Nov  9 10:11:12 2004\r\nS: a\r\n\r\nb\r\n"
	  "From a@b Tue Nov  9 10:11:13 2004\r\nS: b\r\n\r\nc", 2,
	  6 + 2 + 3 + 6 + 2 + 1, false },
	{ "From_ line longer than a read and a search round",
	  F1 "\nx\n" LONGF "\n\ny\n" LONGF "\n", 3, 3 + 3, false },
	{ "body line longer than a read and a search round",
	  F1 "\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	  "From x\n" F2 "z", 2, 1 + 180 + 7 + 1, false },
	{ "NUL bytes in the body",
	  F1 "\na\0b\n\0From x\n" F2, 2, 1 + 4 + 8, false },
	{ "the pseudo-message, then From_ lines split",
	  PSEUDO F1 "\nx\n" F2, 2, 3, true },
};

static void test_scan_split_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(split_cases); i++) {
		const struct scan_case *c = &split_cases[i];
		/* the mbox text may hold NUL bytes: its length is the
		 * literal's, found as the end of the last non-NUL run */
		size_t len = strlen(c->mbox);
		char path[PATH_MAX];
		struct fs_scan want;

		if (strncmp(c->what, "NUL", 3) == 0)
			len = L1 + 1 + 4 + 8 + L2;
		print_message("# %s\n", c->what);
		write_tmp("cases.mbox", c->mbox, len, path, sizeof(path));
		scan_path(path, &want);
		assert_int_equal(want.messages, c->messages);
		assert_int_equal(want.bytes, c->bytes);
		assert_int_equal(want.pseudo, c->pseudo);
		scan_every_way(path, &want);
	}
}

/* A From_ line at every offset of two search rounds, after a line of
 * each length, with a "\nF" that is no separator just before. */
static void test_scan_offsets(void **state)
{
	char mbox[512], path[PATH_MAX];

	(void)state;
	for (size_t off = 0; off < 140; off++) {
		struct fs_scan want;
		size_t n = 0;

		memcpy(mbox + n, F1 "\n", L1 + 1);	/* empty header */
		n += L1 + 1;
		memset(mbox + n, 'x', off);
		n += off;
		memcpy(mbox + n, "\nFx\n", 4);
		n += 4;
		memcpy(mbox + n, F2, L2);
		n += L2;
		memcpy(mbox + n, "y\n", 2);
		n += 2;
		write_tmp("offsets.mbox", mbox, n, path, sizeof(path));
		scan_path(path, &want);
		assert_int_equal(want.messages, 2);
		assert_int_equal(want.bytes, 1 + off + 4 + 2);
		scan_every_way(path, &want);
	}
}

/* Random mboxes of nasty pieces: every search and read size agrees with
 * the plain byte-at-a-time one read at a time, and with the reader. */
static void test_scan_random(void **state)
{
	static const char *const pieces[] = {
		F1, F2, "From a@b Tue Nov  9 25:11:12 2004\n", ">" F1, "\n",
		"\r\n", "F", "Fr", "From ", "From", "x", "From:a\n",
		"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n", "\nF",
		"From a@b Tue Nov  9 10:11:12 2004\r\n", LONGF "\n",
	};
	char *mbox = malloc(8192), path[PATH_MAX];
	unsigned long rng = 12345;

	(void)state;
	assert_non_null(mbox);
	for (int round = 0; round < 60; round++) {
		struct fs_scan want, plain;
		struct m2d_error err;
		size_t n = 0;
		int fd;

		/* starts with a From_ line, so that the reader takes it */
		memcpy(mbox, F1, L1);
		n = L1;
		for (;;) {
			const char *p;
			size_t l;

			rng = rng * 6364136223846793005UL + 1442695040888963407UL;
			p = pieces[(rng >> 33) % N_ELEMENTS(pieces)];
			l = strlen(p);
			if (n + l > 8192)
				break;
			memcpy(mbox + n, p, l);
			n += l;
		}
		write_tmp("random.mbox", mbox, n, path, sizeof(path));
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(fs_scan_count_with(fd, path, 1, FS_SCAN_PLAIN,
						    &plain, &err), 0);
		close(fd);
		scan_path(path, &want);
		assert_memory_equal(&want, &plain, sizeof(want));
		assert_int_equal(reader_count(path), want.messages);
		scan_every_way(path, &want);
	}
	free(mbox);
}

static void test_scan_error(void **state)
{
	struct fs_scan scan;
	struct m2d_error err;
	int fd;

	(void)state;
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fs_scan_count(fd, top, &scan, &err), -1);
	assert_int_equal(err.code, M2D_ERR_SYS);
	assert_int_equal(err.sys_errno, EISDIR);
	assert_string_equal(err.path, top);
	close(fd);
}

/* ---- the estimate from a plan ---- */

struct fake_plan {
	struct plan plan;
	struct plan_user users[8];
	struct plan_folder folders[16];
	char strs[32][PATH_MAX];
	int nstr;
};

static char *fp_str(struct fake_plan *fp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char *fp_str(struct fake_plan *fp, const char *fmt, ...)
{
	va_list ap;
	char *s;

	assert_true(fp->nstr < 32);
	s = fp->strs[fp->nstr++];
	va_start(ap, fmt);
	vsnprintf(s, PATH_MAX, fmt, ap);
	va_end(ap);
	return s;
}

static void fp_user(struct fake_plan *fp, const char *name, const char *rel)
{
	struct plan_user *u = &fp->users[fp->plan.nusers++];

	u->name = fp_str(fp, "%s", name);
	u->target = fp_str(fp, "%s/%s", top, rel);
	fp->plan.users = fp->users;
}

static void fp_folder(struct fake_plan *fp, size_t user, const char *src,
		      const char *dirname, long long size,
		      enum plan_skip skip)
{
	struct plan_folder *f = &fp->folders[fp->plan.nfolders++];

	f->user = user;
	f->source = fp_str(fp, "%s/%s", top, src);
	f->dirname = dirname != NULL ? fp_str(fp, "%s", dirname) : NULL;
	f->size = size;
	f->skip = skip;
	fp->plan.folders = fp->folders;
}

static int cancel_after_two(size_t done, size_t total,
			    unsigned long long bytes, void *ctx)
{
	(void)total;
	(void)bytes;
	*(size_t *)ctx = done;
	return done >= 2;
}

static void test_estimate_plan(void **state)
{
	static struct fake_plan fp;
	struct fs_estimate est;
	struct m2d_error err;
	size_t seen = 0;

	(void)state;
	memset(&fp, 0, sizeof(fp));
	mkdir_rel("spool");
	mkdir_rel("mail2");
	mkdir_rel("mail2/olduser");	/* an existing account: counts */
	mkdir_rel("mail2/alice");	/* planned and there: counts once */
	put("mail2/afile", "", 0);	/* a file: takes no link */
	put("spool/alice", F1 "S: a\n\n" F2 "S: b\n\n", L1 + 6 + L2 + 6);
	put("spool/bob", PSEUDO F1 "S: a\n", strlen(PSEUDO) + L1 + 5);
	put("spool/bob-sent", F1 "S: c\n\n", L1 + 6);
	{
		char link[PATH_MAX];

		pathf(link, sizeof(link), "spool/evil");
		assert_int_equal(symlink("alice", link), 0);
	}
	fp_user(&fp, "alice", "mail2/alice");
	fp_user(&fp, "bob", "mail2/bob");
	fp_user(&fp, "carol", "mail2/carol/");	/* trailing slash */
	fp_folder(&fp, 0, "spool/alice", "", 99, PLAN_TAKEN);
	fp_folder(&fp, 1, "spool/bob", "", 10, PLAN_TAKEN);
	fp_folder(&fp, 1, "spool/bob-sent", ".Sent", 53, PLAN_TAKEN);
	fp_folder(&fp, 1, "spool/bob-sent", ".Sent.old", 53, PLAN_TAKEN);
	fp_folder(&fp, 1, "spool/nothere", NULL, 0, PLAN_SKIP_MISSING);
	fp_folder(&fp, 2, "spool/gone", ".Gone", 1000, PLAN_TAKEN);
	fp_folder(&fp, 2, "spool/evil", ".Evil", 7, PLAN_TAKEN);

	assert_int_equal(fs_estimate_plan(&fp.plan, true, NULL, NULL, &est,
					  &err), 0);
	assert_true(est.scanned);
	assert_int_equal(est.users, 3);
	assert_int_equal(est.folders, 6);
	/* alice 2, bob 1 (pseudo not counted), Sent 1, Sent.old 1 */
	assert_int_equal(est.messages, 5);
	/* two sources cannot be read: missing, and a symlink */
	assert_int_equal(est.unreadable, 2);
	assert_int_equal(est.bytes, 6 + 6 + 5 + 6 + 6 + 1000 + 7);
	assert_int_equal(est.rounded[3], 5 * 4096ULL + 4096 + 4096);
	assert_int_equal(est.user_folders, 2);
	assert_string_equal(est.user_name, "bob");
	assert_int_equal(est.dir_entries, 4);	/* alice bob carol olduser */
	assert_int_equal(est.dir_existing, 1);
	{
		char want[PATH_MAX];

		pathf(want, sizeof(want), "mail2");
		assert_string_equal(est.dir_path, want);
	}

	/* without the scan: plan sizes, no messages */
	assert_int_equal(fs_estimate_plan(&fp.plan, false, NULL, NULL, &est,
					  &err), 0);
	assert_false(est.scanned);
	assert_int_equal(est.messages, 0);
	assert_int_equal(est.unreadable, 0);
	assert_int_equal(est.bytes, 99 + 10 + 53 + 53 + 1000 + 7);

	/* cancelled from the progress callback */
	assert_int_equal(fs_estimate_plan(&fp.plan, true, cancel_after_two,
					  &seen, &est, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CANCELLED);
	assert_int_equal(seen, 2);
}

static void test_estimate_hashed(void **state)
{
	static struct fake_plan fp;
	struct fs_estimate est;
	struct m2d_error err;
	char want[PATH_MAX];

	(void)state;
	memset(&fp, 0, sizeof(fp));
	mkdir_rel("base");
	mkdir_rel("base/f");
	mkdir_rel("base/f/frank");	/* not planned: counts in base/f */
	mkdir_rel("base/f/fred");	/* planned */
	fp_user(&fp, "bob", "base/b/bob");
	fp_user(&fp, "fanny", "base/f/fanny");
	fp_user(&fp, "fred", "base/f/fred");
	fp_user(&fp, "fiona", "base/f/fiona");
	assert_int_equal(fs_estimate_plan(&fp.plan, true, NULL, NULL, &est,
					  &err), 0);
	assert_int_equal(est.folders, 0);
	assert_int_equal(est.dir_entries, 4);	/* fanny fiona fred frank */
	assert_int_equal(est.dir_existing, 1);
	pathf(want, sizeof(want), "base/f");
	assert_string_equal(est.dir_path, want);

	/* a directory of roots that exists but cannot be listed */
	if (geteuid() != 0) {
		char p[PATH_MAX];

		pathf(p, sizeof(p), "base/f");
		assert_int_equal(chmod(p, 0), 0);
		assert_int_equal(fs_estimate_plan(&fp.plan, false, NULL, NULL,
						  &est, &err), -1);
		assert_int_equal(err.sys_errno, EACCES);
		chmod(p, 0700);
	}
}

/* ---- the checks, from injected figures ---- */

static struct fs_info ext4_info(void)
{
	struct fs_info fs;

	memset(&fs, 0, sizeof(fs));
	snprintf(fs.path, sizeof(fs.path), "/data/mail2");
	snprintf(fs.probed, sizeof(fs.probed), "/data");
	snprintf(fs.mountpoint, sizeof(fs.mountpoint), "/data");
	snprintf(fs.fstype, sizeof(fs.fstype), "ext4");
	snprintf(fs.source, sizeof(fs.source), "/dev/sdb1");
	fs.magic = FS_MAGIC_EXT;
	fs.bsize = fs.frsize = 4096;
	fs.blocks = 1000000;
	fs.bavail = 500000;
	fs.files = 1000000;
	fs.favail = 500000;
	fs.driver = FS_DRIVER_EXT4;
	fs.dir_nlink = 1;
	fs.dir_index = 1;
	return fs;
}

enum fs_kind { K_EXT4, K_XFS, K_BTRFS, K_TMPFS };

static struct fs_info kind_info(enum fs_kind kind)
{
	struct fs_info fs = ext4_info();

	switch (kind) {
	case K_EXT4:
		break;
	case K_XFS:
		fs.magic = FS_MAGIC_XFS;
		snprintf(fs.fstype, sizeof(fs.fstype), "xfs");
		fs.driver = FS_DRIVER_UNKNOWN;
		fs.dir_nlink = fs.dir_index = -1;
		break;
	case K_BTRFS:
		fs.magic = FS_MAGIC_BTRFS;
		snprintf(fs.fstype, sizeof(fs.fstype), "btrfs");
		fs.files = fs.favail = 0;
		fs.driver = FS_DRIVER_UNKNOWN;
		fs.dir_nlink = fs.dir_index = -1;
		break;
	case K_TMPFS:
		fs.magic = FS_MAGIC_TMPFS;
		snprintf(fs.fstype, sizeof(fs.fstype), "tmpfs");
		fs.driver = FS_DRIVER_UNKNOWN;
		fs.dir_nlink = fs.dir_index = -1;
		break;
	}
	return fs;
}

static const struct inode_case {
	const char *what;
	enum fs_kind kind;
	unsigned long long messages, folders, users, favail;
	enum check_status want;
	long long needed;
	const char *in_detail, *in_fix;
} inode_cases[] = {
	/* 4 messages, 4 folders, 1 user: 4 + 36 + 6 = 46, +5% = 49 */
	{ "ext4 plenty", K_EXT4, 4, 4, 1, 500000, CHECK_PASS, 49,
	  "49 inodes needed, 500000 of 1000000 free", NULL },
	{ "ext4 exactly enough", K_EXT4, 4, 4, 1, 49, CHECK_WARN, 49,
	  NULL, "tune2fs cannot add inodes" },
	{ "ext4 one short", K_EXT4, 4, 4, 1, 48, CHECK_FAIL, 49, NULL,
	  "resize2fs" },
	/* 800000 + 5% = 840000 = 80% of 1050000 */
	{ "ext4 at 80%", K_EXT4, 800000, 0, 0, 1050000, CHECK_PASS,
	  840000, NULL, NULL },
	{ "ext4 over 80%", K_EXT4, 800000, 0, 0, 1049999, CHECK_WARN,
	  840000, NULL, "mkfs.ext4 -N" },
	{ "xfs short", K_XFS, 1000000, 1000, 10, 20000, CHECK_FAIL,
	  1059513, "ceiling", "xfs_growfs -m" },
	{ "btrfs: dynamic", K_BTRFS, 1000000000, 1000, 10, 0, CHECK_PASS,
	  1050009513, "as needed", NULL },
	{ "tmpfs short", K_TMPFS, 100, 10, 1, 10, CHECK_FAIL, 206,
	  NULL, "another file system" },
};

static void test_inodes(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(inode_cases); i++) {
		const struct inode_case *c = &inode_cases[i];
		struct fs_estimate est = { .messages = c->messages,
					   .folders = c->folders,
					   .users = c->users };
		struct fs_info fs = kind_info(c->kind);
		struct check_result r;

		print_message("# %s\n", c->what);
		if (c->kind != K_BTRFS)
			fs.favail = c->favail;
		assert_int_equal(fs_check_inodes(&est, &fs, &r), c->want);
		assert_int_equal(r.status, c->want);
		assert_string_equal(r.id, "inodes");
		assert_int_equal(check_result_get(&r, "needed")->value,
				 c->needed);
		if (c->kind == K_BTRFS) {
			assert_null(check_result_get(&r, "free"));
		} else {
			assert_int_equal(check_result_get(&r, "free")->value,
					 (long long)c->favail);
		}
		if (c->in_detail != NULL)
			assert_non_null(strstr(r.detail, c->in_detail));
		if (c->want == CHECK_PASS)
			assert_string_equal(r.fix, "");
		else
			assert_true(r.fix[0] != '\0');
		if (c->in_fix != NULL)
			assert_non_null(strstr(r.fix, c->in_fix));
		assert_null(strchr(r.detail, '\n'));
		assert_null(strchr(r.fix, '\n'));
	}
}

static const struct space_case {
	const char *what;
	unsigned long frsize;
	unsigned long long bavail;
	enum check_status want;
	long long needed;
} space_cases[] = {
	/* 1000 messages of 100 bytes, 10 folders, 2 users:
	 * 4 KiB: 1000 * 4096 + (90 + 12) * 4096 = 4513792, +5% = 4739482 */
	{ "4 KiB plenty", 4096, 100000, CHECK_PASS, 4739482 },
	{ "4 KiB just enough", 4096, 1158, CHECK_WARN, 4739482 },
	{ "4 KiB short", 4096, 1157, CHECK_FAIL, 4739482 },
	/* 1 KiB: (1000 + 102) * 1024 = 1128448, +5% = 1184871 */
	{ "1 KiB blocks need less", 1024, 1158, CHECK_WARN, 1184871 },
	{ "1 KiB under 80%", 1024, 1447, CHECK_PASS, 1184871 },
};

static void test_space(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(space_cases); i++) {
		const struct space_case *c = &space_cases[i];
		struct fs_estimate est = { .messages = 1000, .folders = 10,
					   .users = 2, .bytes = 100000 };
		struct fs_info fs = ext4_info();
		struct check_result r;

		print_message("# %s\n", c->what);
		for (int k = 0; k < FS_EST_NBLOCK; k++)
			est.rounded[k] = 1000ULL * (512ULL << k);
		fs.frsize = fs.bsize = c->frsize;
		fs.bavail = c->bavail;
		assert_int_equal(fs_check_space(&est, &fs, &r), c->want);
		assert_string_equal(r.id, "space");
		assert_int_equal(check_result_get(&r, "needed_bytes")->value,
				 c->needed);
		assert_int_equal(check_result_get(&r, "free_bytes")->value,
				 (long long)(c->bavail * c->frsize));
		assert_int_equal(check_result_get(&r, "block_size")->value,
				 (long long)c->frsize);
		assert_int_equal(r.fix[0] != '\0', c->want != CHECK_PASS);
	}
}

static const struct limit_case {
	const char *what;
	unsigned long long magic;
	const char *fstype;
	enum fs_ext_driver driver;
	int dir_nlink, dir_index;
	long long limit;
	bool assumed;
} limit_cases[] = {
	{ "ext4 dir_nlink", FS_MAGIC_EXT, "ext4", FS_DRIVER_EXT4, 1, 1, -1,
	  false },
	{ "ext4 without dir_nlink", FS_MAGIC_EXT, "ext4", FS_DRIVER_EXT4, 0,
	  1, 64998, false },
	{ "ext4 without dir_index", FS_MAGIC_EXT, "ext4", FS_DRIVER_EXT4, 1,
	  0, 64998, false },
	{ "ext4 superblock unread", FS_MAGIC_EXT, "ext4", FS_DRIVER_EXT4,
	  -1, -1, 64998, true },
	{ "ext3 on the ext4 driver", FS_MAGIC_EXT, "ext3", FS_DRIVER_EXT4,
	  0, 1, 64998, false },
	{ "ext3 on ext4 with dir_nlink", FS_MAGIC_EXT, "ext3",
	  FS_DRIVER_EXT4, 1, 1, -1, false },
	{ "ext2 on the ext4 driver", FS_MAGIC_EXT, "ext2", FS_DRIVER_EXT4,
	  0, 1, 64998, false },
	{ "old ext3 driver", FS_MAGIC_EXT, "ext3", FS_DRIVER_OLD, 1, 1,
	  31998, false },
	{ "old ext2 driver", FS_MAGIC_EXT, "ext2", FS_DRIVER_OLD, 0, 1,
	  31998, false },
	{ "ext3, driver unknown", FS_MAGIC_EXT, "ext3", FS_DRIVER_UNKNOWN,
	  0, 1, 31998, true },
	{ "xfs", FS_MAGIC_XFS, "xfs", FS_DRIVER_UNKNOWN, -1, -1, -1, false },
	{ "btrfs", FS_MAGIC_BTRFS, "btrfs", FS_DRIVER_UNKNOWN, -1, -1, -1,
	  false },
	{ "tmpfs", FS_MAGIC_TMPFS, "tmpfs", FS_DRIVER_UNKNOWN, -1, -1, -1,
	  false },
};

static void test_subdir_limit(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(limit_cases); i++) {
		const struct limit_case *c = &limit_cases[i];
		struct fs_info fs = ext4_info();
		bool assumed = !c->assumed;

		print_message("# %s\n", c->what);
		fs.magic = c->magic;
		snprintf(fs.fstype, sizeof(fs.fstype), "%s", c->fstype);
		fs.driver = c->driver;
		fs.dir_nlink = c->dir_nlink;
		fs.dir_index = c->dir_index;
		assert_int_equal(fs_subdir_limit(&fs, &assumed), c->limit);
		assert_int_equal(assumed, c->assumed);
	}
}

static const struct subdir_case {
	const char *what;
	int dir_nlink;
	enum fs_ext_driver driver;
	unsigned long long accounts, user_folders;
	enum check_status want;
	const char *in_detail, *in_fix;
} subdir_cases[] = {
	{ "dir_nlink: no limit", 1, FS_DRIVER_EXT4, 200000, 10, CHECK_PASS,
	  "no subdirectory limit", NULL },
	{ "no dir_nlink, few", 0, FS_DRIVER_EXT4, 51998, 10, CHECK_PASS,
	  "without dir_nlink: 64998", NULL },
	{ "no dir_nlink, over 80%", 0, FS_DRIVER_EXT4, 51999, 10,
	  CHECK_WARN, NULL, "mail_location = maildir:/data/mail2/%1u/%u" },
	{ "no dir_nlink, at the limit", 0, FS_DRIVER_EXT4, 64998, 10,
	  CHECK_WARN, NULL, "target_layout = \"%1u/%u\"" },
	{ "no dir_nlink, over", 0, FS_DRIVER_EXT4, 64999, 10, CHECK_FAIL,
	  NULL, "%{user | substr(0, 1)}/%{user}" },
	{ "unknown superblock", -1, FS_DRIVER_EXT4, 60000, 10, CHECK_WARN,
	  "assuming 64998", "%1u/%u" },
	{ "old driver", 0, FS_DRIVER_OLD, 32000, 10, CHECK_FAIL,
	  "old ext2/ext3 driver: 31998", "%1u/%u" },
	{ "one user with too many folders", 0, FS_DRIVER_EXT4, 100, 64996,
	  CHECK_FAIL, "at most 64996 folders for one user (fred)",
	  "user fred has more folders" },
	{ "one user near the limit", 0, FS_DRIVER_EXT4, 100, 64995,
	  CHECK_WARN, NULL, "merge or archive" },
};

static void test_subdirs(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(subdir_cases); i++) {
		const struct subdir_case *c = &subdir_cases[i];
		struct fs_estimate est = { .dir_entries = c->accounts,
					   .dir_existing = 7,
					   .user_folders = c->user_folders };
		struct fs_info fs = ext4_info();
		struct check_result r;

		print_message("# %s\n", c->what);
		snprintf(est.dir_path, sizeof(est.dir_path), "/data/mail2");
		snprintf(est.user_name, sizeof(est.user_name), "fred");
		fs.dir_nlink = c->dir_nlink;
		if (c->dir_nlink < 0)
			fs.dir_index = -1;
		fs.driver = c->driver;
		assert_int_equal(fs_check_subdirs(&est, &fs, &r), c->want);
		assert_string_equal(r.id, "subdirs");
		assert_int_equal(check_result_get(&r, "accounts")->value,
				 (long long)c->accounts);
		assert_int_equal(check_result_get(&r, "existing")->value, 7);
		if (c->dir_nlink == 1 && c->driver == FS_DRIVER_EXT4)
			assert_null(check_result_get(&r, "limit"));
		else
			assert_non_null(check_result_get(&r, "limit"));
		if (c->in_detail != NULL) {
			if (strstr(r.detail, c->in_detail) == NULL)
				fail_msg("detail \"%s\" lacks \"%s\"",
					 r.detail, c->in_detail);
		}
		assert_int_equal(r.fix[0] != '\0', c->want != CHECK_PASS);
		if (c->in_fix != NULL && strstr(r.fix, c->in_fix) == NULL)
			fail_msg("fix \"%s\" lacks \"%s\"", r.fix, c->in_fix);
	}
}

/* ---- the probe on the file system at hand ---- */

static void test_probe_real(void **state)
{
	struct fs_info fs;
	struct statvfs sv;
	struct statfs sf;
	struct m2d_error err;
	char missing[PATH_MAX];
	struct check_result res[FS_CHECK_COUNT];
	struct fs_estimate est = { .messages = 10, .folders = 2, .users = 1 };
	int worst;

	(void)state;
	assert_int_equal(fs_info_probe(top, NULL, &fs, &err), 0);
	assert_true(fs.exists);
	assert_string_equal(fs.probed, top);
	assert_int_equal(statvfs(top, &sv), 0);
	assert_int_equal(statfs(top, &sf), 0);
	assert_int_equal(fs.magic, (unsigned long long)sf.f_type & 0xFFFFFFFF);
	assert_int_equal(fs.files, sv.f_files);
	assert_int_equal(fs.bsize, sv.f_bsize);
	assert_true(fs.favail <= fs.files);
	assert_true(fs.bavail <= fs.blocks);
	/* free figures move a little between the two calls at most */
	assert_true(fs.blocks == sv.f_blocks);
	assert_true(fs.fstype[0] != '\0');	/* found in mountinfo */
	assert_true(fs.mountpoint[0] == '/');
	assert_int_equal(strncmp(top, fs.mountpoint, strlen(fs.mountpoint) > 1 ?
				 strlen(fs.mountpoint) : 0), 0);
	print_message("# %s: %s on %s (%s), magic %#llx, dir_nlink %d, "
		      "driver %d\n", top, fs.fstype, fs.mountpoint, fs.source,
		      fs.magic, fs.dir_nlink, (int)fs.driver);
	if (fs.magic == FS_MAGIC_EXT) {
		/* the superblock was read, or we say why not (a sandbox
		 * may refuse even root: EPERM) and assume the limit */
		bool assumed;

		print_message("# superblock: %s\n",
			      fs.super_errno == 0 ? "read" :
			      strerror(fs.super_errno));
		if (fs.super_errno == 0) {
			assert_true(fs.dir_nlink == 0 || fs.dir_nlink == 1);
		} else {
			assert_int_equal(fs.dir_nlink, -1);
			assert_int_equal(fs_subdir_limit(&fs, &assumed), 64998);
			assert_true(assumed);
		}
	}

	/* a target base that does not exist yet: its nearest ancestor */
	snprintf(missing, sizeof(missing), "%s/not/yet/there/", top);
	assert_int_equal(fs_info_probe(missing, NULL, &fs, &err), 0);
	assert_false(fs.exists);
	assert_string_equal(fs.probed, top);
	assert_string_equal(fs.path, missing);

	/* all three checks: a tiny migration passes anywhere usable */
	worst = fs_checks_run(missing, &est, NULL, res, NULL, &err);
	assert_int_equal(worst, CHECK_PASS);
	assert_string_equal(res[FS_CHECK_INODES].id, "inodes");
	assert_string_equal(res[FS_CHECK_SPACE].id, "space");
	assert_string_equal(res[FS_CHECK_SUBDIRS].id, "subdirs");

	/* a path we cannot stat */
	if (geteuid() != 0) {
		char p[PATH_MAX];

		pathf(p, sizeof(p), "closed");
		mkdir_rel("closed");
		chmod(p, 0);
		pathf(p, sizeof(p), "closed/x/y");
		assert_int_equal(fs_info_probe(p, NULL, &fs, &err), -1);
		assert_int_equal(err.sys_errno, EACCES);
		pathf(p, sizeof(p), "closed");
		chmod(p, 0700);
	}
}

/* ---- the probe on fake mountinfo, sysfs and superblock ---- */

static void make_super(const char *rel, bool magic, bool dir_nlink,
		       bool dir_index)
{
	unsigned char img[2048];

	memset(img, 0, sizeof(img));
	if (magic) {
		img[1024 + 0x38] = 0x53;
		img[1024 + 0x39] = 0xEF;
	}
	/* other feature bits set, to see that only ours are read */
	img[1024 + 0x5C] = 0x04 | (dir_index ? 0x20 : 0);	/* journal */
	img[1024 + 0x64] = 0x03 | (dir_nlink ? 0x20 : 0) | 0x40;
	img[1024 + 0x65] = 0x04;
	put(rel, (const char *)img, sizeof(img));
}

static const struct fake_case {
	const char *what;
	const char *fstype;
	bool magic, dir_nlink, dir_index;
	bool image;		/* the source exists */
	bool sysfs_ext4;	/* /sys/fs/ext4/NAME exists */
	bool sysfs_dev;		/* /sys/dev/block/M:m exists */
	const char *release;
	enum fs_ext_driver driver;
	int want_nlink, want_index, want_errno;
	long long limit;
} fake_cases[] = {
	{ "ext4 with dir_nlink", "ext4", true, true, true, true, true, true,
	  "6.1.0", FS_DRIVER_EXT4, 1, 1, 0, -1 },
	{ "ext4 without dir_nlink", "ext4", true, false, true, true, true,
	  true, "6.1.0", FS_DRIVER_EXT4, 0, 1, 0, 64998 },
	{ "ext3 on the ext4 driver (sysfs)", "ext3", true, false, true, true,
	  true, true, "3.10.0", FS_DRIVER_EXT4, 0, 1, 0, 64998 },
	{ "ext3 on the old driver (sysfs)", "ext3", true, true, true, true,
	  false, true, "3.10.0", FS_DRIVER_OLD, 1, 1, 0, 31998 },
	{ "ext2 on the old driver (sysfs)", "ext2", true, false, true, true,
	  false, true, "6.1.0", FS_DRIVER_OLD, 0, 1, 0, 31998 },
	{ "ext3, no sysfs, new kernel", "ext3", true, true, true, true,
	  false, false, "4.3.0", FS_DRIVER_EXT4, 1, 1, 0, -1 },
	{ "ext3, no sysfs, old kernel", "ext3", true, true, true, true,
	  false, false, "4.2.8", FS_DRIVER_UNKNOWN, 1, 1, 0, 31998 },
	{ "ext4 without dir_index", "ext4", true, true, false, true, true,
	  true, "6.1.0", FS_DRIVER_EXT4, 1, 0, 0, 64998 },
	{ "superblock without magic", "ext4", false, true, true, true, true,
	  true, "6.1.0", FS_DRIVER_EXT4, -1, -1, EINVAL, 64998 },
	{ "device missing", "ext4", true, true, true, false, true, true,
	  "6.1.0", FS_DRIVER_EXT4, -1, -1, ENOENT, 64998 },
};

static void test_probe_fake(void **state)
{
	struct statfs sf;
	struct stat st;
	char mi[PATH_MAX], sys[PATH_MAX], img[PATH_MAX], mnt[PATH_MAX];
	char p[PATH_MAX * 2], dev[32];

	(void)state;
	if (statfs(top, &sf) < 0 || (unsigned long long)sf.f_type != FS_MAGIC_EXT)
		skip();		/* the superblock is read for ext2/3/4 only */
	assert_int_equal(stat(top, &st), 0);
	snprintf(dev, sizeof(dev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	pathf(mi, sizeof(mi), "mountinfo");
	pathf(sys, sizeof(sys), "sys");
	pathf(img, sizeof(img), "dev img");	/* a space: \040 */
	mkdir_rel("with space");
	pathf(mnt, sizeof(mnt), "with space");

	for (size_t i = 0; i < N_ELEMENTS(fake_cases); i++) {
		const struct fake_case *c = &fake_cases[i];
		struct fs_probe probe = { .mountinfo = mi, .sysfs = sys,
					  .kernel_release = c->release };
		struct fs_info fs;
		struct m2d_error err;
		char line[PATH_MAX * 4], esc_mnt[PATH_MAX], esc_img[PATH_MAX];
		FILE *fp;

		print_message("# %s\n", c->what);
		(void)run("rm -rf '%s' '%s'", sys, img);
		if (c->image)
			make_super("dev img", c->magic, c->dir_nlink,
				   c->dir_index);
		if (c->sysfs_dev) {
			snprintf(p, sizeof(p), "%s/dev/block", sys);
			assert_int_equal(run("mkdir -p '%s'", p), 0);
			snprintf(p, sizeof(p), "%s/dev/block/%s", sys, dev);
			assert_int_equal(symlink("../../devices/virtual/block/"
						 "fakedev0", p), 0);
		}
		snprintf(p, sizeof(p), "%s/fs/ext4/%s", sys,
			 c->sysfs_ext4 ? "fakedev0" : "otherdev");
		assert_int_equal(run("mkdir -p '%s'", p), 0);

		/* mountinfo: "/" on another device, our directory on ours
		 * (escaped), a decoy deeper elsewhere */
		snprintf(esc_mnt, sizeof(esc_mnt), "%s", mnt);
		*strstr(esc_mnt, " ") = '\0';
		snprintf(esc_img, sizeof(esc_img), "%s", img);
		*strstr(esc_img, " ") = '\0';
		snprintf(line, sizeof(line),
			 "1 0 8:99 / / rw - xfs /dev/other rw\n"
			 "2 1 %s / %s\\040space rw shared:1 master:2 - %s "
			 "%s\\040img rw\n"
			 "3 1 0:50 / %s\\040space/deeper rw - tmpfs tmpfs rw\n",
			 dev, esc_mnt, c->fstype, esc_img, esc_mnt);
		fp = fopen(mi, "w");
		assert_non_null(fp);
		fputs(line, fp);
		fclose(fp);

		assert_int_equal(fs_info_probe(mnt, &probe, &fs, &err), 0);
		assert_string_equal(fs.mountpoint, mnt);
		assert_string_equal(fs.fstype, c->fstype);
		assert_string_equal(fs.source, img);
		assert_int_equal(fs.driver, c->driver);
		assert_int_equal(fs.dir_nlink, c->want_nlink);
		assert_int_equal(fs.dir_index, c->want_index);
		assert_int_equal(fs.super_errno, c->want_errno);
		assert_int_equal(fs_subdir_limit(&fs, NULL), c->limit);
	}

	/* mountinfo missing: no error, type unknown, magic still known */
	{
		struct fs_probe probe = { .mountinfo = "/nonexistent/mi",
					  .sysfs = "/nonexistent" };
		struct fs_info fs;
		struct m2d_error err;

		assert_int_equal(fs_info_probe(mnt, &probe, &fs, &err), 0);
		assert_string_equal(fs.fstype, "");
		assert_int_equal(fs.magic, FS_MAGIC_EXT);
		assert_int_equal(fs.super_errno, ENODEV);
		assert_int_equal(fs.dir_nlink, -1);
	}
}

/* ---- real file systems on loop devices (root only) ---- */

#define MAX_MOUNTS 8
static char mounted[MAX_MOUNTS][PATH_MAX];

static int loop_teardown(void **state)
{
	for (int i = 0; i < MAX_MOUNTS; i++) {
		if (mounted[i][0] != '\0')
			(void)run("umount '%s' 2>/dev/null", mounted[i]);
		mounted[i][0] = '\0';
	}
	return teardown(state);
}

static bool have(const char *prog)
{
	return run("command -v %s >/dev/null 2>&1", prog) == 0;
}

/* Make a SIZE_MB image with MKFS, mount it (loop); 0, or -1 when this
 * machine cannot. */
static int loop_fs(int slot, const char *name, int size_mb, const char *mkfs,
		   char *mnt, size_t size)
{
	char img[PATH_MAX];

	pathf(img, sizeof(img), name);
	snprintf(mnt, size, "%s/%s.mnt", top, name);
	if (run("truncate -s %dM '%s' && %s '%s' >/dev/null 2>&1 && "
		"mkdir '%s'", size_mb, img, mkfs, img, mnt) != 0)
		return -1;
	if (run("mount -o loop '%s' '%s' 2>/dev/null", img, mnt) != 0)
		return -1;
	snprintf(mounted[slot], sizeof(mounted[slot]), "%s", mnt);
	return 0;
}

static const struct real_case {
	const char *name, *prog, *mkfs;
	int size_mb;
	unsigned long long magic;
	const char *fstype;
	int dir_nlink;
	long long limit;
} real_cases[] = {
	{ "ext4", "mkfs.ext4", "mkfs.ext4 -q -F -N 512", 16, FS_MAGIC_EXT,
	  "ext4", 1, -1 },
	{ "ext4-nodirnlink", "mkfs.ext4",
	  "mkfs.ext4 -q -F -N 512 -O ^dir_nlink", 16, FS_MAGIC_EXT, "ext4", 0,
	  64998 },
	{ "ext3", "mkfs.ext3", "mkfs.ext3 -q -F -N 512", 16, FS_MAGIC_EXT,
	  "ext3", 0, 64998 },
	{ "ext2", "mkfs.ext2", "mkfs.ext2 -q -F -N 512", 16, FS_MAGIC_EXT,
	  "ext2", 0, 64998 },
	{ "xfs", "mkfs.xfs", "mkfs.xfs -q -f", 320, FS_MAGIC_XFS, "xfs", -1,
	  -1 },
	{ "btrfs", "mkfs.btrfs", "mkfs.btrfs -q -f", 128, FS_MAGIC_BTRFS,
	  "btrfs", -1, -1 },
};

static void test_real_loop(void **state)
{
	int done = 0;

	(void)state;
	if (geteuid() != 0 || !have("losetup") || !have("mount")) {
		print_message("# SKIP not root or no loop tools\n");
		skip();
	}
	for (size_t i = 0; i < N_ELEMENTS(real_cases); i++) {
		const struct real_case *c = &real_cases[i];
		char mnt[PATH_MAX], target[PATH_MAX * 2];
		struct fs_info fs;
		struct m2d_error err;
		struct check_result res[FS_CHECK_COUNT];
		struct statvfs sv;
		int worst;

		if (!have(c->prog)) {
			print_message("# SKIP %s: no %s\n", c->name, c->prog);
			continue;
		}
		if (loop_fs((int)i, c->name, c->size_mb, c->mkfs, mnt,
			    sizeof(mnt)) < 0) {
			print_message("# SKIP %s: cannot make or loop-mount\n",
				      c->name);
			continue;
		}
		print_message("# %s\n", c->name);
		snprintf(target, sizeof(target), "%s/data/mail2", mnt);
		assert_int_equal(fs_info_probe(target, NULL, &fs, &err), 0);
		assert_false(fs.exists);
		assert_string_equal(fs.probed, mnt);
		assert_string_equal(fs.mountpoint, mnt);
		assert_int_equal(fs.magic, c->magic);
		assert_string_equal(fs.fstype, c->fstype);
		assert_int_equal(strncmp(fs.source, "/dev/loop", 9), 0);
		assert_int_equal(statvfs(mnt, &sv), 0);
		assert_int_equal(fs.files, sv.f_files);
		if (c->magic == FS_MAGIC_EXT) {
			/* the ext4 driver runs all three today */
			assert_int_equal(fs.driver, FS_DRIVER_EXT4);
			assert_int_equal(fs.super_errno, 0);
			assert_int_equal(fs.dir_nlink, c->dir_nlink);
			assert_int_equal(fs.dir_index, 1);
			assert_int_equal(fs.files, 512);
		}
		assert_int_equal(fs_subdir_limit(&fs, NULL), c->limit);

		/* a small migration passes */
		struct fs_estimate small = { .messages = 20, .folders = 4,
					     .users = 2, .bytes = 20000,
					     .dir_entries = 2,
					     .user_folders = 3 };

		for (int k = 0; k < FS_EST_NBLOCK; k++)
			small.rounded[k] = 20 * (512ULL << k);
		worst = fs_checks_run(target, &small, NULL, res, &fs, &err);
		assert_int_equal(worst, CHECK_PASS);

		/* more messages than the file system has inodes, more bytes
		 * than it holds, more accounts than one directory takes */
		struct fs_estimate big = { .messages = 100000, .folders = 10,
					   .users = 70000,
					   .bytes = 10ULL << 30,
					   .dir_entries = 70000,
					   .user_folders = 3 };

		for (int k = 0; k < FS_EST_NBLOCK; k++)
			big.rounded[k] = 10ULL << 30;
		worst = fs_checks_run(target, &big, NULL, res, &fs, &err);
		assert_int_equal(worst, CHECK_FAIL);
		assert_int_equal(res[FS_CHECK_INODES].status,
				 c->magic == FS_MAGIC_BTRFS ? CHECK_PASS
							    : CHECK_FAIL);
		assert_int_equal(res[FS_CHECK_SPACE].status, CHECK_FAIL);
		assert_int_equal(res[FS_CHECK_SUBDIRS].status,
				 c->limit < 0 ? CHECK_PASS : CHECK_FAIL);
		print_message("#   %s\n#   %s\n#   %s\n",
			      res[0].detail, res[1].detail, res[2].detail);
		if (c->magic == FS_MAGIC_EXT)
			assert_non_null(strstr(res[FS_CHECK_INODES].fix,
					       "tune2fs cannot add inodes"));
		if (c->magic == FS_MAGIC_XFS)
			assert_non_null(strstr(res[FS_CHECK_INODES].fix,
					       "xfs_growfs -m"));
		assert_int_equal(run("umount '%s'", mnt), 0);
		mounted[i][0] = '\0';
		done++;
	}
	if (done == 0)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result),
		cmocka_unit_test_setup_teardown(test_scan_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_nul, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_rounding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_boundaries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_table_split, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_split_cases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_offsets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_random, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_estimate_plan, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_estimate_hashed, setup,
						teardown),
		cmocka_unit_test(test_inodes),
		cmocka_unit_test(test_space),
		cmocka_unit_test(test_subdir_limit),
		cmocka_unit_test(test_subdirs),
		cmocka_unit_test_setup_teardown(test_probe_real, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_probe_fake, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_real_loop, setup,
						loop_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
