"""The action image, run exactly as the GitHub runner runs it, against a real LiteLLM proxy.

`tests/support/container_harness.py` builds the repository's Dockerfile with podman (once per session) and
starts the container the way the runner's ContainerActionHandler does: inputs as `INPUT_<NAME>`
with hyphens kept and action.yml's defaults, `PATH=utter-nonsense`, the file commands mounted under
/github/file_commands, the workspace owned by uid 1001. `--network=host` lets the container reach
the LiteLLM proxies of `tests/support/litellm_proxy.py` on 127.0.0.1 (mock deployments: nothing leaves the
machine). The routing files are in `tests/routing_files/container/`; their `base_url` placeholder
is replaced with the proxy's URL when a scenario copies one into its workspace.

Scenarios: a passing run (masks first, outputs, report, summary, no key anywhere), a silent
fallback plus a pinned route the catch-all serves (annotations at the route's line), a fork pull
request with an empty key (`on-missing-key` validate and fail), an outage under `fail-on: routing`,
and `changed-only` on a pull request with a real git checkout.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.container_harness import ActionRun, build_image, require_podman, run_action
from tests.support.litellm_proxy import (
    CONFIG_CATCH_ALL,
    CONFIG_HEALTHY,
    MASTER_KEY,
    LiteLLMNotInstalledError,
    Proxy,
    ProxyPool,
    ProxyStartError,
    free_port,
)

pytestmark = [pytest.mark.container, pytest.mark.litellm, pytest.mark.timeout(900)]

ROUTING_DIR = Path(__file__).resolve().parents[1] / "routing_files" / "container"
PLACEHOLDER_URL = "http://127.0.0.1:9/v1"  # the base_url every file in ROUTING_DIR carries
REPORT = "routing-guard-report.json"
PR_CONTEXT = {
    "GITHUB_EVENT_NAME": "pull_request",
    "GITHUB_BASE_REF": "main",
    "GITHUB_HEAD_REF": "feature",
    "GITHUB_REF": "refs/pull/7/merge",
    "GITHUB_REF_NAME": "7/merge",
}
FORK_EVENT = {
    "number": 7,
    "pull_request": {
        "number": 7,
        "base": {"ref": "main"},
        "head": {"ref": "feature", "repo": {"fork": True}},
    },
}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image(litellm_pool: ProxyPool) -> str:
    """The action image (built once per session), with both proxies of this module live.

    The proxies start in the background while podman builds: the two waits overlap.
    """
    require_podman()
    with ThreadPoolExecutor(max_workers=1) as background:
        started = background.submit(litellm_pool.start_many, [CONFIG_HEALTHY, CONFIG_CATCH_ALL])
        built = build_image()
        try:
            started.result()
        except (LiteLLMNotInstalledError, ProxyStartError) as exc:
            pytest.fail(str(exc), pytrace=False)
    return built


# --- helpers -----------------------------------------------------------------------------------


def place_routing(workspace: Path, source: str, target: str, base_url: str) -> Path:
    """Copy a routing file of ROUTING_DIR into the workspace with the gateway's real URL."""
    text = (ROUTING_DIR / source).read_text(encoding="utf-8")
    assert PLACEHOLDER_URL in text, source
    path = workspace / target
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(PLACEHOLDER_URL, base_url), encoding="utf-8")
    return path


