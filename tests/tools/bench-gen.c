/* SPDX-License-Identifier: MIT */
/* bench-gen.c - write a seeded, realistic UW-IMAP mbox for the benchmark
 *
 *   bench-gen [--seed N] [--mb N] [--messages N] [--huge-mb N]
 *             [--stats FILE] OUT
 *
 * OUT gets one mbox as UW-IMAP leaves it: first the folder-internal
 * pseudo-message (X-IMAP: uidvalidity uidlast keywords, Status: RO), then
 * MESSAGES real messages, each after a ctime-style From_ line
 * ("From user12@example.org Tue Nov  9 10:11:12 2004"), with realistic
 * headers, UW's Status / X-Status / X-Keywords (padded) / X-UID at the end
 * of the header, and the empty line the mbox adds after each message.
 *
 * Sizes (whole message, From_ line included) are log-normal with a median
 * near 3 KiB; about one message in 4000 (at least one when the spool is
 * 16 MiB or more) is a 1-8 MiB multipart message with a base64 attachment,
 * and --huge-mb adds one message of that many MiB.  The sizes are scaled so
 * that the file comes out near MB MiB.  Body lines that begin with "From "
 * are written quoted (">From "), as UW and Postfix do; about one message in
 * 1000 has an unquoted "From " line whose date does not parse (written by
 * some other MDA: body text for UW, a false split for a naive splitter).
 *
 * The same seed and parameters always give the same bytes.  --stats FILE
 * gets shell-readable lines: messages=, bytes=, median=, largest=, big=,
 * quoted_from=, bare_from=.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define OUTBUF (1 << 20)

static char outbuf[OUTBUF];
static size_t outlen;
static int outfd = -1;
static unsigned long long written;
static const char *outpath;

static void die(const char *what)
{
	fprintf(stderr, "bench-gen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void flush_out(void)
{
	size_t off = 0;

	while (off < outlen) {
		ssize_t n = write(outfd, outbuf + off, outlen - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(outpath);
		}
		off += (size_t)n;
	}
	outlen = 0;
}

static void put(const char *s, size_t len)
{
	written += len;
	while (len > 0) {
		size_t room = OUTBUF - outlen;
		size_t n = len < room ? len : room;

		memcpy(outbuf + outlen, s, n);
		outlen += n;
		s += n;
		len -= n;
		if (outlen == OUTBUF)
			flush_out();
	}
}

static void puts_(const char *s)
{
	put(s, strlen(s));
}

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void putf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	put(buf, (size_t)n);
}

/* xoshiro256** seeded through splitmix64 */
static uint64_t rs[4];

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void seed_rng(uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rs[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9;
	uint64_t t = rs[1] << 17;

	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

/* uniform in [0, n) (n small; the bias is irrelevant here) */
static unsigned rndn(unsigned n)
{
	return (unsigned)((rnd() >> 32) % n);
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * No libm: the tools link only with the core library and its libraries.
 * A standard normal from the sum of 12 uniforms (Irwin-Hall; tails cut at
 * +-6 sigma, plenty here), and small exp / log / sqrt good to ~1e-12.
 */
static double rnd_normal(void)
{
	double s = 0;

	for (int i = 0; i < 12; i++)
		s += rnd01();
	return s - 6.0;
}

#define LN2 0.69314718055994530942

static double xexp(double x)
{
	int k = 0;
	double term = 1, sum = 1, p2 = 1;

	while (x > LN2 / 2) {
		x -= LN2;
		k++;
	}
	while (x < -LN2 / 2) {
		x += LN2;
		k--;
	}
	for (int i = 1; i < 20; i++) {
		term *= x / i;
		sum += term;
	}
	for (; k > 0; k--)
		p2 *= 2;
	for (; k < 0; k++)
		p2 /= 2;
	return sum * p2;
}

static double xlog(double x)
{
	int k = 0;
	double y, y2, term, sum = 0;

	if (x <= 0)
		return -1e300;
	while (x > 1.5) {
		x /= 2;
		k++;
	}
	while (x < 0.75) {
		x *= 2;
		k--;
	}
	y = (x - 1) / (x + 1);	/* log x = 2 atanh y */
	y2 = y * y;
	term = y;
	for (int i = 1; i < 60; i += 2) {
		sum += term / i;
		term *= y2;
	}
	return 2 * sum + k * LN2;
}

static double xsqrt(double x)
{
	double r = x > 1 ? x : 1;

	if (x <= 0)
		return 0;
	for (int i = 0; i < 200; i++) {
		double n = (r + x / r) / 2;

		if (n == r)
			break;
		r = n;
	}
	return r;
}

static const char *const words[] = {
	"the", "of", "and", "to", "a", "in", "is", "that", "for", "it",
	"as", "was", "with", "be", "by", "on", "not", "he", "this", "are",
	"or", "his", "from", "at", "which", "but", "have", "an", "had",
	"they", "you", "were", "their", "one", "all", "we", "can", "her",
	"has", "there", "been", "if", "more", "when", "will", "would", "who",
	"so", "no", "meeting", "report", "server", "quota", "mailbox",
	"tomorrow", "attached", "please", "thanks", "regards", "project",
	"budget", "schedule", "review", "draft", "version", "update",
	"question", "invoice", "conference", "department", "students",
	"semester", "deadline", "results", "proposal", "committee", "office",
	"printer", "network", "password", "account", "backup", "migration",
	"Dovecot", "IMAP", "Pine", "folder", "message", "weekend", "lunch",
	"colleagues", "university", "library", "seminar", "grant", "paper",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const first_names[] = {
	"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi",
	"Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert",
	"Sybil", "Trent", "Victor", "Walter", "Zoe",
};
static const char *const last_names[] = {
	"Smith", "Jones", "Miller", "Garcia", "Nguyen", "Schmidt", "Rossi",
	"Dubois", "Kowalski", "Tanaka", "Okafor", "Larsen", "Novak", "Silva",
};
static const char *const domains[] = {
	"example.org", "example.com", "example.net", "cs.example.edu",
	"lists.example.org", "mail.example.co.uk",
};
static const char *const keywords[] = {
	"$Label1", "$Label2", "Junk", "NonJunk", "todo", "$Forwarded",
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Lines of text (about 60-72 columns) until about LEN bytes are written. */
static unsigned long long n_quoted, n_bare;

static void put_text(long long len, int allow_from)
{
	char line[128];

	while (len > 0) {
		size_t n = 0;
		size_t width = 58 + rndn(15);
		unsigned r = rndn(2000);

		if (allow_from && r == 0) {
			/* mboxo: UW and Postfix quote a body "From " line */
			memcpy(line, ">From ", 6);
			n = 6;
			n_quoted++;
		} else if (r < 80) {
			memcpy(line, "> ", 2);
			n = 2;
		}
		if ((size_t)len < width)
			width = (size_t)len > n + 2 ? (size_t)len : n + 2;
		while (n < width) {
			const char *w = words[rndn(NWORDS)];
			size_t wl = strlen(w);

			if (n + wl + 1 > sizeof(line) - 2)
				break;
			if (n > 0 && line[n - 1] != ' ')
				line[n++] = ' ';
			memcpy(line + n, w, wl);
			n += wl;
		}
		if (rndn(8) == 0)
			line[n++] = '.';
		line[n++] = '\n';
		if (rndn(12) == 0)
			line[n++] = '\n';
		put(line, n);
		len -= (long long)n;
	}
}

/* Base64-looking lines of 76 columns, about LEN bytes. */
static void put_base64(long long len)
{
	char line[77];

	while (len > 0) {
		size_t w = len >= 77 ? 76 : (size_t)(len > 5 ? len - 1 : 4);

		for (size_t i = 0; i < w; i += 10) {
			uint64_t r = rnd();

			for (size_t j = i; j < w && j < i + 10; j++) {
				line[j] = b64[r & 63];
				r >>= 6;
			}
		}
		line[w] = '\n';
		put(line, w + 1);
		len -= (long long)(w + 1);
	}
}

static void ctime_date(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%a %b %e %H:%M:%S %Y", &tm);
}

static void rfc822_date(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%a, %e %b %Y %H:%M:%S +0000", &tm);
}

static void write_pseudo(time_t t, unsigned long uidlast)
{
	char date[64];

	ctime_date(t, date, sizeof(date));
	putf("From MAILER-DAEMON %s\n", date);
	rfc822_date(t, date, sizeof(date));
	putf("Date: %s\n", date);
	puts_("From: Mail System Internal Data <MAILER-DAEMON@mail.example.org>\n"
	      "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n");
	putf("Message-ID: <%lu@mail.example.org>\n", (unsigned long)t);
	putf("X-IMAP: %010lu %010lu", (unsigned long)t, uidlast);
	for (size_t i = 0; i < NKEYWORDS; i++)
		putf(" %s", keywords[i]);
	puts_("\nStatus: RO\n\n"
	      "This text is part of the internal format of your mail folder, and is not\n"
	      "a real message.  It is created automatically by the mail system software.\n"
	      "If deleted, important folder data will be lost, and it will be re-created\n"
	      "with the data reset to initial values.\n\n");
}

struct msg_plan {
	long long size;		/* whole message, From_ line included */
	int big;		/* multipart with a base64 attachment */
};

static void write_message(unsigned long uid, time_t t, const struct msg_plan *p)
{
	unsigned long long start = written;
	char date[64];
	const char *fn = first_names[rndn(sizeof(first_names) / sizeof(*first_names))];
	const char *ln = last_names[rndn(sizeof(last_names) / sizeof(*last_names))];
	const char *dom = domains[rndn(sizeof(domains) / sizeof(*domains))];
	unsigned sender = rndn(500);
	int multipart = p->big || (p->size > 24 * 1024 && rndn(3) != 0);
	int nreceived = 1 + (int)rndn(4);
	unsigned r;
	long long body;

	ctime_date(t, date, sizeof(date));
	putf("From user%u@%s %s\n", sender, dom, date);
	putf("Return-Path: <user%u@%s>\n", sender, dom);
	for (int i = 0; i < nreceived; i++) {
		/* one random number per statement: the same bytes from every
		 * compiler (argument order is unspecified) */
		unsigned host = 1 + rndn(254);
		unsigned long long qid = rnd() & 0xffffffffffULL;

		rfc822_date(t - 2 * i, date, sizeof(date));
		putf("Received: from relay%d.%s (relay%d.%s [192.0.2.%u])\n"
		     "\tby mail.example.org (Postfix) with ESMTP id %010llX\n"
		     "\tfor <me@example.org>; %s\n",
		     i, dom, i, dom, host, qid, date);
	}
	rfc822_date(t - 5, date, sizeof(date));
	putf("Date: %s\n", date);
	putf("From: %s %s <user%u@%s>\n", fn, ln, sender, dom);
	puts_("To: Me Myself <me@example.org>\n");
	if (rndn(4) == 0)
		puts_("Cc: team@lists.example.org\n");
	{
		const char *re = rndn(3) == 0 ? "Re: " : "";
		const char *w1 = words[rndn(NWORDS)];
		const char *w2 = words[rndn(NWORDS)];
		const char *w3 = words[rndn(NWORDS)];

		putf("Subject: %s%s %s %s (%lu)\n", re, w1, w2, w3, uid);
	}
	putf("Message-ID: <%lu.%08llx@%s>\n", (unsigned long)t,
	     (unsigned long long)(rnd() & 0xffffffffULL), dom);
	if (rndn(3) == 0)
		putf("In-Reply-To: <%lu.%08llx@example.org>\n",
		     (unsigned long)t - 3600,
		     (unsigned long long)(rnd() & 0xffffffffULL));
	puts_("MIME-Version: 1.0\n");
	if (multipart)
		putf("Content-Type: multipart/mixed; boundary=\"=_bench_%lu\"\n",
		     uid);
	else
		puts_("Content-Type: text/plain; charset=us-ascii\n");
	if (rndn(2) == 0)
		puts_("X-Mailer: Pine 4.64 (LNX 2005 05 06)\n");
	/* UW's own headers, as unix_write_message puts them: last */
	r = rndn(100);
	if (r < 80)
		puts_("Status: RO\n");
	else if (r < 88)
		puts_("Status: O\n");
	else if (r < 90)
		puts_("Status: R\n");
	/* else: no Status at all: a new (\Recent) message */
	r = rndn(100);
	if (r < 25 || r >= 97) {
		char xs[8];
		size_t n = 0;

		if (r < 2 || r >= 99)
			xs[n++] = 'D';
		if (r < 6)
			xs[n++] = 'F';
		if (r < 20)
			xs[n++] = 'A';
		if (r == 97)
			xs[n++] = 'T';
		xs[n] = '\0';
		putf("X-Status: %s\n", xs);
	} else {
		puts_("X-Status: \n");
	}
	{
		char kw[128];
		size_t n = 0;

		if (rndn(10) == 0)
			n += (size_t)snprintf(kw + n, sizeof(kw) - n, " %s",
					      keywords[rndn(NKEYWORDS)]);
		if (rndn(40) == 0)
			n += (size_t)snprintf(kw + n, sizeof(kw) - n, " %s",
					      keywords[rndn(NKEYWORDS)]);
		while (n < 18)	/* UW pads so flags can change in place */
			kw[n++] = ' ';
		kw[n] = '\0';
		putf("X-Keywords:%s\n", kw);
	}
	putf("X-UID: %lu\n\n", uid);

	body = p->size - (long long)(written - start) - 1;
	if (!multipart) {
		if (rndn(1000) == 0) {
			/* an unquoted "From " line whose date does not parse
			 * (another MDA delivered it): body text for UW */
			puts_("From the desk of the department office:\n");
			n_bare++;
			body -= 40;
		}
		put_text(body > 40 ? body : 40, 1);
	} else {
		long long text = body / 20 + 200;
		long long att;

		putf("This is a multi-part message in MIME format.\n\n"
		     "--=_bench_%lu\n"
		     "Content-Type: text/plain; charset=us-ascii\n\n", uid);
		if (text > 8000)
			text = 2000 + rndn(6000);
		put_text(text, 1);
		putf("\n--=_bench_%lu\n"
		     "Content-Type: application/pdf; name=\"report-%lu.pdf\"\n"
		     "Content-Transfer-Encoding: base64\n"
		     "Content-Disposition: attachment; filename=\"report-%lu.pdf\"\n\n",
		     uid, uid, uid);
		att = p->size - (long long)(written - start) - 40;
		put_base64(att > 76 ? att : 76);
		putf("\n--=_bench_%lu--\n", uid);
	}
	puts_("\n");	/* the empty line the mbox adds after a message */
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-gen [--seed N] [--mb N] [--messages N] "
		"[--huge-mb N] [--stats FILE] OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long seed = 1;
	double mb = 200, huge_mb = 0;
	unsigned long nmsg = 40000;
	const char *stats = NULL;
	struct msg_plan *plan;
	long long *sizes, total, budget, sum = 0, largest = 0;
	unsigned long nbig = 0, i;
	double median = 3072, sigma, mean;
	time_t t0 = 1072915200;	/* Thu Jan  1 00:00:00 2004 UTC */
	time_t t;
	int a;

	for (a = 1; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
		if (a + 1 >= argc)
			usage();
		if (!strcmp(argv[a], "--seed"))
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--mb"))
			mb = strtod(argv[++a], NULL);
		else if (!strcmp(argv[a], "--messages"))
			nmsg = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--huge-mb"))
			huge_mb = strtod(argv[++a], NULL);
		else if (!strcmp(argv[a], "--stats"))
			stats = argv[++a];
		else
			usage();
	}
	if (a + 1 != argc || mb <= 0 || nmsg == 0 || huge_mb < 0)
		usage();
	outpath = argv[a];
	seed_rng(seed);

	total = (long long)(mb * MIB);
	plan = calloc(nmsg, sizeof(*plan));
	sizes = calloc(nmsg, sizeof(*sizes));
	if (plan == NULL || sizes == NULL)
		die("calloc");

	/* a few multi-MiB attachments */
	if (nmsg >= 2 && total >= 16 * MIB) {
		nbig = nmsg / 4000 > 0 ? nmsg / 4000 : 1;
		while (nbig > 0 && nbig * 4.5 * MIB > total / 4)
			nbig--;
		if (nbig == 0)
			nbig = 1;
	}
	budget = total - 600;	/* the pseudo-message */
	for (i = 0; i < nbig; i++) {
		unsigned long k;

		do
			k = rndn((unsigned)nmsg);
		while (plan[k].big);
		plan[k].big = 1;
		plan[k].size = (long long)(xexp(xlog(MIB) + rnd01() * xlog(8.0)) );
		if (plan[k].size > total / 8)
			plan[k].size = total / 8;
		budget -= plan[k].size;
	}
	if (huge_mb > 0 && nmsg >= 2) {
		unsigned long k;

		do
			k = rndn((unsigned)nmsg);
		while (plan[k].big);
		plan[k].big = 1;
		plan[k].size = (long long)(huge_mb * MIB);
		budget -= plan[k].size;
		nbig++;
	}
	if (budget < (long long)(nmsg - nbig) * 900) {
		fprintf(stderr, "bench-gen: %g MiB is too small for %lu messages\n",
			mb, nmsg);
		return 2;
	}

	/* the rest: log-normal, median 3 KiB, mean to fill the budget */
	mean = (double)budget / (double)(nmsg - nbig);
	if (mean > median * 1.05) {
		sigma = xsqrt(2.0 * xlog(mean / median));
		if (sigma > 1.6)
			sigma = 1.6;
	} else {
		sigma = 0.3;
		median = mean / xexp(sigma * sigma / 2);
	}
	for (i = 0; i < nmsg; i++) {
		double s;

		if (plan[i].big)
			continue;
		s = median * xexp(sigma * rnd_normal());
		if (s < 900)
			s = 900;
		if (s > 512 * 1024)
			s = 512 * 1024;
		plan[i].size = (long long)s;
		sum += plan[i].size;
	}
	for (i = 0; i < nmsg; i++)
		if (!plan[i].big) {
			plan[i].size = (long long)((double)plan[i].size *
						   (double)budget / (double)sum);
			if (plan[i].size < 700)
				plan[i].size = 700;
		}

	outfd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (outfd < 0)
		die(outpath);
	write_pseudo(t0, nmsg);
	t = t0;
	for (i = 0; i < nmsg; i++) {
		unsigned long long before = written;

		t += 1 + rndn(7200);
		write_message(i + 1, t, &plan[i]);
		sizes[i] = (long long)(written - before);
		if (sizes[i] > largest)
			largest = sizes[i];
	}
	flush_out();
	if (close(outfd) != 0)
		die(outpath);

	qsort(sizes, nmsg, sizeof(*sizes), cmp_ll);
	if (stats != NULL) {
		FILE *f = fopen(stats, "w");

		if (f == NULL)
			die(stats);
		fprintf(f, "messages=%lu\nbytes=%llu\nmedian=%lld\n"
			"largest=%lld\nbig=%lu\nquoted_from=%llu\nbare_from=%llu\n",
			nmsg, written, sizes[nmsg / 2], largest, nbig,
			n_quoted, n_bare);
		if (fclose(f) != 0)
			die(stats);
	}
	free(sizes);
	free(plan);
	return 0;
}
