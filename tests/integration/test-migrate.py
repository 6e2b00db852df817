#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bulk migration end to end: plan, migrate, kill -9 and resume, incremental
re-run, clear, parallel = serial, dry run, and a real Dovecot on the result.

On a spool written by tests/tools/gen-spool.py (its manifest is the truth
about every message), plus things planted in a home that must never be taken
as folders (a dot file, a UW mbx file, a binary, a text file, a FIFO,
symlinks to a file outside the home, to /etc/passwd and to a directory):

  1. plan: every manifest folder, the planted files skipped with a reason,
     userlist-master / folderlist-master written, and fed back identical;
  2. migrate --jobs 4: every folder on disk exactly as in the manifest
     (tests/lib/maildir_check.py: uidlist, bytes, flags, mtime =
     INTERNALDATE, new/ vs cur/), subscriptions, owner and modes per user,
     the source untouched, nothing of the planted files converted;
  3. kill -9 at several points (times, N folders done, inside a folder,
     twice) and the same command again: identical to an uninterrupted run,
     no staging left, and what was visible after the kill was complete;
  4. re-run: unchanged; after appending to one inbox and one folder only
     those two are converted again, old UIDs kept;
  5. clear: the target is empty after; a foreign entry makes it refuse
     and remove nothing;
  6. --jobs 1 = --jobs 4;
  7. --dry-run writes nothing and prints the estimate;
  8. a private Dovecot serves the result: LIST, LSUB, STATUS per folder.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_SEED (20041109), M2D_KILL_MESSAGES
(150: messages per INBOX of the spool used for the kill tests), M2D_KEEP=1
keeps the temp dir.
"""

import base64
import hashlib
import json
import os
import pwd
import re
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
sys.dont_write_bytecode = True      # no __pycache__ in the source tree

import dovecot_harness as dh  # noqa: E402
import maildir_check as mc  # noqa: E402
import genspool as gs  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
USERS = ["alice", "bob", "carol"]
# owners of the generated spools and homes (not in passwd: the engine must
# take the owner of the inbox/home); carol: nobody's uid
OWNERS = {"alice": (64001, 64001), "bob": (64002, 64012),
          "carol": (65534, 65534)}
MARKER = b"M2D-OUTSIDE-THE-HOME-MARKER"
CMD_TIMEOUT = 60


# ---- helpers ---------------------------------------------------------------

class Result:
    def __init__(self, cmd, rc, out, err, secs):
        self.cmd, self.rc, self.out, self.err, self.secs = \
            cmd, rc, out, err, secs

    @property
    def lines(self):
        return self.out.splitlines()

    def diag(self, n=12):
        d = ["command: %s" % " ".join(self.cmd), "exit: %s" % self.rc]
        d += ["stdout: " + ln for ln in self.lines[-n:]]
        d += ["stderr: " + ln for ln in self.err.splitlines()[-n:]]
        return d


class Ctx:
    """Paths and the manifest of one generated spool."""

    def __init__(self, root, manifest):
        self.root = root
        self.manifest = manifest
        self.spool = os.path.join(root, "spool")
        self.homes = os.path.join(root, "home")
        self.env = dict(os.environ, TZ=manifest["tz"])
        self.env.pop("LANG", None)
        self.env["LC_ALL"] = "C"
        self.config = os.path.join(root, "empty.conf")
        with open(self.config, "w") as fp:
            fp.write("# mbox2dovecot.conf of the test: the defaults\n")

    def folders(self, user):
        return self.manifest["users"][user]["folders"]

    def listed(self, user, folder):
        """The folderlist form of a manifest folder: 'user/INBOX' or
        'user/<path relative to the home>'."""
        if folder["name"] == "INBOX":
            return "%s/INBOX" % user
        home = self.manifest["users"][user]["home"]
        return "%s/%s" % (user, os.path.relpath(folder["mbox"], home))

    def all_listed(self):
        return {self.listed(u, f): (u, f) for u in sorted(
            self.manifest["users"]) for f in self.folders(u)}

    def base_args(self, target, work, users=None):
        return ["--spool", self.spool, "--homes", self.homes,
                "--target", target, "--work", work,
                "--users", ",".join(users or sorted(self.manifest["users"]))]

    def run(self, cmd, *args, timeout=CMD_TIMEOUT, config=None):
        # always a config of ours: never the host's /etc/mbox2dovecot.conf
        argv = [PROG, cmd, "--config", config or self.config] + list(args)
        t0 = time.time()
        try:
            r = subprocess.run(argv, env=self.env, capture_output=True,
                               timeout=timeout)
            rc = r.returncode
            out, err = r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc = "timeout after %d s" % timeout
            out, err = e.stdout or b"", e.stderr or b""
        except OSError as e:        # e.g. the program being relinked
            rc = "cannot run: %s" % e
            out, err = b"", b""
        return Result(argv, rc, out.decode("utf-8", "replace"),
                      err.decode("utf-8", "replace"), time.time() - t0)

    def free_uidvalidity(self, user):
        """Dirnames whose UIDVALIDITY the converter picks itself."""
        return {mc.maildir_subdir(f["name"]) for f in self.folders(user)
                if f["uidvalidity"] is None}

    def snapshot(self, target):
        return {u: mc.snapshot_user(os.path.join(target, u),
                                    self.free_uidvalidity(u))
                for u in sorted(self.manifest["users"])}

    def total_messages(self):
        return sum(len(f["messages"]) for u in self.manifest["users"]
                   for f in self.folders(u))


def generate(tap, out, seed, users, messages):
    manifest = gs.generate(tap, out, seed, users, messages,
                           "gen-spool.py --seed %d --users %d --messages %d"
                           % (seed, users, messages))
    return Ctx(out, manifest) if manifest is not None else None


def tree_state(root, follow=False):
    """{relative path: (kind, sha256, size, mtime_ns, mode, uid, gid)}."""
    out = {}
    if not os.path.lexists(root):
        return None
    for dp, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dp, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as fp:
                    h = hashlib.sha256(fp.read()).hexdigest()
                out[rel] = ("f", h, st.st_size, st.st_mtime_ns, st.st_mode,
                            st.st_uid, st.st_gid)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p), None, None, st.st_mode,
                            st.st_uid, st.st_gid)
            else:
                out[rel] = ("d" if stat.S_ISDIR(st.st_mode) else "o", None,
                            None, st.st_mtime_ns if not stat.S_ISDIR(
                                st.st_mode) else None, st.st_mode,
                            st.st_uid, st.st_gid)
    return out


def tree_diff(before, after):
    if before is None or after is None:
        return ["%s -> %s" % ("missing" if before is None else "present",
                              "missing" if after is None else "present")]
    return ["%s: %s" % (p, "added" if p not in before else "removed"
                        if p not in after else "changed %r -> %r" % (
                            before[p], after[p]))
            for p in sorted(set(before) | set(after))
            if before.get(p) != after.get(p)]


def files_containing(root, needle):
    hits = []
    for dp, dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dp, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fp:
                if needle in fp.read():
                    hits.append(os.path.relpath(p, root))
    return hits


def expected_owner(user):
    """passwd entry of USER if there is one, else what we chowned."""
    try:
        pw = pwd.getpwnam(user)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return OWNERS.get(user, (0, 0))


def chown_tree(path, uid, gid):
    for dp, dirs, files in os.walk(path):
        os.lchown(dp, uid, gid)
        for f in dirs + files:
            os.lchown(os.path.join(dp, f), uid, gid)


RE_FOLDER = re.compile(r'^folder (.+) -> "(.*)" \((\d+) bytes\)$')
RE_SKIP = re.compile(r"^skip (.+?): (.+)$")
RE_DONE = re.compile(r"^done (.+) -> (.+): (\d+) messages$")
RE_UNCH = re.compile(r"^unchanged (.+)$")
RE_FAIL = re.compile(r"^FAILED (.+?): (.*)$")
RE_SUMMARY = re.compile(r"^users: (\d+) ready, (\d+) failed; folders: (\d+) "
                        r"converted, (\d+) unchanged, (\d+) failed; (\d+) "
                        r"messages in [0-9.]+ s$")


def unescape_field(line):
    """A line of userlist-master/folderlist-master: str_field_escape()."""
    out, i = bytearray(), 0
    b = line.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c != 0x5c:
            out.append(c)
            i += 1
            continue
        n = chr(b[i + 1])
        if n == "x":
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
            continue
        out += {"\\": b"\\", "t": b"\t", "n": b"\n", "r": b"\r",
                "s": b" "}[n]
        i += 2
    return out.decode("utf-8", "surrogateescape")


def parse_plan(res):
    taken, skipped = {}, {}
    for ln in res.lines:
        m = RE_FOLDER.match(ln)
        if m:
            taken[m.group(1)] = m.group(2)
            continue
        m = RE_SKIP.match(ln)
        if m:
            skipped[m.group(1)] = m.group(2)
    return taken, skipped


def parse_run(res):
    done, unchanged, failed, summary = {}, set(), {}, None
    for ln in res.lines:
        m = RE_DONE.match(ln)
        if m:
            done[m.group(1)] = (m.group(2), int(m.group(3)))
            continue
        m = RE_UNCH.match(ln)
        if m:
            unchanged.add(m.group(1))
            continue
        m = RE_FAIL.match(ln)
        if m:
            failed[m.group(1)] = m.group(2)
            continue
        m = RE_SUMMARY.match(ln)
        if m:
            summary = tuple(int(x) for x in m.groups())
    return done, unchanged, failed, summary


# ---- the planted things --------------------------------------------------

def plant(ctx, outside):
    """Files in alice's home that are not folders; returns {listed: what}."""
    home = os.path.join(ctx.homes, "alice")
    mail = os.path.join(home, "mail")
    os.makedirs(outside, exist_ok=True)
    secret = os.path.join(outside, "secret-mbox")
    with open(secret, "wb") as fp:
        fp.write(b"From someone@example.com Tue Nov  9 10:11:12 2004\n"
                 b"Subject: " + MARKER + b" file\n\n"
                 b"This mbox is outside the home; never convert it.\n\n")
    sdir = os.path.join(outside, "dir")
    os.makedirs(sdir, exist_ok=True)
    with open(os.path.join(sdir, "inner"), "wb") as fp:
        fp.write(b"From someone@example.com Tue Nov  9 10:11:12 2004\n"
                 b"Subject: " + MARKER + b" dir\n\n"
                 b"In a directory reached through a symlink.\n\n")
    with open(os.path.join(mail, "old.mbx"), "wb") as fp:
        fp.write(b"*mbx*\r\n" + b"4ab1c2d300000007" + b"\r\n" +
                 b" " * 2000 + b"\r\n")
    with open(os.path.join(mail, "picture.bin"), "wb") as fp:
        fp.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" +
                 bytes(range(256)) * 8)
    with open(os.path.join(home, "notes.txt"), "wb") as fp:
        fp.write(b"Just some notes, no mail here.\nFrom me to you.\n")
    os.mkfifo(os.path.join(mail, "pipe"))
    os.symlink(secret, os.path.join(mail, "linked"))
    os.symlink("/etc/passwd", os.path.join(home, "passwd-link"))
    os.symlink(sdir, os.path.join(mail, "linkdir"))
    return {
        "alice/.pinerc": "a dot file",
        "alice/mail/old.mbx": "a UW mbx file",
        "alice/mail/picture.bin": "a binary file",
        "alice/notes.txt": "a text file that is no mbox",
        "alice/mail/pipe": "a FIFO",
        "alice/mail/linked": "a symlink to an mbox outside the home",
        "alice/passwd-link": "a symlink to /etc/passwd",
        "alice/mail/linkdir": "a symlink to a directory outside the home",
    }


