/* SPDX-License-Identifier: MIT */
/*
 * dovecot-conf-edit.c - our settings put into Dovecot's configuration as
 * one removable unit: planned as data (old text, new text, diff),
 * validated by the real doveconf on a copy of the whole tree, applied by
 * temp + rename with a backup and a manifest in the work directory, undone
 * byte for byte
 *
 * WORK/dovecot-conf/ holds:
 *   manifest   "live=PATH", "existed=0|1", "mode=", "uid=", "gid="
 *   original   the live file's bytes before the first apply (if it existed)
 *   applied    the bytes the last apply wrote
 * A second apply while the manifest exists (test listener, then the normal
 * ports) keeps the original as long as the live file is still what we
 * wrote, so undo goes back to the configuration as it was before us; if the
 * admin changed the file in between, the changed file becomes the original.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dovecot-conf.h"
#include "run-cmd.h"
#include "safe-file.h"
#include "i18n.h"
#include "xalloc.h"

#define WORK_SUBDIR "dovecot-conf"
#define MANIFEST_HEADER "# mbox2dovecot dovecot-conf manifest 1\n"

/* ---- the unit in a single file ---- */

/* The line starting at P is exactly MARKER (then newline or end). */
static bool line_is(const char *p, const char *marker)
{
	size_t n = strlen(marker);

	return strncmp(p, marker, n) == 0 &&
		(p[n] == '\n' || p[n] == '\0');
}

char *dc_strip_block(const char *text)
{
	const char *p = text, *begin = NULL, *end = NULL;
	char *out;
	size_t head;

	/* the LAST begin marker, and the end marker after it */
	while (*p != '\0') {
		if (line_is(p, DC_BLOCK_BEGIN))
			begin = p;
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
	}
	if (begin != NULL) {
		for (p = begin; *p != '\0';) {
			if (line_is(p, DC_BLOCK_END)) {
				end = p + strcspn(p, "\n");
				if (*end == '\n')
					end++;
				break;
			}
			p += strcspn(p, "\n");
			if (*p == '\n')
				p++;
		}
	}
	if (begin == NULL || end == NULL)
		return xstrdup(text);
	head = (size_t)(begin - text);
	out = xmalloc(head + strlen(end) + 1);
	memcpy(out, text, head);
	strcpy(out + head, end);
	return out;
}

/* ---- a unified diff of one changed region ---- */

struct lines {
	const char **start;
	size_t *len;
	size_t n;
};

static void split_lines(const char *text, struct lines *l)
{
	size_t n = 0, i = 0;
	const char *p;

	for (p = text; *p != '\0'; p++)
		n += *p == '\n';
	n++;
	l->start = xmalloc(n * sizeof(*l->start));
	l->len = xmalloc(n * sizeof(*l->len));
	for (p = text; *p != '\0';) {
		size_t k = strcspn(p, "\n");

		if (p[k] == '\n')
			k++;
		l->start[i] = p;
		l->len[i] = k;
		i++;
		p += k;
	}
	l->n = i;
}

