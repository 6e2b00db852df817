/* SPDX-License-Identifier: MIT */
/* runbook-preview.c - what step 19 does to the accounts, shown before it
 * runs: the skeleton's new directories, the homes and shells usermod
 * sets (the same decisions step_postconf() and accounts_apply() take) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"
#include "runbook-int.h"
#include "xalloc.h"

/* TEXT + LINE + "\n" (TEXT freed). */
static char *add_line(char *text, const char *line)
{
	char *out = xasprintf("%s%s\n", text, line);

	free(text);
	return out;
}

/* The directories step 19 creates in the skeleton, one mkdir line each,
 * or a line saying they are there. */
static char *skel_lines(struct runbook *rb, char *text)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	char skel[4096], *line;
	struct acct_tools at;
	struct stat st;
	int missing = 0;

	rb_acct_tools(rb, &at);
	if (rb->cfg.skel_dir != NULL)
		snprintf(skel, sizeof(skel), "%s", rb->cfg.skel_dir);
	else
		acct_root_path(skel, sizeof(skel), &at, "/etc/skel");
	text = add_line(text, _("The skeleton of new accounts (skel_dir): "
				"they get a maildir in their home:"));
	for (int i = 0; i < 4; i++) {
		line = xasprintf("%s%s", skel, subs[i]);
		if (lstat(line, &st) < 0) {
			char *cmd = xasprintf("  mkdir %s", line);

			text = add_line(text, cmd);
			free(cmd);
			missing++;
		}
		free(line);
	}
	if (missing == 0) {
		line = xasprintf(_("  %s has cur/ new/ tmp/ already: nothing "
				   "to change"), skel);
		text = add_line(text, line);
		free(line);
	}
	return text;
}

/* "  usermod ... USER   (now: OLD)": the command step 19 runs for USER
 * and the value it replaces, from PW (may hold no such user). */
static char *usermod_line(char *text, const struct acct_tools *at,
			  struct acct_passwd *pw, const char *user,
			  const char *home, const char *shell)
{
	const struct acct_pw *e = acct_passwd_find(pw, user);
	char *one = acct_usermod_text(at, user, home, shell), *line;
	const char *now = e == NULL ? NULL : home != NULL ? e->home :
		e->shell;

	if (one != NULL)
		one[strcspn(one, "\n")] = '\0';
	if (now != NULL)
		line = xasprintf(_("  %s   (now: %s)"), one != NULL ? one : "",
				 now);
	else
		line = xasprintf("  %s", one != NULL ? one : "");
	text = add_line(text, line);
	free(line);
	free(one);
	return text;
}

/* usermod -d for every migrated user (homes_to_maildir); the rbash link
 * and usermod -s for rbash_users. */
static char *account_lines(struct runbook *rb, char *text,
			   struct m2d_error *err)
{
	struct acct_passwd pw;
	struct acct_tools at;
	struct m2d_error e2;
	char path[4096], *line;
	struct stat st;

	if (!rb->cfg.homes_to_maildir && rb->cfg.nrbash_users == 0)
		return text;
	if (rb->cfg.homes_to_maildir && rb_load_plan(rb, err) < 0)
		return text;
	rb_acct_tools(rb, &at);
	memset(&pw, 0, sizeof(pw));
	(void)acct_passwd_load(&at, &pw, &e2);	/* only for "now:" */
	if (rb->cfg.homes_to_maildir) {
		line = xasprintf(ngettext("The home of %zu user becomes its "
					  "maildir (homes_to_maildir):",
					  "The homes of %zu users become "
					  "their maildirs (homes_to_maildir):",
					  rb->plan.nusers), rb->plan.nusers);
		text = add_line(text, line);
		free(line);
		for (size_t i = 0; i < rb->plan.nusers; i++)
			text = usermod_line(text, &at, &pw,
					    rb->plan.users[i].name,
					    rb->plan.users[i].target, NULL);
	}
	if (rb->cfg.nrbash_users > 0) {
		text = add_line(text, _("The restricted bash for these users "
					"(rbash_users):"));
		acct_root_path(path, sizeof(path), &at, "/bin/rbash");
		if (lstat(path, &st) < 0) {
			line = xasprintf("  ln -s bash %s", path);
			text = add_line(text, line);
			free(line);
		}
		for (int i = 0; i < rb->cfg.nrbash_users; i++)
			text = usermod_line(text, &at, &pw,
					    rb->cfg.rbash_users[i], NULL,
					    "/bin/rbash");
	}
	acct_passwd_free(&pw);
	return text;
}

char *rb_preview_accounts(struct runbook *rb, struct m2d_error *err)
{
	char *text = xstrdup("");

	m2d_error_clear(err);
	if (rb->cfg.skel_dir != NULL ||
	    strcmp(rb->cfg.postfix_delivery, "home") == 0)
		text = skel_lines(rb, text);
	text = account_lines(rb, text, err);
	if (err->code != M2D_OK) {
		free(text);
		return NULL;
	}
	return text;
}
