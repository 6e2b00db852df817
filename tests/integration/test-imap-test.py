#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The runbook's IMAP test (include/imap-test.h) against a REAL Dovecot.

A seeded UW-IMAP spool (tests/tools/gen-spool.py) is converted with
$BUILD/mbox2dovecot convert; then, before Dovecot first sees them, bob's
maildir loses one message file and one of carol's messages gets another
mtime.  A private Dovecot (tests/lib/dovecot_harness.py, with a master
user "admin") serves the maildirs, and $BUILD/tools/imap-test-tool runs
imap_expect_folder() on the source mboxes, imap_test_run() and
imap_doveadm_counts():

  * alice (untouched): every check passes, doveadm agrees; the same as the
    master user ("alice*admin"); afterwards no scratch folder is left (LIST
    and disk) and every original message file is as it was (base name,
    flags, bytes, mtime)
  * an empty INBOX: the move check APPENDs its own message
  * bob: `counts` fails, naming the folder and both figures; doveadm too
  * carol: `dates` fails, naming the folder; `counts` passes
  * a wrong password: `login` fails with the server's refusal
  * a folder that does not exist: `list` fails naming it; nothing else runs
  * a non-ASCII name ("Entwürfe"): listed, counted and dated through
    modified UTF-7; the same name with another folder's mbox fails `counts`
    naming "Entwürfe"
  * nothing listening: -1 and an error naming 127.0.0.1:PORT
  * a second Dovecot that says LOGINDISABLED (plaintext from a client whose
    address is not its own, TLS with a self-signed certificate): the test
    logs in after STARTTLS

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (default 20041109), M2D_KEEP=1
keeps the temp dir.  Skips only when Dovecot is missing and CI is not set.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
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
TOOL = os.path.join(TOP, BUILD, "tools", "imap-test-tool")
GEN = os.path.join(TOP, "tests", "tools", "gen-spool.py")
TZ = "UTC"
PW8 = "p\u00e4ss \"w\u00f6rt\""     # 8-bit and quotes: a literal


class Result:
    """imap-test-tool's output, parsed."""

    def __init__(self, cmd, proc):
        self.cmd = cmd
        self.status = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.checks = {}
        self.order = []
        self.expect = {}
        self.result = None
        self.error = None
        self.doveadm = None
        for line in self.out.splitlines():
            f = line.split("\t")
            if f[0] == "check" and len(f) >= 4:
                self.checks[f[1]] = (f[2] == "ok", f[3])
                self.order.append(f[1])
            elif f[0] == "expect":
                self.expect[f[1]] = int(f[2])
            elif f[0] == "result":
                self.result = int(f[1])
            elif f[0] == "error":
                self.error = f[1]
            elif f[0] == "doveadm":
                self.doveadm = (f[1] == "ok", int(f[2]), f[5])

    def diag(self):
        return ["command: %s" % " ".join(self.cmd),
                "exit: %s" % self.status] + self.out.splitlines() + \
            self.err.splitlines()

    def note(self, *cids):
        """The details of CIDS (and the error) as TAP comments."""
        for cid in cids:
            if cid == "error":
                print("#   error: %s" % self.error)
            elif cid == "doveadm":
                print("#   doveadm: %s" % (self.doveadm,))
            else:
                print("#   %s: %s" % (cid, self.detail(cid)))

    def ok(self, cid):
        return self.checks.get(cid, (False, ""))[0]

    def detail(self, cid):
        return self.checks.get(cid, (False, ""))[1]


def run_tool(args, timeout=120):
    cmd = [TOOL] + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, env=dict(os.environ, TZ=TZ))
    except subprocess.TimeoutExpired as e:
        p = subprocess.CompletedProcess(cmd, "timeout", e.stdout or "",
                                        "killed after %d s" % timeout)
    return Result(cmd, p)


def maildir_subdir(name):
    if name.upper() == "INBOX":
        return ""
    return "." + ".".join(dh.mutf7_encode(level) for level in name.split("/"))


