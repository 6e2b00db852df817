#!/bin/sh
# SPDX-License-Identifier: MIT
# The dovecot-conf and postfix-conf commands on copies of the real
# configurations, checked with the real doveconf and postconf: preview
# changes nothing, apply gives the settings, undo is byte-identical; the
# tools and directories come from mbox2dovecot.conf, as for the runbook.
set -u
BUILD=${BUILD:-build}
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
prog=$top/$BUILD/mbox2dovecot
n=0
ok() {	# CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
if ! command -v doveconf >/dev/null || ! command -v postconf >/dev/null; then
	echo "ok 1 # SKIP doveconf or postconf not installed"
	exit 0
fi
t=$(mktemp -d /tmp/m2d-config-cmds.XXXXXX)
trap 'rm -rf "$t"' EXIT INT TERM
empty=$t/empty.conf
: >"$empty"

# ---- Dovecot: a copy of the installed Debian-layout configuration
cp -a /etc/dovecot "$t/dovecot"
cp -a "$t/dovecot" "$t/dovecot.orig"
D="$prog dovecot-conf --config $empty --dovecot-conf $t/dovecot/dovecot.conf --target $t/mail --work $t/work --no-reload"
$D preview --listen 127.0.0.1:10143 >"$t/diff" 2>"$t/err"
ok $? "dovecot-conf preview runs"
grep -q "mail_location = maildir:$t/mail/%u" "$t/diff"
ok $? "the preview shows the mail location for the target"
diff -r "$t/dovecot" "$t/dovecot.orig" >/dev/null && [ ! -e "$t/work" ]
ok $? "preview changed nothing"
$D apply --listen 127.0.0.1:10143 >/dev/null 2>"$t/err"
ok $? "dovecot-conf apply (validated by doveconf) $(head -c 200 "$t/err")"
[ "$(doveconf -c "$t/dovecot/dovecot.conf" -h mail_location)" = "maildir:$t/mail/%u" ]
ok $? "doveconf reads our mail_location"
[ "$(doveconf -c "$t/dovecot/dovecot.conf" -h service/imap-login/inet_listener/imap/port)" = 10143 ]
ok $? "doveconf reads the test port 10143"
$D apply --normal-ports >/dev/null 2>"$t/err"
ok $? "dovecot-conf apply --normal-ports"
[ "$(doveconf -c "$t/dovecot/dovecot.conf" -h service/imap-login/inet_listener/imap/port)" = 143 ]
ok $? "after the cutover edit the port is 143"
$D undo >/dev/null 2>"$t/err"
ok $? "dovecot-conf undo"
diff -r "$t/dovecot" "$t/dovecot.orig" >/dev/null
ok $? "undo left the configuration byte-identical"

# ---- Postfix: a config dir with the installed master.cf and a main.cf
mkdir "$t/postfix"
cp /etc/postfix/master.cf "$t/postfix/"
printf 'compatibility_level = 3.6\nmail_spool_directory = /var/mail\n' >"$t/postfix/main.cf"
cp "$t/postfix/main.cf" "$t/main.cf.orig"
P="$prog postfix-conf --config $empty --postfix-dir $t/postfix --target $t/mail --work $t/pwork"
$P preview >"$t/pdiff" 2>"$t/err"
ok $? "postfix-conf preview runs"
grep -q "^+mail_spool_directory = $t/mail/" "$t/pdiff" && cmp -s "$t/postfix/main.cf" "$t/main.cf.orig"
ok $? "the preview shows the maildir spool (trailing slash) and changes nothing"
$P apply >/dev/null 2>"$t/err"
ok $? "postfix-conf apply (postfix check passed) $(head -c 200 "$t/err")"
[ "$(postconf -c "$t/postfix" -h mail_spool_directory)" = "$t/mail/" ]
ok $? "postconf reads mail_spool_directory = $t/mail/"
$P undo >/dev/null 2>"$t/err"
ok $? "postfix-conf undo"
cmp -s "$t/postfix/main.cf" "$t/main.cf.orig"
ok $? "undo left main.cf byte-identical"

# the delivery hold, with reload and flush pointed at a recorder
rec=$t/calls
printf '#!/bin/sh\necho "$@" >>%s\n' "$rec" >"$t/record"
chmod +x "$t/record"
$P apply --hold --postfix "$t/record" --postqueue "$t/record" >/dev/null 2>"$t/err"
ok $? "postfix-conf apply --hold"
[ "$(postconf -c "$t/postfix" -h defer_transports)" = local ] && grep -q reload "$rec"
ok $? "held: defer_transports = local, Postfix reloaded"
$P undo --release --postfix "$t/record" --postqueue "$t/record" >/dev/null 2>"$t/err"
ok $? "postfix-conf undo --release"
[ -z "$(postconf -c "$t/postfix" -h defer_transports)" ] && grep -q -- "-f" "$rec"
ok $? "released: defer_transports cleared, queue flushed"
cmp -s "$t/postfix/main.cf" "$t/main.cf.orig"
ok $? "after the release main.cf is byte-identical"

# the command line reads Postfix's settings from mbox2dovecot.conf, as the
# runbook does (the options only override them)
cat >"$t/m2d.conf" <<EOC
postfix_config_dir = "$t/postfix"
postfix_command = "$t/record"
postqueue_command = "$t/record"
work_dir = "$t/cwork"
EOC
: >"$rec"
"$prog" postfix-conf apply --hold --config "$t/m2d.conf" >/dev/null 2>"$t/err"
[ "$(postconf -c "$t/postfix" -h defer_transports)" = local ] &&
	grep -q "^-c $t/postfix reload" "$rec" && [ -f "$t/cwork/postfix-hold" ]
ok $? "postfix-conf --hold with only --config: its Postfix dir, commands and work dir $(head -c 200 "$t/err")"
"$prog" postfix-conf undo --release --config "$t/m2d.conf" >/dev/null 2>"$t/err" &&
	cmp -s "$t/postfix/main.cf" "$t/main.cf.orig"
ok $? "and --release with it puts main.cf back"
