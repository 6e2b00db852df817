#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UW's other formats: folders made by UW's own library,
c-client, in mbx, mix and MMDF format, read by c-client and by our
readers (src/format/mbx-reader.c, src/format/mix-reader.c, src/format/mmdf-reader.c),
compared field by field.

For each seeded folder, tools/cclient-make (c-client) creates it
(mail_create "#driver.FMT/NAME"), appends messages with flags, keywords
and dates (mail_append_full), changes flags (mail_setflag_full /
mail_clearflag_full), expunges (alone, so c-client rewrites; and while a
read-only stream holds the folder, so mbx keeps the bytes with only the
expunged bit set and mix keeps them in its data file), and sometimes
opens it read-write (UIDs given, \\Recent cleared) or not.  Then:

  c-client: cclient-make's dump of a copy (it opens read-write and may
  rewrite): count, per message the bytes served, RFC822.SIZE, flags with
  \\Recent, keywords, UID, INTERNALDATE; UIDVALIDITY, UIDNEXT;

  ours: tools/uw-dump on the original, which must be left unchanged
  (bytes and mtime).

0 differences wanted.  A folder whose UIDs c-client found broken (made
here by editing an mbx file and an MMDF file) gets a new UIDVALIDITY
from c-client (the clock) and uid_reset from us: then only the
UIDVALIDITY may differ.  Tenex and mtx files (written here: c-client
makes them empty, and then the mbox driver claims them) must be
recognised by name, as c-client opens them.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_UW_SEED (20061101), M2D_UW_N (24
folders per format), M2D_KEEP=1 keeps the scratch directory.
"""

import base64
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True

from tap import Tap  # noqa: E402

MAKE = os.path.join(TOP, BUILD, "tools", "cclient-make")
DUMP = os.path.join(TOP, BUILD, "tools", "uw-dump")

KEYWORDS = ["Junk", "NonJunk", "$Label1", "$Forwarded", "todo", "Work",
            "a" * 50, "b" * 51, "Later", "x-y.z"]
SYSFLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "\\Deleted"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def message(rnd, n):
    """One message's bytes (LF or CRLF lines, cclient-make sends CRLF)."""
    kind = rnd.randrange(8)
    subj = "Subject: message %d\n" % n
    if kind == 0:
        return (subj + "\n").encode()                     # header only
    if kind == 1:
        return subj.encode()                              # no empty line
    if kind == 2:
        return (subj + "From: a@b\r\n\r\nFrom here\r\n>From there\r\n"
                "\r\n\r\n").encode()
    if kind == 3:
        return (subj + "Content-Type: text/plain; charset=latin1\n\n"
                ).encode() + bytes(range(0x80, 0x100)) + b"\n"
    if kind == 4:
        return (subj + "X-Long: " + "x" * rnd.randrange(900, 5000) +
                "\n\n" + "body\n" * rnd.randrange(1, 400)).encode()
    if kind == 5:
        return (subj + "Status: RO\nX-Keywords: Junk\nX-UID: 7\n\n"
                "UW's headers are mail here\n").encode()
    if kind == 6:
        return (subj + "\nno final newline").encode()
    return (subj + "To: c@d\n\n" + "line %d\n" % n * rnd.randrange(1, 5)
            ).encode()


def date(rnd):
    if rnd.randrange(5) == 0:
        return ""                                         # now
    zone = rnd.choice(["+0000", "+0200", "-0500", "+0530", "-1200",
                       "+1400", "-0000"])
    return "%02d-%s-%04d %02d:%02d:%02d %s" % (
        rnd.randrange(1, 29), rnd.choice(MONTHS), rnd.randrange(1971, 2090),
        rnd.randrange(24), rnd.randrange(60), rnd.randrange(60), zone)


def flags(rnd, declared):
    f = [x for x in SYSFLAGS if rnd.randrange(4) == 0]
    f += [k for k in declared if rnd.randrange(4) == 0]
    return "(" + " ".join(f) + ")" if f else ""