static void emit_line(FILE *f, char tag, const struct lines *l, size_t i)
{
	fputc(tag, f);
	fwrite(l->start[i], 1, l->len[i], f);
	if (l->len[i] == 0 || l->start[i][l->len[i] - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", f);
}

static void hunk_range(FILE *f, char sign, size_t start, size_t count)
{
	/* an empty range names the line before it (0 for an empty file) */
	if (count == 0)
		fprintf(f, " %c%zu,0", sign, start);
	else if (count == 1)
		fprintf(f, " %c%zu", sign, start + 1);
	else
		fprintf(f, " %c%zu,%zu", sign, start + 1, count);
}

char *dc_unified_diff(const char *old_name, const char *old_text,
		      const char *new_name, const char *new_text)
{
	struct lines a = { NULL, NULL, 0 }, b = { NULL, NULL, 0 };
	size_t pre = 0, suf = 0, ctx_a, ctx_b, i, s;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	if (strcmp(old_text, new_text) == 0)
		return xstrdup("");
	split_lines(old_text, &a);
	split_lines(new_text, &b);
	while (pre < a.n && pre < b.n && a.len[pre] == b.len[pre] &&
	       memcmp(a.start[pre], b.start[pre], a.len[pre]) == 0)
		pre++;
	while (suf < a.n - pre && suf < b.n - pre &&
	       a.len[a.n - 1 - suf] == b.len[b.n - 1 - suf] &&
	       memcmp(a.start[a.n - 1 - suf], b.start[b.n - 1 - suf],
		      a.len[a.n - 1 - suf]) == 0)
		suf++;
	ctx_a = pre < 3 ? pre : 3;
	ctx_b = suf < 3 ? suf : 3;
	f = xopen_memstream(&buf, &size);
	fprintf(f, "--- %s\n+++ %s\n@@", old_name, new_name);
	s = pre - ctx_a;
	hunk_range(f, '-', s, a.n - pre - suf + ctx_a + ctx_b);
	hunk_range(f, '+', s, b.n - pre - suf + ctx_a + ctx_b);
	fputs(" @@\n", f);
	for (i = s; i < pre; i++)
		emit_line(f, ' ', &a, i);
	for (i = pre; i < a.n - suf; i++)
		emit_line(f, '-', &a, i);
	for (i = pre; i < b.n - suf; i++)
		emit_line(f, '+', &b, i);
	for (i = a.n - suf; i < a.n - suf + ctx_b; i++)
		emit_line(f, ' ', &a, i);
	xmemstream_close(f);
	free(a.start);
	free(a.len);
	free(b.start);
	free(b.len);
	return buf;
}

/* ---- planning ---- */

void dc_edit_free(struct dc_edit *edit)
{
	dc_layout_info_free(&edit->layout);
	free(edit->live_path);
	free(edit->old_text);
	free(edit->new_text);
	free(edit->diff);
	free(edit->expect_mail_location);
	free(edit->expect_mail_path);
	free(edit->expect_protocols);
	memset(edit, 0, sizeof(*edit));
}

static char *block_text(const char *base, const char *body)
{
	size_t blen = strlen(base);

	return xasprintf("%s%s%s\n%s%s\n", base,
			 blen > 0 && base[blen - 1] != '\n' ? "\n" : "",
			 DC_BLOCK_BEGIN, body, DC_BLOCK_END);
}

/* The value "doveconf -h mail_location" prints for our body. */
static char *body_value(const char *body, const char *key)
{
	size_t n = strlen(key);
	const char *p;

	for (p = body; *p != '\0';) {
		if (strncmp(p, key, n) == 0 && strncmp(p + n, " = ", 3) == 0)
			return xstrndup(p + n + 3, strcspn(p + n + 3, "\n"));
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
	}
	return NULL;
}

/* The protocols our unit in TEXT recorded as the admin's, or NULL (no
 * unit of ours, or one written before we recorded them). */
static char *recorded_protocols(const char *text)
{
	size_t n = strlen(DC_PROTOCOLS_BEFORE);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, DC_PROTOCOLS_BEFORE, n) == 0)
			return xstrndup(p + n, strcspn(p + n, "\n"));
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
	}
	return NULL;
}

int dc_edit_plan(const char *conf_path, enum dc_syntax syntax,
		 const struct dc_settings *settings, struct dc_edit *edit_r,
		 struct m2d_error *err)
{
	char *body = NULL, *base = NULL, *old_name = NULL, *before;
	struct dc_settings s = *settings;
	int r;

