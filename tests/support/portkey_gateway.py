"""A real Portkey AI gateway (open-source, npm) on loopback for tests, and a loopback upstream.

``scripts/install-portkey.sh`` installs ``@portkey-ai/gateway`` with ``@hono/node-server`` pinned
into ``.portkey/`` at the repository root. The gateway listens on every interface by default (its
``serve()`` passes no hostname), so it is started with ``node --require`` and a preload,
``tests/gateways/portkey/listen-on-loopback.cjs``, that pins every listen to 127.0.0.1.

The gateway holds no configuration of its own: each request names its upstream in headers
(``x-portkey-provider`` + ``x-portkey-custom-host``, or an inline ``x-portkey-config`` JSON with
``targets`` and a ``strategy``), so one gateway serves every test of the session. Upstreams are
pytest-httpserver servers on 127.0.0.1 (Portkey allows loopback custom hosts by default).

``tests/integration/conftest.py`` imports the fixtures, so a test there asks for them by name::

    @pytest.mark.portkey
    def test_something(portkey: ServerProcess, upstream: HTTPServer) -> None:
        ...  # upstream.expect_request(...); routing file with base_url portkey.base_url

Without ``.portkey`` the fixtures fail (never skip) and say how to install it.

PYTEST_DONT_REWRITE: imported by conftest.py and test modules, never registered as a plugin.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.live_server import HOST, ServerProcess, free_port, session_server, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTKEY_DIR = REPO_ROOT / ".portkey"
GATEWAY_JS = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
LOOPBACK_PRELOAD = Path(__file__).resolve().parents[1] / "gateways" / "portkey" / "listen-on-loopback.cjs"
INSTALL_SCRIPT = "scripts/install-portkey.sh"
STARTUP_TIMEOUT_S = 30.0

# The gateway's startup prints an animation and a banner; nothing else it needs from the environment.
GATEWAY_ENV_UNSET = ("TRUSTED_CUSTOM_HOSTS", "REDIS_CONNECTION_STRING", "ALBUS_BASEPATH", "NODE_OPTIONS")


def not_installed_message() -> str:
    return (
        "Portkey gateway not installed: .portkey/node_modules/@portkey-ai/gateway is missing. "
        f"Run `bash {INSTALL_SCRIPT}` from the repository root (about 40 s, needs node, npm and the "
        "npm registry), then run the tests again."
    )


def start_portkey(log_path: Path, *, port: int | None = None) -> ServerProcess:
    """Start the gateway on 127.0.0.1 and return once ``GET /`` answers 200."""
    node = shutil.which("node")
    if node is None or not GATEWAY_JS.is_file():
        raise FileNotFoundError(not_installed_message())
    port = free_port() if port is None else port
    env = {k: v for k, v in os.environ.items() if k not in GATEWAY_ENV_UNSET}
    env["NODE_ENV"] = "production"
    cmd = [node, "--require", str(LOOPBACK_PRELOAD), str(GATEWAY_JS), f"--port={port}", "--headless"]
    return start_server(
        "portkey gateway",
        cmd,
        port=port,
        log_path=log_path,
        ready_path="/",
        timeout=STARTUP_TIMEOUT_S,
        env=env,
        cwd=PORTKEY_DIR,
    )


@pytest.fixture(scope="session")
def portkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One Portkey gateway for the session (requests carry their own config)."""
    yield from session_server(lambda: start_portkey(tmp_path_factory.mktemp("portkey-logs") / "portkey.log"))


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host=HOST, port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def upstream(_upstream_server: HTTPServer) -> Iterator[HTTPServer]:
    """A fake provider on 127.0.0.1 (cleared before and after each test)."""
    _upstream_server.clear()
    yield _upstream_server
    _upstream_server.clear()


__all__ = [
    "GATEWAY_JS",
    "INSTALL_SCRIPT",
    "LOOPBACK_PRELOAD",
    "PORTKEY_DIR",
    "not_installed_message",
    "portkey",
    "start_portkey",
    "upstream",
]
