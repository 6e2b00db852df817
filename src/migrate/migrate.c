/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - every user and folder of the plan, exactly once
 *
 * Exactly once, by the journal: a folder is marked "converting" before its
 * conversion starts, and "done" with its source's identity only after the
 * converter has synced it and moved it into place.  A re-run skips a done
 * folder whose source is unchanged (one stat), and converts again, with
 * replace, any folder caught converting or whose source changed: the new
 * result takes the old one's place in one rename.  So a run killed at any
 * moment and started again ends exactly like an uninterrupted run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "migrate.h"
#include "maildir-writer.h"
#include "mbox-reader.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

struct engine {
	const struct plan *plan;
	struct journal *journal;
	const struct migrate_settings *set;
	struct migrate_totals *totals;
	pthread_mutex_t lock;		/* totals, queue, reports */
	size_t *queue;			/* folder indexes, biggest first */
	size_t nqueue, next;
	bool *user_ok;			/* a folder of the user is in place */
	struct timespec start;

	/* group commit: staged folders wait for one sync, then install */
	pthread_mutex_t commit_lock;	/* one commit round at a time */
	struct staged *pending;		/* under lock */
	size_t npending;
	unsigned long long pending_bytes;
};

/* A folder converted into its staging directory, not yet in place. */
struct staged {
	const struct plan_folder *folder;
	struct maildir_folder *maildir;
	struct convert_stats stats;
};

/* A commit round when this many folders or bytes wait. */
#define COMMIT_FOLDERS 32
#define COMMIT_BYTES (256ULL * 1024 * 1024)

/* One folder being converted by one worker. */
struct folder_job {
	struct engine *e;
	const struct plan_folder *folder;
	long long reported;		/* source bytes counted in totals */
};

static double elapsed(const struct engine *e)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - e->start.tv_sec) +
		(double)(now.tv_nsec - e->start.tv_nsec) / 1e9;
}

/* Call the report callback; the engine lock must be held. */
static void report_locked(struct engine *e, enum migrate_event event,
			  const struct plan_user *user,
			  const struct plan_folder *folder,
			  const struct convert_stats *stats,
			  const struct m2d_error *error)
{
	struct migrate_report r;

	if (e->set->report == NULL)
		return;
	e->totals->seconds = elapsed(e);
	r.event = event;
	r.user = user;
	r.folder = folder;
	r.stats = stats;
	r.error = error;
	r.totals = e->totals;
	e->set->report(&r, e->set->ctx);
}

static void report(struct engine *e, enum migrate_event event,
		   const struct plan_user *user,
		   const struct plan_folder *folder,
		   const struct convert_stats *stats,
		   const struct m2d_error *error)
{
	pthread_mutex_lock(&e->lock);
	report_locked(e, event, user, folder, stats, error);
	pthread_mutex_unlock(&e->lock);
}

static void engine_init(struct engine *e, const struct plan *plan,
			struct journal *journal,
			const struct migrate_settings *set,
			struct migrate_totals *totals)
{
	memset(e, 0, sizeof(*e));
	memset(totals, 0, sizeof(*totals));
	e->plan = plan;
	e->journal = journal;
	e->set = set;
	e->totals = totals;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->commit_lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &e->start);
}

static bool cancelled(const struct engine *e)
{
	return e->set->cancel != NULL && *e->set->cancel;
}

/* ---- migrate-users ---- */

/* Journal users by name, then target. */
static int cmp_journal_user(const void *a, const void *b)
{
	const struct journal_user *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c != 0 ? c : strcmp(x->target, y->target);
}

int migrate_users(const struct plan *plan, struct journal *journal,
		  const struct migrate_settings *set,
		  struct migrate_totals *totals, struct m2d_error *err)
{
	struct engine e;
	struct journal_user *jus;
	size_t i, njus;
	int ret = 0;

	(void)err;
	engine_init(&e, plan, journal, set, totals);
	/* the users the journal knew before this run, sorted: one lookup
	 * per user in O(log n) (the plan's names are unique, so those this
	 * run records need no lookup) */
	jus = NULL;
	njus = journal != NULL ? journal_users(journal, &jus) : 0;
	if (njus > 0)
		qsort(jus, njus, sizeof(*jus), cmp_journal_user);
	for (i = 0; i < plan->nusers && !cancelled(&e); i++) {
		const struct plan_user *u = &plan->users[i];
		struct maildir_owner owner = { u->uid, u->gid };
		struct journal_user key;
		struct m2d_error uerr;
		bool created = false, ours = false;
		int fd;

		if (set->dry_run) {
			totals->users_done++;
			report(&e, MIGRATE_USER_DONE, u, NULL, NULL, NULL);
			continue;
		}
		key.user = (char *)u->name;
		key.target = (char *)u->target;
		ours = njus > 0 && bsearch(&key, jus, njus, sizeof(*jus),
					   cmp_journal_user) != NULL;

		m2d_error_clear(&uerr);
		fd = maildir_root_open(u->target, &owner, &created, NULL, &uerr);
		if (fd >= 0) {
			struct stat st;

			if (!created && !ours && fstat(fd, &st) == 0 &&
			    u->uid != -1 && st.st_uid != (uid_t)u->uid) {
				m2d_error_set(&uerr, M2D_ERR_EXISTS, u->target,
					      _("exists already and belongs to "
						"another user; not ours to use"));
				close(fd);
				fd = -1;
			} else {
				close(fd);
			}
		}
		if (fd >= 0 && (created || !ours) &&
		    journal_user_created(journal, u->name, u->target,
					 &uerr) < 0)
			fd = -1;
		if (fd < 0) {
			ret = 1;
			totals->users_failed++;
			report(&e, MIGRATE_USER_FAILED, u, NULL, NULL, &uerr);
			continue;
		}
		totals->users_done++;
		report(&e, MIGRATE_USER_DONE, u, NULL, NULL, NULL);
	}
	journal_users_free(jus, njus);
	pthread_mutex_destroy(&e.lock);
	return ret;
}

