/* SPDX-License-Identifier: MIT */
#ifndef M2D_UI_H
#define M2D_UI_H

/*
 * The wizard's screens (private to ui/): keys mapped to commands, text
 * measured in columns, the frame (step list, page area, key line) and the
 * pages.  A page is plain data (struct wz_page: a heading, an intro, rows,
 * a gauge) built from the runbook's getters by the page builders
 * (page-*.c); the same data can be built by a test, drawn headless and
 * compared with an expected screen.  Nothing here knows the runbook's
 * state: wizard.c reads it, builds pages and sends the runbook commands.
 *
 * Every function that draws takes the WINDOW and leaves refresh to the
 * caller.  All strings are UTF-8; widths are terminal columns.
 */

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#include "checks.h"
#include "imap-test.h"
#include "migrate.h"
#include "plan.h"
#include "runbook.h"
#include "xalloc.h"

#define WZ_MIN_COLS 80
#define WZ_MIN_LINES 24

/* ---- keys (keys.c) ---- */

enum wz_cmd {
	WZ_NONE,
	WZ_ENTER,	/* Enter: the page's default action */
	WZ_NEXT,	/* n: the next step's page */
	WZ_BACK,	/* b: the previous step's page */
	WZ_HELP,	/* F1, ?: what the runbook says, what we do */
	WZ_CANCEL,	/* Esc: back, or cancel a dialog / a run */
	WZ_QUIT,	/* q: leave (the state is saved) */
	WZ_UP, WZ_DOWN, WZ_PGUP, WZ_PGDN, WZ_HOME, WZ_END,
	WZ_LEFT, WZ_RIGHT, WZ_TAB,
	WZ_TOGGLE,	/* space: select in a list */
	WZ_FILTER,	/* /: filter a list */
	WZ_EDIT,	/* e: edit (a name, the settings) */
	WZ_ACCEPT,	/* a: accept the suggestion */
	WZ_ACCEPT_ALL,	/* A: accept every suggestion */
	WZ_EXCLUDE,	/* x: exclude */
	WZ_CLEAR,	/* Delete, u: forget a decision */
	WZ_SKIP,	/* s: skip the step */
	WZ_UNDO,	/* U: undo the step */
	WZ_RERUN,	/* r: run again */
	WZ_LOG,		/* L: the log (WORK/log) */
	WZ_NAMES,	/* o: folder names as UW showed them, or not */
	WZ_YES,		/* y */
	WZ_NO,		/* n in a dialog */
	WZ_CHAR,	/* a character typed into a field (.ch) */
	WZ_ERASE,	/* Backspace in a field */
	WZ_DELETE,	/* Delete in a field */
	WZ_RESIZE,	/* the terminal changed size */
};

/* Where a key is read: the keys mean different commands there. */
enum wz_keymode {
	WZ_KM_PAGE,	/* a step's page */
	WZ_KM_DIALOG,	/* a question: y / n, Enter on the focused button */
	WZ_KM_FIELD,	/* a line being edited: characters are text */
};

struct wz_input {
	enum wz_cmd cmd;
	wchar_t ch;		/* WZ_CHAR */
};

/* RC and KEY as get_wch() returned them (OK + a character, KEY_CODE_YES
 * + a KEY_ code). */
struct wz_input wz_key_map(int rc, wint_t key, enum wz_keymode mode);
/* The next command from the keyboard (get_wch; ERR on a timeout gives
 * WZ_NONE). */
struct wz_input wz_key_read(WINDOW *win, enum wz_keymode mode);
/* The key line under a page of kind PAGE: the step DONE (or skipped),
 * UNDOABLE, the checklist there (HAVE_CHECKS), a step RUNNING. */
const char *wz_keys_hint(enum rb_page page, bool done, bool undoable,
			 bool have_checks, bool running);
/* The command's name, for tests and the log ("next"). */
const char *wz_cmd_name(enum wz_cmd cmd);

/* ---- text in columns (text.c) ---- */

