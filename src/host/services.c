/* SPDX-License-Identifier: MIT */
/*
 * services.c - start, stop, reload, enable, disable and status of the MTA,
 * the new and the old IMAP server: a table of commands detected for the
 * init system and overridable, run without a shell, confirmed by a probe;
 * UW-IMAP's xinetd/inetd files edited with a backup; the backups of
 * configuration files edited in place (also used for Postfix's main.cf)
 *
 * How the systems start services: systemd when /run/systemd/system
 * exists, else SysV "service" + chkconfig (RHEL) or update-rc.d (Debian);
 * Red Hat ran UW from xinetd ("chkconfig imap off" writes "disable = yes"
 * into /etc/xinetd.d/imap, then xinetd is reloaded), Debian from inetd.
 * Ask "postfix status" (0 = running), not systemd: on Debian
 * postfix.service is a wrapper of postfix@-.service.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "services.h"
#include "run-cmd.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

#define BACKUP_HEADER "# mbox2dovecot backup manifest 1\n"
#define INETD_OFF "#<off># "

/* ---- whole files ---- */

int svc_write_file(const char *path, const char *text, struct m2d_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return m2d_error_sys(err, "lstat", path);
		return sf_write_path(path, text, 0644, -1, -1, err);
	}
	if (!S_ISREG(st.st_mode))
		return m2d_error_set(err, M2D_ERR_UNSAFE, path,
				     _("not a regular file"));
	return sf_write_path(path, text, st.st_mode, (long)st.st_uid,
			     (long)st.st_gid, err);
}

/* ---- backups ---- */

struct bk_entry {
	int existed;
	unsigned int mode;
	long uid, gid;
	char *path;
};

struct bk_set {
	char dir[PATH_MAX];	/* WORK/SUB */
	struct bk_entry *e;
	size_t count;
};

static void bk_free(struct bk_set *b)
{
	size_t i;

	for (i = 0; i < b->count; i++)
		free(b->e[i].path);
	free(b->e);
	b->e = NULL;
	b->count = 0;
}

static void bk_name(char *buf, size_t size, const struct bk_set *b,
		    size_t i, const char *what)
{
	snprintf(buf, size, "%s/%zu.%s", b->dir, i, what);
}

/* Returns 1 read, 0 no manifest, -1 error. */
static int bk_read(const char *work_dir, const char *sub, struct bk_set *b,
		   struct m2d_error *err)
{
	char path[PATH_MAX + 16], *text, *p;
	int r;

