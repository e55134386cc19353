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
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.live_server import ServerProcess, ServerStartError, free_port

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


ProxyStartError = ServerStartError  # the proxy exited or was not live in time (message ends with its log)


def not_installed_message() -> str:
    return (
        "LiteLLM proxy not installed: .venv-litellm/bin/litellm is missing. "
        f"Run `bash {INSTALL_SCRIPT}` from the repository root (about 1 minute, needs the "
        "package registry), then run the tests again."
    )


def _proxy_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_ENV_UNSET}
    env.update(PROXY_ENV)
    return env


@dataclass
class Proxy(ServerProcess):
    """A running ``litellm`` proxy process (its own process group) on 127.0.0.1: a ServerProcess
    whose readiness is ``GET /health/liveliness``, with the config it serves and its master key."""

    config: Path = Path()
    master_key: str = MASTER_KEY

    @property
    def auth(self) -> dict[str, str]:
        """``Authorization: Bearer <master key>``."""
        return {"Authorization": f"Bearer {self.master_key}"}

    def wait_live(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Poll ``GET /health/liveliness`` until 200; raise ProxyStartError with the log tail."""
        self.wait_ready(timeout)

    def __enter__(self) -> Proxy:
        return self


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
    return Proxy(
        name=f"litellm ({config.name})",
        process=process,
        port=port,
        log_path=log_path,
        ready_path="/health/liveliness",
        config=config,
    )


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
