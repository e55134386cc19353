"""Codex CLI: the project's `.codex/config.toml` (honoured only in a trusted project).

Observed with Codex 0.169.0 (docs/agents/codex.md): `model` serves the main turn, compaction and
subagents (which inherit it); `review_model` serves `/review` (else `model`); every call is the
Responses API, streamed. A project config cannot choose the gateway: Codex drops `model_provider`,
`model_providers`, `openai_base_url` and `chatgpt_base_url` from it with only a warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from routing_guard.agents.common import load, looks_secret, mapping, text
from routing_guard.agents.model import Agent, Discovery, Finding, SecretSite, Setting
from routing_guard.agents.reading import Doc, parse_toml

AGENT: Agent = "codex"
CONFIG = ".codex/config.toml"
GATEWAY_KEYS_IGNORED = ("model_provider", "model_providers", "openai_base_url", "chatgpt_base_url")

# (path in the file, what uses it): the model keys Codex reads from a project config.
MODEL_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("model",), "main turn, compaction, subagents (they inherit it)"),
    (("review_model",), "/review (codex exec review)"),
    (
        ("agents", "default_subagent_model"),
        "subagents; Codex refuses an ID outside its bundled OpenAI catalogue",
    ),
    (("memories", "extract_model"), "memories extraction (off by default)"),
    (("memories", "consolidation_model"), "memories consolidation (off by default)"),
)


def discover(root: Path) -> Discovery:
    found = Discovery()
    if not ((root / CONFIG).exists() or (root / CONFIG).is_symlink()):
        return found
    doc = load(root, CONFIG, AGENT, parse_toml, found)
    if doc is None:
        return found
    for path, task in MODEL_KEYS:
        _add(found, doc, path, task)
    for role, table in mapping(doc.data, "agents").items():
        if isinstance(table, dict) and text(table, "model"):
            _add(found, doc, ("agents", role, "model"), f"subagent role {role}")
    for key in GATEWAY_KEYS_IGNORED:
        if key in doc.data:
            found.findings.append(
                Finding(
                    "gateway_differs",
                    AGENT,
                    CONFIG,
                    doc.line(key),
                    key,
                    f"Codex ignores `{key}` in a project {CONFIG} (it warns and uses the gateway of "
                    "~/.codex/config.toml): the gateway is not chosen by this file",
                )
            )
    _secrets(doc, found)
    return found


def _add(found: Discovery, doc: Doc, path: tuple[str, ...], task: str) -> None:
    value = text(doc.data, *path)
    if value is None:
        return
    found.settings.append(
        Setting(
            agent=AGENT,
            file=CONFIG,
            line=doc.line(*path),
            setting=".".join(path),
            value=value,
            resolved=value.strip(),
            api="openai-responses",
            stream=True,
            task=task,
        )
    )


def _secrets(doc: Doc, found: Discovery) -> None:
    providers: dict[str, Any] = mapping(doc.data, "model_providers")
    for name, provider in providers.items():
        if not isinstance(provider, dict):
            continue
        token = text(provider, "experimental_bearer_token")
        if token:
            where = ("model_providers", name, "experimental_bearer_token")
            found.secrets.append(SecretSite(AGENT, CONFIG, doc.line(*where), ".".join(where), token))
        for header, value in mapping(provider, "http_headers").items():
            if (
                isinstance(value, str)
                and value.strip()
                and (looks_secret(header) or header.lower() == "authorization")
            ):
                path = ("model_providers", name, "http_headers", header)
                found.secrets.append(SecretSite(AGENT, CONFIG, doc.line(*path), ".".join(path), value))
