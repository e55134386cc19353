"""A loopback gateway that answers one route and never answers the other, for cancellation tests.

Run the check with `--concurrency 1` (input `concurrency: "1"`): the probes then go out one after
another in the routing file's order, so once the stuck route's request has arrived, the quick
route's answer has been read and judged. `wait_until_stuck` is that moment: cancel then, and the
partial report must hold the quick route's verdict and the stuck route as skipped.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from tests.support.fault_servers import RawServer, Request, chat_completion, json_response, never_answer

QUICK_MODEL = "gpt-4o"
STUCK_MODEL = "claude-sonnet-4-5"
ROUTES = {"quick": {"model": QUICK_MODEL}, "stuck": {"model": STUCK_MODEL}}


def answer_or_hang(server: RawServer, request: Request, conn: socket.socket) -> None:
    if request.model == STUCK_MODEL:
        never_answer(server, request, conn)
    else:
        conn.sendall(json_response(200, chat_completion(request.model)))


def hanging_gateway(lifetime: float = 300.0) -> RawServer:
    """Use as a context manager; it stops (and the stuck request ends) when the block ends."""
    return RawServer(answer_or_hang, lifetime=lifetime)


def wait_until_stuck(
    server: RawServer, timeout: float = 300.0, running: Callable[[], bool] = lambda: True
) -> None:
    """Block until the stuck route's request has arrived.

    Raises TimeoutError after `timeout`, or RuntimeError as soon as `running()` says the run under
    test has ended without sending it.
    """
    deadline = time.monotonic() + timeout
    while not any(r.model == STUCK_MODEL for r in server.requests):
        if not running():
            raise RuntimeError(f"the run ended before its request for {STUCK_MODEL}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no request for {STUCK_MODEL} within {timeout:.0f} s")
        time.sleep(0.05)
