/* SPDX-License-Identifier: MIT */
/* mbox-dump.c - an mbox as the project's reader sees it, for the tests
 *
 *   mbox-dump MBOX [OUTDIR]
 *
 * Prints one line of JSON for the folder ({"uidvalidity", "uidlast",
 * "have_base", "keywords"}) then one per message: {"seq", "uid" (by UW's
 * rules, uw-uids.h), "x_uid" (the X-UID header, 0 when none), "flags"
 * (UW's letters: R O A F T D), "date" (the From_ line, UTC epoch),
 * "sender", "keywords", "offset", "size"}; with OUTDIR each message's bytes
 * (what UW served) go to OUTDIR/SEQ.  Exit 0, or 1 when the reader fails.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbox-reader.h"
#include "uw-uids.h"

static void json_str(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	struct mbox_reader_settings set = { .mboxrd = false };
	struct mbox_reader *reader = NULL;
	struct mbox_msg msg;
	struct uw_uids uids;
	struct m2d_error err;
	char buf[2048];
	bool first = true;
	int rc;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: mbox-dump MBOX [OUTDIR]\n");
		return 2;
	}
	if (mbox_reader_open(AT_FDCWD, argv[1], &set, &reader, &err) < 0) {
		fprintf(stderr, "%s\n", m2d_error_str(&err, buf, sizeof(buf)));
		return 1;
	}
	while ((rc = mbox_reader_next(reader, &msg, &err)) > 0) {
		const unsigned char *data;
		size_t len, size = 0;
		FILE *out = NULL;
		bool reset;
		char flags[8];
		int o = 0;

		if (first) {
			const struct mbox_meta *m = mbox_reader_meta(reader);

			printf("{\"uidvalidity\": %lu, \"uidlast\": %lu, "
			       "\"have_base\": %s, \"keywords\": ",
			       m->uidvalidity, m->uidlast,
			       m->have_base ? "true" : "false");
			json_str(m->keywords != NULL ? m->keywords : "",
				 m->keywords != NULL ? strlen(m->keywords) : 0);
			printf("}\n");
			uw_uids_init(&uids, m);
			first = false;
		}
		if (msg.flags & UW_SEEN)
			flags[o++] = 'R';
		if (msg.flags & UW_OLD)
			flags[o++] = 'O';
		if (msg.flags & UW_ANSWERED)
			flags[o++] = 'A';
		if (msg.flags & UW_FLAGGED)
			flags[o++] = 'F';
		if (msg.flags & UW_DRAFT)
			flags[o++] = 'T';
		if (msg.flags & UW_DELETED)
			flags[o++] = 'D';
		flags[o] = '\0';
		if (argc == 3) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%lu", argv[2], msg.seq);
			out = fopen(path, "wb");
			if (out == NULL) {
				perror(path);
				return 1;
			}
		}
		printf("{\"seq\": %lu, \"uid\": %lu, \"x_uid\": %lu, "
		       "\"flags\": \"%s\", \"date\": %lld, \"offset\": %lld, "
		       "\"sender\": ", msg.seq, uw_uids_next(&uids, &msg, &reset),
		       msg.uid, flags, (long long)msg.from.date, msg.offset);
		json_str(msg.from.sender, msg.from.sender_len);
		printf(", \"keywords\": ");
		json_str(msg.keywords, strlen(msg.keywords));
		while ((rc = mbox_reader_read(reader, &data, &len, &err)) > 0) {
			size += len;
			if (out != NULL && fwrite(data, 1, len, out) != len) {
				perror("write");
				return 1;
			}
		}
		if (out != NULL)
			fclose(out);
		printf(", \"size\": %zu}\n", size);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		fprintf(stderr, "%s\n", m2d_error_str(&err, buf, sizeof(buf)));
		mbox_reader_close(&reader);
		return 1;
	}
	if (first)
		printf("{\"uidvalidity\": 0, \"uidlast\": 0, \"have_base\": "
		       "false, \"keywords\": \"\"}\n");
	mbox_reader_close(&reader);
	return 0;
}
