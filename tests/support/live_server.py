"""A real server process for tests: started in its own process group, polled until ready, stopped
by PID. Shared by the Portkey gateway and llama.cpp harnesses (tests/support/portkey_gateway.py,
tests/support/llama_server.py).

PYTEST_DONT_REWRITE: imported by harness modules before pytest could register it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import pytest

HOST = "127.0.0.1"
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 40


class ServerStartError(RuntimeError):
    """The server exited or was not ready in time; the message ends with its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def listening_addresses(pid: int) -> set[str]:
    """Every `address:port` a process listens on for TCP, read from `ss -ltnpH`."""
    if shutil.which("ss") is None:
        raise FileNotFoundError("ss is missing: run `bash scripts/install-portkey.sh` (installs iproute2)")
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True, timeout=10).stdout
    found: set[str] = set()
    for line in out.splitlines():
        if re.search(rf"\bpid={pid}\b", line):
            found.add(line.split()[3])  # State Recv-Q Send-Q Local:Port Peer:Port Process
    return found


@dataclass
class ServerProcess:
    """A started server (its own process group) on 127.0.0.1:port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    ready_path: str
    tls: ssl.SSLContext | None = None  # the context that trusts a server speaking HTTPS
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def root_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT/v1``: the base URL a routing file names."""
        return f"{self.root_url}/v1"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> None:
        """Poll ``GET ready_path`` until 200; raise ServerStartError with the log tail."""
        deadline = time.monotonic() + timeout
        url = f"{self.root_url}{self.ready_path}"
        last = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False, verify=self.tls or True) as client:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise ServerStartError(
                        f"{self.name} (port {self.port}) exited with code {code} before it was ready; "
                        f"last lines of {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    response = client.get(url)
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                if time.monotonic() >= deadline:
                    self.stop()
                    raise ServerStartError(
                        f"{self.name} (port {self.port}) not ready after {timeout:.0f} s ({last}); "
                        f"last lines of {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(0.2)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM the server's process group, SIGKILL it if still there after ``timeout``; reap."""
        if self._stopped:
            return
        self._stopped = True
        pgid = self.process.pid  # started with start_new_session=True: its pid is its pgid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)  # no child of the group outlives its leader
            return
        raise RuntimeError(f"{self.name} (pid {pgid}) did not exit after SIGKILL")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_server(
    name: str,
    cmd: Sequence[str],
    *,
    port: int,
    log_path: Path,
    ready_path: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    tls: ssl.SSLContext | None = None,
) -> ServerProcess:
    """Start ``cmd`` (which must listen on 127.0.0.1:port) and return once ``ready_path`` is 200
    (over HTTPS, trusted through ``tls``, when given)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        log.write(f"$ {' '.join(cmd)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=dict(os.environ if env is None else env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(
        name=name, process=process, port=port, log_path=log_path, ready_path=ready_path, tls=tls
    )
    try:
        server.wait_ready(timeout)
    except BaseException:
        server.stop()
        raise
    return server


_RUNNING: list[ServerProcess] = []


@atexit.register
def _stop_all() -> None:
    """Servers a session fixture started and pytest never got to tear down (an interrupted run)."""
    while _RUNNING:
        _RUNNING.pop().stop()


def session_server(start: Callable[[], ServerProcess]) -> Iterator[ServerProcess]:
    """The body of a session fixture: start the server (a start error fails the test, naming what
    to install or the log tail), yield it, stop it, even if the run is interrupted."""
    try:
        server = start()
    except (FileNotFoundError, ServerStartError) as exc:
        pytest.fail(str(exc), pytrace=False)
    _RUNNING.append(server)
    yield server
    server.stop()
    _RUNNING.remove(server)
