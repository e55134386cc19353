"""Whatever `validate` accepts, `check` can send; secrets never sit in the routing file.

Driven through the CLI against a raw-socket gateway on loopback that records every request, so
"refused before anything was sent" is observed.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.fault_servers import RawServer, Request, chat_completion, json_response, run_cli

KEY = "sk-sendable-0123456789abcdefghij"
GATEWAY_KEY = "gwk-cf-aig-9876543210zyxwvutsrq"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ROUTING_GUARD_API_KEY", "ROUTING_GUARD_GATEWAY_KEY", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


def routing_text(base_url: str, gateway_lines: str = "") -> str:
    return (
        "version: 1\n"
        "gateway:\n"
        f"  base_url: {base_url}\n"
        "  auth: bearer\n"
        f"{gateway_lines}"
        "routes:\n"
        "  code-generation:\n"
        "    model: gpt-4o\n"
    )


def both(folder: Path, text: str) -> tuple[object, object]:
    """validate and check on the same file."""
    path = folder / "model-routing.yml"
    path.write_text(text, encoding="utf-8")
    validate = run_cli(folder, ["validate", "--routing-file", str(path), "--no-lock"])
    check = run_cli(folder, ["check", "--routing-file", str(path), "--retries", "0", "--timeout", "5"])
    return validate, check


@pytest.fixture
def gateway() -> RawServer:
    def answer(server: RawServer, request: Request, conn: socket.socket) -> None:
        conn.sendall(json_response(200, chat_completion(request.model or "gpt-4o")))

    with RawServer(answer, lifetime=30) as server:
        yield server


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (
            '  headers:\n    X-Team: "Zürich"\n',
            6,
            "character 2 is U+00FC (LATIN SMALL LETTER U WITH DIAERESIS)",
        ),
        ('  headers:\n    X-Trace: "a\\x07b"\n', 6, "character 2 is U+0007"),
        ('  headers:\n    X-Trace: " padded"\n', 6, "cannot start or end with a space"),
        ("  headers:\n    x-portkey-api-key: pk-abc\n", 6, "name the header in gateway.gateway_key_header"),
        ("  headers:\n    cf-aig-authorization: Bearer t\n", 6, "ROUTING_GUARD_GATEWAY_KEY"),
        ("  headers:\n    Ocp-Apim-Subscription-Key: abc\n", 6, "carries a secret"),
        ("  headers:\n    x-goog-api-key: abc\n", 6, "carries a secret"),
        ("  headers:\n    X-Auth-Token: abc\n", 6, "carries a secret"),
        ("  headers:\n    Authorization: Bearer x\n", 6, "carries the API key"),
        ("  headers:\n    Host: evil.example\n", 6, "sets this header itself"),
        (
            '  headers:\n    x-portkey-config: \'{"provider": "openai", "api_key": "sk-real"}\'\n',
            6,
            "has a 'api_key' field",
        ),
        ("  gateway_key_header: Authorization\n", 5, "is already sent"),
    ],
)
def test_what_cannot_or_must_not_be_sent_is_refused_at_its_line(
    tmp_path: Path, gateway: RawServer, monkeypatch: pytest.MonkeyPatch, lines: str, line: int, message: str
) -> None:
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    for run in both(tmp_path, routing_text(gateway.base_url, lines)):
        assert run.code == 2, (run.out, run.err)
        assert f"model-routing.yml:{line}: " in run.err and message in run.err, run.err
        assert "Traceback" not in run.err
    assert gateway.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]evil.com/v1",
        "http://[::1]:80evil/v1",
        "http://a]b/v1",
        "http://[::1/x",
        "http://gw .example/v1",
    ],
)
def test_a_base_url_that_cannot_be_sent_is_refused(tmp_path: Path, url: str) -> None:
    for run in both(tmp_path, routing_text(url).replace("auth: bearer", "auth: none")):
        assert run.code == 2, (run.out, run.err)
        assert "model-routing.yml:3: gateway.base_url:" in run.err, run.err
    override = run_cli(
        tmp_path, ["check", "--routing-file", str(tmp_path / "model-routing.yml"), "--gateway-url", url]
    )
    assert override.code == 2 and "Traceback" not in override.err


@pytest.mark.parametrize("bad", ["\u200b", "\u00ad", "\u2060", "\x7f", "é", "\t"])
@pytest.mark.parametrize("variable", ["ROUTING_GUARD_API_KEY", "ROUTING_GUARD_GATEWAY_KEY"])
def test_a_secret_with_an_unsendable_character_names_the_variable(
    tmp_path: Path, gateway: RawServer, monkeypatch: pytest.MonkeyPatch, bad: str, variable: str
) -> None:
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    secret = KEY if variable == "ROUTING_GUARD_API_KEY" else GATEWAY_KEY
    monkeypatch.setenv(variable, secret[:10] + bad + secret[10:])
    text = routing_text(gateway.base_url, "  gateway_key_header: cf-aig-authorization\n")
    for run in both(tmp_path, text):
        assert run.code == 2, (run.out, run.err)
        assert f"${variable}: character 11 is U+{ord(bad):04X}" in run.err, run.err
        assert secret[:8] not in run.err + run.out and secret[-8:] not in run.err + run.out
    assert gateway.requests == []


def test_a_header_whose_value_holds_the_key_is_refused_once_the_key_is_known(
    tmp_path: Path, gateway: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = routing_text(gateway.base_url, f"  headers:\n    X-Debug: 'note {KEY[4:20]}'\n")
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    for run in both(tmp_path, text):
        assert run.code == 2, (run.out, run.err)
        assert "model-routing.yml:6: gateway.headers.X-Debug: the value holds the API key" in run.err
        assert KEY[4:12] not in run.out + run.err
    assert gateway.requests == []


def test_the_gateway_key_goes_in_the_header_the_file_names_and_is_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def echoing(server: RawServer, request: Request, conn: socket.socket) -> None:
        if request.model == "gpt-4o":
            conn.sendall(json_response(200, chat_completion("gpt-4o")))
            return
        seen = request.headers.get("cf-aig-authorization", "")
        body = {
            "error": {"message": f"unknown model; you sent {seen} and {GATEWAY_KEY.upper()}", "type": "x"}
        }
        conn.sendall(json_response(404, body))

    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    monkeypatch.setenv("ROUTING_GUARD_GATEWAY_KEY", GATEWAY_KEY)
    with RawServer(echoing, lifetime=30) as server:
        path = tmp_path / "model-routing.yml"
        extra = "  gateway_key_header: cf-aig-authorization\n  gateway_key_scheme: bearer\n"
        text = routing_text(server.base_url, extra) + "  test-repair:\n    model: claude-echo\n"
        path.write_text(text, encoding="utf-8")
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0"])
    assert run.code == 1, (run.out, run.err)  # claude-echo: 404
    assert {r.headers["cf-aig-authorization"] for r in server.requests} == {f"Bearer {GATEWAY_KEY}"}
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    assert "***" in run.report["routes"][1]["notes"]
    for text in (run.out, run.err, run.report_text, run.log_text, run.summary):
        for secret in (KEY, GATEWAY_KEY):
            assert not any(secret[i : i + 8].lower() in text.lower() for i in range(len(secret) - 7))


def test_the_gateway_key_and_its_header_go_together(
    tmp_path: Path, gateway: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    path = tmp_path / "model-routing.yml"
    path.write_text(
        routing_text(gateway.base_url, "  gateway_key_header: x-portkey-api-key\n"), encoding="utf-8"
    )
    run = run_cli(tmp_path, ["check", "--routing-file", str(path)])
    assert run.code == 2 and "no gateway key" in run.err and "gateway-key input" in run.err
    assert (
        run_cli(tmp_path, ["validate", "--routing-file", str(path), "--no-lock"]).code == 0
    )  # no key needed
    path.write_text(routing_text(gateway.base_url), encoding="utf-8")
    monkeypatch.setenv("ROUTING_GUARD_GATEWAY_KEY", GATEWAY_KEY)
    run = run_cli(tmp_path, ["check", "--routing-file", str(path)])
    assert run.code == 2 and "names no gateway.gateway_key_header" in run.err
    assert gateway.requests == []
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "routing_guard/schema/routing.schema.json").read_text()
    )
    assert {"gateway_key_header", "gateway_key_scheme"} <= set(schema["properties"]["gateway"]["properties"])


def test_models_sends_the_gateway_key_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def listing(server: RawServer, request: Request, conn: socket.socket) -> None:
        conn.sendall(json_response(200, {"data": [{"id": "gpt-4o"}]}))

    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)
    monkeypatch.setenv("ROUTING_GUARD_GATEWAY_KEY", GATEWAY_KEY)
    with RawServer(listing, lifetime=30) as server:
        path = tmp_path / "model-routing.yml"
        path.write_text(
            routing_text(server.base_url, "  gateway_key_header: x-portkey-api-key\n"), encoding="utf-8"
        )
        run = run_cli(tmp_path, ["models", "--routing-file", str(path)])
    assert run.code == 0, (run.out, run.err)
    [request] = server.requests
    assert request.headers["x-portkey-api-key"] == GATEWAY_KEY
    assert request.headers["authorization"] == f"Bearer {KEY}"
