/* SPDX-License-Identifier: MIT */
/* cclient-make.c - UW's own folders, made by UW's own library (c-client,
 * imap-2007): the oracle of the mbx, mix and MMDF readers (what UW
 * itself reads is what they must read).
 * Built only when libc-client2007e-dev is installed (Makefile), with
 * tests/tools/cclient/cclient-view.c (c-client's callbacks, ccv_read).
 *
 *   cclient-make HOME <SCRIPT
 *
 * HOME is c-client's home: every name is relative to it (Debian's
 * c-client has restrictBox).  Each line of SCRIPT is a command, its
 * fields separated by TABs:
 *   create  NAME             mail_create (NAME "#driver.mbx/box",
 *                            "#driver.mix/box", "#driver.mmdf/box")
 *   append  NAME FLAGS DATE FILE
 *                            mail_append_full of FILE's bytes (LF lines
 *                            are sent as CRLF) with FLAGS ("(\Seen kw)",
 *                            "" for none) and DATE ("" for now)
 *   set     NAME SEQ FLAGS   mail_setflag_full (SEQ "1:3,5")
 *   clear   NAME SEQ FLAGS   mail_clearflag_full
 *   expunge NAME SEQ         \Deleted on SEQ, then mail_expunge
 *   held-expunge NAME SEQ    the same while a read-only stream holds the
 *                            folder open (mbx: only the expunged bit is
 *                            set in place, the bytes stay)
 *   touch   NAME             open and close read-write (UW assigns UIDs,
 *                            clears \Recent)
 *   dump    NAME             one line of JSON, as cclient-dump --batch
 *                            (this opens read-write: dump a copy)
 * Prints "ok CMD" or "error CMD: what c-client logged" per command;
 * exits 1 after the first error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c-client.h"
#include "cclient-view.h"

static int fail(const char *cmd, const char *what)
{
	printf("error %s: %s\n", cmd, what);
	return 1;
}

static char *slurp_crlf(const char *path, unsigned long *len)
{
	FILE *f = fopen(path, "rb");
	size_t size = 4096, n = 0;
	char *buf = malloc(size);
	int c, prev = 0;

	if (f == NULL || buf == NULL)
		return NULL;
	while ((c = getc(f)) != EOF) {
		if (n + 3 > size && (buf = realloc(buf, size *= 2)) == NULL)
			return NULL;
		if (c == '\n' && prev != '\r')
			buf[n++] = '\r';
		buf[n++] = (char)c;
		prev = c;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

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

static void b64(const unsigned char *d, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3)
		printf("%c%c%c%c", tab[d[i] >> 2],
		       tab[((d[i] & 3) << 4) | (d[i + 1] >> 4)],
		       tab[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)],
		       tab[d[i + 2] & 63]);
	if (len - i == 1)
		printf("%c%c==", tab[d[i] >> 2], tab[(d[i] & 3) << 4]);
	else if (len - i == 2)
		printf("%c%c%c=", tab[d[i] >> 2],
		       tab[((d[i] & 3) << 4) | (d[i + 1] >> 4)],
		       tab[(d[i + 1] & 15) << 2]);
}

static void dump(const char *name)
{
	struct ccv_folder f;
	unsigned long i;

	if (ccv_read(name, &f) < 0) {
		printf("{\"name\": \"oom\"}\n");
		return;
	}
	printf("{\"name\": ");
	json_str(name);
	printf(", \"opened\": %d, \"driver\": ", f.opened);
	json_str(f.driver);
	printf(", \"uidvalidity\": %lu, \"uidnext\": %lu, \"log\": ",
	       f.uidvalidity, f.uidnext);
	json_str(f.log);
	printf(", \"msgs\": [");
	for (i = 0; i < f.nmsgs; i++) {
		struct ccv_msg *m = &f.msgs[i];
		char **k;

		printf("%s{\"uid\": %lu, \"flags\": \"%s%s%s%s%s%s\", "
		       "\"date\": %lld, \"size\": %lu, \"keywords\": [",
		       i ? ", " : "", m->uid,
		       m->flags & CCV_SEEN ? "R" : "",
		       m->flags & CCV_ANSWERED ? "A" : "",
		       m->flags & CCV_FLAGGED ? "F" : "",
		       m->flags & CCV_DRAFT ? "T" : "",
		       m->flags & CCV_DELETED ? "D" : "",
		       m->flags & CCV_RECENT ? "N" : "", m->date, m->size);
		for (k = m->keywords; k != NULL && *k != NULL; k++) {
			if (k != m->keywords)
				printf(", ");
			json_str(*k);
		}
		printf("], \"data\": \"");
		b64(m->data, m->len);
		printf("\"}");
	}
	printf("]}\n");
	ccv_free(&f);
}

static int command(char **fld, int n)
{
	const char *cmd = fld[0];
	MAILSTREAM *s, *hold = NIL;

	if (strcmp(cmd, "create") == 0 && n == 2)
		return mail_create(NIL, fld[1]) ? 0 : fail(cmd, fld[1]);
	if (strcmp(cmd, "dump") == 0 && n == 2) {
		dump(fld[1]);
		return 0;
	}
	if (strcmp(cmd, "append") == 0 && n == 5) {
		unsigned long len;
		char *text = slurp_crlf(fld[4], &len);
		STRING st;
		long ok;

		if (text == NULL)
			return fail(cmd, fld[4]);
		INIT(&st, mail_string, text, len);
		ok = mail_append_full(NIL, fld[1], fld[2][0] ? fld[2] : NIL,
				      fld[3][0] ? fld[3] : NIL, &st);
		free(text);
		return ok ? 0 : fail(cmd, fld[1]);
	}
	if (strcmp(cmd, "held-expunge") == 0 && n == 3) {
		hold = mail_open(NIL, fld[1], OP_READONLY);
		if (hold == NIL)
			return fail(cmd, fld[1]);
	}
	s = mail_open(NIL, fld[1], NIL);
	if (s == NIL || s->rdonly)
		return fail(cmd, fld[1]);
	if (strcmp(cmd, "set") == 0 && n == 4)
		mail_setflag_full(s, fld[2], fld[3], NIL);
	else if (strcmp(cmd, "clear") == 0 && n == 4)
		mail_clearflag_full(s, fld[2], fld[3], NIL);
	else if ((strcmp(cmd, "expunge") == 0 ||
		  strcmp(cmd, "held-expunge") == 0) && n == 3) {
		mail_setflag_full(s, fld[2], "\\Deleted", NIL);
		mail_expunge(s);
	} else if (strcmp(cmd, "touch") != 0 || n != 2) {
		mail_close(s);
		return fail(cmd, "bad command");
	}
	mail_close(s);
	if (hold != NIL)
		mail_close(hold);
	return 0;
}

int main(int argc, char **argv)
{
	char line[8192];

	if (argc != 2) {
		fprintf(stderr, "usage: cclient-make HOME <SCRIPT\n");
		return 2;
	}
	ccv_init(argv[1], stderr);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *fld[8], *p = line;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		while (n < 8 && p != NULL) {
			fld[n++] = p;
			p = strchr(p, '\t');
			if (p != NULL)
				*p++ = '\0';
		}
		if (command(fld, n) != 0)
			return 1;
		if (strcmp(fld[0], "dump") != 0)
			printf("ok %s\n", fld[0]);
		fflush(stdout);
	}
	return 0;
}
