/* SPDX-License-Identifier: MIT */
/* frame.c - the frame: step list, page area, message and key lines; the
 * looks (colours or monochrome, Unicode or ASCII lines) */
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

static attr_t attrs[WZ_C_COUNT];
static bool unicode;

static const char *const glyphs_utf8[WZ_G_COUNT] = {
	"\u2500", "\u2502", "\u250c", "\u2510", "\u2514", "\u2518",
	"\u252c", "\u2534", "\u2588", "\u2591", "\u2026", "\u2191", "\u2193",
};
static const char *const glyphs_ascii[WZ_G_COUNT] = {
	"-", "|", "+", "+", "+", "+", "+", "+", "#", ".", "~", "^", "v",
};

void wz_looks_init(int force_color, int force_unicode)
{
	static const struct { short fg, bg; attr_t extra; } pairs[WZ_C_COUNT] = {
		[WZ_C_NORMAL] = { -1, -1, 0 },
		[WZ_C_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_BOLD },
		[WZ_C_HEADING] = { COLOR_CYAN, -1, A_BOLD },
		[WZ_C_CURRENT] = { COLOR_BLACK, COLOR_CYAN, 0 },
		[WZ_C_SELECT] = { COLOR_BLACK, COLOR_WHITE, 0 },
		[WZ_C_OK] = { COLOR_GREEN, -1, 0 },
		[WZ_C_WARN] = { COLOR_YELLOW, -1, A_BOLD },
		[WZ_C_FAIL] = { COLOR_RED, -1, A_BOLD },
		[WZ_C_RUN] = { COLOR_CYAN, -1, A_BOLD },
		[WZ_C_DIM] = { -1, -1, A_DIM },
		[WZ_C_KEYS] = { COLOR_BLACK, COLOR_CYAN, 0 },
		[WZ_C_ADD] = { COLOR_GREEN, -1, 0 },
		[WZ_C_DEL] = { COLOR_RED, -1, 0 },
	};
	static const attr_t mono[WZ_C_COUNT] = {
		[WZ_C_NORMAL] = A_NORMAL,
		[WZ_C_TITLE] = A_REVERSE,
		[WZ_C_HEADING] = A_BOLD,
		[WZ_C_CURRENT] = A_REVERSE | A_BOLD,
		[WZ_C_SELECT] = A_REVERSE,
		[WZ_C_OK] = A_NORMAL,
		[WZ_C_WARN] = A_BOLD,
		[WZ_C_FAIL] = A_BOLD | A_UNDERLINE,
		[WZ_C_RUN] = A_BOLD,
		[WZ_C_DIM] = A_DIM,
		[WZ_C_KEYS] = A_REVERSE,
		[WZ_C_ADD] = A_BOLD,
		[WZ_C_DEL] = A_DIM,
	};
	const char *nc = getenv("NO_COLOR");
	bool color = force_color >= 0 ? force_color == 1 :
		(nc == NULL || *nc == '\0') && has_colors();
	int i;

	if (color && start_color() == ERR)
		color = false;
	if (color) {
		use_default_colors();
		for (i = 1; i < WZ_C_COUNT; i++) {
			init_pair((short)i, pairs[i].fg, pairs[i].bg);
			attrs[i] = COLOR_PAIR(i) | pairs[i].extra;
		}
		attrs[WZ_C_NORMAL] = A_NORMAL;
	} else {
		memcpy(attrs, mono, sizeof(attrs));
	}
	if (force_unicode >= 0) {
		unicode = force_unicode == 1;
	} else {
		const char *cs = nl_langinfo(CODESET);
		const char *ascii = getenv("M2D_ASCII");

		unicode = cs != NULL && strcmp(cs, "UTF-8") == 0 &&
			(ascii == NULL || *ascii == '\0');
	}
}

attr_t wz_attr(enum wz_color color)
{
	return (unsigned int)color < WZ_C_COUNT ? attrs[color] : A_NORMAL;
}

bool wz_unicode(void)
{
	return unicode;
}

const char *wz_glyph(enum wz_glyph g)
{
	return unicode ? glyphs_utf8[g] : glyphs_ascii[g];
}

static void put_glyph(WINDOW *win, int y, int x, enum wz_glyph g,
		      attr_t attr)
{
	wattr_set(win, attr, PAIR_NUMBER(attr), NULL);
	mvwaddstr(win, y, x, wz_glyph(g));
	wattr_set(win, A_NORMAL, 0, NULL);
}

void wz_hline(WINDOW *win, int y, int x, int n, attr_t attr)
{
	int i;

	for (i = 0; i < n; i++)
		put_glyph(win, y, x + i, WZ_G_HLINE, attr);
}

void wz_vline(WINDOW *win, int y, int x, int n, attr_t attr)
{
	int i;

	for (i = 0; i < n; i++)
		put_glyph(win, y + i, x, WZ_G_VLINE, attr);
}

void wz_fill(WINDOW *win, int y, int x, int h, int w, attr_t attr)
{
	int i, j;

	wattr_set(win, attr, PAIR_NUMBER(attr), NULL);
	for (i = 0; i < h; i++) {
		wmove(win, y + i, x);
		for (j = 0; j < w; j++)
			waddch(win, ' ');
	}
	wattr_set(win, A_NORMAL, 0, NULL);
}

void wz_box(WINDOW *win, int y, int x, int h, int w, attr_t attr)
{
	wz_hline(win, y, x + 1, w - 2, attr);
	wz_hline(win, y + h - 1, x + 1, w - 2, attr);
	wz_vline(win, y + 1, x, h - 2, attr);
	wz_vline(win, y + 1, x + w - 1, h - 2, attr);
	put_glyph(win, y, x, WZ_G_ULCORNER, attr);
	put_glyph(win, y, x + w - 1, WZ_G_URCORNER, attr);
	put_glyph(win, y + h - 1, x, WZ_G_LLCORNER, attr);
	put_glyph(win, y + h - 1, x + w - 1, WZ_G_LRCORNER, attr);
}

