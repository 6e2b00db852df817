#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo: a generated UW-IMAP spool in a temp dir, checked, migrated into
# Dovecot maildirs and verified by the freshly built program.  No root
# needed; nothing outside the temp dir is touched.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
prog="$top/$BUILD/mbox2dovecot"

# On a terminal: the wizard over a practice server (mbox2dovecot sandbox
# in a temp dir: the whole runbook in a minute, without root, the real
# system untouched).  Without one, or with M2D_DEMO=script, the scripted
# tour of the commands below.
if [ -t 0 ] && [ -t 1 ] && [ "${M2D_DEMO:-wizard}" = wizard ]; then
	sb=$(mktemp -d /tmp/mbox2dovecot-demo.XXXXXX)
	chmod 755 "$sb"		# Dovecot's processes reach it
	"$prog" sandbox "$sb" >"$sb.log" 2>&1 || { cat "$sb.log"; exit 1; }
	rm -f "$sb.log"
	status=0
	"$prog" --config "$sb/mbox2dovecot.conf" || status=$?
	"$prog" sandbox --stop "$sb" >/dev/null 2>&1 || true
	echo "The practice server stays in $sb (its state too: run the same"
	echo "command again to resume; rm -rf it when done):"
	echo "    $prog --config $sb/mbox2dovecot.conf"
	exit $status
fi
demo=$(mktemp -d /tmp/mbox2dovecot-demo.XXXXXX)
conf=$demo/mbox2dovecot.conf

echo "== a UW-IMAP spool with 2 users, generated in $demo"
python3 "$top/tests/tools/gen-spool.py" --seed 1 --out "$demo" --users 2 \
	--messages 20 --tz UTC >/dev/null
(cd "$demo" && find spool home -type f | sort)

# every path of the migration in the temp dir
cat >"$conf" <<CONF
spool_dir   = "$demo/spool"
homes_dir   = "$demo/home"
target_base = "$demo/target"
work_dir    = "$demo/work"
source_tz   = "UTC"
CONF
users=$(ls "$demo/home" | paste -sd, -)
opts="--config $conf --users $users"

echo
echo "== mbox2dovecot check: the pre-flight checklist (changes nothing)"
"$prog" check $opts --root "$demo" --scratch "$demo" ||
	true

echo
echo "== mbox2dovecot plan: users, folders, and what is skipped"
"$prog" plan $opts

echo
echo "== mbox2dovecot migrate: every user and folder, exactly once"
"$prog" migrate $opts

echo
echo "== mbox2dovecot migrate again: nothing changed, nothing converted"
"$prog" migrate $opts | tail -n 1

echo
echo "== mbox2dovecot verify: every folder against its mbox"
"$prog" verify $opts | tail -n 1

echo
echo "== the maildirs Dovecot will read"
(cd "$demo/target" && find . -maxdepth 2 -type d | sort)
user=$(ls "$demo/home" | head -n 1)
echo
echo "== $demo/target/$user/dovecot-uidlist (UW's UIDVALIDITY and UIDs kept)"
head -n 4 "$demo/target/$user/dovecot-uidlist"
echo
echo "The demo tree stays in $demo (rm -rf it when done)."
