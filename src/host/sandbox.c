/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - a practice mail server in one directory: a generated UW-IMAP
 * spool, a private Dovecot, a Postfix config dir, stand-ins for the
 * services, and the mbox2dovecot.conf that points at all of it (see
 * sandbox.h for the layout)
 *
 * The spool is written the way UW imap-2007 (unix.c) and Postfix local(8)
 * (mail_copy.c) write mboxes (README, "What it keeps", and
 * tests/tools/gen-spool.py, the test suite's richer generator): the
 * folder-internal pseudo-message with X-IMAP, or X-IMAPbase on the first
 * message, then per message UW's status block (Status, X-Status,
 * X-Keywords padded with blanks, X-UID) at the end of the header, ">From "
 * quoting, the empty line after each message, and new mail appended by
 * Postfix without any of UW's headers.  From_ dates are ctime layout in
 * UTC (the generated config says source_tz = "UTC").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "dovecot-conf.h"
#include "run-cmd.h"
#include "sandbox.h"
#include "i18n.h"
#include "xalloc.h"

#define PASSWORD "sandbox"
#define HOST "mailhost.sandbox.example"
#define STOP_WAIT 15		/* seconds before SIGKILL */

static const char *const user_names[SANDBOX_MAX_USERS] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
};

/* ---- a small deterministic generator (splitmix64) ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static unsigned int rng_below(uint64_t *s, unsigned int n)
{
	return n == 0 ? 0 : (unsigned int)(rng_next(s) % n);
}

static bool rng_chance(uint64_t *s, unsigned int percent)
{
	return rng_below(s, 100) < percent;
}

/* ---- files ---- */

struct ctx {
	const char *dir;
	uid_t uid;
	gid_t gid;
	bool root;
	const char *dovecot;	/* its absolute path, or "dovecot" */
	struct m2d_error *err;
};

static int mkdir_own(struct ctx *c, const char *path, mode_t mode, bool own)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return m2d_error_sys(c->err, "mkdir", path);
	if (chmod(path, mode) < 0)
		return m2d_error_sys(c->err, "chmod", path);
	if (own && c->root && chown(path, c->uid, c->gid) < 0)
		return m2d_error_sys(c->err, "chown", path);
	return 0;
}

/* DIR/REL (printf-style) into BUF. */
static const char *pathf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes PATH (new) with DATA; OWN: belongs to the mail owner. */
static int put_file(struct ctx *c, const char *path, const char *data,
		    size_t len, mode_t mode, bool own)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		      O_CLOEXEC, mode);

	if (fd < 0)
		return m2d_error_sys(c->err, "open", path);
	if (write_all(fd, data, len) < 0) {
		m2d_error_sys(c->err, "write", path);
		close(fd);
		return -1;
	}
	if (fchmod(fd, mode) < 0 ||
	    (own && c->root && fchown(fd, c->uid, c->gid) < 0)) {
		m2d_error_sys(c->err, "fchown", path);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return m2d_error_sys(c->err, "close", path);
	return 0;
}

/* A text built with open_memstream. */
struct text {
	char *buf;
	size_t len;
	FILE *f;
};

static void text_open(struct text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->f = xopen_memstream(&t->buf, &t->len);
}

static void text_close(struct text *t)
{
	xmemstream_close(t->f);
	t->f = NULL;
}

static int put_text(struct ctx *c, const char *path, struct text *t,
		    mode_t mode, bool own)
{
	int ret;

	text_close(t);
	ret = put_file(c, path, t->buf, t->len, mode, own);
	free(t->buf);
	t->buf = NULL;
	return ret;
}

/* ---- the spool ---- */

static const char *const days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};
static const char *const words[] = {
	"the", "meeting", "budget", "report", "attached", "please", "find",
	"below", "regarding", "schedule", "thanks", "review", "server",
	"migration", "deadline", "minutes", "agenda", "lunch", "friday",
	"printer", "backup", "tape", "kernel", "patch", "release", "notes",
};
static const char *const correspondents[] = {
	"\"Hans M\xc3\xbcller\" <hans.mueller@uni-example.de>",
	"Jane Doe <jane@example.com>",
	"Postmaster <postmaster@example.org>",
	"\"Fran\xc3\xa7ois Dupont\" <fdupont@example.fr>",
	"Listserv <owner-info-mac@list.example.edu>",
};
static const char *const senders[] = {
	"hans.mueller@uni-example.de", "jane@example.com",
	"postmaster@example.org", "fdupont@example.fr",
	"owner-info-mac@list.example.edu",
};
static const char *const keywords[] = {
	"Junk", "NonJunk", "$Label1", "todo", "work", "urgent",
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const char *const pseudo_text =
	"This text is part of the internal format of your mail folder, and "
	"is not\na real message.  It is created automatically by the mail "
	"system software.\nIf deleted, important folder data will be lost, "
	"and it will be re-created\nwith the data reset to initial values.\n";

/* "Tue Nov  9 10:11:12 2004" (UTC), locale-independent. */
static void ctime_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s %s %2d %02d:%02d:%02d %d", days[tm.tm_wday],
		 months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, tm.tm_year + 1900);
}

/* "Tue, 9 Nov 2004 10:11:12 +0000" */
static void rfc822_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s, %d %s %d %02d:%02d:%02d +0000",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum fmode {
	F_PSEUDO,	/* pseudo-message first (UW's default) */
	F_IMAPBASE,	/* X-IMAPbase on the first message */
	F_PLAIN,	/* no UW data: a mutt-like mbox */
	F_PSEUDO_ONLY,	/* every message expunged */
};

struct fspec {
	const char *path;	/* relative to the home; NULL = the INBOX */
	int messages;
	int postfix_new;	/* appended by Postfix after UW's last write */
	enum fmode mode;
	bool subscribed;
};

/* Every user has these. */
static const struct fspec common_folders[] = {
	{ NULL, 14, 3, F_PSEUDO, true },
	{ "sent-mail", 8, 0, F_IMAPBASE, true },
	{ "mail/work/2004", 10, 0, F_PSEUDO, true },
	{ "mail/work/2005", 8, 0, F_PSEUDO, false },
	{ "mail/Trash", 0, 0, F_PSEUDO_ONLY, false },
};

/* And the first five users one or more of these: non-ASCII names (UTF-8
 * on disk), '&' and '"', a '.' (Maildir++'s separator: needs a rename),
 * "Inbox" (would merge into INBOX: needs a rename), a '~' top level
 * (Dovecot will not open it: needs a rename), deeper nesting, a plain
 * mbox without UW's headers. */
static const struct fspec special_folders[][3] = {
	{ { "mail/Entw\xc3\xbcrfe", 6, 0, F_PSEUDO, true },
	  { "mail/R&D", 5, 0, F_PSEUDO, true },
	  { NULL, 0, 0, F_PSEUDO, false } },
	{ { "mail/v1.2 release", 5, 0, F_PSEUDO, true },
	  { "mail/Caf\xc3\xa9", 4, 0, F_PSEUDO, false },
	  { NULL, 0, 0, F_PSEUDO, false } },
	{ { "mail/Inbox", 4, 0, F_PSEUDO, false },
	  { "mail/\"Quotes\" & more", 4, 0, F_IMAPBASE, true },
	  { NULL, 0, 0, F_PSEUDO, false } },
	{ { "mail/Reports.2004", 5, 0, F_PSEUDO, false },
	  { "mail/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, 0, F_PSEUDO,
	    true },
	  { "mail/archive/1999/q1", 6, 0, F_PSEUDO, true } },
	{ { "mail/~old", 4, 0, F_PSEUDO, false },
	  { "saved-messages", 5, 0, F_PLAIN, true },
	  { NULL, 0, 0, F_PSEUDO, false } },
};
#define NSPECIAL (sizeof(special_folders) / sizeof(special_folders[0]))

struct gen {
	uint64_t rng;
	unsigned long msgid;
	int folders, messages;
};

static void sentence(struct gen *g, FILE *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const char *w = words[rng_below(&g->rng, sizeof(words) /
						sizeof(words[0]))];

		if (i == 0)
			fprintf(f, "%c%s", toupper((unsigned char)w[0]), w + 1);
		else
			fprintf(f, " %s", w);
	}
	fputs(".\n", f);
}

