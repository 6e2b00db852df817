/* SPDX-License-Identifier: MIT */
/*
 * dovecot-conf.c - which Dovecot is installed, how its configuration is
 * laid out, and our settings in the syntax that version reads
 *
 * Syntax by version (from each version's documentation and example
 * configuration, dovecot/documentation and dovecot/core's doc/):
 *   0.99   default_mail_env = maildir:BASE/%u, imap_listen = ADDR:PORT,
 *          imaps_listen; no namespaces (the maildir separator is fixed).
 *   1.x    mail_location, "protocol imap { listen = ADDR:PORT
 *          ssl_listen = ADDR:PORT }", "imaps" in protocols for 993,
 *          "namespace private { separator prefix inbox }".
 *   2.0-2.3 mail_location, "service imap-login { inet_listener imap {
 *          address port } inet_listener imaps { port = 0 } }",
 *          "namespace inbox { separator = / }" (all checked here with
 *          doveconf 2.3.19: repeated sections merge setting by setting,
 *          the last assignment wins, "%1u" is accepted).
 *   2.4    Upgrading Dovecot CE from 2.3 to 2.4
 *          (https://doc.dovecot.org/2.4.0/installation/upgrade/2.3-to-2.4.html):
 *          "dovecot_config_version" must be the first setting of
 *          dovecot.conf and "dovecot_storage_version" is required (both
 *          are the admin's, already in a 2.4 dovecot.conf: our unit is
 *          included later and must not carry them); mail_location is
 *          replaced by "mail_driver = maildir" + "mail_path"; the
 *          one-letter variables are gone, "%u" is "%{user}" and a
 *          first character is a filter, "%{user | substr(0, 1)}"
 *          ("Settings Variables", dovecot/documentation
 *          docs/core/settings/variables.md: "will take first character
 *          of username");
 *          the listener's address is "listen" inside the inet_listener
 *          ("inet_listener_address" is documented but
 *          unimplemented: dovecot/documentation issue #1347).
 *          Checked against Debian 13's Dovecot 2.4.1 (doveconf, and its
 *          IMAP/POP3 server on a converted maildir; tests/tools/
 *          check-dovecot24.sh): INBOX needs "mail_inbox_path" (see
 *          gen_mail), "protocols" is a boolean list (see
 *          enabled_protocols), "protocols = imap pop3" still replaces
 *          it whole, and "%{user | substr(0, 1)}", "listen" and the
 *          pop3_uidl_format below work as written.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dovecot-conf.h"
#include "run-cmd.h"
#include "i18n.h"
#include "xalloc.h"

int dc_version_parse(const char *text, struct dc_version *version_r,
		     struct m2d_error *err)
{
	unsigned long part[3] = { 0, 0, 0 };
	const char *p = text;
	char *end;
	int i;

	while (isspace((unsigned char)*p))
		p++;
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			break;
		errno = 0;
		part[i] = strtoul(p, &end, 10);
		if (errno != 0 || part[i] > 9999)
			break;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (p == text || i == 0 || !isdigit((unsigned char)text[0]))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("not a Dovecot version: \"%.40s\""),
				     text);
	/* "2.3" alone is 2.3.0; "0.99.14" is 0.99.14 */
	version_r->major = (unsigned int)part[0];
	version_r->minor = (unsigned int)part[1];
	version_r->patch = (unsigned int)part[2];
	return 0;
}

enum dc_syntax dc_syntax_for(const struct dc_version *v)
{
	if (v->major == 0)
		return v->minor >= 99 ? DC_SYNTAX_0_99 : DC_SYNTAX_UNKNOWN;
	if (v->major == 1)
		return DC_SYNTAX_1;
	if (v->major == 2)
		return v->minor <= 3 ? DC_SYNTAX_2 : DC_SYNTAX_2_4;
	/* a later major: assume it reads 2.4's syntax (it will say if not) */
	return DC_SYNTAX_2_4;
}

