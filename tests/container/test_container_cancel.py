"""Cancelling the action's container: `podman kill --signal TERM` while a probe hangs.

The entrypoint is PID 1 in the container, where SIGTERM does nothing unless handled. The run must
end by itself: the `::stop-commands::` fence closed, the outputs written, the report marked as
cancelled with the route judged before the signal, an error annotation, exit 143.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.support.container_harness import (
    LABEL,
    ActionRun,
    build_image,
    require_podman,
    run_action,
    run_podman,
)
from tests.support.fault_servers import write_routing
from tests.support.hanging_gateway import ROUTES, hanging_gateway, wait_until_stuck

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

KEY = "sk-cancel-Tz5Qw9Hm3Xr7Kp2Vn6Bd"


def harness_containers(image_id: str) -> set[str]:
    listed = run_podman(
        "ps",
        "--filter",
        f"label={LABEL}",
        "--filter",
        f"ancestor={image_id}",
        "--format",
        "{{.Names}}",
        timeout=60,
    )
    return set(listed.stdout.split())


def test_sigterm_to_the_container_ends_the_step_with_partial_outputs(tmp_path: Path) -> None:
    require_podman()
    image = build_image()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    before = harness_containers(image)
    result: dict[str, ActionRun] = {}
    with hanging_gateway() as server:
        write_routing(workspace, server.base_url, ROUTES, auth="bearer")
        inputs = {"api-key": KEY, "concurrency": "1", "retries": "0", "timeout": "240"}

        def run() -> None:
            result["run"] = run_action(image, inputs=inputs, env={}, workspace=workspace, timeout=600)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            wait_until_stuck(server, timeout=300, running=thread.is_alive)
        except RuntimeError:
            thread.join()
            pytest.fail(result["run"].describe() if "run" in result else "run_action raised")
        started = harness_containers(image) - before
        assert len(started) == 1, started
        run_podman("kill", "--signal", "TERM", started.pop(), timeout=60)
        thread.join(timeout=120)  # a guard against a container that ignores the signal, not a timing check
        assert not thread.is_alive(), "the container did not stop after SIGTERM"
    run = result["run"]

    assert run.exit_code == 143, run.describe()
    lines = [line.rstrip("\n") for _, line in run.log]
    opened = [line.split("::", 2)[2] for line in lines if line.startswith("::stop-commands::")]
    assert len(opened) == 1 and f"::{opened[0]}::" in lines, "the fence was closed"
    assert run.outputs == {
        "passed": "false",
        "exit-code": "143",
        "failed-routes": "",
        "report": "routing-guard-report.json",
    }, run.describe()
    report = json.loads((workspace / "routing-guard-report.json").read_text(encoding="utf-8"))
    assert report["cancelled"] == "SIGTERM" and report["exit_code"] == 143
    verdicts = {r["route"]: r["verdict"] for r in report["routes"]}
    assert verdicts == {"quick": "pass", "stuck": "skipped"}
    errors = run.commands("error")
    assert [e.properties.get("title") for e in errors] == ["routing-guard: cancelled"], run.describe()
    assert "1 of 2 route(s) were answered" in errors[0].data
    assert "Cancelled by SIGTERM" in run.summary
