"""Routes proposed from the discovered agent settings, for `routing-guard init`.

One route per distinct model the agents send, named after the first setting that sends it. The
proposal writes neither `api` nor `stream`, so each route is probed the way its agents call it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from routing_guard.agents.model import Discovery, Setting

_NOT_NAME = re.compile(r"[^a-z0-9.-]+")
_STRIP = ("env.", "anthropic_default_", "anthropic_", "claude_code_", "agent.", "agents.")


@dataclass(frozen=True)
class ProposedRoute:
    name: str
    model: str
    sources: tuple[str, ...]  # "file:line setting" of each setting that sends the model


def _short(setting: Setting) -> str:
    if setting.setting == "model" and setting.file.endswith(".md"):
        return PurePosixPath(setting.file).name.split(".")[0]
    name = setting.setting.lower()
    for prefix in _STRIP:
        name = name.removeprefix(prefix)
    name = name.removesuffix(".model").removesuffix("_model")
    return "main" if name in ("model", "") else name


def _route_name(setting: Setting) -> str:
    slug = _NOT_NAME.sub("-", f"{setting.agent}-{_short(setting)}".lower()).strip("-._")
    return slug or setting.agent


def propose_routes(found: Discovery) -> list[ProposedRoute]:
    sources: dict[str, list[Setting]] = {}
    for setting in found.settings:
        if setting.resolved:
            sources.setdefault(setting.resolved, []).append(setting)
    proposals: list[ProposedRoute] = []
    taken: set[str] = set()
    for model, settings in sources.items():
        base = name = _route_name(settings[0])
        count = 1
        while name in taken:
            count += 1
            name = f"{base}-{count}"
        taken.add(name)
        where = tuple(f"{s.file}:{s.line} {s.setting}" for s in settings)
        proposals.append(ProposedRoute(name, model, where))
    return proposals


def render_routes(proposals: list[ProposedRoute], indent: str = "  ") -> str:
    """The proposals as the body of a routing file's `routes:` mapping, each with where it came from."""
    lines = []
    for proposal in proposals:
        lines.append(f"{indent}# from {', '.join(proposal.sources)}")
        lines.append(f"{indent}{proposal.name}:")
        lines.append(f"{indent}{indent}model: {_yaml_string(proposal.model)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _yaml_string(value: str) -> str:
    """A double-quoted YAML scalar (JSON's escaping is valid YAML), so any model ID stays a string."""
    return json.dumps(value)
