"""Raw-socket HTTP servers on 127.0.0.1 that misbehave on purpose, and helpers to drive the CLI.

A `RawServer` accepts connections on a free loopback port and hands each parsed request, with the
socket, to a handler that writes whatever bytes it likes: a normal answer, nothing at all, one byte
a second, 50 MB, a gzip bomb, a redirect. Every server stops by itself after `lifetime` seconds even
if a test forgets it; every loop in here is bounded by that deadline. Exceptions in handler threads
(the client hanging up on a bomb, a refused TLS handshake) are expected and swallowed.

`run_cli` runs `routing_guard.cli.main` in process the way a user runs the command and collects
everything it wrote (stdout, stderr, report, log, summary) with the exit code and the time taken.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import ipaddress
import json
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LOOPBACK = "127.0.0.1"
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


# --- requests and responses ------------------------------------------------------------------


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    raw: bytes  # everything received on the connection for this request

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def model(self) -> str:
        doc = self.json()
        return str(doc.get("model", "")) if isinstance(doc, dict) else ""


def response_bytes(
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    *,
    content_length: bool = True,
) -> bytes:
    """A complete HTTP/1.1 response with `Connection: close`; header values are sent as given."""
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}".encode()]
    names = {name.lower() for name, _ in items}
    if content_length and "content-length" not in names:
        items.append(("Content-Length", str(len(body))))
    if "content-type" not in names:
        items.append(("Content-Type", "application/json"))
    items.append(("Connection", "close"))
    for name, value in items:
        lines.append(name.encode("latin-1") + b": " + value.encode("utf-8", "surrogateescape"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def json_response(status: int, doc: Any, headers: Mapping[str, str] | None = None) -> bytes:
    return response_bytes(status, json.dumps(doc).encode(), headers or {})


def chat_completion(
    model: Any = "gpt-4o",
    content: Any = "pong",
    *,
    usage: Mapping[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An OpenAI chat completion body."""
    doc: dict[str, Any] = {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }
    if usage is not None:
        doc["usage"] = dict(usage)
    doc.update(extra)
    if model is ...:
        del doc["model"]
    return doc


def not_found(model: str) -> bytes:
    return json_response(
        404,
        {
            "error": {
                "message": f"The model `{model}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "code": "model_not_found",
            }
        },
    )


# --- the server ------------------------------------------------------------------------------

Handler = Callable[["RawServer", Request, socket.socket], None]


def _read_request(conn: socket.socket, deadline: float) -> Request | None:
    """One HTTP/1.1 request (Content-Length bodies only, which is what httpx sends); None if the
    client went away first."""
    data = b""
    while b"\r\n\r\n" not in data:
        if time.monotonic() > deadline or len(data) > 1 << 20:
            return None
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        if time.monotonic() > deadline:
            return None
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
        data += chunk
    method, target = [*parts, "", ""][:2]
    return Request(method, target, headers, body[:length], data)


