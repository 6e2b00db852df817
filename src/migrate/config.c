/* SPDX-License-Identifier: MIT */
/* config.c - mbox2dovecot.conf: defaults, libconfuse parsing, checks */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m2d-config.h"
#include "dotlock.h"
#include "mbox-reader.h"
#include "run-cmd.h"
#include "i18n.h"
#include "xalloc.h"

#define UID_LIMIT 4294967294L	/* (uid_t)-2: -1 means "no uid" */

/* ------------------------------------------------------------------ */
/* Checks shared by the parser (with a line number) and by           */
/* m2d_config_check() (after command-line overrides)                  */

/* NULL when LAYOUT is fine, else a translated message. */
static const char *layout_problem(const char *layout)
{
	bool has_u = false;

	if (layout == NULL || layout[0] == '\0')
		return _("target_layout is empty");
	if (layout[0] == '/')
		return _("target_layout must be relative to target_base");
	for (const char *p = layout; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if (*p >= '1' && *p <= '9') {
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p != 'u')
			return _("target_layout may only use %u, %Nu "
				 "(first N characters) and %%");
		has_u = true;
	}
	if (!has_u)
		return _("target_layout must contain %u");
	/* no "." or ".." levels: the target must stay below target_base */
	for (const char *p = layout; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return _("target_layout must not contain empty, "
				 "\".\" or \"..\" levels");
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}

static const char *root_problem(const char *root)
{
	const char *rest;

	if (root == NULL || root[0] == '\0')
		return _("a folder root is empty");
	if (root[0] == '~') {
		if (root[1] != '\0' && root[1] != '/')
			return _("a folder root must be \"~\", \"~/DIR\" or "
				 "an absolute path (\"~user\" is not "
				 "supported)");
		rest = root + 1;
	} else if (root[0] == '/') {
		if (strstr(root, "%u") == NULL)
			return _("an absolute folder root must contain %u "
				 "(one directory per user)");
		rest = root;
	} else {
		return _("a folder root must begin with \"~\" or \"/\"");
	}
	for (const char *p = rest; *p != '\0';) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return _("a folder root must not contain \".\" or "
				 "\"..\" levels");
		p += n;
	}
	return NULL;
}

static const char *owner_problem(const char *owner)
{
	const char *colon;
	char *end;

	if (owner == NULL || owner[0] == '\0')
		return _("owner is empty");
	if (strcmp(owner, "passwd") == 0 || strcmp(owner, "inbox") == 0)
		return NULL;
	colon = strchr(owner, ':');
	if (colon != NULL) {
		long uid, gid;

		errno = 0;
		uid = strtol(owner, &end, 10);
		if (end != colon || end == owner || errno != 0 || uid < 0 ||
		    uid > UID_LIMIT)
			return _("owner must be \"passwd\", \"inbox\", a user "
				 "name or UID:GID");
		gid = strtol(colon + 1, &end, 10);
		if (*end != '\0' || end == colon + 1 || errno != 0 ||
		    gid < 0 || gid > UID_LIMIT)
			return _("owner must be \"passwd\", \"inbox\", a user "
				 "name or UID:GID");
		return NULL;
	}
	for (const char *p = owner; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f)
			return _("owner must be \"passwd\", \"inbox\", a user "
				 "name or UID:GID");
	}
	return NULL;
}

static const char *locks_problem(const char *locks)
{
	unsigned int bits;

	if (mbox_locks_parse(locks, &bits) < 0)
		return _("mbox_locks must name one or more of dotlock, fcntl "
			 "and flock (as Postfix's mailbox_delivery_lock)");
	return NULL;
}

/* ------------------------------------------------------------------ */
/* libconfuse                                                         */

/* The first message libconfuse reports during one parse.  libconfuse
   gives its error function no context pointer, hence thread-local. */
static _Thread_local struct {
	bool set;
	int line;
	char msg[M2D_ERROR_MSG_MAX];
} parse_error;

static void capture_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	if (parse_error.set)
		return;
	parse_error.set = true;
	parse_error.line = cfg != NULL ? cfg->line : 0;
	vsnprintf(parse_error.msg, sizeof(parse_error.msg), fmt, ap);
}

