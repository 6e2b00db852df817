/* SPDX-License-Identifier: MIT */
/* renames.c - rename decisions as a file, and the one check of a new
 * folder name that the wizard's editor and --renames share */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "renames.h"
#include "folder-names.h"
#include "safe-file.h"
#include "str-escape.h"
#include "xalloc.h"
#include "i18n.h"

#define NO_FOLDER ((size_t)-1)

void rename_list_set(struct rename_list *l, const char *listed,
		     const char *name, unsigned long line)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i].listed, listed) == 0)
			break;
	if (i == l->n) {
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 16;
			l->items = xrealloc(l->items,
					    l->cap * sizeof(*l->items));
			l->lines = xrealloc(l->lines,
					    l->cap * sizeof(*l->lines));
		}
		l->items[i].listed = xstrdup(listed);
		l->n++;
	} else {
		free((char *)l->items[i].name);
	}
	l->items[i].name = name != NULL ? xstrdup(name) : NULL;
	l->lines[i] = line;
}

void rename_list_free(struct rename_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->items[i].listed);
		free((char *)l->items[i].name);
	}
	free(l->items);
	free(l->lines);
	free(l->path);
	memset(l, 0, sizeof(*l));
}

static int bad_line(struct m2d_error *err, const char *path,
		    unsigned long line, const char *msg)
{
	m2d_error_set(err, M2D_ERR_USAGE, path, "%s", msg);
	m2d_error_at(err, -1, line);
	return -1;
}

static size_t find_listed(const struct rename_list *l, const char *listed)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].listed, listed) == 0)
			return i;
	return NO_FOLDER;
}

/* One line (no newline): a decision, or nothing (blank, comment). */
static int parse_line(struct rename_list *l, char *s, unsigned long line,
		      struct m2d_error *err)
{
	char *tab, *name;
	size_t len = strlen(s), prev;

	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	if (strspn(s, " ") == len || s[0] == '#')
		return 0;
	tab = strchr(s, '\t');
	if (tab == NULL || strchr(tab + 1, '\t') != NULL)
		return bad_line(err, l->path, line,
				_("expected SOURCE<TAB>NEW NAME, or "
				  "SOURCE<TAB>- to leave the folder out"));
	*tab = '\0';
	name = tab + 1;
	if (str_line_unescape(s) < 0 || str_line_unescape(name) < 0)
		return bad_line(err, l->path, line,
				_("a control character or an unknown \\ "
				  "escape (write TAB as \\t, '\\' as \\\\)"));
	if (*s == '\0' || strchr(s, '/') == NULL)
		return bad_line(err, l->path, line,
				_("the source must be a folder as the plan "
				  "lists it: USER/PATH"));
	if (*name == '\0')
		return bad_line(err, l->path, line,
				_("the new name is empty (\"-\" leaves the "
				  "folder out)"));
	prev = find_listed(l, s);
	if (prev != NO_FOLDER) {
		m2d_error_set(err, M2D_ERR_USAGE, l->path,
			      _("\"%s\" is decided already on line %lu"),
			      str_esc(s), l->lines[prev]);
		m2d_error_at(err, -1, line);
		return -1;
	}
	rename_list_set(l, s, strcmp(name, "-") == 0 ? NULL : name, line);
	return 0;
}

int rename_list_read(const char *path, struct rename_list *l,
		     struct m2d_error *err)
{
	char *text = NULL, *s, *nl;
	unsigned long line = 0;
	int r;

	memset(l, 0, sizeof(*l));
	l->path = xstrdup(path);
	r = sf_read_text(path, &text, NULL, err);
	if (r == 0) {
		errno = ENOENT;
		m2d_error_sys(err, "open", path);
	}
	if (r <= 0) {
		rename_list_free(l);
		return -1;
	}
	for (s = text; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (parse_line(l, s, ++line, err) < 0) {
			free(text);
			rename_list_free(l);
			return -1;
		}
		if (nl == NULL)
			break;
	}
	free(text);
	return 0;
}

