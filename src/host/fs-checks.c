/* SPDX-License-Identifier: MIT */
/* fs-checks.c - inodes, space and subdirectories of the target file system */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fs-checks.h"
#include "fs-checks-private.h"
#include "from-line.h"
#include "mbx-reader.h"
#include "mix-reader.h"
#include "mmdf-reader.h"
#include "i18n.h"
#include "safe-file.h"
#include "xalloc.h"

/* ---- check results ---- */

void check_result_init(struct check_result *res, const char *id,
		       const char *title)
{
	memset(res, 0, sizeof(*res));
	res->id = id;
	res->title = title;
	res->status = CHECK_PASS;
}

int check_result_figure(struct check_result *res, const char *key,
			long long value)
{
	if (res->nfigures >= CHECK_MAX_FIGURES)
		return -1;
	res->figures[res->nfigures].key = key;
	res->figures[res->nfigures].value = value;
	res->nfigures++;
	return 0;
}

const struct check_figure *
check_result_get(const struct check_result *res, const char *key)
{
	for (size_t i = 0; i < res->nfigures; i++) {
		if (strcmp(res->figures[i].key, key) == 0)
			return &res->figures[i];
	}
	return NULL;
}

const char *check_status_id(enum check_status status)
{
	switch (status) {
	case CHECK_PASS:
		return "pass";
	case CHECK_WARN:
		return "warn";
	case CHECK_FAIL:
		return "fail";
	}
	return "fail";
}

const char *check_status_str(enum check_status status)
{
	switch (status) {
	case CHECK_PASS:
		return _("PASS");
	case CHECK_WARN:
		return _("WARN");
	case CHECK_FAIL:
		return _("FAIL");
	}
	return _("FAIL");
}

/* ---- counting messages ---- */

/* Read 256 KiB at a time into a page-aligned buffer: the kernel's copy
 * is fastest to an aligned destination, and the piece (with the page
 * cache pages it came from) is still in a 1 MiB L2 cache when it is
 * searched.  Measured on the 2-core Zen 5 VM, 512 MiB from the page
 * cache: 128 KiB 41 ms, 256 KiB 38 ms, 512 KiB 38 ms, 1 MiB 44 ms.
 * Tried there and slower: mmap() (2 GB/s: the page faults, even with
 * MAP_POPULATE), and a reader thread filling a ring of buffers while
 * this one searches (slower under load: the other core is busy, and the
 * buffers cross caches). */
#define SCAN_BUF (256 * 1024)
#define SCAN_ALIGN 4096
#define FROM_MAX (64 * 1024)
#define PSEUDO_PEEK (64 * 1024)

static unsigned long long sat_add(unsigned long long a, unsigned long long b)
{
	return a > ULLONG_MAX - b ? ULLONG_MAX : a + b;
}

static void scan_add_message(struct fs_scan *scan, unsigned long long size)
{
	scan->messages++;
	scan->bytes = sat_add(scan->bytes, size);
	for (int i = 0; i < FS_EST_NBLOCK; i++) {
		unsigned long long mask = (512ULL << i) - 1;

		/* sizes come from file offsets: no overflow here */
		scan->rounded[i] = sat_add(scan->rounded[i],
					   (size + mask) & ~mask);
	}
}

static bool header_is_pseudo(const char *p, size_t len)
{
	/* P points just after the first From_ line: is there an "X-IMAP:"
	 * header line (not X-IMAPbase) before the blank line?  That is
	 * UW's folder-internal pseudo-message. */
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t ll = nl != NULL ? (size_t)(nl - (p + i)) : len - i;

		if (ll == 0 || (ll == 1 && p[i] == '\r'))
			return false;	/* end of the header */
		if (ll >= 7 && strncasecmp(p + i, "X-IMAP:", 7) == 0)
			return true;
		if (nl == NULL)
			return false;
		i += ll + 1;
	}
	return false;
}

struct scan_ctx {
	struct fs_scan *scan;
	long long body;		/* offset after the current From_ line, or
				 * -1 before the first message */
	bool first;		/* the current message is message 1 */
	bool skip_first;	/* ... and it is UW's pseudo-message */
	bool in_header;		/* before the current message's first empty
				 * line: no From_ line separates there */
};

static void scan_separator(struct scan_ctx *c, long long off, size_t len)
{
	if (c->body >= 0) {
		if (!(c->first && c->skip_first))
			scan_add_message(c->scan,
					 (unsigned long long)(off - c->body));
		c->first = false;
	}
	c->body = off + (long long)len;
	c->in_header = true;
}

/* Is BUF[AT..LIM) a "From " line that separates as the reader (and
 * c-client) decide: UW's VALID shape, ending in a LF?  Then count it, and
 * return the offset after it (else 0). */
