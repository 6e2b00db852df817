#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dovecot-conf on a real Dovecot: the test listener, then the cutover.

A private Dovecot (tests/lib/dovecot_harness.py) gets its configuration
edited by `mbox2dovecot dovecot-conf apply`: first the runbook's step 8
(the alternate address and port only, imaps off), then step 17 (the
"normal" ports; here free high ports stand for 143/993).  Each time the
real Dovecot is started with the edited file and must answer IMAP on the
new port, and no longer on the old one; then `undo` gives the file back
byte for byte.

Then the command line does what the runbook does when the protocols
change: a Dovecot serving IMAP and POP3 (started as a daemon, as an init
system would) gets the test listener (pop3 left out), then the normal
ports (pop3 back), each time restarted with the service commands of
mbox2dovecot.conf (a new master process, POP3 gone and back), not
reloaded; an edit that keeps the protocols reloads it (the same master).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
TOP = os.environ.get("M2D_TOP") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import dovecot_harness as dh  # noqa: E402
from tap import Tap  # noqa: E402

PROG = os.path.join(TOP, os.environ.get("BUILD", "build"), "mbox2dovecot")
tap = Tap(max_diag=20)
ok = tap.ok


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.settimeout(5)
            return s.recv(200).startswith(b"* OK")
    except OSError:
        return False


class EditedDovecot(dh.Dovecot):
    """The harness's Dovecot whose config our command edits first."""

    def __init__(self, mail_root, users, workdir, edit_args, port):
        super().__init__(mail_root, users, workdir=workdir)
        self.edit_args = edit_args
        self.new_port = port
        self.edit = None

    def write_config(self):
        super().write_config()
        self.old_port = self.port
        with open(self.conf, "rb") as fp:
            self.before = fp.read()
        self.edit = subprocess.run(
            [PROG, "dovecot-conf", "apply", "--config", "/dev/null",
             "--dovecot-conf", self.conf, "--target", self.mail_root,
             "--work", os.path.join(self.dir, "m2d-work"), "--no-reload"]
            + self.edit_args,
            capture_output=True, text=True)
        if self.edit.returncode != 0:
            raise RuntimeError("dovecot-conf apply: %s" % self.edit.stderr)
        self.port = self.new_port


