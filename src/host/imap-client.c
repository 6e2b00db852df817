/* SPDX-License-Identifier: MIT */
/* imap-client.c - a small careful IMAP4rev1 client (see imap-client.h) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "folder-names.h"
#include "i18n.h"
#include "imap-client.h"
#include "xalloc.h"

#define MAX_DEPTH 32			/* nested lists */
#define MAX_LINE (64 * 1024)		/* one line of a response */
#define MAX_RESPONSE (32 * 1024 * 1024)	/* a response, literals included */
#define MAX_NAME_UTF7 2048		/* a mailbox name, encoded */

/* ======================================================================
 * The response parser: pure, on a complete response in memory.
 * ====================================================================== */

struct parser {
	const char *p, *end;
	const char *error;
};

static void arg_free(struct imap_arg *arg)
{
	size_t i;

	free(arg->str);
	for (i = 0; i < arg->count; i++)
		arg_free(&arg->list[i]);
	free(arg->list);
	memset(arg, 0, sizeof(*arg));
}

static void args_free(struct imap_arg *args, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		arg_free(&args[i]);
	free(args);
}

void imap_resp_free(struct imap_resp *resp)
{
	free(resp->code);
	free(resp->text);
	args_free(resp->args, resp->count);
	memset(resp, 0, sizeof(*resp));
}

static bool at_eol(const struct parser *ps)
{
	return ps->p >= ps->end || *ps->p == '\r' || *ps->p == '\n';
}

/* The end of the response: CRLF or LF (or nothing) and no more bytes. */
static bool at_end(const struct parser *ps)
{
	const char *p = ps->p;

	if (p < ps->end && *p == '\r')
		p++;
	if (p < ps->end && *p == '\n')
		p++;
	return p == ps->end;
}

