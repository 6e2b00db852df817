/* SPDX-License-Identifier: MIT */
/* runbook-checks.c - the pre-flight checks as step 0 and "mbox2dovecot
 * check" both run them: one set-up from the configuration, one plan with
 * the saved decisions */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "runbook-int.h"

/* The names decided at step 4 (saved) count as decided: the plan applied
 * them; the folder-name check says how many there are. */
static void note_decisions(const struct runbook *rb, const struct plan *plan,
			   struct checks_report *rep)
{
	const struct check_item *found = checks_find(rep, "folder_names");
	struct check_item *it = (struct check_item *)found;
	size_t n = 0, len;

	if (it == NULL)
		return;
	for (size_t i = 0; i < rb->nrenames; i++) {
		for (size_t k = 0; k < plan->nfolders; k++) {
			if (strcmp(plan->folders[k].listed,
				   rb->renames[i].listed) == 0) {
				n++;
				break;
			}
		}
	}
	check_result_figure(&it->res, "decided", (long long)n);
	if (n == 0)
		return;
	/* a pass: the rest keep their names */
	len = it->res.status == CHECK_PASS ? 0 : strlen(it->res.detail);
	if (len == 0)
		snprintf(it->res.detail, sizeof(it->res.detail), "%s",
			 _("every other planned folder keeps its name"));
	len = strlen(it->res.detail);
	snprintf(it->res.detail + len, sizeof(it->res.detail) - len,
		 ngettext("; %zu name decided at step 4 (saved: renamed or "
			  "left out)", "; %zu names decided at step 4 "
			  "(saved: renamed or left out)", n), n);
}

/* --accept-suggested-names: every suggested name taken, in memory only
 * (nothing saved), as step 4's "accept all" would. */
static int accept_suggested(struct runbook *rb, struct m2d_error *err)
{
	for (int round = 0; round < 4; round++) {
		bool changed = false;

		if (rb_build_plan(rb, err) < 0)
			return -1;
		for (size_t i = 0; i < rb->plan.nfolders; i++) {
			const struct plan_folder *f = &rb->plan.folders[i];

			if (f->skip != PLAN_SKIP_NAME || f->suggestion == NULL ||
			    rb_find_rename(rb, f->listed) != NULL)
				continue;
			rb_add_rename(rb, f->listed, f->suggestion);
			changed = true;
		}
		if (!changed)
			break;
	}
	return 0;
}

int rb_run_checks(struct runbook *rb, const struct rb_checks_opts *opts,
		  struct checks_report *rep, struct m2d_error *err)
{
	struct checks_settings set;
	struct plan_source given;
	struct pf_tools pf;
	struct plan own;
	const struct plan *plan = &rb->plan;
	bool lists = opts != NULL && (opts->users != NULL ||
				      opts->userlist != NULL ||
				      opts->folderlist != NULL);
	int worst;

	memset(&own, 0, sizeof(own));
	if (rb->opts.accept_suggested && accept_suggested(rb, err) < 0)
		return -1;
	if (lists) {
		memset(&given, 0, sizeof(given));
		given.users = opts->users;
		given.userlist = opts->userlist;
		given.folderlist = opts->folderlist;
		if (rb_build_plan_from(rb, &given, &own, err) < 0)
			return -1;
		plan = &own;
	} else if (rb_build_plan(rb, err) < 0) {
		return -1;
	}
	checks_settings_from_config(&set, &rb->cfg, plan, &pf);
	if (opts != NULL) {
		set.scratch_dir = opts->scratch_dir;
		set.sample_folders = opts->sample_folders;
		set.progress = opts->progress;
		set.ctx = opts->ctx;
	}
	worst = checks_run(&set, rep, err);
	if (worst >= 0)
		note_decisions(rb, plan, rep);
	if (lists)
		plan_free(&own);
	return worst;
}
