#!/bin/sh
# SPDX-License-Identifier: MIT
# The documentation keeps up with the code: every setting of src/migrate/config.c
# is in mbox2dovecot.conf(5) and in the sample configuration, every
# command of src/cli/main.c's table and every long option of the commands is
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
	"$top/src/migrate/config.c" | sort -u >"$t/settings"
[ "$(wc -l <"$t/settings")" -gt 40 ]
ok $? "found the settings in src/migrate/config.c ($(wc -l <"$t/settings"))"
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
sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", cmd_.*/\1/p' "$top/src/cli/main.c" \
	>"$t/commands"
: >"$t/missing1"
while read -r c; do
	grep -q "Cm .*$c" "$man1" || echo "$c" >>"$t/missing1"
done <"$t/commands"
[ -s "$t/commands" ] && [ ! -s "$t/missing1" ]
ok $? "every command is in mbox2dovecot(1) $(tr '\n' ' ' <"$t/missing1")"

# the long options the commands take (their usage texts and getopt tables)
# (inside string literals only: "copy[--len]" in code is no option)
cat "$top"/src/cli/cli-*.c "$top/src/cli/main.c" |
	grep -o '"[^"]*"\|{ "[a-z][a-z-]*", [a-z_]*argument' |
	grep -o '\[--[a-z][a-z-]*\|^"--[a-z][a-z-]*\|^{ "[a-z][a-z-]*", [a-z_]*argument' |
	sed 's/^\[--//; s/^"--//; s/^{ "//; s/",.*//' | sort -u >"$t/options"
: >"$t/missingo"
while read -r o; do
	grep -q "Fl -$o\b" "$man1" || echo "--$o" >>"$t/missingo"
done <"$t/options"
[ -s "$t/options" ] && [ ! -s "$t/missingo" ]
ok $? "every long option ($(wc -l <"$t/options")) is in mbox2dovecot(1) $(tr '\n' ' ' <"$t/missingo")"

# gettext: no macro inside a translated literal (xgettext cuts the msgid
# short there and the message is never translated)
python3 - "$top" >"$t/cut" <<'PY'
import glob, re, sys
top = sys.argv[1]
for f in sorted(glob.glob(top + "/src/*/*.c") + glob.glob(top + "/ui/*.c")):
    s = open(f, encoding="utf-8", errors="replace").read()
    for m in re.finditer(r'\b(?:_|N_|ngettext)\(\s*"', s):
        j = m.end() - 1
        while True:
            while s[j].isspace():
                j += 1
            if s[j] == '"':
                k = j + 1
                while s[k] != '"':
                    k += 2 if s[k] == "\\" else 1
                j = k + 1
                continue
            w = re.match(r"[A-Za-z_]\w*", s[j:])
            if w and s[j + len(w.group(0)):].lstrip()[:1] == '"':
                print("%s:%d: %s" % (f[len(top) + 1:],
                                     s.count("\n", 0, m.start()) + 1,
                                     w.group(0)))
                j += len(w.group(0))
                continue
            break
PY
[ ! -s "$t/cut" ]
ok $? "no macro inside a translated literal $(tr '\n' ' ' <"$t/cut")"

# the catalogues against the strings in the sources now: new strings are
# reported (make update-po, then translate), not failed
if command -v xgettext >/dev/null; then
	(cd "$top" && xgettext --keyword=_ --keyword=N_ \
		--keyword=ngettext:1,2 --from-code=UTF-8 --language=C \
		-o "$t/now.pot" src/*/*.c $(ls ui/*.c 2>/dev/null)) 2>/dev/null
	for l in $(cat "$top/po/LINGUAS"); do
		msgmerge --quiet -o "$t/$l.po" "$top/po/$l.po" "$t/now.pot" \
			2>/dev/null &&
			msgfmt --check --statistics -o /dev/null "$t/$l.po" \
			>"$t/stat" 2>&1
		ok $? "po/$l.po merges with the sources' strings"
		if grep -q 'fuzzy\|untranslated' "$t/stat"; then
			n=$((n + 1))
			echo "ok $n # SKIP po/$l.po: $(cat "$t/stat") (make update-po, see po/README)"
		fi
	done
fi
echo "1..$n"