const char *dc_syntax_name(enum dc_syntax syntax)
{
	switch (syntax) {
	case DC_SYNTAX_0_99:
		return "0.99";
	case DC_SYNTAX_1:
		return "1.x";
	case DC_SYNTAX_2:
		return "2.0-2.3";
	case DC_SYNTAX_2_4:
		return "2.4";
	case DC_SYNTAX_UNKNOWN:
		break;
	}
	return "?";
}

void dc_tools_from_config(const struct m2d_config *cfg, struct dc_tools *t)
{
	t->dovecot = cfg->dovecot_command;
	t->doveconf = cfg->doveconf_command;
}

static char **tool_argv(const char *cmdline, const char *dflt,
			const char *const *extra)
{
	return run_cmd_argv(cmdline != NULL && cmdline[0] != '\0' ? cmdline :
			    dflt, extra);
}

int dc_detect_version(const struct dc_tools *tools,
		      struct dc_version *version_r, struct m2d_error *err)
{
	static const char *const extra[] = { "--version", NULL };
	struct run_output out;
	char **argv;
	int ret;

	argv = tool_argv(tools != NULL ? tools->dovecot : NULL, "dovecot",
			 extra);
	ret = run_cmd(argv, &out, err);
	if (ret < 0) {
		free(argv);
		return -1;
	}
	if (out.status != 0) {
		m2d_error_set(err, M2D_ERR_USAGE, argv[0],
			      _("\"--version\" failed (exit %d): %.200s"),
			      out.status, out.err);
		ret = -1;
	} else {
		ret = dc_version_parse(out.out, version_r, err);
	}
	run_output_free(&out);
	free(argv);
	return ret;
}

int dc_read_setting(const struct dc_tools *tools, const char *conf_path,
		    const char *key, char **value_r, struct m2d_error *err)
{
	const char *extra[] = { "-c", conf_path, "-h", key, NULL };
	struct run_output out;
	char **argv;
	size_t len;
	char *p;

	*value_r = NULL;
	argv = tool_argv(tools != NULL ? tools->doveconf : NULL, "doveconf",
			 extra);
	if (run_cmd(argv, &out, err) < 0) {
		free(argv);
		return -1;
	}
	free(argv);
	if (out.status != 0) {
		len = strlen(out.err);
		while (len > 0 && out.err[len - 1] == '\n')
			out.err[--len] = '\0';
		m2d_error_set(err, M2D_ERR_USAGE, conf_path,
			      _("doveconf -h %s failed (exit %d): %.200s"),
			      key, out.status, out.err);
		run_output_free(&out);
		return -1;
	}
	len = strlen(out.out);
	while (len > 0 && (out.out[len - 1] == '\n' || out.out[len - 1] == ' '))
		out.out[--len] = '\0';
	for (p = out.out; *p == ' ' || *p == '\t'; p++)
		;
	*value_r = xstrdup(p);
	run_output_free(&out);
	return 0;
}

/* ---- layout ---- */

void dc_layout_info_free(struct dc_layout_info *info)
{
	free(info->conf_path);
	free(info->conf_dir);
	free(info->unit_path);
	memset(info, 0, sizeof(*info));
}

/* Trims LINE in place; returns its first non-blank character. */
static char *trim(char *line)
{
	size_t len = strlen(line);

	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	while (isspace((unsigned char)*line))
		line++;
	return line;
}

/* "!include conf.d/X.conf", "!include_try /etc/dovecot/conf.d/X.conf":
 * the include of every conf.d file ending in .conf, relative to DIR or
 * absolute into it. */
static bool is_confd_include(const char *line, const char *dir)
{
	const char *arg;
	size_t dlen = strlen(dir);

	if (strncmp(line, "!include_try", 12) == 0)
		arg = line + 12;
	else if (strncmp(line, "!include", 8) == 0)
		arg = line + 8;
	else
		return false;
	if (!isspace((unsigned char)*arg))
		return false;
	while (isspace((unsigned char)*arg))
		arg++;
	if (*arg == '"')
		arg++;
	if (strncmp(arg, dir, dlen) == 0 && arg[dlen] == '/')
		arg += dlen + 1;
	return strncmp(arg, "conf.d/*.conf", 13) == 0;
}

