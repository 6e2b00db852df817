/* cclient-dump.c - an mbox as UW-IMAP's own library (c-client, imap-2007)
 * reads it; built only when libc-client2007e-dev is installed (Makefile)
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "c-client.h"

int main(int argc, char **argv)
{
	MAILSTREAM *stream;
	char *name;
	unsigned long i;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: cclient-dump MBOX [OUTDIR]\n");
		return 2;
	}
#include "linkage.c"
	/* Debian builds c-client with restrictBox (no name may begin with
	 * '/' or contain ".."): the mbox's directory becomes the "home", as
	 * imapd's login would set it up, and the name is relative to it */
	{
		struct passwd *pw = getpwuid(geteuid());
		char *slash = strrchr(argv[1], '/');

		if (slash != NULL) {
			*slash = '\0';
			env_init(pw != NULL ? pw->pw_name : "root",
				 argv[1][0] != '\0' ? argv[1] : "/");
			name = slash + 1;
		} else {
			name = argv[1];
		}
	}
	stream = mail_open(NIL, name, NIL);
	if (stream == NIL) {
		fprintf(stderr, "mail_open(%s) failed\n", name);
		return 1;
	}
	printf("{\"uidvalidity\": %lu, \"rdonly\": %d, \"nmsgs\": %lu}\n", stream->uid_validity, (int)stream->rdonly,
	       stream->nmsgs);
	if (stream->nmsgs > 0)
		mail_fetch_fast(stream, "1:*", NIL);
	for (i = 1; i <= stream->nmsgs; i++) {
		MESSAGECACHE *elt = mail_elt(stream, i);
		unsigned long uf = elt->user_flags, len = 0;
		char *text;
		int first = 1;

		/* the whole message as clients got it */
		text = mail_fetch_message(stream, i, &len, FT_PEEK);
		printf("{\"seq\": %lu, \"uid\": %lu, \"flags\": \"%s%s%s%s%s\", "
		       "\"date\": %lu, \"size\": %lu, \"keywords\": [",
		       i, mail_uid(stream, i), elt->seen ? "R" : "",
		       elt->answered ? "A" : "", elt->flagged ? "F" : "",
		       elt->draft ? "T" : "", elt->deleted ? "D" : "",
		       (unsigned long)mail_longdate(elt), elt->rfc822_size);
		while (uf) {
			long k = find_rightmost_bit(&uf);

			printf("%s\"%s\"", first ? "" : ", ",
			       stream->user_flags[k]);
			first = 0;
		}
		printf("]}\n");
		if (argc == 3 && text != NIL) {
			char path[4096];
			FILE *out;

			snprintf(path, sizeof(path), "%s/%lu", argv[2], i);
			out = fopen(path, "wb");
			if (out == NULL || fwrite(text, 1, len, out) != len) {
				perror(path);
				return 1;
			}
			fclose(out);
		}
	}
	mail_close(stream);
	return 0;
}

/* c-client calls these back */
void mm_searched(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_exists(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_expunged(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_flags(MAILSTREAM *s, unsigned long n) { (void)s; (void)n; }
void mm_notify(MAILSTREAM *s, char *str, long e)
{
	(void)s;
	(void)e;
	fprintf(stderr, "c-client: %s\n", str);
}
void mm_list(MAILSTREAM *s, int d, char *m, long a)
{
	(void)s; (void)d; (void)m; (void)a;
}
void mm_lsub(MAILSTREAM *s, int d, char *m, long a)
{
	(void)s; (void)d; (void)m; (void)a;
}
void mm_status(MAILSTREAM *s, char *m, MAILSTATUS *st)
{
	(void)s; (void)m; (void)st;
}
void mm_log(char *str, long e)
{
	fprintf(stderr, "c-client %s: %s\n", e == WARN ? "warning" :
		e == ERROR ? "error" : "log", str);
}
void mm_dlog(char *str) { fprintf(stderr, "c-client debug: %s\n", str); }
void mm_login(NETMBX *mb, char *u, char *p, long t)
{
	(void)mb; (void)t;
	u[0] = p[0] = '\0';
}
void mm_critical(MAILSTREAM *s) { (void)s; }
void mm_nocritical(MAILSTREAM *s) { (void)s; }
long mm_diskerror(MAILSTREAM *s, long e, long serious)
{
	(void)s; (void)e; (void)serious;
	return T;
}
void mm_fatal(char *str) { fprintf(stderr, "c-client fatal: %s\n", str); }
