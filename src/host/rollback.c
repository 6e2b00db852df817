/* SPDX-License-Identifier: MIT */
/*
 * rollback.c - back from Dovecot to UW-IMAP (rollback.h): the order of
 * things.  The users of the journal one by one, each user's folders (those
 * the journal has, an inbox Postfix made since, the folders made after
 * cutover, with their subscriptions) carried back by rollback_folder();
 * around it the system: Postfix held and switched back, Dovecot stopped,
 * its configuration put back, UW-IMAP enabled, each through the one owner
 * of that action (host-actions.h).
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folder-names.h"
#include "host-actions.h"
#include "maildir-reader.h"
#include "mbox-append.h"
#include "plan.h"
#include "rollback.h"
#include "safe-file.h"
#include "str-escape.h"
#include "xalloc.h"
#include "i18n.h"

/* ---- where the mboxes are ---- */

/* The first folder root of U: where folders made after cutover go. */
static char *first_root(const struct m2d_config *cfg,
			const struct plan_user *u)
{
	const char *r = cfg->nroots > 0 ? cfg->folder_roots[0] : "~/mail";
	size_t n = 0;
	char *out;

	if (r[0] == '~') {
		const char *rel = r + 1;

		while (*rel == '/')
			rel++;
		if (u->home == NULL)
			return NULL;
		return xasprintf("%s%s%s", u->home, rel[0] != '\0' ? "/" : "",
				 rel);
	}
	/* absolute, with %u */
	out = xmalloc(strlen(r) * (strlen(u->name) + 1) + 1);
	for (; *r != '\0'; r++) {
		if (r[0] == '%' && r[1] == 'u') {
			memcpy(out + n, u->name, strlen(u->name));
			n += strlen(u->name);
			r++;
		} else {
			out[n++] = *r;
		}
	}
	out[n] = '\0';
	return out;
}

/* The mbox path of a folder in the journal: the plan's source, else from
 * its listed form ("user/INBOX", "user/REL" below the home); NULL when it
 * cannot be told. */
static char *journal_mbox(const struct m2d_config *cfg,
			  const struct plan *plan, const struct plan_user *u,
			  const struct journal_folder *jf)
{
	const char *rel;

	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip == PLAN_TAKEN && f->source != NULL &&
		    strcmp(f->listed, jf->listed) == 0)
			return xstrdup(f->source);
	}
	rel = jf->listed + strlen(u->name);
	if (*rel != '/')
		return NULL;
	rel++;
	if (strcmp(rel, "INBOX") == 0)
		return xasprintf("%s/%s", cfg->spool_dir, u->name);
	if (rel[0] == '/')
		return xstrdup(rel);
	if (u->home != NULL)
		return xasprintf("%s/%s", u->home, rel);
	return NULL;
}

/* ---- one user ---- */

/* A user on the way back. */
struct user_run {
	const struct rollback_settings *set;
	const struct plan *plan;
	const struct plan_user *u;
	struct rollback_totals *t;
	char *root;			/* the maildir root */
	const char **known;		/* the journal's dirnames, sorted */
	size_t nknown;
	char **subs;			/* Dovecot's subscriptions */
	int subs_read;			/* 1 read, 0 not yet, -1 refused */
	bool subs_said;			/* the refusal reported */
	struct m2d_error suberr;	/* why they were refused */
};

static int by_dirname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_subscribed(char *const *subs, const char *name)
{
	for (size_t i = 0; subs != NULL && subs[i] != NULL; i++)
		if (strcmp(subs[i], name) == 0)
			return true;
	return false;
}

static void report_folder(const struct rollback_settings *set,
			  struct rollback_folder_report *rep,
			  struct rollback_totals *t)
{
	t->folders++;
	if (rep->error != NULL)
		t->failed++;
	t->appended += rep->appended;
	t->flags_changed += rep->flags_changed;
	t->expunged += rep->expunged;
	t->keywords_lost += rep->keywords_lost;
	if (rep->created && rep->error == NULL)
		t->created++;
	if (rep->subscribed)
		t->subscribed++;
	if (set->report != NULL)
		set->report(rep, set->ctx);
}

