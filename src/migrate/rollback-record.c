/* SPDX-License-Identifier: MIT */
/*
 * rollback-record.c - what a rollback appended to a folder's mbox, kept
 * in WORK/rollback/USER/FOLDER (rollback-record.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rollback-record.h"
#include "safe-file.h"
#include "str-escape.h"
#include "xalloc.h"
#include "i18n.h"

/* version 2 stores each name escaped (str_field_escape) and the
 * checksum of the bytes before a pending append; version 1 (names raw,
 * no checksum) is still read */
#define RECORD_MAGIC "mbox2dovecot-rollback 2"
#define RECORD_MAGIC_V1 "mbox2dovecot-rollback 1"
#define RECORD_DIR "rollback"
/* read no larger one (from fstat) */
#define RECORD_MAX ((off_t)256 * 1024 * 1024)


static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void rollback_record_free(struct rollback_record *r)
{
	for (size_t i = 0; i < r->nbases; i++)
		free(r->bases[i]);
	free(r->bases);
	memset(r, 0, sizeof(*r));
}

bool rollback_record_has(const struct rollback_record *r, const char *base)
{
	return r->nbases > 0 &&
		bsearch(&base, r->bases, r->nbases, sizeof(*r->bases),
			str_cmp) != NULL;
}

void rollback_record_add(struct rollback_record *r, const char *base)
{
	r->bases = xrealloc(r->bases, (r->nbases + 1) * sizeof(*r->bases));
	r->bases[r->nbases++] = xstrdup(base);
}

void rollback_record_sort(struct rollback_record *r)
{
	if (r->nbases > 0)
		qsort(r->bases, r->nbases, sizeof(*r->bases), str_cmp);
}

/* "INBOX" for the root, the Maildir++ directory (".a.b") otherwise: one
 * file name per folder, never "." or "..". */
static const char *record_name(const char *dirname)
{
	return dirname[0] == '\0' ? "INBOX" : dirname;
}

/* WORK/rollback/USER, created (0700) when CREATE; -1 and ENOENT when it
 * does not exist and !CREATE. */
static int record_dir(const char *work_dir, const char *user, bool create,
		      struct m2d_error *err)
{
	int wfd, rfd, ufd;

	if (create && mkdir(work_dir, 0700) < 0 && errno != EEXIST)
		return m2d_error_sys(err, "mkdir", work_dir);
	wfd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wfd < 0) {
		if (errno == ENOENT && !create)
			return -2;
		return m2d_error_sys(err, "open", work_dir);
	}
	rfd = create ? sf_mkdir(wfd, RECORD_DIR, -1, -1, true, work_dir, err) :
		openat(wfd, RECORD_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		       O_CLOEXEC);
	close(wfd);
	if (rfd < 0)
		return create ? -1 : (errno == ENOENT ? -2 :
				      m2d_error_sys(err, "open", work_dir));
	ufd = create ? sf_mkdir(rfd, user, -1, -1, true, work_dir, err) :
		openat(rfd, user, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		       O_CLOEXEC);
	close(rfd);
	if (ufd < 0)
		return create ? -1 : (errno == ENOENT ? -2 :
				      m2d_error_sys(err, "open", work_dir));
	return ufd;
}

/* A decimal number that is all of S, >= 0. */
static bool parse_ll(const char *s, long long *v_r)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v_r = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool parse_sum(const char *s, uint64_t *v_r)
{
	char *end;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return false;
	errno = 0;
	*v_r = strtoull(s, &end, 16);
	return errno == 0 && *end == '\0';
}

/* Line LINENO (its newline cut) into R; false when record_write cannot
 * have written it. */
static bool record_line(struct rollback_record *r, char *line,
			unsigned long lineno)
{
	bool ok;

	if (lineno == 1) {
		r->version = strcmp(line, RECORD_MAGIC) == 0 ? 2 :
			strcmp(line, RECORD_MAGIC_V1) == 0 ? 1 : 0;
		return r->version > 0;
	}
	if (lineno == 2) {
		r->pending = strcmp(line, "state pending") == 0;
		return r->pending || strcmp(line, "state done") == 0;
	}
	if (lineno == 3)
		return strncmp(line, "before ", 7) == 0 &&
			parse_ll(line + 7, &r->before);
	if (lineno == 4 && r->version == 2)
		return strncmp(line, "beforesum ", 10) == 0 &&
			parse_sum(line + 10, &r->before_sum);
	if (lineno == (r->version == 2 ? 5u : 4u))
		return strncmp(line, "size ", 5) == 0 &&
			parse_ll(line + 5, &r->size);
	ok = strncmp(line, "m ", 2) == 0 && line[2] != '\0' &&
		(r->version == 1 || str_field_unescape(line + 2) == 0);
	if (ok)
		rollback_record_add(r, line + 2);
	return ok;
}

