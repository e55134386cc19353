"""What a run found: one record per route, one per error-path probe, and the run as a whole.

These are plain data; `verdict.py` decides them and `report.py` renders them. Every string in
here that came from a gateway has already been scrubbed of the key, but is still untrusted text:
renderers must escape it for their medium.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from routing_guard.agents.crosscheck import AgentReport

Verdict = Literal[
    "pass",
    "model_mismatch",
    "fallback_detected",
    "silent_fallback",
    "empty_response",
    "bad_response",
    "http_error",
    "auth_error",
    "rate_limited",
    "unreachable",
    "timeout",
    "context_too_small",
    "not_listed",
    "drifted",
    "inconclusive",
    "skipped",
]

# Verdicts that mean "the gateway routes wrongly" (exit 1) versus "no verdict possible" (exit 3).
ROUTING_FAILURES: frozenset[str] = frozenset(
    {
        "model_mismatch",
        "fallback_detected",
        "silent_fallback",
        "empty_response",
        "bad_response",
        "http_error",
        "context_too_small",
        "not_listed",
        "drifted",
    }
)
OPERATIONAL_FAILURES: frozenset[str] = frozenset(
    {"auth_error", "rate_limited", "unreachable", "timeout", "inconclusive"}
)

EXIT_OK = 0
EXIT_ROUTING = 1
EXIT_CONFIG = 2
EXIT_OPERATIONAL = 3
EXIT_INTERNAL = 4  # a bug in routing-guard: wins over every other code


def exit_code_of(verdict: str, http_status: int | None) -> int:
    """The exit code one verdict calls for; a 5xx `http_error` is an outage, not a routing verdict."""
    if verdict == "http_error" and http_status is not None and http_status >= 500:
        return EXIT_OPERATIONAL
    if verdict in ROUTING_FAILURES:
        return EXIT_ROUTING
    if verdict in OPERATIONAL_FAILURES:
        return EXIT_OPERATIONAL
    return EXIT_OK


@dataclass
class ProbeResult:
    """What one probe found; shared by the routes and the error path."""

    model_requested: str
    api: str
    model_returned: str | None = None
    served_model: str | None = None  # what a gateway header or field says really answered
    served_header: str | None = None  # the header that named served_model
    provider: str | None = None  # the upstream provider where the gateway says (OpenRouter's body)
    http_status: int | None = None
    verdict: Verdict = "skipped"
    notes: str = ""
    hint: str = ""  # what to do about a failure, for the summary
    attempts: int = 0
    requested_tokens: int = 0

    @property
    def passed(self) -> bool:
        return self.verdict in ("pass", "skipped")


@dataclass(kw_only=True)
class RouteResult(ProbeResult):
    route: str
    line: int = 0
    date_utc: str = ""
    gateway_host: str = ""
    choices_count: int | None = None
    error_path_status: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ErrorPathResult(ProbeResult):
    pass


@dataclass
class RunResult:
    gateway_host: str
    api: str
    routing_file: str
    routes: list[RouteResult]
    error_paths: list[ErrorPathResult]
    date_utc: str = ""
    warnings: list[str] = field(default_factory=list)
    mode: Literal["check", "models-only"] = "check"
    listing_summary: str = ""  # what the GET /models preflight found, when it ran
    internal_errors: list[str] = field(default_factory=list)  # probes that crashed (bugs), scrubbed
    # The coding agents' settings checked against the routing file (docs/agents/README.md); an
    # unrouted setting fails the run as a routing failure even when every probe passed.
    agents: AgentReport | None = None
    cancelled: str = ""  # the signal that ended the run early ("SIGTERM"): the results are partial

    @property
    def error_path(self) -> ErrorPathResult | None:
        """The error path of the gateway's own protocol (the first one probed)."""
        return self.error_paths[0] if self.error_paths else None

    @property
    def requested_tokens(self) -> int:
        return sum(r.requested_tokens for r in self.routes) + sum(
            e.requested_tokens for e in self.error_paths
        )

    @property
    def request_count(self) -> int:
        return sum(r.attempts for r in self.routes) + sum(e.attempts for e in self.error_paths)

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return EXIT_INTERNAL
        if self.cancelled:
            return 128 + signal.Signals[self.cancelled].value  # as a shell reports a signalled process
        if self.agents is not None and self.agents.failed:  # an unrouted agent setting
            return EXIT_ROUTING
        records: list[ProbeResult] = [*self.routes, *self.error_paths]
        codes = {exit_code_of(r.verdict, r.http_status) for r in records}
        for code in (EXIT_ROUTING, EXIT_OPERATIONAL):
            if code in codes:
                return code
        return EXIT_OK

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def failed_routes(self) -> list[str]:
        return [r.route for r in self.routes if not r.passed]
