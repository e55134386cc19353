"""The coding agents' own settings: what they will call, checked against the routing file.

`discover(root)` reads the repository's committed settings of every supported agent;
`cross_check(found, config)` matches them to routes and lists the findings; `agent_probes` and
`routes_as_agents_call_them` make the check probe routes the way the agents call them;
`propose_routes` feeds `routing-guard init`. Design notes: docs/agents/README.md.
"""

from __future__ import annotations

from pathlib import Path

from routing_guard.agents import aider, claude, codex, copilot, gemini, opencode
from routing_guard.agents.crosscheck import AgentReport, Row, cross_check, route_for
from routing_guard.agents.model import Discovery, Finding, SecretSite, Setting
from routing_guard.agents.probes import (
    AgentProbe,
    agent_probes,
    as_agents_call_it,
    routes_as_agents_call_them,
)
from routing_guard.agents.propose import ProposedRoute, propose_routes, render_routes
from routing_guard.config import RoutingConfig

READERS = (codex, claude, opencode, copilot, aider, gemini)

__all__ = [
    "AgentProbe",
    "AgentReport",
    "Discovery",
    "Finding",
    "ProposedRoute",
    "Row",
    "SecretSite",
    "Setting",
    "agent_probes",
    "as_agents_call_it",
    "check_agents",
    "cross_check",
    "discover",
    "propose_routes",
    "render_routes",
    "route_for",
    "routes_as_agents_call_them",
]


def discover(root: Path) -> Discovery:
    """Every supported agent's committed settings under root (the repository's top folder)."""
    found = Discovery()
    for reader in READERS:
        found.extend(reader.discover(root))
    unique = {(s.file, s.line, s.setting): s for s in found.secrets}
    found.secrets = list(unique.values())
    return found


def check_agents(root: Path, config: RoutingConfig | None) -> tuple[Discovery, AgentReport]:
    """Discovery under root and its cross-check against config (None: no routing file to check)."""
    found = discover(root)
    return found, cross_check(found, config)
