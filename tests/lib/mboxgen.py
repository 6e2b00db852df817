# SPDX-License-Identifier: MIT
"""A seeded generator of UW-style mbox folders, for the differential test
against UW's own library (tests/integration/test-differential.py, issue 16).

    import mboxgen
    data, info = mboxgen.folder(seed, index)

The same (seed, index) always gives the same bytes.  A folder draws from
every variation UW-IMAP met in real spools:

  * Status: and X-Status: with each flag letter R O D F A T (and near
    misses: lower case, other letters), in any order, repeated, either or
    both headers, a header given twice;
  * X-Keywords: declared keywords in another case, undeclared words,
    padding (trailing spaces, tabs, several spaces), folded, given twice,
    more than 26 declared, names too long for UW, non-atoms;
  * X-IMAP (the pseudo-message) / X-IMAPbase / X-UID, good and broken in
    each way UW's UID reset rule cares about: UIDVALIDITY 0, missing or
    non-numeric fields, an X-UID that repeats, goes down, is 0, is beyond
    the last UID, is missing (new mail), has junk after it; the header on
    message 2 instead of 1; the pseudo-message with a changed subject;
  * whitespace (CR, LF, space, tab) before the first From_ line, ending in
    a newline or not;
  * LF, CRLF and bare-CR line ends, mixed; NUL bytes; no final newline;
  * header-only messages, messages without the blank line before the next
    From_ line, two blank lines;
  * Content-Length right, wrong, garbage;
  * every From_ line layout UW's VALID macro accepts (with and without
    seconds, zone names, numeric zones, zone after the year, " remote from
    host", empty and spaced senders) and near misses in the body (a bad
    shape, a shape UW accepts around nonsense fields, "from ", ">From ");
  * empty files and files that are not mailboxes (text, MMDF, mbx, a bad
    first From_ line, binary).

INFO: {"features": [names], "nozone": [epochs]}: the From_ lines written
without a zone, or with a zone name c-client does not know, as seconds of
their local wall-clock time read as UTC (the differential test needs them
for the kept difference of issue 16 item 7).

Python stdlib only.
"""

import calendar
import random

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
ZONE_NAMES = ["UTC", "GMT", "MET", "EET", "JST", "ADT", "AST", "EDT", "EST",
              "CDT", "CST", "MDT", "MST", "PDT", "PST", "YDT", "YST", "HST",
              "pst", "Est", "CET", "BST", "XYZ"]
# the zone names c-client knows (imap-2007 mail.c, mail_parse_date; upper
# case only): any other name it reads as the local zone of the moment,
# as a From_ line without a zone
CCLIENT_ZONES = {"UTC", "GMT", "MET", "EET", "JST", "ADT", "AST", "EDT", "EST",
                 "CDT", "CST", "MDT", "MST", "PDT", "PST", "YDT", "YST",
                 "HST"}
KEYWORDS = ["Personal", "Work", "Junk", "NonJunk", "$Label1", "$Forwarded",
            "$MDNSent", "todo", "Later", "Important", "a", "Z", "x-y",
            "Family", "Receipts", "Travel", "Bills", "Read-later", "ABC",
            "project_7", "Q4", "urgent!", "blue", "Green"]
NON_ATOMS = ["\\Deleted", "\\Seen", "a(b", "quo\"te", "br{ace", "per%cent",
             "st*ar", "\x7f", "caf\xe9", "]x"]


def _case_variant(rng, word):
    r = rng.random()
    if r < 0.3:
        return word.lower()
    if r < 0.6:
        return word.upper()
    if r < 0.8:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower()
                       for c in word)
    return word


