/* SPDX-License-Identifier: MIT */
/* page-folders.c - step 4: the folder names that need a new one, each
 * with its problem and a suggested name; accept, edit or exclude */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folder-names.h"
#include "i18n.h"
#include "renames.h"
#include "ui.h"

static const struct rb_rename *find_rename(const struct rb_rename *renames,
					   size_t n, const char *listed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(renames[i].listed, listed) == 0)
			return &renames[i];
	return NULL;
}

static void add_folder(struct wz_page *page, const char *listed,
		       const char *problem, const char *suggestion,
		       const struct rb_rename *r, int ref, size_t *todo)
{
	struct wz_row *row;
	char *text;
	const char *tag;
	enum wz_color color;

	if (r == NULL) {
		tag = _("choose");
		color = WZ_C_WARN;
		text = suggestion != NULL && *suggestion ?
			wz_strdupf(_("%s\t%s (suggested)"), listed,
				   suggestion) :
			wz_strdupf(_("%s\t(none: e to type one)"), listed);
		(*todo)++;
	} else if (r->name == NULL) {
		tag = _("excluded");
		color = WZ_C_DIM;
		text = wz_strdupf("%s\t%s", listed, _("not migrated"));
	} else {
		tag = _("renamed");
		color = WZ_C_OK;
		text = wz_strdupf("%s\t%s %s", listed,
				  wz_unicode() ? "\u2192" : "->", r->name);
	}
	row = wz_page_add(page, tag, color, text);
	free(text);
	row->ref = ref;
	row->key = xstrdup(listed);
	if (r == NULL)
		row->info = wz_strdupf(_("Suggested: %s.  %s: %s"),
				       suggestion != NULL && *suggestion ?
				       suggestion : "-", listed, problem);
	else if (r->name == NULL)
		row->info = wz_strdupf(_("%s: excluded, not migrated"), listed);
	else
		row->info = wz_strdupf(_("%s: renamed to %s"), listed, r->name);
}

/* The last row: which names the folders get (folder_names, uw-names.h),
 * with the first user's folders before and after in its details. */
static void add_names_row(struct wz_page *page, const struct plan *plan,
			  const char *mode)
{
	bool uw = mode != NULL && strcmp(mode, "uw") == 0;
	struct wz_row *row;
	char *sample = NULL;

	row = wz_page_add(page, _("names"), WZ_C_DIM, uw ?
			  _("Names\tas UW had them (o)") :
			  _("Names\troot-relative (o)"));
	if (row == NULL)
		return;
	row->ref = -1;
	for (size_t i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		char *s;

		if (f->user != 0 || f->skip != PLAN_TAKEN || f->uw_name == NULL)
			continue;
		s = wz_strdupf("%s%s%s %s %s", sample != NULL ? sample : "",
			       sample != NULL ? ", " : "", f->uw_name,
			       wz_unicode() ? "\u2192" : "->", f->name);
		free(sample);
		sample = s;
	}
	row->info = wz_strdupf(_("%s  o switches.  A client of %s sees: %s"),
			       uw ? _("Folder names as UW-IMAP showed them "
				      "(mail/work).") :
			       _("Folder names relative to the folder root "
				 "(work); UW's names (mail/work) still work "
				 "through hidden namespaces."),
			       plan->nusers > 0 ? plan->users[0].name : "-",
			       sample != NULL ? sample : "-");
	free(sample);
}

void wz_page_folders(struct wz_page *page, const struct plan *plan,
		     const struct rb_rename *renames, size_t nrenames,
		     const char *folder_names)
{
	size_t i, todo = 0, shown_renames = 0;

	wz_page_clear_rows(page);
	page->select = true;
	wz_page_set(&page->columns, _("Folder\tNew name"));
	page->ncols = 2;
	page->colw[0] = -50;	/* percent of the width */
	page->colw[1] = 0;
	wz_page_set(&page->empty, plan == NULL ?
		    _("No plan yet: the folders come from step 3.") :
		    _("Every folder name can be used as it is."));
	if (plan == NULL) {
		wz_page_set(&page->footer, NULL);
		return;
	}
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];
		const struct rb_rename *r = find_rename(renames, nrenames,
							f->listed);

		if (f->skip != PLAN_SKIP_NAME && r == NULL)
			continue;
		add_folder(page, f->listed,
			   f->problem != FOLDER_OK ?
			   folder_problem_str(f->problem) : "",
			   f->suggestion, r, (int)i, &todo);
		shown_renames += r != NULL;
	}
	/* decisions whose folder the plan no longer lists (excluded) */
	for (i = 0; i < nrenames && shown_renames < nrenames; i++) {
		size_t j;
		bool seen = false;

		for (j = 0; j < plan->nfolders && !seen; j++)
			seen = strcmp(plan->folders[j].listed,
				      renames[i].listed) == 0;
		if (!seen)
			add_folder(page, renames[i].listed, "", NULL,
				   &renames[i], -1, &todo);
	}
	add_names_row(page, plan, folder_names);
	if (todo > 0)
		wz_page_setf(&page->footer,
			     ngettext("%zu folder needs a decision.  a: "
				      "accept, e: edit, x: exclude, A: accept "
				      "all",
				      "%zu folders need a decision.  a: "
				      "accept, e: edit, x: exclude, A: accept "
				      "all", todo), todo);
	else
		wz_page_set(&page->footer,
			    _("Every folder has a decision.  u: undo one, "
			      "Enter: go on"));
}

/* A typed name is checked as the plan checks a rename (renames.h: the
 * check --renames FILE makes too): the name itself, then, with a CTX
 * (struct wz_rename_ctx), against the user's other folders. */
const char *wz_rename_problem(const char *name, void *ctx)
{
	struct wz_rename_ctx *c = ctx;
	static char buf[1024];

	if (c == NULL)
		return plan_rename_problem(NULL, (size_t)-1, name, buf,
					   sizeof(buf));
	return rb_rename_problem(c->rb, c->listed, name, c->buf,
				 sizeof(c->buf));
}