	memset(b, 0, sizeof(*b));
	if (snprintf(b->dir, sizeof(b->dir), "%s/%s", work_dir, sub) >=
	    (int)sizeof(b->dir))
		return m2d_error_set(err, M2D_ERR_USAGE, work_dir,
				     _("path too long"));
	snprintf(path, sizeof(path), "%s/manifest", b->dir);
	r = sf_read_text(path, &text, NULL, err);
	if (r <= 0)
		return r;
	for (p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		struct bk_entry e;
		unsigned long idx;
		int off = 0;

		if (*p != '#' &&
		    sscanf(p, "%lu %d %o %ld %ld %n", &idx, &e.existed,
			   &e.mode, &e.uid, &e.gid, &off) == 5 && off > 0 &&
		    (size_t)off < n && idx == b->count) {
			e.path = xstrndup(p + off, n - (size_t)off);
			b->e = xrealloc(b->e, (b->count + 1) * sizeof(*b->e));
			b->e[b->count++] = e;
		} else if (*p != '#' && n > 0) {
			free(text);
			bk_free(b);
			return m2d_error_set(err, M2D_ERR_MALFORMED, path,
					     _("damaged manifest"));
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	free(text);
	return 1;
}

static int bk_save_text(const struct bk_set *b, const char *name,
			const char *text, struct m2d_error *err)
{
	int dirfd, ret;

	dirfd = open(b->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return m2d_error_sys(err, "open", b->dir);
	ret = sf_replace_file(dirfd, name, text, strlen(text), -1, -1,
			      b->dir, err);
	close(dirfd);
	return ret;
}

static int bk_write_manifest(const struct bk_set *b, struct m2d_error *err)
{
	char *text = NULL;
	size_t size = 0, i;
	FILE *f = xopen_memstream(&text, &size);
	int ret;

	fputs(BACKUP_HEADER, f);
	for (i = 0; i < b->count; i++)
		fprintf(f, "%zu %d %04o %ld %ld %s\n", i, b->e[i].existed,
			b->e[i].mode, b->e[i].uid, b->e[i].gid,
			b->e[i].path);
	xmemstream_close(f);
	ret = bk_save_text(b, "manifest", text, err);
	free(text);
	return ret;
}

static long bk_find(const struct bk_set *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->count; i++)
		if (strcmp(b->e[i].path, path) == 0)
			return (long)i;
	return -1;
}

/* Reads entry I's N.WHAT: 1 read, 0 absent, -1 error. */
static int bk_load(const struct bk_set *b, size_t i, const char *what,
		   char **text_r, struct m2d_error *err)
{
	char path[PATH_MAX + 32];

	bk_name(path, sizeof(path), b, i, what);
	return sf_read_text(path, text_r, NULL, err);
}

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int svc_backup_is_ours(const char *work_dir, const char *sub,
		       const char *path, struct m2d_error *err)
{
	struct bk_set b;
	char *live = NULL, *applied = NULL;
	long i;
	int r, ret = -1;

	r = bk_read(work_dir, sub, &b, err);
	if (r <= 0)
		return r;
	i = bk_find(&b, path);
	if (i < 0) {
		ret = 0;
		goto out;
	}
	if (sf_read_text(path, &live, NULL, err) < 0 ||
	    bk_load(&b, (size_t)i, "applied", &applied, err) < 0)
		goto out;
	ret = same(live, applied) ? 1 : 0;
out:
	free(live);
	free(applied);
	bk_free(&b);
	return ret;
}

int svc_backup_save(const char *work_dir, const char *sub, const char *path,
		    struct m2d_error *err)
{
	struct bk_set b;
	struct bk_entry *e;
	char name[32], *live = NULL, *applied = NULL;
	struct stat st;
	long i;
	int r, ret = -1;

	if (mkdir(work_dir, 0700) < 0 && errno != EEXIST)
		return m2d_error_sys(err, "mkdir", work_dir);
	if (bk_read(work_dir, sub, &b, err) < 0)
		return -1;
	if (mkdir(b.dir, 0700) < 0 && errno != EEXIST) {
		m2d_error_sys(err, "mkdir", b.dir);
		goto out;
	}
	r = sf_read_text(path, &live, NULL, err);
	if (r < 0)
		goto out;
	if (r > 0 && lstat(path, &st) < 0) {
		m2d_error_sys(err, "lstat", path);
		goto out;
	}
	i = bk_find(&b, path);
	if (i >= 0) {
		if (bk_load(&b, (size_t)i, "applied", &applied, err) < 0)
			goto out;
		if (same(live, applied)) {
			/* our earlier edit is in place: keep the original */
			ret = 0;
			goto out;
		}
	} else {
		b.e = xrealloc(b.e, (b.count + 1) * sizeof(*b.e));
		i = (long)b.count;
		memset(&b.e[i], 0, sizeof(b.e[i]));
		b.e[i].path = xstrdup(path);
		b.count++;
	}
	e = &b.e[i];
	e->existed = r > 0;
	e->mode = r > 0 ? (unsigned int)(st.st_mode & 07777) : 0644;
	e->uid = r > 0 ? (long)st.st_uid : -1;
	e->gid = r > 0 ? (long)st.st_gid : -1;
	snprintf(name, sizeof(name), "%ld.orig", i);
	if (r > 0 && bk_save_text(&b, name, live, err) < 0)
		goto out;
	/* a stale "applied" of an edit the admin replaced */
	{
		char p[PATH_MAX + 32];

		bk_name(p, sizeof(p), &b, (size_t)i, "applied");
		unlink(p);
	}
	if (bk_write_manifest(&b, err) < 0)
		goto out;
	ret = 1;
out:
	free(live);
	free(applied);
	bk_free(&b);
	return ret;
}

int svc_backup_applied(const char *work_dir, const char *sub,
		       const char *path, struct m2d_error *err)
{
	struct bk_set b;
	char name[32], *live = NULL;
	long i;
	int r, ret = -1;

	r = bk_read(work_dir, sub, &b, err);
	if (r < 0)
		return -1;
	i = bk_find(&b, path);
	if (i < 0) {
		m2d_error_set(err, M2D_ERR_USAGE, path,
			      _("no backup was made before the edit"));
		goto out;
	}
	r = sf_read_text(path, &live, NULL, err);
	if (r <= 0) {
		if (r == 0)
			m2d_error_set(err, M2D_ERR_CHANGED, path,
				      _("missing after the edit"));
		goto out;
	}
	snprintf(name, sizeof(name), "%ld.applied", i);
	ret = bk_save_text(&b, name, live, err);
out:
	free(live);
	bk_free(&b);
	return ret;
}

int svc_backup_undo(const char *work_dir, const char *sub,
		    struct m2d_error *err)
{
	struct bk_set b;
	char path[PATH_MAX + 32], **orig = NULL;
	bool *restore = NULL;
	size_t i;
	int r, ret = -1;

	r = bk_read(work_dir, sub, &b, err);
	if (r <= 0)
		return r;
	orig = xcalloc(b.count + 1, sizeof(*orig));
	restore = xcalloc(b.count + 1, sizeof(*restore));
	/* check every file before touching any */
	for (i = 0; i < b.count; i++) {
		char *live = NULL, *applied = NULL;
		bool is_orig, is_ours;

		if (sf_read_text(b.e[i].path, &live, NULL, err) < 0)
			goto out;
		if (bk_load(&b, i, "applied", &applied, err) < 0 ||
		    (b.e[i].existed &&
		     bk_load(&b, i, "orig", &orig[i], err) <= 0)) {
			if (err->code == M2D_OK) {
				bk_name(path, sizeof(path), &b, i, "orig");
				m2d_error_set(err, M2D_ERR_MALFORMED, path,
					      _("missing"));
			}
			free(live);
			free(applied);
			goto out;
		}
		is_orig = b.e[i].existed ? same(live, orig[i]) : live == NULL;
		is_ours = same(live, applied);
		free(live);
		free(applied);
		if (!is_orig && !is_ours) {
			m2d_error_set(err, M2D_ERR_CHANGED, b.e[i].path,
				      _("changed since mbox2dovecot wrote it: "
					"not undone (the original is in %s)"),
				      b.dir);
			goto out;
		}
		restore[i] = !is_orig;
	}
	for (i = 0; i < b.count; i++) {
		if (!restore[i])
			continue;
		if (b.e[i].existed) {
			if (sf_write_path(b.e[i].path, orig[i], b.e[i].mode,
					  b.e[i].uid, b.e[i].gid, err) < 0)
				goto out;
		} else if (unlink(b.e[i].path) < 0 && errno != ENOENT) {
			m2d_error_sys(err, "unlink", b.e[i].path);
			goto out;
		}
	}
	/* done: forget it */
	for (i = 0; i < b.count; i++) {
		bk_name(path, sizeof(path), &b, i, "orig");
		unlink(path);
		bk_name(path, sizeof(path), &b, i, "applied");
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/manifest", b.dir);
	unlink(path);
	rmdir(b.dir);
	ret = 1;
out:
	if (orig != NULL)
		for (i = 0; i < b.count; i++)
			free(orig[i]);
	free(orig);
	free(restore);
	bk_free(&b);
	return ret;
}

/* ---- UW's launcher files ---- */

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

char *svc_xinetd_set_disable(const char *text, bool disable)
{
	const char *value = disable ? "yes" : "no";
	char *out = NULL;
	size_t size = 0;
	FILE *f = xopen_memstream(&out, &size);
	bool service = false, in_block = false, found = false;
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		const char *q = skip_blank(p);
		bool nl = p[n] == '\n';

		if (!in_block && strncmp(q, "service", 7) == 0 &&
		    isspace((unsigned char)q[7])) {
			service = true;
		} else if (!in_block && *q == '{') {
			in_block = true;
			found = false;
		} else if (in_block && *q == '}') {
			if (service && !found)
				fprintf(f, "\tdisable\t\t= %s\n", value);
			in_block = service = false;
		} else if (in_block && service &&
			   strncmp(q, "disable", 7) == 0 &&
			   *skip_blank(q + 7) == '=') {
			const char *eq = strchr(q, '=');

			fwrite(p, 1, (size_t)(eq - p) + 1, f);
			fprintf(f, " %s%s", value, nl ? "\n" : "");
			found = true;
			p += n + (nl ? 1 : 0);
			continue;
		}
		fwrite(p, 1, n + (nl ? 1 : 0), f);
		p += n + (nl ? 1 : 0);
	}
	xmemstream_close(f);
	return out;
}

static bool is_imap_service(const char *p)
{
	static const char *const names[] = {
		"imap", "imaps", "imap2", "imap3", "imap4", NULL
	};
	size_t n = strcspn(p, " \t\n");
	const char *colon = memchr(p, ':', n);
	int i;

	/* "127.0.0.1:imap" */
	if (colon != NULL) {
		n -= (size_t)(colon + 1 - p);
		p = colon + 1;
	}
	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0)
			return true;
	return false;
}

char *svc_inetd_set_imap(const char *text, bool enable)
{
	char *out = NULL;
	size_t size = 0, off_len = strlen(INETD_OFF);
	FILE *f = xopen_memstream(&out, &size);
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		bool nl = p[n] == '\n';

		if (enable && strncmp(p, INETD_OFF, off_len) == 0 &&
		    is_imap_service(p + off_len)) {
			fwrite(p + off_len, 1, n - off_len, f);
		} else {
			if (!enable && *p != '#' && is_imap_service(p))
				fputs(INETD_OFF, f);
			fwrite(p, 1, n, f);
		}
		if (nl)
			putc('\n', f);
		p += n + (nl ? 1 : 0);
	}
	xmemstream_close(f);
	return out;
}

