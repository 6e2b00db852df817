#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate a realistic UW-IMAP style mail spool, and the truth about it.

    gen-spool.py --seed N --out DIR [--users N] [--messages N]
                 [--manifest FILE] [--tz ZONE]

Layout written under DIR:

    spool/USER                    the INBOX (an mbox, as /var/spool/mail/USER)
    home/USER/mail/...            folders (mbox files, nested: mail/work/2004)
    home/USER/.mailboxlist        UW's subscription list
    home/USER/.pinerc             a dot file that is not a folder

The mboxes are written the way UW imap-2007 (unix.c: unix_pseudo,
unix_xstatus, unix_rewrite) and Postfix local(8) (mail_copy.c) write them:

  * the folder-internal pseudo-message first ("From MAILER-DAEMON ...",
    X-IMAP: <uidvalidity %010lu> <uidlast %010lu> [keywords], Status: RO);
  * UW's status block at the end of each header: [X-IMAPbase:] Status:
    X-Status: X-Keywords: (padded with spaces to 50, or 80 with
    X-IMAPbase) X-UID:, with strictly increasing UIDs (gaps = expunged);
  * new mail appended by Postfix at the end of an INBOX: "From sender  DATE"
    (two spaces, asctime), Return-Path/X-Original-To/Delivered-To, no
    Status/X-UID;
  * mboxo quoting: body lines starting with "From " get a ">"; existing
    ">From " lines are left alone;
  * every message followed by the empty line the mbox adds.

