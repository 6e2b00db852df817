/* SPDX-License-Identifier: MIT */
/*
 * check-services.c - the pre-flight checks of the services around the
 * mail: Dovecot (installed, config, mail location, running, test port),
 * its log destination, Postfix (delivery settings, lock
 * method), UW-IMAP (service entries, listeners, sessions) and accounts
 * (the freeze, /etc/skel).  Probes only read; the evaluations are pure.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "postfix-conf.h"
#include "i18n.h"

static void fill(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fill(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

#define DETAIL(item, ...) \
	fill((item)->res.detail, sizeof((item)->res.detail), __VA_ARGS__)
#define FIX(item, ...) fill((item)->res.fix, sizeof((item)->res.fix), __VA_ARGS__)
#define COPY(dst, src) fill((dst), sizeof(dst), "%s", (src) != NULL ? (src) : "")

/* ---- sockets ---- */

static int sockaddr_of(const char *addr, unsigned int port,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -1;
}

int checks_tcp_listening(const char *addr, unsigned int port)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len;
	int fam = sockaddr_of(addr, port, &ss, &len), fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fam < 0)
		return -1;
	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&ss, len);
	if (rc < 0 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) != 1) {
			close(fd);
			return -1;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		rc = soerr == 0 ? 0 : -1;
		errno = soerr;
	}
	close(fd);
	if (rc == 0)
		return 1;
	return errno == ECONNREFUSED ? 0 : -1;
}

int checks_tcp_free(const char *addr, unsigned int port, int *errno_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = sockaddr_of(addr, port, &ss, &len), fd, one = 1, rc;

	*errno_r = 0;
	if (fam < 0) {
		*errno_r = EINVAL;
		return -1;
	}
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*errno_r = errno;
		return -1;
	}
	/* like Dovecot: a port held only by TIME_WAIT connections is free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&ss, len);
	if (rc < 0)
		*errno_r = errno;
	close(fd);
	if (rc == 0)
		return 1;
	if (*errno_r == EADDRINUSE)
		return 0;
	/* not allowed to bind (a port < 1024 as a user): ask by connecting */
	rc = checks_tcp_listening(addr, port);
	return rc == 1 ? 0 : -1;
}

/* ---- Dovecot ---- */

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* doveconf -h KEY into BUF; false when doveconf failed (ERR_R kept). */
static bool setting(const struct dc_tools *tools, const char *conf,
		    const char *key, char *buf, size_t size, char *err_r,
		    size_t err_size)
{
	struct m2d_error err;
	char *value = NULL;

	buf[0] = '\0';
	if (dc_read_setting(tools, conf, key, &value, &err) < 0) {
		char tmp[2048];

		if (err_r != NULL)
			fill(err_r, err_size, "%s",
			     m2d_error_str(&err, tmp, sizeof(tmp)));
		return false;
	}
	fill(buf, size, "%s", value);
	free(value);
	trim(buf);
	return true;
}

int checks_probe_dovecot(const struct dc_tools *tools, const char *conf_path,
			 const char *test_address, unsigned int test_port,
			 struct check_dovecot_facts *f)
{
	struct dc_layout_info layout;
	struct dc_version v;
	struct m2d_error err;
	char buf[2048], base_dir[FS_PATH_MAX];
	FILE *pid;

	memset(f, 0, sizeof(*f));
	f->running = -1;
	COPY(f->conf_path, conf_path);
	COPY(f->test_address, test_address);
	f->test_port = test_port;
	f->test_port_free = checks_tcp_free(test_address, test_port,
					    &f->test_port_errno);

	if (dc_detect_version(tools, &v, &err) < 0) {
		COPY(f->error, m2d_error_str(&err, buf, sizeof(buf)));
		return 0;
	}
	f->installed = true;
	fill(f->version, sizeof(f->version), "%u.%u.%u", v.major, v.minor,
	     v.patch);
	f->syntax = dc_syntax_for(&v);

	if (dc_detect_layout(conf_path, &layout, &err) < 0) {
		COPY(f->error, m2d_error_str(&err, buf, sizeof(buf)));
		return 0;
	}
	f->layout = layout.layout;
	f->local_conf = layout.local_conf;
	dc_layout_info_free(&layout);

