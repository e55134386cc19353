"""The nightly example workflow (examples/workflows/nightly.yml): its shape, and its scripts run for
real with bash, fed by real `routing-guard` runs against a gateway fixture that drifts.

The scripts are taken from the workflow file itself, so what is tested is what users copy. They
run as the runner runs a `run:` step (bash -e -o pipefail), with `gh` replaced by a fake on PATH
that keeps the repository's issues in a JSON file. The jobs' wiring (needs, if, outputs) is
checked from the parsed workflow; running the whole workflow under a runner is not done here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from routing_guard.cli import main
from tests.support.gateway_fixtures import (
    by_model,
    chat_completion,
    gateway_url,
    json_response,
    routing_file,
    use_key,
)

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "workflows" / "nightly.yml"
RUN_URL = "https://github.com/acme/app/actions/runs/42"
PR_URL = "https://github.com/acme/app/pull/7"

FAKE_GH = """\
import json, os, sys
from pathlib import Path
state_path = Path(os.environ["FAKE_GH_STATE"])
state = json.loads(state_path.read_text())
args = sys.argv[1:]
state["calls"].append(args)
assert os.environ.get("GH_TOKEN") and os.environ.get("GH_REPO") == "acme/app", "gh needs GH_TOKEN and GH_REPO"
def opt(name):
    return args[args.index(name) + 1]
if args[:2] == ["issue", "list"]:
    assert opt("--state") == "open" and opt("--json") == "number" and opt("--jq") == ".[0].number // empty"
    found = [i for i in state["issues"] if i["state"] == "open" and opt("--label") in i["labels"]]
    if found:
        print(found[0]["number"])
elif args[:2] == ["label", "create"]:
    state["labels"].append(args[2])
elif args[:2] == ["issue", "create"]:
    assert opt("--label") in state["labels"], "gh issue create fails for a label that does not exist"
    number = len(state["issues"]) + 1
    state["issues"].append({"number": number, "title": opt("--title"), "labels": [opt("--label")],
                            "body": opt("--body"), "state": "open", "comments": []})
    print(f"https://github.com/acme/app/issues/{number}")
else:
    issue = next(i for i in state["issues"] if i["number"] == int(args[2]))
    if args[:2] == ["issue", "edit"]:
        issue["body"] = opt("--body")
    elif args[:2] == ["issue", "comment"]:
        issue["comments"].append(opt("--body"))
    elif args[:2] == ["issue", "close"]:
        issue["state"] = "closed"
        issue["comments"].append(opt("--comment"))
    else:
        sys.exit(f"fake gh: unexpected command {args}")
state_path.write_text(json.dumps(state))
"""


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def step(job: str, name_or_id: str) -> dict[str, Any]:
    for candidate in workflow()["jobs"][job]["steps"]:
        if name_or_id in (candidate.get("id"), candidate.get("name")):
            found: dict[str, Any] = candidate
            return found
    raise KeyError(f"no step {name_or_id!r} in job {job!r}")


class Repository:
    """The issues side of GitHub, behind a fake `gh`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state = folder / "gh-state.json"
        self.state.write_text(json.dumps({"issues": [], "labels": [], "calls": []}))
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        gh = bin_dir / "gh"
        gh.write_text(f"#!{sys.executable}\n{FAKE_GH}")
        gh.chmod(0o755)
        self.path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        self.env = {"FAKE_GH_STATE": str(self.state)}

    @property
    def issues(self) -> list[dict[str, Any]]:
        issues: list[dict[str, Any]] = json.loads(self.state.read_text())["issues"]
        return issues

    @property
    def calls(self) -> list[list[str]]:
        calls: list[list[str]] = json.loads(self.state.read_text())["calls"]
        return calls


def run_step(script: str, env: Mapping[str, str], *, path: str | None = None, cwd: Path) -> dict[str, str]:
    """One `run:` step as the runner runs it; returns what it wrote to $GITHUB_OUTPUT."""
    bash = shutil.which("bash")
    assert bash, "bash is needed to run the workflow's scripts"
    output = cwd / "github-output"
    output.write_text("")
    script_path = cwd / "step.sh"
    script_path.write_text(script)
    environ = {"PATH": path or os.environ["PATH"], "GITHUB_OUTPUT": str(output), "HOME": str(cwd), **env}
    done = subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", str(script_path)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in output.read_text().splitlines() if line)