/* The visible header and the body (mboxo-quoted) of one message. */
static void message_text(struct gen *g, FILE *hdr, FILE *body,
			 const char *user, time_t t, bool postfix,
			 const char **sender_r)
{
	unsigned int who = rng_below(&g->rng, sizeof(senders) /
				     sizeof(senders[0]));
	char date[64];

	g->msgid++;
	*sender_r = senders[who];
	rfc822_utc(t - (time_t)rng_below(&g->rng, 600), date, sizeof(date));
	fprintf(hdr, "Return-Path: <%s>\n", senders[who]);
	if (postfix)
		fprintf(hdr, "X-Original-To: %s@%s\nDelivered-To: %s@%s\n",
			user, HOST, user, HOST);
	fprintf(hdr, "Date: %s\nFrom: %s\nTo: %s@%s\nSubject: ", date,
		correspondents[who], user, HOST);
	sentence(g, hdr, 2 + rng_below(&g->rng, 4));
	fprintf(hdr, "Message-ID: <%lld.%lu@example.net>\n", (long long)t,
		g->msgid);
	fputs("MIME-Version: 1.0\n", hdr);
	switch (rng_below(&g->rng, 6)) {
	case 0:
		/* Postfix and UW quote "From " at the start of a body line;
		 * an existing ">From " stays as it is (mboxo) */
		fputs("Content-Type: text/plain; charset=us-ascii\n", hdr);
		fputs("Forwarded below:\n\n>From the desk of the editor:\n",
		      body);
		sentence(g, body, 8);
		fputs(">From an earlier quoting, left alone\n"
		      ">>From deeper quoting\n"
		      " From with a leading space\nfrom lower case\n", body);
		break;
	case 1:
		fputs("Content-Type: text/plain; charset=utf-8\n"
		      "Content-Transfer-Encoding: 8bit\n", hdr);
		fputs("Viele Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen!\n",
		      body);
		sentence(g, body, 6 + rng_below(&g->rng, 6));
		break;
	default:
		fputs("Content-Type: text/plain; charset=us-ascii\n", hdr);
		for (unsigned int i = 1 + rng_below(&g->rng, 5); i > 0; i--)
			sentence(g, body, 5 + rng_below(&g->rng, 9));
		break;
	}
}

/* UW's unix_xstatus(): [X-IMAPbase] Status X-Status X-Keywords (padded
 * to 50, or 80 with X-IMAPbase) X-UID, and the empty line. */
static void uw_status(FILE *f, bool seen, const char *xflags,
		      const char *const *kw, unsigned int nkw, unsigned int uid,
		      const char *base)
{
	char line[256];
	size_t len;
	unsigned int pad = 50;

	line[0] = '\0';
	if (base != NULL) {
		fputs(base, f);
		pad += 30;
	}
	fprintf(f, "Status: %sO\nX-Status: %s\n", seen ? "R" : "", xflags);
	snprintf(line, sizeof(line), "X-Keywords:");
	for (unsigned int i = 0; i < nkw; i++) {
		len = strlen(line);
		snprintf(line + len, sizeof(line) - len, " %s", kw[i]);
	}
	/* UW pads the status block so that it can be rewritten in place */
	len = strlen(line) + strlen("Status: RO\nX-Status: \n");
	fputs(line, f);
	for (; len < pad; len++)
		fputc(' ', f);
	fprintf(f, "\nX-UID: %u\n\n", uid);
}

static int gen_folder(struct ctx *c, struct gen *g, const char *user,
		      const struct fspec *fs, const char *path)
{
	const char *fkw[NKEYWORDS];
	unsigned int nfkw = 0, uidvalidity, uid, uidlast;
	struct text t;
	char date[64], base[256];
	time_t when;

	text_open(&t);
	uidvalidity = 1000000000u + rng_below(&g->rng, 200000000u);
	uid = rng_chance(&g->rng, 30) ? 100000 + rng_below(&g->rng, 900000) :
		rng_below(&g->rng, 4);
	uidlast = uid + (unsigned int)fs->messages * 3 + 2;
	for (unsigned int i = 0; i < NKEYWORDS; i++)
		if (rng_chance(&g->rng, 40))
			fkw[nfkw++] = keywords[i];
	/* between 2001 and 2006, ascending */
	when = 978307200 + (time_t)rng_below(&g->rng, 86400 * 365);
	if (fs->mode == F_PSEUDO || fs->mode == F_PSEUDO_ONLY) {
		ctime_utc(when + 86400 * 700, date, sizeof(date));
		fprintf(t.f, "From MAILER-DAEMON %s\n", date);
		rfc822_utc(when + 86400 * 700, date, sizeof(date));
		fprintf(t.f, "Date: %s\nFrom: Mail System Internal Data "
			"<MAILER-DAEMON@%s>\nSubject: DON'T DELETE THIS "
			"MESSAGE -- FOLDER INTERNAL DATA\nMessage-ID: "
			"<%lld@%s>\nX-IMAP: %010u %010u", date, HOST,
			(long long)when, HOST, uidvalidity, uidlast);
		for (unsigned int i = 0; i < nfkw; i++)
			fprintf(t.f, " %s", fkw[i]);
		fprintf(t.f, "\nStatus: RO\n\n%s\n", pseudo_text);
	}
	for (int i = 0; i < fs->messages + fs->postfix_new; i++) {
		bool postfix = i >= fs->messages;
		struct text hdr, body;
		const char *sender, *kw[NKEYWORDS];
		char xflags[8];
		unsigned int nkw = 0, nx = 0;

		when += 3600 + (time_t)rng_below(&g->rng, 86400 * 20);
		text_open(&hdr);
		text_open(&body);
		message_text(g, hdr.f, body.f, user, when, postfix, &sender);
		text_close(&hdr);
		text_close(&body);
		ctime_utc(when, date, sizeof(date));
		/* Postfix: "From sender  DATE" (two blanks) */
		fprintf(t.f, "From %s %s%s\n", sender, postfix ? " " : "",
			date);
		fwrite(hdr.buf, 1, hdr.len, t.f);
		if (postfix || fs->mode == F_PLAIN) {
			if (fs->mode == F_PLAIN && rng_chance(&g->rng, 60))
				fprintf(t.f, "Status: %s\n",
					rng_chance(&g->rng, 50) ? "RO" : "O");
			fputc('\n', t.f);
		} else {
			uid += 1 + (rng_chance(&g->rng, 20) ? 2 : 0);
			for (const char *x = "DFAT"; *x != '\0'; x++)
				if (rng_chance(&g->rng, *x == 'A' ? 25 : 10))
					xflags[nx++] = *x;
			xflags[nx] = '\0';
			for (unsigned int k = 0; k < nfkw; k++)
				if (rng_chance(&g->rng, 35))
					kw[nkw++] = fkw[k];
			base[0] = '\0';
			if (fs->mode == F_IMAPBASE && i == 0) {
				size_t len;

				snprintf(base, sizeof(base),
					 "X-IMAPbase: %u %u", uidvalidity,
					 uidlast);
				for (unsigned int k = 0; k < nfkw; k++) {
					len = strlen(base);
					snprintf(base + len, sizeof(base) - len,
						 " %s", fkw[k]);
				}
				len = strlen(base);
				snprintf(base + len, sizeof(base) - len, "\n");
			}
			uw_status(t.f, rng_chance(&g->rng, 70), xflags, kw,
				  nkw, uid, base[0] != '\0' ? base : NULL);
		}
		fwrite(body.buf, 1, body.len, t.f);
		fputc('\n', t.f);
		free(hdr.buf);
		free(body.buf);
		g->messages++;
	}
	g->folders++;
	return put_text(c, path, &t, 0600, true);
}


