"""Every workflow in examples/workflows/ and the project's self-test.yml, run under act.

Each workflow runs as written, with these adaptations (and no others):

- `uses: your-org/routing-guard@v1` becomes `uses: ./<ACTION_DIR>`: the examples name the published
  action, which act would clone from GitHub; the test runs this checkout's action in its place.
  self-test.yml's `uses: ./` becomes the same: the action sits in a folder of its own in the test
  repositories so that concurrent test sessions on one machine never share an image name (see
  tests/support/act_harness.py).
- nightly.yml: `actions/upload-artifact` is an action act would clone from GitHub, talking to
  GitHub's artifact API: a `run:` step with the same `if:` stands in and lists the two files the
  artifact would hold. The issue jobs run as written, with a stand-in `gh` first on PATH that
  records what it was asked (GitHub's API cannot be reached). The scenario is a routing failure
  that is not drift, so the `relock` job is skipped by the workflow's own condition (it needs a
  drifted route, and its peter-evans/create-pull-request step would need GitHub).
- self-test.yml: its LiteLLM service container cannot be pulled here. The test runs the real
  LiteLLM proxy on 127.0.0.1 with the config the workflow's own "Configure the proxy" step writes
  (that step's shell, run up to its `docker cp`), drops the `services:` block and that step, and
  points `gateway-url` at the loopback proxy of each matrix leg instead of `http://litellm:4000/v1`.

`actions/checkout` is never fetched: act copies the local repository into the workspace itself.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from tests.support import act_gateways as gateways
from tests.support.act_gateways import KEY
from tests.support.act_harness import (
    KEY_SECRET,
    REPO_ROOT,
    USES,
    ActEnv,
    ActRun,
    commit,
    git,
    make_repo,
    use_local_action,
)
from tests.support.litellm_proxy import ProxyPool

pytestmark = [pytest.mark.runner, pytest.mark.container, pytest.mark.timeout(900)]

EXAMPLES = REPO_ROOT / "examples" / "workflows"
SELF_TEST = REPO_ROOT / ".github" / "workflows" / "self-test.yml"
PUBLISHED = "your-org/routing-guard@v1"
ROUTING_PATH = ".github/model-routing.yml"
ROUTING = """\
version: 1
gateway:
  base_url: {base_url}
routes:
  code-generation:
    model: gpt-4o
  code-review:
    model: claude-sonnet-4-5