static int validate_str(cfg_t *cfg, cfg_opt_t *opt,
			const char *(*check)(const char *))
{
	for (unsigned int i = 0; i < cfg_opt_size(opt); i++) {
		const char *problem = check(cfg_opt_getnstr(opt, i));

		if (problem != NULL) {
			const char *name = cfg_opt_name(opt);

			if (strncmp(problem, name, strlen(name)) == 0)
				cfg_error(cfg, "%s", problem);
			else
				cfg_error(cfg, "%s: %s", name, problem);
			return -1;
		}
	}
	return 0;
}

static int valid_layout(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, layout_problem);
}

static int valid_root(cfg_t *cfg, cfg_opt_t *opt)
{
	if (cfg_opt_size(opt) > M2D_MAX_ROOTS) {
		cfg_error(cfg, _("folder_roots: at most %d roots"),
			  M2D_MAX_ROOTS);
		return -1;
	}
	return validate_str(cfg, opt, root_problem);
}

static int valid_owner(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, owner_problem);
}

static const char *nonempty_problem(const char *s)
{
	return s == NULL || s[0] == '\0' ? _("must not be empty") : NULL;
}

static int valid_nonempty(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, nonempty_problem);
}

static int valid_uid(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 0 || v > UID_LIMIT) {
		cfg_error(cfg, _("%s: %ld is not a UID (0..%ld)"),
			  cfg_opt_name(opt), v, UID_LIMIT);
		return -1;
	}
	return 0;
}

static int valid_locks(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, locks_problem);
}

static int valid_lock_secs(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	long min = strcmp(cfg_opt_name(opt), "mbox_lock_stale") == 0 ? 1 : 0;

	if (v < min || v > 86400) {
		cfg_error(cfg, _("%s: %ld is out of range (%ld..86400 "
				 "seconds)"), cfg_opt_name(opt), v, min);
		return -1;
	}
	return 0;
}

static int valid_max_message(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v < 0) {
		cfg_error(cfg, _("max_message_size: %ld is negative (bytes; "
				 "0 = no limit)"), v);
		return -1;
	}
	return 0;
}

static int valid_jobs(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 0 || v > 4096) {
		cfg_error(cfg, _("jobs: %ld is out of range (0 = number of "
				 "cores, at most 4096)"), v);
		return -1;
	}
	return 0;
}

static int valid_port(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 0 || v > 65535) {
		cfg_error(cfg, _("%s: %ld is not a TCP port (0..65535)"),
			  cfg_opt_name(opt), v);
		return -1;
	}
	return 0;
}

static const char *choice_problem(const char *value, const char *a,
				  const char *b, const char *c)
{
	if (value == NULL || strcmp(value, a) == 0 || strcmp(value, b) == 0 ||
	    (c != NULL && strcmp(value, c) == 0))
		return NULL;
	return _("is not one of the allowed values");
}

static const char *uidl_problem(const char *v)
{
	return choice_problem(v, "auto", "yes", "no");
}

static const char *delivery_problem(const char *v)
{
	return choice_problem(v, "spool", "home", NULL);
}

static int valid_uidl(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, uidl_problem);
}

static const char *names_problem(const char *v)
{
	return choice_problem(v, "compat", "uw", NULL);
}

static int valid_names(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, names_problem);
}

static int valid_delivery(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_str(cfg, opt, delivery_problem);
}

/* NULL when PROBE is "", "none", "tcp:ADDR:PORT" or "command:CMD". */
static const char *probe_problem(const char *probe)
{
	const char *colon;
	char *end;
	long port;

	if (probe == NULL || probe[0] == '\0' || strcmp(probe, "none") == 0)
		return NULL;
	if (strncmp(probe, "command:", 8) == 0 && probe[8] != '\0')
		return NULL;
	if (strncmp(probe, "tcp:", 4) != 0)
		return _("probe must be \"none\", \"tcp:ADDRESS:PORT\" or "
			 "\"command:COMMAND\"");
	colon = strrchr(probe + 4, ':');
	if (colon == NULL || colon == probe + 4)
		return _("probe must be \"none\", \"tcp:ADDRESS:PORT\" or "
			 "\"command:COMMAND\"");
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || errno != 0 || port <= 0 ||
	    port > 65535)
		return _("probe: the port must be 1..65535");
	return NULL;
}

