"""Where a routing file is when none is named: the first candidate that exists and holds a routing,
in the current folder or a parent up to the repository root."""

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


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above start that holds a `.git` (a checkout or a worktree), or None."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _search_folders(start: Path) -> list[Path]:
    """start, then each parent up to the repository root; only start outside a repository."""
    start = start.absolute()
    top = repository_root(start)
    if top is None:
        return [start]
    return [start, *start.parents[: len(start.parents) - len(top.parents)]]


def _has_block(path: Path) -> bool:
    """Whether an instruction file carries a routing block; read like a routing file (a regular
    file, capped), and one that cannot be read is an error naming it."""
    from routing_guard.routing.loading import read_routing_bytes

    return bool(markdown_blocks(read_routing_bytes(path, str(path)).decode("utf-8", "replace")))


def find_routing_file(start: Path) -> Path:
    """The first routing-file candidate in start or, going up, in the first folder up to the
    repository root that has one; a Markdown file counts only with a routing block."""
    tried = []
    searched = _search_folders(start)
    for folder in searched:
        for name in ROUTING_FILE_CANDIDATES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if not name.endswith(".md") or _has_block(candidate):
                return candidate
            tried.append(f"{candidate} (present, but without a model-routing block)")
    where = str(start) if len(searched) == 1 else f"{searched[0]} and up to {searched[-1]}"
    raise RoutingError(
        str(start),
        None,
        f"no routing file found in {where}; looked for "
        + ", ".join(ROUTING_FILE_CANDIDATES)
        + (f"; {', '.join(tried)}" if tried else "")
        + ". Create .github/model-routing.yml or name the file with --routing-file",
    )


def unused_blocks(found: Path) -> list[str]:
    """Warnings for the other instruction files beside `found` that also carry a routing block: only
    the first in the search order is used, so the others' blocks would be ignored without a word."""
    folder = found.parent.parent if found.parent.name == ".github" else found.parent
    used = next((n for n in ROUTING_FILE_CANDIDATES if folder / n == found), None)
    warnings = []
    for name in (n for n in ROUTING_FILE_CANDIDATES if n.endswith(".md")):
        candidate = folder / name
        if name != used and candidate.is_file() and _has_block(candidate):
            warnings.append(
                f"{name} also carries a model-routing block, which is not used: {used or found.name} comes "
                "first in the search order. Keep the routing in one place"
            )
    return warnings
