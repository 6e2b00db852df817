#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-migrate.sh - whole-spool migration against a floor
#
# Generates a seeded spool of BENCH_USERS users with BENCH_FOLDERS folders
# each (the INBOX in the spool, the others under ~/mail), BENCH_MIGRATE_MB
# MiB in all, with tests/tools/bench-gen.  Then, one after the other, with a
# `sync` before each:
#   floor     tests/tools/bench-floor on every folder (split at "From ",
#             one file per message, one syncfs per folder)
#   migrate   `mbox2dovecot migrate --jobs 1`, and `--jobs 2`
#   re-run    10% of the folders get one more message (new mail, as
#             Postfix appends it); `migrate --jobs 2` again on the --jobs 2
#             result: only those are converted, and only the new messages
#   rewrite   another 10% are changed in place (as UW rewrites a folder
#             when flags change): those are converted again whole; its
#             ratio is printed for information
# and prints the times as ratios: each migrate to the floor, the re-run
# to the full --jobs 2 run (target: at most BENCH_RERUN_MAX, 0.15), and
# the time `check --jobs 1` estimated before (its calibrated model:
# full_ms) to the real --jobs 1 run (target: BENCH_ESTIMATE_MIN 0.7 to
# BENCH_ESTIMATE_MAX 1.3).
# Exit status 1 when a target is missed or a run fails.
#
# Settings: BUILD, BENCH_USERS (20), BENCH_FOLDERS (5), BENCH_MIGRATE_MB
# (100), BENCH_SEED (1), BENCH_RERUN_MAX (0.15), BENCH_ESTIMATE_MIN (0.7),
# BENCH_ESTIMATE_MAX (1.3), BENCH_KEEP=1, TMPDIR.
set -u

BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in
/*) bdir=$BUILD ;;
*) bdir=$top/$BUILD ;;
esac
prog=$bdir/mbox2dovecot
tools=$bdir/tools
users=${BENCH_USERS:-20}
folders=${BENCH_FOLDERS:-5}
total_mb=${BENCH_MIGRATE_MB:-100}
seed=${BENCH_SEED:-1}
rerun_max=${BENCH_RERUN_MAX:-0.15}
est_min=${BENCH_ESTIMATE_MIN:-0.7}
est_max=${BENCH_ESTIMATE_MAX:-1.3}

for t in "$prog" "$tools/bench-gen" "$tools/bench-floor" "$tools/peak-rss"; do
	[ -x "$t" ] || { echo "bench-migrate: $t is missing; run make" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/var/tmp}/m2d-bench-migrate.XXXXXX") || exit 2
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT INT TERM

echo "== migrate: $users users x $folders folders, $total_mb MiB, seed $seed"
per_mb=$(awk -v t="$total_mb" -v n=$((users * folders)) 'BEGIN { printf "%.3f", t / n }')
per_msgs=$(awk -v m="$per_mb" 'BEGIN { n = int(m * 200); print n < 1 ? 1 : n }')
mkdir -p "$work/spool" "$work/home" || exit 2
n=0
u=1
while [ $u -le "$users" ]; do
	name=$(printf 'user%03d' $u)
	mkdir -p "$work/home/$name/mail"
	f=1
	while [ $f -le "$folders" ]; do
		n=$((n + 1))
		if [ $f -eq 1 ]; then
			out=$work/spool/$name
		else
			out=$work/home/$name/mail/folder$f
		fi
		"$tools/bench-gen" --seed $((seed * 100000 + n)) --mb "$per_mb" \
			--messages "$per_msgs" "$out" >/dev/null || exit 2
		f=$((f + 1))
	done
	u=$((u + 1))
done
allusers=$(ls "$work/home" | paste -sd, -)

wall() {
	sed -n 's/.*wall=\([0-9.]*\).*/\1/p' "$1"
}

run_migrate() {	# TARGET WORK JOBS REPORT
	"$tools/peak-rss" "$4" "$prog" migrate --spool "$work/spool" \
		--homes "$work/home" --target "$1" --work "$2" \
		--users "$allusers" --jobs "$3" >"$4.out" 2>&1
}

