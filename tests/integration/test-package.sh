#!/bin/sh
# SPDX-License-Identifier: MIT
# The packages, as an admin installs them: the .deb built by
# dpkg-buildpackage from a copy of the tree (its tracked and new files as
# they are now: the build never writes into the source tree and races no
# other build), checked by lintian, installed into a scratch root with
# dpkg --root, run from there (--version, --help in German, the manual
# pages, a sandbox and the whole runbook with --batch --yes), its
# conffile kept when edited, removed leaving the conffile alone, purged
# leaving nothing; then the RPM built by rpmbuild -bb from a tarball of
# the same copy, its contents checked, installed with rpm --root and run.
#
# dpkg --root, not a chroot: dpkg would run maintainer scripts inside the
# root, which holds no shell or libraries, but the package has none (a
# check below says so; one added later needs a chroot here).  What is
# tested is dpkg's own handling of the files and the conffile; the program
# runs from the root with the host's libraries, which the package's
# Depends name.
#
# Skips when dpkg-buildpackage or debhelper is missing (apt-get install
# debhelper dpkg-dev lintian rpm man-db), the RPM part when rpmbuild is.
set -u
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH=$PATH:/usr/sbin:/sbin
n=0
ok() {	# CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
note() {	# FILE: its last lines as TAP comments
	tail -n "${2:-15}" "$1" | sed 's/^/# /'
}
for c in dpkg-buildpackage dh dpkg-deb; do
	if ! command -v $c >/dev/null; then
		echo "ok 1 # SKIP $c not installed (apt-get install debhelper dpkg-dev)"
		exit 0
	fi
done

ver=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
arch=$(dpkg --print-architecture)
t=$(mktemp -d /tmp/m2d-package.XXXXXX)
chmod 755 "$t"	# the sandbox's Dovecot and man's user go through it
src=$t/mbox2dovecot-$ver
r=$t/root
rpm_pid=
lint_pid=
setsid=
command -v setsid >/dev/null && setsid="setsid -w"
cleanup() {
	if [ -n "$lint_pid" ]; then
		[ -n "$setsid" ] && kill -- "-$lint_pid" 2>/dev/null
		kill "$lint_pid" 2>/dev/null
		wait "$lint_pid" 2>/dev/null
	fi
	if [ -n "$rpm_pid" ]; then
		[ -n "$setsid" ] && kill -- "-$rpm_pid" 2>/dev/null
		kill "$rpm_pid" 2>/dev/null
		wait "$rpm_pid" 2>/dev/null
	fi
	[ -x "$r/usr/bin/mbox2dovecot" ] && [ -d "$t/s" ] &&
		"$r/usr/bin/mbox2dovecot" sandbox --stop "$t/s" >/dev/null 2>&1
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the copy of the tree
mkdir "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# tracked and untracked files, not the ignored (build dirs); a
	# tracked file deleted in the working tree is not copied
	(cd "$top" && git ls-files -z -c -o --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
		tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude='./build*' --exclude=./.git -cf - .) |
		tar -xf - -C "$src"
fi
[ -f "$src/Makefile" ] && [ -f "$src/debian/rules" ] &&
	[ -f "$src/rpm/mbox2dovecot.spec" ] && [ ! -e "$src/build" ]
ok $? "a copy of the source tree without build directories"
# the RPM's tarball, before the .deb's build writes into the copy
mkdir -p "$t/rpm/SOURCES"
tar -C "$t" -czf "$t/rpm/SOURCES/mbox2dovecot-$ver.tar.gz" "mbox2dovecot-$ver"

dver=$(dpkg-parsechangelog -l "$src/debian/changelog" -SVersion)
sver=$(sed -n 's/^Version: *//p' "$src/rpm/mbox2dovecot.spec")
[ "$dver" = "$ver-1" ] && [ "$sver" = "$ver" ]
ok $? "debian/changelog ($dver) and the spec ($sver) have the Makefile's version $ver"

# The packages are built as an admin builds them, whatever make runs
# this test: not with its SANITIZE=, DEVELOPER= or jobserver (make check
# SANITIZE=address,undefined would otherwise package a sanitized binary)
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES SANITIZE DEVELOPER

# ---- the .deb
(cd "$src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
	dpkg-buildpackage -us -uc -b) >"$t/deb.log" 2>&1 </dev/null
rc=$?
deb=$t/mbox2dovecot_$ver-1_$arch.deb
[ $rc -eq 0 ] && [ -f "$deb" ]
ok $? "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"
if [ ! -f "$deb" ]; then
	note "$t/deb.log" 30
	exit 1
fi

# The RPM builds meanwhile: the steps below mostly wait on Dovecot.
if command -v rpmbuild >/dev/null; then
	# --nodeps: the build dependencies are Debian's packages here, not
	# in the rpm database; _tmppath: its scripts in $t, not /var/tmp;
	# setsid: a process group of its own, which cleanup ends whole
	mkdir -p "$t/rpm/tmp"
	$setsid rpmbuild -bb --nodeps --define "_topdir $t/rpm" \
		--define "_tmppath $t/rpm/tmp" "$src/rpm/mbox2dovecot.spec" \
		>"$t/rpm.log" 2>&1 </dev/null &
	rpm_pid=$!
fi

# the hardening flags reached every compilation and the link
cc_lines=$(grep -c -- ' -c -o debian/build/' "$t/deb.log")
hard_lines=$(grep -- ' -c -o debian/build/' "$t/deb.log" |
	grep -- '-D_FORTIFY_SOURCE' | grep -c -- '-fstack-protector-strong')
[ "$cc_lines" -gt 10 ] && [ "$cc_lines" -eq "$hard_lines" ] &&
	grep -- '-o debian/build/mbox2dovecot ' "$t/deb.log" | grep -q -- '-z,now'
ok $? "dpkg-buildflags reach the compiler ($hard_lines of $cc_lines) and the linker"
! grep -q -- '-o debian/build/tests/\|-o debian/build/tools/' "$t/deb.log"
ok $? "the package builds the program, not the tests"

dpkg-deb -c "$deb" >"$t/listing"
awk '{print $6}' "$t/listing" >"$t/contents"
for f in ./usr/bin/mbox2dovecot ./etc/mbox2dovecot.conf \
	./usr/share/man/man1/mbox2dovecot.1.gz \
	./usr/share/man/man5/mbox2dovecot.conf.5.gz \
	./usr/share/locale/de/LC_MESSAGES/mbox2dovecot.mo \
	./usr/share/locale/fr/LC_MESSAGES/mbox2dovecot.mo \
	./usr/share/doc/mbox2dovecot/copyright \
	./usr/share/doc/mbox2dovecot/README.gz; do
	grep -qx "$f" "$t/contents" || echo "missing $f"
done >"$t/missing"
! grep -q etc/mbox2dovecot.conf.sample "$t/contents" && [ ! -s "$t/missing" ]
ok $? "the .deb holds the program, both manual pages, the catalogues, the config, the copyright $(cat "$t/missing")"
dpkg-deb -e "$deb" "$t/control"
[ "$(cat "$t/control/conffiles")" = /etc/mbox2dovecot.conf ] &&
	grep -q '^-rw------- root/root .* ./etc/mbox2dovecot.conf$' "$t/listing"
ok $? "/etc/mbox2dovecot.conf is its one conffile, 0600 root"
ls "$t/control" | grep -Eq '^(pre|post)(inst|rm)$|^config$'
[ $? -ne 0 ]
ok $? "no maintainer scripts (dpkg --root needs none to run in the root)"
depends=$(dpkg-deb -f "$deb" Depends)
suggests=$(dpkg-deb -f "$deb" Suggests)
case $depends in *libconfuse*) ;; *) false ;; esac &&
	case $depends in *libssl*) ;; *) false ;; esac &&
	case $depends in *libncursesw*) ;; *) false ;; esac &&
	[ "$suggests" = "dovecot-core, dovecot-imapd, postfix" ]
