"""The lock against gateway fixtures that move under it: a dated snapshot that changes, an OpenRouter
route whose upstream provider changes. Each test locks a real check run, changes the gateway, runs
the check again and judges it against the lock read back from disk."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer

from routing_guard.check import CheckOptions, run_check
from routing_guard.lock import apply_lock, default_lock_path, load_lock, relock, write_lock
from routing_guard.redact import Redactor
from routing_guard.results import EXIT_OK, EXIT_ROUTING, RunResult
from routing_guard.routing import load_routing
from tests.gateway_fixtures import KEY, by_model, chat_completion, gateway_url, json_response, routing_file

OPTIONS = CheckOptions(retries=0, timeout=5, skip_error_path=True)


def serve(httpserver: HTTPServer, answers: dict[str, object]) -> None:
    httpserver.clear()
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        by_model(answers)  # type: ignore[arg-type]
    )


def check(path: Path) -> RunResult:
    return run_check(load_routing(path), KEY, OPTIONS, Redactor([KEY]))


def lock_and_check_again(path: Path, change: object, httpserver: HTTPServer) -> RunResult:
    first = check(path)
    assert first.exit_code == EXIT_OK, [(r.route, r.verdict, r.notes) for r in first.routes]
    lock_path = default_lock_path(path)
    write_lock(relock(None, first, only_selected=False), lock_path)
    serve(httpserver, change)  # type: ignore[arg-type]
    second = check(path)
    apply_lock(second, load_routing(path), load_lock(lock_path, "model-routing.lock.json"))
    return second


def test_a_dated_snapshot_that_moves_is_drifted(tmp_path: Path, httpserver: HTTPServer) -> None:
    serve(
        httpserver,
        {
            "gpt-4o": chat_completion("gpt-4o-2024-08-06"),
            "gpt-4o-mini": chat_completion("gpt-4o-mini-2024-07-18"),
        },
    )
    path = routing_file(
        tmp_path,
        {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"},
        base_url=gateway_url(httpserver),
    )
    second = lock_and_check_again(
        path,
        {
            "gpt-4o": chat_completion("gpt-4o-2024-11-20"),
            "gpt-4o-mini": chat_completion("gpt-4o-mini-2024-07-18"),
        },
        httpserver,
    )
    moved, steady = second.routes
    assert moved.verdict == "drifted"
    locked = load_lock(default_lock_path(path)).routes["code-generation"].locked_utc
    assert moved.notes == (
        f"drifted from the lock: model_returned was gpt-4o-2024-08-06, now gpt-4o-2024-11-20 (locked {locked})"
    )
    assert steady.verdict == "pass" and steady.warnings == []
    assert second.exit_code == EXIT_ROUTING and second.failed_routes == ["code-generation"]


def test_an_openrouter_provider_change_is_drifted(tmp_path: Path, httpserver: HTTPServer) -> None:
    # OpenRouter answers with the slug it was asked for and a non-standard `provider` field.
    serve(httpserver, {"openai/gpt-4o-mini": chat_completion("openai/gpt-4o-mini", provider="OpenAI")})
    path = routing_file(tmp_path, {"commit-message": "openai/gpt-4o-mini"}, base_url=gateway_url(httpserver))
    second = lock_and_check_again(
        path, {"openai/gpt-4o-mini": chat_completion("openai/gpt-4o-mini", provider="Azure")}, httpserver
    )
    [moved] = second.routes
    assert moved.verdict == "drifted"
    assert "provider was OpenAI, now Azure (locked " in moved.notes
    assert load_lock(default_lock_path(path)).routes["commit-message"].provider == "OpenAI"


def test_an_unchanged_gateway_passes_and_re_locking_it_changes_nothing(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    answers = {
        "openai/gpt-4o": json_response(
            chat_completion("openai/gpt-4o", provider="OpenAI"),
            headers={"x-litellm-model-name": "gpt-4o-2024-08-06"},
        )
    }
    serve(httpserver, answers)
    path = routing_file(tmp_path, {"code-generation": "openai/gpt-4o"}, base_url=gateway_url(httpserver))
    second = lock_and_check_again(path, answers, httpserver)
    assert second.exit_code == EXIT_OK and second.routes[0].warnings == []
    lock_path = default_lock_path(path)
    before = lock_path.read_text(encoding="utf-8")
    entry = load_lock(lock_path).routes["code-generation"]
    assert (entry.served_header, entry.served_model, entry.provider) == (
        "x-litellm-model-name",
        "gpt-4o-2024-08-06",
        "OpenAI",
    )
    write_lock(relock(load_lock(lock_path), second, only_selected=False), lock_path)
    assert lock_path.read_text(encoding="utf-8") == before
