"""Read agent settings files safely and parse them with real parsers, keeping each key's line.

Agent files come from the repository under test, so they are untrusted: a file must be a regular
file inside the repository (a symlink that leaves it is refused), at most `MAX_BYTES`, UTF-8 text
without NUL bytes. Every problem is an `AgentFileError` naming the line where one is known.

Parsers: JSON and JSONC through tree-sitter-json (the tree gives each key's line; JSONC comments
and trailing commas are blanked out using the tree, then the standard library decodes the values,
so every value and every error message is exactly JSON's); TOML through tomllib for the values and
tree-sitter-toml for the lines; YAML (front matter, Aider's file) through PyYAML's composer, which
keeps marks and never expands aliases into copies.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from routing_guard.files import FileProblem, read_capped

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

MAX_BYTES = 256 * 1024  # agent settings are a few KiB; anything larger is not one
MAX_FILES_PER_FOLDER = 200  # .claude/agents/*.md and the like
MAX_DEPTH = 64  # deeper keys keep no line of their own (JSON nested thousands deep is hostile)

KeyPath = tuple[str | int, ...]


class AgentFileError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Doc:
    """A parsed file: its data and the line of each key path (1-based)."""

    data: Any
    lines: dict[KeyPath, int]

    def line(self, *path: str | int) -> int:
        """The line of path, else of its nearest ancestor that has one, else 1."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def read_text(root: Path, relative: str) -> str:
    """The text of root/relative, refusing anything that is not a small UTF-8 file inside root."""
    try:
        real = (root / relative).resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise AgentFileError(1, f"cannot be read: {exc}") from None
    if not real.is_relative_to(root.resolve()):
        raise AgentFileError(1, "is a symlink to a file outside the repository; not read")
    try:
        data = read_capped(real, MAX_BYTES)
    except FileProblem as exc:
        raise AgentFileError(1, f"{exc}; not read") from None
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise AgentFileError(line, "contains NUL bytes (a binary file?); not read")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise AgentFileError(data.count(b"\n", 0, exc.start) + 1, "is not UTF-8 text; not read") from None


def existing(root: Path, *candidates: str) -> list[str]:
    """The candidates (relative paths) present under root, in the order given."""
    return [name for name in candidates if (root / name).is_file() or (root / name).is_symlink()]


def folder_files(root: Path, folder: str, suffix: str) -> list[str]:
    """Relative paths of folder/*suffix under root, sorted, at most MAX_FILES_PER_FOLDER."""
    base = root / folder
    if not base.is_dir() or not base.resolve().is_relative_to(root.resolve()):
        return []
    names = sorted(p.name for p in base.iterdir() if p.name.endswith(suffix))
    return [f"{folder}/{name}" for name in names[:MAX_FILES_PER_FOLDER]]


# -- JSON and JSONC -----------------------------------------------------------------------------


@cache
def _parser(kind: str) -> Parser:
    # Imported here: a repository without agent files (and every run's start) never loads them.
    from tree_sitter import Language, Parser

    if kind == "json":
        import tree_sitter_json

        return Parser(Language(tree_sitter_json.language()))
    import tree_sitter_toml

    return Parser(Language(tree_sitter_toml.language()))


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _is_trailing_comma(node: Node) -> bool:
    """A comma right before `}` or `]` (tree-sitter recovers it as an ERROR, or as a `,` followed by
    a zero-width MISSING value)."""
    if node.type not in (",", "ERROR") or (node.text or b"").strip() != b",":
        return False
    following = node.next_sibling
    while following is not None and (following.type == "comment" or following.is_missing):
        following = following.next_sibling
    return following is not None and following.type in ("}", "]")


def parse_json(text: str, *, comments: bool) -> Doc:
    """JSON (comments=False) or JSONC: comments and trailing commas allowed, as OpenCode reads it."""
    source = text.encode()
    tree = _parser("json").parse(source)
    if comments:
        blanked = bytearray(source)
        for node in _walk(tree.root_node):
            if node.type == "comment" or _is_trailing_comma(node):
                for i in range(node.start_byte, node.end_byte):
                    if blanked[i] not in (0x0A, 0x0D):
                        blanked[i] = 0x20
        source = bytes(blanked)
    try:
        data = json.loads(source.decode())
    except json.JSONDecodeError as exc:
        hint = "" if comments else " (this file is plain JSON: no comments or trailing commas)"
        raise AgentFileError(
            exc.lineno, f"is not valid JSON: {exc.msg} at column {exc.colno}{hint}"
        ) from None
    except RecursionError:
        raise AgentFileError(1, "is nested too deeply to be a settings file; not read") from None
    lines: dict[KeyPath, int] = {}
    _json_lines(tree.root_node, (), lines)
    return Doc(data, lines)