/* ---- detection and the table ---- */

static void root_path(char *buf, size_t size, const char *root,
		      const char *path)
{
	size_t len = root != NULL ? strlen(root) : 0;

	while (len > 0 && root[len - 1] == '/')
		len--;
	snprintf(buf, size, "%.*s%s", (int)len, len > 0 ? root : "", path);
}

static bool exists_below(const char *root, const char *path)
{
	char buf[PATH_MAX];

	root_path(buf, sizeof(buf), root, path);
	return access(buf, F_OK) == 0;
}

static bool inetd_has_imap(const char *root)
{
	char path[PATH_MAX], *text, *p;
	struct m2d_error err;
	bool found = false;

	root_path(path, sizeof(path), root, "/etc/inetd.conf");
	if (sf_read_text(path, &text, NULL, &err) <= 0)
		return false;
	for (p = text; *p != '\0' && !found;) {
		size_t n = strcspn(p, "\n");
		const char *q = p;

		if (strncmp(q, INETD_OFF, strlen(INETD_OFF)) == 0)
			q += strlen(INETD_OFF);
		found = *q != '#' && is_imap_service(q);
		p += n + (p[n] == '\n' ? 1 : 0);
	}
	free(text);
	return found;
}

void svc_detect(const char *root, struct svc_env *env_r)
{
	memset(env_r, 0, sizeof(*env_r));
	if (exists_below(root, "/run/systemd/system"))
		env_r->init = SVC_INIT_SYSTEMD;
	else if (exists_below(root, "/usr/sbin/service") ||
		 exists_below(root, "/sbin/service") ||
		 exists_below(root, "/etc/init.d"))
		env_r->init = SVC_INIT_SYSV;
	env_r->chkconfig = exists_below(root, "/sbin/chkconfig") ||
		exists_below(root, "/usr/sbin/chkconfig");
	if (exists_below(root, "/etc/xinetd.d/imap") ||
	    exists_below(root, "/etc/xinetd.d/imaps"))
		env_r->launcher = SVC_LAUNCH_XINETD;
	else if (inetd_has_imap(root))
		env_r->launcher = SVC_LAUNCH_INETD;
	if (exists_below(root, "/etc/init.d/openbsd-inetd"))
		env_r->inetd_service = "openbsd-inetd";
	else if (exists_below(root, "/etc/init.d/inetutils-inetd"))
		env_r->inetd_service = "inetutils-inetd";
	else
		env_r->inetd_service = "inetd";
}

