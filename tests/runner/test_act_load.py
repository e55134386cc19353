"""A deliberately broken action.yml fails both the metadata lint and the runner emulator.

Each variant puts an expression where the runner's template schema allows none (the defect that
once made every workflow using the action fail in "Set up job"). The lint
(scripts/check_action_metadata.py, run by scripts/lint.sh) must name the same line and column as
act, which refuses to load the action before any container starts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.act_harness import ACTION_DIR, CHECKOUT, USES, ActEnv, make_repo

pytestmark = [pytest.mark.runner, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKER = REPO_ROOT / "scripts" / "check_action_metadata.py"
WORKFLOW = f"""\
name: load
on: push
permissions: {{}}
jobs:
  load:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: guard
        uses: {USES}
        with:
          mode: validate
"""
ROUTING = (
    "version: 1\ngateway:\n  base_url: https://gateway.example.com/v1\nroutes:\n  a:\n    model: gpt-4o\n"
)


def in_description(text: str) -> str:
    """The defect as it shipped: the secret expression inside the api-key input's description."""
    return replace_once(text, "Gateway API key.", "Gateway API key, e.g. ${{ secrets.GATEWAY_API_KEY }}.")


def secret_default(text: str) -> str:
    return replace_once(text, 'default: ""', "default: ${{ secrets.GATEWAY_API_KEY }}")


def github_in_args(text: str) -> str:
    return text.rstrip("\n") + '\n  args: ["${{ github.sha }}"]\n'


def braces_in_pre_if(text: str) -> str:
    return text.rstrip("\n") + "\n  pre-entrypoint: /bin/true\n  pre-if: ${{ always() }}\n"


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize("breakage", [in_description, secret_default, github_in_args, braces_in_pre_if])
def test_broken_action_yml_fails_the_lint_and_act(
    act_env: ActEnv, tmp_path: Path, breakage: Callable[[str], str]
) -> None:
    action = breakage((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    repo = make_repo(
        tmp_path,
        {
            f"{ACTION_DIR}/action.yml": action,
            ".github/workflows/load.yml": WORKFLOW,
            "model-routing.yml": ROUTING,
        },
    )

    lint = subprocess.run(
        [sys.executable, CHECKER, "action.yml"],
        cwd=repo / ACTION_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 1, lint.stderr
    located = re.findall(r"^action\.yml:(\d+):(\d+): ", lint.stderr, re.M)
    assert len(located) == 1, lint.stderr

    run = act_env.run(repo, "push", workflow=".github/workflows/load.yml")
    assert run.returncode != 0, run.describe()
    assert run.job_result("load") == "failure", run.describe()
    assert run.step_result("load", "guard") == "failure", run.describe()
    line, column = located[0]
    refusal = [
        str(e.get("msg", ""))
        for e in run.of("load", "guard")
        if f"Line: {line} Column {column}:" in str(e.get("msg", ""))
    ]
    assert refusal, run.describe()
    assert not [e for e in run.of("load", "guard") if "docker run" in str(e.get("msg", ""))], run.describe()


def test_the_real_action_yml_loads_and_runs(act_env: ActEnv, tmp_path: Path) -> None:
    """The same workflow with the action as it is: act loads it and the container runs."""
    repo = make_repo(tmp_path, {".github/workflows/load.yml": WORKFLOW, "model-routing.yml": ROUTING})
    run = act_env.run(repo, "push", workflow=".github/workflows/load.yml")
    assert run.returncode == 0, run.describe()
    assert run.job_result("load") == "success", run.describe()
    assert run.outputs("load", "guard") == {
        "passed": "true",
        "exit-code": "0",
        "failed-routes": "",
        "report": "",
    }