	memset(edit_r, 0, sizeof(*edit_r));
	edit_r->syntax = syntax;
	if (dc_detect_layout(conf_path, &edit_r->layout, err) < 0)
		return -1;
	edit_r->live_path = xstrdup(edit_r->layout.unit_path);
	r = sf_read_text(edit_r->live_path, &edit_r->old_text, NULL, err);
	if (r < 0)
		goto fail;
	edit_r->live_existed = r > 0;
	if (r == 0)
		edit_r->old_text = xstrdup("");
	/* our unit in place: doveconf shows its protocols, the admin's are
	 * the ones it recorded */
	before = recorded_protocols(edit_r->old_text);
	if (before != NULL)
		s.current_protocols = before;
	body = dc_generate(syntax, &s, err);
	free(before);
	if (body == NULL)
		goto fail;
	if (edit_r->layout.layout == DC_LAYOUT_CONFD) {
		edit_r->new_text = xstrdup(body);
	} else {
		base = dc_strip_block(edit_r->old_text);
		edit_r->new_text = block_text(base, body);
	}
	old_name = edit_r->live_existed ? edit_r->live_path : "/dev/null";
	edit_r->diff = dc_unified_diff(old_name, edit_r->old_text,
				       edit_r->live_path, edit_r->new_text);
	if (syntax == DC_SYNTAX_2 || syntax == DC_SYNTAX_2_4) {
		/* what the installed doveconf must read back ("-h" and the
		 * service/.../port path work alike in 2.4.1) */
		if (syntax == DC_SYNTAX_2)
			edit_r->expect_mail_location =
				body_value(body, "mail_location");
		else
			edit_r->expect_mail_path = body_value(body,
							      "mail_path");
		edit_r->expect_protocols = body_value(body, "protocols");
		edit_r->expect_imap_port =
			s.listen == DC_LISTEN_TEST ? s.test_port : s.imap_port;
	}
	free(body);
	free(base);
	return 0;
fail:
	free(body);
	free(base);
	dc_edit_free(edit_r);
	return -1;
}

/* ---- validating on a copy ---- */

/* Byte for byte, mode 0600 (keys live in the tree too). */
static int copy_file(const char *src, const char *dst, struct m2d_error *err)
{
	char buf[8192];
	int in, out, ret = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return m2d_error_sys(err, "open", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		   0600);
	if (out < 0) {
		close(in);
		return m2d_error_sys(err, "open", dst);
	}
	while (ret == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = m2d_error_sys(err, "read", src);
		else
			ret = sf_write_all(out, buf, (size_t)n, dst, err);
	}
	close(in);
	if (close(out) < 0 && ret == 0)
		ret = m2d_error_sys(err, "close", dst);
	return ret;
}

static int copy_tree(const char *from, const char *to, struct m2d_error *err)
{
	char src[PATH_MAX], dst[PATH_MAX], link[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int ret = 0;

	dir = opendir(from);
	if (dir == NULL)
		return m2d_error_sys(err, "opendir", from);
	while (ret == 0 && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, d->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, d->d_name);
		if (lstat(src, &st) < 0) {
			ret = m2d_error_sys(err, "lstat", src);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, 0700) < 0)
				ret = m2d_error_sys(err, "mkdir", dst);
			else
				ret = copy_tree(src, dst, err);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(src, link, sizeof(link) - 1);

			if (n < 0)
				ret = m2d_error_sys(err, "readlink", src);
			link[n < 0 ? 0 : n] = '\0';
			if (ret == 0 && symlink(link, dst) < 0)
				ret = m2d_error_sys(err, "symlink", dst);
		} else if (S_ISREG(st.st_mode)) {
			ret = copy_file(src, dst, err);
		}
	}
	closedir(dir);
	return ret;
}

/* "doveconf: Fatal: Error in configuration file F line N: MSG" -> ERR,
 * with F mapped from the copy back to the live tree. */
static void doveconf_error(const char *stderr_text, const char *copy_dir,
			   const char *live_dir, int status,
			   struct m2d_error *err)
{
	static const char marker[] = "Error in configuration file ";
	const char *p = strstr(stderr_text, marker), *line_p, *msg;
	char file[PATH_MAX], live[PATH_MAX];
	unsigned long line;
	size_t n, clen = strlen(copy_dir);

