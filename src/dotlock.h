#ifndef M2D_DOTLOCK_H
#define M2D_DOTLOCK_H

/*
 * The mailbox locks UW-IMAP and Postfix share: the dotlock "MBOX.lock"
 * beside the mbox (the only lock both see on Linux, PLATFORM.md) and an
 * fcntl() lock on the file itself, which Postfix takes to deliver.
 */

#include <stdbool.h>

#include "m2d-error.h"

/* A dotlock older than this is stale, as UW decides. */
#define DOTLOCK_STALE_SECS (5 * 60)

struct dotlock;

/*
 * For reading NAME in the directory DIRFD (MBOX is its path, for
 * messages): fails with M2D_ERR_LOCKED when a fresh NAME.lock exists; with
 * CREATE also makes our own (O_EXCL) for the duration, when the directory
 * lets us (a read-only spool just gets the check).  *lock_r is NULL when
 * we did not create one.  READ_ONLY (the caller only reads, and takes
 * the fcntl read lock next): an empty NAME.lock a few seconds old does not
 * stop it.  It names no process: Postfix's (whose fcntl lock the read
 * lock meets) or one of ours killed between making and writing it.
 */
int dotlock_take_at(int dirfd, const char *name, const char *mbox,
		    bool create, bool read_only, struct dotlock **lock_r,
		    struct m2d_error *err);
void dotlock_release(struct dotlock **lock);

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

/* A shared fcntl() read lock on FD: M2D_ERR_LOCKED when a writer holds
 * it (Postfix delivering right now). */
int mbox_fcntl_rdlock(int fd, const char *path, struct m2d_error *err);

#endif
