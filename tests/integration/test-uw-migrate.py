#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UW's other formats end to end: folders made by UW's own
library, c-client, in mbx, mix and MMDF format, migrated by
`mbox2dovecot migrate`, then served by a REAL Dovecot and compared with
what c-client shows of them.

Users (homes and spool made here, owned by the mail owner):
  ann  ~/mail: seeded mbx, mix and MMDF folders (flag changes, keywords,
       expunges: alone, and while another stream holds the folder), a
       tenex file (reported by name, skipped); INBOX in mbx at ~/INBOX
       and a spool mbox with new mail UW had not moved in yet;
  bob  INBOX in mix at ~/INBOX, the spool file holding only UW's
       pseudo-message; a mix folder with a subfolder beside it;
  cy   INBOX: an MMDF spool file.

Truth: c-client's dump of a copy (tools/cclient-make "dump": count, per
message UID, flags, keywords, INTERNALDATE, RFC822.SIZE, the bytes;
UIDVALIDITY, UIDNEXT); an INBOX is ~/INBOX as c-client shows it, then
the spool's messages with the UIDs UW's snarf would have given (from
UIDNEXT on), their Status flags, the bytes an mbox INBOX serves.

Checked: `--check` counts the folders by format; migrate exits 0;
over IMAP (SELECT, UID FETCH UID FLAGS INTERNALDATE RFC822.SIZE
BODY.PEEK[]) every folder as c-client shows it (\\Recent aside: Dovecot
gives it to every message of a new index), UIDVALIDITY and UIDNEXT;
every source byte-identical (and its mtime) afterwards; a re-run
converts nothing; after c-client changes a flag, expunges and appends,
a re-run converts those folders again, and Dovecot serves the new
state (no duplicates, the expunged message gone).

