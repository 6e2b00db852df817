#!/bin/sh
# The documentation keeps up with the code: every setting of src/config.c
# is in mbox2dovecot.conf(5) and in the sample configuration, every
# command of src/main.c's table and every long option of the commands is
# in mbox2dovecot(1).  (make check-man lints the pages themselves.)
set -u
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
ok() {	# CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
t=$(mktemp -d /tmp/m2d-docs.XXXXXX)
trap 'rm -rf "$t"' EXIT INT TERM
man1=$top/man/mbox2dovecot.1
man5=$top/man/mbox2dovecot.conf.5
sample=$top/mbox2dovecot.conf.sample

# the settings: CFG_*("name", ...) and SYS_STR("name", ...)
sed -n 's/.*\(CFG_[A-Z_]*\|SYS_STR\)("\([a-z0-9_]*\)".*/\2/p' \
	"$top/src/config.c" | sort -u >"$t/settings"
[ "$(wc -l <"$t/settings")" -gt 40 ]
ok $? "found the settings in src/config.c ($(wc -l <"$t/settings"))"
: >"$t/missing5"
: >"$t/missings"
while read -r s; do
	grep -q "^\.It Cm $s\( \|$\)\|Cm $s Li\|^\.It Cm .*, $s\( \|,\|$\)" \
		"$man5" || echo "$s" >>"$t/missing5"
	grep -q "^#[[:space:]]*$s\( = \| [a-z-]* {\)" "$sample" ||
		echo "$s" >>"$t/missings"
done <"$t/settings"
[ ! -s "$t/missing5" ]
ok $? "every setting is in mbox2dovecot.conf(5) $(tr '\n' ' ' <"$t/missing5")"
[ ! -s "$t/missings" ]
ok $? "every setting is in the sample $(tr '\n' ' ' <"$t/missings")"

# the commands of main.c's table
sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", cmd_.*/\1/p' "$top/src/main.c" \
	>"$t/commands"
: >"$t/missing1"
while read -r c; do
	grep -q "Cm .*$c" "$man1" || echo "$c" >>"$t/missing1"
done <"$t/commands"
[ -s "$t/commands" ] && [ ! -s "$t/missing1" ]
ok $? "every command is in mbox2dovecot(1) $(tr '\n' ' ' <"$t/missing1")"

# the long options the commands take (their usage texts and getopt tables)
cat "$top"/src/cli-*.c "$top/src/main.c" |
	grep -o '\[--[a-z][a-z-]*\|"--[a-z][a-z-]*\|{ "[a-z][a-z-]*", [a-z_]*argument' |
	sed 's/^\[--//; s/^"--//; s/^{ "//; s/",.*//' | sort -u >"$t/options"
: >"$t/missingo"
while read -r o; do
	grep -q "Fl -$o\b" "$man1" || echo "--$o" >>"$t/missingo"
done <"$t/options"
[ -s "$t/options" ] && [ ! -s "$t/missingo" ]
ok $? "every long option ($(wc -l <"$t/options")) is in mbox2dovecot(1) $(tr '\n' ' ' <"$t/missingo")"
echo "1..$n"
