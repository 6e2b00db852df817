/* SPDX-License-Identifier: MIT */
/*
 * postfix-conf.c - Postfix's settings through postconf, the maildir
 * delivery setting (planned on a copy, applied with a backup, undone byte
 * for byte), the delivery hold
 *
 * Postfix's local(8) manual: "mail_spool_directory = BASE/" (the trailing
 * slash) delivers into the maildir BASE/USER/, "home_mailbox = Maildir/"
 * into ~/Maildir/; local(8) looks at mailbox_transport, mailbox_command
 * and home_mailbox before mail_spool_directory, so those are reported.
 * "postconf -e" writes main.cf by temp + rename (and leaves it 0644: seen
 * here with 3.7.11, so the original mode is put back); "postfix check"
 * exits 0/1 and up to 3.7 prints nothing unless stderr is a terminal.
 * The hold: "defer_transports = local" + "postfix reload" keeps accepting
 * SMTP and queues local delivery; the release clears it, reloads and
 * flushes the queue.
 *
 * WORK/postfix-conf/ holds the backup of main.cf (services.h's backups);
 * WORK/postfix-hold records defer_transports as it was before the hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postfix-conf.h"
#include "dovecot-conf.h"
#include "services.h"
#include "run-cmd.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

#define BACKUP_SUB "postfix-conf"
#define HOLD_FILE "postfix-hold"

static char **tool_argv(const char *cmdline, const char *dflt,
			const char *const *extra)
{
	return run_cmd_argv(cmdline != NULL && cmdline[0] != '\0' ? cmdline :
			    dflt, extra);
}

static void chomp(char *s)
{
	size_t len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
}

/* Runs "postconf [-c DIR] ARGS..." and returns its stdout (allocated,
 * trailing newlines removed); a non-zero exit is an error with stderr. */
static int postconf_run_raw(const struct pf_tools *t, const char *const *args,
			    bool keep_newline, char **out_r,
			    struct m2d_error *err)
{
	const char *extra[16];
	struct run_output out;
	char **argv;
	size_t n = 0, i;

	*out_r = NULL;
	if (t != NULL && t->config_dir != NULL) {
		extra[n++] = "-c";
		extra[n++] = t->config_dir;
	}
	for (i = 0; args[i] != NULL && n < 15; i++)
		extra[n++] = args[i];
	extra[n] = NULL;
	argv = tool_argv(t != NULL ? t->postconf : NULL, "postconf", extra);
	if (run_cmd(argv, &out, err) < 0) {
		free(argv);
		return -1;
	}
	if (out.status != 0) {
		chomp(out.err);
		m2d_error_set(err, M2D_ERR_USAGE, argv[0],
			      _("postconf %s failed (exit %d): %.300s"),
			      args[0], out.status, out.err);
		free(argv);
		run_output_free(&out);
		return -1;
	}
	free(argv);
	if (!keep_newline)
		chomp(out.out);
	*out_r = out.out;
	out.out = NULL;
	run_output_free(&out);
	return 0;
}

static int postconf_run(const struct pf_tools *t, const char *const *args,
			char **out_r, struct m2d_error *err)
{
	return postconf_run_raw(t, args, false, out_r, err);
}

int pf_read(const struct pf_tools *t, const char *key, char **value_r,
	    struct m2d_error *err)
{
	const char *args[] = { "-h", key, NULL };

	return postconf_run(t, args, value_r, err);
}

int pf_version(const struct pf_tools *t, char **version_r,
	       struct m2d_error *err)
{
	const char *args[] = { "-d", "-h", "mail_version", NULL };

	return postconf_run(t, args, version_r, err);
}

int pf_read_explicit(const struct pf_tools *t, const char *key,
		     char **value_r, struct m2d_error *err)
{
	const char *args[] = { "-n", "-h", key, NULL };
	char *out;

	*value_r = NULL;
	if (postconf_run_raw(t, args, true, &out, err) < 0)
		return -1;
	/* set (even to ""): one line; left at its default: nothing */
	if (out[0] == '\0') {
		free(out);
		return 0;
	}
	chomp(out);
	*value_r = out;
	return 1;
}

int pf_config_dir(const struct pf_tools *t, char **dir_r,
		  struct m2d_error *err)
{
	const char *args[] = { "-d", "-h", "config_directory", NULL };

