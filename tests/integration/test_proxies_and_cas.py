"""Corporate runners: a real forward proxy on loopback, a real internal CA (trustme), and the CLI.

What a proxy received is recorded byte for byte, so "the key never crossed the proxy in clear text"
is an observation, not an assumption.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.fault_servers import (
    RawServer,
    chat_completion,
    json_response,
    run_cli,
    send,
    write_routing,
)
from tests.support.proxy_server import ForwardProxy

KEY = "sk-proxy-test-0123456789abcdefghij"
GATEWAY_NAME = "gateway.internal.test"  # resolved by the proxy only: no DNS anywhere
OK = json_response(200, chat_completion("gpt-4o"))
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, "ROUTING_GUARD_CA_CERTIFICATES", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)


@pytest.fixture(scope="module")
def internal_ca() -> trustme.CA:
    return trustme.CA(organization_name="routing-guard test corporate CA")


@pytest.fixture
def ca_file(internal_ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "corporate-ca.pem"
    internal_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_gateway(internal_ca: trustme.CA) -> Iterator[RawServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    internal_ca.issue_cert(GATEWAY_NAME, "127.0.0.1").configure_cert(context)
    with RawServer(send(OK), tls=context, lifetime=30) as server:
        yield server


def check(folder: Path, base_url: str, *args: str, **gateway: object) -> object:
    path = write_routing(folder, base_url, **{"auth": "bearer", **gateway})
    return run_cli(folder, ["check", "--routing-file", str(path), "--timeout", "5", "--retries", "0", *args])


def test_https_gateway_through_the_proxy_with_the_internal_ca(
    tmp_path: Path, tls_gateway: RawServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.0/8,::1/128,localhost")
        url = f"https://{GATEWAY_NAME}:{tls_gateway.port}/v1"
        run = check(tmp_path, url, "--skip-error-path", "--ca-certificates", str(ca_file))
    assert run.code == 0, (run.out, run.err)
    assert proxy.seen.request_lines == [f"CONNECT {GATEWAY_NAME}:{tls_gateway.port} HTTP/1.1"]
    assert not proxy.seen.saw(KEY) and not proxy.seen.saw("gpt-4o")  # only TLS records crossed it
    [request] = tls_gateway.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("how", ["ROUTING_GUARD_CA_CERTIFICATES", "SSL_CERT_FILE"])
def test_the_internal_ca_from_the_environment(
    how: str, tmp_path: Path, tls_gateway: RawServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(how, str(ca_file))
    with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        run = check(tmp_path, f"https://{GATEWAY_NAME}:{tls_gateway.port}/v1", "--skip-error-path")
    assert run.code == 0, (run.out, run.err)
    assert proxy.seen.connections == 1


def test_without_the_internal_ca_the_hint_says_what_is_trusted_and_how_to_add_it(
    tmp_path: Path, tls_gateway: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        run = check(tmp_path, f"https://{GATEWAY_NAME}:{tls_gateway.port}/v1", "--skip-error-path")
    assert run.code == 3, (run.out, run.err)
    route = run.report["routes"][0]
    assert route["verdict"] == "unreachable" and "certificate not trusted" in route["notes"]
    assert "the public CAs (certifi)" in route["hint"] and "--ca-certificates" in route["hint"]
    assert f"proxy http://127.0.0.1:{proxy.port} (from HTTPS_PROXY)" in route["hint"]
    assert tls_gateway.requests == []


@pytest.mark.parametrize("no_proxy", ["", "127.0.0.0/8", "::1/128", "10.0.0.0/8"])
def test_a_loopback_gateway_is_reached_directly(
    no_proxy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy() as proxy, RawServer(send(OK), lifetime=30) as gateway:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        run = check(tmp_path, gateway.base_url, "--skip-error-path")
    assert run.code == 0, (run.out, run.err)
    assert proxy.seen.connections == 0  # the key never went near the proxy
    assert len(gateway.requests) == 1


def test_plain_http_through_a_proxy_on_another_host_is_refused_before_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://user:proxy-password-1234@proxy.corp.example:3128")
    run = check(tmp_path, f"http://{GATEWAY_NAME}:8080/v1", allow_insecure_http=True)
    assert run.code == 2, (run.out, run.err)
    assert "http://proxy.corp.example:3128 (from HTTP_PROXY)" in run.err
    assert "clear text" in run.err and "NO_PROXY" in run.err
    assert "proxy-password" not in run.err and "user:" not in run.err
    assert run.report is None and run.elapsed < 5


def test_plain_http_through_a_proxy_on_this_host_is_forwarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy() as proxy, RawServer(send(OK), lifetime=30) as gateway:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        url = f"http://{GATEWAY_NAME}:{gateway.port}/v1"
        run = check(tmp_path, url, "--skip-error-path", allow_insecure_http=True)
    assert run.code == 0, (run.out, run.err)
    assert proxy.seen.request_lines == [f"POST {url}/chat/completions HTTP/1.1"]


def test_a_proxy_that_refuses_the_tunnel_is_an_outage_that_names_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy(refuse_connect=True) as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        run = check(tmp_path, f"https://{GATEWAY_NAME}/v1", "--skip-error-path")
    assert run.code == 3, (run.out, run.err)
    route = run.report["routes"][0]
    assert route["verdict"] == "unreachable" and "the proxy refused" in route["notes"]
    assert "(from https_proxy)" in route["hint"] and "NO_PROXY" in route["hint"]


def test_the_demo_never_goes_through_a_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTING_GUARD_API_KEY")
    with ForwardProxy() as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        run = run_cli(tmp_path, ["demo"])
    assert run.code == 0, (run.out, run.err)
    assert proxy.seen.connections == 0
    assert re.search(r"code-generation\s+.*pass", run.out), run.out
    assert "The check exited 1." in run.out  # the demo's drift was judged, not an outage (3)


# --- every certificate problem names the setting and the path -------------------------------------


def bad_ca_files(folder: Path) -> dict[str, tuple[Path, str]]:
    (folder / "dir").mkdir(parents=True)
    (folder / "not-pem.pem").write_text("just some text\n")
    (folder / "broken.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n"
    )
    os.mkfifo(folder / "fifo.pem")
    return {
        "missing": (folder / "missing.pem", "no such file"),
        "directory": (folder / "dir", "is a directory"),
        "not PEM": (folder / "not-pem.pem", "holds no PEM certificate"),
        "broken PEM": (folder / "broken.pem", "a certificate in it cannot be read"),
        "FIFO": (folder / "fifo.pem", "is not a regular file"),
    }


@pytest.mark.parametrize("setting", ["--ca-certificates", "ROUTING_GUARD_CA_CERTIFICATES", "SSL_CERT_FILE"])
def test_a_bad_ca_file_is_a_configuration_error_naming_setting_and_path(
    setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for what, (path, problem) in bad_ca_files(tmp_path / "cas").items():
        args = []
        if setting.startswith("--"):
            args = [setting, str(path)]
        else:
            monkeypatch.setenv(setting, str(path))
        run = check(tmp_path, "https://gateway.example.com/v1", *args)
        assert run.code == 2, (what, run.out, run.err)
        assert f"{setting}: {path}: {problem}" in run.err, (what, run.err)
        assert run.report is None and "Traceback" not in run.err
