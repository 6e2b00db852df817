/*
 * cli-config.c - "mbox2dovecot dovecot-conf | postfix-conf
 * preview|apply|undo": the runbook's edits of dovecot.conf and main.cf,
 * one at a time, for scripts and for admins who do a step by hand
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dovecot-conf.h"
#include "postfix-conf.h"
#include "services.h"
#include "i18n.h"

enum action { ACT_PREVIEW, ACT_APPLY, ACT_UNDO, ACT_NONE };

static enum action parse_action(const char *arg)
{
	if (strcmp(arg, "preview") == 0)
		return ACT_PREVIEW;
	if (strcmp(arg, "apply") == 0)
		return ACT_APPLY;
	if (strcmp(arg, "undo") == 0)
		return ACT_UNDO;
	return ACT_NONE;
}

/* "ADDR:PORT" or "PORT". */
static int parse_listen(const char *arg, char *addr, size_t size,
			unsigned int *port)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	long p;

	p = strtol(colon != NULL ? colon + 1 : arg, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return -1;
	*port = (unsigned int)p;
	snprintf(addr, size, "%.*s", colon != NULL ? (int)(colon - arg) : 0,
		 arg);
	return 0;
}

/*
 * After an edit: reload Dovecot (the services table, or RELOAD when
 * given) and confirm by a TCP connect to ADDR:PORT that it answers there.
 * PORT 0: no probe.  Returns 0 or -1 (reported in ERR).
 */
static int reload_and_probe(const char *reload, const char *addr,
			    unsigned int port, struct m2d_error *err)
{
	struct svc_table table;
	struct svc_env env;
	struct svc_run_opts opts = { false, NULL };
	int ret;

	svc_detect(NULL, &env);
	if (svc_table_init(&table, &env, NULL, err) < 0)
		return -1;
	ret = 0;
	if (reload != NULL)
		ret = svc_set_command(&table, SVC_ROLE_IMAP_NEW, SVC_RELOAD,
				      reload, err);
	if (ret == 0) {
		if (port != 0)
			ret = svc_set_probe_tcp(&table, SVC_ROLE_IMAP_NEW,
						addr[0] != '\0' ? addr :
						"127.0.0.1", port, err);
		else
			svc_set_probe_none(&table, SVC_ROLE_IMAP_NEW);
	}
	if (ret == 0)
		ret = svc_run(&table, SVC_ROLE_IMAP_NEW, SVC_RELOAD, &opts,
			      NULL, err);
	svc_table_free(&table);
	return ret < 0 ? -1 : 0;
}

static void dovecot_usage(FILE *out)
{
	fprintf(out, _("usage: %s dovecot-conf preview|apply|undo "
		       "[--dovecot-conf FILE] [--target DIR]\n"
		       "        [--work DIR] [--listen ADDR:PORT | "
		       "--normal-ports [--imap-port N] [--imaps-port N]]\n"
		       "        [--hashed] [--log-path FILE | --syslog-facility "
		       "NAME] [--dovecot CMD] [--doveconf CMD]\n"
		       "        [--reload CMD | --no-reload]\n"),
		cli_progname);
}

