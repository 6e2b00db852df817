/* SPDX-License-Identifier: MIT */
#ifndef M2D_STR_ESCAPE_H
#define M2D_STR_ESCAPE_H

/*
 * Names are data: a folder or file name comes from a user and may hold
 * any byte but '/' and NUL.  Two escapings, one for people, one for the
 * line-based files we write and read back.
 *
 * For a terminal or a log (str_esc, str_escape, str_escape_buf,
 * str_escape_fput): '\\' as "\\\\", LF as "\\n", CR as "\\r", TAB as
 * "\\t", every other control byte (0x00-0x1f, 0x7f), every C1 control
 * (U+0080-U+009F), the Unicode line and paragraph separators and the
 * bidirectional overrides (U+2028-U+202E, U+2066-U+2069), and every byte
 * that is not part of well-formed UTF-8 as "\\xHH" (one per byte).
 * Well-formed printable UTF-8 is kept: "Entwürfe" shows as it is.
 * Nothing printed can start a line, move the cursor or reorder the text.
 *
 * For a field of a line-based file (str_field_escape, str_field_unescape;
 * str_line_* for a file of one name per line, where a space stays):
 * '\\', TAB, LF and CR as "\\\\", "\\t", "\\n", "\\r", a space as "\\s"
 * (so space- and TAB-separated records are both safe), every other byte
 * below 0x20 and 0x7f as "\\xHH"; any other byte kept.  The unescaper
 * refuses anything the escaper cannot have written.
 */

#include <stddef.h>
#include <stdio.h>

/* The display form of S (NULL: "") in one of 8 per-thread buffers that
 * are reused in turn: up to 8 calls can be arguments of one printf.
 * Never NULL.  Meant for printf arguments:
 *     printf(_("folder %s: done\n"), str_esc(name));               */
const char *str_esc(const char *s);

/* The display form of S (NULL: "") in a new malloc'd string. */
char *str_escape(const char *s);

/* The display form of S (NULL: "") into BUF of SIZE bytes, always
 * NUL-terminated when SIZE > 0 and cut only at an escape's boundary.
 * Returns the length of the whole form (like snprintf): >= SIZE means it
 * was cut. */
size_t str_escape_buf(char *buf, size_t size, const char *s);

/* The display form of S (NULL: "") written to OUT. */
void str_escape_fput(FILE *out, const char *s);

/* S (NULL: "") as a field of a line-based file, in a new malloc'd
 * string. */
char *str_field_escape(const char *s);

/* The same written to OUT. */
void str_field_fput(FILE *out, const char *s);

/* In place: undo str_field_escape.  Returns 0, or -1 when S holds a raw
 * control byte, an unknown escape, a "\\x00" or a lone '\\' at its end:
 * text we did not write. */
int str_field_unescape(char *s);

/*
 * A whole line of a one-name-per-line file (lists an admin reads and may
 * edit: a user list, a folder list): as a field, but a space stays a
 * space.  str_line_unescape() takes a raw space (and "\\s") and refuses
 * the rest as str_field_unescape() does.
 */
char *str_line_escape(const char *s);
void str_line_fput(FILE *out, const char *s);
int str_line_unescape(char *s);

#endif