char *rename_list_text(const struct plan_rename *r, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = xopen_memstream(&text, &len);

	/* a file we write: the same in every language (po/README) */
	fputs("# mbox2dovecot rename decisions: SOURCE<TAB>NEW NAME, or "
	      "SOURCE<TAB>- (left out)\n", f);
	for (size_t i = 0; i < n; i++) {
		str_line_fput(f, r[i].listed);
		fputc('\t', f);
		if (r[i].name != NULL)
			str_line_fput(f, r[i].name);
		else
			fputc('-', f);
		fputc('\n', f);
	}
	xmemstream_close(f);
	return text;
}

int rename_list_write(const char *path, const struct plan_rename *r,
		      size_t n, struct m2d_error *err)
{
	char *text = rename_list_text(r, n);
	int ret = sf_write_path(path, text, 0600, -1, -1, err);

	free(text);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The check                                                          */

size_t plan_find_folder(const struct plan *plan, const char *listed)
{
	for (size_t i = 0; i < plan->nfolders; i++)
		if (strcmp(plan->folders[i].listed, listed) == 0)
			return i;
	return NO_FOLDER;
}

/* Does folder J hold a name that another one cannot have?  A taken
 * folder, or one that waits for a decision because another took its
 * name (it will want it back once that one is renamed). */
static bool holds_name(const struct plan_folder *g)
{
	return g->name != NULL &&
		(g->skip == PLAN_TAKEN ||
		 (g->skip == PLAN_SKIP_NAME &&
		  g->problem == FOLDER_COLLISION));
}

/* The folder of the user of FOLDER, other than FOLDER, whose name has
 * the Maildir++ directory of NAME (a name that passed the checks);
 * NO_FOLDER when none.  INBOX is the maildir root: "" for every one. */
static size_t clash_index(const struct plan *plan, size_t folder,
			  const char *name)
{
	const struct plan_folder *f = &plan->folders[folder];
	char dir[256], other[256];

	if (folder_name_to_maildir(name, dir, sizeof(dir)) != FOLDER_OK)
		return NO_FOLDER;
	for (size_t j = 0; j < plan->nfolders; j++) {
		const struct plan_folder *g = &plan->folders[j];

		if (j == folder || g->user != f->user || !holds_name(g))
			continue;
		if (folder_name_to_maildir(g->name, other, sizeof(other)) ==
		    FOLDER_OK && strcmp(dir, other) == 0)
			return j;
	}
	return NO_FOLDER;
}

static const char *clash_str(const struct plan *plan, size_t j, char *buf,
			     size_t size)
{
	snprintf(buf, size, _("\"%s\" is the name of another folder (%s)"),
		 str_esc(plan->folders[j].name),
		 str_esc(plan->folders[j].listed));
	return buf;
}

const char *plan_rename_problem(const struct plan *plan, size_t folder,
				const char *name, char *buf, size_t size)
{
	size_t n = name != NULL ? strlen(name) : 0, j;
	char *out, dir[256];
	enum folder_problem p;

	if (n == 0)
		return _("the name is empty");
	out = xmalloc(2 * n + 1);
	p = folder_name_from_path(name, out, 2 * n + 1);
	if (p == FOLDER_OK)
		p = folder_name_to_maildir(out, dir, sizeof(dir));
	free(out);
	if (p != FOLDER_OK)
		return folder_problem_str(p);
	if (plan == NULL || folder >= plan->nfolders ||
	    (j = clash_index(plan, folder, name)) == NO_FOLDER)
		return NULL;
	return clash_str(plan, j, buf, size);
}

static bool user_planned(const struct plan *plan, const char *listed)
{
	size_t l = strcspn(listed, "/");

	for (size_t i = 0; i < plan->nusers; i++)
		if (strncmp(plan->users[i].name, listed, l) == 0 &&
		    plan->users[i].name[l] == '\0')
			return true;
	return false;
}

/* Does decision I clash with a folder decided on a later line of L?
 * Then that line is the one to blame. */
static bool later_decision(const struct plan *plan,
			   const struct rename_list *l, size_t i, size_t fi)
{
	size_t j = clash_index(plan, fi, l->items[i].name), k;

	if (j == NO_FOLDER)
		return false;
	k = find_listed(l, plan->folders[j].listed);
	return k != NO_FOLDER && l->lines[k] > l->lines[i];
}

static int check_one(const struct plan *plan, const struct rename_list *l,
		     size_t i, bool all_folders, struct m2d_error *err)
{
	const struct plan_rename *r = &l->items[i];
	size_t fi = plan_find_folder(plan, r->listed);
	const struct plan_folder *f;
	const char *why;
	char buf[1024];

	if (fi == NO_FOLDER) {
		if (!all_folders || !user_planned(plan, r->listed))
			return 0;
		why = _("not a folder of the plan");
	} else if (f = &plan->folders[fi], f->dirname != NULL &&
		   f->dirname[0] == '\0') {
		why = _("the INBOX cannot be renamed or excluded");
	} else if (r->name == NULL) {
		return 0;
	} else if (later_decision(plan, l, i, fi)) {
		return 0;	/* told at the line of the later one */
	} else if ((why = plan_rename_problem(plan, fi, r->name, buf,
					      sizeof(buf))) == NULL) {
		if (f->skip == PLAN_TAKEN)
			return 0;
		why = f->reason != NULL ? f->reason : plan_skip_str(f->skip);
	}
	if (r->name != NULL)
		m2d_error_set(err, M2D_ERR_NAME, l->path,
			      _("%s -> \"%s\": %s"), str_esc(r->listed),
			      str_esc(r->name), why);
	else
		m2d_error_set(err, M2D_ERR_NAME, l->path, "%s: %s",
			      str_esc(r->listed), why);
	m2d_error_at(err, -1, l->lines[i]);
	return -1;
}

int rename_list_check(const struct plan *plan, const struct rename_list *l,
		      bool all_folders, struct m2d_error *err)
{
	for (size_t i = 0; i < l->n; i++)
		if (check_one(plan, l, i, all_folders, err) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* A plan with the decisions                                          */

static int build(const struct m2d_config *cfg, const struct plan_source *src,
		 const struct rename_list *l, struct plan *plan,
		 struct m2d_error *err)
{
	struct plan_source s = *src;

	s.renames = l->items;
	s.nrenames = l->n;
	return plan_build(cfg, &s, plan, err);
}

/* Every suggested name, until nothing is left to decide (a suggestion
 * can meet a name renamed into its way), as the wizard's "accept all". */
static int accept_suggested(const struct m2d_config *cfg,
			    const struct plan_source *src,
			    struct rename_list *l, struct plan *plan,
			    struct m2d_error *err)
{
	for (int round = 0; round < 4; round++) {
		bool changed = false;

		for (size_t i = 0; i < plan->nfolders; i++) {
			const struct plan_folder *f = &plan->folders[i];

			if (f->skip != PLAN_SKIP_NAME || f->suggestion == NULL ||
			    f->suggestion[0] == '\0')
				continue;
			rename_list_set(l, f->listed, f->suggestion, 0);
			changed = true;
		}
		if (!changed)
			break;
		plan_free(plan);
		if (build(cfg, src, l, plan, err) < 0)
			return -1;
	}
	return 0;
}

int plan_build_decided(const struct m2d_config *cfg,
		       const struct plan_source *src,
		       const char *renames_path, bool accept_suggested_names,
		       struct plan *plan, struct m2d_error *err)
{
	struct rename_list l;
	int ret = -1;

	memset(&l, 0, sizeof(l));
	memset(plan, 0, sizeof(*plan));
	if (renames_path != NULL && rename_list_read(renames_path, &l, err) < 0)
		return -1;
	if (build(cfg, src, &l, plan, err) < 0)
		goto out;
	/* a shard plans only some users: the others' entries are theirs */
	if (rename_list_check(plan, &l, src->folderlist == NULL &&
			      src->shards <= 1, err) < 0)
		goto fail;
	if (accept_suggested_names &&
	    accept_suggested(cfg, src, &l, plan, err) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	plan_free(plan);
	memset(plan, 0, sizeof(*plan));
out:
	rename_list_free(&l);
	return ret;
}
