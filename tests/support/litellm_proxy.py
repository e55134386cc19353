"""A real LiteLLM proxy on loopback for tests: start, wait until live, stop by process group.

LiteLLM lives in its own virtual environment, ``.venv-litellm`` at the repository root, made by
``scripts/install-litellm.sh`` (its dependency pins must not touch the product's environment).
The proxy runs without a database, as recorded in docs/gateways.md, and every deployment in
``tests/gateways/litellm/*.yaml`` answers with ``mock_response``: nothing leaves the machine.

``tests/conftest.py`` imports the fixtures below, so any test asks for one by name::

    from tests.support.litellm_proxy import Proxy

    @pytest.mark.litellm
    def test_something(litellm_healthy: Proxy) -> None:
        httpx.post(f"{litellm_healthy.base_url}/chat/completions", headers=litellm_healthy.auth, ...)

``tests`` must be importable: ``python -m pytest`` from the repository root puts the root on
sys.path; plain ``pytest`` needs ``pythonpath = ["."]`` in the pytest settings.

PYTEST_DONT_REWRITE: this module is imported by conftest.py and test modules, never registered as
a plugin; the marker keeps pytest from warning (an error here) that it cannot rewrite it.

Each fixture starts its proxy the first time a test asks for it and stops it at the end of the
session; all fixtures share one pool, so there is never more than one proxy per config. Without
``.venv-litellm`` the fixtures fail (never skip) and say how to install it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_DIR = REPO_ROOT / ".venv-litellm"
LITELLM_BIN = VENV_DIR / "bin" / "litellm"
CONFIG_DIR = Path(__file__).resolve().parents[1] / "gateways" / "litellm"
INSTALL_SCRIPT = "scripts/install-litellm.sh"

MASTER_KEY = "sk-test-master-1234"
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 40

# The configs the fixtures below start (file names in CONFIG_DIR).
CONFIG_HEALTHY = "config-healthy.yaml"
CONFIG_GATEWAY = "config.yaml"
CONFIG_CATCH_ALL = "config-catch-all.yaml"
CONFIG_PASSTHROUGH = "config-passthrough.yaml"
CONFIG_FALLBACK = "config-fallback.yaml"

# Environment the proxy runs with (docs/gateways.md): offline model map, no feedback box, quiet log.
PROXY_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
    "LITELLM_LOG": "ERROR",
    "PYTHONUNBUFFERED": "1",
}
# Removed from the inherited environment: any of these would switch the proxy to a database.
PROXY_ENV_UNSET = ("DATABASE_URL", "DIRECT_URL", "LITELLM_MASTER_KEY")


class LiteLLMNotInstalledError(RuntimeError):
    """``.venv-litellm`` (or its ``litellm`` executable) is missing."""


class ProxyStartError(RuntimeError):
    """The proxy exited or did not become live in time; the message ends with its log tail."""


def not_installed_message() -> str:
    return (
        "LiteLLM proxy not installed: .venv-litellm/bin/litellm is missing. "
        f"Run `bash {INSTALL_SCRIPT}` from the repository root (about 1 minute, needs the "
        "package registry), then run the tests again."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _proxy_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_ENV_UNSET}
    env.update(PROXY_ENV)
    return env


@dataclass
class Proxy:
    """A running ``litellm`` proxy process (its own process group) on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    config: Path
    log_path: Path
    master_key: str = MASTER_KEY
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (health and admin routes live here)."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the OpenAI-style base URL a routing file names."""
        return f"{self.root_url}/v1"

    @property
    def auth(self) -> dict[str, str]:
        """``Authorization: Bearer <master key>``."""
        return {"Authorization": f"Bearer {self.master_key}"}

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines)

    def wait_live(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Poll ``GET /health/liveliness`` until 200; raise ProxyStartError with the log tail."""
        deadline = time.monotonic() + timeout
        url = f"{self.root_url}/health/liveliness"
        last = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise ProxyStartError(
                        f"litellm ({self.config.name}, port {self.port}) exited with code {code} "
                        f"before it was live; last lines of {self.log_path}:\n{self.log_tail()}"
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
                    raise ProxyStartError(
                        f"litellm ({self.config.name}, port {self.port}) not live after {timeout:.0f} s "
                        f"({last}); last lines of {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(0.25)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM the proxy's process group, SIGKILL it if still there after ``timeout``; reap."""
        if self._stopped:
            return
        self._stopped = True
        pgid = self.process.pid  # started with start_new_session=True: its pid is its pgid
        for sig, wait_s in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
            try:
                self.process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            # the leader is gone; make sure no worker of the group outlives it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            return
        raise RuntimeError(f"litellm (pid {pgid}) did not exit after SIGKILL")

    def __enter__(self) -> Proxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def launch_proxy(config: Path, *, port: int | None = None, log_path: Path) -> Proxy:
    """Start ``litellm`` without waiting for it to be live (see ``Proxy.wait_live``)."""
    if not LITELLM_BIN.exists():
        raise LiteLLMNotInstalledError(not_installed_message())
    config = Path(config).resolve()
    if not config.is_file():
        raise FileNotFoundError(f"LiteLLM config not found: {config}")
    port = free_port() if port is None else port
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(LITELLM_BIN), "--config", str(config), "--host", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        log.write(f"$ {' '.join(cmd)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=_proxy_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Proxy(process=process, port=port, config=config, log_path=log_path)


def start_proxy(
    config: Path,
    *,
    port: int | None = None,
    log_path: Path,
    timeout: float = STARTUP_TIMEOUT_S,
) -> Proxy:
    """Start a LiteLLM proxy on 127.0.0.1 and return once ``/health/liveliness`` answers 200.

    ``port=None`` picks a free port (and retries with another one if it was taken meanwhile).
    Raises LiteLLMNotInstalledError without ``.venv-litellm``, ProxyStartError (with the tail of
    ``log_path``) when the proxy dies or is not live within ``timeout`` seconds.
    """
    attempts = 1 if port is not None else 3
    for attempt in range(1, attempts + 1):
        proxy = launch_proxy(config, port=port, log_path=log_path)
        try:
            proxy.wait_live(timeout)
        except ProxyStartError:
            proxy.stop()
            in_use = "address already in use" in proxy.log_tail().lower()
            if attempt < attempts and in_use:
                continue
            raise
        except BaseException:
            proxy.stop()
            raise
        return proxy
    raise AssertionError("unreachable")


class ProxyPool:
    """At most one proxy per config file, started on first use, stopped by ``stop_all``."""

    def __init__(self) -> None:
        self._proxies: dict[Path, Proxy] = {}
        self._lock = threading.Lock()
        self._log_dir: Path | None = None

    def set_log_dir(self, log_dir: Path) -> None:
        if self._log_dir is None:
            self._log_dir = log_dir

    def _log_path(self, config: Path) -> Path:
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="litellm-logs-"))
        return self._log_dir / f"{config.stem}.log"

    @staticmethod
    def resolve(config: str | Path) -> Path:
        path = Path(config)
        if not path.is_absolute() and not path.exists():
            path = CONFIG_DIR / path
        return path.resolve()

    def get(self, config: str | Path) -> Proxy:
        """The running proxy for ``config`` (a path, or a file name in tests/gateways/litellm/)."""
        self.start_many([config])
        return self._proxies[self.resolve(config)]

    def start_many(self, configs: Iterable[str | Path]) -> None:
        """Launch every config not yet running at once, then wait for all (saves startup time)."""
        with self._lock:
            launched: list[Proxy] = []
            try:
                for config in configs:
                    path = self.resolve(config)
                    running = self._proxies.get(path)
                    if running is not None:
                        if running.is_running():
                            continue
                        running.stop()  # died since: reap it and start afresh
                    proxy = launch_proxy(path, log_path=self._log_path(path))
                    self._proxies[path] = proxy
                    launched.append(proxy)
                for proxy in launched:
                    proxy.wait_live()
            except BaseException:
                for proxy in launched:
                    proxy.stop()
                    self._proxies.pop(proxy.config, None)
                raise

    def stop_all(self) -> None:
        with self._lock:
            proxies, self._proxies = list(self._proxies.values()), {}
        for proxy in proxies:
            proxy.stop()