	/* the version decides the setting's name */
	switch (f->syntax) {
	case DC_SYNTAX_0_99:
		f->conf_ok = setting(tools, conf_path, "default_mail_env",
				     f->mail_location,
				     sizeof(f->mail_location), f->error,
				     sizeof(f->error));
		break;
	case DC_SYNTAX_2_4: {
		char driver[256], path[CHECK_VALUE_MAX];

		f->conf_ok = setting(tools, conf_path, "mail_driver", driver,
				     sizeof(driver), f->error,
				     sizeof(f->error)) &&
			setting(tools, conf_path, "mail_path", path,
				sizeof(path), f->error, sizeof(f->error));
		fill(f->mail_location, sizeof(f->mail_location), "%s:%s",
		     driver, path);
		break;
	}
	default:
		f->conf_ok = setting(tools, conf_path, "mail_location",
				     f->mail_location,
				     sizeof(f->mail_location), f->error,
				     sizeof(f->error));
		break;
	}
	if (!f->conf_ok)
		return 0;

	setting(tools, conf_path, "log_path", f->log_path,
		sizeof(f->log_path), NULL, 0);
	setting(tools, conf_path, "info_log_path", f->info_log_path,
		sizeof(f->info_log_path), NULL, 0);
	setting(tools, conf_path, "debug_log_path", f->debug_log_path,
		sizeof(f->debug_log_path), NULL, 0);
	setting(tools, conf_path, "syslog_facility", f->syslog_facility,
		sizeof(f->syslog_facility), NULL, 0);

	/* running: the master's pid file in base_dir, and that process */
	if (setting(tools, conf_path, "base_dir", base_dir, sizeof(base_dir),
		    NULL, 0) && base_dir[0] != '\0') {
		fill(f->pidfile, sizeof(f->pidfile), "%s/master.pid",
		     base_dir);
		pid = fopen(f->pidfile, "re");
		f->running = 0;
		if (pid != NULL) {
			if (fscanf(pid, "%ld", &f->pid) == 1 && f->pid > 0 &&
			    (kill((pid_t)f->pid, 0) == 0 || errno == EPERM))
				f->running = 1;
			fclose(pid);
		}
		if (f->running == 0)
			f->pid = 0;
	}
	return 0;
}

static const char *layout_name(const struct check_dovecot_facts *f)
{
	if (f->layout == DC_LAYOUT_CONFD)
		return f->local_conf ? "conf.d+local.conf" : "conf.d";
	return "single";
}

void checks_eval_dovecot(const struct check_dovecot_facts *f,
			 struct checks_report *rep)
{
	struct check_item *item;

	item = checks_add(rep, "dovecot", "dovecot_installed",
			  _("Dovecot installed"));
	if (item == NULL)
		return;
	check_item_value(item, "version", f->version);
	if (!f->installed) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("Dovecot not found: %s"), f->error);
		FIX(item, _("install it (apt-get install dovecot-core "
			    "dovecot-imapd) or give --dovecot CMD"));
		return;
	}
	DETAIL(item, _("Dovecot %s (configuration syntax %s)"), f->version,
	       dc_syntax_name(f->syntax));

	item = checks_add(rep, "dovecot", "dovecot_config",
			  _("Dovecot configuration"));
	if (item == NULL)
		return;
	check_item_value(item, "path", f->conf_path);
	if (!f->conf_ok) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("%s cannot be read: %s"), f->conf_path,
		       f->error);
		FIX(item, _("give the right file with --dovecot-conf, or fix "
			    "the error doveconf reports"));
		return;
	}
	check_item_value(item, "layout", layout_name(f));
	if (f->layout == DC_LAYOUT_CONFD)
		/* the file name is an argument: xgettext cannot see the
		   macro inside a literal, the msgid would be cut short */
		DETAIL(item, f->local_conf ?
		       _("%s includes conf.d/*.conf and local.conf: our "
			 "settings go in conf.d/%s (local.conf must not "
			 "override them)") :
		       _("%s includes conf.d/*.conf: our settings go in "
			 "conf.d/%s"), f->conf_path, DC_UNIT_FILE);
	else
		DETAIL(item, _("%s is one file: our settings go in a marked "
			       "block at its end"), f->conf_path);

	item = checks_add(rep, "dovecot", "dovecot_mail_location",
			  _("Dovecot mail location now"));
	if (item == NULL)
		return;
	check_item_value(item, "mail_location", f->mail_location);
	DETAIL(item, "%s", f->mail_location[0] != '\0' ?
	       f->mail_location : _("(not set: Dovecot guesses)"));

	item = checks_add(rep, "dovecot", "dovecot_running",
			  _("Dovecot running"));
	if (item == NULL)
		return;
	check_item_value(item, "pidfile", f->pidfile);
	if (f->running == 1) {
		check_result_figure(&item->res, "pid", f->pid);
		DETAIL(item, _("running (pid %ld); reloads apply our "
			       "settings"), f->pid);
	} else if (f->running == 0) {
		DETAIL(item, _("not running; it will be started on the test "
			       "port"));
	} else {
		DETAIL(item, _("unknown (no base_dir)"));
	}

	item = checks_add(rep, "dovecot", "dovecot_test_port",
			  _("Test port free"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "port", f->test_port);
	check_item_value(item, "address", f->test_address);
	if (f->test_port_free == 1) {
		DETAIL(item, _("%s:%u is free for the test listener"),
		       f->test_address, f->test_port);
	} else if (f->test_port_free == 0) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("%s:%u is in use"), f->test_address,
		       f->test_port);
		FIX(item, _("choose another test port (--test-port ADDR:PORT)"));
	} else {
		item->res.status = CHECK_WARN;
		DETAIL(item, _("%s:%u could not be tested: %s"),
		       f->test_address, f->test_port,
		       strerror(f->test_port_errno));
		FIX(item, _("run the check as root, or give --test-port "
			    "ADDR:PORT with an address of this machine"));
	}
}

