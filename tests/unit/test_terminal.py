"""Colour and width of the terminal output: NO_COLOR / FORCE_COLOR, wrapping instead of cutting."""

from __future__ import annotations

import io
import os
import pty

import pytest

from routing_guard.terminal import GREEN, RED, Look, look_for, paint, table, wrapped

HEADER = ["route", "verdict", "notes"]
ROWS = [
    [
        "code-generation",
        "pass",
        "accepted: dated snapshot of claude-sonnet-4-5; served by anthropic/claude-sonnet-4-5",
    ],
    ["ci-triage", "fallback_detected", "x-litellm-attempted-fallbacks: 1; served by openai/gpt-4o-mini"],
]


@pytest.fixture
def tty() -> io.TextIOWrapper:
    leader, follower = pty.openpty()
    stream = os.fdopen(follower, "w")
    yield stream  # type: ignore[misc]
    stream.close()
    os.close(leader)


def test_colour_on_a_terminal_unless_no_color(tty: io.TextIOWrapper) -> None:
    assert look_for(tty, {"TERM": "xterm"}).colour
    assert not look_for(tty, {"TERM": "xterm", "NO_COLOR": "1"}).colour
    assert not look_for(tty, {"TERM": "dumb"}).colour
    assert look_for(tty, {"TERM": "xterm"}).width is not None


def test_no_colour_in_a_pipe_unless_forced() -> None:
    pipe = io.StringIO()
    assert look_for(pipe, {}) == Look(colour=False, width=None)
    assert look_for(pipe, {"FORCE_COLOR": "1"}).colour
    assert not look_for(pipe, {"FORCE_COLOR": "0"}).colour
    assert not look_for(pipe, {"FORCE_COLOR": "1", "NO_COLOR": "1"}).colour


def test_without_a_width_every_note_is_whole() -> None:
    lines = table(HEADER, ROWS, Look()).lines
    assert lines[1].endswith(ROWS[0][2]) and lines[2].endswith(ROWS[1][2])
    assert len(lines) == 3


def test_on_a_narrow_terminal_the_notes_wrap_under_their_column() -> None:
    result = table(HEADER, ROWS, Look(width=80))
    assert all(len(line) < 80 for line in result.lines)
    start = result.lines[0].index("notes")
    joined = " ".join(line[start:] for line in result.lines[1:4])
    assert ROWS[0][2] in joined  # nothing cut: the whole note, over several lines
    assert result.lines[2].startswith(" " * start)


def test_on_a_very_narrow_terminal_the_notes_go_below() -> None:
    result = table(HEADER, ROWS, Look(width=40))
    assert result.lines[0].split() == ["route", "verdict"]
    assert result.below == [(ROWS[0][0], ROWS[0][2]), (ROWS[1][0], ROWS[1][2])]


def test_colour_does_not_break_the_alignment() -> None:
    plain = table(HEADER, ROWS, Look()).lines
    coloured = table(HEADER, ROWS, Look(colour=True), colours=[{1: GREEN}, {1: RED}]).lines
    assert "\x1b[32mpass" in coloured[1] and "\x1b[31mfallback_detected" in coloured[2]
    strip = [
        line.replace("\x1b[32m", "").replace("\x1b[31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "")
        for line in coloured
    ]
    assert strip == plain


def test_paint_and_wrapped() -> None:
    assert paint("pass", GREEN, Look()) == "pass"
    assert paint("pass", GREEN, Look(colour=True)) == "\x1b[32mpass\x1b[0m"
    text = "to fix (ci-triage): " + "check the primary deployment " * 5
    assert wrapped(text, Look()) == [text]
    lines = wrapped(text, Look(width=50))
    assert all(len(line) < 50 for line in lines) and lines[1].startswith("  ")
