/* SPDX-License-Identifier: MIT */
/* runbook-log.c - WORK/log: what the runbook did and warned about, one
 * line each with its time, appended (see runbook-log.h) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "runbook-int.h"
#include "runbook-log.h"
#include "str-escape.h"
#include "xalloc.h"

#define LOG_FILE "log"

/* A warning about a folder, kept until the folder is done: the why of
 * a "redownload" line. */
struct folder_note {
	const void *folder;
	char *text;
};

struct rb_logbook {
	pthread_mutex_t lock;
	char *dir;		/* WORK */
	char *path;
	int fd;			/* -1 until the work directory exists */
	bool session;		/* the "session" line is written */
	char *held;		/* lines from before the work directory */
	size_t nheld;
	bool read_only;		/* rb_options.read_only: nothing written */
	struct folder_note *notes;
	size_t nnotes;
	/* the caller's callback, behind ours */
	void (*event)(const struct rb_event *ev, void *ctx);
	void *ctx;
};

char *rb_log_path(const struct runbook *rb)
{
	return xasprintf("%s/%s", rb->cfg.work_dir, LOG_FILE);
}

/* Opens the file once the work directory is there (ours: rb_work_dir
 * made and checked it).  Under LOCK. */
static bool log_fd(struct rb_logbook *lb)
{
	struct stat st;
	int fd;

	if (lb->fd >= 0)
		return true;
	/* the work directory as rb_work_dir() wants it: ours, a real
	   directory, writable by nobody else */
	if (lstat(lb->dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return false;
	fd = open(lb->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		  O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return false;
	}
	if ((st.st_mode & 077) != 0)
		(void)fchmod(fd, 0600);
	lb->fd = fd;
	return true;
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Appends TEXT (whole lines) to the file, or holds it.  Under LOCK. */
static void put(struct rb_logbook *lb, const char *text, size_t len)
{
	if (lb->read_only)
		return;
	if (log_fd(lb)) {
		if (lb->nheld > 0) {
			write_all(lb->fd, lb->held, lb->nheld);
			free(lb->held);
			lb->held = NULL;
			lb->nheld = 0;
		}
		write_all(lb->fd, text, len);
		return;
	}
	if (lb->nheld < 1024 * 1024) {
		lb->held = xrealloc(lb->held, lb->nheld + len);
		memcpy(lb->held + lb->nheld, text, len);
		lb->nheld += len;
	}
}

static void stamp(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)now);
}

/* One line per line of TEXT (each shown safely: str_escape, unless
 * ESCAPED says it is already), under LOCK. */
static void lines(struct runbook *rb, int step, const char *kind,
		  const char *text, bool escaped)
{
	struct rb_logbook *lb = rb->logbook;
	char when[32], tag[16];
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	stamp(when, sizeof(when));
	if (step >= 0)
		snprintf(tag, sizeof(tag), "[%d]", step);
	else
		snprintf(tag, sizeof(tag), "[-]");
	f = xopen_memstream(&out, &len);
	if (!lb->session) {
		lb->session = true;
		fprintf(f, "%s [-] session: mbox2dovecot %s, pid %ld, "
			"config ", when, M2D_VERSION, (long)getpid());
		str_escape_fput(f, rb->config_path != NULL ?
				rb->config_path : _("(none: the defaults)"));
		fputc('\n', f);
	}
	do {
		const char *nl = strchr(text, '\n');
		size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
		char *one = xstrndup(text, n);

		fprintf(f, "%s %s %s: ", when, tag, kind);
		if (escaped)
			fputs(one, f);
		else
			str_escape_fput(f, one);
		fputc('\n', f);
		free(one);
		text = nl != NULL ? nl + 1 : NULL;
	} while (text != NULL && *text != '\0');
	xmemstream_close(f);
	put(lb, out, len);
	free(out);
}

void rb_logbook_line(struct runbook *rb, int step, const char *kind,
		     const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	if (rb->logbook == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&rb->logbook->lock);
	lines(rb, step, kind, buf, false);
	pthread_mutex_unlock(&rb->logbook->lock);
}

/* ---- the events, written and passed on ---- */

static const char *step_kind(enum rb_status st)
{
	switch (st) {
	case RB_RUNNING: return "run";
	case RB_DONE: return "done";
	case RB_FAILED: return "failed";
	case RB_SKIPPED: return "skipped";
	case RB_PENDING: default: return "pending";
	}
}

static void note_folder(struct rb_logbook *lb, const void *folder,
			const char *text)
{
	struct folder_note *n;

	for (size_t i = 0; i < lb->nnotes; i++) {
		if (lb->notes[i].folder == folder) {
			free(lb->notes[i].text);
			lb->notes[i].text = xstrdup(text);
			return;
		}
	}
	lb->notes = xrealloc(lb->notes, (lb->nnotes + 1) * sizeof(*n));
	n = &lb->notes[lb->nnotes++];
	n->folder = folder;
	n->text = xstrdup(text);
}

/* The warning kept for FOLDER (allocated; the note is dropped), or
 * NULL. */
static char *take_note(struct rb_logbook *lb, const void *folder)
{
	for (size_t i = 0; i < lb->nnotes; i++) {
		if (lb->notes[i].folder == folder) {
			char *t = lb->notes[i].text;

			lb->notes[i] = lb->notes[--lb->nnotes];
			return t;
		}
	}
	return NULL;
}

static void migrate_event(struct runbook *rb, int step,
			  const struct migrate_report *m)
{
	struct rb_logbook *lb = rb->logbook;
	char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 64];
	char *text = NULL, *why, *field;
	const char *who = m->folder != NULL ? m->folder->listed :
		m->user != NULL ? m->user->name : "-";

	switch (m->event) {
	case MIGRATE_FOLDER_WARNING:
	case MIGRATE_FOLDER_FAILED:
	case MIGRATE_USER_FAILED:
		if (m->error != NULL)
			m2d_error_str(m->error, buf, sizeof(buf));
		else
			buf[0] = '\0';
		text = xasprintf("%s: %s", str_esc(who), buf);
		if (m->event == MIGRATE_FOLDER_WARNING && m->folder != NULL)
			note_folder(lb, m->folder, buf);
		lines(rb, step, m->event == MIGRATE_FOLDER_WARNING ?
		      "warning" : "error", text, false);
		free(text);
		break;
	case MIGRATE_FOLDER_DONE:
		why = m->folder != NULL ? take_note(lb, m->folder) : NULL;
		if (m->stats == NULL || m->stats->uids_kept ||
		    m->stats->messages == 0 || m->folder == NULL) {
			free(why);
			break;
		}
		/* the folder and why, each shown safely, a TAB between
		   (a shown name has none) */
		field = str_escape(m->folder->listed);
		text = xasprintf("%s\t%s", field,
				 str_esc(why != NULL ? why :
					 _("new UIDVALIDITY and UIDs")));
		lines(rb, step, "redownload", text, true);
		free(text);
		free(field);
		free(why);
		break;
	default:
		break;
	}
}

