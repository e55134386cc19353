"""Read a routing file (YAML, JSON, or one fenced block in a Markdown file) into a RoutingConfig.

Every problem is a RoutingError that names the file, the line and what to change. Parsing keeps a
map from each value's path (("routes", "x", "strict")) to its line, so schema errors can point at
the offending line too.

YAML rules beyond the YAML spec, chosen so a routing file means exactly what it shows:
- duplicate keys are errors at every level (also keys repeated through an alias);
- booleans are only true/false (YAML 1.2): `yes`, `no`, `on`, `off` and dates stay strings;
- merge keys (`<<: *base`) work inside a route, gateway, defaults, headers and request bodies,
  where keys written out win over merged ones, but are refused at the top level and directly
  inside `routes`, so a route name can never be brought in or overwritten unseen;
- only plain YAML types (strings, numbers, true/false, null, lists, mappings); no custom tags.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError, best_match, by_relevance  # type: ignore[import-untyped, unused-ignore]
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routing_guard.config import Gateway, Route, RoutingConfig
from routing_guard.sendable import gateway_problems, url_problem

MAX_BYTES = 1024 * 1024
# Aliases can expand a small file into a huge tree ("billion laughs"); a routing file is small.
MAX_VALUES = 100_000

ROUTING_FILE_CANDIDATES: tuple[str, ...] = (
    ".github/model-routing.yml",
    ".github/model-routing.yaml",
    "model-routing.yml",
    "model-routing.yaml",
    "model-routing.json",
    "AGENTS.md",
    "CLAUDE.md",
    ".github/copilot-instructions.md",
)

MARKDOWN_INFO_STRINGS = ("yaml model-routing", "model-routing")
ROUTE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_ROUTE_NAME_RULE = "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"

JsonPath = tuple[str | int, ...]


class RoutingError(Exception):
    """A routing file that cannot be used, with the file, the line (if known) and what to change."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


def find_routing_file(root: Path) -> Path:
    """The first routing-file candidate under root; a Markdown file counts only with a routing block."""
    tried = []
    for name in ROUTING_FILE_CANDIDATES:
        candidate = root / name
        if not candidate.is_file():
            tried.append(name)
        elif not name.endswith(".md") or _markdown_blocks(candidate.read_bytes().decode("utf-8", "replace")):
            return candidate
        else:
            tried.append(f"{name} (present, but without a model-routing block)")
    raise RoutingError(
        str(root),
        None,
        "no routing file found; looked for " + ", ".join(tried) + ". Create .github/model-routing.yml "
        "or name the file with --routing-file",
    )


def load_routing(path: Path, display_path: str | None = None) -> RoutingConfig:
    """Read and validate a routing file; messages and RoutingConfig.source show display_path."""
    display = str(path) if display_path is None else display_path
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise RoutingError(display, None, "file not found") from None
    except IsADirectoryError:
        raise RoutingError(display, None, "is a directory, not a routing file") from None
    except OSError as exc:
        raise RoutingError(display, None, f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise RoutingError(display, None, _too_big())
    if b"\x00" in data:
        raise RoutingError(display, data.count(b"\n", 0, data.index(b"\x00")) + 1, _has_nul())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RoutingError(display, line, "is not UTF-8 text (a binary file?); save it as UTF-8") from None
    return _load(text, display, _kind(path.name))


def load_routing_text(text: str, display_path: str) -> RoutingConfig:
    """Validate routing text read some other way (e.g. from git); the format follows display_path's suffix."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise RoutingError(display_path, None, _too_big())
    if "\x00" in text:
        raise RoutingError(display_path, text.count("\n", 0, text.index("\x00")) + 1, _has_nul())
    return _load(text, display_path, _kind(display_path))


def base_url_problem(url: str, allow_insecure_http: bool = False) -> str | None:
    """What is wrong with a gateway base URL, or None. Never repeats the URL: it may hold a secret."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "is not a valid URL; write it as https://HOST[:PORT]/PATH"
    if parts.scheme.lower() not in ("http", "https"):
        return (
            "must be an https:// URL (http:// is allowed for loopback); write it as https://HOST[:PORT]/PATH"
        )
    if "@" in parts.netloc:
        return (
            "must not contain credentials (user:password@); remove them: the key comes from the "
            "ROUTING_GUARD_API_KEY environment variable"
        )
    if not parts.hostname:
        return "has no host name; write it as https://HOST[:PORT]/PATH"
    if (unsendable := url_problem(parts, url)) is not None:  # before trusting the host as loopback
        return unsendable
    if parts.scheme.lower() == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        return (
            f"plain http:// to {parts.hostname} would send the API key in clear text; use https://, "
            "or set gateway.allow_insecure_http: true if the network is trusted"
        )
    return None


# --- reading the three formats into (data, lines) -------------------------------------------------


@dataclass
class _Parsed:
    display: str
    data: Any = None
    lines: dict[JsonPath, int] = field(default_factory=dict)

    def line(self, path: JsonPath) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def fail(self, line: int | None, message: str) -> NoReturn:
        raise RoutingError(self.display, line, message)


def _kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".md": "markdown", ".json": "json"}.get(suffix, "yaml")


