/* SPDX-License-Identifier: MIT */
/*
 * test-ui-model.c - the runbook model as the wizard and --undo use it,
 * without the system: the dependency graph of undo (which later steps an
 * undo takes with it, and the refusal naming them), a killed step read
 * back as "interrupted", WORK/log (0600, lines with times and kinds, read
 * back) and the report's lists built from it (every warning, the folders
 * whose clients download again, by user).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runbook-log.h"
#include "runbook.h"
#include "test-util.h"

static char top[256];

static void pathf(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", top, rel);
}

static int setup(void **state)
{
	char conf[4096], path[512];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/test-ui-model-XXXXXX");
	assert_non_null(mkdtemp(top));
	pathf(path, sizeof(path), "spool");
	assert_int_equal(mkdir(path, 0755), 0);
	pathf(path, sizeof(path), "home");
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(conf, sizeof(conf),
		 "spool_dir = \"%s/spool\"\nhomes_dir = \"%s/home\"\n"
		 "target_base = \"%s/target\"\nwork_dir = \"%s/work\"\n"
		 "owner = \"%d:%d\"\nuid_min = 4000000000\n"
		 "uid_max = 4000000001\n", top, top, top, top,
		 (int)getuid(), (int)getgid());
	pathf(path, sizeof(path), "m.conf");
	put(path, conf);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct runbook *open_rb(void)
{
	struct rb_options o;
	struct runbook *rb = NULL;
	struct m2d_error err;
	char conf[512], buf[2048];

	pathf(conf, sizeof(conf), "m.conf");
	memset(&o, 0, sizeof(o));
	o.config_path = conf;
	if (rb_open(&o, &rb, &err) < 0)
		fail_msg("rb_open: %s", m2d_error_str(&err, buf, sizeof(buf)));
	return rb;
}

/* A state whose steps FROM..TO have STATUS (the others pending). */
static void write_state(int from, int to, const char *status)
{
	char path[512];
	FILE *f;

	pathf(path, sizeof(path), "work");
	(void)mkdir(path, 0700);
	pathf(path, sizeof(path), "work/state");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "version = 1\n");
	for (int s = 0; s < RB_NSTEPS; s++)
		fprintf(f, "step %s {\n  status = %s\n  started = 1700000000\n"
			"}\n", rb_steps[s].id,
			s >= from && s <= to ? status : "pending");
	assert_int_equal(fclose(f), 0);
}

static void expect_chain(struct runbook *rb, int step, const int *want,
			 size_t nwant)
{
	int got[RB_NSTEPS];
	size_t n = rb_undo_chain(rb, step, got, RB_NSTEPS);

	if (n != nwant)
		fail_msg("undo %d: %zu steps in the chain, expected %zu", step,
			 n, nwant);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("undo %d: chain[%zu] = %d, expected %d", step,
				 i, got[i], want[i]);
}

/* ---- the dependency graph of undo ---- */

static void test_table(void **state)
{
	(void)state;
	/* a step relies only on earlier ones; every undoable step has a
	   later one that relies on it (else undo needs no graph) */
	for (int s = 0; s < RB_NSTEPS; s++) {
		assert_int_equal(rb_steps[s].relies >> s, 0);
		if (rb_steps[s].undo_fn != NULL && s < RB_NSTEPS - 1) {
			bool used = false;

			for (int t = s + 1; t < RB_NSTEPS; t++)
				used = used || (rb_steps[t].relies &
						(UINT32_C(1) << s));
			assert_true(used);
		}
	}
}

static void test_chain(void **state)
{
	static const int of8[] = { 22, 21, 20, 19, 18, 17, 16, 10 };
	static const int of14[] = { 22, 21, 20, 19, 18, 17, 16, 15 };
	static const int of19[] = { 22, 21, 20 };
	static const int of20[] = { 22, 21 };
	static const int of8_partial[] = { 10 };
	struct runbook *rb;
	struct m2d_error err;

	(void)state;
	/* a finished migration: every later step relying on the undone
	   one, directly or through another, newest first */
	write_state(0, 22, "done");
	rb = open_rb();
	expect_chain(rb, 8, of8, sizeof(of8) / sizeof(of8[0]));
	expect_chain(rb, 14, of14, sizeof(of14) / sizeof(of14[0]));
	expect_chain(rb, 17, of14, 5);		/* 22 .. 18 */
	expect_chain(rb, 19, of19, 3);
	expect_chain(rb, 20, of20, 2);
	expect_chain(rb, 22, NULL, 0);
	/* refused, naming the steps; nothing changed */
	assert_int_equal(rb_undo_step(rb, 19, &err), -1);
	assert_non_null(strstr(err.msg, "22 ("));
	assert_non_null(strstr(err.msg, "21 ("));
	assert_non_null(strstr(err.msg, "20 ("));
	assert_int_equal(rb_step(rb, 19)->status, RB_DONE);
	assert_int_equal(rb_step(rb, 20)->status, RB_DONE);
	/* a step without an undo has nothing to undo, chain or not */
	assert_int_equal(rb_undo_step(rb, 21, &err), 0);
	assert_int_equal(rb_undo_with_chain(rb, 21, &err), 0);
	assert_int_equal(rb_step(rb, 22)->status, RB_DONE);
	rb_close(&rb);

	/* only what is done counts: 0..10 done, 8's chain is step 10 */
	write_state(0, 10, "done");
	rb = open_rb();
	expect_chain(rb, 8, of8_partial, 1);
	rb_close(&rb);
	/* skipped steps are not undone */
	write_state(0, 9, "done");
	rb = open_rb();
	assert_int_equal(rb_skip_step(rb, 10, "x", true, &err), 0);
	expect_chain(rb, 8, NULL, 0);
	rb_close(&rb);
}

