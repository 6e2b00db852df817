#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layers.sh - the build stops on an include that points up
#
# The layers of src/, lowest first: lib, format, migrate, host, runbook;
# then cli and ui/ on top.  A file may include the headers of its own
# layer and of the layers below it.  A private header's layer is its
# folder's; a public header include/NAME.h belongs to the layer whose
# folder holds NAME.c (m2d-error.h: lib, for error.c; runbook.h: runbook).
# Prints every include that points up as FILE:LINE and exits 1 if any.
cd "${1:-.}" || exit 2
ls src/*/*.c src/*/*.h ui/*.h 2>/dev/null | awk -F/ '
	{ name = $NF; dir = ($1 == "ui") ? "ui" : $2
	  if (name ~ /\.h$/) print name, dir
	  else { sub(/\.c$/, ".h", name); print name, dir } }
	END { print "m2d-error.h lib"; print "m2d-config.h migrate" }' \
	>"${TMPDIR:-/tmp}/m2d-layers.$$"
grep -n '^#[[:space:]]*include[[:space:]]*"' src/*/*.[ch] ui/*.[ch] \
	include/*.h /dev/null |
awk -v map="${TMPDIR:-/tmp}/m2d-layers.$$" '
	BEGIN {
		n = split("lib format migrate host runbook cli", l, " ")
		for (i = 1; i <= n; i++) rank[l[i]] = i
		rank["ui"] = n
		while ((getline line < map) > 0) {
			split(line, f, " ")
			if (!(f[1] in of)) of[f[1]] = f[2]
		}
	}
	{
		split($0, p, ":")
		file = p[1]; lineno = p[2]
		h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
		if (file ~ /^include\//) {
			b = file; sub(/^include\//, "", b)
			fl = of[b]
		} else if (file ~ /^ui\//) {
			fl = "ui"
		} else {
			split(file, q, "/"); fl = q[2]
		}
		if (!(h in of)) {
			printf "%s:%s: %s: a header of no layer\n", file, lineno, h
			bad = 1
		} else if (fl == "" || !(fl in rank)) {
			printf "%s:%s: %s has no layer (no src/*/%s.c)\n", file, lineno, file, b
			bad = 1
		} else if (rank[of[h]] > rank[fl]) {
			printf "%s:%s: %s (%s) includes %s of %s, a layer above\n", file, lineno, file, fl, h, of[h]
			bad = 1
		}
	}
	END { exit bad }' >&2
rc=$?
rm -f "${TMPDIR:-/tmp}/m2d-layers.$$"
exit $rc
