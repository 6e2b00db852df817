/* SPDX-License-Identifier: MIT */
/*
 * rollback-folder.c - one folder's mail of after cutover appended to its
 * mbox, recorded, cut back on failure (rollback-folder.h)
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "maildir-reader.h"
#include "mbox-append.h"
#include "mbox-reader.h"
#include "rollback-folder.h"
#include "rollback-record.h"
#include "uw-uids.h"
#include "xalloc.h"
#include "i18n.h"

/* An old message as the mbox has it, for the flag report. */
struct old_msg {
	unsigned long uid;	/* 0 once seen in the maildir */
	unsigned int flags;	/* maildir flags the mbox had */
	char *keywords;		/* X-Keywords */
};

/* One folder on its way back. */
struct carry {
	const struct rollback_folder *fo;
	struct rollback_folder_report *rep;
	struct maildir_reader md;
	struct mbox_append_source src;
	struct rollback_record rec;
	struct mbox_append mb;
	const struct maildir_file **todo;	/* to append, in order */
	size_t ntodo;
	unsigned long *xuids;	/* per todo: X-UID in an empty mbox */
	char *declared;		/* the keywords the mbox declares */
	char imapbase[1024];	/* X-IMAPbase of an empty mbox, or "" */
	bool with_base;		/* an empty mbox: X-IMAPbase, X-UIDs */
	bool wrote;		/* the record "pending" written */
	long long before;	/* the mbox's size before the append */
	struct rollback_folder spool_fo;	/* an mbx/mix INBOX: the
						 * spool file instead */
	bool uw_spool;		/* fo is spool_fo: the spool file holds
				 * mail that was migrated, appended to */
};

/* The spool path of an mbx/mix INBOX: REP->mbox points here, and the
 * caller reports REP after rollback_folder() returns (one folder at a
 * time per thread). */
static _Thread_local char spool_path[PATH_MAX];

/* ---- words ---- */

static bool has_word_ci(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (*list != '\0') {
		size_t len;

		list += strspn(list, " ");
		len = strcspn(list, " ");
		if (len == n && strncasecmp(list, word, n) == 0)
			return true;
		list += len;
	}
	return false;
}

static size_t count_words(const char *list)
{
	size_t count = 0;

	while (*list != '\0') {
		list += strspn(list, " ");
		if (*list == '\0')
			break;
		count++;
		list += strcspn(list, " ");
	}
	return count;
}

/* ---- 1. the maildir ---- */

/* Whether M came from the mbox: a UID below the journal's next one. */
static bool is_old(const struct carry *c, const struct maildir_file *m)
{
	const struct journal_folder *jf = c->fo->journal;

	return jf != NULL && m->uid != 0 && m->uid < jf->nextuid;
}

/* 1 read, 0 the folder is gone (REP says so), -1 ERR. */
static int open_maildir(struct carry *c, struct m2d_error *err)
{
	const struct m2d_config *cfg = c->fo->cfg;
	int rc;

	rc = maildir_reader_open(&c->md, c->fo->root, c->fo->dirname,
				 MAILDIR_OPEN_UIDLIST_OPTIONAL |
				 MAILDIR_OPEN_UIDLIST_STRICT |
				 MAILDIR_OPEN_KEYWORDS |
				 MAILDIR_OPEN_REFUSE_SPECIAL, err);
	if (rc == 0)
		c->rep->gone = true;
	/* the limits the admin set for a message (m2d-config.h) */
	c->src.md = &c->md;
	c->src.owner = c->fo->user->uid;
	c->src.max_message = cfg->max_message_size >
		(unsigned long long)INT64_MAX ? 0 :
		(off_t)cfg->max_message_size;
	c->src.allow_sparse = cfg->allow_sparse;
	return rc;
}

/*
 * Which files came from the mbox is told by the UIDs of the uidlist (read
 * once, through one descriptor: one version of it).  Dovecot never lowers
 * the next UID nor changes the UIDVALIDITY of a folder it keeps: a
 * uidlist absent, of another UIDVALIDITY or with a next UID below the one
 * the migration recorded is not the folder's (swapped back by its user,
 * say) and would make old messages look new: they would be appended
 * again.
 */
