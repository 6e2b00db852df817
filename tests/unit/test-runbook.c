/* SPDX-License-Identifier: MIT */
/* test-runbook.c - the runbook model without the system: the table, the
 * state file (round trip, hostile strings, a run killed mid-step),
 * prerequisites and gates, decisions, the first steps on a small spool,
 * and the report */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runbook.h"
#include "test-util.h"

static char top[256];

#define MBOX "From alice@example.org Tue Nov  9 10:11:12 2004\n" \
	"Subject: one\n\nbody\n\n" \
	"From bob@example.org Wed Nov 10 10:11:12 2004\n" \
	"Subject: two\n\nbody\n"

static void pathf(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", top, rel);
}

static void mkdirs(const char *rel)
{
	char path[512], *p;

	pathf(path, sizeof(path), rel);
	for (p = path + strlen(top) + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(path, 0755);
			*p = '/';
		}
	}
	(void)mkdir(path, 0755);
}

static void put_rel(const char *rel, const char *text)
{
	char path[512];

	pathf(path, sizeof(path), rel);
	put(path, text);
}

static int setup(void **state)
{
	char conf[8192];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/test-runbook-XXXXXX");
	assert_non_null(mkdtemp(top));
	mkdirs("spool");
	mkdirs("home/fred/mail");
	mkdirs("home/mary/mail");
	put_rel("spool/fred", MBOX);
	put_rel("spool/mary", MBOX);
	put_rel("home/fred/mail/Sent", MBOX);
	put_rel("home/fred/mail/a.b", MBOX);		/* needs a rename */
	put_rel("home/fred/mail/q\"uote", MBOX);	/* fine for IMAP */
	put_rel("home/mary/mail/Drafts", MBOX);
	/* users come from a passwd, never from spool names alone (issue
	 * 15): fred and mary in the scratch root's, with our uid */
	mkdirs("root/etc");
	snprintf(conf, sizeof(conf),
		 "fred:x:%d:%d::%s/home/fred:/bin/sh\n"
		 "mary:x:%d:%d::%s/home/mary:/bin/sh\n", (int)getuid(),
		 (int)getgid(), top, (int)getuid(), (int)getgid(), top);
	put_rel("root/etc/passwd", conf);
	snprintf(conf, sizeof(conf),
		 "spool_dir = \"%s/spool\"\nhomes_dir = \"%s/home\"\n"
		 "target_base = \"%s/target\"\nwork_dir = \"%s/work\"\n"
		 "owner = \"%d:%d\"\naccounts_root = \"%s/root\"\n"
		 "uid_min = %d\nuid_max = %d\n", top, top, top, top,
		 (int)getuid(), (int)getgid(), top, (int)getuid(),
		 (int)getuid());
	put_rel("m.conf", conf);
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

static void run_ok(struct runbook *rb, int step)
{
	struct m2d_error err;
	char buf[2048];
	int r = rb_run_step(rb, step, false, &err);

	if (r != 1)
		fail_msg("step %d: %d: %s", step, r,
			 m2d_error_str(&err, buf, sizeof(buf)));
}

/* ---- the table ---- */

static void test_table(void **state)
{
	(void)state;
	for (int s = 0; s < RB_NSTEPS; s++) {
		const struct rb_step_def *d = &rb_steps[s];

		assert_int_equal(d->number, s);
		assert_non_null(d->id);
		assert_non_null(d->title);
		assert_non_null(d->what);
		assert_non_null(d->runbook);
		assert_non_null(d->run);
		/* a step needs only earlier steps */
		assert_true(d->needs < (UINT32_C(1) << s) || s == 0);
		/* every destructive step says how it is undone */
		if (d->flags & RB_CONFIRM && s != 1)
			assert_non_null(d->undo);
		for (int t = 0; t < s; t++)
			assert_string_not_equal(d->id, rb_steps[t].id);
	}
	/* the gates of the runbook: the IMAP tests and the final check */
	assert_true(rb_steps[10].flags & RB_GATE);
	assert_true(rb_steps[16].flags & RB_GATE);
	assert_true(rb_steps[18].flags & RB_GATE);
	assert_true(rb_steps[21].flags & RB_GATE);
}

/* ---- prerequisites, confirmations, gates ---- */

static void test_prerequisites(void **state)
{
	struct runbook *rb = open_rb();
	struct m2d_error err;
	char why[512];

	(void)state;
	assert_false(rb_has_state(rb));
	assert_int_equal(rb_next_step(rb), 0);
	/* step 2 needs step 1, which needs a Yes */
	assert_int_equal(rb_can_run(rb, 2, why, sizeof(why)), 0);
	assert_int_equal(rb_prerequisite(rb, 2), 1);
	assert_non_null(strstr(why, "1"));
	assert_int_equal(rb_run_step(rb, 2, false, &err), 0);
	assert_int_equal(rb_step(rb, 2)->status, RB_PENDING);

	assert_int_equal(rb_skip_step(rb, 0, "", false, &err), -1);
	assert_int_equal(rb_skip_step(rb, 0, "no Dovecot here", false, &err),
			 0);
	assert_int_equal(rb_can_run(rb, 1, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "Yes"));
	assert_int_equal(rb_run_step(rb, 1, false, &err), 0);
	assert_int_equal(rb_confirm(rb, 1, true, &err), 0);
	run_ok(rb, 1);
	run_ok(rb, 2);
	assert_int_equal(rb_next_step(rb), 3);

	/* a gate is not skipped, and a later step waits for it */
	assert_int_equal(rb_skip_step(rb, 10, "trust me", false, &err), -1);
	assert_int_equal(err.code, M2D_ERR_USAGE);
	assert_int_equal(rb_skip_step(rb, 10, "trust me", true, &err), 0);
	assert_int_equal(rb_prerequisite(rb, 11), 10);
	assert_int_equal(rb_can_run(rb, 11, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "gate"));
	rb_close(&rb);
}

/* ---- the state file ---- */

static void test_state_round_trip(void **state)
{
	const char *hostile = "fred/mail/a\"b\\c ${HOME} $(x)\n`y`";
	const char *users[] = { "fred" };
	const struct rb_rename *rn;
	const char *const *tu;
	struct runbook *rb = open_rb();
	struct m2d_error err;
	char path[512], *text;

	(void)state;
	assert_int_equal(rb_skip_step(rb, 0, hostile, false, &err), 0);
	assert_int_equal(rb_set_test_users(rb, users, 1, &err), 0);
	assert_int_equal(rb_set_rename(rb, "fred/mail/a.b", "a-b \"$x\"",
				       &err), 0);
	assert_int_equal(rb_set_rename(rb, "fred/mail/Sent", NULL, &err), 0);
	/* a name that is taken is refused and nothing is recorded */
	assert_int_equal(rb_set_rename(rb, "fred/mail/q\"uote", "a-b \"$x\"",
				       &err), -1);
	assert_int_equal(rb_renames(rb, &rn), 2);
	assert_int_equal(rb_set_rename(rb, "fred/INBOX", "x", &err), -1);
	assert_int_equal(rb_confirm(rb, 8, true, &err), 0);
	rb_close(&rb);

	pathf(path, sizeof(path), "work/state");
	text = slurp(path);
	assert_non_null(text);
	assert_null(strstr(text, "${HOME}"));	/* escaped */
	free(text);

	rb = open_rb();
	assert_true(rb_has_state(rb));
	assert_int_equal(rb_step(rb, 0)->status, RB_SKIPPED);
	assert_string_equal(rb_step(rb, 0)->reason, hostile);
	assert_true(rb_step(rb, 8)->confirmed);
	assert_int_equal(rb_test_users(rb, &tu), 1);
	assert_string_equal(tu[0], "fred");
	assert_int_equal(rb_renames(rb, &rn), 2);
	for (size_t i = 0; i < 2; i++) {
		if (strcmp(rn[i].listed, "fred/mail/a.b") == 0)
			assert_string_equal(rn[i].name, "a-b \"$x\"");
		else
			assert_null(rn[i].name);
	}
	rb_close(&rb);
}

/* A run killed in the middle of a step: the step runs again. */
static void test_killed_step(void **state)
{
	struct runbook *rb = open_rb();
	struct m2d_error err;
	char path[512], *text, *p;

	(void)state;
	assert_int_equal(rb_skip_step(rb, 0, "x", false, &err), 0);
	rb_close(&rb);
	pathf(path, sizeof(path), "work/state");
	text = slurp(path);
	p = strstr(text, "step freeze {\n  status = pending");
	assert_non_null(p);
	memcpy(strstr(p, "pending"), "running", 7);
	put(path, text);
	free(text);
	rb = open_rb();
	assert_int_equal(rb_step(rb, 1)->status, RB_PENDING);
	assert_int_equal(rb_next_step(rb), 1);
	rb_close(&rb);

	/* a damaged state file is an error naming the file and line */
	put(path, "version = 1\nstep checks {\n  status = \n");
	{
		struct rb_options o;
		char conf[512];

		memset(&o, 0, sizeof(o));
		pathf(conf, sizeof(conf), "m.conf");
		o.config_path = conf;
		assert_int_equal(rb_open(&o, &rb, &err), -1);
		assert_non_null(strstr(err.path, "work/state"));
		assert_true(err.line > 0);
	}
}

/* ---- decisions and the first steps ---- */

static void test_first_steps(void **state)
{
	struct runbook *rb = open_rb();
	const struct plan *plan;
	const char *const *tu;
	struct m2d_error err;
	char path[512], *text;
	struct stat st;
	int r;

	(void)state;
	assert_int_equal(rb_skip_step(rb, 0, "unit test", false, &err), 0);
	assert_int_equal(rb_accept_defaults(rb, 1, &err), 0);
	run_ok(rb, 1);
	run_ok(rb, 2);
	pathf(path, sizeof(path), "work");
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	run_ok(rb, 3);
	plan = rb_plan(rb);
	assert_non_null(plan);
	assert_int_equal(plan->nusers, 2);

	/* a.b waits for a decision: the step stays pending */
	r = rb_run_step(rb, 4, false, &err);
	assert_int_equal(r, 0);
	assert_int_equal(err.code, M2D_ERR_NAME);
	assert_int_equal(rb_step(rb, 4)->status, RB_PENDING);
	assert_int_equal(rb_undecided(rb), 1);
	assert_int_equal(rb_accept_defaults(rb, 4, &err), 0);
	assert_int_equal(rb_undecided(rb), 0);
	run_ok(rb, 4);
	pathf(path, sizeof(path), "work/folderlist-master");
	text = slurp(path);
	assert_non_null(strstr(text, "fred/mail/a.b"));
	free(text);

	/* the proposed subset: users with an inbox and folders */
	assert_int_equal(rb_can_run(rb, 5, path, sizeof(path)), 0);
	assert_int_equal(rb_accept_defaults(rb, 5, &err), 0);
	assert_int_equal(rb_test_users(rb, &tu), 2);
	run_ok(rb, 5);
	pathf(path, sizeof(path), "work/test/userlist-master");
	assert_int_equal(lstat(path, &st), 0);

	/* 6 needs the Yes; then the target is created */
	assert_int_equal(rb_run_step(rb, 6, false, &err), 0);
	assert_int_equal(rb_confirm(rb, 6, true, &err), 0);
	run_ok(rb, 6);
	run_ok(rb, 7);
	pathf(path, sizeof(path), "target/fred/cur");
	assert_int_equal(lstat(path, &st), 0);
	/* running it again changes nothing and succeeds */
	run_ok(rb, 7);
	assert_int_equal(rb_next_step(rb), 8);

	/* the IMAP test without a password says so; given one (as the
	 * wizard asks for it), it gets past that to the connection */
	unsetenv("MBOX2DOVECOT_IMAP_PASSWORD");
	assert_true(rb_run_step(rb, 10, true, &err) < 1);
	assert_non_null(strstr(err.msg, "no password"));
	rb_set_imap_password(rb, "secret");
	assert_true(rb_run_step(rb, 10, true, &err) < 1);
	assert_null(strstr(err.msg, "no password"));
	rb_set_imap_password(rb, NULL);
	assert_true(rb_run_step(rb, 10, true, &err) < 1);
	assert_non_null(strstr(err.msg, "no password"));
	rb_close(&rb);
}

static void test_report(void **state)
{
	struct runbook *rb = open_rb();
	struct m2d_error err;
	char *t = NULL, *j = NULL, *text;

	(void)state;
	assert_int_equal(rb_skip_step(rb, 0, "tab\there", false, &err), 0);
	assert_int_equal(rb_report_write(rb, &t, &j, &err), 0);
	text = slurp(j);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"steps\": ["));
	assert_non_null(strstr(text, "\"id\": \"checks\", \"status\": "
				     "\"skipped\""));
	assert_non_null(strstr(text, "\"reason\": \"tab\\u0009here\""));
	assert_non_null(strstr(text, "\"id\": \"report\", \"status\": "
				     "\"pending\""));
	free(text);
	text = slurp(t);
	assert_non_null(strstr(text, "tab\there"));
	free(text);
	free(t);
	free(j);
	rb_close(&rb);
}

