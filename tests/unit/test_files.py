"""Writing inside a workspace with real symlinks, FIFOs and folders planted by a pull request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routing_guard.files import FileProblem, inside, read_capped, write_in


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path / "ws"


def test_writes_and_appends_inside_creating_folders(workspace: Path) -> None:
    write_in(workspace, "logs/deep/run.jsonl", "one\n")
    write_in(workspace, "logs/deep/run.jsonl", "two\n", append=True)
    assert (workspace / "logs/deep/run.jsonl").read_text() == "one\ntwo\n"
    write_in(workspace, "logs/deep/run.jsonl", "new\n")
    assert (workspace / "logs/deep/run.jsonl").read_text() == "new\n"


@pytest.mark.parametrize("relative", ["/etc/x", "../outside/x", "a/../../outside/x", "", "."])
def test_paths_that_leave_the_workspace_are_refused(workspace: Path, relative: str) -> None:
    with pytest.raises(FileProblem, match="not a path inside the workspace"):
        write_in(workspace, relative, "x")


def test_a_symlinked_file_is_never_written_through(workspace: Path) -> None:
    target = workspace.parent / "outside" / "event.json"
    target.write_text("original")
    (workspace / "routing.jsonl").symlink_to(target)
    with pytest.raises(FileProblem, match=r"routing\.jsonl: cannot be written"):
        write_in(workspace, "routing.jsonl", "pwned")
    with pytest.raises(FileProblem):
        write_in(workspace, "routing.jsonl", "pwned", append=True)
    assert target.read_text() == "original"


def test_a_symlinked_folder_is_never_written_through(workspace: Path) -> None:
    (workspace / "logs").symlink_to(workspace.parent / "outside")
    with pytest.raises(FileProblem, match="logs is a symlink or not a folder"):
        write_in(workspace, "logs/routing.jsonl", "pwned")
    assert list((workspace.parent / "outside").iterdir()) == []


def test_a_fifo_is_neither_written_nor_waited_on(workspace: Path) -> None:
    os.mkfifo(workspace / "pipe")
    with pytest.raises(FileProblem, match="pipe: cannot be written"):
        write_in(workspace, "pipe", "x")
    with pytest.raises(FileProblem, match="not a regular file"):
        read_capped(workspace / "pipe", 100)


def test_read_capped_refuses_large_files_and_proc_fds(workspace: Path) -> None:
    (workspace / "big").write_bytes(b"x" * 101)
    with pytest.raises(FileProblem, match="larger than"):
        read_capped(workspace / "big", 100)
    assert read_capped(workspace / "big", 101) == b"x" * 101
    reader, writer = os.pipe()  # what /proc/self/fd/1 is in a workflow step: a pipe nobody closes
    try:
        (workspace / "stdout").symlink_to(f"/proc/self/fd/{reader}")
        with pytest.raises(FileProblem, match="not a regular file"):
            read_capped(workspace / "stdout", 100)
    finally:
        os.close(reader)
        os.close(writer)


def test_inside_resolves_symlinks(workspace: Path) -> None:
    (workspace / "out").symlink_to(workspace.parent / "outside")
    (workspace / "in").mkdir()
    assert inside(workspace, "in/x.yml") and not inside(workspace, "out/x.yml")
    assert not inside(workspace, "../outside/x.yml")
