/* SPDX-License-Identifier: MIT */
/*
 * test-raw-opens.c - no new raw open of a path a user may control
 *
 * mbox2dovecot runs as root over homes, the spool and maildirs that their
 * users control: any of them may plant a symlink or a FIFO.  A file there is opened through one helper,
 * sf_open_read() / sf_open_file() / sf_read_text_at() / sf_open_dir() in
 * src/lib/safe-file.h: no symlink followed, O_NONBLOCK (a FIFO cannot hang
 * the open), a regular file checked on the descriptor and its size limit
 * from fstat before a byte is read.
 *
 * This test reads src/ and ui/ (comments and strings left out) and finds
 * every call of open, openat, fopen, freopen, opendir, creat (and their
 * 64 forms).  Each must be in the list below, by file, function and
 * callee, no more often than listed, with the reason it is not a path a
 * user controls (or why it is safe as it is).  A new one fails the test:
 * use the helper, or add it here with its reason.
 *
 * M2D_TOP (set by tests/run-tests.sh) is where src/ is; else ".".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct allowed {
	const char *file, *func, *callee;
	int count;
	const char *reason;
};

static const struct allowed allowed[] = {
	/* the helpers themselves */
	{ "src/lib/safe-file.c", "sf_open_dir", "openat", 1,
	  "the helper: O_DIRECTORY|O_NOFOLLOW (a FIFO is no directory)" },
	{ "src/lib/safe-file.c", "sf_create", "openat", 1,
	  "the helper: O_CREAT|O_EXCL|O_NOFOLLOW, never an existing file" },
	{ "src/lib/safe-file.c", "sf_open_below", "open", 1,
	  "the helper: BASE is the admin's directory (home, spool)" },
	{ "src/lib/safe-file.c", "sf_open_below", "openat", 1,
	  "the helper: the caller's flags | O_NOFOLLOW (convert.c adds "
	  "O_NONBLOCK and checks the descriptor)" },
	{ "src/lib/safe-file.c", "sf_open_file", "openat", 1,
	  "THE helper: O_NOFOLLOW|O_NONBLOCK, fstat S_ISREG, size limit" },
	{ "src/lib/safe-file.c", "sf_remove_tree", "openat", 1,
	  "O_DIRECTORY|O_NOFOLLOW, a directory to remove" },
	{ "src/lib/safe-file.c", "sf_write_path", "open", 1,
	  "the directory of an admin's configuration file" },
	/* the work directory: root's, 0700 (rb_work_dir checks it) */
	{ "src/migrate/journal.c", "journal_open", "openat", 1,
	  "WORK/journal, below the work directory (root's)" },
	{ "src/migrate/journal.c", "journal_compact", "openat", 1,
	  "WORK/journal again after its rename" },
	{ "src/migrate/rollback-record.c", "record_dir", "open", 1,
	  "the work directory (root's)" },
	{ "src/migrate/rollback-record.c", "record_dir", "openat", 2,
	  "WORK/rollback and WORK/rollback/USER, O_DIRECTORY|O_NOFOLLOW" },
	{ "src/host/checks.c", "journal_roots", "open", 2,
	  "a copy of WORK/journal into a temp file of ours" },
	{ "src/runbook/runbook-steps.c", "prepare_log_file", "open", 1,
	  "the runbook's log file, O_CREAT|O_EXCL|O_NOFOLLOW" },
	{ "src/runbook/runbook-log.c", "log_fd", "open", 1,
	  "WORK/log, the runbook's, O_NOFOLLOW" },
	{ "src/runbook/runbook-report.c", "read_log", "open", 1,
	  "WORK/log read back for the report, O_NOFOLLOW (the runbook's)" },
	{ "ui/wizard.c", "read_file", "fopen", 1,
	  "WORK/report.txt, ours" },
	{ "src/host/dovecot-conf-edit.c", "save_work", "open", 1,
	  "a directory of the work directory, O_NOFOLLOW" },
	{ "src/host/services.c", "bk_save_text", "open", 1,
	  "the backup directory in the work directory, O_NOFOLLOW" },
	/* the admin's and the system's files */
	{ "src/migrate/config.c", "read_conf", "open", 1,
	  "mbox2dovecot.conf, the admin's" },
	{ "src/migrate/plan.c", "read_userlist", "fopen", 1,
	  "the admin's list of users (--users-from)" },
	{ "src/migrate/plan.c", "read_folderlist", "fopen", 1,
	  "the admin's list of folders" },
	{ "src/migrate/plan.c", "discover_users", "open", 1,
	  "the spool directory (the admin's)" },
	{ "src/migrate/plan.c", "plan_build", "open", 1,
	  "the spool directory (the admin's)" },
	{ "src/migrate/plan.c", "plan_write_lists", "open", 1,
	  "the directory the admin names for the lists" },
	{ "src/migrate/plan.c", "user_folders", "open", 1,
	  "the home directory (the admin's: /etc/passwd names it)" },
	{ "src/migrate/plan.c", "walk_root", "open", 1,
	  "a folder root below the home, O_DIRECTORY (owner H4: plan.c)" },
	{ "src/migrate/plan.c", "add_listed", "open", 1,
	  "a folder root, O_DIRECTORY (owner H4: plan.c)" },
	{ "src/migrate/plan.c", "open_below", "openat", 1,
	  "O_DIRECTORY|O_NOFOLLOW, each level below a root" },
	{ "src/migrate/plan.c", "walk_entry", "openat", 1,
	  "O_DIRECTORY|O_NOFOLLOW, a directory while walking" },
	{ "src/migrate/plan.c", "classify", "openat", 1,
	  "a folder file: O_NOFOLLOW|O_NONBLOCK, fstat before any read "
	  "(owner H4: plan.c)" },
	{ "src/migrate/plan.c", "read_subscriptions", "openat", 1,
	  "~/.mailboxlist: O_NOFOLLOW|O_NONBLOCK below the home fd "
	  "(owner H4: plan.c)" },
	{ "src/host/dovecot-conf.c", "dc_detect_layout", "fopen", 1,
	  "dovecot.conf, the system's" },
	{ "src/host/dovecot-conf-edit.c", "copy_file", "open", 2,
	  "Dovecot's configuration into the sandbox: /etc, O_NOFOLLOW" },
	{ "src/host/dovecot-conf-edit.c", "copy_tree", "opendir", 1,
	  "Dovecot's configuration directory (/etc)" },
	{ "src/host/dovecot-conf-edit.c", "dc_validate", "open", 1,
	  "a unit file of ours, O_CREAT|O_EXCL|O_NOFOLLOW" },
	{ "src/runbook/runbook-system.c", "rb_dovecot_log", "fopen", 1,
	  "Dovecot's log_path (the system's)" },
	{ "src/host/check-services.c", "checks_probe_dovecot", "fopen", 1,
	  "a pidfile of the system's" },
	{ "src/host/check-services.c", "scan_xinetd", "fopen", 1,
	  "/etc/xinetd.d" },
	{ "src/host/check-services.c", "checks_probe_uw", "fopen", 2,
	  "/etc/inetd.conf, /etc/xinetd.d, /proc/PID/cmdline" },
	{ "src/host/check-services.c", "checks_probe_uw", "opendir", 2,
	  "/etc/xinetd.d and /proc" },
	{ "src/host/fs-checks.c", "read_mountinfo", "fopen", 1,
	  "/proc/self/mountinfo" },
	{ "src/host/fs-checks.c", "read_superblock", "open", 1,
	  "the block device of a file system (from mountinfo)" },
	{ "src/host/fs-checks.c", "count_existing", "open", 1,
	  "the parent of the target (the admin's), O_DIRECTORY" },
	{ "src/host/checks.c", "checks_probe_target", "opendir", 1,
	  "the target base directory (the admin's)" },
	{ "src/lib/run-cmd.c", "run_cmd_input", "open", 1, "/dev/null" },
	{ "src/cli/cli-runbook.c", "ask_password", "fopen", 1, "/dev/tty" },
	{ "src/cli/cli-runbook.c", "ask_yes_tty", "fopen", 1, "/dev/tty" },
	{ "src/cli/cli-sandbox.c", "uw_imap", "open", 1, "/dev/null" },
	{ "src/cli/cli-sandbox.c", "uw_imap", "fopen", 1,
	  "the sandbox's pidfile, ours" },
	{ "src/host/sandbox.c", "put_file", "open", 1,
	  "a file of the sandbox (ours), O_NOFOLLOW" },
	{ "src/host/sandbox.c", "sandbox_is_ours", "opendir", 1,
	  "the sandbox directory (ours)" },
	{ "src/host/sandbox.c", "remove_tree_at", "openat", 1,
	  "O_DIRECTORY|O_NOFOLLOW, the sandbox's tree" },
	{ "src/host/sandbox.c", "pid_if_ours", "fopen", 1,
	  "the sandbox's pidfile" },
	{ "src/host/sandbox.c", "pid_if_ours", "open", 1, "/proc/PID/..." },
	{ "src/host/sandbox.c", "alive", "open", 1, "/proc/PID/..." },
	{ "src/host/sandbox.c", "sandbox_create", "open", 1,
	  "the sandbox directory, O_DIRECTORY|O_NOFOLLOW" },
	/* users' paths, made safe otherwise */
	{ "src/migrate/mbox-append.c", "open_parent", "open", 1,
	  "the base (home or spool: the admin's); every level below by "
	  "sf_open_dir/sf_mkdir" },
	{ "src/host/checks.c", "checks_mbox_locked", "open", 1,
	  "a spool mbox, O_NOFOLLOW|O_NONBLOCK, only locked, never read" },
	{ "src/host/fs-checks.c", "scan_mbox", "open", 1,
	  "a source mbox: O_NOFOLLOW|O_NONBLOCK, fstat S_ISREG before the "
	  "scan, which streams (no size limit needed)" },
	{ "src/format/mbox-reader.c", "mbox_reader_open", "openat", 1,
	  "a source mbox: O_NOFOLLOW|O_NONBLOCK; mbox_reader_open_fd "
	  "checks the descriptor (source side)" },
	{ "src/format/dotlock.c", "holder_is_dead", "openat", 1,
	  "a dotlock: O_NOFOLLOW|O_NONBLOCK, a few bytes read (owner H4)" },
	{ "src/format/dotlock.c", "lock_link", "openat", 1,
	  "our temp lock file, O_CREAT|O_EXCL|O_NOFOLLOW" },
	{ "src/format/dotlock.c", "lock_temp", "openat", 1,
	  "our temp lock file, O_CREAT|O_EXCL|O_NOFOLLOW" },
	{ "src/format/folder-names.c", "open_lock", "openat", 1,
	  "our lock file, O_CREAT|O_EXCL|O_NOFOLLOW" },
	{ "src/format/maildir-writer.c", "count_messages", "openat", 1,
	  "cur/ and new/, O_DIRECTORY|O_NOFOLLOW" },
	{ "src/format/maildir-writer.c", "open_list", "openat", 1,
	  "our new dovecot-uidlist, O_CREAT|O_EXCL|O_NOFOLLOW" },
	{ "src/runbook/runbook-steps.c", "maildir_has", "opendir", 1,
	  "the test user's new/ and cur/; each file read by sf_read_text" },
};

