/* SPDX-License-Identifier: MIT */
/* str-escape.c - names shown to people and stored in our line files */
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "str-escape.h"
#include "xalloc.h"

/* The length of the well-formed UTF-8 sequence at P (2 to 4), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = 0;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	}
	if (n > 0 && ((p[0] == 0xe0 && p[1] < 0xa0) ||
		      (p[0] == 0xed && p[1] >= 0xa0) ||
		      (p[0] == 0xf0 && p[1] < 0x90) ||
		      (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return n;
}

/* A well-formed sequence that still must not reach a terminal: C1
 * controls, line/paragraph separators, bidirectional overrides. */
static int utf8_hidden(const unsigned char *p, size_t n)
{
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 1;				/* U+0080-U+009F */
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    p[2] >= 0xa8 && p[2] <= 0xae)
		return 1;				/* U+2028-U+202E */
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x81 &&
	    p[2] >= 0xa6 && p[2] <= 0xa9)
		return 1;				/* U+2066-U+2069 */
	return 0;
}

/*
 * The display form, piece by piece: calls PUT(CTX, DATA, LEN) for each
 * piece (an escape is one piece).
 */
static void display_walk(const char *s,
			 void (*put)(void *ctx, const char *data, size_t len),
			 void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	while (*p != '\0') {
		char esc[4 * 4];
		size_t n, o = 0;

		if (*p == '\\') {
			put(ctx, "\\\\", 2);
			p++;
			continue;
		}
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			put(ctx, *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : "\\t",
			    2);
			p++;
			continue;
		}
		if (*p >= 0x20 && *p < 0x7f) {
			const unsigned char *q = p;

			while (*q >= 0x20 && *q < 0x7f && *q != '\\')
				q++;
			put(ctx, (const char *)p, (size_t)(q - p));
			p = q;
			continue;
		}
		n = *p >= 0x80 ? utf8_len(p) : 0;
		if (n > 0 && !utf8_hidden(p, n)) {
			put(ctx, (const char *)p, n);
			p += n;
			continue;
		}
		if (n == 0)
			n = 1;
		for (size_t k = 0; k < n; k++) {
			esc[o++] = '\\';
			esc[o++] = 'x';
			esc[o++] = hex[p[k] >> 4];
			esc[o++] = hex[p[k] & 15];
		}
		put(ctx, esc, o);
		p += n;
	}
}

struct buf_ctx {
	char *buf;
	size_t size;	/* of buf */
	size_t used;	/* written into buf */
	size_t total;	/* the whole form's length */
	int cut;
};

static void put_buf(void *ctx, const char *data, size_t len)
{
	struct buf_ctx *b = ctx;

	if (!b->cut && b->size > 0 && b->used + len < b->size) {
		memcpy(b->buf + b->used, data, len);
		b->used += len;
	} else if (data[0] == '\\' || (unsigned char)data[0] >= 0x80) {
		b->cut = 1;	/* never half an escape or a character */
	} else if (!b->cut && b->size > 0) {
		/* a plain run: as much of it as fits */
		size_t room = b->size - 1 - b->used;

		memcpy(b->buf + b->used, data, room);
		b->used += room;
		b->cut = 1;
	}
	b->total += len;
}

size_t str_escape_buf(char *buf, size_t size, const char *s)
{
	struct buf_ctx b = { buf, size, 0, 0, 0 };

	display_walk(s, put_buf, &b);
	if (size > 0)
		buf[b.used] = '\0';
	return b.total;
}

char *str_escape(const char *s)
{
	size_t len = str_escape_buf(NULL, 0, s);
	char *out = xmalloc(len + 1);

	str_escape_buf(out, len + 1, s);
	return out;
}

#define RING 8

static __thread char *ring[RING];
static __thread size_t ring_size[RING];
static __thread unsigned int ring_next;

/* A worker thread's buffers are freed when it ends (its thread-local
 * pointers go with it: a leak to LeakSanitizer and valgrind). */
static pthread_key_t ring_key;
static pthread_once_t ring_once = PTHREAD_ONCE_INIT;

static void ring_free(void *unused)
{
	(void)unused;
	for (int i = 0; i < RING; i++) {
		free(ring[i]);
		ring[i] = NULL;
		ring_size[i] = 0;
	}
}

static void ring_key_make(void)
{
	if (pthread_key_create(&ring_key, ring_free) != 0)
		abort();
}

const char *str_esc(const char *s)
{
	unsigned int i = ring_next++ % RING;
	size_t len = str_escape_buf(NULL, 0, s);

	if (len + 1 > ring_size[i]) {
		char *b = xrealloc(ring[i], len + 1);

		if (ring_size[i] == 0) {
			/* a value that is not NULL, so the destructor runs */
			pthread_once(&ring_once, ring_key_make);
			pthread_setspecific(ring_key, ring);
		}
		ring[i] = b;
		ring_size[i] = len + 1;
	}
	str_escape_buf(ring[i], ring_size[i], s);
	return ring[i];
}

static void put_file(void *ctx, const char *data, size_t len)
{
	fwrite(data, 1, len, ctx);
}

void str_escape_fput(FILE *out, const char *s)
{
	display_walk(s, put_file, out);
}

/* ---- fields of our line files ---- */

static void escape_walk(const char *s, bool keep_space,
			void (*put)(void *ctx, const char *data, size_t len),
			void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	while (*p != '\0') {
		const unsigned char *q = p;
		char esc[4];

		while ((*q > 0x20 || (keep_space && *q == ' ')) &&
		       *q != 0x7f && *q != '\\')
			q++;
		if (q > p) {
			put(ctx, (const char *)p, (size_t)(q - p));
			p = q;
			continue;
		}
		switch (*p) {
		case '\\': put(ctx, "\\\\", 2); break;
		case '\t': put(ctx, "\\t", 2); break;
		case '\n': put(ctx, "\\n", 2); break;
		case '\r': put(ctx, "\\r", 2); break;
		case ' ': put(ctx, "\\s", 2); break;
		default:
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			put(ctx, esc, 4);
			break;
		}
		p++;
	}
}

static char *escape(const char *s, bool keep_space)
{
	struct buf_ctx b = { NULL, 0, 0, 0, 0 };
	char *out;

	escape_walk(s, keep_space, put_buf, &b);
	out = xmalloc(b.total + 1);
	b =
 (struct buf_ctx){ out, b.total + 1, 0, 0, 0 };
	escape_walk(s, keep_space, put_buf, &b);
	out[b.used] = '\0';
	return out;
}

char *str_field_escape(const char *s)
{
	return escape(s, false);
}

char *str_line_escape(const char *s)
{
	return escape(s, true);
}

void str_field_fput(FILE *out, const char *s)
{
	escape_walk(s, false, put_file, out);
}

void str_line_fput(FILE *out, const char *s)
{
	escape_walk(s, true, put_file, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unescape(char *s, bool space_ok)
{
	unsigned char *p = (unsigned char *)s, *o = p;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !space_ok))
			return -1;
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '\\': *o++ = '\\'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case 'n': *o++ = '\n'; p++; break;
		case 'r': *o++ = '\r'; p++; break;
		case 's': *o++ = ' '; p++; break;
		case 'x': {
			int hi = hexval((char)p[1]), lo;

			lo = hi < 0 ? -1 : hexval((char)p[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*o++ = (unsigned char)(hi * 16 + lo);
			p += 3;
			break;
		}
		default:
			return -1;
		}
	}
	*o = '\0';
	return 0;
}

int str_field_unescape(char *s)
{
	return unescape(s, false);
}

int str_line_unescape(char *s)
{
	return unescape(s, true);
}