/* The refused subscriptions said once, with the first folder reported. */
static void say_subs_refused(struct user_run *ur,
			     struct rollback_folder_report *rep)
{
	if (ur->subs_read < 0 && !ur->subs_said) {
		rep->subscribe_error = &ur->suberr;
		rep->subscriptions_refused = ur->subs_said = true;
	}
}

/* Dovecot's subscriptions, read once, first: one that is refused (a FIFO,
 * a symlink, a giant, sparse: not Dovecot's) is said with the user's
 * first folder and counted, whether or not a folder made after cutover
 * needs it (every command that reads a place says what it refused). */
static void read_subscriptions(struct user_run *ur,
			       const struct journal_folder *jfs, size_t njfs)
{
	const char *r0 = ur->u->target;
	int fd;

	for (size_t i = 0; i < njfs; i++)
		if (strcmp(jfs[i].user, ur->u->name) == 0) {
			r0 = jfs[i].target;
			break;
		}
	m2d_error_clear(&ur->suberr);
	fd = r0 != NULL ? sf_open_dir(AT_FDCWD, r0, r0, &ur->suberr) : -1;
	if (fd >= 0) {
		ur->subs_read = maildir_read_subscriptions(fd, r0, &ur->subs,
							   &ur->suberr) < 0 ?
			-1 : 1;
		close(fd);
	}
	if (ur->subs_read < 0)
		ur->t->refused++;
}

/* One folder of the journal. */
static void carry_journal_folder(struct user_run *ur,
				 const struct journal_folder *jf)
{
	const struct rollback_settings *set = ur->set;
	struct rollback_folder_report rep;
	struct rollback_folder fo;
	struct m2d_error ferr;
	char *mbox, *name;

	memset(&rep, 0, sizeof(rep));
	m2d_error_clear(&ferr);
	mbox = journal_mbox(set->cfg, ur->plan, ur->u, jf);
	name = jf->dirname[0] == '\0' ? xstrdup("INBOX") :
		maildir_dirname_to_name(jf->dirname);
	rep.user = ur->u->name;
	rep.name = name != NULL ? name : jf->dirname;
	rep.mbox = mbox != NULL ? mbox : jf->listed;
	if (jf->state != JOURNAL_DONE) {
		m2d_error_set(&ferr, M2D_ERR_CHANGED, jf->listed,
			      _("its conversion never finished: nothing to "
				"carry back"));
		rep.error = &ferr;
	} else if (mbox == NULL) {
		m2d_error_set(&ferr, M2D_ERR_USAGE, jf->listed,
			      _("where its mbox is cannot be told"));
		rep.error = &ferr;
	} else {
		fo = (struct rollback_folder){ set->cfg, set->dry_run, ur->u,
			rep.name, jf->target, jf->dirname, mbox, jf };
		if (rollback_folder(&fo, &rep, &ferr) < 0)
			rep.error = &ferr;
	}
	say_subs_refused(ur, &rep);
	report_folder(set, &rep, ur->t);
	free(mbox);
	free(name);
}

/* The folders of the journal; ROOT and KNOWN from them. */
static void carry_journal_folders(struct user_run *ur,
				  const struct journal_folder *jfs,
				  size_t njfs)
{
	ur->known = xcalloc(njfs + 1, sizeof(*ur->known));
	for (size_t i = 0; i < njfs; i++) {
		const struct journal_folder *jf = &jfs[i];

		if (strcmp(jf->user, ur->u->name) != 0)
			continue;
		if (ur->root == NULL)
			ur->root = xstrdup(jf->target);
		ur->known[ur->nknown++] = jf->dirname;
		carry_journal_folder(ur, jf);
	}
	if (ur->root == NULL && ur->u->target != NULL)
		ur->root = xstrdup(ur->u->target);
	if (ur->nknown > 0)
		qsort(ur->known, ur->nknown, sizeof(*ur->known), by_dirname);
}