Prints TAP.  Env: M2D_TOP, BUILD, M2D_UW_SEED (20061102), M2D_UW_N (4
folders per format), M2D_KEEP=1 keeps the scratch directory.
"""

import base64
import hashlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True

import dovecot_harness as dh  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
MAKE = os.path.join(TOP, BUILD, "tools", "cclient-make")

_spec = importlib.util.spec_from_file_location(
    "uwformats", os.path.join(TOP, "tests", "integration",
                              "test-uw-formats.py"))
uwf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(uwf)

FLAGMAP = {"R": "\\Seen", "A": "\\Answered", "F": "\\Flagged",
           "T": "\\Draft", "D": "\\Deleted"}

SPOOL_ANN = (
    b"From alice@example.org Tue Dec  8 10:00:00 2026\n"
    b"Subject: new one\nStatus: RO\n\nread already\n\n"
    b"From bob@example.org Tue Dec  8 11:30:00 2026\n"
    b"Subject: new two\nX-Status: F\n\nflagged\n>From quoted\n\n")
# what Dovecot serves of them: UW's headers gone, CRLF
SPOOL_ANN_MSGS = [
    (b"Subject: new one\r\n\r\nread already\r\n", {"\\Seen"},
     1796724000),
    (b"Subject: new two\r\n\r\nflagged\r\n>From quoted\r\n", {"\\Flagged"},
     1796729400),
]
PSEUDO = (b"From MAILER-DAEMON Tue Dec  8 09:00:00 2026\n"
          b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
          b"X-IMAP: 1234567890 0000000000\nStatus: RO\n\npseudo\n\n")
# bob's spool (a mix INBOX): mix_snarf (c-client's mix.c) leaves out a
# message marked \Deleted and moves in the rest with their system flags
SPOOL_BOB = PSEUDO + (
    b"From carol@example.org Tue Dec  8 11:00:00 2026\n"
    b"Subject: gone\nStatus: RO\nX-Status: D\n\nmarked deleted\n\n"
    b"From dave@example.org Tue Dec  8 12:00:00 2026\n"
    b"Subject: kept\nX-Status: A\n\nanswered\n\n")
SPOOL_BOB_MSGS = [
    (b"Subject: kept\r\n\r\nanswered\r\n", {"\\Answered"}, 1796731200),
]


def run_make(home, lines):
    return subprocess.run([MAKE, home], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=600)


def snapshot(root):
    out = {}
    for d, _, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            with open(p, "rb") as f:
                out[p] = (hashlib.sha256(f.read()).hexdigest(),
                          st.st_mtime_ns)
    return out


def want_of_dump(d):
    """c-client's dump as {uid: message}, and the folder's UIDs."""
    msgs = {}
    for m in d.get("msgs", []):
        msgs[m["uid"]] = {
            "flags": {FLAGMAP[c] for c in m["flags"] if c in FLAGMAP} |
            set(m["keywords"]),
            "date": m["date"], "size": m["size"],
            "body": base64.b64decode(m["data"])}
    return {"uidvalidity": d.get("uidvalidity"),
            "uidnext": d.get("uidnext"), "msgs": msgs}


def add_spool(want, spool_msgs):
    """UW's snarf: the spool's messages after, UIDs from UIDNEXT on."""
    uid = want["uidnext"]
    for body, flags, date in spool_msgs:
        want["msgs"][uid] = {"flags": set(flags), "date": date,
                             "size": len(body), "body": body}
        uid += 1
    want["uidnext"] = uid
    return want


def compare(want, info, got, fresh_uidvalidity):
    diffs = []
    if not fresh_uidvalidity and info.get("uidvalidity") != \
            want["uidvalidity"]:
        diffs.append("UIDVALIDITY: Dovecot %r, c-client %r" % (
            info.get("uidvalidity"), want["uidvalidity"]))
    if info.get("uidnext") != want["uidnext"]:
        diffs.append("UIDNEXT: Dovecot %r, c-client %r" % (
            info.get("uidnext"), want["uidnext"]))
    if sorted(got) != sorted(want["msgs"]):
        diffs.append("UIDs: Dovecot %r, c-client %r" % (
            sorted(got), sorted(want["msgs"])))
    for uid in sorted(set(got) & set(want["msgs"])):
        g, w = got[uid], want["msgs"][uid]
        gflags = g["flags"] - {"\\Recent"}
        if gflags != w["flags"]:
            diffs.append("UID %d flags: Dovecot %s, c-client %s" % (
                uid, sorted(gflags), sorted(w["flags"])))
        if g["internaldate"] != w["date"]:
            diffs.append("UID %d INTERNALDATE: Dovecot %d, c-client %d" % (
                uid, g["internaldate"], w["date"]))
        if g["size"] != w["size"]:
            diffs.append("UID %d RFC822.SIZE: Dovecot %d, c-client %d" % (
                uid, g["size"], w["size"]))
        if g["body"] != w["body"]:
            diffs.append("UID %d bytes: Dovecot %r, c-client %r" % (
                uid, g["body"][:80], w["body"][:80]))
    return diffs


def make_users(tmp, rnd, n):
    """The homes and the spool; returns {user: [(name, fmt, path)]} of
    the folders c-client made (path relative to the home; name the IMAP
    name), and the c-client script's result."""
    homes = os.path.join(tmp, "home")
    spool = os.path.join(tmp, "spool")
    msgdir = os.path.join(tmp, "msgs")
    for d in (spool, os.path.join(msgdir, "mail", "proj")):
        os.makedirs(d)
    folders = {"ann": [], "bob": [], "cy": []}
    scripts = {"ann": [], "bob": [], "cy": []}
    for fmt in ("mbx", "mix", "mmdf"):
        for i in range(n):
            name = "%s%02d" % (fmt, i)
            lines = uwf.script(rnd, fmt, "mail/" + name, msgdir, False)
            scripts["ann"] += lines
            folders["ann"].append((name, fmt, "mail/" + name))
    # UW's INBOX in ~/INBOX: made under another name (c-client would
    # move /var/mail's mail into anything it opens as INBOX)
    for user, fmt in (("ann", "mbx"), ("bob", "mix")):
        scripts[user] += uwf.script(rnd, fmt, "inboxsrc", msgdir, False)
        scripts[user] += ["touch\tinboxsrc"]
    scripts["bob"] += uwf.script(rnd, "mix", "mail/proj", msgdir, False)
    scripts["bob"] += uwf.script(rnd, "mbx", "mail/proj/sub", msgdir,
                                 False)
    folders["bob"] += [("proj", "mix", "mail/proj"),
                       ("proj/sub", "mbx", "mail/proj/sub")]
    scripts["cy"] += uwf.script(rnd, "mmdf", "spoolsrc", msgdir, False)
    out = []
    for user in ("ann", "bob", "cy"):
        home = os.path.join(homes, user)
        os.makedirs(os.path.join(home, "mail"))
        p = run_make(home, scripts[user])
        out.append(p)
        if p.returncode != 0:
            return None, homes, spool, out
    os.rename(os.path.join(homes, "ann", "inboxsrc"),
              os.path.join(homes, "ann", "INBOX"))
    os.rename(os.path.join(homes, "bob", "inboxsrc"),
              os.path.join(homes, "bob", "INBOX"))
    os.rename(os.path.join(homes, "cy", "spoolsrc"),
              os.path.join(spool, "cy"))
    with open(os.path.join(spool, "ann"), "wb") as f:
        f.write(SPOOL_ANN)
    with open(os.path.join(spool, "bob"), "wb") as f:
        f.write(SPOOL_BOB)
    body = b" 7-Dec-2026 10:00:00 +0200,9;000000000001\nSubject: x\n"
    with open(os.path.join(homes, "ann", "mail", "old-tenex"), "wb") as f:
        f.write(body)
    return folders, homes, spool, out


