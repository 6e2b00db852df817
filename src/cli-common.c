/* cli-common.c - what every command of the command line shares */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "i18n.h"

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

double cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
