/* SPDX-License-Identifier: MIT */
/* host-actions.c - the actions on Dovecot, Postfix and the services that
 * the command line and the runbook share, from the configuration */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks.h"
#include "host-actions.h"
#include "uw-names.h"
#include "i18n.h"

static void say(const struct host_log *log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct host_log *log, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	int n;

	if (log == NULL || log->line == NULL)
		return;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;		/* out of memory: the line is lost, not the action */
	log->line(text, log->ctx);
	free(text);
}

/* ---- Dovecot ---- */

void host_dovecot_listener(const struct m2d_config *cfg, bool normal,
			   const char **addr_r, unsigned int *port_r)
{
	if (normal) {
		*addr_r = cfg->imap_address != NULL ? cfg->imap_address :
			"127.0.0.1";
		*port_r = cfg->imap_port;
	} else {
		*addr_r = cfg->test_address;
		*port_r = cfg->test_port;
	}
}

int host_dovecot_plan(const struct m2d_config *cfg, bool normal,
		      struct dc_edit *edit_r, struct m2d_error *err)
{
	struct dc_tools tools;
	struct dc_version version;
	struct dc_settings set;
	struct uw_names uw;
	char *protocols = NULL, **compat;
	int ret;

	memset(edit_r, 0, sizeof(*edit_r));
	dc_tools_from_config(cfg, &tools);
	if (dc_detect_version(&tools, &version, err) < 0)
		return -1;
	dc_settings_init(&set);
	set.target = cfg->target_base;
	if (strcmp(cfg->target_layout, "%u") == 0)
		set.hashed = false;
	else if (strcmp(cfg->target_layout, "%1u/%u") == 0)
		set.hashed = true;
	else
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("target_layout \"%s\": the Dovecot "
				       "edit knows \"%%u\" and \"%%1u/%%u\" "
				       "only; set mail_location yourself"),
				     cfg->target_layout);
	set.listen = normal ? DC_LISTEN_NORMAL : DC_LISTEN_TEST;
	set.test_address = cfg->test_address;
	set.test_port = cfg->test_port;
	set.normal_address = cfg->imap_address;
	set.imap_port = cfg->imap_port;
	set.imaps_port = cfg->imaps_port;
	set.log_path = cfg->dovecot_log_path;
	set.syslog_facility = cfg->dovecot_syslog_facility;
	/* UW's POP3 UIDLs (the value was checked on load) */
	if (dc_pop3_uidl_parse(cfg->pop3_uidl, &set.pop3_uidl) < 0)
		set.pop3_uidl = DC_POP3_UIDL_AUTO;
	/* the protocols of the config as it is (doveconf shows the
	 * effective value, which is what the admin has; with our unit in
	 * place dc_edit_plan() takes the ones it recorded) */
	if (dc_read_setting(&tools, cfg->dovecot_config, "protocols",
			    &protocols, err) == 0)
		set.current_protocols = protocols;
	m2d_error_clear(err);
	if (uw_names_init(cfg, &uw, err) < 0) {
		free(protocols);
		return -1;
	}
	compat = uw_names_namespaces(&uw, cfg);
	set.compat_prefixes = (const char *const *)compat;
	ret = dc_edit_plan(cfg->dovecot_config, dc_syntax_for(&version), &set,
			   edit_r, err);
	uw_names_list_free(compat);
	uw_names_free(&uw);
	free(protocols);
	return ret;
}