/* N bytes of S as they are (a literal may hold a NUL), NUL-ended. */
static char *dup_bytes(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int fail(struct parser *ps, const char *what)
{
	if (ps->error == NULL)
		ps->error = what;
	return -1;
}

/* atom-specials (RFC 3501) that end an atom here: SP ( ) " and CTL.
 * '[' ... ']' is taken whole, so that BODY[HEADER.FIELDS (A B)] is one. */
static bool atom_end(char c)
{
	return c == ' ' || c == '(' || c == ')' || c == '"' ||
	       (unsigned char)c < 0x20 || c == 0x7f;
}

static int parse_atom(struct parser *ps, struct imap_arg *arg)
{
	const char *start = ps->p;
	int depth = 0;

	while (ps->p < ps->end) {
		char c = *ps->p;

		if (c == '\r' || c == '\n' || c == '\0')
			break;
		if (depth == 0 && atom_end(c))
			break;
		if (c == '[')
			depth++;
		else if (c == ']' && depth > 0)
			depth--;
		ps->p++;
	}
	if (depth != 0)
		return fail(ps, "unbalanced '[' in an atom");
	if (ps->p == start)
		return fail(ps, "empty atom");
	arg->len = (size_t)(ps->p - start);
	if (arg->len == 3 && strncasecmp(start, "NIL", 3) == 0) {
		arg->type = IMAP_ARG_NIL;
		return 0;
	}
	arg->type = IMAP_ARG_ATOM;
	arg->str = dup_bytes(start, arg->len);
	return 0;
}

static int parse_quoted(struct parser *ps, struct imap_arg *arg)
{
	const char *p = ps->p + 1;
	char *out;
	size_t n = 0;

	/* the unescaped length is at most the span's */
	out = xmalloc((size_t)(ps->end - p) + 1);
	for (;;) {
		if (p >= ps->end || *p == '\r' || *p == '\n' || *p == '\0') {
			free(out);
			return fail(ps, "unterminated quoted string");
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			p++;
			if (p >= ps->end || (*p != '\\' && *p != '"')) {
				free(out);
				return fail(ps, "bad escape in a quoted "
					    "string");
			}
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
	ps->p = p + 1;
	arg->type = IMAP_ARG_STRING;
	arg->str = out;
	arg->len = n;
	return 0;
}

static int parse_literal(struct parser *ps, struct imap_arg *arg)
{
	const char *p = ps->p + 1;
	unsigned long long n = 0;
	bool digits = false;

	while (p < ps->end && *p >= '0' && *p <= '9') {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > MAX_RESPONSE)
			return fail(ps, "literal too large");
		digits = true;
		p++;
	}
	if (p < ps->end && *p == '+')
		p++;	/* LITERAL+ form; servers do not send it, accept it */
	if (!digits || p >= ps->end || *p != '}')
		return fail(ps, "bad literal size");
	p++;
	if (p < ps->end && *p == '\r')
		p++;
	if (p >= ps->end || *p != '\n')
		return fail(ps, "no line end after a literal's size");
	p++;
	if ((unsigned long long)(ps->end - p) < n)
		return fail(ps, "literal shorter than its size");
	arg->type = IMAP_ARG_STRING;
	arg->literal = true;
	arg->len = (size_t)n;
	arg->str = dup_bytes(p, (size_t)n);
	ps->p = p + n;
	return 0;
}

static int parse_args(struct parser *ps, int depth, struct imap_arg **args_r,
		      size_t *count_r);

static int parse_arg(struct parser *ps, int depth, struct imap_arg *arg)
{
	memset(arg, 0, sizeof(*arg));
	switch (*ps->p) {
	case '"':
		return parse_quoted(ps, arg);
	case '{':
		return parse_literal(ps, arg);
	case '(':
		if (depth >= MAX_DEPTH)
			return fail(ps, "lists nested too deep");
		ps->p++;
		arg->type = IMAP_ARG_LIST;
		if (parse_args(ps, depth + 1, &arg->list, &arg->count) < 0)
			return -1;
		if (ps->p >= ps->end || *ps->p != ')')
			return fail(ps, "unterminated list");
		ps->p++;
		return 0;
	case ')':
		return fail(ps, "unexpected ')'");
	default:
		return parse_atom(ps, arg);
	}
}

/* Arguments separated by spaces until ')' (in a list) or the line end. */
static int parse_args(struct parser *ps, int depth, struct imap_arg **args_r,
		      size_t *count_r)
{
	struct imap_arg *args = NULL;
	size_t count = 0, size = 0;

	for (;;) {
		while (ps->p < ps->end && *ps->p == ' ')
			ps->p++;
		if (at_eol(ps) || (depth > 0 && *ps->p == ')'))
			break;
		if (count == size) {
			size = size == 0 ? 4 : size * 2;
			args = xrealloc(args, size * sizeof(*args));
		}
		if (parse_arg(ps, depth, &args[count]) < 0) {
			/* what the failed one holds (an unterminated list) */
			arg_free(&args[count]);
			args_free(args, count);
			return -1;
		}
		count++;
		/* an argument ends at a space, ')' or the line end */
		if (!at_eol(ps) && *ps->p != ' ' && *ps->p != ')') {
			args_free(args, count);
			return fail(ps, "no space between arguments");
		}
	}
	*args_r = args;
	*count_r = count;
	return 0;
}

static const char *line_end(const char *p, const char *end)
{
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	return p;
}

/* A word up to a space or the line end, copied into BUF (upper case when
 * UPPER).  0, or -1 when empty or too long. */
static int take_word(struct parser *ps, char *buf, size_t size, bool upper)
{
	size_t n = 0;

	while (ps->p < ps->end && *ps->p != ' ' && !at_eol(ps)) {
		if (n + 1 >= size)
			return fail(ps, "word too long");
		buf[n++] = upper ? (char)toupper((unsigned char)*ps->p) :
				   *ps->p;
		ps->p++;
	}
	buf[n] = '\0';
	return n == 0 ? fail(ps, "missing word") : 0;
}

static bool is_status(const char *name)
{
	return strcmp(name, "OK") == 0 || strcmp(name, "NO") == 0 ||
	       strcmp(name, "BAD") == 0 || strcmp(name, "BYE") == 0 ||
	       strcmp(name, "PREAUTH") == 0;
}

/* resp-text: [ "[" code "]" SP ] text, to the line end. */
static int parse_resp_text(struct parser *ps, struct imap_resp *resp)
{
	const char *e;

	if (ps->p < ps->end && *ps->p == ' ')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '[') {
		const char *start = ps->p + 1;

		e = line_end(start, ps->end);
		ps->p = memchr(start, ']', (size_t)(e - start));
		if (ps->p == NULL)
			return fail(ps, "unterminated response code");
		resp->code = dup_bytes(start, (size_t)(ps->p - start));
		ps->p++;
		if (ps->p < ps->end && *ps->p == ' ')
			ps->p++;
	}
	e = line_end(ps->p, ps->end);
	resp->text = dup_bytes(ps->p, (size_t)(e - ps->p));
	ps->p = e;
	return 0;
}

int imap_resp_parse(const char *buf, size_t len, struct imap_resp *resp,
		    const char **error_r)
{
	struct parser ps = { buf, buf + len, NULL };
	char word[32];

	memset(resp, 0, sizeof(*resp));
	if (len >= 1 && buf[0] == '+') {
		resp->kind = IMAP_RESP_CONTINUE;
		ps.p++;
		if (parse_resp_text(&ps, resp) < 0)
			goto bad;
		goto done;
	}
	if (take_word(&ps, resp->tag, sizeof(resp->tag), false) < 0)
		goto bad;
	resp->kind = strcmp(resp->tag, "*") == 0 ? IMAP_RESP_UNTAGGED :
						    IMAP_RESP_TAGGED;
	if (resp->kind == IMAP_RESP_UNTAGGED)
		resp->tag[0] = '\0';
	if (ps.p >= ps.end || *ps.p != ' ') {
		fail(&ps, "nothing after the tag");
		goto bad;
	}
	ps.p++;
	if (take_word(&ps, word, sizeof(word), true) < 0)
		goto bad;
	if (resp->kind == IMAP_RESP_UNTAGGED && isdigit((unsigned char)word[0])) {
		char *end;

		errno = 0;
		resp->number = strtoul(word, &end, 10);
		if (*end != '\0' || errno != 0) {
			fail(&ps, "bad message number");
			goto bad;
		}
		resp->has_number = true;
		if (ps.p >= ps.end || *ps.p != ' ') {
			fail(&ps, "nothing after the number");
			goto bad;
		}
		ps.p++;
		if (take_word(&ps, word, sizeof(word), true) < 0)
			goto bad;
	}
	snprintf(resp->name, sizeof(resp->name), "%s", word);
	resp->status = is_status(resp->name);
	if (resp->status) {
		if (parse_resp_text(&ps, resp) < 0)
			goto bad;
	} else if (resp->kind == IMAP_RESP_TAGGED) {
		fail(&ps, "tagged response that is not OK, NO or BAD");
		goto bad;
	} else {
		if (ps.p < ps.end && *ps.p == ' ')
			ps.p++;
		if (parse_args(&ps, 0, &resp->args, &resp->count) < 0)
			goto bad;
	}
done:
	if (!at_end(&ps)) {
		fail(&ps, "bytes after the end of the response");
		goto bad;
	}
	return 0;
bad:
	imap_resp_free(resp);
	*error_r = ps.error != NULL ? ps.error : "malformed response";
	return -1;
}

const char *imap_arg_string(const struct imap_arg *arg)
{
	return arg != NULL && (arg->type == IMAP_ARG_ATOM ||
			       arg->type == IMAP_ARG_STRING) ? arg->str : NULL;
}

bool imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg != NULL && arg->type == IMAP_ARG_NIL;
}

