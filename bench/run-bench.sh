#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run-bench.sh - `make bench`: mbox2dovecot convert against a floor
#
# Generates a seeded, realistic UW-IMAP mbox (tests/tools/
# bench-gen.c) in a temporary directory, then times `mbox2dovecot convert`
# and the floor (tests/tools/bench-floor.c: split at "From " lines, one
# file per message, one syncfs) alternately, BENCH_ROUNDS rounds each, with
# a `sync` before every timed run, and prints messages/s, MiB/s and peak
# RSS (tests/tools/peak-rss.c: wall time and ru_maxrss from wait4) for
# both, the ratio of the median wall times, and the peak RSS of convert on
# one big mbox.  Everything is printed first; the exit status is 1 when a
# target is missed or convert failed or wrote the wrong number of messages,
# 2 when the benchmark itself could not run.
#
# Noise: it also prints every run's wall time, the spread (slowest/fastest
# run of one program; "NOISY" above 15%) and, for information, the ratio of
# the fastest runs.  Each run writes a new directory and nothing is deleted
# until the end; on ext4 the output directory is a "top directory"
# (chattr +T) and, without a journal, the timed runs wait until inodes
# freed before the bench are a minute old (see run_one and BENCH_SETTLE).
#
# Targets: convert's wall time <= 1.3 x the floor's; peak RSS < 16 MiB on
# a single 1 GiB mbox.
#
# Settings (environment):
#   BUILD               build directory (make passes it)            build
#   BENCH_MB            size of the spool mbox, MiB (an integer)    200
#   BENCH_MESSAGES      messages in it                 200 per MiB: 40000
#   BENCH_SEED          generator seed                              1
#   BENCH_ROUNDS        timed runs of each program                  3
#   BENCH_RSS_MB        size of the big mbox for peak RSS, MiB      1024
#                       (0 skips that part)
#   BENCH_RSS_MESSAGES  messages in it      (scaled: BENCH_MESSAGES per BENCH_MB)
#   BENCH_RSS_FLOOR=1   time the floor on the big mbox too (one run each,
#                       for information)
#   BENCH_RSS_HUGE_MB   one extra message of this many MiB in the big mbox,
#                       as a mail with a large attachment            25
#                       (0: none; the spool has 1-8 MiB ones anyway)
#   BENCH_RATIO_MAX     ratio target                                1.3
#   BENCH_RSS_MAX_MIB   peak RSS target (strictly below), MiB       16
#   BENCH_PROG          the program                      $BUILD/mbox2dovecot
#   BENCH_CONVERT       command run as `$BENCH_CONVERT MBOX MAILDIR`
#                       (default "$BENCH_PROG convert"); another
#                       command (e.g. "$BUILD/tools/bench-floor" or "cp")
#                       is a stand-in: its output is not checked
#   TMPDIR / BENCH_DIR  where to work (a disk, not tmpfs, or syncfs is free);
#                       BENCH_DIR must be an existing empty directory
#   BENCH_SETTLE        seconds to wait before the timed runs       61 on ext4
#                       without a journal (see below), else 0
#   BENCH_KEEP=1        keep the work directory
#
# Disk: the outputs are kept until the end (nothing is deleted between timed
# runs), about BENCH_MB x (1 + 2 x ROUNDS) + BENCH_RSS_MB x 3 MiB.
set -u

BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
tools=$BUILD/tools

BENCH_MB=${BENCH_MB:-200}
BENCH_MESSAGES=${BENCH_MESSAGES:-$((BENCH_MB * 200))}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_RSS_MB=${BENCH_RSS_MB:-1024}
BENCH_RSS_MESSAGES=${BENCH_RSS_MESSAGES:-$(awk -v n="$BENCH_MESSAGES" \
	-v a="$BENCH_RSS_MB" -v b="$BENCH_MB" 'BEGIN { printf "%d", n * a / b }')}
BENCH_RSS_HUGE_MB=${BENCH_RSS_HUGE_MB:-25}
BENCH_RATIO_MAX=${BENCH_RATIO_MAX:-1.3}
BENCH_RSS_MAX_MIB=${BENCH_RSS_MAX_MIB:-16}