static bool is_local_include(const char *line)
{
	return strncmp(line, "!include", 8) == 0 &&
		strstr(line, "local.conf") != NULL;
}

int dc_detect_layout(const char *conf_path, struct dc_layout_info *info_r,
		     struct m2d_error *err)
{
	char line[4096], *t, *slash;
	FILE *f;

	memset(info_r, 0, sizeof(*info_r));
	info_r->conf_path = xstrdup(conf_path);
	info_r->conf_dir = xstrdup(conf_path);
	slash = strrchr(info_r->conf_dir, '/');
	if (slash == NULL)
		strcpy(info_r->conf_dir, ".");
	else if (slash == info_r->conf_dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	f = fopen(conf_path, "re");
	if (f == NULL) {
		m2d_error_sys(err, "open", conf_path);
		dc_layout_info_free(info_r);
		return -1;
	}
	info_r->layout = DC_LAYOUT_SINGLE;
	while (fgets(line, sizeof(line), f) != NULL) {
		t = trim(line);
		if (is_confd_include(t, info_r->conf_dir))
			info_r->layout = DC_LAYOUT_CONFD;
		else if (is_local_include(t))
			info_r->local_conf = true;
	}
	if (ferror(f)) {
		m2d_error_sys(err, "read", conf_path);
		fclose(f);
		dc_layout_info_free(info_r);
		return -1;
	}
	fclose(f);
	if (info_r->layout == DC_LAYOUT_CONFD)
		info_r->unit_path = xasprintf("%s/conf.d/%s", info_r->conf_dir,
					      DC_UNIT_FILE);
	else
		info_r->unit_path = xstrdup(conf_path);
	return 0;
}

/* ---- generating our settings ---- */

void dc_settings_init(struct dc_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->listen = DC_LISTEN_TEST;
	s->test_address = "127.0.0.1";
	s->test_port = 1043;
	s->imap_port = 143;
	s->imaps_port = 993;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncmp(p, word, n) == 0 &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' ||
		     p[n] == ','))
			return true;
		p += strcspn(p, " \t,");
	}
	return false;
}

/*
 * "doveconf -h protocols" as a plain list of the enabled protocols.  Up to
 * 2.3 it is that already ("imap pop3").  2.4 made protocols a boolean
 * list: after "protocols = imap pop3" it prints "imap pop3", but after
 * Debian's protocols.d files ("protocols { imap = yes }") it prints one
 * "NAME = yes|no" line each (seen with doveconf 2.4.1): only the names
 * that are "yes" are enabled, and "=", "yes", "no" are no protocols.
 * Allocated; NULL text gives "".
 */
static char *enabled_protocols(const char *text)
{
	const char *p = text != NULL ? text : "";
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	if (strchr(p, '=') == NULL)
		return xstrdup(p);
	f = xopen_memstream(&buf, &size);
	while (*p != '\0') {
		size_t line = strcspn(p, "\n"), name;
		const char *v;

		while (*p == ' ' || *p == '\t') {
			p++;
			line--;
		}
		name = strcspn(p, " \t=\n");
		v = p + name;
		while (*v == ' ' || *v == '\t')
			v++;
		if (name > 0 && *v == '=') {
			for (v++; *v == ' ' || *v == '\t'; v++)
				;
			if (strncmp(v, "yes", 3) == 0 &&
			    strchr(" \t\n", v[3]) != NULL)
				fprintf(f, "%s%.*s", ftell(f) > 0 ? " " : "",
					(int)name, p);
		}
		p += line;
		if (*p == '\n')
			p++;
	}
	xmemstream_close(f);
	return buf;
}

