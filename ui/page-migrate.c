/* SPDX-License-Identifier: MIT */
/* page-migrate.c - a migration: one line per folder (running, failed,
 * done, unchanged) and the overall gauge with messages, MB, rate, ETA */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

void wz_mig_init(struct wz_mig *mig)
{
	memset(mig, 0, sizeof(*mig));
}

void wz_mig_free(struct wz_mig *mig)
{
	size_t i;

	for (i = 0; i < mig->nlines; i++) {
		free(mig->lines[i].listed);
		free(mig->lines[i].detail);
	}
	free(mig->lines);
	memset(mig, 0, sizeof(*mig));
}

static void set_detail(struct wz_mig_line *l, const struct m2d_error *err)
{
	char buf[M2D_ERROR_MSG_MAX + M2D_ERROR_PATH_MAX + 64];

	if (err == NULL || err->msg[0] == '\0')
		return;
	free(l->detail);
	l->detail = xstrdup(m2d_error_str(err, buf, sizeof(buf)));
}

/* The line of KEY (a plan_folder or plan_user), made when new. */
static struct wz_mig_line *find_line(struct wz_mig *mig, const void *key,
				     const char *name, long long size)
{
	struct wz_mig_line *l;
	size_t i;

	for (i = mig->nlines; i > 0; i--)
		if (mig->lines[i - 1].key == key)
			return &mig->lines[i - 1];
	if (mig->nlines == mig->cap) {
		mig->cap = mig->cap ? mig->cap * 2 : 64;
		mig->lines = xrealloc(mig->lines,
				      mig->cap * sizeof(*mig->lines));
	}
	l = &mig->lines[mig->nlines];
	memset(l, 0, sizeof(*l));
	l->key = key;
	l->listed = xstrdup(name != NULL ? name : "?");
	l->size = size;
	mig->nlines++;
	return l;
}

void wz_mig_event(struct wz_mig *mig, const struct migrate_report *rep)
{
	struct wz_mig_line *l = NULL;

	if (rep->totals != NULL)
		mig->totals = *rep->totals;
	if (rep->folder == NULL && rep->user != NULL &&
	    (rep->event == MIGRATE_USER_DONE ||
	     rep->event == MIGRATE_USER_FAILED)) {
		/* migrate-users: one line per user */
		l = find_line(mig, rep->user, rep->user->name, 0);
		l->seq = ++mig->seq;
		l->state = rep->event == MIGRATE_USER_DONE ? WZ_MIG_DONE :
			WZ_MIG_FAILED;
		set_detail(l, rep->error);
		return;
	}
	if (rep->folder == NULL)
		return;
	l = find_line(mig, rep->folder, rep->folder->listed,
		      rep->folder->size);
	l->seq = ++mig->seq;
	switch (rep->event) {
	case MIGRATE_FOLDER_START:
		l->state = WZ_MIG_RUNNING;
		l->done = 0;
		break;
	case MIGRATE_TICK:
		l->state = WZ_MIG_RUNNING;
		break;
	case MIGRATE_FOLDER_DONE:
		l->state = WZ_MIG_DONE;
		break;
	case MIGRATE_FOLDER_UNCHANGED:
		l->state = WZ_MIG_UNCHANGED;
		break;
	case MIGRATE_FOLDER_FAILED:
		l->state = rep->error != NULL &&
			rep->error->code == M2D_ERR_CANCELLED ?
			WZ_MIG_STOPPED : WZ_MIG_FAILED;
		break;
	default:
		break;
	}
	if (rep->stats != NULL) {
		l->messages = rep->stats->messages;
		l->done = rep->stats->source_done;
		if (rep->stats->source_size > 0)
			l->size = rep->stats->source_size;
	}
	set_detail(l, rep->error);
}

static int rank(enum wz_mig_state s)
{
	switch (s) {
	case WZ_MIG_RUNNING: return 0;
	case WZ_MIG_FAILED: return 1;
	default: return 2;
	}
}

