/* SPDX-License-Identifier: MIT */
/* page.c - a page: heading, status, intro, a list (tag, columns,
 * checkboxes), a gauge, a footer; its view (selection, scroll, filter) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

void wz_page_init(struct wz_page *page, enum rb_page kind, int step)
{
	memset(page, 0, sizeof(*page));
	page->kind = kind;
	page->step = step;
}

static void row_free(struct wz_row *row)
{
	free(row->tag);
	free(row->text);
	free(row->detail);
	free(row->info);
	free(row->key);
}

void wz_page_clear_rows(struct wz_page *page)
{
	size_t i;

	for (i = 0; i < page->nrows; i++)
		row_free(&page->rows[i]);
	page->nrows = 0;
}

void wz_page_free(struct wz_page *page)
{
	wz_page_clear_rows(page);
	free(page->rows);
	free(page->heading);
	free(page->status);
	free(page->intro);
	free(page->columns);
	free(page->empty);
	free(page->footer);
	free(page->gauge.line1);
	free(page->gauge.line2);
	memset(page, 0, sizeof(*page));
}

void wz_page_set(char **field, const char *text)
{
	free(*field);
	*field = text != NULL ? xstrdup(text) : NULL;
}

void wz_page_setf(char **field, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	free(*field);
	*field = s;
}

struct wz_row *wz_page_add(struct wz_page *page, const char *tag,
			   enum wz_color tag_color, const char *text)
{
	struct wz_row *row;

	if (page->nrows == page->cap) {
		page->cap = page->cap ? page->cap * 2 : 32;
		page->rows = xrealloc(page->rows,
				      page->cap * sizeof(*page->rows));
	}
	row = &page->rows[page->nrows++];
	memset(row, 0, sizeof(*row));
	row->tag = tag != NULL ? xstrdup(tag) : NULL;
	row->tag_color = tag_color;
	row->text = xstrdup(text);
	row->ref = -1;
	return row;
}

static const char *status_word(enum rb_status status)
{
	switch (status) {
	case RB_DONE: return _("done");
	case RB_FAILED: return _("failed");
	case RB_SKIPPED: return _("skipped");
	case RB_RUNNING: return _("running");
	case RB_PENDING: default: return _("pending");
	}
}

void wz_page_head(struct wz_page *page, int number, const char *title,
		  enum rb_status status, const char *result)
{
	wz_page_setf(&page->heading, _("Step %d: %s"), number, title);
	if (result != NULL && *result != '\0')
		wz_page_setf(&page->status, _("Status: %s (%s)"),
			     status_word(status), result);
	else
		wz_page_setf(&page->status, _("Status: %s"),
			     status_word(status));
	page->status_color = wz_status_color(status);
}

static bool row_matches(const struct wz_page *page, const struct wz_row *row)
{
	return page->filter[0] == '\0' ||
		strcasestr(row->text, page->filter) != NULL ||
		(row->tag != NULL && strcasestr(row->tag, page->filter) != NULL);
}

size_t wz_page_visible(const struct wz_page *page)
{
	size_t i, n = 0;

	if (page->filter[0] == '\0')
		return page->nrows;
	for (i = 0; i < page->nrows; i++)
		n += row_matches(page, &page->rows[i]);
	return n;
}

struct wz_row *wz_page_row(struct wz_page *page, size_t idx)
{
	size_t i, n = 0;

	if (page->filter[0] == '\0')
		return idx < page->nrows ? &page->rows[idx] : NULL;
	for (i = 0; i < page->nrows; i++) {
		if (!row_matches(page, &page->rows[i]))
			continue;
		if (n++ == idx)
			return &page->rows[i];
	}
	return NULL;
}

struct wz_row *wz_page_selected(struct wz_page *page)
{
	return page->select ? wz_page_row(page, page->sel) : NULL;
}

int wz_page_search(struct wz_page *page, const char *needle, bool forward)
{
	size_t n = wz_page_visible(page), i;

	if (needle == NULL || *needle == '\0' || n == 0)
		return 0;
	for (i = 1; i <= n; i++) {
		size_t k = forward ? (page->sel + i) % n :
			(page->sel + n - i) % n;
		struct wz_row *row = wz_page_row(page, k);

		if (row != NULL && strcasestr(row->text, needle) != NULL) {
			page->sel = k;
			wz_page_setf(&page->footer, _("\"%s\": line %zu of "
						      "%zu.  n next, N "
						      "previous"), needle,
				     k + 1, n);
			return 1;
		}
	}
	wz_page_setf(&page->footer, _("\"%s\" is not in it."), needle);
	return 0;
}

int wz_page_move(struct wz_page *page, enum wz_cmd cmd)
{
	size_t n = wz_page_visible(page);
	size_t h = page->list_height > 0 ? (size_t)page->list_height : 10;
	size_t *pos = page->select ? &page->sel : &page->top;
	size_t last = n == 0 ? 0 : page->select ? n - 1 :
		(n > h ? n - h : 0);

	switch (cmd) {
	case WZ_UP: if (*pos > 0) (*pos)--; break;
	case WZ_DOWN: if (*pos < last) (*pos)++; break;
	case WZ_PGUP: *pos = *pos > h ? *pos - h : 0; break;
	case WZ_PGDN: *pos = *pos + h < last ? *pos + h : last; break;
	case WZ_HOME: *pos = 0; break;
	case WZ_END: *pos = last; break;
	default: return 0;
	}
	return 1;
}

/* Lays out and draws one row's text: columns at TAB. */
static void draw_columns(WINDOW *win, const struct wz_page *page, int y,
			 int x, int w, const char *text, attr_t attr)
{
	char *copy = xstrdup(text), *p, *tab;
	int col = 0, used = 0;

	p = copy;
	for (;;) {
		int cw;

		tab = strchr(p, '\t');
		if (tab != NULL)
			*tab = '\0';
		cw = w - used;
		if (col < page->ncols && tab != NULL && page->colw[col] > 0)
			cw = page->colw[col];
		else if (col < page->ncols && tab != NULL &&
			 page->colw[col] < 0)
			cw = w * -page->colw[col] / 100;
		if (cw > w - used)
			cw = w - used;
		if (cw <= 0)
			break;
		wz_put(win, y, x + used, p, tab != NULL ? cw - 1 : cw, attr);
		used += cw;
		col++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	free(copy);
}

static int tag_width(const struct wz_page *page)
{
	size_t i;
	int w = 0;

	for (i = 0; i < page->nrows; i++) {
		int tw;

		if (page->rows[i].tag == NULL)
			continue;
		tw = wz_text_width(page->rows[i].tag);
		if (tw > w)
			w = tw;
	}
	return w > 0 ? w + 1 : 0;
}

static void draw_gauge(WINDOW *win, const struct wz_gauge *g, int y, int x,
		       int w)
{
	double f = g->fraction < 0 ? 0 : g->fraction > 1 ? 1 : g->fraction;
	char pct[16];
	int bar = w - 6, full, i;

	if (bar < 4)
		bar = 4;
	full = (int)(f * bar + 0.5);
	for (i = 0; i < bar; i++)
		wz_put(win, y, x + i, wz_glyph(i < full ? WZ_G_GAUGE_FULL :
					       WZ_G_GAUGE_EMPTY), 1,
		       i < full ? wz_attr(WZ_C_OK) : wz_attr(WZ_C_DIM));
	snprintf(pct, sizeof(pct), "%3d%%", (int)(f * 100));
	wz_put(win, y, x + bar + 1, pct, 5, A_BOLD);
	if (g->line1 != NULL)
		wz_put(win, y + 1, x, g->line1, w, A_NORMAL);
	if (g->line2 != NULL)
		wz_put(win, y + 2, x, g->line2, w, A_NORMAL);
}

void wz_page_draw(WINDOW *win, struct wz_page *page, const struct wz_rect *r)
{
	int y = r->y, bottom = r->y + r->h;
	size_t n = wz_page_visible(page), i;
	int list_h, tw = tag_width(page), cb = page->checkboxes ? 4 : 0;
	bool has_list = page->nrows > 0 || page->empty != NULL;
	bool has_info = false;
	struct wz_row *selrow;

	for (i = 0; i < page->nrows && page->select; i++)
		has_info = has_info || page->rows[i].info != NULL;

	if (page->heading != NULL)
		wz_put(win, y++, r->x, page->heading, r->w,
		       wz_attr(WZ_C_HEADING));
	if (page->status != NULL)
		wz_put(win, y++, r->x, page->status, r->w,
		       wz_attr(page->status_color));
	if (page->intro != NULL) {
		char **lines = NULL;
		int nl = wz_wrap(page->intro, r->w, &lines), max, k;

		max = page->intro_max > 0 ? page->intro_max :
			has_list || page->gauge.shown ?
			(r->h / 5 < 2 ? 2 : r->h / 5) : r->h;
		y++;
		for (k = 0; k < nl && k < max && y < bottom; k++) {
			if (k == max - 1 && nl > max) {
				char *more = wz_strdupf("%s %s", lines[k],
							_("(F1: more)"));

				wz_put(win, y++, r->x, more ? more : lines[k],
				       r->w, A_NORMAL);
				free(more);
			} else {
				wz_put(win, y++, r->x, lines[k], r->w,
				       A_NORMAL);
			}
		}
		if (nl > 0)
			wz_lines_free(lines, nl);
	}
	if (page->gauge.shown)
		bottom -= 4;
	if (page->footer != NULL || page->filter[0] != '\0')
		bottom -= 2;
	if (has_info)
		bottom -= 3;
	if (has_list)
		y++;
	if (page->columns != NULL && has_list && y < bottom) {
		draw_columns(win, page, y++, r->x + tw + cb, r->w - tw - cb - 1,
			     page->columns, A_BOLD | A_UNDERLINE);
	}
	list_h = bottom - y;
	if (list_h < 1)
		list_h = has_list ? 1 : 0;
	page->list_height = list_h;
	if (page->select) {
		if (n > 0 && page->sel >= n)
			page->sel = n - 1;
		if (page->sel < page->top)
			page->top = page->sel;
		if (list_h > 0 && page->sel >= page->top + (size_t)list_h)
			page->top = page->sel - (size_t)list_h + 1;
	} else if (n <= (size_t)list_h) {
		page->top = 0;
	} else if (page->top > n - (size_t)list_h) {
		page->top = n - (size_t)list_h;
	}
	if (n == 0 && page->empty != NULL && list_h > 0)
		wz_put(win, y, r->x, page->empty, r->w, wz_attr(WZ_C_DIM));
	for (i = 0; i < (size_t)list_h && page->top + i < n; i++) {
		struct wz_row *row = wz_page_row(page, page->top + i);
		bool sel = page->select && page->top + i == page->sel;
		attr_t a = sel ? wz_attr(WZ_C_SELECT) : wz_attr(row->color);
		int x = r->x, yy = y + (int)i;

		if (sel)
			wz_fill(win, yy, r->x, 1, r->w - 1, a);
		if (tw > 0 && row->tag != NULL)
			wz_put(win, yy, x, row->tag, tw - 1,
			       sel ? a : wz_attr(row->tag_color));
		x += tw;
		if (cb)
			wz_put(win, yy, x, row->checked ? "[x]" : "[ ]", 3, a);
		x += cb;
		draw_columns(win, page, yy, x, r->w - tw - cb - 1, row->text,
			     a);
	}
	if (page->top > 0 && list_h > 0)
		wz_put(win, y, r->x + r->w - 1, wz_glyph(WZ_G_UP), 1,
		       wz_attr(WZ_C_DIM));
	if (page->top + (size_t)list_h < n && list_h > 0)
		wz_put(win, y + list_h - 1, r->x + r->w - 1,
		       wz_glyph(WZ_G_DOWN), 1, wz_attr(WZ_C_DIM));
	y = bottom;
	selrow = wz_page_selected(page);
	if (has_info && selrow != NULL && selrow->info != NULL) {
		char **lines = NULL;
		int nl = wz_wrap(selrow->info, r->w, &lines), k;

		for (k = 0; k < nl && k < 2; k++)
			wz_put(win, y + 1 + k, r->x, lines[k], r->w,
			       wz_attr(WZ_C_HEADING));
		if (nl > 0)
			wz_lines_free(lines, nl);
	}
	if (has_info)
		y += 3;
	if (page->gauge.shown) {
		draw_gauge(win, &page->gauge, y + 1, r->x, r->w);
		y += 4;
	}
	if (page->footer != NULL || page->filter[0] != '\0') {
		y++;
		if (page->filter[0] != '\0') {
			char *f = wz_strdupf(_("Filter \"%s\": %zu of %zu"),
					     page->filter, n, page->nrows);

			if (f != NULL)
				wz_put(win, y, r->x, f, r->w, wz_attr(WZ_C_RUN));
			free(f);
		} else {
			wz_put(win, y, r->x, page->footer, r->w, A_NORMAL);
		}
	}
}