def script(rnd, fmt, name, msgdir, many):
    """The cclient-make commands for one folder.  Which messages are
    \\Deleted is followed, so that the sequence numbers stay right after
    an expunge."""
    lines = ["create\t#driver.%s/%s" % (fmt, name)]
    dele = []
    declared = []
    nmsgs = 0 if rnd.randrange(10) == 0 else (
        rnd.randrange(200, 400) if many else rnd.randrange(1, 25))

    def seqs():
        a = rnd.randrange(1, len(dele) + 1)
        b = rnd.randrange(a, min(len(dele), a + 5) + 1)
        return a, b, ("%d" % a if a == b else "%d:%d" % (a, b))

    for i in range(nmsgs):
        path = os.path.join(msgdir, "%s-%d" % (name, i))
        with open(path, "wb") as f:
            f.write(message(rnd, i))
        fl = flags(rnd, declared)
        lines.append("append\t%s\t%s\t%s\t%s" % (name, fl, date(rnd), path))
        dele.append("\\Deleted" in fl)
        # declare keywords through a flag change (append cannot)
        if rnd.randrange(6) == 0 and len(declared) < len(KEYWORDS):
            kw = KEYWORDS[len(declared)]
            lines.append("set\t%s\t%d\t%s" % (name, len(dele), kw))
            declared.append(kw)
        r = rnd.randrange(12)
        if r in (0, 1) and dele:
            a, b, seq = seqs()
            fl = flags(rnd, declared) or "\\Seen"
            lines.append("%s\t%s\t%s\t%s" % (
                "set" if r == 0 else "clear", name, seq, fl))
            if "\\Deleted" in fl:
                for k in range(a - 1, b):
                    dele[k] = r == 0
        elif r in (2, 3) and dele:
            a, b, seq = seqs()
            lines.append("%s\t%s\t%s" % (
                "expunge" if r == 2 else "held-expunge", name, seq))
            for k in range(a - 1, b):
                dele[k] = True
            dele = [d for d in dele if not d]
        elif r == 4:
            lines.append("touch\t%s" % name)
    return lines


def run_make(home, lines):
    p = subprocess.run([MAKE, home], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=600)
    return p


def compare(ours, theirs, fresh_ok):
    diffs = []
    for key in ("opened", "uidnext") + (() if fresh_ok else ("uidvalidity",)):
        if ours.get(key) != theirs.get(key):
            diffs.append("%s: ours %r, c-client %r" % (
                key, ours.get(key), theirs.get(key)))
    om, tm = ours.get("msgs", []), theirs.get("msgs", [])
    if len(om) != len(tm):
        diffs.append("count: ours %d, c-client %d" % (len(om), len(tm)))
    for i, (a, b) in enumerate(zip(om, tm)):
        for key in ("uid", "flags", "date", "size", "keywords", "data"):
            if a[key] != b[key]:
                va, vb = a[key], b[key]
                if key == "data":
                    va = base64.b64decode(va)[:80]
                    vb = base64.b64decode(vb)[:80]
                diffs.append("message %d %s: ours %r, c-client %r" % (
                    i + 1, key, va, vb))
    if ours.get("log"):
        diffs.append("our reader: %s" % ours["log"])
    return diffs


def snapshot(path):
    """Every file's bytes and mtime below PATH (a file or a directory)."""
    out = {}
    paths = [path] if os.path.isfile(path) else [
        os.path.join(path, n) for n in sorted(os.listdir(path))]
    for p in paths:
        st = os.stat(p)
        with open(p, "rb") as f:
            out[p] = (hashlib.sha256(f.read()).hexdigest(), st.st_mtime_ns)
    return out


