/* SPDX-License-Identifier: MIT */
/*
 * verify.c - does the maildir folder hold exactly what the mbox held?
 *
 * The i-th message of the mbox must be the i-th line of dovecot-uidlist,
 * with the UID UW's rules give it; the file that line names must hold the
 * message's bytes, carry its flags in its name and its date as mtime.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "convert-private.h"
#include "hash.h"
#include "maildir-reader.h"
#include "mbox-reader.h"
#include "safe-file.h"
#include "uw-uids.h"
#include "verify.h"
#include "i18n.h"

/* The folder as verify reads it: a dovecot-uidlist is required, read as
 * it is; a file that is not a regular one is listed (said below). */
static int target_open(struct maildir_reader *t, const char *maildir,
		       const char *dirname, struct m2d_error *err)
{
	int rc = maildir_reader_open(t, maildir, dirname, 0, err);

	return rc > 0 ? 0 : -1;	/* absent: ERR says so */
}

/* The checksum of the message file NAME below DIRFD into *HASH_R, its
 * stat into *ST: a regular file of a message's size, or -1 (ERR). */
static int file_hash(const struct maildir_reader *t, int dirfd, bool in_new,
		     const char *name, off_t max_size, uint64_t *hash_r,
		     struct stat *st, struct m2d_error *err)
{
	struct m2d_hash h;
	char buf[65536], path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", t->path,
		 in_new ? "new" : "cur", name);
	fd = sf_open_read(dirfd, name, max_size, st, path, err);
	if (fd < 0)
		return -1;
	m2d_hash_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			m2d_error_sys(err, "read", path);
			close(fd);
			return -1;
		}
		m2d_hash_update(&h, buf, (size_t)n);
	}
	close(fd);
	*hash_r = m2d_hash_final(&h);
	return 0;
}