def sort_failures(report: Path | None, exit_code: int, cwd: Path) -> dict[str, str]:
    assert shutil.which("jq"), "jq is needed (GitHub's runners have it): apt-get install jq"
    env = {"REPORT": str(report) if report else "", "EXIT_CODE": str(exit_code)}
    return run_step(step("check", "sort")["run"], env, cwd=cwd)


def drift_issue(repo: Repository, *, drifted: str, exit_code: int, pull_request: str = "") -> None:
    env = {
        "GH_TOKEN": "ghs_fake",
        "GH_REPO": "acme/app",
        "DRIFTED": drifted,
        "EXIT_CODE": str(exit_code),
        "PULL_REQUEST": pull_request,
        "RUN_URL": RUN_URL,
        **repo.env,
    }
    run_step(
        step("drift-issue", "Open, update or close the drift issue")["run"],
        env,
        path=repo.path,
        cwd=repo.folder,
    )


# --- the workflow's wiring -------------------------------------------------------------------


def test_the_jobs_are_wired_drift_to_relock_to_issue_with_least_permissions() -> None:
    jobs = workflow()["jobs"]
    check = jobs["check"]
    assert check["permissions"] == {"contents": "read"}
    assert check["outputs"]["drifted-routes"] == "${{ steps.sort.outputs.drifted }}"
    assert check["outputs"]["other-failures"] == "${{ steps.sort.outputs.other }}"
    assert step("check", "sort")["if"] == "${{ !cancelled() }}"

    relock = jobs["relock"]
    assert relock["needs"] == "check"
    assert "needs.check.outputs.drifted-routes != ''" in relock["if"]
    assert relock["permissions"] == {"contents": "write", "pull-requests": "write"}
    (guard,) = [s for s in relock["steps"] if str(s.get("uses", "")).startswith("your-org/routing-guard")]
    assert guard["with"]["mode"] == "lock"
    assert guard["with"]["routes"] == "${{ needs.check.outputs.drifted-routes }}"
    pr = step("relock", "pr")
    action, _, sha = pr["uses"].partition("@")
    assert action == "peter-evans/create-pull-request" and re.fullmatch(r"[0-9a-f]{40}", sha)
    assert pr["with"]["add-paths"] == ".github/model-routing.lock.json"
    assert relock["outputs"]["pull-request-url"] == "${{ steps.pr.outputs.pull-request-url }}"
    for checkout in [
        s for job in jobs.values() for s in job["steps"] if "actions/checkout" in s.get("uses", "")
    ]:
        assert checkout["with"]["persist-credentials"] is False

    issue = jobs["drift-issue"]
    assert issue["needs"] == ["check", "relock"]
    assert issue["if"].startswith("${{ !cancelled()")  # runs when relock was skipped (no drift) too
    assert issue["permissions"] == {"issues": "write"}
    assert jobs["other-failures"]["permissions"] == {"issues": "write"}
    for job in jobs.values():  # untrusted values reach scripts through env, never ${{ }} in the text
        for each in job["steps"]:
            assert "${{" not in each.get("run", "")


# --- the scripts, fed by real runs --------------------------------------------------------------