void checks_eval_logging(const struct check_dovecot_facts *f,
			 struct checks_report *rep)
{
	struct check_item *item;
	const char *lp = f->log_path;

	if (!f->installed || !f->conf_ok)
		return;
	item = checks_add(rep, "logging", "dovecot_logging",
			  _("Dovecot log destination"));
	if (item == NULL)
		return;
	check_item_value(item, "log_path", f->log_path);
	check_item_value(item, "info_log_path", f->info_log_path);
	check_item_value(item, "debug_log_path", f->debug_log_path);
	check_item_value(item, "syslog_facility", f->syslog_facility);
	if (lp[0] == '\0' || strcmp(lp, "syslog") == 0) {
		DETAIL(item, _("syslog, facility %s (the mail log); a file of "
			       "its own can be chosen (runbook)"),
		       f->syslog_facility[0] != '\0' ? f->syslog_facility :
		       "mail");
	} else if (lp[0] == '/') {
		char dir[CHECK_VALUE_MAX];
		char *slash;
		struct stat st;

		COPY(dir, lp);
		slash = strrchr(dir, '/');
		if (slash != NULL)
			slash[slash == dir ? 1 : 0] = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			item->res.status = CHECK_WARN;
			DETAIL(item, _("log file %s: its directory %s does "
				       "not exist"), lp, dir);
			FIX(item, _("create the directory, or log to syslog"));
		} else {
			DETAIL(item, _("log file %s%s%s"), lp,
			       f->info_log_path[0] != '\0' &&
			       strcmp(f->info_log_path, lp) != 0 ?
			       _(", info to ") : "",
			       f->info_log_path[0] != '\0' &&
			       strcmp(f->info_log_path, lp) != 0 ?
			       f->info_log_path : "");
		}
	} else {
		DETAIL(item, _("log_path = %s"), lp);
	}
}

/* ---- Postfix ---- */

int checks_probe_postfix(const struct pf_tools *tools,
			 struct check_postfix_facts *f)
{
	static const struct pf_tools dflt;
	const struct pf_tools *t = tools != NULL ? tools : &dflt;
	struct {
		const char *key;
		char *buf;
	} keys[] = {
		{ "mail_spool_directory", f->mail_spool_directory },
		{ "home_mailbox", f->home_mailbox },
		{ "mailbox_command", f->mailbox_command },
		{ "mailbox_transport", f->mailbox_transport },
		{ "mailbox_delivery_lock", f->mailbox_delivery_lock },
	};
	struct m2d_error err;
	char buf[2048], *value = NULL;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (pf_version(t, &value, &err) < 0) {
		COPY(f->error, m2d_error_str(&err, buf, sizeof(buf)));
		return 0;
	}
	f->installed = true;
	COPY(f->version, value);
	trim(f->version);
	free(value);
	if (pf_read(t, "config_directory", &value, &err) == 0) {
		COPY(f->config_dir, value);
		free(value);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (pf_read(t, keys[i].key, &value, &err) < 0) {
			COPY(f->error, m2d_error_str(&err, buf, sizeof(buf)));
			f->installed = true;
			return 0;
		}
		fill(keys[i].buf, CHECK_VALUE_MAX, "%s", value);
		trim(keys[i].buf);
		free(value);
	}
	return 0;
}

