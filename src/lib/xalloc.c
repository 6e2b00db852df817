/* SPDX-License-Identifier: MIT */
/* xalloc.c - allocation that aborts with a clear message when out of memory */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"
#include "i18n.h"

static void (*before_die)(void);

void xalloc_set_before_die(void (*fn)(void))
{
	before_die = fn;
}

static void die_oom(size_t size) __attribute__((noreturn));
static void die_oom(size_t size)
{
	char msg[160];
	int n;

	if (before_die != NULL)
		before_die();
	/* no stdio buffers: there may be no memory for them */
	n = snprintf(msg, sizeof(msg), _("mbox2dovecot: out of memory "
					 "(%zu bytes); run it again when "
					 "memory is free: nothing is lost\n"),
		     size);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		n = 0;
	abort();
}

void xalloc_die(void)
{
	die_oom(0);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size != 0 ? size : 1);

	if (p == NULL)
		die_oom(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);

	if (p == NULL)
		die_oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size != 0 ? size : 1);

	if (q == NULL)
		die_oom(size);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s != NULL ? s : "");

	if (p == NULL)
		die_oom(strlen(s != NULL ? s : "") + 1);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		die_oom(n + 1);
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		die_oom(0);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}


FILE *xopen_memstream(char **buf, size_t *size)
{
	FILE *f = open_memstream(buf, size);

	if (f == NULL)
		die_oom(BUFSIZ);
	return f;
}

void xmemstream_close(FILE *f)
{
	bool bad = ferror(f) != 0;

	/* a memory stream fails to write only when memory runs out */
	if (fclose(f) != 0 || bad)
		die_oom(BUFSIZ);
}
