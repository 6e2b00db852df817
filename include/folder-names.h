/* SPDX-License-Identifier: MIT */
#ifndef M2D_FOLDER_NAMES_H
#define M2D_FOLDER_NAMES_H

/*
 * Folder names: from the path of an mbox file under a home directory, to
 * the IMAP name the user sees, to the Maildir++ directory Dovecot reads.
 *
 *   source path (bytes)   IMAP name (UTF-8, '/')   Maildir++ directory
 *   Sent                  Sent                     .Sent
 *   work/2004             work/2004                .work.2004
 *   Entwürfe              Entwürfe                 .Entw&APw-rfe
 *   R&D                   R&D                      .R&-D
 *
 * Nothing here is silent: a name that cannot be carried over as it is gives
 * a typed problem (the wizard turns it into a rename prompt) and a
 * suggested new name.
 */

#include <stdbool.h>
#include <stddef.h>

#include "m2d-error.h"

enum folder_problem {
	FOLDER_OK = 0,
	FOLDER_EMPTY,		/* empty name or empty level ("a//b") */
	FOLDER_DOT,		/* a '.' inside a level: Maildir++ separator */
	FOLDER_DOTDOT,		/* a level "." or ".." */
	FOLDER_CONTROL,		/* control characters (0x00-0x1f, 0x7f) */
	FOLDER_NOT_UTF8,	/* 8-bit bytes that are not UTF-8 (Latin-1?) */
	FOLDER_TOO_LONG,	/* the directory name would exceed 255 bytes */
	FOLDER_INBOX,		/* "inbox", "Inbox"... clashes with INBOX */
	FOLDER_COLLISION,	/* maps to a directory another name has */
	FOLDER_RESERVED,	/* a name Dovecot will not open: a top level
				   beginning with '~' ("Begins with '~'").
				   cur/new/tmp are fine: Maildir++ makes them
				   .cur/.new/.tmp (seen with Dovecot 2.3.19) */
};

/* A short translated description of PROBLEM. */
const char *folder_problem_str(enum folder_problem problem);

/*
 * Modified UTF-7 (RFC 3501 5.1.3): '&' becomes "&-", non-ASCII runs
 * become "&<modified base64 of UTF-16>-".  Both return the output length
 * (excluding the NUL written after it) or -1 when the input is invalid
 * (not UTF-8, resp. not valid modified UTF-7) or OUT is too small.
 */
int mutf7_encode(const char *utf8, char *out, size_t size);
int mutf7_decode(const char *mutf7, char *out, size_t size);

/*
 * The IMAP name (UTF-8, levels separated by '/') for the mbox at RELPATH
 * relative to its folder root.  Returns FOLDER_OK and fills OUT, or the
 * first problem found, in this order: FOLDER_EMPTY ("", "a//b", "a/"),
 * FOLDER_NOT_UTF8, FOLDER_CONTROL (C0, DEL and U+0080..U+009F),
 * FOLDER_DOTDOT, FOLDER_INBOX (a single level "INBOX" in any case would
 * merge into the INBOX; a first level "inbox"/"Inbox" with levels below
 * would be listed by Dovecot as "INBOX/..." but cannot be opened;
 * "INBOX/x" itself is fine).  The problems of the Maildir++ mapping
 * (FOLDER_DOT, FOLDER_RESERVED, FOLDER_TOO_LONG) are
 * folder_name_to_maildir()'s.
 *
 * UW-IMAP stored the name an IMAP client sent, which is modified UTF-7,
 * so a level that is valid modified UTF-7 is decoded ("Entw&APw-rfe" ->
 * "Entwürfe"); any other level ("R&D", Latin-1 bytes) is taken as it is.
 * On a problem OUT still holds that name (bytes as they are), ready for
 * folder_name_suggest().  SIZE of 2 * strlen(RELPATH) + 1 always
 * suffices; a smaller OUT that is too short gives FOLDER_TOO_LONG.
 */
enum folder_problem folder_name_from_path(const char *relpath, char *out,
					  size_t size);

/*
 * The Maildir++ directory name for IMAP name NAME: "" for INBOX (the
 * maildir root itself; any case of "INBOX"), ".a.b" for "a/b", encoded in
 * modified UTF-7.  Returns FOLDER_OK or the problem that prevents it:
 * those of folder_name_from_path() except that a lone "inbox" is INBOX,
 * then FOLDER_DOT, FOLDER_RESERVED, FOLDER_TOO_LONG (more than 255
 * bytes).  Give SIZE >= 256; OUT is "" on a problem.
 */
enum folder_problem folder_name_to_maildir(const char *name, char *out,
					   size_t size);

