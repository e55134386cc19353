"""Which connection each request of a run goes out on: HTTP/2 where a TLS gateway offers it, else
small HTTP/1.1 pools; every connection kept alive for the next request.

Two behaviours of httpcore's connection pool shape this (docs/performance.md):

- With HTTP/2 enabled, requests that arrive while the first TLS connection to a host is being set
  up all queue on it; when the gateway then picks HTTP/1.1 they open their own connections one
  after another. So the first request to an https origin goes alone until the protocol is known,
  and the others then go out together: on that HTTP/2 connection, or on HTTP/1.1 connections.
- A pool looks at every one of its connections for each request and each response, which costs
  the square of its size; so the concurrency is spread over pools of at most POOL_SIZE
  connections, and the least busy pool takes each request.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx

from routing_guard.transport import Connection

POOL_SIZE = 8


async def _learn_protocol(offers_http2: asyncio.Future[bool], event: str, info: dict[str, Any]) -> None:
    """httpcore's `trace` hook: its first http11.* or http2.* event tells which protocol was chosen."""
    if not offers_http2.done() and event.startswith(("http11.", "http2.")):
        offers_http2.set_result(event.startswith("http2."))


class Transports:
    """The transports of one run. Use `async with transports.for_request(request) as transport`."""

    def __init__(self, connection: Connection, concurrency: int) -> None:
        count = max(1, math.ceil(concurrency / POOL_SIZE))
        size = math.ceil(concurrency / count)
        self._http1 = [self._make(connection, size, http2=False) for _ in range(count)]
        self._busy = [0] * count
        self._http2 = self._make(connection, concurrency, http2=True)
        self._offers_http2: dict[tuple[str, int], asyncio.Future[bool]] = {}

    @staticmethod
    def _make(connection: Connection, size: int, *, http2: bool) -> httpx.AsyncHTTPTransport:
        # The transport, not a Client: a Client parses a 3xx's Location even when it follows no
        # redirect, and a malformed one ("http://[::1/x") then surfaces as a protocol error instead
        # of the 3xx it is. Proxies and CAs come from `transport`, which reads the environment.
        return httpx.AsyncHTTPTransport(
            verify=connection.verify,
            http2=http2,
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            proxy=connection.proxy,
            trust_env=False,
        )

    @asynccontextmanager
    async def for_request(self, request: httpx.Request) -> AsyncIterator[httpx.AsyncHTTPTransport]:
        """The transport to send `request` on; keep the context open until its response is closed."""
        if request.url.scheme == "https":
            origin = (request.url.host, request.url.port or 443)
            offers_http2 = self._offers_http2.get(origin)
            if offers_http2 is None:  # the first request to this origin finds out
                offers_http2 = asyncio.get_running_loop().create_future()
                self._offers_http2[origin] = offers_http2
                request.extensions["trace"] = partial(_learn_protocol, offers_http2)
                try:
                    yield self._http2
                finally:
                    if not offers_http2.done():  # it failed before a protocol was chosen
                        offers_http2.set_result(False)
                return
            if await asyncio.shield(offers_http2):
                yield self._http2
                return
        index = self._busy.index(min(self._busy))
        self._busy[index] += 1
        try:
            yield self._http1[index]
        finally:
            self._busy[index] -= 1

    async def aclose(self) -> None:
        for transport in (self._http2, *self._http1):
            await transport.aclose()
