"""Sending probes: one async httpx client, bounded concurrency, deadlines, capped reads, careful retries.

Retries only what is transient (connect errors, timeouts, 408, 429, 5xx), honouring Retry-After
within the probe's time budget. Never follows redirects, never changes the request between
attempts, reads at most `max_body` decoded bytes (gzip/deflate are decoded here, with the cap
applied to the output, so a compression bomb cannot inflate in memory).
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import json
import random
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from routing_guard.pools import Transports
from routing_guard.protocols import SSEEvent, SSEParser
from routing_guard.transport import Connection

MAX_BODY = 2 * 1024 * 1024
MAX_RETRY_AFTER = 30.0
TRANSIENT_STATUS = frozenset({408, 429, *range(500, 600)})  # every 5xx, e.g. Anthropic 529 overloaded


class StreamReader(Protocol):
    """What the prober needs of a wire protocol to read its SSE answer (see protocols.Protocol)."""

    def is_terminal(self, event: SSEEvent) -> bool: ...

    def stream_cut(self, events: list[SSEEvent]) -> str | None: ...


@dataclass
class Exchange:
    """One probe's final answer, after retries. Body text is untrusted and unscrubbed."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    events: list[SSEEvent] = field(default_factory=list)
    failure: Literal["timeout", "unreachable"] | None = None
    failure_detail: str = ""
    attempts: int = 0
    retried: list[str] = field(default_factory=list)  # why each retry happened, e.g. "503", "timeout"
    truncated: bool = False  # the decoded body reached the read limit
    undecodable: str = ""  # a Content-Encoding this client does not decode (e.g. br): body not read
    cut_short: str | None = None  # a 200 stream that ended before its protocol's clean end
    elapsed: float = 0.0
    out_of_budget: bool = False  # the run's time budget (not the probe's own) ended it

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            return None


