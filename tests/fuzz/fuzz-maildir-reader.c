/* SPDX-License-Identifier: MIT */
/*
 * fuzz-maildir-reader.c - the input is what a user may put into a
 * maildir after cutover: dovecot-uidlist, dovecot-keywords, the root's
 * subscriptions file and the names of message files:
 *
 *   FLAGS-BYTE uidlist %%\n keywords %%\n subscriptions %%\n names
 *
 * ("%%\n" at the start of the input or of a line separates).  A part not
 * given, or one the first byte says is missing, is no such file; the
 * first byte's low four bits are the open flags, bit 7 adds a symlink and
 * a FIFO to cur/.
 *
 * names: one per line, "new/NAME" or else in cur/ (at most 32; a name
 * with a '/' or none is left out).  The folder is written into a scratch
 * directory and read by maildir_reader_open() and
 * maildir_read_subscriptions(); each name also goes through
 * maildir_name_flags() and maildir_dirname_to_name() on its own.
 *
 * What opens is consistent: files sorted by base, each with the flags of
 * its name and the UID its base has in the uidlist; strict: UIDs rising
 * and 32 bits, bases a file name and none twice; keywords and
 * subscribed names non-empty, one line.
 * What is refused is refused as malformed or unsafe, never "absent".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "folder-names.h"
#include "fuzz-common.h"
#include "maildir-reader.h"

#define SEP "%%\n"
#define MAX_NAMES 32

/* bits of the first byte beyond enum maildir_open_flags (bits 0-3) */
#define F_NO_UIDLIST (1 << 4)
#define F_NO_KEYWORDS (1 << 5)
#define F_NO_SUBSCRIPTIONS (1 << 6)
#define F_SPECIAL (1 << 7)		/* a symlink and a FIFO in cur/ */

struct part {
	const char *data;
	size_t len;
	bool present;
};

static void put(int dfd, const char *name, const struct part *p)
{
	int fd;

	if (!p->present)
		return;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(p->len == 0 || write(fd, p->data, p->len) ==
		   (ssize_t)p->len);
	close(fd);
}

/* Where the next separator line "%%" of IN[0..LEN) begins (at the start
 * of IN or after a newline), or NULL. */
static const char *find_sep(const char *in, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		if ((i == 0 || in[i - 1] == '\n') && memcmp(in + i, SEP, 3) == 0)
			return in + i;
	}
	return NULL;
}

/* Splits IN (LEN bytes) at the "%%" lines into PARTS (missing ones not
 * present; a part keeps the newline before its separator). */
static void split(const char *in, size_t len, struct part *parts, int n)
{
	const char *p = in, *end = in + len;

	for (int i = 0; i < n; i++) {
		const char *sep;

		parts[i].present = p != NULL;
		if (p == NULL) {
			parts[i].data = end;
			parts[i].len = 0;
			continue;
		}
		sep = i < n - 1 ? find_sep(p, (size_t)(end - p)) : NULL;
		parts[i].data = p;
		if (sep == NULL) {
			parts[i].len = (size_t)(end - p);
			p = NULL;
		} else {
			parts[i].len = (size_t)(sep - p);
			p = sep + 3;
		}
	}
}

/* The name checks that need no file. */
static void check_name(const char *name)
{
	unsigned int flags, kw, flags2, kw2;
	char buf[8], info[16], *folder;

	maildir_name_flags(name, &flags, &kw);
	FUZZ_CHECK(flags < 64);
	if (strstr(name, ":2,") == NULL)
		FUZZ_CHECK(flags == 0 && kw == 0);
	/* the letters of FLAGS give FLAGS again */
	snprintf(info, sizeof(info), ":2,%s", maildir_flags_str(flags, buf));
	maildir_name_flags(info, &flags2, &kw2);
	FUZZ_CHECK(flags2 == flags && kw2 == 0);
	folder = maildir_dirname_to_name(name);
	if (folder != NULL) {
		FUZZ_CHECK(name[0] == '.' && folder[0] != '\0');
		/* no empty level (a directory name has no '/') */
		if (strchr(name, '/') == NULL)
			FUZZ_CHECK(strstr(folder, "//") == NULL &&
				   folder[strlen(folder) - 1] != '/');
		free(folder);
	}
}

/* Creates the message files the names part asks for; returns how many
 * (their names in NAMES, IN_NEW). */
static int make_files(int curfd, int newfd, const struct part *p,
		      char names[][256], bool *in_new)
{
	const char *s = p->data, *end = p->data + p->len;
	int n = 0;

	while (s < end && n < MAX_NAMES) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		char name[256];
		bool new = len > 4 && memcmp(s, "new/", 4) == 0;
		int fd;

		if (len < sizeof(name)) {
			memcpy(name, s, len);
			name[len] = '\0';
			check_name(name);
			memmove(name, name + (new ? 4 : 0),
				len + 1 - (new ? 4 : 0));
			if (strlen(name) == len - (new ? 4 : 0) &&
			    name[0] != '\0' && strchr(name, '/') == NULL &&
			    strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
				fd = openat(new ? newfd : curfd, name,
					    O_WRONLY | O_CREAT | O_EXCL, 0600);
				if (fd >= 0) {
					close(fd);
					snprintf(names[n], 256, "%s", name);
					in_new[n++] = new;
				}
			}
		}
		s += len + 1;
	}
	return n;
}

