# SPDX-License-Identifier: MIT
"""Read what mbox2dovecot wrote (Dovecot maildirs, Maildir++) and compare it
with gen-spool.py's manifest, without any Dovecot running.

    import maildir_check as mc

    f = mc.read_folder(path)            # one maildir folder (INBOX = root)
    diag = mc.compare_folder(f, manifest_folder)   # [] when exact
    snap = mc.snapshot_user(root)       # everything of one user, comparable
    diag = mc.diff_snapshots(a, b)      # [] when identical

What is read (see docs/FORMATS.md):
  * dovecot-uidlist: "3 V<uidvalidity> N<nextuid> G<guid>", then one line
    per message "<uid> [ext fields ]:<base name>", UIDs ascending;
  * cur/ and new/: each file's bytes, mtime (= INTERNALDATE), flags from the
    ":2,FLAGS" suffix (D F P R S T, a-z = keywords by dovecot-keywords);
  * dovecot-keywords: "<index> <name>" lines;
  * tmp/ entries (must be empty), maildirfolder (Maildir++ folders).

Python stdlib only.
"""

import base64
import hashlib
import os
import re
import stat

try:
    from dovecot_harness import mutf7_decode, mutf7_encode
except ImportError:  # pragma: no cover - same directory
    from .dovecot_harness import mutf7_decode, mutf7_encode

