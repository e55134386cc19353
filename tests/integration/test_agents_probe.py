"""A route covered by Claude Code's settings reaches a loopback gateway the way Claude Code calls it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from routing_guard.agents import agent_probes, cross_check, discover, routes_as_agents_call_them
from routing_guard.check import CheckOptions, run_check
from routing_guard.redact import Redactor
from routing_guard.routing import load_routing_text
from tests.support.agent_repos import journal, write
from tests.support.gateway_fixtures import (
    KEY,
    anthropic_stream,
    by_model,
    gateway_url,
    json_response,
    sse_response,
)

MODEL = "gw-cc-settings-model"


def test_claude_code_route_is_probed_as_a_streamed_messages_request(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    not_found = json_response(
        {
            "type": "error",
            "error": {"type": "not_found_error", "message": "model: routing-guard-invalid-model-id"},
        },
        404,
    )
    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(
        by_model({MODEL: sse_response(anthropic_stream(MODEL), done=False)}, default=not_found)
    )
    env = {"ANTHROPIC_BASE_URL": gateway_url(httpserver, ""), "ANTHROPIC_MODEL": MODEL}
    write(tmp_path, ".claude/settings.json", json.dumps({"env": env}, indent=2))
    # the gateway's own protocol is chat completions: only the agents' settings make this a Messages probe
    config = load_routing_text(
        f"version: 1\ngateway:\n  base_url: {gateway_url(httpserver)}\n  api: openai-chat\nroutes:\n  claude-main:\n    model: {MODEL}\n",
        ".github/model-routing.yml",
    )
    found = discover(tmp_path)
    report = cross_check(found, config)
    assert report.findings == []
    routes = routes_as_agents_call_them(config.routes, agent_probes(report, config))
    run = run_check(
        dataclasses.replace(config, routes=routes), KEY, CheckOptions(retries=0, timeout=5), Redactor([KEY])
    )

    (route,) = run.routes
    assert (route.route, route.verdict, route.api) == ("claude-main", "pass", "anthropic-messages")
    probe = next(req for req, _ in httpserver.log if (req.get_json(silent=True) or {}).get("model") == MODEL)
    recorded = journal("claude-02")[0]
    assert probe.path == recorded["path"] and probe.args.to_dict(flat=False) == recorded["query"]
    assert probe.headers["anthropic-version"] == recorded["headers"]["anthropic-version"]
    assert probe.headers["anthropic-beta"] == recorded["headers"]["anthropic-beta"]
    body = probe.get_json()
    assert body["stream"] is True and body["stream"] == recorded["stream"]
    assert (
        body["messages"] == [{"role": "user", "content": "ping"}]
        and "tools" not in body
        and "system" not in body
    )
    assert body["max_tokens"] <= 64  # the small budget, not Claude Code's 32000
