"""A fake model provider on pytest-httpserver, for a real gateway (Portkey) to forward to.

One handler serves OpenAI chat completions, the Responses API, Anthropic Messages (plain and
streamed) and ``GET /models`` under any path prefix ending in ``/v1``. The prefix is how a test
tells a gateway target what to do, since the gateway's ``custom_host`` is all it forwards:

    /v1            healthy: known models answer (dated snapshot in ``model``), others get the
                   provider's model-not-found 404
    /broken/v1     every request: 500 server_error
    /limited/v1    every request: 429 rate_limit_exceeded (no Retry-After)
    /keyed/v1      healthy, but a key other than UPSTREAM_KEY gets OpenAI's 401 with a masked echo
                   of the key it was sent
    /switch/v1     healthy, but a streamed chat answer's first chunk names the requested model's
                   snapshot and every text chunk names SWITCHED_MODEL
    /flaky/v1      healthy, except that the first request for each model ID gets a 500
    /azure/v1      healthy, but GET /models lists every ID with an `azure/` prefix

Bodies come from tests/support/gateway_fixtures.py (the shapes real providers send).

PYTEST_DONT_REWRITE: imported by harness modules.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.gateway_fixtures import (
    anthropic_message,
    anthropic_stream,
    chat_chunk,
    chat_completion,
    json_response,
    responses_object,
    sse_response,
)

# What each known model ID answers as (a provider's dated snapshot, as the real ones do).
SNAPSHOTS: Mapping[str, str] = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
}
UPSTREAM_KEY = "sk-up-4Kd9Qw2Rz7Xv5Nb8Lp3"
SWITCHED_MODEL = "gpt-3.5-turbo"
_PATH = re.compile(r"(?P<prefix>/(?:[a-z]+/)?)v1/(?P<endpoint>chat/completions|responses|messages|models)")


def _not_found(endpoint: str, model: str) -> Response:
    if endpoint == "messages":
        doc: dict[str, Any] = {
            "type": "error",
            "error": {"type": "not_found_error", "message": f"model: {model}"},
        }
    else:
        doc = {
            "error": {
                "message": f"The model `{model}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        }
    return json_response(doc, status=404)


def masked(key: str) -> str:
    """How OpenAI echoes a wrong key: its head and tail around stars."""
    return f"{key[:12]}{'*' * 8}{key[-4:]}" if len(key) > 16 else "***"


def _chat_stream(served: str, *, switch: bool) -> Response:
    text_model = SWITCHED_MODEL if switch else served
    return sse_response(
        [
            chat_chunk(served, text=""),
            chat_chunk(text_model, text="po"),
            chat_chunk(text_model, text="ng"),
            chat_chunk(text_model, finish_reason="stop"),
        ]
    )


def _responses_stream(served: str) -> Response:
    final = responses_object(served)
    started = {**final, "status": "in_progress", "output": []}
    return sse_response(
        [
            ("response.created", {"type": "response.created", "response": started}),
            ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "pong"}),
            ("response.completed", {"type": "response.completed", "response": final}),
        ],
        done=False,
    )


def _listing(prefix: str) -> Response:
    owner = "azure/" if prefix == "/azure/" else ""
    data = [{"id": f"{owner}{m}", "object": "model", "owned_by": "fake"} for m in SNAPSHOTS]
    return json_response({"object": "list", "data": data})


def _sent_key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    return auth.removeprefix("Bearer ").strip() or request.headers.get("x-api-key", "")


class FakeProvider:
    """The request handler; one per test, so `/flaky/` forgets what it saw."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def _first_time(self, model: str) -> bool:
        with self._lock:
            new = model not in self._seen
            self._seen.add(model)
            return new

    def __call__(self, request: Request) -> Response:
        found = _PATH.search(request.path)
        if found is None:
            return json_response({"error": {"message": f"no such path {request.path}"}}, status=404)
        prefix, endpoint = found["prefix"], found["endpoint"]
        if prefix == "/broken/":
            return _server_error()
        if prefix == "/limited/":
            error = {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}
            return json_response({"error": error}, status=429)
        if prefix == "/keyed/" and _sent_key(request) != UPSTREAM_KEY:
            message = f"Incorrect API key provided: {masked(_sent_key(request))}."
            error = {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
            return json_response({"error": error}, status=401)
        if endpoint == "models":
            return _listing(prefix)
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        asked = str(body.get("model", ""))
        if prefix == "/flaky/" and self._first_time(asked):
            return _server_error()
        served = SNAPSHOTS.get(asked)
        if served is None:
            return _not_found(endpoint, asked)
        stream = body.get("stream") is True
        if endpoint == "chat/completions":
            if stream:
                return _chat_stream(served, switch=prefix == "/switch/")
            return json_response(chat_completion(served))
        if endpoint == "responses":
            return _responses_stream(served) if stream else json_response(responses_object(served))
        return (
            sse_response(anthropic_stream(served), done=False)
            if stream
            else json_response(anthropic_message(served))
        )


def _server_error() -> Response:
    return json_response({"error": {"message": "upstream exploded", "type": "server_error"}}, status=500)


def serve_provider(server: HTTPServer) -> None:
    """Answer every request on ``server`` as the fake provider (see the module docstring)."""
    server.expect_request(re.compile(r"/.*")).respond_with_handler(FakeProvider())


def provider_url(server: HTTPServer, prefix: str = "/") -> str:
    """The custom host a gateway target names: ``http://127.0.0.1:PORT{prefix}v1``."""
    return f"http://127.0.0.1:{server.port}{prefix}v1"
