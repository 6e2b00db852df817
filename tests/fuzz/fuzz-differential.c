/* SPDX-License-Identifier: MIT */
/*
 * fuzz-differential.c - the input is a whole mbox, read by UW's own
 * library (c-client, libc-client2007e) and by us; any difference fails
 * (the same comparison as tests/integration/test-differential.py)
 *
 * c-client's side (tests/tools/cclient/cclient-view.c) runs in a child
 * process on its own copy of the file (c-client opens files by name and
 * may rewrite them; it may also loop forever or call fatal() on some
 * inputs: those are the accepted difference "cclient-fails" and are
 * skipped).  Our side: convert_folder() into a scratch maildir, read back
 * as Dovecot serves it: each file's bytes with LF -> CRLF, RFC822.SIZE
 * from W=, flags from the name (new/ = \Recent), keywords through
 * dovecot-keywords, UIDs, UIDVALIDITY and UIDNEXT through dovecot-uidlist,
 * INTERNALDATE = the mtime.
 *
 * Differences accepted by name, as in mbox2dovecot(1), FIDELITY:
 *   zone-less-date  cannot happen here: TZ=UTC, where c-client's offset of
 *                   the moment and ours of the date are both 0
 *   other-format    c-client opened it with a driver other than unix
 *                   (phile, mmdf, ...) and convert refused it
 *   cclient-fails   c-client's child looped (1 s of CPU) or died
 *   recent-with-flags  \Recent with flags or keywords: in cur/, not new/
 *   cclient-garbage c-client serves a space and NULs for a last message
 *                   whose header runs to the end of the file
 *   cclient-size    c-client's RFC822.SIZE is not its bytes' length
 *   uid-reset       both made up a UIDVALIDITY: ours 1..n
 *   keywords-over-26, keyword-not-atom  c-client's keyword missing here
 * A fresh UIDVALIDITY (UW's data missing or reset) is made up on both
 * sides during the run: c-client's clock, our source's mtime.
 *
 * Built only when /usr/include/c-client/c-client.h exists (Makefile).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "fuzz-common.h"
#include "cclient-view.h"
#include "convert.h"

/* c-client is not ours: its leaks stay in the child, which never returns */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

#define MAX_MSGS 4096
#define MAX_KW 64

struct view_msg {
	unsigned long uid;
	unsigned int flags;		/* enum ccv_flag */
	long long date;
	unsigned long size;
	char *kw[MAX_KW + 1];		/* sorted */
	size_t nkw;
	unsigned char *data;
	size_t len;
};

struct view {
	int cclient;			/* keywords carry their index before */
	int mailbox;			/* 1 a mailbox, 0 refused */
	char driver[32];
	unsigned long uidvalidity, uidnext, n;
	int nkeywords;			/* ours: lines of dovecot-keywords */
	struct view_msg *msgs;
	char note[512];
};

static char dir[300], cc_path[400], src_path[400], md_path[400];
static int inited;

static void view_free(struct view *v)
{
	for (unsigned long i = 0; i < v->n; i++) {
		for (size_t k = 0; k < v->msgs[i].nkw; k++)
			free(v->msgs[i].kw[k] - (v->cclient ? 1 : 0));
		free(v->msgs[i].data);
	}
	free(v->msgs);
	memset(v, 0, sizeof(*v));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- c-client, in a child; the view comes back through a pipe ---- */

static void put(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			_exit(3);
		}
		c += n;
		len -= (size_t)n;
	}
}

static void put_ul(int fd, unsigned long long v)
{
	put(fd, &v, sizeof(v));
}

static void child_died(int sig)
{
	_exit(128 + sig);
}

