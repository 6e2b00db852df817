/* SPDX-License-Identifier: MIT */
/*
 * test-services.c - the service table: defaults per init system (the
 * detection injected, or run on a scratch root), the dry-run text, a real
 * start and stop confirmed by a TCP probe (the "service" is this test
 * program run again as a small daemon: "--listen PORT PIDFILE" /
 * "--kill PIDFILE"), UW-IMAP's xinetd and inetd files edited in a scratch
 * root and undone byte for byte, the backups; run_cmd_input() (a text on
 * a command's standard input) and host_service() (the table from the
 * configuration)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-actions.h"
#include "run-cmd.h"
#include "services.h"

static char self[PATH_MAX];	/* this test program */
static char top[64];		/* scratch root of a test */
static char work[128];		/* top/work */
static char script[128];	/* top/record.sh */
static char calls[192];		/* what it was run with */

#define XINETD_IMAP \
	"# default: off\n" \
	"# description: The IMAP service\n" \
	"service imap\n" \
	"{\n" \
	"\tsocket_type\t\t= stream\n" \
	"\twait\t\t\t= no\n" \
	"\tuser\t\t\t= root\n" \
	"\tserver\t\t\t= /usr/sbin/imapd\n" \
	"\tlog_on_success\t\t+= HOST DURATION\n" \
	"\tdisable\t\t\t= no\n" \
	"}\n"

#define XINETD_IMAPS \
	"service imaps\n" \
	"{\n" \
	"        socket_type     = stream\n" \
	"        wait            = no\n" \
	"        user            = root\n" \
	"        server          = /usr/sbin/imapd\n" \
	"}\n"

#define INETD_CONF \
	"# /etc/inetd.conf\n" \
	"#:MAIL: Mail, news and uucp services.\n" \
	"imap2\t\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t/usr/sbin/imapd\n" \
	"imaps\t\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t/usr/sbin/imapd\n" \
	"pop3\t\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t/usr/sbin/ipop3d\n" \
	"#imap3\t\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\t/usr/sbin/imapd\n"

/* ---- helpers ---- */

