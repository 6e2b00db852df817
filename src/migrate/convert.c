/* SPDX-License-Identifier: MIT */
/*
 * convert.c - one mbox folder into one maildir folder
 *
 * The reader splits and strips, the writer stages and commits; here is
 * what ties them: UW's flags to maildir's, keywords to letters, and UW's
 * UID rules (uw-uids.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "convert-private.h"
#include "dotlock.h"
#include "folder-names.h"
#include "maildir-writer.h"
#include "mbox-reader.h"
#include "safe-file.h"
#include "uw-uids.h"
#include "i18n.h"
#include "xalloc.h"

static int convert_messages(struct convert_ctx *c, struct mbox_reader *reader,
			    struct m2d_error *err);

/* Be ourselves again for a moment (a callback may open files); back to
 * the user after it. */
static void callback_begin(struct convert_ctx *c, bool *was_r)
{
	*was_r = c->fsown.active;
	fs_owner_leave(&c->fsown);
}

static void callback_end(struct convert_ctx *c, bool was)
{
	if (was && !fs_owner_enter(&c->fsown, (int)c->fsown.uid,
				   (int)c->fsown.gid))
		maildir_folder_owner_creates(c->folder, false);
}

void convert_warn(struct convert_ctx *c, const struct m2d_error *w)
{
	bool was;

	if (c->set->warning == NULL)
		return;
	callback_begin(c, &was);
	c->set->warning(w, c->set->ctx);
	callback_end(c, was);
}

void convert_progress(struct convert_ctx *c)
{
	bool was;

	if (c->set->progress == NULL)
		return;
	callback_begin(c, &was);
	c->set->progress(c->stats, c->set->ctx);
	callback_end(c, was);
}

/*
 * The messages of the folder, created as its owner: as root, this thread
 * takes the owner's fsuid and fsgid for the loop (the source is open
 * already; only the callbacks run as ourselves), so that no message file
 * needs an fchown().  The switch and back are 6 system calls: only for a
 * source of OWNER_SWITCH_MIN bytes or more (a dozen messages or so).
 */
#define OWNER_SWITCH_MIN (64 * 1024)

static int convert_messages_as_owner(struct convert_ctx *c,
				     struct mbox_reader *reader,
				     struct m2d_error *err)
{
	int rc;

	if (c->folder != NULL &&
	    mbox_reader_size(reader) >= OWNER_SWITCH_MIN &&
	    fs_owner_enter(&c->fsown, c->set->uid, c->set->gid))
		maildir_folder_owner_creates(c->folder, true);
	rc = convert_messages(c, reader, err);
	if (c->fsown.active) {
		fs_owner_leave(&c->fsown);
		maildir_folder_owner_creates(c->folder, false);
	}
	return rc;
}

#define warn convert_warn
#define progress convert_progress

unsigned int convert_maildir_flags(unsigned int uw)
{
	unsigned int f = 0;

	if (uw & UW_DRAFT)
		f |= MAILDIR_DRAFT;
	if (uw & UW_FLAGGED)
		f |= MAILDIR_FLAGGED;
	if (uw & UW_ANSWERED)
		f |= MAILDIR_REPLIED;
	if (uw & UW_SEEN)
		f |= MAILDIR_SEEN;
	if (uw & UW_DELETED)
		f |= MAILDIR_TRASHED;
	return f;
}

/* A keyword that cannot be kept: counted, and said once per folder. */
static void keyword_dropped(struct convert_ctx *c, const char *word, size_t len,
			    const struct mbox_msg *msg)
{
	struct m2d_error w;

	c->stats->keywords_dropped++;
	if (c->dropped_warned)
		return;
	c->dropped_warned = true;
	m2d_error_set(&w, M2D_ERR_MALFORMED, c->mbox,
		      _("keyword \"%.*s\" cannot be kept in the maildir (a "
			"folder holds at most 26 keywords of at most 255 "
			"bytes)"), (int)(len > 64 ? 64 : len), word);
	m2d_error_at(&w, msg->offset, msg->line);
	warn(c, &w);
}

