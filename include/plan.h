/* SPDX-License-Identifier: MIT */
#ifndef M2D_PLAN_H
#define M2D_PLAN_H

/*
 * The plan of a migration: which users, which folders, and what was left
 * out and why.  It comes from the runbook's lists (userlist-master: one
 * user per line; folderlist-master: "user/path" per line, the path
 * relative to the home) or from discovery: users from passwd (uid_min..
 * uid_max, no system accounts; the spool's file names are checked against
 * it, never taken as users); folders: INBOX at SPOOL/USER, ~/mbox, and mbox files under the folder
 * roots, recursively.  A file is a folder only when its content is an mbox
 * (a valid first From_ line, or empty).
 *
 * Discovery runs as root over users' files: directories are walked with
 * openat() and O_NOFOLLOW; a symlink is never followed, it is listed as
 * skipped.  Nothing is written except by plan_write_lists().
 *
 * Users (sorted by name, each once):
 *  - src->users, else src->userlist (one name per line, '#' comments
 *    and blank lines ignored, blanks around a name trimmed; an invalid
 *    name -- '/', ':', whitespace, control characters, "." / "..",
 *    a leading '-', '.' or '#' -- is an error with file:line), else
 *  - discovery: passwd entries with uid_min <= uid <= uid_max (nologin
 *    shells included: mail-only accounts).  "passwd" is the system's
 *    (getpwent), or ROOT/etc/passwd when accounts_root is set (a practice
 *    server's, as the accounts steps read it).  Users come from passwd
 *    or the administrator's list, never from file names alone: a
 *    regular file in spool_dir (not "*.lock", not a dot file) whose name
 *    is not such a user is a plan->strays entry with its reason (not in
 *    passwd: anyone can create a file in a mode 1777 spool; a system
 *    account outside the UID range; not a valid user name), never a
 *    user.
 *  - A listed user that is neither in passwd nor has an inbox nor a home
 *    is an error (a typo in the list), with file:line for a userlist.
 *  - home: homes_dir/U when homes_dir is set, else pw_dir; NULL when
 *    neither (then only the inbox is planned).
 *  - uid/gid: see "owner" in m2d-config.h.
 *
 * Ownership: a user's mail files must be the user's, as
 * Postfix's local(8) requires of a mailbox it delivers to
 * (strict_mailbox_ownership = yes: "destination ... is not owned by
 * recipient") and as its safe_open() requires one hard link.  The owner
 * they must have (src_uid) is the passwd UID; for a listed user not in
 * passwd (practice trees only: UW-IMAP served passwd users), the UID of
 * a fixed owner rule (USER, UID:GID), else the owner of the home, else
 * none (not checked).
 *  - The inbox (SPOOL/U) owned by another UID, root included (in a mode
 *    1777 spool anyone can create SPOOL/victim), is PLAN_SKIP_OWNER with
 *    both owners in its reason.  A refused inbox gives no owner ("owner =
 *    inbox").
 *  - A folder file in the home (or a root) owned by src_uid is taken; one
 *    owned by root that the user can read by its mode (o+r, or g+r with
 *    the user's group: an administrator's restore, which UW and Dovecot,
 *    running as the user, read as well) is taken; any other owner is
 *    PLAN_SKIP_OWNER: another user's file is not migrated into this
 *    user's mail.
 *  - Hard links: we only read, so the owner decides.  A file of the
 *    user's own with other links is the user's data, taken (refusing it
 *    would let anyone who links it keep it out of the migration); one
 *    taken as root's (or of a user without src_uid) with more than one
 *    link may be any file: PLAN_SKIP_LINKS (Postfix, which writes,
 *    refuses every mailbox with more than one link).
 *
 * Folders of each user, in this order (the order decides who keeps a
 * name two folders would share; the later one is PLAN_SKIP_NAME with
 * FOLDER_COLLISION and a suggestion):
 *  1. INBOX: SPOOL/U, listed "U/INBOX", name "INBOX", dirname "".
 *     No spool file: no entry (unless a folderlist names "U/INBOX":
 *     PLAN_SKIP_MISSING).
 *  2. ~/mbox, when present.  UW-IMAP moves spool mail into ~/mbox when it
 *     exists, so both files hold INBOX mail.  The engine converts one
 *     source per folder and merging two mboxes into one INBOX would have
 *     to invent UIDs; dropping either loses mail.  So ~/mbox is planned
 *     as its own folder "mbox" (listed "U/mbox"), beside the spool INBOX:
 *     every message stays visible and nothing is merged silently.  Its
 *     reason field carries a note saying so (skip == PLAN_TAKEN).
 *  3. mbox files under the folder roots, roots in configuration order,
 *     then by path.  A file belongs to the DEEPEST root containing it
 *     (the walk of "~" does not enter ~/mail when "~/mail" is a root:
 *     ~/mail/Sent is "Sent", never "mail/Sent"); its IMAP name is its
 *     path relative to that root (folder_name_from_path()), its
 *     directory folder_name_to_maildir()'s.  Dot files and dot
 *     directories are one PLAN_SKIP_DOTFILE entry each (not entered);
 *     symlinks PLAN_SKIP_SYMLINK (never followed, never opened: lstat /
 *     fstatat(AT_SYMLINK_NOFOLLOW)); FIFOs, devices, sockets
 *     PLAN_SKIP_SPECIAL (never opened); a sparse file (holes: each would
 *     become real bytes, written by root) PLAN_SKIP_SPARSE unless
 *     allow_sparse; content in UW's tenex or mtx format PLAN_SKIP_MBX
 *     (named in the reason); other content that is none of UW's
 *     formats (see Formats) PLAN_SKIP_NOT_MBOX, as is "X.lock" beside
 *     "X" (a dotlock); directories nested deeper than 64 or forming a
 *     loop PLAN_SKIP_UNREADABLE.  A directory itself is no entry.
 *  With a folderlist (src->folderlist), steps 2-3 are replaced by its
 *  lines "U/PATH" (PATH relative to the home, or absolute below an
 *  absolute root; "U/INBOX" is the inbox, already implied): every level
 *  is opened with O_NOFOLLOW (PLAN_SKIP_MISSING / _SYMLINK / _NOT_MBOX /
 *  ...), the name is computed as in discovery (deepest root; a PATH
 *  below no root keeps its path relative to the home as its name).  A
 *  line that is not USER/PATH, has empty/"."/".." levels, or names a user
 *  not in the plan is an error with file:line.
 *
 * Formats (c-client's order, uw_format_detect()): a file is an mbox, an
 * mbx file ("*mbx*" header), an MMDF file (^A^A^A^A separators), or a
 * tenex / mtx file (reported by name, PLAN_SKIP_MBX); a directory
 * holding a regular .mixmeta is a mix folder (one folder, format
 * UW_FMT_MIX, its size the sum of its .mix* files; its own .mix* files
 * are no entries, other entries in it are walked as in any directory).
 * The INBOX: when ~/INBOX is an mbx file or a mix directory, that is
 * UW's INBOX (c-client's mbx and mix drivers put INBOX there and move
 * new mail into it from the spool file): source ~/INBOX, its format,
 * and spool = SPOOL/U when that is an mbox of the user's (its mail
 * follows, after UW's UIDs); ~/INBOX is then not walked as a folder.
 * An MMDF spool file is an MMDF INBOX.
 *
 * Subscriptions: ~/.mailboxlist (O_NOFOLLOW, regular file, first 1 MiB)
 * through mailboxlist_to_names() with the home roots' prefixes ("mail/").
 * One that is a symlink, not a regular file, or not the user's (as for
 * folders) is not read: subs_skipped says why.
 */

