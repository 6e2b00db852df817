#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UW-IMAP's folder names after the cutover, with a real Dovecot.

A user whose client knew her folders by UW's names -- "mail/sent-mail" (the
folder it saves sent mail into), "~/mail/work/notes" in her .mailboxlist --
is migrated with each choice of folder_names, and the Dovecot unit that
"mbox2dovecot dovecot-conf" writes for that choice (its namespaces) is
served by a real Dovecot:

  compat: folders named relative to ~/mail ("sent-mail"), the unit's hidden
          namespaces "mail/", "~/mail/", "~%u/mail/" keep the old names;
  uw:     UW's names kept ("mail/sent-mail"), "~/" and "~%u/" namespaces.

With each: SELECT "mail/sent-mail", SELECT "~/mail/sent-mail" and SELECT
"~ursula/mail/sent-mail" open the migrated folder, an APPEND to
"mail/sent-mail" lands in it (no new folder beside it), LIST "" "*" shows
each folder once, and LSUB shows the subscriptions of .mailboxlist.  Also:
c-client's mail-subdirectory read from SERVICES_ROOT/etc/c-client.cf (and
ignored without c-client's first line), and plan showing UW's names.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_KEEP=1 keeps the temp dir;
M2D_DOVECOT_BINDIR (see tests/lib/dovecot_harness.py): the Dovecot there
both writes the unit's syntax (dovecot-conf --dovecot/--doveconf) and
serves it -- tests/tools/check-dovecot24.sh runs this with a real 2.4.
"""

import os
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

import dovecot_harness as dh  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
UID = GID = 64032
USER = "ursula"
FOLDERS = {"sent-mail": 2, "work/notes": 1, "Trash": 1, "drafts": 1}
# each form UW wrote: home-relative, ~/, ~user/, absolute
MAILBOXLIST = (b"mail/sent-mail\n~/mail/work/notes\nINBOX\n"
               b"~ursula/mail/Trash\n%s/mail/drafts\n~bob/mail/x\n")

tap = Tap(max_diag=30, tail=True)
VERSION = V24 = None
ok = tap.ok


def mbox(name, n):
    return b"".join(
        b"From a@example.org Tue Nov  9 10:11:%02d 2004\n"
        b"Subject: %s %d\n\nbody\n\n" % (i, name.encode(), i)
        for i in range(n))


def make_tree(root):
    spool = os.path.join(root, "spool")
    home = os.path.join(root, "home", USER)
    os.makedirs(spool)
    os.makedirs(os.path.join(home, "mail", "work"))
    with open(os.path.join(spool, USER), "wb") as f:
        f.write(mbox("inbox", 1))
    for name, n in FOLDERS.items():
        with open(os.path.join(home, "mail", name), "wb") as f:
            f.write(mbox(name, n))
    with open(os.path.join(home, ".mailboxlist"), "wb") as f:
        f.write(MAILBOXLIST % os.fsencode(os.path.abspath(home)))
    for d, dirs, files in os.walk(root):
        for x in dirs + files:
            os.chown(os.path.join(d, x), UID, GID)


def run(*args):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LANG", None)
    return subprocess.run([PROG] + list(args), capture_output=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)


def out(p):
    return "rc=%d\n%s\n%s" % (p.returncode,
                              p.stdout.decode("utf-8", "replace"),
                              p.stderr.decode("utf-8", "replace"))


def paths(root, conf, tgt, work):
    return ["--config", conf, "--spool", os.path.join(root, "spool"),
            "--homes", os.path.join(root, "home"), "--target", tgt,
            "--work", work, "--users", USER]


def tools():
    """dovecot-conf's --dovecot/--doveconf for $M2D_DOVECOT_BINDIR."""
    if not os.environ.get("M2D_DOVECOT_BINDIR"):
        return []
    return ["--dovecot", dh.find_program("dovecot"),
            "--doveconf", dh.find_program("doveconf")]


