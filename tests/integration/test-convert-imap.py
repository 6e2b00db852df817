#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end: UW-IMAP mbox spool -> mbox2dovecot convert -> a REAL Dovecot.

1. tests/tools/gen-spool.py writes a seeded UW-style spool and a manifest
   (the truth: per folder UIDVALIDITY/UIDNEXT, per message UID, flags,
   keywords, INTERNALDATE, exact bytes).
2. Every folder of every user is converted with
   $M2D_TOP/$BUILD/mbox2dovecot convert MBOX TARGET/USER [--folder NAME]
       --owner UID:GID                       (env TZ = the manifest's zone)
   (INBOX without --folder: it is the default).
3. Before Dovecot touches the maildirs: ownership, tmp/ empty,
   maildirfolder, the dovecot-uidlist header, and which files are in new/
   vs cur/ (Dovecot moves new/ to cur/ on its first sync).
   Plus user uw16: a folder for each item of issue 16 (blank lines before
   the first From_ line, the flag letters of Status and X-Status, keyword
   case and undeclared words, a header-only message, Content-Length, a
   bare CR), expecting what UW's c-client shows (checked with
   tools/cclient-dump when it is built).
4. A private Dovecot (tests/lib/dovecot_harness.py) serves TARGET; over IMAP
   as each user: LIST, then per folder SELECT + UID FETCH (UID FLAGS
   INTERNALDATE RFC822.SIZE BODY.PEEK[]) compared with the manifest; then
   doveadm mailbox status, and doveadm fetch 'uid guid size.physical' to
   compare each message's file on disk byte for byte.

Notes on what Dovecot does (checked with Dovecot 2.3.19):
  * FETCH BODY[] converts bare LF to CRLF (IMAP requires CRLF).  The maildir
    files keep the mbox's LF bytes, so over IMAP we compare with the
    expected bytes LF->CRLF (what a client relies on), and on disk we
    compare the file's exact bytes (via doveadm's guid = base file name).
  * On the first sync of a maildir that has no index yet, Dovecot gives
    \\Recent to every message, in cur/ too; so \\Recent is not compared over
    IMAP.  "Not yet seen by any IMAP session" (no "O" in Status:) is checked
    on disk instead: such messages must be in new/, all others in cur/.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (default 20041109), M2D_USERS
(2), M2D_MESSAGES (12), M2D_TZ (UTC: the zone of From_ dates without an
offset, given to the converter as TZ), M2D_KEEP=1 keeps the temp dir, M2D_TEST_OWNER
("UID:GID" of the maildirs, default 65534:65534).  Skips only when Dovecot
is missing and CI is not set.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True      # no __pycache__ in the source tree

import dovecot_harness as dh  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
GEN = os.path.join(TOP, "tests", "tools", "gen-spool.py")


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def first_diff(want, got):
    """Short description of where two byte strings differ."""
    n = min(len(want), len(got))
    i = 0
    while i < n and want[i] == got[i]:
        i += 1
    if i == n and len(want) == len(got):
        return "identical"
    return ("lengths want %d got %d, first difference at byte %d:\n"
            "  want %r\n  got  %r" % (len(want), len(got), i,
                                      want[max(0, i - 30):i + 40],
                                      got[max(0, i - 30):i + 40]))


def maildir_subdir(name):
    """IMAP name -> Maildir++ directory ('' for INBOX)."""
    if name.upper() == "INBOX":
        return ""
    return "." + ".".join(dh.mutf7_encode(level) for level in name.split("/"))