bool dc_same_protocols(const char *a, const char *b)
{
	char *la = enabled_protocols(a), *lb = enabled_protocols(b);
	bool same = true;

	/* the same words, in any order */
	for (int pass = 0; same && pass < 2; pass++) {
		const char *from = pass == 0 ? la : lb;
		const char *other = pass == 0 ? lb : la;

		for (const char *p = from; *p != '\0' && same;) {
			size_t n = strcspn(p, " ");
			char word[64];

			if (n > 0 && n < sizeof(word)) {
				memcpy(word, p, n);
				word[n] = '\0';
				same = has_word(other, word);
			}
			p += n;
			p += strspn(p, " ");
		}
	}
	free(la);
	free(lb);
	return same;
}

char *dc_protocols(enum dc_syntax syntax, const struct dc_settings *s)
{
	char *list = enabled_protocols(s->current_protocols);
	const char *p = list;
	bool normal = s->listen == DC_LISTEN_NORMAL;
	bool old = syntax == DC_SYNTAX_0_99 || syntax == DC_SYNTAX_1;
	bool pop3 = has_word(p, "pop3") || has_word(p, "pop3s");
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	f = xopen_memstream(&buf, &size);
	fputs("imap", f);
	if (old && normal && s->imaps_port != 0)
		fputs(" imaps", f);
	if (normal && pop3) {
		fputs(" pop3", f);
		if (old)
			fputs(" pop3s", f);
	}
	while (p != NULL && *p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, " \t,");
		if (n == 0)
			break;
		/* imap first, pop3 by mode, the 1.x SSL names by mode;
		 * "$protocols" (the unexpanded default) dropped: doveconf -h
		 * prints the expanded value anyway */
		if (!(n == 4 && strncmp(p, "imap", 4) == 0) &&
		    !(n == 5 && strncmp(p, "imaps", 5) == 0) &&
		    !(n == 4 && strncmp(p, "pop3", 4) == 0) &&
		    !(n == 5 && strncmp(p, "pop3s", 5) == 0) &&
		    !(n == 4 && strncmp(p, "none", 4) == 0) && p[0] != '$')
			fprintf(f, " %.*s", (int)n, p);
		p += n;
	}
	free(list);
	xmemstream_close(f);
	return buf;
}

/* A path or address goes into the config as one bare word: refuse what
 * Dovecot's parser would read differently (blanks, quotes, comments,
 * braces, variables). */
static bool bare_word(const char *v)
{
	return v != NULL && v[0] != '\0' &&
		strpbrk(v, " \t\n\r\"'#{}$%<\\") == NULL;
}

static int check_settings(const struct dc_settings *s, struct m2d_error *err)
{
	if (!bare_word(s->target) || s->target[0] != '/')
		return m2d_error_set(err, M2D_ERR_USAGE, s->target,
				     _("the mail target must be an absolute "
				       "path without blanks, quotes or "
				       "'#{}$%%<\\'"));
	if (s->listen == DC_LISTEN_TEST) {
		if (!bare_word(s->test_address) || s->test_port == 0 ||
		    s->test_port > 65535)
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("the test listener needs an "
					       "address and a port 1-65535"));
	} else if (s->imap_port == 0 || s->imap_port > 65535 ||
		   s->imaps_port > 65535 ||
		   (s->normal_address != NULL &&
		    !bare_word(s->normal_address))) {
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("bad normal IMAP address or ports"));
	}
	if (s->log_path != NULL &&
	    (!bare_word(s->log_path) || s->log_path[0] != '/'))
		return m2d_error_set(err, M2D_ERR_USAGE, s->log_path,
				     _("the log file must be an absolute path "
				       "without blanks or quotes"));
	for (size_t i = 0; s->compat_prefixes != NULL &&
	     s->compat_prefixes[i] != NULL; i++) {
		const char *p = s->compat_prefixes[i];

		if (p[0] == '\0' || strpbrk(p, "\"\\\n\r\t{}#") != NULL)
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("a folder root Dovecot cannot "
					       "name as a namespace prefix: "
					       "\"%.60s\""), p);
	}
	if (s->log_path == NULL && s->syslog_facility != NULL &&
	    !bare_word(s->syslog_facility))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("bad syslog facility \"%.40s\""),
				     s->syslog_facility);
	return 0;
}

