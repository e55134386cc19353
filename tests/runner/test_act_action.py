"""The action as a workflow uses it, under act: load, run, outputs, annotations, summary, masks.

Every case is a workflow in a fresh git repository holding a copy of the action (`uses: ./<folder>`),
run by act on the host with the action's container in podman (tests/support/act_harness.py). The gateways are
pytest-httpserver servers on 127.0.0.1. A later step of each workflow reads the action's outputs
and files and prints them as one `facts=` JSON line, which the test asserts on; act's JSON log
gives the step results, the annotations and the job summary.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support import act_gateways as gateways
from tests.support.act_gateways import KEY
from tests.support.act_harness import KEY_SECRET, ActEnv, ActRun, make_repo
from tests.support.act_workflows import facts, guard, workflow

pytestmark = [pytest.mark.runner, pytest.mark.container, pytest.mark.timeout(900)]

REPORT = "routing-guard-report.json"
ROUTING = """\
version: 1
gateway:
  base_url: {base_url}
  api: openai-chat
routes:
  code-generation:
    model: gpt-4o
  code-review:
    model: claude-sonnet-4-5
"""
REVIEW_LINE = 8  # the line of `code-review:` above


def assert_masks_first(run: ActRun, job: str, step: str = "guard") -> None:
    first = run.first_command_or_output(job, step)
    assert first.get("command") == "add-mask", run.describe()


def repo_with(tmp_path: Path, flow: str, base_url: str, **files: str) -> Path:
    return make_repo(
        tmp_path,
        {".github/workflows/case.yml": flow, "model-routing.yml": ROUTING.format(base_url=base_url), **files},
    )


# --- a passing run ---------------------------------------------------------------------------------


def test_passing_run(act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path) -> None:
    requested = gateways.serve(
        httpserver, {"gpt-4o": "gpt-4o-2024-08-06", "claude-sonnet-4-5": "claude-sonnet-4-5-20250929"}
    )
    flow = workflow(
        "pass",
        "push",
        {
            "check": guard(
                {"api-key": f"${{{{ secrets.{KEY_SECRET} }}}}", "log-file": "logs/routing-guard.jsonl"}
            )
        },
    )
    repo = repo_with(tmp_path, flow, gateways.url(httpserver))
    run = act_env.run(repo, "push", workflow=".github/workflows/case.yml", secrets={KEY_SECRET: KEY})

    assert run.returncode == 0, run.describe()
    assert run.job_result("check") == "success"
    assert run.step_result("check", "guard") == "success"
    assert_masks_first(run, "check")
    assert run.outputs("check", "guard") == {
        "passed": "true",
        "exit-code": "0",
        "failed-routes": "",
        "report": REPORT,
    }
    seen = facts(run, "check")
    assert seen["passed"] == "true" and seen["exit_code"] == "0" and seen["failed_routes"] == ""
    assert seen["report"] == REPORT and seen["report_exit_code"] == 0
    assert seen["verdicts"] == {"code-generation": "pass", "code-review": "pass"}
    assert sorted(record["route"] for record in seen["log"]) == ["code-generation", "code-review"]
    assert all(record["pass"] is True for record in seen["log"])

    summary = run.summary("check", "guard")
    assert "code-generation" in summary and "code-review" in summary, run.describe()
    assert not run.commands("error", "check") and not run.commands("warning", "check"), run.describe()
    assert sorted(set(requested)) == ["claude-sonnet-4-5", "gpt-4o", "routing-guard-invalid-model-id"]
    run.assert_never_leaks(KEY)


# --- a routing failure -----------------------------------------------------------------------------


def test_routing_failure_fails_the_job_and_annotates_the_route(
    act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path
) -> None:
    # a catch-all: anything it does not know, the bogus ID included, is answered by gpt-4o-mini
    gateways.serve(httpserver, {"gpt-4o": "gpt-4o"}, catch_all="gpt-4o-mini")
    inputs = {"api-key": f"${{{{ secrets.{KEY_SECRET} }}}}", "gateway-url": gateways.url(httpserver)}
    flow = workflow("failure", "push", {"check": guard(inputs)})
    # the file names another gateway: only the gateway-url input points at the catch-all
    repo = repo_with(tmp_path, flow, "https://gateway.example.com/v1")
    run = act_env.run(repo, "push", workflow=".github/workflows/case.yml", secrets={KEY_SECRET: KEY})

    assert run.returncode != 0, run.describe()
    assert run.job_result("check") == "failure"
    assert run.step_result("check", "guard") == "failure"
    assert run.step_result("check", "facts") == "success", "the if: always() step ran"
    seen = facts(run, "check")
    assert (seen["passed"], seen["exit_code"], seen["outcome"]) == ("false", "1", "failure")
    assert seen["failed_routes"] == "code-review"
    assert seen["report_exit_code"] == 1
    assert seen["verdicts"] == {"code-generation": "pass", "code-review": "model_mismatch"}

    errors = run.commands("error", "check", "guard")
    at_route = [e for e in errors if e.get("kvPairs", {}).get("line") == str(REVIEW_LINE)]
    assert len(at_route) == 1, run.describe()
    assert at_route[0]["kvPairs"]["file"] == "model-routing.yml"
    assert "gpt-4o-mini" in at_route[0]["arg"]
    assert any("silent_fallback" in e.get("kvPairs", {}).get("title", "") for e in errors), run.describe()
    run.assert_never_leaks(KEY)


# --- no key needed, no key given -------------------------------------------------------------------


def test_validate_mode_needs_no_key(act_env: ActEnv, tmp_path: Path) -> None:
    flow = workflow("validate", "push", {"check": guard({"mode": "validate"})})
    # no gateway runs anywhere: validate sends nothing
    repo = repo_with(tmp_path, flow, "https://gateway.example.com/v1")
    run = act_env.run(repo, "push", workflow=".github/workflows/case.yml")

    assert run.returncode == 0, run.describe()
    assert run.step_result("check", "guard") == "success"
    seen = facts(run, "check")
    assert (seen["passed"], seen["exit_code"], seen["report"]) == ("true", "0", "")
    assert "valid routing file" in run.summary("check", "guard"), run.describe()
    assert not run.commands("add-mask", "check", "guard")


FORK_PR = {
    "number": 7,
    "pull_request": {
        "number": 7,
        "base": {"ref": "main", "repo": {"full_name": "octo-org/octo-repo"}},
        "head": {"ref": "feature", "repo": {"full_name": "someone/octo-repo", "fork": True}},
    },
    "repository": {"full_name": "octo-org/octo-repo"},
}


def test_fork_pull_request_without_the_secret(act_env: ActEnv, tmp_path: Path) -> None:
    """A fork's PR gets no secrets: `secrets.X` is empty. validate: the file is checked; fail: exit 2."""
    key = f"${{{{ secrets.{KEY_SECRET} }}}}"
    flow = workflow(
        "fork",
        "pull_request",
        {
            "validate": guard({"api-key": key, "on-missing-key": "validate"}),
            "fail": guard({"api-key": key}),
        },
    )
    repo = repo_with(tmp_path, flow, "https://gateway.example.com/v1")
    run = act_env.run(repo, "pull_request", workflow=".github/workflows/case.yml", payload=FORK_PR)

    assert run.job_result("validate") == "success", run.describe()
    assert run.step_result("validate", "guard") == "success"
    seen = facts(run, "validate")
    assert (seen["passed"], seen["exit_code"]) == ("true", "0")
    notices = run.commands("notice", "validate", "guard")
    assert any("no API key" in e.get("kvPairs", {}).get("title", "") for e in notices), run.describe()
    assert "live check skipped" in run.summary("validate", "guard")

    assert run.job_result("fail") == "failure", run.describe()
    assert run.step_result("fail", "guard") == "failure"
    seen = facts(run, "fail")
    assert (seen["passed"], seen["exit_code"], seen["outcome"]) == ("false", "2", "failure")
    errors = run.commands("error", "fail", "guard")
    assert len(errors) == 1, run.describe()
    assert "forks get no secrets" in errors[0]["arg"] and "on-missing-key: validate" in errors[0]["arg"]
    assert run.returncode != 0