/* Creates the directories of REL (below HOME) that are missing. */
static int make_parents(struct ctx *c, const char *home, const char *rel)
{
	char path[PATH_MAX];
	const char *slash = rel;

	while ((slash = strchr(slash, '/')) != NULL) {
		size_t len = (size_t)(slash - rel);

		if (strlen(home) + len + 2 > sizeof(path))
			return m2d_error_set(c->err, M2D_ERR_USAGE, home,
					     _("path too long"));
		memcpy(path, home, strlen(home));
		path[strlen(home)] = '/';
		memcpy(path + strlen(home) + 1, rel, len);
		path[strlen(home) + 1 + len] = '\0';
		if (mkdir_own(c, path, 0700, true) < 0)
			return -1;
		slash++;
	}
	return 0;
}

static int gen_user(struct ctx *c, struct gen *g, int idx)
{
	const char *user = user_names[idx];
	char home[PATH_MAX], path[PATH_MAX];
	struct text subs;
	const struct fspec *all[8];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(common_folders) /
		     sizeof(common_folders[0]); i++)
		all[n++] = &common_folders[i];
	if ((size_t)idx < NSPECIAL)
		for (size_t i = 0; i < 3; i++)
			if (special_folders[idx][i].path != NULL)
				all[n++] = &special_folders[idx][i];

	pathf(home, sizeof(home), "%s/home/%s", c->dir, user);
	if (mkdir_own(c, home, 0700, true) < 0)
		return -1;
	text_open(&subs);
	for (size_t i = 0; i < n; i++) {
		const struct fspec *fs = all[i];

		if (fs->path == NULL)
			pathf(path, sizeof(path), "%s/spool/%s", c->dir,
			      user);
		else if (make_parents(c, home, fs->path) < 0)
			goto fail;
		else
			pathf(path, sizeof(path), "%s/%s", home, fs->path);
		if (gen_folder(c, g, user, fs, path) < 0)
			goto fail;
		/* as the client typed it: "INBOX", "mail/x", "~/mail/x" */
		if (fs->subscribed)
			fprintf(subs.f, "%s%s\n",
				fs->path != NULL && i % 2 == 0 ? "~/" : "",
				fs->path != NULL ? fs->path : "INBOX");
	}
	if (put_text(c, pathf(path, sizeof(path), "%s/.mailboxlist", home),
		     &subs, 0600, true) < 0)
		return -1;
	/* dot files are not folders */
	static const char pinerc[] =
		"# Updated by Pine(tm) 4.64, copyright 1989-2005 University "
		"of Washington.\nfolder-collections=mail/[]\n";
	return put_file(c, pathf(path, sizeof(path), "%s/.pinerc", home),
			pinerc, sizeof(pinerc) - 1, 0600, true);
fail:
	text_close(&subs);
	free(subs.buf);
	return -1;
}

/* ---- programs ---- */

/* PROG as an absolute path: PROG itself when it has a '/', else the
 * first executable in PATH, /usr/sbin, /usr/local/sbin, /sbin.
 * Allocated; NULL when not found. */
static char *find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL, *d, cand[PATH_MAX];

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	dirs = xasprintf("%s:/usr/sbin:/usr/local/sbin:/sbin",
			 path != NULL ? path : "/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof(cand), "%s/%s", d, prog);
		if (d[0] == '/' && access(cand, X_OK) == 0) {
			free(dirs);
			return xstrdup(cand);
		}
	}
	free(dirs);
	return NULL;
}

unsigned int sandbox_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	unsigned int port = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* ---- Dovecot ---- */

struct names {
	char user[64], group[64];
};

static void own_names(struct names *n)
{
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());

	snprintf(n->user, sizeof(n->user), "%s",
		 pw != NULL ? pw->pw_name : "");
	snprintf(n->group, sizeof(n->group), "%s",
		 gr != NULL ? gr->gr_name : "");
}

char *sandbox_dovecot_conf(const char *d, enum dc_syntax syntax,
			   unsigned int id, const char *user,
			   const char *group, struct m2d_error *err)
{
	bool v24 = syntax == DC_SYNTAX_2_4;
	struct text t;

	if (syntax != DC_SYNTAX_2 && syntax != DC_SYNTAX_2_4) {
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("the sandbox writes Dovecot 2.x configurations "
				"only"));
		return NULL;
	}
	text_open(&t);
	if (v24)	/* it must come first */
		fputs("dovecot_config_version = 2.4.0\n", t.f);
	fprintf(t.f, "# A private Dovecot for the mbox2dovecot sandbox "
		"(Dovecot %s syntax).\n"
		"# Everything is below %s; it listens on 127.0.0.1 only.\n"
		"# There is no IMAP listener here: the runbook's edit,\n"
		"# conf.d/%s, adds the test port (step 8)\n"
		"# and later the normal port (step 17).\n",
		dc_syntax_name(syntax), d, DC_UNIT_FILE);
	if (v24)
		fputs("dovecot_storage_version = 2.4.0\n", t.f);
	fprintf(t.f, "base_dir = %s/run/dovecot\n"
		"state_dir = %s/state/dovecot\n"
		"instance_name = m2d-sandbox-%u\n"
		"log_path = %s/log/dovecot.log\n"
		"ssl = no\n"
		"%s\n"
		"auth_mechanisms = plain\n"
		"protocols = imap\n"
		"listen = 127.0.0.1\n"
		"first_valid_uid = 1\n"
		"first_valid_gid = 1\n"
		"mail_privileged_group =\n",
		d, d, id, d,
		v24 ? "auth_allow_cleartext = yes" :
		"disable_plaintext_auth = no");
	if (v24)
		fprintf(t.f, "mail_driver = maildir\n"
			"mail_path = %s/target/%%{user}\n", d);
	else
		fprintf(t.f, "mail_location = maildir:%s/target/%%u\n", d);
	fputs("namespace inbox {\n  inbox = yes\n  separator = /\n}\n", t.f);
	if (v24)
		fprintf(t.f, "passdb passwd-file {\n"
			"  passwd_file_path = %s/dovecot/passwd\n}\n"
			"userdb passwd-file {\n"
			"  passwd_file_path = %s/dovecot/passwd\n}\n", d, d);
	else
		fprintf(t.f, "passdb {\n  driver = passwd-file\n"
			"  args = scheme=PLAIN username_format=%%u "
			"%s/dovecot/passwd\n}\n"
			"userdb {\n  driver = passwd-file\n"
			"  args = username_format=%%u %s/dovecot/passwd\n}\n",
			d, d);
	fprintf(t.f, "service imap-login {\n"
		"  inet_listener imap {\n    %s = 127.0.0.1\n    port = 0\n"
		"  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n",
		v24 ? "listen" : "address");
	if (user != NULL) {
		/* Dovecot as an ordinary user: its internal and login
		 * processes run as that user, without chroot */
		fprintf(t.f, "default_internal_user = %s\n"
			"default_login_user = %s\n"
			"default_internal_group = %s\n"
			"service imap-login {\n  chroot =\n}\n"
			"service anvil {\n  chroot =\n}\n",
			user, user, group);
	}
	fputs("# the runbook's unit, and anything else of yours\n"
	      "!include_try conf.d/*.conf\n", t.f);
	text_close(&t);
	return t.buf;
}

static int write_dovecot(struct ctx *c, enum dc_syntax syntax,
			 unsigned int port_id, struct m2d_error *err)
{
	char path[PATH_MAX], *text;
	struct names n;
	int ret;

	if (!c->root) {
		own_names(&n);
		if (n.user[0] == '\0' || n.group[0] == '\0')
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("uid %u or gid %u has no name: "
					       "Dovecot needs one to run as "
					       "this user"),
					     (unsigned int)getuid(),
					     (unsigned int)getgid());
	}
	text = sandbox_dovecot_conf(c->dir, syntax, port_id,
				    c->root ? NULL : n.user,
				    c->root ? NULL : n.group, err);
	if (text == NULL)
		return -1;
	ret = put_file(c, pathf(path, sizeof(path), "%s/dovecot/dovecot.conf",
				c->dir), text, strlen(text), 0644, false);
	free(text);
	return ret;
}