static void strip_slashes(char *buf, size_t size, const char *path)
{
	size_t len;

	snprintf(buf, size, "%s", path);
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
}

static void gen_mail(FILE *f, enum dc_syntax syntax,
		     const struct dc_settings *s)
{
	char base[PATH_MAX];
	const char *hash;

	strip_slashes(base, sizeof(base), s->target);
	if (strcmp(base, "/") == 0)
		base[0] = '\0';
	switch (syntax) {
	case DC_SYNTAX_0_99:
		fprintf(f, "default_mail_env = maildir:%s/%s%%u\n", base,
			s->hashed ? "%1u/" : "");
		fputs("# 0.99 has no namespaces: its maildir separator is "
		      "'.', not '/'\n", f);
		break;
	case DC_SYNTAX_1:
		fprintf(f, "mail_location = maildir:%s/%s%%u\n", base,
			s->hashed ? "%1u/" : "");
		fputs("namespace private {\n"
		      "  separator = /\n"
		      "  prefix =\n"
		      "  inbox = yes\n"
		      "}\n", f);
		break;
	case DC_SYNTAX_2:
		fprintf(f, "mail_location = maildir:%s/%s%%u\n", base,
			s->hashed ? "%1u/" : "");
		fputs("namespace inbox {\n"
		      "  inbox = yes\n"
		      "  separator = /\n"
		      "}\n", f);
		break;
	case DC_SYNTAX_2_4:
		hash = s->hashed ? "%{user | substr(0, 1)}/" : "";
		fputs("mail_driver = maildir\n", f);
		fprintf(f, "mail_path = %s/%s%%{user}\n", base, hash);
		/* 2.3's mail_location carried INBOX=... and ours replaced
		 * it whole; 2.4's INBOX is a setting of its own, and the
		 * packaged 10-mail.conf sets it to the /var/mail mbox
		 * (Debian 13).  Emptied ("mail_inbox_path =") INBOX
		 * becomes a ".INBOX" folder, not the maildir's root where
		 * we put it (seen with 2.4.1: doveadm mailbox path); the
		 * root named explicitly is the root. */
		fprintf(f, "mail_inbox_path = %s/%s%%{user}\n", base, hash);
		fputs("namespace inbox {\n"
		      "  inbox = yes\n"
		      "  separator = /\n"
		      "}\n", f);
		break;
	case DC_SYNTAX_UNKNOWN:
		break;
	}
}

/*
 * UW-IMAP's names, kept through hidden namespaces (Dovecot's documented
 * answer for UW sites, "Backwards Compatibility: UW-IMAP" in the
 * namespaces page): each an alias of the INBOX namespace with the prefix
 * UW's names had.  2.0-2.3 name the aliased namespace by its prefix
 * ("alias_for =", the empty one); 2.4 by its name ("alias_for = inbox")
 * and spell the user "%{user}".  Seen with 2.4.1 (check-dovecot24.sh):
 * doveconf -n takes any alias_for, a login then fails ("Invalid namespace
 * alias_for: X") on one that names no namespace.
 */
