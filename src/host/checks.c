/* SPDX-License-Identifier: MIT */
/*
 * checks.c - the pre-flight checklist: the report, the checks that come
 * from the plan (folder names, sources), the target, the timed sample,
 * and checks_run() over every group.  The service checks (Dovecot,
 * Postfix, UW-IMAP, accounts) are in check-services.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "convert.h"
#include "dotlock.h"
#include "journal.h"
#include "maildir-writer.h"
#include "postfix-conf.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

/* ---- the report ---- */

void checks_report_init(struct checks_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

static void item_free(struct check_item *item)
{
	size_t i;

	for (i = 0; i < item->nvalues; i++)
		free(item->values[i].value);
	for (i = 0; i < item->nentries; i++) {
		free(item->entries[i].subject);
		free(item->entries[i].text);
		free(item->entries[i].suggestion);
	}
	free(item->entries);
}

void checks_report_free(struct checks_report *rep)
{
	for (size_t i = 0; i < rep->nitems; i++)
		item_free(&rep->items[i]);
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

struct check_item *checks_add(struct checks_report *rep, const char *group,
			      const char *id, const char *title)
{
	struct check_item *items, *item;

	items = realloc(rep->items, (rep->nitems + 1) * sizeof(*items));
	if (items == NULL)
		return NULL;
	rep->items = items;
	item = &items[rep->nitems++];
	memset(item, 0, sizeof(*item));
	item->group = group;
	check_result_init(&item->res, id, title);
	return item;
}

struct check_item *checks_add_result(struct checks_report *rep,
				     const char *group,
				     const struct check_result *res)
{
	struct check_item *item = checks_add(rep, group, res->id, res->title);

	if (item != NULL)
		item->res = *res;
	return item;
}

int check_item_value(struct check_item *item, const char *key,
		     const char *value)
{
	char *copy;

	if (item->nvalues >= CHECK_MAX_VALUES)
		return -1;
	copy = strdup(value != NULL ? value : "");
	if (copy == NULL)
		return -1;
	item->values[item->nvalues].key = key;
	item->values[item->nvalues].value = copy;
	item->nvalues++;
	return 0;
}

const char *check_item_get_value(const struct check_item *item,
				 const char *key)
{
	for (size_t i = 0; i < item->nvalues; i++) {
		if (strcmp(item->values[i].key, key) == 0)
			return item->values[i].value;
	}
	return NULL;
}

int check_item_entry(struct check_item *item, const char *subject,
		     const char *kind, const char *text,
		     const char *suggestion)
{
	struct check_entry *e;

	item->entries_total++;
	if (item->nentries >= CHECK_MAX_ENTRIES)
		return 0;
	e = realloc(item->entries, (item->nentries + 1) * sizeof(*e));
	if (e == NULL)
		return -1;
	item->entries = e;
	e = &e[item->nentries];
	e->subject = strdup(subject != NULL ? subject : "");
	e->kind = kind;
	e->text = strdup(text != NULL ? text : "");
	e->suggestion = suggestion != NULL ? strdup(suggestion) : NULL;
	if (e->subject == NULL || e->text == NULL ||
	    (suggestion != NULL && e->suggestion == NULL)) {
		free(e->subject);
		free(e->text);
		free(e->suggestion);
		return -1;
	}
	item->nentries++;
	return 0;
}

void check_item_raise(struct check_item *item, enum check_status status)
{
	if (status > item->res.status)
		item->res.status = status;
}

const struct check_item *checks_find(const struct checks_report *rep,
				     const char *id)
{
	for (size_t i = 0; i < rep->nitems; i++) {
		if (strcmp(rep->items[i].res.id, id) == 0)
			return &rep->items[i];
	}
	return NULL;
}

enum check_status checks_worst(const struct checks_report *rep,
			       size_t counts[3])
{
	enum check_status worst = CHECK_PASS;

	if (counts != NULL)
		counts[0] = counts[1] = counts[2] = 0;
	for (size_t i = 0; i < rep->nitems; i++) {
		enum check_status s = rep->items[i].res.status;

		if (s > worst)
			worst = s;
		if (counts != NULL)
			counts[s]++;
	}
	return worst;
}

/* printf into a fixed field of a check_result */
static void fill(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fill(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

#define DETAIL(item, ...) \
	fill((item)->res.detail, sizeof((item)->res.detail), __VA_ARGS__)
#define FIX(item, ...) fill((item)->res.fix, sizeof((item)->res.fix), __VA_ARGS__)

/* ---- folders ---- */

static const char *skip_kind(enum plan_skip skip)
{
	switch (skip) {
	case PLAN_TAKEN:
		return "taken";
	case PLAN_SKIP_DOTFILE:
		return "dotfile";
	case PLAN_SKIP_MBX:
		return "tenex_mtx";
	case PLAN_SKIP_NOT_MBOX:
		return "not_mbox";
	case PLAN_SKIP_SYMLINK:
		return "symlink";
	case PLAN_SKIP_SPECIAL:
		return "special";
	case PLAN_SKIP_UNREADABLE:
		return "unreadable";
	case PLAN_SKIP_NAME:
		return "name";
	case PLAN_SKIP_MISSING:
		return "missing";
	case PLAN_SKIP_EXCLUDED:
		return "excluded";
	case PLAN_SKIP_OWNER:
		return "owner";
	case PLAN_SKIP_LINKS:
		return "hard_links";
	case PLAN_SKIP_SPARSE:
		return "sparse";
	}
	return "other";
}

static const char *problem_kind(enum folder_problem p)
{
	static const char *const kinds[] = {
		[FOLDER_OK] = "ok", [FOLDER_EMPTY] = "empty",
		[FOLDER_DOT] = "dot", [FOLDER_DOTDOT] = "dotdot",
		[FOLDER_CONTROL] = "control", [FOLDER_NOT_UTF8] = "not_utf8",
		[FOLDER_TOO_LONG] = "too_long", [FOLDER_INBOX] = "inbox",
		[FOLDER_COLLISION] = "collision",
		[FOLDER_RESERVED] = "reserved",
	};

	if ((size_t)p < sizeof(kinds) / sizeof(kinds[0]) && kinds[p] != NULL)
		return kinds[p];
	return "other";
}

static const char *reason_of(const struct plan_folder *f)
{
	return f->reason != NULL ? f->reason : plan_skip_str(f->skip);
}

void checks_eval_folders(const struct plan *plan, struct checks_report *rep)
{
	struct check_item *names, *chars;
	unsigned long long taken = 0, bad = 0, odd = 0;
	size_t i;

	names = checks_add(rep, "folders", "folder_names",
			   _("Folder names"));
	if (names == NULL)
		return;
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip == PLAN_TAKEN)
			taken++;
		if (f->skip != PLAN_SKIP_NAME)
			continue;
		bad++;
		check_item_entry(names, f->listed, problem_kind(f->problem),
				 f->reason != NULL ? f->reason :
				 folder_problem_str(f->problem),
				 f->suggestion);
	}
	check_result_figure(&names->res, "folders", (long long)taken);
	check_result_figure(&names->res, "rename", (long long)bad);
	if (bad > 0) {
		const struct check_entry *e = &names->entries[0];

		/* not a failure: step 4 decides them (its saved decisions
		   are applied to the plan, so these are the undecided) */
		names->res.status = CHECK_WARN;
		DETAIL(names, ngettext("%llu folder cannot keep its name and "
				       "waits for a decision (first: %s: %s)",
				       "%llu folders cannot keep their names "
				       "and wait for a decision (first: %s: "
				       "%s)", bad), bad, e->subject, e->text);
		FIX(names, _("runbook step 4 asks for each: the suggested "
			     "name, one of your own, or leave it out; "
			     "nothing needs renaming on disk"));
	} else {
		DETAIL(names, _("every planned folder keeps its name"));
	}

	chars = checks_add(rep, "folders", "folder_chars",
			   _("Characters scripts choke on"));
	if (chars == NULL)
		return;
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip != PLAN_TAKEN || f->name == NULL ||
		    strpbrk(f->name, CHECK_SCRIPT_CHARS) == NULL)
			continue;
		odd++;
		check_item_entry(chars, f->listed, "script_chars",
				 _("quotes, commas, '#', '&' or shell "
				   "characters in the name"), NULL);
	}
	check_result_figure(&chars->res, "folders", (long long)odd);
	if (odd > 0)
		DETAIL(chars, ngettext("%llu folder name has characters the "
				       "runbook's scripts choked on; "
				       "mbox2dovecot uses no shell and keeps "
				       "it as it is (mind your own scripts)",
				       "%llu folder names have characters the "
				       "runbook's scripts choked on; "
				       "mbox2dovecot uses no shell and keeps "
				       "them as they are (mind your own "
				       "scripts)", odd), odd);
	else
		DETAIL(chars, _("no folder name has quotes, commas, '#', "
				"'&' or shell characters"));
}