const char *svc_role_name(enum svc_role role)
{
	static const char *const names[] = { "mta", "imap-new", "imap-old" };

	return (unsigned int)role < SVC_ROLE_COUNT ? names[role] : "?";
}

const char *svc_action_name(enum svc_action action)
{
	static const char *const names[] = {
		"start", "stop", "reload", "enable", "disable", "status"
	};

	return (unsigned int)action < SVC_ACTION_COUNT ? names[action] : "?";
}

/* The command of ACTION for service NAME under ENV (NULL = none). */
static char *default_cmd(const struct svc_env *env, const char *name,
			 enum svc_action action)
{
	static const char *const verbs[] = {
		"start", "stop", "reload", NULL, NULL, NULL
	};

	switch (env->init) {
	case SVC_INIT_SYSTEMD:
		if (action == SVC_STATUS)
			return xasprintf("systemctl is-active %s", name);
		return xasprintf("systemctl %s %s", svc_action_name(action),
				 name);
	case SVC_INIT_SYSV:
		if (verbs[action] != NULL)
			return xasprintf("service %s %s", name, verbs[action]);
		if (action == SVC_STATUS)
			return xasprintf("service %s status", name);
		if (env->chkconfig)
			return xasprintf("chkconfig %s %s", name,
					 action == SVC_ENABLE ? "on" : "off");
		return xasprintf("update-rc.d %s %s", name,
				 action == SVC_ENABLE ? "enable" : "disable");
	case SVC_INIT_NONE:
		break;
	}
	return NULL;
}