/* Columns S takes on the terminal (invalid bytes count one each). */
int wz_text_width(const char *s);
/* Draws S at Y,X in at most MAXCOLS columns (cut on a character, the
 * last column an ellipsis when cut); returns the columns used. */
int wz_put(WINDOW *win, int y, int x, const char *s, int maxcols,
	   attr_t attr);
/* Draws S right-aligned so it ends before column X_END. */
int wz_put_right(WINDOW *win, int y, int x_end, const char *s, int maxcols,
		 attr_t attr);
/* Wraps TEXT (paragraphs at '\n') into lines of at most WIDTH columns,
 * breaking at spaces (a longer word is cut).  Returns the number of lines
 * and *LINES_R (allocated, each allocated; wz_lines_free). */
int wz_wrap(const char *text, int width, char ***lines_r);
void wz_lines_free(char **lines, int n);
/* printf into an allocated string (xvasprintf: never NULL). */
char *wz_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "1.5 MB", "320 kB", "12 B" (decimal units, translated). */
void wz_format_bytes(unsigned long long bytes, char *buf, size_t size);
/* "1:02:03" or "2:03". */
void wz_format_duration(double seconds, char *buf, size_t size);

/* ---- looks (frame.c) ---- */

enum wz_color {
	WZ_C_NORMAL,
	WZ_C_TITLE,	/* the top line */
	WZ_C_HEADING,	/* a page's heading */
	WZ_C_CURRENT,	/* the current step in the list */
	WZ_C_SELECT,	/* the selected row */
	WZ_C_OK,	/* PASS, done */
	WZ_C_WARN,	/* WARN, skipped */
	WZ_C_FAIL,	/* FAIL, failed */
	WZ_C_RUN,	/* running */
	WZ_C_DIM,	/* pending, notes */
	WZ_C_KEYS,	/* the key line */
	WZ_C_ADD,	/* + lines of a diff */
	WZ_C_DEL,	/* - lines of a diff */
	WZ_C_COUNT
};

/* Colours when the terminal has them and NO_COLOR is unset (or FORCE
 * says: 1 colours, 0 monochrome, -1 decide); Unicode lines when the
 * locale's codeset is UTF-8 and M2D_ASCII is unset, ASCII otherwise.
 * Call after initscr()/newterm(). */
void wz_looks_init(int force_color, int force_unicode);
attr_t wz_attr(enum wz_color color);
bool wz_unicode(void);

/* Line-drawing pieces (Unicode or ASCII). */
enum wz_glyph {
	WZ_G_HLINE, WZ_G_VLINE, WZ_G_ULCORNER, WZ_G_URCORNER,
	WZ_G_LLCORNER, WZ_G_LRCORNER, WZ_G_TTEE, WZ_G_BTEE,
	WZ_G_GAUGE_FULL, WZ_G_GAUGE_EMPTY, WZ_G_ELLIPSIS,
	WZ_G_UP, WZ_G_DOWN,
	WZ_G_COUNT
};
const char *wz_glyph(enum wz_glyph g);
void wz_hline(WINDOW *win, int y, int x, int n, attr_t attr);
void wz_vline(WINDOW *win, int y, int x, int n, attr_t attr);
void wz_box(WINDOW *win, int y, int x, int h, int w, attr_t attr);
void wz_fill(WINDOW *win, int y, int x, int h, int w, attr_t attr);

/* ---- the frame (frame.c) ---- */

struct wz_step_line {
	int number;
	const char *title;		/* translated */
	enum rb_status status;
};

struct wz_frame {
	const char *title;		/* the top line, left */
	const char *where;		/* the top line, right (work dir) */
	const struct wz_step_line *steps;
	size_t nsteps;
	int current;			/* index into STEPS */
	const char *message;		/* the line above the keys, or NULL */
	enum wz_color message_color;
	const char *keys;		/* the key line */
};

struct wz_rect {
	int y, x, h, w;
};

/* True when the terminal is at least 80x24. */
bool wz_size_ok(int lines, int cols);
/* Draws the "make the terminal larger" message on the whole WIN. */
void wz_draw_too_small(WINDOW *win);
/* Draws the frame on the whole WIN; *PAGE_R is the page area.  Without
 * steps (NSTEPS 0) the page takes the whole width (the log). */
