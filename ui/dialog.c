/* SPDX-License-Identifier: MIT */
/* dialog.c - a question over the page: text, an optional field checked
 * as typed, and one or two buttons (destructive ones default to No) */
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "i18n.h"
#include "ui.h"

void wz_dialog_init(struct wz_dialog *d, const char *title, const char *text,
		    const char *yes, const char *no)
{
	memset(d, 0, sizeof(*d));
	d->title = xstrdup(title);
	d->text = xstrdup(text);
	d->yes = yes;
	d->no = no;
	d->focus_yes = no == NULL;
}

void wz_dialog_free(struct wz_dialog *d)
{
	free(d->title);
	free(d->text);
	free(d->problem);
	memset(d, 0, sizeof(*d));
}

char *wz_dialog_value(const struct wz_dialog *d)
{
	wchar_t tmp[256];
	size_t n;
	char *out;
	const wchar_t *src = tmp;
	mbstate_t st;

	wmemcpy(tmp, d->value, d->len);
	tmp[d->len] = L'\0';
	memset(&st, 0, sizeof(st));
	n = wcsrtombs(NULL, &src, 0, &st);
	if (n == (size_t)-1)
		return xstrdup("");
	out = xmalloc(n + 1);
	src = tmp;
	memset(&st, 0, sizeof(st));
	wcsrtombs(out, &src, n + 1, &st);
	return out;
}

static void revalidate(struct wz_dialog *d)
{
	char *v;
	const char *why;

	free(d->problem);
	d->problem = NULL;
	if (d->validate == NULL)
		return;
	v = wz_dialog_value(d);
	why = v != NULL ? d->validate(v, d->ctx) : NULL;
	if (why != NULL)
		d->problem = xstrdup(why);
	free(v);
}

void wz_dialog_field(struct wz_dialog *d, const char *value, bool hidden)
{
	mbstate_t st;
	const char *src = value != NULL ? value : "";
	size_t n;

	d->field = true;
	d->hidden = hidden;
	d->focus_yes = true;
	memset(&st, 0, sizeof(st));
	n = mbsrtowcs(d->value, &src, sizeof(d->value) / sizeof(wchar_t) - 1,
		      &st);
	d->len = n == (size_t)-1 ? 0 : n;
	d->value[d->len] = L'\0';
	d->cursor = d->len;
	revalidate(d);
}

void wz_dialog_draw(WINDOW *win, struct wz_dialog *d,
		    const struct wz_rect *area)
{
	int w = area->w > 70 ? 70 : area->w;
	char **lines = NULL;
	int nl = wz_wrap(d->text, w - 4, &lines), h, y, x, i, max_text;
	attr_t frame = wz_attr(d->danger ? WZ_C_FAIL : WZ_C_HEADING);

	max_text = area->h - 6 - (d->field ? 3 : 0);
	if (max_text < 1)
		max_text = 1;
	if ((size_t)nl > (size_t)max_text && d->top > (size_t)(nl - max_text))
		d->top = (size_t)(nl - max_text);
	if (nl <= max_text)
		d->top = 0;
	h = (nl < max_text ? nl : max_text) + 5 + (d->field ? 3 : 0);
	y = area->y + (area->h - h) / 2;
	x = area->x + (area->w - w) / 2;
	wz_fill(win, y, x, h, w, A_NORMAL);
	wz_box(win, y, x, h, w, frame);
	if (d->title[0] != '\0') {
		char *t = wz_strdupf(" %s ", d->title);

		wz_put(win, y, x + 2, t, w - 4, frame | A_BOLD);
		free(t);
	}
	for (i = 0; i < max_text && (size_t)i + d->top < (size_t)nl; i++)
		wz_put(win, y + 2 + i, x + 2, lines[d->top + (size_t)i], w - 4,
		       A_NORMAL);
	if ((size_t)nl > (size_t)max_text) {
		if (d->top > 0)
			wz_put(win, y + 2, x + w - 2, wz_glyph(WZ_G_UP), 1,
			       wz_attr(WZ_C_DIM));
		if (d->top + (size_t)max_text < (size_t)nl)
			wz_put(win, y + 1 + max_text, x + w - 2,
			       wz_glyph(WZ_G_DOWN), 1, wz_attr(WZ_C_DIM));
	}
	i = (nl < max_text ? nl : max_text) + 2;
	if (d->field) {
		char *v = wz_dialog_value(d);
		size_t k;

		wz_fill(win, y + i + 1, x + 2, 1, w - 4, A_UNDERLINE);
		if (d->hidden && v != NULL) {
			for (k = 0; v[k] != '\0'; k++)
				v[k] = '*';
		}
		if (v != NULL)
			wz_put(win, y + i + 1, x + 2, v, w - 5, A_UNDERLINE);
		free(v);
		if (d->problem != NULL)
			wz_put(win, y + i + 2, x + 2, d->problem, w - 4,
			       wz_attr(WZ_C_FAIL));
		else if (d->validate != NULL)
			wz_put(win, y + i + 2, x + 2, _("The name can be used."),
			       w - 4, wz_attr(WZ_C_OK));
		i += 3;
	}
	/* the buttons */
	{
		char *yes = wz_strdupf("< %s >", d->yes != NULL ? d->yes :
				       _("OK"));
		char *no = d->no != NULL ? wz_strdupf("< %s >", d->no) : NULL;
		int wy = yes ? wz_text_width(yes) : 0;
		int wn = no ? wz_text_width(no) : 0;
		int bx = x + (w - wy - wn - (no ? 3 : 0)) / 2;

		if (yes != NULL)
			wz_put(win, y + h - 2, bx, yes, wy,
			       d->focus_yes ? wz_attr(WZ_C_SELECT) : A_NORMAL);
		if (no != NULL)
			wz_put(win, y + h - 2, bx + wy + 3, no, wn,
			       !d->focus_yes ? wz_attr(WZ_C_SELECT) :
			       A_NORMAL);
		free(yes);
		free(no);
	}
	if (nl > 0)
		wz_lines_free(lines, nl);
}

