#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-scan.sh - the pre-flight message count against cat
#
# The count that `mbox2dovecot check` makes of every source must run at
# least at BENCH_SCAN_MIN (0.8) of the throughput of `cat` over the same
# file, both from the page cache (the file is read once first), median of
# BENCH_ROUNDS (5) alternating runs.  Exit 1 when it is slower.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in
/*) tools=$BUILD/tools ;;
*) tools=$top/$BUILD/tools ;;
esac
mb=${BENCH_SCAN_MB:-1024}
rounds=${BENCH_ROUNDS:-5}
min=${BENCH_SCAN_MIN:-0.8}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/m2d-bench-scan.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

"$tools/bench-gen" --seed 7 --mb "$mb" "$work/m" >/dev/null || exit 2
cat "$work/m" >/dev/null
: >"$work/cat.t"
: >"$work/scan.t"
i=0
while [ $i -lt "$rounds" ]; do
	"$tools/peak-rss" "$work/r" cat "$work/m" >/dev/null
	sed -n 's/.*wall=\([0-9.]*\).*/\1/p' "$work/r" >>"$work/cat.t"
	"$tools/peak-rss" "$work/r" "$tools/scan-count" "$work/m" >"$work/out"
	sed -n 's/.*wall=\([0-9.]*\).*/\1/p' "$work/r" >>"$work/scan.t"
	i=$((i + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
c=$(median "$work/cat.t")
s=$(median "$work/scan.t")
echo "== pre-flight message count, $mb MiB mbox from the page cache ($(cat "$work/out"))"
awk -v c="$c" -v s="$s" -v mb="$mb" -v min="$min" 'BEGIN {
	r = c / s
	ok = r >= min
	printf "cat %.3f s (%.0f MiB/s), count %.3f s (%.0f MiB/s): %.2f of the throughput of cat (target >= %s): %s\n", c, mb / c, s, mb / s, r, min, ok ? "PASS" : "FAIL"
	exit ok ? 0 : 1
}'