/* *DST becomes a copy of SRC; NULL or "" makes it NULL. */
static void set_str(char **dst, const char *src)
{
	char *s = src != NULL && src[0] != '\0' ? xstrdup(src) : NULL;

	free(*dst);
	*dst = s;
}

void svc_table_init(struct svc_table *t, const struct svc_env *env,
		    const char *root)
{
	static const char *const names[SVC_ROLE_COUNT] = {
		"postfix", "dovecot", "imap"
	};
	const char *inetd = env->inetd_service != NULL ?
		env->inetd_service : "inetd";
	int r, a;

	memset(t, 0, sizeof(*t));
	t->env = *env;
	t->probe_timeout = 10;
	t->root = xstrdup(root);	/* NULL: "" */
	t->xinetd_files[0] = xstrdup("imap");
	t->xinetd_files[1] = xstrdup("imaps");
	for (r = 0; r < SVC_ROLE_COUNT; r++) {
		t->role[r].name = xstrdup(names[r]);
		if (r == SVC_ROLE_IMAP_OLD &&
		    env->launcher != SVC_LAUNCH_NONE) {
			/* the file edit + the launcher's reload */
			const char *svc = env->launcher == SVC_LAUNCH_XINETD ?
				"xinetd" : inetd;

			t->role[r].cmd[SVC_RELOAD] =
				default_cmd(env, svc, SVC_RELOAD);
			continue;
		}
		for (a = 0; a < SVC_ACTION_COUNT; a++)
			t->role[r].cmd[a] = default_cmd(env, names[r],
							(enum svc_action)a);
	}
	/* without an init system: the programs' own commands */
	if (env->init == SVC_INIT_NONE) {
		struct svc_role_conf *mta = &t->role[SVC_ROLE_MTA];
		struct svc_role_conf *imap = &t->role[SVC_ROLE_IMAP_NEW];

		mta->cmd[SVC_START] = xstrdup("postfix start");
		mta->cmd[SVC_STOP] = xstrdup("postfix stop");
		mta->cmd[SVC_RELOAD] = xstrdup("postfix reload");
		imap->cmd[SVC_START] = xstrdup("dovecot");
		imap->cmd[SVC_STOP] = xstrdup("doveadm stop");
		imap->cmd[SVC_RELOAD] = xstrdup("doveadm reload");
	}
	/* ask "postfix status", not systemd: Debian's postfix.service is a
	 * oneshot wrapper that stays "active" with Postfix stopped */
	free(t->role[SVC_ROLE_MTA].cmd[SVC_STATUS]);
	t->role[SVC_ROLE_MTA].cmd[SVC_STATUS] = xstrdup("postfix status");
	t->role[SVC_ROLE_MTA].probe.kind = SVC_PROBE_COMMAND;
	t->role[SVC_ROLE_MTA].probe.command = xstrdup("postfix status");
	for (r = SVC_ROLE_IMAP_NEW; r <= SVC_ROLE_IMAP_OLD; r++) {
		t->role[r].probe.kind = SVC_PROBE_TCP;
		t->role[r].probe.address = xstrdup("127.0.0.1");
		t->role[r].probe.port = 143;
	}
}

void svc_table_free(struct svc_table *t)
{
	int r, a;

	free(t->root);
	for (a = 0; a < 4; a++)
		free(t->xinetd_files[a]);
	for (r = 0; r < SVC_ROLE_COUNT; r++) {
		free(t->role[r].name);
		for (a = 0; a < SVC_ACTION_COUNT; a++)
			free(t->role[r].cmd[a]);
		free(t->role[r].probe.address);
		free(t->role[r].probe.command);
	}
	memset(t, 0, sizeof(*t));
}

static int check_role(enum svc_role role, struct m2d_error *err)
{
	if ((unsigned int)role >= SVC_ROLE_COUNT)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("unknown service role"));
	return 0;
}

int svc_set_command(struct svc_table *t, enum svc_role role,
		    enum svc_action action, const char *cmdline,
		    struct m2d_error *err)
{
	if (check_role(role, err) < 0)
		return -1;
	if ((unsigned int)action >= SVC_ACTION_COUNT)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("unknown service action"));
	set_str(&t->role[role].cmd[action], cmdline);
	return 0;
}

int svc_set_probe_tcp(struct svc_table *t, enum svc_role role,
		      const char *address, unsigned int port,
		      struct m2d_error *err)
{
	struct svc_probe *p;

