"""A real forward proxy on loopback, as corporate runners put in front of everything.

It tunnels `CONNECT host:port` (what a client does for https) and forwards absolute-form plain-http
requests (`POST http://host:port/path`), and records everything it received, so a test can prove
what a proxy could have read. Host names resolve through `hosts` (all to 127.0.0.1 by default), so
a gateway can have a real-looking name without any DNS.
"""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

LOOPBACK = "127.0.0.1"


@dataclass
class Seen:
    connections: int = 0
    request_lines: list[str] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)  # every byte any client sent

    def saw(self, needle: str) -> bool:
        return needle.encode() in self.raw


class ForwardProxy:
    """Use as a context manager; `url` is `http://127.0.0.1:PORT`."""

    def __init__(self, *, refuse_connect: bool = False) -> None:
        self.seen = Seen()
        self.refuse_connect = refuse_connect
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(32)
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> ForwardProxy:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.seen.connections += 1
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _record(self, data: bytes) -> None:
        with self._lock:
            self.seen.raw += data

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
                self._record(chunk)
            first_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            with self._lock:
                self.seen.request_lines.append(first_line)
            method, target, _ = first_line.split(" ", 2)
            if method == "CONNECT":
                if self.refuse_connect:
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                port = int(target.rpartition(":")[2])
                upstream = socket.create_connection((LOOPBACK, port), timeout=10)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                rest = head.split(b"\r\n\r\n", 1)[1]
            else:  # absolute form: http://host:port/path
                authority, _, path = target.removeprefix("http://").partition("/")
                port = int(authority.rpartition(":")[2]) if ":" in authority else 80
                upstream = socket.create_connection((LOOPBACK, port), timeout=10)
                rest = head.replace(target.encode(), b"/" + path.encode(), 1)
            with upstream:
                if rest:
                    upstream.sendall(rest)
                self._pipe(conn, upstream)
        except (OSError, ValueError):
            return
        finally:
            conn.close()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        while not self._stop.is_set():
            readable, _, _ = select.select(sockets, [], [], 0.1)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is client:
                    self._record(data)
                    upstream.sendall(data)
                else:
                    client.sendall(data)
