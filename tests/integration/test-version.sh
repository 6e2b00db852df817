#!/bin/sh
# SPDX-License-Identifier: MIT
# mbox2dovecot --version: the Makefile's version, every Dovecot syntax
# src/host/dovecot-conf.c can write, the libraries and build options, never
# translated.  (test-package.sh checks the packaged program's hardening.)
set -u
BUILD=${BUILD:-build}
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
prog=$top/$BUILD/mbox2dovecot
n=0
ok() {	# CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
t=$(mktemp -d /tmp/m2d-version.XXXXXX)
trap 'rm -rf "$t"' EXIT INT TERM

"$prog" --version >"$t/out" 2>"$t/err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$t/err" ]
ok $? "--version exits 0, nothing on stderr (rc $rc)"
sed 's/^/# /' "$t/out"
ver=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
[ "$(head -n 1 "$t/out")" = "mbox2dovecot $ver" ]
ok $? "the first line is \"mbox2dovecot $ver\", the Makefile's version"
# the names dc_syntax_name() returns, in the enum's order
syn=$(sed -n '/^const char \*dc_syntax_name/,/^}/s/.*return "\([^?"]*\)";.*/\1/p' \
	"$top/src/host/dovecot-conf.c" | sed ':a;N;$!ba;s/\n/, /g')
[ -n "$syn" ] && grep -qx "Dovecot syntaxes: $syn" "$t/out"
ok $? "the Dovecot syntaxes of src/host/dovecot-conf.c: $syn"
grep -Eq '^OpenSSL: OpenSSL [0-9]+\.[0-9].* \(built with OpenSSL [0-9]' "$t/out" &&
	grep -Eq '^ncursesw: ncurses [0-9]+\.[0-9]' "$t/out" &&
	grep -Eq '^NLS: gettext, catalogues in /' "$t/out" &&
	grep -Eq '^sanitizers: (none|[a-z,]+)$' "$t/out" &&
	grep -Eq '^hardening:( [a-z=0-9-]+)*$' "$t/out" &&
	grep -Eq '^compiler: (gcc|clang) [0-9]' "$t/out"
ok $? "OpenSSL, ncursesw, NLS, sanitizers, hardening, compiler lines"
LC_ALL=C.UTF-8 LANGUAGE=de MBOX2DOVECOT_LOCALEDIR=$top/$BUILD/locale \
	"$prog" --version >"$t/de" 2>&1
cmp -s "$t/out" "$t/de"
ok $? "not translated (LANGUAGE=de prints the same)"
