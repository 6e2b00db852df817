/* SPDX-License-Identifier: MIT */
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
#include "host-actions.h"
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

/* "ADDR:PORT" or "PORT": ADDR ("" when not given) and the port. */
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

/* "N", 0 to 65535. */
static int parse_port(const char *arg, unsigned int *port)
{
	char *end;
	long p = strtol(arg, &end, 10);

	if (end == arg || *end != '\0' || p < 0 || p > 65535)
		return -1;
	*port = (unsigned int)p;
	return 0;
}

/* What the library did, one line each. */
static void print_line(const char *text, void *ctx)
{
	(void)ctx;
	printf("%s\n", text);
}

static const struct host_log cli_log = { print_line, NULL };

/* A command's own option C (ARG) on O's configuration and CTX: 0, or -1
 * for one it does not know or a bad value. */
typedef int own_option_fn(struct cli_plan_opts *o, int c, const char *arg,
			  void *ctx);

/*
 * The options of a command: the planning ones (cli_plan_option), its own
 * (OWN), --help; then the action, the one word that is not an option
 * (getopt_long moves it behind them).  Every option is a setting of the
 * configuration: the library reads them all from there, as for the
 * runbook.  Returns 1 for --help, 0, or -1 for a usage error.
 */
static int parse_args(int argc, char **argv, const struct option *opts,
		      struct cli_plan_opts *o, own_option_fn *own, void *ctx,
		      enum action *act_r)
{
	int c, rc;

	*act_r = ACT_NONE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		rc = cli_plan_option(o, c, optarg);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		if (c == 'h')
			return 1;
		if (own(o, c, optarg, ctx) < 0)
			return -1;
	}
	if (optind + 1 == argc)
		*act_r = parse_action(argv[optind]);
	if (*act_r == ACT_NONE || cli_plan_opts_done(o) < 0)
		return -1;
	return 0;
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

struct dovecot_args {
	bool reload, normal;
};

