"""The Markdown reader: the one fenced block marked `yaml model-routing`, read as YAML at its own lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing_guard.routing.parsed import Parsed
from routing_guard.routing.yaml_reader import YamlReader

MARKDOWN_INFO_STRINGS = ("yaml model-routing", "model-routing")


@dataclass
class Block:
    start: int  # line of the opening fence
    closed: bool
    content: list[str]


_OPENING_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_CLOSING_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")


def markdown_blocks(text: str) -> list[Block]:
    """Every fenced block whose info string marks it as the routing; other fenced blocks are skipped."""
    blocks: list[Block] = []
    fence: tuple[str, int, int] | None = None  # character, length, indent
    block: Block | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if fence is None:
            match = _OPENING_FENCE.fullmatch(line)
            if match is None or (match[2][0] == "`" and "`" in match[3]):
                continue
            fence = (match[2][0], len(match[2]), len(match[1]))
            if " ".join(match[3].split()) in MARKDOWN_INFO_STRINGS:
                block = Block(number, False, [])
                blocks.append(block)
            continue
        closing = _CLOSING_FENCE.fullmatch(line)
        if closing and closing[1][0] == fence[0] and len(closing[1]) >= fence[1]:
            if block:
                block.closed = True
            fence, block = None, None
        elif block:
            indent = len(line) - len(line.lstrip(" "))
            block.content.append(line[min(indent, fence[2]) :])
    return blocks


def read_markdown(text: str, parsed: Parsed) -> None:
    blocks = markdown_blocks(text)
    if not blocks:
        parsed.fail(
            None,
            "has no model-routing block; add one fenced code block whose info string is "
            "`yaml model-routing` (or `model-routing`)",
        )
    if len(blocks) > 1:
        starts = ", ".join(str(block.start) for block in blocks)
        parsed.fail(
            blocks[1].start, f"has {len(blocks)} model-routing blocks (on lines {starts}); keep exactly one"
        )
    block = blocks[0]
    if not block.closed:
        parsed.fail(block.start, "the model-routing block opened here is never closed; add the closing fence")
    content = "\n".join(block.content)
    if not content.strip():
        parsed.fail(block.start, "the model-routing block is empty")
    YamlReader(content, parsed, block.start).read()