	if (t != NULL && t->config_dir != NULL) {
		*dir_r = xstrdup(t->config_dir);
		return 0;
	}
	return postconf_run(t, args, dir_r, err);
}

/* Runs CMDLINE (when set) or "TOOL [-c DIR] ARGS...": a non-zero exit is
 * an error (M2D_ERR_USAGE) naming WHAT. */
static int tool_run(const struct pf_tools *t, const char *cmdline,
		    const char *tool, const char *dflt, const char *const *args,
		    const char *what, struct m2d_error *err)
{
	const char *extra[12];
	struct run_output out;
	char **argv;
	size_t n = 0, i;
	int ret = 0;

	if (cmdline != NULL && cmdline[0] != '\0') {
		argv = run_cmd_argv(cmdline, NULL);
	} else {
		if (t != NULL && t->config_dir != NULL) {
			extra[n++] = "-c";
			extra[n++] = t->config_dir;
		}
		for (i = 0; args[i] != NULL && n < 11; i++)
			extra[n++] = args[i];
		extra[n] = NULL;
		argv = tool_argv(tool, dflt, extra);
	}
	if (argv[0] == NULL) {
		free(argv);
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("an empty command for %s"), what);
	}
	if (run_cmd(argv, &out, err) < 0) {
		free(argv);
		return -1;
	}
	if (out.status != 0) {
		char *msg = out.err[0] != '\0' ? out.err : out.out;

		chomp(msg);
		ret = m2d_error_set(err, M2D_ERR_USAGE, argv[0],
				    _("%s failed (exit %d)%s%.300s"), what,
				    out.status, msg[0] != '\0' ? ": " : "",
				    msg);
	}
	run_output_free(&out);
	free(argv);
	return ret;
}

int pf_check(const struct pf_tools *t, struct m2d_error *err)
{
	static const char *const args[] = { "check", NULL };

	return tool_run(t, NULL, t != NULL ? t->postfix : NULL, "postfix",
			args, "postfix check", err);
}

static int pf_reload(const struct pf_tools *t, struct m2d_error *err)
{
	static const char *const args[] = { "reload", NULL };

	return tool_run(t, t != NULL ? t->reload : NULL,
			t != NULL ? t->postfix : NULL, "postfix", args,
			"postfix reload", err);
}

static int pf_flush(const struct pf_tools *t, struct m2d_error *err)
{
	static const char *const args[] = { "-f", NULL };

	return tool_run(t, t != NULL ? t->flush : NULL,
			t != NULL ? t->postqueue : NULL, "postqueue", args,
			"postqueue -f", err);
}

int pf_reload_flush(const struct pf_tools *t, struct m2d_error *err)
{
	if (pf_reload(t, err) < 0)
		return -1;
	return pf_flush(t, err);
}

/* "postconf [-c DIR] -e 'KEY = VALUE'" (VALUE NULL: "-X KEY"). */
static int postconf_set(const struct pf_tools *t, const char *key,
			const char *value, struct m2d_error *err)
{
	const char *args[] = { "-e", NULL, NULL };
	char *kv = NULL, *out;
	int ret;

	if (value == NULL) {
		args[0] = "-X";
		args[1] = key;
	} else {
		kv = xasprintf("%s = %s", key, value);
		args[1] = kv;
	}
	ret = postconf_run(t, args, &out, err);
	if (ret == 0)
		free(out);
	free(kv);
	return ret;
}

/* ---- the delivery setting ---- */

void pf_edit_free(struct pf_edit *edit)
{
	free(edit->config_dir);
	free(edit->main_cf);
	free(edit->key);
	free(edit->value);
	free(edit->old_text);
	free(edit->new_text);
	free(edit->diff);
	free(edit->warning);
	memset(edit, 0, sizeof(*edit));
}

static bool bad_value(const char *v)
{
	return v[0] == '\0' || v[0] == ' ' || v[0] == '\t' ||
		strpbrk(v, "\n\r") != NULL || v[strlen(v) - 1] == ' ' ||
		v[strlen(v) - 1] == '\t';
}

