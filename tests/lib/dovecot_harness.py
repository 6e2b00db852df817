# SPDX-License-Identifier: MIT
"""A private, real Dovecot (2.3, or 2.4) for the integration tests.

    from dovecot_harness import Dovecot, mail_owner

    uid, gid = mail_owner()
    with Dovecot(mail_root="/tmp/x/target", users=["alice"],
                 uid=uid, gid=gid) as dc:
        imap = dc.imap("alice")          # imaplib.IMAP4, logged in
        out = dc.doveadm("mailbox", "list", "-u", "alice").stdout

Everything lives in a temporary directory of its own: dovecot.conf,
the passwd file, base_dir (run/), state_dir, and dovecot.log.  Dovecot
listens on 127.0.0.1 on a free high port only (imaps disabled), with a
unique instance_name, so it never touches a system Dovecot or another test.
It runs in the foreground (dovecot -F) as our child; stopping it is SIGTERM
to that child (what "doveadm -c CONF stop" does through the pid file), then
SIGKILL after 15 s; an atexit hook stops it if the caller dies first.

mail_location = maildir:MAIL_ROOT/%u, so user U's maildir is MAIL_ROOT/U
(INBOX at its root, folder a/b in .a.b/: Maildir++).  The namespace separator
is "/", as users had under UW-IMAP.  Dovecot refuses mail access as root, so
the maildirs must belong to a non-root uid/gid (mail_owner()), and every
directory on the way must be traversable (the harness chmods its own temp
dirs 0755; make_traversable() does the same for the caller's).

On an exception inside the "with", or when .failed was set, the log is
printed as TAP comments ("# ...") before Dovecot is stopped.

$M2D_DOVECOT_BINDIR, when set, is a directory whose dovecot, doveconf and
doveadm are used instead of the system's: tests/tools/check-dovecot24.sh
points it at wrappers running the Dovecot 2.4 of a chroot.  The
configuration is then written in the syntax of the version that dovecot
--version reports (2.4: mail_driver, mail_path, passdb NAME {...}).
"""

import atexit
import base64
import imaplib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_PASSWORD = "pw"


def find_program(name):
    """Path of a Dovecot program ($M2D_DOVECOT_BINDIR's first), also when
    /usr/sbin is not in PATH."""
    bindir = os.environ.get("M2D_DOVECOT_BINDIR")
    if bindir:
        cand = os.path.join(bindir, name)
        return cand if os.access(cand, os.X_OK) else None
    p = shutil.which(name)
    if p:
        return p
    for d in ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"):
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


def available():
    """None when Dovecot can run here, else the reason it cannot."""
    if not find_program("dovecot"):
        return "dovecot not installed"
    if not find_program("doveadm"):
        return "doveadm not installed"
    if os.geteuid() != 0:
        return "not root (the test Dovecot runs as root)"
    return None


def mail_owner():
    """(uid, gid) the maildirs belong to: $M2D_TEST_OWNER ("UID:GID"), else
    nobody:nogroup (65534:65534).  Never root: Dovecot refuses it."""
    spec = os.environ.get("M2D_TEST_OWNER")
    if spec:
        u, g = spec.split(":")
        return int(u), int(g)
    return 65534, 65534


def is_v24(dovecot=None):
    """True when DOVECOT (default: find_program's) is 2.4 or later."""
    prog = dovecot or find_program("dovecot")
    r = subprocess.run([prog, "--version"], capture_output=True, text=True)
    m = re.match(r"(\d+)\.(\d+)", r.stdout.strip())
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (2, 4)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_traversable(path):
    """chmod a+x every directory from PATH up to / that lacks it (a
    mkdtemp() directory is 0700; Dovecot's processes run as other users)."""
    path = os.path.abspath(path)
    while True:
        try:
            st = os.stat(path)
            if (st.st_mode & 0o111) != 0o111:
                os.chmod(path, (st.st_mode & 0o7777) | 0o755)
        except FileNotFoundError:
            pass
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent


