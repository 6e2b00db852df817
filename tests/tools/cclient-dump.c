/* SPDX-License-Identifier: MIT */
/* cclient-dump.c - mbox folders as UW-IMAP's own library (c-client,
 * imap-2007) reads them; built only when libc-client2007e-dev is installed
 * (Makefile), with tests/tools/cclient/cclient-view.c
 *
 *   cclient-dump MBOX [OUTDIR]
 *
 * Opens MBOX read-write with the unix (mbox) driver, as imapd would (give
 * it a copy: UW may rewrite the file when it closes it).  Prints one line
 * of JSON for the folder ({"uidvalidity", "nmsgs"}) then one per message
 * ({"seq", "uid", "flags": UW's letters R A F T D, "date": INTERNALDATE
 * as a UTC epoch, "keywords": [...], "size": RFC822.SIZE}); with OUTDIR
 * each message (header and text, as c-client serves it) goes to
 * OUTDIR/SEQ.  c-client's log lines go to standard error.
 *
 *   cclient-dump --batch DIR [SECONDS] <NAMES
 *
 * Many folders in one process (the differential test): DIR is the home,
 * each line of standard input the name of a folder in it (a copy: it may
 * be rewritten).  c-client loops forever or crashes on some folders (a
 * bare CR among X-Keywords, a NUL among X-IMAP's keywords): after SECONDS
 * of CPU time (default 10) on one folder, SIGVTALRM ends the process (c-client
 * uses alarm() itself, and a loaded machine must not look like a loop); the
 * caller goes on after the last folder printed.  One line of JSON per folder:
 *   {"name", "opened": 0|1, "driver", "rdonly", "uidvalidity", "uidnext",
 *    "log": what c-client logged, "msgs": [{"uid", "flags" (R A F T D,
 *    and N for \Recent), "date", "size", "keywords": [...], "kwindex":
 *    [each keyword's place among the folder's, 0..29],
 *    "data": base64 of the message as served}]}
 * Bytes >= 0x80 in strings are written as \u00XX (read them as Latin-1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cclient-view.h"

static void json_str(FILE *out, const char *s)
{
	const unsigned char *p;

	putc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			putc(*p, out);
	}
	putc('"', out);
}

static void base64(FILE *out, const unsigned char *d, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		putc(tab[d[i] >> 2], out);
		putc(tab[((d[i] & 3) << 4) | (d[i + 1] >> 4)], out);
		putc(tab[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)], out);
		putc(tab[d[i + 2] & 63], out);
	}
	if (len - i == 1) {
		putc(tab[d[i] >> 2], out);
		putc(tab[(d[i] & 3) << 4], out);
		fputs("==", out);
	} else if (len - i == 2) {
		putc(tab[d[i] >> 2], out);
		putc(tab[((d[i] & 3) << 4) | (d[i + 1] >> 4)], out);
		putc(tab[(d[i + 1] & 15) << 2], out);
		putc('=', out);
	}
}

static void flags_str(unsigned int fl, int recent, char *buf)
{
	char *p = buf;

	if (fl & CCV_SEEN)
		*p++ = 'R';
	if (fl & CCV_ANSWERED)
		*p++ = 'A';
	if (fl & CCV_FLAGGED)
		*p++ = 'F';
	if (fl & CCV_DRAFT)
		*p++ = 'T';
	if (fl & CCV_DELETED)
		*p++ = 'D';
	if (recent && (fl & CCV_RECENT))
		*p++ = 'N';
	*p = '\0';
}

static void keywords(FILE *out, char **kw)
{
	int first = 1;

	putc('[', out);
	for (; kw != NULL && *kw != NULL; kw++) {
		if (!first)
			fputs(", ", out);
		json_str(out, *kw);
		first = 0;
	}
	putc(']', out);
}

/* SIGVTALRM (which ends the process) after SECS of CPU time; 0: never */
static void cpu_limit(unsigned int secs)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = secs;
	setitimer(ITIMER_VIRTUAL, &it, NULL);
}

static int batch(unsigned int secs)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct ccv_folder f;
		unsigned long i;
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		if (n == 0)
			continue;
		cpu_limit(secs);
		if (ccv_read(line, &f) < 0) {
			fprintf(stderr, "cclient-dump: out of memory\n");
			return 1;
		}
		fputs("{\"name\": ", stdout);
		json_str(stdout, line);
		printf(", \"opened\": %d, \"driver\": ", f.opened);
		json_str(stdout, f.driver);
		printf(", \"rdonly\": %d, \"uidvalidity\": %lu, \"uidnext\": %lu"
		       ", \"log\": ", f.rdonly, f.uidvalidity, f.uidnext);
		json_str(stdout, f.log);
		fputs(", \"msgs\": [", stdout);
		for (i = 0; i < f.nmsgs; i++) {
			struct ccv_msg *m = &f.msgs[i];
			char fl[8];

			flags_str(m->flags, 1, fl);
			printf("%s{\"uid\": %lu, \"flags\": \"%s\", \"date\": %lld"
			       ", \"size\": %lu, \"keywords\": ", i ? ", " : "",
			       m->uid, fl, m->date, m->size);
			keywords(stdout, m->keywords);
			fputs(", \"kwindex\": [", stdout);
			for (size_t k = 0; m->keywords != NULL &&
			     m->keywords[k] != NULL; k++)
				printf("%s%d", k ? ", " : "", m->kw_index[k]);
			fputs("], \"data\": \"", stdout);
			base64(stdout, m->data, m->len);
			fputs("\"}", stdout);
		}
		fputs("]}\n", stdout);
		fflush(stdout);
		ccv_free(&f);
		cpu_limit(0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ccv_folder f;
	char *name, *slash;
	unsigned long i;

	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--batch") == 0) {
		ccv_init(argv[2], NULL);
		return batch(argc == 4 ? (unsigned int)atoi(argv[3]) : 10);
	}
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: cclient-dump MBOX [OUTDIR]\n"
			"       cclient-dump --batch DIR [SECONDS] <NAMES\n");
		return 2;
	}
	/* the mbox's directory becomes the "home", as imapd's login would
	 * set it up, and the name is relative to it */
	slash = strrchr(argv[1], '/');
	if (slash != NULL) {
		*slash = '\0';
		ccv_init(argv[1][0] != '\0' ? argv[1] : "/", stderr);
		name = slash + 1;
	} else {
		ccv_init(".", stderr);
		name = argv[1];
	}
	if (ccv_read(name, &f) < 0 || !f.opened) {
		fprintf(stderr, "mail_open(%s) failed\n", name);
		return 1;
	}
	printf("{\"uidvalidity\": %lu, \"rdonly\": %d, \"nmsgs\": %lu}\n",
	       f.uidvalidity, f.rdonly, f.nmsgs);
	for (i = 0; i < f.nmsgs; i++) {
		struct ccv_msg *m = &f.msgs[i];
		char fl[8];

		flags_str(m->flags, 0, fl);
		printf("{\"seq\": %lu, \"uid\": %lu, \"flags\": \"%s\", "
		       "\"date\": %lld, \"size\": %lu, \"keywords\": ",
		       i + 1, m->uid, fl, m->date, m->size);
		keywords(stdout, m->keywords);
		printf("}\n");
		if (argc == 3) {
			char path[4096];
			FILE *out;

			snprintf(path, sizeof(path), "%s/%lu", argv[2], i + 1);
			out = fopen(path, "wb");
			if (out == NULL ||
			    fwrite(m->data, 1, m->len, out) != m->len) {
				perror(path);
				return 1;
			}
			fclose(out);
		}
	}
	ccv_free(&f);
	return 0;
}
