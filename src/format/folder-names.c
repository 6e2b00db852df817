/* SPDX-License-Identifier: MIT */
/* folder-names.c - mbox folder paths, IMAP names and Maildir++ directories */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folder-names.h"
#include "i18n.h"
#include "xalloc.h"

/* The longest file name a directory entry can have (NAME_MAX). */
#define DIRNAME_MAX 255
/* Dovecot's name for its own subscription file and its dotlock. */
#define SUBS_FNAME "subscriptions"
#define SUBS_LOCK_FNAME "subscriptions.lock"
/* Dovecot removes a dotlock of the subscriptions file that has not changed
   for 30 seconds (SUBSCRIPTION_FILE_CHANGE_TIMEOUT); we do the same. */
#define SUBS_LOCK_STALE_SECS 30
/* Appended to a name that would be taken for INBOX. */
#define INBOX_SUFFIX "-old"

/* ------------------------------------------------------------------ */
/* Output buffer: counts always, writes while there is room.          */

struct outbuf {
	char *buf;		/* NULL: only count */
	size_t size;
	size_t len;
};

static void ob_putc(struct outbuf *ob, char c)
{
	if (ob->buf != NULL && ob->len + 1 < ob->size)
		ob->buf[ob->len] = c;
	ob->len++;
}

static void ob_put(struct outbuf *ob, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ob_putc(ob, s[i]);
}

/* NUL-terminate; returns the length or -1 when it did not fit. */
static int ob_finish(struct outbuf *ob)
{
	if (ob->buf == NULL)
		return ob->len > INT32_MAX ? -1 : (int)ob->len;
	if (ob->size == 0)
		return -1;
	if (ob->len + 1 > ob->size || ob->len > INT32_MAX) {
		ob->buf[ob->size - 1] = '\0';
		return -1;
	}
	ob->buf[ob->len] = '\0';
	return (int)ob->len;
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                              */

/*
 * Decode one UTF-8 character of S (N bytes available).  Strict: no
 * overlong forms, no surrogates, nothing above U+10FFFF.  Returns its
 * length, or 0 when S does not start with a valid character.
 */
static size_t utf8_get(const unsigned char *s, size_t n, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return len;
}

static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (n > 0) {
		size_t len = utf8_get(p, n, &cp);
		if (len == 0)
			return false;
		p += len;
		n -= len;
	}
	return true;
}

/* C0 controls, DEL and the C1 controls U+0080..U+009F. */
static bool cp_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* ------------------------------------------------------------------ */
/* Modified UTF-7 (RFC 3501 5.1.3)                                    */