/* KEY and VALUE for SETTINGS. */
static int setting_for(const struct pf_settings *s, char **key_r,
		       char **value_r, struct m2d_error *err)
{
	const char *v;

	*key_r = *value_r = NULL;
	switch (s->delivery) {
	case PF_DELIVERY_SPOOL:
		v = s->target;
		if (v == NULL || v[0] != '/' || bad_value(v))
			return m2d_error_set(err, M2D_ERR_USAGE, v,
					     _("the maildir base must be an "
					       "absolute path"));
		*key_r = xstrdup("mail_spool_directory");
		break;
	case PF_DELIVERY_HOME:
		v = s->home_mailbox != NULL ? s->home_mailbox : "Maildir/";
		if (v[0] == '/' || bad_value(v))
			return m2d_error_set(err, M2D_ERR_USAGE, v,
					     _("home_mailbox must be a path "
					       "relative to the home"));
		*key_r = xstrdup("home_mailbox");
		break;
	default:
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("unknown delivery setting"));
	}
	/* the trailing slash is what selects maildir delivery */
	*value_r = xasprintf("%s%s", v, v[strlen(v) - 1] == '/' ? "" : "/");
	return 0;
}

static int copy_text(const char *from, const char *to, struct m2d_error *err)
{
	char *text;
	int r;

	r = sf_read_text(from, &text, NULL, err);
	if (r <= 0)
		return r;
	r = svc_write_file(to, text, err);
	free(text);
	return r < 0 ? -1 : 1;
}

/* What "postconf -e 'KEY = VALUE'" makes of main.cf: run on a copy. */
static int edited_copy(const struct pf_tools *t, const char *dir,
		       const char *key, const char *value, char **text_r,
		       struct m2d_error *err)
{
	char tmpl[] = "/tmp/m2d-postfix.XXXXXX", from[PATH_MAX], to[PATH_MAX];
	struct pf_tools copy = { NULL, NULL, NULL, NULL, NULL, NULL };
	int ret = -1;

	*text_r = NULL;
	if (mkdtemp(tmpl) == NULL)
		return m2d_error_sys(err, "mkdtemp", tmpl);
	snprintf(from, sizeof(from), "%s/main.cf", dir);
	snprintf(to, sizeof(to), "%s/main.cf", tmpl);
	if (copy_text(from, to, err) <= 0) {
		if (err->code == M2D_OK)
			m2d_error_set(err, M2D_ERR_USAGE, from,
				      _("missing"));
		goto out;
	}
	/* master.cf too, or postconf warns about it */
	snprintf(from, sizeof(from), "%s/master.cf", dir);
	snprintf(to, sizeof(to), "%s/master.cf", tmpl);
	if (copy_text(from, to, err) < 0)
		goto out;
	if (t != NULL)
		copy = *t;
	copy.config_dir = tmpl;
	if (postconf_set(&copy, key, value, err) < 0)
		goto out;
	snprintf(to, sizeof(to), "%s/main.cf", tmpl);
	if (sf_read_text(to, text_r, NULL, err) <= 0) {
		if (err->code == M2D_OK)
			m2d_error_set(err, M2D_ERR_USAGE, to, _("missing"));
		goto out;
	}
	ret = 0;
out:
	sf_remove_tree(AT_FDCWD, tmpl);
	return ret;
}

/* The settings that take precedence over KEY: a warning, or NULL. */
static int precedence_warning(const struct pf_tools *t, const char *key,
			      char **warning_r, struct m2d_error *err)
{
	static const char *const before[] = {
		"mailbox_transport", "mailbox_command", "home_mailbox", NULL
	};
	char *text = NULL, *value;
	size_t size = 0;
	FILE *f;
	int i, found = 0;

	*warning_r = NULL;
	f = xopen_memstream(&text, &size);
	for (i = 0; before[i] != NULL && strcmp(before[i], key) != 0; i++) {
		if (pf_read(t, before[i], &value, err) < 0) {
			fclose(f);
			free(text);
			return -1;
		}
		if (value[0] != '\0')
			fprintf(f, "%s%s = %s", found++ > 0 ? ", " : "",
				before[i], value);
		free(value);
	}
	xmemstream_close(f);
	if (found > 0)
		*warning_r = xasprintf(_("%s takes precedence over %s: mail "
					 "will not be delivered to the "
					 "maildir until it is changed"),
				       text, key);
	free(text);
	return 0;
}

