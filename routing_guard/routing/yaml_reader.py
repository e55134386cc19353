"""The YAML reader: PyYAML's node tree walked into plain data, with a line for every value.

Rules beyond the YAML spec, chosen so a routing file means exactly what it shows:
- duplicate keys are errors at every level (also keys repeated through an alias);
- booleans are only true/false (YAML 1.2): `yes`, `no`, `on`, `off` and dates stay strings;
- merge keys (`<<: *base`) work inside a route, gateway, defaults, headers and request bodies,
  where keys written out win over merged ones, but are refused at the top level and directly
  inside `routes`, so a route name can never be brought in or overwritten unseen;
- only plain YAML types (strings, numbers, true/false, null, lists, mappings); no custom tags.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routing_guard.routing.parsed import JsonPath, Parsed, dotted

# Aliases can expand a small file into a huge tree ("billion laughs"); a routing file is small.
MAX_VALUES = 100_000


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


class YamlReader:
    """Walks the node tree into plain data; line_offset places a Markdown block's lines in its file."""

    def __init__(self, text: str, parsed: Parsed, line_offset: int) -> None:
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
                    self.line(node), f"{dotted(path)}: {node.value!r} is not a valid {_tag(node)}"
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
        prefix = f"{dotted(path)}: " if path else ""
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


def _target(node: Node) -> Node:
    return node.target if isinstance(node, _Alias) else node


def _tag(node: Node) -> str:
    return str(node.tag).replace(_TAG, "!!")