/* ---- sources ---- */

bool checks_mbox_locked(const char *path)
{
	const struct mbox_lock_settings *set = mbox_locks_get();
	size_t len = strlen(path);
	char *lock = malloc(len + 6);
	struct stat st;
	bool locked = false;
	int fd;

	if (lock == NULL)
		return false;
	memcpy(lock, path, len);
	memcpy(lock + len, ".lock", 6);
	/* fresh as Postfix and UW judge it: by its ctime; empty or not */
	if ((set->locks & MBOX_LOCK_DOTLOCK) != 0 && lstat(lock, &st) == 0 &&
	    time(NULL) - st.st_ctime < set->stale_secs)
		locked = true;
	free(lock);
	if (locked)
		return true;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	locked = mbox_kernel_locked(fd);
	close(fd);
	return locked;
}

static struct check_item *list_skips(struct checks_report *rep,
				     const struct plan *plan, const char *id,
				     const char *title,
				     const enum plan_skip *skips,
				     unsigned long long *n_r)
{
	struct check_item *item = checks_add(rep, "sources", id, title);
	char *text = NULL;
	unsigned long long n = 0;

	*n_r = 0;
	if (item == NULL)
		return NULL;
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		for (const enum plan_skip *s = skips; *s != PLAN_TAKEN; s++) {
			if (f->skip != *s)
				continue;
			n++;
			/* the file named, not only its folder: the admin
			 * must find what was refused, and where */
			if (f->source == NULL ||
			    asprintf(&text, "%s: %s", f->source,
				     reason_of(f)) < 0)
				text = NULL;
			check_item_entry(item, f->listed, skip_kind(f->skip),
					 text != NULL ? text : reason_of(f),
					 NULL);
			free(text);
			text = NULL;
		}
	}
	check_result_figure(&item->res, "count", (long long)n);
	*n_r = n;
	return item;
}