@pytest.fixture
def drifting(tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A locked routing file whose gateway then moves code-generation and breaks review."""
    use_key(monkeypatch)
    answers: dict[str, Any] = {
        "gpt-4o": chat_completion("gpt-4o-2024-08-06"),
        "o3": chat_completion("o3-2025-04-16"),
    }
    refuse = json_response(
        {"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}, 404
    )
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        by_model(answers, default=refuse)
    )
    routing = routing_file(
        tmp_path, {"code-generation": "gpt-4o", "review": "o3"}, base_url=gateway_url(httpserver)
    )
    assert main(["lock", "--routing-file", str(routing), "--retries", "0"]) == 0
    return {"routing": routing, "answers": answers}


def check(routing: Path) -> tuple[int, Path]:
    report = routing.with_name("routing-guard-report.json")
    code = main(["check", "--routing-file", str(routing), "--report", str(report), "--retries", "0"])
    return code, report


def test_the_nightly_flow_opens_one_issue_offers_the_re_lock_and_closes_when_back(
    drifting: dict[str, Any], tmp_path: Path
) -> None:
    routing, answers = drifting["routing"], drifting["answers"]
    repo = Repository(tmp_path)

    # night 1: code-generation drifted
    answers["gpt-4o"] = chat_completion("gpt-4o-2024-11-20")
    code, report = check(routing)
    assert code == 1
    sorted_ = sort_failures(report, code, tmp_path)
    assert sorted_ == {"drifted": "code-generation", "other": ""}
    drift_issue(repo, drifted=sorted_["drifted"], exit_code=code, pull_request=PR_URL)
    [issue] = repo.issues
    assert issue["state"] == "open" and issue["labels"] == ["routing-guard-drift"]
    assert "code-generation" in issue["body"] and PR_URL in issue["body"] and RUN_URL in issue["body"]

    # night 2: still drifted, and review broke too: the same issue is updated, not a second one
    answers["o3"] = chat_completion("gpt-4o-mini")
    code, report = check(routing)
    sorted_ = sort_failures(report, code, tmp_path)
    assert sorted_ == {"drifted": "code-generation", "other": "review"}
    drift_issue(repo, drifted=sorted_["drifted"], exit_code=code, pull_request=PR_URL)
    assert len(repo.issues) == 1 and repo.issues[0]["state"] == "open"
    assert repo.calls[-1][:3] == ["issue", "edit", "1"]

    # the re-lock pull request's content: `mode: lock` with routes = the drifted ones
    answers["o3"] = chat_completion("o3-2025-04-16")
    lock_path = routing.with_name("model-routing.lock.json")
    before = json.loads(lock_path.read_text(encoding="utf-8"))
    assert (
        main(["lock", "--routing-file", str(routing), "--route", sorted_["drifted"], "--retries", "0"]) == 0
    )
    after = json.loads(lock_path.read_text(encoding="utf-8"))
    assert after["routes"]["code-generation"]["model_returned"] == "gpt-4o-2024-11-20"
    assert after["routes"]["review"] == before["routes"]["review"]

    # night 3, the re-lock merged: every route matches the lock, so the issue closes
    code, report = check(routing)
    assert code == 0
    sorted_ = sort_failures(report, code, tmp_path)
    assert sorted_ == {"drifted": "", "other": ""}
    drift_issue(repo, drifted="", exit_code=code)
    assert repo.issues[0]["state"] == "closed"
    assert RUN_URL in repo.issues[0]["comments"][-1]


def test_an_outage_neither_opens_nor_closes_the_drift_issue(tmp_path: Path) -> None:
    repo = Repository(tmp_path)
    drift_issue(repo, drifted="code-generation", exit_code=1)
    assert repo.issues[0]["body"].count("not opened (see the run)") == 1  # no pull request this time
    sorted_ = sort_failures(None, 3, tmp_path)  # an outage: no report was written
    assert sorted_ == {"drifted": "", "other": "exit code 3 (see the run)"}
    drift_issue(repo, drifted="", exit_code=3)
    assert repo.issues[0]["state"] == "open"


def test_other_failures_open_one_tracking_issue_then_comment(tmp_path: Path) -> None:
    repo = Repository(tmp_path)
    script = step("other-failures", "Open the tracking issue, or comment on the open one")["run"]
    env = {"GH_TOKEN": "t", "GH_REPO": "acme/app", "EXIT_CODE": "1", "FAILED": "review", "RUN_URL": RUN_URL}
    env.update(repo.env)
    run_step(script, env, path=repo.path, cwd=tmp_path)
    run_step(script, env, path=repo.path, cwd=tmp_path)
    [issue] = repo.issues
    assert issue["title"] == "Nightly routing check failed" and "review" in issue["body"]
    assert len(issue["comments"]) == 1