static void on_event(const struct rb_event *ev, void *ctx)
{
	struct runbook *rb = ctx;
	struct rb_logbook *lb = rb->logbook;

	pthread_mutex_lock(&lb->lock);
	switch (ev->kind) {
	case RB_EV_LOG:
		if (ev->text == NULL)
			break;
		/* the checks' and doveadm's "WARN x", "FAIL x" */
		if (strncmp(ev->text, "FAIL ", 5) == 0)
			lines(rb, ev->step, "error", ev->text + 5, false);
		else if (strncmp(ev->text, "WARN ", 5) == 0)
			lines(rb, ev->step, "warning", ev->text + 5, false);
		else
			lines(rb, ev->step, "info", ev->text, false);
		break;
	case RB_EV_STEP:
		if (ev->step >= 0 && ev->step < RB_NSTEPS) {
			const struct rb_step_state *st = &rb->steps[ev->step];
			const char *what = st->status == RB_RUNNING ?
				_(rb_steps[ev->step].title) :
				st->status == RB_SKIPPED ? st->reason :
				st->result;

			lines(rb, ev->step, step_kind(st->status),
			      what != NULL ? what : "", false);
		}
		break;
	case RB_EV_MIGRATE:
		if (ev->migrate != NULL)
			migrate_event(rb, ev->step, ev->migrate);
		break;
	}
	pthread_mutex_unlock(&lb->lock);
	if (lb->event != NULL)
		lb->event(ev, lb->ctx);
}

void rb_logbook_open(struct runbook *rb)
{
	struct rb_logbook *lb = xcalloc(1, sizeof(*lb));

	lb->path = rb_log_path(rb);
	lb->dir = xstrdup(rb->cfg.work_dir);
	pthread_mutex_init
(&lb->lock, NULL);
	lb->fd = -1;
	lb->read_only = rb->opts.read_only;
	lb->event = rb->opts.event;
	lb->ctx = rb->opts.event_ctx;
	rb->opts.event = on_event;
	rb->opts.event_ctx = rb;
	rb->logbook = lb;
}

void rb_logbook_close(struct runbook *rb)
{
	struct rb_logbook *lb = rb->logbook;

	if (lb == NULL)
		return;
	/* lines held from before the work directory: written if it is
	   there now, else dropped (nothing was made) */
	if (lb->nheld > 0 && lb->fd < 0)
		(void)log_fd(lb);
	if (lb->nheld > 0 && lb->fd >= 0)
		write_all(lb->fd, lb->held, lb->nheld);
	if (lb->fd >= 0)
		close(lb->fd);
	for (size_t i = 0; i < lb->nnotes; i++)
		free(lb->notes[i].text);
	free(lb->notes);
	free(lb->held);
	free(lb->path);
	free(lb->dir);
	pthread_mutex_destroy(&lb->lock);
	rb->opts.event = lb->event;
	rb->opts.event_ctx = lb->ctx;
	free(lb);
	rb->logbook = NULL;
}

/* ---- read back ---- */

int rb_log_parse(char *line, struct rb_log_line *out)
{
	char *p, *end;
	long step;

	/* "YYYY-MM-DD HH:MM:SS [N] kind: text" */
	if (strlen(line) < 24 || line[4] != '-' || line[10] != ' ' ||
	    line[19] != ' ' || line[20] != '[')
		return -1;
	line[19] = '\0';
	out->time = line;
	p = line + 21;
	if (*p == '-') {
		step = -1;
		end = p + 1;
	} else {
		step = strtol(p, &end, 10);
		if (end == p || step < 0 || step >= RB_NSTEPS)
			return -1;
	}
	if (*end != ']' || end[1] != ' ')
		return -1;
	out->step = (int)step;
	p = end + 2;
	end = strstr(p, ": ");
	if (end == NULL || end == p)
		return -1;
	*end = '\0';
	out->kind = p;
	out->text = end + 2;
	return 0;
}
