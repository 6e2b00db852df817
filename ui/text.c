/* SPDX-License-Identifier: MIT */
/* text.c - text measured in terminal columns, cut and wrapped */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "i18n.h"
#include "ui.h"

/* The next character of S (at most N bytes): its length in bytes (1 for
 * an invalid byte, which becomes '?'), *WC and its columns *COLS. */
static size_t next_char(const char *s, size_t n, mbstate_t *st, wchar_t *wc,
			int *cols)
{
	size_t len = mbrtowc(wc, s, n, st);
	int w;

	if (len == (size_t)-1 || len == (size_t)-2) {
		memset(st, 0, sizeof(*st));
		*wc = L'?';
		len = 1;
	} else if (len == 0) {
		len = 1;
	}
	w = wcwidth(*wc);
	if (w < 0) {		/* a control character: shown as '?' */
		*wc = L'?';
		w = 1;
	}
	*cols = w;
	return len;
}

int wz_text_width(const char *s)
{
	mbstate_t st;
	size_t n = strlen(s), i = 0;
	int width = 0, w;
	wchar_t wc;

	memset(&st, 0, sizeof(st));
	while (i < n) {
		i += next_char(s + i, n - i, &st, &wc, &w);
		width += w;
	}
	return width;
}

int wz_put(WINDOW *win, int y, int x, const char *s, int maxcols,
	   attr_t attr)
{
	mbstate_t st;
	size_t n = strlen(s), i = 0;
	int used = 0, w;
	wchar_t wc;
	int total = wz_text_width(s);
	bool cut = total > maxcols;
	const char *ell = wz_glyph(WZ_G_ELLIPSIS);

	if (maxcols <= 0)
		return 0;
	memset(&st, 0, sizeof(st));
	wmove(win, y, x);
	while (i < n) {
		cchar_t cc;
		wchar_t str[2];

		i += next_char(s + i, n - i, &st, &wc, &w);
		if (cut && used + w > maxcols - 1)
			break;
		if (used + w > maxcols)
			break;
		if (w == 0 && used == 0)
			continue;
		str[0] = wc == L'\t' ? L' ' : wc;
		str[1] = L'\0';
		setcchar(&cc, str, attr, PAIR_NUMBER(attr), NULL);
		wadd_wch(win, &cc);
		used += w;
	}
	if (cut && used < maxcols) {
		wattr_set(win, attr, PAIR_NUMBER(attr), NULL);
		waddstr(win, ell);
		wattr_set(win, A_NORMAL, 0, NULL);
		used++;
	}
	return used;
}

int wz_put_right(WINDOW *win, int y, int x_end, const char *s, int maxcols,
		 attr_t attr)
{
	int w = wz_text_width(s);

	if (w > maxcols)
		w = maxcols;
	return wz_put(win, y, x_end - w, s, maxcols, attr);
}

static void push_line(char ***lines, int *n, int *cap, const char *s,
		      size_t len)
{
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*lines = xrealloc(*lines, (size_t)*cap * sizeof(**lines));
	}
	(*lines)[(*n)++] = xstrndup(s, len);
}

/* Wraps one paragraph (no '\n') of LEN bytes. */
static void wrap_para(const char *p, size_t len, int width, char ***lines,
		      int *n, int *cap)
{
	mbstate_t st;
	size_t i = 0, start = 0, brk = 0;
	bool have_brk = false;
	int cols = 0, w;
	wchar_t wc;

	memset(&st, 0, sizeof(st));
	while (i < len) {
		size_t clen = next_char(p + i, len - i, &st, &wc, &w);
		size_t end, next;

		if (wc == L' ' && i > start) {
			brk = i;
			have_brk = true;
		}
		if (cols + w <= width || i == start) {
			cols += w;
			i += clen;
			continue;
		}
		/* I does not fit: break at the last space, else here */
		end = have_brk ? brk : i;
		next = have_brk ? brk + 1 : i;
		push_line(lines, n, cap, p + start, end - start);
		while (next < len && p[next] == ' ')
			next++;
		start = i = next;
		cols = 0;
		have_brk = false;
		memset(&st, 0, sizeof(st));
	}
	if (start < len || len == 0)
		push_line(lines, n, cap, p + start, len - start);
}

int wz_wrap(const char *text, int width, char ***lines_r)
{
	char **lines = NULL;
	int n = 0, cap = 0;
	const char *p = text;

	if (width < 1)
		width = 1;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		wrap_para(p, len, width, &lines, &n, &cap);
		if (nl == NULL)
			break;
		p = nl + 1;
		if (*p == '\0')
			break;
	}
	*lines_r = lines;
	return n;
}

void wz_lines_free(char **lines, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

char *wz_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void wz_format_bytes(unsigned long long bytes, char *buf, size_t size)
{
	if (bytes >= 1000ULL * 1000 * 1000)
		snprintf(buf, size, _("%.1f GB"), bytes / 1e9);
	else if (bytes >= 1000ULL * 1000)
		snprintf(buf, size, _("%.1f MB"), bytes / 1e6);
	else if (bytes >= 1000)
		snprintf(buf, size, _("%.1f kB"), bytes / 1e3);
	else
		snprintf(buf, size, _("%llu B"), bytes);
}

void wz_format_duration(double seconds, char *buf, size_t size)
{
	unsigned long s = seconds > 0 ? (unsigned long)(seconds + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}
