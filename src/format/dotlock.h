/* SPDX-License-Identifier: MIT */
#ifndef M2D_DOTLOCK_H
#define M2D_DOTLOCK_H

/*
 * The mailbox locks UW-IMAP and Postfix use, and Dovecot's lock on a
 * maildir's dovecot-uidlist.
 */

#include <stdbool.h>

#include "m2d-error.h"

/*
 * Which locks an mbox is read (and written) under, as the site's mail
 * system locks it (mbox2dovecot.conf: mbox_locks, mbox_lock_wait,
 * mbox_lock_stale):
 *   dotlock  MBOX.lock: Postfix's local(8) (mailbox_delivery_lock, on
 *            Linux "fcntl, dotlock" by default: postconf -d) and UW's
 *            c-client (dotlock_lock() in env_unix.c) make it empty
 *            (O_CREAT|O_EXCL, nothing written), so an empty lock is a
 *            live one.  Postfix breaks one whose ctime is older than
 *            stale_lock_time (500 s by default), c-client one older than
 *            5 minutes (locktimeout); Postfix tries deliver_lock_attempts
 *            (20) times, deliver_lock_delay (1 s) apart, then defers.
 *   fcntl    a POSIX record lock on the file (Postfix).
 *   flock    a BSD flock() lock on the file (UW: unix_lock() takes the
 *            dotlock, then flock(LOCK_EX) to append or rewrite).
 * On Linux flock and fcntl do not see each other: a reader takes every
 * one the writers use (shared, for fcntl and flock), and holds them while
 * it reads, so that no writer appends meanwhile.
 */
#define MBOX_LOCK_DOTLOCK	0x1
#define MBOX_LOCK_FCNTL		0x2
#define MBOX_LOCK_FLOCK		0x4
#define MBOX_LOCKS_DEFAULT \
	(MBOX_LOCK_DOTLOCK | MBOX_LOCK_FCNTL | MBOX_LOCK_FLOCK)
/* How long a lock another process holds is waited for before giving up
 * with M2D_ERR_LOCKED ("try again later", exit 3): Postfix's 20 attempts
 * 1 s apart. */
#define MBOX_LOCK_WAIT_DEFAULT 20
/* A dotlock whose ctime is older than this is stale: Postfix's
 * stale_lock_time (UW's is shorter, 300 s: one both find stale). */
#define MBOX_LOCK_STALE_DEFAULT 500
/* Kept for callers that only need "fresh or not" (checks). */
#define DOTLOCK_STALE_SECS MBOX_LOCK_STALE_DEFAULT

struct mbox_lock_settings {
	unsigned int locks;	/* MBOX_LOCK_* */
	int wait_secs;		/* >= 0 */
	int stale_secs;		/* > 0 */
};

/* The process's settings (set once, before any thread starts; the
 * defaults until then).  m2d_config_load() sets them from the config. */
void mbox_locks_configure(const struct mbox_lock_settings *set);
const struct mbox_lock_settings *mbox_locks_get(void);

/* "dotlock fcntl flock", words separated by blanks or commas (Postfix's
 * mailbox_delivery_lock syntax), into MBOX_LOCK_* bits.  Returns 0, or -1
 * for an unknown word or an empty list. */
int mbox_locks_parse(const char *text, unsigned int *locks_r);

struct dotlock;

/*
 * The dotlock NAME.lock of NAME in the directory DIRFD (MBOX is its path,
 * for messages), when mbox_locks has "dotlock" (else nothing is done).
 * A lock held by another process is waited for, up to mbox_lock_wait
 * seconds, then M2D_ERR_LOCKED ("try again later").  Held means: it
 * exists, and its ctime is younger than mbox_lock_stale (an empty lock
 * is a live one: Postfix and UW write nothing in theirs); one that names
 * a process of this host that is gone ("PID\n", ours) is removed at once.
 * A stale one is removed, as Postfix and UW remove it, when CREATE, else
 * read without.  With CREATE our own lock is made (whole, holding our
 * PID: written under a temporary name, then linked to NAME.lock, so it
 * is never seen empty) and held until dotlock_release(); a directory we
 * may not write to gets the wait only.  *LOCK_R is NULL when we did not
 * create one.  READ_ONLY is unused (readers and writers wait alike).
 */
int dotlock_take_at(int dirfd, const char *name, const char *mbox,
		    bool create, bool read_only, struct dotlock **lock_r,
		    struct m2d_error *err);
void dotlock_release(struct dotlock **lock);

/* The temporary name our dotlock is made under beside the mbox:
 * DOTLOCK_MBOX_TEMP_PREFIX "<pid>-<tid>.lock" (a dot file, not a user or
 * folder name; holds our PID like the lock). */
#define DOTLOCK_MBOX_TEMP_PREFIX ".m2d-"

/* The lock being made in tmp/: DOTLOCK_TEMP_PREFIX "<pid>" (left only by
 * a process killed meanwhile; the next run removes it). */
#define DOTLOCK_TEMP_PREFIX "m2d-lock."

/* Dovecot breaks a dovecot-uidlist.lock not touched for this long. */
#define DOVECOT_LOCK_STALE_SECS 120

/*
 * Dovecot's own lock on NAME in DIRFD (PATH for messages): NAME.lock
 * holding "PID:HOST" as Dovecot writes it, so that Dovecot waits for us as
 * it waits for itself.  Made whole and owned by UID/GID (-1: leave) in
 * the directory TMPFD (the maildir's tmp/), then linked to its name.  A
 * lock of a process that is gone, or stale, is broken; a live one is
 * waited for up to WAIT_SECS, then M2D_ERR_LOCKED.  Released with
 * dotlock_release().
 */
int dotlock_dovecot_take(int dirfd, int tmpfd, const char *name,
			 const char *path, int uid, int gid, int wait_secs,
			 struct dotlock **lock_r, struct m2d_error *err);

/* The kernel locks mbox_locks names, shared, on the mbox open as FD: an
 * fcntl() read lock and a flock(LOCK_SH), held until FD is closed.  A
 * writer holding one (Postfix or UW appending right now) is waited for
 * up to mbox_lock_wait seconds, then M2D_ERR_LOCKED. */
int mbox_fcntl_rdlock(int fd, const char *path, struct m2d_error *err);

/* Is a kernel lock mbox_locks names held on FD by a writer now (fcntl
 * F_GETLK; flock tried shared and let go)?  For checks; never waits. */
bool mbox_kernel_locked(int fd);

#endif