/*
 * The record, read strictly: the lines in the order record_write puts
 * them, each name unescaped; a line it cannot have written (a name of a
 * version 1 record that held a newline, say) refuses the record, naming
 * its file and line.
 */
int rollback_record_read(const char *work_dir, const char *user,
			 const char *dirname, struct rollback_record *r,
			 struct m2d_error *err)
{
	char *line = NULL, path[PATH_MAX];
	size_t size = 0;
	unsigned long lineno = 0;
	ssize_t len;
	FILE *f;
	int ufd;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s/%s/%s", work_dir, RECORD_DIR,
		 user, record_name(dirname));
	ufd = record_dir(work_dir, user, false, err);
	if (ufd == -2)
		return 0;
	if (ufd < 0)
		return -1;
	f = sf_fopen_read(ufd, record_name(dirname), RECORD_MAX, NULL, path,
			  err);
	close(ufd);
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	r->exists = true;
	while ((len = getline(&line, &size, f)) > 0) {
		bool ok;

		lineno++;
		/* cut short, or a NUL: not ours */
		ok = line[len - 1] == '\n' && strlen(line) == (size_t)len;
		if (ok) {
			line[len - 1] = '\0';
			ok = record_line(r, line, lineno);
		}
		if (!ok) {
			free(line);
			fclose(f);
			rollback_record_free(r);
			m2d_error_set(err, M2D_ERR_MALFORMED, path,
				      _("not a rollback record as "
					"mbox2dovecot writes it (damaged or "
					"forged); nothing done for this "
					"folder: check it by hand"));
			m2d_error_at(err, -1, lineno);
			return -1;
		}
	}
	if (len < 0 && ferror(f)) {
		free(line);
		fclose(f);
		rollback_record_free(r);
		return m2d_error_sys(err, "read", path);
	}
	free(line);
	fclose(f);
	if (lineno < (r->version == 2 ? 5u : 4u)) {
		rollback_record_free(r);
		m2d_error_set(err, M2D_ERR_MALFORMED, path,
			      _("a rollback record cut short (damaged or "
				"forged); nothing done for this folder: check "
				"it by hand"));
		m2d_error_at(err, -1, lineno);
		return -1;
	}
	r->exists = true;
	rollback_record_sort(r);
	return 0;
}

/* Written whole: temp file, fsync, rename, fsync of the directory. */
int rollback_record_write(const char *work_dir, const char *user,
			  const char *dirname,
			  const struct rollback_record *r,
			  struct m2d_error *err)
{
	const char *name = record_name(dirname);
	char tmp[300], *text = NULL;
	size_t size = 0;
	FILE *mem = xopen_memstream(&text, &size);
	int ufd, fd = -1, ret = -1;

	fprintf(mem, "%s\nstate %s\nbefore %lld\nbeforesum %016" PRIx64
		"\nsize %lld\n", RECORD_MAGIC, r->pending ? "pending" : "done",
		r->before, r->before_sum, r->size);
	for (size_t i = 0; i < r->nbases; i++) {
		/* a name is one field: no byte of it starts a line */
		fputs("m ", mem);
		str_field_fput(mem, r->bases[i]);
		fputc('\n', mem);
	}
	xmemstream_close(mem);
	ufd = record_dir(work_dir, user, true, err);
	if (ufd < 0) {
		free(text);
		return -1;
	}
	/* records are "INBOX" or begin with '.': "#" never is one */
	snprintf(tmp, sizeof(tmp), "#%s.tmp", name);
	unlinkat(ufd, tmp, 0);
	fd = sf_create(ufd, tmp, -1, -1, work_dir, err);
	if (fd < 0)
		goto out;
	if (sf_write_all(fd, text, size, work_dir, err) < 0)
		goto out;
	if (fsync(fd) < 0) {
		m2d_error_sys(err, "fsync", work_dir);
		goto out;
	}
	if (renameat(ufd, tmp, ufd, name) < 0) {
		m2d_error_sys(err, "rename", work_dir);
		goto out;
	}
	if (fsync(ufd) < 0) {
		m2d_error_sys(err, "fsync", work_dir);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlinkat(ufd, tmp, 0);
	close(ufd);
	free(text);
	return ret;
}

