"""Progress of a training run: a tqdm bar on a terminal, a line every few seconds in a log.

When stderr is a terminal, ``progress`` is a ``tqdm`` bar redrawn in place. When it is
not (a log file, a pipe, CI), redrawing in place would write hundreds of updates into the
log, so ``progress`` is a ``LogLines`` instead: the same methods, one plain line at most
every ``interval`` seconds and one at the end.
"""
from __future__ import annotations

import sys
import time

LOG_INTERVAL = 10.0          # seconds between progress lines when stderr is not a terminal


def progress(total=None, initial=0, desc="train", disable=False, unit="step"):
    """A progress display on stderr for a loop of ``total`` steps (None: a time budget, a
    running count), starting at ``initial``.

    Update it with ``bar.update(1)`` and ``bar.set_postfix_str("loss 1.234 | 9,000
    chars/s")``; ``bar.write(text)`` prints a line (to stdout) without breaking it.
    """
    if disable:
        return LogLines(total, initial, desc, unit, interval=float("inf"), quiet=True)
    isatty = getattr(sys.stderr, "isatty", None)
    if not (isatty and isatty()):
        return LogLines(total, initial, desc, unit)
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, mininterval=0.5,
                dynamic_ncols=True, file=sys.stderr, leave=True)


class LogLines:
    """tqdm's ``update`` / ``set_postfix_str`` / ``write`` / ``close`` as plain lines::

        train: 120/1800 steps | loss 1.234 | 9,000 chars/s | 0:42

    at most one every ``interval`` seconds (by ``clock``), and the last one at ``close``.
    A line falls due at an ``update`` and is written at the ``set_postfix_str`` that
    follows it (so it shows that step's numbers), or at the next ``update`` if none does.
    """

    def __init__(self, total=None, initial=0, desc="train", unit="step",
                 interval=LOG_INTERVAL, quiet=False, file=None, clock=time.monotonic):
        self.total, self.n, self.desc, self.unit = total, initial, desc, unit
        self.interval, self.quiet, self.clock = interval, quiet, clock
        self.file = file
        self.postfix, self.start, self.due = "", clock(), False
        self.last_time, self.last_n = self.start, initial

    def update(self, n=1):
        if self.due:                                # no postfix came for the last step
            self._line()
        self.n += n
        self.due = self.clock() - self.last_time >= self.interval

    def set_postfix_str(self, text):
        self.postfix = text
        if self.due:
            self._line()

    def write(self, text):
        print(text)

    def close(self):
        if self.n != self.last_n and not self.quiet:
            self._line()

    def _line(self):
        now = self.clock()
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        seconds = int(now - self.start)
        parts = [f"{self.desc}: {count} {self.unit}s", self.postfix,
                 f"{seconds // 60}:{seconds % 60:02d}"]
        print(" | ".join(p for p in parts if p), file=self.file or sys.stderr, flush=True)
        self.last_time, self.last_n, self.due = now, self.n, False