# ---- the tests -------------------------------------------------------------

def test_plan(tap, ctx, work, planted):
    t0 = os.path.join(work, "plan-target")
    w0 = os.path.join(work, "plan-work")
    r = ctx.run("plan", *ctx.base_args(t0, w0), timeout=20)
    tap.ok(r.rc == 0, "plan: exit 0 (no hang on the FIFO: %.1f s)" % r.secs,
           r.diag())
    taken, skipped = parse_plan(r)
    want = {k: f["name"] for k, (u, f) in ctx.all_listed().items()}
    diag = []
    for k in sorted(set(want) - set(taken)):
        diag.append("missing: %s (%s)" % (k, "skipped: " + skipped[k]
                                          if k in skipped else "not listed"))
    for k in sorted(set(taken) - set(want)):
        diag.append("unexpected folder: %s -> %r" % (k, taken[k]))
    for k in sorted(set(want) & set(taken)):
        if want[k] != taken[k]:
            diag.append("%s: name %r, want %r" % (k, taken[k], want[k]))
    tap.ok(not diag, "plan: exactly the %d folders of the manifest, with "
           "their IMAP names" % len(want), diag + r.diag(4))
    for listed, what in planted.items():
        tap.ok(listed in skipped and skipped[listed].strip() != "",
               "plan: %s (%s) listed as skipped with a reason%s" % (
                   listed, what, ": " + skipped[listed] if listed in skipped
                   else ""),
               ["skip lines: %s" % sorted(skipped)] + [
                   ln for ln in r.lines if listed.split("/", 1)[1] in ln])
    tap.ok(not os.path.lexists(t0), "plan: target not created")

    ul = os.path.join(w0, "userlist-master")
    fl = os.path.join(w0, "folderlist-master")
    diag = []
    users, folders = [], []
    try:
        # one escaped name a line (names are data: a newline in one
        # must not start another line)
        with open(ul, encoding="utf-8") as fp:
            users = [unescape_field(x) for x in fp.read().split("\n")
                     if x.strip() and not x.startswith("#")]
        with open(fl, encoding="utf-8") as fp:
            folders = [unescape_field(x) for x in fp.read().split("\n")
                       if x.strip() and not x.startswith("#")]
    except OSError as e:
        diag.append(str(e))
    if sorted(users) != sorted(USERS):
        diag.append("userlist-master: %s, want %s" % (users, USERS))
    extra = sorted(set(folders) - set(want))
    missing = sorted(set(want) - set(folders))
    # the INBOX may be implicit in a folderlist
    missing = [m for m in missing if not m.endswith("/INBOX")]
    if extra:
        diag.append("folderlist-master: not planned folders: %s" % extra)
    if missing:
        diag.append("folderlist-master: missing %s" % missing)
    tap.ok(not diag, "plan: userlist-master (%d users) and "
           "folderlist-master (%d folders) written" % (len(users),
                                                       len(folders)), diag)

    # fed back: the same plan, the same lists
    w1 = os.path.join(work, "plan-work2")
    r2 = ctx.run("plan", "--spool", ctx.spool, "--homes", ctx.homes,
                 "--target", t0, "--work", w1, "--userlist", ul,
                 "--folderlist", fl, timeout=20)
    taken2, skipped2 = parse_plan(r2)
    diag = []
    if r2.rc != 0:
        diag += r2.diag()
    if taken2 != taken:
        diag.append("only first time: %s" % sorted(set(taken.items()) -
                                                   set(taken2.items())))
        diag.append("only fed back: %s" % sorted(set(taken2.items()) -
                                                 set(taken.items())))
    for name in ("userlist-master", "folderlist-master"):
        try:
            with open(os.path.join(w0, name), "rb") as a, \
                    open(os.path.join(w1, name), "rb") as b:
                if a.read() != b.read():
                    diag.append("%s differs after feeding it back" % name)
        except OSError as e:
            diag.append(str(e))
    tap.ok(not diag, "plan --userlist/--folderlist with the written lists: "
           "the same folders and lists", diag)

    # users discovered (no --users): from passwd (here accounts_root's),
    # never from the spool's file names alone (anyone can create one)
    r3 = ctx.run("plan", "--spool", ctx.spool, "--homes", ctx.homes,
                 "--target", t0, "--work", os.path.join(work, "plan-work3"),
                 timeout=20)
    taken3, skipped3 = parse_plan(r3)
    strays = [u for u in USERS if any(
        ln.startswith("skip %s: no such user in passwd" %
                      os.path.join(ctx.spool, u)) for ln in r3.lines)]
    tap.ok(r3.rc == 0 and not taken3 and strays == USERS,
           "plan without --users and users not in passwd: no user, each "
           "spool file reported", ["taken: %s" % sorted(taken3)] +
           r3.diag())
    root = os.path.join(work, "plan-root")
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    with open(os.path.join(root, "etc", "passwd"), "w") as fp:
        for u in USERS:
            fp.write("%s:x:%d:%d::%s:/bin/sh\n" % (
                u, OWNERS[u][0], OWNERS[u][1], os.path.join(ctx.homes, u)))
    conf = os.path.join(work, "plan-passwd.conf")
    with open(conf, "w") as fp:
        fp.write('accounts_root = "%s"\nuid_min = %d\nuid_max = %d\n' % (
            root, min(o[0] for o in OWNERS.values()),
            max(o[0] for o in OWNERS.values())))
    r4 = ctx.run("plan", "--spool", ctx.spool, "--homes", ctx.homes,
                 "--target", t0, "--work", os.path.join(work, "plan-work4"),
                 timeout=20, config=conf)
    taken4, _ = parse_plan(r4)
    miss = sorted(set(want) - set(taken4))
    tap.ok(r4.rc == 0 and not miss, "plan without --users: passwd's "
           "users and all their folders found", (["missing: %s" % miss]
                                                 if miss else []) + r4.diag())
    return taken


