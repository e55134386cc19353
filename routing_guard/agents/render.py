"""Renderings of an agent report: the terminal table, the Markdown summary section, annotations.

Values come from the repository's agent files, so each medium escapes them (`terminal_text`,
`markdown_cell`, `command`). Secret values never reach a report; the caller's Redactor (which
knows them through `Discovery.secret_values`) scrubs each rendering as a second line.
"""

from __future__ import annotations

import json

from routing_guard.action.commands import command
from routing_guard.agents.crosscheck import AgentReport, Row
from routing_guard.agents.model import Finding
from routing_guard.escape import markdown_cell, neutralise_line, terminal_text
from routing_guard.redact import Redactor

NONE = "—"
TITLE = "Coding agents' settings"
_COLUMNS = (
    ("agent", 12),
    ("file:line", 48),
    ("setting", 40),
    ("value", 40),
    ("resolved", 40),
    ("protocol", 30),
    ("route", 32),
)


def _protocol(row: Row) -> str:
    api = row.setting.api
    if api is None:
        return NONE
    return f"{api}, streamed" if row.setting.stream else api


def _cells(row: Row) -> list[str]:
    s = row.setting
    return [
        s.agent,
        f"{s.file}:{s.line}",
        s.setting,
        s.value,
        s.resolved or NONE,
        _protocol(row),
        row.route or NONE,
    ]


def _severity(finding: Finding) -> str:
    return "error" if finding.is_failure else "warning"


def summary_line(report: AgentReport) -> str:
    failures = sum(f.is_failure for f in report.findings)
    warnings = len(report.findings) - failures
    settings = len(report.rows)
    return (
        f"{settings} agent setting{'' if settings == 1 else 's'}: "
        f"{failures} unrouted, {warnings} warning{'' if warnings == 1 else 's'}"
    )


def render_text(report: AgentReport, *, redactor: Redactor | None = None) -> str:
    """The `routing-guard agents` table, then one line per finding and a result line."""
    lines: list[str] = []
    if report.rows:
        header = [name for name, _ in _COLUMNS]
        cells = [
            [terminal_text(c, cap) for c, (_, cap) in zip(_cells(r), _COLUMNS, strict=True)]
            for r in report.rows
        ]
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *cells]
        ]
        bases = dict.fromkeys(r.setting.base_url for r in report.rows if r.setting.base_url)
        lines += [f"base URL in agent settings: {terminal_text(base, 200)}" for base in bases]
    else:
        lines.append("no coding agent settings found")
    for f in report.findings:
        lines.append(f"{_severity(f)}: {f.kind}: {terminal_text(f.message, 600)}")
    lines.append(summary_line(report))
    text = "\n".join(neutralise_line(line) for line in lines) + "\n"
    return redactor.scrub(text) if redactor is not None else text


def render_findings(report: AgentReport, *, redactor: Redactor | None = None) -> str:
    """What `validate` and `check` print about the agents: one line per finding, then a result line
    ('' when the repository has no agent settings and no finding)."""
    if not report.rows and not report.findings:
        return ""
    lines = [f"{_severity(f)}: {f.kind}: {terminal_text(f.message, 600)}" for f in report.findings]
    lines.append(summary_line(report))
    text = "\n".join(neutralise_line(line) for line in lines) + "\n"
    return redactor.scrub(text) if redactor is not None else text


def render_json(report: AgentReport, *, redactor: Redactor | None = None) -> str:
    doc = report.to_json()
    if redactor is not None:
        doc = redactor.scrub_obj(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_markdown(report: AgentReport, *, redactor: Redactor | None = None) -> str:
    """A section for the job summary ('' when the repository has no agent settings)."""
    if not report.rows and not report.findings:
        return ""
    icon = "❌" if report.failed else "⚠️" if report.findings else "✅"
    lines = [f"### {icon} {TITLE}", "", markdown_cell(summary_line(report), 200), ""]
    if report.rows:
        headers = [name for name, _ in _COLUMNS]
        lines += ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        for row in report.rows:
            lines.append(
                "| "
                + " | ".join(markdown_cell(c, cap) for c, (_, cap) in zip(_cells(row), _COLUMNS, strict=True))
                + " |"
            )
        lines.append("")
    for f in report.findings:
        mark = "❌" if f.is_failure else "⚠️"
        lines.append(f"- {mark} {markdown_cell(f.kind, 40)}: {markdown_cell(f.message, 600)}")
    text = "\n".join(lines) + "\n"
    return redactor.scrub(text) if redactor is not None else text


def annotation_commands(report: AgentReport, *, redactor: Redactor | None = None) -> list[str]:
    """`::error`/`::warning` workflow commands on the agent files' lines, one per finding."""
    out = []
    for f in report.findings:
        message = redactor.scrub(f.message) if redactor is not None else f.message
        title = f"routing-guard: {f.kind}"
        out.append(command(_severity(f), message, file=f.file, line=f.line or None, title=title))
    return out
