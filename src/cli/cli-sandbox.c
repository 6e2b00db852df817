/* SPDX-License-Identifier: MIT */
/*
 * cli-sandbox.c - "mbox2dovecot sandbox DIR": a practice mail server in
 * DIR, without root; "sandbox --stop DIR" stops what it started
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sandbox.h"
#include "i18n.h"

static void usage(FILE *out)
{
	fprintf(out, _("usage: %s sandbox DIR [--seed N] [--users N] "
		       "[--no-start]\n"
		       "       %s sandbox --stop DIR\n"), cli_progname,
		cli_progname);
}

/* DIR made absolute (it need not exist yet): its parent's real path and
 * its last name.  Allocated, or NULL (reported). */
static char *absolute_dir(const char *arg)
{
	char *copy = strdup(arg), *slash, *parent, *out = NULL;
	const char *base;
	char real[PATH_MAX];
	size_t len;

	if (copy == NULL)
		return NULL;
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	if (slash == NULL) {
		parent = ".";
		base = copy;
	} else if (slash == copy) {
		parent = "/";
		base = slash + 1;
	} else {
		*slash = '\0';
		parent = copy;
		base = slash + 1;
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		if (realpath(arg, real) != NULL)
			out = strdup(real);
		else
			cli_error(_("%s: %s"), arg, _("no such directory"));
	} else if (realpath(parent, real) == NULL) {
		cli_error(_("%s: the directory above it does not exist"),
			  arg);
	} else if (asprintf(&out, "%s%s%s", real,
			    strcmp(real, "/") == 0 ? "" : "/", base) < 0) {
		out = NULL;
	}
	free(copy);
	return out;
}

/* The running program as an absolute path (for the service scripts). */
static char *self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* "sandbox --uw-imap PORT PIDFILE": the UW-IMAP stand-in, in the
 * background; returns once it listens and its pid is written. */
static int uw_imap(const char *port_arg, const char *pidfile)
{
	struct m2d_error err;
	char *end;
	long port = strtol(port_arg, &end, 10);
	FILE *f;
	pid_t pid;
	int fd;

	if (*end != '\0' || port <= 0 || port > 65535) {
		cli_error(_("bad port: %s"), port_arg);
		return EXIT_USAGE;
	}
	fd = sandbox_uw_listen((unsigned int)port, &err);
	if (fd < 0) {
		cli_report(&err);
		return EXIT_FAILED;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cli_error(_("fork failed"));
		return EXIT_FAILED;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (chdir("/") < 0)
			_exit(EXIT_FAILED);
		signal(SIGTERM, SIG_DFL);
		_exit(sandbox_uw_serve(fd, &err) < 0 ? EXIT_FAILED : EXIT_OK);
	}
	close(fd);
	f = fopen(pidfile, "we");
	if (f == NULL || fprintf(f, "%ld\n", (long)pid) < 0 ||
	    fclose(f) != 0) {
		cli_error(_("cannot write %s"), pidfile);
		kill(pid, SIGTERM);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* How to call this program again: its name when PATH finds this very
 * program, else its absolute path. */
static const char *call_name(const char *self)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL, *d, cand[PATH_MAX], real[PATH_MAX];
	bool found = false;

	if (self == NULL || path == NULL || (dirs = strdup(path)) == NULL)
		return self != NULL ? self : cli_progname;
	for (d = strtok_r(dirs, ":", &save); d != NULL && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof(cand), "%s/%s", d, cli_progname);
		found = realpath(cand, real) != NULL &&
			strcmp(real, self) == 0;
	}
	free(dirs);
	return found ? cli_progname : self;
}