def truth(tmp, homes, spool, folders):
    """c-client's view of every folder, dumped from a copy."""
    copy = os.path.join(tmp, "copy")
    shutil.copytree(homes, copy, symlinks=True)
    want = {}
    for user, fl in folders.items():
        home = os.path.join(copy, user)
        lines = ["dump\t%s" % path for _, _, path in fl]
        inbox = None
        if user in ("ann", "bob"):
            os.rename(os.path.join(home, "INBOX"),
                      os.path.join(home, "inboxcopy"))
            lines.append("dump\tinboxcopy")
            inbox = "inboxcopy"
        else:
            shutil.copy(os.path.join(spool, "cy"),
                        os.path.join(home, "spoolcopy"))
            lines.append("dump\tspoolcopy")
        p = run_make(home, lines)
        dumps = [json.loads(x) for x in p.stdout.splitlines()
                 if x.startswith("{")]
        if len(dumps) != len(lines):
            return None, p
        for (name, fmt, _), d in zip(fl, dumps):
            want[(user, name)] = (want_of_dump(d), bool(d.get("log")) and
                                  "rebuilding" in d.get("log", ""))
        w = want_of_dump(dumps[-1])
        if inbox and user == "ann":
            w = add_spool(w, SPOOL_ANN_MSGS)
        if inbox and user == "bob":
            w = add_spool(w, SPOOL_BOB_MSGS)
        want[(user, "INBOX")] = (w, False)
    return want, None


def chown_tree(root, uid, gid):
    """Only what is not the owner's yet: a chown changes the ctime, and
    a changed ctime is a changed source to a re-run."""
    for d, dirs, files in os.walk(root):
        for p in [d] + [os.path.join(d, n) for n in files]:
            st = os.lstat(p)
            if (st.st_uid, st.st_gid) != (uid, gid):
                os.chown(p, uid, gid)


def check_imap(tap, dc, want, label):
    total = {}
    conns = {}
    for (user, name), (w, fresh) in sorted(want.items()):
        fmt = "INBOX" if name == "INBOX" else name.rstrip("0123456789")
        try:
            if user not in conns:
                conns[user] = dc.imap(user)
            info, got = dh.fetch_all(conns[user], name)
            diffs = compare(w, info, got, fresh)
        except Exception as e:  # noqa: BLE001
            diffs = ["%s: %s" % (type(e).__name__, e)]
            conns.pop(user, None)
        t = total.setdefault(fmt, [0, 0, 0])
        t[0] += 1
        t[1] += len(w["msgs"])
        t[2] += len(diffs)
        tap.ok(not diffs, "%s: %s/%s: %d messages as c-client shows them"
               % (label, user, name, len(w["msgs"])), diffs[:12])
    for c in conns.values():
        try:
            c.logout()
        except Exception:  # noqa: BLE001
            pass
    for fmt, (nf, nm, nd) in sorted(total.items()):
        tap.note("%s: %s: %d folders, %d messages, %d differences" % (
            label, fmt, nf, nm, nd))


def migrate(tmp, homes, spool, target, work, *extra):
    conf = os.path.join(tmp, "empty.conf")
    if not os.path.exists(conf):
        with open(conf, "w") as f:
            f.write("# the defaults\n")
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    env.pop("LANG", None)
    return subprocess.run(
        [PROG, extra[0] if extra else "migrate", "--config", conf,
         "--spool", spool, "--homes", homes, "--target", target,
         "--work", work, "--users", "ann,bob,cy"] + list(extra[1:]),
        capture_output=True, text=True, timeout=300, env=env)