static int check_uidlist(const struct carry *c, struct m2d_error *err)
{
	const struct journal_folder *jf = c->fo->journal;
	const struct maildir_reader *md = &c->md;
	char upath[PATH_MAX];

	if (jf == NULL || jf->nextuid <= 1 ||
	    (md->uidvalidity != 0 && md->nextuid >= jf->nextuid &&
	     (jf->uidvalidity == 0 || md->uidvalidity == jf->uidvalidity)))
		return 0;
	snprintf(upath, sizeof(upath), "%s/dovecot-uidlist", md->path);
	if (md->uidvalidity == 0)
		return m2d_error_set(err, M2D_ERR_CHANGED, upath,
				     _("missing or without UIDVALIDITY: which "
				       "messages came from the mbox cannot "
				       "be told; nothing carried from this "
				       "folder"));
	return m2d_error_set(err, M2D_ERR_CHANGED, upath,
			     _("older than the migration or not the "
			       "folder's (UIDVALIDITY %lu, next UID %lu; the "
			       "migration recorded %lu, %lu): replaced "
			       "since?  Old messages would look new; nothing "
			       "carried from this folder"), md->uidvalidity,
			     md->nextuid, jf->uidvalidity, jf->nextuid);
}

/* Listed ones by UID, then the unlisted ones by date and name (the order
 * Dovecot would give them UIDs in). */