int imap_resp_list(const struct imap_resp *resp,
		   const struct imap_arg **flags_r, char *delim_r,
		   const char **name_r)
{
	const struct imap_arg *a = resp->args;

	if (resp->kind != IMAP_RESP_UNTAGGED || resp->has_number ||
	    (strcmp(resp->name, "LIST") != 0 &&
	     strcmp(resp->name, "LSUB") != 0) ||
	    resp->count < 3 || a[0].type != IMAP_ARG_LIST)
		return -1;
	if (a[1].type == IMAP_ARG_NIL)
		*delim_r = '\0';
	else if (a[1].type == IMAP_ARG_STRING && a[1].len == 1)
		*delim_r = a[1].str[0];
	else
		return -1;
	if (a[2].type != IMAP_ARG_STRING && a[2].type != IMAP_ARG_ATOM)
		return -1;
	if (strlen(a[2].str) != a[2].len)
		return -1;	/* a NUL inside: not a usable name */
	*flags_r = &a[0];
	*name_r = a[2].str;
	return 0;
}

bool imap_flags_have(const struct imap_arg *flags, const char *flag)
{
	size_t i;

	if (flags == NULL || flags->type != IMAP_ARG_LIST)
		return false;
	for (i = 0; i < flags->count; i++) {
		const char *s = imap_arg_string(&flags->list[i]);

		if (s != NULL && strcasecmp(s, flag) == 0)
			return true;
	}
	return false;
}

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	/* H. Hinnant's algorithm: days since 1970-01-01, proleptic Gregorian */
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