def main():
    tap = Tap()
    if not os.path.exists("/usr/include/c-client/c-client.h"):
        print("1..0 # SKIP libc-client2007e-dev not installed")
        return 0
    if not os.access(MAKE, os.X_OK):
        print("1..0 # SKIP %s not built" % MAKE)
        return 0
    why = dh.available()
    if why:
        print("1..0 # SKIP %s" % why)
        return 0
    seed = int(os.environ.get("M2D_UW_SEED", "20061102"))
    n = int(os.environ.get("M2D_UW_N", "4"))
    rnd = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="m2d-uwm-")
    tap.note("seed %d, %d folders per format, in %s" % (seed, n, tmp))
    try:
        run(tap, tmp, rnd, n)
    finally:
        if os.environ.get("M2D_KEEP"):
            tap.note("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


def run(tap, tmp, rnd, n):
    uid, gid = dh.mail_owner()
    folders, homes, spool, made = make_users(tmp, rnd, n)
    if not tap.ok(folders is not None, "c-client made the folders",
                  [p.stdout[-1500:] + p.stderr[-1500:] for p in made]):
        return
    want, p = truth(tmp, homes, spool, folders)
    if not tap.ok(want is not None, "c-client dumped every folder",
                  p and p.stdout[-1500:] + p.stderr[-1500:]):
        return
    os.chmod(tmp, 0o755)
    chown_tree(homes, uid, gid)
    chown_tree(spool, uid, gid)
    before = snapshot(homes)
    before.update(snapshot(spool))

    target = os.path.join(tmp, "target")
    work = os.path.join(tmp, "work")
    r = migrate(tmp, homes, spool, target, work, "plan")
    tap.ok(r.returncode == 0 and "old-tenex" in r.stdout + r.stderr,
           "plan: exit 0, the tenex file named", [r.stdout[-1500:],
                                                  r.stderr[-1500:]])
    r = migrate(tmp, homes, spool, target, work, "check", "--format",
                "json")
    try:
        checks = {c["id"]: c for c in json.loads(r.stdout).get("checks", [])}
    except ValueError:
        checks = {}
    uwf_fig = checks.get("uw_formats", {}).get("figures", {})
    nfmt = {"mbx": 0, "mix": 0, "mmdf": 0}
    for fl in folders.values():
        for _, fmt, _ in fl:
            nfmt[fmt] += 1
    nfmt["mbx"] += 1          # ann's INBOX
    nfmt["mix"] += 1          # bob's INBOX
    nfmt["mmdf"] += 1         # cy's INBOX
    got = {k: uwf_fig.get(k) for k in nfmt}
    tap.ok(got == nfmt, "--check: the folders counted by format",
           ["got %r, want %r" % (got, nfmt), r.stderr[-800:]])
    # the estimate scans the spool file's From_ lines: the message
    # mix_snarf would leave out (marked \Deleted) is counted too
    nmsgs = sum(len(w["msgs"]) for w, _ in want.values()) + 1
    got = checks.get("messages", {}).get("figures", {}).get("messages")
    tap.ok(got == nmsgs, "--check: %d messages to migrate (the readers "
           "counted them, spool mail included)" % nmsgs,
           ["got %r" % got])
    r = migrate(tmp, homes, spool, target, work)
    tap.ok(r.returncode == 0, "migrate: exit 0", [r.stdout[-2000:],
                                                 r.stderr[-2000:]])
    after = snapshot(homes)
    after.update(snapshot(spool))
    tap.ok(after == before, "every source byte-identical, mtimes kept",
           sorted(k for k in set(before) | set(after)
                  if before.get(k) != after.get(k))[:10])
    r2 = migrate(tmp, homes, spool, target, work)
    tap.ok(r2.returncode == 0 and " 0 converted" in r2.stdout,
           "a re-run converts nothing", [r2.stdout[-800:]])
    r2 = migrate(tmp, homes, spool, target, work, "verify")
    tap.ok(r2.returncode == 0 and "0 differ or failed" in r2.stdout,
           "verify: every folder identical to its source", [
               r2.stdout[-1500:], r2.stderr[-500:]])

    rollback(tap, tmp, homes, spool, target, work)

    dc = dh.Dovecot(target, ["ann", "bob", "cy"], uid=uid, gid=gid,
                    workdir=os.path.join(tmp, "dovecot"))
    try:
        dc.__enter__()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "private Dovecot starts", str(e).splitlines()[:20])
        return
    try:
        check_imap(tap, dc, want, "first run")
        changed = incremental(tap, tmp, homes, spool, target, work, folders,
                              want)
        if changed:
            check_imap(tap, dc, changed, "after changes")
    finally:
        dc.failed = dc.failed or bool(tap.failures)
        dc.__exit__(None, None, None)