def break_uids(path):
    """Make an mbx file's second live message carry the first one's UID
    (c-client: "Invalid UID ... rebuilding UIDs")."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        pos, uids = 2048, []
        while pos < len(data) and len(uids) < 2:
            end = data.index(b"\r\n", pos)
            line = bytes(data[pos:end])
            size = int(line.split(b",")[1].split(b";")[0])
            uids.append(end - 8)
            pos = end + 2 + size
        if len(uids) < 2:
            return False
        data[uids[1]:uids[1] + 8] = data[uids[0]:uids[0] + 8]
        f.seek(0)
        f.write(data)
    return True


def break_mmdf_uids(path):
    """Make an MMDF file's second X-UID repeat the first one's."""
    with open(path, "rb") as f:
        data = f.read()
    found = [m for m in re.finditer(rb"\nX-UID: (\d+)\n", data)]
    if len(found) < 2:
        return False
    a, b = found[0], found[1]
    data = data[:b.start(1)] + a.group(1) + data[b.end(1):]
    with open(path, "wb") as f:
        f.write(data)
    return True


def main():
    tap = Tap()
    if not os.path.exists("/usr/include/c-client/c-client.h"):
        print("1..0 # SKIP libc-client2007e-dev not installed")
        return 0
    if not (os.access(MAKE, os.X_OK) and os.access(DUMP, os.X_OK)):
        print("1..0 # SKIP %s or %s not built" % (MAKE, DUMP))
        return 0
    seed = int(os.environ.get("M2D_UW_SEED", "20061101"))
    n = int(os.environ.get("M2D_UW_N", "24"))
    rnd = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="m2d-uw-")
    tap.note("seed %d, %d folders per format, in %s" % (seed, n, tmp))
    try:
        home = os.path.join(tmp, "home")
        copy = os.path.join(tmp, "copy")
        msgdir = os.path.join(tmp, "msgs")
        for d in (home, msgdir):
            os.makedirs(d)
        names = []
        lines = []
        for fmt in ("mbx", "mix", "mmdf"):
            for i in range(n):
                name = "%s%02d" % (fmt, i)
                lines += script(rnd, fmt, name, msgdir, i == 1)
                names.append((fmt, name))
        # big ones: mix rolls to a new data file past 1 MiB
        for fmt in ("mbx", "mix"):
            name = fmt + "-big"
            lines.append("create\t#driver.%s/%s" % (fmt, name))
            for i in range(14):
                path = os.path.join(msgdir, "%s-%d" % (name, i))
                with open(path, "wb") as f:
                    f.write(b"Subject: big %d\n\n" % i +
                            (b"%06d " % i + b"y" * 72 + b"\n") * 1300)
                lines.append("append\t%s\t(\\Seen)\t%s\t%s" % (
                    name, date(rnd) or "01-Feb-2003 04:05:06 +0100", path))
                if i == 9:
                    lines.append("held-expunge\t%s\t3:4" % name)
            names.append((fmt, name))
        # MMDF as c-client makes it; tenex and mtx by hand (c-client
        # creates them empty, and an empty file is an mbox to it)
        lines.append("create\t#driver.mmdf/mmdf-made")
        path = os.path.join(msgdir, "mmdf-made")
        with open(path, "wb") as f:
            f.write(b"Subject: x\n\nbody\n")
        lines.append("append\tmmdf-made\t(\\Seen)\t\t%s" % path)
        for fmt, nl in (("tenex", b"\n"), ("mtx", b"\r\n")):
            body = b"Subject: x" + nl + nl + b"body" + nl
            with open(os.path.join(home, fmt + "-made"), "wb") as f:
                f.write(b" 7-Dec-2026 10:00:00 +0200,%d;000000000001" %
                        len(body) + nl + body)
        p = run_make(home, lines)
        if not tap.ok(p.returncode == 0, "c-client made %d folders" %
                      (len(names) + 3), p.stdout[-2000:] + p.stderr[-2000:]):
            return tap.done()
        # one mbx file whose UIDs c-client finds broken
        broken = None
        for fmt, name in names:
            if fmt == "mbx" and break_uids(os.path.join(home, name)):
                broken = name
                break
        datafiles = [n for n in os.listdir(os.path.join(home, "mix-big"))
                     if n.startswith(".mix") and n not in (
                         ".mixmeta", ".mixindex", ".mixstatus")]
        tap.ok(len(datafiles) > 1, "mix-big spans %d data files" %
               len(datafiles))
        broken_mmdf = None
        for fmt, name in names:
            if fmt == "mmdf" and break_mmdf_uids(os.path.join(home, name)):
                broken_mmdf = name
                break
        tap.ok(broken_mmdf is not None, "an MMDF file with a repeated X-UID")
        shutil.copytree(home, copy, symlinks=True)
        before = {name: snapshot(os.path.join(home, name))
                  for fmt, name in names}
        p = run_make(copy, ["dump\t%s" % name for fmt, name in names])
        theirs = [json.loads(x) for x in p.stdout.splitlines()
                  if x.startswith("{")]
        tap.ok(len(theirs) == len(names), "c-client dumped every folder",
               p.stderr[-2000:])
        total = {"mbx": [0, 0, 0], "mix": [0, 0, 0], "mmdf": [0, 0, 0]}
        for (fmt, name), them in zip(names, theirs):
            q = subprocess.run([DUMP, os.path.join(home, name)],
                               capture_output=True, text=True, timeout=120)
            try:
                ours = json.loads(q.stdout)
            except ValueError:
                ours = {"log": q.stdout + q.stderr}
            ours["name"] = name
            diffs = compare(ours, them, name == broken or
                            bool(ours.get("uid_reset")))
            if name == broken_mmdf:
                if not ours.get("uid_reset"):
                    diffs.append("uid_reset not reported")
                if "less than" not in them.get("log", ""):
                    diffs.append("c-client did not reset: %s" %
                                 them.get("log"))
            if name == broken:
                diffs += [] if ours.get("uid_reset") else [
                    "uid_reset not reported"]
                if "rebuilding UIDs" not in them.get("log", ""):
                    diffs.append("c-client did not rebuild: %s" %
                                 them.get("log"))
            t = total[fmt]
            t[0] += 1
            t[1] += len(them.get("msgs", []))
            t[2] += len(diffs)
            tap.ok(not diffs, "%s %s: %d messages as c-client shows them%s"
                   % (fmt, name, len(them.get("msgs", [])),
                      " (UIDs rebuilt)" if name in (broken, broken_mmdf)
                      else ""), diffs)
            tap.ok(snapshot(os.path.join(home, name)) == before[name],
                   "%s %s: the source unchanged by our reader" % (fmt, name))
        for fmt, (folders, msgs, diffs) in sorted(total.items()):
            tap.note("%s: %d folders, %d messages, %d differences" %
                     (fmt, folders, msgs, diffs))
        p = run_make(copy, ["dump\t%s-made" % f
                            for f in ("mmdf", "tenex", "mtx")])
        drivers = [json.loads(x).get("driver") for x in p.stdout.splitlines()
                   if x.startswith("{")]
        tap.ok(drivers == ["mmdf", "tenex", "mtx"],
               "c-client opens them as mmdf, tenex, mtx",
               "got %r %s" % (drivers, p.stdout[-1000:]))
        for fmt in ("mmdf", "tenex", "mtx"):
            q = subprocess.run([DUMP, os.path.join(home, fmt + "-made")],
                               capture_output=True, text=True, timeout=60)
            try:
                j = json.loads(q.stdout)
                got = j.get("format") or j.get("driver")
            except ValueError:
                got = q.stdout + q.stderr
            tap.ok(got == fmt, "a folder c-client made as %s is recognised"
                   " by name" % fmt, "got %r" % got)
    finally:
        if os.environ.get("M2D_KEEP"):
            tap.note("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