# --- an outage under fail-on: routing --------------------------------------------------------------


def test_outage_under_fail_on_routing_warns_and_passes(
    act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path
) -> None:
    gateways.outage(httpserver)
    inputs = {
        "api-key": f"${{{{ secrets.{KEY_SECRET} }}}}",
        "fail-on": "routing",
        "retries": '"0"',
        "timeout": '"5"',
    }
    flow = workflow("outage", "push", {"check": guard(inputs)})
    repo = repo_with(tmp_path, flow, gateways.url(httpserver))
    run = act_env.run(repo, "push", workflow=".github/workflows/case.yml", secrets={KEY_SECRET: KEY})

    assert run.returncode == 0, run.describe()
    assert run.step_result("check", "guard") == "success"
    seen = facts(run, "check")
    assert (seen["passed"], seen["exit_code"], seen["outcome"]) == ("false", "3", "success")
    assert seen["report_exit_code"] == 3
    warnings = run.commands("warning", "check", "guard")
    assert any("gateway not checked" in e.get("kvPairs", {}).get("title", "") for e in warnings), (
        run.describe()
    )
    assert not run.commands("error", "check", "guard"), run.describe()
    run.assert_never_leaks(KEY)


def route_line(text: str, route: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if re.fullmatch(rf"  {route}:\s*", line))


def test_route_line_constant_matches_the_routing_file() -> None:
    assert route_line(ROUTING, "code-review") == REVIEW_LINE


def test_the_leak_check_skips_only_add_mask_entries(tmp_path: Path) -> None:
    mask = json.dumps({"command": "add-mask", "arg": KEY, "raw": f"::add-mask::{KEY}\n"})
    clean = ActRun(0, [], mask + "\n" + json.dumps({"msg": "masked: ***"}) + "\n", "", tmp_path)
    clean.assert_never_leaks(KEY)
    for leak in (KEY[3:11], KEY, "c2stYWN0LVZiN1FtMlhrOUxwNFJ0Nld6M0hu"):  # a piece, the key, its base64
        leaky = ActRun(0, [], mask + "\n" + json.dumps({"msg": f"gateway said {leak}"}) + "\n", "", tmp_path)
        with pytest.raises(AssertionError, match="of the key in act's log"):
            leaky.assert_never_leaks(KEY)
