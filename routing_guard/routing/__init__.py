"""Read a routing file (YAML, JSON, or one fenced block in a Markdown file) into a RoutingConfig.

Every problem is a RoutingError that names the file, the line and what to change. One module per
step: discovery (which file), the three readers (yaml_reader, json_reader, markdown_reader) that
fill a Parsed (data plus a line for each value's path), schema_check (schema errors as messages),
semantics (what the schema cannot say, with `sendable`), loading (bytes in, RoutingConfig out).
"""

from routing_guard.routing.discovery import (
    ROUTING_FILE_CANDIDATES,
    find_routing_file,
    repository_root,
    unused_blocks,
)
from routing_guard.routing.json_reader import JsonReader
from routing_guard.routing.loading import MAX_BYTES, load_routing, load_routing_text
from routing_guard.routing.markdown_reader import MARKDOWN_INFO_STRINGS, markdown_blocks
from routing_guard.routing.parsed import JsonPath, Parsed, RoutingError
from routing_guard.routing.schema_check import _describe, _validator
from routing_guard.routing.semantics import ROUTE_NAME, base_url_problem
from routing_guard.routing.yaml_reader import MAX_VALUES, YamlReader

# The names this module had before it became a package, for code written against them.
_JsonReader = JsonReader
_Parsed = Parsed
_YamlReader = YamlReader
_markdown_blocks = markdown_blocks

__all__ = [
    "MARKDOWN_INFO_STRINGS",
    "MAX_BYTES",
    "MAX_VALUES",
    "ROUTE_NAME",
    "ROUTING_FILE_CANDIDATES",
    "JsonPath",
    "JsonReader",
    "Parsed",
    "RoutingError",
    "YamlReader",
    "_JsonReader",
    "_Parsed",
    "_YamlReader",
    "_describe",
    "_markdown_blocks",
    "_validator",
    "base_url_problem",
    "find_routing_file",
    "load_routing",
    "load_routing_text",
    "markdown_blocks",
    "repository_root",
    "unused_blocks",
]