#define NALLOWED (sizeof(allowed) / sizeof(allowed[0]))

static const char *const callees[] = {
	"open", "openat", "fopen", "freopen", "opendir", "creat", "open64",
	"openat64", "fopen64", "creat64", NULL,
};

struct hit {
	char file[256], func[128], callee[16];
	int count;
	unsigned long first_line;
};

static struct hit hits[1024];
static size_t nhits;

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, size = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > size) {
			size = (len + 4096 + 1) * 2;
			buf = realloc(buf, size);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, size - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Comments, strings and character constants blanked (newlines kept),
 * preprocessor lines blanked. */
static void blank_noise(char *s)
{
	char *p = s;
	bool bol = true;

	while (*p != '\0') {
		if (bol) {
			char *q = p;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '#') {
				/* a directive, continued lines and all */
				char prev = 0;

				while (*q != '\0' && !(*q == '\n' && prev != '\\')) {
					prev = *q;
					if (*q != '\n')
						*q = ' ';
					q++;
				}
				p = q;
				continue;
			}
		}
		bol = false;
		if (p[0] == '/' && p[1] == '*') {
			while (*p != '\0' && !(p[0] == '*' && p[1] == '/')) {
				if (*p != '\n')
					*p = ' ';
				p++;
			}
			if (*p != '\0') {
				p[0] = p[1] = ' ';
				p += 2;
			}
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			while (*p != '\0' && *p != '\n')
				*p++ = ' ';
			continue;
		}
		if (*p == '"' || *p == '\'') {
			char q = *p++;

			while (*p != '\0' && *p != q && *p != '\n') {
				if (*p == '\\' && p[1] != '\0')
					*p++ = ' ';
				*p++ = ' ';
			}
			if (*p == q)
				p++;
			continue;
		}
		if (*p == '\n')
			bol = true;
		p++;
	}
}

