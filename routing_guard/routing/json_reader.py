"""The JSON reader: stdlib syntax checking, then a walk of the text for key lines and duplicate keys."""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from typing import Any

from routing_guard.routing.parsed import JsonPath, Parsed, dotted


class JsonReader:
    """JSON with stdlib syntax checking, plus a second walk for key lines and duplicate keys."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    _TOKEN = re.compile(
        r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity'
    )

    def __init__(self, text: str, parsed: Parsed) -> None:
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
        prefix = f"{dotted(path)}: " if path else ""
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