/* ---- migrate-folders ---- */

static void on_progress(const struct convert_stats *st, void *ctx)
{
	struct folder_job *job = ctx;
	struct engine *e = job->e;

	pthread_mutex_lock(&e->lock);
	e->totals->bytes_done += (unsigned long long)(st->source_done -
						      job->reported);
	job->reported = st->source_done;
	report_locked(e, MIGRATE_TICK, &e->plan->users[job->folder->user],
		      job->folder, st, NULL);
	pthread_mutex_unlock(&e->lock);
}

static void on_warning(const struct m2d_error *w, void *ctx)
{
	struct folder_job *job = ctx;

	report(job->e, MIGRATE_FOLDER_WARNING,
	       &job->e->plan->users[job->folder->user], job->folder, NULL, w);
}

/* A folder in UW's mbx, mix or MMDF format (or with a spool)? */
static bool uw_source(const struct plan_folder *f)
{
	return f->format == UW_FMT_MBX || f->format == UW_FMT_MIX ||
		f->format == UW_FMT_MMDF || f->spool != NULL;
}

/* The same identity (convert_source_identity) as when converted? */
static bool uw_unchanged(const struct plan_folder *f,
			 const struct journal_folder *jf)
{
	struct convert_stats id;

	memset(&id, 0, sizeof(id));
	return convert_source_identity(f->source, f->format, f->spool,
				       &id) == 0 &&
		id.dev == jf->source.dev && id.ino == jf->source.ino &&
		id.source_size == jf->source.size &&
		id.mtime_sec == jf->source.mtime_sec &&
		id.mtime_nsec == jf->source.mtime_nsec &&
		id.checksum == jf->source.checksum;
}

/* Done before from this very source, and still in place? */
static bool unchanged(const struct plan_folder *f, const struct plan_user *u,
		      const struct journal_folder *jf)
{
	struct stat st;
	char *uidlist;
	bool same;

	if (jf->state != JOURNAL_DONE || strcmp(jf->target, u->target) != 0 ||
	    strcmp(jf->dirname, f->dirname) != 0)
		return false;
	if (uw_source(f)) {
		if (!uw_unchanged(f, jf))
			return false;
	} else if (lstat(f->source, &st) < 0 || !S_ISREG(st.st_mode)) {
		return false;
	} else if ((unsigned long long)st.st_dev != jf->source.dev ||
		   (unsigned long long)st.st_ino != jf->source.ino ||
		   (long long)st.st_size != jf->source.size ||
		   (long long)st.st_mtim.tv_sec != jf->source.mtime_sec ||
		   (long long)st.st_mtim.tv_nsec != jf->source.mtime_nsec) {
		return false;
	}
	/* and the result is still there */
	uidlist = xasprintf("%s/%s%sdovecot-uidlist", u->target, f->dirname,
			    f->dirname[0] != '\0' ? "/" : "");
	same = lstat(uidlist, &st) == 0 && S_ISREG(st.st_mode);
	free(uidlist);
	return same;
}

static void install_failed(struct engine *e, const struct staged *s,
			   const struct m2d_error *err)
{
	pthread_mutex_lock(&e->lock);
	e->totals->folders_failed++;
	report_locked(e, MIGRATE_FOLDER_FAILED, &e->plan->users[s->folder->user],
		      s->folder, NULL, err);
	pthread_mutex_unlock(&e->lock);
}

/*
 * Put every staged folder in place with one sync for all of them: first
 * the journal (their "converting" lines), then each file system once,
 * then the renames, then their "done" lines.
 */
static void commit_round(struct engine *e)
{
	struct staged *batch;
	dev_t *synced;
	size_t n, i, k, nsynced = 0;
	struct m2d_error err;
	bool journal_ok;

	pthread_mutex_lock(&e->commit_lock);
	pthread_mutex_lock(&e->lock);
	n = e->npending;
	batch = xmalloc((n + 1) * sizeof(*batch));
	synced = xmalloc((n + 1) * sizeof(*synced));
	memcpy(batch, e->pending, n * sizeof(*batch));
	e->npending = 0;
	e->pending_bytes = 0;
	pthread_mutex_unlock(&e->lock);

	journal_ok = journal_sync(e->journal, &err) == 0;
	for (i = 0; i < n; i++) {
		const struct plan_folder *f = batch[i].folder;
		const struct plan_user *u = &e->plan->users[f->user];
		const struct convert_stats *st = &batch[i].stats;
		struct journal_folder done;
		dev_t dev = maildir_folder_dev(batch[i].maildir);

		for (k = 0; k < nsynced && synced[k] != dev; k++)
			;
		if (!journal_ok ||
		    (k == nsynced &&
		     maildir_folder_sync(batch[i].maildir, &err) < 0) ||
		    maildir_folder_install(batch[i].maildir, &err) < 0) {
			install_failed(e, &batch[i], &err);
			maildir_folder_free(&batch[i].maildir);
			continue;
		}
		if (k == nsynced)
			synced[nsynced++] = dev;
		maildir_folder_free(&batch[i].maildir);

		memset(&done, 0, sizeof(done));
		done.user = u->name;
		done.listed = f->listed;
		done.target = u->target;
		done.dirname = f->dirname;
		done.source.dev = st->dev;
		done.source.ino = st->ino;
		done.source.size = st->source_size;
		done.source.mtime_sec = st->mtime_sec;
		done.source.mtime_nsec = st->mtime_nsec;
		done.source.checksum = st->checksum;
		done.messages = st->messages;
		done.uidvalidity = st->uidvalidity;
		done.nextuid = st->nextuid;
		if (journal_done(e->journal, &done, &err) < 0) {
			install_failed(e, &batch[i], &err);
			continue;
		}
		pthread_mutex_lock(&e->lock);
		e->totals->folders_done++;
		e->totals->messages += st->messages;
		e->user_ok[f->user] = true;
		report_locked(e, MIGRATE_FOLDER_DONE, u, f, st, NULL);
		pthread_mutex_unlock(&e->lock);
	}
	pthread_mutex_unlock(&e->commit_lock);
	free(batch);
	free(synced);
}

