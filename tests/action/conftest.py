"""Fixtures of the action tests: a clean runner environment and a pull request's clone."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routing_guard import cli
from routing_guard.credentials import GATEWAY_KEY_ENV
from tests.support.action_harness import Action, git


@pytest.fixture
def action(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Action]:
    workspace, files = tmp_path / "workspace", tmp_path / "file_commands"
    workspace.mkdir()
    files.mkdir()
    for name in list(os.environ):
        if name.startswith(("INPUT_", "GITHUB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv(cli.KEY_ENV, "")  # restored after the test, whatever the entrypoint sets
    monkeypatch.setenv(GATEWAY_KEY_ENV, "")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.setenv("GITHUB_OUTPUT", str(files / "set_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files / "step_summary"))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    monkeypatch.chdir(workspace)
    yield Action(workspace, files, monkeypatch)


@pytest.fixture
def pull_request(
    action: Action, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], Path]:
    """A clone whose origin/main has `base` as its routing file; the working tree has `head`."""

    def make(base: str, head: str) -> Path:
        upstream = tmp_path / "upstream"
        upstream.mkdir()
        git(upstream, "init", "--quiet", "--initial-branch=main")
        (upstream / ".github").mkdir()
        (upstream / ".github/model-routing.yml").write_text(base)
        git(upstream, "add", ".")
        git(upstream, "commit", "--quiet", "-m", "base")
        action.workspace.rmdir()
        git(tmp_path, "clone", "--quiet", str(upstream), str(action.workspace))
        path = action.workspace / ".github/model-routing.yml"
        path.write_text(head)
        monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
        monkeypatch.setenv("GITHUB_BASE_REF", "main")
        return path

    return make
