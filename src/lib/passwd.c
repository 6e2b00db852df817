/* SPDX-License-Identifier: MIT */
/*
 * passwd.c - the users the migration knows, from the system's passwd or
 * a practice server's ROOT/etc/passwd, looked up by name or UID in
 * O(log n)
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"
#include "xalloc.h"
#include "safe-file.h"
#include "i18n.h"

const char *acct_root(const struct acct_tools *t)
{
	return t != NULL && t->root != NULL ? t->root : "";
}

void acct_root_path(char *buf, size_t size, const struct acct_tools *t,
		    const char *path)
{
	const char *root = acct_root(t);
	size_t len = strlen(root);

	while (len > 0 && root[len - 1] == '/')
		len--;
	snprintf(buf, size, "%.*s%s", (int)len, root, path);
}

int acct_user_get(const struct acct_tools *t, const char *user,
		  char **home_r, char **shell_r, struct m2d_error *err)
{
	char path[PATH_MAX], *text, *p;
	size_t ulen = strlen(user);
	int r, ret = 0;

	*home_r = *shell_r = NULL;
	acct_root_path(path, sizeof(path), t, "/etc/passwd");
	r = sf_read_text(path, &text, NULL, err);
	if (r <= 0) {
		if (r == 0)
			m2d_error_set(err, M2D_ERR_USAGE, path, _("missing"));
		return -1;
	}
	for (p = text; *p != '\0' && ret == 0;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n), *field[7], *f;
		int k = 0;

		/* name:pw:uid:gid:gecos:home:shell (fields may be empty) */
		for (f = line; k < 7; k++) {
			field[k] = f;
			f = strchr(f, ':');
			if (f == NULL) {
				k++;
				break;
			}
			*f++ = '\0';
		}
		if (k == 7 && strlen(field[0]) == ulen &&
		    strcmp(field[0], user) == 0) {
			*home_r = xstrdup(field[5]);
			*shell_r = xstrdup(field[6]);
			ret = 1;
		}
		free(line);
		p += n + (p[n] == '\n' ? 1 : 0);
	}
	free(text);
	return ret;
}

/* ---- the passwd the migration knows ---- */

static void index_entries(struct acct_passwd *pw);

static void pw_add(struct acct_passwd *pw, const char *name, long uid,
		   long gid, const char *home, const char *shell)
{
	struct acct_pw *e;

	if (pw->n == pw->cap) {
		pw->cap = pw->cap == 0 ? 64 : pw->cap * 2;
		pw->e = xrealloc(pw->e, pw->cap * sizeof(*pw->e));
	}
	e = &pw->e[pw->n++];
	e->name = xstrdup(name);
	e->home = xstrdup(home);
	e->shell = xstrdup(shell);
	e->uid = uid;
	e->gid = gid;
}

static bool parse_id(const char *s, long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtol(s, &end, 10);
	return *end == '\0' && errno == 0 && *v >= 0 && *v <= 4294967294L;
}

int acct_passwd_load(const struct acct_tools *t, struct acct_passwd *pw,
		     struct m2d_error *err)
{
	char path[PATH_MAX], *text, *p;
	int r;

	memset(pw, 0, sizeof(*pw));
	if (acct_root(t)[0] == '\0') {
		struct passwd *e;

		pw->system = true;
		setpwent();
		while ((e = getpwent()) != NULL)
			pw_add(pw, e->pw_name, (long)e->pw_uid, (long)e->pw_gid,
			       e->pw_dir, e->pw_shell);
		endpwent();
		goto sorted;
	}
	acct_root_path(path, sizeof(path), t, "/etc/passwd");
	r = sf_read_text(path, &text, NULL, err);
	if (r <= 0) {
		if (r == 0)
			m2d_error_set(err, M2D_ERR_USAGE, path, _("missing"));
		return -1;
	}
	for (p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n), *field[7], *f;
		long uid, gid;
		int k = 0;

		for (f = line; k < 7; k++) {
			field[k] = f;
			f = strchr(f, ':');
			if (f == NULL) {
				k++;
				break;
			}
			*f++ = '\0';
		}
		if (k == 7 && field[0][0] != '\0' && field[0][0] != '#' &&
		    parse_id(field[2], &uid) && parse_id(field[3], &gid))
			pw_add(pw, field[0], uid, gid, field[5], field[6]);
		free(line);
		p += n + (p[n] == '\n' ? 1 : 0);
	}
	free(text);
sorted:
	index_entries(pw);
	return 0;
}

/* qsort_r's comparisons of two indexes into PW->e */
static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct acct_pw *e = arg;

	return strcmp(e[*(const size_t *)a].name, e[*(const size_t *)b].name);
}

static int cmp_uid(const void *a, const void *b, void *arg)
{
	const struct acct_pw *e = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (e[i].uid != e[j].uid)
		return e[i].uid < e[j].uid ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Sorts the indexes of what was loaded. */
static void index_entries(struct acct_passwd *pw)
{
	pw->by_name = xmalloc((pw->n + 1) * sizeof(*pw->by_name));
	pw->by_uid = xmalloc((pw->n + 1) * sizeof(*pw->by_uid));
	for (size_t i = 0; i < pw->n; i++)
		pw->by_name[i] = pw->by_uid[i] = i;
	qsort_r(pw->by_name, pw->n, sizeof(size_t), cmp_name, pw->e);
	qsort_r(pw->by_uid, pw->n, sizeof(size_t), cmp_uid, pw->e);
	pw->nsorted = pw->n;
}

static const struct acct_pw *find_loaded(const struct acct_passwd *pw,
					 const char *name)
{
	size_t lo = 0, hi = pw->nsorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(pw->e[pw->by_name[mid]].name, name);

		if (c == 0)
			return &pw->e[pw->by_name[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = pw->nsorted; i < pw->n; i++) {
		if (strcmp(pw->e[i].name, name) == 0)
			return &pw->e[i];
	}
	return NULL;
}

const struct acct_pw *acct_passwd_find(struct acct_passwd *pw,
				       const char *name)
{
	const struct acct_pw *found = find_loaded(pw, name);
	struct passwd *e;

	if (found != NULL)
		return found;
	/* LDAP and NIS may not enumerate every user */
	if (!pw->system || (e = getpwnam(name)) == NULL)
		return NULL;
	pw_add(pw, e->pw_name, (long)e->pw_uid, (long)e->pw_gid, e->pw_dir,
	       e->pw_shell);
	return &pw->e[pw->n - 1];
}

const struct acct_pw *acct_passwd_by_uid(const struct acct_passwd *pw,
					 long uid)
{
	size_t lo = 0, hi = pw->nsorted;

	/* the first of the sorted ones with UID (the first in passwd) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pw->e[pw->by_uid[mid]].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pw->nsorted && pw->e[pw->by_uid[lo]].uid == uid)
		return &pw->e[pw->by_uid[lo]];
	for (size_t i = pw->nsorted; i < pw->n; i++) {
		if (pw->e[i].uid == uid)
			return &pw->e[i];
	}
	return NULL;
}

void acct_passwd_free(struct acct_passwd *pw)
{
	for (size_t i = 0; i < pw->n; i++) {
		free(pw->e[i].name);
		free(pw->e[i].home);
		free(pw->e[i].shell);
	}
	free(pw->e);
	free(pw->by_name);
	free(pw->by_uid);
	memset(pw, 0, sizeof(*pw));
}
