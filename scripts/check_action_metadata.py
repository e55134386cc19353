"""Reject `${{ }}` in action.yml wherever the runner's template parser refuses one.

The GitHub runner loads action.yml through its template parser before any step runs. An
expression is allowed only where the action metadata schema names contexts for it
(`action_yaml.json` in actions/runner; nektos/act ships the same schema); anywhere else,
descriptions included, the runner refuses the whole action (`Unrecognized named-value: 'secrets'`,
`Fail to load action.yml`) and every job that uses it fails in "Set up job". A JSON-schema check
of action.yml does not catch this. See docs/runner.md.

Usage: python scripts/check_action_metadata.py [action.yml ...]   (default: action.yml)
Prints `file:line:column: path: problem` for each problem; exits 1 if there was any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

OPEN, CLOSE = "${{", "}}"
# Functions every expression may call; a place may add more (hashFiles in input defaults).
FUNCTIONS = frozenset({"contains", "startswith", "endswith", "format", "join", "tojson", "fromjson"})
LITERALS = frozenset({"true", "false", "null", "nan", "infinity"})


@dataclass(frozen=True)
class Place:
    """Where an expression may stand: a path pattern ("*": any key or item) and what it may use."""

    pattern: tuple[str, ...]
    contexts: frozenset[str]
    functions: frozenset[str] = frozenset()


# The places of a container action (runs.using: docker) in the runner's schema. pre-if and post-if
# are conditions written without `${{ }}` (the runner evaluates them itself), so like every other
# place they refuse one.
DOCKER_PLACES = (
    Place(
        ("inputs", "*", "default"),
        frozenset({"github", "strategy", "matrix", "job", "runner"}),
        frozenset({"hashfiles"}),
    ),
    Place(("runs", "args", "*"), frozenset({"inputs"})),
    Place(("runs", "env", "*"), frozenset({"inputs"})),
)


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    path: str
    message: str


def expressions(text: str) -> Iterator[str | None]:
    """The body of each `${{ ... }}` in text; None for one that is never closed.

    `}}` inside a single-quoted string literal does not close the expression ('' escapes a quote).
    """
    start = text.find(OPEN)
    while start != -1:
        index, quoted = start + len(OPEN), False
        while index < len(text):
            if text[index] == "'":
                quoted = not quoted
            elif not quoted and text.startswith(CLOSE, index):
                break
            index += 1
        else:
            yield None
            return
        yield text[start + len(OPEN) : index]
        start = text.find(OPEN, index + len(CLOSE))


_STRING = re.compile(r"'(?:[^']|'')*'")
# An identifier that does not follow a dot, a word character or a hyphen (property names, numbers).
_NAME = re.compile(r"(?<![\w.-])([A-Za-z_][\w-]*)(\s*\()?")


def names_used(expression: str) -> tuple[set[str], set[str]]:
    """The named values (contexts) and the functions an expression refers to, lower-cased."""
    code = _STRING.sub("''", expression)
    contexts: set[str] = set()
    functions: set[str] = set()
    for match in _NAME.finditer(code):
        name = match.group(1).lower()
        if match.group(2):
            functions.add(name)
        elif name not in LITERALS:
            contexts.add(name)
    return contexts, functions


def place_of(path: tuple[str, ...]) -> Place | None:
    for place in DOCKER_PLACES:
        if len(place.pattern) == len(path) and all(
            want in ("*", got) for want, got in zip(place.pattern, path, strict=True)
        ):
            return place
    return None


def scalar_problems(value: str, path: tuple[str, ...], place: Place | None) -> Iterator[str]:
    for body in expressions(value):
        if body is None:
            yield f"an unclosed `{OPEN}` (the runner refuses the action)"
        elif place is None:
            yield (
                f"`{OPEN} {body.strip()} {CLOSE}`: no expression is allowed here "
                "(the runner refuses to load the whole action); write it without `${{`"
            )
        else:
            contexts, functions = names_used(body)
            for name in sorted(contexts - place.contexts):
                allowed = ", ".join(sorted(place.contexts))
                yield f"'{name}' is not available here (only: {allowed}); the runner refuses the action"
            for name in sorted(functions - FUNCTIONS - place.functions):
                yield f"function '{name}' is not available here; the runner refuses the action"


def walk(node: yaml.Node, path: tuple[str, ...]) -> Iterator[tuple[yaml.ScalarNode, tuple[str, ...], bool]]:
    """Every scalar under node with its path; the flag says whether it is a mapping key."""
    if isinstance(node, yaml.ScalarNode):
        yield node, path, False
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from walk(item, (*path, "*"))
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value)
            if isinstance(key, yaml.ScalarNode):
                yield key, (*path, name), True
            yield from walk(value, (*path, name))


def check(text: str) -> list[Problem]:
    """Every place in an action.yml text where the runner would refuse an expression."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return [Problem(1, 1, "", "empty action metadata")]
    problems: list[Problem] = []
    using = ""
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "runs" and isinstance(value, yaml.MappingNode):
                using = next((str(v.value) for k, v in value.value if k.value == "using"), "")
    if using != "docker":
        mark = root.start_mark
        problems.append(
            Problem(
                mark.line + 1, mark.column + 1, "runs.using", "only container actions (docker) are checked"
            )
        )
    for node, path, is_key in walk(root, ()):
        if not isinstance(node.value, str):
            continue
        place = None if is_key else place_of(path)
        for message in scalar_problems(node.value, path, place):
            mark = node.start_mark
            problems.append(Problem(mark.line + 1, mark.column + 1, ".".join(path), message))
    return problems


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or [Path("action.yml")]
    found = 0
    for path in paths:
        try:
            problems = check(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            print(f"{path}: cannot be read as YAML: {error}", file=sys.stderr)
            found += 1
            continue
        for problem in problems:
            print(
                f"{path}:{problem.line}:{problem.column}: {problem.path}: {problem.message}", file=sys.stderr
            )
        found += len(problems)
    if found:
        print(f"{found} problem(s) in the action metadata", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