def _too_big() -> str:
    return f"is larger than {MAX_BYTES // 1024 // 1024} MiB; a routing file is a few kilobytes"


def _has_nul() -> str:
    return "contains a NUL byte (is it a binary or UTF-16 file?); save it as UTF-8 text"


def _load(text: str, display: str, kind: str) -> RoutingConfig:
    text = text.removeprefix("\ufeff")
    parsed = _Parsed(display)
    if not text.strip():
        parsed.fail(None, "is empty; a routing file needs version: 1, a gateway and at least one route")
    try:
        if kind == "markdown":
            _read_markdown(text, parsed)
        elif kind == "json":
            _JsonReader(text, parsed).read()
        else:
            _YamlReader(text, parsed, 0).read()
    except RecursionError:
        parsed.fail(None, "is nested too deeply to be a routing file")
    if not isinstance(parsed.data, dict):
        parsed.fail(
            parsed.lines.get(()),
            f"the top level must be a mapping with version, gateway and routes, not {_kind_of(parsed.data)}",
        )
    _validate(parsed)
    return _build(parsed)


class _Alias(Node):
    """One use of an alias: where it was written, and the node it names."""

    def __init__(self, target: Node, mark: yaml.Mark) -> None:
        super().__init__(target.tag, target.value, mark, mark)
        self.target = target


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only); dates and `=` stay strings.

    PyYAML hands back the anchored node itself for an alias, so a key written as `*name` would
    report the anchor's line; wrapping each use keeps the line where the alias was written.
    """

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.current_event.start_mark  # check_event has just read it
            target = super().compose_node(parent, index)
            return _Alias(target, mark) if target is not None else None
        return super().compose_node(parent, index)


_TAG = "tag:yaml.org,2002:"
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in {_TAG + "bool", _TAG + "timestamp", _TAG + "value"}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SCALAR_TAGS = frozenset(_TAG + name for name in ("str", "int", "float", "bool", "null"))


class _YamlReader:
    def __init__(self, text: str, parsed: _Parsed, line_offset: int) -> None:
        self.text = text
        self.parsed = parsed
        self.offset = line_offset
        self.values = 0

    def read(self) -> None:
        try:
            self.loader = _Loader(self.text)  # already checks for unprintable characters
            try:
                root = self.loader.get_single_node()
                if root is None or (
                    isinstance(root, ScalarNode) and root.tag == _TAG + "null" and not root.value
                ):
                    self.parsed.fail(None, "has no content (only comments or an empty document)")
                self.parsed.lines[()] = self.line(root)
                self.parsed.data = self.value(root, (), frozenset())
            finally:
                self.loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = f"YAML syntax error: {(exc.problem or exc.context or '').removeprefix('but ')}"
            if exc.problem and exc.context and exc.context_mark:
                message += f" ({exc.context}, line {exc.context_mark.line + 1 + self.offset})"
            self.parsed.fail(mark.line + 1 + self.offset if mark else None, message)
        except yaml.reader.ReaderError as exc:
            line = self.text.count("\n", 0, exc.position) + 1 + self.offset
            self.parsed.fail(line, f"character U+{exc.character:04X} is not allowed in YAML; remove it")

    def line(self, node: Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def value(self, node: Node, path: JsonPath, active: frozenset[int]) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            self.parsed.fail(self.line(node), f"expands to more than {MAX_VALUES} values (through aliases)")
        if isinstance(node, _Alias):
            if id(node.target) in active:
                self.parsed.fail(self.line(node), "an alias refers to a mapping or list that contains it")
            node = node.target
        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self.parsed.fail(self.line(node), f"unsupported YAML tag {_tag(node)}; use plain values")
            try:
                return self.loader.construct_object(node)
            except (ValueError, KeyError):
                self.parsed.fail(
                    self.line(node), f"{_dotted(path)}: {node.value!r} is not a valid {_tag(node)}"
                )
        active = active | {id(node)}
        if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
            items = []
            for index, item in enumerate(node.value):
                self.parsed.lines[(*path, index)] = self.line(item)
                items.append(self.value(item, (*path, index), active))
            return items
        if isinstance(node, MappingNode) and node.tag == _TAG + "map":
            return self.mapping(node, path, active)
        self.parsed.fail(self.line(node), f"unsupported YAML tag {_tag(node)}; use plain lists and mappings")

    def mapping(self, node: MappingNode, path: JsonPath, active: frozenset[int]) -> dict[str, Any]:
        prefix = f"{_dotted(path)}: " if path else ""
        first_line: dict[str, int] = {}
        merges: list[Node] = []
        written: list[tuple[str, int, Node]] = []
        for key_node, value_node in node.value:
            line = self.line(key_node)
            key_node = _target(key_node)
            if not isinstance(key_node, ScalarNode):
                self.parsed.fail(line, f"{prefix}a key must be a plain name, not a list or mapping")
            key = key_node.value
            if key in first_line:
                self.parsed.fail(
                    line, f"{prefix}duplicate key {key!r} (first defined on line {first_line[key]})"
                )
            first_line[key] = line
            if key_node.tag != _TAG + "merge":
                written.append((key, line, value_node))
                continue
            if path in {(), ("routes",)}:
                where = "inside routes" if path else "at the top level"
                self.parsed.fail(
                    line, f"merge key '<<' is not allowed {where}: write every key out so none can be hidden"
                )
            value_node = _target(value_node)
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            if not all(isinstance(_target(source), MappingNode) for source in sources):
                self.parsed.fail(line, f"{prefix}merge key '<<' takes a mapping or a list of mappings")
            merges.extend(sources)
        result: dict[str, Any] = {}
        # As YAML defines: earlier merged mappings win over later ones, written keys over all of them.
        for source in reversed(merges):
            result.update(self.value(source, path, active))
        for key, line, value_node in written:
            self.parsed.lines[(*path, key)] = line
            result[key] = self.value(value_node, (*path, key), active)
        return result


class _JsonReader:
    """JSON with stdlib syntax checking, plus a second walk for key lines and duplicate keys."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    _TOKEN = re.compile(
        r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity'
    )

    def __init__(self, text: str, parsed: _Parsed) -> None:
        self.text = text
        self.parsed = parsed
        self.newlines = [match.start() for match in re.finditer("\n", text)]

    def read(self) -> None:
        try:
            json.loads(self.text)
        except json.JSONDecodeError as exc:
            self.parsed.fail(exc.lineno, f"JSON syntax error: {exc.msg} (column {exc.colno})")
        start = self.skip(0)
        self.parsed.lines[()] = self.line(start)
        self.parsed.data, _ = self.value(start, ())

    def line(self, position: int) -> int:
        return bisect_left(self.newlines, position) + 1

    def skip(self, position: int) -> int:
        match = self._SPACE.match(self.text, position)
        return match.end() if match else position

    def value(self, position: int, path: JsonPath) -> tuple[Any, int]:
        # The text already parsed as JSON, so this walk can trust its structure.
        char = self.text[position]
        if char == "{":
            return self.mapping(position, path)
        if char == "[":
            items: list[Any] = []
            position = self.skip(position + 1)
            while self.text[position] != "]":
                self.parsed.lines[(*path, len(items))] = self.line(position)
                item, position = self.value(position, (*path, len(items)))
                items.append(item)
                position = self.skip(position)
                if self.text[position] == ",":
                    position = self.skip(position + 1)
            return items, position + 1
        return self.scalar(position)

    def scalar(self, position: int) -> tuple[Any, int]:
        token = self._TOKEN.match(self.text, position)
        assert token is not None  # the text parsed as JSON
        return json.loads(token[0]), token.end()

    def mapping(self, position: int, path: JsonPath) -> tuple[dict[str, Any], int]:
        prefix = f"{_dotted(path)}: " if path else ""
        result: dict[str, Any] = {}
        position = self.skip(position + 1)
        while self.text[position] != "}":
            line = self.line(position)
            key, position = self.scalar(position)
            if key in result:
                first = self.parsed.lines[(*path, key)]
                self.parsed.fail(line, f"{prefix}duplicate key {key!r} (first defined on line {first})")
            self.parsed.lines[(*path, key)] = line
            position = self.skip(self.skip(position) + 1)  # past the colon
            result[key], position = self.value(position, (*path, key))
            position = self.skip(position)
            if self.text[position] == ",":
                position = self.skip(position + 1)
        return result, position + 1


