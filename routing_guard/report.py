"""Every rendering of a run: the JSON report, the JSON Lines log, the terminal table and the
Markdown job summary.

Renderers only render: verdicts and hints are decided in `verdict.py`. Strings from the gateway
are untrusted, so each medium escapes them (`redact.terminal_text`, `redact.markdown_cell`). The
caller scrubs the key; every function here also takes an optional `Redactor` as a second line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from routing_guard.escape import markdown_cell, neutralise_line, terminal_text
from routing_guard.redact import Redactor
from routing_guard.results import (
    EXIT_OK,
    EXIT_OPERATIONAL,
    ErrorPathResult,
    ProbeResult,
    RouteResult,
    RunResult,
    exit_code_of,
)
from routing_guard.terminal import BOLD, DIM, GREEN, RED, YELLOW, Look, paint, table, wrapped

REPORT_VERSION = 1
LOG_FIELDS = (
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
)

SUMMARY_LIMIT = 1_048_576  # bytes GitHub accepts in one step summary
_SUMMARY_BUDGET = 1_000_000  # what we aim for, leaving room for the caller's own lines
NONE = "—"

_SURROGATE = re.compile("[\ud800-\udfff]")


# --- JSON report and log ---------------------------------------------------------------------------


def _route_entry(run: RunResult, r: RouteResult) -> dict[str, Any]:
    return {
        "route": r.route,
        "date_utc": r.date_utc or run.date_utc,
        "gateway_host": r.gateway_host or run.gateway_host,
        "model_requested": r.model_requested,
        "model_returned": r.model_returned,
        "http_status": r.http_status,
        "choices_count": r.choices_count,
        "error_path_status": r.error_path_status,
        "pass": r.passed,
        "verdict": r.verdict,
        "notes": r.notes,
        "line": r.line,
        "api": r.api,
        "served_model": r.served_model,
        "hint": r.hint,
        "warnings": list(r.warnings),
    }


def _error_path_entry(e: ErrorPathResult) -> dict[str, Any]:
    return {
        "model_requested": e.model_requested,
        "model_returned": e.model_returned,
        "http_status": e.http_status,
        "pass": e.passed,
        "verdict": e.verdict,
        "notes": e.notes,
        "api": e.api,
        "served_model": e.served_model,
        "hint": e.hint,
    }


def report_document(run: RunResult) -> dict[str, Any]:
    """The `--report` document: the contract's shape, plus a few extra fields per entry."""
    error_paths = [_error_path_entry(e) for e in run.error_paths]
    return {
        "version": REPORT_VERSION,
        "pass": run.passed,
        "exit_code": run.exit_code,
        "gateway_host": run.gateway_host,
        "api": run.api,
        "routing_file": run.routing_file,
        "routes": [_route_entry(run, r) for r in run.routes],
        "error_path": error_paths[0] if error_paths else None,
        "error_paths": error_paths,
        "requested_tokens": run.requested_tokens,
        "requests": run.request_count,
        "warnings": list(run.warnings),
        "mode": run.mode,
        "models_preflight": run.listing_summary or None,
        **({"agents": run.agents.to_json()} if run.agents is not None else {}),
        **({"cancelled": run.cancelled} if run.cancelled else {}),
    }


def log_records(run: RunResult) -> list[dict[str, Any]]:
    """One `--log` record per route, with exactly the logging fields plus `route`."""
    return [{key: entry[key] for key in LOG_FIELDS} for entry in report_document(run)["routes"]]


