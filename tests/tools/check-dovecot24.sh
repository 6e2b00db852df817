#!/bin/sh
# SPDX-License-Identifier: MIT
# check-dovecot24.sh [CHROOT] - mbox2dovecot's Dovecot 2.4 output against
# a REAL Dovecot 2.4, printing TAP.
#
# Debian 12 has Dovecot 2.3, so make check can only compare our 2.4
# output with fixtures; this script has the 2.4.1 of a Debian 13 chroot
# (tests/tools/make-trixie-chroot.sh builds one) read and run it:
#   - "dovecot-conf apply" on a copy of the chroot's own /etc/dovecot for
#     the test port, the normal ports (pop3 on: pop3_uidl_format), a log
#     file, a syslog facility and the hashed layout; each edit validated
#     by the 2.4 doveconf, the effective values read back with
#     "doveconf -h", then undone; the same on a single-file dovecot.conf;
#   - the sandbox's private Dovecot config in 2.4 syntax;
#   - that Dovecot started on 127.0.0.1 and a free port, serving alice's
#     maildir converted by "mbox2dovecot migrate": her folders, INBOX's
#     UIDVALIDITY and UIDs over IMAP, and UW's UIDLs over POP3;
#   - UW-IMAP's folder names (issue 21): the unit for folder_names =
#     compat in the packaged layout (its hidden namespaces read back by
#     doveconf -h), and tests/integration/test-uw-names.py run with the
#     2.4 tools (M2D_DOVECOT_BINDIR): after a migration with each choice,
#     compat and uw, the 2.4 Dovecot serving the unit's namespaces opens
#     "mail/sent-mail", "~/mail/sent-mail" and "~USER/mail/sent-mail",
#     takes an APPEND to "mail/sent-mail" into the migrated folder, lists
#     each folder once and LSUBs the migrated subscriptions;
#   - the whole runbook headless (--batch --yes) on a second sandbox: the
#     version found through dovecot_command, every edit, reload and IMAP
#     test of the 22 steps done by the 2.4 Dovecot.
#
# CHROOT (or M2D_DOVECOT24_ROOT) is the chroot; without one the script
# skips ("1..0 # SKIP").  Needs root (chroot, mount namespaces), python3
# and a built tree (make; BUILD=build, M2D_TOP=the source tree).  Not part
# of make check: it takes about half a minute and a 200 MB chroot.
#
# The 2.4 tools run as "chroot CHROOT dovecot ..." in a private mount
# namespace (unshare -m) where /tmp is bind-mounted to CHROOT/tmp, so
# every path we write (our work dir, and the copy dc_validate makes in
# /tmp) is the same inside; nothing stays mounted after a tool exits, and
# the Dovecot started here takes its namespace with it when stopped.
set -u

root=${1:-${M2D_DOVECOT24_ROOT:-}}
if [ -z "$root" ]; then
	echo "1..0 # SKIP no Dovecot 2.4 chroot given (argument or" \
	    "M2D_DOVECOT24_ROOT; tests/tools/make-trixie-chroot.sh builds one)"
	exit 0
fi
if [ ! -x "$root/usr/sbin/dovecot" ]; then
	echo "1..0 # SKIP $root has no usr/sbin/dovecot"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (chroot and mount namespaces)"
	exit 0
fi
for t in unshare chroot python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
root=$(cd "$root" && pwd)
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
prog=$top/${BUILD:-build}/mbox2dovecot
if [ ! -x "$prog" ]; then
	echo "Bail out! $prog is missing: run make first"
	exit 1
fi

W=$(mktemp -d /tmp/m2d-dc24.XXXXXX) || exit 1
# Dovecot's auth and mail processes must get through to the maildirs
chmod 755 "$W"
sb=$W/sb
started=