/* Wait up to SECONDS for ADDR:PORT to answer. */
static bool wait_listening(const char *addr, unsigned int port,
			   unsigned int seconds)
{
	for (unsigned int i = 0; i < seconds * 10; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (checks_tcp_listening(addr, port) == 1)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Whether applying EDIT changes the protocols Dovecot runs: the
 * effective value now against the edit's. */
static bool protocols_change(const struct m2d_config *cfg,
			     const struct dc_edit *edit)
{
	struct dc_tools tools;
	struct m2d_error e;
	char *before = NULL;
	bool change;

	dc_tools_from_config(cfg, &tools);
	if (dc_read_setting(&tools, cfg->dovecot_config, "protocols",
			    &before, &e) < 0)
		return false;	/* unknown: a reload, as before */
	change = edit->expect_protocols != NULL &&
		!dc_same_protocols(before, edit->expect_protocols);
	free(before);
	return change;
}

/* Reload, or restart, a running Dovecot; start one that is not. */
static int reload_or_restart(const struct svc_table *table,
			     const struct m2d_config *cfg, bool restart,
			     const struct host_log *log,
			     enum host_dovecot_done *done_r,
			     struct m2d_error *err)
{
	struct svc_run_opts opts = { false, cfg->work_dir };

	if (restart) {
		/* the stop's probe is the new listener, which answers on
		 * neither side of it: the stop command itself must wait for
		 * the old master to end (systemctl and doveadm stop do) */
		say(log, _("the protocols change: Dovecot is restarted"));
		if (svc_run(table, SVC_ROLE_IMAP_NEW, SVC_STOP, &opts, NULL,
			    err) < 0)
			m2d_error_clear(err);	/* maybe not running */
		*done_r = HOST_DOVECOT_RESTARTED;
	} else {
		if (svc_run(table, SVC_ROLE_IMAP_NEW, SVC_RELOAD, &opts, NULL,
			    err) == 0) {
			*done_r = HOST_DOVECOT_RELOADED;
			return 0;
		}
		say(log, _("reload failed, starting Dovecot instead"));
		m2d_error_clear(err);
		*done_r = HOST_DOVECOT_STARTED;
	}
	return svc_run(table, SVC_ROLE_IMAP_NEW, SVC_START, &opts, NULL, err);
}

int host_dovecot_apply(const struct m2d_config *cfg, bool normal,
		       const struct dc_edit *edit, bool reload,
		       const struct host_log *log,
		       enum host_dovecot_done *done_r, struct m2d_error *err)
{
	enum host_dovecot_done done = HOST_DOVECOT_WRITTEN;
	struct svc_table table;
	struct dc_tools tools;
	const char *addr;
	unsigned int port;
	bool restart;
	int ret;

	if (done_r != NULL)
		*done_r = done;
	dc_tools_from_config(cfg, &tools);
	/* before the edit: doveconf still shows the protocols of now */
	restart = reload && protocols_change(cfg, edit);
	if (dc_apply(&tools, edit, cfg->work_dir, err) < 0)
		return -1;
	say(log, _("Dovecot's configuration written: %s"), edit->live_path);
	if (!reload)
		return 0;
	/* the probe: the listener this edit puts in place */
	host_dovecot_listener(cfg, normal, &addr, &port);
	if (svc_table_from_config(cfg, &table, err) < 0)
		return -1;
	ret = svc_set_probe_tcp(&table, SVC_ROLE_IMAP_NEW, addr, port, err);
	if (ret == 0)
		ret = reload_or_restart(&table, cfg, restart, log, &done, err);
	svc_table_free(&table);
	if (ret < 0)
		return -1;
	if (!wait_listening(addr, port, 15))
		return m2d_error_set(err, M2D_ERR_SYS, NULL,
				     _("Dovecot does not answer on %s:%u"),
				     addr, port);
	say(log, _("Dovecot answers on %s:%u"), addr, port);
	if (done_r != NULL)
		*done_r = done;
	return 0;
}

int host_dovecot_undo(const struct m2d_config *cfg, bool reload,
		      const struct host_log *log, struct m2d_error *err)
{
	struct svc_run_opts opts = { false, cfg->work_dir };
	struct svc_table table;
	int r = dc_undo(cfg->work_dir, err);

	if (r <= 0)
		return r;
	say(log, _("Dovecot's configuration is back as it was before"));
	if (!reload)
		return 1;
	if (svc_table_from_config(cfg, &table, err) < 0)
		return -1;
	/* no probe: a Dovecot that only ran for us answers nowhere now */
	svc_set_probe_none(&table, SVC_ROLE_IMAP_NEW);
	r = svc_run(&table, SVC_ROLE_IMAP_NEW, SVC_RELOAD, &opts, NULL, err);
	svc_table_free(&table);
	if (r < 0)
		return -1;
	say(log, _("Dovecot reloaded"));
	return 1;
}

/* ---- Postfix ---- */

int host_postfix_plan(const struct m2d_config *cfg, struct pf_edit *edit_r,
		      struct m2d_error *err)
{
	struct pf_tools tools;
	struct pf_settings set;

	pf_tools_from_config(cfg, &tools);
	memset(&set, 0, sizeof(set));
	if (strcmp(cfg->postfix_delivery, "home") == 0) {
		set.delivery = PF_DELIVERY_HOME;
		set.home_mailbox = cfg->home_mailbox;
	} else {
		set.delivery = PF_DELIVERY_SPOOL;
		set.target = cfg->target_base;
	}
	return pf_edit_plan(&tools, &set, edit_r, err);
}

int host_postfix_apply(const struct m2d_config *cfg,
		       const struct pf_edit *edit, struct m2d_error *err)
{
	struct pf_tools tools;

	pf_tools_from_config(cfg, &tools);
	return pf_apply(&tools, edit, cfg->work_dir, err);
}

int host_postfix_undo(const struct m2d_config *cfg, struct m2d_error *err)
{
	struct pf_tools tools;

	pf_tools_from_config(cfg, &tools);
	return pf_undo(&tools, cfg->work_dir, err);
}

int host_postfix_hold(const struct m2d_config *cfg, struct m2d_error *err)
{
	struct pf_tools tools;

	pf_tools_from_config(cfg, &tools);
	return pf_hold(&tools, cfg->work_dir, err);
}

int host_postfix_release(const struct m2d_config *cfg,
			 struct m2d_error *err)
{
	struct pf_tools tools;

	pf_tools_from_config(cfg, &tools);
	return pf_release(&tools, cfg->work_dir, err);
}

int host_postfix_reload(const struct m2d_config *cfg, struct m2d_error *err)
{
	struct pf_tools tools;

	pf_tools_from_config(cfg, &tools);
	return pf_reload_flush(&tools, err);
}

/* ---- services ---- */

int host_service(const struct m2d_config *cfg, enum svc_role role,
		 enum svc_action action, bool dry_run, char **text_r,
		 struct m2d_error *err)
{
	struct svc_run_opts opts = { dry_run, cfg->work_dir };
	struct svc_table table;
	int r;

	if (text_r != NULL)
		*text_r = NULL;
	if (svc_table_from_config(cfg, &table, err) < 0)
		return -1;
	r = svc_run(&table, role, action, &opts, text_r, err);
	svc_table_free(&table);
	return r;
}
