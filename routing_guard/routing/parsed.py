"""What every reader fills in: the parsed data, a line for each value's path, and RoutingError.

A path is the chain of keys and indexes to a value (("routes", "x", "strict")); the map lets the
schema and semantic checks point at the offending line whichever format the file was written in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

JsonPath = tuple[str | int, ...]


class RoutingError(Exception):
    """A routing file that cannot be used, with the file, the line (if known) and what to change.

    `line` and `message` are the first problem; `problems` lists every problem found, that one first,
    and the text form shows them all, one per line."""

    def __init__(
        self, path: str, line: int | None, message: str, more: list[tuple[int | None, str]] | None = None
    ) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message
        self.problems: list[tuple[int | None, str]] = [(line, message), *(more or [])]

    def _where(self, line: int | None) -> str:
        return self.path if line is None else f"{self.path}:{line}"

    def __str__(self) -> str:
        return "\n".join(f"{self._where(line)}: {message}" for line, message in self.problems)


@dataclass
class Parsed:
    """One file being read: its display name, the data so far, and the line of each value's path."""

    display: str
    data: Any = None
    lines: dict[JsonPath, int] = field(default_factory=dict)

    def line(self, path: JsonPath) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def fail(self, line: int | None, message: str) -> NoReturn:
        raise RoutingError(self.display, line, message)


def dotted(path: JsonPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)
