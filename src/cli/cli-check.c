/* SPDX-License-Identifier: MIT */
/*
 * cli-check.c - "mbox2dovecot check" (alias "--check"): the pre-flight
 * checklist, which changes nothing anywhere.
 *
 * Exit status: 0 every check passed, 1 warnings only, 2 at least one
 * failure, 3 the checks could not run (bad command line, configuration,
 * plan or file-system probe).
 *
 * --format json prints one object (texts always in English: the JSON is
 * for programs, never translated):
 *
 *   {
 *     "program": "mbox2dovecot", "version": "0.1", "schema": 1,
 *     "status": "pass" | "warn" | "fail" | "error",
 *     "exit": 0 | 1 | 2 | 3,
 *     "summary": {"pass": N, "warn": N, "fail": N},
 *     "error": "why the checks could not run"    (only with "error")
 *     "checks": [                                 (absent with "error")
 *       {"group": "filesystem" ...,  "id": "inodes" ...   (stable ids),
 *        "status": "pass" | "warn" | "fail",
 *        "title": "...", "detail": "one line", "fix": "one line or \"\"",
 *        "figures": {"needed": 123, ...}          (integers only),
 *        "values": {"version": "2.3.19", ...}     (strings only),
 *        "entries": [{"subject": "alice/mail/a.b", "kind": "dot",
 *                     "text": "...", "suggestion": "a_b" | null}],
 *        "entries_total": N                       (>= len(entries))}]
 *   }
 *
 * Groups and ids: see include/checks.h.  Bytes that are not UTF-8 (old
 * Latin-1 folder names) are written as \u00XX, i.e. read as Latin-1.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "cli.h"
#include "str-escape.h"
#include "json-out.h"
#include "runbook.h"
#include "i18n.h"


enum {
	CHECK_EXIT_PASS = 0,
	CHECK_EXIT_WARN = 1,
	CHECK_EXIT_FAIL = 2,
	CHECK_EXIT_ERROR = 3,	/* could not run */
};

/* entries shown per WARN/FAIL check in the text checklist */
#define TEXT_ENTRIES 3

/* The options: the paths and tools go into PLAN.CFG, which the runbook
 * then takes over, so that step 0 and this command read one config. */
struct check_opts {
	struct cli_plan_opts plan;
	bool json;
	struct rb_checks_opts rb;
};

static void usage(FILE *out)
{
	fprintf(out, _("usage: %s check [--config FILE] [--spool DIR] "
		       "[--homes DIR] [--target DIR]\n"
		       "        [--work DIR] [--users a,b,c | --userlist FILE] "
		       "[--folderlist FILE]\n"
		       "        [--format text|json] [--dovecot CMD] "
		       "[--doveconf CMD] [--dovecot-conf FILE]\n"
		       "        [--postconf CMD] [--postfix-dir DIR] "
		       "[--test-port [ADDR:]PORT] [--root DIR]\n"
		       "        [--scratch DIR] [--sample N] [--jobs N]\n"
		       "        [--renames FILE] [--accept-suggested-names]\n"),
		cli_progname);
}

static int parse_test_port(const char *arg, struct check_opts *o)
{
	const char *colon = strrchr(arg, ':'), *port = arg;
	char addr[64], *end;
	long n;

	if (colon != NULL) {
		size_t len = (size_t)(colon - arg);

		if (arg[0] == '[' && len >= 2 && arg[len - 1] == ']') {
			arg++;
			len -= 2;
		}
		if (len == 0 || len >= sizeof(addr))
			return -1;
		memcpy(addr, arg, len);
		addr[len] = '\0';
		m2d_config_set(&o->plan.cfg.test_address, addr);
		port = colon + 1;
	}
	n = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || n < 1 || n > 65535)
		return -1;
	o->plan.cfg.test_port = (unsigned int)n;
	return 0;
}

