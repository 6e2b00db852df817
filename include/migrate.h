/* SPDX-License-Identifier: MIT */
#ifndef M2D_MIGRATE_H
#define M2D_MIGRATE_H

/*
 * Bulk migration: the runbook's migrate-users and migrate-folders, done
 * exactly once whatever happens.
 *
 *   migrate_users()    each user's maildir root BASE/USER with cur/ new/
 *                      tmp/, owned by the user, 0700, ready for Postfix
 *   migrate_folders()  each planned folder converted (journal: converting,
 *                      convert, sync, done), N workers, biggest first; a
 *                      folder whose source is unchanged since it was done
 *                      costs a stat; one that changed is converted again
 *                      and replaces the earlier result atomically; then
 *                      each user's subscriptions
 *   migrate_clear()    removes exactly what the journal says we created
 *
 * A user or folder that fails is reported and skipped; the run goes on.
 */

#include <signal.h>
#include <stdbool.h>

#include "convert.h"
#include "journal.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "plan.h"

enum migrate_event {
	MIGRATE_USER_DONE,
	MIGRATE_USER_FAILED,
	MIGRATE_FOLDER_START,
	MIGRATE_FOLDER_DONE,
	MIGRATE_FOLDER_UNCHANGED,	/* done before, source unchanged */
	MIGRATE_FOLDER_FAILED,
	MIGRATE_FOLDER_WARNING,
	MIGRATE_TICK,			/* progress inside a folder */
};

struct migrate_totals {
	unsigned long users_done, users_failed;
	unsigned long folders_total;
	unsigned long folders_done, folders_unchanged, folders_failed;
	unsigned long messages;
	unsigned long long bytes_total;	/* of all sources to convert */
	unsigned long long bytes_done;
	double seconds;
};

struct migrate_report {
	enum migrate_event event;
	const struct plan_user *user;		/* or NULL */
	const struct plan_folder *folder;	/* or NULL */
	const struct convert_stats *stats;	/* FOLDER_DONE, TICK */
	const struct m2d_error *error;		/* FAILED, WARNING */
	const struct migrate_totals *totals;
};

struct migrate_settings {
	const struct m2d_config *cfg;
	int jobs;			/* workers; 0: number of cores */
	bool dry_run;			/* read and count, write nothing */
	/* called under a lock, from any worker thread */
	void (*report)(const struct migrate_report *report, void *ctx);
	void *ctx;
	volatile sig_atomic_t *cancel;
};

/* Each returns 0 when everything succeeded, 1 when some users or folders
 * failed (reported), -1 when the run could not start (ERR). */
int migrate_users(const struct plan *plan, struct journal *journal,
		  const struct migrate_settings *set,
		  struct migrate_totals *totals, struct m2d_error *err);
int migrate_folders(const struct plan *plan, struct journal *journal,
		    const struct migrate_settings *set,
		    struct migrate_totals *totals, struct m2d_error *err);

/*
 * Remove what the journal says we created under TARGET_BASE (converted
 * folders, then the user roots we made).  Refuses (M2D_ERR_EXISTS, listing
 * the first unknown entry) when the target holds anything else, and never
 * touches anything outside TARGET_BASE.  Returns 0 or -1.
 */
int migrate_clear(const char *target_base, struct journal *journal,
		  struct m2d_error *err);

#endif