# ---- modified UTF-7 (RFC 3501 5.1.3) ------------------------------------

def mutf7_decode(s):
    """Modified UTF-7 mailbox name (str or bytes) -> str."""
    if isinstance(s, bytes):
        s = s.decode("ascii")
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "&":
            out.append(c)
            i += 1
            continue
        j = s.index("-", i)
        if j == i + 1:
            out.append("&")
        else:
            b64 = s[i + 1:j].replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = j + 1
    return "".join(out)


def mutf7_encode(s):
    """str -> modified UTF-7 mailbox name (str)."""
    out = []
    buf = []

    def flush():
        if buf:
            b = base64.b64encode("".join(buf).encode("utf-16-be")).decode()
            out.append("&" + b.rstrip("=").replace("/", ",") + "-")
            del buf[:]
    for c in s:
        if 0x20 <= ord(c) <= 0x7e:
            flush()
            out.append("&-" if c == "&" else c)
        else:
            buf.append(c)
    flush()
    return "".join(out)


def imap_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_astring(data, pos):
    """Parse an IMAP quoted string, NIL or atom at data[pos:] (bytes);
    return (value bytes or None, new pos)."""
    while pos < len(data) and data[pos:pos + 1] == b" ":
        pos += 1
    if data[pos:pos + 1] == b'"':
        pos += 1
        val = bytearray()
        while data[pos:pos + 1] != b'"':
            if data[pos:pos + 1] == b"\\":
                pos += 1
            val += data[pos:pos + 1]
            pos += 1
        return bytes(val), pos + 1
    m = re.compile(rb"[^ ()]+").match(data, pos)
    tok = m.group(0)
    return (None if tok.upper() == b"NIL" else tok), m.end()


def imap_list(imap, ref="", pattern="*"):
    """LIST -> [(flags set, delimiter, name decoded to UTF-8)]."""
    typ, data = imap.list(imap_quote(ref), imap_quote(pattern))
    if typ != "OK":
        raise RuntimeError("LIST failed: %r" % (data,))
    out = []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):       # name sent as a literal
            head, name = item[0], item[1]
            m = re.match(rb"\((.*?)\) (\S+) ", head)
            flags, delim = m.group(1), m.group(2)
        else:
            m = re.match(rb"\((.*?)\) ", item)
            flags = m.group(1)
            delim, pos = _parse_astring(item, m.end())
            name, _ = _parse_astring(item, pos)
            delim = delim or b""
        out.append((set(flags.decode().split()), delim.decode().strip('"'),
                    mutf7_decode(name)))
    return out


MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def internaldate_epoch(text):
    """'17-Oct-1999 10:54:46 +0000' -> UTC epoch (int)."""
    import calendar
    m = re.match(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) "
                 r"([+-])(\d\d)(\d\d)", text)
    if not m:
        raise ValueError("bad INTERNALDATE %r" % text)
    d, mon, y, hh, mm, ss, sign, oh, om = m.groups()
    t = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh), int(mm),
                         int(ss), 0, 0, 0))
    off = (int(oh) * 60 + int(om)) * 60
    return t - off if sign == "+" else t + off


