"""A routing file is read as a regular file with a size cap: a committed symlink to a FIFO, a pipe
(what /proc/self/fd/1 is in a workflow step) or a file that fails with an I/O error ends quickly
with an error naming the file, in validate mode, with no key. Driven through the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fault_servers import run_cli

VALID = "version: 1\ngateway:\n  base_url: https://gateway.example.com/v1\nroutes:\n  code-generation:\n    model: gpt-4o\n"


@pytest.fixture
def pipe() -> Iterator[int]:
    reader, writer = os.pipe()  # kept open: a reader of it would wait for ever
    yield reader
    os.close(reader)
    os.close(writer)


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTING_GUARD_API_KEY", raising=False)


@pytest.mark.timeout(30)
def test_a_symlink_to_a_fifo_or_a_pipe_is_refused_at_once(tmp_path: Path, pipe: int) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "fifo-routing.yml").symlink_to(tmp_path / "fifo")
    (tmp_path / "stdout-routing.yml").symlink_to(f"/proc/self/fd/{pipe}")
    for name in ("fifo-routing.yml", "stdout-routing.yml"):
        for command in ("validate", "check"):
            run = run_cli(tmp_path, [command, "--routing-file", str(tmp_path / name)])
            assert run.code == 2, (run.out, run.err)
            assert f"{name}: is not a regular file" in run.err
            assert run.elapsed < 10


@pytest.mark.timeout(30)
def test_auto_detected_markdown_candidates_are_capped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "AGENTS.md").symlink_to("/proc/self/mem")  # a regular file whose read fails (EIO)
    run = run_cli(tmp_path, ["validate"])
    assert run.code == 2 and "AGENTS.md: cannot be read" in run.err, run.err
    (tmp_path / "AGENTS.md").unlink()
    (tmp_path / "AGENTS.md").write_text("# Agents\n" + "x" * (2 * 1024 * 1024))
    run = run_cli(tmp_path, ["validate"])
    assert run.code == 2 and "AGENTS.md: is larger than 1 MiB" in run.err, run.err
    (tmp_path / "AGENTS.md").write_text("# Agents\n\n```yaml model-routing\n" + VALID + "```\n")
    assert run_cli(tmp_path, ["validate"]).code == 0