	if (check_role(role, err) < 0)
		return -1;
	if (port == 0 || port > 65535 || address == NULL || *address == '\0')
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("a TCP probe needs an address and a "
				       "port (1-65535)"));
	p = &t->role[role].probe;
	set_str(&p->address, address);
	free(p->command);
	p->command = NULL;
	p->port = port;
	p->kind = SVC_PROBE_TCP;
	return 0;
}

int svc_set_probe_command(struct svc_table *t, enum svc_role role,
			  const char *cmdline, struct m2d_error *err)
{
	struct svc_probe *p;

	if (check_role(role, err) < 0)
		return -1;
	if (cmdline == NULL || *cmdline == '\0')
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("an empty probe command"));
	p = &t->role[role].probe;
	set_str(&p->command, cmdline);
	free(p->address);
	p->address = NULL;
	p->port = 0;
	p->kind = SVC_PROBE_COMMAND;
	return 0;
}

void svc_set_probe_none(struct svc_table *t, enum svc_role role)
{
	struct svc_probe *p;

	if ((unsigned int)role >= SVC_ROLE_COUNT)
		return;
	p = &t->role[role].probe;
	free(p->address);
	free(p->command);
	memset(p, 0, sizeof(*p));
}

/* ---- probes ---- */

/* 1 accepted, 0 refused or no answer within a second, -1 error. */
static int probe_tcp(const char *address, unsigned int port,
		     struct m2d_error *err)
{
	struct addrinfo hints, *ai = NULL, *a;
	char service[16];
	int ret = 0, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(address, service, &hints, &ai);
	if (r != 0)
		return m2d_error_set(err, M2D_ERR_USAGE, address,
				     _("cannot resolve the probe's address: "
				       "%s"), gai_strerror(r));
	for (a = ai; a != NULL && ret == 0; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC |
				SOCK_NONBLOCK, a->ai_protocol);
		struct pollfd pfd;
		socklen_t len = sizeof(r);

		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			ret = 1;
		} else if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &r,
				       &len) == 0 && r == 0)
				ret = 1;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return ret;
}

static int probe_command(const char *cmdline, struct m2d_error *err)
{
	struct run_output out;
	char **argv = run_cmd_argv(cmdline, NULL);
	int ret;

	if (argv[0] == NULL) {
		free(argv);
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("an empty probe command"));
	}
	ret = run_cmd(argv, &out, err);
	free(argv);
	if (ret < 0)
		return -1;
	ret = out.status == 0 ? 1 : 0;
	run_output_free(&out);
	return ret;
}

int svc_probe(const struct svc_table *t, enum svc_role role,
	      struct m2d_error *err)
{
	const struct svc_probe *p;

	if (check_role(role, err) < 0)
		return -1;
	p = &t->role[role].probe;
	switch (p->kind) {
	case SVC_PROBE_TCP:
		return probe_tcp(p->address, p->port, err);
	case SVC_PROBE_COMMAND:
		return probe_command(p->command, err);
	case SVC_PROBE_NONE:
		break;
	}
	return m2d_error_set(err, M2D_ERR_USAGE, NULL,
			     _("no probe for %s"), t->role[role].name);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits until the probe says WANT: 0 seen, 1 not within the timeout,
 * -1 error. */
static int probe_wait(const struct svc_table *t, enum svc_role role,
		      int want, struct m2d_error *err)
{
	struct timespec start, now;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = svc_probe(t, role, err);
		if (r < 0)
			return -1;
		if (r == want)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)t->probe_timeout)
			return 1;
		sleep_ms(100);
	}
}

/* ---- running ---- */

static void describe_probe(FILE *f, const struct svc_probe *p, int want)
{
	if (p->kind == SVC_PROBE_TCP)
		fprintf(f, want ? _("probe: connect to %s:%u (must answer)\n") :
			_("probe: connect to %s:%u (must be refused)\n"),
			p->address, p->port);
	else if (p->kind == SVC_PROBE_COMMAND)
		fprintf(f, want ? _("probe: %s (must exit 0)\n") :
			_("probe: %s (must exit non-zero)\n"), p->command);
}

