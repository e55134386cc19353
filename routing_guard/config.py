"""The typed routing configuration: what a routing file means once it has been read and validated.

`routing` builds these objects from YAML, JSON or a Markdown block; everything downstream
(probes, verdicts, reports) reads only these types. They are plain frozen dataclasses: the JSON
schema and the semantic checks have validated the data before it gets here, and a check's start-up
does not pay for a validation library's import (docs/performance.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

Api = Literal["openai-chat", "openai-responses", "anthropic-messages"]
Auth = Literal["bearer", "x-api-key", "api-key", "none"]

DEFAULT_INVALID_MODEL = "routing-guard-invalid-model-id"


def route_names(values: Iterable[str]) -> tuple[str, ...]:
    """Route names from comma- or newline-separated lists (`--route`, the `routes` input), once each."""
    names = (name.strip() for value in values for name in value.replace("\n", ",").split(","))
    return tuple(dict.fromkeys(name for name in names if name))


@dataclass(frozen=True, kw_only=True)
class Gateway:
    base_url: str
    # a protocol served under another base than base_url (same origin, another path)
    base_urls: dict[Api, str] = field(default_factory=dict)
    api: Api = "openai-chat"
    # None means "the protocol's own scheme": bearer for OpenAI protocols, x-api-key for Anthropic.
    auth: Auth | None = None
    invalid_model: str = DEFAULT_INVALID_MODEL
    headers: dict[str, str] = field(default_factory=dict)
    allow_insecure_http: bool = False
    gateway_key_header: str | None = None  # carries ROUTING_GUARD_GATEWAY_KEY (the gateway's own secret)
    gateway_key_scheme: Literal["plain", "bearer"] = "plain"
    # each header's line in the routing file: where to annotate, not what the gateway is (a comment
    # added above it changes no gateway)
    header_lines: dict[str, int] = field(default_factory=dict, compare=False)

    def base_for(self, api: Api) -> str:
        """The base URL a protocol's requests go to."""
        return self.base_urls.get(api, self.base_url)

    def moved_to(self, base_url: str) -> Gateway:
        """This gateway at another base URL (--gateway-url): each per-protocol base keeps its path and
        takes the new scheme, host and port."""
        origin = urlsplit(base_url)
        moved = {
            api: urlunsplit(origin._replace(path=urlsplit(url).path, query=urlsplit(url).query))
            for api, url in self.base_urls.items()
        }
        return dataclasses.replace(self, base_url=base_url, base_urls=moved)


@dataclass(frozen=True, kw_only=True)
class Route:
    """One task class and the model that must serve it, with every default already applied."""

    name: str
    model: str
    api: Api
    strict: bool = False
    accept: tuple[str, ...] = ()
    served: tuple[str, ...] = ()
    request: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    min_context: int | None = None
    line: int = 0  # line of the route's key in the routing file (1-based; 0 when unknown)
    # The fields the routing file writes for this route (its own or through `defaults`). A route that
    # writes neither `api` nor `stream` is probed the way the coding agents that use it call it.
    written: frozenset[str] = frozenset()
    # Only on a route probed as a coding agent calls it (docs/agents/README.md): the agent's headers
    # and the query string it appends to the protocol's path.
    agent_headers: dict[str, str] = field(default_factory=dict)
    agent_query: str = ""


@dataclass(frozen=True, kw_only=True)
class RoutingConfig:
    version: int = 1
    gateway: Gateway
    routes: tuple[Route, ...]
    source: Path  # the file the routing came from, as the user named it (relative where possible)

    @property
    def needs_key(self) -> bool:
        """Every auth scheme but `none` sends the key (a protocol's default scheme is never `none`)."""
        return self.gateway.auth != "none"

    def apis_in_use(self, routes: tuple[Route, ...] | None = None) -> list[Api]:
        """Protocols the given routes (default: all) use, the gateway's own first, each once."""
        apis: list[Api] = [self.gateway.api]
        for route in self.routes if routes is None else routes:
            if route.api not in apis:
                apis.append(route.api)
        return apis
