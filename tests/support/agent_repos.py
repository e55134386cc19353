"""Repositories laid out like the agents' recorded configs (tests/agent_files), and the journals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AGENT_FILES = Path(__file__).resolve().parents[1] / "agent_files"
CONFIGS = AGENT_FILES / "configs"
JOURNALS = AGENT_FILES / "journals"

CLAUDE_LAYOUT = {
    ".claude/settings.json": "claude/project-.claude-settings.json",
    **{
        f".claude/agents/pinger-{n}.md": f"claude/pinger-{n}.md"
        for n in ("haiku", "inherit", "literal", "none", "opus", "sonnet")
    },
}
CODEX_LAYOUT = {".codex/config.toml": "codex/project-.codex-config.toml"}
OPENCODE_LAYOUT = {
    "opencode.json": "opencode/opencode.json",
    ".opencode/agent/pinger.md": "opencode/opencode-agent-pinger.md",
}


def lay_out(root: Path, layout: dict[str, str]) -> Path:
    """Copy recorded config files (values: paths under configs/) to their places under root."""
    for target, source in layout.items():
        write(root, target, (CONFIGS / source).read_text())
    return root


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def journal(name: str) -> list[dict[str, Any]]:
    """The requests of one recorded run (journals/<name>.jsonl or <name>-*.jsonl), in order."""
    (path,) = [p for p in JOURNALS.glob("*.jsonl") if p.stem == name or p.stem.startswith(name + "-")]
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def models_sent(name: str) -> list[str]:
    return [request["model"] for request in journal(name) if request.get("model")]
