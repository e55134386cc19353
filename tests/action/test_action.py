"""The GitHub Action side, in process: inputs, workflow commands, outputs, the summary, the PR diff,
and routing_guard.action driving the real core against a fake gateway (and, marked `litellm`, a
real proxy).

The runner contract these tests hold the code to is docs/runner.md: inputs arrive as
`INPUT_<NAME>` with hyphens kept, outputs go to $GITHUB_OUTPUT as heredocs, stdout lines starting
with `::` are commands, and `::add-mask::` must come before anything it should hide.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from routing_guard import report as summary_file
from routing_guard.action import commands, outputs
from routing_guard.action.changes import changes_markdown, diff_routes
from routing_guard.action.inputs import InputError, read_input, read_inputs
from routing_guard.routing import load_routing_text
from tests.support.action_harness import (
    KEY,
    Action,
    chat,
    entrypoint,
    fake_gateway,
    gateway_routing,
    parse_output_file,
    probed_models,
    route_line,
    write_routing,
)

# the fixtures `action` and `pull_request` are in conftest.py, the LiteLLM ones in tests/conftest.py


# --- inputs ----------------------------------------------------------------------------------------


def test_input_read_with_the_runners_hyphen_spelling_and_the_underscore_one() -> None:
    assert read_input({"INPUT_API-KEY": "k1"}, "api-key") == "k1"
    assert read_input({"INPUT_API_KEY": "k2"}, "api-key") == "k2"
    assert read_input({"INPUT_API-KEY": "", "INPUT_API_KEY": "k3"}, "api-key") == "k3"
    assert read_input({"INPUT_API-KEY": "  \n"}, "api-key") is None
    assert read_input({}, "api-key") is None


def test_inputs_defaults_are_the_contracts() -> None:
    inputs = read_inputs({})
    assert inputs.mode == "check" and inputs.fail_on == "any" and inputs.on_missing_key == "fail"
    assert inputs.models_check == "false" and not inputs.strict and not inputs.changed_only
    assert (inputs.timeout, inputs.retries, inputs.concurrency) == (30.0, 2, 32)
    assert inputs.routes == () and inputs.api_key == "" and inputs.routing_file is None


def test_inputs_all_set_as_the_runner_passes_them() -> None:
    environ = {
        "INPUT_ROUTING-FILE": "cfg/routing.yml",
        "INPUT_GATEWAY-URL": "https://gw.example.com/v1",
        "INPUT_API-KEY": KEY,
        "INPUT_MODE": "validate",
        "INPUT_ROUTES": "a, b\nc,\n\nd",
        "INPUT_CHANGED-ONLY": "true",
        "INPUT_INVALID-MODEL": "skip",
        "INPUT_MODELS-CHECK": "only",
        "INPUT_STRICT": "True",
        "INPUT_TIMEOUT": "2.5",
        "INPUT_RETRIES": "0",
        "INPUT_CONCURRENCY": "3",
        "INPUT_ON-MISSING-KEY": "validate",
        "INPUT_FAIL-ON": "routing",
        "INPUT_LOG-FILE": "out/log.jsonl",
    }
    inputs = read_inputs(environ)
    assert inputs.routing_file == "cfg/routing.yml" and inputs.gateway_url == "https://gw.example.com/v1"
    assert inputs.api_key == KEY and KEY not in repr(inputs)
    assert inputs.mode == "validate" and inputs.routes == ("a", "b", "c", "d")
    assert inputs.changed_only and inputs.strict and inputs.invalid_model == "skip"
    assert (
        inputs.models_check == "only" and inputs.on_missing_key == "validate" and inputs.fail_on == "routing"
    )
    assert (inputs.timeout, inputs.retries, inputs.concurrency) == (2.5, 0, 3)
    assert inputs.log_file == "out/log.jsonl"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mode", "probe"),
        ("fail-on", "never"),
        ("on-missing-key", "skip"),
        ("models-check", "yes"),
        ("strict", "1"),
        ("changed-only", "on"),
        ("timeout", "0"),
        ("timeout", "soon"),
        ("timeout", "nan"),
        ("timeout", "inf"),
        ("retries", "-1"),
        ("retries", "1.5"),
        ("concurrency", "0"),
    ],
)
def test_bad_input_is_refused_naming_the_input(name: str, value: str) -> None:
    with pytest.raises(InputError, match=f"input `{name}`"):
        read_inputs({f"INPUT_{name.upper()}": value})


# --- workflow commands -----------------------------------------------------------------------------


def test_command_escapes_data_and_properties() -> None:
    line = commands.command(
        "error",
        "100% broken\r\n::set-env name=X::y",
        file="dir,x/a:b.yml",
        line=12,
        title="t: a, b\nc",
    )
    assert line == (
        "::error file=dir%2Cx/a%3Ab.yml,line=12,title=t%3A a%2C b%0Ac::100%25 broken%0D%0A::set-env name=X::y"
    )
    assert "\n" not in line and "\r" not in line
    assert commands.command("notice", "plain") == "::notice::plain"


def test_add_mask_prints_each_line_escaped() -> None:
    out = io.StringIO()
    commands.add_mask("abc%def", out)
    commands.add_mask("", out)
    commands.add_mask("first\nsecond", out)
    assert out.getvalue().splitlines() == ["::add-mask::abc%25def", "::add-mask::first", "::add-mask::second"]


def test_group_is_closed_even_on_error() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), commands.group("Title\n::x::", out):
        raise RuntimeError
    assert out.getvalue().splitlines() == ["::group::Title%0A::x::", "::endgroup::"]


def test_outputs_survive_a_hostile_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = [uuid.UUID(int=1), uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)]
    monkeypatch.setattr(outputs.uuid, "uuid4", lambda: fixed.pop(0))
    taken = f"ghadelimiter_{uuid.UUID(int=1)}"
    hostile = f"line one\n{taken}\nevil=1\nother<<EOF\nEOF\n\n"
    path = tmp_path / "output"
    path.write_text("earlier=kept\n")
    outputs.write_outputs(path, {"failed-routes": hostile, "passed": "false"})
    assert parse_output_file(path.read_text()) == {
        "earlier": "kept",
        "failed-routes": hostile,
        "passed": "false",
    }
    assert taken not in path.read_text().split("\n")[1]  # the colliding delimiter was replaced


def test_outputs_delimiters_differ_per_write(tmp_path: Path) -> None:
    path = tmp_path / "output"
    outputs.write_outputs(path, {"a": "1", "b": "2"})
    heads = [line for line in path.read_text().splitlines() if "<<" in line]
    assert len({head.split("<<")[1] for head in heads}) == 2


def test_summary_is_appended_and_kept_under_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    assert summary_file.append_summary(path, "# one\n")
    assert summary_file.append_summary(path, "two\n")
    assert path.read_text() == "# one\ntwo\n"
    path.write_bytes(b"x" * (summary_file.SUMMARY_LIMIT - 5000) + b"\n")
    assert summary_file.append_summary(path, "| row é |\n" * 2000)
    data = path.read_bytes()
    assert len(data) <= summary_file.SUMMARY_LIMIT
    assert data.decode("utf-8").endswith(summary_file.SUMMARY_CUT_NOTE)
    assert not summary_file.append_summary(path, "x" * 10_000)  # no room left even for the note
    assert path.read_bytes() == data


# --- the routing change of a pull request -----------------------------------------------------------

BASE_ROUTING = """\
version: 1
gateway:
  base_url: https://gateway.example.com/v1