cleanup() {
	if [ -n "$started" ]; then
		"$W/bin/doveadm" -c "$sb/dovecot/dovecot.conf" stop \
		    >/dev/null 2>&1
	fi
	for d in "$sb" "$W/rb"; do
		if [ -f "$d/mbox2dovecot.conf" ]; then
			"$prog" sandbox --stop "$d" >/dev/null 2>&1
		fi
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}
# check DESC CMD...: ok when CMD succeeds; its output shown when not
check() {
	desc=$1
	shift
	if "$@" >"$W/out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/#   /' "$W/out"
	fi
}
# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  \"$2\""
		echo "#   want: \"$3\""
	fi
}
free_port() {
	python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the chroot's tools, as mbox2dovecot runs them ----
mkdir "$W/bin"
for t in dovecot doveconf doveadm; do
	cat >"$W/bin/$t" <<EOF
#!/bin/sh
# $t of the Dovecot 2.4 in $root, /tmp shared (see check-dovecot24.sh)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
exec unshare -m --propagation private sh -c 'R=\$1; shift;
mount --bind /tmp "\$R/tmp" && mount -t proc proc "\$R/proc" &&
exec chroot "\$R" "\$@"' sh "$root" $t "\$@"
EOF
	chmod 755 "$W/bin/$t"
done
# doveconf -h: always through a pipe (2.4.1 refuses to print into a
# non-empty file: "Multiple settings matched with -h parameter")
h() {
	"$W/bin/doveconf" -c "$1" -h "$2" 2>&1 | cat
}
tools="--dovecot $W/bin/dovecot --doveconf $W/bin/doveconf"

version=$("$W/bin/dovecot" --version 2>&1)
case $version in
2.4.*|2.[5-9].*|[3-9].*)
	ok "the chroot's Dovecot is $version" ;;
*)
	not_ok "the chroot's Dovecot is 2.4 or later (it says \"$version\")"
	echo "1..$n"
	exit 1 ;;
esac

# ---- our unit in the packaged conf.d layout ----
mkdir "$W/target"
tport=$(free_port)
# unit NAME ARGS...: apply to a fresh copy of the chroot's /etc/dovecot
unit() {
	name=$1
	shift
	cp -a "$root/etc/dovecot" "$W/etc-$name"
	conf=$W/etc-$name/dovecot.conf
	file=$W/etc-$name/conf.d/99-mbox2dovecot.conf
	check "$name: dovecot-conf apply (validated by doveconf 2.4)" \
	    "$prog" dovecot-conf apply --no-reload --dovecot-conf "$conf" \
	    --target "$W/target" --work "$W/work-$name" $tools "$@"
	if grep -q '(Dovecot 2.4 syntax)' "$file" 2>/dev/null; then
		ok "$name: written in 2.4 syntax"
	else
		not_ok "$name: written in 2.4 syntax"
	fi
	check "$name: doveconf -n reads the whole tree" \
	    "$W/bin/doveconf" -n -c "$conf"
	is "$name: mail_driver" "$(h "$conf" mail_driver)" maildir
	mp=$W/target/%{user}
	[ "$name" = hashed ] && mp="$W/target/%{user | substr(0, 1)}/%{user}"
	is "$name: mail_path" "$(h "$conf" mail_path)" "$mp"
	is "$name: mail_inbox_path (not the package's /var/mail)" \
	    "$(h "$conf" mail_inbox_path)" "$mp"
}
undo() {
	check "$1: dovecot-conf undo" "$prog" dovecot-conf undo --no-reload \
	    --work "$W/work-$1"
	if [ -e "$W/etc-$1/conf.d/99-mbox2dovecot.conf" ]; then
		not_ok "$1: undo removed our file"
	else
		ok "$1: undo removed our file"
	fi
	check "$1: doveconf -n reads the tree after undo" \
	    "$W/bin/doveconf" -n -c "$W/etc-$1/dovecot.conf"
}

unit test --listen 127.0.0.1:$tport
is "test: protocols" "$(h "$conf" protocols)" imap
is "test: imap port" \
    "$(h "$conf" service/imap-login/inet_listener/imap/port)" "$tport"
