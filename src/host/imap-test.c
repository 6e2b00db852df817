/* SPDX-License-Identifier: MIT */
/* imap-test.c - the runbook's IMAP test (see imap-test.h) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "folder-names.h"
#include "i18n.h"
#include "imap-client.h"
#include "imap-test.h"
#include "mbox-reader.h"
#include "run-cmd.h"
#include "xalloc.h"

#define NAME_MAX_UTF8 1024

/* ======================================================================
 * The expected state, from the source mbox.
 * ====================================================================== */

int imap_expect_folder(const char *mbox, const char *name, bool mboxrd,
		       struct imap_expect *exp, struct m2d_error *err)
{
	struct mbox_reader_settings set;
	struct mbox_reader *reader;
	struct mbox_msg msg;
	size_t size = 0;
	int rc;

	memset(exp, 0, sizeof(*exp));
	memset(&set, 0, sizeof(set));
	set.mboxrd = mboxrd;
	exp->name = xstrdup(name);
	/* read-only, O_NOFOLLOW, no lock: the reader's own rules */
	if (mbox_reader_open(AT_FDCWD, mbox, &set, &reader, err) < 0) {
		imap_expect_free(exp);
		return -1;
	}
	while ((rc = mbox_reader_next(reader, &msg, err)) > 0) {
		if (exp->ndates == size) {
			size = size == 0 ? 64 : size * 2;
			exp->dates = xrealloc(exp->dates,
					      size * sizeof(*exp->dates));
		}
		/* the From_ date as the maildir writer sets it as the
		 * file's mtime, i.e. Dovecot's INTERNALDATE (convert.c:
		 * info.date = msg->from.date) */
		exp->dates[exp->ndates++] = msg.from.date;
	}
	mbox_reader_close(&reader);
	if (rc < 0) {
		imap_expect_free(exp);
		return -1;
	}
	exp->messages = exp->ndates;
	return 0;
}

void imap_expect_free(struct imap_expect *exp)
{
	free(exp->name);
	free(exp->dates);
	memset(exp, 0, sizeof(*exp));
}

/* ======================================================================
 * The checks over IMAP.
 * ====================================================================== */

struct run {
	const struct imap_test_params *p;
	struct imap_test_result *res;
	struct imap_client *c;
	char delim;			/* the server's hierarchy delimiter */
	char **listed;			/* LIST "" "*": UTF-8 names, '/' */
	size_t nlisted;
	bool dead;			/* the connection is gone */
	struct m2d_error err;		/* why it is */
};

static struct imap_check *check_add(struct run *r, const char *id)
{
	struct imap_check *ck = &r->res->checks[r->res->nchecks++];

	ck->id = id;
	ck->ok = false;
	ck->detail[0] = '\0';
	return ck;
}

static void check_set(struct imap_check *ck, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check_set(struct imap_check *ck, bool ok, const char *fmt, ...)
{
	va_list ap;

	ck->ok = ok;
	va_start(ap, fmt);
	vsnprintf(ck->detail, sizeof(ck->detail), fmt, ap);
	va_end(ap);
}

/* The check failed because the connection did (R->err). */
static void check_dead(struct run *r, struct imap_check *ck)
{
	char buf[M2D_ERROR_MSG_MAX + M2D_ERROR_PATH_MAX + 64];

	check_set(ck, false, _("the connection failed: %s"),
		  m2d_error_str(&r->err, buf, sizeof(buf)));
}

/* One command; false when the connection failed (r->dead). */
static bool cmd(struct run *r, struct imap_reply *reply, const char *fmt,
		const char *a, const char *b)
{
	int rc;

	if (r->dead) {
		memset(reply, 0, sizeof(*reply));
		return false;
	}
	rc = imap_client_command(r->c, reply, &r->err, fmt, a, b);
	if (rc < 0) {
		/* a bad folder name is this command's failure, not the
		 * connection's */
		if (r->err.code == M2D_ERR_NAME) {
			reply->tagged.kind = IMAP_RESP_TAGGED;
			snprintf(reply->tagged.name,
				 sizeof(reply->tagged.name), "NO");
			reply->tagged.text = xstrdup(r->err.msg);
			return true;
		}
		r->dead = true;
		return false;
	}
	return true;
}

/* A name as the server has it: '/' replaced by its delimiter. */
static void to_server(const struct run *r, const char *name, char *out,
		      size_t size)
{
	size_t i;

	snprintf(out, size, "%s", name);
	if (r->delim == '\0' || r->delim == '/')
		return;
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '/')
			out[i] = r->delim;
}

/* A listed name (modified UTF-7, the server's delimiter) in UTF-8 with
 * '/'.  A name that is not valid modified UTF-7 is kept as it is. */
static void from_server(const struct run *r, const char *name, char *out,
			size_t size)
{
	size_t i;

	if (mutf7_decode(name, out, size) < 0)
		snprintf(out, size, "%s", name);
	if (r->delim == '\0' || r->delim == '/')
		return;
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == r->delim)
			out[i] = '/';
}