# ---- issue 16: what UW's c-client showed, a folder per item -----------
# Each folder is converted and served like the generated ones; its
# expected view is what c-client (libc-client2007e, the code UW-IMAP
# served mail with) shows for it, checked here too when cclient-dump is
# built (tests/tools/cclient-dump.c).
ISSUE16_USER = "uw16"
_F16 = "From a@example.org Tue Nov  9 10:11:12 +0000 2004\n"
_G16 = "From b@example.org Wed Nov 10 11:12:13 +0000 2004\n"
_T1, _T2 = 1099995072, 1100085133
ISSUE16 = [
    # (folder, item, mbox text, uidvalidity or None,
    #  [(subject, served bytes with LF, flags and keywords, recent, date)])
    ("INBOX", "1: blank lines before the first From_ line",
     "   \n\t\n   \n" + _F16 + "Subject: leading blank lines\n\nbody\n",
     None, [("leading blank lines", "Subject: leading blank lines\n\nbody\n",
             [], True, _T1)]),
    ("flag-letters", "2: R O D F A T alike in Status and X-Status",
     _F16 + "Subject: ROD\nStatus: ROD\n\none\n\n" +
     _F16 + "Subject: ORA\nStatus: ORA\n\ntwo\n\n" +
     _F16 + "Subject: FTO\nX-Status: FTO\n\nthree\n\n" +
     _F16 + "Subject: O DA\nStatus: O\nX-Status: DA\n\nfour\n",
     None, [("ROD", "Subject: ROD\n\none\n", ["\\Seen", "\\Deleted"], False,
             _T1),
            ("ORA", "Subject: ORA\n\ntwo\n", ["\\Seen", "\\Answered"],
             False, _T1),
            ("FTO", "Subject: FTO\n\nthree\n", ["\\Flagged", "\\Draft"],
             False, _T1),
            ("O DA", "Subject: O DA\n\nfour\n", ["\\Deleted", "\\Answered"],
             False, _T1)]),
    ("keyword-case", "3: keywords matched to the declared ones, case "
     "ignored; undeclared words ignored",
     _F16 + "X-IMAPbase: 1100000000 3 Personal Work\nX-UID: 1\nStatus: O\n"
     "Subject: case\nX-Keywords: personal WORK junk\n\none\n\n" +
     _F16 + "X-UID: 2\nStatus: O\nSubject: undeclared\n"
     "X-Keywords: Work  \\Deleted   \n\ntwo\n\n" +
     _F16 + "X-UID: 3\nStatus: O\nSubject: none\n\nthree\n",
     1100000000, [("case", "Subject: case\n\none\n", ["Personal", "Work"],
                   False, _T1),
                  ("undeclared", "Subject: undeclared\n\ntwo\n", ["Work"],
                   False, _T1),
                  ("none", "Subject: none\n\nthree\n", [], False, _T1)]),
    ("header-only", "4: a message with a header and no body keeps the "
     "blank line that ends its header",
     _F16 + "Subject: header only\nStatus: O\n\n" +
     _G16 + "Subject: second\nStatus: O\n\nbody\n",
     None, [("header only", "Subject: header only\n\n", [], False, _T1),
            ("second", "Subject: second\n\nbody\n", [], False, _T2)]),
    ("content-length", "5: Content-Length served as any header, right or "
     "wrong",
     _F16 + "Content-Length: 5\nSubject: cl right\nStatus: O\n\nbody\n\n" +
     _G16 + "Content-Length: 999\nSubject: cl wrong\nStatus: O\n\nbody\n",
     None, [("cl right", "Content-Length: 5\nSubject: cl right\n\nbody\n",
             [], False, _T1),
            ("cl wrong", "Content-Length: 999\nSubject: cl wrong\n\nbody\n",
             [], False, _T2)]),
    ("bare-cr", "6: a bare CR inside a message is dropped",
     _F16 + "Subject: cr\nStatus: O\n\nbody with\rbare CR\n",
     None, [("cr", "Subject: cr\n\nbody withbare CR\n", [], False, _T1)]),
]
CCLIENT = os.path.join(TOP, BUILD, "tools", "cclient-dump")


