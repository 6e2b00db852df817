#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real full file system under the target, and under the work directory.

As root, a tmpfs with a size limit is mounted (a loop-mounted ext4 image
when tmpfs cannot be mounted; SKIP when neither can), and a spool written
by tests/tools/gen-spool.py (elsewhere) is migrated into it:

  1. space: the target is a 3 MiB file system, the spool needs far more;
  2. inodes: plenty of space, 300 inodes;
  3. journal: the target is large, the work directory (the journal) is a
     file system of 8 KiB.

In each: migrate exits non-zero, the error names a file below the full
file system and says "No space left on device"; every folder that is
there at all is complete and exact (tests/lib/maildir_check.py against
the manifest: nothing partial in new/ or cur/, no staging left in tmp/);
a second run while still full converts none of the folders that were
complete again (their dovecot-uidlist, with its random GUID and the
unique file names, is unchanged: the journal is consistent); then the file system is made larger and the same command
completes, verify passes for every folder, every folder is exact, and
the folders completed in the full runs were still not converted again.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (20041109), M2D_KEEP=1 keeps
the temp dir, M2D_FULL_FS_EXT4=1 uses the ext4 images even where tmpfs
can be mounted.
"""

import hashlib
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

import maildir_check as mc  # noqa: E402
import genspool as gs  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
ENOSPC = "No space left on device"


def sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)


class SmallFs:
    """A small file system at DIR: tmpfs, or an ext4 image on a loop."""

    def __init__(self, scratch, name, size_k, inodes=None):
        self.dir = os.path.join(scratch, name)
        self.image = os.path.join(scratch, name + ".img")
        self.kind = None
        os.makedirs(self.dir)
        opts = "size=%dk,mode=0755" % size_k
        if inodes:
            opts += ",nr_inodes=%d" % inodes
        if not os.environ.get("M2D_FULL_FS_EXT4") and \
                sh("mount", "-t", "tmpfs", "-o", opts, "tmpfs",
                   self.dir).returncode == 0:
            self.kind = "tmpfs"
            return
        # ext4 (no journal) cannot be much smaller than 256 KiB: a
        # ballast file takes what is more than SIZE_K
        self.size_k = max(size_k, 256)
        with open(self.image, "wb") as f:
            f.truncate(self.size_k * 1024)
        mk = ["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0"]
        if inodes:
            mk += ["-N", str(inodes)]
        if sh(*mk, self.image).returncode == 0 and \
                sh("mount", "-o", "loop", self.image,
                   self.dir).returncode == 0:
            self.kind = "ext4"
            for e in os.listdir(self.dir):      # lost+found
                shutil.rmtree(os.path.join(self.dir, e))
            if size_k < self.size_k:
                self.ballast(size_k)

    def ballast(self, size_k):
        """Fill the file system until SIZE_K are free."""
        path = os.path.join(self.dir, "..ballast")
        with open(path, "wb") as f:
            while True:
                st = os.statvfs(self.dir)
                free = st.f_bavail * st.f_frsize
                if free <= size_k * 1024:
                    break
                f.write(b"\0" * min(65536, free - size_k * 1024))
                f.flush()
                os.fsync(f.fileno())

    def grow(self, size_k=65536, inodes=65536):
        if self.kind == "tmpfs":
            r = sh("mount", "-o", "remount,size=%dk,nr_inodes=%d"
                   % (size_k, inodes), self.dir)
            return r.returncode == 0, r.stderr
        # ext4: the files copied aside (cp -a: names, bytes, owners,
        # modes, times), a new, larger image with the default inodes,
        # the files copied back
        ballast = os.path.join(self.dir, "..ballast")
        if os.path.exists(ballast):
            os.unlink(ballast)
        save = self.dir + ".save"
        r = sh("cp", "-a", self.dir, save)
        if r.returncode != 0 or sh("umount", self.dir).returncode != 0:
            return False, "cp -a or umount failed: " + r.stderr
        self.kind = None
        os.unlink(self.image)
        with open(self.image, "wb") as f:
            f.truncate(size_k * 1024)
        r = sh("mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0",
               self.image)
        if r.returncode != 0 or sh("mount", "-o", "loop", self.image,
                                   self.dir).returncode != 0:
            return False, "mkfs or mount failed: " + r.stderr
        self.kind = "ext4"
        shutil.rmtree(os.path.join(self.dir, "lost+found"),
                      ignore_errors=True)
        r = sh("sh", "-c", 'cp -a "$0"/. "$1"/', save, self.dir)
        shutil.rmtree(save, ignore_errors=True)
        return r.returncode == 0, r.stderr

    def umount(self):
        if self.kind:
            sh("umount", "-l", self.dir)
            self.kind = None


def can_mount(scratch):
    fs = SmallFs(scratch, "probe", 1024)
    kind = fs.kind
    fs.umount()
    return kind


class Spool:
    def __init__(self, root, manifest):
        self.root = root
        self.manifest = manifest
        self.spool = os.path.join(root, "spool")
        self.homes = os.path.join(root, "home")
        self.users = sorted(manifest["users"])
        self.config = gs.default_config(os.path.join(root, "empty.conf"))
        self.env = gs.run_env(manifest)

    def expected(self):
        """{(user, dirname): manifest folder}."""
        return {(u, mc.maildir_subdir(f["name"])): f
                for u in self.users
                for f in self.manifest["users"][u]["folders"]}

    def run(self, cmd, target, work, timeout=60):
        argv = [PROG, cmd, "--config", self.config, "--spool", self.spool,
                "--homes", self.homes, "--target", target, "--work", work,
                "--users", ",".join(self.users), "--jobs", "1"]
        try:
            r = subprocess.run(argv, env=self.env, capture_output=True,
                               timeout=timeout)
            return r.returncode, r.stdout.decode("utf-8", "replace"), \
                r.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            return "timeout", "", ""


def generate(tap, out, seed):
    manifest = gs.generate(tap, out, seed, 4, 150,
                           "gen-spool.py --seed %d" % seed)
    return Spool(out, manifest) if manifest is not None else None


def folder_present(path):
    """A folder is there when it has a uidlist or any message."""
    if os.path.exists(os.path.join(path, "dovecot-uidlist")):
        return True
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        if os.path.isdir(d) and os.listdir(d):
            return True
    return False


def check_target(sp, target):
    """([problems], {(user, dirname): identity} of complete folders, the
    identity being the sha256 of its dovecot-uidlist: a conversion writes
    a new GUID and new file names, a copy of the files keeps them).
    Every folder that is there must be exact; no staging left in tmp/."""
    want = sp.expected()
    probs, done = [], {}
    for u in sp.users:
        root = os.path.join(target, u)
        if not os.path.isdir(root):
            continue
        left = [e for e in os.listdir(os.path.join(root, "tmp"))]
        if left:
            probs.append("%s/tmp not empty: %s" % (u, left[:3]))
        for d in mc.list_folders(root):
            path = os.path.join(root, d) if d else root
            if not folder_present(path):
                continue
            if (u, d) not in want:
                probs.append("%s/%s: not in the manifest" % (u, d))
                continue
            diag = mc.compare_folder(mc.read_folder(path), want[(u, d)])
            if diag:
                probs.append("%s/%s: %s" % (u, d or "INBOX", diag[:3]))
                continue
            with open(os.path.join(path, "dovecot-uidlist"), "rb") as f:
                done[(u, d)] = hashlib.sha256(f.read()).hexdigest()
    return probs, done


def journal_done(work):
    """{(user, dirname)} the journal says are done (replayed as
    journal.c does: D sets, C and F reset, a torn last line ignored)."""
    state = {}
    try:
        with open(os.path.join(work, "journal"), "rb") as f:
            data = f.read()
    except OSError:
        return set()
    for line in data.split(b"\n")[:-1]:
        fields = line.decode("utf-8", "replace").split("\t")
        if fields[0] in ("C", "D") and len(fields) >= 5:
            state[(fields[1], fields[2])] = (fields[0], fields[1],
                                             fields[4])
        elif fields[0] == "F" and len(fields) >= 3:
            state.pop((fields[1], fields[2]), None)
    return {(u, d) for t, u, d in state.values() if t == "D"}


def names_full_file(text, base):
    """Every line saying ENOSPC names a file below BASE (in full), and
    there is one."""
    lines = [ln for ln in text.splitlines() if ENOSPC in ln]
    return bool(lines) and all(re.search(re.escape(base) + r"/\S", ln)
                               for ln in lines)


def scenario(tap, sp, scratch, name, target_fs, work_fs):
    """One full file system (TARGET_FS or WORK_FS is the small one)."""
    small = target_fs or work_fs
    target = target_fs.dir if target_fs else os.path.join(scratch,
                                                          name + "-target")
    work = work_fs.dir if work_fs else os.path.join(scratch, name + "-work")
    os.makedirs(target, exist_ok=True)
    t0 = time.time()

    rc, out, err = sp.run("migrate", target, work)
    text = out + err
    tap.ok(rc not in (0, "timeout"), "%s: migrate on the full file system "
           "fails (exit %s)" % (name, rc), text.splitlines()[-8:])
    tap.ok(names_full_file(text, small.dir),
           "%s: each error names a file below %s in full and says %r"
           % (name, small.dir, ENOSPC),
           [ln for ln in text.splitlines() if ENOSPC in ln]
           or text.splitlines()[-8:])
    probs, complete = check_target(sp, target)
    jdone = journal_done(work)
    tap.ok(not probs and jdone <= set(complete),
           "%s: every folder there is complete and exact, no staging left; "
           "every folder the journal says done is there (%d complete, %d "
           "journaled done, of %d)" % (name, len(complete), len(jdone),
                                       len(sp.expected())),
           probs + ["journaled done, not there: %s" % (k,)
                    for k in jdone - set(complete)])
    # what the journal says is done must never be converted again (a
    # folder complete without its done line is converted again, by
    # design: a lost done line only costs a second conversion)
    done1 = {k: complete[k] for k in jdone}
    if target_fs:
        tap.ok(set(complete) == jdone, "%s: the journal says done for "
               "exactly the complete folders" % name,
               ["complete, not done: %s" % (k,)
                for k in set(complete) - jdone])
    else:
        tap.note("%s: %d complete folders lost their done line"
                 % (name, len(set(complete) - jdone)))
    tap.note("%s: %s" % (name, [ln for ln in text.splitlines()
                                if ENOSPC in ln][:2]))

    rc2, out2, err2 = sp.run("migrate", target, work)
    probs, complete = check_target(sp, target)
    redone = [k for k in done1 if complete.get(k) != done1[k]]
    done2 = {k: complete[k] for k in journal_done(work)}
    tap.ok(rc2 not in (0, "timeout") and not probs and not redone,
           "%s: a second run while full fails again, redoes none of the %d "
           "folders done" % (name, len(done1)),
           ["exit %s" % rc2] + probs + ["converted again: %s" % (k,)
                                       for k in redone] +
           (out2 + err2).splitlines()[-4:])

    ok, why = small.grow()
    if not tap.ok(ok, "%s: the file system made larger (%s)"
                  % (name, small.kind), [why]):
        return
    rc3, out3, err3 = sp.run("migrate", target, work)
    tap.ok(rc3 == 0, "%s: the same command completes after space is freed"
           % name, (out3 + err3).splitlines()[-8:])
    rc4, out4, err4 = sp.run("verify", target, work)
    m = re.search(r"verified (\d+) folders: (\d+) identical", out4)
    nwant = len(sp.expected())
    tap.ok(rc4 == 0 and m and int(m.group(1)) == nwant and
           int(m.group(2)) == nwant,
           "%s: verify passes for every folder (%d)" % (name, nwant),
           ["exit %s" % rc4] + (out4 + err4).splitlines()[-6:])
    probs, done3 = check_target(sp, target)
    redone = [k for k in done2 if done3.get(k) != done2[k]]
    tap.ok(not probs and len(done3) == nwant and not redone,
           "%s: every folder exact against the manifest, none of the %d "
           "done before converted again" % (name, len(done2)),
           probs + ["converted again: %s" % (k,) for k in redone] +
           ["missing: %s" % (k,) for k in sp.expected() if k not in done3])
    tap.note("%s: %.1f s on %s" % (name, time.time() - t0, small.kind))


def main():
    tap = Tap(max_diag=10)
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root to mount a small file system")
        return 0
    if not os.access(PROG, os.X_OK):
        print("1..0 # SKIP %s not built" % PROG)
        return 0
    scratch = tempfile.mkdtemp(prefix="m2d-full-fs.")
    mounts = []
    try:
        kind = can_mount(scratch)
        if kind is None:
            print("1..0 # SKIP neither tmpfs nor a loop-mounted ext4 image "
                  "can be mounted here")
            return 0
        tap.note("small file systems: %s" % kind)
        sp = generate(tap, os.path.join(scratch, "src"),
                      int(os.environ.get("M2D_SEED", "20041109")))
        if sp is None:
            return 1
        runs = [("space", dict(size_k=3072), True),
                ("inodes", dict(size_k=65536, inodes=300), True),
                ("journal", dict(size_k=8), False)]
        for name, fs_args, on_target in runs:
            fs = SmallFs(scratch, name, **fs_args)
            mounts.append(fs)
            if fs.kind is None:
                tap.ok(False, "%s: mount a small file system" % name)
                continue
            scenario(tap, sp, scratch, name, fs if on_target else None,
                     None if on_target else fs)
    finally:
        for fs in mounts:
            fs.umount()
        if os.environ.get("M2D_KEEP"):
            tap.note("kept %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
