/* SPDX-License-Identifier: MIT */
#ifndef M2D_MAILDIR_READER_H
#define M2D_MAILDIR_READER_H

/*
 * A Maildir++ folder as Dovecot left it, read: the message files of cur/
 * and new/ with the flags and keyword letters of their names ("<base>:2,
 * <flags>"), dovecot-uidlist (which UID each file has) and
 * dovecot-keywords (the name of each keyword letter); and the maildir
 * root's subscriptions file.  For verify (a converted folder against its
 * mbox) and the rollback (what reached the maildir after cutover).
 *
 * Everything below the maildir root is the user's: the root, the folder,
 * cur/ and new/ are opened by sf_open_dir() (no symlink followed), each
 * file by sf_open_read() (no symlink, FIFO or device; its size limit from
 * fstat before a byte is read: dovecot-uidlist 64 MB, dovecot-keywords
 * and subscriptions 1 MB), and nothing is written.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "m2d-error.h"
#include "maildir-writer.h"

/* What is read of the files a user controls, at most */
#define MAILDIR_UIDLIST_MAX ((long long)64 * 1024 * 1024)
#define MAILDIR_KEYWORDS_MAX ((long long)1024 * 1024)
#define MAILDIR_SUBSCRIPTIONS_MAX ((long long)1024 * 1024)

/* A line of dovecot-uidlist. */
struct maildir_uid {
	unsigned long uid;
	char *base;			/* owned: the file name up to ':' */
};

/* A file in cur/ or new/ (names beginning with '.' are not listed). */
struct maildir_file {
	char *name;			/* owned: the whole file name */
	char *base;			/* owned: NAME up to ':' */
	bool in_new;			/* in new/, else cur/ */
	bool special;			/* not a regular file (a symlink, FIFO,
					   device): no message; listed only
					   without MAILDIR_OPEN_REFUSE_SPECIAL
					 */
	time_t mtime;
	unsigned int flags;		/* enum maildir_flag, from NAME */
	unsigned int keywords;		/* bit i = keyword letter 'a' + i */
	unsigned long uid;		/* its dovecot-uidlist UID, 0: none */
};

struct maildir_reader {
	char *path;			/* ROOT or ROOT/DIRNAME: for messages */
	int dirfd, curfd, newfd;	/* the folder, cur/, new/ */
	unsigned long uidvalidity;	/* of dovecot-uidlist; 0: none */
	unsigned long nextuid;		/* its N, 0 when not given */
	struct maildir_uid *uids;	/* the uidlist's lines, in its order */
	size_t nuids;
	char *keywords[MAILDIR_MAX_KEYWORDS];	/* letter -> name, or NULL */
	struct maildir_file *files;	/* cur/ and new/, sorted by base */
	size_t nfiles;
	struct maildir_uid **uid_index;	/* private: UIDS by base */
};

enum maildir_open_flags {
	/* no dovecot-uidlist: no UIDs (every file is unlisted), no error */
	MAILDIR_OPEN_UIDLIST_OPTIONAL = 1 << 0,
	/* a uidlist line Dovecot does not write ("<uid> [ext] :<base>",
	 * UIDs rising, 32 bits, no '/' nor NUL in the base, no base
	 * twice) refuses the folder
	 * (M2D_ERR_MALFORMED, the line named); else such lines are skipped
	 * (those without " :") or taken as they are */
	MAILDIR_OPEN_UIDLIST_STRICT = 1 << 1,
	/* read dovecot-keywords (maildir_reader_read_keywords) */
	MAILDIR_OPEN_KEYWORDS = 1 << 2,
	/* a file in cur/ or new/ that is not a regular file refuses the
	 * folder (M2D_ERR_UNSAFE); else it is listed, special */
	MAILDIR_OPEN_REFUSE_SPECIAL = 1 << 3,
};

/*
 * Opens the folder DIRNAME ("" the root itself: INBOX; ".a.b") of the
 * maildir ROOT and reads it as FLAGS (enum maildir_open_flags) say.
 * Returns 1 read, 0 when ROOT or the folder does not exist (ERR says so),
 * -1 on any other error (ERR).  MD is to be freed by maildir_reader_free()
 * in every case.
 */
int maildir_reader_open(struct maildir_reader *md, const char *root,
			const char *dirname, unsigned int flags,
			struct m2d_error *err);
void maildir_reader_free(struct maildir_reader *md);

/* Reads dovecot-keywords into MD->keywords; absent is no error (0).
 * Lines that are not "<letter number> <name>" are skipped. */
int maildir_reader_read_keywords(struct maildir_reader *md,
				 struct m2d_error *err);

/* The file whose base is BASE, or NULL. */
const struct maildir_file *
maildir_reader_file(const struct maildir_reader *md, const char *base);
/* The dovecot-uidlist line of BASE, or NULL. */
const struct maildir_uid *
maildir_reader_find_uid(const struct maildir_reader *md, const char *base);

/* The flags (enum maildir_flag) and keyword letters (bit i = 'a' + i)
 * after ":2," in the file name NAME; 0 when there is none. */
void maildir_name_flags(const char *name, unsigned int *flags_r,
			unsigned int *keywords_r);
/* FLAGS as their letters (DFPRST order) into BUF; returns BUF. */
const char *maildir_flags_str(unsigned int flags, char buf[8]);

/* The IMAP name ("a/b", UTF-8) of the Maildir++ directory DIRNAME
 * (".a.b", modified UTF-7 levels), allocated; NULL when it is none. */
char *maildir_dirname_to_name(const char *dirname);

/*
 * Dovecot's subscriptions file of the maildir ROOT (open as ROOTFD) as
 * IMAP names (UTF-8, '/' between levels): after a "V\t2" header TAB
 * separates the levels, in the plain form '.'; each level is modified
 * UTF-7; a line that is no such name is skipped.  *NAMES_R gets them,
 * NULL-terminated, or NULL when there is no such file.  Returns 0, or -1
 * with ERR when it cannot be read (a FIFO, too large, ...).
 */
int maildir_read_subscriptions(int rootfd, const char *root,
			       char ***names_r, struct m2d_error *err);
/* Frees NAMES (NULL-terminated; NULL is fine). */
void maildir_names_free(char **names);

#endif
