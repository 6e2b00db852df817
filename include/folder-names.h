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
	FOLDER_RESERVED,	/* a name Dovecot uses itself (cur/new/tmp) */
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
 * first problem found.
 */
enum folder_problem folder_name_from_path(const char *relpath, char *out,
					  size_t size);

/*
 * The Maildir++ directory name for IMAP name NAME: "" for INBOX (the
 * maildir root itself; any case of "INBOX"), ".a.b" for "a/b", encoded in
 * modified UTF-7.  Returns FOLDER_OK or the problem that prevents it.
 */
enum folder_problem folder_name_to_maildir(const char *name, char *out,
					   size_t size);

/*
 * A name that has none of the problems of NAME (same level structure,
 * '.' -> '_', control characters dropped, Latin-1 converted to UTF-8, a
 * clash with INBOX or another name resolved by a suffix).  Always fills
 * OUT with something usable.
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
 * *other_r to the IMAP name that already has that directory. */
enum folder_problem folder_set_add(struct folder_set *set, const char *name,
				   const char **other_r);

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
 * Write the subscriptions file for NAMES into the maildir root open as
 * DIRFD (temp file + rename, mode 0600, owned by UID/GID when they are
 * not -1).  Returns 0 or -1 with ERR set.
 */
int subscriptions_write(int dirfd, const char *const *names, int uid, int gid,
			struct m2d_error *err);

#endif
