#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs every test and ends with one line
# "N passed, N skipped, N todo, N failed".
#
#   tests/run-tests.sh [--unit] [NAME...]
#
# --unit: the unit tests only.  NAME: only the tests of that name
# ("test-services", "test-config-cmds.sh"), unit or integration.
#
# Unit tests are cmocka programs (one per file in tests/unit/), run with TAP
# output; integration tests are tests/integration/*.sh and *.py, which print
# TAP too ("ok N - what" / "not ok N - what").  An "ok" line counts as a
# pass, a "not ok" line as a failure, and a line with the directive
# "# SKIP" as a skip, whichever word it starts with (cmocka writes a
# skipped test as "not ok N # SKIP").  A "not ok" line with the directive
# "# TODO" is a known hole, named in its line (TAP's meaning: expected to
# fail, not a failure): it is counted apart and always printed, so it is
# never forgotten; a "ok ... # TODO" is a pass.  A program that exits
# non-zero without saying "not ok" counts as one failure.
#
# The tests run M2D_TEST_JOBS at a time (default: one more than the
# processors, as most of them wait on Dovecot, Postfix's tools or the
# disk): each has its own temp directories, ports and tmux socket.  The
# slowest start first; each one's result is printed when it ends.
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
export M2D_TOP="$top"
jobs=${M2D_TEST_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pass=0
skip=0
todo=0
fail=0
unit_only=
only=" "
for a in "$@"; do
	case $a in
	--unit) unit_only=1 ;;
	-*) echo "usage: $0 [--unit] [NAME...]" >&2; exit 2 ;;
	*) only="$only$a " ;;
	esac
done
# wanted NAME: whether NAME is among those asked for (all when none)
wanted() {
	[ "$only" = " " ] && return 0
	case $only in *" $1 "*) return 0 ;; esac
	return 1
}

# Longest first, so that the pool does not end waiting on one of them.
slow="test-runbook.py test-package.sh test-sandbox.sh test-postfix-conf
test-fuzz.sh test-imap-test.py test-originals.py test-fs-checks
test-migrate.py test-convert"

# M2D_VALGRIND=1 (make valgrind): the unit tests under valgrind, any
# report failing the run; the integration tests are left to make check.
vg=
if [ -n "${M2D_VALGRIND:-}" ]; then
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
fi

# A test that hangs ends as a failure after this many seconds.
to="timeout -k 10 ${M2D_TEST_TIMEOUT:-900}"

names=()
cmds=()
add() {
	wanted "$1" || return 0
	names+=("$1")
	cmds+=("$2")
}
for t in "$BUILD"/tests/test-*; do
	[ -x "$t" ] || continue
	add "$(basename "$t")" "CMOCKA_MESSAGE_OUTPUT=TAP $to $vg $t"
done
if [ -z "$vg" ] && [ -z "$unit_only" ]; then
	for t in "$top"/tests/integration/*.sh "$top"/tests/integration/*.py; do
		[ -f "$t" ] || continue
		case $t in
		*.sh) add "$(basename "$t")" "$to sh $t" ;;
		*.py) add "$(basename "$t")" "$to python3 $t" ;;
		esac
	done
fi

# The order: the slow ones (as listed), then the rest as found.
order=()
for s in $slow; do
	for i in "${!names[@]}"; do
		[ "${names[$i]}" = "$s" ] && order+=("$i")
	done
done
for i in "${!names[@]}"; do
	case " $(echo $slow) " in
	*" ${names[$i]} "*) ;;
	*) order+=("$i") ;;
	esac
done

start() {
	local i=$1
	(
		t0=$(date +%s)
		eval "${cmds[$i]}" >"$logs/$i.log" 2>&1 </dev/null
		echo $? >"$logs/$i.rc.tmp"
		echo $(($(date +%s) - t0)) >"$logs/$i.secs"
		mv "$logs/$i.rc.tmp" "$logs/$i.rc"
	) &
}

# a SKIP directive after the test line's "#"
skip_re='.*#[[:space:]]*skip'
todo_re='.*#[[:space:]]*todo'

report() {
	local i=$1 log="$logs/$1.log" rc p s t f
	rc=$(cat "$logs/$i.rc")
	echo "# ${names[$i]} ($(cat "$logs/$i.secs") s)"
	# the directive is case-insensitive in TAP ("# skip", "# SKIP")
	s=$(grep -Eic "^(not )?ok\\b$skip_re" "$log")
	p=$(grep -E '^ok\b' "$log" | grep -Eivc "$skip_re")
	t=$(grep -E '^not ok\b' "$log" | grep -Eiv "$skip_re" |
		grep -Eic "$todo_re")
	f=$(grep -E '^not ok\b' "$log" | grep -Eiv "$skip_re" |
		grep -Eivc "$todo_re")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		f=$((f + 1))
		echo "not ok - ${names[$i]} did not end in ${M2D_TEST_TIMEOUT:-900} s"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - ${names[$i]} exited with status $rc"
	fi
	if [ "$f" -ne 0 ] || [ -n "${M2D_VERBOSE:-}" ]; then
		cat "$log"
	else
		grep -Ei "^(ok\\b|not ok\\b($skip_re|$todo_re)|# skip)" \
			"$log" |
			sed 's/^/  /'
	fi
	pass=$((pass + p))
	skip=$((skip + s))
	todo=$((todo + t))
	fail=$((fail + f))
	touch "$logs/$i.reported"
}

# Prints the results of those that ended; sets $running.
collect() {
	local i
	running=0
	for i in "${order[@]}"; do
		[ -e "$logs/$i.started" ] || continue
		[ -e "$logs/$i.reported" ] && continue
		if [ -e "$logs/$i.rc" ]; then
			report "$i"
		else
			running=$((running + 1))
		fi
	done
}

running=0
for i in "${order[@]}"; do
	while [ "$running" -ge "$jobs" ]; do
		wait -n 2>/dev/null || sleep 0.2
		collect
	done
	touch "$logs/$i.started"
	start "$i"
	running=$((running + 1))
done
wait
collect
for a in $only; do
	case " ${names[*]} " in
	*" $a "*) ;;
	*) echo "not ok - no test named $a"; fail=$((fail + 1)) ;;
	esac
done
echo "$pass passed, $skip skipped, $todo todo, $fail failed"
[ "$fail" -eq 0 ]