@dataclass
class _Block:
    start: int  # line of the opening fence
    closed: bool
    content: list[str]


_OPENING_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_CLOSING_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")


def _markdown_blocks(text: str) -> list[_Block]:
    """Every fenced block whose info string marks it as the routing; other fenced blocks are skipped."""
    blocks: list[_Block] = []
    fence: tuple[str, int, int] | None = None  # character, length, indent
    block: _Block | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if fence is None:
            match = _OPENING_FENCE.fullmatch(line)
            if match is None or (match[2][0] == "`" and "`" in match[3]):
                continue
            fence = (match[2][0], len(match[2]), len(match[1]))
            if " ".join(match[3].split()) in MARKDOWN_INFO_STRINGS:
                block = _Block(number, False, [])
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


def _read_markdown(text: str, parsed: _Parsed) -> None:
    blocks = _markdown_blocks(text)
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
    _YamlReader(content, parsed, block.start).read()


def _target(node: Node) -> Node:
    return node.target if isinstance(node, _Alias) else node


def _tag(node: Node) -> str:
    return str(node.tag).replace(_TAG, "!!")


# --- validation ------------------------------------------------------------------------------------


@cache
def _validator() -> Any:
    schema = json.loads(
        resources.files("routing_guard").joinpath("schema/routing.schema.json").read_text("utf-8")
    )
    return Draft202012Validator(schema)


