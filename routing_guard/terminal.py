"""How the text output fits the reader's terminal: colour and width.

Colour only where a person reads it: a terminal (not `TERM=dumb`), unless `NO_COLOR` is set (any
value, https://no-color.org), or anywhere when `FORCE_COLOR` is set (and not `0`/`false`), as CI
systems that render ANSI use it. Width: a terminal's width, so the last column (the notes) wraps
instead of being cut; a pipe or a CI log gets every line whole. The cells given here are already
safe to print (redact.terminal_text); the escape sequences this module adds are its own.
Design notes: docs/first-steps.md.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

GREEN, RED, YELLOW, BOLD, DIM = "32", "31", "33", "1", "2"
MIN_WRAPPED = 28  # a last column narrower than this goes below the table instead


@dataclass(frozen=True)
class Look:
    colour: bool = False
    width: int | None = None  # None: lines are never wrapped


def _set(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no")


def look_for(stream: TextIO, environ: Mapping[str, str] | None = None) -> Look:
    environ = os.environ if environ is None else environ
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if environ.get("NO_COLOR"):
        colour = False
    elif _set(environ.get("FORCE_COLOR")):
        colour = True
    else:
        colour = tty and environ.get("TERM") != "dumb"
    width = shutil.get_terminal_size().columns if tty else None
    return Look(colour=colour, width=width)


def paint(text: str, code: str | None, look: Look) -> str:
    if not look.colour or not code or not text:
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


@dataclass(frozen=True)
class Table:
    lines: list[str]
    below: list[tuple[str, str]]  # (first cell, last cell) of each row whose last column did not fit


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    look: Look,
    *,
    colours: Sequence[Mapping[int, str]] = (),
) -> Table:
    """Columns padded to their widest cell. The last column (the notes) is written whole when it fits
    or nothing limits the width, wrapped when the terminal leaves it MIN_WRAPPED characters, else
    left out of the table and returned in `below`. `colours[i]` maps row i's columns to a colour."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    start = sum(widths) + 2 * len(widths)  # where the last column begins
    longest = max(len(row[-1]) for row in [header, *rows])
    room = None if look.width is None else look.width - 1 - start
    if room is None or longest <= room:
        mode = "whole"
    elif room >= MIN_WRAPPED:
        mode = "wrap"
    else:
        mode = "below"
    lines: list[str] = []
    for number, row in enumerate([header, *rows]):
        paints: Mapping[int, str] = {}
        if number and number - 1 < len(colours):
            paints = colours[number - 1]
        left = "  ".join(
            paint(cell.ljust(width), paints.get(i) if number else BOLD, look)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        )
        if mode == "below":
            lines.append(left.rstrip())
            continue
        last = row[-1]
        parts = [last] if mode == "whole" else textwrap.wrap(last, room or 1, break_on_hyphens=False) or [""]
        colour = paints.get(len(widths)) if number else BOLD
        lines.append(f"{left}  {paint(parts[0], colour, look)}".rstrip())
        lines += [" " * start + part for part in parts[1:]]
    below = [(row[0], row[-1]) for row in rows if row[-1]] if mode == "below" else []
    return Table(lines=lines, below=below)


def wrapped(text: str, look: Look, *, indent: str = "  ") -> list[str]:
    """A paragraph wrapped to the terminal (continuation lines indented); whole when not a terminal."""
    if look.width is None or len(text) <= look.width - 1:
        return [text]
    return textwrap.wrap(text, look.width - 1, subsequent_indent=indent, break_on_hyphens=False) or [text]