Also: From_ dates in several layouts UW's VALID macro accepts (ctime with
and without seconds, numeric offset before or after the year, " remote from
host", with and without an offset), a sender with spaces in a From_ line,
three messages in the same second, large UIDs, a 0-byte mbox ("postponed"),
a folder whose first real message carries X-IMAPbase instead of a
pseudo-message, a plain mbox without any UW headers (mutt-like Status lines,
Content-Length, a stale X-UID), a folder holding only the pseudo-message
("Trash": all expunged), non-ASCII folder names (UTF-8 on disk), '&' and ' ' in
names, 8-bit bodies (UTF-8 and Latin-1), a long line, a large attachment,
body lines that look like UW headers, messages ending with an empty line, an
empty body.  Per user, the folder "odd" was written by a tool that does not
quote: it holds an unquoted "From here to eternity" body line (not a valid
separator: UW's VALID rejects it), a Content-Length that lies, and a last
message without the trailing empty line; those messages carry "notes" in the
manifest.

The JSON manifest (--manifest, default DIR/manifest.json) is the truth, built
from what was generated (never by parsing the mbox):

  {"seed", "tz", "users": {USER: {"inbox": "spool/USER", "home": "home/USER",
     "subscriptions": [IMAP names], "folders": [
       {"name": IMAP name ('/' separator, UTF-8; "INBOX"),
        "mbox": path relative to DIR, "uidvalidity": int or null (null: the
        mbox has no UW UID data, any nonzero value is right),
        "uidnext": int (max(uidlast, highest UID) + 1), "keywords": [...],
        "pseudo": bool, "notes": [...],
        "messages": [{"uid", "flags": [IMAP flags and keywords],
           "recent": bool (no "O" in Status: not yet seen by any IMAP
           session), "internaldate": UTC epoch, "size": bytes,
           "body_b64": the exact bytes a client must see, "subject",
           "from_line", "notes": [...]}]}]}}}

The exact bytes = the message without its From_ line, without UW's internal
headers (X-IMAP, X-IMAPbase, X-UID, Status, X-Status, X-Keywords; not
Content-Length: UW served it) and without the separator empty line; quoting
stays (">From "
is what a client saw under UW and sees under Dovecot).

Dates without a zone are written in --tz (default UTC); the converter must be
run with the same TZ.
"""

import argparse
import base64
import datetime
import json
import os
import random
import sys

try:
    import zoneinfo
except ImportError:  # pragma: no cover
    zoneinfo = None

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]

HOST = "mailhost.example.edu"
PSEUDO_SUBJECT = "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA"
# A site that changed the text: the pseudo-message is found by X-IMAP.
PSEUDO_SUBJECT_SITE = "Folder internal data -- please leave this alone"
PSEUDO_MSG = (
    "This text is part of the internal format of your mail folder, and is not\n"
    "a real message.  It is created automatically by the mail system software.\n"
    "If deleted, important folder data will be lost, and it will be re-created\n"
    "with the data reset to initial values.")

USER_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace",
              "heidi", "ivan", "judy"]
CORRESPONDENTS = [
    ("Hans M\u00fcller", "hans.mueller@uni-example.de"),
    ("Jane Doe", "jane@example.com"),
    ("Postmaster", "postmaster@example.org"),
    ("Li Wei", "li.wei@example.cn"),
    ("Fran\u00e7ois Dupont", "fdupont@example.fr"),
    ("Bob Smith", "bob.smith@corp.example.net"),
    ("Listserv", "owner-info-mac@list.example.edu"),
]
KEYWORDS = ["Junk", "NonJunk", "$Label1", "todo", "work", "$Forwarded",
            "urgent"]
WORDS = ("the meeting budget report attached please find below regarding "
         "schedule thanks regards project draft review server migration "
         "deadline minutes agenda lunch friday office printer backup tape "
         "kernel patch release notes quarterly numbers").split()
UTF8_LINES = ["Viele Gr\u00fc\u00dfe aus M\u00fcnchen!",
              "C'est d\u00e9j\u00e0 l'\u00e9t\u00e9, na\u00efvement.",
              "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002",
              "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435"]

# The one place the date layouts of From_ lines are defined.  Each entry
# makes the date part of a From_ line from an epoch and a zone.
LAYOUTS = ["ctime", "noseconds", "offset-after-year", "offset-before-year",
           "noseconds-offset", "remote", "offset-remote"]
OFFSETS = [-480, -420, -300, -210, 0, 60, 120, 330, 540]  # minutes east


def fmt_offset(minutes):
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return "%s%02d%02d" % (sign, minutes // 60, minutes % 60)


def ctime_parts(dt):
    return (DAYS[dt.weekday()], MONTHS[dt.month - 1], dt.day, dt.hour,
            dt.minute, dt.second, dt.year)


def rfc822_date(epoch, tz):
    dt = datetime.datetime.fromtimestamp(epoch, tz)
    off = dt.utcoffset().total_seconds() // 60
    return "%s, %d %s %d %02d:%02d:%02d %s" % (
        DAYS[dt.weekday()], dt.day, MONTHS[dt.month - 1], dt.year, dt.hour,
        dt.minute, dt.second, fmt_offset(int(off)))


class Gen:
    def __init__(self, seed, tzname, nmessages):
        self.rnd = random.Random(seed)
        self.tzname = tzname
        if tzname == "UTC":
            self.tz = datetime.timezone.utc
        else:
            if zoneinfo is None:
                sys.exit("gen-spool: --tz other than UTC needs zoneinfo")
            self.tz = zoneinfo.ZoneInfo(tzname)
        self.nmessages = nmessages
        self.msgid = 0
        self.big_done = set()

    # ---- dates -------------------------------------------------------
    def local_unambiguous(self, epoch):
        """Move EPOCH until its local time maps back to it alone (DST)."""
        for _ in range(10):
            dt = datetime.datetime.fromtimestamp(epoch, self.tz)
            naive = dt.replace(tzinfo=None)
            a = naive.replace(tzinfo=self.tz, fold=0).timestamp()
            b = naive.replace(tzinfo=self.tz, fold=1).timestamp()
            if a == b == epoch:
                return epoch
            epoch += 7200
        return epoch

    def from_date(self, epoch, layout):
        """(date text of the From_ line, epoch it denotes)."""
        rnd = self.rnd
        if layout in ("noseconds", "noseconds-offset"):
            epoch -= epoch % 60
        if layout in ("offset-after-year", "offset-before-year",
                      "noseconds-offset", "offset-remote"):
            off = rnd.choice(OFFSETS)
            dt = datetime.datetime.fromtimestamp(
                epoch, datetime.timezone(datetime.timedelta(minutes=off)))
            wd, mon, day, hh, mm, ss, yy = ctime_parts(dt)
            if layout == "offset-after-year":   # UW mail_cdate (APPEND, COPY)
                text = "%s %s %2d %02d:%02d:%02d %d %s" % (
                    wd, mon, day, hh, mm, ss, yy, fmt_offset(off))
            elif layout == "offset-remote":     # Solaris + smail
                text = "%s %s %2d %02d:%02d:%02d %d %s remote from %s" % (
                    wd, mon, day, hh, mm, ss, yy, fmt_offset(off),
                    rnd.choice(["uunet", "gateway", "decvax"]))
            elif layout == "offset-before-year":  # emacs
                text = "%s %s %2d %02d:%02d:%02d %s %d" % (
                    wd, mon, day, hh, mm, ss, fmt_offset(off), yy)
            else:
                text = "%s %s %2d %02d:%02d %s %d" % (
                    wd, mon, day, hh, mm, fmt_offset(off), yy)
            return text, epoch
        epoch = self.local_unambiguous(epoch)
        if layout == "noseconds":
            epoch -= epoch % 60
        dt = datetime.datetime.fromtimestamp(epoch, self.tz)
        wd, mon, day, hh, mm, ss, yy = ctime_parts(dt)
        if layout == "noseconds":
            text = "%s %s %2d %02d:%02d %d" % (wd, mon, day, hh, mm, yy)
        elif layout == "remote":
            text = "%s %s %2d %02d:%02d:%02d %d remote from %s" % (
                wd, mon, day, hh, mm, ss, yy,
                rnd.choice(["uunet", "gateway", "decvax"]))
        else:
            text = "%s %s %2d %02d:%02d:%02d %d" % (wd, mon, day, hh, mm, ss,
                                                    yy)
        return text, epoch

    def dates(self, n, start=915148800, end=1230681600):
        """N ascending epochs between 1999 and 2008, distinct seconds."""
        out = sorted(self.rnd.sample(range(start, end), n))
        return out

    # ---- message contents --------------------------------------------
    def sentence(self, n=None):
        n = n or self.rnd.randint(5, 14)
        w = [self.rnd.choice(WORDS) for _ in range(n)]
        return (" ".join(w)).capitalize() + "."

    def make_message(self, user, date_epoch, folder, postfix=False,
                     kind=None, sent=False):
        """Return (header_lines, body_bytes, subject, notes): header lines
        as bytes each ending in \\n, the body already mboxo-quoted (what the
        mbox holds and a client sees)."""
        rnd = self.rnd
        self.msgid += 1
        notes = []
        name, addr = rnd.choice(CORRESPONDENTS)
        me = "%s@%s" % (user, HOST)
        # the envelope sender for the From_ line
        self.last_sender = me if sent else addr
        if sent:
            frm, to = "%s <%s>" % (user.capitalize(), me), addr
        else:
            frm, to = '"%s" <%s>' % (name, addr), me
        kind = kind or rnd.choice(["plain"] * 5 + ["utf8", "latin1", "mime",
                                                   "fromlines", "fromlines"])
        subject = "%s %d" % (self.sentence(rnd.randint(2, 5))[:-1],
                             self.msgid)
        hdr = []
        if not sent:
            hdr.append("Return-Path: <%s>" % addr)
            if postfix:
                hdr.append("X-Original-To: %s" % me)
                hdr.append("Delivered-To: %s" % me)
            hdr.append("Received: from relay.example.net (relay.example.net "
                       "[192.0.2.%d])\n\tby %s (Postfix) with ESMTP id %X\n"
                       "\tfor <%s>; %s" % (rnd.randint(1, 254), HOST,
                                           rnd.getrandbits(40), me,
                                           rfc822_date(date_epoch, self.tz)))
        hdr.append("Date: %s" % rfc822_date(date_epoch - rnd.randint(0, 600),
                                            self.tz))
        hdr.append("From: %s" % frm)
        hdr.append("To: %s" % to)
        if kind == "utf8":
            hdr.append("Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= %s" % subject)
        else:
            hdr.append("Subject: %s" % subject)
        hdr.append("Message-ID: <%d.%d@%s>" % (date_epoch, self.msgid,
                                              "example.net"))
        if rnd.random() < 0.25:
            # fetchmail/qpopper: looks like X-UID, is not UW's.
            hdr.append("X-UIDL: %08x%08x" % (rnd.getrandbits(32),
                                             rnd.getrandbits(32)))
        body = []
        if kind == "plain":
            hdr.append("MIME-Version: 1.0")
            hdr.append("Content-Type: text/plain; charset=us-ascii")
            for _ in range(rnd.randint(1, 12)):
                body.append(self.sentence().encode())
            if rnd.random() < 0.3:
                # Body lines that look like UW's headers: they stay.
                body.append(b"")
                body.append(b"Status: RO")
                body.append(b"X-UID: %d" % rnd.randint(1, 999))
                body.append(b"X-Keywords: Junk")
                notes.append("body-looks-like-uw-headers")
        elif kind == "utf8":
            hdr.append("MIME-Version: 1.0")
            hdr.append("Content-Type: text/plain; charset=utf-8")
            hdr.append("Content-Transfer-Encoding: 8bit")
            for _ in range(rnd.randint(2, 6)):
                body.append(rnd.choice(UTF8_LINES).encode("utf-8"))
                body.append(self.sentence().encode())
        elif kind == "latin1":
            hdr.append("MIME-Version: 1.0")
            hdr.append("Content-Type: text/plain; charset=iso-8859-1")
            hdr.append("Content-Transfer-Encoding: 8bit")
            body.append("Sch\u00f6ne Gr\u00fc\u00dfe, Ren\u00e9e".encode(
                "latin-1"))
            body.append(self.sentence().encode())
        elif kind == "mime":
            big = (user, "big") not in self.big_done and rnd.random() < 0.5
            size = rnd.randint(60000, 120000) if big else rnd.randint(
                300, 5000)
            if big:
                self.big_done.add((user, "big"))
                notes.append("large")
            boundary = "----=_Part_%d_%d" % (self.msgid, rnd.getrandbits(24))
            hdr.append("MIME-Version: 1.0")
            hdr.append('Content-Type: multipart/mixed;\n\tboundary="%s"'
                       % boundary)
            body.append(b"This is a multi-part message in MIME format.")
            body.append(b"")
            body.append(b"--" + boundary.encode())
            body.append(b"Content-Type: text/plain; charset=us-ascii")
            body.append(b"")
            body.append(self.sentence().encode())
            body.append(b"")
            body.append(b"--" + boundary.encode())
            body.append(b"Content-Type: application/octet-stream; "
                        b"name=\"data.bin\"")
            body.append(b"Content-Transfer-Encoding: base64")
            body.append(b"Content-Disposition: attachment; "
                        b"filename=\"data.bin\"")
            body.append(b"")
            blob = base64.encodebytes(rnd.randbytes(size)).rstrip(b"\n")
            body.extend(blob.split(b"\n"))
            body.append(b"")
            body.append(b"--" + boundary.encode() + b"--")
        elif kind == "fromlines":
            hdr.append("Content-Type: text/plain")
            body.append(b"Forwarded below, see the quoted part:")
            body.append(b"")
            # written by Postfix/UW: "From " quoted as ">From "
            body.append(b"From the desk of %s:" % name.encode("utf-8"))
            body.append(self.sentence().encode())
            body.append(b">From an earlier quoting, left alone")
            body.append(b">>From deeper quoting")
            body.append(b"From %s Tue Nov  9 10:11:12 2004" % addr.encode())
            body.append(b"From here to eternity")
            body.append(b" From with a leading space")
            body.append(b"from lower case")
            notes.append("from-lines-quoted")
        elif kind == "longline":
            hdr.append("Content-Type: text/plain")
            body.append(self.sentence().encode())
            body.append(b"".join(rnd.choice(WORDS).encode() + b" "
                                 for _ in range(3000)).rstrip())
            body.append(self.sentence().encode())
            notes.append("long-line")
        elif kind == "emptybody":
            hdr.append("Content-Type: text/plain")
            notes.append("empty-body")
        # mboxo quoting, as Postfix local(8) and UW write it
        qbody = []
        for line in body:
            if line.startswith(b"From "):
                line = b">" + line
            qbody.append(line + b"\n")
        body_bytes = b"".join(qbody)
        if kind != "emptybody" and rnd.random() < 0.15:
            body_bytes += b"\n"          # the message itself ends with an
            notes.append("ends-with-empty-line")  # empty line
        header_lines = [(h + "\n").encode("utf-8") for h in hdr]
        return header_lines, body_bytes, subject, notes


def uw_status_block(seen, old, xflags, kwlist, uid, base=None):
    """UW unix_xstatus(): [X-IMAPbase] Status X-Status X-Keywords(padded)
    X-UID and the empty line ending the header."""
    s = b""
    pad = 50
    if base is not None:
        uv, ul, kws = base
        s += b"X-IMAPbase: %d %d" % (uv, ul)
        for k in kws:
            s += b" " + k.encode()
        s += b"\n"
        pad += 30
    s += b"Status: " + (b"R" if seen else b"") + (b"O" if old else b"") + b"\n"
    s += b"X-Status: "
    for letter in "DFAT":
        if letter in xflags:
            s += letter.encode()
    s += b"\n"
    s += b"X-Keywords:"
    for k in kwlist:
        s += b" " + k.encode()
    if len(s) < pad:
        s += b" " * (pad - len(s))
    s += b"\n"
    if uid is not None:
        s += b"X-UID: %d\n" % uid
    return s + b"\n"


def imap_flags(seen, xflags, kwlist):
    f = []
    if seen:
        f.append("\\Seen")
    for letter, flag in (("A", "\\Answered"), ("F", "\\Flagged"),
                         ("T", "\\Draft"), ("D", "\\Deleted")):
        if letter in xflags:
            f.append(flag)
    return f + list(kwlist)


class Folder:
    def __init__(self, name, path):
        self.name = name          # IMAP name
        self.path = path          # relative to DIR
        self.chunks = []          # mbox bytes
        self.messages = []        # manifest entries
        self.uidvalidity = None
        self.uidlast = 0
        self.keywords = []
        self.pseudo = False
        self.notes = []

    def add(self, from_line, visible_hdr, internal_hdr, body, uid, flags,
            recent, epoch, subject, notes, sep=b"\n"):
        """visible_hdr: header bytes a client sees; internal_hdr: UW's
        status block INCLUDING the empty line ending the header (or just
        b"\\n" when there is none)."""
        self.chunks.append(from_line + visible_hdr + internal_hdr + body +
                           sep)
        data = visible_hdr + b"\n" + body
        self.messages.append({
            "uid": uid, "flags": flags, "recent": recent,
            "internaldate": epoch, "size": len(data),
            "body_b64": base64.b64encode(data).decode("ascii"),
            "subject": subject,
            "from_line": from_line.decode("utf-8", "replace").rstrip("\n"),
            "notes": notes,
        })

    def manifest(self):
        uids = [m["uid"] for m in self.messages]
        uidnext = max([self.uidlast] + uids) + 1 if (uids or self.uidlast) \
            else 1
        return {"name": self.name, "mbox": self.path,
                "uidvalidity": self.uidvalidity, "uidnext": uidnext,
                "keywords": self.keywords, "pseudo": self.pseudo,
                "notes": self.notes, "messages": self.messages}


def build_uw_folder(g, user, name, path, n, *, postfix_new=0, sent=False,
                    layouts=("ctime",), base_mode="pseudo", site_subject=False,
                    extra_kinds=(), burst=False, spaced_sender=False):
    """A folder UW has managed: pseudo-message (or X-IMAPbase on message 1),
    X-UIDs with gaps, flags, keywords; then POSTFIX_NEW new messages
    appended by Postfix without UW headers."""
    rnd = g.rnd
    f = Folder(name, path)
    f.uidvalidity = rnd.randint(900000000, 1230000000)
    f.keywords = rnd.sample(KEYWORDS, rnd.randint(0, 4))
    # a long-lived folder has large UIDs
    uid = rnd.choice([rnd.randint(0, 3), rnd.randint(0, 3),
                      rnd.randint(100000, 3000000)])
    uids = []
    for _ in range(n):
        uid += rnd.choice([1, 1, 1, 2, 5])
        uids.append(uid)
    f.uidlast = (uids[-1] if uids else uid) + rnd.choice([0, 0, 1, 3])
    epochs = g.dates(n + postfix_new + 1)
    if burst and n >= 4:
        # a mailing-list burst: three messages in the same second
        k = rnd.randint(1, n - 3)
        epochs[k + 1] = epochs[k + 2] = epochs[k]
    kinds = list(extra_kinds) + [None] * max(0, n - len(extra_kinds))
    rnd.shuffle(kinds)
    if base_mode == "pseudo":
        f.pseudo = True
        # the last rewrite by UW: after its messages, before the new mail
        pseudo_epoch = epochs[n - 1] + rnd.randint(60, 86400)
        if postfix_new:
            pseudo_epoch = min(pseudo_epoch, (epochs[n - 1] + epochs[n]) // 2)
        text, _ = g.from_date(pseudo_epoch, "ctime")
        subj = PSEUDO_SUBJECT_SITE if site_subject else PSEUDO_SUBJECT
        kw = "".join(" " + k for k in f.keywords)
        pseudo = (
            "From MAILER-DAEMON %s\n"
            "Date: %s\n"
            "From: Mail System Internal Data <MAILER-DAEMON@%s>\n"
            "Subject: %s\n"
            "Message-ID: <%d@%s>\n"
            "X-IMAP: %010d %010d%s\n"
            "Status: RO\n"
            "\n%s\n\n" % (text, rfc822_date(pseudo_epoch, g.tz), HOST, subj,
                          pseudo_epoch, HOST, f.uidvalidity, f.uidlast, kw,
                          PSEUDO_MSG))
        f.chunks.append(pseudo.encode())
    for i in range(n):
        layout = rnd.choice(layouts)
        text, epoch = g.from_date(epochs[i], layout)
        hdr, body, subject, notes = g.make_message(user, epoch, name,
                                                   kind=kinds[i], sent=sent)
        sender = g.last_sender
        if spaced_sender and i == n // 2:
            # UW: "the user field may contain unquoted spaces"
            sender = "Mail Delivery Subsystem"
            notes = notes + ["sender-with-spaces"]
        from_line = ("From %s %s\n" % (sender, text)).encode()
        seen = sent or rnd.random() < 0.7
        xflags = ""
        for letter, p in (("A", 0.25), ("F", 0.15), ("T", 0.05),
                          ("D", 0.08)):
            if rnd.random() < p:
                xflags += letter
        if sent and rnd.random() < 0.2:
            xflags += "T"
        kwl = [k for k in f.keywords if rnd.random() < 0.35]
        base = None
        if base_mode == "imapbase" and i == 0:
            base = (f.uidvalidity, f.uidlast, f.keywords)
            notes = notes + ["x-imapbase"]
        internal = uw_status_block(seen, True, xflags, kwl, uids[i], base)
        notes = notes + ["from-layout:" + layout]
        if burst and i > 0 and epochs[i] == epochs[i - 1]:
            notes.append("same-second-as-previous")
        f.add(from_line, b"".join(hdr), internal, body, uids[i],
              imap_flags(seen, xflags, kwl), False, epoch, subject, notes)
    # new mail appended by Postfix: no Status, no X-UID, asctime From_ line
    nuid = max(f.uidlast, uids[-1] if uids else 0)
    for j in range(postfix_new):
        epoch = g.local_unambiguous(epochs[n + j])
        text, epoch = g.from_date(epoch, "ctime")
        hdr, body, subject, notes = g.make_message(user, epoch, name,
                                                   postfix=True)
        sender = g.last_sender
        if j == 0:
            sender = "MAILER-DAEMON"          # a bounce: empty sender
            hdr[0] = b"Return-Path: <>\n"
        from_line = ("From %s  %s\n" % (sender, text)).encode()
        nuid += 1
        f.add(from_line, b"".join(hdr), b"\n", body, nuid, [], True, epoch,
              subject, notes + ["postfix-new-mail"])
    return f


def build_pseudo_only(g, name, path):
    """A folder whose messages were all expunged: only the pseudo-message."""
    rnd = g.rnd
    f = Folder(name, path)
    f.pseudo = True
    f.uidvalidity = rnd.randint(900000000, 1230000000)
    f.uidlast = rnd.randint(1, 400)
    f.keywords = []
    epoch = g.dates(1)[0]
    text, _ = g.from_date(epoch, "ctime")
    pseudo = (
        "From MAILER-DAEMON %s\nDate: %s\n"
        "From: Mail System Internal Data <MAILER-DAEMON@%s>\n"
        "Subject: %s\nMessage-ID: <%d@%s>\nX-IMAP: %010d %010d\n"
        "Status: RO\n\n%s\n\n" % (text, rfc822_date(epoch, g.tz), HOST,
                                  PSEUDO_SUBJECT, epoch, HOST, f.uidvalidity,
                                  f.uidlast, PSEUDO_MSG))
    f.chunks.append(pseudo.encode())
    f.notes.append("pseudo-only")
    return f


def build_plain(g, user, name, path, n):
    """A plain mbox no UW ever touched (mutt/Solaris mail): Status and
    X-Status lines, Content-Length, a stale X-UID copied from elsewhere;
    no X-IMAP, so UIDs are 1..n and any UIDVALIDITY is right."""
    rnd = g.rnd
    f = Folder(name, path)
    f.notes.append("no-uw-uid-data")
    epochs = g.dates(n)
    for i in range(n):
        layout = rnd.choice(["ctime", "ctime", "offset-after-year"])
        text, epoch = g.from_date(epochs[i], layout)
        hdr, body, subject, notes = g.make_message(user, epoch, name)
        from_line = ("From %s %s\n" % (g.last_sender, text)).encode()
        st = rnd.choice(["RO", "O", None])
        xst = rnd.choice(["", "A", "F", "AF"]) if st else ""
        internal = []
        # Content-Length: UW served it as an ordinary header (c-client
        # keeps it): part of what a client sees, first of the block
        clen = b""
        if rnd.random() < 0.6:
            clen = b"Content-Length: %d\n" % len(body)
            internal.append(clen)
            notes.append("content-length")
        if st is not None:
            internal.append(b"Status: %s\n" % st.encode())
            if xst:
                internal.append(b"X-Status: %s\n" % xst.encode())
        if i == 1:
            internal.append(b"X-UID: %d\n" % rnd.randint(400, 900))
            notes.append("stale-x-uid")
        # mutt puts them after the other headers; mix their position
        pos = rnd.randint(0, len(hdr)) if rnd.random() < 0.3 else len(hdr)
        visible = b"".join(hdr)
        if pos < len(hdr):
            # insert in the middle of the header: split visible parts
            before = b"".join(hdr[:pos])
            after = b"".join(hdr[pos:])
            raw = from_line + before + b"".join(internal) + after + b"\n" + \
                body + b"\n"
            f.chunks.append(raw)
            data = before + clen + after + b"\n" + body
            seen = st == "RO"
            f.messages.append({
                "uid": i + 1, "flags": imap_flags(seen, xst, []),
                "recent": st is None, "internaldate": epoch,
                "size": len(data),
                "body_b64": base64.b64encode(data).decode("ascii"),
                "subject": subject,
                "from_line": from_line.decode().rstrip("\n"),
                "notes": notes + ["uw-headers-mid-header"]})
            continue
        seen = st == "RO"
        f.add(from_line, visible + clen, b"".join(internal[1:] if clen
                                                  else internal) + b"\n",
              body, i + 1, imap_flags(seen, xst, []), st is None, epoch,
              subject, notes)
    return f


def build_odd(g, user, name, path):
    """Written by a tool that does not quote and is sloppy: an unquoted
    "From here to eternity" (not a separator: UW's VALID rejects it), an
    unquoted "From " line too short to be a date, a Content-Length that
    lies, and a last message without the trailing empty line."""
    rnd = g.rnd
    f = Folder(name, path)
    f.notes.append("no-uw-uid-data")
    f.notes.append("unquoted-from-lines")
    epochs = g.dates(4)
    specs = ["eternity", "desk", "badlength", "nofinalblank"]
    for i, spec in enumerate(specs):
        text, epoch = g.from_date(epochs[i], "ctime")
        hdr, _, subject, notes = g.make_message(user, epoch, name,
                                                kind="plain")
        from_line = ("From %s %s\n" % (g.last_sender, text)).encode()
        internal = b"\n"
        sep = b"\n"
        if spec == "eternity":
            body = (b"Song titles:\n"
                    b"From here to eternity\n"
                    b"Stairway to heaven\n")
            notes = ["unquoted-from-line:From here to eternity"]
        elif spec == "desk":
            body = (b"Dear all,\n"
                    b"From the desk of the dean: no date here\n"
                    b"From: not a header, body text\n"
                    b"Regards\n")
            notes = ["unquoted-from-line:From the desk of the dean"]
        elif spec == "badlength":
            body = (b"A Content-Length header that is too small.\n"
                    b"From the converter's point of view it is a hint only.\n"
                    b"The message goes on here.\n")
            # kept as UW served it (c-client does not hide it)
            hdr = hdr + [b"Content-Length: 10\n"]
            notes = ["content-length-wrong", "unquoted-from-line"]
        else:
            body = b"Last message, the file ends right after this line.\n"
            sep = b""
            notes = ["no-trailing-empty-line"]
        f.add(from_line, b"".join(hdr), internal, body, i + 1, [], True,
              epoch, subject, notes, sep=sep)
    return f


def uw_valid(line):
    """UW imap-2007 unix.h VALID(): is LINE (bytes, no newline) a From_
    separator?  Used only to check what we generate, never for the truth."""
    if not line.startswith(b"From "):
        return False
    s = line[:-1] if line.endswith(b"\r") else line
    x = len(s)

    def at(i):
        return s[i:i + 1] if 0 <= i < len(s) else b""
    if x >= 41:
        zn = -1
        while at(x + zn) != b" " and x + zn > 0:
            zn -= 1
        if s[x + zn - 12:x + zn] == b" remote from":
            x += zn - 12
    if x < 27:
        return False
    ti = 0
    if at(x - 5) == b" ":
        if at(x - 8) == b":":
            ti = -5
        elif at(x - 9) == b" ":
            ti = -9
        elif at(x - 11) == b" " and at(x - 10) in (b"+", b"-"):
            ti = -11
    elif at(x - 4) == b" ":
        if at(x - 9) == b" ":
            ti = -9
    elif at(x - 6) == b" ":
        if at(x - 11) == b" " and at(x - 5) in (b"+", b"-"):
            ti = -11
    if not ti:
        return False
    if at(x + ti - 3) != b":":
        return False
    ti -= 9 if at(x + ti - 6) == b":" else 6
    return (at(x + ti) == b" " and at(x + ti - 3) == b" " and
            at(x + ti - 7) == b" " and at(x + ti - 11) == b" ")


def check_mbox(path, data, nmsgs):
    """Every message starts at a valid From_ line and no other line is one:
    the generator must write what UW would split as intended."""
    lines = data.split(b"\n")
    starts = sum(1 for ln in lines if uw_valid(ln))
    if starts != nmsgs:
        sys.exit("gen-spool: %s: %d valid From_ lines, expected %d"
                 % (path, starts, nmsgs))
    if data and not uw_valid(lines[0]):
        sys.exit("gen-spool: %s: first line is no valid From_ line" % path)


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fp:
        fp.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=2)
    ap.add_argument("--messages", type=int, default=12,
                    help="messages in INBOX; other folders have up to this")
    ap.add_argument("--manifest")
    ap.add_argument("--tz", default="UTC",
                    help="zone of From_ dates without an offset")
    a = ap.parse_args()
    if a.users < 1 or a.users > len(USER_NAMES) or a.messages < 2:
        ap.error("--users 1..%d, --messages >= 2" % len(USER_NAMES))
    g = Gen(a.seed, a.tz, a.messages)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    manifest = {"seed": a.seed, "tz": a.tz, "users": {}}
    n = a.messages
    rnd = g.rnd
    for ui in range(a.users):
        user = USER_NAMES[ui]
        folders = []
        home = "home/%s" % user
        mail = home + "/mail/"

        def half():
            return rnd.randint(max(2, n // 2), n)

        folders.append(build_uw_folder(
            g, user, "INBOX", "spool/%s" % user, n, postfix_new=3,
            layouts=("ctime", "ctime", "noseconds", "remote",
                     "offset-after-year", "offset-remote"),
            site_subject=(ui % 2 == 1), burst=True, spaced_sender=True,
            extra_kinds=("fromlines", "longline", "emptybody", "mime")))
        folders.append(build_uw_folder(
            g, user, "Sent", mail + "Sent", half(), sent=True,
            layouts=("offset-after-year", "offset-before-year",
                     "noseconds-offset")))
        folders.append(build_uw_folder(
            g, user, "work/2004", mail + "work/2004", half(),
            layouts=("ctime", "noseconds", "offset-before-year"),
            extra_kinds=("fromlines",)))
        folders.append(build_uw_folder(
            g, user, "Entw\u00fcrfe", mail + "Entw\u00fcrfe", half(),
            sent=True, layouts=("offset-after-year", "ctime")))
        folders.append(build_uw_folder(
            g, user, "R&D", mail + "R&D", half(),
            layouts=("ctime", "remote"), extra_kinds=("utf8", "latin1")))
        folders.append(build_uw_folder(
            g, user, "based", mail + "based", half(),
            layouts=("ctime", "noseconds"), base_mode="imapbase"))
        folders.append(build_pseudo_only(g, "Trash", mail + "Trash"))
        empty = Folder("postponed", mail + "postponed")  # a 0-byte mbox
        empty.notes += ["empty-file", "no-uw-uid-data"]
        folders.append(empty)
        folders.append(build_plain(g, user, "plain", mail + "plain", half()))
        folders.append(build_odd(g, user, "odd", mail + "odd"))
        if ui % 2 == 0:
            folders.append(build_uw_folder(
                g, user, "work/2005", mail + "work/2005", half(),
                layouts=("ctime",)))
        else:
            folders.append(build_uw_folder(
                g, user, "Old Mail/Caf\u00e9 & Bar",
                mail + "Old Mail/Caf\u00e9 & Bar", half(),
                layouts=("ctime", "offset-before-year")))
        for f in folders:
            data = b"".join(f.chunks)
            check_mbox(f.path, data, len(f.messages) + (1 if f.pseudo else 0))
            write_file(os.path.join(out, f.path), data)
        subs = ["INBOX", "Sent", "work/2004", "Entw\u00fcrfe", "R&D"]
        mbl = ("INBOX\nmail/Sent\n~/mail/work/2004\nmail/Entw\u00fcrfe\n"
               "mail/R&D\n")
        write_file(os.path.join(out, home, ".mailboxlist"),
                   mbl.encode("utf-8"))
        write_file(os.path.join(out, home, ".pinerc"),
                   b"# Pine configuration file\nfolder-collections=mail/[]\n")
        manifest["users"][user] = {
            "inbox": "spool/%s" % user, "home": home,
            "subscriptions": subs,
            "folders": [f.manifest() for f in folders],
        }
    for root, dirs, _files in os.walk(out):
        os.chmod(root, 0o755)
    mpath = a.manifest or os.path.join(out, "manifest.json")
    with open(mpath, "w", encoding="utf-8") as fp:
        json.dump(manifest, fp, indent=1, ensure_ascii=False)
        fp.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