int imap_parse_internaldate(const char *s, long long *time_r)
{
	static const char months[][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	static const unsigned char mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	unsigned day, mon, year, hh, mm, ss, zh, zm;
	char mname[4], sign;
	int n = 0, i;

	if (s[0] == ' ')
		s++;
	if (sscanf(s, "%2u-%3[A-Za-z]-%4u %2u:%2u:%2u %c%2u%2u%n", &day,
		   mname, &year, &hh, &mm, &ss, &sign, &zh, &zm, &n) != 9 ||
	    s[n] != '\0' || (sign != '+' && sign != '-'))
		return -1;
	for (i = 0; i < 12; i++)
		if (strcasecmp(mname, months[i]) == 0)
			break;
	if (i == 12)
		return -1;
	mon = (unsigned)i + 1;
	if (day < 1 || day > mdays[i] || hh > 23 || mm > 59 || ss > 60 ||
	    zm > 59 || year < 1000)
		return -1;
	*time_r = days_from_civil(year, mon, day) * 86400 +
		  (long long)(hh * 3600 + mm * 60 + ss) -
		  (sign == '+' ? 1 : -1) * (long long)(zh * 3600 + zm * 60);
	return 0;
}

/* ======================================================================
 * The connection.
 * ====================================================================== */

struct imap_client {
	int fd;
	SSL_CTX *ssl_ctx;
	SSL *ssl;
	unsigned int timeout;
	long long deadline;		/* ms, CLOCK_MONOTONIC */
	char where[300];		/* "host:port" */
	char *host;
	char greeting[512];
	enum imap_greeting greeting_kind;
	char *caps;			/* " CAP1 CAP2 ", upper case, or NULL */
	unsigned int tagno;
	char rbuf[16384];
	size_t rpos, rlen;
	bool eof;
	char bye[256];			/* the text of an untagged BYE */
	char *resp;			/* the response being read */
	size_t resp_len, resp_size;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void arm(struct imap_client *c)
{
	c->deadline = now_ms() + (long long)c->timeout * 1000;
}

static int timed_out(struct imap_client *c, struct m2d_error *err)
{
	m2d_error_set(err, M2D_ERR_SYS, c->where,
		      ngettext("no answer from the IMAP server within %u "
			       "second", "no answer from the IMAP server "
			       "within %u seconds", c->timeout), c->timeout);
	err->sys_errno = ETIMEDOUT;
	return -1;
}

/* Wait until FD is ready for EVENTS or the deadline passed. */
static int wait_fd(struct imap_client *c, short events, struct m2d_error *err)
{
	struct pollfd pfd = { c->fd, events, 0 };

	for (;;) {
		long long left = c->deadline - now_ms();
		int r;

		if (left <= 0)
			return timed_out(c, err);
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return timed_out(c, err);
		if (errno != EINTR)
			return m2d_error_sys(err, "poll", c->where);
	}
}

/* OpenSSL's last error as text, for ERR. */
static int tls_error(struct imap_client *c, const char *what,
		     struct m2d_error *err)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s", _("connection closed"));
	ERR_clear_error();
	return m2d_error_set(err, M2D_ERR_SYS, c->where, _("TLS %s failed: %s"),
			     what, buf);
}

/* One SSL call's outcome: 1 retry after waiting, 0 EOF, -1 error. */
static int tls_wait(struct imap_client *c, int r, const char *what,
		    struct m2d_error *err)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c, POLLIN, err) < 0 ? -1 : 1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c, POLLOUT, err) < 0 ? -1 : 1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (errno == 0)
				return 0;	/* EOF without close_notify */
			return m2d_error_sys(err, what, c->where);
		}
		return tls_error(c, what, err);
	default:
		return tls_error(c, what, err);
	}
}

/* Read some bytes: >0, 0 at EOF, -1 with ERR. */
static ssize_t io_read(struct imap_client *c, char *buf, size_t size,
		       struct m2d_error *err)
{
	for (;;) {
		if (c->ssl != NULL) {
			int r, w;

			ERR_clear_error();
			errno = 0;
			r = SSL_read(c->ssl, buf,
				     size > INT_MAX ? INT_MAX : (int)size);
			if (r > 0)
				return r;
			w = tls_wait(c, r, "read", err);
			if (w <= 0)
				return w;
		} else {
			ssize_t r = recv(c->fd, buf, size, 0);

			if (r >= 0)
				return r;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_fd(c, POLLIN, err) < 0)
					return -1;
			} else if (errno != EINTR) {
				return m2d_error_sys(err, "recv", c->where);
			}
		}
	}
}

/*
 * SSL_write() writes to the socket with write(), which raises SIGPIPE when
 * the server has gone.  The library must not change the program's signal
 * handling, so SIGPIPE is blocked in this thread around the call, and one
 * that it raised is taken back before unblocking (as libpq does).
 */
static int tls_write(struct imap_client *c, const char *data, size_t len,
		     struct m2d_error *err)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	int r = 0, rc = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	while (len > 0) {
		ERR_clear_error();
		errno = 0;
		r = SSL_write(c->ssl, data, len > INT_MAX ? INT_MAX : (int)len);
		if (r > 0) {
			data += r;
			len -= (size_t)r;
			continue;
		}
		r = tls_wait(c, r, "write", err);
		if (r == 0) {
			errno = EPIPE;
			m2d_error_sys(err, "write", c->where);
		}
		if (r <= 0) {
			rc = -1;
			break;
		}
	}
	if (!was_pending) {
		struct timespec zero = { 0, 0 };
		int e = errno;

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
		errno = e;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int io_write(struct imap_client *c, const char *data, size_t len,
		    struct m2d_error *err)
{
	if (c->ssl != NULL)
		return tls_write(c, data, len, err);
	while (len > 0) {
		ssize_t r = send(c->fd, data, len, MSG_NOSIGNAL);

		if (r > 0) {
			data += r;
			len -= (size_t)r;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c, POLLOUT, err) < 0)
				return -1;
		} else if (r < 0 && errno != EINTR) {
			return m2d_error_sys(err, "send", c->where);
		}
	}
	return 0;
}

