/* SPDX-License-Identifier: MIT */
/* cli-convert.c - "mbox2dovecot convert": one mbox into one maildir folder */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "convert.h"
#include "i18n.h"
#include "mbox-reader.h"

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

struct convert_view {
	bool tty;
	double start, last_draw;
};

static void draw_progress(const struct convert_stats *st, void *ctx)
{
	struct convert_view *v = ctx;
	double now = cli_now();
	int pct;

	if (!v->tty || (now - v->last_draw < 0.2 &&
			st->source_done != st->source_size))
		return;
	v->last_draw = now;
	pct = st->source_size > 0 ?
		(int)(100.0 * (double)st->source_done / (double)st->source_size) : 100;
	fprintf(stderr, _("\r%lu messages, %.1f of %.1f MB (%d%%)"),
		st->messages, (double)st->source_done / 1e6,
		(double)st->source_size / 1e6, pct);
	fflush(stderr);
}

static void show_warning(const struct m2d_error *w, void *ctx)
{
	struct convert_view *v = ctx;

	if (v->tty)
		fputc('\n', stderr);
	cli_warning(w);
}

static void usage(FILE *out)
{
	fprintf(out, _("usage: %s convert MBOX MAILDIR [--folder NAME] "
		       "[--owner USER|UID:GID]\n"
		       "       [--mboxrd] [--dry-run] [--no-dotlock] "
		       "[--source-tz ZONE]\n"
		       "       [--max-message-size BYTES] [--allow-sparse]\n"),
		cli_progname);
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "folder", required_argument, NULL, 'f' },
		{ "owner", required_argument, NULL, 'o' },
		{ "mboxrd", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-dotlock", no_argument, NULL, 'L' },
		{ "source-tz", required_argument, NULL, 'z' },
		{ "max-message-size", required_argument, NULL, 'M' },
		{ "allow-sparse", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct convert_settings set;
	struct convert_stats st;
	struct convert_view view;
	struct m2d_error err;
	struct sigaction sa;
	int c;

	memset(&set, 0, sizeof(set));
	set.uid = set.gid = -1;
	set.dotlock = true;
	set.max_message_size = MBOX_DEFAULT_MAX_MESSAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:rnh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			set.folder = optarg;
			break;
		case 'o':
			if (cli_parse_owner(optarg, &set.uid, &set.gid) < 0)
				return EXIT_USAGE;
			break;
		case 'r':
			set.mboxrd = true;
			break;
		case 'n':
			set.dry_run = true;
			break;
		case 'L':
			set.dotlock = false;
			break;
		case 'M': {
			char *end;

			errno = 0;
			set.max_message_size = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-') {
				fprintf(stderr, _("%s: --max-message-size: "
						  "\"%s\" is not a number of "
						  "bytes (0 = no limit)\n"),
					cli_progname, optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'S':
			set.allow_sparse = true;
			break;
		case 'z':
			/* the zone of dates without one: the source host's */
			setenv("TZ", optarg, 1);
			tzset();
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}

	memset(&view, 0, sizeof(view));
	view.tty = isatty(STDERR_FILENO);
	view.start = cli_now();
	set.progress = draw_progress;
	set.warning = show_warning;
	set.ctx = &view;
	set.cancel = &cancelled;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* UW's mbx, mix and MMDF folders are converted by their readers;
	 * anything else is read as an mbox (which says what it is not) */
	{
		enum uw_format fmt;

		if (uw_format_detect(AT_FDCWD, argv[optind], NULL, &fmt,
				     &err) == 1 &&
		    (fmt == UW_FMT_MBX || fmt == UW_FMT_MIX ||
		     fmt == UW_FMT_MMDF))
			set.format = fmt;
	}
	if (convert_folder(argv[optind], argv[optind + 1], &set, &st, &err) < 0) {
		if (view.tty)
			fputc('\n', stderr);
		cli_report(&err);
		return cli_exit_for(&err);
	}
	if (view.tty)
		fputc('\n', stderr);
	/* TRANSLATORS: "converted 12 messages (3456 bytes)" */
	printf(set.dry_run ?
	       ngettext("would convert %lu message (%llu bytes)",
			"would convert %lu messages (%llu bytes)", st.messages) :
	       ngettext("converted %lu message (%llu bytes)",
			"converted %lu messages (%llu bytes)", st.messages),
	       st.messages, st.bytes);
	printf(_(", %lu skipped%s in %.2f s; UIDVALIDITY %lu, next UID %lu "
		 "(%s)\n"), st.skipped, st.skipped > 0 ?
	       _(" (UW's folder-internal message)") : "",
	       cli_now() - view.start, st.uidvalidity, st.nextuid,
	       st.uids_kept ? _("UW's UIDs kept") : _("new UIDs"));
	return EXIT_OK;
}