is "test: imap listen" \
    "$(h "$conf" service/imap-login/inet_listener/imap/listen)" 127.0.0.1
is "test: imaps off" \
    "$(h "$conf" service/imap-login/inet_listener/imaps/port)" 0
undo test

# the package enables pop3 (dovecot-pop3d): kept, with UW's UIDLs
unit normal --normal-ports
is "normal: protocols (pop3 of the package kept)" \
    "$(h "$conf" protocols)" "imap pop3"
is "normal: imap port" \
    "$(h "$conf" service/imap-login/inet_listener/imap/port)" 143
is "normal: imaps port" \
    "$(h "$conf" service/imap-login/inet_listener/imaps/port)" 993
is "normal: pop3_uidl_format" "$(h "$conf" pop3_uidl_format)" \
    "%{uidvalidity | hex(8)}%{uid | hex(8)}"
undo normal

unit logfile --listen 127.0.0.1:$tport --log-path /var/log/m2d-test.log
is "logfile: log_path" "$(h "$conf" log_path)" /var/log/m2d-test.log
undo logfile

unit syslog --listen 127.0.0.1:$tport --syslog-facility local5
is "syslog: log_path" "$(h "$conf" log_path)" syslog
is "syslog: syslog_facility" "$(h "$conf" syslog_facility)" local5
undo syslog

unit hashed --normal-ports --hashed
undo hashed

# UW's names kept by hidden aliases of the INBOX namespace (issue 21).
# doveconf takes any alias_for; only a running 2.4 refuses a wrong one
# (test-uw-names.py below), so here the values are read back.
printf 'folder_names = "compat"\n' >"$W/compat.conf"
unit compat --listen 127.0.0.1:$tport --config "$W/compat.conf"
ns=namespace/uw_compat
is "compat: uw_compat1 prefix" "$(h "$conf" $ns"1/prefix")" mail/
is "compat: uw_compat3 prefix" "$(h "$conf" $ns"3/prefix")" "~%{user}/mail/"
is "compat: uw_compat1 is an alias of the namespace inbox" \
    "$(h "$conf" $ns"1/alias_for")" inbox
is "compat: uw_compat1 is hidden and not listed" \
    "$(h "$conf" $ns"1/hidden") $(h "$conf" $ns"1/list")" "yes no"
undo compat

# ---- our block in a single dovecot.conf ----
mkdir "$W/etc-single"
conf=$W/etc-single/dovecot.conf
cat >"$conf" <<'EOF'
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
mail_driver = mbox
mail_path = ~/mail
mail_inbox_path = /var/mail/%{user}
EOF
cp "$conf" "$W/single.orig"
check "single: dovecot-conf apply (validated by doveconf 2.4)" \
    "$prog" dovecot-conf apply --no-reload --dovecot-conf "$conf" \
    --target "$W/target" --work "$W/work-single" $tools \
    --listen 127.0.0.1:$tport
if grep -q '^# BEGIN mbox2dovecot$' "$conf"; then
	ok "single: our block is in dovecot.conf"
else
	not_ok "single: our block is in dovecot.conf"
fi
check "single: doveconf -n reads it" "$W/bin/doveconf" -n -c "$conf"
is "single: mail_inbox_path" "$(h "$conf" mail_inbox_path)" \
    "$W/target/%{user}"
check "single: dovecot-conf undo" "$prog" dovecot-conf undo --no-reload \
    --work "$W/work-single"
check "single: undo gives dovecot.conf back byte for byte" \
    cmp "$W/single.orig" "$conf"

# ---- the sandbox's private Dovecot, in 2.4 syntax ----
check "sandbox: created with the 2.4 tools in PATH" \
    env PATH="$W/bin:$PATH" "$prog" sandbox --no-start "$sb"
sconf=$sb/dovecot/dovecot.conf
if head -n 1 "$sconf" 2>/dev/null |
    grep -qx 'dovecot_config_version = 2.4.0' &&
    grep -q '(Dovecot 2.4 syntax)' "$sconf"; then
	ok "sandbox: its dovecot.conf is in 2.4 syntax"