/* The folders in UW's mbx, mix and MMDF formats: migrated, counted,
 * each named with its format (rollback carries no mail back into
 * them). */
static void uw_formats(struct checks_report *rep, const struct plan *plan)
{
	static const enum uw_format fmts[] = { UW_FMT_MBX, UW_FMT_MIX,
					       UW_FMT_MMDF };
	unsigned long long count[3] = { 0, 0, 0 }, n = 0;
	struct check_item *item;

	item = checks_add(rep, "sources", "uw_formats",
			  _("Folders in UW's mbx, mix and MMDF formats"));
	if (item == NULL)
		return;
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		for (size_t k = 0; k < 3; k++) {
			if (f->skip != PLAN_TAKEN || f->format != fmts[k])
				continue;
			count[k]++;
			n++;
			check_item_entry(item, f->listed,
					 uw_format_name(f->format),
					 f->source, NULL);
		}
	}
	check_result_figure(&item->res, "mbx", (long long)count[0]);
	check_result_figure(&item->res, "mix", (long long)count[1]);
	check_result_figure(&item->res, "mmdf", (long long)count[2]);
	check_result_figure(&item->res, "count", (long long)n);
	if (n > 0)
		DETAIL(item, _("%llu mbx, %llu mix and %llu MMDF folders will "
			       "be migrated; a rollback does not carry mail "
			       "back into them (an mbx or mix INBOX's goes "
			       "back to the spool file)"), count[0], count[1],
		       count[2]);
	else
		DETAIL(item, _("every folder is an mbox"));
}

void checks_eval_sources(const struct plan *plan,
			 const struct fs_estimate *est, const bool *locked,
			 struct checks_report *rep)
{
	static const enum plan_skip s_unreadable[] = { PLAN_SKIP_UNREADABLE,
						       PLAN_SKIP_SPARSE,
						       PLAN_TAKEN };
	static const enum plan_skip s_skipped[] = {
		PLAN_SKIP_NOT_MBOX, PLAN_SKIP_DOTFILE, PLAN_SKIP_MISSING,
		PLAN_SKIP_EXCLUDED, PLAN_TAKEN };
	static const enum plan_skip s_special[] = { PLAN_SKIP_SPECIAL,
						    PLAN_TAKEN };
	static const enum plan_skip s_mbx[] = { PLAN_SKIP_MBX, PLAN_TAKEN };
	static const enum plan_skip s_sym[] = { PLAN_SKIP_SYMLINK,
						PLAN_TAKEN };
	static const enum plan_skip s_owner[] = { PLAN_SKIP_OWNER,
						  PLAN_SKIP_LINKS, PLAN_TAKEN };
	struct check_item *item;
	unsigned long long n;
	size_t i, u;