# maildir info letter -> IMAP system flag
FLAG_LETTERS = {"D": "\\Draft", "F": "\\Flagged", "P": "(P: passed)",
                "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


def maildir_subdir(name):
    """IMAP name ('/' separator, UTF-8) -> Maildir++ directory ('' INBOX)."""
    if name.upper() == "INBOX":
        return ""
    return "." + ".".join(mutf7_encode(level) for level in name.split("/"))


def subdir_name(dirname):
    """Maildir++ directory ('.a.b', mUTF-7) -> IMAP name ('a/b')."""
    if dirname == "":
        return "INBOX"
    return "/".join(mutf7_decode(level) for level in dirname[1:].split("."))


def parse_info(filename):
    """'base,S=1:2,FRa' -> (base, 'FRa' or None when no ':2,' part)."""
    if ":2," in filename:
        base, info = filename.split(":2,", 1)
        return base, info
    return filename.split(":", 1)[0], None


def read_keywords(path):
    kw = {}
    try:
        with open(os.path.join(path, "dovecot-keywords"), "rb") as fp:
            for line in fp.read().decode("utf-8", "replace").splitlines():
                if not line.strip():
                    continue
                idx, name = line.split(" ", 1)
                kw[int(idx)] = name
    except FileNotFoundError:
        pass
    return kw


def read_uidlist(path):
    """-> (header dict or None, [(uid, base, ext)], problems)."""
    problems = []
    p = os.path.join(path, "dovecot-uidlist")
    try:
        with open(p, "rb") as fp:
            lines = fp.read().decode("utf-8", "replace").split("\n")
    except FileNotFoundError:
        return None, [], ["dovecot-uidlist missing"]
    if lines and lines[-1] == "":
        lines.pop()
    else:
        problems.append("dovecot-uidlist does not end with a newline")
    head = None
    m = re.match(r"^3 V(\d+) N(\d+) G([0-9a-f]{32})$", lines[0] if lines
                 else "")
    if m:
        head = {"uidvalidity": int(m.group(1)), "nextuid": int(m.group(2)),
                "guid": m.group(3)}
    else:
        problems.append("dovecot-uidlist header %r, want '3 V<n> N<n> "
                        "G<32 hex>'" % (lines[0] if lines else ""))
    entries = []
    for ln in lines[1:]:
        m = re.match(r"^(\d+) ((?:[^ :]+ )*):(.+)$", ln)
        if not m:
            problems.append("dovecot-uidlist: bad line %r" % ln)
            continue
        entries.append((int(m.group(1)), m.group(3), m.group(2).strip()))
    uids = [e[0] for e in entries]
    if any(u <= 0 for u in uids):
        problems.append("dovecot-uidlist: UID 0")
    if any(b <= a for a, b in zip(uids, uids[1:])):
        problems.append("dovecot-uidlist: UIDs not strictly ascending")
    if head and uids and head["nextuid"] <= uids[-1]:
        problems.append("dovecot-uidlist: N%d <= last UID %d"
                        % (head["nextuid"], uids[-1]))
    return head, entries, problems


def read_folder(path):
    """Everything about one maildir folder.  Returns a dict:
      uidvalidity, nextuid, guid (None when the header is bad)
      messages: [{"uid", "base", "sub" ('cur'|'new'), "filename", "data",
                  "sha256", "mtime" (int), "flags" (set of IMAP flags and
                  keyword names), "size_field" (S= or None)}] in uidlist order
      keywords: {index: name}; tmp: [entries]; maildirfolder: bool;
      problems: [text]   (structure problems: unlisted files, missing
                          files, bad names, missing dirs)."""
    out = {"path": path, "uidvalidity": None, "nextuid": None, "guid": None,
           "messages": [], "keywords": {}, "tmp": [], "maildirfolder":
           os.path.exists(os.path.join(path, "maildirfolder")),
           "problems": []}
    probs = out["problems"]
    head, entries, p = read_uidlist(path)
    probs.extend(p)
    if head:
        out.update(head)
    kw = read_keywords(path)
    out["keywords"] = kw
    files = {}
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        if not os.path.isdir(d):
            probs.append("%s/ missing" % sub)
            continue
        for fn in os.listdir(d):
            base, info = parse_info(fn)
            if base in files:
                probs.append("two files with base name %s" % base)
            files[base] = (sub, fn, info)
    t = os.path.join(path, "tmp")
    if os.path.isdir(t):
        out["tmp"] = sorted(os.listdir(t))
    else:
        probs.append("tmp/ missing")
    listed = set()
    for uid, base, _ext in entries:
        listed.add(base)
        f = files.get(base)
        if f is None:
            probs.append("uid %d: no file %s in cur/ or new/" % (uid, base))
            continue
        sub, fn, info = f
        fp = os.path.join(path, sub, fn)
        with open(fp, "rb") as fh:
            data = fh.read()
        st = os.lstat(fp)
        flags = set()
        if info is not None:
            for c in info:
                if c in FLAG_LETTERS:
                    flags.add(FLAG_LETTERS[c])
                elif "a" <= c <= "z":
                    name = kw.get(ord(c) - ord("a"))
                    if name is None:
                        probs.append("uid %d: keyword letter %s not in "
                                     "dovecot-keywords" % (uid, c))
                        name = "?" + c
                    flags.add(name)
                else:
                    probs.append("uid %d: unknown flag letter %r in %s"
                                 % (uid, c, fn))
            if info != "".join(sorted(info)):
                probs.append("uid %d: flags not in ASCII order: %s"
                             % (uid, fn))
        if sub == "new" and info:
            probs.append("uid %d: flags on a file in new/: %s" % (uid, fn))
        m = re.search(r",S=(\d+)", base)
        size_field = int(m.group(1)) if m else None
        if size_field is not None and size_field != len(data):
            probs.append("uid %d: S=%d but %d bytes in %s"
                         % (uid, size_field, len(data), fn))
        if not stat.S_ISREG(st.st_mode):
            probs.append("uid %d: %s is not a regular file" % (uid, fn))
        out["messages"].append({
            "uid": uid, "base": base, "sub": sub, "filename": fn,
            "data": data, "sha256": hashlib.sha256(data).hexdigest(),
            "mtime": int(st.st_mtime), "flags": flags,
            "size_field": size_field})
    for base in sorted(set(files) - listed):
        probs.append("file %s/%s not in dovecot-uidlist"
                     % (files[base][0], files[base][1]))
    return out


def first_diff(want, got):
    n = min(len(want), len(got))
    i = 0
    while i < n and want[i] == got[i]:
        i += 1
    if i == n and len(want) == len(got):
        return "identical"
    return ("lengths want %d got %d, first difference at byte %d: want %r "
            "got %r" % (len(want), len(got), i, want[max(0, i - 20):i + 30],
                        got[max(0, i - 20):i + 30]))


def compare_folder(got, want, name=None):
    """GOT: read_folder(); WANT: a manifest folder.  -> list of mismatches
    (empty when the folder is exactly what the manifest says)."""
    diag = list(got["problems"])
    if got["tmp"]:
        diag.append("tmp/ not empty: %s" % got["tmp"][:5])
    name = name or want["name"]
    if name != "INBOX" and not got["maildirfolder"]:
        diag.append("no maildirfolder file")
    if want["uidvalidity"] is not None:
        if got["uidvalidity"] != want["uidvalidity"]:
            diag.append("UIDVALIDITY want %s got %s"
                        % (want["uidvalidity"], got["uidvalidity"]))
    elif not got["uidvalidity"]:
        diag.append("UIDVALIDITY %r (want nonzero)" % got["uidvalidity"])
    if got["nextuid"] != want["uidnext"]:
        diag.append("nextuid want %s got %s" % (want["uidnext"],
                                                got["nextuid"]))
    wuids = [m["uid"] for m in want["messages"]]
    guids = [m["uid"] for m in got["messages"]]
    if wuids != guids:
        diag.append("UIDs want %s got %s" % (wuids, guids))
    byuid = {m["uid"]: m for m in got["messages"]}
    for m in want["messages"]:
        g = byuid.get(m["uid"])
        if g is None:
            continue
        label = "uid %d %r" % (m["uid"], m.get("subject", ""))
        data = base64.b64decode(m["body_b64"])
        if g["data"] != data:
            diag.append("%s: bytes: %s" % (label, first_diff(data,
                                                             g["data"])))
        if set(m["flags"]) != g["flags"]:
            diag.append("%s: flags want %s got %s (%s)" % (
                label, sorted(m["flags"]), sorted(g["flags"]),
                g["filename"]))
        if g["mtime"] != m["internaldate"]:
            diag.append("%s: mtime %d, want internaldate %d (%+d s), %r"
                        % (label, g["mtime"], m["internaldate"],
                           g["mtime"] - m["internaldate"],
                           m.get("from_line")))
        # new/: recent without flags or keywords (Dovecot's rule)
        want_sub = "new" if m["recent"] and not m["flags"] else "cur"
        if g["sub"] != want_sub:
            diag.append("%s: in %s/, want %s/" % (label, g["sub"],
                                                  want_sub))
    return diag


def list_folders(root):
    """Maildir++ folder directories of a maildir root: {'' (INBOX) or
    '.a.b': IMAP name}.  A directory counts when it starts with '.' and is
    a real directory (never a symlink)."""
    out = {}
    if os.path.isdir(os.path.join(root, "cur")):
        out[""] = "INBOX"
    for e in sorted(os.listdir(root)):
        p = os.path.join(root, e)
        if e.startswith(".") and not os.path.islink(p) and \
                os.path.isdir(p):
            out[e] = subdir_name(e)
    return out


def snapshot_folder(path, free_uidvalidity=False):
    """A comparable summary of one folder (no file names: the unique part
    of a name differs from run to run by design)."""
    f = read_folder(path)
    return {
        "uidvalidity": "nonzero" if (free_uidvalidity and f["uidvalidity"])
        else f["uidvalidity"],
        "nextuid": f["nextuid"],
        "messages": [(m["uid"], m["sha256"], tuple(sorted(m["flags"])),
                      m["mtime"], m["sub"]) for m in f["messages"]],
        "tmp": f["tmp"],
        "problems": f["problems"],
        "maildirfolder": f["maildirfolder"],
    }


def snapshot_user(root, free_uidvalidity=()):
    """{'folders': {dirname: snapshot_folder}, 'files': sorted names in the
    root, 'subscriptions': bytes or None}.  FREE_UIDVALIDITY: dirnames
    whose UIDVALIDITY is free (no UW UID data: the converter picks one)."""
    snap = {"folders": {}, "files": [], "subscriptions": None}
    if not os.path.isdir(root):
        snap["missing"] = True
        return snap
    for d in list_folders(root):
        snap["folders"][d] = snapshot_folder(os.path.join(root, d) if d
                                             else root,
                                             d in free_uidvalidity)
    snap["files"] = sorted(e for e in os.listdir(root)
                           if not os.path.isdir(os.path.join(root, e)))
    sp = os.path.join(root, "subscriptions")
    if os.path.exists(sp):
        with open(sp, "rb") as fp:
            snap["subscriptions"] = fp.read()
    return snap


def diff_snapshots(a, b, label_a="a", label_b="b"):
    """Human-readable differences between two snapshot_user() results (or
    dicts {user: snapshot_user()})."""
    out = []

    def walk(x, y, path):
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), key=str):
                if k not in x:
                    out.append("%s%s: only in %s" % (path, k, label_b))
                elif k not in y:
                    out.append("%s%s: only in %s" % (path, k, label_a))
                else:
                    walk(x[k], y[k], "%s%s/" % (path, k))
        elif isinstance(x, list) and isinstance(y, list) and \
                path.endswith("messages/"):
            if x != y:
                xs, ys = set(x), set(y)
                for m in sorted(xs - ys)[:4]:
                    out.append("%s %s: %s" % (path, label_a, m))
                for m in sorted(ys - xs)[:4]:
                    out.append("%s %s: %s" % (path, label_b, m))
                if xs == ys:
                    out.append("%s order differs" % path)
        elif x != y:
            out.append("%s %s %r, %s %r" % (path, label_a, x, label_b, y))
    walk(a, b, "")
    return out


