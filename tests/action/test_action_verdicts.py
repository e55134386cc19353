"""Issue 10's warnings and the `inconclusive` error path, as the action's step shows them: a
`::warning` annotation at the route's line, and the exit code (docs/verdicts.md)."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.action_harness import KEY, Action, chat, not_found, route_line, write_routing


def gateway(httpserver: HTTPServer, answer: dict[str, Response]) -> str:
    def handle(request: Request) -> Response:
        model = str(request.get_json()["model"])
        return answer.get(model) or not_found(model)

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handle)
    return httpserver.url_for("/v1")


def test_a_route_served_by_another_family_is_a_warning_at_its_line(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    catch_all = {"x-litellm-model-name": "openai/gpt-4o-mini"}
    url = gateway(
        httpserver,
        {
            "gpt-4o": Response(json.dumps(chat("gpt-4o-2024-08-06")), content_type="application/json"),
            "claude-sonnet-4-5": Response(
                json.dumps(chat("claude-sonnet-4-5")), headers=catch_all, content_type="application/json"
            ),
        },
    )
    path = write_routing(action.workspace, url, {"code-generation": "gpt-4o", "review": "claude-sonnet-4-5"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 0, action.stdout
    [warning] = action.annotations("warning")
    line = route_line(path, "review")
    assert warning.startswith(f"::warning file=.github/model-routing.yml,line={line},"), warning
    assert "served by openai/gpt-4o-mini" in warning and "served:" in warning
    assert not action.annotations("error")
    assert "served by openai/gpt-4o-mini" in action.summary_text()


def test_an_inconclusive_error_path_fails_the_step_with_exit_3(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    """A 422 to the bogus ID says nothing about the model: no verdict (was: a pass, exit 0)."""
    invalid = Response(
        json.dumps({"detail": [{"loc": ["body"], "msg": "unprocessable"}]}),
        status=422,
        content_type="application/json",
    )
    url = gateway(
        httpserver,
        {
            "gpt-4o": Response(json.dumps(chat("gpt-4o-2024-08-06")), content_type="application/json"),
            "routing-guard-invalid-model-id": invalid,
        },
    )
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0") == 3, action.stdout
    assert action.outputs()["exit-code"] == "3"
    report = json.loads((action.workspace / "routing-guard-report.json").read_text())
    assert report["error_path"]["verdict"] == "inconclusive"
    assert "inconclusive" in action.summary_text()


def test_fail_on_routing_lets_an_inconclusive_error_path_through(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    invalid = Response(json.dumps({"error": {"message": "Budget exceeded"}}), status=400)
    url = gateway(
        httpserver,
        {
            "gpt-4o": Response(json.dumps(chat("gpt-4o")), content_type="application/json"),
            "routing-guard-invalid-model-id": invalid,
        },
    )
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, timeout="5", retries="0", fail_on="routing") == 0, action.stdout
    assert any("inconclusive" in w for w in action.annotations("warning")), action.commands()
