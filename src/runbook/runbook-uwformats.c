/* SPDX-License-Identifier: MIT */
/*
 * runbook-uwformats.c - the folders in UW's mbx, mix and MMDF formats:
 * migrated like an mbox, but a rollback carries no mail back into them
 * (rollback-folder.c: it appends mbox text to mboxes only; such a folder
 * without new mail is passed over, with new mail it fails, named; an
 * mbx or mix INBOX's new mail goes to the spool file, as for an mbox
 * INBOX, and UW moves it in from there: not listed here).  Step
 * 17, the cutover, says so before it can be confirmed, and the report
 * names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "json-out.h"
#include "runbook-int.h"
#include "xalloc.h"

#define RB_STEP_CUTOVER 17

bool rb_uw_folder(const struct plan_folder *f)
{
	if (f->skip != PLAN_TAKEN)
		return false;
	/* an mbx or mix INBOX's new mail goes back to the spool file, from
	 * which UW moves it in */
	if (f->dirname != NULL && f->dirname[0] == '\0')
		return f->format == UW_FMT_MMDF;
	return f->format == UW_FMT_MBX || f->format == UW_FMT_MIX ||
		f->format == UW_FMT_MMDF;
}

static size_t uw_count(const struct runbook *rb)
{
	size_t n = 0;

	for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders; i++)
		n += rb_uw_folder(&rb->plan.folders[i]) ? 1 : 0;
	return n;
}

static void append(char **text, size_t *len, const char *s)
{
	size_t add = strlen(s);

	*text = xrealloc(*text, *len + add + 1);
	memcpy(*text + *len, s, add + 1);
	*len += add;
}

char *rb_rollback_limits(struct runbook *rb)
{
	struct m2d_error err;
	char *text = NULL, *line;
	size_t len = 0, n;

	if (!rb->have_plan && rb_load_plan(rb, &err) < 0)
		return NULL;
	n = uw_count(rb);
	rb->rollback_warned = true;
	if (n == 0)
		return NULL;
	line = xasprintf(ngettext(
		"%zu folder is in UW's mbx, mix or MMDF format.  A rollback "
		"does not carry mail that reaches it in Dovecot after the "
		"cutover back into it: that mail would have to be copied "
		"back by hand (with UW's mailutil, for example).  It is:\n",
		"%zu folders are in UW's mbx, mix or MMDF format.  A rollback "
		"does not carry mail that reaches them in Dovecot after the "
		"cutover back into them: that mail would have to be copied "
		"back by hand (with UW's mailutil, for example).  They are:\n",
		n), n);
	append(&text, &len, line);
	free(line);
	for (size_t i = 0; i < rb->plan.nfolders; i++) {
		const struct plan_folder *f = &rb->plan.folders[i];

		if (!rb_uw_folder(f))
			continue;
		line = xasprintf("  %s (%s): %s\n", f->listed,
				 uw_format_name(f->format), f->source);
		append(&text, &len, line);
		free(line);
	}
	return text;
}

int rb_uw_confirm_check(struct runbook *rb, int step, struct m2d_error *err)
{
	struct m2d_error e;

	if (step != RB_STEP_CUTOVER || rb->rollback_warned)
		return 0;
	if (!rb->have_plan && rb_load_plan(rb, &e) < 0)
		return 0;
	if (uw_count(rb) == 0)
		return 0;
	return m2d_error_set(err, M2D_ERR_USAGE, NULL,
			     _("step 17 cannot be confirmed yet: %zu folders "
			       "are in UW's mbx, mix or MMDF format, which a "
			       "rollback does not carry mail back into; read "
			       "the step's page (its preview) first"),
			     uw_count(rb));
}

void rb_uw_report_text(const struct runbook *rb, FILE *f)
{
	fprintf(f, _("\nFolders in UW's mbx, mix and MMDF formats (migrated; "
		     "a rollback does not carry mail back into them):\n"));
	if (uw_count(rb) == 0)
		fprintf(f, _("  none\n"));
	for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders; i++) {
		const struct plan_folder *pf = &rb->plan.folders[i];

		if (rb_uw_folder(pf))
			fprintf(f, "  %s (%s): %s\n", pf->listed,
				uw_format_name(pf->format), pf->source);
	}
}

void rb_uw_report_json(const struct runbook *rb, FILE *f)
{
	bool first = true;

	fputs(",\n  \"no_rollback\": [", f);
	for (size_t i = 0; rb->have_plan && i < rb->plan.nfolders; i++) {
		const struct plan_folder *pf = &rb->plan.folders[i];

		if (!rb_uw_folder(pf))
			continue;
		fputs(first ? "{\"listed\": " : ", {\"listed\": ", f);
		first = false;
		json_str(f, pf->listed);
		fprintf(f, ", \"format\": \"%s\", \"source\": ",
			uw_format_name(pf->format));
		json_str(f, pf->source);
		fputc('}', f);
	}
	fputc(']', f);
}