/*
 * Is the folder in the target still exactly what we installed?  (Its
 * message files are as many as we wrote and its uidlist's next UID is
 * ours: no mail was delivered into it, no client moved anything.)
 * Everything below the target root is the user's: no symlink followed,
 * dovecot-uidlist read only if it is a regular file.  Returns 1 yes, 0
 * no, -1 with ERR naming the entry: a FIFO, a symlink, a sparse uidlist,
 * a message we did not write (delivered since, or planted).
 */
static int target_untouched(const struct plan_folder *f,
			    const struct plan_user *u,
			    const struct journal_folder *jf,
			    struct m2d_error *err)
{
	static const char *const sub[] = { "cur", "new" };
	unsigned long files = 0, nextuid = 0;
	char path[PATH_MAX], upath[PATH_MAX + 32];
	struct stat st;
	FILE *list;
	int rootfd, dirfd, fd, i;

	snprintf(path, sizeof(path), "%s%s%s", u->target,
		 f->dirname[0] != '\0' ? "/" : "", f->dirname);
	rootfd = sf_open_dir(AT_FDCWD, u->target, u->target, err);
	if (rootfd < 0)
		return errno == ENOENT ? 0 : -1;
	if (f->dirname[0] == '\0') {
		dirfd = rootfd;
	} else {
		dirfd = sf_open_dir(rootfd, f->dirname, path, err);
		close(rootfd);
		if (dirfd < 0)
			return errno == ENOENT ? 0 : -1;
	}
	/* dovecot-uidlist: its first line only is read (no size limit
	 * needed); a FIFO, a symlink or a sparse one is named */
	snprintf(upath, sizeof(upath), "%s/dovecot-uidlist", path);
	fd = sf_open_read(dirfd, "dovecot-uidlist", 0, &st, upath, err);
	if (fd < 0) {
		if (errno != ENOENT) {
			close(dirfd);
			return -1;
		}
	} else if (sf_is_sparse(fd, &st)) {
		close(fd);
		close(dirfd);
		return m2d_error_set(err, M2D_ERR_EXISTS, upath,
				     _("a sparse file: folder \"%s\" changed in "
				       "the target since it was migrated; it "
				       "is not replaced"), f->name);
	} else if ((list = fdopen(fd, "r")) == NULL) {
		close(fd);
		close(dirfd);
		return m2d_error_sys(err, "fdopen", upath);
	} else {
		char line[256];

		if (fgets(line, sizeof(line), list) != NULL) {
			char *n = strstr(line, " N");

			if (n != NULL)
				nextuid = strtoul(n + 2, NULL, 10);
		}
		fclose(list);
	}
	for (i = 0; i < 2; i++) {
		struct dirent *d;
		DIR *dir;

		fd = sf_open_dir(dirfd, sub[i], path, err);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			close(dirfd);
			return -1;
		}
		dir = fdopendir(fd);
		if (dir == NULL) {
			close(fd);
			continue;
		}
		while ((d = readdir(dir)) != NULL) {
			const char *why = NULL;

			if (d->d_name[0] == '.')
				continue;
			files++;
			/* what is there that we did not write: named (a
			 * delivery since, or something planted) */
			if (fstatat(fd, d->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (!S_ISREG(st.st_mode))
				why = _("not a regular file (a symlink, FIFO "
					"or device?)");
			else if (!maildir_written_by_us(d->d_name))
				why = _("a message mbox2dovecot did not write "
					"(delivered since?)");
			if (why != NULL) {
				char where[2 * PATH_MAX];

				snprintf(where, sizeof(where), "%s/%s/%s", path,
					 sub[i], d->d_name);
				m2d_error_set(err, M2D_ERR_EXISTS, where,
					      _("%s: folder \"%s\" changed in "
						"the target since it was "
						"migrated; it is not replaced"),
					      why, f->name);
				closedir(dir);
				close(dirfd);
				return -1;
			}
		}
		closedir(dir);
	}
	close(dirfd);
	return files == jf->messages && nextuid == jf->nextuid;
}

/*
 * Was the source only appended to since JF (the same file, longer, its
 * old bytes the same)?  Fills FROM for convert_folder_append().
 */
static bool only_appended(const struct plan_folder *f,
			  const struct journal_folder *jf,
			  struct convert_append *from)
{
	struct m2d_error err;
	struct stat st;
	char *buf = NULL;
	long long left = jf->source.size;
	bool ok = false;
	unsigned char last = '\n';
	int fd = -1;

