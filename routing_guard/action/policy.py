"""The `fail-on` policy, in one place: which exit codes a step tolerates."""

from __future__ import annotations

from typing import Literal

from routing_guard.results import EXIT_OK, EXIT_OPERATIONAL

FailOn = Literal["any", "routing"]


def tolerated(code: int, fail_on: FailOn | str) -> bool:
    """`fail-on: routing` lets an outage (exit 3: no verdict possible) pass the step as a warning."""
    return code == EXIT_OPERATIONAL and fail_on == "routing"


def step_code(code: int, fail_on: FailOn | str) -> int:
    """The step's exit code for the check's `code`."""
    return EXIT_OK if tolerated(code, fail_on) else code