ok $? "Depends: $depends; Suggests: $suggests"

# lintian runs meanwhile too; its result is read at the end
lint_pid=
if command -v lintian >/dev/null; then
	$setsid lintian --fail-on error \
		"$t/mbox2dovecot_$ver-1_$arch.changes" \
		>"$t/lintian.log" 2>&1 </dev/null &
	lint_pid=$!
fi

# ---- installed into a scratch root
# Not root: dpkg under fakeroot (the files are then the caller's).
fake=
[ "$(id -u)" -ne 0 ] && command -v fakeroot >/dev/null && fake=fakeroot
mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" \
	"$r/var/lib/dpkg/triggers"
touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
# --force-depends: the libraries are the host's, not in the root's
# database; --log: not into the host's /var/log/dpkg.log
dpkg_r() {
	$fake dpkg --root="$r" --log="$t/dpkg.log" --force-depends \
		--force-confdef --force-confold "$@" </dev/null
}
dpkg_r -i "$deb" >"$t/install.log" 2>&1
rc=$?
ok $rc "dpkg --root ROOT -i installs it"
[ $rc -eq 0 ] || note "$t/install.log"
prog=$r/usr/bin/mbox2dovecot
dpkg --root="$r" -s mbox2dovecot 2>/dev/null >"$t/status"
grep -qx 'Status: install ok installed' "$t/status" &&
	grep -q '^ /etc/mbox2dovecot.conf [0-9a-f]\{32\}$' "$t/status"