	if (p == NULL || (line_p = strstr(p, " line ")) == NULL) {
		n = strcspn(stderr_text, "\n");
		m2d_error_set(err, M2D_ERR_USAGE, NULL,
			      _("doveconf rejected the edit (exit %d): %.*s"),
			      status, (int)(n > 300 ? 300 : n), stderr_text);
		return;
	}
	p += sizeof(marker) - 1;
	n = (size_t)(line_p - p);
	snprintf(file, sizeof(file), "%.*s", (int)n, p);
	if (strncmp(file, copy_dir, clen) == 0 && file[clen] == '/')
		snprintf(live, sizeof(live), "%s%s", live_dir, file + clen);
	else
		snprintf(live, sizeof(live), "%s", file);
	line = strtoul(line_p + 6, NULL, 10);
	msg = strchr(line_p + 6, ':');
	msg = msg != NULL ? msg + 1 : "";
	while (*msg == ' ')
		msg++;
	n = strcspn(msg, "\n");
	m2d_error_set(err, M2D_ERR_USAGE, live,
		      _("doveconf rejected the edit: %.*s"),
		      (int)(n > 300 ? 300 : n), msg);
	m2d_error_at(err, -1, line);
}

static int expect(const struct dc_tools *tools, const char *conf,
		  const char *key, const char *want, const char *live,
		  struct m2d_error *err)
{
	char *got;
	int ret = 0;

	if (dc_read_setting(tools, conf, key, &got, err) < 0)
		return -1;
	if (strcmp(got, want) != 0)
		ret = m2d_error_set(err, M2D_ERR_USAGE, live,
				    _("after the edit %s is \"%.100s\", not "
				      "ours (\"%.100s\"): a file read later "
				      "(local.conf?) overrides it"),
				    key, got, want);
	free(got);
	return ret;
}

int dc_validate(const struct dc_tools *tools, const struct dc_edit *edit,
		struct m2d_error *err)
{
	const struct dc_layout_info *l = &edit->layout;
	char tmpl[] = "/tmp/m2d-dcconf-XXXXXX", conf[PATH_MAX];
	char unit[PATH_MAX], port[16];
	const char *extra[] = { "-c", conf, "-n", NULL };
	size_t dlen = strlen(l->conf_dir);
	struct run_output out;
	char **argv = NULL;
	int fd, ret = -1;

	if (mkdtemp(tmpl) == NULL)
		return m2d_error_sys(err, "mkdtemp", tmpl);
	if (copy_tree(l->conf_dir, tmpl, err) < 0)
		goto out;
	/* the same files, below the copy */
	snprintf(conf, sizeof(conf), "%s%s", tmpl,
		 l->conf_path + (strncmp(l->conf_path, l->conf_dir, dlen) ==
				 0 ? dlen : 0));
	if (strncmp(edit->live_path, l->conf_dir, dlen) != 0) {
		m2d_error_set(err, M2D_ERR_USAGE, edit->live_path,
			      _("not below the configuration directory"));
		goto out;
	}
	snprintf(unit, sizeof(unit), "%s%s", tmpl, edit->live_path + dlen);
	if (strcmp(l->conf_dir, ".") == 0) {
		snprintf(conf, sizeof(conf), "%s/%s", tmpl, l->conf_path);
		snprintf(unit, sizeof(unit), "%s/%s", tmpl, edit->live_path);
	}
	unlink(unit);
	fd = open(unit, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		m2d_error_sys(err, "open", unit);
		goto out;
	}
	if (sf_write_all(fd, edit->new_text, strlen(edit->new_text), unit,
			 err) < 0) {
		close(fd);
		goto out;
	}
	close(fd);

