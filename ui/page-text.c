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
		char *line = strndup(p, len);
		struct wz_row *row;

		if (line == NULL)
			return;
		row = wz_page_add(page, NULL, WZ_C_NORMAL, line);
		if (row != NULL && color_of != NULL)
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
	wz_page_set(&page->footer, _("Enter: apply, s: skip, e: edit the "
				     "settings, arrows: scroll"));
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

void wz_page_report(struct wz_page *page, const char *text)
{
	wz_page_clear_rows(page);
	page->select = false;
	wz_page_set(&page->empty, _("No report yet: Enter writes it."));
	if (text != NULL)
		add_lines(page, text, NULL);
}
