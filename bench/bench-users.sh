#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-users.sh - does the time grow with the users, not faster?
#
# Two seeded sites of small users: BENCH_USERS_SMALL (2,000)
# and 10 times as many (20,000; BIG=1 adds 200,000), each user with an
# INBOX in the spool and two folders under ~/mail, two small messages in
# each, in a passwd of their own (accounts_root).  Times `plan`, `migrate
# --jobs 1` and `verify` on each (tests/tools/peak-rss: wall time and peak
# RSS) and prints, per command, the ratio of the big site's time to the
# small one's: linear work gives 10x.  Targets: at most BENCH_USERS_MAX
# (12) for 10x the users, and a peak RSS under BENCH_USERS_RSS_MIB (100)
# at 20,000 users.  Exit status 1 when a target is missed or a run fails.
#
# Every user has the uid of whoever runs the bench (as root: 65534), so it
# runs without root; the files are theirs, as the plan requires.
#
# Settings: BUILD, BENCH_USERS_SMALL (2000), BENCH_USERS_MAX (12),
# BENCH_USERS_RSS_MIB (100), BIG=1, BENCH_KEEP=1, TMPDIR.
set -u

BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in
/*) bdir=$BUILD ;;
*) bdir=$top/$BUILD ;;
esac
prog=$bdir/mbox2dovecot
rss=$bdir/tools/peak-rss
small=${BENCH_USERS_SMALL:-2000}
max=${BENCH_USERS_MAX:-12}
rss_max=${BENCH_USERS_RSS_MIB:-100}
for t in "$prog" "$rss"; do
	[ -x "$t" ] || { echo "bench-users: $t is missing; run make" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/m2d-bench-users.XXXXXX") || exit 2
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT INT TERM
uid=$(id -u)
gid=$(id -g)
if [ "$uid" -eq 0 ]; then
	uid=65534
	gid=65534
fi

# site DIR N: a spool, homes, a passwd and a config for N users
site() {
	python3 - "$1" "$2" "$uid" "$gid" <<'EOF' || return 1
import os, sys
d, n, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for sub in ("spool", "home", "root/etc"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
msg = ("From sender@example.org Tue Nov  9 10:11:%02d 2004\n"
       "From: sender@example.org\nSubject: note %d\nStatus: RO\n\n"
       "A short note, as most mail is.\n\n")
with open(os.path.join(d, "root/etc/passwd"), "w") as pw:
    for i in range(n):
        u = "u%06d" % i
        home = os.path.join(d, "home", u)
        pw.write("%s:x:%d:%d::%s:/bin/sh\n" % (u, uid, gid, home))
        os.makedirs(os.path.join(home, "mail"))
        for path in (os.path.join(d, "spool", u),
                     os.path.join(home, "mail", "a"),
                     os.path.join(home, "mail", "b")):
            with open(path, "w") as f:
                f.write(msg % (1, 1) + msg % (2, 2))
            os.chown(path, uid, gid) if os.geteuid() == 0 else None
        if os.geteuid() == 0:
            for p in (home, os.path.join(home, "mail")):
                os.chown(p, uid, gid)
with open(os.path.join(d, "m2d.conf"), "w") as c:
    c.write('spool_dir = "%s/spool"\nhomes_dir = "%s/home"\n'
            'folder_roots = {"~/mail"}\ntarget_base = "%s/target"\n'
            'work_dir = "%s/work"\naccounts_root = "%s/root"\n'
            'uid_min = %d\nuid_max = %d\njobs = 1\n'
            % (d, d, d, d, d, uid, uid))
EOF
}

# timed SITE NAME COMMAND...: one run, its report in SITE/NAME.rss
timed() {
	s=$1
	name=$2
	shift 2
	sync
	"$rss" "$s/$name.rss" "$prog" "$@" --config "$s/m2d.conf" \
		>"$s/$name.out" 2>&1 || {
		echo "bench-users: $name on $(basename "$s") failed:" >&2
		tail -n 5 "$s/$name.out" >&2
		return 1
	}
}

field() {	# FILE KEY
	sed -n "s/.*$2=\([0-9.]*\).*/\1/p" "$1"
}

failed=0
sizes="$small $((small * 10))"
[ -n "${BIG:-}" ] && sizes="$sizes $((small * 100))"
for n in $sizes; do
	s=$work/$n
	mkdir -p "$s"
	site "$s" "$n" || { echo "bench-users: no site of $n users" >&2; exit 2; }
	for c in plan migrate verify; do
		case $c in
		migrate) timed "$s" "$c" migrate --jobs 1 || failed=1 ;;
		*) timed "$s" "$c" "$c" || failed=1 ;;
		esac
	done
done

echo "bench-users: plan, migrate --jobs 1, verify of small users"
echo "  (3 folders of 2 messages each), seconds and peak RSS:"
for n in $sizes; do
	for c in plan migrate verify; do
		f=$work/$n/$c.rss
		[ -f "$f" ] || continue
		printf '  %7d users  %-8s %8s s  %6d KiB\n' "$n" "$c" \
			"$(field "$f" wall)" "$(field "$f" maxrss_kib)"
	done
done
for c in plan migrate verify; do
	a=$work/$small/$c.rss
	b=$work/$((small * 10))/$c.rss
	[ -f "$a" ] && [ -f "$b" ] || continue
	r=$(awk -v a="$(field "$a" wall)" -v b="$(field "$b" wall)" \
		'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }')
	ok=$(awk -v r="$r" -v m="$max" 'BEGIN { print (r <= m) ? "ok" : "MISSED" }')
	echo "  $c: $((small * 10)) users took ${r}x the time of $small (target <= ${max}x): $ok"
	[ "$ok" = ok ] || failed=1
	kib=$(field "$b" maxrss_kib)
	if [ "$kib" -ge $((rss_max * 1024)) ]; then
		echo "  $c: peak RSS $kib KiB at $((small * 10)) users (target < $rss_max MiB): MISSED"
		failed=1
	fi
done
exit $failed
