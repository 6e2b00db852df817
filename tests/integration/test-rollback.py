#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rollback that loses nothing, and POP3 UIDLs that stay UW's.

On a spool written by tests/tools/gen-spool.py:

  1. mbox2dovecot migrate; the size and sha256 of every source mbox noted;
  2. POP3: the generator's pop3_uidl_format (mbox2dovecot dovecot-conf
     preview on a dovecot.conf with "protocols = imap pop3") in a real
     Dovecot with a POP3 listener; UIDL of every INBOX message must be
     UW's "%08lx%08lx" of UIDVALIDITY and UID read from the source mbox;
  3. new mail through the real Dovecot: IMAP APPEND with flags, keywords
     and a date into INBOX and into a folder; CREATE of a new folder
     (non-ASCII, nested) with a message; a delivery with dovecot-lda; a
     flag changed on an old message; an old message expunged;
  4. Dovecot stopped; mbox2dovecot rollback --mail-only;
  5. every mbox: its first bytes (the original size) byte-identical; read
     back with the project's reader (build/tools/mbox-dump): the old
     messages, then every new one with its bytes, flags, keywords, date
     (From_ line = INTERNALDATE) and the UID Dovecot gave it; the new
     folder's mbox 0600, owned like the inbox; the report counts the flag
     change and the expunge;
  6. and with UW's own c-client (build/tools/cclient-dump, built when
     libc-client2007e-dev is installed; else SKIP): the same messages,
     flags, dates, UIDs and UIDVALIDITY (no reset), the keywords the
     folder declares (UW ignores others; the report counts them); a
     message with a lower-case "status:" and a wrong Content-Length:
     header shows in c-client with Dovecot's flags and its bytes whole;
  7. rollback again: nothing appended, every mbox unchanged;
  8. a run killed between "pending" and "done" (simulated: a record left
     pending and garbage after the old end) is cut back and done again;
  9. hostile users (rollback runs as root): a message whose name holds newlines that
     forge record lines is carried once, even run twice, and no mbox is
     cut; a forged or damaged record and a pending one whose checksum
     does not match are refused, nothing cut; a FIFO as dovecot-uidlist,
     dovecot-keywords, a message file, subscriptions, ~/.mailboxlist, an
     mbox, and a FIFO dovecot-uidlist met by a migrate re-run: each run
     ends promptly with a refusal that says "FIFO"; a sparse 700 MB
     subscriptions and a sparse message are refused from fstat (memory
     capped at 256 MB for the run); a maildir folder that is a symlink to
     another user's is not followed.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (20041109), M2D_KEEP=1.
"""

import hashlib
import imaplib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True

import dovecot_harness as dh  # noqa: E402
import genspool as gs  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
DUMP = os.path.join(TOP, BUILD, "tools", "mbox-dump")
CCLIENT = os.path.join(TOP, BUILD, "tools", "cclient-dump")
USERS = ["alice", "bob"]


def sha(path, size=None):
    with open(path, "rb") as f:
        data = f.read() if size is None else f.read(size)
    return hashlib.sha256(data).hexdigest()


def dump(path, outdir=None):
    """[meta, msg...] from the project's reader."""
    args = [DUMP, path] + ([outdir] if outdir else [])
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("mbox-dump %s: %s" % (path, r.stderr.strip()))
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    return lines[0], lines[1:]


def mboxo(lf):
    """What an mbox holds and serves of LF: ">" before every line that
    begins "From " (mboxo, as UW and Postfix write; never unquoted)."""
    return re.sub(rb"(?m)^From ", b">From ", lf)


def imap_date(epoch):
    return imaplib.Time2Internaldate(epoch)


def new_message(subject, body_lines):
    """(CRLF bytes for APPEND, LF bytes as stored and served)."""
    head = ["From: Tester <tester@example.org>", "To: someone@example.org",
            "Subject: " + subject,
            "Message-ID: <%s@rollback.test>" % subject.replace(" ", "-")]
    lf = ("\n".join(head) + "\n\n" + "\n".join(body_lines) + "\n").encode()
    return lf.replace(b"\n", b"\r\n"), lf


def run(ctx, *args, timeout=120):
    argv = [PROG] + list(args)
    r = subprocess.run(argv, env=ctx["env"], capture_output=True,
                       timeout=timeout)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


def base_args(ctx):
    return ["--config", ctx["config"], "--spool", ctx["spool"], "--homes",
            ctx["homes"], "--target", ctx["target"], "--work", ctx["work"],
            "--users", ",".join(USERS)]


def uw_letters(imap_flags):
    m = {"\\Seen": "R", "\\Answered": "A", "\\Flagged": "F",
         "\\Draft": "T", "\\Deleted": "D"}
    return {m[f] for f in imap_flags if f in m}


def main():
    tap = Tap()
    why = dh.available()
    if why:
        tap.skip(why)
        return tap.done()
    tmp = tempfile.mkdtemp(prefix="m2d-rollback-")
    try:
        test(tap, tmp)
    except Exception as e:      # a crash of the test is a failure
        import traceback
        tap.ok(False, "the test ran to its end",
               traceback.format_exc().splitlines() + [str(e)])
    if not os.environ.get("M2D_KEEP") and tap.failures == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tap.note("kept %s" % tmp)
    return tap.done()