/* Running first, then failed, then the latest finished. */
static int line_cmp(const void *a, const void *b)
{
	const struct wz_mig_line *x = *(const struct wz_mig_line *const *)a;
	const struct wz_mig_line *y = *(const struct wz_mig_line *const *)b;

	if (rank(x->state) != rank(y->state))
		return rank(x->state) - rank(y->state);
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static const char *state_tag(enum wz_mig_state s, enum wz_color *color)
{
	switch (s) {
	case WZ_MIG_RUNNING: *color = WZ_C_RUN; return _("running");
	case WZ_MIG_FAILED: *color = WZ_C_FAIL; return _("failed");
	case WZ_MIG_DONE: *color = WZ_C_OK; return _("done");
	case WZ_MIG_UNCHANGED: *color = WZ_C_DIM; return _("unchanged");
	case WZ_MIG_STOPPED: *color = WZ_C_WARN; return _("stopped");
	case WZ_MIG_SKIPPED: default: *color = WZ_C_WARN; return _("skipped");
	}
}

void wz_page_migrate(struct wz_page *page, const struct wz_mig *mig)
{
	const struct migrate_totals *t = &mig->totals;
	const struct wz_mig_line **order;
	char done[32], total[32], rate[32], eta[32], el[32];
	unsigned long finished;
	size_t i;

	wz_page_clear_rows(page);
	page->select = false;
	wz_page_set(&page->columns, _("Folder\tMessages\tProgress"));
	page->ncols = 3;
	page->colw[0] = -45;
	page->colw[1] = 10;
	page->colw[2] = 0;
	wz_page_set(&page->empty, mig->running ? _("Starting...") :
		    _("Not run yet: Enter starts it."));
	order = xmalloc((mig->nlines + 1) * sizeof(*order));
	for (i = 0; i < mig->nlines; i++)
		order[i] = &mig->lines[i];
	qsort(order, mig->nlines, sizeof(*order), line_cmp);
	for (i = 0; i < mig->nlines; i++) {
		const struct wz_mig_line *l = order[i];
		enum wz_color color;
		const char *tag = state_tag(l->state, &color);
		char *text, prog[64];

		if (l->state == WZ_MIG_RUNNING && l->size > 0)
			snprintf(prog, sizeof(prog), "%3d%%",
				 (int)(100.0 * (double)l->done /
				       (double)l->size));
		else
			snprintf(prog, sizeof(prog), "%s",
				 l->detail != NULL ? l->detail : "");
		/* an unchanged folder was not read again: its count is
		   the earlier run's, not shown */
		if (l->state == WZ_MIG_UNCHANGED)
			text = wz_strdupf("%s\t-\t%s", l->listed, prog);
		else
			text = wz_strdupf("%s\t%lu\t%s", l->listed,
					  l->messages, prog);
		wz_page_add(page, tag, color, text);
		free(text);
	}
	free(order);

	page->gauge.shown = true;
	page->gauge.fraction = t->bytes_total > 0 ?
		(double)t->bytes_done / (double)t->bytes_total :
		t->folders_total > 0 ? (double)(t->folders_done +
			t->folders_unchanged + t->folders_failed) /
		(double)t->folders_total : 0;
	wz_format_bytes(t->bytes_done, done, sizeof(done));
	wz_format_bytes(t->bytes_total, total, sizeof(total));
	finished = t->folders_done + t->folders_unchanged + t->folders_failed;
	wz_page_setf(&page->gauge.line1,
		     _("Folders %lu of %lu (%lu failed)   Messages %lu   "
		       "%s of %s"),
		     finished, t->folders_total, t->folders_failed,
		     t->messages, done, total);
	wz_format_duration(mig->elapsed, el, sizeof(el));
	if (mig->elapsed > 0.5 && t->bytes_done > 0) {
		double r = (double)t->bytes_done / mig->elapsed;

		wz_format_bytes((unsigned long long)r, rate, sizeof(rate));
		wz_format_duration(t->bytes_total > t->bytes_done ?
				   (double)(t->bytes_total - t->bytes_done) / r : 0,
				   eta, sizeof(eta));
	} else {
		snprintf(rate, sizeof(rate), "-");
		snprintf(eta, sizeof(eta), "-");
	}
	if (mig->cancelling)
		wz_page_setf(&page->gauge.line2,
			     _("Stopping cleanly... (the next run goes on "
			       "from here)"));
	else if (mig->running)
		wz_page_setf(&page->gauge.line2,
			     _("Rate %s/s   Elapsed %s   ETA %s   Esc: stop"),
			     rate, el, eta);
	else
		wz_page_setf(&page->gauge.line2, _("Rate %s/s   Elapsed %s"),
			     rate, el);
}