void checks_eval_postfix(const struct check_postfix_facts *f,
			 struct checks_report *rep)
{
	struct check_item *item;

	item = checks_add(rep, "postfix", "postfix_installed",
			  _("Postfix installed"));
	if (item == NULL)
		return;
	check_item_value(item, "version", f->version);
	check_item_value(item, "config_dir", f->config_dir);
	if (!f->installed) {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("Postfix not found: %s"), f->error);
		FIX(item, _("install Postfix, or give --postconf CMD and "
			    "--postfix-dir DIR"));
		return;
	}
	if (f->error[0] != '\0') {
		item->res.status = CHECK_FAIL;
		DETAIL(item, _("Postfix %s: its settings cannot be read: %s"),
		       f->version, f->error);
		FIX(item, _("give the configuration directory with "
			    "--postfix-dir DIR (it must hold main.cf)"));
		return;
	}
	DETAIL(item, _("Postfix %s, configuration in %s"), f->version,
	       f->config_dir[0] != '\0' ? f->config_dir : "?");

	item = checks_add(rep, "postfix", "postfix_delivery",
			  _("Postfix local delivery"));
	if (item == NULL)
		return;
	check_item_value(item, "mail_spool_directory",
			 f->mail_spool_directory);
	check_item_value(item, "home_mailbox", f->home_mailbox);
	check_item_value(item, "mailbox_command", f->mailbox_command);
	check_item_value(item, "mailbox_transport", f->mailbox_transport);
	if (f->mailbox_command[0] != '\0' || f->mailbox_transport[0] != '\0') {
		item->res.status = CHECK_WARN;
		if (f->mailbox_command[0] != '\0')
			DETAIL(item, _("mailbox_command = %s delivers the mail "
				       "and bypasses mail_spool_directory"),
			       f->mailbox_command);
		else
			DETAIL(item, _("mailbox_transport = %s delivers the "
				       "mail and bypasses "
				       "mail_spool_directory"),
			       f->mailbox_transport);
		FIX(item, _("make it deliver into the maildirs at the switch "
			    "(procmail: DEFAULT=$HOME/Maildir/ or the new "
			    "spool) or remove it"));
	} else if (f->home_mailbox[0] != '\0') {
		DETAIL(item, _("home_mailbox = %s (mail_spool_directory %s is "
			       "not used)"), f->home_mailbox,
		       f->mail_spool_directory);
	} else {
		DETAIL(item, _("mail_spool_directory = %s%s"),
		       f->mail_spool_directory,
		       f->mail_spool_directory[0] != '\0' &&
		       f->mail_spool_directory[strlen(
			       f->mail_spool_directory) - 1] == '/' ?
		       _(" (already maildir delivery)") : _(" (mbox)"));
	}

	item = checks_add(rep, "postfix", "postfix_lock",
			  _("Postfix delivery lock"));
	if (item == NULL)
		return;
	check_item_value(item, "mailbox_delivery_lock",
			 f->mailbox_delivery_lock);
	if (strstr(f->mailbox_delivery_lock, "dotlock") == NULL) {
		item->res.status = CHECK_WARN;
		DETAIL(item, _("mailbox_delivery_lock = %s: no dotlock, the only "
			       "lock UW-IMAP and Postfix share on Linux"),
		       f->mailbox_delivery_lock);
		FIX(item, _("postconf -e 'mailbox_delivery_lock = fcntl, "
			    "dotlock' (or hold delivery while migrating)"));
	} else {
		DETAIL(item, _("mailbox_delivery_lock = %s: UW-IMAP and the "
			       "migration see Postfix's dotlock"),
		       f->mailbox_delivery_lock);
	}
}

/* ---- UW-IMAP ---- */