static int write_passwd(struct ctx *c, int users, const char *file,
			const char *shell, mode_t mode)
{
	char path[PATH_MAX];
	struct text t;

	text_open(&t);
	for (int i = 0; i < users; i++) {
		if (shell != NULL)
			fprintf(t.f, "%s:x:%u:%u:%s:%s/home/%s:%s\n",
				user_names[i], (unsigned int)c->uid,
				(unsigned int)c->gid, user_names[i], c->dir,
				user_names[i], shell);
		else
			fprintf(t.f, "%s:{PLAIN}%s:%u:%u::%s/home/%s::\n",
				user_names[i], PASSWORD, (unsigned int)c->uid,
				(unsigned int)c->gid, c->dir, user_names[i]);
	}
	return put_text(c, pathf(path, sizeof(path), "%s/%s", c->dir, file),
			&t, mode, false);
}

/* ---- scripts ---- */

/* The shell scripts of DIR/bin.  "@DIR@", "@UID@", "@GID@", "@PROG@" and
 * "@UWPORT@" are replaced. */
static const char script_deliver[] =
	"#!/bin/sh\n"
	"# deliver USER: the sandbox's local(8).  Reads one message on\n"
	"# standard input and delivers it the way Postfix's local delivery\n"
	"# would with the sandbox's main.cf (postconf -c @DIR@/postfix):\n"
	"#   home_mailbox set: into HOME/home_mailbox (maildir when it ends\n"
	"#     with '/', else an mbox);\n"
	"#   else mail_spool_directory: with a trailing '/' a maildir\n"
	"#     SPOOL/USER/ (tmp/ then rename into new/), else the mbox\n"
	"#     SPOOL/USER (a From_ line, Return-Path, X-Original-To,\n"
	"#     Delivered-To, '>' before \"From \" lines, an empty line;\n"
	"#     under the dotlock SPOOL/USER.lock).\n"
	"# It runs as the mail owner, as local(8) runs as the recipient: a\n"
	"# maildir that cannot be created bounces (exit 73).  While the\n"
	"# sandbox's Postfix is stopped, or local delivery is held\n"
	"# (defer_transports = local), the message waits in @DIR@/queue/\n"
	"# until \"@DIR@/bin/postqueue -f\".\n"
	"set -u\n"
	"D=@DIR@\n"
	"PATH=$PATH:/usr/sbin:/usr/local/sbin:/sbin\n"
	"now=\n"
	"if [ \"${1:-}\" = --now ]; then now=1; shift; fi\n"
	"[ $# -eq 1 ] || { echo \"usage: $0 USER < MESSAGE\" >&2; exit 64; }\n"
	"user=$1\n"
	"case $user in */*|.*|'') echo \"deliver: bad user $user\" >&2;"
	" exit 67;; esac\n"
	"[ -e \"$D/spool/$user\" ] || [ -d \"$D/home/$user\" ] ||"
	" { echo \"deliver: $user: unknown user\" >&2; exit 67; }\n"
	"pc() { postconf -c \"$D/postfix\" -h \"$1\" 2>/dev/null; }\n"
	"# like local(8), quiet on success: what was done goes to the log\n"
	"log() { echo \"$(date '+%F %T') deliver: $*\" >>\"$D/log/deliver.log\";"
	" } 2>/dev/null\n"
	"if [ -z \"$now\" ]; then\n"
	"  mkdir -p \"$D/queue\"\n"
	"  q=$D/queue/$(date +%s).$$.$user\n"
	"  cat >\"$q.tmp\" && mv \"$q.tmp\" \"$q\" || exit 75\n"
	"  if [ ! -e \"$D/run/postfix.running\" ] ||"
	" pc defer_transports | grep -qw local; then\n"
	"    log \"queued for $user (local delivery is stopped or held)\"\n"
	"    exit 0\n"
	"  fi\n"
	"  \"$0\" --now \"$user\" <\"$q\"\n"
	"  rc=$?\n"
	"  [ $rc -eq 75 ] || rm -f \"$q\"\n"
	"  exit $rc\n"
	"fi\n"
	"# --now: deliver standard input now, as the mail owner\n"
	"if [ \"$(id -u)\" = 0 ]; then\n"
	"  exec setpriv --reuid=@UID@ --regid=@GID@ --clear-groups -- \"$0\""
	" --now \"$user\"\n"
	"fi\n"
	"umask 077\n"
	"sender=${SENDER:-sandbox@localhost}\n"
	"headers() {\n"
	"  printf 'Return-Path: <%s>\\nX-Original-To: %s\\nDelivered-To:"
	" %s\\n' \"$sender\" \"$user\" \"$user\"\n"
	"}\n"
	"maildir() {\n"
	"  md=$1\n"
	"  mkdir -p \"$md/tmp\" \"$md/new\" \"$md/cur\" 2>/dev/null || {\n"
	"    echo \"deliver: cannot create maildir $md: bounced (5.2.0)\" >&2\n"
	"    exit 73\n"
	"  }\n"
	"  u=$(date +%s).P$$Q$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
	".sandbox\n"
	"  { headers; cat; } >\"$md/tmp/$u\" || exit 75\n"
	"  mv \"$md/tmp/$u\" \"$md/new/$u\" || exit 75\n"
	"  log \"$user: delivered to maildir $md/new/$u\"\n"
	"}\n"
	"mbox() {\n"
	"  mb=$1\n"
	"  n=0\n"
	"  while ! (set -C; : >\"$mb.lock\") 2>/dev/null; do\n"
	"    n=$((n + 1))\n"
	"    [ $n -lt 30 ] || { echo \"deliver: $mb is locked\" >&2;"
	" exit 75; }\n"
	"    sleep 1\n"
	"  done\n"
	"  trap 'rm -f \"$mb.lock\"' EXIT\n"
	"  { printf 'From %s  %s\\n' \"$sender\" \"$(LC_ALL=C date -u"
	" '+%a %b %e %H:%M:%S %Y')\"\n"
	"    headers\n"
	"    sed 's/^From />From /'\n"
	"    echo\n"
	"  } >>\"$mb\" || exit 75\n"
	"  log \"$user: appended to mbox $mb\"\n"
	"}\n"
	"hm=$(pc home_mailbox)\n"
	"if [ -n \"$hm\" ]; then\n"
	"  case $hm in */) maildir \"$D/home/$user/$hm\";;"
	" *) mbox \"$D/home/$user/$hm\";; esac\n"
	"else\n"
	"  sp=$(pc mail_spool_directory)\n"
	"  case $sp in */) maildir \"$sp$user\";; *) mbox \"$sp/$user\";;"
	" esac\n"
	"fi\n";

static const char script_postqueue[] =
	"#!/bin/sh\n"
	"# postqueue [-c DIR] -f: delivers what bin/deliver queued in\n"
	"# @DIR@/queue/, unless the sandbox's Postfix is stopped or local\n"
	"# delivery is held (defer_transports = local).\n"
	"D=@DIR@\n"
	"PATH=$PATH:/usr/sbin:/usr/local/sbin:/sbin\n"
	"echo \"$(date '+%F %T') postqueue $*\" >>\"$D/log/services.log\"\n"
	"[ -e \"$D/run/postfix.running\" ] || exit 0\n"
	"postconf -c \"$D/postfix\" -h defer_transports 2>/dev/null |"
	" grep -qw local && exit 0\n"
	"for q in \"$D\"/queue/*; do\n"
	"  [ -f \"$q\" ] || continue\n"
	"  case $q in *.tmp) continue;; esac\n"
	"  user=${q##*.}\n"
	"  if \"$D/bin/deliver\" --now \"$user\" <\"$q\"; then rm -f \"$q\";"
	" else rc=$?; [ $rc -eq 75 ] || rm -f \"$q\"; fi\n"
	"done\n"
	"exit 0\n";