class Gen:
    def __init__(self, seed, index):
        self.rng = random.Random("%s/%d" % (seed, index))
        self.features = []
        self.nozone = []

    def feat(self, name):
        if name not in self.features:
            self.features.append(name)

    # ---- dates and From_ lines ----

    def date_fields(self):
        rng = self.rng
        r = rng.random()
        if r < 0.15:        # around the DST changes
            year = rng.choice([2004, 2006, 2009])
            month = rng.choice([3, 10])
            day = rng.randint(24, 31)
            hour = rng.choice([0, 1, 2, 3, 23])
        else:
            year = rng.randint(1996, 2012)
            month = rng.randint(1, 12)
            day = rng.randint(1, calendar.monthrange(year, month)[1])
            hour = rng.randint(0, 23)
        minute, sec = rng.randint(0, 59), rng.randint(0, 59)
        wday = DAYS[calendar.weekday(year, month, day)]
        if rng.random() < 0.05:
            wday = rng.choice(DAYS)     # UW does not check the weekday
        return year, month, day, hour, minute, sec, wday

    def sender(self):
        rng = self.rng
        r = rng.random()
        if r < 0.75:
            return "user%d@example.org" % rng.randint(1, 99)
        if r < 0.82:
            return "MAILER-DAEMON"
        if r < 0.88:
            self.feat("from-sender-empty")
            return ""
        if r < 0.94:
            self.feat("from-sender-spaces")
            return "John Q. Public"
        self.feat("from-sender-odd")
        return rng.choice(["<>", "a\tb@c", "x@y From z", "\"q r\"@s"])

    def from_line(self):
        """A From_ line UW accepts, in one of VALID's layouts."""
        rng = self.rng
        y, mo, d, h, mi, s, wd = self.date_fields()
        hm = "%02d:%02d" % (h, mi)
        secs = rng.random() < 0.8
        t = hm + (":%02d" % s if secs else "")
        sec_val = s if secs else 0
        day = "%2d" % d if rng.random() < 0.85 else "%02d" % d
        zone = None
        form = rng.randrange(5)
        if form == 0:
            tail = "%s %d" % (t, y)
        elif form == 1:
            zone = rng.choice(ZONE_NAMES)
            tail = "%s %s %d" % (t, zone, y)
        elif form == 2:
            zone = "%s%02d%02d" % (rng.choice("+-"), rng.randint(0, 13),
                                   rng.choice([0, 0, 30, 45]))
            tail = "%s %s %d" % (t, zone, y)
        elif form == 3:
            zone = rng.choice(ZONE_NAMES)
            tail = "%s %d %s" % (t, y, zone)
        else:
            zone = "%s%02d%02d" % (rng.choice("+-"), rng.randint(0, 13),
                                   rng.choice([0, 30]))
            tail = "%s %d %s" % (t, y, zone)
        self.feat("from-form-%d%s" % (form, "" if secs else "-nosec"))
        line = "From %s %s %s %s %s" % (self.sender(), wd, MONTHS[mo - 1],
                                         day, tail)
        if rng.random() < 0.08:
            self.feat("from-remote")
            line += " remote from host%d" % rng.randint(1, 9)
        if zone is None or zone not in CCLIENT_ZONES and zone[0] not in "+-":
            self.nozone.append(calendar.timegm((y, mo, d, h, mi, sec_val)))
        return line

    def near_miss(self):
        """A line that looks like a From_ line to someone, not to UW (or
        to UW but not to a stricter reader)."""
        rng = self.rng
        good = self.from_line()
        forms = [
            lambda: "From someone who wrote this in the body",
            lambda: "From " + good[5:].replace(":", ".", 1),
            lambda: "from " + good[5:],
            lambda: "From:" + good[5:],
            lambda: ">" + good,
            lambda: ">>" + good,
            lambda: "From  " + good[5:],
            lambda: good + "  ",
            lambda: good.replace(" 20", " '", 1),
            lambda: "From x Tue Nov 9 10:11:12 2004",
            lambda: "From x Xxx Yyy 99 99:99:99 9999",       # shape only
            lambda: "From x Tue Feb 30 10:11:12 2004",
            lambda: "From x Tue Nov  9 25:61:12 2004",
            lambda: "From x Tue Nov  9 10:11:12 04",
            lambda: "From x Tue Nov  9 10:11:12 2004 remote",
            lambda: "From x Tue Nov  9 10:11:12 +0100 2004 x",
            lambda: "From x Tue Nov  9 10:11:12 2004 +01",
            lambda: "From x Tue Nov  9 10:11:12 ABCD 2004",
            lambda: "From x Tue Nov  9 10:11:12 2004\x00",
            lambda: "From x Tue Nov  9 10:11:12 2004 +0199",
            lambda: "From x Tue Nov  9 10:11:12 -9999 2004",
            lambda: "From x Tue Nov  9 10:11:12 2004 remote from",
            lambda: "From",
            lambda: "From ",
            # shapes UW accepts around fields its date parser reads its
            # own way (found by fuzz-differential)
            lambda: "From x Fri Dec 18 16:14:4& BST 2009",
            lambda: "From x Fri Nov 16 03:42 4002",
            lambda: "From x Sun Dec 2, 23:48 2008",
            lambda: "From x Wed Jun  2 23:01:5) 2004 -1200",
            # years c-client reads as two-digit ones ("0003" is 2003,
            # "0049" 1949: no date), zone hours modulo 16 (fuzz finds)
            lambda: "From x Sat May 10 00:23:43 0003 +0000",
            lambda: "From x Sat May 10 00:23:43 0100 -0100",
            lambda: "From x Sat May 10 00:23:43 0049 +0000",
            lambda: "From x Tue Nov  9 10:11:12 2004 +1700",
            lambda: "From x Tue Nov  9 10:11:12 -2330 2004",
        ]
        i = rng.randrange(len(forms))
        # a near miss must not be counted as a zone-less separator
        n = len(self.nozone)
        line = forms[i]()
        del self.nozone[n:]
        if i in (10, 11, 12, 15, 16, 17, 19, 20):
            # UW's VALID looks at the shape only: these may split for it
            self.nozone_guess(line)
        elif i == 24:       # c-client: 16:14:04, BST unknown: local
            self.nozone.append(calendar.timegm((2009, 12, 18, 16, 14, 4)))
        elif i == 27:       # c-client: 23:01:05, the zone not read
            self.nozone.append(calendar.timegm((2004, 6, 2, 23, 1, 5)))
        self.feat("near-miss-%d" % i)
        return line

    def nozone_guess(self, line):
        """A From_ line whose fields UW might read as a zone-less date."""
        try:
            p = line.split()
            y = int(p[-1])
            mo = MONTHS.index(p[-4]) + 1
            d = int(p[-3])
            hh = [int(x) for x in p[-2].split(":")]
            self.nozone.append(calendar.timegm(
                (y, mo, d, hh[0], hh[1], hh[2] if len(hh) > 2 else 0)))
        except (ValueError, IndexError, OverflowError):
            pass

    # ---- headers ----

    def flag_header(self, name=None):
        rng = self.rng
        name = name or rng.choice(["Status", "X-Status"])
        pool = "ROADFT" * 3 + "rodx U"
        letters = "".join(rng.choice(pool) for _ in range(rng.randint(0, 7)))
        self.feat("flags-" + name)
        for c in set(letters):
            self.feat("flag-%s-%s" % (name, c if c != " " else "space"))
        sep = rng.choice([" ", " ", "", "  ", "\t"])
        return "%s:%s%s" % (name, sep, letters)

    def keywords_header(self, declared):
        rng = self.rng
        words = []
        for _ in range(rng.randint(0, 5)):
            r = rng.random()
            if declared and r < 0.55:
                w = rng.choice(declared)
                if rng.random() < 0.4:
                    w = _case_variant(rng, w)
                    self.feat("keyword-case")
                words.append(w)
            elif r < 0.85:
                self.feat("keyword-undeclared")
                words.append(rng.choice(KEYWORDS + ["Spam", "Other"]))
            else:
                self.feat("keyword-odd")
                words.append(rng.choice(NON_ATOMS + ["x" * 70]))
        sep = rng.choice([" ", " ", "  ", "\t", " \t"])
        if sep != " ":
            self.feat("keyword-separator")
        text = sep.join(words)
        if rng.random() < 0.4:
            self.feat("keyword-padding")
            text += " " * rng.randint(1, 40)
        if rng.random() < 0.08 and len(words) > 1:
            self.feat("keyword-folded")
            text = text.replace(sep, "\n\t", 1)
        return "X-Keywords:" + rng.choice([" ", " ", ""]) + text

    def base_header(self, pseudo, state):
        """X-IMAP or X-IMAPbase: '<uidvalidity> <uidlast> kw...'."""
        rng = self.rng
        uv = rng.choice([rng.randint(900000000, 1300000000), 1, 2 ** 31,
                         4294967295])
        last = rng.randint(0, 40)
        state["uidlast"] = last
        fields = ["%010d" % uv if rng.random() < 0.5 else str(uv),
                  "%010d" % last if rng.random() < 0.5 else str(last)]
        r = rng.random()
        if r < 0.05:
            fields[0] = "0"
            self.feat("base-uidvalidity-0")
        elif r < 0.08:
            fields[0] = "abc"
            self.feat("base-uidvalidity-junk")
        elif r < 0.11:
            fields = fields[:1]
            self.feat("base-no-uidlast")
        elif r < 0.14:
            fields[1] = "x"
            self.feat("base-uidlast-junk")
        elif r < 0.16:
            fields[0] = "99999999999"
            self.feat("base-uidvalidity-huge")
        elif r < 0.18:
            fields = []
            self.feat("base-empty")
        ndecl = rng.choice([0, 0, 1, 2, 3, 5, 8, 26, 27, 30])
        declared = rng.sample(KEYWORDS, min(ndecl, len(KEYWORDS)))
        while len(declared) < ndecl:
            declared.append("kw%d" % len(declared))
        if ndecl > 26:
            self.feat("keywords-over-26")
        if rng.random() < 0.1:
            declared.append(rng.choice(NON_ATOMS + ["y" * 70]))
            self.feat("declared-odd")
        if rng.random() < 0.1 and declared:
            declared.append(_case_variant(rng, declared[0]))
            self.feat("declared-twice")
        state["declared"] = declared
        name = "X-IMAP" if pseudo else "X-IMAPbase"
        self.feat("base-" + name)
        sep = rng.choice([" ", " ", "  ", "\t"])
        text = "%s: %s" % (name, sep.join(fields + declared))
        if rng.random() < 0.2:
            text += " " * rng.randint(1, 10)
            self.feat("base-padding")
        return text

    def uid_header(self, state):
        rng = self.rng
        prev = state.get("uid", 0)
        last = state.get("uidlast", 0)
        r = rng.random()
        if r < 0.7:
            uid = prev + rng.randint(1, 3)
            if uid > last and rng.random() < 0.7 and prev < last:
                uid = rng.randint(prev + 1, last)
            self.feat("uid-up" if uid <= last else "uid-beyond-last")
        elif r < 0.78:
            uid = prev
            self.feat("uid-repeat")
        elif r < 0.84:
            uid = max(0, prev - rng.randint(1, 3))
            self.feat("uid-down")
        elif r < 0.88:
            uid = 0
            self.feat("uid-0")
        elif r < 0.92:
            self.feat("uid-junk")
            return "X-UID: " + rng.choice(["x", "12x", "-3", " 7 8",
                                            "99999999999", "4294967296"])
        else:
            uid = last + rng.randint(1, 5)
            self.feat("uid-beyond-last")
        state["uid"] = uid
        return "X-UID: " + (rng.choice(["", " ", "0"]) + str(uid)
                            if rng.random() < 0.15 else str(uid))

    # ---- messages ----

    def body_lines(self):
        rng = self.rng
        lines = []
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            r = rng.random()
            if r < 0.12:
                lines.append(self.near_miss())
            elif r < 0.2:
                lines.append("")
                self.feat("body-blank")
            elif r < 0.25:
                lines.append(">From the body, quoted")
            elif r < 0.28:
                self.feat("body-nul")
                lines.append("nul\x00byte")
            elif r < 0.31:
                self.feat("body-bare-cr")
                lines.append("bare\rcr")
            elif r < 0.33:
                self.feat("body-header-like")
                lines.append("Status: RO")
            else:
                lines.append(rng.choice(["Hello,", "see you", "-- ",
                                         "x" * rng.randint(1, 90),
                                         "\tindented", "caf\xe9"]))
        return lines

    def message(self, state, first, pseudo=False):
        rng = self.rng
        hdr = []
        declared = state.get("declared", [])
        if pseudo:
            hdr.append("Date: Tue, 09 Nov 2004 10:11:12 +0100")
            hdr.append("From: Mail System Internal Data "
                       "<MAILER-DAEMON@example.org>")
            subj = "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA"
            if rng.random() < 0.2:
                subj = "site-specific internal data"
                self.feat("pseudo-subject-changed")
            hdr.append("Subject: " + subj)
            hdr.append("Message-ID: <%d@example.org>" % rng.randint(1, 1e6))
            if state.get("uids") and rng.random() < 0.08:
                # X-IMAPbase, an X-UID taken, a second one (c-client
                # resets), then the X-IMAP read afresh: c-client still
                # wants later X-UIDs above the one it took (fuzz find)
                self.feat("pseudo-after-uid-reset")
                uid = rng.randint(1, 30)
                hdr.append(self.base_header(False, dict(state)))
                hdr.append("X-UID: %d" % uid)
                hdr.append("X-UID: %d" % rng.choice([uid, uid + 1, 0]))
            hdr.append(self.base_header(True, state))
            hdr.append("Status: RO")
            body = ["This text is part of the internal format of your mail "
                    "folder, and is not", "a real message."]
            return hdr, body, True
        hdr.append("From: a%d@example.org" % rng.randint(1, 9))
        hdr.append("Subject: message %d" % rng.randint(1, 999))
        if first and state.get("imapbase"):
            hdr.insert(rng.randint(0, len(hdr)),
                       self.base_header(False, state))
            declared = state.get("declared", [])
            if rng.random() < 0.08:
                # X-UIDs around a second X-IMAPbase: c-client resets,
                # reads it afresh, and compares the next X-UID with the
                # one it took before (fuzz find); shuffled below
                self.feat("uid-reset-rebase")
                uid = rng.randint(1, 30)
                hdr += ["X-UID: %d" % uid, "X-UID: %d" % uid,
                        self.base_header(False, dict(state)),
                        "X-UID: %d" % rng.choice([uid, uid + 1])]
        elif not first and rng.random() < 0.03:
            self.feat("base-not-first")
            hdr.append(self.base_header(rng.random() < 0.5, dict(state)))
        if state.get("uids") and rng.random() < 0.9:
            hdr.append(self.uid_header(state))
        elif state.get("uids"):
            self.feat("uid-missing")        # new mail UW had not seen
        elif rng.random() < 0.05:
            self.feat("uid-without-base")
            hdr.append("X-UID: %d" % rng.randint(1, 9))
        for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
            hdr.append(self.flag_header())
        if rng.random() < 0.5:
            for _ in range(rng.choice([1, 1, 1, 2])):
                hdr.append(self.keywords_header(declared))
        r = rng.random()
        body = self.body_lines()
        if r < 0.12:
            self.feat("content-length-right")
            hdr.append("Content-Length: %d" % len(
                ("\n".join(body) + "\n").encode("latin-1")
                if body else b""))
        elif r < 0.18:
            self.feat("content-length-wrong")
            hdr.append("Content-Length: %d" % rng.randint(0, 500))
        elif r < 0.2:
            self.feat("content-length-junk")
            hdr.append("Content-Length: lots")
        if rng.random() < 0.05:
            self.feat("header-nul")
            hdr.append("X-Nul: a\x00b")
        if rng.random() < 0.05:
            self.feat("header-continuation")
            hdr.append("X-Long: one\n two")
        rng.shuffle(hdr)
        header_only = rng.random() < 0.12
        if header_only:
            self.feat("header-only")
            body = None
        return hdr, body, False

    # ---- line ends ----

    def eol(self, mode):
        if mode == "lf":
            return "\n"
        if mode == "crlf":
            return "\r\n"
        return self.rng.choice(["\n", "\n", "\r\n", "\r\n", "\r"])

    # ---- the folder ----

    def not_a_mailbox(self):
        rng = self.rng
        kinds = [
            ("text", lambda: "Hello, this is not mail.\n"),
            ("mmdf", lambda: "\x01\x01\x01\x01\n" + self.from_line() +
             "\nSubject: x\n\nbody\n\x01\x01\x01\x01\n"),
            ("mbx", lambda: "*mbx*\r\n" + "0" * 40 + "\r\n"),
            ("bad-first-from", lambda: "From nobody at all\n\n" +
             self.from_line() + "\nSubject: x\n\nbody\n"),
            ("binary", lambda: "".join(chr(rng.randrange(256))
                                      for _ in range(rng.randint(1, 80)))),
            ("header-first", lambda: "Subject: x\n\n" + self.from_line() +
             "\nSubject: y\n\nbody\n"),
            ("space-no-newline", lambda: "  " + self.from_line() +
             "\nSubject: x\n\nbody\n"),
            ("tenex-like", lambda: "9-Nov-2004 10:11:12 +0100,12;000000000000"
             "\nSubject: x\n\n"),
            ("just-newlines", lambda: "\n" * rng.randint(1, 4)),
            ("nul-first", lambda: "\x00" + self.from_line() + "\n\nx\n"),
        ]
        name, f = rng.choice(kinds)
        self.feat("not-mbox-" + name)
        return f()

    def build(self):
        rng = self.rng
        r = rng.random()
        if r < 0.02:
            self.feat("empty-file")
            return b""
        if r < 0.06:
            return self.not_a_mailbox().encode("latin-1")
        mode = rng.choices(["lf", "crlf", "mixed"], [70, 15, 15])[0]
        self.feat("eol-" + mode)
        out = []
        if rng.random() < 0.1:
            ws = "".join(rng.choice(" \t\r\n") for _ in range(
                rng.randint(1, 6)))
            if rng.random() < 0.7:
                ws += rng.choice(["\n", "\r\n"])
            self.feat("leading-space" + ("" if ws.endswith("\n") else
                                         "-no-newline"))
            out.append(ws)
        state = {}
        meta = rng.random()
        pseudo = meta < 0.25
        state["imapbase"] = 0.25 <= meta < 0.6
        state["uids"] = meta < 0.65
        if meta >= 0.6:
            self.feat("no-uid-data")
        nmsg = rng.choice([0, 1, 1, 2, 2, 3, 4, 6]) + (1 if pseudo else 0)
        if nmsg == 0:
            nmsg = 1
        for i in range(nmsg):
            is_pseudo = pseudo and i == 0
            hdr, body, _ = self.message(state, i == (1 if pseudo else 0),
                                        is_pseudo)
            lines = [self.from_line()] + "\n".join(hdr).split("\n")
            if body is not None:
                lines.append("")
                lines.extend(body)
            last = i == nmsg - 1
            sep_blank = rng.random()
            if not last:
                if sep_blank < 0.85:
                    lines.append("")
                elif sep_blank < 0.9:
                    self.feat("two-blank-lines")
                    lines += ["", ""]
                else:
                    self.feat("no-blank-before-from")
            else:
                if sep_blank < 0.6:
                    lines.append("")
            for j, ln in enumerate(lines):
                out.append(ln)
                if last and j == len(lines) - 1 and rng.random() < 0.12:
                    self.feat("no-final-newline")
                    break
                e = self.eol(mode)
                if e == "\r" and ln.startswith(("X-Keywords:", "X-IMAP")):
                    # c-client loops forever on a bare CR among these
                    # words: rarely, as it costs the test a timeout
                    if rng.random() < 0.03:
                        self.feat("cclient-loops")
                    else:
                        e = "\n"
                out.append(e)
        data = "".join(out)
        if rng.random() < 0.03:
            self.feat("cr-cr-lf")
            data = data.replace("\n", "\r\r\n", 1)
        return data.encode("latin-1")


def folder(seed, index):
    """The folder INDEX of SEED: (bytes, {"features", "nozone"})."""
    g = Gen(seed, index)
    data = g.build()
    return data, {"features": g.features, "nozone": g.nozone}


if __name__ == "__main__":
    import sys
    seed = sys.argv[1] if len(sys.argv) > 1 else "1"
    idx = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    d, info = folder(seed, idx)
    sys.stdout.buffer.write(d)
    sys.stderr.write("%s\n" % info)
