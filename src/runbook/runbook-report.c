/* SPDX-License-Identifier: MIT */
/* runbook-report.c - step 22: the report of the whole migration, as text
 * for the admin and JSON for scripts (the JSON is never translated:
 * status ids, numbers, paths) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "i18n.h"
#include "json-out.h"
#include "runbook-int.h"
#include "runbook-log.h"
#include "safe-file.h"
#include "xalloc.h"

struct totals {
	size_t users, folders;
	unsigned long long messages, bytes;
};

static void journal_totals(struct runbook *rb, struct totals *t)
{
	struct journal_folder *list = NULL;
	struct journal_user *users = NULL;
	struct journal *j = NULL;
	struct m2d_error err;
	size_t n, nu;

	memset(t, 0, sizeof(*t));
	if (journal_open(rb->cfg.work_dir, &j, &err) < 0)
		return;
	n = journal_folders(j, &list);
	nu = journal_users(j, &users);
	t->users = nu;
	for (size_t i = 0; i < n; i++) {
		if (list[i].state != JOURNAL_DONE)
			continue;
		t->folders++;
		t->messages += list[i].messages;
		if (list[i].source.size > 0)
			t->bytes += (unsigned long long)list[i].source.size;
	}
	journal_folders_free(list, n);
	journal_users_free(users, nu);
	journal_close(&j);
}

/* ---- what WORK/log says: the warnings, the folders with new UIDs ---- */

struct warning {
	int step;
	char *kind;		/* "warning", "error" */
	char *text;		/* shown safely already (the log's) */
};

struct redownload {
	char *listed;		/* shown safely: "erin/mail/Sent" */
	char *why;
};

struct logged {
	struct warning *w;
	size_t nw;
	struct redownload *r;
	size_t nr;
};

static void logged_free(struct logged *l)
{
	for (size_t i = 0; i < l->nw; i++) {
		free(l->w[i].kind);
		free(l->w[i].text);
	}
	for (size_t i = 0; i < l->nr; i++) {
		free(l->r[i].listed);
		free(l->r[i].why);
	}
	free(l->w);
	free(l->r);
	memset(l, 0, sizeof(*l));
}

static void add_warning(struct logged *l, const struct rb_log_line *ll)
{
	struct warning *n;

	for (size_t i = 0; i < l->nw; i++)	/* each once */
		if (strcmp(l->w[i].text, ll->text) == 0)
			return;
	l->w = xrealloc(l->w, (l->nw + 1) * sizeof(*n));
	n = &l->w[l->nw++];
	n->step = ll->step;
	n->kind = xstrdup(ll->kind);
	n->text = xstrdup(ll->text);
}

static void add_redownload(struct logged *l, const struct rb_log_line *ll)
{
	char *tab = strchr(ll->text, '\t'), *listed, *why;

	if (tab == NULL)
		return;
	listed = xstrndup(ll->text, (size_t)(tab - ll->text));
	why = xstrdup(tab + 1);
	/* a folder converted again: its latest why */
	for (size_t i = 0; i < l->nr; i++) {
		if (strcmp(l->r[i].listed, listed) == 0) {
			free(l->r[i].why);
			l->r[i].why = why;
			free(listed);
			return;
		}
	}
	l->r = xrealloc(l->r, (l->nr + 1) * sizeof(*l->r));
	l->r[l->nr].listed = listed;
	l->r[l->nr].why = why;
	l->nr++;
}

static int by_listed(const void *a, const void *b)
{
	return strcmp(((const struct redownload *)a)->listed,
		      ((const struct redownload *)b)->listed);
}

static void read_log(struct runbook *rb, struct logged *l)
{
	char *path = rb_log_path(rb), *line = NULL;
	size_t cap = 0;
	FILE *f = NULL;
	int fd;

	memset(l, 0, sizeof(*l));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && (f = fdopen(fd, "r")) == NULL)
		close(fd);
	free(path);
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		struct rb_log_line ll;
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (rb_log_parse(line, &ll) < 0)
			continue;
		if (strcmp(ll.kind, "warning") == 0 ||
		    strcmp(ll.kind, "error") == 0)
			add_warning(l, &ll);
		else if (strcmp(ll.kind, "redownload") == 0)
			add_redownload(l, &ll);
	}
	free(line);
	fclose(f);
	if (l->nr > 1)
		qsort(l->r, l->nr, sizeof(*l->r), by_listed);
}

/* The user of a listed name ("erin/mail/Sent": "erin", 4) */
static size_t user_len(const char *listed)
{
	const char *slash = strchr(listed, '/');

	return slash != NULL ? (size_t)(slash - listed) : strlen(listed);
}

