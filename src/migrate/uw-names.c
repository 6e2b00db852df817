/* SPDX-License-Identifier: MIT */
/* uw-names.c - the names UW-IMAP showed (home-relative, or relative to
 * c-client's mail-subdirectory) and the namespaces that keep them */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "uw-names.h"
#include "safe-file.h"
#include "xalloc.h"
#include "i18n.h"

#define CCLIENT_CF "/etc/c-client.cf"
#define RISKPHRASE "I accept the risk for IMAP toolkit 4.1."

/* "mail/", "/mail", "mail//x/" -> "mail", "mail/x"; "" for the home. */
static char *norm_rel(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s == '/')
		s++;
	for (; *s != '\0'; s++) {
		if (*s == '/' && (o == out || o[-1] == '/'))
			continue;
		*o++ = *s;
	}
	while (o > out && o[-1] == '/')
		o--;
	*o = '\0';
	return out;
}

/* c-client's dorc(): the risk phrase on line 1, then "set NAME VALUE"
 * lines, the two words without regard to case, VALUE the rest of the
 * line; the last one wins. */
static char *parse_cclient(char *text)
{
	char *line, *next, *found = NULL;
	bool first = true;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *sp;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (first) {
			first = false;
			if (strncmp(line, RISKPHRASE, strlen(RISKPHRASE)) != 0)
				return NULL;	/* c-client ignores the file */
			continue;
		}
		sp = strchr(line, ' ');
		if (sp == NULL || (sp = strchr(sp + 1, ' ')) == NULL)
			continue;
		if ((size_t)(sp - line) == strlen("set mail-subdirectory") &&
		    strncasecmp(line, "set mail-subdirectory", (size_t)(sp - line)) == 0)
			found = sp + 1;
	}
	return found != NULL ? norm_rel(found) : NULL;
}

static int read_cclient(const struct m2d_config *cfg, struct uw_names *n,
			struct m2d_error *err)
{
	const char *root = cfg->services_root != NULL ? cfg->services_root : "";
	char *path = xasprintf("%s%s", root, CCLIENT_CF), *text = NULL;
	int r = sf_read_text(path, &text, NULL, err);

	if (r <= 0) {
		free(path);
		if (r == 0)
			m2d_error_clear(err);
		return r;
	}
	n->subdir = parse_cclient(text);
	free(text);
	if (n->subdir != NULL)
		n->source = path;
	else
		free(path);
	return 0;
}

int uw_names_init(const struct m2d_config *cfg, struct uw_names *n,
		  struct m2d_error *err)
{
	const char *v = cfg->uw_mail_subdirectory;

	memset(n, 0, sizeof(*n));
	n->mode = cfg->folder_names != NULL &&
		strcmp(cfg->folder_names, "uw") == 0 ?
		UW_NAMES_UW : UW_NAMES_COMPAT;
	if (v != NULL && v[0] != '\0') {
		if (strcmp(v, "~") != 0) {
			n->subdir = norm_rel(v[0] == '~' ? v + 1 : v);
			n->source = xstrdup("mbox2dovecot.conf");
		}
		if (n->subdir != NULL && n->subdir[0] == '\0') {
			free(n->subdir);
			n->subdir = NULL;
		}
		return 0;
	}
	if (read_cclient(cfg, n, err) < 0)
		return -1;
	if (n->subdir != NULL && n->subdir[0] == '\0') {
		free(n->subdir);
		n->subdir = NULL;
	}
	return 0;
}

void uw_names_free(struct uw_names *n)
{
	free(n->subdir);
	free(n->source);
	memset(n, 0, sizeof(*n));
}

/* DIR relative to UW's base (the home, or home/SUBDIR): "" for the base
 * itself, NULL outside it. */
static const char *uw_rel(const struct uw_names *n, const char *dir)
{
	size_t l;

	if (n->subdir == NULL)
		return dir;
	l = strlen(n->subdir);
	if (strncmp(dir, n->subdir, l) != 0)
		return NULL;
	if (dir[l] == '\0')
		return "";
	return dir[l] == '/' ? dir + l + 1 : NULL;
}

char *uw_names_prefix(const struct uw_names *n, const char *home_rel)
{
	char *dir = norm_rel(home_rel), *out = NULL;
	const char *rel = uw_rel(n, dir);

	if (rel != NULL)
		out = rel[0] != '\0' ? xasprintf("%s/", rel) : xstrdup("");
	free(dir);
	return out;
}

static void add(char ***list, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*list)[i], s) == 0) {
			free(s);
			return;
		}
	}
	*list = xrealloc(*list, (*n + 2) * sizeof(**list));
	(*list)[(*n)++] = s;
	(*list)[*n] = NULL;
}

/* The prefixes that name the Dovecot namespace's root when that root is
 * the home directory DIR: UW's own relative form (when it is not
 * the root already), "~/DIR/", "~%u/DIR/". */
static void add_dir(const struct uw_names *n, const char *dir,
		    char ***list, size_t *count)
{
	const char *rel = uw_rel(n, dir);
	const char *slash = dir[0] != '\0' ? "/" : "";

	if (rel != NULL && rel[0] != '\0')
		add(list, count, xasprintf("%s/", rel));
	add(list, count, xasprintf("~/%s%s", dir, slash));
	add(list, count, xasprintf("~%%u/%s%s", dir, slash));
}

char **uw_names_namespaces(const struct uw_names *n,
			   const struct m2d_config *cfg)
{
	char **list = xcalloc(1, sizeof(*list));
	size_t count = 0;

	if (n->mode == UW_NAMES_UW) {
		add_dir(n, n->subdir != NULL ? n->subdir : "", &list, &count);
		return list;
	}
	for (int i = 0; i < cfg->nroots; i++) {
		const char *r = cfg->folder_roots[i];
		char *dir;

		if (r == NULL || r[0] != '~')
			continue;
		dir = norm_rel(r + 1);
		add_dir(n, dir, &list, &count);
		free(dir);
	}
	return list;
}

void uw_names_list_free(char **list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		free(list[i]);
	free(list);
}
