/* SPDX-License-Identifier: MIT */
/* test-uw-formats.c - the mbx and mix readers (mbx-reader.h, mix-reader.h)
 * where c-client cannot show the answer (tests/integration/
 * test-uw-formats.py compares them with c-client): UW's locks respected,
 * no symlink followed, sparse files refused, the source never written,
 * expunged messages never handed out, the formats told apart, dates and
 * the records c-client refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbx-reader.h"
#include "mix-reader.h"
#include "mmdf-reader.h"
#include "test-util.h"

static char dir[256];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m2d-test-uw-formats-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	alarm(30);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	alarm(0);
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_at(const char *name, const void *data, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* An mbx file as c-client writes one: keywords "Junk" and "Work", then
 * three messages, the second expunged in place, the third without a UID
 * yet (so \Recent, and UID 8 after the header's last UID 7). */
static const char msg1[] = "Subject: one\r\n\r\nbody\r\n";
static const char msg2[] = "Subject: gone\r\n\r\n";
static const char msg3[] = "Subject: three\r\n";

static size_t make_mbx(char *buf, size_t size)
{
	size_t n;

	memset(buf, 0, 2048);
	n = (size_t)snprintf(buf, 2048, "*mbx*\r\n%08x%08x\r\nJunk\r\nWork"
			     "\r\n\r\n", 0x4f000000, 7);
	(void)n;
	n = 2048;
	n += (size_t)snprintf(buf + n, size - n,
			      " 7-Dec-2026 10:00:00 +0200,%zu;%08x%04x-%08x"
			      "\r\n%s", strlen(msg1), 0x2, 0x15, 5, msg1);
	n += (size_t)snprintf(buf + n, size - n,
			      "08-Dec-2026 10:00:00 +0000,%zu;%08x%04x-%08x"
			      "\r\n%s", strlen(msg2), 0x0, 0x8013, 6, msg2);
	n += (size_t)snprintf(buf + n, size - n,
			      " 1-Jan-2001 00:00:00 -0500,%zu;%08x%04x-%08x"
			      "\r\n%s", strlen(msg3), 0x3, 0x4, 0, msg3);
	return n;
}

static void read_msg(struct mbx_reader *r, char *out, size_t size)
{
	struct m2d_error err;
	const unsigned char *d;
	size_t len, n = 0;
	int rc;

	while ((rc = mbx_reader_read(r, &d, &len, &err)) > 0) {
		assert_true(n + len < size);
		memcpy(out + n, d, len);
		n += len;
	}
	assert_int_equal(rc, 0);
	out[n] = '\0';
}

