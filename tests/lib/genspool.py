# SPDX-License-Identifier: MIT
"""A UW-IMAP spool from tests/tools/gen-spool.py, for the integration tests.

generate() writes it and reads back its manifest (the truth the tests
compare against); run_env() is the environment our program runs in on
it (the spool's time zone, the C locale); default_config() writes a
mbox2dovecot.conf that keeps every default.
"""

import json
import os
import subprocess
import sys

GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tools", "gen-spool.py")


def generate(tap, out, seed, users, messages, what=None):
    """gen-spool.py into OUT (spool/, home/, manifest.json), as one check
    of TAP (WHAT: its text).  The manifest, or None when it failed."""
    os.makedirs(out, exist_ok=True)
    mpath = os.path.join(out, "manifest.json")
    g = subprocess.run([sys.executable, GEN, "--seed", str(seed), "--out",
                        out, "--users", str(users), "--messages",
                        str(messages), "--manifest", mpath],
                       capture_output=True, text=True)
    if not tap.ok(g.returncode == 0, what or "gen-spool.py",
                  g.stderr.splitlines()):
        return None
    with open(mpath, encoding="utf-8") as f:
        return json.load(f)


def run_env(manifest):
    """The environment for mbox2dovecot on the spool: its TZ, LC_ALL=C."""
    env = dict(os.environ, TZ=manifest["tz"], LC_ALL="C")
    env.pop("LANG", None)
    return env


def default_config(path, text="# mbox2dovecot.conf of the test: the "
                   "defaults\n"):
    """A mbox2dovecot.conf at PATH with every setting at its default."""
    with open(path, "w") as f:
        f.write(text)
    return path