	/* totals */
	item = checks_add(rep, "sources", "messages", _("Mail to migrate"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "users", (long long)est->users);
	check_result_figure(&item->res, "folders", (long long)est->folders);
	check_result_figure(&item->res, "messages", (long long)est->messages);
	check_result_figure(&item->res, "bytes", (long long)est->bytes);
	check_result_figure(&item->res, "unscanned",
			    (long long)est->unreadable);
	DETAIL(item, _("%llu users, %llu folders, %llu messages, %.1f MB"),
	       est->users, est->folders, est->messages,
	       (double)est->bytes / 1e6);
	if (est->unreadable > 0) {
		item->res.status = CHECK_WARN;
		DETAIL(item, _("%llu users, %llu folders, %llu messages, "
			       "%.1f MB; %llu folders could not be read to "
			       "count their messages"), est->users,
		       est->folders, est->messages, (double)est->bytes / 1e6,
		       est->unreadable);
		FIX(item, _("run the check as root (the migration reads "
			    "every folder)"));
	}

	/* users without an inbox */
	item = checks_add(rep, "sources", "users_without_inbox",
			  _("Users without an inbox"));
	if (item == NULL)
		return;
	n = 0;
	for (u = 0; u < plan->nusers; u++) {
		bool inbox = false;

		for (i = 0; i < plan->nfolders && !inbox; i++)
			inbox = plan->folders[i].user == u &&
				plan->folders[i].skip == PLAN_TAKEN &&
				plan->folders[i].dirname != NULL &&
				plan->folders[i].dirname[0] == '\0';
		if (inbox)
			continue;
		n++;
		check_item_entry(item, plan->users[u].name, "no_inbox",
				 _("no spool file: gets an empty INBOX"),
				 NULL);
	}
	check_result_figure(&item->res, "count", (long long)n);
	DETAIL(item, n > 0 ? ngettext("%llu user has no spool file; it "
				"gets an empty INBOX", "%llu users have no "
				"spool file; they get an empty INBOX", n) : _("every user has an inbox"),
	       n);

	item = list_skips(rep, plan, "unreadable", _("Unreadable files"),
			  s_unreadable, &n);
	if (item != NULL && n > 0) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, ngettext("%llu file could not be read and "
				      "would be left behind (first: %s)",
				      "%llu files could not be read and "
				      "would be left behind (first: %s)", n), n,
		       item->entries[0].subject);
		FIX(item, _("run as root, or fix the permissions, then check "
			    "again"));
	} else if (item != NULL) {
		DETAIL(item, _("every file could be read"));
	}

	/* mail files that are not the user's, spool files that
	 * are no user's */
	item = list_skips(rep, plan, "not_owned",
			  _("Mail files that are not the user's"), s_owner,
			  &n);
	if (item != NULL) {
		unsigned long long refused = n;

		for (i = 0; i < plan->nstrays; i++) {
			check_item_entry(item, plan->strays[i].source,
					 "no_user", plan->strays[i].reason,
					 NULL);
			n++;
		}
		check_result_figure(&item->res, "count", (long long)n);
		if (refused > 0) {
			item->res.status = CHECK_FAIL;
			DETAIL(item, ngettext("%llu mail file belongs to "
					      "another user or has other hard "
					      "links and will not be migrated "
					      "(first: %s)", "%llu mail files "
					      "belong to another user or have "
					      "other hard links and will not "
					      "be migrated (first: %s)",
					      refused), refused,
			       item->entries[0].subject);
			FIX(item, _("find out whose mail it is: chown it to "
				    "its user (one link) if it is theirs, "
				    "else remove it; Postfix does not deliver "
				    "to such a mailbox either"));
		} else if (n > 0) {
			item->res.status = CHECK_WARN;
			DETAIL(item, ngettext("%llu file in the spool belongs "
					      "to no user in passwd and will "
					      "not be migrated (first: %s)",
					      "%llu files in the spool belong "
					      "to no user in passwd and will "
					      "not be migrated (first: %s)",
					      n), n,
			       item->entries[0].subject);
			FIX(item, _("add the user to passwd, or name it in "
				    "--users/--userlist, if it is one; else "
				    "remove the file"));
		} else {
			DETAIL(item, _("every mail file belongs to its user"));
		}
	}

	item = list_skips(rep, plan, "skipped", _("Files that are no folder"),
			  s_skipped, &n);
	if (item != NULL)
		DETAIL(item, n > 0 ? ngettext("%llu file skipped: not an "
					      "mbox, a dot file or missing "
					      "(listed)", "%llu files "
					      "skipped: not an mbox, dot "
					      "files or missing (listed)", n) :
		       _("no file skipped"), n);

	/* a FIFO, device or socket where mail could be: said, never
	 * opened */
	item = list_skips(rep, plan, "special",
			  _("FIFOs, devices and sockets"), s_special, &n);
	if (item != NULL && n > 0) {
		item->res.status = CHECK_WARN;
		DETAIL(item, ngettext("%llu FIFO, device or socket among "
				      "the folders is never opened and not "
				      "migrated (first: %s)", "%llu FIFOs, "
				      "devices or sockets among the folders "
				      "are never opened and not migrated "
				      "(first: %s)", n), n, item->entries[0].subject);
		FIX(item, _("look at each (a user may have planted it); put "
			    "back the mbox it replaces, if there was one"));
	} else if (item != NULL) {
		DETAIL(item, _("no FIFO, device or socket among the "
			       "folders"));
	}

	item = list_skips(rep, plan, "mbx", _("UW tenex and mtx folders"),
			  s_mbx, &n);
	if (item != NULL && n > 0) {
		item->res.status = CHECK_WARN;
		DETAIL(item, ngettext("%llu folder is in UW's tenex or mtx "
				      "format and will not be migrated "
				      "(first: %s)", "%llu folders are in "
				      "UW's tenex or mtx format and will not "
				      "be migrated (first: %s)", n), n,
		       item->entries[0].subject);
		FIX(item, _("convert them to mbox with UW's mailutil (\"mailutil "
			    "copy\") while UW-IMAP still runs"));
	} else if (item != NULL) {
		DETAIL(item, _("no tenex or mtx folder"));
	}
	uw_formats(rep, plan);

	item = list_skips(rep, plan, "symlinks", _("Symbolic links"), s_sym,
			  &n);
	if (item != NULL && n > 0) {
		item->res.status = CHECK_WARN;
		DETAIL(item, ngettext("%llu symbolic link is never "
				      "followed and will not be migrated "
				      "(first: %s)", "%llu symbolic links are "
				      "never followed and will not be "
				      "migrated (first: %s)", n), n,
		       item->entries[0].subject);
		FIX(item, _("replace each link by the mbox it points to, or "
			    "migrate that mbox where it is"));
	} else if (item != NULL) {
		DETAIL(item, _("no symbolic link among the folders"));
	}

	item = checks_add(rep, "sources", "locked",
			  _("Folders being written now"));
	if (item == NULL)
		return;
	n = 0;
	for (i = 0; locked != NULL && i < plan->nfolders; i++) {
		if (!locked[i])
			continue;
		n++;
		check_item_entry(item, plan->folders[i].listed, "locked",
				 _("a fresh dotlock or a write lock"), NULL);
	}
	check_result_figure(&item->res, "count", (long long)n);
	if (n > 0) {
		item->res.status = CHECK_WARN;
		DETAIL(item, ngettext("%llu folder is locked right now "
				      "(first: %s)", "%llu folders are locked "
				      "right now (first: %s)", n), n, item->entries[0].subject);
		FIX(item, _("normal while mail is delivered or read; the "
			    "migration waits for locks, and the cutover "
			    "stops delivery and UW-IMAP first"));
	} else {
		DETAIL(item, _("no folder is locked right now"));
	}
}

/* ---- target ---- */

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' ||
					      path[n] == '\0');
}