static void text_logged(struct runbook *rb, FILE *f, const struct logged *l)
{
	char *path = rb_log_path(rb);

	fprintf(f, _("\nWarnings and errors (each once; %s has every line "
		     "with its time):\n"), path);
	free(path);
	if (l->nw == 0)
		fprintf(f, _("  none\n"));
	for (size_t i = 0; i < l->nw; i++) {
		if (l->w[i].step >= 0)
			fprintf(f, "  [%d] ", l->w[i].step);
		else
			fputs("  ", f);
		fprintf(f, "%s%s\n", strcmp(l->w[i].kind, "error") == 0 ?
			_("error: ") : "", l->w[i].text);
	}
	fprintf(f, _("\nFolders whose mail clients download them again "
		     "(new UIDs), by user:\n"));
	if (l->nr == 0)
		fprintf(f, _("  none: UW's UIDs were kept in every folder "
			     "converted\n"));
	for (size_t i = 0; i < l->nr; i++) {
		const char *listed = l->r[i].listed;
		size_t ul = user_len(listed);

		if (i == 0 || user_len(l->r[i - 1].listed) != ul ||
		    strncmp(l->r[i - 1].listed, listed, ul) != 0)
			fprintf(f, "  %.*s\n", (int)ul, listed);
		fprintf(f, "    %s: %s\n", listed[ul] == '/' ?
			listed + ul + 1 : listed, l->r[i].why);
	}
}

static void json_logged(FILE *f, const struct logged *l)
{
	fputs(",\n  \"warnings\": [", f);
	for (size_t i = 0; i < l->nw; i++) {
		fprintf(f, "%s{\"step\": %d, \"kind\": ", i > 0 ? ", " : "",
			l->w[i].step);
		json_str(f, l->w[i].kind);
		fputs(", \"text\": ", f);
		json_str(f, l->w[i].text);
		fputc('}', f);
	}
	fputs("],\n  \"redownload\": [", f);
	for (size_t i = 0; i < l->nr; i++) {
		const char *listed = l->r[i].listed;
		size_t ul = user_len(listed);
		char *user = xstrndup(listed, ul);

		fputs(i > 0 ? ", " : "", f);
		fputs("{\"user\": ", f);
		json_str(f, user);
		fputs(", \"folder\": ", f);
		json_str(f, listed);
		fputs(", \"why\": ", f);
		json_str(f, l->r[i].why);
		fputc('}', f);
		free(user);
	}
	fputc(']', f);
}

/* The backup directories that exist in WORK. */
static const char *const backup_dirs[] = {
	"dovecot-conf", "postfix-conf", "services", "accounts",
};
#define NBACKUPS (sizeof(backup_dirs) / sizeof(backup_dirs[0]))

static bool backup_exists(const struct runbook *rb, size_t i, char *path,
			  size_t size)
{
	struct stat st;

	snprintf(path, size, "%s/%s", rb->cfg.work_dir, backup_dirs[i]);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void undo_line(const struct runbook *rb, int s, char *buf,
		      size_t size)
{
	int chain[RB_NSTEPS];

	/* --yes: the later steps that rely on it (the test message, the
	   report) are undone, or marked to run again, with it */
	snprintf(buf, size, "mbox2dovecot%s%s --undo %d%s",
		 rb->config_path != NULL ? " --config " : "",
		 rb->config_path != NULL ? rb->config_path : "", s,
		 rb_undo_chain(rb, s, chain, RB_NSTEPS) > 0 ? " --yes" : "");
}

static bool undoable(const struct runbook *rb, int s)
{
	return rb_steps[s].undo_fn != NULL && rb->steps[s].status == RB_DONE;
}

static void fmt_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void write_text(struct runbook *rb, FILE *f, const struct totals *t,
		       const struct logged *l)
{
	char b1[32], b2[32], line[4096];

	fprintf(f, _("mbox2dovecot: report of the migration\n\n"));
	fprintf(f, _("Users: %zu   folders: %zu   messages: %llu   "
		     "bytes: %llu\n\n"), t->users, t->folders, t->messages,
		t->bytes);
	fprintf(f, _("Steps:\n"));
	for (int s = 0; s < RB_NSTEPS; s++) {
		const struct rb_step_state *st = &rb->steps[s];

		fmt_time(st->started, b1, sizeof(b1));
		fmt_time(st->finished, b2, sizeof(b2));
		fprintf(f, "%3d  %-34s %-8s %s .. %s\n", s,
			_(rb_steps[s].title), rb_status_str(st->status), b1,
			b2);
		if (st->result != NULL)
			fprintf(f, "     %s\n", st->result);
		if (st->reason != NULL)
			fprintf(f, _("     skipped: %s\n"), st->reason);
	}
	fprintf(f, _("\nRenamed or excluded folders:\n"));
	if (rb->nrenames == 0)
		fprintf(f, _("  none\n"));
	for (size_t i = 0; i < rb->nrenames; i++) {
		if (rb->renames[i].name != NULL)
			fprintf(f, "  %s -> %s\n", rb->renames[i].listed,
				rb->renames[i].name);
		else
			fprintf(f, _("  %s: excluded\n"),
				rb->renames[i].listed);
	}
	fprintf(f, _("\nFolders not migrated:\n"));
	{
		size_t n = 0;

		for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders;
		     i++) {
			const struct plan_folder *pf = &rb->plan.folders[i];

			if (pf->skip == PLAN_TAKEN ||
			    pf->skip == PLAN_SKIP_DOTFILE)
				continue;
			fprintf(f, "  %s: %s\n", pf->listed,
				pf->reason != NULL ? pf->reason :
				plan_skip_str(pf->skip));
			n++;
		}
		if (n == 0)
			fprintf(f, _("  none\n"));
	}
	rb_uw_report_text(rb, f);
	text_logged(rb, f, l);
	fprintf(f, _("\nBackups of the edited files:\n"));
	for (size_t i = 0; i < NBACKUPS; i++)
		if (backup_exists(rb, i, line, sizeof(line)))
			fprintf(f, "  %s\n", line);
	fprintf(f, _("\nTo undo, newest first:\n"));
	for (int s = RB_NSTEPS - 1; s >= 0; s--) {
		if (!undoable(rb, s))
			continue;
		undo_line(rb, s, line, sizeof(line));
		fprintf(f, "  %s   # %s\n", line, _(rb_steps[s].undo));
	}
	fprintf(f, _("The mboxes were never changed: the old server can "
		     "take over again at any time.\n"));
}

