"""Agent reports as the terminal, the job summary and the runner see them: escaped, secret-free."""

from __future__ import annotations

import json
from pathlib import Path

from routing_guard.agents import cross_check, discover
from routing_guard.agents.render import (
    annotation_commands,
    render_findings,
    render_json,
    render_markdown,
    render_text,
)
from routing_guard.redact import Redactor
from routing_guard.routing import load_routing_text
from tests.support.agent_repos import write

ROUTING = (
    "version: 1\ngateway:\n  base_url: https://gw.example.com/v1\nroutes:\n  main:\n    model: gw-main\n"
)
HOSTILE = "evil\n::set-output name=x::1 <img src=x> | [a](http://x.example)"


def report_for(root: Path):  # type: ignore[no-untyped-def]
    found = discover(root)
    return found, cross_check(found, load_routing_text(ROUTING, ".github/model-routing.yml"))


def test_text_table_names_file_line_and_route_and_findings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "opencode.json",
        '{\n "provider": {"gw": {"npm": "@ai-sdk/openai-compatible", "models": {"gw-main": {}, "gw-small": {}}}},\n "model": "gw/gw-main",\n "small_model": "gw/gw-small"\n}\n',
    )
    _, report = report_for(tmp_path)
    text = render_text(report)
    assert "opencode.json:3" in text and "openai-chat, streamed" in text and "main" in text
    assert "error: unrouted: opencode.json:4" in text
    assert text.rstrip().endswith("2 agent settings: 1 unrouted, 0 warnings")


def test_hostile_values_cannot_start_commands_or_break_markdown(tmp_path: Path) -> None:
    write(tmp_path, ".codex/config.toml", f"model = {json.dumps(HOSTILE)}\n")
    _, report = report_for(tmp_path)
    for line in render_text(report).splitlines():
        assert not line.lstrip().startswith("::")
    markdown = render_markdown(report)
    assert "<img" not in markdown and "](http" not in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| codex")]
    assert len(table) == 1 and table[0].count(" | ") == 6
    (annotation,) = annotation_commands(report)
    assert annotation.startswith("::error file=.codex/config.toml,line=1,title=routing-guard%3A unrouted::")
    assert "evil%0A::set-output" in annotation  # the line break is encoded: no second command
    assert "\n" not in annotation


def test_secret_values_never_rendered(tmp_path: Path) -> None:
    secret = "sk-ant-committed-abcdefghij"
    write(
        tmp_path,
        ".claude/settings.json",
        json.dumps({"env": {"ANTHROPIC_API_KEY": secret, "ANTHROPIC_MODEL": "gw-main"}}, indent=2),
    )
    found, report = report_for(tmp_path)
    redactor = Redactor(found.secret_values())
    outputs = [
        render_text(report, redactor=redactor),
        render_json(report, redactor=redactor),
        render_markdown(report, redactor=redactor),
        *annotation_commands(report, redactor=redactor),
    ]
    assert all(secret[:10] not in out and secret[-10:] not in out for out in outputs)
    assert any("secret_in_config" in out for out in outputs)
    (warning,) = annotation_commands(report)
    assert warning.startswith("::warning file=.claude/settings.json,line=3,")


def test_markdown_is_empty_without_agent_settings(tmp_path: Path) -> None:
    _, report = report_for(tmp_path)
    assert render_markdown(report) == ""
    assert "no coding agent settings found" in render_text(report)


def test_findings_lines_for_validate_and_check(tmp_path: Path) -> None:
    write(tmp_path, ".codex/config.toml", 'model = "gw-main"\nreview_model = "gw-review"\n')
    _, report = report_for(tmp_path)
    lines = render_findings(report).splitlines()
    assert lines == [lines[0], "2 agent settings: 1 unrouted, 0 warnings"]
    assert lines[0].startswith("error: unrouted: .codex/config.toml:2: codex sends gw-review")
    empty_root = tmp_path / "empty"
    empty_root.mkdir()
    assert render_findings(report_for(empty_root)[1]) == ""