static void differ(struct verify_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void differ(struct verify_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->differences++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(r->first, sizeof(r->first), fmt, ap);
	va_end(ap);
}

/* dovecot-keywords is not compared, but one Dovecot would choke on (a
 * FIFO, a symlink, a giant: 26 keywords fit in 1 MB) is said */
static void check_keywords(struct maildir_reader *t, struct verify_result *r)
{
	struct m2d_error kerr;

	if (maildir_reader_read_keywords(t, &kerr) < 0)
		differ(r, "%s: %s", kerr.path, kerr.msg);
}

/* A FIFO, symlink or device where messages are: said, not read; a file
 * no uidlist line names: not from the mbox. */
static void check_files(const struct maildir_reader *t,
			struct verify_result *r)
{
	for (size_t k = 0; k < t->nfiles; k++) {
		const struct maildir_file *f = &t->files[k];

		if (f->special)
			differ(r, _("%s/%s/%s: not a regular file (a FIFO, "
				    "symlink or device?): no message"),
			       t->path, f->in_new ? "new" : "cur", f->name);
		else if (maildir_reader_find_uid(t, f->base) == NULL)
			differ(r, _("%s/%s/%s: a file no line of "
				    "dovecot-uidlist names: not from the mbox"),
			       t->path, f->in_new ? "new" : "cur", f->name);
	}
}

/* Message MSG of the mbox (its UID by UW's rules, the checksum MSG_HASH
 * of its MSG_LEN bytes) against line I of the uidlist and its file. */
static void compare_message(const struct maildir_reader *t,
			    const struct mbox_msg *msg, unsigned long uid,
			    bool reset, bool trust, uint64_t msg_hash,
			    off_t msg_len, struct verify_result *result)
{
	unsigned long i = msg->seq - 1;
	const struct maildir_uid *line = &t->uids[i];
	const struct maildir_file *e;
	struct m2d_error ferr;
	struct stat st;
	uint64_t fh = 0;
	unsigned int flags, keywords;

	assert(i < t->nuids);
	if (!reset && trust && line->uid != uid) {
		differ(result, _("message %lu: UID %lu, expected %lu"),
		       msg->seq, line->uid, uid);
		return;
	}
	e = maildir_reader_file(t, line->base);
	if (e == NULL) {
		differ(result, _("message %lu: UID %lu has no file"),
		       msg->seq, line->uid);
		return;
	}
	/* a file larger than the message is not read: it differs */
	if (file_hash(t, e->in_new ? t->newfd : t->curfd, e->in_new, e->name,
		      msg_len > 0 ? msg_len : 1, &fh, &st, &ferr) < 0) {
		/* a FIFO, a symlink, a giant: not the message (the text
		 * raw: its reader escapes it, verify.h) */
		differ(result, _("message %lu: UID %lu: %s: %s"),
		       msg->seq, line->uid, ferr.path, ferr.msg);
		return;
	}
	if (fh != msg_hash) {
		differ(result, _("message %lu: UID %lu: the bytes differ"),
		       msg->seq, line->uid);
		return;
	}
	maildir_name_flags(e->name, &flags, &keywords);
	if (flags != convert_maildir_flags(msg->flags)) {
		char got[8], want[8];

		differ(result, _("message %lu: flags \"%s\", expected \"%s\""),
		       msg->seq, maildir_flags_str(flags, got),
		       maildir_flags_str(convert_maildir_flags(msg->flags),
					 want));
		return;
	}
	if (st.st_mtime != msg->from.date)
		differ(result, _("message %lu: date %lu, expected %lu"),
		       msg->seq, (unsigned long)st.st_mtime,
		       (unsigned long)msg->from.date);
}

/* The next chunk of the current message of SRC: 1, 0 at its end, -1. */
typedef int chunk_read_fn(void *src, const unsigned char **data_r,
			  size_t *len_r, struct m2d_error *err);

static int read_uw(void *src, const unsigned char **data_r, size_t *len_r,
		   struct m2d_error *err)
{
	return uw_src_read(src, data_r, len_r, err);
}

static int read_mbox(void *src, const unsigned char **data_r, size_t *len_r,
		     struct m2d_error *err)
{
	return mbox_reader_read(src, data_r, len_r, err);
}

/* The checksum and length of the message NEXT gives from SRC. */
static int hash_chunks(chunk_read_fn *next, void *src, uint64_t *hash_r,
		       off_t *len_r, struct m2d_error *err)
{
	const unsigned char *data;
	struct m2d_hash h;
	size_t len;
	int rc;

	*len_r = 0;
	m2d_hash_init(&h);
	while ((rc = next(src, &data, &len, err)) > 0) {
		m2d_hash_update(&h, data, len);
		*len_r += (off_t)len;
	}
	*hash_r = m2d_hash_final(&h);
	return rc;
}

/* Message SEQ of an mbx, mix or MMDF folder (or its spool) against line
 * SEQ of the uidlist: UID, bytes, flags, date. */
static void compare_uw(const struct maildir_reader *t, unsigned long seq,
		       unsigned long uid, unsigned int uw_flags, time_t date,
		       uint64_t msg_hash, off_t msg_len,
		       struct verify_result *result)
{
	const struct maildir_uid *line = &t->uids[seq - 1];
	const struct maildir_file *e;
	struct m2d_error ferr;
	struct stat st;
	uint64_t fh = 0;
	unsigned int flags, keywords;

	if (line->uid != uid) {
		differ(result, _("message %lu: UID %lu, expected %lu"), seq,
		       line->uid, uid);
		return;
	}
	e = maildir_reader_file(t, line->base);
	if (e == NULL) {
		differ(result, _("message %lu: UID %lu has no file"), seq,
		       line->uid);
		return;
	}
	if (file_hash(t, e->in_new ? t->newfd : t->curfd, e->in_new, e->name,
		      msg_len > 0 ? msg_len : 1, &fh, &st, &ferr) < 0) {
		differ(result, _("message %lu: UID %lu: %s: %s"), seq,
		       line->uid, ferr.path, ferr.msg);
		return;
	}
	if (fh != msg_hash) {
		differ(result, _("message %lu: UID %lu: the bytes differ"), seq,
		       line->uid);
		return;
	}
	maildir_name_flags(e->name, &flags, &keywords);
	if (flags != convert_maildir_flags(uw_flags)) {
		char got[8], want[8];

		differ(result, _("message %lu: flags \"%s\", expected \"%s\""),
		       seq, maildir_flags_str(flags, got),
		       maildir_flags_str(convert_maildir_flags(uw_flags),
					 want));
		return;
	}
	if (st.st_mtime != date)
		differ(result, _("message %lu: date %lu, expected %lu"), seq,
		       (unsigned long)st.st_mtime, (unsigned long)date);
}

/* The spool mbox after an mbx or mix INBOX: UIDs from *LAST + 1 on. */
static int compare_spool(const struct maildir_reader *t,
			 const struct verify_source *src, unsigned long *last,
			 struct verify_result *result, struct m2d_error *err);

static int compare_mbox(const struct maildir_reader *t, const char *mbox,
			bool mboxrd, struct verify_result *result,
			struct m2d_error *err)
{
	struct mbox_reader_settings set = { .mboxrd = mboxrd };
	struct mbox_reader *reader = NULL;
	struct uw_uids uids;
	struct mbox_msg msg;
	bool started = false;
	int rc;

	if (mbox_reader_open(AT_FDCWD, mbox, &set, &reader, err) < 0)
		return -1;
	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		unsigned long uid;
		uint64_t mh;
		off_t msg_len;
		bool reset;

		if (!started) {
			uw_uids_init(&uids, mbox_reader_meta(reader));
			started = true;
		}
		uid = uw_uids_next(&uids, &msg, &reset);
		result->source_messages++;
		rc = hash_chunks(read_mbox, reader, &mh, &msg_len, err);
		if (rc < 0)
			break;
		if (msg.seq - 1 < t->nuids)	/* else counted below */
			compare_message(t, &msg, uid, reset, uids.trust, mh,
					msg_len, result);
	}
	mbox_reader_close(&reader);
	return rc < 0 ? -1 : 0;
}