/* A run killed in the middle of a step: pending, and it says so. */
static void test_interrupted(void **state)
{
	struct runbook *rb;

	(void)state;
	write_state(9, 9, "running");
	rb = open_rb();
	assert_int_equal(rb_step(rb, 9)->status, RB_PENDING);
	assert_non_null(rb_step(rb, 9)->result);
	assert_non_null(strstr(rb_step(rb, 9)->result, "interrupted"));
	assert_null(rb_step(rb, 8)->result);
	rb_close(&rb);
}

/* ---- the log, and the report from it ---- */

static void test_log(void **state)
{
	struct runbook *rb;
	struct m2d_error err;
	struct stat st;
	char path[512], line[512];
	char *text, *log, *p;
	struct rb_log_line ll;
	bool skipped = false, decision = false, session = false;
	FILE *f;

	(void)state;
	rb = open_rb();
	/* a decision and a skip (a terminal's escape in its reason) */
	assert_int_equal(rb_confirm(rb, 1, true, &err), 0);
	assert_int_equal(rb_skip_step(rb, 0, "a practice\x1b[2J spool",
				      false, &err), 0);
	log = rb_log_path(rb);
	assert_non_null(log);
	rb_close(&rb);

	assert_int_equal(lstat(log, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	text = slurp(log);
	assert_non_null(text);
	for (p = strtok(text, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		if (rb_log_parse(p, &ll) < 0)
			fail_msg("not a line of the log: %s", p);
		assert_int_equal(strlen(ll.time), 19);
		session = session || strcmp(ll.kind, "session") == 0;
		decision = decision || (ll.step == 1 &&
					strcmp(ll.kind, "decision") == 0);
		/* the reason's escape is shown, not sent */
		skipped = skipped || (ll.step == 0 &&
				      strcmp(ll.kind, "skipped") == 0 &&
				      strcmp(ll.text,
					     "a practice\\x1b[2J spool") == 0);
	}
	free(text);
	assert_true(session);
	assert_true(decision);
	assert_true(skipped);

	/* what a migration logs (runbook-log.c writes these lines), read
	   back by the report */
	f = fopen(log, "a");
	assert_non_null(f);
	fputs("2026-12-07 22:10:44 [13] warning: erin/saved-messages: "
	      "/home/erin/saved-messages: no UW UID data\n"
	      "2026-12-07 22:10:45 [13] redownload: erin/saved-messages\t"
	      "/home/erin/saved-messages: no UW UID data\n"
	      "2026-12-07 22:10:45 [13] redownload: bob/mail/Sent Items\t"
	      "inconsistent UIDs\n"
	      "2026-12-07 22:10:46 [13] warning: erin/saved-messages: "
	      "/home/erin/saved-messages: no UW UID data\n"
	      "2026-12-07 22:12:03 [14] error: undo failed: exit 1\n"
	      "not a line of ours\n", f);
	assert_int_equal(fclose(f), 0);
	rb = open_rb();
	assert_int_equal(rb_report_write(rb, NULL, NULL, &err), 0);
	rb_close(&rb);
	pathf(path, sizeof(path), "work/report.txt");
	text = slurp(path);
	assert_non_null(text);
	/* each warning once, with its step */
	p = strstr(text, "[13] erin/saved-messages: /home/erin/saved-messages:"
		   " no UW UID data\n");
	assert_non_null(p);
	assert_null(strstr(p + 1, "[13] erin/saved-messages: /home"));
	assert_non_null(strstr(text, "[14] error: undo failed: exit 1\n"));
	/* by user, sorted, with why */
	snprintf(line, sizeof(line), "  bob\n    mail/Sent Items: "
		 "inconsistent UIDs\n  erin\n    saved-messages: "
		 "/home/erin/saved-messages: no UW UID data\n");
	assert_non_null(strstr(text, line));
	free(text);
	pathf(path, sizeof(path), "work/report.json");
	text = slurp(path);
	assert_non_null(strstr(text, "\"redownload\": [{\"user\": \"bob\", "
			       "\"folder\": \"bob/mail/Sent Items\""));
	free(text);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
