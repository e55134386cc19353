"""Gemini CLI: the project's `.gemini/settings.json`, `model.name` (or the older string `model`).

From Gemini CLI's public documentation, not run (docs/agents/gemini-cli.md). Gemini CLI speaks
the Gemini API, which routing-guard does not probe: the setting is reported and cross-checked
against the routes, without a protocol.
"""

from __future__ import annotations

from pathlib import Path

from routing_guard.agents.common import load, text
from routing_guard.agents.model import Agent, Discovery, Setting
from routing_guard.agents.reading import parse_json

AGENT: Agent = "gemini-cli"
CONFIG = ".gemini/settings.json"


def discover(root: Path) -> Discovery:
    found = Discovery()
    if not ((root / CONFIG).exists() or (root / CONFIG).is_symlink()):
        return found
    doc = load(root, CONFIG, AGENT, lambda t: parse_json(t, comments=True), found)
    if doc is None:
        return found
    for path in (("model", "name"), ("model",)):
        value = text(doc.data, *path)
        if value is not None:
            found.settings.append(
                Setting(
                    agent=AGENT,
                    file=CONFIG,
                    line=doc.line(*path),
                    setting=".".join(path),
                    value=value,
                    resolved=value.strip(),
                    api=None,
                    stream=None,
                    task="every request",
                )
            )
            break
    return found
