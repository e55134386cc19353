"""OpenCode: `opencode.json` / `opencode.jsonc` / `.opencode/opencode.json` and `.opencode/agent(s)/*.md`.

Observed with OpenCode 1.18.33 (docs/agents/opencode.md): files merge key by key, the
`.opencode/` one highest; a model is `provider/model`, the part after the first `/` is the ID sent
upstream; the provider's `npm` package decides the protocol; every call is streamed; a model not
listed in `provider.<id>.models` is refused before any request; the title call uses
`agent.title.model`, else `small_model`, else the main model, and fails silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing_guard.agents.common import base_url, get, invalid_file, joined, load, looks_secret, mapping, text
from routing_guard.agents.model import Agent, Discovery, SecretSite, Setting
from routing_guard.agents.reading import Doc, folder_files, parse_front_matter, parse_json
from routing_guard.config import Api

AGENT: Agent = "opencode"
CONFIG_FILES = ("opencode.jsonc", "opencode.json", ".opencode/opencode.jsonc", ".opencode/opencode.json")
AGENT_FOLDERS = (".opencode/agent", ".opencode/agents")

NPM_PROTOCOLS: dict[str, tuple[Api, str]] = {
    "@ai-sdk/openai-compatible": ("openai-chat", "/chat/completions"),
    "@ai-sdk/openai": ("openai-responses", "/responses"),
    "@ai-sdk/anthropic": ("anthropic-messages", "/messages"),
}
# Built-in providers a config can name without defining them (OpenCode's catalogue).
BUILTIN_PROVIDERS: dict[str, str] = {"openai": "@ai-sdk/openai", "anthropic": "@ai-sdk/anthropic"}
AGENT_TASKS = {
    "title": "session titles (fails silently when the model is refused)",
    "build": "main turn of the build agent",
    "plan": "the plan agent",
    "general": "the general subagent",
    "explore": "the explore subagent",
    "compaction": "context compaction",
    "summary": "session summaries",
}
_ENV_OR_FILE = re.compile(r"^\{(env|file):[^}]+\}$")


@dataclass(frozen=True)
class _Provider:
    npm: str | None
    base_url: str | None
    base_url_file: str
    base_url_line: int
    models: frozenset[str] | None  # None: the provider is not defined in the repository's files


class _Config:
    """The merged project config: for each key path, the highest file that sets it."""

    def __init__(self, docs: list[tuple[str, Doc]]) -> None:
        self.docs = docs

    def find(self, *path: str) -> tuple[str, Doc, Any] | None:
        for file, doc in reversed(self.docs):
            value = get(doc.data, *path)
            if value is not None:
                return file, doc, value
        return None

    def keys(self, *path: str) -> list[str]:
        names: dict[str, None] = {}
        for _, doc in self.docs:
            names.update(dict.fromkeys(mapping(doc.data, *path)))
        return list(names)

    def provider(self, name: str) -> _Provider:
        defined = any(isinstance(get(doc.data, "provider", name), dict) for _, doc in self.docs)
        npm = self.find("provider", name, "npm")
        base = self.find("provider", name, "options", "baseURL")
        models = frozenset(self.keys("provider", name, "models")) if defined else None
        return _Provider(
            npm=npm[2] if npm and isinstance(npm[2], str) else BUILTIN_PROVIDERS.get(name),
            base_url=base[2] if base and isinstance(base[2], str) else None,
            base_url_file=base[0] if base else "",
            base_url_line=base[1].line("provider", name, "options", "baseURL") if base else 0,
            models=models if defined and models else None,
        )


def discover(root: Path) -> Discovery:
    found = Discovery()
    docs: list[tuple[str, Doc]] = []
    for relative in CONFIG_FILES:
        if (root / relative).exists() or (root / relative).is_symlink():
            doc = load(root, relative, AGENT, lambda t: parse_json(t, comments=True), found)
            if doc is not None:
                docs.append((relative, doc))
    config = _Config(docs)
    for key, task in (("model", "main turn"), ("small_model", "session titles and small tasks")):
        hit = config.find(key)
        if hit and isinstance(hit[2], str):
            _add(found, config, hit[0], hit[1].line(key), key, hit[2], task)
    for name in config.keys("agent"):
        hit = config.find("agent", name, "model")
        if hit and isinstance(hit[2], str):
            task = AGENT_TASKS.get(name, f"the {name} agent")
            _add(
                found,
                config,
                hit[0],
                hit[1].line("agent", name, "model"),
                f"agent.{name}.model",
                hit[2],
                task,
            )
    for folder in AGENT_FOLDERS:
        for relative in folder_files(root, folder, ".md"):
            front = load(root, relative, AGENT, parse_front_matter, found)
            value = text(front.data, "model") if front is not None else None
            if front is not None and value is not None:
                task = f"the {Path(relative).stem} agent ({text(front.data, 'mode') or 'all'})"
                _add(found, config, relative, front.line("model"), "model", value, task)
    _secrets(docs, found)
    return found


def _add(
    found: Discovery, config: _Config, file: str, line: int, setting: str, value: str, task: str
) -> None:
    provider_name, slash, model = value.strip().partition("/")
    if not slash or not provider_name or not model:
        found.findings.append(
            invalid_file(
                AGENT,
                file,
                line,
                setting,
                f"{file}:{line}: {setting} must be `provider/model`; OpenCode refuses {value!r}",
            )
        )
        return
    provider = config.provider(provider_name)
    if provider.models is not None and model not in provider.models:
        found.findings.append(
            invalid_file(
                AGENT,
                file,
                line,
                setting,
                f"{file}:{line}: OpenCode refuses {value!r} before calling the gateway: "
                f"{model!r} is not listed in provider.{provider_name}.models",
            )
        )
    api, path = NPM_PROTOCOLS.get(provider.npm or "", (None, ""))
    public = None
    if provider.base_url is not None:
        where = f"provider.{provider_name}.options.baseURL"
        public = base_url(
            found, AGENT, provider.base_url_file, provider.base_url_line, where, provider.base_url
        )
    found.settings.append(
        Setting(
            agent=AGENT,
            file=file,
            line=line,
            setting=setting,
            value=value,
            resolved=model,
            api=api,
            stream=True if api else None,
            base_url=public,
            endpoint=joined(public, path) if public and path else None,
            base_url_file=provider.base_url_file,
            base_url_line=provider.base_url_line,
            task=task,
        )
    )


def _secrets(docs: list[tuple[str, Doc]], found: Discovery) -> None:
    for file, doc in docs:
        for name, provider in mapping(doc.data, "provider").items():
            options = mapping(provider, "options")
            candidates = [("apiKey", options.get("apiKey"))]
            candidates += [
                (f"headers.{h}", v)
                for h, v in mapping(options, "headers").items()
                if looks_secret(h) or h.lower() == "authorization"
            ]
            for key, value in candidates:
                if isinstance(value, str) and value.strip() and not _ENV_OR_FILE.match(value.strip()):
                    path = ("provider", name, "options", *key.split(".", 1))
                    found.secrets.append(SecretSite(AGENT, file, doc.line(*path), ".".join(path), value))
