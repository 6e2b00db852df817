#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The whole runbook, headless, on practice servers from `mbox2dovecot
sandbox`: a real private Dovecot on 127.0.0.1 high ports (the test port,
then the "normal" one), the real `postconf -c`, service commands that
really start and stop that Dovecot.

  1. steps 0 to 22 in `--batch --yes`: every step done, the report's JSON
     says so; the maildirs are identical to the mboxes (`verify`: bytes,
     flags, UIDs, dates) and pass the IMAP test as every user, on the
     normal port (login, list, counts, dates); Postfix delivers into the
     maildirs; the state survives and nothing runs twice;
  2. kill -9 in the middle of step 9 and of step 15, resume: the same
     final maildirs (UIDs, flags, bytes) as an uninterrupted run;
  3. `--step N`: refused with the reason while a step it needs is not
     done, run with --force, run when its prerequisites are done;
  4. `--batch` without `--yes` stops at the first confirmation (exit 4),
     `--confirm N` gives it.

Prints TAP.  Env: M2D_TOP, BUILD, M2D_KEEP=1 keeps the temp dir.
"""

import hashlib
import json
import os
import re
import shutil
import signal
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
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, BUILD, "mbox2dovecot")
TOOL = os.path.join(TOP, BUILD, "tools", "imap-test-tool")

tap = Tap(max_diag=25, tail=True)   # a command's error is at its end
ok = tap.ok


def run(*args, **kw):
    env = dict(os.environ)
    env.pop("MBOX2DOVECOT_IMAP_PASSWORD", None)
    return subprocess.run([PROG] + list(args), capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL,
                          **kw)


def out(p):
    return "rc=%d\n%s\n%s" % (p.returncode, p.stdout, p.stderr)


def conf_values(conf):
    vals = {}
    with open(conf) as f:
        for line in f:
            m = re.match(r'\s*(\w+)\s*=\s*"?([^"\n]*)"?', line)
            if m:
                vals.setdefault(m.group(1), m.group(2))
    return vals


def make_sandbox(d, extra=""):
    p = run("sandbox", d)
    if not ok(p.returncode == 0, "sandbox %s" % os.path.basename(d),
              out(p)):
        return None
    conf = os.path.join(d, "mbox2dovecot.conf")
    if extra:
        with open(conf, "a") as f:
            f.write(extra)
    return conf


def stop_sandbox(d):
    run("sandbox", "--stop", d)


def state_of(d):
    """{step id: status} from WORK/state."""
    res = {}
    try:
        with open(os.path.join(d, "work", "state")) as f:
            text = f.read()
    except OSError:
        return res
    for m in re.finditer(r"step ([\w-]+) \{\s*status = (\w+)", text):
        res[m.group(1)] = m.group(2)
    return res


def maildir_state(target):
    """Per user and folder: uidvalidity, and (uid, flags, sha256) of every
    message, from dovecot-uidlist and the files."""
    res = {}
    for user in sorted(os.listdir(target)):
        root = os.path.join(target, user)
        if not os.path.isdir(root) or user == "tmp":
            continue
        for folder in [""] + sorted(e for e in os.listdir(root)
                                    if e.startswith(".") and
                                    os.path.isdir(os.path.join(root, e))):
            fdir = os.path.join(root, folder)
            files = {}
            for sub in ("new", "cur"):
                sd = os.path.join(fdir, sub)
                if os.path.isdir(sd):
                    for name in os.listdir(sd):
                        files[name.split(":")[0]] = (sub, name)
            msgs = []
            header = ""
            ul = os.path.join(fdir, "dovecot-uidlist")
            if os.path.exists(ul):
                with open(ul) as f:
                    header = f.readline().split()[1:3]
                    for line in f:
                        parts = line.split()
                        uid = parts[0]
                        base = line.split(":", 1)[-1].strip() \
                            if ":" in line else parts[-1]
                        sub, name = files.get(base, ("?", base))
                        flags = name.split(":2,")[1] if ":2," in name \
                            else ""
                        path = os.path.join(fdir, sub, name)
                        h = ""
                        if os.path.exists(path):
                            with open(path, "rb") as mf:
                                data = mf.read()
                            # step 21's test message is unique per run
                            if b"@mbox2dovecot>" in data:
                                continue
                            h = hashlib.sha256(data).hexdigest()
                        msgs.append((uid, flags, h))
            res["%s/%s" % (user, folder)] = (header, msgs)
    return res


def folders_of(d, user):
    """NAME=MBOX pairs of USER's taken folders, from `plan`."""
    conf = os.path.join(d, "mbox2dovecot.conf")
    p = run("plan", "--config", conf, "--dry-run", "--users", user)
    pairs = []
    vals = conf_values(conf)
    for line in p.stdout.splitlines():
        m = re.match(r'folder (\S+?)/(.+) -> "(.*)" \(', line)
        if not m:
            continue
        u, rel, name = m.groups()
        if rel == "INBOX":
            src = os.path.join(vals["spool_dir"], u)
        else:
            src = os.path.join(vals["homes_dir"], u, rel)
        pairs.append("%s=%s" % (name, src))
    return pairs


def main():
    reason = dh.available()
    if reason:
        print("1..0 # SKIP %s" % reason)
        return 0
    tmp = tempfile.mkdtemp(prefix="test-runbook-")
    os.chmod(tmp, 0o755)
    boxes = []
    try:
        # ---- 1. the whole runbook ----
        a = os.path.join(tmp, "a")
        boxes.append(a)
        conf = make_sandbox(a, 'homes_to_maildir = true\n'
                            'rbash_users = {"alice"}\n')
        if conf is None:
            return 1
        vals = conf_values(conf)
        # the admin's Dovecot serves POP3 too: test mode leaves it out,
        # the cutover brings it back (a restart, not a reload) with UW's
        # UIDLs
        pop3_port = dh.free_port()
        dconf = os.path.join(a, "dovecot", "dovecot.conf")
        with open(dconf) as f:
            text = f.read()
        text = text.replace(
            "# the runbook's unit",
            "protocols = imap pop3\nservice pop3-login {\n"
            "  inet_listener pop3 {\n    address = 127.0.0.1\n"
            "    port = %d\n  }\n}\n# the runbook's unit" % pop3_port, 1)
        with open(dconf, "w") as f:
            f.write(text)
        passwd = os.path.join(a, "root", "etc", "passwd")
        with open(passwd) as f:
            passwd_before = f.read()
        p1 = run("--config", conf, "--batch", "--yes", "--to", "18")
        # step 19 waits for its Yes and shows every change it
        # will make first: main.cf, the skeleton, homes and shells
        skel = os.path.join(a, "root", "etc", "skel")
        p = run("--config", conf, "--batch", "--resume")
        with open(passwd) as f:
            unchanged = f.read() == passwd_before
        want = ["mail_spool_directory = %s" % vals["target_base"],
                "mkdir %s/cur" % skel, "mkdir %s/tmp" % skel,
                "-d %s/alice -- alice   (now: %s/home/alice)" % (
                    vals["target_base"].rstrip("/"), a),
                "-s /bin/rbash -- alice   (now: ",
                "ln -s bash %s/root/bin/rbash" % a]
        ok(p.returncode == 4 and "step 19 will do this" in p.stdout and
           all(w in p.stdout for w in want) and unchanged and
           not os.path.exists(os.path.join(skel, "cur")),
           "step 19 waiting for --confirm 19 lists main.cf, mkdir of the "
           "skeleton, usermod -d/-s with the old values; nothing done yet",
           [w for w in want if w not in p.stdout] + [out(p)])
        p = run("--config", conf, "--batch", "--yes")
        ok(p1.returncode == 0 and p.returncode == 0,
           "steps 0-22 in --batch --yes", out(p1) + out(p))
        ok((p1.stdout + p.stdout).count(
            "the protocols change: Dovecot is restarted")
           >= 2, "pop3 left out at step 8 and back at step 17: Dovecot "
           "restarted both times, not reloaded", out(p1) + out(p))
        # the IMAP tests (10, 16, 18, 21) log in as every
        # test user, each reported in the log and the step's result
        with open(os.path.join(a, "work", "state")) as f:
            m = re.search(r"test_users = \{(.*)\}", f.read())
        tusers = re.findall(r'"([^"]+)"', m.group(1)) if m else []
        with open(os.path.join(a, "work", "log")) as f:
            logged = set(re.findall(r"\[(\d+)\] \w+: IMAP test as (\S+) on",
                                    f.read()))
        want = set((str(s_), u) for s_ in (10, 16, 18, 21) for u in tusers)
        ok(len(tusers) >= 2 and want <= logged,
           "the IMAP tests 10, 16, 18, 21 log in as each of the %d test "
           "users" % len(tusers), [sorted(want - logged), tusers])
        st = state_of(a)
        ok(len(st) == 23 and all(v == "done" for v in st.values()),
           "every step done in the state", json.dumps(st))
        try:
            with open(os.path.join(a, "work", "report.json")) as f:
                rep = json.load(f)
        except (OSError, ValueError) as e:
            rep = {"error": str(e)}
        ok([s.get("status") for s in rep.get("steps", [])] ==
           ["done"] * 23 and rep.get("messages", 0) > 0,
           "report.json: 23 steps done, messages counted",
           json.dumps(rep)[:2000])
        ok(os.path.exists(os.path.join(a, "work", "report.txt")),
           "report.txt written")
        p = run("verify", "--config", conf)
        ok(verified(p, test_user(a)), "verify: every folder identical to its mbox "
           "(the test user's INBOX has the delivery test's message too)",
           out(p))
        users = sorted(u for u in os.listdir(vals["spool_dir"])
                       if not u.endswith(".lock"))
        port = vals.get("imap_port")
        for user in users:
            pairs = folders_of(a, user)
            q = subprocess.run([TOOL, "--no-modify", "127.0.0.1", port,
                                user, vals["imap_test_password"]] + pairs,
                               capture_output=True, text=True)
            # the delivery test of step 21 added one to the test user's
            # INBOX: counts may be higher there
            lines = [l for l in q.stdout.splitlines()
                     if l.startswith("check")]
            bad = [l for l in lines if "FAILED" in l and
                   not (l.split("\t")[1] in ("counts", "dates") and
                        "INBOX" in l)]
            ok(q.returncode in (0, 1) and len(lines) >= 4 and not bad,
               "IMAP on the normal port as %s: %d folders, login, list, "
               "counts, dates" % (user, len(pairs)),
               q.stdout + q.stderr)
        ok(*pop3_uidl(vals, users, pop3_port))
        p = subprocess.run(["postconf", "-c", os.path.join(a, "postfix"),
                            "-h", "mail_spool_directory"],
                           capture_output=True, text=True)
        ok(p.stdout.strip().rstrip("/") == vals["target_base"].rstrip("/"),
           "postconf: mail_spool_directory is the maildir base",
           p.stdout + p.stderr)
        before = maildir_state(vals["target_base"])
        p = run("--config", conf, "--batch", "--yes")
        ok(p.returncode == 0 and "every step is done" in p.stdout,
           "a second --batch finds every step done", out(p))
        p = run("--config", conf, "--batch", "--yes", "--step", "15",
                "--to", "15", "--force")
        ok(p.returncode == 0, "step 15 again (done: nothing to run)",
           out(p))
        ok(maildir_state(vals["target_base"]) == before,
           "nothing converted twice")
        with open(passwd) as f:
            alice = [l for l in f.read().splitlines()
                     if l.startswith("alice:")]
        ok(alice and alice[0].endswith(":%s/alice:/bin/rbash" %
                                       vals["target_base"].rstrip("/")),
           "step 19: homes set to the maildirs, alice has rbash (usermod)",
           "\n".join(alice))
        # steps 20-22 rely on 19: refused without --yes,
        # undone (or pending again) with it, newest first
        p = run("--config", conf, "--undo", "19")
        ok(p.returncode == 4 and state_of(a).get("postconf") == "done",
           "--undo 19 while 20-22 are done: refused (exit 4)", out(p))
        p = run("--config", conf, "--undo", "19", "--yes")
        with open(passwd) as f:
            after = f.read()
        q = subprocess.run(["postconf", "-c", os.path.join(a, "postfix"),
                            "-h", "mail_spool_directory"],
                           capture_output=True, text=True)
        st = state_of(a)
        ok(p.returncode == 0 and after == passwd_before and
           q.stdout.strip().rstrip("/") !=
           vals["target_base"].rstrip("/") and
           all(st.get(i) == "pending" for i in
               ("postconf", "restart-mail", "double-check", "report")),
           "--undo 19 --yes: 22, 21, 20 first, passwd and main.cf as "
           "before, 19-22 pending", out(p) + q.stdout)

        # ---- 2. kill -9 in steps 9 and 15, resume ----
        big_extra = 'test_users = {"alice"}\n'
        ref = os.path.join(tmp, "ref")
        kil = os.path.join(tmp, "kill")
        boxes += [ref, kil]
        results = {}
        for d, kill in ((ref, False), (kil, True)):
            c = make_sandbox(d, big_extra)
            if c is None:
                return 1
            v = conf_values(c)
            big = os.path.join(v["homes_dir"], "alice", "mail", "big")
            gen_big(big, 8000)
            # UIDVALIDITY of a folder without UW data is its mtime: the
            # same in both sandboxes
            for base in (v["spool_dir"], v["homes_dir"]):
                for dirpath, _, files in os.walk(base):
                    for fn in files:
                        os.utime(os.path.join(dirpath, fn),
                                 (1100000000, 1100000000))
            if kill:
                killed = kill_in(c, d, "folders", [])
                ok(killed, "killed in the middle of step 9")
                p = run("--config", c, "--batch", "--yes", "--resume",
                        "--to", "14")
            else:
                p = run("--config", c, "--batch", "--yes", "--to", "14")
            ok(p.returncode == 0, "steps to 14%s" %
               (" after the kill" if kill else ""), out(p))
            # mail arrived in big after the pre-migration; a header
            # rewritten in the middle forces a full conversion
            rewrite_big(big)
            if kill:
                killed = kill_in(c, d, "final", ["--resume"])
                ok(killed, "killed in the middle of step 15")
            p = run("--config", c, "--batch", "--yes", "--resume")
            ok(p.returncode == 0, "to the end%s" %
               (" after the kill" if kill else ""), out(p))
            p = run("verify", "--config", c)
            ok(verified(p, "alice"), "verify after %s" %
               ("the kills" if kill else "an uninterrupted run"), out(p))
            results[kill] = maildir_state(v["target_base"])
        same = results.get(True) == results.get(False)
        diff = ""
        if not same and True in results and False in results:
            for k in sorted(set(results[True]) | set(results[False])):
                if results[True].get(k) != results[False].get(k):
                    diff += "differs: %s\n" % k
        ok(same and results.get(True),
           "killed and resumed = uninterrupted (UIDs, flags, bytes)", diff)

        # ---- 3. --step N ----
        s = os.path.join(tmp, "step")
        boxes.append(s)
        c = make_sandbox(s)
        if c is None:
            return 1
        p = run("--config", c, "--batch", "--step", "9")
        ok(p.returncode == 2 and "must be done first" in p.stderr,
           "--step 9 refused while step 8 is not done", out(p))
        p = run("--config", c, "--batch", "--step", "9", "--to", "9",
                "--force")
        ok("cannot start" not in p.stderr,
           "--step 9 --force is not refused (it fails on its own: no test "
           "users)", out(p))
        # ---- 4. confirmations ----
        p = run("--config", c, "--batch")
        ok(p.returncode == 4 and "step 1" in p.stdout and
           state_of(s).get("checks") == "done",
           "--batch without --yes stops at step 1's confirmation", out(p))
        p = run("--config", c, "--batch", "--confirm", "1", "--to", "5")
        ok(p.returncode == 4 and state_of(s).get("workdir") == "done",
           "--confirm 1: steps 1-3 run, step 4 waits for the renames",
           out(p))
        p = run("--config", c, "--batch", "--yes", "--to", "8")
        ok(p.returncode == 0, "--yes to step 8", out(p))
        p = run("--config", c, "--batch", "--step", "9", "--to", "9")
        ok(p.returncode == 0 and state_of(s).get("folders") == "done",
           "--step 9 runs when step 8 is done", out(p))
        # a failed login quotes Dovecot's own log line (it says why)
        env = dict(os.environ, MBOX2DOVECOT_IMAP_PASSWORD="wrong")
        p = subprocess.run([PROG, "--config", c, "--batch", "--yes",
                            "--to", "10"], capture_output=True, text=True,
                           env=env, stdin=subprocess.DEVNULL)
        ok(p.returncode == 1 and "Dovecot's log: " in p.stderr and
           "auth failed" in p.stderr and
           "user=<%s>" % test_user(s) in p.stderr,
           "a refused login: the error quotes Dovecot's log (auth failed)",
           out(p))
        p = run("--config", c, "--undo", "8")
        ok(p.returncode == 0 and state_of(s).get("dovecot-test") ==
           "pending", "--undo 8: Dovecot's config back, step pending",
           out(p))
        # ---- 5. doveadm sees every user: a message lost in the maildir
        # of a user who is not the test user stops step 16 ----
        p = run("--config", c, "--batch", "--yes", "--to", "15")
        ok(p.returncode == 0, "steps to 15", out(p))
        v = conf_values(c)
        tu = test_user(s)
        other = [u for u in sorted(os.listdir(v["target_base"]))
                 if u != tu and os.path.isdir(os.path.join(
                     v["target_base"], u, "cur"))][-1]
        cur = os.path.join(v["target_base"], other, "cur")
        victim = sorted(os.listdir(cur))[0]
        os.unlink(os.path.join(cur, victim))
        p = run("--config", c, "--batch", "--yes", "--to", "16")
        ok(p.returncode == 1 and ("FAIL doveadm %s: INBOX" % other)
           in p.stdout and state_of(s).get("imap-test-2") == "failed",
           "a message missing in %s's INBOX: doveadm stops step 16" % other,
           out(p))
    finally:
        for d in boxes:
            stop_sandbox(d)
        if os.environ.get("M2D_KEEP"):
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


def pop3_uidl(vals, users, port):
    """After the cutover: POP3 answers, and every user's first message has
    the UIDL UW's ipop3d gave it (UIDVALIDITY and UID, 8 hex digits each,
    as kept in dovecot-uidlist).  (ok, what, diag) for ok()."""
    import poplib
    diag = []
    for user in users:
        try:
            with open(os.path.join(vals["target_base"], user,
                                   "dovecot-uidlist")) as f:
                lines = f.read().splitlines()
            uidv = int(re.search(r" V(\d+)", lines[0]).group(1))
            want = "%08x%08x" % (uidv, int(lines[1].split()[0]))
            pop = poplib.POP3("127.0.0.1", port, timeout=10)
            pop.user(user)
            pop.pass_(vals["imap_test_password"])
            got = pop.uidl(1).decode().split()[-1]
            pop.quit()
        except (OSError, IndexError, AttributeError, ValueError,
                poplib.error_proto) as e:
            diag.append("%s: %s" % (user, e))
            continue
        if got != want:
            diag.append("%s: UIDL %s, UW's was %s" % (user, got, want))
    return (not diag and users, "POP3 after the cutover: %d users' first "
            "UIDL is UW's" % len(users), diag)


def test_user(d):
    """The first test user, from the state (the delivery test's user)."""
    with open(os.path.join(d, "work", "state")) as f:
        m = re.search(r'test_users = \{"([^"]+)"', f.read())
    return m.group(1) if m else "?"


def verified(p, test_user):
    """verify passed, but for the test user's INBOX, which holds the
    delivery test's message besides the mbox's."""
    extra = [l for l in p.stdout.splitlines()
             if not l.startswith("ok ") and not l.startswith("verified ")]
    if not extra:
        return p.returncode == 0
    m = re.match(r"DIFFERS %s/INBOX: (\d+) messages in the mbox, (\d+) in "
                 r"the maildir$" % test_user, extra[0])
    return len(extra) == 1 and m is not None and \
        int(m.group(2)) == int(m.group(1)) + 1


def gen_big(path, count):
    """An mbox of COUNT messages, as Postfix appends them."""
    with open(path, "w") as f:
        for i in range(count):
            f.write("From sender%d@example.org Mon Jan  3 10:%02d:%02d 2005\n"
                    "From: sender%d@example.org\nSubject: big %d\n"
                    "Message-ID: <big%d@example.org>\n\n%s\n\n"
                    % (i, (i // 60) % 60, i % 60, i, i, i,
                       ("line %d of a body\n" % i) * 20))
    st = os.stat(os.path.dirname(path))
    os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, 0o600)


def rewrite_big(path):
    """Change a message in the middle (not an append: a full conversion)
    and append two new ones."""
    with open(path, "r+") as f:
        data = f.read()
        data = data.replace("Subject: big 4000\n", "Subject: BIG 4000\n",
                            1)
        f.seek(0)
        f.write(data)
        f.write("From late@example.org Tue Jan  4 10:00:00 2005\n"
                "Subject: late\n\nlate mail\n\n")
    os.utime(path, (1100000100, 1100000100))


def kill_in(conf, d, step_id, extra):
    """Start the batch, SIGKILL it while STEP_ID runs and a folder is being
    written.  True when it was killed there."""
    cmd = [PROG, "--config", conf, "--batch", "--yes"] + extra
    env = dict(os.environ)
    env.pop("MBOX2DOVECOT_IMAP_PASSWORD", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    target = conf_values(conf)["target_base"]
    killed = False
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if state_of(d).get(step_id) == "running" and staging(target):
            time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    proc.wait()
    return killed


def staging(target):
    """A folder being written: staging under a user's tmp/."""
    try:
        for user in os.listdir(target):
            t = os.path.join(target, user, "tmp")
            if os.path.isdir(t) and any(e.startswith("m2d-stage")
                                        for e in os.listdir(t)):
                return True
    except OSError:
        pass
    return False


if __name__ == "__main__":
    sys.exit(main())
