/* SPDX-License-Identifier: MIT */
/*
 * accounts.c - the skeleton directory's cur/ new/ tmp/, the users' homes
 * and shells (usermod), the rbash link; each recorded and undone
 *
 * The runbook: "for new accounts to accept maildir mail delivery, the
 * following directories should be created: /etc/skel/cur /etc/skel/tmp
 * /etc/skel/new"; "usermod -d /data/mail2/<user> <user>"; "make a symbolic
 * link called /bin/rbash pointing to /bin/bash, and make /bin/rbash the
 * users' shell".  usermod here (shadow 4.13) has "-P, --prefix
 * PREFIX_DIR: prefix directory where are located the /etc files" (seen
 * with "usermod --help" and a run on a copy of /etc/passwd, shadow and
 * group): the tests use it on a scratch root.
 *
 * WORK/accounts/ holds:
 *   skel     one created directory per line, in creation order
 *   users    "home|shell TAB USER TAB OLD TAB NEW" per change, the first
 *            OLD of a user kept
 *   rbash    the link we created
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "services.h"
#include "run-cmd.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

#define SUBDIR "accounts"

static int work_file(char *buf, size_t size, const char *work_dir,
		     const char *name, bool create, struct m2d_error *err)
{
	snprintf(buf, size, "%s/%s", work_dir, SUBDIR);
	if (create) {
		if (mkdir(work_dir, 0700) < 0 && errno != EEXIST)
			return m2d_error_sys(err, "mkdir", work_dir);
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return m2d_error_sys(err, "mkdir", buf);
	}
	if (name != NULL)
		snprintf(buf, size, "%s/%s/%s", work_dir, SUBDIR, name);
	return 0;
}

/* Appends LINE to WORK/accounts/NAME (rewritten by temp + rename). */
static int record_append(const char *work_dir, const char *name,
			 const char *line, struct m2d_error *err)
{
	char path[PATH_MAX], *old = NULL, *text;
	int r;

	if (work_file(path, sizeof(path), work_dir, name, true, err) < 0)
		return -1;
	r = sf_read_text(path, &old, NULL, err);
	if (r < 0)
		return -1;
	text = xasprintf("%s%s\n", old != NULL ? old : "", line);
	free(old);
	r = svc_write_file(path, text, err);
	free(text);
	return r;
}

/* Removes WORK/accounts when nothing is left in it. */
static void work_cleanup(const char *work_dir)
{
	char path[PATH_MAX];
	struct m2d_error err;

	work_file(path, sizeof(path), work_dir, NULL, false, &err);
	rmdir(path);
}

/* ---- skel ---- */

int acct_skel_apply(const struct acct_tools *t, const char *skel_dir,
		    const char *work_dir, struct m2d_error *err)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	char skel[PATH_MAX], path[PATH_MAX + 8];
	struct stat st;
	int i, created = 0;

	if (skel_dir != NULL)
		snprintf(skel, sizeof(skel), "%s", skel_dir);
	else
		acct_root_path(skel, sizeof(skel), t, "/etc/skel");
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", skel, subs[i]);
		if (lstat(path, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return m2d_error_set(err, M2D_ERR_UNSAFE, path,
						     _("not a directory"));
			continue;
		}
		if (errno != ENOENT)
			return m2d_error_sys(err, "lstat", path);
		/* the record first: undo never misses one of ours */
		if (record_append(work_dir, "skel", path, err) < 0)
			return -1;
		if (mkdir(path, i == 0 ? 0755 : 0700) < 0)
			return m2d_error_sys(err, "mkdir", path);
		created = 1;
	}
	return created;
}

int acct_skel_undo(const char *work_dir, struct m2d_error *err)
{
	char path[PATH_MAX], *text, *p, *end;
	int r, ret = 1;

	work_file(path, sizeof(path), work_dir, "skel", false, err);
	r = sf_read_text(path, &text, NULL, err);
	if (r <= 0)
		return r;
	/* newest first: the subdirectories before the skel itself */
	end = text + strlen(text);
	while (end > text) {
		if (end[-1] == '\n')
			*--end = '\0';
		p = end;
		while (p > text && p[-1] != '\n')
			p--;
		if (*p != '\0' && rmdir(p) < 0 && errno != ENOENT) {
			if (errno == ENOTEMPTY || errno == EEXIST)
				m2d_error_set(err, M2D_ERR_CHANGED, p,
					      _("not empty: not removed"));
			else
				m2d_error_sys(err, "rmdir", p);
			ret = -1;
			/* keep the lines not undone */
			*end = '\n';
			end[1] = '\0';
			svc_write_file(path, text, err);
			break;
		}
		end = p;
	}
	if (ret > 0) {
		unlink(path);
		work_cleanup(work_dir);
	}
	free(text);
	return ret;
}