void wz_frame_draw(WINDOW *win, const struct wz_frame *frame,
		   struct wz_rect *page_r);
/* The status mark of a step ("✓", "+" ...) and its word. */
const char *wz_status_mark(enum rb_status status);
enum wz_color wz_status_color(enum rb_status status);

/* ---- pages (page.c and page-*.c) ---- */

struct wz_row {
	char *tag;		/* a short status column ("PASS"), or NULL */
	enum wz_color tag_color;
	char *text;		/* the row (tab: next column) */
	enum wz_color color;
	bool checked;		/* a checkbox, when the page has them */
	int ref;		/* index into the source data (-1: none) */
	char *detail;		/* Enter on the row (checks), or NULL */
	char *info;		/* shown under the list while selected */
	char *key;		/* what the row stands for ("bob/mail/x",
				 * a user name), or NULL */
};

struct wz_gauge {
	bool shown;
	double fraction;	/* 0..1 */
	char *line1;		/* figures under the bar */
	char *line2;
};

struct wz_page {
	enum rb_page kind;
	int step;
	char *heading;		/* "Step 4: ..." */
	char *status;		/* "pending", "done: 3 users" */
	enum wz_color status_color;
	char *intro;		/* what it does (wrapped), or NULL */
	int intro_max;		/* lines of the intro shown at most; 0 all */
	char *columns;		/* the list's header (tabs), or NULL */
	int colw[6];		/* column widths; -N: N%; 0: the rest */
	int ncols;
	bool checkboxes;	/* rows have [x] */
	bool select;		/* a row is selected (else only scroll) */
	struct wz_row *rows;
	size_t nrows, cap;
	char *empty;		/* shown when there are no rows */
	struct wz_gauge gauge;
	char *footer;		/* a line under the list, or NULL */
	/* the view: selection, scroll, filter */
	size_t sel;		/* index into the visible rows */
	size_t top;
	char filter[128];
	int list_height;	/* rows shown at the last draw */
};

void wz_page_init(struct wz_page *page, enum rb_page kind, int step);
void wz_page_free(struct wz_page *page);
/* Drop the rows (keep the heading and the view). */
void wz_page_clear_rows(struct wz_page *page);
/* Appends a row (TAG, TEXT copied; may be NULL); NULL when out of
 * memory. */
struct wz_row *wz_page_add(struct wz_page *page, const char *tag,
			   enum wz_color tag_color, const char *text);