static void show(const struct sandbox_info *in, const char *prog)
{
	const char *d = in->dir;

	printf(_("A practice mail server in %s:\n"), d);
	printf(_("  UW-IMAP spool  %s/spool, homes %s/home: %d users, %d "
		 "folders, %d messages\n"), d, d, in->users, in->folders,
	       in->messages);
	printf(_("                 (users:"));
	for (int i = 0; i < in->users; i++)
		printf(" %s", in->user_names[i]);
	printf(_("; mail owned by %u:%u)\n"), (unsigned int)in->uid,
	       (unsigned int)in->gid);
	printf(_("  UW-IMAP        a stand-in under the sandbox's xinetd on "
		 "127.0.0.1:%u%s\n"), in->uw_port,
	       in->uw_started ? _(" (running)") : "");
	if (in->dovecot)
		printf(_("  Dovecot %s   %s/dovecot/dovecot.conf%s: no IMAP "
			 "port yet; the runbook adds 127.0.0.1:%u (test), "
			 "then 127.0.0.1:%u (cutover); password of every "
			 "user: %s\n"), in->dovecot_version, d,
		       in->dovecot_started ? _(" (running)") : "",
		       in->test_port, in->imap_port, in->password);
	else
		printf(_("  Dovecot        not installed: no Dovecot config "
			 "written (install dovecot-core and dovecot-imapd, "
			 "then run this again)\n"));
	printf(_("  Postfix        %s/postfix (postconf -c); bin/deliver "
		 "plays local(8)\n"), d);
	printf(_("  services       %s/bin, logs in %s/log\n"), d, d);
	printf(_("  configuration  %s\n\n"), in->config);
	printf(_("Next:\n"
		 "  %s --config %s\n"
		 "      the wizard\n"
		 "  %s --config %s --batch --yes\n"
		 "      the same, headless\n"
		 "  %s plan --config %s\n"
		 "      only the plan\n"
		 "  %s sandbox --stop %s\n"
		 "      stop it all\n"),
	       prog, in->config, prog, in->config, prog, in->config, prog, d);
}

int cmd_sandbox(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stop", no_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 's' },
		{ "users", required_argument, NULL, 'u' },
		{ "no-start", no_argument, NULL, 'n' },
		{ "uw-imap", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sandbox_opts so;
	struct sandbox_info info;
	struct m2d_error err;
	bool stop = false, uw = false;
	char *dir, *prog, *end;
	int c, ret;

	sandbox_opts_init(&so);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			stop = true;
			break;
		case 's':
			so.seed = strtoul(optarg, &end, 10);
			if (*end != '\0' || optarg[0] == '\0') {
				cli_error(_("bad seed: %s"), optarg);
				return EXIT_USAGE;
			}
			break;
		case 'u':
			so.users = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || so.users < 1 ||
			    so.users > SANDBOX_MAX_USERS) {
				cli_error(_("--users: 1 to %d"),
					  SANDBOX_MAX_USERS);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			so.start = false;
			break;
		case 'W':
			uw = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (uw) {
		if (argc - optind != 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return uw_imap(argv[optind], argv[optind + 1]);
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	dir = absolute_dir(argv[optind]);
	if (dir == NULL)
		return EXIT_FAILED;
	if (stop) {
		int n;

		if (sandbox_is_ours(dir, NULL, &err) != 1) {
			cli_error(_("%s is not a sandbox of mbox2dovecot"),
				  dir);
			free(dir);
			return EXIT_FAILED;
		}
		ret = sandbox_stop(dir, &n, &err);
		if (ret < 0) {
			cli_report(&err);
			free(dir);
			return EXIT_FAILED;
		}
		printf(ngettext("%s: %d process stopped\n",
				"%s: %d processes stopped\n", (unsigned long)n),
		       dir, n);
		free(dir);
		return EXIT_OK;
	}
	if (sandbox_is_ours(dir, NULL, &err) == 1)
		printf(_("%s is a sandbox of mbox2dovecot: stopping it and "
			 "building it again\n"), dir);
	prog = self_path();
	so.dir = dir;
	so.program = prog;
	ret = sandbox_create(&so, &info, &err);
	if (ret < 0) {
		cli_report(&err);
		free(prog);
		free(dir);
		return cli_exit_for(&err);
	}
	show(&info, call_name(prog));
	free(prog);
	sandbox_info_free(&info);
	free(dir);
	return EXIT_OK;
}