def check_full(tap, ctx, target, res, label, outside):
    done, unchanged, failed, summary = parse_run(res)
    want = ctx.all_listed()
    total = ctx.total_messages()
    diag = []
    if res.rc != 0:
        diag += res.diag()
    if failed:
        diag += ["FAILED %s: %s" % kv for kv in sorted(failed.items())]
    miss = sorted(set(want) - set(done))
    if miss:
        diag.append("no 'done' line for %s" % miss)
    for k, (name, n) in sorted(done.items()):
        if k not in want:
            diag.append("done but not planned: %s" % k)
            continue
        f = want[k][1]
        if name != f["name"] or n != len(f["messages"]):
            diag.append("done %s -> %s: %d messages, want -> %s: %d" % (
                k, name, n, f["name"], len(f["messages"])))
    want_sum = (len(USERS), 0, len(want), 0, 0, total)
    if summary != want_sum:
        diag.append("summary %s, want users ready/failed, folders "
                    "converted/unchanged/failed, messages = %s"
                    % (summary, want_sum))
    tap.ok(not diag, "%s: exit 0, a 'done' line per folder with its message "
           "count, summary" % label, diag)

    for user in USERS:
        root = os.path.join(target, user)
        if not tap.ok(os.path.isdir(root), "%s: maildir root %s/" % (label,
                                                                    user)):
            continue
        for f in ctx.folders(user):
            d = mc.maildir_subdir(f["name"])
            path = os.path.join(root, d) if d else root
            if not os.path.isdir(path):
                tap.ok(False, "%s: %s/%s in %s" % (label, user, f["name"],
                                                   d or "(root)"))
                continue
            diag = mc.compare_folder(mc.read_folder(path), f)
            tap.ok(not diag, "%s: %s/%s (%d messages): UIDs, UIDVALIDITY, "
                   "nextuid, bytes, flags, mtime, new/cur exact" % (
                       label, user, f["name"], len(f["messages"])), diag)
        have = set(mc.list_folders(root))
        wantd = {mc.maildir_subdir(f["name"]) for f in ctx.folders(user)}
        tap.ok(have == wantd, "%s: %s: no other folder in the maildir"
               % (label, user), ["extra: %s" % sorted(have - wantd),
                                 "missing: %s" % sorted(wantd - have)])
        # subscriptions
        diag = []
        sp = os.path.join(root, "subscriptions")
        if not os.path.exists(sp):
            diag.append("no %s" % sp)
        else:
            with open(sp, "rb") as fp:
                got = mc.parse_subscriptions(fp.read())
            wants = ctx.manifest["users"][user]["subscriptions"]
            if sorted(got) != sorted(wants):
                diag.append("subscriptions %s, want %s" % (got, wants))
        tap.ok(not diag, "%s: %s: subscriptions from ~/.mailboxlist"
               % (label, user), diag)
        uid, gid = expected_owner(user)
        bad = mc.check_tree(root, uid, gid)
        tap.ok(not bad, "%s: %s: everything owned by %d:%d, directories "
               "0700, files 0600" % (label, user, uid, gid), bad)
        left = os.listdir(os.path.join(root, "tmp")) if os.path.isdir(
            os.path.join(root, "tmp")) else ["(no tmp/)"]
        tap.ok(not left, "%s: %s: tmp/ empty (no staging left)"
               % (label, user), left)
    hits = files_containing(target, MARKER)
    tap.ok(not hits, "%s: nothing reached through a symlink was converted"
           % label, hits)