static size_t scan_candidate(struct scan_ctx *c, const char *buf, size_t at,
			     size_t lim, long long base)
{
	const char *p = buf + at, *nl;
	struct from_line fl;
	size_t ll;

	if (lim - at < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	nl = memchr(p, '\n', lim - at);
	if (nl == NULL)
		return 0;
	ll = (size_t)(nl - p);
	if (ll >= FROM_MAX || from_line_parse_uw(p, ll, &fl) != 1)
		return 0;
	scan_separator(c, base + (long long)at, ll + 1);
	return at + ll + 1;
}

/* Where the header that goes on at BUF[I] ends: after its first empty
 * line ("\n" or "\r\n" at a line start; BUF[I] starts a line when BOL),
 * or SIZE_MAX when it goes on past LIM. */
static size_t scan_header_end(const char *buf, size_t i, size_t lim, bool bol)
{
	const char *a, *b;
	size_t end;

	if (bol && i < lim) {
		if (buf[i] == '\n')
			return i + 1;
		if (buf[i] == '\r' && i + 1 < lim && buf[i + 1] == '\n')
			return i + 2;
	}
	if (i >= lim)
		return SIZE_MAX;
	a = memmem(buf + i, lim - i, "\n\n", 2);
	/* a "\n\r\n" that ends at most one byte after A's "\n\n" is
	 * first; never past LIM (what is beyond was not read) */
	end = a != NULL && (size_t)(a - buf) + 3 < lim ?
		(size_t)(a - buf) + 3 : lim;
	b = memmem(buf + i, end - i, "\n\r\n", 3);
	if (b != NULL && (a == NULL || b < a))
		return (size_t)(b - buf) + 3;
	if (a != NULL)
		return (size_t)(a - buf) + 2;
	return SIZE_MAX;
}

/*
 * The separator search: the smallest I >= FROM with I + 1 < LIM,
 * BUF[I] == '\n' and BUF[I + 1] == 'F', or LIM when there is none.  A
 * separator starts right after such a pair, so that ordinary lines cost
 * no function call -- this is what keeps the scan at the speed of
 * reading.  Variants: AVX2 (x86-64, chosen at run time; 64 bytes per
 * round), GCC/Clang vector extensions (16 bytes at a time), plain C.
 */
typedef size_t scan_find_fn(const char *buf, size_t from, size_t lim);

static size_t scan_find_plain(const char *buf, size_t i, size_t lim)
{
	for (; i + 1 < lim; i++) {
		if (buf[i] == '\n' && buf[i + 1] == 'F')
			return i;
	}
	return lim;
}

#if defined(__GNUC__) || defined(__clang__)
typedef unsigned char scan_v16 __attribute__((vector_size(16)));
typedef signed char scan_m16 __attribute__((vector_size(16)));
typedef uint64_t scan_u64x2 __attribute__((vector_size(16)));

/* Index (0..7, by address) of the first non-zero byte of W, loaded with
 * memcpy from 8 bytes of memory; W != 0. */
static int scan_first_byte(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_clzll(w) / 8;
#else
	return __builtin_ctzll(w) / 8;
#endif
}

static size_t scan_find_vector(const char *buf, size_t i, size_t lim)
{
	const scan_v16 nl = { '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
			      '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n' };
	const scan_v16 ff = { 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F',
			      'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F' };

	/* 64 bytes per round: four 16-byte pairs of loads, one test */
	for (; i + 65 <= lim; i += 64) {
		scan_m16 m[4], any;
		scan_u64x2 q;
		uint64_t w[8];

		for (int j = 0; j < 4; j++) {
			scan_v16 a, b;

			memcpy(&a, buf + i + 16 * j, 16);
			memcpy(&b, buf + i + 16 * j + 1, 16);
			m[j] = (scan_m16)(a == nl) & (scan_m16)(b == ff);
		}
		any = m[0] | m[1] | m[2] | m[3];
		q = (scan_u64x2)any;
		if ((q[0] | q[1]) == 0)
			continue;
		/* each matching byte is 0xff (memcpy keeps the byte order,
		 * so on a big-endian machine the lowest address is the
		 * highest byte) */
		memcpy(w, m, sizeof(w));
		for (int j = 0; j < 8; j++) {
			if (w[j] != 0)
				return i + 8 * (size_t)j +
				       (size_t)scan_first_byte(w[j]);
		}
	}
	return scan_find_plain(buf, i, lim);
}
#define SCAN_FIND_PORTABLE scan_find_vector
#else
#define SCAN_FIND_PORTABLE scan_find_plain
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SCAN_HAVE_AVX2 1

__attribute__((target("avx2")))
static size_t scan_find_avx2(const char *buf, size_t i, size_t lim)
{
	const __m256i nl = _mm256_set1_epi8('\n');
	const __m256i ff = _mm256_set1_epi8('F');

	for (; i + 65 <= lim; i += 64) {
		const char *p = buf + i;
		__m256i a0 = _mm256_loadu_si256((const __m256i *)p);
		__m256i a1 = _mm256_loadu_si256((const __m256i *)(p + 32));
		__m256i b0 = _mm256_loadu_si256((const __m256i *)(p + 1));
		__m256i b1 = _mm256_loadu_si256((const __m256i *)(p + 33));
		__m256i m0 = _mm256_and_si256(_mm256_cmpeq_epi8(a0, nl),
					      _mm256_cmpeq_epi8(b0, ff));
		__m256i m1 = _mm256_and_si256(_mm256_cmpeq_epi8(a1, nl),
					      _mm256_cmpeq_epi8(b1, ff));

		if (_mm256_testz_si256(_mm256_or_si256(m0, m1),
				       _mm256_or_si256(m0, m1)))
			continue;
		uint64_t m = (uint32_t)_mm256_movemask_epi8(m0) |
			     (uint64_t)(uint32_t)_mm256_movemask_epi8(m1) << 32;

		return i + (size_t)__builtin_ctzll(m);
	}
	return scan_find_plain(buf, i, lim);
}
#else
#define SCAN_HAVE_AVX2 0
#endif

bool fs_scan_impl_available(enum fs_scan_impl impl)
{
	switch (impl) {
	case FS_SCAN_BEST:
	case FS_SCAN_PLAIN:
	case FS_SCAN_PORTABLE:
		return true;
	case FS_SCAN_AVX2:
#if SCAN_HAVE_AVX2
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
#else
		return false;
#endif
	}
	return false;
}

static scan_find_fn *scan_find_pick(enum fs_scan_impl impl)
{
	switch (impl) {
	case FS_SCAN_PLAIN:
		return scan_find_plain;
	case FS_SCAN_PORTABLE:
		return SCAN_FIND_PORTABLE;
	case FS_SCAN_AVX2:
	case FS_SCAN_BEST:
#if SCAN_HAVE_AVX2
		if (fs_scan_impl_available(FS_SCAN_AVX2))
			return scan_find_avx2;
#endif
		break;
	}
	return SCAN_FIND_PORTABLE;
}

/* The lines of BUF[0..LIM) (complete, but for the very last one at the
 * end of the file); BUF[0] starts a line when BOL. */
static void scan_lines(struct scan_ctx *c, scan_find_fn *find,
		       const char *buf, size_t lim, long long base, bool bol)
{
	size_t i = 0, e;

	if (bol && !c->in_header && (e = scan_candidate(c, buf, 0, lim,
							  base)) != 0)
		i = e;
	for (;;) {
		if (c->in_header) {
			/* a From_ line in a header is a header line */
			i = scan_header_end(buf, i, lim, i == 0 ? bol :
					    buf[i - 1] == '\n');
			if (i == SIZE_MAX)
				return;
			c->in_header = false;
			/* the line after the header may separate */
			if ((e = scan_candidate(c, buf, i, lim, base)) != 0) {
				i = e;
				continue;
			}
		}
		i = find(buf, i, lim);
		if (i >= lim)
			return;
		if ((e = scan_candidate(c, buf, i + 1, lim, base)) != 0)
			i = e;
		else
			i++;
	}
}

int fs_scan_count_with(int fd, const char *path, size_t read_size,
		       enum fs_scan_impl impl, struct fs_scan *scan,
		       struct m2d_error *err)
{
	scan_find_fn *find = scan_find_pick(impl);
	struct scan_ctx c;
	struct from_line fl;
	void *mem;
	char *rd;
	size_t have = 0;	/* carried bytes, just before RD */
	long long base = 0;	/* file offset of RD - HAVE */
	bool bol = true;	/* RD - HAVE starts a line */
	ssize_t n;

	memset(scan, 0, sizeof(*scan));
	memset(&c, 0, sizeof(c));
	c.scan = scan;
	c.body = -1;
	c.first = true;
	if (read_size == 0)
		read_size = SCAN_BUF;

	/* FROM_MAX bytes for the carried start of a line, then the aligned
	 * piece that each read fills: only the carried line is copied */
	if (posix_memalign(&mem, SCAN_ALIGN,
			   FROM_MAX + (read_size > PSEUDO_PEEK ?
				       read_size : PSEUDO_PEEK)) != 0)
		xalloc_die();	/* EINVAL cannot be: SCAN_ALIGN is fine */
	rd = (char *)mem + FROM_MAX;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	/* Message 1 may be UW's pseudo-message: look at its header once. */
	n = sf_pread_full(fd, rd, PSEUDO_PEEK, 0);
	if (n < 0)
		goto fail;
	if (n >= 5 && memcmp(rd, "From ", 5) == 0) {
		const char *nl = memchr(rd, '\n', (size_t)n);

		if (nl != NULL &&
		    from_line_parse(rd, (size_t)(nl - rd), &fl) == 1 &&
		    header_is_pseudo(nl + 1, (size_t)(rd + n - (nl + 1)))) {
			c.skip_first = true;
			scan->pseudo = true;
		}
	}

	for (;;) {
		char *buf = rd - have;
		size_t len, lim;
		bool eof;

		n = pread(fd, rd, read_size, (off_t)(base + (long long)have));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		eof = n == 0;
		len = have + (size_t)n;
		if (eof) {
			lim = len;
		} else {
			const char *last = memrchr(buf, '\n', len);

			lim = last != NULL ? (size_t)(last - buf) + 1 : 0;
		}
		scan_lines(&c, find, buf, lim, base, bol);
		if (eof) {
			base += (long long)len;
			break;
		}
		/* the incomplete last line: kept (moved to just before RD)
		 * for the next read when it may still become a separator,
		 * else dropped */
		if (len - lim < FROM_MAX && (lim > 0 || bol)) {
			have = len - lim;
			memmove(rd - have, buf + lim, have);
			base += (long long)lim;
			bol = true;
		} else {
			have = 0;
			base += (long long)len;
			bol = false;
		}
	}
	/* the last message ends at the end of the file */
	scan_separator(&c, base, 0);
	free(mem);
	return 0;
fail:
	m2d_error_sys(err, "read", path);
	free(mem);
	return -1;
}

int fs_scan_count(int fd, const char *path, struct fs_scan *scan,
		  struct m2d_error *err)
{
	return fs_scan_count_with(fd, path, 0, FS_SCAN_BEST, scan, err);
}

/* ---- the estimate ---- */

struct root_ref {
	const char *parent;	/* points into a copy owned by the caller */
	const char *child;
};

static int root_ref_cmp(const void *a, const void *b)
{
	const struct root_ref *x = a, *y = b;
	int c = strcmp(x->parent, y->parent);

	return c != 0 ? c : strcmp(x->child, y->child);
}

static int child_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct root_ref *)elem)->child);
}

