"""Progress and the run's time budget against a gateway that hangs: a real socket that accepts every
connection, reads the request and never answers."""

from __future__ import annotations

import io

from routing_guard.check import CheckOptions, run_check
from routing_guard.progress import Progress
from routing_guard.redact import Redactor
from routing_guard.routing import load_routing_text
from tests.support.fault_servers import RawServer, never_answer


def routing(base_url: str) -> str:
    return (
        f"version: 1\ngateway: {{base_url: '{base_url}', auth: none}}\n"
        "routes:\n  code-generation: {model: gpt-4o}\n  test-repair: {model: claude-sonnet-4-5}\n"
    )


def test_a_hung_gateway_shows_what_is_still_waiting_on_stderr() -> None:
    stderr = io.StringIO()
    with RawServer(never_answer, lifetime=30) as server:
        config = load_routing_text(routing(server.base_url), "model-routing.yml")
        with Progress(stderr, live=False) as progress:
            run = run_check(config, "", CheckOptions(timeout=5, retries=0, progress=progress), Redactor([]))
    assert [r.verdict for r in run.routes] == ["timeout", "timeout"]
    first = stderr.getvalue().splitlines()[0]
    assert first.startswith("routing-guard: waiting for 3 of 3 after ")
    for label in ("code-generation", "test-repair", "error path [openai-chat]"):
        assert label in first


def test_the_time_budget_ends_the_run_and_says_so() -> None:
    stderr = io.StringIO()
    options = CheckOptions(timeout=30, retries=2, time_budget=3)
    with RawServer(never_answer, lifetime=60) as server:
        config = load_routing_text(routing(server.base_url), "model-routing.yml")
        with Progress(stderr, live=False, budget=options.time_budget) as progress:
            options.progress = progress
            run = run_check(config, "", options, Redactor([]))
    for result in [*run.routes, *run.error_paths]:
        assert result.verdict == "timeout"
        assert "the run's time budget of 3s ran out (1 attempt)" in result.notes
    assert "--time-budget" in run.routes[0].hint
    assert "; time budget: " in stderr.getvalue()
