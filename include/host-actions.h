/* SPDX-License-Identifier: MIT */
#ifndef M2D_HOST_ACTIONS_H
#define M2D_HOST_ACTIONS_H

/*
 * The actions on the system, each with one owner: the command line
 * (dovecot-conf, postfix-conf) and the runbook call these and add nothing
 * but their arguments and how they show the result.  Every tool, path and
 * service command comes from the configuration (mbox2dovecot.conf, with
 * the command line's overrides set into it): CFG.
 *
 *   Dovecot   plan our unit (the test listener or the normal ports),
 *             apply it and reload Dovecot, or restart it when the
 *             protocols change, then wait until it answers; undo it.
 *   Postfix   plan and apply the maildir delivery setting, undo it; hold
 *             and release local delivery.
 *   Services  one action of one role with the configured commands.
 *
 * What was done is told line by line (translated, without a newline)
 * through LOG, which may be NULL.  Every function returns 0 (or 1/0
 * where stated) or -1 with ERR filled; nothing prints, nothing exits.
 */

#include <stdbool.h>

#include "dovecot-conf.h"
#include "m2d-config.h"
#include "m2d-error.h"
#include "postfix-conf.h"
#include "services.h"

struct host_log {
	void (*line)(const char *text, void *ctx);
	void *ctx;
};

/* ---- Dovecot ---- */

/* Where Dovecot must answer after our unit: the test listener
 * (test_address:test_port) or, NORMAL, imap_address (127.0.0.1 when
 * unset) and imap_port.  *ADDR_R points into CFG or is static. */
void host_dovecot_listener(const struct m2d_config *cfg, bool normal,
			   const char **addr_r, unsigned int *port_r);

/* Plans our unit for dovecot_config in the installed version's syntax:
 * the test listener, or NORMAL the normal ports; target_base and
 * target_layout ("%u" or "%1u/%u"), the log and pop3_uidl settings; the
 * protocols are read from the installed config.  Changes nothing. */
int host_dovecot_plan(const struct m2d_config *cfg, bool normal,
		      struct dc_edit *edit_r, struct m2d_error *err);

/* What host_dovecot_apply() did to the running Dovecot. */
enum host_dovecot_done {
	HOST_DOVECOT_WRITTEN,	/* the file only (RELOAD false) */
	HOST_DOVECOT_RELOADED,
	HOST_DOVECOT_RESTARTED,	/* the protocols changed */
	HOST_DOVECOT_STARTED,	/* it did not run (or the reload failed) */
};

/*
 * Applies EDIT (validated by doveconf, backed up into work_dir:
 * dc_apply()).  Then, RELOAD true, with the service commands of the
 * configuration ("service dovecot"): a running Dovecot is reloaded, or
 * restarted (stop, start) when the edit changes the protocols (a reload
 * that turns a protocol on or off may leave its login service without
 * its socket: seen with pop3 on Dovecot 2.4.1); one that does not run
 * (the reload fails) is started.  Then waits up to 15 seconds for host_dovecot_listener(CFG,
 * NORMAL) to accept a connection.  *DONE_R (may be NULL) says which.
 */
int host_dovecot_apply(const struct m2d_config *cfg, bool normal,
		       const struct dc_edit *edit, bool reload,
		       const struct host_log *log,
		       enum host_dovecot_done *done_r, struct m2d_error *err);

/* Undoes our unit (dc_undo() on work_dir), then, RELOAD true and one was
 * undone, reloads Dovecot with no probe: a reload, not a restart, even
 * when the protocols come back, because the admin's own ports may be held
 * by UW-IMAP until the cutover (a Dovecot that only ran for us then serves
 * nothing).  Returns 1 undone, 0 nothing to undo. */
int host_dovecot_undo(const struct m2d_config *cfg, bool reload,
		      const struct host_log *log, struct m2d_error *err);

/* ---- Postfix (the tools: pf_tools_from_config()) ---- */

/* The maildir delivery setting: postfix_delivery "spool"
 * (mail_spool_directory = target_base/) or "home" (home_mailbox).
 * Changes nothing. */
int host_postfix_plan(const struct m2d_config *cfg, struct pf_edit *edit_r,
		      struct m2d_error *err);
/* pf_apply() with the backup in work_dir. */
int host_postfix_apply(const struct m2d_config *cfg,
		       const struct pf_edit *edit, struct m2d_error *err);
/* pf_undo(): main.cf as before our first apply or hold.  1 undone, 0
 * nothing to undo.  Postfix is not reloaded (host_postfix_reload). */
int host_postfix_undo(const struct m2d_config *cfg, struct m2d_error *err);
/* pf_hold(): 1 held now, 0 already held by us. */
int host_postfix_hold(const struct m2d_config *cfg, struct m2d_error *err);
/* pf_release(): 1 released (reloaded, queue flushed), 0 no hold of ours. */
int host_postfix_release(const struct m2d_config *cfg,
			 struct m2d_error *err);
/* pf_reload_flush(): Postfix reads main.cf again and delivers what it
 * held. */
int host_postfix_reload(const struct m2d_config *cfg, struct m2d_error *err);

/* ---- services ---- */

/* ACTION of ROLE with the configuration's service table
 * (svc_table_from_config(), backups in work_dir): svc_run().  DRY_RUN
 * runs nothing; TEXT_R (may be NULL) gets the commands as text. */
int host_service(const struct m2d_config *cfg, enum svc_role role,
		 enum svc_action action, bool dry_run, char **text_r,
		 struct m2d_error *err);

#endif