static void gen_compat(FILE *f, enum dc_syntax syntax,
		       const struct dc_settings *s)
{
	bool v24 = syntax == DC_SYNTAX_2_4;

	if (s->compat_prefixes == NULL || s->compat_prefixes[0] == NULL)
		return;
	if (syntax != DC_SYNTAX_2 && !v24) {
		fputs("# (UW-IMAP's folder names as hidden namespaces need "
		      "Dovecot 2.0 or later)\n", f);
		return;
	}
	fputs("# UW-IMAP's folder names (\"mail/work\", \"~/mail/work\") "
	      "still reach the\n# migrated folders: hidden aliases of the "
	      "INBOX namespace.\n", f);
	for (size_t i = 0; s->compat_prefixes[i] != NULL; i++) {
		const char *p = s->compat_prefixes[i], *u;

		fprintf(f, "namespace uw_compat%zu {\n  prefix = \"", i + 1);
		while ((u = strstr(p, "%u")) != NULL) {
			fwrite(p, 1, (size_t)(u - p), f);
			fputs(v24 ? "%{user}" : "%u", f);
			p = u + 2;
		}
		fprintf(f, "%s\"\n  separator = /\n  hidden = yes\n"
			"  list = no\n  inbox = no\n  alias_for =%s\n}\n", p,
			v24 ? " inbox" : "");
	}
}

static void gen_listen_2(FILE *f, bool v24, const struct dc_settings *s)
{
	const char *addr_key = v24 ? "listen" : "address";
	bool test = s->listen == DC_LISTEN_TEST;
	const char *addr = test ? s->test_address : s->normal_address;

	fputs("service imap-login {\n"
	      "  inet_listener imap {\n", f);
	if (addr != NULL)
		fprintf(f, "    %s = %s\n", addr_key, addr);
	fprintf(f, "    port = %u\n", test ? s->test_port : s->imap_port);
	fputs("  }\n"
	      "  inet_listener imaps {\n", f);
	if (!test && s->imaps_port != 0 && addr != NULL)
		fprintf(f, "    %s = %s\n", addr_key, addr);
	fprintf(f, "    port = %u\n", test ? 0 : s->imaps_port);
	fputs("  }\n"
	      "}\n", f);
}

static void gen_listen(FILE *f, enum dc_syntax syntax,
		       const struct dc_settings *s)
{
	bool test = s->listen == DC_LISTEN_TEST;
	const char *addr = test ? s->test_address :
		(s->normal_address != NULL ? s->normal_address : "*");

	if (test)
		fputs("# test listener only: UW-IMAP still holds 143 and "
		      "993\n", f);
	switch (syntax) {
	case DC_SYNTAX_0_99:
		if (test) {
			fprintf(f, "imap_listen = %s:%u\n", addr,
				s->test_port);
		} else {
			fprintf(f, "imap_listen = %s:%u\n", addr,
				s->imap_port);
			if (s->imaps_port != 0)
				fprintf(f, "imaps_listen = %s:%u\n", addr,
					s->imaps_port);
		}
		break;
	case DC_SYNTAX_1:
		fputs("protocol imap {\n", f);
		fprintf(f, "  listen = %s:%u\n", addr,
			test ? s->test_port : s->imap_port);
		if (!test && s->imaps_port != 0)
			fprintf(f, "  ssl_listen = %s:%u\n", addr,
				s->imaps_port);
		fputs("}\n", f);
		break;
	case DC_SYNTAX_2:
	case DC_SYNTAX_2_4:
		gen_listen_2(f, syntax == DC_SYNTAX_2_4, s);
		break;
	case DC_SYNTAX_UNKNOWN:
		break;
	}
}

static void gen_log(FILE *f, enum dc_syntax syntax,
		    const struct dc_settings *s)
{
	if (s->log_path != NULL) {
		fprintf(f, "log_path = %s\n", s->log_path);
	} else if (s->syslog_facility != NULL) {
		/* an empty log_path is syslog in 0.99 and 1.x; "syslog" is
		 * its value from 2.0 on */
		if (syntax == DC_SYNTAX_0_99 || syntax == DC_SYNTAX_1)
			fputs("log_path =\n", f);
		else
			fputs("log_path = syslog\n", f);
		fprintf(f, "syslog_facility = %s\n", s->syslog_facility);
	}
}