ok $? "dpkg knows it installed, with its conffile"

"$prog" --version >"$t/version" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(head -n 1 "$t/version")" = "mbox2dovecot $ver" ] &&
	grep -qx 'Dovecot syntaxes: 0.99, 1.x, 2.0-2.3, 2.4' "$t/version"
ok $? "--version: the version and the Dovecot syntaxes $(head -n 2 "$t/version" | tr '\n' ' ')"
grep -q '^OpenSSL: OpenSSL [0-9]' "$t/version" &&
	grep -q '^ncursesw: ncurses [0-9]' "$t/version" &&
	grep -qx 'NLS: gettext, catalogues in /usr/share/locale' "$t/version" &&
	grep -qx 'sanitizers: none' "$t/version" &&
	grep -q '^hardening: fortify=[1-9] stack-protector-strong' "$t/version"
ok $? "--version: OpenSSL, ncursesw, NLS, no sanitizers, the hardening $(sed -n 's/^hardening: //p' "$t/version")"
sed 's/^/# /' "$t/version"

"$prog" --help >"$t/help" 2>&1
[ $? -eq 0 ] && grep -q '^usage: mbox2dovecot ' "$t/help" &&
	grep -q '^  sandbox ' "$t/help"
ok $? "--help prints the usage and the commands"
LC_ALL=C.UTF-8 LANGUAGE=de MBOX2DOVECOT_LOCALEDIR=$r/usr/share/locale \
	"$prog" --help >"$t/help.de" 2>&1
[ -s "$t/help.de" ] && ! cmp -s "$t/help" "$t/help.de" &&
	grep -q '^  sandbox ' "$t/help.de"
ok $? "--help in German from the installed catalogue: $(head -n 1 "$t/help.de" | cut -c 1-40)"

if command -v man >/dev/null; then
	for p in "1 mbox2dovecot" "5 mbox2dovecot.conf"; do
		# man -M: looked up by name in the root's man tree, as
		# "man mbox2dovecot" would once installed
		LC_ALL=C.UTF-8 MANWIDTH=80 man -M "$r/usr/share/man" $p \
			>"$t/man" 2>"$t/man.err"
		rc=$?
		[ $rc -eq 0 ] && grep -q '^NAME' "$t/man" &&
			grep -q '^SYNOPSIS\|^DESCRIPTION' "$t/man" &&
			[ ! -s "$t/man.err" ]
		ok $? "man $p from the installed pages $(head -c 200 "$t/man.err")"
	done
else
	skip "man not installed (apt-get install man-db)"
fi

# the README's sandbox, and the whole runbook in it, from the installed
# program
"$prog" sandbox "$t/s" >"$t/sandbox.log" 2>&1
rc=$?
ok $rc "mbox2dovecot sandbox DIR (rc $rc)"
[ $rc -eq 0 ] || note "$t/sandbox.log"
if command -v dovecot >/dev/null && command -v postconf >/dev/null; then
	"$prog" --config "$t/s/mbox2dovecot.conf" --batch --yes \
		>"$t/batch.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -qx 'steps 0 to 22 done' "$t/batch.log"
	ok $? "--config DIR/mbox2dovecot.conf --batch --yes runs steps 0 to 22 (rc $rc)"
	[ $rc -eq 0 ] || note "$t/batch.log"
else
	skip "dovecot or postconf not installed: no runbook run"
fi
"$prog" sandbox --stop "$t/s" >/dev/null 2>&1
ok $? "sandbox --stop"

# an admin's edit of the conffile survives a reinstall
echo 'spool_dir = "/srv/spool"   # local edit' >>"$r/etc/mbox2dovecot.conf"
dpkg_r -i "$deb" >"$t/reinstall.log" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '# local edit' "$r/etc/mbox2dovecot.conf" &&
	[ -z "$(find "$r/etc" -name '*.dpkg-*')" ]
ok $? "reinstalled, the edited /etc/mbox2dovecot.conf is kept (rc $rc)"

# removed: nothing left but the conffile; purged: nothing at all
dpkg_r -r mbox2dovecot >"$t/remove.log" 2>&1
rc=$?
left=$(cd "$r" && find . -path ./var -prune -o ! -type d -print)
[ $rc -eq 0 ] && [ "$left" = ./etc/mbox2dovecot.conf ] &&
	[ -z "$(cd "$r" && find . -path ./var -prune -o -type d -empty -print)" ] &&
	dpkg --root="$r" -s mbox2dovecot 2>/dev/null |
	grep -qx 'Status: deinstall ok config-files'
