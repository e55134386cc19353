"""Progress on stderr while a run waits: which probes are still out and for how long.

Silent for the first seconds (most runs end before anyone wonders). Then, on a terminal, one live
line rewritten in place; anywhere else (CI logs), a plain line now and then. The check tells this
module when each probe starts and ends (`started` / `finished`); a daemon thread does the writing,
so a gateway that never answers cannot hold the line back. Labels are route names (validated by the
routing file's rules) and protocol names: nothing from the gateway is ever shown here.
Design notes: docs/first-steps.md.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

QUIET_FOR = 2.0  # seconds before the first line
PLAIN_EVERY = 10.0  # seconds between plain lines
LIVE_EVERY = 0.5  # seconds between rewrites of the live line
MAX_NAMED = 6  # waiting probes named in one line; the rest are counted


class ProgressSink(Protocol):
    """What the check calls; `None` in CheckOptions means nobody is watching."""

    def started(self, label: str) -> None: ...

    def finished(self, label: str) -> None: ...


def _seconds(value: float) -> str:
    return f"{int(value)} s" if value < 120 else f"{int(value // 60)} min {int(value % 60)} s"


def waiting_line(waiting: dict[str, float], done: int, now: float, budget_ends: float | None = None) -> str:
    """'waiting for 2 of 5 after 12 s: code-generation (12 s), ci-triage (3 s)'; longest wait first."""
    total = len(waiting) + done
    ordered = sorted(waiting.items(), key=lambda item: (item[1], item[0]))
    oldest = now - ordered[0][1] if ordered else 0.0
    named = ", ".join(f"{label} ({_seconds(now - since)})" for label, since in ordered[:MAX_NAMED])
    if len(ordered) > MAX_NAMED:
        named += f" and {len(ordered) - MAX_NAMED} more"
    line = f"routing-guard: waiting for {len(waiting)} of {total} after {_seconds(oldest)}: {named}"
    if budget_ends is not None:
        line += f"; time budget: {_seconds(max(0.0, budget_ends - now))} left"
    return line


class Progress:
    """Use as `with Progress(sys.stderr) as progress:` around the run; pass it as the sink."""

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool | None = None,
        budget: float | None = None,
        quiet_for: float = QUIET_FOR,
        plain_every: float = PLAIN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.quiet_for = quiet_for
        self.every = LIVE_EVERY if self.live else plain_every
        self.clock = clock
        self.began = clock()
        self.budget_ends = None if budget is None else self.began + budget
        self._waiting: dict[str, float] = {}
        self._done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="routing-guard-progress", daemon=True)
        self._shown = False  # a live line is on screen and must be cleared

    def started(self, label: str) -> None:
        with self._lock:
            self._waiting[label] = self.clock()

    def finished(self, label: str) -> None:
        with self._lock:
            if self._waiting.pop(label, None) is not None:
                self._done += 1

    def line(self) -> str | None:
        """The line to show now, or None while nothing waits."""
        with self._lock:
            if not self._waiting:
                return None
            return waiting_line(dict(self._waiting), self._done, self.clock(), self.budget_ends)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._shown:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the run
            self._stop.set()

    def _loop(self) -> None:
        if self._stop.wait(self.quiet_for):
            return
        while True:
            text = self.line()
            if text is not None and self.live:
                width = max(20, shutil.get_terminal_size().columns - 1)
                self._write("\r\x1b[K" + (text if len(text) <= width else text[: width - 1] + "…"))
                self._shown = True
            elif text is not None:
                self._write(text + "\n")
            elif self._shown:
                self._write("\r\x1b[K")
                self._shown = False
            if self._stop.wait(self.every):
                return
