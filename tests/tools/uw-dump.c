/* SPDX-License-Identifier: MIT */
/* uw-dump.c - an mbx file or a mix directory as our readers (mbx-reader.h,
 * mix-reader.h) give it, in the JSON of cclient-make's dump, so that
 * tests/integration/test-uw-formats.py compares the two field by field.
 *
 *   uw-dump PATH
 *
 * One line: {"name", "opened", "driver", "uidvalidity", "uidnext",
 * "uid_reset", "log": our error, "msgs": [{"uid", "flags" (R A F T D,
 * N for \Recent), "date", "size", "keywords", "data": base64}]}.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbx-reader.h"
#include "mix-reader.h"
#include "mmdf-reader.h"

static void json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	"abcdefghijklmnopqrstuvwxyz0123456789+/";

struct b64 {
	unsigned char in[3];
	size_t n;
};

static void b64_add(struct b64 *b, const unsigned char *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		b->in[b->n++] = d[i];
		if (b->n == 3) {
			printf("%c%c%c%c", tab[b->in[0] >> 2],
			       tab[((b->in[0] & 3) << 4) | (b->in[1] >> 4)],
			       tab[((b->in[1] & 15) << 2) | (b->in[2] >> 6)],
			       tab[b->in[2] & 63]);
			b->n = 0;
		}
	}
}

static void b64_end(struct b64 *b)
{
	if (b->n == 1)
		printf("%c%c==", tab[b->in[0] >> 2], tab[(b->in[0] & 3) << 4]);
	else if (b->n == 2)
		printf("%c%c%c=", tab[b->in[0] >> 2],
		       tab[((b->in[0] & 3) << 4) | (b->in[1] >> 4)],
		       tab[(b->in[1] & 15) << 2]);
	b->n = 0;
}

static void msg_head(const struct uw_msg *m, unsigned long n)
{
	const char *k = m->keywords;

	printf("%s{\"uid\": %lu, \"flags\": \"%s%s%s%s%s%s\", \"date\": %lld, "
	       "\"size\": %llu, \"keywords\": [", n > 1 ? ", " : "", m->uid,
	       m->flags & UW_SEEN ? "R" : "", m->flags & UW_ANSWERED ? "A" : "",
	       m->flags & UW_FLAGGED ? "F" : "", m->flags & UW_DRAFT ? "T" : "",
	       m->flags & UW_DELETED ? "D" : "", m->flags & UW_OLD ? "" : "N",
	       (long long)m->date, m->size);
	while (*k != '\0') {
		size_t len = strcspn(k, " ");
		char w[MBOX_MAX_KEYWORD_LEN + 1];

		snprintf(w, sizeof(w), "%.*s", (int)len, k);
		if (k != m->keywords)
			printf(", ");
		json_str(w);
		k += len;
		if (*k == ' ')
			k++;
	}
	printf("], \"data\": \"");
}

static void head(const char *path, const char *driver,
		 const struct uw_folder *f)
{
	printf("{\"name\": ");
	json_str(path);
	printf(", \"opened\": 1, \"driver\": \"%s\", \"uidvalidity\": %lu, "
	       "\"uidnext\": %lu, \"uid_reset\": %d, \"keywords\": ", driver,
	       f->uidvalidity, f->uidnext, f->uid_reset ? 1 : 0);
	json_str(f->keywords);
	printf(", \"msgs\": [");
}

static int fail(const char *path, const struct m2d_error *err, bool started)
{
	char buf[2048];

	if (started)
		printf("], \"log\": ");
	else {
		printf("{\"name\": ");
		json_str(path);
		printf(", \"opened\": 0, \"log\": ");
	}
	json_str(m2d_error_str(err, buf, sizeof(buf)));
	printf("}\n");
	return 1;
}

/* One of our three readers, as the dump calls them. */
struct src {
	enum uw_format fmt;
	struct mbx_reader *mbx;
	struct mix_reader *mix;
	struct mmdf_reader *mmdf;
};

