"""The action shows the coding agents' findings: in the job summary and on the agent files' lines."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from tests.support.action_harness import KEY, Action, fake_gateway, write_routing

OPENCODE = (
    '{\n  "provider": {"gw": {"npm": "@ai-sdk/openai-compatible",\n    "options": {"baseURL": "BASE"},\n'
    '    "models": {"gpt-4o": {}, "gw-small": {}}}},\n  "model": "gw/gpt-4o",\n  "small_model": "gw/gw-small"\n}\n'
)
SECRET = "sk-ant-committed-by-mistake-ZYXWVUTSRQ"


def test_validate_mode_fails_on_an_unrouted_agent_setting_at_its_line(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    (action.workspace / "opencode.json").write_text(
        OPENCODE.replace("BASE", "https://gateway.example.com/v1")
    )
    assert action.run(capsys, mode="validate") == 1
    (error,) = action.annotations("error")
    assert error.startswith("::error file=opencode.json,line=6,title=routing-guard%3A unrouted::")
    assert "gw-small" in error
    assert action.outputs()["exit-code"] == "1" and action.outputs()["passed"] == "false"
    summary = action.summary_text()
    assert "Coding agents" in summary and "opencode&#46;json&#58;6" in summary


def test_check_mode_annotates_warnings_and_never_shows_a_committed_key(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o-2024-08-06"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    (action.workspace / "opencode.json").write_text(
        OPENCODE.replace("BASE", url).replace(',\n  "small_model": "gw/gw-small"', "")
    )
    claude = action.workspace / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text(
        json.dumps({"model": "sonnet", "env": {"ANTHROPIC_AUTH_TOKEN": SECRET}}, indent=2)
    )
    assert action.run(capsys, api_key=KEY) == 0
    warnings = action.annotations("warning")
    assert any(
        w.startswith("::warning file=.claude/settings.json,line=2,title=routing-guard%3A unpinned_alias::")
        for w in warnings
    )
    assert any(
        w.startswith("::warning file=.claude/settings.json,line=4,title=routing-guard%3A secret_in_config::")
        for w in warnings
    )
    report = (action.workspace / action.outputs()["report"]).read_text()
    rows = {(s["agent"], s["setting"]): s["route"] for s in json.loads(report)["agents"]["settings"]}
    assert rows == {("claude-code", "model"): None, ("opencode", "model"): "code-generation"}
    everything = "\n".join([action.stdout, action.summary_text(), report, json.dumps(action.outputs())])
    assert SECRET[:12] not in everything and SECRET[-12:] not in everything and SECRET[8:20] not in everything