static const char mb64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int mb64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static bool mutf7_direct(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Encode N bytes of UTF-8 at S into OB.  Returns false on invalid UTF-8. */
static bool mutf7_encode_ob(const char *s, size_t n, struct outbuf *ob)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;

	while (p < end) {
		uint32_t bits = 0;
		unsigned int nbits = 0;

		if (mutf7_direct(*p)) {
			if (*p == '&')
				ob_put(ob, "&-", 2);
			else
				ob_putc(ob, (char)*p);
			p++;
			continue;
		}
		/* a run of characters that must be base64-encoded */
		ob_putc(ob, '&');
		while (p < end && !mutf7_direct(*p)) {
			uint32_t cp, units[2];
			unsigned int nunits = 1;
			size_t len = utf8_get(p, (size_t)(end - p), &cp);

			if (len == 0)
				return false;
			p += len;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = 0xd800 | (cp >> 10);
				units[1] = 0xdc00 | (cp & 0x3ff);
				nunits = 2;
			} else {
				units[0] = cp;
			}
			for (unsigned int i = 0; i < nunits; i++) {
				bits = (bits << 16) | units[i];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					ob_putc(ob, mb64_chars[(bits >> nbits) & 0x3f]);
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if (nbits > 0)
			ob_putc(ob, mb64_chars[(bits << (6 - nbits)) & 0x3f]);
		ob_putc(ob, '-');
	}
	return true;
}

int mutf7_encode(const char *utf8, char *out, size_t size)
{
	struct outbuf ob = { out, size, 0 };

	if (out == NULL || size == 0)
		return -1;
	out[0] = '\0';
	if (!mutf7_encode_ob(utf8, strlen(utf8), &ob)) {
		out[0] = '\0';
		return -1;
	}
	return ob_finish(&ob);
}

/* The length of the modified UTF-7 form of N bytes of UTF-8, or -1. */
static long mutf7_len(const char *s, size_t n)
{
	struct outbuf ob = { NULL, 0, 0 };

	if (!mutf7_encode_ob(s, n, &ob))
		return -1;
	return (long)ob.len;
}

/* Decode N bytes of modified UTF-7 at S into OB; false when invalid. */
static bool mutf7_decode_ob(const char *s, size_t n, struct outbuf *ob)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;
	bool after_run = false;

	while (p < end) {
		uint32_t bits = 0, high = 0;
		unsigned int nbits = 0, nunits = 0;

		if (!mutf7_direct(*p))
			return false;	/* must have been encoded */
		if (*p != '&') {
			ob_putc(ob, (char)*p++);
			after_run = false;
			continue;
		}
		p++;
		if (p < end && *p == '-') {
			ob_putc(ob, '&');
			p++;
			after_run = false;
			continue;
		}
		/* "&AOQ-&APY-" must have been written "&AOQA9g-" */
		if (after_run)
			return false;
		for (;;) {
			int v;

			if (p == end)
				return false;	/* unterminated */
			if (*p == '-')
				break;
			v = mb64_value(*p++);
			if (v < 0)
				return false;
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t u = (bits >> nbits) & 0xffff;
			bits &= (1u << nbits) - 1;
			nunits++;
			if (high != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					return false;
				u = 0x10000 + ((high - 0xd800) << 10) +
					(u - 0xdc00);
				high = 0;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				high = u;
				continue;
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				return false;	/* lone low surrogate */
			} else if (u == 0 || (u >= 0x20 && u <= 0x7e)) {
				/* NUL, or ASCII that represents itself */
				return false;
			}
			char tmp[4];
			ob_put(ob, tmp, utf8_put(u, tmp));
		}
		p++;	/* the '-' */
		/* a pending high surrogate, an empty run, a character too
		   many or padding bits that are not zero */
		if (high != 0 || nunits == 0 || nbits >= 6 || bits != 0)
			return false;
		after_run = true;
	}
	return true;
}

int mutf7_decode(const char *mutf7, char *out, size_t size)
{
	struct outbuf ob = { out, size, 0 };

	if (out == NULL || size == 0)
		return -1;
	out[0] = '\0';
	if (!mutf7_decode_ob(mutf7, strlen(mutf7), &ob)) {
		out[0] = '\0';
		return -1;
	}
	return ob_finish(&ob);
}

/* ------------------------------------------------------------------ */
/* Problems                                                           */

const char *folder_problem_str(enum folder_problem problem)
{
	switch (problem) {
	case FOLDER_OK:
		return _("no problem");
	case FOLDER_EMPTY:
		return _("the name or one of its levels is empty");
	case FOLDER_DOT:
		return _("contains '.', which separates levels in Dovecot's "
			 "Maildir++ layout");
	case FOLDER_DOTDOT:
		return _("a level is \".\" or \"..\"");
	case FOLDER_CONTROL:
		return _("contains control characters");
	case FOLDER_NOT_UTF8:
		return _("is not UTF-8 (probably Latin-1)");
	case FOLDER_TOO_LONG:
		return _("the Maildir++ directory name would be longer than "
			 "255 bytes");
	case FOLDER_INBOX:
		return _("would be taken for INBOX");
	case FOLDER_COLLISION:
		return _("another folder maps to the same Maildir++ directory");
	case FOLDER_RESERVED:
		return _("begins with '~', which Dovecot refuses to open");
	}
	return _("unknown folder name problem");
}

/* Does the first level of NAME (LEN bytes) read INBOX in any case?
   Sets *exact_r when it is exactly "INBOX", *only_r when it is the only
   level. */