POOL = ProxyPool()
atexit.register(POOL.stop_all)


def _pool_proxy(config: str) -> Proxy:
    try:
        return POOL.get(config)
    except LiteLLMNotInstalledError as exc:
        pytest.fail(str(exc), pytrace=False)
    except ProxyStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def litellm_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyPool]:
    """The shared pool; ``litellm_pool.get("my.yaml")`` starts any config (absolute path or name)."""
    if not LITELLM_BIN.exists():
        pytest.fail(not_installed_message(), pytrace=False)
    POOL.set_log_dir(tmp_path_factory.mktemp("litellm-logs"))
    yield POOL
    POOL.stop_all()


@pytest.fixture(scope="session")
def litellm_healthy(litellm_pool: ProxyPool) -> Proxy:
    """config-healthy.yaml: aliases and snapshots all served as named; a bogus ID gets 400."""
    return _pool_proxy(CONFIG_HEALTHY)


@pytest.fixture(scope="session")
def litellm_gateway(litellm_pool: ProxyPool) -> Proxy:
    """config.yaml (shared): aliases, mock 429/500/context errors and flaky-with-fallback."""
    return _pool_proxy(CONFIG_GATEWAY)


@pytest.fixture(scope="session")
def litellm_catch_all(litellm_pool: ProxyPool) -> Proxy:
    """config-catch-all.yaml (shared): ``*`` catch-all, a bogus ID is answered 200."""
    return _pool_proxy(CONFIG_CATCH_ALL)


@pytest.fixture(scope="session")
def litellm_passthrough(litellm_pool: ProxyPool) -> Proxy:
    """config-passthrough.yaml (shared): ``openai/*`` wildcard, a bogus ID is answered 200."""
    return _pool_proxy(CONFIG_PASSTHROUGH)


@pytest.fixture(scope="session")
def litellm_fallback(litellm_pool: ProxyPool) -> Proxy:
    """config-fallback.yaml: gpt-4o and claude-sonnet-4-5 fail and are served by a fallback."""
    return _pool_proxy(CONFIG_FALLBACK)


__all__ = [
    "CONFIG_CATCH_ALL",
    "CONFIG_DIR",
    "CONFIG_FALLBACK",
    "CONFIG_GATEWAY",
    "CONFIG_HEALTHY",
    "CONFIG_PASSTHROUGH",
    "MASTER_KEY",
    "POOL",
    "LiteLLMNotInstalledError",
    "Proxy",
    "ProxyPool",
    "ProxyStartError",
    "launch_proxy",
    "litellm_catch_all",
    "litellm_fallback",
    "litellm_gateway",
    "litellm_healthy",
    "litellm_passthrough",
    "litellm_pool",
    "start_proxy",
]