/*
 * An IMAP atom (RFC 3501): what a keyword must be for Dovecot and for
 * every client.  c-client kept any word as a keyword ("\\Deleted", "(x)",
 * 8-bit bytes, a tab inside); those never reach dovecot-keywords.
 */
static bool is_atom(const char *w, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)w[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("(){%*\"\\]", ch) != NULL)
			return false;
	}
	return true;
}

/* Letters for the ' '-separated keyword list WORDS (MSG NULL: the
 * folder's declared keywords, which only take their letters).  The reader
 * hands out only declared keywords, in their declared spelling. */
unsigned int convert_keyword_bits(struct convert_ctx *c, const char *words,
				  const struct mbox_msg *msg)
{
	unsigned int bits = 0;
	char name[256];

	while (*words != '\0') {
		size_t len = strcspn(words, " ");
		int idx = -1;

		if (!is_atom(words, len)) {
			if (len > 0 && msg != NULL)
				c->stats->keywords_dropped++;
			words += len;
			while (*words == ' ')
				words++;
			continue;
		}
		if (len < sizeof(name)) {
			memcpy(name, words, len);
			name[len] = '\0';
			idx = maildir_folder_keyword(c->folder, name);
		}
		if (idx >= 0)
			bits |= 1u << idx;
		else if (len > 0 && msg != NULL)
			keyword_dropped(c, words, len, msg);
		words += len;
		while (*words == ' ')
			words++;
	}
	return bits;
}

/* The UID of MSG by UW's rules; says so when they break. */
static unsigned long msg_uid(struct convert_ctx *c, const struct mbox_msg *msg)
{
	unsigned long prev = c->uids.prev;
	unsigned long uid;
	bool reset;

	uid = uw_uids_next(&c->uids, msg, &reset);
	if (reset) {
		struct m2d_error w;

		if (msg->uid_count > 1)
			m2d_error_set(&w, M2D_ERR_MALFORMED, c->mbox,
				      _("message %lu has %u X-UID headers: UW "
					"would have renumbered the folder; new "
					"UIDVALIDITY and UIDs assigned"),
				      msg->seq, msg->uid_count);
		else
			m2d_error_set(&w, M2D_ERR_MALFORMED, c->mbox,
				      _("message %lu has UID %lu, not above "
					"%lu: UW would have renumbered the "
					"folder; new UIDVALIDITY and UIDs "
					"assigned"), msg->seq, msg->uid, prev);
		m2d_error_at(&w, msg->offset, msg->line);
		warn(c, &w);
	}
	return uid;
}

