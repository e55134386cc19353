"""The action's `time-budget` input against a gateway that hangs (a socket that accepts and never
answers): the step ends when the budget says, with a plain progress line in the log before it."""

from __future__ import annotations

import json

import pytest

from tests.support.action_harness import KEY, Action, write_routing
from tests.support.fault_servers import RawServer, never_answer


def test_the_time_budget_ends_a_hung_check_and_the_log_shows_what_waited(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    with RawServer(never_answer, lifetime=60) as server:
        write_routing(action.workspace, server.base_url, {"code-generation": "gpt-4o"})
        code = action.run(capsys, api_key=KEY, time_budget="3")
    assert code == 3, action.stdout
    report = json.loads((action.workspace / action.outputs()["report"]).read_text())
    assert report["routes"][0]["verdict"] == "timeout"
    assert "the run's time budget of 3s ran out" in report["routes"][0]["notes"]
    waiting = [line for line in action.stdout.splitlines() if line.startswith("routing-guard: waiting for")]
    assert waiting and "code-generation (" in waiting[0] and "time budget:" in waiting[0]
    assert "\r" not in action.stdout  # a CI log gets plain lines, never a live one


def test_a_bad_time_budget_is_a_configuration_error(
    action: Action, capsys: pytest.CaptureFixture[str]
) -> None:
    write_routing(action.workspace, "https://gateway.example.com/v1", {"code-generation": "gpt-4o"})
    assert action.run(capsys, api_key=KEY, time_budget="soon") == 2
    assert "input `time-budget` must be a number above 0, not `soon`" in action.stdout