/* Our maildir roots from WORK/journal, read from a copy in SCRATCH (the
 * journal's replay may repair a torn line: the work dir stays untouched).
 * Returns the number of users, or -1 when there is no journal. */
static long journal_roots(const char *work_dir, const char *scratch_dir,
			  char ***roots_r)
{
	char path[FS_PATH_MAX], tmp[FS_PATH_MAX], dst[FS_PATH_MAX + 16];
	struct journal_user *users = NULL;
	struct journal *j = NULL;
	struct m2d_error err;
	struct stat st;
	char buf[65536];
	long n = -1;
	size_t nu, i;
	int in, out = -1;
	ssize_t r;

	*roots_r = NULL;
	snprintf(path, sizeof(path), "%s/journal", work_dir);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/m2d-check-journal.XXXXXX", scratch_dir);
	if (mkdtemp(tmp) == NULL)
		return 0;
	snprintf(dst, sizeof(dst), "%s/journal", tmp);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in >= 0)
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while (in >= 0 && out >= 0 && (r = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)r) != r)
			break;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	n = 0;
	if (out >= 0 && journal_open(tmp, &j, &err) == 0) {
		nu = journal_users(j, &users);
		*roots_r = calloc(nu + 1, sizeof(char *));
		for (i = 0; *roots_r != NULL && i < nu; i++)
			(*roots_r)[n++] = strdup(users[i].target);
		journal_users_free(users, nu);
		journal_close(&j);
	}
	sf_remove_tree(AT_FDCWD, tmp);
	return n;
}

int checks_probe_target(const struct m2d_config *cfg,
			const char *scratch_dir,
			struct check_target_facts *facts,
			struct m2d_error *err)
{
	const char *base = cfg->target_base;
	char **roots = NULL, *p;
	struct stat st, other;
	struct dirent *de;
	long nroots;
	DIR *dir;

	memset(facts, 0, sizeof(*facts));
	snprintf(facts->base, sizeof(facts->base), "%s", base);
	snprintf(facts->ancestor, sizeof(facts->ancestor), "%s", base);
	/* the nearest existing ancestor */
	while (stat(facts->ancestor, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return m2d_error_sys(err, "stat", facts->ancestor);
		p = strrchr(facts->ancestor, '/');
		if (p == NULL) {
			snprintf(facts->ancestor, sizeof(facts->ancestor), ".");
		} else if (p == facts->ancestor) {
			p[1] = '\0';
		} else {
			*p = '\0';
		}
	}
	facts->exists = strcmp(facts->ancestor, base) == 0;
	if (facts->exists && !S_ISDIR(st.st_mode))
		facts->not_dir = true;
	facts->creatable = S_ISDIR(st.st_mode) &&
		access(facts->ancestor, W_OK | X_OK) == 0;

	snprintf(facts->spool, sizeof(facts->spool), "%s",
		 cfg->spool_dir != NULL ? cfg->spool_dir : "");
	snprintf(facts->homes, sizeof(facts->homes), "%s",
		 cfg->homes_dir != NULL ? cfg->homes_dir : "");
	if (facts->spool[0] != '\0' && stat(facts->spool, &other) == 0)
		facts->same_fs_spool = other.st_dev == st.st_dev;
	if (facts->homes[0] != '\0' && stat(facts->homes, &other) == 0)
		facts->same_fs_homes = other.st_dev == st.st_dev;

	nroots = journal_roots(cfg->work_dir, scratch_dir, &roots);
	facts->journal = nroots >= 0;
	if (facts->exists && !facts->not_dir) {
		dir = opendir(base);
		if (dir == NULL)
			facts->list_errno = errno;
		while (dir != NULL && (de = readdir(dir)) != NULL) {
			char full[FS_PATH_MAX * 2];
			bool ours = false;

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			facts->entries++;
			snprintf(full, sizeof(full), "%s/%s", base, de->d_name);
			for (long i = 0; i < nroots && !ours; i++)
				ours = roots[i] != NULL &&
					under(roots[i], full);
			if (ours)
				facts->ours++;
			else if (facts->foreign[0] == '\0')
				snprintf(facts->foreign,
					 sizeof(facts->foreign), "%s",
					 de->d_name);
		}
		if (dir != NULL)
			closedir(dir);
	}
	for (long i = 0; i < nroots; i++)
		free(roots[i]);
	free(roots);
	return 0;
}

void checks_eval_target(const struct check_target_facts *f,
			struct checks_report *rep)
{
	struct check_item *item;
	unsigned long long foreign = f->entries - f->ours;