def _validate(parsed: _Parsed) -> None:
    errors: list[ValidationError] = list(_validator().iter_errors(parsed.data))
    if errors:
        # A misspelt field also makes a required one missing: name the misspelling first.
        best = best_match(errors, key=by_relevance(strong=frozenset({"additionalProperties"})))
        rest = sorted(
            (error for error in errors if error is not best), key=lambda e: _error_line(e, parsed) or 0
        )
        problems: list[tuple[int | None, str]] = []
        for error in [best, *rest]:
            for problem in _describe(error, parsed):
                if problem not in problems:
                    problems.append(problem)
        line, message = problems[0]
        if len(problems) > 1:
            more = len(problems) - 1
            message += f" (and {more} more problem{'s' if more > 1 else ''}"
            other_lines = sorted({other for other, _ in problems[1:] if other is not None})
            if other_lines:
                message += f", on line{'s' if len(other_lines) > 1 else ''} " + ", ".join(
                    map(str, other_lines)
                )
            message += ")"
        parsed.fail(line, message)
    _check_meaning(parsed)


def _error_line(error: ValidationError, parsed: _Parsed) -> int | None:
    path: JsonPath = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path = (*path, error.instance)
    return parsed.line(path)


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


def _describe(error: ValidationError, parsed: _Parsed) -> list[tuple[int | None, str]]:
    """Turn one jsonschema error into (line, message) pairs a user can act on."""
    path: JsonPath = tuple(error.absolute_path)
    where = _dotted(path) or "the top level"
    in_where = f"in {where}" if path else "at the top level"
    kind, value, instance = error.validator, error.validator_value, error.instance
    line = parsed.line(path)
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        problems = []
        for key in instance:
            if key not in allowed:
                message = f"unknown field {key!r} {in_where} (allowed: {', '.join(allowed)})"
                if key == "model" and path == ("defaults",):
                    message += "; each route names its own model"
                elif close := difflib.get_close_matches(key, allowed, n=1):
                    message += f"; did you mean {close[0]!r}?"
                problems.append((parsed.line((*path, key)), message))
        return problems
    if "propertyNames" in error.absolute_schema_path:
        line = parsed.line((*path, instance))
        if path == ("routes",):
            return [(line, f"route name {instance!r} is not allowed: {_ROUTE_NAME_RULE}")]
        return [(line, f"{where}: {instance!r} is not a valid HTTP header name")]
    if kind == "required":
        missing = ", ".join(repr(name) for name in value if name not in instance)
        plural = "s" if len([name for name in value if name not in instance]) > 1 else ""
        message = f"missing required field{plural} {missing} {in_where}"
        if path == () and "version" not in instance:
            message += " (start the file with `version: 1`)"
        return [(line, message)]
    if kind == "type":
        expected = _TYPE_NAMES.get(value, value)
        if instance is None:
            return [(line, f"{where}: has no value; expected {expected}")]
        if isinstance(instance, dict | list):
            return [(line, f"{where}: expected {expected}, not {_kind_of(instance)}")]
        if value in ("object", "array"):
            return [(line, f"{where}: expected {expected}, not {_show(instance)}")]
        message = f"{where}: {_show(instance)} is not of type {value!r}"
        if value == "boolean":
            message += " (write true or false)"
        elif value == "string":
            message += " (put it in quotes)"
        return [(line, message)]
    if kind == "enum":
        message = f"{where}: {_show(instance)} is not one of " + ", ".join(repr(option) for option in value)
        if isinstance(instance, str) and (close := difflib.get_close_matches(instance, value, n=1)):
            message += f"; did you mean {close[0]!r}?"
        return [(line, message)]
    if kind == "const":
        return [(line, f"{where}: must be {json.dumps(value)}, not {_show(instance)}")]
    if kind == "minProperties" and path == ("routes",):
        return [
            (line, "routes: no routes defined; add at least one, e.g. `code-generation: {model: gpt-4o}`")
        ]
    if kind in ("minLength", "minProperties"):
        return [(line, f"{where}: must not be empty")]
    if kind == "minimum":
        return [(line, f"{where}: must be at least {value}, not {_show(instance)}")]
    return [(line, f"{where}: {error.message}")]


