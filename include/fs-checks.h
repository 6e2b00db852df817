/* SPDX-License-Identifier: MIT */
#ifndef M2D_FS_CHECKS_H
#define M2D_FS_CHECKS_H

/*
 * Pre-flight checks of the target file system: inodes, space and
 * subdirectories, and the result type every pre-flight check
 * shares.
 *
 * Three steps, each usable alone:
 *
 *   fs_estimate_plan()   what the migration will need: users, folders,
 *                        messages (a fast scan of the sources: valid From_
 *                        lines only), bytes rounded per message, the
 *                        fullest directory of maildir roots, the user with
 *                        the most folders
 *   fs_info_probe()      what the target file system offers: statfs(),
 *                        statvfs(), its mountinfo entry, which driver runs
 *                        it and, for ext2/3/4, the superblock's features
 *   fs_check_inodes()    pure functions of the two: a struct check_result
 *   fs_check_space()     each (PASS / WARN / FAIL, figures, one-line
 *   fs_check_subdirs()   detail, one-line fix)
 *
 * Tests (and the wizard's "what if") fill struct fs_info or struct
 * fs_estimate themselves; struct fs_probe points the probe at another
 * mountinfo file and sysfs tree.
 *
 * Nothing here prints, exits or writes anything.  The sources are opened
 * read-only (O_NOFOLLOW); the target is only stat()ed and its directories
 * of maildir roots listed.
 */

#include <stdbool.h>
#include <stddef.h>

#include "m2d-error.h"
#include "plan.h"

/* ---- the result of one pre-flight check (shared by all checks) ---- */

enum check_status {
	CHECK_PASS = 0,
	CHECK_WARN = 1,
	CHECK_FAIL = 2,
};

#define CHECK_MAX_FIGURES 20
#define CHECK_DETAIL_MAX 512
#define CHECK_FIX_MAX 1024

/* A measured figure, for JSON: KEY is a static, untranslated identifier
 * ("needed", "free", "limit"); a figure that is unknown or does not apply
 * is left out rather than given a sentinel value. */
struct check_figure {
	const char *key;
	long long value;
};

struct check_result {
	const char *id;		/* stable machine id: "inodes", "space",
				 * "subdirs" (static, never translated) */
	const char *title;	/* translated, static ("Free inodes") */
	enum check_status status;
	struct check_figure figures[CHECK_MAX_FIGURES];
	size_t nfigures;
	char detail[CHECK_DETAIL_MAX];	/* translated, one line; also for
					 * PASS (notes such as "btrfs
					 * allocates inodes as needed") */
	char fix[CHECK_FIX_MAX];	/* translated, one line; "" for PASS */
};

/* Empty result (PASS, no figures, "" texts) with ID and TITLE. */
void check_result_init(struct check_result *res, const char *id,
		       const char *title);
/* Append a figure (KEY must be static).  0, or -1 when full. */
int check_result_figure(struct check_result *res, const char *key,
			long long value);
/* The figure KEY, or NULL. */
const struct check_figure *
check_result_get(const struct check_result *res, const char *key);
/* "pass" / "warn" / "fail": for JSON, never translated. */
const char *check_status_id(enum check_status status);
/* Translated "PASS" / "WARN" / "FAIL" for people. */
const char *check_status_str(enum check_status status);

/* ---- what the migration needs ---- */

/* Rounded byte sums are kept for the block sizes 512 << i. */
#define FS_EST_NBLOCK 9		/* 512 B .. 128 KiB */
/* Every estimate gets this margin on top. */
#define FS_MARGIN_PERCENT 5
/* Inodes: 1 per message, 9 per folder (the folder's directory, cur, new,
 * tmp, dovecot-uidlist, index files, maildirfolder), 6 per user
 * (counted on a Dovecot 2.3 maildir: 4 folders, 4 messages: 40). */
#define FS_INODES_PER_FOLDER 9
#define FS_INODES_PER_USER 6
/* WARN when a figure reaches this share of what is available. */
#define FS_WARN_PERCENT 80

/* One mbox, counted. */
struct fs_scan {
	unsigned long long messages;	/* UW's pseudo-message not counted */
	unsigned long long bytes;	/* message bytes, From_ lines not
					 * counted (an upper bound of what
					 * the maildir files hold) */
	unsigned long long rounded[FS_EST_NBLOCK];
					/* bytes, each message rounded up
					 * to 512 << i */
	bool pseudo;			/* message 1 was UW's pseudo-message */
};