def issue16_user(spool):
    """Write the ISSUE16 folders under SPOOL/uw16/; their manifest entry."""
    d = os.path.join(spool, ISSUE16_USER)
    os.makedirs(d, exist_ok=True)
    folders = []
    for name, item, text, uv, msgs in ISSUE16:
        fn = "lead" if name == "INBOX" else name   # c-client: "inbox" is INBOX
        with open(os.path.join(d, fn), "wb") as f:
            f.write(text.encode("latin-1"))
        folders.append({
            "name": name, "mbox": os.path.join(ISSUE16_USER, fn),
            "item": item, "uidvalidity": uv, "uidnext": len(msgs) + 1,
            "messages": [{
                "uid": i, "subject": subj, "notes": ["issue 16 item " +
                                                     item.split(":")[0]],
                "flags": fl, "recent": rec, "internaldate": date,
                "from_line": text.split("\n")[0],
                "body_b64": base64.b64encode(body.encode(
                    "latin-1")).decode("ascii")}
                for i, (subj, body, fl, rec, date) in enumerate(msgs, 1)]})
    return {"folders": folders}


def check_issue16_cclient(tap, spool, work, um):
    """The expectations of ISSUE16 are what c-client shows."""
    if not os.access(CCLIENT, os.X_OK):
        tap.skip("libc-client2007e-dev not installed: the issue 16 "
                 "folders are not checked against c-client")
        return
    cc = os.path.join(work, "cclient16")
    os.makedirs(cc)
    names = []
    for folder in um["folders"]:
        n = os.path.basename(folder["mbox"])
        shutil.copyfile(os.path.join(spool, folder["mbox"]),
                        os.path.join(cc, n))
        names.append(n)
    r = subprocess.run([CCLIENT, "--batch", cc], capture_output=True,
                       input="".join(n + "\n" for n in names).encode(),
                       env=dict(os.environ, TZ="UTC"))
    views = {}
    for ln in r.stdout.decode("ascii").splitlines():
        v = json.loads(ln)
        views[v["name"]] = v
    letter = {"\\Seen": "R", "\\Answered": "A", "\\Flagged": "F",
              "\\Draft": "T", "\\Deleted": "D"}
    for folder, n in zip(um["folders"], names):
        v = views.get(n)
        diag = []
        if v is None or not v["opened"] or v["driver"] != "unix":
            diag.append("c-client: %r" % (v,))
        else:
            if folder["uidvalidity"] is not None and \
                    v["uidvalidity"] != folder["uidvalidity"]:
                diag.append("UIDVALIDITY %d" % v["uidvalidity"])
            if v["uidnext"] != folder["uidnext"]:
                diag.append("UIDNEXT %d" % v["uidnext"])
            if len(v["msgs"]) != len(folder["messages"]):
                diag.append("%d messages" % len(v["msgs"]))
            for g, m in zip(v["msgs"], folder["messages"]):
                data = crlf(base64.b64decode(m["body_b64"]))
                flags = "".join(c for c in "RAFTD" if any(
                    letter.get(x) == c for x in m["flags"])) + \
                    ("N" if m["recent"] else "")
                kw = sorted(x for x in m["flags"] if x not in letter)
                got = (base64.b64decode(g["data"]), g["size"], g["flags"],
                       sorted(g["keywords"]), g["uid"], g["date"])
                want = (data, len(data), flags, kw, m["uid"],
                        m["internaldate"])
                if got != want:
                    diag.append("%s: c-client %r, expected %r" % (
                        describe(m), got, want))
        tap.ok(not diag, "c-client shows %s/%s as expected (issue 16 item "
               "%s)" % (ISSUE16_USER, folder["name"], folder["item"]), diag)


def describe(m):
    notes = ",".join(m["notes"]) if m["notes"] else "-"
    return "uid %d %r [%s]" % (m["uid"], m["subject"], notes)