int pf_edit_plan(const struct pf_tools *t, const struct pf_settings *settings,
		 struct pf_edit *edit_r, struct m2d_error *err)
{
	memset(edit_r, 0, sizeof(*edit_r));
	if (setting_for(settings, &edit_r->key, &edit_r->value, err) < 0)
		return -1;
	if (pf_config_dir(t, &edit_r->config_dir, err) < 0)
		goto fail;
	edit_r->main_cf = xasprintf("%s/main.cf", edit_r->config_dir);
	if (sf_read_text(edit_r->main_cf, &edit_r->old_text, NULL, err) <= 0) {
		if (err->code == M2D_OK)
			m2d_error_set(err, M2D_ERR_USAGE, edit_r->main_cf,
				      _("missing"));
		goto fail;
	}
	if (edited_copy(t, edit_r->config_dir, edit_r->key, edit_r->value,
			&edit_r->new_text, err) < 0)
		goto fail;
	edit_r->diff = dc_unified_diff(edit_r->main_cf, edit_r->old_text,
				       edit_r->main_cf, edit_r->new_text);
	if (precedence_warning(t, edit_r->key, &edit_r->warning, err) < 0)
		goto fail;
	return 0;
fail:
	pf_edit_free(edit_r);
	return -1;
}

/* Puts MODE and owner of ST back on PATH (postconf -e leaves 0644). */
static int restore_mode(const char *path, const struct stat *st,
			struct m2d_error *err)
{
	struct stat now;

	if (lstat(path, &now) < 0)
		return m2d_error_sys(err, "lstat", path);
	if ((now.st_uid != st->st_uid || now.st_gid != st->st_gid) &&
	    lchown(path, st->st_uid, st->st_gid) < 0)
		return m2d_error_sys(err, "chown", path);
	if ((now.st_mode & 07777) != (st->st_mode & 07777) &&
	    chmod(path, st->st_mode & 07777) < 0)
		return m2d_error_sys(err, "chmod", path);
	return 0;
}

/* postconf -e / -X on the live main.cf between a backup and the record
 * of what we wrote; the original mode comes back. */
static int live_set(const struct pf_tools *t, const char *main_cf,
		    const char *work_dir, const char *key, const char *value,
		    struct m2d_error *err)
{
	struct stat st;

	if (lstat(main_cf, &st) < 0)
		return m2d_error_sys(err, "lstat", main_cf);
	if (svc_backup_save(work_dir, BACKUP_SUB, main_cf, err) < 0)
		return -1;
	if (postconf_set(t, key, value, err) < 0 ||
	    restore_mode(main_cf, &st, err) < 0)
		return -1;
	return svc_backup_applied(work_dir, BACKUP_SUB, main_cf, err);
}

int pf_apply(const struct pf_tools *t, const struct pf_edit *edit,
	     const char *work_dir, struct m2d_error *err)
{
	struct pf_tools live;
	char *now = NULL, *got = NULL;
	int ret = -1;

	if (sf_read_text(edit->main_cf, &now, NULL, err) < 0)
		return -1;
	if (now == NULL || strcmp(now, edit->old_text) != 0) {
		m2d_error_set(err, M2D_ERR_CHANGED, edit->main_cf,
			      _("changed since the edit was planned"));
		goto out;
	}
	/* exactly the directory the plan read */
	memset(&live, 0, sizeof(live));
	if (t != NULL)
		live = *t;
	live.config_dir = edit->config_dir;
	if (live_set(&live, edit->main_cf, work_dir, edit->key, edit->value,
		     err) < 0)
		goto out;
	if (pf_read(&live, edit->key, &got, err) < 0)
		goto restore;
	if (strcmp(got, edit->value) != 0) {
		m2d_error_set(err, M2D_ERR_USAGE, edit->main_cf,
			      _("postconf reads back %s = %s, not %s"),
			      edit->key, got, edit->value);
		goto restore;
	}
	if (pf_check(&live, err) < 0)
		goto restore;
	ret = 0;
	goto out;
restore:
	/* back to the text before this apply (an earlier apply of ours
	 * stays in place, and so does its backup) */
	{
		struct m2d_error err2;

		m2d_error_clear(&err2);
		if (svc_write_file(edit->main_cf, edit->old_text, &err2) == 0)
			svc_backup_applied(work_dir, BACKUP_SUB, edit->main_cf,
					   &err2);
	}
out:
	free(now);
	free(got);
	return ret;
}

static void hold_path(char *buf, size_t size, const char *work_dir)
{
	snprintf(buf, size, "%s/%s", work_dir, HOLD_FILE);
}

int pf_undo(const struct pf_tools *t, const char *work_dir,
	    struct m2d_error *err)
{
	char path[PATH_MAX];
	int r;