/*
 * Count the messages of the mbox open as FD (read with pread() from offset
 * 0 to the end; the file offset is not used).  A message starts at a line
 * beginning "From " that from_line_valid() accepts -- the same rule as the
 * mbox reader -- and only such lines are looked at, so this runs at the
 * speed of reading (candidates are found 64 bytes at a time with AVX2,
 * 16 otherwise; reads of 256 KiB).  A "From " line longer than 64 KiB is
 * not a separator.
 * PATH is only for ERR.  Returns 0 and fills SCAN, or -1 with ERR (read
 * failed).
 */
int fs_scan_count(int fd, const char *path, struct fs_scan *scan,
		  struct m2d_error *err);

#define FS_NAME_MAX 256
#define FS_PATH_MAX 1024

struct fs_estimate {
	unsigned long long users;	/* plan users (each gets a maildir) */
	unsigned long long folders;	/* taken folders, INBOXes included */
	unsigned long long messages;
	unsigned long long bytes;	/* message bytes (fs_scan) */
	unsigned long long rounded[FS_EST_NBLOCK];
	unsigned long long unreadable;	/* taken folders that could not be
					 * scanned: their plan size is
					 * counted as bytes, 0 messages */
	bool scanned;			/* messages/bytes come from a scan */

	/* The directory that will hold the most maildir roots (the target
	 * base for layout "%u"; one of its subdirectories for "%1u/%u"):
	 * planned roots plus subdirectories already there that are not
	 * planned ones. */
	unsigned long long dir_entries;
	unsigned long long dir_existing;	/* of these, subdirectories
						 * already there that are no
						 * planned root */
	char dir_path[FS_PATH_MAX];
	/* The user whose maildir root will have the most subdirectories:
	 * one per folder other than INBOX (Maildir++), plus cur, new, tmp. */
	unsigned long long user_folders;	/* that user's taken folders
						 * other than INBOX */
	char user_name[FS_NAME_MAX];
};

/* Called after each folder scanned; return non-zero to stop
 * (M2D_ERR_CANCELLED). */
typedef int fs_estimate_progress_fn(size_t folders_done, size_t folders_total,
				    unsigned long long bytes_done, void *ctx);

/*
 * Fill EST from PLAN: users, taken folders, the directories of maildir
 * roots (plan_user.target; the existing entries of those directories are
 * listed), and, when SCAN is true, messages and bytes from
 * fs_scan_count() over each taken folder's source (opened O_RDONLY |
 * O_NOFOLLOW; a source that cannot be opened or read is counted in
 * est->unreadable, with its plan size as bytes).  Without SCAN, bytes
 * are the plan sizes and messages 0 (scanned = false).
 * Returns 0, or -1 with ERR (cancelled, a directory of maildir roots that
 * exists but cannot be listed, out of memory).
 */
int fs_estimate_plan(const struct plan *plan, bool scan,
		     fs_estimate_progress_fn *progress, void *ctx,
		     struct fs_estimate *est, struct m2d_error *err);

/* Bytes needed with each message rounded up to BLOCK_SIZE: exact for a
 * power of two from 512 to 128 KiB, otherwise an upper bound. */
unsigned long long fs_estimate_bytes(const struct fs_estimate *est,
				     unsigned long block_size);

/* ---- what the target file system offers ---- */

#define FS_MAGIC_EXT 0xEF53ULL		/* ext2, ext3, ext4 */
#define FS_MAGIC_XFS 0x58465342ULL
#define FS_MAGIC_BTRFS 0x9123683EULL
#define FS_MAGIC_TMPFS 0x01021994ULL
#define FS_MAGIC_NFS 0x6969ULL

enum fs_ext_driver {
	FS_DRIVER_UNKNOWN = 0,	/* could not tell */
	FS_DRIVER_EXT4,		/* the ext4 driver (whatever mountinfo
				 * calls the file system) */
	FS_DRIVER_OLD,		/* the old ext2 or ext3 driver: 32,000
				 * links */
};

struct fs_info {
	char path[FS_PATH_MAX];		/* as asked */
	char probed[FS_PATH_MAX];	/* PATH or its nearest existing
					 * ancestor */
	bool exists;			/* PATH itself exists */

