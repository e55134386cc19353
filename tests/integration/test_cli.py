"""The command line's own decisions: route selection, the key, usage errors, before any request."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from routing_guard import __version__
from routing_guard.cli import main
from tests.support.gateway_fixtures import (
    by_model,
    chat_completion,
    gateway_url,
    routing_file,
    run_check,
    use_key,
)

ROUTES = {"code-generation": "gpt-4o", "test-repair": "gpt-4o-mini", "docs": "gpt-4.1"}


def exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert isinstance(exit_info.value.code, int)
    return exit_info.value.code


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"routing-guard {__version__}"


def test_route_selection_repeats_and_takes_commas(
    tmp_path: Path,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_key(monkeypatch)
    answers = {model: chat_completion(model) for model in ROUTES.values()}
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(by_model(answers))
    routing = routing_file(tmp_path, ROUTES, base_url=gateway_url(httpserver))
    run = run_check(
        capsys, routing, "--skip-error-path", "--route", "docs, code-generation", "--route", "docs"
    )
    assert run.exit_code == 0
    assert [r["route"] for r in run.report["routes"]] == ["code-generation", "docs"]  # file order, once each
    assert len(httpserver.log) == 2


def test_an_unknown_route_is_a_usage_error_before_any_request(
    tmp_path: Path,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_key(monkeypatch)
    routing = routing_file(tmp_path, ROUTES, base_url=gateway_url(httpserver))
    assert exit_code(["check", "--routing-file", str(routing), "--route", "code-generation,typo"]) == 2
    err = capsys.readouterr().err
    assert "unknown route 'typo'" in err and "code-generation, test-repair, docs" in err
    assert httpserver.log == []


def test_a_missing_key_is_a_usage_error_unless_the_gateway_needs_none(
    tmp_path: Path,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ROUTING_GUARD_API_KEY", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    with_auth = routing_file(tmp_path, {"a": "gpt-4o"}, base_url=gateway_url(httpserver), auth="x-api-key")
    assert exit_code(["check", "--routing-file", str(with_auth)]) == 2
    assert "ROUTING_GUARD_API_KEY" in capsys.readouterr().err
    assert httpserver.log == []

    httpserver.expect_request("/v1/chat/completions").respond_with_json(chat_completion("gpt-4o"))
    open_gateway = routing_file(
        tmp_path, {"a": "gpt-4o"}, base_url=gateway_url(httpserver), auth="none", name="open.yml"
    )
    assert main(["check", "--routing-file", str(open_gateway), "--skip-error-path", "--retries", "0"]) == 0
    request = httpserver.log[0][0]
    assert "Authorization" not in request.headers and "x-api-key" not in request.headers


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--timeout", "0"],
        ["check", "--retries", "-1"],
        ["check", "--concurrency", "0"],
        ["check", "--invalid-model", "x", "--skip-error-path"],
        ["check", "--models", "--models-only"],
        ["check", "--format", "xml"],
        ["frobnicate"],
    ],
)
def test_bad_flags_exit_2(argv: list[str]) -> None:
    assert exit_code(argv) == 2


def test_the_summary_is_appended_within_githubs_limit(
    tmp_path: Path,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Earlier steps' text in $GITHUB_STEP_SUMMARY counts too: the file never passes 1 MiB."""
    from routing_guard.report import SUMMARY_CUT_NOTE, SUMMARY_LIMIT

    use_key(monkeypatch)
    summary = tmp_path / "step_summary"
    summary.write_bytes(b"earlier step\n" * ((SUMMARY_LIMIT - 300) // 13))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    httpserver.expect_request("/v1/chat/completions").respond_with_json(chat_completion("gpt-4o"))
    routing = routing_file(tmp_path, {"a": "gpt-4o"}, base_url=gateway_url(httpserver))
    assert main(["check", "--routing-file", str(routing), "--skip-error-path", "--retries", "0"]) == 0
    data = summary.read_bytes()
    assert len(data) <= SUMMARY_LIMIT and data.decode("utf-8").endswith(SUMMARY_CUT_NOTE)