routes:
  code-generation:
    model: gpt-4o
  commit-message:
    model: gpt-4o-mini
  test-repair:
    model: claude-sonnet-4-5
"""


def routing(text: str) -> Any:
    return load_routing_text(text, "model-routing.yml")


def test_diff_routes_sorts_added_changed_removed_unchanged() -> None:
    new = (
        BASE_ROUTING.replace("  test-repair:\n    model: claude-sonnet-4-5\n", "")
        .replace("model: gpt-4o-mini", "model: gpt-4o-mini\n    strict: true")
        .replace("routes:\n", "routes:\n  review:\n    model: o3\n")
    )
    changes = diff_routes(routing(BASE_ROUTING), routing(new))
    assert [(c.route, c.old_model, c.new_model) for c in changes.added] == [("review", None, "o3")]
    assert [c.route for c in changes.changed] == ["commit-message"]
    assert [(c.route, c.old_model, c.new_model) for c in changes.removed] == [
        ("test-repair", "claude-sonnet-4-5", None)
    ]
    assert [c.route for c in changes.unchanged] == ["code-generation"]  # moved down two lines: same route
    assert changes.to_probe == ("review", "commit-message")


def test_diff_routes_without_a_base_file_adds_everything() -> None:
    changes = diff_routes(None, routing(BASE_ROUTING))
    assert changes.to_probe == ("code-generation", "commit-message", "test-repair")
    assert not changes.changed and not changes.removed


def test_diff_routes_gateway_change_changes_every_route() -> None:
    moved = BASE_ROUTING.replace("gateway.example.com", "new-gateway.example.com")
    changes = diff_routes(routing(BASE_ROUTING), routing(moved))
    assert changes.gateway_changed and len(changes.changed) == 3


def test_diff_routes_a_line_moved_changes_no_route() -> None:
    """A comment added above the gateway moves every line (the headers' lines included): the routes
    and the gateway are still the same, so a pull request probes none of them."""
    with_header = BASE_ROUTING.replace("gateway:\n", "gateway:\n  headers:\n    x-team: platform\n", 1)
    moved = "# reviewed by platform\n\n" + with_header
    changes = diff_routes(routing(with_header), routing(moved))
    assert not changes.gateway_changed and changes.to_probe == ()
    assert [c.route for c in changes.unchanged] == ["code-generation", "commit-message", "test-repair"]


def test_diff_routes_defaults_change_reaches_the_routes() -> None:
    with_defaults = BASE_ROUTING.replace("routes:\n", "defaults:\n  strict: true\nroutes:\n")
    changes = diff_routes(routing(BASE_ROUTING), routing(with_defaults))
    assert len(changes.changed) == 3


def test_change_table_escapes_model_ids() -> None:
    new = BASE_ROUTING.replace("model: gpt-4o\n", "model: 'gpt|<b>x</b>'\n")
    changes = diff_routes(routing(BASE_ROUTING), routing(new))
    table = changes_markdown(changes, {"code-generation": "model_mismatch"}, "origin/main")
    row = next(line for line in table.splitlines() if line.startswith("| code-generation"))
    assert "<b>" not in row and len(re.findall(r"(?<!\\)\|", row)) == 6 and "model\\_mismatch" in row
    assert "not probed \\(unchanged\\)" in table


# --- entrypoint, in process, with the real CLI --------------------------------------------------------


def test_masks_come_before_anything_else(action: Action, capsys: pytest.CaptureFixture[str]) -> None:
    code = action.run(capsys, api_key=KEY, mode="nonsense")
    lines = action.stdout.splitlines()
    b64 = base64.b64encode(KEY.encode()).decode()
    assert lines[:3] == [f"::add-mask::{KEY}", f"::add-mask::Bearer {KEY}", f"::add-mask::{b64}"]
    assert KEY not in "\n".join(lines[3:])
    assert code == 2
    assert action.annotations("error") == [
        "::error title=routing-guard%3A bad input::input `mode` must be one of `check`, `validate`, `lock`, not `nonsense`"
    ]
    assert action.outputs() == {"passed": "false", "exit-code": "2", "failed-routes": "", "report": ""}


def test_no_key_no_mask(action: Action, capsys: pytest.CaptureFixture[str]) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    action.run(capsys, mode="validate")
    assert "::add-mask::" not in action.stdout


def test_validate_mode_needs_no_key_and_sends_nothing(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    assert action.run(capsys, mode="validate") == 0
    assert "valid, 1 route(s)" in action.stdout
    assert action.outputs() == {"passed": "true", "exit-code": "0", "failed-routes": "", "report": ""}
    assert "is a valid routing file" in action.summary_text()


def test_missing_key_fails_by_default_and_says_why(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key="") == 2
    [error] = action.annotations("error")
    assert "title=routing-guard%3A no API key" in error and "forks get no secrets" in error
    assert "on-missing-key: validate" in action.summary_text()
    assert action.outputs()["exit-code"] == "2"


def test_missing_key_with_on_missing_key_validate_validates_only(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key="", on_missing_key="validate") == 0
    [notice] = action.annotations("notice")
    assert "live check skipped" in notice and "forks get no secrets" in notice
    assert not action.annotations("error")
    summary = action.summary_text()
    assert "live check skipped" in summary and "no request was sent" in summary
    assert action.outputs() == {"passed": "true", "exit-code": "0", "failed-routes": "", "report": ""}


def test_invalid_routing_file_is_annotated_at_its_line(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    path.write_text(path.read_text() + "  code-generation:\n    model: gpt-4o-mini\n")  # duplicate key
    assert action.run(capsys, api_key=KEY) == 2
    [error] = action.annotations("error")
    assert error.startswith(
        "::error file=.github/model-routing.yml,line=8,title=routing-guard%3A invalid routing"
    )


def test_healthy_gateway_passes(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 0
    assert action.stdout.startswith(f"::add-mask::{KEY}\n::add-mask::Bearer {KEY}\n")
    assert action.outputs() == {
        "passed": "true",
        "exit-code": "0",
        "failed-routes": "",
        "report": "routing-guard-report.json",
    }
    report = json.loads((action.workspace / "routing-guard-report.json").read_text())
    assert report["pass"] is True and [r["route"] for r in report["routes"]] == [
        "code-generation",
        "commit-message",
    ]
    assert not action.annotations("error") and not action.annotations("warning")
    assert all(request.headers["Authorization"] == f"Bearer {KEY}" for request, _ in httpserver.log)
    assert "routing-guard check" in action.stdout  # the CLI ran inside its group
    assert action.summary_text()


def test_model_mismatch_is_an_error_at_the_routes_line(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o", "gpt-4o-mini": "llama-3-8b"})
    path = write_routing(
        action.workspace, url, {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"}
    )
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 1
    [error] = action.annotations("error")
    line = route_line(path, "commit-message")
    assert error.startswith(
        f"::error file=.github/model-routing.yml,line={line},title=routing-guard%3A commit-message model_mismatch::"
    )
    assert "gpt-4o-mini -> llama-3-8b" in error
    outputs = action.outputs()
    assert outputs["passed"] == "false" and outputs["exit-code"] == "1"
    assert outputs["failed-routes"] == "commit-message"


def test_silent_fallback_on_the_error_path_fails(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o"}, answer_unknown="gpt-4o-mini")
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 1
    [error] = action.annotations("error")
    assert "title=routing-guard%3A error path silent_fallback" in error and "gpt-4o-mini" in error


def test_routes_input_and_skip_reach_the_cli(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o", "gpt-4o-mini": "gpt-4o-mini", "o3": "o3"})
    write_routing(action.workspace, url, {"a": "gpt-4o", "b": "gpt-4o-mini", "c": "o3"})
    assert (
        action.run(capsys, api_key=KEY, routes="a,\nc", invalid_model="skip", log_file="logs/rg.jsonl") == 0
    )
    assert sorted(probed_models(httpserver)) == ["gpt-4o", "o3"]  # no b, no bogus ID
    log = [json.loads(line) for line in (action.workspace / "logs/rg.jsonl").read_text().splitlines()]
    assert [record["route"] for record in log] == ["a", "c"]


def test_outage_under_fail_on_routing_warns_and_passes_the_step(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data("upstream down", status=503)
    write_routing(action.workspace, httpserver.url_for("/v1"), {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, fail_on="routing", timeout="5", retries="0") == 0
    assert not action.annotations("error")
    warnings = action.annotations("warning")
    assert any("code-generation" in w for w in warnings)
    assert any("gateway not checked" in w for w in warnings)
    outputs = action.outputs()
    assert outputs["exit-code"] == "3" and outputs["passed"] == "false"


def test_outage_under_fail_on_any_fails_the_step(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data("upstream down", status=503)
    write_routing(action.workspace, httpserver.url_for("/v1"), {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 3
    assert action.annotations("error")


@pytest.mark.parametrize(
    ("code", "fail_on", "step"),
    [(3, "routing", 0), (3, "any", 3), (1, "routing", 1), (2, "routing", 2), (0, "any", 0)],
)
def test_fail_on_mapping(code: int, fail_on: str, step: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert entrypoint.step_exit(code, fail_on) == step


def test_hostile_gateway_cannot_issue_commands_or_leak_the_key(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    evil_model = "gpt-4o\n::error::pwned\r\n##[set-output name=passed;]true <img src=x onerror=alert(1)> |"

    def handle(request: Request) -> Response:
        model = str(request.get_json()["model"])
        if model == "gpt-4o":
            return Response(json.dumps(chat(evil_model)), content_type="application/json")
        echo = f"Incorrect API key provided: {KEY[:12]}***{KEY[-4:]} ::warning::pwned\n::notice::pwned {KEY}"
        body = {"error": {"message": echo, "type": "invalid_request_error", "code": "model_not_found"}}
        return Response(json.dumps(body), status=404, content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handle)
    write_routing(action.workspace, httpserver.url_for("/v1"), {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 1
    for command in action.commands():
        assert "pwned" not in command.split("::")[1]  # never the command name or its properties
        assert command.startswith(
            (
                "::add-mask::",
                "::group::",
                "::endgroup::",
                "::stop-commands::",
                "::error ",
                "::warning ",
                "::notice ",
            )
        ), command
    assert not any(line.lstrip().startswith("##[") for line in action.stdout.splitlines())
    leaks = [action.stdout.split("\n", 3)[3], action.summary_text(), action.output.read_text()]
    leaks.append((action.workspace / "routing-guard-report.json").read_text())
    for text in leaks:
        assert KEY not in text and KEY[:12] not in text
    assert "<img" not in action.summary_text()


def test_more_than_ten_failures_are_summarised_in_one_more_line(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    routes = {f"route-{i:02d}": f"model-{i:02d}" for i in range(13)}
    url = fake_gateway(httpserver, {model: "other-model" for model in routes.values()})
    write_routing(action.workspace, url, routes)
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0", invalid_model="skip") == 1
    errors = action.annotations("error")
    assert len(errors) == 11
    assert (
        "and 3 more: route-10 model_mismatch, route-11 model_mismatch, route-12 model_mismatch" in errors[-1]
    )
    assert action.outputs()["failed-routes"] == ",".join(routes)


def test_auth_none_needs_no_key(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"}, auth="none")
    assert action.run(capsys, timeout="5", retries="0") == 0
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)


def test_a_crash_is_one_scrubbed_line_and_exit_4_whatever_fail_on(
    action: Action, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})

    def explode(argv: list[str]) -> int:
        raise RuntimeError(f"boom with {KEY}")

    monkeypatch.setattr(entrypoint.app, "execute", lambda request, secrets, output: explode([]))
    assert action.run(capsys, api_key=KEY, fail_on="routing") == 4
    [error] = action.annotations("error")
    assert error.startswith(
        "::error title=routing-guard%3A internal error (exit 4)::RuntimeError: boom with ***"
    )
    assert "a bug in routing-guard" in error and "ROUTING_GUARD_DEBUG=1" in error
    assert "Traceback" not in action.stdout
    assert action.outputs()["exit-code"] == "4"


# --- changed-only, with a real git repository ------------------------------------------------------------


def test_changed_only_probes_only_added_and_changed_routes(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, pull_request: Any
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o", "o3": "o3", "gpt-4.1": "gpt-4.1", "mini": "mini"})
    base = gateway_routing(
        url, {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini", "gone": "mini"}
    )
    head = gateway_routing(url, {"code-generation": "gpt-4o", "commit-message": "gpt-4.1", "review": "o3"})
    pull_request(base, head)
    assert action.run(capsys, api_key=KEY, changed_only="true", invalid_model="skip", retries="0") == 0
    assert sorted(probed_models(httpserver)) == ["gpt-4.1", "o3"]
    summary = action.summary_text()
    assert "### Routing change" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "model" not in line[:9]]
    table = "\n".join(rows)
    assert "| commit-message | gpt-4o-mini | gpt-4&#46;1 | changed | pass |" in table
    assert "| review | — | o3 | added | pass |" in table
    assert "| gone | mini | — | removed | not probed \\(removed\\) |" in table
    assert "| code-generation | gpt-4o | gpt-4o | unchanged | not probed \\(unchanged\\) |" in table


def test_changed_only_with_nothing_changed_validates_only(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, pull_request: Any
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o"})
    text = gateway_routing(url, {"code-generation": "gpt-4o"})
    pull_request(text, text.replace("version: 1\n", "version: 1\n# a comment moves the lines\n"))
    assert action.run(capsys, api_key=KEY, changed_only="true") == 0
    assert httpserver.log == []
    assert any("No route in .github/model-routing.yml changed" in n for n in action.annotations("notice"))
    assert "### Routing change" in action.summary_text()
    assert action.outputs()["report"] == ""


def test_changed_only_without_the_base_branch_says_to_fetch_it(
    action: Action, capsys: pytest.CaptureFixture[str], pull_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = gateway_routing("https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    pull_request(text, text)
    monkeypatch.setenv("GITHUB_BASE_REF", "release-9")
    assert action.run(capsys, api_key=KEY, changed_only="true") == 2
    [error] = action.annotations("error")
    assert "release-9" in error and "fetch-depth: 0" in error
    assert "fetch\\-depth" in action.summary_text() or "fetch-depth" in action.summary_text()


def test_changed_only_on_a_push_checks_everything(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o", "o3": "o3"})
    write_routing(action.workspace, url, {"a": "gpt-4o", "b": "o3"})
    assert action.run(capsys, api_key=KEY, changed_only="true", invalid_model="skip") == 0
    assert sorted(probed_models(httpserver)) == ["gpt-4o", "o3"]
    assert any("changed-only applies to pull requests" in n for n in action.annotations("notice"))


# --- against a real LiteLLM proxy -------------------------------------------------------------------------


@pytest.mark.litellm
@pytest.mark.parametrize(("proxy", "expected"), [("litellm_healthy", 0), ("litellm_catch_all", 1)])
def test_against_litellm(
    proxy: str,
    expected: int,
    action: Action,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    gateway = request.getfixturevalue(proxy)
    write_routing(action.workspace, gateway.base_url, {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=gateway.master_key, retries="0") == expected
    assert action.outputs()["exit-code"] == str(expected)
    if expected:
        assert any("silent_fallback" in error for error in action.annotations("error"))