def _json_lines(node: Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    """Record the line of every key (and array item) under node, a document, object or array."""
    if len(path) > MAX_DEPTH:
        return
    if node.type == "document":
        for child in node.named_children:
            _json_lines(child, path, lines)
    elif node.type == "object":
        for pair in node.named_children:
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if pair.type != "pair" or key is None:
                continue
            try:
                name = json.loads(key.text or b"")
            except ValueError:
                continue
            lines[(*path, name)] = key.start_point.row + 1
            if value is not None:
                _json_lines(value, (*path, name), lines)
    elif node.type == "array":
        items = (c for c in node.named_children if c.type not in ("comment", "ERROR") and not c.is_missing)
        for index, item in enumerate(items):
            lines[(*path, index)] = item.start_point.row + 1
            _json_lines(item, (*path, index), lines)


# -- TOML ---------------------------------------------------------------------------------------

_TOML_ERROR_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def parse_toml(text: str) -> Doc:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_ERROR_LINE.search(message)
        line = int(found.group(1)) if found else 1
        raise AgentFileError(
            line, f"is not valid TOML: {_TOML_ERROR_LINE.sub('', message).strip()}"
        ) from None
    except RecursionError:
        raise AgentFileError(1, "is nested too deeply to be a settings file; not read") from None
    lines: dict[KeyPath, int] = {}
    tree = _parser("toml").parse(text.encode())
    for node in tree.root_node.named_children:
        if node.type == "pair":
            _toml_pair(node, (), lines)
        elif node.type == "table":
            header = next((c for c in node.named_children if c.type in _TOML_KEYS), None)
            prefix = _toml_key(header) if header is not None else None
            if prefix is None:
                continue
            for end in range(1, len(prefix) + 1):  # [a.b] also opens a (for a's line)
                lines.setdefault(prefix[:end], node.start_point.row + 1)
            for pair in node.named_children:
                if pair.type == "pair":
                    _toml_pair(pair, prefix, lines)
    return Doc(data, lines)


_TOML_KEYS = ("bare_key", "quoted_key", "dotted_key")


def _toml_key(node: Node) -> tuple[str, ...] | None:
    """A key's path, decoded by tomllib itself (quoting and escapes exactly as TOML means them)."""
    try:
        nested: Any = tomllib.loads((node.text or b"").decode() + " = 0")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    path: list[str] = []
    while isinstance(nested, dict) and len(nested) == 1:
        name, nested = next(iter(nested.items()))
        path.append(name)
    return tuple(path)


def _toml_pair(pair: Node, prefix: tuple[str, ...], lines: dict[KeyPath, int]) -> None:
    key = next((c for c in pair.named_children if c.type in _TOML_KEYS), None)
    path = _toml_key(key) if key is not None else None
    if path is not None:
        lines[(*prefix, *path)] = pair.start_point.row + 1


# -- YAML: front matter and whole files -----------------------------------------------------------


def parse_yaml_mapping(text: str, first_line: int = 1) -> Doc:
    """A YAML mapping's top-level scalar values and their lines; first_line is the text's line in its file."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Doc({}, {})
        if not isinstance(node, MappingNode):
            raise AgentFileError(
                first_line + node.start_mark.line, "is not a YAML mapping (key: value lines)"
            )
        data: dict[str, Any] = {}
        lines: dict[KeyPath, int] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                continue
            name = str(key.value)
            lines[(name,)] = first_line + key.start_mark.line
            # Only scalars (and lists of scalars) are read: no alias is expanded into a copy.
            if isinstance(value, ScalarNode):
                data[name] = loader.construct_object(value)
            elif isinstance(value, yaml.SequenceNode):
                data[name] = [loader.construct_object(v) for v in value.value if isinstance(v, ScalarNode)]
        return Doc(data, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        raise AgentFileError(line, f"is not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise AgentFileError(first_line, f"is not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def parse_front_matter(text: str) -> Doc:
    """The YAML front matter of a Markdown file (between `---` lines at its top); empty if none."""
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != "---":
        return Doc({}, {})
    for end, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            body = lines[1:end]
            try:
                return parse_yaml_mapping("\n".join(body), first_line=2)
            except AgentFileError:
                return _plain_front_matter(body)
    raise AgentFileError(1, "front matter opened with --- is never closed")


_PLAIN_KEY = re.compile(r"([A-Za-z_][\w-]*):(?:\s+(.*))?$")


def _plain_front_matter(body: list[str]) -> Doc:
    """Front matter that is not valid YAML, read as Claude Code reads it: top-level `key: value` lines.

    Claude Code 2.1.328 honoured `model: haiku` under `description: Replies pong (model: haiku)`,
    which YAML refuses (a second `: ` in a plain scalar).
    """
    data: dict[str, Any] = {}
    lines: dict[KeyPath, int] = {}
    for number, line in enumerate(body, start=2):
        match = _PLAIN_KEY.match(line)
        if match:
            value = (match.group(2) or "").strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            data[match.group(1)] = value
            lines[(match.group(1),)] = number
    return Doc(data, lines)