def unit_namespaces(tmp, conf, tgt, work):
    """The namespace blocks of the unit dovecot-conf writes (preview)."""
    dcdir = os.path.join(tmp, "dc-" + os.path.basename(conf))
    os.makedirs(dcdir, exist_ok=True)
    with open(os.path.join(dcdir, "dovecot.conf"), "w") as f:
        if V24:
            f.write("dovecot_config_version = 2.4.0\n"
                    "dovecot_storage_version = 2.4.0\n")
        f.write("protocols = imap\n")
    p = run("dovecot-conf", "preview", "--config", conf, "--dovecot-conf",
            os.path.join(dcdir, "dovecot.conf"), "--target", tgt,
            "--work", work, *tools())
    text = "\n".join(ln[1:] for ln in
                     p.stdout.decode("utf-8", "replace").splitlines()
                     if ln.startswith("+") and not ln.startswith("+++"))
    blocks = re.findall(r"^namespace uw_compat\d+ \{.*?^\}", text,
                        re.S | re.M)
    return p, "\n".join(blocks) + "\n"


def q(name):
    return dh.imap_quote(dh.mutf7_encode(name))


def exists(imap, name):
    typ, data = imap.select(q(name))
    imap.close() if typ == "OK" else None
    return int(data[0]) if typ == "OK" else None


def lsub(imap, pattern="*"):
    typ, data = imap.lsub('""', dh.imap_quote(pattern))
    names = set()
    for item in data or []:
        if item is None:
            continue
        m = re.match(rb'\(.*?\) (?:"."|NIL) (.*)$', item)
        if m:
            names.add(dh.mutf7_decode(m.group(1).strip(b'"')))
    return names


def check_mode(tmp, root, mode, sent, want_list, want_subs):
    conf = os.path.join(tmp, mode + ".conf")
    with open(conf, "w") as f:
        f.write('folder_names = "%s"\n' % mode)
    tgt = os.path.join(tmp, "t-" + mode)
    work = os.path.join(tmp, "w-" + mode)
    p = run("migrate", *paths(root, conf, tgt, work))
    ok(p.returncode == 0, "folder_names = %s: migrate" % mode, out(p))
    p, ns = unit_namespaces(tmp, conf, tgt, work)
    ok(p.returncode == 0 and "hidden = yes" in ns and "list = no" in ns,
       "%s: the Dovecot unit has hidden compatibility namespaces" % mode,
       out(p))
    if V24:
        ok("alias_for = inbox" in ns and "~%{user}/" in ns and
           "%u" not in ns,
           "%s: in 2.4 syntax (alias_for = inbox, %%{user})" % mode, ns)
    if dh.available():
        ok(True, "%s: real Dovecot # SKIP %s" % (mode, dh.available()))
        return
    dc = dh.Dovecot(tgt, [USER], uid=UID, gid=GID, extra_conf=ns)
    try:
        dc.__enter__()     # doveconf -n first, then dovecot -F
    except RuntimeError as e:
        ok(False, "%s: Dovecot %s takes the unit's namespaces and starts"
           % (mode, VERSION), str(e))
        return
    ok(True, "%s: Dovecot %s takes the unit's namespaces and starts"
       % (mode, VERSION))
    try:
        imap = dc.imap(USER)
        try:
            names = [n for _, _, n in dh.imap_list(imap)]
            dup = sorted(n for n in set(names) if names.count(n) > 1)
            ok(not dup and sorted(names) == sorted(want_list),
               '%s: LIST "" "*" shows each folder once' % mode,
               ["got %r" % sorted(names), "want %r" % sorted(want_list)])
            for old in ("mail/sent-mail", "~/mail/sent-mail",
                        "~%s/mail/sent-mail" % USER):
                n = exists(imap, old)
                ok(n == 2, '%s: SELECT "%s" opens the migrated folder '
                   '(%s messages)' % (mode, old, n))
            typ, data = imap.append(q("mail/sent-mail"), None, None,
                                    b"Subject: sent later\r\n\r\nhi\r\n")
            n = exists(imap, sent)
            names2 = [n2 for _, _, n2 in dh.imap_list(imap)]
            ok(typ == "OK" and n == 3 and sorted(names2) == sorted(names),
               '%s: APPEND to "mail/sent-mail" lands in "%s" (%s '
               'messages), no folder beside it' % (mode, sent, n),
               [typ, data, "LIST %r" % names2])
            subs = lsub(imap)
            ok(subs == set(want_subs),
               "%s: LSUB shows .mailboxlist's subscriptions (written as "
               "mail/x, ~/mail/x, ~user/mail/x, absolute; another "
               "user's left out)" % mode,
               ["got %r" % sorted(subs), "want %r" % sorted(want_subs)])
        finally:
            imap.logout()
    except Exception:
        dc.failed = True
        raise
    finally:
        dc.__exit__(None, None, None)


