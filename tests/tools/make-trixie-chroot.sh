#!/bin/sh
# SPDX-License-Identifier: MIT
# make-trixie-chroot.sh [DIR] - build a Debian 13 (trixie) chroot with
# Dovecot 2.4 for tests/tools/check-dovecot24.sh.
#
# Debian 12 ships Dovecot 2.3, but mbox2dovecot also writes 2.4 syntax;
# only a real 2.4 doveconf can tell whether that output is right, and
# trixie is the nearest place to get one.  Needs root and debootstrap
# (apt-get install -y debootstrap); about 200 MB and a few minutes.
#
#   DIR      where to build (default $M2D_DOVECOT24_ROOT, else
#            /var/tmp/m2d-trixie); never inside the source tree
#   MIRROR   the Debian mirror (default http://deb.debian.org/debian)
set -eu

root=${1:-${M2D_DOVECOT24_ROOT:-/var/tmp/m2d-trixie}}
mirror=${MIRROR:-http://deb.debian.org/debian}
pkgs=dovecot-core,dovecot-imapd,dovecot-pop3d

if [ "$(id -u)" != 0 ]; then
	echo "make-trixie-chroot.sh: needs root (debootstrap, chroot)" >&2
	exit 1
fi
command -v debootstrap >/dev/null 2>&1 || {
	echo "make-trixie-chroot.sh: apt-get install -y debootstrap" >&2
	exit 1
}

# A finished chroot is kept: rebuilding it costs minutes for nothing.
if [ -x "$root/usr/sbin/dovecot" ]; then
	echo "make-trixie-chroot.sh: $root already has Dovecot:" \
	    "$(chroot "$root" dovecot --version)"
	exit 0
fi

mkdir -p "$root"
# --variant=minbase keeps it small; the packages' postinst may try to
# start Dovecot and fail without systemd, which does not matter: only
# the binaries and the stock /etc/dovecot are used.
debootstrap --variant=minbase --include="$pkgs" trixie "$root" "$mirror"
# doveconf reads the mount table ("setmntent(/etc/mtab) failed" without)
[ -e "$root/etc/mtab" ] || ln -s ../proc/self/mounts "$root/etc/mtab"
echo "make-trixie-chroot.sh: $root: Dovecot $(chroot "$root" dovecot --version)"