static void mkdirs(const char *rel)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	for (p = path + strlen(top) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put_below(const char *rel, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	put(path, text);
}

static char *slurp_below(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return slurp(path);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A port nothing listens on now. */
static unsigned int free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/m2d-test-svc.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(work, sizeof(work), "%s/work", top);
	snprintf(script, sizeof(script), "%s/record.sh", top);
	snprintf(calls, sizeof(calls), "%s.calls", script);
	put(script, "#!/bin/sh\necho \"$*\" >> \"$0.calls\"\n");
	assert_int_equal(chmod(script, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static char *dry(const struct svc_table *t, enum svc_role role,
		 enum svc_action action)
{
	const struct svc_run_opts opts = { true, NULL };
	struct m2d_error err;
	char *text;

	m2d_error_clear(&err);
	assert_int_equal(svc_run(t, role, action, &opts, &text, &err), 0);
	assert_non_null(text);
	return text;
}

#define assert_dry(t, role, action, expected) do { \
		char *text_ = dry(t, role, action); \
		assert_string_equal(text_, expected); \
		free(text_); \
	} while (0)

/* ---- the launcher files as text ---- */

static void test_xinetd_text(void **state)
{
	static const struct {
		const char *in;
		bool disable;
		const char *out;
	} cases[] = {
		{ XINETD_IMAP, true, NULL },	/* the line rewritten */
		{ "service imap\n{\n\tdisable = yes\n}\n", false,
		  "service imap\n{\n\tdisable = no\n}\n" },
		/* no disable line: added before the brace */
		{ "service imaps\n{\n\tuser = root\n}\n", true,
		  "service imaps\n{\n\tuser = root\n\tdisable\t\t= yes\n}\n" },
		/* "defaults" is not a service: left alone */
		{ "defaults\n{\n\tinstances = 60\n}\n", true,
		  "defaults\n{\n\tinstances = 60\n}\n" },
		/* already disabled: the same bytes */
		{ "service imap\n{\n  disable   = yes\n}\n", true,
		  "service imap\n{\n  disable   = yes\n}\n" },
		/* two services, no final newline */
		{ "service a\n{\n}\nservice b\n{\ndisable=no\n}", true,
		  "service a\n{\n\tdisable\t\t= yes\n}\nservice b\n{\n"
		  "disable= yes\n}" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = svc_xinetd_set_disable(cases[i].in,
						   cases[i].disable);

		assert_non_null(out);
		if (cases[i].out != NULL) {
			assert_string_equal(out, cases[i].out);
		} else {
			assert_non_null(strstr(out, "\tdisable\t\t\t= yes\n"));
			assert_null(strstr(out, "= no\n}"));
			assert_int_equal(strlen(out), strlen(cases[i].in) + 1);
		}
		free(out);
	}
}

static void test_inetd_text(void **state)
{
	char *off, *on;

	(void)state;
	off = svc_inetd_set_imap(INETD_CONF, false);
	assert_non_null(off);
	assert_non_null(strstr(off, "\n#<off># imap2\t\tstream"));
	assert_non_null(strstr(off, "\n#<off># imaps\t\tstream"));
	assert_non_null(strstr(off, "\npop3\t\tstream"));
	/* an admin's own comment stays as it is */
	assert_non_null(strstr(off, "\n#imap3\t"));
	assert_null(strstr(off, "#<off># #imap3"));
	on = svc_inetd_set_imap(off, true);
	assert_string_equal(on, INETD_CONF);
	free(on);
	free(off);
}

/* ---- defaults and dry runs ---- */

static void test_dry_systemd(void **state)
{
	struct svc_env env = { SVC_INIT_SYSTEMD, SVC_LAUNCH_XINETD, false,
			       "inetd" };
	struct svc_table t;
	struct m2d_error err;
	char text[1024];

	(void)state;
	m2d_error_clear(&err);
	mkdirs("etc/xinetd.d");
	put_below("etc/xinetd.d/imap", XINETD_IMAP);
	put_below("etc/xinetd.d/imaps", XINETD_IMAPS);
	svc_table_init(&t, &env, top);
	assert_dry(&t, SVC_ROLE_MTA, SVC_STOP,
		   "systemctl stop postfix\n"
		   "probe: postfix status (must exit non-zero)\n");
	assert_dry(&t, SVC_ROLE_MTA, SVC_RELOAD,
		   "systemctl reload postfix\n"
		   "probe: postfix status (must exit 0)\n");
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_START,
		   "systemctl start dovecot\n"
		   "probe: connect to 127.0.0.1:143 (must answer)\n");
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_ENABLE,
		   "systemctl enable dovecot\n");
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_STATUS,
		   "probe: connect to 127.0.0.1:143 (must answer)\n");
	snprintf(text, sizeof(text),
		 "edit %s/etc/xinetd.d/imap: disable = yes\n"
		 "edit %s/etc/xinetd.d/imaps: disable = yes\n"
		 "systemctl reload xinetd\n"
		 "probe: connect to 127.0.0.1:143 (must be refused)\n",
		 top, top);
	assert_dry(&t, SVC_ROLE_IMAP_OLD, SVC_STOP, text);
	/* the dry run changed nothing */
	{
		char *f = slurp_below("etc/xinetd.d/imap");

		assert_string_equal(f, XINETD_IMAP);
		free(f);
	}
	assert_int_equal(access(work, F_OK), -1);
	/* an override replaces the default */
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_NEW, SVC_START,
					 "/usr/local/sbin/dovecot -c /x.conf",
					 &err), 0);
	assert_int_equal(svc_set_probe_tcp(&t, SVC_ROLE_IMAP_NEW,
					   "127.0.0.1", 1043, &err), 0);
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_START,
		   "/usr/local/sbin/dovecot -c /x.conf\n"
		   "probe: connect to 127.0.0.1:1043 (must answer)\n");
	svc_table_free(&t);
}

static void test_dry_sysv(void **state)
{
	struct svc_env env = { SVC_INIT_SYSV, SVC_LAUNCH_INETD, true,
			       "openbsd-inetd" };
	struct svc_table t;
	struct m2d_error err;
	char text[1024];

	(void)state;
	m2d_error_clear(&err);
	mkdirs("etc");
	put_below("etc/inetd.conf", INETD_CONF);
	svc_table_init(&t, &env, top);
	assert_dry(&t, SVC_ROLE_MTA, SVC_START,
		   "service postfix start\n"
		   "probe: postfix status (must exit 0)\n");
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_ENABLE,
		   "chkconfig dovecot on\n");
	assert_dry(&t, SVC_ROLE_MTA, SVC_DISABLE, "chkconfig postfix off\n");
	snprintf(text, sizeof(text),
		 "edit %s/etc/inetd.conf: comment out the imap lines\n"
		 "service openbsd-inetd reload\n"
		 "probe: connect to 127.0.0.1:143 (must be refused)\n", top);
	assert_dry(&t, SVC_ROLE_IMAP_OLD, SVC_DISABLE, text);
	snprintf(text, sizeof(text),
		 "edit %s/etc/inetd.conf: uncomment the imap lines\n"
		 "service openbsd-inetd reload\n"
		 "probe: connect to 127.0.0.1:143 (must answer)\n", top);
	assert_dry(&t, SVC_ROLE_IMAP_OLD, SVC_START, text);
	svc_table_free(&t);

	/* Debian's SysV: update-rc.d */
	env.chkconfig = false;
	svc_table_init(&t, &env, top);
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_DISABLE,
		   "update-rc.d dovecot disable\n");
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_STOP,
		   "service dovecot stop\n"
		   "probe: connect to 127.0.0.1:143 (must be refused)\n");
	svc_table_free(&t);
}