def check_tree(root, uid, gid, dir_mode=0o700, file_mode=0o600):
    """Everything under ROOT (ROOT too) owned by UID:GID, directories
    DIR_MODE, files FILE_MODE, nothing else (no symlinks, FIFOs)."""
    bad = []
    for dp, dirs, files in os.walk(root):
        for p in [dp] + [os.path.join(dp, f) for f in files]:
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if (st.st_uid, st.st_gid) != (uid, gid):
                bad.append("%s owned by %d:%d, want %d:%d" % (
                    rel, st.st_uid, st.st_gid, uid, gid))
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                if mode != dir_mode:
                    bad.append("%s: directory mode %04o, want %04o"
                               % (rel, mode, dir_mode))
            elif stat.S_ISREG(st.st_mode):
                if mode != file_mode:
                    bad.append("%s: file mode %04o, want %04o"
                               % (rel, mode, file_mode))
            else:
                bad.append("%s: neither file nor directory (mode %o)"
                           % (rel, st.st_mode))
    return bad


def _decode_level(s):
    try:
        return mutf7_decode(s)
    except (ValueError, UnicodeError):
        return s            # not mUTF-7: taken as UTF-8


def parse_subscriptions(data):
    """Dovecot subscriptions file -> list of IMAP names ('/' separator,
    UTF-8).  Two forms (Dovecot subscription-file.c): v2, a 'V\t2\n\n'
    header then names with TAB between hierarchy levels; or the plain form,
    one storage name per line (Maildir++: '.' between levels, mUTF-7)."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    sep = "."
    if lines and lines[0].startswith("V\t"):
        lines = lines[1:]
        sep = "\t"
    out = []
    for ln in lines:
        if ln == "":
            continue
        if ln.upper() == "INBOX":
            out.append("INBOX")
            continue
        out.append("/".join(_decode_level(x) for x in ln.split(sep)))
    return out