def fetch_all(imap, mailbox):
    """EXAMINE-free full read: SELECT MAILBOX, then
    UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]).
    Returns (select info dict, {uid: {"flags", "internaldate", "size",
    "body"}}).  SELECT (not EXAMINE) so that \\Recent is given out."""
    typ, data = imap.select(imap_quote(mutf7_encode(mailbox)))
    if typ != "OK":
        raise RuntimeError("SELECT %s failed: %r" % (mailbox, data))
    info = {"exists": int(data[0])}
    for key in ("UIDVALIDITY", "UIDNEXT", "RECENT"):
        typ, val = imap.response(key)
        if val and val[0] is not None:
            info[key.lower()] = int(val[0])
    msgs = {}
    if info["exists"] == 0:
        return info, msgs
    typ, data = imap.uid("FETCH", "1:*",
                         "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    if typ != "OK":
        raise RuntimeError("FETCH in %s failed: %r" % (mailbox, data))
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, body = item[0], item[1]
        m_uid = re.search(rb"UID (\d+)", head)
        m_flags = re.search(rb"FLAGS \(([^)]*)\)", head)
        m_date = re.search(rb'INTERNALDATE "([^"]+)"', head)
        m_size = re.search(rb"RFC822\.SIZE (\d+)", head)
        uid = int(m_uid.group(1))
        msgs[uid] = {
            "flags": set(m_flags.group(1).decode().split()),
            "internaldate": internaldate_epoch(m_date.group(1).decode()),
            "size": int(m_size.group(1)),
            "body": body,
        }
    return info, msgs


CONF_23 = """\
# written by tests/lib/dovecot_harness.py
base_dir = {d}/run
state_dir = {d}/state
instance_name = {instance}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = {d}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
first_valid_uid = 1
first_valid_gid = 1
mail_privileged_group =
mail_location = maildir:{root}/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{pop3}{extra}
"""

# the same in 2.4 syntax (as src/host/sandbox.c writes it); the INBOX at
# the maildir's root named, or Debian's 10-mail.conf default would count
CONF_24 = """\
dovecot_config_version = 2.4.0
# written by tests/lib/dovecot_harness.py
dovecot_storage_version = 2.4.0
base_dir = {d}/run
state_dir = {d}/state
instance_name = {instance}
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain
log_path = {d}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
first_valid_uid = 1
first_valid_gid = 1
mail_privileged_group =
mail_driver = maildir
mail_path = {root}/%{{user}}
mail_inbox_path = {root}/%{{user}}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb passwd-file {{
  passwd_file_path = {passwd}
}}
userdb passwd-file {{
  passwd_file_path = {passwd}
}}
service imap-login {{
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{pop3}{extra}
"""


class Dovecot:
    def __init__(self, mail_root, users, uid=None, gid=None,
                 password=DEFAULT_PASSWORD, workdir=None, extra_conf="",
                 pop3=False):
        """MAIL_ROOT: maildirs are MAIL_ROOT/USER.  USERS: names.  UID/GID:
        owner of the maildirs (default mail_owner()).  POP3: also serve
        POP3 on another free port of 127.0.0.1 (.pop3_port, .pop3(); needs
        dovecot-pop3d); off by default."""
        if uid is None or gid is None:
            uid, gid = mail_owner()
        self.mail_root = os.path.abspath(mail_root)
        self.users = list(users)
        self.uid, self.gid = uid, gid
        self.password = password
        self.extra_conf = extra_conf
        self.pop3_enabled = pop3
        self.pop3_port = None
        self.dir = workdir or tempfile.mkdtemp(prefix="m2d-dovecot-")
        self.own_dir = workdir is None
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.port = None
        self.proc = None
        self.failed = False
        self.dovecot = find_program("dovecot")
        self.doveadm_bin = find_program("doveadm")

    # ---- configuration ------------------------------------------------
    def write_config(self):
        os.makedirs(self.dir, exist_ok=True)
        make_traversable(self.dir)
        make_traversable(self.mail_root)
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as fp:
            for u in self.users:
                fp.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (
                    u, self.password, self.uid, self.gid,
                    os.path.join(self.mail_root, u)))
        os.chmod(passwd, 0o644)
        self.port = free_port()
        protocols = "imap"
        pop3_conf = ""
        if self.pop3_enabled:
            self.pop3_port = free_port()
            protocols = "imap pop3"
            pop3_conf = """service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {p}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""".format(p=self.pop3_port)
        instance = "m2d-test-%d-%d" % (os.getpid(), self.port)
        v24 = is_v24(self.dovecot)
        if v24:
            pop3_conf = pop3_conf.replace("address =", "listen =")
        conf = (CONF_24 if v24 else CONF_23).format(
            d=self.dir, instance=instance, root=self.mail_root,
            passwd=passwd, port=self.port, extra=self.extra_conf,
            protocols=protocols, pop3=pop3_conf)
        with open(self.conf, "w") as fp:
            fp.write(conf)
        os.chmod(self.conf, 0o644)

    # ---- start / stop -------------------------------------------------
    def start(self, timeout=20):
        self.write_config()
        chk = subprocess.run([find_program("doveconf") or "doveconf", "-c",
                              self.conf, "-n"], capture_output=True,
                             text=True)
        if chk.returncode != 0:
            raise RuntimeError("doveconf rejected %s: %s"
                               % (self.conf, chk.stderr.strip()))
        out_path = os.path.join(self.dir, "dovecot.stdout")
        with open(out_path, "wb") as out:
            self.proc = subprocess.Popen(
                [self.dovecot, "-F", "-c", self.conf],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        # never leave it running, whatever happens to the caller
        atexit.register(self.stop)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                with open(out_path, encoding="utf-8", errors="replace") as f:
                    out = f.read()
                raise RuntimeError("dovecot exited with %d: %s\n%s" % (
                    self.proc.returncode, out.strip(), self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=2) as s:
                    s.settimeout(5)
                    banner = s.recv(200)
                    if banner.startswith(b"* OK"):
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("dovecot did not answer on port %d within %d s\n%s"
                           % (self.port, timeout, self.log()))

    def stop(self):
        """Stop our Dovecot: SIGTERM to the master we started (it stops its
        children), SIGKILL to it after 15 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        try:
            self.start()
        except Exception:
            self.show_log()
            self.stop()
            raise
        return self

    def __exit__(self, typ, val, tb):
        try:
            if typ is not None or self.failed:
                self.show_log()
        finally:
            self.stop()
        if self.own_dir and typ is None and not self.failed and \
                not os.environ.get("M2D_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    # ---- use ------------------------------------------------------------
    def log(self):
        try:
            with open(self.log_path, encoding="utf-8",
                      errors="replace") as fp:
                return fp.read()
        except OSError:
            return "(no log at %s)" % self.log_path

    def show_log(self, out=sys.stdout):
        try:
            out.write("# ---- dovecot log %s ----\n" % self.log_path)
            for line in self.log().splitlines()[-200:]:
                out.write("# " + line + "\n")
            out.flush()
        except (OSError, ValueError):
            pass               # stdout gone (a closed pipe): still stop

    def imap(self, user, password=None):
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        c.login(user, password or self.password)
        return c

    def pop3(self, user, password=None):
        """poplib.POP3 logged in as USER (needs pop3=True)."""
        import poplib
        c = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        c.user(user)
        c.pass_(password or self.password)
        return c

    def doveadm(self, *args, check=True, timeout=60):
        """Run doveadm -c CONF ARGS; returns CompletedProcess (text)."""
        r = subprocess.run([self.doveadm_bin, "-c", self.conf] + list(args),
                           capture_output=True, timeout=timeout)
        r.stdout = r.stdout.decode("utf-8", "replace")
        r.stderr = r.stderr.decode("utf-8", "replace")
        if check and r.returncode != 0:
            raise RuntimeError("doveadm %s: exit %d: %s" % (
                " ".join(args), r.returncode, r.stderr.strip()))
        return r

    def mailbox_status(self, user, fields=("messages", "uidvalidity",
                                           "uidnext")):
        """doveadm -f tab mailbox status -u USER 'FIELDS' '*' ->
        {mailbox name (UTF-8): {field: value}}."""
        r = self.doveadm("-f", "tab", "mailbox", "status", "-u", user,
                         " ".join(fields), "*")
        lines = r.stdout.splitlines()
        head = lines[0].split("\t")
        out = {}
        for ln in lines[1:]:
            vals = dict(zip(head, ln.split("\t")))
            name = vals.pop("mailbox")
            out[name] = vals
        return out