	(void)t;
	r = svc_backup_undo(work_dir, BACKUP_SUB, err);
	if (r > 0) {
		/* main.cf is as before us: a hold recorded is gone too */
		hold_path(path, sizeof(path), work_dir);
		unlink(path);
	}
	return r;
}

/* ---- the hold ---- */

int pf_is_held(const char *work_dir)
{
	char path[PATH_MAX];

	hold_path(path, sizeof(path), work_dir);
	return access(path, F_OK) == 0 ? 1 : 0;
}

/* "local" is one of the comma/space separated names of LIST. */
static bool has_local(const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 5 && strncmp(p, "local", 5) == 0)
			return true;
		p += n;
	}
	return false;
}

int pf_hold(const struct pf_tools *t, const char *work_dir,
	    struct m2d_error *err)
{
	char path[PATH_MAX], *dir = NULL, *main_cf = NULL, *old = NULL;
	char *state = NULL, *value = NULL;
	struct pf_tools live;
	int had, ret = -1;

	if (pf_is_held(work_dir))
		return 0;
	if (pf_config_dir(t, &dir, err) < 0)
		return -1;
	memset(&live, 0, sizeof(live));
	if (t != NULL)
		live = *t;
	live.config_dir = dir;
	had = pf_read_explicit(&live, "defer_transports", &old, err);
	if (had < 0)
		goto out;
	if (had > 0 && old[0] != '\0' && !has_local(old))
		value = xasprintf("%s, local", old);
	else if (had > 0 && old[0] != '\0')
		value = xstrdup(old);
	else
		value = xstrdup("local");
	state = xasprintf("had=%d\nvalue=%s\n", had, had > 0 ? old : "");
	main_cf = xasprintf("%s/main.cf", dir);
	if (mkdir(work_dir, 0700) < 0 && errno != EEXIST) {
		m2d_error_sys(err, "mkdir", work_dir);
		goto out;
	}
	/* the record first: a release can always find what to restore */
	hold_path(path, sizeof(path), work_dir);
	if (svc_write_file(path, state, err) < 0)
		goto out;
	if (live_set(&live, main_cf, work_dir, "defer_transports", value,
		     err) < 0 ||
	    pf_reload(&live, err) < 0)
		goto out;
	ret = 1;
out:
	free(dir);
	free(main_cf);
	free(old);
	free(state);
	free(value);
	return ret;
}

int pf_release(const struct pf_tools *t, const char *work_dir,
	       struct m2d_error *err)
{
	char path[PATH_MAX], *dir = NULL, *main_cf = NULL, *state = NULL;
	char *old = NULL;
	struct pf_tools live;
	int had = -1, r, ret = -1;
	const char *p;

	hold_path(path, sizeof(path), work_dir);
	r = sf_read_text(path, &state, NULL, err);
	if (r <= 0)
		return r;
	if (strncmp(state, "had=", 4) == 0)
		had = atoi(state + 4);
	p = strstr(state, "\nvalue=");
	if ((had != 0 && had != 1) || p == NULL) {
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("damaged hold record"));
		goto out;
	}
	old = xstrndup(p + 7, strcspn(p + 7, "\n"));
	if (pf_config_dir(t, &dir, err) < 0)
		goto out;
	main_cf = xasprintf("%s/main.cf", dir);
	memset
(&live, 0, sizeof(live));
	if (t != NULL)
		live = *t;
	live.config_dir = dir;
	if (live_set(&live, main_cf, work_dir, "defer_transports",
		     had ? old : NULL, err) < 0 ||
	    pf_reload(&live, err) < 0 || pf_flush(&live, err) < 0)
		goto out;
	if (unlink(path) < 0) {
		m2d_error_sys(err, "unlink", path);
		goto out;
	}
	ret = 1;
out:
	free(dir);
	free(main_cf);
	free(state);
	free(old);
	return ret;
}

void pf_tools_from_config(const struct m2d_config *cfg, struct pf_tools *t)
{
	memset(t, 0, sizeof(*t));
	t->postconf = cfg->postconf_command;
	t->postfix = cfg->postfix_command;
	t->postqueue = cfg->postqueue_command;
	t->config_dir = cfg->postfix_config_dir;
	t->reload = cfg->postfix_reload_command;
	t->flush = cfg->postfix_flush_command;
}