def snapshot_folder(path):
    """What the converter left in one maildir folder, before Dovecot runs:
    {base name: (subdir, file name, bytes, mtime)}, uidlist first line,
    tmp/ entries, maildirfolder presence, problems."""
    snap = {"files": {}, "uidlist": None, "tmp": [], "problems": []}
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        if not os.path.isdir(d):
            snap["problems"].append("%s/ missing" % sub)
            continue
        for fn in os.listdir(d):
            fp = os.path.join(d, fn)
            with open(fp, "rb") as f:
                data = f.read()
            base = fn.split(":", 1)[0]
            snap["files"][base] = (sub, fn, data, os.stat(fp).st_mtime)
    t = os.path.join(path, "tmp")
    if os.path.isdir(t):
        snap["tmp"] = os.listdir(t)
    else:
        snap["problems"].append("tmp/ missing")
    ul = os.path.join(path, "dovecot-uidlist")
    if os.path.exists(ul):
        with open(ul, "rb") as f:
            snap["uidlist"] = f.readline().decode("ascii", "replace").strip()
    snap["maildirfolder"] = os.path.exists(os.path.join(path,
                                                        "maildirfolder"))
    return snap


def tree_state(root):
    """{relative path: (sha256, size, mtime_ns, mode)} of every file, and
    the directories: to prove the converter never touches its source."""
    import hashlib
    out = {}
    for dp, dirs, files in os.walk(root):
        for d in dirs:
            st = os.lstat(os.path.join(dp, d))
            out[os.path.relpath(os.path.join(dp, d), root) + "/"] = (
                None, None, None, st.st_mode)
        for f in files:
            p = os.path.join(dp, f)
            st = os.lstat(p)
            with open(p, "rb") as fp:
                h = hashlib.sha256(fp.read()).hexdigest()
            out[os.path.relpath(p, root)] = (h, st.st_size, st.st_mtime_ns,
                                             st.st_mode)
    return out


def wrong_owner(root, uid, gid):
    bad = []
    for dp, dirs, files in os.walk(root):
        for p in [dp] + [os.path.join(dp, f) for f in files]:
            st = os.lstat(p)
            if (st.st_uid, st.st_gid) != (uid, gid):
                bad.append("%s is %d:%d" % (os.path.relpath(p, root),
                                            st.st_uid, st.st_gid))
    return bad