/* Returns 0, -1 for --help, or an exit code. */
static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option opts[] = {
		CLI_PLAN_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "dovecot", required_argument, NULL, 'd' },
		{ "doveconf", required_argument, NULL, 'D' },
		{ "dovecot-conf", required_argument, NULL, 'C' },
		{ "postconf", required_argument, NULL, 'p' },
		{ "postfix-dir", required_argument, NULL, 'P' },
		{ "test-port", required_argument, NULL, 'T' },
		{ "root", required_argument, NULL, 'r' },
		{ "scratch", required_argument, NULL, 'S' },
		{ "sample", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, i, rc;

	/* the format first: a JSON caller gets JSON even for a bad config */
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		     strcmp(argv[i + 1], "json") == 0) ||
		    strcmp(argv[i], "--format=json") == 0)
			o->json = true;
	}
	if (cli_plan_opts_init(&o->plan, argc, argv) < 0)
		return CHECK_EXIT_ERROR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		rc = cli_plan_option(&o->plan, c, optarg);
		if (rc < 0)
			return CHECK_EXIT_ERROR;
		if (rc > 0)
			continue;
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				o->json = true;
			} else if (strcmp(optarg, "text") == 0) {
				o->json = false;
			} else {
				cli_error(_("--format: expected text or json"));
				return CHECK_EXIT_ERROR;
			}
			break;
		case 'd':
			m2d_config_set(&o->plan.cfg.dovecot_command, optarg);
			break;
		case 'D':
			m2d_config_set(&o->plan.cfg.doveconf_command, optarg);
			break;
		case 'C':
			m2d_config_set(&o->plan.cfg.dovecot_config, optarg);
			break;
		case 'p':
			m2d_config_set(&o->plan.cfg.postconf_command, optarg);
			break;
		case 'P':
			m2d_config_set(&o->plan.cfg.postfix_config_dir,
				       optarg);
			break;
		case 'T':
			if (parse_test_port(optarg, o) < 0) {
				cli_error(_("--test-port: expected [ADDR:]PORT"));
				return CHECK_EXIT_ERROR;
			}
			break;
		case 'r':
			/* the services' files (and /etc/skel when neither
			   skel_dir nor accounts_root is set) below DIR */
			m2d_config_set(&o->plan.cfg.services_root, optarg);
			break;
		case 'S':
			o->rb.scratch_dir = optarg;
			break;
		case 'n':
			o->rb.sample_folders = (unsigned int)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return CHECK_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return CHECK_EXIT_ERROR;
	}
	return cli_plan_opts_done(&o->plan) < 0 ? CHECK_EXIT_ERROR : 0;
}

/* ---- JSON ---- */


static void print_json(FILE *out, const struct checks_report *rep,
		       int code, const char *error)
{
	static const char *const names[] = { "pass", "warn", "fail" };
	size_t counts[3] = { 0, 0, 0 }, i, k;

	if (rep != NULL)
		checks_worst(rep, counts);
	fprintf(out, "{\n  \"program\": \"mbox2dovecot\",\n  \"version\": ");
	json_str(out, M2D_VERSION);
	fprintf(out, ",\n  \"schema\": 1,\n  \"status\": \"%s\",\n"
		"  \"exit\": %d,\n  \"summary\": {\"pass\": %zu, "
		"\"warn\": %zu, \"fail\": %zu}", error != NULL ? "error" :
		names[code], code, counts[0], counts[1], counts[2]);
	if (error != NULL) {
		fputs(",\n  \"error\": ", out);
		json_str(out, error);
		fputs("\n}\n", out);
		return;
	}
	fputs(",\n  \"checks\": [", out);
	for (i = 0; i < rep->nitems; i++) {
		const struct check_item *it = &rep->items[i];

		fputs(i > 0 ? ",\n    {" : "\n    {", out);
		fputs("\"group\": ", out);
		json_str(out, it->group);
		fputs(", \"id\": ", out);
		json_str(out, it->res.id);
		fprintf(out, ", \"status\": \"%s\",\n     \"title\": ",
			check_status_id(it->res.status));
		json_str(out, it->res.title);
		fputs(",\n     \"detail\": ", out);
		json_str(out, it->res.detail);
		fputs(",\n     \"fix\": ", out);
		json_str(out, it->res.fix);
		fputs(",\n     \"figures\": {", out);
		for (k = 0; k < it->res.nfigures; k++) {
			fputs(k > 0 ? ", " : "", out);
			json_str(out, it->res.figures[k].key);
			fprintf(out, ": %lld", it->res.figures[k].value);
		}
		fputs("},\n     \"values\": {", out);
		for (k = 0; k < it->nvalues; k++) {
			fputs(k > 0 ? ", " : "", out);
			json_str(out, it->values[k].key);
			fputs(": ", out);
			json_str(out, it->values[k].value);
		}
		fputs("},\n     \"entries\": [", out);
		for (k = 0; k < it->nentries; k++) {
			const struct check_entry *e = &it->entries[k];

			fputs(k > 0 ? ",\n       {" : "\n       {", out);
			fputs("\"subject\": ", out);
			json_str(out, e->subject);
			fputs(", \"kind\": ", out);
			json_str(out, e->kind);
			fputs(", \"text\": ", out);
			json_str(out, e->text);
			fputs(", \"suggestion\": ", out);
			if (e->suggestion != NULL)
				json_str(out, e->suggestion);
			else
				fputs("null", out);
			fputc('}', out);
		}
		fprintf(out, "],\n     \"entries_total\": %zu}",
			it->entries_total);
	}
	fputs("\n  ]\n}\n", out);
}

/* ---- text ---- */

static const char *group_title(const char *group)
{
	static const struct {
		const char *id, *title;
	} titles[] = {
		{ "filesystem", N_("Target file system") },
		{ "folders", N_("Folder names") },
		{ "sources", N_("Sources") },
		{ "target", N_("Target") },
		{ "dovecot", N_("Dovecot") },
		{ "logging", N_("Logging") },
		{ "postfix", N_("Postfix") },
		{ "uwimap", N_("UW-IMAP") },
		{ "accounts", N_("Accounts") },
		{ "time", N_("Time") },
	};

	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		if (strcmp(titles[i].id, group) == 0)
			return _(titles[i].title);
	}
	return group;
}