static bool first_level_is_inbox(const char *name, size_t len, bool *exact_r,
				 bool *only_r)
{
	const char *slash = memchr(name, '/', len);
	size_t l1 = slash != NULL ? (size_t)(slash - name) : len;

	*exact_r = l1 == 5 && memcmp(name, "INBOX", 5) == 0;
	*only_r = slash == NULL;
	return l1 == 5 && strncasecmp(name, "INBOX", 5) == 0;
}

/*
 * The problems an IMAP name (LEN bytes, '/' between levels) can have
 * whatever it is used for, in this order: EMPTY, NOT_UTF8, CONTROL,
 * DOTDOT, then INBOX for a first level "inbox"/"Inbox"... with levels
 * below it (Dovecot lists ".Inbox.x" as "INBOX/x" but cannot open it).
 */
static enum folder_problem check_name(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	const char *lvl, *end = name + len;
	bool exact, only;
	size_t i;

	if (len == 0)
		return FOLDER_EMPTY;
	for (lvl = name;; ) {
		const char *slash = memchr(lvl, '/', (size_t)(end - lvl));
		const char *lend = slash != NULL ? slash : end;

		if (lend == lvl)
			return FOLDER_EMPTY;
		if (slash == NULL)
			break;
		lvl = slash + 1;
	}
	if (!utf8_valid(name, len))
		return FOLDER_NOT_UTF8;
	for (i = 0; i < len; ) {
		uint32_t cp;
		size_t n = utf8_get(p + i, len - i, &cp);

		if (cp_is_control(cp))
			return FOLDER_CONTROL;
		i += n;
	}
	for (lvl = name;; ) {
		const char *slash = memchr(lvl, '/', (size_t)(end - lvl));
		size_t l = slash != NULL ? (size_t)(slash - lvl)
					 : (size_t)(end - lvl);

		if ((l == 1 && lvl[0] == '.') ||
		    (l == 2 && lvl[0] == '.' && lvl[1] == '.'))
			return FOLDER_DOTDOT;
		if (slash == NULL)
			break;
		lvl = slash + 1;
	}
	if (first_level_is_inbox(name, len, &exact, &only) && !only && !exact)
		return FOLDER_INBOX;
	return FOLDER_OK;
}

/* ------------------------------------------------------------------ */
/* Source path -> IMAP name                                           */

/*
 * Convert the levels of IN (LEN bytes, '/' between levels) the way a
 * client of UW-IMAP saw them: UW stored the name a client sent, which is
 * modified UTF-7, so a level that is valid modified UTF-7 is decoded; any
 * other level (e.g. "R&D", Latin-1 bytes) is taken as it is.
 */
static void convert_levels(const char *in, size_t len, struct outbuf *ob)
{
	const char *lvl = in, *end = in + len;

	for (;;) {
		const char *slash = memchr(lvl, '/', (size_t)(end - lvl));
		size_t l = slash != NULL ? (size_t)(slash - lvl)
					 : (size_t)(end - lvl);
		struct outbuf tmp = { NULL, 0, 0 };

		if (memchr(lvl, '&', l) != NULL && mutf7_decode_ob(lvl, l, &tmp))
			(void)mutf7_decode_ob(lvl, l, ob);
		else
			ob_put(ob, lvl, l);
		if (slash == NULL)
			break;
		ob_putc(ob, '/');
		lvl = slash + 1;
	}
}

enum folder_problem folder_name_from_path(const char *relpath, char *out,
					  size_t size)
{
	struct outbuf ob = { out, size, 0 };
	enum folder_problem problem;
	bool exact, only;

	if (out == NULL || size == 0)
		return FOLDER_TOO_LONG;
	convert_levels(relpath, strlen(relpath), &ob);
	if (ob_finish(&ob) < 0)
		return FOLDER_TOO_LONG;
	problem = check_name(out, ob.len);
	if (problem != FOLDER_OK)
		return problem;
	/* a folder file called "INBOX" would be merged into the INBOX */
	if (first_level_is_inbox(out, ob.len, &exact, &only) && only)
		return FOLDER_INBOX;
	return FOLDER_OK;
}

