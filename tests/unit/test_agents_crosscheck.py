"""The offline cross-check of agent settings against a routing file: every finding kind, the JSON, probes."""

from __future__ import annotations

import json
from pathlib import Path

from routing_guard.agents import (
    AgentReport,
    agent_probes,
    as_agents_call_it,
    cross_check,
    discover,
    propose_routes,
    render_routes,
    routes_as_agents_call_them,
)
from routing_guard.config import RoutingConfig
from routing_guard.redact import Redactor
from routing_guard.routing import load_routing_text
from tests.support.agent_repos import CLAUDE_LAYOUT, CODEX_LAYOUT, journal, lay_out, write

GATEWAY = "gateway:\n  base_url: https://gw.example.com/v1\n"


def routing(routes: str, gateway: str = GATEWAY) -> RoutingConfig:
    return load_routing_text(f"version: 1\n{gateway}routes:\n{routes}", ".github/model-routing.yml")


def check(root: Path, routes: str, gateway: str = GATEWAY) -> AgentReport:
    return cross_check(discover(root), routing(routes, gateway))


def kinds(report: AgentReport) -> list[tuple[str, str, int, str]]:
    return [(f.kind, f.file, f.line, f.setting) for f in report.findings]


def test_unrouted_small_model_is_a_routing_failure(tmp_path: Path) -> None:
    write(
        tmp_path,
        "opencode.json",
        '{\n "provider": {"gw": {"npm": "@ai-sdk/openai-compatible", "models": {"main": {}, "small": {}}}},\n "model": "gw/main",\n "small_model": "gw/small"\n}\n',
    )
    report = check(tmp_path, "  main-turn:\n    model: main\n")
    assert kinds(report) == [("unrouted", "opencode.json", 4, "small_model")]
    assert report.failed
    assert "small" in report.findings[0].message and "no route names it" in report.findings[0].message
    assert [(r.setting.setting, r.route) for r in report.rows] == [
        ("model", "main-turn"),
        ("small_model", None),
    ]


def test_routed_by_provider_prefixed_form_either_way(tmp_path: Path) -> None:
    write(tmp_path, ".codex/config.toml", 'model = "gpt-x"\nreview_model = "openai/gpt-y"\n')
    report = check(tmp_path, "  a:\n    model: openai/gpt-x\n  b:\n    model: gpt-y\n")
    assert [r.route for r in report.rows] == ["a", "b"]
    assert not report.failed


def test_unpinned_alias_names_the_variable_that_pins_it(tmp_path: Path) -> None:
    write(tmp_path, ".claude/settings.json", '{"model": "sonnet"}')
    report = check(tmp_path, "  x:\n    model: other\n")
    (finding,) = [f for f in report.findings if f.kind == "unpinned_alias"]
    assert "env.ANTHROPIC_DEFAULT_SONNET_MODEL" in finding.message
    # Claude Code picks sonnet's ID itself: no resolved ID, so no unrouted failure can be claimed
    assert report.rows[0].setting.resolved is None and not report.failed


def test_protocol_differs_only_where_the_route_pins_its_protocol(tmp_path: Path) -> None:
    lay_out(tmp_path, CODEX_LAYOUT)
    report = check(
        tmp_path,
        "  main:\n    model: gw-codex-proj-main\n    api: openai-chat\n  review:\n    model: gw-codex-proj-review\n    api: openai-responses\n  other:\n    model: z\n",
    )
    assert kinds(report) == [
        ("protocol_differs", ".codex/config.toml", 2, "model"),
        ("protocol_differs", ".codex/config.toml", 4, "review_model"),
    ]
    assert "probes openai-chat" in report.findings[0].message
    assert "without streaming" in report.findings[1].message


def test_gateway_differs_points_at_the_base_url_once(tmp_path: Path) -> None:
    env = {
        "ANTHROPIC_BASE_URL": "https://other.example.com",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "s",
        "ANTHROPIC_MODEL": "m",
    }
    write(tmp_path, ".claude/settings.json", json.dumps({"env": env}, indent=2))
    report = check(tmp_path, "  m:\n    model: m\n  s:\n    model: s\n")
    assert kinds(report) == [("gateway_differs", ".claude/settings.json", 3, "env.ANTHROPIC_MODEL")]
    assert "https://other.example.com/v1/messages" in report.findings[0].message