class _Decoder:
    """Content-Encoding decoding with a cap on the decoded size."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.over = False
        self.corrupt = False
        encoding = encoding.strip().lower()
        wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(encoding)
        self._zlib = zlib.decompressobj(wbits) if wbits else None
        self.unsupported = encoding not in ("", "identity") and wbits is None

    def feed(self, raw: bytes) -> bytes:
        room = self.limit - self.size
        if self._zlib is None:
            out = raw[:room]
        else:
            try:
                out = self._zlib.decompress(raw, max(room, 1))  # max_length 0 means "no limit" to zlib
            except zlib.error:  # not really gzip/deflate: stop reading, the body is unreadable
                self.corrupt = True
                return b""
            if self._zlib.unconsumed_tail or len(out) > room:
                self.over = True
                out = out[:room]
        if len(raw) > room and self._zlib is None:
            self.over = True
        self.size += len(out)
        return out


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # "²".isdigit() is True, float("²") fails
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe_transport_error(exc: Exception) -> tuple[Literal["timeout", "unreachable"], str]:
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout", "no answer in time"
    if isinstance(exc, httpx.ProxyError):  # the proxy answered the tunnel request with an error
        return "unreachable", f"the proxy refused the connection ({str(exc)[:80] or 'no reason given'})"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "unreachable", f"TLS certificate not trusted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return "unreachable", "TLS handshake failed"
        if isinstance(cause, socket.gaierror):  # any resolver error, e.g. EAI_AGAIN when offline
            return "unreachable", "DNS lookup failed"
        if isinstance(cause, ConnectionRefusedError):  # anyio wraps it: "All connection attempts failed"
            return "unreachable", "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "unreachable", "DNS lookup failed"
    if "refused" in text.lower():
        return "unreachable", "connection refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "unreachable", "the server closed the connection or broke the HTTP protocol"
    return "unreachable", type(exc).__name__


class Prober:
    """Shared client and limits for one run. Use as `async with Prober(...) as prober`."""

    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        concurrency: int,
        max_body: int = MAX_BODY,
        sleep: Callable[[float], Any] = asyncio.sleep,
        connection: Connection,
        deadline: float | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.max_body = max_body
        # Each probe, retries included, must end within this budget, whatever the server does.
        self.budget = timeout * (retries + 1) + min(MAX_RETRY_AFTER, timeout) * retries
        self.deadline = deadline  # time.monotonic() by which the whole run must end, if the user set one
        self._limit = asyncio.Semaphore(concurrency)
        self._sleep = sleep
        self._transports = Transports(connection, concurrency)
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._headers = {"accept-encoding": "gzip, deflate", "user-agent": "routing-guard"}

    async def __aenter__(self) -> Prober:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._transports.aclose()

    async def get(self, url: str, headers: dict[str, str], *, max_body: int | None = None) -> Exchange:
        """GET, reading at most `max_body` decoded bytes (default: the probe limit)."""
        return await self._send("GET", url, headers, None, None, max_body)

    async def post(
        self,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        stream: StreamReader | None,
    ) -> Exchange:
        """POST a probe; with `stream`, read a 200 answer as SSE up to its first terminal event.

        A stream that ends before its protocol's clean end (a dropped connection, `[DONE]` without a
        finish reason) was interrupted: transient, so it is retried like a 503.
        """
        return await self._send("POST", url, headers, body, stream)

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any] | None,
        stream: StreamReader | None,
        max_body: int | None = None,
    ) -> Exchange:
        attempts, retried = 0, []
        start = deadline = 0.0
        while True:
            # The concurrency slot is held per attempt, not through a retry's back-off.
            async with self._limit:
                if not attempts:
                    start = time.monotonic()
                    deadline = start + self.budget
                    if self.deadline is not None and self.deadline < deadline:
                        deadline = self.deadline
                remaining = deadline - time.monotonic()
                if remaining <= 0:  # the run's budget ran out while this probe waited for a slot
                    answer = Exchange(
                        failure="timeout", failure_detail="the run's time budget ran out", out_of_budget=True
                    )
                    break
                attempts += 1
                try:
                    answer, retry_after = await asyncio.wait_for(
                        self._attempt(method, url, headers, body, stream, max_body or self.max_body),
                        min(self.timeout, remaining),
                    )
                    reason = "stream cut short" if answer.cut_short else str(answer.status)
                    transient = answer.status in TRANSIENT_STATUS or answer.cut_short is not None
                except (httpx.HTTPError, OSError, TimeoutError) as exc:
                    failure, detail = describe_transport_error(exc)
                    answer, retry_after, reason = (
                        Exchange(failure=failure, failure_detail=detail),
                        None,
                        detail,
                    )
                    # A certificate or DNS problem will not heal in a second.
                    transient = "TLS" not in detail and "DNS" not in detail
            if not transient or attempts > self.retries:
                break
            pause = retry_after if retry_after is not None else 0.5 * 2 ** (attempts - 1)
            # Streams cut short by a server that interrupts one stream for the next (llama.cpp) would
            # collide again after equal pauses: spread their retries over the whole back-off.
            spread = pause if reason == "stream cut short" else 0.1
            pause = min(pause, MAX_RETRY_AFTER) + random.uniform(0, spread)  # noqa: S311
            if time.monotonic() + pause + 0.05 >= deadline:
                break
            retried.append(reason)
            await self._sleep(pause)
        if answer.failure == "timeout" and self.deadline is not None and time.monotonic() >= self.deadline:
            answer.out_of_budget = True
        answer.attempts, answer.retried, answer.elapsed = attempts, retried, time.monotonic() - start
        return answer

    async def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any] | None,
        stream: StreamReader | None,
        max_body: int,
    ) -> tuple[Exchange, float | None]:
        """One request: the answer as read, and the pause its Retry-After asks for."""
        request = httpx.Request(
            method,
            url,
            headers={**self._headers, **headers},
            json=body,
            extensions={"timeout": self._timeout},
        )
        async with self._transports.for_request(request) as transport:
            return await self._read(transport, request, stream, max_body)

    async def _read(
        self,
        transport: httpx.AsyncHTTPTransport,
        request: httpx.Request,
        stream: StreamReader | None,
        max_body: int,
    ) -> tuple[Exchange, float | None]:
        response = await transport.handle_async_request(request)
        try:
            decoder = _Decoder(response.headers.get("content-encoding", ""), max_body)
            chunks: list[bytes] = []
            events: list[SSEEvent] = []
            reader = stream if stream is not None and response.status_code == 200 else None
            parser = SSEParser()
            utf8 = codecs.getincrementaldecoder("utf-8")("replace")
            cut_short: str | None = None
            try:
                if not decoder.unsupported:
                    async for raw in response.aiter_raw():
                        data = decoder.feed(raw)
                        chunks.append(data)
                        if reader is not None:
                            events.extend(parser.feed(utf8.decode(data)))
                            if any(reader.is_terminal(e) for e in events):
                                break
                        if decoder.over or decoder.corrupt:
                            break
            except httpx.TimeoutException:
                raise
            except httpx.TransportError:
                if reader is None:
                    raise
                cut_short = "the connection dropped before the stream ended"
            if reader is not None:
                events.extend(parser.close())
                sse = response.headers.get("content-type", "").startswith("text/event-stream")
                if (events or sse) and not (decoder.over or decoder.corrupt or decoder.unsupported):
                    cut_short = cut_short or reader.stream_cut(events)
            answer = Exchange(
                status=response.status_code,
                # the first of repeated headers: joining them would let "a, b" pass a glob pin
                headers={k: response.headers.get_list(k)[0] for k in response.headers},
                text=b"".join(chunks).decode("utf-8", "replace"),
                events=events,
                truncated=decoder.over,
                cut_short=cut_short,
                undecodable=response.headers.get("content-encoding", "").strip()[:40]
                if decoder.unsupported
                else "",
            )
            return answer, _retry_after(response.headers)
        finally:
            await response.aclose()
