"""The GitLab CI example (examples/gitlab/.gitlab-ci.yml): valid for GitLab's own schema, and every
routing-guard command its jobs run is a working invocation: run here as the job runs it (a shell,
the file's variables, the job's artifacts expected afterwards) against the demo gateway."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing_guard import __version__
from routing_guard.demo import DEMO_ROUTING, demo_gateway
from tests.support.checkout import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
BIN = Path(sys.executable).parent


def example() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return doc


def job_scripts() -> dict[str, list[str]]:
    doc = example()
    scripts = {}
    for name, job in doc.items():
        if isinstance(job, dict) and "script" in job:
            base = doc.get(job.get("extends", ""), {}) if isinstance(job.get("extends"), str) else {}
            scripts[name] = [*base.get("before_script", []), *job.get("before_script", []), *job["script"]]
    return scripts


def test_the_example_is_valid_gitlab_ci() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(EXAMPLE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_installs_this_release_of_this_package() -> None:
    doc = example()
    assert doc["variables"]["ROUTING_GUARD_VERSION"] == __version__, "bump the example with the release"
    installs = [line for lines in job_scripts().values() for line in lines if "pip install" in line]
    assert installs and all('"routing-guard==${ROUTING_GUARD_VERSION}"' in line for line in installs)


@pytest.mark.parametrize("job", ["routing-validate", "routing-check"])
def test_each_routing_guard_command_runs_as_the_job_runs_it(job: str, tmp_path: Path) -> None:
    commands = [line for line in job_scripts()[job] if line.startswith("routing-guard ")]
    assert commands, f"{job} runs routing-guard"
    env = {
        **os.environ,
        **{k: str(v) for k, v in example()["variables"].items()},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ROUTING_GUARD_API_KEY": "sk-gitlab-example-0123456789",
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    with demo_gateway() as base_url:
        (tmp_path / ".github").mkdir()
        (tmp_path / ".github" / "model-routing.yml").write_text(
            DEMO_ROUTING.format(base_url=base_url), encoding="utf-8"
        )
        for command in commands:
            run = subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
            )
            output = run.stdout + run.stderr
            # 0 or 1 is a verdict; 2 would be a bad flag or file, 3 an outage, 4 a bug
            assert run.returncode in (0, 1), f"{command!r} exited {run.returncode}:\n{output}"
            assert not re.search(r"usage:|unrecognized arguments", output), output
    for artifact in example()[job].get("artifacts", {}).get("paths", []):
        assert (tmp_path / artifact).is_file(), f"{job} lists the artifact {artifact}, which was not written"