static int valid_test_users(cfg_t *cfg, cfg_opt_t *opt)
{
	if (cfg_opt_size(opt) > M2D_MAX_TEST_USERS) {
		cfg_error(cfg, _("test_users: at most %d users"),
			  M2D_MAX_TEST_USERS);
		return -1;
	}
	return validate_str(cfg, opt, nonempty_problem);
}

static int valid_rbash_users(cfg_t *cfg, cfg_opt_t *opt)
{
	if (cfg_opt_size(opt) > M2D_MAX_TEST_USERS) {
		cfg_error(cfg, _("rbash_users: at most %d users"),
			  M2D_MAX_TEST_USERS);
		return -1;
	}
	return validate_str(cfg, opt, nonempty_problem);
}

static int valid_count(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 1 || v > M2D_MAX_TEST_USERS) {
		cfg_error(cfg, _("%s: %ld is out of range (1..%d)"),
			  cfg_opt_name(opt), v, M2D_MAX_TEST_USERS);
		return -1;
	}
	return 0;
}

static void set_defaults(struct m2d_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	m2d_config_set(&cfg->spool_dir, "/var/spool/mail");
	m2d_config_set(&cfg->folder_roots[0], "~/mail");
	m2d_config_set(&cfg->folder_roots[1], "~");
	cfg->nroots = 2;
	m2d_config_set(&cfg->target_base, "/data/mail2");
	m2d_config_set(&cfg->target_layout, "%u");
	m2d_config_set(&cfg->work_dir, "/root/migrate");
	cfg->uid_min = 1000;
	cfg->uid_max = 60000;
	m2d_config_set(&cfg->owner, "passwd");
	cfg->jobs = 0;
	cfg->mboxrd = false;
	cfg->max_message_size = MBOX_DEFAULT_MAX_MESSAGE;
	cfg->allow_sparse = false;
	cfg->mbox_locks = MBOX_LOCKS_DEFAULT;
	cfg->mbox_lock_wait = MBOX_LOCK_WAIT_DEFAULT;
	cfg->command_timeout = RUN_CMD_SILENCE_DEFAULT;
	cfg->mbox_lock_stale = MBOX_LOCK_STALE_DEFAULT;
	m2d_config_set(&cfg->dovecot_config, "/etc/dovecot/dovecot.conf");
	m2d_config_set(&cfg->test_address, "127.0.0.1");
	cfg->test_port = 1043;
	cfg->imap_port = 143;
	cfg->imaps_port = 993;
	m2d_config_set(&cfg->pop3_uidl, "auto");
	m2d_config_set(&cfg->folder_names, "compat");
	m2d_config_set(&cfg->postfix_delivery, "spool");
	m2d_config_set(&cfg->home_mailbox, "Maildir/");
	m2d_config_set(&cfg->test_delivery_command,
		       "/usr/sbin/sendmail -i -- %u");
	cfg->test_user_count = 2;
}

const char *const m2d_service_names[M2D_SVC_ROLES] = {
	"postfix", "dovecot", "uw-imap",
};
const char *const m2d_service_actions[M2D_SVC_ACTIONS] = {
	"start", "stop", "reload", "enable", "disable", "status",
};