static void write_json(struct runbook *rb, FILE *f, const struct totals *t,
		       const struct logged *l)
{
	char line[4096];
	bool first = true;

	fprintf(f, "{\n  \"users\": %zu,\n  \"folders\": %zu,\n"
		"  \"messages\": %llu,\n  \"bytes\": %llu,\n  \"steps\": [\n",
		t->users, t->folders, t->messages, t->bytes);
	for (int s = 0; s < RB_NSTEPS; s++) {
		const struct rb_step_state *st = &rb->steps[s];

		fprintf(f, "    {\"number\": %d, \"id\": \"%s\", \"status\": "
			"\"%s\", \"started\": %lld, \"finished\": %lld, "
			"\"result\": ", s, rb_steps[s].id,
			rb_status_name(st->status), (long long)st->started,
			(long long)st->finished);
		json_str(f, st->result);
		fputs(", \"reason\": ", f);
		json_str(f, st->reason);
		fprintf(f, "}%s\n", s + 1 < RB_NSTEPS ? "," : "");
	}
	fputs("  ],\n  \"renames\": [", f);
	for (size_t i = 0; i < rb->nrenames; i++) {
		fputs(i > 0 ? ", " : "", f);
		fputs("{\"listed\": ", f);
		json_str(f, rb->renames[i].listed);
		fputs(", \"name\": ", f);
		if (rb->renames[i].name != NULL)
			json_str(f, rb->renames[i].name);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs("],\n  \"failures\": [", f);
	for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders; i++) {
		const struct plan_folder *pf = &rb->plan.folders[i];

		if (pf->skip != PLAN_SKIP_NAME &&
		    pf->skip != PLAN_SKIP_UNREADABLE &&
		    pf->skip != PLAN_SKIP_MISSING)
			continue;
		fputs(first ? "" : ", ", f);
		first = false;
		json_str(f, pf->listed);
	}
	fputs("],\n  \"backups\": [", f);
	first = true;
	for (size_t i = 0; i < NBACKUPS; i++) {
		if (!backup_exists(rb, i, line, sizeof(line)))
			continue;
		fputs(first ? "" : ", ", f);
		first = false;
		json_str(f, line);
	}
	fputs("],\n  \"undo\": [", f);
	first = true;
	for (int s = RB_NSTEPS - 1; s >= 0; s--) {
		if (!undoable(rb, s))
			continue;
		undo_line(rb, s, line, sizeof(line));
		fputs(first ? "" : ", ", f);
		first = false;
		json_str(f, line);
	}
	fputc(']', f);
	rb_uw_report_json(rb, f);
	json_logged(f, l);
	fputs("\n}\n", f);
}

static int write_file(struct runbook *rb, const char *name, bool json,
		      const struct totals *t, const struct logged *l,
		      char **path_r, struct m2d_error *err)
{
	char *text = NULL, *path = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	path = xasprintf("%s/%s", rb->cfg.work_dir, name);
	f = xopen_memstream(&text, &len);
	if (json)
		write_json(rb, f, t, l);
	else
		write_text(rb, f, t, l);
	xmemstream_close(f);

	ret = sf_write_path(path, text, 0600, -1, -1, err);
	free(text);
	if (ret == 0 && path_r != NULL)
		*path_r = path;
	else
		free(path);
	return ret;
}

int rb_report_write(struct runbook *rb, char **text_path, char **json_path,
		    struct m2d_error *err)
{
	struct totals t;
	struct logged l;

	if (rb_work_dir(rb, err) < 0)
		return -1;
	if (!rb->have_plan) {
		struct m2d_error e2;

		(void)rb_build_plan(rb, &e2);
	}
	journal_totals(rb, &t);
	read_log(rb, &l);
	if (write_file(rb, "report.txt", false, &t, &l, text_path, err) < 0) {
		logged_free(&l);
		return -1;
	}
	if (write_file(rb, "report.json", true, &t, &l, json_path, err) < 0) {
		if (text_path != NULL) {
			free(*text_path);
			*text_path = NULL;
		}
		logged_free(&l);
		return -1;
	}
	logged_free(&l);
	return 0;
}
