"""Cancelling the action's step under act while a probe hangs on a gateway that never answers.

The signal reaches the step the way a runner sends it: to the action's container (`podman kill
--signal TERM`, the container's PID 1 being the entrypoint). act then sees the step end on its
own, with exit 143, and the later `if: always()` step gets the outputs and the partial report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.act_gateways import KEY
from tests.support.act_harness import KEY_SECRET, ActEnv, commit, make_repo
from tests.support.act_workflows import facts, guard, workflow
from tests.support.container_harness import run_podman
from tests.support.fault_servers import write_routing
from tests.support.hanging_gateway import ROUTES, hanging_gateway, wait_until_stuck

pytestmark = [pytest.mark.runner, pytest.mark.container, pytest.mark.timeout(900)]


def action_containers(image_id: str) -> set[str]:
    listed = run_podman("ps", "--filter", f"ancestor={image_id}", "--format", "{{.Names}}", timeout=60)
    return set(listed.stdout.split())


def test_sigterm_to_the_step_under_act(act_env: ActEnv, tmp_path: Path) -> None:
    inputs = {
        "api-key": f"${{{{ secrets.{KEY_SECRET} }}}}",
        "concurrency": '"1"',
        "retries": '"0"',
        "timeout": '"240"',
    }
    flow = workflow("cancel", "push", {"check": guard(inputs)})
    before = action_containers(act_env.image_id)
    with hanging_gateway() as server:
        repo = make_repo(tmp_path, {".github/workflows/case.yml": flow})
        write_routing(repo, server.base_url, ROUTES, auth="bearer")
        commit(repo, "routing file")
        act = act_env.start(repo, "push", workflow=".github/workflows/case.yml", secrets={KEY_SECRET: KEY})
        try:
            wait_until_stuck(server, timeout=600, running=lambda: act.process.poll() is None)
        except RuntimeError:
            pytest.fail(act.wait().describe())
        started = action_containers(act_env.image_id) - before
        assert len(started) == 1, started
        run_podman("kill", "--signal", "TERM", started.pop(), timeout=60)
        run = act.wait()
    assert run.step_result("check", "guard") == "failure", run.describe()
    seen = facts(run, "check")
    assert (seen["passed"], seen["exit_code"], seen["outcome"]) == ("false", "143", "failure")
    assert seen["verdicts"] == {"quick": "pass", "stuck": "skipped"}
    errors = run.commands("error", "check", "guard")
    assert [e.get("kvPairs", {}).get("title") for e in errors] == ["routing-guard: cancelled"], run.describe()
    assert "Cancelled by SIGTERM" in run.summary("check", "guard")
    run.assert_never_leaks(KEY)
