"""`models`, `init`, progress and `--time-budget` as a user runs them: the console command, real
sockets (a listing gateway; one that accepts and never answers), stdout and stderr kept apart."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.support.fault_servers import RawServer, never_answer

KEY = "sk-start-cli-0123456789abcdef"
LISTING = {
    "object": "list",
    "data": [
        {"id": "gpt-4o", "object": "model", "context_length": 128000},
        {"id": "gpt-4o-mini", "object": "model", "deprecation_date": "2027-01-31"},
    ],
}


def env(**extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ROUTING_GUARD_", "GITHUB_", "NO_COLOR", "FORCE_COLOR"))
    }
    return {**base, **extra}


def cli(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routing_guard", *args], cwd=cwd, env=env(**extra),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def routing(base_url: str, auth: str = "") -> str:
    return (
        f"version: 1\ngateway: {{base_url: '{base_url}'{auth}}}\n"
        "routes:\n  code-generation: {model: gpt-4o}\n  heavy: {model: coder-heavy}\n"
    )


def test_models_lists_what_the_gateway_offers(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models", headers={"authorization": f"Bearer {KEY}"}).respond_with_json(
        LISTING
    )
    (tmp_path / "model-routing.yml").write_text(routing(httpserver.url_for("/v1")), encoding="utf-8")
    text = cli("models", cwd=tmp_path, ROUTING_GUARD_API_KEY=KEY)
    assert text.returncode == 0, text.stderr
    rows = [line.split() for line in text.stdout.splitlines()]
    assert ["gpt-4o", "128,000", "-", "code-generation"] in rows
    assert ["gpt-4o-mini", "-", "2027-01-31", "-"] in rows
    assert "not in the listing: heavy (coder-heavy)" in text.stdout
    doc = json.loads(cli("models", "--format", "json", cwd=tmp_path, ROUTING_GUARD_API_KEY=KEY).stdout)
    assert [m["id"] for m in doc["models"]] == ["gpt-4o", "gpt-4o-mini"]
    assert doc["unlisted_routes"] == [{"route": "heavy", "model": "coder-heavy"}]
    assert all(KEY[:8] not in r.stdout + r.stderr for r in (text,))


def test_models_and_init_before_any_routing_file(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(LISTING)
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    listed = cli("models", "--gateway-url", httpserver.url_for("/v1"), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "gpt-4o-mini" in listed.stdout
    made = cli("init", "--gateway-url", httpserver.url_for("/v1"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("wrote .github/model-routing.yml: 6 routes (code-generation, test-repair")
    valid = cli("validate", cwd=tmp_path)
    assert valid.returncode == 0 and "valid, 6 route(s)" in valid.stdout, valid.stderr
    again = cli("init", "--gateway-url", httpserver.url_for("/v1"), cwd=tmp_path)
    assert again.returncode == 2
    assert "is already a routing file; init never replaces one" in again.stderr


def test_a_hung_gateway_shows_progress_on_stderr_and_the_budget_ends_the_run(tmp_path: Path) -> None:
    with RawServer(never_answer, lifetime=60) as server:
        (tmp_path / "model-routing.yml").write_text(
            routing(server.base_url, ", auth: none"), encoding="utf-8"
        )
        run = cli("check", "--format", "json", "--time-budget", "4", cwd=tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    doc = json.loads(run.stdout)  # stdout is the JSON report alone: progress never goes there
    assert {r["verdict"] for r in doc["routes"]} == {"timeout"}
    assert "time budget of 4s ran out" in doc["routes"][0]["notes"]
    progress = [line for line in run.stderr.splitlines() if line.startswith("routing-guard: waiting for")]
    assert progress, run.stderr
    assert "code-generation (" in progress[0] and "heavy (" in progress[0] and "time budget:" in progress[0]


def test_on_a_terminal_the_progress_is_one_live_line(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    with RawServer(never_answer, lifetime=60) as server:
        (tmp_path / "model-routing.yml").write_text(
            routing(server.base_url, ", auth: none"), encoding="utf-8"
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "routing_guard", "check", "--timeout", "4", "--retries", "0"],
            cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=follower, text=True,
        )  # fmt: skip
        os.close(follower)
        out, _ = proc.communicate(timeout=60)
    seen = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    text = seen.decode()
    assert proc.returncode == 3, out
    assert "\r\x1b[Krouting-guard: waiting for 3 of 3 after" in text
    assert "\n" not in text  # rewritten in place, never a new line per update
    assert text.endswith("\r\x1b[K")  # cleared before the table is printed
    assert "waiting for" not in out