def _json_safe(obj: Any) -> Any:
    """Lone surrogates (from a gateway's broken `\\ud800` escape) become U+FFFD: other JSON readers
    reject them."""
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, dict):
        return {_json_safe(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def _dumps(obj: Any, indent: int | None = None) -> str:
    # ASCII only, so no control or bidi character reaches a terminal. `##[` can only occur inside a
    # JSON string here; writing its second `#` as \u0023 keeps the value and stops the runner from
    # reading the line as an old-style workflow command when the JSON is printed.
    text = json.dumps(_json_safe(obj), indent=indent, ensure_ascii=True)
    return text.replace("##[", "#\\u0023[")


def _scrubbed(obj: Any, redactor: Redactor | None) -> Any:
    return redactor.scrub_obj(obj) if redactor is not None else obj


def format_json(run: RunResult, *, redactor: Redactor | None = None) -> str:
    """The report document, indented, for `--format json`."""
    return _dumps(_scrubbed(report_document(run), redactor), indent=2)


def write_report(run: RunResult, path: Path, *, redactor: Redactor | None = None) -> None:
    path.write_text(format_json(run, redactor=redactor) + "\n", encoding="utf-8")


def format_log(run: RunResult, *, redactor: Redactor | None = None) -> str:
    """The `--log` JSON Lines, one record per route."""
    return "".join(_dumps(record) + "\n" for record in _scrubbed(log_records(run), redactor))


def write_log(run: RunResult, path: Path, *, redactor: Redactor | None = None) -> None:
    path.write_text(format_log(run, redactor=redactor), encoding="utf-8")


# --- shared by the table and the summary -------------------------------------------------------


def _show(value: object) -> str:
    return NONE if value is None else str(value)


def _verdict_counts(verdicts: Iterable[str]) -> str:
    counts = Counter(verdicts)
    return ", ".join(counts) if len(counts) == 1 else ", ".join(f"{n} {v}" for v, n in counts.items())


def result_line(run: RunResult) -> str:
    """One line: "3 routes: 2 passed, 1 failed (model_mismatch) · error path: pass · exit 1"."""
    n = len(run.routes)
    counts = Counter(r.verdict for r in run.routes)
    routes = f"{n} route{'' if n == 1 else 's'}"
    if run.mode == "models-only":
        routes += " (models listing only)"
    routes += f": {counts['pass']} passed"
    if counts["skipped"]:
        routes += f", {counts['skipped']} skipped"
    failed = [r.verdict for r in run.routes if not r.passed]
    if failed:
        routes += f", {len(failed)} failed ({_verdict_counts(failed)})"
    if not run.error_paths:
        error_path = "error path: not probed"
    elif len(run.error_paths) == 1:
        error_path = f"error path: {run.error_paths[0].verdict}"
    else:
        error_path = "error path: " + ", ".join(f"{e.api} {e.verdict}" for e in run.error_paths)
    return f"{routes} · {error_path} · exit {run.exit_code}"


def _scrub_text(text: str, redactor: Redactor | None) -> str:
    return redactor.scrub(text) if redactor is not None else text


# --- terminal table -----------------------------------------------------------------------------

# (header, width cap); the last column (notes) is never cut short: it wraps on a terminal instead.
_TABLE_COLUMNS = (
    ("route", 32),
    ("requested", 40),
    ("returned", 40),
    ("HTTP", 4),
    ("verdict", 17),
    ("notes", 2000),
)


def _verdict_colour(verdict: str, http_status: int | None) -> str:
    if verdict in ("pass", "skipped"):
        return GREEN if verdict == "pass" else DIM
    return YELLOW if exit_code_of(verdict, http_status) == EXIT_OPERATIONAL else RED


def _fixes(run: RunResult) -> list[tuple[str, str]]:
    """(who, hint) for each distinct hint of a failed probe; who names every route (or error path)."""
    named: dict[str, list[str]] = {}
    for probe, who in [
        *((r, r.route) for r in run.routes),
        *((e, f"error path [{e.api}]") for e in run.error_paths),
    ]:
        if probe.hint and not probe.passed:
            named.setdefault(probe.hint, []).append(who)
    return [(", ".join(names), hint) for hint, names in named.items()]


def render_table(run: RunResult, *, redactor: Redactor | None = None, look: Look | None = None) -> str:
    """The terminal text: the table (notes whole: wrapped to a terminal's width, or listed below
    the table when it is too narrow), the error path line(s), the /models preflight, warnings, a
    "to fix" line per distinct hint naming its routes, and the result line. `look`: colour and
    width (default: plain, unwrapped)."""
    run = _scrubbed(run, redactor)
    look = look or Look()
    rows = [
        [r.route, r.model_requested, _show(r.model_returned), _show(r.http_status), r.verdict, r.notes]
        for r in run.routes
    ]
    cells = [[terminal_text(c, cap) for c, (_, cap) in zip(row, _TABLE_COLUMNS, strict=True)] for row in rows]
    colours = [{4: _verdict_colour(r.verdict, r.http_status)} for r in run.routes]
    laid_out = table([name for name, _ in _TABLE_COLUMNS], cells, look, colours=colours)
    lines = list(laid_out.lines)
    for route, note in laid_out.below:
        lines += wrapped(f"  {route}: {note}", look, indent="    ")
    for e in run.error_paths:
        returned = terminal_text(_show(e.model_returned), 60)
        if e.served_model:
            returned += f" (served by {terminal_text(e.served_model, 60)})"
        notes = f" ({terminal_text(e.notes, 2000)})" if e.notes else ""
        verdict = paint(e.verdict, _verdict_colour(e.verdict, e.http_status), look)
        lines += wrapped(
            f"error path [{terminal_text(e.api, 30)}]: {terminal_text(e.model_requested, 60)} "
            f"-> HTTP {_show(e.http_status)}, returned {returned}: {verdict}{notes}",
            look,
        )
    if run.listing_summary:
        lines += wrapped(terminal_text(run.listing_summary, 2000), look)
    for warning in _all_warnings(run):
        lines += wrapped(f"{paint('warning:', YELLOW, look)} {terminal_text(warning, 2000)}", look)
    for who, hint in _fixes(run):
        lines += wrapped(f"{paint(f'to fix ({who}):', BOLD, look)} {terminal_text(hint, 2000)}", look)
    colour = GREEN if run.exit_code == EXIT_OK else RED if run.exit_code == 1 else YELLOW
    lines.append(paint(terminal_text(result_line(run), 400), colour, look))
    return _scrub_text("\n".join(neutralise_line(line) for line in lines) + "\n", redactor)


def _all_warnings(run: RunResult) -> list[str]:
    return [*run.warnings, *(f"{r.route}: {w}" for r in run.routes for w in r.warnings)]


# --- Markdown job summary ----------------------------------------------------------------------


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(headers: list[str], rows: list[str]) -> list[str]:
    return [_row(headers), _row("---" for _ in headers), *rows]


def _icon(verdict: str, http_status: int | None) -> str:
    if verdict == "pass":
        return "✅"
    if verdict == "skipped":
        return "⏭️"
    return "⚠️" if exit_code_of(verdict, http_status) == EXIT_OPERATIONAL else "❌"


def _verdict_cell(verdict: str, http_status: int | None) -> str:
    return f"{_icon(verdict, http_status)} {markdown_cell(verdict, 40)}"


def _cell(value: object, limit: int = 120) -> str:
    return NONE if value is None else markdown_cell(str(value), limit)


def _probe_row(first: str, p: ProbeResult) -> str:
    """A table row for a route (first cell: its name) or an error path (first cell: its protocol)."""
    return _row(
        [
            first,
            _cell(p.model_requested),
            _cell(p.model_returned),
            _cell(p.served_model),
            _cell(p.http_status),
            _verdict_cell(p.verdict, p.http_status),
            _cell(p.notes, 300),
        ]
    )


def _fit(lines: list[str], budget: int, more: str) -> list[str]:
    """As many of `lines` as fit in `budget` bytes; past that, a note with how many were left out
    (`more` is formatted with the count)."""
    used = 0
    for i, line in enumerate(lines):
        used += len(line.encode("utf-8")) + 1
        if used > budget:
            return [*lines[:i], more.format(len(lines) - i)]
    return lines


SUMMARY_CUT_NOTE = (
    "\n\n_The summary was cut here to stay within GitHub's 1 MiB limit: see the JSON report._\n"
)


def _cap_bytes(text: str, limit: int) -> str:
    """`text` within `limit` bytes: cut at a line boundary, with a note saying so."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    head = data[: limit - len(SUMMARY_CUT_NOTE.encode("utf-8"))].decode("utf-8", "ignore")
    return head[: head.rfind("\n") + 1] + SUMMARY_CUT_NOTE


def append_summary(path: str | Path, markdown: str) -> bool:
    """Append Markdown to a step summary file, keeping the whole file under GitHub's 1 MiB.

    What does not fit is cut at a line end with a note; False when not even the note fits.
    """
    target = Path(path)
    room = SUMMARY_LIMIT - (target.stat().st_size if target.exists() else 0)
    if len(markdown.encode("utf-8")) > room and room <= len(SUMMARY_CUT_NOTE.encode("utf-8")):
        return False
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(_cap_bytes(markdown, room))
    return True


def render_summary(
    run: RunResult,
    *,
    title: str = "routing-guard",
    preface: str = "",
    appendix: str = "",
    redactor: Redactor | None = None,
) -> str:
    """GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY`, always under 1 MiB.

    `preface` and `appendix` are trusted Markdown from the caller; every other string is escaped.
    """
    run = _scrubbed(run, redactor)
    icon = "✅" if run.exit_code == EXIT_OK else "❌"
    head = [
        f"## {icon} {markdown_cell(title, 100)} · exit {run.exit_code}",
        "",
        markdown_cell(result_line(run), 500),
    ]
    footer = [
        "---",
        " · ".join(
            [
                f"gateway: {markdown_cell(run.gateway_host or NONE, 200)}",
                f"routing file: {markdown_cell(run.routing_file or NONE, 200)}",
                f"{run.request_count} request{'' if run.request_count == 1 else 's'}",
                f"requested output budget: {run.requested_tokens} tokens",
            ]
        ),
    ]
    error_table = (
        _table(
            ["protocol", "requested", "returned", "served", "HTTP", "verdict", "notes"],
            [_probe_row(_cell(e.api, 40), e) for e in run.error_paths],
        )
        if run.error_paths
        else ["_Error path not probed._"]
    )
    fixed = "\n".join([*head, preface, "### Error path", *error_table, appendix, *footer])
    room = max(_SUMMARY_BUDGET - len(fixed.encode("utf-8")) - 200, 0)

    route_rows = _fit(
        [_probe_row(_cell(r.route, 100), r) for r in run.routes],
        room * 6 // 10,
        "\n_{} more routes: see the JSON report._",
    )
    todo = [
        f"- **{markdown_cell(name, 100)}** ({markdown_cell(verdict, 40)}): {markdown_cell(hint, 500)}"
        for name, verdict, hint in [
            *((r.route, r.verdict, r.hint) for r in run.routes if not r.passed and r.hint),
            *(
                (f"error path ({e.api})", e.verdict, e.hint)
                for e in run.error_paths
                if not e.passed and e.hint
            ),
        ]
    ]
    todo = _fit(todo, room * 25 // 100, "- _{} more: see the JSON report._")
    warnings = _fit(
        [f"- {markdown_cell(w, 500)}" for w in _all_warnings(run)],
        room // 10,
        "- _{} more warnings: see the JSON report._",
    )

    parts = ["\n".join(head)]
    if preface:
        parts.append(preface.strip("\n"))
    if run.routes:
        headers = ["route", "requested", "returned", "served", "HTTP", "verdict", "notes"]
        parts.append("\n".join(["### Routes", "", *_table(headers, route_rows)]))
    parts.append("\n".join(["### Error path", "", *error_table]))
    if run.listing_summary:
        parts.append(markdown_cell(run.listing_summary, 1000))
    if todo:
        parts.append("\n".join(["### What to do", "", *todo]))
    if warnings:
        parts.append("\n".join(["### Warnings", "", *warnings]))
    if appendix:
        parts.append(appendix.strip("\n"))
    parts.append("\n".join(footer))
    text = _scrub_text("\n\n".join(parts) + "\n", redactor)
    return _cap_bytes(text, SUMMARY_LIMIT - 1)
