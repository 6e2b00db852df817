/* SPDX-License-Identifier: MIT */
/* runbook-system.c - the system's tools as the configuration names them
 * (the actions themselves are host-actions.c's) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "runbook-int.h"
#include "xalloc.h"

void rb_dc_tools(const struct runbook *rb, struct dc_tools *t)
{
	dc_tools_from_config(&rb->cfg, t);
}

void rb_acct_tools(const struct runbook *rb, struct acct_tools *t)
{
	t->usermod = rb->cfg.usermod_command;
	t->root = rb->cfg.accounts_root;
}

static void log_line(const char *text, void *ctx)
{
	rb_log(ctx, "%s", text);
}

struct host_log rb_host_log(struct runbook *rb)
{
	struct host_log log = { log_line, rb };

	return log;
}

/*
 * Lines of Dovecot's log about USER written since SINCE: the
 * effective log_path (doveconf -h), its last 256 KiB, the lines naming
 * user=<USER> (or the user in an auth line) whose time is not before
 * SINCE.  Up to MAX lines, joined by newlines, allocated; NULL when
 * Dovecot logs to syslog or nothing matched.
 */
char *rb_dovecot_log(struct runbook *rb, const char *user, time_t since,
		     int max)
{
	struct dc_tools tools;
	struct m2d_error err;
	char *path = NULL, *text = NULL, *out = NULL, key1[300], key2[300];
	char stamp[32];
	size_t len = 0, cap = 0;
	struct tm tm;
	long long off;
	FILE *f;
	int n = 0;

	rb_dc_tools(rb, &tools);
	if (dc_read_setting(&tools, rb->cfg.dovecot_config, "log_path",
			    &path, &err) < 0 || path[0] != '/') {
		free(path);
		return NULL;
	}
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (off = ftell(f)) > 262144)
		fseek(f, off - 262144, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	text = xmalloc(262145);
	len = fread(text, 1, 262144, f);
	text[len] = '\0';
	fclose(f);
	/* Dovecot's own stamp: "Nov 29 01:41:02" (log_timestamp) */
	localtime_r(&since, &tm);
	strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
	snprintf(key1, sizeof(key1), "user=<%s>", user);
	snprintf(key2, sizeof(key2), "(%s,", user);
	len = 0;
	for (char *line = text, *next; line != NULL && *line != '\0' &&
	     n < max; line = next) {
		size_t ll;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strstr(line, key1) == NULL && strstr(line, key2) == NULL)
			continue;
		/* same day and not before SINCE (the stamp sorts within a
		   day); a line without the stamp is kept */
		if (strlen(line) > 15 && line[3] == ' ' &&
		    strncmp(line, stamp, 15) < 0)
			continue;
		ll = strlen(line);
		if (len + ll + 2 > cap) {
			cap = (len + ll + 2) * 2;
			out = xrealloc(out, cap);
		}

		if (len > 0)
			out[len++] = '\n';
		memcpy(out + len, line, ll + 1);
		len += ll;
		n++;
	}
	free(text);
	return out;
}

char *rb_expand_user(const char *template, const char *user)
{
	size_t n = 0, ulen = strlen(user);
	char *out, *o;

	for (const char *p = template; *p != '\0'; p++)
		n += (p[0] == '%' && p[1] == 'u') ? ulen : 1;
	out = xmalloc(n + 1);
	o = out;

	for (const char *p = template; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			memcpy(o, user, ulen);
			o += ulen;
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}