static int delivery_order(const void *a, const void *b)
{
	const struct maildir_file *x = *(const struct maildir_file *const *)a;
	const struct maildir_file *y = *(const struct maildir_file *const *)b;

	if ((x->uid == 0) != (y->uid == 0))
		return x->uid == 0 ? 1 : -1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* ---- 2. the record: what is still to append ---- */

static int select_todo(struct carry *c, struct m2d_error *err)
{
	const struct rollback_folder *fo = c->fo;

	if (rollback_record_read(fo->cfg->work_dir, fo->user->name,
				 fo->dirname, &c->rec, err) < 0)
		return -1;
	c->todo = xcalloc(c->md.nfiles + 1, sizeof(*c->todo));
	for (size_t i = 0; i < c->md.nfiles; i++) {
		const struct maildir_file *m = &c->md.files[i];

		if (is_old(c, m))
			continue;	/* came from the mbox */
		if (rollback_record_has(&c->rec, m->base))
			c->rep->earlier++;
		else
			c->todo[c->ntodo++] = m;
	}
	if (c->ntodo > 0)
		qsort(c->todo, c->ntodo, sizeof(*c->todo), delivery_order);
	return 0;
}

/* ---- 3. the mbox, and the cut-back of an interrupted run ---- */

/* The base (home or spool) PATH lies below: the admin's directory. */
static const char *path_base(const struct m2d_config *cfg,
			     const struct plan_user *u, const char *path,
			     char *buf, size_t size)
{
	const char *bases[2] = { u->home, cfg->spool_dir };
	const char *slash;

	for (int i = 0; i < 2; i++) {
		size_t n;

		if (bases[i] == NULL)
			continue;
		n = strlen(bases[i]);
		while (n > 1 && bases[i][n - 1] == '/')
			n--;
		if (strncmp(path, bases[i], n) == 0 && path[n] == '/') {
			snprintf(buf, size, "%.*s", (int)n, bases[i]);
			return buf;
		}
	}
	slash = strrchr(path, '/');
	snprintf(buf, size, "%.*s", slash != NULL && slash != path ?
		 (int)(slash - path) : 1, slash != NULL ? path : "/");
	return buf;
}

/* 1 opened (a new mbox made for a folder new since cutover), 0 nothing
 * more to do (a dry run where it would be made), -1 ERR. */
static int open_mbox(struct carry *c, struct m2d_error *err)
{
	const struct rollback_folder *fo = c->fo;
	struct stat st;
	bool fresh = fo->journal == NULL && !c->rec.exists &&
		!(c->uw_spool && lstat(fo->mbox, &st) == 0);
	struct mbox_append_target t;
	char basebuf[PATH_MAX];

	if (fresh && fo->dry_run && lstat(fo->mbox, &st) < 0 &&
	    errno == ENOENT) {
		c->rep->created = true;		/* would be made */
		c->rep->appended = c->ntodo;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	t.base = path_base(fo->cfg, fo->user, fo->mbox, basebuf,
			   sizeof(basebuf));
	t.path = fo->mbox;
	t.mode = fo->dry_run ? MBOX_APPEND_READ :
		fresh ? MBOX_APPEND_CREATE : MBOX_APPEND_WRITE;
	t.mkdirs = fo->journal == NULL && !fo->dry_run;
	t.uid = fo->user->uid;
	t.gid = fo->user->gid;
	t.allow_sparse = fo->cfg->allow_sparse;
	if (mbox_append_open(&c->mb, &t, err) < 0)
		return -1;
	if (c->mb.created)
		c->rep->created = true;
	return 1;
}

/* Whether the bytes before the pending append are those the record (or,
 * a version 1 record, the journal) saw: only then is anything cut. */
static int verify_before_cut(const struct carry *c, struct m2d_error *err)
{
	const struct journal_folder *jf = c->fo->journal;
	const struct rollback_record *rec = &c->rec;
	const char *path = c->mb.path;
	uint64_t h = 0;

	if (!mbox_append_ours_at(&c->mb, rec->before))
		return m2d_error_set(err, M2D_ERR_CHANGED, path,
				     _("changed after an interrupted "
				       "rollback; check it by hand"));
	if (rec->version >= 2) {
		if (mbox_append_checksum(&c->mb, rec->before, &h, 0, NULL,
					 err) < 0)
			return -1;
		if (h != rec->before_sum)
			return m2d_error_set(err, M2D_ERR_CHANGED, path,
					     _("its first %lld bytes are not "
					       "those an interrupted rollback "
					       "saw; nothing cut: check it by "
					       "hand"), rec->before);
		return 0;
	}
	if (jf == NULL || rec->before < jf->source.size)
		return m2d_error_set(err, M2D_ERR_CHANGED, path,
				     _("a rollback by an earlier version was "
				       "interrupted here and what it saw "
				       "cannot be verified; nothing cut: "
				       "check it by hand"));
	if (mbox_append_checksum(&c->mb, jf->source.size, &h, 0, NULL,
				 err) < 0)
		return -1;
	if (h != jf->source.checksum)
		return m2d_error_set(err, M2D_ERR_CHANGED, path,
				     _("its first %lld bytes are not those "
				       "that were converted; nothing cut: "
				       "check it by hand"), jf->source.size);
	return 0;
}

/* A run that died while appending: what it wrote is cut off (the dotlock
 * and the hold of delivery kept everyone else away), once the bytes
 * before it are verified to be those the record saw. */
static int cut_back_pending(struct carry *c, struct m2d_error *err)
{
	struct rollback_record *rec = &c->rec;

	if (!rec->pending || c->fo->dry_run)
		return 0;
	if (c->mb.size > rec->before &&
	    (verify_before_cut(c, err) < 0 ||
	     mbox_append_cut(&c->mb, rec->before, err) < 0))
		return -1;
	rec->pending = false;
	rec->size = rec->before;
	return 0;
}

/* ---- 4. the old bytes and the flag report ---- */

static void olds_free(struct old_msg *olds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(olds[i].keywords);
	free(olds);
}

static int by_old_uid(const void *a, const void *b)
{
	const struct old_msg *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* The first MESSAGES messages of the mbox: their UIDs by UW's rules (as
 * the conversion gave them), flags and keywords; *DECLARED_R the keywords
 * its folder data declares (MESSAGES 0: only those). */
static int read_olds(int fd, const char *path, unsigned long messages,
		     bool mboxrd, struct old_msg **olds_r, size_t *n_r,
		     char **declared_r, struct m2d_error *err)
{
	struct mbox_reader_settings set = { .mboxrd = mboxrd };
	struct mbox_reader *reader = NULL;
	struct old_msg *olds;
	struct uw_uids uids;
	struct mbox_msg msg;
	size_t n = 0;
	int rc = 0;

	memset(&uids, 0, sizeof(uids));
	*olds_r = NULL;
	*n_r = 0;
	*declared_r = NULL;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return m2d_error_sys(err, "lseek", path);
	if (mbox_reader_open_fd(fd, path, &set, &reader, err) < 0)
		return -1;
	if (messages == 0) {
		/* only the folder's data (a pseudo-message alone) */
		rc = mbox_reader_next(reader, &msg, err);
		if (rc >= 0)
			*declared_r =
				xstrdup(mbox_reader_meta(reader)->keywords);
		mbox_reader_close(&reader);
		return rc < 0 ? -1 : 0;
	}
	olds = xcalloc(messages, sizeof(*olds));
	while (n < messages && (rc = mbox_reader_next(reader, &msg, err)) > 0) {
		bool reset;

		if (n == 0) {
			const struct mbox_meta *meta = mbox_reader_meta(reader);

			uw_uids_init(&uids, meta);
			*declared_r = xstrdup(meta->keywords);
		}
		olds[n].uid = uw_uids_next(&uids, &msg, &reset);
		olds[n].flags = convert_maildir_flags(msg.flags);
		olds[n].keywords = xstrdup(msg.keywords);
		n++;
	}
	mbox_reader_close(&reader);
	if (n < messages && rc < 0) {
		olds_free(olds, n);
		free(*declared_r);
		*declared_r = NULL;
		return -1;
	}
	if (n > 0 && !uids.trust) {
		/* UW would have renumbered: so did the conversion */
		for (size_t i = 0; i < n; i++)
			olds[i].uid = i + 1;
	}
	*olds_r = olds;
	*n_r = n;
	return 0;
}

static bool old_changed(const struct maildir_reader *md,
			const struct maildir_file *m, const struct old_msg *o)
{
	size_t nkw = 0;

	/* \Recent is no flag a user sets; P (passed) UW has not */
	if ((m->flags & ~(unsigned int)MAILDIR_PASSED) != o->flags)
		return true;
	for (int i = 0; i < MAILDIR_MAX_KEYWORDS; i++) {
		if (!(m->keywords & (1u << i)) || md->keywords[i] == NULL)
			continue;
		if (!has_word_ci(o->keywords, md->keywords[i]))
			return true;
		nkw++;
	}
	return nkw != count_words(o->keywords);
}

/* Old messages whose flags changed in the maildir, or that are gone from
 * it, counted for the report. */
static void count_old_changes(struct carry *c, struct old_msg *olds,
			      size_t nolds)
{
	const struct journal_folder *jf = c->fo->journal;

	if (nolds > 0)
		qsort(olds, nolds, sizeof(*olds), by_old_uid);
	for (size_t i = 0; i < c->md.nfiles; i++) {
		const struct maildir_file *m = &c->md.files[i];
		struct old_msg key, *o;

		if (m->uid == 0 || m->uid >= jf->nextuid)
			continue;
		key.uid = m->uid;
		o = nolds == 0 ? NULL :
			bsearch(&key, olds, nolds, sizeof(*olds), by_old_uid);
		if (o == NULL)
			continue;
		o->uid = 0;	/* seen in the maildir */
		if (old_changed(&c->md, m, o))
			c->rep->flags_changed++;
	}
	for (size_t i = 0; i < nolds; i++)
		if (olds[i].uid != 0)
			c->rep->expunged++;
}

/* The old bytes must be the ones we converted (the journal's checksum);
 * the checksum of all there is goes into the record before we append.
 * The old messages are read for the report, the declared keywords for
 * the append. */
static int check_old_bytes(struct carry *c, struct m2d_error *err)
{
	const struct journal_folder *jf = c->fo->journal;
	bool want_sum = !c->fo->dry_run && c->ntodo > 0;
	struct old_msg *olds = NULL;
	size_t nolds = 0;
	uint64_t h = 0;

	if (jf == NULL) {
		if (want_sum &&
		    mbox_append_checksum(&c->mb, c->mb.size,
					 &c->rec.before_sum, 0, NULL, err) < 0)
			return -1;
		/* an mbox made by an earlier run: its keywords */
		if (c->mb.size > 0 && c->ntodo > 0 &&
		    read_olds(c->mb.fd, c->mb.path, 0, c->fo->cfg->mboxrd,
			      &olds, &nolds, &c->declared, err) < 0)
			return -1;
		return 0;
	}
	if (c->mb.size < jf->source.size)
		return m2d_error_set(err, M2D_ERR_CHANGED, c->mb.path,
				     _("shorter than when it was converted "
				       "(%lld bytes, then %lld)"),
				     (long long)c->mb.size, jf->source.size);
	if (mbox_append_checksum(&c->mb, jf->source.size, &h, c->mb.size,
				 want_sum ? &c->rec.before_sum : NULL,
				 err) < 0)
		return -1;
	if (h != jf->source.checksum)
		return m2d_error_set(err, M2D_ERR_CHANGED, c->mb.path,
				     _("its first %lld bytes are not those "
				       "that were converted"),
				     jf->source.size);
	if (c->mb.size > 0 &&
	    read_olds(c->mb.fd, c->mb.path, jf->messages, c->fo->cfg->mboxrd,
		      &olds, &nolds, &c->declared, err) < 0)
		return -1;
	count_old_changes(c, olds, nolds);
	olds_free(olds, nolds);
	return 0;
}

/* ---- 5. the append ---- */

/*
 * An empty mbox gets UW's folder data with Dovecot's UIDVALIDITY and
 * every message its X-UID; an mbox with old content none (an X-UID above
 * the last UID of its old X-IMAP/X-IMAPbase would make UW reset the
 * UIDVALIDITY: rollback.h).  Dovecot's UIDs; one not yet listed gets the
 * next free one, as Dovecot would give it.
 */
static void plan_uids(struct carry *c)
{
	const struct maildir_reader *md = &c->md;
	unsigned long next = 1, last = 0;
	size_t off;

	c->with_base = c->before == 0 && md->uidvalidity != 0;
	if (!c->with_base)
		return;
	c->xuids = xcalloc(c->ntodo + 1, sizeof(*c->xuids));
	for (size_t i = 0; i < c->ntodo; i++) {
		const struct maildir_file *m = c->todo[i];

		if (m->uid != 0)
			last = m->uid > next ? m->uid : next;
		else
			last = next > md->nextuid ? next : md->nextuid;
		c->xuids[i] = last;
		next = last + 1;
	}
	off = (size_t)snprintf(c->imapbase, sizeof(c->imapbase),
			       "X-IMAPbase: %010lu %010lu", md->uidvalidity,
			       last);
	for (int k = 0; k < MAILDIR_MAX_KEYWORDS; k++) {
		if (md->keywords[k] != NULL &&
		    off + strlen(md->keywords[k]) + 3 < sizeof(c->imapbase))
			off += (size_t)snprintf(c->imapbase + off,
						sizeof(c->imapbase) - off,
						" %s", md->keywords[k]);
	}
	snprintf(c->imapbase + off, sizeof(c->imapbase) - off, "\n");
}

/*
 * UW knows the keywords its X-IMAP/X-IMAPbase declares, and no others:
 * imap-2007 (libc-client2007e, seen here) ignores an undeclared keyword
 * in X-Keywords when it opens the folder, and drops it when it rewrites
 * the folder.  The declaration lies in the old bytes: such messages are
 * counted for the report, their X-Keywords written anyway.
 */
static bool loses_keyword(const struct carry *c, const struct maildir_file *m)
{
	for (int k = 0; k < MAILDIR_MAX_KEYWORDS; k++) {
		if ((m->keywords & (1u << k)) && c->md.keywords[k] != NULL &&
		    !has_word_ci(c->declared != NULL ? c->declared : "",
				 c->md.keywords[k]))
			return true;
	}
	return false;
}

/* Every message of the todo list written and synced; *END_R the size. */
static int write_messages(struct carry *c, long long *end_r,
			  struct m2d_error *err)
{
	struct mbox_append_writer *w = NULL;
	int rc = mbox_append_begin(&c->mb, &c->src, &w, err);

	for (size_t i = 0; rc == 0 && i < c->ntodo; i++) {
		struct mbox_append_status sts = { 0, NULL };

		if (!c->with_base && loses_keyword(c, c->todo[i]))
			c->rep->keywords_lost++;
		if (c->with_base) {
			sts.uid = c->xuids[i];
			sts.imapbase = i == 0 ? c->imapbase : NULL;
		}
		rc = mbox_append_message(w, c->todo[i], &sts, err);
		if (rc == 0)
			c->rep->appended++;
	}
	if (rc == 0)
		rc = mbox_append_finish(w, end_r, err);
	mbox_append_writer_free(&w);
	return rc;
}

/* The mbox as it was: its old bytes were never touched. */
static void undo_append(struct carry *c)
{
	const struct rollback_folder *fo = c->fo;
	struct m2d_error e2;

	m2d_error_clear(&e2);
	(void)mbox_append_cut(&c->mb, c->before, &e2);
	c->rep->appended = 0;
	c->rep->keywords_lost = 0;
	if (c->wrote) {
		c->rec.pending = false;
		c->rec.size = c->before;
		(void)rollback_record_write(fo->cfg->work_dir, fo->user->name,
					    fo->dirname, &c->rec, &e2);
	}
}

/* The record first ("pending": a run that dies now is cut back by the
 * next), the messages, then the record "done" with their names, so that
 * no run appends them again. */
static int append(struct carry *c, struct m2d_error *err)
{
	const struct rollback_folder *fo = c->fo;
	long long end = 0;

	assert(!fo->dry_run && c->ntodo > 0);
	c->before = c->mb.size;
	plan_uids(c);
	c->rec.pending = true;
	c->rec.before = c->before;
	if (rollback_record_write(fo->cfg->work_dir, fo->user->name,
				  fo->dirname, &c->rec, err) < 0)
		return -1;
	c->wrote = true;
	if (write_messages(c, &end, err) < 0)
		goto undo;
	for (size_t i = 0; i < c->ntodo; i++)
		rollback_record_add(&c->rec, c->todo[i]->base);
	rollback_record_sort(&c->rec);
	c->rec.pending = false;
	c->rec.size = end;
	if (rollback_record_write(fo->cfg->work_dir, fo->user->name,
				  fo->dirname, &c->rec, err) < 0)
		goto undo;
	return 0;
undo:
	undo_append(c);
	return -1;
}

/* Nothing to append: a new, empty folder's mbox is ours from now on. */
static int record_empty(struct carry *c, struct m2d_error *err)
{
	const struct rollback_folder *fo = c->fo;

	if (!c->mb.created)
		return 0;
	c->rec.size = 0;
	return rollback_record_write(fo->cfg->work_dir, fo->user->name,
				     fo->dirname, &c->rec, err);
}

/* ---- the phases ---- */

/*
 * A folder converted from UW's mbx, mix or MMDF format has no mbox to
 * append to (runbook step 17 names them): with no new mail nothing is
 * lost and the rollback goes on; new mail is named, not carried.  An
 * INBOX in mbx or mix (~/INBOX) is the exception: UW moved new mail into
 * it from the spool file, so new mail goes to the end of the spool file
 * as for an mbox INBOX made after cutover (no journal: its bytes are
 * the spool's now), and UW moves it in as before.
 * Returns 1 when the source is such a folder (done, or -1 in *RC), 0
 * when it is an mbox (or absent, or the INBOX's spool: carried on).
 */
static int carry_uw(struct carry *c, int *rc, struct m2d_error *err)
{
	enum uw_format fmt;
	struct m2d_error e;

	if (uw_format_detect(AT_FDCWD, c->fo->mbox, NULL, &fmt, &e) < 0 ||
	    (fmt != UW_FMT_MBX && fmt != UW_FMT_MIX && fmt != UW_FMT_MMDF))
		return 0;
	if (c->fo->dirname[0] == '\0' &&
	    (fmt == UW_FMT_MBX || fmt == UW_FMT_MIX)) {
		c->spool_fo = *c->fo;
		snprintf(spool_path, sizeof(spool_path), "%s/%s",
			 c->fo->cfg->spool_dir, c->fo->user->name);
		c->spool_fo.mbox = spool_path;
		c->spool_fo.journal = NULL;
		c->fo = &c->spool_fo;
		c->uw_spool = true;
		c->rep->mbox = spool_path;
		return 0;
	}
	*rc = 0;
	if (c->ntodo > 0)
		*rc = m2d_error_set(err, M2D_ERR_UNSAFE, c->fo->mbox,
				    _("%zu messages reached it after cutover; "
				      "it is in UW's %s format, into which a "
				      "rollback carries no mail: copy them by "
				      "hand"), c->ntodo, uw_format_name(fmt));
	return 1;
}

static int carry(struct carry *c, struct m2d_error *err)
{
	const struct rollback_folder *fo = c->fo;
	int rc;

	rc = open_maildir(c, err);
	if (rc <= 0)
		return rc;
	if (check_uidlist(c, err) < 0 || select_todo(c, err) < 0)
		return -1;
	/* no inbox was migrated (its spool file refused, say) and no mail
	 * reached the maildir's root since: the spool file, whatever it is,
	 * is left alone (a user's odd spool file must not fail the whole
	 * rollback) */
	if (fo->journal == NULL && fo->dirname[0] == '\0' && c->ntodo == 0 &&
	    !c->rec.exists) {
		c->rep->gone = true;	/* nothing to say either */
		return 0;
	}
	if (carry_uw(c, &rc, err) > 0)
		return rc;
	rc = open_mbox(c, err);
	if (rc <= 0)
		return rc;
	if (cut_back_pending(c, err) < 0 || check_old_bytes(c, err) < 0)
		return -1;
	if (fo->dry_run) {
		c->rep->appended = c->ntodo;
		return 0;
	}
	if (c->ntodo == 0)
		return record_empty(c, err);
	return append(c, err);
}

int rollback_folder(const struct rollback_folder *fo,
		    struct rollback_folder_report *rep,
		    struct m2d_error *err)
{
	struct carry c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.fo = fo;
	c.rep = rep;
	c.mb.parentfd = c.mb.fd = -1;
	rc = carry(&c, err);
	mbox_append_close(&c.mb, rc < 0 && !c.wrote);
	free(c.todo);
	free(c.xuids);
	free(c.declared);
	rollback_record_free(&c.rec);
	maildir_reader_free(&c.md);
	return rc < 0 ? -1 : 0;
}
