"""Where a routing file is when none is named: the first candidate that exists and holds a routing."""

from __future__ import annotations

from pathlib import Path

from routing_guard.routing.markdown_reader import markdown_blocks
from routing_guard.routing.parsed import RoutingError

ROUTING_FILE_CANDIDATES: tuple[str, ...] = (
    ".github/model-routing.yml",
    ".github/model-routing.yaml",
    "model-routing.yml",
    "model-routing.yaml",
    "model-routing.json",
    "AGENTS.md",
    "CLAUDE.md",
    ".github/copilot-instructions.md",
)


def find_routing_file(root: Path) -> Path:
    """The first routing-file candidate under root; a Markdown file counts only with a routing block."""
    tried = []
    for name in ROUTING_FILE_CANDIDATES:
        candidate = root / name
        if not candidate.is_file():
            tried.append(name)
        elif not name.endswith(".md") or markdown_blocks(candidate.read_bytes().decode("utf-8", "replace")):
            return candidate
        else:
            tried.append(f"{name} (present, but without a model-routing block)")
    raise RoutingError(
        str(root),
        None,
        "no routing file found; looked for " + ", ".join(tried) + ". Create .github/model-routing.yml "
        "or name the file with --routing-file",
    )
