/* runbook-system.c - the system's tools as the configuration names them */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "i18n.h"
#include "runbook-int.h"

void rb_dc_tools(const struct runbook *rb, struct dc_tools *t)
{
	t->dovecot = rb->cfg.dovecot_command;
	t->doveconf = rb->cfg.doveconf_command;
}

void rb_acct_tools(const struct runbook *rb, struct acct_tools *t)
{
	t->usermod = rb->cfg.usermod_command;
	t->root = rb->cfg.accounts_root;
}

int rb_dc_edit(struct runbook *rb, bool normal, struct dc_edit *edit,
	       struct m2d_error *err)
{
	const struct m2d_config *cfg = &rb->cfg;
	struct dc_tools tools;
	struct dc_version version;
	struct dc_settings set;
	char *protocols = NULL;
	int ret;

	memset(edit, 0, sizeof(*edit));
	rb_dc_tools(rb, &tools);
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
	/* issue 10: UW's POP3 UIDLs (the value was checked on load) */
	if (dc_pop3_uidl_parse(cfg->pop3_uidl, &set.pop3_uidl) < 0)
		set.pop3_uidl = DC_POP3_UIDL_AUTO;
	/* the protocols of the config as it is (ours stripped would be
	   better; doveconf shows the effective value, which is what the
	   admin has) */
	if (dc_read_setting(&tools, cfg->dovecot_config, "protocols",
			    &protocols, err) == 0)
		set.current_protocols = protocols;
	m2d_error_clear(err);
	ret = dc_edit_plan(cfg->dovecot_config,
			   dc_syntax_for(&version), &set, edit, err);
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

int rb_dc_apply(struct runbook *rb, const struct dc_edit *edit,
		const char *addr, unsigned int port, struct m2d_error *err)
{
	struct svc_run_opts opts = { false, rb->cfg.work_dir };
	struct svc_table table;
	struct dc_tools tools;
	char *before = NULL;
	bool restart;
	int ret;

	rb_dc_tools(rb, &tools);
	/* a reload that turns a protocol on or off may leave its login
	 * service without its socket (seen with 2.4.1 and pop3): then
	 * Dovecot is restarted instead */
	if (dc_read_setting(&tools, rb->cfg.dovecot_config, "protocols",
			    &before, err) < 0)
		m2d_error_clear(err);
	restart = before != NULL && edit->expect_protocols != NULL &&
		!dc_same_protocols(before, edit->expect_protocols);
	free(before);
	if (dc_apply(&tools, edit, rb->cfg.work_dir, err) < 0)
		return -1;
	rb_log(rb, _("Dovecot's configuration written: %s"),
	       edit->live_path);
	if (svc_table_from_config(&rb->cfg, &table, err) < 0)
		return -1;
	if (svc_set_probe_tcp(&table, SVC_ROLE_IMAP_NEW, addr, port,
			      err) < 0) {
		svc_table_free(&table);
		return -1;
	}
	/* reload a running Dovecot (restart it when the protocols change);
	 * start one that is not running */
	if (restart) {
		rb_log(rb, _("the protocols change: Dovecot is restarted"));
		if (svc_run(&table, SVC_ROLE_IMAP_NEW, SVC_STOP, &opts, NULL,
			    err) < 0)
			m2d_error_clear(err);	/* maybe not running */
		ret = -1;
	} else {
		ret = svc_run(&table, SVC_ROLE_IMAP_NEW, SVC_RELOAD, &opts,
			      NULL, err);
	}
	if (ret < 0) {
		if (!restart)
			rb_log(rb, _("reload failed, starting Dovecot "
				     "instead"));
		m2d_error_clear(err);
		ret = svc_run(&table, SVC_ROLE_IMAP_NEW, SVC_START, &opts,
			      NULL, err);
	}
	svc_table_free(&table);
	if (ret < 0)
		return -1;
	if (!wait_listening(addr, port, 15))
		return m2d_error_set(err, M2D_ERR_SYS, NULL,
				     _("Dovecot does not answer on %s:%u"),
				     addr, port);
	rb_log(rb, _("Dovecot answers on %s:%u"), addr, port);
	return 0;
}

int rb_pf_edit(struct runbook *rb, struct pf_edit *edit,
	       struct m2d_error *err)
{
	struct pf_tools tools;
	struct pf_settings set;

	pf_tools_from_config(&rb->cfg, &tools);
	memset(&set, 0, sizeof(set));
	if (strcmp(rb->cfg.postfix_delivery, "home") == 0) {
		set.delivery = PF_DELIVERY_HOME;
		set.home_mailbox = rb->cfg.home_mailbox;
	} else {
		set.delivery = PF_DELIVERY_SPOOL;
		set.target = rb->cfg.target_base;
	}
	return pf_edit_plan(&tools, &set, edit, err);
}

/*
 * Lines of Dovecot's log about USER written since SINCE (issue 11): the
 * effective log_path (doveconf -h), its last 256 KiB, the lines naming
 * user=<USER> (or the user in an auth line) whose time is not before
 * SINCE.  Up to MAX lines, joined by newlines, allocated; NULL when
 * Dovecot logs to syslog or nothing matched.
 */
char *rb_dovecot_log(struct runbook *rb, const char *user, time_t since,
		     int max)
{
	struct dc_tools tools;
	struct m2d_error err;
	char *path = NULL, *text = NULL, *out = NULL, key1[300], key2[300];
	char stamp[32];
	size_t len = 0, cap = 0;
	struct tm tm;
	long long off;
	FILE *f;
	int n = 0;

	rb_dc_tools(rb, &tools);
	if (dc_read_setting(&tools, rb->cfg.dovecot_config, "log_path",
			    &path, &err) < 0 || path[0] != '/') {
		free(path);
		return NULL;
	}
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (off = ftell(f)) > 262144)
		fseek(f, off - 262144, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	text = malloc(262145);
	if (text == NULL) {
		fclose(f);
		return NULL;
	}
	len = fread(text, 1, 262144, f);
	text[len] = '\0';
	fclose(f);
	/* Dovecot's own stamp: "Nov 29 01:41:02" (log_timestamp) */
	localtime_r(&since, &tm);
	strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
	snprintf(key1, sizeof(key1), "user=<%s>", user);
	snprintf(key2, sizeof(key2), "(%s,", user);
	len = 0;
	for (char *line = text, *next; line != NULL && *line != '\0' &&
	     n < max; line = next) {
		size_t ll;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strstr(line, key1) == NULL && strstr(line, key2) == NULL)
			continue;
		/* same day and not before SINCE (the stamp sorts within a
		   day); a line without the stamp is kept */
		if (strlen(line) > 15 && line[3] == ' ' &&
		    strncmp(line, stamp, 15) < 0)
			continue;
		ll = strlen(line);
		if (len + ll + 2 > cap) {
			char *o;

			cap = (len + ll + 2) * 2;
			o = realloc(out, cap);
			if (o == NULL)
				break;
			out = o;
		}
		if (len > 0)
			out[len++] = '\n';
		memcpy(out + len, line, ll + 1);
		len += ll;
		n++;
	}
	free(text);
	return out;
}

char *rb_expand_user(const char *template, const char *user)
{
	size_t n = 0, ulen = strlen(user);
	char *out, *o;

	for (const char *p = template; *p != '\0'; p++)
		n += (p[0] == '%' && p[1] == 'u') ? ulen : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (const char *p = template; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			memcpy(o, user, ulen);
			o += ulen;
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}
