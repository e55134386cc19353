"""Which connection each probe goes out on (routing_guard/pools.py), against real TLS and plain sockets.

An HTTP/1.1-only TLS gateway: the first request learns the protocol alone, the others then open
their own HTTP/1.1 connections at once instead of queueing on the first one. A plain-http run
spreads its requests over the small pools.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import httpx
import pytest
import trustme

from routing_guard.pools import POOL_SIZE, Transports
from routing_guard.probe import Exchange, Prober
from routing_guard.transport import Connection
from tests.support.fault_servers import RawServer, chat_completion, json_response, send

OK = json_response(200, chat_completion("gpt-4o"))
REQUESTS = 12


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="routing-guard pools test CA")


@pytest.fixture
def tls_gateway(ca: trustme.CA) -> Iterator[RawServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # offers no ALPN protocol: HTTP/1.1 only
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with RawServer(send(OK), tls=context, lifetime=30) as server:
        yield server


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def probe_all(prober: Prober, url: str, count: int) -> list[Exchange]:
    body = {"model": "gpt-4o", "messages": []}
    return await asyncio.gather(*(prober.post(url, {}, body, None) for _ in range(count)))


def count_requests(transport: httpx.AsyncHTTPTransport) -> list[str]:
    """Record each request handed to a real transport (which still sends it)."""
    seen: list[str] = []
    original = transport.handle_async_request

    async def counted(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return await original(request)

    transport.handle_async_request = counted  # type: ignore[method-assign]
    return seen


def transports_of(prober: Prober) -> Transports:
    transports = prober._transports  # which transport took each request is the observation
    assert isinstance(transports, Transports)
    return transports


def test_an_http1_tls_gateway_gets_one_connection_per_concurrent_request(
    ca: trustme.CA, tls_gateway: RawServer
) -> None:
    async def run() -> tuple[list[Exchange], int, list[int], bool]:
        connection = Connection(verify=client_context(ca))
        async with Prober(timeout=10, retries=0, concurrency=32, connection=connection) as prober:
            transports = transports_of(prober)
            on_http2 = count_requests(transports._http2)
            on_http1 = [count_requests(t) for t in transports._http1]
            answers = await probe_all(prober, f"{tls_gateway.base_url}/chat/completions", REQUESTS)
            offers_http2 = transports._offers_http2[("127.0.0.1", tls_gateway.port)].result()
        return answers, len(on_http2), [len(seen) for seen in on_http1], offers_http2

    answers, on_http2, on_http1, offers_http2 = asyncio.run(run())
    assert [a.status for a in answers] == [200] * REQUESTS, [a.failure_detail for a in answers]
    assert offers_http2 is False
    # Only the first request went out on the HTTP/2-capable transport (none queued behind it to
    # open their connections one by one); the others went out on the HTTP/1.1 pools.
    assert on_http2 == 1
    assert sum(on_http1) == REQUESTS - 1
    assert tls_gateway.connections == REQUESTS
    assert len(tls_gateway.requests) == REQUESTS


def test_a_failed_first_connection_lets_the_others_go_out_at_once() -> None:
    async def run() -> list[Exchange]:
        connection = Connection(verify=ssl.create_default_context())
        async with Prober(timeout=5, retries=0, concurrency=32, connection=connection) as prober:
            with RawServer(send(OK), lifetime=5) as server:  # plain socket: the TLS handshake fails
                url = f"https://127.0.0.1:{server.port}/v1/chat/completions"
            return await probe_all(prober, url, 4)  # the server is gone: connection refused

    answers = asyncio.run(run())
    assert [a.failure for a in answers] == ["unreachable"] * 4


def test_plain_http_requests_are_spread_over_small_pools() -> None:
    pools = 32 // POOL_SIZE
    count = 2 * pools  # fewer than the concurrency: they all go out at once

    async def run() -> tuple[list[Exchange], int, list[int]]:
        connection = Connection(verify=ssl.create_default_context())
        with RawServer(send(OK), lifetime=30) as server:
            async with Prober(timeout=10, retries=0, concurrency=32, connection=connection) as prober:
                transports = transports_of(prober)
                on_http2 = count_requests(transports._http2)
                on_http1 = [count_requests(t) for t in transports._http1]
                answers = await probe_all(prober, f"{server.base_url}/chat/completions", count)
        return answers, len(on_http2), [len(seen) for seen in on_http1]

    answers, on_http2, on_http1 = asyncio.run(run())
    assert [a.status for a in answers] == [200] * count
    assert on_http2 == 0  # plain http never speaks HTTP/2
    assert on_http1 == [2] * pools  # the least busy pool took each request
