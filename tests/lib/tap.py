# SPDX-License-Identifier: MIT
"""TAP output for the Python integration tests.

"ok N - what" / "not ok N - what", the diagnostics of a failure as
"#   line", "ok N # SKIP why", notes as "# line", and the plan "1..N" at
the end; tests/run-tests.sh counts the "ok" and "not ok" lines.
"""

import signal
import sys


def _terminated(signum, frame):
    # run-tests.sh's timeout sends SIGTERM: leave through the tests'
    # finally blocks, which stop their Dovecots and remove their temp dirs
    sys.exit(128 + signum)


class Tap:
    """Numbers the checks and remembers whether one failed.

    max_diag: how many diagnostic items a failure shows (a string is
    taken line by line); tail=True shows the last ones instead of the
    first (the end of a program's output is where its error is).
    """

    def __init__(self, max_diag=12, tail=False):
        self.n = 0
        self.failures = 0
        self.max_diag = max_diag
        self.tail = tail
        signal.signal(signal.SIGTERM, _terminated)

    def ok(self, cond, what, diag=()):
        """One check; diag (a list, a string or an exception) if it fails."""
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, what))
        if not cond:
            self.failures += 1
            self._diag(diag)
        sys.stdout.flush()
        return cond

    def _diag(self, diag):
        if diag is None:
            items = []
        elif isinstance(diag, (str, bytes, BaseException)) or \
                not hasattr(diag, "__iter__"):
            items = str(diag).splitlines()  # a string, an exception...
        else:
            items = list(diag)
        more = len(items) - self.max_diag
        if more > 0 and self.tail:
            print("#   ... %d more before" % more)
            items = items[more:]
        for item in items[:self.max_diag]:
            for line in str(item).splitlines():
                print("#   " + line)
        if more > 0 and not self.tail:
            print("#   ... and %d more" % more)

    def skip(self, why):
        self.n += 1
        print("ok %d # SKIP %s" % (self.n, why))
        sys.stdout.flush()

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        """Prints the plan; the exit status: 1 if a check failed."""
        print("1..%d" % self.n)
        sys.stdout.flush()
        return 1 if self.failures else 0