def test_same_gateway_is_no_finding(tmp_path: Path) -> None:
    env = {"ANTHROPIC_BASE_URL": "https://GW.example.com/", "ANTHROPIC_MODEL": "m"}
    write(tmp_path, ".claude/settings.json", json.dumps({"env": env}))
    assert check(tmp_path, "  m:\n    model: m\n").findings == []


def test_secret_in_config_never_shows_the_value_and_is_scrubbed(tmp_path: Path) -> None:
    secret = "sk-ant-committed-0123456789"
    env = {
        "ANTHROPIC_API_KEY": secret,
        "ANTHROPIC_MODEL": "m",
        "ANTHROPIC_BASE_URL": f"https://u:{secret}@gw.example.com",
    }
    write(tmp_path, ".claude/settings.json", json.dumps({"env": env}, indent=2))
    found = discover(tmp_path)
    report = cross_check(found, routing("  m:\n    model: m\n"))
    assert [k for k in kinds(report) if k[0] == "secret_in_config"] == [
        ("secret_in_config", ".claude/settings.json", 3, "env.ANTHROPIC_API_KEY"),
        ("secret_in_config", ".claude/settings.json", 5, "env.ANTHROPIC_BASE_URL"),
    ]
    text = json.dumps(report.to_json())
    assert secret not in text and secret[:12] not in text
    redactor = Redactor(found.secret_values())
    assert secret[3:14] not in redactor.scrub(f"gateway echoed {secret[3:14]}")


def test_json_document_has_the_contract_shape(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".claude/settings.json",
        '{\n  "model": "sonnet",\n  "env": {"ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-5", "ANTHROPIC_BASE_URL": "https://gateway.example.com"}\n}\n',
    )
    doc = check(
        tmp_path,
        "  code-generation:\n    model: claude-sonnet-4-5\n",
        "gateway:\n  base_url: https://gateway.example.com/v1\n",
    ).to_json()
    assert doc["version"] == 1 and doc["findings"] == []
    assert doc["settings"][0] == {
        "agent": "claude-code",
        "file": ".claude/settings.json",
        "line": 2,
        "setting": "model",
        "value": "sonnet",
        "resolved": "claude-sonnet-4-5",
        "api": "anthropic-messages",
        "stream": True,
        "base_url": "https://gateway.example.com",
        "route": "code-generation",
    }


def test_without_a_routing_file_only_file_findings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "opencode.json",
        '{"model": "gw/m", "provider": {"gw": {"options": {"apiKey": "sk-literal-1234567890"}}}}',
    )
    report = cross_check(discover(tmp_path), None)
    assert [f.kind for f in report.findings] == ["secret_in_config"]
    assert [r.route for r in report.rows] == [None]


def test_copilot_models_are_listed_but_never_unrouted(tmp_path: Path) -> None:
    write(tmp_path, ".github/agents/a.agent.md", "---\nmodel: GPT-5\n---\n")
    report = check(tmp_path, "  x:\n    model: y\n")
    assert report.findings == [] and report.rows[0].route is None


# -- probing as the agents call it ----------------------------------------------------------------


def test_claude_covered_route_is_probed_as_claude_code_calls_it(tmp_path: Path) -> None:
    lay_out(tmp_path, CLAUDE_LAYOUT)
    config = routing(
        "  cc-main:\n    model: gw-cc-settings-model\n  pinned:\n    model: gw-cc-sonnet\n    api: anthropic-messages\n"
    )
    report = cross_check(discover(tmp_path), config)
    (probe,) = agent_probes(report, config)
    request = journal("claude-02")[0]
    assert (probe.route, probe.api, probe.stream, probe.query) == (
        "cc-main",
        "anthropic-messages",
        True,
        "beta=true",
    )
    assert dict(probe.headers)["anthropic-beta"] == request["headers"]["anthropic-beta"]
    routes = routes_as_agents_call_them(config.routes, [probe])
    assert [(r.name, r.api, r.stream, r.agent_query) for r in routes] == [
        ("cc-main", "anthropic-messages", True, "beta=true"),
        ("pinned", "anthropic-messages", False, ""),
    ]