def test_full(tap, ctx, work, outside):
    ta = os.path.join(work, "target-a")
    wa = os.path.join(work, "work-a")
    before = tree_state(ctx.root)
    out_before = tree_state(outside)
    r = ctx.run("migrate", *ctx.base_args(ta, wa), "--jobs", "4")
    check_full(tap, ctx, ta, r, "migrate --jobs 4", outside)
    d = tree_diff(before, tree_state(ctx.root)) + \
        tree_diff(out_before, tree_state(outside))
    tap.ok(not d, "migrate: the sources (spool, homes, planted files, "
           "outside) untouched", d)
    return ta, wa, r


def test_parallel(tap, ctx, work, ta, ra):
    tb = os.path.join(work, "target-b")
    wb = os.path.join(work, "work-b")
    rb = ctx.run("migrate", *ctx.base_args(tb, wb), "--jobs", "1")
    tap.ok(rb.rc == 0, "migrate --jobs 1: exit 0", rb.diag())
    sa, sb = ctx.snapshot(ta), ctx.snapshot(tb)
    d = mc.diff_snapshots(sa, sb, "jobs4", "jobs1")
    tap.ok(not d, "--jobs 1 and --jobs 4: identical maildirs (folders, "
           "UIDs, bytes, flags, mtimes, uidvalidity, nextuid, "
           "subscriptions)", d)
    da = sorted(ln for ln in ra.lines if ln.startswith(("done", "FAILED",
                                                        "skip")))
    db = sorted(ln for ln in rb.lines if ln.startswith(("done", "FAILED",
                                                        "skip")))
    tap.ok(da == db, "--jobs 1 and --jobs 4: the same report lines",
           ["only jobs4: %s" % sorted(set(da) - set(db)),
            "only jobs1: %s" % sorted(set(db) - set(da))])
    return tb, wb


def ctime_utc(epoch):
    """(asctime text as in a From_ line, EPOCH) in UTC."""
    return time.asctime(time.gmtime(epoch)), epoch


def test_layout(tap, ctx, work, ta):
    """target_layout = "%1u/%u" from a configuration file."""
    conf = os.path.join(work, "hashed.conf")
    with open(conf, "w") as fp:
        fp.write('# mbox2dovecot.conf for the test\n'
                 'target_layout = "%1u/%u"\n')
    tl = os.path.join(work, "target-hashed")
    wl = os.path.join(work, "work-hashed")
    r = ctx.run("migrate", *ctx.base_args(tl, wl), "--jobs", "2",
                config=conf)
    diag = [] if r.rc == 0 else r.diag()
    got = {}
    for u in USERS:
        root = os.path.join(tl, u[0], u)
        if not os.path.isdir(root):
            diag.append("no %s" % root)
            continue
        got[u] = mc.snapshot_user(root, ctx.free_uidvalidity(u))
    have = sorted(os.listdir(tl)) if os.path.isdir(tl) else None
    if have != sorted({u[0] for u in USERS}):
        diag.append("target base holds %s" % have)
    diag += mc.diff_snapshots(ctx.snapshot(ta), got, "layout %u",
                              "layout %1u/%u")
    tap.ok(not diag, "config target_layout = \"%1u/%u\": maildirs in "
           "BASE/a/alice, identical to the %u layout", diag)
    r = ctx.run("clear", "--target", tl, "--work", wl, config=conf)
    left = sorted(os.listdir(tl)) if os.path.isdir(tl) else None
    tap.ok(r.rc == 0 and left == [], "clear with the hashed layout: the "
           "target base is empty (the %1u levels too)",
           r.diag() + ["left: %s" % left])
    r = ctx.run("migrate", "--no-such-option")
    tap.ok(r.rc == 2, "usage error: exit 2", r.diag())


def append_message(path, subject, date_text):
    data = (b"From appender@example.com " + date_text.encode() + b"\n"
            b"Return-Path: <appender@example.com>\n"
            b"Subject: " + subject.encode() + b"\n\n"
            b"Appended after the first migration.\n"
            b">From quoted, stays quoted\n")
    st = os.stat(path)
    with open(path, "ab") as fp:     # as Postfix appends: + the empty line
        fp.write(data + b"\n")
    os.lchown(path, st.st_uid, st.st_gid)
    visible = data.split(b"\n", 1)[1]
    return visible


def test_rerun(tap, ctx, ta, wa):
    args = ctx.base_args(ta, wa)
    snap0 = ctx.snapshot(ta)
    r = ctx.run("migrate", *args, "--jobs", "4")
    done, unchanged, failed, summary = parse_run(r)
    want = set(ctx.all_listed())
    tap.ok(r.rc == 0 and not done and unchanged == want,
           "re-run without changes: every folder 'unchanged', none "
           "converted", r.diag() + ["done: %s" % sorted(done),
                                    "not unchanged: %s" % sorted(
                                        want - unchanged)])
    d = mc.diff_snapshots(snap0, ctx.snapshot(ta), "before", "after")
    tap.ok(not d, "re-run without changes: maildirs identical", d)

    # change two sources: alice's inbox and bob's Sent
    changes = {}
    for user, name, subj, date, epoch in (
            ("alice", "INBOX", "Appended to the inbox",
             *ctime_utc(1267589106)),
            ("bob", "Sent", "Appended to Sent", *ctime_utc(1267679167))):
        f = next(x for x in ctx.folders(user) if x["name"] == name)
        path = os.path.join(ctx.root, f["mbox"])
        visible = append_message(path, subj, date)
        nf = json.loads(json.dumps(f))
        uid = f["uidnext"]
        nf["messages"].append({
            "uid": uid, "flags": [], "recent": True, "internaldate": epoch,
            "size": len(visible), "subject": subj, "from_line": date,
            "body_b64": base64.b64encode(visible).decode(), "notes": []})
        nf["uidnext"] = uid + 1
        changes[ctx.listed(user, f)] = (user, nf)
    r = ctx.run("migrate", *args, "--jobs", "4")
    done, unchanged, failed, summary = parse_run(r)
    diag = []
    if r.rc != 0:
        diag += r.diag()
    if set(done) != set(changes):
        diag.append("done: %s, want %s" % (sorted(done), sorted(changes)))
    if unchanged != want - set(changes):
        diag.append("unchanged: missing %s, extra %s" % (
            sorted((want - set(changes)) - unchanged),
            sorted(unchanged - (want - set(changes)))))
    if summary is None or summary[2:5] != (2, len(want) - 2, 0):
        diag.append("summary %s, want 2 converted, %d unchanged, 0 failed"
                    % (summary, len(want) - 2))
    tap.ok(not diag, "after appending to alice's INBOX and bob's Sent: only "
           "those two converted, the rest unchanged", diag)
    snap1 = ctx.snapshot(ta)
    for listed, (user, nf) in sorted(changes.items()):
        d = mc.maildir_subdir(nf["name"])
        root = os.path.join(ta, user)
        got = mc.read_folder(os.path.join(root, d) if d else root)
        diag = mc.compare_folder(got, nf)
        old = snap0[user]["folders"].get(d)
        new = snap1[user]["folders"].get(d)
        if old and new:
            if new["messages"][:len(old["messages"])] != old["messages"]:
                diag.append("the old messages changed (UID, bytes, flags, "
                            "mtime)")
            if new["uidvalidity"] != old["uidvalidity"]:
                diag.append("UIDVALIDITY %s -> %s" % (old["uidvalidity"],
                                                      new["uidvalidity"]))
        tap.ok(not diag, "changed %s: old UIDs and messages kept, the new "
               "message as UID %d, nextuid %d" % (
                   listed, nf["messages"][-1]["uid"], nf["uidnext"]), diag)
    # everything else identical
    for listed, (user, nf) in changes.items():
        d = mc.maildir_subdir(nf["name"])
        snap0[user]["folders"].pop(d, None)
        snap1[user]["folders"].pop(d, None)
    d = mc.diff_snapshots(snap0, snap1, "before", "after")
    tap.ok(not d, "the unchanged folders are untouched", d)
    bad = []
    for user in USERS:
        bad += ["%s: %s" % (user, b) for b in mc.check_tree(
            os.path.join(ta, user), *expected_owner(user))]
    tap.ok(not bad, "after the re-run: owners and modes", bad)


