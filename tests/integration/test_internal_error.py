"""A bug in routing-guard is exit 4: it wins over every other code, what was judged is still
written (table, report, log, summary), and the message asks for a bug report.

The bug is injected into one route's judging (a real crash path, not a stub of the CLI): the
other route is still probed against a real socket server and its verdict kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routing_guard import check
from tests.support.fault_servers import (
    RawServer,
    by_model,
    chat_completion,
    json_response,
    run_cli,
    write_routing,
)

KEY = "sk-Zq9x-0123456789abcdefghijklmn"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_STEP_SUMMARY", "ROUTING_GUARD_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROUTING_GUARD_API_KEY", KEY)


def test_a_crash_in_one_probe_is_exit_4_and_the_rest_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_judge = check.judge_reply

    def judge(**kwargs: Any) -> check.Judgement:
        if kwargs["requested"] == "boom-model":
            raise ValueError(f"injected bug near {KEY}")
        return real_judge(**kwargs)

    monkeypatch.setattr(check, "judge_reply", judge)
    answers = {
        "gpt-4o": json_response(200, chat_completion("gpt-4o-mini")),  # a real model mismatch (exit 1)
        "boom-model": json_response(200, chat_completion("boom-model")),
    }
    with RawServer(by_model(answers), lifetime=30) as server:
        routes = {"code-generation": {"model": "gpt-4o"}, "crashing": {"model": "boom-model"}}
        path = write_routing(tmp_path, server.base_url, routes, auth="bearer")
        run = run_cli(tmp_path, ["check", "--routing-file", str(path), "--retries", "0"])
    assert run.code == 4, (run.out, run.err)
    assert run.report["exit_code"] == 4 and run.report["pass"] is False
    verdicts = {r["route"]: r["verdict"] for r in run.report["routes"]}
    assert verdicts == {"code-generation": "model_mismatch", "crashing": "skipped"}
    crashed = run.report["routes"][1]
    assert crashed["notes"].startswith("not judged: internal error (ValueError: injected bug near ***")
    assert "model_mismatch" in run.out and "internal error" in run.out and "report it" in run.out
    assert "model\\_mismatch" in run.summary and "internal error" in run.summary
    assert len(run.log_text.splitlines()) == 2
    for text in (run.out, run.err, run.report_text, run.log_text, run.summary):
        assert KEY[:12] not in text and "Traceback" not in text


def test_a_crash_outside_the_probes_is_exit_4_with_one_scrubbed_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"render bug with {KEY}")

    monkeypatch.setattr(check, "select_routes", explode)
    path = write_routing(tmp_path, "https://gateway.example.com/v1", auth="bearer")
    run = run_cli(tmp_path, ["check", "--routing-file", str(path)])
    assert run.code == 4
    assert run.err.startswith("routing-guard: error: internal error (RuntimeError: render bug with ***)")
    assert "a bug in routing-guard" in run.err and "ROUTING_GUARD_DEBUG=1" in run.err
    assert KEY[:12] not in run.err and "Traceback" not in run.err
