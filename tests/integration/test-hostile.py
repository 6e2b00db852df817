#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile users cannot hurt root, other users or the mail:
the matrix that keeps it closed.

Each row of ROWS plants one object (FIFO, symlink to a root-owned file
outside or to another user's mail, hard link to another user's file,
sparse file, huge file, names with newlines and control characters, a
spool file owned by another user, a file that grows or is replaced while
it is read) in one place the attacker controls (the spool, home folders,
~/.mailboxlist, maildir message files, dovecot-uidlist,
dovecot-keywords, subscriptions, tmp/), in a practice server of its own
(`mbox2dovecot sandbox --no-start`, each user with a uid of its own; the
sandbox's real Dovecot serves the maildirs), and runs every command that
reads those places, each under a timeout:

  plan, --check, migrate, migrate again, verify, rollback --mail-only
  (twice), clear                       on a target of their own (--target),
  --batch --yes (steps 0-22; an object in the maildir is planted after
  step 13, before the final migration), rollback   on the sandbox's target.

A source-side object is there from the start; a maildir-side object is
planted after the first migrate (and after step 13 of --batch).  So that
the commands really read the maildir, mail arrives as it would: a
message appended to the attacker's INBOX before the re-run (and before
step 15), and before rollback a message with a keyword in her maildir
and a new subscribed folder, named like the planted object for a home
row (rollback must then make ~/mail/NAME where the object is).  Every
cell (row x command) checks:

  * it finished (a timeout kills its process group) and stayed under
    MAX_RSS of memory;
  * when the command reads the place: a line of its output names the
    planted file (escaped if its name has control characters) with a
    reason (refused, skipped, a FIFO, a symlink, sparse, owned by, ...);
    no output line is forged by a name, no raw ESC/BEL/CR is printed;
  * nothing outside the target changed: spool, homes and the root-owned
    canaries byte for byte, owner, mode, type (rollback may append to
    the attacker's own mboxes and the test user's INBOX, less than 1 MB,
    nothing of the root's or the victim's in it; it may not cut them);
  * no message lost: every message of every folder a clean migration
    converts (the attacker's spoiled folder aside) is in the target after
    migrate, migrate again and a successful --batch; the victim's maildir
    holds no planted mail; no maildir holds the root's secret, and the
    attacker's none of the victim's messages; rollback appends no message
    twice, and run again appends nothing.

Adding a row is one line in ROWS.  A cell listed in TODO (a hole still
open, named by its finding H5-NN of issue 15) is printed "not ok ...
# TODO H5-NN ..." and not counted; once it passes it is printed "ok"
with "(TODO ... passes now)": remove it from TODO then.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_KEEP=1 keeps the temp dir,
M2D_HOSTILE_JOBS (parallel rows, default 8), M2D_HOSTILE_ROWS (a regex
of row ids to run).
"""

import concurrent.futures
import hashlib
import os
import re
import shutil
import signal
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

import dovecot_harness as dh  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")

USERS = ["alice", "bob", "carol", "dave", "erin"]
UIDS = {u: 64001 + i for i, u in enumerate(USERS)}
ATTACKER, VICTIM, TESTUSER = "erin", "bob", "alice"
MARK = b"PLANTED-BY-ERIN"
SECRET = b"CANARY-ROOT-SECRET"
HALF = b"HALF-WRITTEN-START"
SPARSE_SIZE = 300 * 1024 * 1024     # apparent size of the sparse files
HUGE_TEXT = 17 * 1024 * 1024        # real bytes, over SF_TEXT_MAX (16 MB)
MAX_MESSAGE = 8 * 1024 * 1024       # max_message_size of the config
COMMAND_TIMEOUT = 10                # command_timeout of the config (s)
MAX_RSS_KB = 160 * 1024
MAX_APPEND = 1024 * 1024            # what rollback may add to an mbox
T_CMD, T_BATCH, T_ROLLBACK = 20, 90, 45

REASON = re.compile(
    r"refus|skip|not a regular|fifo|named pipe|symlink|symbolic|sparse|"
    r"hole|owned|owner|lock|changed|link|too (large|big|long)|size|exceed|"
    r"limit|control|newline|escape|invalid|unsafe|not ours|foreign|differ|"
    r"fail|error|cannot|can't|left alone|never replaced|not (a )?mbox|"
    r"unknown|unexpected|ignored|not carried|special|not a message|"
    r"did not create|nothing (was )?removed|not removed|not read|"
    r"never opened|not followed|not migrated|left out|not (a )?version|"
    r"malformed|bad|wrong", re.I)


# ---- what a planted message looks like --------------------------------

def planted_mail(tag, from_line=True):
    head = b"From mallory@evil.example Mon Jan  3 10:00:00 2005\n" \
        if from_line else b""
    return head + (b"From: mallory@evil.example\nSubject: %s %s\n"
                   b"Message-ID: <%s.%s@evil.example>\n\n%s\n\n"
                   % (MARK, tag, tag, MARK, MARK))


def chown_r(path, uid, gid):
    for dp, dirs, files in os.walk(path):
        os.lchown(dp, uid, gid)
        for n in dirs + files:
            os.lchown(os.path.join(dp, n), uid, gid)


def make_sparse(path, size, uid):
    with open(path, "wb") as f:
        f.write(b"From mallory@evil.example Mon Jan  3 10:00:00 2005\n"
                b"Subject: sparse " + MARK + b"\n\nhead\n")
        f.truncate(size)
        f.seek(size)
        f.write(b"\ntail " + MARK + b"\n\n")
    os.lchown(path, uid, uid)


def make_huge(path, size, uid, text=b"x"):
    with open(path, "wb") as f:
        f.write(planted_mail(b"huge")[:-1])
        line = (text * 76) + b"\n"
        n = size // len(line) + 1
        f.write(line * n)
        f.write(b"\n")
    os.lchown(path, uid, uid)


def fifo(path, uid):
    os.mkfifo(path, 0o600)
    os.lchown(path, uid, uid)


def symlink(target, path, uid):
    os.symlink(target, path)
    os.lchown(path, uid, uid)


RENAMES = [("bob", "v1.2 release", "v1_2 release"),
           ("carol", "Inbox", "Inbox-old"),
           ("dave", "Reports.2004", "Reports_2004"),
           ("erin", "~old", "old")]


# ---- one practice server per row ---------------------------------------

class Tree:
    """A sandbox of its own: spool/, home/, the sandbox's target/ and
    work/ (--batch, rollback), ptarget/ and pwork/ (the plain commands),
    canary/ (root's files the attacker points at)."""

    def __init__(self, d):
        self.d = d
        self.conf = os.path.join(d, "mbox2dovecot.conf")
        self.spool = os.path.join(d, "spool")
        self.homes = os.path.join(d, "home")
        self.target = os.path.join(d, "target")
        self.work = os.path.join(d, "work")
        self.ptarget = os.path.join(d, "ptarget")
        self.pwork = os.path.join(d, "pwork")
        self.canary = os.path.join(d, "canary")
        self.secret = os.path.join(self.canary, "secret")
        self.secret_dir = os.path.join(self.canary, "dir")
        self.env = dict(os.environ, TZ="UTC", LC_ALL="C")
        self.env.pop("LANG", None)
        self.env.pop("MBOX2DOVECOT_IMAP_PASSWORD", None)

    def build(self):
        r = subprocess.run([PROG, "sandbox", self.d, "--no-start"],
                           capture_output=True, text=True, env=self.env,
                           stdin=subprocess.DEVNULL, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("sandbox: %s %s" % (r.stdout, r.stderr))
        # each user a uid of his own (not in passwd: the owner is the
        # inbox's); the spool 1777 as UW sites had it
        for u in USERS:
            uid = UIDS[u]
            os.lchown(os.path.join(self.spool, u), uid, uid)
            chown_r(os.path.join(self.homes, u), uid, uid)
        # the names a plain migrate refuses (the runbook's step 4 asks)
        for u, old, new in RENAMES:
            src = os.path.join(self.homes, u, "mail", old)
            if os.path.lexists(src):
                os.rename(src, os.path.join(self.homes, u, "mail", new))
        os.chown(self.spool, 0, 0)
        os.chmod(self.spool, 0o1777)
        for pw in ("dovecot/passwd", "root/etc/passwd"):
            p = os.path.join(self.d, pw)
            with open(p) as f:
                lines = f.read().splitlines()
            out = []
            for ln in lines:
                f = ln.split(":")
                if f[0] in UIDS:
                    f[2] = f[3] = str(UIDS[f[0]])
                out.append(":".join(f))
            with open(p, "w") as f:
                f.write("\n".join(out) + "\n")
        with open(self.conf) as f:
            text = f.read()
        # the users' uids (64001..) in the sandbox's passwd
        # (accounts_root) and in the range
        text = re.sub(r'(?m)^owner\s*=.*$', 'owner         = "passwd"',
                      text)
        text = re.sub(r'(?m)^uid_min\s*=.*$', 'uid_min       = 64000', text)
        text = re.sub(r'(?m)^uid_max\s*=.*$', 'uid_max       = 64999', text)
        text += '\n# test-hostile: alice takes the delivery test; a ' \
                'message over 8 MB is refused; a tool we run (doveadm ' \
                'on a FIFO) silent for %d s is stopped\n' \
                'test_users = {"alice"}\nmax_message_size = %d\n' \
                'command_timeout = %d\n' % \
                (COMMAND_TIMEOUT, MAX_MESSAGE, COMMAND_TIMEOUT)
        with open(self.conf, "w") as f:
            f.write(text)
        os.makedirs(self.secret_dir)
        with open(self.secret, "wb") as f:
            f.write(b"From root@localhost Mon Jan  3 10:00:00 2005\n"
                    b"Subject: root only\n\n" + SECRET + b"\n\n")
        os.chmod(self.secret, 0o600)
        with open(os.path.join(self.secret_dir, "keep"), "wb") as f:
            f.write(SECRET + b"\n")
        os.chmod(self.canary, 0o755)

    def start(self):
        """The old server runs (UW under xinetd, Postfix), and Dovecot
        without an IMAP listener, as `sandbox` without --no-start."""
        for cmd in (["xinetd", "reload"], ["postfix", "start"],
                    ["dovecot-start"]):
            if STOPPING.is_set():
                raise Stopping()
            subprocess.run([os.path.join(self.d, "bin", cmd[0])] + cmd[1:],
                           capture_output=True, stdin=subprocess.DEVNULL,
                           timeout=60)

    def plain_args(self):
        return ["--config", self.conf, "--spool", self.spool, "--homes",
                self.homes, "--target", self.ptarget, "--work", self.pwork,
                "--users", ",".join(USERS)]

    def stop(self):
        subprocess.run([PROG, "sandbox", "--stop", self.d],
                       capture_output=True, stdin=subprocess.DEVNULL,
                       env=self.env, timeout=60)
        kill_leftovers(self.d)
        STOPPED.add(self.d)


def kill_leftovers(d):
    """Processes the row started that still run with a file of D on
    their command line (a Dovecot whose children hang on a FIFO): TERM,
    then KILL, each by its pid."""
    mark = (d.rstrip("/") + "/").encode()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = []
        for e in os.listdir("/proc"):
            if not e.isdigit() or int(e) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % e, "rb") as f:
                    if mark in f.read():
                        pids.append(int(e))
            except OSError:
                pass
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.time() + 10
        while time.time() < deadline and any(
                os.path.exists("/proc/%d" % pid) and
                not zombie(pid) for pid in pids):
            time.sleep(0.1)


def zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# ---- running a command --------------------------------------------------

LIVE = set()            # process groups of commands running now
LIVE_LOCK = threading.Lock()
STOPPING = threading.Event()    # SIGTERM: no row starts anything more
STOPPED = set()                 # sandboxes their row has stopped


class Stopping(Exception):
    pass


class Run:
    def __init__(self, argv, rc, out, secs, rss_kb, timed_out):
        self.argv, self.rc, self.out, self.secs = argv, rc, out, secs
        self.rss_kb, self.timed_out = rss_kb, timed_out

    def tail(self, n=15):
        lines = self.out.splitlines()
        return ["$ " + " ".join(repr(a) if "\n" in a else a
                                for a in self.argv),
                "exit %s after %.1f s, %d MB" % (self.rc, self.secs,
                                                 self.rss_kb // 1024)] + \
            ["  " + ln[:300] for ln in lines[-n:]]


def run(tree, argv, timeout, logname):
    """ARGV under TIMEOUT (its process group killed then); stdout and
    stderr into a file of the tree; its peak memory from wait4."""
    log = os.path.join(tree.d, "log", "hostile-%s.out" % logname)
    t0 = time.time()
    with LIVE_LOCK:
        if STOPPING.is_set():
            raise Stopping()
        with open(log, "wb") as out:
            p = subprocess.Popen([PROG] + argv, stdout=out,
                                 stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=tree.env,
                                 start_new_session=True)
        LIVE.add(p.pid)
    fired = []

    def kill():
        fired.append(1)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
        with LIVE_LOCK:
            LIVE.discard(p.pid)
    p.returncode = os.waitstatus_to_exitcode(status)
    if fired:       # the group's stragglers too
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    with open(log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return Run([PROG] + argv, p.returncode, text, time.time() - t0,
               ru.ru_maxrss, bool(fired))


# ---- what is outside the target -----------------------------------------

def digest(path, st):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        if st.st_size <= 8 * 1024 * 1024:
            h.update(f.read())
        else:           # a sparse or huge file: its ends and its size
            h.update(f.read(1 << 20))
            f.seek(st.st_size - (1 << 20))
            h.update(f.read(1 << 20))
            h.update(b"%d %d" % (st.st_size, st.st_mtime_ns))
    return h.hexdigest()


def snapshot(tree):
    """{path: (type, uid, gid, mode, size, content)} of spool/, home/,
    canary/ (content: sha256, a symlink's target, never a FIFO's)."""
    snap = {}
    for top in (tree.spool, tree.homes, tree.canary):
        for dp, dirs, files in os.walk(top):
            for n in [""] + dirs + files:
                p = os.path.join(dp, n) if n else dp
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                kind = stat.S_IFMT(st.st_mode)
                content = None
                if stat.S_ISREG(st.st_mode):
                    try:
                        content = digest(p, st)
                    except OSError as e:
                        content = str(e)
                elif stat.S_ISLNK(st.st_mode):
                    content = os.readlink(p)
                snap[p] = (kind, st.st_uid, st.st_gid,
                           stat.S_IMODE(st.st_mode),
                           st.st_size if kind != stat.S_IFDIR else 0,
                           content)
    return snap


def appendable(tree, path):
    """Files rollback may append to: the attacker's own mboxes and
    .mailboxlist, the test user's INBOX (step 21's message)."""
    rel = os.path.relpath(path, tree.d)
    return rel.startswith(("spool/%s" % ATTACKER, "home/%s/" % ATTACKER,
                           "spool/%s" % TESTUSER))


def outside_changes(tree, before, after, may_append, ignore):
    diag = []
    for p in sorted(set(before) | set(after)):
        if any(p == i or p.startswith(i + "/") for i in ignore):
            continue
        if os.path.basename(p).endswith(".lock"):
            diag.append("%s: a lock file left or taken" % p) \
                if (p in after) != (p in before) else None
            continue
        b, a = before.get(p), after.get(p)
        if b == a:
            continue
        if may_append and appendable(tree, p):
            if b is None and a is not None and a[0] == stat.S_IFREG:
                continue            # a new mbox of the attacker's
            if b and a and b[:4] == a[:4] and b[0] == stat.S_IFREG:
                if a[4] < b[4]:
                    diag.append("%s: cut from %d to %d bytes" %
                                (p, b[4], a[4]))
                elif a[4] - b[4] > MAX_APPEND:
                    diag.append("%s: grew by %d bytes" % (p, a[4] - b[4]))
                elif not same_prefix(p, b[4], b[5]):
                    diag.append("%s: its old bytes changed" % p)
                continue
            if p.endswith("/.mailboxlist") and b and a and \
                    b[0] == a[0] == stat.S_IFREG:
                continue
        diag.append("%s: %r -> %r" % (p, b and b[:5], a and a[:5]))
    return diag


PREFIX = {}     # (path, size) -> sha256 of those first bytes, before


def remember_prefixes(tree, snap):
    for p, v in snap.items():
        if v[0] == stat.S_IFREG and appendable(tree, p) and \
                v[4] <= 8 * 1024 * 1024:
            PREFIX[(p, v[4])] = v[5]


def same_prefix(path, size, old):
    if (path, size) not in PREFIX:
        return True
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(size)).hexdigest() == \
                PREFIX[(path, size)]
    except OSError:
        return False


# ---- what is in a target ------------------------------------------------

def maildir_messages(root):
    """{user: {folder dir: set of sha256}} of every message file below
    ROOT (regular files in cur/ and new/, never followed)."""
    res = {}
    if not os.path.isdir(root):
        return res
    for u in os.listdir(root):
        ud = os.path.join(root, u)
        if not os.path.isdir(ud) or os.path.islink(ud):
            continue
        folders = {}
        for fo in [""] + [e for e in os.listdir(ud) if e.startswith(".")]:
            fd = os.path.join(ud, fo)
            if os.path.islink(fd) or not os.path.isdir(fd):
                continue
            s = folders.setdefault(fo, set())
            for sub in ("cur", "new"):
                sd = os.path.join(fd, sub)
                if not os.path.isdir(sd) or os.path.islink(sd):
                    continue
                for n in os.listdir(sd):
                    p = os.path.join(sd, n)
                    st = os.lstat(p)
                    if stat.S_ISREG(st.st_mode) and st.st_size < (1 << 24):
                        with open(p, "rb") as f:
                            s.add(hashlib.sha256(f.read()).hexdigest())
        res[u] = folders
    return res


def grep_tree(root, needles, limit=1 << 24):
    """[(path, needle)] of the regular files below ROOT holding one."""
    hits = []
    if not os.path.isdir(root):
        return hits
    for dp, dirs, files in os.walk(root):
        for n in files:
            p = os.path.join(dp, n)
            try:
                st = os.lstat(p)
                if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                    continue
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for nd in needles:
                if nd in data:
                    hits.append((p, nd))
    return hits


def message_ids(tree, user):
    ids = set()
    paths = [os.path.join(tree.spool, user)]
    for dp, dirs, files in os.walk(os.path.join(tree.homes, user)):
        paths += [os.path.join(dp, n) for n in files]
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError:
            continue
        ids |= set(re.findall(rb"(?mi)^message-id:\s*(<[^>\s]+>)", data))
    return ids


def lost_messages(baseline, got, exempt):
    diag = []
    for u, folders in baseline.items():
        for fo, hashes in folders.items():
            if (u, fo) in exempt:
                continue
            have = got.get(u, {}).get(fo, set())
            missing = hashes - have
            if missing:
                diag.append("%s/%s: %d of %d messages missing" %
                            (u, fo or "INBOX", len(missing), len(hashes)))
    return diag


def leaks(tree, root, victim_ids):
    diag = []
    for p, nd in grep_tree(os.path.join(root, VICTIM), [MARK]):
        diag.append("the victim's %s holds planted mail" % p)
    for p, nd in grep_tree(root, [SECRET]):
        diag.append("%s holds the root's secret" % p)
    for p, nd in grep_tree(os.path.join(root, ATTACKER), victim_ids):
        diag.append("the attacker's %s holds the victim's %s" %
                    (p, nd.decode()))
    return diag


# ---- legitimate new mail, so that the commands read the maildir ---------

NEWMAIL = b"NEWMAIL-FOR-ERIN"


def new_mail_source(tree, n):
    """Mail Postfix appended to the attacker's INBOX since the last run:
    the re-run adds it to the maildir (and reads what is there)."""
    p = os.path.join(tree.spool, ATTACKER)
    with open(p, "ab") as f:
        f.write(b"From newmail@example.org Tue Jan  4 10:00:0%d 2005\n"
                b"From: newmail@example.org\nSubject: %s %d\n"
                b"Message-ID: <newmail.%d@example.org>\n\n%s\n\n"
                % (n, NEWMAIL, n, n, NEWMAIL))


def new_mail_target(troot, n, folder="Planted"):
    """Mail that reached the attacker's maildir after cutover: a message
    with a keyword in INBOX, and a new folder FOLDER holding one,
    subscribed, as Dovecot would write them; rollback carries them (and
    reads the uidlist, the keywords, the subscriptions; the new folder
    becomes ~/mail/FOLDER).  [] when she has no maildir."""
    if not os.path.isdir(tuser(troot, "cur")) or \
            os.path.islink(tuser(troot)):
        return []
    msg = (b"From: newmail@example.org\nSubject: %s after %d\n"
           b"Message-ID: <after.%d@example.org>\n\nbody\n" %
           (NEWMAIL, n, n))
    made = []
    p = tuser(troot, "cur", "17000001%02d.M1P1.newmail:2,Sa" % n)
    made.append(p)
    fd = tuser(troot, "." + folder)
    if not os.path.isdir(fd):
        for sub in ("", "cur", "new", "tmp"):
            os.mkdir(os.path.join(fd, sub), 0o700)
            made.append(os.path.join(fd, sub))
    made.append(os.path.join(fd, "cur", "17000002%02d.M1P1.new:2,S" % n))
    for q in (made[0], made[-1]):
        with open(q, "wb") as f:
            f.write(msg)
        os.utime(q, (1104832800, 1104832800))
    for q in made:
        os.lchown(q, MUID, MUID)
    subs = tuser(troot, "subscriptions")
    try:
        st = os.lstat(subs)
    except OSError:
        st = None
    if st and stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and \
            st.st_size < (1 << 20) and folder.isprintable():
        with open(subs, "a") as f:
            f.write(folder + "\n")
    return made


def drop_new_mail(made):
    """The new mail carried back, removed (so that clear sees only the
    planted object)."""
    for q in reversed(made):
        if os.path.isdir(q) and not os.path.islink(q):
            shutil.rmtree(q, ignore_errors=True)
        elif os.path.lexists(q):
            os.unlink(q)


# ---- the places ------------------------------------------------------------
#
# A plant function gets (tree, troot) and returns the paths it planted
# (troot: the maildir base of the lane, for the maildir-side places; the
# attacker's maildir is troot/erin).

def home(tree, *p):
    return os.path.join(tree.homes, ATTACKER, *p)


def tuser(troot, *p):
    return os.path.join(troot, ATTACKER, *p)


def a_message(troot, user):
    cur = os.path.join(troot, user, "cur")
    names = sorted(n for n in os.listdir(cur))
    return os.path.join(cur, names[0])


AUID = UIDS[ATTACKER]
MUID = UIDS[ATTACKER]    # the attacker's maildir is hers (owner passwd)


def p_spool(make):
    def plant(tree, troot):
        p = os.path.join(tree.spool, ATTACKER)
        os.unlink(p)
        make(tree, p)
        return [p]
    return plant


def p_home(name, make):
    def plant(tree, troot):
        p = home(tree, "mail", name)
        make(tree, p)
        return [p]
    plant.name = name
    return plant


def p_mailboxlist(make):
    def plant(tree, troot):
        p = home(tree, ".mailboxlist")
        os.unlink(p)
        make(tree, p)
        return [p]
    return plant


def p_target(rel, make, replace=True):
    """REL below the attacker's maildir; REL may be a function of troot
    (a message file's name)."""
    def plant(tree, troot):
        r = rel(troot) if callable(rel) else rel
        p = tuser(troot, r)
        if replace and os.path.lexists(p):
            os.unlink(p)
        make(tree, p)
        return [p]
    return plant


def p_spool_of_victim(tree, troot):
    """The victim has no spool file; the attacker makes one (a 1777
    spool) holding a forged message."""
    p = os.path.join(tree.spool, VICTIM)
    os.unlink(p)
    with open(p, "wb") as f:
        f.write(planted_mail(b"forged"))
    os.lchown(p, AUID, AUID)
    os.chmod(p, 0o600)
    return [p]


def m_fifo(tree, p):
    fifo(p, AUID)


def m_secret(tree, p):
    symlink(tree.secret, p, AUID)


def m_victim_mbox(tree, p):
    symlink(os.path.join(tree.homes, VICTIM, "sent-mail"), p, AUID)


def m_victim_inbox(tree, p):
    symlink(os.path.join(tree.spool, VICTIM), p, AUID)


def m_hard_victim_mbox(tree, p):
    os.link(os.path.join(tree.homes, VICTIM, "sent-mail"), p)


def m_hard_victim_inbox(tree, p):
    os.link(os.path.join(tree.spool, VICTIM), p)


def m_sparse(tree, p):
    make_sparse(p, SPARSE_SIZE, AUID)


def m_huge(tree, p):
    make_huge(p, HUGE_TEXT, AUID)


def m_mail(tree, p):
    with open(p, "wb") as f:
        f.write(planted_mail(b"named"))
    os.lchown(p, AUID, AUID)
    os.chmod(p, 0o600)


def m_mailboxlist_evil(tree, p):
    with open(p, "wb") as f:
        f.write(b"mail/work/2004\nx\nfolder FAKE -> INBOX\n"
                b"\x1b[2J\x1b]0;pwned\x07\n../../bob/sent-mail\n")
    os.lchown(p, AUID, AUID)


# maildir side
def tm_fifo(tree, p):
    fifo(p, MUID)


def tm_secret(tree, p):
    symlink(tree.secret, p, MUID)


def tm_victim_msg(troot):
    def make(tree, p):
        symlink(a_message(troot, VICTIM), p, MUID)
    return make


def tm_hard_victim_msg(troot):
    def make(tree, p):
        os.link(a_message(troot, VICTIM), p)
    return make


def tm_sparse(tree, p):
    make_sparse(p, SPARSE_SIZE, MUID)


def tm_huge(tree, p):
    make_huge(p, HUGE_TEXT, MUID)


def tm_mail(tree, p):
    # a Message-ID of its own per planting (one per lane)
    tag = b"maildir-" + hashlib.sha1(p.encode()).hexdigest()[:8].encode()
    with open(p, "wb") as f:
        f.write(planted_mail(tag, from_line=False))
    os.lchown(p, MUID, MUID)
    os.chmod(p, 0o600)


def tm_secret_dir(tree, p):
    symlink(tree.secret_dir, p, MUID)


def p_target_link(rel, maker):
    """A link (symlink or hard) to one of the victim's messages."""
    def plant(tree, troot):
        p = tuser(troot, rel)
        maker(troot)(tree, p)
        return [p]
    return plant


NL_MSG = "cur/1700000000.evil\nstate pending\nbefore 0\nx:2,S"
CTRL_MSG = "cur/1700000001.\x1b]0;pwned\x07\x1b[2J:2,S"
NL_FOLDER = "x\nfolder FAKE -> INBOX"
CTRL_FOLDER = "esc\x1b[2J\rclear\tz"


# ---- background writers ---------------------------------------------------

WRITER = r'''
import fcntl, os, signal, sys, time
path, mode, ready = sys.argv[1], sys.argv[2], sys.argv[3]
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
half = b"From writer@example.org Mon Jan  3 11:00:00 2005\nSubject: late\n\n%s\n"
end = b"HALF-WRITTEN-END\n\n"
forged = b"3 V1 N99 G0\n1 ../../bob/cur/forged\n98 :../../../etc/shadow\n"
orig = None
first = True
while not stop:
    if mode == "grow":
        # as Postfix's local(8): a dotlock (empty), flock, append, slowly
        lock = path + ".lock"
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        except FileExistsError:
            time.sleep(0.05)
            continue
        with open(path, "ab") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(half % b"HALF-WRITTEN-START")
            f.flush()
            if first:
                open(ready, "w").close()
                first = False
            time.sleep(3)
            f.write(end)
            f.flush()
            fcntl.flock(f, fcntl.LOCK_UN)
        os.unlink(lock)
        if not stop:
            time.sleep(0.2)
    elif mode == "swap":
        # a maildir file swapped, by rename, with a forged one and back
        if not first and orig is None:
            break
        if first:
            with open(path, "rb") as f:
                orig = f.read()
        st = os.stat(path)
        for data in (forged, orig):
            tmp = path + ".new"
            with open(tmp, "wb") as f:
                f.write(data)
            os.chown(tmp, st.st_uid, st.st_gid)
            os.chmod(tmp, 0o600)
            os.rename(tmp, path)
        if first:
            open(ready, "w").close()
            first = False
        time.sleep(0.005)
    else:
        # replaced: a new file renamed over it, again and again
        with open(path, "rb") as f:
            data = f.read()
        tmp = path + ".new"
        with open(tmp, "wb") as f:
            f.write(data + half % b"REPLACED" + b"\n")
        st = os.stat(path)
        os.chown(tmp, st.st_uid, st.st_gid)
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
        if first:
            open(ready, "w").close()
            first = False
        time.sleep(0.01)
'''


class Writer:
    """A background writer on PATH while one command runs."""

    def __init__(self, path, mode, ready):
        self.path, self.mode, self.ready = path, mode, ready
        self.proc = None

    def __enter__(self):
        ready = self.ready
        if STOPPING.is_set():
            raise Stopping()
        try:
            os.unlink(ready)
        except OSError:
            pass
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, self.path, self.mode, ready],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        with LIVE_LOCK:
            LIVE.add(self.proc.pid)
        deadline = time.time() + 10
        while not os.path.exists(ready) and time.time() < deadline and \
                self.proc.poll() is None:
            time.sleep(0.01)
        return self

    def __exit__(self, *a):
        # the message it is writing is finished first (as a delivery
        # would be): a later command sees whole mail
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        with LIVE_LOCK:
            LIVE.discard(self.proc.pid)
        for p in (self.path + ".lock", self.path + ".new"):
            try:
                os.unlink(p)
            except OSError:
                pass
        return False


def p_uidlist_traversal(tree, troot):
    """A line added to the attacker's dovecot-uidlist whose file name
    climbs into the victim's maildir (../../bob/cur/NAME)."""
    p = tuser(troot, "dovecot-uidlist")
    victim = os.path.basename(a_message(troot, VICTIM)).split(":")[0]
    with open(p, "rb") as f:
        text = f.read()
    m = re.search(rb" N(\d+)", text.split(b"\n", 1)[0])
    uid = int(m.group(1)) - 1 if m else 999999
    with open(p, "ab") as f:
        f.write(b"%d :../../%s/cur/%s\n" % (uid, VICTIM.encode(),
                                            victim.encode()))
    return [p]


def p_target_writer(rel, mode):
    def plant(tree, troot):
        return [tuser(troot, rel)]
    plant.writer = mode
    return plant


def p_writer(where, mode):
    def plant(tree, troot):
        p = os.path.join(tree.spool, ATTACKER) if where == "spool" \
            else home(tree, "sent-mail")
        return [p]
    plant.writer = mode
    return plant


# ---- the matrix ------------------------------------------------------------

SRC_CMDS = ("plan", "check", "migrate", "rerun", "verify", "mailonly",
            "mailonly2", "clear", "batch", "rollback")
TGT_CMDS = ("rerun", "verify", "mailonly", "mailonly2", "clear", "check",
            "batch", "rollback")
# which commands read each place (their output must name the object)
READERS = {
    "spool": {"plan", "check", "migrate", "rerun", "verify", "mailonly",
              "batch", "rollback"},
    # a new name in a home: read by those that look for folders, and by
    # rollback, which makes ~/mail/NAME for the folder NAME made since
    "home": {"plan", "check", "migrate", "rerun", "batch", "mailonly",
             "rollback"},
    "mailboxlist": {"migrate", "batch"},
    "msgfile": {"rerun", "verify", "mailonly", "clear", "batch",
                "rollback"},
    "uidlist": {"rerun", "verify", "mailonly", "clear", "batch",
                "rollback"},
    # the re-run writes these anew (it does not need to read them)
    "keywords": {"verify", "mailonly", "clear", "batch", "rollback"},
    "subscriptions": {"mailonly", "clear", "batch", "rollback"},
    "tmp": {"rerun", "clear", "batch"},
}


class Row:
    def __init__(self, rid, obj, place, plant, exempt=(), names=None,
                 name_re=None):
        self.id, self.obj, self.place, self.plant = rid, obj, place, plant
        self.side = "source" if place in ("spool", "home", "mailboxlist") \
            else "target"
        self.cmds = SRC_CMDS if self.side == "source" else TGT_CMDS
        # the attacker's folders it spoils (no loss counted there)
        self.exempt = {e if isinstance(e, tuple) else (ATTACKER, e)
                       for e in exempt}
        self.readers = READERS[place] if names is None else set(names)
        self.name_re = name_re
        self.writer = getattr(plant, "writer", None)
        # a maildir-side writer runs during the plain commands only (in
        # --batch Dovecot itself rewrites the file)
        self.writer_cmds = set(SRC_CMDS) if self.side == "source" else \
            {"rerun", "verify", "mailonly", "mailonly2", "clear"}
        # the folder made in the maildir after cutover: for a home row
        # the planted name (rollback makes ~/mail/NAME of it)
        self.newfolder = getattr(plant, "name", None) or "Planted"


def ctl_re(name):
    """A regex matching NAME printed with its control characters escaped
    (\\n, \\x0a, \\012, \\e, ^[, ?, %0a, \\u000a)."""
    out = []
    for ch in name:
        if ord(ch) < 0x20 or ord(ch) == 0x7f:
            c = ord(ch)
            alts = [r"\\x0?%x" % c, r"\\x0?%X" % c, r"\\0?%o" % c,
                    r"\\u00%02x" % c, r"%%%02x" % c, r"%%%02X" % c,
                    r"\?", r"\^" + re.escape(chr(c + 64)) if c < 32 else
                    r"\^\?"]
            simple = {"\n": r"\\n", "\t": r"\\t", "\r": r"\\r",
                      "\x1b": r"\\e", "\x07": r"\\a"}
            if ch in simple:
                alts.append(simple[ch])
            out.append("(?:%s)" % "|".join(alts))
        else:
            out.append(re.escape(ch))
    return "".join(out)


ROWS = [
    # id, object, place, plant [, exempt folders of the attacker]
    Row("fifo-spool", "FIFO", "spool", p_spool(m_fifo), [""]),
    Row("fifo-home", "FIFO", "home", p_home("fifo", m_fifo)),
    Row("fifo-mailboxlist", "FIFO", "mailboxlist",
        p_mailboxlist(m_fifo)),
    Row("symlink-root-spool", "symlink to root's file", "spool",
        p_spool(m_secret), [""]),
    Row("symlink-root-home", "symlink to root's file", "home",
        p_home("secret", m_secret)),
    Row("symlink-root-mailboxlist", "symlink to root's file",
        "mailboxlist", p_mailboxlist(m_secret)),
    Row("symlink-victim-spool", "symlink to the victim's INBOX", "spool",
        p_spool(m_victim_inbox), [""]),
    Row("symlink-victim-home", "symlink to the victim's mbox", "home",
        p_home("stolen", m_victim_mbox)),
    Row("hardlink-victim-spool", "hard link to the victim's INBOX",
        "spool", p_spool(m_hard_victim_inbox), [""]),
    Row("hardlink-victim-home", "hard link to the victim's mbox", "home",
        p_home("linked", m_hard_victim_mbox)),
    Row("sparse-spool", "sparse mbox", "spool", p_spool(m_sparse), [""],
        names={"plan", "check", "migrate", "rerun", "verify", "batch"}),
    Row("sparse-home", "sparse mbox", "home", p_home("sparse", m_sparse)),
    Row("huge-home", "17 MB message (max_message_size 8 MB)", "home",
        p_home("huge", m_huge), names={"migrate", "rerun", "batch"}),
    Row("newline-home", "folder named with a newline", "home",
        p_home(NL_FOLDER, m_mail), names={"plan", "check", "migrate"},
        name_re=ctl_re(NL_FOLDER)),
    Row("ctrl-home", "folder named with ESC, CR, TAB", "home",
        p_home(CTRL_FOLDER, m_mail), names={"plan", "check", "migrate"},
        name_re=ctl_re(CTRL_FOLDER)),
    Row("names-mailboxlist", "names with control characters",
        "mailboxlist", p_mailboxlist(m_mailboxlist_evil), names=()),
    Row("foreign-spool", "spool file of the victim made by the attacker",
        "spool", p_spool_of_victim, [(VICTIM, "")],
        names={"plan", "check", "migrate", "batch"}),
    Row("grow-spool", "appended under dotlock+flock while read", "spool",
        p_writer("spool", "grow"), [""], names=()),
    Row("grow-home", "appended under dotlock+flock while read", "home",
        p_writer("home", "grow"), [".sent-mail"], names=()),
    Row("replaced-spool", "replaced (renamed over) while read", "spool",
        p_writer("spool", "replace"), [""], names=()),

    Row("fifo-msgfile", "FIFO", "msgfile",
        p_target("cur/1700000002.fifo:2,S", tm_fifo)),
    Row("fifo-uidlist", "FIFO", "uidlist",
        p_target("dovecot-uidlist", tm_fifo), [""]),
    Row("fifo-keywords", "FIFO", "keywords",
        p_target("dovecot-keywords", tm_fifo)),
    Row("fifo-subscriptions", "FIFO", "subscriptions",
        p_target("subscriptions", tm_fifo)),
    # tmp/: removed without a word, as Dovecot does with stale files
    Row("fifo-tmp", "FIFO", "tmp",
        p_target("tmp/m2d-lock.999999", tm_fifo), names=()),
    Row("symlink-root-msgfile", "symlink to root's file", "msgfile",
        p_target("cur/1700000003.secret:2,S", tm_secret)),
    Row("symlink-root-uidlist", "symlink to root's file", "uidlist",
        p_target("dovecot-uidlist", tm_secret), [""]),
    Row("symlink-root-keywords", "symlink to root's file", "keywords",
        p_target("dovecot-keywords", tm_secret)),
    Row("symlink-root-subscriptions", "symlink to root's file",
        "subscriptions", p_target("subscriptions", tm_secret)),
    Row("symlink-rootdir-tmp", "stale stage: symlink to root's dir",
        "tmp", p_target("tmp/m2d-stage.999999", tm_secret_dir), names=()),
    Row("symlink-victim-msgfile", "symlink to a victim's message",
        "msgfile", p_target_link("cur/1700000004.stolen:2,S",
                                 tm_victim_msg)),
    Row("hardlink-victim-msgfile", "hard link to a victim's message",
        "msgfile", p_target_link("cur/1700000005.linked:2,S",
                                 tm_hard_victim_msg)),
    Row("sparse-msgfile", "sparse message", "msgfile",
        p_target("cur/1700000006.sparse:2,S", tm_sparse)),
    Row("sparse-uidlist", "sparse dovecot-uidlist", "uidlist",
        p_target("dovecot-uidlist", tm_sparse), [""]),
    Row("sparse-subscriptions", "sparse subscriptions", "subscriptions",
        p_target("subscriptions", tm_sparse)),
    Row("replaced-uidlist", "swapped with a forged one while read",
        "uidlist", p_target_writer("dovecot-uidlist", "swap"), [""],
        names=()),
    Row("traversal-uidlist", "a line naming ../../bob/cur/MSG", "uidlist",
        p_uidlist_traversal, names=()),
    Row("huge-msgfile", "17 MB message (max_message_size 8 MB)",
        "msgfile", p_target("cur/1700000007.huge:2,S", tm_huge)),
    Row("huge-keywords", "17 MB dovecot-keywords", "keywords",
        p_target("dovecot-keywords", tm_huge)),
    Row("huge-subscriptions", "17 MB subscriptions", "subscriptions",
        p_target("subscriptions", tm_huge)),
    Row("newline-msgfile", "message named with newlines", "msgfile",
        p_target(NL_MSG, tm_mail), names=()),
    Row("ctrl-msgfile", "message named with ESC, BEL", "msgfile",
        p_target(CTRL_MSG, tm_mail), names=()),
]

# the holes still open: finding -> what (issue 15's findings, H5-NN)
FINDINGS = {
}

# cells still failing: "row-id command" -> the finding they wait for
TODO = {
}


# ---- one row: its cells ----------------------------------------------------

class Cell:
    def __init__(self, row, cmd):
        self.row, self.cmd = row, cmd
        self.problems = []
        self.ran = []

    def name(self):
        return "%s x %s" % (self.row.id, self.cmd)


def named(row, planted, tree, text):
    """True when a line of TEXT names a planted object, with a reason."""
    pats = []
    for p in planted:
        if row.name_re:
            pats.append(re.compile(row.name_re))
            continue
        rel = os.path.relpath(p, tree.d)
        base = os.path.basename(p)
        parent = os.path.basename(os.path.dirname(p))
        pats.append(re.compile(re.escape(p) + r"(?![\w/.-])"))
        pats.append(re.compile(r"(?<![\w.-])" + re.escape(
            os.path.join(parent, base)) + r"(?![\w/.-])"))
        if "target/" in rel:
            # "erin ... dovecot-uidlist": the user and the file's name
            user = rel.split("target/", 1)[1].split("/")[0]
            pats.append(re.compile(r"(?<![\w.-])%s\b.*(?<![\w.-])%s"
                                   r"(?![\w.-])" % (re.escape(user),
                                                     re.escape(base))))
        if rel.startswith("spool/"):
            # the INBOX as plan and migrate show it
            pats.append(re.compile(r"(?<![\w.-])" + re.escape(
                rel[len("spool/"):]) + r"(/| )INBOX\b"))
        if rel.startswith("home/"):
            # user/mail/x as plan shows it
            pats.append(re.compile(re.escape(rel[len("home/"):]) +
                                   r"(?![\w/.-])"))
    for line in text.splitlines():
        # the reason is read without the tree's path (the row's name)
        if any(p.search(line) for p in pats) and \
                REASON.search(line.replace(tree.d, "TREE")):
            return True
    return False


def output_clean(text):
    diag = []
    for line in text.splitlines():
        if re.match(r"\s*(folder FAKE -> INBOX|state pending|before 0$)",
                    line):
            diag.append("a forged line: %r" % line)
    for ch, what in (("\x1b", "ESC"), ("\x07", "BEL"), ("\r", "CR")):
        if ch in text:
            diag.append("a raw %s in the output" % what)
    return diag


def row_main(row, scratch, baseline, victim_ids):
    d = os.path.join(scratch, row.id)
    tree = Tree(d)
    cells = []
    try:
        if STOPPING.is_set():
            raise Stopping()
        tree.build()
        run_row(row, tree, baseline, victim_ids, cells)
    except Stopping:
        pass
    except Exception:
        import traceback
        c = Cell(row, "setup")
        c.problems.append("the row did not run to its end")
        c.problems += traceback.format_exc().splitlines()[-12:]
        cells.append(c)
    finally:
        try:
            tree.stop()
        except Exception:
            pass
    return cells


def run_row(row, tree, baseline, victim_ids, cells):
    planted = []
    env_run = {}

    def command(cmd, argv, timeout, troot=None, check_loss=False,
                may_append=False, context=True):
        cell = Cell(row, cmd)
        cells.append(cell)
        before = snapshot(tree)
        remember_prefixes(tree, before)
        leaks_before = set(leaks(tree, troot, victim_ids)) if troot \
            else set()
        mleaks_before = set(mbox_leaks(tree, victim_ids))
        before_big = set(big_files(troot, set())) if troot else set()
        cut_before = set(cut_off(troot)) if troot else set()
        marks_before = count_marks(tree)
        dups_before = duplicates(tree) if may_append else {}
        w = Writer(planted[0], row.writer, os.path.join(
            tree.d, "log", "writer.ready")) if row.writer and \
            planted and cmd in row.writer_cmds else None
        if w:
            with w:
                r = run(tree, argv, timeout, cmd)
        else:
            r = run(tree, argv, timeout, cmd)
        env_run[cmd] = r
        cell.ran.append(r)
        if r.timed_out:
            cell.problems.append("did not finish in %d s (killed)" %
                                 timeout)
        if r.rss_kb > MAX_RSS_KB:
            cell.problems.append("used %d MB of memory" %
                                 (r.rss_kb // 1024))
        if r.rc is not None and r.rc < 0:
            cell.problems.append("killed by signal %d" % -r.rc)
        cell.problems += output_clean(r.out)
        rd = row.readers
        must_name = cmd in rd or (cmd == "mailonly2" and "mailonly" in rd)
        if row.place == "home" and cmd in ("mailonly", "mailonly2",
                                           "rollback"):
            # rollback meets a home's name only through a new folder
            must_name = must_name and context
        if must_name and not named(row, planted, tree, r.out):
            cell.problems.append("no line names %s with a reason" %
                                 ", ".join(repr(os.path.relpath(
                                     p, tree.d)) for p in planted))
        after = snapshot(tree)
        ignore = [planted[0]] if row.writer and planted else []
        cell.problems += outside_changes(tree, before, after, may_append,
                                         ignore)
        if troot:
            if check_loss and not r.timed_out:
                cell.problems += lost_messages(
                    baseline, maildir_messages(troot), row.exempt)
            cell.problems += [x for x in leaks(tree, troot, victim_ids)
                              if x not in leaks_before]
            cell.problems += big_files(troot, before_big)
            cell.problems += [x for x in cut_off(troot)
                              if x not in cut_before]
        if may_append:
            mb = count_marks(tree)
            if cmd == "mailonly2" and mb != marks_before:
                cell.problems.append("run again, it appended %d planted "
                                     "messages again" %
                                     (mb - marks_before))
            elif mb - marks_before > 1:
                cell.problems.append("%d planted messages appended for "
                                     "1 planted" % (mb - marks_before))
            cell.problems += [x for x in mbox_leaks(tree, victim_ids)
                              if x not in mleaks_before]
            for (p, i), n in sorted(duplicates(tree).items()):
                if dups_before.get((p, i), 1) < n:
                    cell.problems.append("%s: %s appended again (%d times "
                                         "now)" % (p, i, n))
        return r

    p = tree.plain_args()
    if row.side == "source":
        planted = row.plant(tree, None)
        command("plan", ["plan"] + p, T_CMD)
        command("check", ["--check", "--config", tree.conf], T_CMD * 3)
        command("migrate", ["migrate"] + p, T_CMD, tree.ptarget, True)
    else:
        r = run(tree, ["migrate"] + p, T_CMD, "setup-migrate")
        if r.rc != 0:
            raise RuntimeError("the clean migrate failed: %s" %
                               "\n".join(r.tail()))
        planted = row.plant(tree, tree.ptarget)
        new_mail_source(tree, 1)
    command("rerun", ["migrate"] + p, T_CMD, tree.ptarget, True)
    command("verify", ["verify"] + p, T_CMD, tree.ptarget)
    made = new_mail_target(tree.ptarget, 1, row.newfolder)
    command("mailonly", ["rollback", "--mail-only"] + p, T_CMD,
            tree.ptarget, may_append=True, context=bool(made))
    command("mailonly2", ["rollback", "--mail-only"] + p, T_CMD,
            tree.ptarget, may_append=True, context=bool(made))
    drop_new_mail(made)
    command("clear", ["clear"] + p, T_CMD)
    # the runbook on the sandbox's own target, its Dovecot started
    tree.start()
    if row.side == "source":
        r = command("batch", ["--config", tree.conf, "--batch", "--yes"],
                    T_BATCH, tree.target)
    else:
        r0 = run(tree, ["--config", tree.conf, "--batch", "--yes", "--to",
                        "13"], T_BATCH, "setup-batch")
        if r0.rc != 0:
            raise RuntimeError("steps 0-13 failed: %s" %
                               "\n".join(r0.tail()))
        planted = row.plant(tree, tree.target)
        new_mail_source(tree, 2)
        command("check", ["--check", "--config", tree.conf], T_CMD * 3)
        r = command("batch", ["--config", tree.conf, "--batch", "--yes",
                              "--resume"], T_BATCH, tree.target)
    if r.rc == 0 and not r.timed_out:
        cells[-1].problems += lost_messages(
            baseline, maildir_messages(tree.target), row.exempt)
    made = new_mail_target(tree.target, 2, row.newfolder)
    command("rollback", ["rollback", "--config", tree.conf], T_ROLLBACK,
            tree.target, may_append=True, context=bool(made))
    return cells


def cut_off(root):
    """Messages of the target that a background writer had not finished
    when they were read."""
    out = []
    for p, nd in grep_tree(root, [HALF]):
        with open(p, "rb") as f:
            if b"HALF-WRITTEN-END" not in f.read():
                out.append("%s: a message cut off while it was written" % p)
    return out


def big_files(root, known):
    """Files of the target over 24 MB (what a sparse source would
    become), not in KNOWN."""
    out = []
    for dp, dirs, files in os.walk(root):
        for n in files:
            p = os.path.join(dp, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size > 24 * 1024 * 1024:
                msg = "%s: %d MB written (%d MB on disk)" % (
                    p, st.st_size >> 20, st.st_blocks * 512 >> 20)
                if msg not in known:
                    out.append(msg)
    return out


def duplicates(tree):
    """{(mbox, Message-ID): count} of the ids found more than once in
    one of the attacker's mboxes (rollback must not append old mail
    again)."""
    out = {}
    paths = [os.path.join(tree.spool, ATTACKER)] + \
        [os.path.join(dp, f) for dp, _, fs in
         os.walk(os.path.join(tree.homes, ATTACKER)) for f in fs]
    for p in paths:
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or st.st_size > (1 << 24):
                continue
            with open(p, "rb") as f:
                ids = re.findall(rb"(?mi)^message-id:\s*(<[^>\s]+>)",
                                 f.read())
        except OSError:
            continue
        for i in set(ids):
            if ids.count(i) > 1:
                out[(p, i.decode())] = ids.count(i)
    return out


def count_marks(tree):
    n = 0
    for p in [os.path.join(tree.spool, ATTACKER)] + \
            [os.path.join(dp, f) for dp, _, fs in
             os.walk(os.path.join(tree.homes, ATTACKER)) for f in fs]:
        try:
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode) and st.st_size < (1 << 24):
                with open(p, "rb") as f:
                    n += f.read().count(b"Subject: " + MARK)
        except OSError:
            pass
    return n


def mbox_leaks(tree, victim_ids):
    diag = []
    for p, nd in grep_tree(os.path.join(tree.homes, ATTACKER),
                           [SECRET] + list(victim_ids)) + \
            grep_tree(os.path.join(tree.spool), [SECRET] +
                      list(victim_ids)):
        if os.path.basename(p) != VICTIM:
            diag.append("%s now holds %s" % (p, nd.decode()))
    return diag


# ---- the baseline ------------------------------------------------------------

def make_baseline(scratch):
    """A clean sandbox migrated: {user: {folder dir: hashes}}, and the
    Message-IDs of the victim's mail."""
    tree = Tree(os.path.join(scratch, "baseline"))
    tree.build()
    r = run(tree, ["migrate"] + tree.plain_args(), 60, "baseline")
    if r.rc != 0:
        raise RuntimeError("\n".join(r.tail()))
    base = maildir_messages(tree.ptarget)
    ids = message_ids(tree, VICTIM) - message_ids(tree, ATTACKER)
    return base, ids, tree


def main():
    tap = Tap(max_diag=30)
    reason = dh.available()
    if reason:
        print("1..0 # SKIP %s" % reason)
        return 0
    if not os.access(PROG, os.X_OK):
        print("1..0 # SKIP %s not built" % PROG)
        return 0
    scratch = tempfile.mkdtemp(prefix="m2d-hostile-")
    os.chmod(scratch, 0o755)
    dh.make_traversable(scratch)
    rows = ROWS
    sel = os.environ.get("M2D_HOSTILE_ROWS")
    if sel:
        rows = [r for r in ROWS if re.search(sel, r.id)]
    t0 = time.time()
    pool = None
    try:
        baseline, victim_ids, btree = make_baseline(scratch)
        n = sum(len(v) for f in baseline.values() for v in f.values())
        tap.ok(n > 100 and len(baseline) == len(USERS) and victim_ids,
               "the baseline: a clean migrate of the sandbox, %d messages, "
               "%d of the victim's Message-IDs" % (n, len(victim_ids)))
        jobs = int(os.environ.get("M2D_HOSTILE_JOBS", "8"))
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        # the longest first (the maildir side runs the runbook in two
        # parts, a background writer holds its lock 3 s per command):
        # the pool does not end waiting on one of them; printed in order
        cost = {r.id: (r.side == "target") + 2 * bool(r.writer)
                for r in rows}
        futs = {row.id: pool.submit(row_main, row, scratch, baseline,
                                    victim_ids)
                for row in sorted(rows, key=lambda r: -cost[r.id])}
        for row in rows:
            fut = futs[row.id]
            for cell in fut.result():
                report(tap, cell)
        pool.shutdown()
        pool = None
        tap.note("%d rows x commands in %.0f s" % (len(rows),
                                                   time.time() - t0))
    except Exception:
        import traceback
        tap.ok(False, "the test ran to its end",
               traceback.format_exc().splitlines())
    finally:
        STOPPING.set()
        with LIVE_LOCK:
            for pid in list(LIVE):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        for e in os.listdir(scratch):
            if os.path.join(scratch, e) not in STOPPED and \
                    os.path.exists(os.path.join(scratch, e,
                                                ".mbox2dovecot-sandbox")):
                subprocess.run([PROG, "sandbox", "--stop",
                                os.path.join(scratch, e)],
                               capture_output=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        kill_leftovers(scratch)
        if os.environ.get("M2D_KEEP"):
            tap.note("kept %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tap.done()


def report(tap, cell):
    what = "%s: %s (%s in %s) x %s" % (
        cell.row.id, "safe", cell.row.obj, cell.row.place, cell.cmd)
    todo = TODO.get("%s %s" % (cell.row.id, cell.cmd))
    if todo:
        todo = "%s %s" % (todo, FINDINGS[todo])
    diag = list(cell.problems)
    for r in cell.ran:
        diag += r.tail()
    if todo and cell.problems:
        # a known hole: reported, not counted
        tap.n += 1
        print("not ok %d - %s # TODO %s" % (tap.n, what, todo))
        for line in cell.problems[:8]:
            print("#   " + line)
        sys.stdout.flush()
        return
    if todo:
        what += " (TODO %s passes now)" % todo
    tap.ok(not cell.problems, what, diag)


if __name__ == "__main__":
    sys.exit(main())