/* The string settings of the system part: name, field offset. */
#define SYS_STR(name, field) { name, offsetof(struct m2d_config, field) }
static const struct {
	const char *name;
	size_t offset;
} sys_strings[] = {
	SYS_STR("dovecot_config", dovecot_config),
	SYS_STR("dovecot_command", dovecot_command),
	SYS_STR("doveconf_command", doveconf_command),
	SYS_STR("doveadm_command", doveadm_command),
	SYS_STR("test_address", test_address),
	SYS_STR("imap_address", imap_address),
	SYS_STR("dovecot_log_path", dovecot_log_path),
	SYS_STR("dovecot_syslog_facility", dovecot_syslog_facility),
	SYS_STR("pop3_uidl", pop3_uidl),
	SYS_STR("imap_test_user", imap_test_user),
	SYS_STR("imap_test_password", imap_test_password),
	SYS_STR("imap_master_user", imap_master_user),
	SYS_STR("imap_master_password", imap_master_password),
	SYS_STR("postfix_config_dir", postfix_config_dir),
	SYS_STR("postconf_command", postconf_command),
	SYS_STR("postfix_command", postfix_command),
	SYS_STR("postqueue_command", postqueue_command),
	SYS_STR("postfix_reload_command", postfix_reload_command),
	SYS_STR("postfix_flush_command", postfix_flush_command),
	SYS_STR("postfix_delivery", postfix_delivery),
	SYS_STR("home_mailbox", home_mailbox),
	SYS_STR("test_delivery_command", test_delivery_command),
	SYS_STR("services_root", services_root),
	SYS_STR("skel_dir", skel_dir),
	SYS_STR("accounts_root", accounts_root),
	SYS_STR("usermod_command", usermod_command),
	SYS_STR("folder_names", folder_names),
	SYS_STR("uw_mail_subdirectory", uw_mail_subdirectory),
};
#define N_SYS_STRINGS (sizeof(sys_strings) / sizeof(sys_strings[0]))

static char **sys_field(struct m2d_config *cfg, size_t i)
{
	return (char **)((char *)cfg + sys_strings[i].offset);
}

/* "" means unset for these */
static void set_optional(char **field, const char *value)
{
	m2d_config_set(field, value != NULL && value[0] != '\0' ? value : NULL);
}

/*
 * The text of PATH with its comments ("#...", "//...", C comments outside
 * quoted strings) blanked, newlines kept.  libconfuse 3.3 counts a line
 * comment's line twice (wrong line numbers in every later error) and
 * fails on a comment inside a list; without comments both are gone.  A
 * '#' inside an unquoted value starts a comment too: quote such values.
 */
#define CONF_MAX (1024 * 1024)

static char *read_conf(const char *path, struct m2d_error *err)
{
	char *text = xmalloc(CONF_MAX + 1);
	size_t len = 0;
	char quote = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		m2d_error_sys(err, "open", path);
		free(text);
		return NULL;
	}
	while (len <= CONF_MAX) {
		ssize_t n = read(fd, text + len, CONF_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			m2d_error_sys(err, "read", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_MAX) {
		m2d_error_set(err, M2D_ERR_USAGE, path,
			      _("too big for a configuration file"));
		goto fail;
	}
	close(fd);
	fd = -1;
	text[len] = '\0';
	if (strlen(text) != len) {
		m2d_error_set(err, M2D_ERR_USAGE, path,
			      _("a NUL byte in the file"));
		goto fail;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];

		if (quote != 0) {
			if (ch == '\\' && i + 1 < len && text[i + 1] != '\n')
				i++;
			else if (ch == quote)
				quote = 0;
		} else if (ch == '"' || ch == '\'') {
			quote = ch;
		} else if (ch == '#' ||
			   (ch == '/' && i + 1 < len && text[i + 1] == '/')) {
			while (i < len && text[i] != '\n')
				text[i++] = ' ';
		} else if (ch == '/' && i + 1 < len && text[i + 1] == '*') {
			text[i] = text[i + 1] = ' ';
			for (i += 2; i < len; i++) {
				if (text[i] == '*' && i + 1 < len &&
				    text[i + 1] == '/') {
					text[i] = text[i + 1] = ' ';
					i++;
					break;
				}
				if (text[i] != '\n')
					text[i] = ' ';
			}
		}
	}
	return text;
fail:
	if (fd >= 0)
		close(fd);
	free(text);
	return NULL;
}

/* Where a service's probe/command strings go. */
static cfg_opt_t service_opts[] = {
	CFG_STR("start", "", CFGF_NONE),
	CFG_STR("stop", "", CFGF_NONE),
	CFG_STR("reload", "", CFGF_NONE),
	CFG_STR("enable", "", CFGF_NONE),
	CFG_STR("disable", "", CFGF_NONE),
	CFG_STR("status", "", CFGF_NONE),
	CFG_STR("probe", "", CFGF_NONE),
	CFG_END()
};

