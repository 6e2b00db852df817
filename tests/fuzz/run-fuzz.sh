#!/bin/sh
# SPDX-License-Identifier: MIT
# run-fuzz.sh BUILD_DIR SECONDS TARGET... - what "make fuzz" runs
#
# For each TARGET (fuzz-TARGET in BUILD_DIR): first every input of
# tests/fuzz/regress/TARGET/ once (crashes found before, which must stay
# fixed), then libFuzzer for SECONDS on a scratch copy of
# tests/fuzz/corpus/TARGET/ (the repository is never written).  Prints
# libFuzzer's own summary and one line per target:
#   fuzz: TARGET ok (N runs, E exec/s)
#   fuzz: TARGET FAILED (...)
# A crash input is kept in BUILD_DIR/crashes/TARGET/.  Exits 1 when any
# target failed.
build=$1
secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
fuzz="$top/tests/fuzz"
failed=0
# one input under ASan may not take longer than this (seconds)
timeout=${FUZZ_TIMEOUT:-10}
# largest input libFuzzer makes up; the big inputs below test beyond it
max_len=${FUZZ_MAX_LEN:-65536}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/m2d-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT INT TERM

# Inputs too big for the repository: lines longer than the reader's 1 MiB
# buffer, with and without a final newline, and many small messages.
make_big() {
	from='From user@example.com Tue Nov  9 10:11:12 2004'
	mkdir -p "$1"
	{
		printf '%s\nSubject: long\n\n' "$from"
		head -c 1500000 /dev/zero | tr '\0' 'x'
		printf '\n\n%s\nX-UID: 2\n\nFrom not a separator\n' "$from"
	} >"$1/long-line"
	{
		printf '%s\nX-Keywords: ' "$from"
		head -c 1200000 /dev/zero | tr '\0' 'k'
		printf '\n\nbody'
		head -c 1100000 /dev/zero | tr '\0' 'b'
	} >"$1/long-header-no-newline"
	awk -v f="$from" 'BEGIN { for (i = 1; i <= 20000; i++)
		printf "%s\nX-UID: %d\nStatus: RO\n\n>From x\n\n", f, i }' \
		>"$1/many-messages"
}

for t in "$@"; do
	bin="$build/fuzz-$t"
	work="$scratch/$t"
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $t FAILED (no $bin)"
		failed=1
		continue
	fi
	# 1. regressions (and the big inputs of the mbox targets)
	set --
	if [ -d "$fuzz/regress/$t" ]; then
		for f in "$fuzz/regress/$t"/*; do
			[ -f "$f" ] && set -- "$@" "$f"
		done
	fi
	case $t in
	mbox-reader)
		make_big "$work/big"
		set -- "$@" "$work/big"/*
		;;
	esac
	if [ $# -gt 0 ]; then
		# the big inputs (20,000 messages, 1.5 MB lines) take seconds
		# under the sanitizers, more on a loaded machine: a hang is
		# what this catches, not their speed (make bench measures it)
		if ! "$bin" -timeout="${FUZZ_BIG_TIMEOUT:-120}" "$@" \
			>"$work/regress.log" 2>&1
		then
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*check failed|Running: )' \
				"$work/regress.log" | tail -n 5
			echo "fuzz: $t FAILED (a regression input crashes; see" \
				"\"$bin <input>\")"
			failed=1
			continue
		fi
		echo "fuzz: $t: $# regression/big inputs pass"
	fi
	# 2. fuzzing from a copy of the seed corpus
	if [ -d "$fuzz/corpus/$t" ]; then
		cp "$fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null
	fi
	"$bin" -max_total_time="$secs" -timeout="$timeout" \
		-max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" \
		>"$work/log" 2>&1
	rc=$?
	grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done [0-9]+ runs|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
		"$work/log" | sed "s/^/  $t: /"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $t ok (${runs:-?} runs, ${eps:-?} exec/s)"
		continue
	fi
	failed=1
	grep -E '^==[0-9]+==ERROR|^SUMMARY|check failed|^Test unit written|^artifact_prefix' \
		"$work/log" | sed "s/^/  $t: /"
	mkdir -p "$build/crashes/$t"
	cp "$work/artifacts"/* "$build/crashes/$t/" 2>/dev/null
	cp "$work/log" "$build/crashes/$t/log"
	echo "fuzz: $t FAILED (exit $rc; input and log in $build/crashes/$t/;" \
		"minimize: $bin -minimize_crash=1 -runs=10000 INPUT)"
done
exit "$failed"