static int resp_append(struct imap_client *c, const char *data, size_t len,
		       struct m2d_error *err)
{
	if (c->resp_len + len + 1 > c->resp_size) {
		size_t size = (c->resp_len + len + 1) * 2;

		if (c->resp_len + len > MAX_RESPONSE)
			return m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
					     _("the IMAP server sent a "
					       "response of more than %d "
					       "bytes"), MAX_RESPONSE);
		c->resp = xrealloc(c->resp, size);
		c->resp_size = size;
	}
	memcpy(c->resp + c->resp_len, data, len);
	c->resp_len += len;
	c->resp[c->resp_len] = '\0';
	return 0;
}

static int fill(struct imap_client *c, struct m2d_error *err)
{
	ssize_t n;

	n = c->eof ? 0 : io_read(c, c->rbuf, sizeof(c->rbuf), err);
	if (n < 0)
		return -1;
	if (n == 0) {
		c->eof = true;
		if (c->bye[0] != '\0')
			return m2d_error_set(err, M2D_ERR_SYS, c->where,
					     _("the IMAP server closed the "
					       "connection: %s"), c->bye);
		return m2d_error_set(err, M2D_ERR_SYS, c->where,
				     _("the IMAP server closed the "
				       "connection"));
	}
	c->rpos = 0;
	c->rlen = (size_t)n;
	return 0;
}

/* The size of a "{N}" at the end of the line LINE (LEN bytes, without its
 * line end), or -1 when the line does not end in a literal's size. */
static long long literal_at_end(const char *line, size_t len)
{
	size_t i;
	long long n = 0;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	i = len - 1;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == len - 1 || i == 0 || line[i - 1] != '{')
		return -1;
	for (; i < len - 1; i++) {
		n = n * 10 + (line[i] - '0');
		if (n > MAX_RESPONSE)
			return MAX_RESPONSE + 1LL;
	}
	return n;
}

/* Read one complete response (lines and literals) into c->resp. */
static int read_response(struct imap_client *c, struct m2d_error *err)
{
	c->resp_len = 0;
	arm(c);
	for (;;) {
		size_t line_start = c->resp_len;
		long long lit;

		/* a line, up to and with its LF */
		for (;;) {
			char *nl;
			size_t take;

			if (c->rpos == c->rlen && fill(c, err) < 0)
				return -1;
			nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);
			take = nl != NULL ? (size_t)(nl - (c->rbuf + c->rpos)) + 1
					  : c->rlen - c->rpos;
			if (resp_append(c, c->rbuf + c->rpos, take, err) < 0)
				return -1;
			c->rpos += take;
			if (nl != NULL)
				break;
			if (c->resp_len - line_start > MAX_LINE)
				return m2d_error_set(err, M2D_ERR_MALFORMED,
						     c->where,
						     _("the IMAP server sent a "
						       "line of more than %d "
						       "bytes"), MAX_LINE);
		}
		{
			size_t end = c->resp_len - 1;	/* the LF */

			if (end > line_start && c->resp[end - 1] == '\r')
				end--;
			lit = literal_at_end(c->resp + line_start,
					     end - line_start);
		}
		if (lit < 0)
			return 0;
		if (lit > MAX_RESPONSE)
			return m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
					     _("the IMAP server announced a "
					       "literal of more than %d bytes"),
					     MAX_RESPONSE);
		while (lit > 0) {
			size_t take;

			if (c->rpos == c->rlen && fill(c, err) < 0)
				return -1;
			take = c->rlen - c->rpos;
			if ((long long)take > lit)
				take = (size_t)lit;
			if (resp_append(c, c->rbuf + c->rpos, take, err) < 0)
				return -1;
			c->rpos += take;
			lit -= (long long)take;
		}
	}
}

static int next_response(struct imap_client *c, struct imap_resp *resp,
			 struct m2d_error *err)
{
	const char *why;

	if (read_response(c, err) < 0)
		return -1;
	if (imap_resp_parse(c->resp, c->resp_len, resp, &why) < 0) {
		int n = (int)strcspn(c->resp, "\r\n");

		return m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
				     _("cannot parse the IMAP server's "
				       "response (%s): %.*s"), why,
				     n > 200 ? 200 : n, c->resp);
	}
	return 0;
}

/* Remember capabilities from a CAPABILITY response or a [CAPABILITY ...]
 * code (TEXT: the names after the word CAPABILITY). */
static void set_caps(struct imap_client *c, const char *text)
{
	size_t n = strlen(text), i;
	char *caps = xmalloc(n + 3);

	caps[0] = ' ';
	for (i = 0; i < n; i++)
		caps[i + 1] = (char)toupper((unsigned char)text[i]);
	caps[n + 1] = ' ';
	caps[n + 2] = '\0';
	free(c->caps);
	c->caps = caps;
}

static void caps_from_code(struct imap_client *c, const char *code)
{
	if (code != NULL && strncasecmp(code, "CAPABILITY ", 11) == 0)
		set_caps(c, code + 11);
}

