/* runbook-report.c - step 22: the report of the whole migration, as text
 * for the admin and JSON for scripts (the JSON is never translated:
 * status ids, numbers, paths) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "i18n.h"
#include "json-out.h"
#include "runbook-int.h"
#include "safe-file.h"

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
	snprintf(buf, size, "mbox2dovecot%s%s --undo %d",
		 rb->config_path != NULL ? " --config " : "",
		 rb->config_path != NULL ? rb->config_path : "", s);
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

static void write_text(struct runbook *rb, FILE *f, const struct totals *t)
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

static void write_json(struct runbook *rb, FILE *f, const struct totals *t)
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
	fputs("]\n}\n", f);
}

static int write_file(struct runbook *rb, const char *name, bool json,
		      const struct totals *t, char **path_r,
		      struct m2d_error *err)
{
	char *text = NULL, *path = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	if (asprintf(&path, "%s/%s", rb->cfg.work_dir, name) < 0) {
		errno = ENOMEM;
		return m2d_error_sys(err, "malloc", NULL);
	}
	f = open_memstream(&text, &len);
	if (f == NULL) {
		free(path);
		return m2d_error_sys(err, "open_memstream", NULL);
	}
	if (json)
		write_json(rb, f, t);
	else
		write_text(rb, f, t);
	if (fclose(f) != 0) {
		free(text);
		free(path);
		errno = ENOMEM;
		return m2d_error_sys(err, "open_memstream", NULL);
	}
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

	if (rb_work_dir(rb, err) < 0)
		return -1;
	if (!rb->have_plan) {
		struct m2d_error e2;

		(void)rb_build_plan(rb, &e2);
	}
	journal_totals(rb, &t);
	if (write_file(rb, "report.txt", false, &t, text_path, err) < 0)
		return -1;
	if (write_file(rb, "report.json", true, &t, json_path, err) < 0) {
		if (text_path != NULL) {
			free(*text_path);
			*text_path = NULL;
		}
		return -1;
	}
	return 0;
}