if [ -n "${BENCH_CONVERT:-}" ]; then
	convert_cmd=$BENCH_CONVERT
	standin=1
else
	convert_cmd="${BENCH_PROG:-$BUILD/mbox2dovecot} convert"
	standin=0
fi

die() {
	echo "bench: $*" >&2
	exit 2
}

for t in bench-gen bench-floor peak-rss; do
	[ -x "$tools/$t" ] || die "$tools/$t is missing (run make first)"
done
# shellcheck disable=SC2086 # the command is words on purpose
set -- $convert_cmd
[ -x "$1" ] || command -v "$1" >/dev/null 2>&1 ||
	die "$1 is missing (run make first, or set BENCH_CONVERT)"

if [ -n "${BENCH_DIR:-}" ]; then
	work=$BENCH_DIR
	[ -d "$work" ] || die "BENCH_DIR=$work is not a directory"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/m2d-bench.XXXXXX") ||
		die "cannot make a work directory"
fi
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $work"
		return
	fi
	# Deleting is slow on a file system mounted with "discard" (about
	# 3 s per 10,000 files here): one rm per output directory, together.
	if [ -d "$work/out" ]; then
		echo "bench: removing the outputs..."
		for d in "$work"/out/*; do
			[ -e "$d" ] && rm -rf "$d" &
		done
		wait
	fi
	if [ -z "${BENCH_DIR:-}" ]; then
		rm -rf "$work"
	else
		rm -rf "$work"/spool.mbox "$work"/big.mbox "$work"/out \
			"$work"/*.stats "$work"/*.rep "$work"/*.log \
			"$work"/*.walls "$work"/*.rsss
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

failed=0	# a target missed or convert failed: exit 1
started=$(date +%s)

# --- helpers ---------------------------------------------------------------

# stat_get FILE KEY: a value from a "key=value" file (bench-gen --stats,
# peak-rss report)
stat_get() {
	tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1
}

# calc EXPR [-v VAR=VALUE...]: awk arithmetic (-v OFMT=%.1f to round)
calc() {
	expr=$1
	shift
	awk "$@" "BEGIN { print $expr }"
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "nan";
		      else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# gen NAME MB MESSAGES HUGE_MB: $work/NAME.mbox and $work/NAME.stats
gen() {
	t0=$(date +%s.%N)
	"$tools/bench-gen" --seed "$BENCH_SEED" --mb "$2" --messages "$3" \
		--huge-mb "$4" --stats "$work/$1.stats" "$work/$1.mbox" ||
		die "bench-gen failed"
	t1=$(date +%s.%N)
	printf 'generated %s: %s MiB, %s messages (+1 pseudo-message), ' \
		"$1.mbox" \
		"$(calc 'b / 1048576' -v b="$(stat_get "$work/$1.stats" bytes)" \
			-v OFMT=%.1f)" \
		"$(stat_get "$work/$1.stats" messages)"
	printf 'median %s KiB, largest %s MiB, %s >= 1 MiB (%s s)\n' \
		"$(calc 'm / 1024' -v m="$(stat_get "$work/$1.stats" median)" \
			-v OFMT=%.1f)" \
		"$(calc 'm / 1048576' -v m="$(stat_get "$work/$1.stats" largest)" \
			-v OFMT=%.1f)" \
		"$(stat_get "$work/$1.stats" big)" \
		"$(calc 'b - a' -v a="$t0" -v b="$t1" -v OFMT=%.1f)"
}

# count_maildir DIR: messages in cur/ and new/ (and "tmp=N" on stderr)
count_maildir() {
	n=0
	for d in "$1/cur" "$1/new"; do
		[ -d "$d" ] || continue
		n=$((n + $(find "$d" -type f | wc -l)))
	done
	echo "$n"
}

# run_one WHAT MBOX OUT REPORT: one timed run of "floor" or "convert" on
# MBOX into the new directory OUT, after a sync.  Returns its status.
#
# Nothing is deleted between timed runs: on ext4 without a journal (this
# project's VMs) creating a file checks the free inodes for "deleted less
# than 30 s ago" and skips those, so a run right after an rm -rf of the
# previous run's 40,000 files costs up to 3x more, at random.  Every run
# writes a new directory; they are removed at the end.
run_one() {
	if [ "$1" = floor ]; then
		prog="$tools/bench-floor"
	else
		prog=$convert_cmd
	fi
	sync
	# shellcheck disable=SC2086 # the command is words on purpose
	"$tools/peak-rss" "$4" $prog "$2" "$3" >"$work/$1.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "bench: $1 failed with status $rc:" >&2
		sed 's/^/  /' "$work/$1.log" >&2
	fi
	return "$rc"
}

# check_convert MAILDIR MESSAGES: does MAILDIR hold MESSAGES messages?
check_convert() {
	[ "$standin" = 1 ] && return 0
	got=$(count_maildir "$1")
	left=0
	[ -d "$1/tmp" ] && left=$(find "$1/tmp" -type f | wc -l)
	if [ "$got" -ne "$2" ] || [ "$left" -ne 0 ] ||
	   [ ! -f "$1/dovecot-uidlist" ]; then
		echo "CHECK FAIL: convert wrote $got messages in cur/+new/" \
		     "(expected $2), $left left in tmp/," \
		     "dovecot-uidlist $([ -f "$1/dovecot-uidlist" ] &&
			echo present || echo missing)"
		failed=1
		return 1
	fi
	return 0
}

# row LABEL WALL_S MESSAGES BYTES RSS_KIB
row() {
	awk -v l="$1" -v w="$2" -v m="$3" -v b="$4" -v r="$5" 'BEGIN {
		printf "%-9s %9.3f %12.0f %9.1f %10.1f\n",
			l, w, m / w, b / 1048576 / w, r / 1024 }'
}
header() {
	printf '%-9s %9s %12s %9s %10s\n' "" "wall s" "messages/s" "MiB/s" \
		"peak RSS"
	printf '%-9s %9s %12s %9s %10s\n' "" "(median)" "" "" "MiB (max)"
}

# verdict OK-EXPR [-v VAR=VALUE...]: PASS or FAIL (the caller sets failed)
verdict() {
	e=$1
	shift
	if [ "$(calc "($e) ? 1 : 0" "$@")" = 1 ]; then
		echo PASS
	else
		echo FAIL
	fi
}

# --- what we run on ----------------------------------------------------------

fstype=$(df -PT "$work" 2>/dev/null | awk 'NR == 2 { print $2 }')
fstype=${fstype:-unknown}
echo "mbox2dovecot bench: seed $BENCH_SEED, $BENCH_ROUNDS rounds," \
     "work directory $work ($fstype)"
echo "convert: $convert_cmd MBOX MAILDIR$([ "$standin" = 1 ] &&
	echo '   (STAND-IN: output not checked)')"
case $fstype in
tmpfs|ramfs)
	echo "WARNING: $work is on $fstype: syncfs costs nothing there," \
	     "so these are not durable-write numbers (set TMPDIR to a disk)" ;;
esac
# the outputs stay until the end (see run_one): the spool and 2 x ROUNDS
# copies of it, the big mbox and 1 or 2 copies of it, and 10% for the file
# system
need=$(calc '(a * (1 + 2 * r) + b * 3) * 1.1 * 1024' -v a="$BENCH_MB" \
	-v b="$BENCH_RSS_MB" -v r="$BENCH_ROUNDS" -v OFMT=%d)
avail=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
[ "${avail:-0}" -ge "$need" ] 2>/dev/null ||
	echo "WARNING: $work has $avail KiB free, about $need KiB needed"

# ext4 without a journal (ext4/ialloc.c, recently_deleted(): no /proc/fs/jbd2
# entry for the device) will not reuse an inode freed less than 60 s ago
# (300 s while its inode table block is dirty; we sync) and pays for every
# one it skips.  Waiting out that window before the timed runs takes the
# previous deletions on this file system out of the numbers.
dev=$(df -P "$work" | awk 'NR == 2 { print $1 }')
dev=${dev##*/}
settle=0
case $fstype in
ext2|ext3|ext4)
	settle=61
	for j in /proc/fs/jbd2/"$dev"-*; do
		[ -e "$j" ] && settle=0	# it has a journal
	done ;;