/* Subdirectories of PARENT that are not among the planned REFS[0..N). */
static int count_existing(const char *parent, const struct root_ref *refs,
			  size_t n, unsigned long long *count_r,
			  struct m2d_error *err)
{
	DIR *dir;
	struct dirent *de;
	int dfd;

	*count_r = 0;
	dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;	/* created by the migration */
		return m2d_error_sys(err, "open", parent);
	}
	dir = fdopendir(dfd);
	if (dir == NULL) {
		m2d_error_sys(err, "fdopendir", parent);
		close(dfd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		bool is_dir = de->d_type == DT_DIR;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			is_dir = S_ISDIR(st.st_mode);
		/* only subdirectories take a link of PARENT */
		if (is_dir && n > 0 && bsearch(de->d_name, refs, n, sizeof(*refs),
				      child_cmp) == NULL)
			(*count_r)++;
		errno = 0;
	}
	if (errno != 0) {
		m2d_error_sys(err, "readdir", parent);
		closedir(dir);
		return -1;
	}
	closedir(dir);
	return 0;
}

static int estimate_dirs(const struct plan *plan, struct fs_estimate *est,
			 struct m2d_error *err)
{
	struct root_ref *refs;
	char **copies;
	size_t n = 0, i, j;
	int ret = 0;

