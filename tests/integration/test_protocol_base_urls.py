"""A protocol served under its own base URL (gateway.base_urls): validated like base_url, used for
that protocol's routes and error path, moved along by --gateway-url."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from routing_guard.check import CheckOptions, run_check
from routing_guard.config import Gateway
from routing_guard.redact import Redactor
from routing_guard.routing import RoutingError, load_routing_text

MESSAGE = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "pong"}], "stop_reason": "end_turn",
}  # fmt: skip
CHAT = {
    "id": "c1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
}  # fmt: skip
NOT_FOUND = {
    "error": {"message": "model routing-guard-invalid-model-id not found", "type": "not_found_error"}
}


def routing(openai: str, anthropic: str) -> str:
    return f"""\
version: 1
gateway:
  base_url: {openai}
  base_urls:
    anthropic-messages: {anthropic}
  auth: none
routes:
  code-generation: {{model: gpt-4o}}
  claude-code-review: {{model: claude-sonnet-4-5, api: anthropic-messages}}
"""


def answer(httpserver: HTTPServer, path: str, ok: dict[str, object]) -> None:
    """A healthy answer at path; a model-not-found 404 for the error path's invalid ID."""

    def handler(request: Request) -> Response:
        refused = b"routing-guard-invalid-model-id" in request.data
        return Response(
            json.dumps(NOT_FOUND if refused else ok), 404 if refused else 200, content_type="application/json"
        )

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)


def test_each_protocol_goes_to_its_own_base(httpserver: HTTPServer) -> None:
    answer(httpserver, "/v1/chat/completions", CHAT)
    answer(httpserver, "/anthropic/v1/messages", MESSAGE)
    config = load_routing_text(
        routing(httpserver.url_for("/v1"), httpserver.url_for("/anthropic/v1/")), "model-routing.yml"
    )
    assert config.gateway.base_for("anthropic-messages") == httpserver.url_for("/anthropic/v1")
    run = run_check(config, "", CheckOptions(retries=0, timeout=5), Redactor([]))
    assert [(r.route, r.verdict) for r in run.routes] == [
        ("code-generation", "pass"),
        ("claude-code-review", "pass"),
    ]
    assert sorted((e.api, e.verdict) for e in run.error_paths) == [
        ("anthropic-messages", "pass"), ("openai-chat", "pass"),
    ]  # fmt: skip
    paths = sorted({request.path for request, _ in httpserver.log})
    assert paths == ["/anthropic/v1/messages", "/v1/chat/completions"]


@pytest.mark.parametrize(
    ("anthropic", "problem"),
    [
        ("https://other.example.com/anthropic/v1", "same scheme, host and port as gateway.base_url"),
        ("http://gateway.example.com/anthropic", "clear text"),
        ("https://gateway.example.com:8443/anthropic", "same scheme, host and port as gateway.base_url"),
        ("ftp://gateway.example.com/anthropic", "http"),
        ("https://user:pw@gateway.example.com/anthropic", "credentials"),
    ],
)
def test_a_protocol_base_is_validated_like_the_main_one(anthropic: str, problem: str) -> None:
    with pytest.raises(RoutingError) as caught:
        load_routing_text(routing("https://gateway.example.com/v1", anthropic), "model-routing.yml")
    assert caught.value.line == 5
    assert "gateway.base_urls.anthropic-messages" in str(caught.value) and problem in str(caught.value)


def test_an_unknown_protocol_is_a_schema_error() -> None:
    text = routing("https://gateway.example.com/v1", "https://gateway.example.com/a").replace(
        "anthropic-messages:", "anthropic:"
    )
    with pytest.raises(RoutingError) as caught:
        load_routing_text(text, "model-routing.yml")
    assert caught.value.line == 5


def test_gateway_url_moves_every_base_and_keeps_their_paths() -> None:
    gateway = Gateway(
        base_url="https://gateway.example.com/v1",
        base_urls={"anthropic-messages": "https://gateway.example.com/anthropic/v1"},
    )
    moved = gateway.moved_to("http://127.0.0.1:4000/v1")
    assert moved.base_for("openai-chat") == "http://127.0.0.1:4000/v1"
    assert moved.base_for("anthropic-messages") == "http://127.0.0.1:4000/anthropic/v1"


def test_the_cli_gateway_url_moves_a_protocol_base_too(tmp_path: Path, httpserver: HTTPServer) -> None:
    answer(httpserver, "/v1/chat/completions", CHAT)
    answer(httpserver, "/anthropic/v1/messages", MESSAGE)
    (tmp_path / "model-routing.yml").write_text(
        routing("https://gateway.example.com/v1", "https://gateway.example.com/anthropic/v1"),
        encoding="utf-8",
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTING_GUARD_", "GITHUB_"))}
    run = subprocess.run(
        [sys.executable, "-m", "routing_guard", "check", "--gateway-url", httpserver.url_for("/v1"),
         "--format", "json", "--retries", "0"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert {r["verdict"] for r in json.loads(run.stdout)["routes"]} == {"pass"}
    assert sorted({request.path for request, _ in httpserver.log}) == [
        "/anthropic/v1/messages",
        "/v1/chat/completions",
    ]