int cmd_dovecot_conf(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_PLAN_OPTIONS,
		{ "dovecot-conf", required_argument, NULL, 'C' },
		{ "listen", required_argument, NULL, 'l' },
		{ "normal-ports", no_argument, NULL, 'N' },
		{ "imap-port", required_argument, NULL, 'i' },
		{ "imaps-port", required_argument, NULL, 'I' },
		{ "hashed", no_argument, NULL, 'x' },
		{ "log-path", required_argument, NULL, 'L' },
		{ "syslog-facility", required_argument, NULL, 'S' },
		{ "dovecot", required_argument, NULL, 'd' },
		{ "doveconf", required_argument, NULL, 'D' },
		{ "reload", required_argument, NULL, 'R' },
		{ "no-reload", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = "/etc/dovecot/dovecot.conf", *reload = NULL;
	bool do_reload = true;
	struct cli_plan_opts o;
	struct dc_tools tools = { NULL, NULL };
	struct dc_settings set;
	struct dc_version version;
	struct dc_edit edit;
	struct m2d_error err;
	enum action act = ACT_NONE;
	char addr[128] = "127.0.0.1", *protocols = NULL;
	int c, rc, ret = EXIT_FAILED;

	dc_settings_init(&set);
	memset(&edit, 0, sizeof(edit));
	if (cli_plan_opts_init(&o, argc, argv) < 0)
		return EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		rc = cli_plan_option(&o, c, optarg);
		if (rc < 0)
			goto usage;
		if (rc > 0)
			continue;
		switch (c) {
		case 'C':
			conf = optarg;
			break;
		case 'l':
			if (parse_listen(optarg, addr, sizeof(addr),
					 &set.test_port) < 0)
				goto usage;
			set.listen = DC_LISTEN_TEST;
			break;
		case 'N':
			set.listen = DC_LISTEN_NORMAL;
			break;
		case 'i':
		case 'I': {
			char *end;
			long port = strtol(optarg, &end, 10);

			/* the "normal" ports, for a practice server */
			if (*end != '\0' || port < 0 || port > 65535)
				goto usage;
			if (c == 'i')
				set.imap_port = (unsigned int)port;
			else
				set.imaps_port = (unsigned int)port;
			break;
		}
		case 'x':
			set.hashed = true;
			break;
		case 'L':
			set.log_path = optarg;
			break;
		case 'S':
			set.syslog_facility = optarg;
			break;
		case 'd':
			tools.dovecot = optarg;
			break;
		case 'D':
			tools.doveconf = optarg;
			break;
		case 'R':
			reload = optarg;
			break;
		case 'n':
			do_reload = false;
			break;
		case 'h':
			dovecot_usage(stdout);
			cli_plan_opts_free(&o);
			return EXIT_OK;
		default:
			goto usage;
		}
	}
	/* the action: the one word that is not an option (getopt_long
	 * moves it behind them) */
	if (optind + 1 == argc)
		act = parse_action(argv[optind]);
	if (act == ACT_NONE || cli_plan_opts_done(&o) < 0)
		goto usage;
	if (addr[0] != '\0')
		set.test_address = addr;
	set.target = o.cfg.target_base;
	/* issue 10: UW's POP3 UIDLs (the setting was checked on load) */
	if (dc_pop3_uidl_parse(o.cfg.pop3_uidl, &set.pop3_uidl) < 0)
		goto usage;

	if (act == ACT_UNDO) {
		rc = dc_undo(o.cfg.work_dir, &err);
		if (rc < 0)
			goto fail;
		printf(rc > 0 ? _("restored the Dovecot configuration as it "
				  "was before\n") :
		       _("nothing to undo\n"));
		if (rc > 0 && do_reload &&
		    reload_and_probe(reload, "", 0, &err) < 0)
			goto fail;
		ret = EXIT_OK;
		goto out;
	}
	if (dc_detect_version(&tools, &version, &err) < 0)
		goto fail;
	if (dc_read_setting(&tools, conf, "protocols", &protocols, &err) == 0)
		set.current_protocols = protocols;
	if (dc_edit_plan(conf, dc_syntax_for(&version), &set, &edit, &err) < 0)
		goto fail;
	fputs(edit.diff, stdout);
	if (act == ACT_PREVIEW) {
		ret = EXIT_OK;
		goto out;
	}
	if (dc_apply(&tools, &edit, o.cfg.work_dir, &err) < 0)
		goto fail;
	printf(_("applied to %s (validated with doveconf; "
		 "`%s dovecot-conf undo` restores it)\n"),
	       edit.live_path, cli_progname);
	if (do_reload) {
		/* the daemon reads it now; a probe says it answers there */
		bool test = set.listen == DC_LISTEN_TEST;
		const char *probe_addr = test ? set.test_address :
			set.normal_address;

		if (reload_and_probe(reload, probe_addr != NULL ? probe_addr : "",
				     test ? set.test_port : set.imap_port,
				     &err) < 0)
			goto fail;
		printf(_("Dovecot reloaded; it answers on port %u\n"),
		       set.listen == DC_LISTEN_TEST ? set.test_port :
		       set.imap_port);
	}
	ret = EXIT_OK;
	goto out;
usage:
	dovecot_usage(stderr);
	ret = EXIT_USAGE;
	goto out;
fail:
	cli_report(&err);
	ret = cli_exit_for(&err);
out:
	dc_edit_free(&edit);
	free(protocols);
	cli_plan_opts_free(&o);
	return ret;
}