	argv = run_cmd_argv(tools != NULL && tools->doveconf != NULL ?
			    tools->doveconf : "doveconf", extra);
	if (run_cmd(argv, &out, err) < 0)
		goto out;
	if (out.status != 0) {
		doveconf_error(out.err, tmpl, l->conf_dir, out.status, err);
		run_output_free(&out);
		goto out;
	}
	run_output_free(&out);
	/* our values must be the effective ones */
	if (edit->expect_mail_location != NULL &&
	    expect(tools, conf, "mail_location", edit->expect_mail_location,
		   edit->live_path, err) < 0)
		goto out;
	if (edit->expect_mail_path != NULL &&
	    expect(tools, conf, "mail_path", edit->expect_mail_path,
		   edit->live_path, err) < 0)
		goto out;
	if (edit->expect_protocols != NULL &&
	    expect(tools, conf, "protocols", edit->expect_protocols,
		   edit->live_path, err) < 0)
		goto out;
	if (edit->expect_imap_port != 0) {
		snprintf(port, sizeof(port), "%u", edit->expect_imap_port);
		if (expect(tools, conf,
			   "service/imap-login/inet_listener/imap/port", port,
			   edit->live_path, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(argv);
	sf_remove_tree(AT_FDCWD, tmpl);
	return ret;
}

/* ---- apply and undo ---- */

struct manifest {
	char live[PATH_MAX];
	int existed;
	unsigned int mode;
	long uid, gid;
};

static int work_path(char *buf, size_t size, const char *work_dir,
		     const char *name)
{
	return snprintf(buf, size, "%s/%s%s%s", work_dir, WORK_SUBDIR,
			name[0] != '\0' ? "/" : "", name) >= (int)size ? -1 : 0;
}

static int read_manifest(const char *work_dir, struct manifest *m,
			 struct m2d_error *err)
{
	char path[PATH_MAX], *text, *p;
	int r;

	memset(m, 0, sizeof(*m));
	work_path(path, sizeof(path), work_dir, "manifest");
	r = sf_read_text(path, &text, NULL, err);
	if (r <= 0)
		return r;
	m->existed = -1;
	for (p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, "live=", 5) == 0)
			snprintf(m->live, sizeof(m->live), "%.*s",
				 (int)(n - 5), p + 5);
		else if (strncmp(p, "existed=", 8) == 0)
			m->existed = atoi(p + 8);
		else if (strncmp(p, "mode=", 5) == 0)
			m->mode = (unsigned int)strtoul(p + 5, NULL, 8);
		else if (strncmp(p, "uid=", 4) == 0)
			m->uid = atol(p + 4);
		else if (strncmp(p, "gid=", 4) == 0)
			m->gid = atol(p + 4);
		p += n;
		if (*p == '\n')
			p++;
	}
	free(text);
	if (m->live[0] != '/' || m->existed < 0)
		return m2d_error_set(err, M2D_ERR_MALFORMED, path,
				     _("damaged manifest"));
	return 1;
}

static int save_work(const char *work_dir, const char *name,
		     const char *text, struct m2d_error *err)
{
	char dir[PATH_MAX];
	int dirfd, ret;

	work_path(dir, sizeof(dir), work_dir, "");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return m2d_error_sys(err, "open", dir);
	ret = sf_replace_file(dirfd, name, text, strlen(text), -1, -1, dir,
			      err);
	close(dirfd);
	return ret;
}

int dc_apply(const struct dc_tools *tools, const struct dc_edit *edit,
	     const char *work_dir, struct m2d_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX], *live = NULL, *applied = NULL;
	char *manifest = NULL;
	struct manifest m;
	struct stat st;
	int r, have, ret = -1;
	bool keep_original = false;