int dc_pop3_uidl_parse(const char *value, enum dc_pop3_uidl *r)
{
	if (value == NULL || strcmp(value, "auto") == 0)
		*r = DC_POP3_UIDL_AUTO;
	else if (strcmp(value, "yes") == 0)
		*r = DC_POP3_UIDL_YES;
	else if (strcmp(value, "no") == 0)
		*r = DC_POP3_UIDL_NO;
	else
		return -1;
	return 0;
}

/*
 * UW-IMAP's ipop3d made each UIDL from the folder's UIDVALIDITY and the
 * message's UID ("%08lx%08lx", imap-2007 src/ipopd/ipop3d.c); we keep
 * both, so Dovecot can give the very same UIDLs and POP3 clients that
 * leave mail on the server do not download it all again.
 *   1.x - 2.3: "%08Xv%08Xu" (var_expand: X = hex, lower case, v =
 *              UIDVALIDITY, u = UID); in 1.x a setting of protocol pop3.
 *   2.4:       the variables became "%{name | filter}": the default there
 *              is "%{uid | hex(8)}%{uidvalidity | hex(8)}"
 *              (dovecot/core src/lib-storage/mail-storage-settings.c; hex
 *              prints "%jx" padded to the width), so UW's order is
 *              "%{uidvalidity | hex(8)}%{uid | hex(8)}".
 *   0.99:      no such setting.
 */
static void gen_pop3_uidl(FILE *f, enum dc_syntax syntax,
			  const struct dc_settings *s)
{
	char *p = enabled_protocols(s->current_protocols);
	bool pop3 = has_word(p, "pop3") || has_word(p, "pop3s");

	free(p);
	if (s->pop3_uidl == DC_POP3_UIDL_NO ||
	    (s->pop3_uidl == DC_POP3_UIDL_AUTO && !pop3))
		return;
	fputs("# POP3: the UIDLs UW-IMAP gave (UIDVALIDITY and UID, 8 hex "
	      "digits each),\n# so POP3 clients do not download every "
	      "message again.\n", f);
	switch (syntax) {
	case DC_SYNTAX_0_99:
		fputs("# (Dovecot 0.99 has no pop3_uidl_format: its UIDLs "
		      "differ from UW's.)\n", f);
		break;
	case DC_SYNTAX_1:
		fputs("protocol pop3 {\n  pop3_uidl_format = %08Xv%08Xu\n}\n",
		      f);
		break;
	case DC_SYNTAX_2:
		fputs("pop3_uidl_format = %08Xv%08Xu\n", f);
		break;
	case DC_SYNTAX_2_4:
		fputs("pop3_uidl_format = %{uidvalidity | hex(8)}"
		      "%{uid | hex(8)}\n", f);
		break;
	case DC_SYNTAX_UNKNOWN:
		break;
	}
}

char *dc_generate(enum dc_syntax syntax, const struct dc_settings *s,
		  struct m2d_error *err)
{
	char *buf = NULL, *protocols;
	size_t size = 0;
	FILE *f;

	if (syntax == DC_SYNTAX_UNKNOWN) {
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("unknown Dovecot version: no syntax for it"));
		return NULL;
	}
	if (check_settings(s, err) < 0)
		return NULL;
	protocols = dc_protocols(syntax, s);
	f = xopen_memstream(&buf, &size);
	fprintf(f, "# Settings of mbox2dovecot for the migration from "
		"UW-IMAP (Dovecot %s syntax).\n"
		"# Remove them as one unit with "
		"\"mbox2dovecot dovecot-conf undo\".\n",
		dc_syntax_name(syntax));
	if (s->current_protocols != NULL) {
		char *before = enabled_protocols(s->current_protocols);

		fprintf(f, DC_PROTOCOLS_BEFORE "%s\n", before);
		free(before);
	}
	fprintf(f, "protocols = %s\n", protocols);
	free(protocols);
	gen_mail(f, syntax, s);
	gen_compat(f, syntax, s);
	gen_listen(f, syntax, s);
	gen_log(f, syntax, s);
	gen_pop3_uidl(f, syntax, s);
	xmemstream_close(f);
	return buf;

}
