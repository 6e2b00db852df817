/* SPDX-License-Identifier: MIT */
/* main.c - mbox2dovecot: from UW-IMAP mbox to Dovecot maildir */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "dovecot-conf.h"
#include "i18n.h"

/* ncurses' own (the wizard links it); its header stays out of the
 * command line (see ui/wizard.h) */
const char *curses_version(void);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "convert", cmd_convert, N_("convert one mbox into one maildir folder") },
	{ "plan", cmd_plan, N_("find users and folders; write the lists") },
	{ "migrate-users", cmd_migrate_users,
	  N_("create every user's maildir, ready for delivery") },
	{ "migrate-folders", cmd_migrate_folders,
	  N_("convert every planned folder, exactly once") },
	{ "migrate", cmd_migrate, N_("migrate-users, then migrate-folders") },
	{ "verify", cmd_verify,
	  N_("compare every migrated folder with its mbox") },
	{ "check", cmd_check,
	  N_("pre-flight checklist; changes nothing (exit 0 pass, 1 "
	     "warnings, 2 failures, 3 could not run)") },
	{ "dovecot-conf", cmd_dovecot_conf,
	  N_("preview, apply or undo the Dovecot settings") },
	{ "postfix-conf", cmd_postfix_conf,
	  N_("preview, apply or undo maildir delivery, or hold it") },
	{ "rollback", cmd_rollback,
	  N_("carry new mail back into the mboxes and switch back to UW-IMAP") },
	{ "clear", cmd_clear,
	  N_("remove what a migration created in the target") },
	{ "report", cmd_report,
	  N_("--merge WORKDIR...: the shards of a migration together") },
	{ "sandbox", cmd_sandbox,
	  N_("a practice mail server in a directory, without root") },
};

static void usage(FILE *out)
{
	size_t i;

	cli_usage_head(out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-16s %s\n", commands[i].name,
			_(commands[i].summary));
	cli_runbook_options_help(out);
}

/* --version: the version, the Dovecot syntaxes dovecot-conf writes, and
 * how this program was built.  Read by scripts and by bug reports: never
 * translated. */
static void version(void)
{
	enum dc_syntax s;
	const char *sep = "";

	printf("mbox2dovecot %s\n", M2D_VERSION);
	printf("Dovecot syntaxes: ");
	for (s = DC_SYNTAX_0_99; s <= DC_SYNTAX_2_4; s++) {
		printf("%s%s", sep, dc_syntax_name(s));
		sep = ", ";
	}
	printf("\n");
	printf("OpenSSL: %s (built with %s)\n", OpenSSL_version(OPENSSL_VERSION),
	       OPENSSL_VERSION_TEXT);
	printf("ncursesw: %s\n", curses_version());
	printf("NLS: gettext, catalogues in %s\n", LOCALEDIR);
#if defined(M2D_SANITIZE)
	printf("sanitizers: %s\n", M2D_SANITIZE);
#elif defined(__SANITIZE_ADDRESS__)
	printf("sanitizers: address\n");
#else
	printf("sanitizers: none\n");
#endif
	printf("hardening:");
#if defined(_FORTIFY_SOURCE) && defined(__OPTIMIZE__) && _FORTIFY_SOURCE > 0
	printf(" fortify=%d", (int)_FORTIFY_SOURCE);
#endif
#if defined(__SSP_ALL__)
	printf(" stack-protector-all");
#elif defined(__SSP_STRONG__)
	printf(" stack-protector-strong");
#elif defined(__SSP__)
	printf(" stack-protector");
#endif
#if defined(__PIE__)
	printf(" pie");
#endif
	printf("\n");
#if defined(__clang__)
	printf("compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
	printf("compiler: gcc %s\n", __VERSION__);
#endif
}

int main(int argc, char **argv)
{
	const char *localedir = getenv("MBOX2DOVECOT_LOCALEDIR");
	size_t i;

	/* Dates without a zone are read in the local zone (mktime).  With
	 * TZ unset glibc reads /etc/localtime again on every call; naming
	 * the same file once makes it read it once. */
	if (getenv("TZ") == NULL)
		setenv("TZ", ":/etc/localtime", 1);
	tzset();
	setlocale(LC_ALL, "");
	bindtextdomain(M2D_TEXTDOMAIN, localedir != NULL && *localedir != '\0' ?
		       localedir : LOCALEDIR);
	bind_textdomain_codeset(M2D_TEXTDOMAIN, "UTF-8");

	if (argc < 2)
		return cmd_runbook(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		version();
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		/* "--check": the checklist-only mode, as the runbook's admin
		 * would ask for it */
		if (strcmp(argv[1], commands[i].name) == 0 ||
		    (strncmp(argv[1], "--", 2) == 0 &&
		     strcmp(argv[1] + 2, "check") == 0 &&
		     commands[i].run == cmd_check))
			return commands[i].run(argc - 1, argv + 1);
	}
	/* options only: the runbook (the wizard, --batch, --resume ...) */
	if (argv[1][0] == '-')
		return cmd_runbook(argc, argv);
	cli_error(_("unknown command: %s"), argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
