/* SPDX-License-Identifier: MIT */
/*
 * cli-report.c - "mbox2dovecot report --merge DIR...": the shards of a
 * migration (--shard K/N, each with its own work dir and journal) read
 * together: per work dir and in all, the users and folders migrated, the
 * messages and the source bytes; a user found in two of them (shards
 * that overlap: different N, or a list changed between runs) is named,
 * and the exit status is then 1.  Changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "journal.h"
#include "str-escape.h"
#include "i18n.h"
#include "xalloc.h"

struct tally {
	unsigned long users, folders, converting;
	unsigned long long messages, bytes;
};

static void report_usage(FILE *out)
{
	fprintf(out, _("usage: %s report --merge WORKDIR...\n"),
		cli_progname);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One work dir into T; its users appended to *NAMES. */
static int read_shard(const char *dir, struct tally *t, char ***names,
		      size_t *nnames, size_t *cap)
{
	struct journal *j;
	struct journal_user *users;
	struct journal_folder *folders;
	struct m2d_error err;
	char *path = xasprintf("%s/journal", dir);
	size_t nu, nf, i;
	bool there = access(path, F_OK) == 0;

	free(path);
	if (!there) {
		cli_error(_("%s: no journal (not a work dir of migrate)"),
			  str_esc(dir));
		return -1;
	}
	if (journal_open(dir, &j, &err) < 0) {
		cli_report(&err);
		return -1;
	}
	memset(t, 0, sizeof(*t));
	nu = journal_users(j, &users);
	nf = journal_folders(j, &folders);
	t->users = nu;
	for (i = 0; i < nf; i++) {
		if (folders[i].state == JOURNAL_DONE) {
			t->folders++;
			t->messages += folders[i].messages;
			if (folders[i].source.size > 0)
				t->bytes += (unsigned long long)
					folders[i].source.size;
		} else {
			t->converting++;
		}
	}
	for (i = 0; i < nu; i++) {
		if (*nnames == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*names = xrealloc(*names, *cap * sizeof(**names));
		}
		(*names)[(*nnames)++] = xstrdup(users[i].user);
	}
	journal_users_free(users, nu);
	journal_folders_free(folders, nf);
	journal_close(&j);
	return 0;
}

static void print_tally(const char *what, const struct tally *t)
{
	printf(_("%s: %lu users, %lu folders, %llu messages, %llu bytes"),
	       what, t->users, t->folders, t->messages, t->bytes);
	if (t->converting > 0)
		printf(_(" (%lu folders interrupted)"), t->converting);
	printf("\n");
}

/* The users found in more than one work dir: named; how many. */
static unsigned long overlaps(char **names, size_t n)
{
	unsigned long dup = 0;

	qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(names[i], names[i - 1]) == 0 &&
		    (i < 2 || strcmp(names[i], names[i - 2]) != 0)) {
			cli_error(_("user %s is in more than one work dir"),
				  str_esc(names[i]));
			dup++;
		}
	}
	return dup;
}

int cmd_report(int argc, char **argv)
{
	struct tally all, t;
	char **names = NULL;
	size_t nnames = 0, cap = 0;
	int i, ret = EXIT_OK;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0)) {
		report_usage(stdout);
		return EXIT_OK;
	}
	if (argc < 3 || strcmp(argv[1], "--merge") != 0) {
		report_usage(stderr);
		return EXIT_USAGE;
	}
	memset(&all, 0, sizeof(all));
	for (i = 2; i < argc; i++) {
		if (read_shard(argv[i], &t, &names, &nnames, &cap) < 0) {
			ret = EXIT_FAILED;
			break;
		}
		print_tally(str_esc(argv[i]), &t);
		all.users += t.users;
		all.folders += t.folders;
		all.converting += t.converting;
		all.messages += t.messages;
		all.bytes += t.bytes;
	}
	if (ret == EXIT_OK) {
		print_tally(_("all"), &all);
		if (overlaps(names, nnames) > 0)
			ret = EXIT_FAILED;
	}
	for (size_t k = 0; k < nnames; k++)
		free(names[k]);
	free(names);
	return ret;
}
