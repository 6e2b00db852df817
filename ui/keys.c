/* SPDX-License-Identifier: MIT */
/* keys.c - raw keys become commands before any screen sees them */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "ui.h"

#define CTRL(c) ((c) & 0x1f)

struct wz_input wz_key_map(int rc, wint_t key, enum wz_keymode mode)
{
	struct wz_input in = { WZ_NONE, 0 };

	if (rc == KEY_CODE_YES) {
		switch (key) {
		case KEY_RESIZE: in.cmd = WZ_RESIZE; break;
		case KEY_UP: in.cmd = WZ_UP; break;
		case KEY_DOWN: in.cmd = WZ_DOWN; break;
		case KEY_PPAGE: in.cmd = WZ_PGUP; break;
		case KEY_NPAGE: in.cmd = WZ_PGDN; break;
		case KEY_HOME: in.cmd = WZ_HOME; break;
		case KEY_END: in.cmd = WZ_END; break;
		case KEY_LEFT: in.cmd = WZ_LEFT; break;
		case KEY_RIGHT: in.cmd = WZ_RIGHT; break;
		case KEY_BTAB: in.cmd = WZ_LEFT; break;
		case KEY_ENTER: in.cmd = WZ_ENTER; break;
		case KEY_F(1): in.cmd = WZ_HELP; break;
		case KEY_F(10): in.cmd = mode == WZ_KM_FIELD ? WZ_NONE :
			WZ_QUIT; break;
		case KEY_BACKSPACE:
			in.cmd = mode == WZ_KM_FIELD ? WZ_ERASE : WZ_NONE;
			break;
		case KEY_DC:
			in.cmd = mode == WZ_KM_FIELD ? WZ_DELETE : WZ_CLEAR;
			break;
		default: break;
		}
		return in;
	}
	if (rc != OK)
		return in;
	switch (key) {
	case L'\r': case L'\n': in.cmd = WZ_ENTER; return in;
	case 27: in.cmd = WZ_CANCEL; return in;
	case L'\t': in.cmd = WZ_TAB; return in;
	case 127: case CTRL('h'):
		in.cmd = mode == WZ_KM_FIELD ? WZ_ERASE : WZ_NONE;
		return in;
	case CTRL('l'): in.cmd = WZ_RESIZE; return in;	/* redraw */
	default: break;
	}
	if (mode == WZ_KM_FIELD) {
		switch (key) {
		case CTRL('a'): in.cmd = WZ_HOME; break;
		case CTRL('e'): in.cmd = WZ_END; break;
		case CTRL('u'): in.cmd = WZ_CLEAR; break;
		default:
			if (key >= 32) {
				in.cmd = WZ_CHAR;
				in.ch = (wchar_t)key;
			}
			break;
		}
		return in;
	}
	switch (key) {
	case L'q': case L'Q': in.cmd = WZ_QUIT; break;
	case L'?': case L'h': in.cmd = WZ_HELP; break;
	case L'k': in.cmd = WZ_UP; break;
	case L'j': in.cmd = WZ_DOWN; break;
	case L' ': in.cmd = WZ_TOGGLE; break;
	case L'y': case L'Y': in.cmd = WZ_YES; break;
	case L'n': case L'N':
		in.cmd = mode == WZ_KM_DIALOG ? WZ_NO : WZ_NEXT;
		in.ch = (wchar_t)key;	/* the log: N searches backwards */
		break;
	case L'b': case L'B': in.cmd = WZ_BACK; break;
	default: break;
	}
	if (in.cmd != WZ_NONE || mode == WZ_KM_DIALOG)
		return in;
	switch (key) {
	case L'/': in.cmd = WZ_FILTER; break;
	case L'e': in.cmd = WZ_EDIT; break;
	case L'a': in.cmd = WZ_ACCEPT; break;
	case L'A': in.cmd = WZ_ACCEPT_ALL; break;
	case L'x': in.cmd = WZ_EXCLUDE; break;
	case L'u': in.cmd = WZ_CLEAR; break;
	case L's': in.cmd = WZ_SKIP; break;
	case L'U': in.cmd = WZ_UNDO; break;
	case L'r': in.cmd = WZ_RERUN; break;
	case L'L': in.cmd = WZ_LOG; break;
	case L'o': in.cmd = WZ_NAMES; break;
	default: break;
	}
	return in;
}

struct wz_input wz_key_read(WINDOW *win, enum wz_keymode mode)
{
	wint_t key = 0;
	int rc = wget_wch(win, &key);

	return wz_key_map(rc, key, mode);
}

const char *wz_cmd_name(enum wz_cmd cmd)
{
	static const char *const names[] = {
		"none", "enter", "next", "back", "help", "cancel", "quit",
		"up", "down", "pgup", "pgdn", "home", "end", "left", "right",
		"tab", "toggle", "filter", "edit", "accept", "accept-all",
		"exclude", "clear", "skip", "undo", "rerun", "log", "names", "yes",
		"no",
		"char", "erase", "delete", "resize",
	};

	_Static_assert(sizeof(names) / sizeof(names[0]) == WZ_RESIZE + 1,
		       "a name per command");
	return (unsigned int)cmd <= WZ_RESIZE ? names[cmd] : "?";
}

const char *wz_keys_log(void)
{
	return _("Arrows PgUp PgDn  / Search  n N Next/previous  "
		 "Enter Whole line  Esc Back");
}

static const char *keys_hint(enum rb_page page, bool done, bool undoable,
			     bool have_checks, bool running)
{
	if (running)
		return _("Esc Stop (resumable)  F1 Help");
	switch (page) {
	case RB_PAGE_CHECKS:
		if (!have_checks && done)	/* in an earlier session */
			return _("Enter Next  r Again  b Back  F1 Help  "
				 "q Quit");
		return have_checks ?
			_("Enter Details  r Again  n Next  b Back  s Skip  "
			  "F1 Help  q Quit") :
			_("Enter Run  n Next  s Skip  F1 Help  q Quit");
	case RB_PAGE_FOLDERS:
		/* 74 columns: F1 stays on the line at 80x24 */
		return _("a Accept  e Edit  x Exclude  u Undecide  A All  "
			 "Enter Run  n/b  F1 Help  q");
	case RB_PAGE_SUBSET:
		return _("Space Choose  / Filter  Enter Run  n Next  b Back  "
			 "F1 Help  q Quit");
	case RB_PAGE_DIFF:
		return done ? _("Enter Next  U Undo  b Back  F1 Help  q Quit") :
			_("Enter Apply  s Skip  e Edit settings  n Next  "
			  "b Back  F1  q");
	default:
		if (done)
			return undoable ?
				_("Enter Next  r Again  U Undo  b Back  F1 Help"
				  "  q Quit") :
				_("Enter Next  r Again  b Back  F1 Help  "
				  "q Quit");
		return _("Enter Run  s Skip  n Next  b Back  F1 Help  "
			 "q Quit");
	}
}

const char *wz_keys_hint(enum rb_page page, bool done, bool undoable,
			 bool have_checks, bool running)
{
	static char buf[512];
	const char *keys = keys_hint(page, done, undoable, have_checks,
				     running);

	/* L, the log, wherever the line has room for it at 80 columns */
	if (running || wz_text_width(keys) + 2 + wz_text_width(_("L Log")) >
	    WZ_MIN_COLS - 2)
		return keys;
	snprintf(buf, sizeof(buf), "%s  %s", keys, _("L Log"));
	return buf;
}