esac
settle=${BENCH_SETTLE:-$settle}

# --- 1. the spool: convert vs floor, alternating ------------------------------

gen spool "$BENCH_MB" "$BENCH_MESSAGES" 0
mkdir "$work/out" || die "cannot make $work/out"
# ext4: directories made in a "top directory" (chattr +T) are spread over
# the block groups like home directories (Orlov), so each run's files land
# in a group of their own, not among the inodes freed by the last bench or
# test run (see the settling below).  The owner may set it; no harm if not.
chattr +T "$work/out" 2>/dev/null
sync
if [ "$settle" -gt 0 ]; then
	echo "settling ${settle} s: ext4 without a journal skips inodes freed" \
	     "in the last 60 s (300 s while not written back), so creating" \
	     "files after a mass deletion (a previous bench, make check) costs" \
	     "several times more (BENCH_SETTLE=0 skips)"
	sleep "$settle"
fi
msgs=$(stat_get "$work/spool.stats" messages)
bytes=$(stat_get "$work/spool.stats" bytes)
: >"$work/floor.walls"
: >"$work/convert.walls"
: >"$work/floor.rsss"
: >"$work/convert.rsss"
floor_split=
convert_ok=1
r=1
while [ "$r" -le "$BENCH_ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then order="floor convert"; else order="convert floor"; fi
	for what in $order; do
		[ "$what" = convert ] && [ "$convert_ok" = 0 ] && continue
		if run_one "$what" "$work/spool.mbox" "$work/out/$what.$r" \
			"$work/$what.rep"; then
			stat_get "$work/$what.rep" wall >>"$work/$what.walls"
			stat_get "$work/$what.rep" maxrss_kib >>"$work/$what.rsss"
			if [ "$what" = floor ]; then
				floor_split=$(stat_get "$work/floor.log" messages)
			elif ! check_convert "$work/out/$what.$r" "$msgs"; then
				convert_ok=0
			fi
		elif [ "$what" = convert ]; then
			convert_ok=0
			failed=1
		else
			die "the floor failed"
		fi
	done
	r=$((r + 1))
done

echo
echo "spool: $msgs messages, $(calc 'b / 1048576' -v b="$bytes" -v OFMT=%.1f)" \
     "MiB, one mbox; the floor split it into $floor_split files" \
     "(every \"From \" line)"
header
fw=$(median <"$work/floor.walls")
row floor "$fw" "$msgs" "$bytes" "$(sort -n "$work/floor.rsss" | tail -n 1)"
if [ -s "$work/convert.walls" ] && [ "$convert_ok" = 1 ]; then
	cw=$(median <"$work/convert.walls")
	row convert "$cw" "$msgs" "$bytes" \
		"$(sort -n "$work/convert.rsss" | tail -n 1)"
	ratio=$(calc 'c / f' -v c="$cw" -v f="$fw" -v OFMT=%.3f)
	v=$(verdict 'r <= m' -v r="$ratio" -v m="$BENCH_RATIO_MAX")
	[ "$v" = PASS ] || failed=1
	echo "wall s, floor:   $(tr '\n' ' ' <"$work/floor.walls")"
	echo "wall s, convert: $(tr '\n' ' ' <"$work/convert.walls")"
	# How far apart identical runs are: when the floor's own runs differ
	# by more than the margin the target leaves, the ratio says little.
	spread=$(for f in floor convert; do
			sort -g "$work/$f.walls" |
			awk 'NR == 1 { lo = $1 } { hi = $1 }
			     END { printf "%.2f ", hi / lo }'
		done)
	# shellcheck disable=SC2086 # two numbers
	set -- $spread
	echo "spread (slowest/fastest run): floor ${1}x, convert ${2}x"
	if [ "$(calc '(a > 1.15 || b > 1.15) ? 1 : 0' -v a="$1" -v b="$2")" = 1 ]
	then
		echo "NOISY: runs of one program differ by more than 15%;" \
		     "the ratio is uncertain (more BENCH_ROUNDS, a quieter" \
		     "machine, or no other file deletions on this file system)"
	fi
	fast=$(calc 'c / f' -v OFMT=%.2f \
		-v c="$(sort -g "$work/convert.walls" | head -n 1)" \
		-v f="$(sort -g "$work/floor.walls" | head -n 1)")
	echo "ratio of the fastest runs: ${fast}x (for information: noise only" \
	     "adds time)"
	printf 'ratio convert/floor: %.2fx   target <= %sx   %s\n' "$ratio" \
		"$BENCH_RATIO_MAX" "$v"
else
	echo "convert   FAILED (see above): no time"
	printf 'ratio convert/floor: -   target <= %sx   FAIL\n' "$BENCH_RATIO_MAX"
	failed=1
fi
rm -f "$work/spool.mbox"

# --- 2. peak RSS on one big mbox ---------------------------------------------

if [ "$BENCH_RSS_MB" != 0 ]; then
	echo
	huge=$BENCH_RSS_HUGE_MB
	# a small trial run: no room for the huge message
	[ "$(calc '(h * 4 > m) ? 1 : 0' -v h="$huge" -v m="$BENCH_RSS_MB")" = 1 ] && huge=0
	gen big "$BENCH_RSS_MB" "$BENCH_RSS_MESSAGES" "$huge"
	bmsgs=$(stat_get "$work/big.stats" messages)
	bbytes=$(stat_get "$work/big.stats" bytes)
	header
	if [ "${BENCH_RSS_FLOOR:-0}" = 1 ]; then
		if run_one floor "$work/big.mbox" "$work/out/big.floor" \
			"$work/bfloor.rep"; then
			row floor "$(stat_get "$work/bfloor.rep" wall)" \
				"$bmsgs" "$bbytes" \
				"$(stat_get "$work/bfloor.rep" maxrss_kib)"
		else
			die "the floor failed"
		fi
	fi
	if run_one convert "$work/big.mbox" "$work/out/big.convert" \
		"$work/bconvert.rep" &&
	   check_convert "$work/out/big.convert" "$bmsgs"; then
		bw=$(stat_get "$work/bconvert.rep" wall)
		rss=$(stat_get "$work/bconvert.rep" maxrss_kib)
		row convert "$bw" "$bmsgs" "$bbytes" "$rss"
		[ "${BENCH_RSS_FLOOR:-0}" = 1 ] &&
			printf 'ratio convert/floor: %.2fx (one run, for information)\n' \
				"$(calc 'c / f' -v c="$bw" \
				   -v f="$(stat_get "$work/bfloor.rep" wall)")"
		v=$(verdict 'k < m * 1024' -v k="$rss" -v m="$BENCH_RSS_MAX_MIB")
		[ "$v" = PASS ] || failed=1
		printf 'peak RSS of convert, single %s MiB mbox: %.1f MiB   target < %s MiB   %s\n' \
			"$BENCH_RSS_MB" "$(calc 'k / 1024' -v k="$rss")" \
			"$BENCH_RSS_MAX_MIB" "$v"
	else
		failed=1
		printf 'peak RSS of convert, single %s MiB mbox: -   target < %s MiB   FAIL\n' \
			"$BENCH_RSS_MB" "$BENCH_RSS_MAX_MIB"
	fi
	rm -f "$work/big.mbox"
fi

# --- 3. whole-spool migration and the re-run ---------------------
# bench-migrate.sh: migrate with 1 and 2 workers against a floor, and the
# re-run after 10% of the folders changed against the full run.
echo
BUILD=$BUILD sh "$top/bench/bench-migrate.sh" || failed=1

# --- 4. the pre-flight message count against cat ----------------
echo
BUILD=$BUILD sh "$top/bench/bench-scan.sh" || failed=1

# --- 5. 2,000 users against 20,000 -------------------------------
# bench-users.sh: plan, migrate and verify grow with the users, not faster.
echo
BUILD=$BUILD sh "$top/bench/bench-users.sh" || failed=1

echo
echo "bench: $(($(date +%s) - started)) s so far (removing the outputs follows)"
if [ "$failed" = 0 ]; then
	echo "bench: all targets met"
else
	echo "bench: TARGET MISSED (see FAIL above)"
fi
exit "$failed"