/* ------------------------------------------------------------------ */
/* IMAP name -> Maildir++ directory                                   */

enum folder_problem folder_name_to_maildir(const char *name, char *out,
					   size_t size)
{
	size_t len = strlen(name);
	struct outbuf ob = { out, size, 0 };
	enum folder_problem problem;
	const char *lvl, *end = name + len;
	bool exact, only;

	if (out == NULL || size == 0)
		return FOLDER_TOO_LONG;
	out[0] = '\0';
	problem = check_name(name, len);
	if (problem != FOLDER_OK)
		return problem;
	if (first_level_is_inbox(name, len, &exact, &only) && only)
		return FOLDER_OK;	/* the maildir root itself */
	if (memchr(name, '.', len) != NULL)
		return FOLDER_DOT;
	/* Dovecot refuses storage names that begin with '~' ("Begins with
	   '~'"), only the top level can.  cur/new/tmp are fine: they become
	   .cur/.new/.tmp (seen with Dovecot 2.3.19). */
	if (name[0] == '~')
		return FOLDER_RESERVED;
	for (lvl = name;; ) {
		const char *slash = memchr(lvl, '/', (size_t)(end - lvl));
		size_t l = slash != NULL ? (size_t)(slash - lvl)
					 : (size_t)(end - lvl);

		ob_putc(&ob, '.');
		(void)mutf7_encode_ob(lvl, l, &ob);	/* UTF-8 checked */
		if (slash == NULL)
			break;
		lvl = slash + 1;
	}
	if (ob.len > DIRNAME_MAX) {
		out[0] = '\0';
		return FOLDER_TOO_LONG;
	}
	if (ob_finish(&ob) < 0) {
		out[0] = '\0';
		return FOLDER_TOO_LONG;
	}
	return FOLDER_OK;
}

/* ------------------------------------------------------------------ */
/* Suggestions                                                        */

/* Windows-1252 for 0x80..0x9f (what "Latin-1" text mostly is); 0 for the
   five bytes it leaves undefined, which are dropped. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

struct sugg_level {
	char *base;		/* UTF-8, no '/', '.', controls */
	size_t len;
	char suffix[48];	/* "-old", "-2"... never truncated */
};

static size_t level_len(const struct sugg_level *l)
{
	return l->len + strlen(l->suffix);
}

/* The Maildir++ directory length of LEVELS, or SIZE_MAX on failure. */
static size_t sugg_dir_len(const struct sugg_level *levels, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		long b = mutf7_len(levels[i].base, levels[i].len);
		long s = mutf7_len(levels[i].suffix, strlen(levels[i].suffix));

		if (b < 0 || s < 0)
			return SIZE_MAX;
		/* "&AOQ-" + "&APY-" would merge, never exceed the sum */
		total += 1 + (size_t)b + (size_t)s;
	}
	return total;
}

static size_t sugg_name_len(const struct sugg_level *levels, size_t n)
{
	size_t total = n > 0 ? n - 1 : 0;

	for (size_t i = 0; i < n; i++)
		total += level_len(&levels[i]);
	return total;
}

/* Remove the last UTF-8 character of L's base. */
static void level_chop(struct sugg_level *l)
{
	while (l->len > 0) {
		l->len--;
		if (((unsigned char)l->base[l->len] & 0xc0) != 0x80)
			break;
	}
}

/* Can L lose its last character and still be a level (not empty)? */
static bool level_can_give(const struct sugg_level *l)
{
	size_t p;

	if (l->len == 0)
		return false;
	p = l->len - 1;
	while (p > 0 && ((unsigned char)l->base[p] & 0xc0) == 0x80)
		p--;
	/* P bytes are left: something, or the suffix keeps it non-empty */
	return p > 0 || l->suffix[0] != '\0';
}

static void write_fallback(char *out, size_t size)
{
	if (size >= 2) {
		out[0] = '_';
		out[1] = '\0';
	} else if (size == 1) {
		out[0] = '\0';
	}
}

/*
 * The suggestion for NAME with EXTRA appended to the last level (for a
 * second, third... try after a collision).
 */