#include <stdbool.h>
#include <stddef.h>

#include "folder-names.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "uw-format.h"
#include "uw-names.h"

struct plan_user {
	char *name;
	char *home;		/* home directory (homes_dir/U or passwd) */
	char *target;		/* maildir root (m2d_config_target) */
	int uid, gid;		/* owner of what is written */
	long src_uid, src_gid;	/* owner the user's source files must
				 * have; -1 unknown (see Ownership) */
	bool in_passwd;
	char **subscriptions;	/* from ~/.mailboxlist (IMAP names, with
				 * the folder-root prefixes removed);
				 * NULL when there is no such file */
	char *subs_skipped;	/* why ~/.mailboxlist was not read (a
				 * symlink, a FIFO, another user's), or
				 * NULL */
};

enum plan_skip {
	PLAN_TAKEN = 0,		/* a folder to migrate */
	PLAN_SKIP_DOTFILE,	/* .mailboxlist, .pinerc, ... */
	PLAN_SKIP_MBX,		/* a UW format not converted: tenex,
				 * mtx (the name kept from when mbx was
				 * one of them) */
	PLAN_SKIP_NOT_MBOX,	/* content is not an mbox */
	PLAN_SKIP_SYMLINK,	/* a symlink: never followed */
	PLAN_SKIP_SPECIAL,	/* FIFO, device, socket */
	PLAN_SKIP_UNREADABLE,	/* open/read failed */
	PLAN_SKIP_NAME,		/* its name needs a rename first */
	PLAN_SKIP_MISSING,	/* listed but not there */
	PLAN_SKIP_EXCLUDED,	/* excluded by the administrator */
	PLAN_SKIP_OWNER,	/* owned by another user (ownership above) */
	PLAN_SKIP_LINKS,	/* more than one hard link */
	PLAN_SKIP_SPARSE,	/* holes (unless allow_sparse) */
};