"""


def example(name: str) -> str:
    return use_local_action((EXAMPLES / name).read_text(encoding="utf-8"), PUBLISHED)


def replace_block(text: str, start: str, end: str | None, new: str) -> str:
    """Text with the lines from the one starting `start` up to (not including) `end` replaced."""
    begin = text.index(start)
    stop = text.index(end, begin) if end is not None else len(text)
    return text[:begin] + new + text[stop:]


def step_of(run: ActRun, job: str, display: str) -> str:
    """The id act gave the step shown as `display` (steps without an `id:` get their index)."""
    ids = {e["stepID"][0] for e in run.of(job) if e.get("step") == display and e.get("stepID")}
    assert len(ids) == 1, (display, ids, run.describe())
    return str(ids.pop())


# --- pre-agent-gate.yml ----------------------------------------------------------------------------


@pytest.mark.parametrize("healthy", [True, False], ids=["routing-holds", "routing-broken"])
def test_pre_agent_gate(act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path, healthy: bool) -> None:
    """The agent job runs only when routing-guard passed."""
    served = {"gpt-4o": "gpt-4o", "claude-sonnet-4-5": "claude-sonnet-4-5"}
    gateways.serve(
        httpserver, served if healthy else {"gpt-4o": "gpt-4o"}, catch_all=None if healthy else "gpt-4o"
    )
    repo = make_repo(
        tmp_path,
        {
            ".github/workflows/agent-run.yml": example("pre-agent-gate.yml"),
            ROUTING_PATH: ROUTING.format(base_url=gateways.url(httpserver)),
        },
    )
    run = act_env.run(
        repo, "workflow_dispatch", workflow=".github/workflows/agent-run.yml", secrets={KEY_SECRET: KEY}
    )
    agent_said = (
        [line for line in run.output_lines("agent", step_of(run, "agent", "Run the coding agent")) if line]
        if healthy
        else []
    )
    if healthy:
        assert run.returncode == 0, run.describe()
        assert run.job_result("routing-guard") == "success"
        assert run.job_result("agent") == "success"
        assert agent_said == ["Your agent step goes here; it runs only when routing-guard passed."]
        guard = step_of(run, "routing-guard", USES)
        assert run.outputs("routing-guard", guard)["exit-code"] == "0"
    else:
        assert run.returncode != 0, run.describe()
        assert run.job_result("routing-guard") == "failure"
        guard = step_of(run, "routing-guard", USES)
        assert run.outputs("routing-guard", guard)["exit-code"] == "1", run.describe()
        assert not [e for e in run.of("agent") if e.get("raw_output")], run.describe()
        assert run.job_result("agent") in (None, "skipped"), run.describe()
    run.assert_never_leaks(KEY)


# --- nightly.yml -----------------------------------------------------------------------------------


GH_STUB = """\
#!/bin/sh
# stands in for GitHub's CLI: says on stderr what it was asked to do, answers nothing
exec python3 -c 'import json, sys; print("gh=" + json.dumps(sys.argv[1:]), file=sys.stderr)' "$@"
"""


def nightly() -> str:
    return replace_block(
        example("nightly.yml"),
        "        uses: actions/upload-artifact@",
        "\n  relock:",
        "        # stands in for actions/upload-artifact: the files the artifact would hold\n"
        "        run: ls -l routing-guard.jsonl routing-guard-report.json\n",
    )


def gh_calls(run: ActRun, job: str, step: str) -> list[list[str]]:
    return [
        json.loads(line[3:])
        for line in run.output_lines(job, step_of(run, job, step))
        if line.startswith("gh=")
    ]


def test_nightly_opens_an_issue_when_routing_breaks(
    act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path
) -> None:
    gateways.serve(httpserver, {"gpt-4o": "gpt-4o"}, catch_all="gpt-4o-mini", listing=True)
    repo = make_repo(
        tmp_path,
        {
            ".github/workflows/nightly.yml": nightly(),
            ROUTING_PATH: ROUTING.format(base_url=gateways.url(httpserver)),
        },
    )
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "gh").write_text(GH_STUB, encoding="utf-8")
    (stubs / "gh").chmod(0o755)
    run = act_env.run(
        repo, "schedule", workflow=".github/workflows/nightly.yml", secrets={KEY_SECRET: KEY}, path=[stubs]
    )

    assert run.returncode != 0, run.describe()
    assert run.job_result("check") == "failure", run.describe()
    assert run.step_result("check", "guard") == "failure", run.describe()
    assert run.outputs("check", "guard").get("failed-routes") == "code-review", run.describe()
    assert run.outputs("check", "sort") == {"drifted": "", "other": "code-review, error path (openai-chat)"}
    keep = step_of(run, "check", "Keep the log and the report")
    assert run.step_result("check", keep) == "success", "both files exist: " + run.describe()
    # models-check: true: the listing does not name claude-sonnet-4-5
    warnings = run.commands("warning", "check", "guard")
    assert any("claude-sonnet-4-5" in e.get("arg", "") for e in warnings), run.describe()

    # no drift: no re-lock; the drift issue job only looks for an open issue
    assert not run.of("relock"), run.describe()
    drift = gh_calls(run, "drift-issue", "Open, update or close the drift issue")
    assert [call[:2] for call in drift] == [["issue", "list"]], run.describe()
    tracking = gh_calls(run, "other-failures", "Open the tracking issue, or comment on the open one")
    assert [call[:2] for call in tracking] == [["issue", "list"], ["label", "create"], ["issue", "create"]]
    create = tracking[2]
    assert create[create.index("--title") + 1] == "Nightly routing check failed"
    body = create[create.index("--body") + 1]
    assert "exited with code 1" in body and "Failed: code-review, error path (openai-chat)" in body
    run.assert_never_leaks(KEY)


# --- pr-routing-gate.yml ---------------------------------------------------------------------------


def pr_event(fork: bool) -> dict[str, Any]:
    head_repo = {"full_name": "someone/octo-repo" if fork else "octo-org/octo-repo", "fork": fork}
    return {
        "number": 8,
        "pull_request": {
            "number": 8,
            "base": {"ref": "main", "repo": {"full_name": "octo-org/octo-repo"}},
            "head": {"ref": "feature", "repo": head_repo},
        },
        "repository": {"full_name": "octo-org/octo-repo"},
    }


def pr_repo(tmp_path: Path, base_url: str) -> Path:
    """main with two routes; the checked-out branch `feature` changes one and adds one."""
    repo = make_repo(
        tmp_path,
        {
            ".github/workflows/routing-gate.yml": example("pr-routing-gate.yml"),
            ROUTING_PATH: ROUTING.format(base_url=base_url),
        },
    )
    git(repo, "checkout", "--quiet", "-b", "feature")
    changed = ROUTING.format(base_url=base_url).replace("claude-sonnet-4-5", "claude-opus-4-1")
    (repo / ROUTING_PATH).write_text(
        changed + "  commit-message:\n    model: gpt-4o-mini\n", encoding="utf-8"
    )
    commit(repo, "route code review to opus, add commit-message")
    return repo


def test_pr_routing_gate_probes_only_the_changed_routes(
    act_env: ActEnv, httpserver: HTTPServer, tmp_path: Path
) -> None:
    served = {"gpt-4o": "gpt-4o", "claude-opus-4-1": "claude-opus-4-1", "gpt-4o-mini": "gpt-4o-mini"}
    requested = gateways.serve(httpserver, served)
    repo = pr_repo(tmp_path, gateways.url(httpserver))
    run = act_env.run(
        repo,
        "pull_request",
        workflow=".github/workflows/routing-gate.yml",
        secrets={KEY_SECRET: KEY},
        payload=pr_event(fork=False),
    )
    assert run.returncode == 0, run.describe()
    assert run.job_result("routing-guard") == "success"
    assert sorted(set(requested)) == ["claude-opus-4-1", "gpt-4o-mini", "routing-guard-invalid-model-id"]
    guard = step_of(run, "routing-guard", USES)
    summary = run.summary("routing-guard", guard)
    assert "Routing change" in summary, run.describe()
    rows = {
        cells[0]: cells[3:]
        for line in summary.split("Routing change", 1)[1].splitlines()
        if line.startswith("| ") and not line.startswith(("| route ", "| ---"))
        for cells in [[cell.strip() for cell in line.strip("|").split(" | ")]]
    }
    assert rows == {
        "code-review": ["changed", "pass"],
        "commit-message": ["added", "pass"],
        "code-generation": ["unchanged", "not probed \\(unchanged\\)"],
    }, summary
    run.assert_never_leaks(KEY)


def test_pr_routing_gate_from_a_fork_only_validates(act_env: ActEnv, tmp_path: Path) -> None:
    """No secret reaches a fork's pull request: the example validates and says why, sends nothing."""
    repo = pr_repo(tmp_path, "http://127.0.0.1:9/v1")  # nothing listens there: nothing may be sent
    run = act_env.run(
        repo, "pull_request", workflow=".github/workflows/routing-gate.yml", payload=pr_event(fork=True)
    )
    assert run.returncode == 0, run.describe()
    guard = step_of(run, "routing-guard", USES)
    assert run.step_result("routing-guard", guard) == "success"
    assert run.outputs("routing-guard", guard)["exit-code"] == "0"
    notices = run.commands("notice", "routing-guard", guard)
    assert any("no API key" in e.get("kvPairs", {}).get("title", "") for e in notices), run.describe()


