#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/TARGET/).

The seeds are checked in; this script is how they were made: run it again
after changing it (it rewrites only the files it names).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
F = b"From user@example.com Tue Nov  9 10:11:12 2004"
PSEUDO = (b"From MAILER-DAEMON Wed Jan  5 12:00:00 2005\n"
          b"Date: 05 Jan 2005 12:00:00 +0100\n"
          b"From: Mail System Internal Data <MAILER-DAEMON@host>\n"
          b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
          b"Message-ID: <1104922800@host>\n"
          b"X-IMAP: 1104922800 0000000012 $Forwarded Junk  NonJunk\n"
          b"Status: RO\n\n"
          b"This text is part of the internal format of your mail folder, "
          b"and is not\na real message.\n\n")


def msg(hdr=b"Subject: hi\n", body=b"body\n", frm=F, nl=b"\n"):
    return frm + nl + hdr.replace(b"\n", nl) + nl + body.replace(b"\n", nl) + nl

def md(uidlist=b"3 V1 N1\n", keywords=None, subscriptions=None, names=None,
       flags=0x07):
    """A maildir-reader input: the flags byte, then the parts with a line
    "%%" between them (None: that file is missing)."""
    parts = [uidlist, keywords, subscriptions, names]
    flags |= ((0x10 if uidlist is None else 0) |
              (0x20 if keywords is None else 0) |
              (0x40 if subscriptions is None else 0))
    while parts and parts[-1] is None:
        parts.pop()
    return bytes([flags]) + b"%%\n".join(p or b"" for p in parts)