static const char script_postfix[] =
	"#!/bin/sh\n"
	"# postfix [-c DIR] start|stop|reload|status|check|flush: the\n"
	"# sandbox's Postfix.  No Postfix daemon runs here: \"running\" is\n"
	"# the file @DIR@/run/postfix.running, and bin/deliver plays local(8)\n"
	"# (it queues while Postfix is stopped).  \"check\" runs the real\n"
	"# \"postfix -c @DIR@/postfix check\" as root; as another user (the\n"
	"# postfix command is reserved for the superuser) it runs\n"
	"# \"postconf -c @DIR@/postfix -n\", which parses main.cf.\n"
	"D=@DIR@\n"
	"PATH=$PATH:/usr/sbin:/usr/local/sbin:/sbin\n"
	"[ \"${1:-}\" = -c ] && shift 2\n"
	"echo \"$(date '+%F %T') postfix $*\" >>\"$D/log/services.log\"\n"
	"case ${1:-} in\n"
	"start) touch \"$D/run/postfix.running\" &&"
	" exec \"$D/bin/postqueue\" -f;;\n"
	"stop) rm -f \"$D/run/postfix.running\";;\n"
	"reload|flush) [ -e \"$D/run/postfix.running\" ] || {"
	" echo \"postfix: the sandbox's Postfix is not running\" >&2; exit 1;"
	" }; exec \"$D/bin/postqueue\" -f;;\n"
	"status) [ -e \"$D/run/postfix.running\" ];;\n"
	"check)\n"
	"  if [ \"$(id -u)\" = 0 ]; then exec postfix -c \"$D/postfix\" check;"
	" fi\n"
	"  postconf -c \"$D/postfix\" -n >/dev/null;;\n"
	"*) echo \"usage: $0 [-c DIR] start|stop|reload|status|check|flush\""
	" >&2; exit 2;;\n"
	"esac\n";

static const char script_xinetd[] =
	"#!/bin/sh\n"
	"# xinetd reload|status: the sandbox's xinetd.  UW-IMAP runs while\n"
	"# @DIR@/root/etc/xinetd.d/imap does not say \"disable = yes\" (the\n"
	"# runbook disables it there and reloads xinetd, as on Red Hat).\n"
	"# UW itself is not installed: a stand-in (\"@PROG@ sandbox\n"
	"# --uw-imap\") holds its port, 127.0.0.1:@UWPORT@, and greets with\n"
	"# \"* OK\" but serves no mail.\n"
	"D=@DIR@\n"
	"pidf=$D/run/uw-imap.pid\n"
	"echo \"$(date '+%F %T') xinetd $*\" >>\"$D/log/services.log\"\n"
	"running() {\n"
	"  [ -s \"$pidf\" ] && p=$(cat \"$pidf\") && kill -0 \"$p\" 2>/dev/null &&\n"
	"    { [ ! -d /proc/$p ] || grep -q . /proc/$p/cmdline 2>/dev/null; }\n"
	"}\n"
	"case ${1:-} in\n"
	"reload|start|restart)\n"
	"  if grep -Eq '^[[:space:]]*disable[[:space:]]*=[[:space:]]*yes'"
	" \"$D/root/etc/xinetd.d/imap\"; then\n"
	"    if running; then kill \"$(cat \"$pidf\")\"; fi\n"
	"    rm -f \"$pidf\"\n"
	"  elif ! running; then\n"
	"    \"@PROG@\" sandbox --uw-imap @UWPORT@ \"$pidf\" || exit 1\n"
	"  fi;;\n"
	"stop) if running; then kill \"$(cat \"$pidf\")\"; fi;"
	" rm -f \"$pidf\";;\n"
	"status) running;;\n"
	"*) echo \"usage: $0 reload|status|stop\" >&2; exit 2;;\n"
	"esac\n";

static const char script_dovecot_status[] =
	"#!/bin/sh\n"
	"# dovecot-status: exit 0 while the sandbox's Dovecot runs (its\n"
	"# master's pid file, the process alive).  A port would not do:\n"
	"# the runbook moves Dovecot from the test port to the normal one.\n"
	"# (A zombie, left by an init slow to reap, has an empty cmdline.)\n"
	"pid=$(cat @DIR@/run/dovecot/master.pid 2>/dev/null) || exit 1\n"
	"kill -0 \"$pid\" 2>/dev/null || exit 1\n"
	"[ ! -d /proc/$pid ] || grep -q . /proc/$pid/cmdline 2>/dev/null\n";

static const char script_dovecot_start[] =
	"#!/bin/sh\n"
	"# dovecot-start: starts the sandbox's Dovecot.  Its master keeps\n"
	"# the standard error it was started with open for good, so that a\n"
	"# caller reading it (mbox2dovecot runs commands with their output\n"
	"# captured) would wait forever: what Dovecot says at startup goes\n"
	"# to a file and is shown from there.\n"
	"D=@DIR@\n"
	"out=$D/log/dovecot-start.out\n"
	"@DOVECOT@ -c \"$D/dovecot/dovecot.conf\" </dev/null >\"$out\" 2>&1\n"
	"rc=$?\n"
	"cat \"$out\" >&2\n"
	"exit $rc\n";

static const char script_service[] =
	"#!/bin/sh\n"
	"# service NAME enable|disable: there is no boot in the sandbox;\n"
	"# \"enabled\" is the file @DIR@/run/NAME.enabled, each call logged.\n"
	"D=@DIR@\n"
	"echo \"$(date '+%F %T') service $*\" >>\"$D/log/services.log\"\n"
	"case ${2:-} in\n"
	"enable) touch \"$D/run/$1.enabled\";;\n"
	"disable) rm -f \"$D/run/$1.enabled\";;\n"
	"*) echo \"usage: $0 NAME enable|disable\" >&2; exit 2;;\n"
	"esac\n";

/* TEMPLATE with the placeholders replaced, written to DIR/bin/NAME. */
static int put_script(struct ctx *c, const char *name, const char *tmpl,
		      const char *prog, unsigned int uwport)
{
	char path[PATH_MAX], num[32];
	struct text t;
	const char *p = tmpl;

	text_open(&t);
	while (*p != '\0') {
		const char *at = strchr(p, '@'), *val = NULL;
		size_t skip = 0;

		if (at == NULL) {
			fputs(p, t.f);
			break;
		}
		fwrite(p, 1, (size_t)(at - p), t.f);
		if (strncmp(at, "@DIR@", 5) == 0) {
			val = c->dir;
			skip = 5;
		} else if (strncmp(at, "@PROG@", 6) == 0) {
			val = prog != NULL ? prog : "mbox2dovecot";
			skip = 6;
		} else if (strncmp(at, "@UID@", 5) == 0) {
			snprintf(num, sizeof(num), "%u", (unsigned int)c->uid);
			val = num;
			skip = 5;
		} else if (strncmp(at, "@GID@", 5) == 0) {
			snprintf(num, sizeof(num), "%u", (unsigned int)c->gid);
			val = num;
			skip = 5;
		} else if (strncmp(at, "@DOVECOT@", 9) == 0) {
			val = c->dovecot;
			skip = 9;
		} else if (strncmp(at, "@UWPORT@", 8) == 0) {
			snprintf(num, sizeof(num), "%u", uwport);
			val = num;
			skip = 8;
		}
		if (val != NULL) {
			fputs(val, t.f);
			p = at + skip;
		} else {
			fputc('@', t.f);
			p = at + 1;
		}
	}
	return put_text(c, pathf(path, sizeof(path), "%s/bin/%s", c->dir, name),
			&t, 0755, false);
}

/* ---- Postfix ---- */

static const char master_cf[] =
	"# A minimal master.cf for the sandbox's Postfix config dir: no\n"
	"# daemon runs from it (bin/postfix, bin/deliver play Postfix).\n"
	"smtp      inet  n       -       y       -       -       smtpd\n"
	"pickup    unix  n       -       y       60      1       pickup\n"
	"cleanup   unix  n       -       y       -       0       cleanup\n"
	"qmgr      unix  n       -       n       300     1       qmgr\n"
	"rewrite   unix  -       -       y       -       -       trivial-"
	"rewrite\n"
	"bounce    unix  -       -       y       -       0       bounce\n"
	"defer     unix  -       -       y       -       0       bounce\n"
	"trace     unix  -       -       y       -       0       bounce\n"
	"verify    unix  -       -       y       -       1       verify\n"
	"flush     unix  n       -       y       1000?   0       flush\n"
	"proxymap  unix  -       -       n       -       -       proxymap\n"
	"smtp      unix  -       -       y       -       -       smtp\n"
	"showq     unix  n       -       y       -       -       showq\n"
	"error     unix  -       -       y       -       -       error\n"
	"retry     unix  -       -       y       -       -       error\n"
	"discard   unix  -       -       y       -       -       discard\n"
	"local     unix  -       n       n       -       -       local\n"
	"virtual   unix  -       n       n       -       -       virtual\n"
	"lmtp      unix  -       -       y       -       -       lmtp\n"
	"anvil     unix  -       -       y       -       1       anvil\n"
	"scache    unix  -       -       y       -       1       scache\n"
	"postlog   unix-dgram n  -       n       -       1       postlogd\n";

