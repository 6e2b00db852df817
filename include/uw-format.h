/* SPDX-License-Identifier: MIT */
#ifndef M2D_UW_FORMAT_H
#define M2D_UW_FORMAT_H

/*
 * UW-IMAP's other folder formats: what is common to the mbx,
 * mix and MMDF readers (mbx-reader.h, mix-reader.h, mmdf-reader.h), and
 * telling the formats apart.  (MMDF is served like an mbox: UW's fields
 * out, CRLF; its reader hands out those bytes.)
 *
 * How convert dispatches by format (plan.c finds them, convert-uw.c
 * converts them; what follows is the design it follows):
 *   uw_format_detect() on each candidate below a home or the spool gives
 *   UW_FMT_MBOX (the mbox reader, as today), UW_FMT_MBX (mbx_reader_*),
 *   UW_FMT_MIX (a directory: mix_reader_*), UW_FMT_MMDF
 *   (mmdf_reader_*; locked like an mbox: the caller's dot-lock, the
 *   reader's flock), UW_FMT_TENEX / UW_FMT_MTX (recognised by name and
 *   header, reported and skipped).  convert_folder() would take a
 *   "source" with the four operations open/next/read/close over a
 *   struct uw_msg, the folder data in struct uw_folder: the UID, the
 *   flags (enum uw_flag, UW_OLD unset for \Recent), the keywords
 *   (declared spelling, ' '-separated) and the INTERNALDATE come ready
 *   from these readers, no X-UID / X-IMAPbase logic (uw-uids.h) applies,
 *   and UIDVALIDITY / UIDNEXT are the folder's own.  A reader that says
 *   uid_reset (c-client would have renumbered) gives UIDs 1..n that are
 *   c-client's, but the converter must choose a new UIDVALIDITY as UW did
 *   (time of the conversion).  mbx and mix messages are stored with CRLF
 *   line ends and served as stored, byte for byte: no header
 *   is stripped (a Status:, X-UID: or X-Keywords: inside an mbx or mix
 *   message is mail, c-client serves it), no CR dropped; RFC822.SIZE is
 *   the stored size.  The writer may store LF with W= the CRLF size, but
 *   only where every LF had its CR: a bare LF or CR in a stored message
 *   (an APPEND can leave one) is served by c-client as it is and by
 *   Dovecot changed, a difference to report.  The plan sees a mix
 *   directory as one folder (its files start with ".mix",
 *   uw_mix_internal_name) and never descends into it; a mix INBOX is
 *   ~/INBOX (c-client's mix_parameters GET_INBOXPATH), an mbx one too.
 *   Incremental runs: mbx grows by appends and changes flags in place
 *   (re-read the flags of what was converted; the UIDs stay); mix adds
 *   index and status records (the index lists what lives).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "m2d-error.h"
#include "mbox-reader.h"	/* enum uw_flag, MBOX_MAX_KEYWORDS */

enum uw_format {
	UW_FMT_UNKNOWN = 0,	/* no mailbox of UW's (or empty) */
	UW_FMT_MBOX,		/* unix mbox (mbox-reader.h) */
	UW_FMT_MBX,		/* "*mbx*" file */
	UW_FMT_MIX,		/* directory with .mixmeta */
	UW_FMT_MMDF,		/* ^A^A^A^A separators */
	UW_FMT_TENEX,		/* tenex: "date,size;flags" lines, LF */
	UW_FMT_MTX,		/* mtx: the same with CRLF */
};

/* "mbox", "mbx", "mix", "mmdf", "tenex", "mtx" or "unknown". */
const char *uw_format_name(enum uw_format fmt);

/*
 * Which of UW's formats NAME below DIRFD is, by its first bytes (a
 * directory: by its .mixmeta), opened with sf_open_read / sf_open_dir
 * (no symlink followed).  Returns 1 with *FMT_R set (UW_FMT_UNKNOWN: a
 * regular file or directory that is none of them, an empty file), -1 on
 * error (ENOENT included).
 */
int uw_format_detect(int dirfd, const char *name, const char *path,
		     enum uw_format *fmt_r, struct m2d_error *err);

/* The same on the first N bytes of a file. */
enum uw_format uw_format_of_head(const void *buf, size_t n);

/* A file name inside a mix directory (".mixmeta", ".mix1a2b3c4d", ...):
 * part of the folder, never a folder of its own. */
bool uw_mix_internal_name(const char *name);

struct uw_folder {
	unsigned long uidvalidity;
	unsigned long uidnext;		/* last UID + 1, as c-client says */
	/* c-client's user_flags: the declared keywords by bit, NULL where
	 * a word is too long (no message can have it) or absent. */
	char *slots[MBOX_MAX_KEYWORDS];
	char *keywords;			/* the declared ones, ' '-separated */
	/* UIDs c-client would have found wrong (not ascending, beyond the
	 * last): it renumbered and chose a new UIDVALIDITY, which the
	 * converter must do too; the UIDs given are c-client's new ones. */
	bool uid_reset;
};

