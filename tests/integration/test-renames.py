#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rename decisions without the wizard, for scripts: --renames FILE and
--accept-suggested-names.

A spool whose folders need renames -- a '.' inside a name, a file called
INBOX, a Latin-1 name, a name beginning with '~' -- beside ordinary ones:

  1. migrate --accept-suggested-names: one command, exit 0, every folder in
     the maildir, and a real Dovecot's LIST "" "*" shows each exactly once
     with its messages (STATUS);
  2. migrate --renames FILE (a typed name with levels, an exclusion, the
     Latin-1 source written as its raw bytes): the same, the excluded folder
     absent; migrate-folders, plan and check take the file as well, and a
     --folderlist subset ignores the lines of the folders it leaves out;
  3. refused with FILE:LINE and nothing migrated: a name that clashes with an
     existing folder, two sources given one name, a bad name, a line without
     a TAB, a source listed twice, the INBOX renamed;
  4. the runbook: --batch without --yes stops at step 4 listing the folders
     and naming both options (exit 4); --batch --renames FILE and --batch
     --accept-suggested-names get past it; the decisions are written to
     WORK/renames in the same form, and that file read back decides a fresh
     run.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_KEEP=1 keeps the temp dir.
"""

import os
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
UID = GID = 64031
USER = "ursula"
LATIN1 = b"Entw\xfcrfe"
# file under ~/mail -> number of messages
FOLDERS = {
    b"a.b": 2,
    b"INBOX": 1,
    LATIN1: 3,
    b"~old": 1,
    b"sent-mail": 2,
    b"Trash": 1,
    b"work/2004": 1,
}
INBOX_MSGS = 2

tap = Tap(max_diag=30, tail=True)
ok = tap.ok


def mbox(name, n):
    out = b""
    for i in range(n):
        out += (b"From a@example.org Tue Nov  9 10:11:%02d 2004\n"
                b"Subject: %s %d\nMessage-ID: <%d.%s@t>\n\nbody\n\n"
                % (i, name, i, i, name.replace(b"/", b"_")))
    return out


def make_tree(root):
    spool = os.path.join(root, "spool")
    mail = os.path.join(root, "home", USER, "mail")
    os.makedirs(spool)
    os.makedirs(os.path.join(mail, "work"))
    with open(os.path.join(spool, USER), "wb") as f:
        f.write(mbox(b"inbox", INBOX_MSGS))
    for name, n in FOLDERS.items():
        with open(os.path.join(os.fsencode(mail), name), "wb") as f:
            f.write(mbox(name, n))
    for d, dirs, files in os.walk(root):
        for x in dirs + files:
            os.chown(os.path.join(d, x), UID, GID)
    conf = os.path.join(root, "m.conf")
    with open(conf, "w") as f:
        f.write("# the test's: defaults\n")
    return conf


def run(*args, env_extra=None):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LANG", None)
    env.pop("MBOX2DOVECOT_IMAP_PASSWORD", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run([PROG] + list(args), capture_output=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)


def out(p):
    return "rc=%d\n%s\n%s" % (p.returncode,
                              p.stdout.decode("utf-8", "replace"),
                              p.stderr.decode("utf-8", "replace"))


def args(root, conf, target, work):
    return ["--config", conf, "--spool", os.path.join(root, "spool"),
            "--homes", os.path.join(root, "home"), "--target", target,
            "--work", work, "--users", USER]


def imap_view(target):
    """{name: messages} as a real Dovecot lists the maildir, and the list
    of names LIST returned (duplicates kept)."""
    with dh.Dovecot(target, [USER], uid=UID, gid=GID) as dc:
        imap = dc.imap(USER)
        try:
            names = [n for _, _, n in dh.imap_list(imap)]
            counts = {}
            for n in names:
                typ, data = imap.status(dh.imap_quote(dh.mutf7_encode(n)),
                                        "(MESSAGES)")
                counts[n] = int(data[0].split(b"MESSAGES ")[1]
                                .split(b")")[0]) if typ == "OK" else -1
        finally:
            imap.logout()
    return names, counts


def check_imap(target, want, what):
    """WANT: {IMAP name: messages}; -1: a \\Noselect parent (no STATUS)."""
    if dh.available():
        tap.ok(True, "%s: Dovecot # SKIP %s" % (what, dh.available()))
        return
    try:
        names, counts = imap_view(target)
    except Exception as e:      # noqa: BLE001 - shown as the diagnostic
        ok(False, "%s: a real Dovecot serves the maildir" % what, str(e))
        return
    dup = sorted(n for n in set(names) if names.count(n) > 1)
    ok(not dup and counts == want,
       "%s: Dovecot's LIST shows each folder once, with its messages" % what,
       ["LIST: %r" % sorted(names), "want: %r" % want, "got: %r" % counts,
        "twice: %r" % dup])


def main():
    tmp = tempfile.mkdtemp(prefix="m2d-renames-")
    os.chmod(tmp, 0o755)
    try:
        root = os.path.join(tmp, "src")
        conf = make_tree(root)
        t = lambda n: os.path.join(tmp, n)       # noqa: E731

        # ---- 1. --accept-suggested-names
        p = run("migrate", *args(root, conf, t("t1"), t("w1")),
                "--accept-suggested-names")
        ok(p.returncode == 0 and b"FAILED" not in p.stdout,
           "migrate --accept-suggested-names: one command, exit 0", out(p))
        want1 = {"INBOX": INBOX_MSGS, "a_b": 2, "INBOX-old": 1,
                 "Entw\u00fcrfe": 3, "_old": 1, "sent-mail": 2, "Trash": 1,
                 "work": -1, "work/2004": 1}
        check_imap(t("t1"), want1, "--accept-suggested-names")

        # without a decision the same spool fails those folders (exit 1)
        p = run("migrate", *args(root, conf, t("t0"), t("w0")))
        ok(p.returncode == 1 and p.stdout.count(b"FAILED") == 4,
           "without a decision: the 4 folders fail, exit 1", out(p))

        # ---- 2. --renames FILE
        rfile = t("renames")
        with open(rfile, "wb") as f:
            f.write(b"# decided by hand\n\n"
                    b"ursula/mail/a.b\tprojects/a b\n"
                    b"ursula/mail/INBOX\told inbox\n"
                    b"ursula/mail/" + LATIN1 + b"\tDrafts\n"
                    b"ursula/mail/~old\t-\n"
                    b"someone/mail/x.y\tnot in this run\n")
        p = run("migrate", *args(root, conf, t("t2"), t("w2")),
                "--renames", rfile)
        ok(p.returncode == 0 and b"FAILED" not in p.stdout,
           "migrate --renames FILE: one command, exit 0 (a line of a user "
           "not in the run ignored)", out(p))
        want2 = {"INBOX": INBOX_MSGS, "projects": -1, "projects/a b": 2,
                 "old inbox": 1, "Drafts": 3, "sent-mail": 2, "Trash": 1,
                 "work": -1, "work/2004": 1}
        check_imap(t("t2"), want2, "--renames FILE")
        p = run("migrate-users", *args(root, conf, t("t3"), t("w3")))
        p = run("migrate-folders", *args(root, conf, t("t3"), t("w3")),
                "--renames", rfile)
        ok(p.returncode == 0 and
           os.path.isdir(os.path.join(t("t3"), USER, ".projects.a b")) and
           not os.path.exists(os.path.join(t("t3"), USER, "._old")),
           "migrate-folders --renames FILE", out(p))
        flist = t("folderlist")
        with open(flist, "w") as f:
            f.write("ursula/mail/a.b\nursula/mail/sent-mail\n")
        p = run("migrate", *args(root, conf, t("t5"), t("w5")),
                "--folderlist", flist, "--renames", rfile)
        got = sorted(os.listdir(os.path.join(t("t5"), USER))) \
            if os.path.isdir(os.path.join(t("t5"), USER)) else []
        ok(p.returncode == 0 and ".projects.a b" in got and
           ".sent-mail" in got and ".old inbox" not in got,
           "migrate --folderlist SUBSET --renames FILE: the lines of "
           "folders not in the subset are ignored", [out(p), got])
        p = run("plan", *args(root, conf, t("t4"), t("w4")), "--dry-run",
                "--renames", rfile)
        ok(p.returncode == 0 and b'-> "old inbox"' in p.stdout and
           b"excluded by the administrator" in p.stdout,
           "plan --renames FILE shows the new names and the exclusion",
           out(p))
        p = run("check", *args(root, conf, t("t4"), t("w4")), "--renames",
                rfile)
        ok(b"cannot keep their names" not in p.stdout and
           p.returncode in (0, 1, 2),
           "check --renames FILE: no folder-name warning left", out(p))
        p = run("check", *args(root, conf, t("t4"), t("w4")))
        ok(b"cannot keep their names" in p.stdout,
           "check without it warns about the 4 names", out(p))

        # ---- 3. refusals, with FILE:LINE, nothing migrated
        bad = [
            (b"ursula/mail/a.b\tTrash\n", 1, b"is the name of another folder",
             "a name an existing folder has"),
            (b"ursula/mail/a.b\tx\nursula/mail/INBOX\tx\n", 2,
             b"is the name of another folder", "two sources given one name"),
            (b"ursula/mail/a.b\tx.y\n", 1, b"separates levels",
             "a name Maildir++ cannot take"),
            (b"ursula/mail/a.b\n", 1, b"SOURCE<TAB>NEW NAME",
             "a line without a TAB"),
            (b"ursula/mail/a.b\ta\nursula/mail/a.b\tb\n", 2,
             b"decided already on line 1", "a source listed twice"),
            (b"#\nursula/INBOX\tfoo\n", 2, b"INBOX cannot be renamed",
             "the INBOX renamed"),
            (b"ursula/mail/nothing\tfoo\n", 1, b"not a folder of the plan",
             "a folder that is not there"),
        ]
        for i, (text, line, msg, what) in enumerate(bad):
            path = t("bad%d" % i)
            with open(path, "wb") as f:
                f.write(text)
            tgt = t("tb%d" % i)
            p = run("migrate", *args(root, conf, tgt, t("wb%d" % i)),
                    "--renames", path)
            where = ("%s:%d:" % (path, line)).encode()
            ok(p.returncode != 0 and where in p.stderr and msg in p.stderr
               and not os.path.exists(os.path.join(tgt, USER)),
               "refused with file:line, nothing migrated: %s" % what, out(p))

        # ---- 4. the runbook
        sb = t("sb")
        p = run("sandbox", sb)
        if not ok(p.returncode == 0, "sandbox for the runbook", out(p)):
            return
        sconf = os.path.join(sb, "mbox2dovecot.conf")
        try:
            p = run("--config", sconf, "--batch", "--confirm", "1", "--to",
                    "4")
            s = p.stdout
            ok(p.returncode == 4 and b"stopped at step 4" in s and
               b"--renames FILE" in s and b"--accept-suggested-names" in s
               and b"bob/mail/v1.2 release" in s,
               "--batch without --yes stops at step 4, lists the folders "
               "and names both options", out(p))
            p = run("--config", sconf, "--batch", "--to", "4",
                    "--accept-suggested-names")
            ok(p.returncode == 0 and b"step  4" in p.stdout,
               "--batch --accept-suggested-names gets past step 4", out(p))
            saved = os.path.join(sb, "work", "renames")
            try:
                with open(saved, "rb") as f:
                    text = f.read()
            except OSError:
                text = b""
            ok(b"bob/mail/v1.2 release\tv1_2 release\n" in text,
               "the decisions are written to WORK/renames", text)
            # a fresh runbook decides from that file
            p = run("--config", sconf, "--undo", "4", "--yes")
            keep = t("renames-from-wizard")
            shutil.copy(saved, keep)
            os.unlink(os.path.join(sb, "work", "state"))
            os.unlink(saved)
            p = run("--config", sconf, "--batch", "--confirm", "1", "--to",
                    "4", "--renames", keep)
            ok(p.returncode == 0 and b"renamed or excluded" in p.stdout,
               "--batch --renames WORK/renames (read back) gets past "
               "step 4", out(p))
            with open(keep, "wb") as f:
                f.write(b"bob/mail/v1.2 release\tTrash\n")
            p = run("--config", sconf, "--batch", "--renames", keep)
            ok(p.returncode != 0 and (keep + ":1:").encode() in p.stderr,
               "--batch --renames refuses a clash with file:line", out(p))
        finally:
            run("sandbox", "--stop", sb)
    finally:
        if os.environ.get("M2D_KEEP"):
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % tap.n)
    return 1 if tap.failures else 0


if __name__ == "__main__":
    sys.exit(main())
