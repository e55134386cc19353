"""`routing-guard init`'s scaffold: six task classes from the listing, the agents' routes, always valid."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from routing_guard.agents import ProposedRoute
from routing_guard.routing import load_routing_text
from routing_guard.scaffold import (
    PLACEHOLDER_MODEL,
    TASK_CLASSES,
    OutputExists,
    build_scaffold,
    chat_models,
    pick,
    write_new,
)

LISTED = [
    "text-embedding-3-small",
    "gpt-4o",
    "gpt-4o-mini",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "whisper-1",
]
TODAY = dt.date(2026, 12, 1)


def test_large_models_for_code_tasks_small_ones_for_quick_tasks() -> None:
    ids = chat_models(LISTED)
    assert ids == ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "claude-haiku-4-5"]
    assert pick(ids, "large") == "gpt-4o"
    assert pick(ids, "small") == "gpt-4o-mini"
    assert pick(["gpt-4o"], "small") == "gpt-4o"  # nothing small listed: the other size
    assert pick([], "large") is None


def test_the_scaffold_validates_and_routes_every_task_class() -> None:
    scaffold = build_scaffold(
        base_url="https://gw.example.com/v1", listed=LISTED, listing_problem=None, proposals=[],
        source="https://gw.example.com/v1/models", today=TODAY,
    )  # fmt: skip
    config = load_routing_text(scaffold.text, "model-routing.yml")
    models = {r.name: r.model for r in config.routes}
    assert list(models) == list(TASK_CLASSES)
    assert models["code-generation"] == "gpt-4o" and models["commit-message"] == "gpt-4o-mini"
    assert config.gateway.base_url == "https://gw.example.com/v1"
    assert '"claude-haiku-4-5"' in scaffold.text  # the listing is shown for the user's choice
    assert "whisper-1" not in scaffold.text


def test_agent_settings_add_their_routes() -> None:
    proposals = [ProposedRoute("claude-code-main", "claude-sonnet-4-5", (".claude/settings.json:2 model",))]
    scaffold = build_scaffold(
        base_url=None, listed=None, listing_problem="no --gateway-url", proposals=proposals,
        source="the repository's agent settings", today=TODAY,
    )  # fmt: skip
    config = load_routing_text(scaffold.text, "model-routing.yml")
    models = {r.name: r.model for r in config.routes}
    assert models["claude-code-main"] == "claude-sonnet-4-5"
    assert models["code-generation"] == "claude-sonnet-4-5"  # no listing: the agents' model
    assert "# from .claude/settings.json:2 model" in scaffold.text
    assert "gateway.example.com" in scaffold.text and "no --gateway-url" in scaffold.text


def test_hostile_ids_stay_strings_and_cannot_break_out_of_a_comment() -> None:
    hostile = ['gpt-4o"\nroutes: {}\n#', "x: y\n  evil:\n    model: z", "'quoted'"]
    scaffold = build_scaffold(
        base_url="https://gw.example.com/v1", listed=hostile, listing_problem="bad\nversion: 2",
        proposals=[], source="test", today=TODAY,
    )  # fmt: skip
    config = load_routing_text(scaffold.text, "model-routing.yml")
    assert [r.name for r in config.routes] == list(TASK_CLASSES)
    assert {r.model for r in config.routes} <= set(hostile)
    assert all(
        line.startswith(("#", " ", "version", "gateway", "routes")) for line in scaffold.text.splitlines()
    )


def test_no_listing_and_no_agents_gives_placeholders_that_still_validate() -> None:
    scaffold = build_scaffold(
        base_url=None, listed=None, listing_problem=None, proposals=[], source="x", today=TODAY
    )
    config = load_routing_text(scaffold.text, "model-routing.yml")
    assert {r.model for r in config.routes} == {PLACEHOLDER_MODEL}


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / ".github" / "model-routing.yml"
    write_new(target, "first\n")
    with pytest.raises(OutputExists, match="never overwrites"):
        write_new(target, "second\n")
    assert target.read_text() == "first\n"
    link = tmp_path / "link.yml"
    link.symlink_to(tmp_path / "elsewhere.yml")  # a dangling symlink is not followed into a new file
    with pytest.raises(OutputExists):
        write_new(link, "x\n")
    assert not (tmp_path / "elsewhere.yml").exists()
