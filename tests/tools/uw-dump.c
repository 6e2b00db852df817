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

static int dump_mbx(const char *path)
{
	struct mbx_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	const unsigned char *d;
	size_t len;
	int rc;

	if (mbx_reader_open(AT_FDCWD, path, NULL, &r, &err) < 0)
		return fail(path, &err, false);
	head(path, "mbx", mbx_reader_folder(r));
	while ((rc = mbx_reader_next(r, &m, &err)) > 0) {
		struct b64 b = { .n = 0 };

		msg_head(&m, m.seq);
		while ((rc = mbx_reader_read(r, &d, &len, &err)) > 0)
			b64_add(&b, d, len);
		b64_end(&b);
		printf("\"}");
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		mbx_reader_close(&r);
		return fail(path, &err, true);
	}
	printf("], \"log\": \"\"}\n");
	mbx_reader_close(&r);
	return 0;
}

static int dump_mix(const char *path)
{
	struct mix_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	const unsigned char *d;
	size_t len;
	int rc;

	if (mix_reader_open(AT_FDCWD, path, NULL, &r, &err) < 0)
		return fail(path, &err, false);
	head(path, "mix", mix_reader_folder(r));
	while ((rc = mix_reader_next(r, &m, &err)) > 0) {
		struct b64 b = { .n = 0 };

		msg_head(&m, m.seq);
		while ((rc = mix_reader_read(r, &d, &len, &err)) > 0)
			b64_add(&b, d, len);
		b64_end(&b);
		printf("\"}");
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		mix_reader_close(&r);
		return fail(path, &err, true);
	}
	printf("], \"log\": \"\"}\n");
	mix_reader_close(&r);
	return 0;
}

static int dump_mmdf(const char *path)
{
	struct mmdf_reader *r;
	struct m2d_error err;
	struct uw_msg m;
	const unsigned char *d;
	size_t len;
	int rc;

	if (mmdf_reader_open(AT_FDCWD, path, NULL, &r, &err) < 0)
		return fail(path, &err, false);
	head(path, "mmdf", mmdf_reader_folder(r));
	while ((rc = mmdf_reader_next(r, &m, &err)) > 0) {
		struct b64 b = { .n = 0 };
		unsigned long long got = 0;

		msg_head(&m, m.seq);
		while ((rc = mmdf_reader_read(r, &d, &len, &err)) > 0) {
			b64_add(&b, d, len);
			got += len;
		}
		b64_end(&b);
		printf("\"}");
		if (rc < 0)
			break;
		if (got != m.size) {
			fprintf(stderr, "uw-dump: message %lu: size %llu, "
				"%llu bytes\n", m.seq, m.size, got);
			rc = -1;
			err.code = M2D_ERR_MALFORMED;
			snprintf(err.msg, sizeof(err.msg), "size mismatch");
			break;
		}
	}
	if (rc < 0) {
		mmdf_reader_close(&r);
		return fail(path, &err, true);
	}
	printf("], \"log\": \"\"}\n");
	mmdf_reader_close(&r);
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
	if (fmt == UW_FMT_MBX)
		return dump_mbx(argv[1]);
	if (fmt == UW_FMT_MIX)
		return dump_mix(argv[1]);
	if (fmt == UW_FMT_MMDF || (argc == 3 && strcmp(argv[2], "mmdf") == 0))
		return dump_mmdf(argv[1]);
	printf("{\"name\": ");
	json_str(argv[1]);
	printf(", \"opened\": 0, \"format\": \"%s\"}\n", uw_format_name(fmt));
	return 1;
}
