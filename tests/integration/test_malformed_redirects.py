"""A 3xx is a 3xx `http_error` (exit 1, one request, never retried), whatever its Location holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fault_servers import RawServer, response_bytes, run_cli, send, write_routing


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ROUTING_GUARD_API_KEY", "GITHUB_STEP_SUMMARY", "ROUTING_GUARD_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("http://a]b/", "a malformed URL"),  # urlsplit: "Invalid IPv6 URL"
        ("http://[::1/x", "a malformed URL"),  # httpx: "Invalid URL in location header"
        ("http://[::1]evil.example/x", "[::1]evil.example"),
        ("//other.example/v1", "other.example"),
        ("", ""),
    ],
)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_with_any_location_is_an_http_error(
    tmp_path: Path, location: str, shown: str, status: int
) -> None:
    headers = {"Location": location} if location else {}
    with RawServer(send(response_bytes(status, b"", headers)), lifetime=20) as server:
        path = write_routing(tmp_path, server.base_url)
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "2"])
        requests = len(server.requests)
    assert run.code == 1, (run.out, run.err)
    route = run.report["routes"][0]
    assert route["verdict"] == "http_error" and route["http_status"] == status
    where = f" to {shown}" if shown else ""
    assert route["notes"] == f"redirected (HTTP {status}){where}; redirects are never followed"
    assert requests == 2  # the route and the error path, each once: a redirect is not retried
    assert "internal error" not in run.err and "Traceback" not in run.err
