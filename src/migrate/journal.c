/* SPDX-License-Identifier: MIT */
/*
 * journal.c - what a migration did, append-only, replayed on open
 *
 * Lines (fields separated by TAB; in a field '\\', TAB, LF and CR are
 * written "\\\\", "\\t", "\\n", "\\r", any other byte below 0x20 and
 * 0x7f "\\xHH": no byte of a name can end a field or a line):
 *   U user target                      we created the user's maildir root
 *   C user listed target dirname       converting (may be half-there)
 *   D user listed target dirname dev ino size mtime_s mtime_ns checksum
 *     messages uidvalidity nextuid     done, with its source identity
 *   F user listed                      folder forgotten (cleared)
 *   G user                             user forgotten (cleared)
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "pos-index.h"
#include "xalloc.h"
#include "safe-file.h"
#include "i18n.h"

#define JOURNAL_NAME "journal"
/* version 2: control bytes never raw; version 1 (control bytes but TAB
 * and LF raw, only "\\\\", "\\t", "\\n" escaped) is still read, and
 * appended to in version 2's escaping (which it reads too) */
#define JOURNAL_HEADER "# mbox2dovecot journal 2\n"
#define MAX_FIELDS 16

struct journal {
	pthread_mutex_t lock;
	bool strict;		/* version 2: no raw control byte */
	int dirfd;
	int fd;
	char *path;
	struct journal_folder *folders;
	size_t nfolders, folders_size;
	struct journal_user *users;
	size_t nusers, users_size;
	/* folders by user and listed name, users by name: a site's tens of
	 * thousands of users cost no loop over all of them per event */
	struct pos_index folder_ix, user_ix;
};

/* One line of the journal: what happened to a user or a folder. */
struct event {
	char type;				/* U C D F G */
	const char *user;
	const char *target;			/* U */
	const char *listed;			/* F */
	const struct journal_folder *folder;	/* C D */
};

static int apply_event(struct journal *j, const struct event *ev);

/* ---- escaping ---- */