bool wz_size_ok(int lines, int cols)
{
	return lines >= WZ_MIN_LINES && cols >= WZ_MIN_COLS;
}

void wz_draw_too_small(WINDOW *win)
{
	int lines = getmaxy(win), cols = getmaxx(win);
	char *msg = wz_strdupf(_("The terminal is %dx%d. Please make it at "
				 "least %dx%d; the wizard waits."),
			       cols, lines, WZ_MIN_COLS, WZ_MIN_LINES);
	char **wrapped = NULL;
	int n, i, y;

	werase(win);
	n = wz_wrap(msg, cols > 2 ? cols - 2 : 1, &wrapped);
	y = n < lines ? (lines - n) / 2 : 0;
	for (i = 0; i < n && y + i < lines; i++) {
		int w = wz_text_width(wrapped[i]);

		wz_put(win, y + i, w < cols ? (cols - w) / 2 : 0, wrapped[i],
		       cols, wz_attr(WZ_C_WARN));
	}
	if (n > 0)
		wz_lines_free(wrapped, n);
	free(msg);
}

const char *wz_status_mark(enum rb_status status)
{
	switch (status) {
	case RB_DONE: return unicode ? "\u2713" : "+";
	case RB_FAILED: return unicode ? "\u2717" : "!";
	case RB_SKIPPED: return "-";
	case RB_RUNNING: return "*";
	case RB_PENDING: default: return " ";
	}
}

enum wz_color wz_status_color(enum rb_status status)
{
	switch (status) {
	case RB_DONE: return WZ_C_OK;
	case RB_FAILED: return WZ_C_FAIL;
	case RB_SKIPPED: return WZ_C_WARN;
	case RB_RUNNING: return WZ_C_RUN;
	case RB_PENDING: default: return WZ_C_NORMAL;
	}
}

static int sidebar_width(int cols)
{
	int w = cols / 4;

	return w < 27 ? 27 : w > 36 ? 36 : w;
}

static void draw_steps(WINDOW *win, const struct wz_frame *f, int y, int h,
		       int w)
{
	size_t top = 0, i;

	if (f->nsteps > (size_t)h && f->current >= 0) {
		size_t cur = (size_t)f->current;

		top = cur > (size_t)h / 2 ? cur - (size_t)h / 2 : 0;
		if (top + (size_t)h > f->nsteps)
			top = f->nsteps - (size_t)h;
	}
	for (i = 0; i < (size_t)h && top + i < f->nsteps; i++) {
		const struct wz_step_line *s = &f->steps[top + i];
		bool cur = (int)(top + i) == f->current;
		attr_t base = cur ? wz_attr(WZ_C_CURRENT) : A_NORMAL;
		char num[16];
		int x = 0;

		if (cur)
			wz_fill(win, y + (int)i, 0, 1, w, base);
		snprintf(num, sizeof(num), "%c%2d ", cur ? '>' : ' ',
			 s->number);
		x += wz_put(win, y + (int)i, x, num, w, base);
		x += wz_put(win, y + (int)i, x, wz_status_mark(s->status), 1,
			    cur ? base : wz_attr(wz_status_color(s->status)));
		x += wz_put(win, y + (int)i, x, " ", 1, base);
		wz_put(win, y + (int)i, x, s->title, w - x - 1,
		       cur ? base : s->status == RB_PENDING ? A_NORMAL :
		       wz_attr(wz_status_color(s->status)) & ~A_BOLD);
	}
	if (top > 0)
		wz_put(win, y, w - 1, wz_glyph(WZ_G_UP), 1, wz_attr(WZ_C_DIM));
	if (top + (size_t)h < f->nsteps)
		wz_put(win, y + h - 1, w - 1, wz_glyph(WZ_G_DOWN), 1,
		       wz_attr(WZ_C_DIM));
}

void wz_frame_draw(WINDOW *win, const struct wz_frame *f,
		   struct wz_rect *page_r)
{
	int lines = getmaxy(win), cols = getmaxx(win);
	int sw = f->nsteps > 0 ? sidebar_width(cols) : -1;
	int body = lines - 3;
	int used;

	werase(win);
	/* the top line */
	wz_fill(win, 0, 0, 1, cols, wz_attr(WZ_C_TITLE));
	used = wz_put(win, 0, 1, f->title != NULL ? f->title : "", cols - 2,
		      wz_attr(WZ_C_TITLE));
	if (f->where != NULL && used + 4 < cols - 2)
		wz_put_right(win, 0, cols - 1, f->where, cols - used - 4,
			     wz_attr(WZ_C_TITLE));
	/* the step list, and the line beside it */
	if (f->nsteps > 0) {
		draw_steps(win, f, 1, body, sw);
		wz_vline(win, 1, sw, body, wz_attr(WZ_C_DIM));
	}
	/* the message and key lines */
	if (f->message != NULL)
		wz_put(win, lines - 2, 1, f->message, cols - 2,
		       wz_attr(f->message_color));
	wz_fill(win, lines - 1, 0, 1, cols, wz_attr(WZ_C_KEYS));
	wz_put(win, lines - 1, 1, f->keys != NULL ? f->keys : "", cols - 2,
	       wz_attr(WZ_C_KEYS));
	page_r->y = 1;
	page_r->x = sw + 2;
	page_r->h = body;
	page_r->w = cols - sw - 3;
}