static void caps_from_resp(struct imap_client *c, const struct imap_resp *r)
{
	char *text;
	size_t i, len = 0;

	if (r->status) {
		caps_from_code(c, r->code);
		return;
	}
	if (strcmp(r->name, "CAPABILITY") != 0)
		return;
	for (i = 0; i < r->count; i++)
		if (r->args[i].type == IMAP_ARG_ATOM)
			len += r->args[i].len + 1;
	text = xmalloc(len + 1);
	text[0] = '\0';
	for (i = 0; i < r->count; i++) {
		if (r->args[i].type != IMAP_ARG_ATOM)
			continue;
		strcat(text, r->args[i].str);
		strcat(text, " ");
	}
	set_caps(c, text);
	free(text);
}

bool imap_client_has_cap(const struct imap_client *c, const char *cap)
{
	char want[64];
	size_t i, n = strlen(cap);

	if (c->caps == NULL || n + 3 > sizeof(want))
		return false;
	want[0] = ' ';
	for (i = 0; i < n; i++)
		want[i + 1] = (char)toupper((unsigned char)cap[i]);
	want[n + 1] = ' ';
	want[n + 2] = '\0';
	return strstr(c->caps, want) != NULL;
}

void imap_client_forget_caps(struct imap_client *c)
{
	free(c->caps);
	c->caps = NULL;
}

static int connect_one(struct imap_client *c, const struct addrinfo *ai,
		       struct m2d_error *err)
{
	int fd, e;
	socklen_t elen = sizeof(e);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return m2d_error_sys(err, "socket", c->where);
	c->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		m2d_error_sys(err, "connect", c->where);
		goto bad;
	}
	if (wait_fd(c, POLLOUT, err) < 0) {
		snprintf(err->syscall, sizeof(err->syscall), "connect");
		goto bad;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0) {
		m2d_error_sys(err, "getsockopt", c->where);
		goto bad;
	}
	if (e != 0) {
		errno = e;
		m2d_error_sys(err, "connect", c->where);
		goto bad;
	}
	return 0;
bad:
	close(fd);
	c->fd = -1;
	return -1;
}

int imap_client_connect(const char *host, unsigned int port,
			unsigned int timeout, struct imap_client **client_r,
			struct m2d_error *err)
{
	struct imap_client *c;
	struct addrinfo hints, *res = NULL, *ai;
	struct imap_resp resp;
	char service[16];
	int r;