static void test_dry_none(void **state)
{
	struct svc_env env = { SVC_INIT_NONE, SVC_LAUNCH_NONE, false, NULL };
	const struct svc_run_opts opts = { true, NULL };
	struct svc_table t;
	struct m2d_error err;
	char *text;

	(void)state;
	m2d_error_clear(&err);
	svc_table_init(&t, &env, NULL);
	assert_dry(&t, SVC_ROLE_MTA, SVC_RELOAD,
		   "postfix reload\nprobe: postfix status (must exit 0)\n");
	assert_dry(&t, SVC_ROLE_IMAP_NEW, SVC_STOP,
		   "doveadm stop\n"
		   "probe: connect to 127.0.0.1:143 (must be refused)\n");
	/* nothing known for UW: configure it */
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_OLD, SVC_STOP, &opts,
				 &text, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	assert_null(text);
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_OLD, SVC_STOP,
					 "/etc/rc.d/imapd stop", &err), 0);
	assert_dry(&t, SVC_ROLE_IMAP_OLD, SVC_STOP,
		   "/etc/rc.d/imapd stop\n"
		   "probe: connect to 127.0.0.1:143 (must be refused)\n");
	svc_table_free(&t);
}

static void test_detect(void **state)
{
	struct svc_env env;

	(void)state;
	svc_detect(top, &env);
	assert_int_equal(env.init, SVC_INIT_NONE);
	assert_int_equal(env.launcher, SVC_LAUNCH_NONE);
	mkdirs("etc/init.d");
	mkdirs("etc");
	put_below("etc/inetd.conf", INETD_CONF);
	put_below("etc/init.d/openbsd-inetd", "");
	svc_detect(top, &env);
	assert_int_equal(env.init, SVC_INIT_SYSV);
	assert_int_equal(env.launcher, SVC_LAUNCH_INETD);
	assert_false(env.chkconfig);
	assert_string_equal(env.inetd_service, "openbsd-inetd");
	mkdirs("run/systemd/system");
	mkdirs("etc/xinetd.d");
	mkdirs("sbin");
	put_below("etc/xinetd.d/imaps", XINETD_IMAPS);
	put_below("sbin/chkconfig", "");
	svc_detect(top, &env);
	assert_int_equal(env.init, SVC_INIT_SYSTEMD);
	assert_int_equal(env.launcher, SVC_LAUNCH_XINETD);
	assert_true(env.chkconfig);
}

/* ---- running for real ---- */