def test(tap, tmp):
    seed = int(os.environ.get("M2D_SEED", "20041109"))
    out = os.path.join(tmp, "spool-gen")
    manifest = gs.generate(tap, out, seed, len(USERS), 6)
    if manifest is None:
        return
    uid, gid = dh.mail_owner()
    for u in USERS:
        for p in (os.path.join(out, "spool", u), os.path.join(out, "home",
                                                              u)):
            for dp, dirs, files in os.walk(p):
                os.lchown(dp, uid, gid)
                for n in dirs + files:
                    os.lchown(os.path.join(dp, n), uid, gid)
            if os.path.isfile(p):
                os.lchown(p, uid, gid)
    ctx = {
        "spool": os.path.join(out, "spool"),
        "homes": os.path.join(out, "home"),
        "target": os.path.join(tmp, "target"),
        "work": os.path.join(tmp, "work"),
        "config": os.path.join(tmp, "m2d.conf"),
        "env": gs.run_env(manifest),
    }
    gs.default_config(ctx["config"], "# the defaults (pop3_uidl = auto)\n")

    rc, so, se = run(ctx, "migrate", *base_args(ctx))
    if not tap.ok(rc == 0, "migrate", [so, se]):
        return
    sources = {}        # (user, IMAP name) -> (path, size, sha256)
    for u in USERS:
        for fo in manifest["users"][u]["folders"]:
            p = os.path.join(out, fo["mbox"])
            sources[(u, fo["name"])] = (p, os.path.getsize(p), sha(p))

    # ---- POP3: the generator's setting in a real Dovecot ----
    dconf = os.path.join(tmp, "etc-dovecot", "dovecot.conf")
    os.makedirs(os.path.dirname(dconf))
    with open(dconf, "w") as f:
        f.write("protocols = imap pop3\n")
    rc, so, se = run(ctx, "dovecot-conf", "preview", "--config",
                     ctx["config"], "--dovecot-conf", dconf, "--target",
                     ctx["target"], "--work", ctx["work"])
    m = re.search(r"^\+(pop3_uidl_format = .*)$", so, re.M)
    tap.ok(rc == 0 and m is not None and
           "+# POP3: the UIDLs UW-IMAP gave" in so,
           "dovecot-conf preview: pop3_uidl_format with the reason, as pop3 "
           "is among the protocols", [so, se])
    uidl_line = m.group(1) if m else "pop3_uidl_format = %08Xv%08Xu"
    pop3_bin = os.path.exists("/usr/lib/dovecot/pop3")
    if not pop3_bin:
        subprocess.run(["apt-get", "install", "-y", "-qq", "dovecot-pop3d"],
                       capture_output=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        pop3_bin = os.path.exists("/usr/lib/dovecot/pop3")

    dc = dh.Dovecot(ctx["target"], USERS, uid=uid, gid=gid,
                    extra_conf=uidl_line + "\n", pop3=pop3_bin)
    with dc:
        if pop3_bin:
            for u in USERS:
                meta, msgs = dump(sources[(u, "INBOX")][0])
                if not meta["have_base"]:
                    tap.skip("%s's INBOX has no UW UIDs" % u)
                    continue
                want = ["%08x%08x" % (meta["uidvalidity"], mm["uid"])
                        for mm in msgs]
                p = dc.pop3(u)
                resp, lines, _ = p.uidl()
                p.quit()
                got = [ln.decode().split()[1] for ln in lines]
                tap.ok(got == want, "POP3 UIDL of %s's %d INBOX messages "
                       "through Dovecot = UW's %%08lx%%08lx of UIDVALIDITY "
                       "and UID" % (u, len(want)),
                       ["want %s" % want, "got  %s" % got])
        else:
            tap.skip("dovecot-pop3d not installed")

        # ---- new mail after cutover ----
        expect = {}     # (user, name) -> [dict(lf, flags, kw, date, uid)]
        imap = dc.imap("alice")
        folder = next(fo["name"] for fo in manifest["users"]["alice"]
                      ["folders"] if fo["name"] != "INBOX" and
                      fo["uidvalidity"] is not None and fo["messages"])
        date1 = 1767225600 + 3600 * 5 + 17       # 2026-01-01 05:00:17 UTC
        crlf, lf = new_message("after cutover one", [
            "Hello.", "From the start, this line needs a quote.",
            ">From here it is quoted already.", "Status: RO",
            "X-UID: 99999", "", "The end."])
        typ, data = imap.append("INBOX", "(\\Seen \\Flagged $Work)",
                                imap_date(date1), crlf)
        au = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
        expect.setdefault(("alice", "INBOX"), []).append(dict(
            lf=lf, flags={"R", "F"}, kw={"$Work"}, date=date1,
            uid=int(au.group(2)), uidvalidity=int(au.group(1))))
        # UW's own headers inside a new message must not reach UW as its
        crlf, lf = new_message("after cutover two", ["Second.", "From me"])
        # the header has a Status line of its own: dropped
        crlf = crlf.replace(b"Subject:", b"Status: RO\r\nX-Keywords: Junk"
                            b"\r\nSubject:", 1)
        typ, data = imap.append(dh.imap_quote(dh.mutf7_encode(folder)),
                                "(\\Answered Project)",
                                imap_date(date1 + 60), crlf)
        au = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
        expect.setdefault(("alice", folder), []).append(dict(
            lf=lf, flags={"A"}, kw={"Project"}, date=date1 + 60,
            uid=int(au.group(2)), uidvalidity=int(au.group(1))))
        newname = "Projekte 2026/Entw\u00fcrfe"
        typ, _ = imap.create(dh.imap_quote(dh.mutf7_encode(newname)))
        tap.ok(typ == "OK", "CREATE %s" % newname)
        typ, _ = imap.subscribe(dh.imap_quote(dh.mutf7_encode(newname)))
        tap.ok(typ == "OK", "SUBSCRIBE %s" % newname)
        for i, (fl, kw, letters) in enumerate([
                ("(\\Draft)", set(), {"T"}),
                ("(\\Seen Plan-B)", {"Plan-B"}, {"R"})]):
            crlf, lf = new_message("draft %d" % i, ["Draft %d." % i])
            typ, data = imap.append(dh.imap_quote(dh.mutf7_encode(newname)),
                                    fl, imap_date(date1 + 120 + i), crlf)
            au = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
            expect.setdefault(("alice", newname), []).append(dict(
                lf=lf, flags=letters, kw=kw, date=date1 + 120 + i,
                uid=int(au.group(2)), uidvalidity=int(au.group(1))))
        # a flag changed on an old message of alice's INBOX
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", "UNFLAGGED")
        old_uid = int(data[0].split()[0])
        imap.uid("STORE", str(old_uid), "+FLAGS.SILENT", "(\\Flagged)")
        imap.logout()
        # an old message of bob's INBOX expunged
        imap = dc.imap("bob")
        imap.select("INBOX")
        imap.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
        typ, data = imap.uid("SEARCH", "ALL")
        keep = data[0].split()[1:]
        if keep:
            imap.uid("STORE", b",".join(keep).decode(), "-FLAGS.SILENT",
                     "(\\Deleted)")
        imap.expunge()
        # a lower-case "status:" (c-client takes any case as its own
        # Status and hides it) and a Content-Length that is wrong (UW
        # serves it as it is; the message must not end after 7 bytes)
        crlf, _ = new_message("lower-case status", [
            "Body line one.", "From the body: quoted in the mbox.",
            "Body line three, well past seven bytes."])
        crlf = crlf.replace(b"Subject:", b"status: RO\r\nContent-Length: 7"
                            b"\r\nSubject:", 1)
        typ, data = imap.append("INBOX", "(\\Answered)",
                                imap_date(date1 + 300), crlf)
        au = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
        imap.select("INBOX", readonly=True)
        typ, data = imap.uid("FETCH", au.group(2).decode(),
                             "(FLAGS BODY.PEEK[])")
        shown = next(d for d in data if isinstance(d, tuple))
        shown_flags = re.search(rb"FLAGS \(([^)]*)\)", shown[0])
        shown_flags = shown_flags.group(1).decode().split() \
            if shown_flags else []
        # what UW can show of it: the same bytes without the "status:"
        # line, UW's hidden field; the flags Dovecot had
        shown_lf = shown[1].replace(b"\r\n", b"\n")
        uw_view = shown_lf.replace(b"status: RO\n", b"", 1)
        tap.ok(b"status: RO\n" in shown_lf and
               b"Content-Length: 7\n" in shown_lf and
               shown_flags == ["\\Answered"],
               "Dovecot shows the lower-case status: and Content-Length: "
               "message as appended, flags \\Answered only",
               [shown_lf, shown_flags])
        lower_status = dict(lf=uw_view, flags=uw_letters(shown_flags),
                            kw=set(), date=date1 + 300, uid=None,
                            sender="MAILER-DAEMON")
        expect.setdefault(("bob", "INBOX"), []).append(lower_status)
        imap.logout()

        # a delivery through dovecot-lda, as Postfix would run it
        lda = dh.find_program("dovecot-lda") or (
            "/usr/lib/dovecot/dovecot-lda"
            if os.path.exists("/usr/lib/dovecot/dovecot-lda") else None)
        if lda:
            msg = (b"Return-Path: <sender@example.net>\n"
                   b"From: sender@example.net\nTo: bob@example.org\n"
                   b"Subject: delivered by lda\n\nFrom LDA with love.\n")
            t0 = int(time.time())
            r = subprocess.run([lda, "-c", dc.conf, "-d", "bob", "-f",
                                "sender@example.net"], input=msg,
                               capture_output=True)
            ok = tap.ok(r.returncode == 0, "dovecot-lda delivered to bob",
                        [r.stderr.decode("utf-8", "replace")])
            if ok:
                expect.setdefault(("bob", "INBOX"), []).append(dict(
                    lf=msg, flags=set(), kw=set(), date=None, after=t0,
                    uid=None, sender="sender@example.net"))
        else:
            tap.skip("dovecot-lda not installed")
        status = dc.mailbox_status("alice", ("messages", "uidvalidity"))
    # Dovecot is stopped: nobody changes a maildir during the rollback

    # a maildir delivery as Postfix's local(8) makes it (new/, not yet in
    # dovecot-uidlist), without a final newline
    raw = b"Return-Path: <>\nSubject: raw delivery\n\nno final newline"
    rawpath = os.path.join(ctx["target"], "alice", "new",
                           "1767300000.M1P1.rollback-test")
    with open(rawpath, "wb") as f:
        f.write(raw)
    os.chown(rawpath, uid, gid)
    os.utime(rawpath, (1767300000, 1767300000))
    expect[("alice", "INBOX")].append(dict(
        lf=raw + b"\n", flags=set(), kw=set(), date=1767300000, uid=None,
        sender="MAILER-DAEMON", recent=True))

    rc, so, se = run(ctx, "rollback", "--mail-only", *base_args(ctx))
    tap.ok(rc == 0, "rollback --mail-only", [so, se])
    tap.note(so)
    tap.ok(re.search(r"^alice INBOX: 2 new messages appended", so, re.M)
           and re.search(r"^  1 old messages had their flags", so, re.M),
           "the report: alice's INBOX, two appended, one flag change", [so])
    tap.ok(re.search(r"^alice INBOX: .*\n(  .*\n)*  1 new messages carry "
                     r"keywords the mbox does not declare", so, re.M),
           "the report: $Work, undeclared in alice's INBOX, UW will not "
           "show", [so])
    tap.ok(re.search(r"^bob INBOX: .*\n  1 old messages were deleted", so,
                     re.M), "the report: bob's expunged old message", [so])

    # ---- the old bytes, untouched ----
    bad = []
    for (u, name), (p, size, digest) in sorted(sources.items()):
        if sha(p, size) != digest:
            bad.append("%s %s" % (u, name))
    tap.ok(not bad, "the first bytes of every mbox (%d) are byte-identical "
           "to before" % len(sources), bad)

    # ---- read back with the project's reader ----
    newpath = os.path.join(ctx["homes"], "alice", "mail", newname)
    paths = {k: v[0] for k, v in sources.items()}
    paths[("alice", newname)] = newpath
    st = os.stat(newpath) if os.path.exists(newpath) else None
    tap.ok(st is not None and (st.st_mode & 0o777) == 0o600 and
           (st.st_uid, st.st_gid) == (uid, gid),
           "the new folder became %s, 0600, owned like the inbox" % newpath,
           [repr(st)])
    mlist = os.path.join(ctx["homes"], "alice", ".mailboxlist")
    try:
        with open(mlist, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        lines = [str(e)]
    tap.ok(lines.count("mail/" + newname) == 1,
           "subscribed in Dovecot: mail/%s in alice's ~/.mailboxlist for UW, "
           "once" % newname, lines)
    for (u, name), want in sorted(expect.items()):
        path = paths[(u, name)]
        outdir = tempfile.mkdtemp(dir=tmp)
        meta, msgs = dump(path, outdir)
        nold = len(next(fo for fo in manifest["users"][u]["folders"]
                        if fo["name"] == name)["messages"]) \
            if (u, name) in sources else 0
        got = msgs[nold:]
        diag = []
        if len(got) != len(want):
            diag.append("%d new messages, want %d" % (len(got), len(want)))
        for g, w in zip(got, want):
            with open(os.path.join(outdir, str(g["seq"])), "rb") as f:
                body = f.read()
            if body != mboxo(w["lf"]):
                diag.append("seq %d: bytes %r, want %r" % (
                    g["seq"], body, mboxo(w["lf"])))
            if w.get("recent") and "O" in g["flags"]:
                diag.append("seq %d: Status O, but it is in new/" % g["seq"])
            flags = set(g["flags"]) - {"O"}
            if flags != w["flags"]:
                diag.append("seq %d: flags %s, want %s" % (
                    g["seq"], sorted(flags), sorted(w["flags"])))
            # the reader keeps, as UW's c-client does, only the keywords
            # the folder declares (a new mbox declares all): rollback.h
            declared = {k.lower() for k in meta["keywords"].split()} \
                if (u, name) in sources else {k.lower() for k in w["kw"]}
            if {k.lower() for k in g["keywords"].split()} != \
                    {k.lower() for k in w["kw"]} & declared:
                diag.append("seq %d: keywords %r, want %s of %s" % (
                    g["seq"], g["keywords"], sorted(w["kw"]),
                    sorted(declared)))
            if w["date"] is not None and g["date"] != w["date"]:
                diag.append("seq %d: date %d, want %d" % (g["seq"], g["date"],
                                                         w["date"]))
            if w["date"] is None and not (w["after"] - 5 <= g["date"] <=
                                          time.time() + 5):
                diag.append("seq %d: date %d not the delivery's" % (
                    g["seq"], g["date"]))
            if w["uid"] is not None and g["uid"] != w["uid"]:
                diag.append("seq %d: UID %d, Dovecot's was %d" % (
                    g["seq"], g["uid"], w["uid"]))
            if w.get("sender") and g["sender"] != w["sender"]:
                diag.append("seq %d: From_ sender %r" % (g["seq"],
                                                         g["sender"]))
        if (u, name) not in sources and want:
            if meta["uidvalidity"] != want[0]["uidvalidity"]:
                diag.append("UIDVALIDITY %d, Dovecot's %d" % (
                    meta["uidvalidity"], want[0]["uidvalidity"]))
        if nold and len(msgs) >= nold:
            # the old ones are still there, in order
            pass
        tap.ok(not diag, "%s %s: %d old messages, then the %d new ones with "
               "bytes, flags, keywords, date and UID (project's reader)" % (
                   u, name, nold, len(want)), diag)

    # ---- and with UW's c-client ----
    if os.path.exists(CCLIENT):
        for (u, name), want in sorted(expect.items()):
            copy = os.path.join(tmp, "cc-%s-%d" % (u, len(name)))
            shutil.copyfile(paths[(u, name)], copy)
            outdir = tempfile.mkdtemp(dir=tmp)
            r = subprocess.run([CCLIENT, copy, outdir], capture_output=True,
                               text=True, env=ctx["env"])
            lines = [json.loads(ln) for ln in r.stdout.splitlines()]
            diag = [r.stderr] if r.returncode != 0 else []
            if not lines:
                tap.ok(False, "c-client reads %s %s" % (u, name), diag)
                continue
            cmeta, cmsgs = lines[0], lines[1:]
            pmeta, pmsgs = dump(paths[(u, name)])
            if "greater than last" in r.stderr or \
                    "less than" in r.stderr:
                diag.append("c-client reset the UIDs: " + r.stderr)
            if (u, name) in sources and pmeta["have_base"] and \
                    cmeta["uidvalidity"] != pmeta["uidvalidity"]:
                diag.append("UIDVALIDITY %d, the mbox says %d" % (
                    cmeta["uidvalidity"], pmeta["uidvalidity"]))
            if (u, name) not in sources and \
                    cmeta["uidvalidity"] != want[0]["uidvalidity"]:
                diag.append("UIDVALIDITY %d, Dovecot's %d" % (
                    cmeta["uidvalidity"], want[0]["uidvalidity"]))
            if len(cmsgs) != len(pmsgs):
                diag.append("%d messages, our reader %d" % (len(cmsgs),
                                                           len(pmsgs)))
            got = cmsgs[len(cmsgs) - len(want):]
            for g, w in zip(got, want):
                with open(os.path.join(outdir, str(g["seq"])), "rb") as f:
                    body = f.read().replace(b"\r\n", b"\n")
                if body != mboxo(w["lf"]):
                    diag.append("seq %d: bytes %r" % (g["seq"], body))
                if set(g["flags"]) != w["flags"]:
                    diag.append("seq %d: flags %s, want %s" % (
                        g["seq"], g["flags"], sorted(w["flags"])))
                # UW knows only the keywords the folder declares (in the
                # old bytes; a new mbox declares all): rollback.h
                declared = {k.lower() for k in pmeta["keywords"].split()} \
                    if (u, name) in sources else \
                    {k.lower() for k in w["kw"]}
                if {k.lower() for k in g["keywords"]} != \
                        {k.lower() for k in w["kw"]} & declared:
                    diag.append("seq %d: keywords %s" % (g["seq"],
                                                        g["keywords"]))
                if w["date"] is not None and g["date"] != w["date"]:
                    diag.append("seq %d: date %d, want %d" % (
                        g["seq"], g["date"], w["date"]))
                if w["uid"] is not None and g["uid"] != w["uid"]:
                    diag.append("seq %d: UID %d, Dovecot's was %d" % (
                        g["seq"], g["uid"], w["uid"]))
            tap.ok(not diag, "%s %s read by UW's c-client: the new messages "
                   "with flags, keywords, date, UID; UIDVALIDITY kept" % (
                       u, name), diag)
            if (u, name) == ("bob", "INBOX"):
                # the lower-case status: message, as c-client serves it
                k = want.index(lower_status)
                g = got[k] if k < len(got) else None
                body = None
                if g is not None:
                    with open(os.path.join(outdir, str(g["seq"])),
                              "rb") as f:
                        body = f.read().replace(b"\r\n", b"\n")
                tap.ok(g is not None and
                       set(g["flags"]) == lower_status["flags"] and
                       body == mboxo(lower_status["lf"]) and
                       g["size"] == len(mboxo(lower_status["lf"])) +
                       mboxo(lower_status["lf"]).count(b"\n"),
                       "a lower-case status: and a Content-Length: header: "
                       "c-client shows what Dovecot showed (flags %s, the "
                       "bytes whole, without the status line UW hides)" %
                       sorted(lower_status["flags"]),
                       [g, body, lower_status])
    else:
        tap.skip("libc-client2007e-dev not installed: no c-client check")

    # ---- again: nothing twice ----
    before = {k: sha(p) for k, p in paths.items()}
    rc, so, se = run(ctx, "rollback", "--mail-only", *base_args(ctx))
    after = {k: sha(p) for k, p in paths.items()}
    tap.ok(rc == 0 and before == after and
           re.search(r"folders: 0 messages appended", so),
           "rollback again appends nothing: every mbox unchanged", [so, se])

    # ---- a run killed while appending is cut back and redone ----
    rec = os.path.join(ctx["work"], "rollback", "alice", "INBOX")
    inbox = paths[("alice", "INBOX")]
    with open(rec) as f:
        text = f.read()
    size_done = int(re.search(r"^size (\d+)$", text, re.M).group(1))
    orig = sources[("alice", "INBOX")][1]
    good = sha(inbox)
    with open(rec, "w") as f:
        f.write("mbox2dovecot-rollback 1\nstate pending\nbefore %d\n"
                "size %d\n" % (orig, orig))
    with open(inbox, "ab") as f:
        f.write(b"From half-written Thu Jan  1 00:00:00 2026\nSubj")
    rc, so, se = run(ctx, "rollback", "--mail-only", *base_args(ctx))
    tap.ok(rc == 0 and sha(inbox) == good and
           os.path.getsize(inbox) == size_done,
           "after a run killed while appending: cut back and appended "
           "again, the same bytes", [so, se])

    hostile(tap, ctx, paths, uid, gid)

    # ---- the whole rollback, every system command a harmless stand-in ----
    postconf = shutil.which("postconf") or "/usr/sbin/postconf"
    if not os.path.exists(postconf):
        tap.skip("postconf not installed: no run of the whole rollback")
        hostile_migrate(tap, ctx)
        return
    pfdir = os.path.join(tmp, "postfix")
    os.makedirs(pfdir)
    main_cf = os.path.join(pfdir, "main.cf")
    original = "# the admin's main.cf\nmail_spool_directory = %s/\n" % \
        ctx["target"]
    with open(main_cf, "w") as f:
        f.write(original)
    marks = os.path.join(tmp, "marks")
    os.makedirs(marks)
    conf = os.path.join(tmp, "m2d-system.conf")
    with open(conf, "w") as f:
        f.write("""postfix_config_dir = "%(pf)s"
postconf_command = "%(postconf)s"
postfix_reload_command = "touch %(m)s/postfix-reloaded"
postfix_flush_command = "touch %(m)s/queue-flushed"
service dovecot {
  stop = "touch %(m)s/dovecot-stopped"
  start = "touch %(m)s/dovecot-started"
  probe = "none"
}
service uw-imap {
  enable = "touch %(m)s/uw-enabled"
  probe = "none"
}
""" % {"pf": pfdir, "postconf": postconf, "m": marks})
    # the cutover's main.cf: maildir delivery, recorded as ours
    rc, so, se = run(ctx, "postfix-conf", "apply", "--hold", "--config", conf,
                     "--work", ctx["work"], "--postfix-dir", pfdir,
                     "--postfix", "true", "--postqueue", "true")
    held = open(main_cf).read()
    tap.ok(rc == 0 and "defer_transports = local" in held,
           "a hold of ours in a private main.cf (stands for the cutover's "
           "edits)", [so, se, held])
    # what that apply ran itself (its reload, the configured stand-in)
    # is not the rollback's
    for n in os.listdir(marks):
        os.unlink(os.path.join(marks, n))
    rc, so, se = run(ctx, "rollback", "--dry-run", "--config", conf,
                     "--spool", ctx["spool"], "--homes", ctx["homes"],
                     "--target", ctx["target"], "--work", ctx["work"],
                     "--users", ",".join(USERS))
    tap.ok(rc == 0 and open(main_cf).read() == held and
           not os.listdir(marks) and "would" in so,
           "rollback --dry-run: says what it would do, changes nothing",
           [so, se, os.listdir(marks)])
    rc, so, se = run(ctx, "rollback", "--config", conf, "--spool",
                     ctx["spool"], "--homes", ctx["homes"], "--target",
                     ctx["target"], "--work", ctx["work"], "--users",
                     ",".join(USERS))
    done = sorted(os.listdir(marks))
    tap.ok(rc == 0 and open(main_cf).read() == original and
           done == ["dovecot-stopped", "postfix-reloaded", "queue-flushed",
                    "uw-enabled"] and
           not os.path.exists(os.path.join(ctx["work"], "postfix-hold")),
           "rollback: delivery held, Dovecot stopped, mail carried, main.cf "
           "back byte for byte, Postfix reloaded and flushed, UW enabled",
           [so, se, done])
    hostile_migrate(tap, ctx)


def sanitized():
    """Built with SANITIZE=: AddressSanitizer reserves terabytes of
    address space, so no RLIMIT_AS can be set for it."""
    r = subprocess.run([PROG, "--version"], capture_output=True)
    return b"\nsanitizers: " in r.stdout


def run_capped(ctx, *args, timeout=60, mem=256 << 20):
    """run() under an address-space cap: what a refusal costs.  Under
    the sanitizers, the peak resident memory (tools/peak-rss) must stay
    below the cap instead: reading what should have been refused would
    take hundreds of MB either way."""
    import resource
    import tempfile

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    argv = [PROG] + list(args)
    report = None
    if sanitized():
        report = tempfile.NamedTemporaryFile(prefix="m2d-rss.",
                                             delete=False).name
        argv = [os.path.join(TOP, BUILD, "tools", "peak-rss"),
                report] + argv
    try:
        r = subprocess.run(argv, env=ctx["env"], capture_output=True,
                           timeout=timeout,
                           preexec_fn=None if report else cap)
    except subprocess.TimeoutExpired:
        return (None, "", "TIMEOUT after %d s" % timeout)
    rc, so, se = (r.returncode, r.stdout.decode("utf-8", "replace"),
                  r.stderr.decode("utf-8", "replace"))
    if report:
        with open(report) as f:
            line = f.read()
        os.unlink(report)
        m = re.search(r"maxrss_kib=(\d+)", line)
        if m is None or int(m.group(1)) * 1024 >= mem:
            return (None, so, se + "\npeak RSS over the cap: " + line)
    return (rc, so, se)


def hostile(tap, ctx, paths, uid, gid):
    """Hostile users: what a user can plant in the maildir and the home."""
    root = os.path.join(ctx["target"], "alice")
    inbox = paths[("alice", "INBOX")]
    rec = os.path.join(ctx["work"], "rollback", "alice", "INBOX")

    # -- a name that forges record lines --
    evil = "1700000000.evil\nstate pending\nbefore 0\nx:2,S"
    body = b"Return-Path: <evil@example.net>\nSubject: evil name\n\nhi\n"
    ep = os.path.join(root, "cur", evil)
    with open(ep, "wb") as f:
        f.write(body)
    os.chown(ep, uid, gid)
    os.utime(ep, (1767400000, 1767400000))
    size0 = os.path.getsize(inbox)
    with open(inbox, "rb") as f:
        head0 = hashlib.sha256(f.read()).hexdigest()
    counts = []
    for i in range(2):
        rc, so, se = run_capped(ctx, "rollback", "--mail-only",
                                *base_args(ctx))
        data = open(inbox, "rb").read()
        counts.append((rc, data.count(b"Subject: evil name"),
                       len(data) >= size0 and
                       hashlib.sha256(data[:size0]).hexdigest() == head0))
    text = open(rec, encoding="utf-8", errors="replace").read()
    tap.ok(counts == [(0, 1, True), (0, 1, True)] and
           "\nstate pending\n" not in text.split("\nm ", 1)[-1] and
           "m 1700000000.evil\\nstate\\spending" in text,
           "a message named with newlines that forge record lines: "
           "carried once (run twice), the mbox never cut, its name stored "
           "escaped", [counts, text[-400:], so, se])
    tap.ok(not re.search(r"^(state|before) ", so, re.M),
           "no output line forged by the name", [so])

    # -- a record it did not write (a version 1 record with a forged
    #    line) is refused, the mbox untouched --
    good_rec = open(rec, "rb").read()
    good = sha(inbox)
    with open(rec, "w") as f:
        f.write("mbox2dovecot-rollback 1\nstate done\nbefore 0\nsize 0\n"
                "m 1700000000.evil\nstate pending\nbefore 0\nm x\n")
    rc, so, se = run_capped(ctx, "rollback", "--mail-only", *base_args(ctx))
    tap.ok(rc == 1 and sha(inbox) == good and
           re.search(r"FAILED alice INBOX: .*rollback/alice/INBOX:6: not a "
                     r"rollback record", so),
           "a forged record is refused (its file and line named), the mbox "
           "untouched", [rc, so, se])

    # -- a pending record whose checksum is not the mbox's: nothing cut --
    m = re.search(r"^size (\d+)$", good_rec.decode("utf-8", "replace"),
                  re.M)
    size_done = int(m.group(1))
    with open(rec, "w") as f:
        f.write("mbox2dovecot-rollback 2\nstate pending\nbefore %d\n"
                "beforesum 0123456789abcdef\nsize %d\n" %
                (size_done, size_done))
    with open(inbox, "ab") as f:
        f.write(b"From half-written Thu Jan  1 00:00:00 2026\nSubj")
    grown = os.path.getsize(inbox)
    rc, so, se = run_capped(ctx, "rollback", "--mail-only", *base_args(ctx))
    tap.ok(rc == 1 and os.path.getsize(inbox) == grown and
           "nothing cut" in so,
           "a pending record whose checksum does not match: the mbox is not "
           "cut", [rc, so, se])
    with open(rec, "wb") as f:
        f.write(good_rec)
    os.truncate(inbox, size_done)

    # -- FIFOs where the user's files are: each run ends, says "FIFO" --
    subs = os.path.join(root, "subscriptions")
    mlist = os.path.join(ctx["homes"], "alice", ".mailboxlist")
    newmsg = os.path.join(root, "new", "1767500000.M1P1.fifo-test")
    for what, path, want_rc in [
            ("dovecot-uidlist", os.path.join(root, "dovecot-uidlist"), 1),
            ("dovecot-keywords", os.path.join(root, "dovecot-keywords"), 1),
            ("a message file", newmsg, 1),
            ("subscriptions", subs, 0),
            ("~/.mailboxlist", mlist, 0)]:
        saved = path + ".h3-saved"
        had = os.path.lexists(path)
        if had:
            os.rename(path, saved)
        os.mkfifo(path, 0o600)
        os.chown(path, uid, gid)
        before = sha(inbox)
        t0 = time.time()
        rc, so, se = run_capped(ctx, "rollback", "--mail-only",
                                *base_args(ctx))
        took = time.time() - t0
        os.unlink(path)
        if had:
            os.rename(saved, path)
        tap.ok(rc == want_rc and took < 30 and "FIFO" in so and
               sha(inbox) == before,
               "a FIFO as %s: rollback --mail-only ends (%.1f s) and says "
               "why" % (what, took), [rc, so, se])

    # -- a FIFO mbox (a folder's mbox replaced) --
    sent = paths[("alice", "Sent")]
    os.rename(sent, sent + ".h3-saved")
    os.mkfifo(sent, 0o600)
    rc, so, se = run_capped(ctx, "rollback", "--dry-run", "--mail-only",
                            *base_args(ctx))
    os.unlink(sent)
    os.rename(sent + ".h3-saved", sent)
    tap.ok(rc == 1 and "FIFO" in so,
           "a FIFO in place of an mbox: rollback --dry-run ends and says "
           "why", [rc, so, se])

    # -- a sparse 700 MB subscriptions: refused from fstat --
    os.rename(subs, subs + ".h3-saved")
    with open(subs, "wb") as f:
        f.truncate(700 << 20)
        f.seek((700 << 20) - 2)
        f.write(b"x\n")
    os.chown(subs, uid, gid)
    rc, so, se = run_capped(ctx, "rollback", "--mail-only",
                            *base_args(ctx), mem=128 << 20)
    os.unlink(subs)
    os.rename(subs + ".h3-saved", subs)
    tap.ok(rc == 0 and re.search(r"subscriptions: is 734003200 bytes, more "
                                 r"than", so),
           "a sparse 700 MB subscriptions: refused from its size (run "
           "capped at 128 MB)", [rc, so, se])

    # -- a sparse 2 GB message file: refused, the mbox untouched --
    sp = os.path.join(root, "new", "1767600000.M1P1.sparse")
    with open(sp, "wb") as f:
        f.write(b"Subject: sparse\n\n")
        f.truncate(2 << 30)
    os.chown(sp, uid, gid)
    before = sha(inbox)
    rc, so, se = run_capped(ctx, "rollback", "--mail-only",
                            *base_args(ctx))
    os.unlink(sp)
    tap.ok(rc == 1 and sha(inbox) == before and
           re.search(r"(sparse|more than)", so),
           "a sparse 2 GB message file: refused, the mbox untouched",
           [rc, so, se])

    # -- a folder that is a symlink to bob's: not followed --
    bobs = os.path.join(ctx["target"], "bob", ".Sent")
    link = os.path.join(root, ".Sent")
    os.rename(link, link + ".h3-saved")
    os.symlink(bobs, link)
    before = sha(paths[("alice", "Sent")])
    rc, so, se = run_capped(ctx, "rollback", "--mail-only",
                            *base_args(ctx))
    os.unlink(link)
    os.rename(link + ".h3-saved", link)
    tap.ok(rc == 1 and sha(paths[("alice", "Sent")]) == before and
           "symbolic link" in so,
           "alice's maildir folder a symlink to bob's: not followed",
           [rc, so, se])

    # everything as it was: a run appends nothing more
    rc, so, se = run(ctx, "rollback", "--mail-only", *base_args(ctx))
    tap.ok(rc == 0 and re.search(r"folders: 0 messages appended", so),
           "after the hostile runs: rollback appends nothing, fails "
           "nothing", [so, se])


def hostile_migrate(tap, ctx):
    """Last (it changes the journal): a migrate re-run meets a FIFO."""
    # -- a FIFO dovecot-uidlist met by a migrate re-run (the source grew
    #    since: the target is checked before it is replaced) --
    root = os.path.join(ctx["target"], "alice")
    ul = os.path.join(root, "dovecot-uidlist")
    os.rename(ul, ul + ".h3-saved")
    os.mkfifo(ul, 0o600)
    rc, so, se = run_capped(ctx, "migrate", *base_args(ctx), timeout=120)
    os.unlink(ul)
    os.rename(ul + ".h3-saved", ul)
    tap.ok(rc is not None and rc != 0 and "FIFO" in so + se,
           "a FIFO dovecot-uidlist: a migrate re-run ends and says why",
           [rc, so, se])


if __name__ == "__main__":
    sys.exit(main())