	refs = xcalloc(plan->nusers + 1, sizeof(*refs));
	copies = xcalloc(plan->nusers + 1, sizeof(*copies));
	for (i = 0; i < plan->nusers; i++) {
		const char *t = plan->users[i].target;
		char *c, *slash;

		if (t == NULL)
			continue;
		c = xstrdup(t);
		copies[n] = c;
		/* strip trailing slashes, then split at the last one */
		for (size_t l = strlen(c); l > 1 && c[l - 1] == '/'; l--)
			c[l - 1] = '\0';
		slash = strrchr(c, '/');
		if (slash == NULL) {
			refs[n].parent = ".";
			refs[n].child = c;
		} else if (slash == c) {
			refs[n].parent = "/";
			refs[n].child = c + 1;
		} else {
			*slash = '\0';
			refs[n].parent = c;
			refs[n].child = slash + 1;
		}
		n++;
	}
	if (n > 0)
		qsort(refs, n, sizeof(*refs), root_ref_cmp);
	for (i = 0; i < n; i = j) {
		unsigned long long planned = 0, existing;

		for (j = i; j < n && strcmp(refs[j].parent, refs[i].parent) == 0;
		     j++) {
			if (j == i || strcmp(refs[j].child, refs[j - 1].child) != 0)
				planned++;
		}
		if (count_existing(refs[i].parent, refs + i, j - i, &existing,
				   err) < 0) {
			ret = -1;
			goto out;
		}
		if (planned + existing > est->dir_entries ||
		    est->dir_path[0] == '\0') {
			est->dir_entries = planned + existing;
			est->dir_existing = existing;
			snprintf(est->dir_path, sizeof(est->dir_path), "%s",
				 refs[i].parent);
		}
	}
out:
	for (i = 0; i < n; i++)
		free(copies[i]);
	free(copies);
	free(refs);
	return ret;
}

static void estimate_add_size(struct fs_estimate *est, long long size)
{
	unsigned long long s = size > 0 ? (unsigned long long)size : 0;

	est->bytes = sat_add(est->bytes, s);
	for (int i = 0; i < FS_EST_NBLOCK; i++) {
		unsigned long long bs = 512ULL << i;

		est->rounded[i] = sat_add(est->rounded[i],
					  s == 0 ? 0 : (s + bs - 1) / bs * bs);
	}
}

/* An mbx, mix or MMDF folder's live messages, by its reader. */
static int scan_uw(const struct plan_folder *f, struct fs_scan *scan)
{
	struct mbx_reader *mbx = NULL;
	struct mix_reader *mix = NULL;
	struct mmdf_reader *mmdf = NULL;
	struct m2d_error err;
	struct uw_msg m;
	int rc = -1;

	memset(scan, 0, sizeof(*scan));
	if (f->format == UW_FMT_MBX &&
	    mbx_reader_open(AT_FDCWD, f->source, NULL, &mbx, &err) == 0) {
		while ((rc = mbx_reader_next(mbx, &m, &err)) > 0)
			scan_add_message(scan, m.size);
	} else if (f->format == UW_FMT_MIX &&
		   mix_reader_open(AT_FDCWD, f->source, NULL, &mix,
				   &err) == 0) {
		while ((rc = mix_reader_next(mix, &m, &err)) > 0)
			scan_add_message(scan, m.size);
	} else if (f->format == UW_FMT_MMDF &&
		   mmdf_reader_open(AT_FDCWD, f->source, NULL, &mmdf,
				    &err) == 0) {
		while ((rc = mmdf_reader_next(mmdf, &m, &err)) > 0)
			scan_add_message(scan, m.size);
	}
	mbx_reader_close(&mbx);
	mix_reader_close(&mix);
	mmdf_reader_close(&mmdf);
	return rc;
}

static void scan_sum(struct fs_estimate *est, const struct fs_scan *scan)
{
	est->messages = sat_add(est->messages, scan->messages);
	est->bytes = sat_add(est->bytes, scan->bytes);
	for (int i = 0; i < FS_EST_NBLOCK; i++)
		est->rounded[i] = sat_add(est->rounded[i], scan->rounded[i]);
}

/* The mbox PATH's messages into EST. */
static int scan_mbox(const char *path, struct fs_estimate *est,
		     unsigned long long *bytes_done)
{
	struct fs_scan scan;
	struct m2d_error err;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
		  O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fs_scan_count(fd, path, &scan, &err) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	scan_sum(est, &scan);
	*bytes_done = sat_add(*bytes_done, (unsigned long long)st.st_size);
	return 0;
}

/* A folder's messages: an mbx, mix or MMDF one by its reader, an mbox
 * by the scanner; an mbx or mix INBOX's spool file too. */