def test_clear(tap, ctx, work, ta, wa, outside):
    args = ["--target", ta, "--work", wa]
    src_before = tree_state(ctx.root)
    out_before = tree_state(outside)
    work_sib = tree_state(os.path.join(work, "target-b"))
    r = ctx.run("clear", *args)
    left = sorted(os.listdir(ta)) if os.path.isdir(ta) else None
    tap.ok(r.rc == 0 and left == [], "clear: exit 0, the target base is "
           "empty", r.diag() + ["left in %s: %s" % (ta, left)])
    d = tree_diff(src_before, tree_state(ctx.root)) + \
        tree_diff(out_before, tree_state(outside)) + \
        tree_diff(work_sib, tree_state(os.path.join(work, "target-b")))
    tap.ok(not d, "clear: nothing outside the target touched (sources, "
           "the other target)", d)

    r = ctx.run("migrate", *ctx.base_args(ta, wa), "--jobs", "4")
    done, unchanged, failed, summary = parse_run(r)
    tap.ok(r.rc == 0 and len(done) == len(ctx.all_listed()),
           "migrate after clear: every folder converted again", r.diag())
    priv = os.path.join(ta, "alice", ".Private")
    os.makedirs(priv)
    with open(os.path.join(priv, "diary"), "wb") as fp:
        fp.write(b"not ours\n")
    before = tree_state(ta)
    r = ctx.run("clear", *args)
    text = r.out + r.err
    tap.ok(r.rc not in (0, "timeout") and ".Private" in text,
           "clear with a foreign alice/.Private: refused, naming it",
           r.diag())
    d = tree_diff(before, tree_state(ta))
    tap.ok(not d, "refused clear: nothing removed", d)
    shutil.rmtree(priv)

    # a symlink to the outside planted in the target
    link = os.path.join(ta, "bob", ".Outside")
    os.symlink(os.path.join(outside, "dir"), link)
    before = tree_state(ta)
    r = ctx.run("clear", *args)
    d = tree_diff(before, tree_state(ta)) + tree_diff(out_before,
                                                      tree_state(outside))
    tap.ok(r.rc not in (0, "timeout") and not d and ".Outside" in
           r.out + r.err, "clear with a foreign symlink bob/.Outside: "
           "refused, nothing removed, its target untouched", r.diag() + d)
    os.unlink(link)

    r = ctx.run("clear", *args)
    left = sorted(os.listdir(ta)) if os.path.isdir(ta) else None
    tap.ok(r.rc == 0 and left == [], "clear once the foreign entries are "
           "gone: the target base is empty", r.diag() +
           ["left: %s" % left])


def test_dry_run(tap, ctx, work, tb, wb):
    td = os.path.join(work, "dry-target")
    wd = os.path.join(work, "dry-work")
    src = tree_state(ctx.root)
    r = ctx.run("migrate", *ctx.base_args(td, wd), "--dry-run")
    m = re.search(r"would migrate (\d+) users, (\d+) folders: (\d+) "
                  r"messages.*about (\d+) inodes", r.out)
    diag = []
    if r.rc != 0:
        diag += r.diag()
    for p in (td, wd):
        if os.path.lexists(p):
            diag.append("%s created: %s" % (p, sorted(os.listdir(p))[:8]))
    tap.ok(not diag, "migrate --dry-run: exit 0, neither target nor work "
           "dir created", diag)
    nf = len(ctx.all_listed())
    nm = ctx.total_messages()
    if m:
        got = tuple(int(x) for x in m.groups())
        want = (len(USERS), nf, nm, nm + 9 * nf + 6 * len(USERS))
        tap.ok(got == want, "--dry-run estimate: %d users, %d folders, %d "
               "messages, about %d inodes" % want,
               ["got users, folders, messages, inodes = %s" % (got,)])
    else:
        tap.ok(False, "--dry-run prints 'would migrate ... about N inodes'",
               r.diag())
    tb_before, wb_before = tree_state(tb), tree_state(wb)
    r = ctx.run("migrate", *ctx.base_args(tb, wb), "--dry-run")
    d = tree_diff(tb_before, tree_state(tb)) + tree_diff(
        wb_before, tree_state(wb)) + tree_diff(src, tree_state(ctx.root))
    tap.ok(r.rc == 0 and not d, "migrate --dry-run on a migrated target: "
           "target, work dir and sources unchanged", r.diag() + d)


# ---- kill -9 ---------------------------------------------------------------

def journal_done_count(work):
    try:
        with open(os.path.join(work, "journal"), "rb") as fp:
            return sum(1 for ln in fp.read().split(b"\n")
                       if ln.startswith(b"D\t"))
    except OSError:
        return 0


def staging_present(target):
    try:
        for u in os.listdir(target):
            t = os.path.join(target, u, "tmp")
            if os.path.isdir(t) and os.listdir(t):
                return True
    except OSError:
        pass
    return False