sync
# the floor: every folder split into its own directory
cat >"$work/floor.sh" <<EOF
#!/bin/sh
set -e
mkdir -p "$work/floor-out"
for m in "$work"/spool/* "$work"/home/*/mail/*; do
	d="$work/floor-out/\$(echo "\$m" | tr / _)"
	"$tools/bench-floor" "\$m" "\$d" >/dev/null
done
EOF
"$tools/peak-rss" "$work/floor.rep" sh "$work/floor.sh" || { echo "floor failed"; exit 1; }
rm -rf "$work/floor-out"
# the estimate of `check` (runbook step 3) for --jobs 1, before the run
sync
"$prog" check --spool "$work/spool" --homes "$work/home" \
	--target "$work/t1" --work "$work/w1" --users "$allusers" --jobs 1 \
	--scratch "$work" --format json >"$work/check.json" 2>"$work/check.err"
est_ms=$(python3 - "$work/check.json" <<'EOF2'
import json, sys
def find(x):
    if isinstance(x, dict):
        if x.get("id") == "time_estimate":
            return x.get("figures", {})
        for v in x.values():
            r = find(v)
            if r is not None:
                return r
    elif isinstance(x, list):
        for v in x:
            r = find(v)
            if r is not None:
                return r
    return None
try:
    f = find(json.load(open(sys.argv[1]))) or {}
except ValueError:
    f = {}
print(f.get("full_ms", 0), f.get("full_low_ms", 0), f.get("full_high_ms", 0))
EOF2
)
rm -rf "$work/t1" "$work/w1"
sync
run_migrate "$work/t1" "$work/w1" 1 "$work/j1.rep" || { cat "$work/j1.rep.out"; exit 1; }
rm -rf "$work/t1"
sync
run_migrate "$work/t2" "$work/w2" 2 "$work/j2.rep" || { cat "$work/j2.rep.out"; exit 1; }

# 10% of the folders change: one more message each
changed=0
for m in $(ls "$work"/spool/* "$work"/home/*/mail/* | awk -v k=$((users * folders / 10)) 'NR % 10 == 0 && k-- > 0'); do
	printf 'From bench@example.com Tue Nov  9 10:11:12 2004\nSubject: new\n\nnew mail\n\n' >>"$m"
	changed=$((changed + 1))
done
sync
run_migrate "$work/t2" "$work/w2" 2 "$work/re.rep" || { cat "$work/re.rep.out"; exit 1; }
converted=$(grep -c '^done ' "$work/re.rep.out")

# another 10%: one byte changed in place, past the pseudo-message
rewritten=0
for m in $(ls "$work"/spool/* "$work"/home/*/mail/* | awk -v k=$((users * folders / 10)) 'NR % 10 == 5 && k-- > 0'); do
	printf 'x' | dd of="$m" bs=1 seek=2000 conv=notrunc 2>/dev/null
	rewritten=$((rewritten + 1))
done
sync
run_migrate "$work/t2" "$work/w2" 2 "$work/rw.rep" || { cat "$work/rw.rep.out"; exit 1; }
rw=$(wall "$work/rw.rep")

floor=$(wall "$work/floor.rep")
j1=$(wall "$work/j1.rep")
j2=$(wall "$work/j2.rep")
re=$(wall "$work/re.rep")
msgs=$(sed -n 's/.*; \([0-9]*\) messages in.*/\1/p' "$work/j1.rep.out")
awk -v f="$floor" -v j1="$j1" -v j2="$j2" -v re="$re" -v msgs="$msgs" \
    -v mb="$total_mb" -v max="$rerun_max" -v ch="$changed" -v conv="$converted" \
    -v rw="$rw" -v rwn="$rewritten" -v est="$est_ms" -v emin="$est_min" \
    -v emax="$est_max" '
BEGIN {
	printf "%-26s %9s %11s %9s %9s\n", "", "seconds", "messages/s", "MiB/s", "x floor"
	printf "%-26s %9.2f %11.0f %9.1f %9.2f\n", "floor (split, 1 syncfs/folder)", f, msgs / f, mb / f, 1
	printf "%-26s %9.2f %11.0f %9.1f %9.2f\n", "migrate --jobs 1", j1, msgs / j1, mb / j1, j1 / f
	printf "%-26s %9.2f %11.0f %9.1f %9.2f\n", "migrate --jobs 2", j2, msgs / j2, mb / j2, j2 / f
	ratio = re / j2
	printf "re-run after %d of the folders changed: %.2f s, %d converted, %.3f x the full run (target <= %s): %s\n",
		ch, re, conv, ratio, max, ratio <= max && conv == ch ? "PASS" : "FAIL"
	printf "re-run after %d of the folders were rewritten in place: %.2f s, %.3f x the full run (information)\n",
		rwn, rw, rw / j2
	split(est, e, " ")
	er = j1 > 0 ? e[1] / 1000 / j1 : 0
	eok = er >= emin && er <= emax
	printf "check'"'"'s estimate for --jobs 1: %.2f s (range %.2f-%.2f s), %.2f x the real run (target %s-%s): %s\n",
		e[1] / 1000, e[2] / 1000, e[3] / 1000, er, emin, emax, eok ? "PASS" : "FAIL"
	exit !(ratio <= max && conv == ch && eok)
}'