static void test_start_stop(void **state)
{
	struct svc_env env = { SVC_INIT_NONE, SVC_LAUNCH_NONE, false, NULL };
	const struct svc_run_opts opts = { false, NULL };
	struct svc_table t;
	struct m2d_error err;
	unsigned int port = free_port();
	char cmd[PATH_MAX + 256], pidfile[128], *text;

	(void)state;
	m2d_error_clear(&err);
	snprintf(pidfile, sizeof(pidfile), "%s/daemon.pid", top);
	svc_table_init(&t, &env, NULL);
	t.probe_timeout = 5;
	snprintf(cmd, sizeof(cmd), "%s --listen %u %s", self, port, pidfile);
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_NEW, SVC_START,
					 cmd, &err), 0);
	snprintf(cmd, sizeof(cmd), "%s --kill %s", self, pidfile);
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_NEW, SVC_STOP,
					 cmd, &err), 0);
	assert_int_equal(svc_set_probe_tcp(&t, SVC_ROLE_IMAP_NEW,
					   "127.0.0.1", port, &err), 0);

	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_STATUS, &opts,
				 NULL, &err), 0);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_START, &opts,
				 &text, &err), 0);
	assert_non_null(strstr(text, "--listen"));
	free(text);
	assert_int_equal(svc_probe(&t, SVC_ROLE_IMAP_NEW, &err), 1);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_STATUS, &opts,
				 NULL, &err), 1);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_STOP, &opts,
				 NULL, &err), 0);
	assert_int_equal(svc_probe(&t, SVC_ROLE_IMAP_NEW, &err), 0);

	/* a start that exits 0 but starts nothing: the probe says so */
	t.probe_timeout = 1;
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_NEW, SVC_START,
					 "true", &err), 0);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_START, &opts,
				 NULL, &err), -1);
	assert_non_null(strstr(err.msg, "does not run after start"));
	/* a command that fails: its exit code and what it said */
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_NEW, SVC_START,
					 "false", &err), 0);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_START, &opts,
				 NULL, &err), -1);
	assert_non_null(strstr(err.msg, "exit 1"));
	/* a program that does not exist */
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_NEW, SVC_START,
					 "/nonexistent/m2d-start", &err), 0);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_NEW, SVC_START, &opts,
				 NULL, &err), -1);
	/* the MTA's status by a command's exit code */
	assert_int_equal(svc_set_probe_command(&t, SVC_ROLE_MTA, "true",
					       &err), 0);
	assert_int_equal(svc_run(&t, SVC_ROLE_MTA, SVC_STATUS, &opts, NULL,
				 &err), 1);
	assert_int_equal(svc_set_probe_command(&t, SVC_ROLE_MTA, "false",
					       &err), 0);
	assert_int_equal(svc_run(&t, SVC_ROLE_MTA, SVC_STATUS, &opts, NULL,
				 &err), 0);
	svc_table_free(&t);
}

static void test_postfix_status(void **state)
{
	struct svc_env env = { SVC_INIT_NONE, SVC_LAUNCH_NONE, false, NULL };
	struct svc_table t;
	struct m2d_error err;

	(void)state;
	m2d_error_clear(&err);
	svc_table_init(&t, &env, NULL);
	/* the real "postfix status": no Postfix runs here */
	assert_int_equal(svc_probe(&t, SVC_ROLE_MTA, &err), 0);
	svc_table_free(&t);
}

static void test_xinetd_edit_undo(void **state)
{
	struct svc_env env = { SVC_INIT_SYSV, SVC_LAUNCH_XINETD, true, NULL };
	const struct svc_run_opts opts = { false, work };
	struct svc_table t;
	struct m2d_error err;
	char path[PATH_MAX], reload[256], *text;
	struct stat st;

	(void)state;
	m2d_error_clear(&err);
	mkdirs("etc/xinetd.d");
	put_below("etc/xinetd.d/imap", XINETD_IMAP);
	put_below("etc/xinetd.d/imaps", XINETD_IMAPS);
	snprintf(path, sizeof(path), "%s/etc/xinetd.d/imaps", top);
	assert_int_equal(chmod(path, 0600), 0);
	svc_table_init(&t, &env, top);
	t.probe_timeout = 1;
	snprintf(reload, sizeof(reload), "%s xinetd reload", script);
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_OLD, SVC_RELOAD,
					 reload, &err), 0);
	assert_int_equal(svc_set_probe_tcp(&t, SVC_ROLE_IMAP_OLD, "127.0.0.1",
					   free_port(), &err), 0);

	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_OLD, SVC_STOP, &opts,
				 NULL, &err), 0);
	text = slurp_below("etc/xinetd.d/imap");
	assert_non_null(strstr(text, "\tdisable\t\t\t= yes\n}"));
	free(text);
	text = slurp_below("etc/xinetd.d/imaps");
	assert_non_null(strstr(text, "\tdisable\t\t= yes\n}\n"));
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = slurp(calls);
	assert_string_equal(text, "xinetd reload\n");
	free(text);

	/* again (disable after stop): the first original is kept */
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_OLD, SVC_DISABLE, &opts,
				 NULL, &err), 0);
	/* enable: "disable = no"; it does not come up: the probe says so */
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_OLD, SVC_ENABLE, &opts,
				 NULL, &err), -1);
	assert_non_null(strstr(err.msg, "does not run"));
	text = slurp_below("etc/xinetd.d/imaps");
	assert_non_null(strstr(text, "\tdisable\t\t= no\n}\n"));
	free(text);

	assert_int_equal(svc_undo(work, &err), 1);
	text = slurp_below("etc/xinetd.d/imap");
	assert_string_equal(text, XINETD_IMAP);
	free(text);
	text = slurp_below("etc/xinetd.d/imaps");
	assert_string_equal(text, XINETD_IMAPS);
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(svc_undo(work, &err), 0);
	svc_table_free(&t);
}