	item = checks_add(rep, "target", "target_base",
			  _("Target directory"));
	if (item == NULL)
		return;
	check_item_value(item, "path", f->base);
	if (f->not_dir) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("%s exists and is not a directory"), f->base);
		FIX(item, _("choose another target (--target or target_base)"));
	} else if (f->exists) {
		DETAIL(item, _("%s exists"), f->base);
	} else if (f->creatable) {
		DETAIL(item, _("%s does not exist yet; it can be created "
			       "under %s"), f->base, f->ancestor);
	} else {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("%s does not exist and cannot be created: %s "
			       "is not writable"), f->base, f->ancestor);
		FIX(item, _("run as root, or create %s first"), f->base);
	}

	item = checks_add(rep, "target", "target_empty",
			  _("Target is clear"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "entries", (long long)f->entries);
	check_result_figure(&item->res, "ours", (long long)f->ours);
	check_result_figure(&item->res, "foreign", (long long)foreign);
	if (f->list_errno != 0) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("%s cannot be listed: %s"), f->base,
		       strerror(f->list_errno));
		FIX(item, _("run as root"));
	} else if (!f->exists) {
		DETAIL(item, _("nothing there yet"));
	} else if (foreign > 0) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("%s holds %llu entries that no run of "
			       "mbox2dovecot made (first: %s)"), f->base,
		       foreign, f->foreign);
		FIX(item, _("move them away or choose an empty target: the "
			    "runbook wants the new mail base clear"));
	} else if (f->ours > 0) {
		DETAIL(item, _("holds only what an earlier run made (%llu "
			       "entries, recorded in the journal)"), f->ours);
	} else {
		DETAIL(item, _("%s is empty"), f->base);
	}

	item = checks_add(rep, "target", "target_fs",
			  _("Target on its own file system"));
	if (item == NULL)
		return;
	if (f->same_fs_spool || f->same_fs_homes) {
		item->res.status = CHECK_WARN;
		DETAIL(item, _("%s is on the same file system as %s: filling "
			       "it stops delivery and the old mail"), f->base,
		       f->same_fs_spool ? f->spool : f->homes);
		FIX(item, _("prefer a separate file system for the target, or "
			    "keep a wide margin of free space and inodes"));
	} else {
		DETAIL(item, _("not on the file system of the spool or the "
			       "homes"));
	}
}

/* ---- time ---- */

