"""The check against a real HTTP/2 gateway: hypercorn over TLS (a trustme CA), offering h2 by ALPN,
and the same server told to offer HTTP/1.1 only.

routing_guard/pools.py sends the first request to an https origin alone until the protocol is
known; on HTTP/2 the others then share that one connection, on HTTP/1.1 they open their own
(docs/performance.md). The server records each request's HTTP version and client port, so which
protocol and how many connections are observations (tests/support/h2_gateway.py).
"""

from __future__ import annotations

import json
import os
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.fault_servers import run_cli, write_routing
from tests.support.live_server import free_port, start_server

REPO = Path(__file__).resolve().parents[2]
ROUTES = 24
START_TIMEOUT_S = 30.0


@dataclass
class H2Gateway:
    base_url: str
    record: Path
    ca_file: Path

    def requests(self) -> list[dict[str, Any]]:
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [r for r in map(json.loads, lines) if r["path"] != "/ready"]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="routing-guard HTTP/2 test CA")


def start_hypercorn(tmp_path: Path, ca: trustme.CA, alpn: list[str]) -> Iterator[H2Gateway]:
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    config = tmp_path / "hypercorn.toml"
    config.write_text(f"alpn_protocols = {json.dumps(alpn)}\n", encoding="utf-8")
    record = tmp_path / "requests.jsonl"
    record.touch()
    port = free_port()
    argv = [sys.executable, "-m", "hypercorn", "tests.support.h2_gateway:app", "--config", str(config)]
    argv += ["--certfile", str(cert_file), "--keyfile", str(key_file), "--bind", f"127.0.0.1:{port}"]
    with start_server(
        "hypercorn",
        argv,
        port=port,
        log_path=tmp_path / "hypercorn.log",
        ready_path="/ready",
        timeout=START_TIMEOUT_S,
        env={**os.environ, "H2_GATEWAY_RECORD": str(record)},
        cwd=REPO,
        tls=ssl.create_default_context(cafile=str(ca_file)),
    ) as server:
        yield H2Gateway(server.base_url, record, ca_file)


@pytest.fixture
def h2_gateway(tmp_path: Path, ca: trustme.CA) -> Iterator[H2Gateway]:
    yield from start_hypercorn(tmp_path, ca, ["h2", "http/1.1"])


@pytest.fixture
def http1_gateway(tmp_path: Path, ca: trustme.CA) -> Iterator[H2Gateway]:
    yield from start_hypercorn(tmp_path, ca, ["http/1.1"])


def check(tmp_path: Path, gateway: H2Gateway) -> Any:
    routes = {f"route-{i:02d}": {"model": f"model-{i:02d}"} for i in range(ROUTES)}
    routing = write_routing(tmp_path, gateway.base_url, routes)
    argv = ["check", "--routing-file", str(routing), "--ca-certificates", str(gateway.ca_file)]
    return run_cli(tmp_path, argv)


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "GITHUB_STEP_SUMMARY",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_an_http2_gateway_carries_the_whole_run_on_one_connection(
    tmp_path: Path, h2_gateway: H2Gateway
) -> None:
    run = check(tmp_path, h2_gateway)
    assert run.code == 0, run.out + run.err
    assert [route["pass"] for route in run.routes] == [True] * ROUTES
    seen = h2_gateway.requests()
    assert len(seen) == ROUTES + 1  # the routes and the error path's unknown ID
    assert {request["http_version"] for request in seen} == {"2"}
    assert len({tuple(request["client"]) for request in seen}) == 1


def test_an_http1_only_tls_gateway_gets_connections_of_its_own(
    tmp_path: Path, http1_gateway: H2Gateway
) -> None:
    run = check(tmp_path, http1_gateway)
    assert run.code == 0, run.out + run.err
    seen = http1_gateway.requests()
    assert len(seen) == ROUTES + 1
    assert {request["http_version"] for request in seen} == {"1.1"}
    # the first request learned the protocol alone; the others went out together, not one by one
    # on its connection
    assert len({tuple(request["client"]) for request in seen}) > ROUTES // 2
