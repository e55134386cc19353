"""Claude Code: `.claude/settings.json` (+ `settings.local.json`) and `.claude/agents/*.md`.

The rules are the ones observed with Claude Code 2.1.328 (docs/agents/claude-code.md):
- the main model is `env.ANTHROPIC_MODEL` if the file's env sets it, else `model`;
- `sonnet`, `opus`, `haiku`, `best`, `opusplan`, `fable` resolve through the same file's
  `ANTHROPIC_DEFAULT_*_MODEL`; unset, Claude Code sends Anthropic's own current ID (which moves with
  releases), so the setting is an unpinned alias; `[1m]` is stripped; `default` is sent literally;
- a subagent's `model:` front matter beats `CLAUDE_CODE_SUBAGENT_MODEL` (unless `_FORCE` is set),
  `inherit` (and no `model:` without the variable) means the parent's model;
- every call is `POST {ANTHROPIC_BASE_URL}/v1/messages?beta=true`, streamed, with `anthropic-beta`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from routing_guard.agents.common import base_url, joined, load, looks_secret, mapping, text
from routing_guard.agents.model import Agent, Discovery, SecretSite, Setting
from routing_guard.agents.reading import Doc, folder_files, parse_front_matter, parse_json

AGENT: Agent = "claude-code"
SETTINGS_FILES = (".claude/settings.json", ".claude/settings.local.json")  # lowest precedence first
AGENTS_FOLDER = ".claude/agents"

ALIAS_VARIABLES = {
    "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "best": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "opusplan": "ANTHROPIC_DEFAULT_SONNET_MODEL",  # outside plan mode; plan mode uses the opus one
    "fable": "ANTHROPIC_DEFAULT_FABLE_MODEL",
}
# What Claude Code 2.1.328 sent for an alias whose variable is unset (sonnet's was not observed).
BUILTIN_IDS = {
    "opus": "claude-opus-5-5",
    "best": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
    "fable": "claude-fable-5-2",
}
BUILTIN_MAIN = "claude-opus-5-5"  # the model sent when nothing sets one
MAIN_PIN = "env.ANTHROPIC_MODEL or model"
PIN_VARIABLES = (
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_FABLE_MODEL",
)
# The betas Claude Code sends on every main-model call (journals claude-01, claude-02).
ANTHROPIC_BETA = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,"
    "mid-conversation-tool-changes-2026-07-01,thinking-token-count-2026-05-13,"
    "advanced-tool-use-2025-11-20,effort-2025-11-24"
)
AGENT_HEADERS = (("anthropic-beta", ANTHROPIC_BETA),)
AGENT_QUERY = "beta=true"
_ONE_M = re.compile(r"\[1m\]$", re.IGNORECASE)


@dataclass(frozen=True)
class _Entry:
    file: str
    line: int
    value: str


@dataclass(frozen=True)
class _Resolved:
    model: str | None
    unpinned_by: str | None


class _Settings:
    """The merged view of the settings files: for each key, the highest file that sets it."""

    def __init__(self, docs: list[tuple[str, Doc]]) -> None:
        self.docs = docs
        self.base_url = self.env("ANTHROPIC_BASE_URL")
        self.public_base: str | None = None  # base_url as it may be shown (set by discover)

    def top(self, key: str) -> _Entry | None:
        for file, doc in reversed(self.docs):
            value = text(doc.data, key)
            if value is not None:
                return _Entry(file, doc.line(key), value)
        return None

    def env(self, name: str) -> _Entry | None:
        for file, doc in reversed(self.docs):
            value = text(doc.data, "env", name)
            if value is not None:
                return _Entry(file, doc.line("env", name), value)
        return None

    def resolve(self, value: str) -> _Resolved:
        name = _ONE_M.sub("", value.strip())
        variable = ALIAS_VARIABLES.get(name.lower())
        if variable is None:
            return _Resolved(name, None)  # a literal ID, or `default`, which is sent as written
        pinned = self.env(variable)
        if pinned is not None:
            return _Resolved(_ONE_M.sub("", pinned.value), None)
        return _Resolved(BUILTIN_IDS.get(name.lower()), f"env.{variable}")

    def main(self) -> tuple[_Entry | None, str, _Resolved]:
        """The main-model entry, its setting name, and what it resolves to."""
        for setting, entry in (
            ("env.ANTHROPIC_MODEL", self.env("ANTHROPIC_MODEL")),
            ("model", self.top("model")),
        ):
            if entry is not None:
                return entry, setting, self.resolve(entry.value)
        return None, "", _Resolved(BUILTIN_MAIN, MAIN_PIN)


def discover(root: Path) -> Discovery:
    found = Discovery()
    docs: list[tuple[str, Doc]] = []
    for relative in SETTINGS_FILES:
        if (root / relative).exists() or (root / relative).is_symlink():
            doc = load(root, relative, AGENT, lambda t: parse_json(t, comments=False), found)
            if doc is not None:
                docs.append((relative, doc))
    settings = _Settings(docs)
    _secrets(docs, found)
    where = settings.base_url
    if where is not None:
        setting_name = "env.ANTHROPIC_BASE_URL"
        settings.public_base = base_url(found, AGENT, where.file, where.line, setting_name, where.value)
    main_entry, main_setting, main = settings.main()
    if main_entry is not None:
        found.settings.append(
            _setting(settings, main_entry, main_setting, main, "main turn, /compact, helpers")
        )
    for variable in PIN_VARIABLES:
        pinned = settings.env(variable)
        if pinned is not None:
            alias = variable.removeprefix("ANTHROPIC_DEFAULT_").removesuffix("_MODEL").lower()
            resolved = _Resolved(_ONE_M.sub("", pinned.value), None)
            found.settings.append(
                _setting(
                    settings,
                    pinned,
                    f"env.{variable}",
                    resolved,
                    f"the `{alias}` alias (also the Agent tool's)",
                )
            )
    for variable, task in (
        ("ANTHROPIC_SMALL_FAST_MODEL", "small/fast helpers (titles, summaries)"),
        ("CLAUDE_CODE_SUBAGENT_MODEL", "subagents without their own model"),
    ):
        helper = settings.env(variable)
        if helper is not None:
            found.settings.append(
                _setting(settings, helper, f"env.{variable}", settings.resolve(helper.value), task)
            )
    for relative in folder_files(root, AGENTS_FOLDER, ".md"):
        doc = load(root, relative, AGENT, parse_front_matter, found)
        value = text(doc.data, "model") if doc is not None else None
        if doc is None or value is None:
            continue
        name = text(doc.data, "name") or Path(relative).stem
        entry = _Entry(relative, doc.line("model"), value)
        found.settings.append(
            _setting(settings, entry, "model", _subagent(settings, value, main), f"subagent {name}")
        )
    return found


def _subagent(settings: _Settings, value: str, main: _Resolved) -> _Resolved:
    forced = settings.env("CLAUDE_CODE_SUBAGENT_MODEL_FORCE")
    subagent_model = settings.env("CLAUDE_CODE_SUBAGENT_MODEL")
    if forced is not None and forced.value.strip().lower() not in ("0", "false", "") and subagent_model:
        return settings.resolve(subagent_model.value)
    if value.strip().lower() == "inherit":
        return main
    return settings.resolve(value)


def _setting(settings: _Settings, entry: _Entry, name: str, resolved: _Resolved, task: str) -> Setting:
    base = settings.public_base
    return Setting(
        agent=AGENT,
        file=entry.file,
        line=entry.line,
        setting=name,
        value=entry.value,
        resolved=resolved.model,
        api="anthropic-messages",
        stream=True,
        base_url=base,
        endpoint=joined(base, "/v1/messages") if base else None,
        base_url_file=settings.base_url.file if settings.base_url else "",
        base_url_line=settings.base_url.line if settings.base_url else 0,
        task=task,
        unpinned_by=resolved.unpinned_by,
        agent_headers=AGENT_HEADERS,
        agent_query=AGENT_QUERY,
    )


def _secrets(docs: list[tuple[str, Doc]], found: Discovery) -> None:
    for file, doc in docs:
        for name, value in mapping(doc.data, "env").items():
            if looks_secret(name) and isinstance(value, str) and value.strip():
                found.secrets.append(SecretSite(AGENT, file, doc.line("env", name), f"env.{name}", value))
