"""The JSON report, the JSONL log, the terminal table and the Markdown summary."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from routing_guard.escape import markdown_cell
from routing_guard.redact import Redactor
from routing_guard.report import (
    LOG_FIELDS,
    SUMMARY_LIMIT,
    format_json,
    log_records,
    render_summary,
    render_table,
    report_document,
    write_log,
    write_report,
)
from routing_guard.results import ErrorPathResult, RouteResult, RunResult

KEY = "sk-abcdefghijklmnopqrstuvwxyz"
HOST = "gateway.example.com"
DATE = "2026-11-27T15:30:00Z"

# The example in the contract, verbatim.
CONTRACT_EXAMPLE = json.loads(
    """
{
  "version": 1,
  "pass": false,
  "exit_code": 1,
  "gateway_host": "gateway.example.com",
  "api": "openai-chat",
  "routing_file": ".github/model-routing.yml",
  "routes": [
    {"route": "code-generation", "date_utc": "2026-11-27T15:30:00Z", "gateway_host": "gateway.example.com",
     "model_requested": "gpt-4o", "model_returned": "gpt-4o-2024-08-06", "http_status": 200,
     "choices_count": 1, "error_path_status": 404, "pass": true, "verdict": "pass",
     "notes": "accepted: dated snapshot of gpt-4o"}
  ],
  "error_path": {"model_requested": "routing-guard-invalid-model-id", "model_returned": null,
                 "http_status": 404, "pass": true, "verdict": "pass", "notes": ""}
}
"""
)

HOSTILE = [
    "::error::x",
    "::add-mask::x",
    "%0A::set-env name=x::y",
    "\n::warning::",
    "a ##[add-mask]b",
    "|",
    "`tick`",
    "<script>alert(1)</script>",
    "[link](javascript:x)",
    "![img](http://x)",
    "\x1b[31mred",
    "cr\rhere",
    "\ud800",
]


def route(name: str = "code-generation", **kw: object) -> RouteResult:
    fields: dict[str, object] = {
        "model_requested": "gpt-4o",
        "api": "openai-chat",
        "line": 7,
        "date_utc": DATE,
        "gateway_host": HOST,
        "model_returned": "gpt-4o-2024-08-06",
        "http_status": 200,
        "choices_count": 1,
        "error_path_status": 404,
        "verdict": "pass",
        "notes": "accepted: dated snapshot of gpt-4o",
        "attempts": 1,
        "requested_tokens": 16,
    }
    fields.update(kw)
    return RouteResult(route=name, **fields)  # type: ignore[arg-type]


def error_path(**kw: object) -> ErrorPathResult:
    fields: dict[str, object] = {
        "api": "openai-chat",
        "model_requested": "routing-guard-invalid-model-id",
        "http_status": 404,
        "verdict": "pass",
        "attempts": 1,
        "requested_tokens": 16,
    }
    fields.update(kw)
    return ErrorPathResult(**fields)  # type: ignore[arg-type]


def run_of(
    routes: list[RouteResult], error_paths: list[ErrorPathResult] | None = None, **kw: object
) -> RunResult:
    return RunResult(
        gateway_host=HOST,
        api="openai-chat",
        routing_file=".github/model-routing.yml",
        routes=routes,
        error_paths=[error_path()] if error_paths is None else error_paths,
        date_utc=DATE,
        **kw,  # type: ignore[arg-type]
    )


def failing_run() -> RunResult:
    return run_of(
        [
            route(),
            route(
                "heavy-alias",
                model_requested="coder-heavy",
                model_returned="coder-heavy",
                served_model="opus-x",
            ),
            route(
                "commit-message",
                model_requested="gpt-4o-mini",
                model_returned="gpt-3.5-turbo",
                verdict="model_mismatch",
                notes="returned gpt-3.5-turbo",
                hint="The gateway re-routed gpt-4o-mini: check its alias table.",
                warnings=["gpt-4o-mini is not in the /models listing"],
            ),
        ],
        [
            error_path(
                model_returned="gpt-4o-mini",
                http_status=200,
                verdict="silent_fallback",
                hint="Turn off the catch-all.",
            )
        ],
        warnings=["plain http to a loopback gateway"],
    )


# --- checks on rendered text ------------------------------------------------------------------


def runner_commands(output: str) -> list[str]:
    """Lines the GitHub runner would read as a workflow command (any command name)."""
    found = []
    for line in re.split(r"\r\n|\r|\n", output):
        stripped = line.lstrip()
        at = line.find("##[")
        if (stripped.startswith("::") and stripped.find("::", 2) > 2) or (
            at >= 0 and line.find("]", at) > at + 3
        ):
            found.append(line)
    return found


def pipes(line: str) -> int:
    """Unescaped pipes, counted both as cmark-gfm does (`\\|` always escaped) and by backslash parity;
    the two must agree, or a renderer could split the row differently."""
    gfm = len(re.findall(r"(?<!\\)\|", line))
    parity, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 1
        elif line[i] == "|":
            parity += 1
        i += 1
    assert gfm == parity, line
    return gfm


def tables(markdown: str) -> list[list[str]]:
    found: list[list[str]] = []
    previous = ""
    for line in markdown.split("\n"):
        if line.startswith("|"):
            if not previous.startswith("|"):
                found.append([])
            found[-1].append(line)
        previous = line
    return found


def assert_valid_tables(markdown: str) -> list[list[str]]:
    found = tables(markdown)
    for table in found:
        header, delimiter, *rows = table
        assert re.fullmatch(r"(\| --- )+\|", delimiter), delimiter
        assert all(pipes(row) == pipes(header) for row in [delimiter, *rows]), table
    return found


def test_table_checker_catches_a_broken_row() -> None:
    good = "| a | b |\n| --- | --- |\n| 1 \\| x | 2 |\n"
    assert assert_valid_tables(good) == [good.strip().split("\n")]
    with pytest.raises(AssertionError):
        assert_valid_tables("| a | b |\n| --- | --- |\n| 1 | x | 2 |\n")


# --- report document ----------------------------------------------------------------------------


def contract_run() -> RunResult:
    # The example shows one passing route of a failing run: the failing one is left out of it.
    failing = route("commit-message", model_returned="gpt-3.5-turbo", verdict="model_mismatch")
    return run_of([route(), failing], [error_path(model_returned=None)])


def test_report_matches_the_contract_example() -> None:
    doc = report_document(contract_run())
    for key, value in CONTRACT_EXAMPLE.items():
        if key not in ("routes", "error_path"):
            assert doc[key] == value, key
    assert doc["routes"][0] | CONTRACT_EXAMPLE["routes"][0] == doc["routes"][0]
    assert doc["error_path"] | CONTRACT_EXAMPLE["error_path"] == doc["error_path"]
    assert json.loads(format_json(contract_run())) == doc


def test_report_extra_fields() -> None:
    run = failing_run()
    doc = report_document(run)
    assert list(doc) == [
        "version",
        "pass",
        "exit_code",
        "gateway_host",
        "api",
        "routing_file",
        "routes",
        "error_path",
        "error_paths",
        "requested_tokens",
        "requests",
        "warnings",
        "mode",
        "models_preflight",
    ]
    assert (doc["pass"], doc["exit_code"]) == (False, 1)
    assert (doc["requested_tokens"], doc["requests"]) == (64, 4)
    assert doc["warnings"] == ["plain http to a loopback gateway"] and doc["mode"] == "check"
    heavy = doc["routes"][1]
    assert (heavy["line"], heavy["api"], heavy["served_model"]) == (7, "openai-chat", "opus-x")
    failed = doc["routes"][2]
    assert (failed["pass"], failed["verdict"]) == (False, "model_mismatch")
    assert failed["hint"].startswith("The gateway re-routed")
    assert failed["warnings"] == ["gpt-4o-mini is not in the /models listing"]
    assert doc["error_path"] == doc["error_paths"][0]
    assert doc["error_path"]["verdict"] == "silent_fallback" and doc["error_path"]["api"] == "openai-chat"


def test_report_one_error_path_per_protocol_and_none_when_skipped() -> None:
    two = run_of([route()], [error_path(), error_path(api="anthropic-messages", http_status=400)])
    doc = report_document(two)
    assert [e["api"] for e in doc["error_paths"]] == ["openai-chat", "anthropic-messages"]
    assert doc["error_path"]["api"] == "openai-chat"
    skipped = report_document(run_of([route()], []))
    assert skipped["error_path"] is None and skipped["error_paths"] == []


def test_report_operational_failure_is_not_a_pass() -> None:
    doc = report_document(run_of([route(verdict="timeout", http_status=None, model_returned=None)]))
    assert (doc["pass"], doc["exit_code"]) == (False, 3)
    assert doc["routes"][0]["http_status"] is None and doc["routes"][0]["model_returned"] is None


def test_route_falls_back_to_run_date_and_host() -> None:
    doc = report_document(run_of([route(date_utc="", gateway_host="")]))
    assert (doc["routes"][0]["date_utc"], doc["routes"][0]["gateway_host"]) == (DATE, HOST)


def test_write_report(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_report(contract_run(), path)
    assert json.loads(path.read_text(encoding="utf-8")) == report_document(contract_run())
    assert '"model_returned": null' in path.read_text(encoding="utf-8")


def test_write_report_redacts_and_stays_valid_utf8(tmp_path: Path) -> None:
    run = run_of([route(notes=f"echo {KEY[:12]}***", model_returned="bad\ud800id")])
    path = tmp_path / "report.json"
    write_report(run, path, redactor=Redactor([KEY]))
    text = path.read_bytes().decode("utf-8")  # strict: a lone surrogate would fail here
    assert KEY[:8] not in text
    entry = json.loads(text)["routes"][0]
    assert entry["notes"] == "echo ******" and entry["model_returned"] == "bad\ufffdid"


def test_json_never_carries_a_workflow_command() -> None:
    run = run_of([route(model_returned="##[add-mask]gpt-4o", notes="::error::x\n::warning::y")])
    text = format_json(run)
    assert runner_commands(text) == []
    assert json.loads(text)["routes"][0]["model_returned"] == "##[add-mask]gpt-4o"
    assert json.loads(text)["routes"][0]["notes"] == "::error::x\n::warning::y"


# --- log ----------------------------------------------------------------------------------------


def test_log_records_have_exactly_the_logging_fields() -> None:
    records = log_records(failing_run())
    assert len(records) == 3
    expected = [
        "date_utc",
        "gateway_host",
        "model_requested",
        "model_returned",
        "http_status",
        "choices_count",
        "error_path_status",
        "pass",
        "notes",
        "route",
    ]
    assert list(LOG_FIELDS) == expected
    assert all(list(record) == expected for record in records)
    assert records[2]["pass"] is False and records[2]["route"] == "commit-message"


def test_write_log_is_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    run = run_of([route(), route("b", notes=f"key {KEY} here\nsecond line")])
    write_log(run, path, redactor=Redactor([KEY]))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert all(set(r) == set(LOG_FIELDS) for r in records)
    assert records[1]["notes"] == "key *** here\nsecond line"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", records[0]["date_utc"])


# --- terminal table -----------------------------------------------------------------------------


def test_table_layout_and_result_line() -> None:
    text = render_table(failing_run())
    lines = text.splitlines()
    assert lines[0].split() == ["route", "requested", "returned", "HTTP", "verdict", "notes"]
    assert lines[3].split()[:5] == ["commit-message", "gpt-4o-mini", "gpt-3.5-turbo", "200", "model_mismatch"]
    assert lines[-1] == "3 routes: 2 passed, 1 failed (model_mismatch) · error path: silent_fallback · exit 1"
    assert (
        "error path [openai-chat]: routing-guard-invalid-model-id -> HTTP 200, returned gpt-4o-mini" in text
    )
    assert "warning: commit-message: gpt-4o-mini is not in the /models listing" in text
    assert "warning: plain http to a loopback gateway" in text


def test_table_result_line_variants() -> None:
    run = run_of(
        [
            route(verdict="skipped"),
            route("b", verdict="timeout", http_status=None, model_returned=None),
            route("c", verdict="model_mismatch"),
            route("d", verdict="model_mismatch"),
        ],
        [error_path(), error_path(api="anthropic-messages", verdict="silent_fallback")],
    )
    text = render_table(run)
    assert text.splitlines()[-1] == (
        "4 routes: 0 passed, 1 skipped, 3 failed (1 timeout, 2 model_mismatch)"
        " · error path: openai-chat pass, anthropic-messages silent_fallback · exit 1"
    )
    assert re.search(r"^b +gpt-4o +— +— +timeout", text, re.MULTILINE)
    assert render_table(run_of([route()], [])).splitlines()[-1].endswith("error path: not probed · exit 0")


def test_table_hostile_text() -> None:
    run = run_of(
        [route(f"r{i}", model_returned=h, notes=h, served_model=h) for i, h in enumerate(HOSTILE)],
        [error_path(model_returned="::error::x", notes="\n::warning::y")],
        warnings=["::error::w", "x ##[set-output name=a;]b"],
    )
    text = render_table(run)
    assert runner_commands(text) == []
    assert "\x1b" not in text and "\r" not in text
    assert len(text.splitlines()) == 1 + len(HOSTILE) + 1 + 2 + 1
    text.encode("utf-8")


def test_table_caps_column_widths() -> None:
    huge = "m" * 100_000
    text = render_table(
        run_of([route(model_requested=huge, model_returned=huge, notes=huge)], [error_path(notes=huge)])
    )
    assert max(len(line) for line in text.splitlines()) < 2400  # notes are whole, up to 2000 characters


def test_table_redactor() -> None:
    run = run_of([route(notes=f"gateway said {KEY}", model_returned=KEY[3:40])])
    text = render_table(run, redactor=Redactor([KEY]))
    assert KEY[:8] not in text and KEY[3:11] not in text
    assert "gateway said ***" in text


# --- Markdown summary -------------------------------------------------------------------------


def test_summary_passing_run() -> None:
    text = render_summary(run_of([route()]))
    assert text.startswith("## ✅ routing-guard · exit 0\n")
    assert "What to do" not in text
    assert_valid_tables(text)


def test_summary_failing_run() -> None:
    text = render_summary(failing_run(), title="routing-guard (staging)")
    assert text.startswith("## ❌ routing-guard \\(staging\\) · exit 1\n")
    route_table, error_table = assert_valid_tables(text)
    assert route_table[0] == "| route | requested | returned | served | HTTP | verdict | notes |"
    assert len(route_table) == 2 + 3
    assert route_table[3] == "| heavy-alias | coder-heavy | coder-heavy | opus-x | 200 | ✅ pass | " + (
        markdown_cell("accepted: dated snapshot of gpt-4o") + " |"
    )
    assert "| ❌ model\\_mismatch |" in route_table[4]
    assert error_table[2].startswith(
        "| openai-chat | routing-guard-invalid-model-id | gpt-4o-mini | — | 200 |"
    )
    todo = text.split("### What to do\n\n")[1].split("\n\n")[0].splitlines()
    assert todo == [
        "- **commit-message** (model\\_mismatch): " + markdown_cell(failing_run().routes[2].hint, 500),
        "- **error path \\(openai-chat\\)** (silent\\_fallback): Turn off the catch-all&#46;",
    ]
    assert "- " + markdown_cell("commit-message: gpt-4o-mini is not in the /models listing") in text
    footer = text.rstrip("\n").splitlines()[-1]
    assert footer == (
        f"gateway: {markdown_cell(HOST)} · routing file: {markdown_cell('.github/model-routing.yml')}"
        " · 4 requests · requested output budget: 64 tokens"
    )


def test_summary_operational_verdict_and_skipped_error_path() -> None:
    text = render_summary(run_of([route(verdict="rate_limited", http_status=429)], []))
    assert text.startswith("## ❌ routing-guard · exit 3")
    assert "| ⚠️ rate\\_limited |" in text
    assert "_Error path not probed._" in text


def test_summary_preface_and_appendix_are_kept_verbatim() -> None:
    preface = "### Routing change\n\n| route | before | after |\n|---|---|---|\n| a | x | y |"
    appendix = "<details><summary>raw</summary>trusted</details>"
    text = render_summary(run_of([route()]), preface=preface, appendix=appendix)
    assert preface in text and appendix in text
    assert text.index(preface) < text.index("### Routes") < text.index(appendix) < text.index("---\ngateway")


def test_summary_hostile_text() -> None:
    run = run_of(
        [
            route(f"r{i}", model_returned=h, notes=h, served_model=h, verdict="model_mismatch", hint=h)
            for i, h in enumerate(HOSTILE)
        ],
        [error_path(model_returned="<b>x</b>", notes="| a | b |", verdict="silent_fallback", hint="`x`")],
        warnings=["<img src=x>", "[w](javascript:x)"],
    )
    text = render_summary(run, title="<i>t</i>")
    assert "<" not in text and ">" not in text
    assert not re.search(r"(?<!\\)[\[\]`]", text)  # no link, image or code can open
    route_table, error_table = assert_valid_tables(text)
    assert len(route_table) == 2 + len(HOSTILE) and len(error_table) == 3
    text.encode("utf-8")


def test_summary_renders_without_html_in_github_markdown() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")  # GitHub's own renderer, where installed
    run = run_of(
        [
            route(f"r{i}", model_returned=h, notes=h, verdict="model_mismatch", hint=h)
            for i, h in enumerate(HOSTILE)
        ],
    )
    html = cmarkgfm.github_flavored_markdown_to_html(render_summary(run))
    for tag in ("<a ", "<img", "<em>", "<code>", "<script", "<del>"):
        assert tag not in html
    assert html.count("<td>") == 7 * (len(HOSTILE) + 1)


def big_run(value: str, routes: int = 1000) -> RunResult:
    return run_of(
        [
            route(
                f"route-{i}",
                model_requested=value,
                model_returned=value,
                served_model=value,
                notes=value,
                hint=value,
                verdict="model_mismatch",
                warnings=[value],
            )
            for i in range(routes)
        ],
        [error_path(model_returned=value, notes=value, verdict="silent_fallback", hint=value)],
        warnings=[value] * 100,
    )


@pytest.mark.parametrize(
    "value", ["m" * 100_000, "<|" * 50_000, "\u6a21" * 100_000], ids=["ascii", "escaped", "cjk"]
)
def test_summary_of_a_thousand_huge_routes_stays_under_one_mebibyte(value: str) -> None:
    started = time.perf_counter()
    text = render_summary(big_run(value))
    assert time.perf_counter() - started < 10
    assert len(text.encode("utf-8")) < SUMMARY_LIMIT
    route_table, error_table = assert_valid_tables(text)
    more = re.search(r"^_(\d+) more routes: see the JSON report\._$", text, re.MULTILINE)
    assert more is not None
    assert len(route_table) - 2 + int(more.group(1)) == 1000
    assert len(error_table) == 3
    assert text.rstrip("\n").splitlines()[-1].startswith("gateway: ")


def test_summary_with_an_oversized_preface_is_cut_but_stays_under_the_limit() -> None:
    preface = "| a |\n|---|\n" + "| row |\n" * 300_000
    text = render_summary(run_of([route()]), preface=preface)
    assert len(text.encode("utf-8")) < SUMMARY_LIMIT
    assert "cut here to stay within GitHub's 1 MiB limit" in text


def test_summary_redactor_scrubs_before_escaping() -> None:
    # A key full of Markdown-active characters: escaping splits it into runs shorter than 8, so
    # scrubbing only the final text would miss it.
    key = "sk_a_b_c_d_e_f_g_h_i_j"
    run = run_of(
        [route(model_returned=key, notes=f"echo {key[:12]}***", verdict="model_mismatch", hint=f"key {key}")],
        warnings=[key],
    )
    text = render_summary(run, preface=f"preface {key}", redactor=Redactor([key]))
    unescaped = re.sub(r"\\(.)", r"\1", text)
    assert not any(key[i : i + 8] in unescaped for i in range(len(key) - 7))
    assert "preface ***" in text


def test_table_says_what_to_fix_once_per_distinct_hint() -> None:
    hint = "The gateway refused the key: check the secret."
    run = run_of(
        [
            route("a", verdict="auth_error", hint=hint),
            route("b", verdict="auth_error", hint=hint),
            route("c", hint="never shown: this route passed"),
        ],
        [error_path(verdict="silent_fallback", http_status=200, hint="Remove the catch-all.")],
    )
    lines = render_table(run).splitlines()
    assert [line for line in lines if line.startswith("to fix")] == [
        f"to fix (a, b): {hint}",
        "to fix (error path [openai-chat]): Remove the catch-all.",
    ]
