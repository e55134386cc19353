"""GitHub Copilot custom agents: `.github/agents/*.agent.md`, front matter `model`.

From GitHub's public documentation, not run (docs/agents/copilot.md). Copilot calls GitHub's own
service with the model named there (a picker name such as `Claude Sonnet 4.5`), never the
repository's gateway, so routing-guard reports the setting and its route but probes no protocol.
"""

from __future__ import annotations

from pathlib import Path

from routing_guard.agents.common import load, text
from routing_guard.agents.model import Agent, Discovery, Setting
from routing_guard.agents.reading import folder_files, parse_front_matter

AGENT: Agent = "copilot"
FOLDER = ".github/agents"


def discover(root: Path) -> Discovery:
    found = Discovery()
    for relative in folder_files(root, FOLDER, ".agent.md"):
        doc = load(root, relative, AGENT, parse_front_matter, found)
        value = text(doc.data, "model") if doc is not None else None
        if doc is None or value is None:
            continue
        name = text(doc.data, "name") or Path(relative).name.removesuffix(".agent.md")
        found.settings.append(
            Setting(
                agent=AGENT,
                file=relative,
                line=doc.line("model"),
                setting="model",
                value=value,
                resolved=value.strip(),
                api=None,
                stream=None,
                task=f"custom agent {name}",
            )
        )
    return found