static bool is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

static unsigned long resp_exists(const struct imap_reply *reply, bool *seen)
{
	unsigned long n = 0;
	size_t i;

	*seen = false;
	for (i = 0; i < reply->nuntagged; i++) {
		const struct imap_resp *u = &reply->untagged[i];

		if (u->has_number && strcmp(u->name, "EXISTS") == 0) {
			n = u->number;
			*seen = true;
		}
	}
	return n;
}

static void fmt_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "%lld", t);
}

static void scratch_name(char *buf, size_t size)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	snprintf(buf, size, "m2d-test-%08x", (unsigned)v);
}

static bool listed(const struct run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nlisted; i++)
		if (strcmp(r->listed[i], name) == 0 ||
		    (is_inbox(name) && is_inbox(r->listed[i])))
			return true;
	return false;
}

/* ---- login -------------------------------------------------------------- */

static bool check_login(struct run *r)
{
	struct imap_check *ck = check_add(r, "login");
	struct imap_reply reply;
	const char *user = r->p->user;
	char login[512], text[400];
	int rc;

	if (r->p->master_user != NULL && r->p->master_user[0] != '\0') {
		snprintf(login, sizeof(login), "%s*%s", r->p->user,
			 r->p->master_user);
		user = login;
	}
	switch (imap_client_greeting_kind(r->c)) {
	case IMAP_GREETING_BYE:
		check_set(ck, false, _("the server refused the connection: "
				       "%s"), imap_client_greeting(r->c));
		return false;
	case IMAP_GREETING_PREAUTH:
		check_set(ck, false, _("the server logged us in before LOGIN "
				       "(PREAUTH): not the account to test"));
		return false;
	case IMAP_GREETING_OK:
		break;
	}
	if (imap_client_capability(r->c, &r->err) < 0) {
		r->dead = true;
		check_dead(r, ck);
		return false;
	}
	if (imap_client_has_cap(r->c, "LOGINDISABLED")) {
		char buf[M2D_ERROR_MSG_MAX + M2D_ERROR_PATH_MAX + 64];

		if (!imap_client_has_cap(r->c, "STARTTLS")) {
			check_set(ck, false, _("the server refuses LOGIN "
					       "without TLS (LOGINDISABLED) and "
					       "offers no STARTTLS"));
			return false;
		}
		rc = imap_client_starttls(r->c, &r->err);
		if (rc != 0) {
			r->dead = rc < 0;
			check_set(ck, false, _("STARTTLS failed: %s"),
				  m2d_error_str(&r->err, buf, sizeof(buf)));
			return false;
		}
		if (imap_client_has_cap(r->c, "LOGINDISABLED")) {
			check_set(ck, false, _("the server still refuses "
					       "LOGIN after STARTTLS "
					       "(LOGINDISABLED)"));
			return false;
		}
	}
	rc = imap_client_command(r->c, &reply, &r->err, "LOGIN %s %s", user,
				 r->p->password);
	if (rc < 0) {
		imap_reply_free(&reply);
		r->dead = true;
		check_dead(r, ck);
		return false;
	}
	if (!imap_reply_ok(&reply)) {
		check_set(ck, false, _("LOGIN as %s refused: %s"), user,
			  imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return false;
	}
	imap_reply_free(&reply);
	if (imap_client_tls(r->c))
		check_set(ck, true, _("logged in as %s (STARTTLS)"), user);
	else
		check_set(ck, true, _("logged in as %s"), user);
	/* the capabilities after LOGIN may differ (MOVE, LITERAL+...) */
	imap_client_forget_caps(r->c);
	if (imap_client_capability(r->c, &r->err) < 0) {
		r->dead = true;
		check_dead(r, ck);
		return false;
	}
	return true;
}

/* ---- list --------------------------------------------------------------- */

static void free_listed(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nlisted; i++)
		free(r->listed[i]);
	free(r->listed);
	r->listed = NULL;
	r->nlisted = 0;
}

/* LIST "" PATTERN: the selectable names (UTF-8, '/') into R->listed. */
static bool list_names(struct run *r, const char *pattern,
		       struct imap_reply *reply)
{
	size_t i;

	free_listed(r);
	if (!cmd(r, reply, "LIST \"\" %s", pattern, NULL))
		return false;
	if (!imap_reply_ok(reply))
		return true;
	r->listed = xcalloc(reply->nuntagged + 1, sizeof(*r->listed));
	for (i = 0; i < reply->nuntagged; i++) {
		const struct imap_arg *flags;
		const char *name;
		char delim, utf8[NAME_MAX_UTF8];

		if (imap_resp_list(&reply->untagged[i], &flags, &delim,
				   &name) < 0)
			continue;
		if (imap_flags_have(flags, "\\Noselect") ||
		    imap_flags_have(flags, "\\NonExistent"))
			continue;
		from_server(r, name, utf8, sizeof(utf8));
		r->listed[r->nlisted++] = xstrdup(utf8);
	}
	return true;
}