static bool known_dirname(const struct user_run *ur, const char *dn)
{
	return ur->nknown > 0 &&
		bsearch(&dn, ur->known, ur->nknown, sizeof(*ur->known),
			by_dirname) != NULL;
}

/* No inbox was migrated (no spool file then), but Postfix may have
 * delivered into the maildir root since. */
static void carry_new_inbox(struct user_run *ur)
{
	const struct rollback_settings *set = ur->set;
	struct rollback_folder_report rep;
	struct rollback_folder fo;
	struct m2d_error ferr;
	char *mbox;

	if (known_dirname(ur, ""))
		return;
	memset(&rep, 0, sizeof(rep));
	m2d_error_clear(&ferr);
	mbox = xasprintf("%s/%s", set->cfg->spool_dir, ur->u->name);
	rep.user = ur->u->name;
	rep.name = "INBOX";
	rep.mbox = mbox;
	fo = (struct rollback_folder){ set->cfg, set->dry_run, ur->u, "INBOX",
		ur->root, "", mbox, NULL };
	if (rollback_folder(&fo, &rep, &ferr) < 0)
		rep.error = &ferr;
	if (!rep.gone) {
		say_subs_refused(ur, &rep);
		report_folder(set, &rep, ur->t);
	}
	free(mbox);
}

/* Whether DN (below the root, DIRFD) is a maildir folder made after
 * cutover: ".name", a directory with cur/, not in the journal. */