static void print_text(FILE *out, const struct checks_report *rep, int code)
{
	const char *group = NULL;
	size_t counts[3], i, k;
	char warnings[64];

	checks_worst(rep, counts);
	snprintf(warnings, sizeof(warnings), ngettext("%zu warning",
						      "%zu warnings",
						      counts[1]), counts[1]);
	for (i = 0; i < rep->nitems; i++) {
		const struct check_item *it = &rep->items[i];

		if (group == NULL || strcmp(group, it->group) != 0) {
			group = it->group;
			fprintf(out, "%s\n", group_title(group));
		}
		/* names in it are users' data: shown escaped */
		fprintf(out, "  [%s] %s: %s\n", check_status_str(it->res.status),
			str_esc(it->res.title), str_esc(it->res.detail));
		if (it->res.status == CHECK_PASS)
			continue;
		for (k = 0; k < it->nentries && k < TEXT_ENTRIES; k++) {
			const struct check_entry *e = &it->entries[k];

			if (e->suggestion != NULL)
				fprintf(out, _("         - %s: %s -> \"%s\"\n"),
					str_esc(e->subject), str_esc(e->text),
					str_esc(e->suggestion));
			else
				fprintf(out, "         - %s: %s\n",
					str_esc(e->subject), str_esc(e->text));
		}
		if (it->entries_total > TEXT_ENTRIES)
			fprintf(out, _("         - ... and %zu more (--format "
				       "json lists them)\n"),
				it->entries_total - TEXT_ENTRIES);
		if (it->res.fix[0] != '\0')
			fprintf(out, _("         fix: %s\n"),
				str_esc(it->res.fix));
	}
	/* "1 warning": the count's own word (ngettext), in step 0's words */
	fprintf(out, _("%zu passed, %s, %zu failed"), counts[0], warnings,
		counts[2]);
	fprintf(out, ": %s\n",
		code == CHECK_EXIT_PASS ? _("ready to migrate") :
		code == CHECK_EXIT_WARN ? _("read the warnings, then migrate") :
		_("fix the failures before migrating"));
}

static void on_group(const char *group, void *ctx)
{
	if (*(bool *)ctx) {
		fprintf(stderr, "\r\033[K%s: %s...", cli_progname,
			group_title(group));
		fflush(stderr);
	}
}

/* rb_open's override: the runbook takes the config as the options left
 * it (the file, then --spool, --dovecot-conf ...). */
static void take_config(struct m2d_config *cfg, void *ctx)
{
	struct m2d_config *given = ctx;

	m2d_config_free(cfg);
	*cfg = *given;
	memset(given, 0, sizeof(*given));
}

/* Step 0's checks (rb_run_checks: one code path) with O's options. */
static int run_checks(struct check_opts *o, struct checks_report *rep,
		      struct m2d_error *err)
{
	struct rb_options ro;
	struct runbook *rb;
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.config_path = o->plan.config;
	ro.override = take_config;
	ro.override_ctx = &o->plan.cfg;
	ro.renames_path = o->plan.renames;
	ro.accept_suggested = o->plan.accept_suggested;
	ro.read_only = true;
	if (rb_open(&ro, &rb, err) < 0)
		return -1;
	o->rb.users = (const char *const *)o->plan.users;
	o->rb.userlist = o->plan.userlist;
	o->rb.folderlist = o->plan.folderlist;
	rc = rb_run_checks(rb, &o->rb, rep, err);
	rb_close(&rb);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o;
	struct checks_report rep;
	struct m2d_error err;
	char buf[2048];
	bool tty = isatty(STDERR_FILENO);
	int rc, code;

	memset(&o, 0, sizeof(o));
	checks_report_init(&rep);
	rc = parse_opts(argc, argv, &o);
	if (o.json) {
		/* machine-read output is never translated */
		setlocale(LC_MESSAGES, "C");
		setlocale(LC_NUMERIC, "C");
	}
	if (rc != 0) {
		if (rc > 0 && o.json)
			print_json(stdout, NULL, CHECK_EXIT_ERROR,
				   "bad command line or configuration");
		code = rc < 0 ? CHECK_EXIT_PASS : rc;
		goto out;
	}

	o.rb.progress = on_group;
	o.rb.ctx = &tty;
	rc = run_checks(&o, &rep, &err);
	if (tty)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		goto error;
	code = rc;	/* CHECK_PASS/WARN/FAIL are 0/1/2: the exit codes */
	if (o.json)
		print_json(stdout, &rep, code, NULL);
	else
		print_text(stdout, &rep, code);
	goto out;
error:
	cli_report(&err);
	if (o.json)
		print_json(stdout, NULL, CHECK_EXIT_ERROR,
			   m2d_error_str(&err, buf, sizeof(buf)));
	code = CHECK_EXIT_ERROR;
out:
	checks_report_free(&rep);
	cli_plan_opts_free(&o.plan);
	return code;
}
