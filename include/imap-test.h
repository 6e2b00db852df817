/* SPDX-License-Identifier: MIT */
#ifndef M2D_IMAP_TEST_H
#define M2D_IMAP_TEST_H

/*
 * The IMAP test of the runbook (steps 10, 16 and 18): what the runbook
 * asks a person to do with a mail client, done by a small careful IMAP
 * client (imap-client.c: literals, quoted strings, mUTF-7 names, STARTTLS
 * when the server says LOGINDISABLED), and Dovecot's own view through
 * "doveadm mailbox status" for every migrated user.
 *
 *   imap_expect_folder()  the expected state of one folder, read from its
 *                         source mbox with the project's reader (count,
 *                         the From_ dates in order)
 *   imap_test_run()       log in as the test account and check:
 *                          login      the account logs in (a master user:
 *                                     "USER*MASTER" with its password)
 *                          list       INBOX and every expected folder are
 *                                     listed (LIST "" "*")
 *                          counts     per folder, EXAMINE's EXISTS equals
 *                                     the source's message count
 *                          dates      per folder, FETCH 1:* INTERNALDATE
 *                                     equals the From_ dates in order,
 *                                     so the folder sorts by date as before
 *                                     (a folder whose count differs is
 *                                     left to "counts" and not compared)
 *                          create     a new folder can be created and
 *                                     deleted
 *                          move       a message can be moved to another
 *                                     folder and back (on a copy in
 *                                     scratch folders of its own: no
 *                                     existing message or folder is ever
 *                                     changed, and the scratch folders
 *                                     are deleted again)
 *
 * Scratch folders are "m2d-test-XXXXXXXX" (random, not yet listed) and,
 * for the move, its child ".../b" (or "...-b" on a server without
 * levels).  The message moved is a COPY of INBOX's message 1 (INBOX only
 * EXAMINEd), or an APPENDed test message when INBOX is empty; MOVE when
 * the server has it, else COPY, STORE \Deleted and EXPUNGE in the
 * scratch folder.  Folders are opened with EXAMINE for counts and dates.
 *
 * LOGINDISABLED (and STARTTLS offered): STARTTLS first.  The certificate
 * is verified (system CAs, host name) except on a numeric loopback host
 * (127.0.0.0/8, ::1): the local Dovecot's self-signed certificate.  A
 * PREAUTH greeting fails "login" (the account was not tested).
 *   imap_doveadm_counts() "doveadm [-c CONF] mailbox status -u USER
 *                          messages *" for one user, compared with the
 *                          expected counts
 *
 * Nothing prints, nothing exits: results are data, each check with its
 * figures, translated.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "m2d-error.h"

struct imap_expect {
	char *name;		/* IMAP name, '/' between levels, UTF-8;
				 * "INBOX" for the inbox */
	unsigned long messages;
	time_t *dates;		/* the From_ dates, in mbox order */
	size_t ndates;		/* == messages */
};

/* Reads MBOX (O_NOFOLLOW, read-only, no lock taken) and fills EXP with
 * NAME, the count and the From_ dates.  0, or -1 with ERR. */
int imap_expect_folder(const char *mbox, const char *name, bool mboxrd,
		       struct imap_expect *exp, struct m2d_error *err);
void imap_expect_free(struct imap_expect *exp);

struct imap_test_params {
	const char *host;		/* "127.0.0.1" */
	unsigned int port;
	const char *user;
	const char *password;		/* the user's, or the master's */
	const char *master_user;	/* NULL: log in as USER itself */
	const struct imap_expect *folders;
	size_t nfolders;
	bool modify;			/* the create and move checks */
	/* After cutover new mail may have arrived: counts may be higher
	 * and only the first dates are compared. */
	bool at_least;
	/* When set, one more check, "delivered": INBOX holds a message
	 * with this Message-ID (SEARCH HEADER Message-ID), searched once
	 * after "dates" (the caller waits for the delivery). */
	const char *find_message_id;
	unsigned int timeout;		/* seconds per reply; 0 = 30 */
};

#define IMAP_TEST_MAX_CHECKS 10

struct imap_check {
	const char *id;			/* "login", "list", "counts", "dates",
					 * "delivered", "create", "move" (JSON
					 * ids, in this order) */
	bool ok;
	char detail[512];		/* translated: figures, or what
					 * differed first */
};

struct imap_test_result {
	struct imap_check checks[IMAP_TEST_MAX_CHECKS];
	size_t nchecks;
	size_t failed;
	char greeting[256];		/* the server's greeting line */
};

/* Runs the checks in the order above (after a failed login or list the
 * others are not run).  Returns 0 all passed, 1 some failed (RESULT says
 * which), -1 when no connection could be made (ERR: host, port, errno). */
int imap_test_run(const struct imap_test_params *params,
		  struct imap_test_result *result, struct m2d_error *err);

struct imap_doveadm_result {
	bool ok;
	unsigned long folders_seen;
	unsigned long messages;		/* total over the folders */
	char detail[512];		/* first difference, translated */
};

/* DOVEADM: doveadm's command line (split at spaces; NULL = "doveadm"),
 * CONF: dovecot.conf (NULL: doveadm's default).  Returns 0 when every
 * expected folder has its count, 1 when not, -1 when doveadm failed. */
int imap_doveadm_counts(const char *doveadm, const char *conf,
			const char *user, const struct imap_expect *folders,
			size_t nfolders, struct imap_doveadm_result *result,
			struct m2d_error *err);

#endif