static bool new_folder_dir(const struct user_run *ur, int dirfd,
			   const char *dn)
{
	struct stat st;
	char cur[300];

	if (dn[0] != '.' || strcmp(dn, ".") == 0 || strcmp(dn, "..") == 0 ||
	    known_dirname(ur, dn))
		return false;
	if (fstatat(dirfd, dn, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return false;
	snprintf(cur, sizeof(cur), "%s/cur", dn);
	return fstatat(dirfd, cur, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISDIR(st.st_mode);
}

/* A new folder subscribed in Dovecot is subscribed for UW too. */
static void subscribe_new_folder(struct user_run *ur, int rootfd,
				 const char *name, const char *mbox,
				 struct rollback_folder_report *rep,
				 struct m2d_error *serr)
{
	int r;

	if (ur->subs_read == 0) {
		ur->subs_read = maildir_read_subscriptions(rootfd, ur->root,
							   &ur->subs,
							   &ur->suberr) < 0 ?
			-1 : 1;
		if (ur->subs_read < 0)
			ur->t->refused++;
	}
	if (ur->subs_read < 0) {
		/* cannot tell whether it is subscribed: said (again: this
		 * folder is not subscribed for UW because of it) */
		rep->subscribe_error = &ur->suberr;
		rep->subscriptions_refused = ur->subs_said = true;
		return;
	}
	if (!is_subscribed(ur->subs, name))
		return;
	m2d_error_clear(serr);
	r = mbox_append_subscribe(ur->u, mbox, ur->set->dry_run, serr);
	rep->subscribed = r > 0;
	if (r < 0)
		rep->subscribe_error = serr;
}

/* The folder DN made in the maildir after cutover: a new mbox below the
 * first folder root FROOT. */
static void carry_new_folder(struct user_run *ur, int rootfd,
			     const char *froot, const char *dn)
{
	const struct rollback_settings *set = ur->set;
	struct rollback_folder_report rep;
	struct rollback_folder fo;
	struct m2d_error ferr, serr;
	char maildir_dn[256], *name, *mbox = NULL;

	memset(&rep, 0, sizeof(rep));
	m2d_error_clear(&ferr);
	name = maildir_dirname_to_name(dn);
	rep.user = ur->u->name;
	rep.name = name != NULL ? name : dn;
	rep.mbox = "";
	if (name == NULL ||
	    folder_name_to_maildir(name, maildir_dn, sizeof(maildir_dn)) !=
	    FOLDER_OK || strcmp(maildir_dn, dn) != 0) {
		m2d_error_set(&ferr, M2D_ERR_NAME, dn,
			      _("a folder made after cutover whose name "
				"cannot be an mbox name"));
		rep.error = &ferr;
	} else if (froot == NULL) {
		m2d_error_set(&ferr, M2D_ERR_USAGE, dn,
			      _("no folder root for a new mbox (the user has "
				"no home)"));
		rep.error = &ferr;
	} else {
		mbox = xasprintf("%s/%s", froot, name);
		rep.mbox = mbox;
		fo = (struct rollback_folder){ set->cfg, set->dry_run, ur->u,
			name, ur->root, dn, mbox, NULL };
		if (rollback_folder(&fo, &rep, &ferr) < 0)
			rep.error = &ferr;
		else
			subscribe_new_folder(ur, rootfd, name, mbox, &rep,
					     &serr);
	}
	report_folder(set, &rep, ur->t);
	free(name);
	free(mbox);
}

/* The folders made in the maildir after cutover.  The maildir root is
 * the user's: not followed if a symlink (the INBOX, in the root, has
 * reported why). */
static void carry_new_folders(struct user_run *ur)
{
	struct m2d_error ferr;
	struct dirent *d;
	char *froot;
	DIR *dir;
	int rootfd;

	rootfd = sf_open_dir(AT_FDCWD, ur->root, ur->root, &ferr);
	if (rootfd < 0)
		return;
	dir = fdopendir(rootfd);
	if (dir == NULL) {
		close(rootfd);
		return;
	}
	froot = first_root(ur->set->cfg, ur->u);
	while ((d = readdir(dir)) != NULL) {
		if (new_folder_dir(ur, dirfd(dir), d->d_name))
			carry_new_folder(ur, dirfd(dir), froot, d->d_name);
	}
	closedir(dir);
	free(froot);
}

static void carry_user(const struct rollback_settings *set,
		       const struct plan *plan, const struct plan_user *u,
		       const struct journal_folder *jfs, size_t njfs,
		       struct rollback_totals *t)
{
	struct user_run ur;

	memset(&ur, 0, sizeof(ur));
	ur.set = set;
	ur.plan = plan;
	ur.u = u;
	ur.t = t;
	t->users++;
	read_subscriptions(&ur, jfs, njfs);
	carry_journal_folders(&ur, jfs, njfs);
	if (ur.root != NULL) {
		carry_new_inbox(&ur);
		carry_new_folders(&ur);
	}
	maildir_names_free(ur.subs);
	free(ur.known);
	free(ur.root);
}

/* ---- every user ---- */

static bool wanted(const struct rollback_settings *set, const char *user)
{
	if (set->users == NULL)
		return true;
	for (size_t i = 0; set->users[i] != NULL; i++)
		if (strcmp(set->users[i], user) == 0)
			return true;
	return false;
}

/* The sources of PLAN it refuses (not the user's, hard-linked, sparse,
 * a symlink, a FIFO): reported as skipped, counted as refused. */
static void report_refused_sources(const struct rollback_settings *set,
				   const struct plan *plan,
				   struct rollback_totals *t)
{
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		struct rollback_folder_report rep;
		struct m2d_error e;

		switch (f->skip) {
		case PLAN_SKIP_OWNER:
		case PLAN_SKIP_LINKS:
		case PLAN_SKIP_SPARSE:
		case PLAN_SKIP_SYMLINK:
		case PLAN_SKIP_SPECIAL:
			break;
		default:
			continue;
		}
		memset(&rep, 0, sizeof(rep));
		m2d_error_set(&e, M2D_ERR_UNSAFE, f->source, "%s",
			      str_esc(f->reason != NULL ? f->reason :
				      plan_skip_str(f->skip)));
		rep.user = plan->users[f->user].name;
		/* "user/INBOX", "user/mail/x": the part after the user */
		rep.name = f->name != NULL ? f->name :
			strchr(f->listed, '/') != NULL ?
			strchr(f->listed, '/') + 1 : f->listed;
		rep.mbox = f->source;
		rep.skipped = &e;
		t->refused++;
		if (set->report != NULL)
			set->report(&rep, set->ctx);
	}
}

/* The users to carry: of the journal (users and folders), as asked, each
 * once, into NAMES (room for NJUS + NJFS + 1); their number, or -1 when
 * an asked one was not migrated (ERR). */
static long users_to_carry(const struct rollback_settings *set,
			   const struct journal_user *jus, size_t njus,
			   const struct journal_folder *jfs, size_t njfs,
			   const char **names, struct m2d_error *err)
{
	size_t nnames = 0;

	for (size_t i = 0; i < njus + njfs; i++) {
		const char *n = i < njus ? jus[i].user : jfs[i - njus].user;
		bool dup = false;

		for (size_t k = 0; k < nnames && !dup; k++)
			dup = strcmp(names[k], n) == 0;
		if (!dup && wanted(set, n))
			names[nnames++] = n;
	}
	assert(nnames <= njus + njfs);
	for (size_t i = 0; set->users != NULL && set->users[i] != NULL; i++) {
		bool found = false;

		for (size_t k = 0; k < nnames && !found; k++)
			found = strcmp(names[k], set->users[i]) == 0;
		if (!found)
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("user %s was not migrated (not in "
					       "the journal)"), set->users[i]);
	}
	return (long)nnames;
}

int rollback_mail(const struct rollback_settings *set,
		  struct journal *journal, struct rollback_totals *totals,
		  struct m2d_error *err)
{
	struct journal_folder *jfs = NULL;
	struct journal_user *jus = NULL;
	struct plan_source src;
	struct plan plan;
	const char **names;
	size_t njfs, njus;
	long nnames;
	int ret = -1;

	memset(totals, 0, sizeof(*totals));
	memset(&plan, 0, sizeof(plan));
	memset(&src, 0, sizeof(src));
	njfs = journal_folders(journal, &jfs);
	njus = journal_users(journal, &jus);
	names = xcalloc(njus + njfs + 1, sizeof(*names));
	nnames = users_to_carry(set, jus, njus, jfs, njfs, names, err);
	if (nnames < 0)
		goto out;
	if (nnames == 0) {
		/* nothing was migrated: nothing to carry.  What the plan
		 * refuses of the users' sources is said all the same (every
		 * command that reads a place says what it refused) */
		if (set->users == NULL) {
			if (plan_build(set->cfg, &src, &plan, err) < 0)
				goto out;
			report_refused_sources(set, &plan, totals);
		}
		ret = 0;
		goto out;
	}
	src.users = names;
	if (plan_build(set->cfg, &src, &plan, err) < 0)
		goto out;
	for (size_t i = 0; i < plan.nusers; i++)
		carry_user(set, &plan, &plan.users[i], jfs, njfs, totals);
	ret = totals->failed > 0 ? 1 : 0;
out:
	plan_free(&plan);
	free(names);
	journal_folders_free(jfs, njfs);
	journal_users_free(jus, njus);
	return ret;
}

/* ---- the whole rollback ---- */

const char *rollback_step_name(enum rollback_step step)
{
	static const char *const names[ROLLBACK_STEPS] = {
		N_("hold local delivery"),
		N_("stop Dovecot"),
		N_("carry new mail back into the mboxes"),
		N_("switch Postfix back to the mbox spool"),
		N_("restore Dovecot's configuration"),
		N_("enable UW-IMAP again"),
	};

	return (unsigned int)step < ROLLBACK_STEPS ? _(names[step]) : "";
}

static void step(const struct rollback_settings *set,
		 const struct rollback_system *sys, enum rollback_step s,
		 const char *text)
{
	if (sys->step != NULL)
		sys->step(s, text != NULL ? text : rollback_step_name(s),
			  set->ctx);
}

/* What the dry run would do. */
static int rollback_dry_run(const struct rollback_settings *set,
			    struct journal *journal,
			    const struct rollback_system *sys,
			    struct rollback_totals *totals,
			    struct m2d_error *err)
{
	const struct m2d_config *cfg = set->cfg;
	char *text = NULL;
	int rc;

	step(set, sys, ROLLBACK_HOLD, _("would set defer_transports = local "
					"and reload Postfix"));
	if (host_service(cfg, SVC_ROLE_IMAP_NEW, SVC_STOP, true, &text,
			 err) < 0)
		return -1;
	step(set, sys, ROLLBACK_STOP_DOVECOT, text);
	free(text);
	text = NULL;
	/* the mail part counts what it would append */
	rc = rollback_mail(set, journal, totals, err);
	if (rc < 0)
		return -1;
	step(set, sys, ROLLBACK_MAIL, NULL);
	step(set, sys, ROLLBACK_POSTFIX,
	     _("would restore main.cf as before the migration, reload "
	       "Postfix and flush the queue"));
	step(set, sys, ROLLBACK_DOVECOT_CONF,
	     _("would restore Dovecot's configuration as before"));
	if (host_service(cfg, SVC_ROLE_IMAP_OLD, SVC_ENABLE, true, &text,
			 err) < 0)
		return -1;
	step(set, sys, ROLLBACK_UW, text);
	free(text);
	return rc;
}

/* Not all carried: nothing is switched; users go on with Dovecot and the
 * next run carries what is missing. */
static void resume_dovecot(const struct m2d_config *cfg)
{
	struct m2d_error e2;

	m2d_error_clear(&e2);
	if (host_service(cfg, SVC_ROLE_IMAP_NEW, SVC_START, false, NULL,
			 &e2) == 0)
		(void)host_postfix_release(cfg, &e2);
}

int rollback_run(const struct rollback_settings *set, struct journal *journal,
		 const struct rollback_system *sys,
		 struct rollback_totals *totals, struct m2d_error *err)
{
	const struct m2d_config *cfg = set->cfg;
	int rc;

	memset(totals, 0, sizeof(*totals));
	if (set->dry_run)
		return rollback_dry_run(set, journal, sys, totals, err);
	/* the service commands are sound before anything is done */
	if (host_service(cfg, SVC_ROLE_IMAP_NEW, SVC_STOP, true, NULL,
			 err) < 0 ||
	    host_postfix_hold(cfg, err) < 0)
		return -1;
	step(set, sys, ROLLBACK_HOLD, NULL);
	if (host_service(cfg, SVC_ROLE_IMAP_NEW, SVC_STOP, false, NULL,
			 err) < 0)
		return -1;
	step(set, sys, ROLLBACK_STOP_DOVECOT, NULL);
	rc = rollback_mail(set, journal, totals, err);
	if (rc != 0) {
		resume_dovecot(cfg);
		return rc < 0 ? -1 : 1;
	}
	step(set, sys, ROLLBACK_MAIL, NULL);
	/* main.cf as before us: mbox delivery, and no hold (unless the
	 * admin had one); the running Postfix reads it and delivers what it
	 * held into the mboxes, behind what we appended */
	if (host_postfix_undo(cfg, err) < 0 ||
	    host_postfix_reload(cfg, err) < 0)
		return -1;
	step(set, sys, ROLLBACK_POSTFIX, NULL);
	/* no reload: Dovecot stays stopped */
	if (host_dovecot_undo(cfg, false, NULL, err) < 0)
		return -1;
	step(set, sys, ROLLBACK_DOVECOT_CONF, NULL);
	if (host_service(cfg, SVC_ROLE_IMAP_OLD, SVC_ENABLE, false, NULL,
			 err) < 0)
		return -1;
	step(set, sys, ROLLBACK_UW, NULL);
	return 0;
}