static void postfix_usage(FILE *out)
{
	fprintf(out, _("usage: %s postfix-conf preview|apply|undo "
		       "[--postfix-dir DIR] [--target DIR]\n"
		       "        [--work DIR] [--home-mailbox DIR] "
		       "[--hold | --release]\n"
		       "        [--postconf CMD] [--postfix CMD] "
		       "[--postqueue CMD]\n"),
		cli_progname);
}

int cmd_postfix_conf(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_PLAN_OPTIONS,
		{ "postfix-dir", required_argument, NULL, 'P' },
		{ "home-mailbox", required_argument, NULL, 'M' },
		{ "hold", no_argument, NULL, 'o' },
		{ "release", no_argument, NULL, 'r' },
		{ "postconf", required_argument, NULL, 'p' },
		{ "postfix", required_argument, NULL, 'f' },
		{ "postqueue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_plan_opts o;
	struct pf_tools tools;
	struct pf_settings set;
	struct pf_edit edit;
	struct m2d_error err;
	enum action act = ACT_NONE;
	int c, rc, hold = 0, ret = EXIT_FAILED;

	memset(&tools, 0, sizeof(tools));
	memset(&set, 0, sizeof(set));
	memset(&edit, 0, sizeof(edit));
	if (cli_plan_opts_init(&o, argc, argv) < 0)
		return EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		rc = cli_plan_option(&o, c, optarg);
		if (rc < 0)
			goto usage;
		if (rc > 0)
			continue;
		switch (c) {
		case 'P':
			tools.config_dir = optarg;
			break;
		case 'M':
			set.delivery = PF_DELIVERY_HOME;
			set.home_mailbox = optarg;
			break;
		case 'o':
			hold = 1;
			break;
		case 'r':
			hold = -1;
			break;
		case 'p':
			tools.postconf = optarg;
			break;
		case 'f':
			tools.postfix = optarg;
			break;
		case 'q':
			tools.postqueue = optarg;
			break;
		case 'h':
			postfix_usage(stdout);
			cli_plan_opts_free(&o);
			return EXIT_OK;
		default:
			goto usage;
		}
	}
	/* the action: the one word that is not an option (getopt_long
	 * moves it behind them) */
	if (optind + 1 == argc)
		act = parse_action(argv[optind]);
	if (act == ACT_NONE || cli_plan_opts_done(&o) < 0)
		goto usage;
	set.target = o.cfg.target_base;

	if (hold != 0) {
		/* the delivery hold: apply holds, undo (or --release) ends it */
		if (act == ACT_PREVIEW) {
			printf(hold > 0 ? _("would set defer_transports = local "
					    "and reload Postfix\n") :
			       _("would restore defer_transports, reload "
				 "Postfix and flush the queue\n"));
			ret = EXIT_OK;
			goto out;
		}
		rc = act == ACT_APPLY && hold > 0 ?
			pf_hold(&tools, o.cfg.work_dir, &err) :
			pf_release(&tools, o.cfg.work_dir, &err);
		if (rc < 0)
			goto fail;
		printf(act == ACT_APPLY && hold > 0 ?
		       (rc > 0 ? _("local delivery held\n") :
			_("local delivery was already held\n")) :
		       (rc > 0 ? _("local delivery released\n") :
			_("no hold of ours to release\n")));
		ret = EXIT_OK;
		goto out;
	}
	if (act == ACT_UNDO) {
		rc = pf_undo(&tools, o.cfg.work_dir, &err);
		if (rc < 0)
			goto fail;
		printf(rc > 0 ? _("restored main.cf as it was before\n") :
		       _("nothing to undo\n"));
		ret = EXIT_OK;
		goto out;
	}
	if (pf_edit_plan(&tools, &set, &edit, &err) < 0)
		goto fail;
	fputs(edit.diff, stdout);
	if (edit.warning != NULL)
		fprintf(stderr, _("%s: warning: %s\n"), cli_progname,
			edit.warning);
	if (act == ACT_PREVIEW) {
		ret = EXIT_OK;
		goto out;
	}
	if (pf_apply(&tools, &edit, o.cfg.work_dir, &err) < 0)
		goto fail;
	printf(_("applied to %s (`%s postfix-conf undo` restores it)\n"),
	       edit.main_cf, cli_progname);
	ret = EXIT_OK;
	goto out;
usage:
	postfix_usage(stderr);
	ret = EXIT_USAGE;
	goto out;
fail:
	cli_report(&err);
	ret = cli_exit_for(&err);
out:
	pf_edit_free(&edit);
	cli_plan_opts_free(&o);
	return ret;
}