	*client_r = NULL;
	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->timeout = timeout != 0 ? timeout : 30;
	c->host = xstrdup(host);
	snprintf(c->where, sizeof(c->where),
		 strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
	snprintf(service, sizeof(service), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	r = getaddrinfo(host, service, &hints, &res);
	if (r != 0) {
		m2d_error_set(err, M2D_ERR_SYS, c->where,
			      _("cannot resolve the IMAP server's name: %s"),
			      r == EAI_SYSTEM ? strerror(errno)
					      : gai_strerror(r));
		goto bad;
	}
	arm(c);
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (connect_one(c, ai, err) == 0)
			break;
	freeaddrinfo(res);
	if (c->fd < 0)
		goto bad;
	if (next_response(c, &resp, err) < 0)
		goto bad;
	if (resp.kind != IMAP_RESP_UNTAGGED || !resp.status ||
	    (strcmp(resp.name, "OK") != 0 && strcmp(resp.name, "PREAUTH") != 0 &&
	     strcmp(resp.name, "BYE") != 0)) {
		int n = (int)strcspn(c->resp, "\r\n");

		imap_resp_free(&resp);
		m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
			      _("not an IMAP server's greeting: %.*s"),
			      n > 200 ? 200 : n, c->resp);
		goto bad;
	}
	c->greeting_kind = strcmp(resp.name, "OK") == 0 ? IMAP_GREETING_OK :
			   strcmp(resp.name, "PREAUTH") == 0 ?
			   IMAP_GREETING_PREAUTH : IMAP_GREETING_BYE;
	{
		size_t n = strcspn(c->resp, "\r\n");
		const char *g = c->resp;

		if (n >= 2 && g[0] == '*' && g[1] == ' ') {
			g += 2;
			n -= 2;
		}
		snprintf(c->greeting, sizeof(c->greeting), "%.*s", (int)n, g);
	}
	caps_from_resp(c, &resp);
	imap_resp_free(&resp);
	*client_r = c;
	return 0;
bad:
	imap_client_close(&c);
	return -1;
}

void imap_client_close(struct imap_client **client)
{
	struct imap_client *c = *client;

	if (c == NULL)
		return;
	*client = NULL;
	if (c->ssl != NULL) {
		/* no close_notify: the caller said LOGOUT or gave up */
		SSL_free(c->ssl);
	}
	if (c->ssl_ctx != NULL)
		SSL_CTX_free(c->ssl_ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c->caps);
	free(c->resp);
	free(c->host);
	free(c);
}

const char *imap_client_greeting(const struct imap_client *c)
{
	return c->greeting;
}

enum imap_greeting imap_client_greeting_kind(const struct imap_client *c)
{
	return c->greeting_kind;
}

bool imap_client_tls(const struct imap_client *c)
{
	return c->ssl != NULL;
}

/* ---- commands ----------------------------------------------------------- */

struct out {
	char *data;
	size_t len, size;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->size) {
		o->size = (o->len + n + 1) * 2;
		o->data = xrealloc(o->data, o->size);
	}
	memcpy(o->data + o->len, s, n);
	o->len += n;
	o->data[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

void imap_reply_free(struct imap_reply *reply)
{
	size_t i;

	for (i = 0; i < reply->nuntagged; i++)
		imap_resp_free(&reply->untagged[i]);
	free(reply->untagged);
	imap_resp_free(&reply->tagged);
	memset(reply, 0, sizeof(*reply));
}

bool imap_reply_ok(const struct imap_reply *reply)
{
	return reply->tagged.kind == IMAP_RESP_TAGGED &&
	       strcmp(reply->tagged.name, "OK") == 0;
}

const char *imap_reply_text(const struct imap_reply *reply, char *buf,
			    size_t size)
{
	const struct imap_resp *t = &reply->tagged;

	if (t->code != NULL)
		snprintf(buf, size, "%s [%s] %s", t->name, t->code,
			 t->text != NULL ? t->text : "");
	else
		snprintf(buf, size, "%s %s", t->name,
			 t->text != NULL ? t->text : "");
	return buf;
}

static void keep_untagged(struct imap_reply *reply, struct imap_resp *resp)
{
	/* doubling: a FETCH 1:* of a big folder is one response a message */
	if (reply->nuntagged == reply->cap) {
		reply->cap = reply->cap > 0 ? reply->cap * 2 : 16;
		reply->untagged = xrealloc(reply->untagged,
					   reply->cap *
					   sizeof(*reply->untagged));
	}
	reply->untagged[reply->nuntagged++] = *resp;
}

/*
 * Read responses until the tagged one for TAG (returns 1) or, when
 * WANT_CONTINUE, a continuation request (returns 0).  Untagged responses
 * are kept in REPLY; BYE means the server is going away.
 */
static int read_until(struct imap_client *c, const char *tag,
		      bool want_continue, struct imap_reply *reply,
		      struct m2d_error *err)
{
	for (;;) {
		struct imap_resp resp;

		if (next_response(c, &resp, err) < 0)
			return -1;
		switch (resp.kind) {
		case IMAP_RESP_CONTINUE:
			imap_resp_free(&resp);
			if (want_continue)
				return 0;
			return m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
					     _("the IMAP server asked for a "
					       "continuation nobody sent"));
		case IMAP_RESP_TAGGED:
			if (strcmp(resp.tag, tag) != 0) {
				imap_resp_free(&resp);
				return m2d_error_set(err, M2D_ERR_MALFORMED,
						     c->where,
						     _("the IMAP server "
						       "answered a command "
						       "never sent"));
			}
			caps_from_code(c, resp.code);
			reply->tagged = resp;
			return 1;
		case IMAP_RESP_UNTAGGED:
			caps_from_resp(c, &resp);
			if (strcmp(resp.name, "BYE") == 0)
				/* after LOGOUT the tagged OK follows; else
				 * the server closes: said when it does */
				snprintf(c->bye, sizeof(c->bye), "%s",
					 resp.text != NULL ? resp.text : "");
			keep_untagged(reply, &resp);
			break;
		}
	}
}

/* Whether S must go as a literal: a quoted string holds no CR, LF or
 * 8-bit bytes (RFC 3501 9, QUOTED-CHAR). */
static bool needs_literal(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n' || (unsigned char)*s >= 0x80)
			return true;
	return false;
}

static void out_quoted(struct out *o, const char *s)
{
	out_add(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			out_add(o, "\\", 1);
		out_add(o, s, 1);
	}
	out_add(o, "\"", 1);
}

int imap_client_command(struct imap_client *c, struct imap_reply *reply,
			struct m2d_error *err, const char *fmt, ...)
{
	struct out o = { NULL, 0, 0 };
	char tag[16], num[32], name[MAX_NAME_UTF7];
	bool literal_plus = imap_client_has_cap(c, "LITERAL+");
	const char *p;
	va_list ap;
	int rc = -1;