def route_line(path: Path, route: str) -> int:
    """The 1-based line of `route:` under `routes:` in a routing file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines, 1) if re.fullmatch(rf"  {re.escape(route)}:\s*(#.*)?", line)]
    assert len(found) == 1, (route, found)
    return found[0]


def secret_runs(secret: str, size: int = 8) -> set[str]:
    """Every run of `size` consecutive characters of `secret` (the contract's leak unit)."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def unmarkdown(text: str) -> str:
    """Markdown backslash escapes and HTML entities undone, for asserting on the summary's text."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


def table_rows(summary: str, header: str) -> dict[str, list[str]]:
    """The rows of the Markdown table under `### header`, by their first cell, cells unescaped."""
    section = summary.split(f"### {header}\n", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[ \-|]+\|", line):
            continue
        cells = [unmarkdown(cell.strip()) for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows[cells[0]] = cells
    return rows


def read_report(run: ActionRun, workspace: Path) -> dict[str, Any]:
    """The report the `report` output names: relative to the workspace, present, valid JSON."""
    relative = run.outputs["report"]
    assert relative == REPORT, run.describe()
    assert not Path(relative).is_absolute()
    path = workspace / relative
    assert path.is_file(), run.describe()
    report = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(report, dict)
    return report


def assert_no_key(run: ActionRun, workspace: Path, key: str = MASTER_KEY) -> None:
    """The key, or any 8-character run of it, is in no output but the action's own add-mask lines."""
    mask_lines = {command.line for command in run.commands("add-mask")}
    texts = {
        f"{stream} line {n}": line
        for n, (stream, line) in enumerate(run.log)
        if line.rstrip("\n") not in mask_lines
    }
    texts["GITHUB_OUTPUT"] = run.output_text
    texts["GITHUB_STEP_SUMMARY"] = run.summary
    texts["GITHUB_ENV/STATE/PATH"] = run.env_text + run.state_text + run.path_text
    for path in workspace.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(workspace).parts:
            texts[str(path.relative_to(workspace))] = path.read_text(encoding="utf-8", errors="replace")
    for what, text in texts.items():
        shown = sorted(run_ for run_ in secret_runs(key) if run_ in text)
        assert not shown, f"{what} shows part of the key: {shown}"


def git(workspace: Path, *args: str) -> str:
    command = ["git", "-C", str(workspace), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    proc = subprocess.run([*command, *args], check=True, capture_output=True, text=True)
    return proc.stdout.strip()


# --- 1. a passing run ------------------------------------------------------------------------------


def test_passing_run_masks_first_and_leaks_nothing(
    image: str, litellm_healthy: Proxy, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    routing = place_routing(workspace, "healthy.yml", ".github/model-routing.yml", litellm_healthy.base_url)
    run = run_action(
        image,
        inputs={"api-key": MASTER_KEY, "retries": "0", "log-file": "logs/routing-guard.jsonl"},
        env={},
        workspace=workspace,
        hostile_path=True,
    )
    assert run.invocation.container_env["PATH"] == "utter-nonsense"
    assert run.exit_code == 0 and not run.step_failed, run.describe()

    # the mask is the very first thing printed, and every mask comes before any other command
    first_stream, first_line = run.log[0]
    assert (first_stream, first_line.rstrip("\n")) == ("stdout", f"::add-mask::{MASTER_KEY}"), run.describe()
    commands = run.commands()
    assert commands[0].name == "add-mask" and commands[0].data == MASTER_KEY
    names = [command.name for command in commands]
    assert names.count("add-mask") == len(run.masks) and names[: len(run.masks)] == ["add-mask"] * len(
        run.masks
    )
    assert f"Bearer {MASTER_KEY}" in run.masks
    assert not run.commands("error") and not run.commands("warning"), run.describe()

    assert run.outputs == {"passed": "true", "exit-code": "0", "failed-routes": "", "report": REPORT}
    report = read_report(run, workspace)
    assert report["pass"] is True and report["exit_code"] == 0, report
    assert report["routing_file"] == ".github/model-routing.yml"  # auto-detected, relative
    assert report["gateway_host"] == f"127.0.0.1:{litellm_healthy.port}"
    verdicts = {entry["route"]: entry["verdict"] for entry in report["routes"]}
    assert verdicts == dict.fromkeys(
        ("code-generation", "commit-message", "heavy-alias", "claude-code-review"), "pass"
    ), report
    lines = {entry["route"]: entry["line"] for entry in report["routes"]}
    assert lines["heavy-alias"] == route_line(routing, "heavy-alias")
    served = {entry["route"]: entry["served_model"] for entry in report["routes"]}
    assert served["code-generation"] == "openai/gpt-4o-2024-08-06"
    assert sorted(path["api"] for path in report["error_paths"]) == ["anthropic-messages", "openai-chat"]
    assert all(path["verdict"] == "pass" and path["http_status"] == 400 for path in report["error_paths"])
    log = [json.loads(line) for line in (workspace / "logs/routing-guard.jsonl").read_text().splitlines()]
    assert sorted(record["route"] for record in log) == sorted(verdicts)

    # the summary has the routes table, one passing row per route
    assert run.summary_uploaded
    assert "| route | requested | returned | served | HTTP | verdict | notes |" in run.summary
    rows = table_rows(run.summary, "Routes")
    assert set(rows) == {"route", *verdicts}, run.summary
    for name in verdicts:
        assert rows[name][5] == "✅ pass", rows[name]
    assert rows["heavy-alias"][3] == "anthropic/claude-opus-4-20250514"
    assert "exit 0" in unmarkdown(run.summary)

    assert_no_key(run, workspace)


# --- 2. a silent fallback and a pinned route served by the catch-all ------------------------------


def test_catch_all_fails_the_step_with_annotations_at_the_routes_line(
    image: str, litellm_catch_all: Proxy, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    routing = place_routing(workspace, "catch-all.yml", "ci/routing.yml", litellm_catch_all.base_url)
    run = run_action(
        image,
        inputs={"api-key": MASTER_KEY, "routing-file": "ci/routing.yml", "retries": "0"},
        env={},
        workspace=workspace,
    )
    assert run.exit_code == 1 and run.step_failed, run.describe()
    outputs = run.outputs
    assert (outputs["passed"], outputs["exit-code"]) == ("false", "1")
    assert outputs["failed-routes"] == "code-review"

    errors = run.commands("error")
    assert all(error.properties.get("file") == "ci/routing.yml" for error in errors), errors
    [route_error] = [e for e in errors if "code-review" in e.properties.get("title", "")]
    assert route_error.properties["line"] == str(route_line(routing, "code-review")), route_error
    assert "model_mismatch" in route_error.properties["title"]
    assert "openai/gpt-4o-mini" in route_error.data, route_error
    [path_error] = [e for e in errors if "error path" in e.properties.get("title", "")]
    assert "silent_fallback" in path_error.properties["title"]
    assert "openai/gpt-4o-mini" in path_error.data and "routing-guard-invalid-model-id" in path_error.data
    assert len(errors) == 2, errors  # code-generation passed: no annotation for it

    report = read_report(run, workspace)
    assert report["pass"] is False and report["exit_code"] == 1
    verdicts = {entry["route"]: entry["verdict"] for entry in report["routes"]}
    assert verdicts == {"code-generation": "pass", "code-review": "model_mismatch"}, report
    [error_path] = report["error_paths"]
    assert (error_path["verdict"], error_path["http_status"]) == ("silent_fallback", 200), error_path
    assert error_path["served_model"] == "openai/gpt-4o-mini"

    rows = table_rows(run.summary, "Error path")
    [row] = [cells for first, cells in rows.items() if first == "openai-chat"]
    assert "silent_fallback" in row[5] and row[3] == "openai/gpt-4o-mini", row
    assert "model_mismatch" in table_rows(run.summary, "Routes")["code-review"][5]
    assert_no_key(run, workspace)


# --- 3. a fork pull request: the key input arrives empty -------------------------------------------


def test_fork_pr_without_a_key_validates_when_told_to(image: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    place_routing(workspace, "healthy.yml", ".github/model-routing.yml", PLACEHOLDER_URL)
    run = run_action(
        image,
        inputs={"api-key": "", "on-missing-key": "validate"},
        env={},
        workspace=workspace,
        github=PR_CONTEXT,
        event=FORK_EVENT,
        network_host=False,  # validation needs no network
    )
    assert run.exit_code == 0 and not run.step_failed, run.describe()
    assert run.masks == []  # nothing to mask
    assert not run.commands("error"), run.describe()
    [notice] = run.commands("notice")
    said = f"{notice.properties.get('title', '')} {notice.data}"
    assert "live check skipped" in said and "No API key reached the action" in said, said
    assert re.search(r"forks? get no secrets", said), said
    summary = unmarkdown(run.summary)
    assert "live check skipped" in summary and "No API key reached the action" in summary, summary
    assert re.search(r"forks? get no secrets", summary), summary
    assert "is a valid routing file" in summary
    assert run.outputs == {"passed": "true", "exit-code": "0", "failed-routes": "", "report": ""}
    assert not (workspace / REPORT).exists()


def test_fork_pr_without_a_key_fails_by_default_and_says_why(image: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    place_routing(workspace, "healthy.yml", ".github/model-routing.yml", PLACEHOLDER_URL)
    run = run_action(
        image,
        inputs={"api-key": ""},  # on-missing-key: action.yml's default, `fail`
        env={},
        workspace=workspace,
        github=PR_CONTEXT,
        event=FORK_EVENT,
        network_host=False,
    )
    assert run.invocation.container_env["INPUT_ON-MISSING-KEY"] == "fail"
    assert run.exit_code == 2 and run.step_failed, run.describe()
    [error] = run.commands("error")
    assert "No API key reached the action" in error.data and re.search(r"forks? get no secrets", error.data)
    assert "on-missing-key: validate" in error.data, error.data
    summary = unmarkdown(run.summary)
    assert "No API key reached the action" in summary and "on-missing-key: validate" in summary, summary
    assert run.outputs == {"passed": "false", "exit-code": "2", "failed-routes": "", "report": ""}


# --- 4. an outage under fail-on: routing -----------------------------------------------------------


def test_unreachable_gateway_under_fail_on_routing_warns_and_passes(image: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    place_routing(workspace, "healthy.yml", ".github/model-routing.yml", PLACEHOLDER_URL)
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    run = run_action(
        image,
        inputs={
            "api-key": MASTER_KEY,
            "gateway-url": closed,
            "fail-on": "routing",
            "retries": "0",
            "timeout": "5",
        },
        env={},
        workspace=workspace,
    )
    assert run.exit_code == 0 and not run.step_failed, run.describe()
    assert not run.commands("error"), run.describe()
    titles = [warning.properties.get("title", "") for warning in run.commands("warning")]
    assert "routing-guard: gateway not checked" in titles, titles
    assert run.outputs["exit-code"] == "3" and run.outputs["passed"] == "false"
    report = read_report(run, workspace)
    assert report["exit_code"] == 3 and report["pass"] is False
    assert {entry["verdict"] for entry in report["routes"]} == {"unreachable"}, report
    assert_no_key(run, workspace)


# --- 5. changed-only on a pull request with a real checkout ----------------------------------------


def test_changed_only_probes_the_changed_and_added_routes(
    image: str, litellm_healthy: Proxy, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    target = ".github/model-routing.yml"
    # as actions/checkout leaves a pull request with fetch-depth 0: the base branch only as
    # origin/main, HEAD detached at the pull request's commit
    place_routing(workspace, "changes-base.yml", target, litellm_healthy.base_url)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", "routing")
    git(workspace, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(workspace, "checkout", "-q", "--detach")
    git(workspace, "branch", "-q", "-D", "main")
    place_routing(workspace, "changes-pr.yml", target, litellm_healthy.base_url)
    git(workspace, "commit", "-q", "-am", "move commit-message, add heavy-alias, drop docs")

    run = run_action(
        image,
        inputs={"api-key": MASTER_KEY, "changed-only": "true", "retries": "0"},
        env={},
        workspace=workspace,
        github=PR_CONTEXT,
        event={"number": 7, "pull_request": {"number": 7, "base": {"ref": "main"}}},
    )
    assert run.exit_code == 0 and not run.step_failed, run.describe()
    report = read_report(run, workspace)
    verdicts = {entry["route"]: entry["verdict"] for entry in report["routes"]}
    assert verdicts == {"commit-message": "pass", "heavy-alias": "pass"}, report

    rows = table_rows(run.summary, "Routing change")
    assert rows["code-generation"][1:] == ["gpt-4o", "gpt-4o", "unchanged", "not probed (unchanged)"], rows
    assert rows["commit-message"][1:] == ["gpt-4o-mini", "gpt-4.1-2025-04-14", "changed", "pass"], rows
    assert rows["heavy-alias"][1:] == ["—", "coder-heavy", "added", "pass"], rows
    assert rows["docs"][1:] == ["gpt-4", "—", "removed", "not probed (removed)"], rows
    assert "origin/main" in unmarkdown(run.summary)
    assert_no_key(run, workspace)
