"""The progress line: what it says, and how it is written (live on a terminal, plain elsewhere)."""

from __future__ import annotations

import io
import threading
import time

from routing_guard.progress import Progress, waiting_line


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_names_the_longest_waits_first_with_their_seconds() -> None:
    line = waiting_line({"ci-triage": 110.0, "code-generation": 100.0}, done=3, now=112.0)
    assert line == "routing-guard: waiting for 2 of 5 after 12 s: code-generation (12 s), ci-triage (2 s)"


def test_the_line_counts_what_it_does_not_name_and_says_the_budget_left() -> None:
    waiting = {f"route-{n:02}": 0.0 for n in range(9)}
    line = waiting_line(waiting, done=0, now=150.0, budget_ends=200.0)
    assert "route-05 (2 min 30 s) and 3 more" in line
    assert "route-06" not in line
    assert line.endswith("; time budget: 50 s left")


def test_nothing_to_say_while_nothing_waits() -> None:
    clock = FakeClock()
    progress = Progress(io.StringIO(), live=False, clock=clock)
    assert progress.line() is None
    progress.started("code-generation")
    progress.started("error path [openai-chat]")
    clock.now += 7
    progress.finished("code-generation")
    assert progress.line() == "routing-guard: waiting for 1 of 2 after 7 s: error path [openai-chat] (7 s)"
    progress.finished("error path [openai-chat]")
    assert progress.line() is None


def wait_for(predicate: object, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not predicate() and time.monotonic() < end:  # type: ignore[operator]
        time.sleep(0.01)


def test_plain_lines_in_a_log() -> None:
    stream = io.StringIO()
    with Progress(stream, live=False, quiet_for=0.0, plain_every=0.01) as progress:
        progress.started("code-generation")
        wait_for(lambda: stream.getvalue().count("\n") >= 2)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2
    assert all(line.startswith("routing-guard: waiting for 1 of 1 after ") for line in lines)
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_a_live_line_is_rewritten_in_place_and_cleared_at_the_end() -> None:
    stream = io.StringIO()
    with Progress(stream, live=True, quiet_for=0.0) as progress:
        progress.started("code-generation")
        wait_for(lambda: "code-generation" in stream.getvalue())
    text = stream.getvalue()
    assert text.startswith("\r\x1b[Krouting-guard: waiting for 1 of 1 after")
    assert "\n" not in text
    assert text.endswith("\r\x1b[K")


def test_a_short_run_says_nothing() -> None:
    stream = io.StringIO()
    with Progress(stream, live=False) as progress:  # the real quiet period: 2 s
        progress.started("code-generation")
        progress.finished("code-generation")
    assert stream.getvalue() == ""


def test_a_broken_stream_stops_the_writer_without_failing() -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("stderr closed")

    done = threading.Event()
    with Progress(Broken(), live=False, quiet_for=0.0, plain_every=0.01) as progress:
        progress.started("code-generation")
        done.wait(0.1)
