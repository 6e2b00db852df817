/* SPDX-License-Identifier: MIT */
/* page-text.c - the pages that show text: a step's description and what
 * it will run, a configuration diff, the IMAP test, the report */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

/* One row per line of TEXT, coloured by COLOR_OF (may be NULL). */
static void add_lines(struct wz_page *page, const char *text,
		      enum wz_color (*color_of)(const char *line))
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		struct wz_row *row;

		row = wz_page_add(page, NULL, WZ_C_NORMAL, line);
		if (color_of != NULL)
			row->color = color_of(line);
		free(line);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

void wz_page_text(struct wz_page *page, const char *what, const char *undo,
		  const char *preview)
{
	wz_page_clear_rows(page);
	page->select = false;
	if (undo != NULL)
		wz_page_setf(&page->intro, "%s\n\n%s %s", what ? what : "",
			     _("Undo:"), undo);
	else
		wz_page_set(&page->intro, what);
	if (preview != NULL)
		add_lines(page, preview, NULL);
}

static enum wz_color diff_color(const char *line)
{
	if (strncmp(line, "+++", 3) == 0 || strncmp(line, "---", 3) == 0)
		return WZ_C_HEADING;
	if (line[0] == '+')
		return WZ_C_ADD;
	if (line[0] == '-')
		return WZ_C_DEL;
	if (line[0] == '@')
		return WZ_C_RUN;
	return WZ_C_NORMAL;
}

void wz_page_diff(struct wz_page *page, const char *diff)
{
	wz_page_clear_rows(page);
	page->select = false;
	wz_page_set(&page->empty, _("No change: the settings are already "
				    "there."));
	if (diff != NULL)
		add_lines(page, diff, diff_color);
	wz_page_set(&page->footer, diff == NULL ? NULL :
		    _("Enter: apply, s: skip, e: edit the settings, arrows: "
		      "scroll"));
}

void wz_page_imap(struct wz_page *page, const struct imap_test_result *res)
{
	size_t i;

	wz_page_clear_rows(page);
	page->select = false;
	wz_page_set(&page->empty, _("The IMAP test has not run yet: Enter "
				    "runs it."));
	if (res == NULL) {
		wz_page_set(&page->footer, NULL);
		return;
	}
	for (i = 0; i < res->nchecks; i++) {
		const struct imap_check *c = &res->checks[i];
		char *text = wz_strdupf("%s\t%s", c->id, c->detail);

		wz_page_add(page, c->ok ? _("PASS") : _("FAIL"),
			    c->ok ? WZ_C_OK : WZ_C_FAIL, text);
		free(text);
	}
	page->ncols = 2;
	page->colw[0] = 8;
	page->colw[1] = 0;
	if (res->failed > 0)
		wz_page_setf(&page->footer,
			     ngettext("%zu check failed.  Server: %s",
				      "%zu checks failed.  Server: %s",
				      res->failed), res->failed, res->greeting);
	else
		wz_page_setf(&page->footer, _("Every check passed.  Server: %s"),
			     res->greeting);
}

void wz_page_imap_users(struct wz_page *page,
			const struct rb_imap_user *list, size_t n)
{
	size_t failed = 0;

	if (n <= 1) {
		wz_page_imap(page, n == 1 ? &list[0].res : NULL);
		return;
	}
	wz_page_imap(page, NULL);
	for (size_t u = 0; u < n; u++) {
		const struct imap_test_result *res = &list[u].res;

		failed += res->failed;
		for (size_t i = 0; i < res->nchecks; i++) {
			const struct imap_check *c = &res->checks[i];
			char *text = wz_strdupf("%s\t%s: %s", c->id,
						list[u].user, c->detail);

			wz_page_add(page, c->ok ? _("PASS") : _("FAIL"),
				    c->ok ? WZ_C_OK : WZ_C_FAIL, text);
			free(text);
		}
	}
	page->ncols = 2;
	page->colw[0] = 8;
	page->colw[1] = 0;
	if (failed > 0)
		wz_page_setf(&page->footer,
			     ngettext("%zu check failed (%zu users).  "
				      "Server: %s",
				      "%zu checks failed (%zu users).  "
				      "Server: %s", failed), failed, n,
			     list[0].res.greeting);
	else
		wz_page_setf(&page->footer,
			     ngettext("Every check passed (%zu user).  "
				      "Server: %s",
				      "Every check passed (%zu users).  "
				      "Server: %s", n), n,
			     list[0].res.greeting);
}