def master_pid(dc):
    try:
        with open(os.path.join(dc.dir, "run", "master.pid")) as fp:
            return int(fp.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def within(cond, seconds=10):
    """Whether COND() becomes true within SECONDS (Dovecot writes its pid
    file and its log a moment after it answers)."""
    for _ in range(seconds * 10):
        if cond():
            return True
        time.sleep(0.1)
    return False


def new_master(dc, old):
    """The master's pid once it is not OLD (within 10 s), or None."""
    within(lambda: master_pid(dc) not in (None, old))
    pid = master_pid(dc)
    return pid if pid != old else None


def pop3_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.settimeout(5)
            return s.recv(200).startswith(b"+OK")
    except OSError:
        return False


def restart_on_protocols(top, mail):
    """dovecot-conf apply restarts Dovecot when the protocols change."""
    work = os.path.join(top, "restart")
    os.makedirs(work)
    dc = dh.Dovecot(mail, ["alice"], workdir=work, pop3=True)
    dc.write_config()
    conf = dc.conf
    doveadm = "%s -c %s" % (dc.doveadm_bin, conf)
    # Dovecot's master keeps the standard error it was started with:
    # mbox2dovecot, which reads a command's output to its end, would
    # wait forever (the sandbox's bin/dovecot-start does the same)
    start_sh = os.path.join(work, "dovecot-start")
    with open(start_sh, "w") as fp:
        fp.write('#!/bin/sh\nout=%s/dovecot-start.out\n'
                 '%s -c %s </dev/null >"$out" 2>&1\nrc=$?\n'
                 'cat "$out" >&2\nexit $rc\n' % (work, dc.dovecot, conf))
    os.chmod(start_sh, 0o755)
    m2d_conf = os.path.join(work, "mbox2dovecot.conf")
    with open(m2d_conf, "w") as fp:
        fp.write('dovecot_config = "%s"\n'
                 'services_root = "%s"\n'
                 'service dovecot {\n'
                 '  start  = "%s"\n'
                 '  stop   = "%s stop"\n'
                 '  reload = "%s reload"\n'
                 '}\n' % (conf, os.path.join(work, "root"), start_sh,
                          doveadm, doveadm))

    def apply(*args):
        return subprocess.run(
            [PROG, "dovecot-conf", "apply", "--config", m2d_conf,
             "--target", mail, "--work", os.path.join(work, "m2d-work")]
            + list(args), capture_output=True, text=True)

    restarted = "the protocols change: Dovecot is restarted"
    start = subprocess.run([start_sh], capture_output=True, text=True,
                           timeout=60)
    try:
        ok(start.returncode == 0 and within(lambda: answers(dc.port)) and
           within(lambda: pop3_answers(dc.pop3_port)),
           "a Dovecot daemon with protocols imap pop3 answers IMAP on %d "
           "and POP3 on %d" % (dc.port, dc.pop3_port),
           start.stderr + dc.log())
        pid0 = new_master(dc, None)
        test_port = dh.free_port()
        res = apply("--listen", "127.0.0.1:%d" % test_port)
        pid1 = new_master(dc, pid0)
        ok(res.returncode == 0 and restarted in res.stdout,
           "step 8 from the command line (pop3 left out): Dovecot is "
           "restarted, not reloaded", res.stdout + res.stderr)
        ok(pid1 is not None and answers(test_port) and
           not pop3_answers(dc.pop3_port),
           "a new master (%s, was %s) answers IMAP on %d, POP3 is off" % (
               pid1, pid0, test_port), dc.log())
        normal_port = dh.free_port()
        cutover = ["--normal-ports", "--imap-port", str(normal_port),
                   "--imaps-port", "0"]
        res = apply(*cutover)
        pid2 = new_master(dc, pid1)
        ok(res.returncode == 0 and restarted in res.stdout,
           "step 17 from the command line (pop3 back): Dovecot is "
           "restarted", res.stdout + res.stderr)
        ok(pid2 is not None and answers(normal_port) and
           within(lambda: pop3_answers(dc.pop3_port)),
           "a new master (%s, was %s) answers IMAP on %d and POP3 on %d"
           % (pid2, pid1, normal_port, dc.pop3_port), dc.log())
        res = apply(*cutover)
        ok(res.returncode == 0 and restarted not in res.stdout and
           "Dovecot answers on" in res.stdout and master_pid(dc) == pid2 and
           within(lambda: answers(normal_port)),
           "the same protocols again: Dovecot is reloaded (the same "
           "master, %s)" % pid2, res.stdout + res.stderr)
    finally:
        pid = master_pid(dc)
        subprocess.run(doveadm.split() + ["stop"], capture_output=True)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except (OSError, TypeError):
                break
            time.sleep(0.1)


def main():
    why = dh.available()
    if why:
        if os.environ.get("CI"):
            ok(False, "dovecot available (%s)" % why)
            return 1
        tap.skip(why)
        return 0
    top = tempfile.mkdtemp(prefix="m2d-ports-")
    os.chmod(top, 0o755)
    mail = os.path.join(top, "mail")
    os.makedirs(os.path.join(mail, "alice", "cur"))
    for d in ("new", "tmp"):
        os.makedirs(os.path.join(mail, "alice", d))
    uid, gid = dh.mail_owner()
    for root, dirs, files in os.walk(mail):
        os.chown(root, uid, gid)
    phases = [
        ("step 8: the test listener 127.0.0.1:PORT, imaps off",
         lambda p: ["--listen", "127.0.0.1:%d" % p]),
        ("step 17: the normal ports (a free port standing for 143)",
         lambda p: ["--normal-ports", "--imap-port", str(p),
                    "--imaps-port", "0"]),
    ]
    for i, (what, args) in enumerate(phases):
        port = dh.free_port()
        work = os.path.join(top, "dovecot-%d" % i)
        os.makedirs(work)
        dc = EditedDovecot(mail, ["alice"], work, args(port), port)
        try:
            dc.start()
        except Exception as e:  # noqa: BLE001
            ok(False, "%s: Dovecot starts with the edited config" % what, e)
            dc.stop()
            continue
        try:
            ok(answers(port), "%s: Dovecot answers on port %d" % (what, port),
               dc.log())
            ok(not answers(dc.old_port),
               "%s: and no longer on the harness's port %d" % (
                   what, dc.old_port))
            imap = dc.imap("alice")
            typ, _ = imap.select("INBOX")
            ok(typ == "OK", "%s: alice logs in and opens INBOX in the "
               "target's maildir" % what)
            imap.logout()
            if i == 0:
                # the cutover on the running server: apply, reload, probe
                cut = dh.free_port()
                res = subprocess.run(
                    [PROG, "dovecot-conf", "apply", "--config", "/dev/null",
                     "--dovecot-conf", dc.conf, "--target", mail,
                     "--work", os.path.join(work, "cutover"),
                     "--normal-ports", "--imap-port", str(cut),
                     "--imaps-port", "0",
                     "--reload", "%s -c %s reload" % (dc.doveadm_bin,
                                                      dc.conf)],
                    capture_output=True, text=True)
                ok(res.returncode == 0 and answers(cut),
                   "cutover on the running Dovecot: apply reloads it and the "
                   "probe sees it answer on port %d" % cut,
                   res.stdout + res.stderr)
                undo = subprocess.run(
                    [PROG, "dovecot-conf", "undo", "--config", "/dev/null",
                     "--work", os.path.join(work, "cutover"), "--reload",
                     "%s -c %s reload" % (dc.doveadm_bin, dc.conf)],
                    capture_output=True, text=True)
                back = False
                for _ in range(50):   # the reload takes a moment
                    back = answers(port)
                    if back:
                        break
                    time.sleep(0.1)
                ok(undo.returncode == 0 and back,
                   "undo of the cutover reloads: port %d answers again" % port,
                   undo.stdout + undo.stderr)
        except Exception as e:  # noqa: BLE001
            ok(False, "%s: IMAP session" % what, "%s\n%s" % (e, dc.log()))
        finally:
            dc.stop()
        undo = subprocess.run(
            [PROG, "dovecot-conf", "undo", "--config", "/dev/null",
             "--work", os.path.join(work, "m2d-work")],
            capture_output=True, text=True)
        with open(dc.conf, "rb") as fp:
            after = fp.read()
        ok(undo.returncode == 0 and after == dc.before,
           "%s: undo gives the file back byte for byte" % what,
           undo.stderr)
    restart_on_protocols(top, mail)
    subprocess.run(["rm", "-rf", top])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
