/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mbox-append.c - the input is a maildir message file as a user may
 * leave it after cutover, appended to an mbox as rollback does
 * (mbox-append.h); the first byte: bit 0 the file is in new/, bit 1 the
 * mbox holds an old message first (its last line without a newline)
 *
 * The mbox then reads (mbox-reader, as UW splits it) as the old message
 * and exactly one more: its flags those of the file name (":2,FS") and
 * of new/ (\Recent), its From_ date the file's mtime, its UID 1 from the
 * X-IMAPbase and X-UID written into an empty mbox.  Whatever the message
 * holds ("From " lines, UW's own header fields, no header end, CRLF, NUL
 * bytes, lines beyond the buffers) cannot split it or move its status.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "maildir-reader.h"
#include "mbox-append.h"
#include "mbox-reader.h"

#define NAME "1700000000.M1P1.host:2,FS"
#define MTIME ((time_t)1099995072)	/* Tue Nov  9 10:11:12 2004 UTC */
#define OLD "From old Tue Nov  9 10:11:12 2004\nSubject: old\n\nno newline"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void put(const char *path, const void *data, size_t len)
{
	struct timespec ts[2] = { { MTIME, 0 }, { MTIME, 0 } };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(len == 0 || write(fd, data, len) == (ssize_t)len);
	FUZZ_CHECK(futimens(fd, ts) == 0);
	close(fd);
}

static void append(const char *dir, const char *mbox, bool old)
{
	struct mbox_append_target t = {
		.base = dir, .path = mbox,
		.mode = old ? MBOX_APPEND_WRITE : MBOX_APPEND_CREATE,
		.uid = (int)getuid(), .gid = (int)getgid(),
	};
	struct mbox_append_status st = {
		1, "X-IMAPbase: 1104922800 0000000001\n"
	};
	struct mbox_append_source src = { 0 };
	struct mbox_append_writer *w = NULL;
	struct maildir_reader md;
	struct mbox_append mb;
	struct m2d_error err;
	long long end;

	FUZZ_CHECK(maildir_reader_open(&md, dir, ".f",
				       MAILDIR_OPEN_UIDLIST_OPTIONAL, &err) == 1);
	FUZZ_CHECK(md.nfiles == 1);
	src.md = &md;
	src.owner = (int)getuid();
	if (old)
		st = (struct mbox_append_status){ 0, NULL };
	FUZZ_CHECK(mbox_append_open(&mb, &t, &err) == 0);
	FUZZ_CHECK(mbox_append_begin(&mb, &src, &w, &err) == 0);
	FUZZ_CHECK(mbox_append_message(w, &md.files[0], &st, &err) == 0);
	FUZZ_CHECK(mbox_append_finish(w, &end, &err) == 0);
	FUZZ_CHECK(end == (long long)mb.size ||
		   end > (long long)mb.size);
	mbox_append_writer_free(&w);
	mbox_append_close(&mb, false);
	maildir_reader_free(&md);
}

static void check(const char *mbox, bool old, bool in_new)
{
	struct mbox_reader *r;
	struct m2d_error err;
	struct mbox_msg msg;
	unsigned int want = UW_SEEN | UW_FLAGGED | (in_new ? 0 : UW_OLD);
	int rc, n = 0;

	FUZZ_CHECK(mbox_reader_open(AT_FDCWD, mbox, NULL, &r, &err) == 0);
	while ((rc = mbox_reader_next(r, &msg, &err)) > 0) {
		n++;
		if (n == (old ? 2 : 1)) {
			FUZZ_CHECK(msg.flags == want);
			FUZZ_CHECK(msg.from.date == MTIME);
			if (!old)
				FUZZ_CHECK(msg.uid == 1);
		}
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(n == (old ? 2 : 1));
	if (!old) {
		FUZZ_CHECK(mbox_reader_meta(r)->have_base);
		FUZZ_CHECK(mbox_reader_meta(r)->uidvalidity == 1104922800);
	}
	mbox_reader_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[512], path[700], mbox[600];
	bool in_new, old;

	if (size == 0)
		return 0;
	in_new = data[0] & 1;
	old = data[0] & 2;
	snprintf(dir, sizeof(dir), "%s", fuzz_dir());
	snprintf(path, sizeof(path), "%s/.f", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.f/cur", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.f/new", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.f/%s/%s", dir,
		 in_new ? "new" : "cur", NAME);
	put(path, data + 1, size - 1);
	snprintf(mbox, sizeof(mbox), "%s/mbox", dir);
	if (old)
		put(mbox, OLD, strlen(OLD));

	append(dir, mbox, old);
	check(mbox, old, in_new);

	unlink(mbox);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.f/cur", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.f/new", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.f", dir);
	rmdir(path);
	return 0;
}