static void cclient_child(int fd)
{
	static const int fatal[] = { SIGVTALRM, SIGABRT, SIGSEGV, SIGBUS,
				     SIGFPE, SIGILL };
	struct ccv_folder f;
	struct itimerval it;
	struct sigaction sa;

	/* not libFuzzer's handlers: a c-client that dies or loops is the
	 * accepted cclient-fails, not a crash of ours */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_died;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = 1;		/* c-client loops on some inputs */
	setitimer(ITIMER_VIRTUAL, &it, NULL);
	if (ccv_read("cc", &f) < 0)
		_exit(4);
	put_ul(fd, (unsigned long long)f.opened);
	put(fd, f.driver, sizeof(f.driver));
	put_ul(fd, f.uidvalidity);
	put_ul(fd, f.uidnext);
	put_ul(fd, f.nmsgs);
	for (unsigned long i = 0; i < f.nmsgs; i++) {
		struct ccv_msg *m = &f.msgs[i];
		size_t nk = 0;

		while (m->keywords != NULL && m->keywords[nk] != NULL)
			nk++;
		put_ul(fd, m->uid);
		put_ul(fd, m->flags);
		put_ul(fd, (unsigned long long)m->date);
		put_ul(fd, m->size);
		put_ul(fd, nk);
		for (size_t k = 0; k < nk; k++) {
			put_ul(fd, (unsigned long long)m->kw_index[k]);
			put_ul(fd, strlen(m->keywords[k]));
			put(fd, m->keywords[k], strlen(m->keywords[k]));
		}
		put_ul(fd, m->len);
		put(fd, m->data, m->len);
	}
	_exit(0);
}

/* libFuzzer's SIGALRM (its -timeout watch, every few seconds, without
 * SA_RESTART) may interrupt a read or the wait: go on, it is no end */
static int get(FILE *in, void *p, size_t len)
{
	char *c = p;

	while (len > 0) {
		size_t n = fread(c, 1, len, in);

		c += n;
		len -= n;
		if (len > 0) {
			if (!ferror(in) || errno != EINTR)
				return -1;
			clearerr(in);
		}
	}
	return 0;
}

static int get_ul(FILE *in, unsigned long long *v)
{
	return get(in, v, sizeof(*v));
}

