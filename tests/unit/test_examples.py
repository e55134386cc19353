"""The routing files the documentation shows are valid: the README's and everything in examples/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routing_guard.routing import load_routing, load_routing_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").iterdir()
    if p.suffix in (".yml", ".yaml", ".json", ".md") and not p.name.endswith(".lock.json")
)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_routing_files_are_valid(path: Path) -> None:
    config = load_routing(path)
    assert config.routes


def test_the_readme_routing_file_is_valid() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.startswith("version: 1")]
    assert blocks, "the README shows a routing file"
    config = load_routing_text(blocks[0], "README.md example.yml")
    assert {"code-generation", "heavy-alias", "claude-code-review"} <= {r.name for r in config.routes}
    assert {r.api for r in config.routes} == {"openai-chat", "openai-responses", "anthropic-messages"}


def test_the_fleet_example_covers_every_protocol() -> None:
    config = load_routing(ROOT / "examples" / "model-routing.yml")
    assert {r.api for r in config.routes} == {"openai-chat", "openai-responses", "anthropic-messages"}