static void check_folder(const struct maildir_reader *md, unsigned int flags)
{
	unsigned long last = 0;

	for (size_t i = 0; i < md->nuids; i++) {
		const struct maildir_uid *u = &md->uids[i];

		FUZZ_CHECK(u->base != NULL);
		if (flags & MAILDIR_OPEN_UIDLIST_STRICT) {
			FUZZ_CHECK(u->uid > last && u->uid <= 0xffffffffUL);
			/* no base twice */
			FUZZ_CHECK(maildir_reader_find_uid(md, u->base) == u);
			FUZZ_CHECK(u->base[0] != '\0' &&
				   strchr(u->base, '/') == NULL);
			last = u->uid;
		}
		/* the index finds a line of that base */
		FUZZ_CHECK(maildir_reader_find_uid(md, u->base) != NULL);
		FUZZ_CHECK(strcmp(maildir_reader_find_uid(md, u->base)->base,
				  u->base) == 0);
	}
	for (size_t i = 0; i < md->nfiles; i++) {
		const struct maildir_file *m = &md->files[i];
		const struct maildir_uid *u = maildir_reader_find_uid(md,
								       m->base);
		unsigned int fl, kw;

		FUZZ_CHECK(i == 0 || strcmp(md->files[i - 1].base,
					    m->base) <= 0);
		FUZZ_CHECK(strchr(m->base, ':') == NULL);
		FUZZ_CHECK(strncmp(m->name, m->base, strlen(m->base)) == 0);
		maildir_name_flags(m->name, &fl, &kw);
		FUZZ_CHECK(fl == m->flags && kw == m->keywords);
		FUZZ_CHECK(m->uid == (u != NULL ? u->uid : 0));
		FUZZ_CHECK(maildir_reader_file(md, m->base) != NULL);
		if (flags & MAILDIR_OPEN_REFUSE_SPECIAL)
			FUZZ_CHECK(!m->special);
	}
	for (int i = 0; i < MAILDIR_MAX_KEYWORDS; i++) {
		const char *k = md->keywords[i];

		if (k != NULL)
			FUZZ_CHECK(k[0] != '\0' && strchr(k, '\n') == NULL);
	}
}

/* Read (a file holding a NUL byte may be refused: no text file). */
static void check_subscriptions(int rootfd, const char *root,
				const struct part *p)
{
	struct m2d_error err;
	char **names;

	if (maildir_read_subscriptions(rootfd, root, &names, &err) < 0) {
		FUZZ_CHECK(p->present && memchr(p->data, '\0', p->len) != NULL);
		FUZZ_CHECK(err.code != M2D_OK);
		return;
	}
	FUZZ_CHECK(p->present == (names != NULL));
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		const char *s = names[i];

		/* a raw '/' in a line is taken as it is (harmless: a
		 * name is only compared with those of the folders) */
		FUZZ_CHECK(s[0] != '\0' && strchr(s, '\n') == NULL);
		FUZZ_CHECK(strlen(s) < 1024);
	}
	maildir_names_free(names);
}

static void clean_dir(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	FUZZ_CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			FUZZ_CHECK(unlinkat(dfd, e->d_name, 0) == 0);
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[512], names[MAX_NAMES][256];
	bool in_new[MAX_NAMES];
	struct part parts[4];
	struct maildir_reader md;
	struct m2d_error err;
	unsigned int bits, flags;
	int rootfd, curfd, newfd, rc;

	if (size == 0)
		return 0;
	bits = data[0];
	flags = bits & 15;
	split((const char *)data + 1, size - 1, parts, 4);
	parts[0].present &= !(bits & F_NO_UIDLIST);
	parts[1].present &= !(bits & F_NO_KEYWORDS);
	parts[2].present &= !(bits & F_NO_SUBSCRIPTIONS);

	snprintf(root, sizeof(root), "%s/md", fuzz_dir());
	mkdir(root, 0700);
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	FUZZ_CHECK(rootfd >= 0);
	mkdirat(rootfd, "cur", 0700);
	mkdirat(rootfd, "new", 0700);
	curfd = openat(rootfd, "cur", O_RDONLY | O_DIRECTORY);
	newfd = openat(rootfd, "new", O_RDONLY | O_DIRECTORY);
	FUZZ_CHECK(curfd >= 0 && newfd >= 0);
	put(rootfd, "dovecot-uidlist", &parts[0]);
	put(rootfd, "dovecot-keywords", &parts[1]);
	put(rootfd, "subscriptions", &parts[2]);
	make_files(curfd, newfd, &parts[3], names, in_new);
	if (bits & F_SPECIAL) {
		FUZZ_CHECK(symlinkat("/etc/passwd", curfd, "link:2,S") == 0 ||
			   errno == EEXIST);
		FUZZ_CHECK(mkfifoat(curfd, "fifo", 0600) == 0 ||
			   errno == EEXIST);
	}

	rc = maildir_reader_open(&md, root, "", flags, &err);
	FUZZ_CHECK(rc != 0);
	if (rc > 0) {
		FUZZ_CHECK(parts[0].present ||
			   (flags & MAILDIR_OPEN_UIDLIST_OPTIONAL));
		check_folder(&md, flags);
	} else {
		FUZZ_CHECK(err.code == M2D_ERR_MALFORMED ||
			   err.code == M2D_ERR_UNSAFE ||
			   (!parts[0].present &&
			    !(flags & MAILDIR_OPEN_UIDLIST_OPTIONAL)));
	}
	maildir_reader_free(&md);
	check_subscriptions(rootfd, root, &parts[2]);

	clean_dir(curfd);
	clean_dir(newfd);
	unlinkat(rootfd, "dovecot-uidlist", 0);
	unlinkat(rootfd, "dovecot-keywords", 0);
	unlinkat(rootfd, "subscriptions", 0);
	close(curfd);
	close(newfd);
	unlinkat(rootfd, "cur", AT_REMOVEDIR);
	unlinkat(rootfd, "new", AT_REMOVEDIR);
	close(rootfd);
	rmdir(root);
	return 0;
}