static int copy_message(struct convert_ctx *c, struct mbox_reader *reader,
			const struct mbox_msg *msg, struct m2d_error *err)
{
	struct maildir_msg_info info;
	const unsigned char *data;
	size_t len;
	int rc;

	memset(&info, 0, sizeof(info));
	info.uid = msg_uid(c, msg);
	info.flags = convert_maildir_flags(msg->flags);
	info.recent = (msg->flags & UW_OLD) == 0;
	info.date = msg->from.date;
	if (c->set->dry_run) {
		while ((rc = mbox_reader_read(reader, &data, &len, err)) > 0)
			c->stats->bytes += len;
		return rc;
	}
	info.keywords = convert_keyword_bits(c, msg->keywords, msg);
	if (maildir_msg_begin(c->folder, err) < 0)
		return -1;
	while ((rc = mbox_reader_read(reader, &data, &len, err)) > 0) {
		if (maildir_msg_write(c->folder, data, len, err) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (maildir_msg_finish(c->folder, &info, err) < 0)
		return -1;
	c->stats->bytes = maildir_folder_bytes(c->folder);
	return 0;
}

/*
 * Open the source read-only and lock it.  Below SET->source_base (the
 * user's home: the user controls everything in it) no symlink is followed
 * on the way, so a directory swapped for a symlink between the scan and
 * now cannot make us read a file outside; a file with other hard links is
 * refused there for the same reason.  Without a base, the mbox's own
 * directory is the base (the admin named the path).
 */
int convert_open_source(const struct convert_settings *set,
			const char *mbox, int flags, bool locks,
			bool create_lock, struct dotlock **lock_r,
			int *parent_r, struct m2d_error *err)
{
	const char *base = set->source_base, *rel, *name;
	size_t blen = base != NULL ? strlen(base) : 0;
	char *dir = NULL;
	struct stat st;
	int fd, parent;

	*lock_r = NULL;
	if (base != NULL && strncmp(mbox, base, blen) == 0 && mbox[blen] == '/') {
		rel = mbox + blen + 1;
	} else {
		const char *slash = strrchr(mbox, '/');

		base = NULL;
		dir = slash == NULL ? xstrdup(".") :
			xstrndup(mbox, slash == mbox ? 1 :
				 (size_t)(slash - mbox));
		rel
 = slash == NULL ? mbox : slash + 1;
	}
	fd = sf_open_below(dir != NULL ? dir : base, rel, flags, &parent, err);
	free(dir);
	if (fd < 0) {
		snprintf(err->path, sizeof(err->path), "%s", mbox);
		return -1;
	}
	name = strrchr(rel, '/') != NULL ? strrchr(rel, '/') + 1 : rel;
	/* other links to the user's own file are the user's data (refusing
	 * it would let anyone who links it keep it out); to
	 * another's they may be any file */
	if (base != NULL && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink > 1 &&
	    (set->uid < 0 || st.st_uid != (uid_t)set->uid)) {
		m2d_error_set(err, M2D_ERR_UNSAFE, mbox,
			      _("has %lu hard links: one may be a file outside "
				"the home; not read"), (unsigned long)st.st_nlink);
		goto fail;
	}
	if (locks &&
	    (dotlock_take_at(parent, name, mbox, create_lock, true, lock_r,
			     err) < 0 ||
	     mbox_fcntl_rdlock(fd, mbox, err) < 0))
		goto fail;
	if (parent_r != NULL)
		*parent_r = parent;
	else
		close(parent);
	return fd;
fail:
	dotlock_release(lock_r);
	close(parent);
	close(fd);
	return -1;
}

static int open_source(const struct convert_settings *set, const char *mbox,
		       bool create_lock, struct dotlock **lock_r,
		       struct m2d_error *err)
{
	return convert_open_source(set, mbox, O_RDONLY | O_NOCTTY |
				   O_NONBLOCK, true, create_lock, lock_r,
				   NULL, err);
}

static int convert_messages(struct convert_ctx *c, struct mbox_reader *reader,
			    struct m2d_error *err)
{
	const struct mbox_meta *meta = NULL;
	struct mbox_msg msg;
	int rc;

	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		if (meta == NULL) {
			/* message 1 is read: the folder's data is known */
			meta = mbox_reader_meta(reader);
			uw_uids_init(&c->uids, meta);
		}
		if (c->set->cancel != NULL && *c->set->cancel) {
			m2d_error_set(err, M2D_ERR_CANCELLED, c->mbox,
				      _("cancelled; nothing was written"));
			return -1;
		}
		if (copy_message(c, reader, &msg, err) < 0)
			return -1;
		c->stats->messages++;
		c->stats->source_done = mbox_reader_offset(reader);
		if (c->stats->messages % PROGRESS_EVERY == 0)
			progress(c);
	}
	if (rc < 0)
		return -1;
	if (meta == NULL) {
		meta = mbox_reader_meta(reader);
		uw_uids_init(&c->uids, meta);
	}
	/* The letters go to the keywords messages have first, as they come
	 * (UW held 30, a maildir 26: a folder that declares more loses only
	 * what no 26 letters can hold); the declared ones no message has
	 * take what letters are left, so that clients still see them. */
	if (!c->set->dry_run)
		convert_keyword_bits(c, meta->keywords != NULL ? meta->keywords : "",
			     NULL);
	return 0;
}

int convert_dirname(const char *name, const char *source, char *dirname,
		    size_t size, struct m2d_error *err)
{
	enum folder_problem problem;
	char suggestion[1024];

	problem = folder_name_to_maildir(name, dirname, size);
	if (problem == FOLDER_OK)
		return 0;
	folder_name_suggest(name, suggestion, sizeof(suggestion));
	return m2d_error_set(err, M2D_ERR_NAME, source,
			     _("folder name \"%s\" cannot be used: %s "
			       "(suggested: \"%s\")"), name,
			     folder_problem_str(problem), suggestion);
}

int convert_folder_stage(const char *mbox, const char *maildir,
			 const struct convert_settings *set,
			 struct convert_stats *stats,
			 struct maildir_folder **staged_r,
			 struct m2d_error *err)
{
	struct mbox_reader_settings rset;
	struct mbox_reader *reader = NULL;
	struct maildir_owner owner = { set->uid, set->gid };
	struct dotlock *lock = NULL;
	struct convert_ctx c;
	char dirname[1024];
	const char *name = set->folder != NULL ? set->folder : "INBOX";
	int fd = -1, ret = -1;

	*staged_r = NULL;
	memset(stats, 0, sizeof(*stats));
	memset(&c, 0, sizeof(c));
	c.set = set;
	c.stats = stats;
	c.mbox = mbox;

	if (set->format == UW_FMT_MBX || set->format == UW_FMT_MIX ||
	    set->format == UW_FMT_MMDF)
		return convert_uw_stage(mbox, maildir, set, stats, staged_r,
					err);
	if (convert_dirname(name, mbox, dirname, sizeof(dirname), err) < 0)
		return -1;
	fd = open_source(set, mbox, set->dotlock && !set->dry_run, &lock, err);
	if (fd < 0)
		goto out;
	memset(&rset, 0, sizeof(rset));
	rset.mboxrd = set->mboxrd;
	rset.max_message = set->max_message_size;
	rset.allow_sparse = set->allow_sparse;
	if (mbox_reader_open_fd(fd, mbox, &rset, &reader, err) < 0)
		goto out;
	stats->source_size = mbox_reader_size(reader);
	if (!set->dry_run &&
	    maildir_folder_begin(maildir, dirname, &owner, set->replace,
				 &c.folder, err) < 0)
		goto out;
	if (convert_messages_as_owner(&c, reader, err) < 0)
		goto out;

	if (c.uids.trust) {
		stats->uidvalidity = mbox_reader_meta(reader)->uidvalidity;
		stats->nextuid = c.uids.last + 1;
	} else {
		/* a new UIDVALIDITY, as UW would have given; the source's
		 * mtime rather than the clock, so that converting the same
		 * source again gives the same folder */
		stats->uidvalidity = (unsigned long)
			mbox_reader_stat(reader)->st_mtim.tv_sec;
		if (stats->uidvalidity == 0)
			stats->uidvalidity = 1;
		stats->nextuid = stats->messages + 1;
		if (!mbox_reader_meta(reader)->have_base && stats->messages > 0) {
			struct m2d_error w;

			m2d_error_set(&w, M2D_ERR_MALFORMED, mbox,
				      _("no UW UID data (X-IMAP/X-IMAPbase) in "
					"message 1: new UIDVALIDITY and UIDs "
					"assigned"));
			warn(&c, &w);
		}
	}
	stats->uids_kept = c.uids.trust;
	stats->skipped = mbox_reader_meta(reader)->pseudo ? 1 : 0;
	if (!set->dry_run) {
		stats->keywords = maildir_folder_keyword_count(c.folder);
		if (maildir_folder_finish(c.folder, stats->uidvalidity,
					  stats->nextuid, !c.uids.trust, err) < 0)
			goto out;
	}
	stats->source_done = stats->source_size;
	{
		const struct stat *st = mbox_reader_stat(reader);

		stats->dev = (unsigned long long)st->st_dev;
		stats->ino = (unsigned long long)st->st_ino;
		stats->mtime_sec = (long long)st->st_mtim.tv_sec;
		stats->mtime_nsec = (long long)st->st_mtim.tv_nsec;
		stats->checksum = mbox_reader_checksum(reader);
	}
	progress(&c);
	*staged_r = c.folder;
	c.folder = NULL;
	ret = 0;
out:
	maildir_folder_free(&c.folder);
	mbox_reader_close(&reader);
	if (fd >= 0)
		close(fd);
	dotlock_release(&lock);
	return ret;
}

int convert_folder(const char *mbox, const char *maildir,
		   const struct convert_settings *set,
		   struct convert_stats *stats, struct m2d_error *err)
{
	struct maildir_folder *staged;
	int ret = 0;

	if (convert_folder_stage(mbox, maildir, set, stats, &staged, err) < 0)
		return -1;
	if (staged != NULL &&
	    (maildir_folder_sync(staged, err) < 0 ||
	     maildir_folder_install(staged, err) < 0))
		ret = -1;
	maildir_folder_free(&staged);
	return ret;
}

/*
 * Only what was appended to MBOX since it was converted: the messages
 * from byte OLD_SIZE on (a From_ line must start there) are added to the
 * folder with UIDs after LAST_UID.  Returns 0 with *STAGED_R to sync and
 * install, 1 when the new part cannot simply be added (a message with its
 * own X-UID or keywords, no From_ line at OLD_SIZE: convert the folder
 * again instead), -1 on error.
 */
int convert_folder_append(const char *mbox, const char *maildir,
			  const struct convert_settings *set,
			  const struct convert_append *from,
			  struct convert_stats *stats,
			  struct maildir_folder **staged_r,
			  struct m2d_error *err)
{
	struct mbox_reader_settings rset;
	struct mbox_reader *reader = NULL;
	struct maildir_owner owner = { set->uid, set->gid };
	struct dotlock *lock = NULL;
	struct convert_ctx c;
	struct mbox_msg msg;
	char dirname[1024];
	const char *name = set->folder != NULL ? set->folder : "INBOX";
	int fd = -1, ret = -1, rc;

	*staged_r = NULL;
	memset(stats, 0, sizeof(*stats));
	memset(&c, 0, sizeof(c));
	c.set = set;
	c.stats = stats;
	c.mbox = mbox;
	if (folder_name_to_maildir(name, dirname, sizeof(dirname)) != FOLDER_OK)
		return 1;
	fd = open_source(set, mbox, set->dotlock, &lock, err);
	if (fd < 0)
		goto out;
	if (lseek(fd, from->old_size, SEEK_SET) < 0) {
		m2d_error_sys(err, "lseek", mbox);
		goto out;
	}
	memset(&rset, 0, sizeof(rset));
	rset.mboxrd = set->mboxrd;
	rset.max_message = set->max_message_size;
	rset.allow_sparse = set->allow_sparse;
	rset.continuation = true;
	rset.seq_base = from->old_messages;
	rset.hash_start = &from->old_hash;
	if (mbox_reader_open_fd(fd, mbox, &rset, &reader, err) < 0) {
		ret = err->code == M2D_ERR_NOT_MBOX ? 1 : -1;
		goto out;
	}
	stats->source_size = mbox_reader_size(reader);
	if (maildir_folder_begin_append(maildir, dirname, &owner, &c.folder,
					err) < 0)
		goto out;
	c.uids.trust = true;
	c.uids.last = from->last_uid;
	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		if (msg.has_uw_data) {
			ret = 1;	/* UW's own data: convert it all */
			goto out;
		}
		if (copy_message(&c, reader, &msg, err) < 0)
			goto out;
		stats->messages++;
	}
	if (rc < 0)
		goto out;
	stats->uidvalidity = from->uidvalidity;
	stats->nextuid = c.uids.last + 1;
	stats->uids_kept = true;
	if (maildir_folder_finish(c.folder, stats->uidvalidity,
				  stats->nextuid, false, err) < 0)
		goto out;
	{
		const struct stat *st = mbox_reader_stat(reader);

		stats->dev = (unsigned long long)st->st_dev;
		stats->ino = (unsigned long long)st->st_ino;
		stats->mtime_sec = (long long)st->st_mtim.tv_sec;
		stats->mtime_nsec = (long long)st->st_mtim.tv_nsec;
		stats->checksum = mbox_reader_checksum(reader);
	}
	stats->source_done = stats->source_size;
	stats->messages += from->old_messages;	/* the folder now */
	*staged_r = c.folder;
	c.folder = NULL;
	ret = 0;
out:
	maildir_folder_free(&c.folder);
	mbox_reader_close(&reader);
	if (fd >= 0)
		close(fd);
	dotlock_release(&lock);
	return ret;
}
