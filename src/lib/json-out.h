/* SPDX-License-Identifier: MIT */
#ifndef M2D_JSON_OUT_H
#define M2D_JSON_OUT_H

#include <stdio.h>

/* S (NULL: "") as a JSON string: quotes, backslashes and control bytes
 * escaped, well-formed UTF-8 kept, any other byte as \u00XX. */
void json_str(FILE *out, const char *s);

#endif