/* "postconf -d -h compatibility_level", or NULL. */
static char *postfix_compat(void)
{
	char *argv[] = { "postconf", "-d", "-h", "compatibility_level", NULL };
	char *prog = find_program("postconf"), *v = NULL;
	struct run_output out;
	struct m2d_error e;

	if (prog == NULL)
		return NULL;
	argv[0] = prog;
	if (run_cmd(argv, &out, &e) == 0) {
		if (out.status == 0 && out.out[0] != '\0') {
			out.out[strcspn(out.out, "\n")] = '\0';
			v = xstrdup(out.out);
		}
		run_output_free(&out);
	}
	free(prog);
	return v;
}

static int write_postfix(struct ctx *c)
{
	char path[PATH_MAX];
	char *compat = postfix_compat();
	struct text t;

	text_open(&t);
	fputs("# The sandbox's Postfix configuration (read with postconf -c;\n"
	      "# no Postfix daemon runs from it: bin/deliver plays local(8)\n"
	      "# and follows mail_spool_directory and home_mailbox here).\n",
	      t.f);
	if (compat != NULL)
		fprintf(t.f, "compatibility_level = %s\n", compat);
	fprintf(t.f, "myhostname = %s\nmydestination = $myhostname, "
		"localhost\ninet_interfaces = loopback-only\n"
		"mailbox_command =\nmail_spool_directory = %s/spool\n", HOST,
		c->dir);
	free(compat);
	if (put_text(c, pathf(path, sizeof(path), "%s/postfix/main.cf",
			      c->dir), &t, 0644, false) < 0)
		return -1;
	return put_file(c, pathf(path, sizeof(path), "%s/postfix/master.cf",
				 c->dir), master_cf, sizeof(master_cf) - 1,
			0644, false);
}

/* ---- UW under xinetd ---- */

static const char xinetd_imap[] =
	"# default: on\n"
	"# description: The IMAP service allows remote users to access "
	"their mail using\n"
	"#              an IMAP client such as Mutt, Pine, fetchmail, or "
	"Netscape\n"
	"#              Communicator.\n"
	"service imap\n"
	"{\n"
	"\tsocket_type\t\t= stream\n"
	"\twait\t\t\t= no\n"
	"\tuser\t\t\t= root\n"
	"\tserver\t\t\t= /usr/sbin/imapd\n"
	"\tlog_on_success\t+= HOST DURATION\n"
	"\tlog_on_failure\t+= HOST\n"
	"\tdisable\t\t\t= no\n"
	"}\n";

/* ---- mbox2dovecot.conf ---- */

static int write_config(struct ctx *c, const struct sandbox_info *info,
			const char *dovecot, const char *doveconf,
			const char *doveadm)
{
	const char *d = c->dir;
	char path[PATH_MAX];
	struct text t;

	text_open(&t);
	fprintf(t.f,
		"# mbox2dovecot.conf of the sandbox %s, written by\n"
		"# \"mbox2dovecot sandbox\": every path and command points\n"
		"# into the sandbox; nothing outside it is read or changed.\n"
		"#   mbox2dovecot --config %s/mbox2dovecot.conf   (the wizard)\n"
		"#   mbox2dovecot sandbox --stop %s          (stop it all)\n"
		"\n"
		"# the UW-IMAP server: INBOXes in the spool, folders in homes\n"
		"spool_dir     = \"%s/spool\"\n"
		"homes_dir     = \"%s/home\"\n"
		"folder_roots  = {\"~/mail\", \"~\"}\n"
		"source_tz     = \"UTC\"\n"
		"# the users are not in /etc/passwd but in the sandbox's\n"
		"# own (accounts_root below), all with this UID: users come\n"
		"# from a passwd, never from the names in spool_dir\n"
		"uid_min       = %u\n"
		"uid_max       = %u\n"
		"owner         = \"%u:%u\"\n"
		"\n"
		"# the migration\n"
		"target_base   = \"%s/target\"\n"
		"target_layout = \"%%u\"\n"
		"work_dir      = \"%s/work\"\n"
		"jobs          = 2\n"
		"test_user_count = 2\n"
		"\n",
		d, d, d, d, d, (unsigned int)c->uid, (unsigned int)c->uid,
		(unsigned int)c->uid, (unsigned int)c->gid, d, d);
	fprintf(t.f,
		"# the private Dovecot (%s)\n"
		"dovecot_config    = \"%s/dovecot/dovecot.conf\"\n"
		"dovecot_command   = \"%s -c %s/dovecot/dovecot.conf\"\n"
		"doveconf_command  = \"%s\"\n"
		"doveadm_command   = \"%s -c %s/dovecot/dovecot.conf\"\n"
		"dovecot_log_path  = \"%s/log/dovecot.log\"\n"
		"test_address      = \"127.0.0.1\"\n"
		"test_port         = %u\n"
		"imap_address      = \"127.0.0.1\"\n"
		"imap_port         = %u\n"
		"imaps_port        = 0\n"
		"imap_test_password = \"%s\"\n"
		"\n",
		info->dovecot ? info->dovecot_version :
		"not installed: install dovecot-core and dovecot-imapd and "
		"run \"mbox2dovecot sandbox\" again",
		d, dovecot, d, doveconf, doveadm, d, d, info->test_port,
		info->imap_port, info->password);
	fprintf(t.f,
		"# the Postfix config dir (no Postfix daemon: bin/postfix\n"
		"# and bin/deliver play it, see their comments)\n"
		"postfix_config_dir = \"%s/postfix\"\n"
		"postfix_command   = \"%s/bin/postfix\"\n"
		"postqueue_command = \"%s/bin/postqueue\"\n"
		"postfix_reload_command = \"%s/bin/postfix -c %s/postfix "
		"reload\"\n"
		"postfix_flush_command = \"%s/bin/postqueue -c %s/postfix -f\"\n"
		"postfix_delivery  = \"spool\"\n"
		"test_delivery_command = \"%s/bin/deliver %%u\"\n"
		"\n",
		d, d, d, d, d, d, d, d);
	fprintf(t.f,
		"# the services (no init system here: every command given)\n"
		"services_root = \"%s/root\"\n"
		"service dovecot {\n"
		"  start   = \"%s/bin/dovecot-start\"\n"
		"  stop    = \"%s -c %s/dovecot/dovecot.conf stop\"\n"
		"  reload  = \"%s -c %s/dovecot/dovecot.conf reload\"\n"
		"  enable  = \"%s/bin/service dovecot enable\"\n"
		"  disable = \"%s/bin/service dovecot disable\"\n"
		"  status  = \"%s/bin/dovecot-status\"\n"
		"  # the port moves from test_port to imap_port at step 17:\n"
		"  # the master process is the better witness\n"
		"  probe   = \"command:%s/bin/dovecot-status\"\n"
		"}\n"
		"service postfix {\n"
		"  start   = \"%s/bin/postfix start\"\n"
		"  stop    = \"%s/bin/postfix stop\"\n"
		"  reload  = \"%s/bin/postfix reload\"\n"
		"  enable  = \"%s/bin/service postfix enable\"\n"
		"  disable = \"%s/bin/service postfix disable\"\n"
		"  status  = \"%s/bin/postfix status\"\n"
		"  probe   = \"command:%s/bin/postfix status\"\n"
		"}\n"
		"# UW-IMAP under xinetd: %s/root/etc/xinetd.d/imap is\n"
		"# edited (disable = yes/no), then xinetd reloaded\n"
		"service uw-imap {\n"
		"  reload  = \"%s/bin/xinetd reload\"\n"
		"  status  = \"%s/bin/xinetd status\"\n"
		"  probe   = \"tcp:127.0.0.1:%u\"\n"
		"}\n"
		"\n"
		"# accounts (step 6): /etc/skel and passwd below services_root\n"
		"skel_dir      = \"%s/root/etc/skel\"\n"
		"accounts_root = \"%s/root\"\n",
		d, d, dovecot, d, dovecot, d, d, d, d, d, d, d, d, d,
		d, d, d, d, d, d, info->uw_port, d, d);
	if (put_text(c, pathf(path, sizeof(path), "%s/mbox2dovecot.conf", d),
		     &t, 0644, false) < 0)
		return -1;
	return 0;
}