else
	not_ok "sandbox: its dovecot.conf is in 2.4 syntax"
fi
check "sandbox: doveconf -n reads its dovecot.conf" \
    "$W/bin/doveconf" -n -c "$sconf"
check "sandbox: migrate --users alice" \
    "$prog" migrate --config "$sb/mbox2dovecot.conf" --users alice
sport=$(free_port)
check "sandbox: dovecot-conf apply, test port $sport" \
    "$prog" dovecot-conf apply --config "$sb/mbox2dovecot.conf" \
    --no-reload --dovecot-conf "$sconf" $tools --listen 127.0.0.1:$sport

# serve: start Dovecot, wait for PORT
serve() {
	if ! "$W/bin/dovecot" -c "$sconf" >"$W/out" 2>&1; then
		not_ok "sandbox: Dovecot 2.4 starts"
		sed 's/^/#   /' "$W/out" "$sb/log/dovecot.log"
		return 1
	fi
	started=1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" \
		    2>/dev/null; then
			ok "sandbox: Dovecot 2.4 answers on 127.0.0.1:$1"
			return 0
		fi
		sleep 0.5
	done
	not_ok "sandbox: Dovecot 2.4 answers on 127.0.0.1:$1"
	sed 's/^/#   /' "$sb/log/dovecot.log"
	return 1
}
stop() {
	"$W/bin/doveadm" -c "$sconf" stop >/dev/null 2>&1
	started=
	# the master is gone when its pid file is
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -e "$sb/run/dovecot/master.pid" ] || break
		sleep 0.5
	done
}
# each line of CMD's output "ok DESC" or "not ok DESC", numbered here
# ("ok N - DESC" too, a TAP script's; its plan line dropped), DESC
# prefixed with $tap_prefix
tap_prefix=
tap_lines() {
	"$@" >"$W/out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) line=${line#ok }; ok "$tap_prefix${line#[0-9]* - }" ;;
		"not ok "*) line=${line#not ok }
			not_ok "$tap_prefix${line#[0-9]* - }" ;;
		1..*) ;;
		*) echo "#   $line" ;;
		esac
	done <"$W/out"
	[ $rc = 0 ] || not_ok "${tap_prefix:-sandbox: }$1 ran to the end (exit $rc)"
}

maildir=$sb/target/alice
if serve "$sport"; then
	is "sandbox: doveadm mailbox path INBOX is the maildir's root" \
	    "$("$W/bin/doveadm" -c "$sconf" mailbox path -u alice INBOX 2>&1)" \
	    "$maildir"
	tap_lines python3 - "$sport" "$maildir" <<'EOF'
import imaplib, os, sys

port, maildir = int(sys.argv[1]), sys.argv[2]
def say(good, desc):
    print(("ok " if good else "not ok ") + "IMAP: " + desc)

# what we wrote: the folders (Maildir++ ".a.b" is "a/b") and INBOX's
# dovecot-uidlist header and first UID
want = {"INBOX"} | {d[1:].replace(".", "/") for d in os.listdir(maildir)
                     if d.startswith(".") and
                     os.path.isdir(os.path.join(maildir, d, "cur"))}
with open(os.path.join(maildir, "dovecot-uidlist")) as f:
    lines = f.read().splitlines()
uidvalidity = [w[1:] for w in lines[0].split() if w.startswith("V")][0]
uids = [l.split()[0] for l in lines[1:] if l.strip()]

m = imaplib.IMAP4("127.0.0.1", port)
typ, _ = m.login("alice", "sandbox")
say(typ == "OK", "alice logs in")
typ, data = m.list()
got = set()
for l in data:
    name = l.decode().rsplit(' "/" ', 1)[1].strip('"')
    if b"\\Noselect" not in l:
        got.add(name)