	if (jf->state != JOURNAL_DONE || jf->source.size == 0)
		return false;
	/* the user's: a regular file (never a FIFO), checked on the
	 * descriptor; anything else is not "only appended" */
	fd = sf_open_read(AT_FDCWD, f->source, 0, &st, f->source, &err);
	if (fd < 0 ||
	    (unsigned long long)st.st_dev != jf->source.dev ||
	    (unsigned long long)st.st_ino != jf->source.ino ||
	    (long long)st.st_size <= jf->source.size)
		goto out;
	buf = xmalloc(1024 * 1024);
	m2d_hash_init(&from->old_hash);
	while (left > 0) {
		ssize_t n = read(fd, buf, left < 1024 * 1024 ?
				 (size_t)left : 1024 * 1024);

		if (n <= 0)
			goto out;
		m2d_hash_update(&from->old_hash, buf, (size_t)n);
		last = (unsigned char)buf[n - 1];
		left -= n;
	}
	/* the old end must have been the end of a line */
	ok = last == '\n' &&
		m2d_hash_final(&from->old_hash) == jf->source.checksum;
	from->old_size = jf->source.size;
	from->old_messages = jf->messages;
	from->last_uid = jf->nextuid - 1;
	from->uidvalidity = jf->uidvalidity;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void convert_one(struct engine *e, const struct plan_folder *f)
{
	const struct plan_user *u = &e->plan->users[f->user];
	struct journal_folder jf;
	struct convert_settings cs;
	struct convert_stats st;
	struct folder_job job = { e, f, 0 };
	struct maildir_folder *staged;
	struct convert_append from;
	struct m2d_error ferr;
	bool known, round, append = false;
	int rc;

	m2d_error_clear(&ferr);
	known = e->journal != NULL &&
		journal_find(e->journal, u->name, f->listed, &jf) == 1;
	if (known && !e->set->dry_run && unchanged(f, u, &jf)) {
		journal_folder_free(&jf);
		pthread_mutex_lock(&e->lock);
		e->totals->folders_unchanged++;
		e->totals->bytes_done += (unsigned long long)f->size;
		e->user_ok[f->user] = true;
		report_locked(e, MIGRATE_FOLDER_UNCHANGED, u, f, NULL, NULL);
		pthread_mutex_unlock(&e->lock);
		return;
	}
	if (known && jf.state == JOURNAL_DONE && !e->set->dry_run &&
	    strcmp(jf.target, u->target) == 0 &&
	    strcmp(jf.dirname, f->dirname) == 0) {
		/* ours, complete: never replace what mail reached since */
		int r = target_untouched(f, u, &jf, &ferr);

		if (r == 0)
			m2d_error_set(&ferr, M2D_ERR_EXISTS, u->target,
				      _("folder \"%s\" changed in the target "
					"since it was migrated (mail delivered "
					"or moved there); it is not replaced"),
				      f->name);
		if (r <= 0) {
			journal_folder_free(&jf);
			goto failed;
		}
		/* mbox only: UW's formats change in place, and are
		   converted again whole */
		append = !uw_source(f) && only_appended(f, &jf, &from);
	}
	if (known)
		journal_folder_free(&jf);
	report(e, MIGRATE_FOLDER_START, u, f, NULL, NULL);

	memset(&cs, 0, sizeof(cs));
	cs.folder = f->name;
	cs.mboxrd = e->set->cfg != NULL && e->set->cfg->mboxrd;
	cs.max_message_size = e->set->cfg != NULL ?
		e->set->cfg->max_message_size : MBOX_DEFAULT_MAX_MESSAGE;
	cs.allow_sparse = e->set->cfg != NULL && e->set->cfg->allow_sparse;
	cs.format = f->format;
	cs.spool = f->spool;
	cs.dry_run = e->set->dry_run;
	cs.uid = u->uid;
	cs.gid = u->gid;
	cs.dotlock = true;
	/* the home is the user's: nothing below it is trusted */
	cs.source_base = u->home;
	/* what we made before (maybe half, if a run was killed) goes */
	cs.replace = known;
	cs.progress = on_progress;
	cs.warning = on_warning;
	cs.ctx = &job;
	cs.cancel = e->set->cancel;

	if (e->set->dry_run) {
		if (convert_folder(f->source, u->target, &cs, &st, &ferr) < 0)
			goto failed;
		pthread_mutex_lock(&e->lock);
		e->totals->folders_done++;
		e->totals->messages += st.messages;
		e->totals->bytes_done += (unsigned long long)(st.source_size -
							      job.reported);
		report_locked(e, MIGRATE_FOLDER_DONE, u, f, &st, NULL);
		pthread_mutex_unlock(&e->lock);
		return;
	}
	if (journal_converting(e->journal, u->name, f->listed, u->target,
			       f->dirname, &ferr) < 0)
		goto failed;
	/* new mail appended to the mbox: add just that */
	rc = append ? convert_folder_append(f->source, u->target, &cs, &from,
					    &st, &staged, &ferr) : 1;
	if (rc < 0 || (rc > 0 &&
		       convert_folder_stage(f->source, u->target, &cs, &st,
					    &staged, &ferr) < 0))
		goto failed;
	pthread_mutex_lock(&e->lock);
	e->totals->bytes_done += (unsigned long long)(st.source_size -
						      job.reported);
	e->pending[e->npending].folder = f;
	e->pending[e->npending].maildir = staged;
	e->pending[e->npending].stats = st;
	e->npending++;
	e->pending_bytes += st.bytes;
	round = e->npending >= COMMIT_FOLDERS ||
		e->pending_bytes >= COMMIT_BYTES;
	pthread_mutex_unlock(&e->lock);
	if (round)
		commit_round(e);
	return;
failed:
	pthread_mutex_lock(&e->lock);
	e->totals->folders_failed++;
	e->totals->bytes_done += (unsigned long long)(f->size - job.reported);
	report_locked(e, MIGRATE_FOLDER_FAILED, u, f, NULL, &ferr);
	pthread_mutex_unlock(&e->lock);
}

static void *worker(void *arg)
{
	struct engine *e = arg;

	for (;;) {
		size_t idx;

		pthread_mutex_lock(&e->lock);
		if (e->next == e->nqueue || cancelled(e)) {
			pthread_mutex_unlock(&e->lock);
			return NULL;
		}
		idx = e->queue[e->next++];
		pthread_mutex_unlock(&e->lock);
		convert_one(e, &e->plan->folders[idx]);
	}
}

static int by_size_desc(const void *a, const void *b, void *ctx)
{
	const struct plan *plan = ctx;
	const struct plan_folder *fa = &plan->folders[*(const size_t *)a];
	const struct plan_folder *fb = &plan->folders[*(const size_t *)b];

	if (fa->size != fb->size)
		return fa->size > fb->size ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* A folder the plan could not take is a failure the admin must see. */
static bool skip_is_failure(enum plan_skip skip)
{
	return skip == PLAN_SKIP_NAME || skip == PLAN_SKIP_UNREADABLE ||
		skip == PLAN_SKIP_MISSING;
}

/* Dovecot's subscriptions file is at most this large (as rollback reads
 * it). */
#define SUBSCRIPTIONS_MAX ((off_t)1024 * 1024)

/*
 * True when the maildir ROOT (open as ROOTFD) holds a subscriptions file
 * that is not one Dovecot or we wrote: not a regular file with one link,
 * larger than SUBSCRIPTIONS_MAX or sparse.  ERR then names it and says
 * why; it is never opened but by sf_open_read (no FIFO waited on).
 */
static bool subscriptions_foreign(int rootfd, const char *root,
				  struct m2d_error *err)
{
	char path[PATH_MAX + 16];
	struct stat st;
	bool bad = false;
	int fd;

	snprintf(path, sizeof(path), "%s/subscriptions", root);
	fd = sf_open_read(rootfd, "subscriptions", SUBSCRIPTIONS_MAX, &st,
			  path, err);
	if (fd < 0)
		bad = errno != ENOENT;
	else if (st.st_nlink != 1 || sf_is_sparse(fd, &st)) {
		if (st.st_nlink != 1)
			m2d_error_set(err, M2D_ERR_UNSAFE, path,
				      _("has %lu hard links"),
				      (unsigned long)st.st_nlink);
		else
			m2d_error_set(err, M2D_ERR_UNSAFE, path,
				      _("a sparse file (holes)"));
		bad = true;
	}
	if (fd >= 0)
		close(fd);
	if (bad) {
		size_t l = strlen(err->msg);

		snprintf(err->msg + l, sizeof(err->msg) - l, "%s",
			 _("; not Dovecot's: left alone, not replaced (the "
			   "subscriptions of ~/.mailboxlist not written)"));
	}
	return bad;
}

static void write_subscriptions(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->plan->nusers; i++) {
		const struct plan_user *u = &e->plan->users[i];
		struct m2d_error serr;
		int fd;

		if (!e->user_ok[i] || u->subscriptions == NULL)
			continue;
		fd = sf_open_dir(AT_FDCWD, u->target, u->target, &serr);
		if (fd >= 0 && subscriptions_foreign(fd, u->target, &serr)) {
			/* not a file Dovecot wrote (a FIFO, a symlink, a
			   giant or sparse one the user planted): said and
			   left alone, as rollback and clear leave it */
			pthread_mutex_lock(&e->lock);
			e->totals->users_failed++;
			report_locked(e, MIGRATE_USER_FAILED, u, NULL, NULL,
				      &serr);
			pthread_mutex_unlock(&e->lock);
			close(fd);
			continue;
		}
		if (fd < 0 ||
		    subscriptions_write(fd, (const char *const *)u->subscriptions,
					u->uid, u->gid, &serr) < 0) {
			/* its file names are relative to the maildir root */
			size_t lt = strlen(u->target), lr = strlen(serr.path);

			if (serr.path[0] != '/' &&
			    lt + 1 + lr < sizeof(serr.path)) {
				memmove(serr.path + lt + 1, serr.path, lr + 1);
				memcpy(serr.path, u->target, lt);
				serr.path[lt] = '/';
			}
			pthread_mutex_lock(&e->lock);
			e->totals->users_failed++;
			report_locked(e, MIGRATE_USER_FAILED, u, NULL, NULL,
				      &serr);
			pthread_mutex_unlock(&e->lock);
		}
		if (fd >= 0)
			close(fd);
	}
}

int migrate_folders(const struct plan *plan, struct journal *journal,
		    const struct migrate_settings *set,
		    struct migrate_totals *totals, struct m2d_error *err)
{
	struct engine e;
	pthread_t *threads;
	size_t i;
	int jobs = set->jobs, started = 0, t;