# --- self-test.yml ---------------------------------------------------------------------------------


def self_test_configs(folder: Path) -> dict[str, Path]:
    """The LiteLLM config of each matrix leg, written by the workflow's own configure step."""
    live = yaml.safe_load(SELF_TEST.read_text(encoding="utf-8"))["jobs"]["live"]
    (configure,) = [s for s in live["steps"] if str(s.get("name", "")).startswith("Configure the proxy")]
    script = configure["run"].split("docker cp", 1)[0]
    configs = {}
    for leg in (entry["gateway"] for entry in live["strategy"]["matrix"]["include"]):
        temp = folder / leg
        temp.mkdir(parents=True)
        subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={"PATH": "/usr/bin:/bin", "GATEWAY": leg, "RUNNER_TEMP": str(temp)},
            check=True,
        )
        configs[leg] = temp / "litellm-config.yaml"
    return configs


def self_test(urls: dict[str, str]) -> str:
    text = SELF_TEST.read_text(encoding="utf-8")
    text = replace_block(text, "    services:\n", "    steps:\n", "")
    text = replace_block(
        text, "      - name: Configure the proxy", "      - name: Write the routing file", ""
    )
    choose = " || ".join(f"matrix.gateway == '{leg}' && '{url}'" for leg, url in urls.items())
    assert text.count("gateway-url: http://litellm:4000/v1") == 1
    text = text.replace("gateway-url: http://litellm:4000/v1", f"gateway-url: ${{{{ {choose} }}}}")
    assert text.count("uses: ./ #") == 2
    return text.replace("uses: ./ #", f"uses: {USES} #")


