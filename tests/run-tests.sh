#!/bin/sh
# Runs every test and ends with one line "N passed, N failed".
#
# Unit tests are cmocka programs (one per file in tests/unit/), run with TAP
# output; integration tests are tests/integration/*.sh and *.py, which print
# TAP too ("ok N - what" / "not ok N - what").  Every "ok" line counts as a
# pass, every "not ok" line as a failure, and a program that exits non-zero
# without saying "not ok" counts as one failure.
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
export M2D_TOP="$top"
log=$(mktemp)
pass=0
fail=0

run() {
	name=$1; shift
	t0=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	echo "# $name ($(($(date +%s) - t0)) s)"
	p=$(grep -c '^ok ' "$log")
	# cmocka's TAP writes a skipped test as "not ok N # SKIP": a skip
	f=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc"
	fi
	if [ "$f" -ne 0 ] || [ -n "$M2D_VERBOSE" ]; then
		cat "$log"
	else
		grep -E '^(ok|# SKIP)' "$log" | sed 's/^/  /'
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

# M2D_VALGRIND=1 (make valgrind): the unit tests under valgrind, any
# report failing the run; the integration tests are left to make check.
vg=
if [ -n "${M2D_VALGRIND:-}" ]; then
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
fi
for t in "$BUILD"/tests/test-*; do
	[ -x "$t" ] || continue
	CMOCKA_MESSAGE_OUTPUT=TAP run "$(basename "$t")" $vg "$t"
done
if [ -z "$vg" ]; then
	for t in "$top"/tests/integration/*.sh "$top"/tests/integration/*.py; do
		[ -f "$t" ] || continue
		case $t in
		*.sh) run "$(basename "$t")" sh "$t" ;;
		*.py) run "$(basename "$t")" python3 "$t" ;;
		esac
	done
fi
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
