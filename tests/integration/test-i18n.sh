#!/bin/sh
# SPDX-License-Identifier: MIT
# Translations: the command line and the checklist speak German and French
# from the build tree (MBOX2DOVECOT_LOCALEDIR=BUILD/locale), machine-read
# output (JSON, exit codes) is the same in every language, and the sample
# configuration loads.
#
# glibc ignores LANGUAGE when the locale is C or POSIX, so the runs set
# LC_ALL=C.UTF-8 (on every glibc system, also a fresh Debian) and choose
# the language with LANGUAGE alone: de_DE.UTF-8 need not be installed.
set -u
BUILD=${BUILD:-build}
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
prog=$top/$BUILD/mbox2dovecot
localedir=$top/$BUILD/locale
n=0
ok() {	# CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
diag() {	# FILE: shown after a failure
	sed -n '1,15s/^/#   /p' "$1"
}
t=$(mktemp -d /tmp/m2d-i18n.XXXXXX)
trap 'rm -rf "$t"' EXIT INT TERM

# in LANG (en: untranslated)
run() {	# LANG ARGS...: stdout in $t/out.LANG, stderr in $t/err.LANG
	l=$1; shift
	if [ "$l" = en ]; then
		env -u LANGUAGE LC_ALL=C.UTF-8 "$prog" "$@" \
			>"$t/out.$l" 2>"$t/err.$l"
	else
		env LC_ALL=C.UTF-8 LANGUAGE="$l" \
			MBOX2DOVECOT_LOCALEDIR="$localedir" "$prog" "$@" \
			>"$t/out.$l" 2>"$t/err.$l"
	fi
}

for l in de fr; do
	[ -f "$localedir/$l/LC_MESSAGES/mbox2dovecot.mo" ]
	ok $? "make built $BUILD/locale/$l/LC_MESSAGES/mbox2dovecot.mo"
done

# ---- the command line: --help, an unknown command, a usage error
run de --help
rc=$?
[ $rc -eq 0 ] && grep -q '^Aufruf: ' "$t/out.de" &&
	grep -q '^Befehle:' "$t/out.de" &&
	grep -q 'eine mbox in einen Maildir-Ordner umwandeln' "$t/out.de"
r=$?
ok $r "--help in German"
[ $r -eq 0 ] || diag "$t/out.de"
run fr --help
grep -q '^usage : ' "$t/out.fr" && grep -q '^commandes :' "$t/out.fr" &&
	grep -q 'convertir une mbox en un dossier maildir' "$t/out.fr"
ok $? "--help in French"
run en --help
grep -q '^usage: ' "$t/out.en" && grep -q '^commands:' "$t/out.en" &&
	grep -q 'convert one mbox into one maildir folder' "$t/out.en"
ok $? "--help in English without LANGUAGE"

run de no-such-command
rc=$?
[ $rc -eq 2 ] && grep -q 'unbekannter Befehl: no-such-command' "$t/err.de"
ok $? "an unknown command: German message, exit 2 as in English"
run fr no-such-command
rc=$?
[ $rc -eq 2 ] && grep -q 'commande inconnue : no-such-command' "$t/err.fr"
ok $? "an unknown command: French message, exit 2"

run de convert
rc=$?
[ $rc -eq 2 ] && grep -q '^Aufruf: .* convert MBOX MAILDIR' "$t/err.de"
ok $? "convert without arguments: German usage, exit 2"

run de --version
run en --version
cmp -s "$t/out.de" "$t/out.en"
ok $? "--version is not translated"

# ---- the runbook's steps (what the wizard shows), with a fresh work dir
printf 'work_dir = "%s/rbwork"\n' "$t" >"$t/rb.conf"
run de --status --config "$t/rb.conf"
rc=$?
[ $rc -eq 0 ] && grep -q '^> *0  Prüfungen vor der Migration  *offen' "$t/out.de" &&
	grep -q '^ *22  Abschlussbericht' "$t/out.de"
r=$?
ok $r "--status: the runbook's steps in German"
[ $r -eq 0 ] || diag "$t/out.de"
run fr --status --config "$t/rb.conf"
grep -q '^> *0  Vérifications préalables  *en attente' "$t/out.fr"
ok $? "--status: the runbook's steps in French"

# ---- the checklist on a tiny spool
mkdir -p "$t/spool" "$t/home/alice/mail" "$t/work" "$t/scratch" \
	"$t/root/etc" "$t/postfix"
printf 'From bob@example.org Tue Nov  9 10:11:12 2004\nSubject: hi\n\nhello\n\n' \
	>"$t/spool/alice"
cp "$t/spool/alice" "$t/home/alice/mail/work"
printf 'mail_spool_directory = /var/mail\n' >"$t/postfix/main.cf"
: >"$t/empty.conf"
set -- --spool "$t/spool" --homes "$t/home" --target "$t/target" \
	--work "$t/work" --users alice --dovecot-conf "$t/no-dovecot.conf" \
	--postfix-dir "$t/postfix" --root "$t/root" --scratch "$t/scratch" \
	--test-port 127.0.0.1:1
run en check --config "$t/empty.conf" "$@"
rc_en=$?
run de check --config "$t/empty.conf" "$@"
rc_de=$?
[ $rc_de -eq $rc_en ] && [ $rc_de -le 2 ] &&
	grep -q '^Quellen$' "$t/out.de" && grep -q '^Ziel$' "$t/out.de" &&
	grep -q 'Zu migrierende Mail: 1 Benutzer, 2 Ordner' "$t/out.de" &&
	grep -Eq 'bestanden, [0-9]+ Warnung(en)?, .* fehlgeschlagen' "$t/out.de"
r=$?
ok $r "check in German (exit $rc_de, English $rc_en)"
[ $r -eq 0 ] || diag "$t/out.de"
run fr check --config "$t/empty.conf" "$@"
rc_fr=$?
[ $rc_fr -eq $rc_en ] && grep -q '^Cible$' "$t/out.fr" &&
	grep -q 'Courrier à migrer: 1 utilisateurs, 2 dossiers' "$t/out.fr" &&
	grep -Eq 'réussis, [0-9]+ avertissements?' "$t/out.fr"
r=$?
ok $r "check in French (exit $rc_fr)"
[ $r -eq 0 ] || diag "$t/out.fr"
! grep -q 'Quellen\|Cible' "$t/out.en" && grep -q '^Sources$' "$t/out.en"
ok $? "check in English without LANGUAGE"

# JSON is machine-read: the same bytes in every language (the measured
# times and rates vary between runs: digits are masked)
for l in en de fr; do
	run "$l" check --format json --config "$t/empty.conf" "$@"
	echo $? >"$t/rc.$l"
	sed 's/[0-9][0-9]*/N/g' "$t/out.$l" >"$t/json.$l"
done
[ -s "$t/json.en" ] && cmp -s "$t/json.en" "$t/json.de" &&
	cmp -s "$t/rc.en" "$t/rc.de"
ok $? "check --format json: German output and exit code as in English"
cmp -s "$t/json.en" "$t/json.fr" && cmp -s "$t/rc.en" "$t/rc.fr"
ok $? "check --format json: French output and exit code as in English"
! grep -q 'Ziel\|Cible\|Nachrichten' "$t/out.de" "$t/out.fr"
ok $? "no translated text in the JSON"

# ---- the sample configuration loads, as shipped and with every setting
# uncommented (its defaults are valid values)
sample=$top/mbox2dovecot.conf.sample
sed 's/^#\([^ #]\)/\1/' "$sample" >"$t/uncommented.conf"
grep -q '^spool_dir = ' "$t/uncommented.conf" &&
	grep -q '^service uw-imap {' "$t/uncommented.conf"
ok $? "uncommenting the sample gives settings"
for c in "$sample" "$t/uncommented.conf"; do
	run en check --format json --config "$c" "$@"
	rc=$?
	[ $rc -le 2 ] && ! grep -q 'bad command line or configuration' \
		"$t/out.en" && [ ! -s "$t/err.en" ]
	r=$?
	ok $r "check loads $(basename "$c") (exit $rc)"
	[ $r -eq 0 ] || diag "$t/err.en"
done
printf 'spool_dir = "/x"\nno_such_setting = 1\n' >"$t/bad.conf"
run en check --format json --config "$t/bad.conf" "$@"
[ $? -eq 3 ] && grep -q 'bad command line or configuration' "$t/out.en"
ok $? "a bad configuration is told apart (exit 3)"

echo "1..$n"