def test_self_test_workflow(act_env: ActEnv, litellm_pool: ProxyPool, tmp_path: Path) -> None:
    configs = self_test_configs(tmp_path / "configs")
    litellm_pool.start_many(configs.values())
    urls = {leg: litellm_pool.get(config).base_url for leg, config in configs.items()}
    repo = make_repo(tmp_path, {".github/workflows/self-test.yml": self_test(urls)})
    run = act_env.run(repo, "push", workflow=".github/workflows/self-test.yml")

    legs = {
        (
            str(e.get("jobID")),
            str((e.get("matrix") or {}).get("gateway") or (e.get("matrix") or {}).get("on-missing-key")),
        ): e["jobResult"]
        for e in run.entries
        if "jobResult" in e
    }
    assert legs == {
        ("live", "healthy"): "success",
        ("live", "catch-all"): "success",
        ("no-key", "validate"): "success",
        ("no-key", "fail"): "success",
    }, run.describe()
    assert run.returncode == 0, run.describe()

    def leg_entries(job: str, step: str, leg: str) -> list[dict[str, Any]]:
        return [e for e in run.of(job, step) if leg in (e.get("matrix") or {}).values()]

    def outputs(job: str, leg: str) -> dict[str, str]:
        return {
            str(e["name"]): str(e["arg"])
            for e in leg_entries(job, "guard", leg)
            if e.get("command") == "set-output"
        }

    assert outputs("live", "healthy")["exit-code"] == "0"
    assert outputs("live", "catch-all")["exit-code"] == "1"
    assert outputs("no-key", "validate")["exit-code"] == "0"
    assert outputs("no-key", "fail")["exit-code"] == "2"
    # the checks the workflow makes of its own results ran, and passed, in every leg
    for job, legs_of_job in (("live", ("healthy", "catch-all")), ("no-key", ("validate", "fail"))):
        for leg in legs_of_job:
            checks = [
                e
                for e in run.of(job)
                if leg in (e.get("matrix") or {}).values()
                and str(e.get("step", "")).startswith(("Outputs, report and log", "The step outcome"))
                and "stepResult" in e
            ]
            assert [e["stepResult"] for e in checks] == ["success"], (job, leg, run.describe())