static int compare_spool(const struct maildir_reader *t,
			 const struct verify_source *src, unsigned long *last,
			 struct verify_result *result, struct m2d_error *err)
{
	const char *spool = src->spool;
	bool mboxrd = src->mboxrd;
	struct mbox_reader_settings set = { .mboxrd = mboxrd };
	struct mbox_reader *reader = NULL;
	struct mbox_msg msg;
	int rc;

	if (mbox_reader_open(AT_FDCWD, spool, &set, &reader, err) < 0)
		return errno == ENOENT ? 0 : -1;
	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		unsigned long seq;
		uint64_t mh;
		off_t len;

		if (!uw_snarf_moves(src->format, msg.flags))
			continue;
		seq = ++result->source_messages;
		if ((rc = hash_chunks(read_mbox, reader, &mh, &len, err)) < 0)
			break;
		++*last;
		if (seq - 1 < t->nuids)
			compare_uw(t, seq, *last, msg.flags, msg.from.date, mh,
				   len, result);
	}
	mbox_reader_close(&reader);
	return rc < 0 ? -1 : 0;
}

/* An mbx, mix or MMDF folder (and an INBOX's spool) against T. */
static int compare_uw_source(const struct maildir_reader *t,
			     const struct verify_source *src,
			     struct verify_result *result,
			     struct m2d_error *err)
{
	struct convert_settings set;
	const struct uw_folder *f;
	unsigned long last = 0;
	struct uw_src s;
	struct uw_msg msg;
	int rc;

	memset(&set, 0, sizeof(set));
	set.format = src->format;
	set.dry_run = true;		/* no dot-lock of ours: read only */
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	if (uw_src_open(&set, src->path, &s, err) < 0) {
		uw_src_close(&s);
		return -1;
	}
	while ((rc = uw_src_next(&s, &msg, err)) > 0) {
		unsigned long seq = ++result->source_messages;
		uint64_t mh;
		off_t len;

		if ((rc = hash_chunks(read_uw, &s, &mh, &len, err)) < 0)
			break;
		if (msg.uid > last)
			last = msg.uid;
		if (seq - 1 < t->nuids)
			compare_uw(t, seq, msg.uid, msg.flags, msg.date, mh, len,
				   result);
	}
	f = uw_src_folder(&s);
	if (rc == 0 && f->uidnext > last + 1)
		last = f->uidnext - 1;
	uw_src_close(&s);
	if (rc < 0)
		return -1;
	return src->spool != NULL ?
		compare_spool(t, src, &last, result, err) :
		0;
}

int verify_folder_source(const struct verify_source *src,
			 const char *maildir, const char *dirname,
			 struct verify_result *result, struct m2d_error *err)
{
	struct maildir_reader t;
	int ret = -1;

	if (src->format != UW_FMT_MBX && src->format != UW_FMT_MIX &&
	    src->format != UW_FMT_MMDF && src->spool == NULL)
		return verify_folder(src->path, maildir, dirname, src->mboxrd,
				     result, err);
	memset(result, 0, sizeof(*result));
	if (target_open(&t, maildir, dirname, err) < 0)
		goto out;
	result->target_messages = t.nuids;
	check_keywords(&t, result);
	check_files(&t, result);
	if (compare_uw_source(&t, src, result, err) < 0)
		goto out;
	if (result->source_messages != result->target_messages)
		differ(result, _("%lu messages in the source, %lu in the "
				 "maildir"), result->source_messages,
		       result->target_messages);
	ret = result->differences > 0 ? 1 : 0;
out:
	maildir_reader_free(&t);
	return ret;
}

int verify_folder(const char *mbox, const char *maildir, const char *dirname,
		  bool mboxrd, struct verify_result *result,
		  struct m2d_error *err)
{
	struct maildir_reader t;
	int ret = -1;

	memset(result, 0, sizeof(*result));
	if (target_open(&t, maildir, dirname, err) < 0)
		goto out;
	result->target_messages = t.nuids;
	check_keywords(&t, result);
	check_files(&t, result);
	if (compare_mbox(&t, mbox, mboxrd, result, err) < 0)
		goto out;
	if (result->source_messages != result->target_messages)
		differ(result, _("%lu messages in the mbox, %lu in the "
				 "maildir"), result->source_messages,
		       result->target_messages);
	ret = result->differences > 0 ? 1 : 0;
out:
	maildir_reader_free(&t);
	return ret;
}