struct plan_folder {
	size_t user;		/* index into plan.users */
	char *source;		/* path of the mbox */
	char *listed;		/* as in folderlist: "user/mail/Sent", or
				 * "user/INBOX" for the inbox */
	char *name;		/* IMAP name under Dovecot ('/', UTF-8);
				 * NULL when skipped before naming */
	char *dirname;		/* Maildir++ directory; "" for INBOX;
				 * NULL unless taken */
	long long size;		/* bytes (biggest first); -1 unknown */
	enum plan_skip skip;
	char *reason;		/* translated detail when skipped
				 * ("a symbolic link: never followed:
				 * points to /etc/passwd"); for a taken
				 * folder NULL, or a note (~/mbox) */
	enum folder_problem problem;	/* when PLAN_SKIP_NAME */
	char *suggestion;	/* a name without the problem, not used by
				 * any other folder of the user (NAME) */
	enum uw_format format;	/* of the source (see "Formats");
				 * UW_FMT_UNKNOWN when skipped before
				 * it was read (read as mbox) */
	char *spool;		/* an mbx or mix INBOX (~/INBOX): the
				 * spool file UW moved new mail from,
				 * whose mail follows (NULL: none) */
	char *uw_name;		/* the name UW-IMAP showed ("mail/work",
				 * uw-names.h; "INBOX"), NULL when UW had
				 * no relative name for it */
};

/* A file in the spool that is no user's inbox (see Users). */
struct plan_stray {
	char *source;		/* SPOOL/NAME */
	char *reason;		/* translated */
};

struct plan {
	struct plan_user *users;
	size_t nusers;
	struct plan_folder *folders;	/* taken and skipped ones */
	size_t nfolders;
	struct plan_stray *strays;	/* discovery only */
	size_t nstrays;
	/* UW's view of the names (uw-names.h): with folder_names "uw" a
	 * folder is named as UW named it ("mail/work"), else relative to
	 * its folder root ("work"); subscriptions in the same form. */
	struct uw_names uw;
};

/* Users: from LIST (NULL-terminated names) when given, else USERLIST
 * (a file) when given, else discovered.  Folders: from FOLDERLIST when
 * given, else discovered.  SRC may be NULL (all discovered). */
struct plan_source {
	const char *const *users;
	const char *userlist;
	const char *folderlist;
	/* --shard K/N: only the users plan_in_shard() puts in shard K of
	 * N (1 <= K <= N); N 0: every user */
	unsigned int shard, shards;
	/* The administrator's decisions (runbook step 4), by "listed":
	 * a new IMAP name, or exclusion. */
	const struct plan_rename *renames;
	size_t nrenames;
};

/* A renamed folder keeps its place in the naming order and is named NAME
 * instead of the name of its path; NAME must pass the same checks (a bad
 * or colliding NAME makes the folder PLAN_SKIP_NAME again, with the
 * problem).  NAME NULL: PLAN_SKIP_EXCLUDED.  The INBOX cannot be renamed
 * or excluded. */
struct plan_rename {
	const char *listed;
	const char *name;
};

/* Returns 0, or -1 with ERR (bad config value, unreadable list, bad
 * list line with file:line, missing spool_dir when discovering users,
 * out of memory); PLAN is then empty.  Skipped folders are no error. */
int plan_build(const struct m2d_config *cfg, const struct plan_source *src,
	       struct plan *plan, struct m2d_error *err);
void plan_free(struct plan *plan);

/*
 * Whether USER belongs to shard K (1..N) of N: by a 64-bit FNV-1a hash
 * of the name (mixed by MurmurHash3's finaliser), modulo N, the same on every host and in every run, so
 * that N hosts given the same users each take a disjoint part and
 * together all of them.
 */
bool plan_in_shard(const char *user, unsigned int k, unsigned int n);

/* Write userlist-master (every user) and folderlist-master (taken
 * folders except the inboxes, which the userlist implies, as in the
 * runbook) into DIR, each by temp file + rename, mode 0600.  Building a
 * plan again from these two files gives the same taken folders.  Names
 * are data: each line is one name escaped with str_field_escape() (a
 * newline, TAB, control byte or '\\' cannot start a line or forge an
 * entry); the readers (userlist, folderlist) unescape, keep raw spaces
 * (hand-edited lists), and refuse, with file:line, a line holding a
 * control byte or an escape we do not write. */
int plan_write_lists(const struct plan *plan, const char *dir,
		     struct m2d_error *err);

/* Is the file open as FD an mbox (valid first From_ line, or empty)?
 * Reads the first 4 KiB with pread() (the offset is not moved). */
bool plan_is_mbox(int fd);

/* Translated text of a skip reason. */
const char *plan_skip_str(enum plan_skip skip);

#endif