/* 0 with V, or -1 when c-client failed (looped or died): skipped */
static int cclient_view(struct view *v)
{
	int pfd[2], status;
	unsigned long long x;
	pid_t pid;
	FILE *in;
	int rc = -1;
	pid_t rc2;

	memset(v, 0, sizeof(*v));
	v->cclient = 1;
	FUZZ_CHECK(pipe(pfd) == 0);
	fflush(NULL);
	pid = fork();
	FUZZ_CHECK(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		cclient_child(pfd[1]);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	FUZZ_CHECK(in != NULL);
	if (get_ul(in, &x) < 0)
		goto out;
	v->mailbox = (int)x;
	if (get(in, v->driver, sizeof(v->driver)) < 0)
		goto out;
	v->driver[sizeof(v->driver) - 1] = '\0';
	if (v->mailbox && strcmp(v->driver, "unix") != 0 &&
	    strcmp(v->driver, "dummy") != 0)
		v->mailbox = 0;
	if (get_ul(in, &x) < 0)
		goto out;
	v->uidvalidity = x;
	if (get_ul(in, &x) < 0)
		goto out;
	v->uidnext = x;
	if (get_ul(in, &x) < 0 || x > MAX_MSGS)
		goto out;
	v->msgs = calloc(x + 1, sizeof(*v->msgs));
	FUZZ_CHECK(v->msgs != NULL);
	for (unsigned long long i = 0, n = x; i < n; i++) {
		struct view_msg *m = &v->msgs[i];
		unsigned long long nk, len;

		v->n = i + 1;
		if (get_ul(in, &x) < 0)
			goto out;
		m->uid = x;
		if (get_ul(in, &x) < 0)
			goto out;
		m->flags = (unsigned int)x;
		if (get_ul(in, &x) < 0)
			goto out;
		m->date = (long long)x;
		if (get_ul(in, &x) < 0)
			goto out;
		m->size = x;
		if (get_ul(in, &nk) < 0 || nk > MAX_KW)
			goto out;
		for (unsigned long long k = 0; k < nk; k++) {
			unsigned long long idx;

			if (get_ul(in, &idx) < 0 || get_ul(in, &len) < 0 ||
			    len > 1024)
				goto out;
			/* its place among the folder's keywords in the
			 * first byte, for keywords-over-26 */
			m->kw[k] = calloc(len + 2, 1);
			FUZZ_CHECK(m->kw[k] != NULL);
			m->kw[k][0] = (char)(idx + 1);
			m->kw[k]++;
			m->nkw = k + 1;
			if (get(in, m->kw[k], len) < 0)
				goto out;
		}
		qsort(m->kw, m->nkw, sizeof(char *), cmp_str);
		if (get_ul(in, &len) < 0 || len > (1u << 26))
			goto out;
		m->data = malloc(len + 1);
		FUZZ_CHECK(m->data != NULL);
		m->len = len;
		if (get(in, m->data, len) < 0)
			goto out;
	}
	rc = 0;
out:
	fclose(in);
	while ((rc2 = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	FUZZ_CHECK(rc2 == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = -1;		/* cclient-fails */
	if (rc < 0)
		view_free(v);
	return rc;
}

/* ---- ours: convert, then the maildir as Dovecot serves it ---- */

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, size = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > size) {
			size = (len + 4096 + 1) * 2;
			buf = realloc(buf, size);
			FUZZ_CHECK(buf != NULL);
		}
		size_t n = fread(buf + len, 1, 4096, f);

		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	*len_r = len;
	return buf;
}

/* the file BASE (name up to ':') in cur/ or new/: its full name */
static int find_file(const char *base, char *name, size_t size, int *recent_r)
{
	static const char *subs[] = { "cur", "new" };
	size_t blen = strlen(base);

	for (int s = 0; s < 2; s++) {
		char d[512];
		DIR *dp;
		struct dirent *de;

		snprintf(d, sizeof(d), "%s/%s", md_path, subs[s]);
		dp = opendir(d);
		if (dp == NULL)
			continue;
		while ((de = readdir(dp)) != NULL) {
			if (strncmp(de->d_name, base, blen) == 0 &&
			    (de->d_name[blen] == '\0' || de->d_name[blen] == ':')) {
				snprintf(name, size, "%s/%s", d, de->d_name);
				*recent_r = s == 1;
				closedir(dp);
				return 0;
			}
		}
		closedir(dp);
	}
	return -1;
}

static void our_view(struct view *v)
{
	struct convert_settings set;
	struct convert_stats st;
	struct m2d_error err;
	char path[512], *uidlist, *kwfile, *line, *save = NULL;
	char *kwname[26] = { 0 };
	size_t len;

	memset(v, 0, sizeof(*v));
	memset(&set, 0, sizeof(set));
	set.uid = set.gid = -1;
	rm_tree(md_path);
	if (convert_folder(src_path, md_path, &set, &st, &err) < 0) {
		snprintf(v->note, sizeof(v->note), "convert: %s", err.msg);
		v->mailbox = 0;
		return;
	}
	v->mailbox = 1;
	snprintf(path, sizeof(path), "%s/dovecot-keywords", md_path);
	kwfile = slurp(path, &len);
	for (line = kwfile != NULL ? strtok_r(kwfile, "\n", &save) : NULL;
	     line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		int idx = atoi(line);

		if (sp != NULL && idx >= 0 && idx < 26) {
			kwname[idx] = sp + 1;
			v->nkeywords++;
		}
	}
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", md_path);
	uidlist = slurp(path, &len);
	FUZZ_CHECK(uidlist != NULL);
	FUZZ_CHECK(sscanf(uidlist, "3 V%lu N%lu", &v->uidvalidity,
			  &v->uidnext) == 2);
	v->msgs = calloc(MAX_MSGS + 1, sizeof(*v->msgs));
	FUZZ_CHECK(v->msgs != NULL);
	save = NULL;
	line = strtok_r(uidlist, "\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		struct view_msg *m = &v->msgs[v->n];
		char *colon = strchr(line, ':'), name[600], *info, *w;
		struct stat sb;
		unsigned char *raw;
		size_t rawlen, o = 0;
		int recent;

		FUZZ_CHECK(colon != NULL && v->n < MAX_MSGS);
		m->uid = strtoul(line, NULL, 10);
		FUZZ_CHECK(find_file(colon + 1, name, sizeof(name), &recent) == 0);
		raw = (unsigned char *)slurp(name, &rawlen);
		FUZZ_CHECK(raw != NULL && stat(name, &sb) == 0);
		m->date = (long long)sb.st_mtime;
		/* LF -> CRLF, as Dovecot serves it */
		m->data = malloc(rawlen * 2 + 1);
		FUZZ_CHECK(m->data != NULL);
		for (size_t i = 0; i < rawlen; i++) {
			if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
				m->data[o++] = '\r';
			m->data[o++] = raw[i];
		}
		m->len = o;
		free(raw);
		w = strstr(strrchr(name, '/'), ",W=");
		m->size = w != NULL ? strtoul(w + 3, NULL, 10) : o;
		m->flags = recent ? CCV_RECENT : 0;
		info = strstr(strrchr(name, '/'), ":2,");
		for (info = info != NULL ? info + 3 : ""; *info != '\0'; info++) {
			switch (*info) {
			case 'S': m->flags |= CCV_SEEN; break;
			case 'R': m->flags |= CCV_ANSWERED; break;
			case 'F': m->flags |= CCV_FLAGGED; break;
			case 'D': m->flags |= CCV_DRAFT; break;
			case 'T': m->flags |= CCV_DELETED; break;
			default:
				if (*info >= 'a' && *info <= 'z' &&
				    m->nkw < MAX_KW) {
					const char *k = kwname[*info - 'a'];

					m->kw[m->nkw] = strdup(k != NULL ? k :
							       "?unknown");
					FUZZ_CHECK(m->kw[m->nkw] != NULL);
					m->nkw++;
				}
			}
		}
		qsort(m->kw, m->nkw, sizeof(char *), cmp_str);
		v->n++;
	}
	free(uidlist);
	free(kwfile);
}

/* ---- the comparison ---- */

static void show(const char *who, const struct view *v)
{
	fprintf(stderr, "%s: %s, driver %s, UIDVALIDITY %lu UIDNEXT %lu, %lu "
		"messages %s\n", who, v->mailbox ? "a mailbox" : "refused",
		v->driver, v->uidvalidity, v->uidnext, v->n, v->note);
	for (unsigned long i = 0; i < v->n; i++) {
		const struct view_msg *m = &v->msgs[i];

		fprintf(stderr, "  %lu: uid %lu flags %#x date %lld size %lu "
			"kw", i + 1, m->uid, m->flags, m->date, m->size);
		for (size_t k = 0; k < m->nkw; k++)
			fprintf(stderr, " [%s]", m->kw[k]);
		fprintf(stderr, " bytes %zu: \"", m->len);
		for (size_t b = 0; b < m->len && b < 400; b++) {
			unsigned char c = m->data[b];

			if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
				fputc(c, stderr);
			else
				fprintf(stderr, "\\x%02x", c);
		}
		fprintf(stderr, "\"\n");
	}
}

/* An IMAP atom (RFC 3501): 7-bit, no CTL, no atom-specials. */
static int is_atom(const char *k)
{
	if (*k == '\0')
		return 0;
	for (; *k != '\0'; k++) {
		unsigned char c = (unsigned char)*k;

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return 1;
}

/* Ours are c-client's but for keywords-over-26 (its place 26..29, or
 * all 26 letters of ours given) and keyword-not-atom; none of ours is
 * not c-client's. */
static int keywords_alike(const struct view_msg *a, const struct view_msg *b,
			  int full)
{
	size_t i = 0, j = 0;

	while (i < a->nkw || j < b->nkw) {
		int c = i == a->nkw ? 1 : j == b->nkw ? -1 :
			strcmp(a->kw[i], b->kw[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0 && ((unsigned char)a->kw[i][-1] > 26 ||
				     full || !is_atom(a->kw[i]))) {
			i++;		/* dropped by us, by name */
		} else {
			return 0;
		}
	}
	return 1;
}

static int fresh(unsigned long uv, time_t t0, time_t t1)
{
	return (time_t)uv >= t0 && (time_t)uv <= t1;
}

static const char *differ(const struct view *c, const struct view *o,
			  time_t t0, time_t t1, int input_has_run)
{
	int cf, of, renumbered;

	if (!c->mailbox)
		return o->mailbox ? "c-client: no mailbox; we converted it" :
			NULL;	/* refused by both, or other-format */
	if (!o->mailbox)
		return "c-client: a mailbox; we refused it";
	cf = fresh(c->uidvalidity, t0, t1);
	of = fresh(o->uidvalidity, t0, t1);
	if (cf != of || (!cf && c->uidvalidity != o->uidvalidity))
		return "UIDVALIDITY";
	/* uid-reset: both made up a UIDVALIDITY; we number 1..n */
	renumbered = cf && of && o->uidnext == o->n + 1;
	for (unsigned long i = 0; renumbered && i < o->n; i++)
		renumbered = o->msgs[i].uid == i + 1;
	if (c->uidnext != o->uidnext && !renumbered)
		return "UIDNEXT";
	if (c->n != o->n)
		return "message count";
	for (unsigned long i = 0; i < c->n; i++) {
		const struct view_msg *a = &c->msgs[i], *b = &o->msgs[i];

		int garbage = i + 1 == c->n && !input_has_run &&
			a->len > 8 && a->data[0] == ' ';

		for (size_t b = 1; garbage && b < a->len; b++)
			garbage = a->data[b] == '\0';

		if (!garbage && (a->len != b->len ||
				 memcmp(a->data, b->data, a->len) != 0))
			return "bytes";
		/* cclient-size: c-client's size is not its bytes' length */
		if (!garbage && a->size != b->size &&
		    !(a->size != a->len && b->size == b->len))
			return "RFC822.SIZE";
		/* recent-with-flags: a maildir file with flags is in cur/ */
		if (a->flags != b->flags &&
		    (a->flags & ~(unsigned int)CCV_RECENT) != b->flags)
			return "flags";
		if (a->flags != b->flags &&
		    a->flags == (unsigned int)CCV_RECENT && a->nkw == 0)
			return "flags";
		if (a->uid != b->uid && !renumbered)
			return "UID";
		if (a->date != b->date)
			return "INTERNALDATE";
		if (!keywords_alike(a, b, o->nkeywords >= 26))
			return "keywords";
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct view c, o;
	const char *what;
	time_t t0, t1;
	struct stat sb;
	char lock[64], path[420];
	int rc, has_run;

	if (!inited) {
		setenv("TZ", "UTC", 1);
		tzset();
		snprintf(dir, sizeof(dir), "%s", fuzz_dir());
		snprintf(cc_path, sizeof(cc_path), "%s/cc", dir);
		snprintf(src_path, sizeof(src_path), "%s/src", dir);
		snprintf(md_path, sizeof(md_path), "%s/md", dir);
		ccv_init(dir, NULL);
		inited = 1;
	}
	t0 = time(NULL) - 1;
	fuzz_write_file(cc_path, data, size);
	fuzz_write_file(src_path, data, size);
	FUZZ_CHECK(stat(cc_path, &sb) == 0);
	snprintf(lock, sizeof(lock), "/tmp/.%lx.%lx", (unsigned long)sb.st_dev,
		 (unsigned long)sb.st_ino);
	rc = cclient_view(&c);
	/* what a c-client that died leaves: its dotlock, its /tmp lock */
	snprintf(path, sizeof(path), "%s.lock", cc_path);
	unlink(path);
	unlink(lock);
	if (rc < 0) {
		unlink(cc_path);
		unlink(src_path);
		return 0;		/* cclient-fails */
	}
	our_view(&o);
	t1 = time(NULL) + 1;
	/* cclient-garbage: a space then NULs, not in the input */
	has_run = memmem(data, size, " \0\0\0\0\0\0\0\0", 9) != NULL;
	what = differ(&c, &o, t0, t1, has_run);
	if (what != NULL) {
		fprintf(stderr, "fuzz-differential: %s differs\n", what);
		show("c-client", &c);
		show("ours", &o);
		/* nothing left behind in the scratch directory */
		rm_tree(md_path);
		unlink(cc_path);
		unlink(src_path);
		rmdir(dir);
		FUZZ_CHECK(what == NULL);
	}
	view_free(&c);
	view_free(&o);
	rm_tree(md_path);
	unlink(cc_path);
	unlink(src_path);
	return 0;
}