static char **usermod_argv(const struct acct_tools *t, const char *opt,
			   const char *value, const char *user)
{
	const char *extra[7];
	int n = 0;

	if (acct_root(t)[0] != '\0') {
		extra[n++] = "-P";
		extra[n++] = acct_root(t);
	}
	extra[n++] = opt;
	extra[n++] = value;
	extra[n++] = "--";
	extra[n++] = user;
	extra[n] = NULL;
	return run_cmd_argv(t != NULL && t->usermod != NULL &&
			    t->usermod[0] != '\0' ? t->usermod : "usermod",
			    extra);
}

static void argv_text(FILE *f, char **argv)
{
	size_t i;

	for (i = 0; argv[i] != NULL; i++)
		fprintf(f, "%s%s", i > 0 ? " " : "", argv[i]);
	putc('\n', f);
}

char *acct_usermod_text(const struct acct_tools *t, const char *user,
			const char *home, const char *shell)
{
	char *text = NULL, **argv;
	size_t size = 0;
	FILE *f = xopen_memstream(&text, &size);

	if (home != NULL) {
		argv = usermod_argv(t, "-d", home, user);
		argv_text(f, argv);
		free(argv);
	}
	if (shell != NULL) {
		argv = usermod_argv(t, "-s", shell, user);
		argv_text(f, argv);
		free(argv);
	}
	xmemstream_close(f);
	return text;
}

static int usermod(const struct acct_tools *t, const char *opt,
		   const char *value, const char *user, struct m2d_error *err)
{
	struct run_output out;
	char **argv = usermod_argv(t, opt, value, user);
	int ret = 0;

	if (run_cmd(argv, &out, err) < 0) {
		free(argv);
		return -1;
	}
	if (out.status != 0) {
		size_t len = strlen(out.err);

		while (len > 0 && out.err[len - 1] == '\n')
			out.err[--len] = '\0';
		ret = m2d_error_set(err, M2D_ERR_USAGE, argv[0],
				    _("usermod %s %s %s failed (exit %d): "
				      "%.300s"), opt, value, user, out.status,
				    out.err);
	}
	run_output_free(&out);
	free(argv);
	return ret;
}

static bool bad_field(const char *s)
{
	return s == NULL || strpbrk(s, ":\n\t") != NULL;
}

/* Changes KIND ("home"/"shell") of USER to VALUE, recording the old. */
static int set_field(const struct acct_tools *t, const char *kind,
		     const char *user, const char *value, const char *work_dir,
		     struct m2d_error *err)
{
	char *home, *shell, *line = NULL;
	const char *old;
	int r;

	if (bad_field(user) || user[0] == '\0' || user[0] == '-' ||
	    bad_field(value) || value[0] != '/')
		return m2d_error_set(err, M2D_ERR_USAGE, value,
				     _("bad user name or path for usermod"));
	r = acct_user_get(t, user, &home, &shell, err);
	if (r <= 0) {
		if (r == 0)
			m2d_error_set(err, M2D_ERR_USAGE, NULL,
				      _("no such user: %s"), user);
		return -1;
	}
	old = kind[0] == 'h' ? home : shell;
	r = 0;
	if (strcmp(old, value) != 0) {
		line = xasprintf("%s\t%s\t%s\t%s", kind, user, old, value);
		if (record_append(work_dir, "users", line, err) < 0 ||
		    usermod(t, kind[0] == 'h' ? "-d" : "-s", value, user,
			    err) < 0)
			r = -1;
	}
	free(line);
	free(home);
	free(shell);
	return r;
}

int acct_set_home(const struct acct_tools *t, const char *user,
		  const char *home, const char *work_dir,
		  struct m2d_error *err)
{
	return set_field(t, "home", user, home, work_dir, err);
}

int acct_set_shell(const struct acct_tools *t, const char *user,
		   const char *shell, const char *work_dir,
		   struct m2d_error *err)
{
	return set_field(t, "shell", user, shell != NULL ? shell :
			 "/bin/rbash", work_dir, err);
}