def test_shared_route_gets_one_probe_per_protocol(tmp_path: Path) -> None:
    write(tmp_path, ".codex/config.toml", 'model = "shared"\nreview_model = "shared"\n')
    write(tmp_path, ".claude/settings.json", '{"model": "shared"}')
    config = routing("  shared:\n    model: shared\n")
    probes = agent_probes(cross_check(discover(tmp_path), config), config)
    assert [(p.api, p.stream, p.agents) for p in probes] == [
        ("openai-responses", True, ("codex",)),
        ("anthropic-messages", True, ("claude-code",)),
    ]
    routes = routes_as_agents_call_them(config.routes, probes)
    assert [(r.name, r.api) for r in routes] == [
        ("shared", "openai-responses"),
        ("shared", "anthropic-messages"),
    ]
    assert routes[0].agent_headers == {} and "anthropic-beta" in routes[1].agent_headers


def test_route_writing_stream_through_defaults_keeps_its_protocol(tmp_path: Path) -> None:
    write(tmp_path, ".claude/settings.json", '{"model": "m"}')
    config = load_routing_text(
        f"version: 1\n{GATEWAY}defaults:\n  stream: false\nroutes:\n  m:\n    model: m\n", "r.yml"
    )
    report = cross_check(discover(tmp_path), config)
    assert agent_probes(report, config) == []
    assert [f.kind for f in report.findings] == ["protocol_differs"]


# -- init proposals -------------------------------------------------------------------------------


def test_proposed_routes_cover_every_setting_and_parse(tmp_path: Path) -> None:
    lay_out(tmp_path, {**CLAUDE_LAYOUT, **CODEX_LAYOUT})
    write(
        tmp_path,
        "opencode.json",
        '{"provider": {"gw": {"npm": "@ai-sdk/openai-compatible", "models": {"gw-cc-sonnet": {}, "t": {}}}}, "model": "gw/gw-cc-sonnet", "small_model": "gw/t"}',
    )
    found = discover(tmp_path)
    proposals = propose_routes(found)
    names = [p.name for p in proposals]
    assert len(names) == len(set(names))
    assert "claude-code-main" in names and "codex-review" in names and "opencode-small" in names
    shared = next(p for p in proposals if p.model == "gw-cc-sonnet")
    assert len(shared.sources) == 3  # sonnet pin, pinger-sonnet, opencode's main model
    config = routing(render_routes(proposals))
    report = cross_check(found, config)
    assert not report.failed and [f for f in report.findings if f.kind != "unpinned_alias"] == []
    assert all(not r.written & {"api", "stream"} for r in config.routes)


def test_config_as_agents_call_it_is_unchanged_without_agent_routes(tmp_path: Path) -> None:
    config = routing("  x:\n    model: y\n")
    assert as_agents_call_it(cross_check(discover(tmp_path), config), config) is config
    write(tmp_path, ".codex/config.toml", 'model = "y"\n')
    probed = as_agents_call_it(cross_check(discover(tmp_path), config), config)
    assert [(r.name, r.api, r.stream) for r in probed.routes] == [("x", "openai-responses", True)]


def test_gateway_differs_follows_a_per_protocol_base_url(tmp_path: Path) -> None:
    env = {"ANTHROPIC_BASE_URL": "https://gw.example.com/anthropic", "ANTHROPIC_MODEL": "m"}
    write(tmp_path, ".claude/settings.json", json.dumps({"env": env}))
    gateway = GATEWAY + "  base_urls:\n    anthropic-messages: https://gw.example.com/anthropic/v1\n"
    assert check(tmp_path, "  m:\n    model: m\n", gateway).findings == []
    assert [f.kind for f in check(tmp_path, "  m:\n    model: m\n").findings] == ["gateway_differs"]
