#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The originals are never changed: every file of the spool and the homes
(and the files outside the homes that things in a home point to) is hashed
before, and after each of:

  1. a full migration;
  2. failed runs: kill -9 in the middle, a read-only target, a full
     target (as root, on small tmpfs mounts; skipped otherwise);
  3. the resume of the killed run;
  4. clear, and a second migration;
  5. an incremental run after new mail was appended to an inbox and to a
     folder (the admin's change, by Python: hashed again after it);
  6. rollback --mail-only, when this build has a rollback command: it may
     only append (every file's old bytes are a prefix of its new bytes).

After each: every file byte-identical (sha256, size), same mtime, mode
and owner, no file appeared or vanished (no dotlock left behind; after a
kill -9, only a lock of the killed process, removed by the resume);
directories keep their modes and owners.

The homes hold hostile things too: a FIFO, a symlink and a hard link to a
file outside the home, a symlink to a directory outside.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (20041109), M2D_KEEP=1.
"""

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True

import genspool as gs  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(roots):
    """{path: entry} for everything below ROOTS (lstat, never followed):
    files ('f', sha256, size, mtime_ns, mode, uid, gid), symlinks ('l',
    target, uid, gid), directories ('d', mode, uid, gid), others ('o',
    mode, mtime_ns, uid, gid)."""
    out = {}
    for root in roots:
        for dp, dirs, files in os.walk(root):
            for name in dirs + files:
                p = os.path.join(dp, name)
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode):
                    out[p] = ("f", sha256(p), st.st_size, st.st_mtime_ns,
                              st.st_mode, st.st_uid, st.st_gid)
                elif stat.S_ISLNK(st.st_mode):
                    out[p] = ("l", os.readlink(p), st.st_uid, st.st_gid)
                elif stat.S_ISDIR(st.st_mode):
                    out[p] = ("d", st.st_mode, st.st_uid, st.st_gid)
                else:
                    out[p] = ("o", st.st_mode, st.st_mtime_ns, st.st_uid,
                              st.st_gid)
    return out


def compare(before, after, allow_extra=()):
    """Differences; ALLOW_EXTRA: paths that may have appeared."""
    diag = []
    for p in sorted(set(before) | set(after)):
        b, a = before.get(p), after.get(p)
        if b == a:
            continue
        if b is None:
            if p not in allow_extra:
                diag.append("appeared: %s %r" % (p, a))
        elif a is None:
            diag.append("vanished: %s" % p)
        else:
            diag.append("changed: %s %r -> %r" % (p, b, a))
    return diag


def appended_only(before, after):
    """Every file's old bytes a prefix of its new ones (rollback may
    append), nothing else changed but size, hash and mtime."""
    diag = []
    for p in sorted(set(before) | set(after)):
        b, a = before.get(p), after.get(p)
        if b == a:
            continue
        if b is None or a is None or b[0] != "f" or a[0] != "f":
            diag.append("%s: %r -> %r" % (p, b, a))
            continue
        if a[4:] != b[4:] or a[2] < b[2]:
            diag.append("%s: mode/owner or shrank: %r -> %r" % (p, b, a))
            continue
        with open(p, "rb") as f:
            h = hashlib.sha256(f.read(b[2])).hexdigest()
        if h != b[1]:
            diag.append("%s: the first %d bytes changed" % (p, b[2]))
    return diag


def dotlocks(snap):
    return sorted(p for p in snap if p.endswith(".lock"))


class Env:
    def __init__(self, root, manifest):
        self.root = root
        self.manifest = manifest
        self.spool = os.path.join(root, "spool")
        self.homes = os.path.join(root, "home")
        self.outside = os.path.join(root, "outside")
        self.users = sorted(manifest["users"])
        self.config = gs.default_config(os.path.join(root, "empty.conf"))
        self.env = gs.run_env(manifest)

    def roots(self):
        return [self.spool, self.homes, self.outside]

    def argv(self, cmd, target, work, *extra):
        return [PROG, cmd, "--config", self.config, "--spool", self.spool,
                "--homes", self.homes, "--target", target, "--work", work,
                "--users", ",".join(self.users)] + list(extra)

    def run(self, cmd, target, work, *extra, timeout=60):
        try:
            r = subprocess.run(self.argv(cmd, target, work, *extra),
                               env=self.env, capture_output=True,
                               timeout=timeout)
            return r.returncode, (r.stdout + r.stderr).decode(
                "utf-8", "replace").splitlines()
        except subprocess.TimeoutExpired:
            return "timeout", []


def plant(env):
    """Hostile things in the first user's home, pointing outside."""
    os.makedirs(env.outside)
    secret = os.path.join(env.outside, "secret")
    with open(secret, "wb") as f:
        f.write(b"From x@y Tue Nov  9 10:11:12 2004\n\nnot yours\n")
    os.makedirs(os.path.join(env.outside, "dir"))
    home = os.path.join(env.root, env.manifest["users"][env.users[0]]["home"])
    mail = os.path.join(home, "mail")
    os.makedirs(mail, exist_ok=True)
    os.symlink(secret, os.path.join(mail, "link-out"))
    os.symlink(os.path.join(env.outside, "dir"),
               os.path.join(mail, "dir-out"))
    os.link(secret, os.path.join(mail, "hardlink-out"))
    os.mkfifo(os.path.join(mail, "fifo"))


def append_mail(env):
    """New mail in the first user's inbox and in one folder of the
    second, the way a delivery appends it."""
    msg = (b"From new@example.org Mon Dec  6 08:00:00 2004\n"
           b"From: new@example.org\nSubject: arrived later\n\n"
           b"appended by the test\n\n")
    u0 = env.manifest["users"][env.users[0]]
    u1 = env.manifest["users"][env.users[1]]
    inbox = [f for f in u0["folders"] if f["name"] == "INBOX"][0]["mbox"]
    other = [f for f in u1["folders"] if f["name"] != "INBOX"][0]["mbox"]
    inbox, other = (os.path.join(env.root, p) for p in (inbox, other))
    for p in (inbox, other):
        st = os.stat(p)
        with open(p, "ab") as f:
            f.write(msg)
        os.chown(p, st.st_uid, st.st_gid)
    return [inbox, other]


def run_ok(rc, out):
    """Success, but for the planted hard link, which must be refused and
    reported (and is the only failure)."""
    failed = [ln for ln in out if ln.startswith("FAILED")]
    if rc == 0:
        return True
    return rc == 1 and len(failed) == 1 and "hardlink-out" in failed[0]


def small_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs",
                           path], capture_output=True).returncode == 0


