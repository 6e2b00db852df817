/* SPDX-License-Identifier: MIT */
/* error.c - the error object of the core library */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "m2d-error.h"
#include "str-escape.h"
#include "i18n.h"

void m2d_error_clear(struct m2d_error *err)
{
	memset(err, 0, sizeof(*err));
	err->offset = -1;
}

static void copy_path(struct m2d_error *err, const char *path)
{
	snprintf(err->path, sizeof(err->path), "%s", path != NULL ? path : "");
}

int m2d_error_sys(struct m2d_error *err, const char *syscall, const char *path)
{
	int e = errno;

	if (err == NULL)
		return -1;
	m2d_error_clear(err);
	err->code = M2D_ERR_SYS;
	err->sys_errno = e;
	snprintf(err->syscall, sizeof(err->syscall), "%s", syscall);
	copy_path(err, path);
	snprintf(err->msg, sizeof(err->msg), "%s", strerror(e));
	errno = e;
	return -1;
}

int m2d_error_set(struct m2d_error *err, enum m2d_err code, const char *path,
		  const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	m2d_error_clear(err);
	err->code = code;
	copy_path(err, path);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int m2d_error_prefix(struct m2d_error *err, const char *fmt, ...)
{
	char outer[M2D_ERROR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	if (err->context[0] != '\0') {
		/* "OUTER: INNER", cut at the field's size */
		char both[2 * M2D_ERROR_MSG_MAX + 2];
		size_t lo = strlen(outer), li = strlen(err->context);

		memcpy(both, outer, lo);
		memcpy(both + lo, ": ", 2);
		memcpy(both + lo + 2, err->context, li + 1);
		li = lo + 2 + li;
		if (li >= sizeof(err->context))
			li = sizeof(err->context) - 1;
		memcpy(err->context, both, li);
		err->context[li] = '\0';
	} else {
		memcpy(err->context, outer, sizeof(err->context));
	}
	return -1;
}

void m2d_error_at(struct m2d_error *err, long long offset, unsigned long line)
{
	if (err == NULL)
		return;
	err->offset = offset;
	err->line = line;
}

const char *m2d_error_str(const struct m2d_error *err, char *buf, size_t size)
{
	char where[64] = "";
	size_t off = 0;

	if (err->context[0] != '\0' && size > 0) {
		snprintf(buf, size, "%s: ", str_esc(err->context));
		off = strlen(buf);
		buf += off;
		size -= off;
	}
	if (err->line > 0)
		snprintf(where, sizeof(where), ":%lu", err->line);
	/* names are users' data: control characters shown escaped */
	if (err->code == M2D_ERR_SYS && err->syscall[0] != '\0') {
		/* TRANSLATORS: syscall(path) failed: reason */
		snprintf(buf, size, _("%s(%s%s) failed: %s"), err->syscall,
			 str_esc(err->path), where, str_esc(err->msg));
	} else if (err->path[0] != '\0') {
		snprintf(buf, size, "%s%s: %s", str_esc(err->path), where,
			 str_esc(err->msg));
	} else {
		snprintf(buf, size, "%s", str_esc(err->msg));
	}
	return buf - off;
}