static int valid_service(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *title = cfg_title(sec), *problem;
	bool known = false;

	for (int r = 0; r < M2D_SVC_ROLES; r++)
		known |= strcmp(title, m2d_service_names[r]) == 0;
	if (!known) {
		cfg_error(cfg, _("service \"%s\": the services are "
				 "\"postfix\", \"dovecot\" and \"uw-imap\""),
			  title);
		return -1;
	}
	problem = probe_problem(cfg_getstr(sec, "probe"));
	if (problem != NULL) {
		cfg_error(cfg, "service %s: %s", title, problem);
		return -1;
	}
	return 0;
}

static void load_system(struct m2d_config *cfg, cfg_t *c)
{
	/* absent or "": the default stays */
	for (size_t i = 0; i < N_SYS_STRINGS; i++) {
		const char *v = cfg_getstr(c, sys_strings[i].name);

		if (v != NULL && v[0] != '\0')
			m2d_config_set(sys_field(cfg, i), v);
	}
	cfg->test_port = (unsigned int)cfg_getint(c, "test_port");
	cfg->imap_port = (unsigned int)cfg_getint(c, "imap_port");
	cfg->imaps_port = (unsigned int)cfg_getint(c, "imaps_port");
	cfg->test_user_count = (int)cfg_getint(c, "test_user_count");
	for (int i = 0; i < cfg->ntest_users; i++)
		m2d_config_set(&cfg->test_users[i], NULL);
	cfg->ntest_users = (int)cfg_size(c, "test_users");
	for (int i = 0; i < cfg->ntest_users; i++)
		m2d_config_set(&cfg->test_users[i],
			       cfg_getnstr(c, "test_users", (unsigned)i));
	cfg->homes_to_maildir = cfg_getbool(c, "homes_to_maildir") == cfg_true;
	for (int i = 0; i < cfg->nrbash_users; i++)
		m2d_config_set(&cfg->rbash_users[i], NULL);
	cfg->nrbash_users = (int)cfg_size(c, "rbash_users");
	for (int i = 0; i < cfg->nrbash_users; i++)
		m2d_config_set(&cfg->rbash_users[i],
			       cfg_getnstr(c, "rbash_users", (unsigned)i));
	for (unsigned int i = 0; i < cfg_size(c, "service"); i++) {
		cfg_t *sec = cfg_getnsec(c, "service", i);
		int r;

		for (r = 0; r < M2D_SVC_ROLES; r++)
			if (strcmp(cfg_title(sec), m2d_service_names[r]) == 0)
				break;
		if (r == M2D_SVC_ROLES)
			continue;
		for (int a = 0; a < M2D_SVC_ACTIONS; a++) {
			const char *v = cfg_getstr(sec, m2d_service_actions[a]);

			m2d_config_set(&cfg->service[r].cmd[a],
				       v != NULL && v[0] != '\0' ? v : NULL);
		}
		{
			const char *v = cfg_getstr(sec, "probe");

			m2d_config_set(&cfg->service[r].probe,
				       v != NULL && v[0] != '\0' ? v : NULL);
		}
	}
}