def message_files(root):
    """{(folder dir, base name): (flags, sha256, mtime_ns)} of every message
    file, new/X and cur/X:2, alike (Dovecot may move new/ to cur/)."""
    out = {}
    for dp, dirs, files in os.walk(root):
        sub = os.path.basename(dp)
        if sub not in ("cur", "new"):
            continue
        folder = os.path.relpath(os.path.dirname(dp), root)
        for fn in files:
            base, _, info = fn.partition(":")
            flags = info[2:] if info.startswith("2,") else info
            p = os.path.join(dp, fn)
            with open(p, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()
            out[(folder, base)] = (flags, h, os.stat(p).st_mtime_ns)
    return out


def folder_files(root, name):
    d = os.path.join(root, maildir_subdir(name))
    return sorted(os.path.join(d, s, f) for s in ("cur", "new")
                  for f in os.listdir(os.path.join(d, s)))


def scratch_dirs(root):
    return sorted(d for d in os.listdir(root) if d.startswith(".m2d-test-"))


def imap_scratch(dc, user):
    c = dc.imap(user)
    try:
        names = [n for _, _, n in dh.imap_list(c)]
    finally:
        c.logout()
    return sorted(n for n in names if n.startswith("m2d-test-"))


def main():
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))
    tap = Tap()
    why = dh.available()
    if why:
        if os.environ.get("CI"):
            tap.ok(False, "dovecot available for the IMAP test (%s)" % why)
        else:
            tap.skip(why)
        return tap.done()
    for p in (PROG, TOOL):
        if not os.access(p, os.X_OK):
            tap.ok(False, "built: %s" % p, ["run make first"])
            return tap.done()
    work = tempfile.mkdtemp(prefix="m2d-imap-test-")
    dh.make_traversable(work)
    t0 = time.time()
    try:
        run(tap, work)
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "the test ran to its end", ["%s: %s" % (
            type(e).__name__, e)])
    finally:
        if os.environ.get("M2D_KEEP") or tap.failures:
            print("# work dir kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("# %.1f s" % (time.time() - t0))
    return tap.done()


def convert(tap, spool, target, manifest, uid, gid):
    pairs = {}
    for user in sorted(manifest["users"]):
        pairs[user] = []
        for folder in manifest["users"][user]["folders"]:
            mbox = os.path.join(spool, folder["mbox"])
            cmd = [PROG, "convert", mbox, os.path.join(target, user)]
            if folder["name"] != "INBOX":
                cmd += ["--folder", folder["name"]]
            cmd += ["--owner", "%d:%d" % (uid, gid)]
            r = subprocess.run(cmd, capture_output=True, text=True,
                               env=dict(os.environ, TZ=TZ), timeout=60)
            if r.returncode != 0:
                tap.ok(False, "convert %s/%s" % (user, folder["name"]),
                       [" ".join(cmd)] + r.stderr.splitlines())
                return None
            pairs[user].append((folder["name"], mbox,
                                len(folder["messages"])))
    return pairs


def run(tap, work):
    seed = int(os.environ.get("M2D_SEED", "20041109"))
    spool = os.path.join(work, "spool")
    target = os.path.join(work, "target")
    mpath = os.path.join(work, "manifest.json")
    g = subprocess.run([sys.executable, GEN, "--seed", str(seed), "--out",
                        spool, "--users", "3", "--messages", "8",
                        "--manifest", mpath, "--tz", TZ],
                       capture_output=True, text=True)
    if not tap.ok(g.returncode == 0, "gen-spool.py --seed %d" % seed,
                  g.stderr.splitlines()):
        return
    with open(mpath, encoding="utf-8") as f:
        manifest = json.load(f)
    os.makedirs(target)
    os.chmod(target, 0o755)
    uid, gid = dh.mail_owner()
    pairs = convert(tap, spool, target, manifest, uid, gid)
    if pairs is None:
        return
    tap.ok(True, "spool of %d users converted" % len(pairs))
    users = sorted(pairs)
    alice, bob, carol = users[:3]
    # a user with an empty INBOX (and nothing else)
    empty_root = os.path.join(target, "empty")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(empty_root, sub))
    for dp, _, _ in os.walk(empty_root):
        os.chown(dp, uid, gid)
        os.chmod(dp, 0o700)

    def arg_pairs(user, only=None):
        return ["%s=%s" % (n, m) for n, m, _ in pairs[user]
                if only is None or n in only]

    # ---- damage bob and carol before Dovecot sees them -----------------
    def victim(user):
        for n, m, c in pairs[user]:
            if n != "INBOX" and c >= 2:
                return n, c
        return None, 0
    bob_folder, bob_count = victim(bob)
    carol_folder, _ = victim(carol)
    if not tap.ok(bob_folder and carol_folder,
                  "bob and carol have a folder with 2+ messages"):
        return
    gone = folder_files(os.path.join(target, bob), bob_folder)[0]
    os.unlink(gone)
    moved = folder_files(os.path.join(target, carol), carol_folder)[-1]
    st = os.stat(moved)
    os.utime(moved, (st.st_atime, st.st_mtime + 86400 * 3))

    master_file = os.path.join(work, "master-users")
    with open(master_file, "w") as f:
        f.write("admin:{PLAIN}secret\n")
    os.chmod(master_file, 0o644)
    extra = ("auth_master_user_separator = *\n"
             "passdb {\n  driver = passwd-file\n  master = yes\n"
             "  args = scheme=PLAIN username_format=%%u %s\n}\n"
             % master_file)
    dc = dh.Dovecot(target, users + ["empty"], uid=uid, gid=gid,
                    workdir=os.path.join(work, "dovecot"), extra_conf=extra)
    try:
        dc.__enter__()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "private Dovecot starts", str(e).splitlines()[:20])
        return
    try:
        with_dovecot(tap, dc, work, target, pairs, arg_pairs, alice, bob,
                     carol, bob_folder, bob_count, carol_folder)
    finally:
        dc.failed = dc.failed or bool(tap.failures)
        dc.__exit__(None, None, None)
    starttls(tap, work)
    nothing_listening(tap)