def rollback(tap, tmp, homes, spool, target, work):
    """A rollback carries no mail into mbx, mix or MMDF folders: without
    new mail it goes through them; new mail in one is named."""
    conf = os.path.join(tmp, "rollback.conf")
    with open(conf, "w") as f:
        f.write('spool_dir = "%s"\nhomes_dir = "%s"\ntarget_base = "%s"\n'
                'work_dir = "%s"\n' % (spool, homes, target, work))
    argv = [PROG, "rollback", "--config", conf, "--mail-only", "--dry-run"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    tap.ok(r.returncode == 0 and " 0 failed" in r.stdout,
           "rollback --dry-run: no new mail, every folder goes through",
           [r.stdout[-1500:], r.stderr[-500:]])
    new = os.path.join(target, "ann", ".mix00", "new",
                       "1796700000.M1P1.test")
    with open(new, "wb") as f:
        f.write(b"Subject: after cutover\n\nhi\n")
    inbox_new = os.path.join(target, "ann", "new", "1796700001.M1P1.test")
    with open(inbox_new, "wb") as f:
        f.write(b"Subject: to the INBOX after cutover\n\nhi\n")
    uid, gid = dh.mail_owner()
    os.chown(inbox_new, uid, gid)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    os.unlink(new)
    os.unlink(inbox_new)
    tap.ok(("ann INBOX: 1 new messages would be appended to %s" %
            os.path.join(spool, "ann")) in r.stdout, "rollback --dry-run: "
           "new mail of an mbx INBOX goes to the spool file, from which UW "
           "moves it in", [r.stdout[-1500:]])
    tap.ok(r.returncode != 0 and "FAILED ann mix00" in r.stdout and
           "UW's mix format" in r.stdout, "rollback --dry-run: new mail "
           "in a mix folder is named, not carried",
           [r.stdout[-1500:], r.stderr[-500:]])


def incremental(tap, tmp, homes, spool, target, work, folders, want):
    """c-client changes one folder of each format; a re-run converts them
    again.  Returns the new truth of those folders."""
    uid, gid = dh.mail_owner()
    home = os.path.join(homes, "ann")
    picked = [(name, path) for name, fmt, path in folders["ann"]
              if name in ("mbx00", "mix00", "mmdf00") and
              want[("ann", name)][0]["msgs"]]
    msg = os.path.join(tmp, "msgs", "incr")
    with open(msg, "wb") as f:
        f.write(b"Subject: appended later\n\nnew\n")
    lines = []
    for name, path in picked:
        lines += ["set\t%s\t1\t\\Answered" % path,
                  "append\t%s\t(\\Seen)\t01-Jan-2027 00:00:00 +0000\t%s" %
                  (path, msg),
                  "held-expunge\t%s\t1" % path]
    p = run_make(home, lines)
    if not tap.ok(p.returncode == 0, "c-client changed %d folders" %
                  len(picked), p.stdout[-800:] + p.stderr[-800:]):
        return None
    chown_tree(homes, uid, gid)
    copy = os.path.join(tmp, "copy2")
    shutil.copytree(home, copy, symlinks=True)
    p = run_make(copy, ["dump\t%s" % path for _, path in picked])
    dumps = [json.loads(x) for x in p.stdout.splitlines()
             if x.startswith("{")]
    r = migrate(tmp, homes, spool, target, work, "verify")
    tap.ok(r.returncode != 0 and all(
        ("differs ann/mail/%s" % name) in r.stdout or
        ("ann/mail/%s:" % name) in r.stdout for name, _ in picked),
        "verify before the re-run: the %d changed folders differ" %
        len(picked), [r.stdout[-1500:]])
    r = migrate(tmp, homes, spool, target, work)
    tap.ok(r.returncode == 0 and (" %d converted" % len(picked)) in
           r.stdout, "re-run after the changes: exactly those %d folders "
           "converted again" % len(picked), [r.stdout[-1500:],
                                             r.stderr[-800:]])
    r = migrate(tmp, homes, spool, target, work, "verify")
    tap.ok(r.returncode == 0, "verify after the re-run: identical",
           [r.stdout[-1500:]])
    return {("ann", name): (want_of_dump(d), False)
            for (name, _), d in zip(picked, dumps)}


if __name__ == "__main__":
    sys.exit(main())
