#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The checklist-only mode, "mbox2dovecot check", end to end.

On a spool written by tests/tools/gen-spool.py plus planted problems (a
folder name with a '.', a symlink, a tenex file, a fresh dotlock on an
inbox), a copy of /etc/dovecot read by the real doveconf, a main.cf in a
temp dir read by the real "postconf -c DIR", and a scratch root holding
etc/xinetd.d/imap and etc/skel:

  1. text: grouped checklist, the failures with a one-line fix, exit 2;
  2. JSON: parsed and checked against the schema below (keys and types
     by hand), the stable ids, the planted problems found, the Dovecot
     version and the Postfix settings as the tools report them, exit and
     summary consistent;
  3. exit codes: 0 on a clean tree (target on another file system), 1
     with warnings only, 2 with a failure, 3 when it cannot run (no
     spool; bad --format), also in JSON;
  4. nothing changed: every file of the temp tree (spool, homes, configs,
     the planted lock) byte-identical with the same mode and mtime after
     all runs, the target and work dirs never created, the scratch dir
     left empty;
  5. hostile users (as root): in a mode 1777 spool mallory
     creates SPOOL/victim for a user without one, and SPOOL/ghost for no
     user; a folder of the victim is named "x<LF>folder FAKE -> INBOX":
     the forged inbox is a failure naming both owners, ghost is reported
     as no user, and the name is printed escaped (no forged line);
  6. --config FILE of a sandbox: the Dovecot, Postfix dir,
     skeleton, test port and IMAP port the file names, not /etc's; the
     sandbox's running Dovecot found; names to change a warning that
     points to step 4; step 0 with the same file counts the same; after
     step 4 the saved decisions count as decided.