/* An empty mbx folder as c-client makes it (its 2048-byte header). */
static void put_mbx(const char *rel)
{
	char path[512], head[2048];
	size_t n;
	FILE *f;

	memset(head, 0, sizeof(head));
	n = (size_t)snprintf(head, sizeof(head),
			     "*mbx*\r\n0000000100000000\r\n");
	for (int i = 0; i < 31; i++, n += 2)
		memcpy(head + n, "\r\n", 2);
	pathf(path, sizeof(path), rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(head, 1, sizeof(head), f), sizeof(head));
	assert_int_equal(fclose(f), 0);
}

/* Step 17 names the folders a rollback cannot carry mail back into, and
 * cannot be confirmed before that was shown; the report names them. */
static void test_uw_cutover(void **state)
{
	struct runbook *rb;
	struct m2d_error err;
	char *limits, *t = NULL, *j = NULL, *text;

	(void)state;
	put_mbx("home/fred/mail/old");
	rb = open_rb();
	assert_int_equal(rb_confirm(rb, 17, true, &err), -1);
	assert_non_null(strstr(err.msg, "mbx"));
	limits = rb_rollback_limits(rb);
	assert_non_null(limits);
	assert_non_null(strstr(limits, "fred/mail/old (mbx)"));
	free(limits);
	assert_int_equal(rb_confirm(rb, 17, true, &err), 0);
	assert_int_equal(rb_report_write(rb, &t, &j, &err), 0);
	text = slurp(t);
	assert_non_null(strstr(text, "fred/mail/old (mbx)"));
	free(text);
	text = slurp(j);
	assert_non_null(strstr(text, "\"no_rollback\": [{\"listed\": "
				     "\"fred/mail/old\", \"format\": \"mbx\""));
	free(text);
	free(t);
	free(j);
	rb_close(&rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_prerequisites, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_step, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_first_steps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uw_cutover, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