static int src_open(struct src *s, const char *path, struct m2d_error *err)
{
	if (s->fmt == UW_FMT_MBX)
		return mbx_reader_open(AT_FDCWD, path, NULL, &s->mbx, err);
	if (s->fmt == UW_FMT_MIX)
		return mix_reader_open(AT_FDCWD, path, NULL, &s->mix, err);
	return mmdf_reader_open(AT_FDCWD, path, NULL, &s->mmdf, err);
}

static const struct uw_folder *src_folder(const struct src *s)
{
	if (s->fmt == UW_FMT_MBX)
		return mbx_reader_folder(s->mbx);
	if (s->fmt == UW_FMT_MIX)
		return mix_reader_folder(s->mix);
	return mmdf_reader_folder(s->mmdf);
}

static int src_next(struct src *s, struct uw_msg *m, struct m2d_error *err)
{
	if (s->fmt == UW_FMT_MBX)
		return mbx_reader_next(s->mbx, m, err);
	if (s->fmt == UW_FMT_MIX)
		return mix_reader_next(s->mix, m, err);
	return mmdf_reader_next(s->mmdf, m, err);
}

static int src_read(struct src *s, const unsigned char **d, size_t *len,
		    struct m2d_error *err)
{
	if (s->fmt == UW_FMT_MBX)
		return mbx_reader_read(s->mbx, d, len, err);
	if (s->fmt == UW_FMT_MIX)
		return mix_reader_read(s->mix, d, len, err);
	return mmdf_reader_read(s->mmdf, d, len, err);
}

static void src_close(struct src *s)
{
	if (s->fmt == UW_FMT_MBX)
		mbx_reader_close(&s->mbx);
	else if (s->fmt == UW_FMT_MIX)
		mix_reader_close(&s->mix);
	else
		mmdf_reader_close(&s->mmdf);
}

/* One message's bytes as base64; the MMDF reader's sizes are checked
 * against what it served (its size is counted, not stored). */
static int dump_data(struct src *s, const struct uw_msg *m,
		     struct m2d_error *err)
{
	struct b64 b = { .n = 0 };
	unsigned long long got = 0;
	const unsigned char *d;
	size_t len;
	int rc;

	while ((rc = src_read(s, &d, &len, err)) > 0) {
		b64_add(&b, d, len);
		got += len;
	}
	b64_end(&b);
	printf("\"}");
	if (rc == 0 && s->fmt == UW_FMT_MMDF && got != m->size) {
		fprintf(stderr, "uw-dump: message %lu: size %llu, "
			"%llu bytes\n", m->seq, m->size, got);
		err->code = M2D_ERR_MALFORMED;
		snprintf(err->msg, sizeof(err->msg), "size mismatch");
		return -1;
	}
	return rc;
}

static int dump(const char *path, enum uw_format fmt)
{
	struct src s = { .fmt = fmt };
	struct m2d_error err;
	struct uw_msg m;
	int rc;

	if (src_open(&s, path, &err) < 0)
		return fail(path, &err, false);
	head(path, uw_format_name(fmt), src_folder(&s));
	while ((rc = src_next(&s, &m, &err)) > 0) {
		msg_head(&m, m.seq);
		rc = dump_data(&s, &m, &err);
		if (rc < 0)
			break;
	}
	src_close(&s);
	if (rc < 0)
		return fail(path, &err, true);
	printf("], \"log\": \"\"}\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct m2d_error err;
	enum uw_format fmt;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: uw-dump PATH\n");
		return 2;
	}
	if (uw_format_detect(AT_FDCWD, argv[1], NULL, &fmt, &err) < 0)
		return fail(argv[1], &err, false);
	/* "uw-dump PATH mmdf": read what is no mbx or mix as MMDF */
	if (argc == 3 && strcmp(argv[2], "mmdf") == 0 &&
	    fmt != UW_FMT_MBX && fmt != UW_FMT_MIX)
		fmt = UW_FMT_MMDF;
	if (fmt == UW_FMT_MBX || fmt == UW_FMT_MIX || fmt == UW_FMT_MMDF)
		return dump(argv[1], fmt);
	printf("{\"name\": ");
	json_str(argv[1]);
	printf(", \"opened\": 0, \"format\": \"%s\"}\n", uw_format_name(fmt));
	return 1;
}
