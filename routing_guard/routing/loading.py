"""Read a routing file (YAML, JSON, or one fenced block in a Markdown file) into a RoutingConfig.

The bytes are checked (size, NUL, UTF-8), the format follows the file name's suffix, then the
schema and the semantic checks run and the validated data becomes a RoutingConfig.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from routing_guard.config import Gateway, Route, RoutingConfig
from routing_guard.files import FileProblem, read_capped
from routing_guard.routing.json_reader import JsonReader
from routing_guard.routing.markdown_reader import read_markdown
from routing_guard.routing.parsed import Parsed, RoutingError, kind_of
from routing_guard.routing.schema_check import check_schema
from routing_guard.routing.semantics import check_meaning
from routing_guard.routing.yaml_reader import YamlReader

MAX_BYTES = 1024 * 1024


def load_routing(path: Path, display_path: str | None = None) -> RoutingConfig:
    """Read and validate a routing file; messages and RoutingConfig.source show display_path."""
    display = str(path) if display_path is None else display_path
    data = read_routing_bytes(path, display)
    if b"\x00" in data:
        raise RoutingError(display, data.count(b"\n", 0, data.index(b"\x00")) + 1, _has_nul())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RoutingError(display, line, "is not UTF-8 text (a binary file?); save it as UTF-8") from None
    return _load(text, display, _kind(path.name))


def read_routing_bytes(path: Path, display: str) -> bytes:
    """A routing file's bytes: a regular file of at most MAX_BYTES, read without blocking (a
    committed symlink to a FIFO or /proc/self/fd/1 must not hang the step); RoutingError otherwise."""
    try:
        return read_capped(path, MAX_BYTES)
    except FileProblem as problem:
        message = str(problem)
        if message == "no such file":
            message = "file not found"
        elif message.startswith("is larger than"):
            message = _too_big()
        elif "directory" in message:
            message = "is a directory, not a routing file"
        raise RoutingError(display, None, message) from None


def load_routing_text(text: str, display_path: str) -> RoutingConfig:
    """Validate routing text read some other way (e.g. from git); the format follows display_path's suffix."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise RoutingError(display_path, None, _too_big())
    if "\x00" in text:
        raise RoutingError(display_path, text.count("\n", 0, text.index("\x00")) + 1, _has_nul())
    return _load(text, display_path, _kind(display_path))


def _kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".md": "markdown", ".json": "json"}.get(suffix, "yaml")


def _too_big() -> str:
    return f"is larger than {MAX_BYTES // 1024 // 1024} MiB; a routing file is a few kilobytes"


def _has_nul() -> str:
    return "contains a NUL byte (is it a binary or UTF-16 file?); save it as UTF-8 text"


def _load(text: str, display: str, kind: str) -> RoutingConfig:
    text = text.removeprefix("\ufeff")
    parsed = Parsed(display)
    if not text.strip():
        parsed.fail(None, "is empty; a routing file needs version: 1, a gateway and at least one route")
    try:
        if kind == "markdown":
            read_markdown(text, parsed)
        elif kind == "json":
            JsonReader(text, parsed).read()
        else:
            YamlReader(text, parsed, 0).read()
    except RecursionError:
        parsed.fail(None, "is nested too deeply to be a routing file")
    if not isinstance(parsed.data, dict):
        parsed.fail(
            parsed.lines.get(()),
            f"the top level must be a mapping with version, gateway and routes, not {kind_of(parsed.data)}",
        )
    check_schema(parsed)
    check_meaning(parsed)
    return _build(parsed)


def _build(parsed: Parsed) -> RoutingConfig:
    data = parsed.data
    headers = data["gateway"].get("headers", {})
    gateway = Gateway(
        **{
            **data["gateway"],
            "base_url": data["gateway"]["base_url"].rstrip("/"),
            "base_urls": {api: url.rstrip("/") for api, url in data["gateway"].get("base_urls", {}).items()},
        },
        header_lines={name: parsed.lines.get(("gateway", "headers", name), 0) for name in headers},
    )
    defaults: dict[str, Any] = data.get("defaults", {})
    routes = []
    for name, own in data["routes"].items():
        fields = {"api": gateway.api, **defaults, **own}
        fields["request"] = {**defaults.get("request", {}), **own.get("request", {})}
        written = frozenset({**defaults, **own})
        for listed in ("accept", "served"):
            if listed in fields:
                fields[listed] = tuple(fields[listed])
        if isinstance(fields.get("min_context"), float):  # the schema's integer allows 2.0e+5
            fields["min_context"] = int(fields["min_context"])
        routes.append(Route(name=name, line=parsed.lines.get(("routes", name), 0), written=written, **fields))
    return RoutingConfig(
        version=int(data["version"]), gateway=gateway, routes=tuple(routes), source=Path(parsed.display)
    )
