#!/bin/sh
# SPDX-License-Identifier: MIT
# "mbox2dovecot sandbox DIR": the practice mail server, with the real
# programs: the generated spool planned, migrated and verified, the
# private Dovecot started, given its test port by dovecot-conf apply and
# answering IMAP logins, postconf on the Postfix config dir, the deliver
# script into an mbox and into a maildir, the UW stand-in under the
# sandbox's xinetd, and "sandbox --stop".  As root (CI), then as the
# user nobody to show that no root is needed.
set -u
BUILD=${BUILD:-build}
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
prog=$top/$BUILD/mbox2dovecot
n=0
ok() {	# CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
PATH=$PATH:/usr/sbin:/sbin
if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 # SKIP not root (this test also runs the sandbox as another user)"
	exit 0
fi
t=$(mktemp -d /tmp/m2d-sandbox.XXXXXX)
chmod 755 "$t"
s=$t/s
cleanup() {
	"$prog" sandbox --stop "$s" >/dev/null 2>&1
	[ -d "$t/r" ] && "$prog" sandbox --stop "$t/r" >/dev/null 2>&1
	[ -d "$t/nobody/s" ] && "$prog" sandbox --stop "$t/nobody/s" >/dev/null 2>&1
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# IMAP: log in as USER on PORT with the sandbox's password, print the
# folder names and INBOX's message count
imap() {	# PORT USER
	python3 - "$1" "$2" <<'PY'
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
c.login(sys.argv[2], "sandbox")
typ, data = c.list('""', '"*"')
for item in data:
    print(item.decode().rsplit(' "/" ', 1)[1])
typ, data = c.select("INBOX")
print("INBOX-COUNT", data[0].decode())
c.logout()
PY
}
banner() {	# PORT: the first line the server says, or nothing
	python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    print(s.recv(200).decode().splitlines()[0])
except OSError:
    pass
PY
}
setting() {	# NAME: its value in the sandbox's mbox2dovecot.conf
	sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$s/mbox2dovecot.conf"
}

# ---- the tree
"$prog" sandbox "$s" >"$t/out" 2>"$t/err"
ok $? "sandbox DIR builds the practice server $(head -c 300 "$t/err")"
[ -s "$s/spool/alice" ] && [ -d "$s/home/dave/mail/archive/1999" ] &&
	[ -s "$s/home/alice/.mailboxlist" ] && [ -s "$s/mbox2dovecot.conf" ] &&
	[ -s "$s/postfix/main.cf" ] && [ -x "$s/bin/deliver" ]
ok $? "spool, nested folders, subscriptions, config, scripts exist"
grep -q "^X-IMAP: " "$s/spool/bob" && grep -q "^X-UID: " "$s/spool/bob" &&
	grep -q "^X-Keywords:" "$s/spool/bob" && grep -q "^>From " "$s/spool/bob" ||
	grep -rq "^>From " "$s/home/bob"
ok $? "UW's headers, the pseudo-message and >From quoting are in the spool"
[ "$(stat -c %u:%g "$s/spool/alice")" = 65534:65534 ] &&
	[ "$(setting owner)" = 65534:65534 ]
ok $? "as root the mail belongs to 65534:65534, and the config says so"
grep -q "mbox2dovecot --config $s/mbox2dovecot.conf" "$t/out" &&
	grep -q "sandbox --stop $s" "$t/out"
ok $? "it says what was made and the next commands"

if command -v dovecot >/dev/null; then
	doveconf -c "$s/dovecot/dovecot.conf" -n >/dev/null 2>"$t/err"
	ok $? "doveconf accepts the sandbox's dovecot.conf $(head -c 200 "$t/err")"
	"$s/bin/dovecot-status"
	ok $? "the private Dovecot runs (its master's pid)"
	test_port=$(setting test_port)
	imap_port=$(setting imap_port)
	[ -z "$(banner "$test_port")" ]
	ok $? "before the runbook's edit Dovecot does not listen on the test port"
else
	skip "dovecot not installed"
fi

# ---- the configuration, through our own parser
"$prog" plan --config "$s/mbox2dovecot.conf" >"$t/plan" 2>"$t/err"
ok $? "plan --config loads the generated configuration $(head -c 200 "$t/err")"
[ "$(grep -c '^user ' "$t/plan")" -eq 5 ]
ok $? "the plan lists the 5 sandbox users (none from /etc/passwd)"
grep -q '^rename bob/mail/v1.2 release' "$t/plan" &&
	grep -q '^rename carol/mail/Inbox' "$t/plan" &&
	grep -q "^folder alice/mail/Entwürfe -> \"Entwürfe\"" "$t/plan" &&
	grep -q '^folder dave/mail/archive/1999/q1 ' "$t/plan"
ok $? "folders: one needing a rename, non-ASCII, nested"

# same seed, same bytes
"$prog" sandbox --no-start --seed 7 "$t/a" >/dev/null 2>&1 &&
	"$prog" sandbox --no-start --seed 7 "$t/b" >/dev/null 2>&1 &&
	diff -r "$t/a/spool" "$t/b/spool" >/dev/null &&
	diff -r "$t/a/home" "$t/b/home" >/dev/null
ok $? "the spool is deterministic for a seed"
mkdir "$t/foreign" && echo x >"$t/foreign/file"
"$prog" sandbox "$t/foreign" >/dev/null 2>"$t/err"
[ $? -ne 0 ] && grep -q "not a sandbox" "$t/err" && [ -f "$t/foreign/file" ]
ok $? "a non-empty directory that is not a sandbox is refused, untouched"
"$prog" sandbox --no-start "$t/a" >"$t/out" 2>&1 &&
	grep -q "is a sandbox of mbox2dovecot" "$t/out"
ok $? "a sandbox of ours is said so, and built again"

# ---- the migration on the generated spool
"$prog" migrate --config "$s/mbox2dovecot.conf" >"$t/mig" 2>&1
rc=$?
failed=$(sed -n 's/.* \([0-9]*\) failed;.*/\1/p' "$t/mig" | tail -n 1)
[ "$rc" -eq 1 ] && [ "$failed" = 4 ] &&
	[ "$(grep -c '^FAILED folder' "$t/mig")" -le 4 ]
ok $? "migrate converts all but the 4 folders that need a rename (rc $rc, $failed failed)"
"$prog" verify --config "$s/mbox2dovecot.conf" >"$t/ver" 2>&1
ok $? "verify: every migrated folder identical to its mbox ($(tail -n 1 "$t/ver"))"

if command -v dovecot >/dev/null; then
	# the runbook's step 8, by hand: our unit gives the test port
	"$prog" dovecot-conf apply --config "$s/mbox2dovecot.conf" \
		--dovecot-conf "$s/dovecot/dovecot.conf" --target "$s/target" \
		--work "$s/work" --listen "127.0.0.1:$test_port" \
		--reload "dovecot -c $s/dovecot/dovecot.conf reload" \
		>"$t/dc" 2>&1
	ok $? "dovecot-conf apply on the sandbox's config, reloaded $(tail -n 1 "$t/dc")"
	[ -f "$s/dovecot/conf.d/99-mbox2dovecot.conf" ]
	ok $? "the unit is conf.d/99-mbox2dovecot.conf"
	banner "$test_port" | grep -q '^\* OK'
	ok $? "Dovecot answers on the test port"
	imap "$test_port" alice >"$t/imap" 2>&1 &&
		grep -q '^Entw&APw-rfe$' "$t/imap" && grep -q '^work/2004$' "$t/imap"
	ok $? "alice logs in with the sandbox password and sees her folders"
	doveadm -c "$s/dovecot/dovecot.conf" mailbox status -u dave messages '*' \
		>"$t/da" 2>&1 && grep -q 'archive/1999/q1 messages=6' "$t/da"
	ok $? "doveadm -c on the sandbox's config reads dave's maildirs"
fi

# ---- UW-IMAP: the stand-in under the sandbox's xinetd
uw_port=$(setting imap_port)
banner "$uw_port" | grep -q 'stand-in for UW-IMAP'
ok $? "the UW stand-in holds the normal port"
sed -i 's/disable\t\t\t= no/disable\t\t\t= yes/' "$s/root/etc/xinetd.d/imap"
"$s/bin/xinetd" reload && [ -z "$(banner "$uw_port")" ] && ! "$s/bin/xinetd" status
ok $? "disable = yes and an xinetd reload stop it"
sed -i 's/disable\t\t\t= yes/disable\t\t\t= no/' "$s/root/etc/xinetd.d/imap"
"$s/bin/xinetd" reload && banner "$uw_port" | grep -q 'stand-in' &&
	"$s/bin/xinetd" status
ok $? "disable = no and a reload start it again"

# ---- Postfix: the config dir and local delivery
if command -v postconf >/dev/null; then
	[ "$(postconf -c "$s/postfix" -h mail_spool_directory)" = "$s/spool" ]
	ok $? "postconf -c DIR/postfix -h mail_spool_directory"
	"$s/bin/postfix" -c "$s/postfix" check 2>"$t/err"
	ok $? "postfix check on the sandbox's config dir $(head -c 200 "$t/err")"
	before=$(grep -c '^From ' "$s/spool/carol")
	printf 'Subject: to the mbox\n\nFrom the start of a line\n' |
		"$s/bin/deliver" carol 2>"$t/err"
	ok $? "deliver into the mbox $(head -c 200 "$t/err")"
	[ "$(grep -c '^From ' "$s/spool/carol")" -eq $((before + 1)) ] &&
		tail -n 4 "$s/spool/carol" | grep -q '^>From the start' &&
		[ ! -e "$s/spool/carol.lock" ]
	ok $? "one more From_ line, the body quoted, the dotlock gone"
	postconf -c "$s/postfix" -e "mail_spool_directory = $s/target/"
	printf 'Subject: to the maildir\n\nhello\n' | "$s/bin/deliver" carol 2>"$t/err"
	ok $? "deliver into the maildir (mail_spool_directory = DIR/target/)"
	f=$(ls "$s/target/carol/new" | tail -n 1)
	grep -q '^Subject: to the maildir' "$s/target/carol/new/$f" &&
		[ "$(stat -c %u "$s/target/carol/new/$f")" = 65534 ] &&
		[ -z "$(ls "$s/target/carol/tmp")" ]
	ok $? "the message is in new/, owned by the mail owner, tmp/ empty"
	printf 'Subject: x\n\nx\n' | "$s/bin/deliver" zoe 2>"$t/err"
	[ $? -ne 0 ] && grep -q unknown "$t/err"
	ok $? "an unknown user is refused"
	postconf -c "$s/postfix" -e "defer_transports = local"
	printf 'Subject: held\n\nx\n' | "$s/bin/deliver" erin 2>/dev/null &&
		! grep -lq 'Subject: held' "$s/target/erin/new/"* 2>/dev/null &&
		[ -n "$(ls "$s/queue")" ]
	ok $? "held (defer_transports = local): the message waits in the queue"
	postconf -c "$s/postfix" -e "defer_transports ="
	"$s/bin/postqueue" -c "$s/postfix" -f &&
		grep -lq 'Subject: held' "$s/target/erin/new/"*
	ok $? "released and flushed: delivered"
else
	skip "postconf not installed"
fi

# ---- stop
"$prog" sandbox --stop "$s" >"$t/out" 2>&1
ok $? "sandbox --stop $(cat "$t/out")"
if command -v dovecot >/dev/null; then
	! "$s/bin/dovecot-status" && [ -z "$(banner "$test_port")" ]
	ok $? "Dovecot is stopped"
fi
[ -z "$(banner "$uw_port")" ] && ! "$s/bin/postfix" status
ok $? "the UW stand-in and the sandbox's Postfix are stopped"
"$prog" sandbox --stop "$s" >"$t/out" 2>&1 && grep -q ' 0 processes' "$t/out"
ok $? "sandbox --stop again: nothing left to stop"
"$prog" sandbox --stop "$t/foreign" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "sandbox --stop refuses a directory that is not a sandbox"

# ---- the README's demo: the runbook, headless, on a fresh sandbox
if command -v dovecot >/dev/null && command -v postconf >/dev/null; then
	r=$t/r
	"$prog" sandbox "$r" >/dev/null 2>&1
	rp=$(sed -n 's/^imap_port *= *//p' "$r/mbox2dovecot.conf")
	"$prog" --config "$r/mbox2dovecot.conf" --batch --yes --to 20 \
		>"$t/batch" 2>&1
	rc=$?
	ok $rc "--batch --yes runs the runbook through step 20 on the sandbox (rc $rc$([ $rc -ne 0 ] && tail -n 3 "$t/batch"))"
	grep -q 'disable.*= yes' "$r/root/etc/xinetd.d/imap" &&
		! "$r/bin/xinetd" status &&
		[ "$(postconf -c "$r/postfix" -h mail_spool_directory)" = "$r/target/" ] &&
		banner "$rp" | grep -q Dovecot
	ok $? "after it: UW disabled and stopped, Postfix delivers into the maildirs, Dovecot on the normal port"
	"$prog" sandbox --stop "$r" >/dev/null 2>&1
	ok $? "sandbox --stop after the runbook"
	[ -z "$(banner "$rp")" ]
	ok $? "nothing answers on the normal port any more"
else
	skip "dovecot or postconf not installed: no runbook run"
fi

# ---- without root: the same as the user nobody
if ! command -v runuser >/dev/null; then
	skip "runuser not installed: no run as another user"
elif ! runuser -u nobody -- test -x "$prog"; then
	skip "nobody cannot run $prog (its directory is not searchable)"
else
	mkdir "$t/nobody" && chown nobody:nogroup "$t/nobody"
	ns=$t/nobody/s
	as() { runuser -u nobody -- "$@"; }
	as "$prog" sandbox "$ns" >"$t/out" 2>"$t/err"
	ok $? "as nobody: sandbox DIR $(head -c 300 "$t/err")"
	[ "$(stat -c %U "$ns/spool/alice")" = nobody ] &&
		[ "$(sed -n 's/^owner *= *"\(.*\)"/\1/p' "$ns/mbox2dovecot.conf")" = "$(id -u nobody):$(id -g nobody)" ]
	ok $? "as nobody: the mail and the owner setting are nobody's"
	as "$prog" migrate --config "$ns/mbox2dovecot.conf" >"$t/mig" 2>&1
	[ $? -eq 1 ] && grep -q ' 4 failed' "$t/mig"
	ok $? "as nobody: migrate (all but the 4 renames)"
	if command -v dovecot >/dev/null; then
		np=$(sed -n 's/^test_port *= *//p' "$ns/mbox2dovecot.conf")
		as "$prog" dovecot-conf apply --config "$ns/mbox2dovecot.conf" \
			--dovecot-conf "$ns/dovecot/dovecot.conf" \
			--target "$ns/target" --work "$ns/work" \
			--listen "127.0.0.1:$np" \
			--reload "dovecot -c $ns/dovecot/dovecot.conf reload" \
			>"$t/dc" 2>&1
		ok $? "as nobody: dovecot-conf apply and reload $(tail -n 1 "$t/dc")"
		ps -o user= -p "$(cat "$ns/run/dovecot/master.pid")" | grep -q nobody &&
			imap "$np" bob >"$t/imap" 2>&1 && grep -q '^Caf&AOk-$' "$t/imap"
		ok $? "as nobody: Dovecot runs as nobody and bob logs in"
	fi
	printf 'Subject: x\n\nx\n' | as "$ns/bin/deliver" alice 2>"$t/err"
	ok $? "as nobody: deliver $(head -c 200 "$t/err")"
	as "$ns/bin/postfix" -c "$ns/postfix" check 2>"$t/err"
	ok $? "as nobody: the sandbox's postfix check (postconf -n: postfix check needs root)"
	as "$prog" sandbox --stop "$ns" >"$t/out" 2>&1 &&
		! "$ns/bin/dovecot-status" && [ -z "$(banner "$np")" ]
	ok $? "as nobody: sandbox --stop"
fi
echo "1..$n"
