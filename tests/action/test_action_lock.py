"""The routing lock in the action: inputs `lock-file` and `on-drift`, `mode: lock`, annotations of a
drifted route, and the PR gate's "Routing change" table showing lock changes (was / now).

entrypoint.py runs in process against a fake gateway, as in tests/action/test_action.py, with the runner
fixtures (`action`, `pull_request`) of tests/action/conftest.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from routing_guard.action.inputs import InputError, read_inputs
from tests.support.action_harness import (
    KEY,
    Action,
    fake_gateway,
    gateway_routing,
    git,
    route_line,
    write_routing,
)

LOCK = ".github/model-routing.lock.json"


def test_lock_inputs_default_to_auto_and_fail() -> None:
    inputs = read_inputs({})
    assert inputs.lock_file is None and inputs.on_drift == "fail"
    assert read_inputs({"INPUT_LOCK-FILE": "auto"}).lock_file is None
    assert read_inputs({"INPUT_LOCK-FILE": "None"}).lock_file == "none"
    assert read_inputs({"INPUT_LOCK-FILE": "cfg/routing.lock.json"}).lock_file == "cfg/routing.lock.json"
    assert read_inputs({"INPUT_ON-DRIFT": "warn", "INPUT_MODE": "lock"}).on_drift == "warn"
    assert read_inputs({"INPUT_MODE": "lock"}).mode == "lock"
    with pytest.raises(InputError, match="input `on-drift`"):
        read_inputs({"INPUT_ON-DRIFT": "ignore"})


def locked(action: Action, capsys: pytest.CaptureFixture[str], url: str, **inputs: str) -> dict[str, Any]:
    """Run the action with `mode: lock` (inputs stay set for later runs, as each run's env would)."""
    write_routing(action.workspace, url, {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"})
    assert action.run(capsys, api_key=KEY, mode="lock", retries="0", **inputs) == 0, action.stdout
    lock_path = action.workspace / inputs.get("lock_file", LOCK)
    document: dict[str, Any] = json.loads(lock_path.read_text(encoding="utf-8"))
    return document


def test_mode_lock_writes_the_lock_into_the_workspace(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"})
    document = locked(action, capsys, url)
    assert document["routing_file"] == ".github/model-routing.yml"
    assert document["routes"]["code-generation"]["model_returned"] == "gpt-4o-2024-08-06"
    assert f"wrote the routing lock {LOCK.replace('.', '&#46;')}" in action.summary_text()
    assert action.outputs()["exit-code"] == "0"
    assert KEY[:8] not in (action.workspace / LOCK).read_text(encoding="utf-8")


def test_a_drifted_route_fails_the_step_with_an_error_at_its_line(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    served = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
    url = fake_gateway(httpserver, served)
    document = locked(action, capsys, url)
    served["gpt-4o"] = "gpt-4o-2024-11-20"  # the fake gateway reads this dict on every request
    assert action.run(capsys, api_key=KEY, mode="check", retries="0") == 1
    assert action.outputs()["failed-routes"] == "code-generation"
    [error] = action.annotations("error")
    line = route_line(action.workspace / ".github/model-routing.yml", "code-generation")
    assert f"line={line}," in error and "drifted" in error
    locked_utc = document["routes"]["code-generation"]["locked_utc"]
    assert f"model_returned was gpt-4o-2024-08-06, now gpt-4o-2024-11-20 (locked {locked_utc})" in error
    assert "routing-guard lock" in error

    assert action.run(capsys, api_key=KEY, retries="0", on_drift="warn") == 0
    assert action.annotations("error") == []
    assert any("drifted from the lock" in w for w in action.annotations("warning"))

    assert action.run(capsys, api_key=KEY, retries="0", on_drift="fail", lock_file="none") == 0


def test_a_named_lock_file_is_used_and_one_outside_the_workspace_refused(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    served = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
    url = fake_gateway(httpserver, served)
    locked(action, capsys, url, lock_file="locks/routing.lock.json")
    assert not (action.workspace / LOCK).exists()
    served["gpt-4o-mini"] = "gpt-4o-mini-2025-01-01"
    assert (
        action.run(capsys, api_key=KEY, mode="check", retries="0", lock_file="locks/routing.lock.json") == 1
    )
    assert action.run(capsys, api_key=KEY, mode="check", retries="0", lock_file="../outside.lock.json") == 2
    [error] = action.annotations("error")
    assert "inside the workspace" in error
    assert not (action.workspace.parent / "outside.lock.json").exists()
    assert action.run(capsys, api_key=KEY, mode="lock", lock_file="none") == 2
    assert "not `none`" in action.annotations("error")[0]


def test_validate_mode_checks_the_lock_and_annotates_its_line(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"})
    locked(action, capsys, url)
    lock_path = action.workspace / LOCK
    text = lock_path.read_text(encoding="utf-8")
    lock_path.write_text(text.replace('"version": 1', '"version": 7'), encoding="utf-8")
    requests = len(httpserver.log)
    assert action.run(capsys, mode="validate") == 2
    [error] = action.annotations("error")
    line = text.splitlines().index('  "version": 1') + 1
    assert f"{LOCK}:{line}: version" in error
    assert error.startswith(f"::error file={LOCK},line={line},")  # the annotation sits on the lock's line
    # a fork pull request (no key) with on-missing-key: validate gets the lock checked offline too
    action.monkeypatch.setenv("ROUTING_GUARD_API_KEY", "")
    assert action.run(capsys, api_key="", mode="check", on_missing_key="validate") == 2
    assert any(f"{LOCK}:{line}: version" in e for e in action.annotations("error"))
    assert len(httpserver.log) == requests


def test_the_pr_gate_probes_and_shows_a_changed_lock_entry(
    action: Action,
    capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
    pull_request: Any,
    tmp_path: Path,
) -> None:
    served = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
    url = fake_gateway(httpserver, served)
    routing = gateway_routing(url, {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"})
    pull_request(routing, routing)
    # the base branch also has the lock, as `mode: lock` wrote it then
    assert action.run(capsys, api_key=KEY, mode="lock", retries="0") == 0
    upstream = tmp_path / "upstream"
    (upstream / LOCK).write_text((action.workspace / LOCK).read_text(encoding="utf-8"))
    git(upstream, "add", ".")
    git(upstream, "commit", "--quiet", "-m", "lock")
    git(action.workspace, "fetch", "--quiet", "origin")
    # the pull request: a re-lock after the gateway moved gpt-4o to a new snapshot
    served["gpt-4o"] = "gpt-4o-2024-11-20"
    assert action.run(capsys, api_key=KEY, mode="lock", retries="0") == 0
    httpserver.clear_log()
    assert (
        action.run(capsys, api_key=KEY, mode="check", changed_only="true", invalid_model="skip", retries="0")
        == 0
    )
    probed = [str(request.get_json()["model"]) for request, _ in httpserver.log]
    assert probed == ["gpt-4o"]  # only the route whose lock entry changed
    summary = action.summary_text().split("### Routing change", 1)[1]
    assert "| route | old model | new model | change | verdict | locked (was) | locked (now) |" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| code-generation |"))
    assert "lock changed | pass | gpt-4o-2024-08-06 | gpt-4o-2024-11-20 |" in row.replace(
        "&#46;", "."
    ).replace("\\", "")
    other = next(line for line in summary.splitlines() if line.startswith("| commit-message |"))
    assert "unchanged" in other


def test_a_lock_that_is_a_symlink_out_of_the_workspace_is_neither_read_nor_written_through(
    action: Action, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A pull request can commit the default lock as a symlink to a runner file outside the
    workspace. Read as a lock, its field names came back in the error ("unknown field 'SECRETKEY'"),
    and `mode: lock` read it before replacing the link: now every mode refuses it, reading nothing."""
    url = fake_gateway(httpserver, {"gpt-4o": "gpt-4o-2024-08-06"})
    write_routing(action.workspace, url, {"code-generation": "gpt-4o"})
    secret_file = tmp_path / "runner-secrets.json"
    secret = '{"version": 1, "SECRETKEY-0xdeadbeef": "SECRET-VALUE"}\n'
    secret_file.write_text(secret)
    (action.workspace / LOCK).symlink_to(secret_file)
    for mode in ("check", "validate", "lock"):
        assert action.run(capsys, api_key=KEY, mode=mode, retries="0") == 2, (mode, action.stdout)
        [error] = action.annotations("error")
        assert "leads outside the workspace" in error and LOCK in error, (mode, error)
        assert "SECRET" not in action.stdout and "deadbeef" not in action.stdout, mode
        assert "SECRET" not in action.summary_text(), mode
    assert secret_file.read_text() == secret
    assert (action.workspace / LOCK).is_symlink()
    assert [request for request, _ in httpserver.log] == []  # refused before any probe