	memset(reply, 0, sizeof(*reply));
	snprintf(tag, sizeof(tag), "M%u", ++c->tagno);
	out_str(&o, tag);
	out_add(&o, " ", 1);
	va_start(ap, fmt);
	for (p = fmt; *p != '\0'; p++) {
		const char *s;

		if (*p != '%') {
			out_add(&o, p, 1);
			continue;
		}
		p++;
		switch (*p) {
		case 'a':
			out_str(&o, va_arg(ap, const char *));
			continue;
		case 'u':
			snprintf(num, sizeof(num), "%u", va_arg(ap, unsigned));
			out_str(&o, num);
			continue;
		case 'm':
			s = va_arg(ap, const char *);
			if (mutf7_encode(s, name, sizeof(name)) < 0) {
				m2d_error_set(err, M2D_ERR_NAME, s,
					      _("a folder name that is not "
						"UTF-8 or too long"));
				goto out;
			}
			s = name;
			break;
		case 's':
			s = va_arg(ap, const char *);
			break;
		case '%':
			out_add(&o, "%", 1);
			continue;
		default:
			m2d_error_set(err, M2D_ERR_USAGE, NULL,
				      "imap_client_command: bad format %%%c",
				      *p);
			goto out;
		}
		if (!needs_literal(s)) {
			out_quoted(&o, s);
			continue;
		}
		/* a literal: "{N}" CRLF, then (unless LITERAL+) wait for
		 * the server's "+" before sending the bytes */
		snprintf(num, sizeof(num), literal_plus ? "{%zu+}\r\n" :
			 "{%zu}\r\n", strlen(s));
		out_str(&o, num);
		if (!literal_plus) {
			arm(c);
			if (io_write(c, o.data, o.len, err) < 0)
				goto out;
			o.len = 0;
			rc = read_until(c, tag, true, reply, err);
			if (rc != 0)	/* -1, or 1: refused (NO/BAD) */
				goto out;
			rc = -1;
		}
		out_str(&o, s);
	}
	out_add(&o, "\r\n", 2);
	arm(c);

	if (io_write(c, o.data, o.len, err) < 0)
		goto out;
	rc = read_until(c, tag, false, reply, err);
out:
	va_end(ap);
	free(o.data);
	if (rc < 0)
		return -1;
	/* a refused literal ends the command too */
	return 0;
}

int imap_client_capability(struct imap_client *c, struct m2d_error *err)
{
	struct imap_reply reply;
	char text[300];

	if (c->caps != NULL)
		return 0;
	if (imap_client_command(c, &reply, err, "CAPABILITY") < 0) {
		imap_reply_free(&reply);
		return -1;
	}
	if (!imap_reply_ok(&reply) || c->caps == NULL) {
		m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
			      _("CAPABILITY failed: %s"),
			      imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return -1;
	}
	imap_reply_free(&reply);
	return 0;
}

/*
 * A loopback address (127.0.0.1, any 127/8, ::1), given as a number: the
 * test talks to the Dovecot on this very host, whose certificate is often
 * the self-signed one its package made, and nobody is in between; so no
 * CA check is done there.  Any other host, a name included, is verified
 * against the system's CAs and must match the name.
 */
static bool is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

int imap_client_starttls(struct imap_client *c, struct m2d_error *err)
{
	struct imap_reply reply;
	char text[300];
	int r;

	if (c->ssl != NULL)
		return 0;
	if (imap_client_command(c, &reply, err, "STARTTLS") < 0) {
		imap_reply_free(&reply);
		return -1;
	}
	if (!imap_reply_ok(&reply)) {
		m2d_error_set(err, M2D_ERR_SYS, c->where,
			      _("STARTTLS refused: %s"),
			      imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return 1;
	}
	imap_reply_free(&reply);
	if (c->rpos != c->rlen)	/* plaintext injected after the OK */
		return m2d_error_set(err, M2D_ERR_MALFORMED, c->where,
				     _("the IMAP server sent data after its "
				       "STARTTLS reply, before TLS"));
	ERR_clear_error();
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (c->ssl_ctx == NULL)
		return tls_error(c, "setup", err);
	if (is_loopback(c->host)) {
		SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_NONE, NULL);
	} else {
		if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1)
			return tls_error(c, "setup", err);
		SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	}
	c->ssl = SSL_new(c->ssl_ctx);
	if (c->ssl == NULL)
		return tls_error(c, "setup", err);
	if (!is_loopback(c->host)) {
		if (SSL_set1_host(c->ssl, c->host) != 1)
			return tls_error(c, "setup", err);
		SSL_set_tlsext_host_name(c->ssl, c->host);
	}
	if (SSL_set_fd(c->ssl, c->fd) != 1)
		return tls_error(c, "setup", err);
	arm(c);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = SSL_connect(c->ssl);
		if (r == 1)
			break;
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_SSL &&
		    SSL_get_verify_result(c->ssl) != X509_V_OK) {
			long v = SSL_get_verify_result(c->ssl);

			ERR_clear_error();
			return m2d_error_set(err, M2D_ERR_SYS, c->where,
					     _("the IMAP server's TLS "
					       "certificate is not trusted: "
					       "%s"),
					     X509_verify_cert_error_string(v));
		}
		r = tls_wait(c, r, "handshake", err);
		if (r == 0)
			return m2d_error_set(err, M2D_ERR_SYS, c->where,
					     _("TLS handshake failed: the "
					       "IMAP server closed the "
					       "connection"));
		if (r < 0)
			return -1;
	}
	/* RFC 3501 6.2.1: capabilities known before TLS are void */
	imap_client_forget_caps(c);
	return imap_client_capability(c, err);
}
