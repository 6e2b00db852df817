/* SPDX-License-Identifier: MIT */
/* page-users.c - step 3: the users and their folders; step 5: choose the
 * test users with the space bar */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

struct user_sum {
	size_t folders, skipped;
	unsigned long long bytes;
};

static void sum_user(const struct plan *plan, size_t u, struct user_sum *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->user != u)
			continue;
		if (f->skip == PLAN_TAKEN) {
			s->folders++;
			if (f->size > 0)
				s->bytes += (unsigned long long)f->size;
		} else {
			s->skipped++;
		}
	}
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static void user_columns(struct wz_page *page)
{
	wz_page_set(&page->columns, _("User\tFolders\tSize\tSkipped"));
	page->ncols = 4;
	page->colw[0] = 16;
	page->colw[1] = 9;
	page->colw[2] = 11;
	page->colw[3] = 0;
}

void wz_page_users(struct wz_page *page, const struct plan *plan,
		   const char *const *tests, size_t ntests)
{
	unsigned long long total = 0;
	size_t folders = 0, skipped = 0, u;
	char size[32];

	wz_page_clear_rows(page);
	page->select = true;
	wz_page_set(&page->empty, _("No plan yet: Enter finds the users and "
				    "their folders."));
	if (plan == NULL) {
		wz_page_set(&page->columns, NULL);
		wz_page_set(&page->footer, NULL);
		return;
	}
	user_columns(page);
	for (u = 0; u < plan->nusers; u++) {
		const struct plan_user *pu = &plan->users[u];
		struct user_sum s;
		struct wz_row *row;
		char *text;

		sum_user(plan, u, &s);
		wz_format_bytes(s.bytes, size, sizeof(size));
		text = wz_strdupf("%s%s\t%zu\t%s\t%zu", pu->name,
				  in_list(pu->name, tests, ntests) ? " *" : "",
				  s.folders, size, s.skipped);
		row = wz_page_add(page, NULL, WZ_C_NORMAL, text);
		free(text);
		row->ref = (int)u;
		row->key = xstrdup(pu->name);
		row->info = wz_strdupf(_("%s: maildir %s, home %s"), pu->name,
				       pu->target != NULL ? pu->target : "-",
				       pu->home != NULL ? pu->home : "-");
		total += s.bytes;
		folders += s.folders;
		skipped += s.skipped;
	}
	wz_format_bytes(total, size, sizeof(size));
	{
		/* each count with its own plural ("1 user", "2 users") */
		char *us = wz_strdupf(ngettext("%zu user", "%zu users",
					       plan->nusers), plan->nusers);
		char *fs = wz_strdupf(ngettext("%zu folder", "%zu folders",
					       folders), folders);
		char *ss = wz_strdupf(ngettext("%zu skipped", "%zu skipped",
					       skipped), skipped);

		if (us != NULL && fs != NULL && ss != NULL)
			wz_page_setf(&page->footer, ntests > 0 ?
				     _("%s, %s, %s; %s.  * test user.  /: "
				       "filter") :
				     _("%s, %s, %s; %s.  /: filter"),
				     us, fs, size, ss);
		free(us);
		free(fs);
		free(ss);
	}
}

void wz_page_subset(struct wz_page *page, const struct plan *plan,
		    const char *const *chosen, size_t nchosen)
{
	size_t u, n = 0;
	char size[32];

	wz_page_clear_rows(page);
	page->select = true;
	page->checkboxes = true;
	wz_page_set(&page->empty, _("No plan yet: the users come from step "
				    "3."));
	if (plan == NULL) {
		wz_page_set(&page->columns, NULL);
		wz_page_set(&page->footer, NULL);
		return;
	}
	wz_page_set(&page->columns, _("User\tFolders\tSize"));
	page->ncols = 3;
	page->colw[0] = 18;
	page->colw[1] = 9;
	page->colw[2] = 0;
	for (u = 0; u < plan->nusers; u++) {
		struct user_sum s;
		struct wz_row *row;
		char *text;

		sum_user(plan, u, &s);
		wz_format_bytes(s.bytes, size, sizeof(size));
		text = wz_strdupf("%s\t%zu\t%s", plan->users[u].name,
				  s.folders, size);
		row = wz_page_add(page, NULL, WZ_C_NORMAL, text);
		free(text);
		row->ref = (int)u;
		row->key = xstrdup(plan->users[u].name);
		row->checked = in_list(plan->users[u].name, chosen, nchosen);
		n += row->checked;
	}
	wz_page_setf(&page->footer,
		     ngettext("%zu test user chosen.  Space: choose, /: "
			      "filter, Enter: use them",
			      "%zu test users chosen.  Space: choose, /: "
			      "filter, Enter: use them", n), n);
}
