"""Annotations: the run's result rendered as workflow commands at the routing file's lines.

A renderer like the table and the summary: it reads the `RunResult`, never a file. GitHub shows
at most 10 annotations of each kind per step (docs/runner.md), so the rest go in one last line.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing_guard.action.policy import FailOn, tolerated
from routing_guard.results import ProbeResult, RouteResult, RunResult, exit_code_of

MAX_ANNOTATIONS = 10


@dataclass(frozen=True)
class Annotation:
    kind: str  # error, warning or notice
    title: str
    message: str
    line: int = 0
    at_file: bool = True  # shown on the routing file (at `line`, if any)


def problem(probe: ProbeResult) -> tuple[str, str]:
    """The title and message of one failed probe: a route's or an error path's."""
    status = probe.http_status or "none"
    notes = probe.notes or probe.verdict
    if isinstance(probe, RouteResult):
        returned = probe.model_returned or probe.served_model or "no model"
        message = f"{probe.model_requested} -> {returned} (HTTP {status}): {notes}"
        if probe.hint:
            message = f"{message.rstrip('.')}. {probe.hint}"
        return f"routing-guard: {probe.route} {probe.verdict}", message
    returned = probe.served_model or probe.model_returned or "no model"
    message = (
        f"bogus model ID {probe.model_requested} ({probe.api}) -> HTTP {status}, "
        f"answered by {returned}: {notes}"
    )
    return f"routing-guard: error path {probe.verdict}", message


def cancelled(signal_name: str, run: RunResult | None = None) -> Annotation:
    """The one line that says the step was cancelled, and how far the run got."""
    message = f"The run was cancelled ({signal_name}) before it finished."
    if run is not None and run.routes:
        answered = sum(1 for route in run.routes if route.verdict != "skipped")
        message += f" {answered} of {len(run.routes)} route(s) were answered; the report is partial."
    return Annotation("error", "routing-guard: cancelled", message, at_file=False)


def kind_of(probe: ProbeResult, fail_on: FailOn) -> str:
    """A failure is an error; an outage is one too, but a warning when `fail-on` tolerates it."""
    return "warning" if tolerated(exit_code_of(probe.verdict, probe.http_status), fail_on) else "error"


def render_annotations(run: RunResult, fail_on: FailOn) -> list[Annotation]:
    """Errors at the failing routes' lines, then warnings; at most 10 of each, the rest in one line."""
    found: dict[str, list[Annotation]] = {"error": [], "warning": []}
    for route in run.routes:
        for warning in route.warnings:
            found["warning"].append(
                Annotation("warning", f"routing-guard: {route.route}", warning, route.line)
            )
        if not route.passed:
            kind = kind_of(route, fail_on)
            found[kind].append(Annotation(kind, *problem(route), route.line))
    for path in run.error_paths:
        if not path.passed:
            kind = kind_of(path, fail_on)
            found[kind].append(Annotation(kind, *problem(path)))
    found["warning"] += [Annotation("warning", "routing-guard", warning) for warning in run.warnings]
    if run.cancelled:
        found["error"].insert(0, cancelled(run.cancelled, run))
    shown: list[Annotation] = []
    for kind, items in found.items():
        shown += items[:MAX_ANNOTATIONS]
        if len(items) > MAX_ANNOTATIONS:
            rest = ", ".join(item.title.removeprefix("routing-guard: ") for item in items[MAX_ANNOTATIONS:])
            more = len(items) - MAX_ANNOTATIONS
            shown.append(
                Annotation(
                    kind,
                    f"routing-guard: {more} more",
                    f"and {more} more: {rest}. See the job summary.",
                    at_file=False,
                )
            )
    return shown