static int dovecot_option(struct cli_plan_opts *o, int c, const char *arg,
			  void *ctx)
{
	struct dovecot_args *a = ctx;
	struct m2d_config *cfg = &o->cfg;
	char addr[128];

	switch (c) {
	case 'C':
		m2d_config_set(&cfg->dovecot_config, arg);
		break;
	case 'l':
		if (parse_listen(arg, addr, sizeof(addr), &cfg->test_port) < 0)
			return -1;
		if (addr[0] != '\0')
			m2d_config_set(&cfg->test_address, addr);
		a->normal = false;
		break;
	case 'N':
		a->normal = true;
		break;
	case 'i':
		/* the "normal" ports, for a practice server */
		return parse_port(arg, &cfg->imap_port);
	case 'I':
		return parse_port(arg, &cfg->imaps_port);
	case 'x':
		m2d_config_set(&cfg->target_layout, "%1u/%u");
		break;
	case 'L':
		m2d_config_set(&cfg->dovecot_log_path, arg);
		break;
	case 'S':
		m2d_config_set(&cfg->dovecot_syslog_facility, arg);
		break;
	case 'd':
		m2d_config_set(&cfg->dovecot_command, arg);
		break;
	case 'D':
		m2d_config_set(&cfg->doveconf_command, arg);
		break;
	case 'R':
		m2d_config_set(&cfg->service[SVC_ROLE_IMAP_NEW].cmd[SVC_RELOAD],
			       arg);
		break;
	case 'n':
		a->reload = false;
		break;
	default:
		return -1;
	}
	return 0;
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
	struct dovecot_args a = { true, false };
	struct cli_plan_opts o;
	struct m2d_config *cfg = &o.cfg;
	struct dc_edit edit;
	struct m2d_error err;
	enum action act;
	int rc, ret = EXIT_FAILED;

	memset(&edit, 0, sizeof(edit));
	if (cli_plan_opts_init(&o, argc, argv) < 0)
		return EXIT_USAGE;
	rc = parse_args(argc, argv, opts, &o, dovecot_option, &a, &act);
	if (rc > 0) {
		dovecot_usage(stdout);
		cli_plan_opts_free(&o);
		return EXIT_OK;
	}
	if (rc < 0)
		goto usage;

	if (act == ACT_UNDO) {
		rc = host_dovecot_undo(cfg, a.reload, &cli_log, &err);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			printf(_("nothing to undo\n"));
		ret = EXIT_OK;
		goto out;
	}
	if (host_dovecot_plan(cfg, a.normal, &edit, &err) < 0)
		goto fail;
	fputs(edit.diff, stdout);
	if (act == ACT_PREVIEW) {
		ret = EXIT_OK;
		goto out;
	}
	if (host_dovecot_apply(cfg, a.normal, &edit, a.reload, &cli_log, NULL,
			       &err) < 0)
		goto fail;
	printf(_("validated with doveconf; `%s dovecot-conf undo` restores "
		 "it\n"), cli_progname);
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

/* CTX: the hold (1 --hold, -1 --release, 0 neither). */
static int postfix_option(struct cli_plan_opts *o, int c, const char *arg,
			  void *ctx)
{
	struct m2d_config *cfg = &o->cfg;
	int *hold = ctx;

	switch (c) {
	case 'P':
		m2d_config_set(&cfg->postfix_config_dir, arg);
		break;
	case 'M':
		m2d_config_set(&cfg->postfix_delivery, "home");
		m2d_config_set(&cfg->home_mailbox, arg);
		break;
	case 'o':
		*hold = 1;
		break;
	case 'r':
		*hold = -1;
		break;
	case 'p':
		m2d_config_set(&cfg->postconf_command, arg);
		break;
	case 'f':
		m2d_config_set(&cfg->postfix_command, arg);
		break;
	case 'q':
		m2d_config_set(&cfg->postqueue_command, arg);
		break;
	default:
		return -1;
	}
	return 0;
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
	struct m2d_config *cfg = &o.cfg;
	struct pf_edit edit;
	struct m2d_error err;
	enum action act;
	int rc, hold = 0, ret = EXIT_FAILED;

	memset(&edit, 0, sizeof(edit));
	if (cli_plan_opts_init(&o, argc, argv) < 0)
		return EXIT_USAGE;
	rc = parse_args(argc, argv, opts, &o, postfix_option, &hold, &act);
	if (rc > 0) {
		postfix_usage(stdout);
		cli_plan_opts_free(&o);
		return EXIT_OK;
	}
	if (rc < 0)
		goto usage;

	if (hold != 0) {
		/* the delivery hold: apply holds, undo (or --release) ends it */
		bool holding = act == ACT_APPLY && hold > 0;

		if (act == ACT_PREVIEW) {
			printf(hold > 0 ? _("would set defer_transports = local "
					    "and reload Postfix\n") :
			       _("would restore defer_transports, reload "
				 "Postfix and flush the queue\n"));
			ret = EXIT_OK;
			goto out;
		}
		rc = holding ? host_postfix_hold(cfg, &err) :
			host_postfix_release(cfg, &err);
		if (rc < 0)
			goto fail;
		printf(holding ?
		       (rc > 0 ? _("local delivery held\n") :
			_("local delivery was already held\n")) :
		       (rc > 0 ? _("local delivery released\n") :
			_("no hold of ours to release\n")));
		ret = EXIT_OK;
		goto out;
	}
	if (act == ACT_UNDO) {
		rc = host_postfix_undo(cfg, &err);
		if (rc < 0)
			goto fail;
		printf(rc > 0 ? _("restored main.cf as it was before\n") :
		       _("nothing to undo\n"));
		ret = EXIT_OK;
		goto out;
	}
	if (host_postfix_plan(cfg, &edit, &err) < 0)
		goto fail;
	fputs(edit.diff, stdout);
	if (edit.warning != NULL)
		fprintf(stderr, _("%s: warning: %s\n"), cli_progname,
			edit.warning);
	if (act == ACT_PREVIEW) {
		ret = EXIT_OK;
		goto out;
	}
	if (host_postfix_apply(cfg, &edit, &err) < 0)
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
