/* SPDX-License-Identifier: MIT */
/*
 * imap-test-tool - drive imap-test.h from the integration test.
 *
 *   imap-test-tool [--master USER] [--no-modify] [--timeout S]
 *                  [--doveadm-conf CONF] [--doveadm CMD] [--mboxrd]
 *                  [--at-least] [--message-id ID]
 *                  HOST PORT USER PASSWORD [NAME=MBOX ...]
 *
 * Prints one line per result, tab-separated:
 *   expect  NAME  MESSAGES
 *   greeting  TEXT
 *   check  ID  ok|FAILED  DETAIL
 *   result  RC                       (imap_test_run's return value)
 *   error  TEXT                      (when it returned -1)
 *   doveadm  ok|FAILED  RC  FOLDERS_SEEN  MESSAGES  DETAIL
 * Exit status: 0 all passed, 1 some check failed, 2 -1 from a function,
 * 3 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-test.h"

static int usage(void)
{
	fprintf(stderr, "usage: imap-test-tool [--master USER] [--no-modify] "
		"[--timeout S] [--doveadm-conf CONF] [--doveadm CMD] "
		"[--mboxrd] [--at-least] [--message-id ID] "
		"HOST PORT USER PASSWORD [NAME=MBOX ...]\n");
	return 3;
}

int main(int argc, char **argv)
{
	struct imap_test_params p;
	struct imap_test_result res;
	struct imap_expect *exp;
	struct m2d_error err;
	const char *doveadm_conf = NULL, *doveadm = NULL;
	bool mboxrd = false;
	char buf[2048];
	size_t i, n = 0;
	int a = 1, rc, status = 0;

	memset(&p, 0, sizeof(p));
	p.modify = true;
	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		if (strcmp(argv[a], "--no-modify") == 0)
			p.modify = false;
		else if (strcmp(argv[a], "--mboxrd") == 0)
			mboxrd = true;
		else if (strcmp(argv[a], "--at-least") == 0)
			p.at_least = true;
		else if (a + 1 >= argc)
			return usage();
		else if (strcmp(argv[a], "--master") == 0)
			p.master_user = argv[++a];
		else if (strcmp(argv[a], "--message-id") == 0)
			p.find_message_id = argv[++a];
		else if (strcmp(argv[a], "--timeout") == 0)
			p.timeout = (unsigned)atoi(argv[++a]);
		else if (strcmp(argv[a], "--doveadm-conf") == 0)
			doveadm_conf = argv[++a];
		else if (strcmp(argv[a], "--doveadm") == 0)
			doveadm = argv[++a];
		else
			return usage();
	}
	if (argc - a < 4)
		return usage();
	p.host = argv[a];
	p.port = (unsigned)atoi(argv[a + 1]);
	p.user = argv[a + 2];
	p.password = argv[a + 3];
	a += 4;
	exp = calloc((size_t)(argc - a) + 1, sizeof(*exp));
	if (exp == NULL)
		return 2;
	for (; a < argc; a++) {
		char *eq = strchr(argv[a], '=');

		if (eq == NULL)
			return usage();
		*eq = '\0';
		if (imap_expect_folder(eq + 1, argv[a], mboxrd, &exp[n],
				       &err) < 0) {
			printf("error\t%s\n",
			       m2d_error_str(&err, buf, sizeof(buf)));
			return 2;
		}
		printf("expect\t%s\t%lu\n", exp[n].name, exp[n].messages);
		n++;
	}
	p.folders = exp;
	p.nfolders = n;
	rc = imap_test_run(&p, &res, &err);
	if (rc >= 0)
		printf("greeting\t%s\n", res.greeting);
	for (i = 0; rc >= 0 && i < res.nchecks; i++)
		printf("check\t%s\t%s\t%s\n", res.checks[i].id,
		       res.checks[i].ok ? "ok" : "FAILED",
		       res.checks[i].detail);
	printf("result\t%d\n", rc);
	if (rc < 0) {
		printf("error\t%s\n", m2d_error_str(&err, buf, sizeof(buf)));
		status = 2;
	} else if (rc > 0) {
		status = 1;
	}
	if (doveadm_conf != NULL || doveadm != NULL) {
		struct imap_doveadm_result dr;

		rc = imap_doveadm_counts(doveadm, doveadm_conf, p.user, exp, n,
					 &dr, &err);
		if (rc < 0) {
			printf("doveadm\tFAILED\t-1\t0\t0\t%s\n",
			       m2d_error_str(&err, buf, sizeof(buf)));
			status = 2;
		} else {
			printf("doveadm\t%s\t%d\t%lu\t%lu\t%s\n",
			       dr.ok ? "ok" : "FAILED", rc, dr.folders_seen,
			       dr.messages, dr.detail);
			if (rc > 0 && status == 0)
				status = 1;
		}
	}
	for (i = 0; i < n; i++)
		imap_expect_free(&exp[i]);
	free(exp);
	return status;
}
