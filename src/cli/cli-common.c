/* SPDX-License-Identifier: MIT */
/* cli-common.c - what every command of the command line shares */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "renames.h"
#include "i18n.h"
#include "str-escape.h"
#include "xalloc.h"

const char *cli_progname = "mbox2dovecot";

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_report(const struct m2d_error *err)
{
	char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 128];

	cli_error("%s", m2d_error_str(err, buf, sizeof(buf)));
}

void cli_warning(const struct m2d_error *err)
{
	char buf[M2D_ERROR_PATH_MAX + M2D_ERROR_MSG_MAX + 128];

	fprintf(stderr, _("%s: warning: %s\n"), cli_progname,
		m2d_error_str(err, buf, sizeof(buf)));
}

int cli_exit_for(const struct m2d_error *err)
{
	switch (err->code) {
	case M2D_ERR_LOCKED:
	case M2D_ERR_CHANGED:
		return EXIT_TRYLATER;
	case M2D_ERR_USAGE:
		return EXIT_USAGE;
	default:
		return EXIT_FAILED;
	}
}

static int parse_id(const char *s, int *id_r)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
		return -1;
	*id_r = (int)v;
	return 0;
}

int cli_parse_owner(const char *arg, int *uid_r, int *gid_r)
{
	const char *colon = strchr(arg, ':');
	struct passwd *pw;

	if (colon != NULL) {
		char uid[32];

		if ((size_t)(colon - arg) >= sizeof(uid))
			goto bad;
		memcpy(uid, arg, (size_t)(colon - arg));
		uid[colon - arg] = '\0';
		if (parse_id(uid, uid_r) < 0 || parse_id(colon + 1, gid_r) < 0)
			goto bad;
		return 0;
	}
	pw = getpwnam(arg);
	if (pw == NULL) {
		cli_error(_("--owner: no such user: %s"), arg);
		return -1;
	}
	*uid_r = (int)pw->pw_uid;
	*gid_r = (int)pw->pw_gid;
	return 0;
bad:
	cli_error(_("--owner: expected USER or UID:GID, not \"%s\""), arg);
	return -1;
}

#define DEFAULT_CONFIG "/etc/mbox2dovecot.conf"

static char **split_list(const char *arg)
{
	size_t n = 1, i = 0;
	const char *p;
	char **list, *copy, *tok, *save = NULL;

	for (p = arg; *p != '\0'; p++)
		n += *p == ',';
	list = calloc(n + 1, sizeof(*list));
	copy = strdup(arg);
	if (list == NULL || copy == NULL) {
		free(list);
		free(copy);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		list[i++] = strdup(tok);
	free(copy);
	return list;
}

static void free_list(char **list)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

int cli_plan_opts_init(struct cli_plan_opts *o, int argc, char **argv)
{
	struct m2d_error err;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			o->config = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			o->config = argv[i] + 9;
	}
	if (o->config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		o->config = DEFAULT_CONFIG;
	if (m2d_config_load(&o->cfg, o->config, &err) < 0) {
		cli_report(&err);
		return -1;
	}
	return 0;
}

int cli_plan_option(struct cli_plan_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'c':
		return 1;	/* loaded by cli_plan_opts_init() */
	case 's':
		m2d_config_set(&o->cfg.spool_dir, arg);
		return 1;
	case 'H':
		m2d_config_set(&o->cfg.homes_dir, arg);
		return 1;
	case 't':
		m2d_config_set(&o->cfg.target_base, arg);
		return 1;
	case 'w':
		m2d_config_set(&o->cfg.work_dir, arg);
		return 1;
	case 'u':
		free_list(o->users);
		o->users = split_list(arg);
		return 1;
	case 'U':
		o->userlist = arg;
		return 1;
	case 'F':
		o->folderlist = arg;
		return 1;
	case CLI_OPT_RENAMES:
		o->renames = arg;
		return 1;
	case CLI_OPT_ACCEPT_NAMES:
		o->accept_suggested = true;
		return 1;
	case CLI_OPT_SHARD: {
		char *end;
		unsigned long k = strtoul(arg, &end, 10), n = 0;

		if (*end == '/')
			n = strtoul(end + 1, &end, 10);
		if (*end != '\0' || k < 1 || n < 1 || k > n || n > 65536) {
			cli_error(_("--shard: expected K/N with 1 <= K <= N"));
			return -1;
		}
		o->shard = (unsigned int)k;
		o->shards = (unsigned int)n;
		return 1;
	}
	case 'j':
		o->cfg.jobs = atoi(arg);
		if (o->cfg.jobs < 0) {
			cli_error(_("--jobs: expected a number >= 0"));
			return -1;
		}
		return 1;
	}
	return 0;
}

int cli_plan_opts_done(struct cli_plan_opts *o)
{
	struct m2d_error err;

	if (o->shards > 1 && o->cfg.work_dir != NULL) {
		/* each shard its own journal and lists, below the work dir
		 * (made here when missing, as migrate makes its own) */
		char *w = xasprintf("%s/shard-%u-of-%u", o->cfg.work_dir,
				    o->shard, o->shards);

		if (mkdir(o->cfg.work_dir, 0700) < 0 && errno != EEXIST) {
			cli_error(_("mkdir(%s): %s"), str_esc(o->cfg.work_dir),
				  strerror(errno));
			free(w);
			return -1;
		}

		m2d_config_set(&o->cfg.work_dir, w);
		free(w);
	}
	if (m2d_config_check(&o->cfg, o->config, &err) < 0) {
		cli_report(&err);
		return -1;
	}
	if (o->cfg.source_tz != NULL && o->cfg.source_tz[0] != '\0') {
		setenv("TZ", o->cfg.source_tz, 1);
		tzset();
	}
	return 0;
}

void cli_plan_opts_free(struct cli_plan_opts *o)
{
	free_list(o->users);
	o->users = NULL;
	m2d_config_free(&o->cfg);
}

int cli_plan_build(const struct cli_plan_opts *o, struct plan *plan,
		   struct m2d_error *err)
{
	struct plan_source src;

	memset(&src, 0, sizeof(src));
	src.users = (const char *const *)o->users;
	src.userlist = o->userlist;
	src.folderlist = o->folderlist;
	src.shard = o->shard;
	src.shards = o->shards;
	return plan_build_decided(&o->cfg, &src, o->renames,
				  o->accept_suggested, plan, err);
}

double cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
