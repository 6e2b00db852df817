/* SPDX-License-Identifier: MIT */
/* convert-batch.c - "mbox2dovecot convert MBOX MAILDIR" for many folders in
 * one process (the differential test, tests/integration/test-differential.py:
 * 5000 fork+execs of the program cost more than the conversions)
 *
 *   convert-batch <LINES        each line: NAME TAB MBOX TAB MAILDIR
 *
 * Each folder is converted with convert_folder() and the settings the
 * convert command uses without options (src/cli/cli-convert.c: INBOX, dotlock,
 * the default message size limit, owner unchanged).  Prints one line per
 * folder: NAME TAB exit status (0 converted, 1 failed) TAB the error.
 * The test checks a sample against the real command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mbox-reader.h"

int main(void)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;

	while ((len = getline(&line, &size, stdin)) > 0) {
		struct convert_settings set;
		struct convert_stats st;
		struct m2d_error err;
		char *name = line, *mbox, *maildir;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		mbox = strchr(name, '\t');
		maildir = mbox != NULL ? strchr(mbox + 1, '\t') : NULL;
		if (maildir == NULL) {
			fprintf(stderr, "convert-batch: bad line: %s\n", line);
			return 2;
		}
		*mbox++ = '\0';
		*maildir++ = '\0';
		memset(&set, 0, sizeof(set));
		set.uid = set.gid = -1;
		set.dotlock = true;
		set.max_message_size = MBOX_DEFAULT_MAX_MESSAGE;
		memset(&err, 0, sizeof(err));
		if (convert_folder(mbox, maildir, &set, &st, &err) < 0) {
			char *nl;

			while ((nl = strchr(err.msg, '\n')) != NULL)
				*nl = ' ';
			printf("%s\t1\t%s\n", name, err.msg);
		} else {
			printf("%s\t0\t\n", name);
		}
		fflush(stdout);
	}
	free(line);
	return 0;
}
