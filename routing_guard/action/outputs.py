"""The step outputs, rendered from the run's result and written to $GITHUB_OUTPUT as heredocs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping

from routing_guard.results import EXIT_OK, RunResult

REPORT_NAME = "routing-guard-report.json"  # in the workspace: the `report` output is relative to it


def step_outputs(code: int, run: RunResult | None) -> dict[str, str]:
    """The outputs of action.yml; `exit-code` is the check's, whatever `fail-on` makes of it."""
    return {
        "passed": "true" if code == EXIT_OK else "false",
        "exit-code": str(code),
        "failed-routes": ",".join(run.failed_routes if run is not None else []),
        "report": REPORT_NAME if run is not None else "",
    }


def write_outputs(path: str | os.PathLike[str], outputs: Mapping[str, str]) -> None:
    """Append step outputs to $GITHUB_OUTPUT, each in a heredoc whose delimiter the value cannot hold."""
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            while delimiter in value or delimiter in name:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