static int scan_folder(const struct plan_folder *f, struct fs_estimate *est,
		       unsigned long long *bytes_done)
{
	struct fs_scan scan;

	if (f->format != UW_FMT_MBX && f->format != UW_FMT_MIX &&
	    f->format != UW_FMT_MMDF)
		return scan_mbox(f->source, est, bytes_done);
	if (scan_uw(f, &scan) < 0)
		return -1;
	scan_sum(est, &scan);
	*bytes_done = sat_add(*bytes_done, f->size > 0 ?
			      (unsigned long long)f->size : 0);
	/* the spool's size is in f->size already */
	if (f->spool != NULL) {
		unsigned long long ignored = 0;

		if (scan_mbox(f->spool, est, &ignored) < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

int fs_estimate_plan(const struct plan *plan, bool scan,
		     fs_estimate_progress_fn *progress, void *ctx,
		     struct fs_estimate *est, struct m2d_error *err)
{
	unsigned long long *user_folders, bytes_done = 0;
	size_t i, done = 0, total = 0;

	memset(est, 0, sizeof(*est));
	est->users = plan->nusers;
	est->scanned = scan;
	user_folders = xcalloc(plan->nusers + 1, sizeof(*user_folders));

	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip != PLAN_TAKEN)
			continue;
		total++;
		if (f->user < plan->nusers && f->dirname != NULL &&
		    f->dirname[0] != '\0')
			user_folders[f->user]++;
	}
	est->folders = total;
	for (i = 0; i < plan->nusers; i++) {
		if (user_folders[i] > est->user_folders ||
		    (i == 0 && plan->users[i].name != NULL)) {
			est->user_folders = user_folders[i];
			snprintf(est->user_name, sizeof(est->user_name), "%s",
				 plan->users[i].name != NULL ?
				 plan->users[i].name : "");
		}
	}
	free(user_folders);

	if (estimate_dirs(plan, est, err) < 0)
		return -1;

	for (i = 0; i < plan->nfolders; i++) {
		const struct plan_folder *f = &plan->folders[i];

		if (f->skip != PLAN_TAKEN)
			continue;
		if (!scan || f->source == NULL ||
		    scan_folder(f, est, &bytes_done) < 0) {
			if (scan)
				est->unreadable++;
			estimate_add_size(est, f->size);
			if (f->size > 0)
				bytes_done = sat_add(bytes_done,
						     (unsigned long long)f->size);
		}
		done++;
		if (progress != NULL &&
		    progress(done, total, bytes_done, ctx) != 0)
			return m2d_error_set(err, M2D_ERR_CANCELLED, NULL, "%s",
					     _("cancelled"));
	}
	return 0;
}

unsigned long long fs_estimate_bytes(const struct fs_estimate *est,
				     unsigned long block_size)
{
	unsigned long long bs;

	for (int i = 0; i < FS_EST_NBLOCK; i++) {
		if ((512ULL << i) >= block_size)
			return est->rounded[i];
	}
	/* bigger blocks than we kept: at most one more block per message */
	bs = block_size;
	return sat_add(est->rounded[FS_EST_NBLOCK - 1],
		       est->messages > ULLONG_MAX / bs ? ULLONG_MAX :
		       est->messages * bs);
}

/* ---- probing the file system ---- */

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* PATH, or the nearest ancestor that exists, into OUT. */
static int nearest_existing(const char *path, char *out, size_t size,
			    bool *exists_r, struct m2d_error *err)
{
	struct stat st;
	char *slash;

	if (strlen(path) >= size)
		return m2d_error_set(err, M2D_ERR_USAGE, path, "%s",
				     _("path too long"));
	copy_str(out, size, path[0] != '\0' ? path : ".");
	*exists_r = true;
	for (;;) {
		if (stat(out, &st) == 0)
			return 0;
		if (errno != ENOENT && errno != ENOTDIR)
			return m2d_error_sys(err, "stat", out);
		*exists_r = false;
		for (size_t l = strlen(out); l > 1 && out[l - 1] == '/'; l--)
			out[l - 1] = '\0';
		slash = strrchr(out, '/');
		if (slash == NULL)
			copy_str(out, size, ".");
		else if (slash == out)
			out[1] = '\0';
		else
			*slash = '\0';
	}
}

/* mountinfo escapes ' ', '\t', '\n', '\\' as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static bool path_under(const char *path, const char *mnt)
{
	size_t l = strlen(mnt);

	if (strcmp(mnt, "/") == 0)
		return path[0] == '/';
	return strncmp(path, mnt, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static void read_mountinfo(const char *file, dev_t dev, const char *real,
			   struct fs_info *info)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	size_t best_len = 0;
	bool best_dev = false, found = false;

	fp = fopen(file, "re");
	if (fp == NULL)
		return;
	while (getline(&line, &cap, fp) > 0) {
		char *save = NULL, *f[6], *tok, *type = NULL, *src = NULL;
		unsigned int maj, min;
		int nf = 0;
		bool same_dev;
		size_t ml;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok != NULL;
		     tok = strtok_r(NULL, " ", &save)) {
			f[nf++] = tok;
			if (nf == 6)
				break;
		}
		if (nf < 6)
			continue;
		/* optional fields up to "-", then type and source */
		while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
			if (strcmp(tok, "-") == 0) {
				type = strtok_r(NULL, " ", &save);
				src = strtok_r(NULL, " ", &save);
				break;
			}
		}
		if (type == NULL || src == NULL ||
		    sscanf(f[2], "%u:%u", &maj, &min) != 2)
			continue;
		unescape_octal(f[4]);
		if (!path_under(real, f[4]))
			continue;
		same_dev = makedev(maj, min) == dev;
		ml = strlen(f[4]);
		/* a mount on the same device beats any other; then the
		 * longest mount point; later lines (mounted later) win ties */
		if (found && (best_dev && !same_dev))
			continue;
		if (found && best_dev == same_dev && ml < best_len)
			continue;
		found = true;
		best_dev = same_dev;
		best_len = ml;
		unescape_octal(src);
		unescape_octal(type);
		copy_str(info->mountpoint, sizeof(info->mountpoint), f[4]);
		copy_str(info->fstype, sizeof(info->fstype), type);
		copy_str(info->source, sizeof(info->source), src);
	}
	free(line);
	fclose(fp);
}

