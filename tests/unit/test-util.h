/* SPDX-License-Identifier: MIT */
#ifndef M2D_TEST_UTIL_H
#define M2D_TEST_UTIL_H

/*
 * Small helpers the unit tests share (after <cmocka.h>): a whole file
 * into memory, and a file written from a string.
 */

#include <stdio.h>
#include <stdlib.h>

/* The bytes of PATH, NUL-terminated and allocated, or NULL when absent. */
static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;
	FILE *m;
	int c;

	if (f == NULL)
		return NULL;
	m = open_memstream(&buf, &size);
	assert_non_null(m);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* PATH now holds exactly TEXT. */
static inline void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

#endif
