/* SPDX-License-Identifier: MIT */
#ifndef M2D_RUNBOOK_LOG_H
#define M2D_RUNBOOK_LOG_H

/*
 * WORK_DIR/log: one append-only file (0600) of everything the runbook did
 * and warned about, a line each with its time and step:
 *
 *   2026-12-07 21:55:03 [13] warning: alice/mail/Sent: ...
 *
 * The kind after the step is a fixed word, never translated (the report
 * reads the file back): "session" (a run began), "run", "done",
 * "failed", "pending", "skipped", "undone", "decision", "info",
 * "warning", "error", and "redownload" (a folder converted with new
 * UIDs: its client downloads it again; the folder's name, a TAB, why).
 * Every text is str_escape()d: no line breaks or terminal controls.
 * Lines from before the work directory exists are held and written once
 * it does.
 *
 * Private to the runbook (runbook.c opens it, runbook-report.c reads it).
 */

#include <stdarg.h>

struct runbook;
struct rb_event;

/* Puts the log between the runbook's events and the caller's callback
 * (rb->opts.event): every event is written, then passed on. */
void rb_logbook_open(struct runbook *rb);
void rb_logbook_close(struct runbook *rb);
/* A line of KIND for STEP (-1: none) into the log only. */
void rb_logbook_line(struct runbook *rb, int step, const char *kind,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One line of the log read back: its parts, in BUF (modified). */
struct rb_log_line {
	const char *time;	/* "2026-12-07 21:55:03" */
	int step;		/* -1: none */
	const char *kind;	/* "warning" */
	const char *text;	/* the rest */
};
/* Splits LINE (no newline); 0, or -1 when it is not a line of ours. */
int rb_log_parse(char *line, struct rb_log_line *out);

#endif
