"""Cancellation: SIGTERM or SIGINT ends a run at once, keeping what was judged so far.

A runner cancels a job by signalling the step's process. In the action's container the
entrypoint is PID 1, and the kernel gives PID 1 no default action for SIGTERM: unhandled, the
signal does nothing and the runner kills the container later, with no outputs, no summary and the
`::stop-commands::` fence left open. On a host, SIGTERM's default action kills the CLI just as
abruptly. `on_signals` turns either signal into `Cancelled`, raised in the main thread wherever it
is (an event loop waiting on sockets included); callers write what they have and exit with
`Cancelled.exit_code` (128 + the signal number, as a shell reports a signalled process).

`Cancelled` derives from BaseException so that no `except Exception` on the way swallows it. Once
the first signal has arrived, further ones are ignored: the partial outputs are being written.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing_guard.results import RunResult

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Cancelled(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.partial: RunResult | None = None  # what the check had judged, where it was running

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return f"cancelled by {self.signal_name}"


def _cancel(signum: int, frame: FrameType | None) -> None:
    for other in SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Cancelled(signum)


@contextlib.contextmanager
def on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise `Cancelled`; the previous handlers come back after.

    Nested use keeps the outer handlers in force (they raise the same exception). Outside the main
    thread (where Python delivers no signals) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    if all(handler is _cancel for handler in previous.values()):
        yield
        return
    for signum in SIGNALS:
        signal.signal(signum, _cancel)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