/* An xinetd file: "service imap" / "imaps" sections, disable = yes? */
static void scan_xinetd(const char *path, const char *name,
			struct check_uw_facts *f)
{
	FILE *fp = fopen(path, "re");
	char line[1024], service[64] = "";
	bool in = false, disabled = false;

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#')
			continue;
		if (sscanf(p, "service %63s", service) == 1) {
			in = strcmp(service, "imap") == 0 ||
				strcmp(service, "imaps") == 0 ||
				strcmp(service, "imap2") == 0 ||
				strcmp(service, "imap3") == 0;
			disabled = false;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(p, "disable", 7) == 0 && strstr(p, "yes") != NULL)
			disabled = true;
		if (*p == '}') {
			if (disabled)
				f->disabled++;
			else {
				/* an imap service in xinetd is UW's */
				f->enabled++;
				if (strlen(f->files) + strlen(name) + 3 <
				    sizeof(f->files))
					fill(f->files + strlen(f->files),
					     sizeof(f->files) -
					     strlen(f->files), "%s%s",
					     f->files[0] != '\0' ? ", " : "",
					     name);
			}
			in = false;
		}
	}
	fclose(fp);
}

int checks_probe_uw(const char *root, const char *proc, const char *addr,
		    unsigned int imap_port, unsigned int imaps_port,
		    struct check_uw_facts *f)
{
	char path[FS_PATH_MAX * 2], line[1024];
	struct dirent *de;
	DIR *dir;
	FILE *fp;

	memset(f, 0, sizeof(*f));
	f->imap_port = imap_port;
	f->imaps_port = imaps_port;

	snprintf(path, sizeof(path), "%s/etc/xinetd.d", root);
	dir = opendir(path);
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		char file[FS_PATH_MAX * 3], shown[FS_PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		snprintf(shown, sizeof(shown), "xinetd.d/%s", de->d_name);
		scan_xinetd(file, shown, f);
	}
	if (dir != NULL)
		closedir(dir);

	/* inetd.conf: "imap2 stream tcp nowait root /usr/sbin/tcpd imapd" */
	snprintf(path, sizeof(path), "%s/etc/inetd.conf", root);
	fp = fopen(path, "re");
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		char *p = line;
		bool off = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#') {
			/* "#<off># imap2 ..." is update-inetd's disabled */
			off = true;
			p += strncmp(p, "#<off>#", 7) == 0 ? 7 : 1;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if ((strncmp(p, "imap", 4) != 0) || strstr(p, "imapd") == NULL)
			continue;
		if (off) {
			f->disabled++;
		} else {
			f->enabled++;
			if (strstr(f->files, "inetd.conf") == NULL)
				fill(f->files + strlen(f->files),
				     sizeof(f->files) - strlen(f->files),
				     "%sinetd.conf",
				     f->files[0] != '\0' ? ", " : "");
		}
	}
	if (fp != NULL)
		fclose(fp);

	fill(f->address, sizeof(f->address), "%s", addr);
	f->imap_listening = checks_tcp_listening(addr, imap_port);
	f->imaps_listening = imaps_port != 0 ?
		checks_tcp_listening(addr, imaps_port) : 0;

	/* sessions: processes called imapd */
	dir = opendir(proc);
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		char comm[64] = "";

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", proc, de->d_name);
		fp = fopen(path, "re");
		if (fp == NULL)
			continue;
		if (fgets(comm, sizeof(comm), fp) != NULL) {
			trim(comm);
			if (strcmp(comm, "imapd") == 0)
				f->imapd_processes++;
		}
		fclose(fp);
	}
	if (dir != NULL)
		closedir(dir);
	return 0;
}

