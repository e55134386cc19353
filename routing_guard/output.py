"""The output edge: every line routing-guard prints and every file it writes passes through here.

One `Output` per run holds the run's `Redactor`: text is scrubbed of the secrets here, at the edge,
whatever renderer made it, and each printed line is neutralised so no workflow command can start
in it. Gateway text was already scrubbed where it entered (`check.py`); this is the second line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from routing_guard.escape import neutralise_line
from routing_guard.redact import Redactor


class Output:
    """Scrubbed, neutralised stdout and stderr, and scrubbed files, for one run."""

    def __init__(self, redactor: Redactor, *, merge_err: bool = False, root: Path | None = None) -> None:
        self.redactor = redactor
        self.merge_err = merge_err  # stderr's lines go to stdout (the action's log is one stream)
        # The action's workspace: every file is written inside it, following no symlink (files.py).
        self.root = root

    def print(self, text: str, *, err: bool = False) -> None:
        # The streams are looked up at each call: a caller (or a test) may have replaced them.
        stream = sys.stderr if err and not self.merge_err else sys.stdout
        for line in self.redactor.scrub(text).splitlines() or [""]:
            stream.write(neutralise_line(line) + "\n")
        stream.flush()

    @property
    def stdout(self) -> TextIO:
        """The stream `print` writes to (a terminal or not: the table's look depends on it)."""
        return sys.stdout

    @property
    def stderr(self) -> TextIO:
        """Where `print(..., err=True)` writes: progress lines go there too."""
        return sys.stdout if self.merge_err else sys.stderr

    def prepare(self, path: Path) -> None:
        """Fail on a place that cannot be written before any request goes out (FileProblem or
        OSError); creates the missing folders."""
        if self.root is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            return
        from routing_guard.files import open_in

        os.close(open_in(self.root, self._inside(path), append=True))

    def write(self, path: Path, text: str) -> None:
        if self.root is None:
            path.write_text(self.redactor.scrub(text), encoding="utf-8")
            return
        from routing_guard.files import write_in

        write_in(self.root, self._inside(path), self.redactor.scrub(text))

    def _inside(self, path: Path) -> str:
        assert self.root is not None
        return (
            str(path.relative_to(self.root))
            if path.is_absolute() and path.is_relative_to(self.root)
            else str(path)
        )

    def append_summary(self, path: str | Path, markdown: str) -> bool:
        from routing_guard.report import append_summary

        return append_summary(path, self.redactor.scrub(markdown))