static bool check_list(struct run *r)
{
	struct imap_check *ck = check_add(r, "list");
	struct imap_reply reply;
	char text[400], missing[400];
	size_t i, nmissing = 0, o = 0;

	/* the hierarchy delimiter: LIST "" "" */
	if (!cmd(r, &reply, "LIST \"\" \"\"", NULL, NULL)) {
		check_dead(r, ck);
		return false;
	}
	for (i = 0; i < reply.nuntagged; i++) {
		const struct imap_arg *flags;
		const char *name;
		char delim;

		if (imap_resp_list(&reply.untagged[i], &flags, &delim,
				   &name) == 0)
			r->delim = delim;
	}
	imap_reply_free(&reply);
	if (!list_names(r, "*", &reply)) {
		check_dead(r, ck);
		return false;
	}
	if (!imap_reply_ok(&reply)) {
		check_set(ck, false, _("LIST refused: %s"),
			  imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return false;
	}
	imap_reply_free(&reply);
	missing[0] = '\0';
	if (!listed(r, "INBOX")) {
		nmissing++;
		o += (size_t)snprintf(missing, sizeof(missing), "INBOX");
	}
	for (i = 0; i < r->p->nfolders; i++) {
		const char *name = r->p->folders[i].name;

		if (listed(r, name))
			continue;
		if (nmissing++ > 0 && o < sizeof(missing))
			o += (size_t)snprintf(missing + o, sizeof(missing) - o,
					      ", ");
		if (o < sizeof(missing))
			o += (size_t)snprintf(missing + o, sizeof(missing) - o,
					      "%s", name);
	}
	if (nmissing > 0) {
		check_set(ck, false, ngettext("%zu folder not listed: %s",
					      "%zu folders not listed: %s",
					      nmissing), nmissing, missing);
		return false;
	}
	check_set(ck, true, ngettext("INBOX and the %zu expected folder are "
				     "listed (%zu in all)",
				     "INBOX and the %zu expected folders are "
				     "listed (%zu in all)", r->p->nfolders),
		  r->p->nfolders, r->nlisted);
	return true;
}

/* ---- counts and dates --------------------------------------------------- */

static void check_counts_dates(struct run *r)
{
	struct imap_check *counts = check_add(r, "counts");
	struct imap_check *dates = check_add(r, "dates");
	size_t i, ncount_bad = 0, nskipped = 0;
	unsigned long total = 0, want_total = 0, ndates = 0, ndate_bad = 0;
	char first_count[512] = "", first_date[512] = "", text[400];

	for (i = 0; i < r->p->nfolders && !r->dead; i++) {
		const struct imap_expect *f = &r->p->folders[i];
		struct imap_reply reply;
		char sname[NAME_MAX_UTF8];
		unsigned long exists, j, n;
		long long *got = NULL;
		char seq[32];
		bool seen;

		to_server(r, f->name, sname, sizeof(sname));
		if (!cmd(r, &reply, "EXAMINE %m", sname, NULL))
			break;
		if (!imap_reply_ok(&reply)) {
			if (ncount_bad++ == 0)
				snprintf(first_count, sizeof(first_count),
					 _("%s: EXAMINE refused: %s"), f->name,
					 imap_reply_text(&reply, text,
							 sizeof(text)));
			nskipped++;
			imap_reply_free(&reply);
			continue;
		}
		exists = resp_exists(&reply, &seen);
		imap_reply_free(&reply);
		total += exists;
		want_total += f->messages;
		if (exists != f->messages &&
		    !(r->p->at_least && exists > f->messages)) {
			if (ncount_bad++ == 0)
				snprintf(first_count, sizeof(first_count),
					 r->p->at_least ?
					 _("%s: %lu messages on the server, "
					   "fewer than the %lu in the mbox") :
					 _("%s: %lu messages on the server, %lu "
					   "in the mbox"), f->name, exists,
					 f->messages);
			nskipped++;
			continue;
		}
		/* the messages of the mbox (AT_LEAST: new mail follows) */
		n = f->messages;
		if (n == 0)
			continue;
		snprintf(seq, sizeof(seq), "1:%lu", n);
		if (!cmd(r, &reply, "FETCH %a (INTERNALDATE)", seq, NULL))
			break;
		got = xmalloc(n * sizeof(*got));
		for (j = 0; j < n; j++)
			got[j] = LLONG_MIN;	/* not given */
		if (imap_reply_ok(&reply)) {
			for (j = 0; j < reply.nuntagged; j++) {
				const struct imap_resp *u = &reply.untagged[j];
				const struct imap_arg *l;
				size_t k;

				if (!u->has_number || u->number < 1 ||
				    u->number > n ||
				    strcmp(u->name, "FETCH") != 0 ||
				    u->count < 1 ||
				    u->args[0].type != IMAP_ARG_LIST)
					continue;
				l = &u->args[0];
				for (k = 0; k + 1 < l->count; k += 2) {
					const char *key, *val;
					long long t;

					key = imap_arg_string(&l->list[k]);
					val = imap_arg_string(&l->list[k + 1]);
					if (key != NULL && val != NULL &&
					    strcasecmp(key, "INTERNALDATE") == 0
					    && imap_parse_internaldate(val, &t)
					    == 0)
						got[u->number - 1] = t;
				}
			}
		} else {
			if (ndate_bad++ == 0)
				snprintf(first_date, sizeof(first_date),
					 _("%s: FETCH refused: %s"), f->name,
					 imap_reply_text(&reply, text,
							 sizeof(text)));
			free(got);
			got = NULL;
		}
		imap_reply_free(&reply);
		for (j = 0; got != NULL && j < n; j++) {
			char want[64], have[64];

			ndates++;
			if (got[j] == (long long)f->dates[j])
				continue;
			if (ndate_bad++ > 0)
				continue;
			fmt_time((long long)f->dates[j], want, sizeof(want));
			if (got[j] == LLONG_MIN)
				snprintf(first_date, sizeof(first_date),
					 _("%s, message %lu: no INTERNALDATE, "
					   "From_ date %s"), f->name, j + 1,
					 want);
			else {
				fmt_time(got[j], have, sizeof(have));
				snprintf(first_date, sizeof(first_date),
					 _("%s, message %lu: INTERNALDATE %s, "
					   "From_ date %s"), f->name, j + 1,
					 have, want);
			}
		}
		free(got);
	}
	if (r->dead) {
		check_dead(r, counts);
		check_dead(r, dates);
		return;
	}
	if (ncount_bad > 0)
		check_set(counts, false,
			  ngettext("%s (%zu of %zu folders differs)",
				   "%s (%zu of %zu folders differ)",
				   ncount_bad),
			  first_count, ncount_bad, r->p->nfolders);
	else if (r->p->at_least && total > want_total)
		check_set(counts, true,
			  ngettext("%zu folder, %lu messages: the %lu of the "
				   "mbox and new mail",
				   "%zu folders, %lu messages: the %lu of the "
				   "mboxes and new mail", r->p->nfolders),
			  r->p->nfolders, total, want_total);
	else
		check_set(counts, true,
			  ngettext("%zu folder, %lu messages, as in the mbox",
				   "%zu folders, %lu messages, as in the "
				   "mboxes", r->p->nfolders),
			  r->p->nfolders, total);
	if (ndate_bad > 0)
		check_set(dates, false, ngettext("%s (%lu date differs)",
						 "%s (%lu dates differ)",
						 ndate_bad),
			  first_date, ndate_bad);
	else if (nskipped > 0)
		check_set(dates, true, _("%lu dates equal the From_ dates; %zu "
					 "folders not compared (their counts "
					 "differ)"), ndates, nskipped);
	else
		check_set(dates, true, _("%lu dates equal the From_ dates, in "
					 "order"), ndates);
}

/* ---- delivered ---------------------------------------------------------- */

/* INBOX holds a message with the Message-ID P->find_message_id: searched
 * once (the caller waits for the delivery before). */
static void check_delivered(struct run *r)
{
	struct imap_check *ck = check_add(r, "delivered");
	const char *id = r->p->find_message_id;
	struct imap_reply reply;
	char text[400];
	unsigned long first = 0, count = 0;
	size_t i, k;

	if (!cmd(r, &reply, "EXAMINE INBOX", NULL, NULL)) {
		check_dead(r, ck);
		return;
	}
	if (!imap_reply_ok(&reply)) {
		check_set(ck, false, _("EXAMINE INBOX refused: %s"),
			  imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return;
	}
	imap_reply_free(&reply);
	if (!cmd(r, &reply, "SEARCH HEADER Message-ID %s", id, NULL)) {
		check_dead(r, ck);
		return;
	}
	if (!imap_reply_ok(&reply)) {
		check_set(ck, false, _("SEARCH in INBOX refused: %s"),
			  imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return;
	}
	for (i = 0; i < reply.nuntagged; i++) {
		const struct imap_resp *u = &reply.untagged[i];

		if (strcmp(u->name, "SEARCH") != 0)
			continue;
		for (k = 0; k < u->count; k++) {
			const char *v = imap_arg_string(&u->args[k]);

			if (v == NULL || strtoul(v, NULL, 10) == 0)
				continue;
			if (count++ == 0)
				first = strtoul(v, NULL, 10);
		}
	}
	imap_reply_free(&reply);
	if (count == 0)
		check_set(ck, false, _("no message with Message-ID %s in "
				       "INBOX"), id);
	else
		check_set(ck, true, _("INBOX message %lu has Message-ID %s"),
			  first, id);
}

/* ---- create ------------------------------------------------------------- */

/* A scratch name no folder has. */
static void new_scratch(const struct run *r, char *buf, size_t size)
{
	int tries = 0;

	do
		scratch_name(buf, size);
	while (listed(r, buf) && ++tries < 16);
}

/* Whether LIST shows NAME exactly (false also when the command failed). */
static bool exists_now(struct run *r, const char *name)
{
	struct imap_reply reply;
	char sname[NAME_MAX_UTF8], enc[NAME_MAX_UTF8];
	size_t i;
	bool found = false;

	to_server(r, name, sname, sizeof(sname));
	if (mutf7_encode(sname, enc, sizeof(enc)) < 0)
		return false;
	if (!cmd(r, &reply, "LIST \"\" %s", enc, NULL))
		return false;
	for (i = 0; i < reply.nuntagged; i++) {
		const struct imap_arg *flags;
		const char *n;
		char delim;

		if (imap_resp_list(&reply.untagged[i], &flags, &delim,
				   &n) == 0 && strcmp(n, enc) == 0 &&
		    !imap_flags_have(flags, "\\NonExistent"))
			found = true;
	}
	imap_reply_free(&reply);
	return found;
}

/* CREATE or DELETE NAME: true when OK; else DETAIL says why. */
static bool create_delete(struct run *r, const char *verb, const char *name,
			  char *detail, size_t size)
{
	struct imap_reply reply;
	char sname[NAME_MAX_UTF8], text[400];
	bool ok;

	to_server(r, name, sname, sizeof(sname));
	if (!cmd(r, &reply, strcmp(verb, "CREATE") == 0 ? "CREATE %m" :
			    "DELETE %m", sname, NULL))
		return false;
	ok = imap_reply_ok(&reply);
	if (!ok)
		snprintf(detail, size, _("%s %s refused: %s"), verb, name,
			 imap_reply_text(&reply, text, sizeof(text)));
	imap_reply_free(&reply);
	return ok;
}

static void check_create(struct run *r)
{
	struct imap_check *ck = check_add(r, "create");
	char name[64], detail[512];

	new_scratch(r, name, sizeof(name));
	if (!create_delete(r, "CREATE", name, detail, sizeof(detail))) {
		if (r->dead)
			check_dead(r, ck);
		else
			check_set(ck, false, "%s", detail);
		return;
	}
	if (!exists_now(r, name)) {
		if (r->dead) {
			check_dead(r, ck);
			return;
		}
		check_set(ck, false, _("%s was created but LIST does not show "
				       "it"), name);
		create_delete(r, "DELETE", name, detail, sizeof(detail));
		return;
	}
	if (!create_delete(r, "DELETE", name, detail, sizeof(detail))) {
		if (r->dead)
			check_dead(r, ck);
		else
			check_set(ck, false, "%s", detail);
		return;
	}
	if (exists_now(r, name))
		check_set(ck, false, _("%s was deleted but LIST still shows "
				       "it"), name);
	else if (r->dead)
		check_dead(r, ck);
	else
		check_set(ck, true, _("%s created, listed and deleted"), name);
}

/* ---- move --------------------------------------------------------------- */

struct msg_id {
	unsigned long exists;
	unsigned long size;
	long long date;
};

/* SELECT NAME: its EXISTS, and message 1's size and INTERNALDATE. */
static bool select_look(struct run *r, const char *name, struct msg_id *id,
			char *detail, size_t size)
{
	struct imap_reply reply;
	char sname[NAME_MAX_UTF8], text[400];
	bool seen;
	size_t i, k;

	memset(id, 0, sizeof(*id));
	to_server(r, name, sname, sizeof(sname));
	if (!cmd(r, &reply, "SELECT %m", sname, NULL))
		return false;
	if (!imap_reply_ok(&reply)) {
		snprintf(detail, size, _("SELECT %s refused: %s"), name,
			 imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return false;
	}
	id->exists = resp_exists(&reply, &seen);
	imap_reply_free(&reply);
	if (id->exists == 0)
		return true;
	if (!cmd(r, &reply, "FETCH 1 (RFC822.SIZE INTERNALDATE)", NULL, NULL))
		return false;
	for (i = 0; i < reply.nuntagged; i++) {
		const struct imap_resp *u = &reply.untagged[i];
		const struct imap_arg *l;

		if (!u->has_number || u->number != 1 ||
		    strcmp(u->name, "FETCH") != 0 || u->count < 1 ||
		    u->args[0].type != IMAP_ARG_LIST)
			continue;
		l = &u->args[0];
		for (k = 0; k + 1 < l->count; k += 2) {
			const char *key = imap_arg_string(&l->list[k]);
			const char *val = imap_arg_string(&l->list[k + 1]);

			if (key == NULL || val == NULL)
				continue;
			if (strcasecmp(key, "RFC822.SIZE") == 0)
				id->size = strtoul(val, NULL, 10);
			else if (strcasecmp(key, "INTERNALDATE") == 0)
				imap_parse_internaldate(val, &id->date);
		}
	}
	imap_reply_free(&reply);
	return true;
}

/* Move message 1 of the selected folder to TO: MOVE when the server has
 * it, else COPY, STORE \Deleted, EXPUNGE (the selected folder is one of
 * ours: expunging there touches nothing else). */
static bool move_first(struct run *r, const char *to, char *detail,
		       size_t size)
{
	struct imap_reply reply;
	char sname[NAME_MAX_UTF8], text[400];
	bool ok;

	to_server(r, to, sname, sizeof(sname));
	if (imap_client_has_cap(r->c, "MOVE")) {
		if (!cmd(r, &reply, "MOVE 1 %m", sname, NULL))
			return false;
		ok = imap_reply_ok(&reply);
		if (!ok)
			snprintf(detail, size, _("MOVE to %s refused: %s"), to,
				 imap_reply_text(&reply, text, sizeof(text)));
		imap_reply_free(&reply);
		return ok;
	}
	if (!cmd(r, &reply, "COPY 1 %m", sname, NULL))
		return false;
	ok = imap_reply_ok(&reply);
	if (!ok)
		snprintf(detail, size, _("COPY to %s refused: %s"), to,
			 imap_reply_text(&reply, text, sizeof(text)));
	imap_reply_free(&reply);
	if (!ok)
		return false;
	if (!cmd(r, &reply, "STORE 1 +FLAGS.SILENT (\\Deleted)", NULL, NULL))
		return false;
	imap_reply_free(&reply);
	if (!cmd(r, &reply, "EXPUNGE", NULL, NULL))
		return false;
	ok = imap_reply_ok(&reply);
	if (!ok)
		snprintf(detail, size, _("EXPUNGE refused: %s"),
			 imap_reply_text(&reply, text, sizeof(text)));
	imap_reply_free(&reply);
	return ok;
}

/* STATUS NAME (MESSAGES), or -1. */
static long status_messages(struct run *r, const char *name)
{
	struct imap_reply reply;
	char sname[NAME_MAX_UTF8];
	long n = -1;
	size_t i, k;

	to_server(r, name, sname, sizeof(sname));
	if (!cmd(r, &reply, "STATUS %m (MESSAGES)", sname, NULL))
		return -1;
	for (i = 0; i < reply.nuntagged; i++) {
		const struct imap_resp *u = &reply.untagged[i];
		const struct imap_arg *l;

		if (strcmp(u->name, "STATUS") != 0 || u->count < 2 ||
		    u->args[1].type != IMAP_ARG_LIST)
			continue;
		l = &u->args[1];
		for (k = 0; k + 1 < l->count; k += 2) {
			const char *key = imap_arg_string(&l->list[k]);
			const char *val = imap_arg_string(&l->list[k + 1]);

			if (key != NULL && val != NULL &&
			    strcasecmp(key, "MESSAGES") == 0)
				n = strtol(val, NULL, 10);
		}
	}
	imap_reply_free(&reply);
	return n;
}

/* The message moved from FROM to TO: TO has it (same size and date) and
 * FROM is empty.  TO is selected afterwards. */
static bool arrived(struct run *r, const char *from, const char *to,
		    const struct msg_id *orig, char *detail, size_t size)
{
	struct msg_id id;
	long left;

	if (!select_look(r, to, &id, detail, size))
		return false;
	if (id.exists != 1 || id.size != orig->size || id.date != orig->date) {
		snprintf(detail, size, _("after the move %s holds %lu "
					 "messages (size %lu), want 1 (size "
					 "%lu, the same date)"), to, id.exists,
			 id.size, orig->size);
		return false;
	}
	left = status_messages(r, from);
	if (left != 0) {
		if (!r->dead)
			snprintf(detail, size, _("after the move %s still "
						 "holds %ld messages, want 0"),
				 from, left);
		return false;
	}
	return true;
}

static const char test_message[] =
	"From: mbox2dovecot <postmaster@localhost>\r\n"
	"To: mbox2dovecot <postmaster@localhost>\r\n"
	"Subject: mbox2dovecot IMAP test\r\n"
	"Date: Tue, 9 Nov 2004 10:11:12 +0000\r\n"
	"Message-ID: <imap-test@mbox2dovecot>\r\n"
	"\r\n"
	"A scratch message of the IMAP test; deleted with its folder.\r\n";

/* Fill the scratch folder A with one message: a COPY of INBOX's first
 * (INBOX examined, read-only: nothing of it changes), or when INBOX is
 * empty an APPENDed test message.  *HOW_R says which. */
static bool fill_scratch(struct run *r, const char *a, const char **how_r,
			 char *detail, size_t size)
{
	struct imap_reply reply;
	char sname[NAME_MAX_UTF8], text[400];
	unsigned long exists;
	bool seen, ok;

	to_server(r, a, sname, sizeof(sname));
	if (!cmd(r, &reply, "EXAMINE INBOX", NULL, NULL))
		return false;
	ok = imap_reply_ok(&reply);
	exists = resp_exists(&reply, &seen);
	if (!ok)
		snprintf(detail, size, _("EXAMINE INBOX refused: %s"),
			 imap_reply_text(&reply, text, sizeof(text)));
	imap_reply_free(&reply);
	if (!ok)
		return false;
	if (exists > 0) {
		*how_r = _("a copy of INBOX message 1");
		if (!cmd(r, &reply, "COPY 1 %m", sname, NULL))
			return false;
	} else {
		*how_r = _("an appended test message");
		if (!cmd(r, &reply, "APPEND %m (\\Seen) %s", sname,
			 test_message))
			return false;
	}
	ok = imap_reply_ok(&reply);
	if (!ok)
		snprintf(detail, size, exists > 0 ?
			 _("COPY from INBOX to %s refused: %s") :
			 _("APPEND to %s refused: %s"), a,
			 imap_reply_text(&reply, text, sizeof(text)));
	imap_reply_free(&reply);
	return ok;
}

static void check_move(struct run *r)
{
	struct imap_check *ck = check_add(r, "move");
	char a[64], b[80], detail[512] = "", cleanup[512] = "";
	bool made_a = false, made_b = false, ok = false;
	const char *how = "";
	struct msg_id orig;
	struct imap_reply reply;

	new_scratch(r, a, sizeof(a));
	/* B below A when the server has levels, else beside it */
	if (r->delim != '\0')
		snprintf(b, sizeof(b), "%s/b", a);
	else
		snprintf(b, sizeof(b), "%s-b", a);
	if (!(made_a = create_delete(r, "CREATE", a, detail, sizeof(detail))))
		goto done;
	if (!(made_b = create_delete(r, "CREATE", b, detail, sizeof(detail))))
		goto done;
	if (!fill_scratch(r, a, &how, detail, sizeof(detail)))
		goto done;
	if (!select_look(r, a, &orig, detail, sizeof(detail)))
		goto done;
	if (orig.exists != 1) {
		snprintf(detail, sizeof(detail), _("%s holds %lu messages "
						   "after the copy, want 1"),
			 a, orig.exists);
		goto done;
	}
	if (!move_first(r, b, detail, sizeof(detail)) ||
	    !arrived(r, a, b, &orig, detail, sizeof(detail)))
		goto done;
	if (!move_first(r, a, detail, sizeof(detail)) ||
	    !arrived(r, b, a, &orig, detail, sizeof(detail)))
		goto done;
	ok = true;
done:
	/* leave the scratch folders: CLOSE (it expunges only in ours) */
	if (!r->dead && cmd(r, &reply, "CLOSE", NULL, NULL))
		imap_reply_free(&reply);
	if (made_b && !r->dead &&
	    !create_delete(r, "DELETE", b, cleanup, sizeof(cleanup)))
		ok = false;
	if (made_a && !r->dead &&
	    !create_delete(r, "DELETE", a, cleanup, sizeof(cleanup)))
		ok = false;
	if (!r->dead && made_a && (exists_now(r, a) || exists_now(r, b))) {
		ok = false;
		if (cleanup[0] == '\0')
			snprintf(cleanup, sizeof(cleanup),
				 _("the scratch folder %s is still listed"), a);
	}
	if (r->dead)
		check_dead(r, ck);
	else if (ok)
		check_set(ck, true, _("%s moved from %s to %s and back; both "
				      "deleted again"), how, a, b);
	else if (detail[0] != '\0')
		check_set(ck, false, "%s%s%s", detail,
			  cleanup[0] != '\0' ? "; " : "", cleanup);
	else
		check_set(ck, false, "%s", cleanup);
}

int imap_test_run(const struct imap_test_params *params,
		  struct imap_test_result *result, struct m2d_error *err)
{
	struct run r;
	size_t i;

	memset(result, 0, sizeof(*result));
	memset(&r, 0, sizeof(r));
	r.p = params;
	r.res = result;
	if (imap_client_connect(params->host, params->port, params->timeout,
				&r.c, err) < 0)
		return -1;
	snprintf(result->greeting, sizeof(result->greeting), "%s",
		 imap_client_greeting(r.c));
	if (check_login(&r) && check_list(&r)) {
		check_counts_dates(&r);
		if (params->find_message_id != NULL && !r.dead)
			check_delivered(&r);
		if (params->modify && !r.dead)
			check_create(&r);
		if (params->modify && !r.dead)
			check_move(&r);
	}
	if (!r.dead) {
		struct imap_reply reply;

		if (cmd(&r, &reply, "LOGOUT", NULL, NULL))
			imap_reply_free(&reply);
	}
	imap_client_close(&r.c);
	free_listed(&r);
	for (i = 0; i < result->nchecks; i++)
		if (!result->checks[i].ok)
			result->failed++;
	return result->failed > 0 ? 1 : 0;
}

/* ======================================================================
 * doveadm mailbox status
 * ====================================================================== */

/* The folder NAME in doveadm's list: exactly, or with '.' between levels
 * (a namespace whose separator is '.'). */
static const char *find_count(char **names, char **counts, size_t n,
			      const char *name)
{
	char alt[NAME_MAX_UTF8];
	size_t i;

	snprintf(alt, sizeof(alt), "%s", name);
	for (i = 0; alt[i] != '\0'; i++)
		if (alt[i] == '/')
			alt[i] = '.';
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0 ||
		    (is_inbox(name) && is_inbox(names[i])))
			return counts[i];
	for (i = 0; i < n; i++)
		if (strcmp(names[i], alt) == 0)
			return counts[i];
	return NULL;
}

int imap_doveadm_counts(const char *doveadm, const char *conf,
			const char *user, const struct imap_expect *folders,
			size_t nfolders, struct imap_doveadm_result *result,
			struct m2d_error *err)
{
	const char *extra[16];
	char **argv, **names = NULL, **counts = NULL, *line, *save = NULL;
	struct run_output out;
	size_t n = 0, nlines = 0, i, nbad = 0;
	int e = 0, col_name = -1, col_msgs = -1, rc;
	char first[512] = "";

	memset(result, 0, sizeof(*result));
	if (conf != NULL) {
		extra[e++] = "-c";
		extra[e++] = conf;
	}
	extra[e++] = "-f";
	extra[e++] = "tab";
	extra[e++] = "mailbox";
	extra[e++] = "status";
	extra[e++] = "-u";
	extra[e++] = user;
	extra[e++] = "messages";
	extra[e++] = "*";
	extra[e] = NULL;
	argv = run_cmd_argv(doveadm != NULL ? doveadm : "doveadm", extra);
	if (argv[0] == NULL) {
		free(argv);
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("no doveadm command given"));
	}
	rc = run_cmd(argv, &out, err);
	if (rc < 0) {
		free(argv);
		return -1;
	}
	if (out.status != 0) {
		int len = (int)strcspn(out.err != NULL ? out.err : "", "\n");

		m2d_error_set(err, M2D_ERR_SYS, argv[0],
			      _("doveadm mailbox status -u %s failed (exit "
				"%d): %.*s"), user, out.status, len > 300 ? 300 :
			      len, out.err != NULL ? out.err : "");
		free(argv);
		run_output_free(&out);
		return -1;
	}
	free(argv);
	for (line = out.out; line != NULL && *line != '\0'; line++)
		if (*line == '\n')
			nlines++;
	names = xcalloc(nlines + 1, sizeof(*names));
	counts = xcalloc(nlines + 1, sizeof(*counts));

	/* "mailbox\tmessages" then one line per folder (the order of the
	 * columns read from the header) */
	for (line = strtok_r(out.out != NULL ? out.out : (char *)"", "\n",
			     &save);
	     line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *field, *fsave = NULL, *vals[8] = { NULL };
		int col = 0;

		for (field = strtok_r(line, "\t", &fsave);
		     field != NULL && col < 8;
		     field = strtok_r(NULL, "\t", &fsave))
			vals[col++] = field;
		if (col_name < 0) {
			for (i = 0; i < (size_t)col; i++) {
				if (strcmp(vals[i], "mailbox") == 0)
					col_name = (int)i;
				else if (strcmp(vals[i], "messages") == 0)
					col_msgs = (int)i;
			}
			if (col_name < 0 || col_msgs < 0) {
				m2d_error_set(err, M2D_ERR_MALFORMED, NULL,
					      _("doveadm mailbox status printed "
						"no header \"mailbox messages\""
						": %.100s"), vals[0] != NULL ?
					      vals[0] : "");
				free(names);
				free(counts);
				run_output_free(&out);
				return -1;
			}
			continue;
		}
		if (vals[col_name] == NULL || vals[col_msgs] == NULL)
			continue;
		names[n] = vals[col_name];
		counts[n] = vals[col_msgs];
		n++;
	}
	for (i = 0; i < nfolders; i++) {
		const char *c = find_count(names, counts, n, folders[i].name);
		unsigned long got;

		if (c == NULL) {
			if (nbad++ == 0)
				snprintf(first, sizeof(first),
					 _("%s: not in doveadm's list"),
					 folders[i].name);
			continue;
		}
		got = strtoul(c, NULL, 10);
		result->folders_seen++;
		result->messages += got;
		if (got != folders[i].messages && nbad++ == 0)
			snprintf(first, sizeof(first),
				 _("%s: doveadm counts %lu messages, the mbox "
				   "%lu"), folders[i].name, got,
				 folders[i].messages);
	}
	free(names);
	free(counts);
	run_output_free(&out);
	result->ok = nbad == 0;
	if (nbad > 0)
		snprintf(result->detail, sizeof(result->detail),
			 ngettext("%s (%zu of %zu folders differs)",
				  "%s (%zu of %zu folders differ)", nbad),
			 first, nbad, nfolders);
	else
		snprintf(result->detail, sizeof(result->detail),
			 ngettext("%zu folder, %lu messages, as in the mbox",
				  "%zu folders, %lu messages, as in the mboxes",
				  nfolders),
			 nfolders, result->messages);
	return result->ok ? 0 : 1;
}