struct uw_msg {
	unsigned long seq;		/* 1-based, live messages only */
	unsigned long uid;
	unsigned int flags;		/* enum uw_flag; no UW_OLD: \Recent */
	const char *keywords;		/* declared spelling, ' '-separated */
	time_t date;			/* INTERNALDATE, UTC */
	int tz_offset;			/* its zone, minutes east of UTC */
	unsigned long long size;	/* RFC822.SIZE: the bytes served */
	long long offset;		/* where its bytes start in the file */
};

/*
 * Settings common to the readers.  A lock held against us (the
 * exclusive flock of an mbx rewrite, of a mix index update) is waited
 * for up to lock_wait_ms (0: 10 s), then M2D_ERR_LOCKED.
 */
struct uw_reader_settings {
	unsigned long long max_message;	/* 0: no limit */
	bool allow_sparse;
	unsigned int lock_wait_ms;
};

/* INTERNALDATE as c-client's mail_parse_date reads the dates it wrote
 * ("dd-Mmm-yyyy hh:mm:ss +zzzz", the day maybe " 7").  Returns 1 with
 * *DATE_R (UTC, as mail_longdate) and *TZ_R, 0 when it does not parse. */
int uw_parse_imap_date(const char *s, size_t len, time_t *date_r, int *tz_r);

/* c-client's mail_longdate over MESSAGECACHE's fields (YEAR since 1970,
 * each as wide as its bit field): seconds since the epoch, UTC. */
unsigned long uw_longdate(unsigned int year, unsigned int month,
			  unsigned int day, unsigned int hours,
			  unsigned int minutes, unsigned int seconds,
			  bool zoccident, unsigned int zhours,
			  unsigned int zminutes);

/* A date from its fields (the zone in minutes east), as mail_longdate. */
time_t uw_date_from_fields(int year, int mon, int day, int hh, int mm,
			   int ss, int tz_min);

/* KEYWORD bits of a message as c-client names them: FOLDER's slots in
 * bit order, ' '-separated, into BUF (SIZE: 30 * 51 is enough). */
void uw_keywords_str(const struct uw_folder *folder, unsigned long bits,
		     char *buf, size_t size);

/* FOLDER->keywords: every declared keyword, ' '-separated (allocated). */
void uw_folder_set_keywords(struct uw_folder *folder);
void uw_folder_free(struct uw_folder *folder);

/* c-client's system flags as mbx and mix store them (mail.h fSEEN...). */
enum uw_sf {
	UW_SF_SEEN = 0x1,
	UW_SF_DELETED = 0x2,
	UW_SF_FLAGGED = 0x4,
	UW_SF_ANSWERED = 0x8,
	UW_SF_OLD = 0x10,
	UW_SF_DRAFT = 0x20,
};

/* Our flags (enum uw_flag) for the system flags SF; UW_OLD (no longer
 * \Recent) only when OLD_OK (c-client: a message without a UID yet is
 * \Recent whatever it stored). */
unsigned int uw_flags_of_sf(unsigned int sf, bool old_ok);

/* flock(FD, LOCK_SH), waiting up to WAIT_MS for an exclusive holder;
 * -1 with M2D_ERR_LOCKED (or SYS) naming PATH. */
int uw_flock_shared(int fd, unsigned int wait_ms, const char *path,
		    struct m2d_error *err);

/* What a reader of one file (mbx, MMDF) checks once FD is open: the
 * shared flock (SET's wait), then the locked file, whose stat goes to
 * ST_R: a regular file, with no holes unless SET allows them. */
int uw_file_open_checks(int fd, const struct uw_reader_settings *set,
			struct stat *st_r, const char *path,
			struct m2d_error *err);

/* LEN bytes of FD at OFF, fewer (*GOT_R) only at the end of the file;
 * -1 on a read error (naming PATH and OFF). */
int uw_pread_all(int fd, void *buf, size_t len, long long off,
		 size_t *got_r, const char *path, struct m2d_error *err);

/* The bytes of the current message, served in chunks of UW_CHUNK. */
#define UW_CHUNK (64 * 1024)
struct uw_body {
	long long pos;			/* of the next byte in the file */
	unsigned long long left;	/* bytes not served yet */
	unsigned char *buf;		/* UW_CHUNK bytes */
};

/* The next chunk of B from FD: 1 with *DATA_R and *LEN_R, 0 at the end
 * of the message, -1 on an error; a file that ends first is
 * M2D_ERR_CHANGED with SHRANK (translated) as the message. */
int uw_body_read(struct uw_body *b, int fd, const char *path,
		 const char *shrank, const unsigned char **data_r,
		 size_t *len_r, struct m2d_error *err);

#endif