	engine_init(&e, plan, journal, set, totals);
	e.queue = xcalloc(plan->nfolders + 1, sizeof(*e.queue));
	e.user_ok = xcalloc(plan->nusers + 1, sizeof(*e.user_ok));
	if (jobs <= 0)
		jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs <= 0)
		jobs = 1;
	/* each worker adds at most one before it waits for a round */
	e.pending = xcalloc(COMMIT_FOLDERS + (size_t)jobs, sizeof(*e.pending));
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip == PLAN_TAKEN) {
			e.queue[e.nqueue++] = i;
			totals->bytes_total += (unsigned long long)f->size;
		} else if (skip_is_failure(f->skip)) {
			struct m2d_error ferr;

			/* the reason begins with what plan_skip_str says */
			m2d_error_set(&ferr, M2D_ERR_NAME, f->source, "%s",
				      f->reason != NULL ? f->reason :
				      plan_skip_str(f->skip));
			totals->folders_failed++;
			report(&e, MIGRATE_FOLDER_FAILED, &plan->users[f->user],
			       f, NULL, &ferr);
		}
	}
	totals->folders_total = e.nqueue + totals->folders_failed;
	/* biggest first: the longest job must not start last */
	qsort_r(e.queue, e.nqueue, sizeof(*e.queue), by_size_desc,
		(void *)plan);

	if ((size_t)jobs > e.nqueue)
		jobs = e.nqueue > 0 ? (int)e.nqueue : 1;
	threads = xcalloc((size_t)jobs, sizeof(*threads));
	for (t = 1; t < jobs; t++) {
		if (pthread_create(&threads[t], NULL, worker, &e) != 0)
			break;
		started = t;
	}
	worker(&e);		/* this thread is worker 0 */
	for (t = 1; t <= started; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	if (!set->dry_run) {
		commit_round(&e);	/* what is left */
		if (journal_sync(journal, err) < 0)
			totals->folders_failed++;
	}

	if (!set->dry_run && !cancelled(&e))
		write_subscriptions(&e);
	free(e.queue);
	free(e.user_ok);
	free(e.pending);
	pthread_mutex_destroy(&e.lock);
	pthread_mutex_destroy(&e.commit_lock);
	if (cancelled(&e)) {
		return m2d_error_set(err, M2D_ERR_CANCELLED, "",
				     _("cancelled; run the same command again "
				       "to continue"));
	}
	return totals->folders_failed > 0 || totals->users_failed > 0 ? 1 : 0;
}