static void suggest_with(const char *name, const char *extra, char *out,
			 size_t size)
{
	size_t len = strlen(name), nlevels = 1, i;
	struct sugg_level *levels = NULL;
	char *utf8 = NULL, *work = NULL;
	const unsigned char *p;
	bool exact, only;

	if (out == NULL || size == 0)
		return;
	/* 1. the bytes as UTF-8: when the name is not UTF-8, every 8-bit
	   byte is taken as Windows-1252 / Latin-1 */
	utf8 = xmalloc(len * 3 + 1);
	work = xmalloc(len * 3 + 2);
	if (utf8_valid(name, len)) {
		memcpy(utf8, name, len + 1);
	} else {
		size_t o = 0;

		for (p = (const unsigned char *)name; *p != '\0'; p++) {
			uint32_t cp = *p;

			if (cp >= 0x80 && cp <= 0x9f)
				cp = cp1252_high[cp - 0x80];
			if (cp != 0)
				o += utf8_put(cp, utf8 + o);
		}
		utf8[o] = '\0';
		len = o;
	}
	for (i = 0; i < len; i++)
		nlevels += utf8[i] == '/';
	levels = xcalloc(nlevels, sizeof(*levels));

	/* 2. each level: controls dropped, '.' -> '_', empty -> "_" */
	{
		const char *lvl = utf8, *end = utf8 + len;
		char *w = work;

		for (i = 0; i < nlevels; i++) {
			const char *slash = memchr(lvl, '/',
						   (size_t)(end - lvl));
			const char *lend = slash != NULL ? slash : end;

			levels[i].base = w;
			while (lvl < lend) {
				uint32_t cp;
				size_t n = utf8_get((const unsigned char *)lvl,
						    (size_t)(lend - lvl), &cp);

				if (n == 0)
					goto fail;	/* cannot happen */
				if (cp == '.') {
					*w++ = '_';
				} else if (!cp_is_control(cp)) {
					memcpy(w, lvl, n);
					w += n;
				}
				lvl += n;
			}
			if (w == levels[i].base)
				*w++ = '_';
			levels[i].len = (size_t)(w - levels[i].base);
			*w++ = '\0';
			lvl = lend + 1;
		}
	}
	/* at most 127 levels fit in 255 bytes (".a" each); no level needs
	   more than 1024 bytes (255 in modified UTF-7): keeps step 4 short */
	if (nlevels > DIRNAME_MAX / 2)
		nlevels = DIRNAME_MAX / 2;
	for (i = 0; i < nlevels; i++) {
		while (levels[i].len > 1024)
			level_chop(&levels[i]);
	}
	/* Dovecot refuses a name that begins with '~' */
	if (levels[0].base[0] == '~')
		levels[0].base[0] = '_';
	/* 3. not INBOX: "Inbox" -> "Inbox-old", "inbox/x" -> "inbox-old/x" */
	if (levels[0].len == 5 && strncasecmp(levels[0].base, "INBOX", 5) == 0 &&
	    (nlevels == 1 || memcmp(levels[0].base, "INBOX", 5) != 0))
		snprintf(levels[0].suffix, sizeof(levels[0].suffix), "%s",
			 INBOX_SUFFIX);
	if (extra != NULL && *extra != '\0') {
		struct sugg_level *last = &levels[nlevels - 1];
		size_t sl = strlen(last->suffix);

		snprintf(last->suffix + sl, sizeof(last->suffix) - sl, "%s",
			 extra);
	}
	/* 4. short enough for a directory name and for OUT: shorten the
	   last level first, on a character boundary; a level that has
	   nothing left to give is dropped only when it is not the first.
	   EXTRA belongs to whatever level is last: when the last level is
	   dropped it moves up, else this name would be the very one it is
	   meant to differ from (the levels kept, without a number) */
	while (sugg_dir_len(levels, nlevels) > DIRNAME_MAX ||
	       sugg_name_len(levels, nlevels) + 1 > size) {
		size_t j = nlevels;

		while (j > 0 && !level_can_give(&levels[j - 1]))
			j--;
		if (j > 0) {
			level_chop(&levels[j - 1]);
		} else if (nlevels > 1) {
			nlevels--;
			if (extra != NULL && *extra != '\0') {
				struct sugg_level *last = &levels[nlevels - 1];
				size_t sl = strlen(last->suffix);

				snprintf(last->suffix + sl,
					 sizeof(last->suffix) - sl, "%s",
					 extra);
			}
		} else {
			goto fail;
		}
	}
	/* 5. write it out */
	{
		struct outbuf ob = { out, size, 0 };

		for (i = 0; i < nlevels; i++) {
			if (i > 0)
				ob_putc(&ob, '/');
			ob_put(&ob, levels[i].base, levels[i].len);
			ob_put(&ob, levels[i].suffix, strlen(levels[i].suffix));
		}
		if (ob_finish(&ob) < 0)
			goto fail;
	}
	/* the rules above leave nothing to complain about; make sure */
	{
		char dir[DIRNAME_MAX + 1];

		len = strlen(out);
		if (check_name(out, len) != FOLDER_OK ||
		    (first_level_is_inbox(out, len, &exact, &only) && only) ||
		    folder_name_to_maildir(out, dir, sizeof(dir)) != FOLDER_OK)
			goto fail;
	}
	free(levels);
	free(work);
	free(utf8);
	return;
fail:
	free(levels);
	free(work);
	free(utf8);
	write_fallback(out, size);
}

