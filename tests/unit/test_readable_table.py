"""The terminal table a person reads: notes whole (wrapped on a terminal), colour only when asked,
each "to fix" line naming its routes."""

from __future__ import annotations

from routing_guard.report import render_table
from routing_guard.results import ErrorPathResult, RouteResult, RunResult
from routing_guard.terminal import Look

NOTE = "accepted: dated snapshot of claude-sonnet-4-5; served by anthropic/claude-sonnet-4-5-20250929 (x-litellm-model-name)"


def run() -> RunResult:
    routes = [
        RouteResult(route="test-repair", model_requested="claude-sonnet-4-5", api="openai-chat",
                    model_returned="claude-sonnet-4-5-20250929", http_status=200, verdict="pass", notes=NOTE),
        RouteResult(route="ci-triage", model_requested="coder-fast", api="openai-chat", model_returned="coder-fast",
                    http_status=200, verdict="fallback_detected", notes="x-litellm-attempted-fallbacks: 1",
                    hint="Check the primary deployment."),
    ]  # fmt: skip
    error_paths = [
        ErrorPathResult(api="openai-chat", model_requested="routing-guard-invalid-model-id", http_status=404,
                        verdict="pass")
    ]  # fmt: skip
    return RunResult(
        gateway_host="gw", api="openai-chat", routing_file="r.yml", routes=routes, error_paths=error_paths
    )


def test_in_a_pipe_every_note_is_whole_on_its_row_without_colour() -> None:
    text = render_table(run())
    assert NOTE in text and "…" not in text
    assert "\x1b" not in text
    assert "to fix (ci-triage): Check the primary deployment." in text


def test_on_a_terminal_the_notes_wrap_in_their_column_and_nothing_is_cut() -> None:
    lines = render_table(run(), look=Look(width=140)).splitlines()
    assert all(len(line) < 140 for line in lines)
    start = lines[0].index("notes")
    continued = [line for line in lines[1:] if line.startswith(" " * start) and line.strip()]
    assert continued, "the long note goes on under its column"
    assert " ".join(" ".join(lines).split()).count(NOTE) == 1


def test_on_a_narrow_terminal_the_notes_go_below_the_table() -> None:
    lines = render_table(run(), look=Look(width=100)).splitlines()
    assert all(len(line) < 100 for line in lines)
    assert lines[0].split() == ["route", "requested", "returned", "HTTP", "verdict"]
    below = next(i for i, line in enumerate(lines) if line.startswith("  test-repair: "))
    assert " ".join(" ".join(lines[below:]).split()).startswith(f"test-repair: {NOTE}")


def test_colour_marks_verdicts_when_asked() -> None:
    text = render_table(run(), look=Look(colour=True))
    assert "\x1b[32mpass" in text and "\x1b[31mfallback_detected" in text
    assert "\x1b[1mto fix (ci-triage):\x1b[0m" in text