static void test_inetd_edit_undo(void **state)
{
	struct svc_env env = { SVC_INIT_SYSTEMD, SVC_LAUNCH_INETD, false,
			       "inetd" };
	const struct svc_run_opts opts = { false, work };
	struct svc_table t;
	struct m2d_error err;
	char reload[256], *text;

	(void)state;
	m2d_error_clear(&err);
	mkdirs("etc");
	put_below("etc/inetd.conf", INETD_CONF);
	svc_table_init(&t, &env, top);
	snprintf(reload, sizeof(reload), "%s inetd reload", script);
	assert_int_equal(svc_set_command(&t, SVC_ROLE_IMAP_OLD, SVC_RELOAD,
					 reload, &err), 0);
	svc_set_probe_none(&t, SVC_ROLE_IMAP_OLD);
	assert_int_equal(svc_run(&t, SVC_ROLE_IMAP_OLD, SVC_STOP, &opts,
				 NULL, &err), 0);
	text = slurp_below("etc/inetd.conf");
	assert_non_null(strstr(text, "#<off># imap2"));
	free(text);
	/* the admin changed it since: refused, left alone */
	put_below("etc/inetd.conf", "# new\n");
	assert_int_equal(svc_undo(work, &err), -1);
	assert_int_equal(err.code, M2D_ERR_CHANGED);
	text = slurp_below("etc/inetd.conf");
	assert_string_equal(text, "# new\n");
	free(text);
	svc_table_free(&t);
}

static void test_backup_new_file(void **state)
{
	struct m2d_error err;
	char path[PATH_MAX];

	(void)state;
	m2d_error_clear(&err);
	snprintf(path, sizeof(path), "%s/created.conf", top);
	/* a file that did not exist: undo removes it */
	assert_int_equal(svc_backup_save(work, "t", path, &err), 1);
	assert_int_equal(svc_write_file(path, "x = 1\n", &err), 0);
	assert_int_equal(svc_backup_applied(work, "t", path, &err), 0);
	assert_int_equal(svc_backup_is_ours(work, "t", path, &err), 1);
	assert_int_equal(svc_backup_save(work, "t", path, &err), 0);
	assert_int_equal(svc_backup_undo(work, "t", &err), 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(svc_backup_undo(work, "t", &err), 0);
	/* nothing is left in the work dir */
	snprintf(path, sizeof(path), "%s/t", work);
	assert_int_equal(access(path, F_OK), -1);
}

/* ---- the test daemon ---- */

static int daemon_listen(const char *port, const char *pidfile)
{
	struct sockaddr_in sin;
	int fd, one = 1;
	pid_t pid = fork();
	FILE *f;

	if (pid != 0)
		return pid < 0 ? 1 : 0;
	setsid();
	/* no stdout/stderr kept: run_cmd waits for their end */
	fd = open("/dev/null", O_RDWR);
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)atoi(port));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 8) < 0)
		_exit(1);
	f = fopen(pidfile, "w");
	if (f != NULL) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	alarm(60);		/* never outlive the test for long */
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

static int daemon_kill(const char *pidfile)
{
	FILE *f = fopen(pidfile, "r");
	long pid = 0;

	if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		if (f != NULL)
			fclose(f);
		return 1;
	}
	fclose(f);
	unlink(pidfile);
	return kill((pid_t)pid, SIGTERM) < 0 ? 1 : 0;
}

/* ---- a text on a command's standard input (the delivery test) ---- */