def _check_meaning(parsed: _Parsed) -> None:
    """What the schema cannot say: URL safety, secrets in headers, request fields the probe owns."""
    data = parsed.data
    gateway = data["gateway"]
    problem = base_url_problem(gateway["base_url"], gateway.get("allow_insecure_http", False))
    if problem:
        parsed.fail(parsed.line(("gateway", "base_url")), f"gateway.base_url: {problem}")
    for inside, message in gateway_problems(gateway):  # secrets, and what HTTP cannot carry
        parsed.fail(parsed.line(("gateway", *inside)), message)
    for name in data["routes"]:
        if not ROUTE_NAME.fullmatch(name):
            # The schema's pattern lets a trailing newline through (Python's `$`); fullmatch does not.
            parsed.fail(
                parsed.line(("routes", name)), f"route name {name!r} is not allowed: {_ROUTE_NAME_RULE}"
            )
    owners: list[JsonPath] = [("defaults",), *(("routes", name) for name in data["routes"])]
    for owner in owners:
        fields = data.get(owner[0], {}) if len(owner) == 1 else data["routes"][owner[1]]
        request = fields.get("request", {})
        where = _dotted((*owner, "request"))
        if "model" in request:
            parsed.fail(
                parsed.line((*owner, "request", "model")),
                f"{where}.model: the probe sends the route's own model; remove it from request",
            )
        if "stream" in request:
            parsed.fail(
                parsed.line((*owner, "request", "stream")),
                f"{where}.stream: use the route field `stream: true` instead of a request body field",
            )


def _build(parsed: _Parsed) -> RoutingConfig:
    data = parsed.data
    headers = data["gateway"].get("headers", {})
    gateway = Gateway(
        **{**data["gateway"], "base_url": data["gateway"]["base_url"].rstrip("/")},
        header_lines={name: parsed.lines.get(("gateway", "headers", name), 0) for name in headers},
    )
    defaults: dict[str, Any] = data.get("defaults", {})
    routes = []
    for name, own in data["routes"].items():
        fields = {"api": gateway.api, **defaults, **own}
        fields["request"] = {**defaults.get("request", {}), **own.get("request", {})}
        written = frozenset({**defaults, **own})
        routes.append(Route(name=name, line=parsed.lines.get(("routes", name), 0), written=written, **fields))
    return RoutingConfig(
        version=data["version"], gateway=gateway, routes=tuple(routes), source=Path(parsed.display)
    )


# --- small helpers ---------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _dotted(path: JsonPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)