def main():
    # a killed test must still stop its Dovecot (atexit in the harness)
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))
    tap = Tap(max_diag=6)      # mismatch lines shown per check
    why = dh.available()
    if why:
        if os.environ.get("CI"):
            tap.ok(False, "dovecot available for the IMAP test (%s)" % why)
        else:
            tap.skip(why)
        return tap.done()
    if not os.access(PROG, os.X_OK):
        tap.ok(False, "program built: %s" % PROG,
               ["run make first (BUILD=%s)" % BUILD])
        return tap.done()

    seed = int(os.environ.get("M2D_SEED", "20041109"))
    nusers = int(os.environ.get("M2D_USERS", "2"))
    nmsgs = int(os.environ.get("M2D_MESSAGES", "12"))
    work = tempfile.mkdtemp(prefix="m2d-convert-imap-")
    dh.make_traversable(work)
    keep = bool(os.environ.get("M2D_KEEP"))
    t0 = time.time()
    try:
        rc = run(tap, work, seed, nusers, nmsgs)
    finally:
        if keep or tap.failures:
            print("# work dir kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("# %.1f s" % (time.time() - t0))
    return rc


def run(tap, work, seed, nusers, nmsgs):
    spool = os.path.join(work, "spool")
    target = os.path.join(work, "target")
    manifest_path = os.path.join(work, "manifest.json")
    tz = os.environ.get("M2D_TZ", "UTC")
    g = subprocess.run([sys.executable, GEN, "--seed", str(seed), "--out",
                        spool, "--users", str(nusers), "--messages",
                        str(nmsgs), "--manifest", manifest_path, "--tz", tz],
                       capture_output=True, text=True)
    if not tap.ok(g.returncode == 0, "gen-spool.py --seed %d" % seed,
                  g.stderr.splitlines()):
        return tap.done()
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    os.makedirs(target)
    os.chmod(target, 0o755)
    uid, gid = dh.mail_owner()
    env = dict(os.environ, TZ=manifest["tz"])
    manifest["users"][ISSUE16_USER] = issue16_user(spool)
    check_issue16_cclient(tap, spool, work,
                          manifest["users"][ISSUE16_USER])
    users = sorted(manifest["users"])

    # ---- convert ------------------------------------------------------
    before = tree_state(spool)
    converted = {}
    for user in users:
        for folder in manifest["users"][user]["folders"]:
            name = folder["name"]
            cmd = [PROG, "convert", os.path.join(spool, folder["mbox"]),
                   os.path.join(target, user)]
            if name != "INBOX":
                cmd += ["--folder", name]
            cmd += ["--owner", "%d:%d" % (uid, gid)]
            try:
                r = subprocess.run(cmd, env=env, capture_output=True,
                                   timeout=60)
                rc, err = r.returncode, r.stderr.decode("utf-8", "replace")
            except subprocess.TimeoutExpired:
                rc, err = "timeout", "(killed after 60 s)"
            ok = tap.ok(rc == 0, "convert %s/%s" % (user, name),
                        ["command: %s" % " ".join(cmd), "exit: %s" % rc] +
                        err.splitlines()[-8:])
            converted[(user, name)] = ok
    after = tree_state(spool)
    diag = ["%s: %s" % (p, "added" if p not in before else "removed"
                        if p not in after else "changed")
            for p in sorted(set(before) | set(after))
            if before.get(p) != after.get(p)]
    tap.ok(not diag, "source spool untouched (same files, bytes, mtimes, "
           "modes; no lock files left)", diag)

    # ---- on disk, before Dovecot touches anything ----------------------
    snaps = {}
    for user in users:
        root = os.path.join(target, user)
        if not os.path.isdir(root):
            tap.ok(False, "maildir %s exists" % root)
            continue
        bad = wrong_owner(root, uid, gid)
        tap.ok(not bad, "on disk %s: everything owned by %d:%d"
               % (user, uid, gid), bad)
        for folder in manifest["users"][user]["folders"]:
            name = folder["name"]
            path = os.path.join(root, maildir_subdir(name))
            if not os.path.isdir(path):
                tap.ok(False, "on disk %s/%s: folder directory %s" % (
                    user, name, maildir_subdir(name) or "(root)"))
                continue
            snap = snapshot_folder(path)
            snaps[(user, name)] = snap
            probs = list(snap["problems"])
            if snap["tmp"]:
                probs.append("tmp/ not empty: %s" % snap["tmp"][:5])
            if name != "INBOX" and not snap["maildirfolder"]:
                probs.append("no maildirfolder file")
            want_n = folder["uidnext"]
            hdr = snap["uidlist"]
            m = re.match(r"3 V(\d+) N(\d+)", hdr or "")
            if not m:
                probs.append("dovecot-uidlist first line %r, want "
                             "'3 V<uidvalidity> N<uidnext> ...'" % hdr)
            else:
                v, n = int(m.group(1)), int(m.group(2))
                if folder["uidvalidity"] is not None and \
                        v != folder["uidvalidity"]:
                    probs.append("uidlist V%d, want V%d"
                                 % (v, folder["uidvalidity"]))
                if v == 0:
                    probs.append("uidlist V0")
                if n != want_n:
                    probs.append("uidlist N%d, want N%d" % (n, want_n))
            tap.ok(not probs, "on disk %s/%s: Maildir++ layout, uidlist "
                   "header" % (user, name), probs)

    # ---- Dovecot ---------------------------------------------------------
    dc = dh.Dovecot(target, users, uid=uid, gid=gid,
                    workdir=os.path.join(work, "dovecot"))
    try:
        dc.__enter__()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "private Dovecot starts on %s" % target,
               str(e).splitlines()[:20])
        return tap.done()
    try:
        for user in users:
            check_user(tap, dc, user, manifest["users"][user], snaps)
    finally:
        dc.failed = dc.failed or bool(tap.failures)
        dc.__exit__(None, None, None)
    return tap.done()


