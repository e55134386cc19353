"""routing_guard/cancel.py: SIGTERM and SIGINT become `Cancelled`; handlers come back afterwards."""

from __future__ import annotations

import os
import signal

import pytest

from routing_guard.cancel import Cancelled, on_signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_raises_cancelled_with_the_shell_exit_code(signum: signal.Signals) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with pytest.raises(Cancelled) as caught, on_signals():
        os.kill(os.getpid(), signum)
        signal.sigtimedwait([], 0.01)  # give the interpreter a point to run the handler
        pytest.fail("no Cancelled raised")
    assert (caught.value.signum, caught.value.exit_code) == (signum, 128 + signum)
    assert caught.value.signal_name == signum.name
    assert str(caught.value) == f"cancelled by {signum.name}"
    assert {s: signal.getsignal(s) for s in before} == before


def test_later_signals_are_ignored_while_the_partial_outputs_are_written() -> None:
    with on_signals():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.01)
        except Cancelled:
            os.kill(os.getpid(), signal.SIGTERM)  # a second one: ignored, nothing raised
            os.kill(os.getpid(), signal.SIGINT)
            signal.sigtimedwait([], 0.01)
            written = True
    assert written


def test_nested_use_keeps_the_outer_handlers() -> None:
    with on_signals():
        outer = signal.getsignal(signal.SIGTERM)
        with on_signals():
            assert signal.getsignal(signal.SIGTERM) is outer
        assert signal.getsignal(signal.SIGTERM) is outer


def test_cancelled_is_not_an_exception() -> None:
    """`except Exception` crash handlers on the way must not swallow a cancellation."""
    assert not issubclass(Cancelled, Exception)