static void test_mbx(void **state)
{
	char buf[4096], text[256];
	struct mbx_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	struct stat st0, st1;
	size_t n = make_mbx(buf, sizeof(buf));

	(void)state;
	write_at("box", buf, n);
	assert_int_equal(fstatat(dfd, "box", &st0, 0), 0);
	assert_int_equal(mbx_reader_open(dfd, "box", NULL, &r, &err), 0);
	assert_int_equal(mbx_reader_folder(r)->uidvalidity, 0x4f000000);
	assert_int_equal(mbx_reader_folder(r)->uidnext, 9);
	assert_string_equal(mbx_reader_folder(r)->keywords, "Junk Work");
	assert_false(mbx_reader_folder(r)->uid_reset);

	assert_int_equal(mbx_reader_next(r, &m, &err), 1);
	assert_int_equal(m.seq, 1);
	assert_int_equal(m.uid, 5);
	assert_int_equal(m.flags, UW_SEEN | UW_FLAGGED | UW_OLD);
	assert_string_equal(m.keywords, "Work");
	assert_int_equal(m.date, 1796630400);
	assert_int_equal(m.tz_offset, 120);
	assert_int_equal(m.size, strlen(msg1));
	read_msg(r, text, sizeof(text));
	assert_string_equal(text, msg1);

	/* the expunged one is skipped; the last gets the next UID */
	assert_int_equal(mbx_reader_next(r, &m, &err), 1);
	assert_int_equal(m.seq, 2);
	assert_int_equal(m.uid, 8);
	assert_int_equal(m.flags, UW_FLAGGED);		/* \Recent */
	assert_string_equal(m.keywords, "Junk Work");
	assert_int_equal(m.date, 978325200);
	read_msg(r, text, sizeof(text));
	assert_string_equal(text, msg3);
	assert_int_equal(mbx_reader_next(r, &m, &err), 0);
	mbx_reader_close(&r);

	/* never written */
	assert_int_equal(fstatat(dfd, "box", &st1, 0), 0);
	assert_int_equal(st1.st_size, st0.st_size);
	assert_int_equal(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	assert_int_equal(st1.st_mtim.tv_sec, st0.st_mtim.tv_sec);
}

static void test_mbx_uid_reset(void **state)
{
	char buf[4096];
	struct mbx_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	size_t n = make_mbx(buf, sizeof(buf));
	char *p = strstr(buf + 2048, "-00000005");

	(void)state;
	/* UID 9 beyond the last UID 7: c-client renumbers from there */
	memcpy(p, "-00000009", 9);
	write_at("box", buf, n);
	assert_int_equal(mbx_reader_open(dfd, "box", NULL, &r, &err), 0);
	assert_true(mbx_reader_folder(r)->uid_reset);
	assert_int_equal(mbx_reader_next(r, &m, &err), 1);
	assert_int_equal(m.uid, 1);
	assert_false(m.flags & UW_OLD);
	assert_int_equal(mbx_reader_next(r, &m, &err), 1);
	assert_int_equal(m.uid, 3);	/* 2 went to the expunged one */
	assert_int_equal(mbx_reader_folder(r)->uidnext, 4);
	mbx_reader_close(&r);
}

static void test_mbx_refused(void **state)
{
	char buf[4096];
	struct mbx_reader *r;
	struct m2d_error err;
	size_t n = make_mbx(buf, sizeof(buf));
	int fd;

	(void)state;
	write_at("box", buf, n);
	/* a symlink is not followed */
	assert_int_equal(symlinkat("box", dfd, "link"), 0);
	assert_int_equal(mbx_reader_open(dfd, "link", NULL, &r, &err), -1);
	assert_null(r);
	/* a message that runs past the end */
	write_at("short", buf, n - 1);
	assert_int_equal(mbx_reader_open(dfd, "short", NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_MALFORMED);
	/* not mbx */
	write_at("plain", "From a Tue Nov  9 10:11:12 2004\n\n", 33);
	assert_int_equal(mbx_reader_open(dfd, "plain", NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_NOT_MBOX);
	/* sparse: a hole before the last message's bytes */
	fd = openat(dfd, "sparse", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 2048), 2048);
	{
		char line[128];
		int len = snprintf(line, sizeof(line), " 7-Dec-2026 10:00:00 "
				   "+0000,%d;000000000010-00000001\r\n",
				   8 * 1024 * 1024);

		assert_int_equal(write(fd, line, (size_t)len), len);
		assert_int_equal(ftruncate(fd, 2048 + len + 8 * 1024 * 1024),
				 0);
	}
	close(fd);
	assert_int_equal(mbx_reader_open(dfd, "sparse", NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	/* an exclusive flock (a rewrite under way) is waited for, then
	 * refused */
	fd = openat(dfd, "box", O_RDONLY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	{
		struct uw_reader_settings set = { .lock_wait_ms = 200 };

		assert_int_equal(mbx_reader_open(dfd, "box", &set, &r, &err),
				 -1);
		assert_int_equal(err.code, M2D_ERR_LOCKED);
	}
	/* a shared one (another reader, c-client itself) is not in the
	 * way, and ours keeps a rewrite out */
	assert_int_equal(flock(fd, LOCK_SH), 0);
	assert_int_equal(mbx_reader_open(dfd, "box", NULL, &r, &err), 0);
	{
		int fd2 = openat(dfd, "box", O_RDONLY);

		assert_int_equal(flock(fd2, LOCK_EX | LOCK_NB), -1);
		close(fd2);
	}
	mbx_reader_close(&r);
	close(fd);
}

static void put_at(const char *name, const char *text)
{
	write_at(name, text, strlen(text));
}

static void make_mix(const char *status)
{
	char data[512];
	size_t n = 0;

	assert_int_equal(mkdirat(dfd, "mix", 0700), 0);
	put_at("mix/.mixmeta", "S6b000003\r\nV6b000000\r\nL00000004\r\n"
	       "N6b000000\r\nKJunk Work\r\n");
	/* message 2 was expunged: its bytes stay, the index lists 1 and 3 */
	n += (size_t)sprintf(data + n, ":msg:00000001:20261207100000+0200:"
			     "%08zx:\r\n%s", strlen(msg1), msg1);
	n += (size_t)sprintf(data + n, ":msg:00000002:20261207100000+0200:"
			     "%08zx:\r\n%s", strlen(msg2), msg2);
	n += (size_t)sprintf(data + n, ":msg:00000003:20010101000000-0500:"
			     "%08zx:\r\n%s", strlen(msg3), msg3);
	write_at("mix/.mix6b000000", data, n);
	put_at("mix/.mixindex", "S6b000002\r\n"
	       ":00000001:20261207100000+0200:00000016:6b000000:00000000:"
	       "0000002d:00000010:\r\n"
	       ":00000003:20010101000000-0500:00000010:6b000000:00000081:"
	       "0000002d:00000010:\r\n");
	put_at("mix/.mixstatus", status);
}

static void test_mix(void **state)
{
	struct mix_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	const unsigned char *d;
	size_t len;

	(void)state;
	make_mix("S6b000004\r\n:00000001:00000002:0011:6b000001:\r\n"
		 ":00000003:00000003:0024:6b000004:\r\n");
	assert_int_equal(mix_reader_open(dfd, "mix", NULL, &r, &err), 0);
	assert_int_equal(mix_reader_folder(r)->uidvalidity, 0x6b000000);
	assert_int_equal(mix_reader_folder(r)->uidnext, 5);
	assert_string_equal(mix_reader_folder(r)->keywords, "Junk Work");
	assert_int_equal(mix_reader_count(r), 2);
	assert_int_equal(mix_reader_next(r, &m, &err), 1);
	assert_int_equal(m.uid, 1);
	assert_int_equal(m.flags, UW_SEEN | UW_OLD);
	assert_string_equal(m.keywords, "Work");
	assert_int_equal(m.date, 1796630400);
	assert_int_equal(mix_reader_read(r, &d, &len, &err), 1);
	assert_int_equal(len, strlen(msg1));
	assert_memory_equal(d, msg1, len);
	assert_int_equal(mix_reader_read(r, &d, &len, &err), 0);
	assert_int_equal(mix_reader_next(r, &m, &err), 1);
	assert_int_equal(m.uid, 3);
	assert_int_equal(m.flags, UW_DRAFT | UW_FLAGGED);	/* \Recent */
	assert_string_equal(m.keywords, "Junk Work");
	assert_int_equal(m.date, 978325200);
	assert_int_equal(mix_reader_read(r, &d, &len, &err), 1);
	assert_memory_equal(d, msg3, len);
	assert_int_equal(mix_reader_next(r, &m, &err), 0);
	mix_reader_close(&r);
}

static void test_mix_refused(void **state)
{
	struct mix_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	int fd;

	(void)state;
	make_mix("S1\r\n");
	/* the metadata under an exclusive flock: waited for, refused */
	fd = openat(dfd, "mix/.mixmeta", O_RDONLY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	{
		struct uw_reader_settings set = { .lock_wait_ms = 200 };

		assert_int_equal(mix_reader_open(dfd, "mix", &set, &r, &err),
				 -1);
		assert_int_equal(err.code, M2D_ERR_LOCKED);
	}
	close(fd);
	/* no status records: no flags, \Recent */
	assert_int_equal(mix_reader_open(dfd, "mix", NULL, &r, &err), 0);
	assert_int_equal(mix_reader_next(r, &m, &err), 1);
	assert_int_equal(m.flags, 0);
	mix_reader_close(&r);
	/* a data file that is a symlink is not followed */
	assert_int_equal(renameat(dfd, "mix/.mix6b000000", dfd, "data"), 0);
	assert_int_equal(symlinkat("../data", dfd, "mix/.mix6b000000"), 0);
	assert_int_equal(mix_reader_open(dfd, "mix", NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_UNSAFE);
	/* missing: c-client refuses the folder */
	assert_int_equal(unlinkat(dfd, "mix/.mix6b000000", 0), 0);
	assert_int_equal(mix_reader_open(dfd, "mix", NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_MALFORMED);
	/* the directory itself a symlink */
	assert_int_equal(symlinkat("mix", dfd, "mixlink"), 0);
	assert_int_equal(mix_reader_open(dfd, "mixlink", NULL, &r, &err), -1);
	/* records c-client refuses */
	assert_int_equal(mix_reader_parse("S1\r\nV0\r\n", NULL, NULL, &r,
					  &err), -1);
	assert_int_equal(err.code, M2D_ERR_MALFORMED);
	assert_int_equal(mix_reader_parse("S1\r\nV1\r\n", "S1\r\n:0:\r\n",
					  NULL, &r, &err), -1);
	assert_int_equal(err.line, 2);
	assert_int_equal(mix_reader_parse("S1\r\nV1\r\n", "X\r\n", NULL, &r,
					  &err), -1);
	/* an unterminated K line is not read (only CRLF lines count) */
	assert_int_equal(mix_reader_parse("S1\r\nV1\r\nKJunk", NULL, NULL,
					  &r, &err), 0);
	assert_string_equal(mix_reader_folder(r)->keywords, "");
	mix_reader_close(&r);
}

static const char mmdf[] =
	"\1\1\1\1\nFrom MAILER-DAEMON Tue Nov  9 10:11:12 2004\n"
	"X-IMAP: 1100000000 0000000007 Junk Work\nStatus: RO\n\npseudo\n"
	"\1\1\1\1\n"
	"\1\1\1\1\nFrom a Tue Nov  9 10:11:12 2004 -0500\nSubject: one\n"
	"X-UID: 4\nX-Keywords: work JUNK other\nStatus: O\nX-Status: FT\n"
	"x-status: ignored\n\tand its continuation\n\nFrom here\r\n\r\n"
	"\1\1\1\1\n"
	"\1\1\1\1\nSubject: two\n\nbody\n\1\1\1\1\n";

static void test_mmdf(void **state)
{
	struct mmdf_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	struct stat st0, st1;
	const unsigned char *d;
	char text[256];
	size_t len, n;
	int fd;

	(void)state;
	write_at("mmdf", mmdf, strlen(mmdf));
	assert_int_equal(fstatat(dfd, "mmdf", &st0, 0), 0);
	assert_int_equal(mmdf_reader_open(dfd, "mmdf", NULL, &r, &err), 0);
	assert_int_equal(mmdf_reader_folder(r)->uidvalidity, 1100000000);
	assert_int_equal(mmdf_reader_folder(r)->uidnext, 9);
	assert_string_equal(mmdf_reader_folder(r)->keywords, "Junk Work");
	/* the pseudo-message is not mail */
	assert_int_equal(mmdf_reader_next(r, &m, &err), 1);
	assert_int_equal(m.uid, 4);
	assert_int_equal(m.flags, UW_OLD | UW_FLAGGED | UW_DRAFT);
	assert_string_equal(m.keywords, "Junk Work");
	assert_int_equal(m.date, 1100013072);
	for (n = 0; mmdf_reader_read(r, &d, &len, &err) > 0; n += len)
		memcpy(text + n, d, len);
	text[n] = '\0';
	assert_string_equal(text, "Subject: one\r\n\r\nFrom here\r\n\r\n");
	assert_int_equal(m.size, n);
	/* no From_ line: INTERNALDATE is the file's mtime; UID 8 next */
	assert_int_equal(mmdf_reader_next(r, &m, &err), 1);
	assert_int_equal(m.uid, 8);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.date, st0.st_mtime);
	assert_int_equal(mmdf_reader_next(r, &m, &err), 0);
	mmdf_reader_close(&r);
	assert_int_equal(fstatat(dfd, "mmdf", &st1, 0), 0);
	assert_int_equal(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	assert_int_equal(st1.st_size, st0.st_size);

	/* refused: a symlink, not MMDF, an exclusive flock held */
	assert_int_equal(symlinkat("mmdf", dfd, "link"), 0);
	assert_int_equal(mmdf_reader_open(dfd, "link", NULL, &r, &err), -1);
	write_at("plain", "From a Tue Nov  9 10:11:12 2004\n\n", 33);
	assert_int_equal(mmdf_reader_open(dfd, "plain", NULL, &r, &err), -1);
	assert_int_equal(err.code, M2D_ERR_NOT_MBOX);
	fd = openat(dfd, "mmdf", O_RDONLY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	{
		struct uw_reader_settings set = { .lock_wait_ms = 200 };

		assert_int_equal(mmdf_reader_open(dfd, "mmdf", &set, &r,
						  &err), -1);
		assert_int_equal(err.code, M2D_ERR_LOCKED);
	}
	close(fd);
	/* an empty file is an empty folder */
	write_at("empty", "", 0);
	assert_int_equal(mmdf_reader_open(dfd, "empty", NULL, &r, &err), 0);
	assert_int_equal(mmdf_reader_next(r, &m, &err), 0);
	mmdf_reader_close(&r);
}

static void test_detect(void **state)
{
	static const struct {
		const char *head;
		enum uw_format fmt;
	} t[] = {
		{ "\1\1\1\1\nFrom a Tue Nov  9 10:11:12 2004\n", UW_FMT_MMDF },
		{ "From a Tue Nov  9 10:11:12 2004\n", UW_FMT_MBOX },
		{ "\n\nFrom a Tue Nov  9 10:11:12 2004\n", UW_FMT_MBOX },
		{ " 7-Dec-2026 10:00:00 +0200,18;000000000001\n",
		  UW_FMT_TENEX },
		{ "07-Dec-2026 10:00:00 +0200,18;000000000001\r\n",
		  UW_FMT_MTX },
		{ "Subject: no\n", UW_FMT_UNKNOWN },
		{ "*mbx*\r\n", UW_FMT_UNKNOWN },	/* too short */
		{ "", UW_FMT_UNKNOWN },
	};
	char buf[4096];
	enum uw_format fmt;
	struct m2d_error err;
	size_t i, n = make_mbx(buf, sizeof(buf));

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(uw_format_of_head(t[i].head,
						   strlen(t[i].head)),
				 t[i].fmt);
	assert_int_equal(uw_format_of_head(buf, n), UW_FMT_MBX);
	write_at("box", buf, n);
	assert_int_equal(uw_format_detect(dfd, "box", NULL, &fmt, &err), 1);
	assert_int_equal(fmt, UW_FMT_MBX);
	make_mix("S1\r\n");
	assert_int_equal(uw_format_detect(dfd, "mix", NULL, &fmt, &err), 1);
	assert_int_equal(fmt, UW_FMT_MIX);
	assert_true(uw_mix_internal_name(".mixindex"));
	assert_false(uw_mix_internal_name(".mailboxlist"));
	assert_string_equal(uw_format_name(UW_FMT_MMDF), "mmdf");
}

static void test_dates(void **state)
{
	time_t t;
	int tz;

	(void)state;
	assert_int_equal(uw_parse_imap_date(" 7-Dec-2026 10:00:00 +0200", 26,
					    &t, &tz), 1);
	assert_int_equal(t, 1796630400);
	assert_int_equal(tz, 120);
	assert_int_equal(uw_parse_imap_date("01-jan-1970 00:00:00 +0100", 26,
					    &t, &tz), 1);
	assert_int_equal(t, 0);		/* c-client: not before 1970 UTC */
	assert_int_equal(uw_parse_imap_date("29-Feb-2000 23:59:60 -1200", 26,
					    &t, &tz), 1);
	assert_int_equal(t, 951868799 + 1 + 12 * 3600);
	assert_int_equal(uw_parse_imap_date("32-Jan-2000 00:00:00 +0000", 26,
					    &t, &tz), 0);
	assert_int_equal(uw_parse_imap_date("1-Foo-2000 00:00:00 +0000", 25,
					    &t, &tz), 0);
	assert_int_equal(uw_parse_imap_date("1-Jan-1969 00:00:00 +0000", 25,
					    &t, &tz), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mbx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mbx_uid_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbx_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mix_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmdf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