void folder_name_suggest(const char *name, char *out, size_t size)
{
	suggest_with(name, NULL, out, size);
}

/* ------------------------------------------------------------------ */
/* Folder set                                                         */

struct folder_entry {
	char *dir;	/* owned: Maildir++ directory, "" for INBOX */
	char *name;	/* owned: the IMAP name that claimed it */
};

struct folder_set {
	struct folder_entry *slots;	/* owned, open addressing */
	size_t nslots;			/* a power of two */
	size_t count;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct folder_set *folder_set_new(void)
{
	struct folder_set *set = xcalloc(1, sizeof(*set));

	set->nslots = 16;
	set->slots = xcalloc(set->nslots, sizeof(*set->slots));
	return set;
}

void folder_set_free(struct folder_set **_set)
{
	struct folder_set *set = *_set;

	if (set == NULL)
		return;
	*_set = NULL;
	for (size_t i = 0; i < set->nslots; i++) {
		free(set->slots[i].dir);
		free(set->slots[i].name);
	}
	free(set->slots);
	free(set);
}

static struct folder_entry *set_slot(struct folder_entry *slots, size_t n,
				     const char *dir)
{
	size_t i = (size_t)hash_str(dir) & (n - 1);

	while (slots[i].dir != NULL && strcmp(slots[i].dir, dir) != 0)
		i = (i + 1) & (n - 1);
	return &slots[i];
}

static void set_grow(struct folder_set *set)
{
	size_t n = set->nslots * 2;
	struct folder_entry *slots = xcalloc(n, sizeof(*slots));

	for (size_t i = 0; i < set->nslots; i++) {
		if (set->slots[i].dir != NULL)
			*set_slot(slots, n, set->slots[i].dir) = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->nslots = n;
}

enum folder_problem folder_set_add(struct folder_set *set, const char *name,
				   const char **other_r)
{
	char dir[DIRNAME_MAX + 1];
	struct folder_entry *e;
	enum folder_problem problem;

	if (other_r != NULL)
		*other_r = NULL;
	problem = folder_name_to_maildir(name, dir, sizeof(dir));
	if (problem != FOLDER_OK)
		return problem;
	e = set_slot(set->slots, set->nslots, dir);
	if (e->dir != NULL) {
		if (other_r != NULL)
			*other_r = e->name;
		return FOLDER_COLLISION;
	}
	if ((set->count + 1) * 2 > set->nslots) {
		set_grow(set);
		e = set_slot(set->slots, set->nslots, dir);
	}
	e->dir = xstrdup(dir);
	e->name = xstrdup(name);
	set->count++;
	return FOLDER_OK;
}

void folder_set_suggest(const struct folder_set *set, const char *name,
			char *out, size_t size)
{
	char dir[DIRNAME_MAX + 1], extra[16], prev[DIRNAME_MAX * 4 + 1] = "";
	unsigned int same = 0;

	suggest_with(name, NULL, out, size);
	for (unsigned int n = 2; n < 100000; n++) {
		if (folder_name_to_maildir(out, dir, sizeof(dir)) == FOLDER_OK &&
		    set_slot(set->slots, set->nslots, dir)->dir == NULL)
			return;
		/* a suffix that no longer changes the name (no room left
		 * for it): no free name this way */
		same = strcmp(out, prev) == 0 ? same + 1 : 0;
		if (same >= 3)
			break;
		snprintf(prev, sizeof(prev), "%s", out);
		snprintf(extra, sizeof(extra), "-%u", n);
		suggest_with(name, extra, out, size);
	}
	if (size > 0)
		out[0] = '\0';		/* the admin must choose a name */
}

/* ------------------------------------------------------------------ */
/* Subscriptions                                                      */

void folder_names_free(char **names)
{
	if (names == NULL)
		return;
	for (char **p = names; *p != NULL; p++)
		free(*p);
	free(names);
}

/* Does LINE (LEN bytes) start with PREFIX?  Returns its length or 0. */
static size_t has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);