void checks_eval_uw(const struct check_uw_facts *f, struct checks_report *rep)
{
	struct check_item *item;
	char ports[32];

	item = checks_add(rep, "uwimap", "uw_services",
			  _("UW-IMAP service entries"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "enabled", f->enabled);
	check_result_figure(&item->res, "disabled", f->disabled);
	check_item_value(item, "files", f->files);
	if (f->enabled > 0)
		DETAIL(item, _("enabled in %s: disable them at the cutover "
			       "(disable = yes, reload xinetd/inetd)"),
		       f->files);
	else if (f->disabled > 0)
		DETAIL(item, ngettext("present but disabled (%u entry)",
				"present but disabled (%u entries)",
				f->disabled),
		       f->disabled);
	else
		DETAIL(item, _("no xinetd or inetd entry for imapd"));

	item = checks_add(rep, "uwimap", "uw_listener",
			  _("IMAP ports in use"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "imap_port", f->imap_port);
	check_result_figure(&item->res, "imaps_port", f->imaps_port);
	check_result_figure(&item->res, "imap_listening", f->imap_listening);
	check_result_figure(&item->res, "imaps_listening",
			    f->imaps_listening);
	check_item_value(item, "address", f->address);
	if (f->imaps_port != 0)
		snprintf(ports, sizeof(ports), "%u/%u", f->imap_port,
			 f->imaps_port);
	else
		snprintf(ports, sizeof(ports), "%u", f->imap_port);
	if (f->imap_listening == 1 || f->imaps_listening == 1)
		DETAIL(item, f->dovecot_running ?
		       _("something listens on %s (Dovecot runs: it may "
			 "be Dovecot); Dovecot takes them only at the "
			 "cutover") :
		       _("something listens on %s (UW-IMAP?): Dovecot "
			 "uses the test port until the cutover"), ports);
	else
		DETAIL(item, _("nothing listens on %s on %s (imap_port, "
			       "imaps_port)"), ports, f->address);

	item = checks_add(rep, "uwimap", "uw_sessions",
			  _("UW-IMAP sessions"));
	if (item == NULL)
		return;
	check_result_figure(&item->res, "imapd", f->imapd_processes);
	DETAIL(item, f->imapd_processes > 0 ?
	       _("%u imapd processes now; none may remain in the cutover "
		 "window") : _("no imapd process now (%u)"),
	       f->imapd_processes);
}

/* ---- accounts ---- */

static bool is_dir(const char *dir, const char *name)
{
	char path[FS_PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int checks_probe_accounts(const char *root, const struct m2d_config *cfg,
			  const struct check_postfix_facts *postfix,
			  struct check_accounts_facts *f)
{
	bool home = cfg->postfix_delivery != NULL &&
		strcmp(cfg->postfix_delivery, "home") == 0;

	memset(f, 0, sizeof(*f));
	/* the skeleton step 19 fills: skel_dir, else below accounts_root */
	if (cfg->skel_dir != NULL && cfg->skel_dir[0] != '\0')
		fill(f->skel, sizeof(f->skel), "%s", cfg->skel_dir);
	else if (cfg->accounts_root != NULL && cfg->accounts_root[0] != '\0')
		root = cfg->accounts_root;
	if (f->skel[0] == '\0')
		fill(f->skel, sizeof(f->skel), "%s%setc/skel", root,
		     root[0] != '\0' && root[strlen(root) - 1] == '/' ?
		     "" : "/");
	f->runbook_adds = home || (cfg->skel_dir != NULL &&
				   cfg->skel_dir[0] != '\0');
	f->skel_exists = is_dir(f->skel, ".");
	f->skel_cur = is_dir(f->skel, "cur");
	f->skel_new = is_dir(f->skel, "new");
	f->skel_tmp = is_dir(f->skel, "tmp");
	/* the runbook: "where the mail spool area is also the home" */
	f->maildir_in_home = (postfix != NULL &&
			      postfix->home_mailbox[0] != '\0') ||
		(cfg->homes_dir != NULL && cfg->target_base != NULL &&
		 strcmp(cfg->homes_dir, cfg->target_base) == 0) || home;
	return 0;
}

void checks_eval_accounts(const struct check_accounts_facts *f,
			  struct checks_report *rep)
{
	struct check_item *item;
	bool all = f->skel_cur && f->skel_new && f->skel_tmp;

	item = checks_add(rep, "accounts", "account_freeze",
			  _("Account freeze"));
	if (item == NULL)
		return;
	DETAIL(item, _("reminder (runbook step 1): create no accounts until "
		       "the migration is complete"));

	item = checks_add(rep, "accounts", "skel_maildir",
			  _("Maildir in /etc/skel"));
	if (item == NULL)
		return;
	check_item_value(item, "path", f->skel);
	check_result_figure(&item->res, "maildir", all ? 1 : 0);
	if (all)
		DETAIL(item, _("%s has cur/ new/ tmp/"), f->skel);
	else if (f->runbook_adds)
		DETAIL(item, _("%s lacks cur/ new/ tmp/: runbook step 19 "
			       "adds them (skel_dir or postfix_delivery = "
			       "home), shown before and undone with it"),
		       f->skel);
	else if (f->maildir_in_home) {
		item->res.status = CHECK_WARN;
		DETAIL(item, _("%s lacks cur/ new/ tmp/ and the maildir is in "
			       "the home: new accounts would not get one"),
		       f->skel);
		FIX(item, _("mkdir %s/cur %s/new %s/tmp (runbook: account "
			    "creation)"), f->skel, f->skel, f->skel);
	} else {
		DETAIL(item, _("%s has no cur/ new/ tmp/: not needed, the "
			       "maildirs are not in the homes"), f->skel);
	}
}