def with_dovecot(tap, dc, work, target, pairs, arg_pairs, alice, bob, carol,
                 bob_folder, bob_count, carol_folder):
    port = dc.port
    doveadm = ["--doveadm-conf", dc.conf, "--doveadm", dc.doveadm_bin]
    alice_root = os.path.join(target, alice)

    # ---- alice, untouched: everything passes --------------------------
    # first without changes, so Dovecot has synced (new/ -> cur/) ...
    r = run_tool(doveadm + ["--no-modify", "127.0.0.1", port, alice, "pw"] +
                 arg_pairs(alice))
    want = {n: c for n, _, c in pairs[alice]}
    tap.ok(r.expect == want, "imap_expect_folder: the counts of the "
           "manifest (%d folders)" % len(want),
           ["want %s" % want, "got  %s" % r.expect])
    tap.ok(r.status == 0 and r.result == 0 and
           r.order == ["login", "list", "counts", "dates"],
           "alice, read-only: login list counts dates pass", r.diag())
    tap.ok(r.doveadm is not None and r.doveadm[0] and r.doveadm[1] == 0,
           "alice: doveadm mailbox status agrees", r.diag())
    # ... then with create and move, comparing the message files
    before = message_files(alice_root)
    r = run_tool(doveadm + ["127.0.0.1", port, alice, "pw"] +
                 arg_pairs(alice))
    tap.ok(r.status == 0 and r.result == 0 and
           r.order == ["login", "list", "counts", "dates", "create",
                       "move"] and all(ok for ok, _ in r.checks.values()),
           "alice: all six checks pass", r.diag())
    tap.ok("INBOX" in r.detail("move") and "m2d-test-" in r.detail("move"),
           "alice: move works on a copy of an INBOX message in scratch "
           "folders", [r.detail("move")])
    after = message_files(alice_root)
    diff = ["%s/%s: %s" % (k[0], k[1], "gone" if k not in after else
                           "added" if k not in before else
                           "was %s now %s" % (before[k], after[k]))
            for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]
    tap.ok(not diff and before, "alice: every original message file "
           "untouched (%d: name, flags, bytes, mtime)" % len(before), diff)
    left = scratch_dirs(alice_root)
    tap.ok(not left, "alice: no scratch folder left on disk", left)
    left = imap_scratch(dc, alice)
    tap.ok(not left, "alice: no scratch folder listed over IMAP", left)

    # ---- the master user ----------------------------------------------
    r = run_tool(["--master", "admin", "--no-modify", "127.0.0.1", port,
                  alice, "secret"] + arg_pairs(alice))
    tap.ok(r.status == 0 and r.ok("login") and
           "alice*admin" in r.detail("login"),
           "master user: logs in as alice*admin, all checks pass", r.diag())

    # ---- empty INBOX: move APPENDs its own message ----------------------
    empty_mbox = os.path.join(work, "empty.mbox")
    open(empty_mbox, "w").close()
    r = run_tool(["127.0.0.1", port, "empty", "pw", "INBOX=" + empty_mbox])
    tap.ok(r.status == 0 and r.ok("move") and
           "append" in r.detail("move"),
           "empty INBOX: the move check appends a test message", r.diag())
    r.note("move")
    left = scratch_dirs(os.path.join(target, "empty"))
    inbox = [f for s in ("cur", "new") for f in
             os.listdir(os.path.join(target, "empty", s))]
    tap.ok(not left and not inbox, "empty INBOX: still empty, no scratch "
           "folder left", left + inbox)

    # ---- bob: a message file removed ------------------------------------
    r = run_tool(doveadm + ["--no-modify", "127.0.0.1", port, bob, "pw"] +
                 arg_pairs(bob))
    d = r.detail("counts")
    tap.ok(r.status == 1 and not r.ok("counts") and bob_folder in d and
           "%d messages on the server, %d in the mbox"
           % (bob_count - 1, bob_count) in d,
           "bob: counts fails naming %s, %d vs %d" % (bob_folder,
                                                      bob_count - 1,
                                                      bob_count), r.diag())
    r.note("counts", "doveadm")
    tap.ok(r.doveadm is not None and not r.doveadm[0] and
           r.doveadm[1] == 1 and bob_folder in r.doveadm[2],
           "bob: doveadm counts fail naming %s" % bob_folder, r.diag())

    # ---- carol: an mtime changed -----------------------------------------
    r = run_tool(["--no-modify", "127.0.0.1", port, carol, "pw"] +
                 arg_pairs(carol))
    tap.ok(r.status == 1 and r.ok("counts") and not r.ok("dates") and
           carol_folder in r.detail("dates"),
           "carol: dates fails naming %s, counts pass" % carol_folder,
           r.diag())
    r.note("dates")

    # ---- wrong password ---------------------------------------------------
    r = run_tool(["127.0.0.1", port, alice, "wrong"] + arg_pairs(alice))
    tap.ok(r.status == 1 and r.result == 1 and r.order == ["login"] and
           "refused" in r.detail("login") and
           "AUTHENTICATIONFAILED" in r.detail("login"),
           "wrong password: login fails with the server's refusal, "
           "nothing else runs", r.diag())
    r.note("login")

    # ---- new mail after the cutover: at_least, and "delivered" ------------
    mid = "<m2d-delivered.%d@test>" % os.getpid()
    c = dc.imap(alice)
    try:
        typ, _ = c.append("INBOX", None, None, (
            "From: someone@example.com\r\nSubject: after the cutover\r\n"
            "Message-ID: %s\r\n\r\nnew mail\r\n" % mid).encode())
    finally:
        c.logout()
    tap.ok(typ == "OK", "alice: new mail appended to INBOX (%s)" % mid)
    r = run_tool(["--no-modify", "--at-least", "--message-id", mid,
                  "127.0.0.1", port, alice, "pw"] + arg_pairs(alice))
    tap.ok(r.status == 0 and r.order == ["login", "list", "counts", "dates",
                                         "delivered"] and
           "new mail" in r.detail("counts") and mid in r.detail("delivered"),
           "at_least: one more message in INBOX passes counts and dates; "
           "delivered finds its Message-ID", r.diag())
    r.note("counts", "delivered")
    r = run_tool(["--no-modify", "--message-id", "<not-there@test>",
                  "127.0.0.1", port, alice, "pw"] + arg_pairs(alice))
    tap.ok(r.status == 1 and not r.ok("counts") and r.ok("dates") and
           "INBOX" in r.detail("counts") and not r.ok("delivered") and
           "<not-there@test>" in r.detail("delivered"),
           "without at_least the new message fails counts (INBOX); an "
           "absent Message-ID fails delivered", r.diag())
    r.note("counts", "delivered")

    # ---- a user Dovecot does not know: doveadm fails ----------------------
    r = run_tool(doveadm + ["--no-modify", "127.0.0.1", port, "ghost", "pw",
                            "INBOX=" + pairs[alice][0][1]])
    tap.ok(r.status == 2 and not r.ok("login") and r.doveadm is not None
           and r.doveadm[1] == -1 and "ghost" in r.doveadm[2] and
           "exit" in r.doveadm[2],
           "unknown user: login fails, doveadm gives -1 with its exit "
           "status and message", r.diag())
    r.note("login", "doveadm")

    # ---- a folder that is not there ---------------------------------------
    some_mbox = pairs[alice][0][1]
    r = run_tool(["127.0.0.1", port, alice, "pw", "Nowhere/x=" + some_mbox] +
                 arg_pairs(alice))
    tap.ok(r.status == 1 and r.order == ["login", "list"] and
           not r.ok("list") and "Nowhere/x" in r.detail("list"),
           "missing folder: list fails naming it, nothing else runs",
           r.diag())
    r.note("list")

    # ---- a non-ASCII name through modified UTF-7 ---------------------------
    nonascii = [(n, m, c) for n, m, c in pairs[alice]
                if any(ord(ch) > 127 for ch in n)]
    if tap.ok(nonascii, "alice has a non-ASCII folder"):
        name, mbox, count = nonascii[0]
        r = run_tool(["--no-modify", "127.0.0.1", port, alice, "pw",
                      "%s=%s" % (name, mbox)])
        tap.ok(r.status == 0 and r.expect.get(name) == count and
               "%d messages" % count in r.detail("counts"),
               "%s: listed, counted and dated through modified UTF-7"
               % name, r.diag())
        r.note("list", "counts")
        other = [m for n, m, c in pairs[alice] if c != count]
        r = run_tool(["--no-modify", "127.0.0.1", port, alice, "pw",
                      "%s=%s" % (name, other[0])])
        tap.ok(r.status == 1 and not r.ok("counts") and
               r.detail("counts").startswith(name + ":"),
               "%s with another folder's mbox: counts fails naming it"
               % name, r.diag())
        r.note("counts")