/* ---- checks before writing ---- */

/* A path the configs can carry as a bare word: absolute, no blanks,
 * quotes, or characters Dovecot or libconfuse treat specially. */
static bool dir_usable(const char *dir)
{
	if (dir[0] != '/')
		return false;
	for (const char *p = dir; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || strchr("\"'#{}$%<\\@", *p) ||
		    (unsigned char)*p < 0x20)
			return false;
	return strlen(dir) < 200;
}

int sandbox_is_ours(const char *dir, bool *empty_r, struct m2d_error *err)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(dir);

	if (empty_r != NULL)
		*empty_r = true;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return m2d_error_sys(err, "opendir", dir);
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	if (empty_r != NULL)
		*empty_r = empty;
	pathf(path, sizeof(path), "%s/%s", dir, SANDBOX_MARKER);
	return access(path, F_OK) == 0 ? 1 : 0;
}

/* Dovecot's auth process runs as "dovecot": as root, every directory on
 * the way to DIR must be searchable by others. */
static int check_traversable(const char *dir, struct m2d_error *err)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	snprintf(path, sizeof(path), "%s", dir);
	while ((slash = strrchr(path, '/')) != NULL) {
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(path, &st) == 0 && (st.st_mode & 0001) == 0)
			return m2d_error_set(err, M2D_ERR_USAGE, path,
					     _("not searchable by other users: "
					       "Dovecot's processes could not "
					       "reach the sandbox (chmod o+x "
					       "it, or choose another "
					       "directory)"));
		if (slash == path)
			break;
	}
	return 0;
}

/* rm -rf DIR's content, not following symlinks. */
static int remove_tree_at(int dfd, struct m2d_error *err, const char *top)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (d == NULL) {
		close(dfd);
		return m2d_error_sys(err, "fdopendir", top);
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			ret = m2d_error_sys(err, "fstatat", de->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY |
					 O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				ret = m2d_error_sys(err, "openat", de->d_name);
			else
				ret = remove_tree_at(sub, err, de->d_name);
			if (ret == 0 && unlinkat(dirfd(d), de->d_name,
						 AT_REMOVEDIR) < 0)
				ret = m2d_error_sys(err, "rmdir", de->d_name);
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			ret = m2d_error_sys(err, "unlink", de->d_name);
		}
	}
	closedir(d);
	return ret;
}

/* ---- stop ---- */

/* The pid in PIDFILE when /proc/PID/cmdline contains NEEDLE, else 0. */
static pid_t pid_if_ours(const char *pidfile, const char *needle)
{
	char buf[4096], path[64];
	long pid;
	ssize_t n;
	int fd;
	FILE *f = fopen(pidfile, "re");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, needle) != NULL ? (pid_t)pid : 0;
}

/* PID exists and is not a zombie (an init that is slow to reap, as in
 * some containers, leaves our daemons' masters as zombies a while). */
static bool alive(pid_t pid)
{
	char path[64], buf[256], *paren;
	ssize_t n;
	int fd;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* "PID (COMM) STATE ..." */
	paren = strrchr(buf, ')');
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

/* SIGTERM, wait, SIGKILL.  1 when it was running. */
static int end_process(pid_t pid)
{
	if (pid <= 0 || kill(pid, SIGTERM) < 0)
		return 0;
	for (int i = 0; i < STOP_WAIT * 10; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		/* our own child (a test) would stay a zombie: reap it */
		(void)waitpid(pid, NULL, WNOHANG);
		if (!alive(pid))
			return 1;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, WNOHANG);
	return 1;
}

int sandbox_stop(const char *dir, int *stopped_r, struct m2d_error *err)
{
	char pidfile[PATH_MAX], needle[PATH_MAX + 32], path[PATH_MAX];
	int stopped = 0;

	if (stopped_r != NULL)
		*stopped_r = 0;
	if (sandbox_is_ours(dir, NULL, err) != 1)
		return m2d_error_set(err, M2D_ERR_USAGE, dir,
				     _("not a sandbox of mbox2dovecot (no %s "
				       "in it)"), SANDBOX_MARKER);
	/* Dovecot: its master, started with this sandbox's config */
	pathf(pidfile, sizeof(pidfile), "%s/run/dovecot/master.pid", dir);
	pathf(needle, sizeof(needle), "%s/dovecot/dovecot.conf", dir);
	stopped += end_process(pid_if_ours(pidfile, needle));
	/* the UW stand-in */
	pathf(pidfile, sizeof(pidfile), "%s/run/uw-imap.pid", dir);
	stopped += end_process(pid_if_ours(pidfile, pidfile));
	unlink(pidfile);
	/* the sandbox's "Postfix" is a mark, not a process */
	unlink(pathf(path, sizeof(path), "%s/run/postfix.running", dir));
	if (stopped_r != NULL)
		*stopped_r = stopped;
	return 0;
}

/* ---- create ---- */

void sandbox_opts_init(struct sandbox_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->seed = 1;
	opts->users = 5;
	opts->start = true;
}

void sandbox_info_free(struct sandbox_info *info)
{
	free(info->dir);
	for (int i = 0; i < SANDBOX_MAX_USERS; i++)
		free(info->user_names[i]);
	free(info->password);
	free(info->dovecot_version);
	free(info->config);
	memset(info, 0, sizeof(*info));
}

/* Runs the command line CMD (split at spaces); 0 when it exited 0, else
 * -1 with what it said. */
static int run_line(const char *cmd, struct m2d_error *err)
{
	char **argv = run_cmd_argv(cmd, NULL);
	struct run_output out;
	int ret;

	ret = run_cmd(argv, &out, err);
	free(argv);
	if (ret < 0)
		return -1;
	if (out.status != 0) {
		const char *say = out.err[0] != '\0' ? out.err : out.out;

		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("\"%s\" failed (exit %d): %.300s"), cmd,
			      out.status, say);
		ret = -1;
	}
	run_output_free(&out);
	return ret;
}

static int make_tree(struct ctx *c)
{
	static const struct {
		const char *rel;
		mode_t mode;
		bool own;
	} dirs[] = {
		{ "spool", 0755, true },	/* deliver writes USER.lock */
		{ "home", 0755, false },
		{ "target", 0755, false },	/* /data/mail2: root's */
		{ "dovecot", 0755, false },
		{ "dovecot/conf.d", 0755, false },
		{ "postfix", 0755, false },
		{ "bin", 0755, false },
		{ "run", 0755, false },
		{ "state", 0755, false },
		{ "log", 0755, false },
		{ "queue", 0700, false },
		{ "root", 0755, false },
		{ "root/etc", 0755, false },
		{ "root/etc/xinetd.d", 0755, false },
		{ "root/etc/skel", 0755, false },
		{ "root/bin", 0755, false },
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir_own(c, pathf(path, sizeof(path), "%s/%s", c->dir,
				       dirs[i].rel), dirs[i].mode,
			      dirs[i].own) < 0)
			return -1;
	return 0;
}

int sandbox_create(const struct sandbox_opts *opts,
		   struct sandbox_info *info_r, struct m2d_error *err)
{
	char path[PATH_MAX], *dovecot = NULL, *doveconf = NULL;
	char *doveadm = NULL;
	struct ctx c;
	struct gen g;
	bool empty;
	int ours, ret = -1;
	enum dc_syntax syntax = DC_SYNTAX_UNKNOWN;