say(got == want, "LIST shows the converted folders %s" % sorted(want))
if got != want:
    print("got %s" % sorted(got))
typ, data = m.status("INBOX", "(MESSAGES UIDVALIDITY)")
st = data[0].decode()
say("UIDVALIDITY %s" % uidvalidity in st and
    "MESSAGES %d" % len(uids) in st,
    "INBOX has UIDVALIDITY %s and %d messages" % (uidvalidity, len(uids)))
if "UIDVALIDITY %s" % uidvalidity not in st:
    print("got %s" % st)
m.select("INBOX", readonly=True)
typ, data = m.fetch("1", "(UID)")
say(typ == "OK" and b"UID %s)" % uids[0].encode() in data[0],
    "INBOX message 1 has UID %s" % uids[0])
m.logout()
EOF
fi

# POP3: the package's protocol on; the cutover unit keeps it and gives
# UW's UIDLs.  A restart, not a reload: 2.4.1 cannot start a service that
# a reload adds (srv.pop3-login: "No such file or directory").
stop
pport=$(free_port)
iport=$(free_port)
cat >"$sb/dovecot/conf.d/00-pop3.conf" <<EOF
protocols = imap pop3
service pop3-login {
  inet_listener pop3 {
    listen = 127.0.0.1
    port = $pport
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
check "sandbox: dovecot-conf undo" "$prog" dovecot-conf undo \
    --config "$sb/mbox2dovecot.conf" --no-reload
check "sandbox: dovecot-conf apply, normal port $iport, pop3 on" \
    "$prog" dovecot-conf apply --config "$sb/mbox2dovecot.conf" \
    --no-reload --dovecot-conf "$sconf" $tools --normal-ports \
    --imap-port $iport --imaps-port 0
if serve "$iport"; then
	tap_lines python3 - "$pport" "$maildir" <<'EOF'
import os, poplib, sys

port, maildir = int(sys.argv[1]), sys.argv[2]
with open(os.path.join(maildir, "dovecot-uidlist")) as f:
    lines = f.read().splitlines()
uidvalidity = int([w[1:] for w in lines[0].split() if w.startswith("V")][0])
uid = int(lines[1].split()[0])
want = "%08x%08x" % (uidvalidity, uid)   # UW's ipop3d
p = poplib.POP3("127.0.0.1", port)
p.user("alice")
p.pass_("sandbox")
got = p.uidl(1).decode().split()[-1]
print(("ok " if got == want else "not ok ") +
      "POP3: UIDL of message 1 is UW's %s" % want)
if got != want:
    print("got %s" % got)
p.quit()
EOF
fi
stop

# ---- UW-IMAP's folder names served by 2.4 (issue 21) ----
# the test of the 2.3 run, its Dovecot and dovecot-conf's tools the 2.4
tap_prefix="issue 21, Dovecot 2.4: "
tap_lines env M2D_DOVECOT_BINDIR="$W/bin" M2D_TOP="$top" \
    BUILD="${BUILD:-build}" python3 "$top/tests/integration/test-uw-names.py"
tap_prefix=

# ---- the runbook, steps 0 to 22, on a sandbox of its own ----
rb=$W/rb
check "runbook: a sandbox with its Dovecot 2.4 running" \
    env PATH="$W/bin:$PATH" "$prog" sandbox "$rb"
env PATH="$W/bin:$PATH" "$prog" --config "$rb/mbox2dovecot.conf" \
    --batch --yes >"$W/runbook.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^steps 0 to 22 done' "$W/runbook.out"; then
	ok "runbook: --batch --yes, steps 0 to 22 done with Dovecot 2.4"
else
	not_ok "runbook: --batch --yes, steps 0 to 22 done with" \
	    "Dovecot 2.4 (exit $rc)"
	tail -n 30 "$W/runbook.out" | sed 's/^/#   /'
fi
"$prog" sandbox --stop "$rb" >/dev/null 2>&1

echo "1..$n"
[ $failed = 0 ]