/*
 * A name that has none of the problems of NAME, for folder_name_from_path()
 * and folder_name_to_maildir() alike: same levels; a name that is not
 * UTF-8 is taken as Latin-1 (Windows-1252 for 0x80-0x9f) and converted;
 * control characters dropped; '.' -> '_' (so "." -> "_", ".." -> "__");
 * an empty level -> "_"; a leading '~' -> '_'; a first level that reads
 * INBOX and is not exactly "INBOX" with levels below gets "-old"
 * ("Inbox" -> "Inbox-old", "inbox/x" -> "inbox-old/x"); too long: the
 * last level is shortened first, on a character boundary, and when no
 * level can be shortened any more (one character each) the last levels
 * are dropped (the first one stays).  Always fills
 * OUT (SIZE >= 2) with something usable.  Collisions: see
 * folder_set_suggest().
 */
void folder_name_suggest(const char *name, char *out, size_t size);

/*
 * A set of Maildir++ directory names of one user, to catch two source
 * names that map to one directory (never merge them silently).
 */
struct folder_set;
struct folder_set *folder_set_new(void);
void folder_set_free(struct folder_set **set);
/* Returns FOLDER_OK and remembers NAME, or FOLDER_COLLISION and sets
 * *other_r to the IMAP name that already has that directory (owned by the
 * set, valid until folder_set_free()).  A NAME that has a problem of its
 * own returns that problem and is not remembered.  Names are compared
 * by directory: "INBOX" and "inbox" collide, "a" and "A" don't. */
enum folder_problem folder_set_add(struct folder_set *set, const char *name,
				   const char **other_r);
/* folder_name_suggest(), then "-2", "-3"... on the last level until the
 * suggestion's directory is not yet in SET ("a.b" -> "a_b" -> "a_b-2").
 * The number is never cut: the last level is shortened for it, and when
 * levels have to be dropped it goes on the last level kept.
 * Does not add it.  When no such name can be made (a name so long that no
 * suffix fits), OUT is "": the admin has to choose one. */
void folder_set_suggest(const struct folder_set *set, const char *name,
			char *out, size_t size);

/*
 * Subscriptions.  UW's ~/.mailboxlist holds one name per line as the
 * client typed it ("mail/box", "~/mail/box", "INBOX"); Dovecot reads a
 * "subscriptions" file in the maildir root.
 *
 * mailboxlist_to_names() reads the .mailboxlist text (DATA, LEN bytes) and
 * returns an allocated NULL-terminated array of IMAP names (UTF-8, '/'),
 * with "~/" and each of the folder-root PREFIXES (e.g. "mail/", NULL-
 * terminated array) removed, duplicates and empty lines dropped.  Free
 * with folder_names_free().
 */
char **mailboxlist_to_names(const char *data, size_t len,
			    const char *const *prefixes);
void folder_names_free(char **names);

/*
 * mailboxlist_to_names() details: CRLF or LF; "~user/...", absolute
 * paths, UW namespaces ("#news.") and remote names ("{host}...") are not
 * folders of this user and are dropped; trailing '/' removed; levels are
 * converted like folder_name_from_path() does (modified UTF-7 decoded), so
 * a name equals what that function gives for the same folder, problems
 * included; "inbox" in any case becomes "INBOX".
 */

/*
 * Write the subscriptions file for NAMES (IMAP names, each must pass
 * folder_name_to_maildir(), else M2D_ERR_NAME and nothing is written;
 * duplicates are written once) into the maildir root open as DIRFD.
 *
 * Format: no header, one Dovecot storage name per line: the Maildir++
 * directory without its leading '.', i.e. modified UTF-7 with '.' between
 * levels ("INBOX", "a.b", "Entw&APw-rfe").  Dovecot 2.3 reads a file
 * without the "V\t2\n\n" header as this version-0 form, whatever the
 * namespace separator (seen with 2.3.19: doveadm mailbox list -s and IMAP
 * LSUB; Dovecot then appended its own subscription in the same form), and
 * so does the newer source (subscription-file.c keeps version 0); the
 * Dovecot versions from before the V2 header (1.x) read and wrote only
 * this form.  The V2 form (TAB between levels) would turn nested names
 * into one odd name there.
 *
 * Written as "subscriptions.lock" (O_EXCL|O_NOFOLLOW, 0600, fchown to
 * UID/GID when they are not -1, fsync) then renamed over "subscriptions":
 * the same dotlock Dovecot takes, so a Dovecot changing subscriptions at
 * the same time is excluded (M2D_ERR_LOCKED; a lock older than 30 s is
 * stale and removed, as Dovecot does).  Returns 0 or -1 with ERR set.
 */
int subscriptions_write(int dirfd, const char *const *names, int uid, int gid,
			struct m2d_error *err);

#endif