static void test_run_input(void **state)
{
	char *cat[] = { "cat", NULL };
	char *wc[] = { "wc", "-c", NULL };
	char *ignore[] = { "true", NULL };
	char *fail[] = { "sh", "-c", "cat >/dev/null; echo no >&2; exit 3",
			 NULL };
	struct run_output out;
	struct m2d_error err;
	size_t big = 4u << 20;	/* far more than a pipe holds */
	char *text = malloc(big + 1);

	(void)state;
	assert_non_null(text);
	memset(text, 'x', big);
	text[big] = '\0';
	m2d_error_clear(&err);
	assert_int_equal(run_cmd_input(cat, "From: a\n\nhi\n", 13, &out,
				       &err), 0);
	assert_int_equal(out.status, 0);
	assert_string_equal(out.out, "From: a\n\nhi\n");
	run_output_free(&out);
	/* written while the output is read: no deadlock either way */
	assert_int_equal(run_cmd_input(cat, text, big, &out, &err), 0);
	assert_int_equal(out.status, 0);
	assert_int_equal(strlen(out.out), big);
	run_output_free(&out);
	assert_int_equal(run_cmd_input(wc, text, big, &out, &err), 0);
	assert_int_equal(strtoul(out.out, NULL, 10), big);
	run_output_free(&out);
	/* a command that reads nothing: its status, no SIGPIPE for us */
	assert_int_equal(run_cmd_input(ignore, text, big, &out, &err), 0);
	assert_int_equal(out.status, 0);
	run_output_free(&out);
	assert_int_equal(run_cmd_input(fail, text, 10, &out, &err), 0);
	assert_int_equal(out.status, 3);
	assert_string_equal(out.err, "no\n");
	run_output_free(&out);
	/* no input: standard input is /dev/null (cat ends at once) */
	assert_int_equal(run_cmd_input(cat, NULL, 0, &out, &err), 0);
	assert_string_equal(out.out, "");
	run_output_free(&out);
	free(text);
}

/* ---- host_service: the configuration's table ---- */

/* A command that prints nothing for the silence limit is stopped (doveadm
 * on a FIFO a user planted); one that keeps printing is not. */
static void test_run_silence(void **state)
{
	char *const hang[] = { "sleep", "30", NULL };
	char *const talk[] = { "sh", "-c",
		"for i in 1 2 3; do echo $i; sleep 0.6; done", NULL };
	struct run_output out;
	struct m2d_error err;
	struct timespec t0, t1;

	(void)state;
	run_cmd_set_silence_limit(1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(run_cmd(hang, &out, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	assert_non_null(strstr(err.msg, "printed nothing for 1 s"));
	assert_string_equal(err.path, "sleep");
	assert_int_equal(run_cmd(talk, &out, &err), 0);
	assert_int_equal(out.status, 0);
	assert_string_equal(out.out, "1\n2\n3\n");
	run_output_free(&out);
	run_cmd_set_silence_limit(RUN_CMD_SILENCE_DEFAULT);
}

static void test_host_service(void **state)
{
	struct m2d_config cfg;
	struct m2d_error err;
	char *text = NULL, cmd[256];

	(void)state;
	m2d_error_clear(&err);
	assert_int_equal(m2d_config_load(&cfg, NULL, &err), 0);
	m2d_config_set(&cfg.services_root, top);
	m2d_config_set(&cfg.work_dir, work);
	snprintf(cmd, sizeof(cmd), "%s dovecot reload", script);
	m2d_config_set(&cfg.service[SVC_ROLE_IMAP_NEW].cmd[SVC_RELOAD], cmd);
	m2d_config_set(&cfg.service[SVC_ROLE_IMAP_NEW].probe, "none");
	/* a dry run says what it would run, and runs nothing */
	assert_int_equal(host_service(&cfg, SVC_ROLE_IMAP_NEW, SVC_RELOAD,
				      true, &text, &err), 0);
	assert_non_null(text);
	assert_non_null(strstr(text, cmd));
	free(text);
	assert_null(slurp(calls));
	/* then it runs the configured command */
	assert_int_equal(host_service(&cfg, SVC_ROLE_IMAP_NEW, SVC_RELOAD,
				      false, NULL, &err), 0);
	text = slurp(calls);
	assert_non_null(text);
	assert_string_equal(text, "dovecot reload\n");
	free(text);
	m2d_config_free(&cfg);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xinetd_text),
		cmocka_unit_test(test_inetd_text),
		cmocka_unit_test_setup_teardown(test_dry_systemd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dry_sysv, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dry_none, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_stop, setup,
						teardown),
		cmocka_unit_test(test_postfix_status),
		cmocka_unit_test_setup_teardown(test_xinetd_edit_undo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inetd_edit_undo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backup_new_file, setup,
						teardown),
		cmocka_unit_test(test_run_input),
		cmocka_unit_test(test_run_silence),
		cmocka_unit_test_setup_teardown(test_host_service, setup,
						teardown),
	};
	ssize_t len;

	if (argc == 4 && strcmp(argv[1], "--listen") == 0)
		return daemon_listen(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--kill") == 0)
		return daemon_kill(argv[2]);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return 1;
	self[len] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
