/* SPDX-License-Identifier: MIT */
/* cclient-view.c - a folder as c-client shows it (see cclient-view.h);
 * compiled with -w against /usr/include/c-client, linked with -lc-client */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "c-client.h"
#include "cclient-view.h"

static FILE *ccv_log_file;
static struct ccv_folder *ccv_cur;

static void ccv_log(const char *what, const char *str)
{
	if (ccv_log_file != NULL)
		fprintf(ccv_log_file, "c-client %s: %s\n", what, str);
	if (ccv_cur != NULL) {
		size_t n = strlen(ccv_cur->log);

		snprintf(ccv_cur->log + n, sizeof(ccv_cur->log) - n, "%s%s: %s",
			 n > 0 ? "; " : "", what, str);
	}
}

void ccv_init(const char *home, void *log_file)
{
	struct passwd *pw = getpwuid(geteuid());

	ccv_log_file = log_file;
#include "linkage.c"
	env_init(pw != NULL ? pw->pw_name : "root", (char *)home);
}

void ccv_free(struct ccv_folder *f)
{
	unsigned long i;

	for (i = 0; f->msgs != NULL && i < f->nmsgs; i++) {
		char **k;

		for (k = f->msgs[i].keywords; k != NULL && *k != NULL; k++)
			free(*k);
		free(f->msgs[i].keywords);
		free(f->msgs[i].kw_index);
		free(f->msgs[i].data);
	}
	free(f->msgs);
	memset(f, 0, sizeof(*f));
}

int ccv_read(const char *name, struct ccv_folder *f)
{
	MAILSTREAM *stream;
	unsigned long i;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	ccv_cur = f;
	stream = mail_open(NIL, (char *)name, NIL);
	if (stream == NIL) {
		ccv_cur = NULL;
		return 0;
	}
	f->opened = 1;
	snprintf(f->driver, sizeof(f->driver), "%s",
		 stream->dtb != NIL ? stream->dtb->name : "?");
	f->rdonly = stream->rdonly ? 1 : 0;
	f->uidvalidity = stream->uid_validity;
	f->uidnext = stream->uid_last + 1;
	f->nmsgs = stream->nmsgs;
	f->msgs = calloc(stream->nmsgs + 1, sizeof(*f->msgs));
	if (f->msgs == NULL) {
		rc = -1;
		f->nmsgs = 0;
		goto out;
	}
	if (stream->nmsgs > 0)
		mail_fetch_fast(stream, "1:*", NIL);
	for (i = 1; i <= stream->nmsgs; i++) {
		MESSAGECACHE *elt = mail_elt(stream, i);
		struct ccv_msg *m = &f->msgs[i - 1];
		unsigned long uf = elt->user_flags, len = 0, nk = 0;
		char *text;

		/* the whole message as clients got it (RFC822, BODY[]) */
		text = mail_fetch_message(stream, i, &len, FT_PEEK);
		m->uid = mail_uid(stream, i);
		m->flags = (elt->seen ? CCV_SEEN : 0) |
			(elt->answered ? CCV_ANSWERED : 0) |
			(elt->flagged ? CCV_FLAGGED : 0) |
			(elt->draft ? CCV_DRAFT : 0) |
			(elt->deleted ? CCV_DELETED : 0) |
			(elt->recent ? CCV_RECENT : 0);
		m->date = (long long)mail_longdate(elt);
		m->size = elt->rfc822_size;
		m->keywords = calloc(NUSERFLAGS + 1, sizeof(char *));
		m->kw_index = calloc(NUSERFLAGS + 1, sizeof(int));
		m->data = malloc(len + 1);
		if (m->keywords == NULL || m->kw_index == NULL ||
		    m->data == NULL) {
			rc = -1;
			goto out;
		}
		if (text != NIL)
			memcpy(m->data, text, len);
		m->len = text != NIL ? len : 0;
		while (uf) {
			long k = find_rightmost_bit(&uf);

			if (stream->user_flags[k] != NIL &&
			    (m->keywords[nk] = strdup(stream->user_flags[k])) !=
			    NULL)
				m->kw_index[nk++] = (int)k;
		}
	}
out:
	mail_close(stream);
	ccv_cur = NULL;
	return rc;
}

/* c-client calls these back */
void mm_searched(MAILSTREAM *s, unsigned long n) { }
void mm_exists(MAILSTREAM *s, unsigned long n) { }
void mm_expunged(MAILSTREAM *s, unsigned long n) { }
void mm_flags(MAILSTREAM *s, unsigned long n) { }
void mm_notify(MAILSTREAM *s, char *str, long e) { ccv_log("notify", str); }
void mm_list(MAILSTREAM *s, int d, char *m, long a) { }
void mm_lsub(MAILSTREAM *s, int d, char *m, long a) { }
void mm_status(MAILSTREAM *s, char *m, MAILSTATUS *st) { }
void mm_log(char *str, long e)
{
	ccv_log(e == WARN ? "warning" : e == ERROR ? "error" : "log", str);
}
void mm_dlog(char *str) { ccv_log("debug", str); }
void mm_login(NETMBX *mb, char *u, char *p, long t) { u[0] = p[0] = '\0'; }
void mm_critical(MAILSTREAM *s) { }
void mm_nocritical(MAILSTREAM *s) { }
long mm_diskerror(MAILSTREAM *s, long e, long serious) { return T; }
void mm_fatal(char *str)
{
	ccv_log("fatal", str);
	fprintf(stderr, "c-client fatal: %s\n", str);
}
