/* SPDX-License-Identifier: MIT */
/*
 * convert-uw.c - a folder in UW's mbx, mix or MMDF format into one
 * maildir folder (convert.h)
 *
 * The readers (mbx-reader.h, mix-reader.h, mmdf-reader.h) hand out each
 * message ready: its bytes as c-client served them, UID, flags,
 * keywords, INTERNALDATE; the folder its UIDVALIDITY, UIDNEXT and
 * declared keywords.  Here they go through the same maildir writer as
 * an mbox.  An mbx or mix INBOX may have a spool file whose mail UW
 * would have moved in next: it follows, with the UIDs UW would have
 * given it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert-private.h"
#include "dotlock.h"
#include "mbx-reader.h"
#include "mix-reader.h"
#include "mmdf-reader.h"
#include "safe-file.h"
#include "xalloc.h"
#include "i18n.h"

/* ------------------------------------------------------------------ */
/* The identity of a source                                          */

static void id_add(struct m2d_hash *h, const char *name,
		   const struct stat *st)
{
	long long v[6] = {
		(long long)st->st_ino, (long long)st->st_size,
		(long long)st->st_mtim.tv_sec, (long long)st->st_mtim.tv_nsec,
		(long long)st->st_ctim.tv_sec, (long long)st->st_ctim.tv_nsec,
	};

	m2d_hash_update(h, name, strlen(name) + 1);
	m2d_hash_update(h, v, sizeof(v));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A mix directory's .mix* files, by name: into H, sizes into *SIZE. */
static int id_mix(const char *dir, struct m2d_hash *h, long long *size)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	struct stat st;
	DIR *dp;
	struct m2d_error err;
	int fd = sf_open_dir(AT_FDCWD, dir, dir, &err);

	if (fd < 0 || (dp = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (!uw_mix_internal_name(d->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(d->d_name);
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		if (fstatat(dirfd(dp), names[i], &st,
			    AT_SYMLINK_NOFOLLOW) == 0) {
			id_add(h, names[i], &st);
			*size += (long long)st.st_size;
		}
		free(names[i]);
	}
	free(names);
	closedir(dp);
	return 0;
}

int convert_source_identity(const char *source, enum uw_format format,
			    const char *spool, struct convert_stats *stats)
{
	struct m2d_hash h;
	struct stat st;
	long long size = 0;

	m2d_hash_init(&h);
	if (lstat(source, &st) < 0)
		return -1;
	if ((format == UW_FMT_MIX) != (S_ISDIR(st.st_mode) != 0) ||
	    !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		errno = EINVAL;
		return -1;
	}
	stats->dev = (unsigned long long)st.st_dev;
	stats->ino = (unsigned long long)st.st_ino;
	stats->mtime_sec = (long long)st.st_mtim.tv_sec;
	stats->mtime_nsec = (long long)st.st_mtim.tv_nsec;
	id_add(&h, "", &st);
	if (format == UW_FMT_MIX) {
		if (id_mix(source, &h, &size) < 0)
			return -1;
	} else {
		size = (long long)st.st_size;
	}
	if (spool != NULL && lstat(spool, &st) == 0) {
		id_add(&h, "spool", &st);
		size += (long long)st.st_size;
	}
	stats->source_size = size;
	stats->checksum = m2d_hash_final(&h);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                            */

int uw_src_open(const struct convert_settings *set, const char *path,
		struct uw_src *s, struct m2d_error *err)
{
	struct uw_reader_settings rset;
	int parent = -1, ret = -1;
	const char *name;

	memset(&rset, 0, sizeof(rset));
	rset.max_message = set->max_message_size;
	rset.allow_sparse = set->allow_sparse;
	s->fmt = set->format;
	if (s->fmt == UW_FMT_MIX) {
		/* the directory, safely; its files by the reader below it */
		s->fd = convert_open_source(set, path, O_RDONLY | O_DIRECTORY |
					    O_CLOEXEC, false, false, &s->lock,
					    &parent, err);
		if (s->fd < 0)
			return -1;
		name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 :
			path;
		if (fstat(s->fd, &s->st) < 0)
			ret = m2d_error_sys(err, "fstat", path);
		else
			ret = mix_reader_open(parent, name, &rset, &s->mix,
					      err);
		close(parent);
		return ret;
	}
	/* mbx: UW's shared flock (the reader's); MMDF: the mbox locks too */
	s->fd = convert_open_source(set, path, O_RDONLY | O_NOCTTY |
				    O_NONBLOCK, s->fmt == UW_FMT_MMDF,
				    set->dotlock && !set->dry_run, &s->lock,
				    NULL, err);
	if (s->fd < 0)
		return -1;
	if (fstat(s->fd, &s->st) < 0)
		return m2d_error_sys(err, "fstat", path);
	if (s->fmt == UW_FMT_MBX)
		return mbx_reader_open_fd(s->fd, path, &rset, &s->mbx, err);
	return mmdf_reader_open_fd(s->fd, path, &rset, &s->mmdf, err);
}

const struct uw_folder *uw_src_folder(const struct uw_src *s)
{
	if (s->mbx != NULL)
		return mbx_reader_folder(s->mbx);
	if (s->mix != NULL)
		return mix_reader_folder(s->mix);
	return mmdf_reader_folder(s->mmdf);
}

int uw_src_next(struct uw_src *s, struct uw_msg *msg, struct m2d_error *err)
{
	if (s->mbx != NULL)
		return mbx_reader_next(s->mbx, msg, err);
	if (s->mix != NULL)
		return mix_reader_next(s->mix, msg, err);
	return mmdf_reader_next(s->mmdf, msg, err);
}

int uw_src_read(struct uw_src *s, const unsigned char **data_r,
		size_t *len_r, struct m2d_error *err)
{
	if (s->mbx != NULL)
		return mbx_reader_read(s->mbx, data_r, len_r, err);
	if (s->mix != NULL)
		return mix_reader_read(s->mix, data_r, len_r, err);
	return mmdf_reader_read(s->mmdf, data_r, len_r, err);
}

void uw_src_close(struct uw_src *s)
{
	mbx_reader_close(&s->mbx);
	mix_reader_close(&s->mix);
	mmdf_reader_close(&s->mmdf);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	dotlock_release(&s->lock);
}

/* ------------------------------------------------------------------ */
/* Writing                                                            */

/* One message: its bytes from READ (a uw_src or the spool's reader). */
typedef int msg_read_fn(void *src, const unsigned char **data_r,
			size_t *len_r, struct m2d_error *err);

static int write_msg(struct convert_ctx *c, const struct maildir_msg_info *info,
		     msg_read_fn *read_fn, void *src, struct m2d_error *err)
{
	const unsigned char *data;
	size_t len;
	int rc;

	if (c->set->dry_run) {
		while ((rc = read_fn(src, &data, &len, err)) > 0)
			c->stats->bytes += len;
		return rc;
	}
	if (maildir_msg_begin(c->folder, err) < 0)
		return -1;
	while ((rc = read_fn(src, &data, &len, err)) > 0) {
		if (maildir_msg_write(c->folder, data, len, err) < 0)
			return -1;
	}
	if (rc < 0 || maildir_msg_finish(c->folder, info, err) < 0)
		return -1;
	c->stats->bytes = maildir_folder_bytes(c->folder);
	return 0;
}

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

static bool cancelled(struct convert_ctx *c, struct m2d_error *err)
{
	if (c->set->cancel == NULL || !*c->set->cancel)
		return false;
	m2d_error_set(err, M2D_ERR_CANCELLED, c->mbox,
		      _("cancelled; nothing was written"));
	return true;
}

static void counted(struct convert_ctx *c)
{
	c->stats->messages++;
	if (c->stats->messages % PROGRESS_EVERY == 0)
		convert_progress(c);
}

/* Every live message of S; *LAST_R the highest UID. */
static int copy_uw(struct convert_ctx *c, struct uw_src *s,
		   unsigned long *last_r, struct m2d_error *err)
{
	struct maildir_msg_info info;
	struct mbox_msg where;
	struct uw_msg msg;
	int rc;

	memset(&where, 0, sizeof(where));
	while ((rc = uw_src_next(s, &msg, err)) > 0) {
		if (cancelled(c, err))
			return -1;
		memset(&info, 0, sizeof(info));
		info.uid = msg.uid;
		info.flags = convert_maildir_flags(msg.flags);
		info.recent = (msg.flags & UW_OLD) == 0;
		info.date = msg.date;
		where.seq = msg.seq;
		where.offset = msg.offset;
		if (!c->set->dry_run)
			info.keywords = convert_keyword_bits(c, msg.keywords,
							     &where);
		if (write_msg(c, &info, read_uw, s, err) < 0)
			return -1;
		if (msg.uid > *last_r)
			*last_r = msg.uid;
		counted(c);
	}
	return rc;
}

/*
 * The spool mbox's messages after the folder's, as UW's snarf (mbx_snarf,
 * mix_snarf) would have moved them in: UIDs from *LAST_R + 1 on, the
 * system flags of their Status / X-Status, no keywords, \Recent, their
 * From_ line dates, the bytes the mbox driver served.  Read under the
 * mbox locks.  mbx_snarf copies a message marked \Deleted with its flag;
 * mix_snarf leaves it out and copies \Seen \Flagged \Answered \Draft
 * only (c-client's mix.c), so a mix INBOX never gets it.
 */
static int copy_spool(struct convert_ctx *c, unsigned long *last_r,
		      struct m2d_error *err)
{
	struct mbox_reader_settings rset;
	struct mbox_reader *reader = NULL;
	struct maildir_msg_info info;
	struct dotlock *lock = NULL;
	struct mbox_msg msg;
	int fd, rc = -1;

	fd = convert_open_source(c->set, c->set->spool, O_RDONLY | O_NOCTTY |
				 O_NONBLOCK, true,
				 c->set->dotlock && !c->set->dry_run, &lock,
				 NULL, err);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;	/* no new mail */
	memset(&rset, 0, sizeof(rset));
	rset.mboxrd = c->set->mboxrd;
	rset.max_message = c->set->max_message_size;
	rset.allow_sparse = c->set->allow_sparse;
	if (mbox_reader_open_fd(fd, c->set->spool, &rset, &reader, err) < 0)
		goto out;
	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		if (cancelled(c, err)) {
			rc = -1;
			break;
		}
		if (!uw_snarf_moves(c->set->format, msg.flags))
			continue;	/* next() passes over its bytes */
		memset(&info, 0, sizeof(info));
		info.uid = ++*last_r;
		info.flags = convert_maildir_flags(msg.flags);
		info.recent = true;	/* mbx_snarf: no UID yet, \Recent */
		info.date = msg.from.date;
		if (write_msg(c, &info, read_mbox, reader, err) < 0) {
			rc = -1;
			break;
		}
		counted(c);
	}
out:
	mbox_reader_close(&reader);
	close(fd);
	dotlock_release(&lock);
	return rc < 0 ? -1 : 0;
}

bool uw_snarf_moves(enum uw_format fmt, unsigned int flags)
{
	return fmt != UW_FMT_MIX || (flags & UW_DELETED) == 0;
}

/* UIDVALIDITY and UIDNEXT of the folder made of S (and the spool). */
static void folder_uids(struct convert_ctx *c, const struct uw_src *s,
			unsigned long last)
{
	const struct uw_folder *f = uw_src_folder(s);

	c->stats->uidvalidity = f->uidvalidity;
	if (f->uid_reset || f->uidvalidity == 0) {
		struct m2d_error w;

		/* c-client would have chosen a new one (the clock); the
		 * source's mtime gives the same folder on a re-run */
		c->stats->uidvalidity = (unsigned long)s->st.st_mtim.tv_sec;
		if (c->stats->uidvalidity == 0)
			c->stats->uidvalidity = 1;
		m2d_error_set(&w, M2D_ERR_MALFORMED, c->mbox,
			      _("UIDs that UW would have found broken: new "
				"UIDVALIDITY, UIDs as UW would have renumbered "
				"them"));
		convert_warn(c, &w);
	}
	c->stats->nextuid = f->uidnext > last + 1 ? f->uidnext : last + 1;
	c->stats->uids_kept = !f->uid_reset;
}

static int convert_uw(struct convert_ctx *c, struct uw_src *s,
		      const char *maildir, const char *dirname,
		      struct m2d_error *err)
{
	struct maildir_owner owner = { c->set->uid, c->set->gid };
	const struct uw_folder *f;
	unsigned long last = 0;

	if (uw_src_open(c->set, c->mbox, s, err) < 0)
		return -1;
	if (!c->set->dry_run &&
	    maildir_folder_begin(maildir, dirname, &owner, c->set->replace,
				 &c->folder, err) < 0)
		return -1;
	if (copy_uw(c, s, &last, err) < 0)
		return -1;
	f = uw_src_folder(s);
	/* UW's snarf gave new mail the UIDs from UIDNEXT on */
	if (f->uidnext > last + 1)
		last = f->uidnext - 1;
	if (c->set->spool != NULL && copy_spool(c, &last, err) < 0)
		return -1;
	/* declared keywords no message has still get a letter */
	if (!c->set->dry_run)
		convert_keyword_bits(c, f->keywords != NULL ? f->keywords : "",
				     NULL);
	folder_uids(c, s, last);
	return 0;
}

int convert_uw_stage(const char *source, const char *maildir,
		     const struct convert_settings *set,
		     struct convert_stats *stats,
		     struct maildir_folder **staged_r, struct m2d_error *err)
{
	const char *name = set->folder != NULL ? set->folder : "INBOX";
	struct convert_ctx c;
	struct convert_stats id;
	struct uw_src s;
	char dirname[1024];
	int ret = -1;

	*staged_r = NULL;
	memset(stats, 0, sizeof(*stats));
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	c.set = set;
	c.stats = stats;
	c.mbox = source;
	if (convert_dirname(name, source, dirname, sizeof(dirname), err) < 0)
		return -1;
	/* what it is now, before a byte is read (a change while it is
	 * read is seen by the next run) */
	memset(&id, 0, sizeof(id));
	if (convert_source_identity(source, set->format, set->spool,
				    &id) < 0)
		return m2d_error_sys(err, "stat", source);
	if (convert_uw(&c, &s, maildir, dirname, err) < 0)
		goto out;
	stats->skipped = 0;
	stats->dev = id.dev;
	stats->ino = id.ino;
	stats->mtime_sec = id.mtime_sec;
	stats->mtime_nsec = id.mtime_nsec;
	stats->checksum = id.checksum;
	stats->source_size = id.source_size;
	stats->source_done = id.source_size;
	if (!set->dry_run) {
		stats->keywords = maildir_folder_keyword_count(c.folder);
		if (maildir_folder_finish(c.folder, stats->uidvalidity,
					  stats->nextuid, false, err) < 0)
			goto out;
	}
	convert_progress(&c);
	*staged_r = c.folder;
	c.folder = NULL;
	ret = 0;
out:
	maildir_folder_free(&c.folder);
	uw_src_close(&s);
	return ret;
}
