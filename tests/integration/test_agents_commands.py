"""`routing-guard agents`, and the agent findings in `validate` and `check`, on laid-out repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from routing_guard.cli import main
from tests.support.agent_repos import CLAUDE_LAYOUT, CODEX_LAYOUT, journal, lay_out, write
from tests.support.gateway_fixtures import (
    anthropic_stream,
    by_model,
    chat_completion,
    gateway_url,
    json_response,
    responses_object,
    run_check,
    sse_response,
    use_key,
)

OPENCODE = (
    '{\n  "provider": {"gw": {"npm": "@ai-sdk/openai-compatible",\n    "options": {"baseURL": "BASE"},\n'
    '    "models": {"gw-oc-main": {}, "gw-oc-small": {}}}},\n  "model": "gw/gw-oc-main",\n  "small_model": "gw/gw-oc-small"\n}\n'
)
SECRET = "sk-committed-in-agent-file-0123456789"


def routing(root: Path, routes: dict[str, str], base_url: str = "https://gw.example.com/v1") -> Path:
    body = "".join(f"  {name}:\n    model: {model}\n" for name, model in routes.items())
    return write(
        root, ".github/model-routing.yml", f"version: 1\ngateway:\n  base_url: {base_url}\nroutes:\n{body}"
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # configuration errors end through `fail`
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS", "ROUTING_GUARD_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_agents_json_is_the_contract_document(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "opencode.json", OPENCODE.replace("BASE", "https://gw.example.com/v1"))
    routing(repo, {"main-turn": "gw-oc-main"})
    code, out, _ = run(capsys, "agents", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    rows = [(s["setting"], s["line"], s["route"]) for s in doc["settings"]]
    assert rows == [("model", 5, "main-turn"), ("small_model", 6, None)]
    (finding,) = doc["findings"]
    assert (finding["kind"], finding["file"], finding["line"], finding["setting"]) == (
        "unrouted",
        "opencode.json",
        6,
        "small_model",
    )
    assert set(doc) == {"version", "settings", "findings"}


def test_agents_table_and_exit_zero_when_everything_is_routed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lay_out(repo, CODEX_LAYOUT)
    routing(repo, {"main": "gw-codex-proj-main", "review": "gw-codex-proj-review"})
    code, out, _ = run(capsys, "agents")
    assert code == 0
    assert (
        ".codex/config.toml:2" in out
        and ".codex/config.toml:4" in out
        and "openai-responses, streamed" in out
    )


def test_agents_without_a_routing_file_lists_the_settings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lay_out(repo, CLAUDE_LAYOUT)
    code, out, err = run(capsys, "agents")
    assert code == 0
    assert ".claude/settings.json:2" in out and "no routing file" in out + err


def test_agents_with_a_broken_routing_file_is_a_config_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lay_out(repo, CODEX_LAYOUT)
    write(repo, ".github/model-routing.yml", "version: 1\nroutes: [\n")
    assert run(capsys, "agents")[0] == 2


def test_validate_fails_on_an_unrouted_setting_without_a_key(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "opencode.json", OPENCODE.replace("BASE", "https://gw.example.com/v1"))
    routing(repo, {"main-turn": "gw-oc-main"})
    code, out, err = run(capsys, "validate")
    assert code == 1
    assert "unrouted" in out + err and "opencode.json:6" in out + err


def test_validate_passes_and_warns(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        repo, ".claude/settings.json", json.dumps({"model": "sonnet", "env": {"ANTHROPIC_API_KEY": SECRET}})
    )
    routing(repo, {"x": "y"})
    code, out, err = run(capsys, "validate")
    assert code == 0
    assert "unpinned_alias" in out + err and "secret_in_config" in out + err
    assert SECRET[:10] not in out + err and SECRET[-10:] not in out + err


def test_check_probes_agent_routes_as_the_agents_call_them_and_fails_unrouted(
    repo: Path, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_key(monkeypatch)
    base = gateway_url(httpserver)
    answers = {
        "gw-oc-main": chat_completion("gw-oc-main"),
        "gw-codex-proj-main": responses_object("gw-codex-proj-main"),
        "gw-codex-proj-review": responses_object("gw-codex-proj-review"),
    }
    not_found = json_response(
        {"error": {"message": "model routing-guard-invalid-model-id not found", "code": "model_not_found"}},
        404,
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(by_model(answers, not_found))
    httpserver.expect_request("/v1/responses").respond_with_handler(by_model(answers, not_found))
    write(repo, "opencode.json", OPENCODE.replace("BASE", base))
    lay_out(repo, CODEX_LAYOUT)
    write(repo, ".claude/settings.json", json.dumps({"env": {"ANTHROPIC_AUTH_TOKEN": SECRET}}))
    path = routing(
        repo,
        {
            "main-turn": "gw-oc-main",
            "codex-main": "gw-codex-proj-main",
            "codex-review": "gw-codex-proj-review",
        },
        base,
    )
    result = run_check(capsys, path, "--no-lock")
    assert result.exit_code == 1  # every route passed; opencode's small_model is unrouted
    assert all(entry["verdict"] == "pass" for entry in result.report["routes"])
    assert "unrouted" in result.stdout and "opencode.json:6" in result.stdout
    assert "Coding agents" in result.summary
    codex_probe = next(
        r for r, _ in httpserver.log if (r.get_json(silent=True) or {}).get("model") == "gw-codex-proj-main"
    )
    assert codex_probe.path == journal("codex-03")[0]["path"] and codex_probe.get_json()["stream"] is True
    assert SECRET[:10] not in result.everything and SECRET[-10:] not in result.everything


def test_check_of_a_claude_route_sends_a_streamed_messages_request(
    repo: Path, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_key(monkeypatch)
    model = "gw-cc-settings-model"
    not_found = json_response(
        {
            "type": "error",
            "error": {"type": "not_found_error", "message": "model: routing-guard-invalid-model-id"},
        },
        404,
    )
    httpserver.expect_request("/v1/messages").respond_with_handler(
        by_model({model: sse_response(anthropic_stream(model), done=False)}, not_found)
    )
    # the gateway's own protocol (chat completions) keeps its error path
    chat_not_found = {
        "error": {
            "message": "The model `routing-guard-invalid-model-id` does not exist",
            "code": "model_not_found",
        }
    }
    httpserver.expect_request("/v1/chat/completions").respond_with_json(chat_not_found, status=404)
    write(
        repo,
        ".claude/settings.json",
        json.dumps({"env": {"ANTHROPIC_BASE_URL": gateway_url(httpserver, ""), "ANTHROPIC_MODEL": model}}),
    )
    path = routing(repo, {"claude-main": model}, gateway_url(httpserver))
    result = run_check(capsys, path, "--no-lock")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.route("claude-main")["verdict"] == "pass"
    probe = next(r for r, _ in httpserver.log if (r.get_json(silent=True) or {}).get("model") == model)
    recorded = journal("claude-02")[0]
    assert probe.args.to_dict(flat=False) == recorded["query"]
    assert probe.headers["anthropic-beta"] == recorded["headers"]["anthropic-beta"]
    assert probe.get_json()["stream"] is True