static bool kernel_at_least(const char *release, int major, int minor)
{
	int a = 0, b = 0;

	if (sscanf(release, "%d.%d", &a, &b) < 1)
		return false;
	return a > major || (a == major && b >= minor);
}

static enum fs_ext_driver ext_driver(const struct fs_probe *probe, dev_t dev,
				     const struct fs_info *info)
{
	const char *sysfs = probe != NULL && probe->sysfs != NULL ?
		probe->sysfs : "/sys";
	char link[PATH_MAX], path[PATH_MAX + 64], target[PATH_MAX];
	struct utsname uts;
	const char *release = probe != NULL ? probe->kernel_release : NULL;
	const char *name;
	ssize_t n;

	/* the kernel's name of the device (s_id): /sys/dev/block/M:m ->
	 * ../../devices/.../NAME; the ext4 driver lists every file system
	 * it runs under /sys/fs/ext4/NAME, whatever its type is called */
	snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sysfs,
		 major(dev), minor(dev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		struct stat st;

		target[n] = '\0';
		name = strrchr(target, '/');
		name = name != NULL ? name + 1 : target;
		snprintf(path, sizeof(path), "%s/fs/ext4/%s", sysfs, name);
		if (stat(path, &st) == 0)
			return FS_DRIVER_EXT4;
		if (strcmp(info->fstype, "ext4") == 0)
			return FS_DRIVER_EXT4;
		if (strcmp(info->fstype, "ext2") == 0 ||
		    strcmp(info->fstype, "ext3") == 0)
			return FS_DRIVER_OLD;
	}
	if (strcmp(info->fstype, "ext4") == 0)
		return FS_DRIVER_EXT4;
	if (release == NULL && uname(&uts) == 0)
		release = uts.release;
	/* fs/ext3 was removed in Linux 4.3: ext3 is the ext4 driver since */
	if (release != NULL && strcmp(info->fstype, "ext3") == 0 &&
	    kernel_at_least(release, 4, 3))
		return FS_DRIVER_EXT4;
	return FS_DRIVER_UNKNOWN;
}

#define EXT_SB_OFFSET 1024
#define EXT_SB_MAGIC 0x38
#define EXT_SB_COMPAT 0x5C
#define EXT_SB_RO_COMPAT 0x64
#define EXT_COMPAT_DIR_INDEX 0x0020U
#define EXT_RO_COMPAT_DIR_NLINK 0x0020U

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static void read_superblock(dev_t dev, struct fs_info *info)
{
	unsigned char sb[1024];
	struct stat st;
	int fd;

	if (info->source[0] != '/') {
		info->super_errno = ENODEV;
		return;
	}
	fd = open(info->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		info->super_errno = errno;
		return;
	}
	/* the device must be the one that holds the file system (a stale
	 * or ambiguous mountinfo entry must not mislead us); a regular
	 * file is an image (tests) */
	if (fstat(fd, &st) < 0 ||
	    (S_ISBLK(st.st_mode) && st.st_rdev != dev) ||
	    (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))) {
		info->super_errno = ENODEV;
		close(fd);
		return;
	}
	errno = 0;
	if (sf_pread_full(fd, sb, sizeof(sb), EXT_SB_OFFSET) !=
	    (ssize_t)sizeof(sb)) {
		info->super_errno = errno != 0 ? errno : EIO;
		close(fd);
		return;
	}
	close(fd);
	if (sb[EXT_SB_MAGIC] != 0x53 || sb[EXT_SB_MAGIC + 1] != 0xEF) {
		info->super_errno = EINVAL;
		return;
	}
	info->dir_nlink = (le32(sb + EXT_SB_RO_COMPAT) &
			   EXT_RO_COMPAT_DIR_NLINK) != 0;
	info->dir_index = (le32(sb + EXT_SB_COMPAT) &
			   EXT_COMPAT_DIR_INDEX) != 0;
	info->super_errno = 0;
}

int fs_info_probe(const char *path, const struct fs_probe *probe,
		  struct fs_info *info, struct m2d_error *err)
{
	struct statfs sfs;
	struct statvfs svfs;
	struct stat st;
	char *real;

	memset(info, 0, sizeof(*info));
	info->dir_nlink = -1;
	info->dir_index = -1;
	copy_str(info->path, sizeof(info->path), path);
	if (nearest_existing(path, info->probed, sizeof(info->probed),
			     &info->exists, err) < 0)
		return -1;
	if (stat(info->probed, &st) < 0)
		return m2d_error_sys(err, "stat", info->probed);
	if (statfs(info->probed, &sfs) < 0)
		return m2d_error_sys(err, "statfs", info->probed);
	if (statvfs(info->probed, &svfs) < 0)
		return m2d_error_sys(err, "statvfs", info->probed);
	info->magic = (unsigned long long)sfs.f_type & 0xFFFFFFFFULL;
	info->bsize = svfs.f_bsize;
	info->frsize = svfs.f_frsize != 0 ? svfs.f_frsize : svfs.f_bsize;
	info->blocks = svfs.f_blocks;
	info->bavail = svfs.f_bavail;
	info->files = svfs.f_files;
	info->favail = svfs.f_favail;

	real = realpath(info->probed, NULL);
	read_mountinfo(probe != NULL && probe->mountinfo != NULL ?
		       probe->mountinfo : "/proc/self/mountinfo", st.st_dev,
		       real != NULL ? real : info->probed, info);
	free(real);
	if (info->magic == FS_MAGIC_EXT) {
		info->driver = ext_driver(probe, st.st_dev, info);
		read_superblock(st.st_dev, info);
	}
	return 0;
}