def check_user(tap, dc, user, um, snaps):
    folders = um["folders"]
    conn = {"imap": None}

    def imap():
        if conn["imap"] is None:
            conn["imap"] = dc.imap(user)
        return conn["imap"]

    def broken(e):
        # the server may have died (Dovecot logs a Panic): start afresh
        try:
            conn["imap"].shutdown()
        except Exception:  # noqa: BLE001
            pass
        conn["imap"] = None
        dc.failed = True
        return ["%s: %s" % (type(e).__name__, e),
                "see the dovecot log below (Panic/Error lines)"]

    # LIST: every folder, by the name the user knew, and nothing else
    try:
        listed = dh.imap_list(imap())
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "IMAP %s: login and LIST" % user, broken(e))
        listed = None
    if listed is not None:
        selectable = {n for fl, _, n in listed
                      if not ({"\\Noselect", "\\NonExistent"} & fl)}
        want = {f["name"] for f in folders}
        parents = {"/".join(n.split("/")[:i]) for n in want
                   for i in range(1, n.count("/") + 1)}
        all_listed = {n for _, _, n in listed}
        delims = {d for _, d, _ in listed}
        diag = []
        if want - selectable:
            diag.append("missing: %s" % sorted(want - selectable))
        if selectable - want:
            diag.append("unexpected: %s" % sorted(selectable - want))
        if parents - all_listed:
            diag.append("parent levels not listed: %s"
                        % sorted(parents - all_listed))
        if delims != {"/"}:
            diag.append("hierarchy delimiters %s, want '/'"
                        % sorted(delims))
        tap.ok(not diag, "IMAP %s: LIST \"\" \"*\" shows exactly the "
               "folders (%d)" % (user, len(want)), diag)

    for folder in folders:
        snap = snaps.get((user, folder["name"]))
        try:
            check_folder(tap, dc, imap(), user, folder, snap)
        except Exception as e:  # noqa: BLE001
            tap.ok(False, "IMAP %s/%s: SELECT and FETCH" % (
                user, folder["name"]), broken(e))
    if conn["imap"] is not None:
        try:
            conn["imap"].logout()
        except Exception:  # noqa: BLE001
            pass

    # doveadm mailbox status
    try:
        st = dc.mailbox_status(user)
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "doveadm mailbox status -u %s" % user, [str(e)])
        return
    for folder in folders:
        name = folder["name"]
        got = st.get(name)
        diag = []
        if got is None:
            diag.append("not in doveadm's list: %s" % sorted(st))
        else:
            want = {"messages": str(len(folder["messages"])),
                    "uidnext": str(folder["uidnext"])}
            if folder["uidvalidity"] is not None:
                want["uidvalidity"] = str(folder["uidvalidity"])
            for k, v in want.items():
                if got.get(k) != v:
                    diag.append("%s: want %s got %s" % (k, v, got.get(k)))
        tap.ok(not diag, "doveadm mailbox status %s/%s: messages "
               "uidvalidity uidnext" % (user, name), diag)


