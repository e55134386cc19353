"""A fake OpenAI-compatible gateway on loopback for the benchmark: fixed delay, counts what it receives.

asyncio, HTTP/1.1 with keep-alive (plain, or TLS with `tls=`), so hundreds of concurrent requests
each wait `delay` seconds in parallel (no thread per connection, no accept backlog games). Every
model ID is served by itself (a passing route), except the invalid-model ID, which gets a 404 (a
passing error path).
Runs in a daemon thread of the calling process; `stop()` closes the server and joins the thread.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

INVALID_MODEL = "routing-guard-invalid-model-id"
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}


@dataclass
class Arrival:
    at: float  # time.monotonic() when the request head was read
    wall: float  # time.time() at the same moment, to compare with other processes' clocks
    method: str
    path: str
    model: str | None
    answered: float = float("nan")  # time.monotonic() once the response was written


@dataclass
class FakeGateway:
    delay: float = 0.3
    host: str = "127.0.0.1"
    port: int = 0
    arrivals: list[Arrival] = field(default_factory=list)
    connections: int = 0
    tls: ssl.SSLContext | None = None  # serve HTTPS (HTTP/1.1 only) with this server context
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeGateway:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(
                        self._handle, self.host, self.port, backlog=1024, limit=MAX_HEAD, ssl=self.tls
                    )
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="fake-gateway", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake gateway did not start within 10 s")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None or loop.is_closed():
            return

        async def shutdown() -> None:
            server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(shutdown()))
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/v1"

    # -- counters ----------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.arrivals = []
            self.connections = 0

    def snapshot(self) -> tuple[list[Arrival], int]:
        with self._lock:
            return list(self.arrivals), self.connections

    # -- HTTP ------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                arrived, arrived_wall = time.monotonic(), time.time()
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                method, target, version = parts
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY:
                    await self._write(writer, 413, {"error": {"message": "too large"}}, keep=False)
                    return
                body = await reader.readexactly(length) if length else b""
                status, doc, model = self._answer(method, target, body)
                arrival = Arrival(arrived, arrived_wall, method, target, model)
                with self._lock:
                    self.arrivals.append(arrival)
                await asyncio.sleep(self.delay)
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                await self._write(writer, status, doc, keep=keep)
                arrival.answered = time.monotonic()
                if not keep:
                    return
        except (OSError, asyncio.IncompleteReadError):  # resets, TLS errors
            return
        finally:
            writer.close()

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, status: int, doc: Any, *, keep: bool) -> None:
        payload = json.dumps(doc).encode()
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n" + ("" if keep else "connection: close\r\n") + "\r\n"
        )
        writer.write(head.encode("latin-1") + payload)
        await writer.drain()

    @staticmethod
    def _answer(method: str, target: str, body: bytes) -> tuple[int, Any, str | None]:
        path = target.split("?", 1)[0].rstrip("/")
        if method == "GET" and path.endswith("/models"):
            return 200, {"object": "list", "data": []}, None
        if method != "POST" or not path.endswith("/chat/completions"):
            return 404, {"error": {"message": "not found", "type": "not_found"}}, None
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}}, None
        model = request.get("model") if isinstance(request, dict) else None
        if not isinstance(model, str) or not model or model == INVALID_MODEL:
            error = {
                "message": f"model {model!r} not found",
                "type": "invalid_request_error",
                "code": "model_not_found",
            }
            return 404, {"error": error}, model if isinstance(model, str) else None
        doc = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return 200, doc, model
