#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Files written as root are the mail user's before anyone can see them,
and never readable by anyone else, not for a moment.

As root, with umask 000 (so that nothing is narrow by accident), while
`migrate` (owners taken from the spool: users not in passwd) and then
`convert --owner 65534:65534` run, a thread walks the target as fast as
it can (os.scandir + lstat) and records every violation it sees:

  * outside tmp/: an entry (file or directory) owned by anyone but its
    user, or with any group or other permission bit (files 0600,
    directories 0700); the one window tolerated (and reported as a note)
    is a directory just made, empty and root's 0700 until its fchown;
  * in tmp/ (the staging, m2d-stage.*, and tmp/ of every folder): any
    group or other bit, and a file with content owned by anyone but the
    user (a file is chowned before the first byte is written).

Then the result is walked once more at rest with the same rules, and the
number of polls is reported (a watcher that saw nothing proves nothing).

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (20041109), M2D_KEEP=1.
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.environ.get("M2D_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.dont_write_bytecode = True

import genspool as gs  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
# owners of the generated users (not in passwd: taken from the spool)
OWNERS = [(64001, 64001), (64002, 64012), (65534, 65534)]


def chown_tree(path, uid, gid):
    for dp, dirs, files in os.walk(path):
        os.lchown(dp, uid, gid)
        for f in dirs + files:
            os.lchown(os.path.join(dp, f), uid, gid)


WINDOWS = set()


def violations(path, owner, in_tmp, out):
    """Walk PATH (a user's maildir root or below) once; append what
    breaks the rules to OUT (a set of strings)."""
    try:
        it = os.scandir(path)
    except OSError:
        return                      # renamed or removed meanwhile
    with it:
        for e in it:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            p = e.path
            tmp = in_tmp or e.name == "tmp"
            wide = stat.S_IMODE(st.st_mode) & 0o077
            if wide:
                out.add("%s: mode %o" % (p, stat.S_IMODE(st.st_mode)))
            if (st.st_uid, st.st_gid) != owner:
                if stat.S_ISDIR(st.st_mode) and not wide and \
                        st.st_uid == 0 and not os.listdir(p):
                    # mkdir, then fchown: a new, empty directory is
                    # root's 0700 for a moment (tolerated, counted)
                    WINDOWS.add(p)
                elif not tmp:
                    out.add("%s: visible, owned by %d:%d, want %d:%d"
                            % ((p, st.st_uid, st.st_gid) + owner))
                elif stat.S_ISREG(st.st_mode) and st.st_size > 0:
                    out.add("%s: %d bytes written while owned by %d:%d"
                            % (p, st.st_size, st.st_uid, st.st_gid))
            if stat.S_ISLNK(st.st_mode):
                out.add("%s: a symlink" % p)
            elif stat.S_ISDIR(st.st_mode):
                violations(p, owner, tmp, out)


class Watcher(threading.Thread):
    """Polls the user roots below TARGET until stopped."""

    def __init__(self, target, owners):
        super().__init__(daemon=True)
        self.target = target
        self.owners = owners        # {user: (uid, gid)}
        self.found = set()
        self.polls = 0
        self.seen_files = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for user, owner in self.owners.items():
                root = os.path.join(self.target, user)
                violations(root, owner, False, self.found)
            self.polls += 1
            if self.seen_files == 0 and os.path.isdir(self.target):
                for dp, dirs, files in os.walk(self.target):
                    if "/cur" in dp or "/new" in dp:
                        self.seen_files += len(files)


def watch(tap, what, argv, env, target, owners):
    w = Watcher(target, owners)
    w.start()
    t0 = time.time()
    r = subprocess.run(argv, env=env, capture_output=True,
                       preexec_fn=lambda: os.umask(0), timeout=80)
    secs = time.time() - t0
    w.stop.set()
    w.join()
    out = (r.stdout + r.stderr).decode("utf-8", "replace").splitlines()
    tap.ok(r.returncode == 0, "%s (umask 000)" % what, out[-6:])
    tap.ok(not w.found, "%s: %d polls of the target in %.1f s, nothing "
           "visible with another owner or a mode wider than 0600/0700"
           % (what, w.polls, secs), sorted(w.found))
    tap.ok(w.polls >= 3, "%s: the watcher polled while it ran" % what,
           ["%d polls" % w.polls])
    if WINDOWS:
        tap.note("%s: seen empty and root's for a moment (mkdir before "
                 "fchown): %s" % (what, sorted(WINDOWS)))
        WINDOWS.clear()
    rest = set()
    for user, owner in owners.items():
        violations(os.path.join(target, user), owner, False, rest)
    tap.ok(not rest, "%s: the result at rest, same rules" % what,
           sorted(rest))


def main():
    tap = Tap(max_diag=10)
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (chown to the mail users)")
        return 0
    if not os.access(PROG, os.X_OK):
        print("1..0 # SKIP %s not built" % PROG)
        return 0
    scratch = tempfile.mkdtemp(prefix="m2d-privileges.")
    os.chmod(scratch, 0o755)
    try:
        src = os.path.join(scratch, "src")
        manifest = gs.generate(tap, src, os.environ.get("M2D_SEED",
                                                        "20041109"), 3, 300)
        if manifest is None:
            return 1
        users = sorted(manifest["users"])
        spool, homes = os.path.join(src, "spool"), os.path.join(src, "home")
        owners = {}
        for user, (uid, gid) in zip(users, OWNERS):
            chown_tree(os.path.join(homes, user), uid, gid)
            os.lchown(os.path.join(spool, user), uid, gid)
            owners[user] = (uid, gid)
        config = gs.default_config(os.path.join(scratch, "empty.conf"))
        env = gs.run_env(manifest)

        target = os.path.join(scratch, "target")
        work = os.path.join(scratch, "work")
        watch(tap, "migrate --jobs 2", [
            PROG, "migrate", "--config", config, "--spool", spool,
            "--homes", homes, "--target", target, "--work", work,
            "--users", ",".join(users), "--jobs", "2"], env, target, owners)

        # convert with --owner: one big mbox, root-owned, into a maildir
        # that is nobody's
        big = os.path.join(spool, users[0])
        md = os.path.join(scratch, "convert", "nobody")
        os.makedirs(os.path.dirname(md))
        watch(tap, "convert --owner 65534:65534", [
            PROG, "convert", big, md, "--owner", "65534:65534",
            "--no-dotlock"], env, os.path.dirname(md),
            {"nobody": (65534, 65534)})
    finally:
        if os.environ.get("M2D_KEEP"):
            tap.note("kept %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