ok $? "dpkg -r removes it all but the conffile (left: $(echo $left))"
dpkg_r -P mbox2dovecot >"$t/purge.log" 2>&1
rc=$?
left=$(cd "$r" && find . -path ./var -prune -o -print)
[ $rc -eq 0 ] && [ "$left" = . ]
ok $? "dpkg -P purges the conffile too (left: $(echo $left))"

# lintian: no errors (warnings are listed as comments)
if [ -n "$lint_pid" ]; then
	wait "$lint_pid"
	rc=$?
	lint_pid=
	ok $rc "lintian reports no errors ($(grep -c '^W:' "$t/lintian.log") warnings)"
	grep '^[EW]:' "$t/lintian.log" | sed 's/^/# /'
else
	skip "lintian not installed"
fi

# ---- the RPM
if [ -n "$rpm_pid" ]; then
	wait "$rpm_pid"
	rc=$?
	rpm_pid=
	rpmf=$(ls "$t"/rpm/RPMS/*/mbox2dovecot-"$ver"-1*.rpm 2>/dev/null |
		grep -v debug | head -n 1)
	[ $rc -eq 0 ] && [ -n "$rpmf" ]
	ok $? "rpmbuild -bb rpm/mbox2dovecot.spec builds $(basename "${rpmf:-nothing}")"
	if [ -n "$rpmf" ]; then
		rpm -qlp "$rpmf" 2>/dev/null >"$t/rpm.list"
		for f in /usr/bin/mbox2dovecot /etc/mbox2dovecot.conf \
			/usr/share/locale/de/LC_MESSAGES/mbox2dovecot.mo \
			/usr/share/locale/fr/LC_MESSAGES/mbox2dovecot.mo; do
			grep -qx "$f" "$t/rpm.list" || echo "missing $f"
		done >"$t/missing"
		grep -q '^/usr/share/man/man1/mbox2dovecot\.1' "$t/rpm.list" &&
			grep -q '^/usr/share/man/man5/mbox2dovecot\.conf\.5' "$t/rpm.list" &&
			grep -q '/README$' "$t/rpm.list" &&
			[ ! -s "$t/missing" ] &&
			rpm -qp --licensefiles "$rpmf" 2>/dev/null | grep -q '/LICENSE$'
		ok $? "the RPM holds the program, the manual pages, the catalogues, README, LICENSE $(cat "$t/missing")"
		# flags: c config, n noreplace
		rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILENAMES}\n]' \
			"$rpmf" 2>/dev/null | grep -qx 'cn -rw------- /etc/mbox2dovecot.conf'
		ok $? "/etc/mbox2dovecot.conf is %config(noreplace), 0600"
		rpm -qpR "$rpmf" 2>/dev/null >"$t/rpm.req"
		grep -q '^libconfuse\.so' "$t/rpm.req" &&
			grep -q '^libssl\.so' "$t/rpm.req" &&
			grep -q '^libncursesw\.so' "$t/rpm.req" &&
			[ "$(rpm -qp --suggests "$rpmf" 2>/dev/null | tr '\n' ' ')" = "dovecot postfix " ]
		ok $? "the RPM requires libconfuse, libssl, libncursesw; suggests dovecot, postfix"
		if [ "$(id -u)" -eq 0 ]; then
			# (Debian's rpm keeps its database in ~/.rpmdb:
			# /var/lib/rpm in the root instead, as on Fedora)
			rr=$t/rpmroot
			rpm_r() {
				rpm --root "$rr" --dbpath /var/lib/rpm "$@" \
					</dev/null
			}
			mkdir -p "$rr"
			rpm_r --initdb &&
				rpm_r -i --nodeps "$rpmf" >"$t/rpm-install.log" 2>&1 &&
				[ "$("$rr/usr/bin/mbox2dovecot" --version | head -n 1)" = "mbox2dovecot $ver" ]
			rc=$?
			ok $rc "rpm --root ROOT -i installs it, and it runs"
			[ $rc -eq 0 ] || note "$t/rpm-install.log"
			echo '# local edit' >>"$rr/etc/mbox2dovecot.conf"
			rpm_r -e mbox2dovecot >"$t/rpm-erase.log" 2>&1
			rc=$?
			left=$(cd "$rr" && find . -path ./var -prune -o ! -type d -print)
			[ $rc -eq 0 ] && [ "$left" = ./etc/mbox2dovecot.conf.rpmsave ]
			ok $? "rpm -e removes it, the edited config kept as .rpmsave (left: $(echo $left))"
		else
			skip "not root: the RPM is not installed"
		fi
	else
		note "$t/rpm.log" 30
	fi
else
	skip "rpmbuild not installed (apt-get install rpm)"
fi