class RawServer:
    """A threaded raw-socket server on a free loopback port. Use as a context manager.

    `handler(server, request, conn)` writes the answer on `conn`; the connection is closed after it
    returns. `requests` lists every request received, `raw` every byte received on any connection
    (including connections that never completed a request) and `connections` counts connections.
    """

    def __init__(
        self, handler: Handler, *, lifetime: float = 30.0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.handler = handler
        self.lifetime = lifetime
        self.tls = tls
        self.requests: list[Request] = []
        self.raw = bytearray()
        self.connections = 0
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.02)
        self.port: int = self._sock.getsockname()[1]
        self.deadline = time.monotonic() + lifetime
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def origin(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopped.set()
        self._acceptor.join(timeout=5)
        for thread in list(self._threads):
            thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._sock.close()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, or less once the server stops; True while it still runs."""
        self.stopped.wait(min(seconds, max(0.0, self.deadline - time.monotonic())))
        return self.running

    @property
    def running(self) -> bool:
        return not self.stopped.is_set() and time.monotonic() < self.deadline

    def _accept_loop(self) -> None:
        while self.running:
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()
        self.stopped.set()
        with contextlib.suppress(OSError):
            self._sock.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(2.0)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            recorder = _Recorder(conn, self)
            request = _read_request(recorder, self.deadline)  # type: ignore[arg-type]
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            self.handler(self, request, conn)
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client hung up, refused our certificate, or sent garbage: all expected here
        finally:
            with contextlib.suppress(OSError):
                conn.close()


class _Recorder:
    """Wraps a socket's recv to keep every byte received, for tests that assert what was sent."""

    def __init__(self, conn: socket.socket, server: RawServer) -> None:
        self._conn, self._server = conn, server

    def recv(self, size: int) -> bytes:
        data = self._conn.recv(size)
        with self._server._lock:
            self._server.raw.extend(data)
        return data


# --- handlers --------------------------------------------------------------------------------


def send(data: bytes) -> Handler:
    """Always answer with these bytes."""

    def handler(server: RawServer, request: Request, conn: socket.socket) -> None:
        conn.sendall(data)

    return handler


def by_model(answers: Mapping[str, bytes], default: bytes | None = None) -> Handler:
    """Answer by the requested model; an unknown model gets `default` or an OpenAI-style 404."""

    def handler(server: RawServer, request: Request, conn: socket.socket) -> None:
        model = request.model
        conn.sendall(answers.get(model, default if default is not None else not_found(model)))

    return handler


def sequence(answers: Sequence[bytes], *, invalid_model: str | None = None) -> Handler:
    """Answer the n-th request (for the routed model) with answers[n], the last one from then on.
    Requests for `invalid_model` get a 404 and do not count."""
    count = [0]
    lock = threading.Lock()

    def handler(server: RawServer, request: Request, conn: socket.socket) -> None:
        if invalid_model is not None and request.model == invalid_model:
            conn.sendall(not_found(request.model))
            return
        with lock:
            index = min(count[0], len(answers) - 1)
            count[0] += 1
        conn.sendall(answers[index])

    return handler


def never_answer(server: RawServer, request: Request, conn: socket.socket) -> None:
    """Read the request, then say nothing until the server stops."""
    while server.running and server.wait(0.1):
        pass


def trickle(head: bytes, *, interval: float = 1.0, filler: bytes = b" ") -> Handler:
    """Send `head` (status line, headers, the start of a body), then one byte every `interval`."""

    def handler(server: RawServer, request: Request, conn: socket.socket) -> None:
        conn.sendall(head)
        while server.wait(interval):
            conn.sendall(filler)

    return handler


def stream(head: bytes, chunks: Callable[[], Iterable[bytes]] | Sequence[bytes]) -> Handler:
    """Send `head`, then each chunk, until the chunks run out or the client hangs up. `chunks` may
    be a function returning fresh chunks for each request (e.g. a generator function)."""

    def handler(server: RawServer, request: Request, conn: socket.socket) -> None:
        conn.sendall(head)
        for chunk in chunks() if callable(chunks) else chunks:
            if not server.running:
                return
            conn.sendall(chunk)

    return handler


def huge_json_body(size: int, *, chunk: int = 1 << 16) -> Iterator[bytes]:
    """A syntactically plausible JSON document of `size` bytes, produced lazily."""
    opening = b'{"model": "gpt-4o", "padding": "'
    block = b"x" * chunk
    yield opening
    left = size - len(opening) - 2
    while left > 0:
        yield block[: min(chunk, left)]
        left -= chunk
    yield b'"}'


# --- compression bombs -----------------------------------------------------------------------


@lru_cache(maxsize=4)
def zeros_bomb(size: int, wbits: int = 31) -> bytes:
    """`size` bytes of zeros (a multiple of 1 MiB), compressed as gzip (wbits 31) or zlib/deflate
    (wbits 15). Built in well under a second: with a full flush each 1 MiB of zeros compresses to
    the same independent block, so the middle is one block repeated; the trailer's checksum is
    computed over the whole stream, so the result is a valid stream that decompresses to `size`."""
    mib = 1 << 20
    assert size % mib == 0 and size >= 3 * mib
    zeros = bytes(mib)
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    end = comp.flush(zlib.Z_FINISH)
    gzip = wbits > 16
    end_block = end[:-8] if gzip else end[:-4]
    count = size // mib
    if gzip:
        crc = 0
        for _ in range(count):
            crc = zlib.crc32(zeros, crc)
        trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    else:
        adler = 1
        for _ in range(count):
            adler = zlib.adler32(zeros, adler)
        trailer = struct.pack(">I", adler)
    return first + block * (count - 1) + end_block + trailer


# --- TLS -------------------------------------------------------------------------------------


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (IP SAN) and localhost; (cert.pem, key.pem)."""
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        assert openssl, "needs the cryptography package or the openssl CLI"
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-keyout", str(key_path), "-out", str(cert_path),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "routing-guard test gateway")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address(LOOPBACK)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# --- routing files and CLI runs --------------------------------------------------------------


def write_routing(
    folder: Path,
    base_url: str,
    routes: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    name: str = "model-routing.yml",
    **gateway: Any,
) -> Path:
    """A routing file; `gateway` adds fields such as `auth`, `api` or `allow_insecure_http`."""
    doc = {
        "version": 1,
        "gateway": {"base_url": base_url, "api": "openai-chat", "auth": "none", **gateway},
        "routes": {k: dict(v) for k, v in (routes or {"code-generation": {"model": "gpt-4o"}}).items()},
    }
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=False), encoding="utf-8")
    return path


@dataclass
class CliRun:
    code: int
    out: str
    err: str
    elapsed: float
    report: dict[str, Any] | None = None
    report_text: str = ""
    log_text: str = ""
    summary: str = ""
    files: dict[str, str] = field(default_factory=dict)

    @property
    def routes(self) -> list[dict[str, Any]]:
        return list((self.report or {}).get("routes") or [])

    @property
    def route(self) -> dict[str, Any]:
        assert len(self.routes) == 1, self.routes
        return self.routes[0]

    @property
    def everything(self) -> str:
        """Every output of the run, one string, for leak checks."""
        return "\n".join([self.out, self.err, self.report_text, self.log_text, self.summary])


def run_cli(folder: Path, argv: Sequence[str], *, with_files: bool = True) -> CliRun:
    """`routing-guard ARGV` in process; with `with_files`, also `--report/--log/--summary` in
    `folder`. Captures stdout and stderr itself (works with or without pytest's capsys)."""
    from routing_guard.cli import main

    argv = list(argv)
    report, log, summary = folder / "report.json", folder / "log.jsonl", folder / "summary.md"
    for path in (report, log, summary):
        path.unlink(missing_ok=True)
    if with_files and argv and argv[0] == "check":
        argv += ["--report", str(report), "--log", str(log), "--summary", str(summary)]
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    elapsed = time.monotonic() - start
    result = CliRun(code, out.getvalue(), err.getvalue(), elapsed)
    if report.exists():
        result.report_text = report.read_text(encoding="utf-8")
        result.report = json.loads(result.report_text)
    if log.exists():
        result.log_text = log.read_text(encoding="utf-8")
    if summary.exists():
        result.summary = summary.read_text(encoding="utf-8")
    return result


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])