static int run_line(const char *cmdline, FILE *text, bool dry_run,
		    int *status_r, struct m2d_error *err)
{
	struct run_output out;
	char **argv = run_cmd_argv(cmdline, NULL);
	size_t i;
	int ret = 0;

	if (argv[0] == NULL) {
		free(argv);
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("an empty command"));
	}
	for (i = 0; argv[i] != NULL; i++)
		fprintf(text, "%s%s", i > 0 ? " " : "", argv[i]);
	putc('\n', text);
	if (dry_run) {
		free(argv);
		return 0;
	}
	if (run_cmd(argv, &out, err) < 0) {
		free(argv);
		return -1;
	}
	if (status_r != NULL) {
		*status_r = out.status;
	} else if (out.status != 0) {
		char *msg = out.err[0] != '\0' ? out.err : out.out;
		size_t len = strlen(msg);

		while (len > 0 && msg[len - 1] == '\n')
			msg[--len] = '\0';
		ret = m2d_error_set(err, M2D_ERR_USAGE, argv[0],
				    _("\"%s\" failed (exit %d): %.300s"),
				    cmdline, out.status, msg);
	}
	run_output_free(&out);
	free(argv);
	return ret;
}

/* Edits UW's launcher files: disable (stop) or enable (start). */
static int edit_launcher(const struct svc_table *t, bool enable, FILE *text,
			 const struct svc_run_opts *opts,
			 struct m2d_error *err)
{
	char path[PATH_MAX], *old = NULL, *new = NULL;
	const char *files[5];
	int i, n = 0, found = 0, r, ret = 0;

	if (t->env.launcher == SVC_LAUNCH_XINETD) {
		for (i = 0; i < 4; i++)
			if (t->xinetd_files[i] != NULL)
				files[n++] = t->xinetd_files[i];
	} else {
		files[n++] = NULL;
	}
	for (i = 0; i < n && ret == 0; i++) {
		if (files[i] != NULL) {
			char rel[PATH_MAX];

			snprintf(rel, sizeof(rel), "/etc/xinetd.d/%s",
				 files[i]);
			root_path(path, sizeof(path), t->root, rel);
		} else {
			root_path(path, sizeof(path), t->root,
				  "/etc/inetd.conf");
		}
		r = sf_read_text(path, &old, NULL, err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		found++;
		new = files[i] != NULL ? svc_xinetd_set_disable(old, !enable) :
			svc_inetd_set_imap(old, enable);
		if (files[i] != NULL)
			fprintf(text, _("edit %s: disable = %s\n"), path,
				enable ? "no" : "yes");
		else
			fprintf(text, enable ?
				_("edit %s: uncomment the imap lines\n") :
				_("edit %s: comment out the imap lines\n"),
				path);
		if (!opts->dry_run && strcmp(old, new) != 0) {
			if (opts->work_dir == NULL)
				ret = m2d_error_set(err, M2D_ERR_USAGE, path,
						    _("no work directory for "
						      "the backup"));
			else if (svc_backup_save(opts->work_dir, "services",
						 path, err) < 0 ||
				 svc_write_file(path, new, err) < 0 ||
				 svc_backup_applied(opts->work_dir, "services",
						    path, err) < 0)
				ret = -1;
		}
		free(old);
		free(new);
		old = new = NULL;
	}
	if (ret == 0 && found == 0)
		ret = m2d_error_set(err, M2D_ERR_USAGE, t->root,
				    t->env.launcher == SVC_LAUNCH_XINETD ?
				    _("no xinetd service file for imap") :
				    _("no inetd.conf"));
	return ret;
}

int svc_run(const struct svc_table *t, enum svc_role role,
	    enum svc_action action, const struct svc_run_opts *opts,
	    char **text_r, struct m2d_error *err)
{
	static const struct svc_run_opts no_opts = { false, NULL };
	const struct svc_role_conf *rc;
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	bool launcher, edit;
	int want = -1, status = 0, ret = 0;

	if (text_r != NULL)
		*text_r = NULL;
	if (opts == NULL)
		opts = &no_opts;
	if (check_role(role, err) < 0)
		return -1;
	if ((unsigned int)action >= SVC_ACTION_COUNT)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("unknown service action"));
	rc = &t->role[role];
	launcher = role == SVC_ROLE_IMAP_OLD &&
		t->env.launcher != SVC_LAUNCH_NONE;
	/* UW under xinetd/inetd: start/stop/enable/disable are the file
	 * edit and the launcher's reload, unless a command is configured */
	edit = launcher && rc->cmd[action] == NULL && action != SVC_RELOAD &&
		action != SVC_STATUS;
	if (!edit && rc->cmd[action] == NULL &&
	    !(action == SVC_STATUS && rc->probe.kind != SVC_PROBE_NONE))
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no command to %s %s: set one in the "
				       "configuration"),
				     svc_action_name(action), rc->name);
	f = xopen_memstream(&text, &size);
	switch (action) {
	case SVC_START:
		want = 1;
		break;
	case SVC_STOP:
		want = 0;
		break;
	case SVC_RELOAD:
		want = 1;
		break;
	case SVC_ENABLE:
	case SVC_DISABLE:
		/* only the launcher's edit changes what runs now */
		want = edit ? action == SVC_ENABLE : -1;
		break;
	case SVC_STATUS:
	case SVC_ACTION_COUNT:
		break;
	}
	if (edit) {
		ret = edit_launcher(t, action == SVC_START ||
				    action == SVC_ENABLE, f, opts, err);
		if (ret == 0 && rc->cmd[SVC_RELOAD] != NULL)
			ret = run_line(rc->cmd[SVC_RELOAD], f, opts->dry_run,
				       NULL, err);
	} else if (action == SVC_STATUS) {
		if (rc->probe.kind == SVC_PROBE_NONE)
			ret = run_line(rc->cmd[action], f, opts->dry_run,
				       &status, err);
		else
			describe_probe(f, &rc->probe, 1);
	} else {
		ret = run_line(rc->cmd[action], f, opts->dry_run, NULL, err);
	}
	if (ret == 0 && want >= 0 && rc->probe.kind != SVC_PROBE_NONE) {
		describe_probe(f, &rc->probe, want);
		ret = opts->dry_run ? 0 : probe_wait(t, role, want, err);
		if (ret > 0)
			ret = m2d_error_set(err, M2D_ERR_USAGE, NULL, want ?
					    _("%s does not run after %s (the "
					      "probe saw it down for %u "
					      "seconds)") :
					    _("%s still runs after %s (the "
					      "probe saw it up for %u "
					      "seconds)"), rc->name,
					    svc_action_name(action),
					    t->probe_timeout);
	}
	xmemstream_close(f);
	if (ret == 0 && action == SVC_STATUS && !opts->dry_run) {
		if (rc->probe.kind == SVC_PROBE_NONE)
			ret = status == 0 ? 1 : 0;
		else
			ret = svc_probe(t, role, err);
	}
	if (text_r != NULL)
		*text_r = text;
	else
		free(text);
	return ret;
}

