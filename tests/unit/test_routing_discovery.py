"""Finding the routing file from a subfolder (up to the repository root), and saying when another
instruction file's routing block is not the one used."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from routing_guard.routing import RoutingError, find_routing_file, repository_root, unused_blocks

BLOCK = "# Agents\n\n```yaml model-routing\nversion: 1\ngateway: {base_url: 'https://gw.example.com/v1'}\nroutes:\n  docs: {model: gpt-4o-mini}\n```\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    return root


def test_from_a_subfolder_the_search_walks_up_to_the_repository_root(repo: Path) -> None:
    (repo / ".github").mkdir()
    (repo / ".github" / "model-routing.yml").write_text("version: 1\n", encoding="utf-8")
    assert repository_root(repo / "src" / "deep") == repo
    assert find_routing_file(repo / "src" / "deep") == repo / ".github" / "model-routing.yml"


def test_a_nearer_routing_file_wins(repo: Path) -> None:
    (repo / "model-routing.yml").write_text("version: 1\n", encoding="utf-8")
    (repo / "src" / "model-routing.yml").write_text("version: 1\n", encoding="utf-8")
    assert find_routing_file(repo / "src" / "deep") == repo / "src" / "model-routing.yml"


def test_the_search_stops_at_the_repository_root(repo: Path) -> None:
    (repo.parent / "model-routing.yml").write_text("version: 1\n", encoding="utf-8")  # outside the repo
    with pytest.raises(RoutingError) as caught:
        find_routing_file(repo / "src")
    assert f"in {repo / 'src'} and up to {repo}" in caught.value.message


def test_outside_a_repository_only_the_folder_itself_is_searched(tmp_path: Path) -> None:
    (tmp_path / "model-routing.yml").write_text("version: 1\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert repository_root(tmp_path / "sub") is None or repository_root(tmp_path / "sub") != tmp_path
    with pytest.raises(RoutingError):
        find_routing_file(tmp_path / "sub")


def test_a_second_instruction_file_with_a_block_is_warned_about(repo: Path) -> None:
    (repo / "AGENTS.md").write_text(BLOCK, encoding="utf-8")
    (repo / "CLAUDE.md").write_text(BLOCK, encoding="utf-8")
    (repo / ".github").mkdir()
    (repo / ".github" / "copilot-instructions.md").write_text("# no block here\n", encoding="utf-8")
    found = find_routing_file(repo)
    assert found == repo / "AGENTS.md"
    assert unused_blocks(found) == [
        "CLAUDE.md also carries a model-routing block, which is not used: AGENTS.md comes first in the "
        "search order. Keep the routing in one place"
    ]


def test_a_block_shadowed_by_a_routing_file_is_warned_about_too(repo: Path) -> None:
    (repo / "model-routing.yml").write_text("version: 1\n", encoding="utf-8")
    (repo / "CLAUDE.md").write_text(BLOCK, encoding="utf-8")
    [warning] = unused_blocks(find_routing_file(repo))
    assert warning.startswith(
        "CLAUDE.md also carries a model-routing block, which is not used: model-routing.yml"
    )


def test_one_block_no_warning(repo: Path) -> None:
    (repo / "AGENTS.md").write_text(BLOCK, encoding="utf-8")
    (repo / "CLAUDE.md").write_text("# Claude\n", encoding="utf-8")
    assert unused_blocks(find_routing_file(repo)) == []


def test_every_validation_problem_is_listed_with_its_line() -> None:
    from routing_guard.routing import load_routing
    from tests.support.checkout import REPO_ROOT

    path = REPO_ROOT / "tests" / "routing_files" / "bad" / "several-errors.yml"
    with pytest.raises(RoutingError) as caught:
        load_routing(path, "several-errors.yml")
    lines = str(caught.value).splitlines()
    assert [line.split(":", 2)[1] for line in lines] == ["7", "6", "10"]
    assert "unknown field 'modle'" in lines[0]
    assert "'model' is required" in lines[1] or "model" in lines[1]
    assert "strict" in lines[2] and "maybe" in lines[2]
    assert caught.value.line == 7 and len(caught.value.problems) == 3