Prints TAP.  Env: M2D_TOP, BUILD; M2D_CHECK_PROG runs another binary
(a temporary main before "check" is in the command table); M2D_KEEP=1.
"""

import hashlib
import json
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

PROG = os.environ.get("M2D_CHECK_PROG") or os.path.join(TOP, BUILD,
                                                        "mbox2dovecot")
GEN = os.path.join(TOP, "tests", "tools", "gen-spool.py")
USERS = ["alice", "bob", "carol"]

GROUPS = ["filesystem", "folders", "sources", "target", "dovecot", "logging",
          "postfix", "uwimap", "accounts", "time"]
IDS = {
    "filesystem": ["inodes", "space", "subdirs"],
    "folders": ["folder_names", "folder_chars"],
    "sources": ["messages", "users_without_inbox", "unreadable",
                "not_owned", "skipped", "special", "mbx", "uw_formats",
                "symlinks",
                "locked"],
    "target": ["target_base", "target_empty", "target_fs"],
    "dovecot": ["dovecot_installed", "dovecot_config",
                "dovecot_mail_location", "dovecot_running",
                "dovecot_test_port"],
    "logging": ["dovecot_logging"],
    "postfix": ["postfix_installed", "postfix_delivery", "postfix_lock"],
    "uwimap": ["uw_services", "uw_listener", "uw_sessions"],
    "accounts": ["account_freeze", "skel_maildir"],
    "time": ["time_estimate"],
}
STATUSES = ("pass", "warn", "fail")


def run(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([PROG, "check"] + args, capture_output=True,
                       text=True, timeout=300, env=e)
    return p.returncode, p.stdout, p.stderr


def snapshot(root):
    """path -> (kind, mode, mtime_ns, sha256 or link target)"""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                snap[rel] = ("link", st.st_mode, os.readlink(path))
            elif os.path.isdir(path):
                snap[rel] = ("dir", st.st_mode, st.st_mtime_ns)
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
                snap[rel] = ("file", st.st_mode, st.st_mtime_ns,
                             st.st_size, h)
            else:
                snap[rel] = ("other", st.st_mode, st.st_mtime_ns)
    return snap


def schema_errors(doc):
    """The JSON schema of "check --format json", checked by hand."""
    errs = []

    def need(obj, key, types, where):
        if key not in obj:
            errs.append("%s: no %r" % (where, key))
            return None
        if not isinstance(obj[key], types) or (
                isinstance(obj[key], bool) and bool not in
                (types if isinstance(types, tuple) else (types,))):
            errs.append("%s.%s: %r is not %s" % (where, key, obj[key],
                                                 types))
            return None
        return obj[key]

    if not isinstance(doc, dict):
        return ["top level is not an object"]
    need(doc, "program", str, "$")
    need(doc, "version", str, "$")
    if need(doc, "schema", int, "$") not in (1, None):
        errs.append("$.schema is not 1")
    status = need(doc, "status", str, "$")
    code = need(doc, "exit", int, "$")
    summary = need(doc, "summary", dict, "$")
    if summary is not None:
        for k in STATUSES:
            need(summary, k, int, "$.summary")
    if status == "error":
        need(doc, "error", str, "$")
        if code != 3:
            errs.append("error status with exit %r" % code)
        return errs
    if status not in STATUSES:
        errs.append("$.status %r" % status)
    checks = need(doc, "checks", list, "$")
    for i, c in enumerate(checks or []):
        w = "$.checks[%d]" % i
        if not isinstance(c, dict):
            errs.append(w + " not an object")
            continue
        for k in ("group", "id", "title", "detail", "fix"):
            need(c, k, str, w)
        if need(c, "status", str, w) not in STATUSES:
            errs.append(w + ".status %r" % c.get("status"))
        figs = need(c, "figures", dict, w)
        for k, v in (figs or {}).items():
            if not isinstance(v, int) or isinstance(v, bool):
                errs.append("%s.figures.%s: %r not an integer" % (w, k, v))
        vals = need(c, "values", dict, w)
        for k, v in (vals or {}).items():
            if not isinstance(v, str):
                errs.append("%s.values.%s: %r not a string" % (w, k, v))
        ents = need(c, "entries", list, w)
        total = need(c, "entries_total", int, w)
        if ents is not None and total is not None and total < len(ents):
            errs.append(w + ".entries_total < len(entries)")
        for j, e in enumerate(ents or []):
            ew = "%s.entries[%d]" % (w, j)
            if not isinstance(e, dict):
                errs.append(ew + " not an object")
                continue
            for k in ("subject", "kind", "text"):
                need(e, k, str, ew)
            if "suggestion" not in e or not (
                    e["suggestion"] is None or
                    isinstance(e["suggestion"], str)):
                errs.append(ew + ".suggestion not a string or null")
        if c.get("status") == "pass" and c.get("fix") != "":
            errs.append(w + ": a pass with a fix")
        if c.get("status") in ("warn", "fail") and not c.get("fix"):
            errs.append(w + ": a %s without a fix" % c.get("status"))
        if "\n" in c.get("detail", "") or "\n" in c.get("fix", ""):
            errs.append(w + ": more than one line")
    if checks is not None and summary is not None:
        for k in STATUSES:
            n = sum(1 for c in checks if c.get("status") == k)
            if summary.get(k) != n:
                errs.append("summary.%s %r, counted %d" % (k, summary.get(k),
                                                           n))
        worst = max([STATUSES.index(c.get("status", "pass"))
                     for c in checks] + [0])
        if code != worst or status != STATUSES[worst]:
            errs.append("exit %r / status %r, worst check %s" %
                        (code, status, STATUSES[worst]))
    return errs


def by_id(doc):
    return {c["id"]: c for c in doc.get("checks", [])}


def hostile(t, tmp, scratch):
    """Hostile users: ownership, users from passwd, escaped names."""
    if os.geteuid() != 0:
        t.skip("not root: the ownership checks chown files")
        return
    d = os.path.join(tmp, "hostile")
    spool = os.path.join(d, "spool")
    homes = os.path.join(d, "home")
    root = os.path.join(d, "root")
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(spool)
    os.chmod(spool, 0o1777)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("mallory:x:5001:5001::%s/mallory:/bin/sh\n"
                "victim:x:5002:5002::%s/victim:/bin/sh\n" % (homes, homes))
    msg = "From x@y Tue Nov  9 10:11:12 2004\nSubject: s\n\nhi\n\n"
    evil = "x\nfolder FAKE -> INBOX"
    files = {os.path.join(spool, "mallory"): 5001,
             os.path.join(spool, "victim"): 5001,     # forged by mallory
             os.path.join(spool, "ghost"): 5001,      # no such user
             os.path.join(homes, "victim", "mail", evil): 5002}
    for path, uid in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(msg)
        os.chown(path, uid, uid)
    for u, uid in (("mallory", 5001), ("victim", 5002)):
        os.makedirs(os.path.join(homes, u, "mail"), exist_ok=True)
        os.chown(os.path.join(homes, u), uid, uid)
        os.chown(os.path.join(homes, u, "mail"), uid, uid)
    conf = os.path.join(d, "m.conf")
    with open(conf, "w") as f:
        f.write('accounts_root = "%s"\nuid_min = 5001\nuid_max = 5002\n'
                % root)
    args = ["--config", conf, "--spool", spool, "--homes", homes,
            "--target", os.path.join(d, "target"), "--work",
            os.path.join(d, "work"), "--scratch", scratch,
            "--root", root, "--test-port", "127.0.0.1:1"]
    rc, out, err = run(args + ["--format", "json"], {"TMPDIR": scratch})
    doc = json.loads(out) if out.startswith("{") else {}
    no = by_id(doc).get("not_owned", {})
    ents = {e["subject"]: e for e in no.get("entries", [])}
    forged = ents.get("victim/INBOX", {})
    t.ok(no.get("status") == "fail" and forged.get("kind") == "owner" and
         "uid 5001 (mallory)" in forged.get("text", "") and
         "victim" in forged.get("text", ""),
         "hostile: SPOOL/victim made by mallory is refused, both owners "
         "named", [no, err])
    ghost = ents.get(os.path.join(spool, "ghost"), {})
    t.ok(ghost.get("kind") == "no_user" and "passwd" in ghost.get("text", "")
         and "ghost" not in [u for u in doc.get("users", [])],
         "hostile: SPOOL/ghost (not in passwd) is no user, and said so",
         [ghost])
    m = by_id(doc).get("messages", {}).get("figures", {})
    t.ok(m.get("users") == 2, "hostile: the users are passwd's (2)", [m])
    rc, out, err = run(args, {"TMPDIR": scratch})
    lines = out.splitlines()
    t.ok(not any(l.startswith("folder FAKE") for l in lines) and
         any("x\\nfolder FAKE -> INBOX" in l for l in lines),
         "hostile: a folder name with a newline is printed escaped, no "
         "forged line", [l for l in lines if "FAKE" in l] or [out])


def conf_values(path):
    """KEY = "VALUE" / KEY = N lines of a mbox2dovecot.conf."""
    vals = {}
    with open(path) as f:
        for line in f:
            k, sep, v = line.partition("=")
            if sep and not line.startswith((" ", "#")):
                vals[k.strip()] = v.strip().strip('"')
    return vals


def configured(t, tmp, scratch):
    """--check --config FILE checks the Dovecot, Postfix,
    skeleton, services and ports the file names (a sandbox: its private
    Dovecot running, a real "postconf -c DIR"), as step 0 does with the
    same file, and the names decided at step 4 count as decided."""
    sb = os.path.join(tmp, "sandbox")
    os.chmod(tmp, 0o711)    # Dovecot's processes reach the sandbox
    p = subprocess.run([PROG, "sandbox", sb, "--users", "3"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        t.ok(False, "config: the sandbox is built", [p.stdout, p.stderr])
        return
    conf = os.path.join(sb, "mbox2dovecot.conf")
    want = conf_values(conf)
    env = {"TMPDIR": scratch}
    try:
        args = ["--config", conf, "--scratch", scratch]
        rc, out, err = run(args + ["--format", "json"], env)
        doc = json.loads(out) if out.startswith("{") else {}
        c = by_id(doc)
        bad = [(x["id"], x["detail"]) for x in doc.get("checks", [])
               if x["status"] == "fail"]
        t.ok(rc == 1 and not bad, "config: no failure on the configured "
             "system (exit %d)" % rc, [err] + bad)
        got = {
            "dovecot_config": c.get("dovecot_config", {}).get(
                "values", {}).get("path"),
            "postfix_config_dir": c.get("postfix_installed", {}).get(
                "values", {}).get("config_dir"),
            "skel_dir": c.get("skel_maildir", {}).get(
                "values", {}).get("path"),
            "imap_port": str(c.get("uw_listener", {}).get(
                "figures", {}).get("imap_port")),
        }
        t.ok(all(got[k] == want.get(k) for k in got),
             "config: Dovecot config, Postfix dir, skeleton and IMAP port "
             "are the file's, not /etc's", [got, want])
        run_ = c.get("dovecot_running", {})
        t.ok(run_.get("status") == "pass" and
             run_.get("figures", {}).get("pid", 0) > 0 and
             run_.get("values", {}).get("pidfile", "").startswith(sb),
             "config: the sandbox's running Dovecot is found", [run_])
        tp = c.get("dovecot_test_port", {})
        t.ok(("%s:%s" % (want.get("test_address"), want.get("test_port")))
             in tp.get("detail", ""), "config: the configured test port",
             [tp])
        fn = c.get("folder_names", {})
        t.ok(fn.get("status") == "warn" and fn.get("entries") and
             "step 4" in fn.get("fix", ""),
             "config: names to change are a warning pointing to step 4",
             [fn])
        summary = doc.get("summary", {})
        rc, out, err = run(args, env)
        t.ok(not any("rename them on disk" in l or
                     l.startswith("  [FAIL]") for l in out.splitlines()),
             "config: text has no [FAIL] and no 'rename them on disk'",
             [out])

        # step 0 with the same file: the same checks, the same counts;
        # then step 4's decisions (saved) count as decided
        p = subprocess.run([PROG, "--batch", "--yes", "--to", "4",
                            "--config", conf], capture_output=True,
                           text=True, timeout=300, env=dict(os.environ,
                                                            **env))
        st = subprocess.run([PROG, "--status", "--config", conf],
                            capture_output=True, text=True, timeout=60)
        step0 = [l for l in st.stdout.splitlines()
                 if l.split()[:1] == ["0"]]
        line = "%d passed, %d warnings, %d failed" % (
            summary.get("pass", -1), summary.get("warn", -1),
            summary.get("fail", -1))
        t.ok(p.returncode == 0 and step0 and line in step0[0],
             "config: step 0 reports what --check reported (%s)" % line,
             [p.stdout[-2000:], p.stderr[-2000:], step0])
        rc, out, err = run(args + ["--format", "json"], env)
        doc = json.loads(out) if out.startswith("{") else {}
        fn2 = by_id(doc).get("folder_names", {})
        t.ok(fn2.get("status") == "pass" and
             fn2.get("figures", {}).get("decided") ==
             len(fn.get("entries", [])) > 0,
             "config: after step 4, the saved decisions count as decided",
             [fn2])
    finally:
        subprocess.run([PROG, "sandbox", "--stop", sb], capture_output=True,
                       timeout=60)


def main():
    t = Tap()
    if not os.access(PROG, os.X_OK):
        t.ok(False, "program %s exists" % PROG)
        return t.done()
    rc, out, err = run(["--help"])
    if rc != 0 or "--format" not in out:
        t.skip("%s has no check command yet" % PROG)
        return t.done()
    for tool in ("doveconf", "dovecot", "postconf"):
        if shutil.which(tool) is None:
            t.skip("%s not installed" % tool)
            return t.done()

    tmp = tempfile.mkdtemp(prefix="m2d-check-")
    scratch = tempfile.mkdtemp(prefix="m2d-check-scratch-")
    shm = None
    try:
        tree = os.path.join(tmp, "tree")
        os.mkdir(tree)
        gen = os.path.join(tree, "gen")
        subprocess.run([sys.executable, GEN, "--seed", "4", "--out", gen,
                        "--users", str(len(USERS)), "--messages", "8"],
                       check=True, capture_output=True)
        spool = os.path.join(gen, "spool")
        homes = os.path.join(gen, "home")
        users = sorted(os.listdir(spool))
        alice = users[0]
        mail = os.path.join(homes, alice, "mail")
        # planted problems: a name with a '.', a symlink, a tenex file (a
        # UW format not converted), a lock
        with open(os.path.join(mail, "a.b"), "w") as f:
            f.write("From x@y Tue Nov  9 10:11:12 2004\n\nhi\n\n")
        os.symlink("/etc/passwd", os.path.join(mail, "pw-link"))
        with open(os.path.join(mail, "old"), "w") as f:
            f.write(" 7-Dec-2026 10:00:00 +0200,9;000000000001\n"
                    "Subject: x\n")
        with open(os.path.join(spool, alice + ".lock"), "w"):
            pass

        # Dovecot's config, copied; Postfix's main.cf with procmail
        dconf = os.path.join(tree, "dovecot")
        shutil.copytree("/etc/dovecot", dconf, symlinks=True)
        pfdir = os.path.join(tree, "postfix")
        os.mkdir(pfdir)
        with open(os.path.join(pfdir, "main.cf"), "w") as f:
            f.write("mail_spool_directory = /var/mail\n"
                    "mailbox_command = /usr/bin/procmail -a \"$EXTENSION\"\n"
                    "compatibility_level = 3.6\n")
        pfclean = os.path.join(tree, "postfix-clean")
        os.mkdir(pfclean)
        with open(os.path.join(pfclean, "main.cf"), "w") as f:
            f.write("mail_spool_directory = /var/mail\n"
                    "compatibility_level = 3.6\n")
        root = os.path.join(tree, "root")
        os.makedirs(os.path.join(root, "etc", "xinetd.d"))
        os.makedirs(os.path.join(root, "etc", "skel"))
        with open(os.path.join(root, "etc", "xinetd.d", "imap"), "w") as f:
            f.write("service imap\n{\n\tsocket_type = stream\n"
                    "\tserver = /usr/sbin/imapd\n\tdisable = no\n}\n")
        cleanroot = os.path.join(tree, "cleanroot")
        os.makedirs(os.path.join(cleanroot, "etc"))

        target = os.path.join(tree, "target", "mail2")
        work = os.path.join(tree, "work")
        before = snapshot(tree)

        common = ["--spool", spool, "--homes", homes, "--target", target,
                  "--work", work, "--users", ",".join(users),
                  "--dovecot-conf", os.path.join(dconf, "dovecot.conf"),
                  "--postfix-dir", pfdir, "--root", root,
                  "--scratch", scratch, "--test-port", "127.0.0.1:1"]
        # port 1: nothing listens there on a test machine
        env = {"TMPDIR": scratch}

        # 1. text
        rc, out, err = run(common, env)
        t.ok(rc == 1, "text: exit 1 with warnings only", [rc, err, out])
        titles = ["Target file system", "Folder names", "Sources", "Target",
                  "Dovecot", "Logging", "Postfix", "UW-IMAP", "Accounts",
                  "Time"]
        lines = out.splitlines()
        t.ok(all(x in lines for x in titles),
             "text: every group has its heading", [out])
        # a name to change is decided at runbook step 4: a warning that
        # says so, never "[FAIL] ... rename them on disk"
        fail = [l for l in lines if l.startswith("  [WARN] Folder names")]
        t.ok(len(fail) == 1 and "a.b" in fail[0] and
             not any("rename them on disk" in l for l in lines),
             "text: the folder name to change is a warning", [out])
        i = lines.index(fail[0]) if fail else 0
        t.ok(any(l.strip().startswith("fix:") and "step 4" in l
                 for l in lines[i:i + 6]) and
             any('"a_b"' in l for l in lines[i:i + 6]),
             "text: with its suggestion and a fix naming step 4",
             lines[i:i + 6])
        t.ok(any("[WARN] Postfix local delivery" in l and "procmail" in l
                 for l in lines), "text: mailbox_command is a warning",
             [out])
        t.ok(len(lines) <= 60, "text: fits one screen (%d lines)" %
             len(lines), [out])
        t.ok(lines[-1].startswith(tuple("0123456789")) and
             "failed" in lines[-1], "text: ends with the counts",
             lines[-1:])

        # 2. JSON
        rc, out, err = run(common + ["--format", "json"],
                           dict(env, LANG="de_DE.UTF-8",
                                LANGUAGE="de"))
        try:
            doc = json.loads(out)
        except ValueError as e:
            doc = {}
            t.ok(False, "json: parses", [e, out[:2000]])
        else:
            t.ok(True, "json: parses")
        errs = schema_errors(doc)
        t.ok(not errs, "json: matches the schema", errs)
        t.ok(doc.get("exit") == rc == 1 and doc.get("status") == "warn",
             "json: exit 1, status warn", [rc, doc.get("status")])
        ids = [(c["group"], c["id"]) for c in doc.get("checks", [])]
        want = [(g, i) for g in GROUPS for i in IDS[g]]
        t.ok(ids == want, "json: every stable id, in checklist order",
             ["got  %s" % ids, "want %s" % want])
        c = by_id(doc)
        fn = c.get("folder_names", {})
        t.ok(fn.get("status") == "warn" and any(
            e["subject"] == alice + "/mail/a.b" and e["suggestion"] == "a_b"
            and e["kind"] == "dot" for e in fn.get("entries", [])),
            "json: folder a.b, kind dot, suggestion a_b", [fn])
        sym = c.get("symlinks", {})
        t.ok(sym.get("status") == "warn" and sym["figures"].get("count") == 1,
             "json: the symlink is a warning", [sym])
        mbx = c.get("mbx", {})
        t.ok(mbx.get("status") == "warn" and mbx["figures"].get("count") == 1,
             "json: the tenex folder is a warning", [mbx])
        lk = c.get("locked", {})
        t.ok(lk.get("status") == "warn" and
             [e["subject"] for e in lk.get("entries", [])] ==
             [alice + "/INBOX"], "json: the locked inbox", [lk])
        # the truth about the messages: the manifest
        with open(os.path.join(gen, "manifest.json")) as f:
            man = json.load(f)
        nmsg = sum(len(fo["messages"]) for u in man["users"].values()
                   for fo in u["folders"])   # a.b is not taken
        m = c.get("messages", {}).get("figures", {})
        t.ok(m.get("messages") == nmsg and m.get("users") == len(users),
             "json: %d messages counted, as in the manifest" % nmsg, [m])
        dv = subprocess.run(["dovecot", "--version"], capture_output=True,
                            text=True).stdout.split()[0]
        got = c.get("dovecot_installed", {}).get("values", {})
        t.ok(dv.startswith(got.get("version", "?")),
             "json: Dovecot's version as dovecot --version says", [dv, got])
        ml = subprocess.run(["doveconf", "-c",
                             os.path.join(dconf, "dovecot.conf"), "-h",
                             "mail_location"], capture_output=True,
                            text=True).stdout.strip()
        got = c.get("dovecot_mail_location", {}).get("values", {})
        t.ok(got.get("mail_location") == ml,
             "json: the mail location doveconf reads", [ml, got])
        lg = c.get("dovecot_logging", {}).get("values", {})
        t.ok(set(lg) == {"log_path", "info_log_path", "debug_log_path",
                         "syslog_facility"} and lg.get("syslog_facility"),
             "json: where Dovecot logs", [lg])
        pd = c.get("postfix_delivery", {})
        t.ok(pd.get("status") == "warn" and pd["values"].get(
            "mailbox_command", "").startswith("/usr/bin/procmail") and
            pd["values"].get("mail_spool_directory") == "/var/mail",
            "json: postconf -c DIR read main.cf", [pd])
        pv = subprocess.run(["postconf", "-d", "-h", "mail_version"],
                            capture_output=True, text=True).stdout.strip()
        got = c.get("postfix_installed", {}).get("values", {})
        t.ok(got.get("version") == pv and got.get("config_dir") == pfdir,
             "json: Postfix version and config dir", [pv, got])
        uw = c.get("uw_services", {})
        t.ok(uw.get("figures", {}).get("enabled") == 1 and
             "xinetd.d/imap" in uw.get("values", {}).get("files", ""),
             "json: UW-IMAP enabled in xinetd.d/imap", [uw])
        tm = c.get("time_estimate", {}).get("figures", {})
        t.ok(tm.get("sample_folders", 0) >= 1 and
             tm.get("rate_bytes_per_s", 0) > 0 and "full_s" in tm and
             "cutover_s" in tm and "full_ms" in tm and
             "cutover_ms" in tm and
             tm.get("full_low_ms", 0) <= tm.get("full_ms", -1) <=
             tm.get("full_high_ms", -1),
             "json: the time estimate from a sample",
             [tm])
        t.ok(all(ord(ch) < 128 for ch in (fn.get("detail", "") +
                                           fn.get("fix", ""))),
             "json: texts are not translated", [fn.get("detail")])

        # 3. exit codes
        shm = tempfile.mkdtemp(prefix="m2d-check-", dir="/dev/shm") \
            if os.path.isdir("/dev/shm") else None
        clean = ["--spool", spool, "--homes", homes,
                 "--users", ",".join(users[1:]),
                 "--target", os.path.join(shm or tree, "never", "mail2"),
                 "--work", work,
                 "--dovecot-conf", os.path.join(dconf, "dovecot.conf"),
                 "--postfix-dir", pfclean, "--root", cleanroot,
                 "--scratch", scratch, "--test-port", "127.0.0.1:1",
                 "--format", "json"]
        rc, out, err = run(clean, env)
        doc = json.loads(out) if out.startswith("{") else {}
        bad = [(x["id"], x["status"], x["detail"])
               for x in doc.get("checks", []) if x["status"] != "pass"]
        if shm is None:
            t.skip("no second file system (/dev/shm) for a clean target")
        else:
            t.ok(rc == 0 and doc.get("status") == "pass",
                 "exit 0 when every check passes", [rc, err] + bad)
        warn = list(clean)
        warn[warn.index("--postfix-dir") + 1] = pfdir
        rc, out, err = run(warn, env)
        doc = json.loads(out) if out.startswith("{") else {}
        t.ok(rc == 1 and doc.get("status") == "warn",
             "exit 1 with warnings only (mailbox_command)",
             [rc, err] + [(x["id"], x["status"]) for x in
                          doc.get("checks", []) if x["status"] != "pass"])
        fail = list(clean)
        nomain = os.path.join(tree, "postfix-empty")
        os.mkdir(nomain)
        fail[fail.index("--postfix-dir") + 1] = nomain
        rc, out, err = run(fail, env)
        doc = json.loads(out) if out.startswith("{") else {}
        t.ok(rc == 2 and doc.get("status") == "fail" and
             by_id(doc).get("postfix_installed", {}).get("status") ==
             "fail", "exit 2 with a failure (no main.cf)",
             [rc, err] + [(x["id"], x["status"]) for x in
                          doc.get("checks", []) if x["status"] != "pass"])
        os.rmdir(nomain)
        rc, out, err = run(["--spool", os.path.join(tmp, "nospool"),
                            "--homes", homes, "--target", target,
                            "--work", work, "--format", "json"], env)
        doc = json.loads(out) if out.startswith("{") else {}
        t.ok(rc == 3 and doc.get("status") == "error" and doc.get("error")
             and not schema_errors(doc),
             "exit 3 when it cannot run (no spool), JSON says why",
             [rc, out, err])
        rc, out, err = run(["--format", "yaml"], env)
        t.ok(rc == 3 and err, "exit 3 on a bad command line", [rc, err])

        # 4. nothing changed
        after = snapshot(tree)
        diff = sorted(k for k in set(before) | set(after)
                      if before.get(k) != after.get(k))
        t.ok(not diff, "the tree is byte-identical after %d files" %
             len(before), ["%s: %s -> %s" % (k, before.get(k), after.get(k))
                           for k in diff])
        t.ok(not os.path.exists(os.path.join(tree, "target")) and
             not os.path.exists(work), "no target or work dir created")
        t.ok(os.listdir(scratch) == [], "the scratch dir is left empty",
             os.listdir(scratch))

        # 5. hostile users
        hostile(t, tmp, scratch)
        # 6. --config FILE: the configured system, as step 0
        configured(t, tmp, scratch)
    finally:
        if os.environ.get("M2D_KEEP"):
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
        if shm:
            shutil.rmtree(shm, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