def check_cclient(tmp, root):
    sysroot = os.path.join(tmp, "sysroot")
    os.makedirs(os.path.join(sysroot, "etc"))
    cf = os.path.join(sysroot, "etc", "c-client.cf")
    conf = os.path.join(tmp, "cc.conf")
    with open(conf, "w") as f:
        f.write('folder_names = "uw"\nservices_root = "%s"\n' % sysroot)
    args = paths(root, conf, os.path.join(tmp, "t-cc"),
                 os.path.join(tmp, "w-cc"))
    with open(cf, "w") as f:
        f.write("I accept the risk for IMAP toolkit 4.1.\n"
                "set mail-subdirectory mail\n")
    p = run("plan", *args, "--dry-run")
    ok(p.returncode == 0 and
       b'mail/sent-mail -> "sent-mail"' in p.stdout,
       "c-client.cf's mail-subdirectory: UW's names were relative to "
       "~/mail", out(p))
    with open(cf, "w") as f:
        f.write("set mail-subdirectory mail\n")
    p = run("plan", *args, "--dry-run")
    ok(p.returncode == 0 and
       b'mail/sent-mail -> "mail/sent-mail"' in p.stdout,
       "c-client.cf without c-client's first line is ignored, as c-client "
       "does", out(p))
    p = run("plan", *paths(root, os.path.join(tmp, "compat.conf"),
                           os.path.join(tmp, "t-x"),
                           os.path.join(tmp, "w-x")), "--dry-run")
    ok(b'uw-name ursula/mail/sent-mail: UW-IMAP showed "mail/sent-mail"'
       in p.stdout,
       "plan shows the name UW showed beside the new one", out(p))


def main():
    global VERSION, V24
    if not dh.available():
        VERSION = subprocess.run([dh.find_program("dovecot"), "--version"],
                                 capture_output=True,
                                 text=True).stdout.split(" ")[0].strip()
        V24 = dh.is_v24()
    tmp = tempfile.mkdtemp(prefix="m2d-uwnames-")
    os.chmod(tmp, 0o755)
    try:
        root = os.path.join(tmp, "src")
        make_tree(root)
        check_mode(tmp, root, "compat", "sent-mail",
                   ["INBOX", "sent-mail", "work", "work/notes", "Trash",
                    "drafts"],
                   ["INBOX", "sent-mail", "work/notes", "Trash", "drafts"])
        check_mode(tmp, root, "uw", "mail/sent-mail",
                   ["INBOX", "mail", "mail/sent-mail", "mail/work",
                    "mail/work/notes", "mail/Trash", "mail/drafts"],
                   ["INBOX", "mail/sent-mail", "mail/work/notes",
                    "mail/Trash", "mail/drafts"])
        check_cclient(tmp, root)
    finally:
        if os.environ.get("M2D_KEEP"):
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % tap.n)
    return 1 if tap.failures else 0


if __name__ == "__main__":
    sys.exit(main())