static int load_file(struct m2d_config *cfg, const char *path,
		     struct m2d_error *err)
{
	static char *default_roots = "{\"~/mail\", \"~\"}";
	cfg_opt_t base_opts[] = {
		CFG_STR("spool_dir", "/var/spool/mail", CFGF_NONE),
		CFG_STR("homes_dir", "", CFGF_NONE),
		CFG_STR_LIST("folder_roots", default_roots, CFGF_NONE),
		CFG_STR("target_base", "/data/mail2", CFGF_NONE),
		CFG_STR("target_layout", "%u", CFGF_NONE),
		CFG_STR("work_dir", "/root/migrate", CFGF_NONE),
		CFG_INT("uid_min", 1000, CFGF_NONE),
		CFG_INT("uid_max", 60000, CFGF_NONE),
		CFG_STR("owner", "passwd", CFGF_NONE),
		CFG_INT("jobs", 0, CFGF_NONE),
		CFG_BOOL("mboxrd", cfg_false, CFGF_NONE),
		CFG_INT("max_message_size", (long)MBOX_DEFAULT_MAX_MESSAGE,
			CFGF_NONE),
		CFG_BOOL("allow_sparse", cfg_false, CFGF_NONE),
		CFG_STR("source_tz", "", CFGF_NONE),
		CFG_STR("mbox_locks", "dotlock fcntl flock", CFGF_NONE),
		CFG_INT("mbox_lock_wait", MBOX_LOCK_WAIT_DEFAULT, CFGF_NONE),
		CFG_INT("command_timeout", RUN_CMD_SILENCE_DEFAULT, CFGF_NONE),
		CFG_INT("mbox_lock_stale", MBOX_LOCK_STALE_DEFAULT, CFGF_NONE),
		CFG_INT("test_port", 1043, CFGF_NONE),
		CFG_INT("imap_port", 143, CFGF_NONE),
		CFG_INT("imaps_port", 993, CFGF_NONE),
		CFG_STR_LIST("test_users", "{}", CFGF_NONE),
		CFG_INT("test_user_count", 2, CFGF_NONE),
		CFG_BOOL("homes_to_maildir", cfg_false, CFGF_NONE),
		CFG_STR_LIST("rbash_users", "{}", CFGF_NONE),
		CFG_SEC("service", service_opts, CFGF_MULTI | CFGF_TITLE |
			CFGF_NO_TITLE_DUPES),
	};
	cfg_opt_t opts[sizeof(base_opts) / sizeof(base_opts[0]) +
		       N_SYS_STRINGS + 1];
	size_t nopts = sizeof(base_opts) / sizeof(base_opts[0]);
	cfg_t *c;
	char *text;
	int ret;

	memcpy(opts, base_opts, sizeof(base_opts));
	for (size_t i = 0; i < N_SYS_STRINGS; i++) {
		cfg_opt_t o = CFG_STR(NULL, NULL, CFGF_NONE);

		o.name = sys_strings[i].name;
		opts[nopts++] = o;
	}
	{
		cfg_opt_t end = CFG_END();

		opts[nopts] = end;
	}
	text = read_conf(path, err);
	if (text == NULL)
		return -1;
	c = cfg_init(opts, CFGF_NONE);
	if (c == NULL)
		xalloc_die();	/* our tables are valid: only memory */
	cfg_set_error_function(c, capture_error);
	cfg_set_validate_func(c, "spool_dir", valid_nonempty);
	cfg_set_validate_func(c, "target_base", valid_nonempty);
	cfg_set_validate_func(c, "work_dir", valid_nonempty);
	cfg_set_validate_func(c, "folder_roots", valid_root);
	cfg_set_validate_func(c, "target_layout", valid_layout);
	cfg_set_validate_func(c, "owner", valid_owner);
	cfg_set_validate_func(c, "uid_min", valid_uid);
	cfg_set_validate_func(c, "uid_max", valid_uid);
	cfg_set_validate_func(c, "jobs", valid_jobs);
	cfg_set_validate_func(c, "max_message_size", valid_max_message);
	cfg_set_validate_func(c, "mbox_locks", valid_locks);
	cfg_set_validate_func(c, "mbox_lock_wait", valid_lock_secs);
	cfg_set_validate_func(c, "mbox_lock_stale", valid_lock_secs);
	cfg_set_validate_func(c, "command_timeout", valid_lock_secs);
	cfg_set_validate_func(c, "test_port", valid_port);
	cfg_set_validate_func(c, "imap_port", valid_port);
	cfg_set_validate_func(c, "imaps_port", valid_port);
	cfg_set_validate_func(c, "pop3_uidl", valid_uidl);
	cfg_set_validate_func(c, "postfix_delivery", valid_delivery);
	cfg_set_validate_func(c, "folder_names", valid_names);
	cfg_set_validate_func(c, "test_users", valid_test_users);
	cfg_set_validate_func(c, "test_user_count", valid_count);
	cfg_set_validate_func(c, "rbash_users", valid_rbash_users);
	cfg_set_validate_func(c, "service", valid_service);