long long fs_subdir_limit(const struct fs_info *fs, bool *assumed_r)
{
	bool assumed = false;
	long long limit = -1;

	if (fs->magic == FS_MAGIC_EXT) {
		if (fs->driver == FS_DRIVER_OLD) {
			limit = 31998;
		} else if (fs->driver == FS_DRIVER_UNKNOWN &&
			   strcmp(fs->fstype, "ext4") != 0) {
			/* ext2/ext3 on an old kernel: maybe the old driver */
			limit = 31998;
			assumed = true;
		} else if (fs->dir_nlink < 0 || fs->dir_index < 0) {
			limit = 64998;
			assumed = true;
		} else if (!fs->dir_nlink || !fs->dir_index) {
			limit = 64998;
		}
	}
	if (assumed_r != NULL)
		*assumed_r = assumed;
	return limit;
}

/* ---- the checks ---- */

static unsigned long long with_margin(unsigned long long n)
{
	return sat_add(n, (n * FS_MARGIN_PERCENT + 99) / 100);
}

static long long ll(unsigned long long v)
{
	return v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)v;
}

static bool over_warn(unsigned long long need, unsigned long long avail)
{
	/* need > 80% of avail, exactly and without overflow */
	return need > avail / 100 * FS_WARN_PERCENT +
		avail % 100 * FS_WARN_PERCENT / 100;
}

static const char *fs_name(const struct fs_info *fs)
{
	if (fs->fstype[0] != '\0')
		return fs->fstype;
	switch (fs->magic) {
	case FS_MAGIC_EXT:
		return "ext2/3/4";
	case FS_MAGIC_XFS:
		return "xfs";
	case FS_MAGIC_BTRFS:
		return "btrfs";
	case FS_MAGIC_TMPFS:
		return "tmpfs";
	case FS_MAGIC_NFS:
		return "nfs";
	}
	return "?";
}

static const char *where(const struct fs_info *fs)
{
	return fs->mountpoint[0] != '\0' ? fs->mountpoint : fs->probed;
}

enum check_status fs_check_inodes(const struct fs_estimate *est,
				  const struct fs_info *fs,
				  struct check_result *res)
{
	unsigned long long need;

	check_result_init(res, "inodes", _("Free inodes"));
	need = sat_add(sat_add(est->messages,
			       est->folders * FS_INODES_PER_FOLDER),
		       est->users * FS_INODES_PER_USER);
	need = with_margin(need);
	check_result_figure(res, "needed", ll(need));
	check_result_figure(res, "messages", ll(est->messages));
	check_result_figure(res, "folders", ll(est->folders));
	check_result_figure(res, "users", ll(est->users));

	if (fs->files == 0) {
		/* btrfs and a few others: no inode table to run out of */
		snprintf(res->detail, sizeof(res->detail),
			 _("%llu inodes needed; %s on %s allocates inodes as "
			   "needed (no fixed count)"), need, fs_name(fs),
			 where(fs));
		return res->status = CHECK_PASS;
	}
	check_result_figure(res, "free", ll(fs->favail));
	check_result_figure(res, "total", ll(fs->files));
	if (need > fs->favail)
		res->status = CHECK_FAIL;
	else if (over_warn(need, fs->favail))
		res->status = CHECK_WARN;

	if (fs->magic == FS_MAGIC_XFS) {
		snprintf(res->detail, sizeof(res->detail),
			 _("%llu inodes needed, %llu free on %s (xfs: a "
			   "ceiling from free space and imaxpct, not a fixed "
			   "count)"), need, fs->favail, where(fs));
		if (res->status != CHECK_PASS)
			snprintf(res->fix, sizeof(res->fix),
				 _("raise the inode ceiling with 'xfs_growfs "
				   "-m PERCENT %s' (imaxpct), or free or add "
				   "space; or choose a target on another file "
				   "system"), where(fs));
	} else {
		snprintf(res->detail, sizeof(res->detail),
			 _("%llu inodes needed, %llu of %llu free on %s (%s)"),
			 need, fs->favail, fs->files, where(fs), fs_name(fs));
		if (res->status != CHECK_PASS && fs->magic == FS_MAGIC_EXT)
			snprintf(res->fix, sizeof(res->fix),
				 _("tune2fs cannot add inodes to ext2/3/4: "
				   "the count is fixed by mkfs (the runbook is "
				   "wrong there); grow the file system "
				   "(resize2fs adds inodes at the same "
				   "bytes-per-inode ratio), or put the target "
				   "on a file system made with more inodes "
				   "(mkfs.ext4 -N COUNT or -i BYTES) or on XFS "
				   "or btrfs"));
		else if (res->status != CHECK_PASS)
			snprintf(res->fix, sizeof(res->fix),
				 _("free inodes on %s or choose a target on "
				   "another file system with at least %llu "
				   "free inodes"), where(fs), need);
	}
	return res->status;
}

enum check_status fs_check_space(const struct fs_estimate *est,
				 const struct fs_info *fs,
				 struct check_result *res)
{
	unsigned long bs = fs->frsize != 0 ? fs->frsize : fs->bsize;
	unsigned long long need, avail, overhead;