def starttls(tap, work):
    """A Dovecot that refuses plaintext LOGIN: it listens on 127.0.0.1 and
    127.0.0.2 and counts only a client whose address is its own as secure;
    we connect to 127.0.0.2 from 127.0.0.1."""
    if not shutil.which("openssl"):
        tap.skip("openssl not installed: no certificate for STARTTLS")
        return
    d = os.path.join(work, "tls")
    os.makedirs(os.path.join(d, "target", "tina", "cur"))
    for sub in ("new", "tmp"):
        os.makedirs(os.path.join(d, "target", "tina", sub))
    uid, gid = dh.mail_owner()
    for dp, _, _ in os.walk(os.path.join(d, "target", "tina")):
        os.chown(dp, uid, gid)
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=localhost"], capture_output=True,
                       text=True)
    if not tap.ok(r.returncode == 0, "a self-signed certificate",
                  r.stderr.splitlines()):
        return
    os.chmod(key, 0o644)
    extra = ("ssl = yes\nssl_cert = <%s\nssl_key = <%s\n"
             "disable_plaintext_auth = yes\n"
             # neither LITERAL+ nor MOVE: synchronizing literals, and the
             # move as COPY, STORE \\Deleted, EXPUNGE
             "imap_capability = IMAP4rev1 IDLE\n"
             "listen = 127.0.0.1, 127.0.0.2\n" % (cert, key))

    class TwoAddr(dh.Dovecot):
        def write_config(self):
            super().write_config()
            with open(self.conf) as f:
                c = f.read()
            c = c.replace("    address = 127.0.0.1\n",
                          "    address = 127.0.0.1, 127.0.0.2\n")
            with open(self.conf, "w") as f:
                f.write(c)
    dc = TwoAddr(os.path.join(d, "target"), ["tina"], password=PW8,
                 workdir=os.path.join(d, "dovecot"), extra_conf=extra)
    try:
        dc.__enter__()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "Dovecot with TLS starts", str(e).splitlines()[:20])
        return
    try:
        empty_mbox = os.path.join(d, "empty.mbox")
        open(empty_mbox, "w").close()
        r = run_tool(["127.0.0.2", dc.port, "tina", PW8,
                      "INBOX=" + empty_mbox])
        greeting = [ln for ln in r.out.splitlines()
                    if ln.startswith("greeting\t")]
        print("# " + (greeting[0] if greeting else "(no greeting)"))
        if "LOGINDISABLED" not in "".join(r.out.split("greeting")[1:2]):
            tap.skip("Dovecot does not say LOGINDISABLED to 127.0.0.2 "
                     "here")
        else:
            tap.ok(r.status == 0 and "STARTTLS" in r.detail("login") and
                   r.ok("move"),
                   "LOGINDISABLED: STARTTLS (self-signed certificate on "
                   "loopback), LOGIN with an 8-bit password (a literal), "
                   "APPEND without LITERAL+, every check passes", r.diag())
            r.note("login", "move")
            # the move went as COPY + EXPUNGE (no MOVE): Dovecot's count,
            # logged when the session ends (just after our LOGOUT)
            deadline = time.time() + 10
            while "Logged out" not in dc.log() and time.time() < deadline:
                time.sleep(0.1)
            tap.ok("expunged=2" in dc.log(), "no MOVE capability: moved "
                   "with COPY, STORE \\Deleted, EXPUNGE (Dovecot logs "
                   "expunged=2)", dc.log().splitlines()[-5:])
    finally:
        dc.failed = dc.failed or bool(tap.failures)
        dc.__exit__(None, None, None)


def nothing_listening(tap):
    port = dh.free_port()
    r = run_tool(["127.0.0.1", port, "alice", "pw"])
    tap.ok(r.status == 2 and r.result == -1 and r.error is not None and
           "127.0.0.1:%d" % port in r.error and "refused" in r.error,
           "nothing listening on %d: -1, the error names host, port and "
           "the refusal" % port, r.diag())
    r.note("error")

    # a server that accepts and never greets: the timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        port = s.getsockname()[1]
        t0 = time.time()
        r = run_tool(["--timeout", "1", "127.0.0.1", port, "alice", "pw"])
        took = time.time() - t0
    finally:
        s.close()
    tap.ok(r.status == 2 and r.result == -1 and r.error is not None and
           "127.0.0.1:%d" % port in r.error and "1 second" in r.error and
           took < 10, "a server that never greets: -1 after the timeout "
           "(%.1f s)" % took, r.diag())
    r.note("error")


if __name__ == "__main__":
    sys.exit(main())