	return pl > 0 && pl <= len && memcmp(line, prefix, pl) == 0 ? pl : 0;
}

char **mailboxlist_to_names(const char *data, size_t len,
			    const char *const *prefixes)
{
	size_t cap = 8, count = 0;
	char **names = xcalloc(cap, sizeof(*names));
	const char *line = data, *end = data + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *lend = nl != NULL ? nl : end;
		size_t l;
		char *name;

		l = (size_t)(lend - line);
		if (l > 0 && line[l - 1] == '\r')
			l--;
		/* "~/mail/box" is "mail/box" */
		if (l >= 2 && line[0] == '~' && line[1] == '/') {
			line += 2;
			l -= 2;
		}
		for (const char *const *pp = prefixes;
		     pp != NULL && *pp != NULL; pp++) {
			size_t pl = has_prefix(line, l, *pp);

			if (pl > 0) {
				line += pl;
				l -= pl;
				break;
			}
		}
		while (l > 0 && line[l - 1] == '/')
			l--;
		/* not a folder under the home: another user's (~user/),
		   an absolute path, a UW namespace (#news.) or a remote
		   mailbox ({host}) */
		if (l == 0 || line[0] == '~' || line[0] == '/' ||
		    line[0] == '#' || line[0] == '{' ||
		    memchr(line, '\0', l) != NULL)
			goto next;
		{
			struct outbuf ob = { NULL, 0, 0 };

			convert_levels(line, l, &ob);
			name = xmalloc(ob.len + 1);
			ob.buf = name;
			ob.size = ob.len + 1;
			ob.len = 0;
			convert_levels(line, l, &ob);
			(void)ob_finish(&ob);
		}
		if (strcasecmp(name, "INBOX") == 0)
			memcpy(name, "INBOX", 6);
		for (size_t i = 0; i < count; i++) {
			if (strcmp(names[i], name) == 0) {
				free(name);
				goto next;
			}
		}
		if (count + 2 > cap) {
			cap *= 2;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[count++] = name;
		names[count] = NULL;
next:
		line = nl != NULL ? nl + 1 : end;
	}
	return names;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The file's content: one storage name per line (the Maildir++ directory
 * without its leading '.', i.e. modified UTF-7 with '.' between levels),
 * "INBOX" for INBOX, no header.  See the header for why.
 */
static char *subscriptions_content(const char *const *names, size_t *len_r,
				   struct m2d_error *err)
{
	size_t cap = 256, len = 0;
	char *buf = xmalloc(cap);

	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		char dir[DIRNAME_MAX + 1];
		const char *line;
		enum folder_problem problem;
		size_t l;
		bool dup = false;

