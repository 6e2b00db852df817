#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The differential test against UW's own library: every folder
of a seeded generator (tests/lib/mboxgen.py) read by c-client, as UW-IMAP
served it, and by us, as Dovecot serves what `mbox2dovecot convert` wrote;
any difference the manual does not list fails.

For each folder:
  c-client (build/tools/cclient-dump --batch: one process for all, on a
  copy, since it may rewrite the file): is it a mailbox (and which driver
  opened it), the count, per message the bytes served (RFC822), RFC822.SIZE,
  flags (and \\Recent), keywords, UID, INTERNALDATE; UIDVALIDITY, UIDNEXT;

  ours (`mbox2dovecot convert MBOX MAILDIR`: tools/convert-batch makes
  the same convert_folder() call for many folders in one process, two at
  a time, and the command itself converts a sample to show they agree):
  converted or refused, then the maildir as Dovecot serves it
  (tests/lib/maildir_check.read_folder): each file's bytes with LF -> CRLF,
  RFC822.SIZE from W= (what Dovecot trusts) or those bytes, the flags from
  the file name (new/ = \\Recent), keywords through dovecot-keywords, UIDs,
  UIDVALIDITY and UIDNEXT through dovecot-uidlist, INTERNALDATE = mtime.

A UIDVALIDITY made up during the run (UW's data missing or reset) is
"fresh" on both sides: c-client takes the clock, we the source's mtime;
otherwise both must be the folder's.

Differences we keep are listed in ACCEPTED, each with the rule that
recognizes exactly it, and in the manual's FIDELITY table (checked here).

Prints TAP.  Env: M2D_TOP, BUILD, M2D_DIFF_SEED (20041109), M2D_DIFF_N
(5000), M2D_DIFF_TZ (Europe/Berlin: a zone with DST), M2D_KEEP=1.
  test-differential.py --minimize FILE   also write every kind of
                                         unexplained difference, minimized,
                                         to FILE
  test-differential.py --folder MBOX     compare one file, print the diffs
"""

import base64
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True

import maildir_check as mc  # noqa: E402
import mboxgen  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
CCLIENT = os.path.join(TOP, BUILD, "tools", "cclient-dump")
BATCH = os.path.join(TOP, BUILD, "tools", "convert-batch")
MAN = os.path.join(TOP, "man", "mbox2dovecot.1")
SEED = os.environ.get("M2D_DIFF_SEED", "20041109")
COUNT = int(os.environ.get("M2D_DIFF_N", "5000"))
ZONE = os.environ.get("M2D_DIFF_TZ", "Europe/Berlin")
JOBS = 2
# c-client mostly waits on its lock files in /tmp: more processes
CC_JOBS = 4
# folders also converted by the convert command itself, to show that
# tools/convert-batch converts as it does
CLI_SAMPLE = 200
# CPU seconds c-client may take for one folder before it counts as
# looping (it takes a millisecond), and again alone for one that did
CC_SECS = 1
CC_SECS_AGAIN = 3

# The differences we keep, by name (also in mbox2dovecot(1), FIDELITY).
ACCEPTED = {
    "zone-less-date":
        "a From_ line without a zone: c-client applies the UTC offset of "
        "the moment it reads the file; we apply the one in force at that "
        "date",
    "cclient-fails":
        "c-client loops forever or crashes on the folder (a bare CR among "
        "the words of X-Keywords or X-IMAP, a NUL among X-IMAP's "
        "keywords): UW-IMAP never showed it; we convert it",
    "uid-reset":
        "UW's UID data is broken (an X-UID that does not go up, is 0 or no "
        "number): c-client makes up a new UIDVALIDITY but keeps counting "
        "after the last UID; we number 1..n (a new UIDVALIDITY makes every "
        "client fetch again either way)",
    "keywords-over-26":
        "a folder has more than 26 keywords: UW held 30, a maildir holds "
        "26 (a-z); the others are counted and reported",
    "keyword-not-atom":
        "a declared keyword that is no IMAP atom (8-bit, space, ( ) { % * "
        "\" \\ ]): Dovecot could not show it; it is dropped and reported",
    "cclient-size":
        "a file that ends without a newline: c-client's RFC822.SIZE is not "
        "the length of the bytes it serves; ours is",
    "recent-with-flags":
        "c-client shows \\Recent on a message that has flags or keywords "
        "(no O in Status); a maildir file in new/ carries no flags, so it "
        "is in cur/, which Dovecot shows \\Recent only to its first "
        "session",
    "cclient-garbage":
        "a message whose header runs to the end of the file: c-client "
        "serves bytes that are not in the file (a space, then NULs); we "
        "serve its header",
    "other-format":
        "c-client opens a file that is no mbox with another driver (phile: "
        "any file as one read-only message; mmdf, mbx, tenex, mtx: UW's "
        "other formats); convert refuses it",
}

# variations each run must have met (tests/lib/mboxgen.py's feature
# names: every way UW's reading was found to differ)
REQUIRED = (["flag-%s-%s" % (h, c) for h in ("Status", "X-Status")
             for c in "RODFAT"] +
            ["keyword-case", "keyword-undeclared", "keywords-over-26",
             "keyword-padding", "keyword-separator", "base-X-IMAP",
             "base-X-IMAPbase", "base-uidvalidity-0", "base-uidvalidity-junk",
             "base-no-uidlast", "base-uidlast-junk", "base-not-first",
             "no-uid-data", "uid-up", "uid-repeat", "uid-down", "uid-0",
             "uid-junk", "uid-beyond-last", "uid-missing",
             "leading-space", "leading-space-no-newline", "eol-lf",
             "eol-crlf", "eol-mixed", "body-bare-cr", "header-only",
             "content-length-right", "content-length-wrong", "from-remote",
             "from-sender-empty", "body-nul", "header-nul",
             "no-final-newline", "no-blank-before-from", "empty-file",
             "not-mbox-text", "not-mbox-mmdf", "not-mbox-mbx",
             "not-mbox-bad-first-from", "not-mbox-binary"] +
            ["from-form-%d%s" % (i, s) for i in range(5)
             for s in ("", "-nosec")] +
            ["near-miss-%d" % i for i in range(28)])

FLAG_OF = {"\\Seen": "R", "\\Answered": "A", "\\Flagged": "F",
           "\\Draft": "T", "\\Deleted": "D"}
CC_FLAGS = "RAFTD"


def crlf(data):
    """What Dovecot serves for a maildir file: bare LF as CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


# ---- our side ----

def convert_all(work, names, env, out="out", cli=False):
    """Each name converted: work/src/N into work/OUT/N, JOBS at a time, as
    `mbox2dovecot convert MBOX MAILDIR` does: by tools/convert-batch (the
    same convert_folder() call in one process per job: 5000 fork+execs
    cost more than the conversions), or with CLI the command itself
    (a shell loop, one fork+exec each).  -> {name: (rc, stderr)}."""
    if cli or not os.access(BATCH, os.X_OK):
        script = ('while read f; do "$0" convert "$1/$f" "$2/$f" '
                  '>/dev/null 2>"$3/$f"; echo "$f\t$?\t"; done')
        argv = ["sh", "-c", script, PROG]
    else:
        argv = [BATCH]
    src, dst = os.path.join(work, "src"), os.path.join(work, out)
    err = os.path.join(work, out + ".err")
    for d in (dst, err):
        os.makedirs(d, exist_ok=True)
    procs = []
    for j in range(JOBS):
        part = names[j::JOBS]
        if argv[0] == BATCH:
            lines = "".join("%s\t%s/%s\t%s/%s\n" % (n, src, n, dst, n)
                            for n in part)
        else:
            lines = "".join(n + "\n" for n in part)
        p = subprocess.Popen(argv + ([src, dst, err] if argv[0] != BATCH
                                     else []),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env)
        procs.append((p, lines))
    res = {}
    for p, lines in procs:
        o, _ = p.communicate(lines.encode())
        for ln in o.decode("utf-8", "replace").splitlines():
            n, rc, msg = ln.split("\t", 2)
            if argv[0] != BATCH:
                with open(os.path.join(err, n), "rb") as f:
                    msg = f.read().decode("utf-8", "replace")
            res[n] = (int(rc), msg)
    return res


def our_view(work, name, rc, err, out="out"):
    """Ours as Dovecot would show it, in cclient-dump's terms."""
    if rc != 0:
        return {"converted": False, "rc": rc, "err": err.strip()}
    f = mc.read_folder(os.path.join(work, out, name))
    msgs = []
    for m in f["messages"]:
        data = crlf(m["data"])
        w = re.search(r",W=(\d+)", m["base"])
        msgs.append({
            "uid": m["uid"],
            "flags": "".join(c for c in CC_FLAGS if any(
                FLAG_OF.get(x) == c for x in m["flags"])) +
            ("N" if m["sub"] == "new" else ""),
            "keywords": sorted(x for x in m["flags"]
                               if x not in FLAG_OF and x[:1] != "("),
            "date": m["mtime"], "size": int(w.group(1)) if w else len(data),
            "data": data})
    return {"converted": True, "nkeywords": len(f["keywords"]),
            "uidvalidity": f["uidvalidity"],
            "uidnext": f["nextuid"], "msgs": msgs,
            "problems": f["problems"] + (["tmp/ not empty"] if f["tmp"]
                                         else []),
            "err": err.strip()}


# ---- c-client's side ----

def cclient_batch(cc, names, env, secs):
    """One cclient-dump --batch over NAMES -> (rc, stderr, [views])."""
    r = subprocess.run([CCLIENT, "--batch", cc, str(secs)], env=env,
                       input="".join(n + "\n" for n in names).encode(),
                       capture_output=True)
    views = []
    for ln in r.stdout.decode("ascii").splitlines():
        v = json.loads(ln)
        for m in v["msgs"]:
            m["data"] = base64.b64decode(m["data"])
            # Latin-1 escapes back to bytes, then as dovecot-keywords is
            # read (UTF-8)
            raw = [k.encode("latin-1") for k in m["keywords"]]
            names = [k.decode("utf-8", "replace") for k in raw]
            m["kwinfo"] = {n: (r, i) for n, r, i in zip(
                names, raw, m.get("kwindex", [0] * len(raw)))}
            m["keywords"] = sorted(names)
        views.append(v)
    return r.returncode, r.stderr.decode("utf-8", "replace"), views


def cclient_part(cc, names, env):
    """cclient-dump --batch over NAMES, in one process unless c-client
    loops or crashes on a folder: then that folder is tried again alone
    with more time, marked {"failed": why} if it fails again, and the
    rest go on.  -> (rc, stderr, {name: view})."""
    out = {}
    todo = list(names)
    rc_all, err_all = 0, ""
    while todo:
        rc, err, views = cclient_batch(cc, todo, env, CC_SECS)
        for v in views:
            out[v["name"]] = v
        todo = todo[len(views):]
        if rc == 0 or not todo:
            if rc != 0:
                rc_all, err_all = rc, err
            break
        bad = todo.pop(0)
        try:        # the dotlock of the process that died
            os.unlink(os.path.join(cc, bad + ".lock"))
        except OSError:
            pass
        rc2, err2, v2 = cclient_batch(cc, [bad], env, CC_SECS_AGAIN)
        if v2:
            out[bad] = v2[0]
        else:
            out[bad] = {"failed": "loops forever" if rc2 == -26 else
                        "dies (exit %d)" % rc2, "stderr": err2[-300:]}
    return rc_all, err_all, out


def cclient_all(work, names, env):
    """-> (rc, stderr, {name: view}) for work/cc/NAMES, CC_JOBS
    processes (c-client waits on its lock files in /tmp more than it
    computes)."""
    cc = os.path.join(work, "cc")
    inodes = [os.stat(os.path.join(cc, n)) for n in names]
    with ThreadPoolExecutor(CC_JOBS) as ex:
        parts = list(ex.map(lambda j: cclient_part(
            cc, names[j::CC_JOBS], env), range(CC_JOBS)))
    # c-client's lock files, /tmp/.DEV.INO, for our copies only
    for st in inodes:
        try:
            os.unlink("/tmp/.%x.%x" % (st.st_dev, st.st_ino))
        except OSError:
            pass
    out = {}
    rc, err = 0, ""
    for r, e, o in parts:
        out.update(o)
        if r != 0:
            rc, err = r, e
    return rc, err, out


# ---- the comparison ----

class Clock:
    """The window in which a fresh UIDVALIDITY is made up."""
    def __init__(self):
        self.t0 = int(time.time()) - 2
        self.t1 = None

    def fresh(self, uv):
        return uv is not None and self.t0 <= uv <= (self.t1 or
                                                    time.time() + 2)


def local_offset(epoch):
    return time.localtime(epoch).tm_gmtoff


def zone_less_ok(cc_date, our_date, nozone, now_offset):
    """c-client read a zone-less From_ line with the offset of now,
    we with the one at that date; nothing else may differ."""
    wall = cc_date + now_offset          # the line's wall-clock time as UTC
    if wall not in nozone:
        return False
    tm = time.gmtime(wall)
    ours = int(time.mktime((tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour,
                            tm.tm_min, tm.tm_sec, 0, 0, -1)))
    return our_date == ours


def compare(cc, ours, info, clock, now_offset, folder=b""):
    """-> ([(kind, text)] unexplained, [accepted names])."""
    diffs, accepted = [], []
    if cc is None:
        return [("cclient-missing", "no c-client output")], accepted
    if "failed" in cc:
        accepted.append("cclient-fails")
        return diffs, accepted
    is_mbox = cc["opened"] and cc["driver"] in ("unix", "dummy")
    # UW's other formats (mbx, mix, mmdf...): when convert reads one, it
    # must show it as c-client does; phile is no format
    if cc["opened"] and cc["driver"] != "phile" and ours["converted"]:
        is_mbox = True
    if not is_mbox:
        if ours["converted"]:
            diffs.append(("not-mailbox-converted", "c-client: %s; we "
                          "converted it (%d messages)" % (
                              "opened with the %s driver" % cc["driver"]
                              if cc["opened"] else "not a mailbox (%s)"
                              % cc["log"], len(ours["msgs"]))))
        elif cc["opened"]:
            accepted.append("other-format")
        return diffs, accepted
    if not ours["converted"]:
        diffs.append(("mailbox-refused", "c-client: a mailbox of %d "
                      "messages; convert exit %d: %s" % (
                          len(cc["msgs"]), ours["rc"], ours["err"])))
        return diffs, accepted
    if ours["problems"]:
        diffs.append(("maildir-problems", "; ".join(ours["problems"][:4])))
    cfresh, ofresh = clock.fresh(cc["uidvalidity"]), \
        clock.fresh(ours["uidvalidity"])
    if cfresh != ofresh or (not cfresh and
                            cc["uidvalidity"] != ours["uidvalidity"]):
        diffs.append(("uidvalidity", "c-client %s%s, ours %s%s" % (
            cc["uidvalidity"], " (new)" if cfresh else "",
            ours["uidvalidity"], " (new)" if ofresh else "")))
    # both made up a new UIDVALIDITY: c-client counts on after the last
    # UID, we number 1..n (uid-reset)
    renumbered = cfresh and ofresh and \
        [m["uid"] for m in ours["msgs"]] == list(
            range(1, len(ours["msgs"]) + 1)) and \
        ours["uidnext"] == len(ours["msgs"]) + 1
    if cc["uidnext"] != ours["uidnext"]:
        if renumbered:
            accepted.append("uid-reset")
        else:
            diffs.append(("uidnext", "c-client %d, ours %s" % (
                cc["uidnext"], ours["uidnext"])))
    if len(cc["msgs"]) != len(ours["msgs"]):
        diffs.append(("count", "c-client %d messages, ours %d" % (
            len(cc["msgs"]), len(ours["msgs"]))))
        return diffs, accepted
    for i, (c, o) in enumerate(zip(cc["msgs"], ours["msgs"]), 1):
        if c["data"] != o["data"] and i == len(cc["msgs"]) and \
                len(c["data"]) > 8 and c["data"][:1] == b" " and \
                not c["data"][1:].strip(b"\x00") and \
                b" " + b"\x00" * 8 not in folder:
            accepted.append("cclient-garbage")
        elif c["data"] != o["data"]:
            diffs.append(("bytes", "message %d: %s" % (
                i, mc.first_diff(c["data"], o["data"]).replace(
                    "want", "c-client").replace("got", "ours"))))
        if c["size"] != o["size"] and c["data"] == o["data"] and \
                c["size"] != len(c["data"]) and o["size"] == len(o["data"]):
            accepted.append("cclient-size")
        elif c["size"] != o["size"] and "cclient-garbage" not in accepted:
            diffs.append(("size", "message %d: RFC822.SIZE c-client %d, "
                          "ours %d" % (i, c["size"], o["size"])))
        cflags = c["flags"]
        if "N" in cflags and "N" not in o["flags"] and \
                (cflags != "N" or c["keywords"]):
            accepted.append("recent-with-flags")
            cflags = cflags.replace("N", "")
        if cflags != o["flags"]:
            diffs.append(("flags", "message %d: c-client %r, ours %r "
                          "(R seen A answered F flagged T draft D deleted "
                          "N recent)" % (i, c["flags"], o["flags"])))
        missing = set(c["keywords"]) - set(o["keywords"])
        extra = set(o["keywords"]) - set(c["keywords"])
        why = set()
        for k in missing:
            raw, idx = c["kwinfo"][k]
            if not is_atom(raw):
                why.add("keyword-not-atom")
            elif idx >= 26 or ours["nkeywords"] >= 26:
                # all 26 letters given: which ones is ours to choose
                why.add("keywords-over-26")
            else:
                why.add(None)
        if missing and not extra and None not in why:
            accepted.extend(sorted(why))
        elif c["keywords"] != o["keywords"]:
            diffs.append(("keywords", "message %d: c-client %s, ours %s" % (
                i, c["keywords"], o["keywords"])))
        if c["uid"] != o["uid"] and renumbered:
            accepted.append("uid-reset")
        elif c["uid"] != o["uid"]:
            diffs.append(("uid", "message %d: c-client %d, ours %d" % (
                i, c["uid"], o["uid"])))
        if c["date"] != o["date"]:
            if zone_less_ok(c["date"], o["date"], info["nozone"],
                            now_offset):
                accepted.append("zone-less-date")
            else:
                diffs.append(("date", "message %d: c-client %d, ours %d "
                              "(%+d s)" % (i, c["date"], o["date"],
                                           o["date"] - c["date"])))
    return diffs, accepted


ATOM_SPECIALS = set(b'(){ %*"\\]')


def is_atom(raw):
    """An IMAP atom (RFC 3501): 7-bit, no CTL, no atom-specials."""
    return bool(raw) and all(0x20 < c < 0x7f and c not in ATOM_SPECIALS
                             for c in raw)


def show_folder(data, limit=1500):
    text = repr(data[:limit])[2:-1]
    return text + ("... (%d bytes)" % len(data) if len(data) > limit else "")


# ---- a run ----

def run_env():
    env = dict(os.environ)
    env["TZ"] = ZONE
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    return env


def scratch_dir():
    for base in ("/dev/shm", os.environ.get("TMPDIR"), "/tmp"):
        if base and os.access(base, os.W_OK):
            try:
                return tempfile.mkdtemp(prefix="m2d-diff.", dir=base)
            except OSError:
                continue
    return tempfile.mkdtemp(prefix="m2d-diff.")


def run_folders(work, folders, clock):
    """FOLDERS: {name: (bytes, info)} -> (results, cc_rc, cc_err, times):
    results {name: (unexplained, accepted)}."""
    env = run_env()
    names = sorted(folders)
    for d in ("src", "cc"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    for n in names:
        for d in ("src", "cc"):
            with open(os.path.join(work, d, n), "wb") as f:
                f.write(folders[n][0])
    # both sides at once: c-client mostly waits on its lock files
    t = time.time()
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(cclient_all, work, names, env)
        conv = convert_all(work, names, env)
        t_ours = time.time() - t
        cc_rc, cc_err, ccv = fut.result()
        t_cc = time.time() - t
    # the command itself on a sample: the same maildirs
    t = time.time()
    sample = names[::max(1, len(names) // CLI_SAMPLE)]
    conv_cli = convert_all(work, sample, env, out="out-cli", cli=True)
    cli_diffs = []
    for n in sample:
        a = our_view(work, n, *conv.get(n, (-1, "not run")))
        b = our_view(work, n, *conv_cli.get(n, (-1, "not run")),
                     out="out-cli")
        for v in (a, b):
            v.pop("err", None)
            v.pop("rc", None)
        if a != b:
            cli_diffs.append("%s: convert-batch %r, convert %r" % (
                n, a, b))
    t_cli = time.time() - t
    clock.t1 = int(time.time()) + 2
    now_offset = local_offset(time.time())
    res = {}
    t = time.time()
    for n in names:
        rc, err = conv.get(n, (-1, "not run"))
        res[n] = compare(ccv.get(n), our_view(work, n, rc, err),
                         folders[n][1], clock, now_offset, folders[n][0])
    t_cmp = time.time() - t
    return res, cc_rc, cc_err, (t_cc, t_ours, t_cmp), \
        (len(sample), cli_diffs, t_cli)


FROM_NOZONE = re.compile(
    rb"^From .* \w{3} (\w{3}) ([ \d]\d) (\d\d):(\d\d)(?::(\d\d))?"
    rb"(?: ([A-Za-z]{3}))? (\d{4})(?: ([A-Za-z]{3}))?"
    rb"(?: remote from \S+)?\r?$")


def nozone_of(data):
    """The From_ lines of DATA without a zone c-client knows, as
    mboxgen's "nozone" (their wall-clock time read as UTC)."""
    out = []
    for ln in data.split(b"\n"):
        m = FROM_NOZONE.match(ln)
        if not m:
            continue
        zone = (m.group(6) or m.group(8) or b"").decode()
        if zone in mboxgen.CCLIENT_ZONES:
            continue
        try:
            out.append(calendar.timegm((
                int(m.group(7)), mboxgen.MONTHS.index(m.group(1).decode())
                + 1, int(m.group(2)), int(m.group(3)), int(m.group(4)),
                int(m.group(5) or 0))))
        except ValueError:
            pass
    return out


def one(data, info=None):
    """Compare one folder's bytes -> (unexplained, accepted)."""
    work = scratch_dir()
    try:
        res, _, _, _, _ = run_folders(work, {"f": (data, info or {
            "features": [], "nozone": nozone_of(data)})}, Clock())
        return res["f"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def minimize(data, info, kind):
    """The fewest lines (then bytes) of DATA that still show a difference
    of KIND."""
    def still(d):
        return any(k == kind for k, _ in one(d, info)[0])

    lines = data.splitlines(keepends=True)
    n = 2
    while len(lines) >= 2:
        chunk = max(1, len(lines) // n)
        reduced = False
        for i in range(0, len(lines), chunk):
            cand = lines[:i] + lines[i + chunk:]
            if cand and still(b"".join(cand)):
                lines = cand
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(n * 2, len(lines))
    return b"".join(lines)


def manual_names():
    try:
        with open(MAN, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"^\.Sh FIDELITY\n(.*?)(?=^\.Sh )", text, re.M | re.S)
    return m.group(1) if m else ""


def main():
    tap = Tap(max_diag=60)
    os.environ["TZ"] = ZONE         # zone-less-date computes with it
    time.tzset()
    if "--folder" in sys.argv:
        path = sys.argv[sys.argv.index("--folder") + 1]
        with open(path, "rb") as f:
            d, a = one(f.read())
        for k, t in d:
            print("%s: %s" % (k, t))
        print("accepted: %s" % a)
        return 1 if d else 0
    if not os.path.exists("/usr/include/c-client/c-client.h"):
        tap.skip("libc-client2007e-dev not installed: no differential "
                 "test against UW's c-client")
        return tap.done()
    built = [p for p in (PROG, BATCH, CCLIENT) if os.access(p, os.X_OK)]
    if len(built) != 3:
        tap.ok(False, "built: %s, %s, %s" % (PROG, BATCH, CCLIENT),
               ["run make first (BUILD=%s)" % BUILD])
        return tap.done()
    t_start = time.time()
    work = scratch_dir()
    try:
        clock = Clock()
        folders = {}
        features = {}
        for i in range(COUNT):
            data, info = mboxgen.folder(SEED, i)
            folders["f%05d" % i] = (data, info)
            for ft in info["features"]:
                features[ft] = features.get(ft, 0) + 1
        t_gen = time.time() - t_start
        rare = [ft for ft in REQUIRED if features.get(ft, 0) < 3]
        tap.ok(len(folders) == COUNT and (not rare or COUNT < 5000),
               "%d folders generated (seed %s, %d variations, each of "
               "the required ones at least 3 times, %.1f s)"
               % (COUNT, SEED, len(features), t_gen),
               ["met fewer than 3 times: %s" % rare])
        res, cc_rc, cc_err, (t_cc, t_ours, t_cmp), \
            (n_cli, cli_diffs, t_cli) = run_folders(work, folders, clock)
        tap.ok(cc_rc == 0, "c-client read them, %d processes (%.1f s)"
               % (CC_JOBS, t_cc), cc_err.splitlines()[-5:])
        tap.ok(all(n in res for n in folders), "each converted by "
               "tools/convert-batch (%.1f s, %d at a time); compared in "
               "%.1f s" % (t_ours, JOBS, t_cmp))
        tap.ok(not cli_diffs, "`mbox2dovecot convert` itself gives the "
               "same maildirs on %d of them (%.1f s)" % (n_cli, t_cli),
               cli_diffs[:3])
        acc = {}
        bad = []
        kinds = {}
        for n in sorted(res):
            d, a = res[n]
            for x in set(a):
                acc[x] = acc.get(x, 0) + 1
            if d:
                bad.append(n)
                for k, _ in d:
                    kinds[k] = kinds.get(k, 0) + 1
        for name in sorted(ACCEPTED):
            tap.note("accepted %s: %d folders (%s)" % (
                name, acc.get(name, 0), ACCEPTED[name]))
        diag = ["%d of %d folders differ; by kind: %s" % (
            len(bad), COUNT, ", ".join("%s %d" % kv for kv in
                                       sorted(kinds.items())))]
        shown = set()
        for n in bad:
            d = res[n][0]
            if len(shown) >= 6:
                break
            key = tuple(sorted(set(k for k, _ in d)))
            if key in shown:
                continue
            shown.add(key)
            diag.append("%s (%s):" % (n, " ".join(
                folders[n][1]["features"])))
            diag.extend("  " + "%s: %s" % kd for kd in d[:6])
            diag.append("  bytes: " + show_folder(folders[n][0]))
        tap.ok(not bad, "c-client and Dovecot show every folder alike, "
               "but for the accepted differences", diag)
        text = manual_names()
        missing = [a for a in ACCEPTED if text is None or a not in text]
        tap.ok(not missing, "each accepted difference is in the FIDELITY "
               "table of mbox2dovecot(1)", missing)
        total = time.time() - t_start
        tap.note("%.1f s in all" % total)
        if "--minimize" in sys.argv:
            out = sys.argv[sys.argv.index("--minimize") + 1]
            write_minimized(out, folders, res, bad)
    finally:
        if os.environ.get("M2D_KEEP"):
            tap.note("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return tap.done()


def write_minimized(out, folders, res, bad):
    """Per kind of difference, the first two folders, minimized."""
    seen = {}
    with open(out, "w", encoding="utf-8") as f:
        f.write("# differences c-client vs mbox2dovecot convert "
                "(tests/integration/test-differential.py --minimize),\n"
                "# seed %s, %s, TZ=%s\n\n" % (
                    SEED, time.strftime("%Y-%m-%d %H:%M UTC",
                                        time.gmtime()), ZONE))
        for n in bad:
            for kind, _ in res[n][0]:
                if seen.get(kind, 0) >= 2:
                    continue
                seen[kind] = seen.get(kind, 0) + 1
                data, info = folders[n]
                small = minimize(data, info, kind)
                d, _ = one(small, info)
                f.write("== %s (folder %s, minimized from %d to %d bytes)\n"
                        % (kind, n, len(data), len(small)))
                f.write("bytes: %s\n" % show_folder(small, 4000))
                for k, t in d:
                    f.write("  %s: %s\n" % (k, t))
                f.write("\n")
                f.flush()


if __name__ == "__main__":
    sys.exit(main())
