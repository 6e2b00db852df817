/* SPDX-License-Identifier: MIT */
#ifndef M2D_I18N_H
#define M2D_I18N_H

/* gettext for the library and the programs: one text domain. */
#include <libintl.h>

#define M2D_TEXTDOMAIN "mbox2dovecot"
#define _(s) dgettext(M2D_TEXTDOMAIN, s)
#define N_(s) (s)
#undef ngettext
#define ngettext(s, p, n) dngettext(M2D_TEXTDOMAIN, s, p, n)

#endif
