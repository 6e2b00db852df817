/* SPDX-License-Identifier: MIT */
#ifndef M2D_CONVERT_PRIVATE_H
#define M2D_CONVERT_PRIVATE_H

/* What convert.c (mbox) and convert-uw.c (mbx, mix, MMDF) share. */

#include <sys/stat.h>

#include "convert.h"
#include "fs-owner.h"
#include "maildir-writer.h"
#include "mbox-reader.h"
#include "uw-uids.h"

#define PROGRESS_EVERY 256

struct convert_ctx {
	const struct convert_settings *set;
	struct convert_stats *stats;
	const char *mbox;
	struct maildir_folder *folder;

	struct uw_uids uids;
	bool dropped_warned;
	struct fs_owner fsown;		/* creating messages as the user */
};

struct dotlock;

/* The caller's callbacks (run as ourselves, not as the user). */
void convert_warn(struct convert_ctx *c, const struct m2d_error *w);
void convert_progress(struct convert_ctx *c);

/* Letters for the ' '-separated keywords WORDS (MSG NULL: the folder's
 * declared ones; else where a dropped one is said to be). */
unsigned int convert_keyword_bits(struct convert_ctx *c, const char *words,
				  const struct mbox_msg *msg);

/* The maildir directory of folder NAME, or -1 with ERR (M2D_ERR_NAME). */
int convert_dirname(const char *name, const char *source, char *dirname,
		    size_t size, struct m2d_error *err);

/*
 * Open SOURCE with FLAGS, no symlink followed below set->source_base, a
 * foreign file with other links refused; with LOCKS the mbox dot-lock
 * (made when CREATE_LOCK) and the kernel locks.  *PARENT_R (when not
 * NULL) gets its directory open.  Returns the fd or -1 with ERR.
 */
int convert_open_source(const struct convert_settings *set,
			const char *source, int flags, bool locks,
			bool create_lock, struct dotlock **lock_r,
			int *parent_r, struct m2d_error *err);

/* One source in UW's mbx, mix or MMDF format (set->format), open and
 * locked as UW locked it (uw_src_open; mbx: the reader's shared flock;
 * mix: the reader's flocks; MMDF: the mbox locks too, the dot-lock made
 * unless set->dry_run or !set->dotlock).  Its messages as uw-format.h
 * says. */
struct uw_src {
	enum uw_format fmt;
	struct mbx_reader *mbx;
	struct mix_reader *mix;
	struct mmdf_reader *mmdf;
	struct dotlock *lock;	/* MMDF: the mbox dot-lock */
	int fd;
	struct stat st;		/* of the file or directory */
};

int uw_src_open(const struct convert_settings *set, const char *path,
		struct uw_src *s, struct m2d_error *err);
const struct uw_folder *uw_src_folder(const struct uw_src *s);
int uw_src_next(struct uw_src *s, struct uw_msg *msg, struct m2d_error *err);
int uw_src_read(struct uw_src *s, const unsigned char **data_r,
		size_t *len_r, struct m2d_error *err);
void uw_src_close(struct uw_src *s);
/* Whether UW's snarf into an INBOX of format FMT moved a spool message
 * with FLAGS (enum uw_flag) in: mbx_snarf moves every one, mix_snarf
 * leaves out one marked \Deleted (c-client's mix.c). */
bool uw_snarf_moves(enum uw_format fmt, unsigned int flags);

/* convert_folder_stage() for set->format mbx, mix or MMDF. */
int convert_uw_stage(const char *source, const char *maildir,
		     const struct convert_settings *set,
		     struct convert_stats *stats,
		     struct maildir_folder **staged_r, struct m2d_error *err);

#endif
