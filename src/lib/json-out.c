/* SPDX-License-Identifier: MIT */
/* json-out.c - JSON strings for the machine-read outputs */
#include <stdio.h>

#include "json-out.h"

void json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	fputc('"', out);
	while (*p != '\0') {
		size_t n = 0;

		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80) {
			fputc(*p++, out);
			continue;
		}
		/* a well-formed UTF-8 sequence goes out as it is */
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3;
		for (size_t k = 1; n > 0 && k <= n; k++) {
			if ((p[k] & 0xc0) != 0x80)
				n = 0;
		}
		if (n > 0 && ((p[0] == 0xe0 && p[1] < 0xa0) ||
			      (p[0] == 0xed && p[1] >= 0xa0) ||
			      (p[0] == 0xf0 && p[1] < 0x90) ||
			      (p[0] == 0xf4 && p[1] >= 0x90)))
			n = 0;
		if (n == 0) {
			/* not UTF-8: taken as Latin-1 */
			fprintf(out, "\\u%04x", *p++);
			continue;
		}
		fwrite(p, 1, n + 1, out);
		p += n + 1;
	}
	fputc('"', out);
}