def check(tap, env, what, base, allow_extra=()):
    after = snapshot(env.roots())
    diag = compare(base, after, allow_extra)
    tap.ok(not diag, "%s: every original byte-identical, same mtime, mode "
           "and owner, nothing appeared or vanished" % what, diag)
    return after


def main():
    tap = Tap(max_diag=10)
    if not os.access(PROG, os.X_OK):
        print("1..0 # SKIP %s not built" % PROG)
        return 0
    scratch = tempfile.mkdtemp(prefix="m2d-originals.")
    mounts = []
    try:
        src = os.path.join(scratch, "src")
        manifest = gs.generate(tap, src, os.environ.get("M2D_SEED",
                                                        "20041109"), 3, 400)
        if manifest is None:
            return 1
        env = Env(src, manifest)
        plant(env)
        base = snapshot(env.roots())
        tap.note("%d entries hashed" % len(base))

        # 1. a full migration
        t1, w1 = os.path.join(scratch, "t1"), os.path.join(scratch, "w1")
        rc, out = env.run("migrate", t1, w1)
        tap.ok(run_ok(rc, out), "a full migration", out[-6:])
        tap.ok(any("hardlink-out" in ln and "hard link" in ln
                   for ln in out), "the hard link to a file outside the "
               "home refused and reported", out[-6:])
        check(tap, env, "after the full migration", base)
        rc, out = env.run("verify", t1, w1)
        tap.ok(run_ok(rc, out), "verify after it", out[-6:])

        # 2a. kill -9 in the middle
        t2, w2 = os.path.join(scratch, "t2"), os.path.join(scratch, "w2")
        p = subprocess.Popen(env.argv("migrate", t2, w2, "--jobs", "1"),
                             env=env.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        # until a first folder is done, then at once
        deadline = time.time() + 30
        while time.time() < deadline and p.poll() is None:
            if os.path.exists(os.path.join(w2, "journal")) and \
                    b"\nD\t" in open(os.path.join(w2, "journal"),
                                     "rb").read():
                break
            time.sleep(0.002)
        killed = p.poll() is None
        if killed:
            p.send_signal(signal.SIGKILL)
        p.wait()
        tap.ok(killed, "migrate killed with SIGKILL in the middle")
        after = snapshot(env.roots())
        locks = dotlocks(after)
        stale = []
        for lk in locks:
            with open(lk, "rb") as f:
                if f.read().strip() != str(p.pid).encode():
                    stale.append(lk)
        if locks:
            tap.note("left by the kill: %s" % locks)
        tap.ok(not stale, "after kill -9: no dotlock but the killed "
               "process's", stale)
        check(tap, env, "after kill -9", base, allow_extra=set(locks))

        # 2b. a read-only target, 2c. a full target (root only)
        if os.geteuid() == 0:
            for name, opts in (("read-only", "ro,size=1m"),
                               ("full", "size=256k")):
                t = os.path.join(scratch, "t-" + name)
                if not small_tmpfs(t, opts):
                    tap.skip("cannot mount a tmpfs for the %s target"
                             % name)
                    continue
                mounts.append(t)
                rc, out = env.run("migrate", t, os.path.join(
                    scratch, "w-" + name))
                tap.ok(rc not in (0, "timeout"), "migrate into a %s "
                       "target fails (exit %s)" % (name, rc), out[-4:])
                check(tap, env, "after the run into a %s target" % name,
                      base)
        else:
            tap.skip("not root: no read-only or full target")

        # 3. the resume of the killed run
        rc, out = env.run("migrate", t2, w2)
        tap.ok(run_ok(rc, out), "the killed run resumed", out[-6:])
        check(tap, env, "after the resume", base)
        rc, out = env.run("verify", t2, w2)
        tap.ok(run_ok(rc, out), "verify after the resume", out[-6:])

        # 4. clear, and a second migration
        rc, out = env.run("clear", t1, w1)
        tap.ok(rc == 0, "clear", out[-6:])
        check(tap, env, "after clear", base)
        rc, out = env.run("migrate", t1, w1)
        tap.ok(run_ok(rc, out), "a second migration after clear",
               out[-6:])
        check(tap, env, "after the second migration", base)

        # 5. new mail (the admin's change), then an incremental run
        changed = append_mail(env)
        base = snapshot(env.roots())
        tap.note("appended to %s" % changed)
        rc, out = env.run("migrate", t1, w1)
        tap.ok(run_ok(rc, out) and
               any(ln.startswith("users:") and "2 converted" in ln
                   for ln in out),
               "the incremental run after new mail", out[-6:])
        check(tap, env, "after the incremental run", base)
        rc, out = env.run("verify", t1, w1)
        tap.ok(run_ok(rc, out), "verify after the incremental run",
               out[-6:])

        # 6. rollback, when there is one
        h = subprocess.run([PROG, "rollback", "--help"], env=env.env,
                           capture_output=True, text=True)
        if h.returncode != 0 or "--mail-only" not in h.stdout + h.stderr:
            tap.skip("no rollback --mail-only in this build")
        else:
            # mail delivered into the maildir after cutover
            u0 = env.users[0]
            owner = os.stat(os.path.join(t1, u0)).st_uid, \
                os.stat(os.path.join(t1, u0)).st_gid
            name = "%d.M1P1.test" % int(time.time())
            p = os.path.join(t1, u0, "new", name)
            with open(p, "wb") as f:
                f.write(b"From: late@example.org\nSubject: after cutover"
                        b"\n\ndelivered to the maildir\n")
            os.chown(p, *owner)
            rc, out = env.run("rollback", t1, w1, "--mail-only")
            tap.ok(run_ok(rc, out), "rollback --mail-only", out[-6:])
            after = snapshot(env.roots())
            diag = appended_only(base, after)
            tap.ok(not diag, "after rollback: every original's old bytes "
                   "a prefix of its new ones, nothing else changed", diag)
            inbox = os.path.join(env.spool, u0)
            tap.ok(after[inbox][2] > base[inbox][2],
                   "after rollback: the mail delivered after cutover was "
                   "appended to %s" % inbox, out[-6:])
            tap.ok(not dotlocks(after), "after rollback: no dotlock left",
                   dotlocks(after))
    finally:
        for m in mounts:
            subprocess.run(["umount", "-l", m], capture_output=True)
        if os.environ.get("M2D_KEEP"):
            tap.note("kept %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