	memset(info_r, 0, sizeof(*info_r));
	if (opts->dir == NULL || !dir_usable(opts->dir))
		return m2d_error_set(err, M2D_ERR_USAGE, opts->dir,
				     _("the sandbox needs an absolute path "
				       "without blanks, quotes or "
				       "'#{}$%%<\\@' (it goes into Dovecot's "
				       "and our configuration as it is)"));
	if (opts->users < 1 || opts->users > SANDBOX_MAX_USERS)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("the sandbox has 1 to %d users"),
				     SANDBOX_MAX_USERS);
	ours = sandbox_is_ours(opts->dir, &empty, err);
	if (ours < 0)
		return -1;
	if (ours == 0 && !empty)
		return m2d_error_set(err, M2D_ERR_EXISTS, opts->dir,
				     _("not empty, and not a sandbox of "
				       "mbox2dovecot: choose a new or empty "
				       "directory"));
	memset(&c, 0, sizeof(c));
	c.dir = opts->dir;
	c.err = err;
	c.root = geteuid() == 0;
	c.uid = c.root ? 65534 : getuid();
	c.gid = c.root ? 65534 : getgid();
	if (c.root && check_traversable(opts->dir, err) < 0)
		return -1;
	if (ours == 1) {
		int fd;

		/* ours: stop it and build it again from scratch */
		if (sandbox_stop(opts->dir, NULL, err) < 0)
			return -1;
		fd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			  O_CLOEXEC);
		if (fd < 0)
			return m2d_error_sys(err, "open", opts->dir);
		if (remove_tree_at(fd, err, opts->dir) < 0)
			return -1;
	}
	if (mkdir(opts->dir, 0755) < 0 && errno != EEXIST)
		return m2d_error_sys(err, "mkdir", opts->dir);
	if (chmod(opts->dir, 0755) < 0)
		return m2d_error_sys(err, "chmod", opts->dir);
	/* the marker first: a half-built sandbox is still ours */
	if (put_file(&c, pathf(path, sizeof(path), "%s/%s", opts->dir,
			       SANDBOX_MARKER),
		     "mbox2dovecot sandbox\n", 21, 0644, false) < 0)
		return -1;

	info_r->dir = xstrdup(opts->dir);
	info_r->password = xstrdup(PASSWORD);
	info_r->config = xasprintf("%s/mbox2dovecot.conf", opts->dir);
	info_r->uid = c.uid;
	info_r->gid = c.gid;
	info_r->users = opts->users;
	for (int i = 0; i < opts->users; i++)
		info_r->user_names[i] = xstrdup(user_names[i]);
	info_r->test_port = sandbox_free_port();
	do
		info_r->imap_port = sandbox_free_port();
	while (info_r->imap_port == info_r->test_port &&
	       info_r->imap_port != 0);
	info_r->uw_port = info_r->imap_port;
	if (info_r->test_port == 0 || info_r->imap_port == 0) {
		m2d_error_sys(err, "bind", "127.0.0.1");
		goto out;
	}

	if (make_tree(&c) < 0)
		goto out;
	/* the spool */
	memset(&g, 0, sizeof(g));
	g.rng = opts->seed;
	for (int i = 0; i < opts->users; i++)
		if (gen_user(&c, &g, i) < 0)
			goto out;
	info_r->folders = g.folders;
	info_r->messages = g.messages;

	/* Dovecot, when installed */
	dovecot = find_program(opts->dovecot != NULL ? opts->dovecot :
			       "dovecot");
	doveconf = find_program("doveconf");
	doveadm = find_program("doveadm");
	if (dovecot != NULL) {
		struct dc_tools tools = { dovecot, doveconf };
		struct dc_version v;
		struct m2d_error e;

		if (dc_detect_version(&tools, &v, &e) == 0)
			syntax = dc_syntax_for(&v);
		if (syntax == DC_SYNTAX_2 || syntax == DC_SYNTAX_2_4) {
			info_r->dovecot = true;
			info_r->dovecot_version = xasprintf("%u.%u.%u",
							    v.major, v.minor,
							    v.patch);

		}
	}
	c.dovecot = dovecot != NULL ? dovecot : "dovecot";
	if (info_r->dovecot) {
		if (write_dovecot(&c, syntax, info_r->imap_port, err) < 0 ||
		    write_passwd(&c, opts->users, "dovecot/passwd", NULL,
				 0644) < 0)
			goto out;
	}
	/* accounts: passwd below services_root (usermod -P) */
	if (write_passwd(&c, opts->users, "root/etc/passwd", "/bin/bash",
			 0644) < 0)
		goto out;
	/* bin/deliver logs as the mail owner */
	if (put_file(&c, pathf(path, sizeof(path), "%s/log/deliver.log",
			       c.dir), "", 0, 0644, true) < 0)
		goto out;
	if (write_postfix(&c) < 0 ||
	    put_file(&c, pathf(path, sizeof(path),
			       "%s/root/etc/xinetd.d/imap", c.dir),
		     xinetd_imap, sizeof(xinetd_imap) - 1, 0644, false) < 0)
		goto out;
	if (put_script(&c, "deliver", script_deliver, opts->program,
		       info_r->uw_port) < 0 ||
	    put_script(&c, "postqueue", script_postqueue, opts->program,
		       info_r->uw_port) < 0 ||
	    put_script(&c, "postfix", script_postfix, opts->program,
		       info_r->uw_port) < 0 ||
	    put_script(&c, "xinetd", script_xinetd, opts->program,
		       info_r->uw_port) < 0 ||
	    put_script(&c, "dovecot-status", script_dovecot_status,
		       opts->program, info_r->uw_port) < 0 ||
	    put_script(&c, "service", script_service, opts->program,
		       info_r->uw_port) < 0 ||
	    put_script(&c, "dovecot-start", script_dovecot_start,
		       opts->program, info_r->uw_port) < 0)
		goto out;
	if (write_config(&c, info_r, dovecot != NULL ? dovecot : "dovecot",
			 doveconf != NULL ? doveconf : "doveconf",
			 doveadm != NULL ? doveadm : "doveadm") < 0)
		goto out;

	if (opts->start) {
		char cmd[PATH_MAX * 2];

		/* the old server runs: UW (under xinetd), Postfix */
		if (opts->program != NULL) {
			if (run_line(pathf(cmd, sizeof(cmd),
					   "%s/bin/xinetd reload", c.dir),
				     err) < 0)
				goto out;
			info_r->uw_started = true;
		}
		if (run_line(pathf(cmd, sizeof(cmd), "%s/bin/postfix start",
				   c.dir), err) < 0)
			goto out;
		/* Dovecot is installed and running, without IMAP listener
		 * until the runbook gives it one */
		if (info_r->dovecot) {
			if (run_line(pathf(cmd, sizeof(cmd),
					   "%s/bin/dovecot-start", c.dir),
				     err) < 0)
				goto out;
			info_r->dovecot_started = true;
		}
	}
	ret = 0;
out:
	free(dovecot);
	free(doveconf);
	free(doveadm);
	if (ret < 0) {
		struct m2d_error ignore;

		if (info_r->dir != NULL)
			(void)sandbox_stop(info_r->dir, NULL, &ignore);
		sandbox_info_free(info_r);
	}
	return ret;
}

/* ---- the UW-IMAP stand-in ---- */

int sandbox_uw_listen(unsigned int port, struct m2d_error *err)
{
	struct sockaddr_in sa;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return m2d_error_sys(err, "socket", NULL);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (port == 0 || port > 65535 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		m2d_error_sys(err, "bind", "127.0.0.1");
		close(fd);
		return -1;
	}
	return fd;
}

int sandbox_uw_serve(int fd, struct m2d_error *err)
{
	static const char greeting[] =
		"* OK [CAPABILITY IMAP4rev1] mbox2dovecot sandbox: stand-in "
		"for UW-IMAP (xinetd imap); it serves no mail\r\n"
		"* BYE the sandbox's UW-IMAP only holds its port\r\n";

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int cfd = accept(fd, NULL, NULL);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return m2d_error_sys(err, "accept", NULL);
		}
		(void)write_all(cfd, greeting, sizeof(greeting) - 1);
		close(cfd);
	}
}