void wz_page_set(char **field, const char *text);
void wz_page_setf(char **field, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The heading and status line from the step's definition and state. */
void wz_page_head(struct wz_page *page, int number, const char *title,
		  enum rb_status status, const char *result);
/* Rows that match the filter: count, and the I-th of them. */
size_t wz_page_visible(const struct wz_page *page);
struct wz_row *wz_page_row(struct wz_page *page, size_t i);
/* The selected row (NULL when none). */
struct wz_row *wz_page_selected(struct wz_page *page);
/* Up/down/page/home/end on the list; 1 when taken. */
int wz_page_move(struct wz_page *page, enum wz_cmd cmd);
void wz_page_draw(WINDOW *win, struct wz_page *page,
		  const struct wz_rect *r);

/* Builders: the page of each kind from the runbook's data. */
void wz_page_text(struct wz_page *page, const char *what, const char *undo,
		  const char *preview);
void wz_page_checks(struct wz_page *page, const struct checks_report *rep);
void wz_page_users(struct wz_page *page, const struct plan *plan,
		   const char *const *tests, size_t ntests);
void wz_page_folders(struct wz_page *page, const struct plan *plan,
		     const struct rb_rename *renames, size_t nrenames,
		     const char *folder_names);
void wz_page_subset(struct wz_page *page, const struct plan *plan,
		    const char *const *chosen, size_t nchosen);
void wz_page_diff(struct wz_page *page, const char *diff);
void wz_page_imap(struct wz_page *page, const struct imap_test_result *res);
/* The IMAP test as each of N users: one user as wz_page_imap(), several
 * with each check's detail after its user ("login  alice: ..."). */
void wz_page_imap_users(struct wz_page *page,
			const struct rb_imap_user *list, size_t n);
void wz_page_report(struct wz_page *page, const char *text);
/* The log (WORK/log, PATH): a row per line, the newest selected; the
 * kind of each line ("warning", "error", "redownload") coloured. */
void wz_page_log(struct wz_page *page, const char *path, const char *text);
/* Selects the next row (after the selected one, FORWARD, or before it),
 * wrapping around, whose text contains NEEDLE (case-insensitive); 1 when
 * found.  The footer says what was searched and where it is. */
int wz_page_search(struct wz_page *page, const char *needle, bool forward);
/* The key line of the log view. */
const char *wz_keys_log(void);

/* The migration's progress, as the event callback collects it. */
enum wz_mig_state {
	WZ_MIG_RUNNING, WZ_MIG_FAILED, WZ_MIG_DONE, WZ_MIG_UNCHANGED,
	WZ_MIG_SKIPPED, WZ_MIG_STOPPED,
};

struct wz_mig_line {
	const void *key;	/* the plan_folder (identity only) */
	char *listed;
	enum wz_mig_state state;
	unsigned long messages;
	long long done, size;	/* source bytes read / total */
	char *detail;		/* the error, or NULL */
	unsigned long seq;	/* order of the last change */
};

struct wz_mig {
	struct wz_mig_line *lines;
	size_t nlines, cap;
	unsigned long seq;
	struct migrate_totals totals;
	double elapsed;		/* seconds since the start */
	bool running, cancelling;
};

void wz_mig_init(struct wz_mig *mig);
void wz_mig_free(struct wz_mig *mig);
/* Takes one report of the migration (copies what it shows). */
void wz_mig_event(struct wz_mig *mig, const struct migrate_report *rep);
void wz_page_migrate(struct wz_page *page, const struct wz_mig *mig);

/* Why a typed rename cannot be used (for the folders page's field), or
 * NULL: the name itself, and with CTX (struct wz_rename_ctx) a clash
 * with another folder of the user, existing or renamed. */
struct wz_rename_ctx {
	const struct runbook *rb;
	const char *listed;	/* the folder being renamed */
	char buf[1024];		/* the reason given */
};
const char *wz_rename_problem(const char *name, void *ctx);

/* The question before an undo of STEP: what it undoes, and first the N
 * steps of CHAIN (rb_undo_chain: the later steps that rely on it,
 * newest first) with what undoing each does.  Allocated. */
char *wz_undo_question(int step, const int *chain, size_t n);

/* ---- dialogs (dialog.c) ---- */

struct wz_dialog {
	char *title;
	char *text;		/* wrapped */
	const char *yes, *no;	/* button labels; NO NULL: one button */
	bool focus_yes;		/* which button Enter presses */
	bool danger;		/* shown in the failure colour */
	size_t top;		/* scroll of a long text */
	/* a field: */
	bool field;
	wchar_t value[256];
	size_t len, cursor;
	bool hidden;		/* a password */
	/* validates VALUE as typed: NULL fine, else the reason */
	const char *(*validate)(const char *value, void *ctx);
	void *ctx;
	char *problem;		/* the last validation's reason */
};

void wz_dialog_init(struct wz_dialog *d, const char *title, const char *text,
		    const char *yes, const char *no);
void wz_dialog_free(struct wz_dialog *d);
void wz_dialog_field(struct wz_dialog *d, const char *value, bool hidden);
/* The field's value as UTF-8 (allocated). */
char *wz_dialog_value(const struct wz_dialog *d);
void wz_dialog_draw(WINDOW *win, struct wz_dialog *d,
		    const struct wz_rect *area);
/* 1 yes/OK, 0 no/cancel, -1 still open. */
int wz_dialog_handle(struct wz_dialog *d, const struct wz_input *in);

#endif
