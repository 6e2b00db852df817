#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sharding: `--shard K/N` splits the users deterministically, each shard
with its own work dir and journal; `report --merge DIR...` reads them
together (issue 18).

A site of 30 small users (an INBOX in the spool, one folder under
~/mail, in a passwd of their own) is migrated as 3 shards into one
target, each shard as its own process (as the README's GNU parallel
run does on several hosts), then:

  * the shards' plans are disjoint and together the whole site, and the
    same on a second asking (deterministic);
  * each shard has its own work dir (WORK/shard-K-of-3) and journal;
  * every user's maildir is there, and `verify --shard K/3` passes;
  * `report --merge` sums the three (exit 0), and names a user given
    twice (the same work dir twice: exit 1);
  * a bad --shard is a usage error (exit 2).

Prints TAP.  Env: M2D_TOP, BUILD, M2D_KEEP=1.
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

from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
USERS = 30
MSG = ("From sender@example.org Tue Nov  9 10:11:%02d 2004\n"
       "From: sender@example.org\nSubject: note %d\nStatus: RO\n\n"
       "A short note.\n\n")


def site(d):
    """Spool, homes, passwd and config for USERS users; the config path."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        uid = gid = 65534
    for sub in ("spool", "home", "root/etc"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "root/etc/passwd"), "w") as pw:
        for i in range(USERS):
            u = "user%02d" % i
            home = os.path.join(d, "home", u)
            pw.write("%s:x:%d:%d::%s:/bin/sh\n" % (u, uid, gid, home))
            os.makedirs(os.path.join(home, "mail"))
            for p in (os.path.join(d, "spool", u),
                      os.path.join(home, "mail", "notes")):
                with open(p, "w") as f:
                    f.write(MSG % (1, 1) + MSG % (2, 2))
                if os.geteuid() == 0:
                    os.chown(p, uid, gid)
            if os.geteuid() == 0:
                for p in (home, os.path.join(home, "mail")):
                    os.chown(p, uid, gid)
    conf = os.path.join(d, "m2d.conf")
    with open(conf, "w") as c:
        c.write('spool_dir = "%s/spool"\nhomes_dir = "%s/home"\n'
                'folder_roots = {"~/mail"}\ntarget_base = "%s/target"\n'
                'work_dir = "%s/work"\naccounts_root = "%s/root"\n'
                'uid_min = %d\nuid_max = %d\njobs = 1\n'
                % (d, d, d, d, d, uid, uid))
    return conf


def run(*args):
    return subprocess.run([PROG] + list(args), capture_output=True,
                          text=True, timeout=120)


def planned_users(conf, shard):
    """The users `plan --shard` lists (the 'user NAME' lines)."""
    args = ["plan", "--config", conf] + (["--shard", shard] if shard else [])
    r = run(*args)
    return r.returncode, {ln.split()[1].rstrip(":")
                          for ln in r.stdout.splitlines()
                          if ln.startswith("user ")}, r


def main():
    tap = Tap(tail=True)
    if not os.access(PROG, os.X_OK):
        print("1..0 # SKIP %s not built" % PROG)
        return 0
    d = tempfile.mkdtemp(prefix="m2d-shard.")
    os.chmod(d, 0o755)
    try:
        conf = site(d)
        rc, everyone, r = planned_users(conf, None)
        tap.ok(rc == 0 and len(everyone) == USERS,
               "plan without --shard: all %d users" % USERS,
               [rc, sorted(everyone), r.stdout[-400:], r.stderr])
        parts = []
        for k in (1, 2, 3):
            rc, us, r = planned_users(conf, "%d/3" % k)
            rc2, again, _ = planned_users(conf, "%d/3" % k)
            tap.ok(rc == 0 and rc2 == 0 and us == again and us,
                   "plan --shard %d/3: %d users, the same when asked again"
                   % (k, len(us)), [rc, r.stderr])
            parts.append(us)
        tap.ok(set().union(*parts) == everyone and
               sum(len(p) for p in parts) == len(everyone),
               "the 3 shards are disjoint and together every user",
               [sorted(p) for p in parts])

        procs = [subprocess.Popen(
            [PROG, "migrate", "--config", conf, "--shard", "%d/3" % k],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for k in (1, 2, 3)]
        outs = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
        tap.ok(all(o[2] == 0 for o in outs),
               "migrate --shard K/3, three at once", outs)
        work = os.path.join(d, "work")
        dirs = [os.path.join(work, "shard-%d-of-3" % k) for k in (1, 2, 3)]
        tap.ok(all(os.path.isfile(os.path.join(w, "journal"))
                   for w in dirs) and
               not os.path.exists(os.path.join(work, "journal")),
               "each shard has its own work dir and journal",
               sorted(os.listdir(work)))
        target = os.path.join(d, "target")
        made = set(os.listdir(target)) if os.path.isdir(target) else set()
        tap.ok(made == everyone, "every user's maildir is in the target",
               sorted(everyone ^ made))
        for k in (1, 2, 3):
            r = run("verify", "--config", conf, "--shard", "%d/3" % k)
            tap.ok(r.returncode == 0, "verify --shard %d/3" % k,
                   [r.stdout[-300:], r.stderr])

        r = run("report", "--merge", *dirs)
        last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        tap.ok(r.returncode == 0 and last.startswith(
            "all: %d users, %d folders, %d messages" %
            (USERS, 2 * USERS, 4 * USERS)),
            "report --merge: the three shards summed", [r.stdout, r.stderr])
        r = run("report", "--merge", dirs[0], dirs[0])
        tap.ok(r.returncode == 1 and "more than one work dir" in r.stderr,
               "report --merge: a user in two work dirs is named, exit 1",
               [r.returncode, r.stderr[-300:]])
        for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
            r = run("plan", "--config", conf, "--shard", bad)
            tap.ok(r.returncode == 2 and "--shard" in r.stderr,
                   "--shard %s: a usage error" % bad,
                   [r.returncode, r.stderr])
    finally:
        if os.environ.get("M2D_KEEP"):
            tap.note("kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
