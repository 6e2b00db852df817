/* SPDX-License-Identifier: MIT */
#ifndef M2D_XALLOC_H
#define M2D_XALLOC_H

/*
 * Allocation that does not come back empty-handed: out of memory, the
 * program says so on standard error and aborts, as git's xmalloc() dies.
 * Dying costs no safety here: a run killed at any moment loses nothing
 * (the journal, staging directories and temp files + rename), and the
 * next run goes on from where it was.  Hand-written out-of-memory
 * branches are not needed (nor tested) where these are used.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* A copy of S; NULL gives "" (as the journal's fields want). */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));


/* Out of memory where a library call (open_memstream, ...) failed: the
 * same message, then abort. */
void xalloc_die(void) __attribute__((noreturn));

/* open_memstream() that does not fail, and the fclose() that ends it:
 * after xmemstream_close() *BUF holds every byte written, NUL-ended
 * (a write the memory did not take aborts there). */
FILE *xopen_memstream(char **buf, size_t *size);
void xmemstream_close(FILE *f);

/* Called before the program aborts (the wizard leaves curses mode). */
void xalloc_set_before_die(void (*fn)(void));

#endif