int wz_dialog_handle(struct wz_dialog *d, const struct wz_input *in)
{
	switch (in->cmd) {
	case WZ_ENTER:
		if (d->focus_yes && d->field && d->problem != NULL)
			return -1;	/* not with a bad value */
		return d->focus_yes ? 1 : 0;
	case WZ_CANCEL:
		return 0;
	case WZ_YES:
		if (!d->field && d->no != NULL)
			return 1;
		break;
	case WZ_NO:
		if (!d->field && d->no != NULL)
			return 0;
		break;
	case WZ_TAB:
		if (d->no != NULL)
			d->focus_yes = !d->focus_yes;
		break;
	case WZ_LEFT:
		if (d->field && d->cursor > 0)
			d->cursor--;
		else if (!d->field && d->no != NULL)
			d->focus_yes = true;
		break;
	case WZ_RIGHT:
		if (d->field && d->cursor < d->len)
			d->cursor++;
		else if (!d->field && d->no != NULL)
			d->focus_yes = false;
		break;
	case WZ_UP: case WZ_PGUP:
		if (d->top > 0)
			d->top -= in->cmd == WZ_UP || d->top < 5 ? 1 : 5;
		break;
	case WZ_DOWN: case WZ_PGDN:
		d->top += in->cmd == WZ_DOWN ? 1 : 5;	/* clamped at draw */
		break;
	case WZ_HOME:
		d->cursor = 0;
		break;
	case WZ_END:
		d->cursor = d->len;
		break;
	case WZ_CHAR:
		if (d->field && d->len + 1 < sizeof(d->value) / sizeof(wchar_t)
		    && iswprint((wint_t)in->ch)) {
			wmemmove(d->value + d->cursor + 1,
				 d->value + d->cursor, d->len - d->cursor);
			d->value[d->cursor++] = in->ch;
			d->value[++d->len] = L'\0';
			revalidate(d);
		}
		break;
	case WZ_ERASE:
		if (d->field && d->cursor > 0) {
			wmemmove(d->value + d->cursor - 1,
				 d->value + d->cursor, d->len - d->cursor);
			d->cursor--;
			d->value[--d->len] = L'\0';
			revalidate(d);
		}
		break;
	case WZ_DELETE:
		if (d->field && d->cursor < d->len) {
			wmemmove(d->value + d->cursor,
				 d->value + d->cursor + 1,
				 d->len - d->cursor - 1);
			d->value[--d->len] = L'\0';
			revalidate(d);
		}
		break;
	case WZ_CLEAR:
		if (d->field) {
			d->len = d->cursor = 0;
			d->value[0] = L'\0';
			revalidate(d);
		}
		break;
	default:
		break;
	}
	return -1;
}
