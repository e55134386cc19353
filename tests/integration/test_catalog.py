"""`routing-guard models`' engine: the gateway's listing fetched over HTTP, rendered as text and JSON."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer

from routing_guard.catalog import as_json, fetch_offer, gateway_only, render_text
from routing_guard.check import CheckOptions
from routing_guard.config import Gateway
from routing_guard.redact import Redactor
from routing_guard.routing import load_routing_text
from routing_guard.transport import connect

KEY = "sk-catalog-test-0123456789abcdef"
# OpenRouter-style fields (context_length) and a LiteLLM-style model_info, one with a retirement date
LISTING = {
    "object": "list",
    "data": [
        {"id": "gpt-4o", "object": "model", "context_length": 128000},
        {"id": "claude-3-opus", "object": "model", "model_info": {"max_input_tokens": 200000},
         "deprecation_date": "2026-12-20"},
        {"id": "gpt-4o-mini\x1b[31m", "object": "model"},
    ],
}  # fmt: skip


def offer_for(httpserver: HTTPServer, routing: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    httpserver.expect_request("/v1/models", headers={"authorization": f"Bearer {KEY}"}).respond_with_json(
        LISTING if status == 200 else {"error": {"message": f"bad key {KEY}"}}, status=status
    )
    base = httpserver.url_for("/v1")
    config = load_routing_text(routing.format(base=base), "model-routing.yml") if routing else None
    gateway = config.gateway if config else Gateway(base_url=base)
    connection = connect(base, {}, sends_secret=True)
    options = CheckOptions(retries=0, timeout=5)
    offer = fetch_offer(config or gateway_only(gateway), KEY, options, Redactor([KEY]), connection)
    return offer, config


def test_the_listing_as_a_table_with_context_windows_and_dates(httpserver: HTTPServer) -> None:
    routing = "version: 1\ngateway: {{base_url: '{base}'}}\nroutes:\n  code-generation: {{model: openai/gpt-4o}}\n  heavy: {{model: coder-heavy}}\n"
    offer, config = offer_for(httpserver, routing)
    assert offer.ok and offer.exit_code == 0
    text = render_text(offer, config)
    lines = text.splitlines()
    assert lines[0] == f"GET {httpserver.url_for('/v1/models')}: 3 model(s), no tokens spent"
    assert lines[2].split() == ["model", "context", "deprecation", "routes"]
    assert lines[3].split() == ["gpt-4o", "128,000", "-", "code-generation"]
    assert lines[4].split() == ["claude-3-opus", "200,000", "2026-12-20", "-"]
    assert "\x1b" not in text  # the gateway's escape sequence is shown, not obeyed
    assert "not in the listing: heavy (coder-heavy)" in text


def test_the_listing_as_json(httpserver: HTTPServer) -> None:
    offer, config = offer_for(httpserver)
    doc = json.loads(json.dumps(as_json(offer, config)))
    assert doc["pass"] is True and doc["exit_code"] == 0
    assert doc["models"][1] == {
        "id": "claude-3-opus", "context_window": 200000, "deprecation_date": "2026-12-20", "routes": [],
    }  # fmt: skip
    assert "unlisted_routes" not in doc


def test_a_refused_listing_is_exit_3_and_never_shows_the_key(httpserver: HTTPServer) -> None:
    offer, config = offer_for(httpserver, status=401)
    assert offer.exit_code == 3
    doc = as_json(offer, config)
    assert doc["error"]["verdict"] == "auth_error" and doc["error"]["http_status"] == 401
    everything = json.dumps(doc) + render_text(offer, config)
    assert KEY[:8] not in everything and KEY[-8:] not in everything