	check_result_init(res, "space", _("Free space"));
	if (bs == 0)
		bs = 4096;
	overhead = sat_add(est->folders * FS_INODES_PER_FOLDER,
			   est->users * FS_INODES_PER_USER);
	overhead = overhead > ULLONG_MAX / bs ? ULLONG_MAX : overhead * bs;
	need = with_margin(sat_add(fs_estimate_bytes(est, bs), overhead));
	avail = fs->bavail > ULLONG_MAX / bs ? ULLONG_MAX : fs->bavail * bs;
	check_result_figure(res, "needed_bytes", ll(need));
	check_result_figure(res, "free_bytes", ll(avail));
	check_result_figure(res, "message_bytes", ll(est->bytes));
	check_result_figure(res, "block_size", (long long)bs);
	if (est->unreadable > 0)
		check_result_figure(res, "unscanned_folders",
				    ll(est->unreadable));
	if (need > avail)
		res->status = CHECK_FAIL;
	else if (over_warn(need, avail))
		res->status = CHECK_WARN;
	snprintf(res->detail, sizeof(res->detail),
		 _("%llu MiB needed (each message rounded up to %lu-byte "
		   "blocks), %llu MiB free on %s"),
		 (need + 1048575) / 1048576, bs, avail / 1048576, where(fs));
	if (res->status != CHECK_PASS)
		snprintf(res->fix, sizeof(res->fix),
			 _("free or add space on %s (at least %llu MiB "
			   "available, better %llu MiB), or choose a target on "
			   "another file system"), where(fs),
			 (need + 1048575) / 1048576,
			 (need / FS_WARN_PERCENT * 100 + 1048575) / 1048576);
	return res->status;
}

enum check_status fs_check_subdirs(const struct fs_estimate *est,
				   const struct fs_info *fs,
				   struct check_result *res)
{
	unsigned long long user_subdirs = est->user_folders + 3;
	unsigned long long worst;
	bool assumed = false;
	long long limit = fs_subdir_limit(fs, &assumed);
	char why[256];

	check_result_init(res, "subdirs", _("Subdirectories per directory"));
	check_result_figure(res, "accounts", ll(est->dir_entries));
	check_result_figure(res, "existing", ll(est->dir_existing));
	check_result_figure(res, "user_folders", ll(est->user_folders));
	if (limit >= 0)
		check_result_figure(res, "limit", limit);

	if (fs->magic == FS_MAGIC_EXT) {
		if (fs->driver == FS_DRIVER_OLD)
			snprintf(why, sizeof(why),
				 _("%s on the old ext2/ext3 driver: 31998 "
				   "subdirectories"), fs_name(fs));
		else if (limit == 31998)
			snprintf(why, sizeof(why),
				 _("%s, driver unknown: assuming the old "
				   "driver's 31998 subdirectories"),
				 fs_name(fs));
		else if (assumed)
			snprintf(why, sizeof(why),
				 _("%s: superblock of %s not readable (%s), "
				   "dir_nlink unknown: assuming 64998 "
				   "subdirectories"), fs_name(fs),
				 fs->source[0] != '\0' ? fs->source : "?",
				 strerror(fs->super_errno != 0 ?
					  fs->super_errno : ENODEV));
		else if (limit > 0)
			snprintf(why, sizeof(why),
				 _("%s on the ext4 driver without %s: 64998 "
				   "subdirectories"), fs_name(fs),
				 !fs->dir_nlink ? "dir_nlink" : "dir_index");
		else
			snprintf(why, sizeof(why),
				 _("%s with dir_nlink: no subdirectory limit"),
				 fs_name(fs));
	} else if (fs->magic == FS_MAGIC_NFS) {
		snprintf(why, sizeof(why),
			 _("nfs: the limit is the server's file system's"));
	} else {
		snprintf(why, sizeof(why), _("%s: no subdirectory limit"),
			 fs_name(fs));
	}

	worst = est->dir_entries > user_subdirs ? est->dir_entries
						  : user_subdirs;
	if (limit >= 0 && worst > (unsigned long long)limit)
		res->status = CHECK_FAIL;
	else if (limit >= 0 && over_warn(worst, (unsigned long long)limit))
		res->status = CHECK_WARN;

	snprintf(res->detail, sizeof(res->detail),
		 _("%llu accounts in %s (%llu already there), at most %llu "
		   "folders for one user (%s); %s"),
		 est->dir_entries, est->dir_path[0] != '\0' ? est->dir_path :
		 fs->path, est->dir_existing, est->user_folders,
		 est->user_name[0] != '\0' ? est->user_name : "-", why);
	if (res->status == CHECK_PASS)
		return res->status;
	if (est->dir_entries >= user_subdirs) {
		const char *base = fs->path[0] != '\0' ? fs->path : "/data/mail2";

		snprintf(res->fix, sizeof(res->fix),
			 _("use the hashed layout target_layout = \"%%1u/%%u\" "
			   "(%s/f/fred) and in Dovecot 2.0-2.3 mail_location = "
			   "maildir:%s/%%1u/%%u (2.4: mail_path = "
			   "%s/%%{user | substr(0, 1)}/%%{user}); or put the "
			   "target on ext4 with dir_nlink, XFS or btrfs"),
			 base, base, base);
	} else {
		snprintf(res->fix, sizeof(res->fix),
			 _("user %s has more folders than one directory can "
			   "hold here: merge or archive folders first, or put "
			   "the target on ext4 with dir_nlink, XFS or btrfs"),
			 est->user_name);
	}
	return res->status;
}

int fs_checks_run(const char *target_base, const struct fs_estimate *est,
		  const struct fs_probe *probe,
		  struct check_result res[FS_CHECK_COUNT],
		  struct fs_info *info_r, struct m2d_error *err)
{
	struct fs_info local, *info = info_r != NULL ? info_r : &local;
	enum check_status worst = CHECK_PASS, s;

	if (fs_info_probe(target_base, probe, info, err) < 0)
		return -1;
	s = fs_check_inodes(est, info, &res[FS_CHECK_INODES]);
	worst = s > worst ? s : worst;
	s = fs_check_space(est, info, &res[FS_CHECK_SPACE]);
	worst = s > worst ? s : worst;
	s = fs_check_subdirs(est, info, &res[FS_CHECK_SUBDIRS]);
	worst = s > worst ? s : worst;
	return (int)worst;
}
