#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fuzz.sh - a short libFuzzer run of every target (tests/fuzz/README)
#
# When clang can build a libFuzzer program: "make fuzz" with FUZZ_TIME
# seconds per target (default 3; M2D_FUZZ_TIME to change), in clean
# sub-makes, one per CPU (at most 4) side by side; one TAP line per target.  Otherwise one SKIP line.
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${M2D_FUZZ_TIME:-3}
cc=${FUZZ_CC:-clang}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2d-test-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

cat >"$tmp/probe.c" <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
PROBE
if ! command -v "$cc" >/dev/null 2>&1 ||
   ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" \
	"$tmp/probe.c" >/dev/null 2>&1 ||
   ! "$tmp/probe" -runs=1 >/dev/null 2>&1; then
	echo "ok 1 # SKIP clang/libFuzzer not available"
	exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 4 ] && jobs=4
# not the jobserver or variables (SANITIZE=...) of the make that runs us
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$top" -j"$jobs" fuzz-build FUZZ_CC="$cc" >"$tmp/build.log" 2>&1
if [ $? -ne 0 ]; then
	tail -n 20 "$tmp/build.log" | sed 's/^/# /'
	echo "not ok 1 - fuzz targets build"
	exit 1
fi
# the targets in JOBS groups side by side (the fuzzing is one process each)
targets=$(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')
g=0
while [ "$g" -lt "$jobs" ]; do
	group=$(echo "$targets" | awk -v g="$g" -v n="$jobs" '(NR - 1) % n == g' |
		tr '\n' ' ')
	if [ -n "$group" ]; then
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top" fuzz \
			FUZZ_CC="$cc" FUZZ_TIME="$secs" FUZZ_TARGETS="$group" \
			>"$tmp/run.$g.log" 2>&1 &
	fi
	g=$((g + 1))
done
wait
cat "$tmp"/run.*.log >"$tmp/run.log"
sed 's/^/# /' "$tmp/run.log"
n=0
for f in "$top"/tests/fuzz/fuzz-*.c; do
	t=${f##*/fuzz-}
	t=${t%.c}
	n=$((n + 1))
	if grep -q "^fuzz: $t ok" "$tmp/run.log"; then
		echo "ok $n - fuzz $t $secs s"
	else
		echo "not ok $n - fuzz $t $secs s"
	fi
done
echo "1..$n"
