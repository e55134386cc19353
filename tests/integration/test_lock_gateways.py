"""`routing-guard lock`, `check` and `validate` with a lock, against gateway fixtures that move under
it: a dated snapshot that changes, an OpenRouter route whose upstream provider changes, an alias
whose served-model header changes. Everything runs through the command line, in process."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from routing_guard.cli import main
from tests.support.gateway_fixtures import (
    KEY,
    Answer,
    CheckRun,
    by_model,
    chat_completion,
    gateway_url,
    json_response,
    routing_file,
    run_check,
    use_key,
)

SNAPSHOTS = {
    "gpt-4o": chat_completion("gpt-4o-2024-08-06"),
    "gpt-4o-mini": chat_completion("gpt-4o-mini-2024-07-18"),
}
MOVED = {**SNAPSHOTS, "gpt-4o": chat_completion("gpt-4o-2024-11-20")}
REFUSE = json_response({"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}, 404)


def serve(httpserver: HTTPServer, answers: Mapping[str, Answer]) -> None:
    httpserver.clear()
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        by_model(answers, default=REFUSE)
    )


@pytest.fixture
def routing(tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_key(monkeypatch)
    monkeypatch.chdir(tmp_path)
    serve(httpserver, SNAPSHOTS)
    folder = tmp_path / ".github"
    folder.mkdir()
    return routing_file(
        folder,
        {"code-generation": "gpt-4o", "commit-message": "gpt-4o-mini"},
        base_url=gateway_url(httpserver),
    )


def cli(*argv: str) -> int:
    """`routing-guard ARGV` in process; its exit code (an error exits through SystemExit)."""
    try:
        return main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def run_lock(capsys: pytest.CaptureFixture[str], routing: Path, *args: str) -> CheckRun:
    return run_check(capsys, routing, *args, command="lock")


def lock_file(routing: Path) -> Path:
    return routing.with_name("model-routing.lock.json")


def test_lock_then_a_moved_snapshot_is_drifted_until_it_is_re_locked(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = run_lock(capsys, routing)
    assert locked.exit_code == 0, locked.stderr
    assert f"locked 2 route(s) in {lock_file(routing)}" in locked.stdout
    document = json.loads(lock_file(routing).read_text(encoding="utf-8"))
    entry = document["routes"]["code-generation"]
    assert entry["model_returned"] == "gpt-4o-2024-08-06"
    assert KEY[:8] not in lock_file(routing).read_text(encoding="utf-8")

    assert run_check(capsys, routing).exit_code == 0

    serve(httpserver, MOVED)
    drifted = run_check(capsys, routing)
    assert drifted.exit_code == 1
    route = drifted.route("code-generation")
    assert route["verdict"] == "drifted" and route["pass"] is False
    was_now = f"model_returned was gpt-4o-2024-08-06, now gpt-4o-2024-11-20 (locked {entry['locked_utc']})"
    assert was_now in route["notes"]
    assert "routing-guard lock" in route["hint"]
    assert drifted.route("commit-message")["verdict"] == "pass"
    assert "drifted" in drifted.summary and "gpt-4o-2024-11-20" in drifted.summary
    assert "drifted" in drifted.stdout

    warned = run_check(capsys, routing, "--on-drift", "warn")
    assert warned.exit_code == 0
    assert any(was_now in w for w in warned.route("code-generation")["warnings"])
    assert run_check(capsys, routing, "--no-lock").exit_code == 0

    relocked = run_lock(capsys, routing)
    assert relocked.exit_code == 0
    assert "code-generation: gpt-4o-2024-08-06 -> gpt-4o-2024-11-20" in relocked.stdout
    assert run_check(capsys, routing).exit_code == 0


def test_an_openrouter_provider_change_is_drifted(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(httpserver, {"openai/gpt-4o-mini": chat_completion("openai/gpt-4o-mini", provider="OpenAI")})
    path = routing_file(
        routing.parent, {"commit-message": "openai/gpt-4o-mini"}, base_url=gateway_url(httpserver)
    )
    assert run_lock(capsys, path).exit_code == 0
    assert (
        json.loads(lock_file(path).read_text(encoding="utf-8"))["routes"]["commit-message"]["provider"]
        == "OpenAI"
    )
    serve(httpserver, {"openai/gpt-4o-mini": chat_completion("openai/gpt-4o-mini", provider="Azure")})
    moved = run_check(capsys, path)
    assert moved.exit_code == 1
    assert "provider was OpenAI, now Azure (locked " in moved.route("commit-message")["notes"]


def test_an_alias_re_pointed_behind_a_served_model_header_is_drifted(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def alias(upstream: str) -> dict[str, Answer]:
        return {
            "coder-heavy": json_response(
                chat_completion("coder-heavy"), headers={"x-litellm-model-name": upstream}
            )
        }

    serve(httpserver, alias("anthropic/claude-opus-4-20250514"))
    path = routing_file(routing.parent, {"heavy": "coder-heavy"}, base_url=gateway_url(httpserver))
    assert run_lock(capsys, path).exit_code == 0
    serve(httpserver, alias("openai/gpt-4o-mini"))
    moved = run_check(capsys, path)
    assert moved.exit_code == 1
    assert (
        "served_model was anthropic/claude-opus-4-20250514, now openai/gpt-4o-mini"
        in moved.route("heavy")["notes"]
    )


def test_an_echo_only_gateway_is_locked_with_a_warning_that_it_hides_the_identity(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(httpserver, {"coder-heavy": chat_completion("coder-heavy")})
    path = routing_file(routing.parent, {"heavy": "coder-heavy"}, base_url=gateway_url(httpserver))
    locked = run_lock(capsys, path)
    assert locked.exit_code == 0
    assert any("cannot be observed on this gateway" in w for w in locked.route("heavy")["warnings"])
    assert "cannot be observed on this gateway" in locked.summary
    checked = run_check(capsys, path)
    assert checked.exit_code == 0
    assert any("cannot be observed on this gateway" in w for w in checked.route("heavy")["warnings"])


def test_lock_writes_nothing_when_a_route_fails(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(httpserver, {**SNAPSHOTS, "gpt-4o": chat_completion("gpt-3.5-turbo")})
    failed = run_lock(capsys, routing)
    assert failed.exit_code == 1
    assert not lock_file(routing).exists()
    assert "was not written" in failed.stdout


def test_lock_with_route_rewrites_only_that_entry(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lock(capsys, routing).exit_code == 0
    before = json.loads(lock_file(routing).read_text(encoding="utf-8"))
    serve(
        httpserver,
        {
            "gpt-4o": chat_completion("gpt-4o-2024-11-20"),
            "gpt-4o-mini": chat_completion("gpt-4o-mini-2025-01-01"),
        },
    )
    assert run_lock(capsys, routing, "--route", "commit-message").exit_code == 0
    after = json.loads(lock_file(routing).read_text(encoding="utf-8"))
    assert after["routes"]["code-generation"] == before["routes"]["code-generation"]
    assert after["routes"]["commit-message"]["model_returned"] == "gpt-4o-mini-2025-01-01"


def test_a_broken_lock_is_a_configuration_error_naming_the_file_and_line(
    routing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lock(capsys, routing).exit_code == 0
    text = lock_file(routing).read_text(encoding="utf-8")
    lock_file(routing).write_text(text.replace('"openai-chat"', '"openai-chatt"', 1), encoding="utf-8")
    line = text[: text.index('"openai-chat"')].count("\n") + 1
    for command in ("check", "validate"):
        capsys.readouterr()
        assert cli(command, "--routing-file", str(routing)) == 2
        err = capsys.readouterr().err
        assert f"{lock_file(routing)}:{line}: " in err, err
        assert "openai-chatt" in err
    capsys.readouterr()
    assert cli("check", "--routing-file", str(routing), "--no-lock") == 0


def test_validate_checks_the_lock_offline_against_the_routes(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lock(capsys, routing).exit_code == 0
    httpserver.clear()  # validate sends nothing
    capsys.readouterr()
    assert cli("validate", "--routing-file", str(routing)) == 0
    out = capsys.readouterr()
    assert f"{lock_file(routing)}: valid, 2 locked route(s)" in out.out
    routing.write_text(
        routing.read_text(encoding="utf-8").replace("commit-message", "commit-msg"), encoding="utf-8"
    )
    assert cli("validate", "--routing-file", str(routing)) == 0
    err = capsys.readouterr().err
    assert "commit-msg: not locked" in err
    assert "entry 'commit-message' names no route of" in err
    assert httpserver.log == []


def test_a_named_lock_that_does_not_exist_is_an_error_for_check_but_where_lock_writes(
    routing: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "locks" / "routing.lock.json"
    capsys.readouterr()
    assert cli("check", "--routing-file", str(routing), "--lock-file", str(elsewhere)) == 2
    assert "lock file not found" in capsys.readouterr().err
    assert run_lock(capsys, routing, "--lock-file", str(elsewhere)).exit_code == 0
    assert elsewhere.is_file() and not lock_file(routing).exists()
    assert cli("check", "--routing-file", str(routing), "--lock-file", str(elsewhere)) == 0


def test_lock_refuses_models_only(routing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert cli("lock", "--routing-file", str(routing), "--models-only") == 2
    assert "--models-only" in capsys.readouterr().err


def test_a_gateway_that_echoes_the_key_in_who_served_cannot_put_it_in_the_lock(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    masked = f"{KEY[:11]}***{KEY[-4:]}"
    answer = json_response(
        chat_completion("gpt-4o-2024-08-06", provider=f"key {KEY}"),
        headers={"x-litellm-model-name": f"openai/{masked}"},
    )
    serve(httpserver, {**SNAPSHOTS, "gpt-4o": answer})
    assert run_lock(capsys, routing).exit_code == 0
    text = lock_file(routing).read_text(encoding="utf-8")
    assert all(KEY[i : i + 8] not in text for i in range(len(KEY) - 7))
    entry = json.loads(text)["routes"]["code-generation"]
    assert entry["served_model"].startswith("openai/") and entry["provider"].startswith("key ")


def test_a_failing_error_path_blocks_the_lock_unless_it_is_skipped(
    routing: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.clear()
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        by_model(
            SNAPSHOTS, default=chat_completion("gpt-4o-mini-2024-07-18")
        )  # a catch-all answers bogus IDs
    )
    blocked = run_lock(capsys, routing)
    assert blocked.exit_code == 1 and blocked.error_path["verdict"] == "silent_fallback"
    assert not lock_file(routing).exists()
    assert "--skip-error-path locks them without the error path" in blocked.stdout
    assert run_lock(capsys, routing, "--skip-error-path").exit_code == 0
    assert lock_file(routing).is_file()
