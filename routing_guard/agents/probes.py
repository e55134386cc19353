"""Probe a route the way the coding agents that use it call it.

A route that covers agent settings and writes neither `api` nor `stream` is probed with each
covering agent's protocol, streamed as the agent streams, with the agent's protocol headers and
query (Claude Code: `/messages?beta=true` with `anthropic-beta`): one probe per distinct protocol.
The probe itself stays minimal ("ping", the small output budget): no agent prompt, no tools.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from routing_guard.agents.crosscheck import AgentReport, Row, follows_agent
from routing_guard.config import Api, Route, RoutingConfig


@dataclass(frozen=True)
class AgentProbe:
    route: str
    api: Api
    stream: bool
    headers: tuple[tuple[str, str], ...]
    query: str
    agents: tuple[str, ...]


def agent_probes(report: AgentReport, config: RoutingConfig) -> list[AgentProbe]:
    """The probes agents need, in routing-file order, then in the order the settings were found."""
    by_name = {route.name: route for route in config.routes}
    grouped: dict[tuple[str, Api], list[Row]] = {}
    for row in report.rows:
        route = by_name.get(row.route or "")
        if route is None or row.setting.api is None or not follows_agent(route):
            continue
        grouped.setdefault((route.name, row.setting.api), []).append(row)
    probes = []
    for route in config.routes:
        for (name, api), rows in grouped.items():
            if name != route.name:
                continue
            headers: dict[str, str] = {}
            for row in rows:
                headers.update(row.setting.agent_headers)
            probes.append(
                AgentProbe(
                    route=name,
                    api=api,
                    stream=any(row.setting.stream for row in rows),
                    headers=tuple(headers.items()),
                    query=next((row.setting.agent_query for row in rows if row.setting.agent_query), ""),
                    agents=tuple(dict.fromkeys(row.setting.agent for row in rows)),
                )
            )
    return probes


def routes_as_agents_call_them(routes: tuple[Route, ...], probes: list[AgentProbe]) -> tuple[Route, ...]:
    """routes with each agent-covered one replaced by one copy per protocol its agents use."""
    result: list[Route] = []
    for route in routes:
        own = [probe for probe in probes if probe.route == route.name]
        if not own:
            result.append(route)
        for probe in own:
            result.append(
                dataclasses.replace(
                    route,
                    api=probe.api,
                    stream=probe.stream,
                    agent_headers=dict(probe.headers),
                    agent_query=probe.query,
                )
            )
    return tuple(result)


def as_agents_call_it(report: AgentReport, config: RoutingConfig) -> RoutingConfig:
    """config with its routes as `routes_as_agents_call_them` makes them, for the check to probe."""
    routes = routes_as_agents_call_them(config.routes, agent_probes(report, config))
    return config if routes == config.routes else dataclasses.replace(config, routes=routes)