	memset(&parse_error, 0, sizeof(parse_error));
	ret = cfg_parse_buf(c, text);
	free(text);
	if (ret != CFG_SUCCESS) {
		m2d_error_set(err, M2D_ERR_USAGE, path, "%s",
			      parse_error.set ? parse_error.msg :
			      _("syntax error"));
		if (parse_error.line > 0)
			m2d_error_at(err, -1, (unsigned long)parse_error.line);
		cfg_free(c);
		return -1;
	}

	m2d_config_set(&cfg->spool_dir, cfg_getstr(c, "spool_dir"));
	set_optional(&cfg->homes_dir, cfg_getstr(c, "homes_dir"));
	for (int i = 0; i < cfg->nroots; i++)
		m2d_config_set(&cfg->folder_roots[i], NULL);
	cfg->nroots = (int)cfg_size(c, "folder_roots");
	for (int i = 0; i < cfg->nroots; i++)
		m2d_config_set(&cfg->folder_roots[i],
			       cfg_getnstr(c, "folder_roots", (unsigned)i));
	m2d_config_set(&cfg->target_base, cfg_getstr(c, "target_base"));
	m2d_config_set(&cfg->target_layout, cfg_getstr(c, "target_layout"));
	m2d_config_set(&cfg->work_dir, cfg_getstr(c, "work_dir"));
	cfg->uid_min = cfg_getint(c, "uid_min");
	cfg->uid_max = cfg_getint(c, "uid_max");
	m2d_config_set(&cfg->owner, cfg_getstr(c, "owner"));
	cfg->jobs = (int)cfg_getint(c, "jobs");
	cfg->mboxrd = cfg_getbool(c, "mboxrd") == cfg_true;
	cfg->max_message_size =
		(unsigned long long)cfg_getint(c, "max_message_size");
	cfg->allow_sparse = cfg_getbool(c, "allow_sparse") == cfg_true;
	set_optional(&cfg->source_tz, cfg_getstr(c, "source_tz"));
	if (mbox_locks_parse(cfg_getstr(c, "mbox_locks"),
			     &cfg->mbox_locks) < 0)
		cfg->mbox_locks = MBOX_LOCKS_DEFAULT;	/* validated above */
	cfg->mbox_lock_wait = (int)cfg_getint(c, "mbox_lock_wait");
	cfg->command_timeout = (int)cfg_getint(c, "command_timeout");
	cfg->mbox_lock_stale = (int)cfg_getint(c, "mbox_lock_stale");
	load_system(cfg, c);
	cfg_free(c);

	return m2d_config_check(cfg, path, err);
}

/* ------------------------------------------------------------------ */
/* Public                                                             */

int m2d_config_check(const struct m2d_config *cfg, const char *path,
		     struct m2d_error *err)
{
	const char *problem = NULL;

	if (cfg->spool_dir == NULL || cfg->spool_dir[0] == '\0')
		problem = _("spool_dir must not be empty");
	else if (cfg->target_base == NULL || cfg->target_base[0] == '\0')
		problem = _("target_base must not be empty");
	else if (cfg->work_dir == NULL || cfg->work_dir[0] == '\0')
		problem = _("work_dir must not be empty");
	else if ((problem = layout_problem(cfg->target_layout)) != NULL)
		;
	else if ((problem = owner_problem(cfg->owner)) != NULL)
		;
	else if (cfg->uid_min < 0 || cfg->uid_max > UID_LIMIT ||
		 cfg->uid_min > cfg->uid_max)
		problem = _("uid_min..uid_max must be a range of UIDs "
			    "(uid_min <= uid_max)");
	else if (cfg->jobs < 0)
		problem = _("jobs must be 0 (number of cores) or more");
	else if (cfg->nroots < 0 || cfg->nroots > M2D_MAX_ROOTS)
		problem = _("too many folder roots");
	else if (cfg->mbox_locks == 0 ||
		 (cfg->mbox_locks & ~(unsigned int)MBOX_LOCKS_DEFAULT) != 0)
		problem = _("mbox_locks must name one or more of dotlock, "
			    "fcntl and flock (as Postfix's "
			    "mailbox_delivery_lock)");
	else if (cfg->mbox_lock_wait < 0 || cfg->mbox_lock_wait > 86400 ||
		 cfg->mbox_lock_stale < 1 || cfg->mbox_lock_stale > 86400)
		problem = _("mbox_lock_wait must be 0..86400 seconds and "
			    "mbox_lock_stale 1..86400");
	for (int i = 0; problem == NULL && i < cfg->nroots; i++)
		problem = root_problem(cfg->folder_roots[i]);
	if (problem != NULL)
		return m2d_error_set(err, M2D_ERR_USAGE, path, "%s", problem);
	return 0;
}

