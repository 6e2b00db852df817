#!/bin/bash
# Runs every test and ends with one line "N passed, N failed".
#
# Unit tests are cmocka programs (one per file in tests/unit/), run with TAP
# output; integration tests are tests/integration/*.sh and *.py, which print
# TAP too ("ok N - what" / "not ok N - what").  Every "ok" line counts as a
# pass, every "not ok" line as a failure, and a program that exits non-zero
# without saying "not ok" counts as one failure.
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
fail=0

# Longest first, so that the pool does not end waiting on one of them.
slow="test-runbook.py test-sandbox.sh test-postfix-conf test-fuzz.sh
test-imap-test.py test-originals.py test-fs-checks test-migrate.py
test-convert"

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
	names+=("$1")
	cmds+=("$2")
}
for t in "$BUILD"/tests/test-*; do
	[ -x "$t" ] || continue
	add "$(basename "$t")" "CMOCKA_MESSAGE_OUTPUT=TAP $to $vg $t"
done
if [ -z "$vg" ]; then
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

report() {
	local i=$1 log="$logs/$1.log" rc p f
	rc=$(cat "$logs/$i.rc")
	echo "# ${names[$i]} ($(cat "$logs/$i.secs") s)"
	p=$(grep -c '^ok ' "$log")
	# cmocka's TAP writes a skipped test as "not ok N # SKIP": a skip
	f=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
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
		grep -E '^(ok|# SKIP)' "$log" | sed 's/^/  /'
	fi
	pass=$((pass + p))
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
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