static bool is_callee(const char *w, size_t n)
{
	for (int i = 0; callees[i] != NULL; i++)
		if (strlen(callees[i]) == n && memcmp(callees[i], w, n) == 0)
			return true;
	return false;
}

static void add_hit(const char *file, const char *func, const char *callee,
		    size_t clen, unsigned long line)
{
	size_t i;

	for (i = 0; i < nhits; i++) {
		if (strcmp(hits[i].file, file) == 0 &&
		    strcmp(hits[i].func, func) == 0 &&
		    strlen(hits[i].callee) == clen &&
		    memcmp(hits[i].callee, callee, clen) == 0) {
			hits[i].count++;
			return;
		}
	}
	assert_true(nhits < sizeof(hits) / sizeof(hits[0]));
	snprintf(hits[nhits].file, sizeof(hits[nhits].file), "%s", file);
	snprintf(hits[nhits].func, sizeof(hits[nhits].func), "%s", func);
	snprintf(hits[nhits].callee, sizeof(hits[nhits].callee), "%.*s",
		 (int)clen, callee);
	hits[nhits].count = 1;
	hits[nhits].first_line = line;
	nhits++;
}

/* Every call of a callee in TEXT (blanked), with its function. */
static void scan_text(const char *file, const char *text)
{
	char func[128] = "(file scope)", cand[128] = "";
	unsigned long line = 1;
	int depth = 0;
	const char *p = text;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '{') {
			if (depth++ == 0)
				snprintf(func, sizeof(func), "%s", cand);
			p++;
		} else if (*p == '}') {
			if (--depth == 0)
				snprintf(func, sizeof(func), "(file scope)");
			p++;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			const char *w = p, *q, *b;
			size_t n;

			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			n = (size_t)(p - w);
			for (q = p; *q == ' ' || *q == '\t' || *q == '\n'; q++)
				;
			if (*q != '(')
				continue;
			if (depth == 0) {
				snprintf(cand, sizeof(cand), "%.*s", (int)n, w);
				continue;
			}
			if (!is_callee(w, n))
				continue;
			/* a member (ops->open, s.open) is not the call */
			for (b = w; b > text && (b[-1] == ' ' || b[-1] == '\t' ||
						 b[-1] == '\n'); b--)
				;
			if (b > text && (b[-1] == '.' || b[-1] == '>'))
				continue;
			add_hit(file, func, w, n, line);
		} else {
			p++;
		}
	}
}