static void put_escaped(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * In place: split LINE at TABs and unescape each field.  Returns the
 * number of fields, or -1 for what put_escaped cannot have written: an
 * unknown escape, a raw control byte (STRICT: version 2), too many fields.
 */
static int split_fields(char *line, char **fields, int max, bool strict)
{
	int n = 0;
	char *p = line;

	while (n < max) {
		char *o = p;

		fields[n++] = p;
		for (;;) {
			unsigned char c = (unsigned char)*p;

			if (c == '\0') {
				*o = '\0';
				return n;
			}
			if (c == '\t') {
				*o = '\0';
				p++;
				break;
			}
			if (c == '\\') {
				int hi, lo;

				switch (p[1]) {
				case '\\': *o++ = '\\'; p += 2; continue;
				case 't': *o++ = '\t'; p += 2; continue;
				case 'n': *o++ = '\n'; p += 2; continue;
				case 'r': *o++ = '\r'; p += 2; continue;
				case 'x':
					hi = hex_digit(p[2]);
					lo = hi < 0 ? -1 : hex_digit(p[3]);
					if (lo < 0 || (hi == 0 && lo == 0))
						return -1;
					*o++ = (char)(hi * 16 + lo);
					p += 4;
					continue;
				default:
					return -1;
				}
			}
			if (strict && (c < 0x20 || c == 0x7f))
				return -1;
			*o++ = *p++;
		}
	}
	return -1;
}

/* A decimal number, all of S, into *V_R. */
static bool parse_ull(const char *s, unsigned long long *v_r)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v_r = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool parse_ll(const char *s, long long *v_r)
{
	bool minus = *s == '-';	/* a date before 1970 */
	unsigned long long v;

	if (!parse_ull(s + minus, &v) || v > (unsigned long long)LLONG_MAX)
		return false;
	*v_r = minus ? -(long long)v : (long long)v;
	return true;
}

/* A size: never negative. */
static bool parse_size(const char *s, long long *v_r)
{
	return *s != '-' && parse_ll(s, v_r);
}

static bool parse_ul(const char *s, unsigned long *v_r)
{
	unsigned long long v;

	if (!parse_ull(s, &v) || v > ULONG_MAX)
		return false;
	*v_r = (unsigned long)v;
	return true;
}

static bool parse_x64(const char *s, uint64_t *v_r)
{
	char *end;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return false;
	errno = 0;
	*v_r = strtoull(s, &end, 16);
	return errno == 0 && *end == '\0';
}

/* ---- the in-memory state ---- */

static uint64_t folder_hash(const char *user, const char *listed)
{
	return pos_hash_str(pos_hash_str(POS_HASH_INIT, user), listed);
}

struct folder_key {
	const char *user, *listed;
};

static bool folder_match(const void *ctx, size_t pos, const void *key)
{
	const struct journal *j = ctx;
	const struct folder_key *k = key;

	return strcmp(j->folders[pos].listed, k->listed) == 0 &&
		strcmp(j->folders[pos].user, k->user) == 0;
}

/* The position of USER's folder LISTED, or POS_NONE. */
static size_t folder_pos(struct journal *j, const char *user,
			 const char *listed, uint64_t hash)
{
	struct folder_key key = { user, listed };

	return pos_index_find(&j->folder_ix, hash, folder_match, j, &key);
}

static struct journal_folder *find_folder(struct journal *j, const char *user,
					  const char *listed)
{
	size_t i = folder_pos(j, user, listed, folder_hash(user, listed));

	return i != POS_NONE ? &j->folders[i] : NULL;
}

/* Drops position I (its folder freed already; HASH its key's), the last
 * one moved into the hole. */
static void remove_folder(struct journal *j, size_t i, uint64_t hash)
{
	size_t last = --j->nfolders;

	pos_index_del(&j->folder_ix, hash, i);
	if (i != last) {
		const struct journal_folder *l = &j->folders[last];

		pos_index_move(&j->folder_ix, folder_hash(l->user, l->listed),
			       last, i);
		j->folders[i] = j->folders[last];
	}
}

void journal_folder_free(struct journal_folder *f)
{
	free(f->user);
	free(f->listed);
	free(f->target);
	free(f->dirname);
	memset(f, 0, sizeof(*f));
}

static void copy_folder(struct journal_folder *dst,
			const struct journal_folder *src)
{
	*dst = *src;
	dst->user = xstrdup(src->user);
	dst->listed = xstrdup(src->listed);
	dst->target = xstrdup(src->target);
	dst->dirname = xstrdup(src->dirname);
}

static int set_folder(struct journal *j, const struct journal_folder *f)
{
	uint64_t hash = folder_hash(f->user, f->listed);
	size_t i = folder_pos(j, f->user, f->listed, hash);

	if (i != POS_NONE) {
		journal_folder_free(&j->folders[i]);
		copy_folder(&j->folders[i], f);
		return 0;
	}
	if (j->nfolders == j->folders_size) {
		j->folders_size = j->folders_size ? j->folders_size * 2 : 64;
		j->folders = xrealloc(j->folders,
				      j->folders_size * sizeof(*j->folders));
	}
	i = j->nfolders;
	copy_folder(&j->folders[i], f);
	pos_index_add(&j->folder_ix, hash, i);
	j->nfolders++;
	return 0;
}

static void forget_folder(struct journal *j, const char *user,
			  const char *listed)
{
	uint64_t hash = folder_hash(user, listed);
	size_t i = folder_pos(j, user, listed, hash);

	if (i != POS_NONE) {
		journal_folder_free(&j->folders[i]);
		remove_folder(j, i, hash);
	}
}

static bool user_match(const void *ctx, size_t pos, const void *key)
{
	const struct journal *j = ctx;

	return strcmp(j->users[pos].user, key) == 0;
}

static size_t user_pos(struct journal *j, const char *user, uint64_t hash)
{
	return pos_index_find(&j->user_ix, hash, user_match, j, user);
}

static int set_user(struct journal *j, const char *user, const char *target)
{
	uint64_t hash = pos_hash_str(POS_HASH_INIT, user);
	size_t i = user_pos(j, user, hash);
	struct journal_user *u;

	if (i != POS_NONE) {
		free(j->users[i].target);
		j->users[i].target = xstrdup(target);
		return 0;
	}
	if (j->nusers == j->users_size) {
		j->users_size = j->users_size ? j->users_size * 2 : 16;
		j->users = xrealloc(j->users,
				    j->users_size * sizeof(*j->users));
	}
	u = &j->users[j->nusers];
	u->user = xstrdup(user);
	u->target = xstrdup(target);
	pos_index_add(&j->user_ix, hash, j->nusers);
	j->nusers++;
	return 0;
}

static void forget_user(struct journal *j, const char *user)
{
	uint64_t hash = pos_hash_str(POS_HASH_INIT, user);
	size_t i = user_pos(j, user, hash), last;

	if (i == POS_NONE)
		return;
	free(j->users[i].user);
	free(j->users[i].target);
	pos_index_del(&j->user_ix, hash, i);
	last = --j->nusers;
	if (i != last) {
		pos_index_move(&j->user_ix,
			       pos_hash_str(POS_HASH_INIT, j->users[last].user),
			       last, i);
		j->users[i] = j->users[last];
	}
}

/* ---- replay ---- */

/* Parse one line of the file into an event and apply it. */
static int apply_line(struct journal *j, char *line)
{
	char *f[MAX_FIELDS];
	int n = split_fields(line, f, MAX_FIELDS, j->strict);
	struct journal_folder jf;
	struct event ev = { 0, NULL, NULL, NULL, &jf };

	if (n < 2 || f[0][1] != '\0')
		return -1;
	memset(&jf, 0, sizeof(jf));
	ev.type = f[0][0];
	ev.user = f[1];
	switch (ev.type) {
	case 'U':
		if (n != 3)
			return -1;
		ev.target = f[2];
		break;
	case 'G':
		if (n != 2)
			return -1;
		break;
	case 'F':
		if (n != 3)
			return -1;
		ev.listed = f[2];
		break;
	case 'C':
	case 'D':
		if (n != (ev.type == 'C' ? 5 : 14))
			return -1;
		jf.user = f[1];
		jf.listed = f[2];
		jf.target = f[3];
		jf.dirname = f[4];
		jf.state = ev.type == 'C' ? JOURNAL_CONVERTING : JOURNAL_DONE;
		/* only what put_folder_line writes: digits, 16 hex */
		if (ev.type == 'D' &&
		    (!parse_ull(f[5], &jf.source.dev) ||
		     !parse_ull(f[6], &jf.source.ino) ||
		     !parse_size(f[7], &jf.source.size) ||
		     !parse_ll(f[8], &jf.source.mtime_sec) ||
		     !parse_ll(f[9], &jf.source.mtime_nsec) ||
		     !parse_x64(f[10], &jf.source.checksum) ||
		     !parse_ul(f[11], &jf.messages) ||
		     !parse_ul(f[12], &jf.uidvalidity) ||
		     !parse_ul(f[13], &jf.nextuid)))
			return -1;
		break;
	default:
		return -1;
	}
	return apply_event(j, &ev);
}

static int replay(struct journal *j, struct m2d_error *err)
{
	char *data = NULL, *p, *nl;
	size_t size = 0, len = 0;
	unsigned long line = 0;
	ssize_t n;

	for (;;) {
		if (len + 65536 > size) {
			size = size * 2 + 65536;
			data = xrealloc(data, size);
		}
		n = pread(j->fd, data + len, size - len - 1, (off_t)len);
		if (n < 0) {
			free(data);
			return m2d_error_sys(err, "read", j->path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (data == NULL)
		return 0;
	data[len] = '\0';
	if ((p = memchr(data, '\0', len)) != NULL) {
		/* not a torn write: something else damaged the file */
		for (nl = data; nl < p; nl++)
			line += *nl == '\n';
		free(data);
		m2d_error_set(err, M2D_ERR_MALFORMED, j->path,
			      _("journal damaged: a NUL byte"));
		m2d_error_at(err, -1, line + 1);
		return -1;
	}
	/* version 2 (ours now): strict; a journal made by an earlier
	 * version: raw control bytes were written then */
	j->strict = strncmp(data, JOURNAL_HEADER, strlen(JOURNAL_HEADER)) == 0;
	for (p = data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		line++;
		*nl = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		if (apply_line(j, p) < 0) {
			free(data);
			m2d_error_set(err, M2D_ERR_MALFORMED, j->path,
				      _("journal line not understood (damaged, "
					"or not written by mbox2dovecot)"));
			m2d_error_at(err, -1, line);
			return -1;
		}
	}
	/* a torn last line (a kill during its write) never happened */
	if (*p != '\0' && ftruncate(j->fd, (off_t)(p - data)) < 0) {
		free(data);
		return m2d_error_sys(err, "ftruncate", j->path);
	}
	free(data);
	return 0;
}

int journal_open(const char *work_dir, struct journal **journal_r,
		 struct m2d_error *err)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	struct stat st;

	*journal_r = NULL;
	pthread_mutex_init(&j->lock, NULL);
	j->fd = j->dirfd = -1;	/* journal_close() on failure */
	j->path = xasprintf
("%s/%s", work_dir, JOURNAL_NAME);
	if (mkdir(work_dir, 0700) < 0 && errno != EEXIST) {
		m2d_error_sys(err, "mkdir", work_dir);
		goto fail;
	}
	j->dirfd = sf_open_dir(AT_FDCWD, work_dir, work_dir, err);
	if (j->dirfd < 0)
		goto fail;
	j->fd = openat(j->dirfd, JOURNAL_NAME, O_RDWR | O_CREAT | O_APPEND |
		       O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		m2d_error_sys(err, "open", j->path);
		goto fail;
	}
	if (fstat(j->fd, &st) < 0) {
		m2d_error_sys(err, "fstat", j->path);
		goto fail;
	}
	if (st.st_size == 0 &&
	    sf_write_all(j->fd, JOURNAL_HEADER, strlen(JOURNAL_HEADER),
			 j->path, err) < 0)
		goto fail;
	if (replay(j, err) < 0)
		goto fail;
	*journal_r = j;
	return 0;
fail:
	journal_close(&j);
	return -1;
}

void journal_close(struct journal **journal)
{
	struct journal *j = *journal;
	size_t i;

	if (j == NULL)
		return;
	*journal = NULL;
	if (j->fd >= 0)
		close(j->fd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	for (i = 0; i < j->nfolders; i++)
		journal_folder_free(&j->folders[i]);
	for (i = 0; i < j->nusers; i++) {
		free(j->users[i].user);
		free(j->users[i].target);
	}
	free(j->folders);
	free(j->users);
	pos_index_free(&j->folder_ix);
	pos_index_free(&j->user_ix);
	free(j->path);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* ---- appending ---- */

static void put_folder_line(FILE *out, const struct journal_folder *f)
{
	fputs(f->state == JOURNAL_DONE ? "D\t" : "C\t", out);
	put_escaped(out, f->user);
	fputc('\t', out);
	put_escaped(out, f->listed);
	fputc('\t', out);
	put_escaped(out, f->target);
	fputc('\t', out);
	put_escaped(out, f->dirname);
	if (f->state == JOURNAL_DONE)
		fprintf(out, "\t%llu\t%llu\t%lld\t%lld\t%lld\t%016" PRIx64
			"\t%lu\t%lu\t%lu", f->source.dev, f->source.ino,
			f->source.size, f->source.mtime_sec,
			f->source.mtime_nsec, f->source.checksum, f->messages,
			f->uidvalidity, f->nextuid);
	fputc('\n', out);
}

/*
 * Append one line (built by the caller), durable when SYNC.  When that
 * fails (a full disk, an I/O error) the file is cut back to where it was:
 * the event did not happen, and half a line must not stay in front of the
 * next one (they would read as one line that is not understood, and the
 * journal could not be opened any more).
 */
static int append(struct journal *j, char *line, size_t len, bool sync,
		  struct m2d_error *err)
{
	off_t end = lseek(j->fd, 0, SEEK_END);

	if (end < 0)
		return m2d_error_sys(err, "lseek", j->path);
	if (sf_write_all(j->fd, line, len, j->path, err) < 0)
		goto undo;
	if (sync && fdatasync(j->fd) < 0) {
		m2d_error_sys(err, "fdatasync", j->path);
		goto undo;
	}
	return 0;
undo:
	/* best effort: a line left torn is dropped when replayed */
	if (ftruncate(j->fd, end) < 0) {
		/* keep the first error */
	}
	return -1;
}

int journal_sync(struct journal *j, struct m2d_error *err)
{
	if (fdatasync(j->fd) < 0)
		return m2d_error_sys(err, "fdatasync", j->path);
	return 0;
}

static void put_event(FILE *out, const struct event *ev)
{
	if (ev->type == 'C' || ev->type == 'D') {
		put_folder_line(out, ev->folder);
		return;
	}
	fputc(ev->type, out);
	fputc('\t', out);
	put_escaped(out, ev->user);
	if (ev->type == 'U' || ev->type == 'F') {
		fputc('\t', out);
		put_escaped(out, ev->type == 'U' ? ev->target : ev->listed);
	}
	fputc('\n', out);
}

/* The in-memory state after EV (the lock held, or replaying). */
static int apply_event(struct journal *j, const struct event *ev)
{
	switch (ev->type) {
	case 'U':
		return set_user(j, ev->user, ev->target);
	case 'C':
	case 'D':
		return set_folder(j, ev->folder);
	case 'F':
		forget_folder(j, ev->user, ev->listed);
		return 0;
	case 'G':
		forget_user(j, ev->user);
		return 0;
	}
	return -1;
}

/* Append EV's line (durable when SYNC) and apply it. */
static int write_event(struct journal *j, const struct event *ev, bool sync,
		       struct m2d_error *err)
{
	char *line = NULL;
	size_t len = 0;
	FILE *out = xopen_memstream(&line, &len);
	int ret, applied;

	put_event(out, ev);
	xmemstream_close(out);
	pthread_mutex_lock(&j->lock);
	ret = append(j, line, len, sync, err);
	if (ret == 0) {
		/* fails only for a type that no caller makes */
		applied = apply_event(j, ev);
		assert(applied == 0);
		(void)applied;
	}
	pthread_mutex_unlock(&j->lock);

	free(line);
	return ret;
}

int journal_user_created(struct journal *j, const char *user,
			 const char *target, struct m2d_error *err)
{
	struct event ev = { 'U', user, target, NULL, NULL };

	return write_event(j, &ev, true, err);
}

int journal_converting(struct journal *j, const char *user,
		       const char *listed, const char *target,
		       const char *dirname, struct m2d_error *err)
{
	struct journal_folder f;
	struct event ev = { 'C', user, NULL, NULL, &f };

	memset(&f, 0, sizeof(f));
	f.user = (char *)user;
	f.listed = (char *)listed;
	f.target = (char *)target;
	f.dirname = (char *)dirname;
	f.state = JOURNAL_CONVERTING;
	return write_event(j, &ev, false, err);
}

int journal_done(struct journal *j, const struct journal_folder *folder,
		 struct m2d_error *err)
{
	struct journal_folder f = *folder;
	struct event ev = { 'D', f.user, NULL, NULL, &f };

	f.state = JOURNAL_DONE;
	return write_event(j, &ev, false, err);
}

int journal_forget(struct journal *j, const char *user, const char *listed,
		   struct m2d_error *err)
{
	struct event ev = { listed != NULL ? 'F' : 'G', user, NULL, listed,
			    NULL };

	return write_event(j, &ev, true, err);
}

int journal_find(struct journal *j, const char *user, const char *listed,
		 struct journal_folder *copy_r)
{
	struct journal_folder *f;
	int ret = 0;

	pthread_mutex_lock(&j->lock);
	f = find_folder(j, user, listed);
	if (f != NULL) {
		copy_folder(copy_r, f);
		ret = 1;
	}
	pthread_mutex_unlock(&j->lock);
	return ret;
}

size_t journal_folders(struct journal *j, struct journal_folder **list_r)
{
	struct journal_folder *list;
	size_t i, n = 0;

	pthread_mutex_lock(&j->lock);
	list = xcalloc(j->nfolders + 1, sizeof(*list));
	for (i = 0; i < j->nfolders; i++)
		copy_folder(&list[n++], &j->folders[i]);
	pthread_mutex_unlock(&j->lock);
	*list_r = list;
	return n;
}

void journal_folders_free(struct journal_folder *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		journal_folder_free(&list[i]);
	free(list);
}

size_t journal_users(struct journal *j, struct journal_user **list_r)
{
	struct journal_user *list;
	size_t i, n = 0;

	pthread_mutex_lock(&j->lock);
	list = xcalloc(j->nusers + 1, sizeof(*list));
	for (i = 0; i < j->nusers; i++) {
		list[n].user = xstrdup(j->users[i].user);
		list[n].target = xstrdup(j->users[i].target);
		n++;
	}
	pthread_mutex_unlock(&j->lock);
	*list_r = list;
	return n;
}

void journal_users_free(struct journal_user *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].user);
		free(list[i].target);
	}
	free(list);
}

int journal_compact(struct journal *j, struct m2d_error *err)
{
	char *data = NULL;
	size_t size = 0, i;
	FILE *out = xopen_memstream(&data, &size);
	int fd, ret;

	pthread_mutex_lock(&j->lock);
	fputs(JOURNAL_HEADER, out);
	for (i = 0; i < j->nusers; i++) {
		fputs("U\t", out);
		put_escaped(out, j->users[i].user);
		fputc('\t', out);
		put_escaped(out, j->users[i].target);
		fputc('\n', out);
	}
	for (i = 0; i < j->nfolders; i++)
		put_folder_line(out, &j->folders[i]);
	xmemstream_close(out);
	/* the new file durable before it replaces the old one */
	ret = sf_replace_file_durable(j->dirfd, JOURNAL_NAME, data, size,
				      j->path, err);
	if (ret == 0) {
		fd = openat(j->dirfd, JOURNAL_NAME, O_RDWR | O_APPEND |
			    O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			ret = m2d_error_sys(err, "open", j->path);
		} else {
			close(j->fd);
			j->fd = fd;
			if (fsync(fd) < 0 || fsync(j->dirfd) < 0)
				ret = m2d_error_sys(err, "fsync", j->path);
		}
	}
	pthread_mutex_unlock(&j->lock);
	free(data);
	return ret;
}