	/* statfs() / statvfs() of PROBED */
	unsigned long long magic;	/* f_type */
	unsigned long bsize;		/* f_bsize */
	unsigned long frsize;		/* f_frsize */
	unsigned long long blocks;	/* f_blocks (f_frsize units) */
	unsigned long long bavail;	/* f_bavail (f_frsize units) */
	unsigned long long files;	/* f_files; 0: dynamic (btrfs) */
	unsigned long long favail;	/* f_favail */

	/* From mountinfo; "" when not found. */
	char fstype[32];		/* "ext4", "ext3", "xfs" ... */
	char source[FS_PATH_MAX];	/* "/dev/sda1" */
	char mountpoint[FS_PATH_MAX];

	/* ext2/3/4 only */
	enum fs_ext_driver driver;
	int dir_nlink;		/* superblock feature: 1, 0, -1 unknown */
	int dir_index;		/* htree directories: 1, 0, -1 unknown */
	int super_errno;	/* why the superblock was not read, or 0 */
};

/* Where the probe looks; NULL fields (or a NULL struct) = the system. */
struct fs_probe {
	const char *mountinfo;		/* "/proc/self/mountinfo" */
	const char *sysfs;		/* "/sys": dev/block/MAJ:MIN and
					 * fs/ext4/NAME tell the driver */
	const char *kernel_release;	/* uname -r; ext3 on >= 4.3 is
					 * always the ext4 driver */
};

/*
 * Fill INFO for the file system that holds PATH, or would hold it: when
 * PATH does not exist yet, its nearest existing ancestor is probed.
 * mountinfo: the entry with PROBED's st_dev whose mount point is the
 * longest prefix of its real path (any device when none matches).  For
 * ext2/3/4 the superblock is read from the mount source when that is a
 * readable block device of the same st_dev (or a regular file: an image);
 * failing that dir_nlink/dir_index stay -1 and super_errno says why.
 * Returns 0, or -1 with ERR (stat/statfs/statvfs of PROBED failed).  A
 * missing or unreadable mountinfo or sysfs is no error (fields stay
 * unknown).
 */
int fs_info_probe(const char *path, const struct fs_probe *probe,
		  struct fs_info *info, struct m2d_error *err);

/*
 * The subdirectory limit of a directory on FS: the number of
 * subdirectories at which mkdir() fails with EMLINK, or -1 for none
 * known.  31,998 on the old ext2/ext3 driver; 64,998 on the ext4 driver
 * without dir_nlink or dir_index (or when the superblock could not be
 * read: assumed); none with both, nor on XFS, btrfs, tmpfs.
 * *ASSUMED_R (may be NULL) is set when the figure is a guess.
 */
long long fs_subdir_limit(const struct fs_info *fs, bool *assumed_r);

/* ---- the checks: pure functions, never fail ---- */

/* "inodes": messages + 9 per folder + 6 per user + 5% against f_favail. */
enum check_status fs_check_inodes(const struct fs_estimate *est,
				  const struct fs_info *fs,
				  struct check_result *res);
/* "space": bytes rounded per message to the block size, + 9 blocks per
 * folder and 6 per user, + 5%, against f_bavail * f_frsize. */
enum check_status fs_check_space(const struct fs_estimate *est,
				 const struct fs_info *fs,
				 struct check_result *res);
/* "subdirs": the fullest directory of maildir roots and the user with
 * the most folders (+3: cur, new, tmp) against fs_subdir_limit(). */
enum check_status fs_check_subdirs(const struct fs_estimate *est,
				   const struct fs_info *fs,
				   struct check_result *res);

enum { FS_CHECK_INODES, FS_CHECK_SPACE, FS_CHECK_SUBDIRS, FS_CHECK_COUNT };

/*
 * Probe TARGET_BASE (PROBE as in fs_info_probe) and run the three checks
 * into RES[FS_CHECK_COUNT], in the order above.  INFO_R may be NULL.
 * Returns the worst status (0..2), or -1 with ERR when the probe failed.
 */
int fs_checks_run(const char *target_base, const struct fs_estimate *est,
		  const struct fs_probe *probe,
		  struct check_result res[FS_CHECK_COUNT],
		  struct fs_info *info_r, struct m2d_error *err);

#endif