int acct_rbash_link(const struct acct_tools *t, const char *work_dir,
		    struct m2d_error *err)
{
	char path[PATH_MAX];
	struct stat st;

	acct_root_path(path, sizeof(path), t, "/bin/rbash");
	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return m2d_error_sys(err, "lstat", path);
	if (record_append(work_dir, "rbash", path, err) < 0)
		return -1;
	/* relative, like Debian's: ROOT/bin/rbash -> bash */
	if (symlink("bash", path) < 0)
		return m2d_error_sys(err, "symlink", path);
	return 1;
}

struct change {
	char *kind, *user, *old, *new;
};

int acct_users_undo(const struct acct_tools *t, const char *work_dir,
		    struct m2d_error *err)
{
	char path[PATH_MAX], rbash[PATH_MAX], *text = NULL, *p;
	struct change *c = NULL;
	size_t n = 0, i, j;
	int r, ret = -1, any = 0;

	work_file(path, sizeof(path), work_dir, "users", false, err);
	r = sf_read_text(path, &text, NULL, err);
	if (r < 0)
		return -1;
	for (p = text; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, "\n");
		bool last = p[len] == '\0';
		char *f[4];
		int k;

		c = xrealloc(c, (n + 1) * sizeof(*c));
		p[len]
 = '\0';
		for (k = 0, f[0] = p; k < 3; k++) {
			f[k + 1] = strchr(f[k], '\t');
			if (f[k + 1] == NULL)
				break;
			*f[k + 1]++ = '\0';
		}
		if (k < 3) {
			m2d_error_set(err, M2D_ERR_MALFORMED, path,
				      _("damaged record"));
			goto out;
		}
		c[n].kind = f[0];
		c[n].user = f[1];
		c[n].old = f[2];
		c[n].new = f[3];
		n++;
		if (last)
			break;
		p += len + 1;
	}
	/* per user and kind: the first OLD, the last NEW */
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (c[j].kind != NULL &&
			    strcmp(c[j].kind, c[i].kind) == 0 &&
			    strcmp(c[j].user, c[i].user) == 0)
				break;
		if (j < i) {
			c[j].new = c[i].new;
			c[i].kind = NULL;
		}
	}
	/* check all before changing any */
	for (i = 0; i < n; i++) {
		char *home, *shell;
		const char *now;
		bool ok;

		if (c[i].kind == NULL)
			continue;
		r = acct_user_get(t, c[i].user, &home, &shell, err);
		if (r <= 0) {
			if (r == 0)
				m2d_error_set(err, M2D_ERR_CHANGED, NULL,
					      _("no such user any more: %s"),
					      c[i].user);
			goto out;
		}
		now = c[i].kind[0] == 'h' ? home : shell;
		ok = strcmp(now, c[i].new) == 0 || strcmp(now, c[i].old) == 0;
		if (strcmp(now, c[i].old) == 0)
			c[i].kind = c[i].kind[0] == 'h' ? "h-done" : "s-done";
		free(home);
		free(shell);
		if (!ok) {
			m2d_error_set(err, M2D_ERR_CHANGED, NULL,
				      _("the %s of %s changed since "
					"mbox2dovecot set it: not undone"),
				      c[i].kind, c[i].user);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (c[i].kind == NULL || strchr(c[i].kind, '-') != NULL)
			continue;
		if (usermod(t, c[i].kind[0] == 'h' ? "-d" : "-s", c[i].old,
			    c[i].user, err) < 0)
			goto out;
	}
	any = n > 0;
	unlink(path);
	/* the rbash link, while it is still ours */
	work_file(path, sizeof(path), work_dir, "rbash", false, err);
	free(text);
	text = NULL;
	r = sf_read_text(path, &text, NULL, err);
	if (r < 0)
		goto out;
	if (r > 0) {
		char target[16];
		ssize_t len;

		snprintf(rbash, sizeof(rbash), "%.*s", (int)strcspn(text, "\n"),
			 text);
		len = readlink(rbash, target, sizeof(target) - 1);
		if (len >= 0) {
			target[len] = '\0';
			if (strcmp(target, "bash") == 0 && unlink(rbash) < 0) {
				m2d_error_sys(err, "unlink", rbash);
				goto out;
			}
		}
		unlink(path);
		any = 1;
	}
	work_cleanup(work_dir);
	ret = any;
out:
	free(c);
	free(text);
	return ret;
}