/* ---- clear ---- */

/* Is PATH strictly below BASE (string-wise, at a '/')? */
static bool below(const char *path, const char *base)
{
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	return strncmp(path, base, n) == 0 && path[n] == '/' &&
		path[n + 1] != '\0' && strstr(path + n, "/../") == NULL &&
		strcmp(path + strlen(path) - 3, "/..") != 0;
}

/* What Dovecot or we keep in a maildir root besides folders. */
static bool maildir_file(const char *name)
{
	return strcmp(name, "cur") == 0 || strcmp(name, "new") == 0 ||
		strcmp(name, "tmp") == 0 ||
		strncmp(name, "dovecot", 7) == 0 ||
		strcmp(name, "subscriptions") == 0 ||
		strcmp(name, "maildirfolder") == 0;
}

/* strcmp() order of two (const char *) */
static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Order of two (const struct journal_folder *): target, then dirname. */
static int cmp_folder_ptr(const void *a, const void *b)
{
	typedef const struct journal_folder *const *folder_pp;
	const struct journal_folder *x = *(folder_pp)a, *y = *(folder_pp)b;
	int c = strcmp(x->target, y->target);

	return c != 0 ? c : strcmp(x->dirname, y->dirname);
}

/* The index of the first of the N sorted strings V not before KEY. */
static size_t lower_bound(const char *const *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether a folder of the sorted list (cmp_folder_ptr) is ROOT/NAME. */
static bool folder_known(const struct journal_folder *const *sorted,
			 size_t n, const char *root, const char *name)
{
	struct journal_folder key;
	const struct journal_folder *kp = &key;

	if (n == 0)
		return false;
	memset(&key, 0, sizeof(key));
	key.target = (char *)root;
	key.dirname = (char *)name;
	return bsearch(&kp, sorted, n, sizeof(*sorted), cmp_folder_ptr) != NULL;
}

/* Check every entry of the user root ROOT is ours (FOLDERS: sorted by
 * cmp_folder_ptr). */
static int check_root(const char *root,
		      const struct journal_folder *const *folders,
		      size_t nfolders, struct m2d_error *err)
{
	struct dirent *d;
	DIR *dir;
	int fd = sf_open_dir(AT_FDCWD, root, root, err);

	if (fd < 0)
		return err->sys_errno == ENOENT ? 0 : -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return m2d_error_sys(err, "opendir", root);
	}
	while ((d = readdir(dir)) != NULL) {
		bool known = strcmp(d->d_name, ".") == 0 ||
			strcmp(d->d_name, "..") == 0 ||
			maildir_file(d->d_name) ||
			folder_known(folders, nfolders, root, d->d_name);

		if (!known) {
			m2d_error_set(err, M2D_ERR_EXISTS, root,
				      _("holds \"%s\", which mbox2dovecot did "
					"not create; nothing was removed"),
				      d->d_name);
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

static bool is_dir_at(int fd, const char *name)
{
	struct stat st;

	return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISDIR(st.st_mode);
}

/* The most a file of ours in a maildir can hold (26 keywords; a list of
 * folder names; a uidlist line per message) */
static off_t clear_file_max(const char *name)
{
	return strcmp(name, "dovecot-uidlist") == 0 ?
		(off_t)64 * 1024 * 1024 :
		strcmp(name, "maildirfolder") == 0 ? 1 : (off_t)1024 * 1024;
}

/* Not ours: refuse, naming PATH/NAME. */
static int not_ours(const char *path, const char *name, const char *why,
		    struct m2d_error *err)
{
	char where[2 * PATH_MAX];

	snprintf(where, sizeof(where), "%s/%s", path, name);
	return m2d_error_set(err, M2D_ERR_EXISTS, where,
			     _("refused: %s, which mbox2dovecot did not "
			       "create; nothing was removed"), why);
}

/*
 * Check every file of the maildir folder NAME below ROOTFD ("" the root
 * itself) is one we made: cur/ and new/ hold only regular files with one
 * link and our names (a message delivered or planted since would be
 * lost), tmp/ only what a killed run of ours left, the folder itself
 * only Dovecot's and our files, as regular files.  Nothing is followed.
 * Other hard links are looked at only when LINKS (a second pass: a file
 * of ours linked from another user's maildir is then named there first,
 * by its name or type, not here).
 */
static int check_folder_files(int rootfd, const char *root, const char *name,
			      bool links, struct m2d_error *err)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "%s%s%s", root, name[0] != '\0' ? "/" : "",
		 name);
	fd = name[0] != '\0' ? sf_open_dir(rootfd, name, path, err) :
		dup(rootfd);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return m2d_error_sys(err, "opendir", path);
	}
	while ((d = readdir(dir)) != NULL) {
		const char *n = d->d_name;
		bool sub = strcmp(n, "cur") == 0 || strcmp(n, "new") == 0 ||
			strcmp(n, "tmp") == 0;
		struct stat st;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (name[0] == '\0' && n[0] == '.')
			continue;	/* a folder: checked on its own */
		if (!maildir_file(n)) {
			not_ours(path, n, _("an unknown file"), err);
			closedir(dir);	/* N is gone with it */
			return -1;
		}
		if (fstatat(dirfd(dir), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			closedir(dir);
			return m2d_error_sys(err, "stat", path);
		}
		if (sub ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
			not_ours(path, n, _("not a directory or regular file "
					    "as it should be (a symlink, "
					    "FIFO, device?)"), err);
			closedir(dir);
			return -1;
		}
		if (strcmp(n, "dovecot-uidlist") == 0 ||
		    strcmp(n, "dovecot-keywords") == 0 ||
		    strcmp(n, "subscriptions") == 0 ||
		    strcmp(n, "maildirfolder") == 0) {
			/* files we wrote: never that large, sparse or linked
			 * elsewhere */
			const char *why = links && st.st_nlink > 1 ?
				_("a file with other hard links") : NULL;
			struct m2d_error e2;
			int ffd;

			if (why == NULL) {
				ffd = sf_open_read(dirfd(dir), n,
						   clear_file_max(n), &st,
						   path, &e2);
				if (ffd < 0)
					why = _("larger than any file "
						"mbox2dovecot writes");
				else if (sf_is_sparse(ffd, &st))
					why = _("a sparse file");
				if (ffd >= 0)
					close(ffd);
			}
			if (why != NULL) {
				not_ours(path, n, why, err);
				closedir(dir);
				return -1;
			}
		}
		if (sub) {
			char subpath[PATH_MAX + 320];
			struct dirent *e;
			DIR *sd;
			int sfd;

			snprintf(subpath, sizeof(subpath), "%s/%s", path, n);
			sfd = sf_open_dir(dirfd(dir), n, subpath, err);
			if (sfd < 0 || (sd = fdopendir(sfd)) == NULL) {
				if (sfd >= 0)
					close(sfd);
				closedir(dir);
				return sfd < 0 ? -1 :
					m2d_error_sys(err, "opendir", subpath);
			}
			while ((e = readdir(sd)) != NULL) {
				const char *m = e->d_name;
				bool ok;

				if (strcmp(m, ".") == 0 || strcmp(m, "..") == 0)
					continue;
				if (n[0] == 't')	/* tmp/: a killed run's */
					ok = strncmp(m, "m2d-stage.", 10) == 0 ||
						strncmp(m, "m2d-lock.", 9) == 0;
				else
					ok = maildir_written_by_us(m) &&
						fstatat(sfd, m, &st,
							AT_SYMLINK_NOFOLLOW)
						== 0 && S_ISREG(st.st_mode) &&
						(!links || st.st_nlink == 1);
				if (!ok) {
					int r = not_ours(subpath, m,
							 _("a file that is not "
							   "a message "
							   "mbox2dovecot "
							   "wrote (mail "
							   "delivered since?)"),
							 err);

					closedir(sd);
					closedir(dir);
					return r;
				}
			}
			closedir(sd);
		}
	}
	closedir(dir);
	return 0;
}

/*
 * Whether DIRPATH/NAME is a user root of the sorted TARGETS (*ROOT_R) or
 * above one (*PARENT_R): two binary searches.
 */
static void base_entry(const char *const *targets, size_t n,
		       const char *dirpath, const char *name, bool *root_r,
		       bool *parent_r)
{
	char *key = xasprintf("%s/%s/", dirpath, name);
	size_t len = strlen(key), i;

	key[len - 1] = '\0';
	i = lower_bound(targets, n, key);
	*root_r = i < n && strcmp(targets[i], key) == 0;
	key[len - 1] = '/';
	i = lower_bound(targets, n, key);
	*parent_r = i < n && strncmp(targets[i], key, len) == 0;
	free(key);
}

/* Check every entry under BASE leads to a user root of ours (TARGETS:
 * the user roots, sorted by strcmp()). */
static int check_base(const char *dirpath, const char *const *targets,
		      size_t nusers, struct m2d_error *err)
{
	struct dirent *d;
	DIR *dir;
	int fd = sf_open_dir(AT_FDCWD, dirpath, dirpath, err);

	if (fd < 0)
		return err->sys_errno == ENOENT ? 0 : -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return m2d_error_sys(err, "opendir", dirpath);
	}
	while ((d = readdir(dir)) != NULL) {
		bool root, parent;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		base_entry(targets, nusers, dirpath, d->d_name, &root, &parent);
		if (!root && parent && is_dir_at(dirfd(dir), d->d_name)) {
			char *sub = xasprintf("%s/%s", dirpath, d->d_name);
			int r;

			r = check_base(sub, targets, nusers, err);
			free(sub);
			if (r < 0) {
				closedir(dir);
				return -1;
			}
		} else if (!root) {
			m2d_error_set(err, M2D_ERR_EXISTS, dirpath,
				      _("holds \"%s\", which mbox2dovecot did "
					"not create; nothing was removed"),
				      d->d_name);
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

/*
 * Check that everything under TARGET_BASE and in the user roots is ours:
 * the user roots and their folders sorted once, each entry looked up.
 */
static int check_ours(const char *target_base, struct journal_user *users,
		      size_t nusers, struct journal_folder *folders,
		      size_t nfolders, struct m2d_error *err)
{
	const char **targets = xcalloc(nusers + 1, sizeof(*targets));
	const struct journal_folder **sorted =
		xcalloc(nfolders + 1, sizeof(*sorted));
	size_t i;
	int ret = -1;

	for (i = 0; i < nusers; i++)
		targets[i] = users[i].target;
	for (i = 0; i < nfolders; i++)
		sorted[i] = &folders[i];
	qsort(targets, nusers, sizeof(*targets), cmp_str_ptr);
	qsort(sorted, nfolders, sizeof(*sorted), cmp_folder_ptr);
	for (i = 0; i < nusers; i++) {
		if (!below(users[i].target, target_base)) {
			m2d_error_set(err, M2D_ERR_UNSAFE, users[i].target,
				      _("is not below the target %s; "
					"refusing to remove it"), target_base);
			goto out;
		}
		if (check_root(users[i].target, sorted, nfolders, err) < 0)
			goto out;
	}
	for (i = 0; i < nfolders; i++) {
		if (!below(folders[i].target, target_base) ||
		    (folders[i].dirname[0] != '\0' &&
		     (folders[i].dirname[0] != '.' ||
		      strchr(folders[i].dirname, '/') != NULL ||
		      strcmp(folders[i].dirname, "..") == 0))) {
			m2d_error_set(err, M2D_ERR_UNSAFE, folders[i].target,
				      _("journal entry outside the target %s; "
					"refusing"), target_base);
			goto out;
		}
	}
	ret = check_base(target_base, targets, nusers, err);
out:
	free(targets);
	free(sorted);
	return ret;
}

int migrate_clear(const char *target_base, struct journal *journal,
		  struct m2d_error *err)
{
	struct journal_folder *folders;
	struct journal_user *users;
	size_t nfolders, nusers, i;
	int ret = -1;

	nfolders = journal_folders(journal, &folders);
	nusers = journal_users(journal, &users);
	/* first make sure we remove only what is ours */
	if (check_ours(target_base, users, nusers, folders, nfolders, err) < 0)
		goto out;
	/* and every file of what will be removed: a message delivered or
	 * planted since (or a FIFO, a symlink) stops it, named.  The roots
	 * we made go whole; in a root we did not make, only our folders */
	for (i = 0; i < 2 * (nusers + nfolders); i++) {
		/* twice: names and types first, then other hard links */
		size_t k = i % (nusers + nfolders);
		const char *target = k < nusers ? users[k].target :
			folders[k - nusers].target;
		const char *dn = k < nusers ? "" : folders[k - nusers].dirname;
		int rootfd, r;

		if (k >= nusers && (dn[0] != '.' || strchr(dn, '/') != NULL ||
				    strcmp(dn, "..") == 0))
			continue;	/* an INBOX: goes only with its root */
		rootfd = sf_open_dir(AT_FDCWD, target, target, err);
		if (rootfd < 0) {
			if (errno == ENOENT)
				continue;
			goto out;
		}
		r = check_folder_files(rootfd, target, dn,
				       i >= nusers + nfolders, err);
		close(rootfd);
		if (r < 0)
			goto out;
	}

	for (i = 0; i < nfolders; i++) {
		if (folders[i].dirname[0] != '\0') {
			int fd = sf_open_dir(AT_FDCWD, folders[i].target,
					     folders[i].target, err);

			if (fd >= 0) {
				int r = sf_remove_tree(fd, folders[i].dirname);

				close(fd);
				if (r < 0) {
					m2d_error_sys(err, "unlink",
						      folders[i].target);
					goto out;
				}
			}
		}
		if (journal_forget(journal, folders[i].user, folders[i].listed,
				   err) < 0)
			goto out;
	}
	for (i = 0; i < nusers; i++) {
		char *parent, *slash;

		if (sf_remove_tree(AT_FDCWD, users[i].target) < 0) {
			m2d_error_sys(err, "unlink", users[i].target);
			goto out;
		}
		/* the hash directories of a layout like %1u/%u, if empty */
		parent = xstrdup(users[i].target);
		while ((slash = strrchr(parent, '/')) != NULL) {

			*slash = '\0';
			if (!below(parent, target_base) || rmdir(parent) < 0)
				break;
		}
		free(parent);
		if (journal_forget(journal, users[i].user, NULL, err) < 0)
			goto out;
	}
	ret = journal_compact(journal, err);
out:
	journal_folders_free(folders, nfolders);
	journal_users_free(users, nusers);
	return ret;
}
