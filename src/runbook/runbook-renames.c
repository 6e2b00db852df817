/* SPDX-License-Identifier: MIT */
/* runbook-renames.c - step 4's decisions as a file (renames.h): read
 * with --renames FILE, written to WORK_DIR/renames after every save, and
 * the editor's check of a typed name */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "renames.h"
#include "runbook-int.h"
#include "runbook-log.h"
#include "xalloc.h"

#define RENAMES_FILE "renames"

const char *rb_rename_problem(const struct runbook *rb, const char *listed,
			      const char *name, char *buf, size_t size)
{
	const struct plan *plan = rb->have_plan ? &rb->plan : NULL;
	size_t fi = plan != NULL && listed != NULL ?
		plan_find_folder(plan, listed) : (size_t)-1;

	return plan_rename_problem(plan, fi, name, buf, size);
}

/* A copy of the decisions, to put back when a file is refused. */
static struct rb_rename *save_renames(const struct runbook *rb)
{
	struct rb_rename *c = xcalloc(rb->nrenames + 1, sizeof(*c));

	for (size_t i = 0; i < rb->nrenames; i++) {
		c[i].listed = xstrdup(rb->renames[i].listed);
		c[i].name = rb->renames[i].name != NULL ?
			xstrdup(rb->renames[i].name) : NULL;
	}
	return c;
}

static void drop_renames(struct rb_rename *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].listed);
		free(r[i].name);
	}
	free(r);
}


int rb_import_renames(struct runbook *rb, const char *path,
		      struct m2d_error *err)
{
	struct rename_list l;
	struct rb_rename *old;
	size_t nold = rb->nrenames;

	if (rename_list_read(path, &l, err) < 0)
		return -1;
	old = save_renames(rb);
	for (size_t i = 0; i < l.n; i++)
		rb_put_rename(rb, l.items[i].listed, l.items[i].name);
	if (rb_build_plan(rb, err) < 0 ||
	    rename_list_check(&rb->plan, &l, true, err) < 0) {
		struct m2d_error e2;

		drop_renames(rb->renames, rb->nrenames);
		rb->renames = old;
		rb->nrenames = nold;
		(void)rb_build_plan(rb, &e2);
		rename_list_free(&l);
		return -1;
	}
	drop_renames(old, nold);
	rb_logbook_line(rb, rb->running, "decision",
			ngettext("%zu decision read from %s",
				 "%zu decisions read from %s", l.n), l.n, path);
	rename_list_free(&l);
	return 0;
}

int rb_write_renames(struct runbook *rb, struct m2d_error *err)
{
	char *path = xasprintf("%s/%s", rb->cfg.work_dir, RENAMES_FILE);
	struct plan_rename *r = xcalloc(rb->nrenames + 1, sizeof(*r));
	int ret = 0;

	for (size_t i = 0; i < rb->nrenames; i++) {
		r[i].listed = rb->renames[i].listed;
		r[i].name = rb->renames[i].name;
	}
	if (rb->nrenames > 0 || access(path, F_OK) == 0)
		ret = rename_list_write(path, r, rb->nrenames, err);
	free(r);
	free(path);
	return ret;
}

int rb_set_folder_names(struct runbook *rb, const char *mode,
			struct m2d_error *err)
{
	if (strcmp(mode, "uw") != 0 && strcmp(mode, "compat") != 0)
		return m2d_error_set(err, M2D_ERR_USAGE, NULL,
				     _("folder names \"%s\": \"compat\" or "
				       "\"uw\""), mode);
	m2d_config_set(&rb->cfg.folder_names, mode);
	rb->names_chosen = true;
	rb_logbook_line(rb, rb->running, "decision", _("folder names: %s"),
			mode);
	if (rb_build_plan(rb, err) < 0)
		return -1;
	return rb_save(rb, err);
}
