"""Cross-check discovered agent settings against a routing file, offline (no network, no key).

Each setting is matched to the route whose model is its resolved model (exactly, or in its
provider-prefixed form). The findings are the contract's kinds: `unrouted` is a routing failure;
`unpinned_alias`, `protocol_differs`, `gateway_differs` and `secret_in_config` are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from routing_guard.agents.model import Discovery, Finding, Setting
from routing_guard.config import Route, RoutingConfig
from routing_guard.protocols import PROTOCOLS

# Agents that never call the repository's gateway (Copilot calls GitHub's service): their settings
# are listed and matched to routes, but a missing route is no routing failure.
OFF_GATEWAY_AGENTS = frozenset({"copilot"})
PROTOCOL_FIELDS = frozenset({"api", "stream"})


@dataclass(frozen=True)
class Row:
    setting: Setting
    route: str | None


@dataclass
class AgentReport:
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.is_failure for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The document `routing-guard agents --format json` prints (CONTRACT: Coding agents' settings)."""
        return {
            "version": 1,
            "settings": [
                {
                    "agent": row.setting.agent,
                    "file": row.setting.file,
                    "line": row.setting.line,
                    "setting": row.setting.setting,
                    "value": row.setting.value,
                    "resolved": row.setting.resolved,
                    "api": row.setting.api,
                    "stream": row.setting.stream,
                    "base_url": row.setting.base_url,
                    "route": row.route,
                }
                for row in self.rows
            ],
            "findings": [
                {
                    "kind": f.kind,
                    "agent": f.agent,
                    "file": f.file,
                    "line": f.line,
                    "setting": f.setting,
                    "message": f.message,
                }
                for f in self.findings
            ],
        }


def _unprefixed(model: str) -> str:
    return model.split("/", 1)[1] if "/" in model else model


def route_for(model: str | None, routes: tuple[Route, ...]) -> Route | None:
    """The route whose model is `model`, exactly, else in a provider-prefixed form either way."""
    if model is None:
        return None
    for route in routes:
        if route.model == model:
            return route
    for route in routes:
        if _unprefixed(route.model) == model or _unprefixed(model) == route.model:
            return route
    return None


def follows_agent(route: Route) -> bool:
    """A route that writes neither `api` nor `stream` is probed the way its agents call it."""
    return not (route.written & PROTOCOL_FIELDS)


def _same_url(a: str, b: str) -> bool:
    one, two = urlsplit(a), urlsplit(b)
    return (one.scheme.lower(), (one.netloc or "").lower(), one.path.rstrip("/")) == (
        two.scheme.lower(),
        (two.netloc or "").lower(),
        two.path.rstrip("/"),
    )


def _where(setting: Setting) -> str:
    return f"{setting.file}:{setting.line}"


def cross_check(found: Discovery, config: RoutingConfig | None) -> AgentReport:
    """Rows (setting + covering route) and every finding; without a routing file, no route checks."""
    report = AgentReport(findings=list(found.findings))
    for site in found.secrets:
        report.findings.append(
            Finding(
                "secret_in_config",
                site.agent,
                site.file,
                site.line,
                site.setting,
                f"{site.file}:{site.line}: {site.setting} holds a credential committed to the repository "
                "(value not shown); rotate it and read it from the environment instead",
            )
        )
    routes = config.routes if config is not None else ()
    reported_gateways: set[tuple[str, int]] = set()
    for setting in found.settings:
        route = route_for(setting.resolved, routes)
        report.rows.append(Row(setting, route.name if route else None))
        if setting.unpinned_by is not None:
            report.findings.append(_unpinned(setting))
        if config is None:
            continue
        if route is None and setting.resolved is not None and setting.agent not in OFF_GATEWAY_AGENTS:
            report.findings.append(_unrouted(setting))
        if route is not None and setting.api is not None and not follows_agent(route):
            differs = _protocol_differs(setting, route)
            if differs:
                report.findings.append(differs)
        base_site = (setting.base_url_file, setting.base_url_line)
        if setting.endpoint and setting.api and base_site not in reported_gateways:
            expected = config.gateway.base_for(setting.api).rstrip("/") + PROTOCOLS[setting.api].path
            if not _same_url(setting.endpoint, expected):
                reported_gateways.add(base_site)
                report.findings.append(_gateway_differs(setting, expected))
    return report


def _unrouted(setting: Setting) -> Finding:
    return Finding(
        "unrouted",
        setting.agent,
        setting.file,
        setting.line,
        setting.setting,
        f"{_where(setting)}: {setting.agent} sends {setting.resolved} for {setting.task} "
        f"({setting.setting}), and no route names it: add a route with `model: {setting.resolved}` "
        "so the gateway is proven to serve it",
    )


def _unpinned(setting: Setting) -> Finding:
    target = setting.resolved or "Anthropic's current ID for it"
    return Finding(
        "unpinned_alias",
        setting.agent,
        setting.file,
        setting.line,
        setting.setting,
        f"{_where(setting)}: {setting.setting} = {setting.value} is resolved by {setting.agent} itself "
        f"(to {target}, which moves with its releases); pin it with {setting.unpinned_by}",
    )


def _protocol_differs(setting: Setting, route: Route) -> Finding | None:
    if route.api != setting.api:
        said = f"probes {route.api}, but {setting.agent} calls it with {setting.api}"
    elif setting.stream and not route.stream:
        said = f"probes without streaming, but {setting.agent} always streams"
    else:
        return None
    return Finding(
        "protocol_differs",
        setting.agent,
        setting.file,
        setting.line,
        setting.setting,
        f"route {route.name} {said} ({_where(setting)}); remove `api`/`stream` from the route to "
        "probe it the way the agent calls it",
    )


def _gateway_differs(setting: Setting, expected: str) -> Finding:
    file = setting.base_url_file or setting.file
    line = setting.base_url_line or setting.line
    return Finding(
        "gateway_differs",
        setting.agent,
        file,
        line,
        setting.setting,
        f"{file}:{line}: {setting.agent} posts to {setting.endpoint}, but the routing file's gateway "
        f"serves {expected}: the check does not prove what this agent calls",
    )
