"""Small helpers every agent's reader shares: loading one file into a Doc or a finding, typed lookups."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from routing_guard.agents.model import Agent, Discovery, Finding, SecretSite
from routing_guard.agents.reading import AgentFileError, Doc, read_text

# Env/setting names whose value is a credential ("CLAUDE_CODE_MAX_OUTPUT_TOKENS" is not one).
SECRET_NAME = re.compile(
    r"api[_-]?key|auth[_-]?token|access[_-]?token|bearer|secret|password|(?:^|[_-])(?:token|key)$",
    re.IGNORECASE,
)


def load(
    root: Path, relative: str, agent: Agent, parse: Callable[[str], Doc], found: Discovery
) -> Doc | None:
    """The parsed file, or None after recording an `invalid_file` finding that names file and line."""
    found.files.append(relative)
    try:
        return parse(read_text(root, relative))
    except AgentFileError as exc:
        found.findings.append(invalid_file(agent, relative, exc.line, "", f"{relative} {exc.message}"))
        return None


def invalid_file(agent: Agent, file: str, line: int, setting: str, message: str) -> Finding:
    return Finding("invalid_file", agent, file, line, setting, message)


def get(data: Any, *path: str) -> Any:
    """data[path[0]][path[1]]..., or None where any step is missing or not a mapping."""
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


def text(data: Any, *path: str) -> str | None:
    """A non-empty string at path, else None (agents ignore non-string model values)."""
    value = get(data, *path)
    return value if isinstance(value, str) and value.strip() else None


def mapping(data: Any, *path: str) -> dict[str, Any]:
    value = get(data, *path)
    return value if isinstance(value, dict) else {}


def looks_secret(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def joined(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def base_url(found: Discovery, agent: Agent, file: str, line: int, setting: str, url: str) -> str:
    """url without user info or query (a password there is recorded as a secret, never shown)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.strip()
    if parts.username or parts.password:
        found.secrets.append(SecretSite(agent, file, line, setting, parts.password or parts.username or ""))
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))