static enum wz_color log_color(const char *line)
{
	/* "2026-12-07 21:55:03 [13] warning: ..." */
	const char *k = strstr(line, "] ");

	if (k == NULL)
		return WZ_C_NORMAL;
	k += 2;
	if (strncmp(k, "warning:", 8) == 0 || strncmp(k, "redownload:", 11) == 0)
		return WZ_C_WARN;
	if (strncmp(k, "error:", 6) == 0 || strncmp(k, "failed:", 7) == 0)
		return WZ_C_FAIL;
	if (strncmp(k, "done:", 5) == 0)
		return WZ_C_OK;
	if (strncmp(k, "session:", 8) == 0 || strncmp(k, "run:", 4) == 0)
		return WZ_C_HEADING;
	return WZ_C_NORMAL;
}

void wz_page_log(struct wz_page *page, const char *path, const char *text)
{
	wz_page_clear_rows(page);
	page->select = true;
	wz_page_setf(&page->heading, _("Log: %s"), path);
	wz_page_set(&page->status, _("Everything the runbook did and warned "
				     "about, oldest first"));
	page->status_color = WZ_C_DIM;
	wz_page_set(&page->empty, _("The log is empty: nothing has run "
				    "yet."));
	if (text != NULL)
		add_lines(page, text, log_color);
	/* a redownload line's TAB (between the folder and why) is no
	   column here */
	for (size_t i = 0; i < page->nrows; i++)
		for (char *t = page->rows[i].text; (t = strchr(t, '\t'));)
			*t = ' ';
	page->sel = page->nrows > 0 ? page->nrows - 1 : 0;
	wz_page_setf(&page->footer, ngettext("%zu line.  / searches it.",
					     "%zu lines.  / searches them.",
					     page->nrows), page->nrows);
}

char *wz_undo_question(int step, const int *chain, size_t n)
{
	const struct rb_step_def *d = &rb_steps[step];
	char *list, *text;

	if (n == 0)
		return wz_strdupf("%s\n\n%s", d->undo != NULL ?
				  _(d->undo) : "", _("Undo this step?"));
	list = wz_strdupf("%s", "");
	for (size_t i = 0; i < n && list != NULL; i++) {
		const struct rb_step_def *c = &rb_steps[chain[i]];
		char *more = wz_strdupf("%s  %d %s: %s\n", list, c->number,
					_(c->title), c->undo_fn != NULL ?
					_(c->undo) : _("marked to run again"));

		free(list);
		list = more;
	}
	if (list == NULL)
		return NULL;
	text = wz_strdupf("%s\n\n%s\n%s\n  %d %s: %s\n\n%s",
			  ngettext("This later step relies on this one and is "
				   "done; it is undone first:",
				   "These later steps rely on this one and are "
				   "done; they are undone first, newest first:",
				   n),
			  list, _("Then this step:"), d->number, _(d->title),
			  d->undo != NULL ? _(d->undo) : "",
			  ngettext("Undo both?", "Undo all of them?", n));
	free(list);
	return text;
}

void wz_page_report(struct wz_page *page, const char *text)
{
	wz_page_clear_rows(page);
	page->select = false;
	wz_page_set(&page->empty, _("No report yet: Enter writes it."));
	if (text != NULL)
		add_lines(page, text, NULL);
}