int svc_undo(const char *work_dir, struct m2d_error *err)
{
	return svc_backup_undo(work_dir, "services", err);
}

/* ---- from mbox2dovecot.conf ---- */

/* "tcp:ADDR:PORT", "command:CMD", "none" (checked by the config). */
static int set_probe(struct svc_table *table, enum svc_role role,
		     const char *probe, struct m2d_error *err)
{
	if (strcmp(probe, "none") == 0) {
		svc_set_probe_none(table, role);
		return 0;
	}
	if (strncmp(probe, "command:", 8) == 0)
		return svc_set_probe_command(table, role, probe + 8, err);
	if (strncmp(probe, "tcp:", 4) == 0) {
		const char *colon = strrchr(probe + 4, ':');
		char addr[256];

		if (colon == NULL)
			return m2d_error_set(err, M2D_ERR_USAGE, NULL,
					     _("unknown probe \"%s\""), probe);
		snprintf(addr, sizeof(addr), "%.*s",
			 (int)(colon - (probe + 4)), probe + 4);
		return svc_set_probe_tcp(table, role, addr,
					 (unsigned int)atoi(colon + 1), err);
	}
	return m2d_error_set(err, M2D_ERR_USAGE, NULL,
			     _("unknown probe \"%s\""), probe);
}

int svc_table_from_config(const struct m2d_config *cfg,
			  struct svc_table *table, struct m2d_error *err)
{
	static const enum svc_role roles[M2D_SVC_ROLES] = {
		SVC_ROLE_MTA, SVC_ROLE_IMAP_NEW, SVC_ROLE_IMAP_OLD,
	};
	struct svc_env env;

	svc_detect(cfg->services_root, &env);
	svc_table_init(table, &env, cfg->services_root);

	for (int r = 0; r < M2D_SVC_ROLES; r++) {
		const struct m2d_service_conf *sc = &cfg->service[r];

		for (int a = 0; a < M2D_SVC_ACTIONS; a++) {
			if (sc->cmd[a] == NULL)
				continue;
			if (svc_set_command(table, roles[r],
					    (enum svc_action)a, sc->cmd[a],
					    err) < 0)
				goto fail;
		}
		if (sc->probe != NULL &&
		    set_probe(table, roles[r], sc->probe, err) < 0)
			goto fail;
	}
	return 0;
fail:
	svc_table_free(table);
	return -1;
}