def check_folder(tap, dc, imap, user, folder, snap):
    name = folder["name"]
    label = "%s/%s" % (user, name)
    msgs = folder["messages"]
    info, got = dh.fetch_all(imap, name)   # raises: caller reports
    # counts (the pseudo-message must not be there)
    tap.ok(info["exists"] == len(msgs), "IMAP %s: %d messages (no "
           "pseudo-message)" % (label, len(msgs)),
           ["EXISTS %d, want %d" % (info["exists"], len(msgs))] +
           ["extra: uid %d %r" % (u, m["body"][:200]) for u, m in
            sorted(got.items()) if u not in {x["uid"] for x in msgs}])
    diag = []
    if folder["uidvalidity"] is None:
        if not info.get("uidvalidity"):
            diag.append("UIDVALIDITY %s" % info.get("uidvalidity"))
    elif info.get("uidvalidity") != folder["uidvalidity"]:
        diag.append("UIDVALIDITY want %d got %s" % (folder["uidvalidity"],
                                                   info.get("uidvalidity")))
    if info.get("uidnext") != folder["uidnext"]:
        diag.append("UIDNEXT want %d got %s" % (folder["uidnext"],
                                               info.get("uidnext")))
    tap.ok(not diag, "IMAP %s: UIDVALIDITY %s, UIDNEXT %d" % (
        label, folder["uidvalidity"] if folder["uidvalidity"] is not None
        else "(any)", folder["uidnext"]), diag)
    want_uids = [m["uid"] for m in msgs]
    got_uids = sorted(got)
    tap.ok(want_uids == got_uids, "IMAP %s: UIDs" % label,
           ["want %s" % want_uids, "got  %s" % got_uids])
    if not msgs:
        return
    fl, dates, sizes, bodies = [], [], [], []
    for m in msgs:
        g = got.get(m["uid"])
        if g is None:
            continue
        want_flags = set(m["flags"])
        got_flags = g["flags"] - {"\\Recent"}
        if want_flags != got_flags:
            fl.append("%s: want %s got %s" % (describe(m),
                                             sorted(want_flags),
                                             sorted(got_flags)))
        if g["internaldate"] != m["internaldate"]:
            dates.append("%s: want %d got %d (%+d s), From_ line %r" % (
                describe(m), m["internaldate"], g["internaldate"],
                g["internaldate"] - m["internaldate"], m["from_line"]))
        data = base64.b64decode(m["body_b64"])
        wire = crlf(data)
        if g["body"] != wire:
            bodies.append("%s: %s" % (describe(m), first_diff(wire,
                                                               g["body"])))
        if g["size"] != len(wire):
            sizes.append("%s: RFC822.SIZE want %d got %d" % (
                describe(m), len(wire), g["size"]))
    tap.ok(not fl, "IMAP %s: flags and keywords" % label, fl)
    tap.ok(not dates, "IMAP %s: INTERNALDATE = From_ line date" % label,
           dates)
    tap.ok(not bodies and not sizes, "IMAP %s: BODY[] bytes and RFC822.SIZE"
           " (LF served as CRLF)" % label, bodies + sizes)

    # on disk: exact bytes, new/ vs cur/, via doveadm's guid = base name
    diag = []
    r = dc.doveadm("-f", "tab", "fetch", "-u", user,
                   "uid guid size.physical", "mailbox", name, check=False)
    if r.returncode != 0:
        diag.append("doveadm fetch: exit %d %s" % (r.returncode,
                                                   r.stderr.strip()))
    elif snap is None:
        diag.append("no snapshot of the folder on disk")
    else:
        lines = r.stdout.splitlines()
        head = lines[0].split("\t") if lines else []
        rows = {}
        for ln in lines[1:]:
            v = dict(zip(head, ln.split("\t")))
            rows[int(v["uid"])] = v
        for m in msgs:
            row = rows.get(m["uid"])
            if row is None:
                continue           # reported by the UID check
            f = snap["files"].get(row["guid"])
            data = base64.b64decode(m["body_b64"])
            if f is None:
                diag.append("%s: no file with base name %r in cur/ or new/ "
                            "(before Dovecot ran)" % (describe(m),
                                                      row["guid"]))
                continue
            sub, fn, fdata, mtime = f
            if fdata != data:
                diag.append("%s: file %s/%s: %s" % (describe(m), sub, fn,
                                                    first_diff(data, fdata)))
            if int(row["size.physical"]) != len(data):
                diag.append("%s: size.physical %s, want %d (S= in %s)" % (
                    describe(m), row["size.physical"], len(data), fn))
            # new/: no O in Status and no flags (Dovecot saves a
            # message with flags or keywords into cur/, \\Recent or not)
            want_sub = "new" if m["recent"] and not m["flags"] else "cur"
            if sub != want_sub:
                diag.append("%s: in %s/, want %s/ (%s)" % (
                    describe(m), sub, want_sub,
                    "never seen by an IMAP session: no O in Status"
                    if want_sub == "new" else
                    "Status has O, or flags: in cur/"))
    tap.ok(not diag, "on disk %s: file bytes exact, S= size, new/ vs cur/"
           % label, diag)


if __name__ == "__main__":
    sys.exit(main())