		problem = folder_name_to_maildir(names[i], dir, sizeof(dir));
		if (problem != FOLDER_OK) {
			free(buf);
			m2d_error_set(err, M2D_ERR_NAME, SUBS_FNAME,
				      _("cannot subscribe to \"%s\": %s"),
				      names[i], folder_problem_str(problem));
			return NULL;
		}
		line = dir[0] == '\0' ? "INBOX" : dir + 1;
		l = strlen(line);
		/* drop duplicates ("INBOX" and "inbox" are one) */
		for (size_t o = 0; o < len; ) {
			const char *nl = memchr(buf + o, '\n', len - o);
			size_t ll = (size_t)(nl - (buf + o));

			if (ll == l && memcmp(buf + o, line, l) == 0) {
				dup = true;
				break;
			}
			o += ll + 1;
		}
		if (dup)
			continue;
		if (len + l + 1 > cap) {
			while (len + l + 1 > cap)
				cap *= 2;
			buf = xrealloc(buf, cap);
		}

		memcpy(buf + len, line, l);
		len += l;
		buf[len++] = '\n';
	}
	*len_r = len;
	return buf;
}

/* Create the dotlock/temp file; removes a stale one once. */
static int open_lock(int dirfd, struct m2d_error *err)
{
	for (int attempt = 0;; attempt++) {
		struct stat st;
		int fd = openat(dirfd, SUBS_LOCK_FNAME,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				O_CLOEXEC, 0600);

		if (fd >= 0)
			return fd;
		if (errno != EEXIST || attempt > 0)
			return m2d_error_sys(err, "open", SUBS_LOCK_FNAME);
		if (fstatat(dirfd, SUBS_LOCK_FNAME, &st,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return m2d_error_sys(err, "stat", SUBS_LOCK_FNAME);
		}
		if (time(NULL) - st.st_mtime < SUBS_LOCK_STALE_SECS) {
			return m2d_error_set(err, M2D_ERR_LOCKED,
				SUBS_LOCK_FNAME,
				_("the subscriptions file is being changed "
				  "by someone else (lock file exists)"));
		}
		if (unlinkat(dirfd, SUBS_LOCK_FNAME, 0) < 0 && errno != ENOENT)
			return m2d_error_sys(err, "unlink", SUBS_LOCK_FNAME);
	}
}

int subscriptions_write(int dirfd, const char *const *names, int uid, int gid,
			struct m2d_error *err)
{
	size_t len = 0;
	char *content;
	int fd;

	content = subscriptions_content(names, &len, err);
	if (content == NULL)
		return -1;
	fd = open_lock(dirfd, err);
	if (fd < 0) {
		free(content);
		return -1;
	}
	if (write_all(fd, content, len) < 0) {
		m2d_error_sys(err, "write", SUBS_LOCK_FNAME);
		goto fail;
	}
	free(content);
	content = NULL;
	if ((uid != -1 || gid != -1) &&
	    fchown(fd, (uid_t)uid, (gid_t)gid) < 0) {
		m2d_error_sys(err, "fchown", SUBS_LOCK_FNAME);
		goto fail;
	}
	/* exactly 0600 whatever the umask; after fchown, which may clear
	   set-id bits but never widens */
	if (fchmod(fd, 0600) < 0) {
		m2d_error_sys(err, "fchmod", SUBS_LOCK_FNAME);
		goto fail;
	}
	if (fsync(fd) < 0) {
		m2d_error_sys(err, "fsync", SUBS_LOCK_FNAME);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		m2d_error_sys(err, "close", SUBS_LOCK_FNAME);
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, SUBS_LOCK_FNAME, dirfd, SUBS_FNAME) < 0) {
		m2d_error_sys(err, "rename", SUBS_FNAME);
		goto fail;
	}
	if (fsync(dirfd) < 0 && errno != EINVAL && errno != EBADF)
		return m2d_error_sys(err, "fsync", ".");
	return 0;
fail:
	{
		int e = errno;

		free(content);
		if (fd >= 0)
			close(fd);
		(void)unlinkat(dirfd, SUBS_LOCK_FNAME, 0);
		errno = e;
	}
	return -1;
}