static int size_cmp(const void *a, const void *b)
{
	const struct plan_folder *x = *(const struct plan_folder *const *)a;
	const struct plan_folder *y = *(const struct plan_folder *const *)b;

	return (x->size > y->size) - (x->size < y->size);
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
		(double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Stage folder F of the sample into DIR/K; true when it converted. */
static bool sample_stage(const struct plan_folder *f,
			 const struct m2d_config *cfg, const char *dir,
			 unsigned int k, struct maildir_folder **staged_r,
			 struct check_time_facts *facts)
{
	struct convert_settings set;
	struct convert_stats stats;
	struct m2d_error err;
	struct timespec t0;
	char root[FS_PATH_MAX + 32];
	struct time_sample *s = &facts->samples[k];

	memset(&set, 0, sizeof(set));
	set.folder = "sample";
	set.mboxrd = cfg->mboxrd;
	set.uid = set.gid = -1;
	set.dotlock = false;	/* never write beside the source */
	snprintf(root, sizeof(root), "%s/%u", dir, k);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (convert_folder_stage(f->source, root, &set, &stats, staged_r,
				 &err) < 0) {
		char buf[2048];

		fill(facts->error, sizeof(facts->error), "%s",
			 m2d_error_str(&err, buf, sizeof(buf)));
		return false;
	}
	s->seconds = elapsed(&t0);
	s->messages = (double)stats.messages;
	s->bytes = (double)stats.source_size;
	facts->error[0] = '\0';
	facts->sample_messages += stats.messages;
	facts->sample_bytes += (unsigned long long)stats.source_size;
	return true;
}

/*
 * The sample: up to NFOLDERS of the N sorted folders, spread over the
 * size order (every (N / NFOLDERS)th from the smallest), within
 * MAX_BYTES; staged one by one, synced once, installed, as migrate
 * commits a group of folders.
 */
static void sample_folders(const struct plan_folder **taken, size_t n,
			   const struct m2d_config *cfg, const char *dir,
			   unsigned int nfolders, unsigned long long max_bytes,
			   struct check_time_facts *facts)
{
	struct maildir_folder *staged[CHECK_TIME_SAMPLES_MAX];
	unsigned long long sum = 0;
	double step = n > nfolders ? (double)n / nfolders : 1.0, all = 0;
	struct timespec t0;
	unsigned int k = 0, i;

	for (double at = 0; (size_t)at < n && k < nfolders; at += step) {
		const struct plan_folder *f = taken[(size_t)at];

		if (k > 0 && sum + (unsigned long long)f->size > max_bytes)
			break;
		staged[k] = NULL;
		if (!sample_stage(f, cfg, dir, k, &staged[k], facts))
			continue;
		sum += (unsigned long long)f->size;
		all += facts->samples[k].seconds;
		k++;
	}
	facts->sample_folders = k;
	if (k == 0)
		return;
	/* one syncfs: every sample is on the scratch file system */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < k && staged[i] == NULL; i++)
		;
	if (i < k) {
		struct m2d_error err;

		maildir_folder_sync(staged[i], &err);
	}
	facts->sync_seconds = elapsed(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < k; i++) {
		struct m2d_error err;

		if (staged[i] != NULL)
			maildir_folder_install(staged[i], &err);
		maildir_folder_free(&staged[i]);
	}
	{
		double install = elapsed(&t0) / k;

		for (i = 0; i < k; i++)
			facts->samples[i].seconds += install;
		facts->sample_seconds = all + install * k +
			facts->sync_seconds;
	}
}

int checks_probe_time(const struct plan *plan, const struct m2d_config *cfg,
		      const char *scratch_dir, unsigned int nfolders,
		      unsigned long long max_bytes,
		      struct check_time_facts *facts)
{
	const struct plan_folder **taken;
	char dir[FS_PATH_MAX];
	size_t n = 0, i;

	memset(facts, 0, sizeof(*facts));
	facts->jobs = cfg->jobs > 0 ? cfg->jobs :
		(int)sysconf(_SC_NPROCESSORS_ONLN);
	if (facts->jobs < 1)
		facts->jobs = 1;
	taken = xcalloc(plan->nfolders + 1, sizeof(*taken));
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip != PLAN_TAKEN)
			continue;
		facts->total_folders++;
		facts->total_bytes += f->size > 0 ? (unsigned long long)f->size
			: 0;
		if (f->dirname != NULL && f->dirname[0] == '\0') {
			facts->inbox_folders++;
			facts->inbox_bytes += f->size > 0 ?
				(unsigned long long)f->size : 0;
		}
		if (f->size > 0)
			taken[n++] = f;
	}
	if (n == 0) {
		free(taken);
		fill(facts->error, sizeof(facts->error), "%s",
			 _("no folder with mail to time"));
		return 0;
	}
	qsort(taken, n, sizeof(*taken), size_cmp);
	if (nfolders > CHECK_TIME_SAMPLES_MAX)
		nfolders = CHECK_TIME_SAMPLES_MAX;
	snprintf(dir, sizeof(dir), "%s/m2d-check-sample.XXXXXX", scratch_dir);
	if (mkdtemp(dir) == NULL) {
		fill(facts->error, sizeof(facts->error), "mkdtemp(%s): %s",
			 dir, strerror(errno));
		free(taken);
		return -1;
	}
	sample_folders(taken, n, cfg, dir, nfolders, max_bytes, facts);
	free(taken);
	if (sf_remove_tree(AT_FDCWD, dir) < 0) {
		fill(facts->error, sizeof(facts->error),
			 _("could not remove the scratch directory %s: %s"),
			 dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void fmt_duration(char *buf, size_t size, double secs)
{
	long s = (long)(secs + 0.5);

	if (s < 60)
		snprintf(buf, size, _("%ld s"), s);
	else if (s < 3600)
		snprintf(buf, size, _("%ld min %02ld s"), s / 60, s % 60);
	else
		snprintf(buf, size, _("%ld h %02ld min"), s / 3600,
			 (s % 3600) / 60);
}

/* The model's time for a run of FOLDERS folders, MESSAGES, BYTES: the
 * folders, plus one sync per group of folders migrate commits (32). */
static double run_seconds(const struct check_time_facts *f,
			  const struct time_model *m, double folders,
			  double messages, double bytes)
{
	double syncs = folders > 0 ? (double)(long long)((folders + 31) / 32)
		: 0;

	return time_model_predict(m, folders, messages, bytes) +
		syncs * f->sync_seconds;
}

void checks_eval_time(const struct check_time_facts *f,
		      struct checks_report *rep)
{
	struct check_item *item;
	struct time_model m;
	double rate, full, window, messages, par;
	char a[64], b[64], c[64];

	item = checks_add(rep, "time", "time_estimate",
			  _("Time needed"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "sample_folders", f->sample_folders);
	check_result_figure(&item->res, "sample_bytes",
			    (long long)f->sample_bytes);
	check_result_figure(&item->res, "sample_ms",
			    (long long)(f->sample_seconds * 1000));
	check_result_figure(&item->res, "total_bytes",
			    (long long)f->total_bytes);
	check_result_figure(&item->res, "jobs", f->jobs);
	if (f->sample_folders == 0 || f->sample_bytes == 0) {
		if (f->total_bytes == 0) {
			DETAIL(item, _("no mail to migrate: nothing to time"));
			return;
		}
		item->res.status = CHECK_WARN;
		DETAIL(item, _("no sample could be converted: %s"),
		       f->error[0] != '\0' ? f->error : "?");
		FIX(item, _("run the check as root, or time \"migrate "
			    "--dry-run\" on a test userlist (runbook step 5)"));
		return;
	}
	time_model_fit(f->samples, f->sample_folders, &m);
	rate = (double)f->sample_bytes /
		(f->sample_seconds > 1e-6 ? f->sample_seconds : 1e-6);
	messages = f->total_messages > 0 ? (double)f->total_messages :
		(double)f->sample_messages / (double)f->sample_bytes *
		(double)f->total_bytes;
	/* workers share the disk: count on half their number */
	par = f->jobs > 1 ? (double)f->jobs / 2 : 1.0;
	full = run_seconds(f, &m, (double)f->total_folders, messages,
			   (double)f->total_bytes) / par;
	/* the window converts what changed: at most the INBOXes, which
	 * are appended to incrementally when pre-migrated */
	window = run_seconds(f, &m, (double)f->inbox_folders,
			     messages * ((double)f->inbox_bytes /
					 (double)f->total_bytes),
			     (double)f->inbox_bytes) / par;
	check_result_figure(&item->res, "rate_bytes_per_s", (long long)rate);
	check_result_figure(&item->res, "per_folder_us",
			    (long long)(m.per_folder * 1e6 + 0.5));
	check_result_figure(&item->res, "per_message_us",
			    (long long)(m.per_message * 1e6 + 0.5));
	check_result_figure(&item->res, "per_mib_ms",
			    (long long)(m.per_byte * 1048576e3 + 0.5));
	check_result_figure(&item->res, "sync_ms",
			    (long long)(f->sync_seconds * 1e3 + 0.5));
	check_result_figure(&item->res, "full_s", (long long)(full + 0.5));
	check_result_figure(&item->res, "full_ms", (long long)(full * 1e3));
	check_result_figure(&item->res, "full_low_ms",
			    (long long)(full * (1 - m.spread) * 1e3));
	check_result_figure(&item->res, "full_high_ms",
			    (long long)(full * (1 + m.spread) * 1e3));
	check_result_figure(&item->res, "cutover_s",
			    (long long)(window + 0.5));
	check_result_figure(&item->res, "cutover_ms",
			    (long long)(window * 1e3));
	fmt_duration(a, sizeof(a), full * (1 - m.spread));
	fmt_duration(b, sizeof(b), full * (1 + m.spread));
	fmt_duration(c, sizeof(c), window * (1 + m.spread));
	DETAIL(item, _("full migration %s to %s, cutover window up to %s "
		       "plus the service steps (measured on %u folders: "
		       "%.2f ms a folder, %.1f us a message, %.1f ms a MiB; "
		       "%d workers)"), a, b, c, f->sample_folders,
	       m.per_folder * 1e3, m.per_message * 1e6,
	       m.per_byte * 1048576e3, f->jobs);
}

/* ---- everything ---- */

static void progress(const struct checks_settings *set, const char *group)
{
	if (set->progress != NULL)
		set->progress(group, set->ctx);
}

void checks_settings_from_config(struct checks_settings *set,
				 const struct m2d_config *cfg,
				 const struct plan *plan, struct pf_tools *pf)
{
	memset(set, 0, sizeof(*set));
	pf_tools_from_config(cfg, pf);
	set->cfg = cfg;
	set->plan = plan;
	dc_tools_from_config(cfg, &set->dovecot);
	set->dovecot_conf = cfg->dovecot_config;
	set->postfix = pf;
	set->test_address = cfg->test_address;
	set->test_port = cfg->test_port;
	set->root = cfg->services_root != NULL &&
		cfg->services_root[0] != '\0' ? cfg->services_root : NULL;
}

int checks_run(const struct checks_settings *set, struct checks_report *rep,
	       struct m2d_error *err)
{
	const struct m2d_config *cfg = set->cfg;
	const struct plan *plan = set->plan;
	const char *tmp = getenv("TMPDIR");
	const char *scratch = set->scratch_dir != NULL ? set->scratch_dir :
		tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp";
	const char *root = set->root != NULL ? set->root : "/";
	struct check_result fs[FS_CHECK_COUNT];
	struct check_target_facts target;
	struct check_dovecot_facts dove;
	struct check_postfix_facts pf;
	struct check_uw_facts uw;
	struct check_accounts_facts acc;
	struct check_time_facts tf;
	struct fs_estimate est;
	bool *locked;
	size_t i;

	progress(set, "sources");
	if (fs_estimate_plan(plan, true, NULL, NULL, &est, err) < 0)
		return -1;
	progress(set, "filesystem");
	if (fs_checks_run(cfg->target_base, &est, set->probe, fs, NULL,
			  err) < 0)
		return -1;
	for (i = 0; i < FS_CHECK_COUNT; i++)
		checks_add_result(rep, "filesystem", &fs[i]);

	progress(set, "folders");
	checks_eval_folders(plan, rep);

	progress(set, "sources");
	locked = xcalloc(plan->nfolders + 1, sizeof(*locked));
	for (i = 0; i < plan->nfolders; i++) {
		if (plan->folders[i].skip == PLAN_TAKEN)
			locked[i] = checks_mbox_locked(plan->folders[i].source);
	}
	checks_eval_sources(plan, &est, locked, rep);
	free(locked);

	progress(set, "target");
	if (checks_probe_target(cfg, scratch, &target, err) < 0)
		return -1;
	checks_eval_target(&target, rep);

	progress(set, "dovecot");
	checks_probe_dovecot(&set->dovecot, set->dovecot_conf != NULL ?
			     set->dovecot_conf : "/etc/dovecot/dovecot.conf",
			     set->test_address != NULL ? set->test_address :
			     "127.0.0.1", set->test_port != 0 ?
			     set->test_port : 1043, &dove);
	checks_eval_dovecot(&dove, rep);
	progress(set, "logging");
	checks_eval_logging(&dove, rep);

	progress(set, "postfix");
	checks_probe_postfix(set->postfix, &pf);
	checks_eval_postfix(&pf, rep);

	progress(set, "uwimap");
	checks_probe_uw(root, set->proc != NULL ? set->proc : "/proc",
			cfg->imap_address != NULL &&
			cfg->imap_address[0] != '\0' ? cfg->imap_address :
			"127.0.0.1", cfg->imap_port != 0 ? cfg->imap_port :
			143, cfg->imaps_port, &uw);
	uw.dovecot_running = dove.running == 1;
	checks_eval_uw(&uw, rep);

	progress(set, "accounts");
	checks_probe_accounts(root, cfg, &pf, &acc);
	checks_eval_accounts(&acc, rep);

	progress(set, "time");
	checks_probe_time(plan, cfg, scratch, set->sample_folders != 0 ?
			  set->sample_folders : 8, set->sample_max_bytes != 0 ?
			  set->sample_max_bytes : 64ULL << 20, &tf);
	if (est.scanned && est.unreadable == 0)
		tf.total_messages = est.messages;
	checks_eval_time(&tf, rep);

	return (int)checks_worst(rep, NULL);
}
