/* SPDX-License-Identifier: MIT */
/* page-checks.c - step 0: the checklist, PASS/WARN/FAIL with the fix;
 * Enter on a check shows its details */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

static enum wz_color status_color(enum check_status s)
{
	return s == CHECK_FAIL ? WZ_C_FAIL : s == CHECK_WARN ? WZ_C_WARN :
		WZ_C_OK;
}

/* The details of one check: the detail, the fix, the facts, the list. */
static char *check_details(const struct check_item *it)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = xopen_memstream(&buf, &size);

	fprintf(f, "%s: %s\n", check_status_str(it->res.status),
		it->res.title);
	if (it->res.detail[0] != '\0')
		fprintf(f, "\n%s\n", it->res.detail);
	if (it->res.fix[0] != '\0')
		fprintf(f, "\n%s %s\n", _("Fix:"), it->res.fix);
	if (it->nvalues > 0)
		fputc('\n', f);
	for (i = 0; i < it->nvalues; i++)
		fprintf(f, "  %s = %s\n", it->values[i].key,
			it->values[i].value);
	if (it->nentries > 0)
		fputc('\n', f);
	for (i = 0; i < it->nentries; i++) {
		const struct check_entry *e = &it->entries[i];

		fprintf(f, "  %s: %s", e->subject, e->text ? e->text : "");
		if (e->suggestion != NULL)
			fprintf(f, _(" (suggested: %s)"), e->suggestion);
		fputc('\n', f);
	}
	if (it->entries_total > it->nentries)
		fprintf(f, _("  ... and %zu more\n"),
			it->entries_total - it->nentries);
	xmemstream_close(f);
	return buf;
}

void wz_page_checks(struct wz_page *page, const struct checks_report *rep)
{
	size_t counts[3] = { 0, 0, 0 }, i;

	wz_page_clear_rows(page);
	page->select = true;
	wz_page_set(&page->empty, _("The checks have not run yet: Enter runs "
				    "them (nothing is changed)."));
	if (rep == NULL) {
		wz_page_set(&page->footer, NULL);
		return;
	}
	page->ncols = 0;
	for (i = 0; i < rep->nitems; i++) {
		const struct check_item *it = &rep->items[i];
		struct wz_row *row;
		char *text;

		text = wz_strdupf("%s: %s", it->res.title, it->res.detail);
		row = wz_page_add(page, check_status_str(it->res.status),
				  status_color(it->res.status), text);
		free(text);
		row->ref = (int)i;
		row->detail = check_details(it);
		if (it->res.fix[0] != '\0')
			row->info = wz_strdupf("%s %s", _("Fix:"), it->res.fix);
		else
			row->info = wz_strdupf("%s: %s", it->res.title,
					       it->res.detail);
	}
	checks_worst(rep, counts);
	wz_page_setf(&page->footer,
		     _("Passed %zu, warnings %zu, failed %zu."),
		     counts[CHECK_PASS], counts[CHECK_WARN], counts[CHECK_FAIL]);
}