static void scan_dir(const char *top, const char *sub)
{
	char dir[4096];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", top, sub);
	dp = opendir(dir);
	if (dp == NULL) {
		fail_msg("cannot read %s (set M2D_TOP to the source tree)", dir);
		return;
	}
	while ((d = readdir(dp)) != NULL) {
		size_t n = strlen(d->d_name);
		char path[8192], rel[512];
		char *text;

		if (n < 3 || strcmp(d->d_name + n - 2, ".c") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		snprintf(rel, sizeof(rel), "%s/%s", sub, d->d_name);
		text = slurp_file(path);
		assert_non_null(text);
		blank_noise(text);
		scan_text(rel, text);
		free(text);
	}
	closedir(dp);
}

static void test_every_raw_open_is_listed(void **state)
{
	const char *top = getenv("M2D_TOP");
	int bad = 0;

	(void)state;
	if (top == NULL || *top == '\0')
		top = ".";
	nhits = 0;
	/* the layers of src/ (README, "Layout"), the command line, ui/ */
	scan_dir(top, "src/lib");
	scan_dir(top, "src/format");
	scan_dir(top, "src/migrate");
	scan_dir(top, "src/host");
	scan_dir(top, "src/runbook");
	scan_dir(top, "src/cli");
	scan_dir(top, "ui");
	assert_true(nhits > 10);	/* the scanner found the known ones */
	for (size_t i = 0; i < nhits; i++) {
		const struct allowed *a = NULL;

		for (size_t k = 0; k < NALLOWED && a == NULL; k++) {
			if (strcmp(allowed[k].file, hits[i].file) == 0 &&
			    strcmp(allowed[k].func, hits[i].func) == 0 &&
			    strcmp(allowed[k].callee, hits[i].callee) == 0)
				a = &allowed[k];
		}
		if (a != NULL && hits[i].count <= a->count)
			continue;
		print_error("%s:%lu: %s() calls %s() %d time(s), listed %d: a "
			    "path a user controls must be opened with "
			    "sf_open_read/sf_open_file/sf_open_dir "
			    "(src/lib/safe-file.h); anything else goes into "
			    "tests/unit/test-raw-opens.c with its reason\n",
			    hits[i].file, hits[i].first_line, hits[i].func,
			    hits[i].callee, hits[i].count,
			    a != NULL ? a->count : 0);
		bad++;
	}
	assert_int_equal(bad, 0);
}

/* The scanner itself: comments and strings do not count, members do
 * not, the function is the one around the call. */
static void test_scanner(void **state)
{
	char text[] =
		"/* open(x) in a comment */\n"
		"static int f(void)\n"
		"{\n"
		"\tconst char *s = \"fopen(y)\";\n"
		"\tops->open(z); s.opendir(w);\n"
		"\treturn open (p, 0) + openat(d, n, 0);\n"
		"}\n"
		"// fopen(c)\n"
		"int g(int a) { return a ? opendir(\"/\") != 0 : 0; }\n";

	(void)state;
	nhits = 0;
	blank_noise(text);
	scan_text("t.c", text);
	assert_int_equal(nhits, 3);
	assert_string_equal(hits[0].func, "f");
	assert_string_equal(hits[0].callee, "open");
	assert_int_equal(hits[0].first_line, 6);
	assert_string_equal(hits[1].callee, "openat");
	assert_string_equal(hits[2].func, "g");
	assert_string_equal(hits[2].callee, "opendir");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_every_raw_open_is_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
