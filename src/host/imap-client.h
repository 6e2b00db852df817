/* SPDX-License-Identifier: MIT */
#ifndef M2D_IMAP_CLIENT_H
#define M2D_IMAP_CLIENT_H

/*
 * A small careful IMAP4rev1 client (RFC 3501), private to imap-test.c.
 *
 *   imap_client_connect()     TCP connect (poll timeout), read the greeting
 *   imap_client_starttls()    STARTTLS, then CAPABILITY again
 *   imap_client_command()     one tagged command, every response until its
 *                             tagged reply collected in a struct imap_reply
 *   imap_client_close()
 *
 * Every read and write waits at most TIMEOUT seconds (poll).  Strings go
 * out as quoted strings when they can ("\" and '"' escaped), as literals
 * when they hold CR, LF or 8-bit bytes (synchronizing, or LITERAL+ when
 * the server offers it).  Mailbox names are UTF-8 in the API and modified
 * UTF-7 on the wire.
 *
 * The response parser (imap_resp_parse()) works on a complete response in
 * memory, literals included, so it is tested without a socket.
 */

#include <stdbool.h>
#include <stddef.h>

#include "m2d-error.h"

/* ---- responses ---------------------------------------------------------- */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* atom or number, \Flags, BODY[...] */
	IMAP_ARG_STRING,	/* quoted string or literal */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,		/* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type type;
	char *str;		/* owned; ATOM and STRING, NUL-terminated */
	size_t len;		/* of str (a literal may hold NUL bytes) */
	bool literal;		/* STRING: sent as {N} */
	struct imap_arg *list;	/* owned; LIST */
	size_t count;
};

enum imap_resp_kind {
	IMAP_RESP_UNTAGGED,	/* "* ..." */
	IMAP_RESP_TAGGED,	/* "A1 OK ..." */
	IMAP_RESP_CONTINUE,	/* "+ ..." */
};

struct imap_resp {
	enum imap_resp_kind kind;
	char tag[32];		/* TAGGED */
	bool has_number;	/* "* 5 EXISTS", "* 3 FETCH (...)" */
	unsigned long number;
	char name[32];		/* upper case: OK NO BAD BYE PREAUTH, or the
				 * data keyword (CAPABILITY LIST EXISTS ...) */
	bool status;		/* name is OK/NO/BAD/BYE/PREAUTH */
	char *code;		/* owned; status: inside "[...]", or NULL */
	char *text;		/* owned; status and CONTINUE: the text */
	struct imap_arg *args;	/* owned; data responses: what follows */
	size_t count;
};

/*
 * Parse one complete response: BUF holds its line(s), each "{N}" literal
 * followed by CRLF (or LF) and its N bytes, and the final line's CRLF (may
 * be missing).  Returns 0, or -1 with *ERROR_R a static untranslated
 * description of what is malformed (RESP then holds nothing to free).
 */
int imap_resp_parse(const char *buf, size_t len, struct imap_resp *resp,
		    const char **error_r);
void imap_resp_free(struct imap_resp *resp);

/* The arguments of a data response as convenient views (NULL when not). */
const char *imap_arg_string(const struct imap_arg *arg); /* ATOM/STRING */
bool imap_arg_is_nil(const struct imap_arg *arg);

/*
 * "LIST (\HasNoChildren) "/" name" (also LSUB): the flags (LIST arg), the
 * delimiter ('\0' for NIL) and the name as sent (modified UTF-7).
 * Returns 0, -1 when the response is not of this shape.
 */
int imap_resp_list(const struct imap_resp *resp,
		   const struct imap_arg **flags_r, char *delim_r,
		   const char **name_r);
/* Whether FLAGS (a LIST arg) holds FLAG, compared without case. */
bool imap_flags_have(const struct imap_arg *flags, const char *flag);

/* Parse an INTERNALDATE ("17-Oct-1999 10:54:46 +0200", day may be
 * space-padded) into seconds since the epoch.  0, or -1 when malformed. */
int imap_parse_internaldate(const char *s, long long *time_r);

/* ---- the client --------------------------------------------------------- */

struct imap_reply {
	struct imap_resp *untagged;	/* owned: every untagged response */
	size_t nuntagged;
	size_t cap;			/* room in untagged */
	struct imap_resp tagged;	/* the command's completion */
};

/* OK, NO or BAD of the tagged reply. */
bool imap_reply_ok(const struct imap_reply *reply);
/* The tagged reply as a human reads it: "[CODE] text" or "text". */
const char *imap_reply_text(const struct imap_reply *reply, char *buf,
			    size_t size);
void imap_reply_free(struct imap_reply *reply);

struct imap_client;

enum imap_greeting {
	IMAP_GREETING_OK,
	IMAP_GREETING_PREAUTH,
	IMAP_GREETING_BYE,
};

/*
 * Connect to HOST:PORT (every address getaddrinfo() gives, in turn) and
 * read the greeting, waiting at most TIMEOUT seconds (0 = 30) for each.
 * Returns 0 with *CLIENT_R, or -1 with ERR (syscall "connect", path
 * "HOST:PORT", errno; ETIMEDOUT when the time ran out).  A greeting of
 * BYE is not an error here: see imap_client_greeting_kind().
 */
int imap_client_connect(const char *host, unsigned int port,
			unsigned int timeout, struct imap_client **client_r,
			struct m2d_error *err);
void imap_client_close(struct imap_client **client);

/* The greeting line without "* " and CRLF, and its kind. */
const char *imap_client_greeting(const struct imap_client *client);
enum imap_greeting imap_client_greeting_kind(const struct imap_client *client);

/* The capabilities: from the greeting's [CAPABILITY ...], from a tagged
 * OK's, or from a CAPABILITY command when none is known yet.  0 / -1. */
int imap_client_capability(struct imap_client *client, struct m2d_error *err);
/* Whether the last known capabilities name CAP (no case). */
bool imap_client_has_cap(const struct imap_client *client, const char *cap);
/* Forget the capabilities (after LOGIN they may differ). */
void imap_client_forget_caps(struct imap_client *client);

/*
 * STARTTLS.  The certificate is verified against the system's default CA
 * paths and the host name, except for 127.0.0.1 (see imap-client.c).
 * Returns 0, 1 when the server refused (REPLY text in ERR's msg), -1 when
 * the handshake or the connection failed (ERR says why, the certificate's
 * verify error included).
 */
int imap_client_starttls(struct imap_client *client, struct m2d_error *err);
bool imap_client_tls(const struct imap_client *client);

/*
 * Send one command and read every response until its tagged reply.  FMT is
 * copied as it is except for:
 *   %a  a C string sent as it is (an atom, a sequence set, "(\Seen)")
 *   %s  a C string sent as an astring: quoted, or a literal when needed
 *   %m  a mailbox name in UTF-8: encoded in modified UTF-7, then as %s
 *   %u  an unsigned int
 *   %%  "%"
 * Returns 0 when the tagged reply came (OK, NO or BAD: REPLY), -1 on a
 * failure of the connection, a timeout, an untagged BYE with the server
 * closing, a response that cannot be parsed, or a %m that is not UTF-8
 * (ERR).  REPLY is to be freed in both cases.
 */
int imap_client_command(struct imap_client *client, struct imap_reply *reply,
			struct m2d_error *err, const char *fmt, ...);

#endif