SEEDS = {
    "mbox-reader": {
        "empty": b"",
        "one": msg(),
        "two": msg() + msg(b"X-UID: 7\nStatus: RO\nX-Status: AF\n"),
        "pseudo": PSEUDO + msg(b"X-UID: 11\nStatus: RO\nX-Keywords: Junk $Forwarded   \n")
                  + msg(b"X-UID: 12\nStatus: O\n"),
        "imapbase": msg(b"X-IMAPbase: 1104922800 3 a b\nX-UID: 1\n")
                    + msg(b"X-UID: 3\n"),
        "from-quoting": msg(body=b"From here on\n>From there\n>>From x\nFrom \n"
                            b"From nobody Tue Nov  9 10:11 2004 remote from x\n"),
        "from-in-body-invalid": msg(body=b"From me to you: hello\n\n"
                                    b"From x Mon Feb 30 99:99:99 2004\n"),
        "no-blank-before-from": F + b"\nSubject: a\n\nline\n" + F + b"\nSubject: b\n\nx\n",
        "crlf": msg(nl=b"\r\n") + msg(nl=b"\r\n"),
        "mixed-crlf": msg(b"Subject: a\r\nX-UID: 3\r\n", b"a\r\n\r\n\n"),
        "no-final-newline": F + b"\nSubject: x\n\nlast line",
        "header-only": F + b"\nSubject: no body",
        "from-only": F,
        "from-only-nl": F + b"\n",
        "empty-messages": F + b"\n" + F + b"\n\n" + F + b"\n\n\n",
        "blank-lines": msg(body=b"\n\n\n\n") + b"\n\n" + msg(),
        "nul-bytes": msg(b"Subject: a\0b\n", b"\0\0\0\n\0From x\n"),
        "content-length": msg(b"Content-Length: 3\n", b"abcdef\n" + F + b"\n"),
        "zones": b"".join(msg(frm=b"From a " + d) for d in [
            b"Tue Nov  9 10:11:12 2004 +0100", b"Tue Nov  9 10:11 2004",
            b"Tue Nov  9 10:11:12 EST 2004", b"Tue Nov  9 10:11:12 2004 PST",
            b"Tue Nov  9 10:11:12 -0830 2004", b"Tue Nov  9 2004 10:11:12",
            b"Sun Mar 28 02:30:00 2004", b"Sun Oct 31 02:30:00 2004"]),
        "long-line": msg(body=b"x" * 9000 + b"\n" + b"From " + b"y" * 5000 + b"\n"),
        "long-from-line": b"From " + b"s" * 4100 + b" Tue Nov  9 10:11:12 2004\nx\n",
        "folded-uw-headers": msg(b"X-Keywords: a\n\tb\n c\nX-UID:\n 5\nStatus: R\n O\n"),
        "invalid-first": b"Subject: not an mbox\n\nFrom x\n",
    },
    "mbox-header": {
        "plain": b"Subject: hello\nTo: a@b",
        "uw": b"Status: RO\nX-Status: ADFT\nX-Keywords: Junk  $Label1 \nX-UID: 42",
        "pseudo": b"X-IMAP: 1104922800 0000000012 $Forwarded Junk\nStatus: RO",
        "imapbase": b"X-IMAPbase: 1104922800 3 a b\nX-UID: 1",
        "big-uid": b"X-UID: 99999999999999999999\nX-IMAPbase: 4294967296 18446744073709551616",
        "bad-uid": b"X-UID: 12abc\nX-UID: -1\nX-UID:",
        "folded": b"X-Keywords: a\n\tb\n  c\nSubject: x\n y\nX-UID: 3\n \n",
        "no-colon-value": b"X-IMAP:\nX-IMAPbase:\nStatus:\nX-Keywords:",
        "case": b"x-uid: 5\nSTATUS: R\nX-imap: 1 2\nstatus: RO",
        "crlf": b"Status: RO\r\nX-UID: 5\r\nX-Keywords: a b\r\n",
        "nul": b"X-Keywords: a\0b\nX-UID: 1\0\n",
        "content-length": b"Content-Length: 100\nContent-Length: x",
        "duplicates": b"X-Keywords: a\nX-Keywords: b\nX-UID: 1\nX-UID: 2",
        "continuation-first": b" folded first\nStatus: R",
        "from-inside": b"Subject: a\n" + F + b"\nX-UID: 9",
    },
    "from-line": {
        "ctime": F,
        "no-seconds": b"From a Tue Nov  9 10:11 2004",
        "zone-name": b"From a Tue Nov  9 10:11:12 EST 2004",
        "zone-after": b"From a Tue Nov  9 10:11:12 2004 PST",
        "offset": b"From a Tue Nov  9 10:11:12 +0100 2004",
        "offset-after": b"From a Tue Nov  9 10:11:12 2004 -0830",
        "remote-from": b"From a Tue Nov  9 10:11:12 2004 remote from host.example",
        "crlf": F + b"\r",
        "empty-sender": b"From  Tue Nov  9 10:11:12 2004",
        "sender-spaces": b"From a b c Tue Nov  9 10:11:12 2004",
        "dst-gap": b"From a Sun Mar 28 02:30:00 2004",
        "dst-repeat": b"From a Sun Oct 31 02:30:00 2004",
        "leap": b"From a Wed Dec 31 23:59:60 2008",
        "feb30": b"From a Mon Feb 30 10:11:12 2004",
        "bad-month": b"From a Tue Xyz  9 10:11:12 2004",
        "bad-hour": b"From a Tue Nov  9 24:11:12 2004",
        "year0": b"From a Sat Jan  1 00:00:00 0000 +2359",
        "year9999": b"From a Fri Dec 31 23:59:59 9999 -2359",
        "nl-inside": b"From a Tue Nov  9 10:11:12 2004\nFrom b Tue Nov  9 10:11:12 2004",
        "nul-inside": b"From a\0Tue Nov  9 10:11:12 2004",
        "short": b"From ",
        "long-sender": b"From " + b"x" * 3000 + b" Tue Nov  9 10:11:12 2004",
        "8bit": b"From \xc3\xa4\xff Tue Nov  9 10:11:12 2004",
        # years and fields at the edges of local_time_mktime's per-day
        # cache and of c-client's year window (from_line_parse_uw)
        "epoch-local": b"From a Thu Jan  1 00:59:59 1970",
        "before-epoch": b"From a Wed Dec 31 23:59:59 1969",
        "year-1901": b"From a Fri Dec 13 20:45:52 1901",
        "year-2038": b"From a Tue Jan 19 04:14:08 2038",
        "year-2097-dst": b"From a Sun Oct 27 02:30:00 2097",
        "year-2098": b"From a Wed Jan  1 00:00:00 2098",
        "year-0049": b"From a Fri Jan  1 10:00:00 0049",
        "year-0998": b"From a Sat Dec 31 23:59:59 0998",
        "year-1899": b"From a Sun Dec 31 23:59:59 1899",
        "year-9999-local": b"From a Fri Dec 31 23:59:59 9999",
        "leap-local": b"From a Wed Dec 31 23:59:60 2008",
        "feb29-nonleap": b"From a Thu Feb 29 12:00:00 2100",
        "feb29-2000": b"From a Tue Feb 29 12:00:00 2000",
        "dst-gap-edge": b"From a Sun Mar 28 01:59:59 2004",
        "dst-repeat-edge": b"From a Sun Oct 31 02:59:59 2004",
        "uw-zone-mod16": b"From a Tue Nov  9 10:11:12 2004 +1700",
        "uw-zone-dash": b"From a Tue Nov  9 10:11:12 2004 -XYZ",
        "uw-unknown-zone": b"From a Tue Nov  9 10:11:12 QQQ 2004",
        "day-31-nov": b"From a Wed Nov 31 10:11:12 2004",
    },
    "mutf7": {
        "ascii": b"Sent",
        "amp": b"R&D",
        "amp-encoded": b"R&-D",
        "umlaut": "Entwürfe".encode(),
        "umlaut-encoded": b"Entw&APw-rfe",
        "cjk": "日本語".encode(),
        "cjk-encoded": b"&ZeVnLIqe-",
        "astral": "\U0001F600 mail".encode(),
        "astral-encoded": b"&2D3eAA- mail",
        "adjacent-runs": b"&AOQ-&APY-",
        "overlong-ascii": b"&AGE-",
        "nul-encoded": b"&AAA-",
        "lone-high": b"&2D0-",
        "lone-low": b"&3gA-",
        "padding": b"&AOQB-",
        "unterminated": b"&AOQ",
        "empty-run": b"&-&-",
        "bad-base64": b"&A/Q-",
        "latin1": b"Entw\xfcrfe",
        "overlong-utf8": b"\xc0\xaf\xe0\x80\xaf",
        "surrogate-utf8": b"\xed\xa0\x80",
        "control": b"a\x01\x7f\xc2\x80b",
        "tilde-dot": b"~a.b/../c",
    },
    "folder-names": {
        "plain": b"Sent",
        "nested": b"work/2004/q1",
        "utf8": "Entwürfe".encode(),
        "mutf7": b"Entw&APw-rfe",
        "amp": b"R&D",
        "dot": b"a.b",
        "dots": b"./../...",
        "dotdot": b"a/../b",
        "empty-level": b"a//b/",
        "inbox": b"INBOX",
        "inbox-lower": b"inbox",
        "inbox-nested": b"Inbox/x",
        "tilde": b"~x/y",
        "latin1": b"Entw\xfcrfe",
        "cp1252": b"\x80\x93\x9f",
        "control": b"a\tb\x1b[31m",
        "c1": b"a\xc2\x85b",
        "long": b"x" * 300,
        "long-utf8": "ü".encode() * 200,
        "long-levels": b"/".join([b"abcdefghij"] * 30),
        "slash-only": b"/",
        "cur": b"cur/new/tmp",
        "invalid-mutf7": b"&AGE-/&2D0-",
    },
    "mailboxlist": {
        "simple": b"INBOX\nmail/Sent\nmail/work/2004\n",
        "tilde": b"~/mail/box\n~/Sent\n~fred/mail/x\n",
        "crlf": b"mail/a\r\nmail/b\r\n\r\n",
        "duplicates": b"mail/a\nmail/a\n~/mail/a\nINBOX\ninbox\n",
        "foreign": b"/var/spool/mail/fred\n#news.comp.mail\n{imap.example.com}INBOX\n#shared/x\n",
        "trailing-slash": b"mail/dir/\nmail/dir//\n",
        "mutf7": b"mail/Entw&APw-rfe\nmail/R&D\nmail/&AGE-\n",
        "no-final-newline": b"mail/a\nmail/b",
        "nul": b"mail/a\0b\n\0\n",
        "empty": b"",
        "blank": b"\n\n\r\n",
        "latin1": b"mail/Entw\xfcrfe\n",
        "prefix-only": b"mail/\n~/\n~\nmail\n",
    },
    "config": {
        "defaults": b"",
        "full": (b'spool_dir = "/var/spool/mail"\nhomes_dir = "/home"\n'
                 b'folder_roots = {"~/mail", "~", "/srv/folders/%u"}\n'
                 b'target_base = "/data/mail2"\ntarget_layout = "%1u/%u"\n'
                 b'work_dir = "/root/migrate"\nuid_min = 1000\nuid_max = 60000\n'
                 b'owner = "passwd"\njobs = 4\nmboxrd = true\nsource_tz = "Europe/Berlin"\n'),
        "comments": b'# comment\n// c++\n/* c */ jobs = 2 # x\n',
        "bad-layout": b'target_layout = "%x"\n',
        "dotdot-root": b'folder_roots = {"~/../x"}\n',
        "many-roots": b'folder_roots = {' + b",".join(b'"~/r%d"' % i for i in range(20)) + b'}\n',
        "append-roots": b'folder_roots += {"~/a"}\n' * 10,
        "unknown": b'nosuch = 1\n',
        "unterminated": b'spool_dir = "/var\n',
        "owner-uidgid": b'owner = "1000:1000"\nuid_min = -1\n',
        "huge-int": b'uid_max = 99999999999999999999999\njobs = -5\n',
        "escapes": b'spool_dir = "a\\"b\\\\c\\n"\nsource_tz = \'x\'\n',
        "section": b'x { y = 1 }\n',
        "include": b'include("/etc/passwd")\n',
        "nul": b'spool_dir = "a\0b"\n',
        "empty-values": b'spool_dir = ""\nwork_dir = ""\nfolder_roots = {}\n',
        "layout-percent": b'target_layout = "%%/%2u/%u"\n',
    },
    "journal": {
        "empty": b"",
        "header": b"# mbox2dovecot journal 1\n",
        "typical": (b"# mbox2dovecot journal 1\nU\tfred\t/data/mail2/fred\n"
                    b"C\tfred\tfred/INBOX\t/data/mail2/fred\t\n"
                    b"D\tfred\tfred/INBOX\t/data/mail2/fred\t\t2049\t1234\t5000\t"
                    b"1700000000\t123456789\t0123456789abcdef\t12\t1104922800\t13\n"
                    b"C\tfred\tfred/mail/a\t/data/mail2/fred\t.a\n"),
        "forget": (b"U\tbob\t/t/bob\nC\tbob\tbob/x\t/t/bob\t.x\nF\tbob\tbob/x\nG\tbob\n"),
        "escapes": b"U\tfr\\ted\t/t\\\\x\\n\nC\ta\\\tb\tl\tt\t.d\\\n",
        "torn": b"U\tfred\t/t/fred\nC\tfred\tfred/INBOX\t/t",
        "bad-line": b"X\tnonsense\n",
        "bad-number": b"D\tu\tl\tt\t.d\tx\t1\t2\t3\t4\t5\t6\t7\t8\n",
        "too-many-fields": b"U" + b"\tx" * 20 + b"\n",
        "nul": b"U\tfred\t/t\n\0U\tbob\t/t2\n",
        "crlf": b"U\tfred\t/t\r\n",
        "blank-lines": b"\n\n#\n",
    },
    "maildir-reader": {
        # FLAGS-BYTE uidlist %% keywords %% subscriptions %% names
        # (fuzz-maildir-reader.c); md() flags 0x07: optional, strict,
        # keywords
        "typical": md(b"3 V1104922800 N4 G3085f01b7f11094c501100008c4a11c1\n"
                      b"1 :1104922801.M1P1.host\n"
                      b"2 W1234 S1200 :1104922802.M2P1.host\n"
                      b"3 :1700000000.M3P9.host\n",
                      b"0 Junk\n1 $Forwarded\n2 NonJunk\n",
                      b"V\t2\nSent\nwork\t2004\nEntw&APw-rfe\n",
                      b"1104922801.M1P1.host,S=12,W=13:2,S\n"
                      b"1104922802.M2P1.host:2,FRSab\n"
                      b"new/1700000000.M3P9.host\n"
                      b"new/1700000001.M4P9.host\n"),
        "lenient": md(b"3 V1 N3\nno colon here\n2 :b\n1 :a\nx :c\n-5 :d\n",
                      b"", b"", b"a:2,\nb:2,ST\nc\n", flags=0x05),
        "strict-forged": md(b"3 V1 N9\n5 :a\n5 :b\n1 :c\n", b"", b"",
                            b"a\nb\n", flags=0x02),
        "strict-slash": md(b"3 V1 N9\n1 :../../etc/passwd\n", flags=0x02),
        "strict-nul": md(b"3 V1 N9\n1 :a\0b\n2 :c\n", flags=0x02),
        "strict-huge-uid": md(b"3 V1 N9\n99999999999999999999999 :a\n"
                              b"4294967296 :b\n", flags=0x02),
        "not-v3": md(b"1 V1 N2\n1 :a\n", flags=0x02),
        "header-overflow": md(b"3 V-1 N99999999999999999999999999\n",
                              flags=0x02),
        "no-uidlist": md(None, b"0 a\n", None, b"a:2,S\n", flags=0x05),
        "keywords-odd": md(b"3 V1 N2\n", b"26 toohigh\n-1 neg\n 3 space\n"
                           b"4\n5 \n25 last\n25 again\nx y\n"
                           b"99999999999999999999 z\n7 a\0b\n",
                           flags=0x04),
        "subscriptions-plain": md(b"3 V1 N1\n", None,
                                  b"INBOX\nSent\na.b.c\n..\n.a\na.\n"
                                  b"&AGE-\n&2D0-\nR&D\n" + b"x" * 600 +
                                  b"\n" + b"y." * 400 + b"\n"),
        "subscriptions-v2": md(b"3 V1 N1\n", None,
                               b"V\t2\na\tb\n\t\nx\t\n\ty\nc.d\n" +
                               b"&ZeVnLIqe-\t" * 60 + b"\n"),
        "names": md(b"3 V1 N1\n", None, None,
                    b"a:2,zyx\nb:2,DFPRSTdfprst\nc:1,S\nd:2,S:2,T\n"
                    b"e::2,\n:2,S\n.hidden\n.Sent\n.a.&AOQ-\n"
                    b"new/x:2,\nnew/\n" + b"n" * 300 + b"\n",
                    flags=0x0f),
        "special": md(b"3 V1 N2\n1 :link\n", None, None, b"a\n",
                      flags=0x80),
        "special-refused": md(b"3 V1 N2\n1 :link\n", None, None, b"a\n",
                              flags=0x88),
        "crlf": md(b"3 V1 N2\r\n1 :a\r\n", b"0 Junk\r\n",
                   b"V\t2\r\nSent\r\n", b"a\r\n", flags=0x06),
        "duplicate-base": md(b"3 V1 N3\n1 :a\n2 :a\n", None, None,
                             b"a:2,S\nnew/a\n", flags=0x00),
        "empty": b"",
    },
    "mbox-append": {
        # first byte: bit 0 in new/, bit 1 an old message in the mbox
        "plain": b"\x00Return-Path: <a@example.com>\nSubject: x\n\nbody\n",
        "new": b"\x01Subject: x\n\nbody\n",
        "old-mbox": b"\x02Subject: x\n\nbody\n",
        "from-lines": (b"\x00From me Tue Nov  9 10:11:12 2004\nSubject: x\n\n"
                       b"From you Tue Nov  9 10:11:12 2004\n>From x\n"
                       b"From \nFrom"),
        "uw-headers": (b"\x00Status: RO\nX-Status: D\nX-UID: 99\nx-keywords: a\n"
                       b"X-IMAP: 1 2\nX-IMAPbase: 3 4\nStatus :R\nStatus\n"
                       b"X-UID:\n 5\nSubject: x\n\nStatus: RO\n"),
        "no-header-end": b"\x00Subject: x\nX-UID: 7",
        "no-header-end-nl": b"\x02Subject: x\n",
        "empty": b"\x00",
        "crlf": b"\x00Subject: x\r\nX-UID: 1\r\n\r\nFrom x\r\nbody\r\n",
        "nul": b"\x00Subject: a\0b\n\n\0From x\n",
        "return-path-odd": (b"\x00Return-Path: <>\nReturn-Path: <a b@c>\n"
                            b"\n"),
        "return-path-long": b"\x00Return-Path: <" + b"r" * 2000 + b">\n\nx\n",
        "long-header": (b"\x00X-Long: " + b"h" * 70000 + b"\nStatus: R\n\n"
                        b"From x\n"),
        "long-body-line": (b"\x00Subject: x\n\n" + b"b" * 65530 +
                           b"\nFrom y\n" + b"c" * 65536 + b"From z\n"),
    },
    "rollback-record": {
        "v2-done": (b"mbox2dovecot-rollback 2\nstate done\nbefore 1024\n"
                    b"beforesum 0123456789abcdef\nsize 4096\n"
                    b"m 1700000001.M4P9.host\nm 1700000000.M3P9.host\n"),
        "v2-pending": (b"mbox2dovecot-rollback 2\nstate pending\nbefore 0\n"
                       b"beforesum 0000000000000000\nsize 0\n"),
        "v2-escapes": (b"mbox2dovecot-rollback 2\nstate done\nbefore 1\n"
                       b"beforesum ffffffffffffffff\nsize 2\n"
                       b"m a\\sb\\tc\\nd\\\\e\\x01\\x7f\\r\n"
                       b"m \xc3\xa4\xff\n"),
        "v2-bad-escape": (b"mbox2dovecot-rollback 2\nstate done\nbefore 1\n"
                          b"beforesum ffffffffffffffff\nsize 2\n"
                          b"m a\\x00\nm b\\\nm c\\q\n"),
        "v1": (b"mbox2dovecot-rollback 1\nstate done\nbefore 10\n"
               b"size 20\nm a b\tc\\d\nm a\n"),
        "v1-pending": (b"mbox2dovecot-rollback 1\nstate pending\n"
                       b"before 10\nsize 20\n"),
        "cut-short": b"mbox2dovecot-rollback 2\nstate done\nbefore 1\n",
        "no-final-newline": (b"mbox2dovecot-rollback 2\nstate done\nbefore 1"
                             b"\nbeforesum 0000000000000001\nsize 1"),
        "big-numbers": (b"mbox2dovecot-rollback 2\nstate done\n"
                        b"before 9223372036854775807\n"
                        b"beforesum FFFFFFFFFFFFFFFF\n"
                        b"size 99999999999999999999\n"),
        "negative": (b"mbox2dovecot-rollback 2\nstate done\nbefore -1\n"
                     b"beforesum 0000000000000000\nsize -5\n"),
        "nul": (b"mbox2dovecot-rollback 2\nstate done\nbefore 1\n"
                b"beforesum 0000000000000000\nsize 1\nm a\0b\n"),
        "crlf": b"mbox2dovecot-rollback 2\r\nstate done\r\n",
        "empty-name": (b"mbox2dovecot-rollback 2\nstate done\nbefore 1\n"
                       b"beforesum 0000000000000000\nsize 1\nm \nm\n"),
        "magic-3": b"mbox2dovecot-rollback 3\nstate done\n",
        "empty": b"",
    },
}


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