def run_and_kill(ctx, args, when, limit=30.0):
    """Start ARGS, SIGKILL it when WHEN(elapsed) is true.  Returns
    (killed, elapsed)."""
    argv = [PROG, args[0], "--config", ctx.config] + args[1:]
    try:
        p = subprocess.Popen(argv, env=ctx.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    except OSError:
        return False, 0.0
    t0 = time.time()
    try:
        while True:
            el = time.time() - t0
            if p.poll() is not None:
                return False, el
            if when(el) or el > limit:
                p.send_signal(signal.SIGKILL)
                p.wait()
                return True, el
            time.sleep(0.0005)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def visible_complete(ctx, target):
    """After a kill: every folder visible in the target (it has a
    dovecot-uidlist) must be complete, and nothing else visible.  The one
    exception is an INBOX caught between its cur/ and its uidlist (two
    renames, the root cannot move whole): it must still hold Dovecot's
    dovecot-uidlist.lock, so that Dovecot waits, and the next run
    replaces it (checked after the resume)."""
    diag = []
    for user in USERS:
        root = os.path.join(target, user)
        if not os.path.isdir(root):
            continue
        byd = {mc.maildir_subdir(f["name"]): f for f in ctx.folders(user)}
        for d in mc.list_folders(root):
            path = os.path.join(root, d) if d else root
            f = byd.get(d)
            if f is None:
                diag.append("%s: unknown folder %s" % (user, d))
                continue
            if d == "" and os.path.exists(os.path.join(
                    path, "dovecot-uidlist.lock")):
                continue
            if not os.path.exists(os.path.join(path, "dovecot-uidlist")):
                files = [x for s in ("cur", "new") if os.path.isdir(
                    os.path.join(path, s)) for x in os.listdir(
                        os.path.join(path, s))]
                if files:
                    diag.append("%s/%s: %d messages visible without a "
                                "uidlist" % (user, f["name"], len(files)))
                continue
            got = mc.read_folder(path)
            got["tmp"] = []        # the root's tmp/ may hold staging
            dd = mc.compare_folder(got, f)
            if dd:
                diag.append("%s/%s visible but incomplete: %s" % (
                    user, f["name"], "; ".join(dd[:3])))
    return diag


def test_kill(tap, ctx, work):
    tref = os.path.join(work, "k-ref")
    wref = os.path.join(work, "k-ref-work")
    r = ctx.run("migrate", *ctx.base_args(tref, wref), "--jobs", "1",
                timeout=120)
    if not tap.ok(r.rc == 0, "kill tests: uninterrupted reference run "
                  "(%.2f s)" % r.secs, r.diag()):
        return
    bad = []
    for user in USERS:
        for f in ctx.folders(user):
            d = mc.maildir_subdir(f["name"])
            root = os.path.join(tref, user)
            dd = mc.compare_folder(mc.read_folder(os.path.join(root, d)
                                                  if d else root), f)
            bad += ["%s/%s: %s" % (user, f["name"], x) for x in dd]
    tap.ok(not bad, "kill tests: the reference run matches its manifest "
           "(%d messages)" % ctx.total_messages(), bad)
    ref = ctx.snapshot(tref)
    nfolders = len(ctx.all_listed())
    scenarios = [
        ("after 50 ms", [lambda el, t, w: el >= 0.05]),
        ("after 150 ms", [lambda el, t, w: el >= 0.15]),
        ("after 300 ms", [lambda el, t, w: el >= 0.30]),
        ("once half the folders are done (journal)",
         [lambda el, t, w: journal_done_count(w) >= nfolders // 2]),
        ("once 3 folders are done (journal)",
         [lambda el, t, w: journal_done_count(w) >= 3]),
        ("inside a folder (staging dir present)",
         [lambda el, t, w: journal_done_count(w) >= 1 and
          staging_present(t)]),
        ("twice: with 2 folders done, and in the resumed run with 6",
         [lambda el, t, w: journal_done_count(w) >= 2,
          lambda el, t, w: journal_done_count(w) >= 6]),
    ]
    for i, (label, kills) in enumerate(scenarios):
        tk = os.path.join(work, "k-target-%d" % i)
        wk = os.path.join(work, "k-work-%d" % i)
        args = ["migrate"] + ctx.base_args(tk, wk) + ["--jobs", "1"]
        notes = []
        diag = []
        for when in kills:
            killed, el = run_and_kill(
                ctx, args, lambda e, when=when: when(e, tk, wk))
            notes.append("%s at %.0f ms, %d folders done" % (
                "killed" if killed else "finished before the kill",
                el * 1000, journal_done_count(wk)))
            diag += visible_complete(ctx, tk)
        tap.ok(not diag, "kill -9 %s: every folder visible in the target "
               "is complete (%s)" % (label, "; ".join(notes)), diag)
        r = ctx.run(args[0], *args[1:], timeout=120)
        done, unchanged, failed, summary = parse_run(r)
        diag = [] if r.rc == 0 else r.diag()
        if len(done) + len(unchanged) != len(ctx.all_listed()) or failed:
            diag.append("resumed: %d done + %d unchanged, want %d; "
                        "failed %s" % (len(done), len(unchanged),
                                       len(ctx.all_listed()), failed))
        d = mc.diff_snapshots(ref, ctx.snapshot(tk), "uninterrupted",
                              "killed+resumed")
        stag = [u for u in USERS if os.path.isdir(os.path.join(
            tk, u, "tmp")) and os.listdir(os.path.join(tk, u, "tmp"))]
        if stag:
            diag.append("staging left in tmp/ of %s" % stag)
        locks = [dp for dp, _, fs in os.walk(tk)
                 if "dovecot-uidlist.lock" in fs]
        if locks:
            diag.append("dovecot-uidlist.lock left in %s" % locks)
        tap.ok(not diag and not d, "kill -9 %s, then the same command: "
               "identical to the uninterrupted run, no staging left "
               "(%d converted, %d unchanged on resume)" % (
                   label, len(done), len(unchanged)), diag + d)


# ---- Dovecot -----------------------------------------------------------------

class MultiOwnerDovecot(dh.Dovecot):
    """The harness's Dovecot with one uid/gid per user in its passwd."""

    def __init__(self, mail_root, owners, workdir):
        super().__init__(mail_root, sorted(owners), uid=65534, gid=65534,
                         workdir=workdir)
        self.owners = owners

    def write_config(self):
        super().write_config()
        with open(os.path.join(self.dir, "passwd"), "w") as fp:
            for u, (uid, gid) in sorted(self.owners.items()):
                fp.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (
                    u, self.password, uid, gid,
                    os.path.join(self.mail_root, u)))


def test_verify(tap, ctx, work, tb, wb, dc=None):
    """verify: every folder against its mbox, and Dovecot's own counts."""
    extra = ["--doveadm", "%s -c %s" % (dc.doveadm_bin, dc.conf)] if dc else []
    res = ctx.run("verify", *ctx.base_args(tb, wb), *extra)
    nfolders = sum(len(ctx.folders(u)) for u in USERS)
    oks = [ln for ln in res.lines if ln.startswith("ok ")]
    tap.ok(res.rc == 0 and len(oks) == nfolders,
           "verify%s: all %d folders identical to their mboxes" % (
               " --doveadm" if dc else "", nfolders), res.diag())
    return res


def test_verify_catches(tap, ctx, work, tb, wb):
    """verify sees a message whose bytes changed, and says which."""
    user = USERS[0]
    inbox = os.path.join(tb, user, "cur")
    names = sorted(os.listdir(inbox))
    if not names:
        tap.ok(False, "verify: a message to tamper with in %s" % inbox)
        return
    path = os.path.join(inbox, names[0])
    with open(path, "rb") as fp:
        data = fp.read()
    st = os.stat(path)
    try:
        with open(path, "wb") as fp:
            fp.write(data[:-1] + (b"X" if data[-1:] != b"X" else b"Y"))
        res = ctx.run("verify", *ctx.base_args(tb, wb))
        bad = [ln for ln in res.lines if ln.startswith("DIFFERS %s/INBOX" % user)]
        tap.ok(res.rc == 1 and len(bad) == 1 and "bytes" in bad[0],
               "verify: one changed byte in %s's INBOX is reported" % user,
               res.diag())
    finally:
        with open(path, "wb") as fp:
            fp.write(data)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_dovecot(tap, ctx, work, tb, wb):
    test_verify(tap, ctx, work, tb, wb)
    test_verify_catches(tap, ctx, work, tb, wb)
    why = dh.available()
    if why:
        if os.environ.get("CI"):
            tap.ok(False, "dovecot available for the IMAP check (%s)" % why)
        else:
            tap.skip("Dovecot on the migrated target: %s" % why)
        return
    dh.make_traversable(tb)
    owners = {u: expected_owner(u) for u in USERS}
    dc = MultiOwnerDovecot(tb, owners, os.path.join(work, "dovecot"))
    try:
        dc.__enter__()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "private Dovecot starts on %s" % tb,
               str(e).splitlines()[:20])
        return
    try:
        for user in USERS:
            folders = ctx.folders(user)
            diag = []
            try:
                imap = dc.imap(user)
                listed = dh.imap_list(imap)
                sel = {n for fl, _, n in listed
                       if not ({"\\Noselect", "\\NonExistent"} & fl)}
                want = {f["name"] for f in folders}
                if sel != want:
                    diag.append("LIST: missing %s, unexpected %s" % (
                        sorted(want - sel), sorted(sel - want)))
                typ, data = imap.lsub('""', '"*"')
                subs = set()
                for item in data or []:
                    if item is None:
                        continue
                    if isinstance(item, tuple):
                        subs.add(dh.mutf7_decode(item[1]))
                        continue
                    m = re.match(rb'\((.*?)\) (?:"."|NIL) (.*)$', item)
                    if m:
                        subs.add(dh.mutf7_decode(m.group(2).strip(b'"')))
                wsubs = set(ctx.manifest["users"][user]["subscriptions"])
                if subs != wsubs:
                    diag.append("LSUB %s, want %s" % (sorted(subs),
                                                      sorted(wsubs)))
                for f in folders:
                    typ, data = imap.status(
                        dh.imap_quote(dh.mutf7_encode(f["name"])),
                        "(MESSAGES UIDVALIDITY UIDNEXT)")
                    if typ != "OK":
                        diag.append("STATUS %s: %r" % (f["name"], data))
                        continue
                    txt = data[0].decode() if isinstance(data[0], bytes) \
                        else str(data[0])
                    vals = dict((k, int(v)) for k, v in re.findall(
                        r"(MESSAGES|UIDVALIDITY|UIDNEXT) (\d+)", txt))
                    want_v = {"MESSAGES": len(f["messages"]),
                              "UIDNEXT": f["uidnext"]}
                    if f["uidvalidity"] is not None:
                        want_v["UIDVALIDITY"] = f["uidvalidity"]
                    for k, v in want_v.items():
                        if vals.get(k) != v:
                            diag.append("STATUS %s %s: want %s got %s" % (
                                f["name"], k, v, vals.get(k)))
                imap.logout()
            except Exception as e:  # noqa: BLE001
                dc.failed = True
                diag.append("%s: %s" % (type(e).__name__, e))
            tap.ok(not diag, "Dovecot IMAP %s: LIST, LSUB and STATUS "
                   "(MESSAGES UIDVALIDITY UIDNEXT) of %d folders" % (
                       user, len(folders)), diag)
        test_verify(tap, ctx, work, tb, wb, dc)
    finally:
        dc.failed = dc.failed or bool(tap.failures)
        dc.__exit__(None, None, None)


# ---- hostile users (root works among files the users control) -------------

HMSG = "From x@y Tue Nov  9 10:11:12 2004\nSubject: one\n\nfirst\n\n"
HALF = "From c@d Tue Nov  9 10:11:13 2004\nSubject: two\n\nsecond, "
REST = "the rest of it\nlast line\n\n"

WRITER = r"""
import fcntl, os, sys, time
mbox, secs, style = sys.argv[1], float(sys.argv[2]), sys.argv[3]
half, rest = sys.argv[4], sys.argv[5]
# UW's unix_lock(): the dotlock (empty, O_EXCL), then flock(LOCK_EX)
fd = os.open(mbox + ".lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0)
os.close(fd)
f = open(mbox, "a")
fcntl.flock(f, fcntl.LOCK_EX)
f.write(half); f.flush()
print("half", flush=True)
time.sleep(secs)
f.write(rest); f.flush()
fcntl.flock(f, fcntl.LOCK_UN)
f.close()
os.unlink(mbox + ".lock")
"""


def hostile_tree(work, name):
    """SPOOL (1777), HOME, ROOT/etc/passwd with mallory (64101) and
    victim (64102); returns (dir, config, base args)."""
    d = os.path.join(work, name)
    spool, homes = os.path.join(d, "spool"), os.path.join(d, "home")
    root = os.path.join(d, "root")
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(spool)
    os.chmod(spool, 0o1777)
    with open(os.path.join(root, "etc", "passwd"), "w") as fp:
        fp.write("mallory:x:64101:64101::%s/mallory:/bin/sh\n"
                 "victim:x:64102:64102::%s/victim:/bin/sh\n" % (homes, homes))
    for u, uid in (("mallory", 64101), ("victim", 64102)):
        os.makedirs(os.path.join(homes, u, "mail"))
        chown_tree(os.path.join(homes, u), uid, uid)
    conf = os.path.join(d, "m.conf")
    with open(conf, "w") as fp:
        fp.write('accounts_root = "%s"\nuid_min = 64101\nuid_max = 64102\n'
                 'source_tz = "UTC"\n' % root)
    args = ["--spool", spool, "--homes", homes,
            "--target", os.path.join(d, "target"),
            "--work", os.path.join(d, "work")]
    return d, conf, args


def put(path, text, uid):
    with open(path, "w") as fp:
        fp.write(text)
    os.lchown(path, uid, uid)


def maildir_texts(md):
    out = []
    for sub in ("new", "cur"):
        p = os.path.join(md, sub)
        for n in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            with open(os.path.join(p, n), encoding="utf-8",
                      errors="replace") as fp:
                out.append(fp.read())
    return out


def test_hostile(tap, ctx, work):
    """A planted inbox, a dotlock held, a forged name: each as a hostile
    user would try it."""
    # 4. mallory creates SPOOL/victim in the 1777 spool, and SPOOL/ghost
    d, conf, args = hostile_tree(work, "hostile-owner")
    spool = args[1]
    put(os.path.join(spool, "mallory"), HMSG, 64101)
    put(os.path.join(spool, "victim"),
        HMSG.replace("Subject: one", "Subject: from your bank"), 64101)
    put(os.path.join(spool, "ghost"), HMSG, 64101)
    put(os.path.join(d, "home", "victim", "mail", "x\nfolder FAKE -> INBOX"),
        HMSG, 64102)
    r = ctx.run("plan", *args, config=conf)
    lines = r.lines
    forged = [ln for ln in lines if ln.startswith("skip victim/INBOX:")]
    tap.ok(r.rc == 0 and forged and "uid 64101 (mallory)" in forged[0],
           "hostile: plan refuses SPOOL/victim made by mallory, naming "
           "both owners", forged or r.diag())
    tap.ok(any(ln.startswith("skip %s: no such user in passwd" %
                             os.path.join(spool, "ghost")) for ln in lines)
           and not any(ln.startswith("user ghost") for ln in lines),
           "hostile: SPOOL/ghost (not in passwd) is reported, no user",
           r.diag())
    tap.ok(not any(ln.startswith("folder FAKE") for ln in lines) and
           any("x\\nfolder FAKE -> INBOX" in ln for ln in lines),
           "hostile: plan prints a name with a newline escaped: no forged "
           "line", [ln for ln in lines if "FAKE" in ln] or r.diag())
    r = ctx.run("migrate", *args, config=conf)
    vmd = os.path.join(d, "target", "victim")
    texts = maildir_texts(vmd)
    tap.ok(not any("from your bank" in t for t in texts) and
           not os.path.exists(os.path.join(d, "target", "ghost")) and
           not any(ln.startswith("folder FAKE") for ln in r.lines),
           "hostile: migrate puts nothing forged in victim's maildir, "
           "makes none for ghost, forges no output line",
           ["victim: %d messages" % len(texts)] + r.diag())
    mmd = maildir_texts(os.path.join(d, "target", "mallory"))
    tap.ok(len(mmd) == 1, "hostile: mallory's own INBOX is migrated",
           r.diag())

    # 5. a UW-style writer holding the dotlock and flock appends slowly
    d, conf, args = hostile_tree(work, "hostile-lock")
    inbox = os.path.join(args[1], "victim")
    put(inbox, HMSG, 64102)
    quick = os.path.join(d, "quick.conf")
    with open(conf) as a, open(quick, "w") as b:
        b.write(a.read() + "mbox_lock_wait = 1\n")

    def writer(secs):
        p = subprocess.Popen([sys.executable, "-c", WRITER, inbox, str(secs),
                              "uw", HALF, REST], stdout=subprocess.PIPE,
                             text=True)
        p.stdout.readline()         # "half": HALF is in the file
        return p
    p = writer(4)
    t0 = time.time()
    r = ctx.run("migrate", *args, config=quick)
    waited = time.time() - t0
    p.wait()
    texts = maildir_texts(os.path.join(d, "target", "victim"))
    tap.ok(r.rc == 3 and not texts and any(
        ln.startswith("FAILED victim/INBOX:") and "lock" in ln
        for ln in r.lines),
        "hostile: writer holding dotlock+flock, 1 s wait: exit 3, the "
        "INBOX not converted (%.1f s)" % waited, r.diag())
    def whole(texts):
        """as many messages as the mbox has now, none cut off"""
        with open(inbox) as fp:
            n = sum(1 for ln in fp if ln.startswith("From "))
        return len(texts) == n and all(
            t.endswith("last line\n") for t in texts if "second," in t)
    p = writer(3)
    r = ctx.run("migrate", *args, config=conf)
    p.wait()
    texts = maildir_texts(os.path.join(d, "target", "victim"))
    tap.ok(r.rc == 0 and whole(texts) and
           texts[-1].endswith("second, the rest of it\nlast line\n"),
           "hostile: writer holding dotlock+flock, default wait: waited, "
           "the last message whole", ["%d messages" % len(texts)] +
           [repr(t[-60:]) for t in texts] + r.diag())
    # Postfix's own lock conventions (postlock: mailbox_delivery_lock)
    if shutil.which("postlock"):
        pf = os.path.join(d, "postfix")
        os.mkdir(pf)
        with open(os.path.join(pf, "main.cf"), "w") as fp:
            fp.write("compatibility_level = 3.6\n")
        with open(inbox, "a") as fp:
            fp.write(HMSG.replace("one", "three"))
        p = subprocess.Popen(
            ["postlock", "-c", pf, inbox, "sh", "-c",
             'printf %s "$1" >> "$3"; echo half; sleep 3; '
             'printf %s "$2" >> "$3"', "sh",
             HALF.replace("two", "four"), REST, inbox],
            stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        lock = os.lstat(inbox + ".lock")
        r = ctx.run("migrate", *args, config=conf)
        p.wait()
        texts = maildir_texts(os.path.join(d, "target", "victim"))
        tap.ok(r.rc == 0 and whole(texts) and lock.st_size == 0 and
               any("Subject: four" in t and t.endswith("last line\n")
                   for t in texts),
               "hostile: Postfix's postlock (empty dotlock + fcntl) "
               "appending slowly: waited, every message whole",
               ["%d messages" % len(texts)] + r.diag())
    else:
        tap.skip("postlock not installed")

# ---- main ------------------------------------------------------------------

def main():
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))
    tap = Tap(max_diag=8)
    if not os.access(PROG, os.X_OK):
        tap.ok(False, "program built: %s" % PROG,
               ["run make first (BUILD=%s)" % BUILD])
        return tap.done()
    if os.geteuid() != 0:
        tap.skip("not root: the migration test chowns users' files")
        return tap.done()
    seed = int(os.environ.get("M2D_SEED", "20041109"))
    kill_msgs = int(os.environ.get("M2D_KILL_MESSAGES", "150"))
    work = tempfile.mkdtemp(prefix="m2d-migrate-")
    os.chmod(work, 0o755)
    t0 = time.time()
    try:
        run(tap, work, seed, kill_msgs)
    finally:
        if os.environ.get("M2D_KEEP") or tap.failures:
            print("# work dir kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("# %.1f s" % (time.time() - t0))
    return tap.done()


def run(tap, work, seed, kill_msgs):
    ctx = generate(tap, os.path.join(work, "spool"), seed, len(USERS), 12)
    if ctx is None:
        return
    outside = os.path.join(work, "outside")
    planted = plant(ctx, outside)
    for user in USERS:
        uid, gid = OWNERS[user]
        chown_tree(os.path.join(ctx.homes, user), uid, gid)
        os.lchown(os.path.join(ctx.spool, user), uid, gid)

    t = time.time()
    test_plan(tap, ctx, work, planted)
    tap.note("plan: %.1f s" % (time.time() - t))
    t = time.time()
    ta, wa, ra = test_full(tap, ctx, work, outside)
    tb, wb = test_parallel(tap, ctx, work, ta, ra)
    test_layout(tap, ctx, work, ta)
    tap.note("full runs: %.1f s" % (time.time() - t))
    t = time.time()
    test_dry_run(tap, ctx, work, tb, wb)
    test_dovecot(tap, ctx, work, tb, wb)
    tap.note("dry run, dovecot: %.1f s" % (time.time() - t))
    t = time.time()
    test_rerun(tap, ctx, ta, wa)
    test_clear(tap, ctx, work, ta, wa, outside)
    tap.note("re-run, clear: %.1f s" % (time.time() - t))

    t = time.time()
    big = generate(tap, os.path.join(work, "big"), seed + 1, len(USERS),
                   kill_msgs)
    if big is not None:
        test_kill(tap, big, work)
    tap.note("kill tests: %.1f s" % (time.time() - t))

    t = time.time()
    test_hostile(tap, ctx, work)
    tap.note("hostile users: %.1f s" % (time.time() - t))


if __name__ == "__main__":
    sys.exit(main())