int m2d_config_load(struct m2d_config *cfg, const char *path,
		    struct m2d_error *err)
{
	struct mbox_lock_settings locks;

	set_defaults(cfg);
	if (path != NULL && load_file(cfg, path, err) < 0) {
		m2d_config_free(cfg);
		return -1;
	}
	/* the locks every mbox of this process is read under */
	locks.locks = cfg->mbox_locks;
	locks.wait_secs = cfg->mbox_lock_wait;
	locks.stale_secs = cfg->mbox_lock_stale;
	mbox_locks_configure(&locks);
	/* and the silence every command it runs is allowed */
	run_cmd_set_silence_limit((unsigned)cfg->command_timeout);
	return 0;
}

void m2d_config_set(char **field, const char *value)
{
	char *copy = value != NULL ? xstrdup(value) : NULL;

	free(*field);
	*field = copy;
}

void m2d_config_free(struct m2d_config *cfg)
{
	free(cfg->spool_dir);
	free(cfg->homes_dir);
	for (int i = 0; i < cfg->nroots && i < M2D_MAX_ROOTS; i++)
		free(cfg->folder_roots[i]);
	free(cfg->target_base);
	free(cfg->target_layout);
	free(cfg->work_dir);
	free(cfg->owner);
	free(cfg->source_tz);
	for (size_t i = 0; i < N_SYS_STRINGS; i++)
		free(*sys_field(cfg, i));
	for (int r = 0; r < M2D_SVC_ROLES; r++) {
		for (int a = 0; a < M2D_SVC_ACTIONS; a++)
			free(cfg->service[r].cmd[a]);
		free(cfg->service[r].probe);
	}
	for (int i = 0; i < cfg->ntest_users && i < M2D_MAX_TEST_USERS; i++)
		free(cfg->test_users[i]);
	for (int i = 0; i < cfg->nrbash_users && i < M2D_MAX_TEST_USERS; i++)
		free(cfg->rbash_users[i]);
	memset(cfg, 0, sizeof(*cfg));
}

char *m2d_config_target(const struct m2d_config *cfg, const char *user)
{
	size_t ulen = strlen(user), cap, len = 0;
	const char *base = cfg->target_base, *layout = cfg->target_layout;
	char *out;

	if (base == NULL || layout == NULL)
		return NULL;
	/* each % expansion is at most the user name */
	cap = strlen(base) + 1 + strlen(layout) * (ulen + 1) + 1;
	out = xmalloc(cap);
	len = strlen(base);

	memcpy(out, base, len);
	while (len > 1 && out[len - 1] == '/')
		len--;
	if (len == 0 || out[len - 1] != '/')
		out[len++] = '/';
	for (const char *p = layout; *p != '\0'; p++) {
		size_t n = ulen;

		if (*p != '%') {
			out[len++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			out[len++] = '%';
			continue;
		}
		if (*p >= '1' && *p <= '9') {
			char *end;
			unsigned long v = strtoul(p, &end, 10);

			p = end;
			if (v < n)
				n = (size_t)v;
		}
		if (*p != 'u') {	/* not checked: keep it as it is */
			free(out);
			return NULL;
		}
		memcpy(out + len, user, n);
		len += n;
	}
	out[len] = '\0';
	return out;
}
