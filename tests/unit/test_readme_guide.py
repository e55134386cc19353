"""Every routing file the README shows validates, the agents guide's included."""

from __future__ import annotations

import re

from routing_guard.routing import load_routing_text
from tests.support.checkout import REPO_ROOT


def readme_routing_files() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"^```yaml\n(.*?)^```", readme, re.S | re.M) if b.startswith("version: 1")]


def test_every_routing_file_in_the_readme_is_valid() -> None:
    blocks = readme_routing_files()
    assert len(blocks) >= 2
    for number, block in enumerate(blocks, 1):
        assert load_routing_text(block, f"README.md block {number}.yml").routes


def test_the_agents_guide_routes_each_agent_with_its_protocol() -> None:
    guide = next(b for b in readme_routing_files() if "claude-code-main" in b)
    routes = {r.name: r for r in load_routing_text(guide, "guide.yml").routes}
    assert routes["claude-code-main"].api == "anthropic-messages" and routes["claude-code-main"].stream
    assert routes["codex-main"].api == "openai-responses" and routes["codex-main"].stream
    assert routes["opencode-main"].api == "openai-chat" and routes["opencode-main"].stream