	if (dc_validate(tools, edit, err) < 0)
		return -1;
	if (mkdir(work_dir, 0700) < 0 && errno != EEXIST)
		return m2d_error_sys(err, "mkdir", work_dir);
	if (work_path(dir, sizeof(dir), work_dir, "") < 0 ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return m2d_error_sys(err, "mkdir", dir);

	/* the live file must still be what the plan read */
	r = sf_read_text(edit->live_path, &live, &st, err);
	if (r < 0)
		return -1;
	if ((r > 0) != edit->live_existed ||
	    (r > 0 && strcmp(live, edit->old_text) != 0)) {
		m2d_error_set(err, M2D_ERR_CHANGED, edit->live_path,
			      _("changed since the edit was planned"));
		goto out;
	}
	/* an earlier apply whose result is still in place: keep its
	 * original, so undo goes back to the configuration before us */
	have = read_manifest(work_dir, &m, err);
	if (have < 0)
		goto out;
	if (have > 0 && strcmp(m.live, edit->live_path) == 0) {
		work_path(path, sizeof(path), work_dir, "applied");
		if (sf_read_text(path, &applied, NULL, err) < 0)
			goto out;
		keep_original = applied != NULL && live != NULL &&
			strcmp(applied, live) == 0;
	}
	if (!keep_original) {
		m.existed = r > 0;
		m.mode = r > 0 ? (unsigned int)(st.st_mode & 07777) : 0644;
		m.uid = r > 0 ? (long)st.st_uid : -1;
		m.gid = r > 0 ? (long)st.st_gid : -1;
		snprintf(m.live, sizeof(m.live), "%s", edit->live_path);
		if (m.existed && save_work(work_dir, "original", live,
					   err) < 0)
			goto out;
		manifest = xasprintf(MANIFEST_HEADER "live=%s\nexisted=%d\n"
				     "mode=%04o\nuid=%ld\ngid=%ld\n", m.live,
				     m.existed, m.mode, m.uid, m.gid);

	}
	/* applied before the manifest: undo compares the live file with it */
	if (save_work(work_dir, "applied", edit->new_text, err) < 0)
		goto out;
	if (manifest != NULL && save_work(work_dir, "manifest", manifest,
					  err) < 0)
		goto out;
	/* a file new in conf.d: 0644 like its neighbours, owned by us */
	if (sf_write_path(edit->live_path, edit->new_text,
		       r > 0 ? (unsigned int)(st.st_mode & 07777) : 0644,
		       r > 0 ? (long)st.st_uid : -1,
		       r > 0 ? (long)st.st_gid : -1, err) < 0)
		goto out;
	ret = 0;
out:
	free(live);
	free(applied);
	free(manifest);
	return ret;
}

int dc_undo(const char *work_dir, struct m2d_error *err)
{
	char path[PATH_MAX], *live = NULL, *applied = NULL, *original = NULL;
	struct manifest m;
	int r, ret = -1;

	r = read_manifest(work_dir, &m, err);
	if (r <= 0)
		return r;
	work_path(path, sizeof(path), work_dir, "applied");
	if (sf_read_text(path, &applied, NULL, err) <= 0) {
		if (err->code == M2D_OK)
			m2d_error_set(err, M2D_ERR_MALFORMED, path,
				      _("missing"));
		goto out;
	}
	if (m.existed) {
		work_path(path, sizeof(path), work_dir, "original");
		if (sf_read_text(path, &original, NULL, err) <= 0) {
			if (err->code == M2D_OK)
				m2d_error_set(err, M2D_ERR_MALFORMED, path,
					      _("missing"));
			goto out;
		}
	}
	r = sf_read_text(m.live, &live, NULL, err);
	if (r < 0)
		goto out;
	if (r > 0 && strcmp(live, applied) == 0) {
		if (m.existed) {
			if (sf_write_path(m.live, original, m.mode, m.uid, m.gid,
				       err) < 0)
				goto out;
		} else if (unlink(m.live) < 0) {
			m2d_error_sys(err, "unlink", m.live);
			goto out;
		}
	} else if (!(m.existed ? r > 0 && strcmp(live, original) == 0 :
		     r == 0)) {
		/* neither ours nor the original: the admin changed it */
		m2d_error_set(err, M2D_ERR_CHANGED, m.live,
			      _("changed since mbox2dovecot wrote it: not "
				"undone (the original is in %s/%s)"),
			      work_dir, WORK_SUBDIR);
		goto out;
	}
	/* done: forget it */
	work_path(path, sizeof(path), work_dir, "manifest");
	unlink(path);
	work_path(path, sizeof(path), work_dir, "applied");
	unlink(path);
	work_path(path, sizeof(path), work_dir, "original");
	unlink(path);
	work_path(path, sizeof(path), work_dir, "");
	rmdir(path);
	ret = 1;
out:
	free(live);
	free(applied);
	free(original);
	return ret;
}
